//! [`select_target`]: whose screen to watch.

use std::collections::BTreeSet;

use gateway_proto::{ChannelId, UserId};

use crate::place::Place;

use crate::error::{Candidate, Refusal};
use crate::registry::Registry;

/// Raw target strings are cut to this many characters before matching.
pub const MAX_TARGET_CHARS: usize = 120;

/// Why this target was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectionReason {
    /// The requester named the target.
    ExplicitTarget,
    /// The requester has Go Live.
    RequesterGoLive,
    /// The requester has a camera on.
    RequesterWebcam,
    /// Exactly one other user in the requester's channel has Go Live.
    SingleGoLiveInChannel,
    /// Nobody in the requester's channel has Go Live and exactly one other
    /// user has a camera on.
    SingleWebcamInChannel,
    /// No voice states are known and exactly one Go Live was discovered.
    SingleDiscoveredGoLive,
}

impl SelectionReason {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExplicitTarget => "explicit_target",
            Self::RequesterGoLive => "requester_go_live",
            Self::RequesterWebcam => "requester_webcam",
            Self::SingleGoLiveInChannel => "single_go_live_in_channel",
            Self::SingleWebcamInChannel => "single_webcam_in_channel",
            Self::SingleDiscoveredGoLive => "single_discovered_go_live",
        }
    }
}

/// The chosen target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Whose screen or camera to watch.
    pub target: UserId,
    /// Why.
    pub reason: SelectionReason,
    /// The target's voice channel (or its stream's channel), if known.
    pub channel: Option<ChannelId>,
}

impl Selection {
    /// True when the requester named the target.
    pub fn explicit(&self) -> bool {
        self.reason == SelectionReason::ExplicitTarget
    }
}

/// Normalizes a target string: whitespace trimmed and collapsed, cut to
/// [`MAX_TARGET_CHARS`]; a mention `<@123>` / `<@!123>` becomes `123`;
/// otherwise leading `@`s are stripped and the result lower-cased.
pub fn normalize_target(raw: &str) -> String {
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = collapsed.chars().take(MAX_TARGET_CHARS).collect();
    if let Some(inner) = cut.strip_prefix("<@").and_then(|s| s.strip_suffix('>')) {
        let id = inner.strip_prefix('!').unwrap_or(inner);
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            return id.to_owned();
        }
    }
    // Lower-casing can lengthen a string (`İ` → `i̇`): cut again.
    cut.trim_start_matches('@')
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_TARGET_CHARS)
        .collect()
}

/// A name normalized like a target (without mention handling).
fn normalize_name(name: &str) -> String {
    let collapsed = name.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .to_lowercase()
        .chars()
        .take(MAX_TARGET_CHARS)
        .collect()
}

/// True when `token` (normalized) is the user's id or one of their names.
fn matches(reg: &Registry, guild: Place, user: UserId, token: &str) -> bool {
    if token.parse::<u64>().is_ok_and(|id| id == user.get()) {
        return true;
    }
    reg.names(guild, user)
        .is_some_and(|n| n.all().any(|name| normalize_name(name) == token))
}

fn is_sharing(reg: &Registry, guild: Place, user: UserId) -> bool {
    reg.is_go_live(guild, user) || reg.has_webcam(guild, user)
}

fn candidates(reg: &Registry, guild: Place, users: &BTreeSet<UserId>) -> Vec<Candidate> {
    users
        .iter()
        .map(|&user| Candidate {
            user,
            name: reg.display_name(guild, user),
        })
        .collect()
}

/// The channel a user is in, or streams in.
fn channel_of(reg: &Registry, guild: Place, user: UserId) -> Option<ChannelId> {
    reg.voice_channel(guild, user)
        .or_else(|| reg.primary_stream_in(guild, user).map(|s| s.channel_id))
}

/// Picks among matching users: a unique sharer wins, else a unique match.
fn pick(reg: &Registry, guild: Place, found: &BTreeSet<UserId>) -> Result<Option<UserId>, Refusal> {
    let sharers: BTreeSet<UserId> = found
        .iter()
        .copied()
        .filter(|&u| is_sharing(reg, guild, u))
        .collect();
    let pool = if sharers.is_empty() { found } else { &sharers };
    match pool.len() {
        0 => Ok(None),
        1 => Ok(pool.first().copied()),
        _ => Err(Refusal::TargetAmbiguous {
            candidates: candidates(reg, guild, pool),
        }),
    }
}

