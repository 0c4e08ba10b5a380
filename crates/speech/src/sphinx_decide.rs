//! Sans-IO part of the offline recognizer: the grammar and keyword files it
//! writes, parsing pocketsphinx's output, and choosing between the command
//! grammar's result and the free-text language model's.
//!
//! Why three passes: the general English language model hears espeak-ng
//! and other synthetic or noisy voices badly ("agent, look at my screen"
//! becomes "i don't really"), while a small grammar of the watch commands
//! finds them reliably but forces every utterance onto some command. So the
//! recognizer runs (1) the command grammar, (2) keyword spotting for the
//! agent's name and the commands, (3) the language model, and keeps the
//! grammar's command only when it explains the audio much better than free
//! text does (see [`decide`]).

use crate::sphinx::PocketsphinxConfig;

/// One recognizer pass's best hypothesis and its path score (a scaled log
/// probability, more negative is worse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hypothesis {
    /// The words, lower case, separated by single spaces.
    pub text: String,
    /// The sum of the utterances' path scores.
    pub score: i64,
}

/// Which pass a transcript came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The command grammar matched well.
    Command,
    /// The free-text language model.
    FreeText,
}

/// What [`decide`] chose.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The transcript: `"<name>, <command>"`, `"<command>"`, or free text
    /// (prefixed `"<name>, "` when the name was spotted).
    pub text: String,
    /// For a command: `1 − grammar score / free-text score`, in 0..=1;
    /// `None` for free text.
    pub confidence: Option<f32>,
    /// Which pass.
    pub source: Source,
    /// Whether the agent's name was spotted.
    pub addressed: bool,
}

/// The JSGF grammar: optional greeting, optional name, one command,
/// optional "please".
pub fn grammar(config: &PocketsphinxConfig) -> String {
    let commands: Vec<&str> = config.commands.iter().map(String::as_str).collect();
    format!(
        "#JSGF V1.0;\ngrammar speech;\npublic <utterance> = [<greeting>] [<name>] <command> [please];\n\
         <greeting> = hey | okay;\n<name> = {};\n<command> = {};\n",
        config.agent_name,
        commands.join(" | ")
    )
}

/// The keyword-spotting list: the name and each command with its
/// threshold.
pub fn keyphrases(config: &PocketsphinxConfig) -> String {
    let mut out = format!("{} /{:e}/\n", config.agent_name, config.name_threshold);
    for command in &config.commands {
        out.push_str(&format!("{command} /{:e}/\n", config.command_threshold));
    }
    out
}

/// The hypotheses in a pocketsphinx log (`-backtrace yes` makes it log
/// `INFO: pocketsphinx.c(N): <words> (<score>)` once per utterance):
/// their words joined and scores summed, `None` when there is none.
pub fn parse_log(log: &str) -> Option<Hypothesis> {
    let mut words: Vec<String> = Vec::new();
    let mut score: i64 = 0;
    let mut found = false;
    for line in log.lines() {
        let Some(rest) = line.trim_end().strip_prefix("INFO: pocketsphinx.c(") else {
            continue;
        };
        let Some((_, rest)) = rest.split_once("): ") else {
            continue;
        };
        let Some(open) = rest
            .rfind(" (")
            .or_else(|| rest.starts_with('(').then_some(0))
        else {
            continue;
        };
        let Some(number) = rest[open..]
            .trim_start()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
        else {
            continue;
        };
        let Ok(value) = number.parse::<i64>() else {
            continue;
        };
        found = true;
        score = score.saturating_add(value);
        words.extend(
            normalize(&rest[..open])
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_owned),
        );
    }
    found.then(|| Hypothesis {
        text: words.join(" "),
        score,
    })
}

/// Lower case, alternates like `the(2)` and fillers like `<sil>`/`[noise]`
/// removed, single spaces.
pub fn normalize(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| !(w.starts_with('<') || w.starts_with('[')))
        .map(|w| w.split('(').next().unwrap_or(w).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The phrases of `phrases` that keyword spotting reported in `stdout`.
pub fn spotted<'a>(stdout: &str, phrases: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let heard = format!(" {} ", normalize(stdout));
    phrases
        .into_iter()
        .filter(|p| heard.contains(&format!(" {p} ")))
        .collect()
}

/// Chooses the transcript.
///
/// The grammar's command is kept when its score is at most
/// `grammar_max_ratio` of the free-text score (it explains the audio far
/// better), at most `addressed_max_ratio` when keyword spotting heard the
/// agent's name, or at most `confirmed_max_ratio` when keyword spotting
/// heard the same command and the free text shares at least half of its
/// words.
/// Otherwise the free text is the transcript.
pub fn decide(
    config: &PocketsphinxConfig,
    grammar: Option<&Hypothesis>,
    free: Option<&Hypothesis>,
    spotted: &[&str],
) -> Decision {
    let addressed = spotted.contains(&config.agent_name.as_str());
    let with_name = |text: &str| {
        if addressed && !text.starts_with(&config.agent_name) {
            format!("{}, {text}", config.agent_name)
        } else {
            text.to_owned()
        }
    };
    let command = grammar.and_then(|g| {
        let padded = format!(" {} ", g.text);
        config
            .commands
            .iter()
            .find(|c| padded.contains(&format!(" {c} ")))
            .map(|c| (c.as_str(), g.score))
    });
    let free_text = free.map(|f| f.text.clone()).unwrap_or_default();
    if let (Some((command, g_score)), Some(free)) = (command, free) {
        // Both scores are negative; a ratio near 1 means the grammar fits
        // no better than free text. A free score of 0 (no speech) never
        // accepts.
        let ratio = if free.score < 0 {
            g_score as f64 / free.score as f64
        } else {
            f64::INFINITY
        };
        let confirmed = spotted.contains(&command) && shared_half(command, &free.text);
        let accept = ratio <= f64::from(config.grammar_max_ratio)
            || (addressed && ratio <= f64::from(config.addressed_max_ratio))
            || (confirmed && ratio <= f64::from(config.confirmed_max_ratio));
        if accept && ratio.is_finite() {
            return Decision {
                text: with_name(command),
                confidence: Some((1.0 - ratio).clamp(0.0, 1.0) as f32),
                source: Source::Command,
                addressed,
            };
        }
    }
    Decision {
        text: if free_text.is_empty() {
            free_text
        } else {
            with_name(&free_text)
        },
        confidence: None,
        source: Source::FreeText,
        addressed,
    }
}

