//! World mutations: what gateway commands and scenario actions do, and the
//! effects (dispatches, media requests) Discord would produce for them.

use gateway_proto::{
    ChannelId, CreateStream, Dispatch, GuildId, Secret, ServerId, StreamDelete, StreamDeleteReason,
    StreamInfo, StreamKey, StreamKind, StreamServerUpdate, UpdateVoiceState, UserId,
    VoiceServerUpdate,
};

use crate::error::SimError;
use crate::media::{Grant, GrantKind, MediaAction, ServerKind, VideoSpecConfig};
use crate::world::{Audience, ChannelKind, Effect, StreamRecord, VoiceStateRecord, World};

/// Close code for a user's voice connection when they leave voice.
pub(crate) const CLOSE_DISCONNECTED: u16 = 4014;
/// Close code for stream connections when the stream is deleted.
const CLOSE_CALL_TERMINATED: u16 = 4022;

pub(crate) fn dispatch(to: Audience, event: Dispatch) -> Effect {
    Effect::Dispatch { to, event }
}

fn stream_delete(session: &Secret, key: StreamKey, reason: StreamDeleteReason) -> Effect {
    dispatch(
        Audience::Session(session.clone()),
        Dispatch::StreamDelete(StreamDelete {
            stream_key: key,
            reason,
            unavailable: None,
        }),
    )
}

impl World {
    /// A voice channel: `(Some(guild), channel)`, or `(None, dm)` for a
    /// DM / group DM channel, whose call is its voice.
    pub(crate) fn voice_channel(
        &self,
        id: ChannelId,
    ) -> Result<(Option<GuildId>, ChannelId), SimError> {
        if self.calls.contains_key(&id) {
            return Ok((None, id));
        }
        let c = self.channel(id)?;
        if c.kind != ChannelKind::Voice {
            return Err(SimError::NotVoiceChannel(id.get()));
        }
        Ok((Some(c.guild_id), c.id))
    }

    /// May `user` be in this voice channel: a guild member, or a
    /// recipient of the DM channel (Discord lets only recipients join a
    /// call).
    pub(crate) fn check_voice_access(
        &self,
        user: UserId,
        guild: Option<GuildId>,
        channel: ChannelId,
    ) -> Result<(), SimError> {
        match guild {
            Some(g) => self.check_member(user, g),
            None if self.in_call(user, channel) => Ok(()),
            None => Err(SimError::BadRequest(format!(
                "user {user} is not a recipient of the DM channel {channel}"
            ))),
        }
    }

    fn stream_info(s: &StreamRecord, with_rtc: bool) -> StreamInfo {
        StreamInfo {
            stream_key: s.key,
            rtc_server_id: with_rtc.then_some(ServerId(s.rtc_server_id)),
            rtc_channel_id: with_rtc.then_some(ChannelId(s.rtc_channel_id)),
            region: Some("sim".to_owned()),
            viewer_ids: s.viewers.iter().map(|(u, _)| *u).collect(),
            paused: s.paused,
        }
    }

    /// STREAM_UPDATE to the owner's session and every viewer.
    fn stream_update_effects(s: &StreamRecord, fx: &mut Vec<Effect>) {
        let info = Self::stream_info(s, false);
        let sessions = s
            .owner_session
            .iter()
            .chain(s.viewers.iter().map(|(_, sid)| sid));
        for sid in sessions {
            fx.push(dispatch(
                Audience::Session(sid.clone()),
                Dispatch::StreamUpdate(info.clone()),
            ));
        }
    }

