//! [`VoiceMessage`]: every JSON (text frame) voice gateway message, typed,
//! with the `{"op":N,"d":…,"seq"?:N}` envelope codec.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::CodecDescriptor;
use crate::dave::{
    ExecuteTransition, InvalidCommitWelcome, PrepareEpoch, PrepareTransition, TransitionReady,
};
use crate::envelope;
use crate::error::VoiceProtoError;
use crate::handshake::{Hello, Identify, Ready, Resume, SelectProtocol, SessionDescription};
use crate::heartbeat::{Heartbeat, HeartbeatAck};
use crate::media::{
    BackendVersion, ClientDisconnect, ClientFlags, ClientPlatform, ClientsConnect, SessionUpdate,
    Speaking, Video,
};
use crate::opcode::VoiceOpcode;
use crate::sink_wants::MediaSinkWants;

/// A JSON voice gateway message of either direction.
///
/// Opcodes whose payload is not modelled (10, 17, 19, anything unknown,
/// and binary-only opcodes 25–30 if they ever arrive as text) decode to
/// [`VoiceMessage::Unknown`] with the raw `d`, never to an error.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum VoiceMessage {
    /// Op 0.
    Identify(Identify),
    /// Op 1.
    SelectProtocol(SelectProtocol),
    /// Op 2.
    Ready(Ready),
    /// Op 3.
    Heartbeat(Heartbeat),
    /// Op 4.
    SessionDescription(SessionDescription),
    /// Op 5.
    Speaking(Speaking),
    /// Op 6.
    HeartbeatAck(HeartbeatAck),
    /// Op 7.
    Resume(Resume),
    /// Op 8.
    Hello(Hello),
    /// Op 9 (payload `null`).
    Resumed,
    /// Op 11.
    ClientsConnect(ClientsConnect),
    /// Op 12.
    Video(Video),
    /// Op 13.
    ClientDisconnect(ClientDisconnect),
    /// Op 14.
    SessionUpdate(SessionUpdate),
    /// Op 15.
    MediaSinkWants(MediaSinkWants),
    /// Op 16.
    BackendVersion(BackendVersion),
    /// Op 18.
    ClientFlags(ClientFlags),
    /// Op 20.
    ClientPlatform(ClientPlatform),
    /// Op 21.
    DavePrepareTransition(PrepareTransition),
    /// Op 22.
    DaveExecuteTransition(ExecuteTransition),
    /// Op 23.
    DaveTransitionReady(TransitionReady),
    /// Op 24.
    DavePrepareEpoch(PrepareEpoch),
    /// Op 31.
    DaveInvalidCommitWelcome(InvalidCommitWelcome),
    /// Op 32 (payload `{}`).
    NoRoute,
    /// Any opcode without a typed payload.
    Unknown {
        /// The opcode number.
        op: u8,
        /// The raw payload (`null` when absent).
        d: Value,
    },
}

/// The envelope as written.
#[derive(Serialize)]
struct OutEnvelope<'a> {
    op: u8,
    d: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
}

fn typed<T: for<'de> Deserialize<'de>>(op: u8, d: Value) -> Result<T, VoiceProtoError> {
    serde_json::from_value(d).map_err(|e| VoiceProtoError::Payload {
        op,
        message: e.to_string(),
    })
}

fn to_value<T: Serialize>(v: &T) -> Value {
    // Every payload type serializes to JSON infallibly: all map keys are
    // strings and no Serialize impl in this crate returns an error, so the
    // error branch is unreachable.
    serde_json::to_value(v).expect("infallible: voice payloads are plain structs with string keys")
}

impl VoiceMessage {
    /// The opcode of this message.
    pub fn opcode(&self) -> VoiceOpcode {
        use VoiceOpcode as O;
        match self {
            Self::Identify(_) => O::Identify,
            Self::SelectProtocol(_) => O::SelectProtocol,
            Self::Ready(_) => O::Ready,
            Self::Heartbeat(_) => O::Heartbeat,
            Self::SessionDescription(_) => O::SessionDescription,
            Self::Speaking(_) => O::Speaking,
            Self::HeartbeatAck(_) => O::HeartbeatAck,
            Self::Resume(_) => O::Resume,
            Self::Hello(_) => O::Hello,
            Self::Resumed => O::Resumed,
            Self::ClientsConnect(_) => O::ClientsConnect,
            Self::Video(_) => O::Video,
            Self::ClientDisconnect(_) => O::ClientDisconnect,
            Self::SessionUpdate(_) => O::SessionUpdate,
            Self::MediaSinkWants(_) => O::MediaSinkWants,
            Self::BackendVersion(_) => O::VoiceBackendVersion,
            Self::ClientFlags(_) => O::ClientFlags,
            Self::ClientPlatform(_) => O::ClientPlatform,
            Self::DavePrepareTransition(_) => O::DavePrepareTransition,
            Self::DaveExecuteTransition(_) => O::DaveExecuteTransition,
            Self::DaveTransitionReady(_) => O::DaveTransitionReady,
            Self::DavePrepareEpoch(_) => O::DavePrepareEpoch,
            Self::DaveInvalidCommitWelcome(_) => O::MlsInvalidCommitWelcome,
            Self::NoRoute => O::NoRoute,
            Self::Unknown { op, .. } => O::from_u8(*op),
        }
    }

