//! 20 ms Opus packets for simulated speakers' looping fixture voices.
//!
//! These packets were made once by the real libopus encoder
//! (`fixtures/make_opus_fixtures.py`) and are embedded, so a looping voice
//! costs no encoding at run time: a 1 s 440 Hz tone that loops seamlessly
//! (exactly 440 cycles), and a 5.7 s espeak-ng English sentence for
//! speech-to-text on the receiving side. Lines said on demand are encoded
//! live instead (`crate::encode_line`). Silence uses the 3-byte CELT frame
//! `F8 FF FE` that Discord clients send (five of them) when they stop
//! talking.
//!
//! All packets are mono, 48 kHz, 20 ms, code 0 (one frame per packet), so
//! consecutive packets advance the RTP timestamp by
//! [`OPUS_TIMESTAMP_STEP`].

use crate::SimMediaError;

/// RTP clock rate of Opus (RFC 7587: always 48 kHz).
pub const OPUS_CLOCK_RATE: u32 = 48_000;
/// Duration of every packet produced here.
pub const OPUS_FRAME_MS: u32 = 20;
/// RTP timestamp increment per packet: 20 ms at 48 kHz.
pub const OPUS_TIMESTAMP_STEP: u32 = OPUS_CLOCK_RATE / 1000 * OPUS_FRAME_MS;
/// One 20 ms fullband CELT frame that decodes to digital silence: TOC
/// `0xF8` (config 31, mono, one frame) then a payload whose first range
/// decoder symbol is the silence flag.
pub const OPUS_SILENCE_FRAME: [u8; 3] = [0xF8, 0xFF, 0xFE];
/// How many silence frames a Discord client sends after it stops speaking.
pub const SILENCE_TAIL_FRAMES: usize = 5;

/// Embedded libopus output, see the module docs for the format.
const TONE_PKTS: &[u8] = include_bytes!("../fixtures/tone440.pkts");
/// See [`TONE_PKTS`].
const SPEECH_PKTS: &[u8] = include_bytes!("../fixtures/speech_en.pkts");

/// What a speaker sounds like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpusVoice {
    /// A 440 Hz tone at −12 dBFS (32 kbit/s), looping every second.
    Tone,
    /// An English sentence from espeak-ng (24 kbit/s), looping every 5.7 s.
    Speech,
    /// [`OPUS_SILENCE_FRAME`] only.
    Silence,
}

/// Produces the Opus packets of one simulated speaker.
///
/// Deterministic: packet `n` of a speaker is a pure function of the voice,
/// the seed (which picks the starting point in the loop, so two speakers
/// with the same voice are not in lockstep) and `n`.
#[derive(Debug, Clone)]
pub struct OpusSpeaker {
    voice: OpusVoice,
    packets: Vec<Vec<u8>>,
    /// Loop position of packet 0.
    offset: u64,
    /// Index of the next packet [`OpusSpeaker::packets_for`] returns.
    next: u64,
}

impl OpusSpeaker {
    /// A speaker with the given voice.
    ///
    /// # Errors
    /// [`SimMediaError::CorruptFixture`] if the embedded packets do not
    /// parse (a build problem, covered by the crate's tests).
    pub fn new(voice: OpusVoice, seed: u64) -> Result<Self, SimMediaError> {
        let packets = match voice {
            OpusVoice::Tone => split_packets(TONE_PKTS)?,
            OpusVoice::Speech => split_packets(SPEECH_PKTS)?,
            OpusVoice::Silence => vec![OPUS_SILENCE_FRAME.to_vec()],
        };
        let offset = crate::rng::mix(seed) % packets.len().max(1) as u64;
        Ok(Self {
            voice,
            packets,
            offset,
            next: 0,
        })
    }

    /// The voice this speaker uses.
    #[must_use]
    pub fn voice(&self) -> OpusVoice {
        self.voice
    }

    /// Packets in one loop of the voice (50 for the tone).
    #[must_use]
    pub fn loop_len(&self) -> usize {
        self.packets.len()
    }

    /// Packet number `index` of this speaker (random access).
    #[must_use]
    pub fn packet(&self, index: u64) -> Vec<u8> {
        let n = self.packets.len().max(1) as u64;
        let i = (index.wrapping_add(self.offset) % n) as usize;
        self.packets
            .get(i)
            .cloned()
            .unwrap_or_else(|| OPUS_SILENCE_FRAME.to_vec())
    }

    /// The next `ceil(duration_ms / 20)` packets of a speaking period,
    /// continuing where the previous call stopped. Send them 20 ms apart,
    /// advancing the RTP timestamp by [`OPUS_TIMESTAMP_STEP`] each.
    pub fn packets_for(&mut self, duration_ms: u32) -> Vec<Vec<u8>> {
        let count = u64::from(duration_ms.div_ceil(OPUS_FRAME_MS));
        let out = (self.next..self.next + count)
            .map(|i| self.packet(i))
            .collect();
        self.next += count;
        out
    }

