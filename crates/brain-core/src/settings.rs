//! The `voice.streamWatch` settings table (reference §8): defaults, clamps,
//! strict validation for edits, and a lenient loader for stored values that
//! maps the legacy keys once.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::text::truncate_chars;

/// The note prompt stored by default. The reference's stored default is "a
/// gameplay-oriented one-sentence instruction" whose wording the reference
/// does not give; this sentence is ours.
pub const DEFAULT_NOTE_PROMPT: &str = "Track what is happening in the game or app: the current screen, \
objective, score or status, and any notable event or mistake.";

/// The note instruction used when `notePrompt` is empty (reference §4.4's
/// built-in default, in our words).
pub const BUILTIN_NOTE_PROMPT: &str = "Note readable text, names and UI elements first; then what changed \
since the previous note; then salient entities, actions and state. If the frame is ambiguous, say so \
briefly. Call out idle, lobby, desktop or loading screens plainly. Prefer specifics.";

/// Runtime cap on the note prompt (reference: 600 characters).
pub const NOTE_PROMPT_RUNTIME_MAX_CHARS: usize = 600;

/// How an integer setting is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntSpec {
    /// The JSON key.
    pub key: &'static str,
    /// The default value.
    pub default: u32,
    /// Smallest allowed value.
    pub min: u32,
    /// Largest allowed value.
    pub max: u32,
}

/// How a fractional setting is bounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatSpec {
    /// The JSON key.
    pub key: &'static str,
    /// The default value.
    pub default: f64,
    /// Smallest allowed value.
    pub min: f64,
    /// Largest allowed value.
    pub max: f64,
}

/// How a string setting is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrSpec {
    /// The JSON key.
    pub key: &'static str,
    /// The default value.
    pub default: &'static str,
    /// Longest allowed value, in characters.
    pub max_chars: usize,
}

macro_rules! int_spec {
    ($name:ident, $key:literal, $default:expr, $min:expr, $max:expr) => {
        const $name: IntSpec = IntSpec {
            key: $key,
            default: $default,
            min: $min,
            max: $max,
        };
    };
}

int_spec!(COMMENTARY_EAGERNESS, "commentaryEagerness", 60, 0, 100);
int_spec!(COMMENTARY_INTERVAL, "commentaryIntervalSeconds", 15, 5, 120);
int_spec!(MAX_FRAMES_PER_MINUTE, "maxFramesPerMinute", 180, 6, 600);
int_spec!(MAX_FRAME_BYTES, "maxFrameBytes", 350_000, 50_000, 4_000_000);
int_spec!(KEYFRAME_INTERVAL_MS, "keyframeIntervalMs", 1200, 500, 2000);
int_spec!(NOTE_INTERVAL, "noteIntervalSeconds", 10, 3, 120);
int_spec!(NOTE_IDLE_INTERVAL, "noteIdleIntervalSeconds", 30, 10, 120);
int_spec!(MAX_NOTE_ENTRIES, "maxNoteEntries", 12, 1, 24);
int_spec!(CHANGE_MIN_INTERVAL, "changeMinIntervalSeconds", 2, 1, 30);
int_spec!(
    INBOUND_AUDIO_QUIET_MS,
    "inboundAudioQuietMs",
    2200,
    0,
    10_000
);
int_spec!(NATIVE_MAX_FPS, "nativeDiscordMaxFramesPerSecond", 2, 1, 10);
int_spec!(NATIVE_QUALITY, "nativeDiscordPreferredQuality", 100, 0, 100);
int_spec!(
    NATIVE_PIXELS,
    "nativeDiscordPreferredPixelCount",
    230_400,
    4096,
    8_294_400
);
int_spec!(NATIVE_JPEG_QUALITY, "nativeDiscordJpegQuality", 60, 10, 100);
int_spec!(SHARE_PAGE_MAX_WIDTH, "sharePageMaxWidthPx", 960, 640, 1920);

