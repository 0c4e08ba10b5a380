//! The publish path's encoder: pictures from control (JPEG, PNG or raw
//! I420) → I420 at the configured size → H264 access units (OpenH264,
//! constrained baseline, no B-frames), with IDRs on request.

use openh264::OpenH264API;
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile,
    RateControlMode, UsageType,
};
use openh264::formats::YUVSource;
use turbojpeg::{Decompressor, Image, PixelFormat};

use crate::error::{Result, VideoError};
use crate::frame::{MAX_DIMENSION, YuvBuffer, YuvFrame, chroma_extent};
use crate::scale::Scaler;

/// Encoder settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderSettings {
    /// Output width (even).
    pub width: usize,
    /// Output height (even).
    pub height: usize,
    /// Frame rate the stream is paced at.
    pub fps: u32,
    /// Target bitrate.
    pub bitrate_bps: u32,
    /// Frames between periodic IDRs.
    pub keyframe_interval: u32,
}

impl Default for EncoderSettings {
    fn default() -> Self {
        Self {
            width: 1280,
            height: 720,
            fps: 15,
            bitrate_bps: 2_500_000,
            keyframe_interval: 150,
        }
    }
}

impl EncoderSettings {
    /// Checks the ranges the encoder accepts.
    ///
    /// # Errors
    /// [`VideoError::InvalidFrame`] naming what is wrong.
    pub fn validate(&self) -> Result<()> {
        if self.width == 0 || self.height == 0 || self.width % 2 == 1 || self.height % 2 == 1 {
            return Err(VideoError::InvalidFrame(
                "publish size must be even and non-zero",
            ));
        }
        if self.width > MAX_DIMENSION || self.height > MAX_DIMENSION {
            return Err(VideoError::InvalidFrame(
                "publish size above the maximum dimension",
            ));
        }
        if self.fps == 0 || self.fps > 60 {
            return Err(VideoError::InvalidFrame("publish fps must be 1-60"));
        }
        if self.bitrate_bps == 0 {
            return Err(VideoError::InvalidFrame("publish bitrate must be positive"));
        }
        Ok(())
    }
}

/// One encoded picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPicture {
    /// Annex-B access unit (empty when the encoder skipped the frame).
    pub annexb: Vec<u8>,
    /// It holds an IDR.
    pub keyframe: bool,
}

/// Which picture format a published frame is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// A baseline or progressive JPEG.
    Jpeg,
    /// A PNG (gray, RGB or RGBA, 8 bit).
    Png,
    /// Tightly packed I420 of the given size.
    I420 {
        /// Width.
        width: usize,
        /// Height.
        height: usize,
    },
}

/// Decodes input pictures and encodes them to H264.
pub struct PublishEncoder {
    settings: EncoderSettings,
    encoder: Encoder,
    decompressor: Decompressor,
    scaler: Scaler,
    input: YuvBuffer,
    rgb: Vec<u8>,
    has_input: bool,
    force_idr: bool,
    frames: u64,
}

impl std::fmt::Debug for PublishEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishEncoder")
            .field("settings", &self.settings)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

/// I420 planes as OpenH264 wants them.
struct Planes<'a>(YuvFrame<'a>);

impl YUVSource for Planes<'_> {
    fn dimensions(&self) -> (usize, usize) {
        (self.0.width(), self.0.height())
    }
    fn strides(&self) -> (usize, usize, usize) {
        let [y, u, v] = self.0.strides();
        (y, u, v)
    }
    fn y(&self) -> &[u8] {
        self.0.planes()[0]
    }
    fn u(&self) -> &[u8] {
        self.0.planes()[1]
    }
    fn v(&self) -> &[u8] {
        self.0.planes()[2]
    }
}

fn init(what: &'static str) -> impl Fn(String) -> VideoError {
    move |detail| VideoError::Init { what, detail }
}

