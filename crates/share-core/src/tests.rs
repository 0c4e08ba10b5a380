//! Unit tests for every rule.

// Rate limiters need some `Instant` to start from; the code under test
// never reads the clock.
#![allow(clippy::disallowed_methods)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use voice_proto::{ChannelId, GuildId, UserId};

use crate::token::ct_counter;
use crate::*;

const G: GuildId = GuildId(1);
const VC: ChannelId = ChannelId(10);
const OTHER_VC: ChannelId = ChannelId(11);
const ALICE: UserId = UserId(100);
const BOB: UserId = UserId(200);

#[derive(Default)]
struct World {
    ours: RefCell<BTreeMap<u64, ChannelId>>,
    users: RefCell<BTreeMap<(u64, u64), ChannelId>>,
}

impl World {
    fn standard() -> Self {
        let w = World::default();
        w.ours.borrow_mut().insert(G.0, VC);
        w.join(ALICE, VC);
        w.join(BOB, VC);
        w
    }
    fn join(&self, u: UserId, c: ChannelId) {
        self.users.borrow_mut().insert((G.0, u.0), c);
    }
    fn leave(&self, u: UserId) {
        self.users.borrow_mut().remove(&(G.0, u.0));
    }
}

impl Presence for World {
    fn in_voice(&self, guild: GuildId, user: UserId) -> Option<ChannelId> {
        self.users.borrow().get(&(guild.0, user.0)).copied()
    }
    fn self_in_voice(&self, guild: GuildId) -> Option<ChannelId> {
        self.ours.borrow().get(&guild.0).copied()
    }
}

/// Deterministic random source: a counter spread over the bytes.
fn counter_rng() -> impl FnMut(&mut [u8]) {
    let mut n: u64 = 0;
    move |buf: &mut [u8]| {
        n += 1;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> ((i % 8) * 8)) as u8 ^ (i as u8);
        }
    }
}

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn req(requester: UserId, target: Option<UserId>, now: SystemTime) -> CreateRequest {
    CreateRequest {
        guild: G,
        requester,
        target,
        channel: None,
        now,
    }
}

fn jpeg(len: usize, now: SystemTime) -> FrameMeta<'static> {
    FrameMeta {
        mime: "image/jpeg",
        decoded_len: len,
        now,
    }
}

fn manager() -> SessionManager {
    SessionManager::new(ShareSettings::default())
}

// ---------- tokens ----------

