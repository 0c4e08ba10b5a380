//! Connection behaviour over in-memory pipes: handshake rules, ordering, lanes.

use ipc_conn::{ConnConfig, ConnError, Connection, handshake};
use ipc_schema::*;
use std::time::Duration;

fn hello(role: PeerRole, major: u16, minor: u16) -> Hello {
    Hello {
        protocol: ProtocolVersion { major, minor },
        role,
        build: "test".into(),
        instance_id: 1,
    }
}

async fn pair(
    c_ver: (u16, u16),
    m_ver: (u16, u16),
) -> (
    Result<Connection<ControlMsg, MediadMsg>, ConnError>,
    Result<Connection<MediadMsg, ControlMsg>, ConnError>,
) {
    let (mut a, mut b) = tokio::io::duplex(1 << 20);
    let t = Duration::from_secs(2);
    let (ca, mb) = tokio::join!(
        handshake::<ControlMsg, MediadMsg, _>(
            &mut a,
            hello(PeerRole::Control, c_ver.0, c_ver.1),
            t
        ),
        handshake::<MediadMsg, ControlMsg, _>(&mut b, hello(PeerRole::Mediad, m_ver.0, m_ver.1), t),
    );
    let c = ca.map(|(peer, rest)| Connection::spawn(a, peer, rest, ConnConfig::default()));
    let m = mb.map(|(peer, rest)| Connection::spawn(b, peer, rest, ConnConfig::default()));
    (c, m)
}

#[tokio::test]
async fn major_mismatch_names_both_versions_on_both_sides() {
    let (c, m) = pair((2, 0), (1, 0)).await;
    let c_err = c.err().expect("control refuses").to_string();
    let m_err = m.err().expect("mediad refuses").to_string();
    for e in [&c_err, &m_err] {
        assert!(e.contains("2.0") && e.contains("1.0"), "{e}");
    }
    assert!(c_err.contains("this control speaks 2.0"), "{c_err}");
}

#[tokio::test]
async fn newer_minor_is_accepted() {
    let (c, m) = pair((1, 5), (1, 0)).await;
    let c = c.unwrap();
    let m = m.unwrap();
    assert!(m.peer.is_newer_minor());
    assert!(!c.peer.is_newer_minor());
}

#[tokio::test]
async fn reliable_messages_arrive_in_order_and_close_cleanly() {
    let (c, m) = pair((1, 0), (1, 0)).await;
    let c = c.unwrap();
    let mut m = m.unwrap();
    for nonce in 0..1000 {
        c.sender.send(ControlMsg::Ping { nonce }).unwrap();
    }
    for nonce in 0..1000 {
        assert_eq!(
            m.receiver.recv().await.unwrap().unwrap(),
            ControlMsg::Ping { nonce }
        );
    }
    let Connection {
        sender,
        receiver,
        tasks,
        ..
    } = c;
    drop(sender);
    assert!(
        m.receiver.recv().await.is_none(),
        "clean close ends with None"
    );
    drop(receiver);
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(2), t)
            .await
            .expect("task exits")
            .unwrap();
    }
}

fn frame(seq: u64) -> MediadMsg {
    MediadMsg::DecodedVideoFrame(DecodedVideoFrame {
        user_id: UserId(1),
        ssrc: Ssrc(2),
        stream_type: None,
        width: 2,
        height: 2,
        jpeg: vec![0u8; 1000],
        change_score: 0.0,
        ema_score: 0.0,
        scene_cut: false,
        rtp_timestamp: 0,
        capture_time_us: 0,
        frame_seq: seq,
    })
}

#[tokio::test]
async fn lossy_lane_drops_oldest_when_reader_is_slow_and_reliable_still_flows() {
    let (mut a, mut b) = tokio::io::duplex(4096); // tiny pipe: the writer blocks fast
    let t = Duration::from_secs(2);
    let (ca, mb) = tokio::join!(
        handshake::<ControlMsg, MediadMsg, _>(&mut a, hello(PeerRole::Control, 1, 0), t),
        handshake::<MediadMsg, ControlMsg, _>(&mut b, hello(PeerRole::Mediad, 1, 0), t),
    );
    let (cp, crest) = ca.unwrap();
    let (mp, mrest) = mb.unwrap();
    let cfg = ConnConfig {
        lossy_capacity: 2,
        inbound_capacity: 1,
        ..ConnConfig::default()
    };
    let mediad: Connection<MediadMsg, ControlMsg> = Connection::spawn(b, mp, mrest, cfg);
    // Control side reads only after mediad has queued everything.
    for seq in 0..500 {
        mediad.sender.send(frame(seq)).unwrap();
    }
    mediad.sender.send(MediadMsg::Pong { nonce: 9 }).unwrap();
    let mut control: Connection<ControlMsg, MediadMsg> =
        Connection::spawn(a, cp, crest, ConnConfig::default());
    let mut seqs = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(2), control.receiver.recv())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            MediadMsg::DecodedVideoFrame(f) => seqs.push(f.frame_seq),
            MediadMsg::Pong { nonce } => {
                assert_eq!(nonce, 9);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        mediad.sender.lossy_dropped() > 400,
        "dropped {}",
        mediad.sender.lossy_dropped()
    );
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "frames stay in order: {seqs:?}"
    );
    // The newest frame always survives.
    let mut last = seqs.last().copied();
    while let Ok(Some(Ok(MediadMsg::DecodedVideoFrame(f)))) =
        tokio::time::timeout(Duration::from_millis(300), control.receiver.recv()).await
    {
        last = Some(f.frame_seq);
    }
    assert_eq!(last, Some(499));
}

