//! The UDP half: IP discovery, keying, sealing/opening, keepalive and
//! RTCP receiver reports. Driven by [`crate::VoiceConnection`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtp::rtcp::{RtcpPacket, build};
use rtp::{ReceiveStats, RtpPacket, Ssrc};
use voice_crypto::{CryptoMode, NonceSeed, Sealer, TransportCipher};
use voice_proto::IpDiscovery;

use crate::error::VoiceSessionError;

/// Most SSRCs whose receive statistics are kept (one RR holds 31 blocks).
const MAX_TRACKED_SSRCS: usize = 64;
/// IP discovery attempts before the connection is restarted.
pub(crate) const DISCOVERY_TRIES: u32 = 5;

/// Where the UDP session is.
enum Phase {
    /// No READY yet.
    Idle,
    /// Discovery requests are out.
    Discovering { tries: u32, next: Instant },
    /// SELECT_PROTOCOL sent, waiting for the key.
    Selecting,
    /// Keyed: media flows.
    Keyed {
        sealer: Sealer,
        opener: TransportCipher,
    },
}

/// What a datagram turned out to be.
pub(crate) enum Datagram {
    /// The IP discovery answer: our external address.
    Discovered { address: String, port: u16 },
    /// A decrypted RTP packet (header and payload).
    Rtp(Vec<u8>),
    /// A decrypted RTCP compound packet.
    Rtcp(Vec<u8>),
    /// Not for us, or undecryptable: dropped and counted.
    Dropped,
}

pub(crate) struct MediaSession {
    phase: Phase,
    server: Option<SocketAddr>,
    ssrc: u32,
    mode: Option<CryptoMode>,
    stats: BTreeMap<u32, ReceiveStats>,
    next_keepalive: Option<Instant>,
    next_report: Option<Instant>,
    fir_seq: u8,
    retry: Duration,
    keepalive: Duration,
    report: Duration,
    seed: [u8; 24],
}

impl MediaSession {
    pub(crate) fn new(
        retry: Duration,
        keepalive: Duration,
        report: Duration,
        seed: [u8; 24],
    ) -> Self {
        Self {
            phase: Phase::Idle,
            server: None,
            ssrc: 0,
            mode: None,
            stats: BTreeMap::new(),
            next_keepalive: None,
            next_report: None,
            fir_seq: 0,
            retry,
            keepalive,
            report,
            seed,
        }
    }

    pub(crate) fn is_keyed(&self) -> bool {
        matches!(self.phase, Phase::Keyed { .. })
    }

    /// READY arrived: point at the media server and start discovery.
    /// Returns the discovery request to send.
    pub(crate) fn start(&mut self, server: SocketAddr, ssrc: u32, now: Instant) -> Vec<u8> {
        self.server = Some(server);
        self.ssrc = ssrc;
        self.mode = None;
        self.stats.clear();
        self.phase = Phase::Discovering {
            tries: 1,
            next: now + self.retry,
        };
        self.discovery_request()
    }

    fn discovery_request(&self) -> Vec<u8> {
        IpDiscovery::Request { ssrc: self.ssrc }
            .encode()
            .map(|b| b.to_vec())
            // A request has no address, so it always encodes.
            .unwrap_or_default()
    }

    /// SELECT_PROTOCOL was sent.
    pub(crate) fn selecting(&mut self) {
        self.phase = Phase::Selecting;
    }

    /// SESSION_DESCRIPTION: key the session.
    pub(crate) fn key(
        &mut self,
        mode: CryptoMode,
        key: &[u8; 32],
        now: Instant,
    ) -> Result<(), String> {
        let opener = TransportCipher::new(mode, key).map_err(|e| e.to_string())?;
        let sealer = Sealer::new(
            TransportCipher::new(mode, key).map_err(|e| e.to_string())?,
            NonceSeed::from_random(self.seed),
        );
        self.mode = Some(mode);
        self.phase = Phase::Keyed { sealer, opener };
        self.next_keepalive = Some(now + self.keepalive);
        self.next_report = Some(now + self.report);
        Ok(())
    }

    /// Forget everything (a fresh Identify follows).
    pub(crate) fn reset(&mut self) {
        self.phase = Phase::Idle;
        self.mode = None;
        self.stats.clear();
        self.next_keepalive = None;
        self.next_report = None;
    }

    pub(crate) fn on_datagram(&mut self, data: &[u8], now: Instant) -> Datagram {
        match &mut self.phase {
            Phase::Idle => Datagram::Dropped,
            // Decision (issue 15, item 7): any well-formed response is the
            // answer, whatever SSRC it carries; servers are not bound to
            // echo ours. @discordjs/voice `VoiceUDPSocket.ts`
            // `performIPDiscovery` accepts the first datagram whose type is
            // 2 and reads only the address and port (`parseLocalPacket`),
            // never the SSRC field.
            Phase::Discovering { .. } | Phase::Selecting => match IpDiscovery::decode(data) {
                Ok(IpDiscovery::Response { address, port, .. }) => {
                    if matches!(self.phase, Phase::Discovering { .. }) {
                        Datagram::Discovered { address, port }
                    } else {
                        Datagram::Dropped
                    }
                }
                _ => Datagram::Dropped,
            },
            Phase::Keyed { opener, .. } => {
                if data.len() == voice_proto::IP_DISCOVERY_LEN && IpDiscovery::decode(data).is_ok()
                {
                    return Datagram::Dropped;
                }
                let mut buf = data.to_vec();
                if rtp::is_rtcp(&buf) {
                    return match opener.open_rtcp_in_place(&mut buf) {
                        Ok(o) => {
                            buf.truncate(o.plain_len);
                            self.on_rtcp(&buf, now);
                            Datagram::Rtcp(buf)
                        }
                        Err(_) => Datagram::Dropped,
                    };
                }
                match opener.open_rtp_in_place(&mut buf) {
                    Ok(o) => {
                        buf.truncate(o.plain_len);
                        match RtpPacket::parse(&buf) {
                            Ok(p) => {
                                self.track(p.ssrc().0, now, &p);
                                Datagram::Rtp(buf)
                            }
                            Err(_) => Datagram::Dropped,
                        }
                    }
                    Err(_) => Datagram::Dropped,
                }
            }
        }
    }

