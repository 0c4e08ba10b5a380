//! Video a client publishes (Go Live or webcam): put back in order with
//! losses NACKed and repaired by the client's RTX, depacketized, decoded
//! and re-encoded as JPEG so tests and the admin API can see what was sent.
//!
//! The receive side of a stream_publish is the SFU's, so it does what the
//! user docs say Discord does to a video sender (discord-userdoccers
//! `voice-connections.mdx`, "RTCP and RTX", 3dc0ca92): "When the server
//! reports missing video packets, retransmit them as RTX packets" — the
//! server NACKs holes (RTPFB 205 FMT 1) and counts which RTX packets fill
//! them. The ordering here is written for the simulator on purpose (not
//! `rtp::ReorderBuffer`, which the client's receive chain uses), so the two
//! sides check each other.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use h264_rtp::{H264Depacketizer, ParameterSetCache};
use video_pipeline::{H264Decoder, JpegEncoder, VideoDecoder};

use crate::report::PublishedFrame;

/// Frames kept per (room, user).
pub(crate) const PUBLISHED_CAPACITY: usize = 32;

/// At most one JPEG per this interval per publisher: decoding must see
/// every access unit, JPEG encoding need not.
const JPEG_INTERVAL: Duration = Duration::from_millis(100);

/// How long a hole waits for its RTX before the packets behind it are
/// released without it.
const REPAIR_WAIT: Duration = Duration::from_millis(300);
/// A hole is NACKed again after this long without repair...
const RENACK_AFTER: Duration = Duration::from_millis(60);
/// ...at most this many times in all.
const MAX_NACKS: u8 = 3;
/// Packets held behind holes; beyond this the oldest hole is given up.
const MAX_HELD: usize = 512;
/// A jump of more than this many sequence numbers restarts the order
/// (a new sender, not loss).
const MAX_GAP: u64 = 256;

/// One published RTP packet's fields (RTX already unwrapped to the
/// primary stream by the caller).
#[derive(Debug, Clone)]
pub(crate) struct PublishedPacket {
    pub seq: u16,
    pub timestamp: u32,
    pub marker: bool,
    pub payload: Vec<u8>,
    /// It arrived as RTX (RFC 4588) on the stream's `rtx_ssrc`.
    pub rtx: bool,
}

/// A hole in the sequence.
#[derive(Debug, Clone, Copy)]
struct Hole {
    since: Instant,
    last_nack: Instant,
    nacks: u8,
}

/// The SFU's in-order view of one published stream.
#[derive(Debug, Default)]
struct Order {
    /// Next extended sequence number to release.
    next: Option<u64>,
    /// Highest extended sequence number seen.
    highest: u64,
    held: BTreeMap<u64, PublishedPacket>,
    holes: BTreeMap<u64, Hole>,
}

/// What the order made of one packet.
#[derive(Debug, Default)]
struct OrderOutcome {
    /// Packets to depacketize, in sequence order.
    ready: Vec<PublishedPacket>,
    /// Sequence numbers to NACK now (ascending, wrap-aware).
    nack: Vec<u16>,
    /// The packet was RTX filling a hole.
    repaired: bool,
    /// Holes given up on.
    lost: u64,
}

impl Order {
    fn extend(&self, seq: u16) -> u64 {
        let Some(_) = self.next else {
            return u64::from(seq) + (1 << 16);
        };
        let delta = i64::from(seq.wrapping_sub(self.highest as u16) as i16);
        (self.highest as i64 + delta).max(0) as u64
    }

    fn push(&mut self, pkt: PublishedPacket, now: Instant) -> OrderOutcome {
        let mut out = OrderOutcome::default();
        let ext = self.extend(pkt.seq);
        let next = match self.next {
            Some(n) if ext + MAX_GAP >= n && ext <= self.highest + MAX_GAP => n,
            // First packet, or a jump no loss explains: start over here.
            _ => {
                out.lost += self.holes.len() as u64;
                self.holes.clear();
                out.ready
                    .extend(std::mem::take(&mut self.held).into_values());
                self.highest = ext;
                ext
            }
        };
        self.next = Some(next);
        if ext < next || self.held.contains_key(&ext) {
            // Late (its hole was given up) or a duplicate.
            return out;
        }
        if ext > self.highest {
            for missing in self.highest + 1..ext {
                self.holes.insert(
                    missing,
                    Hole {
                        since: now,
                        last_nack: now,
                        nacks: 1,
                    },
                );
                out.nack.push(missing as u16);
            }
            self.highest = ext;
        }
        out.repaired = self.holes.remove(&ext).is_some() && pkt.rtx;
        self.held.insert(ext, pkt);
        self.release(now, &mut out);
        for (seq, h) in self.holes.iter_mut() {
            if h.nacks < MAX_NACKS && now.duration_since(h.last_nack) >= RENACK_AFTER {
                h.nacks += 1;
                h.last_nack = now;
                if !out.nack.contains(&(*seq as u16)) {
                    out.nack.push(*seq as u16);
                }
            }
        }
        out
    }

