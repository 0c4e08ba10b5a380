//! Panic-proof decoding of untrusted bytes with openmls' TLS codec.
//!
//! `tls_codec` 0.4 contains `debug_assert!`s on *input* (a vector length
//! prefix `0b11`, a vector longer than the remaining bytes) that panic in
//! debug builds instead of returning its error, which it does in release
//! builds. Decoding is a pure function of the bytes, so the gateway runs it
//! under `catch_unwind` and maps a panic to the same error a release build
//! returns. (The workspace can also disable debug assertions for the
//! `tls_codec` package in its dev profile, which makes this a no-op path.)

use std::panic::{UnwindSafe, catch_unwind};

use crate::GatewayError;

/// Runs a pure decoder on untrusted bytes; panics and errors become
/// [`GatewayError::Malformed`].
pub(crate) fn decode<T, E: std::fmt::Display>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, E> + UnwindSafe,
) -> Result<T, GatewayError> {
    match catch_unwind(f) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(GatewayError::malformed(what, e)),
        Err(_) => Err(GatewayError::malformed(what, "inconsistent vector length")),
    }
}
