//! Downscaling on I420 planes: fit a frame into a pixel budget, then
//! area-average (box filter with fractional edge weights).
//!
//! Area averaging is the right anti-aliasing filter for the large factors we
//! see (1080p → 360p is exactly 3:1) and degrades to a 2-tap linear blend for
//! factors between 1 and 2. The filter is separable: each output row first
//! accumulates its 1–4 weighted source rows into a `u16` row (a loop the
//! compiler vectorises), then each output pixel sums its weighted columns of
//! that row. Weight tables are cached per (source, target) size, so steady
//! state does no allocation.

use crate::error::{Result, VideoError};
use crate::frame::{YuvBuffer, YuvFrame, chroma_extent};

/// Default pixel budget: a 640×360 box.
pub const DEFAULT_MAX_PIXELS: u32 = 640 * 360;
/// Smallest pixel budget honoured (a 64×36 box); smaller budgets are raised.
pub const MIN_MAX_PIXELS: u32 = 64 * 36;

/// Fixed-point precision of vertical weights (they sum to `1 << V_BITS`).
/// Eight bits keep the vertical accumulator in `u16` (255 · 256 < 65536), so
/// the vertical pass runs on 8 lanes of native 16-bit multiplies even with
/// baseline SSE2, which has no 32-bit vector multiply.
const V_BITS: u32 = 8;
/// Fixed-point precision of horizontal weights (they sum to `1 << H_BITS`);
/// the horizontal sum fits `u32` (65280 · 1024 < 2^32).
const H_BITS: u32 = 10;
/// Rounding term for the combined (two-axis) fixed-point sum.
const ROUND: u32 = 1 << (V_BITS + H_BITS - 1);

/// Output size for a `src_w`×`src_h` frame under a `max_pixels` budget:
/// aspect ratio kept (to within rounding), both sides even and at least 2,
/// never larger than the source. A source that fits keeps its size, rounded
/// down to even.
#[must_use]
pub fn fit_dimensions(src_w: usize, src_h: usize, max_pixels: u32) -> (usize, usize) {
    // Even and no larger than the source; a 1-pixel side stays 1.
    let settle = |v: usize, src: usize| {
        let v = v.min(src);
        if v >= 2 { v & !1 } else { v }
    };
    let (src_w, src_h) = (src_w.max(1), src_h.max(1));
    let budget = u64::from(max_pixels.max(MIN_MAX_PIXELS));
    if (src_w as u64) * (src_h as u64) <= budget {
        return (settle(src_w, src_w), settle(src_h, src_h));
    }
    let scale = (budget as f64 / (src_w as f64 * src_h as f64)).sqrt();
    let height_for = |w: usize| (w as f64 * src_h as f64 / src_w as f64).round() as usize;
    // The small epsilon absorbs float error on exact ratios (1920×1080 at a
    // 640×360 budget must give exactly 640×360).
    let mut w = settle((src_w as f64 * scale + 1e-6) as usize, src_w).max(2);
    let mut h = settle(height_for(w), src_h).max(2);
    while (w as u64) * (h as u64) > budget && w > 2 {
        w -= 2;
        h = settle(height_for(w), src_h).max(2);
    }
    (w.min(src_w), h.min(src_h))
}

/// Area-averaging taps for resampling `src` samples to `dst` samples, in a
/// uniform layout: every output reads exactly `k` consecutive inputs from
/// `starts[i]`, with weights `weights[i*k..(i+1)*k]` (zero-padded). The fixed
/// tap count lets the horizontal pass run an unrolled, bounds-check-free loop.
#[derive(Debug, Clone, Default)]
struct AxisPlan {
    k: usize,
    starts: Vec<usize>,
    weights: Vec<u32>,
}

impl AxisPlan {
    fn new(src: usize, dst: usize, bits: u32) -> Self {
        let one = 1u32 << bits;
        let ratio = src as f64 / dst as f64;
        let mut spans = Vec::with_capacity(dst);
        for i in 0..dst {
            let lo = i as f64 * ratio;
            let hi = ((i + 1) as f64 * ratio).min(src as f64);
            let first = (lo.floor() as usize).min(src - 1);
            let last = ((hi.ceil() as usize).max(first + 1)).min(src);
            let mut weights: Vec<u32> = (first..last)
                .map(|j| {
                    let overlap = (hi.min((j + 1) as f64) - lo.max(j as f64)).max(0.0);
                    (overlap / (hi - lo).max(f64::MIN_POSITIVE) * f64::from(one)).round() as u32
                })
                .collect();
            // Make the weights sum to exactly `one` (flat areas stay exactly
            // flat) by moving the rounding error onto the largest tap.
            let total: u32 = weights.iter().sum();
            if let Some(max) = weights.iter_mut().max_by_key(|w| **w) {
                *max = (*max + one).saturating_sub(total);
            }
            spans.push((first, weights));
        }
        let k = spans
            .iter()
            .map(|(_, w)| w.len())
            .max()
            .unwrap_or(1)
            .min(src);
        let mut plan = Self {
            k,
            starts: Vec::with_capacity(dst),
            weights: Vec::with_capacity(dst * k),
        };
        for (first, weights) in spans {
            // Shift windows that would run past the end to the left and pad
            // the weights with leading zeros instead.
            let start = first.min(src - k);
            let lead = first - start;
            plan.starts.push(start);
            plan.weights.extend(std::iter::repeat_n(0, lead));
            plan.weights.extend_from_slice(&weights);
            plan.weights
                .extend(std::iter::repeat_n(0, k - lead - weights.len()));
        }
        plan
    }

