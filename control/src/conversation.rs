//! Conversation turns: text messages addressed to the agent in a guild
//! (a mention or its name first, see `brain_core::addressed_text`), and
//! spoken ones: transcripts of users' utterances (`crate::voice`) that start
//! with the agent's name ("agent, look at my screen"). Both take exactly the
//! same path below; a text turn is answered in its channel, a spoken turn
//! is answered aloud (setting `spokenReplies`).
//!
//! * "look at my screen" / "watch Alice's screen" → `start_screen_watch`
//!   (the same function as the HTTP API and the CLI); the reply says what
//!   happened and never contains a share URL (the offer message is posted
//!   by the watch manager).
//! * "stop watching" → `stop_screen_watch`.
//! * anything else → one LLM turn with the screen notes (live, or an ended
//!   watch's marked "earlier notes only, not live"), the session summary
//!   and the recent conversation (`brain_core::chat_prompt`). The current frame is attached when the turn is about the
//!   screen (`brain_core::is_screen_question`); the `see_screenshare_snapshot`
//!   tool (the latest frame) is offered only while a watch has a frame at
//!   most [`RECENT_FRAME`] old, and `start_screen_watch` is always offered.
//!   At most [`MAX_TOOL_ROUNDS`] tool rounds, then the reply is posted.
//!
//! Each turn runs on its own task: a slow model never delays the gateway
//! or the next message. While a turn is being answered the brain defers
//! autonomous commentary (`BrainHandle::turn_started`).

use std::sync::Arc;
use std::time::Duration;

use brain_core::TurnIntent;
use gateway_proto::{ChannelId, Dispatch, GuildId, MessageCreate, User, UserId};
use llm::{Message, Part, Provider, Request, RequestKind, Role, ToolCall, ToolSpec};
use serde_json::json;
use watch_core::Place;

use crate::brain::BrainHandle;
use crate::discord::rest::RestClient;
use crate::discord::{GatewayEvent, GatewayHandle};
use crate::voice::{Heard, VoiceHandle};
use crate::watch::{StartRequest, WatchHandle, WatchResult};

/// A frame older than this is not offered through the snapshot tool.
pub const RECENT_FRAME: Duration = Duration::from_secs(30);
/// Tool rounds per turn before the model must answer in text.
pub const MAX_TOOL_ROUNDS: usize = 3;
/// Longest reply posted (Discord's message limit is 2000 characters).
const MAX_REPLY_CHARS: usize = 1900;

/// The snapshot tool's name.
pub const SNAPSHOT_TOOL: &str = "see_screenshare_snapshot";
/// The watch tool's name.
pub const WATCH_TOOL: &str = "start_screen_watch";

/// What the conversation task uses.
#[derive(Clone)]
pub struct ConversationDeps {
    /// Gateway events (MESSAGE_CREATE, READY).
    pub gateway: GatewayHandle,
    /// `start_screen_watch` / `stop_screen_watch`.
    pub watch: WatchHandle,
    /// Notes, summary and frames.
    pub brain: BrainHandle,
    /// Replies.
    pub rest: Option<RestClient>,
    /// The model.
    pub provider: Arc<dyn Provider>,
    /// Spoken turns in, spoken replies out.
    pub voice: Option<VoiceHandle>,
    /// The text channel of `--voice-channel`, if given: spoken requests'
    /// watches post there.
    pub home_text_channel: Option<u64>,
}

/// Where a turn came from, and so where its reply goes.
#[derive(Clone, Debug)]
enum Origin {
    /// A text message (replied to in its channel).
    Text(MessageCreate),
    /// A transcript (replied to aloud).
    Voice {
        /// Who spoke.
        user_id: u64,
        /// The agent's voice place: a guild, or a call's channel.
        guild_id: Option<u64>,
        call_id: Option<u64>,
        /// Where the watch posts, if known.
        text_channel: Option<u64>,
    },
}

impl Origin {
    fn author(&self) -> u64 {
        match self {
            Self::Text(m) => m.author.id.0,
            Self::Voice { user_id, .. } => *user_id,
        }
    }

