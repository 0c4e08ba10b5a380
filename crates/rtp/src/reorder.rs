//! A bounded, sans-IO reorder buffer with NACK scheduling.
//!
//! Packets go in with [`ReorderBuffer::insert`] in arrival order and come
//! out of [`ReorderBuffer::pop_ready`] strictly in sequence order. A hole
//! holds back everything behind it until the missing packet arrives (for
//! example as an RTX retransmission) or until it has been missing for
//! [`ReorderConfig::max_wait`]; then it is given up and reported as a
//! [`Released::Gap`], and a late copy is answered with
//! [`InsertOutcome::TooOld`]. Meanwhile [`ReorderBuffer::poll_nack`] lists
//! the holes to NACK, and [`ReorderBuffer::poll_timeout`] tells the caller
//! when to come back.
//!
//! Time only moves through the `now` arguments of `insert`,
//! `handle_timeout` and `poll_nack`; `pop_ready` uses the latest of them.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::SeqNo;

/// Reorder buffer tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReorderConfig {
    /// Sequence-number window held at once (default 512). A packet further
    /// ahead than this forces the oldest entries out.
    pub capacity: usize,
    /// Delay before a hole is first NACKed (default 5 ms): plain reordering
    /// usually resolves itself within a few milliseconds.
    pub nack_delay: Duration,
    /// Delay between NACK retries for the same hole (default 50 ms, about
    /// one round trip to a Discord media server).
    pub nack_interval: Duration,
    /// NACKs sent per hole at most (default 3).
    pub max_nack_attempts: u8,
    /// How long a hole may hold back later packets before it is given up
    /// (default 250 ms).
    pub max_wait: Duration,
}

impl Default for ReorderConfig {
    fn default() -> Self {
        ReorderConfig {
            capacity: 512,
            nack_delay: Duration::from_millis(5),
            nack_interval: Duration::from_millis(50),
            max_nack_attempts: 3,
            max_wait: Duration::from_millis(250),
        }
    }
}

/// What happened to an inserted packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored.
    Accepted,
    /// Stored, but the window was full: the oldest entries (packets and
    /// holes) were forcibly released and wait in `pop_ready`.
    AcceptedWithOverflow,
    /// A copy of this sequence number is already stored; the packet was
    /// dropped.
    Duplicate,
    /// The sequence number was already released or given up; dropped.
    TooOld,
}

/// An item released in sequence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released<T> {
    /// The next packet.
    Packet {
        /// Its sequence number.
        seq: SeqNo,
        /// The stored packet.
        packet: T,
    },
    /// Packets that were given up (or pushed out by overflow).
    Gap {
        /// First missing sequence number.
        first: SeqNo,
        /// How many consecutive numbers are missing.
        count: u32,
    },
}

#[derive(Debug, Clone)]
enum Slot<T> {
    Empty,
    Missing {
        /// When the hole appeared; it is given up at `since + max_wait`.
        since: Instant,
        attempts: u8,
        next_nack: Instant,
    },
    Packet(T),
}

/// See the module documentation. `T` is whatever the caller wants back:
/// an owned buffer, an index into a pool, a parsed view.
#[derive(Debug)]
pub struct ReorderBuffer<T> {
    config: ReorderConfig,
    /// Ring of `capacity` slots indexed by extended sequence number.
    slots: Vec<Slot<T>>,
    /// Extended sequence number of the next item to release; `None` until
    /// the first packet.
    next: Option<u64>,
    /// Highest extended sequence number stored (≥ `next − 1`).
    highest: u64,
    /// Items already released by overflow, waiting for `pop_ready`.
    forced: VecDeque<Released<T>>,
    /// Whether anything has been released; before that, a packet older
    /// than the first one moves the start back instead of being too old.
    started: bool,
    /// Latest time seen.
    now: Option<Instant>,
    /// Number of `Missing` slots, to skip scans when there are none.
    missing: usize,
}

