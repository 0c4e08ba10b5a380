//! @discordjs/voice as an independent witness (issue 15): a real Discord
//! voice client, written and maintained outside this project, joins the
//! simulator's voice channel next to mediad.
//!
//! The test logs Carol in through the sim's main gateway, joins voice and
//! hands her `session_id` and VOICE_SERVER_UPDATE `{token, endpoint}` to the
//! Node peer (tests/peers/discordjs/peer.js), whose adapter feeds them to
//! `joinVoiceChannel`. The peer connects over `wss://` trusting the sim's CA
//! (`NODE_EXTRA_CA_CERTS`), picks its encryption mode and runs DAVE with
//! @snazzah/davey, plays an Opus tone and decodes Bob's audio. mediad
//! (the agent) is in the same channel over IPC. What must hold:
//! - the peer negotiates `aead_aes256_gcm_rtpsize` and DAVE protocol 1.
//!   @discordjs/voice 0.19.2 takes the first of Ready's `modes` it supports
//!   (`chooseEncryptionMode`, node_modules/@discordjs/voice/dist/index.js
//!   line 1313; AES-256-GCM is supported when Node's crypto has it, line
//!   1291), so this also checks that the sim lists the GCM mode first;
//! - mediad reports Carol speaking (op 5 relayed by the sim, her audio);
//! - the peer's davey session, mediad's DAVE session and the sim's external
//!   sender are at the same MLS epoch;
//! - the peer decodes non-silent audio of Bob (a simulated participant who
//!   DAVE-encrypts), with no frame left encrypted once its session is ready.
//!
//! Run in both join orders: the peer welcomed into a group mediad is in,
//! and the peer committing (or losing the first-commit race for) mediad's
//! add proposal and then following the winning commit.
//!
//! Needs the Node project installed: `scripts/setup-peers` (npm ci from the
//! lockfile under tests/peers/discordjs).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use e2e::gateway_client::SimUser;
use e2e::peer::NodePeer;
use e2e::sim_mediad::{
    SimMediad, T, agent_user, drain, hand_voice_to_mediad, lock, tone_chunks, wait_voice_ready,
};
use e2e::*;
use ipc_schema::*;
use serde_json::json;
use sim_gateway::{Scenario, SimHandle};
use sim_media_server::{RoomReport, SessionReport};

const CAROL_TOKEN: &str = "sim-user-carol";
/// What @discordjs/voice should pick from the sim's offer.
const GCM_RTPSIZE: &str = "aead_aes256_gcm_rtpsize";

