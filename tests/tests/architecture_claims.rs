//! ARCHITECTURE.md's mechanical claims, checked against `cargo metadata`
//! (offline, host platform) and the source tree so they cannot drift:
//!
//! - which packages depend on tokio (directly or through another crate);
//! - which packages depend on anyhow, and in which files it is used (the
//!   binaries' edges only; every library returns its own error enum);
//! - every pure crate has a `clippy.toml` banning clock reads, thread
//!   spawns and ambient randomness, and reaches no tokio;
//! - the pure modules inside IO crates (sim-gateway's world model,
//!   `mediad::state`, `control::media::desired`) read no clock, spawn
//!   nothing and use no tokio.
//!
//! A failure here means a change to the architecture: update ARCHITECTURE.md
//! and the list below together.

use e2e::source_tree::{production_sources, root};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Packages that may reach tokio: the daemons and their IO crates, the
/// simulator, the end-to-end tests (ARCHITECTURE.md "Protocol crates do no
/// IO and read no clock").
const TOKIO_USERS: &[&str] = &[
    // daemons
    "control",
    "mediad",
    "ipc-tap",
    // their IO crates
    "ipc-conn",
    "daemon-support",
    "tls-client",
    "llm",
    "speech",
    "provider-http",
    // dev-only: the recording HTTP server of llm, speech and provider-http tests
    "http-recorder",
    // the simulator's shells
    "discord-sim",
    "sim-gateway",
    "sim-media-server",
    "sim-tls",
    // end-to-end tests
    "e2e",
];

/// Packages that may reach anyhow: those with a binary (ARCHITECTURE.md
/// "Cross-cutting concerns", Errors).
const ANYHOW_USERS: &[&str] = &["control", "mediad", "ipc-tap", "discord-sim", "e2e"];

/// The files (outside tests) that may name anyhow: the binaries' edges.
const ANYHOW_FILES: &[&str] = &[
    "control/src/main.rs",
    "control/src/lib.rs",
    "mediad/src/main.rs",
    "mediad/src/lib.rs",
    "mediad/src/replay.rs",
    "crates/ipc-tap/src/main.rs",
    "crates/ipc-tap/src/lib.rs",
    "crates/ipc-tap/src/relay.rs",
    "crates/ipc-tap/src/record.rs",
    "crates/discord-sim/src/main.rs",
];

/// The pure crates ARCHITECTURE.md lists (plus ipc-schema and
/// video-pipeline, which hold to the same rule) and their directories.
const PURE_CRATES: &[(&str, &str)] = &[
    ("ipc-schema", "ipc-schema"),
    ("rtp", "crates/rtp"),
    ("voice-crypto", "crates/voice-crypto"),
    ("h264-rtp", "crates/h264-rtp"),
    ("vp8-rtp", "crates/vp8-rtp"),
    ("capture-file", "crates/capture-file"),
    ("voice-proto", "crates/voice-proto"),
    ("gateway-proto", "crates/gateway-proto"),
    ("gateway-session", "crates/gateway-session"),
    ("voice-session", "crates/voice-session"),
    ("video-receiver", "crates/video-receiver"),
    ("video-pipeline", "crates/video-pipeline"),
    ("dave-session", "crates/dave-session"),
    ("sim-dave", "crates/sim-dave"),
    ("watch-core", "crates/watch-core"),
    ("brain-core", "crates/brain-core"),
    ("share-core", "crates/share-core"),
    ("stream-plan", "crates/stream-plan"),
    ("sim-content", "crates/sim-content"),
    ("voice-audio", "crates/voice-audio"),
    ("wire-ids", "crates/wire-ids"),
];

/// What every pure crate's clippy.toml bans.
const BANNED_METHODS: &[&str] = &[
    "std::time::Instant::now",
    "std::time::SystemTime::now",
    "tokio::time::Instant::now",
    "std::thread::spawn",
    "rand::random",
    "rand::thread_rng",
    "getrandom::getrandom",
];

