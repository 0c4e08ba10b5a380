//! Mono 16-bit audio and its conversion to other sample rates.

use std::time::Duration;

use rubato::{FftFixedInOut, Resampler};

use crate::error::SpeechError;

/// The rate every [`crate::TextToSpeech`] returns (Opus's clock).
pub const OUTPUT_RATE: u32 = 48_000;
/// Lowest and highest sample rates accepted anywhere in this crate.
pub const RATE_RANGE: std::ops::RangeInclusive<u32> = 1_000..=192_000;

/// Mono signed 16-bit audio.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pcm {
    /// Samples per second.
    pub sample_rate: u32,
    /// The samples, one channel.
    pub samples: Vec<i16>,
}

impl Pcm {
    /// Audio at `sample_rate` with these samples.
    pub fn new(sample_rate: u32, samples: Vec<i16>) -> Self {
        Pcm {
            sample_rate,
            samples,
        }
    }

    /// How long the audio plays (zero for a zero rate).
    pub fn duration(&self) -> Duration {
        if self.sample_rate == 0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.sample_rate))
    }
}

/// `pcm` at `to_rate`, band-limited by `rubato`'s FFT resampler, with
/// `ceil(len × to_rate / from_rate)` samples (the resampler's delay is
/// removed). The same rate returns a copy. A rate outside [`RATE_RANGE`]
/// gives empty audio at `to_rate` (see [`try_resample`] for the error).
pub fn resample(pcm: &Pcm, to_rate: u32) -> Pcm {
    try_resample(pcm, to_rate).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "resampling failed; returning silence");
        Pcm::new(to_rate, Vec::new())
    })
}

/// [`resample`], with an error for rates outside [`RATE_RANGE`].
pub fn try_resample(pcm: &Pcm, to_rate: u32) -> Result<Pcm, SpeechError> {
    for rate in [pcm.sample_rate, to_rate] {
        if !RATE_RANGE.contains(&rate) {
            return Err(SpeechError::InvalidInput(format!(
                "sample rate {rate} Hz is outside {}..={} Hz",
                RATE_RANGE.start(),
                RATE_RANGE.end()
            )));
        }
    }
    if pcm.sample_rate == to_rate {
        return Ok(pcm.clone());
    }
    if pcm.samples.is_empty() {
        return Ok(Pcm::new(to_rate, Vec::new()));
    }
    let from = u64::from(pcm.sample_rate);
    let want = (pcm.samples.len() as u64 * u64::from(to_rate)).div_ceil(from);
    let want = usize::try_from(want)
        .map_err(|_| SpeechError::InvalidInput("audio too long to resample".into()))?;
    let err = |e: &dyn std::fmt::Display| SpeechError::InvalidInput(format!("resampler: {e}"));
    let mut resampler =
        FftFixedInOut::<f32>::new(pcm.sample_rate as usize, to_rate as usize, 1024, 1)
            .map_err(|e| err(&e))?;
    let delay = resampler.output_delay();
    let mut out: Vec<f32> = Vec::with_capacity(want + delay + 2048);
    let mut next = 0usize;
    let mut chunk: Vec<f32> = Vec::new();
    while out.len() < want + delay {
        let frames = resampler.input_frames_next();
        chunk.clear();
        chunk.extend(
            pcm.samples
                .iter()
                .skip(next)
                .take(frames)
                .map(|&s| f32::from(s) / 32768.0),
        );
        // Past the end the input is padded with silence to flush the delay.
        chunk.resize(frames, 0.0);
        next = next.saturating_add(frames);
        let produced = resampler
            .process(std::slice::from_ref(&chunk), None)
            .map_err(|e| err(&e))?;
        match produced.into_iter().next() {
            Some(channel) if !channel.is_empty() => out.extend(channel),
            _ => return Err(SpeechError::InvalidInput("resampler made no output".into())),
        }
    }
    let samples = out
        .into_iter()
        .skip(delay)
        .take(want)
        .map(|v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect();
    Ok(Pcm::new(to_rate, samples))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, hz: f64, secs: f64) -> Pcm {
        let n = (f64::from(rate) * secs) as usize;
        let samples = (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                (12_000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
            })
            .collect();
        Pcm::new(rate, samples)
    }

    /// The strongest frequency (Goertzel power over a 10 Hz grid).
    fn peak_hz(pcm: &Pcm) -> f64 {
        let rate = f64::from(pcm.sample_rate);
        let mut best = (0.0, 0.0);
        let mut hz = 100.0;
        while hz < 4000.0 {
            let w = 2.0 * std::f64::consts::PI * hz / rate;
            let (mut re, mut im) = (0.0, 0.0);
            for (i, &s) in pcm.samples.iter().enumerate() {
                re += f64::from(s) * (w * i as f64).cos();
                im += f64::from(s) * (w * i as f64).sin();
            }
            let power = re * re + im * im;
            if power > best.1 {
                best = (hz, power);
            }
            hz += 10.0;
        }
        best.0
    }

    #[test]
    fn lengths_follow_the_rate_ratio() {
        for (from, to, n) in [
            (22_050, 48_000, 22_050),
            (48_000, 16_000, 4_801),
            (24_000, 48_000, 1),
            (16_000, 48_000, 320),
            (44_100, 16_000, 12_345),
        ] {
            let pcm = Pcm::new(from, vec![100; n]);
            let out = resample(&pcm, to);
            let want = (n as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize;
            assert_eq!(out.samples.len(), want, "{from}->{to} of {n}");
            assert_eq!(out.sample_rate, to);
        }
        let same = Pcm::new(16_000, vec![1, 2, 3]);
        assert_eq!(resample(&same, 16_000), same);
        assert!(
            resample(&Pcm::new(16_000, vec![]), 48_000)
                .samples
                .is_empty()
        );
    }

    #[test]
    fn a_tone_keeps_its_frequency_and_level() {
        for (from, to, hz) in [(22_050, 48_000, 440.0), (48_000, 16_000, 1000.0)] {
            let input = tone(from, hz, 0.5);
            let out = resample(&input, to);
            assert!(
                (peak_hz(&out) - hz).abs() <= 10.0,
                "{from}->{to}: {}",
                peak_hz(&out)
            );
            // The middle of the output keeps the amplitude (12000).
            let mid = &out.samples[out.samples.len() / 4..out.samples.len() * 3 / 4];
            let max = mid.iter().map(|s| i32::from(*s).abs()).max().unwrap_or(0);
            assert!((11_000..=13_000).contains(&max), "{from}->{to}: peak {max}");
        }
    }

    #[test]
    fn bad_rates_are_errors_not_panics() {
        assert!(try_resample(&Pcm::new(0, vec![1; 10]), 48_000).is_err());
        assert!(try_resample(&Pcm::new(16_000, vec![1; 10]), 0).is_err());
        assert!(try_resample(&Pcm::new(u32::MAX, vec![1; 10]), 48_000).is_err());
        let out = resample(&Pcm::new(0, vec![1; 10]), 48_000);
        assert_eq!(out, Pcm::new(48_000, vec![]));
    }

    #[test]
    fn duration() {
        assert_eq!(
            Pcm::new(16_000, vec![0; 8_000]).duration(),
            Duration::from_millis(500)
        );
        assert_eq!(Pcm::new(0, vec![0; 8]).duration(), Duration::ZERO);
    }
}
