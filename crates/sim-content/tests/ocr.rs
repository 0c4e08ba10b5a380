//! The point of the screen source: after H264 encode and decode, tesseract
//! reads the text that `text_at` says is on screen.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use sim_content::{H264Config, H264ScreenStream, ScreenConfig, ScreenScene, ScreenSource};

fn tesseract_available() -> bool {
    Command::new("tesseract")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs tesseract on a PGM file and returns its text.
fn ocr(path: &Path) -> String {
    let out = Command::new("tesseract")
        .arg(path)
        .arg("-")
        .args(["--psm", "3"])
        .output()
        .expect("run tesseract");
    assert!(
        out.status.success(),
        "tesseract failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_string()
        })
        .filter(|w| w.len() >= 3 && w.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect()
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fraction of expected words found, and the expected lines found verbatim.
fn score(expected: &[String], text: &str) -> (f64, Vec<String>) {
    let seen: HashSet<String> = words(text).into_iter().collect();
    let want: Vec<String> = expected.iter().flat_map(|l| words(l)).collect();
    let hit = want.iter().filter(|w| seen.contains(*w)).count();
    let got_lines: HashSet<String> = text.lines().map(normalise).collect();
    let verbatim = expected
        .iter()
        .map(|l| normalise(l))
        .filter(|l| l.len() >= 20 && got_lines.contains(l))
        .collect();
    (hit as f64 / want.len().max(1) as f64, verbatim)
}

/// Greyscale PGM of a decoded luma plane.
fn write_pgm(path: &Path, w: usize, h: usize, luma: &[u8]) {
    let mut data = format!("P5\n{w} {h}\n255\n").into_bytes();
    data.extend_from_slice(luma);
    std::fs::write(path, data).unwrap();
}

#[test]
fn tesseract_reads_the_decoded_720p_stream() {
    if !tesseract_available() {
        eprintln!("SKIPPED: tesseract is not on PATH; install tesseract-ocr to run the OCR check");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = ScreenConfig::new(1280, 720);
    let probe = ScreenSource::new(config.clone()).unwrap();
    // A frame late in each of the first three scenes (one of each kind).
    for n in 0..3u64 {
        let idx = n * config.scene_period + config.scene_period - 40;
        let kind = probe.scene_at(idx).kind;
        let mut stream = H264ScreenStream::new(
            ScreenSource::new(config.clone()).unwrap(),
            H264Config::screen(),
        )
        .unwrap();
        let aus: Vec<Vec<u8>> = (idx - 4..=idx)
            .map(|i| stream.next_frame(i).unwrap().annexb)
            .collect();
        let pics = common::decode_all(&aus);
        let last = pics.last().expect("decoded picture");
        let path = dir.path().join(format!("scene{n}.pgm"));
        write_pgm(&path, last.width, last.height, &last.luma);
        let text = ocr(&path);
        let expected = probe.text_at(idx);
        let (recall, verbatim) = score(&expected, &text);
        println!(
            "{kind:?}: word recall {:.0}%, {} lines verbatim",
            recall * 100.0,
            verbatim.len()
        );
        let body_lines = match kind {
            ScreenScene::Terminal => 3,
            _ => 2,
        };
        assert!(
            recall >= 0.85,
            "{kind:?}: recall {recall:.2}\nexpected {expected:#?}\nOCR:\n{text}"
        );
        assert!(
            verbatim.len() >= body_lines,
            "{kind:?}: only {verbatim:?} read verbatim\nOCR:\n{text}"
        );
    }
}

#[test]
fn tesseract_reads_a_360p_frame() {
    if !tesseract_available() {
        eprintln!("SKIPPED: tesseract is not on PATH; install tesseract-ocr to run the OCR check");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = ScreenConfig::new(640, 360);
    let mut src = ScreenSource::new(config.clone()).unwrap();
    // Slide and document scenes: the title and heading are distinctive.
    for idx in [config.scene_period + 200, 2 * config.scene_period + 200] {
        let path = dir.path().join(format!("f{idx}.pgm"));
        std::fs::write(&path, src.render(idx).to_pgm()).unwrap();
        let text = ocr(&path);
        let expected = src.text_at(idx);
        let (recall, _) = score(&expected, &text);
        let title = normalise(&expected[1]);
        println!("360p frame {idx}: word recall {:.0}%", recall * 100.0);
        assert!(
            recall >= 0.8,
            "recall {recall:.2}\nexpected {expected:#?}\nOCR:\n{text}"
        );
        assert!(
            normalise(&text).contains(&title),
            "title {title:?} not in OCR:\n{text}"
        );
    }
}
