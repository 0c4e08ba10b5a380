//! The share-session manager: create (with reuse), frame admission, stop,
//! expiry, snapshot and restore.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use voice_proto::{ChannelId, GuildId, UserId};

use crate::frame::FrameRejection;
use crate::settings::{FrameMime, ShareSettings};
use crate::token::ShareToken;

/// Length of the per-session frame-rate window.
pub const FRAME_WINDOW: Duration = Duration::from_secs(60);
/// Longest stop reason kept (longer ones are cut).
pub const MAX_REASON_CHARS: usize = 80;
/// Stop reason used when the caller gives none.
pub const DEFAULT_STOP_REASON: &str = "stopped_by_user";
/// How many fresh tokens `create` tries before giving up on collisions
/// (only a broken random source ever needs a second one).
const TOKEN_ATTEMPTS: usize = 8;

/// Wall-clock time as milliseconds since the Unix epoch: the unit of the
/// persisted records (a link must stay valid across a control restart, so
/// its expiry is wall time, not an [`std::time::Instant`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMillis(pub u64);

impl UnixMillis {
    /// The given time; times before the epoch become 0, times beyond
    /// `u64::MAX` ms saturate.
    pub fn from_system(t: SystemTime) -> Self {
        let ms = t
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Self(ms)
    }

    /// Back to a [`SystemTime`] (saturating at the platform's limit).
    pub fn to_system(self) -> SystemTime {
        UNIX_EPOCH
            .checked_add(Duration::from_millis(self.0))
            .unwrap_or(UNIX_EPOCH)
    }

    /// `self + d`, saturating.
    pub fn saturating_add(self, d: Duration) -> Self {
        let add = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(add))
    }
}

/// A session's stable number: assigned at creation, persisted, never
/// reused. Use it (not the token) as the key of per-token rate limiters,
/// so tokens are only ever compared in constant time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub u64);

/// One share session: the plain record the shell persists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareSession {
    /// Stable number (see [`SessionId`]).
    pub id: SessionId,
    /// The capability in the link.
    pub token: ShareToken,
    /// Guild of the voice session.
    pub guild: GuildId,
    /// Channel the request named, if any (a reuse filter; stored as given).
    pub channel: Option<ChannelId>,
    /// Who asked for the link.
    pub requester: UserId,
    /// Whose screen the frames are (the requester unless named).
    pub target: UserId,
    /// Creation time.
    pub created_at: UnixMillis,
    /// The link stops working at this time (never extended).
    pub expires_at: UnixMillis,
    /// Last accepted frame, if any.
    pub last_frame_at: Option<UnixMillis>,
    /// Accepted frames so far.
    pub frames_accepted: u64,
}

impl ShareSession {
    /// Whether the link still works at `now`.
    pub fn is_live(&self, now: SystemTime) -> bool {
        UnixMillis::from_system(now) < self.expires_at
    }

    /// Remaining time at `now`.
    pub fn remaining(&self, now: SystemTime) -> Duration {
        Duration::from_millis(
            self.expires_at
                .0
                .saturating_sub(UnixMillis::from_system(now).0),
        )
    }

    /// Remaining whole minutes, rounded up, at least 1 while live, 0 once
    /// expired (the reference's `expiresInMinutes`).
    pub fn expires_in_minutes(&self, now: SystemTime) -> u64 {
        let ms = self.remaining(now).as_millis();
        if ms == 0 {
            0
        } else {
            u64::try_from(ms.div_ceil(60_000))
                .unwrap_or(u64::MAX)
                .max(1)
        }
    }
}

/// Voice presence as control's gateway state sees it. The shell implements
/// it; the manager asks on every create and every frame.
pub trait Presence {
    /// The voice channel `user` is in within `guild`, if any.
    fn in_voice(&self, guild: GuildId, user: UserId) -> Option<ChannelId>;
    /// The voice channel our own voice session is in within `guild`, if we
    /// have a live (not ending) one.
    fn self_in_voice(&self, guild: GuildId) -> Option<ChannelId>;
}

/// Why voice presence no longer supports a session (reference §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PresenceFailure {
    /// We have no voice session in the guild.
    VoiceSessionNotFound,
    /// The requester is not in our voice channel.
    RequesterNotInSameVc,
    /// The target is not in our voice channel.
    TargetNotInSameVc,
}

