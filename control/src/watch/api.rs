//! What the watch manager offers: requests, results, views and the handle.

use super::*;

/// How watching behaves.
#[derive(Clone, Copy, Debug)]
pub struct WatchConfig {
    /// The account is a bot (cannot watch Go Live).
    pub bot_account: bool,
    /// `STREAM_LINK_FALLBACK`: the share-link path may be used.
    pub link_fallback_enabled: bool,
    /// `--voice-channel`: a voice channel the agent sits in from the start
    /// (and rejoins after every new gateway session), so users can talk to
    /// it before any watch.
    pub home_voice: Option<HomeVoice>,
}

/// A guild's voice channel, given as `GUILD_ID/CHANNEL_ID`, optionally
/// with the text channel that goes with it: `GUILD_ID/CHANNEL_ID/TEXT_ID`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HomeVoice {
    /// The guild.
    pub guild: GuildId,
    /// Its voice channel.
    pub channel: ChannelId,
    /// Where spoken requests' watches post (link offers, commentary when
    /// `textChannelReplies`).
    pub text: Option<ChannelId>,
}

impl std::str::FromStr for HomeVoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.trim().split('/');
        let (Some(g), Some(c), t, None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "{s:?}: expected GUILD_ID/CHANNEL_ID[/TEXT_CHANNEL_ID]"
            ));
        };
        let id = |what: &str, v: &str| {
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{s:?}: the {what} id {v:?} is not a snowflake"))
        };
        Ok(Self {
            guild: GuildId(id("guild", g)?),
            channel: ChannelId(id("channel", c)?),
            text: t.map(|t| id("text channel", t)).transpose()?.map(ChannelId),
        })
    }
}

/// Share-link settings of the manager.
#[derive(Clone, Debug)]
pub struct LinkConfig {
    /// Base URL links are built on (`PUBLIC_BASE_URL`).
    pub public_url: String,
    /// Session rules.
    pub share: share_core::ShareSettings,
    /// Where live sessions are kept across restarts (none: memory only).
    pub store: Option<crate::store::Store>,
    /// Live settings changes (share rules follow them).
    pub settings: Option<tokio::sync::watch::Receiver<share_core::ShareSettings>>,
    /// The live `voice.streamWatch` settings: native watches subscribe with
    /// their `nativeDiscord*` values and re-subscribe when they change
    /// (none: the defaults).
    pub stream_watch_settings: Option<tokio::sync::watch::Receiver<brain_core::Settings>>,
}

/// `start_screen_watch`, its ids already parsed (by the HTTP edge, or
/// taken from gateway events by the conversation).
#[derive(Clone, Debug)]
pub struct StartRequest {
    /// Where: a guild, or a DM / group DM call (its channel; issue 15
    /// item 14). `None`: neither was named (refused).
    pub place: Option<Place>,
    /// Who asked.
    pub requester: UserId,
    /// Whom to watch (display name, username, mention or id).
    pub target: Option<String>,
    /// `"link"` skips native watching.
    pub preferred_transport: Option<String>,
    /// Text channel for commentary and link offers.
    pub text_channel: Option<ChannelId>,
}

impl StartRequest {
    /// A request by `requester` in `place`, nothing else named.
    pub fn new(place: Option<Place>, requester: UserId) -> Self {
        Self {
            place,
            requester,
            target: None,
            preferred_transport: None,
            text_channel: None,
        }
    }
}

/// The result of `start_screen_watch`, as the reference reports it (also
/// the answer of `POST /api/voice/share-session`).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchResult {
    /// Accepted.
    pub ok: bool,
    /// A new watch began.
    pub started: bool,
    /// An existing watch of the same target was reused.
    pub reused: bool,
    /// Why not, or why this transport.
    pub reason: Option<String>,
    /// A decoded frame of the target exists for this watch.
    pub frame_ready: bool,
    /// `native`, `webcam` or `link`.
    pub transport: Option<String>,
    /// The watched user.
    pub target_user_id: Option<String>,
    /// Capture link (share-link path).
    pub link_url: Option<String>,
    /// Link lifetime.
    pub expires_in_minutes: Option<u32>,
    /// The watch id.
    pub watch_id: Option<u64>,
}

