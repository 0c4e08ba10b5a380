//! The world model: guilds, channels, users, voice states, Go Live streams
//! and posted messages. Pure: no sockets, no clock, randomness from a
//! seeded [`SimRng`]. Every mutation (in `world_ops.rs`) returns the
//! [`Effect`]s Discord would produce — typed dispatches addressed to an
//! [`Audience`] and [`MediaAction`]s for the media servers — and the caller
//! (the gateway hub) delivers them in order.

use std::collections::BTreeMap;
use std::time::Duration;

use gateway_proto::{
    CallCreate, CallDelete, Channel, ChannelId, Dispatch, Guild, GuildId, Member, MessageId,
    Secret, StreamKey, User, UserId, VoiceState,
};
use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::media::{MediaAction, VideoSpecConfig};
use crate::rng::SimRng;

/// Who receives a dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every gateway session whose user is a member of the guild.
    Guild(GuildId),
    /// Every gateway session whose user is a recipient of the group DM
    /// (the call's voice states go to them, not to a guild).
    Call(ChannelId),
    /// Every gateway session of this user.
    User(UserId),
    /// One gateway session (by session id).
    Session(Secret),
}

/// One consequence of a world mutation, in the order it must happen.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a dispatch.
    Dispatch {
        /// Recipients.
        to: Audience,
        /// The event.
        event: Dispatch,
    },
    /// Ask a media server to do something. Grants come before the
    /// dispatch that hands out their token, so a fast client never races
    /// its own grant.
    Media(MediaAction),
    /// Apply `effects` after `after` (the configurable STREAM_SERVER_UPDATE
    /// delay used by tests to create races).
    Delayed {
        /// How long to wait.
        after: Duration,
        /// What to apply then.
        effects: Vec<Effect>,
    },
}

/// A user or bot account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    /// User id.
    pub id: UserId,
    /// Username (also how scenarios refer to the user).
    pub name: String,
    /// Gateway / REST token.
    pub token: Secret,
    /// Bot account (cannot Go Live or watch streams, `self_video` ignored).
    pub bot: bool,
}

/// Text or voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Guild text channel (type 0).
    Text,
    /// Guild voice channel (type 2).
    Voice,
}

/// A guild channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelRecord {
    /// Channel id.
    pub id: ChannelId,
    /// Owning guild.
    pub guild_id: GuildId,
    /// Name (also how scenarios refer to the channel).
    pub name: String,
    /// Text or voice.
    pub kind: ChannelKind,
}

/// A guild.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuildRecord {
    /// Guild id.
    pub id: GuildId,
    /// Name.
    pub name: String,
    /// Channels in display order.
    pub channels: Vec<ChannelId>,
    /// Member users.
    pub members: Vec<UserId>,
}

/// A DM / group DM channel whose recipients can be in its call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRecord {
    /// The DM channel id (also the call's voice `server_id` and room).
    pub id: ChannelId,
    /// Name (how scenarios refer to it).
    pub name: String,
    /// The users who may join the call.
    pub recipients: Vec<UserId>,
}

/// A user's voice state (one per user: a user is in at most one channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoiceStateRecord {
    /// Guild; `None` in a DM / group DM call (`channel_id` is the DM).
    pub guild_id: Option<GuildId>,
    /// Voice channel.
    pub channel_id: ChannelId,
    /// User.
    pub user_id: UserId,
    /// The gateway session that joined (a generated id for simulated users).
    pub session_id: Secret,
    /// Self-muted.
    pub self_mute: bool,
    /// Self-deafened.
    pub self_deaf: bool,
    /// Go Live active.
    pub self_stream: bool,
    /// Camera on.
    pub self_video: bool,
    /// A scenario-driven participant (media from sim-media-server) rather than a
    /// real client connected to the gateway.
    pub simulated: bool,
    /// The simulated participant's camera, when on.
    pub camera: Option<VideoSpecConfig>,
}

impl VoiceStateRecord {
    /// Who hears of this voice state: the guild, or the call's recipients.
    pub(crate) fn audience(&self) -> Audience {
        match self.guild_id {
            Some(g) => Audience::Guild(g),
            None => Audience::Call(self.channel_id),
        }
    }

    /// The voice media room (= Identify `server_id`): the guild id, or in a
    /// call the DM channel id (fact sheet §1.5; Discord-video-stream
    /// `serverId = guildId ?? channelId`).
    pub(crate) fn room(&self) -> u64 {
        self.guild_id.map_or(self.channel_id.get(), GuildId::get)
    }
}

