//! Main gateway WebSocket close codes and the reconnect policy.

voice_proto::wire_close_codes! {
    /// A main gateway close code (official table), or
    /// [`GatewayCloseCode::Other`] (including the user-account-only 4015/4016).
    GatewayCloseCode (unknown = "gateway_close_") {
    /// 1000: normal closure.
    Normal = 1000 => "gateway_close_1000_normal",
    /// 1001: going away.
    GoingAway = 1001 => "gateway_close_1001_going_away",
    /// 1006: connection dropped without a close frame (local only).
    Abnormal = 1006 => "gateway_close_1006_abnormal",
    /// 4000: unknown error.
    UnknownError = 4000 => "gateway_close_4000_unknown_error",
    /// 4001: unknown opcode.
    UnknownOpcode = 4001 => "gateway_close_4001_unknown_opcode",
    /// 4002: decode error.
    DecodeError = 4002 => "gateway_close_4002_decode_error",
    /// 4003: payload before Identify, or session invalidated.
    NotAuthenticated = 4003 => "gateway_close_4003_not_authenticated",
    /// 4004: invalid token.
    AuthenticationFailed = 4004 => "gateway_close_4004_authentication_failed",
    /// 4005: Identify sent twice.
    AlreadyAuthenticated = 4005 => "gateway_close_4005_already_authenticated",
    /// 4007: invalid seq in Resume.
    InvalidSeq = 4007 => "gateway_close_4007_invalid_seq",
    /// 4008: rate limited.
    RateLimited = 4008 => "gateway_close_4008_rate_limited",
    /// 4009: session timed out.
    SessionTimedOut = 4009 => "gateway_close_4009_session_timed_out",
    /// 4010: invalid shard.
    InvalidShard = 4010 => "gateway_close_4010_invalid_shard",
    /// 4011: sharding required.
    ShardingRequired = 4011 => "gateway_close_4011_sharding_required",
    /// 4012: invalid API version.
    InvalidApiVersion = 4012 => "gateway_close_4012_invalid_api_version",
    /// 4013: invalid intents.
    InvalidIntents = 4013 => "gateway_close_4013_invalid_intents",
    /// 4014: disallowed (privileged, not enabled) intents.
    DisallowedIntents = 4014 => "gateway_close_4014_disallowed_intents",
    }
}

impl GatewayCloseCode {
    /// Whether to connect again at all. False for codes that retrying
    /// cannot fix: 4004 (bad token) and 4010–4014 (shard/version/intent
    /// configuration).
    pub fn should_reconnect(self) -> bool {
        !matches!(
            self,
            Self::AuthenticationFailed
                | Self::InvalidShard
                | Self::ShardingRequired
                | Self::InvalidApiVersion
                | Self::InvalidIntents
                | Self::DisallowedIntents
        )
    }

    /// Whether the session survives, so the reconnect may send Resume
    /// instead of Identify.
    ///
    /// True for network drops (1006 and other codes below 4000 except
    /// 1000/1001), 4000–4002, 4005 and 4008. False for 4003 (session
    /// invalidated), 4007 (bad seq) and 4009 (timed out), which need a
    /// fresh Identify; false for 1000/1001, which end the session; false for
    /// unknown codes ≥ 4000 (identifying afresh is always safe) and for
    /// everything [`Self::should_reconnect`] rejects.
    pub fn can_resume(self) -> bool {
        match self {
            Self::Normal | Self::GoingAway => false,
            Self::Abnormal
            | Self::UnknownError
            | Self::UnknownOpcode
            | Self::DecodeError
            | Self::AlreadyAuthenticated
            | Self::RateLimited => true,
            Self::Other(n) => n < 4000,
            _ => false,
        }
    }

    /// True when *sending* this code ends the session on Discord's side
    /// (1000 and 1001). A client that intends to resume (e.g. after a
    /// missed heartbeat ACK) must close with any other code.
    pub fn invalidates_session_when_sent(self) -> bool {
        matches!(self, Self::Normal | Self::GoingAway)
    }
}

impl From<u16> for GatewayCloseCode {
    fn from(n: u16) -> Self {
        Self::from_u16(n)
    }
}

impl From<GatewayCloseCode> for u16 {
    fn from(c: GatewayCloseCode) -> u16 {
        c.as_u16()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in 0..=u16::MAX {
            assert_eq!(GatewayCloseCode::from_u16(n).as_u16(), n);
        }
    }

    #[test]
    fn policy_table() {
        // (code, should_reconnect, can_resume)
        let table = [
            (1000, true, false),
            (1001, true, false),
            (1006, true, true),
            (4000, true, true),
            (4003, true, false),
            (4004, false, false),
            (4005, true, true),
            (4007, true, false),
            (4008, true, true),
            (4009, true, false),
            (4010, false, false),
            (4014, false, false),
            (4015, true, false),
        ];
        for (code, reconnect, resume) in table {
            let c = GatewayCloseCode::from_u16(code);
            assert_eq!(c.should_reconnect(), reconnect, "{code} reconnect");
            assert_eq!(c.can_resume(), resume, "{code} resume");
        }
        assert!(GatewayCloseCode::Normal.invalidates_session_when_sent());
        assert!(!GatewayCloseCode::from_u16(4000).invalidates_session_when_sent());
        assert_eq!(
            GatewayCloseCode::from_u16(4004).reason_str(),
            "gateway_close_4004_authentication_failed"
        );
    }
}
