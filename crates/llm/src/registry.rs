//! Which provider serves a provider *name* from the settings
//! (`noteProvider`, `commentaryProvider`).
//!
//! Names are read case-insensitively and mapped to a provider family:
//!
//! | Names | Family | Configured when |
//! |---|---|---|
//! | `anthropic`, `claude`, `claude-oauth`, `claude-code` | `anthropic` | `ANTHROPIC_API_KEY` (+ `ANTHROPIC_BASE_URL`) |
//! | `openai`, `openai-oauth`, `codex`, `codex-cli`, `codex_cli_session` | `openai` | `OPENAI_API_KEY` (+ `OPENAI_BASE_URL`) |
//! | `xai`, `grok` | `xai` | `XAI_API_KEY` (+ `XAI_BASE_URL`, default `https://api.x.ai/v1`) |
//! | `openai-compatible`, `openai_compatible` | `openai-compatible` | `OPENAI_COMPATIBLE_BASE_URL` (+ `OPENAI_COMPATIBLE_API_KEY`) |
//! | `offline` | `offline` | always |
//!
//! The reference's subscription logins (`claude-oauth`, `openai-oauth`,
//! `codex-cli`) do not exist here; they name the same model family, which
//! is served by that family's API key.
//!
//! An empty name means the orchestrator's (default) provider. A name that
//! is unknown, or whose family is not configured, resolves to
//! [`Unconfigured`]: the caller makes **no** call; it never falls back to
//! another provider.
//!
//! One exception, on purpose: when the orchestrator itself is the offline
//! provider (no LLM key configured at all), the offline provider stands in
//! for every name. Nothing leaves the machine in that mode, and the offline
//! provider is this project's simulation of every provider.

use std::sync::Arc;

use crate::Provider;
use crate::factory::provider_from_settings;
use crate::offline::OfflineProvider;
use crate::openai::{OpenAiConfig, OpenAiProvider};

/// Base URL of xAI's OpenAI-compatible API.
pub const XAI_DEFAULT_BASE_URL: &str = "https://api.x.ai/v1";

/// The provider family a settings name means, or `None` for an unknown
/// name. The empty name is not a family (it means "the orchestrator").
pub fn provider_family(name: &str) -> Option<&'static str> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "anthropic" | "claude" | "claude-oauth" | "claude-code" => "anthropic",
        "openai" | "openai-oauth" | "codex" | "codex-cli" | "codex_cli_session" => "openai",
        "xai" | "grok" => "xai",
        "openai-compatible" | "openai_compatible" => "openai-compatible",
        "offline" => "offline",
        _ => return None,
    })
}

/// A provider name that cannot be served: no call is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unconfigured {
    /// The name as given.
    pub name: String,
    /// Why (for the log and the status view).
    pub reason: String,
}

impl std::fmt::Display for Unconfigured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "provider {:?} is not configured: {}",
            self.name, self.reason
        )
    }
}

