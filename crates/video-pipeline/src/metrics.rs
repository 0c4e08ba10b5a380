//! Visual change metrics: a 64×36 grid of average luma, compared frame to
//! frame, with an EMA and scene-cut detection.
//!
//! The reference samples one pixel per cell (aliasing on text) and compares
//! each decoded frame only with the previous decoded frame, so a cut that
//! lands on a frame the rate gate drops is never reported. Here each cell is
//! the true area average of the Y plane, every decoded frame is scored, and
//! the tracker also remembers the grid of the last *emitted* frame so the
//! emitted frame can report what changed since the viewer last saw a picture.

use crate::frame::YuvFrame;

/// Grid columns.
pub const GRID_COLS: usize = 64;
/// Grid rows.
pub const GRID_ROWS: usize = 36;
/// Cells per grid.
pub const GRID_CELLS: usize = GRID_COLS * GRID_ROWS;
/// Cells with at least this many rows are sampled on every other row.
pub const ROW_SAMPLING_MIN_ROWS: usize = 8;
/// EMA smoothing factor applied per emitted frame.
pub const EMA_ALPHA: f32 = 0.35;
/// A change score at or above this is a scene cut.
pub const SCENE_CUT_THRESHOLD: f32 = 0.40;

/// Average luma of each cell of a 64×36 grid laid over the picture.
#[derive(Clone, PartialEq, Eq)]
pub struct LumaGrid {
    cells: [u8; GRID_CELLS],
}

impl std::fmt::Debug for LumaGrid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mean = self.cells.iter().map(|&c| u32::from(c)).sum::<u32>() / GRID_CELLS as u32;
        f.debug_struct("LumaGrid")
            .field("mean", &mean)
            .finish_non_exhaustive()
    }
}

/// Half-open source range covered by grid cell `i` of `n` over `len` samples;
/// never empty, even when `len < n` (cells then share samples).
fn cell_range(i: usize, n: usize, len: usize) -> (usize, usize) {
    let start = i * len / n;
    let end = ((i + 1) * len / n).max(start + 1).min(len.max(1));
    (start, end)
}

impl LumaGrid {
    /// A grid with every cell set to `value`.
    #[must_use]
    pub const fn uniform(value: u8) -> Self {
        Self {
            cells: [value; GRID_CELLS],
        }
    }

    /// Builds a grid from cell values in row-major order; `None` unless
    /// exactly [`GRID_CELLS`] values are given.
    #[must_use]
    pub fn from_cells(cells: &[u8]) -> Option<Self> {
        Some(Self {
            cells: cells.try_into().ok()?,
        })
    }

    /// Area-averages a luma plane (`width`×`height` at `stride`). Rows the
    /// plane is too short for count as black; callers pass validated planes.
    ///
    /// Cells at least [`ROW_SAMPLING_MIN_ROWS`] rows tall (planes from
    /// 288 rows up) average every other row: half the memory reads on HD
    /// frames, and a cell still averages 15+ rows × 20+ columns at 720p.
    #[must_use]
    pub fn from_luma(plane: &[u8], stride: usize, width: usize, height: usize) -> Self {
        let mut cells = [0u8; GRID_CELLS];
        if width == 0 || height == 0 {
            return Self { cells };
        }
        let columns: [(usize, usize); GRID_COLS] =
            std::array::from_fn(|gx| cell_range(gx, GRID_COLS, width));
        let mut sums = [0u32; GRID_COLS];
        for gy in 0..GRID_ROWS {
            let (y0, y1) = cell_range(gy, GRID_ROWS, height);
            let step = if y1 - y0 >= ROW_SAMPLING_MIN_ROWS {
                2
            } else {
                1
            };
            let rows = (y1 - y0).div_ceil(step);
            sums.fill(0);
            for y in (y0..y1).step_by(step) {
                let row = y
                    .checked_mul(stride)
                    .and_then(|start| plane.get(start..start.checked_add(width)?))
                    .unwrap_or(&[]);
                for (sum, &(x0, x1)) in sums.iter_mut().zip(&columns) {
                    if let Some(span) = row.get(x0..x1) {
                        *sum += span.iter().map(|&p| u32::from(p)).sum::<u32>();
                    }
                }
            }
            let row_cells = &mut cells[gy * GRID_COLS..(gy + 1) * GRID_COLS];
            for ((cell, sum), &(x0, x1)) in row_cells.iter_mut().zip(sums).zip(&columns) {
                let area = ((x1 - x0) * rows) as u32;
                *cell = ((sum + area / 2) / area) as u8;
            }
        }
        Self { cells }
    }

