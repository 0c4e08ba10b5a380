//! RTP payloads (packetization-mode 1) to Annex-B access units.

use std::collections::VecDeque;

use rtp::{SeqNo, SeqStep, SeqTracker};

use crate::access_unit::{AccessUnit, Damage};
use crate::error::H264Error;
use crate::nal::{NalType, START_CODE};

/// Tuning for [`H264Depacketizer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepacketizerConfig {
    /// Largest access unit assembled; bigger ones are dropped (protects
    /// memory against a hostile or broken sender that never sets a marker).
    pub max_access_unit_bytes: usize,
}

impl Default for DepacketizerConfig {
    fn default() -> Self {
        DepacketizerConfig {
            max_access_unit_bytes: 8 << 20,
        }
    }
}

/// Counters over the depacketizer's lifetime.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DepacketizerStats {
    /// Packets pushed.
    pub packets: u64,
    /// Packets with an already-seen sequence number (dropped).
    pub duplicates: u64,
    /// Packets older than the newest one, within the reorder window (dropped).
    pub late: u64,
    /// Packets missing according to sequence numbers.
    pub lost: u64,
    /// Packets rejected with an error.
    pub malformed: u64,
    /// Access units emitted.
    pub access_units: u64,
    /// Access units emitted with `damaged` set.
    pub damaged_access_units: u64,
}

/// State of the fragmented NAL unit being reassembled, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fu {
    None,
    /// Fragments are being appended; the NAL starts at `start` in `data`
    /// (its start code), so dropping it is a truncate.
    Active {
        start: usize,
        nal_type: NalType,
    },
    /// The start fragment was missed: fragments are ignored until the end
    /// fragment or another packet; the NAL is already listed as dropped.
    Orphan {
        nal_type: NalType,
    },
}

/// Assembles RTP payloads into Annex-B access units (RFC 6184 mode 1).
///
/// Feed packets in sequence order with [`push`](Self::push), then drain
/// [`poll`](Self::poll) until `None` (one push can complete up to two access
/// units: the previous one cut short by a new timestamp, and the new one if
/// it ends on a marker). Drain even when `push` returned an error.
#[derive(Debug)]
pub struct H264Depacketizer {
    config: DepacketizerConfig,
    /// An access unit is being assembled.
    active: bool,
    timestamp: u32,
    data: Vec<u8>,
    nal_types: Vec<NalType>,
    damage: Damage,
    fu: Fu,
    /// The current access unit blew the size limit: ignore the rest of it.
    overflowed: bool,
    /// Duplicate, late, lost and jumped packets (`rtp`'s shared rules).
    seq: SeqTracker,
    ready: VecDeque<AccessUnit>,
    /// Buffers handed back through [`recycle`](Self::recycle), reused for the
    /// next access units so the steady state does not allocate.
    spare: Vec<AccessUnit>,
    /// Counters, but for the sequence ones (`duplicates`, `late`, `lost`),
    /// which `seq` keeps.
    stats: DepacketizerStats,
}

impl Default for H264Depacketizer {
    fn default() -> Self {
        Self::new(DepacketizerConfig::default())
    }
}

impl H264Depacketizer {
    /// A depacketizer with the given limits.
    pub fn new(config: DepacketizerConfig) -> Self {
        H264Depacketizer {
            config,
            active: false,
            timestamp: 0,
            data: Vec::new(),
            nal_types: Vec::new(),
            damage: Damage::default(),
            fu: Fu::None,
            overflowed: false,
            seq: SeqTracker::default(),
            ready: VecDeque::with_capacity(2),
            spare: Vec::new(),
            stats: DepacketizerStats::default(),
        }
    }

