//! State shared between the server task and handles.

use std::collections::{HashMap, VecDeque};

use crate::core::SessionKey;
use crate::report::{PublishedFrame, SentFrame, ServerReport};

/// How many sent-frame records are kept.
pub(crate) const SENT_FRAMES_CAP: usize = 8192;

/// Written by the server task, read by `VoiceServerHandle`.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Latest snapshot.
    pub report: ServerReport,
    /// Frames clients published, newest last.
    pub published: HashMap<SessionKey, VecDeque<PublishedFrame>>,
    /// Generated video frames sent, oldest first (bounded).
    pub sent: VecDeque<SentFrame>,
}
