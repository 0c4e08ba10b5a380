//! A minimal voice client written for these tests only (not the project's
//! client): WebSocket handshake, IP discovery, op 1, transport crypto.

#![allow(dead_code, missing_docs)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sim_media_server::{RoomId, RoomKind, SessionGrant, VoiceServerHandle};
use tokio::net::{TcpStream, UdpSocket};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use voice_crypto::{CryptoMode, NonceSeed, Sealer, TransportCipher};
use voice_proto::{
    CodecDescriptor, Identify, IpDiscovery, Ready, Secret, ServerId, SessionDescription,
    StreamDescriptor, UserId, VoiceMessage,
};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub const STREAM_ROOM: RoomId = RoomId(5001);
pub const VOICE_ROOM: RoomId = RoomId(7001);

pub fn stream_grant(user: u64) -> SessionGrant {
    SessionGrant {
        room: STREAM_ROOM,
        user_id: user,
        session_id: Secret::new(format!("sess-{user}")),
        token: Secret::new(format!("tok-{user}")),
        kind: RoomKind::Stream {
            stream_key: "guild:1:2:900".to_owned(),
            streamer_id: 900,
            rtc_server_id: STREAM_ROOM.0,
        },
    }
}

pub fn voice_grant(user: u64) -> SessionGrant {
    SessionGrant {
        room: VOICE_ROOM,
        user_id: user,
        session_id: Secret::new(format!("sess-{user}")),
        token: Secret::new(format!("tok-{user}")),
        kind: RoomKind::Voice {
            guild_id: VOICE_ROOM.0,
            channel_id: 77,
        },
    }
}

pub fn identify(g: &SessionGrant, stream: bool) -> VoiceMessage {
    identify_dave(g, stream, 0)
}

pub fn identify_dave(g: &SessionGrant, stream: bool, max_dave: u16) -> VoiceMessage {
    VoiceMessage::Identify(Identify {
        server_id: ServerId(g.room.0),
        user_id: UserId(g.user_id),
        session_id: g.session_id.clone(),
        token: g.token.clone(),
        max_dave_protocol_version: Some(max_dave),
        video: Some(true),
        streams: if stream {
            vec![StreamDescriptor::screen_offer()]
        } else {
            vec![]
        },
        channel_id: None,
    })
}

/// The inactive op 12 (`video_ssrc` 0, no streams) a receive-only client
/// sends so that the server forwards video to it.
pub fn no_video(audio_ssrc: u32) -> VoiceMessage {
    VoiceMessage::Video(voice_proto::Video {
        user_id: None,
        audio_ssrc: Some(audio_ssrc),
        video_ssrc: Some(0),
        rtx_ssrc: Some(0),
        streams: vec![],
    })
}

/// The client's declared payload types: deliberately not the defaults, so
/// that forwarding with the receiver's own payload types is visible.
pub const OPUS_PT: u8 = 111;
pub const H264_PT: u8 = 103;
pub const H264_RTX_PT: u8 = 104;

pub fn codecs() -> Vec<CodecDescriptor> {
    vec![
        CodecDescriptor::opus(OPUS_PT),
        CodecDescriptor::video("H264", 1000, H264_PT, H264_RTX_PT),
    ]
}

pub struct Client {
    pub ws: Ws,
    pub udp: UdpSocket,
    pub server_udp: SocketAddr,
    pub ready: Ready,
    pub sealer: Sealer,
    pub cipher: TransportCipher,
    /// Last envelope seq seen.
    pub last_seq: Option<u64>,
    /// Every message seen (in order).
    pub seen: Vec<VoiceMessage>,
    /// `dave_protocol_version` of op 4.
    pub dave_protocol_version: u16,
}

/// A frame from the server: JSON, or a binary DAVE frame (with its v8 seq
/// prefix still on).
#[derive(Debug, Clone)]
pub enum Frame {
    Text(VoiceMessage),
    Binary(Vec<u8>),
}