    fn release(&mut self, now: Instant, out: &mut OrderOutcome) {
        let Some(mut next) = self.next else { return };
        loop {
            if let Some(p) = self.held.remove(&next) {
                out.ready.push(p);
                next += 1;
                continue;
            }
            let Some(h) = self.holes.get(&next) else {
                break;
            };
            let expired = now.duration_since(h.since) >= REPAIR_WAIT;
            if expired || self.held.len() > MAX_HELD {
                self.holes.remove(&next);
                out.lost += 1;
                next += 1;
                continue;
            }
            break;
        }
        self.next = Some(next);
    }
}

/// Decoder state of one published video SSRC.
pub(crate) struct PublishDecoder {
    order: Order,
    depack: H264Depacketizer,
    params: ParameterSetCache,
    decoder: Option<H264Decoder>,
    jpeg: Option<JpegEncoder>,
    last_jpeg: Option<Instant>,
    /// Decoded pictures.
    pub decoded: u64,
}

/// Result of feeding one RTP packet.
#[derive(Debug, Default)]
pub(crate) struct PublishOutcome {
    /// A frame to store.
    pub frame: Option<PublishedFrame>,
    /// The decoder asks for a keyframe (send a PLI to the publisher).
    pub want_keyframe: bool,
    /// Pictures decoded by this packet.
    pub decoded: u64,
    /// Sequence numbers to NACK to the publisher (ascending).
    pub nack: Vec<u16>,
    /// The packet was an RTX repair of a hole.
    pub repaired: bool,
    /// Holes given up on (their packets never came).
    pub lost: u64,
}

impl PublishDecoder {
    /// A decoder; the native decoder and JPEG encoder are created lazily.
    pub(crate) fn new() -> Self {
        Self {
            order: Order::default(),
            depack: H264Depacketizer::default(),
            params: ParameterSetCache::new(),
            decoder: None,
            jpeg: None,
            last_jpeg: None,
            decoded: 0,
        }
    }

    /// Feeds one (transport-decrypted, RTX-unwrapped) RTP packet: it is
    /// put in order (holes NACKed), and what is in order is depacketized
    /// and decoded. `e2ee` sees every reassembled access unit before
    /// decoding: it may replace it (DAVE decryption) or refuse it (`false`:
    /// dropped).
    pub(crate) fn push(
        &mut self,
        pkt: PublishedPacket,
        now: Instant,
        unix_ms: u64,
        e2ee: &mut dyn FnMut(&mut Vec<u8>) -> bool,
    ) -> PublishOutcome {
        let ordered = self.order.push(pkt, now);
        let mut outcome = PublishOutcome {
            nack: ordered.nack,
            repaired: ordered.repaired,
            lost: ordered.lost,
            ..PublishOutcome::default()
        };
        for p in ordered.ready {
            self.depacketize(&p, now, unix_ms, e2ee, &mut outcome);
        }
        outcome
    }

