//! Property tests of the voice-audio messages (protocol 1.1): any value
//! survives the frame codec unchanged, travels on the reliable lane, and an
//! older peer (1.0, which knows 14 control and 11 mediad kinds) sees the new
//! kinds as skippable unknown kinds.

use ipc_schema::frame::{Split, decode_payload, encode_to_vec, peek_kind, split_frame};
use ipc_schema::*;
use proptest::prelude::*;

fn roundtrip<M: WireMessage + PartialEq + std::fmt::Debug + Clone>(msg: &M) -> M {
    let bytes = encode_to_vec(msg).expect("encodes");
    let Split::Frame { payload, consumed } = split_frame(&bytes).expect("splits") else {
        panic!("not a whole frame")
    };
    assert_eq!(consumed, bytes.len());
    decode_payload(payload).expect("decodes")
}

fn state() -> impl Strategy<Value = PlaybackState> {
    prop_oneof![
        Just(PlaybackState::Started),
        Just(PlaybackState::Finished),
        Just(PlaybackState::Cancelled),
        ".{0,40}".prop_map(PlaybackState::Failed),
    ]
}

proptest! {
    #[test]
    fn voice_play_roundtrips(id in any::<u64>(), seq in any::<u32>(), pcm in proptest::collection::vec(any::<u8>(), 0..VOICE_PLAY_MAX_CHUNK_BYTES), last in any::<bool>()) {
        let msg = ControlMsg::VoicePlay(VoicePlayChunk { id: UtteranceId(id), seq, pcm, last });
        prop_assert_eq!(msg.lane(), Lane::Reliable);
        prop_assert_eq!(roundtrip(&msg), msg);
    }

    #[test]
    fn voice_cancel_roundtrips(id in any::<u64>()) {
        let msg = ControlMsg::VoiceCancel { id: UtteranceId(id) };
        prop_assert_eq!(roundtrip(&msg), msg);
    }

    #[test]
    fn playback_roundtrips(id in any::<u64>(), state in state(), played_ms in any::<u32>()) {
        let msg = MediadMsg::Playback(PlaybackEvent { id: UtteranceId(id), state, played_ms });
        prop_assert_eq!(msg.lane(), Lane::Reliable);
        prop_assert_eq!(roundtrip(&msg), msg);
    }

    #[test]
    fn user_speech_roundtrips(user in any::<u64>(), ssrc in any::<u32>(), speaking in any::<bool>()) {
        let msg = MediadMsg::UserSpeech(UserSpeech { user_id: UserId(user), ssrc: Ssrc(ssrc), speaking });
        prop_assert_eq!(roundtrip(&msg), msg);
    }

    #[test]
    fn user_utterance_roundtrips(user in any::<u64>(), pcm in proptest::collection::vec(any::<u8>(), 0..20_000), duration_ms in any::<u32>()) {
        let msg = MediadMsg::UserUtterance(UserUtterance { user_id: UserId(user), pcm, duration_ms });
        prop_assert_eq!(msg.lane(), Lane::Reliable);
        prop_assert_eq!(roundtrip(&msg), msg);
    }
}

#[test]
fn new_kinds_are_appended_after_the_1_0_ones() {
    let play = encode_to_vec(&ControlMsg::VoicePlay(VoicePlayChunk {
        id: UtteranceId(1),
        seq: 0,
        pcm: vec![],
        last: true,
    }))
    .unwrap();
    assert_eq!(peek_kind(&play[4..]).unwrap(), 14);
    let cancel = encode_to_vec(&ControlMsg::VoiceCancel { id: UtteranceId(1) }).unwrap();
    assert_eq!(peek_kind(&cancel[4..]).unwrap(), 15);
    let utt = encode_to_vec(&MediadMsg::UserUtterance(UserUtterance {
        user_id: UserId(1),
        pcm: vec![],
        duration_ms: 0,
    }))
    .unwrap();
    assert_eq!(peek_kind(&utt[4..]).unwrap(), 13);
    assert_eq!(PROTOCOL_VERSION, ProtocolVersion { major: 1, minor: 1 });
}

#[test]
fn a_full_chunk_frame_stays_small() {
    // The largest allowed chunk is about 10 KB on the wire: a ping queued
    // behind it waits only for that much local socket writing.
    let msg = ControlMsg::VoicePlay(VoicePlayChunk {
        id: UtteranceId(u64::MAX),
        seq: u32::MAX,
        pcm: vec![0x7f; VOICE_PLAY_MAX_CHUNK_BYTES],
        last: false,
    });
    let len = encode_to_vec(&msg).unwrap().len();
    assert!(len < VOICE_PLAY_MAX_CHUNK_BYTES + 32, "{len}");
}
