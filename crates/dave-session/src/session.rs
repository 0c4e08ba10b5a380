//! [`DaveSession`]: the client DAVE state machine and media entry points.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::num::NonZeroU16;
use std::time::{Duration, Instant};

use davey::ProposalsOperationType;

use crate::DaveError;
use crate::decode;
use crate::frame::is_protocol_frame;
use crate::media::{Decrypted, MediaCodec, Passthrough, UserStats};
use crate::messages::{DaveEvent, Outgoing, SessionOutput};

/// Opus frame the SFU synthesises for silence; never encrypted (§3.7).
const OPUS_SILENCE: [u8; 3] = [0xF8, 0xFF, 0xFE];

/// The MLS group id of a Go Live stream connection: `rtc_server_id - 1`
/// (community-derived, see protocol sheet §3.4). The only place this rule lives.
pub fn stream_group_id(rtc_server_id: u64) -> u64 {
    rtc_server_id.saturating_sub(1)
}

/// Op 27 operation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalsOp {
    /// `0`: append external proposals.
    Append,
    /// `1`: revoke proposals by reference.
    Revoke,
}

impl ProposalsOp {
    /// Parses the wire byte.
    pub fn from_byte(b: u8) -> Result<Self, DaveError> {
        match b {
            0 => Ok(Self::Append),
            1 => Ok(Self::Revoke),
            _ => Err(DaveError::Malformed {
                what: "proposals",
                detail: format!("operation type {b}"),
            }),
        }
    }
}

/// Passthrough windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaveConfig {
    /// Receive passthrough after a downgrade is announced (until it executes).
    pub downgrade_passthrough: Duration,
    /// Receive passthrough kept after an upgrade executes, for frames in flight.
    pub upgrade_passthrough: Duration,
}

impl Default for DaveConfig {
    fn default() -> Self {
        Self {
            downgrade_passthrough: Duration::from_secs(24),
            upgrade_passthrough: Duration::from_secs(10),
        }
    }
}

/// The DAVE client of one voice/stream connection.
pub struct DaveSession {
    user_id: u64,
    group_id: u64,
    config: DaveConfig,
    /// Negotiated version (op 4 / op 24); what MLS is (re)initialised with.
    protocol_version: u16,
    /// A transition to version 0 executed (or op 4 said 0): media is unframed.
    transport_only: bool,
    mls: Option<davey::DaveSession>,
    external_sender: Option<Vec<u8>>,
    /// Users from op 11 minus op 13; self is added when validating.
    recognized: BTreeSet<u64>,
    /// Prepared transitions (id → protocol version); davey keeps its own copy
    /// but does not tell which version an executed id had.
    transitions: BTreeMap<u16, u16>,
    passthrough: Passthrough,
    stats: BTreeMap<u64, UserStats>,
    out: VecDeque<SessionOutput>,
    last_epoch: Option<u64>,
    last_can_encrypt: bool,
}

impl std::fmt::Debug for DaveSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DaveSession")
            .field("user_id", &self.user_id)
            .field("group_id", &self.group_id)
            .field("protocol_version", &self.protocol_version)
            .field("transport_only", &self.transport_only)
            .field("epoch", &self.epoch())
            .field("passthrough", &self.passthrough)
            .finish()
    }
}

fn rejected(what: &'static str, e: impl std::fmt::Display) -> DaveError {
    DaveError::Rejected {
        what,
        detail: e.to_string(),
    }
}

impl DaveSession {
    /// A session for `user_id` in MLS group `group_id`, inactive until op 4.
    pub fn new(user_id: u64, group_id: u64, config: DaveConfig) -> Self {
        Self {
            user_id,
            group_id,
            config,
            protocol_version: 0,
            transport_only: true,
            mls: None,
            external_sender: None,
            recognized: BTreeSet::new(),
            transitions: BTreeMap::new(),
            passthrough: Passthrough::Always,
            stats: BTreeMap::new(),
            out: VecDeque::new(),
            last_epoch: None,
            last_can_encrypt: false,
        }
    }

