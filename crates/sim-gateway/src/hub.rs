//! The hub: shared state behind one lock (world, gateway sessions, REST
//! limiter) and the delivery of world effects to sessions and media
//! servers.
//!
//! A std `Mutex` (not tokio's): every critical section is short, never
//! awaits, and sending on an unbounded channel does not block. Dispatches
//! get their `seq` and are buffered for RESUME under the same lock that
//! mutates the world, so every session sees events in world order.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use gateway_proto::{Dispatch, Identify, Ready, Resume, Secret, ServerMessage, UserId};
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

use crate::error::SimError;
use crate::rest_limit::RestLimiter;
use crate::scenario::ScenarioSettings;
use crate::voice_servers::MediaServers;
use crate::world::{Audience, Effect, World};

/// What a connection task is told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// Send this text frame.
    Text(String),
    /// Send a close frame and stop.
    Close(u16, String),
    /// The session was invalidated (op 9 false): forget it, stay open for
    /// a new Identify.
    SessionDropped,
}

/// A connection's channel, with an id to tell reconnects apart.
#[derive(Debug, Clone)]
pub(crate) struct ConnLink {
    pub id: u64,
    pub tx: UnboundedSender<Outgoing>,
}

/// One received op, for the admin API.
#[derive(Debug, Clone, Serialize)]
pub struct OpRecord {
    /// Milliseconds since the sim started.
    pub at_ms: u64,
    /// Opcode number.
    pub op: u8,
    /// Opcode name.
    pub name: String,
}

/// Ops kept per session in the admin log.
const OP_LOG_CAP: usize = 200;

/// A main gateway session (survives its connection until invalidated, so
/// it can be resumed).
pub(crate) struct Session {
    pub id: Secret,
    pub user_id: UserId,
    pub bot: bool,
    /// Last assigned dispatch seq.
    pub seq: u64,
    /// Sent dispatches `(seq, frame)` kept for RESUME replay.
    pub buffer: VecDeque<(u64, String)>,
    pub conn: Option<ConnLink>,
    pub op_counts: BTreeMap<String, u64>,
    pub op_log: VecDeque<OpRecord>,
}

/// The lock-protected part of the hub.
pub(crate) struct HubState {
    pub world: World,
    /// Keyed by session id; [`HubState::session_ids`] lists them in order.
    pub sessions: HashMap<Secret, Session>,
    pub settings: ScenarioSettings,
    pub rest: RestLimiter,
}

/// Shared by every task of one sim.
pub(crate) struct Hub {
    state: Mutex<HubState>,
    pub media: MediaServers,
    pub gateway_url: String,
    pub seed: u64,
    pub started: Instant,
    /// Flips to `true` on shutdown; every connection task watches it.
    pub shutdown: tokio::sync::watch::Sender<bool>,
    next_conn: std::sync::atomic::AtomicU64,
}

impl HubState {
    /// The session ids in a stable order (by value, as the admin API has
    /// always listed them), so a seed reproduces the admin answers.
    pub fn session_ids(&self) -> Vec<Secret> {
        let mut ids: Vec<Secret> = self.sessions.keys().cloned().collect();
        ids.sort_by(|a, b| a.expose().cmp(b.expose()));
        ids
    }
}

/// Which sessions an admin action targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SessionSelector {
    All,
    Session(Secret),
    User(UserId),
}

