//! The UDP side: IP discovery, decryption, RTCP feedback (NACK → RTX,
//! PLI/FIR → keyframe), and client media (forwarded to the room, video
//! decoded for the report).

use std::net::SocketAddr;
use std::time::Instant;

use rtp::Ssrc;
use rtp::rtcp::{self, RtcpPacket};
use voice_proto::{IP_DISCOVERY_LEN, IpDiscovery};

use super::{Core, Output, SessionKey, video_pts};
use crate::egress::{EgressStream, PacketSpec};

/// UD-VC's UDP ping: request magic, echoed with the response magic.
const PING_REQUEST: u32 = 0x1337_CAFE;
const PING_RESPONSE: u32 = 0x1337_F00D;

/// A client RTP packet, copied out of the receive buffer.
pub(super) struct Inbound {
    pub ssrc: u32,
    pub pt: u8,
    pub seq: u16,
    pub timestamp: u32,
    pub marker: bool,
    pub payload: Vec<u8>,
    /// It carries a well-formed playout-delay element (see
    /// `rtp::send::PLAYOUT_DELAY_ID` for the id decision).
    pub playout_delay: bool,
    /// It arrived as RTX and was unwrapped to the primary stream.
    pub rtx: bool,
}

impl Core {
    /// A datagram arrived on the media socket.
    pub(crate) fn on_datagram(&mut self, from: SocketAddr, data: Vec<u8>, now: Instant) {
        if self.crashed {
            return;
        }
        if let Some(n) = self.netem_in.as_mut() {
            let mut v = Vec::new();
            n.process(now, from, data, &mut v);
            for (a, d) in v {
                self.handle_datagram(a, d, now);
            }
        } else {
            self.handle_datagram(from, data, now);
        }
    }

    pub(super) fn handle_datagram(&mut self, from: SocketAddr, mut data: Vec<u8>, now: Instant) {
        if data.len() == IP_DISCOVERY_LEN && data.get(..2) == Some(&[0, 1]) {
            self.ip_discovery(from, &data);
            return;
        }
        if data.len() == 8 && data.get(..4) == Some(&PING_REQUEST.to_be_bytes()) {
            let mut reply = data.clone();
            reply[..4].copy_from_slice(&PING_RESPONSE.to_be_bytes());
            self.out.push_back(Output::Udp(from, reply));
            return;
        }
        let Some(&key) = self.addr_index.get(&from) else {
            self.dropped_datagrams += 1;
            return;
        };
        if data.len() < 12 {
            // Keepalives (4-byte SSRC, 8-byte counters): nothing to do.
            return;
        }
        let Some(s) = self.sessions.get_mut(&key) else {
            return;
        };
        let Some(sealer) = s.sealer.as_ref() else {
            self.dropped_datagrams += 1;
            return;
        };
        if rtp::is_rtcp(&data) {
            let Ok(opened) = sealer.cipher().open_rtcp_in_place(&mut data) else {
                s.report.decrypt_failures += 1;
                self.dropped_datagrams += 1;
                return;
            };
            data.truncate(opened.plain_len);
            self.on_rtcp(key, &data, now);
            return;
        }
        let inbound = match sealer.cipher().open_rtp_packet(&mut data) {
            Ok(p) => Inbound {
                ssrc: p.ssrc().0,
                pt: p.payload_type().get(),
                seq: p.sequence().0,
                timestamp: p.timestamp().0,
                marker: p.marker(),
                payload: p.payload().to_vec(),
                playout_delay: p
                    .extension()
                    .filter(|e| e.is_one_byte())
                    .and_then(|e| e.find(rtp::send::PLAYOUT_DELAY_ID))
                    .and_then(rtp::send::parse_playout_delay)
                    .is_some(),
                rtx: false,
            },
            Err(_) => {
                s.report.decrypt_failures += 1;
                self.dropped_datagrams += 1;
                return;
            }
        };
        s.report.rtp_received += 1;
        if s.report.rtp_ssrcs.len() < 64 || s.report.rtp_ssrcs.contains_key(&inbound.ssrc) {
            *s.report.rtp_ssrcs.entry(inbound.ssrc).or_default() += 1;
        }
        if !s.report.payload_types.contains(&inbound.pt) && s.report.payload_types.len() < 32 {
            s.report.payload_types.push(inbound.pt);
        }
        self.on_client_rtp(key, inbound, now);
    }