impl PresenceFailure {
    /// The reference's reason string.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::VoiceSessionNotFound => "voice_session_not_found",
            Self::RequesterNotInSameVc => "requester_not_in_same_vc",
            Self::TargetNotInSameVc => "target_user_not_in_same_vc",
        }
    }
}

/// Checks that we, the requester and the target share a voice channel.
pub fn check_presence(
    presence: &dyn Presence,
    guild: GuildId,
    requester: UserId,
    target: UserId,
) -> Result<ChannelId, PresenceFailure> {
    let ours = presence
        .self_in_voice(guild)
        .ok_or(PresenceFailure::VoiceSessionNotFound)?;
    if presence.in_voice(guild, requester) != Some(ours) {
        return Err(PresenceFailure::RequesterNotInSameVc);
    }
    if target != requester && presence.in_voice(guild, target) != Some(ours) {
        return Err(PresenceFailure::TargetNotInSameVc);
    }
    Ok(ours)
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndReason {
    /// Its lifetime passed.
    Expired,
    /// Stopped through the stop route, the CLI or the shell, with the
    /// (sanitized) reason given.
    Stopped(String),
    /// Voice presence failed on a frame or on a reuse attempt.
    PresenceLost(PresenceFailure),
    /// Dropped by [`SessionManager::restore`] because more than the cap
    /// were restored (oldest first).
    OverCapacity,
}

impl EndReason {
    /// The reason as one string (for logs and the watch stop).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Expired => "session_expired",
            Self::Stopped(r) => r,
            Self::PresenceLost(p) => p.reason(),
            Self::OverCapacity => "share_session_limit_reached",
        }
    }
}

/// A session that has ended. **The shell must stop the watch the session
/// armed** for every one it receives, whichever call returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The record as it was.
    pub session: ShareSession,
    /// Why it ended.
    pub reason: EndReason,
}

/// The spelling the brief uses for what [`SessionManager::expire`] returns.
pub type Expired = Ended;

/// A request for a share link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateRequest {
    /// Guild of the voice session.
    pub guild: GuildId,
    /// Who asks.
    pub requester: UserId,
    /// Whose screen; `None` means the requester.
    pub target: Option<UserId>,
    /// Channel the request came from, if any: stored and used as a reuse
    /// filter.
    pub channel: Option<ChannelId>,
    /// Current wall-clock time.
    pub now: SystemTime,
}

/// A link handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The session (new, or the existing one with its original expiry).
    pub session: ShareSession,
    /// `true`: an existing live link was returned, nothing new to arm.
    /// `false`: a new session; the shell arms the link-fed watch, and if
    /// that fails calls [`SessionManager::stop`].
    pub reused: bool,
}

/// Why a link was not created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateRefusalKind {
    /// `STREAM_LINK_FALLBACK` is off.
    LinkFallbackDisabled,
    /// `voice.streamWatch.enabled` is off.
    StreamWatchDisabled,
    /// We, the requester or the target are not in one voice channel.
    Presence(PresenceFailure),
    /// [`ShareSettings::max_active_sessions`] sessions exist already.
    TooManySessions,
    /// The random source kept producing tokens already in use.
    TokenGenerationFailed,
}

/// A refused creation, plus any sessions it ended (a matching old session
/// whose presence failed is stopped, as in the reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRefusal {
    /// Why.
    pub kind: CreateRefusalKind,
    /// Sessions ended on the way; stop their watches.
    pub ended: Vec<Ended>,
}