impl<T> ReorderBuffer<T> {
    /// An empty buffer. A capacity of 0 is treated as 1 and durations are
    /// capped at one hour.
    pub fn new(config: ReorderConfig) -> Self {
        let mut config = config;
        config.capacity = config.capacity.max(1);
        // Clamp durations so `Instant + Duration` can never overflow.
        let hour = Duration::from_secs(3600);
        config.nack_delay = config.nack_delay.min(hour);
        config.nack_interval = config.nack_interval.min(hour);
        config.max_wait = config.max_wait.min(hour);
        let mut slots = Vec::with_capacity(config.capacity);
        slots.resize_with(config.capacity, || Slot::Empty);
        ReorderBuffer {
            config,
            slots,
            next: None,
            highest: 0,
            forced: VecDeque::with_capacity(config.capacity + 1),
            started: false,
            now: None,
            missing: 0,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ReorderConfig {
        &self.config
    }

    fn idx(&self, ext: u64) -> usize {
        (ext % self.slots.len() as u64) as usize
    }

    fn advance_time(&mut self, now: Instant) {
        if self.now.is_none_or(|t| now > t) {
            self.now = Some(now);
        }
    }

    /// Advances time (for give-up decisions) without inserting.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance_time(now);
    }

    /// Extends a 16-bit number relative to the newest one stored.
    fn extend(&self, seq: SeqNo) -> u64 {
        let d = i64::from(seq.diff(SeqNo(self.highest as u16)));
        (self.highest as i64 + d).max(0) as u64
    }

    fn set_missing(&mut self, ext: u64, now: Instant) {
        let i = self.idx(ext);
        self.slots[i] = Slot::Missing {
            since: now,
            attempts: 0,
            next_nack: now + self.config.nack_delay,
        };
        self.missing += 1;
    }

    /// Takes slot `ext` out of the ring into the forced queue.
    fn force_out(&mut self, ext: u64) {
        let i = self.idx(ext);
        match std::mem::replace(&mut self.slots[i], Slot::Empty) {
            Slot::Packet(packet) => self.forced.push_back(Released::Packet {
                seq: SeqNo(ext as u16),
                packet,
            }),
            Slot::Missing { .. } => {
                self.missing -= 1;
                self.push_forced_gap(ext, 1);
            }
            Slot::Empty => self.push_forced_gap(ext, 1),
        }
    }

    fn push_forced_gap(&mut self, first_ext: u64, count: u32) {
        if let Some(Released::Gap { first, count: c }) = self.forced.back_mut()
            && first.wrapping_add(*c as u16) == SeqNo(first_ext as u16)
            && let Some(sum) = c.checked_add(count)
        {
            *c = sum;
            return;
        }
        self.forced.push_back(Released::Gap {
            first: SeqNo(first_ext as u16),
            count,
        });
    }

    /// Stores `packet` with sequence number `seq` received at `now`.
    pub fn insert(&mut self, now: Instant, seq: SeqNo, packet: T) -> InsertOutcome {
        self.advance_time(now);
        let cap = self.slots.len() as u64;
        let Some(next) = self.next else {
            // First packet: place it in cycle 1 so earlier ones stay positive.
            let ext = (1 << 16) + u64::from(seq.0);
            self.next = Some(ext);
            self.highest = ext;
            let i = self.idx(ext);
            self.slots[i] = Slot::Packet(packet);
            return InsertOutcome::Accepted;
        };
        let ext = self.extend(seq);
        if ext < next {
            if self.started || self.highest - ext >= cap {
                return InsertOutcome::TooOld;
            }
            // Nothing released yet: move the start back to this packet.
            for e in ext + 1..next {
                self.set_missing(e, now);
            }
            self.next = Some(ext);
            let i = self.idx(ext);
            self.slots[i] = Slot::Packet(packet);
            return InsertOutcome::Accepted;
        }
        if ext <= self.highest {
            let i = self.idx(ext);
            return match self.slots[i] {
                Slot::Packet(_) => InsertOutcome::Duplicate,
                Slot::Missing { .. } => {
                    self.missing -= 1;
                    self.slots[i] = Slot::Packet(packet);
                    InsertOutcome::Accepted
                }
                // Released slots are below `next`; an Empty slot inside the
                // window cannot exist, but storing is the safe answer.
                Slot::Empty => {
                    self.slots[i] = Slot::Packet(packet);
                    InsertOutcome::Accepted
                }
            };
        }
        let mut outcome = InsertOutcome::Accepted;
        let mut next = next;
        if ext - next >= cap {
            let new_next = ext + 1 - cap;
            let stored_end = (self.highest + 1).min(new_next);
            for e in next..stored_end {
                self.force_out(e);
            }
            if new_next > stored_end {
                // Numbers never seen, skipped by a jump.
                let skipped = (new_next - stored_end).min(u64::from(u32::MAX)) as u32;
                self.push_forced_gap(stored_end, skipped);
            }
            next = new_next;
            self.next = Some(next);
            self.started = true;
            outcome = InsertOutcome::AcceptedWithOverflow;
        }
        for e in (self.highest + 1).max(next)..ext {
            self.set_missing(e, now);
        }
        self.highest = ext;
        let i = self.idx(ext);
        self.slots[i] = Slot::Packet(packet);
        outcome
    }

    /// Releases the next item in sequence order, if one is ready: a stored
    /// packet at the head, or a run of holes at the head that have waited
    /// [`ReorderConfig::max_wait`].
    pub fn pop_ready(&mut self) -> Option<Released<T>> {
        if let Some(r) = self.forced.pop_front() {
            return Some(r);
        }
        let head = self.next?;
        if head > self.highest {
            return None;
        }
        let i = self.idx(head);
        match &self.slots[i] {
            Slot::Packet(_) => {
                let Slot::Packet(packet) = std::mem::replace(&mut self.slots[i], Slot::Empty)
                else {
                    return None;
                };
                self.next = Some(head + 1);
                self.started = true;
                Some(Released::Packet {
                    seq: SeqNo(head as u16),
                    packet,
                })
            }
            Slot::Missing { .. } => {
                let now = self.now?;
                let mut e = head;
                while e <= self.highest {
                    let j = self.idx(e);
                    match self.slots[j] {
                        Slot::Missing { since, .. } if since + self.config.max_wait <= now => {
                            self.slots[j] = Slot::Empty;
                            self.missing -= 1;
                            e += 1;
                        }
                        _ => break,
                    }
                }
                if e == head {
                    return None;
                }
                self.next = Some(e);
                self.started = true;
                Some(Released::Gap {
                    first: SeqNo(head as u16),
                    count: (e - head) as u32,
                })
            }
            Slot::Empty => None,
        }
    }

    /// Appends to `out` the holes due for a NACK at `now`, marks them as
    /// requested, and returns how many were added (allocation-free when
    /// `out` has room).
    pub fn poll_nack_into(&mut self, now: Instant, out: &mut Vec<SeqNo>) -> usize {
        self.advance_time(now);
        let (Some(head), true) = (self.next, self.missing > 0) else {
            return 0;
        };
        let before = out.len();
        let cfg = self.config;
        for e in head..=self.highest {
            let i = self.idx(e);
            if let Slot::Missing {
                since,
                attempts,
                next_nack,
            } = &mut self.slots[i]
                && *attempts < cfg.max_nack_attempts
                && *next_nack <= now
                && *since + cfg.max_wait > now
            {
                *attempts += 1;
                *next_nack = now + cfg.nack_interval;
                out.push(SeqNo(e as u16));
            }
        }
        out.len() - before
    }

    /// The holes due for a NACK at `now` (see [`Self::poll_nack_into`]), or
    /// `None` when there are none.
    pub fn poll_nack(&mut self, now: Instant) -> Option<Vec<SeqNo>> {
        let mut v = Vec::new();
        (self.poll_nack_into(now, &mut v) > 0).then_some(v)
    }

    /// The next instant at which a NACK becomes due or a hole is given up;
    /// `None` when nothing is waiting on time.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let head = self.next?;
        if self.missing == 0 {
            return None;
        }
        let cfg = &self.config;
        let mut best: Option<Instant> = None;
        for e in head..=self.highest {
            if let Slot::Missing {
                since,
                attempts,
                next_nack,
            } = &self.slots[self.idx(e)]
            {
                let give_up = *since + cfg.max_wait;
                let mut t = give_up;
                if *attempts < cfg.max_nack_attempts && *next_nack < give_up {
                    t = *next_nack;
                }
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        }
        best
    }

    /// Number of packets stored (not counting holes or forced items).
    pub fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s, Slot::Packet(_)))
            .count()
    }

    /// True when nothing is stored or waiting to be popped.
    pub fn is_empty(&self) -> bool {
        self.forced.is_empty() && self.len() == 0
    }

    /// Drops everything and forgets the sequence position (e.g. on an SSRC
    /// change).
    pub fn reset(&mut self) {
        for s in &mut self.slots {
            *s = Slot::Empty;
        }
        self.forced.clear();
        self.next = None;
        self.highest = 0;
        self.started = false;
        self.missing = 0;
    }
}
