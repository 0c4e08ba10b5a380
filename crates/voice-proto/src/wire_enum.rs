//! Internal macro for string-valued wire enums (`"udp"`, `"video"`, …).
//!
//! Every such enum keeps unknown strings in an `Other(String)` variant so
//! that a new value sent by Discord never turns a whole message into a
//! parse error, and the mapping between variants and wire strings is
//! written once (the single conversion point).

/// Defines `enum $name { Variants…, Other(String) }` with `as_str`,
/// `from_wire`, `Display` and string (de)serialization. Exported for the
/// sibling `gateway-proto` crate (the caller must depend on `serde`).
#[doc(hidden)]
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this crate does not know, kept verbatim. Never holds
            /// the wire string of a named variant when produced by
            /// `from_wire`.
            Other(String),
        }

        impl $name {
            /// The string sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::Other(s) => s,
                }
            }

            /// Maps a wire string to a variant; unknown strings become
            /// `Other`.
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $( $wire => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok(Self::from_wire(&s))
            }
        }
    };
}
