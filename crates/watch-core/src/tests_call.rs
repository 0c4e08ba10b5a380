//! DM / group DM calls (issue 15 item 14): a call is a [`Place`] like a
//! guild. Facts relied on (fact sheet `discord-protocol.md`, with the
//! independent witnesses it cites):
//! * §4.3 VOICE_STATE_UPDATE: "`guild_id?`", null for DM calls;
//!   VOICE_SERVER_UPDATE "`guild_id` (null for DM) … `channel_id?` (present
//!   for DM/private calls, absent for guilds)" [discord-userdoccers
//!   `pages/gateway/gateway-events.mdx`; Discord-video-stream PR #163].
//! * §4.4 stream keys: "DM / group DM call: `call:<channel_id>:<owner_user_id>`"
//!   [discord-userdoccers gateway-events.mdx; Discord-video-stream
//!   `generateStreamKey`].
//! * §3.4 DAVE: a Go Live stream's group id is `rtc_server_id − 1`, calls
//!   included (the stream connection does not know it is in a call).

#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use gateway_proto::{
    ChannelId, Ready, Secret, ServerId, StreamDelete, StreamDeleteReason, StreamInfo, StreamKey,
    StreamServerUpdate, User, UserId, VoiceServerUpdate, VoiceState,
};

use crate::*;

const CALL: ChannelId = ChannelId(500);
const OTHER_CALL: ChannelId = ChannelId(501);
const ME: UserId = UserId(100);
const ALICE: UserId = UserId(201);
const BOB: UserId = UserId(202);
const P: Place = Place::Call(CALL);

fn call_vs(user_id: UserId, channel: Option<ChannelId>, stream: Option<bool>) -> VoiceState {
    VoiceState {
        guild_id: None,
        channel_id: channel,
        user_id,
        member: None,
        session_id: Secret::new(format!("sess-{user_id}")),
        deaf: false,
        mute: false,
        self_deaf: false,
        self_mute: false,
        self_stream: stream,
        self_video: false,
        suppress: false,
        request_to_speak_timestamp: None,
    }
}

fn ready() -> Ready {
    Ready {
        v: Some(9),
        user: User {
            id: ME,
            username: "clanky".into(),
            discriminator: None,
            global_name: None,
            bot: false,
        },
        session_id: Secret::new("gw"),
        resume_gateway_url: None,
        guilds: Vec::new(),
        private_channels: Vec::new(),
    }
}

fn call_key(user: UserId) -> StreamKey {
    StreamKey::Call {
        channel_id: CALL,
        user_id: user,
    }
}

/// READY, us and Alice (streaming) and Bob in the call, our voice server.
fn in_call() -> Registry {
    let mut reg = Registry::new();
    reg.on_ready(&ready());
    reg.on_voice_state_update(&call_vs(ME, Some(CALL), None));
    reg.on_voice_state_update(&call_vs(ALICE, Some(CALL), Some(true)));
    reg.on_voice_state_update(&call_vs(BOB, Some(CALL), None));
    reg.on_voice_server_update(&VoiceServerUpdate {
        token: Secret::new("voice-token"),
        guild_id: None,
        endpoint: Some("voice.example:443".into()),
        channel_id: Some(CALL),
    });
    reg
}

fn create(rtc: u64) -> StreamInfo {
    StreamInfo {
        stream_key: call_key(ALICE),
        rtc_server_id: Some(ServerId(rtc)),
        rtc_channel_id: Some(ChannelId(rtc + 1)),
        region: Some("rotterdam".into()),
        viewer_ids: vec![ME],
        paused: false,
    }
}

fn server_update() -> StreamServerUpdate {
    StreamServerUpdate {
        stream_key: call_key(ALICE),
        endpoint: Some("stream.example:443".into()),
        token: Secret::new("stream-token"),
        guild_id: None,
    }
}

