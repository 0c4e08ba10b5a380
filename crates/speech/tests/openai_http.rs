//! The OpenAI-compatible providers against a local server that records each
//! request and answers with scripted responses (`http-recorder`). No test
//! leaves 127.0.0.1.

use std::time::Duration;

use http_recorder::{Reply, Server};
use serde_json::{Value, json};
use speech::{
    HttpError, OpenAiSttConfig, OpenAiTtsConfig, Pcm, RetryPolicy, Secret, SpeechError,
    SpeechToText, TextToSpeech, TtsFormat, parse_wav,
};

const KEY: &str = "sk-test-SECRET-0123456789";

/// The server's API root.
fn base(server: &Server) -> String {
    format!("{}/v1", server.url())
}

fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
    }
}

fn stt(server: &Server, attempts: u32) -> SpeechToText {
    let mut cfg = OpenAiSttConfig::openai(KEY);
    cfg.base_url = base(server);
    cfg.retry = fast_retry(attempts);
    cfg.timeout = Duration::from_secs(5);
    SpeechToText::try_openai_compatible(cfg).expect("stt")
}

fn tts(server: &Server, attempts: u32) -> TextToSpeech {
    let mut cfg = OpenAiTtsConfig::openai(KEY);
    cfg.base_url = base(server);
    cfg.retry = fast_retry(attempts);
    cfg.timeout = Duration::from_secs(5);
    TextToSpeech::try_openai_compatible(cfg).expect("tts")
}

/// One multipart part: (name, filename, content type, bytes).
type Part = (String, Option<String>, Option<String>, Vec<u8>);

/// The parts of a multipart/form-data body.
fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<Part> {
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .expect("multipart content type");
    let delimiter = format!("--{boundary}");
    let text = body.to_vec();
    let mut parts = Vec::new();
    let mut rest: &[u8] = &text;
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let first = find(rest, delimiter.as_bytes()).expect("first boundary");
    assert_eq!(first, 0, "body starts with the boundary");
    rest = &rest[delimiter.len()..];
    while rest.starts_with(b"\r\n") {
        rest = &rest[2..];
        let head_end = find(rest, b"\r\n\r\n").expect("part headers");
        let head = String::from_utf8(rest[..head_end].to_vec()).expect("utf8 headers");
        rest = &rest[head_end + 4..];
        let end = find(rest, format!("\r\n{delimiter}").as_bytes()).expect("part end");
        let data = rest[..end].to_vec();
        rest = &rest[end + 2 + delimiter.len()..];
        let attr = |key: &str| {
            head.split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(&format!("{key}=\"")))
                .map(|v| {
                    v.trim_end_matches('"')
                        .split('"')
                        .next()
                        .unwrap_or("")
                        .to_owned()
                })
        };
        let ctype = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Type: "))
            .map(str::to_owned);
        parts.push((attr("name").expect("name"), attr("filename"), ctype, data));
    }
    assert_eq!(rest, b"--\r\n", "closing boundary");
    parts
}

#[tokio::test]
async fn transcription_request_and_answer() {
    let server = Server::start(vec![Reply::json(
        200,
        r#"{"text":"Agent, look at my screen."}"#,
    )])
    .await;
    let provider = stt(&server, 1);
    let audio = Pcm::new(
        48_000,
        (0..4_800).map(|i| ((i % 100) * 100) as i16).collect(),
    );
    let transcript = provider.transcribe(&audio).await.expect("transcript");
    assert_eq!(transcript.text, "Agent, look at my screen.");
    assert_eq!(transcript.confidence, None);

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/audio/transcriptions");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let content_type = req.header("content-type").expect("content type");
    let parts = multipart_parts(content_type, &req.body);
    let names: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(names, ["model", "response_format", "language", "file"]);
    assert_eq!(parts[0].3, b"whisper-1");
    assert_eq!(parts[1].3, b"json");
    assert_eq!(parts[2].3, b"en");
    let file = &parts[3];
    assert_eq!(file.1.as_deref(), Some("audio.wav"));
    assert_eq!(file.2.as_deref(), Some("audio/wav"));
    // The upload is a 16 kHz mono WAV of the same 100 ms.
    let uploaded = parse_wav(&file.3).expect("uploaded wav");
    assert_eq!(uploaded.sample_rate, 16_000);
    assert_eq!(uploaded.samples.len(), 1_600);

    // Neither the description nor Debug show the key.
    for text in [provider.describe(), format!("{provider:?}")] {
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains("whisper-1"), "{text}");
    }
}

