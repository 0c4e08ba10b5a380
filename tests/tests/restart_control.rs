//! Either daemon can be restarted without losing the other's work (issue
//! 16 §1): control killed (SIGKILL) or stopped (SIGTERM) ten times in the
//! middle of a native Go Live watch comes back each time with the same
//! watch id, rejoins voice under its new gateway session, and frames flow
//! again; a share link opened before the first restart keeps accepting
//! frames across all of them.

use std::time::{Duration, Instant};

use base64::Engine;
use e2e::stack::{SERIAL, Stack};
use e2e::watch_http::checkerboard_jpeg;
use e2e::*;
use serde_json::{Value, json};

const GUILD: &str = "900000000000000001";
const ALICE: &str = "900000000000000101";
const BOB: &str = "900000000000000102";
const CYCLES: usize = 10;

fn frame_body() -> Value {
    let img = checkerboard_jpeg(320, 180, 20, 90);
    json!({
        "mimeType": "image/jpeg",
        "dataBase64": base64::engine::general_purpose::STANDARD.encode(img),
        "source": "test",
    })
}

fn native_watch(state: &Value) -> Option<&Value> {
    state["watches"]
        .as_array()?
        .iter()
        .find(|w| w["transport"] == json!("native"))
}

async fn frames_of_native(s: &Stack) -> Option<(Value, u64, bool)> {
    let v = s.state().await;
    let w = native_watch(&v)?;
    Some((
        w["watchId"].clone(),
        w["frames"].as_u64().unwrap_or(0),
        w["frameReady"] == json!(true),
    ))
}

async fn cycles(graceful: bool) {
    let _serial = SERIAL.lock().await;
    let mut s = Stack::start("demo", "sim-user-agent", &[]).await;
    // A native watch of Alice for Bob, and a share link for Bob himself.
    let r = s.start_watch(BOB, Some("alice")).await;
    assert_eq!(r["transport"], json!("native"), "{r}");
    let id = r["watchId"].clone();
    s.frame_ready().await;
    let link = s
        .watch(json!({"action": "start", "guildId": GUILD, "requesterId": ALICE, "target": BOB, "preferredTransport": "link"}))
        .await;
    assert_eq!(link["transport"], json!("link"), "{link}");
    let token = link["linkUrl"]
        .as_str()
        .expect("link url")
        .rsplit('/')
        .next()
        .expect("token")
        .to_owned();
    let frame_path = format!("/api/voice/share-session/{token}/frame");
    let body = frame_body();
    for cycle in 1..=CYCLES {
        if graceful {
            s.terminate_and_restart_control().await;
        } else {
            s.restart_control().await;
        }
        let back = Instant::now();
        // The same watch, frames flowing again.
        let (_, before, _) = wait_for(
            Duration::from_secs(20),
            "the native watch is back",
            || async { frames_of_native(&s).await.filter(|(w, _, _)| *w == id) },
        )
        .await;
        wait_for(Duration::from_secs(20), "frames flow again", || async {
            frames_of_native(&s)
                .await
                .filter(|(_, n, ready)| *ready && *n > before + 2)
                .map(|_| ())
        })
        .await;
        eprintln!(
            "cycle {cycle}: watch {id} back with frames {:?} after control came back",
            back.elapsed()
        );
        // The link still takes frames.
        let (status, v) = http(&s.http, "POST", &frame_path, Some(&body))
            .await
            .expect("control answers");
        assert_eq!(
            (status, v["accepted"].clone()),
            (200, json!(true)),
            "cycle {cycle}: {v}"
        );
    }
    let log = s.log();
    assert!(log.contains("screen_watch_resumed"), "resumes are logged");
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_native_watch_survives_ten_control_crashes() {
    cycles(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_native_watch_survives_ten_graceful_control_restarts() {
    cycles(true).await;
}

/// A transport mediad kept for a watch that control no longer has (its
/// record removed while control was down) is closed with a reason once the
/// adoption window is over, and so is the subscription; control does not
/// leave mediad decoding frames nobody uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transports_no_watch_wants_are_closed_after_the_adoption_window() {
    let _serial = SERIAL.lock().await;
    let mut s = Stack::start("demo", "sim-user-agent", &[]).await;
    let r = s.start_watch(BOB, Some("alice")).await;
    assert_eq!(r["transport"], json!("native"), "{r}");
    s.frame_ready().await;
    s.restart_control_after(|data_dir| {
        let conn = rusqlite::Connection::open(data_dir.join("control.sqlite3")).expect("store");
        let n = conn.execute("DELETE FROM watches", []).expect("delete");
        assert_eq!(n, 1, "the watch was stored");
    })
    .await;
    let stream_held = |media: &Value| {
        media["mediad"]["transports"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["role"] == json!("stream_watch")))
    };
    // Adopted at first: mediad still holds the stream transport.
    let media = get_json(&s.http, "/api/media/state").await;
    assert!(stream_held(&media), "adopted: {media}");
    let t0 = Instant::now();
    wait_for(
        Duration::from_secs(30),
        "the orphaned stream transport closed",
        || async {
            let media = get_json(&s.http, "/api/media/state").await;
            (!stream_held(&media)).then_some(())
        },
    )
    .await;
    eprintln!("orphan closed {:?} after control was back", t0.elapsed());
    let log = s.log();
    assert!(
        log.contains("orphaned_transport_closed"),
        "logged with its reason"
    );
    assert!(log.contains("orphaned_after_control_restart"));
    assert_eq!(s.state().await["watches"], json!([]));
    s.sim.shutdown().await;
}
