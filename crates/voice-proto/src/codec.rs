//! Codec descriptors (Select Protocol / Session Update) and media stream
//! descriptors (Identify, Ready, Video).

use serde::{Deserialize, Serialize};

string_enum! {
    /// `type` of a codec descriptor.
    CodecKind {
        /// `"audio"`.
        Audio = "audio",
        /// `"video"`.
        Video = "video",
    }
}

/// One codec the client offers in op 1 Select Protocol or op 14 Session
/// Update: `{name, type, priority, payload_type, rtx_payload_type?,
/// encode?, decode?}`.
///
/// Payload types are chosen by the client (dynamic range, never 96 which
/// Discord reserves for probes). Priorities are multiples of 1000, unique
/// per kind, and a *lower* number is preferred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodecDescriptor {
    /// Codec name as Discord spells it: `"opus"`, `"H264"`, `"VP8"`, `"VP9"`,
    /// `"H265"`, `"AV1"`.
    pub name: String,
    /// Audio or video.
    #[serde(rename = "type")]
    pub kind: CodecKind,
    /// Preference; lower is preferred.
    pub priority: u32,
    /// RTP payload type the client uses for this codec.
    pub payload_type: u8,
    /// RTX payload type (video only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtx_payload_type: Option<u8>,
    /// Whether the client can send this codec; absent means yes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encode: Option<bool>,
    /// Whether the client can receive this codec; absent means yes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode: Option<bool>,
}

impl CodecDescriptor {
    /// Opus at `payload_type` (conventionally 120), priority 1000, fields
    /// `encode`/`decode` left to their default (true).
    pub fn opus(payload_type: u8) -> Self {
        Self {
            name: "opus".to_owned(),
            kind: CodecKind::Audio,
            priority: 1000,
            payload_type,
            rtx_payload_type: None,
            encode: None,
            decode: None,
        }
    }

    /// A video codec with an RTX payload type.
    pub fn video(name: &str, priority: u32, payload_type: u8, rtx_payload_type: u8) -> Self {
        Self {
            name: name.to_owned(),
            kind: CodecKind::Video,
            priority,
            payload_type,
            rtx_payload_type: Some(rtx_payload_type),
            encode: None,
            decode: None,
        }
    }

    /// Whether the client sends this codec (absent `encode` = true).
    pub fn encodes(&self) -> bool {
        self.encode.unwrap_or(true)
    }

    /// Whether the client receives this codec (absent `decode` = true).
    pub fn decodes(&self) -> bool {
        self.decode.unwrap_or(true)
    }
}

string_enum! {
    /// `type` of a media stream descriptor.
    StreamType {
        /// `"video"` (camera, and what the server reports for Go Live).
        Video = "video",
        /// `"screen"` (offered by Go Live senders in Identify).
        Screen = "screen",
        /// `"audio"`.
        Audio = "audio",
    }
}

impl Default for StreamType {
    /// Server op 12 updates omit `type` in the user-docs' example; their
    /// streams are video.
    fn default() -> Self {
        StreamType::Video
    }
}

string_enum! {
    /// `type` of a [`MaxResolution`].
    ResolutionType {
        /// `"fixed"`: the given width/height.
        Fixed = "fixed",
        /// `"source"`: whatever the source produces.
        Source = "source",
    }
}

/// `max_resolution` of a stream: `{type, width, height}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxResolution {
    /// Fixed or source.
    #[serde(rename = "type")]
    pub kind: ResolutionType,
    /// Width in pixels (0 with `source`).
    pub width: u32,
    /// Height in pixels (0 with `source`).
    pub height: u32,
}

