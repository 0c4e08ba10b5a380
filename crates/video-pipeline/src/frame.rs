//! I420 images: a borrowed, validated view ([`YuvFrame`]) and a reusable owned
//! buffer ([`YuvBuffer`]).
//!
//! Decoders hand out `YuvFrame`s that borrow their internal picture buffer, so
//! looking at a frame (metrics, gate decision) costs no copy. A copy into a
//! `YuvBuffer` happens only when a caller really needs to keep the picture
//! past the next decode call, and the buffer's allocation is reused.

use crate::error::{Result, VideoError};

/// Largest accepted width or height, in pixels. Well above any screen share,
/// and small enough that `stride * height` cannot overflow on any target.
pub const MAX_DIMENSION: usize = 16_384;

/// Width or height of a 4:2:0 chroma plane for a luma extent of `n`.
#[must_use]
pub const fn chroma_extent(n: usize) -> usize {
    n.div_ceil(2)
}

/// Minimum bytes a plane of `rows` rows of `width` pixels at `stride` occupies
/// (the last row needs no padding).
const fn plane_len(width: usize, stride: usize, rows: usize) -> usize {
    if rows == 0 {
        0
    } else {
        stride * (rows - 1) + width
    }
}

/// A borrowed I420 (YUV 4:2:0, 8-bit) image with per-plane strides.
///
/// Invariant, checked by [`YuvFrame::new`]: `0 < width, height <= MAX_DIMENSION`,
/// every stride is at least its plane's width and every plane slice holds at
/// least `stride * (rows - 1) + width` bytes. The row accessors rely on it.
#[derive(Debug, Clone, Copy)]
pub struct YuvFrame<'a> {
    planes: [&'a [u8]; 3],
    strides: [usize; 3],
    width: usize,
    height: usize,
}

impl<'a> YuvFrame<'a> {
    /// Wraps Y, U and V planes after checking that they describe a
    /// `width`×`height` image with the given strides (Y, U, V).
    ///
    /// # Errors
    /// [`VideoError::InvalidFrame`] when a dimension is zero or too large, a
    /// stride is narrower than its plane, or a plane slice is too short.
    pub fn new(
        planes: [&'a [u8]; 3],
        strides: [usize; 3],
        width: usize,
        height: usize,
    ) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(VideoError::InvalidFrame("zero dimension"));
        }
        if width > MAX_DIMENSION || height > MAX_DIMENSION {
            return Err(VideoError::InvalidFrame("dimension above MAX_DIMENSION"));
        }
        let (cw, ch) = (chroma_extent(width), chroma_extent(height));
        let needs = [(width, height), (cw, ch), (cw, ch)];
        for ((plane, &stride), (w, rows)) in planes.iter().zip(&strides).zip(needs) {
            if stride < w {
                return Err(VideoError::InvalidFrame("stride narrower than plane"));
            }
            if stride > 4 * MAX_DIMENSION {
                return Err(VideoError::InvalidFrame("stride implausibly large"));
            }
            if plane.len() < plane_len(w, stride, rows) {
                return Err(VideoError::InvalidFrame("plane shorter than stride x rows"));
            }
        }
        Ok(Self {
            planes,
            strides,
            width,
            height,
        })
    }

    /// Luma width in pixels.
    #[must_use]
    pub const fn width(&self) -> usize {
        self.width
    }

    /// Luma height in pixels.
    #[must_use]
    pub const fn height(&self) -> usize {
        self.height
    }

    /// Chroma plane width, `ceil(width / 2)`.
    #[must_use]
    pub const fn chroma_width(&self) -> usize {
        chroma_extent(self.width)
    }

    /// Chroma plane height, `ceil(height / 2)`.
    #[must_use]
    pub const fn chroma_height(&self) -> usize {
        chroma_extent(self.height)
    }

    /// The three planes (Y, U, V), each possibly longer than the image.
    #[must_use]
    pub const fn planes(&self) -> [&'a [u8]; 3] {
        self.planes
    }

    /// Row strides in bytes (Y, U, V).
    #[must_use]
    pub const fn strides(&self) -> [usize; 3] {
        self.strides
    }

    /// Width and height of plane `index` (0 = Y, 1 = U, 2 = V).
    #[must_use]
    pub const fn plane_size(&self, index: usize) -> (usize, usize) {
        if index == 0 {
            (self.width, self.height)
        } else {
            (self.chroma_width(), self.chroma_height())
        }
    }

    /// Row `row` of plane `index` (0 = Y, 1 = U, 2 = V), exactly the plane's
    /// width long. Returns an empty slice for an out-of-range row or plane.
    #[must_use]
    pub fn row(&self, index: usize, row: usize) -> &'a [u8] {
        let (w, _) = self.plane_size(index);
        let (Some(plane), Some(&stride)) = (self.planes.get(index), self.strides.get(index)) else {
            return &[];
        };
        let Some(start) = row.checked_mul(stride) else {
            return &[];
        };
        plane.get(start..start.saturating_add(w)).unwrap_or(&[])
    }

    /// Copies the visible pixels into `dst`, reusing its allocation.
    pub fn copy_into(&self, dst: &mut YuvBuffer) {
        dst.resize(self.width, self.height);
        let (y, u, v) = dst.planes_mut();
        for (index, out) in [y, u, v].into_iter().enumerate() {
            let (w, _) = self.plane_size(index);
            for (r, out_row) in out.chunks_exact_mut(w).enumerate() {
                out_row.copy_from_slice(self.row(index, r));
            }
        }
    }
}

