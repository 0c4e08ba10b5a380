//! Binary DAVE frames and IP discovery packets, against hand-built bytes.

use voice_proto::*;

#[test]
fn server_frames_with_and_without_seq() {
    let commit = DaveBinary::AnnounceCommitTransition {
        transition_id: 3,
        commit: vec![0xAA, 0xBB],
    };
    let v8 = [0x01, 0x02, 29, 0x00, 0x03, 0xAA, 0xBB];
    let v4 = [29, 0x00, 0x03, 0xAA, 0xBB];
    assert_eq!(commit.encode_server(Some(0x0102)).unwrap(), v8);
    assert_eq!(commit.encode_server(None).unwrap(), v4);
    assert_eq!(
        DaveBinary::parse_server(&v8, true).unwrap(),
        (commit.clone(), Some(0x0102))
    );
    assert_eq!(
        DaveBinary::parse_server(&v4, false).unwrap(),
        (commit, None)
    );
}

#[test]
fn every_server_opcode_round_trips() {
    let frames = [
        (
            DaveBinary::ExternalSender(vec![1, 2, 3]),
            vec![25u8, 1, 2, 3],
        ),
        (
            DaveBinary::Proposals {
                operation: ProposalsOperation::Append,
                proposals: vec![0x02, 9, 9],
            },
            vec![27, 0, 0x02, 9, 9],
        ),
        (
            DaveBinary::Proposals {
                operation: ProposalsOperation::Revoke,
                proposals: vec![0x00],
            },
            vec![27, 1, 0x00],
        ),
        (
            DaveBinary::Welcome {
                transition_id: 0xBEEF,
                welcome: vec![7],
            },
            vec![30, 0xBE, 0xEF, 7],
        ),
        (
            DaveBinary::AnnounceCommitTransition {
                transition_id: 0,
                commit: vec![],
            },
            vec![29, 0, 0],
        ),
    ];
    for (msg, body) in frames {
        assert_eq!(msg.encode_server(None).unwrap(), body, "{msg:?}");
        let mut with_seq = vec![0xFF, 0xFE];
        with_seq.extend_from_slice(&body);
        assert_eq!(msg.encode_server(Some(0xFFFE)).unwrap(), with_seq);
        assert_eq!(
            DaveBinary::parse_server(&with_seq, true).unwrap(),
            (msg.clone(), Some(0xFFFE))
        );
        assert_eq!(
            DaveBinary::parse_server(&body, false).unwrap(),
            (msg.clone(), None)
        );
        // The server-only opcodes are refused from a client.
        assert!(matches!(
            DaveBinary::parse_client(&body),
            Err(VoiceProtoError::WrongDirection { .. })
        ));
        assert!(msg.encode_client().unwrap_err().is_usage_error());
    }
}

#[test]
fn client_frames_round_trip() {
    let kp = DaveBinary::KeyPackage(vec![0x00, 0x01, 0x42]);
    assert_eq!(kp.encode_client().unwrap(), [26, 0x00, 0x01, 0x42]);
    assert_eq!(
        DaveBinary::parse_client(&[26, 0x00, 0x01, 0x42]).unwrap(),
        kp
    );
    let cw = DaveBinary::CommitWelcome(vec![5, 6]);
    assert_eq!(cw.encode_client().unwrap(), [28, 5, 6]);
    assert_eq!(DaveBinary::parse_client(&[28, 5, 6]).unwrap(), cw);
    assert_eq!(cw.opcode(), VoiceOpcode::MlsCommitWelcome);
    // Client opcodes are refused in server frames and by the server encoder.
    assert_eq!(
        DaveBinary::parse_server(&[0, 1, 26, 9], true).unwrap_err(),
        VoiceProtoError::WrongDirection { op: 26 }
    );
    assert!(cw.encode_server(Some(1)).unwrap_err().is_usage_error());
}

#[test]
fn unknown_binary_opcode_is_a_value() {
    let (msg, seq) = DaveBinary::parse_server(&[0, 9, 99, 1, 2], true).unwrap();
    assert_eq!(seq, Some(9));
    assert_eq!(
        msg,
        DaveBinary::Unknown {
            op: 99,
            payload: vec![1, 2]
        }
    );
    assert_eq!(msg.encode_server(Some(9)).unwrap(), [0, 9, 99, 1, 2]);
    assert_eq!(msg.encode_client().unwrap(), [99, 1, 2]);
    assert_eq!(DaveBinary::parse_client(&[99, 1, 2]).unwrap(), msg);
}

