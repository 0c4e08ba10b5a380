//! Who may reach the admin routes from a browser's point of view: the
//! `Host` (DNS rebinding), the origin (cross-site requests) and the
//! content type of writes (the "simple" cross-site POST). The token check
//! is the shell's; these run before it, and nothing reads a body before
//! both.

use crate::host::{HostSources, normalize_host};

/// The admin routes' host and origin rules.
///
/// A `Host` is accepted when it names `localhost` or a `*.localhost` name
/// (browsers resolve those to loopback themselves), one of the configured
/// names, or the address the server is bound to ([`Self::bound_to`]): its
/// IP literal (any loopback literal when bound to loopback, any literal
/// when bound to an unspecified address). Without a bound address every
/// IP literal is accepted (a browser sends an IP literal only for a page
/// loaded from that very address, so no DNS rebinding can produce one).
/// Ports are not compared, for names nor for IP literals: a port forward
/// (`ssh -L 9000:127.0.0.1:8787`, a container's published port) reaches
/// the server under another port, and a port gives no defence against
/// rebinding, which only a name can carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminPolicy {
    /// Configured names, normalized.
    names: Vec<Vec<u8>>,
    /// The address the server listens on, once known.
    bound: Option<std::net::SocketAddr>,
}

/// What the admin check sees of a request (every line of each header).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Where the request names its host.
    pub hosts: HostSources<'a>,
    /// Every `Origin` line.
    pub origin: Vec<&'a [u8]>,
    /// Every `Sec-Fetch-Site` line.
    pub sec_fetch_site: Vec<&'a [u8]>,
    /// Every `Content-Type` line.
    pub content_type: Vec<&'a [u8]>,
}

/// Why an admin request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRefusal {
    /// No `Host`, or several, or one that does not read as a host.
    HostInvalid,
    /// A host name that is not loopback, an IP literal or configured.
    HostNotAllowed,
    /// `Origin` or `Sec-Fetch-Site` says another site (or an opaque
    /// origin) sent it.
    CrossSite,
    /// A write (`POST`, `PUT`, `PATCH`) without a JSON content type.
    JsonRequired,
}

impl AdminRefusal {
    /// HTTP status.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::HostInvalid => 400,
            Self::HostNotAllowed | Self::CrossSite => 403,
            Self::JsonRequired => 415,
        }
    }

    /// The stable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::HostInvalid => "invalid_host",
            Self::HostNotAllowed => "host_not_allowed",
            Self::CrossSite => "cross_site_request",
            Self::JsonRequired => "json_content_type_required",
        }
    }
}

impl AdminPolicy {
    /// A policy with these extra host names (ports and case ignored;
    /// blank entries skipped).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let names = names
            .into_iter()
            .filter_map(|n| normalize_host(n.as_bytes()))
            .collect();
        Self { names, bound: None }
    }

    /// The same policy, with IP literals checked against the address the
    /// server is actually bound to (e.g. `127.0.0.1:41234` after binding
    /// port 0).
    pub fn bound_to(mut self, addr: std::net::SocketAddr) -> Self {
        self.bound = Some(addr);
        self
    }

    /// Whether a normalized host name (no port) may reach the admin routes.
    pub fn host_allowed(&self, name: &[u8]) -> bool {
        match ip_literal(name) {
            Some(ip) => self.ip_allowed(ip),
            None => {
                name == b"localhost"
                    || name.ends_with(b".localhost")
                    || self.names.iter().any(|n| n == name)
            }
        }
    }

    /// An IP literal names the bound address (or any, unbound).
    fn ip_allowed(&self, ip: std::net::IpAddr) -> bool {
        let Some(bound) = self.bound else {
            return true;
        };
        let b = bound.ip();
        b.is_unspecified() || ip == b || (ip.is_loopback() && b.is_loopback())
    }

    /// The decision: host first, then the origin, then (for writes) the
    /// content type. The token is checked after this by the shell, and the
    /// body is read only after both.
    pub fn check(&self, req: &AdminRequest<'_>) -> Result<(), AdminRefusal> {
        if req.hosts.host.len() != 1 {
            return Err(AdminRefusal::HostInvalid);
        }
        let names = req.hosts.names().map_err(|_| AdminRefusal::HostInvalid)?;
        if !names.iter().all(|n| self.host_allowed(n)) {
            return Err(AdminRefusal::HostNotAllowed);
        }
        match req.sec_fetch_site.as_slice() {
            [] => {}
            [v] if matches!(v.trim_ascii(), b"same-origin" | b"none") => {}
            _ => return Err(AdminRefusal::CrossSite),
        }
        match req.origin.as_slice() {
            [] => {}
            [origin] if same_origin(origin, req.hosts.host[0]) => {}
            _ => return Err(AdminRefusal::CrossSite),
        }
        let write = matches!(req.method, "POST" | "PUT" | "PATCH");
        if write {
            match req.content_type.as_slice() {
                [ct] if is_json(ct) => {}
                _ => return Err(AdminRefusal::JsonRequired),
            }
        }
        Ok(())
    }
}

