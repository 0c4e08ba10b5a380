//! [`SimMember`]: a simulated call participant (e.g. a streamer the simulator
//! plays) that joins DAVE groups through the gateway's own messages and then
//! sends DAVE-encrypted media.
//!
//! It is a full MLS client built on davey, i.e. a different implementation
//! from the gateway logic (which is written directly against openmls), so a
//! member joining through the gateway exercises both sides for real.

use std::collections::BTreeSet;
use std::num::NonZeroU16;

use davey::{Codec, DaveSession, MediaType, ProposalsOperationType};

use crate::GatewayError;
use crate::messages::{ClientDaveMsg, ProposalsOp, ServerDaveMsg};

/// Receive passthrough kept after a downgrade is announced, in seconds.
const DOWNGRADE_PASSTHROUGH_SECS: u32 = 24;

/// A davey-driven DAVE client controlled by the simulator.
pub struct SimMember {
    user_id: u64,
    group_id: u64,
    protocol_version: u16,
    session: Option<DaveSession>,
    external_sender: Option<Vec<u8>>,
    /// Users announced by op 11 (minus op 13), plus ourselves.
    recognized: BTreeSet<u64>,
    /// Number of op 31s sent (failed commits/welcomes).
    failures: u64,
    /// Whether a key package went out since the last (re)initialisation: op 25
    /// only triggers one for a fresh session, never a second one (two key
    /// packages in a row race with the proposals for the first).
    key_package_sent: bool,
}

impl std::fmt::Debug for SimMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimMember")
            .field("user_id", &self.user_id)
            .field("group_id", &self.group_id)
            .field("protocol_version", &self.protocol_version)
            .field("epoch", &self.epoch())
            .finish()
    }
}

fn lib(e: impl std::fmt::Debug) -> GatewayError {
    GatewayError::library(e)
}

impl SimMember {
    /// A member of `group_id` whose voice session negotiated `protocol_version`
    /// (op 4). Its key package goes out once op 25 arrives.
    pub fn new(user_id: u64, group_id: u64, protocol_version: u16) -> Result<Self, GatewayError> {
        let session = match NonZeroU16::new(protocol_version) {
            Some(pv) => Some(DaveSession::new(pv, user_id, group_id, None).map_err(lib)?),
            None => None,
        };
        Ok(Self {
            user_id,
            group_id,
            protocol_version,
            session,
            external_sender: None,
            recognized: BTreeSet::from([user_id]),
            failures: 0,
            key_package_sent: false,
        })
    }

    /// This member's user id.
    pub fn user_id(&self) -> u64 {
        self.user_id
    }

    /// MLS epoch of the member's group (`None` without a session; 0 = pending).
    pub fn epoch(&self) -> Option<u64> {
        self.session.as_ref()?.epoch().map(|e| e.as_u64())
    }

    /// Whether frames sent now are DAVE-encrypted.
    pub fn can_encrypt(&self) -> bool {
        self.session.as_ref().is_some_and(DaveSession::can_encrypt)
    }

    /// How many op 31s this member has sent.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// Users in the member's MLS group.
    pub fn group_user_ids(&self) -> Vec<u64> {
        self.session
            .as_ref()
            .and_then(DaveSession::get_user_ids)
            .unwrap_or_default()
    }

    /// Processes one gateway message and returns the replies to send.
    pub fn handle(&mut self, msg: &ServerDaveMsg) -> Vec<ClientDaveMsg> {
        let mut replies = Vec::new();
        match msg {
            ServerDaveMsg::ClientsConnect { user_ids } => self.recognized.extend(user_ids),
            ServerDaveMsg::ClientDisconnect { user_id } => {
                self.recognized.remove(user_id);
            }
            ServerDaveMsg::ExternalSender(bytes) => {
                self.external_sender = Some(bytes.clone());
                if let Some(s) = self.session.as_mut()
                    && s.set_external_sender(bytes).is_ok()
                    && self.protocol_version > 0
                    && !self.key_package_sent
                    && let Ok(kp) = s.create_key_package()
                {
                    self.key_package_sent = true;
                    replies.push(ClientDaveMsg::KeyPackage(kp));
                }
            }
            ServerDaveMsg::Proposals { operation, vector } => {
                let op = match operation {
                    ProposalsOp::Append => ProposalsOperationType::APPEND,
                    ProposalsOp::Revoke => ProposalsOperationType::REVOKE,
                };
                let recognized: Vec<u64> = self.recognized.iter().copied().collect();
                if let Some(s) = self.session.as_mut()
                    && let Ok(Some(cw)) = s.process_proposals(op, vector, Some(&recognized))
                {
                    let mut payload = cw.commit;
                    payload.extend(cw.welcome.unwrap_or_default());
                    replies.push(ClientDaveMsg::CommitWelcome(payload));
                }
            }
            ServerDaveMsg::AnnounceCommit {
                transition_id,
                commit,
            } => {
                let pv = self.protocol_version;
                let result = match self.session.as_mut() {
                    Some(s) => s.process_commit(commit).map_err(lib).and_then(|applies| {
                        if applies {
                            s.prepare_transition(*transition_id, pv).map_err(lib)?;
                        }
                        Ok(applies)
                    }),
                    None => Ok(false),
                };
                self.after_mls_result(result, *transition_id, &mut replies);
            }
            ServerDaveMsg::Welcome {
                transition_id,
                welcome,
            } => {
                let pv = self.protocol_version;
                let recognized: Vec<u64> = self.recognized.iter().copied().collect();
                let result = match self.session.as_mut() {
                    Some(s) => s
                        .process_welcome(welcome, Some(&recognized))
                        .map_err(lib)
                        .and_then(|()| s.prepare_transition(*transition_id, pv).map_err(lib))
                        .map(|()| true),
                    None => Ok(false),
                };
                self.after_mls_result(result, *transition_id, &mut replies);
            }
            ServerDaveMsg::PrepareTransition {
                transition_id,
                protocol_version,
            } => {
                if let Some(s) = self.session.as_mut() {
                    if *protocol_version == 0 {
                        s.set_passthrough_mode(true, Some(DOWNGRADE_PASSTHROUGH_SECS));
                    }
                    let _ = s.prepare_transition(*transition_id, *protocol_version);
                }
                if *protocol_version == 0 && *transition_id == 0 {
                    self.protocol_version = 0;
                }
                if *transition_id != 0 {
                    replies.push(ClientDaveMsg::ReadyForTransition {
                        transition_id: *transition_id,
                    });
                }
            }
            ServerDaveMsg::ExecuteTransition { transition_id } => {
                if let Some(s) = self.session.as_mut()
                    && let Ok(true) = s.execute_transition(*transition_id)
                    && !s.can_encrypt()
                {
                    // A downgrade executed: media goes out unframed from now on.
                    self.protocol_version = 0;
                }
            }
            ServerDaveMsg::PrepareEpoch {
                protocol_version,
                epoch,
            } => {
                if *epoch == 1
                    && let Some(pv) = NonZeroU16::new(*protocol_version)
                {
                    self.protocol_version = *protocol_version;
                    if let Some(kp) = self.reinit(pv) {
                        replies.push(ClientDaveMsg::KeyPackage(kp));
                    }
                }
            }
        }
        replies
    }

