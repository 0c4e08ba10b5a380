//! Offline text to speech: espeak-ng.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::SpeechError;
use crate::pcm::{OUTPUT_RATE, Pcm, try_resample};
use crate::process::{Priority, run_tool};
use crate::wav::parse_wav;

/// Settings of the offline synthesizer.
#[derive(Debug, Clone, PartialEq)]
pub struct EspeakConfig {
    /// The executable (default `espeak-ng`, found on `PATH`).
    pub program: PathBuf,
    /// The voice (`-v`), default `en-us`.
    pub voice: String,
    /// Speaking rate (`-s`), words per minute, 80–450; default 175.
    pub words_per_minute: u32,
    /// Longest one synthesis may take; the process is killed after it.
    pub timeout: Duration,
    /// Longest text accepted, in characters.
    pub max_chars: usize,
    /// CPU priority of espeak-ng.
    pub priority: Priority,
}

impl Default for EspeakConfig {
    fn default() -> Self {
        EspeakConfig {
            program: PathBuf::from("espeak-ng"),
            voice: "en-us".to_owned(),
            words_per_minute: 175,
            timeout: Duration::from_secs(20),
            max_chars: 2_000,
            priority: Priority::default(),
        }
    }
}

impl EspeakConfig {
    /// Checks the settings (voice name characters, rate range, limits).
    pub fn validate(&self) -> Result<(), SpeechError> {
        let voice_ok = !self.voice.is_empty()
            && self.voice.len() <= 64
            && self
                .voice
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/'));
        if !voice_ok {
            return Err(SpeechError::InvalidConfig(format!(
                "espeak-ng voice {:?} must be 1-64 of [A-Za-z0-9-_+/]",
                self.voice
            )));
        }
        if !(80..=450).contains(&self.words_per_minute) {
            return Err(SpeechError::InvalidConfig(format!(
                "espeak-ng words per minute {} is outside 80..=450",
                self.words_per_minute
            )));
        }
        if self.timeout.is_zero() || self.max_chars == 0 {
            return Err(SpeechError::InvalidConfig(
                "espeak-ng timeout and max_chars must be above zero".into(),
            ));
        }
        Ok(())
    }
}

/// Speaks `text` with espeak-ng (text on stdin, WAV on stdout) and returns
/// it at 48 kHz mono.
pub(crate) async fn synthesize(config: &EspeakConfig, text: &str) -> Result<Pcm, SpeechError> {
    config.validate()?;
    let text = text.trim();
    if text.is_empty() {
        return Err(SpeechError::InvalidInput("nothing to say".into()));
    }
    let chars = text.chars().count();
    if chars > config.max_chars {
        return Err(SpeechError::InvalidInput(format!(
            "text of {chars} characters is longer than {}",
            config.max_chars
        )));
    }
    let args = [
        "-v".into(),
        config.voice.clone().into(),
        "-s".into(),
        config.words_per_minute.to_string().into(),
        "--stdin".into(),
        "--stdout".into(),
    ];
    // One line per call (espeak-ng reads stdin line by line, and a newline
    // is a pause anyway), and no `[[…]]`: espeak-ng reads that as phoneme
    // codes, not text.
    let input = spoken_text(text).into_bytes();
    let output = run_tool(
        &config.program,
        &args,
        Some(input),
        config.timeout,
        "espeak-ng",
        config.priority,
    )
    .await?;
    let program = config.program.display().to_string();
    // Parsing and resampling a few seconds of audio is CPU work: off the
    // async worker.
    tokio::task::spawn_blocking(move || {
        let pcm = parse_wav(&output.stdout).map_err(|e| SpeechError::ToolFailed {
            program,
            message: format!("unusable output: {e}"),
        })?;
        try_resample(&pcm, OUTPUT_RATE)
    })
    .await
    .map_err(|e| SpeechError::ToolFailed {
        program: config.program.display().to_string(),
        message: format!("the decoding task failed: {e}"),
    })?
}

/// `text` as handed to espeak-ng: line breaks become spaces and `[[` is
/// split so that it is read as brackets, not as phoneme input.
fn spoken_text(text: &str) -> String {
    let mut out = text.replace(['\r', '\n'], " ");
    while out.contains("[[") {
        out = out.replace("[[", "[ [");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_one_line_without_phoneme_input() {
        assert_eq!(spoken_text("a\r\nb [[[x]]"), "a  b [ [ [x]]");
    }

    #[test]
    fn settings_are_checked() {
        assert!(EspeakConfig::default().validate().is_ok());
        let bad_voice = EspeakConfig {
            voice: "en; rm -rf".into(),
            ..EspeakConfig::default()
        };
        assert!(bad_voice.validate().unwrap_err().is_config());
        let slow = EspeakConfig {
            words_per_minute: 10,
            ..EspeakConfig::default()
        };
        assert!(slow.validate().is_err());
    }

    #[tokio::test]
    async fn empty_and_long_text_are_refused_before_running() {
        let config = EspeakConfig {
            program: PathBuf::from("/nonexistent/espeak"),
            max_chars: 10,
            ..EspeakConfig::default()
        };
        assert!(synthesize(&config, "  ").await.unwrap_err().is_input());
        assert!(
            synthesize(&config, "eleven chars")
                .await
                .unwrap_err()
                .is_input()
        );
        let err = synthesize(&config, "hello").await.unwrap_err();
        assert!(matches!(err, SpeechError::ToolMissing { .. }), "{err}");
    }
}
