//! The gateway's MLS external-sender identity: signing key, op 25 package,
//! signed external proposals and key-package validation.

use openmls::prelude::{tls_codec::Serialize as _, *};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;

use crate::GatewayError;
use crate::decode::decode;

/// DAVE protocol v1 ciphersuite (2).
pub(crate) const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256;

/// Identity placed in the external sender's basic credential. Clients only
/// compare the whole ExternalSender for equality, so any stable value works.
const GATEWAY_IDENTITY: &[u8] = b"dave-gateway-sim";

/// The gateway's P-256 signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewaySigner {
    private: Vec<u8>,
    public: Vec<u8>,
}

impl GatewaySigner {
    /// A fresh random key (davey's key generator owns the randomness).
    pub fn generate() -> Self {
        let kp = davey::SigningKeyPair::generate();
        Self {
            private: kp.private,
            public: kp.public,
        }
    }

    /// A deterministic key from a 32-byte P-256 private scalar (for
    /// reproducible simulations). Fails if the scalar is zero or ≥ the order.
    pub fn from_seed(seed: [u8; 32]) -> Result<Self, GatewayError> {
        let sk =
            p256::ecdsa::SigningKey::from_slice(&seed).map_err(|_| GatewayError::InvalidSeed)?;
        Ok(Self {
            private: seed.to_vec(),
            public: sk
                .verifying_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec(),
        })
    }

    /// The SEC1 uncompressed public key (65 bytes).
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn key_pair(&self) -> SignatureKeyPair {
        SignatureKeyPair::from_raw(
            CIPHERSUITE.signature_algorithm(),
            self.private.clone(),
            self.public.clone(),
        )
    }
}

/// Signing material shared by every group of one gateway.
pub(crate) struct ExternalSenderRole {
    provider: OpenMlsRustCrypto,
    key_pair: SignatureKeyPair,
    /// TLS-encoded `ExternalSender` (op 25 payload), computed once.
    package: Vec<u8>,
}

/// A signed external proposal plus its ProposalRef.
pub(crate) struct SignedProposal {
    /// The MLSMessage (PublicMessage) bytes.
    pub(crate) message: Vec<u8>,
    /// `RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent)`.
    pub(crate) reference: Vec<u8>,
}

impl ExternalSenderRole {
    pub(crate) fn new(signer: &GatewaySigner) -> Result<Self, GatewayError> {
        let key_pair = signer.key_pair();
        let sender = ExternalSender::new(
            key_pair.public().into(),
            BasicCredential::new(GATEWAY_IDENTITY.to_vec()).into(),
        );
        let package = sender
            .tls_serialize_detached()
            .map_err(GatewayError::library)?;
        Ok(Self {
            provider: OpenMlsRustCrypto::default(),
            key_pair,
            package,
        })
    }

    pub(crate) fn package(&self) -> &[u8] {
        &self.package
    }

    /// Validates an op 26 bare KeyPackage from `user_id` against DAVE's rules.
    pub(crate) fn validate_key_package(
        &self,
        bytes: &[u8],
        user_id: u64,
    ) -> Result<(KeyPackage, Vec<u8>), GatewayError> {
        let kp_in = decode("key package", || {
            KeyPackageIn::tls_deserialize_exact_bytes(bytes)
        })?;
        let kp = kp_in
            .validate(self.provider.crypto(), ProtocolVersion::Mls10)
            .map_err(|e| GatewayError::InvalidKeyPackage(format!("{e:?}")))?;
        if kp.ciphersuite() != CIPHERSUITE {
            return Err(GatewayError::InvalidKeyPackage(format!(
                "ciphersuite {:?}",
                kp.ciphersuite()
            )));
        }
        let lifetime = kp.life_time();
        if lifetime.not_before() != 0 || lifetime.not_after() != u64::MAX {
            return Err(GatewayError::InvalidKeyPackage(
                "lifetime must be [0, 2^64-1]".into(),
            ));
        }
        let credential = kp.leaf_node().credential();
        if credential.credential_type() != CredentialType::Basic {
            return Err(GatewayError::InvalidKeyPackage(
                "credential is not basic".into(),
            ));
        }
        if credential.serialized_content() != user_id.to_be_bytes() {
            return Err(GatewayError::InvalidKeyPackage(
                "credential identity is not the sender's user id".into(),
            ));
        }
        let reference = kp
            .hash_ref(self.provider.crypto())
            .map_err(GatewayError::library)?
            .as_slice()
            .to_vec();
        Ok((kp, reference))
    }

    pub(crate) fn propose_add(
        &self,
        key_package: KeyPackage,
        group_id: u64,
        epoch: u64,
    ) -> Result<SignedProposal, GatewayError> {
        let msg = ExternalProposal::new_add::<OpenMlsRustCrypto>(
            key_package,
            GroupId::from_slice(&group_id.to_be_bytes()),
            GroupEpoch::from(epoch),
            &self.key_pair,
            SenderExtensionIndex::new(0),
        )
        .map_err(GatewayError::library)?;
        self.finish(&msg)
    }

    pub(crate) fn propose_remove(
        &self,
        leaf: u32,
        group_id: u64,
        epoch: u64,
    ) -> Result<SignedProposal, GatewayError> {
        let msg = ExternalProposal::new_remove::<OpenMlsRustCrypto>(
            LeafNodeIndex::new(leaf),
            GroupId::from_slice(&group_id.to_be_bytes()),
            GroupEpoch::from(epoch),
            &self.key_pair,
            SenderExtensionIndex::new(0),
        )
        .map_err(GatewayError::library)?;
        self.finish(&msg)
    }

    fn finish(&self, msg: &MlsMessageOut) -> Result<SignedProposal, GatewayError> {
        let message = msg
            .tls_serialize_detached()
            .map_err(GatewayError::library)?;
        // AuthenticatedContent = wire_format || FramedContent || auth data, i.e.
        // the MLSMessage minus its 2-byte protocol version (an external sender's
        // PublicMessage has no membership tag).
        let authenticated_content = message.get(2..).ok_or(GatewayError::InvalidState(
            "MLSMessage shorter than its header",
        ))?;
        let reference =
            hash_ref::make_proposal_ref(authenticated_content, CIPHERSUITE, self.provider.crypto())
                .map_err(GatewayError::library)?
                .as_slice()
                .to_vec();
        Ok(SignedProposal { message, reference })
    }
}
