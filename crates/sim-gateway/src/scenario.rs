//! Scenarios: a JSON description of the guilds, channels and users plus a
//! timeline of [`Action`]s. Built-in scenarios are compiled in from
//! `scenarios/*.json` (which double as format examples).
//!
//! ```json
//! {
//!   "name": "example",
//!   "description": "free text",
//!   "settings": { "heartbeat_interval_ms": 41250, "dave": false },
//!   "guilds": [{
//!     "id": 900000000000000001, "name": "Sim Guild",
//!     "members": ["alice", "agent"],                // optional: default = all users
//!     "channels": [
//!       { "id": 900000000000000010, "name": "general", "kind": "text" },
//!       { "id": 900000000000000011, "name": "Lounge",  "kind": "voice" }
//!     ]
//!   }],
//!   "users": [
//!     { "id": 900000000000000101, "name": "alice", "token": "sim-user-alice" },
//!     { "id": 900000000000000104, "name": "agent-bot", "token": "sim-bot-agent", "bot": true }
//!   ],
//!   "timeline": [
//!     { "at_ms": 0, "action": "join_voice", "user": "alice", "channel": "Lounge" },
//!     { "at_ms": 0, "action": "start_stream", "user": "alice", "video": { "width": 1280, "height": 720 } },
//!     { "at_ms": 2000, "every_ms": 8000, "action": "speak", "user": "bob", "on": true }
//!   ]
//! }
//! ```
//! Ids are numbers or decimal strings. Users and channels are referenced by
//! name or id.

use std::time::Duration;

use gateway_proto::{ChannelId, GuildId, Secret, UserId};
use serde::{Deserialize, Serialize};

use crate::actions::{Action, TimelineEntry};
use crate::error::SimError;
use crate::world::{CallRecord, ChannelKind, ChannelRecord, UserRecord, World, WorldSettings};

/// Scenario-wide knobs. Every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScenarioSettings {
    /// Main gateway HELLO interval (Discord: 41250). A session is closed
    /// with 4009 when no heartbeat arrives within 1.5 intervals.
    pub heartbeat_interval_ms: u64,
    /// Main gateway commands allowed per 60 s before close 4008 (Discord:
    /// 120).
    pub gateway_rate_limit: u32,
    /// Delay between STREAM_CREATE and STREAM_SERVER_UPDATE.
    pub stream_server_update_delay_ms: u64,
    /// Offer DAVE on both media servers and encrypt simulated media.
    pub dave: bool,
    /// Media servers' voice-gateway heartbeat interval (default 13750).
    pub media_heartbeat_interval_ms: u64,
    /// Dispatches kept per session for RESUME replay.
    pub resume_buffer: usize,
}

impl Default for ScenarioSettings {
    fn default() -> Self {
        Self {
            heartbeat_interval_ms: 41_250,
            gateway_rate_limit: 120,
            stream_server_update_delay_ms: 0,
            dave: false,
            media_heartbeat_interval_ms: 13_750,
            resume_buffer: 1000,
        }
    }
}

/// A channel in a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSpec {
    /// Channel id.
    pub id: ChannelId,
    /// Name.
    pub name: String,
    /// `text` or `voice`.
    pub kind: ChannelKind,
}

/// A guild in a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuildSpec {
    /// Guild id.
    pub id: GuildId,
    /// Name.
    pub name: String,
    /// Member user names; all users when absent.
    #[serde(default)]
    pub members: Option<Vec<String>>,
    /// Channels.
    #[serde(default)]
    pub channels: Vec<ChannelSpec>,
}

/// A user account in a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSpec {
    /// User id.
    pub id: UserId,
    /// Username.
    pub name: String,
    /// Token (gateway Identify, REST `Authorization`: `Bot <token>` for
    /// bots, the bare token for users).
    pub token: Secret,
    /// Bot account.
    #[serde(default)]
    pub bot: bool,
}

/// A DM / group DM channel in a scenario: its recipients can be in its
/// call (`join_voice` with the call's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSpec {
    /// The DM channel id.
    pub id: ChannelId,
    /// Name used by the timeline.
    pub name: String,
    /// Recipients, by user name.
    pub recipients: Vec<String>,
}

/// A whole scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Knobs.
    #[serde(default)]
    pub settings: ScenarioSettings,
    /// Guilds.
    pub guilds: Vec<GuildSpec>,
    /// DM / group DM channels (calls).
    #[serde(default)]
    pub calls: Vec<CallSpec>,
    /// Users.
    pub users: Vec<UserSpec>,
    /// Timeline.
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
}

