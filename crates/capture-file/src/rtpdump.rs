//! rtpdump files (rtptools `rtpdump -F dump`): a text line
//! `#!rtpplay1.0 address/port\n`, a 16-byte `RD_hdr_t`, then `RD_packet_t`
//! records, all big-endian.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::bytes::{be16, be32};
use crate::error::CaptureError;
use crate::reader::UdpDatagram;

/// Every rtpdump file starts with this.
pub(crate) const MAGIC: &[u8] = b"#!rtpplay";
/// The text line is short; a longer one means this is not rtpdump.
const MAX_LINE: usize = 256;
const FILE_HEADER_LEN: usize = 16;
const RECORD_HEADER_LEN: usize = 8;

/// Iterates the packets of an rtpdump file held in memory.
#[derive(Debug)]
pub(crate) struct RtpDumpReader<'a> {
    data: &'a [u8],
    offset: usize,
    /// Recording start time; record offsets (ms) are relative to it.
    start: Duration,
    /// The sender, from `RD_hdr_t`.
    source: SocketAddr,
    /// The address/port of the text line (where the packets were sent).
    destination: SocketAddr,
}

impl<'a> RtpDumpReader<'a> {
    /// Parses the text line and the binary file header.
    pub(crate) fn new(data: &'a [u8]) -> Result<Self, CaptureError> {
        if !data.starts_with(MAGIC) {
            return Err(CaptureError::Malformed {
                offset: 0,
                reason: "missing #!rtpplay",
            });
        }
        let window = data.get(..MAX_LINE.min(data.len())).unwrap_or_default();
        let Some(nl) = window.iter().position(|&b| b == b'\n') else {
            return Err(if data.len() < MAX_LINE {
                CaptureError::Truncated {
                    offset: 0,
                    needed: data.len() + 1,
                    available: data.len(),
                }
            } else {
                CaptureError::Malformed {
                    offset: 0,
                    reason: "rtpplay line too long",
                }
            });
        };
        let line = window.get(..nl).unwrap_or_default();
        if !line.starts_with(b"#!rtpplay1.0 ") {
            return Err(CaptureError::Malformed {
                offset: 0,
                reason: "unsupported rtpplay version",
            });
        }
        let destination = parse_destination(line.get(13..).unwrap_or_default());
        let h = nl + 1;
        let truncated = CaptureError::Truncated {
            offset: h,
            needed: FILE_HEADER_LEN,
            available: data.len().saturating_sub(h),
        };
        let (Some(sec), Some(usec), Some(src), Some(port)) = (
            be32(data, h),
            be32(data, h + 4),
            be32(data, h + 8),
            be16(data, h + 12),
        ) else {
            return Err(truncated);
        };
        if data.len() < h + FILE_HEADER_LEN {
            return Err(truncated);
        }
        let start = Duration::from_secs(u64::from(sec)) + Duration::from_micros(u64::from(usec));
        Ok(RtpDumpReader {
            data,
            offset: h + FILE_HEADER_LEN,
            start,
            source: SocketAddr::new(IpAddr::V4(Ipv4Addr::from(src)), port),
            destination,
        })
    }

    /// The next packet: `Ok(None)` inside `Some` marks a record whose payload
    /// was only partially dumped (skipped, counted as malformed).
    pub(crate) fn next_packet(&mut self) -> Option<Result<Option<UdpDatagram<'a>>, CaptureError>> {
        let off = self.offset;
        let available = self.data.len().saturating_sub(off);
        if available == 0 {
            return None;
        }
        let (Some(len), Some(plen), Some(ms)) = (
            be16(self.data, off),
            be16(self.data, off + 2),
            be32(self.data, off + 4),
        ) else {
            return Some(Err(CaptureError::Truncated {
                offset: off,
                needed: RECORD_HEADER_LEN,
                available,
            }));
        };
        let len = usize::from(len);
        if len < RECORD_HEADER_LEN {
            return Some(Err(CaptureError::Malformed {
                offset: off,
                reason: "record shorter than its header",
            }));
        }
        let Some(stored) = self.data.get(off + RECORD_HEADER_LEN..off + len) else {
            return Some(Err(CaptureError::Truncated {
                offset: off,
                needed: len,
                available,
            }));
        };
        self.offset = off + len;
        // plen is the original packet length (0 for RTCP in old dumps). A
        // record holding fewer bytes than that was dumped headers-only.
        let plen = usize::from(plen);
        let payload = match plen {
            0 => stored,
            p if p <= stored.len() => stored.get(..p).unwrap_or_default(),
            _ => return Some(Ok(None)),
        };
        Some(Ok(Some(UdpDatagram {
            timestamp: self.start + Duration::from_millis(u64::from(ms)),
            src: self.source,
            dst: self.destination,
            payload,
        })))
    }
}

/// `address/port`; an unparsable one (a host name) becomes `0.0.0.0:port`.
fn parse_destination(text: &[u8]) -> SocketAddr {
    let text = std::str::from_utf8(text).unwrap_or_default().trim();
    let (addr, port) = text.rsplit_once('/').unwrap_or((text, ""));
    let ip = addr.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    SocketAddr::new(ip, port.parse().unwrap_or(0))
}