/// The orchestrator's provider plus every other configured family.
#[derive(Clone)]
pub struct ProviderSet {
    default: Arc<dyn Provider>,
    named: Vec<(&'static str, Arc<dyn Provider>)>,
    /// Families named in the environment whose provider could not be
    /// built, with the error.
    broken: Vec<(&'static str, String)>,
}

impl ProviderSet {
    /// Only the orchestrator (plus `offline`, always available).
    pub fn new(default: Arc<dyn Provider>) -> Self {
        ProviderSet {
            default,
            named: Vec::new(),
            broken: Vec::new(),
        }
    }

    /// Adds (or replaces) the provider of a family (`anthropic`, `openai`,
    /// `xai`, `openai-compatible`, `offline`).
    #[must_use]
    pub fn with(mut self, family: &'static str, provider: Arc<dyn Provider>) -> Self {
        self.named.retain(|(f, _)| *f != family);
        self.broken.retain(|(f, _)| *f != family);
        self.named.push((family, provider));
        self
    }

    /// The orchestrator and every family configured in the environment
    /// (read through `env`; see the module docs for the variables).
    pub fn from_env(default: Arc<dyn Provider>, env: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut set = ProviderSet::new(default);
        let mut add = |family: &'static str, built: Result<Arc<dyn Provider>, String>| match built {
            Ok(p) => set.named.push((family, p)),
            Err(e) => set.broken.push((family, e)),
        };
        if let Some(key) = get("ANTHROPIC_API_KEY") {
            let url = get("ANTHROPIC_BASE_URL");
            add(
                "anthropic",
                provider_from_settings("anthropic", url.as_deref(), Some(&key))
                    .map_err(|e| e.to_string()),
            );
        }
        if let Some(key) = get("OPENAI_API_KEY") {
            let url = get("OPENAI_BASE_URL");
            add(
                "openai",
                provider_from_settings("openai", url.as_deref(), Some(&key))
                    .map_err(|e| e.to_string()),
            );
        }
        if let Some(key) = get("XAI_API_KEY") {
            let mut config = OpenAiConfig::openai(key);
            config.base_url = get("XAI_BASE_URL").unwrap_or_else(|| XAI_DEFAULT_BASE_URL.into());
            config.default_model = String::new();
            add(
                "xai",
                OpenAiProvider::new(config)
                    .map(|p| Arc::new(p) as Arc<dyn Provider>)
                    .map_err(|e| e.to_string()),
            );
        }
        if let Some(url) = get("OPENAI_COMPATIBLE_BASE_URL") {
            let key = get("OPENAI_COMPATIBLE_API_KEY");
            add(
                "openai-compatible",
                provider_from_settings("openai-compatible", Some(&url), key.as_deref())
                    .map_err(|e| e.to_string()),
            );
        }
        set
    }

    /// The orchestrator's provider.
    pub fn default_provider(&self) -> &Arc<dyn Provider> {
        &self.default
    }

    /// Whether the orchestrator is the offline provider (no key at all).
    pub fn offline_only(&self) -> bool {
        self.default.name() == "offline"
    }

    /// The provider serving `name`: `None` or an empty name is the
    /// orchestrator; otherwise the configured provider of the name's
    /// family (the orchestrator when it is of that family), or
    /// [`Unconfigured`]. In offline-only mode every name is served by the
    /// orchestrator (see the module docs).
    pub fn resolve(&self, name: Option<&str>) -> Result<Arc<dyn Provider>, Unconfigured> {
        let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
            return Ok(self.default.clone());
        };
        if self.offline_only() {
            return Ok(self.default.clone());
        }
        let unconfigured = |reason: String| Unconfigured {
            name: name.to_owned(),
            reason,
        };
        let Some(family) = provider_family(name) else {
            return Err(unconfigured(
                "unknown provider name (known: anthropic, claude-oauth, openai, openai-oauth, \
                 codex-cli, xai, openai-compatible, offline)"
                    .into(),
            ));
        };
        if let Some((_, p)) = self.named.iter().find(|(f, _)| *f == family) {
            return Ok(p.clone());
        }
        if let Some((_, e)) = self.broken.iter().find(|(f, _)| *f == family) {
            return Err(unconfigured(e.clone()));
        }
        match family {
            "offline" => Ok(Arc::new(OfflineProvider::default())),
            f if f == self.default.name() => Ok(self.default.clone()),
            "anthropic" => Err(unconfigured("ANTHROPIC_API_KEY is not set".into())),
            "openai" => Err(unconfigured("OPENAI_API_KEY is not set".into())),
            "xai" => Err(unconfigured("XAI_API_KEY is not set".into())),
            _ => Err(unconfigured("OPENAI_COMPATIBLE_BASE_URL is not set".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompletionFuture, LlmError, Request};

    struct Named(&'static str);
    impl Provider for Named {
        fn complete(&self, _req: Request) -> CompletionFuture<'_> {
            Box::pin(async { Err(LlmError::InvalidRequest("test".into())) })
        }
        fn name(&self) -> &str {
            self.0
        }
    }

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn resolved(set: &ProviderSet, name: &str) -> String {
        match set.resolve(Some(name)) {
            Ok(p) => p.name().to_owned(),
            Err(e) => format!("unconfigured: {}", e.reason),
        }
    }

    /// The case: OpenAI configured, `noteProvider = xai` without a
    /// key. The old brain sent every note to the orchestrator (OpenAI).
    #[tokio::test]
    async fn an_unconfigured_name_never_falls_back_to_the_orchestrator() {
        let set = ProviderSet::from_env(
            Arc::new(Named("openai")),
            env(&[("OPENAI_API_KEY", "sk-1")]),
        );
        assert!(resolved(&set, "xai").starts_with("unconfigured: XAI_API_KEY"));
        assert!(resolved(&set, "claude-oauth").contains("ANTHROPIC_API_KEY"));
        assert!(resolved(&set, "gemini").contains("unknown provider"));
        assert_eq!(resolved(&set, "openai"), "openai");
        assert_eq!(resolved(&set, "OpenAI-OAuth"), "openai");
        assert_eq!(resolved(&set, "offline"), "offline");
        assert_eq!(
            set.resolve(None).map(|p| p.name().to_owned()),
            Ok("openai".into())
        );
        assert_eq!(
            set.resolve(Some("  ")).map(|p| p.name().to_owned()),
            Ok("openai".into())
        );
    }

    #[tokio::test]
    async fn configured_families_are_served_by_their_own_provider() {
        let set = ProviderSet::from_env(
            Arc::new(Named("anthropic")),
            env(&[
                ("ANTHROPIC_API_KEY", "sk-ant"),
                ("XAI_API_KEY", "xai-1"),
                ("OPENAI_COMPATIBLE_BASE_URL", "http://127.0.0.1:9/v1"),
            ]),
        );
        assert_eq!(resolved(&set, "claude-oauth"), "anthropic");
        assert_eq!(resolved(&set, "xai"), "openai");
        assert_eq!(resolved(&set, "openai-compatible"), "openai-compatible");
        assert!(resolved(&set, "openai").contains("OPENAI_API_KEY"));
        // A fake orchestrator of a family serves that family's name.
        let set = ProviderSet::new(Arc::new(Named("openai")));
        assert_eq!(resolved(&set, "codex-cli"), "openai");
        let recorder: Arc<dyn Provider> = Arc::new(Named("recorder"));
        let set = set.with("xai", recorder);
        assert_eq!(resolved(&set, "grok"), "recorder");
    }

    #[tokio::test]
    async fn offline_mode_serves_every_name_offline() {
        let set = ProviderSet::from_env(Arc::new(OfflineProvider::default()), env(&[]));
        assert!(set.offline_only());
        assert_eq!(resolved(&set, "xai"), "offline");
        assert_eq!(resolved(&set, "claude-oauth"), "offline");
    }

    #[tokio::test]
    async fn a_bad_key_is_unconfigured_with_its_error() {
        let set = ProviderSet::from_env(
            Arc::new(Named("openai")),
            env(&[("ANTHROPIC_API_KEY", "bad\nkey")]),
        );
        let err = set.resolve(Some("anthropic")).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| !e.contains("bad\nkey")));
    }
}
