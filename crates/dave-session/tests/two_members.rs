//! `test_group::two_members` (feature `test-support`): the group the fuzz
//! target `dave_unwrap_group` is built on really carries media both ways.

use std::time::Instant;

use dave_session::test_group::two_members;
use dave_session::{Decrypted, MediaCodec};

#[test]
fn two_members_hold_each_others_keys() {
    // The test's one clock read: a base instant.
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let (mut a, mut b) = two_members(77, 1, 2, now);
    let opus: Vec<u8> = (0..90u32).map(|i| (i * 29 + 1) as u8).collect();
    let enc = a.encrypt(MediaCodec::Opus, &opus).expect("a encrypts");
    assert_ne!(enc, opus, "encrypted");
    assert_eq!(
        b.decrypt(1, MediaCodec::Opus, &enc, now)
            .expect("b decrypts"),
        Decrypted::Plain(opus.clone())
    );
    let back = b.encrypt(MediaCodec::Opus, &opus).expect("b encrypts");
    assert_eq!(
        a.decrypt(2, MediaCodec::Opus, &back, now)
            .expect("a decrypts"),
        Decrypted::Plain(opus)
    );
}
