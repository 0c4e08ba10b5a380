//! DAVE: the server as MLS external sender of every room's group (through
//! `sim-dave`), simulated participants as in-process MLS members
//! (`SimMember`), and the framing of DAVE messages for clients: JSON ops
//! 21/22/24 and binary ops 25/27/29/30, numbered with the session's JSON
//! `seq` counter (v8+) and kept for replay like every numbered message.
//!
//! Op 11 / op 13 are not taken from the gateway for clients: the server
//! already announces every arrival and departure (`announce_room_to`,
//! `add_participant`, `remove_session`), always before the user is
//! connected to (or after it left) the DAVE group, so clients recognise a
//! user before its add proposal arrives. Simulated members get the
//! gateway's op 11 / op 13, as they see no other messages.

use std::time::Instant;

use rand::Rng;
use rand::rngs::StdRng;
use sim_dave::{
    ClientDaveMsg, DaveGateway, GatewaySigner, ProposalsOp, Recipient, ServerDaveMsg, SimMember,
};
use voice_proto::{
    DaveBinary, ExecuteTransition, PrepareEpoch, PrepareTransition, ProposalsOperation,
    VoiceMessage,
};

use super::{Core, Output, Room, SessionKey, WsFrame};
use crate::config::{RoomId, RoomKind};
use crate::report::{RoomReport, SessionReport};

/// Highest DAVE protocol version the server speaks.
const DAVE_VERSION: u16 = 1;
/// Gateway outputs handled per pump at most (a bound against members and
/// the gateway feeding each other forever).
const MAX_PUMP: usize = 10_000;
/// Longest error text kept in a report.
const MAX_ERROR_LEN: usize = 200;

/// The room's MLS group id: the voice channel id, or `rtc_server_id - 1`
/// for a Go Live stream (protocol sheet §3.4).
pub(crate) fn group_id(kind: &RoomKind) -> u64 {
    match kind {
        RoomKind::Voice { channel_id, .. } => *channel_id,
        RoomKind::Stream { rtc_server_id, .. } => rtc_server_id.saturating_sub(1),
    }
}

/// A gateway with a signing key from the server's seeded generator (a
/// fresh random key in the negligible case the seed is not a valid
/// scalar). `None` only if openmls cannot encode the external sender.
pub(super) fn new_gateway(rng: &mut StdRng) -> Option<DaveGateway> {
    let mut seed = [0u8; 32];
    rng.fill(&mut seed);
    let signer = GatewaySigner::from_seed(seed).unwrap_or_else(|_| GatewaySigner::generate());
    DaveGateway::new(&signer).ok()
}

/// Counts a refused DAVE message in the session report.
pub(super) fn record_error(report: &mut SessionReport, mut message: String) {
    report.dave_errors += 1;
    if message.len() > MAX_ERROR_LEN {
        let mut cut = MAX_ERROR_LEN;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
    }
    report.dave_last_error = Some(message);
}

/// Whether `frame` carries a DAVE trailer (§3.7: magic `FA FA` at the end,
/// a supplemental size that fits the frame). Only such frames are given
/// to a decryptor; others are passed through.
pub(super) fn is_dave_frame(frame: &[u8]) -> bool {
    let n = frame.len();
    if n < 11 || !frame.ends_with(&[0xFA, 0xFA]) {
        return false;
    }
    frame
        .get(n - 3)
        .is_some_and(|&size| size >= 11 && usize::from(size) <= n)
}

/// A gateway message as a client sees it: JSON or binary.
enum ClientFrame {
    Json(VoiceMessage),
    Binary(DaveBinary),
}