#[test]
fn token_is_24_base64url_chars_from_18_bytes() {
    let mut rng = counter_rng();
    let t = ShareToken::generate(&mut rng);
    assert_eq!(t.reveal().len(), 24);
    assert!(
        t.reveal()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(ShareToken::parse(t.reveal()), Ok(t));
    let t = ShareToken::from_random_bytes([0xff; 18]);
    assert_eq!(t.reveal(), "________________________");
    assert_eq!(ShareToken::parse("abc"), Err(TokenError::Length(3)));
    assert_eq!(
        ShareToken::parse("aaaaaaaaaaaaaaaaaaaaaaa="),
        Err(TokenError::Alphabet)
    );
    assert_eq!(
        ShareToken::parse("aaaaaaaaaaaaaaaaaaaaaaa+"),
        Err(TokenError::Alphabet)
    );
    assert_eq!(
        ShareToken::parse("aaaaaaaaaaaaaaaaaaaaaaaé").map(|_| ()),
        Err(TokenError::Length(25))
    );
}

#[test]
fn token_debug_display_never_show_the_whole_token() {
    let t = ShareToken::parse("AbCdEfGhIjKlMnOpQrStUvWx").unwrap();
    let shown = [
        format!("{t}"),
        format!("{t:?}"),
        format!("{:?}", Some(t)),
        format!("{t:#?}"),
    ];
    for s in &shown {
        assert!(!s.contains(t.reveal()), "{s}");
        assert!(!s.contains("AbCdEfGhIjKlMnOp"), "{s}");
        assert!(s.contains("…QrStUvWx"), "{s}");
    }
    assert_eq!(t.suffix(), "QrStUvWx");
    assert_eq!(t.share_path(), "/share/AbCdEfGhIjKlMnOpQrStUvWx");
    // Session records and rejections show only the suffix too.
    let mut m = manager();
    let w = World::standard();
    let c = m
        .create(req(ALICE, None, t0()), &w, &mut counter_rng())
        .unwrap();
    let dbg = format!("{:?} {:?}", c, m);
    assert!(!dbg.contains(c.session.token.reveal()));
    assert!(dbg.contains(c.session.token.suffix()));
}

#[test]
fn token_equality_is_constant_time_and_lookups_use_it() {
    let a = ShareToken::parse("AAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
    let b = ShareToken::parse("AAAAAAAAAAAAAAAAAAAAAAAB").unwrap();
    let before = ct_counter::get();
    assert!(a == a);
    assert!(a != b);
    assert!(a.ct_eq(&a) && !a.ct_eq(&b));
    assert_eq!(ct_counter::get() - before, 4);

    // A lookup compares against every held session (no early exit).
    let mut m = manager();
    let w = World::standard();
    let mut rng = counter_rng();
    let mut tokens = Vec::new();
    for i in 0..5u64 {
        let u = UserId(1000 + i);
        w.join(u, VC);
        tokens.push(
            m.create(req(u, None, t0()), &w, &mut rng)
                .unwrap()
                .session
                .token,
        );
    }
    let before = ct_counter::get();
    assert!(m.get(&tokens[0]).is_some());
    assert_eq!(ct_counter::get() - before, 5);
}

#[test]
fn token_serde_round_trip_and_validation() {
    let t = ShareToken::parse("AbCdEfGhIjKlMnOpQrStUvWx").unwrap();
    let s = serde_json::to_string(&t).unwrap();
    assert_eq!(s, "\"AbCdEfGhIjKlMnOpQrStUvWx\"");
    assert_eq!(serde_json::from_str::<ShareToken>(&s).unwrap(), t);
    assert!(serde_json::from_str::<ShareToken>("\"short\"").is_err());
}

// ---------- settings ----------

#[test]
fn ttl_default_clamp_and_env_parsing() {
    let m = |v: Option<&str>| ShareTtl::from_env_value(v).minutes();
    assert_eq!(m(None), 12.0);
    assert_eq!(m(Some("")), 12.0);
    assert_eq!(m(Some("  ")), 12.0);
    assert_eq!(m(Some("abc")), 12.0);
    assert_eq!(m(Some("0")), 12.0);
    assert_eq!(m(Some("NaN")), 12.0);
    assert_eq!(m(Some("inf")), 12.0);
    assert_eq!(m(Some("1")), 2.0);
    assert_eq!(m(Some("-5")), 2.0);
    assert_eq!(m(Some("31")), 30.0);
    assert_eq!(m(Some("1000")), 30.0);
    assert_eq!(m(Some(" 7 ")), 7.0);
    assert_eq!(m(Some("2.5")), 2.5);
    assert_eq!(
        ShareTtl::from_minutes(2.5).as_duration(),
        Duration::from_secs(150)
    );
    assert_eq!(ShareTtl::default().as_duration(), Duration::from_secs(720));
    let s = ShareSettings::default().with_ttl_env_value(Some("45"));
    assert_eq!(s.ttl.minutes(), 30.0);
}

#[test]
fn settings_defaults_and_clamps() {
    let d = ShareSettings::default();
    assert_eq!(d.max_active_sessions, 240);
    assert_eq!(d.max_frame_bytes, 350_000);
    assert_eq!(d.max_frames_per_minute, 180);
    assert_eq!(d.keyframe_interval_ms, 1200);
    assert_eq!(d.share_page_max_width_px, 960);
    assert_eq!(d.share_page_jpeg_quality, 0.6);
    assert_eq!(d.max_body_bytes, 6_000_000);
    assert!(d.stream_watch_enabled && d.link_fallback_enabled);
    assert_eq!(d.clone().normalized(), d);
    let n = ShareSettings {
        max_frame_bytes: 1,
        max_frames_per_minute: 10_000,
        keyframe_interval_ms: 0,
        share_page_max_width_px: 100,
        share_page_jpeg_quality: 0.9,
        ..ShareSettings::default()
    }
    .normalized();
    assert_eq!(n.max_frame_bytes, 50_000);
    assert_eq!(n.max_frames_per_minute, 600);
    assert_eq!(n.keyframe_interval_ms, 1200);
    assert_eq!(n.share_page_max_width_px, 640);
    assert_eq!(n.share_page_jpeg_quality, 0.75);
    let big = ShareSettings {
        max_frame_bytes: 4_000_000,
        max_body_bytes: 10,
        ..ShareSettings::default()
    }
    .normalized();
    // The body cap always leaves room for the largest allowed frame.
    assert!(big.max_body_bytes >= 5_333_336 + 65_536);
    for m in ["image/jpeg", "IMAGE/JPG", "image/png", " image/webp "] {
        assert!(ShareSettings::mime_allowed(m), "{m}");
    }
    for m in ["image/gif", "text/html", "image/jpeg; q=1", ""] {
        assert!(!ShareSettings::mime_allowed(m), "{m}");
    }
    assert_eq!(ALLOWED_MIME_TYPES.len(), 4);
    assert_eq!(FrameMime::parse("image/jpg"), Some(FrameMime::Jpeg));
}

// ---------- create ----------

#[test]
fn create_new_link_with_ttl() {
    let mut m = manager();
    let w = World::standard();
    let c = m
        .create(req(ALICE, Some(BOB), t0()), &w, &mut counter_rng())
        .unwrap();
    assert!(!c.reused);
    assert_eq!(c.session.target, BOB);
    assert_eq!(c.session.requester, ALICE);
    assert_eq!(c.session.expires_at.0 - c.session.created_at.0, 12 * 60_000);
    assert_eq!(c.session.expires_in_minutes(t0()), 12);
    assert_eq!(m.len(), 1);
    // Target defaults to requester.
    let c2 = m
        .create(req(BOB, None, t0()), &w, &mut counter_rng())
        .unwrap();
    assert_eq!(c2.session.target, BOB);
    assert_ne!(c.session.token, c2.session.token);
}

#[test]
fn reuse_returns_same_link_without_extension() {
    let mut m = manager();
    let w = World::standard();
    let mut rng = counter_rng();
    let first = m.create(req(ALICE, Some(BOB), t0()), &w, &mut rng).unwrap();
    let later = t0() + Duration::from_secs(5 * 60 + 1);
    let again = m
        .create(req(ALICE, Some(BOB), later), &w, &mut rng)
        .unwrap();
    assert!(again.reused);
    assert_eq!(again.session.token, first.session.token);
    assert_eq!(again.session.expires_at, first.session.expires_at);
    assert_eq!(again.session.expires_in_minutes(later), 7);
    assert_eq!(m.len(), 1);
    // Different target or requester → a new link.
    let other = m.create(req(ALICE, None, later), &w, &mut rng).unwrap();
    assert!(!other.reused);
    // Channel is a filter only when given.
    let with_ch = CreateRequest {
        channel: Some(ChannelId(55)),
        ..req(ALICE, Some(BOB), later)
    };
    let c = m.create(with_ch, &w, &mut rng).unwrap();
    assert!(
        !c.reused,
        "stored channel None does not match a given channel"
    );
    let c2 = m.create(with_ch, &w, &mut rng).unwrap();
    assert!(c2.reused);
    assert_eq!(c2.session.token, c.session.token);
    // An expired (unswept) session is not reused.
    let late = later + Duration::from_secs(12 * 60);
    let fresh = m.create(req(ALICE, Some(BOB), late), &w, &mut rng).unwrap();
    assert!(!fresh.reused);
    assert_ne!(fresh.session.token, first.session.token);
}

#[test]
fn create_policy_refusals_in_order() {
    let w = World::standard();
    let mut rng = counter_rng();
    let mut m = SessionManager::new(ShareSettings {
        link_fallback_enabled: false,
        stream_watch_enabled: false,
        ..ShareSettings::default()
    });
    let e = m.create(req(ALICE, None, t0()), &w, &mut rng).unwrap_err();
    assert_eq!(
        (e.reason(), e.http_status(), e.is_policy()),
        ("link_fallback_disabled", 400, true)
    );
    m.set_settings(ShareSettings {
        stream_watch_enabled: false,
        ..ShareSettings::default()
    });
    let e = m.create(req(ALICE, None, t0()), &w, &mut rng).unwrap_err();
    assert_eq!(
        (e.reason(), e.http_status()),
        ("stream_watch_disabled", 400)
    );
    m.set_settings(ShareSettings::default());

    let nobody = World::default();
    let e = m
        .create(req(ALICE, None, t0()), &nobody, &mut rng)
        .unwrap_err();
    assert_eq!(e.reason(), "voice_session_not_found");
    let w2 = World::standard();
    w2.join(ALICE, OTHER_VC);
    let e = m
        .create(req(ALICE, Some(BOB), t0()), &w2, &mut rng)
        .unwrap_err();
    assert_eq!(e.reason(), "requester_not_in_same_vc");
    let w3 = World::standard();
    w3.leave(BOB);
    let e = m
        .create(req(ALICE, Some(BOB), t0()), &w3, &mut rng)
        .unwrap_err();
    assert_eq!(
        (e.reason(), e.http_status(), e.is_policy()),
        ("target_user_not_in_same_vc", 400, true)
    );
    assert!(m.is_empty());
}

#[test]
fn reuse_with_failed_presence_stops_the_old_session() {
    let mut m = manager();
    let w = World::standard();
    let mut rng = counter_rng();
    let first = m.create(req(ALICE, Some(BOB), t0()), &w, &mut rng).unwrap();
    w.leave(BOB);
    let e = m
        .create(req(ALICE, Some(BOB), t0()), &w, &mut rng)
        .unwrap_err();
    assert_eq!(e.reason(), "target_user_not_in_same_vc");
    assert_eq!(e.ended.len(), 1);
    assert_eq!(e.ended[0].session.token, first.session.token);
    assert_eq!(
        e.ended[0].reason,
        EndReason::PresenceLost(PresenceFailure::TargetNotInSameVc)
    );
    assert!(m.is_empty());
}

#[test]
fn cap_of_240_refuses_the_241st() {
    let mut m = manager();
    let w = World::standard();
    let mut rng = counter_rng();
    for i in 0..240u64 {
        let u = UserId(10_000 + i);
        w.join(u, VC);
        m.create(req(u, None, t0()), &w, &mut rng).unwrap();
    }
    assert_eq!(m.len(), 240);
    let e = m.create(req(ALICE, None, t0()), &w, &mut rng).unwrap_err();
    assert_eq!(e.kind, CreateRefusalKind::TooManySessions);
    assert_eq!(
        (e.reason(), e.http_status(), e.is_policy()),
        ("share_session_limit_reached", 503, false)
    );
    // A reshare of an existing link still works at the cap.
    let again = m
        .create(req(UserId(10_000), None, t0()), &w, &mut rng)
        .unwrap();
    assert!(again.reused);
    // After expiry there is room again.
    let later = t0() + Duration::from_secs(13 * 60);
    assert_eq!(m.expire(later).len(), 240);
    assert!(m.create(req(ALICE, None, later), &w, &mut rng).is_ok());
}

#[test]
fn broken_rng_is_refused_not_looped() {
    let mut m = manager();
    let w = World::standard();
    let mut zeros = |b: &mut [u8]| b.fill(0);
    m.create(req(ALICE, None, t0()), &w, &mut zeros).unwrap();
    let e = m.create(req(BOB, None, t0()), &w, &mut zeros).unwrap_err();
    assert_eq!(
        (e.reason(), e.http_status()),
        ("token_generation_failed", 500)
    );
}

// ---------- expiry / stop ----------

#[test]
fn expire_lists_each_ended_session_once() {
    let mut m = manager();
    let w = World::standard();
    let mut rng = counter_rng();
    let a = m
        .create(req(ALICE, None, t0()), &w, &mut rng)
        .unwrap()
        .session;
    let b = m
        .create(req(BOB, None, t0() + Duration::from_secs(60)), &w, &mut rng)
        .unwrap()
        .session;
    assert_eq!(m.next_expiry(), Some(a.expires_at.to_system()));
    assert!(m.expire(t0() + Duration::from_secs(12 * 60 - 1)).is_empty());
    let gone = m.expire(t0() + Duration::from_secs(12 * 60));
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].session.token, a.token);
    assert_eq!(gone[0].reason, EndReason::Expired);
    assert_eq!(gone[0].reason.as_str(), "session_expired");
    assert_eq!(m.next_expiry(), Some(b.expires_at.to_system()));
    assert!(m.expire(t0() + Duration::from_secs(12 * 60)).is_empty());
    assert_eq!(m.expire(t0() + Duration::from_secs(3600)).len(), 1);
    assert!(m.is_empty() && m.next_expiry().is_none());
    // Frames on expired tokens: share_session_not_found.
    let r = m.check_frame(&a.token, jpeg(10, t0()), &w).unwrap_err();
    assert_eq!(r, FrameRejection::SessionExpired { ended: None });
    assert_eq!(
        (r.reason(), r.http_status(), r.is_terminal()),
        ("share_session_not_found", 400, true)
    );
}

