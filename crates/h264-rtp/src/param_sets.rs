//! Remembering SPS/PPS and re-inserting them in front of IDR access units.

use crate::nal::{NalType, START_CODE, nal_units};

/// What [`ParameterSetCache::apply`] did to an access unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParameterSetOutcome {
    /// A cached SPS was inserted.
    pub inserted_sps: bool,
    /// A cached PPS was inserted.
    pub inserted_pps: bool,
    /// The access unit is an IDR that still lacks an SPS or PPS (none seen
    /// yet): a decoder cannot start from it.
    pub still_missing: bool,
}

/// Keeps the latest SPS and PPS and prepends them to IDR access units that
/// lack them, so a decoder can start at any keyframe (late joiners, senders
/// that send parameter sets only once).
///
/// Run it on *decrypted* access units: with DAVE, inserting bytes before
/// decryption would shift the codec-aware unencrypted ranges. Only one SPS
/// and one PPS are kept (the latest), which is what WebRTC senders use.
#[derive(Debug, Clone, Default)]
pub struct ParameterSetCache {
    /// The latest SPS NAL unit, without start code (empty: none seen).
    sps: Vec<u8>,
    /// The latest PPS NAL unit, without start code (empty: none seen).
    pps: Vec<u8>,
}

impl ParameterSetCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached SPS (without start code), if any.
    pub fn sps(&self) -> Option<&[u8]> {
        (!self.sps.is_empty()).then_some(&self.sps[..])
    }

    /// The cached PPS (without start code), if any.
    pub fn pps(&self) -> Option<&[u8]> {
        (!self.pps.is_empty()).then_some(&self.pps[..])
    }

    /// Remembers any SPS/PPS in the Annex-B access unit.
    pub fn observe(&mut self, access_unit: &[u8]) {
        for nal in nal_units(access_unit) {
            let slot = match nal.first().map(|&h| NalType::from_header(h)) {
                Some(NalType::SPS) => &mut self.sps,
                Some(NalType::PPS) => &mut self.pps,
                _ => continue,
            };
            slot.clear();
            slot.extend_from_slice(nal);
        }
    }

    /// Observes the access unit, then, if it contains an IDR slice but no
    /// SPS or PPS, inserts the cached ones (4-byte start codes) at its
    /// front, after a leading access unit delimiter if there is one.
    pub fn apply(&mut self, access_unit: &mut Vec<u8>) -> ParameterSetOutcome {
        self.observe(access_unit);
        let (mut has_sps, mut has_pps, mut has_idr) = (false, false, false);
        let mut insert_at = 0;
        let mut units = nal_units(access_unit);
        let mut first = true;
        while let Some(range) = units.next_range() {
            let t = access_unit
                .get(range.start)
                .map(|&h| NalType::from_header(h));
            has_sps |= t == Some(NalType::SPS);
            has_pps |= t == Some(NalType::PPS);
            has_idr |= t == Some(NalType::IDR);
            if first && t == Some(NalType::AUD) {
                insert_at = range.end;
            }
            first = false;
        }
        let mut outcome = ParameterSetOutcome::default();
        if !has_idr {
            return outcome;
        }
        let mut prefix = Vec::new();
        if !has_sps && !self.sps.is_empty() {
            prefix.extend_from_slice(&START_CODE);
            prefix.extend_from_slice(&self.sps);
            outcome.inserted_sps = true;
        }
        if !has_pps && !self.pps.is_empty() {
            prefix.extend_from_slice(&START_CODE);
            prefix.extend_from_slice(&self.pps);
            outcome.inserted_pps = true;
        }
        outcome.still_missing =
            !(has_sps || outcome.inserted_sps) || !(has_pps || outcome.inserted_pps);
        if !prefix.is_empty() {
            let at = insert_at.min(access_unit.len());
            access_unit.splice(at..at, prefix);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPS: &[u8] = &[0x67, 0x42, 0xC0, 0x1F];
    const PPS: &[u8] = &[0x68, 0xCE, 0x3C, 0x80];

    fn annexb(nals: &[&[u8]]) -> Vec<u8> {
        nals.iter()
            .flat_map(|n| START_CODE.iter().chain(n.iter()).copied())
            .collect()
    }

    #[test]
    fn prepends_to_idr_only_and_after_aud() {
        let mut cache = ParameterSetCache::new();
        let mut idr = annexb(&[&[0x65, 1, 2]]);
        assert!(cache.apply(&mut idr).still_missing);
        assert_eq!(idr, annexb(&[&[0x65, 1, 2]]));

        let mut first = annexb(&[SPS, PPS, &[0x65, 9]]);
        let out = cache.apply(&mut first);
        assert_eq!(out, ParameterSetOutcome::default());

        let mut p = annexb(&[&[0x41, 3]]);
        cache.apply(&mut p);
        assert_eq!(p, annexb(&[&[0x41, 3]]));

        let mut idr = annexb(&[&[0x09, 0xF0], &[0x65, 7]]);
        let out = cache.apply(&mut idr);
        assert!(out.inserted_sps && out.inserted_pps && !out.still_missing);
        assert_eq!(idr, annexb(&[&[0x09, 0xF0], SPS, PPS, &[0x65, 7]]));
    }

    #[test]
    fn keeps_latest_and_inserts_only_what_is_missing() {
        let mut cache = ParameterSetCache::new();
        cache.observe(&annexb(&[SPS, PPS]));
        let newer_pps: &[u8] = &[0x68, 0xEE];
        cache.observe(&annexb(&[newer_pps]));
        let mut idr = annexb(&[SPS, &[0x65, 1]]);
        let out = cache.apply(&mut idr);
        assert!(!out.inserted_sps && out.inserted_pps);
        assert_eq!(idr, annexb(&[newer_pps, SPS, &[0x65, 1]]));
        assert_eq!(cache.pps(), Some(newer_pps));
    }
}
