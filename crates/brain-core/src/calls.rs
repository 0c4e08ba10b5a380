//! What each of the brain's LLM calls is made with: provider name, model,
//! temperature, token limit (reference §4.4 and §8), and the commentary
//! prompt's settings-driven pieces (reference §4.7: eagerness tier and the
//! note guidance).

use crate::settings::Settings;

/// Temperature of the note call (reference §4.4), whatever else is set.
pub const NOTE_TEMPERATURE: f32 = 0.3;
/// Output token limit of the note call (reference §4.4).
pub const NOTE_MAX_TOKENS: u32 = 256;
/// Temperature of a commentary turn. The reference runs commentary as a
/// voice brain turn and gives no temperature for it; this is ours.
pub const COMMENTARY_TEMPERATURE: f32 = 0.5;
/// Output token limit of a commentary turn (one short remark plus notes).
pub const COMMENTARY_MAX_TOKENS: u32 = 120;

/// How one LLM call is made.
#[derive(Debug, Clone, PartialEq)]
pub struct CallSpec {
    /// The provider name to resolve; `None` is the orchestrator's provider.
    pub provider: Option<String>,
    /// The model; empty is the provider's default model.
    pub model: String,
    /// Sampling temperature.
    pub temperature: f32,
    /// Output token limit.
    pub max_tokens: u32,
}

/// Why notes cannot be made with the current settings (no call is made).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteCallUnavailable {
    /// `noteModel` is empty (the reference requires it).
    #[error("noteModel is empty: notes need a model")]
    NoModel,
}

impl Settings {
    /// The note call (reference §4.3/§4.4): provider `noteProvider` (empty
    /// → the orchestrator's), model `noteModel` (required), temperature
    /// [`NOTE_TEMPERATURE`], [`NOTE_MAX_TOKENS`] tokens.
    pub fn note_call(&self) -> Result<CallSpec, NoteCallUnavailable> {
        let model = self.note_model.trim();
        if model.is_empty() {
            return Err(NoteCallUnavailable::NoModel);
        }
        Ok(CallSpec {
            provider: self.note_provider_override().map(str::to_owned),
            model: model.to_owned(),
            temperature: NOTE_TEMPERATURE,
            max_tokens: NOTE_MAX_TOKENS,
        })
    }

    /// The commentary call: `commentaryProvider` + `commentaryModel` when
    /// **both** are set (reference §8), else the orchestrator's provider
    /// and default model; temperature [`COMMENTARY_TEMPERATURE`].
    pub fn commentary_call(&self) -> CallSpec {
        let (provider, model) = match self.commentary_override() {
            Some((p, m)) => (Some(p.to_owned()), m.to_owned()),
            None => (None, String::new()),
        };
        CallSpec {
            provider,
            model,
            temperature: COMMENTARY_TEMPERATURE,
            max_tokens: COMMENTARY_MAX_TOKENS,
        }
    }

    /// The eagerness tier of `commentaryEagerness`.
    pub fn eagerness_tier(&self) -> EagernessTier {
        EagernessTier::of(self.commentary_eagerness)
    }
}

/// The commentary eagerness tiers (reference §4.7, `voiceAdmissionPolicy`):
/// ≤ 0 minimal, ≤ 15 very low, ≤ 35 selective, ≤ 50 moderate-low, ≤ 65
/// moderate, ≤ 80 high, else very high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EagernessTier {
    /// 0.
    Minimal,
    /// 1..=15.
    VeryLow,
    /// 16..=35.
    Selective,
    /// 36..=50.
    ModerateLow,
    /// 51..=65.
    Moderate,
    /// 66..=80.
    High,
    /// 81 and above.
    VeryHigh,
}

impl EagernessTier {
    /// The tier of an eagerness value.
    pub fn of(eagerness: u32) -> Self {
        match eagerness {
            0 => Self::Minimal,
            1..=15 => Self::VeryLow,
            16..=35 => Self::Selective,
            36..=50 => Self::ModerateLow,
            51..=65 => Self::Moderate,
            66..=80 => Self::High,
            _ => Self::VeryHigh,
        }
    }

