//! Request-side helpers for the frame routes: the rejection vocabulary,
//! the declared-length check, body parsing and capped base64 decoding.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::manager::{Ended, PresenceFailure};
use crate::settings::ShareSettings;

/// Longest `source` kept from a frame body.
pub const MAX_SOURCE_CHARS: usize = 80;

/// Why a frame request was not accepted.
///
/// Reason strings and statuses are the reference's (§1.10: 413, 429, and
/// 400 for everything the manager and the watch ingest reject), except
/// `invalid_frame_data`, chosen here for base64 that does not decode (the
/// reference never decoded). Expired and stopped sessions answer
/// `share_session_not_found` like unknown ones (the reference deletes
/// them); the variants keep the distinction for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameRejection {
    /// Empty token in the path: 400 `share_session_token_required`.
    TokenRequired,
    /// Body is not a JSON object of the expected shape: 400
    /// `invalid_json_body`.
    InvalidJson,
    /// Declared or actual body over the cap: 413 `payload_too_large`.
    PayloadTooLarge,
    /// Per-IP or per-token limiter: 429 `ingest_rate_limited`.
    IngestRateLimited {
        /// When a retry can succeed (`Retry-After`).
        retry_after: Duration,
    },
    /// No such token: 400 `share_session_not_found`.
    SessionNotFound,
    /// The session's lifetime passed: 400 `share_session_not_found`.
    SessionExpired {
        /// The session, if this call ended it (stop its watch).
        ended: Option<Box<Ended>>,
    },
    /// The session was stopped: 400 `share_session_not_found`.
    SessionStopped,
    /// Voice presence failed; the session was stopped: 400 with the
    /// presence reason.
    PresenceLost {
        /// Which check failed.
        failure: PresenceFailure,
        /// The session this call ended (stop its watch).
        ended: Box<Ended>,
    },
    /// `voice.streamWatch.enabled` is off: 400 `stream_watch_disabled`
    /// (the reference's ingest check). Not terminal: the session stays,
    /// and frames are accepted again once watching is re-enabled.
    StreamWatchDisabled,
    /// MIME type not allowed: 400 `invalid_mime_type`.
    InvalidMimeType,
    /// No data: 400 `frame_data_required`.
    FrameDataRequired,
    /// Data is not base64: 400 `invalid_frame_data` (chosen here).
    InvalidFrameData,
    /// Decoded frame over the limit: 400 `frame_too_large`.
    FrameTooLarge {
        /// The limit (sent as `maxFrameBytes`).
        max_frame_bytes: usize,
    },
    /// Too many frames in the 60 s window: 400 `frame_rate_limited`.
    FrameRateLimited {
        /// The limit (sent as `maxFramesPerMinute`).
        max_frames_per_minute: u32,
    },
}

impl FrameRejection {
    /// The reason string sent as `reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TokenRequired => "share_session_token_required",
            Self::InvalidJson => "invalid_json_body",
            Self::PayloadTooLarge => "payload_too_large",
            Self::IngestRateLimited { .. } => "ingest_rate_limited",
            Self::SessionNotFound | Self::SessionExpired { .. } | Self::SessionStopped => {
                "share_session_not_found"
            }
            Self::PresenceLost { failure, .. } => failure.reason(),
            Self::StreamWatchDisabled => "stream_watch_disabled",
            Self::InvalidMimeType => "invalid_mime_type",
            Self::FrameDataRequired => "frame_data_required",
            Self::InvalidFrameData => "invalid_frame_data",
            Self::FrameTooLarge { .. } => "frame_too_large",
            Self::FrameRateLimited { .. } => "frame_rate_limited",
        }
    }

    /// The HTTP status.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::PayloadTooLarge => 413,
            Self::IngestRateLimited { .. } => 429,
            _ => 400,
        }
    }

    /// Whether the share page should end the capture (the reference page's
    /// terminal reasons: the session or the voice presence is gone).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::SessionNotFound
                | Self::SessionExpired { .. }
                | Self::SessionStopped
                | Self::PresenceLost { .. }
        )
    }

    /// The session this rejection ended, if any: stop its watch.
    pub fn ended(&self) -> Option<&Ended> {
        match self {
            Self::SessionExpired { ended } => ended.as_deref(),
            Self::PresenceLost { ended, .. } => Some(ended),
            _ => None,
        }
    }

    /// The JSON response body: `{accepted:false, reason}` plus
    /// `maxFrameBytes` / `maxFramesPerMinute` / `retryAfterMs` where they
    /// apply. Never contains a token.
    pub fn body(&self) -> FrameRefusal {
        let mut body = FrameRefusal {
            accepted: false,
            max_frame_bytes: None,
            max_frames_per_minute: None,
            reason: Cow::Borrowed(self.reason()),
            retry_after_ms: None,
        };
        match self {
            Self::FrameTooLarge { max_frame_bytes } => {
                body.max_frame_bytes = Some(*max_frame_bytes);
            }
            Self::FrameRateLimited {
                max_frames_per_minute,
            } => {
                body.max_frames_per_minute = Some(*max_frames_per_minute);
            }
            Self::IngestRateLimited { retry_after } => {
                body.retry_after_ms =
                    Some(u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX));
            }
            _ => {}
        }
        body
    }
}

