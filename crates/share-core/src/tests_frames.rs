//! Frame admission, body, rate-limit and public-host tests (helpers in
//! the parent test module).

use super::*;

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
    assert_eq!(r.body().max_frame_bytes, Some(350_000));
    assert!(m.check_frame(&s.token, jpeg(350_000, t0()), &w).is_ok());
    // 5. rate (rejected frames above did not count).
    for _ in 1..180 {
        m.check_frame(&s.token, jpeg(10, t0()), &w).unwrap();
    }
    let r = m.check_frame(&s.token, jpeg(10, t0()), &w).unwrap_err();
    assert_eq!((r.reason(), r.http_status()), ("frame_rate_limited", 400));
    assert_eq!(r.body().max_frames_per_minute, Some(180));
    assert!(!r.body().accepted);
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
    assert_eq!(rl.body().retry_after_ms, Some(50));
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
    assert!(
        !serde_json::to_string(&r.body())
            .unwrap()
            .contains(s.token.reveal())
    );
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
    // Target ids for the direct ingest route: strings or numbers, as text.
    let b = FrameBody::parse(
        br#"{"dataBase64":"QUJD","guildId":"12","streamerUserId":34}"#,
        max,
    )
    .unwrap();
    assert_eq!(b.guild_id.as_deref(), Some("12"));
    assert_eq!(b.streamer_user_id.as_deref(), Some("34"));
    let b = FrameBody::parse(br#"{"dataBase64":"QUJD","guildId":{"x":1}}"#, max).unwrap();
    assert_eq!((b.guild_id, b.streamer_user_id), (None, None));
    // The image text borrows from the body; JSON escapes (legal, if no
    // browser writes them) make a copy and decode the same.
    let body = br#"{"dataBase64":"aGVsbG8="}"#;
    let b = FrameBody::parse(body, max).unwrap();
    assert!(matches!(b.data_base64, std::borrow::Cow::Borrowed(_)));
    let b = FrameBody::parse(
        br#"{"dataBase64":"data:image/jpeg;base64,aGVs\u0062G8="}"#,
        max,
    )
    .unwrap();
    assert!(matches!(b.data_base64, std::borrow::Cow::Owned(_)));
    assert_eq!(b.decode(100), Ok(DecodedFrame::Bytes(b"hello".to_vec())));
    let b = FrameBody::parse(br#"{"dataBase64":"aGVs\/G8="}"#, max).unwrap();
    assert_eq!(b.data_base64, "aGVs/G8=");
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

/// Issue 16 §5: "hello world" declared as `image/jpeg` used to be
/// accepted; bytes that do not start with the declared type's signature
/// are `invalid_frame_data` now, for each allowed type and for the
/// assumed JPEG of an empty `mimeType`.
#[test]
fn decoded_bytes_must_carry_the_declared_types_signature() {
    use crate::FrameMime;
    let hello = DecodedFrame::Bytes(b"hello world".to_vec());
    for mime in [
        "image/jpeg",
        "image/jpg",
        "IMAGE/JPEG",
        "image/png",
        "image/webp",
        "",
    ] {
        let r = hello.check_signature(mime);
        assert_eq!(r, Err(FrameRejection::InvalidFrameData), "{mime:?}");
        assert_eq!(r.unwrap_err().reason(), "invalid_frame_data");
    }
    let jpeg = DecodedFrame::Bytes(vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]);
    let png = DecodedFrame::Bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec());
    let webp = DecodedFrame::Bytes(b"RIFF\x24\0\0\0WEBPVP8 ".to_vec());
    assert_eq!(jpeg.check_signature("image/jpeg"), Ok(()));
    assert_eq!(jpeg.check_signature(""), Ok(()));
    assert_eq!(png.check_signature("image/png"), Ok(()));
    assert_eq!(webp.check_signature("image/webp"), Ok(()));
    // A real type under the wrong label is refused too.
    assert!(png.check_signature("image/jpeg").is_err());
    assert!(jpeg.check_signature("image/webp").is_err());
    // Truncated signatures.
    assert!(
        DecodedFrame::Bytes(vec![0xFF, 0xD8])
            .check_signature("image/jpeg")
            .is_err()
    );
    assert!(
        DecodedFrame::Bytes(b"RIFF\0\0\0\0WEB".to_vec())
            .check_signature("image/webp")
            .is_err()
    );
    assert!(
        DecodedFrame::Bytes(Vec::new())
            .check_signature("image/png")
            .is_err()
    );
    // Not an allowed type: left to admission (`invalid_mime_type`).
    assert_eq!(hello.check_signature("text/plain"), Ok(()));
    // Oversized: no bytes to look at; admission says `frame_too_large`.
    assert_eq!(
        DecodedFrame::TooLarge { decoded_len: 9 }.check_signature("image/png"),
        Ok(())
    );
    assert!(FrameMime::Jpeg.signature_matches(&[0xFF, 0xD8, 0xFF]));
}

/// Issue 16 §5: with `enabled:false` a link's frames used to be accepted.
/// They are refused with `stream_watch_disabled` (400, not terminal, the
/// session kept), and accepted again once watching is re-enabled.
#[test]
fn frames_are_refused_while_stream_watch_is_disabled() {
    let mut m = manager();
    let w = World::standard();
    let s = m
        .create(req(ALICE, Some(BOB), t0()), &w, &mut counter_rng())
        .unwrap()
        .session;
    m.set_settings(ShareSettings {
        stream_watch_enabled: false,
        ..m.settings().clone()
    });
    let r = m.check_frame(&s.token, jpeg(1000, t0()), &w).unwrap_err();
    assert_eq!(r, FrameRejection::StreamWatchDisabled);
    assert_eq!(r.reason(), "stream_watch_disabled");
    assert_eq!(r.http_status(), 400);
    assert!(!r.is_terminal() && r.ended().is_none());
    assert_eq!(r.body().reason, "stream_watch_disabled");
    m.set_settings(ShareSettings {
        stream_watch_enabled: true,
        ..m.settings().clone()
    });
    assert!(m.check_frame(&s.token, jpeg(1000, t0()), &w).is_ok());
}

/// A refusal's typed body writes what the `json!` object it replaced
/// wrote (a sorted object: `accepted`, the limit that applies, `reason`),
/// and reads back as itself.
#[test]
fn refusal_bodies_keep_their_bytes_and_read_back() {
    use serde_json::json;
    let cases = [
        (
            FrameRejection::SessionNotFound,
            json!({"accepted": false, "reason": "share_session_not_found"}),
        ),
        (
            FrameRejection::FrameTooLarge {
                max_frame_bytes: 350_000,
            },
            json!({"accepted": false, "reason": "frame_too_large", "maxFrameBytes": 350_000}),
        ),
        (
            FrameRejection::FrameRateLimited {
                max_frames_per_minute: 180,
            },
            json!({"accepted": false, "reason": "frame_rate_limited", "maxFramesPerMinute": 180}),
        ),
        (
            FrameRejection::IngestRateLimited {
                retry_after: Duration::from_millis(1250),
            },
            json!({"accepted": false, "reason": "ingest_rate_limited", "retryAfterMs": 1250}),
        ),
    ];
    for (r, old) in cases {
        let text = serde_json::to_string(&r.body()).unwrap();
        assert_eq!(text, old.to_string(), "{r:?}");
        let back: FrameRefusal = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r.body());
    }
    // A body with a field the type does not name is not a refusal.
    assert!(
        serde_json::from_str::<FrameRefusal>(r#"{"accepted":false,"reason":"x","extra":1}"#)
            .is_err()
    );
}
