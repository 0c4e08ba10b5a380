//! The IPC frame codec: arbitrary bytes, fed in arbitrary chunks, through
//! `FrameBuffer` and decoded as both directions' messages.
#![no_main]
use ipc_schema::frame::{FrameBuffer, decode_payload, encode_frame, split_frame};
use ipc_schema::{ControlMsg, MediadMsg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = split_frame(data);
    let _ = decode_payload::<ControlMsg>(data);
    let _ = decode_payload::<MediadMsg>(data);
    // First byte: chunk size for the streaming path.
    let Some((&step, rest)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let mut buf = FrameBuffer::new();
    for chunk in rest.chunks(step) {
        buf.extend(chunk);
        loop {
            match buf.next_frame() {
                Ok(Some(raw)) => {
                    if let Ok(m) = raw.decode::<ControlMsg>() {
                        // What decodes must encode again.
                        let mut out = Vec::new();
                        let _ = encode_frame(&m, &mut out);
                    }
                    let _ = raw.decode::<MediadMsg>();
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
