//! RTCP builders. Each appends one packet to a caller-owned `Vec` (so a
//! compound packet is several calls on the same buffer) and returns the
//! number of bytes appended. Nothing else allocates.

use super::{FirEntry, PT_PSFB, PT_RR, PT_RTPFB, PT_SR, ReportBlock, SenderInfo};
use crate::{RtpError, SeqNo, Ssrc};

/// Writes the 4-byte common header; `words` is the packet length in 32-bit
/// words *including* the header.
fn header(out: &mut Vec<u8>, count: u8, pt: u8, words: usize) -> Result<(), RtpError> {
    let len = u16::try_from(words - 1).map_err(|_| RtpError::TooManyItems(words))?;
    out.push(0x80 | (count & 0x1f));
    out.push(pt);
    out.extend_from_slice(&len.to_be_bytes());
    Ok(())
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_block(out: &mut Vec<u8>, b: &ReportBlock) {
    put32(out, b.ssrc.0);
    // 24-bit signed cumulative loss, clamped as RFC 3550 §6.4.1 requires.
    let lost = b.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32 & 0x00ff_ffff;
    put32(out, (u32::from(b.fraction_lost) << 24) | lost);
    put32(out, b.extended_highest_seq);
    put32(out, b.jitter);
    put32(out, b.last_sr);
    put32(out, b.delay_since_last_sr);
}

fn check_blocks(blocks: &[ReportBlock]) -> Result<u8, RtpError> {
    if blocks.len() > 31 {
        return Err(RtpError::TooManyItems(blocks.len()));
    }
    Ok(blocks.len() as u8)
}

/// Appends a receiver report (RR, PT 201) with up to 31 report blocks.
/// 8 + 24·n bytes.
pub fn write_rr(
    out: &mut Vec<u8>,
    sender: Ssrc,
    blocks: &[ReportBlock],
) -> Result<usize, RtpError> {
    let rc = check_blocks(blocks)?;
    header(out, rc, PT_RR, 2 + 6 * blocks.len())?;
    put32(out, sender.0);
    for b in blocks {
        put_block(out, b);
    }
    Ok(8 + 24 * blocks.len())
}

/// Appends a sender report (SR, PT 200) with up to 31 report blocks.
/// 28 + 24·n bytes.
pub fn write_sr(
    out: &mut Vec<u8>,
    sender: Ssrc,
    info: &SenderInfo,
    blocks: &[ReportBlock],
) -> Result<usize, RtpError> {
    let rc = check_blocks(blocks)?;
    header(out, rc, PT_SR, 7 + 6 * blocks.len())?;
    put32(out, sender.0);
    put32(out, (info.ntp_timestamp >> 32) as u32);
    put32(out, info.ntp_timestamp as u32);
    put32(out, info.rtp_timestamp);
    put32(out, info.packet_count);
    put32(out, info.octet_count);
    for b in blocks {
        put_block(out, b);
    }
    Ok(28 + 24 * blocks.len())
}

/// Appends a picture loss indication (PSFB FMT 1): 12 bytes.
pub fn write_pli(out: &mut Vec<u8>, sender: Ssrc, media: Ssrc) -> Result<usize, RtpError> {
    header(out, 1, PT_PSFB, 3)?;
    put32(out, sender.0);
    put32(out, media.0);
    Ok(12)
}

/// Appends a full intra request (PSFB FMT 4, RFC 5104 §4.3.1): 12 + 8·n
/// bytes. The media-source field is 0 as the RFC requires; the targets are
/// in the entries. The caller increments each entry's `seq_nr` per new
/// request (and keeps it for retransmissions of the same request).
pub fn write_fir(out: &mut Vec<u8>, sender: Ssrc, entries: &[FirEntry]) -> Result<usize, RtpError> {
    if entries.is_empty() {
        return Err(RtpError::TooManyItems(0));
    }
    header(out, 4, PT_PSFB, 3 + 2 * entries.len())?;
    put32(out, sender.0);
    put32(out, 0);
    for e in entries {
        put32(out, e.ssrc.0);
        out.extend_from_slice(&[e.seq_nr, 0, 0, 0]);
    }
    Ok(12 + 8 * entries.len())
}

/// Compresses sequence numbers (sorted in wrap-aware order; duplicates
/// ignored) into RFC 4585 PID/BLP pairs: a PID plus a bitmask of the
/// following 16 numbers.
pub fn nack_pairs(lost: &[SeqNo]) -> impl Iterator<Item = (SeqNo, u16)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let &pid = lost.get(i)?;
        i += 1;
        let mut blp = 0u16;
        while let Some(&s) = lost.get(i) {
            let d = s.diff(pid);
            if d == 0 {
                i += 1;
            } else if (1..=16).contains(&d) {
                blp |= 1 << (d - 1);
                i += 1;
            } else {
                break;
            }
        }
        Some((pid, blp))
    })
}

/// Appends a generic NACK (RTPFB FMT 1) for the given missing sequence
/// numbers (see [`nack_pairs`] for the ordering requirement): 12 + 4·pairs
/// bytes. An empty list is a usage error.
pub fn write_nack(
    out: &mut Vec<u8>,
    sender: Ssrc,
    media: Ssrc,
    lost: &[SeqNo],
) -> Result<usize, RtpError> {
    if lost.is_empty() {
        return Err(RtpError::TooManyItems(0));
    }
    let pairs = nack_pairs(lost).count();
    header(out, 1, PT_RTPFB, 3 + pairs)?;
    put32(out, sender.0);
    put32(out, media.0);
    for (pid, blp) in nack_pairs(lost) {
        out.extend_from_slice(&pid.0.to_be_bytes());
        out.extend_from_slice(&blp.to_be_bytes());
    }
    Ok(12 + 4 * pairs)
}
