//! Simulated participants: an Opus speaker and simulcast-like H264 or VP8
//! layers rendered by `sim-content`, paced by the server task's clock. A
//! participant may switch codec mid-stream ([`VideoCodecSpec::Alternate`]),
//! as a Discord streamer can: each frame says its codec, and the server
//! sends it with the payload type each receiver declared for that codec.

use std::time::{Duration, Instant};

use h264_rtp::{H264Packetizer, PacketizerConfig};
use sim_content::{
    CameraConfig, CameraSource, H264CameraStream, H264Config, H264ScreenStream, H264Stream,
    OpusSpeaker, OpusVoice, ScreenConfig, ScreenSource, Vp8Config, Vp8Stream,
};
use sim_dave::SimMember;
use vp8_rtp::Vp8Packetizer;

use crate::config::{ParticipantSpec, VideoCodecSpec, VideoKind, VideoSpec};
use crate::error::SimVoiceError;

/// Layers a participant's video has at most (the full one included).
const MAX_LAYERS: usize = 4;

/// Opus frame duration.
pub(crate) const AUDIO_FRAME: Duration = Duration::from_millis(20);

/// The codec of one encoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameCodec {
    H264,
    Vp8,
}

impl FrameCodec {
    /// The codec name in op 1 `codecs`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::H264 => "H264",
            Self::Vp8 => "VP8",
        }
    }
}

/// The codec `spec` sends frame `index` with.
pub(crate) fn codec_at(spec: VideoCodecSpec, index: u64) -> FrameCodec {
    match spec {
        VideoCodecSpec::H264 => FrameCodec::H264,
        VideoCodecSpec::Vp8 => FrameCodec::Vp8,
        VideoCodecSpec::Alternate { every_frames } => {
            if (index / u64::from(every_frames.max(1))).is_multiple_of(2) {
                FrameCodec::H264
            } else {
                FrameCodec::Vp8
            }
        }
    }
}

/// One encoder at one size.
enum LayerEncoder {
    Screen(Box<H264ScreenStream>),
    Camera(Box<H264CameraStream>),
    Vp8Screen(Box<Vp8Stream<ScreenSource>>),
    Vp8Camera(Box<Vp8Stream<CameraSource>>),
}

impl LayerEncoder {
    fn next_frame(&mut self, n: u64) -> Option<sim_content::EncodedFrame> {
        match self {
            Self::Screen(s) => s.next_frame(n).ok(),
            Self::Camera(s) => s.next_frame(n).ok(),
            Self::Vp8Screen(s) => s.next_frame(n).ok(),
            Self::Vp8Camera(s) => s.next_frame(n).ok(),
        }
    }

    fn force_keyframe(&mut self) {
        match self {
            Self::Screen(s) => s.force_keyframe(),
            Self::Camera(s) => s.force_keyframe(),
            Self::Vp8Screen(s) => s.force_keyframe(),
            Self::Vp8Camera(s) => s.force_keyframe(),
        }
    }

    fn codec(&self) -> FrameCodec {
        match self {
            Self::Screen(_) | Self::Camera(_) => FrameCodec::H264,
            Self::Vp8Screen(_) | Self::Vp8Camera(_) => FrameCodec::Vp8,
        }
    }
}

/// One simulcast layer: its own primary and RTX SSRC (user-docs,
/// "Simulcasting": "`ssrc` identifies primary RTP, `rtx_ssrc` identifies
/// retransmissions"), quality 0–100 and picture size. The encoder exists
/// only while a receiver wants the layer (encoding is the expensive part).
pub(crate) struct Layer {
    pub ssrc: u32,
    pub rtx_ssrc: u32,
    pub quality: u8,
    pub width: u32,
    pub height: u32,
    encoder: Option<LayerEncoder>,
}

/// An encoded frame of one layer, already cut into RTP payloads.
pub(crate) struct LayerFrame {
    pub layer: usize,
    pub codec: FrameCodec,
    pub keyframe: bool,
    pub timestamp: u32,
    /// The Annex-B access unit or VP8 frame (what DAVE encrypts).
    pub annexb: Vec<u8>,
    /// `(payload, marker)` of the unencrypted access unit.
    pub payloads: Vec<(Vec<u8>, bool)>,
}

