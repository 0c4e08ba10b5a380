//! Speech providers for the voice agent: speech to text and text to speech,
//! each offline by default or through an OpenAI-compatible HTTP API, shaped
//! like the `llm` crate's providers.
//!
//! - [`SpeechToText`]: [`SpeechToText::offline`] runs pocketsphinx with a
//!   grammar and keyword list for the agent's name and the watch commands
//!   plus the free-text language model (see [`sphinx_decide`] for how the
//!   passes are combined); [`SpeechToText::openai_compatible`] posts a WAV
//!   to `{base}/audio/transcriptions`.
//! - [`TextToSpeech`]: [`TextToSpeech::offline`] runs espeak-ng;
//!   [`TextToSpeech::openai_compatible`] posts to `{base}/audio/speech`.
//!   Output is always 48 kHz mono ([`OUTPUT_RATE`]).
//! - [`resample`], [`parse_wav`], [`write_wav`]: the audio plumbing.
//!
//! Offline tools run as subprocesses at idle priority with a timeout (a
//! missing program is a [`SpeechError::ToolMissing`] naming its Debian
//! package); temporary files live in a directory removed after each call.
//! HTTP uses the daemon's one TLS configuration (`tls-client`), bounded
//! answers, per-attempt timeouts and retries of [`SpeechError::is_retryable`]
//! errors; keys ([`Secret`]) never appear in `Debug`, errors or
//! [`SpeechToText::describe`].

mod error;
mod espeak;
mod http;
mod openai;
mod pcm;
mod process;
mod sphinx;
pub mod sphinx_decide;
mod wav;

use std::time::{Duration, Instant};

pub use error::{HttpError, SpeechError};
pub use espeak::EspeakConfig;
pub use http::{DEFAULT_RETRY, RetryPolicy};
pub use openai::{
    OPENAI_BASE_URL, OPENAI_PCM_RATE, OpenAiSttConfig, OpenAiTtsConfig, TtsFormat, UPLOAD_RATE,
};
pub use pcm::{OUTPUT_RATE, Pcm, RATE_RANGE, resample, try_resample};
pub use process::Priority;
/// The API key type of the hosted providers (`provider-http`'s [`ApiKey`](provider_http::ApiKey)):
/// `Debug` and `Display` print `[redacted]`.
pub use provider_http::ApiKey as Secret;
pub use sphinx::{DEBIAN_MODEL_DIR, DEFAULT_COMMANDS, PocketsphinxConfig, SPHINX_RATE};
pub use sphinx_decide::Source;
pub use wav::{parse_s16le, parse_wav, write_wav};

/// What was said.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// The words (empty when nothing was recognized).
    pub text: String,
    /// The recognizer's confidence in 0..=1, when it gives one (offline:
    /// only for a matched command).
    pub confidence: Option<f32>,
    /// How long the recognition took.
    pub elapsed: Duration,
    /// Offline only: whether the text is a matched command or free text
    /// (`None` for hosted providers).
    pub source: Option<Source>,
}

enum SttKind {
    Offline(PocketsphinxConfig),
    OpenAi(Box<openai::OpenAiStt>),
    /// A hosted provider whose settings were refused: every call fails
    /// with this error.
    Broken(String, SpeechError),
}

/// A speech-to-text provider.
pub struct SpeechToText {
    kind: SttKind,
}

impl std::fmt::Debug for SpeechToText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl SpeechToText {
    /// The offline recognizer (pocketsphinx).
    pub fn offline(cfg: PocketsphinxConfig) -> Self {
        SpeechToText {
            kind: SttKind::Offline(cfg),
        }
    }

    /// OpenAI or a compatible server. Bad settings are reported by every
    /// [`transcribe`](Self::transcribe) (and by
    /// [`try_openai_compatible`](Self::try_openai_compatible) at once).
    pub fn openai_compatible(cfg: OpenAiSttConfig) -> Self {
        let model = cfg.model.clone();
        match Self::try_openai_compatible(cfg) {
            Ok(stt) => stt,
            Err(e) => SpeechToText {
                kind: SttKind::Broken(model, e),
            },
        }
    }

    /// [`openai_compatible`](Self::openai_compatible), failing on bad
    /// settings.
    pub fn try_openai_compatible(cfg: OpenAiSttConfig) -> Result<Self, SpeechError> {
        Ok(SpeechToText {
            kind: SttKind::OpenAi(Box::new(openai::OpenAiStt::new(cfg)?)),
        })
    }

