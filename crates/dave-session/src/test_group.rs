//! Test support (feature `test-support`, never in a daemon): dave-session
//! clients in a real MLS group run by the simulator's DAVE gateway
//! (`sim-dave`, openmls, an independent external sender). Used by this
//! crate's integration tests and by the `dave_unwrap_group` fuzz target.
//! Sans-IO like the rest of the crate: the caller passes `now`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use sim_dave::{
    ClientDaveMsg, DaveGateway, GatewayConfig, GatewaySigner, Recipient, ServerDaveMsg,
};

use crate::{DaveConfig, DaveError, DaveSession, Outgoing, SessionOutput};

/// A session's reply as the gateway takes it.
pub fn to_client(o: Outgoing) -> ClientDaveMsg {
    match o {
        Outgoing::ReadyForTransition { transition_id } => {
            ClientDaveMsg::ReadyForTransition { transition_id }
        }
        Outgoing::KeyPackage(b) => ClientDaveMsg::KeyPackage(b),
        Outgoing::CommitWelcome(b) => ClientDaveMsg::CommitWelcome(b),
        Outgoing::InvalidCommitWelcome { transition_id } => {
            ClientDaveMsg::InvalidCommitWelcome { transition_id }
        }
    }
}

/// Feeds one gateway message to a session: `None` for a message a
/// session does not take (the gateway's answers to other opcodes), else
/// what the session said.
pub fn deliver(
    s: &mut DaveSession,
    msg: &ServerDaveMsg,
    now: Instant,
) -> Option<Result<(), DaveError>> {
    Some(match msg {
        ServerDaveMsg::ClientsConnect { user_ids } => {
            s.on_clients_connect(user_ids);
            Ok(())
        }
        ServerDaveMsg::ClientDisconnect { user_id } => {
            s.on_client_disconnect(*user_id);
            Ok(())
        }
        ServerDaveMsg::PrepareTransition {
            transition_id,
            protocol_version,
        } => s.on_prepare_transition(*transition_id, *protocol_version, now),
        ServerDaveMsg::ExecuteTransition { transition_id } => {
            s.on_execute_transition(*transition_id, now)
        }
        ServerDaveMsg::PrepareEpoch {
            protocol_version,
            epoch,
        } => s.on_prepare_epoch(*protocol_version, *epoch, now),
        ServerDaveMsg::ExternalSender(b) => s.on_external_sender(b),
        ServerDaveMsg::Proposals { operation, vector } => {
            s.on_proposals(operation.to_byte(), vector)
        }
        ServerDaveMsg::AnnounceCommit {
            transition_id,
            commit,
        } => s.on_announce_commit(*transition_id, commit, now),
        ServerDaveMsg::Welcome {
            transition_id,
            welcome,
        } => s.on_welcome(*transition_id, welcome, now),
        _ => return None,
    })
}

/// A gateway with a fresh signer, protocol version 1 and 2 s transitions.
pub fn gateway() -> DaveGateway {
    let config = GatewayConfig {
        transition_timeout: Duration::from_secs(2),
        initial_protocol_version: 1,
    };
    DaveGateway::with_config(&GatewaySigner::generate(), config).expect("a DAVE gateway")
}

/// Runs the gateway and `sessions` (user, session) of `group` until
/// nobody has anything to say. Session errors and lost commit races are
/// left to the sessions' later state; events are dropped.
///
/// # Panics
/// If the group does not settle within 10 000 rounds.
pub fn pump_sessions(
    gw: &mut DaveGateway,
    group: u64,
    sessions: &mut [(u64, DaveSession)],
    now: Instant,
) {
    fn drain(u: u64, s: &mut DaveSession, replies: &mut VecDeque<(u64, ClientDaveMsg)>) {
        while let Some(o) = s.poll_output() {
            if let SessionOutput::Send(m) = o {
                replies.push_back((u, to_client(m)));
            }
        }
    }
    for _ in 0..10_000 {
        let mut replies = VecDeque::new();
        for (u, s) in sessions.iter_mut() {
            drain(*u, s, &mut replies);
        }
        while let Some(out) = gw.poll_output() {
            let targets: Vec<u64> = match out.recipient {
                Recipient::User(u) => vec![u],
                Recipient::Broadcast => gw.group_mut(group).connected_users(),
            };
            for t in targets {
                if let Some((_, s)) = sessions.iter_mut().find(|(u, _)| *u == t) {
                    let _ = deliver(s, &out.msg, now);
                    drain(t, s, &mut replies);
                }
            }
        }
        if replies.is_empty() {
            return;
        }
        while let Some((u, msg)) = replies.pop_front() {
            let _ = gw.group_mut(group).handle_client(u, msg, now);
        }
    }
    panic!("the DAVE group did not settle");
}

/// Two sessions, `a` then `b`, joined (op 4, protocol version 1) into
/// `group` through a fresh gateway: both in epoch 1 holding each other's
/// keys.
///
/// # Panics
/// If either is not in the group with keys afterwards.
pub fn two_members(group: u64, a: u64, b: u64, now: Instant) -> (DaveSession, DaveSession) {
    let mut gw = gateway();
    let mut sessions: Vec<(u64, DaveSession)> = Vec::new();
    for user in [a, b] {
        let mut s = DaveSession::new(user, group, DaveConfig::default());
        gw.group_mut(group)
            .client_connected(user)
            .expect("client connects");
        s.on_session_description(1, now).expect("op 4");
        sessions.push((user, s));
        pump_sessions(&mut gw, group, &mut sessions, now);
    }
    let (_, sb) = sessions.pop().expect("b");
    let (_, sa) = sessions.pop().expect("a");
    assert_eq!(sa.epoch(), Some(1), "{a} in the group");
    assert_eq!(sb.epoch(), Some(1), "{b} in the group");
    assert!(sa.can_encrypt() && sb.can_encrypt(), "both hold keys");
    (sa, sb)
}
