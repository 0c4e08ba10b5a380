//! The recorder of what clients say (in practice the agent's replies):
//! transport- and DAVE-decrypted Opus from the core, decoded per SSRC to
//! 48 kHz mono and cut into utterances. Sans-IO: events and the time in,
//! finished [`Recording`]s out; the shell runs it on its own thread so
//! decoding never delays the server task.
//!
//! An utterance ends at the first Opus silence frame (`F8 FF FE`, the tail
//! Discord clients send when they stop), at a gap of more than
//! [`GAP_END`] without packets, at op 5 `speaking: 0`, or after
//! [`MAX_UTTERANCE`] (a new one starts). Silence frames never start one.
//! Lost packets inside an utterance (an RTP timestamp jump) are filled by
//! libopus's packet-loss concealment, so durations follow the sender's
//! clock. Late or repeated packets (timestamp not after the last) are
//! dropped and counted.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::Serialize;
use sim_content::{OPUS_SILENCE_FRAME, OPUS_TIMESTAMP_STEP, OpusMonoDecoder};

use crate::config::RoomId;

/// Silence longer than this ends an utterance.
pub const GAP_END: Duration = Duration::from_millis(300);
/// Longest single utterance; longer speech is cut into several.
pub const MAX_UTTERANCE: Duration = Duration::from_secs(60);
/// Total audio kept over all recordings (10 minutes); the oldest
/// recordings are dropped beyond it.
pub const MAX_TOTAL_SECONDS: u64 = 600;
/// Sample rate of recordings.
pub const RECORDING_RATE: u32 = 48_000;

/// One audio packet of a client, after transport (and DAVE) decryption.
#[derive(Debug, Clone)]
pub(crate) struct AudioIn {
    pub room: RoomId,
    pub user_id: u64,
    pub ssrc: u32,
    pub timestamp: u32,
    /// The Opus frame (DAVE-decrypted when `dave`).
    pub payload: Vec<u8>,
    /// The frame was DAVE-encrypted and decrypted.
    pub dave: bool,
    pub at: Instant,
    pub unix_ms: u64,
}

/// What the core hands the recorder.
#[derive(Debug, Clone)]
pub(crate) enum RecorderEvent {
    Audio(AudioIn),
    /// Op 5 with `speaking: 0` from a client.
    SpeakingOff {
        room: RoomId,
        user_id: u64,
        ssrc: u32,
    },
}

/// Why an utterance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// An Opus silence frame (the sender's five-frame tail).
    SilenceTail,
    /// More than 300 ms without packets.
    Gap,
    /// Op 5 `speaking: 0`.
    SpeakingOff,
    /// The 60 s limit of one utterance.
    MaxLength,
}

/// A finished utterance's description (the admin API's list entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordingInfo {
    /// Increasing id, unique per server.
    pub id: u64,
    /// Room (server id).
    pub room: RoomId,
    /// Who spoke.
    pub user_id: u64,
    /// Their audio SSRC.
    pub ssrc: u32,
    /// Arrival of the first packet, Unix ms.
    pub started_unix_ms: u64,
    /// Arrival of the last packet, Unix ms.
    pub ended_unix_ms: u64,
    /// Decoded audio length (20 ms per packet, concealed losses included).
    pub duration_ms: u64,
    /// Opus packets decoded into it.
    pub packets: u64,
    /// Packets concealed (lost inside the utterance).
    pub concealed_packets: u64,
    /// At least one packet was DAVE-decrypted.
    pub dave: bool,
    /// Why it ended.
    pub end_reason: EndReason,
}

/// A finished utterance: its description and 48 kHz mono samples.
#[derive(Debug, Clone)]
pub(crate) struct Recording {
    pub info: RecordingInfo,
    pub samples: Vec<i16>,
}

