//! songbird-peer: an independent voice client for the simulator's tests.
//!
//! songbird's standalone `Driver` (no serenity, no main gateway) joins a
//! voice server with credentials the test obtained from the simulator's
//! main gateway, receives and decodes Opus with songbird's own receive path,
//! and prints one JSON object per line on stdout:
//!
//! - `{"event":"crypto","wanted":..,"chosen":..,"offered":..}` from songbird's
//!   own log line about the negotiated transport encryption mode;
//! - `{"event":"songbird_log","level":"WARN"|"ERROR",..}` for each warning or
//!   error songbird logs;
//! - `{"event":"connected","ssrc":N}` when the driver is connected;
//! - `{"event":"speaking","ssrc":N,"user_id":U}` for each op 5 received;
//! - `{"event":"audio","ssrc":N,"user_id":U|null,...}` per SSRC at the end:
//!   ticks with a packet, ticks with decoded PCM, non-silent decoded frames,
//!   RMS and peak of all decoded samples (full scale 1.0);
//! - `{"event":"done"}`, then exit 0. A failed connection prints
//!   `{"event":"error",..}` and exits 1.
//!
//! Input: one JSON object, as the first argument or on stdin, with
//! `guild_id`, `channel_id`, `user_id` (numbers or decimal strings),
//! `session_id`, `endpoint` (`host:port`), `token`, and optionally `seconds`
//! (how long to listen after connecting, default 5) and `crypto`
//! (`"aes256gcm"` or `"xchacha20"`: songbird's preferred mode).
//!
//! TLS: songbird connects to `wss://{endpoint}/?v=4` with tokio-tungstenite's
//! rustls connector. This crate turns on tokio-tungstenite's
//! `rustls-tls-native-roots` feature next to songbird's webpki roots, so the
//! trusted roots also come from rustls-native-certs, which reads them from
//! the file named by `SSL_CERT_FILE` when that is set. The test sets
//! `SSL_CERT_FILE` to the simulator's CA file; no songbird patch involved.

use std::collections::HashMap;
use std::io::Read;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use songbird::driver::{Channels, CryptoMode, DecodeConfig, DecodeMode, SampleRate};
use songbird::events::{CoreEvent, Event, EventContext, EventHandler};
use songbird::id::{ChannelId, GuildId, UserId};
use songbird::{Config, ConnectionInfo, Driver};
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// A decoded 20 ms frame counts as sound above this RMS (full scale 1.0):
/// about -60 dBFS, well above Opus' decoded silence.
const SOUND_RMS: f64 = 0.001;

fn emit(v: Value) {
    println!("{v}");
}

/// What was received from one SSRC.
#[derive(Default)]
struct SsrcStats {
    user_id: Option<u64>,
    packets: u64,
    decoded_frames: u64,
    sound_frames: u64,
    samples: u64,
    sum_squares: f64,
    peak: f64,
}

#[derive(Default)]
struct State {
    by_ssrc: HashMap<u32, SsrcStats>,
    connected: bool,
}

#[derive(Clone)]
struct Handler(Arc<Mutex<State>>);

#[async_trait]
impl EventHandler for Handler {
    async fn act(&self, ctx: &EventContext<'_>) -> Option<Event> {
        let mut st = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match ctx {
            EventContext::DriverConnect(c) | EventContext::DriverReconnect(c) => {
                st.connected = true;
                emit(json!({"event": "connected", "ssrc": c.ssrc}));
            }
            EventContext::DriverDisconnect(d) => {
                emit(
                    json!({"event": "disconnected", "kind": format!("{:?}", d.kind),
                    "reason": d.reason.map(|r| format!("{r:?}"))}),
                );
            }
            EventContext::SpeakingStateUpdate(s) => {
                let user = s.user_id.map(|u| u.0);
                st.by_ssrc.entry(s.ssrc).or_default().user_id = user;
                emit(json!({"event": "speaking", "ssrc": s.ssrc, "user_id": user,
                    "speaking": s.speaking.bits()}));
            }
            EventContext::ClientDisconnect(c) => {
                emit(json!({"event": "client_disconnect", "user_id": c.user_id.0}));
            }
            EventContext::VoiceTick(tick) => {
                for (ssrc, data) in &tick.speaking {
                    let s = st.by_ssrc.entry(*ssrc).or_default();
                    if data.packet.is_some() {
                        s.packets += 1;
                    }
                    let Some(pcm) = &data.decoded_voice else {
                        continue;
                    };
                    s.decoded_frames += 1;
                    let mut frame_sq = 0.0;
                    for &x in pcm {
                        let v = f64::from(x) / 32768.0;
                        frame_sq += v * v;
                        s.peak = s.peak.max(v.abs());
                    }
                    s.sum_squares += frame_sq;
                    s.samples += pcm.len() as u64;
                    if !pcm.is_empty() && (frame_sq / pcm.len() as f64).sqrt() > SOUND_RMS {
                        s.sound_frames += 1;
                    }
                }
            }
            _ => {}
        }
        None
    }
}

/// Reports songbird's log lines that matter to the test as JSON: the
/// negotiated encryption mode (the driver has no API for it), and every
/// warning or error (a heartbeat ACK with the wrong nonce, a DAVE frame that
/// failed to decrypt, ...).
struct LogLines;

