//! The main gateway's JSON, both directions (the client reads server
//! frames; the simulator reads client commands).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = gateway_proto::ServerMessage::from_text(text) {
        let _ = m.to_text();
    }
    let _ = gateway_proto::ClientCommand::from_text(text);
});
