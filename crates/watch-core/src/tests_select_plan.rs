//! Target selection, transport plan and watch book tests (helpers in
//! the parent test module).

use super::*;

// ---- selection ----

#[test]
fn explicit_target_sharing() {
    let reg = registry(vec![
        vs(ALICE, Some(VC), Some(true), false),
        vs(BOB, Some(VC), Some(true), false),
        vs(CAROL, Some(VC), None, false),
    ]);
    let sel = select_target(&reg, G, CAROL, Some("Bobby")).expect("bob");
    assert_eq!(sel.target, BOB);
    assert!(sel.explicit());
    assert_eq!(sel.channel, Some(VC));
    assert_eq!(
        plan_transport(&reg, G, BOB, USER_LINK),
        TransportPlan::Native {
            stream_key: key(BOB)
        }
    );
}

#[test]
fn explicit_target_not_sharing_never_retargets() {
    let reg = registry(vec![
        vs(ALICE, Some(VC), Some(true), false),
        vs(CAROL, Some(VC), None, false),
    ]);
    let sel = select_target(&reg, G, ALICE, Some("carol")).expect("carol");
    assert_eq!(sel.target, CAROL);
    assert_eq!(
        plan_transport(&reg, G, CAROL, USER_LINK),
        TransportPlan::Link {
            reason: PlanReason::TargetNotSharing
        }
    );
}

#[test]
fn explicit_target_webcam_only() {
    let reg = registry(vec![
        vs(ALICE, Some(VC), None, true),
        vs(CAROL, Some(VC), None, false),
    ]);
    let sel = select_target(&reg, G, CAROL, Some("alice_w")).expect("alice");
    assert_eq!(sel.target, ALICE);
    assert_eq!(
        plan_transport(&reg, G, ALICE, USER_LINK),
        TransportPlan::Webcam { user: ALICE }
    );
}

#[test]
fn explicit_target_absent() {
    let reg = registry(vec![
        vs(ALICE, Some(VC), Some(true), false),
        vs(CAROL, Some(VC), None, false),
        vs(BOB, Some(OTHER_VC), Some(true), false),
    ]);
    // Dave is a member but not in voice.
    assert_eq!(
        select_target(&reg, G, CAROL, Some("dave")),
        Err(Refusal::TargetNotInVoice { user: DAVE })
    );
    // Bob is in another channel.
    assert_eq!(
        select_target(&reg, G, CAROL, Some("bob")),
        Err(Refusal::TargetNotInRequesterChannel { user: BOB })
    );
    // Nobody by that name.
    let err = select_target(&reg, G, CAROL, Some("  Zed ")).expect_err("unknown");
    assert_eq!(err.reason(), "target_not_found");
    assert_eq!(
        err,
        Refusal::TargetNotFound {
            target: "zed".into()
        }
    );
    // Ourselves.
    assert_eq!(
        select_target(&reg, G, CAROL, Some("clanky")),
        Err(Refusal::TargetIsSelf)
    );
}

#[test]
fn mention_and_id_forms_and_case_insensitive_names() {
    let reg = registry(vec![
        vs(ALICE, Some(VC), Some(true), false),
        vs(BOB, Some(VC), None, false),
        vs(CAROL, Some(VC), None, false),
    ]);
    for t in [
        "<@201>",
        "<@!201>",
        "201",
        "@alice_w",
        "ALICE_W",
        "alice   wonder",
        "  Alice Wonder ",
    ] {
        let sel = select_target(&reg, G, CAROL, Some(t)).unwrap_or_else(|e| panic!("{t}: {e}"));
        assert_eq!(sel.target, ALICE, "{t}");
    }
    // Nick, global name and username all match for Bob.
    for t in ["builder bob", "BOBBY", "bob", "<@202>"] {
        assert_eq!(
            select_target(&reg, G, CAROL, Some(t)).map(|s| s.target),
            Ok(BOB),
            "{t}"
        );
    }
    // Substrings do not match.
    assert_eq!(
        reason_of(select_target(&reg, G, CAROL, Some("ali"))),
        "target_not_found"
    );
}

