//! Op 15 Media Sink Wants.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Op 15 Media Sink Wants: which SSRCs a receiver wants at what quality
/// (receiver → SFU), or which local layers are wanted (SFU → sender).
///
/// Shape: SSRC keys at the top level beside `any` and `pixelCounts`
/// (`{"8964":100,"any":50,"pixelCounts":{"8964":1189844.5}}`), as
/// discord-userdoccers documents it ("Media Sink Wants Structure":
/// `{ssrc}?`, `any?`, `pixelCounts?`). clankvox nests the keys under
/// `streams` and reports it working live, but it always sends `any` at the
/// highest wanted quality, so that evidence cannot tell whether the server
/// reads `streams` at all; the decision and its reasoning are in mediad's
/// `transport/sink.rs`. Encoding emits the top-level shape; decoding reads
/// top-level SSRC keys and ignores `streams` like any other unknown
/// non-numeric key (what we decided Discord does). Keys are primary (not
/// RTX) SSRCs; quality is 0–100, 0 disables the stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MediaSinkWants {
    /// Default quality for SSRCs not listed.
    pub any: Option<u8>,
    /// Quality per primary SSRC (top-level keys on the wire).
    pub streams: BTreeMap<u32, u8>,
    /// `pixelCounts`: the rendered size per SSRC in pixels. Without it
    /// Discord reportedly sends the lowest layer with sparse keyframes.
    pub pixel_counts: BTreeMap<u32, f64>,
}

impl MediaSinkWants {
    /// Wants `ssrc` at `quality` (and nothing about other streams).
    pub fn single(ssrc: u32, quality: u8) -> Self {
        let mut w = Self::default();
        w.streams.insert(ssrc, quality);
        w
    }
}

/// Reads a quality value: a number in 0..=100 (floats are rounded).
fn quality(key: &str, v: &Value) -> Result<u8, String> {
    let q = v
        .as_u64()
        .map(|u| u as f64)
        .or_else(|| v.as_f64())
        .filter(|f| (0.0..=100.0).contains(f))
        .ok_or_else(|| format!("quality for {key:?} is not a number in 0..=100: {v}"))?;
    // In 0..=100 by the filter above, so the cast cannot truncate.
    Ok(q.round() as u8)
}

fn ssrc_key(key: &str) -> Option<u32> {
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse().ok()
}

fn from_map(map: Map<String, Value>) -> Result<MediaSinkWants, String> {
    let mut out = MediaSinkWants::default();
    for (key, value) in &map {
        match key.as_str() {
            "any" => out.any = Some(quality(key, value)?),
            "pixelCounts" => {
                let inner = value
                    .as_object()
                    .ok_or_else(|| format!("`pixelCounts` is not an object: {value}"))?;
                for (k, v) in inner {
                    let ssrc = ssrc_key(k).ok_or_else(|| format!("bad SSRC key {k:?}"))?;
                    let count = v
                        .as_f64()
                        .ok_or_else(|| format!("pixel count for {k:?} is not a number"))?;
                    out.pixel_counts.insert(ssrc, count);
                }
            }
            other => {
                if let Some(ssrc) = ssrc_key(other) {
                    out.streams.insert(ssrc, quality(other, value)?);
                }
            }
        }
    }
    Ok(out)
}

impl<'de> Deserialize<'de> for MediaSinkWants {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(d)?;
        from_map(map).map_err(D::Error::custom)
    }
}

/// `pixelCounts` values keyed by decimal SSRC strings.
struct SsrcKeyed<'a, V>(&'a BTreeMap<u32, V>);

impl<V: Serialize> Serialize for SsrcKeyed<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(&k.to_string(), v)?;
        }
        m.end()
    }
}

impl Serialize for MediaSinkWants {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(any) = self.any {
            m.serialize_entry("any", &any)?;
        }
        for (ssrc, q) in &self.streams {
            m.serialize_entry(&ssrc.to_string(), q)?;
        }
        if !self.pixel_counts.is_empty() {
            m.serialize_entry("pixelCounts", &SsrcKeyed(&self.pixel_counts))?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_quality_is_an_error() {
        assert!(serde_json::from_str::<MediaSinkWants>(r#"{"1":101}"#).is_err());
        assert!(serde_json::from_str::<MediaSinkWants>(r#"{"any":-1}"#).is_err());
        assert!(serde_json::from_str::<MediaSinkWants>(r#"{"pixelCounts":{"x":1}}"#).is_err());
    }

    #[test]
    fn nested_streams_are_not_read() {
        // clankvox's shape: only `any` and `pixelCounts` count.
        let w: MediaSinkWants =
            serde_json::from_str(r#"{"any":0,"streams":{"5":100},"pixelCounts":{"5":2.0}}"#)
                .unwrap();
        assert!(w.streams.is_empty());
        assert_eq!(w.any, Some(0));
        assert_eq!(w.pixel_counts.get(&5), Some(&2.0));
        let text = serde_json::to_string(&MediaSinkWants::single(5, 100)).unwrap();
        assert_eq!(text, r#"{"5":100}"#);
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let w: MediaSinkWants = serde_json::from_str(r#"{"foo":"bar","7":50.4}"#).unwrap();
        assert_eq!(w, MediaSinkWants::single(7, 50));
    }
}
