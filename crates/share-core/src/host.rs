//! Public-host gating: on the configured public host only the share-link
//! routes are reachable; everything else is a 404.

use crate::token::ShareToken;

/// Longest asset name accepted under `/share/assets/`.
pub const MAX_ASSET_NAME: usize = 64;

/// A route that is reachable on the public host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicRoute {
    /// `POST /api/voice/share-session/<token>/frame`
    ShareFrame(ShareToken),
    /// `POST /api/voice/share-session/<token>/stop`
    ShareStop(ShareToken),
    /// `POST /api/voice/stream-ingest/frame` (needs `PUBLIC_API_TOKEN`).
    DirectIngest,
    /// `GET`/`HEAD /share/<token>`
    SharePage(ShareToken),
    /// `GET`/`HEAD /share/assets/<name>`: the share page's own static
    /// files (`name` is `[A-Za-z0-9][A-Za-z0-9._-]*`, at most 64 chars).
    ShareAsset(String),
}

impl PublicRoute {
    /// Classifies a request line (the path may carry a query string; one
    /// trailing `/` is allowed). Tokens must be well-formed
    /// [`ShareToken`]s.
    pub fn classify(method: &str, path: &str) -> Option<PublicRoute> {
        let path = path.split(['?', '#']).next().unwrap_or("");
        let path = path.strip_suffix('/').unwrap_or(path);
        let segs: Vec<&str> = path.split('/').collect();
        let post = method == "POST";
        let get = method == "GET" || method == "HEAD";
        match segs.as_slice() {
            ["", "api", "voice", "share-session", tok, "frame"] if post => {
                ShareToken::parse(tok).ok().map(PublicRoute::ShareFrame)
            }
            ["", "api", "voice", "share-session", tok, "stop"] if post => {
                ShareToken::parse(tok).ok().map(PublicRoute::ShareStop)
            }
            ["", "api", "voice", "stream-ingest", "frame"] if post => {
                Some(PublicRoute::DirectIngest)
            }
            ["", "share", "assets", name] if get && asset_name_ok(name) => {
                Some(PublicRoute::ShareAsset((*name).to_owned()))
            }
            ["", "share", tok] if get => ShareToken::parse(tok).ok().map(PublicRoute::SharePage),
            _ => None,
        }
    }

    /// Whether the frame-ingress body cap and rate limits apply (they do on
    /// every host, local or public).
    pub fn is_frame_ingress(&self) -> bool {
        matches!(self, Self::ShareFrame(_) | Self::DirectIngest)
    }
}

fn asset_name_ok(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_ASSET_NAME
        && b[0].is_ascii_alphanumeric()
        && !name.contains("..")
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// What a request to the gate sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateRequest<'a> {
    /// HTTP method (case-sensitive, as HTTP defines it).
    pub method: &'a str,
    /// Request target path (a query string is ignored).
    pub path: &'a str,
    /// Raw `Host` header bytes, if any.
    pub host: Option<&'a [u8]>,
    /// Raw `X-Forwarded-Host` header bytes, if any (may be a
    /// comma-separated list).
    pub forwarded_host: Option<&'a [u8]>,
}

/// Body of a gated 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFound {
    /// `/api/*`: JSON `{"error":"Not found."}`.
    Json,
    /// Anything else: text `Not found.`.
    Text,
}

impl NotFound {
    /// The response body.
    pub fn body(&self) -> &'static str {
        match self {
            Self::Json => r#"{"error":"Not found."}"#,
            Self::Text => "Not found.",
        }
    }

    /// The `Content-Type`.
    pub fn content_type(&self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Text => "text/plain; charset=utf-8",
        }
    }
}

/// The gate's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateDecision {
    /// Not the public host: route normally (auth still applies).
    AllowLocal,
    /// The public host and an allowlisted route.
    AllowPublic(PublicRoute),
    /// The public host and any other route: answer 404.
    NotFound(NotFound),
}

impl GateDecision {
    /// Whether the request may proceed.
    pub fn is_allowed(&self) -> bool {
        !matches!(self, Self::NotFound(_))
    }
}

/// Decides which requests the public host may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicHostGate {
    /// Normalized host name (lower-case, no port, no trailing dot).
    public_host: Option<Vec<u8>>,
}

impl PublicHostGate {
    /// A gate for the configured public host, given as a host
    /// (`share.example.com`, `share.example.com:443`) or a URL
    /// (`https://x.trycloudflare.com/`). `None` or an unusable value: no
    /// request is public (the reference's rule without a `publicUrl`).
    pub fn new(public: Option<&str>) -> Self {
        let public_host = public.and_then(|p| {
            let rest = p.split_once("://").map_or(p, |(_, r)| r);
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            normalize_host(authority.as_bytes())
        });
        Self { public_host }
    }

    /// The configured public host, normalized.
    pub fn public_host(&self) -> Option<&[u8]> {
        self.public_host.as_deref()
    }

    /// The request's host as the reference computes it: the first
    /// `X-Forwarded-Host` entry if present, else `Host`; normalized.
    pub fn request_host(host: Option<&[u8]>, forwarded_host: Option<&[u8]>) -> Option<Vec<u8>> {
        forwarded_host
            .and_then(|x| x.split(|&b| b == b',').find_map(normalize_host))
            .or_else(|| host.and_then(normalize_host))
    }

    /// Whether a request came through the public host: any
    /// `X-Forwarded-Host` entry or the `Host` header names it (ports and a
    /// trailing dot ignored, case-insensitive).
    pub fn is_public(&self, host: Option<&[u8]>, forwarded_host: Option<&[u8]>) -> bool {
        let Some(public) = self.public_host.as_deref() else {
            return false;
        };
        let forwarded = forwarded_host.is_some_and(|x| {
            x.split(|&b| b == b',')
                .filter_map(normalize_host)
                .any(|h| h == public)
        });
        forwarded || host.and_then(normalize_host).is_some_and(|h| h == public)
    }

    /// The decision for one request.
    pub fn check(&self, req: &GateRequest<'_>) -> GateDecision {
        if !self.is_public(req.host, req.forwarded_host) {
            return GateDecision::AllowLocal;
        }
        match PublicRoute::classify(req.method, req.path) {
            Some(route) => GateDecision::AllowPublic(route),
            None => {
                let p = req.path;
                if p == "/api" || p.starts_with("/api/") || p.starts_with("/api?") {
                    GateDecision::NotFound(NotFound::Json)
                } else {
                    GateDecision::NotFound(NotFound::Text)
                }
            }
        }
    }
}

/// Lower-cases, trims, strips a port and a trailing dot. `[v6]:port` keeps
/// `[v6]`; a bare IPv6 literal (several colons, no brackets) is kept whole.
fn normalize_host(raw: &[u8]) -> Option<Vec<u8>> {
    let h = raw.trim_ascii();
    let h: &[u8] = if h.first() == Some(&b'[') {
        match h.iter().position(|&b| b == b']') {
            Some(end) => &h[..=end],
            None => h,
        }
    } else if h.iter().filter(|&&b| b == b':').count() == 1 {
        h.split(|&b| b == b':').next().unwrap_or(h)
    } else {
        h
    };
    let h = h.strip_suffix(b".").unwrap_or(h);
    if h.is_empty() {
        None
    } else {
        Some(h.to_ascii_lowercase())
    }
}