/// A Go Live stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamRecord {
    /// `guild:G:C:U`.
    pub key: StreamKey,
    /// Streaming user.
    pub owner: UserId,
    /// Guild.
    pub guild_id: Option<GuildId>,
    /// Voice channel the stream belongs to.
    pub channel_id: ChannelId,
    /// The stream connection's `server_id` (= media room).
    pub rtc_server_id: u64,
    /// The stream connection's v9 `channel_id`.
    pub rtc_channel_id: u64,
    /// Viewers and the gateway session each watches from.
    pub viewers: Vec<(UserId, Secret)>,
    /// Paused by the owner.
    pub paused: bool,
    /// The owner's gateway session (`None` for a simulated streamer).
    pub owner_session: Option<Secret>,
    /// A simulated streamer's screen.
    pub simulated_video: Option<VideoSpecConfig>,
}

/// Where a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageSource {
    /// `POST /channels/{id}/messages`.
    Rest,
    /// A scenario timeline or admin action.
    Timeline,
}

/// A message posted to a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostedMessage {
    /// Message id.
    pub id: u64,
    /// Channel.
    pub channel_id: ChannelId,
    /// Guild.
    pub guild_id: GuildId,
    /// Author.
    pub author_id: UserId,
    /// Text.
    pub content: String,
    /// When the sim received it (Unix ms, supplied by the caller).
    pub timestamp_unix_ms: u64,
    /// REST or timeline.
    pub source: MessageSource,
}

/// Knobs the world needs from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldSettings {
    /// `endpoint` of VOICE_SERVER_UPDATE (`host:port`).
    pub voice_endpoint: String,
    /// `endpoint` of STREAM_SERVER_UPDATE.
    pub stream_endpoint: String,
    /// Delay between STREAM_CREATE and STREAM_SERVER_UPDATE.
    pub stream_server_update_delay: Duration,
    /// Simulated participants encrypt with DAVE.
    pub dave: bool,
    /// Viewers per stream before `stream_full` (Discord: about 50).
    pub max_viewers: usize,
}

impl Default for WorldSettings {
    fn default() -> Self {
        Self {
            voice_endpoint: "127.0.0.1:0".to_owned(),
            stream_endpoint: "127.0.0.1:0".to_owned(),
            stream_server_update_delay: Duration::ZERO,
            dave: false,
            max_viewers: 50,
        }
    }
}

/// A reference to a user by id or by name (scenarios and the admin API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserRef {
    /// Numeric id.
    Id(u64),
    /// Username (or a decimal id as a string).
    Name(String),
}

/// A reference to a channel by id or by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChannelRef {
    /// Numeric id.
    Id(u64),
    /// Channel name (or a decimal id as a string).
    Name(String),
}

/// The simulated Discord state.
#[derive(Debug, Clone)]
pub struct World {
    pub(crate) users: BTreeMap<UserId, UserRecord>,
    pub(crate) guilds: BTreeMap<GuildId, GuildRecord>,
    pub(crate) channels: BTreeMap<ChannelId, ChannelRecord>,
    pub(crate) calls: BTreeMap<ChannelId, CallRecord>,
    /// The message id of each ongoing call (a call is ongoing while
    /// someone is in it).
    pub(crate) call_messages: BTreeMap<ChannelId, MessageId>,
    pub(crate) voice: BTreeMap<UserId, VoiceStateRecord>,
    /// Keyed by owner: a user streams at most once at a time.
    pub(crate) streams: BTreeMap<UserId, StreamRecord>,
    pub(crate) messages: Vec<PostedMessage>,
    pub(crate) rng: SimRng,
    /// Next generated snowflake (rtc ids, message ids); a counter, so ids
    /// are reproducible and never collide with scenario ids below it.
    pub(crate) next_snowflake: u64,
    /// Endpoints, delay, DAVE.
    pub settings: WorldSettings,
}

impl World {
    /// An empty world whose tokens and ids derive from `seed`.
    pub fn new(seed: u64, settings: WorldSettings) -> Self {
        Self {
            users: BTreeMap::new(),
            guilds: BTreeMap::new(),
            channels: BTreeMap::new(),
            calls: BTreeMap::new(),
            call_messages: BTreeMap::new(),
            voice: BTreeMap::new(),
            streams: BTreeMap::new(),
            messages: Vec::new(),
            rng: SimRng::new(seed),
            next_snowflake: 1_500_000_000_000_000_000,
            settings,
        }
    }

