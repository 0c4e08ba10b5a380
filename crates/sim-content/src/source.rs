//! The trait every picture generator implements, so one H264 wrapper
//! serves them all.

use crate::I420Frame;

/// A deterministic generator of I420 pictures indexed by frame number.
///
/// `render` takes `&mut self` because sources keep a persistent buffer
/// (and may repaint only what changed); the picture for an index must not
/// depend on which indices were rendered before.
pub trait FrameSource {
    /// Frame width in pixels (even).
    fn width(&self) -> u32;
    /// Frame height in pixels (even).
    fn height(&self) -> u32;
    /// Nominal frame rate; frame `n` is shown at `n / fps` seconds.
    fn fps(&self) -> u32;
    /// The picture for `frame_index`, valid until the next call.
    fn render(&mut self, frame_index: u64) -> &I420Frame;
}
