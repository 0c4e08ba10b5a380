//! The one TLS client configuration of a daemon.
//!
//! Real Discord serves its main gateway, voice and Go Live servers over
//! `wss://` only, and REST over `https://`. Each daemon builds one
//! [`TlsClient`] at start and hands clones of it to every connection it
//! makes: the main gateway and REST in control, the voice and Go Live
//! WebSockets in mediad, the LLM and speech providers' HTTPS (through
//! `provider-http`, which adds the API key, deadlines and retry rules).
//!
//! What it trusts: the webpki (Mozilla) roots, plus, optionally, the
//! certificates of one extra CA bundle (a PEM file: a test's simulator CA, a
//! corporate proxy's root). The extra bundle only *adds* roots. There is no
//! way to turn verification off or to skip the host-name check: rustls with
//! the ring provider verifies the chain and the name (DNS or IP address) of
//! every server.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// A WebSocket over TCP, TLS when the URL is `wss://`.
pub type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An HTTPS (and plain HTTP) connector for hyper's client.
pub type HttpsConnector =
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// An HTTPS client from [`TlsClient::https_client`], sending bodies `B`.
pub type HttpsClient<B> = hyper_util::client::legacy::Client<HttpsConnector, B>;

/// What can go wrong setting up or using TLS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The extra CA file could not be read.
    #[error("cannot read the extra CA file {path}: {reason}")]
    CaFileUnreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The extra CA file holds no usable certificate.
    #[error("the extra CA file {path} holds no PEM certificate{reason}")]
    CaFileEmpty {
        /// The file.
        path: PathBuf,
        /// Details, when a PEM section failed to parse (starts with ": ").
        reason: String,
    },
    /// A certificate in the extra CA bundle was refused as a root.
    #[error("the extra CA file {path} has a certificate rustls refuses as a root: {reason}")]
    CaRejected {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refused the configuration (a provider without TLS 1.2/1.3).
    #[error("TLS set-up failed: {0}")]
    Setup(String),
    /// Opening a WebSocket failed; the message says why, and names
    /// certificate problems as such.
    #[error("{0}")]
    Connect(String),
    /// Opening a WebSocket took longer than allowed.
    #[error("connect timed out after {0:?}")]
    Timeout(Duration),
}

impl TlsError {
    /// Whether trying again later can help (a network error or a time-out),
    /// as opposed to a configuration or certificate problem that will fail
    /// the same way until an operator acts.
    pub fn is_transient(&self) -> bool {
        match self {
            TlsError::Timeout(_) => true,
            TlsError::Connect(m) => !m.starts_with(CERT_PREFIX),
            _ => false,
        }
    }
}

const CERT_PREFIX: &str = "TLS certificate not accepted";

/// rustls client settings shared by every connection of a daemon. Cheap to
/// clone.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<rustls::ClientConfig>,
    extra: Option<PathBuf>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field("extra_ca", &self.extra)
            .finish_non_exhaustive()
    }
}

static GLOBAL: OnceLock<TlsClient> = OnceLock::new();

impl TlsClient {
    /// webpki roots, plus the certificates of `extra_ca` (a PEM bundle)
    /// when given.
    pub fn new(extra_ca: Option<&Path>) -> Result<Self, TlsError> {
        let pem = match extra_ca {
            Some(path) => Some(std::fs::read(path).map_err(|e| TlsError::CaFileUnreadable {
                path: path.to_owned(),
                reason: e.to_string(),
            })?),
            None => None,
        };
        Self::build(pem.as_deref().zip(extra_ca))
    }

    /// webpki roots plus the certificates of `pem` (a PEM bundle already
    /// in memory, e.g. a simulator's CA in a test).
    pub fn with_extra_pem(pem: &str) -> Result<Self, TlsError> {
        Self::build(Some((pem.as_bytes(), Path::new("<in-memory PEM>"))))
    }