/// Every integer setting with its default and bounds.
pub const INT_SETTINGS: &[IntSpec] = &[
    COMMENTARY_EAGERNESS,
    COMMENTARY_INTERVAL,
    MAX_FRAMES_PER_MINUTE,
    MAX_FRAME_BYTES,
    KEYFRAME_INTERVAL_MS,
    NOTE_INTERVAL,
    NOTE_IDLE_INTERVAL,
    MAX_NOTE_ENTRIES,
    CHANGE_MIN_INTERVAL,
    INBOUND_AUDIO_QUIET_MS,
    NATIVE_MAX_FPS,
    NATIVE_QUALITY,
    NATIVE_PIXELS,
    NATIVE_JPEG_QUALITY,
    SHARE_PAGE_MAX_WIDTH,
];

const STATIC_FLOOR: FloatSpec = FloatSpec {
    key: "staticFloor",
    default: 0.005,
    min: 0.001,
    max: 0.05,
};
const CHANGE_THRESHOLD: FloatSpec = FloatSpec {
    key: "changeThreshold",
    default: 0.01,
    min: 0.005,
    max: 1.0,
};
const SHARE_PAGE_JPEG_QUALITY: FloatSpec = FloatSpec {
    key: "sharePageJpegQuality",
    default: 0.6,
    min: 0.5,
    max: 0.75,
};

/// Every fractional setting with its default and bounds.
pub const FLOAT_SETTINGS: &[FloatSpec] = &[STATIC_FLOOR, CHANGE_THRESHOLD, SHARE_PAGE_JPEG_QUALITY];

const NOTE_PROVIDER: StrSpec = StrSpec {
    key: "noteProvider",
    default: "claude-oauth",
    max_chars: 40,
};
const NOTE_MODEL: StrSpec = StrSpec {
    key: "noteModel",
    default: "claude-haiku-4-5",
    max_chars: 120,
};
const NOTE_PROMPT: StrSpec = StrSpec {
    key: "notePrompt",
    default: DEFAULT_NOTE_PROMPT,
    max_chars: 420,
};
const COMMENTARY_PROVIDER: StrSpec = StrSpec {
    key: "commentaryProvider",
    default: "",
    max_chars: 40,
};
const COMMENTARY_MODEL: StrSpec = StrSpec {
    key: "commentaryModel",
    default: "",
    max_chars: 120,
};
const NATIVE_STREAM_TYPE: StrSpec = StrSpec {
    key: "nativeDiscordPreferredStreamType",
    default: "screen",
    max_chars: 32,
};

/// Every string setting with its default and length limit.
pub const STR_SETTINGS: &[StrSpec] = &[
    NOTE_PROVIDER,
    NOTE_MODEL,
    NOTE_PROMPT,
    COMMENTARY_PROVIDER,
    COMMENTARY_MODEL,
    NATIVE_STREAM_TYPE,
];

/// Every boolean setting with its default.
pub const BOOL_SETTINGS: &[(&str, bool)] = &[
    ("enabled", true),
    ("autonomousCommentaryEnabled", true),
    ("spokenReplies", true),
    ("textChannelReplies", true),
    ("bargeIn", true),
];

/// The outbound-music visualizer (only used by outbound Go Live).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VisualizerMode {
    /// No visualizer.
    Off,
    /// Spectrum bars.
    Spectrum,
    /// Waveform.
    Waves,
    /// Vectorscope.
    Vectorscope,
    /// Constant-Q transform (the default).
    #[default]
    Cqt,
}

impl VisualizerMode {
    fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "off" => Some(Self::Off),
            "spectrum" => Some(Self::Spectrum),
            "waves" => Some(Self::Waves),
            "vectorscope" => Some(Self::Vectorscope),
            "cqt" => Some(Self::Cqt),
            _ => None,
        }
    }
}

