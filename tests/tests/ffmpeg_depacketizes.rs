//! Our RTP packetizers checked by an independent depacketizer: ffmpeg's.
//!
//! `h264-rtp` and `vp8-rtp` are shared by mediad (publishing, and the
//! receive side's depacketizers) and the simulator (its participants'
//! video), so the simulator agreeing with mediad proves nothing about the
//! packetizers. Here ffmpeg makes a stream, our packetizer turns it into
//! RTP, ffmpeg receives that RTP from an SDP (RFC 6184 packetization-mode
//! 1 / RFC 7741) and decodes it, and every decoded frame must be
//! bit-identical (framemd5) to ffmpeg decoding the source file directly.

use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `ffmpeg ARGS` must succeed.
fn ffmpeg(args: &[&str]) {
    let st = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg runs (scripts/setup installs it)");
    assert!(st.success(), "ffmpeg {args:?}");
}

/// The per-frame MD5s of a framemd5 file.
fn md5s(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next().map(|h| h.trim().to_owned()))
        .collect()
}

/// Sends `packets` (RTP payloads with marker and frame index) to an ffmpeg
/// that receives `rtpmap` from an SDP, and returns the MD5s of the frames
/// it decodes (it stops after `frames`).
fn ffmpeg_receives(
    dir: &Path,
    rtpmap: &str,
    frames: usize,
    packets: &[(Vec<u8>, bool, u32)],
) -> Vec<String> {
    let port = {
        let probe = UdpSocket::bind("127.0.0.1:0").expect("udp");
        probe.local_addr().expect("addr").port()
    };
    let sdp = dir.join("stream.sdp");
    std::fs::write(
        &sdp,
        format!(
            "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=packetizer\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video {port} RTP/AVP 96\r\n{rtpmap}\r\n"
        ),
    )
    .expect("sdp");
    let out = dir.join("received.framemd5");
    let log = dir.join("receiver.log");
    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "warning", "-y"])
        // Probe 1 s of stream time (the default 5 s is longer than the stream).
        .args([
            "-analyzeduration",
            "1000000",
            "-protocol_whitelist",
            "file,udp,rtp",
            "-i",
        ])
        .arg(&sdp)
        .args(["-frames:v", &frames.to_string(), "-f", "framemd5"])
        .arg(&out)
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("ffmpeg runs");
    // Let ffmpeg open its socket, then send at a modest pace.
    std::thread::sleep(Duration::from_millis(1500));
    let tx = UdpSocket::bind("127.0.0.1:0").expect("udp");
    let ssrc = 0x1234_5678u32;
    // Real time, frame by frame (as a live sender would: ffmpeg's RTP
    // demuxer paces its jitter handling on arrival).
    for (seq, (payload, marker, ts)) in packets.iter().enumerate() {
        let mut pkt = vec![0x80, 96 | if *marker { 0x80 } else { 0 }];
        pkt.extend_from_slice(&(seq as u16).wrapping_add(1000).to_be_bytes());
        pkt.extend_from_slice(&ts.to_be_bytes());
        pkt.extend_from_slice(&ssrc.to_be_bytes());
        pkt.extend_from_slice(payload);
        tx.send_to(&pkt, ("127.0.0.1", port)).expect("send");
        std::thread::sleep(if *marker {
            Duration::from_millis(100)
        } else {
            Duration::from_micros(300)
        });
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            assert!(st.success(), "ffmpeg receiving RTP failed");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "ffmpeg decoded only {} of {frames} frames from our RTP; it said:\n{}",
                md5s(&out).len(),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    md5s(&out)
}

/// Splits an Annex-B stream at its access unit delimiters (NAL type 9).
fn access_units(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 4 < stream.len() {
        let sc = if stream[i..].starts_with(&[0, 0, 0, 1]) {
            4
        } else if stream[i..].starts_with(&[0, 0, 1]) {
            3
        } else {
            i += 1;
            continue;
        };
        if stream[i + sc] & 0x1F == 9 {
            starts.push(i);
        }
        i += sc;
    }
    starts.push(stream.len());
    starts.windows(2).map(|w| &stream[w[0]..w[1]]).collect()
}