/// An owned, tightly packed I420 image whose allocation is reused across
/// frames (Y plane, then U, then V; strides equal plane widths).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YuvBuffer {
    data: Vec<u8>,
    width: usize,
    height: usize,
}

impl YuvBuffer {
    /// A black `width`×`height` image (dimensions are clamped to
    /// `1..=MAX_DIMENSION`).
    #[must_use]
    pub fn new(width: usize, height: usize) -> Self {
        let mut buffer = Self::default();
        buffer.resize(width, height);
        let luma = buffer.width * buffer.height;
        if let Some(y) = buffer.data.get_mut(..luma) {
            y.fill(0);
        }
        buffer
    }

    /// Changes the dimensions (clamped to `1..=MAX_DIMENSION`), keeping the
    /// allocation when it is large enough. Pixel contents are unspecified
    /// (grey for newly allocated bytes) until written.
    pub fn resize(&mut self, width: usize, height: usize) {
        self.width = width.clamp(1, MAX_DIMENSION);
        self.height = height.clamp(1, MAX_DIMENSION);
        let luma = self.width * self.height;
        let chroma = chroma_extent(self.width) * chroma_extent(self.height);
        self.data.resize(luma + 2 * chroma, 128);
    }

    /// Luma width in pixels.
    #[must_use]
    pub const fn width(&self) -> usize {
        self.width
    }

    /// Luma height in pixels.
    #[must_use]
    pub const fn height(&self) -> usize {
        self.height
    }

    fn split_lengths(&self) -> (usize, usize) {
        (
            self.width * self.height,
            chroma_extent(self.width) * chroma_extent(self.height),
        )
    }

    /// Mutable Y, U and V planes, each exactly `plane width × plane height`.
    pub fn planes_mut(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        let (luma, chroma) = self.split_lengths();
        let luma = luma.min(self.data.len());
        let (y, rest) = self.data.split_at_mut(luma);
        let (u, v) = rest.split_at_mut(chroma.min(rest.len()));
        (y, u, v)
    }

    /// A borrowed view of this buffer.
    #[must_use]
    pub fn as_frame(&self) -> YuvFrame<'_> {
        let (luma, chroma) = self.split_lengths();
        let (y, rest) = self.data.split_at(luma.min(self.data.len()));
        let (u, v) = rest.split_at(chroma.min(rest.len()));
        let cw = chroma_extent(self.width);
        // `resize` sized `data` for exactly these dimensions (and `default`
        // is fixed up by `resize` before any frame is taken), so validation
        // cannot fail; the fallback keeps this total without a panic path.
        YuvFrame::new([y, u, v], [self.width, cw, cw], self.width, self.height).unwrap_or(
            YuvFrame {
                planes: [&[], &[], &[]],
                strides: [1, 1, 1],
                width: 0,
                height: 0,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_short_planes_and_narrow_strides() {
        let y = vec![0u8; 16 * 4];
        let c = vec![0u8; 8 * 2];
        assert!(YuvFrame::new([&y, &c, &c], [16, 8, 8], 16, 4).is_ok());
        assert!(YuvFrame::new([&y[..63], &c, &c], [16, 8, 8], 16, 4).is_err());
        assert!(YuvFrame::new([&y, &c, &c], [15, 8, 8], 16, 4).is_err());
        assert!(YuvFrame::new([&y, &c, &c[..15]], [16, 8, 8], 16, 4).is_err());
        assert!(YuvFrame::new([&y, &c, &c], [16, 8, 8], 0, 4).is_err());
        // Last row needs no padding: 3 full strides + width.
        let padded = vec![0u8; 32 * 3 + 16];
        assert!(YuvFrame::new([&padded, &c, &c], [32, 8, 8], 16, 4).is_ok());
    }

    #[test]
    fn odd_dimensions_round_chroma_up() {
        let y = vec![7u8; 5 * 3];
        let c = vec![9u8; 3 * 2];
        let frame = YuvFrame::new([&y, &c, &c], [5, 3, 3], 5, 3).unwrap();
        assert_eq!((frame.chroma_width(), frame.chroma_height()), (3, 2));
        let mut owned = YuvBuffer::default();
        frame.copy_into(&mut owned);
        let view = owned.as_frame();
        assert_eq!((view.width(), view.height()), (5, 3));
        assert_eq!(view.row(0, 2), &[7; 5]);
        assert_eq!(view.row(2, 1), &[9; 3]);
        assert!(view.row(0, 3).is_empty());
    }

    #[test]
    fn copy_drops_stride_padding() {
        let mut y = vec![0u8; 8 * 2];
        y[..4].copy_from_slice(&[1, 2, 3, 4]);
        y[8..12].copy_from_slice(&[5, 6, 7, 8]);
        let c = vec![0u8; 8];
        let frame = YuvFrame::new([&y, &c, &c], [8, 8, 8], 4, 2).unwrap();
        let mut owned = YuvBuffer::new(100, 100);
        frame.copy_into(&mut owned);
        assert_eq!(owned.as_frame().planes()[0][..8], [1, 2, 3, 4, 5, 6, 7, 8]);
    }
}