/// The `voice.streamWatch` settings. JSON uses the camelCase key names of
/// the reference; missing keys take their defaults. See the crate docs for
/// the bounds ([`INT_SETTINGS`], [`FLOAT_SETTINGS`], [`STR_SETTINGS`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Settings {
    /// Master switch for screen watching (default true).
    pub enabled: bool,
    /// Commentary eagerness 0..=100 for the prompt tier (default 60).
    pub commentary_eagerness: u32,
    /// Outbound music visualizer (default cqt).
    pub visualizer_mode: VisualizerMode,
    /// Seconds between interval commentary turns (default 15, 5..=120).
    pub commentary_interval_seconds: u32,
    /// Admitted frames per sliding minute (default 180, 6..=600).
    pub max_frames_per_minute: u32,
    /// Largest admitted frame in bytes (default 350 000, 50 000..=4 000 000).
    pub max_frame_bytes: u32,
    /// Share-page capture interval (default 1200 ms, 500..=2000).
    pub keyframe_interval_ms: u32,
    /// Whether the commentary loop may speak unprompted (default true).
    pub autonomous_commentary_enabled: bool,
    /// Provider of the note loop; empty means the orchestrator's provider.
    pub note_provider: String,
    /// Model of the note loop (required for notes).
    pub note_model: String,
    /// Seconds between notes while the screen moves (default 10, 3..=120).
    pub note_interval_seconds: u32,
    /// Seconds between notes while the screen is static (default 30, 10..=120).
    pub note_idle_interval_seconds: u32,
    /// Below this score and EMA the screen counts as static (default 0.005,
    /// 0.001..=0.05).
    pub static_floor: f64,
    /// Size of the rolling note buffer (default 12, 1..=24).
    pub max_note_entries: u32,
    /// Score or EMA at or above this is a significant change (default 0.01,
    /// 0.005..=1.0).
    pub change_threshold: f64,
    /// Cooldown between change-triggered notes and change commentary
    /// (default 2 s, 1..=30).
    pub change_min_interval_seconds: u32,
    /// Guidance for notes (≤ 420 characters; empty → built-in default).
    pub note_prompt: String,
    /// Commentary provider override (applies only with `commentaryModel`).
    pub commentary_provider: String,
    /// Commentary model override (applies only with `commentaryProvider`).
    pub commentary_model: String,
    /// Quiet window after inbound speech during which commentary waits
    /// (default 2200 ms, 0..=10 000). Not a reference setting: the
    /// reference hard-codes 2200 ms.
    pub inbound_audio_quiet_ms: u32,
    /// Native Go Live decode rate (default 2, 1..=10).
    pub native_discord_max_frames_per_second: u32,
    /// Native Go Live preferred quality (default 100, 0..=100).
    pub native_discord_preferred_quality: u32,
    /// Native Go Live preferred pixel count (default 230 400 = 640×360).
    pub native_discord_preferred_pixel_count: u32,
    /// JPEG quality of decoded native frames (default 60, 10..=100).
    pub native_discord_jpeg_quality: u32,
    /// Preferred native stream type (default "screen", ≤ 32 characters).
    pub native_discord_preferred_stream_type: String,
    /// Share-page capture width (default 960 px, 640..=1920).
    pub share_page_max_width_px: u32,
    /// Share-page JPEG quality (default 0.6, 0.5..=0.75).
    pub share_page_jpeg_quality: f64,
    /// Commentary and answers are spoken in the voice channel (default
    /// true). Not a reference setting: the reference always speaks.
    pub spoken_replies: bool,
    /// Commentary and answers are also posted to the text channel when one
    /// is known (default true). Not a reference setting.
    pub text_channel_replies: bool,
    /// A user starting to speak stops the agent's playback (default true).
    /// Not a reference setting.
    pub barge_in: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            enabled: true,
            commentary_eagerness: COMMENTARY_EAGERNESS.default,
            visualizer_mode: VisualizerMode::Cqt,
            commentary_interval_seconds: COMMENTARY_INTERVAL.default,
            max_frames_per_minute: MAX_FRAMES_PER_MINUTE.default,
            max_frame_bytes: MAX_FRAME_BYTES.default,
            keyframe_interval_ms: KEYFRAME_INTERVAL_MS.default,
            autonomous_commentary_enabled: true,
            note_provider: NOTE_PROVIDER.default.to_owned(),
            note_model: NOTE_MODEL.default.to_owned(),
            note_interval_seconds: NOTE_INTERVAL.default,
            note_idle_interval_seconds: NOTE_IDLE_INTERVAL.default,
            static_floor: STATIC_FLOOR.default,
            max_note_entries: MAX_NOTE_ENTRIES.default,
            change_threshold: CHANGE_THRESHOLD.default,
            change_min_interval_seconds: CHANGE_MIN_INTERVAL.default,
            note_prompt: NOTE_PROMPT.default.to_owned(),
            commentary_provider: COMMENTARY_PROVIDER.default.to_owned(),
            commentary_model: COMMENTARY_MODEL.default.to_owned(),
            inbound_audio_quiet_ms: INBOUND_AUDIO_QUIET_MS.default,
            native_discord_max_frames_per_second: NATIVE_MAX_FPS.default,
            native_discord_preferred_quality: NATIVE_QUALITY.default,
            native_discord_preferred_pixel_count: NATIVE_PIXELS.default,
            native_discord_jpeg_quality: NATIVE_JPEG_QUALITY.default,
            native_discord_preferred_stream_type: NATIVE_STREAM_TYPE.default.to_owned(),
            share_page_max_width_px: SHARE_PAGE_MAX_WIDTH.default,
            share_page_jpeg_quality: SHARE_PAGE_JPEG_QUALITY.default,
            spoken_replies: true,
            text_channel_replies: true,
            barge_in: true,
        }
    }
}

