//! The receive plan of one transport slot: which users' video is received,
//! through which layer, by which decoder worker, and what the SFU is asked
//! for.
//!
//! The slot feeds it what happened ([`ReceivePlan::set_subscriptions`],
//! [`ReceivePlan::media_ready`], [`ReceivePlan::resumed`],
//! [`ReceivePlan::on_video`], [`ReceivePlan::user_gone`]) and carries out
//! the [`Action`]s each call returns, in order. The plan records the
//! workers it asked for; a worker the shell could not start is reported
//! back with [`ReceivePlan::worker_failed`] and asked for again at the next
//! change, as before the split.
//!
//! # Rules
//! - A user's video is received when a subscription applies to them (on a
//!   stream_watch slot only the watched streamer's; the subscription's
//!   stream type, when set, must be the slot's: camera on the voice
//!   connection, screen on a stream) and they announced at least one
//!   active layer; the layer is [`choose_layer`] for the subscription's
//!   output size.
//! - One worker per received user, keyed by the chosen layer's SSRC. A
//!   worker whose layer is no longer the chosen one (new op 12, another
//!   output size) stops and the new layer's worker starts, from a keyframe.
//! - Nothing starts and no op 15 is sent before the media session is ready
//!   (the SSRC keys mean nothing before Session Description).
//! - Op 15 is re-sent after media ready, a resume, and every change of
//!   video states or subscriptions.

use std::collections::BTreeMap;

use ipc_schema::{
    Ssrc, StreamType, TransportRole, UserId, UserVideoState, VideoStreamInfo, VideoSubscription,
};
use video_pipeline::PipelineSettings;
use voice_proto::{MediaSinkWants, Video};

use crate::sink::{Layer, UserWants, choose_layer, layers_of, sink_wants};

/// A decoder worker the plan wants to exist.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlannedWorker {
    /// Whose video it decodes.
    pub user_id: UserId,
    /// The chosen layer's media SSRC (the worker's key).
    pub ssrc: u32,
    /// The chosen layer's RTX SSRC.
    pub rtx_ssrc: Option<u32>,
    /// Output rate, size and JPEG quality from the subscription.
    pub settings: PipelineSettings,
}

/// What the slot must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Start a worker and ask the sender for a keyframe on its SSRC (start
    /// from a keyframe rather than wait for the next one).
    StartWorker(PlannedWorker),
    /// Change a running worker's output settings.
    UpdateWorker {
        /// The worker's media SSRC.
        ssrc: u32,
        /// Its new settings.
        settings: PipelineSettings,
    },
    /// Stop the worker of this media SSRC.
    StopWorker {
        /// The worker's media SSRC.
        ssrc: u32,
    },
    /// Send op 15.
    SinkWants(MediaSinkWants),
    /// Report a user's announced video (op 12) to control.
    UserVideo(UserVideoState),
    /// Report that a user's video ended.
    UserVideoEnd {
        /// Whose video ended.
        user_id: UserId,
        /// The layer that was chosen for them, if any.
        ssrc: Option<Ssrc>,
    },
}

/// Where a received RTP packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Audio (the connection's Opus payload type): to the voice listener.
    Audio,
    /// To the video worker of this media SSRC (the packet's own SSRC, or
    /// the layer whose RTX SSRC it carries).
    Worker(u32),
    /// Nobody receives it: not subscribed, or a layer not chosen.
    Drop,
}

/// The receive decisions of one slot.
#[derive(Debug, Clone)]
pub struct ReceivePlan {
    role: TransportRole,
    /// The streamer on a stream_watch slot: nobody else is received there.
    watched_user: Option<UserId>,
    /// The Opus payload type on the voice connection.
    audio_payload_type: Option<u8>,
    subscriptions: Vec<VideoSubscription>,
    /// Announced active layers per user.
    users: BTreeMap<UserId, Vec<Layer>>,
    /// Session Description received: SSRCs and keys are known.
    media_ready: bool,
    /// The workers asked for (and not reported failed), by media SSRC.
    workers: BTreeMap<u32, PlannedWorker>,
}

