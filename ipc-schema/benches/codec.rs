//! `cargo bench -p ipc-schema`: encode + decode of a decoded_video_frame
//! carrying a 60 KB JPEG, through this crate's binary frame codec and through
//! the reference sidecar's format (one JSON object with the JPEG as base64)
//! in the same run. Prints both, and the ratio. A program that measures, not
//! a timed assertion.

// A benchmark measures wall time by definition.
#![allow(clippy::disallowed_methods)]

#[path = "../tests/samples/mod.rs"]
mod samples;

use base64::Engine as _;
use ipc_schema::frame::{Split, decode_payload, encode_frame, split_frame};
use ipc_schema::{DecodedVideoFrame, MediadMsg};
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The reference's line-JSON shape of the same event.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename = "decoded_video_frame", rename_all = "camelCase")]
struct JsonDecodedFrame {
    user_id: String,
    ssrc: u32,
    width: u32,
    height: u32,
    jpeg_base64: String,
    rtp_timestamp: u32,
    stream_type: Option<String>,
    change_score: f32,
    ema_change_score: f32,
    is_scene_cut: bool,
}

fn to_json_struct(f: &DecodedVideoFrame) -> JsonDecodedFrame {
    JsonDecodedFrame {
        user_id: f.user_id.0.to_string(),
        ssrc: f.ssrc.0,
        width: f.width,
        height: f.height,
        jpeg_base64: base64::engine::general_purpose::STANDARD.encode(&f.jpeg),
        rtp_timestamp: f.rtp_timestamp,
        stream_type: Some("screen".into()),
        change_score: f.change_score,
        ema_change_score: f.ema_score,
        is_scene_cut: f.scene_cut,
    }
}

/// Runs `f` repeatedly for about `budget` and returns the time per call.
fn measure(budget: Duration, mut f: impl FnMut()) -> (Duration, u64) {
    for _ in 0..20 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..10 {
            f();
        }
        n += 10;
    }
    (start.elapsed() / n as u32, n)
}

fn main() {
    // `cargo bench` passes `--bench`; accept and ignore harness flags.
    let frame = samples::decoded_frame(60 * 1024);
    let msg = MediadMsg::DecodedVideoFrame(frame.clone());
    let budget = Duration::from_millis(1500);

    let mut buf = Vec::with_capacity(70 * 1024);
    let (bin, n_bin) = measure(budget, || {
        buf.clear();
        encode_frame(black_box(&msg), &mut buf).unwrap();
        let Split::Frame { payload, .. } = split_frame(&buf).unwrap() else {
            unreachable!()
        };
        let back: MediadMsg = decode_payload(payload).unwrap();
        black_box(back);
    });
    let bin_len = buf.len();

    let mut line = Vec::with_capacity(100 * 1024);
    let (json, n_json) = measure(budget, || {
        // The reference base64-encodes on the producer side, serialises a
        // JSON line, and the consumer parses it and base64-decodes the JPEG.
        line.clear();
        let j = to_json_struct(black_box(&frame));
        serde_json::to_writer(&mut line, &j).unwrap();
        line.push(b'\n');
        let back: JsonDecodedFrame = serde_json::from_slice(&line[..line.len() - 1]).unwrap();
        let jpeg = base64::engine::general_purpose::STANDARD
            .decode(back.jpeg_base64)
            .unwrap();
        black_box(jpeg);
    });

    println!("ipc-schema codec bench: decoded_video_frame with a 60 KB JPEG, encode + decode");
    println!(
        "  binary frame (bincode, raw bytes): {:>9.2} µs/op  ({n_bin} ops, {bin_len} bytes on the wire)",
        bin.as_secs_f64() * 1e6
    );
    println!(
        "  line JSON + base64 (reference):    {:>9.2} µs/op  ({n_json} ops, {} bytes on the wire)",
        json.as_secs_f64() * 1e6,
        line.len()
    );
    println!(
        "  ratio: binary is {:.1}x faster (target >= 20x)",
        json.as_secs_f64() / bin.as_secs_f64()
    );
}