/// A setting that failed validation, or a settings document that could not
/// be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    /// The document is not a JSON object.
    #[error("voice.streamWatch settings must be a JSON object, got {got}")]
    NotAnObject {
        /// The JSON type found instead.
        got: &'static str,
    },
    /// A number outside its bounds.
    #[error("{key} = {value} is out of range: allowed {min}..={max}")]
    OutOfRange {
        /// The JSON key.
        key: &'static str,
        /// The offending value.
        value: f64,
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// A fractional value that is NaN or infinite.
    #[error("{key} must be a finite number")]
    NotFinite {
        /// The JSON key.
        key: &'static str,
    },
    /// A string longer than allowed.
    #[error("{key} is {chars} characters long: at most {max_chars} allowed")]
    TooLong {
        /// The JSON key.
        key: &'static str,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max_chars: usize,
    },
    /// An edit used a legacy key name.
    #[error("{key} is a legacy key: set {use_instead} instead")]
    LegacyKey {
        /// The legacy key.
        key: String,
        /// The key that replaced it (or "nothing" when it has no successor).
        use_instead: &'static str,
    },
    /// An edit has an unknown key or a value of the wrong type.
    #[error("invalid voice.streamWatch settings: {0}")]
    Json(String),
}

/// One legacy key read in place of its successor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The legacy key that supplied the value.
    pub legacy: &'static str,
    /// The key it now fills.
    pub key: &'static str,
}

/// What [`Settings::from_json_value`] did to a stored document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Legacy keys whose value was moved to a new key.
    pub migrated: Vec<Migration>,
    /// Legacy keys that were present but not used (no successor, or the
    /// new key was already set).
    pub dropped_legacy: Vec<String>,
    /// Keys whose value was clamped, coerced, truncated or replaced by the
    /// default because it could not be read.
    pub adjusted: Vec<String>,
    /// Keys this table does not know; ignored.
    pub unknown: Vec<String>,
}

impl LoadReport {
    /// Whether saving the loaded settings back would change the stored
    /// document (a migration happened or something was adjusted/dropped).
    pub fn needs_rewrite(&self) -> bool {
        !(self.migrated.is_empty()
            && self.dropped_legacy.is_empty()
            && self.adjusted.is_empty()
            && self.unknown.is_empty())
    }
}

