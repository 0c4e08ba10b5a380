//! The crate's one error: a string that is not a snowflake.

/// A string that is not a decimal `u64` snowflake: empty, not all ASCII
/// digits (no sign, no whitespace), or above `u64::MAX`. Holds the
/// offending string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a snowflake (decimal digits, at most 18446744073709551615): {0:?}")]
pub struct ParseSnowflakeError(pub String);

/// Parses a decimal snowflake. Only ASCII digits are accepted, so every
/// accepted string formats back identically unless it has leading zeros.
pub(crate) fn parse_snowflake(s: &str) -> Result<u64, ParseSnowflakeError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseSnowflakeError(s.to_owned()));
    }
    s.parse::<u64>()
        .map_err(|_| ParseSnowflakeError(s.to_owned()))
}