/// The video half of a participant.
pub(crate) struct VideoState {
    pub spec: VideoSpec,
    /// Highest quality first; each with its own SSRC pair.
    pub layers: Vec<Layer>,
    started: Instant,
    next_frame_at: Instant,
    next_index: u64,
    /// Random RTP timestamp origin.
    ts_base: u32,
    packetizer: Option<H264Packetizer>,
    vp8_packetizer: Option<Vp8Packetizer>,
    seed: u64,
    pub frames_encoded: u64,
    pub keyframes_forced: u64,
}

/// A simulated participant.
pub(crate) struct Participant {
    pub spec: ParticipantSpec,
    pub audio_ssrc: Option<u32>,
    pub speaking: bool,
    speaker: Option<OpusSpeaker>,
    pub audio_ts: u32,
    next_audio_at: Option<Instant>,
    /// Silence frames still to send after speaking stopped.
    silence_left: usize,
    /// Opus packets of spoken lines still to send (before the fixture
    /// voice).
    line: std::collections::VecDeque<Vec<u8>>,
    /// Speaking started for a line (not by `set_speaking`): when the line
    /// and its tail are sent, speaking ends with an op 5 `speaking: 0`.
    line_speaking: bool,
    /// Set when a line's tail went out: the core announces op 5 off.
    speaking_off_due: bool,
    pub video: Option<VideoState>,
    /// The participant's DAVE client, once it joined the room's group.
    pub dave: Option<SimMember>,
    /// Counters for the report.
    pub dave_stats: DaveSendStats,
}

/// What a DAVE participant did with its frames.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DaveSendStats {
    pub encrypted: u64,
    pub passthrough: u64,
    pub failures: u64,
}

impl Participant {
    /// Builds the participant; SSRCs come from the server's allocator.
    pub(crate) fn new(
        spec: ParticipantSpec,
        audio_ssrc: u32,
        first_video_ssrc: u32,
        seed: u64,
        now: Instant,
    ) -> Result<Self, SimVoiceError> {
        let speaker = if spec.audio {
            let voice = if seed.is_multiple_of(2) {
                OpusVoice::Speech
            } else {
                OpusVoice::Tone
            };
            Some(OpusSpeaker::new(voice, seed).map_err(|e| SimVoiceError::Media(e.to_string()))?)
        } else {
            None
        };
        let video = match &spec.video {
            Some(v) => Some(VideoState::new(v.clone(), first_video_ssrc, seed, now)?),
            None => None,
        };
        Ok(Self {
            audio_ssrc: spec.audio.then_some(audio_ssrc),
            speaking: false,
            speaker,
            audio_ts: (seed as u32).wrapping_mul(2_654_435_761),
            next_audio_at: None,
            silence_left: 0,
            line: std::collections::VecDeque::new(),
            line_speaking: false,
            speaking_off_due: false,
            video,
            spec,
            dave: None,
            dave_stats: DaveSendStats::default(),
        })
    }

    /// Starts or stops speaking; stopping sends the 5-frame silence tail.
    pub(crate) fn set_speaking(&mut self, on: bool, now: Instant) {
        if on == self.speaking || self.speaker.is_none() {
            return;
        }
        self.speaking = on;
        self.line_speaking = false;
        if on {
            self.silence_left = 0;
            self.next_audio_at = Some(now);
        } else {
            // Stopping also cuts a line short.
            self.line.clear();
            self.silence_left = sim_content::SILENCE_TAIL_FRAMES;
        }
    }

    /// Queues a spoken line (20 ms Opus packets). Returns `(starts speaking
    /// now, ms of audio queued before this line)`. A participant that was
    /// not speaking starts after one frame period, so that the op 5 the
    /// core broadcasts now reaches receivers before the first packet.
    pub(crate) fn say(&mut self, packets: Vec<Vec<u8>>, now: Instant) -> Option<(bool, u64)> {
        self.speaker.as_ref()?;
        let ahead = self.line.len() as u64 * u64::from(sim_content::OPUS_FRAME_MS);
        self.line.extend(packets);
        self.speaking_off_due = false;
        if self.speaking {
            if self.next_audio_at.is_none() {
                self.next_audio_at = Some(now);
            }
            return Some((false, ahead));
        }
        self.speaking = true;
        self.line_speaking = true;
        self.silence_left = 0;
        self.next_audio_at = Some(now + AUDIO_FRAME);
        Some((true, ahead))
    }