fn shared_half(command: &str, free: &str) -> bool {
    let free: Vec<&str> = free.split(' ').collect();
    let words: Vec<&str> = command.split(' ').collect();
    let shared = words.iter().filter(|w| free.contains(w)).count();
    shared * 2 >= words.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hyp(text: &str, score: i64) -> Hypothesis {
        Hypothesis {
            text: text.into(),
            score,
        }
    }

    #[test]
    fn log_lines_are_parsed() {
        let log = "INFO: pocketsphinx.c(151): Parsed model-specific feature parameters from /x\n\
                   INFO: ngram_search.c(1381): Lattice has 521 nodes, 1461 links\n\
                   INFO: pocketsphinx.c(1168): the(2) <sil> screen (-10339)\n\
                   INFO: pocketsphinx.c(1168): stop watching (-20)\n";
        assert_eq!(
            parse_log(log),
            Some(hyp("the screen stop watching", -10_359))
        );
        assert_eq!(
            parse_log("INFO: pocketsphinx.c(1168):  (-12)\n"),
            Some(hyp("", -12))
        );
        assert_eq!(parse_log("INFO: pocketsphinx.c(9): no score here\n"), None);
        assert_eq!(parse_log(""), None);
    }

    #[test]
    fn files_name_the_words() {
        let config = PocketsphinxConfig::default();
        let g = grammar(&config);
        assert!(g.contains("<name> = agent;"), "{g}");
        assert!(g.contains("look at my screen | watch my screen"), "{g}");
        let k = keyphrases(&config);
        assert!(k.starts_with("agent /1e-40/\n"), "{k}");
        assert!(k.contains("stop watching /1e-40/\n"), "{k}");
    }

    #[test]
    fn spotting() {
        let config = PocketsphinxConfig::default();
        let phrases = std::iter::once(config.agent_name.as_str())
            .chain(config.commands.iter().map(String::as_str));
        let heard = spotted("watch my screen  agent \n", phrases);
        assert_eq!(heard, vec!["agent", "watch my screen"]);
    }

    #[test]
    fn a_well_fitting_command_wins() {
        let config = PocketsphinxConfig::default();
        let d = decide(
            &config,
            Some(&hyp("look at my screen", -3_745)),
            Some(&hyp("oh really", -6_552)),
            &["agent"],
        );
        assert_eq!(d.text, "agent, look at my screen");
        assert_eq!(d.source, Source::Command);
        assert!(d.addressed);
        let c = d.confidence.expect("confidence");
        assert!((0.4..0.5).contains(&c), "{c}");
    }

    #[test]
    fn a_forced_command_loses_to_free_text() {
        let config = PocketsphinxConfig::default();
        let d = decide(
            &config,
            Some(&hyp("okay what do you see", -8_437)),
            Some(&hyp("oh you used to do", -9_554)),
            &["what do you see"],
        );
        assert_eq!(d.text, "oh you used to do");
        assert_eq!(d.source, Source::FreeText);
        assert_eq!(d.confidence, None);
    }

    #[test]
    fn a_borderline_command_needs_confirmation() {
        let config = PocketsphinxConfig::default();
        let grammar = hyp("what do you see", -3_563);
        let free = hyp("you see", -4_440);
        let confirmed = decide(&config, Some(&grammar), Some(&free), &["what do you see"]);
        assert_eq!(confirmed.text, "what do you see");
        let unconfirmed = decide(&config, Some(&grammar), Some(&free), &[]);
        assert_eq!(unconfirmed.text, "you see");
    }

    #[test]
    fn the_name_allows_a_slightly_weaker_command() {
        let config = PocketsphinxConfig::default();
        let grammar = hyp("look at my screen", -7_133);
        let free = hyp("i don't agree", -9_943);
        let named = decide(&config, Some(&grammar), Some(&free), &["agent"]);
        assert_eq!(named.text, "agent, look at my screen");
        let unnamed = decide(&config, Some(&grammar), Some(&free), &[]);
        assert_eq!(unnamed.text, "i don't agree");
        // Free text after the name stays free text.
        let grammar = hyp("what do you see", -11_683);
        let free = hyp("i don't know any to do", -14_856);
        let named = decide(&config, Some(&grammar), Some(&free), &["agent"]);
        assert_eq!(named.text, "agent, i don't know any to do");
    }

    #[test]
    fn nothing_heard() {
        let config = PocketsphinxConfig::default();
        let d = decide(&config, None, None, &[]);
        assert_eq!(d.text, "");
        let d = decide(
            &config,
            Some(&hyp("stop watching", -10)),
            Some(&hyp("", 0)),
            &[],
        );
        assert_eq!(d.source, Source::FreeText);
    }
}
