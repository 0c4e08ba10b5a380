//! Public-host detection: whether a request came through the configured
//! public host, read from every place it names its host. Which routes such
//! a request reaches is the server's business (control serves it with its
//! share router alone).

/// Recognizes requests that came through the configured public host.
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

    /// Whether a request came through the public host, from every place it
    /// names its host ([`HostSources`]): `Ok(true)` if any of them names
    /// the public host, `Err` if they are ambiguous (whether or not a
    /// public host is configured: two `Host` lines are never a valid
    /// request). The route is the caller's: a server that serves only its
    /// public routes to a public request needs no path here.
    pub fn is_public_request(&self, sources: &HostSources<'_>) -> Result<bool, Ambiguity> {
        let names = sources.names()?;
        Ok(self
            .public_host
            .as_deref()
            .is_some_and(|p| names.iter().any(|n| n == p)))
    }
}

/// Why a request's host is ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ambiguity {
    /// More than one `Host` line, or one that lists several hosts.
    SeveralHosts,
    /// A host value that is empty or holds characters no host name has.
    InvalidHost,
    /// An absolute-form request URI whose host differs from `Host`.
    UriHostDiffers,
    /// A `Forwarded` line that does not parse.
    InvalidForwarded,
}

impl Ambiguity {
    /// The stable reason in the 400 answer.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::SeveralHosts => "ambiguous_host",
            Self::InvalidHost => "invalid_host",
            Self::UriHostDiffers => "ambiguous_host",
            Self::InvalidForwarded => "invalid_forwarded_header",
        }
    }
}

/// Every place a request names its host: all header lines, not only the
/// first, and the authority of an absolute-form request URI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSources<'a> {
    /// Every `Host` line, raw.
    pub host: Vec<&'a [u8]>,
    /// The authority of an absolute-form request URI
    /// (`GET http://h/path HTTP/1.1`), if any.
    pub uri_authority: Option<&'a [u8]>,
    /// Every `X-Forwarded-Host` line (each may be a comma-separated list).
    pub forwarded_host: Vec<&'a [u8]>,
    /// Every `Forwarded` line (RFC 7239; `host=` parameters are read).
    pub forwarded: Vec<&'a [u8]>,
}

impl HostSources<'_> {
    /// Every host the request names, normalized (lower-case, no port, no
    /// trailing dot), in order: `Host`, the URI authority, each
    /// `X-Forwarded-Host` entry, each `Forwarded` `host=`. Empty
    /// `X-Forwarded-Host` entries are skipped (proxies append). Ambiguous:
    /// several `Host` lines or a `Host` listing several hosts, a host that
    /// is not a host name, a URI authority that differs from `Host`, or a
    /// `Forwarded` line that does not parse.
    pub fn names(&self) -> Result<Vec<Vec<u8>>, Ambiguity> {
        let mut out = Vec::new();
        if self.host.len() > 1 {
            return Err(Ambiguity::SeveralHosts);
        }
        let host = match self.host.first() {
            Some(h) if h.contains(&b',') => return Err(Ambiguity::SeveralHosts),
            Some(h) => Some(valid_host(h)?),
            None => None,
        };
        if let Some(a) = self.uri_authority {
            let a = a.rsplit(|&b| b == b'@').next().unwrap_or(a);
            let a = valid_host(a)?;
            if host.as_ref().is_some_and(|h| *h != a) {
                return Err(Ambiguity::UriHostDiffers);
            }
            out.push(a);
        }
        out.extend(host);
        for line in &self.forwarded_host {
            for entry in line.split(|&b| b == b',') {
                if entry.trim_ascii().is_empty() {
                    continue;
                }
                out.push(valid_host(entry)?);
            }
        }
        for line in &self.forwarded {
            for host in forwarded_hosts(line).ok_or(Ambiguity::InvalidForwarded)? {
                out.push(valid_host(&host)?);
            }
        }
        Ok(out)
    }
}

