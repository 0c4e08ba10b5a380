//! The per-stream video receive chain that mediad's transports call for
//! every video RTP packet, after transport decryption:
//!
//! RTP parse → RTX unwrap → reorder buffer (NACK, give-up) → depacketizer
//! (H264 / VP8) → [`FrameTransform`] (end-to-end decryption, DAVE) →
//! SPS/PPS re-insertion (H264) → `FramePipeline` (decode → metrics → gate →
//! scale → JPEG).
//!
//! Sans-IO: no sockets, no threads, no clock reads. Time comes in as the
//! `now` argument of every call; randomness is not needed.
//!
//! # How to drive it
//! One [`VideoReceiver`] per incoming video stream (media SSRC + its RTX
//! SSRC), built from a [`ReceiverConfig`]:
//! 1. For every plaintext RTP packet of the media or RTX SSRC, call
//!    [`VideoReceiver::handle_rtp`]`(now, bytes)`. An `Err` concerns that
//!    packet only ([`ReceiverError::is_foreign`] for packets that belong to
//!    another stream).
//! 2. Drain [`VideoReceiver::poll_output`] until `None`:
//!    [`Output::Frame`] is a JPEG to forward; [`Output::Nack`] and
//!    [`Output::KeyframeRequest`] are RTCP feedback to send (NACK, PLI);
//!    [`Output::Event`] is diagnostics.
//! 3. Wake up at [`VideoReceiver::poll_timeout`] and call
//!    [`VideoReceiver::handle_timeout`], then drain again: holes are given
//!    up and NACKs and keyframe requests are retried on time, not only when
//!    packets arrive.
//! 4. At the end of a stream (or of a capture), [`VideoReceiver::flush`].
//!
//! # Why it is shaped this way
//! - **Order is repaired before depacketizing.** The reference receiver had
//!   no jitter buffer and threw away a partial frame on any reordering; here
//!   a hole holds later packets back until it is filled (by reordering or an
//!   RTX retransmission after our NACK) or given up after
//!   `reorder.max_wait`. Packets are stored whole in pooled buffers, so
//!   steady state does not allocate per packet.
//! - **The transform runs on the exact frame the sender encrypted.** DAVE
//!   encrypts whole frames before packetization, with codec-aware clear
//!   ranges; the depacketizers rebuild those bytes exactly, and SPS/PPS
//!   caching and re-insertion happen *after* the transform on purpose
//!   (inserting first would shift DAVE's ranges, and the cache must learn
//!   from decrypted parameter sets).
//! - **Loss is handled per episode.** A lost packet (given up), a damaged
//!   frame, a failed transform or a decoder error starts a loss episode:
//!   one rate-limited keyframe request ([`ReceiverConfig::keyframe_request_interval`]),
//!   retried while waiting, and frames that depend on the lost data are
//!   held back instead of being shown smeared
//!   ([`ReceiverConfig::hold_until_keyframe`], bounded so a sender that
//!   ignores PLIs does not freeze the picture for a whole GOP). The episode
//!   ends at the next *intact* keyframe; for H264 that is judged by the
//!   marker, FU-A completeness, gaps between the frame's own packets and the
//!   first slice starting the picture, because the depacketizer also
//!   charges a gap *before* an IDR to it.
//! - **Media time for the pipeline.** Frames released in a burst after a
//!   hole are given their RTP-timestamp time (see `media_clock.rs`), so the
//!   frame-rate gate samples the video, not the network's burstiness.
//! - **Padding-only packets** are not losses: they are skipped without
//!   leaving a sequence gap for the depacketizer.
//!
//! [`guess_codec`] recognises H264 or VP8 from payloads alone (payload
//! types are dynamic), for tools that replay captures.

mod config;
mod depack;
mod detect;
mod error;
mod keyframe;
mod media_clock;
mod output;
mod receiver;
mod transform;

pub use config::{PayloadCodec, ReceiverConfig, RtxConfig, VideoCodec};
pub use detect::guess_codec;
pub use error::ReceiverError;
pub use output::{Output, ReceivedFrame, ReceiverEvent, ReceiverStats, SkipReason};
pub use receiver::VideoReceiver;
pub use transform::{FrameTransform, IdentityTransform};
