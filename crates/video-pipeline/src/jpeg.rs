//! JPEG through libjpeg-turbo: encoding straight from I420 planes (no RGB
//! round trip), and scoring incoming JPEGs on the luma grid.

use turbojpeg::{
    Compressor, Decompressor, Image, PixelFormat, ScalingFactor, Subsamp, YuvPlanesImage,
};

use crate::error::{Result, VideoError};
use crate::frame::{MAX_DIMENSION, YuvBuffer, YuvFrame};
use crate::metrics::LumaGrid;

/// Default JPEG quality (the reference's subscription default).
pub const DEFAULT_JPEG_QUALITY: u8 = 75;

/// Clamps a requested quality to the accepted 10–100 range.
#[must_use]
pub fn clamp_quality(quality: u8) -> u8 {
    quality.clamp(10, 100)
}

/// A reusable JPEG encoder fed with I420 planes.
///
/// The frame's planes go to `tj3CompressFromYUVPlanes8` as they are (4:2:0,
/// strides honoured), so a decoder's picture can be encoded without any copy
/// or colour conversion.
pub struct JpegEncoder {
    compressor: Compressor,
    /// Quality currently configured on `compressor` (setting it is cheap, but
    /// skipping redundant calls keeps the hot path free of FFI chatter).
    quality: u8,
    /// Scratch output sized for the worst case, reused across frames.
    scratch: Vec<u8>,
    /// Even-sized copy for odd-sized frames: libjpeg-turbo reads a 4:2:0
    /// luma plane padded to even dimensions, which a decoder's odd-sized
    /// picture need not have.
    padded: YuvBuffer,
}

impl std::fmt::Debug for JpegEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JpegEncoder")
            .field("quality", &self.quality)
            .finish_non_exhaustive()
    }
}

impl JpegEncoder {
    /// Creates an encoder at [`DEFAULT_JPEG_QUALITY`].
    ///
    /// # Errors
    /// [`VideoError::Init`] if libjpeg-turbo cannot allocate a compressor.
    pub fn new() -> Result<Self> {
        let init = |e: turbojpeg::Error| VideoError::Init {
            what: "turbojpeg compressor",
            detail: e.to_string(),
        };
        let mut compressor = Compressor::new().map_err(init)?;
        compressor
            .set_quality(i32::from(DEFAULT_JPEG_QUALITY))
            .map_err(init)?;
        compressor.set_subsamp(Subsamp::Sub2x2).map_err(init)?;
        Ok(Self {
            compressor,
            quality: DEFAULT_JPEG_QUALITY,
            scratch: Vec::new(),
            padded: YuvBuffer::default(),
        })
    }

    /// Encodes `frame` as a baseline 4:2:0 JPEG at `quality` (clamped to
    /// 10–100).
    ///
    /// # Errors
    /// [`VideoError::JpegEncode`] if libjpeg-turbo reports a failure.
    pub fn encode(&mut self, frame: &YuvFrame<'_>, quality: u8) -> Result<Vec<u8>> {
        let encode_error = |e: turbojpeg::Error| VideoError::JpegEncode(e.to_string());
        let quality = clamp_quality(quality);
        if quality != self.quality {
            self.compressor
                .set_quality(i32::from(quality))
                .map_err(encode_error)?;
            self.quality = quality;
        }
        let (width, height) = (frame.width(), frame.height());
        let frame = if frame.width().is_multiple_of(2) && frame.height().is_multiple_of(2) {
            *frame
        } else {
            pad_to_even(frame, &mut self.padded);
            self.padded.as_frame()
        };
        let [y, u, v] = frame.planes();
        let [y_stride, u_stride, v_stride] = frame.strides();
        let image = YuvPlanesImage {
            y_plane: y,
            u_plane: u,
            v_plane: v,
            // Always the caller's size: a padded copy only adds the
            // replicated row/column libjpeg-turbo reads but does not show.
            width,
            height,
            y_stride,
            u_stride,
            v_stride,
            subsamp: Subsamp::Sub2x2,
        };
        let worst = self
            .compressor
            .buf_len(width, height)
            .map_err(encode_error)?;
        if self.scratch.len() < worst {
            self.scratch.resize(worst, 0);
        }
        // With even dimensions, YuvFrame's invariant (each plane ≥
        // stride·(rows−1)+width, 4:2:0 chroma) is exactly what turbojpeg
        // asserts before encoding, so this cannot panic.
        let written = self
            .compressor
            .compress_yuv_planes_to_slice(&image, &mut self.scratch)
            .map_err(encode_error)?;
        Ok(self.scratch.get(..written).unwrap_or_default().to_vec())
    }
}

