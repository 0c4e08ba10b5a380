//! Opus through libopus (the `opus` crate; libopus built from source by
//! opusic-sys).
//!
//! Sending: Discord's voice is Opus at 48 kHz, **stereo**, 20 ms frames
//! (960 samples per channel), payload type 120 (discord-api-docs "Voice
//! Connections": "two channels (stereo) and a sample rate of 48kHz"). The
//! agent speaks mono, so each sample goes to both channels; the encoder's
//! `VOIP` application tunes it for speech.
//!
//! Hearing: a decoder per SSRC opened at 16 kHz mono. libopus decodes any
//! Opus stream at any of its supported output rates and channel counts,
//! downmixing and resampling inside the decoder (SILK speech is coded at
//! ≤16 kHz internally; CELT output is band-limited by the decoder before
//! decimation), so no separate resampler is needed for the 16 kHz the VAD
//! and speech-to-text want.

use crate::{AudioError, FRAME_SAMPLES_16K, FRAME_SAMPLES_48K, HEAR_RATE, SEND_RATE};
use opus::{Application, Bitrate, Channels, Decoder, Encoder};

/// The three-byte Opus frame Discord treats as silence (sent five times
/// after speech; passed through DAVE unencrypted).
pub const OPUS_SILENCE: [u8; 3] = [0xF8, 0xFF, 0xFE];

/// Largest Opus packet we produce or accept (RFC 6716 §3.4 allows 1275
/// bytes per frame).
const MAX_PACKET: usize = 1500;

/// 48 kHz stereo 20 ms Opus encoder fed with mono frames.
pub struct OpusEncoder {
    inner: Encoder,
    stereo: Vec<i16>,
    out: Vec<u8>,
}

impl OpusEncoder {
    /// An encoder at `bitrate` bits per second (64 kbps is plenty for speech).
    pub fn new(bitrate: i32) -> Result<Self, AudioError> {
        let mut inner = Encoder::new(SEND_RATE, Channels::Stereo, Application::Voip)?;
        inner.set_bitrate(Bitrate::Bits(bitrate))?;
        inner.set_inband_fec(true)?;
        Ok(Self {
            inner,
            stereo: vec![0; FRAME_SAMPLES_48K * 2],
            out: vec![0; MAX_PACKET],
        })
    }

    /// Encodes one 20 ms mono frame (960 samples) as one Opus packet.
    pub fn encode(&mut self, mono: &[i16]) -> Result<Vec<u8>, AudioError> {
        if mono.len() != FRAME_SAMPLES_48K {
            return Err(AudioError::FrameLength {
                expected: FRAME_SAMPLES_48K,
                got: mono.len(),
            });
        }
        for (pair, s) in self.stereo.chunks_exact_mut(2).zip(mono) {
            pair[0] = *s;
            pair[1] = *s;
        }
        let n = self.inner.encode(&self.stereo, &mut self.out)?;
        Ok(self.out[..n].to_vec())
    }
}

/// Opus decoder to 16 kHz mono.
pub struct OpusDecoder {
    inner: Decoder,
    buf: Vec<i16>,
}

impl OpusDecoder {
    /// A decoder producing 16 kHz mono.
    pub fn new() -> Result<Self, AudioError> {
        Ok(Self {
            inner: Decoder::new(HEAR_RATE, Channels::Mono)?,
            // 120 ms, the longest Opus packet.
            buf: vec![0; FRAME_SAMPLES_16K * 6],
        })
    }

    /// Decodes one packet; the samples are valid until the next call.
    pub fn decode(&mut self, packet: &[u8]) -> Result<&[i16], AudioError> {
        if packet.is_empty() || packet.len() > MAX_PACKET {
            return Err(AudioError::Opus(format!(
                "packet of {} bytes refused",
                packet.len()
            )));
        }
        let n = self.inner.decode(packet, &mut self.buf, false)?;
        Ok(&self.buf[..n])
    }

    /// Conceals one lost 20 ms frame (libopus packet-loss concealment).
    pub fn conceal(&mut self) -> Result<&[i16], AudioError> {
        let n = self
            .inner
            .decode(&[], &mut self.buf[..FRAME_SAMPLES_16K], false)?;
        Ok(&self.buf[..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_tone_decodes_to_16k_with_its_energy() {
        let mut enc = OpusEncoder::new(64_000).unwrap();
        let mut dec = OpusDecoder::new().unwrap();
        let mut energy = 0f64;
        let mut n = 0usize;
        for f in 0..25 {
            let frame: Vec<i16> = (0..FRAME_SAMPLES_48K)
                .map(|i| {
                    let t = (f * FRAME_SAMPLES_48K + i) as f64 / 48_000.0;
                    ((t * 440.0 * std::f64::consts::TAU).sin() * 8000.0) as i16
                })
                .collect();
            let pkt = enc.encode(&frame).unwrap();
            assert!(pkt.len() > 3 && pkt.len() < 400, "{}", pkt.len());
            let out = dec.decode(&pkt).unwrap();
            assert_eq!(out.len(), FRAME_SAMPLES_16K);
            if f > 5 {
                energy += out.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>();
                n += out.len();
            }
        }
        let rms = (energy / n as f64).sqrt();
        // A 8000-amplitude sine has an RMS of ~5657.
        assert!((4000.0..7000.0).contains(&rms), "rms {rms}");
        assert!(enc.encode(&[0; 10]).is_err());
        assert!(dec.decode(&[]).is_err());
        assert_eq!(dec.decode(&OPUS_SILENCE).unwrap().len(), FRAME_SAMPLES_16K);
        assert_eq!(dec.conceal().unwrap().len(), FRAME_SAMPLES_16K);
    }

    #[test]
    fn garbage_packets_are_errors_not_panics() {
        let mut dec = OpusDecoder::new().unwrap();
        for len in 1..64u8 {
            let pkt: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37) ^ 0x5c).collect();
            let _ = dec.decode(&pkt);
        }
        assert!(dec.decode(&[0xFF; 1600]).is_err());
    }
}
