//! bench-share's frames: screen-like 1280x720 JPEGs of about 100 KB.

#![allow(unused_imports)]
use super::*;

/// A texture standing in for the pictures on a real desktop (thumbnails,
/// a photo, a video player): smooth shapes plus fine detail, different per
/// frame.
pub fn paint_picture(y: &mut [u8], width: usize, rect: (usize, usize, usize, usize), seed: u64) {
    let (x0, y0, w, h) = rect;
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for row in 0..h {
        for col in 0..w {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let (fx, fy) = (col as f64 / w as f64, row as f64 / h as f64);
            let s = seed as f64;
            let smooth = 110.0
                + 60.0 * (fx * 7.0 + s).sin() * (fy * 5.0 + s * 0.7).cos()
                + 40.0 * ((fx + fy) * 19.0 + s * 1.3).sin();
            let detail = (state % 48) as f64 - 24.0;
            let v = (smooth + detail).clamp(16.0, 235.0);
            y[(y0 + row) * width + x0 + col] = v as u8;
        }
    }
}

/// `FRAMES` JPEGs of 1280×720 screen content as a browser tab would post
/// it at 3 frames/s: sim-content's desktop (a window whose text grows line by
/// line, a different kind of window every 10 s) with a picture panel beside
/// it, at the quality whose average size is closest to
/// `FRAME_TARGET_BYTES`.
pub fn make_frames() -> anyhow::Result<(Vec<Vec<u8>>, u8)> {
    let (w, h) = (1280usize, 720usize);
    let config = sim_content::ScreenConfig::new(1280, 720);
    // The source runs at 30 fps: every 10th frame is 1/3 s apart.
    let step = u64::from(config.fps / 3);
    let mut source = sim_content::ScreenSource::new(config).context("screen source")?;
    let pictures: Vec<video_pipeline::YuvBuffer> = (0..FRAMES)
        .map(|i| {
            let index = i as u64 * step;
            let scene = source.scene_at(index).ordinal;
            let frame = source.render(index);
            let mut b = video_pipeline::YuvBuffer::new(w, h);
            let (y, u, v) = b.planes_mut();
            y.copy_from_slice(frame.y_plane());
            u.copy_from_slice(frame.u_plane());
            v.copy_from_slice(frame.v_plane());
            // A picture panel in the lower right (a browser page or an
            // image viewer beside the text), changing with the scene.
            paint_picture(y, w, (w - 420, h - 300, 360, 220), scene + 1);
            b
        })
        .collect();
    let mut encoder = video_pipeline::JpegEncoder::new().context("jpeg encoder")?;
    // The quality search looks at every 5th picture (a picture that does
    // not encode counts as empty; the final encode below reports it).
    let mut mean_at = |q: u8| -> usize {
        let sizes: Vec<usize> = pictures
            .iter()
            .step_by(5)
            .map(|p| encoder.encode(&p.as_frame(), q).map_or(0, |j| j.len()))
            .collect();
        sizes.iter().sum::<usize>() / sizes.len().max(1)
    };
    let (mut lo, mut hi) = (30u8, 98u8);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if mean_at(mid) < FRAME_TARGET_BYTES {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let q = if lo > 30
        && FRAME_TARGET_BYTES.abs_diff(mean_at(lo - 1)) < FRAME_TARGET_BYTES.abs_diff(mean_at(lo))
    {
        lo - 1
    } else {
        lo
    };
    let frames = pictures
        .iter()
        .map(|p| encoder.encode(&p.as_frame(), q).context("jpeg"))
        .collect::<anyhow::Result<_>>()?;
    Ok((frames, q))
}
