//! [`ApiClient`] against a local recording server (127.0.0.1 only).

use std::time::Duration;

use http_recorder::{Reply, Server};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};

use super::*;

const KEY: &str = "sk-test-SECRET-0123456789";

const CALLER: Caller = Caller {
    user_agent: "provider-http-test/1",
    what: "test request",
};

fn policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(1),
    }
}

fn client(timeout: Duration) -> ApiClient {
    ApiClient::new("test-provider", timeout, policy(1), CALLER).expect("client")
}

fn uri(server: &Server) -> Uri {
    endpoint(&server.url(), "/v1/do").expect("uri")
}

/// A POST of an empty body with no headers.
fn bare<'a>(uri: &'a Uri, max_bytes: usize, key: Option<&'a ApiKey>) -> Post<'a> {
    Post {
        uri,
        headers: &[],
        body: Bytes::new(),
        max_bytes,
        key,
    }
}

fn json_headers(key: &ApiKey) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (AUTHORIZATION, key.header("Bearer ").expect("header")),
    ]
}

#[tokio::test]
async fn a_2xx_answer_and_what_was_sent() {
    let server = Server::start(vec![Reply::new(200, "audio/wav", b"RIFF".to_vec())]).await;
    let key = ApiKey::new(KEY);
    let answer = client(Duration::from_secs(5))
        .post_once(&Post {
            body: Bytes::from_static(br#"{"a":1}"#),
            headers: &json_headers(&key),
            ..bare(&uri(&server), 1024, Some(&key))
        })
        .await
        .expect("answer");
    assert_eq!(answer.content_type.as_deref(), Some("audio/wav"));
    assert_eq!(&answer.bytes[..], b"RIFF");
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/v1/do");
    assert_eq!(seen[0].header("user-agent"), Some("provider-http-test/1"));
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(seen[0].json["a"], 1);
}

#[tokio::test]
async fn a_non_success_status_is_classified_and_scrubbed() {
    let mut limited = Reply::json(429, &format!(r#"{{"error":{{"message":"slow {KEY}"}}}}"#));
    limited.headers.push(("retry-after", "0.5".into()));
    let server = Server::start(vec![limited]).await;
    let key = ApiKey::new(KEY);
    let err = client(Duration::from_secs(5))
        .post_once(&bare(&uri(&server), 1024, Some(&key)))
        .await
        .expect_err("429");
    assert_eq!(
        err,
        HttpError::RateLimited {
            provider: "test-provider".into(),
            retry_after: Some(Duration::from_millis(500)),
            message: "slow [redacted]".into(),
        }
    );
}

#[tokio::test]
async fn an_attempt_has_a_deadline() {
    let mut slow = Reply::json(200, "{}");
    slow.delay = Duration::from_secs(3);
    let server = Server::start(vec![slow]).await;
    let err = client(Duration::from_millis(200))
        .post_once(&bare(&uri(&server), 1024, None))
        .await
        .expect_err("late");
    assert_eq!(
        err,
        HttpError::Timeout {
            provider: "test-provider".into(),
            timeout: Duration::from_millis(200),
        }
    );
}

#[tokio::test]
async fn answers_are_bounded() {
    let server = Server::start(vec![Reply::new(200, "audio/pcm", vec![0u8; 5000])]).await;
    let err = client(Duration::from_secs(5))
        .post_once(&bare(&uri(&server), 4999, None))
        .await
        .expect_err("too large");
    assert_eq!(
        err,
        HttpError::TooLarge {
            provider: "test-provider".into(),
            limit: 4999,
        }
    );
    let exact = client(Duration::from_secs(5))
        .post_once(&bare(&uri(&server), 5000, None))
        .await
        .expect("at the limit");
    assert_eq!(exact.bytes.len(), 5000);
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let uri = endpoint(&format!("http://{addr}"), "/x").expect("uri");
    let err = client(Duration::from_secs(5))
        .post_once(&bare(&uri, 1024, None))
        .await
        .expect_err("refused");
    assert!(matches!(err, HttpError::Connect { .. }), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn retryable_failures_are_sent_again_per_the_policy() {
    let server = Server::start(vec![
        Reply::json(503, "{}"),
        Reply::json(200, r#"{"ok":true}"#),
    ])
    .await;
    let retrying = ApiClient::new("p", Duration::from_secs(5), policy(3), CALLER).expect("client");
    let answer = retrying
        .post::<HttpError>(&bare(&uri(&server), 1024, None))
        .await
        .expect("second attempt");
    assert_eq!(&answer.bytes[..], br#"{"ok":true}"#);
    assert_eq!(server.seen().len(), 2);

    let server = Server::start(vec![Reply::json(400, "{}"), Reply::json(200, "{}")]).await;
    let err = retrying
        .post::<HttpError>(&bare(&uri(&server), 1024, None))
        .await
        .expect_err("final");
    assert_eq!(err.status(), Some(400));
    assert_eq!(server.seen().len(), 1);

    let server = Server::start(vec![Reply::json(503, "{}")]).await;
    let err = retrying
        .post::<HttpError>(&bare(&uri(&server), 1024, None))
        .await
        .expect_err("attempts used up");
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.seen().len(), 3);
}

#[test]
fn a_zero_timeout_is_a_config_error() {
    let err = ApiClient::new("p", Duration::ZERO, policy(1), CALLER).expect_err("zero");
    assert_eq!(err, HttpError::Config("timeout must be above zero".into()));
}

#[test]
fn base_urls_are_checked() {
    assert_eq!(
        normalize_base_url("https://api.openai.com/v1/").ok(),
        Some("https://api.openai.com/v1".to_owned())
    );
    for bad in [
        "",
        "localhost:11434",
        "localhost:8000",
        "ftp://x",
        "http://x/?a=b",
        "not a url",
    ] {
        assert!(
            matches!(normalize_base_url(bad), Err(HttpError::Config(_))),
            "{bad:?}"
        );
    }
    assert_eq!(
        endpoint("http://h:1/v1", "/chat/completions")
            .map(|u| u.to_string())
            .ok(),
        Some("http://h:1/v1/chat/completions".to_owned())
    );
}
