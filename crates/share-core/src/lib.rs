//! The share-link fallback's rules as a pure library: no IO, no async
//! runtime, no clock reads, no OS randomness. Wall-clock time comes in as
//! [`std::time::SystemTime`] (session lifetimes must survive a control
//! restart), monotonic time as [`std::time::Instant`] (rate limiters), and
//! random bytes through a caller-supplied `FnMut(&mut [u8])`. control's
//! HTTP server is the shell: it owns sockets, SQLite, the clock and the
//! random source, and acts on what these types return.
//!
//! # How the shell drives it
//!
//! * **Create** (`POST /api/voice/share-session`, CLI `share create`, the
//!   watch tool's link fallback): [`SessionManager::expire`] first (stop
//!   the watch of each returned session), then
//!   [`SessionManager::create`]. `reused: false` → persist the record and
//!   arm a link-fed watch for the target (if that fails,
//!   [`SessionManager::stop`]); `reused: true` → hand out the same link,
//!   its expiry unchanged. A refusal carries a reason, a status, and
//!   possibly sessions it ended.
//! * **Frame** (`POST /api/voice/share-session/:token/frame`):
//!   1. [`PublicHostGate::is_public_request`] (on every request, every
//!      route): a public request reaches only the share routes (control
//!      serves it with its share router alone, so which routes those are
//!      is written once, in the router);
//!   2. [`ShareSettings::check_declared_length`] on `Content-Length`
//!      before reading, and cap the read at
//!      [`ShareSettings::max_body_bytes`];
//!   3. per-IP [`RateLimiter`], then [`ShareToken::parse`] (malformed →
//!      `share_session_not_found`), then per-session [`RateLimiter`] keyed
//!      by [`SessionManager::session_id`];
//!   4. [`FrameBody::parse`], [`FrameBody::decode`] with
//!      `max_frame_bytes` (never allocates more);
//!   5. [`SessionManager::check_frame`] with the decoded length;
//!      [`Accepted`] → forward the bytes to the target's watch; a
//!      rejection → `http_status()` + `body()`, and stop the watch of
//!      [`FrameRejection::ended`] if any.
//! * **Stop** (`…/:token/stop`, CLI `share stop SUFFIX|--all`):
//!   [`SessionManager::stop`] / [`SessionManager::stop_all`]; stop the
//!   watch; delete the record.
//! * **Timer**: at [`SessionManager::next_expiry`], call
//!   [`SessionManager::expire`] and stop each returned session's watch.
//! * **Start-up**: load the stored records and
//!   [`SessionManager::restore`] them; every live link keeps working.
//!
//! Every [`Ended`] means "stop the watch this session armed and delete its
//! record", whichever call returned it.
//!
//! # Rules
//!
//! * Tokens: 18 random bytes, base64url without padding (24 chars); only
//!   the last 8 characters ([`ShareToken::suffix`]) are ever shown; all
//!   comparisons are constant-time, and lookups compare against every
//!   session without early exit.
//! * Lifetime: `PUBLIC_SHARE_SESSION_TTL_MINUTES`, default 12, clamped to
//!   [2, 30] ([`ShareTtl`]). Never extended by reuse or by frames.
//! * Creation needs, in order: link fallback enabled, stream watch
//!   enabled, our voice session in the guild, the requester in our
//!   channel, the target in our channel. Then a live session with the same
//!   guild + requester + target (+ channel when given) is returned as is.
//!   At most 240 sessions ([`ShareSettings::max_active_sessions`]); the
//!   241st creation is refused (`share_session_limit_reached`, 503)
//!   rather than evicting someone's link as the reference's sweep did.
//! * Frame admission order: session live → presence (leaving stops the
//!   session) → stream watch enabled (`stream_watch_disabled`, the session
//!   kept) → MIME → non-empty → decoded size → frames per minute. See
//!   [`FrameRejection`] for strings and statuses.
//!
//! # Decisions on the reference's \[observation\] items (§1–§3)
//!
//! * **TTL fractions are not rounded**: kept. 2.5 minutes is 150 s; the
//!   lifetime is held in milliseconds. Non-finite values (`inf`) take the
//!   default like NaN does, rather than clamping to 30.
//! * **The local fallback makes `share_link_unavailable` unreachable**:
//!   base URLs are the shell's business; this crate only builds the path
//!   ([`ShareToken::share_path`]). A shell without a usable base URL turns
//!   [`ShareSettings::link_fallback_enabled`] off, which refuses creation
//!   with `link_fallback_disabled` (a policy refusal).
//! * **Sweeping does not stop the voice-side watch / TTL passing issues no
//!   voice stop**: fixed. Expiry is explicit ([`SessionManager::expire`],
//!   and a frame arriving after expiry) and returns [`Ended`] records whose
//!   watches the shell must stop.
//! * **Link creation arms the native watch and sends OP20**: not modelled
//!   here; `Created { reused: false }` tells the shell to arm a *link-fed*
//!   watch for the target. The shell should not send OP20 on this path
//!   (link fallback exists precisely because native watching is
//!   impossible).
//! * **Direct ingest always answers 200, even when rejected**: not kept.
//!   Every frame route answers with [`FrameRejection::http_status`], so a
//!   client sees a rejection the same way on both routes.
//! * **The 413 `payload_too_large` does not trigger the page's
//!   downscale**: the body cap ([`ShareSettings::max_body_bytes`], 6 MB) is
//!   always above the base64 of the largest allowed frame plus 64 KiB, so a
//!   frame that is merely too big reaches the size check and gets
//!   `frame_too_large`, which the page does adapt to. 413 is left for
//!   bodies no valid frame could produce.
//! * **The share page loses its stylesheet on the public host**: the page
//!   is self-contained (everything inline, no external assets), so it
//!   loads completely through any host.
//!
//! # Other deliberate differences from the reference
//!
//! * Tokens on the routes must be well-formed 24-character tokens (the
//!   reference accepted any 16+ characters of `[a-z0-9_-]`); a malformed
//!   one is simply not found.
//! * The target's presence is checked at creation too (the reference left
//!   that to the watch arm), so a link is never handed out for frames that
//!   would be rejected.
//! * The session cap refuses instead of evicting the oldest sessions.
//! * The frame body must be JSON (no form encoding); a `data:` URL prefix
//!   on `dataBase64` is tolerated; base64 that does not decode, or bytes
//!   without the declared type's file signature
//!   ([`DecodedFrame::check_signature`]: JPEG, PNG, WebP), are rejected
//!   with `invalid_frame_data` (400), chosen here. Size is the exact
//!   decoded size, not `floor(len × 3 / 4)`.
//! * Public host: the host is compared without its port and without a
//!   trailing dot, and a request is public if *either* an
//!   `X-Forwarded-Host` entry, *or* `Host`, *or* a `Forwarded` `host=`,
//!   *or* an absolute-form URI names the public host
//!   ([`PublicHostGate::is_public_request`]; sources that disagree in ways
//!   a proxy never produces are refused as [`Ambiguity`]). A client on the
//!   tunnel therefore cannot escape the gate by sending its own
//!   `X-Forwarded-Host`.
//! * No admin access on the public host at all, even with
//!   `x-dashboard-token` (the reference allowed it): every dashboard and
//!   admin route answers 404 there.
//! * Stop reasons from clients are cut to 80 characters and reduced to
//!   `[A-Za-z0-9_.:-]` before they can reach a log.
//! * Rate limits are token buckets (per IP: 20/s, burst 40, the
//!   reference's 1200/min; per session: 12/s, burst 20) plus the
//!   reference's fixed 60 s frames-per-minute window per session.
//!   Per-session buckets are keyed by [`SessionId`], never by a token.

