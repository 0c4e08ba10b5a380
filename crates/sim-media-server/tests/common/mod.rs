//! A minimal voice client written for these tests only (not the project's
//! client): WebSocket handshake, IP discovery, op 1, transport crypto.

#![allow(dead_code, missing_docs)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rtp::{RtpPacket, Ssrc};
use sim_media_server::{
    PublishedFrame, RoomId, RoomKind, SessionGrant, VideoCodecSpec, VideoKind, VideoSpec,
    VoiceServerHandle,
};
use tokio::net::{TcpStream, UdpSocket};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use voice_crypto::{CryptoMode, NonceSeed, Sealer, TransportCipher};
use voice_proto::{
    CodecDescriptor, Identify, IpDiscovery, Ready, Secret, ServerId, SessionDescription,
    StreamDescriptor, UserId, VoiceMessage,
};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Runs a test body, failing it after `limit`.
pub async fn within<F: Future>(limit: Duration, body: F) -> F::Output {
    tokio::time::timeout(limit, body).await.expect("timeout")
}

/// Grants `g` on `srv` and hands it back.
pub fn granted(srv: &VoiceServerHandle, g: SessionGrant) -> SessionGrant {
    srv.grant(g.clone());
    g
}

pub const STREAM_ROOM: RoomId = RoomId(5001);
pub const VOICE_ROOM: RoomId = RoomId(7001);

/// A simulated participant's 640x360 10 fps H.264 screen share.
pub fn screen_video(keyframe_interval_frames: u32, layers: Vec<(u8, u32, u32)>) -> VideoSpec {
    VideoSpec {
        kind: VideoKind::Screen,
        codec: VideoCodecSpec::H264,
        width: 640,
        height: 360,
        fps: 10,
        bitrate_kbps: 500,
        keyframe_interval_frames,
        layers,
    }
}

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

/// Reads until the connection ends: the close frame's code, `None` for a
/// close without a code or an abnormal closure.
pub async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Close(f))) => break f.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            _ => break None,
        }
    }
}

/// Sends `frames` 640x360 H.264 screen frames as `c`'s video on `vssrc`
/// (payload type [`H264_PT`]), one every 120 ms; `wrap` turns each
/// access unit into what is packetized (identity, or DAVE encryption).
pub async fn publish_screen(
    c: &mut Client,
    vssrc: u32,
    frames: u64,
    mut wrap: impl FnMut(Vec<u8>) -> Vec<u8>,
) {
    use sim_content::{H264Config, H264Stream, ScreenConfig, ScreenSource};
    let mut src = H264Stream::new(
        ScreenSource::new(ScreenConfig::new(640, 360)).unwrap(),
        H264Config::screen(),
    )
    .unwrap();
    let mut pk = h264_rtp::H264Packetizer::new(Default::default(), 100, 0).unwrap();
    for n in 0..frames {
        let au = wrap(src.next_frame(n).unwrap().annexb);
        let payloads: Vec<(u16, u32, bool, Vec<u8>)> = pk
            .packetize(&au, Duration::from_millis(n * 33))
            .unwrap()
            .map(|p| (p.seq, p.timestamp, p.marker, p.payload.to_vec()))
            .collect();
        for (seq, ts, marker, payload) in payloads {
            let mut b = rtp::RtpBuilder::new(
                rtp::PayloadType::new(H264_PT).unwrap(),
                rtp::SeqNo(seq),
                rtp::RtpTimestamp(ts),
                Ssrc(vssrc),
            );
            b.marker = marker;
            let mut plain = Vec::new();
            b.write_to_vec(&payload, &mut plain).unwrap();
            c.send_sealed_rtp(plain).await;
        }
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
}

/// The last frame the server decoded from `user`'s published video in
/// `room`, polled for up to 5 s; panics if there is none.
pub async fn last_published_frame(
    srv: &VoiceServerHandle,
    room: RoomId,
    user: u64,
) -> PublishedFrame {
    let mut frames = Vec::new();
    for _ in 0..100 {
        frames = srv.published_frames(room, user);
        if !frames.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    frames.pop().expect("a published frame")
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

    /// Receives media until an RTP packet that parses and satisfies
    /// `want` (RTCP and other RTP skipped); returns its bytes.
    pub async fn recv_rtp_where(&self, want: impl Fn(&RtpPacket<'_>) -> bool) -> Vec<u8> {
        loop {
            let Ok(pkt) = self.recv_media().await else {
                continue;
            };
            if want(&RtpPacket::parse(&pkt).expect("parse")) {
                return pkt;
            }
        }
    }

    /// `announced(&self.seen)`, after waiting for one more op 12 when
    /// nothing seen so far matches (op 12 may come after op 2/op 4).
    pub async fn announced<T>(
        &mut self,
        announced: impl Fn(&[VoiceMessage]) -> Option<T>,
    ) -> Option<T> {
        if announced(&self.seen).is_none() {
            wait_for(&mut self.ws, &mut self.last_seq, &mut self.seen, |m| {
                matches!(m, VoiceMessage::Video(_))
            })
            .await;
        }
        announced(&self.seen)
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
