//! The stream_publish encoder thread: frames from control are decoded,
//! scaled and H264-encoded off the slot's task, paced at the configured
//! frame rate (the newest frame wins), packetized into RTP and handed to
//! the slot, which seals and sends them.
//!
//! The slot keeps the [`Publisher`] handle, which owns the sent stream's
//! [`rtp::SendStream`]: every packet the slot sends is stamped with the
//! current SSRC and recorded, Generic NACKs are answered with RTX, and a
//! sender report goes out about every 5 s while video flows (decisions
//! and sources in `rtp::send`). Every video packet carries the
//! playout-delay header extension (id 6, min = max = 0).

use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use ipc_schema::{PublishFormat, PublishFrame, TransportRole};
use rtp::send::{PLAYOUT_DELAY_ID, playout_delay};
use rtp::{
    ExtensionElement, PayloadType, RtpBuilder, RtpTimestamp, SendConfig, SendStream, SeqNo, Ssrc,
};
use video_pipeline::{EncoderSettings, InputFormat, PublishEncoder};
use voice_proto::{MaxResolution, ResolutionType, StreamDescriptor, Video};

use super::lanes::SlotLanes;

/// Frames waiting for the encoder; older ones are dropped (newest wins).
const QUEUE: usize = 4;
/// With no new frame, the last picture is repeated this often so that
/// viewers keep a live stream.
const IDLE_REPEAT: Duration = Duration::from_secs(1);

enum PubIn {
    Frame(PublishFrame),
    Keyframe,
    Paused(bool),
}

/// Handle on the encoder thread (dropping it ends the thread), and the
/// send state of the published stream, kept on the slot's task where
/// packets are sent and RTCP arrives.
pub(crate) struct Publisher {
    tx: SyncSender<PubIn>,
    stream: SendStream,
}

/// The SSRCs and RTX payload type a publisher sends with (from READY's
/// `streams[0]` and our op 1 codecs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StreamIds {
    pub ssrc: u32,
    /// `(rtx_ssrc, rtx payload type)`.
    pub rtx: Option<(u32, u8)>,
}

/// What to publish on.
pub(crate) struct PublishSpec {
    pub role: TransportRole,
    pub ids: StreamIds,
    pub payload_type: u8,
    pub settings: EncoderSettings,
    /// The slot's DAVE session: access units are encrypted before
    /// packetization.
    pub dave: super::dave::SharedDave,
}

fn send_stream(ids: StreamIds) -> SendStream {
    let rtx = ids
        .rtx
        .and_then(|(s, pt)| PayloadType::new(pt).ok().map(|pt| (Ssrc(s), pt)));
    // RTX numbering starts away from the primary's (which starts at 1).
    SendStream::new(SendConfig::video(
        Ssrc(ids.ssrc),
        rtx,
        ids.ssrc as u16 ^ 0x5a5a,
    ))
}

