//! What the brain shows: the dashboard's and `GET /api/voice/state`'s
//! views, and the context a conversation turn is answered from.

use std::sync::Arc;

use serde::Serialize;

/// One commentary line, as posted.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentaryEntry {
    /// Trigger (`share_start`, `change_detected`, `interval`).
    pub trigger: String,
    /// The text.
    pub text: String,
    /// Posted to the text channel.
    pub posted: bool,
    /// Queued to be spoken in the voice channel.
    pub spoken: bool,
    /// Seconds since the watch began.
    pub at_secs: f64,
}

/// What the dashboard and `GET /api/voice/state` show.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrainView {
    /// Provider in use.
    pub provider: String,
    /// The watch followed.
    pub watch_id: Option<u64>,
    /// Frames admitted.
    pub frames: u64,
    /// Notes, oldest first.
    pub notes: Vec<String>,
    /// The note context exactly as injected into prompts.
    pub prompt_context: String,
    /// Commentary so far.
    pub commentary: Vec<CommentaryEntry>,
    /// LLM failures (the loops carry on).
    pub llm_errors: u64,
    /// The running session summary (evicted notes folded in).
    pub summary: String,
    /// The recap of the last watch that ended, and whether it was saved.
    pub last_recap: Option<RecapView>,
    /// The notes of the watch that ended, kept for prompts marked inactive
    /// ("earlier notes only, not live") until a new watch starts or the
    /// session memory is compacted.
    pub earlier: Option<EarlierView>,
    /// Conversation turns being answered now (commentary waits for them).
    pub turns_in_flight: u32,
    /// Why no note calls are made, when they are not (e.g. `noteProvider`
    /// names a provider that is not configured).
    pub notes_unavailable: Option<String>,
    /// Why no commentary calls are made, when they are not.
    pub commentary_unavailable: Option<String>,
}

/// The inactive screen memory of an ended watch.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlierView {
    /// Whom the ended watch watched.
    pub target_name: String,
    /// Why it ended.
    pub reason: String,
    /// Its notes, oldest first.
    pub notes: Vec<String>,
    /// The notes as injected into prompts.
    pub prompt_context: String,
    /// Always false: these notes are not live.
    pub live: bool,
}

/// A watch's recap as the dashboard shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecapView {
    /// The watch.
    pub watch_id: u64,
    /// Whom it watched.
    pub target_name: String,
    /// The recap sentence.
    pub text: String,
    /// Written to the store (its row id when saved).
    pub saved: bool,
    /// Row id in the store.
    pub id: Option<i64>,
    /// Why it was not saved, if it was not.
    pub not_saved_reason: Option<String>,
}

/// What a conversation turn is answered from.
#[derive(Clone, Debug, Default)]
pub struct TurnContext {
    /// The watched user's name, while a watch is followed.
    pub watching: Option<String>,
    /// The name of the watch that ended, when its notes are kept
    /// (inactive) and no watch is followed.
    pub ended: Option<String>,
    /// The screen notes as injected into prompts (the live watch's, or the
    /// ended watch's when `ended` is set).
    pub notes: String,
    /// The newest conversation turns, oldest first (with the screen-share
    /// recap of an ended watch).
    pub recent: Vec<brain_core::Turn>,
    /// The running session summary.
    pub summary: String,
    /// The latest frame (JPEG) and how old it is.
    pub frame: Option<(Arc<Vec<u8>>, std::time::Duration)>,
}