/// Built-in scenarios: name and JSON text.
const BUILTIN: &[(&str, &str)] = &[
    ("demo", include_str!("../scenarios/demo.json")),
    (
        "multi-sharer",
        include_str!("../scenarios/multi-sharer.json"),
    ),
    ("webcam-only", include_str!("../scenarios/webcam-only.json")),
    ("dave", include_str!("../scenarios/dave.json")),
    ("call", include_str!("../scenarios/call.json")),
    ("lossy", include_str!("../scenarios/lossy.json")),
    (
        "vp8-streamer",
        include_str!("../scenarios/vp8-streamer.json"),
    ),
];

impl Scenario {
    /// Names of the built-in scenarios.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// A built-in scenario by name.
    pub fn builtin(name: &str) -> Result<Self, SimError> {
        let (_, text) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| SimError::UnknownScenario(name.to_owned(), "no such built-in".into()))?;
        Self::from_json(text)
    }

    /// A built-in name, else a JSON file path.
    pub fn load(name_or_path: &str) -> Result<Self, SimError> {
        if BUILTIN.iter().any(|(n, _)| *n == name_or_path) {
            return Self::builtin(name_or_path);
        }
        let text = std::fs::read_to_string(name_or_path)
            .map_err(|e| SimError::UnknownScenario(name_or_path.to_owned(), e.to_string()))?;
        Self::from_json(&text)
    }

    /// Parses and validates a scenario.
    pub fn from_json(text: &str) -> Result<Self, SimError> {
        let s: Self =
            serde_json::from_str(text).map_err(|e| SimError::ScenarioParse(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    /// Checks ids, names and timeline references by building a world.
    pub fn validate(&self) -> Result<(), SimError> {
        let world = self.build_world(0, WorldSettings::default())?;
        for entry in &self.timeline {
            if entry.every_ms == Some(0) {
                return Err(SimError::ScenarioInvalid("every_ms must be > 0".into()));
            }
            check_refs(&world, &entry.action)?;
        }
        Ok(())
    }

    /// The world at time zero (before the timeline).
    pub fn build_world(&self, seed: u64, settings: WorldSettings) -> Result<World, SimError> {
        let mut world = World::new(seed, settings);
        for u in &self.users {
            world.add_user(UserRecord {
                id: u.id,
                name: u.name.clone(),
                token: u.token.clone(),
                bot: u.bot,
            })?;
        }
        for g in &self.guilds {
            let members = match &g.members {
                None => self.users.iter().map(|u| u.id).collect(),
                Some(names) => names
                    .iter()
                    .map(|n| {
                        self.users
                            .iter()
                            .find(|u| &u.name == n)
                            .map(|u| u.id)
                            .ok_or_else(|| {
                                SimError::ScenarioInvalid(format!("member {n:?} is not a user"))
                            })
                    })
                    .collect::<Result<_, _>>()?,
            };
            world.add_guild(g.id, &g.name, members)?;
            for c in &g.channels {
                world.add_channel(ChannelRecord {
                    id: c.id,
                    guild_id: g.id,
                    name: c.name.clone(),
                    kind: c.kind,
                })?;
            }
        }
        for c in &self.calls {
            let recipients = c
                .recipients
                .iter()
                .map(|n| {
                    self.users
                        .iter()
                        .find(|u| &u.name == n)
                        .map(|u| u.id)
                        .ok_or_else(|| {
                            SimError::ScenarioInvalid(format!("recipient {n:?} is not a user"))
                        })
                })
                .collect::<Result<_, _>>()?;
            world.add_call(CallRecord {
                id: c.id,
                name: c.name.clone(),
                recipients,
            })?;
        }
        Ok(world)
    }

    /// The configured STREAM_SERVER_UPDATE delay.
    pub fn stream_server_update_delay(&self) -> Duration {
        Duration::from_millis(self.settings.stream_server_update_delay_ms)
    }
}

/// Fails when an action names a user or channel the world lacks.
fn check_refs(world: &World, action: &Action) -> Result<(), SimError> {
    match action {
        Action::JoinVoice { user, channel, .. } | Action::PostMessage { user, channel, .. } => {
            world.resolve_user(user)?;
            world.resolve_channel(channel)?;
        }
        Action::LeaveVoice { user }
        | Action::StartStream { user, .. }
        | Action::StopStream { user }
        | Action::PauseStream { user, .. }
        | Action::SetWebcam { user, .. }
        | Action::Speak { user, .. }
        | Action::DeleteStream { user, .. } => {
            world.resolve_user(user)?;
        }
        Action::GatewayReconnect {
            user: Some(user), ..
        }
        | Action::GatewayInvalidSession {
            user: Some(user), ..
        } => {
            world.resolve_user(user)?;
        }
        _ => {}
    }
    Ok(())
}