#[test]
fn frame_after_expiry_ends_the_session_for_the_shell() {
    let mut m = manager();
    let w = World::standard();
    let s = m
        .create(req(ALICE, None, t0()), &w, &mut counter_rng())
        .unwrap()
        .session;
    let late = t0() + Duration::from_secs(12 * 60);
    assert!(m.get_live(&s.token, late).is_none());
    assert!(m.get(&s.token).is_some());
    let r = m.check_frame(&s.token, jpeg(10, late), &w).unwrap_err();
    let ended = r.ended().expect("ended session reported");
    assert_eq!(ended.session.token, s.token);
    assert_eq!(ended.reason, EndReason::Expired);
    assert!(m.is_empty());
    assert!(m.expire(late).is_empty(), "not reported twice");
}

#[test]
fn stop_reports_the_session_and_sanitizes_reason() {
    let mut m = manager();
    let w = World::standard();
    let s = m
        .create(req(ALICE, None, t0()), &w, &mut counter_rng())
        .unwrap()
        .session;
    let ended = m.stop(&s.token, "manual_stop\n<script>").unwrap();
    assert_eq!(
        ended.reason,
        EndReason::Stopped("manual_stop__script_".into())
    );
    assert!(m.stop(&s.token, "again").is_none());
    let r = m.check_frame(&s.token, jpeg(10, t0()), &w).unwrap_err();
    assert_eq!(r, FrameRejection::SessionStopped);
    assert_eq!(r.reason(), "share_session_not_found");
    assert_eq!(sanitize_reason(""), "stopped_by_user");
    assert_eq!(sanitize_reason(&"x".repeat(200)).len(), 80);
}