    /// Decodes a text frame. Returns the message and the envelope's `seq`
    /// (present on replayable server messages from v8).
    pub fn from_text(text: &str) -> Result<(Self, Option<u64>), VoiceProtoError> {
        let envelope = |message: String| VoiceProtoError::Envelope { message };
        let mut obj = envelope::object(text).map_err(envelope)?;
        let op = envelope::opcode(&obj).map_err(envelope)?;
        let seq = envelope::sequence(&obj, "seq").map_err(envelope)?;
        let d = envelope::take_payload(&mut obj);
        Ok((Self::from_parts(op, d)?, seq))
    }

    /// Decodes a message from its opcode and payload.
    pub fn from_parts(op: u8, d: Value) -> Result<Self, VoiceProtoError> {
        use VoiceOpcode as O;
        Ok(match VoiceOpcode::from_u8(op) {
            O::Identify => Self::Identify(typed(op, d)?),
            O::SelectProtocol => Self::SelectProtocol(typed(op, d)?),
            O::Ready => Self::Ready(typed(op, d)?),
            O::Heartbeat => Self::Heartbeat(typed(op, d)?),
            O::SessionDescription => Self::SessionDescription(typed(op, d)?),
            O::Speaking => Self::Speaking(typed(op, d)?),
            O::HeartbeatAck => Self::HeartbeatAck(typed(op, d)?),
            O::Resume => Self::Resume(typed(op, d)?),
            O::Hello => Self::Hello(typed(op, d)?),
            // The payload is null; anything else is tolerated, since
            // nothing in it would change the meaning.
            O::Resumed => Self::Resumed,
            O::ClientsConnect => Self::ClientsConnect(typed(op, d)?),
            O::Video => Self::Video(typed(op, d)?),
            O::ClientDisconnect => Self::ClientDisconnect(typed(op, d)?),
            O::SessionUpdate => Self::SessionUpdate(typed(op, d)?),
            O::MediaSinkWants => Self::MediaSinkWants(typed(op, d)?),
            O::VoiceBackendVersion => Self::BackendVersion(typed(op, d)?),
            O::ClientFlags => Self::ClientFlags(typed(op, d)?),
            O::ClientPlatform => Self::ClientPlatform(typed(op, d)?),
            O::DavePrepareTransition => Self::DavePrepareTransition(typed(op, d)?),
            O::DaveExecuteTransition => Self::DaveExecuteTransition(typed(op, d)?),
            O::DaveTransitionReady => Self::DaveTransitionReady(typed(op, d)?),
            O::DavePrepareEpoch => Self::DavePrepareEpoch(typed(op, d)?),
            O::MlsInvalidCommitWelcome => Self::DaveInvalidCommitWelcome(typed(op, d)?),
            O::NoRoute => Self::NoRoute,
            O::ChannelOptionsUpdate
            | O::SpeedTest
            | O::MlsExternalSender
            | O::MlsKeyPackage
            | O::MlsProposals
            | O::MlsCommitWelcome
            | O::MlsAnnounceCommitTransition
            | O::MlsWelcome
            | O::Unknown(_) => Self::Unknown { op, d },
        })
    }

    /// The payload `d` as a JSON value.
    pub fn payload(&self) -> Value {
        match self {
            Self::Identify(p) => to_value(p),
            Self::SelectProtocol(p) => to_value(p),
            Self::Ready(p) => to_value(p),
            Self::Heartbeat(p) => to_value(p),
            Self::SessionDescription(p) => to_value(p),
            Self::Speaking(p) => to_value(p),
            Self::HeartbeatAck(p) => to_value(p),
            Self::Resume(p) => to_value(p),
            Self::Hello(p) => to_value(p),
            Self::Resumed => Value::Null,
            Self::ClientsConnect(p) => to_value(p),
            Self::Video(p) => to_value(p),
            Self::ClientDisconnect(p) => to_value(p),
            Self::SessionUpdate(p) => to_value(p),
            Self::MediaSinkWants(p) => to_value(p),
            Self::BackendVersion(p) => to_value(p),
            Self::ClientFlags(p) => to_value(p),
            Self::ClientPlatform(p) => to_value(p),
            Self::DavePrepareTransition(p) => to_value(p),
            Self::DaveExecuteTransition(p) => to_value(p),
            Self::DaveTransitionReady(p) => to_value(p),
            Self::DavePrepareEpoch(p) => to_value(p),
            Self::DaveInvalidCommitWelcome(p) => to_value(p),
            Self::NoRoute => Value::Object(serde_json::Map::new()),
            Self::Unknown { d, .. } => d.clone(),
        }
    }

    /// Encodes a text frame. `seq` is added to the envelope when given
    /// (servers on v8+ number replayable messages; clients pass `None`).
    pub fn to_text(&self, seq: Option<u64>) -> String {
        let d = self.payload();
        let env = OutEnvelope {
            op: self.opcode().as_u8(),
            d: &d,
            seq,
        };
        // A struct of a u8, a Value and an optional u64 always serializes.
        serde_json::to_string(&env)
            .expect("infallible: the envelope is a plain struct with string keys")
    }

    /// Op 14 from a client: announce a new codec list.
    pub fn session_update_codecs(codecs: Vec<CodecDescriptor>) -> Self {
        Self::SessionUpdate(SessionUpdate {
            codecs,
            ..SessionUpdate::default()
        })
    }
}
