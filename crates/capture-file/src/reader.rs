//! Format detection and the unified datagram iterator.

use std::net::SocketAddr;
use std::time::Duration;

use crate::error::CaptureError;
use crate::link::{self, Decoded, LinkType};
use crate::pcap::{self, PcapReader};
use crate::pcapng::{self, Block, PcapNgReader};
use crate::rtpdump::{self, RtpDumpReader};

/// A capture file format, as recognised from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Classic libpcap (`.pcap`), any byte order, micro or nano seconds.
    Pcap,
    /// pcapng (`.pcapng`).
    PcapNg,
    /// rtptools rtpdump (`#!rtpplay1.0`).
    RtpDump,
}

impl Format {
    /// Recognises a format from the first bytes of a file (4 are enough for
    /// pcap/pcapng, 9 for rtpdump).
    pub fn detect(data: &[u8]) -> Option<Format> {
        if data.starts_with(rtpdump::MAGIC) {
            Some(Format::RtpDump)
        } else if data.starts_with(&pcapng::MAGIC) {
            Some(Format::PcapNg)
        } else if data.get(..4).and_then(pcap::magic).is_some() {
            Some(Format::Pcap)
        } else {
            None
        }
    }
}

/// One captured UDP datagram, borrowing its payload from the file bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    /// Capture time as recorded, since the Unix epoch. Subtract the first
    /// datagram's time for "since capture start". pcapng simple packet
    /// blocks have no time and carry the previous packet's.
    pub timestamp: Duration,
    /// Sender address and port.
    pub src: SocketAddr,
    /// Receiver address and port.
    pub dst: SocketAddr,
    /// The UDP payload (for RTP captures: the whole RTP packet).
    pub payload: &'a [u8],
}

/// Counts of records that were read but did not yield a datagram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkipStats {
    /// Valid frames that are not UDP over IPv4/IPv6 (ARP, TCP, ...).
    pub not_udp: u64,
    /// IP fragments (reassembly is not attempted).
    pub fragments: u64,
    /// Frames with inconsistent or cut-short headers.
    pub malformed: u64,
    /// Frames on a link type this crate does not decode.
    pub unsupported_link: u64,
    /// pcapng blocks that carry no packet (headers, statistics, ...).
    pub other_blocks: u64,
}

/// A link-layer frame and its capture time, before IP/UDP decoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawRecord<'a> {
    pub(crate) timestamp: Duration,
    pub(crate) link: LinkType,
    pub(crate) frame: &'a [u8],
}

#[derive(Debug)]
enum Inner<'a> {
    Pcap(PcapReader<'a>),
    PcapNg(PcapNgReader<'a>),
    RtpDump(RtpDumpReader<'a>),
}

/// Iterator over the UDP datagrams of a capture file held in memory.
///
/// Yields `Ok(datagram)` for every UDP datagram, skipping (and counting in
/// [`stats`](Self::stats)) everything else. A structural problem (truncated
/// record, broken block) yields one `Err` and then the iterator ends.
#[derive(Debug)]
pub struct CaptureReader<'a> {
    inner: Inner<'a>,
    stats: SkipStats,
    /// Set after an error so iteration stays finished.
    done: bool,
}

impl<'a> CaptureReader<'a> {
    /// Detects the format and parses the file header.
    pub fn new(data: &'a [u8]) -> Result<Self, CaptureError> {
        let inner = match Format::detect(data) {
            Some(Format::Pcap) => Inner::Pcap(PcapReader::new(data)?),
            Some(Format::PcapNg) => Inner::PcapNg(PcapNgReader::new(data)?),
            Some(Format::RtpDump) => Inner::RtpDump(RtpDumpReader::new(data)?),
            None => {
                let magic = data.get(..4.min(data.len())).unwrap_or_default().to_vec();
                return Err(CaptureError::UnknownFormat { magic });
            }
        };
        Ok(CaptureReader {
            inner,
            stats: SkipStats::default(),
            done: false,
        })
    }

    /// The detected file format.
    pub fn format(&self) -> Format {
        match self.inner {
            Inner::Pcap(_) => Format::Pcap,
            Inner::PcapNg(_) => Format::PcapNg,
            Inner::RtpDump(_) => Format::RtpDump,
        }
    }

    /// What has been skipped so far.
    pub fn stats(&self) -> SkipStats {
        self.stats
    }

    /// Decodes a frame, counting it if it is not a UDP datagram.
    fn classify(&mut self, rec: RawRecord<'a>) -> Option<UdpDatagram<'a>> {
        match link::decode(rec.link, rec.frame) {
            Decoded::Udp { src, dst, payload } => {
                return Some(UdpDatagram {
                    timestamp: rec.timestamp,
                    src,
                    dst,
                    payload,
                });
            }
            Decoded::NotUdp => self.stats.not_udp += 1,
            Decoded::Fragment => self.stats.fragments += 1,
            Decoded::Malformed => self.stats.malformed += 1,
            Decoded::UnsupportedLink => self.stats.unsupported_link += 1,
        }
        None
    }

    fn step(&mut self) -> Option<Result<Option<UdpDatagram<'a>>, CaptureError>> {
        Some(Ok(match &mut self.inner {
            Inner::Pcap(r) => match r.next_record()? {
                Ok(rec) => self.classify(rec),
                Err(e) => return Some(Err(e)),
            },
            Inner::PcapNg(r) => match r.next_block()? {
                Ok(Block::Packet(rec)) => self.classify(rec),
                Ok(Block::BadPacket) => {
                    self.stats.malformed += 1;
                    None
                }
                Ok(Block::Other) => {
                    self.stats.other_blocks += 1;
                    None
                }
                Err(e) => return Some(Err(e)),
            },
            Inner::RtpDump(r) => match r.next_packet()? {
                Ok(Some(d)) => Some(d),
                Ok(None) => {
                    self.stats.malformed += 1;
                    None
                }
                Err(e) => return Some(Err(e)),
            },
        }))
    }
}

impl<'a> Iterator for CaptureReader<'a> {
    type Item = Result<UdpDatagram<'a>, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            match self.step() {
                None => {
                    self.done = true;
                    return None;
                }
                Some(Ok(Some(d))) => return Some(Ok(d)),
                Some(Ok(None)) => continue,
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}