/// Copies `frame` into `dst` at the next even size, replicating the last
/// column and row.
fn pad_to_even(frame: &YuvFrame<'_>, dst: &mut YuvBuffer) {
    let (w, h) = (frame.width(), frame.height());
    dst.resize(w + w % 2, h + h % 2);
    let (pw, ph) = (dst.width(), dst.height());
    let (y, u, v) = dst.planes_mut();
    for (r, out) in y.chunks_exact_mut(pw).enumerate().take(ph) {
        let src = frame.row(0, r.min(h - 1));
        let (visible, pad) = out.split_at_mut(w.min(pw));
        visible.iter_mut().zip(src).for_each(|(o, &p)| *o = p);
        if let Some(&last) = src.last() {
            pad.fill(last);
        }
    }
    for (index, plane) in [(1, u), (2, v)] {
        let (cw, _) = frame.plane_size(index);
        for (r, out) in plane.chunks_exact_mut(cw).enumerate() {
            out.iter_mut()
                .zip(frame.row(index, r))
                .for_each(|(o, &p)| *o = p);
        }
    }
}

/// Scores incoming JPEGs (the share-link path) on the same 64×36 luma grid
/// as decoded video, decoding at 1/8 scale straight to grayscale: cheap, and
/// the grid is far coarser than 1/8 of any real screenshot anyway.
pub struct JpegGridScorer {
    decompressor: Decompressor,
    /// Grayscale scratch image, reused across calls.
    gray: Vec<u8>,
}

impl std::fmt::Debug for JpegGridScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JpegGridScorer").finish_non_exhaustive()
    }
}

impl JpegGridScorer {
    /// Creates a scorer.
    ///
    /// # Errors
    /// [`VideoError::Init`] if libjpeg-turbo cannot allocate a decompressor.
    pub fn new() -> Result<Self> {
        let init = |e: turbojpeg::Error| VideoError::Init {
            what: "turbojpeg decompressor",
            detail: e.to_string(),
        };
        let mut decompressor = Decompressor::new().map_err(init)?;
        decompressor
            .set_scaling_factor(ScalingFactor::ONE_EIGHTH)
            .map_err(init)?;
        // Bounds the work a hostile progressive JPEG can cause.
        decompressor.set_scan_limit(64).map_err(init)?;
        Ok(Self {
            decompressor,
            gray: Vec::new(),
        })
    }

    /// Decodes `jpeg` at 1/8 scale and returns its luma grid.
    ///
    /// # Errors
    /// [`VideoError::JpegDecode`] for anything libjpeg-turbo rejects, and
    /// [`VideoError::JpegTooLarge`] when a side exceeds
    /// [`crate::MAX_DIMENSION`].
    pub fn score(&mut self, jpeg: &[u8]) -> Result<LumaGrid> {
        let decode_error = |e: turbojpeg::Error| VideoError::JpegDecode(e.to_string());
        let header = self.decompressor.read_header(jpeg).map_err(decode_error)?;
        if header.width > MAX_DIMENSION || header.height > MAX_DIMENSION {
            return Err(VideoError::JpegTooLarge {
                width: header.width,
                height: header.height,
                max: MAX_DIMENSION,
            });
        }
        let scaled = header.scaled(ScalingFactor::ONE_EIGHTH);
        let (width, height) = (scaled.width.max(1), scaled.height.max(1));
        self.gray.clear();
        self.gray.resize(width * height, 0);
        let image = Image {
            pixels: self.gray.as_mut_slice(),
            width,
            pitch: width,
            height,
            format: PixelFormat::GRAY,
        };
        self.decompressor
            .decompress(jpeg, image)
            .map_err(decode_error)?;
        Ok(LumaGrid::from_luma(&self.gray, width, width, height))
    }
}

/// One-shot [`JpegGridScorer::score`] (creates a decompressor per call; keep
/// a [`JpegGridScorer`] for repeated use).
///
/// # Errors
/// See [`JpegGridScorer::score`].
pub fn score_jpeg(jpeg: &[u8]) -> Result<LumaGrid> {
    JpegGridScorer::new()?.score(jpeg)
}
