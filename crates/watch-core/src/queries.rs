//! [`Registry`]'s read side: what is known of a guild or call.

use super::*;

impl Registry {
    /// Our own user id (from READY).
    pub fn own_user(&self) -> Option<UserId> {
        self.own_user
    }

    /// True when the guild or call is stored.
    pub fn knows_guild(&self, place: impl Into<Place>) -> bool {
        self.places.contains_key(&place.into())
    }

    /// The guilds stored.
    pub fn guilds(&self) -> impl Iterator<Item = GuildId> + '_ {
        self.places.keys().filter_map(|p| p.guild_id())
    }

    /// Every guild and call stored.
    pub fn places(&self) -> impl Iterator<Item = Place> + '_ {
        self.places.keys().copied()
    }

    /// Number of guilds stored.
    pub fn guild_count(&self) -> usize {
        self.places.keys().filter(|p| !p.is_call()).count()
    }

    /// Number of calls stored (at most [`MAX_CALLS`]).
    pub fn call_count(&self) -> usize {
        self.places.keys().filter(|p| p.is_call()).count()
    }

    /// Members cached in a guild.
    pub fn member_count(&self, place: impl Into<Place>) -> usize {
        self.places
            .get(&place.into())
            .map_or(0, |g| g.members.len())
    }

    /// Voice states stored in a guild or call (ours included).
    pub fn voice_state_count(&self, place: impl Into<Place>) -> usize {
        self.places.get(&place.into()).map_or(0, |g| g.voice.len())
    }

    /// A user's voice state.
    pub fn voice_state(&self, place: impl Into<Place>, user: UserId) -> Option<&VoicePresence> {
        self.places.get(&place.into())?.voice.get(&user)
    }

    /// A user's voice channel.
    pub fn voice_channel(&self, place: impl Into<Place>, user: UserId) -> Option<ChannelId> {
        self.voice_state(place, user).map(|v| v.channel_id)
    }

    /// Every voice state of a guild or call, by user id.
    pub fn voice_states(
        &self,
        place: impl Into<Place>,
    ) -> impl Iterator<Item = (UserId, &VoicePresence)> {
        self.places
            .get(&place.into())
            .into_iter()
            .flat_map(|g| g.voice.iter().map(|(u, v)| (*u, v)))
    }

    /// True when no voice state of anyone but us is known in the guild
    /// (no GUILD_CREATE yet, or a bot without the voice-states intent).
    pub fn roster_is_empty(&self, place: impl Into<Place>) -> bool {
        self.voice_states(place)
            .all(|(u, _)| Some(u) == self.own_user)
    }

    /// What we know of a user's names in a guild.
    pub fn names(&self, place: impl Into<Place>, user: UserId) -> Option<&Names> {
        self.places.get(&place.into())?.members.get(&user)
    }

    /// Members cached in a guild with their names.
    pub fn members(&self, place: impl Into<Place>) -> impl Iterator<Item = (UserId, &Names)> {
        self.places
            .get(&place.into())
            .into_iter()
            .flat_map(|g| g.members.iter().map(|(u, n)| (*u, n)))
    }

    /// The name to show for a user: nick, global name, username, else the id.
    pub fn display_name(&self, place: impl Into<Place>, user: UserId) -> String {
        self.names(place, user)
            .and_then(Names::display)
            .map_or_else(|| user.to_string(), str::to_owned)
    }

    /// Every stream of a guild or call, by owner then channel.
    pub fn streams(&self, place: impl Into<Place>) -> impl Iterator<Item = &Stream> {
        self.places
            .get(&place.into())
            .into_iter()
            .flat_map(|g| g.streams.values())
    }

    /// Number of streams stored in a guild or call.
    pub fn stream_count(&self, place: impl Into<Place>) -> usize {
        self.places
            .get(&place.into())
            .map_or(0, |g| g.streams.len())
    }

    /// The stream with this key.
    pub fn stream(&self, key: &StreamKey) -> Option<&Stream> {
        let (place, channel_id, user_id) = key_parts(key)?;
        self.places.get(&place)?.streams.get(&(user_id, channel_id))
    }

    /// A user's streams in a guild or call.
    pub fn streams_of(
        &self,
        place: impl Into<Place>,
        user: UserId,
    ) -> impl Iterator<Item = &Stream> {
        self.streams(place).filter(move |s| s.owner == user)
    }

    /// The user's best stream in a guild or call: one with credentials,
    /// else one STREAM_CREATE announced, else a provisional one; newest
    /// first.
    pub fn primary_stream_in(&self, place: impl Into<Place>, user: UserId) -> Option<&Stream> {
        self.streams_of(place, user).max_by_key(|s| s.rank())
    }

    /// The user's best stream anywhere (same ranking as
    /// [`Registry::primary_stream_in`]).
    pub fn primary_stream(&self, user: UserId) -> Option<&Stream> {
        self.places
            .values()
            .flat_map(|g| g.streams.values())
            .filter(|s| s.owner == user)
            .max_by_key(|s| s.rank())
    }

    /// True when the user has Go Live in the guild or call: `self_stream`
    /// in their voice state, or a discovered stream.
    pub fn is_go_live(&self, place: impl Into<Place>, user: UserId) -> bool {
        let place = place.into();
        self.voice_state(place, user).is_some_and(|v| v.self_stream)
            || self.streams_of(place, user).next().is_some()
    }

    /// True when the user's camera is on.
    pub fn has_webcam(&self, place: impl Into<Place>, user: UserId) -> bool {
        self.voice_state(place, user).is_some_and(|v| v.self_video)
    }

    /// The key to watch the user's Go Live with: the primary stream's, else
    /// one synthesized from their voice channel (`call:C:U` in a call).
    pub fn go_live_key(&self, place: impl Into<Place>, user: UserId) -> Option<StreamKey> {
        let place = place.into();
        self.primary_stream_in(place, user)
            .map(|s| s.key)
            .or_else(|| {
                let v = self.voice_state(place, user)?;
                v.self_stream
                    .then(|| synthesize_stream_key(place, v.channel_id, user))
            })
    }

    /// Our voice connection in the guild or call: channel, session id and
    /// the VOICE_SERVER_UPDATE credentials. `None` when we are not in voice
    /// there.
    pub fn own_voice(&self, place: impl Into<Place>) -> Option<OwnVoice> {
        let own = self.own_user?;
        let g = self.places.get(&place.into())?;
        Some(OwnVoice {
            channel_id: g.voice.get(&own)?.channel_id,
            session_id: g.own_session.clone()?,
            server: g.voice_server.clone(),
        })
    }

    /// The call we are in, if any.
    pub fn own_call(&self) -> Option<ChannelId> {
        let own = self.own_user?;
        self.places
            .iter()
            .find(|(p, g)| p.is_call() && g.voice.contains_key(&own))
            .and_then(|(p, _)| p.call_channel())
    }
}
