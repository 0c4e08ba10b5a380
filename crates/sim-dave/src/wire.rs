//! Parsing of what clients send in op 28 (commit + optional welcome).
//!
//! openmls validates the overall MLS encoding and tells us where the commit
//! ends (op 28 has no length field between commit and welcome); the fields the
//! gateway arbitrates on are then read with [`crate::tls::Reader`].

use openmls::prelude::{tls_codec::DeserializeBytes, *};

use crate::GatewayError;
use crate::decode::decode;
use crate::tls::{Reader, write_vl};

/// MLS 1.0 protocol version value.
const MLS10: u16 = 1;
/// `WireFormat::mls_public_message`.
const WIRE_PUBLIC_MESSAGE: u16 = 1;
/// `Sender` type `member`.
const SENDER_MEMBER: u8 = 1;
/// `ContentType::commit`.
const CONTENT_COMMIT: u8 = 3;
/// `ProposalOrRefType::reference`.
const PROPOSAL_BY_REFERENCE: u8 = 2;

/// The arbitration-relevant view of a commit.
#[derive(Debug)]
pub(crate) struct ParsedCommit {
    /// The commit MLSMessage exactly as received (forwarded in op 29).
    pub(crate) bytes: Vec<u8>,
    pub(crate) group_id: Vec<u8>,
    pub(crate) epoch: u64,
    pub(crate) committer_leaf: u32,
    /// Proposal references in commit order; `None` entries are inline proposals.
    pub(crate) proposal_refs: Vec<Option<Vec<u8>>>,
    pub(crate) welcome: Option<ParsedWelcome>,
}

/// A Welcome split into its per-joiner secrets.
#[derive(Debug)]
pub(crate) struct ParsedWelcome {
    cipher_suite: u16,
    /// `(KeyPackageRef, encoded EncryptedGroupSecrets)` pairs.
    secrets: Vec<(Vec<u8>, Vec<u8>)>,
    encrypted_group_info: Vec<u8>,
}

impl ParsedWelcome {
    /// Key package references this welcome has secrets for.
    pub(crate) fn new_members(&self) -> impl Iterator<Item = &[u8]> {
        self.secrets.iter().map(|(r, _)| r.as_slice())
    }

    /// A Welcome carrying only the secrets for `key_package_ref`.
    pub(crate) fn subset_for(&self, key_package_ref: &[u8]) -> Result<Vec<u8>, GatewayError> {
        let entry = self
            .secrets
            .iter()
            .find(|(r, _)| r.as_slice() == key_package_ref)
            .ok_or_else(|| GatewayError::InvalidWelcome("no secrets for joiner".into()))?;
        let mut out = Vec::with_capacity(entry.1.len() + self.encrypted_group_info.len() + 12);
        out.extend_from_slice(&self.cipher_suite.to_be_bytes());
        write_vl(&mut out, &entry.1)?;
        write_vl(&mut out, &self.encrypted_group_info)?;
        Ok(out)
    }
}

/// Parses an op 28 payload (bytes after the opcode byte).
pub(crate) fn parse_commit_welcome(payload: &[u8]) -> Result<ParsedCommit, GatewayError> {
    let (_, rest) = decode("commit", || MlsMessageIn::tls_deserialize_bytes(payload))?;
    let commit_len = payload.len() - rest.len();
    let commit_bytes = payload
        .get(..commit_len)
        .ok_or_else(|| GatewayError::malformed("commit", "length"))?;

    let mut r = Reader::new(commit_bytes, "commit");
    if r.u16()? != MLS10 {
        return Err(GatewayError::InvalidCommit("not MLS 1.0".into()));
    }
    if r.u16()? != WIRE_PUBLIC_MESSAGE {
        return Err(GatewayError::InvalidCommit("not a PublicMessage".into()));
    }
    let group_id = r.vl_bytes()?.to_vec();
    let epoch = r.u64()?;
    let sender_type = r.u8()?;
    if sender_type != SENDER_MEMBER {
        return Err(GatewayError::InvalidCommit(format!(
            "sender type {sender_type} is not a member"
        )));
    }
    let committer_leaf = r.u32()?;
    let _authenticated_data = r.vl_bytes()?;
    let content_type = r.u8()?;
    if content_type != CONTENT_COMMIT {
        return Err(GatewayError::InvalidCommit(format!(
            "content type {content_type} is not a commit"
        )));
    }
    let mut proposals = Reader::new(r.vl_bytes()?, "commit proposals");
    let mut proposal_refs = Vec::new();
    while !proposals.is_empty() {
        if proposals.u8()? == PROPOSAL_BY_REFERENCE {
            proposal_refs.push(Some(proposals.vl_bytes()?.to_vec()));
        } else {
            // Inline proposals are forbidden in DAVE; no need to parse further.
            proposal_refs.push(None);
            break;
        }
    }

    let welcome = if rest.is_empty() {
        None
    } else {
        Some(parse_welcome(rest)?)
    };
    Ok(ParsedCommit {
        bytes: commit_bytes.to_vec(),
        group_id,
        epoch,
        committer_leaf,
        proposal_refs,
        welcome,
    })
}

fn parse_welcome(bytes: &[u8]) -> Result<ParsedWelcome, GatewayError> {
    // Full structural validation by openmls first (exact: nothing may trail).
    decode("welcome", || Welcome::tls_deserialize_exact_bytes(bytes))?;
    let mut r = Reader::new(bytes, "welcome");
    let cipher_suite = r.u16()?;
    let mut list = Reader::new(r.vl_bytes()?, "welcome secrets");
    let mut secrets = Vec::new();
    while !list.is_empty() {
        let start = list.rest();
        let new_member = list.vl_bytes()?.to_vec();
        let _kem_output = list.vl_bytes()?;
        let _ciphertext = list.vl_bytes()?;
        let used = start.len() - list.rest().len();
        let encoded = start
            .get(..used)
            .ok_or_else(|| GatewayError::malformed("welcome", "secret length"))?;
        secrets.push((new_member, encoded.to_vec()));
    }
    let encrypted_group_info = r.vl_bytes()?.to_vec();
    if !r.is_empty() {
        return Err(GatewayError::malformed("welcome", "trailing bytes"));
    }
    Ok(ParsedWelcome {
        cipher_suite,
        secrets,
        encrypted_group_info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_commit_welcome(&data);
            let _ = parse_welcome(&data);
        }
    }
}