impl CreateRefusal {
    /// Reason string: the reference's where it has one
    /// (`stream_watch_disabled`, the presence reasons); chosen here:
    /// `link_fallback_disabled`, `share_session_limit_reached`,
    /// `token_generation_failed`.
    pub fn reason(&self) -> &'static str {
        match self.kind {
            CreateRefusalKind::LinkFallbackDisabled => "link_fallback_disabled",
            CreateRefusalKind::StreamWatchDisabled => "stream_watch_disabled",
            CreateRefusalKind::Presence(p) => p.reason(),
            CreateRefusalKind::TooManySessions => "share_session_limit_reached",
            CreateRefusalKind::TokenGenerationFailed => "token_generation_failed",
        }
    }

    /// HTTP status: 400 for the policy refusals (the reference answers 400
    /// to every failed create), 503 when the session cap is reached, 500
    /// when no token could be generated.
    pub fn http_status(&self) -> u16 {
        match self.kind {
            CreateRefusalKind::TooManySessions => 503,
            CreateRefusalKind::TokenGenerationFailed => 500,
            _ => 400,
        }
    }

    /// Whether this is a policy refusal (CLI exit code 2).
    pub fn is_policy(&self) -> bool {
        matches!(
            self.kind,
            CreateRefusalKind::LinkFallbackDisabled
                | CreateRefusalKind::StreamWatchDisabled
                | CreateRefusalKind::Presence(_)
        )
    }

    /// The user-facing sentence.
    pub fn message(&self) -> &'static str {
        match self.kind {
            CreateRefusalKind::TooManySessions | CreateRefusalKind::TokenGenerationFailed => {
                "share link is unavailable right now."
            }
            _ => {
                "can't start screen-share watching right now. make sure we're in vc together and stream watch is enabled."
            }
        }
    }
}

/// What the shell knows about a frame before admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameMeta<'a> {
    /// Declared MIME type (empty means `image/jpeg`, the route default).
    pub mime: &'a str,
    /// Exact decoded size in bytes (see [`crate::FrameBody::decode`]).
    pub decoded_len: usize,
    /// Current wall-clock time.
    pub now: SystemTime,
}

/// An admitted frame: forward it to the watch of `target` in `guild`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// The session.
    pub id: SessionId,
    /// Guild of the watch.
    pub guild: GuildId,
    /// Who asked for the link.
    pub requester: UserId,
    /// Whose screen the frame is.
    pub target: UserId,
    /// Normalized image type.
    pub mime: FrameMime,
    /// Frames accepted in the current 60 s window, this one included.
    pub frames_in_window: u32,
}

/// Counts for `/api/stats` (the reference's `runtime.screenShare`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeState {
    /// Live sessions.
    pub active_count: usize,
    /// The latest expiry among them.
    pub newest_expires_at: Option<UnixMillis>,
}

/// What [`SessionManager::restore`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Restored {
    /// Records now held.
    pub restored: usize,
    /// Records skipped because their token or id is already held.
    pub duplicates: usize,
    /// Records ended on the way (expired, over the cap): stop their
    /// watches (if any survived the restart) and delete them from the
    /// store.
    pub ended: Vec<Ended>,
}

#[derive(Debug, Clone)]
struct Entry {
    session: ShareSession,
    /// Start of the current frame-rate window (not persisted).
    window_start: Option<UnixMillis>,
    /// Frames accepted in it.
    window_count: u32,
}

/// What became of a token that is no longer held (so a late frame gets
/// the precise kind; the reason string is the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tombstone {
    Expired,
    Stopped,
}

/// Owns every share session. Pure: time and randomness come in as
/// arguments, and everything that must happen outside (arm or stop a
/// watch, persist) comes out in return values.
#[derive(Debug)]
pub struct SessionManager {
    settings: ShareSettings,
    /// At most `max_active_sessions` entries. A `Vec` on purpose: token
    /// lookups scan every entry with a constant-time compare.
    entries: Vec<Entry>,
    /// Recently ended tokens, bounded by `max_active_sessions`.
    tombstones: VecDeque<(ShareToken, Tombstone)>,
    next_id: u64,
    /// Bumped whenever a session is added or ended.
    revision: u64,
}