    /// Grant + STREAM_SERVER_UPDATE for one stream connection, wrapped in
    /// the configured delay.
    fn stream_server_effects(
        &mut self,
        s: &StreamRecord,
        user: UserId,
        session: &Secret,
        fx: &mut Vec<Effect>,
    ) {
        let token = self.fresh_token();
        let now = vec![
            Effect::Media(MediaAction::Grant {
                server: ServerKind::Stream,
                grant: Grant {
                    room: s.rtc_server_id,
                    user_id: user.get(),
                    session_id: session.clone(),
                    token: token.clone(),
                    kind: GrantKind::Stream {
                        stream_key: s.key.to_string(),
                        streamer_id: s.owner.get(),
                        rtc_server_id: s.rtc_server_id,
                    },
                },
            }),
            dispatch(
                Audience::Session(session.clone()),
                Dispatch::StreamServerUpdate(StreamServerUpdate {
                    stream_key: s.key,
                    endpoint: Some(self.settings.stream_endpoint.clone()),
                    token,
                    guild_id: s.guild_id,
                }),
            ),
        ];
        let delay = self.settings.stream_server_update_delay;
        if delay.is_zero() {
            fx.extend(now);
        } else {
            fx.push(Effect::Delayed {
                after: delay,
                effects: now,
            });
        }
    }

    /// STREAM_CREATE and the stream server's grant + STREAM_SERVER_UPDATE
    /// for one session, in a seeded random order.
    ///
    /// Decision (issue 15 item 3): Discord answers op 18/20 with both
    /// events (discord-userdoccers `pages/gateway/gateway-events.mdx`;
    /// fact sheet §4.2, §4.5 step 3) and documents no order between them;
    /// a simulator that always sent STREAM_CREATE first confirmed a client
    /// that lost credentials the other way round. The order is drawn from
    /// the world's seeded generator, so a seed reproduces it.
    /// `after_create` (STREAM_UPDATEs to the others) follows STREAM_CREATE.
    fn stream_pair_effects(
        &mut self,
        s: &StreamRecord,
        user: UserId,
        session: &Secret,
        after_create: Vec<Effect>,
        fx: &mut Vec<Effect>,
    ) {
        let mut create = vec![dispatch(
            Audience::Session(session.clone()),
            Dispatch::StreamCreate(Self::stream_info(s, true)),
        )];
        create.extend(after_create);
        let server_first = self.rng.next_u64() & 1 == 1;
        if server_first {
            self.stream_server_effects(s, user, session, fx);
            fx.extend(create);
        } else {
            fx.extend(create);
            self.stream_server_effects(s, user, session, fx);
        }
    }

    /// Op 4 from a gateway session: join, move, update or leave voice.
    /// Every join/update hands out a fresh voice token (clients recovering
    /// from 4006 re-send op 4 and wait for VOICE_SERVER_UPDATE).
    pub fn update_voice_state(
        &mut self,
        user: UserId,
        session_id: &Secret,
        cmd: &UpdateVoiceState,
    ) -> Result<Vec<Effect>, SimError> {
        let mut fx = Vec::new();
        let Some(channel) = cmd.channel_id else {
            self.leave_voice(user, Some(CLOSE_DISCONNECTED), &mut fx);
            return Ok(fx);
        };
        let (guild, channel) = self.voice_channel(channel)?;
        // A guild channel with another guild id, or a DM channel with any
        // guild id, is not a channel of that guild (a call is joined with
        // `guild_id: null`, fact sheet §4.5 step 1).
        if cmd.guild_id.is_some() && cmd.guild_id != guild
            || guild.is_none() && cmd.guild_id.is_some()
        {
            return Err(SimError::UnknownChannel(format!(
                "{channel} in guild {:?}",
                cmd.guild_id
            )));
        }
        self.check_voice_access(user, guild, channel)?;
        let bot = self.user(user)?.bot;
        let prev = self.voice.get(&user).cloned();
        let same_channel = prev.as_ref().is_some_and(|p| p.channel_id == channel);
        if prev.is_some() && !same_channel {
            self.leave_voice(user, Some(CLOSE_DISCONNECTED), &mut fx);
        }
        let keep_stream = same_channel && prev.as_ref().is_some_and(|p| p.self_stream);
        let prev_video = same_channel && prev.as_ref().is_some_and(|p| p.self_video);
        let state = VoiceStateRecord {
            guild_id: guild,
            channel_id: channel,
            user_id: user,
            session_id: session_id.clone(),
            self_mute: cmd.self_mute,
            self_deaf: cmd.self_deaf,
            self_stream: keep_stream,
            // Discord discards self_video for bots.
            self_video: !bot && cmd.self_video.unwrap_or(prev_video),
            simulated: false,
            camera: None,
        };
        self.call_starting(&state, &mut fx);
        fx.push(self.voice_state_effect(&state));
        let room = state.room();
        self.voice.insert(user, state);
        let token = self.fresh_token();
        fx.push(Effect::Media(MediaAction::Grant {
            server: ServerKind::Voice,
            grant: Grant {
                room,
                user_id: user.get(),
                session_id: session_id.clone(),
                token: token.clone(),
                kind: GrantKind::Voice {
                    // Identify's server_id: the DM channel id in a call.
                    guild_id: room,
                    channel_id: channel.get(),
                },
            },
        }));
        // VOICE_SERVER_UPDATE: `guild_id` null and `channel_id` present
        // for DM/private calls, absent for guilds (fact sheet §4.3;
        // discord-userdoccers gateway-events.mdx; Discord-video-stream
        // PR #163).
        fx.push(dispatch(
            Audience::Session(session_id.clone()),
            Dispatch::VoiceServerUpdate(VoiceServerUpdate {
                token,
                guild_id: guild,
                endpoint: Some(self.settings.voice_endpoint.clone()),
                channel_id: guild.is_none().then_some(channel),
            }),
        ));
        Ok(fx)
    }

