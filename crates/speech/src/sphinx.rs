//! Offline speech to text: pocketsphinx (`pocketsphinx_continuous`), three
//! passes decided by [`crate::sphinx_decide`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::SpeechError;
use crate::pcm::{Pcm, try_resample};
use crate::process::{Priority, run_tool};
use crate::sphinx_decide::{self, Decision, Hypothesis};
use crate::wav::write_wav;

/// The rate the en-us acoustic model expects.
pub const SPHINX_RATE: u32 = 16_000;
/// Where Debian's `pocketsphinx-en-us` installs the model.
pub const DEBIAN_MODEL_DIR: &str = "/usr/share/pocketsphinx/model/en-us";
/// The watch commands the grammar knows, by default.
pub const DEFAULT_COMMANDS: [&str; 5] = [
    "look at my screen",
    "watch my screen",
    "stop watching",
    "what is on my screen",
    "what do you see",
];

/// Settings of the offline recognizer.
#[derive(Debug, Clone, PartialEq)]
pub struct PocketsphinxConfig {
    /// The executable (default `pocketsphinx_continuous`).
    pub program: PathBuf,
    /// The model directory: `en-us/` (acoustic model), `en-us.lm.bin` and
    /// `cmudict-en-us.dict` inside it.
    pub model_dir: PathBuf,
    /// The agent's name as it is spoken: one lower-case word of the
    /// dictionary (default `agent`).
    pub agent_name: String,
    /// The command phrases: lower-case dictionary words.
    pub commands: Vec<String>,
    /// Keyword-spotting threshold of the name (smaller spots more).
    pub name_threshold: f64,
    /// Keyword-spotting threshold of each command.
    pub command_threshold: f64,
    /// A command is kept when grammar score / free-text score ≤ this.
    pub grammar_max_ratio: f32,
    /// … or ≤ this when the agent's name was spotted (a spoken name the
    /// grammar scores badly costs the command a few points of ratio);
    /// free text said after the name measured 0.79–0.83.
    pub addressed_max_ratio: f32,
    /// … or ≤ this when keyword spotting and the free text confirm it.
    pub confirmed_max_ratio: f32,
    /// Longest one recognition (all passes) may take.
    pub timeout: Duration,
    /// Longest audio accepted.
    pub max_audio: Duration,
    /// Where each call's temporary directory is made (default: the
    /// system's temporary directory). It is removed after the call.
    pub work_dir: Option<PathBuf>,
    /// CPU priority of the passes. Recognition is on the path from a
    /// user's words to the agent's answer, so a daemon that can spare the
    /// CPU may choose [`Priority::Low`] or [`Priority::Normal`].
    pub priority: Priority,
}

impl Default for PocketsphinxConfig {
    fn default() -> Self {
        PocketsphinxConfig {
            program: PathBuf::from("pocketsphinx_continuous"),
            model_dir: PathBuf::from(DEBIAN_MODEL_DIR),
            agent_name: "agent".to_owned(),
            commands: DEFAULT_COMMANDS.iter().map(|c| (*c).to_owned()).collect(),
            name_threshold: 1e-40,
            command_threshold: 1e-40,
            grammar_max_ratio: 0.70,
            addressed_max_ratio: 0.75,
            confirmed_max_ratio: 0.85,
            timeout: Duration::from_secs(30),
            max_audio: Duration::from_secs(60),
            work_dir: None,
            priority: Priority::default(),
        }
    }
}

fn is_phrase(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 100
        && text
            .split(' ')
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '\''))
}

