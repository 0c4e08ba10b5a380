//! UDP IP discovery (74-byte packets, all big-endian).
//!
//! ```text
//! 0   u16  type: 1 request, 2 response
//! 2   u16  length = 70 (bytes after this field)
//! 4   u32  SSRC (Ready.ssrc)
//! 8   [64] address: zeros in the request, NUL-terminated ASCII IP in the response
//! 72  u16  port: 0 in the request, the client's external port in the response
//! ```

use std::net::IpAddr;

use crate::error::VoiceProtoError;

/// Size of both packets.
pub const IP_DISCOVERY_LEN: usize = 74;
/// Value of the length field.
const LENGTH_FIELD: u16 = 70;
/// Size of the address field.
const ADDRESS_LEN: usize = 64;

/// An IP discovery request (client → media server) or response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpDiscovery {
    /// Type 1: "what is my address?" for `ssrc`.
    Request {
        /// The client's audio SSRC.
        ssrc: u32,
    },
    /// Type 2: the address and port the server saw.
    Response {
        /// The SSRC field. Servers are expected to echo the request's, but
        /// clients must not require it (@discordjs/voice reads only the
        /// type, address and port of the answer).
        ssrc: u32,
        /// External IP address as text (not validated as an IP; see
        /// [`IpDiscovery::ip`]).
        address: String,
        /// External UDP port.
        port: u16,
    },
}

impl IpDiscovery {
    /// Encodes the packet.
    ///
    /// A response address must be at most 63 bytes and contain no NUL so
    /// that the terminator fits.
    pub fn encode(&self) -> Result<[u8; IP_DISCOVERY_LEN], VoiceProtoError> {
        let mut out = [0u8; IP_DISCOVERY_LEN];
        let (kind, ssrc, address, port) = match self {
            Self::Request { ssrc } => (1u16, *ssrc, &[][..], 0u16),
            Self::Response {
                ssrc,
                address,
                port,
            } => (2u16, *ssrc, address.as_bytes(), *port),
        };
        if address.len() >= ADDRESS_LEN || address.contains(&0) {
            return Err(VoiceProtoError::AddressNotEncodable { len: address.len() });
        }
        out[0..2].copy_from_slice(&kind.to_be_bytes());
        out[2..4].copy_from_slice(&LENGTH_FIELD.to_be_bytes());
        out[4..8].copy_from_slice(&ssrc.to_be_bytes());
        out[8..8 + address.len()].copy_from_slice(address);
        out[72..74].copy_from_slice(&port.to_be_bytes());
        Ok(out)
    }

    /// Decodes a packet of exactly 74 bytes. The request's address and port
    /// fields are ignored; a response's address must be NUL-terminated
    /// printable ASCII.
    pub fn decode(bytes: &[u8]) -> Result<Self, VoiceProtoError> {
        let b: &[u8; IP_DISCOVERY_LEN] = bytes
            .try_into()
            .map_err(|_| VoiceProtoError::IpDiscoveryLength { got: bytes.len() })?;
        let kind = u16::from_be_bytes([b[0], b[1]]);
        let length = u16::from_be_bytes([b[2], b[3]]);
        let ssrc = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        let port = u16::from_be_bytes([b[72], b[73]]);
        if length != LENGTH_FIELD {
            return Err(VoiceProtoError::IpDiscoveryHeader {
                packet_type: kind,
                length,
            });
        }
        match kind {
            1 => Ok(Self::Request { ssrc }),
            2 => {
                let field = &b[8..8 + ADDRESS_LEN];
                let end = field.iter().position(|&c| c == 0).ok_or(
                    VoiceProtoError::IpDiscoveryAddress {
                        reason: "no NUL terminator",
                    },
                )?;
                let text = &field[..end];
                if text.is_empty() {
                    return Err(VoiceProtoError::IpDiscoveryAddress { reason: "empty" });
                }
                if !text.iter().all(|c| c.is_ascii_graphic()) {
                    return Err(VoiceProtoError::IpDiscoveryAddress {
                        reason: "not printable ASCII",
                    });
                }
                // Printable ASCII is valid UTF-8, so this never replaces.
                let address = String::from_utf8_lossy(text).into_owned();
                Ok(Self::Response {
                    ssrc,
                    address,
                    port,
                })
            }
            other => Err(VoiceProtoError::IpDiscoveryHeader {
                packet_type: other,
                length,
            }),
        }
    }

    /// The SSRC field.
    pub fn ssrc(&self) -> u32 {
        match self {
            Self::Request { ssrc } | Self::Response { ssrc, .. } => *ssrc,
        }
    }

    /// A response's address parsed as an IP, if it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Self::Request { .. } => None,
            Self::Response { address, .. } => address.parse().ok(),
        }
    }
}
