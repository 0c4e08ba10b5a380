//! [`OwnGoLive`]: control's own Go Live (stream_publish), started and
//! paused through the main gateway (issue 15 item 18).
//!
//! # Decision
//!
//! Before this, the stream_publish transport only ever got credentials
//! from outside (tests over mediad's IPC): nothing in control asked
//! Discord for a stream. Now control does what a user client does:
//!
//! 1. In voice in the channel, send op 18 Stream Create
//!    `{type:"guild", guild_id, channel_id, preferred_region:null}` and
//!    right after it op 22 Stream Set Paused `{stream_key, paused:false}`
//!    (fact sheet §4.5 step 2, from Discord-video-stream `Streamer.ts`
//!    `createStream`, clanker_conk and utsuru, which all send op 22
//!    immediately; payload shapes: discord-userdoccers
//!    `pages/gateway/gateway-events.mdx` "Create Stream" / "Update Stream",
//!    fact sheet §4.2). The key is predicted with
//!    `CreateStream::stream_key` (`guild:G:C:<own id>`, §4.4).
//! 2. STREAM_CREATE (rtc_server_id) and STREAM_SERVER_UPDATE (endpoint,
//!    token) for that key, in either order (item 3), give the publish
//!    connection: `server_id = rtc_server_id`, the voice session id, DAVE
//!    group `rtc_server_id − 1` (§4.5 step 3) → [`GoLiveOutput::Connect`].
//!    A later STREAM_SERVER_UPDATE reconnects (§4.5 step 6);
//!    `endpoint: null` disconnects and waits.
//! 3. Pause / resume: op 22 with `paused` ([`OwnGoLive::set_paused`]).
//! 4. Stop: close the publish connection, then op 19 Stream Delete
//!    `{stream_key}` (§4.5 step 4) ([`OwnGoLive::stop`]).
//! 5. STREAM_DELETE of the key (refusal or end), our leaving voice, or a
//!    new gateway session end it with the reason.
//!
//! Bots cannot Go Live (Discord answers `unauthorized`): the shell refuses
//! before calling [`OwnGoLive::start`].

use gateway_proto::{
    ChannelId, ClientCommand, CreateStream, GuildId, Secret, SetStreamPaused, StreamKey, UserId,
};

use crate::place::Place;
use crate::registry::{Registry, RegistryEvent, StreamCredentials};

/// What the shell must do for our own Go Live.
#[derive(Debug, Clone, PartialEq)]
pub enum GoLiveOutput {
    /// Send this on the main gateway.
    Gateway(ClientCommand),
    /// Connect (or reconnect) mediad's stream_publish transport.
    Connect {
        /// Our stream's key.
        stream_key: StreamKey,
        /// `server_id`, endpoint, token and DAVE group.
        credentials: StreamCredentials,
        /// Our voice session id (shared by the stream connection).
        session_id: Secret,
    },
    /// Disconnect the stream_publish transport (reallocation; it may come
    /// back with a new STREAM_SERVER_UPDATE).
    Disconnect,
    /// The Go Live is over; the transport must be closed.
    Ended {
        /// Why (snake_case).
        reason: String,
    },
}

/// Where our Go Live is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoLivePhase {
    /// Op 18 sent; waiting for STREAM_CREATE and STREAM_SERVER_UPDATE.
    Requested,
    /// Credentials handed to the shell.
    Connected,
    /// Over.
    Ended,
}

/// Our own Go Live in one voice channel.
#[derive(Debug, Clone)]
pub struct OwnGoLive {
    key: StreamKey,
    guild: GuildId,
    phase: GoLivePhase,
    paused: bool,
    /// (token, rtc_server_id) last handed out, so a repeated event does not
    /// reconnect.
    connected_with: Option<(Secret, u64)>,
}

