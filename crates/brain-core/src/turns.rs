//! Conversation turns: whether a text message is addressed to the agent,
//! and what it asks for (start or stop watching a screen, or a chat turn
//! answered from the notes and, when it is about the screen, the frame).
//!
//! The rules are deliberately small and documented, like the reference's
//! screen-question heuristic: a turn is *addressed* when it mentions the
//! agent (`<@id>` / `<@!id>`) or starts with its name followed by a
//! separator (`"Agent, …"`, `"agent: …"`, `"agent look …"`). A *watch
//! request* asks to look at a screen ("look at my screen", "watch Alice's
//! screen", "can you see my screen?"); a question about what is on it
//! ("what's on my screen?", "can you see what's on my screen?") is chat,
//! answered from the notes and the frame. A *stop request* is "stop
//! watching/looking".

use crate::text::collapse_whitespace;

/// What an addressed turn asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnIntent {
    /// Start watching: `target` is the name in "watch NAME's screen", or
    /// `None` for "my screen" / "the screen" (the usual target rules pick).
    StartWatch {
        /// Whose screen, as written (a name, mention or id).
        target: Option<String>,
    },
    /// Stop watching.
    StopWatch,
    /// Anything else: answered in conversation.
    Chat,
}

/// The turn's text without the address, when `content` is addressed to
/// the agent (`own_id`, `own_names`: username and display name). `None`
/// when it is not addressed.
pub fn addressed_text(content: &str, own_id: u64, own_names: &[&str]) -> Option<String> {
    let mentions = [format!("<@{own_id}>"), format!("<@!{own_id}>")];
    if mentions.iter().any(|m| content.contains(m.as_str())) {
        let mut text = content.to_owned();
        for m in &mentions {
            text = text.replace(m.as_str(), " ");
        }
        return Some(clean(&text));
    }
    let trimmed = content.trim_start();
    let lower = trimmed.to_lowercase();
    for name in own_names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let name_lower = name.to_lowercase();
        if let Some(rest) = lower.strip_prefix(&name_lower) {
            let next = rest.chars().next();
            if next.is_none_or(|c| c.is_whitespace() || ",:;!?.".contains(c)) {
                // Same byte offset: lowercase of the prefix has the same
                // length for the names we compare (ASCII-safe fallback).
                let cut = trimmed
                    .char_indices()
                    .nth(name.chars().count())
                    .map_or(trimmed.len(), |(i, _)| i);
                return Some(clean(&trimmed[cut..]));
            }
        }
    }
    None
}

fn clean(text: &str) -> String {
    collapse_whitespace(text)
        .trim_matches(|c: char| c.is_whitespace() || ",:;".contains(c))
        .to_owned()
}

const LOOK_VERBS: &[&str] = &["look at", "watch", "check out", "see", "view", "look over"];

/// What an addressed turn asks for (see the module docs for the rules).
pub fn classify_turn(text: &str) -> TurnIntent {
    let t = collapse_whitespace(&text.to_lowercase());
    let t = t.trim().trim_end_matches(['.', '!']).to_owned();
    if [
        "stop watching",
        "stop looking",
        "stop screen watch",
        "stop the screen watch",
    ]
    .iter()
    .any(|p| t.contains(p))
    {
        return TurnIntent::StopWatch;
    }
    if t.ends_with('?') && !t.starts_with("can you") && !t.starts_with("could you") {
        return TurnIntent::Chat;
    }
    let t = t.trim_end_matches('?');
    for verb in LOOK_VERBS {
        let Some(at) = find_word(t, verb) else {
            continue;
        };
        let after = t[at + verb.len()..].trim_start();
        let Some(screen_at) = after.find("screen") else {
            continue;
        };
        let owner = after[..screen_at].trim();
        // Only a short possessive phrase between the verb and "screen".
        if owner.split_whitespace().count() > 3 {
            continue;
        }
        // A question about the screen ("can you see what's on my screen")
        // is chat, not a request.
        if owner.contains("what") || after[..screen_at].contains(" on ") {
            return TurnIntent::Chat;
        }
        let owner = owner
            .trim_start_matches("at ")
            .trim_start_matches("the ")
            .trim();
        let target = match owner {
            "" | "my" | "the" | "our" | "this" | "a" => None,
            other => {
                let name = other
                    .trim_end_matches("'s")
                    .trim_end_matches("’s")
                    .trim_end_matches('\'')
                    .trim();
                (!name.is_empty()).then(|| original_case(text, name))
            }
        };
        return TurnIntent::StartWatch { target };
    }
    TurnIntent::Chat
}

/// Byte offset of `word` in `text` at a word boundary.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let at = from + i;
        let before_ok = at == 0 || !text[..at].ends_with(|c: char| c.is_alphanumeric());
        let after_ok = !text[at + word.len()..].starts_with(|c: char| c.is_alphanumeric());
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// `name` (found lowercased) as written in `text`, so mentions and ids
/// survive and display names keep their case.
fn original_case(text: &str, name: &str) -> String {
    let lower = text.to_lowercase();
    match lower.find(name) {
        Some(i) if lower.len() == text.len() => text[i..i + name.len()].to_owned(),
        _ => name.to_owned(),
    }
}

