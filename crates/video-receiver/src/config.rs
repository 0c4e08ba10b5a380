//! What one receive chain is set up with.

use std::time::Duration;

use rtp::{PayloadType, ReorderConfig, RtxMapping, Ssrc};
use video_pipeline::PipelineSettings;

/// The video codec of a stream (one receiver handles one codec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    /// H264, RFC 6184 packetization-mode 1.
    H264,
    /// VP8, RFC 7741.
    Vp8,
}

impl std::fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::H264 => "H264",
            Self::Vp8 => "VP8",
        })
    }
}

/// The RTX (RFC 4588) stream paired with the media stream: Discord
/// announces `rtx_ssrc` per stream and `rtx_payload_type` per codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtxConfig {
    /// SSRC of the RTX stream.
    pub ssrc: Ssrc,
    /// Payload type of the RTX stream.
    pub payload_type: PayloadType,
}

impl From<RtxMapping> for RtxConfig {
    fn from(m: RtxMapping) -> Self {
        RtxConfig {
            ssrc: m.rtx_ssrc,
            payload_type: m.rtx_pt,
        }
    }
}

/// One payload type a stream may carry: its codec and the payload type of
/// its retransmissions. Discord clients declare these in Select Protocol
/// (op 1 `codecs`), and the SFU forwards each sender's video with the
/// receiver's declared payload type (user-docs: "Payload types are
/// client-chosen"), so the payload type of a packet says its codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadCodec {
    /// The media payload type.
    pub payload_type: PayloadType,
    /// The codec it carries.
    pub codec: VideoCodec,
    /// The RTX payload type paired with it, if any.
    pub rtx_payload_type: Option<PayloadType>,
}

/// Everything a [`crate::VideoReceiver`] needs to know about its stream.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiverConfig {
    /// Codec of the media stream (the first one, when `payload_codecs`
    /// lets it switch).
    pub codec: VideoCodec,
    /// SSRC of the media stream; packets of other SSRCs (except the RTX
    /// one) are refused with [`crate::ReceiverError::ForeignSsrc`].
    pub media_ssrc: Ssrc,
    /// Payload type of the media stream. `None` accepts any payload type on
    /// `media_ssrc` (replaying a capture whose SDP is unknown). Ignored when
    /// `payload_codecs` is not empty.
    pub payload_type: Option<PayloadType>,
    /// The payload types the stream may switch between, with their codecs.
    /// When not empty, a media packet must carry one of them, the codec of
    /// each packet is the one of its payload type (`codec` is only the
    /// codec to start with), and the receiver switches depacketizer and
    /// decoder when it changes; RTX packets may carry any listed
    /// `rtx_payload_type` (the RTX stream's own `rtx.payload_type` is then
    /// only one of them).
    pub payload_codecs: Vec<PayloadCodec>,
    /// The paired RTX stream, if one was negotiated.
    pub rtx: Option<RtxConfig>,
    /// Reorder buffer and NACK timing.
    pub reorder: ReorderConfig,
    /// Emit [`crate::Output::Nack`] for holes. Turn off when the sender is
    /// known not to retransmit: the holes are then only waited for
    /// (reordering) and given up after `reorder.max_wait`.
    pub send_nacks: bool,
    /// Subscriber settings for the decode → gate → scale → JPEG pipeline.
    pub pipeline: PipelineSettings,
    /// Minimum spacing of [`crate::Output::KeyframeRequest`]s. A burst of
    /// loss damages many frames in a row; one request is what the sender
    /// needs, more only cost it bandwidth.
    pub keyframe_request_interval: Duration,
    /// While frames are held back waiting for a keyframe, repeat the request
    /// this often (PLIs get lost too, and Discord may ignore some).
    pub keyframe_retry_interval: Duration,
    /// How long, after data was lost, frames that depend on it are held back
    /// (not decoded, not shown) waiting for a keyframe. Past this, decoding
    /// resumes and the decoder conceals (smeared but live pictures beat a
    /// picture frozen for a whole GOP). `None` never holds frames back:
    /// damaged frames are decoded and concealed at once, as the reference
    /// implementation does.
    pub hold_until_keyframe: Option<Duration>,
    /// RTP clock rate of the stream (90 kHz for all video codecs here).
    pub clock_rate: u32,
}

impl ReceiverConfig {
    /// A configuration with defaults for everything but the stream identity:
    /// no RTX, default reorder timing but up to 5 NACKs per hole, NACKs on,
    /// default pipeline settings,
    /// keyframe requests at most every 500 ms (retried every 1.5 s), and
    /// damaged frames held back for up to 3 s.
    pub fn new(codec: VideoCodec, media_ssrc: Ssrc) -> Self {
        ReceiverConfig {
            codec,
            media_ssrc,
            payload_type: None,
            payload_codecs: Vec::new(),
            rtx: None,
            // A hole is NACKed every 50 ms for as long as it may still be
            // filled (five attempts fit in the 250 ms wait). With 10 % loss
            // each way, one NACK + RTX round fails about one time in five,
            // so three attempts still lose ~0.7 % of holes (each costing
            // every frame up to the next keyframe); five lose ~0.03 %.
            reorder: ReorderConfig {
                max_nack_attempts: 5,
                ..ReorderConfig::default()
            },
            send_nacks: true,
            pipeline: PipelineSettings::default(),
            keyframe_request_interval: Duration::from_millis(500),
            keyframe_retry_interval: Duration::from_millis(1500),
            hold_until_keyframe: Some(Duration::from_secs(3)),
            clock_rate: 90_000,
        }
    }
}
