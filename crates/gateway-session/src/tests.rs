//! The session on virtual time: every test drives it with a fixed base
//! instant and raw gateway JSON, the way Discord (or discord-sim) sends it.

// Tests need one arbitrary base instant; everything after it is virtual.
#![allow(clippy::disallowed_methods)]

use super::*;
use proptest::prelude::*;

const HELLO: &str = r#"{"op":10,"d":{"heartbeat_interval":40000},"s":null,"t":null}"#;
const READY: &str = r#"{"op":0,"t":"READY","s":1,"d":{"v":10,"user":{"id":"100","username":"agent"},"session_id":"sess-1","resume_gateway_url":"ws://resume.test","guilds":[]}}"#;
const ACK: &str = r#"{"op":11,"d":null}"#;

fn user() -> SessionConfig {
    SessionConfig::new(
        "ws://gw.test",
        Account::User {
            token: Secret::new("user-token-xyz"),
        },
    )
}

fn drain(s: &mut GatewaySession) -> (Vec<Transmit>, Vec<Event>) {
    let mut t = Vec::new();
    while let Some(x) = s.poll_transmit() {
        t.push(x);
    }
    let mut e = Vec::new();
    while let Some(x) = s.poll_event() {
        e.push(x);
    }
    (t, e)
}

fn texts(t: &[Transmit]) -> Vec<serde_json::Value> {
    t.iter()
        .filter_map(|x| match x {
            Transmit::Text(s) => Some(serde_json::from_str(s).unwrap()),
            _ => None,
        })
        .collect()
}

/// A session that has identified and received READY (seq 1).
fn running(config: SessionConfig, t0: Instant) -> GatewaySession {
    let mut s = GatewaySession::new(config, t0);
    s.handle_input(t0, Input::Connected);
    s.handle_input(t0, Input::Text(HELLO));
    s.handle_input(t0, Input::Text(READY));
    drain(&mut s);
    assert_eq!(s.phase(), Phase::Running);
    s
}

#[test]
fn identifies_as_a_user_and_reports_ready() {
    let t0 = Instant::now();
    let mut s = GatewaySession::new(user(), t0);
    assert_eq!(
        s.poll_transmit(),
        Some(Transmit::Connect {
            url: "ws://gw.test/?v=10&encoding=json".into()
        })
    );
    s.handle_input(t0, Input::Connected);
    s.handle_input(t0, Input::Text(HELLO));
    let (t, _) = drain(&mut s);
    let sent = texts(&t);
    assert_eq!(sent[0]["op"], 2);
    assert_eq!(sent[0]["d"]["token"], "user-token-xyz");
    assert!(
        sent[0]["d"].get("intents").is_none(),
        "user accounts send no intents"
    );
    assert!(sent[0]["d"]["capabilities"].is_number());
    s.handle_input(t0, Input::Text(READY));
    let (_, e) = drain(&mut s);
    assert!(matches!(&e[0], Event::Ready(r) if r.session_id.expose() == "sess-1"));
    assert!(s.can_resume());
    let debug = format!("{:?} {s:?}", user());
    assert!(
        !debug.contains("user-token-xyz") && !debug.contains("sess-1"),
        "tokens and session ids never in Debug output: {debug}"
    );
}

#[test]
fn bots_identify_with_intents() {
    let t0 = Instant::now();
    let cfg = SessionConfig::new(
        "ws://gw.test",
        Account::Bot {
            token: Secret::new("bot-token"),
            intents: Intents::GUILDS | Intents::GUILD_VOICE_STATES,
        },
    );
    let mut s = GatewaySession::new(cfg, t0);
    s.handle_input(t0, Input::Connected);
    s.handle_input(t0, Input::Text(HELLO));
    let (t, _) = drain(&mut s);
    let id = &texts(&t)[0];
    assert_eq!(id["op"], 2);
    assert!(id["d"]["intents"].as_u64().unwrap() > 0);
}

