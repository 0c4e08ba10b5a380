//! Behaviour tests: registry, selection rules, transport plan, watch book,
//! and a property test over arbitrary dispatch sequences.

// Tests need some `Instant` to hand to `WatchBook::start`; the library
// itself never reads the clock.
#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use gateway_proto::{
    ChannelId, Guild, GuildId, Member, Ready, Secret, ServerId, StreamDelete, StreamDeleteReason,
    StreamInfo, StreamKey, StreamServerUpdate, User, UserId, VoiceServerUpdate, VoiceState,
};
use proptest::prelude::*;

use crate::*;

const G: GuildId = GuildId(1);
const VC: ChannelId = ChannelId(10);
const OTHER_VC: ChannelId = ChannelId(11);
const ME: UserId = UserId(100);
const ALICE: UserId = UserId(201);
const BOB: UserId = UserId(202);
const CAROL: UserId = UserId(203);
const DAVE: UserId = UserId(204);

fn user(id: UserId, username: &str, global: Option<&str>) -> User {
    User {
        id,
        username: username.into(),
        discriminator: None,
        global_name: global.map(Into::into),
        bot: false,
    }
}

fn member(id: UserId, username: &str, global: Option<&str>, nick: Option<&str>) -> Member {
    Member {
        user: Some(user(id, username, global)),
        nick: nick.map(Into::into),
    }
}

fn vs(
    user_id: UserId,
    channel: Option<ChannelId>,
    stream: Option<bool>,
    video: bool,
) -> VoiceState {
    VoiceState {
        guild_id: Some(G),
        channel_id: channel,
        user_id,
        member: None,
        session_id: Secret::new(format!("sess-{user_id}")),
        deaf: false,
        mute: false,
        self_deaf: false,
        self_mute: false,
        self_stream: stream,
        self_video: video,
        suppress: false,
        request_to_speak_timestamp: None,
    }
}

fn key(user: UserId) -> StreamKey {
    synthesize_stream_key(G, VC, user)
}

fn ready() -> Ready {
    Ready {
        v: Some(9),
        user: user(ME, "clanky", None),
        session_id: Secret::new("gw-session"),
        resume_gateway_url: None,
        guilds: Vec::new(),
        private_channels: Vec::new(),
    }
}

fn guild(voice_states: Vec<VoiceState>) -> Guild {
    Guild {
        id: G,
        name: Some("g".into()),
        unavailable: None,
        channels: Vec::new(),
        members: vec![
            member(ME, "clanky", None, None),
            member(ALICE, "alice_w", Some("Alice Wonder"), None),
            member(BOB, "bob", Some("Bobby"), Some("Builder Bob")),
            member(CAROL, "carol", None, None),
            member(DAVE, "dave", None, None),
        ],
        voice_states: voice_states
            .into_iter()
            .map(|mut v| {
                v.guild_id = None;
                v
            })
            .collect(),
    }
}

/// Registry with READY, GUILD_CREATE (the given voice states) and us in VC.
fn registry(voice_states: Vec<VoiceState>) -> Registry {
    let mut reg = Registry::new();
    reg.on_ready(&ready());
    let mut states = vec![vs(ME, Some(VC), None, false)];
    states.extend(voice_states);
    reg.on_guild_create(&guild(states));
    reg
}

fn stream_create(owner: UserId, rtc: u64) -> StreamInfo {
    StreamInfo {
        stream_key: key(owner),
        rtc_server_id: Some(ServerId(rtc)),
        rtc_channel_id: Some(ChannelId(rtc + 1)),
        region: Some("rotterdam".into()),
        viewer_ids: vec![ME],
        paused: false,
    }
}

fn server_update(owner: UserId) -> StreamServerUpdate {
    StreamServerUpdate {
        stream_key: key(owner),
        endpoint: Some("stream.example:443".into()),
        token: Secret::new("stream-token"),
        guild_id: Some(G),
    }
}

fn delete(owner: UserId, reason: StreamDeleteReason) -> StreamDelete {
    StreamDelete {
        stream_key: key(owner),
        reason,
        unavailable: None,
    }
}

const USER_LINK: PlanOptions = PlanOptions {
    bot_account: false,
    link_fallback_enabled: true,
    preferred_link: false,
};