/// Most recent conversation turns given verbatim to a chat turn.
pub const CHAT_RECENT_TURNS: usize = 12;

/// Whose screen a chat turn can draw on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenContext<'a> {
    /// No watch, and no earlier notes kept.
    None,
    /// A watch is live: `notes` are its notes as injected into prompts.
    Live {
        /// The streamer's display name.
        name: &'a str,
        /// [`crate::NoteBook::prompt_context`].
        notes: &'a str,
    },
    /// The watch ended; its notes are kept, inactive (reference: "earlier
    /// notes only, not live").
    Ended {
        /// The streamer's display name.
        name: &'a str,
        /// [`crate::EndedWatch::prompt_context`].
        notes: &'a str,
    },
}

/// What a chat turn is answered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatContext<'a> {
    /// The screen, live or earlier.
    pub screen: ScreenContext<'a>,
    /// The running session summary.
    pub summary: &'a str,
    /// The newest conversation turns, oldest first (the screen-share recap
    /// posted at a watch's end is one of them).
    pub recent: &'a [crate::memory::Turn],
}

/// The user prompt of a chat turn: the screen context (live, or the ended
/// watch's notes marked "earlier notes only, not live"), the session
/// summary, the recent conversation (without the turn being answered when
/// it is already recorded as the last one) and the turn itself.
pub fn chat_prompt(ctx: &ChatContext<'_>, speaker: &str, text: &str) -> String {
    let mut prompt = String::new();
    match ctx.screen {
        ScreenContext::None => {}
        ScreenContext::Live { name, notes } => {
            prompt.push_str(&format!("Screen watch active: viewing {name}'s screen.\n"));
            if !notes.is_empty() {
                prompt.push_str(&format!("Screen notes:\n{notes}\n"));
            }
        }
        ScreenContext::Ended { name, notes } => {
            prompt.push_str(&format!(
                "Screen watch of {name}'s screen ended: earlier notes only, not live. \
                 Do not describe the screen as it is now.\n"
            ));
            if !notes.is_empty() {
                prompt.push_str(&format!("Earlier screen notes (not live):\n{notes}\n"));
            }
        }
    }
    if !ctx.summary.is_empty() {
        prompt.push_str(&format!("Session summary: {}\n", ctx.summary));
    }
    let mut recent = ctx.recent;
    if let Some((last, before)) = recent.split_last()
        && last.speaker == speaker
        && last.text == text
    {
        recent = before;
    }
    let recent = &recent[recent.len().saturating_sub(CHAT_RECENT_TURNS)..];
    if !recent.is_empty() {
        prompt.push_str("Recent conversation:\n");
        for turn in recent {
            let said = crate::text::truncate_chars(
                &collapse_whitespace(&turn.text),
                crate::memory::MAX_ITEM_CHARS,
            );
            prompt.push_str(&format!("- {}: {said}\n", turn.speaker.trim()));
        }
    }
    prompt.push_str(&format!("\n{speaker} says: {text}"));
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u64 = 42;

    #[test]
    fn mentions_and_names_address_the_agent() {
        assert_eq!(
            addressed_text("<@42> look at my screen", ME, &["Agent"]).as_deref(),
            Some("look at my screen")
        );
        assert_eq!(
            addressed_text("hey <@!42>, what's this?", ME, &["Agent"]).as_deref(),
            Some("hey , what's this?")
        );
        assert_eq!(
            addressed_text("agent, what do you see", ME, &["Agent"]).as_deref(),
            Some("what do you see")
        );
        assert_eq!(
            addressed_text("Agent: stop watching", ME, &["Agent"]).as_deref(),
            Some("stop watching")
        );
        assert_eq!(addressed_text("agentless talk", ME, &["Agent"]), None);
        assert_eq!(addressed_text("<@43> hi", ME, &["Agent"]), None);
        assert_eq!(addressed_text("look at my screen", ME, &["Agent"]), None);
        assert_eq!(addressed_text("", ME, &["", "Agent"]), None);
    }

    #[test]
    fn watch_requests_and_their_targets() {
        assert_eq!(
            classify_turn("look at my screen"),
            TurnIntent::StartWatch { target: None }
        );
        assert_eq!(
            classify_turn("please watch Alice's screen!"),
            TurnIntent::StartWatch {
                target: Some("Alice".into())
            }
        );
        assert_eq!(
            classify_turn("can you look at <@900000000000000101>'s screen?"),
            TurnIntent::StartWatch {
                target: Some("<@900000000000000101>".into())
            }
        );
        assert_eq!(
            classify_turn("check out the screen"),
            TurnIntent::StartWatch { target: None }
        );
        assert_eq!(classify_turn("stop watching please"), TurnIntent::StopWatch);
        assert_eq!(classify_turn("Stop looking."), TurnIntent::StopWatch);
    }

    #[test]
    fn questions_about_the_screen_are_chat() {
        for text in [
            "what's on my screen?",
            "can you see what's on my screen?",
            "do you see the error?",
            "what do you think of the chart",
            "I watched a movie",
            "see you later",
            "look at all those people on the big screen today in the stadium",
        ] {
            assert_eq!(classify_turn(text), TurnIntent::Chat, "{text}");
        }
    }
}
