//! dave-session (davey) clients against sim-dave (openmls): independent
//! implementations meeting in the middle.

mod common;

use std::time::Duration;

use common::*;
use dave_session::{DaveError, DaveEvent, Decrypted, MediaCodec, Passthrough};
use sim_dave::ServerDaveMsg;

fn exchange(net: &mut Net, from: u64, to: u64) {
    let now = net.now;
    for (codec, frame) in [
        (MediaCodec::H264, h264_frame()),
        (MediaCodec::Opus, opus_frame()),
    ] {
        let enc = net.session(from).encrypt(codec, &frame).unwrap();
        assert_ne!(enc, frame);
        let got = net.session(to).decrypt(from, codec, &enc, now).unwrap();
        assert_eq!(got, Decrypted::Plain(frame));
    }
}

#[test]
fn two_sessions_reach_epoch_one_and_exchange_h264_and_opus() {
    let mut net = Net::new();
    net.join_session(A);
    net.join_session(B);
    assert_eq!(net.gw.group_mut(GROUP).epoch(), 1);
    assert_eq!(net.session(A).epoch(), Some(1));
    assert_eq!(net.session(B).epoch(), Some(1));
    assert!(net.session_errors.is_empty(), "{:?}", net.session_errors);
    exchange(&mut net, A, B);
    exchange(&mut net, B, A);
    assert_eq!(net.session(B).stats(A).decrypted, 2);
    assert_eq!(
        net.session(A).voice_privacy_code(),
        net.session(B).voice_privacy_code()
    );
    assert!(
        net.events
            .contains(&(B, DaveEvent::EpochChanged { epoch: 1 }))
    );
    assert!(
        net.events
            .contains(&(A, DaveEvent::ReadyChanged { can_encrypt: true }))
    );
    assert!(net.events.contains(&(
        A,
        DaveEvent::ProtocolVersionChanged {
            protocol_version: 1
        }
    )));
}

#[test]
fn session_interoperates_with_davey_sim_member() {
    let mut net = Net::new();
    net.join_sim(A);
    net.join_session(B);
    assert_eq!(net.session(B).epoch(), Some(1));
    let now = net.now;
    let frame = h264_frame();
    let enc = net.sim(A).encrypt_h264(&frame).unwrap();
    assert_eq!(
        net.session(B)
            .decrypt(A, MediaCodec::H264, &enc, now)
            .unwrap(),
        Decrypted::Plain(frame.clone())
    );
    let enc = net.session(B).encrypt(MediaCodec::H264, &frame).unwrap();
    assert_eq!(net.sim(A).decrypt(B, true, &enc).unwrap(), frame);
    let opus = opus_frame();
    let enc = net.session(B).encrypt(MediaCodec::Opus, &opus).unwrap();
    assert_eq!(net.sim(A).decrypt(B, false, &enc).unwrap(), opus);

    // The session commits the next epoch for a joining sim member.
    net.join_sim(C);
    assert_eq!(net.session(B).epoch(), Some(2));
    let enc = net.sim(C).encrypt_opus(&opus).unwrap();
    assert_eq!(
        net.session(B)
            .decrypt(C, MediaCodec::Opus, &enc, now)
            .unwrap(),
        Decrypted::Plain(opus)
    );
}

#[test]
fn leave_and_sole_member_reset() {
    let mut net = Net::new();
    net.join_session(A);
    net.join_session(B);
    net.join_session(C);
    assert_eq!(net.session(A).epoch(), Some(2));
    net.leave(B);
    assert_eq!(net.session(A).epoch(), Some(3));
    let mut ids = net.session(C).group_user_ids();
    ids.sort();
    assert_eq!(ids, vec![A, C]);
    exchange(&mut net, C, A);
    net.leave(C);
    // Sole member: op 24 epoch 1 + op 21 T=0 → pending group, no send key.
    assert_eq!(net.session(A).epoch(), Some(0));
    assert!(!net.session(A).can_encrypt());
    assert_eq!(
        net.session(A).encrypt(MediaCodec::Opus, &opus_frame()),
        Err(DaveError::NotReady)
    );
    net.join_session(B + 10);
    assert_eq!(net.session(A).epoch(), Some(1));
    exchange(&mut net, B + 10, A);
}

