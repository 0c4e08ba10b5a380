//! Hostile bytes never panic the decoder: arbitrary input, truncations and
//! mutations of valid frames only ever produce errors or valid messages.

mod samples;

use ipc_schema::frame::{FrameBuffer, FrameError, decode_payload, encode_to_vec};
use ipc_schema::{ControlMsg, MAX_FRAME_LEN, MediadMsg};
use proptest::prelude::*;

fn all_frames() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = samples::control_samples()
        .iter()
        .map(|(_, m)| encode_to_vec(m).unwrap())
        .collect();
    v.extend(
        samples::mediad_samples()
            .iter()
            .map(|(_, m)| encode_to_vec(m).unwrap()),
    );
    v
}

/// Feeds bytes through the buffer and decoder as a reader task would.
fn drain(bytes: &[u8]) -> Result<usize, FrameError> {
    let mut fb = FrameBuffer::new();
    fb.extend(bytes);
    let mut n = 0;
    while let Some(frame) = fb.next_frame()? {
        let _ = frame.decode::<ControlMsg>();
        let _ = frame.decode::<MediadMsg>();
        n += 1;
    }
    Ok(n)
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = drain(&bytes);
        let _ = decode_payload::<ControlMsg>(&bytes);
        let _ = decode_payload::<MediadMsg>(&bytes);
    }

    #[test]
    fn mutated_frames_never_panic(idx in 0usize..30, pos in any::<prop::sample::Index>(), val in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let frames = all_frames();
        let mut f = frames[idx % frames.len()].clone();
        let p = pos.index(f.len());
        f[p] = val;
        let _ = drain(&f);
        let c = cut.index(f.len());
        let _ = drain(&f[..c]);
        let _ = decode_payload::<MediadMsg>(&f[4.min(f.len())..]);
    }

    #[test]
    fn truncated_frames_are_incomplete_not_errors(idx in 0usize..30, cut in any::<prop::sample::Index>()) {
        let frames = all_frames();
        let f = &frames[idx % frames.len()];
        let c = cut.index(f.len());
        let mut fb = FrameBuffer::new();
        fb.extend(&f[..c]);
        prop_assert_eq!(fb.next_frame(), Ok(None));
    }
}

#[test]
fn huge_inner_length_does_not_allocate_or_panic() {
    // A decoded_video_frame whose jpeg length varint claims ~2^60 bytes.
    let frame = encode_to_vec(&MediadMsg::DecodedVideoFrame(samples::decoded_frame(16))).unwrap();
    let at = frame
        .windows(3)
        .position(|w| w == [16, 0xFF, 0xD8])
        .expect("jpeg length byte");
    let mut payload = frame[4..at].to_vec();
    payload.extend_from_slice(&[0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
    payload.extend_from_slice(&frame[at + 1..]);
    assert!(matches!(
        decode_payload::<MediadMsg>(&payload),
        Err(FrameError::Malformed(_))
    ));
    // Sanity: the unmodified payload decodes.
    assert!(decode_payload::<MediadMsg>(&frame[4..]).is_ok());
    // A frame whose prefix is one past the limit is refused from 4 bytes.
    let mut fb = FrameBuffer::new();
    fb.extend(&((MAX_FRAME_LEN + 1) as u32).to_be_bytes());
    assert!(matches!(fb.next_frame(), Err(FrameError::Oversized { .. })));
}

#[test]
fn every_sample_survives_every_truncation() {
    for f in all_frames() {
        for cut in 0..f.len() {
            let _ = drain(&f[..cut]);
            let _ = decode_payload::<MediadMsg>(&f[4.min(cut)..cut]);
            let _ = decode_payload::<ControlMsg>(&f[4.min(cut)..cut]);
        }
    }
}
