//! [`DaveGateway`]: many groups, one signing identity, one output queue.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::GatewayError;
use crate::group::{Ctx, GroupState};
use crate::messages::{ClientDaveMsg, GatewayOutput};
use crate::sender::{ExternalSenderRole, GatewaySigner};

/// Tunables of the simulated gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayConfig {
    /// How long to wait for every op 23 before sending op 22 anyway.
    pub transition_timeout: Duration,
    /// DAVE protocol version of newly created groups (0 = transport-only).
    pub initial_protocol_version: u16,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            transition_timeout: Duration::from_secs(3),
            initial_protocol_version: 1,
        }
    }
}

/// The voice gateway's DAVE role for any number of MLS groups.
pub struct DaveGateway {
    role: ExternalSenderRole,
    config: GatewayConfig,
    groups: BTreeMap<u64, GroupState>,
    out: VecDeque<GatewayOutput>,
}

impl std::fmt::Debug for DaveGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DaveGateway")
            .field("config", &self.config)
            .field("groups", &self.groups.keys().collect::<Vec<_>>())
            .field("queued_outputs", &self.out.len())
            .finish()
    }
}

impl DaveGateway {
    /// A gateway signing with `signer`, default configuration.
    pub fn new(signer: &GatewaySigner) -> Result<Self, GatewayError> {
        Self::with_config(signer, GatewayConfig::default())
    }

    /// A gateway with explicit configuration.
    pub fn with_config(
        signer: &GatewaySigner,
        config: GatewayConfig,
    ) -> Result<Self, GatewayError> {
        Ok(Self {
            role: ExternalSenderRole::new(signer)?,
            config,
            groups: BTreeMap::new(),
            out: VecDeque::new(),
        })
    }

    /// The op 25 payload: this gateway's TLS-encoded `ExternalSender`.
    pub fn external_sender_package(&self) -> &[u8] {
        self.role.package()
    }

    /// The group with this id, created (empty, at epoch 0) if needed.
    pub fn group_mut(&mut self, group_id: u64) -> GroupMut<'_> {
        let pv = self.config.initial_protocol_version;
        let state = self
            .groups
            .entry(group_id)
            .or_insert_with(|| GroupState::new(group_id, pv));
        GroupMut {
            state,
            ctx: Ctx {
                role: &self.role,
                out: &mut self.out,
                transition_timeout: self.config.transition_timeout,
            },
        }
    }

    /// Read-only view of an existing group.
    pub fn group(&self, group_id: u64) -> Option<GroupView<'_>> {
        self.groups.get(&group_id).map(|state| GroupView { state })
    }

    /// Drops a group and all its state (e.g. when the call ends).
    pub fn remove_group(&mut self, group_id: u64) -> bool {
        self.groups.remove(&group_id).is_some()
    }

    /// Next message to deliver, in the order it must be delivered.
    pub fn poll_output(&mut self) -> Option<GatewayOutput> {
        self.out.pop_front()
    }

    /// Earliest instant at which [`DaveGateway::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.groups.values().filter_map(GroupState::deadline).min()
    }

    /// Executes transitions whose op 23 wait timed out.
    pub fn handle_timeout(&mut self, now: Instant) {
        let timeout = self.config.transition_timeout;
        for state in self.groups.values_mut() {
            let mut ctx = Ctx {
                role: &self.role,
                out: &mut self.out,
                transition_timeout: timeout,
            };
            state.handle_timeout(&mut ctx, now);
        }
    }
}

/// Read-only accessors shared by [`GroupView`] and [`GroupMut`].
macro_rules! group_accessors {
    () => {
        /// Epoch of the established group (0 = none established yet).
        pub fn epoch(&self) -> u64 {
            self.state.epoch()
        }

        /// Current DAVE protocol version of the group.
        pub fn protocol_version(&self) -> u16 {
            self.state.protocol_version()
        }

        /// Users in the MLS group, in leaf order, as the gateway tracks it.
        pub fn members(&self) -> Vec<u64> {
            self.state.roster()
        }

        /// Connected (recognised) users, ascending.
        pub fn connected_users(&self) -> Vec<u64> {
            self.state.connected()
        }

        /// Id of the transition waiting for op 23s, if any.
        pub fn pending_transition(&self) -> Option<u16> {
            self.state.pending_transition()
        }

        /// Number of commits accepted (fanned out) so far.
        pub fn commits_accepted(&self) -> u64 {
            self.state.commits_accepted()
        }
    };
}

/// Read-only view of one group.
#[derive(Debug)]
pub struct GroupView<'a> {
    state: &'a GroupState,
}

impl GroupView<'_> {
    group_accessors!();
}

/// Mutable handle on one group; outputs go to the gateway's queue.
pub struct GroupMut<'a> {
    state: &'a mut GroupState,
    ctx: Ctx<'a>,
}

impl GroupMut<'_> {
    group_accessors!();

    /// A client joined the call (op 11 semantics): it becomes recognised and
    /// receives op 25; everyone else is told via op 11.
    pub fn client_connected(&mut self, user_id: u64) -> Result<(), GatewayError> {
        self.state.connect(&mut self.ctx, user_id)
    }

    /// A client left (op 13): its pending add is revoked, or it is removed
    /// from the group (sole-member reset if one member remains).
    pub fn client_disconnected(&mut self, user_id: u64, now: Instant) -> Result<(), GatewayError> {
        self.state.disconnect(&mut self.ctx, now, user_id)
    }

    /// A DAVE message from a connected client.
    pub fn handle_client(
        &mut self,
        user_id: u64,
        msg: ClientDaveMsg,
        now: Instant,
    ) -> Result<(), GatewayError> {
        self.state.handle_client(&mut self.ctx, now, user_id, msg)
    }

    /// Announces a downgrade to protocol version 0 (op 21, then op 22 once
    /// everyone is ready or the timeout passes).
    pub fn downgrade(&mut self, now: Instant) -> Result<(), GatewayError> {
        self.state.downgrade(&mut self.ctx, now)
    }

    /// Re-enables DAVE v1 after a downgrade (op 25 + op 24 epoch 1).
    pub fn upgrade(&mut self, now: Instant) -> Result<(), GatewayError> {
        self.state.upgrade(&mut self.ctx, now)
    }
}