    // ---- accessors -----------------------------------------------------------

    /// Own user id.
    pub fn user_id(&self) -> u64 {
        self.user_id
    }

    /// MLS group id.
    pub fn group_id(&self) -> u64 {
        self.group_id
    }

    /// Negotiated DAVE protocol version.
    pub fn protocol_version(&self) -> u16 {
        self.protocol_version
    }

    /// `true` while media is sent and accepted without DAVE framing.
    pub fn is_transport_only(&self) -> bool {
        self.transport_only
    }

    /// Current MLS epoch (`None` without MLS state, `Some(0)` while pending).
    pub fn epoch(&self) -> Option<u64> {
        self.mls.as_ref()?.epoch().map(|e| e.as_u64())
    }

    /// Whether outgoing frames can be DAVE-encrypted now.
    pub fn can_encrypt(&self) -> bool {
        self.mls
            .as_ref()
            .is_some_and(davey::DaveSession::can_encrypt)
    }

    /// Current receive passthrough policy.
    pub fn passthrough(&self) -> Passthrough {
        self.passthrough
    }

    /// Users in the MLS group (empty without one).
    pub fn group_user_ids(&self) -> Vec<u64> {
        self.mls
            .as_ref()
            .and_then(davey::DaveSession::get_user_ids)
            .unwrap_or_default()
    }

    /// Receive counters for one sender.
    pub fn stats(&self, user_id: u64) -> UserStats {
        self.stats.get(&user_id).copied().unwrap_or_default()
    }

    /// Receive counters for every sender seen.
    pub fn all_stats(&self) -> &BTreeMap<u64, UserStats> {
        &self.stats
    }

    /// The 30-digit voice privacy code of the current epoch, if any.
    pub fn voice_privacy_code(&self) -> Option<String> {
        self.mls.as_ref()?.voice_privacy_code().map(str::to_owned)
    }

    /// Next message to send or event to observe.
    pub fn poll_output(&mut self) -> Option<SessionOutput> {
        self.out.pop_front()
    }

    // ---- gateway inputs --------------------------------------------------------

    /// Op 4 `dave_protocol_version`.
    pub fn on_session_description(
        &mut self,
        protocol_version: u16,
        now: Instant,
    ) -> Result<(), DaveError> {
        if protocol_version == 0 {
            return self.prepare_transition(0, 0, now);
        }
        self.init_mls(protocol_version)
    }

    /// Op 25: the TLS `ExternalSender` bytes.
    pub fn on_external_sender(&mut self, bytes: &[u8]) -> Result<(), DaveError> {
        decode::check_external_sender(bytes)?;
        self.external_sender = Some(bytes.to_vec());
        if let Some(mls) = self.mls.as_mut() {
            mls.set_external_sender(bytes)
                .map_err(|e| rejected("external sender", e))?;
        }
        self.check_changes();
        Ok(())
    }

    /// Op 27: operation type byte and the MLS vector (with its length prefix).
    ///
    /// Add proposals must name a recognised user (op 11 minus op 13, plus
    /// ourselves), as in @discordjs/voice and Discord-video-stream
    /// (`processProposals(…, connectedClients)`); otherwise the whole
    /// message is refused and no commit is sent.
    pub fn on_proposals(&mut self, operation_type: u8, vector: &[u8]) -> Result<(), DaveError> {
        let op = ProposalsOp::from_byte(operation_type)?;
        decode::check_proposals(op == ProposalsOp::Append, vector)?;
        let recognized = self.recognized_with_self();
        let mls = self.mls.as_mut().ok_or(DaveError::NoSession)?;
        let op = match op {
            ProposalsOp::Append => ProposalsOperationType::APPEND,
            ProposalsOp::Revoke => ProposalsOperationType::REVOKE,
        };
        let commit = mls
            .process_proposals(op, vector, Some(&recognized))
            .map_err(|e| rejected("proposals", e))?;
        if let Some(cw) = commit {
            let mut payload = cw.commit;
            payload.extend(cw.welcome.unwrap_or_default());
            self.send(Outgoing::CommitWelcome(payload));
        }
        Ok(())
    }