#[test]
fn ambiguous_names_are_refused() {
    let mut reg = registry(vec![
        vs(ALICE, Some(VC), None, false),
        vs(BOB, Some(VC), None, false),
        vs(CAROL, Some(VC), None, false),
    ]);
    let mut g = guild(vec![]);
    g.members = vec![
        member(ALICE, "alice_w", None, Some("Sam")),
        member(BOB, "bob", None, Some("sam")),
    ];
    g.voice_states = vec![
        vs(ME, Some(VC), None, false),
        vs(ALICE, Some(VC), None, false),
        vs(BOB, Some(VC), None, false),
        vs(CAROL, Some(VC), None, false),
    ];
    reg.on_guild_create(&g);
    let err = select_target(&reg, G, CAROL, Some("sam")).expect_err("ambiguous");
    assert_eq!(err.reason(), "target_ambiguous");
    // A sharing match beats a non-sharing one.
    reg.on_voice_state_update(&vs(BOB, Some(VC), Some(true), false));
    assert_eq!(
        select_target(&reg, G, CAROL, Some("sam")).map(|s| s.target),
        Ok(BOB)
    );
}

#[test]
fn no_target_requester_sharing() {
    let reg = registry(vec![
        vs(ALICE, Some(VC), Some(true), false),
        vs(BOB, Some(VC), Some(true), false),
    ]);
    let sel = select_target(&reg, G, ALICE, None).expect("requester");
    assert_eq!(sel.target, ALICE);
    assert_eq!(sel.reason, SelectionReason::RequesterGoLive);
    assert!(!sel.explicit());

    let reg = registry(vec![
        vs(ALICE, Some(VC), None, true),
        vs(BOB, Some(VC), Some(true), false),
    ]);
    assert_eq!(
        select_target(&reg, G, ALICE, None).map(|s| (s.target, s.reason)),
        Ok((ALICE, SelectionReason::RequesterWebcam))
    );
}

#[test]
fn no_target_one_sharer() {
    let reg = registry(vec![
        vs(ALICE, Some(VC), None, false),
        vs(BOB, Some(VC), Some(true), false),
        vs(CAROL, Some(VC), None, true),
        vs(DAVE, Some(OTHER_VC), Some(true), false),
    ]);
    // One Go Live in the channel (Dave's is elsewhere; Carol's camera ranks
    // below a screen).
    assert_eq!(
        select_target(&reg, G, ALICE, None).map(|s| (s.target, s.reason)),
        Ok((BOB, SelectionReason::SingleGoLiveInChannel))
    );
    let reg = registry(vec![
        vs(ALICE, Some(VC), None, false),
        vs(CAROL, Some(VC), None, true),
    ]);
    assert_eq!(
        select_target(&reg, G, ALICE, None).map(|s| (s.target, s.reason)),
        Ok((CAROL, SelectionReason::SingleWebcamInChannel))
    );
}

#[test]
fn no_target_several_sharers_is_refused_with_the_list() {
    let reg = registry(vec![
        vs(ALICE, Some(VC), Some(true), false),
        vs(BOB, Some(VC), Some(true), false),
        vs(CAROL, Some(VC), None, false),
    ]);
    let err = select_target(&reg, G, CAROL, None).expect_err("several");
    assert_eq!(err.reason(), "multiple_sharers_need_target");
    let Refusal::MultipleSharersNeedTarget { sharers } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(
        sharers.iter().map(|c| c.user).collect::<Vec<_>>(),
        vec![ALICE, BOB]
    );
    let text = err.to_string();
    assert!(
        text.contains("Alice Wonder") && text.contains("Builder Bob"),
        "{text}"
    );
}

#[test]
fn no_target_nobody_sharing_or_requester_absent() {
    let reg = registry(vec![vs(ALICE, Some(VC), None, false)]);
    assert_eq!(select_target(&reg, G, ALICE, None), Err(Refusal::NoSharer));
    assert_eq!(
        select_target(&reg, G, BOB, None),
        Err(Refusal::RequesterNotInVoice)
    );
    assert_eq!(
        select_target(&reg, G, BOB, Some("alice")),
        Err(Refusal::RequesterNotInVoice)
    );
    assert_eq!(
        select_target(&reg, GuildId(999), ALICE, None),
        Err(Refusal::GuildUnknown)
    );
    // An empty target is no target.
    assert_eq!(
        select_target(&reg, G, ALICE, Some("   ")),
        Err(Refusal::NoSharer)
    );
}

