//! Where the simulator listens versus the name it gives out.
//!
//! The sim listens on `--listen` (e.g. `0.0.0.0:8790` in a container) but
//! clients must be handed a name they can reach and that its certificate
//! carries: `--advertise-host NAME` (a compose service name, a host name or
//! an IP). This file decides, from values only (no IO), the host written in
//! every URL and media endpoint, the address the media servers bind, the
//! IP their Ready messages announce for UDP, and where the admin API
//! listens and who may use it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use sim_tls::SubjectName;

use crate::error::SimError;

/// How the sim is reached, decided at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Host of the gateway and REST URLs and of the voice / Go Live
    /// endpoints (`host:port`); IPv6 in brackets.
    pub url_host: String,
    /// Extra names of the leaf certificate (besides localhost and
    /// loopback).
    pub cert_names: Vec<SubjectName>,
    /// What the media servers bind (WebSocket and UDP).
    pub media_bind: IpAddr,
    /// The IP the media servers announce in Ready (clients send UDP there).
    pub media_ip: IpAddr,
    /// Where the admin API listens.
    pub admin_bind: SocketAddr,
    /// Whether the admin API answers peers other than loopback ones (only
    /// when it was asked to listen beyond loopback).
    pub admin_open: bool,
}

fn loopback_like(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    }
}

fn host_of(ip: IpAddr) -> String {
    SubjectName::Ip(ip).url_host()
}

/// Decides the plan. `listen_ip` is the bound gateway address's IP;
/// `resolved` the addresses `advertise` resolves to (only consulted when
/// it is a DNS name and `listen_ip` is unspecified: the media servers then
/// listen everywhere and must announce a reachable IP for UDP).
pub(crate) fn plan(
    listen_ip: IpAddr,
    advertise: Option<&SubjectName>,
    resolved: &[IpAddr],
    admin_listen: Option<SocketAddr>,
) -> Result<Plan, SimError> {
    let unspecified = listen_ip.is_unspecified();
    let (url_host, media_bind, media_ip) = match advertise {
        None if unspecified => {
            // Nothing to advertise: everything stays on loopback, as before.
            let lo = loopback_like(listen_ip);
            (host_of(lo), lo, lo)
        }
        None => (host_of(listen_ip), listen_ip, listen_ip),
        Some(name) => {
            let media_ip = if !unspecified {
                listen_ip
            } else {
                match name {
                    SubjectName::Ip(ip) => *ip,
                    SubjectName::Dns(n) => {
                        let same_family = resolved
                            .iter()
                            .find(|ip| ip.is_ipv4() == listen_ip.is_ipv4());
                        *same_family.or(resolved.first()).ok_or_else(|| {
                            SimError::Io(format!(
                                "--advertise-host {n} does not resolve to an address; with \
                                 --listen {listen_ip} the voice and Go Live servers announce \
                                 it for UDP, so it must resolve here too"
                            ))
                        })?
                    }
                }
            };
            (name.url_host(), listen_ip, media_ip)
        }
    };
    let mut cert_names = vec![SubjectName::Ip(listen_ip)];
    if let Some(name) = advertise {
        cert_names.push(name.clone());
    }
    let admin_bind = admin_listen.unwrap_or_else(|| {
        // Loopback by default: the admin API has no authentication.
        let ip = if listen_ip.is_loopback() {
            listen_ip
        } else {
            loopback_like(listen_ip)
        };
        SocketAddr::new(ip, 0)
    });
    Ok(Plan {
        url_host,
        cert_names,
        media_bind,
        media_ip,
        admin_open: !admin_bind.ip().is_loopback(),
        admin_bind,
    })
}

impl Plan {
    /// `host:port` of a media server whose WebSocket port ends `endpoint`
    /// (`sim-media-server` reports `ip:port`).
    pub(crate) fn media_endpoint(&self, endpoint: &str) -> String {
        match endpoint.rsplit_once(':') {
            Some((_, port)) => format!("{}:{port}", self.url_host),
            None => endpoint.to_owned(),
        }
    }

