//! State shared between the server task, the recorder thread and handles.

use std::collections::{HashMap, VecDeque};

use crate::core::SessionKey;
use crate::recorder::{RecorderReport, RecordingStore};
use crate::report::{PublishedFrame, SentFrame, ServerReport};

/// How many sent-frame records are kept.
pub(crate) const SENT_FRAMES_CAP: usize = 8192;

/// Written by the server task and the recorder thread, read by
/// `VoiceServerHandle`.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Latest snapshot.
    pub report: ServerReport,
    /// Frames clients published, newest last.
    pub published: HashMap<SessionKey, VecDeque<PublishedFrame>>,
    /// Generated video frames sent, oldest first (bounded).
    pub sent: VecDeque<SentFrame>,
    /// Finished utterances of clients (bounded: 10 minutes of audio).
    pub recordings: RecordingStore,
    /// The recorder's counters.
    pub recorder: RecorderReport,
}
