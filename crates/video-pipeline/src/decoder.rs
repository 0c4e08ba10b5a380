//! The [`VideoDecoder`] seam shared by the H264 and VP8 decoders (and fakes).

use crate::error::{Codec, Result, VideoError};
use crate::frame::YuvFrame;

/// After this many consecutive failed access units a decoder replaces its
/// native instance and asks for a keyframe (same threshold as the reference).
pub const MAX_CONSECUTIVE_ERRORS: u32 = 50;

/// Largest access unit handed to a native decoder. A 1080p IDR is a few
/// hundred KiB; anything near this limit is garbage or an attack.
pub const MAX_ACCESS_UNIT_BYTES: usize = 8 * 1024 * 1024;

/// The length of an access unit as the C decoder's integer type, or `None`
/// when it is over [`MAX_ACCESS_UNIT_BYTES`] or does not fit the type.
pub(crate) fn native_len<T: TryFrom<usize>>(access_unit: &[u8]) -> Option<T> {
    if access_unit.len() > MAX_ACCESS_UNIT_BYTES {
        return None;
    }
    T::try_from(access_unit.len()).ok()
}

/// Counters a decoder keeps about itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecoderStats {
    /// Access units passed to [`VideoDecoder::decode`].
    pub access_units: u64,
    /// Pictures returned to the caller.
    pub frames: u64,
    /// Access units the decoder rejected.
    pub errors: u64,
    /// Current run of rejected access units (0 after any success).
    pub consecutive_errors: u32,
    /// Native decoder instances replaced after too many consecutive errors.
    pub resets: u64,
    /// Times the decoder raised a keyframe request.
    pub keyframe_requests: u64,
}

/// A persistent per-stream video decoder.
///
/// Contract: feed **every** access unit of one stream, in order (skipping
/// some breaks reference state), whether or not the picture will be shown.
/// A returned frame borrows the decoder's own picture buffer and is valid
/// until the next call; copy it ([`YuvFrame::copy_into`]) to keep it.
///
/// Implementations never panic on malformed input: a rejected access unit
/// is an `Err`, counted in [`DecoderStats`].
pub trait VideoDecoder: Send {
    /// The codec this decoder handles.
    fn codec(&self) -> Codec;

    /// Decodes one access unit (H264: Annex-B, all NAL units of one picture;
    /// VP8: one compressed frame). `Ok(None)` means no picture is ready
    /// (parameter sets only, or waiting for a keyframe).
    ///
    /// # Errors
    /// [`crate::VideoError::Decode`] when the decoder rejects the data, and
    /// [`crate::VideoError::Init`] if a reset could not create a new native
    /// instance (fatal).
    fn decode(&mut self, access_unit: &[u8]) -> Result<Option<YuvFrame<'_>>>;

    /// Returns true once per keyframe request the decoder raised since the
    /// last call (stream started without a keyframe, references lost, or the
    /// decoder was reset). The caller turns it into a PLI / OP15 reassertion,
    /// rate-limited on its side.
    fn take_keyframe_request(&mut self) -> bool;

    /// Counters since creation.
    fn stats(&self) -> DecoderStats;
}

/// Error-run bookkeeping shared by the native decoders: counts consecutive
/// errors, decides when to reset, and latches keyframe requests edge-wise so
/// a long outage raises one request, not one per frame.
#[derive(Debug, Default, Clone)]
pub(crate) struct ErrorPolicy {
    pub(crate) stats: DecoderStats,
    /// True until a keyframe has been decoded cleanly since creation/reset,
    /// or after references were lost. While set, no new request is raised.
    awaiting_keyframe: bool,
    /// A raised request not yet taken by the caller.
    pending_request: bool,
    /// A keyframe has been decoded by the current native instance. Until
    /// then pictures would be concealment of nothing, so none are returned.
    seen_keyframe: bool,
}

impl ErrorPolicy {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Records that a keyframe is needed; raises a request on the first call
    /// of an episode only.
    pub(crate) fn need_keyframe(&mut self) {
        if !self.awaiting_keyframe {
            self.awaiting_keyframe = true;
            self.pending_request = true;
            self.stats.keyframe_requests += 1;
        }
    }

    /// A keyframe decoded cleanly: the episode is over.
    pub(crate) fn keyframe_decoded(&mut self) {
        self.awaiting_keyframe = false;
        self.seen_keyframe = true;
    }

