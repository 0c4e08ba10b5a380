//! Behaviour of the screen picture itself: determinism, random access,
//! changing text, and scene changes that stand out from ordinary ticks.

use proptest::prelude::*;
use sim_content::{ScreenConfig, ScreenScene, ScreenSource, SimMediaError};

fn source(seed: u64) -> ScreenSource {
    let mut c = ScreenConfig::new(640, 360);
    c.seed = seed;
    c.scene_period = 90;
    c.line_period = 10;
    ScreenSource::new(c).unwrap()
}

#[test]
fn same_seed_same_frames_different_seed_different_frames() {
    let (mut a, mut b, mut c) = (source(3), source(3), source(4));
    for i in [0u64, 7, 45, 90, 200] {
        let fa = a.render(i).clone();
        assert_eq!(&fa, b.render(i), "frame {i}");
        assert_ne!(&fa, c.render(i), "frame {i}");
        assert_eq!(a.text_at(i), b.text_at(i));
    }
}

#[test]
fn random_access_matches_sequential_rendering() {
    let mut seq = source(5);
    for i in 0..=200 {
        seq.render(i);
    }
    let mut fresh = source(5);
    assert_eq!(seq.render(200).clone(), *fresh.render(200));
    // And going backwards across a scene boundary.
    assert_eq!(seq.render(50).clone(), *source(5).render(50));
}

#[test]
fn scene_changes_stand_out_from_ticks() {
    let mut s = source(9);
    let mut prev = s.render(0).clone();
    let mut max_tick = 0.0f64;
    let mut min_change = f64::MAX;
    for i in 1..=300u64 {
        let cur = s.render(i).clone();
        let d = prev.mean_abs_luma_diff(&cur).unwrap();
        if s.scene_at(i).start_frame == i {
            min_change = min_change.min(d);
        } else {
            max_tick = max_tick.max(d);
        }
        prev = cur;
    }
    assert!(min_change > 25.0, "scene change diff {min_change:.2}");
    assert!(max_tick < 8.0, "tick diff {max_tick:.2}");
    assert!(
        min_change > 4.0 * max_tick,
        "{min_change:.2} vs {max_tick:.2}"
    );
}

#[test]
fn scenes_cycle_through_kinds() {
    let s = source(1);
    let kinds: Vec<ScreenScene> = (0..4).map(|n| s.scene_at(n * 90 + 3).kind).collect();
    assert_eq!(
        kinds,
        vec![
            ScreenScene::Terminal,
            ScreenScene::Slide,
            ScreenScene::Document,
            ScreenScene::Terminal
        ]
    );
    assert_eq!(s.scene_at(185).ordinal, 2);
    assert_eq!(s.scene_at(185).start_frame, 180);
}

#[test]
fn text_grows_and_clock_ticks() {
    let s = source(2);
    for start in [0u64, 90, 180] {
        let a = s.text_at(start);
        let b = s.text_at(start + 10);
        assert_ne!(a, b, "a line should appear every line_period");
        let body_changed = a[..a.len() - 1] != b[..b.len() - 1];
        assert!(body_changed, "scene at {start}: {a:?} -> {b:?}");
    }
    // The clock (last line) changes every 30 frames and only then.
    let clock = |i| s.text_at(i).last().cloned().unwrap();
    assert_eq!(clock(30), clock(59));
    assert_ne!(clock(59), clock(60));
    // Slide and document headers belong to their scene.
    assert_ne!(s.text_at(95)[1], s.text_at(185)[1]);
}

#[test]
fn invalid_configs_are_rejected() {
    let bad = |f: fn(&mut ScreenConfig)| {
        let mut c = ScreenConfig::new(640, 360);
        f(&mut c);
        ScreenSource::new(c).unwrap_err()
    };
    assert!(matches!(
        bad(|c| c.width = 641),
        SimMediaError::InvalidDimensions { .. }
    ));
    assert!(matches!(
        bad(|c| c.height = 100),
        SimMediaError::InvalidDimensions { .. }
    ));
    assert!(matches!(
        bad(|c| c.width = 4000),
        SimMediaError::InvalidDimensions { .. }
    ));
    assert_eq!(
        bad(|c| c.fps = 0),
        SimMediaError::InvalidConfig("fps must be positive")
    );
    assert!(bad(|c| c.scene_period = 0).is_config_error());
    assert!(bad(|c| c.line_period = 0).is_config_error());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn any_size_either_errors_or_renders_that_size(
        w in 0u32..1200, h in 0u32..800, seed in any::<u64>(), idx in any::<u32>(),
        period in 1u64..400, line in 1u64..100,
    ) {
        let mut c = ScreenConfig::new(w, h);
        c.seed = seed;
        c.scene_period = period;
        c.line_period = line;
        match ScreenSource::new(c) {
            Ok(mut s) => {
                let f = s.render(u64::from(idx));
                prop_assert_eq!((f.width(), f.height()), (w, h));
                prop_assert!(!s.text_at(u64::from(idx)).is_empty());
            }
            Err(e) => prop_assert!(e.is_config_error()),
        }
    }
}
