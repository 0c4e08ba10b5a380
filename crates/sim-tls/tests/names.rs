//! The leaf certificate is valid for exactly the names it was made for: a
//! client trusting the CA completes the handshake for an advertised DNS
//! name or IP, and refuses a name the certificate does not carry.

use std::sync::Arc;

use rustls_pki_types::ServerName;
use sim_tls::{SimTls, SimTlsError, SubjectName};

/// Runs a client handshake for `name` against `tls` over an in-memory
/// pipe; the client trusts only the sim's CA.
async fn handshake(tls: &SimTls, name: &str) -> Result<(), String> {
    let mut roots = rustls::RootCertStore::empty();
    for der in tls.ca_der() {
        roots.add(der).expect("CA parses");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server_tls = tls.clone();
    let server = tokio::spawn(async move { server_tls.accept(server_io).await.is_some() });
    let server_name = ServerName::try_from(name.to_owned()).expect("a server name");
    let client = connector.connect(server_name, client_io).await;
    let served = server.await.expect("server task");
    match client {
        Ok(_) if served => Ok(()),
        Ok(_) => Err("the server side failed".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test]
async fn an_advertised_dns_name_is_in_the_certificate_and_others_are_not() {
    let names = [SubjectName::parse("discord-sim").expect("valid DNS name")];
    let tls = SimTls::generate_for(&names, None).expect("generates");
    handshake(&tls, "discord-sim")
        .await
        .expect("advertised name accepted");
    handshake(&tls, "localhost")
        .await
        .expect("localhost is always named");
    let refused = handshake(&tls, "other-host")
        .await
        .expect_err("a name not in the certificate is refused");
    assert!(
        refused.to_lowercase().contains("not valid for name")
            || refused.to_lowercase().contains("notvalidforname"),
        "refused for the name, not something else: {refused}"
    );
    // Without the extra name the same handshake fails: the name came from
    // `generate_for`, not from a wildcard.
    let plain = SimTls::generate(&[], None).expect("generates");
    handshake(&plain, "discord-sim")
        .await
        .expect_err("not named without --advertise-host");
}

#[tokio::test]
async fn an_advertised_ip_is_in_the_certificate() {
    let names = [SubjectName::parse("10.1.2.3").expect("an IP")];
    let tls = SimTls::generate_for(&names, None).expect("generates");
    handshake(&tls, "10.1.2.3")
        .await
        .expect("advertised IP accepted");
    handshake(&tls, "10.1.2.4")
        .await
        .expect_err("another IP is refused");
}

#[test]
fn names_parse_as_ip_or_dns_and_bad_ones_are_refused() {
    assert_eq!(
        SubjectName::parse("172.29.87.10").unwrap(),
        SubjectName::Ip("172.29.87.10".parse().unwrap())
    );
    let v6 = SubjectName::parse("[fd00::1]").unwrap();
    assert_eq!(v6, SubjectName::Ip("fd00::1".parse().unwrap()));
    assert_eq!(v6.url_host(), "[fd00::1]");
    assert_eq!(
        SubjectName::parse("fd00::1").unwrap().url_host(),
        "[fd00::1]"
    );
    let dns = SubjectName::parse("Discord-Sim").unwrap();
    assert_eq!(dns, SubjectName::Dns("discord-sim".to_owned()));
    assert_eq!(dns.url_host(), "discord-sim");
    for bad in ["", "has space", "a..b", "under_score/x", "x:8790"] {
        assert!(
            matches!(SubjectName::parse(bad), Err(SimTlsError::BadName(_))),
            "{bad:?} should be refused"
        );
    }
}