    /// True once the current native instance has decoded a keyframe.
    pub(crate) fn seen_keyframe(&self) -> bool {
        self.seen_keyframe
    }

    /// An access unit was accepted.
    pub(crate) fn success(&mut self) {
        self.stats.consecutive_errors = 0;
    }

    /// An access unit was rejected. Returns true when the caller must reset
    /// its native decoder now; the request for a keyframe is already raised.
    pub(crate) fn failure(&mut self) -> bool {
        self.stats.errors += 1;
        self.stats.consecutive_errors += 1;
        if self.stats.consecutive_errors >= MAX_CONSECUTIVE_ERRORS {
            self.stats.consecutive_errors = 0;
            self.stats.resets += 1;
            // A new instance has no references at all: a fresh episode.
            self.awaiting_keyframe = false;
            self.seen_keyframe = false;
            self.need_keyframe();
            true
        } else {
            false
        }
    }

    pub(crate) fn take_request(&mut self) -> bool {
        std::mem::take(&mut self.pending_request)
    }

    /// A rejected access unit, for every codec: references are now broken
    /// until the next keyframe, so ask for one (once per episode; the reset
    /// path raises a fresh request), count the run, and when it reaches the
    /// limit replace the `native` decoder with a new one from `make`.
    /// Returns the error to report (`Init` when no new one can be made).
    pub(crate) fn reject<N>(
        &mut self,
        codec: Codec,
        status: u32,
        native: &mut N,
        make: impl FnOnce() -> Result<N>,
    ) -> VideoError {
        self.need_keyframe();
        let decoder_reset = self.failure();
        if decoder_reset {
            match make() {
                Ok(fresh) => *native = fresh,
                Err(e) => return e,
            }
        }
        VideoError::Decode {
            codec,
            status,
            decoder_reset,
        }
    }

    /// The start of every decode: counts the access unit and gives its
    /// length in the native library's type, `None` for an empty unit
    /// (nothing to decode), or the too-large error, which counts towards
    /// the error run like any rejected unit.
    pub(crate) fn admit<L: TryFrom<usize>, N>(
        &mut self,
        codec: Codec,
        access_unit: &[u8],
        native: &mut N,
        make: impl FnOnce() -> Result<N>,
    ) -> Result<Option<L>> {
        self.stats.access_units += 1;
        if access_unit.is_empty() {
            return Ok(None);
        }
        match native_len::<L>(access_unit) {
            Some(len) => Ok(Some(len)),
            None => match self.reject(codec, 0, native, make) {
                e @ VideoError::Init { .. } => Err(e),
                _ => Err(VideoError::AccessUnitTooLarge {
                    len: access_unit.len(),
                    max: MAX_ACCESS_UNIT_BYTES,
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_consecutive_failures_reset_once_and_request_keyframe() {
        let mut policy = ErrorPolicy::new();
        policy.keyframe_decoded();
        for i in 1..MAX_CONSECUTIVE_ERRORS {
            assert!(!policy.failure(), "reset too early at {i}");
        }
        assert!(!policy.take_request());
        assert!(policy.failure());
        assert_eq!(policy.stats.resets, 1);
        assert!(policy.take_request());
        assert!(!policy.take_request(), "request is edge-triggered");
        assert_eq!(policy.stats.errors, u64::from(MAX_CONSECUTIVE_ERRORS));
    }

    #[test]
    fn a_success_breaks_the_error_run() {
        let mut policy = ErrorPolicy::new();
        for _ in 0..MAX_CONSECUTIVE_ERRORS - 1 {
            policy.failure();
        }
        policy.success();
        for _ in 0..MAX_CONSECUTIVE_ERRORS - 1 {
            assert!(!policy.failure());
        }
        assert_eq!(policy.stats.resets, 0);
    }

    #[test]
    fn one_request_per_keyframe_episode() {
        let mut policy = ErrorPolicy::new();
        policy.need_keyframe();
        policy.need_keyframe();
        assert!(policy.take_request());
        policy.need_keyframe();
        assert!(!policy.take_request());
        policy.keyframe_decoded();
        policy.need_keyframe();
        assert!(policy.take_request());
        assert_eq!(policy.stats.keyframe_requests, 2);
    }
}
