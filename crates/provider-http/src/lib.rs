//! The HTTP-API plumbing the hosted providers share (`llm`'s Anthropic and
//! OpenAI clients, `speech`'s OpenAI-compatible transcription and speech),
//! over [`tls_client::TlsClient::https_client`]:
//!
//! - [`ApiKey`] (`key.rs`): the key that never prints and is scrubbed from
//!   server messages;
//! - [`ApiClient`] (`client.rs`): a POST with a per-attempt deadline, a
//!   bounded answer and retries per the provider's policy, and the
//!   base-URL checks;
//! - [`HttpError`] (`error.rs`): what went wrong, classified (connect,
//!   transport, timeout, status class with `Retry-After`, …);
//! - [`retry`]: backoff, `Retry-After` parsing, status classes, error-body
//!   messages and the send-again loop.
//!
//! Each provider crate keeps its own error enum, which wraps [`HttpError`]
//! (and maps the few kinds it reports in its own words) and decides what is
//! retried ([`retry::Retryable`]), its own retry defaults and its own
//! request and answer formats.

mod client;
mod error;
mod key;
pub mod retry;

pub use client::{Answer, ApiClient, Caller, Post, endpoint, normalize_base_url};
pub use error::HttpError;
pub use key::ApiKey;
