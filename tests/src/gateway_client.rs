//! A minimal main-gateway user client for the tests that drive mediad
//! without control: identify, join voice, watch a Go Live stream, and turn
//! the grants into IPC connect commands. Test code only (control has the
//! real client).

use futures_util::{SinkExt, StreamExt};
use gateway_proto::{
    ClientCommand, ConnectionProperties, Dispatch, Identify, Presence, ServerMessage, StreamKey,
    UpdateVoiceState, UserIdentify,
};
use ipc_schema::{Secret, StreamConnect, VoiceConnect};
// The gateway's snowflakes and the IPC ones are distinct types.
use gateway_proto::{ChannelId as GwChannel, GuildId as GwGuild, UserId as GwUser};
use ipc_schema::{ChannelId, GuildId, UserId};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The agent's user token in the built-in scenarios.
pub const AGENT_TOKEN: &str = "sim-user-agent";

/// A connected, identified user session.
pub struct SimUser {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Own user id.
    pub user_id: u64,
    /// Main-gateway session id.
    pub session_id: Secret,
    /// The first guild.
    pub guild_id: u64,
    /// Its first voice channel.
    pub voice_channel: u64,
    /// Users streaming when READY arrived.
    pub streaming: Vec<u64>,
    voice_session: Option<Secret>,
}

impl SimUser {
    /// Connects to `gateway_url` (`wss://`, trusting the webpki roots and
    /// the sim's CA `ca_pem`) and identifies with `token`.
    pub async fn connect(gateway_url: &str, token: &str, ca_pem: &str) -> Self {
        let ws = tls_client::TlsClient::with_extra_pem(ca_pem)
            .expect("the sim's CA loads")
            .connect_ws(
                &format!("{gateway_url}?v=10&encoding=json"),
                std::time::Duration::from_secs(10),
            )
            .await
            .expect("gateway connect");
        let mut u = Self {
            ws,
            user_id: 0,
            session_id: Secret::default(),
            guild_id: 0,
            voice_channel: 0,
            streaming: Vec::new(),
            voice_session: None,
        };
        let id = Identify::User(UserIdentify {
            token: Secret::new(token),
            capabilities: 16381,
            properties: ConnectionProperties::default(),
            presence: Some(Presence::user_default()),
            compress: Some(false),
            client_state: None,
        });
        u.send(&ClientCommand::Identify(Box::new(id))).await;
        let Dispatch::Ready(ready) = u.dispatch("READY").await else {
            unreachable!("dispatch returns the named event")
        };
        u.user_id = ready.user.id.0;
        u.session_id = ready.session_id;
        let Dispatch::GuildCreate(g) = u.dispatch("GUILD_CREATE").await else {
            unreachable!("dispatch returns the named event")
        };
        u.guild_id = g.id.0;
        u.voice_channel = g
            .channels
            .iter()
            .find(|c| c.kind == 2)
            .map(|c| c.id.0)
            .expect("a voice channel");
        u.streaming = g
            .voice_states
            .iter()
            .filter(|v| v.is_streaming())
            .map(|v| v.user_id.0)
            .collect();
        u
    }

    async fn send(&mut self, cmd: &ClientCommand) {
        self.ws
            .send(Message::text(cmd.to_text()))
            .await
            .expect("gateway send");
    }

    /// The next dispatch named `name` (others skipped; heartbeats are not
    /// needed for the few seconds a test lives between calls).
    pub async fn dispatch(&mut self, name: &str) -> Dispatch {
        self.next_of(&[name]).await
    }

    /// Joins the voice channel; returns the voice connect command.
    pub async fn join_voice(&mut self) -> VoiceConnect {
        let cmd = UpdateVoiceState::join(
            Some(GwGuild(self.guild_id)),
            GwChannel(self.voice_channel),
            false,
            false,
        );
        self.send(&ClientCommand::UpdateVoiceState(cmd)).await;
        let (mut session, mut server) = (None, None);
        while session.is_none() || server.is_none() {
            match self
                .next_of(&["VOICE_STATE_UPDATE", "VOICE_SERVER_UPDATE"])
                .await
            {
                Dispatch::VoiceStateUpdate(v) if v.user_id.0 == self.user_id => {
                    session = Some(v.session_id)
                }
                Dispatch::VoiceServerUpdate(s) => server = Some(s),
                _ => {}
            }
        }
        let (session, server) = (session.expect("loop exit"), server.expect("loop exit"));
        self.voice_session = Some(session.clone());
        VoiceConnect {
            guild_id: GuildId(self.guild_id),
            channel_id: ChannelId(self.voice_channel),
            user_id: UserId(self.user_id),
            session_id: session,
            endpoint: server.endpoint.expect("endpoint"),
            token: server.token,
            dave_group_id: self.voice_channel,
        }
    }

    /// Watches `streamer`'s Go Live stream; returns the stream connect.
    pub async fn watch(&mut self, streamer: u64) -> StreamConnect {
        let key = self.key(streamer);
        self.send(&ClientCommand::WatchStream(key)).await;
        self.stream_grant(key).await
    }

    /// Goes live in the voice channel; returns the publish connect.
    pub async fn go_live(&mut self) -> StreamConnect {
        let create = gateway_proto::CreateStream::guild(
            GwGuild(self.guild_id),
            GwChannel(self.voice_channel),
        );
        self.send(&ClientCommand::CreateStream(create)).await;
        self.stream_grant(self.key(self.user_id)).await
    }

    fn key(&self, owner: u64) -> StreamKey {
        StreamKey::Guild {
            guild_id: GwGuild(self.guild_id),
            channel_id: GwChannel(self.voice_channel),
            user_id: GwUser(owner),
        }
    }

    async fn stream_grant(&mut self, key: StreamKey) -> StreamConnect {
        let streamer = key.owner().0;
        let (mut rtc, mut server) = (None, None);
        while rtc.is_none() || server.is_none() {
            match self
                .next_of(&["STREAM_CREATE", "STREAM_SERVER_UPDATE"])
                .await
            {
                Dispatch::StreamCreate(s) if s.stream_key == key => {
                    rtc = Some(s.rtc_server_id.expect("rtc_server_id").0)
                }
                Dispatch::StreamServerUpdate(s) if s.stream_key == key => server = Some(s),
                _ => {}
            }
        }
        let (rtc, server) = (rtc.expect("loop exit"), server.expect("loop exit"));
        StreamConnect {
            stream_key: key.to_string(),
            streamer_id: UserId(streamer),
            user_id: UserId(self.user_id),
            server_id: rtc,
            session_id: self.voice_session.clone().expect("join voice first"),
            endpoint: server.endpoint.expect("endpoint"),
            token: server.token,
            dave_group_id: rtc.saturating_sub(1),
        }
    }

    async fn next_of(&mut self, names: &[&str]) -> Dispatch {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    if let Ok(ServerMessage::Dispatch { event, .. }) =
                        ServerMessage::from_text(t.as_str())
                        && names.contains(&event.event_name())
                    {
                        return event;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("gateway closed while waiting for {names:?}: {other:?}"),
            }
        }
    }
}
