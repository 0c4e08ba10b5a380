//! A gateway (openmls, sim-dave) with dave-session clients and davey
//! simulated members; every message goes through the gateway's outputs.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use dave_session::test_group::to_client;
use dave_session::{DaveConfig, DaveEvent, DaveSession, SessionOutput};
use sim_dave::{ClientDaveMsg, DaveGateway, Recipient, ServerDaveMsg, SimMember};

pub const GROUP: u64 = 998_877_665_544;
pub const A: u64 = 2001;
pub const B: u64 = 2002;
pub const C: u64 = 2003;

pub enum Client {
    Session(DaveSession),
    Sim(SimMember),
}

pub type Tamper = Box<dyn FnMut(u64, &ServerDaveMsg) -> Option<ServerDaveMsg>>;

pub struct Net {
    pub gw: DaveGateway,
    pub clients: BTreeMap<u64, Client>,
    pub now: Instant,
    pub events: Vec<(u64, DaveEvent)>,
    pub session_errors: Vec<(u64, dave_session::DaveError)>,
    /// Rewrites a gateway message to one client before delivery.
    pub tamper: Option<Tamper>,
}

/// Feeds one gateway message to a dave-session client (a message a session
/// does not take is a test failure).
pub fn deliver(
    s: &mut DaveSession,
    msg: &ServerDaveMsg,
    now: Instant,
) -> Result<(), dave_session::DaveError> {
    dave_session::test_group::deliver(s, msg, now)
        .unwrap_or_else(|| panic!("unexpected message {msg:?}"))
}

impl Net {
    // The test's one clock read: a base instant; time then advances virtually.
    #[allow(clippy::disallowed_methods)]
    pub fn new() -> Self {
        Self {
            gw: dave_session::test_group::gateway(),
            clients: BTreeMap::new(),
            now: Instant::now(),
            events: Vec::new(),
            session_errors: Vec::new(),
            tamper: None,
        }
    }

    /// A dave-session client connects (op 4 with protocol version 1).
    pub fn join_session(&mut self, user: u64) {
        let mut s = DaveSession::new(user, GROUP, DaveConfig::default());
        self.gw.group_mut(GROUP).client_connected(user).unwrap();
        s.on_session_description(1, self.now).unwrap();
        self.clients.insert(user, Client::Session(s));
        self.pump();
    }

    /// A davey simulated member connects.
    pub fn join_sim(&mut self, user: u64) {
        self.clients
            .insert(user, Client::Sim(SimMember::new(user, GROUP, 1).unwrap()));
        self.gw.group_mut(GROUP).client_connected(user).unwrap();
        self.pump();
    }

    pub fn leave(&mut self, user: u64) {
        self.clients.remove(&user);
        self.gw
            .group_mut(GROUP)
            .client_disconnected(user, self.now)
            .unwrap();
        self.pump();
    }

    pub fn session(&mut self, u: u64) -> &mut DaveSession {
        match self.clients.get_mut(&u) {
            Some(Client::Session(s)) => s,
            _ => panic!("{u} is not a session client"),
        }
    }

    pub fn sim(&mut self, u: u64) -> &mut SimMember {
        match self.clients.get_mut(&u) {
            Some(Client::Sim(s)) => s,
            _ => panic!("{u} is not a sim member"),
        }
    }

    fn drain_session(&mut self, u: u64, replies: &mut VecDeque<(u64, ClientDaveMsg)>) {
        if let Some(Client::Session(s)) = self.clients.get_mut(&u) {
            while let Some(o) = s.poll_output() {
                match o {
                    SessionOutput::Send(m) => replies.push_back((u, to_client(m))),
                    SessionOutput::Event(e) => self.events.push((u, e)),
                }
            }
        }
    }

    pub fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut replies = VecDeque::new();
            let users: Vec<u64> = self.clients.keys().copied().collect();
            for u in users {
                self.drain_session(u, &mut replies);
            }
            while let Some(out) = self.gw.poll_output() {
                let targets: Vec<u64> = match out.recipient {
                    Recipient::User(u) => vec![u],
                    Recipient::Broadcast => self.gw.group_mut(GROUP).connected_users(),
                };
                for t in targets {
                    let msg = match self.tamper.as_mut().and_then(|f| f(t, &out.msg)) {
                        Some(m) => m,
                        None => out.msg.clone(),
                    };
                    match self.clients.get_mut(&t) {
                        Some(Client::Sim(m)) => {
                            replies.extend(m.handle(&msg).into_iter().map(|r| (t, r)))
                        }
                        Some(Client::Session(s)) => {
                            if let Err(e) = deliver(s, &msg, self.now) {
                                self.session_errors.push((t, e));
                            }
                            self.drain_session(t, &mut replies);
                        }
                        None => {}
                    }
                }
            }
            if replies.is_empty() {
                return;
            }
            while let Some((u, msg)) = replies.pop_front() {
                // Lost commit races are expected; anything else is checked by tests.
                let _ = self.gw.group_mut(GROUP).handle_client(u, msg, self.now);
            }
        }
        panic!("network did not settle");
    }
}

/// Hand-written H264 Annex-B access unit: SPS, PPS, IDR slice.
pub fn h264_frame() -> Vec<u8> {
    let mut f = vec![
        0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1F, 0xDA, 0x01, 0x40, 0x16, 0xE8, 0x06, 0xD0,
    ];
    f.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xCE, 0x38, 0x80]);
    // IDR: first_mb_in_slice=0, slice_type=7, pps_id=0 -> bits 1 0001000 1.
    f.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88, 0x84]);
    f.extend((0..700u32).map(|i| ((i * 61 + 3) % 239) as u8 | 0x04));
    f
}

pub fn opus_frame() -> Vec<u8> {
    (0..90u32).map(|i| (i * 29 + 1) as u8).collect()
}