#[test]
fn stop_all_and_suffix_lookup() {
    let mut m = manager();
    let w = World::standard();
    let mut rng = counter_rng();
    let a = m
        .create(req(ALICE, None, t0()), &w, &mut rng)
        .unwrap()
        .session;
    m.create(req(BOB, None, t0()), &w, &mut rng).unwrap();
    let found = m.find_by_suffix(a.token.suffix());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].token, a.token);
    assert!(m.find_by_suffix("").is_empty());
    assert_eq!(m.list().count(), 2);
    assert_eq!(m.runtime_state(t0()).active_count, 2);
    assert_eq!(m.stop_all("operator").len(), 2);
    assert!(m.is_empty());
}

// ---------- frames ----------

#[test]
fn frame_accepted_updates_session() {
    let mut m = manager();
    let w = World::standard();
    let s = m
        .create(req(ALICE, Some(BOB), t0()), &w, &mut counter_rng())
        .unwrap()
        .session;
    let a = m.check_frame(&s.token, jpeg(1000, t0()), &w).unwrap();
    assert_eq!(
        (a.guild, a.requester, a.target, a.mime),
        (G, ALICE, BOB, FrameMime::Jpeg)
    );
    assert_eq!(a.frames_in_window, 1);
    let got = m.get(&s.token).unwrap();
    assert_eq!(got.frames_accepted, 1);
    assert_eq!(got.last_frame_at, Some(UnixMillis::from_system(t0())));
    assert_eq!(got.expires_at, s.expires_at, "frames never extend");
    // Empty mime means image/jpeg; jpg normalizes.
    let meta = FrameMeta {
        mime: "",
        ..jpeg(10, t0())
    };
    assert_eq!(
        m.check_frame(&s.token, meta, &w).unwrap().mime,
        FrameMime::Jpeg
    );
    let meta = FrameMeta {
        mime: "IMAGE/WEBP",
        ..jpeg(10, t0())
    };
    assert_eq!(
        m.check_frame(&s.token, meta, &w).unwrap().mime,
        FrameMime::Webp
    );
}