    fn track(&mut self, ssrc: u32, now: Instant, p: &RtpPacket<'_>) {
        if !self.stats.contains_key(&ssrc) && self.stats.len() >= MAX_TRACKED_SSRCS {
            return;
        }
        self.stats
            .entry(ssrc)
            .or_insert_with(|| ReceiveStats::new(90_000))
            .on_packet(now, p.sequence(), p.timestamp());
    }

    fn on_rtcp(&mut self, plain: &[u8], now: Instant) {
        for pkt in rtp::rtcp::parse_compound(plain) {
            match pkt {
                Ok(RtcpPacket::SenderReport(sr)) => {
                    if let Some(s) = self.stats.get_mut(&sr.ssrc.0) {
                        s.on_sender_report(now, sr.info.ntp_timestamp);
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }

    /// Seals a plaintext RTP packet for sending.
    pub(crate) fn seal_rtp(&mut self, mut plain: Vec<u8>) -> Result<Vec<u8>, VoiceSessionError> {
        let Phase::Keyed { sealer, .. } = &mut self.phase else {
            return Err(VoiceSessionError::NotKeyed);
        };
        sealer
            .seal_rtp(&mut plain)
            .map_err(|e| VoiceSessionError::Packet(e.to_string()))?;
        Ok(plain)
    }

    /// Seals a plaintext RTCP compound packet for sending.
    pub(crate) fn seal_rtcp(&mut self, mut plain: Vec<u8>) -> Result<Vec<u8>, VoiceSessionError> {
        let Phase::Keyed { sealer, .. } = &mut self.phase else {
            return Err(VoiceSessionError::NotKeyed);
        };
        sealer
            .seal_rtcp(&mut plain)
            .map_err(|e| VoiceSessionError::Packet(e.to_string()))?;
        Ok(plain)
    }

    pub(crate) fn pli(&mut self, media: u32) -> Result<Vec<u8>, VoiceSessionError> {
        let mut out = Vec::with_capacity(12);
        build::write_pli(&mut out, Ssrc(self.ssrc), Ssrc(media))
            .map_err(|e| VoiceSessionError::Packet(e.to_string()))?;
        self.fir_seq = self.fir_seq.wrapping_add(1);
        build::write_fir(
            &mut out,
            Ssrc(self.ssrc),
            &[rtp::rtcp::FirEntry {
                ssrc: Ssrc(media),
                seq_nr: self.fir_seq,
            }],
        )
        .map_err(|e| VoiceSessionError::Packet(e.to_string()))?;
        self.seal_rtcp(out)
    }

    pub(crate) fn nack(
        &mut self,
        media: u32,
        lost: &[rtp::SeqNo],
    ) -> Result<Vec<u8>, VoiceSessionError> {
        let mut out = Vec::with_capacity(16);
        build::write_nack(&mut out, Ssrc(self.ssrc), Ssrc(media), lost)
            .map_err(|e| VoiceSessionError::Packet(e.to_string()))?;
        self.seal_rtcp(out)
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let discovery = match self.phase {
            Phase::Discovering { next, .. } => Some(next),
            _ => None,
        };
        [discovery, self.next_keepalive, self.next_report]
            .into_iter()
            .flatten()
            .min()
    }

    /// Timers. Returns datagrams to send, or `Err` when discovery gave up.
    pub(crate) fn handle_timeout(
        &mut self,
        now: Instant,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<(), ()> {
        if let Phase::Discovering { tries, next } = &mut self.phase
            && now >= *next
        {
            if *tries >= DISCOVERY_TRIES {
                return Err(());
            }
            *tries += 1;
            *next = now + self.retry;
            out.push(self.discovery_request());
        }
        if self.next_keepalive.is_some_and(|t| now >= t) {
            self.next_keepalive = Some(now + self.keepalive);
            // songbird and Discord clients: the BE SSRC, every 5 s.
            out.push(self.ssrc.to_be_bytes().to_vec());
        }
        if self.next_report.is_some_and(|t| now >= t) {
            self.next_report = Some(now + self.report);
            if let Some(rr) = self.receiver_report(now) {
                out.push(rr);
            }
        }
        Ok(())
    }

    fn receiver_report(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.stats.is_empty() {
            return None;
        }
        let blocks: Vec<_> = self
            .stats
            .iter_mut()
            .take(31)
            .map(|(ssrc, s)| s.report_block(now, Ssrc(*ssrc)))
            .collect();
        let mut out = Vec::with_capacity(8 + 24 * blocks.len());
        build::write_rr(&mut out, Ssrc(self.ssrc), &blocks).ok()?;
        self.seal_rtcp(out).ok()
    }

    /// Packets received per SSRC so far.
    pub(crate) fn received(&self, ssrc: u32) -> u64 {
        self.stats.get(&ssrc).map_or(0, ReceiveStats::received)
    }
}
