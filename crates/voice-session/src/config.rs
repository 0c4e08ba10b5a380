//! What one connection needs to know: who it is, where to go, what it
//! offers, and its timing policy.

use std::time::Duration;

use voice_proto::{CodecDescriptor, Secret, ServerId, StreamDescriptor, UserId};

/// Which kind of media connection this is. It changes the Identify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The guild voice connection (audio, webcams). `server_id` is the
    /// guild id.
    Voice,
    /// A Go Live stream connection (watch or publish). `server_id` is the
    /// stream's `rtc_server_id`; Identify carries `video: true` and the
    /// screen stream entry.
    Stream,
}

/// Opus payload type offered in SELECT_PROTOCOL.
pub const OPUS_PT: u8 = 120;
/// H264 payload type offered.
pub const H264_PT: u8 = 101;
/// H264 RTX payload type offered.
pub const H264_RTX_PT: u8 = 102;
/// VP8 payload type offered.
pub const VP8_PT: u8 = 103;
/// VP8 RTX payload type offered.
pub const VP8_RTX_PT: u8 = 104;

/// The codecs a receiving connection (voice, stream watch) offers: Opus,
/// and H264 + RTX (preferred) and VP8 + RTX marked decode-only.
///
/// Decision (issue 15, item 17): advertise only what we really do. The
/// user docs' codec object has `encode?`/`decode?` "(default true)", and
/// the server "negotiates a send codec per-client that all other clients
/// can decode" from them (discord-userdoccers `voice-connections.mdx`,
/// "Codec Structure" and "Supported Codecs", 3dc0ca92). mediad decodes
/// H264 and VP8 (`video-receiver`) but encodes only H264, and only on a
/// stream_publish connection, so receiving connections declare
/// `encode: false` for video; clankvox does the same (watch/voice role
/// H264 and VP8 decode-only, publish role H264 encode-only, `voice_conn.rs`
/// 1420ee7). Opus keeps the defaults: the docs call it required.
pub fn default_codecs() -> Vec<CodecDescriptor> {
    let decode_only = |mut c: CodecDescriptor| {
        c.encode = Some(false);
        c.decode = Some(true);
        c
    };
    vec![
        CodecDescriptor::opus(OPUS_PT),
        decode_only(CodecDescriptor::video("H264", 1000, H264_PT, H264_RTX_PT)),
        decode_only(CodecDescriptor::video("VP8", 2000, VP8_PT, VP8_RTX_PT)),
    ]
}

/// Settings of one [`crate::VoiceConnection`]. Its session id and token
/// are [`Secret`]s: `Debug` prints them redacted.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// Voice or stream.
    pub role: Role,
    /// `endpoint` from VOICE_SERVER_UPDATE / STREAM_SERVER_UPDATE
    /// (`host:port`, or a full `ws://`/`wss://` URL).
    pub endpoint: String,
    /// Guild id (voice) or `rtc_server_id` (stream).
    pub server_id: ServerId,
    /// Own user id.
    pub user_id: UserId,
    /// Main-gateway voice session id.
    pub session_id: Secret,
    /// Voice/stream token.
    pub token: Secret,
    /// Voice gateway version (8 gives seq/seq_ack and buffered resume).
    pub gateway_version: u8,
    /// Highest DAVE protocol version announced (0 = transport crypto only).
    pub max_dave_protocol_version: u16,
    /// Codecs offered in SELECT_PROTOCOL.
    pub codecs: Vec<CodecDescriptor>,
    /// Nonce seed bytes for the transport sealer (from the caller's
    /// randomness, so two connections never share a nonce sequence).
    pub nonce_seed: [u8; 24],
    /// Delays before each reconnect attempt after the first immediate one;
    /// its length bounds the attempts (capped backoff, then `Failed`).
    pub reconnect_delays: Vec<Duration>,
    /// How long to wait for HELLO + READY (or RESUMED) after connecting.
    pub handshake_timeout: Duration,
    /// IP discovery retry interval; five tries in all.
    pub ip_discovery_retry: Duration,
    /// UDP keepalive interval.
    pub keepalive_interval: Duration,
    /// RTCP receiver report interval.
    pub report_interval: Duration,
    /// Audio silence after which a user counts as no longer speaking.
    pub speaking_timeout: Duration,
}

impl ConnectionConfig {
    /// Defaults for a connection of `role`.
    pub fn new(
        role: Role,
        endpoint: impl Into<String>,
        server_id: ServerId,
        user_id: UserId,
        session_id: Secret,
        token: Secret,
    ) -> Self {
        Self {
            role,
            endpoint: endpoint.into(),
            server_id,
            user_id,
            session_id,
            token,
            gateway_version: 8,
            max_dave_protocol_version: 0,
            codecs: default_codecs(),
            nonce_seed: [0; 24],
            reconnect_delays: [250, 500, 1000, 2000, 2000]
                .into_iter()
                .map(Duration::from_millis)
                .collect(),
            handshake_timeout: Duration::from_secs(10),
            ip_discovery_retry: Duration::from_secs(1),
            keepalive_interval: Duration::from_secs(5),
            report_interval: Duration::from_secs(5),
            speaking_timeout: Duration::from_millis(400),
        }
    }