#[test]
fn presence_loss_on_frame_auto_stops() {
    for (who, failure) in [
        (Some(ALICE), PresenceFailure::RequesterNotInSameVc),
        (Some(BOB), PresenceFailure::TargetNotInSameVc),
        (None, PresenceFailure::VoiceSessionNotFound),
    ] {
        let mut m = manager();
        let w = World::standard();
        let s = m
            .create(req(ALICE, Some(BOB), t0()), &w, &mut counter_rng())
            .unwrap()
            .session;
        match who {
            Some(u) => w.join(u, OTHER_VC),
            None => {
                w.ours.borrow_mut().clear();
            }
        }
        let r = m.check_frame(&s.token, jpeg(10, t0()), &w).unwrap_err();
        assert_eq!(r.reason(), failure.reason());
        assert_eq!(r.http_status(), 400);
        assert!(r.is_terminal());
        let ended = r.ended().unwrap();
        assert_eq!(ended.session.token, s.token);
        assert_eq!(ended.reason, EndReason::PresenceLost(failure));
        assert!(m.is_empty(), "session stopped");
        let again = m.check_frame(&s.token, jpeg(10, t0()), &w).unwrap_err();
        assert_eq!(again, FrameRejection::SessionStopped);
    }
}

#[test]
fn rejections_come_in_order_with_reference_reasons_and_statuses() {
    let mut m = manager();
    let w = World::standard();
    let s = m
        .create(req(ALICE, None, t0()), &w, &mut counter_rng())
        .unwrap()
        .session;
    let unknown = ShareToken::from_random_bytes([7; 18]);
    // 1. unknown session beats everything else.
    let bad = FrameMeta {
        mime: "text/html",
        decoded_len: 10_000_000,
        now: t0(),
    };
    let r = m.check_frame(&unknown, bad, &w).unwrap_err();
    assert_eq!(
        (r.reason(), r.http_status()),
        ("share_session_not_found", 400)
    );
    assert_eq!(r, FrameRejection::SessionNotFound);
    // 2. MIME before size.
    let r = m.check_frame(&s.token, bad, &w).unwrap_err();
    assert_eq!(
        (r.reason(), r.http_status(), r.is_terminal()),
        ("invalid_mime_type", 400, false)
    );
    // 3. empty data before size.
    let r = m.check_frame(&s.token, jpeg(0, t0()), &w).unwrap_err();
    assert_eq!((r.reason(), r.http_status()), ("frame_data_required", 400));
    // 4. size.
    let r = m
        .check_frame(&s.token, jpeg(350_001, t0()), &w)
        .unwrap_err();
    assert_eq!((r.reason(), r.http_status()), ("frame_too_large", 400));
    assert_eq!(r.body()["maxFrameBytes"], 350_000);
    assert!(m.check_frame(&s.token, jpeg(350_000, t0()), &w).is_ok());
    // 5. rate (rejected frames above did not count).
    for _ in 1..180 {
        m.check_frame(&s.token, jpeg(10, t0()), &w).unwrap();
    }
    let r = m.check_frame(&s.token, jpeg(10, t0()), &w).unwrap_err();
    assert_eq!((r.reason(), r.http_status()), ("frame_rate_limited", 400));
    assert_eq!(r.body()["maxFramesPerMinute"], 180);
    assert_eq!(r.body()["accepted"], false);
    // ...but an oversize frame in a full window is still frame_too_large.
    let r = m
        .check_frame(&s.token, jpeg(400_000, t0()), &w)
        .unwrap_err();
    assert_eq!(r.reason(), "frame_too_large");
    // The window reopens after 60 s.
    let next = t0() + Duration::from_secs(60);
    assert_eq!(
        m.check_frame(&s.token, jpeg(10, next), &w)
            .unwrap()
            .frames_in_window,
        1
    );
    // Request-side strings and statuses.
    assert_eq!(
        (
            FrameRejection::PayloadTooLarge.reason(),
            FrameRejection::PayloadTooLarge.http_status()
        ),
        ("payload_too_large", 413)
    );
    let rl = FrameRejection::IngestRateLimited {
        retry_after: Duration::from_millis(50),
    };
    assert_eq!(
        (rl.reason(), rl.http_status()),
        ("ingest_rate_limited", 429)
    );
    assert_eq!(rl.body()["retryAfterMs"], 50);
    assert_eq!(
        FrameRejection::TokenRequired.reason(),
        "share_session_token_required"
    );
    assert_eq!(FrameRejection::InvalidJson.reason(), "invalid_json_body");
    assert_eq!(
        FrameRejection::InvalidFrameData.reason(),
        "invalid_frame_data"
    );
    // Bodies never carry the token.
    assert!(!r.body().to_string().contains(s.token.reveal()));
}

