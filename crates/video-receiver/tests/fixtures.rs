//! The committed ffmpeg captures (an independent packetizer and encoder)
//! through the whole receive chain, compared with the source pictures.

mod common;

use common::{config, fixture, jpeg_luma, png_luma, psnr, run};
use video_receiver::VideoReceiver;

/// `lag`: pictures the decoder still holds at the end of the stream.
/// OpenH264 (inside video-pipeline's `H264Decoder`) delays output by one
/// picture for main-profile streams whose SPS has no VUI reorder
/// information, as x264's main-profile fixture; baseline and VP8 have none.
fn check(name: &str, lag: u64) {
    let f = fixture(name);
    let mut rx = VideoReceiver::new(config(&f, false)).unwrap();
    let result = run(&mut rx, &f.packets, None);
    let stats = rx.stats();
    let frame_count = f.meta["frame_count"].as_u64().unwrap();
    let (w, h) = (
        f.meta["width"].as_u64().unwrap() as u32,
        f.meta["height"].as_u64().unwrap() as u32,
    );
    assert_eq!(stats.packets, f.meta["rtp_packets"].as_u64().unwrap());
    assert_eq!(stats.frames_assembled, frame_count, "{name}: {stats:?}");
    assert_eq!(stats.frames_decoded, frame_count - lag, "{name}: {stats:?}");
    assert_eq!(stats.frames_emitted, frame_count - lag, "{name}: {stats:?}");
    assert_eq!(result.frames.len() as u64, frame_count - lag);
    assert_eq!(stats.lost, 0);
    assert_eq!(stats.frames_damaged, 0);
    assert_eq!(
        result.keyframe_requests, 0,
        "{name}: clean stream needs no PLI"
    );
    assert!(result.nacks.is_empty());
    if lag == 0 {
        assert!(result.frames[0].keyframe);
    }
    for fr in &result.frames {
        assert_eq!((fr.frame.width, fr.frame.height), (w, h));
        assert_eq!(fr.ssrc, f.ssrc);
        assert!(!fr.concealed);
    }
    // Frames come out in RTP order, one per timestamp.
    for pair in result.frames.windows(2) {
        assert!(pair[1].rtp_timestamp.diff(pair[0].rtp_timestamp) > 0);
    }
    for r in f.meta["reference_frames"].as_array().unwrap() {
        let index = r["index"].as_u64().unwrap() as usize;
        if index >= result.frames.len() {
            // Still inside the decoder (see `lag`).
            continue;
        }
        let (src, sw, sh) = png_luma(r["file"].as_str().unwrap());
        let (got, gw, gh) = jpeg_luma(&result.frames[index].frame.jpeg);
        assert_eq!((gw, gh), (sw, sh));
        let db = psnr(&src, &got);
        assert!(db >= 25.0, "{name} frame {index}: PSNR {db:.1} dB");
        // The wrong picture must not pass: frame 30 (blue slide) vs 0.
        if index == 0 {
            let (other, _, _) = jpeg_luma(&result.frames[30].frame.jpeg);
            assert!(
                psnr(&src, &other) < 20.0,
                "{name}: PSNR check cannot tell frames apart"
            );
        }
    }
}

#[test]
fn h264_baseline_capture_decodes_to_the_source() {
    check("h264-baseline", 0);
}

#[test]
fn h264_main_slices_capture_decodes_to_the_source() {
    check("h264-main-slices", 0);
}

#[test]
fn vp8_capture_decodes_to_the_source() {
    check("vp8", 0);
}

#[test]
fn codec_is_guessed_from_payloads() {
    for (name, codec) in [
        ("h264-baseline", video_receiver::VideoCodec::H264),
        ("h264-main-slices", video_receiver::VideoCodec::H264),
        ("vp8", video_receiver::VideoCodec::Vp8),
    ] {
        let f = fixture(name);
        let payloads: Vec<&[u8]> = f.packets.iter().map(|(_, p)| &p[12..]).collect();
        assert_eq!(video_receiver::guess_codec(payloads), Some(codec), "{name}");
    }
}