/// Chooses whose screen to watch for `requester` in `guild` (a guild or
/// a call: the same rules apply to a call's voice states and streams).
///
/// With a `target` (display name, username, mention or id; compared after
/// [`normalize_target`], exact and case-insensitive) the result is that
/// user or a refusal, never someone else. Without one, a target is bound
/// only when that is safe (see the crate docs for the rules). The target's
/// sharing state is not checked for explicit targets: [`crate::plan_transport`]
/// decides between native, webcam and link.
pub fn select_target(
    reg: &Registry,
    guild: impl Into<Place>,
    requester: UserId,
    target: Option<&str>,
) -> Result<Selection, Refusal> {
    let guild = guild.into();
    if !reg.knows_guild(guild) {
        return Err(Refusal::GuildUnknown);
    }
    let own = reg.own_user();
    let roster_empty = reg.roster_is_empty(guild);
    let requester_channel = reg.voice_channel(guild, requester);
    let token = target.map(normalize_target).filter(|t| !t.is_empty());
    let Some(token) = token else {
        return auto_bind(reg, guild, requester, requester_channel, roster_empty);
    };
    if !roster_empty && requester_channel.is_none() {
        return Err(Refusal::RequesterNotInVoice);
    }
    // Users in voice or with a discovered stream, ourselves excluded.
    let mut present: BTreeSet<UserId> = reg.voice_states(guild).map(|(u, _)| u).collect();
    present.extend(reg.streams(guild).map(|s| s.owner));
    if let Some(own) = own {
        present.remove(&own);
    }
    let found: BTreeSet<UserId> = present
        .iter()
        .copied()
        .filter(|&u| matches(reg, guild, u, &token))
        .collect();
    let (here, elsewhere): (BTreeSet<UserId>, BTreeSet<UserId>) = found
        .into_iter()
        .partition(|&u| roster_empty || channel_of(reg, guild, u) == requester_channel);
    if let Some(user) = pick(reg, guild, &here)? {
        return Ok(Selection {
            target: user,
            reason: SelectionReason::ExplicitTarget,
            channel: channel_of(reg, guild, user),
        });
    }
    if let Some(user) = pick(reg, guild, &elsewhere)? {
        return Err(Refusal::TargetNotInRequesterChannel { user });
    }
    if own.is_some_and(|o| matches(reg, guild, o, &token)) {
        return Err(Refusal::TargetIsSelf);
    }
    let absent: BTreeSet<UserId> = reg
        .members(guild)
        .map(|(u, _)| u)
        .filter(|&u| Some(u) != own && matches(reg, guild, u, &token))
        .collect();
    match absent.first() {
        None => Err(Refusal::TargetNotFound { target: token }),
        Some(&user) if absent.len() == 1 => Err(Refusal::TargetNotInVoice { user }),
        Some(_) => Err(Refusal::TargetAmbiguous {
            candidates: candidates(reg, guild, &absent),
        }),
    }
}

fn auto_bind(
    reg: &Registry,
    guild: Place,
    requester: UserId,
    requester_channel: Option<ChannelId>,
    roster_empty: bool,
) -> Result<Selection, Refusal> {
    let own = reg.own_user();
    let select = |target: UserId, reason| {
        Ok(Selection {
            target,
            reason,
            channel: channel_of(reg, guild, target),
        })
    };
    if Some(requester) != own {
        if reg.is_go_live(guild, requester) {
            return select(requester, SelectionReason::RequesterGoLive);
        }
        if reg.has_webcam(guild, requester) {
            return select(requester, SelectionReason::RequesterWebcam);
        }
    }
    let one_or_refuse = |set: BTreeSet<UserId>, reason| match set.len() {
        0 => Err(Refusal::NoSharer),
        1 => match set.first() {
            Some(&u) => select(u, reason),
            None => Err(Refusal::NoSharer),
        },
        _ => Err(Refusal::MultipleSharersNeedTarget {
            sharers: candidates(reg, guild, &set),
        }),
    };
    if roster_empty {
        let owners: BTreeSet<UserId> = reg
            .streams(guild)
            .map(|s| s.owner)
            .filter(|&u| Some(u) != own)
            .collect();
        return one_or_refuse(owners, SelectionReason::SingleDiscoveredGoLive);
    }
    let Some(channel) = requester_channel else {
        return Err(Refusal::RequesterNotInVoice);
    };
    let mut in_channel: BTreeSet<UserId> = reg
        .voice_states(guild)
        .filter(|(_, v)| v.channel_id == channel)
        .map(|(u, _)| u)
        .collect();
    in_channel.extend(
        reg.streams(guild)
            .filter(|s| s.channel_id == channel)
            .map(|s| s.owner),
    );
    in_channel.remove(&requester);
    if let Some(own) = own {
        in_channel.remove(&own);
    }
    let go_live: BTreeSet<UserId> = in_channel
        .iter()
        .copied()
        .filter(|&u| reg.is_go_live(guild, u))
        .collect();
    if !go_live.is_empty() {
        return one_or_refuse(go_live, SelectionReason::SingleGoLiveInChannel);
    }
    let webcams: BTreeSet<UserId> = in_channel
        .into_iter()
        .filter(|&u| reg.has_webcam(guild, u))
        .collect();
    one_or_refuse(webcams, SelectionReason::SingleWebcamInChannel)
}
