//! Simulated participants: membership, speaking, and the media tick that
//! paces their audio and video to every receiver (per-receiver payload
//! types, sequence numbers and layers), plus RTCP sender reports.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use rand::Rng;
use rtp::Ssrc;
use voice_proto::{ClientDisconnect, ClientsConnect, MediaSinkWants, UserId, VoiceMessage};

use super::ws::{participant_video, speaking_msg};
use super::{Core, SessionKey, opus_pt, video_pts};
use crate::config::{ParticipantSpec, RoomId, RoomKind};
use crate::egress::{EgressStream, PacketSpec};
use crate::participant::{FrameCodec, Participant, VideoState};

/// RTP payloads of one access unit: `(payload, marker)`.
type Payloads = Vec<(Vec<u8>, bool)>;

/// `(payload type, rtx payload type)` a receiver declared for H264 and for
/// VP8 (`None`: it does not decode that codec and gets none of its frames).
type CodecPts = [Option<(u8, Option<u8>)>; 2];

/// One receiver's plan for a frame: (receiver, the layers its op 15 asks
/// for, payload types per codec).
type Plan = (SessionKey, Vec<usize>, CodecPts);

/// Whether a receiver's op 15 asks for the stream `ssrc`: its own key,
/// else `any`, else (no op 15 at all, or neither) yes. user-docs
/// ("Simulcasting"): "A special key of `any` applies to otherwise
/// unspecified streams. Values are `0` through `100`, where `0` disables a
/// stream". Discord's default without any wants is not documented; the
/// simulator sends the stream (decision).
pub(super) fn wanted(wants: &MediaSinkWants, ssrc: u32) -> bool {
    wants
        .streams
        .get(&ssrc)
        .copied()
        .or(wants.any)
        .unwrap_or(100)
        > 0
}

fn pts_for(pts: &CodecPts, codec: FrameCodec) -> Option<(u8, Option<u8>)> {
    match codec {
        FrameCodec::H264 => pts[0],
        FrameCodec::Vp8 => pts[1],
    }
}

/// Every this many media packets one gets RTP padding under the padding fault.
const PAD_EVERY: u32 = 3;
/// Every this many media packets an all-padding packet follows.
const PAD_ONLY_EVERY: u32 = 20;

/// Seconds between 1900 (NTP epoch) and 1970.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

impl Core {
    pub(super) fn add_participant(&mut self, room: RoomId, spec: ParticipantSpec, now: Instant) {
        self.remove_participant(room, spec.user_id, now);
        let audio = self.alloc_ssrc(1);
        let video = self.alloc_ssrc(spec.video.as_ref().map_or(2, VideoState::ssrcs_needed));
        let seed = self.rng.random::<u64>();
        let user = spec.user_id;
        let Ok(p) = Participant::new(spec, audio, video, seed, now) else {
            return;
        };
        let video_msg = participant_video(&p);
        self.rooms
            .entry(room)
            .or_default()
            .participants
            .insert(user, p);
        let connect = VoiceMessage::ClientsConnect(ClientsConnect {
            user_ids: vec![UserId(user)],
        });
        self.broadcast(room, Some(user), &connect);
        if let Some(v) = video_msg {
            self.broadcast(room, Some(user), &VoiceMessage::Video(v));
        }
        // After op 11: clients recognise the member before its proposal.
        self.dave_sync_room(room, now);
    }

    pub(super) fn remove_participant(&mut self, room: RoomId, user: u64, now: Instant) {
        let removed = self
            .rooms
            .get_mut(&room)
            .and_then(|r| r.participants.remove(&user));
        if let Some(p) = removed {
            let msg = VoiceMessage::ClientDisconnect(ClientDisconnect {
                user_id: UserId(user),
            });
            self.broadcast(room, Some(user), &msg);
            let group = self
                .rooms
                .get(&room)
                .and_then(|r| r.kind.as_ref())
                .map(super::dave::group_id);
            if let (Some(_), Some(group)) = (p.dave, group) {
                self.dave_disconnect(group, user, now);
            }
        }
    }

