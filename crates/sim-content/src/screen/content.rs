//! The words on the simulated screen: deterministic text generators keyed by
//! `(seed, scene ordinal, line number)`.
//!
//! Every line is a pure function of its key, so random access to any frame
//! needs no history. The vocabulary is plain English and identifiers with
//! few ambiguous glyphs, so OCR results can be compared word by word.

use crate::rng::SplitMix64;

const CRATES: &[&str] = &[
    "alpha-core",
    "beacon",
    "cobalt-net",
    "delta-store",
    "ember",
    "falcon-rpc",
    "granite",
    "harbor",
    "ion-cache",
    "juniper",
    "krypton-db",
    "lattice",
];
const MODULES: &[&str] = &[
    "parser",
    "scheduler",
    "session",
    "codec",
    "router",
    "storage",
    "metrics",
    "planner",
    "gateway",
    "billing",
    "indexer",
    "uploader",
];
const FUNCS: &[&str] = &[
    "handles_empty_input",
    "rejects_bad_token",
    "merges_two_ranges",
    "retries_on_timeout",
    "keeps_order",
    "parses_headers",
    "drops_stale_entries",
    "resumes_after_restart",
    "counts_bytes",
    "flushes_on_close",
];
const SERVICES: &[&str] = &[
    "api",
    "worker",
    "mailer",
    "search",
    "thumbnailer",
    "auth",
    "ledger",
    "notifier",
];
const USERS: &[&str] = &[
    "alice", "bruno", "chen", "dana", "emeka", "farah", "gustav", "hana",
];
const HOSTS: &[&str] = &["buildbox", "devhost", "atlas", "orion", "kepler", "nimbus"];
const PROJECTS: &[&str] = &[
    "Northwind",
    "Bluebird",
    "Meridian",
    "Sandstone",
    "Lighthouse",
    "Evergreen",
    "Copperfield",
    "Riverbank",
];
const VERBS: &[&str] = &[
    "Fix", "Refactor", "Speed up", "Simplify", "Document", "Harden", "Rename", "Remove",
];
const NOUNS: &[&str] = &[
    "token refresh",
    "retry logic",
    "config loader",
    "cache eviction",
    "error report",
    "audit trail",
    "login flow",
    "rate limiter",
    "export job",
    "search index",
];
const TITLE_WORDS: &[&str] = &[
    "Roadmap",
    "Launch Plan",
    "Budget",
    "Hiring Plan",
    "Security Review",
    "Migration",
    "Quarterly Results",
    "Design Review",
];
const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const TEAMS: &[&str] = &[
    "platform", "mobile", "payments", "growth", "data", "support",
];
const PROSE: &[&str] = &[
    "the",
    "service",
    "stores",
    "every",
    "request",
    "in",
    "a",
    "queue",
    "before",
    "workers",
    "pick",
    "it",
    "up",
    "and",
    "write",
    "results",
    "to",
    "disk",
    "which",
    "keeps",
    "latency",
    "low",
    "when",
    "traffic",
    "spikes",
    "during",
    "the",
    "evening",
    "we",
    "plan",
    "to",
    "replace",
    "old",
    "cluster",
    "with",
    "two",
    "smaller",
    "ones",
    "so",
    "that",
    "failover",
    "takes",
    "seconds",
    "instead",
    "of",
    "minutes",
    "each",
    "team",
    "owns",
    "its",
    "alerts",
    "dashboards",
    "budget",
    "review",
    "next",
    "week",
];

/// A generator for one line, keyed by everything that identifies it.
fn rng(seed: u64, ordinal: u64, salt: u64, k: u64) -> SplitMix64 {
    SplitMix64::new(&[seed, ordinal, salt, k])
}

/// Cuts a line to at most `max` characters (the text is ASCII, so bytes and
/// characters coincide) and trims trailing spaces so that what is drawn and
/// what [`super::ScreenSource::text_at`] reports agree exactly.
pub(super) fn fit(mut s: String, max: usize) -> String {
    if s.len() > max {
        s.truncate(max);
    }
    while s.ends_with(' ') {
        s.pop();
    }
    s
}

