//! The `{op, d, …}` JSON envelope reader both Discord gateways share (the
//! voice gateway's `seq`, the main gateway's `s` and `t`). Exported for the
//! sibling `gateway-proto` crate; errors are the message text each crate
//! wraps in its own `Envelope` variant.

use serde_json::{Map, Value};

/// A text frame's fields. Read as a map rather than a derived struct:
/// serde would also accept a JSON array for a struct.
pub fn object(text: &str) -> Result<Map<String, Value>, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// The envelope's `op`, a number that fits a `u8`.
pub fn opcode(obj: &Map<String, Value>) -> Result<u8, String> {
    match obj.get("op") {
        Some(v) => v
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| format!("`op` is not an opcode number: {v}")),
        None => Err("missing `op`".to_owned()),
    }
}

/// An optional sequence number field (`seq`, `s`): missing or `null` is
/// `None`, anything but a non-negative integer an error.
pub fn sequence(obj: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("`{key}` is not a sequence number: {v}")),
    }
}

/// Takes the payload `d` out; missing reads as `null`.
pub fn take_payload(obj: &mut Map<String, Value>) -> Value {
    obj.remove("d").unwrap_or(Value::Null)
}