    /// Checks the settings without recognizing anything.
    pub fn validate(&self) -> Result<(), SpeechError> {
        match &self.kind {
            SttKind::Offline(cfg) => cfg.validate(),
            SttKind::OpenAi(_) => Ok(()),
            SttKind::Broken(_, e) => Err(e.clone()),
        }
    }

    /// What `pcm` (mono, any rate in [`RATE_RANGE`]) says.
    pub async fn transcribe(&self, pcm: &Pcm) -> Result<Transcript, SpeechError> {
        let started = Instant::now();
        if !RATE_RANGE.contains(&pcm.sample_rate) {
            return Err(SpeechError::InvalidInput(format!(
                "sample rate {} Hz is out of range",
                pcm.sample_rate
            )));
        }
        match &self.kind {
            SttKind::Offline(cfg) => {
                let recognized = sphinx::transcribe(cfg, pcm).await?;
                Ok(Transcript {
                    text: recognized.decision.text,
                    confidence: recognized.decision.confidence,
                    elapsed: started.elapsed(),
                    source: Some(recognized.decision.source),
                })
            }
            SttKind::OpenAi(stt) => Ok(Transcript {
                text: stt.transcribe(pcm).await?,
                confidence: None,
                elapsed: started.elapsed(),
                source: None,
            }),
            SttKind::Broken(_, e) => Err(e.clone()),
        }
    }

    /// Provider and model, for logs and health reports (never a key).
    pub fn describe(&self) -> String {
        match &self.kind {
            SttKind::Offline(cfg) => format!(
                "offline speech-to-text (pocketsphinx, name {:?}, {} commands)",
                cfg.agent_name,
                cfg.commands.len()
            ),
            SttKind::OpenAi(stt) => stt.describe(),
            SttKind::Broken(model, _) => {
                format!("openai-compatible speech-to-text (model {model}, misconfigured)")
            }
        }
    }
}

enum TtsKind {
    Offline(EspeakConfig),
    OpenAi(Box<openai::OpenAiTts>),
    Broken(String, SpeechError),
}

/// A text-to-speech provider.
pub struct TextToSpeech {
    kind: TtsKind,
}

impl std::fmt::Debug for TextToSpeech {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl TextToSpeech {
    /// The offline synthesizer (espeak-ng).
    pub fn offline(cfg: EspeakConfig) -> Self {
        TextToSpeech {
            kind: TtsKind::Offline(cfg),
        }
    }

    /// OpenAI or a compatible server. Bad settings are reported by every
    /// [`synthesize`](Self::synthesize) (and by
    /// [`try_openai_compatible`](Self::try_openai_compatible) at once).
    pub fn openai_compatible(cfg: OpenAiTtsConfig) -> Self {
        let model = cfg.model.clone();
        match Self::try_openai_compatible(cfg) {
            Ok(tts) => tts,
            Err(e) => TextToSpeech {
                kind: TtsKind::Broken(model, e),
            },
        }
    }

    /// [`openai_compatible`](Self::openai_compatible), failing on bad
    /// settings.
    pub fn try_openai_compatible(cfg: OpenAiTtsConfig) -> Result<Self, SpeechError> {
        Ok(TextToSpeech {
            kind: TtsKind::OpenAi(Box::new(openai::OpenAiTts::new(cfg)?)),
        })
    }

    /// Checks the settings without synthesizing anything.
    pub fn validate(&self) -> Result<(), SpeechError> {
        match &self.kind {
            TtsKind::Offline(cfg) => cfg.validate(),
            TtsKind::OpenAi(_) => Ok(()),
            TtsKind::Broken(_, e) => Err(e.clone()),
        }
    }

    /// `text` spoken, 48 kHz mono.
    pub async fn synthesize(&self, text: &str) -> Result<Pcm, SpeechError> {
        match &self.kind {
            TtsKind::Offline(cfg) => espeak::synthesize(cfg, text).await,
            TtsKind::OpenAi(tts) => tts.synthesize(text).await,
            TtsKind::Broken(_, e) => Err(e.clone()),
        }
    }

    /// Provider, model and voice, for logs and health reports (never a
    /// key).
    pub fn describe(&self) -> String {
        match &self.kind {
            TtsKind::Offline(cfg) => format!(
                "offline text-to-speech (espeak-ng, voice {}, {} wpm)",
                cfg.voice, cfg.words_per_minute
            ),
            TtsKind::OpenAi(tts) => tts.describe(),
            TtsKind::Broken(model, _) => {
                format!("openai-compatible text-to-speech (model {model}, misconfigured)")
            }
        }
    }
}
