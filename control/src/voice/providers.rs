//! Which speech-to-text and text-to-speech providers control uses, from its
//! command line and environment. Offline by default (pocketsphinx and
//! espeak-ng, Debian packages); OpenAI or any OpenAI-compatible server when
//! configured. A provider that cannot be used is reported at start and the
//! voice path runs without it (no transcripts, or text-only replies), never
//! silently on another provider.

use std::sync::Arc;

use speech::{
    EspeakConfig, OpenAiSttConfig, OpenAiTtsConfig, PocketsphinxConfig, SpeechToText, TextToSpeech,
};

/// A speech provider choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SpeechProvider {
    /// pocketsphinx (speech to text) / espeak-ng (text to speech), local.
    Offline,
    /// OpenAI (`OPENAI_API_KEY`, `OPENAI_BASE_URL`).
    Openai,
    /// An OpenAI-compatible server (`--speech-base-url`).
    OpenaiCompatible,
    /// None: no transcription, or no spoken replies.
    Off,
}

/// Speech settings of the command line.
#[derive(Clone, Debug, clap::Args)]
pub struct SpeechArgs {
    /// Speech to text for users' utterances (mediad's voice activity
    /// detection cuts them).
    #[arg(long, env = "STT_PROVIDER", value_enum, default_value_t = SpeechProvider::Offline)]
    pub stt_provider: SpeechProvider,
    /// Text to speech for the agent's commentary and answers.
    #[arg(long, env = "TTS_PROVIDER", value_enum, default_value_t = SpeechProvider::Offline)]
    pub tts_provider: SpeechProvider,
    /// The agent's spoken name: a spoken turn must start with it ("agent,
    /// look at my screen"), as a text turn must mention or name the agent.
    /// The offline recognizer listens for it specially (one lower-case
    /// dictionary word).
    #[arg(long, env = "AGENT_NAME", default_value = "agent")]
    pub agent_name: String,
    /// Base URL (with `/v1`) of an OpenAI-compatible speech server.
    #[arg(long, env = "SPEECH_BASE_URL")]
    pub speech_base_url: Option<String>,
    /// Transcription model (OpenAI default `whisper-1`).
    #[arg(long, env = "STT_MODEL")]
    pub stt_model: Option<String>,
    /// Speech model (OpenAI default `tts-1`).
    #[arg(long, env = "TTS_MODEL")]
    pub tts_model: Option<String>,
    /// Voice of the speech model (OpenAI default `alloy`; offline: an
    /// espeak-ng voice, default `en-us`).
    #[arg(long, env = "TTS_VOICE")]
    pub tts_voice: Option<String>,
    /// CPU priority of the offline tools (pocketsphinx, espeak-ng). They
    /// are on the path from a user's last word to the agent's first: at
    /// `normal` (the default) recognition takes about 1.1 s per second of
    /// speech on a busy 2-core machine, at `idle` about 1.6 s.
    #[arg(long, env = "SPEECH_PRIORITY", value_enum, default_value_t = ToolPriority::Normal)]
    pub speech_priority: ToolPriority,
}

/// [`speech::Priority`] on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ToolPriority {
    /// Only otherwise idle CPU (SCHED_IDLE).
    Idle,
    /// `nice -n 19`.
    Low,
    /// control's own priority.
    Normal,
}

impl From<ToolPriority> for speech::Priority {
    fn from(p: ToolPriority) -> Self {
        match p {
            ToolPriority::Idle => speech::Priority::Idle,
            ToolPriority::Low => speech::Priority::Low,
            ToolPriority::Normal => speech::Priority::Normal,
        }
    }
}

/// The providers, ready.
#[derive(Clone, Default)]
pub struct SpeechProviders {
    /// Speech to text, if any.
    pub stt: Option<Arc<SpeechToText>>,
    /// Text to speech, if any.
    pub tts: Option<Arc<TextToSpeech>>,
    /// The agent's spoken name (lower case).
    pub agent_name: String,
}

