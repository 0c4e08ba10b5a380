//! What the agent hears: per-SSRC Opus decoding to 16 kHz, the VAD on each
//! 20 ms frame, and a [`Segmenter`] per speaker. Sans-IO: packets and `now`
//! in, [`Heard`] out; the caller runs it on a worker thread.

use crate::{
    AudioError, FRAME_SAMPLES_16K, OpusDecoder, SegOutput, Segmenter, SegmenterConfig, Vad,
};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Listener limits.
#[derive(Clone, Debug)]
pub struct ListenerConfig {
    /// Segmentation of each speaker.
    pub segmenter: SegmenterConfig,
    /// Most SSRCs decoded at once.
    pub max_streams: usize,
    /// A silent stream with no packet for this long is forgotten.
    pub idle_forget: Duration,
    /// Lost packets (by sequence number) concealed by libopus; a larger
    /// gap just restarts the stream's timing.
    pub max_concealed: u16,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            segmenter: SegmenterConfig::default(),
            max_streams: 64,
            idle_forget: Duration::from_secs(300),
            max_concealed: 3,
        }
    }
}

/// Something heard on one SSRC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heard {
    /// Voice activity started or stopped.
    Speech {
        /// The stream.
        ssrc: u32,
        /// Speaking now.
        speaking: bool,
    },
    /// A finished utterance.
    Utterance {
        /// The stream.
        ssrc: u32,
        /// 16 kHz mono.
        pcm: Vec<i16>,
        /// Length in milliseconds.
        duration_ms: u32,
    },
}

struct Stream {
    decoder: OpusDecoder,
    vad: Vad,
    seg: Segmenter,
    last_seq: Option<u16>,
    /// Decoded samples not yet a whole 20 ms frame.
    pending: Vec<i16>,
    last_packet_at: Instant,
}

/// The decoders, detectors and segmenters of every speaker.
pub struct Listener {
    cfg: ListenerConfig,
    streams: BTreeMap<u32, Stream>,
    out: VecDeque<Heard>,
    /// Frames decoded so far (for statistics).
    frames: u64,
}

impl Listener {
    /// An empty listener.
    pub fn new(cfg: ListenerConfig) -> Self {
        Self {
            cfg,
            streams: BTreeMap::new(),
            out: VecDeque::new(),
            frames: 0,
        }
    }

    /// 20 ms frames decoded so far.
    pub fn frames_decoded(&self) -> u64 {
        self.frames
    }

    /// One received Opus payload (after transport and DAVE decryption).
    pub fn on_packet(
        &mut self,
        now: Instant,
        ssrc: u32,
        seq: u16,
        opus: &[u8],
    ) -> Result<(), AudioError> {
        if !self.streams.contains_key(&ssrc) {
            if self.streams.len() >= self.cfg.max_streams {
                self.forget_idle(now);
            }
            if self.streams.len() >= self.cfg.max_streams {
                return Err(AudioError::TooManyStreams(self.streams.len()));
            }
            self.streams.insert(
                ssrc,
                Stream {
                    decoder: OpusDecoder::new()?,
                    vad: Vad::new(),
                    seg: Segmenter::new(self.cfg.segmenter.clone()),
                    last_seq: None,
                    pending: Vec::new(),
                    last_packet_at: now,
                },
            );
        }
        let max_concealed = self.cfg.max_concealed;
        let Some(st) = self.streams.get_mut(&ssrc) else {
            return Ok(());
        };
        // Reordered or duplicated packets are dropped: a late 20 ms is
        // worth less than a straight timeline for the VAD.
        let lost = match st.last_seq {
            Some(last) => {
                let d = seq.wrapping_sub(last);
                if d == 0 || d > 0x8000 {
                    return Ok(());
                }
                d - 1
            }
            None => 0,
        };
        st.last_seq = Some(seq);
        st.last_packet_at = now;
        if lost > 0 && lost <= max_concealed {
            for _ in 0..lost {
                let pcm = st.decoder.conceal()?.to_vec();
                st.pending.extend_from_slice(&pcm);
            }
        }
        let pcm = st.decoder.decode(opus)?;
        st.pending.extend_from_slice(pcm);
        let mut consumed = 0;
        while st.pending.len() - consumed >= FRAME_SAMPLES_16K {
            let frame = &st.pending[consumed..consumed + FRAME_SAMPLES_16K];
            let voiced = st.vad.is_voiced(frame)?;
            st.seg.on_frame(now, frame, voiced);
            consumed += FRAME_SAMPLES_16K;
            self.frames += 1;
        }
        st.pending.drain(..consumed);
        Self::collect(ssrc, &mut st.seg, &mut self.out);
        Ok(())
    }

    fn collect(ssrc: u32, seg: &mut Segmenter, out: &mut VecDeque<Heard>) {
        while let Some(o) = seg.poll_output() {
            out.push_back(match o {
                SegOutput::Speaking(speaking) => Heard::Speech { ssrc, speaking },
                SegOutput::Utterance(pcm) => Heard::Utterance {
                    ssrc,
                    duration_ms: (pcm.len() / (FRAME_SAMPLES_16K / 20)) as u32,
                    pcm,
                },
            });
        }
    }

    fn forget_idle(&mut self, now: Instant) {
        let idle = self.cfg.idle_forget;
        self.streams.retain(|_, s| {
            s.seg.is_speaking() || now.saturating_duration_since(s.last_packet_at) < idle
        });
    }

    /// A stream ended (its user left): a running utterance is finished.
    pub fn remove(&mut self, ssrc: u32, now: Instant) {
        if let Some(mut st) = self.streams.remove(&ssrc) {
            // End it as if packets had stopped long ago.
            st.seg
                .handle_timeout(now + self.cfg.segmenter.hangover + Duration::from_secs(1));
            Self::collect(ssrc, &mut st.seg, &mut self.out);
        }
    }

    /// The earliest segmenter timeout.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.streams
            .values()
            .filter_map(|s| s.seg.poll_timeout())
            .min()
    }

    /// Ends utterances whose speakers went quiet (packets stopped).
    pub fn handle_timeout(&mut self, now: Instant) {
        for (ssrc, st) in &mut self.streams {
            st.seg.handle_timeout(now);
            Self::collect(*ssrc, &mut st.seg, &mut self.out);
        }
    }

    /// The next thing heard.
    pub fn poll_output(&mut self) -> Option<Heard> {
        self.out.pop_front()
    }
}
