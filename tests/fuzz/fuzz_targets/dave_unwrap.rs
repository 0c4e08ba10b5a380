//! DAVE media frames before any MLS group exists: the protocol-frame
//! trailer parse (supplemental size, ULEB128 ranges, marker) and the
//! passthrough rules; plus the voice gateway's binary DAVE opcodes.
#![no_main]
use dave_session::{DaveConfig, DaveSession, MediaCodec};
use libfuzzer_sys::fuzz_target;
use std::time::Instant;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let codec = match sel % 3 {
        0 => MediaCodec::Opus,
        1 => MediaCodec::H264,
        _ => MediaCodec::Vp8,
    };
    let mut s = DaveSession::new(1, 2, DaveConfig::default());
    let _ = s.decrypt(3, codec, rest, Instant::now());
    let _ = voice_proto::DaveBinary::parse_server(rest, sel & 0x80 != 0);
    let _ = voice_proto::DaveBinary::parse_client(rest);
});
