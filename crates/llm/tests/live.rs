//! Opt-in tests against real services, skipped unless their variables are
//! set:
//! - `LLM_LIVE_ANTHROPIC=1` with `ANTHROPIC_API_KEY` (optional
//!   `LLM_LIVE_ANTHROPIC_MODEL`),
//! - `LLM_LIVE_OPENAI=1` with `OPENAI_API_KEY` (optional
//!   `LLM_LIVE_OPENAI_MODEL`),
//! - `LLM_LIVE_COMPAT_URL` (e.g. `http://localhost:11434/v1`) with
//!   `LLM_LIVE_COMPAT_MODEL`.

use llm::{Message, Provider, Request, provider_from_settings};

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn request(model: Option<String>) -> Request {
    Request {
        system: "Answer with one word.".into(),
        messages: vec![Message::user_text("Say hello.")],
        max_tokens: 16,
        model: model.unwrap_or_default(),
        temperature: Some(0.0),
        ..Request::default()
    }
}

async fn check(provider: &dyn Provider, model: Option<String>) {
    let resp = provider
        .complete(request(model))
        .await
        .expect("live completion");
    println!("{}: {:?}", provider.name(), resp);
    assert!(!resp.text.trim().is_empty());
}

#[tokio::test]
async fn live_anthropic() {
    let (Some(_), Some(key)) = (var("LLM_LIVE_ANTHROPIC"), var("ANTHROPIC_API_KEY")) else {
        eprintln!("skipped: set LLM_LIVE_ANTHROPIC=1 and ANTHROPIC_API_KEY");
        return;
    };
    let provider = provider_from_settings("anthropic", None, Some(&key)).expect("provider");
    check(provider.as_ref(), var("LLM_LIVE_ANTHROPIC_MODEL")).await;
}

#[tokio::test]
async fn live_openai() {
    let (Some(_), Some(key)) = (var("LLM_LIVE_OPENAI"), var("OPENAI_API_KEY")) else {
        eprintln!("skipped: set LLM_LIVE_OPENAI=1 and OPENAI_API_KEY");
        return;
    };
    let provider = provider_from_settings("openai", None, Some(&key)).expect("provider");
    check(provider.as_ref(), var("LLM_LIVE_OPENAI_MODEL")).await;
}

#[tokio::test]
async fn live_openai_compatible() {
    let (Some(url), Some(model)) = (var("LLM_LIVE_COMPAT_URL"), var("LLM_LIVE_COMPAT_MODEL"))
    else {
        eprintln!("skipped: set LLM_LIVE_COMPAT_URL and LLM_LIVE_COMPAT_MODEL");
        return;
    };
    let provider = provider_from_settings(
        "openai-compatible",
        Some(&url),
        var("LLM_LIVE_COMPAT_KEY").as_deref(),
    )
    .expect("provider");
    check(provider.as_ref(), Some(model)).await;
}
