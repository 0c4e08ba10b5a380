//! The Go Live streamer's picture: a desktop with one application window
//! whose text changes over time, cut by a hard scene change every
//! `scene_period` frames.

mod content;
mod layout;

use crate::font::{CELL_W, draw_text};
use crate::frame::{I420Frame, Rgb, Yuv, check_dimensions};
use crate::rng::mix;
use crate::{FrameSource, SimMediaError};
use layout::{Layout, Rect, TextBlock};

/// Smallest supported screen: below this the window holds too few lines to
/// look like anything.
const MIN_W: u32 = 480;
/// See [`MIN_W`].
const MIN_H: u32 = 270;

/// Parameters of a [`ScreenSource`]. Build with [`ScreenConfig::new`] and
/// adjust the public fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenConfig {
    /// Frame width in pixels (even, 480..=3840).
    pub width: u32,
    /// Frame height in pixels (even, 270..=2160).
    pub height: u32,
    /// Frames per second; the clock ticks every `fps` frames and the cursor
    /// blinks twice a second.
    pub fps: u32,
    /// Selects all text and colours; the same seed gives the same frames.
    pub seed: u64,
    /// Frames between hard scene changes.
    pub scene_period: u64,
    /// Frames between two appended lines of text.
    pub line_period: u64,
}

impl ScreenConfig {
    /// 30 fps, seed 1, a scene change every 10 s and a new line every second.
    #[must_use]
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            fps: 30,
            seed: 1,
            scene_period: 300,
            line_period: 30,
        }
    }
}

/// The kind of picture a scene shows. Scenes cycle through the kinds in
/// declaration order, so consecutive scenes always differ in layout and
/// brightness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScreenScene {
    /// Near-black terminal; a log line is appended every `line_period`
    /// frames (once full, the bottom line is replaced instead); blinking
    /// cursor.
    Terminal,
    /// Blue slide with a large title; one bullet appears per `line_period`.
    Slide,
    /// White document page on grey; one line is typed per `line_period`
    /// (once full, the bottom line is rewritten instead).
    Document,
}

/// Which scene a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SceneInfo {
    /// The kind of picture.
    pub kind: ScreenScene,
    /// Scene number since frame 0 (`frame_index / scene_period`); all text
    /// of the scene derives from it.
    pub ordinal: u64,
    /// First frame of the scene.
    pub start_frame: u64,
}

/// What a frame shows, as text plus the bits that are not text. Rendering
/// and [`ScreenSource::text_at`] both derive from this, so they cannot
/// disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Composition {
    scene: SceneInfo,
    window_title: String,
    /// Slide title or document heading (empty for the terminal).
    header: Vec<String>,
    body: Vec<String>,
    footer: Vec<String>,
    cursor_on: bool,
    clock: String,
}

/// Label drawn at the left of the taskbar.
const TASKBAR_LABEL: &str = "Activities";

/// Screen-like I420 frames with readable, changing text.
///
/// Rendering is incremental: the frame buffer persists between calls and
/// only the regions whose content changed are repainted (everything on a
/// scene change, the window body when a line is added or the cursor
/// blinks, the clock once a second). Each region is repainted completely
/// from the composition, so the result for a frame index does not depend on
/// which frames were rendered before it.
#[derive(Debug, Clone)]
pub struct ScreenSource {
    config: ScreenConfig,
    layout: Layout,
    frame: I420Frame,
    /// What `frame` currently shows; `None` before the first render.
    drawn: Option<Composition>,
}

impl ScreenSource {
    /// Validates the configuration and prepares the (not yet drawn) buffer.
    ///
    /// # Errors
    /// [`SimMediaError::InvalidDimensions`] for odd, too small (< 480×270) or
    /// too large sizes; [`SimMediaError::InvalidConfig`] for a zero fps or
    /// period.
    pub fn new(config: ScreenConfig) -> Result<Self, SimMediaError> {
        check_dimensions(config.width, config.height, MIN_W, MIN_H)?;
        if config.fps == 0 {
            return Err(SimMediaError::InvalidConfig("fps must be positive"));
        }
        if config.scene_period == 0 || config.line_period == 0 {
            return Err(SimMediaError::InvalidConfig(
                "scene_period and line_period must be positive",
            ));
        }
        let layout = Layout::new(config.width, config.height);
        let frame = I420Frame::new(config.width, config.height, Rgb(0, 0, 0).to_yuv());
        Ok(Self {
            config,
            layout,
            frame,
            drawn: None,
        })
    }

