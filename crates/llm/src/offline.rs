//! The offline provider: OCR notes and rule-based commentary, no network.
//!
//! See the crate documentation for the conventions it follows.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use crate::error::LlmError;
use crate::types::{Part, Request, Response, Role, ToolCall};
use crate::{CompletionFuture, Provider};

/// A system prompt containing this word (exact case) makes a request a
/// commentary request.
pub const COMMENTARY_MARKER: &str = "COMMENTARY";
/// A system prompt containing this word (exact case) makes a request an
/// end-of-watch recap request.
pub const RECAP_MARKER: &str = "RECAP";
/// A system prompt containing this word (exact case) makes a request a
/// summary (memory compaction) request.
pub const SUMMARY_MARKER: &str = "SUMMARY";
/// The reply that means "say nothing".
pub const SKIP: &str = "[SKIP]";
/// The `model` reported in the offline provider's responses.
pub const OFFLINE_MODEL: &str = "offline-ocr";
/// The reply to requests that are neither notes nor commentary.
pub const OFFLINE_CHAT_REPLY: &str =
    "I'm running without a language model, so I can only keep notes of readable screen text.";

/// The screen snapshot tool the offline provider knows how to call (see the
/// crate docs, "Offline conventions").
pub const SNAPSHOT_TOOL: &str = "see_screenshare_snapshot";
/// The id of the offline provider's tool calls.
pub const OFFLINE_TOOL_CALL_ID: &str = "offline-1";

/// Settings of the [`OfflineProvider`].
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineConfig {
    /// The tesseract executable (default `tesseract`, found on `PATH`).
    pub tesseract: PathBuf,
    /// Tesseract language (`-l`), default `eng`.
    pub language: String,
    /// Longest one OCR run may take; the process is killed after it.
    pub ocr_timeout: Duration,
    /// At most this many OCR words go into a note (the note stays near 40
    /// words with the change sentence).
    pub max_note_words: usize,
    /// A change score at or above this counts as a scene cut for
    /// commentary (the same 0.40 as video-pipeline's cut threshold).
    pub cut_change_threshold: f32,
    /// New words needed before commentary speaks about new text.
    pub min_new_words: usize,
}

impl Default for OfflineConfig {
    fn default() -> Self {
        OfflineConfig {
            tesseract: PathBuf::from("tesseract"),
            language: "eng".to_owned(),
            ocr_timeout: Duration::from_secs(20),
            max_note_words: 30,
            cut_change_threshold: 0.40,
            min_new_words: 2,
        }
    }
}

/// A provider that needs no network: notes from tesseract OCR of the frame
/// plus the change metrics in the prompt, commentary from a small
/// deterministic rule set.
#[derive(Debug, Clone, Default)]
pub struct OfflineProvider {
    config: OfflineConfig,
    /// The last image's OCR text by content hash: the note and the
    /// commentary of one scene change read the same frame once.
    last_ocr: std::sync::Arc<std::sync::Mutex<Option<(u64, String)>>>,
}