#[test]
fn presence_checked_before_mime() {
    let mut m = manager();
    let w = World::standard();
    let s = m
        .create(req(ALICE, None, t0()), &w, &mut counter_rng())
        .unwrap()
        .session;
    w.leave(ALICE);
    let bad = FrameMeta {
        mime: "text/html",
        decoded_len: 0,
        now: t0(),
    };
    let r = m.check_frame(&s.token, bad, &w).unwrap_err();
    assert_eq!(r.reason(), "requester_not_in_same_vc");
}

// ---------- snapshot / restore ----------

#[test]
fn snapshot_restore_round_trip_keeps_links_valid() {
    let mut m = manager();
    let w = World::standard();
    let mut rng = counter_rng();
    let a = m
        .create(req(ALICE, Some(BOB), t0()), &w, &mut rng)
        .unwrap()
        .session;
    let b = m
        .create(
            req(BOB, None, t0() - Duration::from_secs(11 * 60)),
            &w,
            &mut rng,
        )
        .unwrap()
        .session;
    m.check_frame(&a.token, jpeg(10, t0()), &w).unwrap();
    let json = serde_json::to_string(&m.snapshot()).unwrap();
    let records: Vec<ShareSession> = serde_json::from_str(&json).unwrap();

    let now = t0() + Duration::from_secs(120);
    let mut fresh = manager();
    let r = fresh.restore(records.clone(), now);
    assert_eq!(r.restored, 1);
    assert_eq!(r.ended.len(), 1, "b expired during the downtime");
    assert_eq!(r.ended[0].session.token, b.token);
    let got = fresh.get_live(&a.token, now).unwrap();
    assert_eq!(got.expires_at, a.expires_at);
    assert_eq!(got.frames_accepted, 1);
    assert!(fresh.check_frame(&a.token, jpeg(10, now), &w).is_ok());
    // Reshare after restart returns the same link.
    let again = fresh
        .create(req(ALICE, Some(BOB), now), &w, &mut rng)
        .unwrap();
    assert!(again.reused && again.session.token == a.token);
    // New ids continue after restored ones; duplicates are skipped.
    let n = fresh
        .create(req(ALICE, None, now), &w, &mut rng)
        .unwrap()
        .session;
    assert!(n.id > a.id && n.id > b.id);
    assert_eq!(fresh.restore(records, now).duplicates, 1);
}

#[test]
fn restore_over_cap_ends_the_oldest() {
    let mut m = SessionManager::new(ShareSettings {
        max_active_sessions: 3,
        ..ShareSettings::default()
    });
    let w = World::standard();
    let mut rng = counter_rng();
    let mut src = manager();
    for i in 0..5u64 {
        let u = UserId(500 + i);
        w.join(u, VC);
        src.create(req(u, None, t0() + Duration::from_secs(i)), &w, &mut rng)
            .unwrap();
    }
    let r = m.restore(src.snapshot(), t0() + Duration::from_secs(10));
    assert_eq!(r.restored, 3);
    assert_eq!(r.ended.len(), 2);
    assert!(r.ended.iter().all(|e| e.reason == EndReason::OverCapacity));
    assert_eq!(r.ended[0].session.requester, UserId(500));
}

// ---------- request helpers ----------

#[test]
fn declared_oversize_is_rejected_before_buffering() {
    let s = ShareSettings::default();
    assert_eq!(
        s.check_declared_length(6_000_001),
        Err(FrameRejection::PayloadTooLarge)
    );
    assert_eq!(
        s.check_declared_length(u64::MAX),
        Err(FrameRejection::PayloadTooLarge)
    );
    assert!(s.check_declared_length(6_000_000).is_ok());
    assert!(check_declared_length(0, 10).is_ok());
    // The same cap applies to a body that arrives without a length.
    let body = vec![b' '; 101];
    assert_eq!(
        FrameBody::parse(&body, 100),
        Err(FrameRejection::PayloadTooLarge)
    );
}