    pub(super) fn set_speaking(&mut self, room: RoomId, user: u64, on: bool, now: Instant) {
        let Some(r) = self.rooms.get_mut(&room) else {
            return;
        };
        let soundshare = matches!(r.kind, Some(RoomKind::Stream { .. }));
        let Some(p) = r.participants.get_mut(&user) else {
            return;
        };
        let Some(ssrc) = p.audio_ssrc else {
            return;
        };
        if p.speaking == on {
            return;
        }
        p.set_speaking(on, now);
        let msg = VoiceMessage::Speaking(speaking_msg(user, ssrc, on, soundshare));
        self.broadcast(room, Some(user), &msg);
    }

    /// A simulated participant says a line (20 ms Opus packets): op 5
    /// Speaking (microphone) to the room now unless it is already
    /// speaking, the packets from the next frame period on, then the
    /// five-frame silence tail and op 5 `speaking: 0`.
    pub(crate) fn say(
        &mut self,
        room: RoomId,
        user: u64,
        packets: Vec<Vec<u8>>,
        now: Instant,
    ) -> Result<SayStarted, SayError> {
        if packets.is_empty() {
            return Err(SayError::Empty);
        }
        let count = packets.len();
        let r = self.rooms.get_mut(&room).ok_or(SayError::NoParticipant)?;
        let soundshare = matches!(r.kind, Some(RoomKind::Stream { .. }));
        let p = r
            .participants
            .get_mut(&user)
            .ok_or(SayError::NoParticipant)?;
        let ssrc = p.audio_ssrc.ok_or(SayError::NoAudio)?;
        let (announce, ahead_ms) = p.say(packets, now).ok_or(SayError::NoAudio)?;
        if announce {
            let msg = VoiceMessage::Speaking(speaking_msg(user, ssrc, true, soundshare));
            self.broadcast(room, Some(user), &msg);
        }
        Ok(SayStarted {
            ssrc,
            packets: count,
            duration_ms: count as u64 * u64::from(sim_content::OPUS_FRAME_MS),
            starts_in_ms: ahead_ms + u64::from(sim_content::OPUS_FRAME_MS),
        })
    }

    /// Sends whatever participant media is due.
    pub(super) fn media_tick(&mut self, now: Instant) {
        let rooms: Vec<RoomId> = self.rooms.keys().copied().collect();
        for room in rooms {
            let users: Vec<u64> = self
                .rooms
                .get(&room)
                .map(|r| r.participants.keys().copied().collect())
                .unwrap_or_default();
            for user in users {
                self.participant_audio(room, user, now);
                self.participant_video(room, user, now);
            }
        }
    }

    fn participant_audio(&mut self, room: RoomId, user: u64, now: Instant) {
        let Some(p) = self
            .rooms
            .get_mut(&room)
            .and_then(|r| r.participants.get_mut(&user))
        else {
            return;
        };
        let Some(ssrc) = p.audio_ssrc else {
            return;
        };
        let packets = p.poll_audio(now);
        if p.take_speaking_off() {
            let soundshare = self
                .rooms
                .get(&room)
                .is_some_and(|r| matches!(r.kind, Some(RoomKind::Stream { .. })));
            // After this call's packets (the tail's last frame) are sent.
            let msg = VoiceMessage::Speaking(speaking_msg(user, ssrc, false, soundshare));
            self.send_audio(room, user, ssrc, &packets, now);
            self.broadcast(room, Some(user), &msg);
            return;
        }
        self.send_audio(room, user, ssrc, &packets, now);
    }

