//! libopus (through the `opus` crate) for speech lines and for what
//! clients send: [`encode_line`] turns 48 kHz mono PCM into 20 ms stereo
//! packets (Discord clients send `opus/48000/2`; the mono line is sent on
//! both channels), [`OpusMonoDecoder`] decodes any Opus stream to 48 kHz
//! mono.

use opus::{Application, Bitrate, Channels, Decoder, Encoder};

use crate::SimMediaError;
use crate::opus::OPUS_TIMESTAMP_STEP;

/// Samples per channel in one 20 ms frame at 48 kHz.
pub const FRAME_SAMPLES: usize = OPUS_TIMESTAMP_STEP as usize;
/// Bit rate of encoded lines (Discord's default voice bit rate).
pub const LINE_BITRATE: i32 = 64_000;
/// Largest frame libopus decodes (120 ms at 48 kHz), per channel.
const MAX_FRAME_SAMPLES: usize = 5760;

/// Encodes 48 kHz mono PCM as 20 ms stereo Opus packets, the last frame
/// padded with silence: `ceil(len / 960)` packets.
///
/// # Errors
/// [`SimMediaError::Opus`] if libopus fails.
pub fn encode_line(pcm: &[i16]) -> Result<Vec<Vec<u8>>, SimMediaError> {
    let mut enc = Encoder::new(48_000, Channels::Stereo, Application::Voip)?;
    enc.set_bitrate(Bitrate::Bits(LINE_BITRATE))?;
    let mut out = Vec::with_capacity(pcm.len().div_ceil(FRAME_SAMPLES));
    let mut stereo = vec![0i16; 2 * FRAME_SAMPLES];
    for chunk in pcm.chunks(FRAME_SAMPLES) {
        stereo.fill(0);
        for (i, &s) in chunk.iter().enumerate() {
            stereo[2 * i] = s;
            stereo[2 * i + 1] = s;
        }
        out.push(enc.encode_vec(&stereo, 1500)?);
    }
    Ok(out)
}

/// One receiver's Opus decoder: any packet (mono or stereo, any frame
/// size) to 48 kHz mono.
pub struct OpusMonoDecoder {
    dec: Decoder,
    buf: Vec<i16>,
}

impl std::fmt::Debug for OpusMonoDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusMonoDecoder").finish_non_exhaustive()
    }
}

impl OpusMonoDecoder {
    /// A fresh decoder.
    ///
    /// # Errors
    /// [`SimMediaError::Opus`] if libopus fails.
    pub fn new() -> Result<Self, SimMediaError> {
        Ok(Self {
            dec: Decoder::new(48_000, Channels::Mono)?,
            buf: vec![0; MAX_FRAME_SAMPLES],
        })
    }

    /// Decodes one packet.
    ///
    /// # Errors
    /// [`SimMediaError::Opus`] for a packet libopus refuses (garbage).
    pub fn decode(&mut self, packet: &[u8]) -> Result<&[i16], SimMediaError> {
        if packet.is_empty() {
            return Err(SimMediaError::Opus("empty packet".into()));
        }
        let n = self.dec.decode(packet, &mut self.buf, false)?;
        Ok(&self.buf[..n.min(self.buf.len())])
    }

    /// Packet-loss concealment for `samples` lost samples (rounded up to
    /// whole 20 ms frames, at most 120 ms per call).
    ///
    /// # Errors
    /// [`SimMediaError::Opus`] if libopus fails.
    pub fn conceal(&mut self, samples: usize) -> Result<&[i16], SimMediaError> {
        let n = samples
            .div_ceil(FRAME_SAMPLES)
            .clamp(1, MAX_FRAME_SAMPLES / FRAME_SAMPLES)
            * FRAME_SAMPLES;
        let got = self.dec.decode(&[], &mut self.buf[..n], false)?;
        Ok(&self.buf[..got.min(n)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, samples: usize) -> Vec<i16> {
        (0..samples)
            .map(|i| {
                let t = i as f64 / 48_000.0;
                (8000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16
            })
            .collect()
    }

    #[test]
    fn lines_are_20ms_stereo_packets_that_decode_back() {
        let pcm = tone(600.0, 48_000 + 100);
        let pkts = encode_line(&pcm).unwrap();
        assert_eq!(pkts.len(), 51);
        for p in &pkts {
            let toc = p[0];
            assert_eq!(toc & 0x04, 0x04, "stereo flag");
            assert_eq!(toc & 0x03, 0, "one frame per packet");
        }
        let mut dec = OpusMonoDecoder::new().unwrap();
        let mut out = Vec::new();
        for p in &pkts {
            let d = dec.decode(p).unwrap();
            assert_eq!(d.len(), 960);
            out.extend_from_slice(d);
        }
        let mid = &out[9600..38_400];
        let ups = mid.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
        let freq = ups as f64 / (mid.len() as f64 / 48_000.0);
        assert!((freq - 600.0).abs() < 10.0, "{freq}");
        assert_eq!(dec.conceal(960).unwrap().len(), 960);
        assert_eq!(dec.conceal(1000).unwrap().len(), 1920);
    }

    #[test]
    fn the_silence_frame_decodes_to_silence() {
        let mut dec = OpusMonoDecoder::new().unwrap();
        let d = dec.decode(&crate::OPUS_SILENCE_FRAME).unwrap();
        assert_eq!(d.len(), 960);
        assert!(d.iter().all(|&s| s.abs() < 4));
    }

    proptest::proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let mut dec = OpusMonoDecoder::new().unwrap();
            let _ = dec.decode(&bytes);
        }
    }
}
