//! [`Registry`]: what control knows about guilds, voice and Go Live streams,
//! built from main-gateway dispatches.

use std::collections::BTreeMap;
use std::fmt;

use gateway_proto::{
    ChannelId, Guild, GuildId, Member, Ready, Secret, ServerId, StreamDelete, StreamDeleteReason,
    StreamInfo, StreamKey, StreamServerUpdate, User, UserId, VoiceServerUpdate, VoiceState,
};

#[path = "records.rs"]
mod records;
pub use records::*;
#[path = "calls.rs"]
mod calls;
#[path = "queries.rs"]
mod queries;

use crate::place::{MAX_CALLS, Place};

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

/// The key of `user`'s Go Live in `channel` of `place`, for when
/// STREAM_CREATE has not arrived yet (OP20 may be sent with it): the
/// `guild:` form in a guild, the `call:` form in a call.
pub fn synthesize_stream_key(
    place: impl Into<Place>,
    channel: ChannelId,
    user: UserId,
) -> StreamKey {
    place.into().stream_key(channel, user)
}

/// Cuts a name to [`MAX_NAME_CHARS`].
fn cap_name(name: &str) -> String {
    name.chars().take(MAX_NAME_CHARS).collect()
}

/// A credential-like string, or `None` when it is empty or oversized.
fn credential(s: &str) -> Option<String> {
    (!s.is_empty() && s.len() <= MAX_CREDENTIAL_CHARS).then(|| s.to_owned())
}

/// A token or session id, or `None` when it is empty or oversized.
fn secret(s: &Secret) -> Option<Secret> {
    credential(s.expose()).map(|_| s.clone())
}

#[derive(Debug, Default)]
struct GuildState {
    members: BTreeMap<UserId, Names>,
    voice: BTreeMap<UserId, VoicePresence>,
    own_session: Option<Secret>,
    voice_server: Option<VoiceServer>,
    streams: BTreeMap<(UserId, ChannelId), Stream>,
    /// A call announced by CALL_CREATE: kept while we are not in it.
    announced: bool,
}

