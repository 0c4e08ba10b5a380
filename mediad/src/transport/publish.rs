//! The stream_publish encoder thread: frames from control are decoded,
//! scaled and H264-encoded off the slot's task, paced at the configured
//! frame rate (the newest frame wins), packetized into RTP and handed to
//! the slot, which seals and sends them.

use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use ipc_schema::{PublishFormat, PublishFrame, TransportRole};
use rtp::{PayloadType, RtpBuilder, RtpTimestamp, SeqNo, Ssrc};
use tokio::sync::mpsc as tmpsc;
use video_pipeline::{EncoderSettings, InputFormat, PublishEncoder};

use super::slot::SlotCmd;

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

/// Handle on the encoder thread; dropping it ends the thread.
pub(crate) struct Publisher {
    tx: SyncSender<PubIn>,
}

/// What to publish on.
pub(crate) struct PublishSpec {
    pub role: TransportRole,
    pub ssrc: u32,
    pub payload_type: u8,
    pub settings: EncoderSettings,
    /// The slot's DAVE session: access units are encrypted before
    /// packetization.
    pub dave: super::dave::SharedDave,
}

impl Publisher {
    pub(crate) fn spawn(
        spec: PublishSpec,
        slot: tmpsc::UnboundedSender<SlotCmd>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name(format!("publish-{}", spec.ssrc))
            .spawn(move || run(spec, rx, slot))?;
        Ok(Self { tx })
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

fn run(spec: PublishSpec, rx: mpsc::Receiver<PubIn>, slot: tmpsc::UnboundedSender<SlotCmd>) {
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
    let mut packetizer = match h264_rtp::H264Packetizer::new(
        h264_rtp::PacketizerConfig {
            // Room for the rtpsize AEAD overhead and a header extension.
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
                    let mut b = RtpBuilder::new(
                        pt,
                        SeqNo(p.seq),
                        RtpTimestamp(p.timestamp),
                        Ssrc(spec.ssrc),
                    );
                    b.marker = p.marker;
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
        if slot.send(SlotCmd::SendRtp(packets)).is_err() {
            break;
        }
    }
    tracing::debug!(ssrc = spec.ssrc, "publisher stopped");
}
