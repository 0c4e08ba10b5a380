//! The pre-handshake path: the hello size gate, then the hello decode.
#![no_main]
use ipc_schema::frame::{Split, decode_payload};
use ipc_schema::{ControlMsg, MediadMsg, VersionCheck, WireMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Split::Frame { payload, .. }) = ipc_conn::split_hello(data) {
        assert!(payload.len() <= ipc_conn::MAX_HELLO_FRAME_LEN);
        if let Ok(m) = decode_payload::<ControlMsg>(payload)
            && let Some(h) = m.as_hello()
        {
            let _ = VersionCheck::compare(ipc_schema::PROTOCOL_VERSION, h.protocol);
        }
        if let Ok(m) = decode_payload::<MediadMsg>(payload) {
            let _ = m.as_hello();
        }
    }
});
