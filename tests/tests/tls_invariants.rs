//! ARCHITECTURE.md's TLS invariants, checked on the source tree so they
//! cannot drift: the daemons open WebSockets and HTTPS only through the
//! one `tls-client` configuration (never tokio-tungstenite's plain
//! `connect_async`, never a connector of their own), and no production
//! code builds a `ws://` URL for Discord.

use std::path::PathBuf;

/// Production sources: the daemons, ipc-schema and the crates, outside
/// test directories and test modules' own files.
fn production_sources() -> Vec<PathBuf> {
    let out = e2e::source_tree::production_sources();
    assert!(
        out.len() > 100,
        "found only {} sources under {}",
        out.len(),
        e2e::source_tree::root().display()
    );
    out
}

/// The code before the file's `#[cfg(test)]` module, if any.
fn non_test_part(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

fn offenders(pattern: &str, allowed: &[&str]) -> Vec<String> {
    production_sources()
        .into_iter()
        .filter(|p| !allowed.iter().any(|a| p.to_string_lossy().contains(a)))
        .filter(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| {
                non_test_part(&t)
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .any(|l| l.contains(pattern))
            })
        })
        .map(|p| p.display().to_string())
        .collect()
}

#[test]
fn websockets_are_opened_only_through_tls_client() {
    let bad = offenders("connect_async", &["crates/tls-client/"]);
    assert!(
        bad.is_empty(),
        "plain tokio-tungstenite connects in {bad:?}"
    );
}

#[test]
fn https_connectors_are_built_only_by_tls_client() {
    let bad = offenders("HttpsConnectorBuilder", &["crates/tls-client/"]);
    assert!(bad.is_empty(), "HTTPS connectors of their own in {bad:?}");
    let bad = offenders("ClientConfig::builder", &["crates/tls-client/"]);
    assert!(
        bad.is_empty(),
        "rustls client configs of their own in {bad:?}"
    );
}

#[test]
fn no_production_code_builds_a_plain_ws_url() {
    // The simulator's shells only accept; discord-sim's admin API is plain
    // HTTP on purpose (not a Discord surface).
    // (Stripping a scheme, as voice-session does so that it can never
    // downgrade, is fine; building a ws:// URL is not.)
    for pattern in ["\"ws://{", "format!(\"ws://", "\"ws\" } else"] {
        let bad = offenders(pattern, &[]);
        assert!(bad.is_empty(), "{pattern} in {bad:?}");
    }
}
