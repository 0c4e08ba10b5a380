//! Gateway intents (bot accounts only; user accounts send capabilities).

use std::ops::BitOr;

use serde::{Deserialize, Serialize};

/// A bot's gateway intents bitfield.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Intents(pub u64);

impl Intents {
    /// Guild create/update/delete, channels (bit 0).
    pub const GUILDS: Self = Self(1 << 0);
    /// Member add/update/remove; privileged (bit 1).
    pub const GUILD_MEMBERS: Self = Self(1 << 1);
    /// VOICE_STATE_UPDATE (bit 7).
    pub const GUILD_VOICE_STATES: Self = Self(1 << 7);
    /// MESSAGE_CREATE etc. in guilds (bit 9).
    pub const GUILD_MESSAGES: Self = Self(1 << 9);
    /// Message content; privileged (bit 15).
    pub const MESSAGE_CONTENT: Self = Self(1 << 15);

    /// True when every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Intents {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_bits() {
        let all = Intents::GUILDS
            | Intents::GUILD_MEMBERS
            | Intents::GUILD_VOICE_STATES
            | Intents::GUILD_MESSAGES
            | Intents::MESSAGE_CONTENT;
        assert_eq!(all.0, 1 + 2 + 128 + 512 + 32768);
        assert!(all.contains(Intents::GUILD_VOICE_STATES));
        assert!(!Intents::GUILDS.contains(Intents::GUILD_MEMBERS));
    }
}