impl ReceivePlan {
    /// A plan for a slot of `role`; `watched_user` is the streamer of a
    /// stream_watch slot, `audio_payload_type` the Opus payload type when
    /// the slot hears audio.
    pub fn new(
        role: TransportRole,
        watched_user: Option<UserId>,
        audio_payload_type: Option<u8>,
        subscriptions: Vec<VideoSubscription>,
    ) -> Self {
        ReceivePlan {
            role,
            watched_user,
            audio_payload_type,
            subscriptions,
            users: BTreeMap::new(),
            media_ready: false,
            workers: BTreeMap::new(),
        }
    }

    /// The kind of video this slot receives: cameras on the voice
    /// connection, screens on a stream.
    pub fn stream_type(&self) -> StreamType {
        match self.role {
            TransportRole::Voice => StreamType::Camera,
            _ => StreamType::Screen,
        }
    }

    /// The workers the plan wants, by media SSRC.
    pub fn workers(&self) -> impl Iterator<Item = &PlannedWorker> {
        self.workers.values()
    }

    /// Control sent new subscriptions.
    pub fn set_subscriptions(&mut self, subscriptions: Vec<VideoSubscription>) -> Vec<Action> {
        self.subscriptions = subscriptions;
        let mut out = self.sync_workers();
        out.extend(self.sink_wants());
        out
    }

    /// Session Description arrived (op 12 may have come before it:
    /// workers start now).
    pub fn media_ready(&mut self) -> Vec<Action> {
        self.media_ready = true;
        let mut out = self.sync_workers();
        out.extend(self.sink_wants());
        out
    }

    /// The connection resumed: the SFU needs op 15 again.
    pub fn resumed(&self) -> Vec<Action> {
        self.sink_wants().into_iter().collect()
    }

    /// Op 12 from a user: their layers changed (none left: their video
    /// ended).
    pub fn on_video(&mut self, v: &Video) -> Vec<Action> {
        let Some(user) = v.user_id else {
            return Vec::new();
        };
        let layers = layers_of(v);
        if layers.is_empty() {
            return self.user_gone(user);
        }
        let stream_type = self.stream_type();
        self.users.insert(user, layers);
        let chosen = self.chosen_layer(user);
        let state = UserVideoState {
            user_id: user,
            role: self.role,
            audio_ssrc: v.audio_ssrc.filter(|s| *s != 0).map(Ssrc),
            video_ssrc: chosen.map(|l| Ssrc(l.ssrc)),
            // Known per packet from its payload type, not from op 12 or
            // op 4 (see sink.rs).
            codec: None,
            streams: v
                .streams
                .iter()
                .filter_map(|s| {
                    Some(VideoStreamInfo {
                        ssrc: Ssrc(s.ssrc?),
                        rtx_ssrc: s.rtx_ssrc_or_derived().map(Ssrc),
                        rid: Some(s.rid.clone()),
                        quality: Some(s.quality),
                        stream_type: Some(stream_type),
                        active: s.active.unwrap_or(true),
                        max_bitrate: s.max_bitrate.map(|b| b.min(u64::from(u32::MAX)) as u32),
                        max_framerate: s.max_framerate,
                        max_resolution: s.max_resolution.as_ref().map(|r| (r.width, r.height)),
                    })
                })
                .collect(),
        };
        let mut out = vec![Action::UserVideo(state)];
        out.extend(self.sync_workers());
        out.extend(self.sink_wants());
        out
    }

    /// A user left the connection, or announced no video.
    pub fn user_gone(&mut self, user: UserId) -> Vec<Action> {
        let chosen = self.chosen_layer(user);
        if self.users.remove(&user).is_none() {
            return Vec::new();
        }
        let mut out: Vec<Action> = Vec::new();
        self.workers.retain(|ssrc, w| {
            let keep = w.user_id != user;
            if !keep {
                out.push(Action::StopWorker { ssrc: *ssrc });
            }
            keep
        });
        out.push(Action::UserVideoEnd {
            user_id: user,
            ssrc: chosen.map(|l| Ssrc(l.ssrc)),
        });
        out.extend(self.sink_wants());
        out
    }