    /// Sends a participant's due Opus packets to every receiver.
    fn send_audio(
        &mut self,
        room: RoomId,
        user: u64,
        ssrc: u32,
        packets: &[(u32, Vec<u8>)],
        now: Instant,
    ) {
        if packets.is_empty() {
            return;
        }
        let Some(p) = self
            .rooms
            .get_mut(&room)
            .and_then(|r| r.participants.get_mut(&user))
        else {
            return;
        };
        // DAVE: encrypt each frame once for the DAVE receivers (`None` =
        // encryption failed: the frame is dropped for them).
        let dave_member = p.dave.is_some();
        let encrypted: Option<Vec<Option<Vec<u8>>>> = match p.dave.as_mut() {
            Some(m) if m.can_encrypt() => Some(
                packets
                    .iter()
                    .map(|(_, payload)| match m.encrypt_opus(payload) {
                        Ok(e) => {
                            p.dave_stats.encrypted += 1;
                            Some(e)
                        }
                        Err(_) => {
                            p.dave_stats.failures += 1;
                            None
                        }
                    })
                    .collect(),
            ),
            Some(_) => {
                p.dave_stats.passthrough += packets.len() as u64;
                None
            }
            None => None,
        };
        let receivers = self.media_receivers(room, Some(user));
        for (i, (ts, plain)) in packets.iter().enumerate() {
            let enc = encrypted
                .as_ref()
                .map(|e| e.get(i).and_then(Option::as_ref));
            for &r in &receivers {
                let pt = self.sessions.get(&r).map_or(120, |s| opus_pt(&s.codecs));
                let Some(payload) = self.dave_pick(r, dave_member, enc, plain) else {
                    continue;
                };
                self.send_generated(r, ssrc, None, pt, *ts, true, false, payload, now);
            }
        }
    }