    /// Processes one RTP packet's payload (padding and header extensions
    /// already removed). On error the packet's data is left out and the
    /// current access unit is marked damaged.
    pub fn push(
        &mut self,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), H264Error> {
        self.stats.packets += 1;
        let (lost, jump) = match self.seq.observe(SeqNo(seq)) {
            SeqStep::Duplicate | SeqStep::Late => return Ok(()),
            SeqStep::InOrder { lost } => (u32::from(lost), false),
            SeqStep::Jump => (0, true),
        };

        if self.active && timestamp != self.timestamp {
            self.damage.missing_marker = true;
            self.finish();
        }
        if !self.active {
            self.start(timestamp);
        }
        if lost > 0 || jump {
            self.damage.lost_packets += lost;
            self.damage.sequence_jump |= jump;
            self.drop_fragmented();
        }
        let result = if self.overflowed {
            Ok(())
        } else {
            self.handle(payload)
        };
        if result.is_err() {
            self.stats.malformed += 1;
            self.damage.malformed_packets += 1;
            self.drop_fragmented();
        }
        if marker {
            self.finish();
        }
        result
    }

    /// The next completed access unit, oldest first.
    pub fn poll(&mut self) -> Option<AccessUnit> {
        self.ready.pop_front()
    }

    /// Emits the access unit in progress (end of stream), marked as missing
    /// its marker. Drain [`poll`](Self::poll) afterwards.
    pub fn flush(&mut self) {
        if self.active {
            self.damage.missing_marker = true;
            self.finish();
        }
    }

    /// Hands an emitted access unit's buffers back for reuse.
    pub fn recycle(&mut self, access_unit: AccessUnit) {
        if self.spare.len() < 4 {
            self.spare.push(access_unit);
        }
    }

    /// Forgets all state (e.g. after an SSRC change); queued output is dropped.
    pub fn reset(&mut self) {
        self.active = false;
        self.data.clear();
        self.nal_types.clear();
        self.damage.clear();
        self.fu = Fu::None;
        self.overflowed = false;
        self.seq.restart();
        self.ready.clear();
    }

    /// Lifetime counters.
    pub fn stats(&self) -> DepacketizerStats {
        let seq = self.seq.counts();
        DepacketizerStats {
            duplicates: seq.duplicates,
            late: seq.late,
            lost: seq.lost,
            ..self.stats
        }
    }

    fn start(&mut self, timestamp: u32) {
        self.active = true;
        self.timestamp = timestamp;
        self.overflowed = false;
        self.fu = Fu::None;
        if self.data.capacity() == 0
            && let Some(au) = self.spare.pop()
        {
            self.data = au.data;
            self.nal_types = au.nal_types;
            self.damage.dropped_nals = au.damage.dropped_nals;
        }
        self.data.clear();
        self.nal_types.clear();
        self.damage.clear();
    }

    fn finish(&mut self) {
        self.drop_fragmented();
        self.fu = Fu::None;
        let damage = std::mem::take(&mut self.damage);
        let nal_types = std::mem::take(&mut self.nal_types);
        let au = AccessUnit {
            data: std::mem::take(&mut self.data),
            timestamp: self.timestamp,
            is_keyframe: nal_types.contains(&NalType::IDR),
            has_sps: nal_types.contains(&NalType::SPS),
            has_pps: nal_types.contains(&NalType::PPS),
            damaged: damage.is_damaged(),
            damage,
            nal_types,
        };
        self.stats.access_units += 1;
        self.stats.damaged_access_units += u64::from(au.damaged);
        self.ready.push_back(au);
        self.active = false;
    }

    /// Abandons a partly reassembled FU-A NAL unit (its fragments straddle
    /// a gap, or it never got its end fragment).
    fn drop_fragmented(&mut self) {
        match self.fu {
            Fu::Active { start, nal_type } => {
                self.data.truncate(start);
                self.damage.dropped_nals.push(nal_type);
                // Later fragments of the same NAL are ignored without
                // listing it twice.
                self.fu = Fu::Orphan { nal_type };
            }
            Fu::Orphan { .. } | Fu::None => {}
        }
    }

    /// Reserves room for `extra` bytes, enforcing the size limit.
    fn room(&mut self, extra: usize) -> Result<(), H264Error> {
        if self.data.len().saturating_add(extra) > self.config.max_access_unit_bytes {
            self.data.clear();
            self.nal_types.clear();
            self.fu = Fu::None;
            self.overflowed = true;
            self.damage.oversized = true;
            return Err(H264Error::AccessUnitTooLarge {
                limit: self.config.max_access_unit_bytes,
            });
        }
        Ok(())
    }

