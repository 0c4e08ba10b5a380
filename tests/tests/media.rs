//! mediad's transports end to end: the real mediad binary, driven over IPC
//! by the test (standing in for control), against an in-process
//! discord-sim. The test joins voice and watches Go Live through the sim's
//! main gateway itself, then hands the grants to mediad.

use std::time::{Duration, Instant};

use e2e::sim_mediad::{AgentMediad, T, hand_voice_to_mediad};
use e2e::watch_http::checkerboard_jpeg;
use e2e::*;
use ipc_schema::*;
use sim_gateway::SimHandle;
use sim_media_server::Fault;

struct Rig {
    m: AgentMediad,
    /// Everything received, in order.
    log: Vec<(Instant, MediadMsg)>,
}

impl Rig {
    async fn start(scenario: &str) -> Self {
        Self {
            m: AgentMediad::start(scenario).await,
            log: Vec::new(),
        }
    }

    /// Joins voice through the sim's gateway and hands the grant to mediad.
    async fn join_voice(&mut self) {
        hand_voice_to_mediad(&mut self.m.user, &self.m.conn.sender).await;
    }

    /// Receives until `pred` matches a message; returns it.
    async fn until<R>(&mut self, what: &str, mut pred: impl FnMut(&MediadMsg) -> Option<R>) -> R {
        let deadline = tokio::time::Instant::now() + T;
        loop {
            let log = &self.log;
            let msg = self
                .m
                .recv_before(deadline, || format!("{what}; saw {:?}", summary(log)))
                .await;
            let hit = pred(&msg);
            self.log.push((Instant::now(), msg));
            if let Some(r) = hit {
                return r;
            }
        }
    }

    fn summary(&self) -> Vec<String> {
        summary(&self.log)
    }

    async fn status(&mut self, role: TransportRole, status: TransportStatus) -> TransportState {
        self.until(&format!("{role} {status:?}"), |m| match m {
            MediadMsg::TransportState(s) if s.role == role && s.status == status => Some(s.clone()),
            _ => None,
        })
        .await
    }

    async fn frame(&mut self, user: u64) -> DecodedVideoFrame {
        self.until(&format!("a frame of {user}"), |m| match m {
            MediadMsg::DecodedVideoFrame(f) if f.user_id.0 == user => Some(f.clone()),
            _ => None,
        })
        .await
    }

    /// Statuses seen for `role` since log index `from`.
    fn statuses_since(&self, from: usize, role: TransportRole) -> Vec<TransportStatus> {
        self.log[from..]
            .iter()
            .filter_map(|(_, m)| match m {
                MediadMsg::TransportState(s) if s.role == role => Some(s.status),
                _ => None,
            })
            .collect()
    }
}

/// What `log` says, video frames left out.
fn summary(log: &[(Instant, MediadMsg)]) -> Vec<String> {
    log.iter()
        .filter_map(|(_, m)| match m {
            MediadMsg::TransportState(s) => {
                Some(format!("{} {:?} {:?}", s.role, s.status, s.reason))
            }
            MediadMsg::DecodedVideoFrame(_) => None,
            other => Some(other.kind().to_owned()),
        })
        .collect()
}

