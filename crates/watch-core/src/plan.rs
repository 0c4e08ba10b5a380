//! [`plan_transport`] (how to watch a chosen target) and [`WatchBook`] (the
//! watches that exist, their reuse and their teardown triggers).

use std::time::Instant;

use gateway_proto::{ChannelId, StreamKey, UserId};

use crate::place::Place;

use crate::error::Refusal;
use crate::registry::{Registry, RegistryEvent, StreamEndReason};

/// Default cap on concurrent watches in a [`WatchBook`]: above the
/// share-session cap (240), so every live share link can arm its own watch
/// (control checks this at compile time).
pub const MAX_WATCHES: usize = 256;
/// Requesters remembered per watch; the oldest is dropped beyond it.
pub const MAX_REQUESTERS_PER_WATCH: usize = 8;

/// What the account and the configuration allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanOptions {
    /// The gateway account is a bot (bots cannot watch Go Live).
    pub bot_account: bool,
    /// Share links may be offered (`STREAM_LINK_FALLBACK`).
    pub link_fallback_enabled: bool,
    /// Go straight to a link (recovery after a native transport failure);
    /// native is not tried.
    pub preferred_link: bool,
}

/// Why the plan is not native.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanReason {
    /// Bot accounts cannot watch Go Live.
    BotCannotWatchGoLive,
    /// The target has neither Go Live nor a camera on.
    TargetNotSharing,
    /// Go Live is known but no stream key can be formed (no channel).
    StreamKeyUnavailable,
    /// The caller asked for a link ([`PlanOptions::preferred_link`]).
    LinkPreferred,
    /// A link was asked for but links are disabled.
    LinkFallbackDisabled,
    /// No target was named and nobody is sharing: the requester is
    /// offered a link ([`PlanOptions::no_sharer_plan`]).
    NoSharer,
}

impl PlanReason {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BotCannotWatchGoLive => "bot_cannot_watch_go_live",
            Self::TargetNotSharing => "target_not_sharing",
            Self::StreamKeyUnavailable => "stream_key_unavailable",
            Self::LinkPreferred => "link_preferred",
            Self::LinkFallbackDisabled => "stream_link_fallback_disabled",
            Self::NoSharer => "no_sharer",
        }
    }
}

impl PlanOptions {
    /// A start that [`crate::select_target`] refused: when no target was
    /// named (`target` absent or blank, as selection reads it), nobody is sharing
    /// ([`Refusal::NoSharer`]) and links are enabled, the requester is
    /// offered a share link, as the reference does (`link_fallback`
    /// towards the requester). `None`: the refusal stands (a named
    /// target, another refusal, links off, or the requester is our own
    /// account).
    pub fn no_sharer_plan(
        &self,
        reg: &Registry,
        refusal: &Refusal,
        target: Option<&str>,
        requester: UserId,
    ) -> Option<(UserId, TransportPlan)> {
        let named = target.is_some_and(|t| !t.trim().is_empty());
        let applies = matches!(refusal, Refusal::NoSharer)
            && !named
            && self.link_fallback_enabled
            && reg.own_user() != Some(requester);
        applies.then_some((
            requester,
            TransportPlan::Link {
                reason: PlanReason::NoSharer,
            },
        ))
    }
}

/// How to watch a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportPlan {
    /// Watch the Go Live: OP20 with this key, then the stream connection.
    Native {
        /// The discovered or synthesized key.
        stream_key: StreamKey,
    },
    /// Receive the target's camera on our voice connection.
    Webcam {
        /// The target.
        user: UserId,
    },
    /// Offer a share link.
    Link {
        /// Why not native.
        reason: PlanReason,
    },
    /// Nothing can be done.
    Unavailable {
        /// Why.
        reason: PlanReason,
    },
}

impl TransportPlan {
    /// The transport to record in a [`WatchBook`], unless unavailable.
    pub fn watch_transport(&self) -> Option<WatchTransport> {
        match self {
            Self::Native { stream_key } => Some(WatchTransport::Native {
                stream_key: *stream_key,
            }),
            Self::Webcam { .. } => Some(WatchTransport::Webcam),
            Self::Link { .. } => Some(WatchTransport::Link),
            Self::Unavailable { .. } => None,
        }
    }
}

