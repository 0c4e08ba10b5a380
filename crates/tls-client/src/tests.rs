//! Against a real TLS WebSocket server (the simulator's certificates):
//! the extra CA is needed and sufficient, the host name is checked, and a
//! refused certificate says so.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::*;

const T: Duration = Duration::from_secs(5);

/// A one-shot echo WebSocket server over TLS.
async fn wss_echo(tls: sim_tls::SimTls) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let tls = tls.clone();
            tokio::spawn(async move {
                let Some(stream) = tls.accept(tcp).await else {
                    return;
                };
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    if m.is_text() && ws.send(m).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn sim() -> sim_tls::SimTls {
    sim_tls::SimTls::generate(&[], None).unwrap()
}

#[tokio::test]
async fn the_extra_ca_makes_a_wss_server_trusted_and_usable() {
    let tls = sim();
    let addr = wss_echo(tls.clone()).await;
    let client = TlsClient::new(Some(tls.ca_file())).unwrap();
    assert_eq!(client.extra_ca(), Some(tls.ca_file()));
    for host in [
        format!("127.0.0.1:{}", addr.port()),
        format!("localhost:{}", addr.port()),
    ] {
        let mut ws = client
            .connect_ws(&format!("wss://{host}/?v=8"), T)
            .await
            .unwrap();
        ws.send(Message::text("hi")).await.unwrap();
        let back = ws.next().await.unwrap().unwrap();
        assert_eq!(back.into_text().unwrap().as_str(), "hi");
    }
}

#[tokio::test]
async fn without_the_ca_the_certificate_is_refused_with_a_clear_error() {
    let tls = sim();
    let addr = wss_echo(tls).await;
    let client = TlsClient::new(None).unwrap();
    let err = client
        .connect_ws(&format!("wss://127.0.0.1:{}/", addr.port()), T)
        .await
        .expect_err("an unknown issuer must be refused");
    let msg = err.to_string();
    assert!(msg.starts_with("TLS certificate not accepted"), "{msg}");
    assert!(msg.contains("UnknownIssuer"), "{msg}");
    assert!(msg.contains("--extra-ca-file"), "{msg}");
    assert!(
        !err.is_transient(),
        "a certificate problem is not retried blindly"
    );
}

#[tokio::test]
async fn a_ca_for_another_server_does_not_help() {
    let addr = wss_echo(sim()).await;
    let other = sim();
    let client = TlsClient::new(Some(other.ca_file())).unwrap();
    let err = client
        .connect_ws(&format!("wss://127.0.0.1:{}/", addr.port()), T)
        .await
        .expect_err("refused");
    // Same CA name, other key: the signature check refuses it.
    assert!(
        err.to_string().starts_with("TLS certificate not accepted"),
        "{err}"
    );
}

#[tokio::test]
async fn the_host_name_is_checked() {
    // The leaf names localhost, 127.0.0.1 and ::1; 127.0.0.2 reaches the
    // same socket (loopback) but is not a name on the certificate.
    let tls = sim();
    let served = wss_echo_on(tls.clone(), "127.0.0.2:0").await;
    let client = TlsClient::new(Some(tls.ca_file())).unwrap();
    let err = client
        .connect_ws(&format!("wss://127.0.0.2:{}/", served.port()), T)
        .await
        .expect_err("a name not on the certificate must be refused");
    assert!(err.to_string().contains("NotValidForName"), "{err}");
}

async fn wss_echo_on(tls: sim_tls::SimTls, bind: &str) -> SocketAddr {
    let listener = TcpListener::bind(bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let tls = tls.clone();
            tokio::spawn(async move {
                if let Some(s) = tls.accept(tcp).await {
                    let _ = tokio_tungstenite::accept_async(s).await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn plain_ws_is_still_possible_when_asked_for_explicitly() {
    // ws:// URLs stay plain (a local tool); nothing in the daemons builds one
    // for Discord. A TLS server refuses a plain client.
    let addr = wss_echo(sim()).await;
    let client = TlsClient::new(None).unwrap();
    assert!(
        client
            .connect_ws(&format!("ws://127.0.0.1:{}/", addr.port()), T)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn https_requests_use_the_same_configuration() {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let tls = sim();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tls.clone();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut s = acceptor.accept(tcp).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .await;
        let _ = s.shutdown().await;
    });
    let client = TlsClient::new(Some(tls.ca_file())).unwrap();
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    let c: Client<_, Empty<hyper::body::Bytes>> =
        Client::builder(TokioExecutor::new()).build(client.https_connector(http));
    let resp = c
        .get(
            format!("https://localhost:{}/", addr.port())
                .parse()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"ok");
}

#[test]
fn extra_ca_files_that_cannot_be_used_are_named_in_the_error() {
    let dir = tempfile_dir();
    let missing = dir.join("missing.pem");
    let e = TlsClient::new(Some(&missing)).unwrap_err().to_string();
    assert!(
        e.contains("missing.pem") && e.contains("cannot read"),
        "{e}"
    );
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let e = TlsClient::new(Some(&empty)).unwrap_err().to_string();
    assert!(
        e.contains("empty.pem") && e.contains("no PEM certificate"),
        "{e}"
    );
    let bad = dir.join("bad.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let e = TlsClient::new(Some(&bad)).unwrap_err().to_string();
    assert!(e.contains("bad.pem"), "{e}");
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tls-client-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