fn client_frame(msg: &ServerDaveMsg) -> Option<ClientFrame> {
    Some(match msg {
        ServerDaveMsg::PrepareTransition {
            transition_id,
            protocol_version,
        } => ClientFrame::Json(VoiceMessage::DavePrepareTransition(PrepareTransition {
            transition_id: *transition_id,
            protocol_version: *protocol_version,
        })),
        ServerDaveMsg::ExecuteTransition { transition_id } => {
            ClientFrame::Json(VoiceMessage::DaveExecuteTransition(ExecuteTransition {
                transition_id: *transition_id,
            }))
        }
        ServerDaveMsg::PrepareEpoch {
            protocol_version,
            epoch,
        } => ClientFrame::Json(VoiceMessage::DavePrepareEpoch(PrepareEpoch {
            protocol_version: *protocol_version,
            epoch: *epoch,
        })),
        ServerDaveMsg::ExternalSender(b) => {
            ClientFrame::Binary(DaveBinary::ExternalSender(b.clone()))
        }
        ServerDaveMsg::Proposals { operation, vector } => {
            ClientFrame::Binary(DaveBinary::Proposals {
                operation: match operation {
                    ProposalsOp::Append => ProposalsOperation::Append,
                    ProposalsOp::Revoke => ProposalsOperation::Revoke,
                },
                proposals: vector.clone(),
            })
        }
        ServerDaveMsg::AnnounceCommit {
            transition_id,
            commit,
        } => ClientFrame::Binary(DaveBinary::AnnounceCommitTransition {
            transition_id: *transition_id,
            commit: commit.clone(),
        }),
        ServerDaveMsg::Welcome {
            transition_id,
            welcome,
        } => ClientFrame::Binary(DaveBinary::Welcome {
            transition_id: *transition_id,
            welcome: welcome.clone(),
        }),
        // Op 11 / op 13 come from the room announcements (module docs).
        _ => return None,
    })
}

impl Core {
    /// The MLS group of a room (needs the room's kind, i.e. a grant).
    fn room_group(&self, room: RoomId) -> Option<u64> {
        self.rooms.get(&room)?.kind.as_ref().map(group_id)
    }

    /// Whether `room` is a DAVE room: the server offers DAVE and the room
    /// has an MLS group (every voice and stream room does). A client must
    /// offer DAVE to join it (`identify` closes it with 4017 otherwise).
    pub(super) fn dave_required(&self, room: RoomId) -> bool {
        self.dave.is_some() && self.room_group(room).is_some()
    }

    /// The `dave_protocol_version` for a session's op 4.
    pub(super) fn dave_version_for(&self, key: SessionKey) -> u16 {
        let asked = self.sessions.get(&key).map_or(0, |s| s.dave_max);
        if self.dave.is_some() && asked >= 1 && self.room_group(key.0).is_some() {
            DAVE_VERSION
        } else {
            0
        }
    }

    /// Connects a session that negotiated DAVE to its room's group (it
    /// receives op 25 and takes part from then on).
    pub(super) fn dave_connect(&mut self, key: SessionKey, now: Instant) {
        let Some(group) = self.room_group(key.0) else {
            return;
        };
        if self
            .sessions
            .get(&key)
            .is_none_or(|s| s.dave_group.is_some())
        {
            return;
        }
        let Some(gw) = self.dave.as_mut() else {
            return;
        };
        self.dave_rooms.insert(group, key.0);
        let result = gw.group_mut(group).client_connected(key.1);
        if let Some(s) = self.sessions.get_mut(&key) {
            match result {
                Ok(()) => s.dave_group = Some(group),
                Err(e) => record_error(&mut s.report, format!("connect: {e}")),
            }
        }
        self.dave_pump(now);
    }

    /// A user (session or simulated member) left `group`.
    pub(super) fn dave_disconnect(&mut self, group: u64, user: u64, now: Instant) {
        let Some(gw) = self.dave.as_mut() else {
            return;
        };
        // Unknown users are fine: nothing to remove.
        let _ = gw.group_mut(group).client_disconnected(user, now);
        self.dave_pump(now);
    }