    /// Whether a line's tail just finished (op 5 `speaking: 0` is due);
    /// clears the flag.
    pub(crate) fn take_speaking_off(&mut self) -> bool {
        std::mem::take(&mut self.speaking_off_due)
    }
    /// Opus packets due by `now` (with their RTP timestamps).
    pub(crate) fn poll_audio(&mut self, now: Instant) -> Vec<(u32, Vec<u8>)> {
        let mut out = Vec::new();
        let Some(speaker) = self.speaker.as_mut() else {
            return out;
        };
        while let Some(at) = self.next_audio_at {
            if at > now {
                break;
            }
            let pkt = if let Some(p) = self.line.pop_front() {
                if self.line.is_empty() {
                    // The line ends: its tail follows, then op 5 off
                    // (a fixture voice started by `set_speaking` resumes).
                    if self.line_speaking {
                        self.speaking = false;
                        self.silence_left = sim_content::SILENCE_TAIL_FRAMES;
                    }
                }
                Some(p)
            } else if self.speaking {
                speaker.packets_for(20).into_iter().next()
            } else if self.silence_left > 0 {
                self.silence_left -= 1;
                if self.silence_left == 0 && self.line_speaking {
                    self.line_speaking = false;
                    self.speaking_off_due = true;
                }
                Some(sim_content::OPUS_SILENCE_FRAME.to_vec())
            } else {
                None
            };
            let Some(pkt) = pkt else {
                self.next_audio_at = None;
                break;
            };
            out.push((self.audio_ts, pkt));
            self.audio_ts = self.audio_ts.wrapping_add(sim_content::OPUS_TIMESTAMP_STEP);
            // Do not try to catch up more than a few frames after a stall.
            let next = at + AUDIO_FRAME;
            self.next_audio_at = Some(if now.duration_since(next) > AUDIO_FRAME * 5 {
                now
            } else {
                next
            });
            if out.len() >= 10 {
                break;
            }
        }
        out
    }

