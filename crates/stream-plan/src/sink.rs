//! What a receiving slot asks of the SFU and how it reads what it gets,
//! pure: which simulcast layer of a user's video to take (op 15 Media Sink
//! Wants), and which codec a video payload type carries.
//!
//! # Decisions and their witnesses
//!
//! **Op 15 shape: SSRC keys at the top level, beside `any` and
//! `pixelCounts`.** discord-userdoccers (`pages/topics/voice-connections.mdx`,
//! "Media Sink Wants Structure", 3dc0ca92) documents `{ssrc}?: integer`
//! keys at the top level, with the example `{"8964": 100, "any": 50,
//! "pixelCounts": {"8964": 1189844.57…}}`; it describes the desktop
//! client. clankvox (`src/media_sink_wants.rs`, 1420ee7) nests the keys
//! under `streams` and reports that it works live, but its payload always
//! carries `any` set to the *highest* wanted quality and a top-level
//! `pixelCounts`, so a server that ignores `streams` entirely would behave
//! the same for it (one watched stream, wanted at 100): its evidence does
//! not tell the shapes apart, while user-docs names one. clanker_conk's
//! note that "without `pixelCounts` Discord may send the lowest quality
//! layer" is consistent with that: `pixelCounts` is read at the top level.
//! So we send the user-docs shape (`voice_proto::MediaSinkWants` encodes
//! it), and the simulator reads top-level keys and ignores `streams`.
//!
//! **Sent on every receiving role**: the voice connection (webcams, keys
//! are camera SSRCs) and stream_watch (Go Live), after Session Description,
//! after a resume, and whenever video states or subscriptions change.
//! user-docs: "Receivers should keep sending updated wants as views appear,
//! disappear, resize …"; "Stream viewers … request the stream SSRCs they
//! want with Media Sink Wants".
//!
//! **Layer choice: the smallest layer that still covers the output size.**
//! user-docs ("Simulcasting"): each layer of a user's op 12 `streams` has
//! its own `ssrc`/`rtx_ssrc`, `rid`, `quality` and `max_resolution`, and
//! "Receivers request layers through Media Sink Wants"; "Camera video
//! commonly offers two layers … quality 100 … and … 50. Stream connections
//! commonly offer one screen layer at quality 100." We output at most
//! `max_pixels` (640×360 by default), so a layer at least that large is
//! enough and a bigger one only costs decode time. A layer whose size is
//! unknown (`max_resolution` absent or `type: "source"` with 0×0) is taken
//! as full size. The chosen layer's SSRC gets the subscription quality and
//! a `pixelCounts` entry of the output size (for an SFU that picks layers
//! on one SSRC); every other layer of the user gets 0.
//!
//! Whether real Go Live offers more than one layer is not known: every
//! source seen (user-docs, Discord-video-stream, clankvox) shows a single
//! `rid: "100"` screen layer; only webcams are documented with two.
//!
//! **Codec per packet, from its payload type.** We declare a payload type
//! per codec in Select Protocol (op 1 `codecs`); op 4's `video_codec` is
//! what *we* must send (user-docs: "audio_codec/video_codec … what you must
//! send"), not what others send, and op 12 carries no codec. clankvox
//! (`src/rtp.rs` `from_payload_type`) picks the depacketizer per received
//! packet from its PT the same way. So a worker is given every declared
//! video payload type and follows the one its packets carry.

use ipc_schema::VideoSubscription;
use video_receiver::{PayloadCodec, VideoCodec};
use voice_proto::{CodecDescriptor, CodecKind, MediaSinkWants, ResolutionType, Video};

/// One simulcast layer of a user's video, from their op 12.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    /// The layer's media SSRC.
    pub ssrc: u32,
    /// Its retransmission SSRC, when announced or derivable.
    pub rtx_ssrc: Option<u32>,
    /// Its announced quality (100 = full).
    pub quality: u8,
    /// Picture size when announced (`None` for unknown / source size).
    pub size: Option<(u32, u32)>,
}

impl Layer {
    /// Pixels, unknown sizes counting as larger than any known one.
    fn pixels(&self) -> u64 {
        self.size
            .map_or(u64::MAX, |(w, h)| u64::from(w) * u64::from(h))
    }
}

/// The active layers of an op 12 (non-zero SSRC, not `active: false`);
/// a payload without `streams` but with a `video_ssrc` is one layer.
pub fn layers_of(v: &Video) -> Vec<Layer> {
    let mut out: Vec<Layer> = v
        .streams
        .iter()
        .filter(|s| s.active != Some(false))
        .filter_map(|s| {
            let ssrc = s.ssrc.filter(|s| *s != 0)?;
            let size = s.max_resolution.as_ref().and_then(|r| {
                (r.kind == ResolutionType::Fixed && r.width > 0 && r.height > 0)
                    .then_some((r.width, r.height))
            });
            Some(Layer {
                ssrc,
                rtx_ssrc: s.rtx_ssrc_or_derived().filter(|r| *r != 0),
                quality: s.quality,
                size,
            })
        })
        .collect();
    if out.is_empty()
        && v.streams.is_empty()
        && let Some(ssrc) = v.video_ssrc.filter(|s| *s != 0)
    {
        out.push(Layer {
            ssrc,
            rtx_ssrc: v.rtx_ssrc.filter(|r| *r != 0),
            quality: 100,
            size: None,
        });
    }
    out
}