    /// The silence frames to send when a speaking period ends.
    #[must_use]
    pub fn silence_tail() -> Vec<Vec<u8>> {
        vec![OPUS_SILENCE_FRAME.to_vec(); SILENCE_TAIL_FRAMES]
    }
}

/// Splits the fixture format (2-byte big-endian length, then the packet)
/// into packets. Rejects empty input, zero-length packets and truncation.
fn split_packets(mut data: &[u8]) -> Result<Vec<Vec<u8>>, SimMediaError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (len, rest) = match data {
            [hi, lo, rest @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), rest),
            _ => return Err(SimMediaError::CorruptFixture("truncated length prefix")),
        };
        if len == 0 {
            return Err(SimMediaError::CorruptFixture("zero-length packet"));
        }
        let Some(pkt) = rest.get(..len) else {
            return Err(SimMediaError::CorruptFixture("truncated packet"));
        };
        out.push(pkt.to_vec());
        data = rest.get(len..).unwrap_or_default();
    }
    if out.is_empty() {
        return Err(SimMediaError::CorruptFixture("no packets"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frame duration in ms of a TOC byte's configuration (RFC 6716 §3.1).
    fn toc_duration_tenths_ms(toc: u8) -> u32 {
        let config = toc >> 3;
        match config {
            0..=11 => [100, 200, 400, 600][usize::from(config % 4)],
            12..=15 => [100, 200][usize::from(config % 2)],
            _ => [25, 50, 100, 200][usize::from(config % 4)],
        }
    }

    #[test]
    fn fixtures_are_20ms_mono_single_frame_packets() {
        for voice in [OpusVoice::Tone, OpusVoice::Speech, OpusVoice::Silence] {
            let s = OpusSpeaker::new(voice, 0).unwrap();
            assert!(s.loop_len() >= 1);
            for i in 0..s.loop_len() as u64 {
                let p = s.packet(i);
                let toc = p[0];
                assert_eq!(toc_duration_tenths_ms(toc), 200, "{voice:?} packet {i}");
                assert_eq!(toc & 0x04, 0, "mono");
                assert_eq!(toc & 0x03, 0, "code 0: one frame");
                assert!(p.len() >= 2 && p.len() <= 1276);
            }
        }
        assert_eq!(OpusSpeaker::new(OpusVoice::Tone, 0).unwrap().loop_len(), 50);
        assert_eq!(toc_duration_tenths_ms(OPUS_SILENCE_FRAME[0]), 200);
        assert_eq!(OPUS_TIMESTAMP_STEP, 960);
    }

    #[test]
    fn tone_packets_carry_audio_not_silence() {
        let s = OpusSpeaker::new(OpusVoice::Tone, 0).unwrap();
        // 32 kbit/s for 20 ms is 80 bytes; a silence frame is 3.
        let mean = (0..50).map(|i| s.packet(i).len()).sum::<usize>() / 50;
        assert!((40..=120).contains(&mean), "{mean}");
    }

    #[test]
    fn packets_for_continues_and_rounds_up() {
        let mut s = OpusSpeaker::new(OpusVoice::Speech, 9).unwrap();
        let a = s.packets_for(50);
        assert_eq!(a.len(), 3);
        let b = s.packets_for(40);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0], s.packet(3));
        assert_eq!(a[0], s.packet(0));
        assert!(s.packets_for(0).is_empty());
    }

    #[test]
    fn seed_shifts_the_loop() {
        let a = OpusSpeaker::new(OpusVoice::Speech, 1).unwrap();
        let b = OpusSpeaker::new(OpusVoice::Speech, 2).unwrap();
        let seq = |s: &OpusSpeaker| (0..10).map(|i| s.packet(i)).collect::<Vec<_>>();
        assert_ne!(seq(&a), seq(&b));
        assert_eq!(
            seq(&a),
            seq(&OpusSpeaker::new(OpusVoice::Speech, 1).unwrap())
        );
    }

    #[test]
    fn silence_tail_is_five_silence_frames() {
        let t = OpusSpeaker::silence_tail();
        assert_eq!(t.len(), 5);
        assert!(t.iter().all(|p| p[..] == OPUS_SILENCE_FRAME));
    }

    #[test]
    fn split_rejects_malformed() {
        assert!(split_packets(&[]).is_err());
        assert!(split_packets(&[0]).is_err());
        assert!(split_packets(&[0, 0]).is_err());
        assert!(split_packets(&[0, 3, 1, 2]).is_err());
        assert_eq!(
            split_packets(&[0, 2, 7, 8, 0, 1, 9]).unwrap(),
            vec![vec![7, 8], vec![9]]
        );
    }

    proptest::proptest! {
        #[test]
        fn split_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let _ = split_packets(&bytes);
        }
    }
}
