//! Video a client publishes (Go Live or webcam): depacketized, decoded and
//! re-encoded as JPEG so tests and the admin API can see what was sent.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use h264_rtp::{H264Depacketizer, ParameterSetCache};
use video_pipeline::{H264Decoder, JpegEncoder, VideoDecoder};

use crate::report::PublishedFrame;

/// Frames kept per (room, user).
pub(crate) const PUBLISHED_CAPACITY: usize = 32;

/// At most one JPEG per this interval per publisher: decoding must see
/// every access unit, JPEG encoding need not.
const JPEG_INTERVAL: Duration = Duration::from_millis(100);

/// Decoder state of one published video SSRC.
pub(crate) struct PublishDecoder {
    depack: H264Depacketizer,
    params: ParameterSetCache,
    decoder: Option<H264Decoder>,
    jpeg: Option<JpegEncoder>,
    last_jpeg: Option<Instant>,
    /// Decoded pictures.
    pub decoded: u64,
}

/// Result of feeding one RTP packet.
#[derive(Debug, Default)]
pub(crate) struct PublishOutcome {
    /// A frame to store.
    pub frame: Option<PublishedFrame>,
    /// The decoder asks for a keyframe (send a PLI to the publisher).
    pub want_keyframe: bool,
    /// Pictures decoded by this packet.
    pub decoded: u64,
}

impl PublishDecoder {
    /// A decoder; the native decoder and JPEG encoder are created lazily.
    pub(crate) fn new() -> Self {
        Self {
            depack: H264Depacketizer::default(),
            params: ParameterSetCache::new(),
            decoder: None,
            jpeg: None,
            last_jpeg: None,
            decoded: 0,
        }
    }

    /// Feeds one (transport-decrypted, RTX-repaired) RTP packet's fields.
    /// `e2ee` sees every reassembled access unit before decoding: it may
    /// replace it (DAVE decryption) or refuse it (`false`: dropped).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push(
        &mut self,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        now: Instant,
        unix_ms: u64,
        e2ee: &mut dyn FnMut(&mut Vec<u8>) -> bool,
    ) -> PublishOutcome {
        let mut outcome = PublishOutcome::default();
        if payload.is_empty() {
            return outcome;
        }
        if let Err(e) = self.depack.push(seq, timestamp, marker, payload) {
            outcome.want_keyframe |= e.should_request_keyframe();
        }
        while let Some(mut au) = self.depack.poll() {
            // DAVE first: SPS/PPS caching would shift the clear ranges.
            if !e2ee(&mut au.data) {
                self.depack.recycle(au);
                continue;
            }
            self.params.apply(&mut au.data);
            if self.decoder.is_none() {
                self.decoder = H264Decoder::new().ok();
            }
            let Some(dec) = self.decoder.as_mut() else {
                self.depack.recycle(au);
                continue;
            };
            let picture = dec.decode(&au.data);
            let frame = match picture {
                Ok(Some(yuv)) => {
                    outcome.decoded += 1;
                    self.decoded += 1;
                    let due = self
                        .last_jpeg
                        .is_none_or(|t| now.duration_since(t) >= JPEG_INTERVAL);
                    if due {
                        if self.jpeg.is_none() {
                            self.jpeg = JpegEncoder::new().ok();
                        }
                        self.jpeg
                            .as_mut()
                            .and_then(|j| j.encode(&yuv, 80).ok())
                            .map(|jpeg| PublishedFrame {
                                jpeg,
                                width: yuv.width() as u32,
                                height: yuv.height() as u32,
                                rtp_timestamp: au.timestamp,
                                received_at_unix_ms: unix_ms,
                            })
                    } else {
                        None
                    }
                }
                _ => None,
            };
            if frame.is_some() {
                self.last_jpeg = Some(now);
                outcome.frame = frame;
            }
            outcome.want_keyframe |= dec.take_keyframe_request();
            self.depack.recycle(au);
        }
        outcome
    }
}

/// Appends `frame`, keeping the newest [`PUBLISHED_CAPACITY`].
pub(crate) fn store(frames: &mut VecDeque<PublishedFrame>, frame: PublishedFrame) {
    if frames.len() >= PUBLISHED_CAPACITY {
        frames.pop_front();
    }
    frames.push_back(frame);
}
