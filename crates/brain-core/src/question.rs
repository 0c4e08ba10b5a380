//! Whether a conversation turn is about the screen (reference §4.9, made
//! broader on purpose; the rules are listed in the crate docs).

/// One element of a token pattern.
#[derive(Clone, Copy)]
enum P {
    /// One of these words.
    W(&'static [&'static str]),
    /// Optionally one of these words.
    Opt(&'static [&'static str]),
    /// Up to this many arbitrary words.
    Gap(usize),
}

use P::{Gap, Opt, W};

const SCREEN_WORDS: &[&str] = &["screen", "screens", "screenshare", "screenshot", "monitor"];
const DETERMINERS: &[&str] = &[
    "the", "my", "your", "this", "that", "his", "her", "their", "our",
];
const SHARE_NOUNS: &[&str] = &["stream", "share", "display", "livestream"];
const DEICTIC: &[&str] = &["this", "that", "these", "those"];
const TROUBLE_WORDS: &[&str] = &[
    "error",
    "errors",
    "exception",
    "traceback",
    "stacktrace",
    "crash",
    "crashed",
    "crashing",
    "bug",
    "bugs",
    "typo",
    "compiler",
    "syntax",
];
const CONTENT_NOUNS: &[&str] = &[
    "error", "errors", "code", "bug", "message", "warning", "output", "log", "logs", "text",
    "window", "tab", "page", "popup", "dialog", "button", "menu", "map", "graph", "chart",
    "diagram", "image", "picture", "video", "game", "level", "boss", "ui", "layout", "design",
    "terminal", "console", "editor", "file", "line", "function", "slide", "site", "website", "app",
    "score", "build",
];

/// Rules that hold whether or not the bot was addressed directly.
const STRONG: &[&[P]] = &[
    // screen / screenshare / screenshot / monitor, anywhere
    &[W(SCREEN_WORDS)],
    // "my stream", "the share", "your display"
    &[W(DETERMINERS), W(SHARE_NOUNS)],
    // "what do you see", "what can you see", "what did you notice"
    &[
        W(&["what"]),
        W(&["do", "can", "did", "could"]),
        W(&["you"]),
        W(&["see", "notice"]),
    ],
    // "what am I looking at", "what are we seeing"
    &[
        W(&["what"]),
        W(&["am", "are", "is"]),
        Opt(&["i", "we", "he", "she", "they", "you"]),
        W(&["looking", "seeing", "watching"]),
    ],
];

/// Rules that count only when the turn is addressed to the bot.
const ADDRESSED: &[&[P]] = &[
    // "can you see", "do you see", "could you read"
    &[
        W(&["can", "could", "do", "did"]),
        W(&["you"]),
        W(&["see", "read"]),
    ],
    // "can you tell what/which/if …"
    &[
        W(&["can", "could"]),
        W(&["you"]),
        W(&["tell"]),
        W(&[
            "what", "which", "if", "whether", "who", "where", "how", "why",
        ]),
    ],
    // "look at this/that/it/my/the/here"
    &[
        W(&["look", "looking"]),
        W(&["at"]),
        W(&["this", "that", "these", "those", "it", "my", "the", "here"]),
    ],
    // "take a look", "have a look"
    &[W(&["take", "have"]), W(&["a"]), W(&["look"])],
    // "see this", "check out that", "read this"
    &[
        W(&["see", "read", "check", "watch", "notice", "spot"]),
        Gap(1),
        W(&["this", "that", "these", "those", "here"]),
    ],
    // "this error", "my code", "that red button"
    &[
        W(&["this", "that", "these", "those", "my", "the", "your"]),
        Gap(1),
        W(CONTENT_NOUNS),
    ],
    // "what is this", "who's that", "where is that"
    &[W(&["what", "who", "where"]), W(&["is", "are"]), W(DEICTIC)],
    // "is this right", "does that look ok", "why is this broken"
    &[W(&["is", "does", "did", "was"]), W(DEICTIC)],
    // "how does it look", "how do these look"
    &[
        W(&["how"]),
        W(&["does", "do", "did"]),
        W(&["it", "this", "that", "these", "those"]),
        W(&["look", "looks"]),
    ],
    // error-like words, anywhere
    &[W(TROUBLE_WORDS)],
];