/// Pure modules inside crates that also do IO (checked by source scan,
/// since clippy.toml is per crate), besides sim-gateway's `world*.rs`.
const PURE_MODULES: &[&str] = &["mediad/src/state.rs", "control/src/media/desired.rs"];

fn host_triple() -> String {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("host line in rustc -vV")
        .to_owned()
}

/// Workspace package name → names of every package it reaches through
/// normal (not dev or build) dependencies on this platform.
struct Graph {
    reach: BTreeMap<String, BTreeSet<String>>,
    bins: BTreeSet<String>,
}

fn graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
        ])
        .arg(host_triple())
        .current_dir(root())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let bins = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["targets"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        })
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    let mut normal: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().expect("resolve") {
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| d["pkg"].as_str().unwrap())
            .collect();
        normal.insert(node["id"].as_str().unwrap(), deps);
    }
    let mut reach = BTreeMap::new();
    for member in meta["workspace_members"].as_array().unwrap() {
        let member = member.as_str().unwrap();
        let mut seen = BTreeSet::new();
        let mut stack = vec![member];
        while let Some(id) = stack.pop() {
            for &d in normal.get(id).map(Vec::as_slice).unwrap_or(&[]) {
                if seen.insert(d) {
                    stack.push(d);
                }
            }
        }
        reach.insert(
            names[member].to_owned(),
            seen.iter().map(|id| names[id].to_owned()).collect(),
        );
    }
    Graph { reach, bins }
}

fn reaching(g: &Graph, dep: &str) -> BTreeSet<String> {
    g.reach
        .iter()
        .filter(|(_, r)| r.contains(dep))
        .map(|(n, _)| n.clone())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn tokio_only_in_daemons_their_io_crates_and_the_simulator() {
    let g = graph();
    assert_eq!(
        reaching(&g, "tokio"),
        set(TOKIO_USERS),
        "update ARCHITECTURE.md's tokio claim with this list"
    );
}

#[test]
fn anyhow_only_in_binaries_at_their_edges() {
    let g = graph();
    let users = reaching(&g, "anyhow");
    assert_eq!(users, set(ANYHOW_USERS), "packages reaching anyhow");
    for u in &users {
        assert!(g.bins.contains(u), "{u} uses anyhow but has no binary");
    }
    let allowed = set(ANYHOW_FILES);
    let mut found = Vec::new();
    for file in production_sources() {
        let rel = file
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        if code.contains("anyhow") && !allowed.contains(&rel) {
            found.push(rel);
        }
    }
    assert!(
        found.is_empty(),
        "anyhow outside the binaries' edges: {found:?}"
    );
}

#[test]
fn pure_crates_ban_clock_threads_and_randomness_and_reach_no_tokio() {
    let g = graph();
    for (name, dir) in PURE_CRATES {
        let reach = g
            .reach
            .get(*name)
            .unwrap_or_else(|| panic!("{name} not in the workspace"));
        assert!(!reach.contains("tokio"), "{name} reaches tokio");
        let path = root().join(dir).join("clippy.toml");
        let toml =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for banned in BANNED_METHODS {
            assert!(
                toml.contains(&format!("path = \"{banned}\"")),
                "{dir}/clippy.toml does not ban {banned}"
            );
        }
    }
}

#[test]
fn pure_modules_of_io_crates_read_no_clock() {
    let sim = root().join("crates/sim-gateway/src");
    let mut files: Vec<String> = std::fs::read_dir(&sim)
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("world") && n.ends_with(".rs") && !n.ends_with("_tests.rs"))
        .map(|n| format!("crates/sim-gateway/src/{n}"))
        .collect();
    assert!(
        files.len() >= 3,
        "sim-gateway's world model files: {files:?}"
    );
    files.extend(PURE_MODULES.iter().map(|s| (*s).to_owned()));
    for rel in &files {
        let text =
            std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        for needle in [
            "Instant::now",
            "SystemTime::now",
            "tokio",
            "thread::spawn",
            "rand::",
            "std::fs",
            "std::net",
        ] {
            assert!(!text.contains(needle), "{rel} uses {needle}");
        }
    }
}
