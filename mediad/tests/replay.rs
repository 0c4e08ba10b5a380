//! `mediad replay` on a committed fixture capture, through the real binary.

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/media")
        .join(name)
}

fn mediad() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mediad"))
}

#[test]
fn replays_a_capture_into_jpeg_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = mediad()
        .arg("replay")
        .arg(fixture("h264-baseline.pcap"))
        .args(["--fps", "60", "--jpeg-quality", "80", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    // The capture holds 60 frames (see h264-baseline.meta.json), 94 packets.
    let mut jpegs: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    jpegs.sort();
    assert_eq!(jpegs.len(), 60);
    assert_eq!(jpegs[0], "frame-000000.jpg");
    assert_eq!(jpegs[59], "frame-000059.jpg");
    let first = std::fs::read(dir.path().join("frame-000000.jpg")).unwrap();
    assert_eq!(&first[..2], &[0xff, 0xd8], "a JPEG");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("frame ")).count(),
        60
    );
    assert!(stdout.contains("640x360"));
    let summary = stdout.lines().find(|l| l.starts_with("summary:")).unwrap();
    for field in [
        "packets=94",
        "lost=0",
        "frames_decoded=60",
        "frames_emitted=60",
        "keyframe_requests=0",
        "decode_errors=0",
        "codec=H264",
    ] {
        assert!(summary.contains(field), "{field} in {summary}");
    }
    assert!(stderr.contains("using SSRC"), "says which SSRC: {stderr}");
}

#[test]
fn default_rate_gate_and_json_output() {
    let out = mediad()
        .arg("replay")
        .arg(fixture("vp8.pcap"))
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let frames = stdout
        .lines()
        .filter(|l| l.starts_with("{\"index\""))
        .count();
    // 4 s of video at the default 2 fps.
    assert!((7..=9).contains(&frames), "{frames} frames:\n{stdout}");
    let summary = stdout.lines().last().unwrap();
    assert!(summary.starts_with("{\"summary\""), "{summary}");
    assert!(summary.contains("\"codec\":\"VP8\""));
    assert!(summary.contains("\"frames_decoded\":60"));
}

#[test]
fn clear_errors_for_bad_input() {
    let missing = mediad()
        .args(["replay", "/nonexistent/x.pcap"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));

    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pcap");
    std::fs::write(&junk, b"this is not a capture").unwrap();
    let out = mediad().arg("replay").arg(&junk).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a readable capture"));

    let out = mediad()
        .arg("replay")
        .arg(fixture("vp8.pcap"))
        .args(["--ssrc", "0x1234"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not in the capture"), "{stderr}");
    // The message lists the SSRC that is there (878082202 = 0x3456789a).
    assert!(stderr.contains("878082202"), "{stderr}");
}

#[test]
fn help_explains_the_command() {
    let out = mediad().args(["replay", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--ssrc",
        "--codec",
        "--rtx-ssrc",
        "--out",
        "--fps",
        "--max-pixels",
        "--json",
    ] {
        assert!(help.contains(flag), "{flag} in help");
    }
}
