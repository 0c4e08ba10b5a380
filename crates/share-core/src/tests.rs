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

#[test]
fn revision_moves_exactly_when_the_set_of_sessions_changes() {
    let mut m = manager();
    let w = World::standard();
    let mut rng = counter_rng();
    let r0 = m.revision();
    let a = m
        .create(req(ALICE, None, t0()), &w, &mut rng)
        .unwrap()
        .session;
    let r1 = m.revision();
    assert_ne!(r1, r0, "created");
    // Reuse, accepted frames and a sweep with nothing due change nothing.
    assert!(
        m.create(req(ALICE, None, t0()), &w, &mut rng)
            .unwrap()
            .reused
    );
    assert!(m.check_frame(&a.token, jpeg(10, t0()), &w).is_ok());
    assert!(m.expire(t0()).is_empty());
    assert_eq!(m.revision(), r1);
    // Stop, expiry and restore each move it.
    m.stop(&a.token, "x").unwrap();
    let r2 = m.revision();
    assert_ne!(r2, r1, "stopped");
    let b = m
        .create(req(BOB, None, t0()), &w, &mut rng)
        .unwrap()
        .session;
    let r3 = m.revision();
    assert_eq!(m.expire(t0() + Duration::from_secs(3600)).len(), 1);
    assert_ne!(m.revision(), r3, "expired");
    let mut restored = manager();
    let before = restored.revision();
    restored.restore(vec![b], t0());
    assert_ne!(restored.revision(), before, "restored");
}

#[path = "tests_frames.rs"]
mod tests_frames;