#[test]
fn single_discovered_go_live_with_empty_roster() {
    // A bot without voice states: only STREAM_CREATE is known.
    let mut reg = Registry::new();
    reg.on_ready(&ready());
    reg.on_guild_create(&guild(vec![]));
    reg.on_stream_create(&stream_create(ALICE, 77));
    assert!(reg.roster_is_empty(G));
    assert_eq!(
        select_target(&reg, G, CAROL, None).map(|s| (s.target, s.reason, s.channel)),
        Ok((ALICE, SelectionReason::SingleDiscoveredGoLive, Some(VC)))
    );
    reg.on_stream_create(&stream_create(BOB, 78));
    assert_eq!(
        reason_of(select_target(&reg, G, CAROL, None)),
        "multiple_sharers_need_target"
    );
}

// ---- transport plan ----

#[test]
fn bot_goes_to_link_or_unavailable() {
    let reg = registry(vec![vs(ALICE, Some(VC), Some(true), false)]);
    let bot = PlanOptions {
        bot_account: true,
        ..USER_LINK
    };
    assert_eq!(
        plan_transport(&reg, G, ALICE, bot),
        TransportPlan::Link {
            reason: PlanReason::BotCannotWatchGoLive
        }
    );
    let bot_no_link = PlanOptions {
        link_fallback_enabled: false,
        ..bot
    };
    let plan = plan_transport(&reg, G, ALICE, bot_no_link);
    assert_eq!(
        plan,
        TransportPlan::Unavailable {
            reason: PlanReason::BotCannotWatchGoLive
        }
    );
    assert_eq!(
        PlanReason::BotCannotWatchGoLive.as_str(),
        "bot_cannot_watch_go_live"
    );
    assert_eq!(plan.watch_transport(), None);
    // A bot can still take the camera.
    let reg = registry(vec![vs(ALICE, Some(VC), Some(true), true)]);
    assert_eq!(
        plan_transport(&reg, G, ALICE, bot),
        TransportPlan::Webcam { user: ALICE }
    );
}

#[test]
fn link_disabled_and_nothing_native_is_unavailable() {
    let reg = registry(vec![vs(ALICE, Some(VC), None, false)]);
    assert_eq!(
        plan_transport(
            &reg,
            G,
            ALICE,
            PlanOptions {
                link_fallback_enabled: false,
                ..USER_LINK
            }
        ),
        TransportPlan::Unavailable {
            reason: PlanReason::TargetNotSharing
        }
    );
}

#[test]
fn preferred_link_skips_native() {
    let reg = registry(vec![vs(ALICE, Some(VC), Some(true), true)]);
    let opts = PlanOptions {
        preferred_link: true,
        ..USER_LINK
    };
    assert_eq!(
        plan_transport(&reg, G, ALICE, opts),
        TransportPlan::Link {
            reason: PlanReason::LinkPreferred
        }
    );
    assert_eq!(
        plan_transport(
            &reg,
            G,
            ALICE,
            PlanOptions {
                link_fallback_enabled: false,
                ..opts
            }
        ),
        TransportPlan::Unavailable {
            reason: PlanReason::LinkFallbackDisabled
        }
    );
}

// ---- watch book ----

fn native_request(target: UserId, requester: UserId) -> WatchRequest {
    WatchRequest {
        guild: G.into(),
        target,
        requester,
        channel: Some(VC),
        transport: WatchTransport::Native {
            stream_key: key(target),
        },
    }
}