/// Next text or binary frame; `None` on close. Binary frames' u16 seq
/// (v8+) updates `last_seq` too: it shares the counter with JSON `seq`.
pub async fn next_frame(ws: &mut Ws, last_seq: &mut Option<u64>) -> Option<Frame> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) => {
                let (m, seq) = VoiceMessage::from_text(t.as_str()).expect("server sent valid JSON");
                if seq.is_some() {
                    *last_seq = seq;
                }
                return Some(Frame::Text(m));
            }
            Ok(Message::Binary(b)) => {
                if let [hi, lo, ..] = b[..] {
                    *last_seq = Some(u64::from(u16::from_be_bytes([hi, lo])));
                }
                return Some(Frame::Binary(b.to_vec()));
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Opens `wss://endpoint/?v=N` trusting only the webpki roots and the
/// server's CA, as a client of real Discord would.
pub async fn connect(server: &VoiceServerHandle, version: u8) -> Ws {
    try_connect(server, &format!("wss://{}/?v={version}", server.endpoint()))
        .await
        .expect("connect")
}

/// Opens `url` with the server's CA trusted.
pub async fn try_connect(server: &VoiceServerHandle, url: &str) -> Result<Ws, String> {
    tls_client::TlsClient::new(Some(server.tls().ca_file()))
        .map_err(|e| e.to_string())?
        .connect_ws(url, std::time::Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())
}

pub async fn send(ws: &mut Ws, msg: &VoiceMessage) {
    ws.send(Message::text(msg.to_text(None)))
        .await
        .expect("send");
}

/// Next text message (skipping non-text frames); `None` on close.
pub async fn next_msg(ws: &mut Ws, last_seq: &mut Option<u64>) -> Option<VoiceMessage> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) => {
                let (m, seq) = VoiceMessage::from_text(t.as_str()).expect("server sent valid JSON");
                if seq.is_some() {
                    *last_seq = seq;
                }
                return Some(m);
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Reads until a message matching `pred`, recording everything.
pub async fn wait_for(
    ws: &mut Ws,
    last_seq: &mut Option<u64>,
    seen: &mut Vec<VoiceMessage>,
    pred: impl Fn(&VoiceMessage) -> bool,
) -> VoiceMessage {
    loop {
        let m = next_msg(ws, last_seq)
            .await
            .expect("connection closed while waiting");
        seen.push(m.clone());
        if pred(&m) {
            return m;
        }
    }
}

/// Full handshake: Identify (before Hello), Ready, IP discovery, op 1, op 4.
pub async fn handshake(
    server: &VoiceServerHandle,
    g: &SessionGrant,
    stream: bool,
    version: u8,
) -> Client {
    handshake_dave(server, g, stream, version, 0).await
}

/// [`handshake`] with `max_dave_protocol_version` = `max_dave`.
pub async fn handshake_dave(
    server: &VoiceServerHandle,
    g: &SessionGrant,
    stream: bool,
    version: u8,
    max_dave: u16,
) -> Client {
    let mut ws = connect(server, version).await;
    send(&mut ws, &identify_dave(g, stream, max_dave)).await;
    let mut last_seq = None;
    let mut seen = Vec::new();
    let mut hello = false;
    let mut ready = None;
    while !(hello && ready.is_some()) {
        let m = next_msg(&mut ws, &mut last_seq)
            .await
            .expect("handshake closed");
        match &m {
            VoiceMessage::Hello(_) => hello = true,
            VoiceMessage::Ready(r) => ready = Some(r.clone()),
            _ => {}
        }
        seen.push(m);
    }
    let ready = ready.expect("ready");
    let udp = UdpSocket::bind("127.0.0.1:0").await.expect("udp");
    let server_udp: SocketAddr = format!("{}:{}", ready.ip, ready.port)
        .parse()
        .expect("addr");
    let req = IpDiscovery::Request { ssrc: ready.ssrc }
        .encode()
        .expect("encode");
    udp.send_to(&req, server_udp).await.expect("send");
    let mut buf = [0u8; 2048];
    let (n, _) = tokio::time::timeout(Duration::from_secs(3), udp.recv_from(&mut buf))
        .await
        .expect("discovery timeout")
        .expect("recv");
    let IpDiscovery::Response {
        address,
        port,
        ssrc,
    } = IpDiscovery::decode(&buf[..n]).expect("discovery")
    else {
        panic!("not a response");
    };
    assert_eq!(ssrc, ready.ssrc);
    assert_eq!(port, udp.local_addr().unwrap().port());
    let mode = CryptoMode::choose(ready.modes.iter().map(String::as_str)).expect("mode");
    let sp =
        voice_proto::SelectProtocol::udp(address, port, mode.as_wire_str().to_owned(), codecs());
    send(&mut ws, &VoiceMessage::SelectProtocol(sp)).await;
    // "No video of mine" right after op 1, as Discord-video-stream does:
    // the server sends no video to a connection without an op 12.
    send(&mut ws, &no_video(ready.ssrc)).await;
    let desc = wait_for(&mut ws, &mut last_seq, &mut seen, |m| {
        matches!(m, VoiceMessage::SessionDescription(_))
    })
    .await;
    let VoiceMessage::SessionDescription(SessionDescription {
        secret_key: Some(key),
        dave_protocol_version,
        ..
    }) = desc
    else {
        panic!("no key");
    };
    let cipher = TransportCipher::new(mode, key.as_bytes()).expect("cipher");
    let sealer = Sealer::new(
        TransportCipher::new(mode, key.as_bytes()).expect("cipher"),
        NonceSeed::default(),
    );
    Client {
        ws,
        udp,
        server_udp,
        ready,
        sealer,
        cipher,
        last_seq,
        seen,
        dave_protocol_version,
    }
}

impl Client {
    /// Receives one datagram and opens it: `Ok(rtp bytes)` for RTP,
    /// `Err(rtcp bytes)` for RTCP.
    pub async fn recv_media(&self) -> Result<Vec<u8>, Vec<u8>> {
        let mut buf = vec![0u8; 2048];
        let (n, _) = self.udp.recv_from(&mut buf).await.expect("udp recv");
        let mut d = buf[..n].to_vec();
        if rtp::is_rtcp(&d) {
            let opened = self
                .cipher
                .open_rtcp_in_place(&mut d)
                .expect("server RTCP opens");
            d.truncate(opened.plain_len);
            return Err(d);
        }
        let opened = self
            .cipher
            .open_rtp_in_place(&mut d)
            .expect("server RTP opens");
        d.truncate(opened.plain_len);
        Ok(d)
    }

    pub async fn send_sealed_rtp(&mut self, mut plain: Vec<u8>) {
        self.sealer.seal_rtp(&mut plain).expect("seal");
        self.udp
            .send_to(&plain, self.server_udp)
            .await
            .expect("send");
    }

    pub async fn send_sealed_rtcp(&mut self, mut plain: Vec<u8>) {
        self.sealer.seal_rtcp(&mut plain).expect("seal");
        self.udp
            .send_to(&plain, self.server_udp)
            .await
            .expect("send");
    }

    pub async fn heartbeat(&mut self, nonce: u64) {
        let hb = voice_proto::Heartbeat::new(voice_proto::GatewayVersion(8), nonce, self.last_seq);
        send(&mut self.ws, &VoiceMessage::Heartbeat(hb)).await;
    }
}
