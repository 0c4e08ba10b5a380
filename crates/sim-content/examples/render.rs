//! Writes a few screen and camera frames as PPM images so a human can look
//! at them.
//!
//! ```text
//! cargo run -p sim-content --example render -- OUT_DIR [WIDTH HEIGHT]
//! ffmpeg -i OUT_DIR/screen_000000.ppm screen.png   # to view as PNG
//! ```

use sim_content::{CameraConfig, CameraSource, ScreenConfig, ScreenSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: render OUT_DIR [WIDTH HEIGHT]")?);
    let width: u32 = args.next().map_or(Ok(1280), |s| s.parse())?;
    let height: u32 = args.next().map_or(Ok(720), |s| s.parse())?;
    std::fs::create_dir_all(&dir)?;

    let config = ScreenConfig::new(width, height);
    let period = config.scene_period;
    let mut screen = ScreenSource::new(config)?;
    // Start, a few seconds in, and the first frames of the next two scenes.
    for idx in [0, 150, period - 1, period, period + 200, 2 * period + 250] {
        let frame = screen.render(idx);
        let path = dir.join(format!("screen_{idx:06}.ppm"));
        std::fs::write(&path, frame.to_ppm())?;
        println!("{} ({:?})", path.display(), screen.scene_at(idx).kind);
        for line in screen.text_at(idx) {
            println!("    {line}");
        }
    }

    let mut camera = CameraSource::new(CameraConfig::new(width, height))?;
    for idx in [0, 45] {
        let path = dir.join(format!("camera_{idx:06}.ppm"));
        std::fs::write(&path, camera.render(idx).to_ppm())?;
        println!("{}", path.display());
    }
    Ok(())
}
