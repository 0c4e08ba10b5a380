//! DM / group DM calls in the world model (issue 15 item 14), on the
//! built-in `call` scenario. Facts (fact sheet `discord-protocol.md`):
//! §4.3 voice states in a call have `guild_id` null; VOICE_SERVER_UPDATE
//! has `guild_id` null and `channel_id` "present for DM/private calls,
//! absent for guilds" [discord-userdoccers gateway-events.mdx;
//! Discord-video-stream PR #163]; §4.4 call stream keys `call:C:U`; §1.5
//! the call's voice `server_id` is the DM channel id [Discord-video-stream
//! `serverId = guildId ?? channelId`]; §4.5 op 4 joins a call with
//! `guild_id: null`.

use std::time::Duration;

use gateway_proto::{
    ChannelId, CreateStream, Dispatch, GuildId, Secret, StreamDeleteReason, StreamKey,
    UpdateVoiceState, UserId,
};

use crate::media::{GrantKind, MediaAction, ServerKind, VideoSpecConfig};
use crate::scenario::Scenario;
use crate::world::{Audience, Effect, UserRef, World, WorldSettings};

const TRIO: ChannelId = ChannelId(900_000_000_000_000_050);
const GUILD: GuildId = GuildId(900_000_000_000_000_001);

fn world() -> World {
    let settings = WorldSettings {
        voice_endpoint: "127.0.0.1:1111".into(),
        stream_endpoint: "127.0.0.1:2222".into(),
        stream_server_update_delay: Duration::ZERO,
        ..WorldSettings::default()
    };
    Scenario::builtin("call")
        .expect("built-in call parses")
        .build_world(5, settings)
        .expect("call builds")
}

fn uid(w: &World, name: &str) -> UserId {
    w.resolve_user(&UserRef::Name(name.into())).expect("user")
}

fn join_call(w: &mut World, user: UserId, session: &str) -> Vec<Effect> {
    w.update_voice_state(
        user,
        &Secret::new(session),
        &UpdateVoiceState::join(None, TRIO, false, true),
    )
    .expect("join the call")
}

/// Alice (simulated) in the call and live; the agent joined as S1.
fn running() -> (World, UserId, UserId) {
    let mut w = world();
    let (alice, agent) = (uid(&w, "alice"), uid(&w, "agent"));
    w.sim_join(alice, TRIO, false, false, None)
        .expect("alice joins");
    w.sim_start_stream(alice, VideoSpecConfig::default())
        .expect("alice streams");
    join_call(&mut w, agent, "S1");
    (w, alice, agent)
}

#[test]
fn joining_a_call_announces_a_guildless_state_and_a_server_update_with_the_channel() {
    let mut w = world();
    let agent = uid(&w, "agent");
    let fx = join_call(&mut w, agent, "S1");
    let mut saw_state = false;
    let mut saw_server = false;
    let mut saw_call_create = false;
    for e in &fx {
        match e {
            // The agent starts the call: CALL_CREATE (nobody in it yet)
            // before its voice state.
            Effect::Dispatch {
                to: Audience::Call(c),
                event: Dispatch::CallCreate(call),
            } => {
                assert_eq!((*c, call.channel_id), (TRIO, TRIO));
                assert!(call.voice_states.is_empty() && !saw_state);
                saw_call_create = true;
            }
            Effect::Dispatch {
                to: Audience::Call(c),
                event: Dispatch::VoiceStateUpdate(v),
            } => {
                assert_eq!(*c, TRIO);
                assert_eq!(v.guild_id, None);
                assert_eq!(v.channel_id, Some(TRIO));
                saw_state = true;
            }
            Effect::Dispatch {
                to: Audience::Session(s),
                event: Dispatch::VoiceServerUpdate(u),
            } => {
                assert_eq!(s.expose(), "S1");
                assert_eq!(u.guild_id, None);
                assert_eq!(u.channel_id, Some(TRIO));
                saw_server = true;
            }
            Effect::Media(MediaAction::Grant { server, grant }) => {
                assert_eq!(*server, ServerKind::Voice);
                assert_eq!(grant.room, TRIO.get(), "the call's room is the DM channel");
                assert!(matches!(
                    grant.kind,
                    GrantKind::Voice { guild_id, channel_id }
                        if guild_id == TRIO.get() && channel_id == TRIO.get()
                ));
            }
            other => panic!("unexpected effect {other:?}"),
        }
    }
    assert!(saw_state && saw_server && saw_call_create);
}

#[test]
fn the_call_refuses_outsiders_and_a_guild_id() {
    let mut w = world();
    let (agent, carol) = (uid(&w, "agent"), uid(&w, "carol"));
    assert!(
        w.update_voice_state(
            carol,
            &Secret::new("C1"),
            &UpdateVoiceState::join(None, TRIO, false, true)
        )
        .is_err(),
        "carol is not a recipient of the group DM"
    );
    assert!(
        w.update_voice_state(
            agent,
            &Secret::new("S1"),
            &UpdateVoiceState::join(Some(GUILD), TRIO, false, true)
        )
        .is_err(),
        "a call is joined with guild_id null"
    );
    assert!(w.sim_join(carol, TRIO, false, false, None).is_err());
}

