//! The desired media state and its reconciliation with a mediad snapshot.

use ipc_schema::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// What control wants mediad to hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DesiredMedia {
    /// The voice connection, if any.
    pub voice: Option<VoiceConnectView>,
    /// The Go Live watch connection, if any.
    pub stream_watch: Option<StreamConnectView>,
    /// The Go Live publish connection, if any.
    pub stream_publish: Option<StreamConnectView>,
    /// Video subscriptions by user.
    #[serde(skip)]
    pub subscriptions: BTreeMap<UserId, VideoSubscription>,
    /// Whether publishing is paused.
    pub publish_paused: bool,
    /// False until something was set or adopted: a fresh control that finds
    /// a mediad holding state adopts it instead of tearing it down.
    pub initialized: bool,
}

/// A voice connect request (wrapped so JSON views never show secrets).
#[derive(Clone, Debug, PartialEq)]
pub struct VoiceConnectView(pub VoiceConnect);
/// A stream connect request (wrapped so JSON views never show secrets).
#[derive(Clone, Debug, PartialEq)]
pub struct StreamConnectView(pub StreamConnect);

impl Serialize for VoiceConnectView {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        VoiceConnectState::from(self).serialize(s)
    }
}

impl Serialize for StreamConnectView {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StreamConnectState::from(self).serialize(s)
    }
}

/// A desired voice connection as the views show it (ids as strings; no
/// token, no session id). Fields in key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoiceConnectState {
    /// The voice channel.
    pub channel_id: String,
    /// The DAVE group (the channel id).
    pub dave_group_id: String,
    /// The voice server.
    pub endpoint: String,
    /// The guild.
    pub guild_id: String,
    /// Our user.
    pub user_id: String,
}

/// A desired Go Live connection as the views show it (ids as strings; no
/// token, no session id). Fields in key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamConnectState {
    /// The DAVE group.
    pub dave_group_id: String,
    /// The stream server.
    pub endpoint: String,
    /// The stream's RTC server.
    pub server_id: String,
    /// The stream key.
    pub stream_key: String,
    /// Whose stream.
    pub streamer_id: String,
}

impl From<&VoiceConnectView> for VoiceConnectState {
    fn from(v: &VoiceConnectView) -> Self {
        let v = &v.0;
        Self {
            channel_id: v.channel_id.0.to_string(),
            dave_group_id: v.dave_group_id.to_string(),
            endpoint: v.endpoint.clone(),
            guild_id: v.guild_id.0.to_string(),
            user_id: v.user_id.0.to_string(),
        }
    }
}

impl From<&StreamConnectView> for StreamConnectState {
    fn from(v: &StreamConnectView) -> Self {
        let v = &v.0;
        Self {
            dave_group_id: v.dave_group_id.to_string(),
            endpoint: v.endpoint.clone(),
            server_id: v.server_id.to_string(),
            stream_key: v.stream_key.clone(),
            streamer_id: v.streamer_id.0.to_string(),
        }
    }
}

impl DesiredMedia {
    /// The desired slot params for `role`.
    pub fn params(&self, role: TransportRole) -> Option<TransportParams> {
        match role {
            TransportRole::Voice => self
                .voice
                .as_ref()
                .map(|v| TransportParams::Voice(v.0.clone())),
            TransportRole::StreamWatch => self
                .stream_watch
                .as_ref()
                .map(|v| TransportParams::Stream(v.0.clone())),
            TransportRole::StreamPublish => self
                .stream_publish
                .as_ref()
                .map(|v| TransportParams::Stream(v.0.clone())),
        }
    }

    /// Takes over what a mediad snapshot holds (used by a control that has
    /// no desired state of its own yet).
    pub fn adopt(&mut self, snap: &Snapshot) {
        for t in &snap.transports {
            if !t.status.is_active() {
                continue;
            }
            match (&t.role, &t.params) {
                (TransportRole::Voice, TransportParams::Voice(v)) => {
                    self.voice = Some(VoiceConnectView(v.clone()))
                }
                (TransportRole::StreamWatch, TransportParams::Stream(s)) => {
                    self.stream_watch = Some(StreamConnectView(s.clone()))
                }
                (TransportRole::StreamPublish, TransportParams::Stream(s)) => {
                    self.stream_publish = Some(StreamConnectView(s.clone()))
                }
                _ => {}
            }
        }
        self.subscriptions = snap
            .subscriptions
            .iter()
            .map(|s| (s.user_id, s.clone()))
            .collect();
        self.publish_paused = snap.publish_paused;
        self.initialized = true;
    }

    /// The commands that bring mediad from `snap` to this desired state.
    /// Slots already held with the same parameters (and still active) are
    /// left alone, so reconnecting to a mediad that kept its state sends
    /// nothing that would restart a transport.
    pub fn reconcile(&self, snap: &Snapshot) -> Vec<ControlMsg> {
        let mut out = Vec::new();
        for role in TransportRole::ALL {
            let held = snap.transports.iter().find(|t| t.role == role);
            match (self.params(role), held) {
                (Some(want), Some(h)) if h.params == want && h.status.is_active() => {}
                (Some(want), _) => out.push(connect_msg(role, want)),
                (None, Some(h)) if h.status.is_active() => {
                    out.push(disconnect_msg(role, "not_desired_by_control"))
                }
                (None, _) => {}
            }
        }
        let held: BTreeMap<UserId, &VideoSubscription> =
            snap.subscriptions.iter().map(|s| (s.user_id, s)).collect();
        for (user, want) in &self.subscriptions {
            if held.get(user) != Some(&want) {
                out.push(ControlMsg::SubscribeUserVideo(want.clone()));
            }
        }
        for user in held.keys() {
            if !self.subscriptions.contains_key(user) {
                out.push(ControlMsg::UnsubscribeUserVideo { user_id: *user });
            }
        }
        if self.publish_paused != snap.publish_paused {
            out.push(if self.publish_paused {
                ControlMsg::StreamPublishPause
            } else {
                ControlMsg::StreamPublishResume
            });
        }
        out
    }
}

