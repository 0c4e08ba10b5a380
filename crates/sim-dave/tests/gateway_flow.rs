//! Davey members joining, leaving and exchanging media through the gateway.

mod common;

use common::*;
use sim_dave::{ClientDaveMsg, GatewayError, ServerDaveMsg};

fn two_member_net() -> Net {
    let mut net = Net::new();
    net.join(A);
    net.join(B);
    net
}

fn assert_media_flows(net: &mut Net, from: u64, to: u64) {
    let h264 = h264_idr_frame();
    let enc = net.member(from).encrypt_h264(&h264).unwrap();
    assert_ne!(enc, h264);
    assert_eq!(&enc[enc.len() - 2..], &[0xFA, 0xFA], "DAVE trailer magic");
    assert_eq!(net.member(to).decrypt(from, true, &enc).unwrap(), h264);
    let opus = opus_frame();
    let enc = net.member(from).encrypt_opus(&opus).unwrap();
    assert_ne!(&enc[..opus.len()], &opus[..]);
    assert_eq!(net.member(to).decrypt(from, false, &enc).unwrap(), opus);
}

#[test]
fn two_members_reach_epoch_one_and_exchange_media() {
    let mut net = two_member_net();
    assert_eq!(net.epoch(), 1);
    assert_eq!(net.member(A).epoch(), Some(1));
    assert_eq!(net.member(B).epoch(), Some(1));
    assert!(net.member(A).can_encrypt() && net.member(B).can_encrypt());
    assert!(net.errors.is_empty(), "{:?}", net.errors);
    assert_eq!(net.gw.group_mut(common::GROUP).members(), vec![A, B]);
    assert_eq!(net.gw.group_mut(common::GROUP).pending_transition(), None);
    assert_media_flows(&mut net, A, B);
    assert_media_flows(&mut net, B, A);

    // SPS and PPS are copied in clear (codec-aware ranges, §3.8).
    let frame = h264_idr_frame();
    let enc = net.member(A).encrypt_h264(&frame).unwrap();
    assert_eq!(&enc[..23], &frame[..23]);
}

#[test]
fn joiner_gets_only_its_own_welcome_and_ready_precedes_execute() {
    let net = two_member_net();
    let welcomes: Vec<u64> = net
        .delivered
        .iter()
        .filter(|(_, m)| matches!(m, ServerDaveMsg::Welcome { .. }))
        .map(|(u, _)| *u)
        .collect();
    assert_eq!(welcomes, vec![B]);
    let commits: Vec<u64> = net
        .delivered
        .iter()
        .filter(|(_, m)| matches!(m, ServerDaveMsg::AnnounceCommit { .. }))
        .map(|(u, _)| *u)
        .collect();
    assert_eq!(commits, vec![A]);
    let executes = net
        .delivered
        .iter()
        .filter(|(_, m)| matches!(m, ServerDaveMsg::ExecuteTransition { .. }))
        .count();
    assert_eq!(executes, 2);
}

#[test]
fn third_member_joins_at_epoch_two_and_decrypts() {
    let mut net = two_member_net();
    net.join(C);
    assert_eq!(net.epoch(), 2);
    for u in [A, B, C] {
        assert_eq!(net.member(u).epoch(), Some(2));
    }
    assert_media_flows(&mut net, A, C);
    assert_media_flows(&mut net, C, B);
}

#[test]
fn leaving_members_are_removed_at_the_right_leaf() {
    let mut net = two_member_net();
    net.join(C);
    net.leave(B); // leaf 1 becomes blank
    assert_eq!(net.epoch(), 3);
    assert_eq!(net.gw.group_mut(common::GROUP).members(), vec![A, C]);
    let mut ids = net.member(A).group_user_ids();
    ids.sort();
    assert_eq!(ids, vec![A, C]);
    assert_media_flows(&mut net, C, A);

    net.join(D); // fills the blank leaf 1
    assert_eq!(net.epoch(), 4);
    assert_eq!(net.gw.group_mut(common::GROUP).members(), vec![A, D, C]);
    net.leave(D);
    assert_eq!(net.epoch(), 5);
    let mut ids = net.member(C).group_user_ids();
    ids.sort();
    assert_eq!(ids, vec![A, C], "the gateway removed the leaf D occupied");
    assert_media_flows(&mut net, A, C);
    assert!(
        net.errors.iter().all(|(_, e)| e.is_lost_race()),
        "{:?}",
        net.errors
    );
}

#[test]
fn sole_member_reset_then_new_group() {
    let mut net = two_member_net();
    net.leave(B);
    let got: Vec<&ServerDaveMsg> = net.delivered.iter().rev().take(2).map(|(_, m)| m).collect();
    assert!(matches!(
        got[1],
        ServerDaveMsg::PrepareEpoch { epoch: 1, .. }
    ));
    assert!(matches!(
        got[0],
        ServerDaveMsg::PrepareTransition {
            transition_id: 0,
            ..
        }
    ));
    assert_eq!(net.epoch(), 0);
    assert_eq!(net.member(A).epoch(), Some(0));
    assert!(!net.member(A).can_encrypt());
    net.join(C);
    assert_eq!(net.epoch(), 1);
    assert_media_flows(&mut net, C, A);
}