#[test]
fn heartbeats_on_the_jittered_interval_and_carries_the_seq() {
    let t0 = Instant::now();
    let mut cfg = user();
    cfg.jitter = 0.25;
    let mut s = running(cfg, t0);
    assert_eq!(
        s.poll_timeout(),
        Some(t0 + Duration::from_secs(10)),
        "first beat at interval × jitter"
    );
    s.handle_timeout(t0 + Duration::from_secs(10));
    let (t, _) = drain(&mut s);
    assert_eq!(texts(&t), vec![serde_json::json!({"op": 1, "d": 1})]);
    s.handle_input(t0 + Duration::from_secs(11), Input::Text(ACK));
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(50)));
    // A server heartbeat request is answered at once.
    s.handle_input(
        t0 + Duration::from_secs(12),
        Input::Text(r#"{"op":1,"d":null}"#),
    );
    assert_eq!(texts(&drain(&mut s).0)[0]["op"], 1);
}

#[test]
fn missing_ack_closes_a_zombie_and_resumes() {
    let t0 = Instant::now();
    let mut s = running(user(), t0);
    s.handle_input(
        t0,
        Input::Text(r#"{"op":0,"t":"GUILD_CREATE_UNKNOWN_X","s":7,"d":{}}"#),
    );
    let beat = s.poll_timeout().unwrap();
    s.handle_timeout(beat);
    drain(&mut s);
    let next = s.poll_timeout().unwrap();
    s.handle_timeout(next); // still no ACK
    let (t, e) = drain(&mut s);
    assert_eq!(
        t[0],
        Transmit::Close { code: 4000 },
        "never 1000: that would end the session"
    );
    assert!(
        matches!(&e[0], Event::Disconnected { resume: true, retry_in, .. } if retry_in.is_zero())
    );
    s.handle_timeout(next);
    assert_eq!(
        s.poll_transmit(),
        Some(Transmit::Connect {
            url: "ws://resume.test/?v=10&encoding=json".into()
        })
    );
    s.handle_input(next, Input::Connected);
    s.handle_input(next, Input::Text(HELLO));
    let sent = texts(&drain(&mut s).0);
    assert_eq!(sent[0]["op"], 6);
    assert_eq!(sent[0]["d"]["session_id"], "sess-1");
    assert_eq!(sent[0]["d"]["seq"], 7);
    s.handle_input(
        next,
        Input::Text(r#"{"op":0,"t":"RESUMED","s":8,"d":null}"#),
    );
    assert_eq!(drain(&mut s).1, vec![Event::Resumed]);
    assert_eq!(s.phase(), Phase::Running);
}

#[test]
fn authentication_failure_is_final() {
    let t0 = Instant::now();
    let mut s = GatewaySession::new(user(), t0);
    s.handle_input(t0, Input::Connected);
    s.handle_input(t0, Input::Closed { code: Some(4004) });
    let (_, e) = drain(&mut s);
    assert!(
        matches!(&e[0], Event::Fatal { reason } if reason.contains("4004") || reason.to_lowercase().contains("auth"))
    );
    assert_eq!(s.phase(), Phase::Stopped);
    assert_eq!(s.poll_timeout(), None);
    assert!(matches!(
        s.send(ClientCommand::Heartbeat(None), t0),
        Err(SessionError::Stopped(_))
    ));
}

#[test]
fn invalid_session_not_resumable_identifies_afresh_after_the_wait() {
    let t0 = Instant::now();
    let mut s = running(user(), t0);
    s.handle_input(t0, Input::Text(r#"{"op":9,"d":false}"#));
    let (t, e) = drain(&mut s);
    assert_eq!(t, vec![Transmit::Close { code: 4000 }]);
    assert!(
        matches!(&e[0], Event::Disconnected { resume: false, retry_in, .. } if *retry_in == Duration::from_secs(3))
    );
    assert!(!s.can_resume());
    s.handle_timeout(t0 + Duration::from_secs(3));
    assert_eq!(
        s.poll_transmit(),
        Some(Transmit::Connect {
            url: "ws://gw.test/?v=10&encoding=json".into()
        })
    );
    s.handle_input(t0, Input::Connected);
    s.handle_input(t0, Input::Text(HELLO));
    assert_eq!(texts(&drain(&mut s).0)[0]["op"], 2);
}

#[test]
fn reconnect_request_resumes_immediately() {
    let t0 = Instant::now();
    let mut s = running(user(), t0);
    s.handle_input(t0, Input::Text(r#"{"op":7,"d":null}"#));
    let (t, e) = drain(&mut s);
    assert_eq!(t, vec![Transmit::Close { code: 4000 }]);
    assert!(matches!(&e[0], Event::Disconnected { resume: true, .. }));
    // The socket's own close notification after our close is ignored.
    s.handle_input(t0, Input::Closed { code: Some(4000) });
    assert!(drain(&mut s).1.is_empty());
    s.handle_timeout(t0);
    assert!(matches!(s.poll_transmit(), Some(Transmit::Connect { .. })));
}

#[test]
fn close_codes_pick_resume_or_identify_and_failures_back_off() {
    let t0 = Instant::now();
    let mut s = running(user(), t0);
    s.handle_input(t0, Input::Closed { code: Some(4007) }); // invalid seq: identify again
    let (_, e) = drain(&mut s);
    assert!(
        matches!(&e[0], Event::Disconnected { resume: false, retry_in, .. } if *retry_in == Duration::from_secs(1))
    );
    // Repeated connect failures double the wait up to the cap.
    let mut now;
    let mut waits = Vec::new();
    for _ in 0..8 {
        now = s.poll_timeout().unwrap();
        s.handle_timeout(now);
        drain(&mut s);
        s.handle_input(
            now,
            Input::ConnectFailed {
                reason: "refused".into(),
            },
        );
        if let Some(Event::Disconnected { retry_in, .. }) = drain(&mut s).1.pop() {
            waits.push(retry_in.as_secs());
        }
    }
    assert_eq!(waits, vec![2, 4, 8, 16, 32, 60, 60, 60]);
    // A success resets the backoff.
    now = s.poll_timeout().unwrap();
    s.handle_timeout(now);
    s.handle_input(now, Input::Connected);
    s.handle_input(now, Input::Text(HELLO));
    s.handle_input(now, Input::Text(READY));
    s.handle_input(now, Input::Closed { code: None });
    assert!(
        matches!(drain(&mut s).1.last(), Some(Event::Disconnected { resume: true, retry_in, .. }) if retry_in.is_zero())
    );
}

#[test]
fn no_hello_times_out_and_retries() {
    let t0 = Instant::now();
    let mut s = GatewaySession::new(user(), t0);
    s.handle_input(t0, Input::Connected);
    drain(&mut s);
    s.handle_timeout(t0 + Duration::from_secs(20));
    let (t, e) = drain(&mut s);
    assert_eq!(t, vec![Transmit::Close { code: 4000 }]);
    assert!(matches!(&e[0], Event::Disconnected { reason, .. } if reason.contains("HELLO")));
}

#[test]
fn commands_queue_while_disconnected_and_respect_the_rate_limit() {
    let t0 = Instant::now();
    let mut s = GatewaySession::new(user(), t0);
    let watch = |n: u64| ClientCommand::WatchStream(format!("guild:1:2:{n}").parse().unwrap());
    for n in 1..=150 {
        s.send(watch(n), t0).unwrap();
    }
    assert!(
        texts(&drain(&mut s).0).is_empty(),
        "nothing is sent before READY"
    );
    s.handle_input(t0, Input::Connected);
    s.handle_input(t0, Input::Text(HELLO));
    s.handle_input(t0, Input::Text(READY));
    let first: Vec<_> = texts(&drain(&mut s).0)
        .into_iter()
        .filter(|v| v["op"] == 20)
        .collect();
    assert_eq!(
        first.len(),
        109,
        "110 per window, identify already used one"
    );
    assert_eq!(first[0]["d"]["stream_key"], "guild:1:2:1", "in order");
    let free = s.poll_timeout().unwrap();
    assert_eq!(
        free,
        t0 + Duration::from_secs(20),
        "the first heartbeat (40 s × jitter 0.5) comes before the window frees"
    );
    s.handle_timeout(t0 + Duration::from_secs(60));
    let rest: Vec<_> = texts(&drain(&mut s).0)
        .into_iter()
        .filter(|v| v["op"] == 20)
        .collect();
    assert_eq!(rest.len(), 41);
    assert_eq!(rest[40]["d"]["stream_key"], "guild:1:2:150");
    let mut small = user();
    small.queue_limit = 1;
    let mut s = GatewaySession::new(small, t0);
    s.send(watch(1), t0).unwrap();
    assert_eq!(s.send(watch(2), t0), Err(SessionError::QueueFull(1)));
}

#[test]
fn unreadable_dispatches_still_advance_the_seq() {
    let t0 = Instant::now();
    let mut s = running(user(), t0);
    s.handle_input(
        t0,
        Input::Text(r#"{"op":0,"t":"VOICE_STATE_UPDATE","s":42,"d":{"user_id":[]}}"#),
    );
    let (_, e) = drain(&mut s);
    assert!(matches!(&e[0], Event::Unparsed { .. }), "{e:?}");
    assert_eq!(s.seq(), Some(42));
}

proptest! {
    #[test]
    fn arbitrary_frames_never_panic(frames in proptest::collection::vec(".{0,200}", 0..20), codes in proptest::collection::vec(proptest::option::of(any::<u16>()), 0..4)) {
        let t0 = Instant::now();
        let mut s = running(user(), t0);
        let mut now = t0;
        for f in &frames {
            now += Duration::from_millis(700);
            s.handle_input(now, Input::Text(f));
            s.handle_timeout(now);
            drain(&mut s);
        }
        for c in codes {
            s.handle_input(now, Input::Closed { code: c });
            if let Some(t) = s.poll_timeout() { s.handle_timeout(t); }
            drain(&mut s);
        }
    }
}

/// Issue 15 item 13: the user-account Identify, byte for byte. Witness:
/// discord-userdoccers `pages/reference.mdx` "Client Properties Structure"
/// ("Fields are marked as required if it's observed that they are sent in
/// all official client properties": os, browser, browser_user_agent,
/// browser_version, client_build_number, release_channel, system_locale)
/// and `pages/gateway/gateway-events.mdx` "Example Identify" (`capabilities`,
/// `presence {status:"unknown", since:0, activities:[], afk:false}`,
/// `compress:false`, `client_state {guild_versions:{}}`). The old payload
/// sent `capabilities: 0` and only os/browser/device, so this fails on it.
#[test]
fn user_identify_golden_json_with_configured_build_number() {
    let t0 = Instant::now();
    let mut config = user();
    config.client_build_number = 401_234;
    let mut s = GatewaySession::new(config, t0);
    s.handle_input(t0, Input::Connected);
    s.handle_input(t0, Input::Text(HELLO));
    let (t, _) = drain(&mut s);
    let Some(Transmit::Text(identify)) = t.iter().find(|x| matches!(x, Transmit::Text(_))) else {
        panic!("no identify sent: {t:?}");
    };
    // serde_json writes object keys sorted.
    let expected = concat!(
        r#"{"op":2,"d":{"capabilities":13839,"client_state":{"guild_versions":{}},"#,
        r#""compress":false,"#,
        r#""presence":{"activities":[],"afk":false,"since":0,"status":"unknown"},"#,
        r#""properties":{"browser":"Chrome","#,
        r#""browser_user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36","#,
        r#""browser_version":"134.0.0.0","client_build_number":401234,"#,
        r#""client_event_source":null,"device":"","os":"Linux","os_version":"","#,
        r#""release_channel":"stable","system_locale":"en-US"},"#,
        r#""token":"user-token-xyz"}}"#
    );
    assert_eq!(identify, expected);
    // Capabilities that change payloads we parse stay off.
    let caps = gateway_proto::USER_CAPABILITIES;
    for bit in [4, 5, 8, 11, 14] {
        assert_eq!(caps & (1 << bit), 0, "capability bit {bit} must stay off");
    }
    // Issue 15 item 14: AUTO_CALL_CONNECT, so calls already running at
    // connect arrive as CALL_CREATE (userdoccers "List of Capabilities").
    assert_ne!(caps & gateway_proto::AUTO_CALL_CONNECT, 0);
}

#[test]
fn default_build_number_is_the_documented_constant() {
    let t0 = Instant::now();
    let mut s = GatewaySession::new(user(), t0);
    s.handle_input(t0, Input::Connected);
    s.handle_input(t0, Input::Text(HELLO));
    let (t, _) = drain(&mut s);
    let sent = texts(&t);
    assert_eq!(
        sent[0]["d"]["properties"]["client_build_number"],
        gateway_proto::DEFAULT_CLIENT_BUILD_NUMBER
    );
}

/// Issue 15 item 10: IDENTIFY without READY. The old session stayed in
/// `Identifying` forever (ACKed heartbeats keep a zombie check quiet);
/// now it closes with 4000 after `ready_timeout` and identifies again on
/// a new connection.
#[test]
fn no_ready_after_identify_closes_and_identifies_again() {
    let t0 = Instant::now();
    let mut s = GatewaySession::new(user(), t0);
    s.handle_input(t0, Input::Connected);
    s.handle_input(t0, Input::Text(HELLO));
    drain(&mut s);
    assert_eq!(s.phase(), Phase::Identifying);
    // Heartbeats are ACKed all along: only READY is missing.
    let deadline = t0 + DEFAULT_READY_TIMEOUT;
    while let Some(now) = s.poll_timeout().filter(|t| *t < deadline) {
        s.handle_timeout(now);
        s.handle_input(now, Input::Text(ACK));
        drain(&mut s);
        assert_eq!(
            s.phase(),
            Phase::Identifying,
            "nothing happens before the deadline"
        );
    }
    assert_eq!(s.poll_timeout(), Some(deadline));
    s.handle_timeout(deadline);
    let (t, e) = drain(&mut s);
    assert_eq!(t, vec![Transmit::Close { code: 4000 }]);
    assert!(matches!(
        &e[..],
        [Event::Disconnected { reason, resume: false, .. }] if reason.contains("READY")
    ));
    // Reconnects after the backoff and identifies afresh.
    let retry = s.poll_timeout().expect("a retry is scheduled");
    s.handle_timeout(retry);
    let (t, _) = drain(&mut s);
    assert!(matches!(&t[..], [Transmit::Connect { .. }]));
    s.handle_input(retry, Input::Connected);
    s.handle_input(retry, Input::Text(HELLO));
    let (t, _) = drain(&mut s);
    assert_eq!(texts(&t)[0]["op"], 2);
    // READY in time cancels the deadline.
    s.handle_input(retry, Input::Text(READY));
    drain(&mut s);
    assert_eq!(s.phase(), Phase::Running);
    s.handle_timeout(retry + DEFAULT_READY_TIMEOUT * 2);
    let (t, _) = drain(&mut s);
    assert!(!t.contains(&Transmit::Close { code: 4000 }), "{t:?}");
}

#[test]
fn commands_queued_for_a_session_that_ended_are_not_sent_on_the_next() {
    // op 20 queued while a non-resumable session was down must not be the
    // first thing the new session sends: it belongs to the old session's
    // voice state, and the new session has none yet.
    let t0 = Instant::now();
    let watch = || ClientCommand::WatchStream("guild:1:2:3".parse().unwrap());
    let mut s = running(user(), t0);
    s.handle_input(t0, Input::Text(r#"{"op":9,"d":false}"#));
    drain(&mut s);
    s.send(watch(), t0).unwrap();
    s.handle_timeout(t0 + Duration::from_secs(5));
    s.handle_input(t0, Input::Connected);
    s.handle_input(t0, Input::Text(HELLO));
    s.handle_input(t0, Input::Text(READY));
    let sent = texts(&drain(&mut s).0);
    assert_eq!(
        sent.iter().map(|m| m["op"].clone()).collect::<Vec<_>>(),
        vec![serde_json::json!(2)]
    );
    // Sent after the new READY, it goes out.
    s.send(watch(), t0 + Duration::from_secs(6)).unwrap();
    let sent = texts(&drain(&mut s).0);
    assert_eq!(sent[0]["op"], 20);
}

#[test]
fn commands_queued_before_a_resume_are_sent_after_it() {
    let t0 = Instant::now();
    let watch = || ClientCommand::WatchStream("guild:1:2:3".parse().unwrap());
    let mut s = running(user(), t0);
    s.handle_input(t0, Input::Text(r#"{"op":7,"d":null}"#));
    drain(&mut s);
    s.send(watch(), t0).unwrap();
    s.handle_timeout(t0);
    s.handle_input(t0, Input::Connected);
    s.handle_input(t0, Input::Text(HELLO));
    s.handle_input(t0, Input::Text(r#"{"op":0,"t":"RESUMED","s":2,"d":{}}"#));
    let ops: Vec<_> = texts(&drain(&mut s).0)
        .iter()
        .map(|m| m["op"].clone())
        .collect();
    assert_eq!(ops, vec![serde_json::json!(6), serde_json::json!(20)]);
}