/// Like [`fit`], but drops a word cut in half (titles wrap nowhere, so a
/// half word would just look broken).
pub(super) fn fit_words(s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let cut = fit(s.clone(), max);
    let next_is_space = s.as_bytes().get(cut.len()) == Some(&b' ');
    if next_is_space {
        return cut;
    }
    match cut.rfind(' ') {
        Some(pos) => fit(cut[..pos].to_string(), max),
        None => cut,
    }
}

/// The user, host and project of a terminal scene (title bar and prompt).
fn terminal_identity(seed: u64, ordinal: u64) -> (&'static str, &'static str, &'static str) {
    let mut r = rng(seed, ordinal, 1, 0);
    (r.pick(USERS), r.pick(HOSTS), r.pick(PROJECTS))
}

/// Window title of a terminal scene.
pub(super) fn terminal_title(seed: u64, ordinal: u64) -> String {
    let (user, host, project) = terminal_identity(seed, ordinal);
    format!("{user}@{host}: ~/src/{}", project.to_lowercase())
}

/// Line `k` of a terminal scene's scrollback.
pub(super) fn terminal_line(seed: u64, ordinal: u64, k: u64) -> String {
    let (user, host, project) = terminal_identity(seed, ordinal);
    let mut r = rng(seed, ordinal, 2, k);
    let n = r.below(900) + 100;
    match r.below(8) {
        0 => format!("$ cargo build --release -p {}", r.pick(CRATES)),
        1 => format!(
            "   Compiling {} v0.{}.{}",
            r.pick(CRATES),
            r.below(20),
            r.below(10)
        ),
        2 => format!("test {}::{} ... ok", r.pick(MODULES), r.pick(FUNCS)),
        3 => format!(
            "[{:02}:{:02}:{:02}] INFO {}: handled {n} requests in {} ms",
            r.below(24),
            r.below(60),
            r.below(60),
            r.pick(SERVICES),
            r.below(90) + 10
        ),
        4 => format!("{user}@{host}:~/src/{}$ git status", project.to_lowercase()),
        5 => format!(
            "commit {:07x} {} {} in {}",
            r.next_u64() & 0x0FFF_FFFF,
            r.pick(VERBS),
            r.pick(NOUNS),
            r.pick(MODULES)
        ),
        6 => format!(
            "WARN {}: retrying {} upload, attempt {} of 5",
            r.pick(SERVICES),
            r.pick(NOUNS),
            r.below(4) + 1
        ),
        _ => format!(
            "Finished release build in {}.{} seconds",
            r.below(60) + 2,
            r.below(10)
        ),
    }
}

/// The project a slide deck is about.
fn slide_project(seed: u64, ordinal: u64) -> &'static str {
    rng(seed, ordinal, 3, 0).pick(PROJECTS)
}

/// Big title of a slide scene.
pub(super) fn slide_title(seed: u64, ordinal: u64) -> String {
    let mut r = rng(seed, ordinal, 4, 0);
    format!("{} {}", slide_project(seed, ordinal), r.pick(TITLE_WORDS))
}

/// Window title of a slide scene.
pub(super) fn slide_window_title(seed: u64, ordinal: u64) -> String {
    format!(
        "Presentation - {}",
        slide_project(seed, ordinal).to_lowercase()
    )
}

/// Bullet `k` of a slide scene.
pub(super) fn slide_bullet(seed: u64, ordinal: u64, k: u64) -> String {
    let mut r = rng(seed, ordinal, 5, k);
    match r.below(5) {
        0 => format!(
            "- {} the {} by {}",
            r.pick(VERBS),
            r.pick(NOUNS),
            r.pick(MONTHS)
        ),
        1 => format!(
            "- Revenue up {} percent in {}",
            r.below(40) + 2,
            r.pick(MONTHS)
        ),
        2 => format!(
            "- {} team grows to {} people",
            capitalise(r.pick(TEAMS)),
            r.below(30) + 4
        ),
        3 => format!(
            "- Ship {} {} before {}",
            r.pick(CRATES),
            r.below(9) + 1,
            r.pick(MONTHS)
        ),
        _ => format!("- Open risks: {} and {}", r.pick(NOUNS), r.pick(NOUNS)),
    }
}

/// Footer of a slide scene ("Slide 4 of 24").
pub(super) fn slide_footer(seed: u64, ordinal: u64) -> String {
    let n = rng(seed, ordinal, 6, 0).below(20) + 2;
    format!("Slide {n} of 24")
}