impl SessionManager {
    /// An empty manager with the given settings (normalized).
    pub fn new(settings: ShareSettings) -> Self {
        Self {
            settings: settings.normalized(),
            entries: Vec::new(),
            tombstones: VecDeque::new(),
            next_id: 1,
            revision: 0,
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &ShareSettings {
        &self.settings
    }

    /// Replaces the settings (normalized). Existing sessions keep their
    /// expiry; a lower cap only affects later creations.
    pub fn set_settings(&mut self, settings: ShareSettings) {
        self.settings = settings.normalized();
    }

    /// Creates a link or returns the existing one.
    ///
    /// Order: link fallback enabled → stream watch enabled → presence (we
    /// are in voice, the requester and the target are in our channel; on
    /// failure every matching session is ended and returned) → reuse of the
    /// newest live session with the same guild, requester, target and (if
    /// given) channel, **without extending it** → the cap → a new token.
    ///
    /// Expired-but-unswept sessions still count toward the cap: call
    /// [`SessionManager::expire`] first (the shell does so before every
    /// create and when [`SessionManager::next_expiry`] comes).
    pub fn create(
        &mut self,
        req: CreateRequest,
        presence: &dyn Presence,
        rng: &mut impl FnMut(&mut [u8]),
    ) -> Result<Created, CreateRefusal> {
        let refuse = |kind| CreateRefusal {
            kind,
            ended: Vec::new(),
        };
        if !self.settings.link_fallback_enabled {
            return Err(refuse(CreateRefusalKind::LinkFallbackDisabled));
        }
        if !self.settings.stream_watch_enabled {
            return Err(refuse(CreateRefusalKind::StreamWatchDisabled));
        }
        let target = req.target.unwrap_or(req.requester);
        let now = UnixMillis::from_system(req.now);
        let matches = |s: &ShareSession| {
            s.guild == req.guild
                && s.requester == req.requester
                && s.target == target
                && req.channel.is_none_or(|c| s.channel == Some(c))
        };
        if let Err(failure) = check_presence(presence, req.guild, req.requester, target) {
            let mut ended = Vec::new();
            let mut i = 0;
            while i < self.entries.len() {
                if matches(&self.entries[i].session) {
                    let entry = self.entries.remove(i);
                    ended.push(self.end(entry, EndReason::PresenceLost(failure)));
                } else {
                    i += 1;
                }
            }
            return Err(CreateRefusal {
                kind: CreateRefusalKind::Presence(failure),
                ended,
            });
        }
        let reusable = self
            .entries
            .iter()
            .filter(|e| now < e.session.expires_at && matches(&e.session))
            .max_by_key(|e| e.session.created_at);
        if let Some(e) = reusable {
            return Ok(Created {
                session: e.session.clone(),
                reused: true,
            });
        }
        if self.entries.len() >= self.settings.max_active_sessions {
            return Err(refuse(CreateRefusalKind::TooManySessions));
        }
        let token = (0..TOKEN_ATTEMPTS)
            .map(|_| ShareToken::generate(rng))
            .find(|t| self.index_of(t).is_none() && !self.tombstoned(t))
            .ok_or_else(|| refuse(CreateRefusalKind::TokenGenerationFailed))?;
        let session = ShareSession {
            id: SessionId(self.next_id),
            token,
            guild: req.guild,
            channel: req.channel,
            requester: req.requester,
            target,
            created_at: now,
            expires_at: now.saturating_add(self.settings.ttl.as_duration()),
            last_frame_at: None,
            frames_accepted: 0,
        };
        self.next_id = self.next_id.saturating_add(1);
        self.entries.push(Entry {
            session: session.clone(),
            window_start: None,
            window_count: 0,
        });
        self.revision += 1;
        Ok(Created {
            session,
            reused: false,
        })
    }

    /// Frame admission. Checks, in order: the session is live (not found /
    /// expired / stopped), voice presence of requester and target (a
    /// failure ends the session and the rejection carries it), stream
    /// watch enabled (`stream_watch_disabled`; the session stays), MIME type,
    /// non-empty data, decoded size ≤ `max_frame_bytes`, frames per minute
    /// (fixed 60 s window from the first admitted frame; only admitted
    /// frames count). An accepted frame counts toward the window.
    ///
    /// Every rejection that ended a session carries it
    /// ([`FrameRejection::ended`]): stop its watch.
    pub fn check_frame(
        &mut self,
        token: &ShareToken,
        meta: FrameMeta<'_>,
        presence: &dyn Presence,
    ) -> Result<Accepted, FrameRejection> {
        let now = UnixMillis::from_system(meta.now);
        let Some(idx) = self.index_of(token) else {
            return Err(match self.tombstone_of(token) {
                Some(Tombstone::Expired) => FrameRejection::SessionExpired { ended: None },
                Some(Tombstone::Stopped) => FrameRejection::SessionStopped,
                None => FrameRejection::SessionNotFound,
            });
        };
        if now >= self.entries[idx].session.expires_at {
            let entry = self.entries.remove(idx);
            let ended = self.end(entry, EndReason::Expired);
            return Err(FrameRejection::SessionExpired {
                ended: Some(Box::new(ended)),
            });
        }
        let s = &self.entries[idx].session;
        if let Err(failure) = check_presence(presence, s.guild, s.requester, s.target) {
            let entry = self.entries.remove(idx);
            let ended = self.end(entry, EndReason::PresenceLost(failure));
            return Err(FrameRejection::PresenceLost {
                failure,
                ended: Box::new(ended),
            });
        }
        if !self.settings.stream_watch_enabled {
            return Err(FrameRejection::StreamWatchDisabled);
        }
        let mime = if meta.mime.trim().is_empty() {
            Some(FrameMime::Jpeg)
        } else {
            FrameMime::parse(meta.mime)
        };
        let Some(mime) = mime else {
            return Err(FrameRejection::InvalidMimeType);
        };
        if meta.decoded_len == 0 {
            return Err(FrameRejection::FrameDataRequired);
        }
        if meta.decoded_len > self.settings.max_frame_bytes {
            return Err(FrameRejection::FrameTooLarge {
                max_frame_bytes: self.settings.max_frame_bytes,
            });
        }
        let max = self.settings.max_frames_per_minute;
        let entry = &mut self.entries[idx];
        let window_over = match entry.window_start {
            None => true,
            // A clock stepped backwards also starts a new window.
            Some(start) => now < start || now.0 - start.0 >= FRAME_WINDOW.as_millis() as u64,
        };
        if window_over {
            entry.window_start = Some(now);
            entry.window_count = 0;
        }
        if entry.window_count >= max {
            return Err(FrameRejection::FrameRateLimited {
                max_frames_per_minute: max,
            });
        }
        entry.window_count += 1;
        entry.session.frames_accepted = entry.session.frames_accepted.saturating_add(1);
        entry.session.last_frame_at = Some(now);
        let s = &entry.session;
        Ok(Accepted {
            id: s.id,
            guild: s.guild,
            requester: s.requester,
            target: s.target,
            mime,
            frames_in_window: entry.window_count,
        })
    }

    /// Stops a session (stop route, CLI, shell). `reason` is cut to 80
    /// characters, characters outside `[A-Za-z0-9_.:-]` become `_`, and an
    /// empty reason becomes `stopped_by_user`. `None` if the token is not
    /// held.
    pub fn stop(&mut self, token: &ShareToken, reason: &str) -> Option<Ended> {
        let idx = self.index_of(token)?;
        let entry = self.entries.remove(idx);
        Some(self.end(entry, EndReason::Stopped(sanitize_reason(reason))))
    }

    /// Stops every session (CLI `share stop --all`).
    pub fn stop_all(&mut self, reason: &str) -> Vec<Ended> {
        let reason = sanitize_reason(reason);
        let entries = std::mem::take(&mut self.entries);
        entries
            .into_iter()
            .map(|e| self.end(e, EndReason::Stopped(reason.clone())))
            .collect()
    }

    /// Ends every session whose expiry is at or before `now`. The shell
    /// must stop the watch of each one returned.
    pub fn expire(&mut self, now: SystemTime) -> Vec<Expired> {
        let now = UnixMillis::from_system(now);
        let (gone, kept): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|e| e.session.expires_at <= now);
        self.entries = kept;
        gone.into_iter()
            .map(|e| self.end(e, EndReason::Expired))
            .collect()
    }

    /// The earliest expiry among held sessions: when the shell should call
    /// [`SessionManager::expire`] next.
    pub fn next_expiry(&self) -> Option<SystemTime> {
        self.entries
            .iter()
            .map(|e| e.session.expires_at)
            .min()
            .map(UnixMillis::to_system)
    }

    /// The held session for `token`, live or expired-but-unswept.
    pub fn get(&self, token: &ShareToken) -> Option<&ShareSession> {
        self.index_of(token).map(|i| &self.entries[i].session)
    }

    /// The session for `token` if it is live at `now` (the share page's
    /// check).
    pub fn get_live(&self, token: &ShareToken, now: SystemTime) -> Option<&ShareSession> {
        self.get(token).filter(|s| s.is_live(now))
    }

    /// The [`SessionId`] of `token`, for per-token rate limiting.
    pub fn session_id(&self, token: &ShareToken) -> Option<SessionId> {
        self.get(token).map(|s| s.id)
    }

    /// Every held session, oldest first.
    pub fn list(&self) -> impl Iterator<Item = &ShareSession> + '_ {
        self.entries.iter().map(|e| &e.session)
    }

