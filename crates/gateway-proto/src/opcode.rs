//! Main gateway opcodes.

voice_proto::wire_opcodes! {
    /// A main gateway opcode, including the user-account Go Live opcodes
    /// 18–22. Unknown numbers are a value, never an error.
    GatewayOpcode {
    /// 0, S→C: an event (`t`, `s`).
    Dispatch = 0,
    /// 1, both: heartbeat (`d` = last seq or null).
    Heartbeat = 1,
    /// 2, C→S: identify.
    Identify = 2,
    /// 3, C→S: presence update (not modelled).
    PresenceUpdate = 3,
    /// 4, C→S: join/leave/move voice.
    VoiceStateUpdate = 4,
    /// 5, C→S: voice server ping (`null`).
    VoiceServerPing = 5,
    /// 6, C→S: resume.
    Resume = 6,
    /// 7, S→C: reconnect and resume.
    Reconnect = 7,
    /// 8, C→S: request guild members (not modelled).
    RequestGuildMembers = 8,
    /// 9, S→C: invalid session (`d` = resumable).
    InvalidSession = 9,
    /// 10, S→C: hello.
    Hello = 10,
    /// 11, S→C: heartbeat ACK.
    HeartbeatAck = 11,
    /// 18, C→S: start a Go Live stream.
    StreamCreate = 18,
    /// 19, C→S: stop (owner) or leave (viewer) a stream.
    StreamDelete = 19,
    /// 20, C→S: watch a stream.
    StreamWatch = 20,
    /// 21, C→S: ask the gateway to check a stream server.
    StreamPing = 21,
    /// 22, C→S: pause/unpause own stream.
    StreamSetPaused = 22,
    }
}

impl From<u8> for GatewayOpcode {
    fn from(n: u8) -> Self {
        Self::from_u8(n)
    }
}

impl From<GatewayOpcode> for u8 {
    fn from(op: GatewayOpcode) -> u8 {
        op.as_u8()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_is_a_bijection_on_u8() {
        for n in 0..=u8::MAX {
            let op = GatewayOpcode::from_u8(n);
            assert_eq!(op.as_u8(), n);
            let named = n <= 11 || (18..=22).contains(&n);
            assert_eq!(!matches!(op, GatewayOpcode::Unknown(_)), named, "{n}");
        }
        assert_eq!(GatewayOpcode::from_u8(20), GatewayOpcode::StreamWatch);
    }
}