    /// Makes every DAVE participant of `room` a member client of the
    /// room's group (once the room's kind, hence its group, is known).
    pub(super) fn dave_sync_room(&mut self, room: RoomId, now: Instant) {
        if self.dave.is_none() {
            return;
        }
        let Some(group) = self.room_group(room) else {
            return;
        };
        let Some(r) = self.rooms.get_mut(&room) else {
            return;
        };
        let mut joined = Vec::new();
        for p in r.participants.values_mut() {
            if !p.spec.dave || p.dave.is_some() {
                continue;
            }
            if let Ok(m) = SimMember::new(p.spec.user_id, group, DAVE_VERSION) {
                p.dave = Some(m);
                joined.push(p.spec.user_id);
            }
        }
        if joined.is_empty() {
            return;
        }
        self.dave_rooms.insert(group, room);
        if let Some(gw) = self.dave.as_mut() {
            for user in joined {
                if gw.group_mut(group).client_connected(user).is_err() {
                    // The user id is taken by a client session: no member.
                    if let Some(p) = self
                        .rooms
                        .get_mut(&room)
                        .and_then(|r| r.participants.get_mut(&user))
                    {
                        p.dave = None;
                    }
                }
            }
        }
        self.dave_pump(now);
    }

    /// A DAVE message from a client session.
    pub(super) fn on_dave_client(&mut self, key: SessionKey, msg: ClientDaveMsg, now: Instant) {
        let Some(s) = self.sessions.get_mut(&key) else {
            return;
        };
        let Some(group) = s.dave_group else {
            record_error(&mut s.report, "DAVE was not negotiated".to_owned());
            return;
        };
        let Some(gw) = self.dave.as_mut() else {
            return;
        };
        match gw.group_mut(group).handle_client(key.1, msg, now) {
            Ok(()) => {}
            Err(e) if e.is_lost_race() => s.report.dave_lost_commit_races += 1,
            Err(e) => record_error(&mut s.report, e.to_string()),
        }
        self.dave_pump(now);
    }

    /// Transitions whose op 23 wait timed out.
    pub(super) fn dave_timeout(&mut self, now: Instant) {
        let Some(gw) = self.dave.as_mut() else {
            return;
        };
        if gw.poll_timeout().is_some_and(|t| t <= now) {
            gw.handle_timeout(now);
            self.dave_pump(now);
        }
    }

    /// Delivers the gateway's outputs, in order: to client sessions over
    /// their WebSocket, to simulated members in-process (their replies go
    /// straight back to the gateway and are delivered by the same loop).
    pub(super) fn dave_pump(&mut self, now: Instant) {
        for _ in 0..MAX_PUMP {
            let Some(out) = self.dave.as_mut().and_then(DaveGateway::poll_output) else {
                return;
            };
            let Some(&room) = self.dave_rooms.get(&out.group_id) else {
                continue;
            };
            let users = match out.recipient {
                Recipient::User(u) => vec![u],
                Recipient::Broadcast => self
                    .dave
                    .as_ref()
                    .and_then(|d| d.group(out.group_id))
                    .map(|g| g.connected_users())
                    .unwrap_or_default(),
            };
            for user in users {
                let key = (room, user);
                if self
                    .sessions
                    .get(&key)
                    .is_some_and(|s| s.dave_group == Some(out.group_id))
                {
                    self.dave_to_session(key, &out.msg);
                } else {
                    self.dave_to_member(room, out.group_id, user, &out.msg, now);
                }
            }
        }
    }

    fn dave_to_member(
        &mut self,
        room: RoomId,
        group: u64,
        user: u64,
        msg: &ServerDaveMsg,
        now: Instant,
    ) {
        let Some(member) = self
            .rooms
            .get_mut(&room)
            .and_then(|r| r.participants.get_mut(&user))
            .and_then(|p| p.dave.as_mut())
        else {
            return;
        };
        let replies = member.handle(msg);
        let Some(gw) = self.dave.as_mut() else {
            return;
        };
        for reply in replies {
            // A refused reply from our own member is a race (e.g. a lost
            // commit race); the gateway's state stays consistent.
            let _ = gw.group_mut(group).handle_client(user, reply, now);
        }
    }

    fn dave_to_session(&mut self, key: SessionKey, msg: &ServerDaveMsg) {
        match client_frame(msg) {
            Some(ClientFrame::Json(m)) => {
                self.send(key, &m, true);
                if let Some(s) = self.sessions.get_mut(&key) {
                    *s.report.dave_ops_sent.entry(msg.opcode()).or_default() += 1;
                }
            }
            Some(ClientFrame::Binary(b)) => self.send_binary(key, &b),
            None => {}
        }
    }

