//! Per-MLS-group state of the gateway: recognised users, the roster the
//! gateway believes the group has, outstanding proposals, commit arbitration
//! and transitions.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use openmls::prelude::KeyPackage;

use crate::messages::{GatewayOutput, ProposalsOp, Recipient, ServerDaveMsg};
use crate::sender::ExternalSenderRole;
use crate::tls::write_vl;
use crate::wire::{ParsedCommit, parse_commit_welcome};
use crate::{ClientDaveMsg, GatewayError};

mod transitions;

/// Where a connected user stands with respect to the MLS group.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Connected; no usable key package yet.
    AwaitingKeyPackage,
    /// Has a validated key package that has not been proposed yet.
    Ready,
    /// An Add proposal for the key package is outstanding.
    Proposed,
    /// At epoch 0: the member whose pending group becomes the group.
    Creator,
    /// In the roster and healthy.
    Member,
}

#[derive(Debug)]
struct UserEntry {
    /// Connection order; the earliest user with a key package creates the group.
    order: u64,
    phase: Phase,
    key_package: Option<(KeyPackage, Vec<u8>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ProposalKind {
    Add { user: u64, key_package_ref: Vec<u8> },
    Remove { user: u64, leaf: u32 },
}

#[derive(Debug)]
struct PendingProposal {
    reference: Vec<u8>,
    kind: ProposalKind,
}

#[derive(Debug)]
struct PendingTransition {
    id: u16,
    awaiting: BTreeSet<u64>,
    /// Users who receive op 22 (`None` = broadcast, for protocol changes).
    participants: Option<BTreeSet<u64>>,
    deadline: Instant,
}

/// Shared context handed to group operations.
pub(crate) struct Ctx<'a> {
    pub(crate) role: &'a ExternalSenderRole,
    pub(crate) out: &'a mut VecDeque<GatewayOutput>,
    pub(crate) transition_timeout: Duration,
}

/// The gateway's view of one MLS group.
#[derive(Debug)]
pub(crate) struct GroupState {
    group_id: u64,
    protocol_version: u16,
    /// Epoch of the established group; 0 while none exists.
    epoch: u64,
    /// Leaf index → user id, as the gateway computes it from winning commits.
    roster: Vec<Option<u64>>,
    users: BTreeMap<u64, UserEntry>,
    next_order: u64,
    creator: Option<u64>,
    /// Proposals of the current epoch that the next commit must cover.
    pending: Vec<PendingProposal>,
    /// Roster users that must be removed (left, or reported op 31).
    to_remove: BTreeSet<u64>,
    transition: Option<PendingTransition>,
    last_transition_id: u16,
    commits_accepted: u64,
}

impl GroupState {
    pub(crate) fn new(group_id: u64, protocol_version: u16) -> Self {
        Self {
            group_id,
            protocol_version,
            epoch: 0,
            roster: Vec::new(),
            users: BTreeMap::new(),
            next_order: 0,
            creator: None,
            pending: Vec::new(),
            to_remove: BTreeSet::new(),
            transition: None,
            last_transition_id: 0,
            commits_accepted: 0,
        }
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    pub(crate) fn protocol_version(&self) -> u16 {
        self.protocol_version
    }

    pub(crate) fn commits_accepted(&self) -> u64 {
        self.commits_accepted
    }

    pub(crate) fn roster(&self) -> Vec<u64> {
        self.roster.iter().flatten().copied().collect()
    }

    pub(crate) fn connected(&self) -> Vec<u64> {
        self.users.keys().copied().collect()
    }

    pub(crate) fn pending_transition(&self) -> Option<u16> {
        self.transition.as_ref().map(|t| t.id)
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.transition.as_ref().map(|t| t.deadline)
    }

    fn send(&self, ctx: &mut Ctx<'_>, recipient: Recipient, msg: ServerDaveMsg) {
        ctx.out.push_back(GatewayOutput {
            group_id: self.group_id,
            recipient,
            msg,
        });
    }

    fn next_transition_id(&mut self) -> u16 {
        self.last_transition_id = self.last_transition_id.wrapping_add(1).max(1);
        self.last_transition_id
    }

    fn leaf_of(&self, user: u64) -> Option<u32> {
        self.roster
            .iter()
            .position(|u| *u == Some(user))
            .and_then(|i| u32::try_from(i).ok())
    }

    fn healthy_members(&self) -> Vec<u64> {
        self.roster()
            .into_iter()
            .filter(|u| !self.to_remove.contains(u))
            .collect()
    }

    /// Who must see proposals of the current epoch.
    fn proposal_recipients(&self) -> Vec<u64> {
        if self.epoch == 0 {
            self.creator.into_iter().collect()
        } else {
            self.healthy_members()
        }
    }

    fn set_phase(&mut self, user: u64, phase: Phase) {
        if let Some(e) = self.users.get_mut(&user) {
            e.phase = phase;
        }
    }

    // ---- connection events -------------------------------------------------

    pub(crate) fn connect(&mut self, ctx: &mut Ctx<'_>, user: u64) -> Result<(), GatewayError> {
        if self.users.contains_key(&user) {
            return Err(GatewayError::InvalidState("user already connected"));
        }
        let others = self.connected();
        self.users.insert(
            user,
            UserEntry {
                order: self.next_order,
                phase: Phase::AwaitingKeyPackage,
                key_package: None,
            },
        );
        self.next_order += 1;
        if !others.is_empty() {
            self.send(
                ctx,
                Recipient::User(user),
                ServerDaveMsg::ClientsConnect {
                    user_ids: others.clone(),
                },
            );
        }
        for other in others {
            self.send(
                ctx,
                Recipient::User(other),
                ServerDaveMsg::ClientsConnect {
                    user_ids: vec![user],
                },
            );
        }
        if self.protocol_version > 0 {
            self.send(
                ctx,
                Recipient::User(user),
                ServerDaveMsg::ExternalSender(ctx.role.package().to_vec()),
            );
        }
        Ok(())
    }

    pub(crate) fn disconnect(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        user: u64,
    ) -> Result<(), GatewayError> {
        let entry = self
            .users
            .remove(&user)
            .ok_or(GatewayError::UnknownUser(user))?;
        for other in self.connected() {
            self.send(
                ctx,
                Recipient::User(other),
                ServerDaveMsg::ClientDisconnect { user_id: user },
            );
        }
        self.forget_awaiting(ctx, user);
        if self.protocol_version == 0 {
            return Ok(());
        }
        if self.creator == Some(user) {
            // The pending group left with its creator; start creation over.
            self.restart_creation();
        } else if entry.phase == Phase::Proposed {
            self.revoke_add_of(ctx, user)?;
        }
        if self.leaf_of(user).is_some() {
            let remaining: Vec<u64> = self.roster().into_iter().filter(|u| *u != user).collect();
            match remaining.as_slice() {
                [] => self.reset_mls_state(),
                [sole] => self.sole_member_reset(ctx, *sole),
                _ => {
                    self.to_remove.insert(user);
                    if self.healthy_members().is_empty() {
                        self.reset_mls_state();
                    }
                }
            }
        }
        self.schedule(ctx, now)
    }

    // ---- client messages ---------------------------------------------------

    pub(crate) fn handle_client(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        user: u64,
        msg: ClientDaveMsg,
    ) -> Result<(), GatewayError> {
        if !self.users.contains_key(&user) {
            return Err(GatewayError::UnknownUser(user));
        }
        match msg {
            ClientDaveMsg::ReadyForTransition { transition_id } => {
                if let Some(t) = self.transition.as_mut()
                    && t.id == transition_id
                {
                    t.awaiting.remove(&user);
                }
                self.maybe_execute(ctx, now, false);
                Ok(())
            }
            ClientDaveMsg::KeyPackage(bytes) => self.on_key_package(ctx, now, user, &bytes),
            ClientDaveMsg::CommitWelcome(bytes) => self.on_commit(ctx, now, user, &bytes),
            ClientDaveMsg::InvalidCommitWelcome { .. } => self.on_invalid(ctx, now, user),
        }
    }

    fn on_key_package(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        user: u64,
        bytes: &[u8],
    ) -> Result<(), GatewayError> {
        if self.protocol_version == 0 {
            return Err(GatewayError::DaveDisabled);
        }
        let validated = ctx.role.validate_key_package(bytes, user)?;
        let phase = self.users.get(&user).map(|e| e.phase.clone());
        match phase {
            Some(Phase::Proposed) => self.revoke_add_of(ctx, user)?,
            Some(Phase::Creator) => {
                // The creator re-initialised: its pending group lost our proposals.
                self.restart_creation();
            }
            Some(Phase::Member) => {
                // A member that sends a new key package has reset its group.
                self.to_remove.insert(user);
                if self.healthy_members().is_empty() {
                    self.reset_mls_state();
                }
            }
            _ => {}
        }
        if let Some(e) = self.users.get_mut(&user) {
            e.key_package = Some(validated);
            e.phase = Phase::Ready;
        }
        self.schedule(ctx, now)
    }

    fn on_invalid(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        user: u64,
    ) -> Result<(), GatewayError> {
        if self.protocol_version == 0 {
            return Ok(());
        }
        self.forget_awaiting(ctx, user);
        let phase = self.users.get(&user).map(|e| e.phase.clone());
        if phase == Some(Phase::Proposed) {
            self.revoke_add_of(ctx, user)?;
        }
        if self.creator == Some(user) {
            self.restart_creation();
        }
        // The client resets and sends a fresh key package; its old one is spent.
        if let Some(e) = self.users.get_mut(&user) {
            e.phase = Phase::AwaitingKeyPackage;
            e.key_package = None;
        }
        if self.leaf_of(user).is_some() {
            self.to_remove.insert(user);
            if self.healthy_members().is_empty() {
                self.reset_mls_state();
            }
        }
        self.schedule(ctx, now)
    }

    fn on_commit(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        user: u64,
        bytes: &[u8],
    ) -> Result<(), GatewayError> {
        if self.protocol_version == 0 {
            return Err(GatewayError::DaveDisabled);
        }
        let parsed = parse_commit_welcome(bytes)?;
        let adds = self.validate_commit(user, &parsed)?;
        self.apply_commit(ctx, now, parsed, adds)
    }

    /// Checks DAVE's commit-validity rules; returns the added users in commit order.
    fn validate_commit(
        &self,
        user: u64,
        c: &ParsedCommit,
    ) -> Result<Vec<(u64, Vec<u8>)>, GatewayError> {
        if c.group_id != self.group_id.to_be_bytes() {
            return Err(GatewayError::InvalidCommit("wrong group id".into()));
        }
        if c.epoch < self.epoch {
            return Err(GatewayError::StaleCommit {
                commit_epoch: c.epoch,
                group_epoch: self.epoch,
            });
        }
        if c.epoch > self.epoch {
            return Err(GatewayError::InvalidCommit(format!(
                "epoch {} is in the future (group at {})",
                c.epoch, self.epoch
            )));
        }
        if self.epoch == 0 {
            if self.creator != Some(user) || c.committer_leaf != 0 {
                return Err(GatewayError::InvalidCommit(
                    "only the creator may commit at epoch 0".into(),
                ));
            }
        } else {
            let leaf = usize::try_from(c.committer_leaf).unwrap_or(usize::MAX);
            if self.roster.get(leaf).copied().flatten() != Some(user)
                || self.to_remove.contains(&user)
            {
                return Err(GatewayError::InvalidCommit(
                    "committer leaf is not the sender".into(),
                ));
            }
        }
        if self.pending.is_empty() {
            return Err(GatewayError::InvalidCommit("no proposals to commit".into()));
        }
        let mut seen = BTreeSet::new();
        let mut adds = Vec::new();
        for r in &c.proposal_refs {
            let r = r
                .as_ref()
                .ok_or_else(|| GatewayError::InvalidCommit("inline proposal".into()))?;
            if !seen.insert(r.clone()) {
                return Err(GatewayError::InvalidCommit(
                    "duplicate proposal reference".into(),
                ));
            }
            let p = self
                .pending
                .iter()
                .find(|p| &p.reference == r)
                .ok_or_else(|| GatewayError::InvalidCommit("unknown proposal reference".into()))?;
            if let ProposalKind::Add {
                user,
                key_package_ref,
            } = &p.kind
            {
                adds.push((*user, key_package_ref.clone()));
            }
        }
        if seen.len() != self.pending.len() {
            return Err(GatewayError::InvalidCommit(format!(
                "covers {} of {} proposals",
                seen.len(),
                self.pending.len()
            )));
        }
        match (&c.welcome, adds.is_empty()) {
            (None, false) => {
                return Err(GatewayError::InvalidWelcome(
                    "adds without a welcome".into(),
                ));
            }
            (Some(_), true) => {
                return Err(GatewayError::InvalidWelcome("welcome without adds".into()));
            }
            (Some(w), false) => {
                let have: BTreeSet<&[u8]> = w.new_members().collect();
                if adds.iter().any(|(_, r)| !have.contains(r.as_slice()))
                    || have.len() != adds.len()
                {
                    return Err(GatewayError::InvalidWelcome(
                        "secrets do not match the added key packages".into(),
                    ));
                }
            }
            (None, true) => {}
        }
        Ok(adds)
    }

    fn apply_commit(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        c: ParsedCommit,
        adds: Vec<(u64, Vec<u8>)>,
    ) -> Result<(), GatewayError> {
        // Build every joiner's welcome before mutating anything.
        let mut welcomes = Vec::new();
        if let Some(w) = &c.welcome {
            for (u, r) in &adds {
                welcomes.push((*u, w.subset_for(r)?));
            }
        }
        // Close a still-open previous transition so at most one is pending.
        self.maybe_execute(ctx, now, true);

        let old_members: Vec<u64> = if self.epoch == 0 {
            self.creator.into_iter().collect()
        } else {
            self.healthy_members()
        };
        if self.epoch == 0 {
            self.roster = self.creator.map(Some).into_iter().collect();
        }
        // RFC 9420 §12.3: removes first, then adds fill the leftmost blank leaf.
        for p in &self.pending {
            if let ProposalKind::Remove { user, leaf } = &p.kind {
                if let Some(slot) = self.roster.get_mut(*leaf as usize) {
                    *slot = None;
                }
                self.to_remove.remove(user);
            }
        }
        for (u, _) in &adds {
            match self.roster.iter().position(Option::is_none) {
                Some(i) => self.roster[i] = Some(*u),
                None => self.roster.push(Some(*u)),
            }
        }
        while self.roster.last() == Some(&None) {
            self.roster.pop();
        }
        self.pending.clear();
        self.epoch += 1;
        self.commits_accepted += 1;
        self.creator = None;
        for u in self.roster() {
            if !self.to_remove.contains(&u)
                && let Some(e) = self.users.get_mut(&u)
            {
                e.phase = Phase::Member;
                e.key_package = None;
            }
        }

        let id = self.next_transition_id();
        let staying: Vec<u64> = old_members
            .into_iter()
            .filter(|u| self.leaf_of(*u).is_some())
            .collect();
        for u in &staying {
            self.send(
                ctx,
                Recipient::User(*u),
                ServerDaveMsg::AnnounceCommit {
                    transition_id: id,
                    commit: c.bytes.clone(),
                },
            );
        }
        for (u, welcome) in welcomes {
            self.send(
                ctx,
                Recipient::User(u),
                ServerDaveMsg::Welcome {
                    transition_id: id,
                    welcome,
                },
            );
        }
        let participants: BTreeSet<u64> = self
            .healthy_members()
            .into_iter()
            .filter(|u| self.users.contains_key(u))
            .collect();
        self.transition = Some(PendingTransition {
            id,
            awaiting: participants.clone(),
            participants: Some(participants),
            deadline: now + ctx.transition_timeout,
        });
        self.schedule(ctx, now)
    }

    // ---- proposals ---------------------------------------------------------

    /// Issues whatever proposals the current state calls for.
    fn schedule(&mut self, ctx: &mut Ctx<'_>, _now: Instant) -> Result<(), GatewayError> {
        if self.protocol_version == 0 {
            return Ok(());
        }
        if self.epoch == 0 && self.creator.is_none() {
            let first = self
                .users
                .iter()
                .filter(|(_, e)| e.phase == Phase::Ready)
                .min_by_key(|(_, e)| e.order)
                .map(|(u, _)| *u);
            let Some(creator) = first else { return Ok(()) };
            self.creator = Some(creator);
            self.set_phase(creator, Phase::Creator);
        }
        let recipients = self.proposal_recipients();
        if recipients.is_empty() {
            return Ok(());
        }
        let mut new = Vec::new();
        if self.epoch > 0 {
            let removals: Vec<u64> =
                self.to_remove
                    .iter()
                    .copied()
                    .filter(|u| {
                        !self.pending.iter().any(
                            |p| matches!(p.kind, ProposalKind::Remove { user, .. } if user == *u),
                        )
                    })
                    .collect();
            for u in removals {
                if let Some(leaf) = self.leaf_of(u) {
                    let signed = ctx.role.propose_remove(leaf, self.group_id, self.epoch)?;
                    new.push((signed, ProposalKind::Remove { user: u, leaf }));
                }
            }
        }
        let ready: Vec<u64> = self
            .users
            .iter()
            .filter(|(_, e)| e.phase == Phase::Ready)
            .map(|(u, _)| *u)
            .collect();
        for u in ready {
            // A user still in the roster must be removed by a commit first.
            if self.leaf_of(u).is_some() {
                continue;
            }
            let Some((kp, kp_ref)) = self.users.get(&u).and_then(|e| e.key_package.clone()) else {
                continue;
            };
            let signed = ctx.role.propose_add(kp, self.group_id, self.epoch)?;
            new.push((
                signed,
                ProposalKind::Add {
                    user: u,
                    key_package_ref: kp_ref,
                },
            ));
            self.set_phase(u, Phase::Proposed);
        }
        if new.is_empty() {
            return Ok(());
        }
        let mut concatenated = Vec::new();
        for (signed, kind) in new {
            concatenated.extend_from_slice(&signed.message);
            self.pending.push(PendingProposal {
                reference: signed.reference,
                kind,
            });
        }
        let mut vector = Vec::new();
        write_vl(&mut vector, &concatenated)?;
        for r in recipients {
            self.send(
                ctx,
                Recipient::User(r),
                ServerDaveMsg::Proposals {
                    operation: ProposalsOp::Append,
                    vector: vector.clone(),
                },
            );
        }
        Ok(())
    }

    fn revoke_add_of(&mut self, ctx: &mut Ctx<'_>, user: u64) -> Result<(), GatewayError> {
        let Some(pos) = self
            .pending
            .iter()
            .position(|p| matches!(p.kind, ProposalKind::Add { user: u, .. } if u == user))
        else {
            return Ok(());
        };
        let p = self.pending.remove(pos);
        let mut refs = Vec::new();
        write_vl(&mut refs, &p.reference)?;
        let mut vector = Vec::new();
        write_vl(&mut vector, &refs)?;
        for r in self.proposal_recipients() {
            self.send(
                ctx,
                Recipient::User(r),
                ServerDaveMsg::Proposals {
                    operation: ProposalsOp::Revoke,
                    vector: vector.clone(),
                },
            );
        }
        Ok(())
    }
}
