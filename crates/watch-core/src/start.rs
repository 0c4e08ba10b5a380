//! [`plan_start`]: what one `start_screen_watch` request turns into, as a
//! typed plan the shell matches on, and the waits of the share-link path.
//!
//! The plan puts together [`select_target`], the no-sharer link offer
//! ([`PlanOptions::no_sharer_plan`]), [`plan_transport`] and the "one
//! screen at a time" policy ([`WatchBook::replaced_by`]). The shell carries
//! it out: a [`StartPlan::Watch`] ends the replaced watches
//! ([`REPLACED_BY_NEW_WATCH`]) and calls [`WatchBook::start`]; a
//! [`StartPlan::Link`] joins the requester's voice channel if needed and
//! creates the share link once [`link_can_proceed`], answering by
//! [`LINK_WAIT`] at the latest; a [`StartPlan::Refused`] is the answer.

use std::time::Duration;

use gateway_proto::{ChannelId, UserId};

use crate::error::Refusal;
use crate::place::Place;
use crate::plan::{
    PlanOptions, PlanReason, TransportPlan, WatchBook, WatchId, WatchRequest, WatchTransport,
    plan_transport,
};
use crate::registry::Registry;
use crate::select::{SelectionReason, select_target};

/// How long a share-link start waits for our voice connection to reach the
/// requester's channel (and for a native watch of the same target that is
/// still connecting to succeed or fail) before it is answered without the
/// link: `voice_join_timeout`, or the native watch it waited for. A voice
/// join normally completes in well under a second; 8 s covers a slow voice
/// server while staying inside a chat command's patience.
pub const LINK_WAIT: Duration = Duration::from_secs(8);

/// The window of the share-link frame rate limit (`maxFramesPerMinute`
/// frames per window and watch).
pub const LINK_FRAME_WINDOW: Duration = Duration::from_secs(60);

/// The teardown reason of a watch ended because another screen is now
/// watched ("one screen at a time").
pub const REPLACED_BY_NEW_WATCH: &str = "replaced_by_new_watch";

/// Why a start is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartRefusal {
    /// Target selection refused ([`select_target`]).
    Selection(Refusal),
    /// A target was chosen but nothing can watch it ([`plan_transport`]
    /// gave [`TransportPlan::Unavailable`]).
    Unavailable(PlanReason),
}

impl StartRefusal {
    /// Stable snake_case reason, as the API answers it.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Selection(r) => r.reason(),
            Self::Unavailable(r) => r.as_str(),
        }
    }
}

/// What a `start_screen_watch` request becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartPlan {
    /// Watch natively (Go Live) or by camera: end `replace` first, then
    /// start `request` in the book (which may reuse a watch of the same
    /// target).
    Watch {
        /// The watch to start.
        request: WatchRequest,
        /// Other watches to end first (one screen at a time).
        replace: Vec<WatchId>,
        /// Why this target.
        reason: SelectionReason,
    },
    /// Offer `target` a share link (the shell may have to join voice
    /// first).
    Link {
        /// Who is offered the link: the chosen target, or the requester
        /// when nobody is sharing and nobody was named.
        target: UserId,
        /// Why a link and not native.
        reason: PlanReason,
        /// Why this target, when selection chose it (`None` for the
        /// no-sharer offer to the requester).
        selection: Option<SelectionReason>,
    },
    /// Refused.
    Refused {
        /// Why.
        refusal: StartRefusal,
        /// The user the refusal is about, when there is one.
        target: Option<UserId>,
    },
}

/// Plans a start in `place` for `requester`, watching `target` (a name,
/// mention or id; `None` or blank: auto-select) under `options`.
pub fn plan_start(
    reg: &Registry,
    book: &WatchBook,
    place: impl Into<Place>,
    requester: UserId,
    target: Option<&str>,
    options: PlanOptions,
) -> StartPlan {
    let place = place.into();
    let selection = match select_target(reg, place, requester, target) {
        Ok(s) => s,
        Err(refusal) => {
            // Nobody sharing and no target named: a link for the
            // requester (the reference's behaviour), when links are on.
            let no_sharer = PlanOptions {
                preferred_link: false,
                ..options
            };
            if let Some((who, TransportPlan::Link { reason })) =
                no_sharer.no_sharer_plan(reg, &refusal, target, requester)
            {
                return StartPlan::Link {
                    target: who,
                    reason,
                    selection: None,
                };
            }
            return StartPlan::Refused {
                target: refusal.target_user(),
                refusal: StartRefusal::Selection(refusal),
            };
        }
    };
    let who = selection.target;
    let transport = match plan_transport(reg, place, who, options) {
        TransportPlan::Link { reason } => {
            return StartPlan::Link {
                target: who,
                reason,
                selection: Some(selection.reason),
            };
        }
        TransportPlan::Unavailable { reason } => {
            return StartPlan::Refused {
                refusal: StartRefusal::Unavailable(reason),
                target: Some(who),
            };
        }
        TransportPlan::Native { stream_key } => WatchTransport::Native { stream_key },
        TransportPlan::Webcam { .. } => WatchTransport::Webcam,
    };
    StartPlan::Watch {
        request: WatchRequest {
            guild: place,
            target: who,
            requester,
            channel: selection.channel,
            transport,
        },
        replace: book.replaced_by(place, who),
        reason: selection.reason,
    }
}

impl WatchBook {
    /// One screen at a time: the watches that a new watch of `target` in
    /// `place` ends (every watch of someone else, or elsewhere). A watch
    /// of the same target in the same place is reused, not replaced.
    pub fn replaced_by(&self, place: impl Into<Place>, target: UserId) -> Vec<WatchId> {
        let place = place.into();
        self.watches()
            .filter(|w| w.target != target || w.guild != place)
            .map(|w| w.id)
            .collect()
    }

    /// A native (or webcam) watch of `target` exists and has not delivered
    /// yet: a link requested now waits for it to succeed or fail, so one
    /// target never gets two transports.
    pub fn native_resolving(&self, place: impl Into<Place>, target: UserId) -> bool {
        self.find_by_target(place, target)
            .is_some_and(|w| w.transport != WatchTransport::Link && !w.native_active)
    }
}

/// A pending share link for `target` can be created: our voice connection
/// (`own_channel`) is in the requester's `channel` and no native watch of
/// the target is resolving.
pub fn link_can_proceed(
    book: &WatchBook,
    place: impl Into<Place>,
    own_channel: Option<ChannelId>,
    channel: ChannelId,
    target: UserId,
) -> bool {
    own_channel == Some(channel) && !book.native_resolving(place, target)
}