    /// The shell could not start the worker of `ssrc`: forget it, so the
    /// next change asks for it again.
    pub fn worker_failed(&mut self, ssrc: u32) {
        self.workers.remove(&ssrc);
    }

    /// Where a packet of `payload_type` from `ssrc` goes.
    pub fn route(&self, payload_type: u8, ssrc: u32) -> Route {
        if self.audio_payload_type == Some(payload_type) {
            return Route::Audio;
        }
        if self.workers.contains_key(&ssrc) {
            return Route::Worker(ssrc);
        }
        self.workers
            .values()
            .find(|w| w.rtx_ssrc == Some(ssrc))
            .map_or(Route::Drop, |w| Route::Worker(w.ssrc))
    }

    /// The subscription that applies to `user` on this slot.
    fn subscription(&self, user: UserId) -> Option<&VideoSubscription> {
        let wanted = self.stream_type();
        if self.watched_user.is_some_and(|w| w != user) {
            return None;
        }
        self.subscriptions
            .iter()
            .find(|s| s.user_id == user && s.stream_type.is_none_or(|t| t == wanted))
    }

    /// Output size limit of `user`'s subscription (the default box when
    /// not subscribed).
    fn max_pixels(&self, user: UserId) -> u32 {
        self.subscription(user)
            .map_or(PipelineSettings::default(), settings_of)
            .max_pixels
    }

    /// The layer of `user` to receive.
    fn chosen_layer(&self, user: UserId) -> Option<Layer> {
        choose_layer(self.users.get(&user)?, self.max_pixels(user))
    }

    /// Workers for subscribed users with announced video, the others
    /// stopped, changed settings pushed.
    fn sync_workers(&mut self) -> Vec<Action> {
        if !self.media_ready {
            return Vec::new();
        }
        let wanted: Vec<PlannedWorker> = self
            .users
            .keys()
            .filter_map(|u| {
                let settings = settings_of(self.subscription(*u)?);
                let layer = self.chosen_layer(*u)?;
                Some(PlannedWorker {
                    user_id: *u,
                    ssrc: layer.ssrc,
                    rtx_ssrc: layer.rtx_ssrc,
                    settings,
                })
            })
            .collect();
        let mut out = Vec::new();
        self.workers.retain(|ssrc, w| {
            let keep = wanted
                .iter()
                .any(|n| n.user_id == w.user_id && n.ssrc == w.ssrc && n.rtx_ssrc == w.rtx_ssrc);
            if !keep {
                out.push(Action::StopWorker { ssrc: *ssrc });
            }
            keep
        });
        for w in wanted {
            match self.workers.get_mut(&w.ssrc) {
                Some(running) => {
                    if running.settings != w.settings {
                        running.settings = w.settings;
                        out.push(Action::UpdateWorker {
                            ssrc: w.ssrc,
                            settings: w.settings,
                        });
                    }
                }
                None => {
                    self.workers.insert(w.ssrc, w);
                    out.push(Action::StartWorker(w));
                }
            }
        }
        out
    }

    /// Op 15: the chosen layer of each subscribed user, every other layer
    /// off (decisions and sources in `sink.rs`).
    fn sink_wants(&self) -> Option<Action> {
        if !self.media_ready {
            return None;
        }
        let wants = sink_wants(
            self.role == TransportRole::StreamWatch,
            self.users.iter().map(|(u, layers)| UserWants {
                layers,
                chosen: self.chosen_layer(*u),
                subscription: self.subscription(*u),
                max_pixels: self.max_pixels(*u),
            }),
        );
        Some(Action::SinkWants(wants))
    }
}

/// A subscription's output settings.
pub fn settings_of(sub: &VideoSubscription) -> PipelineSettings {
    let mut s = PipelineSettings {
        max_fps: sub.max_fps,
        jpeg_quality: sub.jpeg_quality,
        ..PipelineSettings::default()
    };
    if let Some(p) = sub.preferred_pixel_count {
        s.max_pixels = p;
    }
    s
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
