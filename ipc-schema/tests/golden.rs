//! Golden vectors: every message kind has a committed byte file under
//! `tests/vectors/`. Decoding it must give the sample, and re-encoding the
//! sample must give the file, so any change to the wire format shows up as
//! a diff. Regenerate deliberately with `UPDATE_IPC_VECTORS=1 cargo test -p
//! ipc-schema --test golden` (and bump the protocol version if the change is
//! not a compatible minor addition).

mod samples;

use ipc_schema::frame::{Split, decode_payload, encode_to_vec, peek_kind, split_frame};
use ipc_schema::{ControlMsg, MediadMsg, WireMessage};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn vector_path(dir: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(format!("{dir}_{name}.bin"))
}

fn check_all<M: WireMessage + PartialEq + std::fmt::Debug>(
    dir: &str,
    samples: Vec<(&'static str, M)>,
) {
    let update = std::env::var_os("UPDATE_IPC_VECTORS").is_some();
    let mut kinds = BTreeSet::new();
    for (name, msg) in samples {
        assert_eq!(msg.kind(), name, "sample name must be the kind name");
        let encoded = encode_to_vec(&msg).expect("sample encodes");
        let path = vector_path(dir, name);
        if update {
            std::fs::write(&path, &encoded).expect("write vector");
        }
        let golden = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "missing vector {} ({e}); run with UPDATE_IPC_VECTORS=1",
                path.display()
            )
        });
        assert_eq!(
            encoded, golden,
            "{dir}/{name}: encoding differs from the committed vector"
        );
        let Split::Frame { payload, consumed } = split_frame(&golden).expect("vector splits")
        else {
            panic!("{dir}/{name}: vector is not one whole frame")
        };
        assert_eq!(consumed, golden.len());
        let decoded: M = decode_payload(payload).expect("vector decodes");
        assert_eq!(
            decoded, msg,
            "{dir}/{name}: decoded vector differs from sample"
        );
        assert_eq!(
            encode_to_vec(&decoded).unwrap(),
            golden,
            "{dir}/{name}: re-encoding differs"
        );
        kinds.insert(peek_kind(payload).unwrap());
    }
    let expected: BTreeSet<u32> = (0..M::KNOWN_KINDS).collect();
    assert_eq!(
        kinds, expected,
        "{dir}: every message kind needs a golden vector"
    );
}

#[test]
fn control_to_mediad_vectors() {
    check_all::<ControlMsg>("control", samples::control_samples());
}

#[test]
fn mediad_to_control_vectors() {
    check_all::<MediadMsg>("mediad", samples::mediad_samples());
}

#[test]
fn hello_is_variant_zero_in_both_directions() {
    // The handshake must be readable by peers of any version.
    let c = encode_to_vec(&ControlMsg::Hello(samples::hello(
        ipc_schema::PeerRole::Control,
    )))
    .unwrap();
    let m = encode_to_vec(&MediadMsg::Hello(samples::hello(
        ipc_schema::PeerRole::Control,
    )))
    .unwrap();
    assert_eq!(c, m);
    assert_eq!(peek_kind(&c[4..]).unwrap(), 0);
}

#[test]
fn secrets_stay_out_of_summaries() {
    for (_, msg) in samples::control_samples() {
        let text = format!("{:?} {:?}", msg, msg.fields());
        assert!(!text.contains("voice-token-abcdef"), "{text}");
        assert!(!text.contains("session-0123456789abcdef"), "{text}");
    }
}
