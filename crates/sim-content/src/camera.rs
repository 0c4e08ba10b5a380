//! The webcam user's picture: smooth gradients, a moving "head" and a little
//! sensor noise, so the encoder sees camera-like (not screen-like) content.

use crate::frame::{I420Frame, Rgb, check_dimensions, clamp_u8};
use crate::rng::{SplitMix64, mix};
use crate::{FrameSource, SimMediaError};

/// Parameters of a [`CameraSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraConfig {
    /// Frame width in pixels (even, 64..=3840).
    pub width: u32,
    /// Frame height in pixels (even, 64..=2160).
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Selects the colours, the motion path and the noise.
    pub seed: u64,
    /// Peak-to-peak luma noise amplitude (0 disables noise). Real webcams
    /// show a few levels; more makes the encoder spend bits on noise.
    pub noise: u8,
}

impl CameraConfig {
    /// 30 fps, seed 1, noise amplitude 6.
    #[must_use]
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            fps: 30,
            seed: 1,
            noise: 6,
        }
    }
}

/// Camera-like I420 frames; every pixel is recomputed per frame (the whole
/// picture moves, so there is nothing to keep).
#[derive(Debug, Clone)]
pub struct CameraSource {
    config: CameraConfig,
    frame: I420Frame,
    /// Per-seed colour offsets so two simulated users look different.
    tint: (i32, i32),
}

impl CameraSource {
    /// Validates the configuration.
    ///
    /// # Errors
    /// [`SimMediaError::InvalidDimensions`] for odd, tiny (< 64×64) or too
    /// large sizes; [`SimMediaError::InvalidConfig`] for zero fps.
    pub fn new(config: CameraConfig) -> Result<Self, SimMediaError> {
        check_dimensions(config.width, config.height, 64, 64)?;
        if config.fps == 0 {
            return Err(SimMediaError::InvalidConfig("fps must be positive"));
        }
        let mut r = SplitMix64::new(&[config.seed, 0xCA]);
        let tint = (r.below(41) as i32 - 20, r.below(41) as i32 - 20);
        let frame = I420Frame::new(config.width, config.height, Rgb(0, 0, 0).to_yuv());
        Ok(Self {
            config,
            frame,
            tint,
        })
    }

    /// The configuration this source was built with.
    #[must_use]
    pub fn config(&self) -> &CameraConfig {
        &self.config
    }

    /// Centre and radius of the moving head at `frame_index`, in luma
    /// pixels: a slow Lissajous path around the middle of the picture.
    fn head(&self, frame_index: u64) -> (i64, i64, i64) {
        let (w, h) = (f64::from(self.config.width), f64::from(self.config.height));
        let t = frame_index as f64 / f64::from(self.config.fps);
        let phase = (self.config.seed % 628) as f64 / 100.0;
        let cx = w / 2.0 + w * 0.18 * (t * 0.9 + phase).sin();
        let cy = h * 0.55 + h * 0.08 * (t * 1.3 + phase).cos();
        let r = h.min(w) / 5.0;
        (cx as i64, cy as i64, r as i64)
    }

