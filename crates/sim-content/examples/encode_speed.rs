//! Measures render + H264 encode throughput of the screen source on one
//! core. Run in release:
//!
//! ```text
//! cargo run --release -p sim-content --example encode_speed -- [WIDTH HEIGHT FRAMES]
//! ```
//!
//! The clock is read here, in the example, never in the library.

use std::time::Instant;

use sim_content::{
    CameraConfig, CameraSource, FrameSource, H264CameraStream, H264Config, H264ScreenStream,
    H264Stream, ScreenConfig, ScreenSource,
};

// A benchmark has to read the clock; the library never does.
#[allow(clippy::disallowed_methods)]
fn run<S: FrameSource>(name: &str, mut stream: H264Stream<S>, frames: u64, fps: u32) {
    let start = Instant::now();
    let mut bytes = 0usize;
    for i in 0..frames {
        match stream.next_frame(i) {
            Ok(f) => bytes += f.annexb.len(),
            Err(e) => {
                eprintln!("{name}: {e}");
                return;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let kbps = bytes as f64 * 8.0 / (frames as f64 / f64::from(fps)) / 1000.0;
    println!(
        "{name}: {frames} frames in {secs:.2} s = {:.1} frames/s, {kbps:.0} kbit/s (target {} kbit/s)",
        frames as f64 / secs,
        stream.config().bitrate_bps / 1000
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let width: u32 = args.next().map_or(Ok(1280), |s| s.parse())?;
    let height: u32 = args.next().map_or(Ok(720), |s| s.parse())?;
    let frames: u64 = args.next().map_or(Ok(600), |s| s.parse())?;

    let sc = ScreenConfig::new(width, height);
    let fps = sc.fps;
    let screen = H264ScreenStream::new(ScreenSource::new(sc)?, H264Config::screen())?;
    run(&format!("screen {width}x{height}"), screen, frames, fps);

    let cc = CameraConfig::new(width, height);
    let camera = H264CameraStream::new(CameraSource::new(cc)?, H264Config::camera())?;
    run(&format!("camera {width}x{height}"), camera, frames, fps);
    Ok(())
}
