//! Voice gateway opcodes and the gateway version.

/// Defines an opcode enum (`$name`) with an `Unknown(u8)` catch-all and
/// its one conversion table to/from `u8`. Exported for the sibling
/// `gateway-proto` crate, so both gateways' opcodes share one definition.
#[doc(hidden)]
#[macro_export]
macro_rules! wire_opcodes {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $num:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// Any other number; `from_u8` never puts a named opcode's
            /// number here.
            Unknown(u8),
        }

        impl $name {
            /// The opcode for a wire number.
            pub const fn from_u8(n: u8) -> Self {
                match n {
                    $( $num => Self::$variant, )*
                    other => Self::Unknown(other),
                }
            }

            /// The wire number.
            pub const fn as_u8(self) -> u8 {
                match self {
                    $( Self::$variant => $num, )*
                    Self::Unknown(n) => n,
                }
            }
        }
    };
}

crate::wire_opcodes! {
    /// A voice gateway opcode (numbering per the official opcode table and
    /// the user-docs: 12 = Video, 14 = Session Update, 15 = Media Sink
    /// Wants, 16 = Backend Version, 18 = Client Flags, 20 = Client Platform;
    /// serenity-voice-model's older numbering is not used).
    ///
    /// Unknown numbers are a value ([`VoiceOpcode::Unknown`], including 10,
    /// an obsolete "signal" opcode), never an error, so a new server opcode
    /// cannot break a session.
    VoiceOpcode {
    /// 0, C→S: start a session ([`crate::Identify`]).
    Identify = 0,
    /// 1, C→S: choose transport and codecs ([`crate::SelectProtocol`]).
    SelectProtocol = 1,
    /// 2, S→C: SSRC, UDP endpoint, modes ([`crate::Ready`]).
    Ready = 2,
    /// 3, C→S (S→C = "heartbeat now"): [`crate::Heartbeat`].
    Heartbeat = 3,
    /// 4, S→C: key and negotiated codecs ([`crate::SessionDescription`]).
    SessionDescription = 4,
    /// 5, both: speaking state ([`crate::Speaking`]).
    Speaking = 5,
    /// 6, S→C: [`crate::HeartbeatAck`].
    HeartbeatAck = 6,
    /// 7, C→S: [`crate::Resume`].
    Resume = 7,
    /// 8, S→C: [`crate::Hello`].
    Hello = 8,
    /// 9, S→C: resume accepted (payload `null`).
    Resumed = 9,
    /// 11, S→C: users present / joining ([`crate::ClientsConnect`]).
    ClientsConnect = 11,
    /// 12, both: video SSRC announcement ([`crate::Video`]).
    Video = 12,
    /// 13, S→C: a user left ([`crate::ClientDisconnect`]).
    ClientDisconnect = 13,
    /// 14, both: codec/session changes ([`crate::SessionUpdate`]).
    SessionUpdate = 14,
    /// 15, both: wanted layers per SSRC ([`crate::MediaSinkWants`]).
    MediaSinkWants = 15,
    /// 16, both: backend version query/answer ([`crate::BackendVersion`]).
    VoiceBackendVersion = 16,
    /// 17, S→C: deprecated channel options update (untyped).
    ChannelOptionsUpdate = 17,
    /// 18, S→C: a user's client flags ([`crate::ClientFlags`]).
    ClientFlags = 18,
    /// 19, S→C: speed test (untyped).
    SpeedTest = 19,
    /// 20, S→C: a user's platform ([`crate::ClientPlatform`]).
    ClientPlatform = 20,
    /// 21, S→C: DAVE prepare transition.
    DavePrepareTransition = 21,
    /// 22, S→C: DAVE execute transition.
    DaveExecuteTransition = 22,
    /// 23, C→S: DAVE ready for transition.
    DaveTransitionReady = 23,
    /// 24, S→C: DAVE prepare epoch.
    DavePrepareEpoch = 24,
    /// 25, S→C binary: MLS external sender package.
    MlsExternalSender = 25,
    /// 26, C→S binary: MLS key package.
    MlsKeyPackage = 26,
    /// 27, S→C binary: MLS proposals.
    MlsProposals = 27,
    /// 28, C→S binary: MLS commit (+ welcome).
    MlsCommitWelcome = 28,
    /// 29, S→C binary: MLS announce commit transition.
    MlsAnnounceCommitTransition = 29,
    /// 30, S→C binary: MLS welcome.
    MlsWelcome = 30,
    /// 31, C→S: MLS invalid commit/welcome.
    MlsInvalidCommitWelcome = 31,
    /// 32, C→S: no RTC route could be established (user-docs only).
    NoRoute = 32,
    }
}