    fn start_request(&self, target: Option<&str>) -> StartRequest {
        match self {
            Self::Text(m) => start_request(m, target),
            Self::Voice {
                user_id,
                guild_id,
                call_id,
                text_channel,
            } => {
                // A guild, else the call (a DM / group DM channel).
                let place = guild_id
                    .map(|g| Place::Guild(GuildId(g)))
                    .or_else(|| call_id.map(|c| Place::Call(ChannelId(c))));
                StartRequest {
                    target: target.map(str::to_owned),
                    text_channel: text_channel.map(ChannelId),
                    ..StartRequest::new(place, UserId(*user_id))
                }
            }
        }
    }

    /// The guild whose watches a stop request ends (none: every watch).
    fn guild(&self) -> Option<Place> {
        match self {
            Self::Text(m) => m.guild_id.map(Place::Guild),
            Self::Voice { guild_id, .. } => guild_id.map(|g| Place::Guild(GuildId(g))),
        }
    }
}

/// Starts the conversation task.
pub fn spawn_conversation(deps: ConversationDeps, tasks: &mut crate::tasks::Tasks) {
    let mut events = deps.gateway.events();
    let mut heard = deps.voice.as_ref().map(VoiceHandle::heard);
    let shutdown = tasks.stopped();
    tasks.spawn("conversation", async move {
        tokio::pin!(shutdown);
        let mut own: Option<User> = None;
        loop {
            let ev = tokio::select! {
                () = &mut shutdown => break,
                ev = events.recv() => ev,
                Ok(h) = async {
                    match &mut heard {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => {
                    if let (Some(me), Some(voice)) = (&own, &deps.voice)
                        && let Some(text) = addressed_speech(&h, me, voice.agent_name())
                    {
                        tokio::spawn(spoken_turn(deps.clone(), h, text));
                    }
                    continue;
                }
            };
            match ev {
                Ok(GatewayEvent::Ready(r)) => own = Some(r.user.clone()),
                Ok(GatewayEvent::Dispatch(d)) => {
                    if let (Dispatch::MessageCreate(m), Some(me)) = (d.as_ref(), &own)
                        && let Some(text) = addressed(m, me)
                    {
                        let speaker = m
                            .author
                            .global_name
                            .clone()
                            .unwrap_or_else(|| m.author.username.clone());
                        tokio::spawn(handle_turn(
                            deps.clone(),
                            Origin::Text(m.clone()),
                            speaker,
                            text,
                        ));
                    }
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "conversation lagged behind the gateway");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

/// The turn's text when `m` is a guild message from someone else that is
/// addressed to us.
fn addressed(m: &MessageCreate, me: &User) -> Option<String> {
    if m.guild_id.is_none() || m.author.id == me.id || m.author.bot {
        return None;
    }
    let names: Vec<&str> = [Some(me.username.as_str()), me.global_name.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    brain_core::addressed_text(&m.content, me.id.0, &names).filter(|t| !t.is_empty())
}

/// The turn's text when a transcript starts with the agent's spoken name
/// (or its account names).
fn addressed_speech(h: &Heard, me: &User, agent_name: &str) -> Option<String> {
    let names: Vec<&str> = [
        Some(agent_name),
        Some(me.username.as_str()),
        me.global_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    brain_core::addressed_text(&h.text, me.id.0, &names).filter(|t| !t.is_empty())
}

/// A transcript addressed to the agent: where the agent is in voice gives
/// the guild (or call) of the turn.
async fn spoken_turn(deps: ConversationDeps, h: Arc<Heard>, text: String) {
    let state = deps.watch.state().await;
    let place = state.as_ref().and_then(|s| s.voice.first());
    let id_of = |id: Option<&String>| id.and_then(|s| s.parse::<u64>().ok());
    let speaker = state
        .as_ref()
        .and_then(|s| {
            let user = h.user_id.to_string();
            s.sharers
                .iter()
                .find(|v| v.user_id == user)
                .map(|v| v.name.clone())
        })
        .unwrap_or_else(|| format!("user {}", h.user_id));
    let origin = Origin::Voice {
        user_id: h.user_id,
        guild_id: id_of(place.and_then(|v| v.guild_id.as_ref())),
        call_id: id_of(place.and_then(|v| v.call_id.as_ref())),
        text_channel: deps.home_text_channel,
    };
    handle_turn(deps, origin, speaker, text).await;
}

async fn handle_turn(deps: ConversationDeps, origin: Origin, speaker: String, text: String) {
    tracing::info!(
        event = "conversation_turn",
        spoken = matches!(origin, Origin::Voice { .. }),
        channel = match &origin {
            Origin::Text(m) => Some(m.channel_id.0),
            Origin::Voice { .. } => None,
        },
        author = origin.author(),
        "turn addressed to the agent"
    );
    // Until the reply is posted, autonomous commentary waits (pending
    // voice work); the guard ends the turn however this task ends.
    let _in_flight = deps.brain.turn_started().await;
    deps.brain.record_turn(&speaker, &text).await;
    let reply = match brain_core::classify_turn(&text) {
        TurnIntent::StartWatch { target } => {
            let r = deps
                .watch
                .start(origin.start_request(target.as_deref()))
                .await;
            watch_reply(&r)
        }
        TurnIntent::StopWatch => {
            let r = deps.watch.stop(origin.guild()).await;
            if r.reason.as_deref() == Some("stopped") {
                "Okay, I stopped watching.".to_owned()
            } else {
                "I wasn't watching anything.".to_owned()
            }
        }
        TurnIntent::Chat => chat(&deps, &origin, &speaker, &text).await,
    };
    let reply: String = reply.chars().take(MAX_REPLY_CHARS).collect();
    deps.brain.record_turn("agent", &reply).await;
    match (&origin, &deps.rest, &deps.voice) {
        (Origin::Text(m), Some(rest), _) => {
            if let Err(e) = rest.post_message(m.channel_id.0, &reply).await {
                tracing::warn!(error = %e, "conversation reply not posted");
            }
        }
        (Origin::Voice { .. }, _, Some(voice)) => {
            let id = voice.speak(&reply, brain_core::SpeakKind::Answer).await;
            tracing::info!(event = "conversation_spoken_reply", utterance = ?id, reply = %reply, "spoken reply");
        }
        _ => tracing::info!(reply = %reply, "conversation reply (no way to deliver it)"),
    }
}

fn start_request(m: &MessageCreate, target: Option<&str>) -> StartRequest {
    StartRequest {
        target: target.map(str::to_owned),
        preferred_transport: None,
        text_channel: Some(m.channel_id),
        ..StartRequest::new(m.guild_id.map(Place::Guild), m.author.id)
    }
}

/// What to say about a `start_screen_watch` result (never the URL: the
/// offer with the link is its own message).
fn watch_reply(r: &WatchResult) -> String {
    match (r.ok, r.transport.as_deref()) {
        (true, Some("link")) => format!(
            "I can't watch that screen directly, so I posted a share link (valid for {} min).",
            r.expires_in_minutes.unwrap_or(0)
        ),
        (true, Some("webcam")) => "I'm watching the camera now.".to_owned(),
        (true, _) if r.reused => "I'm already watching that screen.".to_owned(),
        (true, _) => "I'm watching the screen now; ask me about it anytime.".to_owned(),
        (false, _) => format!(
            "I can't start watching: {}.",
            r.reason
                .as_deref()
                .unwrap_or("unknown reason")
                .replace('_', " ")
        ),
    }
}

fn tools(snapshot: bool) -> Vec<ToolSpec> {
    let mut tools = vec![ToolSpec {
        name: WATCH_TOOL.to_owned(),
        description: "Start watching a user's screen share in the caller's voice channel. \
                      Without a target, watches the caller's own screen or the only sharer."
            .to_owned(),
        input_schema: json!({
            "type": "object",
            "properties": {"target": {"type": "string", "description": "display name, username, mention or id"}},
        }),
    }];
    if snapshot {
        tools.push(ToolSpec {
            name: SNAPSHOT_TOOL.to_owned(),
            description: "The latest frame of the screen share being watched, as an image."
                .to_owned(),
            input_schema: json!({"type": "object", "properties": {}}),
        });
    }
    tools
}

async fn chat(deps: &ConversationDeps, origin: &Origin, speaker: &str, text: &str) -> String {
    let ctx = deps.brain.turn_context().await;
    let recent = ctx
        .frame
        .as_ref()
        .filter(|(_, age)| *age <= RECENT_FRAME)
        .map(|(jpeg, _)| jpeg.clone());
    let about_screen = brain_core::is_screen_question(text);
    let screen = match (&ctx.watching, &ctx.ended) {
        (Some(name), _) => brain_core::ScreenContext::Live {
            name,
            notes: &ctx.notes,
        },
        (None, Some(name)) => brain_core::ScreenContext::Ended {
            name,
            notes: &ctx.notes,
        },
        (None, None) => brain_core::ScreenContext::None,
    };
    tracing::info!(
        event = "conversation_context",
        screen = match screen {
            brain_core::ScreenContext::None => "none",
            brain_core::ScreenContext::Live { .. } => "live",
            brain_core::ScreenContext::Ended { .. } => "earlier_not_live",
        },
        notes = ctx.notes.lines().count(),
        recent_turns = ctx.recent.len(),
        recap = ctx
            .recent
            .iter()
            .any(|t| t.text.starts_with("Screen share recap:")),
        "chat turn context"
    );
    let prompt = brain_core::chat_prompt(
        &brain_core::ChatContext {
            screen,
            summary: &ctx.summary,
            recent: &ctx.recent,
        },
        speaker,
        text,
    );
    let prompt = brain_core::chat_turn_prompt(prompt);
    let mut parts = vec![Part::text(prompt.user)];
    if about_screen && let Some(jpeg) = &recent {
        tracing::info!(
            event = "conversation_frame_attached",
            "the turn is about the screen: frame attached"
        );
        parts.push(Part::jpeg(jpeg.as_ref().clone()));
    }
    let call = &brain_core::CHAT_CALL;
    let mut req = Request {
        kind: RequestKind::Chat,
        system: prompt.system,
        messages: vec![Message {
            role: Role::User,
            parts,
        }],
        max_tokens: call.max_tokens,
        temperature: Some(call.temperature),
        tools: tools(recent.is_some()),
        ..Request::default()
    };
    for _ in 0..=MAX_TOOL_ROUNDS {
        let resp = match deps.provider.complete(req.clone()).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "conversation call failed");
                return "Sorry, I couldn't think of an answer just now.".to_owned();
            }
        };
        if resp.tool_calls.is_empty() {
            let answer = resp.text.trim();
            return if answer.is_empty() {
                "…".to_owned()
            } else {
                answer.to_owned()
            };
        }
        let mut results = Vec::new();
        for call in &resp.tool_calls {
            results.push(run_tool(deps, origin, call).await);
        }
        req.messages.push(resp.assistant_message());
        req.messages.push(Message {
            role: Role::User,
            parts: results,
        });
        if req.messages.len() > 2 * MAX_TOOL_ROUNDS + 1 {
            req.tools.clear();
        }
    }
    "I got lost using my tools; could you ask again?".to_owned()
}

async fn run_tool(deps: &ConversationDeps, origin: &Origin, call: &ToolCall) -> Part {
    tracing::info!(event = "conversation_tool", tool = %call.name, "tool call");
    let parts = match call.name.as_str() {
        SNAPSHOT_TOOL => match deps.brain.latest_frame().await {
            Some(jpeg) => vec![Part::jpeg(jpeg)],
            None => vec![Part::text("No frame of the screen share is available.")],
        },
        WATCH_TOOL => {
            let target = call
                .input
                .get("target")
                .and_then(serde_json::Value::as_str)
                .filter(|t| !t.trim().is_empty());
            let r = deps.watch.start(origin.start_request(target)).await;
            // The model sees the result without the URL (it is posted
            // as its own message).
            let mut v = serde_json::to_value(&r).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.remove("linkUrl");
            }
            vec![Part::text(v.to_string())]
        }
        other => vec![Part::text(format!("Unknown tool {other}."))],
    };
    Part::ToolResult {
        call_id: call.id.clone(),
        parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_never_carry_the_link() {
        let r = WatchResult {
            ok: true,
            started: true,
            transport: Some("link".into()),
            link_url: Some("https://x.test/share/SECRETSECRETSECRETSECRET".into()),
            expires_in_minutes: Some(12),
            ..WatchResult::default()
        };
        let text = watch_reply(&r);
        assert!(
            !text.contains("SECRET") && text.contains("12 min"),
            "{text}"
        );
        let refused = WatchResult {
            reason: Some("multiple_sharers_need_target".into()),
            ..WatchResult::default()
        };
        assert_eq!(
            watch_reply(&refused),
            "I can't start watching: multiple sharers need target."
        );
    }

    #[test]
    fn the_snapshot_tool_is_offered_only_with_a_recent_frame() {
        assert_eq!(tools(false).len(), 1);
        let with = tools(true);
        assert!(with.iter().any(|t| t.name == SNAPSHOT_TOOL));
        assert!(with.iter().any(|t| t.name == WATCH_TOOL));
    }
}