    /// Adds a user or bot account.
    pub fn add_user(&mut self, user: UserRecord) -> Result<(), SimError> {
        let dup = self
            .users
            .values()
            .any(|u| u.id == user.id || u.name == user.name || u.token == user.token);
        if dup {
            return Err(SimError::ScenarioInvalid(format!(
                "duplicate user id, name or token for {:?}",
                user.name
            )));
        }
        self.users.insert(user.id, user);
        Ok(())
    }

    /// Adds a guild with its members (channels are added separately).
    pub fn add_guild(
        &mut self,
        id: GuildId,
        name: &str,
        members: Vec<UserId>,
    ) -> Result<(), SimError> {
        if self.guilds.contains_key(&id) {
            return Err(SimError::ScenarioInvalid(format!("duplicate guild {id}")));
        }
        for m in &members {
            self.user(*m)?;
        }
        let record = GuildRecord {
            id,
            name: name.to_owned(),
            channels: Vec::new(),
            members,
        };
        self.guilds.insert(id, record);
        Ok(())
    }

    /// Adds a channel to an existing guild.
    pub fn add_channel(&mut self, channel: ChannelRecord) -> Result<(), SimError> {
        if self.channels.contains_key(&channel.id) {
            return Err(SimError::ScenarioInvalid(format!(
                "duplicate channel {}",
                channel.id
            )));
        }
        let guild = self
            .guilds
            .get_mut(&channel.guild_id)
            .ok_or(SimError::UnknownGuild(channel.guild_id.get()))?;
        guild.channels.push(channel.id);
        self.channels.insert(channel.id, channel);
        Ok(())
    }

    /// Adds a DM / group DM channel whose recipients can call.
    pub fn add_call(&mut self, call: CallRecord) -> Result<(), SimError> {
        if self.channels.contains_key(&call.id) || self.calls.contains_key(&call.id) {
            return Err(SimError::ScenarioInvalid(format!(
                "duplicate channel {}",
                call.id
            )));
        }
        for u in &call.recipients {
            self.user(*u)?;
        }
        self.calls.insert(call.id, call);
        Ok(())
    }

    /// True when `user` is a recipient of the DM channel `call`.
    pub fn in_call(&self, user: UserId, call: ChannelId) -> bool {
        self.calls
            .get(&call)
            .is_some_and(|c| c.recipients.contains(&user))
    }

    /// A fresh snowflake.
    pub(crate) fn snowflake(&mut self) -> u64 {
        self.next_snowflake += 1;
        self.next_snowflake
    }

    /// A fresh 32-hex-digit token or session id.
    pub fn fresh_token(&mut self) -> Secret {
        Secret::new(self.rng.hex_token())
    }

    /// The account behind a gateway/REST token.
    pub fn user_by_token(&self, token: &str) -> Option<&UserRecord> {
        self.users.values().find(|u| u.token.expose() == token)
    }

    /// A user by id.
    pub fn user(&self, id: UserId) -> Result<&UserRecord, SimError> {
        self.users
            .get(&id)
            .ok_or_else(|| SimError::UnknownUser(id.to_string()))
    }

    /// A channel by id.
    pub fn channel(&self, id: ChannelId) -> Result<&ChannelRecord, SimError> {
        self.channels
            .get(&id)
            .ok_or_else(|| SimError::UnknownChannel(id.to_string()))
    }

    /// Resolves a user reference (id, name, or id written as a string).
    pub fn resolve_user(&self, r: &UserRef) -> Result<UserId, SimError> {
        let found = match r {
            UserRef::Id(id) => self.users.get(&UserId(*id)),
            UserRef::Name(name) => self
                .users
                .values()
                .find(|u| &u.name == name || u.id.to_string() == *name),
        };
        found
            .map(|u| u.id)
            .ok_or_else(|| SimError::UnknownUser(format!("{r:?}")))
    }

    /// Resolves a channel reference.
    pub fn resolve_channel(&self, r: &ChannelRef) -> Result<ChannelId, SimError> {
        let found = match r {
            ChannelRef::Id(id) => self.channels.get(&ChannelId(*id)).map(|c| c.id),
            ChannelRef::Name(name) => self
                .channels
                .values()
                .find(|c| &c.name == name || c.id.to_string() == *name)
                .map(|c| c.id),
        };
        let call = || match r {
            ChannelRef::Id(id) => self.calls.get(&ChannelId(*id)).map(|c| c.id),
            ChannelRef::Name(name) => self
                .calls
                .values()
                .find(|c| &c.name == name || c.id.to_string() == *name)
                .map(|c| c.id),
        };
        found
            .or_else(call)
            .ok_or_else(|| SimError::UnknownChannel(format!("{r:?}")))
    }

