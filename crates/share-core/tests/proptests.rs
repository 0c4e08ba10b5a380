//! Property tests: hostile input never panics, and the manager's bounds
//! hold under arbitrary operation sequences.

// Rate limiters need some `Instant` to start from.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use share_core::*;
use voice_proto::{ChannelId, GuildId, UserId};

/// Everybody is in channel 1, except users whose id is divisible by 5.
struct Everyone;

impl Presence for Everyone {
    fn in_voice(&self, _: GuildId, user: UserId) -> Option<ChannelId> {
        (!user.0.is_multiple_of(5)).then_some(ChannelId(1))
    }
    fn self_in_voice(&self, guild: GuildId) -> Option<ChannelId> {
        (guild.0 != 0).then_some(ChannelId(1))
    }
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn json_like() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        (
            ".{0,40}",
            "[A-Za-z0-9+/=_ -]{0,200}",
            proptest::option::of(".{0,100}")
        )
            .prop_map(|(m, d, s)| {
                serde_json::json!({"mimeType": m, "dataBase64": d, "source": s})
                    .to_string()
                    .into_bytes()
            }),
        "[\\[\\]{}\":,a-zA-Z0-9 ]{0,200}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #[test]
    fn frame_bodies_never_panic(body in json_like(), cap in 0u64..1024, max in 0usize..512) {
        let _ = check_declared_length(body.len() as u64, cap);
        if let Ok(b) = FrameBody::parse(&body, cap) {
            let _ = b.decoded_len();
            match b.decode(max) {
                Ok(DecodedFrame::Bytes(bytes)) => {
                    prop_assert!(bytes.len() <= max);
                    prop_assert_eq!(Ok(bytes.len()), b.decoded_len());
                }
                Ok(DecodedFrame::TooLarge { decoded_len }) => prop_assert!(decoded_len > max),
                Err(e) => prop_assert_eq!(e.reason(), "invalid_frame_data"),
            }
        }
    }

    #[test]
    fn base64_decoding_matches_exact_length(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        use base64::Engine as _;
        let text = base64::engine::general_purpose::STANDARD.encode(&data);
        prop_assert_eq!(base64_decoded_len(text.as_bytes()), Ok(data.len()));
        prop_assert_eq!(decode_capped(text.as_bytes(), data.len()), Ok(DecodedFrame::Bytes(data.clone())));
        let unpadded = text.trim_end_matches('=');
        prop_assert_eq!(decode_capped(unpadded.as_bytes(), data.len()), Ok(DecodedFrame::Bytes(data)));
    }

    /// The SIMD decoder accepts exactly what the `base64` crate accepts
    /// (standard alphabet, then URL-safe; padding optional, but never
    /// more than the text's length allows) and yields the same bytes, on
    /// near-base64 text of every length.
    #[test]
    fn simd_decoding_agrees_with_the_base64_crate(text in "[A-Za-z0-9+/_=-]{0,40}|[A-Za-z0-9+/]{0,37}[^A-Za-z0-9+/]?[A-Za-z0-9+/]{0,2}") {
        use base64::Engine as _;
        use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
        let config = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
        let reference = base64_decoded_len(text.as_bytes()).ok().and_then(|_| {
            GeneralPurpose::new(&base64::alphabet::STANDARD, config)
                .decode(&text)
                .or_else(|_| GeneralPurpose::new(&base64::alphabet::URL_SAFE, config).decode(&text))
                .ok()
        });
        let ours = match decode_capped(text.as_bytes(), usize::MAX) {
            Ok(DecodedFrame::Bytes(b)) => Some(b),
            Ok(DecodedFrame::TooLarge { .. }) => unreachable!("no cap"),
            Err(e) => {
                prop_assert_eq!(e, FrameRejection::InvalidFrameData);
                None
            }
        };
        prop_assert_eq!(ours, reference);
    }

