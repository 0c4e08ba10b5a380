//! The H264 wrapper produces decodable, faithful, deterministic Annex-B
//! access units and honours keyframe requests.

mod common;

use common::{decode_all, psnr};
use sim_content::{
    CameraConfig, CameraSource, H264CameraStream, H264Config, H264ScreenStream, ScreenConfig,
    ScreenSource, nal_unit_types,
};

fn screen_stream(w: u32, h: u32, config: H264Config) -> H264ScreenStream {
    let mut sc = ScreenConfig::new(w, h);
    sc.line_period = 5;
    sc.scene_period = 20;
    H264ScreenStream::new(ScreenSource::new(sc).unwrap(), config).unwrap()
}

#[test]
fn every_frame_decodes_to_the_right_size() {
    let mut s = screen_stream(640, 360, H264Config::screen());
    let aus: Vec<Vec<u8>> = (0..45).map(|i| s.next_frame(i).unwrap().annexb).collect();
    assert!(aus.iter().all(|a| !a.is_empty()));
    let pics = decode_all(&aus);
    assert_eq!(pics.len(), 45);
    assert!(pics.iter().all(|p| p.width == 640 && p.height == 360));

    let mut c = H264CameraStream::new(
        CameraSource::new(CameraConfig::new(320, 240)).unwrap(),
        H264Config::camera(),
    )
    .unwrap();
    let aus: Vec<Vec<u8>> = (0..20).map(|i| c.next_frame(i).unwrap().annexb).collect();
    let pics = decode_all(&aus);
    assert_eq!(pics.len(), 20);
    assert!(pics.iter().all(|p| p.width == 320 && p.height == 240));
}

#[test]
fn decoded_screen_is_close_to_the_source() {
    let mut config = H264Config::screen();
    config.bitrate_bps = 6_000_000;
    let mut s = screen_stream(640, 360, config);
    let mut reference = ScreenSource::new(s.source().config().clone()).unwrap();
    let aus: Vec<Vec<u8>> = (0..30).map(|i| s.next_frame(i).unwrap().annexb).collect();
    let pics = decode_all(&aus);
    for (i, pic) in pics.iter().enumerate() {
        let src = reference.render(i as u64);
        let p = psnr(src.y_plane(), &pic.luma);
        assert!(p >= 30.0, "frame {i}: luma PSNR {p:.1} dB");
    }
}

#[test]
fn decoded_camera_is_close_to_the_source() {
    let cfg = CameraConfig::new(320, 240);
    let mut config = H264Config::camera();
    config.bitrate_bps = 3_000_000;
    let mut s = H264CameraStream::new(CameraSource::new(cfg.clone()).unwrap(), config).unwrap();
    let mut reference = CameraSource::new(cfg).unwrap();
    let aus: Vec<Vec<u8>> = (0..15).map(|i| s.next_frame(i).unwrap().annexb).collect();
    for (i, pic) in decode_all(&aus).iter().enumerate() {
        let p = psnr(reference.render(i as u64).y_plane(), &pic.luma);
        assert!(p >= 30.0, "frame {i}: luma PSNR {p:.1} dB");
    }
}

#[test]
fn idr_carries_parameter_sets_and_interval_is_respected() {
    let mut config = H264Config::screen();
    config.keyframe_interval = 10;
    let mut s = screen_stream(480, 270, config);
    for i in 0..25u64 {
        let f = s.next_frame(i).unwrap();
        let types = nal_unit_types(&f.annexb);
        assert!(f.annexb.starts_with(&[0, 0, 0, 1]) || f.annexb.starts_with(&[0, 0, 1]));
        if i % 10 == 0 {
            assert!(f.keyframe, "frame {i} should be an IDR: {types:?}");
            let sps = types.iter().position(|&t| t == 7).expect("SPS");
            let pps = types.iter().position(|&t| t == 8).expect("PPS");
            let idr = types.iter().position(|&t| t == 5).expect("IDR slice");
            assert!(sps < idr && pps < idr, "{types:?}");
        } else {
            assert!(!f.keyframe, "frame {i}: {types:?}");
            assert!(
                types.contains(&1),
                "frame {i} has no non-IDR slice: {types:?}"
            );
        }
    }
}

#[test]
fn sps_says_constrained_baseline() {
    let mut s = screen_stream(480, 270, H264Config::screen());
    let f = s.next_frame(0).unwrap();
    // The byte after the SPS NAL header is profile_idc, then the constraint
    // flags byte.
    let pos = f
        .annexb
        .windows(4)
        .position(|w| w == [0, 0, 1, 0x67])
        .expect("SPS")
        + 4;
    assert_eq!(f.annexb[pos], 66, "profile_idc baseline");
    assert_ne!(
        f.annexb[pos + 1] & 0x40,
        0,
        "constraint_set1_flag (constrained baseline)"
    );
}

#[test]
fn force_keyframe_makes_the_next_frame_an_idr() {
    let mut config = H264Config::screen();
    config.keyframe_interval = 0;
    let mut s = screen_stream(480, 270, config);
    let mut keyframes = Vec::new();
    for i in 0..12u64 {
        if i == 5 || i == 9 {
            s.force_keyframe();
        }
        if s.next_frame(i).unwrap().keyframe {
            keyframes.push(i);
        }
    }
    assert_eq!(keyframes, vec![0, 5, 9]);
}

#[test]
fn timestamps_follow_the_90khz_clock() {
    let mut s = screen_stream(480, 270, H264Config::screen());
    let f0 = s.next_frame(0).unwrap();
    let f1 = s.next_frame(1).unwrap();
    let f30 = s.next_frame(30).unwrap();
    assert_eq!(
        (f0.pts_90khz, f1.pts_90khz, f30.pts_90khz),
        (0, 3000, 90_000)
    );
    assert_eq!(f30.frame_index, 30);
    // Far in the future the timestamp wraps like an RTP timestamp.
    let far = s.next_frame(1_500_000).unwrap();
    assert_eq!(far.pts_90khz, ((1_500_000u64 * 3000) % (1u64 << 32)) as u32);
}

#[test]
fn same_seed_same_bitstream() {
    let run = || {
        let mut s = screen_stream(480, 270, H264Config::screen());
        (0..25)
            .map(|i| s.next_frame(i).unwrap().annexb)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn zero_bitrate_is_a_config_error() {
    let mut config = H264Config::screen();
    config.bitrate_bps = 0;
    let src = ScreenSource::new(ScreenConfig::new(480, 270)).unwrap();
    let err = H264ScreenStream::new(src, config).unwrap_err();
    assert!(err.is_config_error() && !err.should_recreate_stream());
}