#[tokio::test]
async fn speech_request_and_pcm_answer() {
    // 100 ms of OpenAI's 24 kHz pcm: a ramp.
    let raw: Vec<u8> = (0..2_400i16).flat_map(|i| (i * 4).to_le_bytes()).collect();
    let server = Server::start(vec![Reply::new(200, "audio/pcm", raw)]).await;
    let provider = tts(&server, 1);
    let pcm = provider
        .synthesize("  I see a terminal.  ")
        .await
        .expect("speech");
    assert_eq!(pcm.sample_rate, 48_000);
    assert_eq!(pcm.samples.len(), 4_800);

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/audio/speech");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&req.body).expect("json body");
    assert_eq!(
        body,
        json!({"model": "tts-1", "input": "I see a terminal.", "voice": "alloy", "response_format": "pcm"})
    );
    assert!(!provider.describe().contains("SECRET"));
}

#[tokio::test]
async fn compatible_server_without_key_and_wav_answers() {
    let wav = speech::write_wav(&Pcm::new(22_050, vec![500; 2_205]));
    let server = Server::start(vec![Reply::new(200, "audio/wav", wav)]).await;
    let mut cfg = OpenAiTtsConfig::compatible(base(&server), "kokoro", "af_sky");
    cfg.format = TtsFormat::Wav;
    let provider = TextToSpeech::try_openai_compatible(cfg).expect("tts");
    let pcm = provider.synthesize("hello").await.expect("speech");
    assert_eq!((pcm.sample_rate, pcm.samples.len()), (48_000, 4_800));
    let req = &server.seen()[0];
    assert_eq!(req.header("authorization"), None);
    let body: Value = serde_json::from_slice(&req.body).expect("json");
    assert_eq!(body["response_format"], "wav");
    assert_eq!(body["model"], "kokoro");

    let server = Server::start(vec![Reply::json(200, r#"{"text":"hi"}"#)]).await;
    let mut cfg = OpenAiSttConfig::compatible(base(&server), "base.en");
    cfg.language = None;
    cfg.api_key = Some(Secret::new("  "));
    let provider = SpeechToText::try_openai_compatible(cfg).expect("stt");
    let t = provider
        .transcribe(&Pcm::new(16_000, vec![0; 160]))
        .await
        .expect("text");
    assert_eq!(t.text, "hi");
    let req = &server.seen()[0];
    assert_eq!(req.header("authorization"), None, "an empty key is no key");
    let parts = multipart_parts(req.header("content-type").expect("ct"), &req.body);
    assert!(parts.iter().all(|p| p.0 != "language"));
}

#[tokio::test]
async fn statuses_map_to_error_kinds_and_retries() {
    // 401: auth, never retried; the echoed key is scrubbed.
    let server = Server::start(vec![Reply::json(
        401,
        &format!(r#"{{"error":{{"message":"Incorrect API key provided: {KEY}"}}}}"#),
    )])
    .await;
    let err = tts(&server, 3).synthesize("hi").await.unwrap_err();
    assert!(
        matches!(err, SpeechError::Http(HttpError::Auth { status: 401, .. })),
        "{err}"
    );
    assert!(err.is_auth() && !err.is_retryable());
    assert!(!err.to_string().contains("SECRET"), "{err}");
    assert!(err.to_string().contains("[redacted]"), "{err}");
    assert_eq!(server.seen().len(), 1);

    // 429 with retry-after: rate limited, retried after the wait, then ok.
    let mut limited = Reply::json(429, r#"{"error":{"message":"slow down"}}"#);
    limited.headers.push(("retry-after-ms", "30".into()));
    let server = Server::start(vec![limited.clone(), Reply::json(200, r#"{"text":"ok"}"#)]).await;
    let t = stt(&server, 2)
        .transcribe(&Pcm::new(16_000, vec![0; 16]))
        .await
        .expect("retried");
    assert_eq!(t.text, "ok");
    assert_eq!(server.seen().len(), 2);
    let server = Server::start(vec![limited]).await;
    let err = stt(&server, 1)
        .transcribe(&Pcm::new(16_000, vec![0; 16]))
        .await
        .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_millis(30)));
    assert_eq!(err.status(), Some(429));

    // 5xx: retried up to the attempt limit, then a Server error.
    let server = Server::start(vec![Reply::json(503, r#"{"error":"overloaded"}"#)]).await;
    let err = tts(&server, 3).synthesize("hi").await.unwrap_err();
    assert!(
        matches!(
            err,
            SpeechError::Http(HttpError::Server { status: 503, .. })
        ),
        "{err}"
    );
    assert!(err.is_retryable());
    assert_eq!(server.seen().len(), 3);

    // 400 and 404: the request is wrong; not retried.
    let server = Server::start(vec![Reply::json(
        404,
        r#"{"error":{"message":"model not found"}}"#,
    )])
    .await;
    let err = stt(&server, 3)
        .transcribe(&Pcm::new(16_000, vec![0; 16]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SpeechError::Http(HttpError::Api { status: 404, .. })),
        "{err}"
    );
    assert!(err.to_string().contains("model not found"));
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn garbage_and_oversized_answers_are_clear_errors() {
    let server = Server::start(vec![Reply::new(
        200,
        "text/html",
        "<html>proxy login</html>",
    )])
    .await;
    let err = stt(&server, 1)
        .transcribe(&Pcm::new(16_000, vec![0; 16]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SpeechError::Http(HttpError::InvalidResponse { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("\"text\""), "{err}");

    let server = Server::start(vec![Reply::json(200, r#"{"error":"quota"}"#)]).await;
    let err = tts(&server, 1).synthesize("hi").await.unwrap_err();
    assert!(
        matches!(err, SpeechError::Http(HttpError::InvalidResponse { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("expected audio"), "{err}");

    let server = Server::start(vec![Reply::new(
        200,
        "audio/wav",
        b"RIFF\x00\x00\x00\x00WAVEjunk".to_vec(),
    )])
    .await;
    let mut cfg = OpenAiTtsConfig::compatible(base(&server), "m", "v");
    cfg.format = TtsFormat::Wav;
    let err = TextToSpeech::openai_compatible(cfg)
        .synthesize("hi")
        .await
        .unwrap_err();
    assert!(
        matches!(err, SpeechError::Http(HttpError::InvalidResponse { .. })),
        "{err}"
    );

    let server = Server::start(vec![Reply::new(200, "audio/pcm", vec![0u8; 50_000])]).await;
    let mut cfg = OpenAiTtsConfig::compatible(base(&server), "m", "v");
    cfg.max_audio_bytes = 10_000;
    let err = TextToSpeech::openai_compatible(cfg)
        .synthesize("hi")
        .await
        .unwrap_err();
    assert!(
        matches!(err, SpeechError::Http(HttpError::InvalidResponse { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("larger than 10000 bytes"), "{err}");
    assert!(!err.is_retryable());

    let server = Server::start(vec![Reply::json(
        200,
        &format!(r#"{{"text":"{}"}}"#, "a".repeat(2 * 1024 * 1024)),
    )])
    .await;
    let err = stt(&server, 1)
        .transcribe(&Pcm::new(16_000, vec![0; 16]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[tokio::test]
async fn timeouts_connect_failures_and_bad_settings() {
    let mut slow = Reply::json(200, r#"{"text":"late"}"#);
    slow.delay = Duration::from_secs(3);
    let server = Server::start(vec![slow]).await;
    let mut cfg = OpenAiSttConfig::compatible(base(&server), "m");
    cfg.timeout = Duration::from_millis(200);
    cfg.retry = fast_retry(1);
    let err = SpeechToText::openai_compatible(cfg)
        .transcribe(&Pcm::new(16_000, vec![0; 16]))
        .await
        .unwrap_err();
    assert!(matches!(err, SpeechError::Timeout { .. }), "{err}");

    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let mut cfg = OpenAiTtsConfig::compatible(format!("http://{closed}/v1"), "m", "v");
    cfg.retry = fast_retry(1);
    let err = TextToSpeech::openai_compatible(cfg)
        .synthesize("hi")
        .await
        .unwrap_err();
    assert!(
        matches!(err, SpeechError::Http(HttpError::Connect { .. })),
        "{err}"
    );
    assert!(err.is_retryable());

    // Bad settings: refused at construction, and by every call.
    let cfg = OpenAiSttConfig::compatible("localhost:8000", "m");
    let err = SpeechToText::try_openai_compatible(cfg.clone()).unwrap_err();
    assert!(err.is_config(), "{err}");
    let broken = SpeechToText::openai_compatible(cfg);
    assert!(broken.validate().is_err());
    let err = broken
        .transcribe(&Pcm::new(16_000, vec![0; 16]))
        .await
        .unwrap_err();
    assert!(err.is_config());
    let cfg = OpenAiTtsConfig::compatible("http://127.0.0.1:1/v1", "", "v");
    assert!(
        TextToSpeech::try_openai_compatible(cfg)
            .unwrap_err()
            .is_config()
    );

    // Input limits, before any request.
    let server = Server::start(vec![Reply::json(200, r#"{"text":"x"}"#)]).await;
    let err = tts(&server, 1).synthesize("   ").await.unwrap_err();
    assert!(err.is_input());
    let err = tts(&server, 1)
        .synthesize(&"x".repeat(5_000))
        .await
        .unwrap_err();
    assert!(err.is_input());
    let err = stt(&server, 1)
        .transcribe(&Pcm::new(16_000, vec![0; 16_000 * 61]))
        .await
        .unwrap_err();
    assert!(err.is_input());
    let err = stt(&server, 1)
        .transcribe(&Pcm::new(0, vec![0; 16]))
        .await
        .unwrap_err();
    assert!(err.is_input());
    assert!(server.seen().is_empty());
}