#[test]
fn reuse_for_the_same_target() {
    let now = Instant::now();
    let mut book = WatchBook::new();
    let first = book.start(native_request(ALICE, BOB), now).expect("room");
    assert!(matches!(first, StartOutcome::Started(_)));
    let again = book.start(native_request(ALICE, CAROL), now).expect("room");
    assert_eq!(again, StartOutcome::Reused(first.id()));
    assert_eq!(book.len(), 1);
    assert_eq!(
        book.find_by_target(G, ALICE).map(|w| w.requesters.clone()),
        Some(vec![BOB, CAROL])
    );
    let other = book.start(native_request(BOB, CAROL), now).expect("room");
    assert_ne!(other.id(), first.id());
    assert!(book.stop(other.id()).is_some());
    assert!(book.stop(other.id()).is_none());

    let mut tiny = WatchBook::with_capacity(1);
    tiny.start(native_request(ALICE, BOB), now).expect("room");
    assert_eq!(
        tiny.start(native_request(BOB, CAROL), now),
        Err(Refusal::TooManyWatches)
    );
}

#[test]
fn teardown_on_stream_delete() {
    let now = Instant::now();
    let mut reg = registry(vec![
        vs(ALICE, Some(VC), Some(true), false),
        vs(BOB, Some(VC), None, false),
    ]);
    let mut book = WatchBook::new();
    let id = book
        .start(native_request(ALICE, BOB), now)
        .expect("room")
        .id();
    // Another stream's delete does nothing.
    for ev in reg.on_stream_delete(&delete(CAROL, StreamDeleteReason::StreamEnded)) {
        assert!(book.on_registry_event(&ev).is_empty());
    }
    let mut torn = Vec::new();
    for ev in reg.on_stream_delete(&delete(ALICE, StreamDeleteReason::StreamFull)) {
        torn.extend(book.on_registry_event(&ev));
    }
    assert_eq!(torn.len(), 1);
    assert_eq!(torn[0].watch_id, id);
    assert_eq!(torn[0].reason, TeardownReason::StreamDeleted);
    assert_eq!(torn[0].reason.as_str(), "stream_deleted");
    assert!(book.is_empty());
}

fn feed(reg_events: Vec<RegistryEvent>, book: &mut WatchBook) -> Vec<TeardownReason> {
    reg_events
        .iter()
        .flat_map(|ev| book.on_registry_event(ev))
        .map(|t| t.reason)
        .collect()
}

#[test]
fn teardown_on_leaving() {
    let now = Instant::now();
    let start = || {
        let reg = registry(vec![
            vs(ALICE, Some(VC), Some(true), false),
            vs(BOB, Some(VC), None, false),
            vs(CAROL, Some(VC), None, false),
        ]);
        let mut book = WatchBook::new();
        book.start(native_request(ALICE, BOB), now).expect("room");
        (reg, book)
    };
    // Target leaves.
    let (mut reg, mut book) = start();
    let reasons = feed(
        reg.on_voice_state_update(&vs(ALICE, None, None, false)),
        &mut book,
    );
    assert_eq!(reasons, vec![TeardownReason::TargetLeftVoice]);
    // Requester leaves.
    let (mut reg, mut book) = start();
    let reasons = feed(
        reg.on_voice_state_update(&vs(BOB, None, None, false)),
        &mut book,
    );
    assert_eq!(reasons, vec![TeardownReason::RequesterLeftVoice]);
    // Requester leaves but another requester stays.
    let (mut reg, mut book) = start();
    book.start(native_request(ALICE, CAROL), now)
        .expect("reuse");
    assert!(
        feed(
            reg.on_voice_state_update(&vs(BOB, None, None, false)),
            &mut book
        )
        .is_empty()
    );
    assert_eq!(book.len(), 1);
    // We leave.
    let (mut reg, mut book) = start();
    let reasons = feed(
        reg.on_voice_state_update(&vs(ME, None, None, false)),
        &mut book,
    );
    assert_eq!(reasons, vec![TeardownReason::SelfLeftVoice]);
    // Target stops Go Live.
    let (mut reg, mut book) = start();
    let reasons = feed(
        reg.on_voice_state_update(&vs(ALICE, Some(VC), Some(false), false)),
        &mut book,
    );
    assert_eq!(reasons, vec![TeardownReason::TargetStoppedGoLive]);
}