    /// Output `i`'s first input and its `k` weights.
    fn tap(&self, i: usize) -> (usize, &[u32]) {
        let start = self.starts.get(i).copied().unwrap_or(0);
        (
            start,
            self.weights
                .get(i * self.k..(i + 1) * self.k)
                .unwrap_or(&[]),
        )
    }
}

/// Cached plans for one (source size, target size) pair.
#[derive(Debug, Clone)]
struct Plan {
    key: (usize, usize, usize, usize),
    luma: (AxisPlan, AxisPlan),
    chroma: (AxisPlan, AxisPlan),
}

/// A reusable I420 downscaler (owns its output buffer and weight tables).
#[derive(Debug, Clone, Default)]
pub struct Scaler {
    out: YuvBuffer,
    plan: Option<Plan>,
    /// One accumulated row of the vertical pass, per source column.
    acc: Vec<u16>,
}

impl Scaler {
    /// An empty scaler; buffers grow on first use.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Resamples `src` to `dst_w`×`dst_h` (any size; intended for
    /// downscaling, where it area-averages). The result borrows the scaler.
    ///
    /// # Errors
    /// [`VideoError::InvalidFrame`] when a target dimension is zero or above
    /// [`crate::MAX_DIMENSION`].
    pub fn scale(
        &mut self,
        src: &YuvFrame<'_>,
        dst_w: usize,
        dst_h: usize,
    ) -> Result<YuvFrame<'_>> {
        if dst_w == 0 || dst_h == 0 || dst_w > crate::MAX_DIMENSION || dst_h > crate::MAX_DIMENSION
        {
            return Err(VideoError::InvalidFrame("scale target out of range"));
        }
        let key = (src.width(), src.height(), dst_w, dst_h);
        let plan = match self.plan.take() {
            Some(plan) if plan.key == key => plan,
            _ => {
                let (scw, sch) = (src.chroma_width(), src.chroma_height());
                let (dcw, dch) = (chroma_extent(dst_w), chroma_extent(dst_h));
                Plan {
                    key,
                    luma: (
                        AxisPlan::new(src.width(), dst_w, H_BITS),
                        AxisPlan::new(src.height(), dst_h, V_BITS),
                    ),
                    chroma: (
                        AxisPlan::new(scw, dcw, H_BITS),
                        AxisPlan::new(sch, dch, V_BITS),
                    ),
                }
            }
        };
        self.out.resize(dst_w, dst_h);
        let (y, u, v) = self.out.planes_mut();
        for (index, out) in [y, u, v].into_iter().enumerate() {
            let (xs, ys) = if index == 0 { &plan.luma } else { &plan.chroma };
            scale_plane(src, index, xs, ys, out, &mut self.acc);
        }
        self.plan = Some(plan);
        Ok(self.out.as_frame())
    }
}

/// Resamples plane `index` of `src` into the tightly packed `out`.
fn scale_plane(
    src: &YuvFrame<'_>,
    index: usize,
    xs: &AxisPlan,
    ys: &AxisPlan,
    out: &mut [u8],
    acc: &mut Vec<u16>,
) {
    let (src_w, _) = src.plane_size(index);
    let dst_w = xs.starts.len();
    acc.clear();
    acc.resize(src_w, 0);
    for (oy, out_row) in out.chunks_exact_mut(dst_w).enumerate() {
        let (start, weights) = ys.tap(oy);
        acc.fill(0);
        for (k, &w) in weights.iter().enumerate().filter(|(_, w)| **w != 0) {
            let row = src.row(index, start + k);
            // Vertical weights are ≤ 256 and sum to 256: no u16 overflow.
            let w = w as u16;
            for (a, &p) in acc.iter_mut().zip(row) {
                *a += w * u16::from(p);
            }
        }
        match xs.k {
            1 => horizontal::<1>(acc, xs, out_row),
            2 => horizontal::<2>(acc, xs, out_row),
            3 => horizontal::<3>(acc, xs, out_row),
            4 => horizontal::<4>(acc, xs, out_row),
            5 => horizontal::<5>(acc, xs, out_row),
            6 => horizontal::<6>(acc, xs, out_row),
            _ => horizontal_any(acc, xs, out_row),
        }
    }
}

