//! Tests only: a local HTTP/1.1 server that records each request and
//! answers with scripted replies, so the provider clients (`llm`, `speech`,
//! `provider-http`) are tested against real HTTP without leaving 127.0.0.1.
//!
//! ```text
//! let server = Server::start(vec![Reply::json(429, "{}"), Reply::json(200, OK)]).await;
//! // … point a client at server.url() …
//! assert_eq!(server.seen()[0].header("authorization"), Some("Bearer k"));
//! ```

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `POST`, `GET`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Every header, names lower-case, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The body as sent.
    pub body: Vec<u8>,
    /// The body as JSON (`Null` when it is not JSON).
    pub json: Value,
}

impl Seen {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers sent with it.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// How long the server waits before answering.
    pub delay: Duration,
}

impl Reply {
    /// `status` with a `content-type` and `body`, at once.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status,
            headers: vec![("content-type", content_type.to_owned())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// `status` with an `application/json` body.
    pub fn json(status: u16, body: &str) -> Self {
        Reply::new(status, "application/json", body)
    }
}

/// The server; stops when dropped.
pub struct Server {
    /// Where it listens (127.0.0.1, a free port).
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serves `replies` in order, one a request (the last one repeats).
    ///
    /// # Panics
    /// When `replies` is empty or no local port can be bound.
    pub async fn start(replies: Vec<Reply>) -> Server {
        assert!(!replies.is_empty(), "a server needs at least one reply");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let queue = Arc::new(Mutex::new(VecDeque::from(replies)));
        let seen_task = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let seen = seen_task.clone();
                let queue = queue.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<Incoming>| {
                        answer(req, seen.clone(), queue.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Server { addr, seen, task }
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Records `req` and gives the next scripted reply.
async fn answer(
    req: hyper::Request<Incoming>,
    seen: Arc<Mutex<Vec<Seen>>>,
    queue: Arc<Mutex<VecDeque<Reply>>>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    seen.lock().expect("lock").push(Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body,
    });
    let reply = {
        let mut q = queue.lock().expect("lock");
        if q.len() > 1 {
            q.pop_front()
        } else {
            q.front().cloned()
        }
    }
    .expect("a reply");
    tokio::time::sleep(reply.delay).await;
    let mut response = hyper::Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        response = response.header(*k, v.as_str());
    }
    Ok(response
        .body(Full::new(Bytes::from(reply.body)))
        .expect("a scripted response"))
}