impl VoiceOpcode {
    /// True for the DAVE opcodes carried in binary WebSocket frames (25–30).
    pub const fn is_binary(self) -> bool {
        matches!(self.as_u8(), 25..=30)
    }
}

impl From<u8> for VoiceOpcode {
    fn from(n: u8) -> Self {
        Self::from_u8(n)
    }
}

impl From<VoiceOpcode> for u8 {
    fn from(op: VoiceOpcode) -> u8 {
        op.as_u8()
    }
}

/// The voice gateway protocol version (`?v=N` in the URL).
///
/// It changes wire shapes: from v8 the server adds `seq` to replayable
/// messages, heartbeats become objects carrying `seq_ack`, and binary
/// server frames get a 2-byte sequence prefix; v9 adds `channel_id` to
/// Identify and Resume (user-docs only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GatewayVersion(pub u8);

impl GatewayVersion {
    /// v4: bitmask speaking; used by songbird. Oldest version still accepted.
    pub const V4: Self = Self(4);
    /// v8: buffered resume and sequence numbers (recommended by the docs).
    pub const V8: Self = Self(8);
    /// v9: v8 plus `channel_id` in Identify/Resume.
    pub const V9: Self = Self(9);

    /// True when server messages carry `seq`, heartbeats are
    /// `{t, seq_ack}` objects and binary server frames have a seq prefix.
    pub const fn has_seq(self) -> bool {
        self.0 >= 8
    }

    /// True when Identify and Resume carry `channel_id`.
    pub const fn has_channel_id(self) -> bool {
        self.0 >= 9
    }

    /// The WebSocket URL for an `endpoint` as given by VOICE_SERVER_UPDATE
    /// or STREAM_SERVER_UPDATE (`host:port`, no scheme).
    pub fn url(self, endpoint: &str) -> String {
        format!("wss://{endpoint}/?v={}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_is_a_bijection_on_u8() {
        for n in 0..=u8::MAX {
            let op = VoiceOpcode::from_u8(n);
            assert_eq!(op.as_u8(), n);
            if let VoiceOpcode::Unknown(_) = op {
                assert!(n == 10 || n > 32, "{n} should be named");
            }
        }
    }

    #[test]
    fn documented_numbers() {
        assert_eq!(VoiceOpcode::from_u8(12), VoiceOpcode::Video);
        assert_eq!(VoiceOpcode::from_u8(14), VoiceOpcode::SessionUpdate);
        assert_eq!(VoiceOpcode::from_u8(15), VoiceOpcode::MediaSinkWants);
        assert_eq!(VoiceOpcode::from_u8(16), VoiceOpcode::VoiceBackendVersion);
        assert_eq!(VoiceOpcode::from_u8(18), VoiceOpcode::ClientFlags);
        assert_eq!(VoiceOpcode::from_u8(20), VoiceOpcode::ClientPlatform);
        assert_eq!(VoiceOpcode::from_u8(10), VoiceOpcode::Unknown(10));
        assert!(VoiceOpcode::MlsAnnounceCommitTransition.is_binary());
        assert!(!VoiceOpcode::MlsInvalidCommitWelcome.is_binary());
        assert!(!VoiceOpcode::DavePrepareEpoch.is_binary());
    }

    #[test]
    fn version_features() {
        assert!(!GatewayVersion::V4.has_seq());
        assert!(GatewayVersion::V8.has_seq());
        assert!(!GatewayVersion::V8.has_channel_id());
        assert!(GatewayVersion::V9.has_channel_id());
        assert_eq!(
            GatewayVersion::V8.url("c-fra05.discord.media:443"),
            "wss://c-fra05.discord.media:443/?v=8"
        );
    }
}
