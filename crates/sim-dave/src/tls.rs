//! A tiny bounds-checked reader/writer for the TLS presentation language with
//! MLS variable-length vectors (RFC 9420 §2.1.2).
//!
//! openmls keeps the fields of a received `PublicMessage` crate-private, so
//! the gateway reads the few fields it arbitrates on (epoch, sender, proposal
//! references) itself. This is also what makes the gateway an implementation
//! independent of the clients' MLS library.

use crate::GatewayError;

/// Cursor over untrusted bytes; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, what }
    }

    fn truncated(&self) -> GatewayError {
        GatewayError::malformed(self.what, "truncated")
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], GatewayError> {
        if n > self.buf.len() {
            return Err(self.truncated());
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, GatewayError> {
        Ok(self.bytes(1)?.first().copied().unwrap_or_default())
    }

    pub(crate) fn u16(&mut self) -> Result<u16, GatewayError> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, GatewayError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.bytes(4)?);
        Ok(u32::from_be_bytes(a))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, GatewayError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.bytes(8)?);
        Ok(u64::from_be_bytes(a))
    }

    /// Reads an MLS varint length (1, 2 or 4 bytes; prefix `11` is invalid).
    pub(crate) fn varint(&mut self) -> Result<usize, GatewayError> {
        let first = self.u8()?;
        let len = match first >> 6 {
            0 => u32::from(first & 0x3f),
            1 => (u32::from(first & 0x3f) << 8) | u32::from(self.u8()?),
            2 => {
                let rest = self.bytes(3)?;
                (u32::from(first & 0x3f) << 24)
                    | (u32::from(rest[0]) << 16)
                    | (u32::from(rest[1]) << 8)
                    | u32::from(rest[2])
            }
            _ => return Err(GatewayError::malformed(self.what, "invalid varint prefix")),
        };
        usize::try_from(len).map_err(|_| self.truncated())
    }

    /// Reads an `opaque<V>` / vector body.
    pub(crate) fn vl_bytes(&mut self) -> Result<&'a [u8], GatewayError> {
        let n = self.varint()?;
        self.bytes(n)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }
}

/// Appends `data` as an MLS variable-length vector (minimal length encoding).
pub(crate) fn write_vl(out: &mut Vec<u8>, data: &[u8]) -> Result<(), GatewayError> {
    let n = data.len();
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&((n as u16) | 0x4000).to_be_bytes());
    } else if n < 1 << 30 {
        out.extend_from_slice(&((n as u32) | 0x8000_0000).to_be_bytes());
    } else {
        return Err(GatewayError::InvalidState("vector longer than 2^30 bytes"));
    }
    out.extend_from_slice(data);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn vl_round_trip(data in proptest::collection::vec(any::<u8>(), 0..20_000)) {
            let mut out = Vec::new();
            write_vl(&mut out, &data).unwrap();
            let mut r = Reader::new(&out, "test");
            prop_assert_eq!(r.vl_bytes().unwrap(), &data[..]);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn reader_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&data, "test");
            while r.vl_bytes().is_ok() && !r.is_empty() {}
        }
    }

    #[test]
    fn varint_examples_from_rfc9420() {
        // RFC 9420 §2.1.2 examples: 0x25 -> 37, 0x7bbd -> 15293, 0x9d7f3e7d -> 494878333.
        assert_eq!(Reader::new(&[0x25], "t").varint().unwrap(), 37);
        assert_eq!(Reader::new(&[0x7b, 0xbd], "t").varint().unwrap(), 15293);
        assert_eq!(
            Reader::new(&[0x9d, 0x7f, 0x3e, 0x7d], "t")
                .varint()
                .unwrap(),
            494_878_333
        );
        assert!(Reader::new(&[0xc0], "t").varint().is_err());
    }
}