#[test]
fn suppress_link_follows_native_activity() {
    let now = Instant::now();
    let mut book = WatchBook::new();
    let id = book
        .start(
            WatchRequest {
                transport: WatchTransport::Link,
                ..native_request(ALICE, BOB)
            },
            now,
        )
        .expect("room")
        .id();
    // Checkpoint pre_create: not active.
    assert!(!suppress_link(&book, id));
    assert!(book.set_native_active(id, true));
    // Checkpoint post_compose: native became active meanwhile.
    assert!(suppress_link(&book, id));
    assert!(book.set_transport(id, WatchTransport::Webcam));
    assert!(!suppress_link(&book, id));
    assert!(!suppress_link(&book, WatchId(999)));
}

#[test]
fn refusal_reasons_are_stable_snake_case() {
    let all = [
        Refusal::GuildUnknown,
        Refusal::RequesterNotInVoice,
        Refusal::TargetNotFound { target: "x".into() },
        Refusal::TargetNotInVoice { user: ALICE },
        Refusal::TargetNotInRequesterChannel { user: ALICE },
        Refusal::TargetIsSelf,
        Refusal::TargetAmbiguous { candidates: vec![] },
        Refusal::MultipleSharersNeedTarget { sharers: vec![] },
        Refusal::NoSharer,
        Refusal::TooManyWatches,
    ];
    for r in all {
        let s = r.reason();
        assert!(
            s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{s}"
        );
    }
}

#[test]
fn caps_hold_with_small_limits() {
    let limits = Limits {
        max_guilds: 1,
        max_members_per_guild: 2,
        max_voice_states_per_guild: 2,
        max_streams_per_guild: 1,
        max_viewers_per_stream: 1,
    };
    let mut reg = Registry::with_limits(limits);
    reg.on_ready(&ready());
    reg.on_guild_create(&guild(vec![
        vs(ME, Some(VC), None, false),
        vs(ALICE, Some(VC), Some(true), false),
        vs(BOB, Some(VC), Some(true), false),
        vs(CAROL, Some(VC), Some(true), false),
    ]));
    // Our own state is kept beyond the cap.
    assert!(reg.own_voice(G).is_some());
    assert_eq!(reg.voice_state_count(G), 3);
    assert_eq!(reg.stream_count(G), 1);
    let mut info = stream_create(DAVE, 5);
    info.viewer_ids = vec![ALICE, BOB, CAROL];
    let ev = reg.on_stream_create(&info);
    assert!(matches!(ev[0], RegistryEvent::StreamForgotten { .. }));
    assert_eq!(reg.stream(&key(DAVE)).map(|s| s.viewer_ids.len()), Some(1));
    let other = Guild {
        id: GuildId(2),
        ..guild(vec![])
    };
    assert_eq!(
        reg.on_guild_create(&other),
        vec![RegistryEvent::GuildIgnored { guild: GuildId(2) }]
    );
    assert_eq!(reg.guild_count(), 1);
}

// ---- property test ----

#[derive(Debug, Clone)]
enum Op {
    Ready,
    GuildCreate(u64, Vec<(u64, Option<u64>, Option<bool>, bool)>),
    Voice(u64, u64, Option<u64>, Option<bool>, bool),
    VoiceServer(u64, Option<String>),
    Create(u64, u64, u64, Option<u64>),
    Server(u64, u64, u64, Option<String>),
    Update(u64, u64, u64, bool, usize),
    Delete(u64, u64, u64),
    Select(u64, u64, Option<String>),
}

