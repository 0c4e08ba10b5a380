//! The offline provider reads the text of a rendered frame with tesseract.
//!
//! The frame is drawn here with a small hand-made 5×7 bitmap font (no font
//! files or ImageMagick needed) and encoded as PNG. Needs the `tesseract`
//! binary (Debian `tesseract-ocr`, installed by `scripts/setup`); without
//! it the tests are skipped, except under CI where they fail.

use llm::{
    Message, OFFLINE_TOOL_CALL_ID, OfflineProvider, Part, Provider, Request, RequestKind, Role,
    SKIP, SNAPSHOT_TOOL, ToolSpec,
};

/// Glyph rows, top first; `#` is ink.
fn glyph(c: char) -> Option<[&'static str; 7]> {
    Some(match c {
        'A' => [
            ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#",
        ],
        'B' => [
            "####.", "#...#", "#...#", "####.", "#...#", "#...#", "####.",
        ],
        'D' => [
            "###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###..",
        ],
        'E' => [
            "#####", "#....", "#....", "####.", "#....", "#....", "#####",
        ],
        'F' => [
            "#####", "#....", "#....", "####.", "#....", "#....", "#....",
        ],
        'G' => [
            ".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".###.",
        ],
        'I' => [
            ".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###.",
        ],
        'L' => [
            "#....", "#....", "#....", "#....", "#....", "#....", "#####",
        ],
        'N' => [
            "#...#", "##..#", "##..#", "#.#.#", "#..##", "#..##", "#...#",
        ],
        'R' => [
            "####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#",
        ],
        'S' => [
            ".####", "#....", "#....", ".###.", "....#", "....#", "####.",
        ],
        'T' => [
            "#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#..",
        ],
        'U' => [
            "#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.",
        ],
        ' ' => [
            ".....", ".....", ".....", ".....", ".....", ".....", ".....",
        ],
        _ => return None,
    })
}

/// Black text on white, `scale` pixels per font pixel, softened with a box
/// blur (hard pixel staircases read worse than the anti-aliased or JPEG'd
/// text of a real screen), as a grayscale PNG.
fn render_png(lines: &[&str], scale: usize) -> Vec<u8> {
    let margin = 6 * scale;
    let cols = lines.iter().map(|l| l.len()).max().unwrap_or(0);
    let width = 2 * margin + cols * 6 * scale;
    let height = 2 * margin + lines.len() * 10 * scale;
    let mut pixels = vec![255u8; width * height];
    for (row, line) in lines.iter().enumerate() {
        for (col, c) in line.chars().enumerate() {
            let g = glyph(c).expect("glyph in the test font");
            for (gy, bits) in g.iter().enumerate() {
                for (gx, bit) in bits.chars().enumerate() {
                    if bit != '#' {
                        continue;
                    }
                    let x0 = margin + (col * 6 + gx) * scale;
                    let y0 = margin + (row * 10 + gy) * scale;
                    for y in y0..y0 + scale {
                        pixels[y * width + x0..y * width + x0 + scale].fill(0);
                    }
                }
            }
        }
    }
    let pixels = box_blur(&pixels, width, height, scale / 2);
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("png header");
        writer.write_image_data(&pixels).expect("png data");
    }
    out
}

/// Separable box blur of radius `r`.
fn box_blur(src: &[u8], width: usize, height: usize, r: usize) -> Vec<u8> {
    let pass = |src: &[u8], along_x: bool| -> Vec<u8> {
        let mut out = vec![0u8; src.len()];
        for y in 0..height {
            for x in 0..width {
                let (pos, len) = if along_x { (x, width) } else { (y, height) };
                let (lo, hi) = (pos.saturating_sub(r), (pos + r).min(len - 1));
                let sum: usize = (lo..=hi)
                    .map(|i| {
                        let (sx, sy) = if along_x { (i, y) } else { (x, i) };
                        usize::from(src[sy * width + sx])
                    })
                    .sum();
                out[y * width + x] = (sum / (hi - lo + 1)) as u8;
            }
        }
        out
    };
    pass(&pass(src, true), false)
}

fn tesseract_available() -> bool {
    let found = std::process::Command::new("tesseract")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "tesseract is missing under CI (scripts/setup installs tesseract-ocr)"
        );
        eprintln!("skipped: tesseract not installed (apt-get install tesseract-ocr)");
    }
    found
}

fn frame() -> Vec<u8> {
    render_png(&["BUILD FAILED", "RUN TESTS AGAIN"], 4)
}

fn request(kind: RequestKind, system: &str, text: &str, image: Vec<u8>) -> Request {
    Request {
        kind,
        system: system.into(),
        messages: vec![Message {
            role: Role::User,
            parts: vec![
                Part::text(text),
                Part::Image {
                    mime: "image/png".into(),
                    data: image,
                },
            ],
        }],
        max_tokens: 200,
        model: String::new(),
        temperature: None,
        ..Request::default()
    }
}

