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
    ChannelId, CreateStream, Dispatch, GuildId, StreamDeleteReason, StreamKey, UpdateVoiceState,
    UserId,
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
        session,
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
    for e in &fx {
        match e {
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
                assert_eq!(s, "S1");
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
    assert!(saw_state && saw_server);
}

#[test]
fn the_call_refuses_outsiders_and_a_guild_id() {
    let mut w = world();
    let (agent, carol) = (uid(&w, "agent"), uid(&w, "carol"));
    assert!(
        w.update_voice_state(
            carol,
            "C1",
            &UpdateVoiceState::join(None, TRIO, false, true)
        )
        .is_err(),
        "carol is not a recipient of the group DM"
    );
    assert!(
        w.update_voice_state(
            agent,
            "S1",
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
    let fx = w.watch_stream(agent, "S1", key).expect("watch");
    let mut created = false;
    let mut server = false;
    for e in &fx {
        match e {
            Effect::Dispatch {
                to: Audience::Session(s),
                event: Dispatch::StreamCreate(info),
            } if s == "S1" => {
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
    let fx = w.watch_stream(carol, "C1", key).expect("answered");
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
        .create_stream(agent, "S1", &CreateStream::call(TRIO))
        .expect("answered");
    assert!(
        fx.iter().any(|e| matches!(e,
            Effect::Dispatch { event: Dispatch::StreamCreate(i), .. }
                if i.stream_key == StreamKey::Call { channel_id: TRIO, user_id: agent })),
        "{fx:?}"
    );
    let fx = w
        .create_stream(agent, "S1", &CreateStream::guild(GUILD, TRIO))
        .expect("answered");
    assert!(
        fx.iter().any(|e| matches!(e,
            Effect::Dispatch { event: Dispatch::StreamDelete(d), .. }
                if d.reason == StreamDeleteReason::InvalidChannel)),
        "{fx:?}"
    );
}