/// The IP address a normalized host names, if it is an IP literal
/// (`[v6]` in brackets).
fn ip_literal(name: &[u8]) -> Option<std::net::IpAddr> {
    let text = std::str::from_utf8(name).ok()?;
    match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().ok().map(Into::into),
        None => text.parse::<std::net::Ipv4Addr>().ok().map(Into::into),
    }
}

/// Whether `Origin` (`scheme://host[:port]`) is the origin the `Host`
/// header names: same host and same port (default ports filled in).
fn same_origin(origin: &[u8], host: &[u8]) -> bool {
    let origin = origin.trim_ascii().to_ascii_lowercase();
    let Some(pos) = origin.windows(3).position(|w| w == b"://") else {
        return false; // "null" and anything unreadable
    };
    let (scheme, authority) = (&origin[..pos], &origin[pos + 3..]);
    let default_port: &[u8] = match scheme {
        b"http" => b"80",
        b"https" => b"443",
        _ => return false,
    };
    let with_port = |a: &[u8]| -> Vec<u8> {
        let has_port = match a.iter().rposition(|&b| b == b']') {
            Some(end) => a[end..].contains(&b':'),
            None => a.contains(&b':'),
        };
        if has_port {
            a.to_vec()
        } else {
            [a, b":", default_port].concat()
        }
    };
    let host = host.trim_ascii().to_ascii_lowercase();
    let host = host.strip_suffix(b".").unwrap_or(&host);
    !authority.is_empty() && !authority.contains(&b'/') && with_port(authority) == with_port(host)
}

