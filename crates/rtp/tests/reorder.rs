//! Reorder buffer behaviour under virtual time.
// Tests need one arbitrary base instant; everything after it is virtual time.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use rtp::{InsertOutcome, Released, ReorderBuffer, ReorderConfig, SeqNo};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn drain(b: &mut ReorderBuffer<u16>) -> Vec<Released<u16>> {
    std::iter::from_fn(|| b.pop_ready()).collect()
}

fn pkt(s: u16) -> Released<u16> {
    Released::Packet {
        seq: SeqNo(s),
        packet: s,
    }
}

fn ins(b: &mut ReorderBuffer<u16>, now: Instant, s: u16) -> InsertOutcome {
    b.insert(now, SeqNo(s), s)
}

#[test]
fn in_order_passes_straight_through() {
    let t = Instant::now();
    let mut b = ReorderBuffer::new(ReorderConfig::default());
    for s in 10..20 {
        assert_eq!(ins(&mut b, t, s), InsertOutcome::Accepted);
        assert_eq!(drain(&mut b), vec![pkt(s)]);
    }
    assert!(b.is_empty());
    assert_eq!(b.poll_timeout(), None);
    assert_eq!(b.poll_nack(t + ms(100)), None);
}

#[test]
fn reordered_packets_come_out_sorted() {
    let t = Instant::now();
    let mut b = ReorderBuffer::new(ReorderConfig::default());
    ins(&mut b, t, 1);
    assert_eq!(drain(&mut b), vec![pkt(1)]);
    ins(&mut b, t, 4);
    ins(&mut b, t, 3);
    assert_eq!(drain(&mut b), vec![], "2 is still missing");
    assert_eq!(ins(&mut b, t + ms(1), 2), InsertOutcome::Accepted);
    assert_eq!(drain(&mut b), vec![pkt(2), pkt(3), pkt(4)]);
}

#[test]
fn duplicates_and_too_old() {
    let t = Instant::now();
    let mut b = ReorderBuffer::new(ReorderConfig::default());
    ins(&mut b, t, 1);
    ins(&mut b, t, 3);
    assert_eq!(ins(&mut b, t, 3), InsertOutcome::Duplicate);
    assert_eq!(drain(&mut b), vec![pkt(1)]);
    assert_eq!(ins(&mut b, t, 1), InsertOutcome::TooOld);
}

#[test]
fn loss_is_given_up_after_max_wait_and_late_copy_is_too_old() {
    let t = Instant::now();
    let cfg = ReorderConfig::default();
    let mut b = ReorderBuffer::new(cfg);
    ins(&mut b, t, 100);
    ins(&mut b, t, 103);
    assert_eq!(drain(&mut b), vec![pkt(100)]);
    // Give-up deadline of the holes 101 and 102 is t + 250 ms; the first
    // NACK is due earlier, at t + 5 ms.
    assert_eq!(b.poll_timeout(), Some(t + cfg.nack_delay));
    b.handle_timeout(t + ms(249));
    assert_eq!(drain(&mut b), vec![]);
    b.handle_timeout(t + ms(250));
    assert_eq!(
        drain(&mut b),
        vec![
            Released::Gap {
                first: SeqNo(101),
                count: 2
            },
            pkt(103)
        ]
    );
    assert_eq!(ins(&mut b, t + ms(260), 102), InsertOutcome::TooOld);
    assert_eq!(b.poll_timeout(), None);
}

#[test]
fn nack_timing_retries_and_attempt_limit() {
    let t = Instant::now();
    let cfg = ReorderConfig {
        max_wait: ms(1000),
        ..ReorderConfig::default()
    };
    let mut b = ReorderBuffer::new(cfg);
    ins(&mut b, t, 1);
    ins(&mut b, t, 4);
    assert_eq!(b.poll_nack(t + ms(4)), None, "before nack_delay");
    assert_eq!(b.poll_nack(t + ms(5)), Some(vec![SeqNo(2), SeqNo(3)]));
    assert_eq!(b.poll_nack(t + ms(6)), None, "interval not elapsed");
    assert_eq!(b.poll_timeout(), Some(t + ms(55)));
    // 3 arrives; only 2 is retried.
    ins(&mut b, t + ms(20), 3);
    assert_eq!(b.poll_nack(t + ms(55)), Some(vec![SeqNo(2)]));
    assert_eq!(b.poll_nack(t + ms(105)), Some(vec![SeqNo(2)]));
    // Three attempts made: no more NACKs, only the give-up deadline left.
    assert_eq!(b.poll_nack(t + ms(500)), None);
    assert_eq!(b.poll_timeout(), Some(t + ms(1000)));
    let mut out = Vec::new();
    assert_eq!(b.poll_nack_into(t + ms(900), &mut out), 0);
}