impl PublishEncoder {
    /// Creates the encoder.
    ///
    /// # Errors
    /// [`VideoError::InvalidFrame`] for odd or out-of-range sizes, a zero
    /// frame rate or bitrate; [`VideoError::Init`] if a native library
    /// cannot be set up.
    pub fn new(settings: EncoderSettings) -> Result<Self> {
        let s = settings;
        s.validate()?;
        let config = EncoderConfig::new()
            .profile(Profile::Baseline)
            .bitrate(BitRate::from_bps(s.bitrate_bps))
            .max_frame_rate(FrameRate::from_hz(s.fps as f32))
            .rate_control_mode(RateControlMode::Bitrate)
            .usage_type(UsageType::ScreenContentRealTime)
            .skip_frames(false)
            .scene_change_detect(false)
            .intra_frame_period(IntraFramePeriod::from_num_frames(
                s.keyframe_interval.max(1),
            ))
            .complexity(Complexity::Low)
            .num_threads(1);
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| init("OpenH264 encoder")(e.to_string()))?;
        let decompressor =
            Decompressor::new().map_err(|e| init("turbojpeg decompressor")(e.to_string()))?;
        Ok(Self {
            settings,
            encoder,
            decompressor,
            scaler: Scaler::new(),
            input: YuvBuffer::new(s.width, s.height),
            rgb: Vec::new(),
            has_input: false,
            force_idr: false,
            frames: 0,
        })
    }

    /// The settings.
    pub fn settings(&self) -> EncoderSettings {
        self.settings
    }

    /// Makes the next encoded picture an IDR (a PLI/FIR or a new viewer).
    pub fn request_keyframe(&mut self) {
        self.force_idr = true;
    }

    /// Whether a picture has been loaded.
    pub fn has_picture(&self) -> bool {
        self.has_input
    }

    /// Decodes `data` as the current picture. On error the previous
    /// picture stays.
    ///
    /// # Errors
    /// [`VideoError::JpegDecode`] / [`VideoError::InvalidFrame`] for
    /// pictures that do not decode or are too large.
    pub fn load(&mut self, format: InputFormat, data: &[u8]) -> Result<()> {
        match format {
            InputFormat::Jpeg => self.load_jpeg(data),
            InputFormat::Png => self.load_png(data),
            InputFormat::I420 { width, height } => self.load_i420(width, height, data),
        }?;
        self.has_input = true;
        Ok(())
    }

    fn load_jpeg(&mut self, data: &[u8]) -> Result<()> {
        let err = |e: turbojpeg::Error| VideoError::JpegDecode(e.to_string());
        // Bounds the work a hostile progressive JPEG can cause.
        self.decompressor.set_scan_limit(64).map_err(err)?;
        let header = self.decompressor.read_header(data).map_err(err)?;
        check_size(header.width, header.height)?;
        self.rgb.clear();
        self.rgb.resize(header.width * header.height * 3, 0);
        let image = Image {
            pixels: self.rgb.as_mut_slice(),
            width: header.width,
            pitch: header.width * 3,
            height: header.height,
            format: PixelFormat::RGB,
        };
        self.decompressor.decompress(data, image).map_err(err)?;
        let rgb = std::mem::take(&mut self.rgb);
        let r = self.load_rgb(&rgb, header.width, header.height, 3);
        self.rgb = rgb;
        r
    }

    fn load_png(&mut self, data: &[u8]) -> Result<()> {
        let bad = |e: png::DecodingError| VideoError::JpegDecode(format!("png: {e}"));
        let mut decoder = png::Decoder::new(data);
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().map_err(bad)?;
        let (w, h) = {
            let info = reader.info();
            (info.width as usize, info.height as usize)
        };
        check_size(w, h)?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut buf).map_err(bad)?;
        let channels = match frame.color_type {
            png::ColorType::Grayscale => 1,
            png::ColorType::GrayscaleAlpha => 2,
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            png::ColorType::Indexed => {
                return Err(VideoError::InvalidFrame("indexed PNG not expanded"));
            }
        };
        let rows = &buf[..frame.line_size * h];
        if frame.line_size != w * channels {
            return Err(VideoError::InvalidFrame("unexpected PNG row size"));
        }
        self.load_rgb(rows, w, h, channels)
    }

    fn load_i420(&mut self, w: usize, h: usize, data: &[u8]) -> Result<()> {
        check_size(w, h)?;
        let (cw, ch) = (chroma_extent(w), chroma_extent(h));
        if data.len() != w * h + 2 * cw * ch {
            return Err(VideoError::InvalidFrame(
                "I420 length does not match its size",
            ));
        }
        let (y, rest) = data.split_at(w * h);
        let (u, v) = rest.split_at(cw * ch);
        let frame = YuvFrame::new([y, u, v], [w, cw, cw], w, h)?;
        self.store(&frame)
    }

    /// Gray / gray+alpha / RGB / RGBA rows → I420 (full-range BT.601, as JFIF:
    /// the same convention the JPEG side of the pipeline uses).
    fn load_rgb(&mut self, px: &[u8], w: usize, h: usize, channels: usize) -> Result<()> {
        let mut tmp = YuvBuffer::new(w, h);
        let cw = chroma_extent(w);
        {
            let (yp, up, vp) = tmp.planes_mut();
            let rgb_at = |x: usize, y: usize| -> (i32, i32, i32) {
                let i = (y * w + x) * channels;
                match channels {
                    1 | 2 => {
                        let g = i32::from(px[i]);
                        (g, g, g)
                    }
                    _ => (i32::from(px[i]), i32::from(px[i + 1]), i32::from(px[i + 2])),
                }
            };
            for y in 0..h {
                for x in 0..w {
                    let (r, g, b) = rgb_at(x, y);
                    yp[y * w + x] = ((77 * r + 150 * g + 29 * b + 128) >> 8).clamp(0, 255) as u8;
                }
            }
            for cy in 0..chroma_extent(h) {
                for cx in 0..cw {
                    let (mut r, mut g, mut b, mut n) = (0, 0, 0, 0);
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let (x, y) = (cx * 2 + dx, cy * 2 + dy);
                        if x < w && y < h {
                            let p = rgb_at(x, y);
                            r += p.0;
                            g += p.1;
                            b += p.2;
                            n += 1;
                        }
                    }
                    let (r, g, b) = (r / n, g / n, b / n);
                    up[cy * cw + cx] =
                        (((-43 * r - 85 * g + 128 * b + 128) >> 8) + 128).clamp(0, 255) as u8;
                    vp[cy * cw + cx] =
                        (((128 * r - 107 * g - 21 * b + 128) >> 8) + 128).clamp(0, 255) as u8;
                }
            }
        }
        self.store(&tmp.as_frame())
    }

    /// Scales a decoded picture to the output size and keeps it.
    fn store(&mut self, frame: &YuvFrame<'_>) -> Result<()> {
        let (w, h) = (self.settings.width, self.settings.height);
        if frame.width() == w && frame.height() == h {
            frame.copy_into(&mut self.input);
        } else {
            let scaled = self.scaler.scale(frame, w, h)?;
            scaled.copy_into(&mut self.input);
        }
        Ok(())
    }

    /// Encodes the current picture (again, when nothing new was loaded).
    ///
    /// # Errors
    /// [`VideoError::InvalidFrame`] before any picture was loaded;
    /// [`VideoError::Init`] wrapping an OpenH264 failure.
    pub fn encode(&mut self) -> Result<EncodedPicture> {
        if !self.has_input {
            return Err(VideoError::InvalidFrame("no picture to publish yet"));
        }
        if self.force_idr && self.frames > 0 {
            self.encoder.force_intra_frame();
        }
        self.force_idr = false;
        let source = Planes(self.input.as_frame());
        let bitstream = self
            .encoder
            .encode(&source)
            .map_err(|e| init("OpenH264 encoder")(e.to_string()))?;
        self.frames += 1;
        let mut annexb = Vec::new();
        let keyframe = matches!(bitstream.frame_type(), FrameType::IDR | FrameType::I);
        if bitstream.frame_type() != FrameType::Skip {
            bitstream.write_vec(&mut annexb);
        }
        Ok(EncodedPicture { annexb, keyframe })
    }
}

