//! Pre-decoding of untrusted MLS bytes before they reach davey.
//!
//! `tls_codec` 0.4 has `debug_assert!`s on *input* (vector length prefix
//! `0b11`, vector longer than the remaining bytes) that panic in debug builds
//! where release builds return an error. davey decodes op 25/27/29/30 bytes
//! with it, so this crate first runs the same (pure) decoding under
//! `catch_unwind`; bytes that fail never reach davey. In release builds, or
//! with debug assertions disabled for `tls_codec`, no panic ever happens.

use std::panic::{UnwindSafe, catch_unwind};

use openmls::prelude::tls_codec::VLBytes;
use openmls::prelude::{
    ExternalSender, MlsMessageIn, Welcome, hash_ref::ProposalRef, tls_codec::DeserializeBytes,
};

use crate::DaveError;

fn guard<T, E: std::fmt::Display>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, E> + UnwindSafe,
) -> Result<T, DaveError> {
    match catch_unwind(f) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(DaveError::Malformed {
            what,
            detail: e.to_string(),
        }),
        Err(_) => Err(DaveError::Malformed {
            what,
            detail: "inconsistent vector length".into(),
        }),
    }
}

/// Op 25 payload: one TLS `ExternalSender`, nothing trailing.
pub(crate) fn check_external_sender(bytes: &[u8]) -> Result<(), DaveError> {
    guard("external sender", || {
        ExternalSender::tls_deserialize_exact_bytes(bytes)
    })
    .map(drop)
}

/// Op 27 vector: MLSMessages (append) or ProposalRefs (revoke), exactly.
pub(crate) fn check_proposals(append: bool, bytes: &[u8]) -> Result<(), DaveError> {
    let inner: Vec<u8> = guard("proposals", || VLBytes::tls_deserialize_exact_bytes(bytes))?.into();
    let mut rest: &[u8] = &inner;
    while !rest.is_empty() {
        let cur = rest;
        rest = if append {
            guard("proposals", || MlsMessageIn::tls_deserialize_bytes(cur))?.1
        } else {
            guard("proposals", || ProposalRef::tls_deserialize_bytes(cur))?.1
        };
    }
    Ok(())
}

/// Op 29 commit: one MLSMessage, nothing trailing.
pub(crate) fn check_commit(bytes: &[u8]) -> Result<(), DaveError> {
    guard("commit", || {
        MlsMessageIn::tls_deserialize_exact_bytes(bytes)
    })
    .map(drop)
}

/// Op 30 welcome: one bare Welcome, nothing trailing.
pub(crate) fn check_welcome(bytes: &[u8]) -> Result<(), DaveError> {
    guard("welcome", || Welcome::tls_deserialize_exact_bytes(bytes)).map(drop)
}
