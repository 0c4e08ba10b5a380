//! DAVE media frames against a real MLS group: two `dave-session` members
//! (A and B) joined through `sim-dave` (openmls, the independent
//! external sender), built once per process, so B holds A's keys and every
//! input reaches davey's decryptor instead of the "no key" exit that
//! `dave_unwrap` stops at.
//!
//! The first byte selects the codec (low two bits) and the mode:
//! - bit 7 clear, "raw": the rest is a frame B decrypts as from A (bit 6
//!   set: from a user who is not in the group). Seeds are frames A really
//!   encrypted (their keys differ per process, so they reach the tag check
//!   and the trailer, nonce and generation handling, not the plaintext).
//! - bit 7 set, "sealed": the rest is `[pos_hi, pos_lo, xor, plaintext…]`:
//!   A encrypts the plaintext (that fuzzes the encryptor's frame parsing
//!   too), then the frame is truncated at `pos` (bit 6 set) or one byte at
//!   `pos` is XORed with `xor`, and B decrypts it. An untouched Opus frame
//!   must decrypt to the plaintext (an oracle, not only "no panic").
//!
//! `DAVE_FUZZ_SEED_DIR=DIR` (with `-runs=0`) writes such seeds from frames
//! this process encrypts.
#![no_main]
use dave_session::test_group::two_members;
use dave_session::{DaveSession, Decrypted, MediaCodec};
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use std::time::Instant;

const GROUP_ID: u64 = 998_877_665_544;
const A: u64 = 2001;
const B: u64 = 2002;
const STRANGER: u64 = 4242;

struct Group {
    a: DaveSession,
    b: DaveSession,
    now: Instant,
}

/// A and B in one group (dave-session's `test_group`, feature
/// `test-support`), and the seeds if asked for.
fn build() -> Group {
    let now = Instant::now();
    let (a, b) = two_members(GROUP_ID, A, B, now);
    let mut g = Group { a, b, now };
    if let Some(dir) = std::env::var_os("DAVE_FUZZ_SEED_DIR") {
        write_seeds(&mut g, std::path::Path::new(&dir));
    }
    g
}

/// Seeds: frames A encrypted (raw mode) and plaintexts (sealed mode).
fn write_seeds(g: &mut Group, dir: &std::path::Path) {
    std::fs::create_dir_all(dir).expect("seed dir");
    for (sel, codec, plain) in [
        (0u8, MediaCodec::Opus, opus_frame()),
        (1, MediaCodec::H264, h264_frame()),
        (2, MediaCodec::Vp8, vp8_frame()),
    ] {
        let enc = g.a.encrypt(codec, &plain).expect("A encrypts");
        let got = g.b.decrypt(A, codec, &enc, g.now).expect("B decrypts");
        assert_eq!(got, Decrypted::Plain(plain.clone()), "seed round trip");
        let mut raw = vec![sel];
        raw.extend_from_slice(&enc);
        std::fs::write(dir.join(format!("raw_{sel}")), raw).expect("seed");
        let mut sealed = vec![0x80 | sel, 0, 7, 0x20];
        sealed.extend_from_slice(&plain);
        std::fs::write(dir.join(format!("sealed_{sel}")), sealed).expect("seed");
    }
}

fn opus_frame() -> Vec<u8> {
    (0..90u32).map(|i| (i * 29 + 1) as u8).collect()
}

/// SPS, PPS and an IDR slice (Annex B).
fn h264_frame() -> Vec<u8> {
    let mut f = vec![
        0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1F, 0xDA, 0x01, 0x40, 0x16, 0xE8, 0x06, 0xD0,
    ];
    f.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xCE, 0x38, 0x80]);
    f.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88, 0x84]);
    f.extend((0..300u32).map(|i| ((i * 61 + 3) % 239) as u8 | 0x04));
    f
}

/// A VP8 key frame header (tag, start code, 64×48) and some payload.
fn vp8_frame() -> Vec<u8> {
    let mut f = vec![0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, 64, 0, 48, 0];
    f.extend((0..200u32).map(|i| (i * 37 + 11) as u8));
    f
}

thread_local! {
    static GROUP: RefCell<Group> = RefCell::new(build());
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let codec = match sel & 3 {
        0 => MediaCodec::Opus,
        1 => MediaCodec::H264,
        2 => MediaCodec::Vp8,
        _ => MediaCodec::Vp9,
    };
    GROUP.with_borrow_mut(|g| {
        if sel & 0x80 == 0 {
            let from = if sel & 0x40 != 0 { STRANGER } else { A };
            let _ = g.b.decrypt(from, codec, rest, g.now);
            return;
        }
        let [hi, lo, xor, plain @ ..] = rest else {
            return;
        };
        let Ok(enc) = g.a.encrypt(codec, plain) else {
            return;
        };
        let pos = usize::from(u16::from_be_bytes([*hi, *lo]));
        let mut frame = enc.clone();
        if sel & 0x40 != 0 {
            frame.truncate(pos % (frame.len() + 1));
        } else if !frame.is_empty() {
            let i = pos % frame.len();
            frame[i] ^= *xor;
        }
        let got = g.b.decrypt(A, codec, &frame, g.now);
        if codec == MediaCodec::Opus && frame == enc {
            match got {
                Ok(Decrypted::Plain(p)) | Ok(Decrypted::Passthrough(p)) => {
                    assert_eq!(
                        p, plain,
                        "an untouched Opus frame decrypts to its plaintext"
                    )
                }
                Err(e) => panic!("an untouched Opus frame was refused: {e}"),
            }
        }
    });
});
