//! Garbage and mutated inputs never panic a session.

mod common;

use common::*;
use dave_session::{DaveConfig, DaveSession, Decrypted, MediaCodec};
use proptest::prelude::*;

fn established() -> Net {
    let mut net = Net::new();
    net.join_session(A);
    net.join_session(B);
    net
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn arbitrary_bytes_into_every_binary_input(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        op in any::<u8>(),
        t in any::<u16>(),
    ) {
        let mut net = established();
        let now = net.now;
        let s = net.session(B);
        let _ = s.on_external_sender(&data);
        let _ = s.on_proposals(op % 3, &data);
        let _ = s.on_announce_commit(t, &data, now);
        let _ = s.on_welcome(t, &data, now);
        let _ = s.decrypt(A, MediaCodec::H264, &data, now);
        let _ = s.decrypt(A, MediaCodec::Opus, &data, now);
        // A fresh, uninitialised session too.
        let mut fresh = DaveSession::new(C, GROUP, DaveConfig::default());
        let _ = fresh.on_external_sender(&data);
        let _ = fresh.on_proposals(op, &data);
        let _ = fresh.on_announce_commit(t, &data, now);
        let _ = fresh.on_welcome(t, &data, now);
        let _ = fresh.on_prepare_transition(t, u16::from(op), now);
        let _ = fresh.on_prepare_epoch(u16::from(op), u64::from(t), now);
        let _ = fresh.decrypt(A, MediaCodec::Vp8, &data, now);
        while fresh.poll_output().is_some() {}
    }

    #[test]
    fn mutated_encrypted_frames_never_decrypt_to_something_else(
        pos in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        cut in 0usize..40,
    ) {
        let mut net = established();
        let now = net.now;
        let frame = h264_frame();
        let enc = net.session(A).encrypt(MediaCodec::H264, &frame).unwrap();
        let mut bad = enc.clone();
        let i = pos.index(bad.len());
        bad[i] ^= xor;
        match net.session(B).decrypt(A, MediaCodec::H264, &bad, now) {
            Ok(Decrypted::Plain(p)) => prop_assert!(false, "tampered frame decrypted to {} bytes", p.len()),
            Ok(Decrypted::Passthrough(p)) => prop_assert_eq!(p, bad),
            Err(_) => {}
        }
        let mut short = enc.clone();
        short.truncate(enc.len().saturating_sub(cut + 1));
        let _ = net.session(B).decrypt(A, MediaCodec::H264, &short, now);
        // The untouched frame still decrypts (the failures burnt no state).
        prop_assert_eq!(net.session(B).decrypt(A, MediaCodec::H264, &enc, now).unwrap(), Decrypted::Plain(frame));
    }

    #[test]
    fn mutated_gateway_messages_never_panic(
        pos in any::<prop::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let mut net = Net::new();
        net.join_session(A);
        let msgs = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let sink = msgs.clone();
        net.tamper = Some(Box::new(move |_, m| { sink.borrow_mut().push(m.clone()); None }));
        net.join_session(B);
        let now = net.now;
        for m in msgs.borrow().iter() {
            let mut fresh = DaveSession::new(C, GROUP, DaveConfig::default());
            let _ = fresh.on_session_description(1, now);
            let mutate = |b: &[u8]| { let mut v = b.to_vec(); if !v.is_empty() { let i = pos.index(v.len()); v[i] ^= xor; } v };
            match m {
                sim_dave::ServerDaveMsg::ExternalSender(b) => { let _ = fresh.on_external_sender(&mutate(b)); }
                sim_dave::ServerDaveMsg::Proposals { vector, .. } => { let _ = net.session(A).on_proposals(0, &mutate(vector)); }
                sim_dave::ServerDaveMsg::AnnounceCommit { commit, .. } => { let _ = net.session(A).on_announce_commit(9, &mutate(commit), now); }
                sim_dave::ServerDaveMsg::Welcome { welcome, .. } => { let _ = fresh.on_welcome(9, &mutate(welcome), now); }
                _ => {}
            }
        }
    }
}

#[test]
fn davey_frames_pass_the_protocol_frame_check() {
    let mut net = established();
    let now = net.now + std::time::Duration::from_secs(11); // passthrough over
    for len in [1usize, 5, 40, 300] {
        let opus: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let enc = net.session(A).encrypt(MediaCodec::Opus, &opus).unwrap();
        assert_eq!(
            net.session(B)
                .decrypt(A, MediaCodec::Opus, &enc, now)
                .unwrap(),
            Decrypted::Plain(opus)
        );
    }
    let frame = h264_frame();
    let enc = net.session(A).encrypt(MediaCodec::H264, &frame).unwrap();
    assert_eq!(
        net.session(B)
            .decrypt(A, MediaCodec::H264, &enc, now)
            .unwrap(),
        Decrypted::Plain(frame)
    );
}

/// Found by the `dave_unwrap_group` fuzz target: davey's H264 encryptor
/// panicked (slice index out of range) on an access unit whose IDR slice
/// header runs into the next NAL unit, and its VP8 encryptor on a frame
/// shorter than the clear header. The session refuses such frames.
#[test]
fn frames_davey_cannot_encrypt_are_refused_not_a_panic() {
    let mut net = established();
    let hex = "81000720000000016742c01fda014016e806d00000000168ce3880000000016588000720000000016742c01fda014016e806d0000098bde2072c51769bc0e50a2f54799ec3570d7ce8a132164f8ccd175495ce1c5d96d7255e9fdc582667a4dd00000000000000000000000000000000000000008407447dbe0c458600";
    let frame: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    assert!(matches!(
        net.session(A).encrypt(MediaCodec::H264, &frame),
        Err(dave_session::DaveError::EncryptFailed(_))
    ));
    // A zero-filled slice header at the end of the frame, too.
    assert!(
        net.session(A)
            .encrypt(MediaCodec::H264, &[0, 0, 0, 1, 0x41, 0, 0, 0x40])
            .is_err()
    );
    // VP8 (the second crash): an empty frame, a key frame shorter than its
    // 10-byte clear header.
    for bad in [&[][..], &[0x9e, 0x81, 0xdc, 0x15]] {
        assert!(matches!(
            net.session(A).encrypt(MediaCodec::Vp8, bad),
            Err(dave_session::DaveError::EncryptFailed(_))
        ));
    }
    // Well-formed frames still go through.
    let now = net.now;
    let good = h264_frame();
    let enc = net.session(A).encrypt(MediaCodec::H264, &good).unwrap();
    assert_eq!(
        net.session(B)
            .decrypt(A, MediaCodec::H264, &enc, now)
            .unwrap(),
        Decrypted::Plain(good)
    );
}
