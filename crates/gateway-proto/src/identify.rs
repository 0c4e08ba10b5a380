//! Op 2 Identify for user and bot accounts, and op 6 Resume.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::intents::Intents;

/// `properties` of Identify. Bots send `os`/`browser`/`device`; user
/// clients add locale, user agent and build number fields. Fields not
/// modelled are kept in `extra` so a simulator can inspect them and a
/// round trip keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConnectionProperties {
    /// Operating system.
    #[serde(default)]
    pub os: String,
    /// Browser / library name.
    #[serde(default)]
    pub browser: String,
    /// Device name.
    #[serde(default)]
    pub device: String,
    /// User clients: locale, e.g. `en-US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_locale: Option<String>,
    /// User clients: browser user agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_user_agent: Option<String>,
    /// User clients: browser version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_version: Option<String>,
    /// User clients: OS version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// User clients: `stable`, `ptb`, `canary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_channel: Option<String>,
    /// User clients: client build number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_build_number: Option<u64>,
    /// Any other property, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Initial presence in Identify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// `online`, `idle`, `dnd`, `invisible`; user clients send `unknown`.
    pub status: String,
    /// Unix ms since idle, or null. Always serialized.
    #[serde(default)]
    pub since: Option<u64>,
    /// Activity objects, verbatim.
    #[serde(default)]
    pub activities: Vec<Value>,
    /// AFK flag.
    #[serde(default)]
    pub afk: bool,
}

impl Presence {
    /// What user clients send: `{status:"unknown", since:0, activities:[],
    /// afk:false}`.
    pub fn user_default() -> Self {
        Self {
            status: "unknown".to_owned(),
            since: Some(0),
            activities: Vec::new(),
            afk: false,
        }
    }
}

/// Identify for a user account: capabilities instead of intents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserIdentify {
    /// User token.
    pub token: String,
    /// Capabilities bitfield (e.g. 16381).
    pub capabilities: u64,
    /// Client properties.
    pub properties: ConnectionProperties,
    /// Initial presence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<Presence>,
    /// Payload compression (the project always sends false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compress: Option<bool>,
    /// Cached-state hints (`{guild_versions:{}, …}`), verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_state: Option<Value>,
}

/// Identify for a bot account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotIdentify {
    /// Bot token.
    pub token: String,
    /// Client properties (`os`, `browser`, `device`).
    pub properties: ConnectionProperties,
    /// Gateway intents.
    pub intents: Intents,
    /// `[shard_id, num_shards]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<[u32; 2]>,
    /// Initial presence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<Presence>,
    /// Payload compression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compress: Option<bool>,
    /// Member count above which offline members are not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_threshold: Option<u32>,
}

/// Op 2 Identify. Bots send `intents`; user accounts send `capabilities`
/// and never `intents` — which is how decoding tells them apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Identify {
    /// A user account (the only kind that can Go Live).
    User(UserIdentify),
    /// A bot account.
    Bot(BotIdentify),
}

impl<'de> Deserialize<'de> for Identify {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(d)?;
        let is_bot = map.contains_key("intents");
        let value = Value::Object(map);
        if is_bot {
            serde_json::from_value(value).map(Identify::Bot)
        } else {
            serde_json::from_value(value).map(Identify::User)
        }
        .map_err(D::Error::custom)
    }
}

impl Identify {
    /// The token.
    pub fn token(&self) -> &str {
        match self {
            Identify::User(u) => &u.token,
            Identify::Bot(b) => &b.token,
        }
    }
}

/// Op 6 Resume, sent to READY's `resume_gateway_url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The token used to identify.
    pub token: String,
    /// READY's session id.
    pub session_id: String,
    /// Last dispatch sequence number received. Always serialized.
    #[serde(default)]
    pub seq: Option<u64>,
}