    /// Op 29: the winning commit of transition `transition_id`.
    pub fn on_announce_commit(
        &mut self,
        transition_id: u16,
        commit: &[u8],
        now: Instant,
    ) -> Result<(), DaveError> {
        self.join_or_recover(transition_id, now, |mls| {
            decode::check_commit(commit)?;
            mls.process_commit(commit)
                .map_err(|e| rejected("commit", e))
        })
    }

    /// Op 30: a welcome into the group, for transition `transition_id`.
    ///
    /// Decision (issue 15, item 5): the welcome is processed without the
    /// recognised-users list; the roster it brings is the group as the
    /// voice gateway and its members built it, and op 11 for members who
    /// were there before us may not have reached us yet. Only proposals
    /// ([`DaveSession::on_proposals`]) are checked against op 11/op 13.
    /// davey 0.2 makes the roster check optional (`process_welcome(welcome,
    /// recognized_user_ids: Option<&[u64]>)`); @discordjs/voice
    /// `packages/voice/src/networking/DAVESession.ts` calls
    /// `processWelcome(payload)` without it and
    /// `processProposals(optype, payload, connectedClients)` with it, and
    /// Discord-video-stream `BaseMediaConnection.ts` does the same.
    /// davey still checks the group id, the single external sender (equal
    /// to op 25's) and that the roster has no duplicate user.
    pub fn on_welcome(
        &mut self,
        transition_id: u16,
        welcome: &[u8],
        now: Instant,
    ) -> Result<(), DaveError> {
        self.join_or_recover(transition_id, now, |mls| {
            decode::check_welcome(welcome)?;
            mls.process_welcome(welcome, None)
                .map_err(|e| rejected("welcome", e))?;
            Ok(true)
        })
    }

    /// Op 21 `prepare_transition`.
    pub fn on_prepare_transition(
        &mut self,
        transition_id: u16,
        protocol_version: u16,
        now: Instant,
    ) -> Result<(), DaveError> {
        if protocol_version == 0 && self.passthrough != Passthrough::Always {
            self.set_passthrough(Passthrough::Until(now + self.config.downgrade_passthrough));
        }
        self.prepare_transition(transition_id, protocol_version, now)
    }

    /// Op 22 `execute_transition`; unknown ids are ignored.
    pub fn on_execute_transition(
        &mut self,
        transition_id: u16,
        now: Instant,
    ) -> Result<(), DaveError> {
        let Some(protocol_version) = self.transitions.remove(&transition_id) else {
            return Ok(());
        };
        if let Some(mls) = self.mls.as_mut() {
            mls.execute_transition(transition_id)
                .map_err(|e| rejected("transition", e))?;
        }
        self.executed(protocol_version, now);
        Ok(())
    }

    /// Op 24 `prepare_epoch`: epoch 1 means the group is being (re)created.
    pub fn on_prepare_epoch(
        &mut self,
        protocol_version: u16,
        epoch: u64,
        _now: Instant,
    ) -> Result<(), DaveError> {
        if epoch != 1 {
            // Protocol version change of the existing group; v1 is the only one.
            if protocol_version > 1 {
                return Err(DaveError::UnsupportedProtocolVersion(protocol_version));
            }
            return Ok(());
        }
        if protocol_version == 0 {
            return Err(DaveError::UnsupportedProtocolVersion(0));
        }
        self.init_mls(protocol_version)
    }

    /// Op 11 `clients_connect`.
    pub fn on_clients_connect(&mut self, user_ids: &[u64]) {
        self.recognized.extend(user_ids);
    }

