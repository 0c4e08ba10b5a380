//! RTCP compound parse: iterate every packet and every list inside it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtp::RtcpPacket;

fuzz_target!(|data: &[u8]| {
    let _ = rtp::is_rtcp(data);
    for packet in rtp::rtcp::parse_compound(data).take(1000) {
        let Ok(p) = packet else { break };
        let _ = format!("{p:?}");
        let _ = p.bye_sources().count();
        match &p {
            RtcpPacket::Nack(n) => {
                let _ = n.pairs().count();
                let _ = n.lost_sequences().take(100_000).count();
            }
            RtcpPacket::Fir(f) => {
                let _ = f.entries().count();
            }
            _ => {}
        }
    }
});