#[test]
fn truncated_and_invalid_frames() {
    assert!(matches!(
        DaveBinary::parse_server(&[], false),
        Err(VoiceProtoError::TooShort { .. })
    ));
    assert!(matches!(
        DaveBinary::parse_server(&[0, 1], true),
        Err(VoiceProtoError::TooShort { .. })
    ));
    // Op 29/30 need a 2-byte transition id.
    assert!(matches!(
        DaveBinary::parse_server(&[29, 0], false),
        Err(VoiceProtoError::TooShort { needed: 2, got: 1 })
    ));
    assert!(matches!(
        DaveBinary::parse_server(&[30], false),
        Err(VoiceProtoError::TooShort { .. })
    ));
    // Op 27 needs an operation byte, 0 or 1.
    assert!(matches!(
        DaveBinary::parse_server(&[27], false),
        Err(VoiceProtoError::TooShort { .. })
    ));
    let err = DaveBinary::parse_server(&[27, 2, 0], false).unwrap_err();
    assert_eq!(err, VoiceProtoError::BadProposalsOperation(2));
    assert_eq!(err.op(), Some(27));
    assert!(DaveBinary::parse_client(&[]).is_err());
}

/// A response for 203.0.113.7:50000, SSRC 0x01020304, built by hand.
fn response_bytes() -> Vec<u8> {
    let mut b = vec![0x00, 0x02, 0x00, 0x46, 0x01, 0x02, 0x03, 0x04];
    let mut addr = b"203.0.113.7".to_vec();
    addr.resize(64, 0);
    b.extend_from_slice(&addr);
    b.extend_from_slice(&[0xC3, 0x50]);
    b
}

#[test]
fn ip_discovery_request_layout() {
    let req = IpDiscovery::Request { ssrc: 0x01020304 };
    let bytes = req.encode().unwrap();
    assert_eq!(bytes.len(), IP_DISCOVERY_LEN);
    assert_eq!(bytes[..8], [0x00, 0x01, 0x00, 0x46, 0x01, 0x02, 0x03, 0x04]);
    assert!(bytes[8..].iter().all(|&b| b == 0));
    assert_eq!(IpDiscovery::decode(&bytes).unwrap(), req);
}

#[test]
fn ip_discovery_response_layout() {
    let resp = IpDiscovery::Response {
        ssrc: 0x01020304,
        address: "203.0.113.7".into(),
        port: 50000,
    };
    let bytes = response_bytes();
    assert_eq!(resp.encode().unwrap().to_vec(), bytes);
    let decoded = IpDiscovery::decode(&bytes).unwrap();
    assert_eq!(decoded, resp);
    assert_eq!(decoded.ip(), Some("203.0.113.7".parse().unwrap()));
    assert_eq!(decoded.ssrc(), 0x01020304);
}

#[test]
fn ip_discovery_rejects_bad_packets() {
    let good = response_bytes();
    assert_eq!(
        IpDiscovery::decode(&good[..73]).unwrap_err(),
        VoiceProtoError::IpDiscoveryLength { got: 73 }
    );
    let mut b = good.clone();
    b[1] = 3;
    assert!(matches!(
        IpDiscovery::decode(&b),
        Err(VoiceProtoError::IpDiscoveryHeader { packet_type: 3, .. })
    ));
    let mut b = good.clone();
    b[3] = 0x47;
    assert!(matches!(
        IpDiscovery::decode(&b),
        Err(VoiceProtoError::IpDiscoveryHeader { length: 0x47, .. })
    ));
    let mut b = good.clone();
    for x in &mut b[8..72] {
        *x = b'1';
    }
    assert!(matches!(
        IpDiscovery::decode(&b),
        Err(VoiceProtoError::IpDiscoveryAddress { .. })
    ));
    let mut b = good;
    b[8] = 0;
    assert!(matches!(
        IpDiscovery::decode(&b),
        Err(VoiceProtoError::IpDiscoveryAddress { .. })
    ));
    let long = IpDiscovery::Response {
        ssrc: 1,
        address: "x".repeat(64),
        port: 1,
    };
    let err = long.encode().unwrap_err();
    assert!(err.is_usage_error());
    let max = IpDiscovery::Response {
        ssrc: 1,
        address: "x".repeat(63),
        port: 1,
    };
    assert_eq!(IpDiscovery::decode(&max.encode().unwrap()).unwrap(), max);
}
