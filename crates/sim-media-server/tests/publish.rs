//! The SFU side of a published stream, against a minimal publisher written
//! here: holes are NACKed and RTX repairs them, sender reports are
//! counted, and packets the user docs call wrong are counted or refused.
//!
//! Witness (discord-userdoccers `pages/topics/voice-connections.mdx`,
//! "RTCP and RTX", 3dc0ca92): "Clients should send an RTCP Sender Report
//! roughly every 5 seconds for each sent media SSRC." — "When the server
//! reports missing video packets, retransmit them as RTX packets when they
//! are still available. RTX packets use the stream's `rtx_ssrc`, an RTX
//! payload type, and a payload beginning with the original RTP sequence
//! number followed by the original media payload." "Native RTP Header
//! Extensions": id 6 playout-delay, "Discord expects this on video
//! packets".

mod common;

use std::time::Duration;

use common::*;
use rtp::rtcp::{RtcpPacket, SenderInfo, build, parse_compound};
use rtp::send::{PLAYOUT_DELAY_ID, playout_delay};
use rtp::{
    ExtensionElement, PayloadType, RtpBuilder, RtpPacket, RtpTimestamp, RtxMapping, SeqNo, Ssrc,
};
use sim_media_server::{SessionReport, VoiceServerConfig};
use tokio::time::timeout;

const T: Duration = Duration::from_secs(60);

/// One packet: `(seq, timestamp, marker, payload)`.
type Packet = (u16, u32, bool, Vec<u8>);

/// The packets of each of `frames` H264 frames, small enough that each
/// frame has several.
fn packets(frames: u64) -> Vec<Vec<Packet>> {
    use sim_content::{H264Config, H264Stream, ScreenConfig, ScreenSource};
    let mut src = H264Stream::new(
        ScreenSource::new(ScreenConfig::new(640, 360)).unwrap(),
        H264Config::screen(),
    )
    .unwrap();
    let cfg = h264_rtp::PacketizerConfig {
        max_payload_size: 1000,
        aggregate: true,
    };
    let mut pk = h264_rtp::H264Packetizer::new(cfg, 65_530, 0).unwrap();
    (0..frames)
        .map(|n| {
            let f = src.next_frame(n).unwrap();
            pk.packetize(&f.annexb, Duration::from_millis(n * 100))
                .unwrap()
                .map(|p| (p.seq, p.timestamp, p.marker, p.payload.to_vec()))
                .collect()
        })
        .collect()
}

fn rtp_packet(ssrc: u32, p: &Packet, extension: bool) -> Vec<u8> {
    let delay = playout_delay(0, 0);
    let ext = [ExtensionElement {
        id: PLAYOUT_DELAY_ID,
        data: &delay,
    }];
    let mut b = RtpBuilder::new(
        PayloadType::new(H264_PT).unwrap(),
        SeqNo(p.0),
        RtpTimestamp(p.1),
        Ssrc(ssrc),
    );
    b.marker = p.2;
    if extension {
        b.extensions = &ext;
    }
    let mut out = Vec::new();
    b.write_to_vec(&p.3, &mut out).unwrap();
    out
}

async fn report(srv: &sim_media_server::VoiceServerHandle, user: u64) -> SessionReport {
    srv.report()
        .sessions
        .into_iter()
        .find(|s| s.user_id == user)
        .expect("the publisher's session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_published_packets_are_nacked_and_repaired_by_rtx() {
    timeout(T, async {
        let srv = sim_media_server::start(VoiceServerConfig::default())
            .await
            .expect("start");
        let gp = stream_grant(47);
        srv.grant(gp.clone());
        let mut publisher = handshake(&srv, &gp, true, 8).await;
        let layer = publisher.ready.streams[0].clone();
        let (vssrc, rtx_ssrc) = (layer.ssrc.unwrap(), layer.rtx_ssrc_or_derived().unwrap());
        let frames = packets(3);
        assert!(frames[1].len() >= 3, "frame 1 spans packets");
        // Frame 0 without the extension: counted, still decoded.
        for p in &frames[0] {
            publisher.send_sealed_rtp(rtp_packet(vssrc, p, false)).await;
        }
        // Frame 1 loses its second packet on the way.
        let lost = frames[1][1].clone();
        for p in frames[1].iter().filter(|p| p.0 != lost.0) {
            publisher.send_sealed_rtp(rtp_packet(vssrc, p, true)).await;
        }
        // The server NACKs it (RTPFB 205 FMT 1 on our video SSRC).
        let nacked: Vec<u16> = loop {
            let Err(rtcp) = publisher.recv_media().await else {
                continue;
            };
            let found = parse_compound(&rtcp).flatten().find_map(|p| match p {
                RtcpPacket::Nack(n) if n.media_ssrc == Ssrc(vssrc) => {
                    Some(n.lost_sequences().map(|s| s.0).collect())
                }
                _ => None,
            });
            if let Some(f) = found {
                break f;
            }
        };
        assert_eq!(nacked, vec![lost.0]);
        let original = rtp_packet(vssrc, &lost, true);
        let original = RtpPacket::parse(&original).unwrap();
        // An "RTX" on the primary payload type is refused...
        let wrong = RtxMapping {
            rtx_ssrc: Ssrc(rtx_ssrc),
            rtx_pt: PayloadType::new(H264_PT).unwrap(),
            primary_ssrc: Ssrc(vssrc),
            primary_pt: PayloadType::new(H264_PT).unwrap(),
        };
        let mut bad = Vec::new();
        wrong.wrap_into(&original, SeqNo(900), &mut bad).unwrap();
        publisher.send_sealed_rtp(bad).await;
        // ...the declared RTX type repairs the hole (RFC 4588).
        let map = RtxMapping {
            rtx_pt: PayloadType::new(H264_RTX_PT).unwrap(),
            ..wrong
        };
        let mut rtx = Vec::new();
        map.wrap_into(&original, SeqNo(901), &mut rtx).unwrap();
        publisher.send_sealed_rtp(rtx).await;
        for p in &frames[2] {
            publisher.send_sealed_rtp(rtp_packet(vssrc, p, true)).await;
        }
        // A sender report for the video SSRC.
        let mut sr = Vec::new();
        let info = SenderInfo {
            ntp_timestamp: 1 << 32,
            rtp_timestamp: frames[2][0].1,
            packet_count: 10,
            octet_count: 1000,
        };
        build::write_sr(&mut sr, Ssrc(vssrc), &info, &[]).unwrap();
        publisher.send_sealed_rtcp(sr).await;
        let mut r = report(&srv, 47).await;
        for _ in 0..100 {
            if r.published_frames >= 3 && r.sender_reports_received >= 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            r = report(&srv, 47).await;
        }
        assert_eq!(r.publish_nacked, 1, "{r:?}");
        assert_eq!(r.publish_bad_rtx, 1, "{r:?}");
        assert_eq!(r.publish_rtx_received, 1, "{r:?}");
        assert_eq!(r.publish_rtx_repaired, 1, "{r:?}");
        assert_eq!(r.publish_lost, 0, "{r:?}");
        assert_eq!(r.published_frames, 3, "every frame decodes: {r:?}");
        assert_eq!(r.sender_reports_received, 1, "{r:?}");
        assert_eq!(
            r.video_without_playout_delay,
            frames[0].len() as u64,
            "{r:?}"
        );
        srv.shutdown().await;
    })
    .await
    .expect("timeout");
}
