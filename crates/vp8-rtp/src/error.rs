//! The crate's single error type.

use thiserror::Error;

/// Why a packet could not be depacketized or a frame packetized.
///
/// Depacketizer errors never poison the depacketizer: the frame being
/// assembled is marked damaged and the next packet is processed normally.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Vp8Error {
    /// The RTP payload is empty.
    #[error("empty RTP payload")]
    EmptyPayload,
    /// The payload descriptor claims extension bytes the packet lacks.
    #[error("payload descriptor truncated")]
    TruncatedDescriptor,
    /// A second frame start (S=1, PID=0) arrived within one timestamp.
    #[error("second frame start within one RTP timestamp")]
    DuplicateFrameStart,
    /// The frame grew past the configured limit; its data was dropped.
    #[error("frame larger than {limit} bytes")]
    FrameTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The packetizer was given an empty frame.
    #[error("empty VP8 frame")]
    EmptyFrame,
    /// The configured maximum payload size cannot hold descriptor + data.
    #[error("max payload size {max_payload} below the minimum of {minimum}")]
    MaxPayloadTooSmall {
        /// The configured value.
        max_payload: usize,
        /// The smallest usable value.
        minimum: usize,
    },
}

impl Vp8Error {
    /// True for errors caused by a received packet (as opposed to misuse
    /// of the packetizer).
    pub fn is_bad_packet(&self) -> bool {
        !matches!(
            self,
            Vp8Error::EmptyFrame | Vp8Error::MaxPayloadTooSmall { .. }
        )
    }

    /// True when picture data was lost, so the caller should ask the sender
    /// for a keyframe (PLI). An empty payload carries no data.
    pub fn should_request_keyframe(&self) -> bool {
        self.is_bad_packet() && *self != Vp8Error::EmptyPayload
    }
}
