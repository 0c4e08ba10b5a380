//! The offline provider: OCR notes and rule-based commentary, no network.
//!
//! See the crate documentation for the conventions it follows.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use crate::error::LlmError;
use crate::types::{Part, Request, RequestKind, Response, Role, ToolCall};
use crate::{CompletionFuture, Provider};

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
        let text = match req.kind {
            RequestKind::Commentary => self.commentary(&req).await?,
            RequestKind::Recap => recap_text(&req.user_text()),
            RequestKind::Summary => summary_text(&req.user_text()),
            RequestKind::Note | RequestKind::Chat => self.note_or_chat(&req).await?,
        };
        Ok(Response {
            text,
            model: OFFLINE_MODEL.to_owned(),
            ..Response::default()
        })
    }

    /// A note or chat request, answered by its shape: an image is read as
    /// a note (a chat turn's attached frame or snapshot too), a tool
    /// result without one is repeated, anything else is chat.
    async fn note_or_chat(&self, req: &Request) -> Result<String, LlmError> {
        Ok(if let Some((_, image)) = req.last_image() {
            let raw = self.ocr_cached(image).await?;
            let words = ocr_words(&raw);
            note_text(
                &words,
                &parse_metrics(&req.user_text()),
                self.config.max_note_words,
            )
        } else if let Some(result) = last_tool_result_text(req) {
            tool_result_reply(&result)
        } else {
            chat_text(&req.user_text())
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
/// and no image, is a chat (or note) request, and the text of its last
/// user message [`is_about_the_screen`].
pub fn wants_snapshot(req: &Request) -> bool {
    if req.tool(SNAPSHOT_TOOL).is_none()
        || req.has_tool_result()
        || req.has_image()
        || matches!(
            req.kind,
            RequestKind::Commentary | RequestKind::Recap | RequestKind::Summary
        )
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
    // OCR is background work: it must not delay frame ingest or decoding
    // (on a 2-core machine a ~1 s OCR run otherwise shows up as ingest
    // latency). SCHED_IDLE (`chrt --idle 0`) runs it only on otherwise idle
    // CPU and lets any woken thread preempt it at once; `nice -n 19` still
    // holds a core for a whole scheduler slice, so it is only the fallback,
    // and without either tool tesseract runs at normal priority.
    const LAUNCHERS: [&[&str]; 3] = [&["chrt", "--idle", "0"], &["nice", "-n", "19"], &[]];
    let command = |launcher: &[&str]| {
        let mut c = match launcher.split_first() {
            Some((program, args)) => {
                let mut c = tokio::process::Command::new(program);
                c.args(args).arg(&config.tesseract);
                c
            }
            None => tokio::process::Command::new(&config.tesseract),
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
    let mut spawned = Err(std::io::Error::other("no launcher"));
    for launcher in LAUNCHERS {
        spawned = command(launcher).spawn();
        if spawned.is_ok() {
            break;
        }
    }
    let mut child = spawned.map_err(|e| {
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
            // The launcher ran but could not start tesseract.
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
#[path = "offline_tests.rs"]
mod tests;
