//! Canonical PCM WAV: the 44-byte header written by hand (RIFF, `fmt `
//! with PCM format 1, `data`), and a reader for what espeak-ng writes on
//! stdout (whose size fields are the streaming placeholder `0x7FFFF…`, so
//! the `data` chunk is read to the end of the input).

use crate::SimMediaError;

/// Length of the canonical header [`wav_mono_s16`] writes.
pub const WAV_HEADER_LEN: usize = 44;

/// A mono 16-bit PCM WAV file of `samples` at `sample_rate`.
#[must_use]
pub fn wav_mono_s16(samples: &[i16], sample_rate: u32) -> Vec<u8> {
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX - 36) & !1;
    let mut out = Vec::with_capacity(WAV_HEADER_LEN + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // channels
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * 2).to_le_bytes()); // byte rate
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples.iter().take(data_len as usize / 2) {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Parsed PCM WAV: sample rate and the samples of channel 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavPcm {
    /// Samples per second.
    pub sample_rate: u32,
    /// Channel 0's samples.
    pub samples: Vec<i16>,
}

/// Reads a 16-bit PCM WAV (any channel count; channel 0 is kept). A `data`
/// chunk whose declared size runs past the input is read to the end (the
/// streaming writers' placeholder).
///
/// # Errors
/// [`SimMediaError::BadWav`] for anything else than 16-bit PCM RIFF/WAVE.
pub fn parse_wav_s16(bytes: &[u8]) -> Result<WavPcm, SimMediaError> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(SimMediaError::BadWav("not RIFF/WAVE"));
    }
    let mut pos = 12;
    let mut fmt: Option<(u16, u32)> = None;
    while let Some(head) = bytes.get(pos..pos + 8) {
        let id = &head[..4];
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let body_start = pos + 8;
        if id == b"fmt " {
            let f = bytes
                .get(body_start..body_start + 16)
                .ok_or(SimMediaError::BadWav("short fmt chunk"))?;
            let format = u16::from_le_bytes([f[0], f[1]]);
            let channels = u16::from_le_bytes([f[2], f[3]]);
            let rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
            let bits = u16::from_le_bytes([f[14], f[15]]);
            if format != 1 || bits != 16 || channels == 0 || rate == 0 {
                return Err(SimMediaError::BadWav("not 16-bit PCM"));
            }
            fmt = Some((channels, rate));
        } else if id == b"data" {
            let (channels, sample_rate) = fmt.ok_or(SimMediaError::BadWav("data before fmt"))?;
            let end = body_start.saturating_add(len).min(bytes.len());
            let data = bytes.get(body_start..end).unwrap_or_default();
            let frame = 2 * usize::from(channels);
            let samples = data
                .chunks_exact(frame)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
            return Ok(WavPcm {
                sample_rate,
                samples,
            });
        }
        pos = body_start.saturating_add(len + (len & 1));
    }
    Err(SimMediaError::BadWav("no data chunk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_the_canonical_44_bytes() {
        let w = wav_mono_s16(&[1, -2, 3], 48_000);
        assert_eq!(w.len(), 44 + 6);
        assert_eq!(&w[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(w[4..8].try_into().unwrap()), 36 + 6);
        assert_eq!(&w[8..16], b"WAVEfmt ");
        assert_eq!(u32::from_le_bytes(w[16..20].try_into().unwrap()), 16);
        assert_eq!(u16::from_le_bytes(w[20..22].try_into().unwrap()), 1);
        assert_eq!(u16::from_le_bytes(w[22..24].try_into().unwrap()), 1);
        assert_eq!(u32::from_le_bytes(w[24..28].try_into().unwrap()), 48_000);
        assert_eq!(u32::from_le_bytes(w[28..32].try_into().unwrap()), 96_000);
        assert_eq!(u16::from_le_bytes(w[32..34].try_into().unwrap()), 2);
        assert_eq!(u16::from_le_bytes(w[34..36].try_into().unwrap()), 16);
        assert_eq!(&w[36..40], b"data");
        assert_eq!(u32::from_le_bytes(w[40..44].try_into().unwrap()), 6);
        assert_eq!(&w[44..], &[1, 0, 0xFE, 0xFF, 3, 0]);
    }

    #[test]
    fn round_trip_and_streaming_placeholder() {
        let w = wav_mono_s16(&[5, 6, 7, 8], 22_050);
        let p = parse_wav_s16(&w).unwrap();
        assert_eq!(p.sample_rate, 22_050);
        assert_eq!(p.samples, vec![5, 6, 7, 8]);
        // espeak-ng --stdout: data size 0x7FFFF000, read to the end.
        let mut s = w.clone();
        s[40..44].copy_from_slice(&0x7FFF_F000u32.to_le_bytes());
        assert_eq!(parse_wav_s16(&s).unwrap().samples, vec![5, 6, 7, 8]);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_wav_s16(b"").is_err());
        assert!(parse_wav_s16(b"RIFF\0\0\0\0WAVE").is_err());
        let mut w = wav_mono_s16(&[1], 8000);
        w[34] = 8; // 8-bit
        assert!(parse_wav_s16(&w).is_err());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..128)) {
            let mut b = b"RIFF\0\0\0\0WAVE".to_vec();
            b.extend_from_slice(&bytes);
            let _ = parse_wav_s16(&b);
            let _ = parse_wav_s16(&bytes);
        }
    }
}