impl Publisher {
    pub(crate) fn spawn(spec: PublishSpec, slot: SlotLanes) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let stream = send_stream(spec.ids);
        std::thread::Builder::new()
            .name(format!("publish-{}", spec.ids.ssrc))
            .spawn(move || run(spec, rx, slot))?;
        Ok(Self { tx, stream })
    }

    /// A new session may have allocated other SSRCs: later packets are
    /// stamped with these, and the history starts afresh.
    pub(crate) fn set_ids(&mut self, ids: StreamIds) {
        let cfg = self.stream.config();
        let current = StreamIds {
            ssrc: cfg.ssrc.0,
            rtx: cfg.rtx.map(|(s, pt)| (s.0, pt.get())),
        };
        if current != ids {
            self.stream = send_stream(ids);
        }
    }

    /// A packet from the encoder thread about to be sent: stamped with
    /// the current SSRC and recorded for NACKs and sender reports. False
    /// for a packet that is not RTP (not to be sent).
    pub(crate) fn on_send(&mut self, packet: &mut [u8], now: Instant) -> bool {
        let Some(ssrc) = packet.get_mut(8..12) else {
            return false;
        };
        ssrc.copy_from_slice(&self.stream.config().ssrc.0.to_be_bytes());
        self.stream.record(packet, now).is_ok()
    }

    /// RTX packets answering a Generic NACK for our video SSRC.
    pub(crate) fn on_nack(&mut self, nack: &rtp::rtcp::Nack<'_>) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        self.stream.on_nack(nack, &mut out);
        out
    }

    /// A sender report, if one is due; `ntp` is the wall clock of `now`.
    pub(crate) fn sender_report(&mut self, now: Instant, ntp: u64) -> Option<Vec<u8>> {
        self.stream.sender_report(now, ntp)
    }

    /// Our video SSRC.
    pub(crate) fn ssrc(&self) -> u32 {
        self.stream.config().ssrc.0
    }

    /// Queues a frame; a full queue drops it (the encoder is behind, and a
    /// newer frame is on its way).
    pub(crate) fn frame(&self, f: PublishFrame) -> bool {
        match self.tx.try_send(PubIn::Frame(f)) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }

    pub(crate) fn keyframe(&self) {
        let _ = self.tx.try_send(PubIn::Keyframe);
    }

    pub(crate) fn paused(&self, paused: bool) {
        // Rare and important: wait for room rather than lose it.
        let _ = self.tx.send(PubIn::Paused(paused));
    }
}

fn input_format(f: PublishFormat) -> InputFormat {
    match f {
        PublishFormat::Jpeg => InputFormat::Jpeg,
        PublishFormat::Png => InputFormat::Png,
        PublishFormat::I420 { width, height } => InputFormat::I420 {
            width: width as usize,
            height: height as usize,
        },
    }
}