#[test]
fn guildless_voice_states_put_us_and_a_streamer_in_the_call() {
    let mut reg = Registry::new();
    reg.on_ready(&ready());
    assert_eq!(
        reg.on_voice_state_update(&call_vs(ME, Some(CALL), None)),
        vec![RegistryEvent::SelfVoiceChanged {
            guild: P,
            channel: Some(CALL)
        }]
    );
    let events = reg.on_voice_state_update(&call_vs(ALICE, Some(CALL), Some(true)));
    assert_eq!(
        events,
        vec![
            RegistryEvent::UserJoinedVoice {
                guild: P,
                user: ALICE,
                channel: CALL
            },
            RegistryEvent::GoLiveStarted {
                guild: P,
                user: ALICE,
                channel: CALL
            },
            RegistryEvent::StreamDiscovered {
                key: call_key(ALICE)
            },
        ]
    );
    assert_eq!(reg.own_call(), Some(CALL));
    assert!(reg.is_go_live(P, ALICE));
    assert_eq!(reg.go_live_key(P, ALICE), Some(call_key(ALICE)));
    assert_eq!(reg.guild_count(), 0, "a call is not a guild");
    // Our voice credentials: VOICE_SERVER_UPDATE with guild_id null and
    // the call's channel_id.
    let own = reg.own_voice(P).expect("in the call");
    assert_eq!(own.channel_id, CALL);
    assert_eq!(own.session_id.expose(), "sess-100");
    assert!(own.server.is_none());
    let events = reg.on_voice_server_update(&VoiceServerUpdate {
        token: Secret::new("voice-token"),
        guild_id: None,
        endpoint: Some("voice.example:443".into()),
        channel_id: Some(CALL),
    });
    assert_eq!(
        events,
        vec![RegistryEvent::SelfVoiceServerChanged {
            guild: P,
            ready: true
        }]
    );
    assert_eq!(
        reg.own_voice(P).unwrap().server.unwrap().token.expose(),
        "voice-token"
    );
}

#[test]
fn voice_server_update_without_guild_or_channel_or_for_another_call_is_ignored() {
    let mut reg = in_call();
    let mut neither = VoiceServerUpdate {
        token: Secret::new("t2"),
        guild_id: None,
        endpoint: Some("elsewhere:443".into()),
        channel_id: None,
    };
    assert!(reg.on_voice_server_update(&neither).is_empty());
    neither.channel_id = Some(OTHER_CALL);
    assert!(reg.on_voice_server_update(&neither).is_empty());
    assert!(!reg.knows_guild(Place::Call(OTHER_CALL)));
    assert_eq!(
        reg.own_voice(P).unwrap().server.unwrap().token.expose(),
        "voice-token"
    );
}

#[test]
fn call_stream_create_and_server_update_in_either_order() {
    for create_first in [true, false] {
        let mut reg = in_call();
        let mut events = Vec::new();
        if create_first {
            events.extend(reg.on_stream_create(&create(9000)));
            events.extend(reg.on_stream_server_update(&server_update()));
        } else {
            events.extend(reg.on_stream_server_update(&server_update()));
            events.extend(reg.on_stream_create(&create(9000)));
        }
        assert!(
            events.contains(&RegistryEvent::StreamCredentialsReady {
                key: call_key(ALICE)
            }),
            "create_first={create_first}: {events:?}"
        );
        let s = reg.stream(&call_key(ALICE)).expect("known");
        assert_eq!(s.place, P);
        let c = s.credentials().expect("connectable");
        assert_eq!(c.rtc_server_id, ServerId(9000));
        assert_eq!(c.dave_group_id, 8999);
        assert_eq!(c.token.expose(), "stream-token");
    }
}

#[test]
fn streams_of_a_call_we_know_nothing_of_are_ignored() {
    let mut reg = in_call();
    let mut elsewhere = create(9000);
    elsewhere.stream_key = StreamKey::Call {
        channel_id: OTHER_CALL,
        user_id: ALICE,
    };
    assert!(reg.on_stream_create(&elsewhere).is_empty());
    let mut update = server_update();
    update.stream_key = elsewhere.stream_key;
    assert!(reg.on_stream_server_update(&update).is_empty());
    assert_eq!(reg.call_count(), 1);
}

#[test]
fn target_and_plan_in_a_call_watch_the_call_key() {
    let reg = in_call();
    let sel = select_target(&reg, P, BOB, None).expect("alice is the only sharer");
    assert_eq!(sel.target, ALICE);
    assert_eq!(sel.channel, Some(CALL));
    let sel = select_target(&reg, P, BOB, Some("201")).expect("by id");
    assert_eq!(sel.target, ALICE);
    let plan = plan_transport(&reg, P, ALICE, PlanOptions::default());
    assert_eq!(
        plan,
        TransportPlan::Native {
            stream_key: call_key(ALICE)
        }
    );
    // Webcam in a call: Bob turns his camera on.
    let mut reg = reg;
    let mut cam = call_vs(BOB, Some(CALL), None);
    cam.self_video = true;
    reg.on_voice_state_update(&cam);
    assert_eq!(
        plan_transport(&reg, P, BOB, PlanOptions::default()),
        TransportPlan::Webcam { user: BOB }
    );
    // Someone who is not in the call is never selected.
    assert!(select_target(&reg, P, BOB, Some("999")).is_err());
}

