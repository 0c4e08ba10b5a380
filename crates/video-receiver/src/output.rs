//! What the receiver hands back: frames, feedback to send, events, stats.

use std::time::Instant;

use rtp::{RtpTimestamp, SeqNo, Ssrc};
use video_pipeline::{EmittedFrame, VideoError};

/// One item from [`crate::VideoReceiver::poll_output`].
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A picture passed the subscriber's frame-rate gate and was encoded.
    Frame(ReceivedFrame),
    /// Sequence numbers of the media stream to NACK (RTCP Generic NACK,
    /// RFC 4585 §6.2.1): build it with `rtp::rtcp::build::write_nack`.
    Nack(Vec<SeqNo>),
    /// Ask the sender for a keyframe (RTCP PLI, and/or reassert OP15).
    /// Already rate-limited by the receiver.
    KeyframeRequest,
    /// Something worth knowing happened (for logs and diagnostics).
    Event(ReceiverEvent),
}

/// An emitted picture with its stream identity.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedFrame {
    /// The JPEG and its change metrics. `captured_at` is on the stream's
    /// media clock (see the crate docs), starting near zero.
    pub frame: EmittedFrame,
    /// RTP timestamp of the access unit.
    pub rtp_timestamp: RtpTimestamp,
    /// The media SSRC.
    pub ssrc: Ssrc,
    /// The `now` at which the access unit was complete.
    pub completed_at: Instant,
    /// The access unit was a keyframe.
    pub keyframe: bool,
    /// The picture was decoded from a damaged access unit, or after lost
    /// data without a keyframe since: it may show concealment artifacts.
    pub concealed: bool,
}

/// Why an assembled frame was not decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// Data was lost and no keyframe has arrived since: decoding it would
    /// only show artifacts (see `ReceiverConfig::hold_until_keyframe`).
    AwaitingKeyframe,
    /// The frame's data is cut short at a loss (VP8 keeps only the prefix
    /// before a gap): no decoder can use it.
    Incomplete,
    /// The frame transform (end-to-end decryption) failed.
    TransformFailed,
    /// The receiver's pipeline failed fatally earlier.
    PipelineFailed,
}

/// Diagnostics, in the order they happened.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ReceiverEvent {
    /// Packets were given up (waited `max_wait`, or pushed out of the
    /// reorder window).
    PacketsLost {
        /// First missing sequence number.
        first: SeqNo,
        /// Consecutive numbers missing.
        count: u32,
    },
    /// An assembled frame had missing or malformed data.
    DamagedFrame {
        /// Its RTP timestamp.
        rtp_timestamp: RtpTimestamp,
    },
    /// An assembled frame was not decoded.
    FrameSkipped {
        /// Its RTP timestamp.
        rtp_timestamp: RtpTimestamp,
        /// Why.
        reason: SkipReason,
    },
    /// The frame transform rejected a frame (e.g. DAVE authentication).
    TransformFailed {
        /// The frame's RTP timestamp.
        rtp_timestamp: RtpTimestamp,
        /// The transform's message.
        message: String,
    },
    /// The decoder rejected a frame (or a frame failed to encode).
    DecodeError {
        /// The frame's RTP timestamp.
        rtp_timestamp: RtpTimestamp,
        /// The pipeline's error.
        error: VideoError,
    },
    /// A keyframe was decoded: the picture is clean again.
    Recovered {
        /// The keyframe's RTP timestamp.
        rtp_timestamp: RtpTimestamp,
    },
    /// The pipeline failed fatally (a decoder reset could not create a new
    /// decoder); no more frames will be produced.
    PipelineFailed(VideoError),
    /// The stream's payload type changed to another codec: depacketizer and
    /// decoder were replaced and a keyframe requested.
    CodecChanged {
        /// The codec until now.
        from: crate::VideoCodec,
        /// The codec from this packet on.
        to: crate::VideoCodec,
    },
}

/// Counters since the receiver was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    /// RTP packets accepted for the stream (media and RTX).
    pub packets: u64,
    /// Packets of those that came on the RTX stream.
    pub rtx_packets: u64,
    /// RTX packets that filled a hole.
    pub rtx_recovered: u64,
    /// RTX packets without media (padding probes, OSN only).
    pub rtx_padding: u64,
    /// Packets dropped as duplicates.
    pub duplicates: u64,
    /// Packets that arrived after their hole was given up.
    pub too_late: u64,
    /// Packets refused as malformed.
    pub malformed: u64,
    /// Packets of other SSRCs or payload types.
    pub foreign: u64,
    /// Sequence numbers given up as lost.
    pub lost: u64,
    /// Sequence numbers listed in emitted NACKs (a hole counts once per NACK).
    pub nacked: u64,
    /// NACK outputs emitted.
    pub nacks_sent: u64,
    /// Frames (access units) assembled by the depacketizer.
    pub frames_assembled: u64,
    /// Frames assembled with missing or malformed data.
    pub frames_damaged: u64,
    /// Frames not decoded (see [`SkipReason`]).
    pub frames_skipped: u64,
    /// Pictures the decoder produced.
    pub frames_decoded: u64,
    /// Pictures emitted as JPEG.
    pub frames_emitted: u64,
    /// Frames the decoder rejected.
    pub decode_errors: u64,
    /// Frames the frame transform rejected.
    pub transform_errors: u64,
    /// Keyframe requests emitted (after rate limiting).
    pub keyframe_requests: u64,
    /// Times the stream switched codec (payload type of another codec).
    pub codec_switches: u64,
}