    /// Grid of a frame's Y plane.
    #[must_use]
    pub fn from_frame(frame: &YuvFrame<'_>) -> Self {
        Self::from_luma(
            frame.planes()[0],
            frame.strides()[0],
            frame.width(),
            frame.height(),
        )
    }

    /// Cell values, row-major, 64 per row.
    #[must_use]
    pub const fn cells(&self) -> &[u8; GRID_CELLS] {
        &self.cells
    }

    /// Mean absolute difference between two grids, scaled to `[0, 1]`
    /// (`Σ|a−b| / (cells · 255)`).
    #[must_use]
    pub fn change_score(&self, other: &Self) -> f32 {
        let total: u32 = self
            .cells
            .iter()
            .zip(&other.cells)
            .map(|(&a, &b)| u32::from(a.abs_diff(b)))
            .sum();
        total as f32 / (GRID_CELLS as f32 * 255.0)
    }
}

/// What one decoded frame changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameChange {
    /// Score against the previous decoded frame (0 for the first frame).
    pub vs_previous: f32,
    /// Score against the last emitted frame (0 before any emission).
    pub vs_emitted: f32,
    /// `vs_previous ≥ 0.40`.
    pub scene_cut: bool,
}

/// The change report carried by an emitted frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmissionChange {
    /// Score of this frame against the previously emitted frame (0 for the
    /// first emission): "how different is what the viewer sees now".
    pub change_score: f32,
    /// EMA over emitted frames' `change_score` (α = 0.35, starts at 0), so
    /// its time window is set by the emission rate, not the decode rate.
    pub ema_score: f32,
    /// A scene cut happened since the last emission: some decoded frame in
    /// between (this one included) scored ≥ 0.40 against its predecessor, or
    /// this frame scores ≥ 0.40 against the last emitted one.
    pub scene_cut: bool,
    /// Largest frame-to-frame score among the decoded frames since the last
    /// emission (this one included): catches a flash that came and went.
    pub peak_frame_change: f32,
}

/// Tracks change across decoded and emitted frames of one stream.
///
/// Drive it with [`observe`](Self::observe) for every decoded frame and
/// [`commit_emission`](Self::commit_emission) when that frame is emitted.
#[derive(Debug, Clone, Default)]
pub struct ChangeTracker {
    /// Grid of the most recent decoded frame.
    previous: Option<LumaGrid>,
    /// Grid of the most recent emitted frame.
    emitted: Option<LumaGrid>,
    ema: f32,
    /// A cut was seen between decoded frames since the last emission.
    cut_since_emission: bool,
    peak_since_emission: f32,
    /// Score of the latest observed frame against the last emitted one.
    latest_vs_emitted: f32,
}

impl ChangeTracker {
    /// A tracker with no history.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Scores a decoded frame's grid and makes it the "previous" frame.
    pub fn observe(&mut self, grid: LumaGrid) -> FrameChange {
        let vs_previous = self.previous.as_ref().map_or(0.0, |p| grid.change_score(p));
        let vs_emitted = self.emitted.as_ref().map_or(0.0, |e| grid.change_score(e));
        let scene_cut = vs_previous >= SCENE_CUT_THRESHOLD;
        self.cut_since_emission |= scene_cut;
        self.peak_since_emission = self.peak_since_emission.max(vs_previous);
        self.latest_vs_emitted = vs_emitted;
        self.previous = Some(grid);
        FrameChange {
            vs_previous,
            vs_emitted,
            scene_cut,
        }
    }

    /// Declares the most recently observed frame emitted: produces its
    /// report, updates the EMA and makes it the new emission reference.
    pub fn commit_emission(&mut self) -> EmissionChange {
        let change_score = self.latest_vs_emitted;
        self.ema = EMA_ALPHA * change_score + (1.0 - EMA_ALPHA) * self.ema;
        let report = EmissionChange {
            change_score,
            ema_score: self.ema,
            scene_cut: self.cut_since_emission || change_score >= SCENE_CUT_THRESHOLD,
            peak_frame_change: self.peak_since_emission,
        };
        self.emitted.clone_from(&self.previous);
        self.cut_since_emission = false;
        self.peak_since_emission = 0.0;
        self.latest_vs_emitted = 0.0;
        report
    }

    /// Current EMA value.
    #[must_use]
    pub const fn ema(&self) -> f32 {
        self.ema
    }