fn check_size(w: usize, h: usize) -> Result<()> {
    if w == 0 || h == 0 || w > MAX_DIMENSION || h > MAX_DIMENSION {
        return Err(VideoError::InvalidFrame("picture size out of range"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{H264Decoder, JpegEncoder, VideoDecoder};

    fn pattern(w: usize, h: usize) -> YuvBuffer {
        let mut b = YuvBuffer::new(w, h);
        let (y, u, v) = b.planes_mut();
        for (i, p) in y.iter_mut().enumerate() {
            let (x, row) = (i % w, i / w);
            *p = if (x / 40 + row / 40) % 2 == 0 {
                200
            } else {
                40
            };
        }
        u.fill(100);
        v.fill(160);
        b
    }

    /// Luma PSNR, row by row (decoder planes may have padded strides).
    fn psnr(a: &YuvFrame<'_>, b: &YuvFrame<'_>) -> f64 {
        let mut sum = 0.0;
        for row in 0..a.height() {
            for (x, y) in a.row(0, row).iter().zip(b.row(0, row)) {
                sum += (f64::from(*x) - f64::from(*y)).powi(2);
            }
        }
        let mse = sum / (a.width() * a.height()) as f64;
        10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
    }

    #[test]
    fn jpeg_png_and_i420_inputs_encode_to_decodable_h264() {
        let src = pattern(320, 180);
        let jpeg = JpegEncoder::new()
            .unwrap()
            .encode(&src.as_frame(), 90)
            .unwrap();
        let mut png_bytes = Vec::new();
        {
            let mut e = png::Encoder::new(&mut png_bytes, 320, 180);
            e.set_color(png::ColorType::Grayscale);
            let mut w = e.write_header().unwrap();
            let gray: Vec<u8> = src.as_frame().planes()[0].to_vec();
            w.write_image_data(&gray).unwrap();
        }
        let mut i420 = Vec::new();
        for p in src.as_frame().planes() {
            i420.extend_from_slice(p);
        }
        let mut enc = PublishEncoder::new(EncoderSettings {
            width: 320,
            height: 180,
            fps: 10,
            bitrate_bps: 1_000_000,
            keyframe_interval: 100,
        })
        .unwrap();
        assert!(enc.encode().is_err(), "nothing loaded yet");
        let mut dec = H264Decoder::new().unwrap();
        for (n, (format, data)) in [
            (InputFormat::Jpeg, &jpeg),
            (InputFormat::Png, &png_bytes),
            (
                InputFormat::I420 {
                    width: 320,
                    height: 180,
                },
                &i420,
            ),
        ]
        .into_iter()
        .enumerate()
        {
            enc.load(format, data).unwrap();
            let pic = enc.encode().unwrap();
            assert_eq!(pic.keyframe, n == 0, "first picture is the IDR");
            let out = dec.decode(&pic.annexb).unwrap().expect("a picture");
            assert_eq!((out.width(), out.height()), (320, 180));
            let p = psnr(&out, &src.as_frame());
            assert!(p > 30.0, "{format:?}: luma PSNR {p:.1} dB");
        }
        enc.request_keyframe();
        assert!(enc.encode().unwrap().keyframe, "IDR on request");
    }

    #[test]
    fn inputs_are_scaled_and_bad_ones_refused() {
        let mut enc = PublishEncoder::new(EncoderSettings {
            width: 160,
            height: 90,
            ..EncoderSettings::default()
        })
        .unwrap();
        let big = pattern(640, 360);
        let jpeg = JpegEncoder::new()
            .unwrap()
            .encode(&big.as_frame(), 80)
            .unwrap();
        enc.load(InputFormat::Jpeg, &jpeg).unwrap();
        let pic = enc.encode().unwrap();
        let mut dec = H264Decoder::new().unwrap();
        let out = dec.decode(&pic.annexb).unwrap().unwrap();
        assert_eq!((out.width(), out.height()), (160, 90));
        assert!(enc.load(InputFormat::Jpeg, b"not a jpeg").is_err());
        assert!(enc.load(InputFormat::Png, &jpeg).is_err());
        assert!(
            enc.load(
                InputFormat::I420 {
                    width: 4,
                    height: 4
                },
                &[0; 5]
            )
            .is_err()
        );
        assert!(enc.has_picture(), "a bad frame keeps the previous picture");
        assert!(
            PublishEncoder::new(EncoderSettings {
                width: 161,
                ..EncoderSettings::default()
            })
            .is_err()
        );
    }
}
