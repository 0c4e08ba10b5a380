//! Test network: a gateway and davey-driven members exchanging every message
//! only through the gateway's outputs.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use sim_dave::{
    ClientDaveMsg, DaveGateway, GatewayConfig, GatewayError, GatewaySigner, Recipient,
    ServerDaveMsg, SimMember,
};

pub const GROUP: u64 = 1_234_567_890_123;
pub const A: u64 = 1001;
pub const B: u64 = 1002;
pub const C: u64 = 1003;
pub const D: u64 = 1004;

/// Optional interception of client messages before the gateway sees them.
pub type Tamper = Box<dyn FnMut(u64, &ClientDaveMsg) -> Option<Vec<ClientDaveMsg>>>;

pub struct Net {
    pub gw: DaveGateway,
    pub members: BTreeMap<u64, SimMember>,
    pub now: Instant,
    pub errors: Vec<(u64, GatewayError)>,
    pub delivered: Vec<(u64, ServerDaveMsg)>,
    pub tamper: Option<Tamper>,
}

impl Net {
    // The test's one clock read: a base instant; time then advances virtually.
    #[allow(clippy::disallowed_methods)]
    pub fn new() -> Self {
        let config = GatewayConfig {
            transition_timeout: Duration::from_secs(2),
            initial_protocol_version: 1,
        };
        Self {
            gw: DaveGateway::with_config(&GatewaySigner::generate(), config).unwrap(),
            members: BTreeMap::new(),
            now: Instant::now(),
            errors: Vec::new(),
            delivered: Vec::new(),
            tamper: None,
        }
    }

    pub fn join(&mut self, user: u64) {
        let pv = self.gw.group_mut(GROUP).protocol_version();
        self.members
            .insert(user, SimMember::new(user, GROUP, pv).unwrap());
        self.gw.group_mut(GROUP).client_connected(user).unwrap();
        self.pump();
    }

    pub fn leave(&mut self, user: u64) {
        self.members.remove(&user);
        self.gw
            .group_mut(GROUP)
            .client_disconnected(user, self.now)
            .unwrap();
        self.pump();
    }

    /// Delivers everything until no message is in flight.
    pub fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut replies: VecDeque<(u64, ClientDaveMsg)> = VecDeque::new();
            while let Some(out) = self.gw.poll_output() {
                assert_eq!(out.group_id, GROUP);
                let targets: Vec<u64> = match out.recipient {
                    Recipient::User(u) => vec![u],
                    Recipient::Broadcast => self.gw.group_mut(GROUP).connected_users(),
                };
                for t in targets {
                    if let Some(m) = self.members.get_mut(&t) {
                        self.delivered.push((t, out.msg.clone()));
                        for r in m.handle(&out.msg) {
                            replies.push_back((t, r));
                        }
                    }
                }
            }
            if replies.is_empty() {
                return;
            }
            while let Some((u, msg)) = replies.pop_front() {
                let msgs = match self.tamper.as_mut() {
                    Some(t) => t(u, &msg).unwrap_or_else(|| vec![msg]),
                    None => vec![msg],
                };
                for msg in msgs {
                    if let Err(e) = self.gw.group_mut(GROUP).handle_client(u, msg, self.now) {
                        self.errors.push((u, e));
                    }
                }
            }
        }
        panic!("network did not settle");
    }

    pub fn member(&mut self, u: u64) -> &mut SimMember {
        self.members.get_mut(&u).unwrap()
    }

    pub fn epoch(&mut self) -> u64 {
        self.gw.group_mut(GROUP).epoch()
    }
}

/// A hand-written H264 Annex-B access unit: SPS, PPS and an IDR slice.
pub fn h264_idr_frame() -> Vec<u8> {
    let mut f = vec![
        0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1E, 0xDA, 0x02, 0x80, 0xBF, 0xE5, 0x84, 0x00,
    ];
    f.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xCE, 0x3C, 0x80]);
    // IDR: first_mb_in_slice=0 ('1'), slice_type=7 ('0001000'), pps_id=0 ('1').
    f.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88, 0x84]);
    f.extend((0..400u32).map(|i| (i * 37 % 251) as u8 | 0x10));
    f
}

pub fn opus_frame() -> Vec<u8> {
    (0..120u32).map(|i| (i * 13 + 7) as u8).collect()
}
