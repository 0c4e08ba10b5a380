//! World mutations driven by scenarios and the admin API: simulated
//! participants (join, Go Live, webcam, speaking), forced leaves and stream
//! ends, and posted messages.

use gateway_proto::{ChannelId, Dispatch, MessageCreate, MessageId, StreamDeleteReason, UserId};

use crate::error::SimError;
use crate::media::{MediaAction, Participant, ServerKind, VideoKind, VideoSpecConfig};
use crate::world::{Audience, Effect, MessageSource, PostedMessage, VoiceStateRecord, World};
use crate::world_ops::{CLOSE_DISCONNECTED, dispatch};

impl World {
    /// A simulated user joins a voice channel (optionally with the camera
    /// on); their media comes from the voice server as a participant.
    pub fn sim_join(
        &mut self,
        user: UserId,
        channel: ChannelId,
        self_mute: bool,
        self_deaf: bool,
        camera: Option<VideoSpecConfig>,
    ) -> Result<Vec<Effect>, SimError> {
        let mut fx = Vec::new();
        let (guild, channel) = self.voice_channel(channel)?;
        self.check_voice_access(user, guild, channel)?;
        self.leave_voice(user, Some(CLOSE_DISCONNECTED), &mut fx);
        let camera = camera.map(|c| VideoSpecConfig {
            kind: VideoKind::Camera,
            ..c
        });
        let state = VoiceStateRecord {
            guild_id: guild,
            channel_id: channel,
            user_id: user,
            session_id: self.fresh_token(),
            self_mute,
            self_deaf,
            self_stream: false,
            self_video: camera.is_some(),
            simulated: true,
            camera: camera.clone(),
        };
        self.call_starting(&state, &mut fx);
        fx.push(self.voice_state_effect(&state));
        let room = state.room();
        self.voice.insert(user, state);
        fx.push(Effect::Media(MediaAction::AddParticipant {
            server: ServerKind::Voice,
            room,
            participant: Participant {
                user_id: user.get(),
                audio: true,
                video: camera,
                dave: self.settings.dave,
            },
        }));
        Ok(fx)
    }

    /// Any user leaves voice (scenario or admin); a gateway user's voice
    /// connection is closed with 4014.
    pub fn force_leave(&mut self, user: UserId) -> Vec<Effect> {
        let mut fx = Vec::new();
        self.leave_voice(user, Some(CLOSE_DISCONNECTED), &mut fx);
        fx
    }

    /// A simulated user starts Go Live with `video` (a screen share).
    pub fn sim_start_stream(
        &mut self,
        user: UserId,
        video: VideoSpecConfig,
    ) -> Result<Vec<Effect>, SimError> {
        let mut fx = Vec::new();
        if !self.voice.get(&user).is_some_and(|v| v.simulated) {
            return Err(SimError::NotInVoice(user.get()));
        }
        self.end_stream(user, StreamDeleteReason::StreamEnded, false, &mut fx);
        let video = VideoSpecConfig {
            kind: VideoKind::Screen,
            ..video
        };
        let s = self.new_stream(user, None, Some(video.clone()))?;
        self.streams.insert(user, s.clone());
        self.mark_streaming(user, &mut fx);
        fx.push(Effect::Media(MediaAction::AddParticipant {
            server: ServerKind::Stream,
            room: s.rtc_server_id,
            participant: Participant {
                user_id: user.get(),
                audio: false,
                video: Some(video),
                dave: self.settings.dave,
            },
        }));
        Ok(fx)
    }

    /// Ends `user`'s stream (scenario stop: `user_requested`; admin: any
    /// reason). Unknown streams are an error so admin typos are visible.
    pub fn stop_stream(
        &mut self,
        user: UserId,
        reason: StreamDeleteReason,
    ) -> Result<Vec<Effect>, SimError> {
        if !self.streams.contains_key(&user) {
            return Err(SimError::UnknownStream(format!("of user {user}")));
        }
        let mut fx = Vec::new();
        self.end_stream(user, reason, true, &mut fx);
        Ok(fx)
    }

    fn simulated_state(&mut self, user: UserId) -> Result<&mut VoiceStateRecord, SimError> {
        self.voice
            .get_mut(&user)
            .filter(|v| v.simulated)
            .ok_or(SimError::NotInVoice(user.get()))
    }

    /// A simulated user turns the camera on (with `video`, default 640x360)
    /// or off.
    pub fn set_webcam(
        &mut self,
        user: UserId,
        on: bool,
        video: Option<VideoSpecConfig>,
    ) -> Result<Vec<Effect>, SimError> {
        let dave = self.settings.dave;
        let v = self.simulated_state(user)?;
        let camera = on.then(|| VideoSpecConfig {
            kind: VideoKind::Camera,
            ..video.unwrap_or_else(VideoSpecConfig::default_camera)
        });
        v.self_video = on;
        v.camera = camera.clone();
        let v = v.clone();
        let room = v.room();
        Ok(vec![
            self.voice_state_effect(&v),
            Effect::Media(MediaAction::RemoveParticipant {
                server: ServerKind::Voice,
                room,
                user_id: user.get(),
            }),
            Effect::Media(MediaAction::AddParticipant {
                server: ServerKind::Voice,
                room,
                participant: Participant {
                    user_id: user.get(),
                    audio: true,
                    video: camera,
                    dave,
                },
            }),
        ])
    }

    /// A simulated user starts or stops speaking.
    pub fn speak(&mut self, user: UserId, speaking: bool) -> Result<Vec<Effect>, SimError> {
        let room = self.simulated_state(user)?.room();
        Ok(vec![Effect::Media(MediaAction::SetSpeaking {
            server: ServerKind::Voice,
            room,
            user_id: user.get(),
            speaking,
        })])
    }

    /// The voice room (guild id) a simulated user can speak in.
    pub fn speaker_room(&self, user: UserId) -> Result<u64, SimError> {
        self.voice
            .get(&user)
            .filter(|v| v.simulated)
            .map(VoiceStateRecord::room)
            .ok_or(SimError::NotInVoice(user.get()))
    }

    /// Records a message and announces MESSAGE_CREATE to the guild.
    pub fn post_message(
        &mut self,
        author: UserId,
        channel: ChannelId,
        content: &str,
        now_unix_ms: u64,
        source: MessageSource,
    ) -> Result<(PostedMessage, Vec<Effect>), SimError> {
        let guild = self.channel(channel)?.guild_id;
        self.check_member(author, guild)?;
        let msg = PostedMessage {
            id: self.snowflake(),
            channel_id: channel,
            guild_id: guild,
            author_id: author,
            content: content.to_owned(),
            timestamp_unix_ms: now_unix_ms,
            source,
        };
        self.messages.push(msg.clone());
        let event = Dispatch::MessageCreate(MessageCreate {
            id: MessageId(msg.id),
            channel_id: channel,
            guild_id: Some(guild),
            author: self.user_object(author)?,
            content: msg.content.clone(),
        });
        Ok((msg, vec![dispatch(Audience::Guild(guild), event)]))
    }
}