    fn ip_discovery(&mut self, from: SocketAddr, data: &[u8]) {
        let Ok(IpDiscovery::Request { ssrc }) = IpDiscovery::decode(data) else {
            self.dropped_datagrams += 1;
            return;
        };
        let Some(key) = self
            .sessions
            .iter()
            .find(|(_, s)| s.ssrc == ssrc)
            .map(|(k, _)| *k)
        else {
            self.dropped_datagrams += 1;
            return;
        };
        if let Some(s) = self.sessions.get_mut(&key) {
            if let Some(old) = s.udp.replace(from) {
                self.addr_index.remove(&old);
            }
            s.report.udp_addr = Some(from.to_string());
        }
        self.addr_index.insert(from, key);
        let reply = IpDiscovery::Response {
            ssrc,
            address: from.ip().to_string(),
            port: from.port(),
        };
        if let Ok(bytes) = reply.encode() {
            self.out.push_back(Output::Udp(from, bytes.to_vec()));
        }
    }

    pub(super) fn on_rtcp(&mut self, key: SessionKey, plain: &[u8], now: Instant) {
        let mut nacks: Vec<(u32, Vec<u16>)> = Vec::new();
        let mut keyframes: Vec<u32> = Vec::new();
        let mut sender_reports = 0u64;
        for pkt in rtcp::parse_compound(plain) {
            let Ok(pkt) = pkt else { break };
            match pkt {
                RtcpPacket::SenderReport(_) => sender_reports += 1,
                RtcpPacket::Nack(n) => {
                    let lost: Vec<u16> = n.lost_sequences().map(|s| s.0).take(256).collect();
                    nacks.push((n.media_ssrc.0, lost));
                }
                RtcpPacket::Pli { media_ssrc, .. } => keyframes.push(media_ssrc.0),
                RtcpPacket::Fir(f) => keyframes.extend(f.entries().map(|e| e.ssrc.0)),
                _ => {}
            }
        }
        let Some(s) = self.sessions.get_mut(&key) else {
            return;
        };
        s.report.rtcp_received += 1;
        s.report.sender_reports_received += sender_reports;
        let mut resend = Vec::new();
        for (media, lost) in nacks {
            s.report.nacked += lost.len() as u64;
            let Some(e) = s.egress.get_mut(&media) else {
                continue;
            };
            let rtx = e.rtx;
            for seq in lost {
                let mut buf = Vec::new();
                if e.retransmit(seq, rtx, &mut buf) {
                    resend.push(buf);
                }
            }
        }
        s.report.rtx_sent += resend.len() as u64;
        s.report.keyframe_requests += keyframes.len() as u64;
        for buf in resend {
            self.send_sealed(key, buf, false, now);
        }
        for media in keyframes {
            self.request_keyframe(key.0, media, now);
        }
    }

    /// A receiver lost the picture of `media`: a simulated source forces
    /// an IDR on the layer with that SSRC, a client source gets a PLI.
    pub(super) fn request_keyframe(
        &mut self,
        room: crate::config::RoomId,
        media: u32,
        now: Instant,
    ) {
        if let Some(r) = self.rooms.get_mut(&room) {
            for p in r.participants.values_mut() {
                if let Some(v) = p.video.as_mut()
                    && let Some(layer) = v.layer_of(media)
                {
                    v.force_keyframe(layer);
                    return;
                }
            }
        }
        let publisher = self
            .sessions
            .iter()
            .find(|(k, s)| k.0 == room && s.streams.iter().any(|d| d.ssrc == Some(media)))
            .map(|(k, s)| (*k, s.ssrc));
        if let Some((pk, own)) = publisher {
            let mut buf = Vec::new();
            if rtcp::build::write_pli(&mut buf, Ssrc(own), Ssrc(media)).is_ok() {
                self.send_sealed(pk, buf, true, now);
            }
        }
    }