    /// What receiver `r` gets of one frame of a participant: for DAVE
    /// receivers of a DAVE participant the encrypted version (`encrypted`
    /// is `Some` when the sender encrypts, `Some(None)` when this frame's
    /// encryption failed: dropped) or, before the sender is ready, the
    /// plain one (passthrough); the plain one for everyone else. Counts
    /// DAVE frames in the receiver's report.
    fn dave_pick<'a, T: ?Sized>(
        &mut self,
        r: SessionKey,
        dave_member: bool,
        encrypted: Option<Option<&'a T>>,
        plain: &'a T,
    ) -> Option<&'a T> {
        if !dave_member || !self.is_dave_receiver(r) {
            return Some(plain);
        }
        let s = self.sessions.get_mut(&r)?;
        match encrypted {
            Some(Some(e)) => {
                s.report.dave_encrypted_frames_sent += 1;
                Some(e)
            }
            Some(None) => None,
            None => {
                s.report.dave_passthrough_frames_sent += 1;
                Some(plain)
            }
        }
    }

    /// One video frame of a participant to every receiver, per simulcast
    /// layer: each layer is its own stream (SSRC, RTX SSRC, sequence
    /// space), sent to the receivers whose op 15 asks for its SSRC, from
    /// a keyframe on (a receiver that newly asks for a layer waits for the
    /// layer's next keyframe, which is forced). A layer no receiver asks for
    /// is not encoded.
    fn participant_video(&mut self, room: RoomId, user: u64, now: Instant) {
        let receivers = self.video_receivers(room, Some(user));
        let Some(p) = self
            .rooms
            .get_mut(&room)
            .and_then(|r| r.participants.get_mut(&user))
        else {
            return;
        };
        let Some(v) = p.video.as_mut() else {
            return;
        };
        let ssrcs: Vec<(u32, u32)> = v.layers.iter().map(|l| (l.ssrc, l.rtx_ssrc)).collect();
        // Which layers each receiver asks for; a layer it no longer asks
        // for stops at once.
        let mut plan: Vec<Plan> = Vec::new();
        let mut encode = vec![false; ssrcs.len()];
        for &r in &receivers {
            let Some(s) = self.sessions.get_mut(&r) else {
                continue;
            };
            let pts: CodecPts = [
                video_pts(&s.codecs, FrameCodec::H264.name()),
                video_pts(&s.codecs, FrameCodec::Vp8.name()),
            ];
            if pts.iter().all(Option::is_none) {
                continue;
            }
            let asked: Vec<usize> = (0..ssrcs.len())
                .filter(|&i| wanted(&s.wants, ssrcs[i].0))
                .collect();
            for (i, &(ssrc, _)) in ssrcs.iter().enumerate() {
                if !asked.contains(&i) {
                    s.forwarding.remove(&ssrc);
                }
            }
            for &i in &asked {
                encode[i] = true;
            }
            plan.push((r, asked, pts));
        }
        if !encode.contains(&true) {
            return;
        }
        let frames = v.poll_frame(now, &encode);
        if frames.is_empty() {
            return;
        }
        let mut need_key = BTreeSet::new();
        let mut sends: Vec<(SessionKey, usize, CodecPts)> = Vec::new();
        for (r, asked, pts) in plan {
            let Some(s) = self.sessions.get_mut(&r) else {
                continue;
            };
            for i in asked {
                let Some(f) = frames.iter().find(|f| f.layer == i) else {
                    continue;
                };
                let ssrc = ssrcs[i].0;
                if !s.forwarding.contains(&ssrc) {
                    // A layer starts on its keyframe.
                    if !f.keyframe {
                        need_key.insert(i);
                        continue;
                    }
                    s.forwarding.insert(ssrc);
                }
                sends.push((r, i, pts));
            }
        }
        for l in need_key {
            v.force_keyframe(l);
        }
        // DAVE: encrypt each layer's access unit once, for the layers DAVE
        // receivers get, then packetize the ciphertext (§5.5 order).
        let dave_member = p.dave.is_some();
        let mut encrypted: Option<BTreeMap<usize, Option<Payloads>>> = None;
        if let Some(m) = p.dave.as_mut() {
            let dave_layers: BTreeSet<usize> = sends
                .iter()
                .filter(|(r, ..)| self.sessions.get(r).is_some_and(|s| s.dave_group.is_some()))
                .map(|(_, l, ..)| *l)
                .collect();
            if m.can_encrypt() {
                let mut map = BTreeMap::new();
                for f in frames.iter().filter(|f| dave_layers.contains(&f.layer)) {
                    let encrypted = match f.codec {
                        FrameCodec::H264 => m.encrypt_h264(&f.annexb),
                        FrameCodec::Vp8 => m.encrypt_vp8(&f.annexb),
                    };
                    let payloads = encrypted.ok().and_then(|e| v.packetize(f.codec, &e));
                    match payloads {
                        Some(_) => p.dave_stats.encrypted += 1,
                        None => p.dave_stats.failures += 1,
                    }
                    map.insert(f.layer, payloads);
                }
                encrypted = Some(map);
            } else {
                p.dave_stats.passthrough += dave_layers.len() as u64;
            }
        }
        for (r, layer, pts) in sends {
            let Some(frame) = frames.iter().find(|f| f.layer == layer) else {
                continue;
            };
            let (ssrc, rtx_ssrc) = ssrcs[layer];
            // Each frame goes out with the payload type this receiver
            // declared for the frame's codec (user-docs: payload types are
            // client-chosen); a receiver that does not decode it gets none.
            let Some((pt, rtx_pt)) = pts_for(&pts, frame.codec) else {
                continue;
            };
            let enc = encrypted
                .as_ref()
                .map(|e| e.get(&layer).and_then(Option::as_ref));
            let Some(payloads) = self.dave_pick(r, dave_member, enc, &frame.payloads) else {
                continue;
            };
            if let Some(s) = self.sessions.get_mut(&r) {
                let e = s
                    .egress
                    .entry(ssrc)
                    .or_insert_with(|| EgressStream::new(ssrc, rand_seq(ssrc, r.1), None));
                e.rtx = rtx_pt.map(|p| (rtx_ssrc, p));
                let sent = s.report.video_frames_sent.entry(ssrc).or_default();
                match frame.codec {
                    FrameCodec::H264 => sent.h264 += 1,
                    FrameCodec::Vp8 => sent.vp8 += 1,
                }
            }
            self.record_sent(crate::report::SentFrame {
                receiver: r.1,
                ssrc,
                rtp_timestamp: frame.timestamp,
                sent_at: now,
            });
            let rtx = rtx_pt.map(|p| (rtx_ssrc, p));
            for (payload, marker) in payloads {
                self.send_generated(
                    r,
                    ssrc,
                    rtx,
                    pt,
                    frame.timestamp,
                    *marker,
                    true,
                    payload,
                    now,
                );
            }
        }
    }

    /// Builds, remembers, pads (fault) and sends one packet of a generated
    /// stream to receiver `r`.
    #[allow(clippy::too_many_arguments)]
    fn send_generated(
        &mut self,
        r: SessionKey,
        ssrc: u32,
        rtx: Option<(u32, u8)>,
        pt: u8,
        timestamp: u32,
        marker: bool,
        video: bool,
        payload: &[u8],
        now: Instant,
    ) {
        let padding_on = self.padding;
        let Some(s) = self.sessions.get_mut(&r) else {
            return;
        };
        s.pad_counter = s.pad_counter.wrapping_add(1);
        let counter = s.pad_counter;
        let e = s
            .egress
            .entry(ssrc)
            .or_insert_with(|| EgressStream::new(ssrc, rand_seq(ssrc, r.1), rtx));
        let padding = if padding_on && counter % PAD_EVERY == 0 {
            1 + (counter % 32) as u8
        } else {
            0
        };
        let spec = PacketSpec {
            pt,
            timestamp,
            marker,
            extension: video,
            padding,
            payload,
        };
        let mut buf = Vec::new();
        let seq = e.take_seq();
        if !e.build(seq, &spec, &mut buf) {
            return;
        }
        let mut extra = None;
        if padding_on && counter % PAD_ONLY_EVERY == 0 {
            let spec = PacketSpec {
                marker: false,
                padding: 40,
                payload: &[],
                ..spec
            };
            let mut b = Vec::new();
            let seq = e.take_seq();
            if e.build(seq, &spec, &mut b) {
                extra = Some(b);
            }
        }
        self.send_sealed(r, buf, false, now);
        if let Some(b) = extra {
            self.send_sealed(r, b, false, now);
        }
    }

    /// Sends due RTCP sender reports on every outgoing stream.
    pub(super) fn send_sender_reports(&mut self, now: Instant) {
        let unix_ms = self.unix_ms(now);
        let secs = unix_ms / 1000 + NTP_UNIX_OFFSET;
        let frac = ((unix_ms % 1000) << 32) / 1000;
        let ntp = (secs << 32) | frac;
        let mut reports = Vec::new();
        for (k, s) in &mut self.sessions {
            if s.udp.is_none() || s.sealer.is_none() {
                continue;
            }
            for e in s.egress.values_mut() {
                if e.sr_due(now) {
                    let info = e.sender_info(now, ntp);
                    let mut buf = Vec::new();
                    if rtp::rtcp::build::write_sr(&mut buf, Ssrc(e.ssrc), &info, &[]).is_ok() {
                        reports.push((*k, buf));
                    }
                }
            }
        }
        for (k, buf) in reports {
            self.send_sealed(k, buf, true, now);
        }
    }
}

/// A line accepted by [`Core::say`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SayStarted {
    pub ssrc: u32,
    pub packets: usize,
    pub duration_ms: u64,
    /// When its first packet goes out, from now.
    pub starts_in_ms: u64,
}

/// Why [`Core::say`] refused a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SayError {
    NoParticipant,
    NoAudio,
    Empty,
}

/// A receiver-specific initial sequence number (not 0, so wrap handling is
/// exercised sooner for some receivers).
fn rand_seq(ssrc: u32, user: u64) -> u16 {
    (ssrc ^ (user as u32).wrapping_mul(40_503)) as u16
}