    #[test]
    fn tokens_parse_or_error_and_never_leak(s in ".{0,40}", raw in any::<[u8; 18]>()) {
        if let Ok(t) = ShareToken::parse(&s) {
            prop_assert_eq!(t.reveal(), s.as_str());
        }
        let t = ShareToken::from_random_bytes(raw);
        prop_assert_eq!(t.reveal().len(), 24);
        prop_assert_eq!(ShareToken::parse(t.reveal()), Ok(t));
        let shown = format!("{t} {t:?}");
        prop_assert!(!shown.contains(t.reveal()));
    }

    #[test]
    fn host_headers_never_panic_and_nothing_is_public_without_a_host(
        public in proptest::option::of(".{0,40}"),
        host in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..60)),
        xfh in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..60)),
    ) {
        let sources = HostSources {
            host: host.as_deref().into_iter().collect(),
            forwarded_host: xfh.as_deref().into_iter().collect(),
            ..HostSources::default()
        };
        let _ = PublicHostGate::new(public.as_deref()).is_public_request(&sources);
        prop_assert_ne!(PublicHostGate::new(None).is_public_request(&sources), Ok(true));
    }

    #[test]
    fn rate_limiter_stays_bounded(ops in proptest::collection::vec((0u16..50, 0u64..5000), 0..200),
                                  burst in 0u32..5, rate in -1.0f64..10.0) {
        let start = Instant::now();
        let mut rl: RateLimiter<u16> = RateLimiter::new(RateLimit { burst, per_second: rate }, 8);
        let mut t = start;
        for (key, dt) in ops {
            t += Duration::from_millis(dt);
            let _ = rl.check(&key, t);
            prop_assert!(rl.len() <= 8);
        }
    }

    #[test]
    fn manager_bounds_hold_under_arbitrary_ops(
        ops in proptest::collection::vec((0u8..5, 0u64..12, 0u64..12, 0u64..120, any::<u8>(), 0usize..500_000), 0..120),
        seed in any::<u64>(),
    ) {
        let mut m = SessionManager::new(ShareSettings { max_active_sessions: 6, ..ShareSettings::default() });
        let mut n = seed;
        let mut rng = move |b: &mut [u8]| for x in b.iter_mut() {
            n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            *x = (n >> 33) as u8;
        };
        let mut now = 0u64;
        let mut tokens: Vec<ShareToken> = Vec::new();
        for (op, a, b, dt, pick, len) in ops {
            now += dt;
            let t = at(now);
            match op {
                0 => match m.create(CreateRequest { guild: GuildId(a % 3), requester: UserId(a), target: Some(UserId(b)), channel: None, now: t }, &Everyone, &mut rng) {
                    Ok(c) => {
                        prop_assert!(c.session.is_live(t));
                        tokens.push(c.session.token);
                    }
                    Err(e) => prop_assert!(e.http_status() >= 400),
                },
                1 | 2 => if let Some(tok) = tokens.get(pick as usize % tokens.len().max(1)) {
                    let mime = if pick % 7 == 0 { "image/gif" } else { "image/jpeg" };
                    match m.check_frame(tok, FrameMeta { mime, decoded_len: len, now: t }, &Everyone) {
                        Ok(acc) => prop_assert!(len > 0 && len <= 350_000 && acc.frames_in_window <= 180),
                        Err(e) => {
                            if let Some(ended) = e.ended() { prop_assert!(ended.session.token == *tok); }
                            prop_assert!(m.get(tok).is_none() || !e.is_terminal());
                        }
                    }
                },
                3 => for e in m.expire(t) { prop_assert!(!e.session.is_live(t)); },
                _ => if let Some(tok) = tokens.get(pick as usize % tokens.len().max(1)) {
                    let _ = m.stop(tok, "prop");
                },
            }
            prop_assert!(m.len() <= 6);
        }
        let mut restored = SessionManager::new(ShareSettings { max_active_sessions: 6, ..ShareSettings::default() });
        let r = restored.restore(m.snapshot(), at(now));
        prop_assert_eq!(r.restored + r.ended.len(), m.len());
        for s in restored.list() {
            prop_assert!(m.get_live(&s.token, at(now)).is_some());
        }
    }
}