    /// The configuration this source was built with.
    #[must_use]
    pub fn config(&self) -> &ScreenConfig {
        &self.config
    }

    /// The scene shown at `frame_index`.
    #[must_use]
    pub fn scene_at(&self, frame_index: u64) -> SceneInfo {
        let ordinal = frame_index / self.config.scene_period;
        let kind = match ordinal % 3 {
            0 => ScreenScene::Terminal,
            1 => ScreenScene::Slide,
            _ => ScreenScene::Document,
        };
        SceneInfo {
            kind,
            ordinal,
            start_frame: ordinal * self.config.scene_period,
        }
    }

    /// Every line of text visible at `frame_index`, top to bottom: window
    /// title, slide title or document heading, body lines, slide footer,
    /// taskbar label, clock. Exactly the strings drawn (before scaling).
    #[must_use]
    pub fn text_at(&self, frame_index: u64) -> Vec<String> {
        let c = self.compose(frame_index);
        let mut out = vec![c.window_title];
        out.extend(c.header);
        out.extend(c.body);
        out.extend(c.footer);
        out.push(TASKBAR_LABEL.to_string());
        out.push(c.clock);
        out
    }

    /// Renders `frame_index` into the persistent buffer and returns it.
    pub fn render(&mut self, frame_index: u64) -> &I420Frame {
        let next = self.compose(frame_index);
        let prev = self.drawn.take();
        let full = prev.as_ref().is_none_or(|p| p.scene != next.scene);
        if full {
            self.draw_chrome(&next);
        }
        if full
            || prev
                .as_ref()
                .is_some_and(|p| p.body != next.body || p.cursor_on != next.cursor_on)
        {
            self.draw_body(&next);
        }
        if full || prev.as_ref().is_some_and(|p| p.clock != next.clock) {
            self.draw_clock(&next.clock);
        }
        self.drawn = Some(next);
        &self.frame
    }

    /// Builds the composition of a frame from the config alone.
    fn compose(&self, frame_index: u64) -> Composition {
        let cfg = &self.config;
        let l = &self.layout;
        let scene = self.scene_at(frame_index);
        let (seed, ord) = (cfg.seed, scene.ordinal);
        let ticks = (frame_index - scene.start_frame) / cfg.line_period;
        let fit = content::fit;
        let (window_title, header, body, footer) = match scene.kind {
            ScreenScene::Terminal => {
                let b = l.terminal;
                let shown = (b.rows as u64 / 2).max(1) + ticks;
                let body = visible_lines(shown, b.rows)
                    .map(|k| fit(content::terminal_line(seed, ord, k), b.cols))
                    .collect();
                (content::terminal_title(seed, ord), vec![], body, vec![])
            }
            ScreenScene::Slide => {
                let b = l.slide_bullets;
                let shown = (1 + ticks).min(b.rows as u64);
                let body = (0..shown)
                    .map(|k| fit(content::slide_bullet(seed, ord, k), b.cols))
                    .collect();
                (
                    content::slide_window_title(seed, ord),
                    vec![content::fit_words(
                        content::slide_title(seed, ord),
                        l.slide_title.cols,
                    )],
                    body,
                    vec![content::slide_footer(seed, ord)],
                )
            }
            ScreenScene::Document => {
                let b = l.doc_lines;
                let shown = 2 + ticks;
                let body = visible_lines(shown, b.rows)
                    .map(|k| fit(content::document_line(seed, ord, k, b.cols), b.cols))
                    .collect();
                (
                    content::document_window_title(seed, ord),
                    vec![content::fit_words(
                        content::document_heading(seed, ord),
                        l.doc_heading.cols,
                    )],
                    body,
                    vec![],
                )
            }
        };
        Composition {
            scene,
            window_title: fit(window_title, l.title_cols),
            header,
            body,
            footer,
            cursor_on: scene.kind == ScreenScene::Terminal
                && (frame_index * 2 / u64::from(cfg.fps)).is_multiple_of(2),
            clock: content::clock_text(seed, frame_index, cfg.fps),
        }
    }

