//! What mediad holds on control's behalf, as a pure state machine.
//!
//! [`MediaState::apply`] takes one command and returns the [`Effect`]s it
//! implies: events for control and work for the transport layer. It does no
//! IO, so the rules (idempotent connects, clamping, snapshots, teardown) are
//! tested without sockets.

use ipc_schema::*;
use std::collections::BTreeMap;

/// One transport slot.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    /// What it was created from.
    pub params: TransportParams,
    /// Current lifecycle state.
    pub status: TransportStatus,
    /// Last reason given.
    pub reason: Option<String>,
}

/// Something the caller must do after a command.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Send this to control.
    Emit(MediadMsg),
    /// Bring up (or re-point) the transport of `role`.
    StartTransport(TransportRole, TransportParams),
    /// Tear down the transport of `role`.
    StopTransport(TransportRole, String),
    /// The set of video subscriptions changed.
    SubscriptionsChanged,
    /// Publish one frame.
    Publish(PublishFrame),
    /// Publishing paused (true) or resumed.
    PublishPaused(bool),
}

/// Transports, subscriptions and publish state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MediaState {
    slots: BTreeMap<TransportRole, Slot>,
    subscriptions: BTreeMap<UserId, VideoSubscription>,
    publish_paused: bool,
}

fn transport_event(
    role: TransportRole,
    status: TransportStatus,
    reason: impl Into<String>,
) -> Effect {
    Effect::Emit(MediadMsg::TransportState(TransportState {
        role,
        status,
        reason: Some(reason.into()),
        close_code: None,
    }))
}

fn invalid(message: String) -> Vec<Effect> {
    vec![Effect::Emit(MediadMsg::Error(ErrorReport {
        code: ErrorCode::InvalidCommand,
        message,
    }))]
}

/// Clamps a subscription to the ranges mediad supports.
pub fn clamp_subscription(mut s: VideoSubscription) -> VideoSubscription {
    s.max_fps = if s.max_fps.is_finite() {
        s.max_fps.clamp(0.1, 30.0)
    } else {
        2.0
    };
    s.quality = s.quality.min(100);
    s.jpeg_quality = s.jpeg_quality.clamp(10, 100);
    s.preferred_pixel_count = s.preferred_pixel_count.map(|p| p.clamp(4096, 3840 * 2160));
    s
}

impl MediaState {
    /// Applies one command from control.
    pub fn apply(&mut self, cmd: ControlMsg) -> Vec<Effect> {
        match cmd {
            ControlMsg::VoiceConnect(v) => {
                if v.endpoint.trim().is_empty() {
                    return invalid("voice_connect: empty endpoint".into());
                }
                self.connect(TransportRole::Voice, TransportParams::Voice(v))
            }
            ControlMsg::StreamWatchConnect(s) => self.connect_stream(TransportRole::StreamWatch, s),
            ControlMsg::StreamPublishConnect(s) => {
                self.connect_stream(TransportRole::StreamPublish, s)
            }
            ControlMsg::VoiceDisconnect(d) => self.disconnect(TransportRole::Voice, d.reason),
            ControlMsg::StreamWatchDisconnect(d) => {
                self.disconnect(TransportRole::StreamWatch, d.reason)
            }
            ControlMsg::StreamPublishDisconnect(d) => {
                self.disconnect(TransportRole::StreamPublish, d.reason)
            }
            ControlMsg::StreamPublishPause => {
                self.publish_paused = true;
                vec![Effect::PublishPaused(true)]
            }
            ControlMsg::StreamPublishResume => {
                self.publish_paused = false;
                vec![Effect::PublishPaused(false)]
            }
            ControlMsg::StreamPublishFrame(f) => {
                if !self.slots.contains_key(&TransportRole::StreamPublish) {
                    return vec![Effect::Emit(MediadMsg::Error(ErrorReport {
                        code: ErrorCode::NotReady,
                        message: "stream_publish_frame without a stream_publish transport".into(),
                    }))];
                }
                if self.publish_paused {
                    vec![]
                } else {
                    vec![Effect::Publish(f)]
                }
            }
            ControlMsg::SubscribeUserVideo(s) => {
                let s = clamp_subscription(s);
                if self.subscriptions.get(&s.user_id) == Some(&s) {
                    return vec![];
                }
                self.subscriptions.insert(s.user_id, s);
                vec![Effect::SubscriptionsChanged]
            }
            ControlMsg::UnsubscribeUserVideo { user_id } => {
                if self.subscriptions.remove(&user_id).is_some() {
                    vec![Effect::SubscriptionsChanged]
                } else {
                    vec![]
                }
            }
            // Answered by the supervisor, which knows uptime and ids; voice
            // audio goes to the voice slot's player, not through this state.
            ControlMsg::Hello(_)
            | ControlMsg::Ping { .. }
            | ControlMsg::SnapshotRequest
            | ControlMsg::VoicePlay(_)
            | ControlMsg::VoiceCancel { .. } => vec![],
        }
    }