/// Window title of a document scene.
pub(super) fn document_window_title(seed: u64, ordinal: u64) -> String {
    let p = rng(seed, ordinal, 7, 0).pick(PROJECTS);
    format!("{}_design_notes.txt - Editor", p.to_lowercase())
}

/// Heading of a document scene.
pub(super) fn document_heading(seed: u64, ordinal: u64) -> String {
    let mut r = rng(seed, ordinal, 7, 0);
    let p = r.pick(PROJECTS);
    format!("{p} Design Notes, part {}", r.below(9) + 1)
}

/// Line `k` of a document scene's body: words of prose filling up to
/// `max` characters, starting with a capital.
pub(super) fn document_line(seed: u64, ordinal: u64, k: u64, max: usize) -> String {
    let mut r = rng(seed, ordinal, 8, k);
    let target = max.saturating_sub(r.below(10) as usize).max(8);
    let mut line = String::new();
    loop {
        let w = r.pick(PROSE);
        let extra = if line.is_empty() {
            w.len()
        } else {
            w.len() + 1
        };
        if line.len() + extra > target {
            break;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    if line.is_empty() {
        line.push_str("notes");
    }
    capitalise(&line)
}

/// Upper-cases the first character.
fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// Wall-clock text ("HH:MM:SS") for `frame_index`: the clock starts at a
/// seed-dependent time of day between 09:00 and 17:00 and ticks once per
/// `fps` frames.
pub(super) fn clock_text(seed: u64, frame_index: u64, fps: u32) -> String {
    let start = 9 * 3600 + SplitMix64::new(&[seed, 9]).below(8 * 3600);
    let t = (start + frame_index / u64::from(fps.max(1))) % 86_400;
    format!("{:02}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_deterministic_and_vary() {
        assert_eq!(terminal_line(1, 2, 3), terminal_line(1, 2, 3));
        let distinct: std::collections::HashSet<String> =
            (0..40).map(|k| terminal_line(1, 2, k)).collect();
        assert!(distinct.len() > 20, "{distinct:?}");
        let titles: std::collections::HashSet<String> =
            (0..30).map(|o| slide_title(1, o)).collect();
        assert!(titles.len() > 5, "{titles:?}");
    }

    #[test]
    fn text_is_printable_ascii() {
        for k in 0..50 {
            for s in [
                terminal_line(5, 1, k),
                slide_bullet(5, 1, k),
                document_line(5, 1, k, 60),
                terminal_title(5, k),
                slide_title(5, k),
                document_heading(5, k),
            ] {
                assert!(s.bytes().all(|b| (0x20..=0x7E).contains(&b)), "{s:?}");
            }
        }
    }

    #[test]
    fn document_lines_respect_width() {
        for max in [8usize, 20, 60, 120] {
            for k in 0..30 {
                let l = document_line(3, 4, k, max);
                assert!(l.len() <= max.max(8), "{max}: {l:?}");
                assert!(!l.ends_with(' '));
            }
        }
    }

    #[test]
    fn clock_ticks_once_per_second() {
        let a = clock_text(7, 0, 30);
        assert_eq!(a, clock_text(7, 29, 30));
        assert_ne!(a, clock_text(7, 30, 30));
        let parse = |s: &str| -> u64 {
            let p: Vec<u64> = s.split(':').map(|x| x.parse().unwrap()).collect();
            p[0] * 3600 + p[1] * 60 + p[2]
        };
        assert_eq!(parse(&clock_text(7, 30 * 61, 30)) - parse(&a), 61);
        assert!((9 * 3600..17 * 3600).contains(&parse(&a)));
    }

    #[test]
    fn fit_truncates_and_trims() {
        assert_eq!(fit("abc def".to_string(), 4), "abc");
        assert_eq!(fit("abc".to_string(), 10), "abc");
        assert_eq!(
            fit_words("Lighthouse Security Review".to_string(), 23),
            "Lighthouse Security"
        );
        assert_eq!(
            fit_words("Lighthouse Security Review".to_string(), 19),
            "Lighthouse Security"
        );
        assert_eq!(
            fit_words("Lighthouse Security Review".to_string(), 30),
            "Lighthouse Security Review"
        );
        assert_eq!(fit_words("Lighthouse".to_string(), 5), "Light");
    }
}