    /// Op 13 `client_disconnect`.
    pub fn on_client_disconnect(&mut self, user_id: u64) {
        self.recognized.remove(&user_id);
    }

    // ---- internals -------------------------------------------------------------

    fn send(&mut self, msg: Outgoing) {
        self.out.push_back(SessionOutput::Send(msg));
    }

    fn event(&mut self, event: DaveEvent) {
        self.out.push_back(SessionOutput::Event(event));
    }

    fn recognized_with_self(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.recognized.iter().copied().collect();
        if !self.recognized.contains(&self.user_id) {
            v.push(self.user_id);
        }
        v
    }

    fn set_passthrough(&mut self, p: Passthrough) {
        if self.passthrough != p {
            self.passthrough = p;
            self.event(DaveEvent::PassthroughChanged { passthrough: p });
        }
    }

    /// (Re)creates the MLS state for `protocol_version` and sends op 26.
    fn init_mls(&mut self, protocol_version: u16) -> Result<(), DaveError> {
        let pv = NonZeroU16::new(protocol_version)
            .filter(|v| v.get() <= davey::DAVE_PROTOCOL_VERSION)
            .ok_or(DaveError::UnsupportedProtocolVersion(protocol_version))?;
        self.protocol_version = protocol_version;
        self.transitions.clear();
        match self.mls.as_mut() {
            Some(mls) => mls
                .reinit(pv, self.user_id, self.group_id, None)
                .map_err(|e| rejected("reinit", e))?,
            None => {
                let mls = davey::DaveSession::new(pv, self.user_id, self.group_id, None)
                    .map_err(|e| rejected("init", e))?;
                self.mls = Some(mls);
            }
        }
        let mls = self.mls.as_mut().ok_or(DaveError::NoSession)?;
        if mls.status() == davey::SessionStatus::INACTIVE
            && let Some(es) = &self.external_sender
        {
            mls.set_external_sender(es)
                .map_err(|e| rejected("external sender", e))?;
        }
        let kp = mls
            .create_key_package()
            .map_err(|e| rejected("key package", e))?;
        self.send(Outgoing::KeyPackage(kp));
        self.check_changes();
        Ok(())
    }

    /// Op 29's commit or op 30's welcome for `transition_id`: `step` checks
    /// and processes it in the MLS group (true: it changed our group).
    /// Joined: the transition is prepared at the current protocol version.
    /// Refused: op 31 and a fresh key package, then the error.
    fn join_or_recover(
        &mut self,
        transition_id: u16,
        now: Instant,
        step: impl FnOnce(&mut davey::DaveSession) -> Result<bool, DaveError>,
    ) -> Result<(), DaveError> {
        let mls = self.mls.as_mut().ok_or(DaveError::NoSession)?;
        match step(mls) {
            Ok(true) => self.prepare_transition(transition_id, self.protocol_version, now),
            Ok(false) => Ok(()),
            Err(e) => {
                self.recover(transition_id)?;
                Err(e)
            }
        }
    }

    /// The MLS group (if any) prepares `transition_id` to
    /// `protocol_version`; id 0 takes effect at once, any other waits for
    /// op 22 and is acknowledged with op 23 `ready_for_transition`.
    fn prepare_transition(
        &mut self,
        transition_id: u16,
        protocol_version: u16,
        now: Instant,
    ) -> Result<(), DaveError> {
        if let Some(mls) = self.mls.as_mut() {
            mls.prepare_transition(transition_id, protocol_version)
                .map_err(|e| rejected("transition", e))?;
        }
        if transition_id == 0 {
            self.executed(protocol_version, now);
        } else {
            self.transitions.insert(transition_id, protocol_version);
            self.send(Outgoing::ReadyForTransition { transition_id });
        }
        self.check_changes();
        Ok(())
    }

    /// Op 31 for `transition_id`, then a fresh group and key package.
    fn recover(&mut self, transition_id: u16) -> Result<(), DaveError> {
        self.send(Outgoing::InvalidCommitWelcome { transition_id });
        self.init_mls(self.protocol_version)
    }