impl OfflineProvider {
    /// A provider with these settings.
    pub fn new(config: OfflineConfig) -> Self {
        OfflineProvider {
            config,
            last_ocr: std::sync::Arc::default(),
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &OfflineConfig {
        &self.config
    }

    /// [`ocr`], reusing the previous result for the same image bytes.
    async fn ocr_cached(&self, image: &[u8]) -> Result<String, LlmError> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        image.hash(&mut h);
        let key = h.finish();
        let lock = || {
            self.last_ocr
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((k, text)) = lock().as_ref()
            && *k == key
        {
            return Ok(text.clone());
        }
        let text = ocr(&self.config, image).await?;
        *lock() = Some((key, text.clone()));
        Ok(text)
    }

    async fn run(&self, req: Request) -> Result<Response, LlmError> {
        if wants_snapshot(&req) {
            return Ok(Response {
                model: OFFLINE_MODEL.to_owned(),
                tool_calls: vec![ToolCall {
                    id: OFFLINE_TOOL_CALL_ID.to_owned(),
                    name: SNAPSHOT_TOOL.to_owned(),
                    input: serde_json::json!({}),
                }],
                ..Response::default()
            });
        }
        let text = if req.system.contains(COMMENTARY_MARKER) {
            self.commentary(&req).await?
        } else if req.system.contains(RECAP_MARKER) {
            recap_text(&req.user_text())
        } else if req.system.contains(SUMMARY_MARKER) {
            summary_text(&req.user_text())
        } else if let Some((_, image)) = req.last_image() {
            let raw = self.ocr_cached(image).await?;
            let words = ocr_words(&raw);
            note_text(
                &words,
                &parse_metrics(&req.user_text()),
                self.config.max_note_words,
            )
        } else if let Some(result) = last_tool_result_text(&req) {
            tool_result_reply(&result)
        } else {
            chat_text(&req.user_text())
        };
        Ok(Response {
            text,
            model: OFFLINE_MODEL.to_owned(),
            ..Response::default()
        })
    }

    async fn commentary(&self, req: &Request) -> Result<String, LlmError> {
        let prompt = req.user_text();
        let metrics = parse_metrics(&prompt);
        let (current, previous) = match req.last_image() {
            Some((_, image)) => (ocr_words(&self.ocr_cached(image).await?), prompt),
            None => {
                let (before, last) = split_last_line(&prompt);
                (ocr_words(last), before.to_owned())
            }
        };
        Ok(commentary_text(&current, &previous, &metrics, &self.config))
    }
}

impl Provider for OfflineProvider {
    fn complete(&self, req: Request) -> CompletionFuture<'_> {
        Box::pin(self.run(req))
    }

    fn name(&self) -> &str {
        "offline"
    }
}

/// Whether the offline provider answers `req` with a call of
/// [`SNAPSHOT_TOOL`]: the request offers that tool, carries no tool result
/// and no image, is not a commentary, recap or summary request, and the
/// text of its last user message [`is_about_the_screen`].
pub fn wants_snapshot(req: &Request) -> bool {
    if req.tool(SNAPSHOT_TOOL).is_none()
        || req.has_tool_result()
        || req.has_image()
        || [COMMENTARY_MARKER, RECAP_MARKER, SUMMARY_MARKER]
            .iter()
            .any(|m| req.system.contains(m))
    {
        return false;
    }
    let Some(last) = req.messages.iter().rev().find(|m| m.role == Role::User) else {
        return false;
    };
    last.parts.iter().any(|p| match p {
        Part::Text(text) => is_about_the_screen(text),
        _ => false,
    })
}

/// The offline keyword rule for "this question is about the screen":
/// case-insensitive, on words (runs of letters, digits and `'`), true when
/// a word starts with `screen` or `look` (screens, screenshare, looking),
/// is `see`, `seeing`, `showing` or `this`, or when the words `on my`
/// follow each other.
pub fn is_about_the_screen(text: &str) -> bool {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().any(|w| {
        w.starts_with("screen")
            || w.starts_with("look")
            || matches!(*w, "see" | "seeing" | "showing" | "this")
    }) || words.windows(2).any(|pair| pair == ["on", "my"])
}

/// The text parts of the request's last [`Part::ToolResult`], joined by
/// newlines, when that result has no image (results with images are read
/// by OCR).
fn last_tool_result_text(req: &Request) -> Option<String> {
    let parts = req
        .messages
        .iter()
        .flat_map(|m| m.parts.iter())
        .filter_map(|p| match p {
            Part::ToolResult { parts, .. } => Some(parts),
            _ => None,
        })
        .next_back()?;
    let texts: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            Part::Text(t) => Some(t.trim()),
            _ => None,
        })
        .filter(|t| !t.is_empty())
        .collect();
    Some(texts.join("\n"))
}

/// The reply to a tool result without an image: `The snapshot tool says:
/// <text>` (whitespace collapsed, at most 300 characters), or a fixed
/// sentence when it has no text either.
pub fn tool_result_reply(result: &str) -> String {
    let result = result.split_whitespace().collect::<Vec<_>>().join(" ");
    if result.is_empty() {
        "The screen snapshot came back empty, so I can't tell what is on screen.".to_owned()
    } else {
        format!(
            "The snapshot tool says: {}",
            crate::http::truncate_chars(&result, 300)
        )
    }
}

