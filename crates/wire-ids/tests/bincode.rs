//! bincode (not human readable): a plain `u64`, byte for byte what the
//! IPC's former `#[serde(transparent)]` newtypes wrote.

use bincode::config;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use wire_ids::{ChannelId, GuildId, UserId};

/// The IPC's ids before this crate: a transparent `u64` newtype.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
struct OldId(u64);

/// A message shaped like the IPC's `VoiceConnect` ids, old and new.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct NewMsg {
    guild_id: GuildId,
    channel_id: ChannelId,
    user_id: UserId,
    subs: Vec<UserId>,
}
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct OldMsg {
    guild_id: OldId,
    channel_id: OldId,
    user_id: OldId,
    subs: Vec<OldId>,
}

fn standard<T: Serialize>(v: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(v, config::standard()).unwrap()
}

#[test]
fn fixed_int_bytes_are_the_u64_little_endian() {
    let cfg = config::standard().with_fixed_int_encoding();
    let v = 0x0102_0304_0506_0708_u64;
    let bytes = bincode::serde::encode_to_vec(UserId(v), cfg).unwrap();
    assert_eq!(bytes, v.to_le_bytes());
}

#[test]
fn standard_bytes_are_the_varint_u64() {
    // bincode's varint: below 251 one byte, then 251 + u16, 252 + u32, 253 + u64.
    assert_eq!(standard(&UserId(7)), [7]);
    assert_eq!(standard(&UserId(300)), [251, 0x2c, 0x01]);
    let big = 80351110224678912_u64;
    let mut want = vec![253];
    want.extend_from_slice(&big.to_le_bytes());
    assert_eq!(standard(&UserId(big)), want);
}

#[test]
fn a_truncated_id_is_an_error() {
    let bytes = standard(&UserId(u64::MAX));
    let r = bincode::serde::decode_from_slice::<UserId, _>(&bytes[..4], config::standard());
    assert!(r.is_err());
}

proptest! {
    #[test]
    fn bytes_equal_the_former_transparent_newtype(
        g in any::<u64>(), c in any::<u64>(), u in any::<u64>(), subs in prop::collection::vec(any::<u64>(), 0..4)
    ) {
        let new = NewMsg {
            guild_id: GuildId(g),
            channel_id: ChannelId(c),
            user_id: UserId(u),
            subs: subs.iter().copied().map(UserId).collect(),
        };
        let old = OldMsg {
            guild_id: OldId(g),
            channel_id: OldId(c),
            user_id: OldId(u),
            subs: subs.iter().copied().map(OldId).collect(),
        };
        let bytes = standard(&new);
        prop_assert_eq!(&bytes, &standard(&old));
        let (back, used): (NewMsg, usize) =
            bincode::serde::decode_from_slice(&bytes, config::standard()).unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(back, new);
    }
}
