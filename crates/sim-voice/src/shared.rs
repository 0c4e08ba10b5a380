//! State shared between the server task and handles.

use std::collections::{HashMap, VecDeque};

use crate::core::SessionKey;
use crate::report::{PublishedFrame, ServerReport};

/// Written by the server task, read by `VoiceServerHandle`.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Latest snapshot.
    pub report: ServerReport,
    /// Frames clients published, newest last.
    pub published: HashMap<SessionKey, VecDeque<PublishedFrame>>,
}