#[test]
fn downgrade_enables_passthrough_and_upgrade_restores_encryption() {
    let mut net = two_member_net();
    let now = net.now;
    net.gw.group_mut(common::GROUP).downgrade(now).unwrap();
    net.pump();
    assert_eq!(net.gw.group_mut(common::GROUP).protocol_version(), 0);
    assert_eq!(net.gw.group_mut(common::GROUP).pending_transition(), None);
    let opus = opus_frame();
    let sent = net.member(A).encrypt_opus(&opus).unwrap();
    assert_eq!(sent, opus, "transport-only: sent unframed");
    assert_eq!(net.member(B).decrypt(A, false, &sent).unwrap(), opus);

    net.gw.group_mut(common::GROUP).upgrade(now).unwrap();
    net.pump();
    assert_eq!(net.epoch(), 1);
    assert_media_flows(&mut net, B, A);
}

#[test]
fn structurally_tampered_commits_are_rejected_by_the_gateway() {
    let mut net = Net::new();
    net.tamper = Some(Box::new(|_, msg| {
        let ClientDaveMsg::CommitWelcome(bytes) = msg else {
            return None;
        };
        // Epoch field of the PublicMessage: version(2) wire format(2) group id(1+8).
        let mut wrong_epoch = bytes.clone();
        wrong_epoch[20] ^= 0x01;
        let mut truncated = bytes.clone();
        truncated.truncate(bytes.len() / 2);
        Some(vec![
            ClientDaveMsg::CommitWelcome(wrong_epoch),
            ClientDaveMsg::CommitWelcome(truncated),
            msg.clone(),
        ])
    }));
    net.join(A);
    net.join(B);
    assert_eq!(net.epoch(), 1);
    assert_eq!(net.gw.group_mut(common::GROUP).commits_accepted(), 1);
    assert!(
        matches!(net.errors[0].1, GatewayError::InvalidCommit(_)),
        "{:?}",
        net.errors
    );
    assert!(net.errors[1].1.is_client_fault());
    assert_media_flows(&mut net, A, B);
}

#[test]
fn cryptographically_tampered_commit_is_rejected_by_members_and_recovered() {
    let mut net = Net::new();
    let mut done = false;
    net.tamper = Some(Box::new(move |_, msg| {
        let ClientDaveMsg::CommitWelcome(bytes) = msg else {
            return None;
        };
        if done {
            return None;
        }
        done = true;
        // Corrupt the welcome's encrypted group info (last byte): only MLS
        // members can notice.
        let mut bad = bytes.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x55;
        Some(vec![ClientDaveMsg::CommitWelcome(bad)])
    }));
    net.join(A);
    net.join(B);
    assert_eq!(net.member(B).failures(), 1, "B sent op 31");
    assert!(net.gw.group_mut(common::GROUP).commits_accepted() >= 3);
    assert_eq!(net.member(A).epoch(), net.member(B).epoch());
    assert_media_flows(&mut net, A, B);
    assert_media_flows(&mut net, B, A);
}

#[test]
fn transition_times_out_without_every_ready() {
    let mut net = Net::new();
    net.tamper = Some(Box::new(|u, msg| {
        (u == B && matches!(msg, ClientDaveMsg::ReadyForTransition { .. })).then(Vec::new)
    }));
    net.join(A);
    net.join(B);
    let t = net.gw.group_mut(common::GROUP).pending_transition();
    assert!(t.is_some());
    assert!(!net.member(A).can_encrypt());
    let deadline = net.gw.poll_timeout().unwrap();
    net.gw
        .handle_timeout(deadline - std::time::Duration::from_millis(1));
    assert_eq!(net.gw.group_mut(common::GROUP).pending_transition(), t);
    net.gw.handle_timeout(deadline);
    net.pump();
    assert_eq!(net.gw.group_mut(common::GROUP).pending_transition(), None);
    assert!(net.member(A).can_encrypt() && net.member(B).can_encrypt());
    assert_media_flows(&mut net, A, B);
}

#[test]
fn key_packages_are_validated() {
    let mut net = two_member_net();
    net.join(C);
    let mut other = sim_dave::SimMember::new(D, common::GROUP, 1).unwrap();
    let kp = other
        .handle(&ServerDaveMsg::ExternalSender(
            net.gw.external_sender_package().to_vec(),
        ))
        .into_iter()
        .next()
        .unwrap();
    // D's key package sent by C: identity mismatch.
    let now = net.now;
    let err = net
        .gw
        .group_mut(common::GROUP)
        .handle_client(C, kp.clone(), now)
        .unwrap_err();
    assert!(matches!(err, GatewayError::InvalidKeyPackage(_)), "{err:?}");
    // Unknown user.
    let err = net
        .gw
        .group_mut(common::GROUP)
        .handle_client(D, kp, now)
        .unwrap_err();
    assert_eq!(err, GatewayError::UnknownUser(D));
    let err = net
        .gw
        .group_mut(common::GROUP)
        .handle_client(C, ClientDaveMsg::KeyPackage(vec![0, 1, 2]), now)
        .unwrap_err();
    assert!(matches!(err, GatewayError::Malformed { .. }));
    assert!(net.gw.poll_output().is_none());
}
