//! [`Registry`]: what control knows about guilds, voice and Go Live streams,
//! built from main-gateway dispatches.

use std::collections::BTreeMap;
use std::fmt;

use gateway_proto::{
    ChannelId, Guild, GuildId, Member, Ready, ServerId, StreamDelete, StreamDeleteReason,
    StreamInfo, StreamKey, StreamServerUpdate, User, UserId, VoiceServerUpdate, VoiceState,
};

#[path = "records.rs"]
mod records;
pub use records::*;

/// Default cap on guilds kept; dispatches for further guilds are ignored.
pub const MAX_GUILDS: usize = 100;
/// Default cap on cached members per guild (for name resolution). Members
/// currently in voice are kept beyond it, so a guild's member map never
/// exceeds `max_members_per_guild + max_voice_states_per_guild`.
pub const MAX_MEMBERS_PER_GUILD: usize = 5_000;
/// Default cap on voice states per guild (our own is always kept).
pub const MAX_VOICE_STATES_PER_GUILD: usize = 2_000;
/// Default cap on Go Live streams per guild; the oldest is forgotten to make
/// room ([`RegistryEvent::StreamForgotten`]).
pub const MAX_STREAMS_PER_GUILD: usize = 64;
/// Default cap on viewer ids kept per stream (Discord's own limit is ≈50).
pub const MAX_VIEWERS_PER_STREAM: usize = 64;
/// Stored names are cut to this many characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Tokens, endpoints, session ids and regions longer than this are treated
/// as absent (no real one comes close).
pub const MAX_CREDENTIAL_CHARS: usize = 2_048;

/// The registry's caps. [`Limits::default`] uses the `MAX_*` constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Guilds kept.
    pub max_guilds: usize,
    /// Members cached per guild (those in voice are kept beyond it).
    pub max_members_per_guild: usize,
    /// Voice states per guild, besides our own.
    pub max_voice_states_per_guild: usize,
    /// Streams per guild.
    pub max_streams_per_guild: usize,
    /// Viewer ids per stream.
    pub max_viewers_per_stream: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_guilds: MAX_GUILDS,
            max_members_per_guild: MAX_MEMBERS_PER_GUILD,
            max_voice_states_per_guild: MAX_VOICE_STATES_PER_GUILD,
            max_streams_per_guild: MAX_STREAMS_PER_GUILD,
            max_viewers_per_stream: MAX_VIEWERS_PER_STREAM,
        }
    }
}

/// The DAVE (MLS group) id of a Go Live stream connection:
/// `rtc_server_id − 1`, by `gateway_proto::stream_dave_channel_id` (the
/// gateway side's one place of the rule); `0` maps to `0`, and
/// [`Stream::credentials`] refuses an `rtc_server_id` of 0 or 1, whose group
/// id would not be a valid snowflake.
pub fn stream_dave_group_id(rtc_server_id: ServerId) -> u64 {
    gateway_proto::stream_dave_channel_id(rtc_server_id).unwrap_or(0)
}

/// The key of `user`'s Go Live in `channel` of `guild`, for when
/// STREAM_CREATE has not arrived yet (OP20 may be sent with it).
pub fn synthesize_stream_key(guild: GuildId, channel: ChannelId, user: UserId) -> StreamKey {
    StreamKey::Guild {
        guild_id: guild,
        channel_id: channel,
        user_id: user,
    }
}

/// A 4-character hint of a secret for `Debug` output.
fn hint(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}…")
}

/// Cuts a name to [`MAX_NAME_CHARS`].
fn cap_name(name: &str) -> String {
    name.chars().take(MAX_NAME_CHARS).collect()
}

/// A credential-like string, or `None` when it is empty or oversized.
fn credential(s: &str) -> Option<String> {
    (!s.is_empty() && s.len() <= MAX_CREDENTIAL_CHARS).then(|| s.to_owned())
}

#[derive(Debug, Default)]
struct GuildState {
    members: BTreeMap<UserId, Names>,
    voice: BTreeMap<UserId, VoicePresence>,
    own_session: Option<String>,
    voice_server: Option<VoiceServer>,
    streams: BTreeMap<(UserId, ChannelId), Stream>,
}

