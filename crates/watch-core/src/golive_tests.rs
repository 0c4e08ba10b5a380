//! [`OwnGoLive`] against a registry fed raw dispatches, in both orders of
//! STREAM_CREATE / STREAM_SERVER_UPDATE.

use gateway_proto::{
    ClientCommand, Guild, Ready, ServerId, StreamDelete, StreamDeleteReason, StreamInfo,
    StreamServerUpdate, User, VoiceServerUpdate, VoiceState,
};

use super::*;

const G: GuildId = GuildId(1);
const VC: ChannelId = ChannelId(10);
const ME: UserId = UserId(100);

fn own_voice_state(channel: Option<ChannelId>) -> VoiceState {
    VoiceState {
        guild_id: Some(G),
        channel_id: channel,
        user_id: ME,
        member: None,
        session_id: Secret::new("voice-session"),
        deaf: false,
        mute: false,
        self_deaf: false,
        self_mute: false,
        self_stream: None,
        self_video: false,
        suppress: false,
        request_to_speak_timestamp: None,
    }
}

/// READY, GUILD_CREATE, us in VC with voice credentials.
fn in_voice() -> Registry {
    let mut reg = Registry::new();
    reg.on_ready(&Ready {
        v: Some(10),
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
    });
    reg.on_guild_create(&Guild {
        id: G,
        name: Some("g".into()),
        unavailable: None,
        channels: Vec::new(),
        members: Vec::new(),
        voice_states: Vec::new(),
    });
    reg.on_voice_state_update(&own_voice_state(Some(VC)));
    reg.on_voice_server_update(&VoiceServerUpdate {
        token: Secret::new("voice-token"),
        guild_id: Some(G),
        endpoint: Some("voice.example:443".into()),
        channel_id: None,
    });
    reg
}

fn own_key() -> StreamKey {
    StreamKey::Guild {
        guild_id: G,
        channel_id: VC,
        user_id: ME,
    }
}

fn create() -> StreamInfo {
    StreamInfo {
        stream_key: own_key(),
        rtc_server_id: Some(ServerId(5002)),
        rtc_channel_id: Some(ChannelId(5003)),
        region: Some("sim".into()),
        viewer_ids: Vec::new(),
        paused: false,
    }
}

fn server_update(token: &str) -> StreamServerUpdate {
    StreamServerUpdate {
        stream_key: own_key(),
        endpoint: Some("stream.example:443".into()),
        token: Secret::new(token),
        guild_id: Some(G),
    }
}

fn feed(live: &mut OwnGoLive, reg: &Registry, events: Vec<RegistryEvent>) -> Vec<GoLiveOutput> {
    events
        .iter()
        .flat_map(|e| live.on_registry_event(reg, e))
        .collect()
}

/// Issue 15 item 18: op 18 with the documented payload, then op 22
/// `paused:false` (fact sheet §4.2, §4.5 step 2). Before, control never
/// sent op 18 at all.
#[test]
fn start_sends_op18_then_op22() {
    let (live, out) = OwnGoLive::start(G, VC, ME);
    assert_eq!(live.key(), own_key());
    assert_eq!(live.phase(), GoLivePhase::Requested);
    let texts: Vec<String> = out
        .iter()
        .map(|o| match o {
            GoLiveOutput::Gateway(c) => c.to_text(),
            other => panic!("only gateway commands at start: {other:?}"),
        })
        .collect();
    assert_eq!(
        texts,
        [
            r#"{"op":18,"d":{"channel_id":"10","guild_id":"1","preferred_region":null,"type":"guild"}}"#,
            r#"{"op":22,"d":{"paused":false,"stream_key":"guild:1:10:100"}}"#,
        ]
    );
}

fn connect_in_order(server_first: bool) -> Vec<GoLiveOutput> {
    let mut reg = in_voice();
    let (mut live, _) = OwnGoLive::start(G, VC, ME);
    let mut out = Vec::new();
    if server_first {
        let ev = reg.on_stream_server_update(&server_update("t1"));
        out.extend(feed(&mut live, &reg, ev));
        let ev = reg.on_stream_create(&create());
        out.extend(feed(&mut live, &reg, ev));
    } else {
        let ev = reg.on_stream_create(&create());
        out.extend(feed(&mut live, &reg, ev));
        let ev = reg.on_stream_server_update(&server_update("t1"));
        out.extend(feed(&mut live, &reg, ev));
    }
    assert_eq!(live.phase(), GoLivePhase::Connected);
    out
}