/// What the recorder counted (part of the server report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RecorderReport {
    /// Utterances finished since start.
    pub utterances: u64,
    /// Packets decoded.
    pub packets_decoded: u64,
    /// Packets libopus refused (garbage): dropped.
    pub decode_errors: u64,
    /// Packets not after the last one of their SSRC: dropped.
    pub late_packets: u64,
    /// Silence frames received.
    pub silence_frames: u64,
    /// Events dropped because the recorder thread was behind.
    pub queue_full_dropped: u64,
    /// Recordings dropped to keep the total under 10 minutes.
    pub evicted: u64,
    /// Audio kept now, in ms.
    pub stored_ms: u64,
}

/// An utterance being recorded.
struct Open {
    user_id: u64,
    started_unix_ms: u64,
    last_unix_ms: u64,
    last_at: Instant,
    last_ts: u32,
    packets: u64,
    concealed: u64,
    dave: bool,
    samples: Vec<i16>,
}

/// The recorder state machine.
pub(crate) struct Recorder {
    decoders: HashMap<(RoomId, u32), OpusMonoDecoder>,
    open: HashMap<(RoomId, u32), Open>,
    next_id: u64,
    pub stats: RecorderReport,
}

impl Recorder {
    pub(crate) fn new() -> Self {
        Self {
            decoders: HashMap::new(),
            open: HashMap::new(),
            next_id: 1,
            stats: RecorderReport::default(),
        }
    }

    /// Handles one event; returns utterances it finished.
    pub(crate) fn on_event(&mut self, ev: RecorderEvent) -> Vec<Recording> {
        let mut done = Vec::new();
        match ev {
            RecorderEvent::SpeakingOff {
                room,
                user_id,
                ssrc,
            } => {
                // The op 5's SSRC, or anything open of that user.
                let keys: Vec<(RoomId, u32)> = self
                    .open
                    .iter()
                    .filter(|(k, o)| k.0 == room && (k.1 == ssrc || o.user_id == user_id))
                    .map(|(k, _)| *k)
                    .collect();
                for k in keys {
                    self.close(k, EndReason::SpeakingOff, &mut done);
                }
            }
            RecorderEvent::Audio(a) => self.on_audio(a, &mut done),
        }
        done
    }

