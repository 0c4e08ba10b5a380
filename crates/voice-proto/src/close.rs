//! Voice gateway WebSocket close codes and the reconnect policy.

/// What a client should do after the voice WebSocket closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseAction {
    /// Open a new WebSocket to the same endpoint and send op 7 Resume; UDP,
    /// crypto and DAVE state are kept. If the resume itself fails, fall
    /// back to [`CloseAction::Rejoin`].
    Resume,
    /// The voice (or stream) session is gone: obtain a new one through the
    /// main gateway (new VOICE_STATE_UPDATE / VOICE_SERVER_UPDATE, or a new
    /// stream watch/create), then Identify.
    Rejoin,
    /// Connect again from scratch with the same credentials (new WebSocket,
    /// op 0 Identify, new UDP session). Callers should bound the number of
    /// attempts: some of these codes mean a client bug.
    Reconnect,
    /// Do not reconnect automatically.
    Stop,
}

/// Defines a close-code enum (`$name`) with an `Other(u16)` catch-all, its
/// one number table and reason strings (unknown codes give
/// `<$unknown_prefix><code>_unknown`). Exported for the sibling
/// `gateway-proto` crate, so both gateways' close codes share one
/// definition.
#[doc(hidden)]
#[macro_export]
macro_rules! wire_close_codes {
    (
        $(#[$meta:meta])*
        $name:ident (unknown = $unknown_prefix:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $num:literal => $reason:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// Any other code; never holds a named code's number when
            /// produced by `from_u16`.
            Other(u16),
        }

        impl $name {
            /// From the WebSocket close code.
            pub const fn from_u16(n: u16) -> Self {
                match n {
                    $( $num => Self::$variant, )*
                    other => Self::Other(other),
                }
            }

            /// The WebSocket close code.
            pub const fn as_u16(self) -> u16 {
                match self {
                    $( Self::$variant => $num, )*
                    Self::Other(n) => n,
                }
            }

            /// A snake_case reason for logs and IPC.
            pub fn reason_str(self) -> std::borrow::Cow<'static, str> {
                match self {
                    $( Self::$variant => std::borrow::Cow::Borrowed($reason), )*
                    Self::Other(n) => std::borrow::Cow::Owned(format!(concat!($unknown_prefix, "{}_unknown"), n)),
                }
            }
        }

        impl From<u16> for $name {
            fn from(n: u16) -> Self {
                Self::from_u16(n)
            }
        }

        impl From<$name> for u16 {
            fn from(c: $name) -> u16 {
                c.as_u16()
            }
        }

        #[cfg(test)]
        mod wire_close_codes_tests {
            #[test]
            fn numbers_round_trip() {
                for n in 0..=u16::MAX {
                    assert_eq!(super::$name::from_u16(n).as_u16(), n);
                }
            }
        }
    };
}

crate::wire_close_codes! {
    /// A voice gateway close code (official opcode table plus the
    /// user-docs' 4013), or [`CloseCode::Other`].
    CloseCode (unknown = "close_") {
    /// 1000: normal closure.
    Normal = 1000 => "close_1000_normal",
    /// 1001: going away.
    GoingAway = 1001 => "close_1001_going_away",
    /// 1006: abnormal closure (connection dropped without a close frame;
    /// reported locally, never sent).
    Abnormal = 1006 => "close_1006_abnormal",
    /// 4001: unknown opcode sent.
    UnknownOpcode = 4001 => "close_4001_unknown_opcode",
    /// 4002: payload could not be decoded.
    FailedToDecode = 4002 => "close_4002_failed_to_decode",
    /// 4003: a message was sent before Identify.
    NotAuthenticated = 4003 => "close_4003_not_authenticated",
    /// 4004: wrong token.
    AuthenticationFailed = 4004 => "close_4004_authentication_failed",
    /// 4005: Identify sent twice.
    AlreadyAuthenticated = 4005 => "close_4005_already_authenticated",
    /// 4006: the session is no longer valid.
    SessionNoLongerValid = 4006 => "close_4006_session_no_longer_valid",
    /// 4009: session timed out.
    SessionTimeout = 4009 => "close_4009_session_timeout",
    /// 4011: voice server not found.
    ServerNotFound = 4011 => "close_4011_server_not_found",
    /// 4012: unknown protocol in Select Protocol.
    UnknownProtocol = 4012 => "close_4012_unknown_protocol",
    /// 4013: WebRTC crashed, try resuming (user-docs only).
    WebRtcCrashed = 4013 => "close_4013_webrtc_crashed",
    /// 4014: disconnected (kicked, channel moved, or the main gateway
    /// session dropped).
    Disconnected = 4014 => "close_4014_disconnected",
    /// 4015: the voice server crashed; resume.
    VoiceServerCrashed = 4015 => "close_4015_voice_server_crashed",
    /// 4016: unknown encryption mode.
    UnknownEncryptionMode = 4016 => "close_4016_unknown_encryption_mode",
    /// 4017: E2EE (DAVE) required.
    E2eeRequired = 4017 => "close_4017_e2ee_required",
    /// 4020: bad request.
    BadRequest = 4020 => "close_4020_bad_request",
    /// 4021: rate limited; do not reconnect.
    RateLimited = 4021 => "close_4021_rate_limited",
    /// 4022: call terminated (channel deleted, voice server changed).
    CallTerminated = 4022 => "close_4022_call_terminated",
    }
}

