//! The crate's one error type.

/// Everything that can go wrong in the simulator: bad scenario files, world
/// operations that Discord would refuse, and IO while starting up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A scenario file or string is not valid JSON for the scenario format.
    #[error("scenario does not parse: {0}")]
    ScenarioParse(String),
    /// A scenario parses but is inconsistent (duplicate ids, unknown names…).
    #[error("scenario is invalid: {0}")]
    ScenarioInvalid(String),
    /// `--scenario` names neither a built-in scenario nor a readable file.
    #[error("unknown scenario {0:?} (not a built-in name, and not a readable file: {1})")]
    UnknownScenario(String, String),
    /// No user with this id or name.
    #[error("unknown user {0}")]
    UnknownUser(String),
    /// No channel with this id or name.
    #[error("unknown channel {0}")]
    UnknownChannel(String),
    /// No guild with this id.
    #[error("unknown guild {0}")]
    UnknownGuild(u64),
    /// No stream with this key (or for this owner).
    #[error("unknown stream {0}")]
    UnknownStream(String),
    /// No gateway session with this id (shown redacted).
    #[error("unknown gateway session {0}")]
    UnknownSession(gateway_proto::Secret),
    /// The action needs the user in a voice channel.
    #[error("user {0} is not in a voice channel")]
    NotInVoice(u64),
    /// The user is not a member of the guild.
    #[error("user {user} is not a member of guild {guild}")]
    NotMember {
        /// User id.
        user: u64,
        /// Guild id.
        guild: u64,
    },
    /// The channel exists but has the wrong type for the request.
    #[error("channel {0} is not a voice channel")]
    NotVoiceChannel(u64),
    /// A request the sim understands but refuses (bad argument values).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Binding or serving a socket failed.
    #[error("io: {0}")]
    Io(String),
    /// A media server (sim-media-server) failed to start.
    #[error("media server: {0}")]
    Media(String),
    /// Speech synthesis for a line failed (espeak-ng missing or failing):
    /// the sim's fault, not the request's.
    #[error("speech synthesis: {0}")]
    Speech(String),
}

impl SimError {
    /// True for errors that mean "the caller referenced something that does
    /// not exist" (the admin API answers 404 for these, 400 for the rest).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Self::UnknownUser(_)
                | Self::UnknownChannel(_)
                | Self::UnknownGuild(_)
                | Self::UnknownStream(_)
                | Self::UnknownSession(_)
                | Self::UnknownScenario(..)
        )
    }
}