#[tokio::test]
async fn note_reads_the_rendered_text() {
    if !tesseract_available() {
        return;
    }
    let provider = OfflineProvider::default();
    let resp = provider
        .complete(request(
            RequestKind::Note,
            "Write one short factual note about the screen.",
            "Frame metrics: change=0.62 scene_cut=true",
            frame(),
        ))
        .await
        .expect("note");
    println!("note: {}", resp.text);
    for word in ["BUILD", "FAILED", "RUN", "TESTS", "AGAIN"] {
        assert!(
            resp.text.contains(word),
            "{word} missing from {:?}",
            resp.text
        );
    }
    assert!(resp.text.contains("change 0.62"), "{}", resp.text);
    assert!(resp.text.split_whitespace().count() <= 45);
    assert_eq!(resp.model, llm::OFFLINE_MODEL);
}

#[tokio::test]
async fn blank_frame_has_no_readable_text() {
    if !tesseract_available() {
        return;
    }
    let provider = OfflineProvider::default();
    let resp = provider
        .complete(request(
            RequestKind::Note,
            "note",
            "",
            render_png(&["   "], 4),
        ))
        .await
        .expect("note");
    assert_eq!(resp.text, "Screen shows no readable text.");
}

#[tokio::test]
async fn commentary_speaks_on_new_text_and_skips_otherwise() {
    if !tesseract_available() {
        return;
    }
    let provider = OfflineProvider::default();
    let system = "Commentary: comment only when something changed.";

    // The notes know the first line only: the second line is new.
    let fresh = provider
        .complete(request(
            RequestKind::Commentary,
            system,
            "Notes:\n- Screen text reads: \"BUILD FAILED\".\nCurrent frame: change=0.05 scene_cut=false",
            frame(),
        ))
        .await
        .expect("commentary");
    println!("fresh: {}", fresh.text);
    assert!(fresh.text.starts_with("New on screen:"), "{}", fresh.text);
    assert!(fresh.text.contains("TESTS"), "{}", fresh.text);

    // Everything on screen is already in the notes: skip.
    let stale = provider
        .complete(request(
            RequestKind::Commentary,
            system,
            "Notes:\n- Screen text reads: \"BUILD FAILED RUN TESTS AGAIN\".\nCurrent frame: change=0.05 scene_cut=false",
            frame(),
        ))
        .await
        .expect("commentary");
    assert_eq!(stale.text, SKIP);

    // A scene cut speaks even when the text is known.
    let cut = provider
        .complete(request(
            RequestKind::Commentary,
            system,
            "Notes:\n- Screen text reads: \"BUILD FAILED RUN TESTS AGAIN\".\nTrigger: change_detected (scene cut)",
            frame(),
        ))
        .await
        .expect("commentary");
    assert!(
        cut.text.starts_with("The screen just changed"),
        "{}",
        cut.text
    );
}

#[tokio::test]
async fn garbage_image_is_an_error_not_a_panic() {
    if !tesseract_available() {
        return;
    }
    let provider = OfflineProvider::default();
    let err = provider
        .complete(request(
            RequestKind::Note,
            "note",
            "",
            b"definitely not an image".to_vec(),
        ))
        .await
        .expect_err("not an image");
    assert!(matches!(err, llm::LlmError::Ocr(_)), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn snapshot_tool_round_trip_reads_the_frame() {
    if !tesseract_available() {
        return;
    }
    let provider = OfflineProvider::default();
    let first = Request {
        system: "You chat with the people in the call.".into(),
        messages: vec![Message::user_text("Hey, what's on my screen right now?")],
        max_tokens: 200,
        tools: vec![ToolSpec {
            name: SNAPSHOT_TOOL.into(),
            description: "Look at the current screen share frame.".into(),
            input_schema: serde_json::json!({"type": "object", "properties": {}}),
        }],
        ..Request::default()
    };
    let call = provider.complete(first.clone()).await.expect("tool call");
    assert_eq!(call.text, "");
    assert_eq!(call.tool_calls.len(), 1);
    assert_eq!(call.tool_calls[0].id, OFFLINE_TOOL_CALL_ID);
    assert_eq!(call.tool_calls[0].name, SNAPSHOT_TOOL);
    assert_eq!(call.tool_calls[0].input, serde_json::json!({}));

    let mut follow = first;
    follow.messages.push(call.assistant_message());
    follow.messages.push(Message {
        role: Role::User,
        parts: vec![Part::tool_result(
            OFFLINE_TOOL_CALL_ID,
            vec![
                Part::text("Frame of the screen share (change=0.30)."),
                Part::Image {
                    mime: "image/png".into(),
                    data: frame(),
                },
            ],
        )],
    });
    let answer = provider.complete(follow).await.expect("answer");
    println!("answer: {}", answer.text);
    assert!(answer.tool_calls.is_empty());
    assert!(
        answer.text.starts_with("Screen text reads: \""),
        "{}",
        answer.text
    );
    for word in ["BUILD", "FAILED", "TESTS"] {
        assert!(
            answer.text.contains(word),
            "{word} missing: {}",
            answer.text
        );
    }
    assert!(
        answer.text.ends_with("Change since last frame 0.30."),
        "{}",
        answer.text
    );
}