    /// True when `user` is a member of `guild`.
    pub fn is_member(&self, user: UserId, guild: GuildId) -> bool {
        self.guilds
            .get(&guild)
            .is_some_and(|g| g.members.contains(&user))
    }

    pub(crate) fn check_member(&self, user: UserId, guild: GuildId) -> Result<(), SimError> {
        if self.is_member(user, guild) {
            Ok(())
        } else {
            Err(SimError::NotMember {
                user: user.get(),
                guild: guild.get(),
            })
        }
    }

    /// The gateway user object.
    pub fn user_object(&self, id: UserId) -> Result<User, SimError> {
        let u = self.user(id)?;
        Ok(User {
            id: u.id,
            username: u.name.clone(),
            discriminator: Some("0".to_owned()),
            global_name: Some(u.name.clone()),
            bot: u.bot,
        })
    }

    fn member_object(&self, id: UserId) -> Option<Member> {
        self.user_object(id).ok().map(|user| Member {
            user: Some(user),
            nick: None,
        })
    }

    /// The gateway voice state of a record; `in_guild_create` leaves out
    /// `guild_id` and `member` (GUILD_CREATE carries them implicitly).
    pub(crate) fn voice_state_object(
        &self,
        v: &VoiceStateRecord,
        in_guild_create: bool,
    ) -> VoiceState {
        VoiceState {
            guild_id: if in_guild_create { None } else { v.guild_id },
            channel_id: Some(v.channel_id),
            user_id: v.user_id,
            member: if in_guild_create {
                None
            } else {
                self.member_object(v.user_id)
            },
            session_id: v.session_id.clone(),
            deaf: false,
            mute: false,
            self_deaf: v.self_deaf,
            self_mute: v.self_mute,
            self_stream: Some(v.self_stream),
            self_video: v.self_video,
            suppress: false,
            request_to_speak_timestamp: None,
        }
    }

    /// A VOICE_STATE_UPDATE for `v` to everyone in its guild.
    pub(crate) fn voice_state_effect(&self, v: &VoiceStateRecord) -> Effect {
        Effect::Dispatch {
            to: v.audience(),
            event: Dispatch::VoiceStateUpdate(self.voice_state_object(v, false)),
        }
    }

    /// True when someone is in the call of the DM channel `call`.
    pub fn call_ongoing(&self, call: ChannelId) -> bool {
        self.voice
            .values()
            .any(|v| v.guild_id.is_none() && v.channel_id == call)
    }

    /// The CALL_CREATE of an ongoing call: everyone in it, nobody ringing
    /// (the simulator does not ring). `None` when nobody is in the call.
    ///
    /// discord-userdoccers `pages/gateway/gateway-events.mdx` "Call
    /// Create": `channel_id`, `message_id`, `region`, `ringing`,
    /// `voice_states` ("The voice states of the users already in the
    /// call").
    pub fn call_create_object(&self, call: ChannelId) -> Option<CallCreate> {
        let message_id = *self.call_messages.get(&call)?;
        let voice_states = self
            .voice
            .values()
            .filter(|v| v.guild_id.is_none() && v.channel_id == call)
            .map(|v| self.voice_state_object(v, false))
            .collect();
        Some(CallCreate {
            channel_id: call,
            message_id: Some(message_id),
            region: Some("sim".to_owned()),
            ringing: Vec::new(),
            voice_states,
        })
    }

    /// Before `joining` enters voice: when it is the first in a call, the
    /// call starts and its recipients get CALL_CREATE (with the voice
    /// states already in it: none). Captured order on Discord: CALL_CREATE,
    /// then the joiner's VOICE_STATE_UPDATE (TurbulenceDev/Turbulence
    /// `docs/voice.md`, "s: creates call" before "s: you are now in this
    /// channel").
    pub(crate) fn call_starting(&mut self, joining: &VoiceStateRecord, fx: &mut Vec<Effect>) {
        if joining.guild_id.is_some() || self.call_ongoing(joining.channel_id) {
            return;
        }
        let call = joining.channel_id;
        let message_id = MessageId(self.snowflake());
        self.call_messages.insert(call, message_id);
        if let Some(create) = self.call_create_object(call) {
            fx.push(Effect::Dispatch {
                to: Audience::Call(call),
                event: Dispatch::CallCreate(create),
            });
        }
    }