fn reason_of(r: Result<Selection, Refusal>) -> &'static str {
    match r {
        Ok(s) => s.reason.as_str(),
        Err(e) => e.reason(),
    }
}

// ---- registry ----

#[test]
fn guild_create_scan_finds_existing_streamers() {
    let mut reg = Registry::new();
    reg.on_ready(&ready());
    let events = reg.on_guild_create(&guild(vec![
        vs(ME, Some(VC), None, false),
        vs(ALICE, Some(VC), Some(true), false),
        vs(BOB, Some(VC), Some(false), false),
    ]));
    assert!(events.contains(&RegistryEvent::StreamDiscovered { key: key(ALICE) }));
    assert!(events.contains(&RegistryEvent::SelfVoiceChanged {
        guild: G.into(),
        channel: Some(VC)
    }));
    assert!(reg.is_go_live(G, ALICE));
    assert!(!reg.is_go_live(G, BOB));
    let s = reg.primary_stream(ALICE).expect("provisional stream");
    assert!(!s.created);
    assert_eq!(s.credentials(), None);
    // The scan result is selectable without a target.
    let sel = select_target(&reg, G, BOB, None).expect("single sharer");
    assert_eq!(sel.target, ALICE);
    assert_eq!(sel.reason, SelectionReason::SingleGoLiveInChannel);
}

#[test]
fn stream_lifecycle_create_credentials_update_delete() {
    let mut reg = registry(vec![vs(ALICE, Some(VC), Some(true), false)]);
    let ev = reg.on_stream_create(&stream_create(ALICE, 9002));
    assert_eq!(
        ev,
        vec![RegistryEvent::StreamDiscovered { key: key(ALICE) }]
    );
    let ev = reg.on_stream_server_update(&server_update(ALICE));
    assert_eq!(
        ev,
        vec![RegistryEvent::StreamCredentialsReady { key: key(ALICE) }]
    );
    let creds = reg
        .stream(&key(ALICE))
        .and_then(Stream::credentials)
        .expect("credentials");
    assert_eq!(creds.rtc_server_id, ServerId(9002));
    assert_eq!(creds.dave_group_id, 9001);
    assert!(!format!("{creds:?}").contains("stream-token"));

    let mut upd = stream_create(ALICE, 9002);
    upd.paused = true;
    assert_eq!(
        reg.on_stream_update(&upd),
        vec![RegistryEvent::StreamUpdated {
            key: key(ALICE),
            paused: true
        }]
    );
    let mut realloc = server_update(ALICE);
    realloc.endpoint = None;
    assert_eq!(
        reg.on_stream_server_update(&realloc),
        vec![RegistryEvent::StreamReallocating { key: key(ALICE) }]
    );
    let ev = reg.on_stream_delete(&delete(ALICE, StreamDeleteReason::StreamEnded));
    assert!(matches!(
        ev.as_slice(),
        [RegistryEvent::StreamEnded {
            reason: StreamEndReason::Deleted { .. },
            ..
        }]
    ));
    assert!(reg.stream(&key(ALICE)).is_none());
    // The owner's voice state still says Go Live.
    assert!(reg.is_go_live(G, ALICE));
}

/// Issue 15 item 3: STREAM_SERVER_UPDATE before STREAM_CREATE. Discord
/// answers op 20 with both (discord-userdoccers
/// `pages/gateway/gateway-events.mdx`, fact sheet §4.2) and promises no
/// order. The old registry dropped the early update (unknown stream) and
/// its STREAM_CREATE then found no credentials: this test failed on it
/// at `StreamCredentialsReady`.
#[test]
fn server_update_before_create_keeps_credentials() {
    let mut reg = registry(vec![vs(ALICE, Some(VC), None, false)]);
    let ev = reg.on_stream_server_update(&server_update(ALICE));
    assert_eq!(
        ev,
        vec![RegistryEvent::StreamDiscovered { key: key(ALICE) }]
    );
    let s = reg
        .stream(&key(ALICE))
        .expect("entry from the early update");
    assert!(!s.created);
    assert_eq!(s.credentials(), None, "no rtc_server_id yet");
    let ev = reg.on_stream_create(&stream_create(ALICE, 9002));
    assert_eq!(
        ev,
        vec![
            RegistryEvent::StreamDiscovered { key: key(ALICE) },
            RegistryEvent::StreamCredentialsReady { key: key(ALICE) },
        ]
    );
    let creds = reg
        .stream(&key(ALICE))
        .and_then(Stream::credentials)
        .expect("credentials survive STREAM_CREATE");
    assert_eq!(creds.endpoint, "stream.example:443");
    assert_eq!(creds.token.expose(), "stream-token");
    assert_eq!(creds.rtc_server_id, ServerId(9002));
}

