//! Screen geometry: where the taskbar, window, title bar and each scene's
//! text go for a given frame size. Computed once per source; everything is
//! in luma pixels and derived from one font scale so that the picture looks
//! the same (only sharper) at every resolution.

use crate::font::{CELL_H, CELL_W, text_width};

/// An axis-aligned rectangle in luma pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rect {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
}

impl Rect {
    fn new(x: i64, y: i64, w: i64, h: i64) -> Self {
        Self {
            x,
            y,
            w: w.max(0),
            h: h.max(0),
        }
    }

    /// The rectangle shrunk by `d` on every side.
    fn inset(self, d: i64) -> Self {
        Self::new(self.x + d, self.y + d, self.w - 2 * d, self.h - 2 * d)
    }

    /// Bottom edge (exclusive).
    pub fn bottom(self) -> i64 {
        self.y + self.h
    }
}

/// Text rows inside an area: where the first row starts, how far apart rows
/// are, and how many rows and columns fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TextBlock {
    pub x: i64,
    pub y: i64,
    pub step: i64,
    pub rows: usize,
    pub cols: usize,
}

/// Everything the renderer and `text_at` need to agree on.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    /// Font scale for normal text (each font pixel is `s × s`); titles use
    /// `2s`. Chosen from the frame size so text is ~20 px tall at 720p,
    /// comfortably above what tesseract needs.
    pub s: u32,
    pub pad: i64,
    pub line_h: i64,
    pub taskbar: Rect,
    pub taskbar_label: (i64, i64),
    /// The area repainted when only the clock changed.
    pub clock: Rect,
    pub window: Rect,
    pub title_bar: Rect,
    pub title_cols: usize,
    pub body: Rect,
    pub terminal: TextBlock,
    pub slide_title: TextBlock,
    pub slide_bullets: TextBlock,
    pub slide_footer: (i64, i64),
    pub page: Rect,
    pub doc_heading: TextBlock,
    pub doc_lines: TextBlock,
}

/// Characters of the clock text ("HH:MM:SS").
pub(super) const CLOCK_CHARS: usize = 8;

/// How many characters of width `cw` fit in `w` pixels.
fn cols_in(w: i64, cw: i64) -> usize {
    if cw <= 0 { 0 } else { (w.max(0) / cw) as usize }
}

/// How many rows of pitch `step` fit in `h` pixels.
fn rows_in(h: i64, step: i64) -> usize {
    if step <= 0 {
        0
    } else {
        (h.max(0) / step) as usize
    }
}

/// Rounds down to an even number, so big rectangles start on whole chroma
/// samples.
fn even(v: i64) -> i64 {
    v & !1
}

impl Layout {
    /// Geometry for a `width × height` frame (already validated: even and
    /// at least the source's minimum size).
    pub(super) fn new(width: u32, height: u32) -> Self {
        let s = (height / 240).min(width / 320).max(2);
        let (w, h) = (i64::from(width), i64::from(height));
        let si = i64::from(s);
        let pad = 2 * si;
        let char_w = i64::from(CELL_W) * si;
        let line_h = i64::from(CELL_H) * si;

        let bar_h = line_h + 2 * pad;
        let taskbar = Rect::new(0, h - bar_h, w, bar_h);
        let clock_w = text_width(CLOCK_CHARS, s);
        let clock = Rect::new(w - clock_w - 6 * pad, taskbar.y, clock_w + 2 * pad, bar_h);

        let (mx, my) = (even(w / 24), even(h / 30));
        let window = Rect::new(mx, my, w - 2 * mx, taskbar.y - 2 * my);
        let border = (si / 2).max(1);
        let title_bar = Rect::new(
            window.x + border,
            window.y + border,
            window.w - 2 * border,
            bar_h,
        );
        let body = Rect::new(
            window.x + border,
            title_bar.bottom(),
            window.w - 2 * border,
            window.bottom() - border - title_bar.bottom(),
        );
        // Leave room on the right of the title bar for three window buttons.
        let title_cols = cols_in(title_bar.w - 2 * pad - 3 * bar_h, char_w);

        let inner = body.inset(pad);
        let terminal = TextBlock {
            x: inner.x,
            y: inner.y,
            step: line_h,
            rows: rows_in(inner.h, line_h),
            cols: cols_in(inner.w, char_w),
        };

        let slide_area = body.inset(3 * pad);
        let slide_title = TextBlock {
            x: slide_area.x,
            y: slide_area.y,
            step: 2 * line_h,
            rows: 1,
            cols: cols_in(slide_area.w, 2 * char_w),
        };
        let footer_y = slide_area.bottom() - line_h;
        let bullets_y = slide_area.y + 2 * line_h + 2 * pad;
        let bullet_step = line_h + line_h / 2;
        let slide_bullets = TextBlock {
            x: slide_area.x + pad,
            y: bullets_y,
            step: bullet_step,
            rows: rows_in(footer_y - pad - bullets_y, bullet_step),
            cols: cols_in(slide_area.w - pad, char_w),
        };

        let page_cols = cols_in(body.w - 8 * pad, char_w).min(72);
        let page_w = page_cols as i64 * char_w + 4 * pad;
        let page = Rect::new(
            even(body.x + (body.w - page_w) / 2),
            body.y + 2 * pad,
            page_w,
            body.h - 2 * pad,
        );
        let doc_heading = TextBlock {
            x: page.x + 2 * pad,
            y: page.y + 2 * pad,
            step: line_h,
            rows: 1,
            cols: page_cols,
        };
        let lines_y = doc_heading.y + line_h + 2 * pad;
        let doc_lines = TextBlock {
            x: doc_heading.x,
            y: lines_y,
            step: line_h,
            rows: rows_in(page.bottom() - pad - lines_y, line_h),
            cols: page_cols,
        };

        Self {
            s,
            pad,
            line_h,
            taskbar,
            taskbar_label: (3 * pad, taskbar.y + pad),
            clock,
            window,
            title_bar,
            title_cols,
            body,
            terminal,
            slide_title,
            slide_bullets,
            slide_footer: (slide_area.x, footer_y),
            page,
            doc_heading,
            doc_lines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_grows_with_resolution() {
        assert_eq!(Layout::new(640, 360).s, 2);
        assert_eq!(Layout::new(1280, 720).s, 3);
        assert_eq!(Layout::new(1920, 1080).s, 4);
    }

    #[test]
    fn regions_nest_inside_the_frame() {
        for (w, h) in [
            (480, 270),
            (640, 360),
            (1280, 720),
            (1920, 1080),
            (400, 1200),
        ] {
            let l = Layout::new(w, h);
            let (w, h) = (i64::from(w), i64::from(h));
            assert!(l.body.x >= l.window.x && l.body.bottom() <= l.window.bottom());
            assert!(l.window.bottom() <= l.taskbar.y);
            assert!(l.clock.x >= 0 && l.clock.x + l.clock.w <= w && l.taskbar.bottom() == h);
            assert!(l.terminal.rows >= 3, "{w}x{h}: {:?}", l.terminal);
            assert!(
                l.doc_lines.rows >= 1 && l.slide_bullets.rows >= 1,
                "{w}x{h}"
            );
            let last = l.terminal.y + l.terminal.rows as i64 * l.terminal.step;
            assert!(last <= l.body.bottom());
        }
    }
}
