//! Simulcast as discord-userdoccers describes it (issue 15 item 4), on the
//! core without sockets: a participant's layers are announced in op 12,
//! one `streams[]` entry per layer with its own SSRC pair, and a receiver
//! gets exactly the layer SSRCs its op 15 asks for.
//!
//! Witness: discord-userdoccers `pages/topics/voice-connections.mdx`
//! (3dc0ca92). "Video Structure": `streams` — "For simulcast, this is the
//! authoritative list of primary and RTX SSRCs for every layer".
//! "Simulcasting": "The `rid` identifies the RTP stream ID, `quality`
//! describes the layer's intended quality, `ssrc` identifies primary RTP,
//! `rtx_ssrc` identifies retransmissions"; "A receiving client sends
//! Opcode 15 Media Sink Wants to tell the SFU which remote SSRCs it wants
//! and at what quality"; "The keys in the payload are primary media SSRCs
//! … A special key of `any` applies to otherwise unspecified streams.
//! Values are `0` through `100`, where `0` disables a stream". "Media Sink
//! Wants Structure": `{ssrc}?`, `any?`, `pixelCounts?` at the top level —
//! no `streams` object (our decision to ignore clankvox's nested shape is
//! in mediad `transport/sink.rs`).
//!
//! The JSON here is written by hand and read with `serde_json`, not with
//! `voice-proto`, so that the test does not share the client's beliefs.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::test_support::{CLIENT, CONN, ROOM, client_addr, voice_core};
use super::{Core, Output, WsFrame};
use crate::config::{ParticipantSpec, VideoCodecSpec, VideoKind, VideoSpec};

/// The camera user (op 12 carries it as the string "20").
const STREAMER: u64 = 20;

/// A room with a two-layer camera (320x180 at 100, 160x90 at 50) and our
/// client through Select Protocol and an (inactive) op 12.
fn setup() -> (Core, Instant, Vec<Output>) {
    let now = Instant::now();
    let mut c = voice_core(
        11,
        ParticipantSpec {
            user_id: STREAMER,
            audio: false,
            video: Some(VideoSpec {
                kind: VideoKind::Camera,
                codec: VideoCodecSpec::H264,
                width: 320,
                height: 180,
                fps: 10,
                bitrate_kbps: 300,
                keyframe_interval_frames: 10,
                layers: vec![(50, 160, 90)],
            }),
            dave: false,
        },
        now,
    );
    let text = |c: &mut Core, t: &str| c.on_text(CONN, t, now);
    text(
        &mut c,
        r#"{"op":0,"d":{"server_id":"1","user_id":"10","session_id":"s","token":"t","video":true}}"#,
    );
    text(
        &mut c,
        r#"{"op":1,"d":{"protocol":"udp","data":{"address":"127.0.0.1","port":5,"mode":"aead_aes256_gcm_rtpsize"},"codecs":[{"name":"opus","type":"audio","priority":1000,"payload_type":120},{"name":"H264","type":"video","priority":1000,"payload_type":103,"rtx_payload_type":104}]}}"#,
    );
    text(
        &mut c,
        r#"{"op":12,"d":{"audio_ssrc":0,"video_ssrc":0,"rtx_ssrc":0,"streams":[]}}"#,
    );
    let out = std::iter::from_fn(|| c.poll_output()).collect();
    (c, now, out)
}

fn run(c: &mut Core, from: Instant, ms: u64) -> Vec<Output> {
    let mut out = Vec::new();
    for step in 1..=ms / 20 {
        c.handle_timeout(from + Duration::from_millis(step * 20));
        out.extend(std::iter::from_fn(|| c.poll_output()));
    }
    out
}

/// SSRCs of the RTP (not RTCP) packets sent to our client.
fn rtp_ssrcs(out: &[Output]) -> BTreeSet<u32> {
    out.iter()
        .filter_map(|o| match o {
            Output::Udp(a, d) if *a == client_addr() && !rtp::is_rtcp(d) => {
                rtp::peek_ssrc(d).map(|s| s.0)
            }
            _ => None,
        })
        .collect()
}

/// The streamer's op 12 `d`, as JSON.
fn op12(out: &[Output]) -> Value {
    out.iter()
        .find_map(|o| match o {
            Output::Ws(CONN, WsFrame::Text(t)) => {
                let v: Value = serde_json::from_str(t).ok()?;
                (v["op"] == 12 && v["d"]["user_id"].as_str() == Some("20")).then(|| v["d"].clone())
            }
            _ => None,
        })
        .expect("op 12 for the streamer")
}

fn forwarded(c: &Core) -> Option<Vec<u32>> {
    let r = c.snapshot();
    let s = r.sessions.iter().find(|s| s.user_id == CLIENT)?;
    s.forwarded_video.get(&STREAMER).cloned()
}