/// A host value normalized, or `InvalidHost` if it is empty or holds a
/// byte no `host[:port]` has.
fn valid_host(raw: &[u8]) -> Result<Vec<u8>, Ambiguity> {
    let ok = raw.trim_ascii().iter().all(|&b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']' | b'%')
    });
    if !ok {
        return Err(Ambiguity::InvalidHost);
    }
    normalize_host(raw).ok_or(Ambiguity::InvalidHost)
}

/// The `host=` values of one `Forwarded` line (RFC 7239: elements
/// separated by `,`, pairs by `;`, values a token or a quoted string), or
/// `None` if it does not parse.
fn forwarded_hosts(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut hosts = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && matches!(line[i], b' ' | b'\t' | b',' | b';') {
            i += 1;
        }
        if i >= n {
            return Some(hosts);
        }
        let start = i;
        while i < n && line[i] != b'=' && !matches!(line[i], b',' | b';') {
            i += 1;
        }
        if i >= n || line[i] != b'=' {
            return None;
        }
        let key = line[start..i].trim_ascii();
        if key.is_empty() {
            return None;
        }
        i += 1;
        let value = if line.get(i) == Some(&b'"') {
            i += 1;
            let mut v = Vec::new();
            loop {
                match line.get(i) {
                    None => return None,
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        v.push(*line.get(i + 1)?);
                        i += 2;
                    }
                    Some(&b) => {
                        v.push(b);
                        i += 1;
                    }
                }
            }
            v
        } else {
            let s = i;
            while i < n && !matches!(line[i], b',' | b';') {
                i += 1;
            }
            line[s..i].trim_ascii().to_vec()
        };
        // Only whitespace may follow a value before the next separator.
        while i < n && matches!(line[i], b' ' | b'\t') {
            i += 1;
        }
        if i < n && !matches!(line[i], b',' | b';') {
            return None;
        }
        if key.eq_ignore_ascii_case(b"host") {
            hosts.push(value);
        }
    }
}

