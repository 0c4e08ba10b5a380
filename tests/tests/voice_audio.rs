//! mediad speaks (issue 17 §1), end to end with the real binary driven over
//! IPC (the test stands in for control) against an in-process discord-sim,
//! without any Node peer: the sim counts the agent's audio packets on its
//! SSRC with the Opus payload type and its op 5 messages. Measured and
//! printed: the time from the first `VoicePlay` chunk to `Started`, and from
//! `VoiceCancel` to `Cancelled`. (The independent decoder of the same audio
//! is in `peer_discordjs.rs`.)

use std::time::{Duration, Instant};

use e2e::sim_mediad::{AgentMediad, T, hand_voice_to_mediad, tone_chunks};
use ipc_schema::*;

struct Rig {
    m: AgentMediad,
}

impl Rig {
    async fn until<R>(&mut self, what: &str, mut pred: impl FnMut(&MediadMsg) -> Option<R>) -> R {
        let deadline = tokio::time::Instant::now() + T;
        loop {
            let msg = self.m.recv_before(deadline, || what.to_owned()).await;
            if let Some(r) = pred(&msg) {
                return r;
            }
        }
    }

    async fn playback(&mut self, id: u64, want: fn(&PlaybackState) -> bool) -> PlaybackEvent {
        self.until(&format!("playback of {id}"), |m| match m {
            MediadMsg::Playback(p) if p.id.0 == id && want(&p.state) => Some(p.clone()),
            _ => None,
        })
        .await
    }

    fn agent_session(&self) -> sim_media_server::SessionReport {
        let me = self.m.user.user_id;
        self.m
            .sim
            .voice()
            .report()
            .sessions
            .into_iter()
            .find(|s| s.user_id == me && s.connected)
            .expect("the agent's voice session")
    }
}

/// 100 ms chunks of a 300 Hz tone, 48 kHz mono s16le.
fn chunks(id: u64, ms: usize) -> Vec<ControlMsg> {
    tone_chunks(id, ms, 300.0, 6000.0)
}

async fn speaks_paced_and_stops_on_cancel(scenario: &str) {
    let mut rig = Rig {
        m: AgentMediad::start(scenario).await,
    };
    // No voice connection yet: refused with a reason, once per utterance.
    for m in chunks(1, 300) {
        rig.m.send(m);
    }
    let refused = rig.playback(1, |_| true).await;
    assert_eq!(
        refused.state,
        PlaybackState::Failed("no voice connection".into())
    );

    hand_voice_to_mediad(&mut rig.m.user, &rig.m.conn.sender).await;
    rig.until("voice ready", |m| match m {
        MediadMsg::TransportState(s)
            if s.role == TransportRole::Voice && s.status == TransportStatus::Ready =>
        {
            Some(())
        }
        _ => None,
    })
    .await;
    // Let DAVE settle where the room has it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rig.agent_session();

    // 1. One second of audio.
    let t0 = Instant::now();
    for m in chunks(2, 1000) {
        rig.m.send(m);
    }
    rig.playback(2, |s| *s == PlaybackState::Started).await;
    let to_first = t0.elapsed();
    let done = rig.playback(2, |s| *s != PlaybackState::Started).await;
    let took = t0.elapsed();
    assert_eq!(done.state, PlaybackState::Finished);
    assert_eq!(done.played_ms, 1000);
    assert!(
        took >= Duration::from_millis(1050) && took < Duration::from_millis(1800),
        "50 audio + 5 silence frames paced in real time: {took:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = rig.agent_session();
    let audio = after.audio_received - before.audio_received;
    assert_eq!(
        audio, 55,
        "50 audio frames + 5 silence frames reached the sim"
    );
    let op5 = after.ops_received.get(&5).copied().unwrap_or(0)
        - before.ops_received.get(&5).copied().unwrap_or(0);
    assert_eq!(op5, 2, "op 5 speaking on, then off");
    assert_eq!(after.decrypt_failures, 0);

    // 2. Barge-in: 3 s cancelled after 300 ms.
    for m in chunks(3, 3000) {
        rig.m.send(m);
    }
    rig.playback(3, |s| *s == PlaybackState::Started).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let c0 = Instant::now();
    rig.m.send(ControlMsg::VoiceCancel { id: UtteranceId(3) });
    let cancelled = rig.playback(3, |s| *s != PlaybackState::Started).await;
    let to_cancel = c0.elapsed();
    assert_eq!(cancelled.state, PlaybackState::Cancelled);
    assert!((200..=500).contains(&cancelled.played_ms), "{cancelled:?}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let end = rig.agent_session();
    let sent = end.audio_received - after.audio_received;
    let frames = u64::from(cancelled.played_ms / 20);
    assert!(
        sent >= frames + 5 && sent <= frames + 6,
        "{sent} packets for {frames} frames played (+5 silence)"
    );
    eprintln!(
        "{scenario}: first VoicePlay chunk → Started {to_first:?}; VoiceCancel → Cancelled {to_cancel:?}; 1 s utterance finished after {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mediad_speaks_in_a_dave_room() {
    speaks_paced_and_stops_on_cancel("dave").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mediad_speaks_in_a_transport_only_room() {
    speaks_paced_and_stops_on_cancel("demo").await;
}
