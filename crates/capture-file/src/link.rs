//! Link-layer, IP and UDP decoding of one captured frame.
//!
//! Everything here works on borrowed slices and returns a classification
//! instead of failing: a capture may legitimately contain ARP, TCP, ICMP or
//! frames cut short by the snap length, and none of that should stop a reader.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::bytes::{be16, be32};

/// A link-layer header type (the pcap `LINKTYPE_*` registry value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: 4-byte address family in the capturing host's order.
    pub const NULL: LinkType = LinkType(0);
    /// IEEE 802.3 Ethernet (VLAN tags are skipped).
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP as some BSDs number it in pcap files.
    pub const RAW_BSD: LinkType = LinkType(12);
    /// Raw IPv4 or IPv6 (version from the first nibble).
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: 4-byte address family, network order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture v1 (16-byte header).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4 only.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6 only.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux "cooked" capture v2 (20-byte header).
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

/// Outcome of decoding one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoded<'a> {
    /// A whole UDP datagram.
    Udp {
        /// Source address and port.
        src: SocketAddr,
        /// Destination address and port.
        dst: SocketAddr,
        /// UDP payload, trimmed to the UDP length field.
        payload: &'a [u8],
    },
    /// Valid, but not UDP over IP (ARP, TCP, ICMP, ...).
    NotUdp,
    /// A non-first or incomplete IP fragment: the datagram cannot be rebuilt.
    Fragment,
    /// Headers are inconsistent or cut short.
    Malformed,
    /// The link type is not one this crate decodes.
    UnsupportedLink,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88A8, 0x9100];
/// More stacked VLAN tags than this is treated as garbage.
const MAX_VLAN_TAGS: usize = 4;
const IPPROTO_UDP: u8 = 17;

/// Decodes a frame captured with link type `link`.
pub(crate) fn decode(link: LinkType, frame: &[u8]) -> Decoded<'_> {
    match link {
        LinkType::ETHERNET => ethernet(frame),
        LinkType::RAW | LinkType::RAW_BSD => ip_any(frame),
        LinkType::IPV4 => ipv4(frame),
        LinkType::IPV6 => ipv6(frame),
        // The family word's byte order depends on the capturing host, so the
        // IP version nibble that follows is the more robust discriminator.
        LinkType::NULL | LinkType::LOOP => frame.get(4..).map_or(Decoded::Malformed, ip_any),
        LinkType::LINUX_SLL => match (be16(frame, 14), frame.get(16..)) {
            (Some(proto), Some(rest)) => by_ethertype(proto, rest),
            _ => Decoded::Malformed,
        },
        LinkType::LINUX_SLL2 => match (be16(frame, 0), frame.get(20..)) {
            (Some(proto), Some(rest)) => by_ethertype(proto, rest),
            _ => Decoded::Malformed,
        },
        _ => Decoded::UnsupportedLink,
    }
}

fn ethernet(frame: &[u8]) -> Decoded<'_> {
    let mut off = 12;
    for _ in 0..=MAX_VLAN_TAGS {
        let Some(ethertype) = be16(frame, off) else {
            return Decoded::Malformed;
        };
        if ETHERTYPE_VLAN.contains(&ethertype) {
            off += 4;
            continue;
        }
        return match frame.get(off + 2..) {
            Some(rest) => by_ethertype(ethertype, rest),
            None => Decoded::Malformed,
        };
    }
    Decoded::Malformed
}

fn by_ethertype(ethertype: u16, rest: &[u8]) -> Decoded<'_> {
    match ethertype {
        ETHERTYPE_IPV4 => ipv4(rest),
        ETHERTYPE_IPV6 => ipv6(rest),
        _ => Decoded::NotUdp,
    }
}

fn ip_any(packet: &[u8]) -> Decoded<'_> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => ipv4(packet),
        Some(6) => ipv6(packet),
        Some(_) => Decoded::NotUdp,
        None => Decoded::Malformed,
    }
}

fn ipv4(packet: &[u8]) -> Decoded<'_> {
    let Some(&vihl) = packet.first() else {
        return Decoded::Malformed;
    };
    let header_len = usize::from(vihl & 0x0F) * 4;
    if vihl >> 4 != 4 || header_len < 20 {
        return Decoded::Malformed;
    }
    let (Some(total_len), Some(frag), Some(&proto), Some(src), Some(dst)) = (
        be16(packet, 2),
        be16(packet, 6),
        packet.get(9),
        be32(packet, 12),
        be32(packet, 16),
    ) else {
        return Decoded::Malformed;
    };
    // Total length trims Ethernet padding; it must cover the header and fit.
    let total_len = usize::from(total_len);
    if total_len < header_len || total_len > packet.len() {
        return Decoded::Malformed;
    }
    if proto != IPPROTO_UDP {
        return Decoded::NotUdp;
    }
    let more_fragments = frag & 0x2000 != 0;
    let offset = frag & 0x1FFF;
    if more_fragments || offset != 0 {
        return Decoded::Fragment;
    }
    let Some(udp_bytes) = packet.get(header_len..total_len) else {
        return Decoded::Malformed;
    };
    udp(
        IpAddr::V4(Ipv4Addr::from(src)),
        IpAddr::V4(Ipv4Addr::from(dst)),
        udp_bytes,
    )
}