/// The connect command for `role`.
pub fn connect_msg(role: TransportRole, params: TransportParams) -> ControlMsg {
    match (role, params) {
        (TransportRole::StreamWatch, TransportParams::Stream(s)) => {
            ControlMsg::StreamWatchConnect(s)
        }
        (TransportRole::StreamPublish, TransportParams::Stream(s)) => {
            ControlMsg::StreamPublishConnect(s)
        }
        (_, TransportParams::Voice(v)) => ControlMsg::VoiceConnect(v),
        // A stream param for the voice role cannot be built by `params()`.
        (TransportRole::Voice, TransportParams::Stream(s)) => ControlMsg::StreamWatchConnect(s),
    }
}

/// The disconnect command for `role`.
pub fn disconnect_msg(role: TransportRole, reason: &str) -> ControlMsg {
    let d = Disconnect {
        reason: reason.into(),
    };
    match role {
        TransportRole::Voice => ControlMsg::VoiceDisconnect(d),
        TransportRole::StreamWatch => ControlMsg::StreamWatchDisconnect(d),
        TransportRole::StreamPublish => ControlMsg::StreamPublishDisconnect(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice() -> VoiceConnect {
        VoiceConnect {
            guild_id: GuildId(1),
            channel_id: ChannelId(2),
            user_id: UserId(3),
            session_id: Secret::new("sess"),
            endpoint: "e:1".into(),
            token: Secret::new("tok"),
            dave_group_id: 2,
        }
    }

    fn sub(user: u64) -> VideoSubscription {
        VideoSubscription {
            user_id: UserId(user),
            stream_type: Some(StreamType::Screen),
            max_fps: 2.0,
            quality: 100,
            preferred_pixel_count: None,
            jpeg_quality: 75,
        }
    }

    fn snap(transports: Vec<TransportSnapshot>, subs: Vec<VideoSubscription>) -> Snapshot {
        Snapshot {
            instance_id: 1,
            uptime_ms: 0,
            control_sessions: 1,
            transports,
            subscriptions: subs,
            publish_paused: false,
        }
    }

    /// The connection views write what their `json!` serializers wrote
    /// (a sorted object of string ids), never a token or session id.
    #[test]
    fn connection_views_keep_their_bytes_without_secrets() {
        let v = serde_json::to_string(&VoiceConnectView(voice())).unwrap();
        let old = serde_json::json!({
            "guildId": "1", "channelId": "2", "userId": "3", "endpoint": "e:1", "daveGroupId": "2",
        });
        assert_eq!(v, old.to_string());
        let stream = StreamConnect {
            stream_key: "guild:1:2:4".into(),
            streamer_id: UserId(4),
            user_id: UserId(3),
            server_id: 99,
            session_id: Secret::new("sess"),
            endpoint: "s:1".into(),
            token: Secret::new("tok"),
            dave_group_id: 98,
        };
        let s = serde_json::to_string(&StreamConnectView(stream)).unwrap();
        let old = serde_json::json!({
            "streamKey": "guild:1:2:4", "streamerId": "4", "serverId": "99", "endpoint": "s:1",
            "daveGroupId": "98",
        });
        assert_eq!(s, old.to_string());
        for text in [v, s] {
            assert!(!text.contains("sess") && !text.contains("tok"), "{text}");
        }
    }

    #[test]
    fn empty_mediad_gets_everything_replayed() {
        let mut d = DesiredMedia {
            voice: Some(VoiceConnectView(voice())),
            initialized: true,
            ..Default::default()
        };
        d.subscriptions.insert(UserId(9), sub(9));
        let cmds = d.reconcile(&snap(vec![], vec![]));
        assert_eq!(
            cmds,
            vec![
                ControlMsg::VoiceConnect(voice()),
                ControlMsg::SubscribeUserVideo(sub(9))
            ]
        );
    }

    #[test]
    fn matching_state_sends_nothing_and_extras_are_removed() {
        let mut d = DesiredMedia {
            voice: Some(VoiceConnectView(voice())),
            initialized: true,
            ..Default::default()
        };
        d.subscriptions.insert(UserId(9), sub(9));
        let held = TransportSnapshot {
            role: TransportRole::Voice,
            status: TransportStatus::Ready,
            reason: None,
            params: TransportParams::Voice(voice()),
        };
        assert!(
            d.reconcile(&snap(vec![held.clone()], vec![sub(9)]))
                .is_empty()
        );
        // A failed slot is reconnected; an unwanted subscription dropped.
        let failed = TransportSnapshot {
            status: TransportStatus::Failed,
            ..held
        };
        let cmds = d.reconcile(&snap(vec![failed], vec![sub(9), sub(10)]));
        assert_eq!(
            cmds,
            vec![
                ControlMsg::VoiceConnect(voice()),
                ControlMsg::UnsubscribeUserVideo {
                    user_id: UserId(10)
                }
            ]
        );
    }

    #[test]
    fn adopting_a_snapshot_makes_reconcile_a_no_op() {
        let held = TransportSnapshot {
            role: TransportRole::Voice,
            status: TransportStatus::Connecting,
            reason: None,
            params: TransportParams::Voice(voice()),
        };
        let s = snap(vec![held], vec![sub(4)]);
        let mut d = DesiredMedia::default();
        d.adopt(&s);
        assert!(d.initialized);
        assert!(d.reconcile(&s).is_empty());
        let json = serde_json::to_string(&d).unwrap();
        assert!(!json.contains("tok") && !json.contains("sess"), "{json}");
    }
}
