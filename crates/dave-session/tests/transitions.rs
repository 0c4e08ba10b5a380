//! The transition plumbing shared by op 4, op 21, op 29 and op 30: what is
//! sent and reported, without a group, on a refused commit, and on a
//! transport-only session description.

mod common;

use common::*;
use dave_session::{
    DaveConfig, DaveError, DaveEvent, DaveSession, Outgoing, Passthrough, SessionOutput,
};

fn drain(s: &mut DaveSession) -> Vec<SessionOutput> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

#[test]
fn commit_or_welcome_without_a_group_is_refused_and_sends_nothing() {
    let now = Net::new().now;
    let mut s = DaveSession::new(C, GROUP, DaveConfig::default());
    assert_eq!(
        s.on_announce_commit(3, &[1, 2, 3], now),
        Err(DaveError::NoSession)
    );
    assert_eq!(s.on_welcome(3, &[1, 2, 3], now), Err(DaveError::NoSession));
    assert_eq!(drain(&mut s), []);
}

#[test]
fn refused_commit_sends_op31_then_a_fresh_key_package() {
    let now = Net::new().now;
    let mut s = DaveSession::new(C, GROUP, DaveConfig::default());
    s.on_session_description(1, now).unwrap();
    assert!(matches!(
        drain(&mut s)[..],
        [SessionOutput::Send(Outgoing::KeyPackage(_))]
    ));
    let err = s.on_announce_commit(7, &[0xFF; 4], now).unwrap_err();
    assert!(err.triggered_recovery(), "{err:?}");
    let out = drain(&mut s);
    assert_eq!(
        out[0],
        SessionOutput::Send(Outgoing::InvalidCommitWelcome { transition_id: 7 })
    );
    assert!(
        matches!(out[1..], [SessionOutput::Send(Outgoing::KeyPackage(_))]),
        "{out:?}"
    );
}

#[test]
fn transport_only_description_takes_effect_at_once() {
    let mut net = Net::new();
    net.join_session(A);
    net.join_session(B);
    let now = net.now;
    let a = net.session(A);
    assert!(!a.is_transport_only());
    drain(a);
    a.on_session_description(0, now).unwrap();
    assert!(a.is_transport_only());
    assert_eq!(a.passthrough(), Passthrough::Always);
    // No op 23: transition 0 is not acknowledged, it just happens.
    assert_eq!(
        drain(a),
        [
            SessionOutput::Event(DaveEvent::PassthroughChanged {
                passthrough: Passthrough::Always
            }),
            SessionOutput::Event(DaveEvent::ProtocolVersionChanged {
                protocol_version: 0
            }),
            SessionOutput::Event(DaveEvent::ReadyChanged { can_encrypt: false }),
        ]
    );
}

#[test]
fn prepared_transition_is_acknowledged_and_waits_for_execute() {
    let mut net = Net::new();
    net.join_session(A);
    net.join_session(B);
    let now = net.now;
    let a = net.session(A);
    drain(a);
    a.on_prepare_transition(5, 0, now).unwrap();
    assert!(!a.is_transport_only(), "not before op 22");
    let out = drain(a);
    assert!(
        out.contains(&SessionOutput::Send(Outgoing::ReadyForTransition {
            transition_id: 5
        })),
        "{out:?}"
    );
    a.on_execute_transition(5, now).unwrap();
    assert!(a.is_transport_only());
}