/// Registry-wide context a guild update needs.
struct Ctx<'a> {
    guild: GuildId,
    own: Option<UserId>,
    limits: &'a Limits,
    seq: &'a mut u64,
    out: &'a mut Vec<RegistryEvent>,
}

impl GuildState {
    fn remember_member(&mut self, user: UserId, names: Names, limits: &Limits) {
        if let Some(known) = self.members.get_mut(&user) {
            known.merge(names);
        } else if self.members.len() < limits.max_members_per_guild
            || (self.voice.contains_key(&user)
                && self.members.len()
                    < limits.max_members_per_guild + limits.max_voice_states_per_guild)
        {
            self.members.insert(user, names);
        }
    }

    fn end_streams(
        &mut self,
        user: UserId,
        keep_channel: Option<ChannelId>,
        reason: &StreamEndReason,
        out: &mut Vec<RegistryEvent>,
    ) {
        let doomed: Vec<(UserId, ChannelId)> = self
            .streams
            .range((user, ChannelId(0))..=(user, ChannelId(u64::MAX)))
            .map(|(k, _)| *k)
            .filter(|(_, c)| Some(*c) != keep_channel)
            .collect();
        for k in doomed {
            if let Some(s) = self.streams.remove(&k) {
                out.push(RegistryEvent::StreamEnded {
                    key: s.key,
                    reason: reason.clone(),
                });
            }
        }
    }

    /// Gets or inserts the stream entry, evicting the oldest when full.
    fn stream_entry(
        &mut self,
        ctx: &mut Ctx<'_>,
        channel: ChannelId,
        owner: UserId,
    ) -> Option<&mut Stream> {
        let k = (owner, channel);
        if !self.streams.contains_key(&k) {
            while self.streams.len() >= ctx.limits.max_streams_per_guild {
                let oldest = self
                    .streams
                    .iter()
                    .min_by_key(|(_, s)| s.discovered_seq)
                    .map(|(k, _)| *k)?;
                if let Some(s) = self.streams.remove(&oldest) {
                    ctx.out.push(RegistryEvent::StreamForgotten { key: s.key });
                }
            }
            *ctx.seq = ctx.seq.saturating_add(1);
            self.streams.insert(
                k,
                Stream {
                    key: synthesize_stream_key(ctx.guild, channel, owner),
                    guild_id: ctx.guild,
                    channel_id: channel,
                    owner,
                    created: false,
                    rtc_server_id: None,
                    rtc_channel_id: None,
                    region: None,
                    endpoint: None,
                    token: None,
                    paused: false,
                    viewer_ids: Vec::new(),
                    discovered_seq: *ctx.seq,
                },
            );
        }
        self.streams.get_mut(&k)
    }