/// One watch, for `GET /api/voice/state`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchView {
    /// Id.
    pub watch_id: u64,
    /// Guild (empty for a call).
    pub guild_id: String,
    /// The call's channel, for a watch in a DM / group DM call.
    pub call_id: Option<String>,
    /// Target.
    pub target_user_id: String,
    /// Target's name.
    pub target_name: String,
    /// Transport.
    pub transport: String,
    /// Native stream key, if any.
    pub stream_key: Option<String>,
    /// mediad's stream transport is up.
    pub native_active: bool,
    /// A frame arrived.
    pub frame_ready: bool,
    /// Frames received for this watch.
    pub frames: u64,
    /// Requesters.
    pub requesters: Vec<String>,
}

/// `GET /api/voice/state`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoiceStateView {
    /// Own user id.
    pub user_id: Option<String>,
    /// Own voice channel per guild or call.
    pub voice: Vec<super::view::OwnVoiceView>,
    /// Users sharing (Go Live or camera), per guild or call.
    pub sharers: Vec<super::view::SharerView>,
    /// Known streams.
    pub streams: Vec<super::view::StreamView>,
    /// Watches.
    pub watches: Vec<WatchView>,
}

/// `GET /api/voice/share-sessions`: the live links.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ShareListing {
    /// Live links, token suffixes only.
    pub sessions: Vec<ShareSessionView>,
}

/// One live share link (never its whole token).
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShareSessionView {
    /// The token's last characters.
    pub suffix: String,
    /// Guild.
    pub guild_id: String,
    /// Who asked for it.
    pub requester_id: String,
    /// Whose screen.
    pub target_id: String,
    /// Minutes left.
    pub expires_in_minutes: u64,
    /// Frames accepted so far.
    pub frames_accepted: u64,
}

/// A frame posted to a share link, as the watch manager admits it. The
/// picture stays with the HTTP handler, which scores it (a 1/8-scale JPEG
/// decode) only once the frame is admitted: a rejected frame costs no
/// decode.
pub struct LinkFrame {
    /// The token from the URL.
    pub token: String,
    /// Declared MIME type.
    pub mime: String,
    /// Its decoded size.
    pub decoded_len: usize,
}

/// An admitted frame's change metrics, kept per share session (or per
/// watch for direct ingest) and updated by whoever scores the frame.
pub type SharedTracker = Arc<std::sync::Mutex<video_pipeline::ChangeTracker>>;

/// Where an admitted frame goes.
pub struct Admitted {
    /// The watch it feeds.
    pub watch_id: u64,
    /// That watch's target user.
    pub target: u64,
    /// The change metrics its grid is observed by.
    pub tracker: SharedTracker,
}

/// A frame's admission: `Ok(Some)` accepted with a watch to feed,
/// `Ok(None)` accepted with nothing to feed (a restored link whose watch
/// cannot be armed), `Err` the rejection to answer.
pub type Admission = Result<Option<Admitted>, FrameReply>;

pub(super) enum Cmd {
    ShareList(oneshot::Sender<ShareListing>),
    ShareStopSuffix(Option<String>, oneshot::Sender<StopReply>),
    ShareInfo(String, oneshot::Sender<Option<u64>>),
    ShareFrame(Box<LinkFrame>, oneshot::Sender<Admission>),
    IngestFrame(Box<IngestFrame>, oneshot::Sender<Admission>),
    ShareStop(String, oneshot::Sender<StopReply>),
    Start(StartRequest, oneshot::Sender<WatchResult>),
    Stop(Option<Place>, oneshot::Sender<WatchResult>),
    State(oneshot::Sender<VoiceStateView>),
    GoLive(GoLiveRequest, oneshot::Sender<WatchResult>),
}

/// `POST /api/voice/go-live`: our own Go Live through the gateway
/// (op 18 / 22 / 19; issue 15 item 18).
#[derive(Clone, Debug)]
pub struct GoLiveRequest {
    /// `start`, `pause`, `resume` or `stop`.
    pub action: String,
    /// The guild whose voice channel we are in (needed to start).
    pub guild: Option<GuildId>,
}

/// A frame posted to the direct ingest route
/// (`POST /api/voice/stream-ingest/frame`, `PUBLIC_API_TOKEN`).
#[derive(Debug)]
pub struct IngestFrame {
    /// Guild of the watch it feeds.
    pub guild: GuildId,
    /// The watched user (optional when the guild has one watch).
    pub streamer: Option<UserId>,
    /// Declared MIME type.
    pub mime: String,
    /// Whether the handler decoded the picture (not when it was over the
    /// size limit).
    pub decoded: bool,
    /// Its decoded size.
    pub decoded_len: usize,
}