/// The JSON body of a refused frame ([`FrameRejection::body`]): what the
/// share page reads. Fields in key order, so the bytes are the same as a
/// sorted JSON object's; the limits appear only for the refusals they
/// explain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrameRefusal {
    /// Always `false`.
    pub accepted: bool,
    /// `frame_too_large`: the live limit, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frame_bytes: Option<usize>,
    /// `frame_rate_limited`: the live limit per sliding minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frames_per_minute: Option<u32>,
    /// [`FrameRejection::reason`].
    pub reason: Cow<'static, str>,
    /// `ingest_rate_limited`: when a retry can succeed, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ShareSettings {
    /// Checks a declared `Content-Length` before any byte of the body is
    /// read: over [`ShareSettings::max_body_bytes`] → 413
    /// `payload_too_large`. The shell must also cap the actual read at the
    /// same number (a body may be chunked, or lie).
    pub fn check_declared_length(&self, declared: u64) -> Result<(), FrameRejection> {
        check_declared_length(declared, self.max_body_bytes)
    }
}

/// [`ShareSettings::check_declared_length`] with an explicit cap.
pub fn check_declared_length(declared: u64, max_body_bytes: u64) -> Result<(), FrameRejection> {
    if declared > max_body_bytes {
        Err(FrameRejection::PayloadTooLarge)
    } else {
        Ok(())
    }
}

/// A parsed frame body `{ mimeType, dataBase64, source }`. The image text
/// borrows from the request body unless JSON escapes forced a copy.
#[derive(Clone, PartialEq, Eq)]
pub struct FrameBody<'a> {
    /// Declared MIME type; empty when absent (the manager then assumes
    /// `image/jpeg`).
    pub mime_type: String,
    /// The image as base64 (a `data:…;base64,` prefix is removed).
    pub data_base64: Cow<'a, str>,
    /// Free-form origin label, at most 80 characters.
    pub source: Option<String>,
    /// `guildId` as text (a JSON string or number), for the direct ingest
    /// route; `None` when absent or of another type.
    pub guild_id: Option<String>,
    /// `streamerUserId` as text, likewise.
    pub streamer_user_id: Option<String>,
}

impl std::fmt::Debug for FrameBody<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameBody")
            .field("mime_type", &self.mime_type)
            .field("data_base64_len", &self.data_base64.len())
            .field("source", &self.source)
            .field("guild_id", &self.guild_id)
            .field("streamer_user_id", &self.streamer_user_id)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBody<'a> {
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default, borrow)]
    data_base64: Option<BorrowedText<'a>>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    guild_id: Option<Value>,
    #[serde(default)]
    streamer_user_id: Option<Value>,
}

