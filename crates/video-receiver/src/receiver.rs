//! The receive chain itself.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rtp::{
    InsertOutcome, PayloadType, ReceiveStats, Released, ReorderBuffer, RtpPacket, RtpTimestamp,
    RtxMapping, SeqNo,
};
use video_pipeline::{
    FramePipeline, PipelineCounters, PipelineSettings, Stage, StageProbe, VideoError,
};

use crate::depack::{Assembled, Depacketizer};
use crate::keyframe::KeyframeRequester;
use crate::media_clock::MediaClock;
use crate::{
    FrameTransform, IdentityTransform, Output, ReceivedFrame, ReceiverConfig, ReceiverError,
    ReceiverEvent, ReceiverStats, SkipReason, VideoCodec,
};

/// Packet buffers kept for reuse; enough for a burst released at once.
const POOL_LIMIT: usize = 64;
/// Diagnostics kept when the caller does not drain [`VideoReceiver::poll_output`];
/// frames and feedback are never dropped, only events beyond this.
const MAX_QUEUED_EVENTS: usize = 1024;

/// Lets a boxed probe be passed where `impl StageProbe` is expected.
struct DynProbe<'a>(&'a mut (dyn StageProbe + Send));

impl StageProbe for DynProbe<'_> {
    fn stage_done(&mut self, stage: Stage) {
        self.0.stage_done(stage);
    }
}

/// A sans-IO receive chain for one video stream (see the crate docs).
pub struct VideoReceiver {
    config: ReceiverConfig,
    reorder: ReorderBuffer<Vec<u8>>,
    /// Emptied packet buffers, reused so steady state does not allocate.
    pool: Vec<Vec<u8>>,
    rtp_stats: ReceiveStats,
    depack: Depacketizer,
    transform: Box<dyn FrameTransform>,
    /// `None` after a fatal pipeline error.
    pipeline: Option<FramePipeline>,
    probe: Option<Box<dyn StageProbe + Send>>,
    clock: MediaClock,
    /// The first `now` seen: origin of the pipeline's time axis.
    epoch: Option<Instant>,
    keyframes: KeyframeRequester,
    /// When the current loss episode started; `None` while the picture is
    /// clean (no loss since the last intact keyframe).
    corrupt_since: Option<Instant>,
    /// The last packet handed to the depacketizer: (seq, timestamp, marker).
    last_released: Option<(SeqNo, RtpTimestamp, bool)>,
    /// Timestamp of a frame with a sequence gap *between two of its own
    /// packets* (the depacketizer cannot tell those from gaps before it).
    gap_in_frame: Option<RtpTimestamp>,
    /// Padding-only packets skipped so far; subtracted from sequence numbers
    /// given to the depacketizer so a skipped packet is not seen as a loss.
    seq_shift: u16,
    /// Payload type learned from the first media packet when none is
    /// configured (needed to rebuild RTX packets).
    learned_pt: Option<PayloadType>,
    outputs: VecDeque<Output>,
    queued_events: usize,
    nack_buf: Vec<SeqNo>,
    stats: ReceiverStats,
    /// The codec being depacketized and decoded now.
    codec: VideoCodec,
    /// Builds the pipeline for a codec the stream switches to.
    make_pipeline: PipelineFactory,
    /// Pictures decoded by pipelines replaced at codec switches.
    decoded_before: u64,
}

/// Builds a pipeline for a codec (real decoders, or fakes in tests).
pub type PipelineFactory = fn(VideoCodec, PipelineSettings) -> Result<FramePipeline, VideoError>;

fn real_pipeline(
    codec: VideoCodec,
    settings: PipelineSettings,
) -> Result<FramePipeline, VideoError> {
    match codec {
        VideoCodec::H264 => FramePipeline::h264(settings),
        VideoCodec::Vp8 => FramePipeline::vp8(settings),
    }
}

