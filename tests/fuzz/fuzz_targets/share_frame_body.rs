//! The share page's frame POST body: parse, size checks, base64 decode
//! under a cap, declared-type signature check.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let max_body = 64 * 1024;
    let _ = share_core::check_declared_length(data.len() as u64, max_body);
    let Ok(body) = share_core::FrameBody::parse(data, max_body) else {
        return;
    };
    let _ = format!("{body:?}");
    if let Ok(len) = body.decoded_len() {
        assert!(len <= data.len());
    }
    if let Ok(frame) = body.decode(32 * 1024) {
        assert!(frame.decoded_len() <= 32 * 1024);
        for mime in ["image/jpeg", "image/png", "image/webp", "text/plain"] {
            let _ = frame.check_signature(mime);
        }
    }
    let _ = share_core::decode_capped(data, 1024);
});
