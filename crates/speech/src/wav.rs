//! A small checked WAV reader (16-bit PCM, any channel count, mixed down to
//! mono) and writer (16-bit mono).
//!
//! Streaming writers (`espeak-ng --stdout`, OpenAI's `wav` answers) do not
//! know the length up front and declare a huge RIFF and `data` size; the
//! reader takes the bytes that are actually there (whole sample frames).

use crate::error::SpeechError;
use crate::pcm::{Pcm, RATE_RANGE};

const PCM_FORMAT: u16 = 1;
const EXTENSIBLE_FORMAT: u16 = 0xfffe;
const MAX_CHANNELS: u16 = 8;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

struct Format {
    channels: u16,
    rate: u32,
}

fn parse_fmt(body: &[u8]) -> Result<Format, SpeechError> {
    let bad = |m: &str| SpeechError::Wav(m.to_owned());
    let tag = u16_at(body, 0).ok_or_else(|| bad("fmt chunk shorter than 16 bytes"))?;
    let channels = u16_at(body, 2).ok_or_else(|| bad("fmt chunk shorter than 16 bytes"))?;
    let rate = u32_at(body, 4).ok_or_else(|| bad("fmt chunk shorter than 16 bytes"))?;
    let bits = u16_at(body, 14).ok_or_else(|| bad("fmt chunk shorter than 16 bytes"))?;
    // WAVE_FORMAT_EXTENSIBLE carries the real format in its sub-format GUID,
    // whose first two bytes are the plain format tag.
    let tag = if tag == EXTENSIBLE_FORMAT {
        u16_at(body, 24).ok_or_else(|| bad("extensible fmt chunk too short"))?
    } else {
        tag
    };
    if tag != PCM_FORMAT {
        return Err(SpeechError::Wav(format!("format {tag} is not integer PCM")));
    }
    if bits != 16 {
        return Err(SpeechError::Wav(format!(
            "{bits}-bit samples (only 16-bit is read)"
        )));
    }
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(SpeechError::Wav(format!("{channels} channels")));
    }
    if !RATE_RANGE.contains(&rate) {
        return Err(SpeechError::Wav(format!("sample rate {rate} Hz")));
    }
    Ok(Format { channels, rate })
}

