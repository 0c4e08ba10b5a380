//! The handshake frame and version compatibility rules.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A protocol version: peers must agree on `major`; `minor` may differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProtocolVersion {
    /// Incompatible wire changes bump this.
    pub major: u16,
    /// Backwards-compatible additions (new trailing variants or fields).
    pub minor: u16,
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl std::str::FromStr for ProtocolVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (major, minor) = s
            .split_once('.')
            .ok_or_else(|| format!("expected MAJOR.MINOR, got {s:?}"))?;
        Ok(Self {
            major: major
                .parse()
                .map_err(|e| format!("bad major in {s:?}: {e}"))?,
            minor: minor
                .parse()
                .map_err(|e| format!("bad minor in {s:?}: {e}"))?,
        })
    }
}

/// The version this build speaks.
pub const PROTOCOL_VERSION: ProtocolVersion = ProtocolVersion { major: 1, minor: 1 };
// 1.1: voice audio (VoicePlay, VoiceCancel; Playback, UserSpeech, UserUtterance).

/// Which program sent a [`Hello`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PeerRole {
    /// The control daemon.
    Control,
    /// The media daemon.
    Mediad,
    /// A test or tool speaking as a client (reported as such in logs).
    Tool,
}

impl fmt::Display for PeerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PeerRole::Control => "control",
            PeerRole::Mediad => "mediad",
            PeerRole::Tool => "tool",
        })
    }
}

/// The first frame each way. Its encoding is frozen across all versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The sender's protocol version.
    pub protocol: ProtocolVersion,
    /// Who is speaking.
    pub role: PeerRole,
    /// Free-form build description (crate version, git describe), for logs.
    pub build: String,
    /// Random per-process id: lets a peer tell "same process reconnected"
    /// from "a new process started".
    pub instance_id: u64,
}

/// The outcome of comparing our version with a peer's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionCheck {
    /// Same version.
    Exact,
    /// Same major; the peer is newer and may send messages we do not know
    /// (they are skipped).
    PeerNewerMinor,
    /// Same major; the peer is older and will never send what it lacks.
    PeerOlderMinor,
    /// Different major: the connection must be refused.
    Incompatible,
}

impl VersionCheck {
    /// Compares `ours` with `theirs`.
    pub fn compare(ours: ProtocolVersion, theirs: ProtocolVersion) -> Self {
        use std::cmp::Ordering::*;
        if ours.major != theirs.major {
            return VersionCheck::Incompatible;
        }
        match theirs.minor.cmp(&ours.minor) {
            Equal => VersionCheck::Exact,
            Greater => VersionCheck::PeerNewerMinor,
            Less => VersionCheck::PeerOlderMinor,
        }
    }

    /// Whether the connection may proceed.
    pub fn is_compatible(&self) -> bool {
        !matches!(self, VersionCheck::Incompatible)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u16, minor: u16) -> ProtocolVersion {
        ProtocolVersion { major, minor }
    }

    #[test]
    fn version_rules() {
        assert_eq!(VersionCheck::compare(v(1, 0), v(1, 0)), VersionCheck::Exact);
        assert_eq!(
            VersionCheck::compare(v(1, 0), v(1, 3)),
            VersionCheck::PeerNewerMinor
        );
        assert_eq!(
            VersionCheck::compare(v(1, 3), v(1, 0)),
            VersionCheck::PeerOlderMinor
        );
        assert!(!VersionCheck::compare(v(1, 0), v(2, 0)).is_compatible());
        assert!(VersionCheck::compare(v(1, 0), v(1, 9)).is_compatible());
        assert_eq!("2.7".parse::<ProtocolVersion>(), Ok(v(2, 7)));
        assert!("2".parse::<ProtocolVersion>().is_err());
    }
}
