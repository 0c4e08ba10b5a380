//! Shared test helpers: synthetic screen-like frames, an in-test H264
//! encoder (OpenH264), an IVF reader and PSNR.
#![allow(dead_code)]

use openh264::OpenH264API;
use openh264::encoder::{BitRate, Encoder, EncoderConfig, FrameRate, QpRange, UsageType};
use openh264::formats::YUVSlices;
use video_pipeline::{YuvBuffer, YuvFrame};

/// Deterministic hash for pattern bits.
fn hash(a: u32, b: u32, c: u32) -> u32 {
    let mut x =
        a.wrapping_mul(0x9E37_79B1) ^ b.wrapping_mul(0x85EB_CA77) ^ c.wrapping_mul(0xC2B2_AE3D);
    x ^= x >> 15;
    x = x.wrapping_mul(0x2C1B_3C6D);
    x ^ (x >> 12)
}

/// A screen-like picture: a flat background, a flat "window" holding rows of
/// text-like glyphs (1–2 px strokes, high contrast), and a blinking cursor
/// that moves with `t`. `scene` changes colours and layout completely.
pub fn screen_frame(width: usize, height: usize, scene: u32, t: u32) -> YuvBuffer {
    let mut buffer = YuvBuffer::new(width, height);
    let (bg, window_y, ink, u_bg, v_bg) = match scene % 2 {
        0 => (225u8, 245u8, 20u8, 128u8, 128u8),
        _ => (40u8, 25u8, 230u8, 170u8, 90u8),
    };
    let (wx0, wy0) = (
        width / 10 + (scene as usize * 37) % (width / 10),
        height / 8,
    );
    let (wx1, wy1) = (width - width / 10, height - height / 8);
    let glyph_w = 6usize.max(width / 160);
    let glyph_h = 10usize.max(height / 60);
    {
        let (y, u, v) = buffer.planes_mut();
        for row in 0..height {
            for col in 0..width {
                let inside = (wx0..wx1).contains(&col) && (wy0..wy1).contains(&row);
                let mut p = if inside { window_y } else { bg };
                if inside {
                    let (cx, cy) = ((col - wx0) / glyph_w, (row - wy0) / glyph_h);
                    let (gx, gy) = ((col - wx0) % glyph_w, (row - wy0) % glyph_h);
                    // Text lines with gaps; each glyph a 4x7 bitmap of a hash.
                    let line_used = cy % 3 != 2 && !hash(cy as u32, scene, 99).is_multiple_of(5);
                    if line_used && (1..=4).contains(&gx) && (1..=7).contains(&gy) {
                        let bits = hash(cx as u32, cy as u32, scene);
                        if bits >> ((gx - 1) + 4 * ((gy - 1) % 7)) & 1 == 1 {
                            p = ink;
                        }
                    }
                    // Blinking cursor block moving along the first line.
                    let cursor_x = wx0 + ((t as usize * glyph_w) % (wx1 - wx0 - glyph_w));
                    if t.is_multiple_of(2)
                        && (cursor_x..cursor_x + glyph_w).contains(&col)
                        && row < wy0 + glyph_h
                    {
                        p = ink;
                    }
                }
                y[row * width + col] = p;
            }
        }
        let cw = width.div_ceil(2);
        for (i, (pu, pv)) in u.iter_mut().zip(v.iter_mut()).enumerate() {
            let (col, row) = ((i % cw) * 2, (i / cw) * 2);
            let inside = (wx0..wx1).contains(&col) && (wy0..wy1).contains(&row);
            *pu = if inside { 128 } else { u_bg };
            *pv = if inside { 128 } else { v_bg };
        }
    }
    buffer
}

/// Encodes frames with OpenH264 (screen-content mode, no frame skipping)
/// and returns one Annex-B access unit per input frame; the first is an IDR.
pub fn encode_h264(frames: &[YuvBuffer]) -> Vec<Vec<u8>> {
    let config = EncoderConfig::new()
        .usage_type(UsageType::ScreenContentRealTime)
        .bitrate(BitRate::from_bps(8_000_000))
        .max_frame_rate(FrameRate::from_hz(30.0))
        .skip_frames(false)
        .qp(QpRange::new(10, 30));
    let mut encoder =
        Encoder::with_api_config(OpenH264API::from_source(), config).expect("encoder");
    frames
        .iter()
        .map(|frame| {
            let view = frame.as_frame();
            let [y, u, v] = view.planes();
            let [ys, us, vs] = view.strides();
            let source = YUVSlices::new((y, u, v), (view.width(), view.height()), (ys, us, vs));
            encoder.encode(&source).expect("encode").to_vec()
        })
        .collect()
}

/// Reads an IVF file: (width, height, frames).
pub fn parse_ivf(bytes: &[u8]) -> (usize, usize, Vec<Vec<u8>>) {
    assert_eq!(&bytes[..4], b"DKIF", "IVF signature");
    let header_len = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
    let width = usize::from(u16::from_le_bytes([bytes[12], bytes[13]]));
    let height = usize::from(u16::from_le_bytes([bytes[14], bytes[15]]));
    let mut frames = Vec::new();
    let mut at = header_len;
    while at + 12 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 12;
        frames.push(bytes[at..at + len].to_vec());
        at += len;
    }
    (width, height, frames)
}

/// PSNR in dB between two equally sized 8-bit planes.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

/// Tightly packed luma of a frame.
pub fn luma(frame: &YuvFrame<'_>) -> Vec<u8> {
    (0..frame.height())
        .flat_map(|r| frame.row(0, r).iter().copied())
        .collect()
}

/// Independent 2:1 box downscale of a tightly packed luma plane.
pub fn half_luma(plane: &[u8], width: usize, height: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(width / 2 * height / 2);
    for y in 0..height / 2 {
        for x in 0..width / 2 {
            let at = |dx: usize, dy: usize| u32::from(plane[(2 * y + dy) * width + 2 * x + dx]);
            out.push(((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) / 4) as u8);
        }
    }
    out
}

/// Decodes a JPEG to grayscale: (width, height, pixels).
pub fn jpeg_luma(jpeg: &[u8]) -> (usize, usize, Vec<u8>) {
    let image = turbojpeg::decompress(jpeg, turbojpeg::PixelFormat::GRAY).expect("JPEG decodes");
    (image.width, image.height, image.pixels)
}
