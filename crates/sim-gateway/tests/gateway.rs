//! Main gateway behaviour over a real loopback WebSocket.

mod common;

use std::time::{Duration, Instant};

use common::*;
use gateway_proto::{
    ChannelId, ClientCommand, CreateStream, Dispatch, GuildId, Resume, Secret, ServerMessage,
    StreamDeleteReason, StreamKey, UpdateVoiceState, UserId,
};

fn alice_key() -> StreamKey {
    StreamKey::Guild {
        guild_id: GuildId(GUILD),
        channel_id: ChannelId(LOUNGE),
        user_id: UserId(ALICE),
    }
}

fn join_lounge() -> ClientCommand {
    ClientCommand::UpdateVoiceState(UpdateVoiceState::join(
        Some(GuildId(GUILD)),
        ChannelId(LOUNGE),
        false,
        true,
    ))
}

#[tokio::test]
async fn user_identify_gets_ready_and_guild_with_streaming_alice() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let mut c = Client::connect(&sim).await;
        c.identify_user(USER_TOKEN).await;
        let Dispatch::Ready(ready) = c.dispatch("READY").await else {
            unreachable!()
        };
        assert_eq!(ready.user.id, UserId(AGENT));
        assert!(!ready.user.bot);
        assert_eq!(
            ready.resume_gateway_url.as_deref(),
            Some(sim.gateway_url().as_str())
        );
        let Dispatch::GuildCreate(g) = c.dispatch("GUILD_CREATE").await else {
            unreachable!()
        };
        assert_eq!(g.id, GuildId(GUILD));
        let alice = g
            .voice_states
            .iter()
            .find(|v| v.user_id == UserId(ALICE))
            .expect("alice in voice");
        assert!(alice.is_streaming());
        assert_eq!(alice.channel_id, Some(ChannelId(LOUNGE)));
        assert!(
            g.channels
                .iter()
                .any(|ch| ch.id == ChannelId(LOUNGE) && ch.is_voice())
        );
        assert!(
            g.members
                .iter()
                .any(|m| m.user.as_ref().is_some_and(|u| u.id == UserId(AGENT)))
        );
        // A bot gets unavailable stubs in READY, then the full guild.
        let mut b = Client::connect(&sim).await;
        b.identify_bot(BOT_TOKEN).await;
        let Dispatch::Ready(ready) = b.dispatch("READY").await else {
            unreachable!()
        };
        assert!(ready.user.bot);
        assert_eq!(ready.guilds[0].unavailable, Some(true));
        let Dispatch::GuildCreate(g) = b.dispatch("GUILD_CREATE").await else {
            unreachable!()
        };
        assert!(g.voice_states.iter().any(|v| v.is_streaming()));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn unknown_token_closes_4004() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let mut c = Client::connect(&sim).await;
        c.identify_user("not-a-token").await;
        assert_eq!(c.closed().await, Some(4004));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn heartbeats_are_acked_and_silence_closes_4009() {
    within(async {
        let sim = start(demo_with(|s| s.settings.heartbeat_interval_ms = 200)).await;
        let mut c = Client::connect(&sim).await;
        // Beat for ~0.6 s (three times the interval): every beat is acked.
        for _ in 0..4 {
            c.send(&ClientCommand::Heartbeat(None)).await;
            assert!(matches!(
                c.control().await,
                Event::Msg(ServerMessage::HeartbeatAck)
            ));
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let t0 = Instant::now();
        assert_eq!(c.closed().await, Some(4009));
        let waited = t0.elapsed();
        assert!(
            waited >= Duration::from_millis(100) && waited < Duration::from_secs(2),
            "{waited:?}"
        );
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn resume_replays_missed_dispatches_then_resumed() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let (mut c, session_id) = Client::ready_user(&sim).await;
        let seq = c.seq;
        // Drop with a resumable close code.
        let _ =
            c.ws.close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: 4000.into(),
                reason: "bye".into(),
            }))
            .await;
        let body = r#"{"user": "bob", "channel": "general", "content": "while you were away"}"#;
        let (status, _) = admin_post(&sim, "/actions/post_message", body).await;
        assert_eq!(status, 200);
        let mut c2 = Client::connect(&sim).await;
        c2.send(&ClientCommand::Resume(Resume {
            token: Secret::new(USER_TOKEN),
            session_id: Secret::new(session_id.clone()),
            seq,
        }))
        .await;
        let Event::Msg(ServerMessage::Dispatch {
            seq: replay_seq,
            event: Dispatch::MessageCreate(m),
        }) = c2.next().await
        else {
            panic!("expected the missed MESSAGE_CREATE first");
        };
        assert_eq!(m.content, "while you were away");
        assert_eq!(replay_seq, seq.map(|s| s + 1));
        assert!(matches!(
            c2.next().await,
            Event::Msg(ServerMessage::Dispatch {
                event: Dispatch::Resumed,
                ..
            })
        ));
        // A bad session id is refused with op 9 false.
        let mut c3 = Client::connect(&sim).await;
        c3.send(&ClientCommand::Resume(Resume {
            token: Secret::new(USER_TOKEN),
            session_id: Secret::new("nope"),
            seq,
        }))
        .await;
        assert!(matches!(
            c3.control().await,
            Event::Msg(ServerMessage::InvalidSession { resumable: false })
        ));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn admin_reconnect_and_invalid_session_are_delivered() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let (mut c, session_id) = Client::ready_user(&sim).await;
        let (status, v) = admin_post(
            &sim,
            "/actions/gateway_invalid_session",
            r#"{"user": "agent", "resumable": true}"#,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            v["sessions"][0],
            serde_json::Value::String(session_id.clone())
        );
        assert!(matches!(
            c.control().await,
            Event::Msg(ServerMessage::InvalidSession { resumable: true })
        ));
        let (status, _) = admin_post(
            &sim,
            "/actions",
            &format!(r#"{{"action": "gateway_reconnect", "session_id": "{session_id}"}}"#),
        )
        .await;
        assert_eq!(status, 200);
        assert!(matches!(
            c.control().await,
            Event::Msg(ServerMessage::Reconnect)
        ));
        assert_eq!(c.closed().await, Some(4000));
        // Not resumable: the session is gone, the connection may identify again.
        let (mut c, _) = Client::ready_user(&sim).await;
        admin_post(
            &sim,
            "/actions/gateway_invalid_session",
            r#"{"user": "agent"}"#,
        )
        .await;
        assert!(matches!(
            c.control().await,
            Event::Msg(ServerMessage::InvalidSession { resumable: false })
        ));
        c.identify_user(USER_TOKEN).await;
        c.dispatch("READY").await;
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn join_voice_gives_state_and_server_update_with_a_grant() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let (mut c, session_id) = Client::ready_user(&sim).await;
        c.send(&join_lounge()).await;
        let Dispatch::VoiceStateUpdate(v) = c.dispatch("VOICE_STATE_UPDATE").await else {
            unreachable!()
        };
        assert_eq!(
            (v.user_id, v.channel_id, v.session_id.expose()),
            (UserId(AGENT), Some(ChannelId(LOUNGE)), session_id.as_str())
        );
        let Dispatch::VoiceServerUpdate(vsu) = c.dispatch("VOICE_SERVER_UPDATE").await else {
            unreachable!()
        };
        assert_eq!(vsu.endpoint, Some(sim.voice().endpoint()));
        assert_eq!(vsu.guild_id, Some(GuildId(GUILD)));
        let log = admin_get(&sim, "/media/voice/log").await;
        let granted = log.as_array().expect("log").iter().any(|e| {
            e["op"] == "grant"
                && e["grant"]["token"] == vsu.token.expose()
                && e["grant"]["session_id"] == session_id.as_str()
        });
        assert!(granted, "no grant for the token in {log}");
        assert!(
            admin_get(&sim, "/media/voice/report").await.is_object(),
            "sim-media-server report is served"
        );
        // Leaving revokes with 4014.
        c.send(&ClientCommand::UpdateVoiceState(UpdateVoiceState::leave(
            Some(GuildId(GUILD)),
        )))
        .await;
        let Dispatch::VoiceStateUpdate(v) = c.dispatch("VOICE_STATE_UPDATE").await else {
            unreachable!()
        };
        assert_eq!(v.channel_id, None);
        let log = admin_get(&sim, "/media/voice/log").await;
        assert!(
            log.as_array()
                .expect("log")
                .iter()
                .any(|e| e["op"] == "revoke" && e["close_code"] == 4014)
        );
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn watch_gives_create_and_delayed_server_update() {
    within(async {
        let sim = start(demo_with(|s| {
            s.settings.stream_server_update_delay_ms = 300
        }))
        .await;
        let (mut c, _) = Client::ready_user(&sim).await;
        c.send(&join_lounge()).await;
        c.dispatch("VOICE_SERVER_UPDATE").await;
        c.send(&ClientCommand::WatchStream(alice_key())).await;
        let t0 = Instant::now();
        let (info, ssu) = stream_pair(&mut c).await;
        assert_eq!(info.stream_key, alice_key());
        let rtc = info.rtc_server_id.expect("rtc_server_id");
        assert!(
            t0.elapsed() >= Duration::from_millis(250),
            "delay not honoured: {:?}",
            t0.elapsed()
        );
        assert_eq!(ssu.endpoint, Some(sim.stream().endpoint()));
        assert_ne!(sim.stream().endpoint(), sim.voice().endpoint());
        let log = admin_get(&sim, "/media/stream/log").await;
        assert!(
            log.as_array()
                .expect("log")
                .iter()
                .any(|e| e["op"] == "grant"
                    && e["grant"]["room"] == rtc.get()
                    && e["grant"]["token"] == ssu.token.expose())
        );
        // The owner stops: the viewer gets STREAM_DELETE.
        admin_post(&sim, "/actions/stop_stream", r#"{"user": "alice"}"#).await;
        let Dispatch::StreamDelete(d) = c.dispatch("STREAM_DELETE").await else {
            unreachable!()
        };
        assert_eq!(
            (d.stream_key, d.reason),
            (alice_key(), StreamDeleteReason::UserRequested)
        );
        let Dispatch::VoiceStateUpdate(v) = c.dispatch("VOICE_STATE_UPDATE").await else {
            unreachable!()
        };
        assert_eq!((v.user_id, v.self_stream), (UserId(ALICE), Some(false)));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn bot_watch_is_unauthorized() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let mut b = Client::connect(&sim).await;
        b.identify_bot(BOT_TOKEN).await;
        b.dispatch("GUILD_CREATE").await;
        b.send(&join_lounge()).await;
        b.dispatch("VOICE_SERVER_UPDATE").await;
        b.send(&ClientCommand::WatchStream(alice_key())).await;
        let ev = b.dispatch("STREAM_DELETE").await;
        let Dispatch::StreamDelete(d) = ev else {
            unreachable!()
        };
        assert_eq!(
            (d.stream_key, d.reason),
            (alice_key(), StreamDeleteReason::Unauthorized)
        );
        let streams = admin_get(&sim, "/streams").await;
        assert_eq!(streams[0]["viewers"].as_array().map(Vec::len), Some(0));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn own_stream_create_pause_and_delete() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let (mut c, _) = Client::ready_user(&sim).await;
        c.send(&join_lounge()).await;
        c.dispatch("VOICE_SERVER_UPDATE").await;
        c.send(&ClientCommand::CreateStream(CreateStream::guild(
            GuildId(GUILD),
            ChannelId(LOUNGE),
        )))
        .await;
        let (info, ssu) = stream_pair(&mut c).await;
        let key = info.stream_key;
        assert_eq!(key.owner(), UserId(AGENT));
        assert_eq!(ssu.stream_key, key);
        c.send(&ClientCommand::SetStreamPaused(
            gateway_proto::SetStreamPaused {
                stream_key: key,
                paused: true,
            },
        ))
        .await;
        let Dispatch::StreamUpdate(u) = c.dispatch("STREAM_UPDATE").await else {
            unreachable!()
        };
        assert!(u.paused);
        c.send(&ClientCommand::DeleteStream(key)).await;
        let Dispatch::StreamDelete(d) = c.dispatch("STREAM_DELETE").await else {
            unreachable!()
        };
        assert_eq!(
            (d.stream_key, d.reason),
            (key, StreamDeleteReason::UserRequested)
        );
        let sessions = admin_get(&sim, "/sessions").await;
        let agent = sessions
            .as_array()
            .expect("sessions")
            .iter()
            .find(|s| s["user_name"] == "agent")
            .expect("agent session");
        for op in [
            "StreamCreate",
            "StreamSetPaused",
            "StreamDelete",
            "VoiceStateUpdate",
            "Identify",
        ] {
            assert_eq!(agent["op_counts"][op], 1, "{op} in {agent}");
        }
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn rate_limit_closes_4008() {
    within(async {
        let sim = start(demo_with(|s| s.settings.gateway_rate_limit = 120)).await;
        let mut c = Client::connect(&sim).await;
        for _ in 0..121 {
            c.send_raw(&ClientCommand::Heartbeat(None).to_text()).await;
        }
        assert_eq!(c.closed().await, Some(4008));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn garbage_frames_get_a_close_code_not_a_crash() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let mut rng = sim_gateway::SimRng::new(9);
        let mut garbage: Vec<String> = [
            "",
            "{",
            "null",
            "[]",
            "{\"op\":\"x\"}",
            "{\"op\":-1}",
            "{\"op\":256}",
            "{\"op\":2,\"d\":5}",
            "{\"op\":4,\"d\":{\"guild_id\":\"abc\"}}",
            "{\"op\":20,\"d\":{\"stream_key\":\"guild:1:2\"}}",
            "{\"op\":0,\"d\":null}",
            "{\"op\":10}",
            "{\"op\":99,\"d\":{}}",
            "{\"op\":18,\"d\":{\"type\":\"call\"}}",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for _ in 0..40 {
            let len = usize::try_from(rng.next_u64() % 64).unwrap_or(0);
            garbage.push(
                (0..len)
                    .map(|_| char::from(u8::try_from(rng.next_u64() % 95 + 32).unwrap_or(b'x')))
                    .collect(),
            );
        }
        for g in &garbage {
            let mut c = Client::connect(&sim).await;
            c.send_raw(g).await;
            let code = c.closed().await;
            assert!(matches!(code, Some(4001..=4003)), "{g:?} → {code:?}");
        }
        // Garbage after identify is handled the same and the sim still works.
        let (mut c, _) = Client::ready_user(&sim).await;
        c.send_raw("{\"op\":20,\"d\":{\"stream_key\":\"guild:x:y:z\"}}")
            .await;
        assert_eq!(c.closed().await, Some(4002));
        let (mut c, _) = Client::ready_user(&sim).await;
        c.send(&ClientCommand::Heartbeat(c.seq)).await;
        assert!(matches!(
            c.control().await,
            Event::Msg(ServerMessage::HeartbeatAck)
        ));
        sim.shutdown().await;
    })
    .await;
}

/// The `dave` scenario runs DAVE on both media servers: once the rooms
/// are known (the agent joins the Lounge and watches Alice), the simulated
/// voice users become MLS members of the Lounge's group (group id =
/// channel id) and encrypt, and Alice joins her stream's group
/// (`rtc_server_id - 1`).
#[tokio::test]
async fn dave_scenario_runs_dave_in_the_media_servers() {
    within(async {
        let sim = start(sim_gateway::Scenario::builtin("dave").expect("dave")).await;
        let (mut c, _) = Client::ready_user(&sim).await;
        c.send(&join_lounge()).await;
        c.dispatch("VOICE_SERVER_UPDATE").await;
        c.send(&ClientCommand::WatchStream(alice_key())).await;
        let (info, _) = stream_pair(&mut c).await;
        let rtc = info.rtc_server_id.expect("rtc_server_id").get();
        let mut voice_ok = false;
        let mut stream_ok = false;
        for _ in 0..100 {
            let voice = admin_get(&sim, "/media/voice/report").await;
            voice_ok = voice["rooms"].as_array().is_some_and(|rooms| {
                rooms.iter().any(|r| {
                    r["dave_group_id"] == LOUNGE
                        && r["dave_epoch"].as_u64() >= Some(1)
                        && r["dave_members"].as_array().map(Vec::len) == Some(2)
                        && r["participants"].as_array().is_some_and(|ps| {
                            ps.len() == 2
                                && ps
                                    .iter()
                                    .all(|p| p["dave"] == true && p["dave_can_encrypt"] == true)
                        })
                })
            });
            let stream = admin_get(&sim, "/media/stream/report").await;
            stream_ok = stream["rooms"].as_array().is_some_and(|rooms| {
                rooms.iter().any(|r| {
                    r["room"] == rtc
                        && r["dave_group_id"] == rtc - 1
                        && r["dave_connected"]
                            .as_array()
                            .is_some_and(|u| u.iter().any(|u| *u == ALICE))
                        && r["participants"]
                            .as_array()
                            .is_some_and(|ps| ps.iter().any(|p| p["dave"] == true))
                })
            });
            if voice_ok && stream_ok {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(voice_ok, "voice room runs DAVE");
        assert!(stream_ok, "stream room runs DAVE");
        sim.shutdown().await;
    })
    .await;
}

/// STREAM_CREATE and STREAM_SERVER_UPDATE of one op 18/20, in whichever
/// order the simulator drew (issue 15 item 3); other dispatches skipped.
async fn stream_pair(
    c: &mut Client,
) -> (gateway_proto::StreamInfo, gateway_proto::StreamServerUpdate) {
    let (mut info, mut ssu) = (None, None);
    while info.is_none() || ssu.is_none() {
        if let Event::Msg(ServerMessage::Dispatch { event, .. }) = c.next().await {
            match event {
                Dispatch::StreamCreate(i) => info = Some(i),
                Dispatch::StreamServerUpdate(u) => ssu = Some(u),
                _ => {}
            }
        }
    }
    (info.expect("loop exit"), ssu.expect("loop exit"))
}

/// Issue 15 item 3 over the wire: repeated op 20s (op 19 in between)
/// are answered in both orders (the old simulator always sent
/// STREAM_CREATE first). The seed reproducing the order is checked in the
/// world model tests.
#[tokio::test]
async fn watch_answer_comes_in_both_orders() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let (mut c, _) = Client::ready_user(&sim).await;
        c.send(&join_lounge()).await;
        c.dispatch("VOICE_SERVER_UPDATE").await;
        let mut firsts = Vec::new();
        for _ in 0..12 {
            c.send(&ClientCommand::WatchStream(alice_key())).await;
            let first = loop {
                if let Event::Msg(ServerMessage::Dispatch { event, .. }) = c.next().await {
                    match event {
                        Dispatch::StreamCreate(_) => break "STREAM_CREATE",
                        Dispatch::StreamServerUpdate(_) => break "STREAM_SERVER_UPDATE",
                        _ => {}
                    }
                }
            };
            firsts.push(first);
            stream_pair_rest(&mut c, first).await;
            c.send(&ClientCommand::DeleteStream(alice_key())).await;
        }
        assert!(firsts.contains(&"STREAM_CREATE"), "{firsts:?}");
        assert!(firsts.contains(&"STREAM_SERVER_UPDATE"), "{firsts:?}");
        sim.shutdown().await;
    })
    .await;
}

/// Waits for the other half of the pair whose `first` arrived.
async fn stream_pair_rest(c: &mut Client, first: &str) {
    let other = if first == "STREAM_CREATE" {
        "STREAM_SERVER_UPDATE"
    } else {
        "STREAM_CREATE"
    };
    c.dispatch(other).await;
}

const TRIO: u64 = 900_000_000_000_000_050;

/// Identify as `token` with exactly these capabilities.
async fn identify_with_capabilities(c: &mut Client, token: &str, capabilities: u64) {
    let id = gateway_proto::Identify::User(gateway_proto::UserIdentify {
        token: Secret::new(token),
        capabilities,
        properties: gateway_proto::ConnectionProperties::default(),
        presence: Some(gateway_proto::Presence::user_default()),
        compress: Some(false),
        client_state: None,
    });
    c.send(&ClientCommand::Identify(Box::new(id))).await;
}

/// Names of the dispatches that arrive before the ACK of a heartbeat sent
/// now (the sim answers in order, so everything already due is in).
async fn names_until_quiet(c: &mut Client) -> Vec<String> {
    c.send(&ClientCommand::Heartbeat(None)).await;
    let mut names = Vec::new();
    loop {
        match c.next().await {
            Event::Msg(ServerMessage::Dispatch { event, .. }) => {
                names.push(event.event_name().to_owned());
            }
            Event::Msg(ServerMessage::HeartbeatAck) => return names,
            Event::Msg(_) => {}
            Event::Closed(code) => panic!("closed ({code:?})"),
        }
    }
}

/// Issue 15 item 14: a call already running when a user connects arrives
/// as CALL_CREATE right after READY, with everyone in it, but only for a
/// session that identified with AUTO_CALL_CONNECT (1 << 12). Source:
/// discord-userdoccers `pages/gateway/using-gateway.mdx` "List of
/// Capabilities": AUTO_CALL_CONNECT "Connects the client to all
/// pre-existing calls upon connecting to the Gateway; this means clients
/// will receive Call Create events for all calls created before the
/// Gateway connection was established without needing to send a Request
/// Call Connect first"; `gateway-events.mdx` "Request Call Connect"
/// (op 13 `{channel_id}`): "Fires a Call Create Gateway event if a call is
/// found". READY's `private_channels` lists the group DM. The old sim sent
/// no CALL_CREATE at all and closed op 13 with 4001.
#[tokio::test]
async fn a_running_call_arrives_as_call_create_after_ready_with_auto_call_connect() {
    within(async {
        let sim = start(sim_gateway::Scenario::builtin("call").expect("call parses")).await;
        let mut c = Client::connect(&sim).await;
        identify_with_capabilities(&mut c, "sim-user-agent", gateway_proto::USER_CAPABILITIES)
            .await;
        let Dispatch::Ready(ready) = c.dispatch("READY").await else {
            unreachable!()
        };
        let trio = ready
            .private_channels
            .iter()
            .find(|ch| ch.id == ChannelId(TRIO))
            .expect("the group DM is in READY's private_channels");
        assert_eq!(trio.kind, gateway_proto::Channel::GROUP_DM);
        assert_eq!(trio.recipients.len(), 2, "alice and bob, not the agent");
        let Dispatch::CallCreate(call) = c.dispatch("CALL_CREATE").await else {
            unreachable!()
        };
        assert_eq!(call.channel_id, ChannelId(TRIO));
        let alice = call
            .voice_states
            .iter()
            .find(|v| v.user_id.0 == 900_000_000_000_000_101)
            .expect("alice in the call");
        assert!(alice.is_streaming());
        assert_eq!(alice.guild_id, None);
        assert_eq!(alice.channel_id, Some(ChannelId(TRIO)));
        assert!(
            call.voice_states
                .iter()
                .any(|v| v.user_id.0 == 900_000_000_000_000_102),
            "bob in the call"
        );

        // Without the capability: no CALL_CREATE until op 13 asks.
        let mut c = Client::connect(&sim).await;
        let without = gateway_proto::USER_CAPABILITIES & !gateway_proto::AUTO_CALL_CONNECT;
        identify_with_capabilities(&mut c, "sim-user-bob", without).await;
        let names = names_until_quiet(&mut c).await;
        assert!(names.contains(&"READY".to_owned()), "{names:?}");
        assert!(!names.contains(&"CALL_CREATE".to_owned()), "{names:?}");
        c.send_raw(&format!(r#"{{"op":13,"d":{{"channel_id":"{TRIO}"}}}}"#))
            .await;
        let Dispatch::CallCreate(call) = c.dispatch("CALL_CREATE").await else {
            unreachable!()
        };
        assert_eq!(call.channel_id, ChannelId(TRIO));

        // Carol is no recipient: neither way tells her of the call.
        let mut c = Client::connect(&sim).await;
        identify_with_capabilities(&mut c, "sim-user-carol", gateway_proto::USER_CAPABILITIES)
            .await;
        let names = names_until_quiet(&mut c).await;
        assert!(!names.contains(&"CALL_CREATE".to_owned()), "{names:?}");
        c.send_raw(&format!(r#"{{"op":13,"d":{{"channel_id":"{TRIO}"}}}}"#))
            .await;
        let names = names_until_quiet(&mut c).await;
        assert!(names.is_empty(), "{names:?}");
        sim.shutdown().await;
    })
    .await;
}