fn watching_alice(reg: &Registry) -> WatchBook {
    let mut book = WatchBook::new();
    let plan = plan_transport(reg, P, ALICE, PlanOptions::default());
    book.start(
        WatchRequest {
            guild: P,
            target: ALICE,
            requester: BOB,
            channel: Some(CALL),
            transport: plan.watch_transport().unwrap(),
        },
        Instant::now(),
    )
    .unwrap();
    book
}

fn teardowns(book: &mut WatchBook, events: &[RegistryEvent]) -> Vec<TeardownReason> {
    events
        .iter()
        .flat_map(|e| book.on_registry_event(e))
        .map(|t| t.reason)
        .collect()
}

#[test]
fn a_call_watch_ends_when_the_streamer_leaves_the_call() {
    let mut reg = in_call();
    let mut book = watching_alice(&reg);
    // A call leave: guild_id null and channel_id null.
    let events = reg.on_voice_state_update(&call_vs(ALICE, None, None));
    assert_eq!(
        teardowns(&mut book, &events),
        vec![TeardownReason::TargetLeftVoice]
    );
    assert!(reg.voice_state(P, ALICE).is_none());
}

#[test]
fn a_call_watch_ends_on_stream_delete_and_when_we_leave() {
    let mut reg = in_call();
    let mut book = watching_alice(&reg);
    let events = reg.on_stream_delete(&StreamDelete {
        stream_key: call_key(ALICE),
        reason: StreamDeleteReason::StreamEnded,
        unavailable: None,
    });
    assert_eq!(
        teardowns(&mut book, &events),
        vec![TeardownReason::StreamDeleted]
    );

    let mut reg = in_call();
    let mut book = watching_alice(&reg);
    let events = reg.on_voice_state_update(&call_vs(ME, None, None));
    assert!(
        teardowns(&mut book, &events).contains(&TeardownReason::SelfLeftVoice),
        "{events:?}"
    );
    assert!(book.is_empty());
    assert_eq!(reg.call_count(), 0, "a call we left is forgotten");
    assert!(reg.own_voice(P).is_none());
}

#[test]
fn joining_another_call_leaves_the_first() {
    let mut reg = in_call();
    let mut book = watching_alice(&reg);
    let events = reg.on_voice_state_update(&call_vs(ALICE, Some(OTHER_CALL), Some(true)));
    assert!(
        teardowns(&mut book, &events).contains(&TeardownReason::TargetLeftVoice),
        "{events:?}"
    );
    assert!(reg.voice_state(P, ALICE).is_none());
    assert_eq!(
        reg.voice_channel(Place::Call(OTHER_CALL), ALICE),
        Some(OTHER_CALL)
    );
}

#[test]
fn calls_are_bounded() {
    let mut reg = Registry::new();
    reg.on_ready(&ready());
    for c in 0..(MAX_CALLS as u64 * 3) {
        reg.on_voice_state_update(&call_vs(
            UserId(1000 + c),
            Some(ChannelId(7000 + c)),
            Some(true),
        ));
    }
    assert_eq!(reg.call_count(), MAX_CALLS);
    // Guilds still have their own room.
    reg.on_voice_state_update(&VoiceState {
        guild_id: Some(gateway_proto::GuildId(1)),
        ..call_vs(ALICE, Some(ChannelId(10)), None)
    });
    assert_eq!(reg.guild_count(), 1);
}

#[test]
fn call_keys_and_places_agree() {
    assert_eq!(
        synthesize_stream_key(P, CALL, ALICE).to_string(),
        "call:500:201"
    );
    assert_eq!(Place::of_stream_key(&call_key(ALICE)), Some(P));
    assert_eq!(P.guild_id(), None);
    assert_eq!(P.voice_server_id(), 500);
    let g = Place::Guild(gateway_proto::GuildId(1));
    assert_eq!(
        synthesize_stream_key(g, CALL, ALICE).to_string(),
        "guild:1:500:201"
    );
    assert_eq!(g.voice_server_id(), 1);
}
