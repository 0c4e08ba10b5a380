//! The pure frame codec: `[u32 BE payload length][bincode payload]`.
//!
//! Decoding is two steps, in the manner of mini-redis: [`split_frame`] checks
//! whether a whole frame is buffered (cheap, no allocation; "need more bytes"
//! is [`Split::Incomplete`], not an error) and enforces [`MAX_FRAME_LEN`]
//! before anything is allocated; [`decode_payload`] then parses it.
//! [`FrameBuffer`] owns the bytes read from a socket and yields whole frames.

use crate::MAX_FRAME_LEN;
use crate::lane::WireMessage;
use bincode::config::{self, Configuration, Limit, LittleEndian, Varint};

/// Size of the length prefix.
pub const LEN_PREFIX: usize = 4;

/// The bincode configuration of the wire: standard varints, and a size
/// limit so a hostile length field inside a payload can never make the
/// decoder reserve more than one frame's worth of memory.
fn wire_config() -> Configuration<LittleEndian, Varint, Limit<MAX_FRAME_LEN>> {
    config::standard().with_limit::<MAX_FRAME_LEN>()
}

/// Everything that can be wrong with a frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The length prefix announces more than [`MAX_FRAME_LEN`].
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    Oversized {
        /// Announced payload length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A zero-length frame (no message is empty).
    #[error("empty frame")]
    Empty,
    /// The payload's variant index is past what this build knows: it comes
    /// from a peer with a newer minor version.
    #[error("unknown message kind {index} (known: 0..{known})")]
    UnknownKind {
        /// The variant index found.
        index: u32,
        /// How many kinds this build knows.
        known: u32,
    },
    /// The payload does not decode as a message.
    #[error("malformed payload: {0}")]
    Malformed(String),
    /// A message could not be encoded (only when it is too large).
    #[error("cannot encode message: {0}")]
    Encode(String),
}

impl FrameError {
    /// Whether the connection must be closed. An unknown kind is skippable
    /// when the peer announced a newer minor version; anything else means
    /// the byte stream can no longer be trusted.
    pub fn is_fatal(&self, peer_is_newer_minor: bool) -> bool {
        !(peer_is_newer_minor && matches!(self, FrameError::UnknownKind { .. }))
    }
}

/// Result of looking for a frame at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Split<'a> {
    /// A whole frame: its payload and how many bytes it used (prefix included).
    Frame {
        /// The payload (without the prefix).
        payload: &'a [u8],
        /// Prefix + payload length.
        consumed: usize,
    },
    /// Not enough bytes yet; `needed` more are required at least.
    Incomplete {
        /// Minimum number of further bytes before a frame can be complete.
        needed: usize,
    },
}

/// Looks for one whole frame at the start of `buf`.
pub fn split_frame(buf: &[u8]) -> Result<Split<'_>, FrameError> {
    let Some(prefix) = buf.get(..LEN_PREFIX) else {
        return Ok(Split::Incomplete {
            needed: LEN_PREFIX - buf.len(),
        });
    };
    let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    if len > MAX_FRAME_LEN {
        return Err(FrameError::Oversized {
            len,
            max: MAX_FRAME_LEN,
        });
    }
    if len == 0 {
        return Err(FrameError::Empty);
    }
    match buf.get(LEN_PREFIX..LEN_PREFIX + len) {
        Some(payload) => Ok(Split::Frame {
            payload,
            consumed: LEN_PREFIX + len,
        }),
        None => Ok(Split::Incomplete {
            needed: LEN_PREFIX + len - buf.len(),
        }),
    }
}

/// Reads the variant index at the start of a payload.
pub fn peek_kind(payload: &[u8]) -> Result<u32, FrameError> {
    bincode::decode_from_slice::<u32, _>(payload, wire_config())
        .map(|(kind, _)| kind)
        .map_err(|e| FrameError::Malformed(format!("no message kind: {e}")))
}

/// Decodes one payload. Trailing bytes after the message are ignored: they
/// are fields appended by a newer minor version.
pub fn decode_payload<M: WireMessage>(payload: &[u8]) -> Result<M, FrameError> {
    let kind = peek_kind(payload)?;
    if kind >= M::KNOWN_KINDS {
        return Err(FrameError::UnknownKind {
            index: kind,
            known: M::KNOWN_KINDS,
        });
    }
    bincode::serde::decode_from_slice::<M, _>(payload, wire_config())
        .map(|(msg, _)| msg)
        .map_err(|e| FrameError::Malformed(e.to_string()))
}

/// Appends one frame (prefix + payload) for `msg` to `out`.
pub fn encode_frame<M: WireMessage>(msg: &M, out: &mut Vec<u8>) -> Result<(), FrameError> {
    let start = out.len();
    out.extend_from_slice(&[0; LEN_PREFIX]);
    if let Err(e) = bincode::serde::encode_into_std_write(msg, out, wire_config()) {
        out.truncate(start);
        return Err(FrameError::Encode(e.to_string()));
    }
    let len = out.len() - start - LEN_PREFIX;
    if len > MAX_FRAME_LEN {
        out.truncate(start);
        return Err(FrameError::Oversized {
            len,
            max: MAX_FRAME_LEN,
        });
    }
    // The limit above keeps `len` within u32.
    out[start..start + LEN_PREFIX].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(())
}

