//! The H264 depacketizer over a sequence of packets cut from the input:
//! each is [len: u8][flags: u8][payload: len bytes]; flags carry the
//! marker bit, a sequence step (loss, reorder, duplicate) and a new
//! timestamp bit.
#![no_main]
use h264_rtp::{DepacketizerConfig, H264Depacketizer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = H264Depacketizer::new(DepacketizerConfig::default());
    let (mut seq, mut ts) = (65_530u16, 0u32);
    let mut rest = data;
    while let [len, flags, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        seq = seq.wrapping_add(u16::from(flags >> 4).wrapping_sub(1));
        if flags & 2 != 0 {
            ts = ts.wrapping_add(3000);
        }
        let _ = d.push(seq, ts, flags & 1 != 0, payload);
        while let Some(au) = d.poll() {
            let _ = format!("{au:?}").len();
            d.recycle(au);
        }
        if flags & 0x0c == 0x0c {
            d.flush();
        }
    }
    d.flush();
    while d.poll().is_some() {}
    let _ = d.stats();
});