impl PocketsphinxConfig {
    /// Checks the settings: the name is one lower-case word, the commands
    /// lower-case words separated by single spaces, thresholds and limits
    /// positive.
    pub fn validate(&self) -> Result<(), SpeechError> {
        let bad = |m: String| Err(SpeechError::InvalidConfig(m));
        if !is_phrase(&self.agent_name) || self.agent_name.contains(' ') {
            return bad(format!(
                "agent name {:?} must be one lower-case word (a-z, ')",
                self.agent_name
            ));
        }
        if self.commands.is_empty() || self.commands.len() > 50 {
            return bad("1 to 50 command phrases are needed".into());
        }
        if let Some(c) = self.commands.iter().find(|c| !is_phrase(c)) {
            return bad(format!(
                "command {c:?} must be lower-case words (a-z, ') separated by single spaces"
            ));
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.name_threshold) || !positive(self.command_threshold) {
            return bad("keyword thresholds must be positive".into());
        }
        let ratio = |v: f32| v.is_finite() && v > 0.0 && v <= 1.0;
        if !ratio(self.grammar_max_ratio)
            || !ratio(self.addressed_max_ratio)
            || !ratio(self.confirmed_max_ratio)
        {
            return bad("grammar ratios must be in (0, 1]".into());
        }
        if self.timeout.is_zero() || self.max_audio.is_zero() {
            return bad("timeout and max_audio must be above zero".into());
        }
        Ok(())
    }

    fn model_args(&self, with_lm: bool) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "-hmm".into(),
            self.model_dir.join("en-us").into(),
            "-dict".into(),
            self.model_dir.join("cmudict-en-us.dict").into(),
        ];
        if with_lm {
            args.push("-lm".into());
            args.push(self.model_dir.join("en-us.lm.bin").into());
        }
        args
    }
}

/// What one recognition produced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Recognized {
    pub decision: Decision,
}

/// Recognizes `pcm` (any rate; resampled to 16 kHz).
pub(crate) async fn transcribe(
    config: &PocketsphinxConfig,
    pcm: &Pcm,
) -> Result<Recognized, SpeechError> {
    config.validate()?;
    if pcm.duration() > config.max_audio {
        return Err(SpeechError::InvalidInput(format!(
            "{} ms of audio is longer than {} ms",
            pcm.duration().as_millis(),
            config.max_audio.as_millis()
        )));
    }
    if pcm.samples.is_empty() {
        return Ok(Recognized {
            decision: sphinx_decide::decide(config, None, None, &[]),
        });
    }
    // Resampling and writing the files is CPU and disk work: off the async
    // worker. The directory (audio, grammar, keyword list) is removed when
    // `dir` drops, on every path out of this function.
    let pcm = pcm.clone();
    let grammar = sphinx_decide::grammar(config);
    let keyphrases = sphinx_decide::keyphrases(config);
    let work_dir = config.work_dir.clone();
    let dir = tokio::task::spawn_blocking(move || -> Result<tempfile::TempDir, SpeechError> {
        let io = |e: std::io::Error| SpeechError::ToolFailed {
            program: "pocketsphinx".into(),
            message: format!("cannot write its input files: {e}"),
        };
        let audio = try_resample(&pcm, SPHINX_RATE)?;
        let mut builder = tempfile::Builder::new();
        builder.prefix("speech-sphinx-");
        let dir = match &work_dir {
            Some(parent) => builder.tempdir_in(parent),
            None => builder.tempdir(),
        }
        .map_err(io)?;
        std::fs::write(dir.path().join("in.wav"), write_wav(&audio)).map_err(io)?;
        std::fs::write(dir.path().join("commands.gram"), grammar).map_err(io)?;
        std::fs::write(dir.path().join("keys.kws"), keyphrases).map_err(io)?;
        Ok(dir)
    })
    .await
    .map_err(|e| SpeechError::ToolFailed {
        program: "pocketsphinx".into(),
        message: format!("the preparation task failed: {e}"),
    })??;
    let work = run_passes(config, dir.path());
    let result = tokio::time::timeout(config.timeout, work)
        .await
        .map_err(|_| SpeechError::Timeout {
            provider: config.program.display().to_string(),
            timeout: config.timeout,
        })?;
    drop(dir);
    result
}