/// Every legacy key, with the key that replaced it (if any).
const LEGACY_KEYS: &[(&str, &str)] = &[
    ("brainContextMode", "nothing"),
    ("brainContextEnabled", "nothing"),
    ("brainContextMinIntervalSeconds", NOTE_INTERVAL.key),
    ("brainContextMaxEntries", MAX_NOTE_ENTRIES.key),
    ("brainContextProvider", NOTE_PROVIDER.key),
    ("brainContextModel", NOTE_MODEL.key),
    ("brainContextPrompt", NOTE_PROMPT.key),
    ("directMinIntervalSeconds", COMMENTARY_INTERVAL.key),
    ("directMaxEntries", MAX_NOTE_ENTRIES.key),
    ("directChangeThreshold", CHANGE_THRESHOLD.key),
    ("directChangeMinIntervalSeconds", CHANGE_MIN_INTERVAL.key),
    ("minCommentaryIntervalSeconds", COMMENTARY_INTERVAL.key),
];

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads a number the way the reference's `Number(x)` does for the values
/// that matter: numbers, numeric strings and booleans.
fn lenient_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
    .filter(|n| n.is_finite())
}

fn lenient_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

impl Settings {
    fn int_slot(&mut self, key: &str) -> Option<&mut u32> {
        Some(match key {
            "commentaryEagerness" => &mut self.commentary_eagerness,
            "commentaryIntervalSeconds" => &mut self.commentary_interval_seconds,
            "maxFramesPerMinute" => &mut self.max_frames_per_minute,
            "maxFrameBytes" => &mut self.max_frame_bytes,
            "keyframeIntervalMs" => &mut self.keyframe_interval_ms,
            "noteIntervalSeconds" => &mut self.note_interval_seconds,
            "noteIdleIntervalSeconds" => &mut self.note_idle_interval_seconds,
            "maxNoteEntries" => &mut self.max_note_entries,
            "changeMinIntervalSeconds" => &mut self.change_min_interval_seconds,
            "inboundAudioQuietMs" => &mut self.inbound_audio_quiet_ms,
            "nativeDiscordMaxFramesPerSecond" => &mut self.native_discord_max_frames_per_second,
            "nativeDiscordPreferredQuality" => &mut self.native_discord_preferred_quality,
            "nativeDiscordPreferredPixelCount" => &mut self.native_discord_preferred_pixel_count,
            "nativeDiscordJpegQuality" => &mut self.native_discord_jpeg_quality,
            "sharePageMaxWidthPx" => &mut self.share_page_max_width_px,
            _ => return None,
        })
    }

    fn float_slot(&mut self, key: &str) -> Option<&mut f64> {
        Some(match key {
            "staticFloor" => &mut self.static_floor,
            "changeThreshold" => &mut self.change_threshold,
            "sharePageJpegQuality" => &mut self.share_page_jpeg_quality,
            _ => return None,
        })
    }

    fn str_slot(&mut self, key: &str) -> Option<&mut String> {
        Some(match key {
            "noteProvider" => &mut self.note_provider,
            "noteModel" => &mut self.note_model,
            "notePrompt" => &mut self.note_prompt,
            "commentaryProvider" => &mut self.commentary_provider,
            "commentaryModel" => &mut self.commentary_model,
            "nativeDiscordPreferredStreamType" => &mut self.native_discord_preferred_stream_type,
            _ => return None,
        })
    }

    fn bool_slot(&mut self, key: &str) -> Option<&mut bool> {
        Some(match key {
            "enabled" => &mut self.enabled,
            "autonomousCommentaryEnabled" => &mut self.autonomous_commentary_enabled,
            "spokenReplies" => &mut self.spoken_replies,
            "textChannelReplies" => &mut self.text_channel_replies,
            "bargeIn" => &mut self.barge_in,
            _ => return None,
        })
    }