/// Encodes one frame into a new buffer.
pub fn encode_to_vec<M: WireMessage>(msg: &M) -> Result<Vec<u8>, FrameError> {
    let mut out = Vec::new();
    encode_frame(msg, &mut out)?;
    Ok(out)
}

/// A receive buffer that yields whole frames.
///
/// Bytes read from a socket go into [`FrameBuffer::spare`] (or
/// [`FrameBuffer::extend`]); [`FrameBuffer::next_frame`] pops whole frames.
/// Memory grows only with bytes actually received, and an oversized length
/// prefix is refused before waiting for (or storing) its payload.
#[derive(Debug, Default)]
pub struct FrameBuffer {
    buf: Vec<u8>,
    /// Start of unconsumed data; compacted lazily to avoid shifting the
    /// buffer after every frame.
    start: usize,
}

impl FrameBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes buffered but not yet returned as frames.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    fn compact(&mut self) {
        if self.start > 0 && (self.start == self.buf.len() || self.start >= 64 * 1024) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }

    /// Pops the next whole frame, returned whole (prefix included) so a
    /// relay can forward it byte for byte. `Ok(None)` means more bytes are
    /// needed. After an `Err` the stream is desynchronised: close it.
    pub fn next_frame(&mut self) -> Result<Option<RawFrame>, FrameError> {
        match split_frame(&self.buf[self.start..])? {
            Split::Incomplete { .. } => Ok(None),
            Split::Frame { consumed, .. } => {
                let bytes = self.buf[self.start..self.start + consumed].to_vec();
                self.start += consumed;
                self.compact();
                Ok(Some(RawFrame { bytes }))
            }
        }
    }
}

/// One whole frame as it was on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    /// Prefix and payload.
    pub bytes: Vec<u8>,
}

impl RawFrame {
    /// The payload without the length prefix.
    pub fn payload(&self) -> &[u8] {
        &self.bytes[LEN_PREFIX..]
    }
    /// Decodes the payload.
    pub fn decode<M: WireMessage>(&self) -> Result<M, FrameError> {
        decode_payload(self.payload())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ControlMsg, MediadMsg};

    #[test]
    fn incomplete_is_not_an_error() {
        assert_eq!(split_frame(&[]), Ok(Split::Incomplete { needed: 4 }));
        assert_eq!(split_frame(&[0, 0]), Ok(Split::Incomplete { needed: 2 }));
        assert_eq!(
            split_frame(&[0, 0, 0, 3, 1]),
            Ok(Split::Incomplete { needed: 2 })
        );
    }

    #[test]
    fn oversized_refused_from_prefix_alone() {
        let len = (MAX_FRAME_LEN + 1) as u32;
        let err = split_frame(&len.to_be_bytes()).unwrap_err();
        assert_eq!(
            err,
            FrameError::Oversized {
                len: MAX_FRAME_LEN + 1,
                max: MAX_FRAME_LEN
            }
        );
        let mut fb = FrameBuffer::new();
        fb.extend(&u32::MAX.to_be_bytes());
        assert!(fb.next_frame().is_err());
        assert_eq!(split_frame(&[0, 0, 0, 0]), Err(FrameError::Empty));
    }

    #[test]
    fn unknown_kind_is_skippable_only_for_newer_peers() {
        // Variant index KNOWN_KINDS encoded as a one-byte varint.
        let payload = [ControlMsg::KNOWN_KINDS as u8, 1, 2, 3];
        let err = decode_payload::<ControlMsg>(&payload).unwrap_err();
        assert_eq!(
            err,
            FrameError::UnknownKind {
                index: 16,
                known: 16
            }
        );
        assert!(!err.is_fatal(true));
        assert!(err.is_fatal(false));
        assert!(FrameError::Malformed("x".into()).is_fatal(true));
    }

    #[test]
    fn trailing_bytes_are_ignored() {
        let mut frame = encode_to_vec(&MediadMsg::Pong { nonce: 7 }).unwrap();
        frame.extend_from_slice(&[9, 9, 9]);
        let len = (frame.len() - LEN_PREFIX) as u32;
        frame[..4].copy_from_slice(&len.to_be_bytes());
        let Split::Frame { payload, .. } = split_frame(&frame).unwrap() else {
            panic!()
        };
        assert_eq!(
            decode_payload::<MediadMsg>(payload).unwrap(),
            MediadMsg::Pong { nonce: 7 }
        );
    }

    #[test]
    fn frame_buffer_yields_frames_across_arbitrary_chunking() {
        let mut wire = Vec::new();
        for nonce in 0..50u64 {
            encode_frame(
                &ControlMsg::Ping {
                    nonce: nonce * 1_000_003,
                },
                &mut wire,
            )
            .unwrap();
        }
        for chunk in [1usize, 3, 7, 64, 4096] {
            let mut fb = FrameBuffer::new();
            let mut got = Vec::new();
            for piece in wire.chunks(chunk) {
                fb.extend(piece);
                while let Some(f) = fb.next_frame().unwrap() {
                    got.push(f.decode::<ControlMsg>().unwrap());
                }
            }
            assert_eq!(got.len(), 50, "chunk size {chunk}");
            assert_eq!(
                got[49],
                ControlMsg::Ping {
                    nonce: 49 * 1_000_003
                }
            );
            assert_eq!(fb.pending(), 0);
        }
    }
}