#[test]
fn passthrough_windows_follow_transitions() {
    let mut net = Net::new();
    net.join_session(A);
    net.join_session(B);
    let t0 = net.now;
    assert_eq!(
        net.session(B).passthrough(),
        Passthrough::Until(t0 + Duration::from_secs(10))
    );
    let raw = opus_frame();
    let got = net
        .session(B)
        .decrypt(A, MediaCodec::Opus, &raw, t0 + Duration::from_secs(9))
        .unwrap();
    assert_eq!(got, Decrypted::Passthrough(raw.clone()));
    let err = net
        .session(B)
        .decrypt(A, MediaCodec::Opus, &raw, t0 + Duration::from_secs(10))
        .unwrap_err();
    assert_eq!(err, DaveError::UnencryptedWhenPassthroughDisabled);
    assert!(err.should_drop_frame());
    // Opus silence always passes.
    let silence = [0xF8, 0xFF, 0xFE];
    let got = net
        .session(B)
        .decrypt(A, MediaCodec::Opus, &silence, t0 + Duration::from_secs(60))
        .unwrap();
    assert_eq!(got, Decrypted::Passthrough(silence.to_vec()));
    assert_eq!(
        net.session(B).stats(A),
        dave_session::UserStats {
            decrypted: 0,
            passthrough: 2,
            failures: 1
        }
    );

    // Downgrade: window opens at op 21, becomes permanent at op 22.
    net.now = t0 + Duration::from_secs(30);
    let now = net.now;
    net.gw.group_mut(GROUP).downgrade(now).unwrap();
    net.pump();
    assert_eq!(net.session(A).passthrough(), Passthrough::Always);
    assert!(net.session(A).is_transport_only());
    assert!(net.events.contains(&(
        A,
        DaveEvent::PassthroughChanged {
            passthrough: Passthrough::Until(now + Duration::from_secs(24))
        }
    )));
    assert_eq!(net.session(A).encrypt(MediaCodec::Opus, &raw).unwrap(), raw);
    let got = net
        .session(B)
        .decrypt(A, MediaCodec::Opus, &raw, now + Duration::from_secs(600))
        .unwrap();
    assert_eq!(got, Decrypted::Passthrough(raw.clone()));

    // Upgrade: new group, encryption again, 10 s grace for in-flight raw frames.
    net.gw.group_mut(GROUP).upgrade(now).unwrap();
    net.pump();
    assert_eq!(net.session(A).epoch(), Some(1));
    assert!(!net.session(A).is_transport_only());
    assert_eq!(
        net.session(A).passthrough(),
        Passthrough::Until(now + Duration::from_secs(10))
    );
    exchange(&mut net, A, B);
}

#[test]
fn invalid_welcome_triggers_op31_and_recovery() {
    let mut net = Net::new();
    let mut first = true;
    net.tamper = Some(Box::new(move |_, m| match m {
        ServerDaveMsg::Welcome {
            transition_id,
            welcome,
        } if first => {
            first = false;
            let mut w = welcome.clone();
            let last = w.len() - 1;
            w[last] ^= 0x5A;
            Some(ServerDaveMsg::Welcome {
                transition_id: *transition_id,
                welcome: w,
            })
        }
        _ => None,
    }));
    net.join_session(A);
    net.join_session(B);
    assert!(
        net.session_errors
            .iter()
            .any(|(u, e)| *u == B && e.triggered_recovery()),
        "{:?}",
        net.session_errors
    );
    assert!(net.gw.group_mut(GROUP).commits_accepted() >= 3);
    assert_eq!(net.session(A).epoch(), net.session(B).epoch());
    exchange(&mut net, A, B);
    exchange(&mut net, B, A);
}