/// The layer to receive for an output of at most `max_pixels`: the
/// smallest layer at least that large; if none is, the largest. Ties go to
/// the higher quality.
pub fn choose_layer(layers: &[Layer], max_pixels: u32) -> Option<Layer> {
    let target = u64::from(max_pixels);
    let covering = layers
        .iter()
        .filter(|l| l.pixels() >= target)
        .min_by(|a, b| a.pixels().cmp(&b.pixels()).then(b.quality.cmp(&a.quality)));
    covering
        .or_else(|| {
            layers
                .iter()
                .max_by(|a, b| a.pixels().cmp(&b.pixels()).then(a.quality.cmp(&b.quality)))
        })
        .copied()
}

/// One user's part of op 15: the layers announced and, if subscribed, the
/// subscription.
pub struct UserWants<'a> {
    /// Every active layer the user announced.
    pub layers: &'a [Layer],
    /// The layer chosen for the subscription's output size.
    pub chosen: Option<Layer>,
    /// The subscription that applies to the user, if any.
    pub subscription: Option<&'a VideoSubscription>,
    /// Output size of the subscription, in pixels.
    pub max_pixels: u32,
}

/// Op 15 for a receiving slot. `any` is 100 on stream_watch (a stream
/// connection carries only the watched stream) and left out on the voice
/// connection, where unknown cameras should not be sent at all.
pub fn sink_wants<'a>(
    stream_watch: bool,
    users: impl IntoIterator<Item = UserWants<'a>>,
) -> MediaSinkWants {
    let mut wants = MediaSinkWants::default();
    if stream_watch {
        wants.any = Some(100);
    }
    for u in users {
        for l in u.layers {
            wants.streams.insert(l.ssrc, 0);
        }
        if let (Some(sub), Some(chosen)) = (u.subscription, u.chosen) {
            wants.streams.insert(chosen.ssrc, sub.quality.clamp(1, 100));
            wants
                .pixel_counts
                .insert(chosen.ssrc, f64::from(u.max_pixels));
        }
    }
    wants
}