#[test]
fn frame_body_parsing() {
    let max = 6_000_000;
    let b = FrameBody::parse(
        br#"{"mimeType":"image/png","dataBase64":"aGVsbG8=","source":"share_page"}"#,
        max,
    )
    .unwrap();
    assert_eq!(b.mime_type, "image/png");
    assert_eq!(b.source.as_deref(), Some("share_page"));
    assert_eq!(b.decoded_len(), Ok(5));
    assert_eq!(b.decode(100), Ok(DecodedFrame::Bytes(b"hello".to_vec())));
    // Defaults and data URLs.
    let b = FrameBody::parse(br#"{"dataBase64":"data:image/jpeg;base64,aGVsbG8"}"#, max).unwrap();
    assert_eq!(b.mime_type, "");
    assert_eq!(b.decode(100), Ok(DecodedFrame::Bytes(b"hello".to_vec())));
    // Errors.
    for (body, want) in [
        (&br"not json"[..], FrameRejection::InvalidJson),
        (br"null", FrameRejection::InvalidJson),
        (br#"{"dataBase64":5}"#, FrameRejection::InvalidJson),
        (
            br#"{"mimeType":"image/jpeg"}"#,
            FrameRejection::FrameDataRequired,
        ),
        (br#"{"dataBase64":""}"#, FrameRejection::FrameDataRequired),
    ] {
        assert_eq!(FrameBody::parse(body, max), Err(want));
    }
    // Source is capped; Debug hides the data.
    let long = format!(r#"{{"dataBase64":"QUJD","source":"{}"}}"#, "s".repeat(500));
    let b = FrameBody::parse(long.as_bytes(), max).unwrap();
    assert_eq!(b.source.unwrap().len(), 80);
    let b = FrameBody::parse(br#"{"dataBase64":"c2VjcmV0LWltYWdl"}"#, max).unwrap();
    assert!(!format!("{b:?}").contains("c2VjcmV0LWltYWdl"));
}

#[test]
fn capped_decoding_never_allocates_over_the_cap() {
    // 1 MB of base64 → 750 000 bytes; the cap is smaller: nothing decoded.
    let data = "A".repeat(1_000_000);
    assert_eq!(
        decode_capped(data.as_bytes(), 350_000),
        Ok(DecodedFrame::TooLarge {
            decoded_len: 750_000
        })
    );
    // Exactly at the cap decodes into an exact-size buffer.
    let data = "QUJD".repeat(10);
    match decode_capped(data.as_bytes(), 30).unwrap() {
        DecodedFrame::Bytes(b) => {
            assert_eq!(b.len(), 30);
            assert_eq!(b.capacity(), 30);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(base64_decoded_len(b"QUJ"), Ok(2));
    assert_eq!(base64_decoded_len(b"QU=="), Ok(1));
    assert_eq!(
        base64_decoded_len(b"Q"),
        Err(FrameRejection::InvalidFrameData)
    );
    assert_eq!(
        base64_decoded_len(b"QUJ=="),
        Err(FrameRejection::InvalidFrameData)
    );
    assert_eq!(
        decode_capped(b"QU!D", 10),
        Err(FrameRejection::InvalidFrameData)
    );
    // URL-safe alphabet too.
    assert_eq!(
        decode_capped(b"-_-_", 10),
        Ok(DecodedFrame::Bytes(vec![0xfb, 0xff, 0xbf]))
    );
}

// ---------- rate limits ----------

#[test]
fn token_bucket_per_ip_and_per_session() {
    let t = Instant::now();
    let mut per_ip: RateLimiter<std::net::IpAddr> = RateLimiter::new(
        RateLimit {
            burst: 3,
            per_second: 2.0,
        },
        16,
    );
    let a: std::net::IpAddr = "10.0.0.1".parse().unwrap();
    let b: std::net::IpAddr = "10.0.0.2".parse().unwrap();
    for _ in 0..3 {
        per_ip.check(&a, t).unwrap();
    }
    let e = per_ip.check(&a, t).unwrap_err();
    assert_eq!(e.retry_after, Duration::from_millis(500));
    assert_eq!(FrameRejection::from(e).http_status(), 429);
    per_ip.check(&b, t).unwrap(); // other keys unaffected
    per_ip.check(&a, t + Duration::from_millis(500)).unwrap();
    assert!(per_ip.check(&a, t + Duration::from_millis(500)).is_err());
    // Refill caps at the burst.
    let later = t + Duration::from_secs(100);
    for _ in 0..3 {
        per_ip.check(&a, later).unwrap();
    }
    assert!(per_ip.check(&a, later).is_err());

    let mut per_session: RateLimiter<SessionId> = RateLimiter::new(RateLimit::PER_TOKEN, 16);
    for _ in 0..20 {
        per_session.check(&SessionId(1), t).unwrap();
    }
    assert!(per_session.check(&SessionId(1), t).is_err());
    per_session.remove(&SessionId(1));
    assert!(per_session.check(&SessionId(1), t).is_ok());
}

#[test]
fn rate_limiter_memory_is_bounded() {
    let t = Instant::now();
    let mut rl: RateLimiter<u32> = RateLimiter::new(
        RateLimit {
            burst: 2,
            per_second: 1.0,
        },
        4,
    );
    for k in 0..100 {
        let _ = rl.check(&k, t + Duration::from_millis(u64::from(k)));
        assert!(rl.len() <= 4);
    }
    rl.prune(t + Duration::from_secs(1000));
    assert!(rl.is_empty());
    // Insane shapes are made sane rather than panicking.
    let mut odd: RateLimiter<u8> = RateLimiter::new(
        RateLimit {
            burst: 0,
            per_second: f64::NAN,
        },
        0,
    );
    assert!(odd.check(&1, t).is_ok());
    assert!(odd.check(&1, t).is_err());
}

// ---------- public host ----------

const TOK: &str = "AbCdEfGhIjKlMnOpQrStUvWx";

fn gate_req<'a>(
    method: &'a str,
    path: &'a str,
    host: Option<&'a str>,
    xfh: Option<&'a str>,
) -> GateRequest<'a> {
    GateRequest {
        method,
        path,
        host: host.map(str::as_bytes),
        forwarded_host: xfh.map(str::as_bytes),
    }
}

#[test]
fn public_host_allowlist() {
    let g = PublicHostGate::new(Some("https://Share.Example.com/some/path"));
    assert_eq!(g.public_host(), Some(&b"share.example.com"[..]));
    let public = Some("share.example.com");
    let frame = format!("/api/voice/share-session/{TOK}/frame");
    let stop = format!("/api/voice/share-session/{TOK}/stop/");
    let page = format!("/share/{TOK}");
    let page_q = format!("/share/{TOK}?x=1");
    for (m, p) in [
        ("POST", frame.as_str()),
        ("POST", stop.as_str()),
        ("POST", "/api/voice/stream-ingest/frame"),
        ("POST", "/api/voice/stream-ingest/frame/"),
        ("GET", page.as_str()),
        ("HEAD", page.as_str()),
        ("GET", page_q.as_str()),
        ("GET", "/share/assets/share.css"),
    ] {
        let d = g.check(&gate_req(m, p, public, None));
        assert!(matches!(d, GateDecision::AllowPublic(_)), "{m} {p}: {d:?}");
    }
    let short = "/api/voice/share-session/abcdefghijklmnop/frame"; // 16 chars: the reference's minimum, not a token
    let frame_get = frame.clone();
    for (m, p, want) in [
        ("GET", "/", NotFound::Text),
        ("GET", "/assets/index-abc.css", NotFound::Text),
        ("GET", "/dashboard", NotFound::Text),
        ("GET", "/healthz", NotFound::Text),
        ("GET", "/api/stats", NotFound::Json),
        ("POST", "/api/voice/share-session", NotFound::Json),
        ("GET", "/api/auth/session", NotFound::Json),
        ("POST", "/api/auth/session", NotFound::Json),
        ("GET", frame_get.as_str(), NotFound::Json),
        ("POST", short, NotFound::Json),
        ("GET", "/share/assets/../../etc/passwd", NotFound::Text),
        ("GET", "/share/assets/.hidden", NotFound::Text),
        ("GET", "/share/not-a-token", NotFound::Text),
        ("POST", "/share/AbCdEfGhIjKlMnOpQrStUvWx", NotFound::Text),
        ("GET", "/api", NotFound::Json),
    ] {
        assert_eq!(
            g.check(&gate_req(m, p, public, None)),
            GateDecision::NotFound(want),
            "{m} {p}"
        );
    }
    assert_eq!(NotFound::Json.body(), r#"{"error":"Not found."}"#);
    assert_eq!(NotFound::Text.body(), "Not found.");
    // Local requests are not gated.
    let d = g.check(&gate_req("GET", "/api/stats", Some("127.0.0.1:8787"), None));
    assert_eq!(d, GateDecision::AllowLocal);
    // Frame ingress classification for the body cap / rate limits.
    assert!(
        PublicRoute::classify("POST", &frame)
            .unwrap()
            .is_frame_ingress()
    );
    assert!(
        !PublicRoute::classify("GET", &page)
            .unwrap()
            .is_frame_ingress()
    );
}

#[test]
fn public_host_detection_headers_and_ports() {
    let g = PublicHostGate::new(Some("x.trycloudflare.com"));
    let is =
        |h: Option<&str>, x: Option<&str>| g.is_public(h.map(str::as_bytes), x.map(str::as_bytes));
    // X-Forwarded-Host takes precedence as the request host.
    assert!(is(Some("127.0.0.1:8787"), Some("x.trycloudflare.com")));
    assert_eq!(
        PublicHostGate::request_host(Some(b"127.0.0.1:8787"), Some(b"X.TryCloudflare.com:443")),
        Some(b"x.trycloudflare.com".to_vec())
    );
    assert_eq!(
        PublicHostGate::request_host(Some(b"Local:1"), None),
        Some(b"local".to_vec())
    );
    // Port, case, trailing dot and whitespace are ignored.
    assert!(is(Some("X.TRYCLOUDFLARE.COM:443"), None));
    assert!(is(Some("x.trycloudflare.com."), None));
    assert!(is(None, Some(" x.trycloudflare.com:8443 ")));
    // Any entry of a list counts.
    assert!(is(None, Some("proxy.local, x.trycloudflare.com")));
    // A forged X-Forwarded-Host cannot hide the public Host (deliberate).
    assert!(is(Some("x.trycloudflare.com"), Some("127.0.0.1")));
    assert!(!is(Some("127.0.0.1:8787"), Some("localhost")));
    assert!(!is(Some("evil-x.trycloudflare.com"), None));
    assert!(!is(Some("x.trycloudflare.com.evil"), None));
    assert!(!is(None, None));
    // Configured host with a port compares without it.
    let g2 = PublicHostGate::new(Some("share.example.com:8443"));
    assert!(g2.is_public(Some(b"share.example.com"), None));
    // IPv6 literals.
    let g6 = PublicHostGate::new(Some("http://[::1]:8787/"));
    assert!(g6.is_public(Some(b"[::1]:9000"), None));
    // Nothing configured: nothing is public.
    let none = PublicHostGate::new(None);
    assert!(!none.is_public(Some(b"x.trycloudflare.com"), None));
    assert_eq!(
        none.check(&gate_req("GET", "/api/stats", Some("anything"), None)),
        GateDecision::AllowLocal
    );
    assert_eq!(PublicHostGate::new(Some("https://")).public_host(), None);
    // Non-UTF-8 header bytes still compare (fail closed, not open).
    assert!(g.is_public(Some(b"x.trycloudflare.com"), Some(b"\xff\xfe")));
}
