//! Share-link settings with the reference's defaults and clamps.

use std::time::Duration;

/// MIME types a frame may declare (after lower-casing); `image/jpg` is
/// accepted and reported as `image/jpeg`.
pub const ALLOWED_MIME_TYPES: [&str; 4] = ["image/jpeg", "image/jpg", "image/png", "image/webp"];

/// The share-session lifetime: minutes in [2, 30], default 12, fractions
/// kept (millisecond precision).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShareTtl {
    minutes: f64,
}

impl ShareTtl {
    /// Default lifetime in minutes.
    pub const DEFAULT_MINUTES: f64 = 12.0;
    /// Shortest lifetime in minutes.
    pub const MIN_MINUTES: f64 = 2.0;
    /// Longest lifetime in minutes.
    pub const MAX_MINUTES: f64 = 30.0;

    /// A lifetime of `minutes`: 0 and non-finite values take the default,
    /// then the value is clamped to [2, 30]. Fractions are kept.
    pub fn from_minutes(minutes: f64) -> Self {
        let m = if minutes.is_finite() && minutes != 0.0 {
            minutes
        } else {
            Self::DEFAULT_MINUTES
        };
        Self {
            minutes: m.clamp(Self::MIN_MINUTES, Self::MAX_MINUTES),
        }
    }

    /// The lifetime from the raw `PUBLIC_SHARE_SESSION_TTL_MINUTES` value:
    /// absent, empty, unparsable, 0 or non-finite → 12; then clamped.
    pub fn from_env_value(value: Option<&str>) -> Self {
        let parsed = value
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(Self::DEFAULT_MINUTES);
        Self::from_minutes(parsed)
    }

    /// The lifetime in minutes.
    pub fn minutes(&self) -> f64 {
        self.minutes
    }

    /// The lifetime as a duration, rounded to whole milliseconds.
    pub fn as_duration(&self) -> Duration {
        // In [120_000, 1_800_000]: the cast cannot overflow or go negative.
        Duration::from_millis((self.minutes * 60_000.0).round() as u64)
    }
}

impl Default for ShareTtl {
    fn default() -> Self {
        Self::from_minutes(Self::DEFAULT_MINUTES)
    }
}

/// Everything the share-link rules are parameterized by.
///
/// Fields are public; [`ShareSettings::normalized`] applies the clamps and
/// the session manager normalizes whatever it is given.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareSettings {
    /// Session lifetime (`PUBLIC_SHARE_SESSION_TTL_MINUTES`).
    pub ttl: ShareTtl,
    /// At most this many sessions exist at once (240; 0 → 240).
    pub max_active_sessions: usize,
    /// Largest decoded frame in bytes: default 350 000, clamped to
    /// [50 000, 4 000 000] (`voice.streamWatch.maxFrameBytes`).
    pub max_frame_bytes: usize,
    /// Accepted frames per session per 60 s window: default 180, clamped to
    /// [6, 600] (`voice.streamWatch.maxFramesPerMinute`).
    pub max_frames_per_minute: u32,
    /// Share-page capture interval: default 1200 ms, clamped to [500, 2000].
    pub keyframe_interval_ms: u32,
    /// Share-page canvas width cap: default 960 px, clamped to [640, 1920].
    pub share_page_max_width_px: u32,
    /// Share-page JPEG quality: default 0.6, clamped to [0.5, 0.75].
    pub share_page_jpeg_quality: f64,
    /// Largest request body for the frame routes: default 6 000 000 bytes
    /// (the reference's declared-length limit), never below what a frame of
    /// `max_frame_bytes` needs in base64 plus 64 KiB of JSON.
    pub max_body_bytes: u64,
    /// `voice.streamWatch.enabled`: creation is refused when false.
    pub stream_watch_enabled: bool,
    /// `STREAM_LINK_FALLBACK` (default true): creation is refused when
    /// false.
    pub link_fallback_enabled: bool,
}

impl ShareSettings {
    /// Default cap on live sessions.
    pub const DEFAULT_MAX_ACTIVE_SESSIONS: usize = 240;
    /// Default request-body cap for the frame routes.
    pub const DEFAULT_MAX_BODY_BYTES: u64 = 6_000_000;

