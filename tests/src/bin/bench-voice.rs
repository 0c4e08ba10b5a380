//! `scripts/bench-voice`: the spoken path measured end to end with the
//! offline providers (pocketsphinx, espeak-ng, the offline model), real
//! binaries and the in-process simulator.
//!
//! * Latency from the end of a user's utterance (the sim's last voiced
//!   packet of Bob's line) to the agent's first audio packet (the sim's
//!   recording of the agent starts), over `--utterances N` (default 20)
//!   lines, for a command turn ("agent, stop watching": no model call) and
//!   a chat turn ("agent, how are you": one offline model call); side by
//!   side with the baseline, the same command typed as a text message
//!   (post → the agent's reply posted, no speech at all).
//! * Speech to text time per utterance (control's `voice_transcript` log).
//! * mediad's CPU per second of received speech: its CPU time while the
//!   lines are said and answered, minus its idle rate (measured first, the
//!   agent in voice and nobody speaking), over the seconds of speech
//!   received.

use std::time::{Duration, Instant};

use e2e::stack::Stack;
use e2e::voice::*;
use e2e::{bench_arg, get_json, proc_cpu_seconds};
use serde_json::json;

const GENERAL: &str = "900000000000000010";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn row(name: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    println!(
        "{name:<58} {:>5} {:>8.0} {:>8.0} {:>8.0}",
        v.len(),
        percentile(&v, 0.5),
        percentile(&v, 0.99),
        v.last().copied().unwrap_or(f64::NAN)
    );
}

/// Says `line` as Bob `n` times; the latency of each answer (ms) and the
/// seconds of speech said.
async fn spoken(s: &Stack, line: &str, n: u64) -> (Vec<f64>, f64) {
    let mut lat = Vec::new();
    let mut speech_s = 0.0;
    for _ in 0..n {
        let said = say(s, "bob", line).await;
        speech_s += said.duration_ms as f64 / 1000.0;
        let rec = agent_recording_after(s, said.end_ms, Duration::from_secs(60)).await;
        let first = rec["started_unix_ms"].as_u64().unwrap_or(0);
        lat.push(first as f64 - said.end_ms as f64);
        // The answer has been recorded to its end: the next line.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    (lat, speech_s)
}

/// The same command typed: post → the agent's reply in the channel (ms).
async fn typed(s: &Stack, n: u64) -> Vec<f64> {
    let mut lat = Vec::new();
    for _ in 0..n {
        let before = messages(s).await;
        let t0 = Instant::now();
        s.action(
            json!({"action": "post_message", "user": "bob", "channel": GENERAL,
                        "content": format!("<@{AGENT}> stop watching")}),
        )
        .await;
        loop {
            let now = messages(s).await;
            if now > before + 1 {
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "no typed reply");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    lat
}

async fn messages(s: &Stack) -> usize {
    let v = get_json(&s.sim_admin_addr(), "/admin/messages").await;
    v.as_array()
        .or_else(|| v["messages"].as_array())
        .map_or(0, Vec::len)
}

/// `stt_ms=` of control's `voice_transcript` lines.
fn stt_times(log: &str) -> Vec<f64> {
    log.lines()
        .filter(|l| l.contains("voice_transcript"))
        .filter_map(|l| l.split("stt_ms=").nth(1))
        .filter_map(|r| r.split_whitespace().next()?.parse().ok())
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = bench_arg("--utterances", 20);
    let idle_s = bench_arg("--idle-seconds", 10);
    // The offline model whatever the caller's environment holds.
    let s = Stack::start_scenario(
        talk_scenario(false),
        "sim-user-agent",
        &["--voice-channel", HOME_VOICE],
        &[
            ("ANTHROPIC_API_KEY", ""),
            ("OPENAI_API_KEY", ""),
            ("XAI_API_KEY", ""),
            ("OPENAI_COMPATIBLE_BASE_URL", ""),
            ("STT_PROVIDER", "offline"),
            ("TTS_PROVIDER", "offline"),
        ],
    )
    .await;
    let t0 = Instant::now();
    while !s.voice_ready().await {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the agent never joined voice"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mediad = s.mediad_pid();
    // Idle: in voice, nobody speaking.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let c0 = proc_cpu_seconds(mediad);
    tokio::time::sleep(Duration::from_secs(idle_s)).await;
    let idle_rate = (proc_cpu_seconds(mediad) - c0) / idle_s as f64;
    // Warm-up (the recognizer's model files into the page cache).
    spoken(&s, "agent, stop watching", 1).await;

    let c1 = proc_cpu_seconds(mediad);
    let w1 = Instant::now();
    let (command, speech_a) = spoken(&s, "agent, stop watching", n).await;
    let (chat, speech_b) = spoken(&s, "agent, how are you", n).await;
    let cpu = proc_cpu_seconds(mediad) - c1;
    let wall = w1.elapsed().as_secs_f64();
    let speech_s = speech_a + speech_b;
    let baseline = typed(&s, n).await;
    let stt = stt_times(&s.log());

    println!(
        "bench-voice: {n} utterances per row, offline providers (pocketsphinx, espeak-ng, offline model)"
    );
    println!(
        "{:<58} {:>5} {:>8} {:>8} {:>8}",
        "end of the user's turn → the agent's first audio (ms)", "n", "p50", "p99", "max"
    );
    row("spoken \"agent, stop watching\" (no model call)", command);
    row("spoken \"agent, how are you\" (offline model)", chat);
    row(
        "baseline: typed \"@agent stop watching\" → reply posted",
        baseline,
    );
    row("speech to text per utterance (control log)", stt);
    let per_speech = (cpu - idle_rate * wall).max(0.0) / speech_s;
    println!(
        "mediad CPU: idle {:.1} ms/s; while hearing {:.1} s of speech and answering it: {:.0} ms total over {:.1} s \
         → {:.1} ms CPU per second of received speech (idle rate subtracted; includes encoding the replies)",
        idle_rate * 1000.0,
        speech_s,
        cpu * 1000.0,
        wall,
        per_speech * 1000.0
    );
}
