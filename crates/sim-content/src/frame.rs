//! I420 picture buffer, colours and the only pixel-writing primitive
//! ([`I420Frame::fill_rect`]) that everything else is drawn with.

use openh264::formats::YUVSource;

/// Largest width or height accepted anywhere in the crate: OpenH264 stops at
/// level 5.2, i.e. 3840×2160 (either orientation).
pub(crate) const MAX_LONG_SIDE: u32 = 3840;
/// See [`MAX_LONG_SIDE`].
pub(crate) const MAX_SHORT_SIDE: u32 = 2160;

/// An 8-bit sRGB colour, the unit the scenes are designed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// A colour already converted to limited-range BT.601 Y'CbCr, which is what
/// an H264 stream without VUI colour description is assumed to carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Yuv {
    /// Luma, 16..=235.
    pub y: u8,
    /// Blue-difference chroma, 16..=240.
    pub u: u8,
    /// Red-difference chroma, 16..=240.
    pub v: u8,
}

impl Rgb {
    /// Converts with the integer BT.601 studio-swing matrix.
    #[must_use]
    pub fn to_yuv(self) -> Yuv {
        let (r, g, b) = (i32::from(self.0), i32::from(self.1), i32::from(self.2));
        let y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
        let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
        let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
        Yuv {
            y: clamp_u8(y),
            u: clamp_u8(u),
            v: clamp_u8(v),
        }
    }
}

/// Saturates an `i32` into a byte.
pub(crate) fn clamp_u8(x: i32) -> u8 {
    x.clamp(0, 255) as u8
}

/// A planar 4:2:0 picture with tightly packed planes (stride = width).
///
/// Width and height are always even, so the chroma planes are exactly
/// `width/2 × height/2` and every even-aligned rectangle maps onto whole
/// chroma samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct I420Frame {
    width: usize,
    height: usize,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

impl I420Frame {
    /// A frame filled with one colour. The caller guarantees even, non-zero
    /// dimensions (checked by every public constructor of a source).
    pub(crate) fn new(width: u32, height: u32, fill: Yuv) -> Self {
        let (w, h) = (width as usize, height as usize);
        Self {
            width: w,
            height: h,
            y: vec![fill.y; w * h],
            u: vec![fill.u; (w / 2) * (h / 2)],
            v: vec![fill.v; (w / 2) * (h / 2)],
        }
    }

    /// Width in pixels.
    #[must_use]
    pub fn width(&self) -> u32 {
        self.width as u32
    }

    /// Height in pixels.
    #[must_use]
    pub fn height(&self) -> u32 {
        self.height as u32
    }

    /// The luma plane, `width × height` bytes, row-major.
    #[must_use]
    pub fn y_plane(&self) -> &[u8] {
        &self.y
    }

    /// The Cb plane, `width/2 × height/2` bytes.
    #[must_use]
    pub fn u_plane(&self) -> &[u8] {
        &self.u
    }

    /// The Cr plane, `width/2 × height/2` bytes.
    #[must_use]
    pub fn v_plane(&self) -> &[u8] {
        &self.v
    }

    /// Mutable access to all three planes at once (for per-pixel sources
    /// such as the camera).
    pub(crate) fn planes_mut(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        (&mut self.y, &mut self.u, &mut self.v)
    }

    /// Fills a rectangle, clipped to the frame. Chroma covers every chroma
    /// sample the luma rectangle touches, so odd-aligned rectangles bleed
    /// colour by at most one luma pixel — invisible at the sizes used.
    pub(crate) fn fill_rect(&mut self, x: i64, y: i64, w: i64, h: i64, c: Yuv) {
        let x0 = x.clamp(0, self.width as i64) as usize;
        let y0 = y.clamp(0, self.height as i64) as usize;
        let x1 = (x.saturating_add(w)).clamp(0, self.width as i64) as usize;
        let y1 = (y.saturating_add(h)).clamp(0, self.height as i64) as usize;
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        for row in self.y.chunks_exact_mut(self.width).take(y1).skip(y0) {
            if let Some(span) = row.get_mut(x0..x1) {
                span.fill(c.y);
            }
        }
        let cw = self.width / 2;
        let (cx0, cx1) = (x0 / 2, x1.div_ceil(2));
        let (cy0, cy1) = (y0 / 2, y1.div_ceil(2));
        for plane_val in [(&mut self.u, c.u), (&mut self.v, c.v)] {
            let (plane, val) = plane_val;
            for row in plane.chunks_exact_mut(cw).take(cy1).skip(cy0) {
                if let Some(span) = row.get_mut(cx0..cx1) {
                    span.fill(val);
                }
            }
        }
    }

    /// Mean luma over the whole frame (0..=255).
    #[must_use]
    pub fn mean_luma(&self) -> f64 {
        let sum: u64 = self.y.iter().map(|&p| u64::from(p)).sum();
        sum as f64 / self.y.len().max(1) as f64
    }

    /// Mean absolute luma difference to another frame of the same size, or
    /// `None` if the sizes differ. A cheap "how much did the picture change"
    /// metric for tests and callers.
    #[must_use]
    pub fn mean_abs_luma_diff(&self, other: &Self) -> Option<f64> {
        if self.width != other.width || self.height != other.height {
            return None;
        }
        let sum: u64 = self
            .y
            .iter()
            .zip(&other.y)
            .map(|(&a, &b)| u64::from(a.abs_diff(b)))
            .sum();
        Some(sum as f64 / self.y.len().max(1) as f64)
    }