fn small() -> impl Strategy<Value = u64> {
    0u64..5
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Ready),
        (
            small(),
            proptest::collection::vec(
                (
                    small(),
                    proptest::option::of(small()),
                    any::<Option<bool>>(),
                    any::<bool>()
                ),
                0..8
            )
        )
            .prop_map(|(g, v)| Op::GuildCreate(g, v)),
        (
            small(),
            small(),
            proptest::option::of(small()),
            any::<Option<bool>>(),
            any::<bool>()
        )
            .prop_map(|(g, u, c, s, v)| Op::Voice(g, u, c, s, v)),
        (small(), proptest::option::of("[a-z]{0,6}")).prop_map(|(g, e)| Op::VoiceServer(g, e)),
        (small(), small(), small(), proptest::option::of(0u64..4))
            .prop_map(|(g, c, u, r)| Op::Create(g, c, u, r)),
        (
            small(),
            small(),
            small(),
            proptest::option::of("[a-z]{0,6}")
        )
            .prop_map(|(g, c, u, e)| Op::Server(g, c, u, e)),
        (small(), small(), small(), any::<bool>(), 0usize..10)
            .prop_map(|(g, c, u, p, n)| Op::Update(g, c, u, p, n)),
        (small(), small(), small()).prop_map(|(g, c, u)| Op::Delete(g, c, u)),
        (small(), small(), proptest::option::of(".{0,12}"))
            .prop_map(|(g, u, t)| Op::Select(g, u, t)),
    ]
}

fn pvs(g: u64, u: u64, c: Option<u64>, s: Option<bool>, v: bool) -> VoiceState {
    VoiceState {
        guild_id: Some(GuildId(g)),
        ..vs(UserId(u), c.map(ChannelId), s, v)
    }
}

fn pkey(g: u64, c: u64, u: u64) -> StreamKey {
    synthesize_stream_key(GuildId(g), ChannelId(c), UserId(u))
}

proptest! {
    #[test]
    fn arbitrary_dispatch_sequences_never_panic_and_keep_caps(
        ops in proptest::collection::vec(op(), 0..60)
    ) {
        let limits = Limits {
            max_guilds: 3,
            max_members_per_guild: 2,
            max_voice_states_per_guild: 3,
            max_streams_per_guild: 2,
            max_viewers_per_stream: 2,
        };
        let now = Instant::now();
        let mut reg = Registry::with_limits(limits);
        let mut book = WatchBook::with_capacity(3);
        for op in ops {
            let events = match op {
                Op::Ready => {
                    let mut r = ready();
                    r.user.id = UserId(0);
                    reg.on_ready(&r)
                }
                Op::GuildCreate(g, states) => {
                    let mut gc = guild(
                        states.into_iter().map(|(u, c, s, v)| pvs(g, u, c, s, v)).collect(),
                    );
                    gc.id = GuildId(g);
                    reg.on_guild_create(&gc)
                }
                Op::Voice(g, u, c, s, v) => reg.on_voice_state_update(&pvs(g, u, c, s, v)),
                Op::VoiceServer(g, endpoint) => reg.on_voice_server_update(&VoiceServerUpdate {
                    token: Secret::new("t"),
                    guild_id: Some(GuildId(g)),
                    endpoint,
                    channel_id: None,
                }),
                Op::Create(g, c, u, rtc) => reg.on_stream_create(&StreamInfo {
                    stream_key: pkey(g, c, u),
                    rtc_server_id: rtc.map(ServerId),
                    rtc_channel_id: None,
                    region: None,
                    viewer_ids: (0..5).map(UserId).collect(),
                    paused: false,
                }),
                Op::Server(g, c, u, endpoint) => {
                    reg.on_stream_server_update(&StreamServerUpdate {
                        stream_key: pkey(g, c, u),
                        endpoint,
                        token: Secret::new("x"),
                        guild_id: Some(GuildId(g)),
                    })
                }
                Op::Update(g, c, u, paused, n) => reg.on_stream_update(&StreamInfo {
                    stream_key: pkey(g, c, u),
                    rtc_server_id: None,
                    rtc_channel_id: None,
                    region: None,
                    viewer_ids: (0..n as u64).map(UserId).collect(),
                    paused,
                }),
                Op::Delete(g, c, u) => reg.on_stream_delete(&StreamDelete {
                    stream_key: pkey(g, c, u),
                    reason: StreamDeleteReason::StreamEnded,
                    unavailable: None,
                }),
                Op::Select(g, u, t) => {
                    let guild = GuildId(g);
                    if let Ok(sel) = select_target(&reg, guild, UserId(u), t.as_deref()) {
                        for opts in [USER_LINK, PlanOptions { bot_account: true, ..USER_LINK }] {
                            let plan = plan_transport(&reg, guild, sel.target, opts);
                            if let Some(transport) = plan.watch_transport() {
                                let _ = book.start(WatchRequest {
                                    guild: guild.into(),
                                    target: sel.target,
                                    requester: UserId(u),
                                    channel: sel.channel,
                                    transport,
                                }, now);
                            }
                        }
                    }
                    Vec::new()
                }
            };
            for ev in &events {
                for t in book.on_registry_event(ev) {
                    prop_assert!(book.get(t.watch_id).is_none());
                }
            }
            prop_assert!(reg.guild_count() <= limits.max_guilds);
            prop_assert!(book.len() <= 3);
            for g in 0..5 {
                let g = GuildId(g);
                prop_assert!(reg.member_count(g)
                    <= limits.max_members_per_guild + limits.max_voice_states_per_guild);
                // +1: our own voice state is kept beyond the cap.
                prop_assert!(reg.voice_state_count(g) <= limits.max_voice_states_per_guild + 1);
                prop_assert!(reg.stream_count(g) <= limits.max_streams_per_guild);
                for s in reg.streams(g) {
                    prop_assert!(s.viewer_ids.len() <= limits.max_viewers_per_stream);
                }
            }
        }
    }

    #[test]
    fn target_normalization_never_panics(raw in ".{0,300}") {
        let n = normalize_target(&raw);
        prop_assert!(n.chars().count() <= MAX_TARGET_CHARS);
    }
}