/// Horizontal pass with a compile-time tap count.
fn horizontal<const K: usize>(acc: &[u16], xs: &AxisPlan, out_row: &mut [u8]) {
    for ((px, &start), weights) in out_row
        .iter_mut()
        .zip(&xs.starts)
        .zip(xs.weights.chunks_exact(K))
    {
        let (Some(window), Ok(weights)) = (
            acc.get(start..start + K)
                .and_then(|a| <&[u16; K]>::try_from(a).ok()),
            <&[u32; K]>::try_from(weights),
        ) else {
            continue;
        };
        let mut sum = 0u32;
        for i in 0..K {
            sum += u32::from(window[i]) * weights[i];
        }
        // Weights sum to 2^18 over both axes, so the result is ≤ 255.
        *px = ((sum + ROUND) >> (V_BITS + H_BITS)) as u8;
    }
}

/// Horizontal pass for large reduction factors (more than 6 taps).
fn horizontal_any(acc: &[u16], xs: &AxisPlan, out_row: &mut [u8]) {
    for (ox, px) in out_row.iter_mut().enumerate() {
        let (start, weights) = xs.tap(ox);
        let window = acc.get(start..start + weights.len()).unwrap_or(&[]);
        let sum: u32 = window
            .iter()
            .zip(weights)
            .map(|(&a, &w)| u32::from(a) * w)
            .sum();
        *px = ((sum + ROUND) >> (V_BITS + H_BITS)) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_common_sizes_into_the_default_box() {
        assert_eq!(fit_dimensions(1920, 1080, DEFAULT_MAX_PIXELS), (640, 360));
        assert_eq!(fit_dimensions(2560, 1440, DEFAULT_MAX_PIXELS), (640, 360));
        assert_eq!(fit_dimensions(1280, 720, DEFAULT_MAX_PIXELS), (640, 360));
        // 4:3 keeps its aspect inside the same pixel count.
        let (w, h) = fit_dimensions(1024, 768, DEFAULT_MAX_PIXELS);
        assert!(w * h <= 230_400 && w % 2 == 0 && h % 2 == 0);
        assert!(((w as f64 / h as f64) - 4.0 / 3.0).abs() < 0.02, "{w}x{h}");
        // Ultra-wide.
        let (w, h) = fit_dimensions(3440, 1440, DEFAULT_MAX_PIXELS);
        assert!(w * h <= 230_400 && ((w as f64 / h as f64) - 3440.0 / 1440.0).abs() < 0.03);
    }

    #[test]
    fn never_upscales_and_rounds_to_even() {
        assert_eq!(fit_dimensions(320, 240, DEFAULT_MAX_PIXELS), (320, 240));
        assert_eq!(fit_dimensions(321, 241, DEFAULT_MAX_PIXELS), (320, 240));
        assert_eq!(fit_dimensions(1920, 1080, u32::MAX), (1920, 1080));
        assert_eq!(fit_dimensions(1, 1, DEFAULT_MAX_PIXELS), (1, 1));
    }

    #[test]
    fn weights_sum_to_one() {
        for (src, dst) in [
            (1920, 640),
            (1080, 360),
            (1000, 333),
            (7, 3),
            (5, 5),
            (3, 7),
            (3840, 640),
            (1, 1),
        ] {
            let plan = AxisPlan::new(src, dst, V_BITS);
            for i in 0..dst {
                let (start, w) = plan.tap(i);
                assert_eq!(w.iter().sum::<u32>(), 1 << V_BITS, "{src}->{dst} at {i}");
                assert!(start + w.len() <= src);
                // Window covers the output's source interval.
                let lo = (i as f64 * src as f64 / dst as f64).floor() as usize;
                assert!(start <= lo.min(src - 1));
            }
        }
    }

    fn frame_from(buffer: &YuvBuffer) -> YuvFrame<'_> {
        buffer.as_frame()
    }

    #[test]
    fn three_to_one_is_a_box_average() {
        let mut src = YuvBuffer::new(6, 6);
        {
            let (y, u, v) = src.planes_mut();
            for (i, p) in y.iter_mut().enumerate() {
                *p = (i * 7 % 256) as u8;
            }
            u.fill(100);
            v.fill(200);
        }
        let frame = frame_from(&src);
        let mut scaler = Scaler::new();
        let out = scaler.scale(&frame, 2, 2).unwrap();
        let y = frame.planes()[0];
        for (oy, ox) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            let mut sum = 0u32;
            for dy in 0..3 {
                for dx in 0..3 {
                    sum += u32::from(y[(oy * 3 + dy) * 6 + ox * 3 + dx]);
                }
            }
            let expected = (sum as f64 / 9.0).round() as i32;
            let got = i32::from(out.row(0, oy)[ox]);
            assert!(
                (got - expected).abs() <= 1,
                "({ox},{oy}) {got} vs {expected}"
            );
        }
        assert_eq!(out.row(1, 0), &[100]);
        assert_eq!(out.row(2, 0), &[200]);
    }

    #[test]
    fn flat_planes_stay_flat_at_odd_ratios() {
        let mut src = YuvBuffer::new(101, 77);
        src.planes_mut().0.fill(37);
        let frame = frame_from(&src);
        let mut scaler = Scaler::new();
        let out = scaler.scale(&frame, 46, 34).unwrap();
        assert_eq!((out.width(), out.height()), (46, 34));
        assert!((0..34).all(|r| out.row(0, r).iter().all(|&p| p == 37)));
    }
}
