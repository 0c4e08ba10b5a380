//! CALL_CREATE / CALL_DELETE (issue 15 item 14): a call that was already
//! running when the gateway session started is known from CALL_CREATE,
//! before any voice state of it. Witness: discord-userdoccers
//! `pages/gateway/gateway-events.mdx` "Call Create" ("to inform the client
//! of an existing call"; `voice_states`: "The voice states of the users
//! already in the call") and "Call Delete" ("Sent when a call is deleted,
//! or becomes unavailable due to an outage"); `using-gateway.mdx`
//! AUTO_CALL_CONNECT. Without `on_call_create`, a watch requested right
//! after connect was refused with `guild_unknown`.

#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use gateway_proto::{
    CallCreate, CallDelete, ChannelId, Ready, Secret, StreamKey, User, UserId, VoiceState,
};

use crate::*;

const CALL: ChannelId = ChannelId(500);
const ME: UserId = UserId(100);
const ALICE: UserId = UserId(201);
const BOB: UserId = UserId(202);
const P: Place = Place::Call(CALL);

fn vs(user_id: UserId, stream: bool) -> VoiceState {
    VoiceState {
        guild_id: None,
        channel_id: Some(CALL),
        user_id,
        member: None,
        session_id: Secret::new(format!("sess-{user_id}")),
        deaf: false,
        mute: false,
        self_deaf: false,
        self_mute: false,
        self_stream: Some(stream),
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
            username: "agent".into(),
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

fn call_create(voice_states: Vec<VoiceState>) -> CallCreate {
    CallCreate {
        channel_id: CALL,
        message_id: None,
        region: Some("rotterdam".into()),
        ringing: Vec::new(),
        voice_states,
    }
}

fn call_key(user: UserId) -> StreamKey {
    StreamKey::Call {
        channel_id: CALL,
        user_id: user,
    }
}

/// READY then the CALL_CREATE of a running call: Alice (live) and Bob.
fn after_connect() -> Registry {
    let mut reg = Registry::new();
    reg.on_ready(&ready());
    reg.on_call_create(&call_create(vec![vs(ALICE, true), vs(BOB, false)]));
    reg
}

#[test]
fn a_running_call_is_known_from_call_create_and_watchable() {
    let mut reg = Registry::new();
    reg.on_ready(&ready());
    // What the old registry could say right after connect.
    assert_eq!(
        select_target(&reg, P, BOB, Some("201")),
        Err(Refusal::GuildUnknown)
    );
    let events = reg.on_call_create(&call_create(vec![vs(ALICE, true), vs(BOB, false)]));
    assert!(
        events.contains(&RegistryEvent::GoLiveStarted {
            guild: P,
            user: ALICE,
            channel: CALL
        }) && events.contains(&RegistryEvent::StreamDiscovered {
            key: call_key(ALICE)
        }),
        "{events:?}"
    );
    assert!(reg.knows_guild(P));
    assert_eq!(reg.voice_state_count(P), 2);
    let sel = select_target(&reg, P, BOB, Some("201")).expect("alice is in the call");
    assert_eq!(sel.target, ALICE);
    assert_eq!(sel.channel, Some(CALL));
    assert_eq!(
        plan_transport(&reg, P, ALICE, PlanOptions::default()),
        TransportPlan::Native {
            stream_key: call_key(ALICE)
        }
    );
    // We are not in the call yet: no own voice there.
    assert!(reg.own_voice(P).is_none());
    assert_eq!(reg.own_call(), None);
}

#[test]
fn call_create_voice_states_are_in_the_call_whatever_their_channel_says() {
    let mut reg = Registry::new();
    reg.on_ready(&ready());
    let mut odd = vs(ALICE, true);
    odd.channel_id = None;
    reg.on_call_create(&call_create(vec![odd]));
    assert_eq!(reg.voice_channel(P, ALICE), Some(CALL));
}

#[test]
fn a_later_call_create_replaces_the_roster() {
    let mut reg = after_connect();
    let events = reg.on_call_create(&call_create(vec![vs(BOB, false)]));
    assert!(
        events.contains(&RegistryEvent::UserLeftVoice {
            guild: P,
            user: ALICE,
            channel: CALL
        }),
        "{events:?}"
    );
    assert!(reg.voice_state(P, ALICE).is_none());
    assert!(reg.stream(&call_key(ALICE)).is_none());
}

#[test]
fn an_announced_call_stays_known_after_we_leave_it() {
    let mut reg = after_connect();
    reg.on_voice_state_update(&vs(ME, false));
    assert_eq!(reg.own_call(), Some(CALL));
    reg.on_voice_state_update(&VoiceState {
        channel_id: None,
        ..vs(ME, false)
    });
    assert_eq!(reg.own_call(), None);
    assert!(reg.knows_guild(P), "the call goes on without us");
    assert!(select_target(&reg, P, BOB, Some("201")).is_ok());
}

#[test]
fn call_delete_forgets_the_call_and_ends_its_watch() {
    let mut reg = after_connect();
    reg.on_voice_state_update(&vs(ME, false));
    let mut book = WatchBook::new();
    let plan = plan_transport(&reg, P, ALICE, PlanOptions::default());
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
    let events = reg.on_call_delete(&CallDelete {
        channel_id: CALL,
        unavailable: None,
    });
    assert!(
        events.contains(&RegistryEvent::SelfVoiceChanged {
            guild: P,
            channel: None
        }),
        "{events:?}"
    );
    let ended: Vec<_> = events
        .iter()
        .flat_map(|e| book.on_registry_event(e))
        .collect();
    assert!(!ended.is_empty(), "{events:?}");
    assert!(book.is_empty());
    assert!(!reg.knows_guild(P));
    // Unknown calls: nothing.
    assert!(
        reg.on_call_delete(&CallDelete {
            channel_id: ChannelId(999),
            unavailable: Some(true)
        })
        .is_empty()
    );
}

#[test]
fn call_creates_are_bounded_and_ready_forgets_them() {
    let mut reg = Registry::new();
    reg.on_ready(&ready());
    for c in 0..(MAX_CALLS as u64 * 2) {
        reg.on_call_create(&CallCreate {
            channel_id: ChannelId(7000 + c),
            ..call_create(Vec::new())
        });
    }
    assert_eq!(reg.call_count(), MAX_CALLS);
    reg.on_ready(&ready());
    assert_eq!(reg.call_count(), 0);
}