    /// The host of the admin API's URL for its bound address.
    pub(crate) fn admin_host(&self, bound: SocketAddr) -> String {
        if bound.ip().is_unspecified() {
            format!("{}:{}", self.url_host, bound.port())
        } else {
            bound.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn name(s: &str) -> SubjectName {
        SubjectName::parse(s).unwrap()
    }

    #[test]
    fn without_a_name_urls_use_the_listen_address_and_0_0_0_0_stays_on_loopback() {
        let p = plan(ip("127.0.0.1"), None, &[], None).unwrap();
        assert_eq!(p.url_host, "127.0.0.1");
        assert_eq!(
            (p.media_bind, p.media_ip),
            (ip("127.0.0.1"), ip("127.0.0.1"))
        );
        assert_eq!(p.admin_bind, "127.0.0.1:0".parse().unwrap());
        assert!(!p.admin_open);
        let p = plan(ip("0.0.0.0"), None, &[], None).unwrap();
        assert_eq!(p.url_host, "127.0.0.1");
        assert_eq!(p.media_bind, ip("127.0.0.1"));
        let p = plan(ip("::1"), None, &[], None).unwrap();
        assert_eq!(p.url_host, "[::1]");
        assert_eq!(p.admin_bind, "[::1]:0".parse().unwrap());
    }

    #[test]
    fn a_service_name_on_0_0_0_0_binds_everywhere_and_announces_its_resolved_ipv4() {
        let resolved = [ip("fd00::5"), ip("172.18.0.4")];
        let p = plan(ip("0.0.0.0"), Some(&name("discord-sim")), &resolved, None).unwrap();
        assert_eq!(p.url_host, "discord-sim");
        assert_eq!(p.media_bind, ip("0.0.0.0"));
        assert_eq!(p.media_ip, ip("172.18.0.4"), "same family as --listen");
        assert!(p.cert_names.contains(&name("discord-sim")));
        assert_eq!(p.media_endpoint("0.0.0.0:40123"), "discord-sim:40123");
        assert_eq!(p.media_endpoint("[::]:40123"), "discord-sim:40123");
        // The admin API stays on loopback unless asked.
        assert_eq!(p.admin_bind, "127.0.0.1:0".parse().unwrap());
        assert!(!p.admin_open);
    }

    #[test]
    fn an_unresolvable_name_on_0_0_0_0_is_a_clear_error() {
        let e = plan(ip("0.0.0.0"), Some(&name("nowhere")), &[], None).unwrap_err();
        assert!(e.to_string().contains("--advertise-host nowhere"), "{e}");
    }

    #[test]
    fn a_specific_listen_address_is_what_udp_is_announced_on() {
        let p = plan(ip("127.0.0.1"), Some(&name("sim.test")), &[], None).unwrap();
        assert_eq!(p.url_host, "sim.test");
        assert_eq!(
            (p.media_bind, p.media_ip),
            (ip("127.0.0.1"), ip("127.0.0.1"))
        );
        let p = plan(ip("0.0.0.0"), Some(&name("10.0.0.7")), &[], None).unwrap();
        assert_eq!((p.media_bind, p.media_ip), (ip("0.0.0.0"), ip("10.0.0.7")));
        assert_eq!(p.url_host, "10.0.0.7");
        let p = plan(ip("::"), Some(&name("fd00::7")), &[], None).unwrap();
        assert_eq!(p.media_endpoint("[::]:9"), "[fd00::7]:9");
    }

    #[test]
    fn the_admin_api_opens_to_other_peers_only_when_asked_to_listen_beyond_loopback() {
        let asked = "0.0.0.0:8791".parse().unwrap();
        let p = plan(
            ip("0.0.0.0"),
            Some(&name("discord-sim")),
            &[ip("172.18.0.4")],
            Some(asked),
        )
        .unwrap();
        assert!(p.admin_open);
        assert_eq!(p.admin_host(asked), "discord-sim:8791");
        let lo = "127.0.0.1:8791".parse().unwrap();
        let p = plan(ip("0.0.0.0"), None, &[], Some(lo)).unwrap();
        assert!(!p.admin_open);
        assert_eq!(p.admin_host(lo), "127.0.0.1:8791");
    }
}