    /// Brings every value into its bounds: numbers are clamped (NaN takes
    /// the default), strings are cut to their length limit. Returns the
    /// keys that changed.
    pub fn clamp(&mut self) -> Vec<&'static str> {
        let mut changed = Vec::new();
        for spec in INT_SETTINGS {
            if let Some(slot) = self.int_slot(spec.key) {
                let clamped = (*slot).clamp(spec.min, spec.max);
                if clamped != *slot {
                    *slot = clamped;
                    changed.push(spec.key);
                }
            }
        }
        for spec in FLOAT_SETTINGS {
            if let Some(slot) = self.float_slot(spec.key) {
                let clamped = if slot.is_finite() {
                    slot.clamp(spec.min, spec.max)
                } else {
                    spec.default
                };
                if clamped.to_bits() != slot.to_bits() {
                    *slot = clamped;
                    changed.push(spec.key);
                }
            }
        }
        for spec in STR_SETTINGS {
            if let Some(slot) = self.str_slot(spec.key)
                && slot.chars().count() > spec.max_chars
            {
                *slot = truncate_chars(slot, spec.max_chars);
                changed.push(spec.key);
            }
        }
        changed
    }

    /// [`Settings::clamp`] by value.
    #[must_use]
    pub fn clamped(mut self) -> Self {
        self.clamp();
        self
    }

    /// Checks every bound; returns all violations, in table order.
    pub fn validate(&self) -> Result<(), Vec<SettingsError>> {
        let mut probe = self.clone();
        let mut errors = Vec::new();
        for spec in INT_SETTINGS {
            if let Some(&mut value) = probe.int_slot(spec.key)
                && !(spec.min..=spec.max).contains(&value)
            {
                errors.push(SettingsError::OutOfRange {
                    key: spec.key,
                    value: f64::from(value),
                    min: f64::from(spec.min),
                    max: f64::from(spec.max),
                });
            }
        }
        for spec in FLOAT_SETTINGS {
            if let Some(&mut value) = probe.float_slot(spec.key) {
                if !value.is_finite() {
                    errors.push(SettingsError::NotFinite { key: spec.key });
                } else if !(spec.min..=spec.max).contains(&value) {
                    errors.push(SettingsError::OutOfRange {
                        key: spec.key,
                        value,
                        min: spec.min,
                        max: spec.max,
                    });
                }
            }
        }
        for spec in STR_SETTINGS {
            if let Some(value) = probe.str_slot(spec.key) {
                let chars = value.chars().count();
                if chars > spec.max_chars {
                    errors.push(SettingsError::TooLong {
                        key: spec.key,
                        chars,
                        max_chars: spec.max_chars,
                    });
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Applies an edit (a JSON object with some of the keys) strictly: the
    /// admin API's path. Legacy keys, unknown keys, wrong types and values
    /// out of bounds are errors; nothing is clamped silently.
    pub fn apply_patch(&self, patch: &Value) -> Result<Settings, Vec<SettingsError>> {
        let Value::Object(patch) = patch else {
            return Err(vec![SettingsError::NotAnObject {
                got: json_type(patch),
            }]);
        };
        let legacy: Vec<SettingsError> = patch
            .keys()
            .filter_map(|key| {
                LEGACY_KEYS
                    .iter()
                    .find(|(legacy, _)| legacy == key)
                    .map(|(_, to)| SettingsError::LegacyKey {
                        key: key.clone(),
                        use_instead: to,
                    })
            })
            .collect();
        if !legacy.is_empty() {
            return Err(legacy);
        }
        let base = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            Ok(_) | Err(_) => Map::new(),
        };
        // Each key on its own first, so every problem is named at once.
        let mut errors = Vec::new();
        let mut merged = base.clone();
        for (key, value) in patch {
            if !base.contains_key(key) {
                errors.push(SettingsError::Json(format!("unknown setting `{key}`")));
                continue;
            }
            let mut one = base.clone();
            one.insert(key.clone(), value.clone());
            match serde_json::from_value::<Settings>(Value::Object(one)) {
                Ok(_) => {
                    merged.insert(key.clone(), value.clone());
                }
                Err(e) => errors.push(SettingsError::Json(format!("{key}: {e}"))),
            }
        }
        let settings: Settings = serde_json::from_value(Value::Object(merged))
            .map_err(|e| vec![SettingsError::Json(e.to_string())])?;
        if let Err(more) = settings.validate() {
            errors.extend(more);
        }
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(errors)
        }
    }

    /// Reads a stored settings document leniently, as the reference's
    /// stored normalization does: missing keys take defaults, numbers are
    /// floored (integers) and clamped, numeric strings and booleans are
    /// read, unreadable values take the default, strings are cut to their
    /// limit. Legacy keys fill their successors once (see the crate docs
    /// for the mapping); the report says what happened, so the caller can
    /// write the migrated document back. Only a non-object is an error.
    pub fn from_json_value(value: &Value) -> Result<(Settings, LoadReport), SettingsError> {
        let Value::Object(stored) = value else {
            return Err(SettingsError::NotAnObject {
                got: json_type(value),
            });
        };
        let mut report = LoadReport::default();
        let mut doc = stored.clone();
        migrate_legacy(&mut doc, &mut report);

        let mut settings = Settings::default();
        for (key, value) in &doc {
            let key = key.as_str();
            if value.is_null() {
                continue; // null keeps the default
            }
            if let Some(spec) = INT_SETTINGS.iter().find(|s| s.key == key) {
                let read = lenient_number(value).map(|n| {
                    let floored = n.floor();
                    let clamped = floored.clamp(f64::from(spec.min), f64::from(spec.max));
                    // In range of u32 after the clamp.
                    (clamped as u32, clamped != n)
                });
                let (v, adjusted) = read.unwrap_or((spec.default, true));
                if let Some(slot) = settings.int_slot(key) {
                    *slot = v;
                }
                if adjusted || !value.is_number() {
                    report.adjusted.push(key.to_owned());
                }
            } else if let Some(spec) = FLOAT_SETTINGS.iter().find(|s| s.key == key) {
                let read = lenient_number(value).map(|n| {
                    let clamped = n.clamp(spec.min, spec.max);
                    (clamped, clamped != n)
                });
                let (v, adjusted) = read.unwrap_or((spec.default, true));
                if let Some(slot) = settings.float_slot(key) {
                    *slot = v;
                }
                if adjusted || !value.is_number() {
                    report.adjusted.push(key.to_owned());
                }
            } else if let Some(spec) = STR_SETTINGS.iter().find(|s| s.key == key) {
                let (v, adjusted) = match value {
                    Value::String(s) => {
                        let cut = truncate_chars(s, spec.max_chars);
                        let adjusted = cut.len() != s.len();
                        (cut, adjusted)
                    }
                    _ => (spec.default.to_owned(), true),
                };
                if let Some(slot) = settings.str_slot(key) {
                    *slot = v;
                }
                if adjusted {
                    report.adjusted.push(key.to_owned());
                }
            } else if BOOL_SETTINGS.iter().any(|(k, _)| *k == key) {
                let read = lenient_bool(value);
                if let (Some(slot), Some(b)) = (settings.bool_slot(key), read) {
                    *slot = b;
                }
                if read.is_none() || !value.is_boolean() {
                    report.adjusted.push(key.to_owned());
                }
            } else if key == "visualizerMode" {
                let read = value.as_str().and_then(VisualizerMode::parse);
                settings.visualizer_mode = read.unwrap_or_default();
                if read.is_none() || value.as_str().map(str::trim) != read.map(|m| m.as_str()) {
                    report.adjusted.push(key.to_owned());
                }
            } else {
                report.unknown.push(key.to_owned());
            }
        }
        Ok((settings, report))
    }

    /// The note interval while the screen moves.
    pub fn note_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.note_interval_seconds))
    }

    /// The note interval while the screen is static.
    pub fn note_idle_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.note_idle_interval_seconds))
    }

    /// The cooldown between change-triggered notes / change commentary.
    pub fn change_min_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.change_min_interval_seconds))
    }

    /// The interval commentary period.
    pub fn commentary_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.commentary_interval_seconds))
    }

    /// The inbound-audio quiet window.
    pub fn inbound_audio_quiet(&self) -> Duration {
        Duration::from_millis(u64::from(self.inbound_audio_quiet_ms))
    }

    /// The note provider, or `None` for "use the orchestrator's provider".
    pub fn note_provider_override(&self) -> Option<&str> {
        Some(self.note_provider.trim()).filter(|s| !s.is_empty())
    }

    /// The commentary `(provider, model)` override; only when both are set.
    pub fn commentary_override(&self) -> Option<(&str, &str)> {
        let provider = self.commentary_provider.trim();
        let model = self.commentary_model.trim();
        (!provider.is_empty() && !model.is_empty()).then_some((provider, model))
    }

    /// The note guidance as used at runtime: the setting, or
    /// [`BUILTIN_NOTE_PROMPT`] when empty, capped at
    /// [`NOTE_PROMPT_RUNTIME_MAX_CHARS`].
    pub fn effective_note_prompt(&self) -> String {
        let prompt = self.note_prompt.trim();
        if prompt.is_empty() {
            BUILTIN_NOTE_PROMPT.to_owned()
        } else {
            truncate_chars(prompt, NOTE_PROMPT_RUNTIME_MAX_CHARS)
        }
    }
}

