//! A scripted [`VideoDecoder`] for tests of code that drives decoders
//! (here and in `mediad`), with no codec involved.

use crate::decoder::{DecoderStats, VideoDecoder};
use crate::error::{Codec, Result, VideoError};
use crate::frame::{YuvBuffer, YuvFrame};

/// A decoder that "decodes" by picking a scripted picture.
///
/// The first byte of each access unit selects the picture (`index % len`);
/// an access unit starting with [`FakeDecoder::ERROR_BYTE`] fails, and an
/// empty one yields no picture. A failure sets a keyframe request, the way a
/// real decoder would after an error.
#[derive(Debug, Clone, Default)]
pub struct FakeDecoder {
    pictures: Vec<YuvBuffer>,
    stats: DecoderStats,
    keyframe_request: bool,
}

impl FakeDecoder {
    /// Access units starting with this byte fail to decode.
    pub const ERROR_BYTE: u8 = 0xFF;

    /// A decoder cycling through `pictures`.
    #[must_use]
    pub fn new(pictures: Vec<YuvBuffer>) -> Self {
        Self {
            pictures,
            ..Self::default()
        }
    }
}

impl VideoDecoder for FakeDecoder {
    fn codec(&self) -> Codec {
        Codec::H264
    }

    fn decode(&mut self, access_unit: &[u8]) -> Result<Option<YuvFrame<'_>>> {
        self.stats.access_units += 1;
        let Some(&first) = access_unit.first() else {
            return Ok(None);
        };
        if first == Self::ERROR_BYTE || self.pictures.is_empty() {
            self.stats.errors += 1;
            self.stats.consecutive_errors += 1;
            self.keyframe_request = true;
            return Err(VideoError::Decode {
                codec: Codec::H264,
                status: u32::from(first),
                decoder_reset: false,
            });
        }
        self.stats.consecutive_errors = 0;
        self.stats.frames += 1;
        let index = usize::from(first) % self.pictures.len();
        Ok(self.pictures.get(index).map(YuvBuffer::as_frame))
    }

    fn take_keyframe_request(&mut self) -> bool {
        std::mem::take(&mut self.keyframe_request)
    }

    fn stats(&self) -> DecoderStats {
        self.stats
    }
}
