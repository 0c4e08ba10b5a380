//! RTP header extensions (RFC 8285): the block's profile and an iterator
//! over one-byte (`0xBEDE`) and two-byte (`0x100x`) elements.

use crate::RtpError;

/// The profile value of the one-byte element form.
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;

/// A header extension block: the 16-bit profile from the preamble and the
/// raw element bytes (`4 * length` bytes following the preamble).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderExtension<'a> {
    /// The "defined by profile" field (`0xBEDE` for one-byte elements,
    /// `0x1000..=0x100F` for two-byte elements).
    pub profile: u16,
    /// The element area, without the 4-byte preamble.
    pub data: &'a [u8],
}

/// One extension element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionElement<'a> {
    /// Element id (1..=14 in one-byte form, 1..=255 in two-byte form).
    pub id: u8,
    /// Element data.
    pub data: &'a [u8],
}

impl<'a> HeaderExtension<'a> {
    /// True for the one-byte element form.
    pub fn is_one_byte(&self) -> bool {
        self.profile == ONE_BYTE_PROFILE
    }

    /// True for the two-byte element form (`0x100` followed by 4 app bits).
    pub fn is_two_byte(&self) -> bool {
        self.profile & 0xfff0 == 0x1000
    }

    /// Iterates the elements. For profiles other than the RFC 8285 forms
    /// the iterator is empty (the data is opaque, see [`Self::data`]).
    pub fn elements(&self) -> ExtensionElements<'a> {
        let form = if self.is_one_byte() {
            Form::OneByte
        } else if self.is_two_byte() {
            Form::TwoByte
        } else {
            Form::Opaque
        };
        ExtensionElements {
            data: self.data,
            pos: 0,
            form,
        }
    }

    /// The first element with `id`, if present and well formed.
    pub fn find(&self, id: u8) -> Option<&'a [u8]> {
        self.elements()
            .map_while(Result::ok)
            .find(|e| e.id == id)
            .map(|e| e.data)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    OneByte,
    TwoByte,
    Opaque,
}

/// Iterator over [`ExtensionElement`]s. Padding bytes (id 0) are skipped
/// one at a time.
/// A malformed element yields one `Err` and ends the iteration; a one-byte
/// id of 15 ends it silently (RFC 8285 §4.2: stop processing).
#[derive(Debug, Clone)]
pub struct ExtensionElements<'a> {
    data: &'a [u8],
    pos: usize,
    form: Form,
}

impl<'a> Iterator for ExtensionElements<'a> {
    type Item = Result<ExtensionElement<'a>, RtpError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let &first = self.data.get(self.pos)?;
            let (id, len, hdr) = match self.form {
                Form::Opaque => return None,
                Form::OneByte => {
                    let id = first >> 4;
                    // Id 0 is a padding byte whatever its length nibble
                    // (RFC 8285 §4.2; receivers skip exactly one byte).
                    if id == 0 {
                        self.pos += 1;
                        continue;
                    }
                    if id == 15 {
                        self.pos = self.data.len();
                        return None;
                    }
                    (id, usize::from(first & 0x0f) + 1, 1)
                }
                Form::TwoByte => {
                    if first == 0 {
                        self.pos += 1;
                        continue;
                    }
                    let Some(&len) = self.data.get(self.pos + 1) else {
                        self.pos = self.data.len();
                        return Some(Err(RtpError::BadExtensionElement));
                    };
                    (first, usize::from(len), 2)
                }
            };
            let start = self.pos + hdr;
            let Some(data) = self.data.get(start..start + len) else {
                self.pos = self.data.len();
                return Some(Err(RtpError::BadExtensionElement));
            };
            self.pos = start + len;
            return Some(Ok(ExtensionElement { id, data }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_byte_elements_with_padding() {
        // id 5 len 2 (0x51), a pad byte with a stray length nibble (0x03),
        // id 1 len 1 (0x10), a pad byte, id 15 stops.
        let data = [0x51, 0xaa, 0xbb, 0x03, 0x10, 0x7f, 0x00, 0xf0, 0x22];
        let ext = HeaderExtension {
            profile: 0xBEDE,
            data: &data,
        };
        let v: Vec<_> = ext.elements().collect();
        assert_eq!(
            v,
            vec![
                Ok(ExtensionElement {
                    id: 5,
                    data: &[0xaa, 0xbb]
                }),
                Ok(ExtensionElement {
                    id: 1,
                    data: &[0x7f]
                }),
            ]
        );
        assert_eq!(ext.find(1), Some(&[0x7f][..]));
        assert_eq!(ext.find(9), None);
    }

    #[test]
    fn two_byte_elements() {
        // id 200 len 0, id 3 len 3, padding.
        let data = [200, 0, 3, 3, 1, 2, 3, 0];
        let ext = HeaderExtension {
            profile: 0x1003,
            data: &data,
        };
        let v: Vec<_> = ext
            .elements()
            .map(|e| e.map(|e| (e.id, e.data.len())))
            .collect();
        assert_eq!(v, vec![Ok((200, 0)), Ok((3, 3))]);
    }

    #[test]
    fn overrun_is_an_error_once() {
        let data = [0x53, 1, 2];
        let ext = HeaderExtension {
            profile: 0xBEDE,
            data: &data,
        };
        let v: Vec<_> = ext.elements().collect();
        assert_eq!(v, vec![Err(RtpError::BadExtensionElement)]);
        let opaque = HeaderExtension {
            profile: 0x1234,
            data: &data,
        };
        assert_eq!(opaque.elements().count(), 0);
    }
}