/// Sends `d` as op 15 and runs `ms`; returns the RTP SSRCs sent after it.
fn want(c: &mut Core, at: Instant, d: &str, ms: u64) -> BTreeSet<u32> {
    c.on_text(CONN, &format!(r#"{{"op":15,"d":{d}}}"#), at);
    rtp_ssrcs(&run(c, at, ms))
}

#[test]
fn layers_are_announced_with_their_own_ssrcs_and_sent_as_op15_asks() {
    let (mut c, now, out) = setup();
    let d = op12(&out);
    let streams = d["streams"].as_array().expect("streams[]");
    assert_eq!(streams.len(), 2, "one entry per layer: {d}");
    let field = |i: usize, k: &str| streams[i][k].clone();
    let (big, small) = (
        field(0, "ssrc").as_u64().expect("ssrc") as u32,
        field(1, "ssrc").as_u64().expect("ssrc") as u32,
    );
    assert_ne!(big, small);
    assert_eq!(d["video_ssrc"], big, "video_ssrc is the primary layer");
    assert!(
        d.get("rtx_ssrc").is_none(),
        "no top-level rtx_ssrc from the server"
    );
    let rtx: BTreeSet<u64> = (0..2)
        .filter_map(|i| field(i, "rtx_ssrc").as_u64())
        .collect();
    assert_eq!(rtx.len(), 2, "an RTX SSRC per layer");
    assert!(!rtx.contains(&u64::from(big)) && !rtx.contains(&u64::from(small)));
    assert_eq!(
        (field(0, "rid"), field(0, "quality")),
        ("100".into(), 100.into())
    );
    assert_eq!(
        (field(1, "rid"), field(1, "quality")),
        ("50".into(), 50.into())
    );
    assert_eq!(
        field(1, "max_resolution"),
        serde_json::json!({"type": "fixed", "width": 160, "height": 90})
    );
    assert_eq!(field(0, "max_resolution")["width"], 320);

    // No op 15 yet: every layer.
    let t1 = now + Duration::from_millis(1500);
    assert_eq!(
        rtp_ssrcs(&run(&mut c, now, 1500)),
        BTreeSet::from([big, small])
    );
    assert_eq!(forwarded(&c), Some(vec![big.min(small), big.max(small)]));

    // The small layer only (user-docs' shape).
    let d = format!(r#"{{"{big}":0,"{small}":100,"pixelCounts":{{"{small}":14400.0}}}}"#);
    assert_eq!(want(&mut c, t1, &d, 1000), BTreeSet::from([small]));
    assert_eq!(forwarded(&c), Some(vec![small]));
    let report = c.snapshot();
    let me = report
        .sessions
        .iter()
        .find(|s| s.user_id == CLIENT)
        .expect("session");
    assert_eq!(me.layers.get(&STREAMER), Some(&(160, 90)));

    // clankvox's nested shape is not read: `any: 0` turns everything off,
    // although `streams` asks for both layers.
    let t2 = t1 + Duration::from_millis(1000);
    let d = format!(r#"{{"any":0,"streams":{{"{big}":100,"{small}":100}}}}"#);
    assert_eq!(want(&mut c, t2, &d, 1000), BTreeSet::new());
    assert_eq!(forwarded(&c), None);

    // `any` stands for unlisted SSRCs: the big layer by default, the
    // small one off by its key.
    let t3 = t2 + Duration::from_millis(1000);
    let d = format!(r#"{{"any":100,"{small}":0}}"#);
    assert_eq!(want(&mut c, t3, &d, 1500), BTreeSet::from([big]));
    assert_eq!(forwarded(&c), Some(vec![big]));
    let report = c.snapshot();
    let me = report
        .sessions
        .iter()
        .find(|s| s.user_id == CLIENT)
        .expect("session");
    assert_eq!(me.layers.get(&STREAMER), Some(&(320, 180)));
    assert!(me.video_frames_sent[&big].h264 > 0 && me.video_frames_sent[&small].vp8 == 0);
}

/// A NACK on a layer's SSRC is answered on that layer's RTX SSRC, and a
/// PLI on a layer's SSRC forces that layer's keyframe.
#[test]
fn rtcp_works_per_layer() {
    let (mut c, now, out) = setup();
    let d = op12(&out);
    let small = d["streams"][1]["ssrc"].as_u64().expect("ssrc") as u32;
    let small_rtx = d["streams"][1]["rtx_ssrc"].as_u64().expect("rtx") as u32;
    let got = run(&mut c, now, 1000);
    // The RTP header stays clear in the rtpsize modes.
    let seq = got
        .iter()
        .rev()
        .find_map(|o| match o {
            Output::Udp(_, d)
                if !rtp::is_rtcp(d) && rtp::peek_ssrc(d).map(|s| s.0) == Some(small) =>
            {
                Some(u16::from_be_bytes([d[2], d[3]]))
            }
            _ => None,
        })
        .expect("a packet of the small layer");
    let key = (ROOM, CLIENT);
    let mut nack = Vec::new();
    rtp::rtcp::build::write_nack(
        &mut nack,
        rtp::Ssrc(1),
        rtp::Ssrc(small),
        &[rtp::SeqNo(seq)],
    )
    .expect("nack");
    c.on_rtcp(key, &nack, now);
    let out: Vec<Output> = std::iter::from_fn(|| c.poll_output()).collect();
    assert!(
        rtp_ssrcs(&out).contains(&small_rtx),
        "RTX on the layer's RTX SSRC"
    );
    let layer_forced = |c: &Core| {
        c.rooms[&ROOM].participants[&STREAMER]
            .video
            .as_ref()
            .map_or(0, |v| v.keyframes_forced)
    };
    let before = layer_forced(&c);
    let mut pli = Vec::new();
    rtp::rtcp::build::write_pli(&mut pli, rtp::Ssrc(1), rtp::Ssrc(small)).expect("pli");
    c.on_rtcp(key, &pli, now);
    assert_eq!(layer_forced(&c), before + 1);
}