    /// Sends a binary DAVE frame: on v8+ prefixed with the next `seq` of
    /// the session's (JSON) counter and kept for replay.
    fn send_binary(&mut self, key: SessionKey, msg: &DaveBinary) {
        let Some(s) = self.sessions.get_mut(&key) else {
            return;
        };
        let numbered = s.version >= 8;
        let next = s.seq + 1;
        // Binary frames carry the low 16 bits of the shared counter.
        let seq = numbered.then_some((next & 0xFFFF) as u16);
        let Ok(bytes) = msg.encode_server(seq) else {
            return;
        };
        let frame = WsFrame::Binary(bytes);
        if numbered {
            s.seq = next;
            s.replay.push(next, frame.clone());
        }
        *s.report
            .dave_ops_sent
            .entry(msg.opcode().as_u8())
            .or_default() += 1;
        if let Some(c) = s.conn {
            self.out.push_back(Output::Ws(c, frame));
        }
    }

    /// The DAVE part of a room's report.
    pub(super) fn fill_dave_room_report(&self, report: &mut RoomReport, room: &Room) {
        let Some(gw) = self.dave.as_ref() else {
            return;
        };
        let Some(group) = room.kind.as_ref().map(group_id) else {
            return;
        };
        report.dave_group_id = Some(group);
        if let Some(g) = gw.group(group) {
            report.dave_epoch = g.epoch();
            report.dave_protocol_version = g.protocol_version();
            report.dave_members = g.members();
            report.dave_connected = g.connected_users();
            report.dave_commits_accepted = g.commits_accepted();
        }
    }

    /// Whether receiver `r` takes DAVE-encrypted media.
    pub(super) fn is_dave_receiver(&self, r: SessionKey) -> bool {
        self.sessions
            .get(&r)
            .is_some_and(|s| s.dave_group.is_some())
    }
}

/// Decrypts a published access unit of `sender` with whichever simulated
/// member of the room holds the sender's key. `None` if none can.
pub(super) fn decrypt_published(room: &mut Room, sender: u64, frame: &[u8]) -> Option<Vec<u8>> {
    room.participants
        .values_mut()
        .filter_map(|p| p.dave.as_mut())
        .find_map(|m| m.decrypt(sender, true, frame).ok())
}

/// Decrypts a client's DAVE Opus frame with whichever simulated member of
/// the room holds the sender's key. `None` if none can.
pub(super) fn decrypt_audio(room: &mut Room, sender: u64, frame: &[u8]) -> Option<Vec<u8>> {
    room.participants
        .values_mut()
        .filter_map(|p| p.dave.as_mut())
        .find_map(|m| m.decrypt(sender, false, frame).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids_follow_the_room_kind() {
        let voice = RoomKind::Voice {
            guild_id: 1,
            channel_id: 77,
        };
        let stream = RoomKind::Stream {
            stream_key: "guild:1:2:3".to_owned(),
            streamer_id: 3,
            rtc_server_id: 5001,
        };
        assert_eq!(group_id(&voice), 77);
        assert_eq!(group_id(&stream), 5000);
    }

    #[test]
    fn trailer_check_never_panics_and_needs_the_magic() {
        assert!(!is_dave_frame(&[]));
        assert!(!is_dave_frame(&[0xFA, 0xFA]));
        assert!(!is_dave_frame(&[0; 20]));
        let mut f = vec![0u8; 20];
        f[17] = 11;
        f[18] = 0xFA;
        f[19] = 0xFA;
        assert!(is_dave_frame(&f));
        f[17] = 200;
        assert!(!is_dave_frame(&f));
    }

    #[test]
    fn errors_are_truncated_on_a_char_boundary() {
        let mut r = SessionReport::default();
        record_error(&mut r, "é".repeat(300));
        assert_eq!(r.dave_errors, 1);
        assert!(r.dave_last_error.is_some_and(|e| e.len() <= MAX_ERROR_LEN));
    }
}
