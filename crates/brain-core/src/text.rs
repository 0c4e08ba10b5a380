//! Small text helpers shared by the modules: whitespace collapsing and
//! character-safe truncation (never splits a UTF-8 sequence).

/// Collapses every run of whitespace to one space and trims both ends.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Keeps at most `max` characters (not bytes).
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

/// Keeps at most `max` characters; when the text is longer and a sentence
/// end (`.`, `!`, `?`) falls at or after 60 % of `max`, cuts just after it.
pub(crate) fn truncate_at_sentence(text: &str, max: usize) -> String {
    let cut = truncate_chars(text, max);
    if cut.len() == text.len() {
        return cut;
    }
    let min_chars = max.saturating_mul(6) / 10;
    let mut best = None;
    for (count, (idx, ch)) in cut.char_indices().enumerate() {
        if matches!(ch, '.' | '!' | '?') && count + 1 >= min_chars {
            best = Some(idx + ch.len_utf8());
        }
    }
    match best {
        Some(end) => cut[..end].to_owned(),
        None => cut.trim_end().to_owned(),
    }
}

/// The first non-empty line of `text`, whitespace-collapsed.
pub(crate) fn first_line(text: &str) -> String {
    text.lines()
        .map(collapse_whitespace)
        .find(|line| !line.is_empty())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_is_char_safe() {
        assert_eq!(truncate_chars("héllo", 2), "hé");
        assert_eq!(truncate_chars("ab", 5), "ab");
        assert_eq!(collapse_whitespace("  a \n\t b "), "a b");
    }

    #[test]
    fn sentence_cut_prefers_a_late_sentence_end() {
        let text = "One two three. Four five six seven eight nine";
        // max 20: "One two three. Four " — the '.' is char 14 ≥ 12.
        assert_eq!(truncate_at_sentence(text, 20), "One two three.");
        // max 40: the '.' is at 14 < 24, so a plain cut.
        assert_eq!(
            truncate_at_sentence(text, 40),
            "One two three. Four five six seven eight"
        );
        assert_eq!(truncate_at_sentence("short.", 40), "short.");
    }

    #[test]
    fn first_line_skips_blank_lines() {
        assert_eq!(first_line("\n  \n a  b \nc"), "a b");
        assert_eq!(first_line(""), "");
    }
}