    fn on_audio(&mut self, a: AudioIn, done: &mut Vec<Recording>) {
        let key = (a.room, a.ssrc);
        if a.payload[..] == OPUS_SILENCE_FRAME {
            self.stats.silence_frames += 1;
            self.close(key, EndReason::SilenceTail, done);
            return;
        }
        // A gap the timer has not closed yet (events first, then poll).
        if self
            .open
            .get(&key)
            .is_some_and(|o| a.at.saturating_duration_since(o.last_at) > GAP_END)
        {
            self.close(key, EndReason::Gap, done);
        }
        if let Some(o) = self.open.get(&key) {
            let delta = a.timestamp.wrapping_sub(o.last_ts) as i32;
            if delta <= 0 {
                self.stats.late_packets += 1;
                return;
            }
        }
        let dec = match self.decoders.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => match OpusMonoDecoder::new() {
                Ok(d) => v.insert(d),
                Err(_) => {
                    self.stats.decode_errors += 1;
                    return;
                }
            },
        };
        let o = self.open.entry(key).or_insert_with(|| Open {
            user_id: a.user_id,
            started_unix_ms: a.unix_ms,
            last_unix_ms: a.unix_ms,
            last_at: a.at,
            last_ts: a.timestamp.wrapping_sub(OPUS_TIMESTAMP_STEP),
            packets: 0,
            concealed: 0,
            dave: false,
            samples: Vec::new(),
        });
        // Lost packets: conceal the timestamp jump (at most the gap limit).
        let jump = a.timestamp.wrapping_sub(o.last_ts) as i32;
        let missing = (jump.max(0) as u32).saturating_sub(OPUS_TIMESTAMP_STEP) as usize;
        let max_fill = (GAP_END.as_millis() as usize) * 48;
        let mut fill = missing.min(max_fill);
        while fill > 0 {
            match dec.conceal(fill) {
                Ok(s) if !s.is_empty() => {
                    fill = fill.saturating_sub(s.len());
                    o.samples.extend_from_slice(s);
                    o.concealed += s.len().div_ceil(OPUS_TIMESTAMP_STEP as usize) as u64;
                }
                _ => break,
            }
        }
        match dec.decode(&a.payload) {
            Ok(s) => {
                o.samples.extend_from_slice(s);
                o.packets += 1;
                o.dave |= a.dave;
                self.stats.packets_decoded += 1;
            }
            Err(_) => self.stats.decode_errors += 1,
        }
        o.last_ts = a.timestamp;
        o.last_at = a.at;
        o.last_unix_ms = a.unix_ms;
        let long = o.samples.len() as u64 >= MAX_UTTERANCE.as_secs() * u64::from(RECORDING_RATE);
        if long {
            self.close(key, EndReason::MaxLength, done);
        }
    }

    /// Closes utterances silent for more than [`GAP_END`] at `now`.
    pub(crate) fn poll(&mut self, now: Instant) -> Vec<Recording> {
        let due: Vec<(RoomId, u32)> = self
            .open
            .iter()
            .filter(|(_, o)| now.saturating_duration_since(o.last_at) > GAP_END)
            .map(|(k, _)| *k)
            .collect();
        let mut done = Vec::new();
        for k in due {
            self.close(k, EndReason::Gap, &mut done);
        }
        done
    }

    /// When [`Recorder::poll`] should next run.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.open
            .values()
            .map(|o| o.last_at + GAP_END + Duration::from_millis(1))
            .min()
    }

    fn close(&mut self, key: (RoomId, u32), reason: EndReason, done: &mut Vec<Recording>) {
        let Some(o) = self.open.remove(&key) else {
            return;
        };
        if o.packets == 0 {
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.stats.utterances += 1;
        done.push(Recording {
            info: RecordingInfo {
                id,
                room: key.0,
                user_id: o.user_id,
                ssrc: key.1,
                started_unix_ms: o.started_unix_ms,
                ended_unix_ms: o.last_unix_ms,
                duration_ms: o.samples.len() as u64 * 1000 / u64::from(RECORDING_RATE),
                packets: o.packets,
                concealed_packets: o.concealed,
                dave: o.dave,
                end_reason: reason,
            },
            samples: o.samples,
        });
    }
}

/// Finished recordings, oldest first, at most [`MAX_TOTAL_SECONDS`] of
/// audio in total.
#[derive(Debug, Default)]
pub(crate) struct RecordingStore {
    items: VecDeque<Recording>,
    total_samples: u64,
}

impl RecordingStore {
    /// Adds a recording, dropping the oldest beyond the cap; returns how
    /// many were dropped.
    pub(crate) fn push(&mut self, r: Recording) -> u64 {
        self.total_samples += r.samples.len() as u64;
        self.items.push_back(r);
        let cap = MAX_TOTAL_SECONDS * u64::from(RECORDING_RATE);
        let mut evicted = 0;
        while self.total_samples > cap && self.items.len() > 1 {
            if let Some(old) = self.items.pop_front() {
                self.total_samples -= old.samples.len() as u64;
                evicted += 1;
            }
        }
        evicted
    }

    pub(crate) fn list(&self) -> Vec<RecordingInfo> {
        self.items.iter().map(|r| r.info.clone()).collect()
    }

    pub(crate) fn wav(&self, id: u64) -> Option<Vec<u8>> {
        self.items
            .iter()
            .find(|r| r.info.id == id)
            .map(|r| sim_content::wav_mono_s16(&r.samples, RECORDING_RATE))
    }

    pub(crate) fn clear(&mut self) -> usize {
        let n = self.items.len();
        self.items.clear();
        self.total_samples = 0;
        n
    }

    pub(crate) fn stored_ms(&self) -> u64 {
        self.total_samples * 1000 / u64::from(RECORDING_RATE)
    }
}

#[cfg(test)]
#[path = "recorder_tests.rs"]
mod tests;