    fn depacketize(
        &mut self,
        p: &PublishedPacket,
        now: Instant,
        unix_ms: u64,
        e2ee: &mut dyn FnMut(&mut Vec<u8>) -> bool,
        outcome: &mut PublishOutcome,
    ) {
        if p.payload.is_empty() {
            return;
        }
        if let Err(e) = self.depack.push(p.seq, p.timestamp, p.marker, &p.payload) {
            outcome.want_keyframe |= e.should_request_keyframe();
        }
        while let Some(mut au) = self.depack.poll() {
            // DAVE first: SPS/PPS caching would shift the clear ranges.
            if !e2ee(&mut au.data) {
                self.depack.recycle(au);
                continue;
            }
            self.params.apply(&mut au.data);
            if self.decoder.is_none() {
                self.decoder = H264Decoder::new().ok();
            }
            let Some(dec) = self.decoder.as_mut() else {
                self.depack.recycle(au);
                continue;
            };
            let picture = dec.decode(&au.data);
            let frame = match picture {
                Ok(Some(yuv)) => {
                    outcome.decoded += 1;
                    self.decoded += 1;
                    let due = self
                        .last_jpeg
                        .is_none_or(|t| now.duration_since(t) >= JPEG_INTERVAL);
                    if due {
                        if self.jpeg.is_none() {
                            self.jpeg = JpegEncoder::new().ok();
                        }
                        self.jpeg
                            .as_mut()
                            .and_then(|j| j.encode(&yuv, 80).ok())
                            .map(|jpeg| PublishedFrame {
                                jpeg,
                                width: yuv.width() as u32,
                                height: yuv.height() as u32,
                                rtp_timestamp: au.timestamp,
                                received_at_unix_ms: unix_ms,
                            })
                    } else {
                        None
                    }
                }
                _ => None,
            };
            if frame.is_some() {
                self.last_jpeg = Some(now);
                outcome.frame = frame;
            }
            outcome.want_keyframe |= dec.take_keyframe_request();
            self.depack.recycle(au);
        }
    }
}

/// Appends `frame`, keeping the newest [`PUBLISHED_CAPACITY`].
pub(crate) fn store(frames: &mut VecDeque<PublishedFrame>, frame: PublishedFrame) {
    if frames.len() >= PUBLISHED_CAPACITY {
        frames.pop_front();
    }
    frames.push_back(frame);
}

#[cfg(test)]
// Tests need one arbitrary base instant; everything after it is virtual time.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;

    fn pkt(seq: u16, rtx: bool) -> PublishedPacket {
        PublishedPacket {
            seq,
            timestamp: 0,
            marker: false,
            payload: vec![1],
            rtx,
        }
    }

    fn seqs(v: &[PublishedPacket]) -> Vec<u16> {
        v.iter().map(|p| p.seq).collect()
    }

    #[test]
    fn holes_are_nacked_and_filled_by_rtx_in_order() {
        let t = Instant::now();
        let mut o = Order::default();
        assert_eq!(seqs(&o.push(pkt(65_534, false), t).ready), vec![65_534]);
        // 65 535 and 0 lost (across the wrap): NACKed at once, 1 held.
        let r = o.push(pkt(1, false), t);
        assert_eq!(r.nack, vec![65_535, 0]);
        assert!(r.ready.is_empty());
        // A primary packet filling a hole is not a repair.
        let r = o.push(pkt(65_535, false), t);
        assert!(!r.repaired);
        assert_eq!(seqs(&r.ready), vec![65_535]);
        // The RTX repair releases everything behind it.
        let r = o.push(pkt(0, true), t + Duration::from_millis(20));
        assert!(r.repaired);
        assert_eq!(seqs(&r.ready), vec![0, 1]);
        // The same RTX again is a duplicate.
        let r = o.push(pkt(0, true), t + Duration::from_millis(30));
        assert!(!r.repaired && r.ready.is_empty());
    }

    #[test]
    fn unrepaired_holes_are_renacked_then_given_up() {
        let t = Instant::now();
        let mut o = Order::default();
        o.push(pkt(10, false), t);
        assert_eq!(o.push(pkt(12, false), t).nack, vec![11]);
        let r = o.push(pkt(13, false), t + RENACK_AFTER);
        assert_eq!(r.nack, vec![11]);
        let r = o.push(pkt(14, false), t + RENACK_AFTER * 2);
        assert_eq!(r.nack, vec![11]);
        // Third NACK was the last.
        let r = o.push(pkt(15, false), t + RENACK_AFTER * 3);
        assert!(r.nack.is_empty());
        let r = o.push(pkt(16, false), t + REPAIR_WAIT);
        assert_eq!(r.lost, 1);
        assert_eq!(seqs(&r.ready), vec![12, 13, 14, 15, 16]);
        // Too late now.
        let r = o.push(pkt(11, true), t + REPAIR_WAIT);
        assert!(!r.repaired && r.ready.is_empty());
    }

    #[test]
    fn a_jump_restarts_without_nacking_the_world() {
        let t = Instant::now();
        let mut o = Order::default();
        o.push(pkt(100, false), t);
        let r = o.push(pkt(30_000, false), t);
        assert!(r.nack.is_empty());
        assert_eq!(seqs(&r.ready), vec![30_000]);
    }
}
