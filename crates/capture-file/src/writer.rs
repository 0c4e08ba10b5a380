//! A classic pcap writer for UDP datagrams with synthetic IP/UDP headers.
//!
//! Used by tests and fixture tools to turn datagrams (e.g. RTP packets made
//! by a packetizer) into a file any pcap tool, and [`CaptureReader`], reads.
//!
//! [`CaptureReader`]: crate::CaptureReader

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::error::CaptureError;
use crate::link::LinkType;

/// Link-layer framing the writer puts around each IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterLink {
    /// Ethernet II with fixed locally-administered MAC addresses.
    Ethernet,
    /// Raw IP (`LINKTYPE_RAW`, 101): no link header at all.
    RawIp,
}

impl WriterLink {
    fn link_type(self) -> LinkType {
        match self {
            WriterLink::Ethernet => LinkType::ETHERNET,
            WriterLink::RawIp => LinkType::RAW,
        }
    }
}

/// Largest UDP payload that fits the 16-bit IPv4 total length.
const MAX_PAYLOAD: usize = 65_535 - 20 - 8;

/// Builds a classic pcap file (little-endian, microsecond timestamps) in memory.
#[derive(Debug, Clone)]
pub struct PcapWriter {
    link: WriterLink,
    buf: Vec<u8>,
    /// IPv4 identification field, incremented per packet like a real stack.
    ident: u16,
}

impl PcapWriter {
    /// Starts a file with the given link framing.
    pub fn new(link: WriterLink) -> Self {
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
        buf.extend_from_slice(&2u16.to_le_bytes());
        buf.extend_from_slice(&4u16.to_le_bytes());
        buf.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        buf.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        buf.extend_from_slice(&65_535u32.to_le_bytes()); // snaplen
        buf.extend_from_slice(&u32::from(link.link_type().0).to_le_bytes());
        PcapWriter {
            link,
            buf,
            ident: 0,
        }
    }

    /// Appends one datagram captured at `timestamp` (since the Unix epoch).
    /// Both addresses must be of the same family.
    pub fn write_datagram(
        &mut self,
        timestamp: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
    ) -> Result<(), CaptureError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(CaptureError::Unwritable {
                reason: "payload larger than one IP packet",
            });
        }
        let secs = u32::try_from(timestamp.as_secs()).map_err(|_| CaptureError::Unwritable {
            reason: "timestamp beyond 2106",
        })?;
        let mut frame = Vec::with_capacity(14 + 40 + 8 + payload.len());
        let ethertype: [u8; 2] = match (src.ip(), dst.ip()) {
            (IpAddr::V4(_), IpAddr::V4(_)) => [0x08, 0x00],
            (IpAddr::V6(_), IpAddr::V6(_)) => [0x86, 0xDD],
            _ => {
                return Err(CaptureError::Unwritable {
                    reason: "mixed IPv4 and IPv6 addresses",
                });
            }
        };
        if self.link == WriterLink::Ethernet {
            frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]);
            frame.extend_from_slice(&ethertype);
        }
        let udp_len = (8 + payload.len()) as u16; // bounded by MAX_PAYLOAD above
        let checksum = udp_checksum(src, dst, udp_len, payload);
        match (src.ip(), dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut ip = [0u8; 20];
                ip[0] = 0x45;
                ip[2..4].copy_from_slice(&(udp_len + 20).to_be_bytes());
                ip[4..6].copy_from_slice(&self.ident.to_be_bytes());
                ip[6] = 0x40; // don't fragment
                ip[8] = 64;
                ip[9] = 17;
                ip[12..16].copy_from_slice(&s.octets());
                ip[16..20].copy_from_slice(&d.octets());
                let sum = fold(sum_words(&ip));
                ip[10..12].copy_from_slice(&(!sum).to_be_bytes());
                frame.extend_from_slice(&ip);
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                frame.extend_from_slice(&[0x60, 0, 0, 0]);
                frame.extend_from_slice(&udp_len.to_be_bytes());
                frame.extend_from_slice(&[17, 64]);
                frame.extend_from_slice(&s.octets());
                frame.extend_from_slice(&d.octets());
            }
            _ => {
                return Err(CaptureError::Unwritable {
                    reason: "mixed IPv4 and IPv6 addresses",
                });
            }
        }
        self.ident = self.ident.wrapping_add(1);
        frame.extend_from_slice(&src.port().to_be_bytes());
        frame.extend_from_slice(&dst.port().to_be_bytes());
        frame.extend_from_slice(&udp_len.to_be_bytes());
        frame.extend_from_slice(&checksum.to_be_bytes());
        frame.extend_from_slice(payload);

        let len = frame.len() as u32; // at most 14 + 40 + 65535
        self.buf.extend_from_slice(&secs.to_le_bytes());
        self.buf
            .extend_from_slice(&timestamp.subsec_micros().to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(&frame);
        Ok(())
    }

    /// The file so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Finishes and returns the file bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// One's-complement sum of big-endian 16-bit words (odd tail padded with 0).