    /// Removes a user from voice: their own stream ends, they stop
    /// watching, media is revoked (or the simulated participant removed)
    /// and the guild sees `channel_id: null`.
    pub(crate) fn leave_voice(
        &mut self,
        user: UserId,
        close_code: Option<u16>,
        fx: &mut Vec<Effect>,
    ) {
        if !self.voice.contains_key(&user) {
            return;
        }
        self.end_stream(user, StreamDeleteReason::StreamEnded, false, fx);
        self.stop_watching_all(user, fx);
        let Some(state) = self.voice.remove(&user) else {
            return;
        };
        let room = state.room();
        fx.push(Effect::Media(if state.simulated {
            MediaAction::RemoveParticipant {
                server: ServerKind::Voice,
                room,
                user_id: user.get(),
            }
        } else {
            MediaAction::Revoke {
                server: ServerKind::Voice,
                room,
                user_id: user.get(),
                close_code,
            }
        }));
        let mut left = self.voice_state_object(&state, false);
        left.channel_id = None;
        left.self_stream = Some(false);
        fx.push(dispatch(state.audience(), Dispatch::VoiceStateUpdate(left)));
        if state.guild_id.is_none() {
            self.call_maybe_ended(state.channel_id, fx);
        }
    }

    /// Ends `owner`'s stream: STREAM_DELETE to owner and viewers, stream
    /// connections closed with 4022, and (when `announce`) the owner's
    /// voice state loses `self_stream`.
    pub(crate) fn end_stream(
        &mut self,
        owner: UserId,
        reason: StreamDeleteReason,
        announce: bool,
        fx: &mut Vec<Effect>,
    ) {
        let Some(s) = self.streams.remove(&owner) else {
            return;
        };
        let room = s.rtc_server_id;
        for (viewer, sid) in &s.viewers {
            fx.push(stream_delete(sid, s.key, reason.clone()));
            fx.push(Effect::Media(MediaAction::Revoke {
                server: ServerKind::Stream,
                room,
                user_id: viewer.get(),
                close_code: Some(CLOSE_CALL_TERMINATED),
            }));
        }
        if let Some(sid) = &s.owner_session {
            fx.push(stream_delete(sid, s.key, reason));
            fx.push(Effect::Media(MediaAction::Revoke {
                server: ServerKind::Stream,
                room,
                user_id: owner.get(),
                close_code: Some(CLOSE_CALL_TERMINATED),
            }));
        }
        if s.simulated_video.is_some() {
            fx.push(Effect::Media(MediaAction::RemoveParticipant {
                server: ServerKind::Stream,
                room,
                user_id: owner.get(),
            }));
        }
        if announce && let Some(v) = self.voice.get_mut(&owner) {
            v.self_stream = false;
            let v = v.clone();
            fx.push(self.voice_state_effect(&v));
        }
    }