    /// Sessions whose token ends with `suffix` (CLI `share stop SUFFIX`);
    /// an empty suffix matches nothing.
    pub fn find_by_suffix(&self, suffix: &str) -> Vec<&ShareSession> {
        if suffix.is_empty() {
            return Vec::new();
        }
        self.list()
            .filter(|s| s.token.reveal().ends_with(suffix))
            .collect()
    }

    /// Changes whenever a session is added or ended, and only then: the
    /// set of sessions a store must hold is unchanged while this is.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Held sessions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Counts for `/api/stats`.
    pub fn runtime_state(&self, now: SystemTime) -> RuntimeState {
        let live = self.list().filter(|s| s.is_live(now));
        let (count, newest) = live.fold((0, None), |(n, m): (usize, Option<UnixMillis>), s| {
            (n + 1, Some(m.map_or(s.expires_at, |m| m.max(s.expires_at))))
        });
        RuntimeState {
            active_count: count,
            newest_expires_at: newest,
        }
    }

    /// Every held record, for the persisted store.
    pub fn snapshot(&self) -> Vec<ShareSession> {
        self.list().cloned().collect()
    }

    /// Loads persisted records (normally into a fresh manager at start-up).
    /// Expired records are ended; records whose token or id is already
    /// held are skipped; if more than the cap remain, the oldest are ended
    /// with [`EndReason::OverCapacity`]. Restored sessions start a fresh
    /// frame-rate window. Ids continue after the largest restored one.
    pub fn restore(&mut self, records: Vec<ShareSession>, now: SystemTime) -> Restored {
        let now_ms = UnixMillis::from_system(now);
        let mut out = Restored::default();
        for session in records {
            self.next_id = self.next_id.max(session.id.0.saturating_add(1));
            if self.index_of(&session.token).is_some()
                || self.entries.iter().any(|e| e.session.id == session.id)
            {
                out.duplicates += 1;
                continue;
            }
            let entry = Entry {
                session,
                window_start: None,
                window_count: 0,
            };
            if entry.session.expires_at <= now_ms {
                out.ended.push(self.end(entry, EndReason::Expired));
            } else {
                self.entries.push(entry);
                self.revision += 1;
            }
        }
        self.entries
            .sort_by_key(|e| (e.session.created_at, e.session.id));
        let cap = self.settings.max_active_sessions;
        if self.entries.len() > cap {
            let excess = self.entries.len() - cap;
            let dropped: Vec<Entry> = self.entries.drain(..excess).collect();
            for e in dropped {
                out.ended.push(self.end(e, EndReason::OverCapacity));
            }
        }
        out.restored = self.entries.len();
        out
    }