    /// After someone left the call of `call`: when nobody is left, the
    /// call is over and its recipients get CALL_DELETE (userdoccers "Call
    /// Delete": "Sent when a call is deleted").
    pub(crate) fn call_maybe_ended(&mut self, call: ChannelId, fx: &mut Vec<Effect>) {
        if self.call_ongoing(call) || self.call_messages.remove(&call).is_none() {
            return;
        }
        fx.push(Effect::Dispatch {
            to: Audience::Call(call),
            event: Dispatch::CallDelete(CallDelete {
                channel_id: call,
                unavailable: None,
            }),
        });
    }

    /// READY's `private_channels` for `user`: the DM / group DM channels
    /// they are a recipient of, each with the other recipients
    /// (userdoccers Ready Structure `private_channels`; channel.mdx
    /// `recipients?` "excluding the requesting user"; type 1 DM, 3 group
    /// DM).
    pub fn private_channels_of(&self, user: UserId) -> Vec<Channel> {
        self.calls
            .values()
            .filter(|c| c.recipients.contains(&user))
            .map(|c| Channel {
                id: c.id,
                kind: if c.recipients.len() > 2 {
                    Channel::GROUP_DM
                } else {
                    Channel::DM
                },
                name: Some(c.name.clone()),
                guild_id: None,
                recipients: c
                    .recipients
                    .iter()
                    .filter(|r| **r != user)
                    .filter_map(|r| self.user_object(*r).ok())
                    .collect(),
            })
            .collect()
    }

    /// The calls `user` may see that are ongoing, by channel.
    pub fn ongoing_calls_of(&self, user: UserId) -> Vec<ChannelId> {
        self.calls
            .values()
            .filter(|c| c.recipients.contains(&user) && self.call_ongoing(c.id))
            .map(|c| c.id)
            .collect()
    }

    /// The full guild object of GUILD_CREATE: channels, members and the
    /// current voice states (streaming users have `self_stream: true`).
    pub fn guild_object(&self, id: GuildId) -> Result<Guild, SimError> {
        let g = self
            .guilds
            .get(&id)
            .ok_or(SimError::UnknownGuild(id.get()))?;
        let channels = g
            .channels
            .iter()
            .filter_map(|c| self.channels.get(c))
            .map(|c| Channel {
                id: c.id,
                kind: match c.kind {
                    ChannelKind::Text => Channel::GUILD_TEXT,
                    ChannelKind::Voice => Channel::GUILD_VOICE,
                },
                name: Some(c.name.clone()),
                guild_id: None,
                recipients: Vec::new(),
            })
            .collect();
        let members = g
            .members
            .iter()
            .filter_map(|m| self.member_object(*m))
            .collect();
        let voice_states = self
            .voice
            .values()
            .filter(|v| v.guild_id == Some(id))
            .map(|v| self.voice_state_object(v, true))
            .collect();
        Ok(Guild {
            id,
            name: Some(g.name.clone()),
            unavailable: Some(false),
            channels,
            members,
            voice_states,
        })
    }

    /// Ids of the guilds `user` belongs to.
    pub fn guilds_of(&self, user: UserId) -> Vec<GuildId> {
        self.guilds
            .values()
            .filter(|g| g.members.contains(&user))
            .map(|g| g.id)
            .collect()
    }

    /// All users.
    pub fn users(&self) -> impl Iterator<Item = &UserRecord> {
        self.users.values()
    }

    /// All channels.
    pub fn channels(&self) -> impl Iterator<Item = &ChannelRecord> {
        self.channels.values()
    }

    /// Current voice states.
    pub fn voice_states(&self) -> impl Iterator<Item = &VoiceStateRecord> {
        self.voice.values()
    }

    /// The voice state of one user.
    pub fn voice_state(&self, user: UserId) -> Option<&VoiceStateRecord> {
        self.voice.get(&user)
    }

    /// Running streams.
    pub fn streams(&self) -> impl Iterator<Item = &StreamRecord> {
        self.streams.values()
    }

    /// The stream with this key.
    pub fn stream(&self, key: &StreamKey) -> Option<&StreamRecord> {
        self.streams.get(&key.owner()).filter(|s| s.key == *key)
    }

    /// Messages posted so far, oldest first.
    pub fn messages(&self) -> &[PostedMessage] {
        &self.messages
    }
}