/// The audio of a WAV file: 16-bit integer PCM (plain or
/// `WAVE_FORMAT_EXTENSIBLE`), 1–8 channels averaged to mono, a rate in
/// [`RATE_RANGE`]. Unknown chunks are skipped; a `data` size larger than
/// the bytes present (a streaming header) is cut to the whole frames
/// present. Anything else is a [`SpeechError::Wav`], never a panic.
pub fn parse_wav(bytes: &[u8]) -> Result<Pcm, SpeechError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(SpeechError::Wav("not a RIFF/WAVE file".into()));
    }
    let mut at = 12usize;
    let mut format: Option<Format> = None;
    while at < bytes.len() {
        let (Some(id), Some(size)) = (bytes.get(at..at + 4), u32_at(bytes, at + 4)) else {
            break;
        };
        let start = at + 8;
        let declared = usize::try_from(size).unwrap_or(usize::MAX);
        let end = start.saturating_add(declared).min(bytes.len());
        let body = &bytes[start..end];
        match id {
            b"fmt " => format = Some(parse_fmt(body)?),
            b"data" => {
                let format = format
                    .ok_or_else(|| SpeechError::Wav("data chunk before the fmt chunk".into()))?;
                return Ok(mix_down(body, &format));
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        at = start.saturating_add(declared).saturating_add(declared & 1);
    }
    Err(SpeechError::Wav("no data chunk".into()))
}

fn mix_down(body: &[u8], format: &Format) -> Pcm {
    let channels = usize::from(format.channels);
    let samples = body
        .chunks_exact(2 * channels)
        .map(|frame| {
            let sum: i32 = frame
                .chunks_exact(2)
                .map(|s| i32::from(i16::from_le_bytes([s[0], s[1]])))
                .sum();
            // The mean of i16 values is an i16.
            (sum / channels as i32) as i16
        })
        .collect();
    Pcm::new(format.rate, samples)
}

/// A 16-bit mono WAV file of `pcm` (44-byte header). Audio longer than a
/// WAV can hold (about 2 GiB) is cut.
pub fn write_wav(pcm: &Pcm) -> Vec<u8> {
    let max_samples = (u32::MAX as usize - 36) / 2;
    let samples = &pcm.samples[..pcm.samples.len().min(max_samples)];
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&PCM_FORMAT.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&pcm.sample_rate.to_le_bytes());
    out.extend_from_slice(&(pcm.sample_rate.wrapping_mul(2)).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Raw 16-bit little-endian mono samples (OpenAI's `pcm` format); a
/// trailing odd byte is dropped.
pub fn parse_s16le(bytes: &[u8], sample_rate: u32) -> Pcm {
    let samples = bytes
        .chunks_exact(2)
        .map(|s| i16::from_le_bytes([s[0], s[1]]))
        .collect();
    Pcm::new(sample_rate, samples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip() {
        let pcm = Pcm::new(16_000, vec![0, 1, -1, i16::MAX, i16::MIN, 1234]);
        let bytes = write_wav(&pcm);
        assert_eq!(bytes.len(), 44 + 12);
        assert_eq!(parse_wav(&bytes).expect("parse"), pcm);
    }

    #[test]
    fn streaming_header_and_stereo_and_extra_chunks() {
        // A stereo file with a LIST chunk (odd length, padded) before data,
        // and a data size of 0x7ffff000 as espeak-ng writes to a pipe.
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF\xff\xff\xff\x7fWAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&[1, 0, 2, 0]);
        b.extend_from_slice(&22_050u32.to_le_bytes());
        b.extend_from_slice(&(22_050u32 * 4).to_le_bytes());
        b.extend_from_slice(&[4, 0, 16, 0]);
        b.extend_from_slice(b"LIST\x03\x00\x00\x00abc\x00");
        b.extend_from_slice(b"data\x00\xf0\xff\x7f");
        for (l, r) in [(100i16, 300i16), (-4, -6), (7, 0)] {
            b.extend_from_slice(&l.to_le_bytes());
            b.extend_from_slice(&r.to_le_bytes());
        }
        b.push(9); // half a frame: dropped
        let pcm = parse_wav(&b).expect("parse");
        assert_eq!(pcm, Pcm::new(22_050, vec![200, -5, 3]));
    }

    #[test]
    fn refusals_say_why() {
        assert!(matches!(parse_wav(b"nope"), Err(SpeechError::Wav(_))));
        let mut float = write_wav(&Pcm::new(16_000, vec![1]));
        float[20] = 3; // IEEE float
        assert!(
            parse_wav(&float)
                .unwrap_err()
                .to_string()
                .contains("not integer PCM")
        );
        let mut eight = write_wav(&Pcm::new(16_000, vec![1]));
        eight[34] = 8;
        assert!(parse_wav(&eight).unwrap_err().to_string().contains("8-bit"));
        let no_data = &write_wav(&Pcm::new(16_000, vec![]))[..36];
        assert!(
            parse_wav(no_data)
                .unwrap_err()
                .to_string()
                .contains("no data")
        );
    }

    #[test]
    fn raw_samples() {
        assert_eq!(
            parse_s16le(&[1, 0, 0xff, 0xff, 7], 24_000),
            Pcm::new(24_000, vec![1, -1])
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_wav(&bytes);
        }

        #[test]
        fn mutated_headers_never_panic(
            samples in proptest::collection::vec(any::<i16>(), 0..64),
            flips in proptest::collection::vec((0usize..64, any::<u8>()), 0..6),
            cut in 0usize..256,
        ) {
            let mut bytes = write_wav(&Pcm::new(16_000, samples.clone()));
            for (at, v) in flips {
                if let Some(b) = bytes.get_mut(at) { *b = v; }
            }
            bytes.truncate(cut.max(12).min(bytes.len()));
            if let Ok(pcm) = parse_wav(&bytes) {
                prop_assert!(pcm.samples.len() <= samples.len() * 8);
            }
        }

        #[test]
        fn written_files_read_back(samples in proptest::collection::vec(any::<i16>(), 0..256),
                                   rate in 1_000u32..=192_000) {
            let pcm = Pcm::new(rate, samples);
            prop_assert_eq!(parse_wav(&write_wav(&pcm)).expect("parse"), pcm);
        }
    }
}