    /// Desktop, taskbar and window frame: everything that only changes with
    /// the scene.
    fn draw_chrome(&mut self, c: &Composition) {
        let l = &self.layout;
        let f = &mut self.frame;
        let s = l.s;
        let theme = Theme::of(c.scene.kind);
        let desk =
            DESKTOPS[(mix(self.config.seed ^ c.scene.ordinal) % DESKTOPS.len() as u64) as usize];
        fill(
            f,
            Rect {
                x: 0,
                y: 0,
                w: i64::from(self.config.width),
                h: i64::from(self.config.height),
            },
            desk.to_yuv(),
        );
        fill(f, l.taskbar, TASKBAR.to_yuv());
        draw_text(
            f,
            l.taskbar_label.0,
            l.taskbar_label.1,
            s,
            TASKBAR_LABEL,
            TASKBAR_TEXT.to_yuv(),
        );
        fill(f, l.window, WINDOW_BORDER.to_yuv());
        fill(f, l.title_bar, theme.title_bar.to_yuv());
        draw_text(
            f,
            l.title_bar.x + l.pad * 2,
            l.title_bar.y + l.pad,
            s,
            &c.window_title,
            theme.title_text.to_yuv(),
        );
        // Three window buttons (minimise, maximise, close) on the right.
        let b = l.line_h - l.pad;
        for (i, colour) in [Rgb(240, 190, 50), Rgb(90, 190, 80), Rgb(220, 70, 60)]
            .iter()
            .enumerate()
        {
            let x = l.title_bar.x + l.title_bar.w - (3 - i as i64) * (b + l.pad * 2);
            fill(
                f,
                Rect {
                    x,
                    y: l.title_bar.y + l.pad + l.pad / 2,
                    w: b,
                    h: b,
                },
                colour.to_yuv(),
            );
        }
    }

    /// The window body for the current kind.
    fn draw_body(&mut self, c: &Composition) {
        let l = &self.layout;
        let f = &mut self.frame;
        let s = l.s;
        let theme = Theme::of(c.scene.kind);
        fill(f, l.body, theme.body.to_yuv());
        match c.scene.kind {
            ScreenScene::Terminal => {
                let b = l.terminal;
                for (i, line) in c.body.iter().enumerate() {
                    let colour = if line.starts_with('$') || line.contains("$ ") {
                        Rgb(120, 220, 120)
                    } else if line.starts_with("WARN") {
                        Rgb(240, 200, 80)
                    } else {
                        theme.text
                    };
                    draw_text(f, b.x, row_y(b, i), s, line, colour.to_yuv());
                }
                if c.cursor_on {
                    let last = c.body.len().saturating_sub(1);
                    // Capped so the cursor block stays inside the body, which is the
                    // only region repainted when the cursor blinks.
                    let len = c
                        .body
                        .last()
                        .map_or(0, String::len)
                        .min(b.cols.saturating_sub(2));
                    let cw = i64::from(CELL_W * s);
                    let x = b.x + len as i64 * cw + cw;
                    fill(
                        f,
                        Rect {
                            x,
                            y: row_y(b, last),
                            w: cw - i64::from(s),
                            h: 7 * i64::from(s),
                        },
                        theme.text.to_yuv(),
                    );
                }
            }
            ScreenScene::Slide => {
                let t = l.slide_title;
                for line in &c.header {
                    draw_text(f, t.x, t.y, 2 * s, line, Rgb(255, 255, 255).to_yuv());
                    let w = crate::font::text_width(line.len(), 2 * s);
                    fill(
                        f,
                        Rect {
                            x: t.x,
                            y: t.y + 2 * l.line_h - l.pad,
                            w,
                            h: i64::from(s),
                        },
                        Rgb(255, 200, 60).to_yuv(),
                    );
                }
                let b = l.slide_bullets;
                for (i, line) in c.body.iter().enumerate() {
                    draw_text(f, b.x, row_y(b, i), s, line, theme.text.to_yuv());
                }
                for line in &c.footer {
                    draw_text(
                        f,
                        l.slide_footer.0,
                        l.slide_footer.1,
                        s,
                        line,
                        Rgb(170, 200, 240).to_yuv(),
                    );
                }
            }
            ScreenScene::Document => {
                fill(f, l.page, Rgb(255, 255, 255).to_yuv());
                let h = l.doc_heading;
                for line in &c.header {
                    draw_text(f, h.x, h.y, s, line, Rgb(20, 50, 130).to_yuv());
                    let w = crate::font::text_width(line.len(), s);
                    fill(
                        f,
                        Rect {
                            x: h.x,
                            y: h.y + l.line_h,
                            w,
                            h: i64::from(s),
                        },
                        Rgb(20, 50, 130).to_yuv(),
                    );
                }
                let b = l.doc_lines;
                for (i, line) in c.body.iter().enumerate() {
                    draw_text(f, b.x, row_y(b, i), s, line, theme.text.to_yuv());
                }
            }
        }
    }