    /// Forgets all history (new stream).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid_with(first_half: u8, second_half: u8) -> LumaGrid {
        let mut cells = [first_half; GRID_CELLS];
        cells[GRID_CELLS / 2..].fill(second_half);
        LumaGrid::from_cells(&cells).unwrap()
    }

    #[test]
    fn score_is_mean_absolute_difference_over_255() {
        let black = LumaGrid::uniform(0);
        assert_eq!(black.change_score(&LumaGrid::uniform(255)), 1.0);
        assert_eq!(black.change_score(&black), 0.0);
        // Half the cells differ by 255: 0.5. A quarter-amplitude everywhere: 0.25.
        assert!((black.change_score(&grid_with(0, 255)) - 0.5).abs() < 1e-6);
        let quarter = LumaGrid::uniform(51);
        assert!((black.change_score(&quarter) - 0.2).abs() < 1e-6);
    }

    #[test]
    fn grid_cells_are_area_averages() {
        // 128×72 luma: each cell is 2×2. Pixels alternate 0/200 by column,
        // so every cell averages exactly 100 (a point sample would give 0).
        let (w, h) = (128, 72);
        let plane: Vec<u8> = (0..w * h)
            .map(|i| if i % 2 == 0 { 0 } else { 200 })
            .collect();
        let grid = LumaGrid::from_luma(&plane, w, w, h);
        assert!(grid.cells().iter().all(|&c| c == 100));
        // A bright block over the top-left 4×4 pixels lights exactly 2×2 cells.
        let mut plane = vec![10u8; w * h];
        for y in 0..4 {
            plane[y * w..y * w + 4].fill(250);
        }
        let grid = LumaGrid::from_luma(&plane, w, w, h);
        assert_eq!(grid.cells()[..3], [250, 250, 10]);
        assert_eq!(grid.cells()[GRID_COLS..GRID_COLS + 3], [250, 250, 10]);
        assert_eq!(grid.cells()[2 * GRID_COLS], 10);
    }

    #[test]
    fn tiny_and_short_planes_do_not_panic() {
        let grid = LumaGrid::from_luma(&[9, 9, 9, 9], 2, 2, 2);
        assert!(grid.cells().iter().all(|&c| c == 9));
        let _ = LumaGrid::from_luma(&[1, 2], 100, 100, 100);
        let _ = LumaGrid::from_luma(&[], 0, 0, 0);
    }

    #[test]
    fn ema_follows_hand_computed_values() {
        // Emitted change scores 0.5, 0.0, 1.0:
        //   ema1 = 0.35·0.5                 = 0.175
        //   ema2 = 0.65·0.175               = 0.11375
        //   ema3 = 0.35·1.0 + 0.65·0.11375  = 0.4239375
        let mut tracker = ChangeTracker::new();
        let frames = [
            LumaGrid::uniform(0),
            grid_with(0, 255),
            grid_with(0, 255),
            grid_with(255, 0),
        ];
        let mut reports = Vec::new();
        for grid in frames {
            tracker.observe(grid);
            reports.push(tracker.commit_emission());
        }
        let scores: Vec<f32> = reports.iter().map(|r| r.change_score).collect();
        assert_eq!(scores, [0.0, 0.5, 0.0, 1.0]);
        let emas: Vec<f32> = reports.iter().map(|r| r.ema_score).collect();
        for (got, want) in emas.iter().zip([0.0, 0.175, 0.11375, 0.4239375]) {
            assert!((got - want).abs() < 1e-6, "{emas:?}");
        }
        assert!(reports[1].scene_cut && !reports[2].scene_cut && reports[3].scene_cut);
    }

    #[test]
    fn cut_between_emissions_is_carried_to_the_next_emission() {
        let mut tracker = ChangeTracker::new();
        tracker.observe(LumaGrid::uniform(200));
        tracker.commit_emission();
        // Not emitted: a cut to black (0.784), then a slow climb back in
        // steps of 60 (0.235 each, no cut).
        assert!(tracker.observe(LumaGrid::uniform(0)).scene_cut);
        for v in [60, 120] {
            assert!(!tracker.observe(LumaGrid::uniform(v)).scene_cut);
        }
        let last = tracker.observe(LumaGrid::uniform(180));
        assert!((last.vs_emitted - 20.0 / 255.0).abs() < 1e-6);
        let report = tracker.commit_emission();
        assert!(report.scene_cut, "the cut on a dropped frame is reported");
        assert!((report.change_score - 20.0 / 255.0).abs() < 1e-6);
        assert!((report.peak_frame_change - 200.0 / 255.0).abs() < 1e-6);
        // The next emission starts a clean window.
        tracker.observe(LumaGrid::uniform(181));
        let next = tracker.commit_emission();
        assert!(!next.scene_cut);
        assert!((next.peak_frame_change - 1.0 / 255.0).abs() < 1e-6);
    }
}
