//! The crate's single error type.

use thiserror::Error;

/// Why a packet could not be depacketized or an access unit packetized.
///
/// Depacketizer errors never poison the depacketizer: the packet's data is
/// left out, the access unit being assembled is marked damaged, and the
/// next packet is processed normally.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum H264Error {
    /// The RTP payload is empty.
    #[error("empty RTP payload")]
    EmptyPayload,
    /// STAP-B (25), MTAP16 (26), MTAP24 (27) or FU-B (29): valid RFC 6184
    /// packets, but only used in interleaved mode, which is not negotiated.
    #[error("packet type {nal_type} is not allowed in packetization-mode 1")]
    UnsupportedPacketType {
        /// The NAL unit type field of the payload header.
        nal_type: u8,
    },
    /// NAL unit type 0, 30 or 31 (reserved / unspecified).
    #[error("reserved NAL unit type {nal_type}")]
    ReservedNalType {
        /// The NAL unit type field of the payload header.
        nal_type: u8,
    },
    /// A STAP-A whose size fields do not tile the payload.
    #[error("malformed STAP-A: {reason}")]
    MalformedStapA {
        /// What is wrong.
        reason: &'static str,
    },
    /// An FU-A with a bad header or not matching the fragments before it.
    #[error("malformed FU-A: {reason}")]
    MalformedFuA {
        /// What is wrong.
        reason: &'static str,
    },
    /// The access unit grew past the configured limit; its data was dropped.
    #[error("access unit larger than {limit} bytes")]
    AccessUnitTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The packetizer was given an access unit without any NAL unit.
    #[error("access unit contains no NAL unit")]
    EmptyAccessUnit,
    /// The configured maximum payload size cannot hold an FU-A fragment.
    #[error("max payload size {max_payload} below the minimum of {minimum}")]
    MaxPayloadTooSmall {
        /// The configured value.
        max_payload: usize,
        /// The smallest usable value.
        minimum: usize,
    },
}

impl H264Error {
    /// True for errors caused by a received packet (as opposed to misuse of
    /// the packetizer); the packet's data is missing from its access unit.
    pub fn is_bad_packet(&self) -> bool {
        !matches!(
            self,
            H264Error::EmptyAccessUnit | H264Error::MaxPayloadTooSmall { .. }
        )
    }

    /// True when the error lost picture data, so the decoder will drift
    /// until the next keyframe: the caller should ask the sender for one
    /// (PLI). An empty payload carries no data, so nothing was lost.
    pub fn should_request_keyframe(&self) -> bool {
        self.is_bad_packet() && *self != H264Error::EmptyPayload
    }
}