    /// When audio or video work is next due.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let v = self.video.as_ref().map(|v| v.next_frame_at);
        match (self.next_audio_at, v) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl VideoState {
    /// SSRCs a participant with `spec` needs: a primary and an RTX SSRC
    /// per layer.
    pub(crate) fn ssrcs_needed(spec: &VideoSpec) -> u32 {
        2 * (1 + spec.layers.len().min(MAX_LAYERS - 1) as u32)
    }

    /// Layers get `first_ssrc`, `first_ssrc + 1` (RTX), `first_ssrc + 2`, …
    /// in order of quality.
    fn new(
        spec: VideoSpec,
        first_ssrc: u32,
        seed: u64,
        now: Instant,
    ) -> Result<Self, SimVoiceError> {
        if spec.fps == 0 || spec.fps > 120 {
            return Err(SimVoiceError::Media(format!(
                "fps {} out of range",
                spec.fps
            )));
        }
        let mut layers = vec![Layer {
            ssrc: 0,
            rtx_ssrc: 0,
            quality: 100,
            width: spec.width,
            height: spec.height,
            encoder: None,
        }];
        for &(quality, width, height) in spec.layers.iter().take(MAX_LAYERS - 1) {
            layers.push(Layer {
                ssrc: 0,
                rtx_ssrc: 0,
                quality: quality.min(100),
                width,
                height,
                encoder: None,
            });
        }
        // Highest quality first: the first layer is the primary one (op 12
        // `video_ssrc`).
        layers.sort_by(|a, b| b.quality.cmp(&a.quality).then(b.width.cmp(&a.width)));
        for (i, l) in layers.iter_mut().enumerate() {
            l.ssrc = first_ssrc.wrapping_add(2 * i as u32);
            l.rtx_ssrc = l.ssrc.wrapping_add(1);
        }
        let packetizer = H264Packetizer::new(PacketizerConfig::default(), 0, 0).ok();
        let vp8_packetizer =
            Vp8Packetizer::new(vp8_rtp::PacketizerConfig::default(), 0, 0, seed as u16).ok();
        Ok(Self {
            spec,
            layers,
            started: now,
            next_frame_at: now,
            next_index: 0,
            ts_base: (seed as u32).wrapping_mul(0x9E37_79B9),
            packetizer,
            vp8_packetizer,
            seed,
            frames_encoded: 0,
            keyframes_forced: 0,
        })
    }

    /// The primary (highest quality) layer's SSRC.
    pub(crate) fn primary_ssrc(&self) -> u32 {
        self.layers.first().map_or(0, |l| l.ssrc)
    }

    /// The layer whose primary SSRC is `ssrc`.
    pub(crate) fn layer_of(&self, ssrc: u32) -> Option<usize> {
        self.layers.iter().position(|l| l.ssrc == ssrc)
    }

    /// Asks the encoder of `layer` for an IDR on its next frame.
    pub(crate) fn force_keyframe(&mut self, layer: usize) {
        if let Some(l) = self.layers.get_mut(layer)
            && let Some(e) = l.encoder.as_mut()
        {
            e.force_keyframe();
            self.keyframes_forced += 1;
        }
    }

    /// If a frame is due, encodes it on every layer in `wanted` (creating
    /// encoders as needed, dropping encoders no one wants) and returns the
    /// payloads per layer.
    pub(crate) fn poll_frame(&mut self, now: Instant, wanted: &[bool]) -> Vec<LayerFrame> {
        let mut out = Vec::new();
        if now < self.next_frame_at {
            return out;
        }
        let period = Duration::from_secs(1) / self.spec.fps;
        // Frame index follows wall time so that a slow tick skips frames
        // instead of slowing the stream down.
        let by_time =
            (now.duration_since(self.started).as_secs_f64() * f64::from(self.spec.fps)) as u64;
        let index = by_time.max(self.next_index);
        self.next_index = index + 1;
        self.next_frame_at = self.started + period * (self.next_index as u32);
        if self.next_frame_at <= now {
            self.next_frame_at = now + period / 2;
        }
        let codec = codec_at(self.spec.codec, index);
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let want = wanted.get(i).copied().unwrap_or(false);
            if !want {
                layer.encoder = None;
                continue;
            }
            // A codec switch starts a new encoder: its first frame is a
            // keyframe of the new codec.
            if layer.encoder.as_ref().is_none_or(|e| e.codec() != codec) {
                layer.encoder = make_encoder(&self.spec, layer, self.seed, codec);
            }
            let Some(enc) = layer.encoder.as_mut() else {
                continue;
            };
            let Some(frame) = enc.next_frame(index) else {
                continue;
            };
            self.frames_encoded += 1;
            let payloads = match codec {
                FrameCodec::H264 => packetize(&mut self.packetizer, &frame.annexb),
                FrameCodec::Vp8 => packetize_vp8(&mut self.vp8_packetizer, &frame.annexb),
            };
            let Some(payloads) = payloads else {
                continue;
            };
            out.push(LayerFrame {
                layer: i,
                codec,
                keyframe: frame.keyframe,
                timestamp: self.ts_base.wrapping_add(frame.pts_90khz),
                annexb: frame.annexb,
                payloads,
            });
        }
        out
    }
}

impl VideoState {
    /// Cuts an (e.g. DAVE-encrypted) frame of `codec` into RTP payloads.
    pub(crate) fn packetize(
        &mut self,
        codec: FrameCodec,
        frame: &[u8],
    ) -> Option<Vec<(Vec<u8>, bool)>> {
        match codec {
            FrameCodec::H264 => packetize(&mut self.packetizer, frame),
            FrameCodec::Vp8 => packetize_vp8(&mut self.vp8_packetizer, frame),
        }
    }
}

fn packetize_vp8(pk: &mut Option<Vp8Packetizer>, frame: &[u8]) -> Option<Vec<(Vec<u8>, bool)>> {
    let packets = pk.as_mut()?.packetize(frame, Duration::ZERO).ok()?;
    Some(packets.map(|p| (p.payload.to_vec(), p.marker)).collect())
}