impl CloseCode {
    /// The recovery policy (fact sheet §1.14).
    ///
    /// * [`Resume`](CloseAction::Resume): every code below 4000, 1000 and
    ///   1001 included (network drops such as 1006, a server's normal
    ///   close), 4013 and 4015. Decision (issue 15, item 8): a voice
    ///   server that closes with 1000/1001 has not ended the session, so
    ///   the client resumes; only codes ≥ 4000 carry a verdict. Witnesses:
    ///   @discordjs/voice `packages/voice/src/networking/Networking.ts`
    ///   `onWsClose`: `const canResume = code === 4_015 || code < 4_000;`
    ///   (1000/1001 resume); Discord-video-stream
    ///   `src/client/voice/BaseMediaConnection.ts` (Discord-RE, 601347a):
    ///   `const canResume = e.code === 4_015 || e.code < 4_000;`. A resume
    ///   that the server refuses is answered with 4006, which re-joins.
    /// * [`Rejoin`](CloseAction::Rejoin): 4006, and 4009. Sources disagree
    ///   on 4009 (serenity-voice-model resumes, the docs say the session
    ///   timed out); a resume would be answered with another close, so a new
    ///   session is requested straight away.
    /// * [`Stop`](CloseAction::Stop): 4004 (retrying the same token cannot
    ///   succeed); 4014 (disconnected — the owner of the main gateway
    ///   decides whether to re-join, e.g. after its own reconnect); 4017
    ///   (E2EE/DAVE required: retrying with the same Identify cannot
    ///   succeed — discord-api-docs `opcodes-and-status-codes`, PR #8167);
    ///   4021, 4022 (the server says don't); 4012, 4016, 4020 (the request
    ///   we would send again is the bug).
    /// * [`Reconnect`](CloseAction::Reconnect): 4001–4003, 4005, 4011 and
    ///   unknown codes ≥ 4000.
    pub fn action(self) -> CloseAction {
        use CloseAction::{Reconnect, Rejoin, Resume, Stop};
        match self {
            Self::Normal
            | Self::GoingAway
            | Self::Abnormal
            | Self::WebRtcCrashed
            | Self::VoiceServerCrashed => Resume,
            Self::SessionNoLongerValid | Self::SessionTimeout => Rejoin,
            Self::AuthenticationFailed
            | Self::Disconnected
            | Self::E2eeRequired
            | Self::RateLimited
            | Self::CallTerminated
            | Self::UnknownProtocol
            | Self::UnknownEncryptionMode
            | Self::BadRequest => Stop,
            Self::UnknownOpcode
            | Self::FailedToDecode
            | Self::NotAuthenticated
            | Self::AlreadyAuthenticated
            | Self::ServerNotFound => Reconnect,
            Self::Other(n) if n < 4000 => Resume,
            Self::Other(_) => Reconnect,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // numbers_round_trip: generated by `wire_close_codes!`.

    /// Issue 15 item 8: every code below 4000 resumes, 1000/1001 included
    /// (@discordjs/voice `Networking.ts` and Discord-video-stream
    /// `BaseMediaConnection.ts`: `canResume = code === 4_015 || code <
    /// 4_000`). Fails on the old policy, which stopped on 1000/1001.
    #[test]
    fn every_code_below_4000_resumes() {
        for n in 0..4000u16 {
            assert_eq!(
                CloseCode::from_u16(n).action(),
                CloseAction::Resume,
                "code {n}"
            );
        }
    }

    #[test]
    fn policy_table() {
        let expect = [
            (1000, CloseAction::Resume),
            (1001, CloseAction::Resume),
            (1006, CloseAction::Resume),
            (1011, CloseAction::Resume),
            (4001, CloseAction::Reconnect),
            (4002, CloseAction::Reconnect),
            (4003, CloseAction::Reconnect),
            (4004, CloseAction::Stop),
            (4006, CloseAction::Rejoin),
            (4009, CloseAction::Rejoin),
            (4011, CloseAction::Reconnect),
            (4014, CloseAction::Stop),
            (4015, CloseAction::Resume),
            (4016, CloseAction::Stop),
            (4017, CloseAction::Stop),
            (4021, CloseAction::Stop),
            (4022, CloseAction::Stop),
            (4999, CloseAction::Reconnect),
        ];
        for (code, action) in expect {
            assert_eq!(CloseCode::from_u16(code).action(), action, "code {code}");
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(
            CloseCode::from_u16(4014).reason_str(),
            "close_4014_disconnected"
        );
        assert_eq!(CloseCode::from_u16(4100).reason_str(), "close_4100_unknown");
        // Every named reason starts with its own code.
        for n in [1000u16, 1001, 1006, 4001, 4006, 4009, 4017, 4022] {
            let r = CloseCode::from_u16(n).reason_str();
            assert!(r.starts_with(&format!("close_{n}_")), "{r}");
            assert!(
                r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            );
        }
    }
}