/// The video payload types we declared (op 1 `codecs`) that we can decode,
/// with their codecs; other codecs (AV1, VP9, H265) are not listed, so
/// their packets are refused rather than misdecoded.
pub fn payload_codecs(declared: &[CodecDescriptor]) -> Vec<PayloadCodec> {
    declared
        .iter()
        .filter(|c| c.kind == CodecKind::Video && c.decode != Some(false))
        .filter_map(|c| {
            let codec = if c.name.eq_ignore_ascii_case("H264") {
                VideoCodec::H264
            } else if c.name.eq_ignore_ascii_case("VP8") {
                VideoCodec::Vp8
            } else {
                return None;
            };
            Some(PayloadCodec {
                payload_type: rtp::PayloadType::new(c.payload_type).ok()?,
                codec,
                rtx_payload_type: c
                    .rtx_payload_type
                    .and_then(|p| rtp::PayloadType::new(p).ok()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipc_schema::UserId;

    fn layer(ssrc: u32, quality: u8, size: Option<(u32, u32)>) -> Layer {
        Layer {
            ssrc,
            rtx_ssrc: Some(ssrc + 1),
            quality,
            size,
        }
    }

    const BOX_360P: u32 = 640 * 360;

    #[test]
    fn smallest_layer_covering_the_output() {
        let full = layer(10, 100, Some((1920, 1080)));
        let half = layer(20, 50, Some((960, 540)));
        let tiny = layer(30, 25, Some((480, 270)));
        // 1080p + 540p: 540p covers 640x360 (the old code took the first).
        assert_eq!(choose_layer(&[full, half, tiny], BOX_360P), Some(half));
        // Exactly the output size covers it.
        let exact = layer(40, 50, Some((640, 360)));
        assert_eq!(choose_layer(&[full, exact], BOX_360P), Some(exact));
        // A bigger output needs the full layer.
        assert_eq!(choose_layer(&[half, full], 1280 * 720), Some(full));
        // Nothing covers: the largest there is.
        assert_eq!(choose_layer(&[tiny, half], 1920 * 1080), Some(half));
        // Unknown size counts as full size.
        let source = layer(50, 100, None);
        assert_eq!(choose_layer(&[source, half], BOX_360P), Some(half));
        assert_eq!(choose_layer(&[source, tiny], BOX_360P), Some(source));
        assert_eq!(choose_layer(&[], BOX_360P), None);
    }

    #[test]
    fn ties_prefer_higher_quality() {
        let a = layer(1, 50, Some((640, 360)));
        let b = layer(2, 100, Some((640, 360)));
        assert_eq!(choose_layer(&[a, b], BOX_360P), Some(b));
        assert_eq!(choose_layer(&[a, b], 1920 * 1080), Some(b));
    }

    fn sub(user: u64) -> VideoSubscription {
        VideoSubscription {
            user_id: UserId(user),
            stream_type: None,
            max_fps: 2.0,
            quality: 100,
            preferred_pixel_count: None,
            jpeg_quality: 75,
        }
    }

    #[test]
    fn wants_pick_one_layer_and_zero_the_rest() {
        let full = layer(10, 100, Some((1280, 720)));
        let half = layer(20, 50, Some((640, 360)));
        let s = sub(7);
        let layers = [full, half];
        let w = sink_wants(
            true,
            [UserWants {
                layers: &layers,
                chosen: choose_layer(&layers, BOX_360P),
                subscription: Some(&s),
                max_pixels: BOX_360P,
            }],
        );
        assert_eq!(w.any, Some(100));
        assert_eq!(w.streams.get(&20), Some(&100));
        assert_eq!(w.streams.get(&10), Some(&0));
        assert_eq!(w.pixel_counts.get(&20), Some(&f64::from(BOX_360P)));
        assert!(!w.pixel_counts.contains_key(&10));
        // RTX SSRCs are never keys (user-docs: "primary media SSRCs").
        assert!(!w.streams.contains_key(&11) && !w.streams.contains_key(&21));
        // Not subscribed on the voice role: every layer off, no `any`.
        let w = sink_wants(
            false,
            [UserWants {
                layers: &layers,
                chosen: None,
                subscription: None,
                max_pixels: BOX_360P,
            }],
        );
        assert_eq!(w.any, None);
        assert_eq!(w.streams.values().copied().collect::<Vec<_>>(), vec![0, 0]);
    }

    fn descriptor(
        rid: &str,
        quality: u8,
        ssrc: u32,
        active: bool,
        res: Option<(ResolutionType, u32, u32)>,
    ) -> voice_proto::StreamDescriptor {
        voice_proto::StreamDescriptor {
            kind: voice_proto::StreamType::Video,
            rid: rid.to_owned(),
            quality,
            ssrc: Some(ssrc),
            rtx_ssrc: Some(ssrc + 1),
            active: Some(active),
            max_bitrate: None,
            max_framerate: None,
            max_resolution: res.map(|(kind, width, height)| voice_proto::MaxResolution {
                kind,
                width,
                height,
            }),
        }
    }

    #[test]
    fn layers_from_op12() {
        // user-docs' camera shape: a source-size 100 layer and a fixed 50 one.
        let v = Video {
            user_id: Some(voice_proto::UserId(5)),
            audio_ssrc: Some(1),
            video_ssrc: Some(2),
            rtx_ssrc: None,
            streams: vec![
                descriptor("100", 100, 2, true, Some((ResolutionType::Source, 0, 0))),
                descriptor("50", 50, 4, true, Some((ResolutionType::Fixed, 640, 360))),
                descriptor("25", 25, 6, false, None),
            ],
        };
        let l = layers_of(&v);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].size, None);
        assert_eq!(l[1].size, Some((640, 360)));
        assert_eq!(l[1].rtx_ssrc, Some(5));
        assert_eq!(choose_layer(&l, BOX_360P).map(|l| l.ssrc), Some(4));
        // Old-style payload: only video_ssrc.
        let v = Video {
            streams: vec![],
            video_ssrc: Some(9),
            ..v
        };
        assert_eq!(layers_of(&v).first().map(|l| l.ssrc), Some(9));
    }

    #[test]
    fn payload_types_come_from_the_declared_codecs() {
        let declared = voice_session::default_codecs();
        let map = payload_codecs(&declared);
        let find = |pt: u8| {
            map.iter()
                .find(|c| c.payload_type.get() == pt)
                .map(|c| c.codec)
        };
        assert_eq!(find(voice_session::H264_PT), Some(VideoCodec::H264));
        assert_eq!(find(voice_session::VP8_PT), Some(VideoCodec::Vp8));
        assert_eq!(find(voice_session::OPUS_PT), None);
        let vp8 = map.iter().find(|c| c.codec == VideoCodec::Vp8).unwrap();
        assert_eq!(
            vp8.rtx_payload_type.map(|p| p.get()),
            Some(voice_session::VP8_RTX_PT)
        );
        // A codec we cannot decode is not listed.
        let av1 = CodecDescriptor::video("AV1", 500, 110, 111);
        assert!(payload_codecs(&[av1]).is_empty());
    }
}