/// Issue 15 item 3: a re-watch whose new pair arrives update-first on a
/// stream that moved to another server. The old rule ("clear credentials
/// when `rtc_server_id` changes") wiped the fresh token here.
#[test]
fn create_with_new_server_id_after_its_update_keeps_the_new_token() {
    let mut reg = registry(vec![vs(ALICE, Some(VC), Some(true), false)]);
    reg.on_stream_create(&stream_create(ALICE, 9002));
    reg.on_stream_server_update(&server_update(ALICE));
    let mut fresh = server_update(ALICE);
    fresh.token = Secret::new("fresh-token");
    reg.on_stream_server_update(&fresh);
    let ev = reg.on_stream_create(&stream_create(ALICE, 7002));
    assert!(ev.contains(&RegistryEvent::StreamCredentialsReady { key: key(ALICE) }));
    let creds = reg
        .stream(&key(ALICE))
        .and_then(Stream::credentials)
        .expect("credentials");
    assert_eq!(creds.token.expose(), "fresh-token");
    assert_eq!(creds.rtc_server_id, ServerId(7002));
}

#[test]
fn both_orders_give_the_same_stream() {
    let mut a = registry(vec![vs(ALICE, Some(VC), Some(true), false)]);
    a.on_stream_create(&stream_create(ALICE, 9002));
    a.on_stream_server_update(&server_update(ALICE));
    let mut b = registry(vec![vs(ALICE, Some(VC), Some(true), false)]);
    b.on_stream_server_update(&server_update(ALICE));
    b.on_stream_create(&stream_create(ALICE, 9002));
    let sa = a.stream(&key(ALICE)).expect("a");
    let sb = b.stream(&key(ALICE)).expect("b");
    assert_eq!(sa.credentials(), sb.credentials());
    assert!(sa.credentials().is_some());
    assert_eq!((sa.created, sb.created), (true, true));
}

#[test]
fn forgotten_credentials_need_a_new_server_update() {
    let mut reg = registry(vec![vs(ALICE, Some(VC), Some(true), false)]);
    reg.on_stream_create(&stream_create(ALICE, 9002));
    reg.on_stream_server_update(&server_update(ALICE));
    assert!(reg.forget_stream_credentials(&key(ALICE)));
    let s = reg.stream(&key(ALICE)).expect("kept");
    assert_eq!(s.credentials(), None);
    assert_eq!(s.rtc_server_id, Some(ServerId(9002)));
    reg.on_stream_server_update(&server_update(ALICE));
    assert!(
        reg.stream(&key(ALICE))
            .and_then(Stream::credentials)
            .is_some()
    );
    assert!(!reg.forget_stream_credentials(&key(BOB)));
}

#[test]
fn server_update_for_unknown_guild_or_call_key_is_ignored() {
    let mut reg = registry(vec![]);
    let mut elsewhere = server_update(ALICE);
    elsewhere.stream_key = synthesize_stream_key(GuildId(77), VC, ALICE);
    assert!(reg.on_stream_server_update(&elsewhere).is_empty());
    assert!(!reg.knows_guild(GuildId(77)));
    let call = StreamInfo {
        stream_key: StreamKey::Call {
            channel_id: VC,
            user_id: ALICE,
        },
        ..stream_create(ALICE, 5)
    };
    assert!(reg.on_stream_create(&call).is_empty());
    assert_eq!(reg.stream_count(G), 0);
}