    /// Removes `viewer` from `owner`'s stream.
    fn remove_viewer(
        &mut self,
        owner: UserId,
        viewer: UserId,
        notify: Option<StreamDeleteReason>,
        close_code: Option<u16>,
        fx: &mut Vec<Effect>,
    ) {
        let Some(s) = self.streams.get_mut(&owner) else {
            return;
        };
        let Some(pos) = s.viewers.iter().position(|(u, _)| *u == viewer) else {
            return;
        };
        let (_, sid) = s.viewers.remove(pos);
        let s = s.clone();
        if let Some(reason) = notify {
            fx.push(stream_delete(&sid, s.key, reason));
        }
        fx.push(Effect::Media(MediaAction::Revoke {
            server: ServerKind::Stream,
            room: s.rtc_server_id,
            user_id: viewer.get(),
            close_code,
        }));
        Self::stream_update_effects(&s, fx);
    }

    fn stop_watching_all(&mut self, viewer: UserId, fx: &mut Vec<Effect>) {
        let owners: Vec<UserId> = self
            .streams
            .values()
            .filter(|s| s.viewers.iter().any(|(u, _)| *u == viewer))
            .map(|s| s.owner)
            .collect();
        for owner in owners {
            self.remove_viewer(owner, viewer, None, Some(CLOSE_DISCONNECTED), fx);
        }
    }

    pub(crate) fn new_stream(
        &mut self,
        owner: UserId,
        owner_session: Option<Secret>,
        video: Option<VideoSpecConfig>,
    ) -> Result<StreamRecord, SimError> {
        let v = self
            .voice
            .get(&owner)
            .ok_or(SimError::NotInVoice(owner.get()))?;
        let key = match v.guild_id {
            Some(guild_id) => StreamKey::Guild {
                guild_id,
                channel_id: v.channel_id,
                user_id: owner,
            },
            None => StreamKey::Call {
                channel_id: v.channel_id,
                user_id: owner,
            },
        };
        let (guild_id, channel_id) = (v.guild_id, v.channel_id);
        Ok(StreamRecord {
            key,
            owner,
            guild_id,
            channel_id,
            rtc_server_id: self.snowflake(),
            rtc_channel_id: self.snowflake(),
            viewers: Vec::new(),
            paused: false,
            owner_session,
            simulated_video: video,
        })
    }

    pub(crate) fn mark_streaming(&mut self, owner: UserId, fx: &mut Vec<Effect>) {
        if let Some(v) = self.voice.get_mut(&owner) {
            v.self_stream = true;
            let v = v.clone();
            fx.push(self.voice_state_effect(&v));
        }
    }

    /// Op 18 Stream Create. Refusals are STREAM_DELETE with a reason, as
    /// Discord does: bots `unauthorized`; a channel the owner is not in,
    /// or a `type` that does not fit it (`call` needs a DM call, `guild` a
    /// guild channel), `invalid_channel`.
    pub fn create_stream(
        &mut self,
        user: UserId,
        session_id: &Secret,
        cmd: &CreateStream,
    ) -> Result<Vec<Effect>, SimError> {
        let mut fx = Vec::new();
        let key = cmd
            .stream_key(user)
            .ok_or_else(|| SimError::BadRequest("stream create without a guild id".into()))?;
        if self.user(user)?.bot {
            fx.push(stream_delete(
                session_id,
                key,
                StreamDeleteReason::Unauthorized,
            ));
            return Ok(fx);
        }
        let in_channel = self
            .voice
            .get(&user)
            .is_some_and(|v| v.guild_id == cmd.guild_id && v.channel_id == cmd.channel_id);
        // `type: "call"` goes with a call, `"guild"` with a guild channel.
        let kind_fits = (cmd.kind == StreamKind::Guild) == cmd.guild_id.is_some();
        if !kind_fits || !in_channel {
            fx.push(stream_delete(
                session_id,
                key,
                StreamDeleteReason::InvalidChannel,
            ));
            return Ok(fx);
        }
        let existing = self.streams.get(&user).cloned();
        let stream = match existing {
            Some(mut s) if s.key == key => {
                s.owner_session = Some(session_id.clone());
                self.streams.insert(user, s.clone());
                s
            }
            other => {
                if other.is_some() {
                    self.end_stream(user, StreamDeleteReason::StreamEnded, false, &mut fx);
                }
                let s = self.new_stream(user, Some(session_id.clone()), None)?;
                self.streams.insert(user, s.clone());
                self.mark_streaming(user, &mut fx);
                s
            }
        };
        self.stream_pair_effects(&stream, user, session_id, Vec::new(), &mut fx);
        Ok(fx)
    }