impl VisualizerMode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Spectrum => "spectrum",
            Self::Waves => "waves",
            Self::Vectorscope => "vectorscope",
            Self::Cqt => "cqt",
        }
    }
}

/// Fills new keys from legacy keys (once) and removes every legacy key.
fn migrate_legacy(doc: &mut Map<String, Value>, report: &mut LoadReport) {
    let context_brain = doc
        .get("brainContextMode")
        .and_then(Value::as_str)
        .map(str::trim)
        == Some("context_brain");
    let plan: [(&'static str, &'static str); 8] = if context_brain {
        [
            (COMMENTARY_INTERVAL.key, "minCommentaryIntervalSeconds"),
            (NOTE_INTERVAL.key, "brainContextMinIntervalSeconds"),
            (MAX_NOTE_ENTRIES.key, "brainContextMaxEntries"),
            (NOTE_PROVIDER.key, "brainContextProvider"),
            (NOTE_MODEL.key, "brainContextModel"),
            (CHANGE_THRESHOLD.key, "directChangeThreshold"),
            (CHANGE_MIN_INTERVAL.key, "directChangeMinIntervalSeconds"),
            (NOTE_PROMPT.key, "brainContextPrompt"),
        ]
    } else {
        [
            (COMMENTARY_INTERVAL.key, "directMinIntervalSeconds"),
            (NOTE_INTERVAL.key, "directMinIntervalSeconds"),
            (MAX_NOTE_ENTRIES.key, "directMaxEntries"),
            (NOTE_PROVIDER.key, "brainContextProvider"),
            (NOTE_MODEL.key, "brainContextModel"),
            (CHANGE_THRESHOLD.key, "directChangeThreshold"),
            (CHANGE_MIN_INTERVAL.key, "directChangeMinIntervalSeconds"),
            (NOTE_PROMPT.key, "brainContextPrompt"),
        ]
    };
    let mut used: Vec<&'static str> = Vec::new();
    for (key, legacy) in plan {
        if doc.contains_key(key) {
            continue;
        }
        if let Some(value) = doc.get(legacy).filter(|v| !v.is_null()).cloned() {
            doc.insert(key.to_owned(), value);
            report.migrated.push(Migration { legacy, key });
            used.push(legacy);
        }
    }
    for (legacy, _) in LEGACY_KEYS {
        if doc.remove(*legacy).is_some() && !used.contains(legacy) {
            report.dropped_legacy.push((*legacy).to_owned());
        }
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
