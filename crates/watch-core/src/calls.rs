//! [`Registry`]'s CALL_CREATE / CALL_DELETE: what a call is before any
//! voice state of it arrives.
//!
//! Why (issue 15 item 14): a call that was already running when our
//! gateway session started sends no VOICE_STATE_UPDATE until someone in it
//! changes, so without these a watch in it was refused as unknown.
//! discord-userdoccers `pages/gateway/gateway-events.mdx` "Call Create":
//! "Sent when a user creates a call in a private channel, or to inform the
//! client of an existing call"; `voice_states` are "The voice states of the
//! users already in the call". With the `AUTO_CALL_CONNECT` capability
//! (which control's Identify sets, `gateway_proto::USER_CAPABILITIES`) the
//! gateway sends it "for all calls created before the Gateway connection
//! was established". "Call Delete": "Sent when a call is deleted, or
//! becomes unavailable due to an outage".

use gateway_proto::{CallCreate, CallDelete};

use super::*;

impl Registry {
    /// CALL_CREATE: the call becomes known (a [`Place::Call`], within
    /// [`MAX_CALLS`]) and its voice states replace what was known of it,
    /// like GUILD_CREATE's: each listed user is in the call (whatever
    /// their `channel_id` says, they are listed as in it), users missing
    /// from the list have left it. A call announced this way is kept until
    /// CALL_DELETE or READY, also while we are not in it, since its
    /// recipients keep getting its voice states.
    pub fn on_call_create(&mut self, call: &CallCreate) -> Vec<RegistryEvent> {
        let mut out = Vec::new();
        let place = Place::Call(call.channel_id);
        let Some((state, _)) = self.guild_ctx(place, &mut out) else {
            return out;
        };
        state.announced = true;
        let mut listed = std::collections::BTreeSet::new();
        for vs in call
            .voice_states
            .iter()
            .take(self.limits.max_voice_states_per_guild.saturating_add(1))
        {
            listed.insert(vs.user_id);
            let in_call = VoiceState {
                guild_id: None,
                channel_id: Some(call.channel_id),
                ..vs.clone()
            };
            out.extend(self.on_voice_state_update(&in_call));
        }
        let gone: Vec<VoiceState> = self
            .places
            .get(&place)
            .into_iter()
            .flat_map(|g| g.voice.keys())
            .filter(|u| !listed.contains(u))
            .map(|&user_id| VoiceState {
                guild_id: None,
                channel_id: None,
                user_id,
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
            })
            .collect();
        for leave in gone {
            if let Some((state, mut ctx)) = self.guild_ctx(place, &mut out) {
                state.apply_voice(&leave, &mut ctx);
            }
        }
        out
    }

    /// CALL_DELETE: the call is over (or unavailable): it is forgotten,
    /// everyone in it has left voice ([`RegistryEvent::UserLeftVoice`],
    /// ours as [`RegistryEvent::SelfVoiceChanged`]) and its streams end.
    /// An unknown call changes nothing.
    pub fn on_call_delete(&mut self, delete: &CallDelete) -> Vec<RegistryEvent> {
        let mut out = Vec::new();
        let place = Place::Call(delete.channel_id);
        let Some(state) = self.places.remove(&place) else {
            return out;
        };
        for s in state.streams.into_values() {
            out.push(RegistryEvent::StreamEnded {
                key: s.key,
                reason: StreamEndReason::OwnerLeftVoice,
            });
        }
        for (user, v) in state.voice {
            out.push(if Some(user) == self.own_user {
                RegistryEvent::SelfVoiceChanged {
                    guild: place,
                    channel: None,
                }
            } else {
                RegistryEvent::UserLeftVoice {
                    guild: place,
                    user,
                    channel: v.channel_id,
                }
            });
        }
        out
    }
}