#![forbid(unsafe_code)]

mod admin;
mod frame;
mod head;
mod host;
mod manager;
mod rate;
mod settings;
mod token;

#[cfg(test)]
mod tests;

pub use admin::{AdminPolicy, AdminRefusal, AdminRequest};
pub use frame::{
    DecodedFrame, FrameBody, FrameRefusal, FrameRejection, MAX_SOURCE_CHARS, base64_decoded_len,
    check_declared_length, decode_capped,
};
pub use head::{HeadLimits, HeadRefusal, HeadRefusalBody, automatic_refusal_as_json};
pub use host::{Ambiguity, HostSources, PublicHostGate};
pub use manager::{
    Accepted, CreateRefusal, CreateRefusalKind, CreateRequest, Created, DEFAULT_STOP_REASON,
    EndReason, Ended, Expired, FRAME_WINDOW, FrameMeta, MAX_REASON_CHARS, Presence,
    PresenceFailure, Restored, RuntimeState, SessionId, SessionManager, ShareSession, UnixMillis,
    check_presence, sanitize_reason,
};
pub use rate::{RateLimit, RateLimited, RateLimiter};
pub use settings::{ALLOWED_MIME_TYPES, FrameMime, ShareSettings, ShareTtl};
pub use token::{SUFFIX_LEN, ShareToken, TOKEN_LEN, TOKEN_RANDOM_BYTES, TokenError};