fn subscription(user: u64, fps: f32) -> VideoSubscription {
    VideoSubscription {
        user_id: UserId(user),
        stream_type: None,
        max_fps: fps,
        quality: 100,
        preferred_pixel_count: None,
        jpeg_quality: 75,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_live_watch_survives_stream_faults_without_touching_voice() {
    let mut rig = Rig::start("demo").await;
    let alice = *rig
        .m
        .user
        .streaming
        .first()
        .expect("alice is live in the demo");
    rig.join_voice().await;
    rig.status(TransportRole::Voice, TransportStatus::Ready)
        .await;

    let stream = rig.m.user.watch(alice).await;
    rig.m
        .send(ControlMsg::SubscribeUserVideo(subscription(alice, 5.0)));
    rig.m.send(ControlMsg::StreamWatchConnect(stream));
    rig.status(TransportRole::StreamWatch, TransportStatus::Ready)
        .await;
    let ready_at = Instant::now();
    let first = rig.frame(alice).await;
    let first_latency = ready_at.elapsed();
    // 1280x720 screen, default 640x360 box.
    assert_eq!((first.width, first.height), (640, 360));
    assert_eq!(&first.jpeg[..2], &[0xFF, 0xD8]);
    assert_eq!(first.stream_type, Some(StreamType::Screen));
    assert!(
        first_latency < Duration::from_secs(3),
        "first frame after {first_latency:?}"
    );
    eprintln!("first Go Live frame {first_latency:?} after stream_watch ready");

    // 4015 on the stream connection: resumed, frames continue, voice untouched.
    let mark = rig.log.len();
    rig.m.sim.stream().inject(Fault::Close {
        room: None,
        code: 4015,
    });
    let resuming = rig
        .status(TransportRole::StreamWatch, TransportStatus::Resuming)
        .await;
    assert_eq!(resuming.close_code, Some(4015));
    let resumed = rig
        .status(TransportRole::StreamWatch, TransportStatus::Ready)
        .await;
    assert_eq!(resumed.reason.as_deref(), Some("resumed"));
    let before = rig.log.len();
    let next = rig.frame(alice).await;
    assert!(next.frame_seq > first.frame_seq);
    assert!(before < rig.log.len());

    // The stream server crashes: stream_watch fails with a reason.
    rig.m.sim.stream().inject(Fault::Crash);
    let failed = rig
        .status(TransportRole::StreamWatch, TransportStatus::Failed)
        .await;
    let reason = failed.reason.expect("a reason");
    assert!(reason.contains("gave_up"), "{reason}");
    assert!(
        rig.statuses_since(mark, TransportRole::Voice).is_empty(),
        "voice untouched by stream faults: {:?}",
        rig.summary()
    );
    let snap = mediad_snapshot_via(&mut rig).await;
    let voice_slot = snap
        .transports
        .iter()
        .find(|t| t.role == TransportRole::Voice)
        .expect("voice slot");
    assert_eq!(voice_slot.status, TransportStatus::Ready);

    // 4006 on voice: control is asked to re-join.
    rig.m.sim.voice().inject(Fault::Close {
        room: None,
        code: 4006,
    });
    let rejoin = rig
        .status(TransportRole::Voice, TransportStatus::RejoinRequired)
        .await;
    assert_eq!(rejoin.close_code, Some(4006));
    rig.m.sim.shutdown().await;
}

async fn mediad_snapshot_via(rig: &mut Rig) -> Snapshot {
    rig.m.send(ControlMsg::SnapshotRequest);
    rig.until("snapshot", |m| match m {
        MediadMsg::Snapshot(s) => Some(s.clone()),
        _ => None,
    })
    .await
}

/// Frames the sim's streamer encoded so far.
fn encoded_by(sim: &SimHandle, user: u64) -> u64 {
    sim.stream()
        .report()
        .rooms
        .iter()
        .flat_map(|r| r.participants.iter())
        .filter(|p| p.user_id == user)
        .map(|p| p.frames_encoded)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_loss_with_reordering_still_decodes_95_percent() {
    // The `lossy` scenario: 10 % loss and 5 % reordering on the stream
    // server from the start.
    let mut rig = Rig::start("lossy").await;
    let alice = *rig.m.user.streaming.first().expect("alice is live");
    rig.join_voice().await;
    let stream = rig.m.user.watch(alice).await;
    rig.m
        .send(ControlMsg::SubscribeUserVideo(subscription(alice, 2.0)));
    rig.m.send(ControlMsg::StreamWatchConnect(stream));
    rig.frame(alice).await;
    // Counted from the first decoded frame: the start-up before the first
    // keyframe (slow on a loaded machine) is not loss.
    let encoded_at_start = encoded_by(&rig.m.sim, alice);
    tokio::time::sleep(Duration::from_secs(30)).await;
    // Cut the stream off, then read both sides once mediad's counters settle.
    rig.m.sim.stream().inject(Fault::Netem {
        loss: 1.0,
        reorder: 0.0,
        duplicate: 0.0,
        seed: 1,
    });
    let encoded = encoded_by(&rig.m.sim, alice);
    let mut last = None;
    let decoded = rig
        .until("settled stats", |m| match m {
            MediadMsg::Stats(s) => {
                let d = s
                    .transports
                    .iter()
                    .find(|t| t.role == Some(TransportRole::StreamWatch))
                    .map(|t| (t.frames_decoded, t.packets_recovered, t.packets_lost));
                let settled = d.is_some() && d == last;
                last = d;
                settled.then_some(d)
            }
            _ => None,
        })
        .await
        .expect("stream_watch stats");
    let (decoded, recovered, lost) = decoded;
    // The first decoded frame arrived when `encoded_at_start` was read.
    let (decoded, encoded) = (decoded.saturating_sub(1), encoded - encoded_at_start);
    let ratio = decoded as f64 / encoded as f64;
    eprintln!(
        "loss test: encoded {encoded}, decoded {decoded} ({:.1} %), recovered by RTX {recovered}, lost {lost}",
        ratio * 100.0
    );
    assert!(
        encoded > 300,
        "the sim streamed for 30 s ({encoded} frames)"
    );
    assert!(recovered > 0, "NACK + RTX recovered packets");
    assert!(
        ratio >= 0.95,
        "decoded {decoded} of {encoded} frames ({:.1} %)",
        ratio * 100.0
    );
    rig.m.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webcam_frames_arrive_on_the_voice_slot() {
    let mut rig = Rig::start("webcam-only").await;
    let voice = rig.m.user.join_voice().await;
    // Alice has her camera on; nobody streams.
    assert!(rig.m.user.streaming.is_empty());
    rig.m.send(ControlMsg::VoiceConnect(voice));
    let alice = rig
        .until("alice's video state", |m| match m {
            MediadMsg::UserVideoState(v) => Some(v.user_id.0),
            _ => None,
        })
        .await;
    let mut sub = subscription(alice, 5.0);
    sub.stream_type = Some(StreamType::Camera);
    rig.m.send(ControlMsg::SubscribeUserVideo(sub));
    let f = rig.frame(alice).await;
    assert_eq!(f.stream_type, Some(StreamType::Camera));
    assert_eq!((f.width, f.height), (640, 360));
    let v = rig
        .log
        .iter()
        .find_map(|(_, m)| match m {
            MediadMsg::UserVideoState(v) => Some(v.clone()),
            _ => None,
        })
        .expect("video state");
    assert_eq!(v.role, TransportRole::Voice);
    assert_eq!(v.video_ssrc, Some(f.ssrc));
    // Bob speaks 3 s into the scenario: op 5 and his audio packets.
    let bob = rig
        .until("bob speaking", |m| match m {
            MediadMsg::Speaking(s) if s.speaking && s.user_id.0 != alice => Some(s.user_id.0),
            _ => None,
        })
        .await;
    assert_ne!(bob, rig.m.user.user_id);
    rig.m.sim.shutdown().await;
}

/// A 640x360 test picture: a checkerboard with `cell`-pixel squares.
fn picture(cell: usize) -> Vec<u8> {
    checkerboard_jpeg(640, 360, cell, 90)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_frames_reach_the_sim_as_pictures_close_to_the_input() {
    let mut rig = Rig::start("demo").await;
    rig.join_voice().await;
    let publish = rig.m.user.go_live().await;
    let room = publish.server_id;
    rig.m.send(ControlMsg::StreamPublishConnect(publish));
    rig.status(TransportRole::StreamPublish, TransportStatus::Ready)
        .await;
    let input = picture(80);
    for n in 0..20u64 {
        rig.m.send(ControlMsg::StreamPublishFrame(PublishFrame {
            format: PublishFormat::Jpeg,
            data: input.clone(),
            capture_time_us: n * 100_000,
        }));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let me = rig.m.user.user_id;
    let frames = wait_for(T, "published frames in the sim", || {
        let f = rig
            .m
            .sim
            .stream()
            .published_frames(sim_media_server::RoomId(room), me);
        async move { (!f.is_empty()).then_some(f) }
    })
    .await;
    let out = frames.last().expect("a frame");
    // mediad's default publish size.
    assert_eq!((out.width, out.height), (1280, 720));
    let sent = video_pipeline::score_jpeg(&input).expect("input scores");
    let got = video_pipeline::score_jpeg(&out.jpeg).expect("sim's picture decodes");
    let other = video_pipeline::score_jpeg(&picture(20)).expect("control scores");
    let close = sent.change_score(&got);
    assert!(
        close < 0.05,
        "published picture differs from the input: {close}"
    );
    assert!(
        sent.change_score(&other) > 0.2,
        "the comparison can tell pictures apart"
    );
    // Idle: the last picture is repeated about once a second.
    // Pause: nothing more is published at all.
    rig.m.send(ControlMsg::StreamPublishPause);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let published = |sim: &SimHandle| -> u64 {
        sim.stream()
            .report()
            .sessions
            .iter()
            .filter(|s| s.user_id == me && s.room == sim_media_server::RoomId(room))
            .map(|s| s.published_frames)
            .sum()
    };
    let before = published(&rig.m.sim);
    assert!(before > 0);
    for _ in 0..5 {
        rig.m.send(ControlMsg::StreamPublishFrame(PublishFrame {
            format: PublishFormat::Jpeg,
            data: input.clone(),
            capture_time_us: 0,
        }));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = published(&rig.m.sim);
    assert_eq!(before, after, "paused: no frames published");
    rig.m.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dave_encrypted_go_live_video_decodes() {
    // The `dave` scenario: the sim's media servers run DAVE (its own
    // external sender on openmls), and Alice's client encrypts with davey.
    let mut rig = Rig::start("dave").await;
    let alice = *rig.m.user.streaming.first().expect("alice is live");
    rig.join_voice().await;
    rig.status(TransportRole::Voice, TransportStatus::Ready)
        .await;
    let stream = rig.m.user.watch(alice).await;
    let rtc = stream.server_id;
    rig.m
        .send(ControlMsg::SubscribeUserVideo(subscription(alice, 5.0)));
    rig.m.send(ControlMsg::StreamWatchConnect(stream));
    // Wait until the sim reports our stream session in the MLS group and
    // Alice sending DAVE-encrypted frames, then for frames decoded after it.
    let me = rig.m.user.user_id;
    wait_for(T, "mediad in the stream's MLS group", || {
        let r = rig.m.sim.stream().report();
        let in_group = r.sessions.iter().any(|s| {
            s.user_id == me
                && s.room == sim_media_server::RoomId(rtc)
                && s.dave_protocol_version == 1
                && s.dave_in_group
        });
        let encrypting = r
            .rooms
            .iter()
            .flat_map(|room| room.participants.iter())
            .any(|p| p.user_id == alice && p.dave_encrypted_frames > 0);
        async move { (in_group && encrypting).then_some(()) }
    })
    .await;
    let encrypted_before = encrypted_frames(&rig.m.sim, alice);
    // Frames completed from now on were sent encrypted: an undecryptable
    // frame is skipped by the worker, never emitted.
    let since_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_micros() as u64
        + 300_000;
    let mut decoded = 0;
    while decoded < 3 {
        let f = rig.frame(alice).await;
        assert_eq!((f.width, f.height), (640, 360));
        if f.capture_time_us > since_us {
            decoded += 1;
        }
    }
    assert!(
        encrypted_frames(&rig.m.sim, alice) > encrypted_before,
        "alice kept encrypting"
    );
    let group = rig
        .m
        .sim
        .stream()
        .report()
        .sessions
        .iter()
        .find(|s| s.user_id == me && s.room == sim_media_server::RoomId(rtc))
        .and_then(|s| s.dave_group_id);
    assert_eq!(group, Some(rtc - 1), "stream group id is rtc_server_id - 1");
    rig.m.sim.shutdown().await;
}

fn encrypted_frames(sim: &SimHandle, user: u64) -> u64 {
    sim.stream()
        .report()
        .rooms
        .iter()
        .flat_map(|r| r.participants.iter())
        .filter(|p| p.user_id == user)
        .map(|p| p.dave_encrypted_frames)
        .sum()
}

/// Issue 15 items 15 and 16, witnessed by discord-userdoccers
/// `voice-connections.mdx` ("RTCP and RTX", "Native RTP Header
/// Extensions", 3dc0ca92): "Clients should send an RTCP Sender Report
/// roughly every 5 seconds for each sent media SSRC"; "When the server
/// reports missing video packets, retransmit them as RTX packets"; id 6
/// playout-delay, "Discord expects this on video packets". With loss on
/// the publish path the sim's SFU NACKs the holes and mediad's RTX fills
/// them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_video_lost_on_the_way_is_repaired_by_rtx() {
    let mut rig = Rig::start("demo").await;
    rig.join_voice().await;
    let publish = rig.m.user.go_live().await;
    let room = sim_media_server::RoomId(publish.server_id);
    rig.m.send(ControlMsg::StreamPublishConnect(publish));
    rig.status(TransportRole::StreamPublish, TransportStatus::Ready)
        .await;
    rig.m.sim.stream().inject(Fault::Netem {
        loss: 0.05,
        reorder: 0.0,
        duplicate: 0.0,
        seed: 3,
    });
    let me = rig.m.user.user_id;
    let report = |sim: &SimHandle| {
        sim.stream()
            .report()
            .sessions
            .into_iter()
            .find(|s| s.user_id == me && s.room == room)
    };
    // Changing pictures for 7 s: enough packets to lose some, and longer
    // than one sender-report interval.
    let pictures = [picture(80), picture(20)];
    for n in 0..70u64 {
        rig.m.send(ControlMsg::StreamPublishFrame(PublishFrame {
            format: PublishFormat::Jpeg,
            data: pictures[(n % 2) as usize].clone(),
            capture_time_us: n * 100_000,
        }));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = wait_for(T, "RTX repairs and a sender report", || {
        let r = report(&rig.m.sim);
        async move { r.filter(|r| r.publish_rtx_repaired > 0 && r.sender_reports_received > 0) }
    })
    .await;
    eprintln!(
        "publish loss test: nacked {}, rtx received {}, repaired {}, lost {}, frames {}, SRs {}",
        r.publish_nacked,
        r.publish_rtx_received,
        r.publish_rtx_repaired,
        r.publish_lost,
        r.published_frames,
        r.sender_reports_received
    );
    assert!(r.publish_nacked > 0, "the sim NACKed lost packets");
    assert_eq!(r.publish_bad_rtx, 0, "RTX on the declared type and SSRC");
    assert_eq!(
        r.video_without_playout_delay, 0,
        "every published video packet carries playout-delay"
    );
    assert!(r.published_frames > 0);
    rig.m.sim.shutdown().await;
}

/// Our session's report on a sim media server.
fn my_session(
    server: &sim_media_server::VoiceServerHandle,
    me: u64,
) -> Option<sim_media_server::SessionReport> {
    server
        .report()
        .sessions
        .into_iter()
        .find(|s| s.user_id == me)
}

/// Issue 15 item 2: the codec of incoming video is each packet's payload
/// type, not op 4's `video_codec` (discord-userdoccers
/// `voice-connections.mdx`, 3dc0ca92: `audio_codec`/`video_codec` are what
/// the client must send; payload types are the ones the receiver declared
/// in Select Protocol `codecs`). Alice streams VP8 in `vp8-streamer`; op 4
/// says H264. Old mediad took the codec from op 4, so its worker refused
/// every VP8 packet and no frame ever arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vp8_go_live_is_decoded() {
    let mut rig = Rig::start("vp8-streamer").await;
    let alice = *rig.m.user.streaming.first().expect("alice is live");
    rig.join_voice().await;
    let stream = rig.m.user.watch(alice).await;
    rig.m
        .send(ControlMsg::SubscribeUserVideo(subscription(alice, 5.0)));
    rig.m.send(ControlMsg::StreamWatchConnect(stream));
    for _ in 0..3 {
        let f = rig.frame(alice).await;
        assert_eq!(&f.jpeg[..2], &[0xFF, 0xD8]);
        assert_eq!((f.width, f.height), (640, 360));
    }
    let me = rig.m.user.user_id;
    let sent = my_session(rig.m.sim.stream(), me).expect("our stream session");
    let (h264, vp8) = sent
        .video_frames_sent
        .values()
        .fold((0, 0), |(h, v), c| (h + c.h264, v + c.vp8));
    assert!(
        vp8 > 0 && h264 == 0,
        "the sim sent VP8 only: {h264} H264, {vp8} VP8"
    );
    rig.m.sim.shutdown().await;
}

/// Issue 15 item 2: a camera that switches between H264 and VP8 on one
/// SSRC (Carol in `vp8-streamer`, every 3 s) keeps producing frames
/// through the switches. Each decoded frame is put down to the codec the
/// sim sent since the previous one (its per-SSRC, per-codec counters):
/// a run of frames while only VP8 was sent must sit between runs while
/// only H264 was sent. Old mediad decoded only op 4's codec (H264): no
/// frame at all during a VP8 run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camera_switching_codec_keeps_producing_frames() {
    let mut rig = Rig::start("vp8-streamer").await;
    rig.join_voice().await;
    let carol = rig
        .until("carol's camera", |m| match m {
            MediadMsg::UserVideoState(v) if v.role == TransportRole::Voice => Some(v.user_id.0),
            _ => None,
        })
        .await;
    let mut sub = subscription(carol, 5.0);
    sub.stream_type = Some(StreamType::Camera);
    rig.m.send(ControlMsg::SubscribeUserVideo(sub));
    let me = rig.m.user.user_id;
    let counts = |sim: &SimHandle, ssrc: Ssrc| {
        my_session(sim.voice(), me)
            .and_then(|s| s.video_frames_sent.get(&ssrc.0).copied())
            .map_or((0, 0), |c| (c.h264, c.vp8))
    };
    let first = rig.frame(carol).await;
    let mut last = counts(&rig.m.sim, first.ssrc);
    // Runs of frames classified by codec: ("H264" | "VP8", length).
    let mut runs: Vec<(&str, u32)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(45);
    let wanted = |runs: &[(&str, u32)]| {
        let long: Vec<&str> = runs.iter().filter(|r| r.1 >= 4).map(|r| r.0).collect();
        long.windows(3).any(|w| w == ["H264", "VP8", "H264"])
    };
    while !wanted(&runs) {
        assert!(
            Instant::now() < deadline,
            "no H264 → VP8 → H264 sequence of frame runs: {runs:?}"
        );
        let f = rig.frame(carol).await;
        assert_eq!(f.ssrc, first.ssrc, "one SSRC across codecs");
        assert_eq!((f.width, f.height), (640, 360));
        let now = counts(&rig.m.sim, f.ssrc);
        let codec = match (now.0 > last.0, now.1 > last.1) {
            (true, false) => Some("H264"),
            (false, true) => Some("VP8"),
            _ => None,
        };
        last = now;
        let Some(codec) = codec else { continue };
        match runs.last_mut() {
            Some((c, n)) if *c == codec => *n += 1,
            _ => runs.push((codec, 1)),
        }
    }
    eprintln!("camera codec runs (frames): {runs:?}");
    rig.m.sim.shutdown().await;
}

/// Issue 15 item 4: with a two-layer Go Live (`demo`: Alice's 1280x720 at
/// quality 100 and 640x360 at 50, each with its own SSRC), mediad's op 15
/// asks for the smallest layer that covers its 640x360 output and turns
/// the other off, so the sim forwards that layer only and the frames come
/// from it. Witness: discord-userdoccers `voice-connections.mdx`
/// (3dc0ca92), "Simulcasting": each layer has its own `ssrc`/`rtx_ssrc`;
/// "Receivers request layers through Media Sink Wants"; "`0` disables a
/// stream". Old mediad took the first layer (1280x720) and sent `any:100`,
/// so the sim forwarded both and mediad decoded the big one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_live_watch_takes_the_smallest_layer_covering_the_output() {
    let mut rig = Rig::start("demo").await;
    let alice = *rig.m.user.streaming.first().expect("alice is live");
    rig.join_voice().await;
    let stream = rig.m.user.watch(alice).await;
    rig.m
        .send(ControlMsg::SubscribeUserVideo(subscription(alice, 5.0)));
    rig.m.send(ControlMsg::StreamWatchConnect(stream));
    let first = rig.frame(alice).await;
    let layers = rig
        .m
        .sim
        .stream()
        .report()
        .rooms
        .iter()
        .flat_map(|r| r.participants.iter())
        .find(|p| p.user_id == alice)
        .map(|p| p.video_layers.clone())
        .expect("alice's layers");
    let ssrc_of = |w, h| {
        layers
            .iter()
            .find(|l| (l.width, l.height) == (w, h))
            .map(|l| l.ssrc)
            .expect("layer announced")
    };
    let (big, small) = (ssrc_of(1280, 720), ssrc_of(640, 360));
    assert_ne!(big, small);
    let me = rig.m.user.user_id;
    let session = wait_for(T, "only the small layer forwarded", || {
        let s = my_session(rig.m.sim.stream(), me);
        async move { s.filter(|s| s.forwarded_video.get(&alice) == Some(&vec![small])) }
    })
    .await;
    // Our op 15 as the sim received it (user-docs' top-level shape).
    let wants: serde_json::Value =
        serde_json::from_str(session.sink_wants.as_deref().expect("op 15 received"))
            .expect("op 15 is JSON");
    assert_eq!(wants[small.to_string()], 100, "{wants}");
    assert_eq!(wants[big.to_string()], 0, "{wants}");
    assert_eq!(session.layers.get(&alice), Some(&(640, 360)));
    assert_eq!(first.ssrc, Ssrc(small));
    for _ in 0..3 {
        let f = rig.frame(alice).await;
        assert_eq!(f.ssrc, Ssrc(small), "frames come from the 640x360 layer");
        assert_eq!((f.width, f.height), (640, 360));
    }
    rig.m.sim.shutdown().await;
}