    fn apply_voice(&mut self, vs: &VoiceState, ctx: &mut Ctx<'_>) {
        let user = vs.user_id;
        let guild = ctx.guild;
        let is_self = ctx.own == Some(user);
        let old = self.voice.get(&user).copied();
        let Some(channel) = vs.channel_id else {
            if let Some(old) = old {
                self.voice.remove(&user);
                self.end_streams(user, None, &StreamEndReason::OwnerLeftVoice, ctx.out);
                if is_self {
                    self.own_session = None;
                    self.voice_server = None;
                    ctx.out.push(RegistryEvent::SelfVoiceChanged {
                        guild,
                        channel: None,
                    });
                } else {
                    ctx.out.push(RegistryEvent::UserLeftVoice {
                        guild,
                        user,
                        channel: old.channel_id,
                    });
                }
            } else if is_self {
                self.own_session = None;
            }
            return;
        };
        if old.is_none() && !is_self {
            let others = self.voice.len()
                - usize::from(ctx.own.is_some_and(|o| self.voice.contains_key(&o)));
            if others >= ctx.limits.max_voice_states_per_guild {
                return;
            }
        }
        if let Some(member) = &vs.member {
            self.remember_member(user, Names::from_member(member), ctx.limits);
        }
        let moved = old.is_some_and(|o| o.channel_id != channel);
        if moved {
            self.end_streams(
                user,
                Some(channel),
                &StreamEndReason::OwnerMovedChannel,
                ctx.out,
            );
        }
        // A stream belongs to a channel: after a move, only an explicit
        // `self_stream: true` keeps it on. Absent otherwise = unchanged.
        let prev_stream = old.is_some_and(|o| o.self_stream && !moved);
        let self_stream = vs.self_stream.unwrap_or(prev_stream);
        let prev_video = old.is_some_and(|o| o.self_video);
        self.voice.insert(
            user,
            VoicePresence {
                channel_id: channel,
                self_stream,
                self_video: vs.self_video,
            },
        );
        if is_self {
            self.own_session = credential(&vs.session_id);
        }
        match (old, is_self) {
            (Some(o), _) if o.channel_id == channel => {}
            (_, true) => ctx.out.push(RegistryEvent::SelfVoiceChanged {
                guild,
                channel: Some(channel),
            }),
            (Some(o), false) => ctx.out.push(RegistryEvent::UserMovedVoice {
                guild,
                user,
                from: o.channel_id,
                to: channel,
            }),
            (None, false) => ctx.out.push(RegistryEvent::UserJoinedVoice {
                guild,
                user,
                channel,
            }),
        }
        if self_stream && !prev_stream {
            ctx.out.push(RegistryEvent::GoLiveStarted {
                guild,
                user,
                channel,
            });
            // Our own streams are only learnt from STREAM_CREATE.
            if !is_self
                && !self.streams.contains_key(&(user, channel))
                && let Some(s) = self.stream_entry(ctx, channel, user)
            {
                let key = s.key;
                ctx.out.push(RegistryEvent::StreamDiscovered { key });
            }
        } else if !self_stream && (prev_stream || moved && old.is_some_and(|o| o.self_stream)) {
            ctx.out.push(RegistryEvent::GoLiveEnded { guild, user });
            self.end_streams(user, None, &StreamEndReason::OwnerStoppedGoLive, ctx.out);
        }
        if vs.self_video != prev_video {
            ctx.out.push(RegistryEvent::WebcamChanged {
                guild,
                user,
                on: vs.self_video,
            });
        }
    }
}

/// Everything control knows about its guilds from the main gateway: members
/// (for names), voice states, our own voice session and credentials, and
/// every discovered Go Live stream. Feed it dispatches with the `on_*`
/// methods; each returns what changed as [`RegistryEvent`]s. Bounded by
/// [`Limits`].
#[derive(Debug, Default)]
pub struct Registry {
    limits: Limits,
    own_user: Option<UserId>,
    guilds: BTreeMap<GuildId, GuildState>,
    seq: u64,
}