/// The reply to a chat request: answered from the newest screen note in
/// the prompt (the last `Screen text reads: "…".` or `Screen shows no
/// readable text.` sentence) as `From my latest screen note: <sentence>`,
/// or [`OFFLINE_CHAT_REPLY`] when the prompt carries no such note.
pub fn chat_text(prompt: &str) -> String {
    const READS: &str = "Screen text reads: \"";
    const BLANK: &str = "Screen shows no readable text.";
    let newest = [READS, BLANK]
        .iter()
        .filter_map(|marker| prompt.rfind(marker).map(|at| (at, *marker)))
        .max_by_key(|(at, _)| *at);
    let sentence = match newest {
        None => return OFFLINE_CHAT_REPLY.to_owned(),
        Some((_, BLANK)) => BLANK.to_owned(),
        Some((at, _)) => {
            let rest = &prompt[at..];
            let rest = rest.lines().next().unwrap_or(rest);
            // Up to the closing quote of the note's text.
            let end = rest[READS.len()..]
                .find("\".")
                .map_or(rest.len(), |i| READS.len() + i + 2);
            rest[..end].trim().to_owned()
        }
    };
    format!("From my latest screen note: {sentence}")
}

/// The offline recap: JSON `{"shouldStore", "recap"}` built from the
/// prompt's `Streamer:` line and its newest numbered note (`N. text`);
/// `shouldStore` is false when no note carries readable text.
pub fn recap_text(prompt: &str) -> String {
    let streamer = prompt
        .lines()
        .find_map(|l| l.strip_prefix("Streamer:"))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("The streamer");
    let notes: Vec<&str> = prompt
        .lines()
        .filter_map(|l| {
            let (n, rest) = l.split_once(". ")?;
            n.trim().parse::<u32>().ok()?;
            // Notes are labelled `speaker: text`.
            Some(rest.split_once(": ").map_or(rest, |(_, t)| t).trim())
        })
        .collect();
    let readable = notes
        .iter()
        .rev()
        .find(|n| n.starts_with("Screen text reads"))
        .or(notes.last());
    let (recap, store) = match readable {
        Some(note) => (
            format!(
                "{streamer} shared their screen; last seen: {}",
                note.trim_end_matches(['.', ' '])
            ),
            note.starts_with("Screen text reads"),
        ),
        None => (format!("{streamer} shared their screen briefly."), false),
    };
    serde_json::json!({ "shouldStore": store, "recap": format!("{recap}.") }).to_string()
}

/// The offline summary: the previous summary followed by the items to fold
/// in (`- …` lines other than `- none`), joined as sentences; the caller
/// bounds its length.
pub fn summary_text(prompt: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut in_summary = false;
    for line in prompt.lines() {
        let line = line.trim();
        if line.starts_with("Session summary so far") {
            in_summary = true;
            continue;
        }
        if line.is_empty() || line.ends_with("fold in:") {
            in_summary = false;
            continue;
        }
        let item = match line.strip_prefix("- ") {
            Some("none") => continue,
            Some(item) => item,
            None if in_summary => line,
            None => continue,
        };
        let item = item.trim_end_matches(['.', ' ']);
        if !item.is_empty() && !out.iter().any(|o| o.trim_end_matches('.') == item) {
            out.push(format!("{item}."));
        }
    }
    // Newest first when it has to be cut: keep the tail.
    let mut joined = out.join(" ");
    if joined.chars().count() > 1100 {
        let skip = joined.chars().count() - 1100;
        joined = joined.chars().skip(skip).collect();
    }
    joined
}