    /// The settings with every clamp applied (0 / non-finite → default
    /// first, as the reference's `Number(x) || default`).
    pub fn normalized(mut self) -> Self {
        let d = Self::default();
        self.ttl = ShareTtl::from_minutes(self.ttl.minutes);
        self.max_active_sessions = nonzero_or(self.max_active_sessions, d.max_active_sessions);
        self.max_frame_bytes =
            nonzero_or(self.max_frame_bytes, d.max_frame_bytes).clamp(50_000, 4_000_000);
        self.max_frames_per_minute =
            nonzero_or(self.max_frames_per_minute, d.max_frames_per_minute).clamp(6, 600);
        self.keyframe_interval_ms =
            nonzero_or(self.keyframe_interval_ms, d.keyframe_interval_ms).clamp(500, 2000);
        self.share_page_max_width_px =
            nonzero_or(self.share_page_max_width_px, d.share_page_max_width_px).clamp(640, 1920);
        let q = self.share_page_jpeg_quality;
        self.share_page_jpeg_quality = if q.is_finite() && q != 0.0 {
            q.clamp(0.5, 0.75)
        } else {
            d.share_page_jpeg_quality
        };
        let floor = base64_len(self.max_frame_bytes as u64).saturating_add(64 * 1024);
        self.max_body_bytes = self.max_body_bytes.max(floor);
        self
    }

    /// Sets the lifetime from the raw `PUBLIC_SHARE_SESSION_TTL_MINUTES`
    /// value (see [`ShareTtl::from_env_value`]).
    pub fn with_ttl_env_value(mut self, value: Option<&str>) -> Self {
        self.ttl = ShareTtl::from_env_value(value);
        self
    }

    /// Whether a MIME type (case-insensitive) is accepted.
    pub fn mime_allowed(mime: &str) -> bool {
        FrameMime::parse(mime).is_some()
    }
}

impl Default for ShareSettings {
    fn default() -> Self {
        Self {
            ttl: ShareTtl::default(),
            max_active_sessions: Self::DEFAULT_MAX_ACTIVE_SESSIONS,
            max_frame_bytes: 350_000,
            max_frames_per_minute: 180,
            keyframe_interval_ms: 1200,
            share_page_max_width_px: 960,
            share_page_jpeg_quality: 0.6,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            stream_watch_enabled: true,
            link_fallback_enabled: true,
        }
    }
}

/// An accepted frame image type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FrameMime {
    /// `image/jpeg` (also `image/jpg`).
    Jpeg,
    /// `image/png`.
    Png,
    /// `image/webp`.
    Webp,
}

impl FrameMime {
    /// Parses a declared MIME type: trimmed, case-insensitive, one of
    /// [`ALLOWED_MIME_TYPES`]; parameters (`;…`) are not accepted.
    pub fn parse(mime: &str) -> Option<Self> {
        let m = mime.trim();
        if m.eq_ignore_ascii_case("image/jpeg") || m.eq_ignore_ascii_case("image/jpg") {
            Some(Self::Jpeg)
        } else if m.eq_ignore_ascii_case("image/png") {
            Some(Self::Png)
        } else if m.eq_ignore_ascii_case("image/webp") {
            Some(Self::Webp)
        } else {
            None
        }
    }

    /// Whether `bytes` begin with this type's file signature: JPEG
    /// `FF D8 FF`, PNG's eight-byte signature, WebP `RIFF····WEBP`.
    pub fn signature_matches(&self, bytes: &[u8]) -> bool {
        match self {
            Self::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
            Self::Png => bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
            Self::Webp => {
                bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP"
            }
        }
    }

    /// The canonical MIME string.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }
}

fn nonzero_or<T: PartialEq + Default>(v: T, default: T) -> T {
    if v == T::default() { default } else { v }
}

/// Length of the padded base64 text of `n` bytes.
pub(crate) fn base64_len(n: u64) -> u64 {
    n.div_ceil(3).saturating_mul(4)
}