    /// The codecs of a Go Live publishing connection: Opus and H264 + RTX
    /// marked encode-only, the one video codec `video_pipeline`'s
    /// `PublishEncoder` produces (see [`default_codecs`] for the sources).
    pub fn publish_codecs() -> Vec<CodecDescriptor> {
        let mut h264 = CodecDescriptor::video("H264", 1000, H264_PT, H264_RTX_PT);
        h264.encode = Some(true);
        h264.decode = Some(false);
        vec![CodecDescriptor::opus(OPUS_PT), h264]
    }

    /// The WebSocket URL: `wss://<endpoint>/?v=N`. Discord's
    /// VOICE_SERVER_UPDATE / STREAM_SERVER_UPDATE `endpoint` is `host:port`
    /// without a scheme, and voice servers are TLS-only (discord-api-docs
    /// `voice-connections`: "wss://{endpoint}?v=…"). The URL is always
    /// `wss://`, whatever the host (the simulator serves TLS too); an
    /// endpoint that carries a scheme of its own never downgrades it.
    pub fn gateway_url(&self) -> String {
        let e = self.endpoint.trim().trim_end_matches('/');
        let e = e
            .strip_prefix("wss://")
            .or_else(|| e.strip_prefix("ws://"))
            .unwrap_or(e);
        let base = format!("wss://{e}");
        if base.contains('?') {
            format!("{base}&v={}", self.gateway_version)
        } else {
            format!("{base}/?v={}", self.gateway_version)
        }
    }

    /// The streams entry of Identify.
    pub(crate) fn identify_streams(&self) -> Vec<StreamDescriptor> {
        match self.role {
            Role::Voice => Vec::new(),
            Role::Stream => vec![StreamDescriptor::screen_offer()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(endpoint: &str) -> String {
        ConnectionConfig::new(
            Role::Voice,
            endpoint,
            ServerId(1),
            UserId(2),
            Secret::new("s"),
            Secret::new("t"),
        )
        .gateway_url()
    }

    #[test]
    fn urls_are_always_wss() {
        // Loopback hosts (the simulator) are TLS like any other: the old
        // rule turned them into ws://, which real Discord never serves.
        assert_eq!(url("127.0.0.1:9000"), "wss://127.0.0.1:9000/?v=8");
        assert_eq!(url("localhost:1"), "wss://localhost:1/?v=8");
        assert_eq!(
            url("c-ams.discord.media:443"),
            "wss://c-ams.discord.media:443/?v=8"
        );
        assert_eq!(url("wss://x.example/"), "wss://x.example/?v=8");
        // A scheme in the endpoint never downgrades the connection.
        assert_eq!(url("ws://x.example:80"), "wss://x.example:80/?v=8");
    }

    #[test]
    fn codecs_offer_only_what_we_encode() {
        use voice_proto::CodecKind;
        let video = |cs: Vec<CodecDescriptor>| -> Vec<(String, bool, bool)> {
            cs.into_iter()
                .filter(|c| c.kind == CodecKind::Video)
                .map(|c| (c.name.clone(), c.encodes(), c.decodes()))
                .collect()
        };
        // Receiving roles decode H264 and VP8 and encode nothing.
        assert_eq!(
            video(default_codecs()),
            vec![("H264".into(), false, true), ("VP8".into(), false, true)]
        );
        // Publishing encodes H264 only.
        assert_eq!(
            video(ConnectionConfig::publish_codecs()),
            vec![("H264".into(), true, false)]
        );
        // On the wire the flags are explicit (absent would mean true).
        let json = serde_json::to_string(&default_codecs()[1]).unwrap();
        assert!(json.contains(r#""encode":false"#), "{json}");
        for cs in [default_codecs(), ConnectionConfig::publish_codecs()] {
            assert_eq!(cs[0].name, "opus");
            assert_eq!(cs[0].priority, 1000);
            assert!(
                cs.iter()
                    .all(|c| c.priority % 1000 == 0 && c.payload_type != 96)
            );
        }
    }

    #[test]
    fn debug_redacts() {
        let (session, token) = (Secret::new("secret-session"), Secret::new("secret-token"));
        let c = ConnectionConfig::new(Role::Stream, "h:1", ServerId(1), UserId(2), session, token);
        let d = format!("{c:?}");
        assert!(!d.contains("secret"), "{d}");
    }
}