    /// The luma plane as a binary PGM (P5) image, for OCR and eyeballing.
    #[must_use]
    pub fn to_pgm(&self) -> Vec<u8> {
        let mut out = format!("P5\n{} {}\n255\n", self.width, self.height).into_bytes();
        out.extend_from_slice(&self.y);
        out
    }

    /// The picture converted back to RGB as a binary PPM (P6) image, using
    /// the inverse of [`Rgb::to_yuv`] with nearest-neighbour chroma.
    #[must_use]
    pub fn to_ppm(&self) -> Vec<u8> {
        let mut out = format!("P6\n{} {}\n255\n", self.width, self.height).into_bytes();
        out.reserve(self.width * self.height * 3);
        let cw = self.width / 2;
        for (row_idx, row) in self.y.chunks_exact(self.width).enumerate() {
            let crow = (row_idx / 2) * cw;
            for (col, &luma) in row.iter().enumerate() {
                let ci = crow + col / 2;
                let u = self.u.get(ci).copied().unwrap_or(128);
                let v = self.v.get(ci).copied().unwrap_or(128);
                let c = 298 * (i32::from(luma) - 16);
                let d = i32::from(u) - 128;
                let e = i32::from(v) - 128;
                out.push(clamp_u8((c + 409 * e + 128) >> 8));
                out.push(clamp_u8((c - 100 * d - 208 * e + 128) >> 8));
                out.push(clamp_u8((c + 516 * d + 128) >> 8));
            }
        }
        out
    }
}

impl YUVSource for I420Frame {
    fn dimensions(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    fn strides(&self) -> (usize, usize, usize) {
        (self.width, self.width / 2, self.width / 2)
    }

    fn y(&self) -> &[u8] {
        &self.y
    }

    fn u(&self) -> &[u8] {
        &self.u
    }

    fn v(&self) -> &[u8] {
        &self.v
    }
}

/// Checks the size rules shared by every source: even, at least
/// `min_w × min_h`, at most 3840×2160 in either orientation.
pub(crate) fn check_dimensions(
    width: u32,
    height: u32,
    min_w: u32,
    min_h: u32,
) -> Result<(), crate::SimMediaError> {
    let err = |reason| crate::SimMediaError::InvalidDimensions {
        width,
        height,
        reason,
    };
    if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
        return Err(err("width and height must be even (I420)"));
    }
    if width < min_w || height < min_h {
        return Err(err("smaller than the minimum for this source"));
    }
    if width.max(height) > MAX_LONG_SIDE || width.min(height) > MAX_SHORT_SIDE {
        return Err(err("larger than 3840x2160 (H264 level 5.2)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bt601_reference_colours() {
        assert_eq!(
            Rgb(0, 0, 0).to_yuv(),
            Yuv {
                y: 16,
                u: 128,
                v: 128
            }
        );
        assert_eq!(
            Rgb(255, 255, 255).to_yuv(),
            Yuv {
                y: 235,
                u: 128,
                v: 128
            }
        );
        // Pure red has the largest Cr of the primaries, pure blue the largest Cb.
        let r = Rgb(255, 0, 0).to_yuv();
        let b = Rgb(0, 0, 255).to_yuv();
        assert!(r.v > 230 && b.u > 230, "{r:?} {b:?}");
    }

    #[test]
    fn fill_rect_clips_and_covers_chroma() {
        let red = Rgb(255, 0, 0).to_yuv();
        let mut f = I420Frame::new(8, 4, Rgb(0, 0, 0).to_yuv());
        f.fill_rect(-3, 1, 5, 100, red);
        // Columns 0..2, rows 1..4 are red luma; everything else untouched.
        for row in 0..4 {
            for col in 0..8 {
                let expect = if row >= 1 && col < 2 { red.y } else { 16 };
                assert_eq!(f.y_plane()[row * 8 + col], expect, "({col},{row})");
            }
        }
        // Chroma samples touched: x 0..1, y 0..2.
        assert_eq!(f.v_plane()[0], red.v);
        assert_eq!(f.v_plane()[4], red.v);
        assert_eq!(f.v_plane()[1], 128);
        // Entirely outside: no-op, no panic.
        f.fill_rect(100, 100, 5, 5, red);
        f.fill_rect(0, 0, -5, 5, red);
    }

    #[test]
    fn ppm_round_trips_grey() {
        let f = I420Frame::new(4, 2, Rgb(128, 128, 128).to_yuv());
        let ppm = f.to_ppm();
        let header = b"P6\n4 2\n255\n";
        assert_eq!(&ppm[..header.len()], header);
        for &c in &ppm[header.len()..] {
            assert!(c.abs_diff(128) <= 2, "{c}");
        }
    }

    #[test]
    fn dimension_rules() {
        assert!(check_dimensions(640, 360, 64, 64).is_ok());
        assert!(check_dimensions(641, 360, 64, 64).is_err());
        assert!(check_dimensions(0, 0, 2, 2).is_err());
        assert!(check_dimensions(3840, 2160, 2, 2).is_ok());
        assert!(check_dimensions(2160, 3840, 2, 2).is_ok());
        assert!(check_dimensions(4096, 2160, 2, 2).is_err());
    }
}