/// `application/json` or an `application/*+json` type, parameters allowed.
fn is_json(content_type: &[u8]) -> bool {
    let media = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii()
        .to_ascii_lowercase();
    media == b"application/json"
        || (media.starts_with(b"application/") && media.ends_with(b"+json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn req<'a>(method: &'a str, host: &'a str, extra: &[(&str, &'a str)]) -> AdminRequest<'a> {
        let mut r = AdminRequest {
            method,
            hosts: HostSources {
                host: vec![host.as_bytes()],
                ..HostSources::default()
            },
            ..AdminRequest::default()
        };
        for (k, v) in extra {
            match *k {
                "origin" => r.origin.push(v.as_bytes()),
                "sec-fetch-site" => r.sec_fetch_site.push(v.as_bytes()),
                "content-type" => r.content_type.push(v.as_bytes()),
                "x-forwarded-host" => r.hosts.forwarded_host.push(v.as_bytes()),
                "forwarded" => r.hosts.forwarded.push(v.as_bytes()),
                "host" => r.hosts.host.push(v.as_bytes()),
                _ => unreachable!("{k}"),
            }
        }
        r
    }

    const JSON: (&str, &str) = ("content-type", "application/json");

    #[test]
    fn hosts_loopback_ip_literals_and_configured_names_only() {
        let p = AdminPolicy::new(["Admin.Example:8787", " "]);
        for ok in [
            "127.0.0.1:8787",
            "127.0.0.1",
            "localhost:8787",
            "LOCALHOST",
            "app.localhost:1",
            "[::1]:8787",
            "10.0.0.5:8787",
            "admin.example",
            "admin.example.:9",
        ] {
            assert_eq!(p.check(&req("GET", ok, &[])), Ok(()), "{ok}");
        }
        for bad in [
            "rebind.attacker.test",
            "rebind.attacker.test:8787",
            "localhost.attacker.test",
            "127.0.0.1.nip.io",
            "example",
        ] {
            assert_eq!(
                p.check(&req("GET", bad, &[])),
                Err(AdminRefusal::HostNotAllowed),
                "{bad}"
            );
        }
        // Two Host lines, one Host listing two, no Host: unreadable.
        let two = req("GET", "127.0.0.1", &[("host", "rebind.attacker.test")]);
        assert_eq!(p.check(&two), Err(AdminRefusal::HostInvalid));
        assert_eq!(
            p.check(&req("GET", "127.0.0.1, evil.test", &[])),
            Err(AdminRefusal::HostInvalid)
        );
        let mut none = req("GET", "x", &[]);
        none.hosts.host.clear();
        assert_eq!(p.check(&none), Err(AdminRefusal::HostInvalid));
        // A forwarded name must be allowed too.
        let fwd = req(
            "GET",
            "127.0.0.1",
            &[("x-forwarded-host", "rebind.attacker.test")],
        );
        assert_eq!(p.check(&fwd), Err(AdminRefusal::HostNotAllowed));
    }

    #[test]
    fn ip_literals_must_name_the_bound_address() {
        let bound: std::net::SocketAddr = "127.0.0.1:41234".parse().unwrap();
        let p = AdminPolicy::new(["admin.example"]).bound_to(bound);
        for ok in [
            "127.0.0.1:41234",
            "127.0.0.1",
            "127.0.0.2:41234",
            "[::1]:41234",
            // Through a port forward (ssh -L 9000:127.0.0.1:41234).
            "127.0.0.1:9000",
            "localhost:8787",
            "admin.example:1",
        ] {
            assert_eq!(p.check(&req("GET", ok, &[])), Ok(()), "{ok}");
        }
        for bad in ["10.0.0.5:41234", "10.0.0.5", "[2001:db8::1]:41234"] {
            assert_eq!(
                p.check(&req("GET", bad, &[])),
                Err(AdminRefusal::HostNotAllowed),
                "{bad}"
            );
        }
        // A forwarded IP literal is checked by address (its port is the
        // proxy's business).
        let fwd = req(
            "GET",
            "127.0.0.1:41234",
            &[("x-forwarded-host", "10.0.0.5")],
        );
        assert_eq!(p.check(&fwd), Err(AdminRefusal::HostNotAllowed));
        // Bound to a LAN address: that address; bound to all: any literal.
        let lan = AdminPolicy::default().bound_to("10.0.0.5:8787".parse().unwrap());
        assert_eq!(lan.check(&req("GET", "10.0.0.5:8787", &[])), Ok(()));
        assert_eq!(
            lan.check(&req("GET", "127.0.0.1:8787", &[])),
            Err(AdminRefusal::HostNotAllowed)
        );
        let all = AdminPolicy::default().bound_to("0.0.0.0:8787".parse().unwrap());
        assert_eq!(all.check(&req("GET", "192.168.1.9:8787", &[])), Ok(()));
        assert_eq!(
            all.check(&req("GET", "rebind.attacker.test:8787", &[])),
            Err(AdminRefusal::HostNotAllowed)
        );
    }

    #[test]
    fn cross_site_requests_are_refused() {
        let p = AdminPolicy::default();
        let h = "127.0.0.1:8787";
        let same = [("origin", "http://127.0.0.1:8787"), JSON];
        assert_eq!(p.check(&req("POST", h, &same)), Ok(()));
        assert_eq!(
            p.check(&req(
                "POST",
                "localhost",
                &[("origin", "http://localhost:80"), JSON]
            )),
            Ok(())
        );
        for (k, v) in [
            ("origin", "http://evil.example"),
            ("origin", "null"),
            ("origin", "http://127.0.0.1:9999"),
            ("origin", "http://localhost:8787"),
            ("origin", "file://"),
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
        ] {
            assert_eq!(
                p.check(&req("POST", h, &[(k, v), JSON])),
                Err(AdminRefusal::CrossSite),
                "{k}: {v}"
            );
            assert_eq!(
                p.check(&req("GET", h, &[(k, v)])),
                Err(AdminRefusal::CrossSite),
                "GET {k}: {v}"
            );
        }
        for ok in ["same-origin", "none"] {
            assert_eq!(
                p.check(&req("POST", h, &[("sec-fetch-site", ok), JSON])),
                Ok(())
            );
        }
    }

    #[test]
    fn writes_need_a_json_content_type() {
        let p = AdminPolicy::default();
        let h = "127.0.0.1";
        for m in ["POST", "PUT", "PATCH"] {
            for bad in [
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "application/jsonx",
            ] {
                assert_eq!(
                    p.check(&req(m, h, &[("content-type", bad)])),
                    Err(AdminRefusal::JsonRequired),
                    "{m} {bad}"
                );
            }
            assert_eq!(p.check(&req(m, h, &[])), Err(AdminRefusal::JsonRequired));
            for ok in [
                "application/json",
                "Application/JSON; charset=utf-8",
                "application/merge-patch+json",
            ] {
                assert_eq!(p.check(&req(m, h, &[("content-type", ok)])), Ok(()), "{ok}");
            }
        }
        assert_eq!(p.check(&req("GET", h, &[])), Ok(()));
        assert_eq!(p.check(&req("DELETE", h, &[])), Ok(()));
    }

    proptest! {
        /// Any host name that is not an IP literal, loopback or
        /// configured is refused; bad input never panics.
        #[test]
        fn names_outside_the_allowlist_are_refused(label in "[a-z][a-z0-9-]{0,20}", tld in "(com|test|example|io)") {
            let p = AdminPolicy::new(["admin.lan"]);
            let host = format!("{label}.{tld}");
            prop_assert_eq!(p.check(&req("GET", &host, &[])), Err(AdminRefusal::HostNotAllowed));
        }

        #[test]
        fn arbitrary_headers_never_panic(
            host in proptest::collection::vec(any::<u8>(), 0..40),
            origin in proptest::collection::vec(any::<u8>(), 0..40),
            ct in proptest::collection::vec(any::<u8>(), 0..40),
            fwd in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let r = AdminRequest {
                method: "POST",
                hosts: HostSources { host: vec![&host], forwarded: vec![&fwd], ..HostSources::default() },
                origin: vec![&origin],
                sec_fetch_site: vec![],
                content_type: vec![&ct],
            };
            let _ = AdminPolicy::default().check(&r);
        }
    }
}