fn packetize(pk: &mut Option<H264Packetizer>, annexb: &[u8]) -> Option<Vec<(Vec<u8>, bool)>> {
    let packets = pk.as_mut()?.packetize(annexb, Duration::ZERO).ok()?;
    Some(packets.map(|p| (p.payload.to_vec(), p.marker)).collect())
}

fn make_encoder(
    spec: &VideoSpec,
    layer: &Layer,
    seed: u64,
    codec: FrameCodec,
) -> Option<LayerEncoder> {
    let mut cfg = match spec.kind {
        VideoKind::Screen => H264Config::screen(),
        VideoKind::Camera => H264Config::camera(),
    };
    let full = u64::from(spec.width) * u64::from(spec.height);
    let this = u64::from(layer.width) * u64::from(layer.height);
    let kbps = u64::from(spec.bitrate_kbps.max(50)) * this / full.max(1);
    cfg.bitrate_bps = (kbps.clamp(50, 50_000) * 1000) as u32;
    cfg.keyframe_interval = spec.keyframe_interval_frames;
    let vp8 = Vp8Config {
        bitrate_bps: cfg.bitrate_bps,
        keyframe_interval: cfg.keyframe_interval,
        content: cfg.content,
    };
    match spec.kind {
        VideoKind::Screen => {
            let mut c = ScreenConfig::new(layer.width, layer.height);
            c.fps = spec.fps;
            c.seed = seed;
            let src = ScreenSource::new(c).ok()?;
            match codec {
                FrameCodec::H264 => H264Stream::new(src, cfg)
                    .ok()
                    .map(|s| LayerEncoder::Screen(Box::new(s))),
                FrameCodec::Vp8 => Vp8Stream::new(src, vp8)
                    .ok()
                    .map(|s| LayerEncoder::Vp8Screen(Box::new(s))),
            }
        }
        VideoKind::Camera => {
            let mut c = CameraConfig::new(layer.width, layer.height);
            c.fps = spec.fps;
            c.seed = seed;
            let src = CameraSource::new(c).ok()?;
            match codec {
                FrameCodec::H264 => H264Stream::new(src, cfg)
                    .ok()
                    .map(|s| LayerEncoder::Camera(Box::new(s))),
                FrameCodec::Vp8 => Vp8Stream::new(src, vp8)
                    .ok()
                    .map(|s| LayerEncoder::Vp8Camera(Box::new(s))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternate_switches_codec_every_n_frames() {
        let alt = VideoCodecSpec::Alternate { every_frames: 30 };
        assert_eq!(codec_at(alt, 0), FrameCodec::H264);
        assert_eq!(codec_at(alt, 29), FrameCodec::H264);
        assert_eq!(codec_at(alt, 30), FrameCodec::Vp8);
        assert_eq!(codec_at(alt, 60), FrameCodec::H264);
        assert_eq!(codec_at(VideoCodecSpec::Vp8, 5), FrameCodec::Vp8);
        // A zero period never divides by zero.
        let zero = VideoCodecSpec::Alternate { every_frames: 0 };
        assert_eq!(codec_at(zero, 1), FrameCodec::Vp8);
    }

    #[test]
    fn vp8_participant_sends_vp8_keyframe_first() {
        let now = Instant::now();
        let spec = VideoSpec {
            kind: VideoKind::Camera,
            codec: VideoCodecSpec::Alternate { every_frames: 2 },
            width: 320,
            height: 180,
            fps: 30,
            bitrate_kbps: 300,
            keyframe_interval_frames: 0,
            layers: vec![],
        };
        let mut v = VideoState::new(spec, 10, 7, now).unwrap();
        let mut codecs = Vec::new();
        for i in 0..4u32 {
            let at = now + Duration::from_millis(34 * u64::from(i));
            for f in v.poll_frame(at, &[true]) {
                codecs.push((f.codec, f.keyframe));
                // VP8 payload descriptor: X=1, S=1 on the first packet.
                if f.codec == FrameCodec::Vp8 {
                    assert_eq!(f.payloads[0].0[0] & 0x90, 0x90);
                }
            }
        }
        assert_eq!(
            codecs,
            vec![
                (FrameCodec::H264, true),
                (FrameCodec::H264, false),
                (FrameCodec::Vp8, true),
                (FrameCodec::Vp8, false)
            ]
        );
    }
}