/// Polls `f` every 25 ms for up to [`T`]; on timeout panics with `what`,
/// the peer's events and log, and the end of mediad's log.
async fn wait_peer<R, F, Fut>(peer: &NodePeer, mediad: &Daemon, what: &str, mut f: F) -> R
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<R>>,
{
    let deadline = tokio::time::Instant::now() + T;
    loop {
        if let Some(r) = f().await {
            return r;
        }
        if tokio::time::Instant::now() > deadline {
            let log = mediad.log_text();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            panic!(
                "timed out after {T:?} waiting for {what}\n{}\nmediad log tail:\n{}",
                peer.describe(),
                tail.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The last MLS epoch mediad's voice slot logged (`DaveEvent::EpochChanged`
/// at info level, see mediad/src/transport/dave.rs), if any.
fn mediad_epoch(log: &str) -> Option<u64> {
    const MARK: &str = "EpochChanged { epoch: ";
    log.lines().rev().find_map(|l| {
        let rest = &l[l.find(MARK)? + MARK.len()..];
        rest[..rest.find(|c: char| !c.is_ascii_digit())?]
            .parse()
            .ok()
    })
}

fn user_id(name: &str) -> u64 {
    Scenario::builtin("dave")
        .expect("dave scenario")
        .users
        .iter()
        .find(|u| u.name == name)
        .map(|u| u.id.0)
        .expect("user in the dave scenario")
}

fn voice_session(sim: &SimHandle, user: u64) -> Option<SessionReport> {
    sim.voice()
        .report()
        .sessions
        .into_iter()
        .find(|s| s.user_id == user && s.connected)
}

fn voice_room(sim: &SimHandle, group: u64) -> Option<RoomReport> {
    sim.voice()
        .report()
        .rooms
        .into_iter()
        .find(|r| r.dave_group_id == Some(group))
}

/// Who joins the voice channel first: the one that joins second is added
/// to the MLS group by a commit of the members already in it (the peer's
/// davey processes the external sender's proposals when mediad joins
/// second) and welcomed (mediad's session when it joins second).
#[derive(Clone, Copy, PartialEq, Eq)]
enum First {
    Mediad,
    Peer,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discordjs_voice_joins_after_mediad_speaks_and_agrees_on_the_dave_epoch() {
    run(First::Mediad).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discordjs_voice_commits_mediad_into_its_group_and_agrees_on_the_epoch() {
    run(First::Peer).await;
}

async fn run(first: First) {
    let SimMediad {
        dir,
        mediad,
        sim,
        conn,
    } = SimMediad::start("dave").await;
    let from_mediad = drain(conn.receiver);
    let (carol, bob) = (user_id("carol"), user_id("bob"));

    // mediad joins as the agent.
    let mut agent = agent_user(&sim).await;
    let join_mediad = async |agent: &mut SimUser| {
        hand_voice_to_mediad(agent, &conn.sender).await;
        wait_voice_ready(&from_mediad).await;
    };
    if first == First::Mediad {
        join_mediad(&mut agent).await;
    }

    // Carol joins through the sim's gateway; the Node peer takes her grant.
    let mut carol_gw = SimUser::connect(&sim.gateway_url(), CAROL_TOKEN, sim.ca_pem()).await;
    assert_eq!(carol_gw.user_id, carol);
    let grant = carol_gw.join_voice().await;
    let cfg = json!({
        "guild_id": grant.guild_id.0.to_string(),
        "channel_id": grant.channel_id.0.to_string(),
        "user_id": carol.to_string(),
        "session_id": grant.session_id.expose(),
        "endpoint": grant.endpoint,
        "token": grant.token.expose(),
        "listen_to": bob.to_string(),
        "duration_ms": 50_000,
    });
    let group = grant.dave_group_id;
    let mut peer = NodePeer::start(dir.path(), sim.ca_file(), &cfg);

    // 1. The handshake: Ready, the mode @discordjs/voice chose, DAVE v1.
    wait_peer(&peer, &mediad, "the peer's voice connection ready", || {
        let hit = peer.last("mode");
        async move { hit }
    })
    .await;
    if first == First::Peer {
        join_mediad(&mut agent).await;
    }
    let mode = peer.last("mode").expect("mode event");
    assert_eq!(mode["mode"], GCM_RTPSIZE, "{}", peer.describe());
    let s = voice_session(&sim, carol).expect("carol's session in the sim");
    assert_eq!(s.mode.as_deref(), Some(GCM_RTPSIZE));
    assert_eq!(
        s.dave_max_protocol_version, 1,
        "@discordjs/voice identifies with davey's DAVE_PROTOCOL_VERSION"
    );
    assert_eq!(
        s.dave_protocol_version, 1,
        "the sim answered op 4 with DAVE"
    );

    // 2. mediad sees Carol speaking (the peer plays a tone from the start).
    wait_peer(&peer, &mediad, "mediad reports carol speaking", || {
        let hit = lock(&from_mediad)
            .iter()
            .any(|m| matches!(m, MediadMsg::Speaking(s) if s.user_id.0 == carol && s.speaking));
        async move { hit.then_some(()) }
    })
    .await;
    let s = voice_session(&sim, carol).expect("carol's session");
    let ssrcs: Vec<Option<u32>> = lock(&from_mediad)
        .iter()
        .filter_map(|m| match m {
            MediadMsg::Speaking(sp) if sp.user_id.0 == carol => Some(sp.ssrc.map(|x| x.0)),
            _ => None,
        })
        .collect();
    assert!(
        ssrcs.iter().flatten().all(|&x| x == s.ssrc),
        "mediad's speaking SSRC for carol {ssrcs:?} is the one the sim gave her ({})",
        s.ssrc
    );
    wait_peer(&peer, &mediad, "the sim receiving the peer's RTP", || {
        let got = voice_session(&sim, carol).is_some_and(|s| s.rtp_received > 0);
        async move { got.then_some(()) }
    })
    .await;
    let s = voice_session(&sim, carol).expect("carol's session");
    assert_eq!(s.decrypt_failures, 0, "the peer's transport encryption");

    // 3. One epoch for all: the peer's davey session, mediad's session, the
    //    sim's external sender, and Bob (a simulated member).
    let epoch = wait_peer(&peer, &mediad, "the same DAVE epoch everywhere", || {
        let node = peer.last("dave");
        let room = voice_room(&sim, group);
        let mediad = mediad_epoch(&mediad.log_text());
        async move {
            let node = node?;
            let room = room?;
            let members = &room.dave_members;
            let bob_epoch = room
                .participants
                .iter()
                .find(|p| p.user_id == bob)
                .and_then(|p| p.dave_epoch);
            let e = node["epoch"].as_u64()?;
            (node["ready"] == true
                && node["protocolVersion"] == 1
                && e > 0
                && room.dave_epoch == e
                && mediad == Some(e)
                && bob_epoch == Some(e)
                && members.contains(&carol)
                && members.contains(&user_id("agent")))
            .then_some(e)
        }
    })
    .await;
    eprintln!("DAVE epoch {epoch} on the peer, mediad, the sim and bob");

    // 4. Bob's audio, DAVE-encrypted by the sim's participant, decoded by
    //    the peer after its session is ready, and not silence.
    let bob_id = bob.to_string();
    let decoded = wait_peer(&peer, &mediad, "the peer decodes bob's audio", || {
        let hit = peer.named("decoded").into_iter().find(|d| {
            d["user"] == bob_id.as_str()
                && d["daveReady"] == true
                && d["rms"].as_f64().is_some_and(|r| r > 0.02)
        });
        async move { hit }
    })
    .await;
    eprintln!("peer decoded bob: {decoded}");
    let s = voice_session(&sim, carol).expect("carol's session");
    assert!(
        s.dave_encrypted_frames_sent > 0,
        "bob's frames reached the peer DAVE-encrypted: {s:?}"
    );
    assert_eq!(decoded["encryptedAfterReady"], 0, "{}", peer.describe());

    // Nothing went wrong on the way: no errors, re-joins or closes on the
    // peer, no DAVE refusals in the sim for either client.
    for bad in ["error", "rejoin", "closed", "unparsed"] {
        assert!(peer.named(bad).is_empty(), "{bad}: {}", peer.describe());
    }
    if first == First::Peer {
        // mediad's arrival: the external sender proposed adding it, and
        // the peer's davey answered with a commit (op 28; the sim counts
        // a commit that lost the first-commit race too, as it should).
        let s = voice_session(&sim, carol).expect("carol's session");
        let commits = s.ops_received.get(&28).copied().unwrap_or(0);
        eprintln!(
            "peer commits: {commits}, lost races: {}",
            s.dave_lost_commit_races
        );
        assert!(commits >= 1, "the peer committed mediad's add: {s:?}");
    }
    for user in [carol, user_id("agent")] {
        let s = voice_session(&sim, user).expect("session");
        assert_eq!(s.dave_errors, 0, "user {user}: {:?}", s.dave_last_error);
    }
    let status = peer.stop().await.expect("peer exits after stdin closes");
    assert!(status.success(), "peer exit {status:?}");
    let done = peer.last("done").expect("done summary");
    assert_eq!(done["joins"], 1, "{done}");
    drop(carol_gw);
    drop(agent);
    sim.shutdown().await;
}

/// 100 ms chunks of a 440 Hz tone (amplitude 8000, RMS ≈ 0.17 of full
/// scale), 48 kHz mono s16le, as control streams an utterance.
fn tone(id: u64, ms: usize) -> Vec<ControlMsg> {
    tone_chunks(id, ms, 440.0, 8000.0)
}

fn playback(log: &Mutex<Vec<MediadMsg>>, id: u64) -> Vec<PlaybackEvent> {
    lock(log)
        .iter()
        .filter_map(|m| match m {
            MediadMsg::Playback(p) if p.id.0 == id => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// Utterance `id`'s playback events once one of them is `state` (waited
/// for with [`wait_peer`]).
async fn wait_playback(
    peer: &NodePeer,
    mediad: &Daemon,
    log: &Mutex<Vec<MediadMsg>>,
    id: u64,
    state: PlaybackState,
) -> Vec<PlaybackEvent> {
    let what = format!("playback {id} {state:?}");
    wait_peer(peer, mediad, &what, || {
        let ev = playback(log, id);
        let hit = ev.iter().any(|e| e.state == state);
        async move { hit.then_some(ev) }
    })
    .await
}

/// Issue 17 §1's independent witness: mediad speaks (an utterance streamed
/// over IPC as `VoicePlay` chunks) and @discordjs/voice, listening to the
/// agent, decodes it with opusscript (libopus compiled to JS/wasm, not the
/// libopus build mediad links) after DAVE-decrypting it with davey: the
/// decoded audio is as long as the utterance and not silent, and no frame
/// stays encrypted. mediad reports `Started` then `Finished` (after the
/// five silence frames); a cancelled second utterance reports `Cancelled`
/// and stops early; `VoicePlay` after the voice connection is gone fails
/// with a reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discordjs_decodes_what_the_agent_says() {
    let SimMediad {
        dir,
        mediad,
        sim,
        conn,
    } = SimMediad::start("dave").await;
    let from_mediad = drain(conn.receiver);
    let (carol, agent_id) = (user_id("carol"), user_id("agent"));

    let mut agent = agent_user(&sim).await;
    hand_voice_to_mediad(&mut agent, &conn.sender).await;
    wait_voice_ready(&from_mediad).await;

    let mut carol_gw = SimUser::connect(&sim.gateway_url(), CAROL_TOKEN, sim.ca_pem()).await;
    let grant = carol_gw.join_voice().await;
    let group = grant.dave_group_id;
    let cfg = json!({
        "guild_id": grant.guild_id.0.to_string(),
        "channel_id": grant.channel_id.0.to_string(),
        "user_id": carol.to_string(),
        "session_id": grant.session_id.expose(),
        "endpoint": grant.endpoint,
        "token": grant.token.expose(),
        "listen_to": agent_id.to_string(),
        "duration_ms": 50_000,
    });
    let mut peer = NodePeer::start(dir.path(), sim.ca_file(), &cfg);
    // Speak only once the peer, mediad and the sim share a DAVE epoch, so
    // every frame is DAVE-encrypted and must be decrypted by the peer.
    wait_peer(
        &peer,
        &mediad,
        "the same DAVE epoch on peer and mediad",
        || {
            let node = peer.last("dave");
            let room = voice_room(&sim, group);
            let m = mediad_epoch(&mediad.log_text());
            async move {
                let node = node?;
                let e = node["epoch"].as_u64()?;
                (node["ready"] == true && e > 0 && room?.dave_epoch == e && m == Some(e))
                    .then_some(())
            }
        },
    )
    .await;

    // 1. Two seconds of speech.
    let sent_at = std::time::Instant::now();
    for m in tone(1, 2000) {
        conn.sender.send(m).expect("send chunk");
    }
    let events = wait_playback(&peer, &mediad, &from_mediad, 1, PlaybackState::Finished).await;
    let took = sent_at.elapsed();
    let states: Vec<_> = events.iter().map(|e| e.state.clone()).collect();
    assert_eq!(
        states,
        vec![PlaybackState::Started, PlaybackState::Finished]
    );
    assert_eq!(events[1].played_ms, 2000);
    // Real time: 100 frames + 5 silence frames = 2.1 s.
    assert!(
        took >= Duration::from_millis(2050) && took < Duration::from_millis(3000),
        "paced in real time: {took:?}"
    );
    // Let the last packets reach the peer.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let decoded = peer.named("decoded");
    let frames = decoded
        .last()
        .and_then(|d| d["frames"].as_u64())
        .unwrap_or(0);
    eprintln!("peer decoded the agent: {frames} frames; windows {decoded:?}");
    // 100 frames of tone (+ the 5 silence frames); the peer reports its
    // count every 25 decoded frames, so 100 means 100..=124 were decoded.
    assert!(
        frames == 100,
        "the peer decoded {frames} frames of the agent\n{}",
        peer.describe()
    );
    let loud = decoded
        .iter()
        .filter(|d| d["rms"].as_f64().is_some_and(|r| r > 0.1 && r < 0.25))
        .count();
    assert!(loud >= 3, "the decoded windows carry the tone: {decoded:?}");
    assert!(decoded.iter().all(|d| d["daveReady"] == true));
    assert_eq!(
        decoded.last().expect("decoded")["encryptedAfterReady"],
        0,
        "{}",
        peer.describe()
    );
    let s = voice_session(&sim, agent_id).expect("agent's session in the sim");
    assert_eq!(s.decrypt_failures, 0, "mediad's transport encryption");

    // 2. Barge-in: a 3 s utterance cancelled after ~0.5 s.
    let before = peer
        .named("decoded")
        .last()
        .and_then(|d| d["frames"].as_u64())
        .unwrap_or(0);
    for m in tone(2, 3000) {
        conn.sender.send(m).expect("send chunk");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    conn.sender
        .send(ControlMsg::VoiceCancel { id: UtteranceId(2) })
        .expect("send cancel");
    let ev = wait_playback(&peer, &mediad, &from_mediad, 2, PlaybackState::Cancelled).await;
    let cancelled = ev.last().expect("event");
    assert!(
        (300..=900).contains(&cancelled.played_ms),
        "stopped after ~0.5 s: {cancelled:?}"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let after = peer
        .named("decoded")
        .last()
        .and_then(|d| d["frames"].as_u64())
        .unwrap_or(0);
    assert!(
        after - before < 60,
        "the peer got {} frames of a cancelled 3 s utterance",
        after - before
    );

    for bad in ["error", "rejoin", "closed", "unparsed"] {
        assert!(peer.named(bad).is_empty(), "{bad}: {}", peer.describe());
    }
    let s = voice_session(&sim, agent_id).expect("session");
    assert_eq!(s.dave_errors, 0, "{:?}", s.dave_last_error);

    // 3. Without a voice connection, playback fails with a reason.
    conn.sender
        .send(ControlMsg::VoiceDisconnect(Disconnect {
            reason: "test".into(),
        }))
        .expect("send");
    tokio::time::sleep(Duration::from_millis(300)).await;
    for m in tone(3, 200) {
        conn.sender.send(m).expect("send chunk");
    }
    let ev = wait_peer(&peer, &mediad, "playback refused", || {
        let ev = playback(&from_mediad, 3);
        async move { (!ev.is_empty()).then_some(ev) }
    })
    .await;
    assert_eq!(
        ev,
        vec![PlaybackEvent {
            id: UtteranceId(3),
            state: PlaybackState::Failed("no voice connection".into()),
            played_ms: 0
        }]
    );

    // What mediad heard of carol (the peer plays a steady 330 Hz tone).
    let heard: Vec<String> = lock(&from_mediad)
        .iter()
        .filter_map(|m| match m {
            MediadMsg::UserSpeech(s) => Some(format!("speech {} {}", s.user_id, s.speaking)),
            MediadMsg::UserUtterance(u) => {
                Some(format!("utterance {} {} ms", u.user_id, u.duration_ms))
            }
            _ => None,
        })
        .collect();
    eprintln!("mediad heard: {heard:?}");

    peer.stop().await.expect("peer exits after stdin closes");
    drop(carol_gw);
    drop(agent);
    sim.shutdown().await;
}

/// espeak-ng's `text` as 48 kHz stereo s16le (through ffmpeg) in `dir`,
/// and the span of its speech in ms; `None` (with the reason printed) when
/// espeak-ng or ffmpeg is missing.
fn spoken_raw(dir: &Path, text: &str) -> Option<(PathBuf, u64)> {
    let wav = dir.join("said.wav");
    let raw = dir.join("said.raw");
    let ok = std::process::Command::new("espeak-ng")
        .arg("-w")
        .arg(&wav)
        .arg(text)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIP: espeak-ng not available");
        return None;
    }
    let ok = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(&wav)
        .args(["-ar", "48000", "-ac", "2", "-f", "s16le"])
        .arg(&raw)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIP: ffmpeg not available");
        return None;
    }
    let bytes = std::fs::read(&raw).ok()?;
    let left: Vec<i16> = bytes
        .chunks_exact(4)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let first = left.iter().position(|x| x.unsigned_abs() > 500)?;
    let last = left.iter().rposition(|x| x.unsigned_abs() > 500)?;
    Some((raw, (last - first) as u64 * 1000 / 48_000))
}

/// CPU time (user + system) of process `pid`, or of its threads named
/// `thread`, from /proc, in milliseconds (0 where /proc is unreadable).
fn cpu_ms(pid: u32, thread: Option<&str>) -> u64 {
    fn ticks(stat: &str) -> u64 {
        // Fields after the parenthesised name: utime is the 12th, stime
        // the 13th (man 5 proc), in clock ticks (100 per second).
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        n(11) + n(12)
    }
    let total = match thread {
        None => ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default()),
        Some(name) => std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|d| {
                d.flatten()
                    .filter(|t| {
                        std::fs::read_to_string(t.path().join("comm"))
                            .is_ok_and(|c| c.trim() == name)
                    })
                    .map(|t| {
                        ticks(&std::fs::read_to_string(t.path().join("stat")).unwrap_or_default())
                    })
                    .sum()
            })
            .unwrap_or(0),
    };
    total * 10
}

/// Issue 17 §2 against an independent sender: @discordjs/voice (Opus from
/// opusscript, DAVE from davey) says an espeak-ng sentence as Carol; mediad
/// DAVE-decrypts, decodes, runs the VAD and segments it, and reports Carol
/// speaking, then one utterance of about the sentence's length as 16 kHz
/// PCM, then not speaking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mediad_hears_what_discordjs_says() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((raw, span_ms)) = spoken_raw(
        dir.path(),
        "agent, look at my screen and tell me what you see",
    ) else {
        return;
    };
    let SimMediad {
        dir,
        mediad,
        sim,
        conn,
    } = SimMediad::start_in(dir, "dave").await;
    let from_mediad = drain(conn.receiver);
    let carol = user_id("carol");
    let mut agent = agent_user(&sim).await;
    hand_voice_to_mediad(&mut agent, &conn.sender).await;
    let mut carol_gw = SimUser::connect(&sim.gateway_url(), CAROL_TOKEN, sim.ca_pem()).await;
    let grant = carol_gw.join_voice().await;
    let cfg = json!({
        "guild_id": grant.guild_id.0.to_string(),
        "channel_id": grant.channel_id.0.to_string(),
        "user_id": carol.to_string(),
        "session_id": grant.session_id.expose(),
        "endpoint": grant.endpoint,
        "token": grant.token.expose(),
        "duration_ms": 50_000,
        "play_raw": raw.to_str().expect("utf-8 path"),
        // After the DAVE group has settled.
        "play_delay_ms": 3000,
    });
    let mut peer = NodePeer::start(dir.path(), sim.ca_file(), &cfg);
    let pid = mediad.child.id();
    wait_peer(&peer, &mediad, "the peer starts speaking", || {
        let hit = peer.last("playing");
        async move { hit }
    })
    .await;
    let (cpu0, listen0, t0) = (
        cpu_ms(pid, None),
        cpu_ms(pid, Some("voice-listen")),
        std::time::Instant::now(),
    );
    let utterance = wait_peer(&peer, &mediad, "mediad reports carol's utterance", || {
        let u = lock(&from_mediad).iter().find_map(|m| match m {
            MediadMsg::UserUtterance(u) if u.user_id.0 == carol => Some(u.clone()),
            _ => None,
        });
        async move { u }
    })
    .await;
    // The end of speech follows the utterance.
    wait_peer(&peer, &mediad, "carol stops speaking", || {
        let stopped = lock(&from_mediad)
            .iter()
            .any(|m| matches!(m, MediadMsg::UserSpeech(s) if s.user_id.0 == carol && !s.speaking));
        async move { stopped.then_some(()) }
    })
    .await;
    let carol_msgs: Vec<String> = lock(&from_mediad)
        .iter()
        .filter_map(|m| match m {
            MediadMsg::UserSpeech(s) if s.user_id.0 == carol => {
                Some(format!("speech {}", s.speaking))
            }
            MediadMsg::UserUtterance(u) if u.user_id.0 == carol => {
                Some(format!("utterance {} ms", u.duration_ms))
            }
            _ => None,
        })
        .collect();
    let wall = t0.elapsed();
    eprintln!("speech span {span_ms} ms; mediad: {carol_msgs:?}");
    // Whole mediad (all streams of the room, DAVE, both sockets) and its
    // voice-listen thread, over the sentence (/proc ticks: ±10 ms).
    eprintln!(
        "mediad CPU over {wall:?} of the sentence: {} ms process, {} ms voice-listen thread",
        cpu_ms(pid, None) - cpu0,
        cpu_ms(pid, Some("voice-listen")) - listen0
    );
    assert_eq!(
        carol_msgs,
        vec![
            "speech true".to_string(),
            format!("utterance {} ms", utterance.duration_ms),
            "speech false".to_string()
        ]
    );
    assert_eq!(utterance.pcm.len() as u32, utterance.duration_ms * 32);
    let ms = u64::from(utterance.duration_ms);
    assert!(
        ms * 10 >= span_ms * 8 && ms <= span_ms + 700,
        "utterance {ms} ms vs speech {span_ms} ms"
    );
    // Not silence: the 16 kHz PCM carries the speech's energy.
    let samples: Vec<f64> = utterance
        .pcm
        .chunks_exact(2)
        .map(|c| f64::from(i16::from_le_bytes([c[0], c[1]])) / 32768.0)
        .collect();
    let rms = (samples.iter().map(|s| s * s).sum::<f64>() / samples.len() as f64).sqrt();
    assert!(rms > 0.02, "utterance rms {rms}");
    assert!(!peer.named("played").is_empty(), "{}", peer.describe());
    let s = voice_session(&sim, carol).expect("carol's session");
    assert!(
        s.dave_encrypted_frames_sent > 0 || s.rtp_received > 0,
        "{s:?}"
    );
    peer.stop().await.expect("peer exits after stdin closes");
    drop(carol_gw);
    drop(agent);
    sim.shutdown().await;
}
