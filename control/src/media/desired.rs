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
        let v = &self.0;
        serde_json::json!({
            "guildId": v.guild_id.0.to_string(),
            "channelId": v.channel_id.0.to_string(),
            "userId": v.user_id.0.to_string(),
            "endpoint": v.endpoint,
            "daveGroupId": v.dave_group_id.to_string(),
        })
        .serialize(s)
    }
}

impl Serialize for StreamConnectView {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = &self.0;
        serde_json::json!({
            "streamKey": v.stream_key,
            "streamerId": v.streamer_id.0.to_string(),
            "serverId": v.server_id.to_string(),
            "endpoint": v.endpoint,
            "daveGroupId": v.dave_group_id.to_string(),
        })
        .serialize(s)
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