#[test]
fn rtx_recovered_packet_fills_the_hole() {
    let t = Instant::now();
    let mut b = ReorderBuffer::new(ReorderConfig::default());
    for s in [7, 8, 10, 11] {
        ins(&mut b, t, s);
    }
    assert_eq!(drain(&mut b), vec![pkt(7), pkt(8)]);
    assert_eq!(b.poll_nack(t + ms(5)), Some(vec![SeqNo(9)]));
    // The retransmission arrives (its OSN, after RTX unwrap, is 9).
    assert_eq!(ins(&mut b, t + ms(40), 9), InsertOutcome::Accepted);
    assert_eq!(drain(&mut b), vec![pkt(9), pkt(10), pkt(11)]);
    assert_eq!(b.poll_timeout(), None);
}

#[test]
fn sequence_wrap() {
    let t = Instant::now();
    let mut b = ReorderBuffer::new(ReorderConfig::default());
    ins(&mut b, t, 65534);
    ins(&mut b, t, 0);
    ins(&mut b, t, 65535);
    ins(&mut b, t, 2);
    assert_eq!(b.poll_nack(t + ms(5)), Some(vec![SeqNo(1)]));
    ins(&mut b, t, 1);
    assert_eq!(
        drain(&mut b),
        vec![pkt(65534), pkt(65535), pkt(0), pkt(1), pkt(2)]
    );
}

#[test]
fn overflow_forces_oldest_out() {
    let t = Instant::now();
    let cfg = ReorderConfig {
        capacity: 4,
        ..ReorderConfig::default()
    };
    let mut b = ReorderBuffer::new(cfg);
    ins(&mut b, t, 1);
    ins(&mut b, t, 3);
    ins(&mut b, t, 4);
    // 6 needs the window 3..=6: 1 and the hole 2 are pushed out.
    assert_eq!(ins(&mut b, t, 6), InsertOutcome::AcceptedWithOverflow);
    assert_eq!(
        drain(&mut b),
        vec![
            pkt(1),
            Released::Gap {
                first: SeqNo(2),
                count: 1
            },
            pkt(3),
            pkt(4)
        ]
    );
    // A big jump: everything stored is released, the never-seen range is
    // one gap, and the new packet becomes the head after the window.
    assert_eq!(ins(&mut b, t, 1000), InsertOutcome::AcceptedWithOverflow);
    assert_eq!(
        drain(&mut b),
        vec![
            Released::Gap {
                first: SeqNo(5),
                count: 1
            },
            pkt(6),
            Released::Gap {
                first: SeqNo(7),
                count: 990
            },
        ]
    );
    assert_eq!(ins(&mut b, t, 999), InsertOutcome::Accepted);
    assert_eq!(ins(&mut b, t, 996), InsertOutcome::TooOld);
    assert_eq!(ins(&mut b, t, 997), InsertOutcome::Accepted);
    assert_eq!(ins(&mut b, t, 998), InsertOutcome::Accepted);
    assert_eq!(drain(&mut b), vec![pkt(997), pkt(998), pkt(999), pkt(1000)]);
}

#[test]
fn packet_before_the_first_is_accepted_until_something_is_released() {
    let t = Instant::now();
    let mut b = ReorderBuffer::new(ReorderConfig::default());
    ins(&mut b, t, 5);
    assert_eq!(ins(&mut b, t, 3), InsertOutcome::Accepted);
    assert_eq!(drain(&mut b), vec![pkt(3)]);
    ins(&mut b, t, 4);
    assert_eq!(drain(&mut b), vec![pkt(4), pkt(5)]);
    assert_eq!(ins(&mut b, t, 2), InsertOutcome::TooOld);
}

#[test]
fn reset_forgets_position() {
    let t = Instant::now();
    let mut b = ReorderBuffer::new(ReorderConfig::default());
    ins(&mut b, t, 5);
    ins(&mut b, t, 7);
    assert_eq!(b.len(), 2);
    b.reset();
    assert!(b.is_empty());
    ins(&mut b, t, 40000);
    assert_eq!(drain(&mut b), vec![pkt(40000)]);
}