impl OwnGoLive {
    /// Starts a Go Live of `own` in `channel` of `guild`: op 18, then op 22
    /// `paused:false`.
    pub fn start(guild: GuildId, channel: ChannelId, own: UserId) -> (Self, Vec<GoLiveOutput>) {
        let create = CreateStream::guild(guild, channel);
        let key = StreamKey::Guild {
            guild_id: guild,
            channel_id: channel,
            user_id: own,
        };
        debug_assert_eq!(create.stream_key(own), Some(key));
        let this = Self {
            key,
            guild,
            phase: GoLivePhase::Requested,
            paused: false,
            connected_with: None,
        };
        let out = vec![
            GoLiveOutput::Gateway(ClientCommand::CreateStream(create)),
            GoLiveOutput::Gateway(ClientCommand::SetStreamPaused(SetStreamPaused {
                stream_key: key,
                paused: false,
            })),
        ];
        (this, out)
    }

    /// Our stream's key.
    pub fn key(&self) -> StreamKey {
        self.key
    }

    /// Where it is.
    pub fn phase(&self) -> GoLivePhase {
        self.phase
    }

    /// Paused by us.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Op 22 to pause or resume (nothing once ended or unchanged).
    pub fn set_paused(&mut self, paused: bool) -> Vec<GoLiveOutput> {
        if self.phase == GoLivePhase::Ended || self.paused == paused {
            return Vec::new();
        }
        self.paused = paused;
        vec![GoLiveOutput::Gateway(ClientCommand::SetStreamPaused(
            SetStreamPaused {
                stream_key: self.key,
                paused,
            },
        ))]
    }

    /// Ends it ourselves: the transport closes, then op 19.
    pub fn stop(&mut self, reason: &str) -> Vec<GoLiveOutput> {
        if self.phase == GoLivePhase::Ended {
            return Vec::new();
        }
        self.phase = GoLivePhase::Ended;
        vec![
            GoLiveOutput::Ended {
                reason: reason.to_owned(),
            },
            GoLiveOutput::Gateway(ClientCommand::DeleteStream(self.key)),
        ]
    }

    /// A registry event (after the registry has applied the dispatch).
    pub fn on_registry_event(&mut self, reg: &Registry, ev: &RegistryEvent) -> Vec<GoLiveOutput> {
        if self.phase == GoLivePhase::Ended {
            return Vec::new();
        }
        match ev {
            RegistryEvent::StreamCredentialsReady { key } if *key == self.key => self.connect(reg),
            RegistryEvent::StreamReallocating { key } if *key == self.key => {
                self.connected_with = None;
                self.phase = GoLivePhase::Requested;
                vec![GoLiveOutput::Disconnect]
            }
            RegistryEvent::StreamEnded { key, reason } if *key == self.key => {
                self.phase = GoLivePhase::Ended;
                let reason = match reason {
                    crate::StreamEndReason::Deleted { reason, .. } => {
                        format!("stream_deleted_{}", reason.as_str())
                    }
                    other => other.as_str().to_owned(),
                };
                vec![GoLiveOutput::Ended { reason }]
            }
            RegistryEvent::SelfVoiceChanged { guild, channel }
                if *guild == Place::Guild(self.guild) && *channel != self.key.channel_id() =>
            {
                self.phase = GoLivePhase::Ended;
                vec![GoLiveOutput::Ended {
                    reason: "left_voice_channel".to_owned(),
                }]
            }
            _ => Vec::new(),
        }
    }

    fn connect(&mut self, reg: &Registry) -> Vec<GoLiveOutput> {
        let Some(credentials) = reg.stream(&self.key).and_then(|s| s.credentials()) else {
            return Vec::new();
        };
        let Some(voice) = reg.own_voice(self.guild) else {
            return Vec::new();
        };
        let sent = (credentials.token.clone(), credentials.rtc_server_id.get());
        if self.connected_with.as_ref() == Some(&sent) {
            return Vec::new();
        }
        self.connected_with = Some(sent);
        self.phase = GoLivePhase::Connected;
        vec![GoLiveOutput::Connect {
            stream_key: self.key,
            credentials,
            session_id: voice.session_id,
        }]
    }
}

#[cfg(test)]
#[path = "golive_tests.rs"]
mod tests;