/// Decides how to watch `target` in `guild` (a guild or a call): native Go Live for a user
/// account when the target has Go Live; their camera when they have one on
/// (and Go Live is not possible); else a link when links are enabled, else
/// unavailable. [`PlanOptions::preferred_link`] skips native and webcam.
pub fn plan_transport(
    reg: &Registry,
    guild: impl Into<Place>,
    target: UserId,
    options: PlanOptions,
) -> TransportPlan {
    let guild = guild.into();
    let fallback = |reason| {
        if options.link_fallback_enabled {
            TransportPlan::Link { reason }
        } else {
            TransportPlan::Unavailable { reason }
        }
    };
    if options.preferred_link {
        return if options.link_fallback_enabled {
            TransportPlan::Link {
                reason: PlanReason::LinkPreferred,
            }
        } else {
            TransportPlan::Unavailable {
                reason: PlanReason::LinkFallbackDisabled,
            }
        };
    }
    let go_live = reg.is_go_live(guild, target);
    let key = go_live.then(|| reg.go_live_key(guild, target)).flatten();
    if let (Some(stream_key), false) = (key, options.bot_account) {
        return TransportPlan::Native { stream_key };
    }
    if reg.has_webcam(guild, target) {
        return TransportPlan::Webcam { user: target };
    }
    fallback(match (go_live, options.bot_account) {
        (false, _) => PlanReason::TargetNotSharing,
        (true, true) => PlanReason::BotCannotWatchGoLive,
        (true, false) => PlanReason::StreamKeyUnavailable,
    })
}

/// Identifies a watch in a [`WatchBook`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WatchId(pub u64);

impl std::fmt::Display for WatchId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "watch-{}", self.0)
    }
}

/// The transport a watch uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchTransport {
    /// Go Live with this key.
    Native {
        /// The stream key (OP20 was or will be sent with it).
        stream_key: StreamKey,
    },
    /// The target's camera on our voice connection.
    Webcam,
    /// A share link.
    Link,
}

/// What a new watch is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchRequest {
    /// The guild or call.
    pub guild: Place,
    /// Whose screen.
    pub target: UserId,
    /// Who asked.
    pub requester: UserId,
    /// The target's channel, when known (moves out of it end the watch).
    pub channel: Option<ChannelId>,
    /// The transport.
    pub transport: WatchTransport,
}

/// One watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    /// Its id.
    pub id: WatchId,
    /// The guild or call.
    pub guild: Place,
    /// Whose screen.
    pub target: UserId,
    /// The target's channel, when known.
    pub channel: Option<ChannelId>,
    /// Who asked, oldest first (at most [`MAX_REQUESTERS_PER_WATCH`]).
    pub requesters: Vec<UserId>,
    /// The transport.
    pub transport: WatchTransport,
    /// The native transport is up (ready or frames decoded).
    pub native_active: bool,
    /// When it started (caller's clock).
    pub started_at: Instant,
}

/// The result of [`WatchBook::start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOutcome {
    /// A new watch.
    Started(WatchId),
    /// A watch of the same (guild, target) already existed; the requester
    /// was added to it and its transport left as it was.
    Reused(WatchId),
}

impl StartOutcome {
    /// The watch id either way.
    pub fn id(self) -> WatchId {
        match self {
            Self::Started(id) | Self::Reused(id) => id,
        }
    }
}

/// Why a watch must be torn down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeardownReason {
    /// STREAM_DELETE of the watched stream.
    StreamDeleted,
    /// The target turned Go Live off.
    TargetStoppedGoLive,
    /// The target turned the camera off (webcam watches).
    TargetStoppedWebcam,
    /// The target left voice.
    TargetLeftVoice,
    /// The target moved to another channel.
    TargetMovedChannel,
    /// The last requester left voice.
    RequesterLeftVoice,
    /// We left voice in that guild (or the gateway session was reset).
    SelfLeftVoice,
    /// We moved to a channel other than the watch's.
    SelfMovedChannel,
}