/// An id given as a JSON string or number, as text.
fn id_text(v: Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Result of [`FrameBody::decode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodedFrame {
    /// The image bytes.
    Bytes(Vec<u8>),
    /// Over the cap; nothing was allocated. `decoded_len` is exact, for
    /// [`crate::FrameMeta::decoded_len`].
    TooLarge {
        /// Size the data would decode to.
        decoded_len: usize,
    },
}

impl DecodedFrame {
    /// Checks decoded bytes against the declared MIME type's file
    /// signature (empty means `image/jpeg`, as admission assumes): bytes
    /// that are not that kind of image → `invalid_frame_data`, as base64
    /// that does not decode. A type that is not allowed passes here
    /// (admission answers `invalid_mime_type`); an oversized frame has no
    /// bytes and passes (admission answers `frame_too_large`).
    pub fn check_signature(&self, declared_mime: &str) -> Result<(), FrameRejection> {
        let Self::Bytes(bytes) = self else {
            return Ok(());
        };
        let mime = if declared_mime.trim().is_empty() {
            Some(crate::FrameMime::Jpeg)
        } else {
            crate::FrameMime::parse(declared_mime)
        };
        match mime {
            Some(m) if !m.signature_matches(bytes) => Err(FrameRejection::InvalidFrameData),
            _ => Ok(()),
        }
    }

    /// The decoded size (for [`crate::FrameMeta::decoded_len`]).
    pub fn decoded_len(&self) -> usize {
        match self {
            Self::Bytes(b) => b.len(),
            Self::TooLarge { decoded_len } => *decoded_len,
        }
    }
}

/// A JSON string that borrows from the body when it has no escapes (serde
/// borrows a `Cow` only as a field of its own, not inside an `Option`).
#[derive(Deserialize)]
struct BorrowedText<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'a> FrameBody<'a> {
    /// Parses a buffered body. Over `max_body_bytes` → 413 (for bodies
    /// without a declared length); not a JSON object with string fields →
    /// `invalid_json_body`; missing or empty `dataBase64` →
    /// `frame_data_required`.
    pub fn parse(body: &'a [u8], max_body_bytes: u64) -> Result<Self, FrameRejection> {
        if body.len() as u64 > max_body_bytes {
            return Err(FrameRejection::PayloadTooLarge);
        }
        let raw: RawBody<'a> =
            serde_json::from_slice(body).map_err(|_| FrameRejection::InvalidJson)?;
        let mut data = raw.data_base64.map(|t| t.0).unwrap_or_default();
        if data.starts_with("data:")
            && let Some(comma) = data.find(',')
        {
            data = match data {
                Cow::Borrowed(d) => Cow::Borrowed(&d[comma + 1..]),
                Cow::Owned(mut d) => {
                    d.drain(..=comma);
                    Cow::Owned(d)
                }
            };
        }
        if data.is_empty() {
            return Err(FrameRejection::FrameDataRequired);
        }
        let source = raw
            .source
            .map(|s| s.trim().chars().take(MAX_SOURCE_CHARS).collect::<String>())
            .filter(|s| !s.is_empty());
        Ok(Self {
            mime_type: raw.mime_type.unwrap_or_default(),
            data_base64: data,
            source,
            guild_id: id_text(raw.guild_id),
            streamer_user_id: id_text(raw.streamer_user_id),
        })
    }

    /// The exact decoded size of `data_base64`, computed from its length
    /// alone (no allocation). A length no base64 text can have →
    /// `invalid_frame_data`.
    pub fn decoded_len(&self) -> Result<usize, FrameRejection> {
        base64_decoded_len(self.data_base64.as_bytes())
    }

    /// Decodes `data_base64` (standard or URL-safe alphabet, padding
    /// optional) if it fits in `max_decoded` bytes; allocates exactly the
    /// decoded size and never more than `max_decoded`.
    pub fn decode(&self, max_decoded: usize) -> Result<DecodedFrame, FrameRejection> {
        decode_capped(self.data_base64.as_bytes(), max_decoded)
    }
}

/// Exact decoded length of base64 text (padding optional).
pub fn base64_decoded_len(data: &[u8]) -> Result<usize, FrameRejection> {
    let mut n = data.len();
    let mut pad = 0;
    while pad < 2 && n > 0 && data[n - 1] == b'=' {
        n -= 1;
        pad += 1;
    }
    let tail = match n % 4 {
        0 => 0,
        2 => 1,
        3 => 2,
        _ => return Err(FrameRejection::InvalidFrameData),
    };
    if pad > 0 && !(n + pad).is_multiple_of(4) {
        return Err(FrameRejection::InvalidFrameData);
    }
    Ok(n / 4 * 3 + tail)
}

/// Decodes base64 text into at most `max_decoded` bytes (see
/// [`FrameBody::decode`]).
pub fn decode_capped(data: &[u8], max_decoded: usize) -> Result<DecodedFrame, FrameRejection> {
    let len = base64_decoded_len(data)?;
    if len > max_decoded {
        return Ok(DecodedFrame::TooLarge { decoded_len: len });
    }
    // SIMD decoding (runtime-detected AVX2/SSSE3/NEON, scalar otherwise)
    // straight into an uninitialised buffer of exactly `len` bytes: no
    // zero-fill pass over every frame. Text whose length is a multiple of
    // four is padded or needs no padding; any other length is unpadded
    // (`base64_decoded_len` refused the impossible ones).
    let (standard, url_safe) = if data.len().is_multiple_of(4) {
        (&base64_simd::STANDARD, &base64_simd::URL_SAFE)
    } else {
        (&base64_simd::STANDARD_NO_PAD, &base64_simd::URL_SAFE_NO_PAD)
    };
    // The standard alphabet first (what browsers produce); the URL-safe one
    // only when that fails. Same inputs accepted as choosing by scanning
    // for `-`/`_`, without a second pass over every frame.
    let mut out = Vec::with_capacity(len);
    standard
        .decode_append(data, &mut out)
        .or_else(|_| {
            out.clear();
            url_safe.decode_append(data, &mut out)
        })
        .map_err(|_| FrameRejection::InvalidFrameData)?;
    debug_assert_eq!(out.len(), len);
    Ok(DecodedFrame::Bytes(out))
}