fn sum_words(data: &[u8]) -> u32 {
    data.chunks(2)
        .map(|c| {
            u32::from(u16::from_be_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ]))
        })
        .fold(0u32, |acc, w| acc.wrapping_add(w))
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u16
}

/// UDP checksum over the pseudo-header (mandatory for IPv6, nice for IPv4).
fn udp_checksum(src: SocketAddr, dst: SocketAddr, udp_len: u16, payload: &[u8]) -> u16 {
    let mut sum: u32 = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => sum_words(&s.octets()) + sum_words(&d.octets()),
        (IpAddr::V6(s), IpAddr::V6(d)) => sum_words(&s.octets()) + sum_words(&d.octets()),
        _ => 0,
    };
    sum += 17 + u32::from(udp_len) * 2 + u32::from(src.port()) + u32::from(dst.port());
    sum = sum.wrapping_add(sum_words(payload));
    // 0 means "no checksum" on the wire, so a computed 0 is sent as 0xFFFF.
    match !fold(sum) {
        0 => 0xFFFF,
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_checksum_verifies() {
        let mut w = PcapWriter::new(WriterLink::RawIp);
        let a: SocketAddr = "192.168.1.2:4000".parse().unwrap();
        let b: SocketAddr = "192.168.1.3:5004".parse().unwrap();
        w.write_datagram(Duration::from_secs(1), a, b, b"abc")
            .unwrap();
        let ip = &w.as_bytes()[24 + 16..24 + 16 + 20];
        assert_eq!(fold(sum_words(ip)), 0xFFFF);
    }

    #[test]
    fn udp_checksum_verifies_over_pseudo_header() {
        let a: SocketAddr = "[2001:db8::1]:1".parse().unwrap();
        let b: SocketAddr = "[2001:db8::2]:2".parse().unwrap();
        let mut w = PcapWriter::new(WriterLink::RawIp);
        w.write_datagram(Duration::ZERO, a, b, b"hello").unwrap();
        let udp = &w.as_bytes()[24 + 16 + 40..];
        // Sum of pseudo-header + whole UDP segment (incl. checksum) is all ones.
        let (IpAddr::V6(s), IpAddr::V6(d)) = (a.ip(), b.ip()) else {
            unreachable!()
        };
        let sum = sum_words(&s.octets()) + sum_words(&d.octets()) + 17 + udp.len() as u32;
        assert_eq!(fold(sum + sum_words(udp)), 0xFFFF);
    }

    #[test]
    fn rejects_mixed_families_and_oversize() {
        let mut w = PcapWriter::new(WriterLink::Ethernet);
        let a: SocketAddr = "1.2.3.4:1".parse().unwrap();
        let b: SocketAddr = "[::1]:2".parse().unwrap();
        assert!(w.write_datagram(Duration::ZERO, a, b, b"").is_err());
        assert!(
            w.write_datagram(Duration::ZERO, a, a, &vec![0; 70_000])
                .is_err()
        );
        assert_eq!(w.as_bytes().len(), 24);
    }
}
