//! Set-up shared by the core's socket-free tests: a voice room with our
//! client granted, one simulated participant and the client's WebSocket
//! open, before any message.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use voice_proto::Secret;

use super::{Command, Core};
use crate::config::{ParticipantSpec, RoomId, RoomKind, SessionGrant, VoiceServerConfig};

/// The voice room (guild 1, channel 2).
pub(super) const ROOM: RoomId = RoomId(1);
/// Our client's user id (session "s", token "t").
pub(super) const CLIENT: u64 = 10;
/// Our client's WebSocket connection.
pub(super) const CONN: u64 = 1;

/// The UDP address our client's op 1 declares.
pub(super) fn client_addr() -> SocketAddr {
    "127.0.0.1:5".parse().expect("literal")
}

/// A core seeded with `seed` at `now`: [`CLIENT`] granted in [`ROOM`],
/// `participant` in the room, and [`CONN`] opened as gateway v8.
pub(super) fn voice_core(seed: u64, participant: ParticipantSpec, now: Instant) -> Core {
    let shared = Arc::new(Mutex::new(Default::default()));
    let mut c = Core::new(VoiceServerConfig::default(), 1, 2, seed, now, 0, shared);
    c.on_command(
        Command::Grant(SessionGrant {
            room: ROOM,
            user_id: CLIENT,
            session_id: Secret::new("s"),
            token: Secret::new("t"),
            kind: RoomKind::Voice {
                guild_id: 1,
                channel_id: 2,
            },
        }),
        now,
    );
    c.on_command(Command::AddParticipant(ROOM, participant), now);
    c.on_ws_open(CONN, 8, now);
    c
}