    /// Op 20 Stream Watch.
    pub fn watch_stream(
        &mut self,
        user: UserId,
        session_id: &Secret,
        key: StreamKey,
    ) -> Result<Vec<Effect>, SimError> {
        let mut fx = Vec::new();
        let refuse = |reason| vec![stream_delete(session_id, key, reason)];
        if self.user(user)?.bot {
            // "Bots cannot Go Live": Discord refuses bot sessions.
            return Ok(refuse(StreamDeleteReason::Unauthorized));
        }
        if key.is_test() {
            return Ok(refuse(StreamDeleteReason::InvalidChannel));
        }
        let Some(stream) = self.stream(&key).cloned() else {
            return Ok(refuse(StreamDeleteReason::StreamEnded));
        };
        // Only someone in the stream's voice channel (guild channel or
        // call) may watch it.
        let in_channel = self
            .voice
            .get(&user)
            .is_some_and(|v| v.channel_id == stream.channel_id && v.guild_id == stream.guild_id);
        if !in_channel {
            return Ok(refuse(StreamDeleteReason::Unauthorized));
        }
        let already = stream.viewers.iter().any(|(u, _)| *u == user);
        if !already && stream.viewers.len() >= self.settings.max_viewers {
            return Ok(refuse(StreamDeleteReason::StreamFull));
        }
        let Some(s) = self.streams.get_mut(&stream.owner) else {
            return Ok(refuse(StreamDeleteReason::StreamEnded));
        };
        s.viewers.retain(|(u, _)| *u != user);
        s.viewers.push((user, session_id.clone()));
        let s = s.clone();
        let mut updates = Vec::new();
        Self::stream_update_effects(&s, &mut updates);
        self.stream_pair_effects(&s, user, session_id, updates, &mut fx);
        Ok(fx)
    }

    /// Op 19 Stream Delete: the owner ends the stream, a viewer leaves it.
    pub fn delete_stream(&mut self, user: UserId, key: StreamKey) -> Vec<Effect> {
        let mut fx = Vec::new();
        if self.stream(&key).is_none() {
            return fx;
        }
        if key.owner() == user {
            self.end_stream(user, StreamDeleteReason::UserRequested, true, &mut fx);
        } else {
            self.remove_viewer(
                key.owner(),
                user,
                Some(StreamDeleteReason::UserRequested),
                None,
                &mut fx,
            );
        }
        fx
    }

    /// Op 22 (owner) or a scenario pause: STREAM_UPDATE with `paused`.
    pub fn set_stream_paused(
        &mut self,
        user: UserId,
        key: Option<StreamKey>,
        paused: bool,
    ) -> Vec<Effect> {
        let mut fx = Vec::new();
        if let Some(s) = self
            .streams
            .get_mut(&user)
            .filter(|s| key.is_none_or(|k| k == s.key))
        {
            s.paused = paused;
            let s = s.clone();
            Self::stream_update_effects(&s, &mut fx);
        }
        fx
    }

    /// A gateway session was invalidated: its voice state (if that session
    /// joined) goes away, as Discord does when the main session drops.
    pub fn session_ended(&mut self, user: UserId, session_id: &Secret) -> Vec<Effect> {
        let mut fx = Vec::new();
        if self
            .voice
            .get(&user)
            .is_some_and(|v| !v.simulated && v.session_id == *session_id)
        {
            self.leave_voice(user, Some(CLOSE_DISCONNECTED), &mut fx);
        }
        fx
    }
}
