//! OpenAI's audio API and OpenAI-compatible servers (whisper.cpp server,
//! speaches, LocalAI, vLLM…):
//!
//! - transcription: `POST {base}/audio/transcriptions`, multipart form
//!   with `file` (a 16 kHz mono WAV), `model`, `response_format=json` and
//!   optionally `language`; the answer is `{"text": "..."}`;
//! - speech: `POST {base}/audio/speech`, JSON `{model, input, voice,
//!   response_format}`; the answer is the audio: `pcm` (raw 16-bit
//!   little-endian mono, 24 kHz at OpenAI) or `wav`.
//!
//! `base` is the API root including its version, as in the llm crate:
//! `https://api.openai.com/v1` by default, `http://localhost:8000/v1` for
//! a local server. With a key, requests carry `Authorization: Bearer`.

use std::time::Duration;

use hyper::Uri;
use hyper::body::Bytes;
use serde::Deserialize;

use crate::Secret;
use crate::error::{HttpError, SpeechError};
use crate::http::{self, Body, DEFAULT_RETRY, RetryPolicy};
use crate::pcm::{OUTPUT_RATE, Pcm, try_resample};
use crate::wav::{parse_s16le, parse_wav, write_wav};
use provider_http::ApiClient;
use provider_http::{endpoint, normalize_base_url};

/// OpenAI's API root.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// The rate of OpenAI's `pcm` speech format.
pub const OPENAI_PCM_RATE: u32 = 24_000;
/// The rate audio is uploaded at for transcription.
pub const UPLOAD_RATE: u32 = 16_000;
/// Largest transcription answer accepted.
const MAX_TRANSCRIPT_BYTES: usize = 1024 * 1024;

/// Settings of the OpenAI-compatible transcriber.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiSttConfig {
    /// API root including its version (`https://api.openai.com/v1`).
    pub base_url: String,
    /// Bearer key; `None` for local servers without authentication.
    pub api_key: Option<Secret>,
    /// Model name (`whisper-1`, `gpt-4o-mini-transcribe`, a local model).
    pub model: String,
    /// ISO-639-1 language hint (`en`), if any.
    pub language: Option<String>,
    /// Per-attempt timeout (connect, upload and answer).
    pub timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// Longest audio accepted.
    pub max_audio: Duration,
}

impl OpenAiSttConfig {
    /// OpenAI itself with this key (`whisper-1`, English).
    pub fn openai(key: impl Into<String>) -> Self {
        OpenAiSttConfig {
            base_url: OPENAI_BASE_URL.to_owned(),
            api_key: Some(Secret::new(key)),
            model: "whisper-1".to_owned(),
            language: Some("en".to_owned()),
            timeout: Duration::from_secs(30),
            retry: DEFAULT_RETRY,
            max_audio: Duration::from_secs(60),
        }
    }

    /// A compatible server at `base_url`, without a key.
    pub fn compatible(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        OpenAiSttConfig {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            ..OpenAiSttConfig::openai("")
        }
    }
}

/// The audio format asked of the speech endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtsFormat {
    /// `pcm`: raw 16-bit little-endian mono at this rate (24 kHz at
    /// OpenAI).
    Pcm {
        /// The server's sample rate.
        sample_rate: u32,
    },
    /// `wav`: a WAV file (its header gives the rate).
    Wav,
}

/// Settings of the OpenAI-compatible synthesizer.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiTtsConfig {
    /// API root including its version.
    pub base_url: String,
    /// Bearer key; `None` for local servers without authentication.
    pub api_key: Option<Secret>,
    /// Model name (`tts-1`, `gpt-4o-mini-tts`, a local model).
    pub model: String,
    /// Voice name (`alloy`, …).
    pub voice: String,
    /// Audio format asked for.
    pub format: TtsFormat,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// Longest text accepted, in characters (OpenAI allows 4096).
    pub max_chars: usize,
    /// Largest audio answer accepted, in bytes.
    pub max_audio_bytes: usize,
}

impl OpenAiTtsConfig {
    /// OpenAI itself with this key (`tts-1`, voice `alloy`, `pcm`).
    pub fn openai(key: impl Into<String>) -> Self {
        OpenAiTtsConfig {
            base_url: OPENAI_BASE_URL.to_owned(),
            api_key: Some(Secret::new(key)),
            model: "tts-1".to_owned(),
            voice: "alloy".to_owned(),
            format: TtsFormat::Pcm {
                sample_rate: OPENAI_PCM_RATE,
            },
            timeout: Duration::from_secs(30),
            retry: DEFAULT_RETRY,
            max_chars: 4096,
            max_audio_bytes: 32 * 1024 * 1024,
        }
    }

    /// A compatible server at `base_url`, without a key.
    pub fn compatible(
        base_url: impl Into<String>,
        model: impl Into<String>,
        voice: impl Into<String>,
    ) -> Self {
        OpenAiTtsConfig {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            voice: voice.into(),
            ..OpenAiTtsConfig::openai("")
        }
    }
}