    /// Index of `token`, comparing against **every** entry in constant time
    /// (no early exit), so timing reveals neither where nor whether it
    /// matched.
    fn index_of(&self, token: &ShareToken) -> Option<usize> {
        let mut found = None;
        for (i, e) in self.entries.iter().enumerate() {
            if e.session.token.ct_eq(token) && found.is_none() {
                found = Some(i);
            }
        }
        found
    }

    fn tombstone_of(&self, token: &ShareToken) -> Option<Tombstone> {
        let mut found = None;
        for (t, kind) in &self.tombstones {
            if t.ct_eq(token) {
                found = Some(*kind);
            }
        }
        found
    }

    fn tombstoned(&self, token: &ShareToken) -> bool {
        self.tombstone_of(token).is_some()
    }

    fn end(&mut self, entry: Entry, reason: EndReason) -> Ended {
        self.revision += 1;
        let kind = match reason {
            EndReason::Expired => Tombstone::Expired,
            _ => Tombstone::Stopped,
        };
        let cap = self.settings.max_active_sessions.max(1);
        while self.tombstones.len() >= cap {
            self.tombstones.pop_front();
        }
        self.tombstones.push_back((entry.session.token, kind));
        Ended {
            session: entry.session,
            reason,
        }
    }
}

/// Cuts a caller-supplied reason to [`MAX_REASON_CHARS`] and replaces
/// characters outside `[A-Za-z0-9_.:-]` with `_` (log safety); empty →
/// [`DEFAULT_STOP_REASON`].
pub fn sanitize_reason(reason: &str) -> String {
    let cleaned: String = reason
        .trim()
        .chars()
        .take(MAX_REASON_CHARS)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        DEFAULT_STOP_REASON.to_owned()
    } else {
        cleaned
    }
}