    /// The taskbar clock (repainted once a second).
    fn draw_clock(&mut self, clock: &str) {
        let l = &self.layout;
        fill(&mut self.frame, l.clock, TASKBAR.to_yuv());
        draw_text(
            &mut self.frame,
            l.clock.x + l.pad,
            l.clock.y + l.pad,
            l.s,
            clock,
            TASKBAR_TEXT.to_yuv(),
        );
    }
}

impl FrameSource for ScreenSource {
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
        ScreenSource::render(self, frame_index)
    }
}

/// Line numbers shown when `shown` lines have been produced and `rows` fit.
///
/// While there is room, lines accumulate. Once full, the first `rows - 1`
/// lines stay and the last row shows the newest line (a status line being
/// rewritten). Scrolling would move every line and make an ordinary tick
/// look almost as large as a scene change to a pixel-difference detector;
/// this keeps ticks small while the text still changes every
/// `line_period`.
fn visible_lines(shown: u64, rows: usize) -> impl Iterator<Item = u64> {
    let rows = rows as u64;
    let fixed = if shown > rows {
        rows.saturating_sub(1)
    } else {
        shown
    };
    (0..fixed).chain((shown > rows).then(|| shown - 1))
}

/// Top of text row `i` in a block.
fn row_y(b: TextBlock, i: usize) -> i64 {
    b.y + i as i64 * b.step
}

/// Fills a layout rectangle.
fn fill(f: &mut I420Frame, r: Rect, c: Yuv) {
    f.fill_rect(r.x, r.y, r.w, r.h, c);
}

/// Desktop wallpaper colours; the scene ordinal picks one.
const DESKTOPS: [Rgb; 6] = [
    Rgb(58, 110, 165),
    Rgb(96, 72, 140),
    Rgb(46, 125, 90),
    Rgb(150, 90, 60),
    Rgb(70, 80, 95),
    Rgb(160, 120, 40),
];
const TASKBAR: Rgb = Rgb(228, 228, 234);
const TASKBAR_TEXT: Rgb = Rgb(20, 20, 24);
const WINDOW_BORDER: Rgb = Rgb(90, 90, 100);

/// Per-kind colours. The body luma differs strongly between kinds (dark,
/// mid, bright) so a scene change moves the mean luma a lot.
struct Theme {
    title_bar: Rgb,
    title_text: Rgb,
    body: Rgb,
    text: Rgb,
}

impl Theme {
    fn of(kind: ScreenScene) -> Self {
        match kind {
            ScreenScene::Terminal => Self {
                title_bar: Rgb(60, 60, 64),
                title_text: Rgb(230, 230, 230),
                body: Rgb(22, 22, 24),
                text: Rgb(215, 215, 215),
            },
            ScreenScene::Slide => Self {
                title_bar: Rgb(200, 70, 40),
                title_text: Rgb(255, 255, 255),
                body: Rgb(32, 96, 176),
                text: Rgb(235, 240, 255),
            },
            ScreenScene::Document => Self {
                title_bar: Rgb(225, 225, 230),
                title_text: Rgb(30, 30, 30),
                body: Rgb(180, 180, 186),
                text: Rgb(25, 25, 25),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::visible_lines;

    #[test]
    fn lines_accumulate_then_last_row_is_replaced() {
        let v = |shown, rows| visible_lines(shown, rows).collect::<Vec<_>>();
        assert_eq!(v(0, 3), Vec::<u64>::new());
        assert_eq!(v(2, 3), vec![0, 1]);
        assert_eq!(v(3, 3), vec![0, 1, 2]);
        assert_eq!(v(4, 3), vec![0, 1, 3]);
        assert_eq!(v(9, 3), vec![0, 1, 8]);
        assert_eq!(v(5, 1), vec![4]);
    }
}
