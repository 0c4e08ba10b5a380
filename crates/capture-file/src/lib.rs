//! Readers for captured RTP streams: pcap, pcapng and rtpdump files, plus a
//! small pcap writer.
//!
//! # Contract
//!
//! The crate is pure: it never opens files. Read the file yourself
//! (`std::fs::read`) and hand the bytes to [`CaptureReader::new`], which
//! detects the format from the magic bytes ([`Format::detect`]) and iterates
//! the UDP datagrams in file order:
//!
//! ```
//! # fn main() -> Result<(), capture_file::CaptureError> {
//! use capture_file::{CaptureReader, PcapWriter, WriterLink};
//! # let mut w = PcapWriter::new(WriterLink::Ethernet);
//! # let a = "10.0.0.1:5000".parse().unwrap();
//! # let b = "10.0.0.2:5004".parse().unwrap();
//! # w.write_datagram(std::time::Duration::from_secs(1), a, b, b"rtp")?;
//! # let bytes = w.into_bytes();
//! let mut reader = CaptureReader::new(&bytes)?;
//! for datagram in reader.by_ref() {
//!     let datagram = datagram?; // Err only for a truncated/broken file, then iteration ends
//!     assert_eq!(datagram.payload, b"rtp");
//! }
//! assert_eq!(reader.stats().not_udp, 0);
//! # Ok(()) }
//! ```
//!
//! * Everything that is not a whole UDP datagram over IPv4/IPv6 (ARP, TCP,
//!   IP fragments, frames cut by the snap length, unknown link types) is
//!   skipped and counted in [`SkipStats`]; it never stops iteration.
//! * A structurally broken file (a record running past the end, a bad
//!   pcapng block length) yields one [`CaptureError`] *after* every whole
//!   record before it, then the iterator ends. Nothing here panics on input.
//! * Payloads borrow from the input bytes: no copy per packet.
//!
//! Link types decoded: Ethernet (with 802.1Q/802.1ad tags), raw IP (101, 12,
//! 228, 229), Linux cooked SLL (113) and SLL2 (276), BSD null/loop (0, 108).
//!
//! # Why hand-written
//!
//! The formats are small and stable. Writing them here keeps the crate free
//! of dependencies, zero-copy, and lets the never-panic rule be checked by
//! this crate's own property tests rather than taken on trust.

mod bytes;
mod error;
mod link;
mod pcap;
mod pcapng;
mod reader;
mod rtpdump;
mod writer;

pub use error::CaptureError;
pub use link::LinkType;
pub use reader::{CaptureReader, Format, SkipStats, UdpDatagram};
pub use writer::{PcapWriter, WriterLink};

/// Reads every UDP datagram of a capture file held in memory.
///
/// Returns the datagrams read before any error, what was skipped, and the
/// error that ended reading early (if any) so a truncated capture still
/// gives its whole records.
pub fn read_all(data: &[u8]) -> (Vec<UdpDatagram<'_>>, SkipStats, Option<CaptureError>) {
    let mut reader = match CaptureReader::new(data) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), SkipStats::default(), Some(e)),
    };
    let mut out = Vec::new();
    let mut error = None;
    for item in reader.by_ref() {
        match item {
            Ok(d) => out.push(d),
            Err(e) => error = Some(e),
        }
    }
    (out, reader.stats(), error)
}
