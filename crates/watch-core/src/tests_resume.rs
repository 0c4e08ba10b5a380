//! Watches carried over a restart: `WatchBook::restore` and
//! `resume_decision`.

// Tests need some `Instant` for a `Watch`; the library never reads the clock.
#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use gateway_proto::{ChannelId, Guild, GuildId, Member, Ready, Secret, User, UserId, VoiceState};

use crate::*;

const G: GuildId = GuildId(1);
const VC: ChannelId = ChannelId(10);
const ME: UserId = UserId(100);
const ALICE: UserId = UserId(201);
const BOB: UserId = UserId(202);

fn user(id: UserId) -> User {
    User {
        id,
        username: format!("u{id}"),
        discriminator: None,
        global_name: None,
        bot: false,
    }
}

fn vs(user_id: UserId, stream: bool, video: bool) -> VoiceState {
    VoiceState {
        guild_id: None,
        channel_id: Some(VC),
        user_id,
        member: None,
        session_id: Secret::new(format!("sess-{user_id}")),
        deaf: false,
        mute: false,
        self_deaf: false,
        self_mute: false,
        self_stream: Some(stream),
        self_video: video,
        suppress: false,
        request_to_speak_timestamp: None,
    }
}

/// A fresh registry after READY; with GUILD_CREATE holding `states` (and
/// us in VC) when `states` is `Some`.
fn registry(states: Option<Vec<VoiceState>>) -> Registry {
    let mut reg = Registry::new();
    reg.on_ready(&Ready {
        v: Some(9),
        user: user(ME),
        session_id: Secret::new("gw-2"),
        resume_gateway_url: None,
        guilds: Vec::new(),
        private_channels: Vec::new(),
    });
    if let Some(states) = states {
        let mut all = vec![vs(ME, false, false)];
        all.extend(states);
        reg.on_guild_create(&Guild {
            id: G,
            name: Some("g".into()),
            unavailable: None,
            channels: Vec::new(),
            members: [ME, ALICE, BOB]
                .into_iter()
                .map(|u| Member {
                    user: Some(user(u)),
                    nick: None,
                })
                .collect(),
            voice_states: all,
        });
    }
    reg
}

fn watch(id: u64, transport: WatchTransport) -> Watch {
    Watch {
        id: WatchId(id),
        guild: G.into(),
        target: ALICE,
        channel: Some(VC),
        requesters: vec![BOB],
        transport,
        native_active: true,
        started_at: Instant::now(),
    }
}

fn native() -> WatchTransport {
    WatchTransport::Native {
        stream_key: synthesize_stream_key(G, VC, ALICE),
    }
}

#[test]
fn a_restored_watch_keeps_its_id_and_new_ids_follow_it() {
    let mut book = WatchBook::new();
    assert!(book.restore(watch(7, native())));
    let w = book.get(WatchId(7)).expect("restored");
    assert!(!w.native_active, "active again only once frames flow");
    // The same id or the same target again is refused.
    assert!(!book.restore(watch(7, WatchTransport::Webcam)));
    assert!(!book.restore(watch(8, native())));
    let next = book
        .start(
            WatchRequest {
                guild: G.into(),
                target: BOB,
                requester: ALICE,
                channel: Some(VC),
                transport: WatchTransport::Webcam,
            },
            Instant::now(),
        )
        .expect("started");
    assert_eq!(next, StartOutcome::Started(WatchId(8)));
}

#[test]
fn a_full_book_restores_nothing_more() {
    let mut book = WatchBook::with_capacity(1);
    assert!(book.restore(watch(1, native())));
    let mut other = watch(2, WatchTransport::Webcam);
    other.target = BOB;
    assert!(!book.restore(other));
}

#[test]
fn a_native_watch_resumes_once_the_guild_is_back_and_the_target_still_shares() {
    let w = watch(3, native());
    // READY only: the guild is not known yet.
    assert_eq!(
        resume_decision(&registry(None), &w, false),
        ResumeDecision::Wait
    );
    assert_eq!(
        resume_decision(&registry(None), &w, true),
        ResumeDecision::Drop("place_unknown_after_restart")
    );
    let reg = registry(Some(vec![vs(ALICE, true, false), vs(BOB, false, false)]));
    assert_eq!(resume_decision(&reg, &w, false), ResumeDecision::Resume);
}

#[test]
fn a_watch_whose_target_or_requesters_went_away_is_dropped_with_a_reason() {
    let w = watch(3, native());
    let gone = registry(Some(vec![vs(BOB, false, false)]));
    assert_eq!(
        resume_decision(&gone, &w, false),
        ResumeDecision::Drop("target_left_voice")
    );
    let stopped = registry(Some(vec![vs(ALICE, false, false), vs(BOB, false, false)]));
    assert_eq!(
        resume_decision(&stopped, &w, false),
        ResumeDecision::Drop("target_stopped_go_live")
    );
    let cam_off = registry(Some(vec![vs(ALICE, true, false), vs(BOB, false, false)]));
    assert_eq!(
        resume_decision(&cam_off, &watch(4, WatchTransport::Webcam), false),
        ResumeDecision::Drop("target_stopped_webcam")
    );
    let alone = registry(Some(vec![vs(ALICE, true, true)]));
    assert_eq!(
        resume_decision(&alone, &w, false),
        ResumeDecision::Drop("requester_left_voice")
    );
    assert_eq!(
        resume_decision(&alone, &watch(5, WatchTransport::Webcam), false),
        ResumeDecision::Drop("requester_left_voice")
    );
    let both = registry(Some(vec![vs(ALICE, false, true), vs(BOB, false, false)]));
    assert_eq!(
        resume_decision(&both, &watch(5, WatchTransport::Webcam), false),
        ResumeDecision::Resume
    );
    assert_eq!(
        resume_decision(&both, &watch(6, WatchTransport::Link), false),
        ResumeDecision::Resume
    );
}