impl<S: tracing::Subscriber> Layer<S> for LogLines {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Msg(String);
        impl tracing::field::Visit for Msg {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" {
                    self.0 = format!("{v:?}{}", self.0);
                } else {
                    self.0 = format!("{} {}={v:?}", self.0, f.name());
                }
            }
        }
        let mut m = Msg(String::new());
        event.record(&mut m);
        let level = *event.metadata().level();
        if level <= Level::WARN {
            emit(json!({"event": "songbird_log", "level": level.as_str(),
                "target": event.metadata().target(), "message": m.0}));
            return;
        }
        // "Crypto scheme negotiation -- wanted X. Chose Y from modes [..]."
        let Some(rest) = m.0.strip_prefix("Crypto scheme negotiation -- wanted ") else {
            return;
        };
        let (wanted, rest) = rest.split_once(". Chose ").unwrap_or((rest, ""));
        let (chosen, offered) = rest.split_once(" from modes ").unwrap_or((rest, ""));
        emit(
            json!({"event": "crypto", "wanted": wanted, "chosen": chosen,
            "offered": offered.trim_end_matches('.')}),
        );
    }
}

fn id(v: &Value, key: &str) -> Result<NonZeroU64, String> {
    let n = match &v[key] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    n.and_then(NonZeroU64::new)
        .ok_or_else(|| format!("{key}: a non-zero id is required"))
}

fn text(v: &Value, key: &str) -> Result<String, String> {
    v[key]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{key}: a string is required"))
}

struct Args {
    info: ConnectionInfo,
    listen: Duration,
    crypto: CryptoMode,
}

fn parse_args() -> Result<Args, String> {
    let raw = match std::env::args().nth(1) {
        Some(a) => a,
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("stdin: {e}"))?;
            s
        }
    };
    let v: Value = serde_json::from_str(&raw).map_err(|e| format!("input JSON: {e}"))?;
    let info = ConnectionInfo {
        channel_id: ChannelId::from(id(&v, "channel_id")?),
        endpoint: text(&v, "endpoint")?,
        guild_id: GuildId::from(id(&v, "guild_id")?),
        session_id: text(&v, "session_id")?,
        token: text(&v, "token")?,
        user_id: UserId::from(id(&v, "user_id")?),
    };
    let crypto = match v["crypto"].as_str() {
        None | Some("aes256gcm") => CryptoMode::Aes256Gcm,
        Some("xchacha20") => CryptoMode::XChaCha20Poly1305,
        Some(other) => return Err(format!("crypto: unknown mode {other}")),
    };
    let listen = Duration::from_secs_f64(v["seconds"].as_f64().unwrap_or(5.0).clamp(0.0, 600.0));
    Ok(Args {
        info,
        listen,
        crypto,
    })
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            emit(json!({"event": "error", "stage": "input", "error": e}));
            std::process::exit(2);
        }
    };
    // Human-readable songbird logs on stderr (RUST_LOG, default info).
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(
                    EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| EnvFilter::new("songbird=info")),
                ),
        )
        .with(LogLines.with_filter(Targets::new().with_target("songbird", Level::INFO)))
        .init();

    let config = Config::default()
        .crypto_mode(args.crypto)
        .decode_mode(DecodeMode::Decode(DecodeConfig::new(
            Channels::Stereo,
            SampleRate::Hz48000,
        )));
    let mut driver = Driver::new(config);
    let state = Handler(Arc::new(Mutex::new(State::default())));
    for ev in [
        CoreEvent::DriverConnect,
        CoreEvent::DriverReconnect,
        CoreEvent::DriverDisconnect,
        CoreEvent::SpeakingStateUpdate,
        CoreEvent::ClientDisconnect,
        CoreEvent::VoiceTick,
    ] {
        driver.add_global_event(Event::Core(ev), state.clone());
    }

    let connect = tokio::time::timeout(Duration::from_secs(30), driver.connect(args.info)).await;
    match connect {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            emit(json!({"event": "error", "stage": "connect", "error": format!("{e:?}")}));
            std::process::exit(1);
        }
        Err(_) => {
            emit(json!({"event": "error", "stage": "connect", "error": "timed out after 30 s"}));
            std::process::exit(1);
        }
    }
    tokio::time::sleep(args.listen).await;
    driver.leave();

    let st = state.0.lock().unwrap_or_else(|e| e.into_inner());
    let mut ssrcs: Vec<_> = st.by_ssrc.iter().collect();
    ssrcs.sort_by_key(|(ssrc, _)| **ssrc);
    for (ssrc, s) in ssrcs {
        let rms = if s.samples == 0 {
            0.0
        } else {
            (s.sum_squares / s.samples as f64).sqrt()
        };
        emit(json!({"event": "audio", "ssrc": ssrc, "user_id": s.user_id,
            "packets": s.packets, "decoded_frames": s.decoded_frames,
            "sound_frames": s.sound_frames, "samples": s.samples,
            "rms": rms, "peak": s.peak}));
    }
    emit(json!({"event": "done", "connected": st.connected}));
}
