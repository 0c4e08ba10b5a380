//! Loss, disorder and RTX repair on the fixture captures, in virtual time.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::{Fixture, RtxSender, XorShift, config, fixture, rtx_mapping, run, seq_of, ts_of};
use rtp::RtpTimestamp;
use video_receiver::{VideoCodec, VideoReceiver};
use vp8_rtp::PayloadDescriptor;

/// The capture with ~5% of packets dropped and ~5% delayed behind up to
/// three later ones. Drops are placed before the second keyframe (and never
/// in a keyframe), so that the test can check recovery at that keyframe;
/// reordering happens anywhere. Returns the arrivals and the dropped seqs.
fn impair(
    f: &Fixture,
    keyframe_ts: &HashSet<u32>,
    second_key_ts: u32,
    seed: u64,
) -> (Vec<(Duration, Vec<u8>)>, HashSet<u16>) {
    let mut rng = XorShift(seed);
    let n = f.packets.len();
    let drops_wanted = (n * 5).div_ceil(100);
    let candidates: Vec<usize> = (0..n)
        .filter(|&i| {
            let ts = ts_of(&f.packets[i].1);
            // Frames 0-2 stay whole, so "intact before the first loss" has
            // something to check even with a lagging decoder.
            !keyframe_ts.contains(&ts)
                && RtpTimestamp(ts).diff(RtpTimestamp(ts_of(&f.packets[0].1))) >= 3 * 6000
                && RtpTimestamp(ts).diff(RtpTimestamp(second_key_ts)) < 0
        })
        .collect();
    let mut dropped = HashSet::new();
    while dropped.len() < drops_wanted {
        let i = candidates[rng.below(candidates.len() as u64) as usize];
        dropped.insert(seq_of(&f.packets[i].1));
    }
    let mut order: Vec<(Duration, Vec<u8>)> = f
        .packets
        .iter()
        .filter(|(_, p)| !dropped.contains(&seq_of(p)))
        .cloned()
        .collect();
    let swaps = (n * 5).div_ceil(100);
    for _ in 0..swaps {
        // Never the very first packet: nothing can tell a receiver that an
        // earlier one is still coming, so it starts from the first arrival.
        let i = 1 + rng.below(order.len() as u64 - 5) as usize;
        let j = i + 1 + rng.below(3) as usize;
        // Packet i arrives at j's time, after the ones in between.
        let moved = order.remove(i);
        let t = order[j - 1].0;
        order.insert(j, (t, moved.1));
        for item in &mut order[i..j] {
            item.0 = item.0.min(t);
        }
    }
    (order, dropped)
}

struct Clean {
    jpeg_by_ts: HashMap<u32, Vec<u8>>,
    /// Timestamps of the keyframes, from the packets themselves.
    keyframes: Vec<u32>,
    /// Every frame's timestamp, in order, from the packets.
    all_ts: Vec<u32>,
    /// Pictures the decoder lags behind its input (see tests/fixtures.rs):
    /// the picture labelled with frame n's timestamp is frame n - lag.
    lag: usize,
}

/// True when the packet carries the start of a keyframe.
fn starts_keyframe(codec: VideoCodec, payload: &[u8]) -> bool {
    match codec {
        VideoCodec::H264 => {
            let t = payload[0] & 0x1f;
            t == 5
                || (t == 28 && payload[1] & 0x80 != 0 && payload[1] & 0x1f == 5)
                || (t == 24 && payload[3] & 0x1f == 7)
        }
        VideoCodec::Vp8 => {
            let d = PayloadDescriptor::parse(payload).unwrap();
            d.starts_frame() && payload[d.len] & 1 == 0
        }
    }
}

fn clean_run(f: &Fixture) -> Clean {
    let mut rx = VideoReceiver::new(config(f, false)).unwrap();
    let r = run(&mut rx, &f.packets, None);
    let mut all_ts: Vec<u32> = Vec::new();
    let mut keyframes = Vec::new();
    for (_, p) in &f.packets {
        let ts = ts_of(p);
        if all_ts.last() != Some(&ts) {
            all_ts.push(ts);
        }
        if starts_keyframe(f.codec, &p[12..]) && keyframes.last() != Some(&ts) {
            keyframes.push(ts);
        }
    }
    let lag = all_ts.len() - r.frames.len();
    assert_eq!(lag, 0, "the decoder hands every picture out at once");
    Clean {
        jpeg_by_ts: r
            .frames
            .iter()
            .map(|fr| (fr.rtp_timestamp.0, fr.frame.jpeg.clone()))
            .collect(),
        keyframes,
        all_ts,
        lag,
    }
}