impl SpeechArgs {
    /// Builds the providers; `env` reads `OPENAI_API_KEY` / `OPENAI_BASE_URL`
    /// (injected for tests). Errors name the setting to fix.
    pub fn providers(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<SpeechProviders, String> {
        let agent_name = self.agent_name.trim().to_lowercase();
        let key = env("OPENAI_API_KEY").filter(|k| !k.trim().is_empty());
        let openai_base = env("OPENAI_BASE_URL").filter(|b| !b.trim().is_empty());
        let stt = match self.stt_provider {
            SpeechProvider::Off => None,
            SpeechProvider::Offline => {
                let cfg = PocketsphinxConfig {
                    agent_name: agent_name.clone(),
                    priority: self.speech_priority.into(),
                    ..PocketsphinxConfig::default()
                };
                cfg.validate()
                    .map_err(|e| format!("{e} (--agent-name / AGENT_NAME)"))?;
                Some(SpeechToText::offline(cfg))
            }
            SpeechProvider::Openai => {
                let key = key.clone().ok_or(
                    "STT_PROVIDER=openai needs OPENAI_API_KEY (or use offline / openai-compatible)",
                )?;
                let mut cfg = OpenAiSttConfig::openai(key);
                if let Some(b) = &openai_base {
                    cfg.base_url = b.clone();
                }
                if let Some(m) = &self.stt_model {
                    cfg.model = m.clone();
                }
                Some(SpeechToText::try_openai_compatible(cfg).map_err(|e| e.to_string())?)
            }
            SpeechProvider::OpenaiCompatible => {
                let base = self.compatible_base("STT")?;
                let model = self.stt_model.clone().unwrap_or_else(|| "whisper-1".into());
                let mut cfg = OpenAiSttConfig::compatible(base, model);
                cfg.api_key = key.clone().map(speech::Secret::new);
                Some(SpeechToText::try_openai_compatible(cfg).map_err(|e| e.to_string())?)
            }
        };
        let tts = match self.tts_provider {
            SpeechProvider::Off => None,
            SpeechProvider::Offline => {
                let mut cfg = EspeakConfig {
                    priority: self.speech_priority.into(),
                    ..EspeakConfig::default()
                };
                if let Some(v) = &self.tts_voice {
                    cfg.voice = v.clone();
                }
                cfg.validate()
                    .map_err(|e| format!("{e} (--tts-voice / TTS_VOICE)"))?;
                Some(TextToSpeech::offline(cfg))
            }
            SpeechProvider::Openai => {
                let key = key.clone().ok_or(
                    "TTS_PROVIDER=openai needs OPENAI_API_KEY (or use offline / openai-compatible)",
                )?;
                let mut cfg = OpenAiTtsConfig::openai(key);
                if let Some(b) = &openai_base {
                    cfg.base_url = b.clone();
                }
                if let Some(m) = &self.tts_model {
                    cfg.model = m.clone();
                }
                if let Some(v) = &self.tts_voice {
                    cfg.voice = v.clone();
                }
                Some(TextToSpeech::try_openai_compatible(cfg).map_err(|e| e.to_string())?)
            }
            SpeechProvider::OpenaiCompatible => {
                let base = self.compatible_base("TTS")?;
                let model = self.tts_model.clone().unwrap_or_else(|| "tts-1".into());
                let voice = self.tts_voice.clone().unwrap_or_else(|| "alloy".into());
                let mut cfg = OpenAiTtsConfig::compatible(base, model, voice);
                cfg.api_key = key.map(speech::Secret::new);
                Some(TextToSpeech::try_openai_compatible(cfg).map_err(|e| e.to_string())?)
            }
        };
        Ok(SpeechProviders {
            stt: stt.map(Arc::new),
            tts: tts.map(Arc::new),
            agent_name,
        })
    }

    fn compatible_base(&self, what: &str) -> Result<String, String> {
        self.speech_base_url
            .clone()
            .filter(|b| !b.trim().is_empty())
            .ok_or_else(|| {
                format!(
                    "{what}_PROVIDER=openai-compatible needs --speech-base-url / SPEECH_BASE_URL"
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        speech: SpeechArgs,
    }

    fn args(a: &[&str]) -> SpeechArgs {
        T::parse_from(std::iter::once("t").chain(a.iter().copied())).speech
    }

    #[test]
    fn offline_is_the_default_and_names_both_providers() {
        let p = args(&[]).providers(|_| None).unwrap();
        assert!(p.stt.unwrap().describe().contains("pocketsphinx"));
        assert!(p.tts.unwrap().describe().contains("espeak"));
        assert_eq!(p.agent_name, "agent");
    }

    #[test]
    fn hosted_providers_say_what_is_missing() {
        let e = args(&["--stt-provider", "openai"])
            .providers(|_| None)
            .err()
            .unwrap();
        assert!(e.contains("OPENAI_API_KEY"), "{e}");
        let e = args(&["--tts-provider", "openai-compatible"])
            .providers(|_| None)
            .err()
            .unwrap();
        assert!(e.contains("SPEECH_BASE_URL"), "{e}");
        let e = args(&["--agent-name", "two words"])
            .providers(|_| None)
            .err()
            .unwrap();
        assert!(e.contains("AGENT_NAME"), "{e}");
    }

    #[test]
    fn off_means_none_and_keys_never_show() {
        let p = args(&["--stt-provider", "off", "--tts-provider", "openai"])
            .providers(|k| (k == "OPENAI_API_KEY").then(|| "sk-secret-123".to_owned()))
            .unwrap();
        assert!(p.stt.is_none());
        let d = p.tts.unwrap().describe();
        assert!(!d.contains("sk-secret"), "{d}");
    }
}