impl TeardownReason {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StreamDeleted => "stream_deleted",
            Self::TargetStoppedGoLive => "target_stopped_go_live",
            Self::TargetStoppedWebcam => "target_stopped_webcam",
            Self::TargetLeftVoice => "target_left_voice",
            Self::TargetMovedChannel => "target_moved_channel",
            Self::RequesterLeftVoice => "requester_left_voice",
            Self::SelfLeftVoice => "self_left_voice",
            Self::SelfMovedChannel => "self_moved_channel",
        }
    }
}

/// A watch to tear down; it is already removed from the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Teardown {
    /// The watch.
    pub watch_id: WatchId,
    /// Why.
    pub reason: TeardownReason,
    /// The removed record (guild, target, transport) for the shell.
    pub watch: Watch,
}

/// The watches control runs: at most one per (guild, target), at most
/// [`MAX_WATCHES`] (or the capacity given) in all.
#[derive(Debug, Clone)]
pub struct WatchBook {
    watches: Vec<Watch>,
    next_id: u64,
    capacity: usize,
}

impl Default for WatchBook {
    fn default() -> Self {
        Self::with_capacity(MAX_WATCHES)
    }
}

impl WatchBook {
    /// An empty book holding up to [`MAX_WATCHES`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty book holding up to `capacity` watches.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            watches: Vec::new(),
            next_id: 1,
            capacity,
        }
    }

    /// Starts a watch, or reuses the one of the same (guild, target).
    pub fn start(&mut self, request: WatchRequest, now: Instant) -> Result<StartOutcome, Refusal> {
        if let Some(w) = self
            .watches
            .iter_mut()
            .find(|w| w.guild == request.guild && w.target == request.target)
        {
            if !w.requesters.contains(&request.requester) {
                if w.requesters.len() >= MAX_REQUESTERS_PER_WATCH {
                    w.requesters.remove(0);
                }
                w.requesters.push(request.requester);
            }
            return Ok(StartOutcome::Reused(w.id));
        }
        if self.watches.len() >= self.capacity {
            return Err(Refusal::TooManyWatches);
        }
        let id = WatchId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        self.watches.push(Watch {
            id,
            guild: request.guild,
            target: request.target,
            channel: request.channel,
            requesters: vec![request.requester],
            transport: request.transport,
            native_active: false,
            started_at: now,
        });
        Ok(StartOutcome::Started(id))
    }

    /// Takes up a watch carried over a restart of control under its own
    /// id (later ids continue after it). Refused (false) when the book is
    /// full or already holds that id or that (guild, target).
    pub fn restore(&mut self, mut watch: Watch) -> bool {
        if self.watches.len() >= self.capacity
            || self
                .watches
                .iter()
                .any(|w| w.id == watch.id || (w.guild == watch.guild && w.target == watch.target))
        {
            return false;
        }
        watch.requesters.truncate(MAX_REQUESTERS_PER_WATCH);
        watch.native_active = false;
        self.next_id = self.next_id.max(watch.id.0.saturating_add(1));
        self.watches.push(watch);
        true
    }

    /// Stops a watch; returns it if it existed.
    pub fn stop(&mut self, id: WatchId) -> Option<Watch> {
        let i = self.watches.iter().position(|w| w.id == id)?;
        Some(self.watches.remove(i))
    }

    /// A watch by id.
    pub fn get(&self, id: WatchId) -> Option<&Watch> {
        self.watches.iter().find(|w| w.id == id)
    }

    /// The watch of `target` in `guild`.
    pub fn find_by_target(&self, guild: impl Into<Place>, target: UserId) -> Option<&Watch> {
        let guild = guild.into();
        self.watches
            .iter()
            .find(|w| w.guild == guild && w.target == target)
    }

    /// Every watch, oldest first.
    pub fn watches(&self) -> impl Iterator<Item = &Watch> {
        self.watches.iter()
    }

    /// Number of watches.
    pub fn len(&self) -> usize {
        self.watches.len()
    }

    /// True when there is no watch.
    pub fn is_empty(&self) -> bool {
        self.watches.is_empty()
    }

    /// Changes a watch's transport (e.g. native failed → link); clears
    /// `native_active`. False if the watch does not exist.
    pub fn set_transport(&mut self, id: WatchId, transport: WatchTransport) -> bool {
        self.watches
            .iter_mut()
            .find(|w| w.id == id)
            .is_some_and(|w| {
                w.transport = transport;
                w.native_active = false;
                true
            })
    }

    /// Records that the watch's native transport is (or is no longer)
    /// active: transport ready or a frame decoded. False if the watch does
    /// not exist.
    pub fn set_native_active(&mut self, id: WatchId, active: bool) -> bool {
        self.watches
            .iter_mut()
            .find(|w| w.id == id)
            .is_some_and(|w| {
                w.native_active = active;
                true
            })
    }

    /// Removes the watches `doomed` selects, reporting each with `reason`.
    fn tear(
        &mut self,
        out: &mut Vec<Teardown>,
        reason: TeardownReason,
        doomed: impl Fn(&Watch) -> bool,
    ) {
        let mut i = 0;
        while i < self.watches.len() {
            if doomed(&self.watches[i]) {
                let watch = self.watches.remove(i);
                out.push(Teardown {
                    watch_id: watch.id,
                    reason,
                    watch,
                });
            } else {
                i += 1;
            }
        }
    }

    /// Applies a registry event: returns the watches it ends (already
    /// removed). STREAM_DELETE (or any end) of a watched stream, the target
    /// stopping Go Live (native) or the camera (webcam), leaving voice or
    /// moving channel, the last requester leaving voice, and our own user
    /// leaving voice or moving to another channel.
    pub fn on_registry_event(&mut self, event: &RegistryEvent) -> Vec<Teardown> {
        let mut out = Vec::new();
        match event {
            RegistryEvent::StreamEnded { key, reason } => {
                let why = match reason {
                    StreamEndReason::Deleted { .. } => TeardownReason::StreamDeleted,
                    StreamEndReason::OwnerStoppedGoLive => TeardownReason::TargetStoppedGoLive,
                    StreamEndReason::OwnerLeftVoice => TeardownReason::TargetLeftVoice,
                    StreamEndReason::OwnerMovedChannel => TeardownReason::TargetMovedChannel,
                    StreamEndReason::SessionReset => TeardownReason::SelfLeftVoice,
                };
                self.tear(&mut out, why, |w| {
                    w.transport == WatchTransport::Native { stream_key: *key }
                });
            }
            RegistryEvent::GoLiveEnded { guild, user } => {
                self.tear(&mut out, TeardownReason::TargetStoppedGoLive, |w| {
                    w.guild == *guild
                        && w.target == *user
                        && matches!(w.transport, WatchTransport::Native { .. })
                });
            }
            RegistryEvent::WebcamChanged {
                guild,
                user,
                on: false,
            } => {
                self.tear(&mut out, TeardownReason::TargetStoppedWebcam, |w| {
                    w.guild == *guild && w.target == *user && w.transport == WatchTransport::Webcam
                });
            }
            RegistryEvent::UserLeftVoice { guild, user, .. } => {
                self.tear(&mut out, TeardownReason::TargetLeftVoice, |w| {
                    w.guild == *guild && w.target == *user
                });
                for w in self.watches.iter_mut().filter(|w| w.guild == *guild) {
                    w.requesters.retain(|r| r != user);
                }
                self.tear(&mut out, TeardownReason::RequesterLeftVoice, |w| {
                    w.guild == *guild && w.requesters.is_empty()
                });
            }
            RegistryEvent::UserMovedVoice {
                guild, user, to, ..
            } => {
                self.tear(&mut out, TeardownReason::TargetMovedChannel, |w| {
                    w.guild == *guild && w.target == *user && w.channel.is_some_and(|c| c != *to)
                });
            }
            RegistryEvent::SelfVoiceChanged { guild, channel } => match channel {
                None => self.tear(&mut out, TeardownReason::SelfLeftVoice, |w| {
                    w.guild == *guild
                }),
                Some(now_in) => self.tear(&mut out, TeardownReason::SelfMovedChannel, |w| {
                    w.guild == *guild && w.channel.is_some_and(|c| c != *now_in)
                }),
            },
            _ => {}
        }
        out
    }
}

/// True when the link offer for watch `id` must be cancelled because its
/// native transport became active. Call it at both checkpoints: before
/// creating the link session and again after composing the offer message.
pub fn suppress_link(book: &WatchBook, id: WatchId) -> bool {
    book.get(id).is_some_and(|w| w.native_active)
}