fn check_key(key: &Option<Secret>) -> Option<Secret> {
    key.clone().filter(|k| !k.is_empty())
}

fn check_name(what: &str, value: &str) -> Result<(), SpeechError> {
    if value.trim().is_empty() || value.len() > 200 {
        return Err(SpeechError::InvalidConfig(format!(
            "{what} must be 1-200 characters"
        )));
    }
    Ok(())
}

/// `host[:port]` of a URL: what [`describe`](crate::SpeechToText::describe)
/// shows (never user information or a path with secrets).
fn host_of(uri: &Uri) -> String {
    match (uri.host(), uri.port_u16()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => "?".to_owned(),
    }
}

/// The OpenAI-compatible transcriber.
#[derive(Debug)]
pub(crate) struct OpenAiStt {
    config: OpenAiSttConfig,
    key: Option<Secret>,
    uri: Uri,
    client: ApiClient,
}

impl OpenAiStt {
    pub(crate) fn new(config: OpenAiSttConfig) -> Result<Self, SpeechError> {
        check_name("transcription model", &config.model)?;
        let base = normalize_base_url(&config.base_url)?;
        let uri = endpoint(&base, "/audio/transcriptions")?;
        let client = http::client(
            "openai-compatible transcription",
            config.timeout,
            config.retry,
        )?;
        Ok(OpenAiStt {
            key: check_key(&config.api_key),
            config,
            uri,
            client,
        })
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "openai-compatible speech-to-text (model {} at {})",
            self.config.model,
            host_of(&self.uri)
        )
    }

    pub(crate) async fn transcribe(&self, pcm: &Pcm) -> Result<String, SpeechError> {
        if pcm.duration() > self.config.max_audio {
            return Err(SpeechError::InvalidInput(format!(
                "{} ms of audio is longer than {} ms",
                pcm.duration().as_millis(),
                self.config.max_audio.as_millis()
            )));
        }
        let pcm = pcm.clone();
        let wav = tokio::task::spawn_blocking(move || {
            try_resample(&pcm, UPLOAD_RATE).map(|p| write_wav(&p))
        })
        .await
        .map_err(|e| SpeechError::InvalidInput(format!("the encoding task failed: {e}")))??;
        let boundary = format!("speech-{:032x}", rand::random::<u128>());
        let mut fields: Vec<(&str, &str)> = vec![
            ("model", self.config.model.as_str()),
            ("response_format", "json"),
        ];
        if let Some(language) = self.config.language.as_deref().filter(|l| !l.is_empty()) {
            fields.push(("language", language));
        }
        let body = Body {
            content_type: format!("multipart/form-data; boundary={boundary}"),
            bytes: multipart(&boundary, &fields, "audio.wav", "audio/wav", &wav),
        };
        let answer = http::post(
            &self.client,
            &self.uri,
            &body,
            self.key.as_ref(),
            MAX_TRANSCRIPT_BYTES,
        )
        .await?;
        parse_transcript(&answer.bytes)
    }
}