    /// The tier's name as the reference spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minimal => "minimal",
            Self::VeryLow => "very low",
            Self::Selective => "selective",
            Self::ModerateLow => "moderate-low",
            Self::Moderate => "moderate",
            Self::High => "high",
            Self::VeryHigh => "very high",
        }
    }

    /// What the tier asks of the model (our wording; the reference gives
    /// only the tier names).
    pub fn instruction(self) -> &'static str {
        match self {
            Self::Minimal => {
                "Stay silent unless something truly important happens; answer [SKIP] otherwise."
            }
            Self::VeryLow => "Speak only for major moments; answer [SKIP] for almost everything.",
            Self::Selective => "Speak only when something clearly notable happens.",
            Self::ModerateLow => "Speak now and then, for changes worth pointing out.",
            Self::Moderate => "Comment on notable changes and interesting details.",
            Self::High => "Comment readily on what changes and what stands out.",
            Self::VeryHigh => "Comment freely on most fresh visual beats.",
        }
    }
}

/// The settings-driven lines of the commentary prompt (reference §4.7):
/// `Screen watch commentary eagerness: N/100` with the tier, and
/// `- Guidance: <note prompt>` (the runtime note prompt:
/// [`Settings::effective_note_prompt`]).
pub fn commentary_settings_lines(settings: &Settings) -> String {
    let eagerness = settings.commentary_eagerness.min(100);
    let tier = EagernessTier::of(eagerness);
    format!(
        "Screen watch commentary eagerness: {eagerness}/100 ({tier}). {instruction}\n- Guidance: {guidance}",
        tier = tier.as_str(),
        instruction = tier.instruction(),
        guidance = settings.effective_note_prompt(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::BUILTIN_NOTE_PROMPT;

    #[test]
    fn note_call_has_its_own_temperature_and_token_limit() {
        let mut s = Settings::default();
        let call = s.note_call().unwrap();
        assert_eq!(call.temperature, 0.3);
        assert_eq!(call.max_tokens, 256);
        assert_eq!(call.model, "claude-haiku-4-5");
        assert_eq!(call.provider.as_deref(), Some("claude-oauth"));
        s.note_provider = "  ".into();
        s.note_model = "vision-small".into();
        let call = s.note_call().unwrap();
        assert_eq!((call.provider, call.model.as_str()), (None, "vision-small"));
        s.note_model = " ".into();
        assert_eq!(s.note_call(), Err(NoteCallUnavailable::NoModel));
    }

    #[test]
    fn commentary_override_needs_both_provider_and_model() {
        let mut s = Settings::default();
        assert_eq!(s.commentary_call().provider, None);
        assert_eq!(s.commentary_call().model, "");
        s.commentary_provider = "xai".into();
        assert_eq!(s.commentary_call().provider, None);
        s.commentary_model = "grok-4".into();
        let call = s.commentary_call();
        assert_eq!(call.provider.as_deref(), Some("xai"));
        assert_eq!(call.model, "grok-4");
        assert_eq!(call.temperature, COMMENTARY_TEMPERATURE);
        s.commentary_provider.clear();
        assert_eq!(s.commentary_call().model, "");
    }

    #[test]
    fn eagerness_tiers_follow_the_reference_bounds() {
        let cases = [
            (0, "minimal"),
            (1, "very low"),
            (15, "very low"),
            (16, "selective"),
            (35, "selective"),
            (36, "moderate-low"),
            (50, "moderate-low"),
            (51, "moderate"),
            (65, "moderate"),
            (66, "high"),
            (80, "high"),
            (81, "very high"),
            (100, "very high"),
        ];
        for (value, name) in cases {
            assert_eq!(EagernessTier::of(value).as_str(), name, "{value}");
        }
    }

    /// The case: eagerness 10 must change the prompt.
    #[test]
    fn eagerness_and_note_prompt_reach_the_commentary_lines() {
        let mut s = Settings::default();
        let default_lines = commentary_settings_lines(&s);
        assert!(
            default_lines.contains("eagerness: 60/100 (moderate)"),
            "{default_lines}"
        );
        s.commentary_eagerness = 10;
        let low = commentary_settings_lines(&s);
        assert!(low.contains("eagerness: 10/100 (very low)"), "{low}");
        assert_ne!(low, default_lines);
        s.note_prompt = "Watch the minimap and the enemy count.".into();
        let lines = commentary_settings_lines(&s);
        assert!(
            lines.contains("- Guidance: Watch the minimap and the enemy count."),
            "{lines}"
        );
        s.note_prompt.clear();
        let lines = commentary_settings_lines(&s);
        assert!(lines.contains(&format!("- Guidance: {BUILTIN_NOTE_PROMPT}")));
    }
}
