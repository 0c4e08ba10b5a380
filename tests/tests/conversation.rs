//! Conversation turns end to end: messages addressed to the agent in the
//! sim's text channel (MESSAGE_CREATE) start and stop screen watches and
//! get answers grounded in the screen, posted back through REST.

use std::time::Duration;

use e2e::stack::{SERIAL, Stack};
use e2e::*;
use serde_json::{Value, json};

const AGENT: &str = "900000000000000103";
const GENERAL: &str = "900000000000000010";

/// Messages in the sim's channels, oldest first.
async fn messages(s: &Stack) -> Vec<Value> {
    let v = get_json(&s.sim_admin_addr(), "/admin/messages").await;
    v.as_array()
        .cloned()
        .or_else(|| v["messages"].as_array().cloned())
        .unwrap_or_default()
}

/// Waits for a message by the agent, posted after the first `after`
/// messages, whose content satisfies `ok`.
async fn agent_reply(s: &Stack, after: usize, what: &str, ok: impl Fn(&str) -> bool) -> String {
    wait_for(Duration::from_secs(60), what, || async {
        messages(s)
            .await
            .into_iter()
            .skip(after)
            .filter(|m| m["author_id"].to_string().contains(AGENT))
            .filter_map(|m| m["content"].as_str().map(str::to_owned))
            .find(|c| ok(c))
    })
    .await
}

/// An offline answer read from a frame (commentary lines look different:
/// "New on screen: …", "The screen changed …").
fn is_screen_reading(content: &str) -> bool {
    content.contains("Screen text reads") || content.contains("Screen shows no readable text")
}

async fn say(s: &Stack, text: &str) -> usize {
    let before = messages(s).await.len();
    s.action(json!({"action": "post_message", "user": "bob", "channel": GENERAL, "content": text}))
        .await;
    before + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addressed_messages_start_watches_and_get_screen_answers() {
    let _serial = SERIAL.lock().await;
    let s = Stack::start("demo", "sim-user-agent", &[]).await;

    // Not addressed: ignored.
    let n = say(&s, "look at my screen").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        s.state().await["watches"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    assert_eq!(
        messages(&s).await.len(),
        n,
        "no reply to an unaddressed message"
    );

    // "look at alice's screen" → start_screen_watch, and a reply.
    let n = say(&s, &format!("<@{AGENT}> look at alice's screen")).await;
    let reply = agent_reply(&s, n, "the watch reply", |c| c.contains("watching")).await;
    assert!(!reply.contains("/share/"), "{reply}");
    let v = s.state().await;
    assert_eq!(v["watches"][0]["transport"], json!("native"), "{v}");
    s.frame_ready().await;
    wait_for(Duration::from_secs(60), "a screen note", || async {
        let v = s.state().await;
        v["brain"]["notes"]
            .as_array()
            .is_some_and(|n| !n.is_empty())
            .then_some(())
    })
    .await;

    // A question about the screen (brain-core's heuristic): the current
    // frame goes with the turn, and the answer is read from it.
    let n = say(&s, &format!("<@{AGENT}> what is on the screen right now?")).await;
    // (Commentary goes to the same channel: the answer is the message
    // that reads the screen, an offline note.)
    let answer = agent_reply(&s, n, "the screen answer", is_screen_reading).await;
    assert!(s.log().contains("conversation_frame_attached"));
    assert!(
        answer.contains("Screen text reads"),
        "read from the frame: {answer}"
    );

    // A vaguer one: no frame attached, but the model has the snapshot tool
    // (a watch with a recent frame) and uses it.
    let n = say(&s, &format!("<@{AGENT}> look here, what does it say")).await;
    let answer = agent_reply(&s, n, "the tool answer", is_screen_reading).await;
    assert!(
        s.log().contains("see_screenshare_snapshot"),
        "the snapshot tool was used"
    );
    assert!(
        answer.contains("Screen text reads"),
        "read from the snapshot: {answer}"
    );

    // "stop watching" → stop_screen_watch.
    let n = say(&s, "agent, stop watching").await;
    agent_reply(&s, n, "the stop reply", |c| c.contains("stopped")).await;
    assert!(
        s.state().await["watches"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    s.sim.shutdown().await;
}

/// Issue 20 §2: after a watch ends its notes stay in the prompt context,
/// marked inactive, and the "Screen share recap: …" joins the conversation
/// memory, so the next chat turn is answered from them. The old control
/// emptied the notes at stop: the offline model had nothing to answer
/// from ("I'm running without a language model…").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_watch_ends_the_next_turn_sees_its_notes_and_recap() {
    let _serial = SERIAL.lock().await;
    let s = Stack::start("demo", "sim-user-agent", &[]).await;
    let n = say(&s, &format!("<@{AGENT}> look at alice's screen")).await;
    agent_reply(&s, n, "the watch reply", |c| c.contains("watching")).await;
    s.frame_ready().await;
    wait_for(Duration::from_secs(60), "a screen note", || async {
        let v = s.state().await;
        v["brain"]["notes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n.as_str().is_some_and(is_screen_reading)))
            .then_some(())
    })
    .await;
    let n = say(&s, "agent, stop watching").await;
    agent_reply(&s, n, "the stop reply", |c| c.contains("stopped")).await;
    wait_for(Duration::from_secs(60), "the recap", || async {
        let v = s.state().await;
        (!v["brain"]["lastRecap"].is_null()).then_some(())
    })
    .await;
    // The ended watch's notes are kept, marked inactive.
    let v = s.state().await;
    let earlier = &v["brain"]["earlier"];
    assert_eq!(earlier["live"], json!(false), "{v}");
    assert_eq!(earlier["targetName"], json!("alice"), "{v}");
    assert!(
        earlier["promptContext"]
            .as_str()
            .is_some_and(|c| c.contains("Screen text reads")),
        "{v}"
    );
    assert!(v["brain"]["notes"].as_array().is_some_and(Vec::is_empty));

    let n = say(&s, &format!("<@{AGENT}> what did you notice earlier?")).await;
    let answer = agent_reply(&s, n, "the answer from earlier notes", |c| {
        c.starts_with("From my latest screen note") || c.starts_with("I'm running without")
    })
    .await;
    assert!(
        answer.contains("Screen text reads"),
        "answered from the ended watch's notes: {answer}"
    );
    let log = s.log();
    let context = log
        .lines()
        .rfind(|l| l.contains("conversation_context"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        context.contains("earlier_not_live") && context.contains("recap=true"),
        "the turn's request carried the inactive notes and the recap: {context}"
    );
    s.sim.shutdown().await;
}
