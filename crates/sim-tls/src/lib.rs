//! TLS for the offline Discord, as real Discord serves it: every gateway,
//! REST, voice and Go Live listener of the simulator speaks TLS only.
//!
//! At start the simulator makes a throw-away certificate authority and one
//! leaf certificate for the names it serves (`localhost`, `127.0.0.1`,
//! `::1`, the address it is bound to, and the host name it advertises, e.g.
//! a compose service name: [`SubjectName`]), writes the CA to a PEM file, and
//! clients are pointed at that file (`--extra-ca-file` on the daemons,
//! `NODE_EXTRA_CA_CERTS` for Node peers). Clients verify the chain and the
//! host name exactly as they would against Discord; nothing is disabled.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take to finish the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// What can go wrong making or using the simulator's certificates.
#[derive(Debug, thiserror::Error)]
pub enum SimTlsError {
    /// rcgen could not make a key or certificate.
    #[error("certificate generation failed: {0}")]
    Generate(String),
    /// rustls refused the server configuration.
    #[error("TLS server set-up failed: {0}")]
    Setup(String),
    /// A name for the leaf certificate is neither an IP address nor a
    /// valid DNS name.
    #[error("{0:?} is neither an IP address nor a valid DNS name")]
    BadName(String),
    /// The CA file could not be written.
    #[error("cannot write the CA file {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// A name the leaf certificate is valid for (a subject alternative name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubjectName {
    /// A DNS name (`discord-sim`, `sim.example.test`).
    Dns(String),
    /// An IP address.
    Ip(IpAddr),
}

impl SubjectName {
    /// An IP address when `name` parses as one (IPv6 with or without
    /// brackets), else a DNS name, which must be valid as a TLS server name
    /// (letters, digits, `-`, dots between labels).
    pub fn parse(name: &str) -> Result<Self, SimTlsError> {
        let bare = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        match rustls_pki_types::DnsName::try_from(name) {
            Ok(_) => Ok(Self::Dns(name.to_ascii_lowercase())),
            Err(_) => Err(SimTlsError::BadName(name.to_owned())),
        }
    }

    /// How the name is written as the host of a URL or a `host:port`
    /// endpoint (IPv6 in brackets).
    pub fn url_host(&self) -> String {
        match self {
            Self::Dns(n) => n.clone(),
            Self::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
            Self::Ip(ip) => ip.to_string(),
        }
    }
}

impl std::fmt::Display for SubjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dns(n) => f.write_str(n),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// The simulator's CA, its leaf, and the acceptor that serves with them.
/// Cheap to clone.
#[derive(Clone)]
pub struct SimTls {
    inner: Arc<Inner>,
}

struct Inner {
    ca_pem: String,
    acceptor: TlsAcceptor,
    ca_file: PathBuf,
    // Holds the directory of `ca_file` while the sim lives (removed on drop).
    _dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for SimTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimTls")
            .field("ca_file", &self.inner.ca_file)
            .finish_non_exhaustive()
    }
}

/// Two values are equal when they serve the same CA.
impl PartialEq for SimTls {
    fn eq(&self, other: &Self) -> bool {
        self.inner.ca_pem == other.inner.ca_pem
    }
}

impl Eq for SimTls {}

impl SimTls {
    /// A new CA and a leaf for `localhost`, `127.0.0.1`, `::1` and
    /// `extra_ips` (the bind address when it is not loopback). The CA is
    /// written to `ca_file`, or to a private temporary directory that lives
    /// as long as this value.
    pub fn generate(extra_ips: &[IpAddr], ca_file: Option<&Path>) -> Result<Self, SimTlsError> {
        let names: Vec<SubjectName> = extra_ips.iter().copied().map(SubjectName::Ip).collect();
        Self::generate_for(&names, ca_file)
    }

    /// [`SimTls::generate`] with any extra names: the leaf is valid for
    /// `localhost`, `127.0.0.1`, `::1` and each of `extra` (unspecified
    /// addresses such as `0.0.0.0` are skipped: no client connects to them).
    pub fn generate_for(
        extra: &[SubjectName],
        ca_file: Option<&Path>,
    ) -> Result<Self, SimTlsError> {
        let gen_err = |e: rcgen::Error| SimTlsError::Generate(e.to_string());
        let ca_key = KeyPair::generate().map_err(gen_err)?;
        let mut ca_params = CertificateParams::default();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "discord-sim test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).map_err(gen_err)?;
        let issuer = rcgen::Issuer::new(ca_params, ca_key);

        let mut dns: Vec<String> = vec!["localhost".to_owned()];
        let mut ips: Vec<IpAddr> =
            vec![[127, 0, 0, 1].into(), std::net::Ipv6Addr::LOCALHOST.into()];
        for name in extra {
            match name {
                SubjectName::Ip(ip) if !ips.contains(ip) && !ip.is_unspecified() => ips.push(*ip),
                SubjectName::Dns(n) if !dns.contains(n) => dns.push(n.clone()),
                _ => {}
            }
        }
        let mut names: Vec<SanType> = Vec::with_capacity(dns.len() + ips.len());
        for n in dns {
            names.push(SanType::DnsName(n.try_into().map_err(gen_err)?));
        }
        names.extend(ips.into_iter().map(SanType::IpAddress));
        let leaf_key = KeyPair::generate().map_err(gen_err)?;
        let mut leaf_params = CertificateParams::default();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "discord-sim");
        leaf_params.subject_alt_names = names;
        leaf_params.is_ca = IsCa::ExplicitNoCa;
        leaf_params.use_authority_key_identifier_extension = true;
        leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).map_err(gen_err)?;

        let chain = vec![leaf.der().clone(), ca_cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| SimTlsError::Setup(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| SimTlsError::Setup(e.to_string()))?;
        let ca_pem = ca_cert.pem();
        let (ca_file, dir) = match ca_file {
            Some(p) => (p.to_owned(), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("discord-sim-")
                    .tempdir()
                    .map_err(|e| SimTlsError::Write {
                        path: std::env::temp_dir(),
                        reason: e.to_string(),
                    })?;
                (dir.path().join("ca.pem"), Some(dir))
            }
        };
        std::fs::write(&ca_file, &ca_pem).map_err(|e| SimTlsError::Write {
            path: ca_file.clone(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                ca_pem,
                acceptor: TlsAcceptor::from(Arc::new(config)),
                ca_file,
                _dir: dir,
            }),
        })
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.inner.ca_pem
    }

    /// The CA certificate, DER (for a client's root store).
    pub fn ca_der(&self) -> Vec<CertificateDer<'static>> {
        use rustls_pki_types::pem::PemObject;
        CertificateDer::pem_slice_iter(self.inner.ca_pem.as_bytes())
            .filter_map(Result::ok)
            .collect()
    }

    /// Where the CA PEM was written.
    pub fn ca_file(&self) -> &Path {
        &self.inner.ca_file
    }

    /// The acceptor.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.inner.acceptor.clone()
    }

    /// Runs the server side of the handshake on `io`, within
    /// [`HANDSHAKE_TIMEOUT`]. A client that does not trust the CA (or
    /// speaks plain text) fails here, and is logged at debug.
    pub async fn accept<IO>(&self, io: IO) -> Option<TlsStream<IO>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.inner.acceptor.accept(io)).await {
            Ok(Ok(s)) => Some(s),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "TLS handshake refused");
                None
            }
            Err(_) => {
                tracing::debug!("TLS handshake timed out");
                None
            }
        }
    }
}