/// Splits into lower-case words. Curly apostrophes count as straight
/// ones; `what's`/`whats`/`that's`/`it's`/`who's`/`where's`/`here's`/
/// `there's` become two words (`… is`), and any other `'s` is dropped
/// (possessive), so "Alice's screen" reads "alice screen".
fn tokenize(text: &str) -> Vec<String> {
    let lower = text.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'");
    let mut out = Vec::new();
    for raw in lower.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
        let word = raw.trim_matches('\'');
        if word.is_empty() {
            continue;
        }
        let expanded = match word {
            "whats" | "what's" => Some("what"),
            "thats" | "that's" => Some("that"),
            "it's" => Some("it"),
            "who's" => Some("who"),
            "where's" => Some("where"),
            "here's" => Some("here"),
            "there's" => Some("there"),
            _ => None,
        };
        if let Some(stem) = expanded {
            out.push(stem.to_owned());
            out.push("is".to_owned());
        } else if let Some(stem) = word.strip_suffix("'s") {
            out.push(stem.to_owned());
        } else {
            out.push(word.to_owned());
        }
    }
    out
}

fn matches_at(tokens: &[String], pattern: &[P]) -> bool {
    let Some((first, rest)) = pattern.split_first() else {
        return true;
    };
    match *first {
        W(words) => tokens
            .first()
            .is_some_and(|t| words.contains(&t.as_str()) && matches_at(&tokens[1..], rest)),
        Opt(words) => {
            matches_at(tokens, rest)
                || tokens
                    .first()
                    .is_some_and(|t| words.contains(&t.as_str()) && matches_at(&tokens[1..], rest))
        }
        Gap(n) => (0..=n.min(tokens.len())).any(|skip| matches_at(&tokens[skip..], rest)),
    }
}

fn any_rule(tokens: &[String], rules: &[&[P]]) -> bool {
    (0..tokens.len()).any(|start| rules.iter().any(|rule| matches_at(&tokens[start..], rule)))
}

/// Whether a turn addressed to the bot is about the screen (so the
/// current frame should be attached). Same as
/// [`is_screen_question_in`]`(text, true)`.
pub fn is_screen_question(text: &str) -> bool {
    is_screen_question_in(text, true)
}

/// Whether a turn is about the screen. `direct_addressed`: the turn was
/// addressed to the bot (a mention, a reply, its name, a DM); without it
/// only the strong rules count.
pub fn is_screen_question_in(text: &str, direct_addressed: bool) -> bool {
    let tokens = tokenize(text);
    if tokens.is_empty() {
        return false;
    }
    any_rule(&tokens, STRONG) || (direct_addressed && any_rule(&tokens, ADDRESSED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_phrases_match() {
        for text in [
            "what's on the screen",
            "What on screen?",
            "what is in the stream",
            "what do you see",
            "what can you see right now",
            "can you see my screen",
            "look at the stream",
            "what's happening on my screen",
            "what is happening on the share",
        ] {
            assert!(is_screen_question_in(text, false), "{text}");
        }
        for text in [
            "do you see it?",
            "can you tell what this is",
            "what am I looking at",
        ] {
            assert!(is_screen_question(text), "{text}");
        }
    }

    #[test]
    fn broader_than_the_reference_on_purpose() {
        for text in [
            "whats on my screen",          // no apostrophe, "my"
            "what\u{2019}s on the screen", // curly apostrophe
            "look at Alice's screen",
            "why is this error happening",
            "what does this code do?",
            "is my code wrong",
            "I got an exception",
            "look at this",
            "check this out",
            "what's that",
            "is this right?",
            "how does it look",
            "take a look",
            "does that red button do anything",
        ] {
            assert!(is_screen_question(text), "{text}");
        }
    }

    #[test]
    fn ordinary_talk_does_not_match() {
        for text in [
            "",
            "   ",
            "hello there",
            "what time is it",
            "see you later",
            "I see",
            "tell me a joke",
            "this weekend was fun",
            "can you tell me a story",
            "I'll share a link later",
            "thanks!",
        ] {
            assert!(!is_screen_question(text), "{text}");
        }
    }

    #[test]
    fn addressed_only_rules_need_direct_address() {
        assert!(is_screen_question_in("what am I looking at", false));
        assert!(!is_screen_question_in("can you tell what this is", false));
        assert!(!is_screen_question_in("why is this error happening", false));
        assert!(is_screen_question_in("why is this error happening", true));
    }
}