#[tokio::test]
async fn garbage_after_handshake_ends_the_connection_with_an_error() {
    use tokio::io::AsyncWriteExt;
    let (mut a, mut b) = tokio::io::duplex(1 << 16);
    let t = Duration::from_secs(2);
    let (ca, mb) = tokio::join!(
        handshake::<ControlMsg, MediadMsg, _>(&mut a, hello(PeerRole::Control, 1, 0), t),
        handshake::<MediadMsg, ControlMsg, _>(&mut b, hello(PeerRole::Mediad, 1, 0), t),
    );
    let (mp, mrest) = mb.unwrap();
    drop(ca);
    let mut mediad: Connection<MediadMsg, ControlMsg> =
        Connection::spawn(b, mp, mrest, ConnConfig::default());
    a.write_all(&[0, 0, 0, 3, 0xEE, 0xEE, 0xEE]).await.unwrap();
    let got = mediad.receiver.recv().await.unwrap();
    assert!(matches!(got, Err(ConnError::Frame(_))), "{got:?}");
    assert!(mediad.receiver.recv().await.is_none());
}

#[tokio::test]
async fn silent_peer_times_out() {
    let (mut a, _b) = tokio::io::duplex(1 << 16);
    let err = handshake::<ControlMsg, MediadMsg, _>(
        &mut a,
        hello(PeerRole::Control, 1, 0),
        Duration::from_millis(50),
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, ConnError::HandshakeTimeout(_)));
}

/// A peer that announces a huge first frame and streams its payload: the
/// handshake must refuse at the length prefix, not buffer the payload until
/// the timeout (the old code accepted prefixes up to 16 MiB and kept
/// reading).
#[tokio::test]
async fn oversized_first_frame_is_refused_at_its_prefix() {
    use tokio::io::AsyncWriteExt;
    let (mut a, mut b) = tokio::io::duplex(64 * 1024);
    let writer = tokio::spawn(async move {
        let _ = a.write_all(&(16u32 * 1024 * 1024 - 1).to_be_bytes()).await;
        // The payload: written until the reader hangs up.
        let junk = vec![0xAB; 64 * 1024];
        let mut sent = 0usize;
        while sent < 16 * 1024 * 1024 {
            if a.write_all(&junk).await.is_err() {
                break;
            }
            sent += junk.len();
        }
        sent
    });
    let started = std::time::Instant::now();
    let err = handshake::<MediadMsg, ControlMsg, _>(
        &mut b,
        hello(PeerRole::Mediad, 1, 0),
        Duration::from_secs(5),
    )
    .await
    .expect_err("refused");
    assert!(
        matches!(err, ConnError::HelloTooLarge { max, .. } if max == ipc_conn::MAX_HELLO_FRAME_LEN),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused at once"
    );
    drop(b);
    let sent = writer.await.unwrap();
    // Only what fit in the pipe was ever accepted from the writer.
    assert!(sent <= 128 * 1024, "payload was read: {sent} bytes");
}

#[tokio::test]
async fn hello_prefix_at_the_limit_is_waited_for_above_is_refused() {
    let at = (ipc_conn::MAX_HELLO_FRAME_LEN as u32).to_be_bytes();
    assert!(matches!(
        ipc_conn::split_hello(&at),
        Ok(ipc_schema::frame::Split::Incomplete { .. })
    ));
    let above = (ipc_conn::MAX_HELLO_FRAME_LEN as u32 + 1).to_be_bytes();
    assert!(matches!(
        ipc_conn::split_hello(&above),
        Err(ConnError::HelloTooLarge { .. })
    ));
    // A real hello fits with room to spare.
    let frame = ipc_schema::frame::encode_to_vec(&ControlMsg::from_hello(Hello {
        build: "x".repeat(200),
        ..hello(PeerRole::Control, 1, 0)
    }))
    .unwrap();
    assert!(frame.len() < ipc_conn::MAX_HELLO_FRAME_LEN / 4);
}