/// Registry-wide context a guild update needs.
struct Ctx<'a> {
    guild: Place,
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
                    place: ctx.guild,
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
            self.own_session = secret(&vs.session_id);
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
    places: BTreeMap<Place, GuildState>,
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
        place: impl Into<Place>,
        out: &'a mut Vec<RegistryEvent>,
    ) -> Option<(&'a mut GuildState, Ctx<'a>)> {
        let place = place.into();
        if !self.places.contains_key(&place) {
            let (count, max) = match place {
                Place::Guild(_) => (self.guild_count(), self.limits.max_guilds),
                Place::Call(_) => (self.call_count(), MAX_CALLS),
            };
            if count >= max {
                if let Place::Guild(guild) = place {
                    out.push(RegistryEvent::GuildIgnored { guild });
                }
                return None;
            }
            self.places.insert(place, GuildState::default());
        }
        let guild = place;
        let state = self.places.get_mut(&place)?;
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
        for (guild, state) in std::mem::take(&mut self.places) {
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
                session_id: Secret::default(),
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
    /// `self_stream` and `self_video` changes; our own session id.
    ///
    /// A state without `guild_id` is a DM / group DM call (fact sheet
    /// §4.3: "guild_id null for DMs"; discord-userdoccers
    /// `pages/resources/voice.mdx` voice state `guild_id?`): `channel_id`
    /// names the call ([`Place::Call`]). A call leave carries no channel,
    /// so the user leaves whichever call they are in; joining one call
    /// leaves any other. When we leave a call only learnt from voice
    /// states, the call is forgotten, ending its streams; one announced by
    /// CALL_CREATE stays until CALL_DELETE ([`Registry::on_call_create`]).
    pub fn on_voice_state_update(&mut self, vs: &VoiceState) -> Vec<RegistryEvent> {
        let mut out = Vec::new();
        if let Some(guild) = vs.guild_id {
            if let Some((state, mut ctx)) = self.guild_ctx(guild, &mut out) {
                state.apply_voice(vs, &mut ctx);
            }
            return out;
        }
        let user = vs.user_id;
        let other_calls: Vec<Place> = self
            .places
            .iter()
            .filter(|(p, g)| {
                p.is_call() && g.voice.contains_key(&user) && p.call_channel() != vs.channel_id
            })
            .map(|(p, _)| *p)
            .collect();
        for place in other_calls {
            let leave = VoiceState {
                guild_id: None,
                channel_id: None,
                ..vs.clone()
            };
            if let Some((state, mut ctx)) = self.guild_ctx(place, &mut out) {
                state.apply_voice(&leave, &mut ctx);
            }
            self.forget_call_if_left(place, &mut out);
        }
        if let Some(channel) = vs.channel_id
            && let Some((state, mut ctx)) = self.guild_ctx(Place::Call(channel), &mut out)
        {
            state.apply_voice(vs, &mut ctx);
        }
        out
    }

    /// Drops a call we are no longer in (its remaining streams end).
    fn forget_call_if_left(&mut self, place: Place, out: &mut Vec<RegistryEvent>) {
        let Some(own) = self.own_user else { return };
        if !place.is_call()
            || self
                .places
                .get(&place)
                .is_none_or(|g| g.announced || g.voice.contains_key(&own))
        {
            return;
        }
        if let Some(state) = self.places.remove(&place) {
            for s in state.streams.into_values() {
                out.push(RegistryEvent::StreamEnded {
                    key: s.key,
                    reason: StreamEndReason::OwnerLeftVoice,
                });
            }
        }
    }

    /// VOICE_SERVER_UPDATE for our own voice connection (`endpoint: null` =
    /// reallocating: the credentials are cleared). Without `guild_id` it
    /// is for a call, named by `channel_id` ("present for DM/private
    /// calls", fact sheet §4.3; discord-userdoccers gateway-events.mdx
    /// Voice Server Update `channel_id?`); with neither it is ignored.
    pub fn on_voice_server_update(&mut self, update: &VoiceServerUpdate) -> Vec<RegistryEvent> {
        let mut out = Vec::new();
        let place = match (update.guild_id, update.channel_id) {
            (Some(g), _) => Place::Guild(g),
            (None, Some(c)) => Place::Call(c),
            (None, None) => return out,
        };
        if place.is_call() && !self.places.contains_key(&place) {
            // Only a call we are in gets credentials.
            return out;
        }
        if let Some((state, ctx)) = self.guild_ctx(place, &mut out) {
            state.voice_server = match (
                update.endpoint.as_deref().and_then(credential),
                secret(&update.token),
            ) {
                (Some(endpoint), Some(token)) => Some(VoiceServer { endpoint, token }),
                _ => None,
            };
            let ready = state.voice_server.is_some();
            ctx.out.push(RegistryEvent::SelfVoiceServerChanged {
                guild: place,
                ready,
            });
        }
        out
    }

    /// STREAM_CREATE: creates or updates the stream (rtc ids, region,
    /// viewers, paused). Credentials from a STREAM_SERVER_UPDATE are kept,
    /// whichever of the two came first. `test:` keys are ignored; `call:`
    /// keys go to the call ([`Place::Call`]) when it is known (someone's
    /// voice state in it was seen), else they are ignored.
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
        let Some((place, channel_id, user_id)) = key_parts(&info.stream_key) else {
            return out;
        };
        if place.is_call() && !self.places.contains_key(&place) {
            // Discord sends a call's streams to those in the call; a call
            // we have no voice state of is not one we can watch in.
            return out;
        }
        let Some((state, mut ctx)) = self.guild_ctx(place, &mut out) else {
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
    /// in a known guild or call, creates its (provisional) entry and keeps
    /// the credentials, because it may precede its STREAM_CREATE (see
    /// [`Registry::on_stream_create`]); the gateway sends it only to a
    /// session that watches or owns the stream, so it is evidence of the
    /// stream. The entry counts against [`Limits::max_streams_per_guild`]
    /// like any other. Updates for unknown guilds or calls and `test:`
    /// keys are ignored.
    pub fn on_stream_server_update(&mut self, update: &StreamServerUpdate) -> Vec<RegistryEvent> {
        let mut out = Vec::new();
        if self.stream_mut(&update.stream_key).is_none()
            && let Some((place, channel_id, user_id)) = key_parts(&update.stream_key)
            && self.places.contains_key(&place)
            && let Some((state, mut ctx)) = self.guild_ctx(place, &mut out)
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
                s.token = secret(&update.token);
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

    /// STREAM_DELETE: removes the stream. For any `guild:` or `call:` key,
    /// known or not, reports [`RegistryEvent::StreamEnded`]. The owner's
    /// voice state is untouched (a viewer-side delete does not mean the
    /// owner stopped).
    pub fn on_stream_delete(&mut self, delete: &StreamDelete) -> Vec<RegistryEvent> {
        let Some((place, channel_id, user_id)) = key_parts(&delete.stream_key) else {
            return Vec::new();
        };
        if let Some(state) = self.places.get_mut(&place) {
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
        let (place, channel_id, user_id) = key_parts(key)?;
        self.places
            .get_mut(&place)?
            .streams
            .get_mut(&(user_id, channel_id))
    }
}

/// The place, channel and owner of a `guild:` or `call:` key.
fn key_parts(key: &StreamKey) -> Option<(Place, ChannelId, UserId)> {
    Some((Place::of_stream_key(key)?, key.channel_id()?, key.owner()))
}
