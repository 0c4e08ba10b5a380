//! Spoken lines for simulated speakers: text → espeak-ng (a subprocess:
//! the one place in this crate that does IO, so call it off async tasks)
//! → 16-bit PCM at espeak's 22.05 kHz → 48 kHz mono with `rubato`'s FFT
//! resampler. [`crate::encode_line`] makes the Opus packets.

use std::io::Write as _;
use std::process::{Command, Stdio};

use rubato::{FftFixedInOut, Resampler};

use crate::SimMediaError;
use crate::opus::OPUS_CLOCK_RATE;
use crate::wav::parse_wav_s16;

/// Longest text accepted for one line (characters).
pub const MAX_LINE_CHARS: usize = 500;

/// espeak-ng voice and rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechVoice {
    /// espeak-ng voice name (`-v`).
    pub voice: String,
    /// Words per minute (`-s`, 80–450).
    pub words_per_minute: u32,
}

impl Default for SpeechVoice {
    fn default() -> Self {
        Self {
            voice: "en-us".to_owned(),
            words_per_minute: 160,
        }
    }
}

/// Checks a line's text: not blank, at most [`MAX_LINE_CHARS`], no
/// control characters.
///
/// # Errors
/// [`SimMediaError::InvalidText`].
pub fn check_line_text(text: &str) -> Result<(), SimMediaError> {
    if text.trim().is_empty() {
        return Err(SimMediaError::InvalidText("empty"));
    }
    if text.chars().count() > MAX_LINE_CHARS {
        return Err(SimMediaError::InvalidText("longer than 500 characters"));
    }
    if text.chars().any(char::is_control) {
        return Err(SimMediaError::InvalidText("control characters"));
    }
    Ok(())
}

/// Speaks `text` with espeak-ng and returns 48 kHz mono samples.
///
/// # Errors
/// [`SimMediaError::InvalidText`] for bad text, [`SimMediaError::Synthesis`]
/// when espeak-ng is missing or fails, [`SimMediaError::BadWav`] /
/// [`SimMediaError::Resample`] for unusable output.
pub fn synthesize(text: &str, voice: &SpeechVoice) -> Result<Vec<i16>, SimMediaError> {
    check_line_text(text)?;
    if voice.voice.is_empty()
        || !voice
            .voice
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_+".contains(c))
    {
        return Err(SimMediaError::InvalidConfig("espeak-ng voice name"));
    }
    let mut child = Command::new("espeak-ng")
        .args(["--stdout", "-v", &voice.voice, "-s"])
        .arg(voice.words_per_minute.clamp(80, 450).to_string())
        .arg("--stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| SimMediaError::Synthesis(format!("cannot run espeak-ng: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| SimMediaError::Synthesis(format!("writing text: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| SimMediaError::Synthesis(e.to_string()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(SimMediaError::Synthesis(format!(
            "{}: {}",
            out.status,
            err.chars().take(200).collect::<String>()
        )));
    }
    let wav = parse_wav_s16(&out.stdout)?;
    if wav.samples.is_empty() {
        return Err(SimMediaError::Synthesis("no audio produced".into()));
    }
    resample_to_48k(&wav.samples, wav.sample_rate)
}

/// Resamples mono 16-bit PCM from `rate` to 48 kHz (the output has
/// `round(len × 48000 / rate)` samples, the resampler's delay removed).
///
/// # Errors
/// [`SimMediaError::Resample`] for a rate the resampler refuses.
pub fn resample_to_48k(samples: &[i16], rate: u32) -> Result<Vec<i16>, SimMediaError> {
    if rate == OPUS_CLOCK_RATE {
        return Ok(samples.to_vec());
    }
    if rate == 0 {
        return Err(SimMediaError::Resample("sample rate 0".into()));
    }
    let want = (samples.len() as u64 * u64::from(OPUS_CLOCK_RATE)).div_ceil(u64::from(rate));
    let want = usize::try_from(want).unwrap_or(usize::MAX);
    let mut r = FftFixedInOut::<f32>::new(rate as usize, OPUS_CLOCK_RATE as usize, 1024, 1)
        .map_err(|e| SimMediaError::Resample(e.to_string()))?;
    let delay = r.output_delay();
    let input: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32768.0).collect();
    let mut out: Vec<f32> = Vec::with_capacity(want + delay + 4096);
    let mut pos = 0;
    while out.len() < want + delay {
        let n = r.input_frames_next();
        let mut chunk = vec![0.0f32; n];
        if pos < input.len() {
            let end = (pos + n).min(input.len());
            chunk[..end - pos].copy_from_slice(&input[pos..end]);
        }
        pos += n;
        let res = r
            .process(&[chunk], None)
            .map_err(|e| SimMediaError::Resample(e.to_string()))?;
        out.extend_from_slice(res.first().map_or(&[][..], Vec::as_slice));
    }
    Ok(out
        .iter()
        .skip(delay)
        .take(want)
        .map(|&v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert!(check_line_text("agent, look at my screen").is_ok());
        assert!(check_line_text("   ").is_err());
        assert!(check_line_text("a\u{7}b").is_err());
        assert!(check_line_text(&"a".repeat(501)).is_err());
    }

    /// A 441 Hz sine at 22.05 kHz (50 samples per cycle) stays 441 Hz at
    /// 48 kHz, with the length scaled and no delay left at the start.
    #[test]
    fn resampling_keeps_pitch_length_and_alignment() {
        let n = 22_050;
        let sine: Vec<i16> = (0..n)
            .map(|i| {
                let t = i as f64 / 22_050.0;
                (10_000.0 * (2.0 * std::f64::consts::PI * 441.0 * t).sin()) as i16
            })
            .collect();
        let out = resample_to_48k(&sine, 22_050).unwrap();
        assert_eq!(out.len(), 48_000);
        // Zero crossings upward over the middle second fraction → frequency.
        let mid = &out[4800..43_200];
        let ups = mid.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
        let freq = ups as f64 / (mid.len() as f64 / 48_000.0);
        assert!((freq - 441.0).abs() < 3.0, "{freq}");
        // Aligned (delay removed): upward zero crossings fall on whole
        // periods of the source (108.84 samples at 48 kHz).
        let up = (60..400).find(|&i| out[i - 1] < 0 && out[i] >= 0).unwrap();
        assert!((107..=111).contains(&up), "{up}");
        assert_eq!(
            resample_to_48k(&sine[..10], 48_000).unwrap(),
            sine[..10].to_vec()
        );
        assert!(resample_to_48k(&sine, 0).is_err());
    }

    #[test]
    fn espeak_speaks_a_line() {
        let pcm = synthesize("agent, look at my screen", &SpeechVoice::default()).unwrap();
        let secs = pcm.len() as f64 / 48_000.0;
        assert!((0.8..4.0).contains(&secs), "{secs}");
        let rms =
            (pcm.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / pcm.len() as f64).sqrt();
        assert!(rms > 300.0, "{rms}");
        let bad = SpeechVoice {
            voice: "en; rm".into(),
            ..SpeechVoice::default()
        };
        assert!(synthesize("hi", &bad).is_err());
    }
}