/// Talks to the watch manager.
#[derive(Clone)]
pub struct WatchHandle {
    pub(super) tx: mpsc::Sender<Cmd>,
}

impl WatchHandle {
    /// `start_screen_watch`.
    pub async fn start(&self, req: StartRequest) -> WatchResult {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Start(req, tx)).await.is_err() {
            return refused("control_stopping");
        }
        rx.await.unwrap_or_else(|_| refused("control_stopping"))
    }

    /// Our own Go Live: start, pause, resume, stop.
    pub async fn go_live(&self, req: GoLiveRequest) -> WatchResult {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::GoLive(req, tx)).await.is_err() {
            return refused("control_stopping");
        }
        rx.await.unwrap_or_else(|_| refused("control_stopping"))
    }

    /// `stop_screen_watch` (one guild or call, or every watch).
    pub async fn stop(&self, place: Option<Place>) -> WatchResult {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Stop(place, tx)).await.is_err() {
            return refused("control_stopping");
        }
        rx.await.unwrap_or_else(|_| refused("control_stopping"))
    }

    /// Admits (or rejects) a frame posted to a share link.
    pub async fn share_frame(&self, frame: LinkFrame) -> Admission {
        self.frame_cmd(|tx| Cmd::ShareFrame(Box::new(frame), tx))
            .await
    }

    /// Admits (or rejects) a frame for a running watch from the direct
    /// ingest route.
    pub async fn ingest_frame(&self, frame: IngestFrame) -> Admission {
        self.frame_cmd(|tx| Cmd::IngestFrame(Box::new(frame), tx))
            .await
    }

    async fn frame_cmd(&self, cmd: impl FnOnce(oneshot::Sender<Admission>) -> Cmd) -> Admission {
        let (tx, rx) = oneshot::channel();
        let gone = || Err((503, FrameAnswer::refused("control_stopping")));
        if self.tx.send(cmd(tx)).await.is_err() {
            return gone();
        }
        rx.await.unwrap_or_else(|_| gone())
    }

    /// Live share links (suffixes only, never whole tokens).
    pub async fn share_list(&self) -> Option<ShareListing> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::ShareList(tx)).await.ok()?;
        rx.await.ok()
    }

    /// Stops the link whose token ends with `suffix`, or all of them.
    pub async fn share_stop_suffix(&self, suffix: Option<String>) -> StopReply {
        let (tx, rx) = oneshot::channel();
        let gone = (503, ShareStopAnswer::refused("control_stopping"));
        if self
            .tx
            .send(Cmd::ShareStopSuffix(suffix, tx))
            .await
            .is_err()
        {
            return gone;
        }
        rx.await.unwrap_or(gone)
    }

    /// Seconds left on a live link (`None`: unknown or over).
    pub async fn share_remaining(&self, token: String) -> Option<u64> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::ShareInfo(token, tx)).await.ok()?;
        rx.await.ok().flatten()
    }

    /// The page's Stop Sharing.
    pub async fn share_stop(&self, token: String) -> StopReply {
        let (tx, rx) = oneshot::channel();
        let gone = (503, ShareStopAnswer::refused("control_stopping"));
        if self.tx.send(Cmd::ShareStop(token, tx)).await.is_err() {
            return gone;
        }
        rx.await.unwrap_or(gone)
    }

    /// What control knows and does.
    pub async fn state(&self) -> Option<VoiceStateView> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::State(tx)).await.ok()?;
        rx.await.ok()
    }
}

#[cfg(test)]
mod home_voice_tests {
    use super::HomeVoice;

    #[test]
    fn parses_guild_slash_channel_and_names_what_is_wrong() {
        let h: HomeVoice = " 900000000000000001/900000000000000011 ".parse().unwrap();
        assert_eq!(
            (h.guild.0, h.channel.0, h.text),
            (900000000000000001, 900000000000000011, None)
        );
        let h: HomeVoice = "1/2/3".parse().unwrap();
        assert_eq!(h.text.map(|t| t.0), Some(3));
        for (bad, says) in [
            ("900000000000000001", "GUILD_ID/CHANNEL_ID"),
            ("1/2/3/4", "GUILD_ID/CHANNEL_ID"),
            ("1/2/x", "text channel id"),
            ("x/1", "guild id"),
            ("1/0", "channel id"),
            ("1/-5", "channel id"),
        ] {
            let e = bad.parse::<HomeVoice>().unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
