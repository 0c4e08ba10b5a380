//! Shared test helpers: the vector file and hex decoding.

#![allow(dead_code, missing_docs)]

use serde_json::Value;
use voice_crypto::{CryptoMode, NonceSeed, Sealer, TransportCipher};

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

pub struct Case {
    pub name: String,
    pub mode: CryptoMode,
    pub rtcp: bool,
    pub counter: u32,
    pub plain: Vec<u8>,
    pub clear_len: usize,
    pub sealed: Vec<u8>,
}

pub struct Vectors {
    pub key: Vec<u8>,
    pub salt: [u8; 20],
    pub cases: Vec<Case>,
}

pub fn vectors() -> Vectors {
    let v: Value = serde_json::from_str(include_str!("../vectors/transport.json")).expect("json");
    let s = |v: &Value, k: &str| v[k].as_str().expect(k).to_owned();
    let salt: [u8; 20] = hex(&s(&v, "suffix_salt")).try_into().expect("salt");
    let cases = v["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            name: s(c, "name"),
            mode: CryptoMode::from_wire_str(&s(c, "mode")).expect("mode"),
            rtcp: s(c, "kind") == "rtcp",
            counter: c["counter"].as_u64().expect("counter") as u32,
            plain: hex(&s(c, "plain")),
            clear_len: c["clear_len"].as_u64().expect("clear_len") as usize,
            sealed: hex(&s(c, "sealed")),
        })
        .collect();
    Vectors {
        key: hex(&s(&v, "key")),
        salt,
        cases,
    }
}

pub fn sealer(v: &Vectors, mode: CryptoMode, counter: u32) -> Sealer {
    let cipher = TransportCipher::new(mode, &v.key).expect("key");
    Sealer::new(
        cipher,
        NonceSeed {
            counter,
            suffix_salt: v.salt,
        },
    )
}
