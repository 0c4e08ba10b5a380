//! One-line summaries of messages: key fields with secrets redacted and
//! binary payloads reduced to their length. Used by ipc-tap and logs.

use crate::command::*;
use crate::event::*;
use crate::lane::{Lane, WireMessage};
use crate::voice::PlaybackState;
use crate::{Hello, Secret};
use std::fmt;

/// A summarised field value.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// An unsigned number (a count, a size, a sequence number).
    U64(u64),
    /// A Discord snowflake id (user, guild, channel, stream server, DAVE
    /// group): a number in the text form, a decimal string in JSON, as
    /// every snowflake in the project's JSON (a JavaScript number loses
    /// integers above 2^53).
    Id(u64),
    /// A float.
    F64(f64),
    /// A flag.
    Bool(bool),
    /// Text.
    Str(String),
    /// A binary payload: only its length is shown.
    Bytes(usize),
    /// A secret: only a short hint is shown.
    Redacted(String),
    /// Absent optional value.
    None,
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::U64(v) | FieldValue::Id(v) => write!(f, "{v}"),
            FieldValue::F64(v) => write!(f, "{v:.3}"),
            FieldValue::Bool(v) => write!(f, "{v}"),
            FieldValue::Str(v) => write!(f, "{v}"),
            FieldValue::Bytes(n) => write!(f, "<{n} bytes>"),
            FieldValue::Redacted(h) => write!(f, "<secret {h}>"),
            FieldValue::None => f.write_str("-"),
        }
    }
}