#[test]
fn own_stream_connects_in_either_order() {
    for server_first in [false, true] {
        let out = connect_in_order(server_first);
        let [
            GoLiveOutput::Connect {
                stream_key,
                credentials,
                session_id,
            },
        ] = &out[..]
        else {
            panic!("one connect ({server_first}): {out:?}");
        };
        assert_eq!(*stream_key, own_key());
        assert_eq!(credentials.rtc_server_id, ServerId(5002));
        assert_eq!(credentials.dave_group_id, 5001);
        assert_eq!(credentials.token.expose(), "t1");
        assert_eq!(session_id.expose(), "voice-session");
    }
}

#[test]
fn debug_output_never_holds_a_token_or_session_id() {
    let reg = in_voice();
    let out = connect_in_order(true);
    let printed = format!(
        "{out:?} {:?} {:?}",
        reg.own_voice(G),
        reg.stream(&own_key())
    );
    for secret in ["voice-session", "voice-token", "t1"] {
        assert!(
            !printed.contains(&format!("\"{secret}\"")),
            "{secret}: {printed}"
        );
    }
    // What shows is the shared redacted form (at most the last 4, at most half).
    assert!(printed.contains("Secret(…sion)"), "{printed}");
}

#[test]
fn pause_resume_and_stop() {
    let (mut live, _) = OwnGoLive::start(G, VC, ME);
    assert!(live.set_paused(false).is_empty(), "already unpaused");
    assert_eq!(
        live.set_paused(true),
        [GoLiveOutput::Gateway(ClientCommand::SetStreamPaused(
            gateway_proto::SetStreamPaused {
                stream_key: own_key(),
                paused: true
            }
        ))]
    );
    assert!(live.paused());
    let out = live.stop("stopped_by_request");
    assert_eq!(
        out,
        [
            GoLiveOutput::Ended {
                reason: "stopped_by_request".into()
            },
            GoLiveOutput::Gateway(ClientCommand::DeleteStream(own_key())),
        ]
    );
    assert!(live.stop("again").is_empty());
    assert!(live.set_paused(false).is_empty());
}

#[test]
fn new_server_update_reconnects_and_null_endpoint_disconnects() {
    let mut reg = in_voice();
    let (mut live, _) = OwnGoLive::start(G, VC, ME);
    let ev = reg.on_stream_create(&create());
    feed(&mut live, &reg, ev);
    let ev = reg.on_stream_server_update(&server_update("t1"));
    assert_eq!(feed(&mut live, &reg, ev).len(), 1);
    // The same again: no reconnect.
    let ev = reg.on_stream_server_update(&server_update("t1"));
    assert!(feed(&mut live, &reg, ev).is_empty());
    let mut realloc = server_update("");
    realloc.endpoint = None;
    let ev = reg.on_stream_server_update(&realloc);
    assert_eq!(feed(&mut live, &reg, ev), [GoLiveOutput::Disconnect]);
    let ev = reg.on_stream_server_update(&server_update("t2"));
    let out = feed(&mut live, &reg, ev);
    assert!(
        matches!(&out[..], [GoLiveOutput::Connect { credentials, .. }] if credentials.token.expose() == "t2"),
        "{out:?}"
    );
}

#[test]
fn refusal_or_leaving_voice_ends_it_with_a_reason() {
    let mut reg = in_voice();
    let (mut live, _) = OwnGoLive::start(G, VC, ME);
    let ev = reg.on_stream_delete(&StreamDelete {
        stream_key: own_key(),
        reason: StreamDeleteReason::Unauthorized,
        unavailable: None,
    });
    assert_eq!(
        feed(&mut live, &reg, ev),
        [GoLiveOutput::Ended {
            reason: "stream_deleted_unauthorized".into()
        }]
    );
    assert_eq!(live.phase(), GoLivePhase::Ended);

    let mut reg = in_voice();
    let (mut live, _) = OwnGoLive::start(G, VC, ME);
    let ev = reg.on_voice_state_update(&own_voice_state(None));
    assert_eq!(
        feed(&mut live, &reg, ev),
        [GoLiveOutput::Ended {
            reason: "left_voice_channel".into()
        }]
    );
}
