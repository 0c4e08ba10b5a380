//! JSON (human readable): decimal strings out; strings or non-negative
//! integers in; every bad id a clear error.

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use wire_ids::{ChannelId, GuildId, MessageId, ParseSnowflakeError, ServerId, UserId};

#[test]
fn serializes_as_a_decimal_string() {
    let s = serde_json::to_string(&UserId(80351110224678912)).unwrap();
    assert_eq!(s, r#""80351110224678912""#);
    assert_eq!(serde_json::to_string(&ServerId(0)).unwrap(), r#""0""#);
}

#[test]
fn reads_a_string_or_an_integer() {
    let a: GuildId = serde_json::from_str(r#""41771983423143937""#).unwrap();
    let b: GuildId = serde_json::from_str("41771983423143937").unwrap();
    assert_eq!(a, GuildId(41771983423143937));
    assert_eq!(a, b);
}

#[test]
fn max_value_round_trips() {
    let id = ChannelId(u64::MAX);
    let s = serde_json::to_string(&id).unwrap();
    assert_eq!(s, r#""18446744073709551615""#);
    assert_eq!(serde_json::from_str::<ChannelId>(&s).unwrap(), id);
    assert_eq!(
        serde_json::from_str::<ChannelId>("18446744073709551615").unwrap(),
        id
    );
}

fn json_err(text: &str) -> String {
    serde_json::from_str::<UserId>(text)
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_ids_are_clear_errors() {
    assert!(
        json_err(r#""""#).contains("not a snowflake"),
        "{}",
        json_err(r#""""#)
    );
    assert!(json_err(r#""-1""#).contains(r#""-1""#));
    assert!(json_err(r#"" 1""#).contains("not a snowflake"));
    assert!(json_err(r#""+1""#).contains("not a snowflake"));
    assert!(json_err(r#""1e3""#).contains("not a snowflake"));
    assert!(
        json_err("-5").contains("negative snowflake -5"),
        "{}",
        json_err("-5")
    );
    assert!(
        json_err("1.5").contains("expected a snowflake"),
        "{}",
        json_err("1.5")
    );
    assert!(json_err("null").contains("expected a snowflake"));
    assert!(json_err("true").contains("expected a snowflake"));
    // One past u64::MAX, as a string and as a number.
    let over = json_err(r#""18446744073709551616""#);
    assert!(over.contains("at most 18446744073709551615"), "{over}");
    let over_num = json_err("18446744073709551616");
    assert!(over_num.contains("expected a snowflake"), "{over_num}");
}

#[test]
fn from_str_matches_json() {
    assert_eq!("12".parse::<MessageId>(), Ok(MessageId(12)));
    assert_eq!(
        "12a".parse::<ChannelId>(),
        Err(ParseSnowflakeError("12a".into()))
    );
    assert!("".parse::<UserId>().is_err());
    assert!("-0".parse::<UserId>().is_err());
    // Leading zeros are accepted and drop on the way back.
    assert_eq!("007".parse::<UserId>().unwrap().to_string(), "7");
}

#[test]
fn works_inside_structs_maps_and_options() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Msg {
        user_id: UserId,
        guild_id: Option<GuildId>,
        channels: Vec<ChannelId>,
    }
    let m = Msg {
        user_id: UserId(1),
        guild_id: None,
        channels: vec![ChannelId(2), ChannelId(3)],
    };
    let text = serde_json::to_string(&m).unwrap();
    assert_eq!(
        text,
        r#"{"user_id":"1","guild_id":null,"channels":["2","3"]}"#
    );
    assert_eq!(serde_json::from_str::<Msg>(&text).unwrap(), m);
    let mixed: Msg =
        serde_json::from_str(r#"{"user_id":1,"guild_id":"9","channels":[2,"3"]}"#).unwrap();
    assert_eq!(
        mixed,
        Msg {
            user_id: UserId(1),
            guild_id: Some(GuildId(9)),
            ..m
        }
    );
    // Map keys: serde_json writes string keys and reads them back.
    let map: std::collections::BTreeMap<UserId, u8> = [(UserId(5), 1)].into();
    let text = serde_json::to_string(&map).unwrap();
    assert_eq!(text, r#"{"5":1}"#);
    assert_eq!(
        serde_json::from_str::<std::collections::BTreeMap<UserId, u8>>(&text).unwrap(),
        map
    );
}

#[test]
fn debug_is_one_line_and_display_is_the_number() {
    assert_eq!(format!("{:?}", UserId(5)), "UserId(5)");
    assert_eq!(format!("{:#?}", GuildId(6)), "GuildId(6)");
    assert_eq!(ServerId::from(GuildId(7)), ServerId(7));
    assert_eq!(ServerId::from(ChannelId(8)).to_string(), "8");
    assert_eq!(u64::from(MessageId(9)), 9);
}

proptest! {
    #[test]
    fn any_id_round_trips_through_a_string(v in any::<u64>()) {
        let text = serde_json::to_string(&UserId(v)).unwrap();
        prop_assert_eq!(&text, &format!("\"{v}\""));
        prop_assert_eq!(serde_json::from_str::<UserId>(&text).unwrap(), UserId(v));
        prop_assert_eq!(serde_json::from_str::<UserId>(&v.to_string()).unwrap(), UserId(v));
        prop_assert_eq!(v.to_string().parse::<UserId>().unwrap(), UserId(v));
    }

    #[test]
    fn any_negative_integer_is_refused(v in i64::MIN..0) {
        let err = serde_json::from_str::<GuildId>(&v.to_string()).unwrap_err().to_string();
        prop_assert!(err.contains("negative snowflake"), "{}", err);
    }

    #[test]
    fn any_string_parses_only_if_it_is_a_u64(s in ".{0,24}") {
        let text = serde_json::to_string(&s).unwrap();
        let got = serde_json::from_str::<ChannelId>(&text);
        let want = if s.bytes().all(|b| b.is_ascii_digit()) { s.parse::<u64>().ok() } else { None };
        prop_assert_eq!(got.ok(), want.map(ChannelId));
    }
}