    fn connect_stream(&mut self, role: TransportRole, s: StreamConnect) -> Vec<Effect> {
        if s.endpoint.trim().is_empty() {
            return invalid(format!("{}_connect: empty endpoint", role.as_str()));
        }
        if s.server_id == 0 {
            return invalid(format!(
                "{}_connect: server_id (rtc_server_id) is 0",
                role.as_str()
            ));
        }
        self.connect(role, TransportParams::Stream(s))
    }

    fn connect(&mut self, role: TransportRole, params: TransportParams) -> Vec<Effect> {
        if let Some(slot) = self.slots.get(&role)
            && slot.params == params
            && slot.status.is_active()
        {
            // Idempotent: a replayed connect must not restart a transport.
            return vec![];
        }
        let reason = if self.slots.contains_key(&role) {
            "connect_replaced"
        } else {
            "connect_requested"
        };
        self.slots.insert(
            role,
            Slot {
                params: params.clone(),
                status: TransportStatus::Connecting,
                reason: Some(reason.into()),
            },
        );
        vec![
            transport_event(role, TransportStatus::Connecting, reason),
            Effect::StartTransport(role, params),
        ]
    }

    fn disconnect(&mut self, role: TransportRole, reason: String) -> Vec<Effect> {
        match self.slots.remove(&role) {
            Some(_) => vec![
                Effect::StopTransport(role, reason.clone()),
                transport_event(role, TransportStatus::Disconnected, reason),
            ],
            None => vec![],
        }
    }

    /// Records a status change reported by a transport.
    pub fn set_status(
        &mut self,
        role: TransportRole,
        status: TransportStatus,
        reason: Option<String>,
    ) -> bool {
        match self.slots.get_mut(&role) {
            Some(slot) => {
                slot.status = status;
                slot.reason = reason;
                true
            }
            None => false,
        }
    }

    /// Everything held, for control.
    pub fn snapshot(&self, instance_id: u64, uptime_ms: u64, control_sessions: u64) -> Snapshot {
        Snapshot {
            instance_id,
            uptime_ms,
            control_sessions,
            transports: self
                .slots
                .iter()
                .map(|(role, s)| TransportSnapshot {
                    role: *role,
                    status: s.status,
                    reason: s.reason.clone(),
                    params: s.params.clone(),
                })
                .collect(),
            subscriptions: self.subscriptions.values().cloned().collect(),
            publish_paused: self.publish_paused,
        }
    }

    /// Drops everything (control gone for longer than the grace period or
    /// shutdown). Returns the effects that stop the transports.
    pub fn teardown(&mut self, reason: &str) -> Vec<Effect> {
        let effects = self
            .slots
            .keys()
            .map(|role| Effect::StopTransport(*role, reason.to_string()))
            .collect();
        self.slots.clear();
        self.subscriptions.clear();
        self.publish_paused = false;
        effects
    }

    /// Number of transport slots.
    pub fn transport_count(&self) -> usize {
        self.slots.len()
    }

    /// Number of video subscriptions.
    pub fn subscription_count(&self) -> usize {
        self.subscriptions.len()
    }

    /// Whether publishing is paused.
    pub fn publish_paused(&self) -> bool {
        self.publish_paused
    }

