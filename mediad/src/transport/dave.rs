//! DAVE for one slot: the slot task feeds the MLS handshake opcodes to a
//! `dave-session` state machine and sends its replies; the video workers
//! and the publisher use the same session (behind a mutex: frame
//! encryption and decryption are short) to decrypt and encrypt frames.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use dave_session::{DaveConfig, DaveSession, Decrypted, MediaCodec, Outgoing, SessionOutput};
use voice_proto::{DaveBinary, InvalidCommitWelcome, TransitionReady, UserId, VoiceMessage};
use voice_session::VoiceConnection;

/// The session shared by a slot, its workers and its publisher.
#[derive(Clone)]
pub(crate) struct SharedDave(Arc<Mutex<DaveSession>>);

impl SharedDave {
    pub(crate) fn new(user_id: UserId, group_id: u64) -> Self {
        Self(Arc::new(Mutex::new(DaveSession::new(
            user_id.get(),
            group_id,
            DaveConfig::default(),
        ))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DaveSession> {
        // A panic while holding the lock cannot leave the MLS state half
        // written in a way later calls would misread: davey's calls are
        // all-or-nothing; carry on with the inner value.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Op 4 arrived with `protocol_version`.
    pub(crate) fn on_session_description(&self, conn: &mut VoiceConnection, protocol_version: u16) {
        let r = self
            .lock()
            .on_session_description(protocol_version, Instant::now());
        self.after(conn, "session_description", r.map_err(|e| e.to_string()));
    }

    /// A binary DAVE op from the server.
    pub(crate) fn on_binary(&self, conn: &mut VoiceConnection, msg: DaveBinary) {
        let now = Instant::now();
        let r = {
            let mut s = self.lock();
            match &msg {
                DaveBinary::ExternalSender(b) => s.on_external_sender(b),
                DaveBinary::Proposals {
                    operation,
                    proposals,
                } => s.on_proposals(operation.as_u8(), proposals),
                DaveBinary::AnnounceCommitTransition {
                    transition_id,
                    commit,
                } => s.on_announce_commit(*transition_id, commit, now),
                DaveBinary::Welcome {
                    transition_id,
                    welcome,
                } => s.on_welcome(*transition_id, welcome, now),
                _ => Ok(()),
            }
        };
        self.after(conn, "binary", r.map_err(|e| e.to_string()));
    }

    /// A JSON message that may concern DAVE (ops 11, 13, 21, 22, 24).
    pub(crate) fn on_message(&self, conn: &mut VoiceConnection, msg: &VoiceMessage) {
        let now = Instant::now();
        let r = {
            let mut s = self.lock();
            match msg {
                VoiceMessage::DavePrepareTransition(p) => {
                    s.on_prepare_transition(p.transition_id, p.protocol_version, now)
                }
                VoiceMessage::DaveExecuteTransition(e) => {
                    s.on_execute_transition(e.transition_id, now)
                }
                VoiceMessage::DavePrepareEpoch(p) => {
                    s.on_prepare_epoch(p.protocol_version, p.epoch, now)
                }
                _ => Ok(()),
            }
        };
        self.after(conn, "transition", r.map_err(|e| e.to_string()));
    }

    pub(crate) fn clients_connect(&self, users: &[UserId]) {
        let users: Vec<u64> = users.iter().map(|u| u.get()).collect();
        self.lock().on_clients_connect(&users);
    }

    pub(crate) fn client_disconnect(&self, user: UserId) {
        self.lock().on_client_disconnect(user.get());
    }

    /// Sends what the session asks for, in order.
    fn after(&self, conn: &mut VoiceConnection, what: &str, result: Result<(), String>) {
        if let Err(e) = result {
            tracing::warn!(step = what, error = %e, "DAVE message rejected");
        }
        loop {
            let out = self.lock().poll_output();
            let Some(out) = out else { break };
            match out {
                SessionOutput::Send(Outgoing::KeyPackage(b)) => {
                    conn.send_dave(&DaveBinary::KeyPackage(b));
                }
                SessionOutput::Send(Outgoing::CommitWelcome(b)) => {
                    conn.send_dave(&DaveBinary::CommitWelcome(b));
                }
                SessionOutput::Send(Outgoing::ReadyForTransition { transition_id }) => {
                    conn.send_message(&VoiceMessage::DaveTransitionReady(TransitionReady {
                        transition_id,
                        protocol_version: None,
                    }));
                }
                SessionOutput::Send(Outgoing::InvalidCommitWelcome { transition_id }) => {
                    conn.send_message(&VoiceMessage::DaveInvalidCommitWelcome(
                        InvalidCommitWelcome { transition_id },
                    ));
                }
                SessionOutput::Event(e) => tracing::info!(event = ?e, "DAVE"),
            }
        }
    }

    /// Decrypts a whole received frame of `user` in place.
    pub(crate) fn decrypt(
        &self,
        user: UserId,
        codec: MediaCodec,
        frame: &mut Vec<u8>,
    ) -> Result<(), String> {
        let r = self
            .lock()
            .decrypt(user.get(), codec, frame, Instant::now());
        match r {
            Ok(Decrypted::Plain(b)) | Ok(Decrypted::Passthrough(b)) => {
                *frame = b;
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Encrypts a whole frame to send; before the group is ready the frame
    /// goes out as is (the passthrough Discord clients use too).
    pub(crate) fn encrypt(&self, codec: MediaCodec, frame: Vec<u8>) -> Vec<u8> {
        let mut s = self.lock();
        if s.is_transport_only() || !s.can_encrypt() {
            return frame;
        }
        match s.encrypt(codec, &frame) {
            Ok(e) => e,
            Err(e) => {
                tracing::debug!(error = %e, "DAVE encrypt failed; frame sent unencrypted");
                frame
            }
        }
    }

    /// Frames that failed to decrypt, over all users.
    pub(crate) fn failures(&self) -> u64 {
        self.lock().all_stats().values().map(|s| s.failures).sum()
    }
}