#[test]
fn voice_transitions_and_own_voice() {
    let mut reg = registry(vec![]);
    assert_eq!(
        reg.on_voice_state_update(&vs(ALICE, Some(VC), None, false)),
        vec![RegistryEvent::UserJoinedVoice {
            guild: G.into(),
            user: ALICE,
            channel: VC
        }]
    );
    let ev = reg.on_voice_state_update(&vs(ALICE, Some(VC), None, true));
    assert_eq!(
        ev,
        vec![RegistryEvent::WebcamChanged {
            guild: G.into(),
            user: ALICE,
            on: true
        }]
    );
    let ev = reg.on_voice_state_update(&vs(ALICE, Some(OTHER_VC), None, true));
    assert_eq!(
        ev,
        vec![RegistryEvent::UserMovedVoice {
            guild: G.into(),
            user: ALICE,
            from: VC,
            to: OTHER_VC
        }]
    );
    let ev = reg.on_voice_state_update(&vs(ALICE, None, None, false));
    assert_eq!(
        ev,
        vec![RegistryEvent::UserLeftVoice {
            guild: G.into(),
            user: ALICE,
            channel: OTHER_VC
        }]
    );

    assert_eq!(reg.own_voice(G).map(|v| v.server), Some(None));
    let ev = reg.on_voice_server_update(&VoiceServerUpdate {
        token: Secret::new("voice-token"),
        guild_id: Some(G),
        endpoint: Some("voice.example:443".into()),
        channel_id: None,
    });
    assert_eq!(
        ev,
        vec![RegistryEvent::SelfVoiceServerChanged {
            guild: G.into(),
            ready: true
        }]
    );
    let own = reg.own_voice(G).expect("in voice");
    assert_eq!(own.channel_id, VC);
    assert_eq!(own.session_id.expose(), format!("sess-{ME}"));
    assert_eq!(
        own.server.as_ref().map(|s| s.token.expose()),
        Some("voice-token")
    );
    let shown = format!("{own:?}");
    assert!(!shown.contains("voice-token") && !shown.contains("sess-100"));

    let ev = reg.on_voice_state_update(&vs(ME, None, None, false));
    assert_eq!(
        ev,
        vec![RegistryEvent::SelfVoiceChanged {
            guild: G.into(),
            channel: None
        }]
    );
    assert_eq!(reg.own_voice(G), None);
}

#[test]
fn go_live_off_and_leaving_end_streams() {
    let mut reg = registry(vec![vs(ALICE, Some(VC), Some(true), false)]);
    let ev = reg.on_voice_state_update(&vs(ALICE, Some(VC), Some(false), false));
    assert!(ev.contains(&RegistryEvent::GoLiveEnded {
        guild: G.into(),
        user: ALICE
    }));
    assert!(ev.contains(&RegistryEvent::StreamEnded {
        key: key(ALICE),
        reason: StreamEndReason::OwnerStoppedGoLive
    }));
    reg.on_voice_state_update(&vs(BOB, Some(VC), Some(true), false));
    let ev = reg.on_voice_state_update(&vs(BOB, None, None, false));
    assert!(ev.contains(&RegistryEvent::StreamEnded {
        key: key(BOB),
        reason: StreamEndReason::OwnerLeftVoice
    }));
    assert_eq!(reg.stream_count(G), 0);
}

#[test]
fn key_synthesis_and_dave_group_id() {
    assert_eq!(
        synthesize_stream_key(GuildId(1), ChannelId(2), UserId(3)).to_string(),
        "guild:1:2:3"
    );
    assert_eq!(stream_dave_group_id(ServerId(9002)), 9001);
    assert_eq!(stream_dave_group_id(ServerId(9010)), 9009);
    assert_eq!(stream_dave_group_id(ServerId(0)), 0);
    // A Go Live known only from the voice state plans with a synthesized
    // key, and the registry's discovered key when it exists.
    let reg = registry(vec![vs(ALICE, Some(VC), Some(true), false)]);
    assert_eq!(reg.go_live_key(G, ALICE), Some(key(ALICE)));
}

#[test]
fn primary_stream_prefers_credentials() {
    let mut reg = registry(vec![]);
    // Alice streams in VC (with credentials) per STREAM_CREATE, and a stale
    // provisional entry in another channel is not preferred.
    let mut other = stream_create(ALICE, 50);
    other.stream_key = synthesize_stream_key(G, OTHER_VC, ALICE);
    reg.on_stream_create(&other);
    reg.on_stream_create(&stream_create(ALICE, 60));
    reg.on_stream_server_update(&server_update(ALICE));
    assert_eq!(reg.primary_stream(ALICE).map(|s| s.key), Some(key(ALICE)));
}

#[path = "tests_select_plan.rs"]
mod tests_select_plan;
#[path = "tests_start.rs"]
mod tests_start;
