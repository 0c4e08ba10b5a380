//! What bench-share measures besides requests: process and machine CPU,
//! peak RSS, the decode floor of the same frames, percentiles.

#![allow(unused_imports)]
use super::*;

pub(crate) use e2e::bench_arg as arg;

/// CPU seconds of a process from /proc/<pid>/stat: (user, system,
/// reaped children user + system).
pub fn proc_cpu(pid: u32) -> (f64, f64, f64) {
    let ticks = 100.0; // CLK_TCK on Linux
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0.0) / ticks;
    (at(11), at(12), at(13) + at(14))
}

/// CPU seconds the hypervisor gave to others while this VM wanted to run
/// (/proc/stat steal, all cores).
pub fn machine_steal() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    stat.lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .nth(8)
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 100.0
}

/// Busy CPU seconds of the whole machine (all cores) from /proc/stat.
pub fn machine_busy() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    // user nice system idle iowait irq softirq steal
    let at = |i: usize| f.get(i).copied().unwrap_or(0.0);
    (at(0) + at(1) + at(2) + at(5) + at(6) + at(7)) / 100.0
}

/// Peak RSS of a process in MB.
pub fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// CPU time of the calling thread in nanoseconds (schedstat, ns precision).
pub fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// One voice channel with `users` members plus the bot account.
/// CPU seconds per frame of one thread, in this process.
///
/// The floor (`total`): base64 decode of the request's `dataBase64` plus
/// the 1/8-scale grey decode and luma grid (one reused decompressor), and
/// its two parts. The base64 step is timed with two decoders, the `base64`
/// crate and the SIMD one control uses (`share_core::decode_capped`), and
/// the faster counts: the floor is the cheapest known way to do the work. Then control's handler steps, run here the way
/// `control::http::share_frame` runs them (`share_core::FrameBody::parse`,
/// `FrameBody::decode`, `JpegGridScorer::score` with the worker thread's
/// kept decompressor): what control's CPU
/// per frame costs beyond them is HTTP, the runtime, the kernel and the
/// watch manager.
pub struct Floor {
    pub total: f64,
    /// The same work as `total` (SIMD base64), the mean of all its rounds
    /// rather than the fastest.
    pub total_mean: f64,
    pub base64: f64,
    /// The `base64` crate's standard engine alone, for comparison.
    pub base64_crate: f64,
    pub decode: f64,
    pub handler_parse: f64,
    pub handler_b64: f64,
    pub handler_score: f64,
}

impl Floor {
    /// Per measurement, the lower of two.
    pub fn min(&self, o: &Floor) -> Floor {
        Floor {
            total: self.total.min(o.total),
            total_mean: self.total_mean.min(o.total_mean),
            base64: self.base64.min(o.base64),
            base64_crate: self.base64_crate.min(o.base64_crate),
            decode: self.decode.min(o.decode),
            handler_parse: self.handler_parse.min(o.handler_parse),
            handler_b64: self.handler_b64.min(o.handler_b64),
            handler_score: self.handler_score.min(o.handler_score),
        }
    }

    pub fn handler(&self) -> f64 {
        self.handler_parse + self.handler_b64 + self.handler_score
    }
}

/// The `dataBase64` texts of the request bodies.
pub fn floor_texts(bodies: &[Vec<u8>]) -> anyhow::Result<Vec<String>> {
    bodies
        .iter()
        .map(|b| {
            let v: Value = serde_json::from_slice(b).context("a frame body")?;
            v["dataBase64"]
                .as_str()
                .map(str::to_owned)
                .context("a frame body without dataBase64")
        })
        .collect()
}

/// Control's base64 step (the bodies were checked to decode before any
/// timing, so a failure here cannot happen; it would decode nothing).
fn simd_b64(t: &str) -> Vec<u8> {
    match share_core::decode_capped(t.as_bytes(), usize::MAX) {
        Ok(share_core::DecodedFrame::Bytes(b)) => b,
        _ => Vec::new(),
    }
}

/// One pass of the floor's work over every frame on the calling thread
/// (control's SIMD base64, then the 1/8-scale decode and grid with a kept
/// decompressor, warmed on the first frames): (CPU ns, frames).
pub fn floor_pass(texts: &[String]) -> anyhow::Result<(u64, u64)> {
    let mut scorer = video_pipeline::JpegGridScorer::new().context("scorer")?;
    for t in texts.iter().take(3) {
        scorer
            .score(&simd_b64(t))
            .context("a frame that does not score")?;
    }
    let t0 = thread_cpu_ns();
    for t in texts {
        let _ = std::hint::black_box(scorer.score(&simd_b64(t)));
    }
    Ok((thread_cpu_ns() - t0, texts.len() as u64))
}