/// Runs `tesseract stdin stdout -l LANG` on `image` and returns what it
/// printed. The process is killed when the timeout expires.
pub async fn ocr(config: &OfflineConfig, image: &[u8]) -> Result<String, LlmError> {
    if image.is_empty() {
        return Ok(String::new());
    }
    let command = |niced: bool| {
        let mut c = if niced {
            // Lowest CPU priority: OCR is background work and must not
            // delay frame ingest or decoding (a core for ~1 s per run on
            // a 2-core machine otherwise shows up as ingest latency).
            let mut c = tokio::process::Command::new("nice");
            c.arg("-n").arg("19").arg(&config.tesseract);
            c
        } else {
            tokio::process::Command::new(&config.tesseract)
        };
        c.arg("stdin")
            .arg("stdout")
            .arg("-l")
            .arg(&config.language)
            // One thread: OCR shares the machine with video decoding.
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    };
    // Without `nice` on PATH, tesseract runs at normal priority.
    let mut child = command(true)
        .spawn()
        .or_else(|_| command(false).spawn())
        .map_err(|e| {
            LlmError::Ocr(format!(
                "cannot run {} (install the tesseract-ocr package): {e}",
                config.tesseract.display()
            ))
        })?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| LlmError::Ocr("tesseract has no stdin".to_owned()))?;
    let data = image.to_vec();
    // Written concurrently with reading the output so that neither pipe can
    // fill up and block the other.
    let writer = tokio::spawn(async move {
        // A write error means tesseract exited early; its status says why.
        let _ = stdin.write_all(&data).await;
        let _ = stdin.shutdown().await;
    });
    let output = tokio::time::timeout(config.ocr_timeout, child.wait_with_output())
        .await
        .map_err(|_| {
            LlmError::Ocr(format!(
                "tesseract took longer than {}ms",
                config.ocr_timeout.as_millis()
            ))
        })?
        .map_err(|e| LlmError::Ocr(format!("tesseract failed: {e}")))?;
    writer.abort();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr = crate::http::truncate_chars(stderr.trim(), 200);
        if output.status.code() == Some(127) {
            // `nice` ran but could not start tesseract.
            return Err(LlmError::Ocr(format!(
                "cannot run {} (install the tesseract-ocr package): {stderr}",
                config.tesseract.display()
            )));
        }
        return Err(LlmError::Ocr(format!(
            "tesseract exited with {}: {stderr}",
            output.status
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Change metrics found in a prompt (see the crate docs for the syntax).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChangeMetrics {
    /// `change=` / `change_score=` value, 0.0 to 1.0.
    pub change: Option<f32>,
    /// `scene_cut=true` or the words "scene cut".
    pub scene_cut: bool,
}

/// Reads `change=0.42` / `change_score: 0.42` / `change=42%` and
/// `scene_cut=true` from a prompt; the last occurrence of a key wins. Without
/// a `scene_cut` key, the words "scene cut" anywhere (not after "no",
/// "not a" or "without") mark a cut.
pub fn parse_metrics(text: &str) -> ChangeMetrics {
    let lower = text.to_lowercase();
    let change = ["change_score", "change"]
        .iter()
        .filter_map(|key| last_key_value(&lower, key))
        .max_by_key(|(at, _)| *at)
        .and_then(|(_, v)| parse_fraction(v));
    let scene_cut = match last_key_value(&lower, "scene_cut") {
        Some((_, v)) => matches!(v, "true" | "1" | "yes"),
        None => mentions_scene_cut(&lower),
    };
    ChangeMetrics { change, scene_cut }
}

/// The position and value of the last `key` written as a whole word and
/// followed by `=` or `:`.
fn last_key_value<'a>(text: &'a str, key: &str) -> Option<(usize, &'a str)> {
    let mut from = 0;
    let mut last = None;
    while let Some(found) = text.get(from..).and_then(|rest| rest.find(key)) {
        let start = from + found;
        let end = start + key.len();
        from = end;
        let before_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if !before_ok {
            continue;
        }
        let rest = text[end..].trim_start();
        let Some(rest) = rest.strip_prefix('=').or_else(|| rest.strip_prefix(':')) else {
            continue;
        };
        let value = rest
            .trim_start()
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == ')')
            .next()
            .unwrap_or_default();
        if !value.is_empty() {
            last = Some((start, value));
        }
    }
    last
}

fn parse_fraction(value: &str) -> Option<f32> {
    let (number, scale) = match value.strip_suffix('%') {
        Some(n) => (n, 100.0),
        None => (value.trim_end_matches('.'), 1.0),
    };
    let v = number.parse::<f32>().ok()? / scale;
    v.is_finite().then_some(v.clamp(0.0, 1.0))
}

fn mentions_scene_cut(lower: &str) -> bool {
    let mut from = 0;
    while let Some(found) = lower.get(from..).and_then(|rest| rest.find("scene cut")) {
        let start = from + found;
        from = start + "scene cut".len();
        let before = lower[..start].trim_end();
        if !(before.ends_with("no") || before.ends_with("not a") || before.ends_with("without")) {
            return true;
        }
    }
    false
}

/// The words of OCR output worth repeating: tokens trimmed of surrounding
/// punctuation that are mostly letters and digits, with OCR noise (lone
/// symbols, single letters other than `a`/`I`) dropped.
pub fn ocr_words(raw: &str) -> Vec<String> {
    raw.split_whitespace()
        .filter_map(|token| {
            let word = token.trim_matches(|c: char| !c.is_alphanumeric());
            let total = word.chars().count();
            if total == 0 {
                return None;
            }
            let alnum = word.chars().filter(|c| c.is_alphanumeric()).count();
            if alnum * 4 < total * 3 {
                return None;
            }
            if total == 1 && !matches!(word, "a" | "A" | "I") && !word.chars().all(char::is_numeric)
            {
                return None;
            }
            Some(word.to_owned())
        })
        .collect()
}

/// A short factual note: the readable words (at most `max_words`) and the
/// change metrics when the prompt carried them.
pub fn note_text(words: &[String], metrics: &ChangeMetrics, max_words: usize) -> String {
    let mut note = if words.is_empty() {
        "Screen shows no readable text.".to_owned()
    } else {
        let shown: Vec<&str> = words
            .iter()
            .take(max_words.max(1))
            .map(String::as_str)
            .collect();
        let more = if words.len() > shown.len() {
            " …"
        } else {
            ""
        };
        format!("Screen text reads: \"{}{more}\".", shown.join(" "))
    };
    match (metrics.scene_cut, metrics.change) {
        (true, Some(c)) => {
            note.push_str(&format!(" The screen cut to new content (change {c:.2})."))
        }
        (true, None) => note.push_str(" The screen cut to new content."),
        (false, Some(c)) => note.push_str(&format!(" Change since last frame {c:.2}.")),
        (false, None) => {}
    }
    note
}

/// The commentary rules, in order:
/// 1. a scene cut (flag, phrase, or change ≥ `cut_change_threshold`) →
///    speak about the new screen, naming its first words when there are any;
/// 2. at least `min_new_words` words of 3+ letters in `current` that appear
///    nowhere in `previous` (the notes and context of the prompt) → speak
///    about the new text;
/// 3. otherwise [`SKIP`].
pub fn commentary_text(
    current: &[String],
    previous: &str,
    metrics: &ChangeMetrics,
    config: &OfflineConfig,
) -> String {
    let seen: HashSet<String> = ocr_words(previous)
        .iter()
        .map(|w| w.to_lowercase())
        .collect();
    let mut fresh: Vec<&str> = Vec::new();
    let mut fresh_lower: HashSet<String> = HashSet::new();
    for word in current {
        let lower = word.to_lowercase();
        if word.chars().filter(|c| c.is_alphabetic()).count() >= 3
            && !seen.contains(&lower)
            && fresh_lower.insert(lower)
        {
            fresh.push(word);
        }
    }
    let cut = metrics.scene_cut
        || metrics
            .change
            .is_some_and(|c| c >= config.cut_change_threshold);
    if cut {
        let first: Vec<&str> = current.iter().take(8).map(String::as_str).collect();
        return if first.is_empty() {
            "The screen just changed completely.".to_owned()
        } else {
            format!(
                "The screen just changed; now it shows \"{}\".",
                first.join(" ")
            )
        };
    }
    if fresh.len() >= config.min_new_words.max(1) {
        let shown: Vec<&str> = fresh.iter().take(8).copied().collect();
        return format!("New on screen: \"{}\".", shown.join(" "));
    }
    SKIP.to_owned()
}

/// `text` split into everything before its last non-empty line, and that
/// line.
fn split_last_line(text: &str) -> (&str, &str) {
    let trimmed = text.trim_end();
    match trimmed.rfind('\n') {
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => ("", trimmed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        ocr_words(s)
    }

    #[test]
    fn metrics_syntax() {
        assert_eq!(
            parse_metrics("frame: change=0.62 scene_cut=true"),
            ChangeMetrics {
                change: Some(0.62),
                scene_cut: true
            }
        );
        assert_eq!(
            parse_metrics("Change: 12%, no scene cut").change,
            Some(0.12)
        );
        assert!(!parse_metrics("Change: 12%, no scene cut").scene_cut);
        assert_eq!(parse_metrics("change_score: 0.3.").change, Some(0.3));
        assert!(parse_metrics("trigger change_detected (scene cut)").scene_cut);
        assert_eq!(parse_metrics("interchange=0.9").change, None);
        assert_eq!(parse_metrics("change=NaN change: x").change, None);
        assert_eq!(parse_metrics("").change, None);
        assert_eq!(parse_metrics("change=7").change, Some(1.0));
        // The last key wins, and a key overrides the phrase.
        let m = parse_metrics(
            "note: scene cut earlier\nchange=0.5 scene_cut=true\nnow: change=0.1 scene_cut=false",
        );
        assert_eq!(
            m,
            ChangeMetrics {
                change: Some(0.1),
                scene_cut: false
            }
        );
    }

    #[test]
    fn noise_is_dropped() {
        assert_eq!(
            words("BUILD  FAILED: line 42\n~ | — a I x ©©"),
            vec!["BUILD", "FAILED", "line", "42", "a", "I"]
        );
    }

    #[test]
    fn notes() {
        let m = ChangeMetrics {
            change: Some(0.62),
            scene_cut: true,
        };
        assert_eq!(
            note_text(&words("Build failed"), &m, 30),
            "Screen text reads: \"Build failed\". The screen cut to new content (change 0.62)."
        );
        assert_eq!(
            note_text(&[], &ChangeMetrics::default(), 30),
            "Screen shows no readable text."
        );
        let many = words(&"word ".repeat(100));
        let note = note_text(&many, &ChangeMetrics::default(), 30);
        assert!(note.split_whitespace().count() <= 40, "{note}");
    }

    #[test]
    fn commentary_rules() {
        let config = OfflineConfig::default();
        let calm = ChangeMetrics {
            change: Some(0.05),
            scene_cut: false,
        };
        // Same text as the notes: nothing to say.
        assert_eq!(
            commentary_text(
                &words("BUILD FAILED line 42"),
                "- Screen text reads: \"BUILD FAILED line 42\".",
                &calm,
                &config
            ),
            SKIP
        );
        // New words speak.
        assert_eq!(
            commentary_text(
                &words("BUILD PASSED deploy started"),
                "- Screen text reads: \"BUILD FAILED\".",
                &calm,
                &config
            ),
            "New on screen: \"PASSED deploy started\"."
        );
        // One new word is not enough.
        assert_eq!(
            commentary_text(&words("BUILD PASSED"), "BUILD FAILED", &calm, &config),
            SKIP
        );
        // A cut speaks even without new text.
        let cut = ChangeMetrics {
            change: Some(0.5),
            scene_cut: false,
        };
        assert_eq!(
            commentary_text(&[], "anything", &cut, &config),
            "The screen just changed completely."
        );
    }

    #[tokio::test]
    async fn text_only_commentary_uses_the_last_line() {
        let provider = OfflineProvider::default();
        let req = |text: &str| Request {
            system: "You are the COMMENTARY voice.".into(),
            messages: vec![crate::types::Message::user_text(text)],
            max_tokens: 100,
            model: String::new(),
            temperature: None,
            ..Request::default()
        };
        let quiet = provider
            .complete(req("notes: editor open\nchange=0.01\ncurrent: editor open"))
            .await
            .map(|r| r.text);
        assert_eq!(quiet, Ok(SKIP.to_owned()));
        let fresh = provider
            .complete(req(
                "notes: editor open\ncurrent: terminal shows compile errors",
            ))
            .await
            .map(|r| r.text);
        assert_eq!(
            fresh,
            Ok("New on screen: \"current terminal shows compile errors\".".to_owned())
        );
        let chat = Request {
            system: "chat".into(),
            ..req("hello?")
        };
        assert_eq!(
            provider.complete(chat).await.map(|r| r.text),
            Ok(OFFLINE_CHAT_REPLY.to_owned())
        );
    }

    #[tokio::test]
    async fn missing_tesseract_is_an_ocr_error() {
        let provider = OfflineProvider::new(OfflineConfig {
            tesseract: PathBuf::from("/nonexistent/tesseract"),
            ..OfflineConfig::default()
        });
        let req = Request {
            system: String::new(),
            messages: vec![crate::types::Message {
                role: crate::types::Role::User,
                parts: vec![crate::types::Part::jpeg(vec![1, 2, 3])],
            }],
            max_tokens: 100,
            model: String::new(),
            temperature: None,
            ..Request::default()
        };
        let err = provider.complete(req).await.err();
        assert!(matches!(err, Some(LlmError::Ocr(_))), "{err:?}");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,200}") {
            let m = parse_metrics(&text);
            let w = ocr_words(&text);
            let _ = note_text(&w, &m, 30);
            let _ = commentary_text(&w, &text, &m, &OfflineConfig::default());
        }
    }

    #[test]
    fn recap_uses_the_streamer_and_the_newest_readable_note() {
        let prompt = "Streamer: Alice\nStop reason: stopped\nNotes:\n1. Alice: Screen text reads: \"old\".\n2. Alice: Screen text reads: \"Quarterly report\".\n3. Alice: Screen shows no readable text.\n";
        let v: serde_json::Value = serde_json::from_str(&recap_text(prompt)).expect("json");
        assert_eq!(v["shouldStore"], serde_json::json!(true));
        let recap = v["recap"].as_str().expect("text");
        assert!(recap.starts_with("Alice shared"), "{recap}");
        assert!(recap.contains("Quarterly report"), "{recap}");
        let none = recap_text("Streamer: Bob\nNotes:\n1. Bob: Screen shows no readable text.\n");
        let v: serde_json::Value = serde_json::from_str(&none).expect("json");
        assert_eq!(v["shouldStore"], serde_json::json!(false));
    }

    fn snapshot_spec() -> crate::types::ToolSpec {
        crate::types::ToolSpec {
            name: SNAPSHOT_TOOL.into(),
            description: "Look at the screen share.".into(),
            input_schema: serde_json::json!({"type": "object", "properties": {}}),
        }
    }

    fn chat(texts: &[&str], tools: bool) -> Request {
        Request {
            system: "You chat with the people in the call.".into(),
            messages: texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    if i % 2 == 0 {
                        crate::types::Message::user_text(*t)
                    } else {
                        crate::types::Message::assistant_text(*t)
                    }
                })
                .collect(),
            max_tokens: 200,
            tools: if tools { vec![snapshot_spec()] } else { vec![] },
            ..Request::default()
        }
    }

    #[test]
    fn screen_keywords() {
        for yes in [
            "What's on my screen?",
            "can you SEE it",
            "look at this",
            "Looking good?",
            "what am I showing you",
            "is the screenshare working",
            "what is this",
        ] {
            assert!(is_about_the_screen(yes), "{yes}");
        }
        for no in [
            "hello there",
            "what's the weather",
            "it seems fine",
            "history lesson",
            "on mystery",
            "",
        ] {
            assert!(!is_about_the_screen(no), "{no}");
        }
    }

    #[test]
    fn snapshot_decision() {
        assert!(wants_snapshot(&chat(&["What is on my screen?"], true)));
        // Only the last user message counts.
        assert!(!wants_snapshot(&chat(
            &["What is on my screen?", "Nothing much.", "ok thanks"],
            true
        )));
        assert!(!wants_snapshot(&chat(&["hello"], true)));
        // The tool must be offered.
        assert!(!wants_snapshot(&chat(&["What is on my screen?"], false)));
        let mut other = chat(&["What is on my screen?"], true);
        other.tools[0].name = "something_else".into();
        assert!(!wants_snapshot(&other));
        // Not once a result is there, nor with an image at hand.
        let mut answered = chat(&["What is on my screen?"], true);
        answered.messages.push(crate::types::Message {
            role: crate::types::Role::User,
            parts: vec![Part::tool_result("offline-1", vec![Part::text("none")])],
        });
        assert!(!wants_snapshot(&answered));
        let mut with_image = chat(&["look at this"], true);
        with_image.messages[0].parts.push(Part::jpeg(vec![1]));
        assert!(!wants_snapshot(&with_image));
        // Marker requests keep their conventions.
        let mut commentary = chat(&["look at this"], true);
        commentary.system = COMMENTARY_MARKER.into();
        assert!(!wants_snapshot(&commentary));
    }

    #[tokio::test]
    async fn offline_calls_the_snapshot_tool() {
        let provider = OfflineProvider::default();
        let resp = provider
            .complete(chat(&["Can you see my screen?"], true))
            .await;
        assert_eq!(
            resp,
            Ok(Response {
                text: String::new(),
                model: OFFLINE_MODEL.into(),
                usage: None,
                tool_calls: vec![ToolCall {
                    id: OFFLINE_TOOL_CALL_ID.into(),
                    name: SNAPSHOT_TOOL.into(),
                    input: serde_json::json!({}),
                }],
            })
        );
        // Not about the screen: the fixed chat reply.
        let resp = provider.complete(chat(&["hello"], true)).await;
        assert_eq!(resp.map(|r| r.text), Ok(OFFLINE_CHAT_REPLY.to_owned()));
    }

    #[tokio::test]
    async fn text_tool_results_and_notes_answer_chat() {
        let provider = OfflineProvider::default();
        let first = chat(&["What's on my screen?"], true);
        let call = provider.complete(first.clone()).await.expect("call");
        let mut follow = first;
        follow.messages.push(call.assistant_message());
        follow.messages.push(crate::types::Message {
            role: crate::types::Role::User,
            parts: vec![Part::tool_result(
                OFFLINE_TOOL_CALL_ID,
                vec![Part::text("  Nobody is sharing\n their screen. ")],
            )],
        });
        let resp = provider.complete(follow).await.map(|r| r.text);
        assert_eq!(
            resp,
            Ok("The snapshot tool says: Nobody is sharing their screen.".to_owned())
        );

        // Notes in the prompt: the newest one answers.
        let prompt = "Notes:\n- Alice: Screen text reads: \"old stuff\". Change since last frame 0.10.\n- Alice: Screen text reads: \"Quarterly \"report\" draft\". Change 0.2.\nQuestion: hi";
        let resp = provider
            .complete(chat(&[prompt], false))
            .await
            .map(|r| r.text);
        assert_eq!(
            resp,
            Ok(
                "From my latest screen note: Screen text reads: \"Quarterly \"report\" draft\"."
                    .to_owned()
            )
        );
        assert_eq!(
            chat_text("1. Screen text reads: \"a b\".\n2. Screen shows no readable text."),
            "From my latest screen note: Screen shows no readable text."
        );
        assert_eq!(
            chat_text("Screen text reads: \"cut off"),
            "From my latest screen note: Screen text reads: \"cut off"
        );
        assert_eq!(
            tool_result_reply(""),
            "The screen snapshot came back empty, so I can't tell what is on screen."
        );
    }

    #[test]
    fn summary_folds_items_into_the_previous_summary_without_repeats() {
        let prompt = "Session summary so far:\nAlice opened a report.\n\nConversation turns to fold in:\n- none\n\nScreen notes to fold in:\n- Alice opened a report.\n- A chart appears\n";
        assert_eq!(
            summary_text(prompt),
            "Alice opened a report. A chart appears."
        );
    }
}