fn ipv6(packet: &[u8]) -> Decoded<'_> {
    let (Some(&v), Some(payload_len), Some(&first_next)) =
        (packet.first(), be16(packet, 4), packet.get(6))
    else {
        return Decoded::Malformed;
    };
    if v >> 4 != 6 {
        return Decoded::Malformed;
    }
    let (Some(src), Some(dst)) = (addr16(packet, 8), addr16(packet, 24)) else {
        return Decoded::Malformed;
    };
    // Payload length 0 means a jumbogram; not something RTP capture needs.
    let end = 40 + usize::from(payload_len);
    if payload_len == 0 || end > packet.len() {
        return Decoded::Malformed;
    }
    let mut next = first_next;
    let mut off = 40;
    loop {
        match next {
            IPPROTO_UDP => break,
            // Hop-by-hop, routing, destination options: (len + 1) * 8 bytes.
            0 | 43 | 60 => {
                let (Some(&n), Some(&len)) = (packet.get(off), packet.get(off + 1)) else {
                    return Decoded::Malformed;
                };
                next = n;
                off += (usize::from(len) + 1) * 8;
            }
            // Authentication header: (len + 2) * 4 bytes.
            51 => {
                let (Some(&n), Some(&len)) = (packet.get(off), packet.get(off + 1)) else {
                    return Decoded::Malformed;
                };
                next = n;
                off += (usize::from(len) + 2) * 4;
            }
            44 => return Decoded::Fragment,
            _ => return Decoded::NotUdp,
        }
        if off > end {
            return Decoded::Malformed;
        }
    }
    let Some(udp_bytes) = packet.get(off..end) else {
        return Decoded::Malformed;
    };
    udp(IpAddr::V6(src), IpAddr::V6(dst), udp_bytes)
}

fn addr16(data: &[u8], off: usize) -> Option<Ipv6Addr> {
    let b: [u8; 16] = data.get(off..off + 16)?.try_into().ok()?;
    Some(Ipv6Addr::from(b))
}

fn udp(src: IpAddr, dst: IpAddr, seg: &[u8]) -> Decoded<'_> {
    let (Some(sport), Some(dport), Some(len)) = (be16(seg, 0), be16(seg, 2), be16(seg, 4)) else {
        return Decoded::Malformed;
    };
    let len = usize::from(len);
    match seg.get(8..len) {
        Some(payload) if len >= 8 => Decoded::Udp {
            src: SocketAddr::new(src, sport),
            dst: SocketAddr::new(dst, dport),
            payload,
        },
        _ => Decoded::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
        let total = 20 + 8 + payload.len();
        let mut p = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            17,
            0,
            0,
        ];
        p.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        let ulen = 8 + payload.len();
        p.extend_from_slice(&[0x13, 0x88, 0x13, 0x8a, (ulen >> 8) as u8, ulen as u8, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn ethernet_with_two_vlan_tags_and_padding() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xA8, 0, 1, 0x81, 0x00, 0, 2, 0x08, 0x00]);
        f.extend_from_slice(&ipv4_udp(b"hi"));
        f.extend_from_slice(&[0; 16]); // Ethernet minimum-size padding
        match decode(LinkType::ETHERNET, &f) {
            Decoded::Udp { src, dst, payload } => {
                assert_eq!(src, "10.0.0.1:5000".parse().unwrap());
                assert_eq!(dst, "10.0.0.2:5002".parse().unwrap());
                assert_eq!(payload, b"hi");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn null_loopback_either_family_order() {
        for fam in [[2, 0, 0, 0], [0, 0, 0, 2]] {
            let mut f = fam.to_vec();
            f.extend_from_slice(&ipv4_udp(b"x"));
            assert!(matches!(
                decode(LinkType::NULL, &f),
                Decoded::Udp { payload: b"x", .. }
            ));
        }
    }

    #[test]
    fn fragments_and_tcp_are_classified() {
        let mut p = ipv4_udp(b"abc");
        p[6] = 0x20; // MF
        assert_eq!(decode(LinkType::RAW, &p), Decoded::Fragment);
        let mut p = ipv4_udp(b"abc");
        p[9] = 6;
        assert_eq!(decode(LinkType::IPV4, &p), Decoded::NotUdp);
        let p = ipv4_udp(b"abc");
        assert_eq!(decode(LinkType::RAW, &p[..p.len() - 1]), Decoded::Malformed);
        assert_eq!(decode(LinkType(9999), &p), Decoded::UnsupportedLink);
    }

    #[test]
    fn ipv6_with_hop_by_hop_over_sll2() {
        let payload = b"rtp!";
        let mut ip = vec![0x60, 0, 0, 0];
        let plen = 8 + 8 + payload.len();
        ip.extend_from_slice(&[(plen >> 8) as u8, plen as u8, 0, 64]);
        ip.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        ip.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        ip.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]); // hop-by-hop, PadN
        let ulen = 8 + payload.len();
        ip.extend_from_slice(&[0, 1, 0, 2, (ulen >> 8) as u8, ulen as u8, 0, 0]);
        ip.extend_from_slice(payload);
        let mut f = vec![0x86, 0xDD];
        f.extend_from_slice(&[0; 18]);
        f.extend_from_slice(&ip);
        match decode(LinkType::LINUX_SLL2, &f) {
            Decoded::Udp {
                src,
                dst,
                payload: p,
            } => {
                assert_eq!(src, "[fe80::1]:1".parse().unwrap());
                assert_eq!(dst, "[fe80::2]:2".parse().unwrap());
                assert_eq!(p, payload);
            }
            other => panic!("{other:?}"),
        }
    }
}
