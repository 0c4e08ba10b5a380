//! The voice gateway's JSON text frames.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((m, _seq)) = voice_proto::VoiceMessage::from_text(text) {
        let _ = m.opcode();
    }
});