#[test]
fn ffmpeg_decodes_our_h264_rtp_bit_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src.h264");
    let src_s = src.to_str().expect("utf-8");
    // Keyframes of several KB (FU-A), SPS+PPS (STAP-A), small P frames
    // (single NAL units): every packet type of packetization-mode 1.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=10",
        "-frames:v",
        "30",
        "-c:v",
        "libx264",
        "-profile:v",
        "baseline",
        "-pix_fmt",
        "yuv420p",
        "-bf",
        "0",
        "-g",
        "10",
        "-bsf:v",
        "h264_metadata=aud=insert",
        "-f",
        "h264",
        src_s,
    ]);
    let reference = dir.path().join("ref.framemd5");
    ffmpeg(&[
        "-i",
        src_s,
        "-f",
        "framemd5",
        reference.to_str().expect("utf-8"),
    ]);
    let expected = md5s(&reference);
    assert_eq!(expected.len(), 30);

    let stream = std::fs::read(&src).expect("read");
    let aus = access_units(&stream);
    assert_eq!(aus.len(), 30, "one access unit delimiter per frame");
    let mut p = h264_rtp::H264Packetizer::new(h264_rtp::PacketizerConfig::default(), 0, 90_000)
        .expect("packetizer");
    let mut packets = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    // The stream twice: ffmpeg's H264 decoder holds its last frames back
    // until more arrive, so the second copy (a keyframe with SPS/PPS
    // again) pushes the first 30 out; `-frames:v 30` then stops it.
    for (i, au) in aus.iter().chain(aus.iter()).enumerate() {
        for pkt in p
            .packetize(au, Duration::from_millis(100 * i as u64))
            .expect("packetize")
        {
            kinds.insert(pkt.payload[0] & 0x1F);
            packets.push((pkt.payload.to_vec(), pkt.marker, pkt.timestamp));
        }
    }
    assert!(
        kinds.contains(&24) && kinds.contains(&28),
        "STAP-A and FU-A used: {kinds:?}"
    );
    let got = ffmpeg_receives(
        dir.path(),
        "a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1",
        expected.len(),
        &packets,
    );
    assert_eq!(got, expected, "frames ffmpeg decoded from our RTP");
}

#[test]
fn ffmpeg_decodes_our_vp8_rtp_bit_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src.ivf");
    let src_s = src.to_str().expect("utf-8");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=10",
        "-frames:v",
        "30",
        "-c:v",
        "libvpx",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-b:v",
        "1M",
        "-g",
        "10",
        "-f",
        "ivf",
        src_s,
    ]);
    let reference = dir.path().join("ref.framemd5");
    ffmpeg(&[
        "-i",
        src_s,
        "-f",
        "framemd5",
        reference.to_str().expect("utf-8"),
    ]);
    let expected = md5s(&reference);
    assert_eq!(expected.len(), 30);

    // IVF: 32-byte file header, then per frame a 12-byte header (u32 LE size,
    // u64 pts) and the frame.
    let ivf = std::fs::read(&src).expect("read");
    let mut frames = Vec::new();
    let mut at = 32;
    while at + 12 <= ivf.len() {
        let size = u32::from_le_bytes(ivf[at..at + 4].try_into().expect("4 bytes")) as usize;
        frames.push(&ivf[at + 12..at + 12 + size]);
        at += 12 + size;
    }
    assert_eq!(frames.len(), 30);
    let mut p = vp8_rtp::Vp8Packetizer::new(vp8_rtp::PacketizerConfig::default(), 0, 90_000, 7)
        .expect("packetizer");
    let mut packets = Vec::new();
    let mut multi = false;
    for (i, f) in frames.iter().enumerate() {
        let pk: Vec<_> = p
            .packetize(f, Duration::from_millis(100 * i as u64))
            .expect("packetize")
            .map(|x| (x.payload.to_vec(), x.marker, x.timestamp))
            .collect();
        multi |= pk.len() > 1;
        packets.extend(pk);
    }
    assert!(multi, "some frame spans several packets");
    let got = ffmpeg_receives(
        dir.path(),
        "a=rtpmap:96 VP8/90000",
        expected.len(),
        &packets,
    );
    assert_eq!(got, expected, "frames ffmpeg decoded from our RTP");
}