    fn executed(&mut self, protocol_version: u16, now: Instant) {
        let was_transport_only = self.transport_only;
        if protocol_version == 0 {
            self.transport_only = true;
            self.protocol_version = 0;
            self.set_passthrough(Passthrough::Always);
        } else {
            self.transport_only = false;
            if was_transport_only || self.passthrough == Passthrough::Always {
                self.set_passthrough(Passthrough::Until(now + self.config.upgrade_passthrough));
            }
        }
        if was_transport_only != self.transport_only {
            self.event(DaveEvent::ProtocolVersionChanged { protocol_version });
        }
        self.check_changes();
    }

    fn check_changes(&mut self) {
        let epoch = self.epoch();
        if epoch != self.last_epoch {
            self.last_epoch = epoch;
            if let Some(epoch) = epoch {
                self.event(DaveEvent::EpochChanged { epoch });
            }
        }
        let can = self.can_encrypt();
        if can != self.last_can_encrypt {
            self.last_can_encrypt = can;
            self.event(DaveEvent::ReadyChanged { can_encrypt: can });
        }
    }

    // ---- media -------------------------------------------------------------------

    /// DAVE-encrypts one whole frame (before packetization). Transport-only
    /// calls return the frame unchanged; Opus silence is never encrypted.
    pub fn encrypt(&mut self, codec: MediaCodec, frame: &[u8]) -> Result<Vec<u8>, DaveError> {
        if self.transport_only {
            return Ok(frame.to_vec());
        }
        let mls = self.mls.as_mut().ok_or(DaveError::NotReady)?;
        if !mls.can_encrypt() {
            return Err(DaveError::NotReady);
        }
        if !crate::encrypt_guard::encryptable(codec, frame) {
            return Err(DaveError::EncryptFailed(format!(
                "malformed {codec:?} frame (its clear header does not fit)"
            )));
        }
        let (media, codec) = codec.davey();
        mls.encrypt(media, codec, frame)
            .map(|c| c.into_owned())
            .map_err(|e| DaveError::EncryptFailed(e.to_string()))
    }

    /// Decrypts one whole frame from `user_id` (after depacketization).
    pub fn decrypt(
        &mut self,
        user_id: u64,
        codec: MediaCodec,
        frame: &[u8],
        now: Instant,
    ) -> Result<Decrypted, DaveError> {
        let result = self.decrypt_inner(user_id, codec, frame, now);
        let s = self.stats.entry(user_id).or_default();
        match &result {
            Ok(Decrypted::Plain(_)) => s.decrypted += 1,
            Ok(Decrypted::Passthrough(_)) => s.passthrough += 1,
            Err(_) => s.failures += 1,
        }
        result
    }

    fn decrypt_inner(
        &mut self,
        user_id: u64,
        codec: MediaCodec,
        frame: &[u8],
        now: Instant,
    ) -> Result<Decrypted, DaveError> {
        if codec == MediaCodec::Opus && frame == OPUS_SILENCE {
            return Ok(Decrypted::Passthrough(frame.to_vec()));
        }
        if !is_protocol_frame(frame) {
            return if self.passthrough.allows(now) {
                Ok(Decrypted::Passthrough(frame.to_vec()))
            } else {
                Err(DaveError::UnencryptedWhenPassthroughDisabled)
            };
        }
        let mls = self.mls.as_mut().ok_or(DaveError::NoKeyForUser(user_id))?;
        let (media, _) = codec.davey();
        match mls.decrypt(user_id, media, frame) {
            Ok(plain) => Ok(Decrypted::Plain(plain)),
            Err(davey::errors::DecryptError::NoDecryptorForUser) => {
                Err(DaveError::NoKeyForUser(user_id))
            }
            Err(e) => Err(DaveError::DecryptFailed(e.to_string())),
        }
    }
}