#[test]
fn delete_of_a_never_created_stream_still_tears_down() {
    // OP20 sent with a synthesized key; Discord answers STREAM_DELETE
    // (unauthorized) without any STREAM_CREATE.
    let mut reg = registry(vec![vs(BOB, Some(VC), None, false)]);
    let mut book = WatchBook::new();
    book.start(native_request(ALICE, BOB), Instant::now())
        .expect("room");
    let reasons = feed(
        reg.on_stream_delete(&delete(ALICE, StreamDeleteReason::Unauthorized)),
        &mut book,
    );
    assert_eq!(reasons, vec![TeardownReason::StreamDeleted]);
}

/// Issue 16 §5: no target, nobody sharing, links on → the requester is
/// offered a link (the reference's behaviour; the answer used to be
/// `no_sharer`). A named target, links off, another refusal or our own
/// account keep the refusal.
#[test]
fn no_sharer_offers_the_requester_a_link() {
    let reg = registry(vec![vs(ALICE, Some(VC), None, false)]);
    let refusal = select_target(&reg, G, ALICE, None).expect_err("nobody shares");
    assert_eq!(refusal, Refusal::NoSharer);
    let link = TransportPlan::Link {
        reason: PlanReason::NoSharer,
    };
    assert_eq!(
        USER_LINK.no_sharer_plan(&reg, &refusal, None, ALICE),
        Some((ALICE, link.clone()))
    );
    assert_eq!(
        USER_LINK.no_sharer_plan(&reg, &refusal, Some("  "), ALICE),
        Some((ALICE, link.clone())),
        "a blank target is no target"
    );
    let bot = PlanOptions {
        bot_account: true,
        ..USER_LINK
    };
    assert_eq!(
        bot.no_sharer_plan(&reg, &refusal, None, ALICE),
        Some((ALICE, link)),
        "a link needs no Go Live viewing"
    );
    assert_eq!(
        USER_LINK.no_sharer_plan(&reg, &refusal, Some("bob"), ALICE),
        None
    );
    let off = PlanOptions {
        link_fallback_enabled: false,
        ..USER_LINK
    };
    assert_eq!(off.no_sharer_plan(&reg, &refusal, None, ALICE), None);
    assert_eq!(
        USER_LINK.no_sharer_plan(&reg, &Refusal::RequesterNotInVoice, None, BOB),
        None
    );
    assert_eq!(USER_LINK.no_sharer_plan(&reg, &refusal, None, ME), None);
    assert_eq!(PlanReason::NoSharer.as_str(), "no_sharer");
}
