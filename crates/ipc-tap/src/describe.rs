//! Printable descriptions of raw frames.

use ipc_schema::frame::{FrameError, decode_payload};
use ipc_schema::{ControlMsg, FieldValue, MediadMsg, WireMessage};
use serde_json::{Map, Value, json};
use std::time::SystemTime;

/// Which way a frame travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// control → mediad.
    ToMediad,
    /// mediad → control.
    ToControl,
}

impl Direction {
    /// Short arrow form for text lines.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ToMediad => "control→mediad",
            Direction::ToControl => "mediad→control",
        }
    }
    /// The byte stored in recordings.
    pub fn code(self) -> u8 {
        match self {
            Direction::ToMediad => 0,
            Direction::ToControl => 1,
        }
    }
    /// Inverse of [`Direction::code`].
    pub fn from_code(c: u8) -> Option<Self> {
        match c {
            0 => Some(Direction::ToMediad),
            1 => Some(Direction::ToControl),
            _ => None,
        }
    }
}

/// One printable line.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// When the frame was seen.
    pub time: SystemTime,
    /// Relay session number (one per control connection).
    pub session: u64,
    /// Direction.
    pub direction: Direction,
    /// Message kind, or `undecodable`/`unknown_kind`.
    pub kind: String,
    /// Key fields.
    pub fields: Vec<(String, FieldValue)>,
    /// Whole frame size in bytes.
    pub bytes: usize,
}

/// A decoded message's kind and key fields.
type Decoded = Result<(String, Vec<(&'static str, FieldValue)>), FrameError>;

/// Describes one frame's payload.
pub fn describe(
    time: SystemTime,
    session: u64,
    direction: Direction,
    payload: &[u8],
    frame_len: usize,
) -> Line {
    let decoded: Decoded = match direction {
        Direction::ToMediad => {
            decode_payload::<ControlMsg>(payload).map(|m| (m.kind().to_string(), m.fields()))
        }
        Direction::ToControl => {
            decode_payload::<MediadMsg>(payload).map(|m| (m.kind().to_string(), m.fields()))
        }
    };
    let (kind, fields) = match decoded {
        Ok((k, f)) => (k, f.into_iter().map(|(n, v)| (n.to_string(), v)).collect()),
        Err(FrameError::UnknownKind { index, .. }) => (
            "unknown_kind".to_string(),
            vec![("index".to_string(), FieldValue::U64(u64::from(index)))],
        ),
        Err(e) => (
            "undecodable".to_string(),
            vec![("error".to_string(), FieldValue::Str(e.to_string()))],
        ),
    };
    Line {
        time,
        session,
        direction,
        kind,
        fields,
        bytes: frame_len,
    }
}

impl Line {
    /// The text form: `TIME #SESSION DIRECTION KIND k=v …`.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{} #{} {} {}",
            humantime::format_rfc3339_millis(self.time),
            self.session,
            self.direction.arrow(),
            self.kind
        );
        for (k, v) in &self.fields {
            s.push(' ');
            s.push_str(k);
            s.push('=');
            let v = v.to_string();
            if v.contains(' ') && !v.starts_with('<') {
                s.push_str(&format!("{v:?}"));
            } else {
                s.push_str(&v);
            }
        }
        s
    }

    /// The JSON-lines form.
    pub fn to_json(&self) -> Value {
        let mut fields = Map::new();
        for (k, v) in &self.fields {
            let v = match v {
                FieldValue::U64(n) => json!(n),
                // Snowflakes as decimal strings, as everywhere in the
                // project's JSON (a JavaScript number loses them).
                FieldValue::Id(n) => json!(n.to_string()),
                FieldValue::F64(n) => json!(n),
                FieldValue::Bool(b) => json!(b),
                FieldValue::Str(s) => json!(s),
                FieldValue::Bytes(n) => json!({ "bytes": n }),
                FieldValue::Redacted(h) => json!({ "redacted": h }),
                FieldValue::None => Value::Null,
            };
            fields.insert(k.clone(), v);
        }
        json!({
            "time": humantime::format_rfc3339_millis(self.time).to_string(),
            "session": self.session,
            "direction": match self.direction { Direction::ToMediad => "control_to_mediad", Direction::ToControl => "mediad_to_control" },
            "kind": self.kind,
            "bytes": self.bytes,
            "fields": fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipc_schema::frame::{Split, encode_to_vec, split_frame};
    use ipc_schema::{ChannelId, GuildId, Secret, UserId, VoiceConnect};
    use std::time::{Duration, UNIX_EPOCH};

    /// The line the tap prints for `msg` sent control → mediad.
    fn line_of(msg: &ControlMsg) -> Line {
        let frame = encode_to_vec(msg).expect("encodes");
        let Ok(Split::Frame { payload, consumed }) = split_frame(&frame) else {
            panic!("one whole frame")
        };
        let t = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        describe(t, 1, Direction::ToMediad, payload, consumed)
    }

    /// Snowflake ids above 2^53 print as numbers in the text form and as
    /// exact decimal strings in JSON; counts stay numbers; secrets show
    /// only their hint in both.
    #[test]
    fn snowflakes_are_json_strings_and_text_numbers() {
        const GUILD: u64 = 900_000_000_000_000_001;
        const CHANNEL: u64 = 900_000_000_000_000_011;
        const USER: u64 = 9_007_199_254_740_993; // 2^53 + 1
        let msg = ControlMsg::VoiceConnect(VoiceConnect {
            guild_id: GuildId(GUILD),
            channel_id: ChannelId(CHANNEL),
            user_id: UserId(USER),
            session_id: Secret::new("session-id-0123456789"),
            endpoint: "127.0.0.1:9".into(),
            token: Secret::new("voice-token-abcdefgh"),
            dave_group_id: CHANNEL,
        });
        let line = line_of(&msg);
        assert_eq!(line.kind, "voice_connect");

        let text = line.to_text();
        assert!(
            text.contains(&format!(
                "voice_connect guild={GUILD} channel={CHANNEL} user={USER} endpoint=127.0.0.1:9"
            )),
            "{text}"
        );
        assert!(text.contains(&format!("dave_group={CHANNEL}")), "{text}");

        let json = line.to_json();
        let fields = &json["fields"];
        assert_eq!(fields["guild"], GUILD.to_string());
        assert_eq!(fields["channel"], CHANNEL.to_string());
        assert_eq!(fields["user"], USER.to_string());
        assert_eq!(fields["dave_group"], CHANNEL.to_string());
        assert_eq!(fields["token"], json!({ "redacted": "…efgh" }));
        assert_eq!(json["session"], 1);
        assert_eq!(json["bytes"], line.bytes);
        let printed = format!("{text} {json}");
        assert!(
            !printed.contains("session-id-0123456789") && !printed.contains("voice-token-abcdefgh"),
            "{printed}"
        );

        // A count is still a number.
        let ping = line_of(&ControlMsg::Ping { nonce: 7 });
        assert_eq!(ping.to_json()["fields"]["nonce"], 7);
    }
}