/// Lower-cases, trims, strips a port and a trailing dot. `[v6]:port` keeps
/// `[v6]`; a bare IPv6 literal (several colons, no brackets) is kept whole.
pub(crate) fn normalize_host(raw: &[u8]) -> Option<Vec<u8>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PUBLIC: &str = "share.example.com";

    fn gate() -> PublicHostGate {
        PublicHostGate::new(Some("https://share.example.com"))
    }

    fn sources<'a>(lines: &[(&str, &'a str)], uri: Option<&'a str>) -> HostSources<'a> {
        let mut s = HostSources {
            uri_authority: uri.map(str::as_bytes),
            ..HostSources::default()
        };
        for (k, v) in lines {
            let v = v.as_bytes();
            match *k {
                "host" => s.host.push(v),
                "x-forwarded-host" => s.forwarded_host.push(v),
                "forwarded" => s.forwarded.push(v),
                _ => unreachable!("{k}"),
            }
        }
        s
    }

    fn decide(lines: &[(&str, &str)], uri: Option<&str>) -> Result<bool, Ambiguity> {
        gate().is_public_request(&sources(lines, uri))
    }

    #[test]
    fn a_public_request_is_named_by_any_host_source() {
        let g = gate();
        let local = HostSources {
            host: vec![b"127.0.0.1:8787"],
            ..HostSources::default()
        };
        assert_eq!(g.is_public_request(&local), Ok(false));
        let fwd = HostSources {
            forwarded_host: vec![b"share.example.com"],
            ..local.clone()
        };
        assert_eq!(g.is_public_request(&fwd), Ok(true));
        let two = HostSources {
            host: vec![b"127.0.0.1", b"share.example.com"],
            ..HostSources::default()
        };
        assert_eq!(g.is_public_request(&two), Err(Ambiguity::SeveralHosts));
        assert_eq!(PublicHostGate::new(None).is_public_request(&fwd), Ok(false));
    }

    /// Issue 16 §3: each form that named the public host past the first
    /// header line reached admin routes.
    #[test]
    fn every_line_and_form_that_names_the_public_host_counts() {
        let local = ("host", "127.0.0.1:8787");
        // Two X-Forwarded-Host lines, the local one first.
        let d = decide(
            &[
                local,
                ("x-forwarded-host", "127.0.0.1:8787"),
                ("x-forwarded-host", PUBLIC),
            ],
            None,
        );
        assert_eq!(d, Ok(true));
        // An absolute-form request URI with the public host (Host agrees).
        let d = decide(&[("host", PUBLIC)], Some("share.example.com:443"));
        assert_eq!(d, Ok(true));
        // Forwarded: host=… (quoted, with other pairs, second element).
        for f in [
            "host=share.example.com",
            "for=1.2.3.4;proto=https;host=\"Share.Example.com:443\"",
            "for=1.2.3.4, for=\"[2001:db8::1]\";host=share.example.com",
        ] {
            assert_eq!(decide(&[local, ("forwarded", f)], None), Ok(true), "{f}");
            assert_eq!(
                decide(
                    &[local, ("forwarded", "for=1.2.3.4"), ("forwarded", f)],
                    None
                ),
                Ok(true),
                "second line {f}"
            );
        }
        // Local requests stay local.
        assert_eq!(decide(&[local], None), Ok(false));
        assert_eq!(
            decide(&[local, ("forwarded", "for=1.2.3.4;proto=http")], None),
            Ok(false)
        );
    }

    /// Ports, case, a trailing dot and blanks are ignored on both sides;
    /// any entry of an `X-Forwarded-Host` list counts; a forged
    /// `X-Forwarded-Host` cannot hide a public `Host`; look-alike names
    /// are not the public host.
    #[test]
    fn host_names_compare_normalized() {
        let g = PublicHostGate::new(Some("x.trycloudflare.com"));
        let is = |h: Option<&str>, x: Option<&str>| {
            let s = HostSources {
                host: h.map(str::as_bytes).into_iter().collect(),
                forwarded_host: x.map(str::as_bytes).into_iter().collect(),
                ..HostSources::default()
            };
            g.is_public_request(&s)
        };
        assert_eq!(
            is(Some("127.0.0.1:8787"), Some("x.trycloudflare.com")),
            Ok(true)
        );
        assert_eq!(is(Some("X.TRYCLOUDFLARE.COM:443"), None), Ok(true));
        assert_eq!(is(Some("x.trycloudflare.com."), None), Ok(true));
        assert_eq!(is(None, Some(" x.trycloudflare.com:8443 ")), Ok(true));
        assert_eq!(is(None, Some("proxy.local, x.trycloudflare.com")), Ok(true));
        assert_eq!(is(Some("x.trycloudflare.com"), Some("127.0.0.1")), Ok(true));
        assert_eq!(is(Some("127.0.0.1:8787"), Some("localhost")), Ok(false));
        assert_eq!(is(Some("evil-x.trycloudflare.com"), None), Ok(false));
        assert_eq!(is(Some("x.trycloudflare.com.evil"), None), Ok(false));
        assert_eq!(is(None, None), Ok(false));
        // Header bytes that are no host name fail closed (400), never open.
        assert_eq!(
            is(Some("x.trycloudflare.com"), Some("\u{ff}\u{fe}")),
            Err(Ambiguity::InvalidHost)
        );
        let one = |h: &'static str| HostSources {
            host: vec![h.as_bytes()],
            ..HostSources::default()
        };
        // The configured host: a URL with a path, a port or user info, an
        // IPv6 literal; nothing or an unusable value: nothing is public.
        let url = PublicHostGate::new(Some("https://Share.Example.com/some/path"));
        assert_eq!(url.is_public_request(&one("share.example.com")), Ok(true));
        let port = PublicHostGate::new(Some("share.example.com:8443"));
        assert_eq!(port.is_public_request(&one("share.example.com")), Ok(true));
        let user = PublicHostGate::new(Some("https://u:p@share.example.com/"));
        assert_eq!(user.is_public_request(&one("share.example.com")), Ok(true));
        let v6 = PublicHostGate::new(Some("http://[::1]:8787/"));
        assert_eq!(v6.is_public_request(&one("[::1]:9000")), Ok(true));
        let empty = PublicHostGate::new(Some("https://"));
        assert_eq!(empty, PublicHostGate::new(None));
        let none = PublicHostGate::new(None);
        assert_eq!(
            none.is_public_request(&one("x.trycloudflare.com")),
            Ok(false)
        );
    }

    #[test]
    fn ambiguous_requests_are_refused() {
        let amb = |lines: &[(&str, &str)], uri: Option<&str>| match decide(lines, uri) {
            Err(a) => a,
            other => panic!("{lines:?} {uri:?}: {other:?}"),
        };
        // Two Host lines, in either order, and a Host listing two.
        assert_eq!(
            amb(&[("host", "127.0.0.1"), ("host", PUBLIC)], None),
            Ambiguity::SeveralHosts
        );
        assert_eq!(
            amb(&[("host", PUBLIC), ("host", "127.0.0.1")], None),
            Ambiguity::SeveralHosts
        );
        assert_eq!(
            amb(&[("host", "127.0.0.1, share.example.com")], None),
            Ambiguity::SeveralHosts
        );
        // An absolute-form URI naming another host than Host.
        assert_eq!(
            amb(&[("host", "127.0.0.1:8787")], Some(PUBLIC)),
            Ambiguity::UriHostDiffers
        );
        assert_eq!(
            amb(&[("host", "127.0.0.1")], Some("localhost")),
            Ambiguity::UriHostDiffers
        );
        // Forwarded that does not parse, hosts that are not hosts.
        for f in ["host=\"share.example.com", "host", "=x", "host=a b"] {
            assert!(
                decide(&[("host", "127.0.0.1"), ("forwarded", f)], None).is_err(),
                "{f}"
            );
        }
        assert_eq!(amb(&[("host", "a/b")], None), Ambiguity::InvalidHost);
        assert_eq!(amb(&[("host", "")], None), Ambiguity::InvalidHost);
        // Without a public host configured, the same requests are refused.
        let none = PublicHostGate::new(None);
        let s = sources(&[("host", "127.0.0.1"), ("host", "localhost")], None);
        assert_eq!(none.is_public_request(&s), Err(Ambiguity::SeveralHosts));
    }

    proptest! {
        /// Wherever the public host appears among the sources, the request
        /// is public (or refused as ambiguous), never local.
        #[test]
        fn the_public_host_anywhere_is_never_local(
            pos in 0usize..4,
            noise in proptest::collection::vec("[a-z0-9.:-]{1,12}", 0..4),
        ) {
            let mut xfh: Vec<String> = noise.clone();
            let mut fwd: Vec<String> = noise.iter().map(|n| format!("for={n}")).collect();
            let mut host = "127.0.0.1".to_owned();
            let mut uri = None;
            match pos {
                0 => xfh.insert(noise.len() / 2, PUBLIC.to_owned()),
                1 => fwd.insert(noise.len() / 2, format!("host={PUBLIC}")),
                2 => { host = PUBLIC.to_owned(); uri = Some(PUBLIC.to_owned()); }
                _ => host = format!("{PUBLIC}:443"),
            }
            let s = HostSources {
                host: vec![host.as_bytes()],
                uri_authority: uri.as_deref().map(str::as_bytes),
                forwarded_host: xfh.iter().map(|x| x.as_bytes()).collect(),
                forwarded: fwd.iter().map(|x| x.as_bytes()).collect(),
            };
            let d = gate().is_public_request(&s);
            prop_assert!(d != Ok(false), "{:?}", d);
        }

        #[test]
        fn arbitrary_lines_never_panic(
            lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..30), 0..6),
        ) {
            let s = HostSources {
                host: lines.iter().take(1).map(Vec::as_slice).collect(),
                uri_authority: lines.get(1).map(Vec::as_slice),
                forwarded_host: lines.iter().skip(2).take(2).map(Vec::as_slice).collect(),
                forwarded: lines.iter().skip(4).map(Vec::as_slice).collect(),
            };
            let _ = gate().is_public_request(&s);
        }
    }
}