    fn after_mls_result(
        &mut self,
        result: Result<bool, GatewayError>,
        transition_id: u16,
        replies: &mut Vec<ClientDaveMsg>,
    ) {
        match result {
            Ok(true) if transition_id != 0 => {
                replies.push(ClientDaveMsg::ReadyForTransition { transition_id });
            }
            Ok(_) => {}
            Err(_) => {
                self.failures += 1;
                replies.push(ClientDaveMsg::InvalidCommitWelcome { transition_id });
                if let Some(pv) = NonZeroU16::new(self.protocol_version)
                    && let Some(kp) = self.reinit(pv)
                {
                    replies.push(ClientDaveMsg::KeyPackage(kp));
                }
            }
        }
    }

    /// Resets the MLS state and returns a fresh key package.
    fn reinit(&mut self, pv: NonZeroU16) -> Option<Vec<u8>> {
        let session = match self.session.as_mut() {
            Some(s) => {
                s.reinit(pv, self.user_id, self.group_id, None).ok()?;
                s
            }
            None => self
                .session
                .insert(DaveSession::new(pv, self.user_id, self.group_id, None).ok()?),
        };
        if let Some(es) = &self.external_sender {
            // reinit re-creates the pending group when an external sender is set;
            // a brand-new session needs it set here.
            if session.status() == davey::SessionStatus::INACTIVE {
                session.set_external_sender(es).ok()?;
            }
        }
        let kp = session.create_key_package().ok()?;
        self.key_package_sent = true;
        Some(kp)
    }

    fn encrypt(
        &mut self,
        media: MediaType,
        codec: Codec,
        frame: &[u8],
    ) -> Result<Vec<u8>, GatewayError> {
        if self.protocol_version == 0 {
            return Ok(frame.to_vec());
        }
        let s = self
            .session
            .as_mut()
            .ok_or(GatewayError::InvalidState("no DAVE session"))?;
        s.encrypt(media, codec, frame)
            .map(|c| c.into_owned())
            .map_err(|e| GatewayError::Media(format!("{e:?}")))
    }

    /// DAVE-encrypts one Opus frame (raw when the call is transport-only).
    pub fn encrypt_opus(&mut self, frame: &[u8]) -> Result<Vec<u8>, GatewayError> {
        self.encrypt(MediaType::AUDIO, Codec::OPUS, frame)
    }

    /// DAVE-encrypts one H264 Annex-B access unit.
    pub fn encrypt_h264(&mut self, frame: &[u8]) -> Result<Vec<u8>, GatewayError> {
        self.encrypt(MediaType::VIDEO, Codec::H264, frame)
    }

    /// DAVE-encrypts one VP8 frame (bitstream, not RTP payload descriptor).
    pub fn encrypt_vp8(&mut self, frame: &[u8]) -> Result<Vec<u8>, GatewayError> {
        self.encrypt(MediaType::VIDEO, Codec::VP8, frame)
    }

    /// Decrypts a frame sent by `sender` (`video` selects the media type).
    pub fn decrypt(
        &mut self,
        sender: u64,
        video: bool,
        frame: &[u8],
    ) -> Result<Vec<u8>, GatewayError> {
        let media = if video {
            MediaType::VIDEO
        } else {
            MediaType::AUDIO
        };
        let s = self
            .session
            .as_mut()
            .ok_or(GatewayError::InvalidState("no DAVE session"))?;
        s.decrypt(sender, media, frame)
            .map_err(|e| GatewayError::Media(format!("{e:?}")))
    }
}