/// One simulcast layer: `{type, rid, quality, ssrc?, rtx_ssrc?, active?,
/// max_bitrate?, max_framerate?, max_resolution?}`.
///
/// Used in Identify (`streams` offer, without SSRCs), Ready (allocated
/// SSRCs, `active:false`) and op 12 Video (announcement / state of a
/// user's video). SSRCs are plain `u32` here: this vocabulary crate does not
/// depend on the `rtp` crate; convert to `rtp::Ssrc` at the boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamDescriptor {
    /// Stream type; a missing `type` reads as `video` (see
    /// [`StreamType::default`]).
    #[serde(rename = "type", default)]
    pub kind: StreamType,
    /// RTP stream id, e.g. `"100"` or `"50"` (matches `quality`).
    pub rid: String,
    /// Quality 0–100 (100 = full). Optional in the user docs' stream
    /// structure ("quality? | integer | ... (0-100, default 0)",
    /// discord-userdoccers `voice-connections.mdx`, 3dc0ca92): a missing
    /// one reads as 0 instead of failing the whole message.
    #[serde(default)]
    pub quality: u8,
    /// Video SSRC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssrc: Option<u32>,
    /// RTX SSRC; when Ready omits it the convention is `ssrc + 1`
    /// ([`StreamDescriptor::rtx_ssrc_or_derived`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtx_ssrc: Option<u32>,
    /// Whether the layer is being sent (false = paused / not started).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Maximum bitrate in bits per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bitrate: Option<u64>,
    /// Maximum frame rate in frames per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_framerate: Option<u32>,
    /// Maximum resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_resolution: Option<MaxResolution>,
}

impl StreamDescriptor {
    /// The offer Go Live senders put in Identify:
    /// `{type:"screen", rid:"100", quality:100}`.
    pub fn screen_offer() -> Self {
        Self::offer(StreamType::Screen, "100", 100)
    }

    /// An Identify-style offer without SSRCs or limits.
    pub fn offer(kind: StreamType, rid: &str, quality: u8) -> Self {
        Self {
            kind,
            rid: rid.to_owned(),
            quality,
            ssrc: None,
            rtx_ssrc: None,
            active: None,
            max_bitrate: None,
            max_framerate: None,
            max_resolution: None,
        }
    }

    /// `rtx_ssrc`, or `ssrc + 1` (wrapping) when only `ssrc` is known, as
    /// the user-docs prescribe for a Ready without `rtx_ssrc`.
    pub fn rtx_ssrc_or_derived(&self) -> Option<u32> {
        self.rtx_ssrc
            .or_else(|| self.ssrc.map(|s| s.wrapping_add(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codec_kind_is_kept() {
        let k: CodecKind = serde_json::from_str(r#""data""#).unwrap();
        assert_eq!(k, CodecKind::Other("data".to_owned()));
        assert_eq!(serde_json::to_string(&k).unwrap(), r#""data""#);
    }

    #[test]
    fn encode_decode_default_true() {
        let c: CodecDescriptor = serde_json::from_str(
            r#"{"name":"H264","type":"video","priority":1000,"payload_type":101}"#,
        )
        .unwrap();
        assert!(c.encodes() && c.decodes());
        assert_eq!(c.rtx_payload_type, None);
    }

    #[test]
    fn rtx_derivation() {
        let mut s = StreamDescriptor::offer(StreamType::Video, "100", 100);
        assert_eq!(s.rtx_ssrc_or_derived(), None);
        s.ssrc = Some(12872);
        assert_eq!(s.rtx_ssrc_or_derived(), Some(12873));
        s.rtx_ssrc = Some(5);
        assert_eq!(s.rtx_ssrc_or_derived(), Some(5));
    }

    #[test]
    fn missing_quality_is_zero() {
        let s: StreamDescriptor =
            serde_json::from_str(r#"{"type":"video","rid":"100","ssrc":7,"active":true}"#).unwrap();
        assert_eq!((s.quality, s.ssrc, s.active), (0, Some(7), Some(true)));
    }

    #[test]
    fn missing_stream_type_is_video() {
        let s: StreamDescriptor =
            serde_json::from_str(r#"{"rid":"100","quality":100,"ssrc":7}"#).unwrap();
        assert_eq!(s.kind, StreamType::Video);
    }
}