fn loss_and_disorder(name: &str, seed: u64) {
    let f = fixture(name);
    let clean = clean_run(&f);
    assert!(
        clean.keyframes.len() >= 2,
        "{name}: keyframes {:?}",
        clean.keyframes
    );
    let second_key = clean.keyframes[1];
    let key_set: HashSet<u32> = clean.keyframes.iter().copied().collect();
    let (arrivals, dropped) = impair(&f, &key_set, second_key, seed);
    let first_loss_ts = f
        .packets
        .iter()
        .find(|(_, p)| dropped.contains(&seq_of(p)))
        .map(|(_, p)| ts_of(p))
        .unwrap();

    let mut rx = VideoReceiver::new(config(&f, false)).unwrap();
    let r = run(&mut rx, &arrivals, None);
    let stats = rx.stats();
    assert_eq!(stats.lost, dropped.len() as u64, "{name}: {stats:?}");
    assert!(r.keyframe_requests >= 1, "{name}: no keyframe request");
    assert_eq!(stats.keyframe_requests as usize, r.keyframe_requests);
    assert!(!r.nacks.is_empty(), "{name}: holes were NACKed");

    let got: HashMap<u32, &video_receiver::ReceivedFrame> =
        r.frames.iter().map(|fr| (fr.rtp_timestamp.0, fr)).collect();
    let before = |ts: u32| RtpTimestamp(ts).diff(RtpTimestamp(first_loss_ts)) < 0;
    let key_index = clean.all_ts.iter().position(|&t| t == second_key).unwrap();
    let after_key =
        |ts: u32| clean.all_ts.iter().position(|&t| t == ts).unwrap() >= key_index + clean.lag;
    let mut intact_before = 0;
    for &ts in clean.all_ts.iter().skip(clean.lag) {
        if before(ts) || after_key(ts) {
            let index = clean.all_ts.iter().position(|&t| t == ts).unwrap();
            let fr = got.get(&ts).unwrap_or_else(|| {
                panic!(
                    "{name} seed {seed}: frame {index} missing; first loss in frame {}, key {}, stats {:?}",
                    clean.all_ts.iter().position(|&t| t == first_loss_ts).unwrap_or(999),
                    clean.all_ts.iter().position(|&t| t == second_key).unwrap(),
                    stats
                )
            });
            assert_eq!(
                fr.frame.jpeg, clean.jpeg_by_ts[&ts],
                "{name}: frame {ts} differs"
            );
            assert!(!fr.concealed);
            intact_before += usize::from(before(ts));
        } else if let Some(fr) = got.get(&ts)
            && clean.all_ts.iter().position(|&t| t == ts).unwrap() < key_index
        {
            // Between the loss and the keyframe: only honest pictures, or
            // ones flagged as concealed. (With a lagging decoder the picture
            // labelled with the keyframe's timestamp is the one the decoder
            // held before it, whatever that was: not checked.)
            assert!(
                fr.frame.jpeg == clean.jpeg_by_ts[&ts] || fr.concealed,
                "{name}: corrupt frame {ts} not flagged"
            );
        }
    }
    assert!(intact_before >= 1, "{name}: nothing before the first loss");
}

#[test]
fn h264_baseline_survives_loss_and_disorder() {
    for seed in [1, 2, 3] {
        loss_and_disorder("h264-baseline", seed);
    }
}

#[test]
fn h264_main_slices_survives_loss_and_disorder() {
    for seed in [4, 5, 6] {
        loss_and_disorder("h264-main-slices", seed);
    }
}

#[test]
fn vp8_survives_loss_and_disorder() {
    for seed in [7, 8, 9] {
        loss_and_disorder("vp8", seed);
    }
}

fn rtx_repairs_everything(name: &str, seed: u64) {
    let f = fixture(name);
    let clean = clean_run(&f);
    let key_set: HashSet<u32> = clean.keyframes.iter().copied().collect();
    let (arrivals, dropped) = impair(&f, &key_set, clean.keyframes[1], seed);
    let originals: HashMap<u16, Vec<u8>> = f
        .packets
        .iter()
        .map(|(_, p)| (seq_of(p), p.clone()))
        .collect();
    let sender = RtxSender {
        mapping: rtx_mapping(&f),
        originals: &originals,
        delay: Duration::from_millis(30),
    };
    let mut rx = VideoReceiver::new(config(&f, true)).unwrap();
    let r = run(&mut rx, &arrivals, Some(&sender));
    let stats = rx.stats();
    let nacked: HashSet<u16> = r.nacks.iter().flatten().map(|s| s.0).collect();
    assert!(dropped.is_subset(&nacked), "{name}: every drop NACKed");
    // Reordered packets late enough to be NACKed are retransmitted too.
    assert!(
        stats.rtx_recovered >= dropped.len() as u64,
        "{name}: {stats:?}"
    );
    assert_eq!(stats.lost, 0);
    assert_eq!(stats.frames_damaged, 0);
    assert_eq!(r.keyframe_requests, 0, "{name}: nothing lost, no PLI");
    assert_eq!(r.frames.len(), clean.all_ts.len() - clean.lag);
    for fr in &r.frames {
        assert_eq!(
            fr.frame.jpeg, clean.jpeg_by_ts[&fr.rtp_timestamp.0],
            "{name}"
        );
    }
}

#[test]
fn rtx_after_nack_repairs_h264() {
    rtx_repairs_everything("h264-baseline", 11);
    rtx_repairs_everything("h264-main-slices", 12);
}

#[test]
fn rtx_after_nack_repairs_vp8() {
    rtx_repairs_everything("vp8", 13);
}