#[test]
fn watching_a_call_stream_answers_create_and_server_update_with_the_call_key() {
    let (mut w, alice, agent) = running();
    let key = StreamKey::Call {
        channel_id: TRIO,
        user_id: alice,
    };
    let rtc = w.stream(&key).expect("alice's call stream").rtc_server_id;
    let fx = w
        .watch_stream(agent, &Secret::new("S1"), key)
        .expect("watch");
    let mut created = false;
    let mut server = false;
    for e in &fx {
        match e {
            Effect::Dispatch {
                to: Audience::Session(s),
                event: Dispatch::StreamCreate(info),
            } if s.expose() == "S1" => {
                assert_eq!(info.stream_key, key);
                created = true;
            }
            Effect::Dispatch {
                event: Dispatch::StreamServerUpdate(u),
                ..
            } => {
                assert_eq!(u.stream_key, key);
                assert_eq!(u.guild_id, None);
                server = true;
            }
            Effect::Media(MediaAction::Grant { server, grant }) => {
                assert_eq!(*server, ServerKind::Stream);
                assert_eq!(grant.room, rtc, "the stream room is rtc_server_id");
            }
            _ => {}
        }
    }
    assert!(created && server, "{fx:?}");
}

#[test]
fn a_call_stream_is_refused_to_someone_not_in_the_call() {
    let (mut w, alice, _) = running();
    let carol = uid(&w, "carol");
    let key = StreamKey::Call {
        channel_id: TRIO,
        user_id: alice,
    };
    let fx = w
        .watch_stream(carol, &Secret::new("C1"), key)
        .expect("answered");
    assert!(
        matches!(
            fx.as_slice(),
            [Effect::Dispatch { event: Dispatch::StreamDelete(d), .. }]
                if d.reason == StreamDeleteReason::Unauthorized
        ),
        "{fx:?}"
    );
}

#[test]
fn op18_in_a_call_needs_type_call() {
    let (mut w, _, agent) = running();
    let fx = w
        .create_stream(agent, &Secret::new("S1"), &CreateStream::call(TRIO))
        .expect("answered");
    assert!(
        fx.iter().any(|e| matches!(e,
            Effect::Dispatch { event: Dispatch::StreamCreate(i), .. }
                if i.stream_key == StreamKey::Call { channel_id: TRIO, user_id: agent })),
        "{fx:?}"
    );
    let fx = w
        .create_stream(agent, &Secret::new("S1"), &CreateStream::guild(GUILD, TRIO))
        .expect("answered");
    assert!(
        fx.iter().any(|e| matches!(e,
            Effect::Dispatch { event: Dispatch::StreamDelete(d), .. }
                if d.reason == StreamDeleteReason::InvalidChannel)),
        "{fx:?}"
    );
}

/// Issue 15 item 14: a call's lifetime on the gateway. discord-userdoccers
/// `pages/gateway/gateway-events.mdx`: "Call Create … Sent when a user
/// creates a call in a private channel" with `voice_states` "of the users
/// already in the call"; "Call Delete … Sent when a call is deleted".
/// The old world sent neither, so a client connecting to a running call
/// never learnt of it.
#[test]
fn a_call_starts_with_call_create_and_ends_with_call_delete() {
    let mut w = world();
    let (alice, bob, agent) = (uid(&w, "alice"), uid(&w, "bob"), uid(&w, "agent"));
    assert!(w.call_create_object(TRIO).is_none(), "no call yet");
    let fx = w.sim_join(alice, TRIO, false, false, None).expect("alice");
    let creates: Vec<_> = fx
        .iter()
        .filter(|e| {
            matches!(e, Effect::Dispatch { to: Audience::Call(c), event: Dispatch::CallCreate(_) } if *c == TRIO)
        })
        .collect();
    assert_eq!(creates.len(), 1, "{fx:?}");
    // The second joiner does not create it again.
    let fx = w.sim_join(bob, TRIO, false, false, None).expect("bob");
    assert!(
        !fx.iter().any(|e| matches!(
            e,
            Effect::Dispatch {
                event: Dispatch::CallCreate(_),
                ..
            }
        )),
        "{fx:?}"
    );
    // What a recipient connecting now is told: both are in the call.
    let call = w.call_create_object(TRIO).expect("ongoing");
    let mut users: Vec<_> = call.voice_states.iter().map(|v| v.user_id).collect();
    users.sort();
    assert_eq!(users, vec![alice, bob]);
    assert!(
        call.voice_states
            .iter()
            .all(|v| v.guild_id.is_none() && v.channel_id == Some(TRIO))
    );
    assert!(call.message_id.is_some());
    assert_eq!(w.ongoing_calls_of(agent), vec![TRIO]);
    assert!(
        w.ongoing_calls_of(uid(&w, "carol")).is_empty(),
        "not a recipient"
    );
    // READY's private channels: the group DM, without the user themself.
    let dms = w.private_channels_of(agent);
    assert_eq!(dms.len(), 1);
    assert_eq!(dms[0].kind, gateway_proto::Channel::GROUP_DM);
    assert_eq!(dms[0].name.as_deref(), Some("Trio"));
    let mut recips: Vec<_> = dms[0].recipients.iter().map(|u| u.id).collect();
    recips.sort();
    assert_eq!(recips, vec![alice, bob]);
    // The last one out ends the call.
    let fx = w.force_leave(alice);
    assert!(!fx.iter().any(|e| matches!(
        e,
        Effect::Dispatch {
            event: Dispatch::CallDelete(_),
            ..
        }
    )));
    let fx = w.force_leave(bob);
    let last = fx.last().expect("effects");
    assert!(
        matches!(last, Effect::Dispatch { to: Audience::Call(c), event: Dispatch::CallDelete(d) } if *c == TRIO && d.channel_id == TRIO),
        "{fx:?}"
    );
    assert!(w.call_create_object(TRIO).is_none());
    assert!(w.ongoing_calls_of(agent).is_empty());
}
