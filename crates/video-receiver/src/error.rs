//! The crate's single error type.

use rtp::{PayloadType, RtpError, Ssrc};
use video_pipeline::VideoError;

/// Why a packet was refused, or why a receiver could not be built.
///
/// Everything a packet can cause is per packet: the receiver stays usable.
/// Problems found later in the chain (a frame the decoder rejects, a frame
/// transform failure) are not errors of the packet that completed the frame;
/// they are reported as [`crate::ReceiverEvent`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiverError {
    /// The bytes are not a valid RTP packet (or an RTX packet too short to
    /// hold its original sequence number).
    #[error("malformed RTP packet: {0}")]
    Malformed(#[from] RtpError),
    /// The packet belongs to another SSRC than this receiver's media or RTX
    /// stream.
    #[error("packet of SSRC {0} does not belong to this stream")]
    ForeignSsrc(Ssrc),
    /// The packet is on the media (or RTX) SSRC but with a payload type
    /// other than the configured one.
    #[error("unexpected payload type {0}")]
    UnexpectedPayloadType(PayloadType),
    /// The decoder or JPEG encoder could not be created, or a decoder reset
    /// failed: the receiver cannot produce pictures.
    #[error("video pipeline unavailable: {0}")]
    Pipeline(VideoError),
}

impl ReceiverError {
    /// True when the receiver is unusable and should be dropped (and maybe
    /// recreated); every other error concerns one packet only.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Pipeline(_))
    }

    /// True for packets that simply belong elsewhere (another stream or
    /// payload type on a shared socket): not worth a log line per packet.
    pub fn is_foreign(&self) -> bool {
        matches!(self, Self::ForeignSsrc(_) | Self::UnexpectedPayloadType(_))
    }
}