/// Every body checked once before anything is timed: it parses, its
/// base64 decodes with both decoders to the same bytes, and the picture
/// scores. The timed loops then only repeat work known to succeed.
pub fn measure_floor(bodies: &[Vec<u8>]) -> anyhow::Result<Floor> {
    let texts = floor_texts(bodies)?;
    let b64 = |t: &String| base64::engine::general_purpose::STANDARD.decode(t);
    let simd = |t: &String| simd_b64(t);
    let jpegs: Vec<Vec<u8>> = texts
        .iter()
        .map(|t| b64(t).context("base64"))
        .collect::<anyhow::Result<_>>()?;
    let parsed: Vec<share_core::FrameBody<'_>> = bodies
        .iter()
        .map(|b| {
            share_core::FrameBody::parse(b, u64::MAX).map_err(|r| anyhow::anyhow!("{}", r.reason()))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut scorer = video_pipeline::JpegGridScorer::new().context("scorer")?;
    let mut handler_scorer = video_pipeline::JpegGridScorer::new().context("scorer")?;
    for (t, j) in texts.iter().zip(&jpegs) {
        anyhow::ensure!(simd(t) == *j, "the two base64 decoders disagree");
        scorer.score(j).context("a frame that does not score")?;
    }
    let n = texts.len();
    // Eight rounds of every measurement, interleaved, each over every
    // frame and >= 0.15 s of CPU; per measurement the fastest round counts
    // (the others met more interference from whatever else ran).
    let round = |f: &mut dyn FnMut(usize)| -> f64 {
        let t0 = thread_cpu_ns();
        let mut k = 0usize;
        while k < n || thread_cpu_ns() - t0 < 150_000_000 {
            f(k % n);
            k += 1;
        }
        (thread_cpu_ns() - t0) as f64 / 1e9 / k as f64
    };
    let mut best = [f64::INFINITY; 8];
    let mut simd_total_sum = 0.0;
    for _ in 0..8 {
        let times = [
            round(&mut |i| {
                let jpeg = b64(&texts[i]).unwrap_or_default();
                let _ = std::hint::black_box(scorer.score(&jpeg));
            }),
            round(&mut |i| {
                let jpeg = simd(&texts[i]);
                let _ = std::hint::black_box(scorer.score(&jpeg));
            }),
            round(&mut |i| {
                let _ = std::hint::black_box(b64(&texts[i]));
            }),
            round(&mut |i| {
                let _ = std::hint::black_box(simd(&texts[i]));
            }),
            round(&mut |i| {
                let _ = std::hint::black_box(scorer.score(&jpegs[i]));
            }),
            round(&mut |i| {
                let _ = std::hint::black_box(share_core::FrameBody::parse(&bodies[i], u64::MAX));
            }),
            round(&mut |i| {
                let _ = std::hint::black_box(parsed[i].decode(usize::MAX));
            }),
            round(&mut |i| {
                let _ = std::hint::black_box(handler_scorer.score(&jpegs[i]));
            }),
        ];
        simd_total_sum += times[1];
        for (b, t) in best.iter_mut().zip(times) {
            *b = b.min(t);
        }
    }
    let [
        total_crate,
        total_simd,
        base64_crate,
        base64_simd,
        decode,
        handler_parse,
        handler_b64,
        handler_score,
    ] = best;
    Ok(Floor {
        total: total_crate.min(total_simd),
        total_mean: simd_total_sum / 8.0,
        base64: base64_crate.min(base64_simd),
        base64_crate,
        decode,
        handler_parse,
        handler_b64,
        handler_score,
    })
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

pub fn print_floor(f: &Floor) {
    println!(
        "    floor, mean of its 8 rounds rather than the fastest: {:.3} ms",
        f.total_mean * 1000.0
    );
    println!(
        "    floor {:.3} ms: base64 {:.3} (the base64 crate: {:.3}) + 1/8 decode and grid {:.3} ms (one thread, this process)",
        f.total * 1000.0,
        f.base64 * 1000.0,
        f.base64_crate * 1000.0,
        f.decode * 1000.0
    );
    println!(
        "    control's handler steps run here: {:.3} ms = parse {:.3} + base64 {:.3} + score {:.3}",
        f.handler() * 1000.0,
        f.handler_parse * 1000.0,
        f.handler_b64 * 1000.0,
        f.handler_score * 1000.0
    );
}