impl Registry {
    /// An empty registry with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty registry with the given caps.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// The caps in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Splits `self` into the guild (inserted if there is room) and the
    /// context to update it with.
    fn guild_ctx<'a>(
        &'a mut self,
        guild: GuildId,
        out: &'a mut Vec<RegistryEvent>,
    ) -> Option<(&'a mut GuildState, Ctx<'a>)> {
        if !self.guilds.contains_key(&guild) {
            if self.guilds.len() >= self.limits.max_guilds {
                out.push(RegistryEvent::GuildIgnored { guild });
                return None;
            }
            self.guilds.insert(guild, GuildState::default());
        }
        let state = self.guilds.get_mut(&guild)?;
        Some((
            state,
            Ctx {
                guild,
                own: self.own_user,
                limits: &self.limits,
                seq: &mut self.seq,
                out,
            },
        ))
    }

    /// READY: a new gateway session. Everything known before is dropped
    /// (ending our voice presence and every stream), then the guilds READY
    /// carries are loaded; bot-style `unavailable` stubs only reserve the
    /// guild.
    pub fn on_ready(&mut self, ready: &Ready) -> Vec<RegistryEvent> {
        let mut out = Vec::new();
        for (guild, state) in std::mem::take(&mut self.guilds) {
            for s in state.streams.into_values() {
                out.push(RegistryEvent::StreamEnded {
                    key: s.key,
                    reason: StreamEndReason::SessionReset,
                });
            }
            if self.own_user.is_some_and(|o| state.voice.contains_key(&o)) {
                out.push(RegistryEvent::SelfVoiceChanged {
                    guild,
                    channel: None,
                });
            }
        }
        self.own_user = Some(ready.user.id);
        for guild in &ready.guilds {
            if guild.unavailable == Some(true) {
                self.guild_ctx(guild.id, &mut out);
            } else {
                out.extend(self.on_guild_create(guild));
            }
        }
        out
    }

    /// GUILD_CREATE: members, and the voice states, which replace what was
    /// known (users missing from the list have left). Voice states with
    /// `self_stream: true` reveal streams already running: each gets a
    /// provisional stream entry ([`RegistryEvent::StreamDiscovered`]). An
    /// `unavailable` stub (outage) changes nothing.
    pub fn on_guild_create(&mut self, guild: &Guild) -> Vec<RegistryEvent> {
        let mut out = Vec::new();
        if guild.unavailable == Some(true) {
            return out;
        }
        let Some((state, mut ctx)) = self.guild_ctx(guild.id, &mut out) else {
            return out;
        };
        ctx.out
            .push(RegistryEvent::GuildAvailable { guild: guild.id });
        for member in &guild.members {
            if let Some(user) = &member.user {
                state.remember_member(user.id, Names::from_member(member), ctx.limits);
            }
        }
        let mut listed = std::collections::BTreeSet::new();
        for vs in &guild.voice_states {
            if vs.channel_id.is_some() {
                listed.insert(vs.user_id);
            }
            state.apply_voice(vs, &mut ctx);
        }
        let gone: Vec<UserId> = state
            .voice
            .keys()
            .filter(|u| !listed.contains(u))
            .copied()
            .collect();
        for user in gone {
            let leave = VoiceState {
                guild_id: Some(guild.id),
                channel_id: None,
                user_id: user,
                member: None,
                session_id: String::new(),
                deaf: false,
                mute: false,
                self_deaf: false,
                self_mute: false,
                self_stream: None,
                self_video: false,
                suppress: false,
                request_to_speak_timestamp: None,
            };
            state.apply_voice(&leave, &mut ctx);
        }
        out
    }

    /// VOICE_STATE_UPDATE: joins, moves, leaves (`channel_id: null`),
    /// `self_stream` and `self_video` changes; our own session id. States
    /// without a guild (DM calls) are ignored.
    pub fn on_voice_state_update(&mut self, vs: &VoiceState) -> Vec<RegistryEvent> {
        let mut out = Vec::new();
        let Some(guild) = vs.guild_id else {
            return out;
        };
        if let Some((state, mut ctx)) = self.guild_ctx(guild, &mut out) {
            state.apply_voice(vs, &mut ctx);
        }
        out
    }

    /// VOICE_SERVER_UPDATE for our own voice connection (`endpoint: null` =
    /// reallocating: the credentials are cleared).
    pub fn on_voice_server_update(&mut self, update: &VoiceServerUpdate) -> Vec<RegistryEvent> {
        let mut out = Vec::new();
        let Some(guild) = update.guild_id else {
            return out;
        };
        if let Some((state, ctx)) = self.guild_ctx(guild, &mut out) {
            state.voice_server = match (
                update.endpoint.as_deref().and_then(credential),
                credential(&update.token),
            ) {
                (Some(endpoint), Some(token)) => Some(VoiceServer { endpoint, token }),
                _ => None,
            };
            let ready = state.voice_server.is_some();
            ctx.out
                .push(RegistryEvent::SelfVoiceServerChanged { guild, ready });
        }
        out
    }

    /// STREAM_CREATE: creates or updates the stream (rtc ids, region,
    /// viewers, paused). Credentials from a STREAM_SERVER_UPDATE are kept,
    /// whichever of the two came first. `call:`/`test:` keys are ignored.
    ///
    /// Decision (issue 15 item 3): STREAM_CREATE never clears endpoint and
    /// token. Discord answers op 20 with STREAM_CREATE *and*
    /// STREAM_SERVER_UPDATE (discord-userdoccers
    /// `pages/gateway/gateway-events.mdx`; fact sheet §4.2 "op 20 →
    /// STREAM_CREATE + STREAM_SERVER_UPDATE") without promising their
    /// order, so a STREAM_CREATE after its STREAM_SERVER_UPDATE must not
    /// wipe the credentials that just arrived (the old rule, "cleared when
    /// `rtc_server_id` changed", did exactly that when the first
    /// STREAM_CREATE set the id). Credentials are replaced only by a newer
    /// STREAM_SERVER_UPDATE (and cleared by `endpoint: null`). If a stream
    /// did move to another server and its STREAM_SERVER_UPDATE is still
    /// on the way, one connection attempt with the old token fails and the
    /// update that follows reconnects: a cost the other rule would pay
    /// forever in the reversed order.
    pub fn on_stream_create(&mut self, info: &StreamInfo) -> Vec<RegistryEvent> {
        let mut out = Vec::new();
        let StreamKey::Guild {
            guild_id,
            channel_id,
            user_id,
        } = info.stream_key
        else {
            return out;
        };
        let Some((state, mut ctx)) = self.guild_ctx(guild_id, &mut out) else {
            return out;
        };
        let max_viewers = ctx.limits.max_viewers_per_stream;
        let Some(s) = state.stream_entry(&mut ctx, channel_id, user_id) else {
            return out;
        };
        if info.rtc_server_id.is_some() {
            s.rtc_server_id = info.rtc_server_id;
        }
        if info.rtc_channel_id.is_some() {
            s.rtc_channel_id = info.rtc_channel_id;
        }
        if let Some(region) = info.region.as_deref().and_then(credential) {
            s.region = Some(region);
        }
        s.created = true;
        s.paused = info.paused;
        s.viewer_ids = info.viewer_ids.iter().take(max_viewers).copied().collect();
        let key = s.key;
        let ready = s.credentials().is_some();
        ctx.out.push(RegistryEvent::StreamDiscovered { key });
        if ready {
            ctx.out.push(RegistryEvent::StreamCredentialsReady { key });
        }
        out
    }

    /// STREAM_SERVER_UPDATE: endpoint and token of a stream
    /// (`endpoint: null` = reallocating).
    ///
    /// Decision (issue 15 item 3): an update for a stream not known yet,
    /// in a known guild, creates its (provisional) entry and keeps the
    /// credentials, because it may precede its STREAM_CREATE (see
    /// [`Registry::on_stream_create`]); the gateway sends it only to a
    /// session that watches or owns the stream, so it is evidence of the
    /// stream. The entry counts against [`Limits::max_streams_per_guild`]
    /// like any other. Updates for unknown guilds and non-guild keys are
    /// ignored.
    pub fn on_stream_server_update(&mut self, update: &StreamServerUpdate) -> Vec<RegistryEvent> {
        let mut out = Vec::new();
        if self.stream_mut(&update.stream_key).is_none()
            && let StreamKey::Guild {
                guild_id,
                channel_id,
                user_id,
            } = update.stream_key
            && self.guilds.contains_key(&guild_id)
            && let Some((state, mut ctx)) = self.guild_ctx(guild_id, &mut out)
            && state.stream_entry(&mut ctx, channel_id, user_id).is_some()
        {
            out.push(RegistryEvent::StreamDiscovered {
                key: update.stream_key,
            });
        }
        let Some(s) = self.stream_mut(&update.stream_key) else {
            return out;
        };
        match update.endpoint.as_deref().and_then(credential) {
            None => {
                s.endpoint = None;
                s.token = None;
                out.push(RegistryEvent::StreamReallocating { key: s.key });
            }
            Some(endpoint) => {
                s.endpoint = Some(endpoint);
                s.token = credential(&update.token);
                if s.credentials().is_some() {
                    out.push(RegistryEvent::StreamCredentialsReady { key: s.key });
                }
            }
        }
        out
    }

    /// Forgets a stream's endpoint and token (kept: rtc ids, viewers), so
    /// that only a new STREAM_SERVER_UPDATE makes it connectable again:
    /// used when a lost stream transport is retried with op 20
    /// ([`crate::StreamRecovery`]), which must not reconnect with the token
    /// that just failed. Returns whether the stream was known.
    pub fn forget_stream_credentials(&mut self, key: &StreamKey) -> bool {
        let Some(s) = self.stream_mut(key) else {
            return false;
        };
        s.endpoint = None;
        s.token = None;
        true
    }

    /// STREAM_UPDATE: paused, viewers, region of a known stream.
    pub fn on_stream_update(&mut self, info: &StreamInfo) -> Vec<RegistryEvent> {
        let max_viewers = self.limits.max_viewers_per_stream;
        let Some(s) = self.stream_mut(&info.stream_key) else {
            return Vec::new();
        };
        s.paused = info.paused;
        s.viewer_ids = info.viewer_ids.iter().take(max_viewers).copied().collect();
        if let Some(region) = info.region.as_deref().and_then(credential) {
            s.region = Some(region);
        }
        vec![RegistryEvent::StreamUpdated {
            key: s.key,
            paused: s.paused,
        }]
    }

    /// STREAM_DELETE: removes the stream. For any `guild:` key, known or
    /// not, reports [`RegistryEvent::StreamEnded`]. The owner's voice state
    /// is untouched (a viewer-side delete does not mean the owner stopped).
    pub fn on_stream_delete(&mut self, delete: &StreamDelete) -> Vec<RegistryEvent> {
        let StreamKey::Guild {
            guild_id,
            channel_id,
            user_id,
        } = delete.stream_key
        else {
            return Vec::new();
        };
        if let Some(state) = self.guilds.get_mut(&guild_id) {
            state.streams.remove(&(user_id, channel_id));
        }
        vec![RegistryEvent::StreamEnded {
            key: delete.stream_key,
            reason: StreamEndReason::Deleted {
                reason: delete.reason.clone(),
                unavailable: delete.unavailable == Some(true),
            },
        }]
    }

    fn stream_mut(&mut self, key: &StreamKey) -> Option<&mut Stream> {
        let StreamKey::Guild {
            guild_id,
            channel_id,
            user_id,
        } = *key
        else {
            return None;
        };
        self.guilds
            .get_mut(&guild_id)?
            .streams
            .get_mut(&(user_id, channel_id))
    }

    // ---- queries ----

    /// Our own user id (from READY).
    pub fn own_user(&self) -> Option<UserId> {
        self.own_user
    }

    /// True when the guild is stored.
    pub fn knows_guild(&self, guild: GuildId) -> bool {
        self.guilds.contains_key(&guild)
    }

    /// The guilds stored.
    pub fn guilds(&self) -> impl Iterator<Item = GuildId> + '_ {
        self.guilds.keys().copied()
    }

    /// Number of guilds stored.
    pub fn guild_count(&self) -> usize {
        self.guilds.len()
    }

    /// Members cached in a guild.
    pub fn member_count(&self, guild: GuildId) -> usize {
        self.guilds.get(&guild).map_or(0, |g| g.members.len())
    }

    /// Voice states stored in a guild (ours included).
    pub fn voice_state_count(&self, guild: GuildId) -> usize {
        self.guilds.get(&guild).map_or(0, |g| g.voice.len())
    }

    /// A user's voice state.
    pub fn voice_state(&self, guild: GuildId, user: UserId) -> Option<&VoicePresence> {
        self.guilds.get(&guild)?.voice.get(&user)
    }

    /// A user's voice channel.
    pub fn voice_channel(&self, guild: GuildId, user: UserId) -> Option<ChannelId> {
        self.voice_state(guild, user).map(|v| v.channel_id)
    }

    /// Every voice state of a guild, by user id.
    pub fn voice_states(&self, guild: GuildId) -> impl Iterator<Item = (UserId, &VoicePresence)> {
        self.guilds
            .get(&guild)
            .into_iter()
            .flat_map(|g| g.voice.iter().map(|(u, v)| (*u, v)))
    }

    /// True when no voice state of anyone but us is known in the guild
    /// (no GUILD_CREATE yet, or a bot without the voice-states intent).
    pub fn roster_is_empty(&self, guild: GuildId) -> bool {
        self.voice_states(guild)
            .all(|(u, _)| Some(u) == self.own_user)
    }

    /// What we know of a user's names in a guild.
    pub fn names(&self, guild: GuildId, user: UserId) -> Option<&Names> {
        self.guilds.get(&guild)?.members.get(&user)
    }

    /// Members cached in a guild with their names.
    pub fn members(&self, guild: GuildId) -> impl Iterator<Item = (UserId, &Names)> {
        self.guilds
            .get(&guild)
            .into_iter()
            .flat_map(|g| g.members.iter().map(|(u, n)| (*u, n)))
    }

    /// The name to show for a user: nick, global name, username, else the id.
    pub fn display_name(&self, guild: GuildId, user: UserId) -> String {
        self.names(guild, user)
            .and_then(Names::display)
            .map_or_else(|| user.to_string(), str::to_owned)
    }

    /// Every stream of a guild, by owner then channel.
    pub fn streams(&self, guild: GuildId) -> impl Iterator<Item = &Stream> {
        self.guilds
            .get(&guild)
            .into_iter()
            .flat_map(|g| g.streams.values())
    }

    /// Number of streams stored in a guild.
    pub fn stream_count(&self, guild: GuildId) -> usize {
        self.guilds.get(&guild).map_or(0, |g| g.streams.len())
    }

    /// The stream with this key.
    pub fn stream(&self, key: &StreamKey) -> Option<&Stream> {
        let StreamKey::Guild {
            guild_id,
            channel_id,
            user_id,
        } = *key
        else {
            return None;
        };
        self.guilds
            .get(&guild_id)?
            .streams
            .get(&(user_id, channel_id))
    }

    /// A user's streams in a guild.
    pub fn streams_of(&self, guild: GuildId, user: UserId) -> impl Iterator<Item = &Stream> {
        self.streams(guild).filter(move |s| s.owner == user)
    }

    /// The user's best stream in a guild: one with credentials, else one
    /// STREAM_CREATE announced, else a provisional one; newest first.
    pub fn primary_stream_in(&self, guild: GuildId, user: UserId) -> Option<&Stream> {
        self.streams_of(guild, user).max_by_key(|s| s.rank())
    }

    /// The user's best stream in any guild (same ranking as
    /// [`Registry::primary_stream_in`]).
    pub fn primary_stream(&self, user: UserId) -> Option<&Stream> {
        self.guilds
            .values()
            .flat_map(|g| g.streams.values())
            .filter(|s| s.owner == user)
            .max_by_key(|s| s.rank())
    }

    /// True when the user has Go Live in the guild: `self_stream` in their
    /// voice state, or a discovered stream.
    pub fn is_go_live(&self, guild: GuildId, user: UserId) -> bool {
        self.voice_state(guild, user).is_some_and(|v| v.self_stream)
            || self.streams_of(guild, user).next().is_some()
    }

    /// True when the user's camera is on.
    pub fn has_webcam(&self, guild: GuildId, user: UserId) -> bool {
        self.voice_state(guild, user).is_some_and(|v| v.self_video)
    }

    /// The key to watch the user's Go Live with: the primary stream's, else
    /// one synthesized from their voice channel.
    pub fn go_live_key(&self, guild: GuildId, user: UserId) -> Option<StreamKey> {
        self.primary_stream_in(guild, user)
            .map(|s| s.key)
            .or_else(|| {
                let v = self.voice_state(guild, user)?;
                v.self_stream
                    .then(|| synthesize_stream_key(guild, v.channel_id, user))
            })
    }

    /// Our voice connection in the guild: channel, session id and the
    /// VOICE_SERVER_UPDATE credentials. `None` when we are not in voice.
    pub fn own_voice(&self, guild: GuildId) -> Option<OwnVoice> {
        let own = self.own_user?;
        let g = self.guilds.get(&guild)?;
        Some(OwnVoice {
            channel_id: g.voice.get(&own)?.channel_id,
            session_id: g.own_session.clone()?,
            server: g.voice_server.clone(),
        })
    }
}