    /// Active subscriptions.
    pub fn subscriptions(&self) -> impl Iterator<Item = &VideoSubscription> {
        self.subscriptions.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(endpoint: &str) -> VoiceConnect {
        VoiceConnect {
            guild_id: GuildId(1),
            channel_id: ChannelId(2),
            user_id: UserId(3),
            session_id: Secret::new("s"),
            endpoint: endpoint.into(),
            token: Secret::new("t"),
            dave_group_id: 2,
        }
    }

    fn sub(user: u64, fps: f32) -> VideoSubscription {
        VideoSubscription {
            user_id: UserId(user),
            stream_type: None,
            max_fps: fps,
            quality: 100,
            preferred_pixel_count: None,
            jpeg_quality: 75,
        }
    }

    #[test]
    fn replayed_connect_is_idempotent_but_new_params_restart() {
        let mut s = MediaState::default();
        let first = s.apply(ControlMsg::VoiceConnect(voice("a:1")));
        assert!(first.contains(&Effect::StartTransport(
            TransportRole::Voice,
            TransportParams::Voice(voice("a:1"))
        )));
        assert!(s.apply(ControlMsg::VoiceConnect(voice("a:1"))).is_empty());
        let moved = s.apply(ControlMsg::VoiceConnect(voice("b:2")));
        assert!(moved.iter().any(|e| matches!(e, Effect::StartTransport(_, TransportParams::Voice(v)) if v.endpoint == "b:2")));
        // A failed slot is restarted by the same connect.
        s.set_status(
            TransportRole::Voice,
            TransportStatus::Failed,
            Some("x".into()),
        );
        assert!(!s.apply(ControlMsg::VoiceConnect(voice("b:2"))).is_empty());
    }

    #[test]
    fn disconnect_and_snapshot() {
        let mut s = MediaState::default();
        s.apply(ControlMsg::VoiceConnect(voice("a:1")));
        s.apply(ControlMsg::SubscribeUserVideo(sub(7, 2.0)));
        let snap = s.snapshot(9, 10, 1);
        assert_eq!(snap.transports.len(), 1);
        assert_eq!(snap.subscriptions, vec![sub(7, 2.0)]);
        let effects = s.apply(ControlMsg::VoiceDisconnect(Disconnect {
            reason: "bye".into(),
        }));
        assert_eq!(
            effects[0],
            Effect::StopTransport(TransportRole::Voice, "bye".into())
        );
        assert!(
            s.apply(ControlMsg::VoiceDisconnect(Disconnect {
                reason: "bye".into()
            }))
            .is_empty()
        );
        assert_eq!(s.transport_count(), 0);
    }

    #[test]
    fn subscriptions_are_clamped_and_deduplicated() {
        let mut s = MediaState::default();
        let mut wild = sub(1, 500.0);
        wild.jpeg_quality = 0;
        wild.preferred_pixel_count = Some(1);
        assert_eq!(
            s.apply(ControlMsg::SubscribeUserVideo(wild.clone())),
            vec![Effect::SubscriptionsChanged]
        );
        let held = s.subscriptions().next().unwrap().clone();
        assert_eq!(held.max_fps, 30.0);
        assert_eq!(held.jpeg_quality, 10);
        assert_eq!(held.preferred_pixel_count, Some(4096));
        assert!(
            s.apply(ControlMsg::SubscribeUserVideo(wild)).is_empty(),
            "same subscription twice is a no-op"
        );
        let mut nan = sub(2, f32::NAN);
        nan.quality = 250;
        s.apply(ControlMsg::SubscribeUserVideo(nan));
        let n = s.subscriptions().find(|x| x.user_id == UserId(2)).unwrap();
        assert_eq!((n.max_fps, n.quality), (2.0, 100));
    }

    #[test]
    fn invalid_commands_are_reported_not_applied() {
        let mut s = MediaState::default();
        let e = s.apply(ControlMsg::VoiceConnect(voice(" ")));
        assert!(
            matches!(&e[0], Effect::Emit(MediadMsg::Error(r)) if r.code == ErrorCode::InvalidCommand)
        );
        assert_eq!(s.transport_count(), 0);
        let e = s.apply(ControlMsg::StreamPublishFrame(PublishFrame {
            format: PublishFormat::Png,
            data: vec![],
            capture_time_us: 0,
        }));
        assert!(
            matches!(&e[0], Effect::Emit(MediadMsg::Error(r)) if r.code == ErrorCode::NotReady)
        );
    }

    #[test]
    fn teardown_stops_everything() {
        let mut s = MediaState::default();
        s.apply(ControlMsg::VoiceConnect(voice("a:1")));
        s.apply(ControlMsg::SubscribeUserVideo(sub(7, 2.0)));
        let effects = s.teardown("control_grace_expired");
        assert_eq!(
            effects,
            vec![Effect::StopTransport(
                TransportRole::Voice,
                "control_grace_expired".into()
            )]
        );
        assert_eq!((s.transport_count(), s.subscription_count()), (0, 0));
    }
}
