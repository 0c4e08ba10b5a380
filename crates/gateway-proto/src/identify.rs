//! Op 2 Identify for user and bot accounts, and op 6 Resume.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::intents::Intents;
use voice_proto::Secret;

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

/// Default `client_build_number` of the user-account Identify
/// ([`ConnectionProperties::user_client`]). The project cannot observe the
/// live web client offline, so this is a witnessed value, not "the latest":
/// a Rust user client in the code index pairs build 307 749 with Chrome
/// 134.0.6998.179 (early 2025). Operators set the current one with
/// control's `--client-build-number` / `DISCORD_CLIENT_BUILD_NUMBER`
/// (discord-userdoccers `pages/reference.mdx`, "Client Properties": "many
/// experimental features require a recent client build number").
pub const DEFAULT_CLIENT_BUILD_NUMBER: u64 = 307_749;

/// The Chrome version the user-account properties claim, matching
/// [`USER_CLIENT_USER_AGENT`].
pub const USER_CLIENT_BROWSER_VERSION: &str = "134.0.0.0";

/// The user agent the user-account properties claim: desktop Chrome on
/// Linux, the shape of the web client (userdoccers: `browser_user_agent`
/// "should match the `User-Agent` header sent by the client").
pub const USER_CLIENT_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36";

/// Gateway capabilities a user-account Identify asks for.
///
/// Decision (issue 15 item 13), from discord-userdoccers
/// `pages/gateway/using-gateway.mdx` "List of Capabilities": only flags
/// that do not change the payloads this project parses. Chosen:
/// LAZY_USER_NOTES (1<<0), NO_AFFINE_USER_IDS (1<<1),
/// VERSIONED_READ_STATES (1<<2), VERSIONED_USER_GUILD_SETTINGS (1<<3),
/// USER_SETTINGS_PROTO (1<<9), CLIENT_STATE_V2 (1<<10),
/// DEBOUNCE_MESSAGE_REACTIONS (1<<13). Left out on purpose:
/// DEDUPE_USER_OBJECTS (1<<4: moves guild `members` into `merged_members`,
/// which would blind name resolution) and PRIORITIZED_READY_PAYLOAD (1<<5,
/// needs it); PASSIVE_GUILD_UPDATE(_V2) (1<<11, 1<<14: replaces
/// VOICE_STATE_UPDATE with passive updates for unsubscribed guilds, which
/// would hide Go Live starts); AUTH_TOKEN_REFRESH (1<<8: a refreshed token
/// in READY we would not store); AUTO_LOBBY_CONNECT (1<<16: unmodelled
/// events); CHANNEL_OBFUSCATION (1<<15). The official web client sends more
/// (userdoccers' example: 1734653, which has 1<<12 set).
///
/// Issue 15 item 14: AUTO_CALL_CONNECT (1<<12) is on. Userdoccers: it
/// "Connects the client to all pre-existing calls upon connecting to the
/// Gateway; this means clients will receive Call Create events for all
/// calls created before the Gateway connection was established without
/// needing to send a Request Call Connect first". Without it a call that
/// was already running when we connected stays invisible (no voice state of
/// it ever reaches us), so a watch in it is refused as unknown.
pub const USER_CAPABILITIES: u64 = (1 << 0)
    | (1 << 1)
    | (1 << 2)
    | (1 << 3)
    | (1 << 9)
    | (1 << 10)
    | AUTO_CALL_CONNECT
    | (1 << 13);

/// The `AUTO_CALL_CONNECT` capability bit (userdoccers
/// `pages/gateway/using-gateway.mdx` "List of Capabilities": `1 << 12`).
pub const AUTO_CALL_CONNECT: u64 = 1 << 12;

impl ConnectionProperties {
    /// What a user account sends: the web client's property set.
    ///
    /// Source: discord-userdoccers `pages/reference.mdx` "Client
    /// Properties Structure": fields "observed that they are sent in all
    /// official client properties" are `os`, `browser`,
    /// `browser_user_agent`, `browser_version`, `client_build_number`,
    /// `release_channel`, `system_locale`; `device` is for mobile (sent
    /// empty, as web clients do); `os` values are "Linux", "Windows", …;
    /// `browser` "Chrome" is desktop Chrome (client status `web`).
    /// Also §4.1 of the project's protocol fact sheet.
    pub fn user_client(client_build_number: u64) -> Self {
        Self {
            os: "Linux".to_owned(),
            browser: "Chrome".to_owned(),
            device: String::new(),
            system_locale: Some("en-US".to_owned()),
            browser_user_agent: Some(USER_CLIENT_USER_AGENT.to_owned()),
            browser_version: Some(USER_CLIENT_BROWSER_VERSION.to_owned()),
            os_version: Some(String::new()),
            release_channel: Some("stable".to_owned()),
            client_build_number: Some(client_build_number),
            extra: Map::from_iter([("client_event_source".to_owned(), Value::Null)]),
        }
    }
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
    pub token: Secret,
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
    pub token: Secret,
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
    pub fn token(&self) -> &Secret {
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
    pub token: Secret,
    /// READY's session id.
    pub session_id: Secret,
    /// Last dispatch sequence number received. Always serialized.
    #[serde(default)]
    pub seq: Option<u64>,
}