    fn on_client_rtp(&mut self, key: SessionKey, mut pkt: Inbound, now: Instant) {
        let Some(s) = self.sessions.get(&key) else {
            return;
        };
        if pkt.ssrc == s.ssrc {
            // Discord drops audio with a payload type the client did not
            // declare for Opus; so does the simulator, counting it.
            if pkt.pt != super::opus_pt(&s.codecs) {
                if let Some(s) = self.sessions.get_mut(&key) {
                    s.report.audio_dropped_bad_payload_type += 1;
                }
                return;
            }
            self.forward_audio(key, &pkt, now);
            self.record_audio(key, pkt, now);
            return;
        }
        // RTX from the client: unwrap to the primary stream first. RFC
        // 4588: the client's declared RTX payload type, OSN first.
        if let Some(d) = s.streams.iter().find(|d| d.rtx_ssrc == Some(pkt.ssrc)) {
            let Some(primary) = d.ssrc else { return };
            let primary_pt = s
                .codecs
                .iter()
                .find(|c| c.rtx_payload_type == Some(pkt.pt))
                .map(|c| c.payload_type);
            let Some(primary_pt) = primary_pt.filter(|_| pkt.payload.len() >= 2) else {
                if let Some(s) = self.sessions.get_mut(&key) {
                    s.report.publish_bad_rtx += 1;
                }
                return;
            };
            pkt.seq = u16::from_be_bytes([pkt.payload[0], pkt.payload[1]]);
            pkt.payload.drain(..2);
            pkt.ssrc = primary;
            pkt.pt = primary_pt;
            pkt.rtx = true;
        }
        let is_video = s.streams.iter().any(|d| d.ssrc == Some(pkt.ssrc))
            || s.client_video.as_ref().is_some_and(|v| {
                v.video_ssrc == Some(pkt.ssrc) || v.streams.iter().any(|d| d.ssrc == Some(pkt.ssrc))
            });
        if !is_video {
            // Neither the session's audio SSRC nor an announced video or
            // RTX SSRC: dropped, as Discord does, and counted.
            if let Some(s) = self.sessions.get_mut(&key) {
                s.report.rtp_dropped_unknown_ssrc += 1;
            }
            return;
        }
        let codec = s
            .codecs
            .iter()
            .find(|c| c.payload_type == pkt.pt)
            .map_or_else(|| "H264".to_owned(), |c| c.name.clone());
        // Counted, not dropped: Discord plays video from senders that put
        // playout-delay under id 5 (Discord-video-stream, clankvox).
        if !pkt.playout_delay
            && let Some(s) = self.sessions.get_mut(&key)
        {
            s.report.video_without_playout_delay += 1;
        }
        if codec.eq_ignore_ascii_case("H264") {
            self.publish_h264(key, &pkt, now);
        }
        self.forward_video(key, &pkt, &codec, now);
    }

    /// Hands a client's audio packet to the recorder, DAVE-decrypted
    /// first when the session runs DAVE (by a simulated member of the
    /// room, as published video is; a frame none can decrypt is dropped
    /// and counted).
    fn record_audio(&mut self, key: SessionKey, pkt: Inbound, now: Instant) {
        let unix_ms = self.unix_ms(now);
        let Some(s) = self.sessions.get_mut(&key) else {
            return;
        };
        s.report.audio_received += 1;
        let mut payload = pkt.payload;
        let mut dave = false;
        if s.dave_group.is_some() {
            if super::dave::is_dave_frame(&payload) {
                let plain = self
                    .rooms
                    .get_mut(&key.0)
                    .and_then(|r| super::dave::decrypt_audio(r, key.1, &payload));
                match plain {
                    Some(p) => {
                        payload = p;
                        dave = true;
                        s.report.audio_dave_decrypted += 1;
                    }
                    None => {
                        s.report.audio_dave_failures += 1;
                        return;
                    }
                }
            } else {
                s.report.audio_dave_passthrough += 1;
            }
        }
        if payload.is_empty() {
            return;
        }
        self.out
            .push_back(Output::Record(crate::recorder::RecorderEvent::Audio(
                crate::recorder::AudioIn {
                    room: key.0,
                    user_id: key.1,
                    ssrc: pkt.ssrc,
                    timestamp: pkt.timestamp,
                    payload,
                    dave,
                    at: now,
                    unix_ms,
                },
            )));
    }

    fn publish_h264(&mut self, key: SessionKey, pkt: &Inbound, now: Instant) {
        let unix = self.unix_ms(now);
        let Some(s) = self.sessions.get_mut(&key) else {
            return;
        };
        if !s.publish.contains_key(&pkt.ssrc) && s.publish.len() >= 4 {
            return;
        }
        let dave = s.dave_group.is_some();
        let mut room = self.rooms.get_mut(&key.0);
        let (mut decrypted, mut passthrough, mut failures) = (0u64, 0u64, 0u64);
        // DAVE-framed access units are decrypted by a simulated member of
        // the group; anything else is decoded as it came (passthrough).
        let mut e2ee = |au: &mut Vec<u8>| -> bool {
            if !dave || !super::dave::is_dave_frame(au) {
                passthrough += u64::from(dave);
                return true;
            }
            let plain = room
                .as_deref_mut()
                .and_then(|r| super::dave::decrypt_published(r, key.1, au));
            match plain {
                Some(p) => {
                    *au = p;
                    decrypted += 1;
                    true
                }
                None => {
                    failures += 1;
                    false
                }
            }
        };
        let dec = s
            .publish
            .entry(pkt.ssrc)
            .or_insert_with(crate::publish::PublishDecoder::new);
        let packet = crate::publish::PublishedPacket {
            seq: pkt.seq,
            timestamp: pkt.timestamp,
            marker: pkt.marker,
            payload: pkt.payload.clone(),
            rtx: pkt.rtx,
        };
        let outcome = dec.push(packet, now, unix, &mut e2ee);
        s.report.published_frames += outcome.decoded;
        s.report.publish_rtx_received += u64::from(pkt.rtx);
        s.report.publish_rtx_repaired += u64::from(outcome.repaired);
        s.report.publish_lost += outcome.lost;
        s.report.publish_nacked += outcome.nack.len() as u64;
        s.report.dave_published_decrypted += decrypted;
        s.report.dave_published_passthrough += passthrough;
        s.report.dave_published_failures += failures;
        let own = s.ssrc;
        if let Some(f) = outcome.frame {
            self.store_published(key, f);
        }
        if !outcome.nack.is_empty() {
            let lost: Vec<rtp::SeqNo> = outcome.nack.iter().map(|s| rtp::SeqNo(*s)).collect();
            let mut buf = Vec::new();
            if rtcp::build::write_nack(&mut buf, Ssrc(own), Ssrc(pkt.ssrc), &lost).is_ok() {
                self.send_sealed(key, buf, true, now);
            }
        }
        if outcome.want_keyframe {
            let mut buf = Vec::new();
            if rtcp::build::write_pli(&mut buf, Ssrc(own), Ssrc(pkt.ssrc)).is_ok() {
                self.send_sealed(key, buf, true, now);
            }
        }
    }