    /// Renders `frame_index` and returns it.
    pub fn render(&mut self, frame_index: u64) -> &I420Frame {
        let (w, h) = (self.config.width as usize, self.config.height as usize);
        let (cx, cy, r) = self.head(frame_index);
        let skin = Rgb(224, 172, 140).to_yuv();
        let amp = i32::from(self.config.noise);
        let seed = self.config.seed;
        // Lighting drifts slowly (a 20 s cycle) like auto-exposure.
        let drift = ((frame_index % 600) as i32 - 300).abs() / 20;
        let (tu, tv) = self.tint;
        let (yp, up, vp) = self.frame.planes_mut();

        for (row, line) in yp.chunks_exact_mut(w).enumerate() {
            let base = 60 + (row * 70 / h) as i32 + drift;
            let dy = row as i64 - cy;
            let half = if dy.abs() <= r {
                isqrt(r * r - dy * dy)
            } else {
                -1
            };
            let mut noise = SplitMix64::new(&[seed, frame_index, row as u64]);
            let mut bits = 0u64;
            for (col, px) in line.iter_mut().enumerate() {
                let mut v = base + (col * 50 / w) as i32;
                let dx = col as i64 - cx;
                if dx.abs() <= half {
                    // Shade the head a little towards its edge.
                    v = i32::from(skin.y) - (dx.abs() * 30 / r.max(1)) as i32;
                }
                if amp > 0 {
                    if col % 8 == 0 {
                        bits = noise.next_u64();
                    }
                    v += (bits & 0xFF) as i32 * amp / 255 - amp / 2;
                    bits >>= 8;
                }
                *px = clamp_u8(v);
            }
        }
        let cw = w / 2;
        for (crow, (urow, vrow)) in up
            .chunks_exact_mut(cw)
            .zip(vp.chunks_exact_mut(cw))
            .enumerate()
        {
            let dy = (crow * 2) as i64 - cy;
            let half = if dy.abs() <= r {
                isqrt(r * r - dy * dy)
            } else {
                -1
            };
            for (ccol, (u, v)) in urow.iter_mut().zip(vrow.iter_mut()).enumerate() {
                let dx = (ccol * 2) as i64 - cx;
                if dx.abs() <= half {
                    *u = skin.u;
                    *v = skin.v;
                } else {
                    *u = clamp_u8(118 + tu + (ccol * 20 / cw) as i32);
                    *v = clamp_u8(134 + tv - (crow * 24 / (h / 2).max(1)) as i32);
                }
            }
        }
        // A darker band for a "desk" along the bottom eighth, different per
        // seed so it is not a pure function of position only.
        let desk_y = (h - h / 8) as i64;
        let desk = Rgb(90, 70, 50).to_yuv();
        let desk_y_luma = i64::from(desk.y) + (mix(seed) % 16) as i64;
        self.frame.fill_rect(
            0,
            desk_y,
            w as i64,
            (h / 8) as i64,
            crate::frame::Yuv {
                y: clamp_u8(desk_y_luma as i32),
                ..desk
            },
        );
        &self.frame
    }
}

/// Integer square root (floor) for non-negative inputs.
fn isqrt(v: i64) -> i64 {
    if v <= 0 {
        return 0;
    }
    let mut x = (v as f64).sqrt() as i64;
    while x * x > v {
        x -= 1;
    }
    while (x + 1) * (x + 1) <= v {
        x += 1;
    }
    x
}

impl FrameSource for CameraSource {
    fn width(&self) -> u32 {
        self.config.width
    }

    fn height(&self) -> u32 {
        self.config.height
    }

    fn fps(&self) -> u32 {
        self.config.fps
    }

    fn render(&mut self, frame_index: u64) -> &I420Frame {
        CameraSource::render(self, frame_index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isqrt_is_floor_sqrt() {
        for v in 0..2000i64 {
            let r = isqrt(v);
            assert!(r * r <= v && (r + 1) * (r + 1) > v, "{v}");
        }
    }

    #[test]
    fn head_moves_and_noise_differs_per_frame() {
        let mut cam = CameraSource::new(CameraConfig::new(160, 120)).unwrap();
        let a = cam.render(0).clone();
        let b = cam.render(1).clone();
        let c = cam.render(30).clone();
        assert_ne!(a, b, "noise should change every frame");
        assert!(a.mean_abs_luma_diff(&b).unwrap() < 6.0);
        assert_ne!(cam.head(0), cam.head(30));
        assert!(a.mean_abs_luma_diff(&c).unwrap() > a.mean_abs_luma_diff(&b).unwrap());
    }

    #[test]
    fn noise_free_camera_is_smooth() {
        let mut cfg = CameraConfig::new(160, 120);
        cfg.noise = 0;
        let mut cam = CameraSource::new(cfg).unwrap();
        let f = cam.render(5);
        // Away from the head and desk, neighbours differ by at most 1-2 levels.
        let y = f.y_plane();
        for x in 1..20 {
            assert!(y[160 * 4 + x].abs_diff(y[160 * 4 + x - 1]) <= 2);
        }
    }
}