impl std::fmt::Debug for VideoReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoReceiver")
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl VideoReceiver {
    /// A receiver with a fresh decoder for `config.codec`.
    ///
    /// # Errors
    /// [`ReceiverError::Pipeline`] if the decoder or JPEG encoder cannot be
    /// created.
    pub fn new(config: ReceiverConfig) -> Result<Self, ReceiverError> {
        let pipeline =
            real_pipeline(config.codec, config.pipeline).map_err(ReceiverError::Pipeline)?;
        Ok(Self::with_pipeline(config, pipeline))
    }

    /// Replaces how pipelines are built when the stream switches codec
    /// (the default builds real decoders).
    pub fn set_pipeline_factory(&mut self, factory: PipelineFactory) {
        self.make_pipeline = factory;
    }

    /// The codec being decoded now (follows the payload type when
    /// [`ReceiverConfig::payload_codecs`] is set).
    pub fn codec(&self) -> VideoCodec {
        self.codec
    }

    /// A receiver over a caller-built pipeline (e.g. one with a fake decoder).
    /// The pipeline's decoder must match `config.codec`.
    pub fn with_pipeline(config: ReceiverConfig, pipeline: FramePipeline) -> Self {
        VideoReceiver {
            reorder: ReorderBuffer::new(config.reorder),
            pool: Vec::new(),
            rtp_stats: ReceiveStats::new(config.clock_rate),
            depack: Depacketizer::new(config.codec),
            transform: Box::new(IdentityTransform),
            pipeline: Some(pipeline),
            probe: None,
            clock: MediaClock::new(config.clock_rate),
            epoch: None,
            keyframes: KeyframeRequester::new(
                config.keyframe_request_interval,
                config.keyframe_retry_interval,
            ),
            corrupt_since: None,
            last_released: None,
            gap_in_frame: None,
            seq_shift: 0,
            learned_pt: config.payload_type,
            outputs: VecDeque::new(),
            queued_events: 0,
            nack_buf: Vec::new(),
            stats: ReceiverStats::default(),
            codec: config.codec,
            make_pipeline: real_pipeline,
            decoded_before: 0,
            config,
        }
    }

    /// Installs the end-to-end decryption step (DAVE); see [`FrameTransform`].
    pub fn set_transform(&mut self, mut transform: Box<dyn FrameTransform>) {
        transform.set_codec(self.codec);
        self.transform = transform;
    }

    /// Installs (or removes) a probe told about every pipeline stage
    /// boundary, for benchmarks.
    pub fn set_stage_probe(&mut self, probe: Option<Box<dyn StageProbe + Send>>) {
        self.probe = probe;
    }

    /// Changes the subscriber's settings from the next frame on.
    pub fn set_pipeline_settings(&mut self, settings: PipelineSettings) {
        self.config.pipeline = settings;
        if let Some(p) = &mut self.pipeline {
            p.set_settings(settings);
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ReceiverConfig {
        &self.config
    }

    /// Counters since creation.
    pub fn stats(&self) -> ReceiverStats {
        self.stats
    }

    /// RTP reception statistics of the media stream (for RTCP receiver
    /// reports: `receive_stats_mut().report_block(now, ssrc)`).
    pub fn receive_stats_mut(&mut self) -> &mut ReceiveStats {
        &mut self.rtp_stats
    }

    /// The pipeline's counters (`None` after a fatal pipeline error).
    pub fn pipeline_counters(&self) -> Option<PipelineCounters> {
        self.pipeline.as_ref().map(FramePipeline::counters)
    }

    /// True once the pipeline failed fatally; drop and recreate the receiver.
    pub fn is_failed(&self) -> bool {
        self.pipeline.is_none()
    }

    /// Handles one plaintext RTP packet (transport decryption done) of the
    /// media or RTX stream, received at `now`. Drain [`poll_output`]
    /// afterwards.
    ///
    /// # Errors
    /// Per-packet only ([`ReceiverError::Malformed`], [`ReceiverError::ForeignSsrc`],
    /// [`ReceiverError::UnexpectedPayloadType`]); the receiver stays usable.
    ///
    /// [`poll_output`]: Self::poll_output
    pub fn handle_rtp(&mut self, now: Instant, packet: &[u8]) -> Result<(), ReceiverError> {
        self.epoch.get_or_insert(now);
        let parsed = RtpPacket::parse(packet).inspect_err(|_| self.stats.malformed += 1)?;
        let (ssrc, pt) = (parsed.ssrc(), parsed.payload_type());
        if ssrc == self.config.media_ssrc {
            let refused = if self.config.payload_codecs.is_empty() {
                self.config.payload_type.is_some_and(|want| want != pt)
            } else {
                !self
                    .config
                    .payload_codecs
                    .iter()
                    .any(|c| c.payload_type == pt)
            };
            if refused {
                self.stats.foreign += 1;
                return Err(ReceiverError::UnexpectedPayloadType(pt));
            }
            self.learned_pt.get_or_insert(pt);
            self.stats.packets += 1;
            let seq = parsed.sequence();
            self.rtp_stats.on_packet(now, seq, parsed.timestamp());
            let mut buf = self.pool.pop().unwrap_or_default();
            buf.clear();
            buf.extend_from_slice(packet);
            self.insert(now, seq, buf);
        } else if let Some(rtx) = self.config.rtx.filter(|r| r.ssrc == ssrc) {
            // Which media payload type this RTX payload type repairs.
            let primary = self
                .config
                .payload_codecs
                .iter()
                .find(|c| c.rtx_payload_type == Some(pt))
                .map(|c| c.payload_type);
            if pt != rtx.payload_type && primary.is_none() {
                self.stats.foreign += 1;
                return Err(ReceiverError::UnexpectedPayloadType(pt));
            }
            self.stats.packets += 1;
            self.stats.rtx_packets += 1;
            if parsed.payload().len() <= 2 {
                // Padding probe (no OSN, or an OSN without media): nothing
                // to repair. Bandwidth probes look exactly like this.
                self.stats.rtx_padding += 1;
                return Ok(());
            }
            let mapping = RtxMapping {
                rtx_ssrc: rtx.ssrc,
                rtx_pt: rtx.payload_type,
                primary_ssrc: self.config.media_ssrc,
                primary_pt: primary.or(self.learned_pt).unwrap_or(pt),
            };
            let mut buf = self.pool.pop().unwrap_or_default();
            buf.clear();
            let osn = mapping.view(&parsed).map(|v| v.osn);
            let unwrapped = mapping.unwrap_into(&parsed, &mut buf);
            let (Ok(osn), Ok(_)) = (osn, unwrapped) else {
                self.stats.malformed += 1;
                self.pool.push(buf);
                return Err(ReceiverError::Malformed(rtp::RtpError::NotRtx));
            };
            if matches!(
                self.insert(now, osn, buf),
                InsertOutcome::Accepted | InsertOutcome::AcceptedWithOverflow
            ) {
                self.stats.rtx_recovered += 1;
            }
        } else {
            self.stats.foreign += 1;
            return Err(ReceiverError::ForeignSsrc(ssrc));
        }
        self.drain(now);
        Ok(())
    }

    /// Advances time: gives up holes, sends due NACKs and keyframe requests.
    /// Call at [`poll_timeout`](Self::poll_timeout) (or any later time).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.epoch.get_or_insert(now);
        self.reorder.handle_timeout(now);
        self.drain(now);
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next;
    /// `None` when nothing waits on time.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.reorder.poll_timeout(), self.keyframes.next_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next output, oldest first.
    pub fn poll_output(&mut self) -> Option<Output> {
        let out = self.outputs.pop_front();
        if matches!(out, Some(Output::Event(_))) {
            self.queued_events = self.queued_events.saturating_sub(1);
        }
        out
    }

    /// End of stream: gives up every hole, releases everything held and
    /// emits the frame in progress. The receiver stays usable.
    pub fn flush(&mut self, now: Instant) {
        self.epoch.get_or_insert(now);
        let give_up = now + self.reorder.config().max_wait;
        self.reorder.handle_timeout(give_up);
        self.drain(now);
        self.depack.flush();
        self.process_frames(now);
    }

    fn insert(&mut self, now: Instant, seq: SeqNo, buf: Vec<u8>) -> InsertOutcome {
        let outcome = self.reorder.insert(now, seq, buf);
        match outcome {
            InsertOutcome::Duplicate => self.stats.duplicates += 1,
            InsertOutcome::TooOld => self.stats.too_late += 1,
            InsertOutcome::Accepted | InsertOutcome::AcceptedWithOverflow => {}
        }
        outcome
    }

    /// Releases what the reorder buffer lets go, then NACKs and keyframe
    /// requests that are due.
    fn drain(&mut self, now: Instant) {
        while let Some(item) = self.reorder.pop_ready() {
            match item {
                Released::Packet { seq, packet } => {
                    self.release(now, seq, &packet);
                    if self.pool.len() < POOL_LIMIT {
                        self.pool.push(packet);
                    }
                }
                Released::Gap { first, count } => {
                    self.stats.lost += u64::from(count);
                    self.event(ReceiverEvent::PacketsLost { first, count });
                    self.start_corruption(now);
                }
            }
        }
        if self.config.send_nacks {
            self.nack_buf.clear();
            let n = self.reorder.poll_nack_into(now, &mut self.nack_buf);
            if n > 0 {
                self.stats.nacks_sent += 1;
                self.stats.nacked += n as u64;
                self.outputs.push_back(Output::Nack(self.nack_buf.clone()));
            }
        }
        if self.keyframes.poll(now) {
            self.stats.keyframe_requests += 1;
            self.outputs.push_back(Output::KeyframeRequest);
        }
    }

    /// One packet, in sequence order, into the depacketizer.
    fn release(&mut self, now: Instant, seq: SeqNo, bytes: &[u8]) {
        // Stored packets were parsed on the way in; this cannot fail, but
        // if it did, the sequence gap it leaves is handled like a loss.
        let Ok(p) = RtpPacket::parse(bytes) else {
            return;
        };
        let (ts, marker) = (p.timestamp(), p.marker());
        self.follow_payload_type(now, p.payload_type());
        if let Some((last_seq, last_ts, last_marker)) = self.last_released
            && seq != last_seq.next()
            && ts == last_ts
            && !last_marker
        {
            self.gap_in_frame = Some(ts);
        }
        self.last_released = Some((seq, ts, marker));
        if p.payload().is_empty() {
            // Padding only: no media, and not a loss either.
            self.seq_shift = self.seq_shift.wrapping_add(1);
            return;
        }
        let depack_seq = seq.0.wrapping_sub(self.seq_shift);
        if let Err(true) = self.depack.push(depack_seq, ts.0, marker, p.payload()) {
            self.keyframes.request(false);
        }
        self.process_frames(now);
    }

    /// Switches depacketizer and decoder when a packet, in sequence order,
    /// carries the payload type of another codec than the current one.
    /// Frames of the old codec still in the depacketizer are finished
    /// first; the new codec starts clean and waits for its keyframe.
    fn follow_payload_type(&mut self, now: Instant, pt: PayloadType) {
        let Some(to) = self
            .config
            .payload_codecs
            .iter()
            .find(|c| c.payload_type == pt)
            .map(|c| c.codec)
        else {
            return;
        };
        if to == self.codec {
            return;
        }
        let from = self.codec;
        self.depack.flush();
        self.process_frames(now);
        self.depack = Depacketizer::new(to);
        self.codec = to;
        self.config.codec = to;
        self.transform.set_codec(to);
        self.gap_in_frame = None;
        self.stats.codec_switches += 1;
        self.event(ReceiverEvent::CodecChanged { from, to });
        if let Some(old) = self.pipeline.take() {
            self.decoded_before += old.counters().decoded;
        }
        match (self.make_pipeline)(to, self.config.pipeline) {
            Ok(p) => self.pipeline = Some(p),
            Err(error) => self.event(ReceiverEvent::PipelineFailed(error)),
        }
        // Nothing of the new codec can be decoded before its keyframe.
        self.corrupt_since = None;
        self.start_corruption(now);
    }

    fn process_frames(&mut self, now: Instant) {
        while let Some(frame) = self.depack.poll() {
            self.process_frame(now, frame);
        }
    }

    fn process_frame(&mut self, now: Instant, mut frame: Assembled) {
        self.stats.frames_assembled += 1;
        let ts = RtpTimestamp(frame.timestamp());
        let gap_inside = self.gap_in_frame == Some(ts);
        if gap_inside {
            self.gap_in_frame = None;
        }
        let damaged = frame.damaged() || gap_inside;
        if damaged {
            self.stats.frames_damaged += 1;
            self.event(ReceiverEvent::DamagedFrame { rtp_timestamp: ts });
        }
        if self.pipeline.is_none() {
            self.skip(ts, SkipReason::PipelineFailed);
            self.depack.recycle(frame);
            return;
        }
        if let Err(message) = self.transform.transform(frame.data_mut()) {
            self.stats.transform_errors += 1;
            self.event(ReceiverEvent::TransformFailed {
                rtp_timestamp: ts,
                message,
            });
            self.start_corruption(now);
            self.skip(ts, SkipReason::TransformFailed);
            self.depack.recycle(frame);
            return;
        }
        if self.depack.apply_parameter_sets(&mut frame) {
            // An IDR without SPS/PPS: the decoder cannot start from it.
            self.keyframes.request(false);
        }
        let clean_keyframe = frame.is_clean_keyframe(gap_inside);
        if clean_keyframe {
            self.keyframes.keyframe_received();
            if self.corrupt_since.take().is_some() {
                self.event(ReceiverEvent::Recovered { rtp_timestamp: ts });
            }
        } else if damaged || frame.lost_before() {
            self.start_corruption(now);
        }
        if frame.truncated() {
            self.skip(ts, SkipReason::Incomplete);
            self.depack.recycle(frame);
            return;
        }
        if let Some(since) = self.corrupt_since
            && !frame.is_keyframe()
            && let Some(limit) = self.config.hold_until_keyframe
        {
            if now < since + limit {
                self.skip(ts, SkipReason::AwaitingKeyframe);
                self.depack.recycle(frame);
                return;
            }
            // Waited long enough: decode through the damage from here on.
            self.keyframes.stop_awaiting();
        }
        // A keyframe charged with a gap before it is still a clean picture.
        let concealed = (damaged && !clean_keyframe) || self.corrupt_since.is_some();
        self.decode(now, ts, &frame, concealed);
        self.depack.recycle(frame);
    }

    fn decode(&mut self, now: Instant, ts: RtpTimestamp, frame: &Assembled, concealed: bool) {
        let Some(pipeline) = self.pipeline.as_mut() else {
            return;
        };
        let arrival = now.saturating_duration_since(self.epoch.unwrap_or(now));
        let media_time: Duration = self.clock.map(ts, arrival);
        let result = match self.probe.as_mut() {
            Some(probe) => {
                pipeline.push_probed(frame.data(), media_time, &mut DynProbe(&mut **probe))
            }
            None => pipeline.push(frame.data(), media_time),
        };
        let wants_keyframe = pipeline.take_keyframe_request();
        self.stats.frames_decoded = self.decoded_before + pipeline.counters().decoded;
        match result {
            Ok(Some(emitted)) => {
                self.stats.frames_emitted += 1;
                self.outputs.push_back(Output::Frame(ReceivedFrame {
                    frame: emitted,
                    rtp_timestamp: ts,
                    ssrc: self.config.media_ssrc,
                    completed_at: now,
                    keyframe: frame.is_keyframe(),
                    concealed,
                }));
            }
            Ok(None) => {}
            Err(error) if error.is_fatal() => {
                self.pipeline = None;
                self.event(ReceiverEvent::PipelineFailed(error));
            }
            Err(error) => self.decode_failed(now, ts, error),
        }
        if wants_keyframe {
            self.keyframes.request(false);
        }
    }

    fn decode_failed(&mut self, now: Instant, ts: RtpTimestamp, error: VideoError) {
        let picture_lost = error.should_request_keyframe();
        self.stats.decode_errors += 1;
        self.event(ReceiverEvent::DecodeError {
            rtp_timestamp: ts,
            error,
        });
        if picture_lost {
            // The decoder's references no longer match the sender's.
            self.start_corruption(now);
        }
    }

    /// Data was lost: remember since when, and ask for a keyframe.
    fn start_corruption(&mut self, now: Instant) {
        self.corrupt_since.get_or_insert(now);
        self.keyframes
            .request(self.config.hold_until_keyframe.is_some());
    }

    fn skip(&mut self, ts: RtpTimestamp, reason: SkipReason) {
        self.stats.frames_skipped += 1;
        self.event(ReceiverEvent::FrameSkipped {
            rtp_timestamp: ts,
            reason,
        });
    }

    fn event(&mut self, event: ReceiverEvent) {
        if self.queued_events < MAX_QUEUED_EVENTS {
            self.queued_events += 1;
            self.outputs.push_back(Output::Event(event));
        }
    }
}