    /// Receivers of media from `key` (everyone else in the room with a
    /// keyed UDP path).
    pub(super) fn media_receivers(
        &self,
        room: crate::config::RoomId,
        except: Option<u64>,
    ) -> Vec<SessionKey> {
        self.sessions
            .iter()
            .filter(|(k, s)| {
                k.0 == room && Some(k.1) != except && s.udp.is_some() && s.sealer.is_some()
            })
            .map(|(k, _)| *k)
            .collect()
    }

    fn forward_audio(&mut self, key: SessionKey, pkt: &Inbound, now: Instant) {
        for r in self.media_receivers(key.0, Some(key.1)) {
            let Some(s) = self.sessions.get_mut(&r) else {
                continue;
            };
            let pt = super::opus_pt(&s.codecs);
            let e = s
                .egress
                .entry(pkt.ssrc)
                .or_insert_with(|| EgressStream::new(pkt.ssrc, pkt.seq, None));
            let spec = PacketSpec {
                pt,
                timestamp: pkt.timestamp,
                marker: pkt.marker,
                extension: false,
                padding: 0,
                payload: &pkt.payload,
            };
            let mut buf = Vec::new();
            if e.build(pkt.seq, &spec, &mut buf) {
                self.send_sealed(r, buf, false, now);
            }
        }
    }

    fn forward_video(&mut self, key: SessionKey, pkt: &Inbound, codec: &str, now: Instant) {
        let rtx_src = self.sessions.get(&key).and_then(|s| {
            s.streams
                .iter()
                .find(|d| d.ssrc == Some(pkt.ssrc))
                .and_then(|d| d.rtx_ssrc)
        });
        for r in self.video_receivers(key.0, Some(key.1)) {
            let Some(s) = self.sessions.get_mut(&r) else {
                continue;
            };
            let wanted = s
                .wants
                .streams
                .get(&pkt.ssrc)
                .copied()
                .or(s.wants.any)
                .unwrap_or(100);
            if wanted == 0 {
                continue;
            }
            let Some((pt, rtx_pt)) = video_pts(&s.codecs, codec) else {
                continue;
            };
            let rtx = rtx_src.zip(rtx_pt);
            let e = s
                .egress
                .entry(pkt.ssrc)
                .or_insert_with(|| EgressStream::new(pkt.ssrc, pkt.seq, rtx));
            let spec = PacketSpec {
                pt,
                timestamp: pkt.timestamp,
                marker: pkt.marker,
                extension: true,
                padding: 0,
                payload: &pkt.payload,
            };
            let mut buf = Vec::new();
            if e.build(pkt.seq, &spec, &mut buf) {
                self.send_sealed(r, buf, false, now);
            }
        }
    }

    /// Seals `plain` with the session's transport cipher and queues it
    /// (through the egress network emulation).
    pub(super) fn send_sealed(
        &mut self,
        key: SessionKey,
        mut plain: Vec<u8>,
        is_rtcp: bool,
        now: Instant,
    ) {
        let Some(s) = self.sessions.get_mut(&key) else {
            return;
        };
        let (Some(addr), Some(sealer)) = (s.udp, s.sealer.as_mut()) else {
            return;
        };
        let sealed = if is_rtcp {
            sealer.seal_rtcp(&mut plain)
        } else {
            sealer.seal_rtp(&mut plain)
        };
        if sealed.is_err() {
            return;
        }
        s.report.packets_sent += 1;
        match self.netem_out.as_mut() {
            Some(n) => {
                n.process(now, addr, plain, &mut self.pending_udp);
                for (a, d) in self.pending_udp.drain(..) {
                    self.out.push_back(Output::Udp(a, d));
                }
            }
            None => self.out.push_back(Output::Udp(addr, plain)),
        }
    }
}