#[test]
fn unknown_transition_ids_are_harmless() {
    let mut net = Net::new();
    net.join_session(A);
    net.join_session(B);
    let now = net.now;
    net.session(A).on_execute_transition(4242, now).unwrap();
    assert!(net.session(A).poll_output().is_none());
    exchange(&mut net, A, B);
}

#[test]
fn stream_group_id_is_rtc_server_id_minus_one() {
    assert_eq!(
        dave_session::stream_group_id(1_234_567_890_123_456_790),
        1_234_567_890_123_456_789
    );
    assert_eq!(dave_session::stream_group_id(0), 0);
}

/// A tamper that hides every op 11 to `victim`: it never learns who else
/// is in the call.
fn hide_clients_connect_from(victim: u64) -> Tamper {
    Box::new(move |to, m| match m {
        ServerDaveMsg::ClientsConnect { .. } if to == victim => {
            Some(ServerDaveMsg::ClientsConnect { user_ids: vec![] })
        }
        _ => None,
    })
}

/// Issue 15 item 5: a welcome is processed without the recognised-users
/// list, as @discordjs/voice (`DAVESession.ts`: `processWelcome(payload)`)
/// and Discord-video-stream do; davey's roster check is optional
/// (`process_welcome(welcome, None)`). B joins a group whose members it
/// never saw in op 11. The old session checked the roster against op 11
/// and refused the welcome (`unrecognized user in welcome roster`), so B
/// answered op 31 and never joined.
#[test]
fn welcome_is_processed_with_a_roster_we_were_not_told_about() {
    let mut net = Net::new();
    net.tamper = Some(hide_clients_connect_from(B));
    net.join_sim(A);
    net.join_sim(C);
    net.join_session(B);
    assert!(net.session_errors.is_empty(), "{:?}", net.session_errors);
    let epoch = net.gw.group_mut(GROUP).epoch();
    assert_eq!(net.session(B).epoch(), Some(epoch));
    let mut users = net.session(B).group_user_ids();
    users.sort_unstable();
    assert_eq!(users, vec![A, B, C]);
    // B decrypts A's media and A decrypts B's.
    let now = net.now;
    let frame = opus_frame();
    let enc = net.sim(A).encrypt_opus(&frame).unwrap();
    assert_eq!(
        net.session(B)
            .decrypt(A, MediaCodec::Opus, &enc, now)
            .unwrap(),
        Decrypted::Plain(frame.clone())
    );
    let enc = net.session(B).encrypt(MediaCodec::Opus, &frame).unwrap();
    assert_eq!(net.sim(A).decrypt(B, false, &enc).unwrap(), frame);
}

/// Issue 15 item 5, the other half: add proposals are still checked
/// against op 11/op 13, as the independent clients do (@discordjs/voice
/// and Discord-video-stream pass their connected users to
/// `processProposals`): B, which was never told about C, refuses the
/// proposal adding C and sends no commit for it. Fails if the proposals
/// check is dropped along with the welcome's.
#[test]
fn proposal_adding_an_unrecognised_user_is_refused() {
    let mut net = Net::new();
    net.join_session(A);
    net.join_session(B);
    assert!(net.session_errors.is_empty(), "{:?}", net.session_errors);
    net.tamper = Some(hide_clients_connect_from(B));
    net.join_sim(C);
    let refused: Vec<_> = net
        .session_errors
        .iter()
        .filter(|(u, e)| {
            *u == B
                && matches!(e, DaveError::Rejected { what: "proposals", detail }
                    if detail.contains(&C.to_string()))
        })
        .collect();
    assert!(!refused.is_empty(), "{:?}", net.session_errors);
    // A (which recognises C) committed; the group still converges, B
    // rejoining through a welcome (no roster check) after its op 31.
    let epoch = net.gw.group_mut(GROUP).epoch();
    assert_eq!(net.session(A).epoch(), Some(epoch));
    let mut users = net.session(A).group_user_ids();
    users.sort_unstable();
    assert_eq!(users, vec![A, B, C]);
}
