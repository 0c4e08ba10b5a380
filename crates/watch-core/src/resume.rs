//! Watches carried over a restart of control: whether a stored watch is
//! taken up again once the new gateway session has refilled the registry.

use crate::plan::{Watch, WatchTransport};
use crate::registry::Registry;

/// What to do with a stored watch right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeDecision {
    /// Take it up again under its id.
    Resume,
    /// The registry does not know its place yet: ask again later.
    Wait,
    /// It cannot continue; the reason is a stable snake_case name.
    Drop(&'static str),
}

/// Decides whether `w` (restored from the store) resumes. `window_over`:
/// the adoption window after the gateway's READY has passed, so an
/// unknown place will not become known any more.
pub fn resume_decision(registry: &Registry, w: &Watch, window_over: bool) -> ResumeDecision {
    if !registry.knows_guild(w.guild) {
        return if window_over {
            ResumeDecision::Drop("place_unknown_after_restart")
        } else {
            ResumeDecision::Wait
        };
    }
    let Some(channel) = registry.voice_channel(w.guild, w.target) else {
        return ResumeDecision::Drop("target_left_voice");
    };
    if w.channel.is_some_and(|c| c != channel) {
        return ResumeDecision::Drop("target_moved_channel");
    }
    match w.transport {
        WatchTransport::Native { stream_key } => {
            if registry.go_live_key(w.guild, w.target) != Some(stream_key) {
                return ResumeDecision::Drop("target_stopped_go_live");
            }
        }
        WatchTransport::Webcam => {
            if !registry.has_webcam(w.guild, w.target) {
                return ResumeDecision::Drop("target_stopped_webcam");
            }
        }
        // The share session's own rules (expiry, presence) decide.
        WatchTransport::Link => {}
    }
    if w.requesters
        .iter()
        .all(|r| registry.voice_channel(w.guild, *r).is_none())
    {
        return ResumeDecision::Drop("requester_left_voice");
    }
    ResumeDecision::Resume
}
