//! The end-to-end decryption seam.

/// Turns an assembled frame, as the sender's encoder (and end-to-end
/// encryption) produced it, back into the encoder's bitstream, in place.
///
/// This is where DAVE plugs in: it decrypts the whole frame (H264: the
/// exact Annex-B access unit with 4-byte start codes; VP8: the bitstream
/// frame), after depacketization and before decoding. It runs *before*
/// SPS/PPS re-insertion on purpose: inserting bytes first would shift the
/// codec-aware unencrypted ranges DAVE computes over the sender's frame.
pub trait FrameTransform: Send {
    /// Transforms `frame` in place. An `Err` drops the frame (it is not
    /// decoded; the receiver then waits for a keyframe, since later frames
    /// reference it).
    fn transform(&mut self, frame: &mut Vec<u8>) -> Result<(), String>;

    /// The codec of the frames that follow (told when the transform is
    /// installed and whenever the stream switches codec, since DAVE's clear
    /// ranges depend on it). The default ignores it.
    fn set_codec(&mut self, _codec: crate::VideoCodec) {}
}

/// The default transform: leaves frames untouched (no end-to-end
/// encryption, or passthrough).
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityTransform;

impl FrameTransform for IdentityTransform {
    fn transform(&mut self, _frame: &mut Vec<u8>) -> Result<(), String> {
        Ok(())
    }
}

impl<F> FrameTransform for F
where
    F: FnMut(&mut Vec<u8>) -> Result<(), String> + Send,
{
    fn transform(&mut self, frame: &mut Vec<u8>) -> Result<(), String> {
        self(frame)
    }
}
