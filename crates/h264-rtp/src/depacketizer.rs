//! RTP payloads (packetization-mode 1) to Annex-B access units.

use rtp::{Depacketizer, DepacketizerCounts, FrameAssembler};

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

/// Assembles RTP payloads into Annex-B access units (RFC 6184 mode 1):
/// [`rtp::Depacketizer`] over [`H264Assembler`].
///
/// Feed packets in sequence order with [`push`](rtp::Depacketizer::push),
/// then drain [`poll`](rtp::Depacketizer::poll) until `None` (one push can
/// complete up to two access units: the previous one cut short by a new
/// timestamp, and the new one if it ends on a marker). Drain even when
/// `push` returned an error.
pub type H264Depacketizer = Depacketizer<H264Assembler>;

/// The H264 half of an [`H264Depacketizer`]: one access unit's payloads
/// (single NAL, STAP-A, FU-A) into Annex-B.
#[derive(Debug)]
pub struct H264Assembler {
    config: DepacketizerConfig,
    data: Vec<u8>,
    nal_types: Vec<NalType>,
    damage: Damage,
    fu: Fu,
    /// The current access unit blew the size limit: ignore the rest of it.
    overflowed: bool,
}

impl FrameAssembler for H264Assembler {
    type Config = DepacketizerConfig;
    type Frame = AccessUnit;
    type Error = H264Error;
    type Stats = DepacketizerStats;

    fn new(config: DepacketizerConfig) -> Self {
        H264Assembler {
            config,
            data: Vec::new(),
            nal_types: Vec::new(),
            damage: Damage::default(),
            fu: Fu::None,
            overflowed: false,
        }
    }

    fn start(&mut self, _timestamp: u32, spare: &mut Vec<AccessUnit>) {
        self.overflowed = false;
        self.fu = Fu::None;
        if self.data.capacity() == 0
            && let Some(au) = spare.pop()
        {
            self.data = au.data;
            self.nal_types = au.nal_types;
            self.damage.dropped_nals = au.damage.dropped_nals;
        }
        self.data.clear();
        self.nal_types.clear();
        self.damage.clear();
    }

    fn gap(&mut self, lost: u16, jump: bool) {
        self.damage.lost_packets += u32::from(lost);
        self.damage.sequence_jump |= jump;
        self.drop_fragmented();
    }

    fn payload(&mut self, payload: &[u8]) -> Result<(), H264Error> {
        if self.overflowed {
            return Ok(());
        }
        self.handle(payload)
    }

    fn malformed(&mut self) {
        self.damage.malformed_packets += 1;
        self.drop_fragmented();
    }

    fn finish(&mut self, timestamp: u32, missing_marker: bool) -> AccessUnit {
        self.damage.missing_marker |= missing_marker;
        self.drop_fragmented();
        self.fu = Fu::None;
        let damage = std::mem::take(&mut self.damage);
        let nal_types = std::mem::take(&mut self.nal_types);
        AccessUnit {
            data: std::mem::take(&mut self.data),
            timestamp,
            is_keyframe: nal_types.contains(&NalType::IDR),
            has_sps: nal_types.contains(&NalType::SPS),
            has_pps: nal_types.contains(&NalType::PPS),
            damaged: damage.is_damaged(),
            damage,
            nal_types,
        }
    }

    fn is_damaged(au: &AccessUnit) -> bool {
        au.damaged
    }

    fn reset(&mut self) {
        self.data.clear();
        self.nal_types.clear();
        self.damage.clear();
        self.fu = Fu::None;
        self.overflowed = false;
    }

    fn stats(counts: &DepacketizerCounts) -> DepacketizerStats {
        DepacketizerStats {
            packets: counts.packets,
            duplicates: counts.seq.duplicates,
            late: counts.seq.late,
            lost: counts.seq.lost,
            malformed: counts.malformed,
            access_units: counts.frames,
            damaged_access_units: counts.damaged_frames,
        }
    }
}

impl H264Assembler {
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