    fn append_nal(&mut self, nal: &[u8]) -> Result<(), H264Error> {
        let Some(&header) = nal.first() else {
            return Err(H264Error::MalformedStapA {
                reason: "empty NAL unit",
            });
        };
        self.room(START_CODE.len() + nal.len())?;
        self.data.extend_from_slice(&START_CODE);
        self.data.extend_from_slice(nal);
        self.nal_types.push(NalType::from_header(header));
        Ok(())
    }

    fn handle(&mut self, payload: &[u8]) -> Result<(), H264Error> {
        let Some(&header) = payload.first() else {
            return Err(H264Error::EmptyPayload);
        };
        match header & 0x1F {
            1..=23 => {
                self.drop_fragmented();
                self.fu = Fu::None;
                self.append_nal(payload)
            }
            24 => {
                self.drop_fragmented();
                self.fu = Fu::None;
                self.stap_a(payload)
            }
            28 => self.fu_a(header, payload),
            t @ (25..=27 | 29) => Err(H264Error::UnsupportedPacketType { nal_type: t }),
            t => Err(H264Error::ReservedNalType { nal_type: t }),
        }
    }

    fn stap_a(&mut self, payload: &[u8]) -> Result<(), H264Error> {
        // Validate the whole packet first so a bad one adds nothing.
        let mut off = 1;
        let mut count = 0;
        while off < payload.len() {
            let size = match payload.get(off..off + 2) {
                Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
                _ => {
                    return Err(H264Error::MalformedStapA {
                        reason: "truncated size field",
                    });
                }
            };
            if size == 0 {
                return Err(H264Error::MalformedStapA {
                    reason: "zero-length NAL unit",
                });
            }
            off += 2 + size;
            if off > payload.len() {
                return Err(H264Error::MalformedStapA {
                    reason: "NAL unit overruns the packet",
                });
            }
            count += 1;
        }
        if count == 0 {
            return Err(H264Error::MalformedStapA {
                reason: "no NAL unit",
            });
        }
        let mut off = 1;
        while let Some(&[hi, lo]) = payload.get(off..off + 2) {
            let size = usize::from(u16::from_be_bytes([hi, lo]));
            let nal = payload.get(off + 2..off + 2 + size).unwrap_or_default();
            self.append_nal(nal)?;
            off += 2 + size;
        }
        Ok(())
    }

    fn fu_a(&mut self, indicator: u8, payload: &[u8]) -> Result<(), H264Error> {
        let Some(&fu_header) = payload.get(1) else {
            return Err(H264Error::MalformedFuA {
                reason: "missing FU header",
            });
        };
        let fragment = payload.get(2..).unwrap_or_default();
        let (is_start, is_end) = (fu_header & 0x80 != 0, fu_header & 0x40 != 0);
        let nal_type = NalType::from_header(fu_header);
        if is_start && is_end {
            return Err(H264Error::MalformedFuA {
                reason: "start and end bits both set",
            });
        }
        if is_start {
            self.drop_fragmented();
            self.room(START_CODE.len() + 1 + fragment.len())?;
            let start = self.data.len();
            self.data.extend_from_slice(&START_CODE);
            self.data.push((indicator & 0xE0) | nal_type.get());
            self.data.extend_from_slice(fragment);
            self.fu = Fu::Active { start, nal_type };
            return Ok(());
        }
        match self.fu {
            Fu::Active { nal_type: t, .. } if t != nal_type => Err(H264Error::MalformedFuA {
                reason: "fragment type differs from its start",
            }),
            Fu::Active { .. } => {
                self.room(fragment.len())?;
                self.data.extend_from_slice(fragment);
                if is_end {
                    self.nal_types.push(nal_type);
                    self.fu = Fu::None;
                }
                Ok(())
            }
            Fu::Orphan { nal_type: t } if t == nal_type => {
                if is_end {
                    self.fu = Fu::None;
                }
                Ok(())
            }
            Fu::Orphan { .. } | Fu::None => {
                // Middle or end fragment without its start: the NAL is lost.
                self.damage.dropped_nals.push(nal_type);
                self.fu = if is_end {
                    Fu::None
                } else {
                    Fu::Orphan { nal_type }
                };
                Ok(())
            }
        }
    }
}