/// Named key fields of one message.
pub type Fields = Vec<(&'static str, FieldValue)>;

fn s(v: impl ToString) -> FieldValue {
    FieldValue::Str(v.to_string())
}
fn opt<T: fmt::Display>(v: &Option<T>) -> FieldValue {
    v.as_ref().map_or(FieldValue::None, s)
}
fn secret(v: &Secret) -> FieldValue {
    FieldValue::Redacted(v.hint())
}

fn hello_fields(h: &Hello) -> Fields {
    vec![
        ("protocol", s(h.protocol)),
        ("role", s(h.role)),
        ("build", s(&h.build)),
        ("instance", s(format!("{:016x}", h.instance_id))),
    ]
}

fn voice_fields(v: &VoiceConnect) -> Fields {
    vec![
        ("guild", FieldValue::Id(v.guild_id.0)),
        ("channel", FieldValue::Id(v.channel_id.0)),
        ("user", FieldValue::Id(v.user_id.0)),
        ("endpoint", s(&v.endpoint)),
        ("session", secret(&v.session_id)),
        ("token", secret(&v.token)),
        ("dave_group", FieldValue::Id(v.dave_group_id)),
    ]
}

fn stream_fields(v: &StreamConnect) -> Fields {
    vec![
        // The stream key embeds ids only (no secret), so it is shown.
        ("stream_key", s(&v.stream_key)),
        ("streamer", FieldValue::Id(v.streamer_id.0)),
        ("server", FieldValue::Id(v.server_id)),
        ("endpoint", s(&v.endpoint)),
        ("session", secret(&v.session_id)),
        ("token", secret(&v.token)),
        ("dave_group", FieldValue::Id(v.dave_group_id)),
    ]
}

fn subscription_fields(v: &VideoSubscription) -> Fields {
    vec![
        ("user", FieldValue::Id(v.user_id.0)),
        (
            "stream_type",
            opt(&v.stream_type.map(|t| format!("{t:?}").to_lowercase())),
        ),
        ("max_fps", FieldValue::F64(f64::from(v.max_fps))),
        ("quality", FieldValue::U64(u64::from(v.quality))),
        (
            "pixels",
            v.preferred_pixel_count
                .map_or(FieldValue::None, |p| FieldValue::U64(u64::from(p))),
        ),
        ("jpeg_quality", FieldValue::U64(u64::from(v.jpeg_quality))),
    ]
}

impl WireMessage for ControlMsg {
    const KNOWN_KINDS: u32 = 16;

    fn lane(&self) -> Lane {
        match self {
            ControlMsg::StreamPublishFrame(_) => Lane::Lossy,
            _ => Lane::Reliable,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ControlMsg::Hello(_) => "hello",
            ControlMsg::VoiceConnect(_) => "voice_connect",
            ControlMsg::VoiceDisconnect(_) => "voice_disconnect",
            ControlMsg::StreamWatchConnect(_) => "stream_watch_connect",
            ControlMsg::StreamWatchDisconnect(_) => "stream_watch_disconnect",
            ControlMsg::StreamPublishConnect(_) => "stream_publish_connect",
            ControlMsg::StreamPublishDisconnect(_) => "stream_publish_disconnect",
            ControlMsg::StreamPublishPause => "stream_publish_pause",
            ControlMsg::StreamPublishResume => "stream_publish_resume",
            ControlMsg::StreamPublishFrame(_) => "stream_publish_frame",
            ControlMsg::SubscribeUserVideo(_) => "subscribe_user_video",
            ControlMsg::UnsubscribeUserVideo { .. } => "unsubscribe_user_video",
            ControlMsg::Ping { .. } => "ping",
            ControlMsg::SnapshotRequest => "snapshot_request",
            ControlMsg::VoicePlay(_) => "voice_play",
            ControlMsg::VoiceCancel { .. } => "voice_cancel",
        }
    }

    fn fields(&self) -> Fields {
        match self {
            ControlMsg::Hello(h) => hello_fields(h),
            ControlMsg::VoiceConnect(v) => voice_fields(v),
            ControlMsg::StreamWatchConnect(v) | ControlMsg::StreamPublishConnect(v) => {
                stream_fields(v)
            }
            ControlMsg::VoiceDisconnect(d)
            | ControlMsg::StreamWatchDisconnect(d)
            | ControlMsg::StreamPublishDisconnect(d) => vec![("reason", s(&d.reason))],
            ControlMsg::StreamPublishPause
            | ControlMsg::StreamPublishResume
            | ControlMsg::SnapshotRequest => {
                vec![]
            }
            ControlMsg::StreamPublishFrame(f) => vec![
                ("format", s(format!("{:?}", f.format))),
                ("data", FieldValue::Bytes(f.data.len())),
                ("capture_us", FieldValue::U64(f.capture_time_us)),
            ],
            ControlMsg::SubscribeUserVideo(v) => subscription_fields(v),
            ControlMsg::UnsubscribeUserVideo { user_id } => {
                vec![("user", FieldValue::Id(user_id.0))]
            }
            ControlMsg::Ping { nonce } => vec![("nonce", FieldValue::U64(*nonce))],
            ControlMsg::VoicePlay(c) => vec![
                ("id", FieldValue::U64(c.id.0)),
                ("seq", FieldValue::U64(u64::from(c.seq))),
                ("pcm", FieldValue::Bytes(c.pcm.len())),
                ("last", FieldValue::Bool(c.last)),
            ],
            ControlMsg::VoiceCancel { id } => vec![("id", FieldValue::U64(id.0))],
        }
    }

    fn as_hello(&self) -> Option<&Hello> {
        match self {
            ControlMsg::Hello(h) => Some(h),
            _ => None,
        }
    }

    fn from_hello(hello: Hello) -> Self {
        ControlMsg::Hello(hello)
    }
}

impl WireMessage for MediadMsg {
    const KNOWN_KINDS: u32 = 14;

    fn lane(&self) -> Lane {
        match self {
            MediadMsg::DecodedVideoFrame(_) | MediadMsg::UserVideoFrame(_) => Lane::Lossy,
            _ => Lane::Reliable,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            MediadMsg::Hello(_) => "hello",
            MediadMsg::TransportState(_) => "transport_state",
            MediadMsg::UserVideoState(_) => "user_video_state",
            MediadMsg::DecodedVideoFrame(_) => "decoded_video_frame",
            MediadMsg::UserVideoFrame(_) => "user_video_frame",
            MediadMsg::UserVideoEnd { .. } => "user_video_end",
            MediadMsg::Speaking(_) => "speaking",
            MediadMsg::Stats(_) => "stats",
            MediadMsg::Pong { .. } => "pong",
            MediadMsg::Error(_) => "error",
            MediadMsg::Snapshot(_) => "snapshot",
            MediadMsg::Playback(_) => "playback",
            MediadMsg::UserSpeech(_) => "user_speech",
            MediadMsg::UserUtterance(_) => "user_utterance",
        }
    }

    fn fields(&self) -> Fields {
        match self {
            MediadMsg::Hello(h) => hello_fields(h),
            MediadMsg::TransportState(t) => vec![
                ("role", s(t.role)),
                ("status", s(t.status.as_str())),
                ("reason", opt(&t.reason)),
                (
                    "close_code",
                    t.close_code
                        .map_or(FieldValue::None, |c| FieldValue::U64(u64::from(c))),
                ),
            ],
            MediadMsg::UserVideoState(v) => vec![
                ("user", FieldValue::Id(v.user_id.0)),
                ("role", s(v.role)),
                ("video_ssrc", opt(&v.video_ssrc)),
                ("codec", opt(&v.codec.map(|c| format!("{c:?}")))),
                ("streams", FieldValue::U64(v.streams.len() as u64)),
            ],
            MediadMsg::DecodedVideoFrame(f) => vec![
                ("user", FieldValue::Id(f.user_id.0)),
                ("ssrc", FieldValue::U64(u64::from(f.ssrc.0))),
                ("size", s(format!("{}x{}", f.width, f.height))),
                ("jpeg", FieldValue::Bytes(f.jpeg.len())),
                ("change", FieldValue::F64(f64::from(f.change_score))),
                ("ema", FieldValue::F64(f64::from(f.ema_score))),
                ("scene_cut", FieldValue::Bool(f.scene_cut)),
                ("seq", FieldValue::U64(f.frame_seq)),
            ],
            MediadMsg::UserVideoFrame(f) => vec![
                ("user", FieldValue::Id(f.user_id.0)),
                ("ssrc", FieldValue::U64(u64::from(f.ssrc.0))),
                ("codec", s(format!("{:?}", f.codec))),
                ("keyframe", FieldValue::Bool(f.keyframe)),
                ("data", FieldValue::Bytes(f.data.len())),
            ],
            MediadMsg::UserVideoEnd { user_id, ssrc } => {
                vec![("user", FieldValue::Id(user_id.0)), ("ssrc", opt(ssrc))]
            }
            MediadMsg::Speaking(sp) => vec![
                ("user", FieldValue::Id(sp.user_id.0)),
                ("speaking", FieldValue::Bool(sp.speaking)),
            ],
            MediadMsg::Stats(st) => vec![
                ("uptime_ms", FieldValue::U64(st.uptime_ms)),
                ("lane_sent", FieldValue::U64(st.video_lane_sent)),
                ("lane_dropped", FieldValue::U64(st.video_lane_dropped)),
                ("transports", FieldValue::U64(st.transports.len() as u64)),
            ],
            MediadMsg::Pong { nonce } => vec![("nonce", FieldValue::U64(*nonce))],
            MediadMsg::Error(e) => vec![
                ("code", s(format!("{:?}", e.code))),
                ("message", s(&e.message)),
            ],
            MediadMsg::Snapshot(sn) => vec![
                ("instance", s(format!("{:016x}", sn.instance_id))),
                (
                    "transports",
                    s(sn.transports
                        .iter()
                        .map(|t| format!("{}:{}", t.role, t.status.as_str()))
                        .collect::<Vec<_>>()
                        .join(",")),
                ),
                (
                    "subscriptions",
                    FieldValue::U64(sn.subscriptions.len() as u64),
                ),
                ("control_sessions", FieldValue::U64(sn.control_sessions)),
            ],
            MediadMsg::Playback(p) => vec![
                ("id", FieldValue::U64(p.id.0)),
                ("state", s(p.state.as_str())),
                (
                    "reason",
                    match &p.state {
                        PlaybackState::Failed(r) => s(r),
                        _ => FieldValue::None,
                    },
                ),
                ("played_ms", FieldValue::U64(u64::from(p.played_ms))),
            ],
            MediadMsg::UserSpeech(u) => vec![
                ("user", FieldValue::Id(u.user_id.0)),
                ("ssrc", FieldValue::U64(u64::from(u.ssrc.0))),
                ("speaking", FieldValue::Bool(u.speaking)),
            ],
            MediadMsg::UserUtterance(u) => vec![
                ("user", FieldValue::Id(u.user_id.0)),
                ("pcm", FieldValue::Bytes(u.pcm.len())),
                ("duration_ms", FieldValue::U64(u64::from(u.duration_ms))),
            ],
        }
    }

    fn as_hello(&self) -> Option<&Hello> {
        match self {
            MediadMsg::Hello(h) => Some(h),
            _ => None,
        }
    }

    fn from_hello(hello: Hello) -> Self {
        MediadMsg::Hello(hello)
    }
}