/// A `multipart/form-data` body: text `fields`, then the file.
pub(crate) fn multipart(
    boundary: &str,
    fields: &[(&str, &str)],
    file_name: &str,
    file_type: &str,
    file: &[u8],
) -> Bytes {
    let mut out = Vec::with_capacity(file.len() + 512);
    for (name, value) in fields {
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {file_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(file);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Bytes::from(out)
}

/// The `text` of a transcription answer.
pub(crate) fn parse_transcript(body: &[u8]) -> Result<String, SpeechError> {
    #[derive(Deserialize)]
    struct Answer {
        text: String,
    }
    let invalid = |message: String| {
        SpeechError::Http(HttpError::InvalidResponse {
            provider: "openai-compatible transcription".into(),
            message,
        })
    };
    let answer: Answer = serde_json::from_slice(body).map_err(|e| {
        invalid(format!(
            "expected JSON with a \"text\" string: {e} (body starts {:?})",
            http::truncate_chars(&String::from_utf8_lossy(body), 60)
        ))
    })?;
    Ok(answer.text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The OpenAI-compatible synthesizer.
#[derive(Debug)]
pub(crate) struct OpenAiTts {
    config: OpenAiTtsConfig,
    key: Option<Secret>,
    uri: Uri,
    client: ApiClient,
}

impl OpenAiTts {
    pub(crate) fn new(config: OpenAiTtsConfig) -> Result<Self, SpeechError> {
        check_name("speech model", &config.model)?;
        check_name("voice", &config.voice)?;
        if let TtsFormat::Pcm { sample_rate } = config.format
            && !crate::pcm::RATE_RANGE.contains(&sample_rate)
        {
            return Err(SpeechError::InvalidConfig(format!(
                "pcm sample rate {sample_rate} Hz is out of range"
            )));
        }
        if config.max_chars == 0 || config.max_audio_bytes == 0 {
            return Err(SpeechError::InvalidConfig(
                "max_chars and max_audio_bytes must be above zero".into(),
            ));
        }
        let base = normalize_base_url(&config.base_url)?;
        let uri = endpoint(&base, "/audio/speech")?;
        let client = http::client("openai-compatible speech", config.timeout, config.retry)?;
        Ok(OpenAiTts {
            key: check_key(&config.api_key),
            config,
            uri,
            client,
        })
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "openai-compatible text-to-speech (model {}, voice {} at {})",
            self.config.model,
            self.config.voice,
            host_of(&self.uri)
        )
    }

    pub(crate) async fn synthesize(&self, text: &str) -> Result<Pcm, SpeechError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SpeechError::InvalidInput("nothing to say".into()));
        }
        let chars = text.chars().count();
        if chars > self.config.max_chars {
            return Err(SpeechError::InvalidInput(format!(
                "text of {chars} characters is longer than {}",
                self.config.max_chars
            )));
        }
        let format = match self.config.format {
            TtsFormat::Pcm { .. } => "pcm",
            TtsFormat::Wav => "wav",
        };
        let json = serde_json::json!({
            "model": self.config.model,
            "input": text,
            "voice": self.config.voice,
            "response_format": format,
        });
        let body = Body {
            content_type: "application/json".into(),
            bytes: Bytes::from(json.to_string()),
        };
        let answer = http::post(
            &self.client,
            &self.uri,
            &body,
            self.key.as_ref(),
            self.config.max_audio_bytes,
        )
        .await?;
        let format = self.config.format;
        let content_type = answer.content_type.unwrap_or_default();
        tokio::task::spawn_blocking(move || decode_speech(format, &content_type, &answer.bytes))
            .await
            .map_err(|e| SpeechError::InvalidInput(format!("the decoding task failed: {e}")))?
    }
}

/// The 48 kHz audio of a speech answer.
pub(crate) fn decode_speech(
    format: TtsFormat,
    content_type: &str,
    body: &[u8],
) -> Result<Pcm, SpeechError> {
    let invalid = |message: String| {
        SpeechError::Http(HttpError::InvalidResponse {
            provider: "openai-compatible speech".into(),
            message,
        })
    };
    if content_type.starts_with("application/json") || content_type.starts_with("text/") {
        return Err(invalid(format!(
            "expected audio, got {content_type}: {}",
            http::error_message(body)
        )));
    }
    let pcm = match format {
        TtsFormat::Pcm { sample_rate } => {
            if body.starts_with(b"RIFF") {
                // Some compatible servers send WAV whatever was asked.
                parse_wav(body).map_err(|e| invalid(e.to_string()))?
            } else {
                parse_s16le(body, sample_rate)
            }
        }
        TtsFormat::Wav => parse_wav(body).map_err(|e| invalid(e.to_string()))?,
    };
    if pcm.samples.is_empty() {
        return Err(invalid("the answer holds no audio".into()));
    }
    try_resample(&pcm, OUTPUT_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_layout() {
        let body = multipart("B", &[("model", "m")], "a.wav", "audio/wav", b"RIFF");
        assert_eq!(
            &body[..],
            b"--B\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm\r\n\
--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--B--\r\n"
        );
    }

    #[test]
    fn transcripts() {
        assert_eq!(
            parse_transcript(br#"{"text":" stop  watching \n"}"#).ok(),
            Some("stop watching".into())
        );
        for bad in [&b"<html>"[..], br#"{"txt":"x"}"#, br#"{"text":3}"#] {
            let err = parse_transcript(bad).unwrap_err();
            assert!(
                matches!(err, SpeechError::Http(HttpError::InvalidResponse { .. })),
                "{err}"
            );
        }
    }

    #[test]
    fn speech_answers() {
        let pcm = decode_speech(
            TtsFormat::Pcm {
                sample_rate: 24_000,
            },
            "audio/pcm",
            &[0u8; 480],
        )
        .expect("pcm");
        assert_eq!((pcm.sample_rate, pcm.samples.len()), (48_000, 480));
        let wav = write_wav(&Pcm::new(16_000, vec![0; 160]));
        let pcm = decode_speech(TtsFormat::Wav, "audio/wav", &wav).expect("wav");
        assert_eq!(pcm.samples.len(), 480);
        let err =
            decode_speech(TtsFormat::Wav, "application/json", br#"{"error":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("expected audio"), "{err}");
        assert!(decode_speech(TtsFormat::Wav, "audio/wav", b"garbage").is_err());
        assert!(
            decode_speech(
                TtsFormat::Pcm {
                    sample_rate: 24_000
                },
                "",
                b""
            )
            .is_err()
        );
    }
}