fn run(spec: PublishSpec, rx: mpsc::Receiver<PubIn>, slot: SlotLanes) {
    let mut encoder = match PublishEncoder::new(spec.settings) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "cannot create the publish encoder");
            return;
        }
    };
    let Ok(pt) = PayloadType::new(spec.payload_type) else {
        return;
    };
    let delay = playout_delay(0, 0);
    let extensions = [ExtensionElement {
        id: PLAYOUT_DELAY_ID,
        data: &delay,
    }];
    let mut packetizer = match h264_rtp::H264Packetizer::new(
        h264_rtp::PacketizerConfig {
            // Room for the rtpsize AEAD overhead (16-byte tag, 4-byte
            // nonce) and the 8-byte header extension block.
            max_payload_size: 1100,
            aggregate: true,
        },
        1,
        0,
    ) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot create the packetizer");
            return;
        }
    };
    let interval = Duration::from_secs(1) / spec.settings.fps.max(1);
    let started = Instant::now();
    let mut next_tick = started;
    let mut fresh = false;
    let mut last_sent: Option<Instant> = None;
    let mut paused = false;
    loop {
        match rx.recv_timeout(next_tick.saturating_duration_since(Instant::now())) {
            Ok(PubIn::Frame(f)) => {
                if paused {
                    continue;
                }
                match encoder.load(input_format(f.format), &f.data) {
                    Ok(()) => fresh = true,
                    Err(e) => {
                        tracing::warn!(role = %spec.role, error = %e, "published frame does not decode; dropped")
                    }
                }
                continue;
            }
            Ok(PubIn::Keyframe) => {
                encoder.request_keyframe();
                fresh = true;
                continue;
            }
            Ok(PubIn::Paused(p)) => {
                paused = p;
                if !p {
                    // Viewers resynchronise on an IDR after a pause.
                    encoder.request_keyframe();
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = Instant::now();
        next_tick = (next_tick + interval).max(now);
        let idle_due = last_sent.is_some_and(|t| now >= t + IDLE_REPEAT);
        if paused || !encoder.has_picture() || !(fresh || idle_due) {
            continue;
        }
        fresh = false;
        let picture = match encoder.encode() {
            Ok(p) if !p.annexb.is_empty() => p,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(role = %spec.role, error = %e, "encode failed");
                continue;
            }
        };
        last_sent = Some(now);
        let frame = spec
            .dave
            .encrypt(dave_session::MediaCodec::H264, picture.annexb);
        let packets = match packetizer.packetize(&frame, now - started) {
            Ok(p) => p
                .filter_map(|p| {
                    // The slot stamps the current SSRC (see
                    // `Publisher::on_send`).
                    let mut b = RtpBuilder::new(
                        pt,
                        SeqNo(p.seq),
                        RtpTimestamp(p.timestamp),
                        Ssrc(spec.ids.ssrc),
                    );
                    b.marker = p.marker;
                    b.extensions = &extensions;
                    let mut out = Vec::with_capacity(p.payload.len() + 12);
                    b.write_to_vec(p.payload, &mut out).ok()?;
                    Some(out)
                })
                .collect::<Vec<_>>(),
            Err(e) => {
                tracing::warn!(role = %spec.role, error = %e, "packetize failed");
                continue;
            }
        };
        // Never waits on the slot (which may be waiting on `paused`): a
        // busy slot drops the oldest batch and asks for an IDR.
        slot.send_rtp(packets);
    }
    tracing::debug!(ssrc = spec.ids.ssrc, "publisher stopped");
}

/// Op 12 for our published stream, from READY's allocated layer.
///
/// Decision (issue 15, item 17): the layer is typed exactly as the user
/// docs' "Example Video (Send)" shows it (discord-userdoccers
/// `voice-connections.mdx`, "Video Structure", 3dc0ca92): `audio_ssrc`,
/// `video_ssrc`, top-level `rtx_ssrc` (send only), and `streams[]` of
/// `{type, rid, ssrc, active, quality, rtx_ssrc, max_bitrate,
/// max_framerate, max_resolution{type, width, height}}`. The stream keeps
/// READY's `type` — `"video"`: "The voice server will still populate the
/// negotiated stream as `video` in Ready, as `video` is the actual
/// underlying media type" — as Discord-video-stream does on its Go Live
/// connection (`BaseMediaConnection.ts` `setVideoAttributes`: `type:
/// "video"`), and clankvox (`video_state.rs`, the type from READY); we used
/// to rewrite it to `"screen"`, which only Identify offers. A paused
/// source is the same stream with `active: false` ("When a local source
/// is paused, send another Video payload with that stream's `active` flag
/// set to `false`").
pub(crate) fn announcement(
    audio_ssrc: u32,
    ready_layer: &StreamDescriptor,
    ids: StreamIds,
    enc: &EncoderSettings,
    active: bool,
) -> Video {
    let mut layer = ready_layer.clone();
    layer.ssrc = Some(ids.ssrc);
    layer.rtx_ssrc = ids.rtx.map(|(s, _)| s);
    layer.active = Some(active);
    layer.max_bitrate = Some(u64::from(enc.bitrate_bps));
    layer.max_framerate = Some(enc.fps);
    layer.max_resolution = Some(MaxResolution {
        kind: ResolutionType::Fixed,
        width: enc.width as u32,
        height: enc.height as u32,
    });
    Video {
        user_id: None,
        audio_ssrc: Some(audio_ssrc),
        video_ssrc: Some(ids.ssrc),
        rtx_ssrc: layer.rtx_ssrc,
        streams: vec![layer],
    }
}

#[cfg(test)]
// Tests need one arbitrary base instant; everything after it is virtual time.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;

    fn ids() -> StreamIds {
        StreamIds {
            ssrc: 12872,
            rtx: Some((12873, 102)),
        }
    }

    fn settings() -> EncoderSettings {
        EncoderSettings {
            width: 1280,
            height: 720,
            fps: 15,
            bitrate_bps: 2_500_000,
            ..EncoderSettings::default()
        }
    }

    /// Parses one voice gateway message from the user docs' JSON.
    fn parse(text: &str) -> voice_proto::VoiceMessage {
        voice_proto::VoiceMessage::from_text(text).unwrap().0
    }

    #[test]
    fn announcement_has_the_user_docs_shape() {
        // READY's layer as the user docs show it (stream connections get
        // `video` even when `screen` was offered).
        let voice_proto::VoiceMessage::Video(ready) = parse(
            r#"{"op":12,"d":{"streams":[{"type":"video","ssrc":12872,"rtx_ssrc":12873,"rid":"100","quality":100,"active":false}]}}"#,
        ) else {
            panic!("op 12 parses");
        };
        let v = announcement(12871, &ready.streams[0], ids(), &settings(), true);
        // The user docs' "Example Video (Send)" with our limits.
        let expected = parse(
            r#"{"op":12,"d":{"audio_ssrc":12871,"video_ssrc":12872,"rtx_ssrc":12873,
                "streams":[{"type":"video","rid":"100","ssrc":12872,"active":true,"quality":100,
                "rtx_ssrc":12873,"max_bitrate":2500000,"max_framerate":15,
                "max_resolution":{"type":"fixed","width":1280,"height":720}}]}}"#,
        );
        let ours = voice_proto::VoiceMessage::Video(v);
        assert_eq!(ours.payload(), expected.payload());
        assert!(ours.to_text(None).contains(r#""type":"video""#));
        let paused = announcement(12871, &ready.streams[0], ids(), &settings(), false);
        assert_eq!(paused.streams[0].active, Some(false));
    }

    fn primary(seq: u16) -> Vec<u8> {
        let delay = playout_delay(0, 0);
        let ext = [ExtensionElement {
            id: PLAYOUT_DELAY_ID,
            data: &delay,
        }];
        let mut b = RtpBuilder::new(
            PayloadType::new(101).unwrap(),
            SeqNo(seq),
            RtpTimestamp(3000),
            Ssrc(1),
        );
        b.extensions = &ext;
        let mut out = Vec::new();
        b.write_to_vec(&[0x65, 1, 2, 3], &mut out).unwrap();
        out
    }

    #[test]
    fn sent_packets_are_stamped_recorded_and_repaired_by_rtx() {
        let (tx, _rx) = mpsc::sync_channel(1);
        let mut p = Publisher {
            tx,
            stream: send_stream(ids()),
        };
        let now = Instant::now();
        let mut sent = Vec::new();
        for seq in 10..14 {
            let mut pkt = primary(seq);
            assert!(p.on_send(&mut pkt, now));
            sent.push(pkt);
        }
        assert!(!p.on_send(&mut [0x80, 101], now));
        // Stamped with READY's SSRC, whatever the thread wrote.
        assert_eq!(rtp::peek_ssrc(&sent[0]), Some(Ssrc(12872)));
        let mut nack = Vec::new();
        rtp::rtcp::build::write_nack(&mut nack, Ssrc(9), Ssrc(12872), &[SeqNo(11)]).unwrap();
        let Some(Ok(rtp::RtcpPacket::Nack(n))) = rtp::rtcp::parse_compound(&nack).next() else {
            panic!("nack parses");
        };
        let rtx = p.on_nack(&n);
        assert_eq!(rtx.len(), 1);
        let r = rtp::RtpPacket::parse(&rtx[0]).unwrap();
        assert_eq!((r.ssrc(), r.payload_type().get()), (Ssrc(12873), 102));
        assert_eq!(&r.payload()[..2], &11u16.to_be_bytes());
        assert_eq!(&r.payload()[2..], &[0x65, 1, 2, 3]);
        // New session, new SSRCs: the old history is gone.
        p.set_ids(StreamIds {
            ssrc: 500,
            rtx: Some((501, 102)),
        });
        assert_eq!(p.ssrc(), 500);
        assert!(p.on_nack(&n).is_empty());
        // Sender reports once 5 s have passed with video flowing.
        let mut pkt = primary(14);
        assert!(p.on_send(&mut pkt, now));
        assert!(p.sender_report(now, 1).is_none());
        let sr = p.sender_report(now + Duration::from_secs(5), 1).unwrap();
        assert_eq!(&sr[..8], &[0x80, 200, 0, 6, 0, 0, 0x01, 0xf4]);
    }
}