    fn build(extra: Option<(&[u8], &Path)>) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some((pem, path)) = extra {
            add_pem(&mut roots, pem, path)?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
            extra: extra.map(|(_, p)| p.to_owned()),
        })
    }

    /// The process-wide client: the one [`TlsClient::install_global`] set,
    /// else the webpki roots alone. For code far from the daemon's start
    /// (the LLM providers); connections the daemon starts itself take their
    /// [`TlsClient`] explicitly.
    pub fn global() -> Result<TlsClient, TlsError> {
        if let Some(c) = GLOBAL.get() {
            return Ok(c.clone());
        }
        let fresh = TlsClient::new(None)?;
        Ok(GLOBAL.get_or_init(|| fresh).clone())
    }

    /// Makes this the process-wide client (once; later calls return false
    /// and change nothing).
    pub fn install_global(&self) -> bool {
        GLOBAL.set(self.clone()).is_ok()
    }

    /// The extra CA file this client trusts, if any.
    pub fn extra_ca(&self) -> Option<&Path> {
        self.extra.as_deref()
    }

    /// The rustls configuration.
    pub fn config(&self) -> Arc<rustls::ClientConfig> {
        Arc::clone(&self.config)
    }

    /// A hyper connector that speaks `https://` with this configuration
    /// (and plain `http://`, which local servers such as discord-sim's
    /// admin API or an OpenAI-compatible server on loopback use).
    pub fn https_connector(
        &self,
        http: hyper_util::client::legacy::connect::HttpConnector,
    ) -> HttpsConnector {
        hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*self.config).clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http)
    }

    /// The daemons' one way to build an HTTPS client (Discord REST, the LLM
    /// and speech providers): [`Self::https_connector`] over a TCP
    /// connector with `TCP_NODELAY` and the optional `connect_timeout`,
    /// pooled connections dropped after 30 s idle.
    pub fn https_client<B>(&self, connect_timeout: Option<Duration>) -> HttpsClient<B>
    where
        B: hyper::body::Body + Send,
        B::Data: Send,
    {
        let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(connect_timeout);
        http.set_nodelay(true);
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_timer(hyper_util::rt::TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(self.https_connector(http))
    }

    /// Opens a WebSocket to `url` (`wss://` through this configuration, or
    /// plain `ws://`), within `timeout`. A refused certificate is reported
    /// as such, with what to do about it.
    pub async fn connect_ws(&self, url: &str, timeout: Duration) -> Result<WsStream, TlsError> {
        let request = url
            .into_client_request()
            .map_err(|e| TlsError::Connect(format!("bad URL {url}: {e}")))?;
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            request,
            None,
            true,
            Some(Connector::Rustls(self.config())),
        );
        match tokio::time::timeout(timeout, connect).await {
            Ok(Ok((ws, _))) => Ok(ws),
            Ok(Err(e)) => Err(TlsError::Connect(describe_ws_error(
                &e,
                self.extra.as_deref(),
            ))),
            Err(_) => Err(TlsError::Timeout(timeout)),
        }
    }
}

fn add_pem(roots: &mut RootCertStore, pem: &[u8], path: &Path) -> Result<(), TlsError> {
    let mut added = 0usize;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| TlsError::CaFileEmpty {
            path: path.to_owned(),
            reason: format!(": {e}"),
        })?;
        roots.add(cert).map_err(|e| TlsError::CaRejected {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        added += 1;
    }
    if added == 0 {
        return Err(TlsError::CaFileEmpty {
            path: path.to_owned(),
            reason: String::new(),
        });
    }
    Ok(())
}

/// tungstenite's error, with certificate failures named plainly.
fn describe_ws_error(e: &tokio_tungstenite::tungstenite::Error, extra: Option<&Path>) -> String {
    use tokio_tungstenite::tungstenite::Error as WsError;
    use tokio_tungstenite::tungstenite::error::TlsError as WsTls;
    let cert = match e {
        WsError::Tls(WsTls::Rustls(r)) => match &**r {
            rustls::Error::InvalidCertificate(c) => Some(format!("{c:?}")),
            _ => None,
        },
        WsError::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .and_then(|r| match r {
                rustls::Error::InvalidCertificate(c) => Some(format!("{c:?}")),
                _ => None,
            }),
        _ => None,
    };
    match cert {
        Some(why) => {
            let hint = match extra {
                Some(p) => format!("trusted: webpki roots + {}", p.display()),
                None => "trusted: webpki roots only; add a CA with --extra-ca-file".to_owned(),
            };
            format!("{CERT_PREFIX} ({why}; {hint})")
        }
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests;
