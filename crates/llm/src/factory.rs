//! Building providers from settings and from the environment.

use std::sync::Arc;

use crate::Provider;
use crate::anthropic::{AnthropicConfig, AnthropicProvider};
use crate::error::LlmError;
use crate::offline::OfflineProvider;
use crate::openai::{OpenAiConfig, OpenAiProvider};
use provider_http::ApiKey;

/// The provider kinds [`provider_from_settings`] understands.
pub const PROVIDER_KINDS: [&str; 4] = ["anthropic", "openai", "openai-compatible", "offline"];

/// Builds a provider of `kind` (case-insensitive; `openai_compatible` is
/// accepted too) with default timeouts and retries:
/// - `anthropic`: needs `api_key`; `base_url` defaults to the public API.
/// - `openai`: needs `api_key`; `base_url` defaults to the public API.
/// - `openai-compatible`: needs `base_url` (e.g. `http://localhost:11434/v1`);
///   `api_key` optional.
/// - `offline`: ignores both.
///
/// Empty strings count as absent.
pub fn provider_from_settings(
    kind: &str,
    base_url: Option<&str>,
    api_key: Option<&str>,
) -> Result<Arc<dyn Provider>, LlmError> {
    let base_url = base_url.map(str::trim).filter(|s| !s.is_empty());
    let api_key = api_key.map(str::trim).filter(|s| !s.is_empty());
    match kind.trim().to_ascii_lowercase().as_str() {
        "anthropic" => {
            let key = api_key.ok_or_else(|| {
                LlmError::InvalidConfig(
                    "the anthropic provider needs an API key (ANTHROPIC_API_KEY)".to_owned(),
                )
            })?;
            let mut config = AnthropicConfig::new(key);
            if let Some(url) = base_url {
                config.base_url = url.to_owned();
            }
            Ok(Arc::new(AnthropicProvider::new(config)?))
        }
        "openai" => {
            let key = api_key.ok_or_else(|| {
                LlmError::InvalidConfig(
                    "the openai provider needs an API key (OPENAI_API_KEY)".to_owned(),
                )
            })?;
            let mut config = OpenAiConfig::openai(key);
            if let Some(url) = base_url {
                config.base_url = url.to_owned();
            }
            Ok(Arc::new(OpenAiProvider::new(config)?))
        }
        "openai-compatible" | "openai_compatible" => {
            let url = base_url.ok_or_else(|| {
                LlmError::InvalidConfig(
                    "the openai-compatible provider needs a base URL (e.g. http://localhost:11434/v1)"
                        .to_owned(),
                )
            })?;
            let mut config = OpenAiConfig::compatible(url);
            config.api_key = api_key.map(ApiKey::new);
            Ok(Arc::new(OpenAiProvider::new(config)?))
        }
        "offline" => Ok(Arc::new(OfflineProvider::default())),
        other => Err(LlmError::InvalidConfig(format!(
            "unknown provider kind {other:?}; expected one of {}",
            PROVIDER_KINDS.join(", ")
        ))),
    }
}

/// The provider to use when the settings name none, from environment
/// variables read through `env`: Anthropic when `ANTHROPIC_API_KEY` is set
/// (with `ANTHROPIC_BASE_URL` if set), else OpenAI when `OPENAI_API_KEY` is
/// set (with `OPENAI_BASE_URL` if set), else offline.
pub fn default_provider(
    env: impl Fn(&str) -> Option<String>,
) -> Result<Arc<dyn Provider>, LlmError> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    if let Some(key) = get("ANTHROPIC_API_KEY") {
        return provider_from_settings(
            "anthropic",
            get("ANTHROPIC_BASE_URL").as_deref(),
            Some(&key),
        );
    }
    if let Some(key) = get("OPENAI_API_KEY") {
        return provider_from_settings("openai", get("OPENAI_BASE_URL").as_deref(), Some(&key));
    }
    provider_from_settings("offline", None, None)
}

/// [`default_provider`] over the process environment.
pub fn default_provider_from_env() -> Result<Arc<dyn Provider>, LlmError> {
    default_provider(|name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(p: Result<Arc<dyn Provider>, LlmError>) -> String {
        match p {
            Ok(p) => p.name().to_owned(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[tokio::test]
    async fn kinds() {
        assert_eq!(
            name(provider_from_settings("offline", None, None)),
            "offline"
        );
        assert_eq!(
            name(provider_from_settings("Anthropic", None, Some("k-123456"))),
            "anthropic"
        );
        assert_eq!(
            name(provider_from_settings(
                "openai",
                Some("http://127.0.0.1:9/v1"),
                Some("k")
            )),
            "openai"
        );
        assert_eq!(
            name(provider_from_settings(
                "openai-compatible",
                Some("http://localhost:11434/v1"),
                None
            )),
            "openai-compatible"
        );
        for (kind, url, key) in [
            ("anthropic", None, None),
            ("anthropic", None, Some("  ")),
            ("openai", None, None),
            ("openai-compatible", None, None),
            ("openai-compatible", Some("localhost:11434"), None),
            ("gemini", None, Some("k")),
            ("anthropic", None, Some("bad\nkey")),
        ] {
            let result = provider_from_settings(kind, url, key);
            assert!(
                matches!(&result, Err(e) if e.is_config()),
                "{kind} {url:?}: {}",
                name(result)
            );
        }
    }

    #[tokio::test]
    async fn defaults_from_env() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(name(default_provider(env(&[]))), "offline");
        assert_eq!(
            name(default_provider(env(&[("ANTHROPIC_API_KEY", "")]))),
            "offline"
        );
        assert_eq!(
            name(default_provider(env(&[("OPENAI_API_KEY", "sk-1")]))),
            "openai"
        );
        assert_eq!(
            name(default_provider(env(&[
                ("OPENAI_API_KEY", "sk-1"),
                ("ANTHROPIC_API_KEY", "sk-ant")
            ]))),
            "anthropic"
        );
    }

    #[test]
    fn secrets_do_not_leak_through_config_errors() {
        let err = provider_from_settings("anthropic", Some("nope"), Some("sk-ant-SECRET"))
            .err()
            .map(|e| format!("{e} {e:?}"))
            .unwrap_or_default();
        assert!(!err.is_empty());
        assert!(!err.contains("SECRET"), "{err}");
    }
}
