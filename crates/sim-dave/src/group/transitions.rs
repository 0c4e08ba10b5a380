//! Resets (sole member, full), transitions (op 21/22) and protocol
//! downgrade/upgrade of a [`GroupState`].

use std::time::Instant;

use super::{Ctx, GroupState, PendingTransition, Phase};
use crate::GatewayError;
use crate::messages::{Recipient, ServerDaveMsg};

impl GroupState {
    // ---- resets and transitions ---------------------------------------------

    /// Drops the creator and its outstanding proposals; proposed users go back
    /// to `Ready` so they are proposed again to the next creator.
    pub(super) fn restart_creation(&mut self) {
        if let Some(c) = self.creator.take()
            && let Some(e) = self.users.get_mut(&c)
        {
            e.phase = if e.key_package.is_some() {
                Phase::Ready
            } else {
                Phase::AwaitingKeyPackage
            };
        }
        self.pending.clear();
        for e in self.users.values_mut() {
            if e.phase == Phase::Proposed {
                e.phase = Phase::Ready;
            }
        }
    }

    /// Forgets the MLS group entirely (epoch 0, no roster, no proposals).
    /// Users keep key packages that arrived after their own reset.
    pub(super) fn reset_mls_state(&mut self) {
        self.epoch = 0;
        self.roster.clear();
        self.pending.clear();
        self.to_remove.clear();
        self.creator = None;
        for e in self.users.values_mut() {
            e.phase = match e.phase {
                Phase::Ready | Phase::Proposed => Phase::Ready,
                _ => {
                    e.key_package = None;
                    Phase::AwaitingKeyPackage
                }
            };
        }
    }

    /// Whitepaper "sole member reset": op 24 epoch 1, then op 21 with id 0.
    pub(super) fn sole_member_reset(&mut self, ctx: &mut Ctx<'_>, sole: u64) {
        self.reset_mls_state();
        self.set_phase(sole, Phase::AwaitingKeyPackage);
        let pv = self.protocol_version;
        self.send(
            ctx,
            Recipient::User(sole),
            ServerDaveMsg::PrepareEpoch {
                protocol_version: pv,
                epoch: 1,
            },
        );
        self.send(
            ctx,
            Recipient::User(sole),
            ServerDaveMsg::PrepareTransition {
                transition_id: 0,
                protocol_version: pv,
            },
        );
    }

    pub(super) fn forget_awaiting(&mut self, ctx: &mut Ctx<'_>, user: u64) {
        if let Some(t) = self.transition.as_mut() {
            t.awaiting.remove(&user);
            if let Some(p) = t.participants.as_mut() {
                p.remove(&user);
            }
        }
        // `now` only matters for deadlines; executing early is always allowed.
        if self
            .transition
            .as_ref()
            .is_some_and(|t| t.awaiting.is_empty())
        {
            self.execute(ctx);
        }
    }

    pub(super) fn maybe_execute(&mut self, ctx: &mut Ctx<'_>, now: Instant, force: bool) {
        let due = self
            .transition
            .as_ref()
            .is_some_and(|t| force || t.awaiting.is_empty() || now >= t.deadline);
        if due {
            self.execute(ctx);
        }
    }

    pub(super) fn execute(&mut self, ctx: &mut Ctx<'_>) {
        let Some(t) = self.transition.take() else {
            return;
        };
        let msg = ServerDaveMsg::ExecuteTransition {
            transition_id: t.id,
        };
        match t.participants {
            Some(users) => {
                for u in users {
                    self.send(ctx, Recipient::User(u), msg.clone());
                }
            }
            None => self.send(ctx, Recipient::Broadcast, msg),
        }
    }

    pub(crate) fn handle_timeout(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        self.maybe_execute(ctx, now, false);
    }

    /// Downgrade to protocol version 0 (transport-only) via op 21 / op 22.
    pub(crate) fn downgrade(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
    ) -> Result<(), GatewayError> {
        if self.protocol_version == 0 {
            return Err(GatewayError::InvalidState("already at protocol version 0"));
        }
        self.maybe_execute(ctx, now, true);
        self.protocol_version = 0;
        self.reset_mls_state();
        for e in self.users.values_mut() {
            e.phase = Phase::AwaitingKeyPackage;
            e.key_package = None;
        }
        let id = self.next_transition_id();
        self.transition = Some(PendingTransition {
            id,
            awaiting: self.users.keys().copied().collect(),
            participants: None,
            deadline: now + ctx.transition_timeout,
        });
        self.send(
            ctx,
            Recipient::Broadcast,
            ServerDaveMsg::PrepareTransition {
                transition_id: id,
                protocol_version: 0,
            },
        );
        Ok(())
    }

    /// Upgrade from transport-only back to DAVE v1: op 25 + op 24 epoch 1 to
    /// everyone, who then send fresh key packages.
    pub(crate) fn upgrade(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Result<(), GatewayError> {
        if self.protocol_version != 0 {
            return Err(GatewayError::InvalidState("DAVE already enabled"));
        }
        self.maybe_execute(ctx, now, true);
        self.protocol_version = 1;
        self.reset_mls_state();
        self.send(
            ctx,
            Recipient::Broadcast,
            ServerDaveMsg::ExternalSender(ctx.role.package().to_vec()),
        );
        self.send(
            ctx,
            Recipient::Broadcast,
            ServerDaveMsg::PrepareEpoch {
                protocol_version: 1,
                epoch: 1,
            },
        );
        Ok(())
    }
}