async fn run_passes(config: &PocketsphinxConfig, dir: &Path) -> Result<Recognized, SpeechError> {
    let input: Vec<OsString> = vec!["-infile".into(), dir.join("in.wav").into()];
    let pass = |extra: Vec<OsString>, with_lm: bool| {
        let mut args = input.clone();
        args.extend(config.model_args(with_lm));
        args.extend(extra);
        async move {
            run_tool(
                &config.program,
                &args,
                None,
                config.timeout,
                "pocketsphinx pocketsphinx-en-us",
                config.priority,
            )
            .await
        }
    };
    let (free, grammar, keywords) = tokio::join!(
        pass(vec!["-backtrace".into(), "yes".into()], true),
        pass(
            vec![
                "-jsgf".into(),
                dir.join("commands.gram").into(),
                "-backtrace".into(),
                "yes".into(),
            ],
            false
        ),
        pass(
            vec![
                "-kws".into(),
                dir.join("keys.kws").into(),
                "-logfn".into(),
                "/dev/null".into()
            ],
            false
        ),
    );
    // The free-text pass is the transcript of last resort: its failure is
    // the call's failure. The grammar and keyword passes only refine it.
    let free = free?;
    let free = sphinx_decide::parse_log(&String::from_utf8_lossy(&free.stderr));
    let grammar = match grammar {
        Ok(out) => sphinx_decide::parse_log(&String::from_utf8_lossy(&out.stderr)),
        Err(e) => {
            tracing::warn!(error = %e, "pocketsphinx grammar pass failed; using free text");
            None
        }
    };
    let keywords = match keywords {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(e) => {
            tracing::warn!(error = %e, "pocketsphinx keyword pass failed; using free text");
            String::new()
        }
    };
    let phrases = std::iter::once(config.agent_name.as_str())
        .chain(config.commands.iter().map(String::as_str));
    let heard = sphinx_decide::spotted(&keywords, phrases);
    let decision = sphinx_decide::decide(config, grammar.as_ref(), free.as_ref(), &heard);
    tracing::debug!(
        grammar = ?grammar.as_ref().map(|h: &Hypothesis| (&h.text, h.score)),
        free = ?free.as_ref().map(|h| (&h.text, h.score)),
        spotted = ?heard,
        chosen = %decision.text,
        "pocketsphinx passes"
    );
    Ok(Recognized { decision })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        assert!(PocketsphinxConfig::default().validate().is_ok());
        for name in ["", "Agent", "two words", "a;b"] {
            let c = PocketsphinxConfig {
                agent_name: name.into(),
                ..PocketsphinxConfig::default()
            };
            assert!(c.validate().unwrap_err().is_config(), "{name:?}");
        }
        let c = PocketsphinxConfig {
            commands: vec!["look  at".into()],
            ..PocketsphinxConfig::default()
        };
        assert!(c.validate().is_err());
        let c = PocketsphinxConfig {
            grammar_max_ratio: 1.5,
            ..PocketsphinxConfig::default()
        };
        assert!(c.validate().is_err());
    }

    #[tokio::test]
    async fn too_long_audio_is_refused_and_silence_is_empty() {
        let config = PocketsphinxConfig {
            program: PathBuf::from("/nonexistent/pocketsphinx"),
            max_audio: Duration::from_secs(1),
            ..PocketsphinxConfig::default()
        };
        let long = Pcm::new(16_000, vec![0; 32_000]);
        assert!(transcribe(&config, &long).await.unwrap_err().is_input());
        let empty = transcribe(&config, &Pcm::new(16_000, vec![]))
            .await
            .expect("empty");
        assert_eq!(empty.decision.text, "");
        let err = transcribe(&config, &Pcm::new(16_000, vec![0; 1600]))
            .await
            .unwrap_err();
        assert!(matches!(err, SpeechError::ToolMissing { .. }), "{err}");
    }
}