impl Hub {
    pub fn new(
        world: World,
        settings: ScenarioSettings,
        media: MediaServers,
        gateway_url: String,
        seed: u64,
    ) -> Self {
        Self {
            state: Mutex::new(HubState {
                world,
                sessions: HashMap::new(),
                settings,
                rest: RestLimiter::default(),
            }),
            media,
            gateway_url,
            seed,
            started: Instant::now(),
            shutdown: tokio::sync::watch::Sender::new(false),
            next_conn: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// Locks the state. A poisoned lock (a panic in another task) is
    /// recovered: the state is plain data and stays usable for a test tool.
    pub fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn new_conn_id(&self) -> u64 {
        self.next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Applies effects in order; delayed ones are re-applied by a task.
    pub fn apply(self: &Arc<Self>, state: &mut HubState, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Dispatch { to, event } => deliver(state, &to, &event),
                Effect::Media(action) => self.media.apply(&action),
                Effect::Delayed { after, effects } => {
                    let hub = Arc::clone(self);
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        let mut st = hub.lock();
                        hub.apply(&mut st, effects);
                    });
                }
            }
        }
    }

    /// Runs a world operation and applies its effects.
    pub fn with_world<T>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut World) -> Result<(T, Vec<Effect>), SimError>,
    ) -> Result<T, SimError> {
        let mut st = self.lock();
        let (value, effects) = f(&mut st.world)?;
        self.apply(&mut st, effects);
        Ok(value)
    }

    /// Op 2: a new session on `conn`, READY and GUILD_CREATEs. Unknown
    /// token → `Err(4004)`.
    pub fn identify(self: &Arc<Self>, conn: ConnLink, identify: &Identify) -> Result<Secret, u16> {
        let mut st = self.lock();
        let Some(user) = st.world.user_by_token(identify.token().expose()).cloned() else {
            return Err(4004);
        };
        let session_id = st.world.fresh_token();
        let guild_ids = st.world.guilds_of(user.id);
        let guilds: Vec<_> = guild_ids
            .iter()
            .filter_map(|g| st.world.guild_object(*g).ok())
            .collect();
        let user_obj = st.world.user_object(user.id).map_err(|_| 4004u16)?;
        let auto_call_connect = matches!(identify, Identify::User(u)
            if u.capabilities & gateway_proto::AUTO_CALL_CONNECT != 0);
        st.sessions.insert(
            session_id.clone(),
            Session {
                id: session_id.clone(),
                user_id: user.id,
                bot: user.bot,
                seq: 0,
                buffer: VecDeque::new(),
                conn: Some(conn),
                op_counts: BTreeMap::new(),
                op_log: VecDeque::new(),
            },
        );
        // Bots get unavailable stubs in READY and the guilds as
        // GUILD_CREATE; user accounts get full guilds in READY. Both get
        // GUILD_CREATE so either client style finds the voice states.
        let ready_guilds = if user.bot {
            guilds
                .iter()
                .map(|g| gateway_proto::Guild {
                    id: g.id,
                    name: None,
                    unavailable: Some(true),
                    channels: vec![],
                    members: vec![],
                    voice_states: vec![],
                })
                .collect()
        } else {
            guilds.clone()
        };
        let to = Audience::Session(session_id.clone());
        let ready = Ready {
            v: Some(10),
            user: user_obj,
            session_id: session_id.clone(),
            resume_gateway_url: Some(self.gateway_url.clone()),
            guilds: ready_guilds,
            // User accounts only: bots are in no DM calls.
            private_channels: if user.bot {
                Vec::new()
            } else {
                st.world.private_channels_of(user.id)
            },
        };
        deliver(&mut st, &to, &Dispatch::Ready(ready));
        for g in guilds {
            deliver(&mut st, &to, &Dispatch::GuildCreate(g));
        }
        // Calls already running: CALL_CREATE right after READY, only for a
        // session that asked with AUTO_CALL_CONNECT (userdoccers
        // `using-gateway.mdx`: it "Connects the client to all pre-existing
        // calls upon connecting to the Gateway; this means clients will
        // receive Call Create events for all calls created before the
        // Gateway connection was established without needing to send a
        // Request Call Connect first"). Without it a client must send op 13
        // Request Call Connect per channel ([`Hub::call_connect`]).
        if auto_call_connect {
            for call in st.world.ongoing_calls_of(user.id) {
                if let Some(create) = st.world.call_create_object(call) {
                    deliver(&mut st, &to, &Dispatch::CallCreate(create));
                }
            }
        }
        Ok(session_id)
    }

    /// Op 13 Request Call Connect: CALL_CREATE for the call of `channel`
    /// to this session, if the call is ongoing and the user a recipient
    /// (userdoccers "Request Call Connect": "Fires a Call Create Gateway
    /// event if a call is found"). Anything else is ignored.
    pub fn call_connect(&self, session_id: &Secret, channel: gateway_proto::ChannelId) {
        let mut st = self.lock();
        let Some(user) = st.sessions.get(session_id).map(|s| s.user_id) else {
            return;
        };
        if !st.world.in_call(user, channel) {
            return;
        }
        if let Some(create) = st.world.call_create_object(channel) {
            let to = Audience::Session(session_id.clone());
            deliver(&mut st, &to, &Dispatch::CallCreate(create));
        }
    }

    /// Op 6: re-attaches a session and replays dispatches after `seq`, then
    /// RESUMED. `Err` → the caller sends op 9 `false`.
    pub fn resume(&self, conn: ConnLink, resume: &Resume) -> Result<Secret, ()> {
        let mut st = self.lock();
        let st = &mut *st;
        let Some(session) = st.sessions.get_mut(&resume.session_id) else {
            return Err(());
        };
        let token_ok = st
            .world
            .user(session.user_id)
            .is_ok_and(|u| u.token == resume.token);
        let after = resume.seq.unwrap_or(0);
        let oldest = session.buffer.front().map_or(session.seq + 1, |(s, _)| *s);
        if !token_ok || after > session.seq || oldest > after + 1 {
            return Err(());
        }
        if let Some(old) = session.conn.take()
            && old.id != conn.id
        {
            let _ = old
                .tx
                .send(Outgoing::Close(4000, "session resumed elsewhere".into()));
        }
        for (_, text) in session.buffer.iter().filter(|(s, _)| *s > after) {
            let _ = conn.tx.send(Outgoing::Text(text.clone()));
        }
        session.conn = Some(conn);
        let id = session.id.clone();
        deliver(st, &Audience::Session(id.clone()), &Dispatch::Resumed);
        Ok(id)
    }

    /// A connection ended; `invalidate` (client closed with 1000/1001)
    /// drops the session and, as Discord does, its voice state.
    pub fn detach(self: &Arc<Self>, session_id: &Secret, conn_id: u64, invalidate: bool) {
        let mut st = self.lock();
        let Some(session) = st.sessions.get_mut(session_id) else {
            return;
        };
        if session.conn.as_ref().is_some_and(|c| c.id == conn_id) {
            session.conn = None;
        }
        if invalidate {
            self.drop_session(&mut st, session_id);
        }
    }

    fn drop_session(self: &Arc<Self>, st: &mut HubState, session_id: &Secret) {
        if let Some(s) = st.sessions.remove(session_id) {
            let fx = st.world.session_ended(s.user_id, &s.id);
            self.apply(st, fx);
        }
    }

    pub fn record_op(&self, session_id: &Secret, op: gateway_proto::GatewayOpcode) {
        let at_ms = self.elapsed_ms();
        let mut st = self.lock();
        if let Some(s) = st.sessions.get_mut(session_id) {
            let name = format!("{op:?}");
            *s.op_counts.entry(name.clone()).or_default() += 1;
            if s.op_log.len() == OP_LOG_CAP {
                s.op_log.pop_front();
            }
            s.op_log.push_back(OpRecord {
                at_ms,
                op: op.as_u8(),
                name,
            });
        }
    }

    /// `(user, bot)` of a session.
    pub fn session_user(&self, session_id: &Secret) -> Option<(UserId, bool)> {
        self.lock()
            .sessions
            .get(session_id)
            .map(|s| (s.user_id, s.bot))
    }

    fn select(st: &HubState, sel: &SessionSelector) -> Vec<Secret> {
        st.session_ids()
            .into_iter()
            .filter(|id| match sel {
                SessionSelector::All => true,
                SessionSelector::Session(want) => id == want,
                SessionSelector::User(u) => st.sessions.get(id).is_some_and(|s| s.user_id == *u),
            })
            .collect()
    }

    /// Op 7 then close 4000 to the selected sessions; returns their ids.
    pub fn reconnect(&self, sel: &SessionSelector) -> Vec<Secret> {
        let st = self.lock();
        let ids = Self::select(&st, sel);
        for id in &ids {
            if let Some(conn) = st.sessions.get(id).and_then(|s| s.conn.as_ref()) {
                let _ = conn
                    .tx
                    .send(Outgoing::Text(ServerMessage::Reconnect.to_text()));
                let _ = conn
                    .tx
                    .send(Outgoing::Close(4000, "reconnect requested".into()));
            }
        }
        ids
    }

    /// Op 9 to the selected sessions; not resumable drops them.
    pub fn invalid_session(
        self: &Arc<Self>,
        sel: &SessionSelector,
        resumable: bool,
    ) -> Vec<Secret> {
        let mut st = self.lock();
        let ids = Self::select(&st, sel);
        for id in &ids {
            if let Some(conn) = st.sessions.get(id).and_then(|s| s.conn.as_ref()) {
                let _ = conn.tx.send(Outgoing::Text(
                    ServerMessage::InvalidSession { resumable }.to_text(),
                ));
                if !resumable {
                    let _ = conn.tx.send(Outgoing::SessionDropped);
                }
            }
            if !resumable {
                self.drop_session(&mut st, id);
            }
        }
        ids
    }
}

/// Assigns seq, buffers and sends `event` to every session in `to`.
fn deliver(st: &mut HubState, to: &Audience, event: &Dispatch) {
    let cap = st.settings.resume_buffer.max(1);
    let world = &st.world;
    for session in st.sessions.values_mut() {
        let wanted = match to {
            Audience::Guild(g) => world.is_member(session.user_id, *g),
            Audience::Call(c) => world.in_call(session.user_id, *c),
            Audience::User(u) => session.user_id == *u,
            Audience::Session(id) => &session.id == id,
        };
        if !wanted {
            continue;
        }
        session.seq += 1;
        let text = ServerMessage::Dispatch {
            seq: Some(session.seq),
            event: event.clone(),
        }
        .to_text();
        if session.buffer.len() >= cap {
            session.buffer.pop_front();
        }
        session.buffer.push_back((session.seq, text.clone()));
        if let Some(conn) = &session.conn {
            let _ = conn.tx.send(Outgoing::Text(text));
        }
    }
}
