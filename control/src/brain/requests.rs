//! Building the model requests of the brain's calls (notes, commentary,
//! session summary) from the settings, and running a call off the brain's
//! task.

use super::*;

/// A request of `kind` made with `call` from `prompt`'s words
/// (`brain_core::prompts`), with `image` after the user text.
pub(super) fn request(
    kind: RequestKind,
    call: &brain_core::CallSpec,
    prompt: brain_core::Prompt,
    image: Option<Vec<u8>>,
) -> Request {
    let mut parts = vec![Part::text(prompt.user)];
    if let Some(jpeg) = image {
        parts.push(Part::jpeg(jpeg));
    }
    Request {
        kind,
        system: prompt.system,
        messages: vec![Message {
            role: Role::User,
            parts,
        }],
        max_tokens: call.max_tokens,
        model: call.model.clone(),
        temperature: Some(call.temperature),
        ..Request::default()
    }
}

/// The session summary's request (compaction): the orchestrator's own
/// model (`brain_core::SUMMARY_CALL`), never `noteModel`, which belongs to
/// `noteProvider` (with another orchestrator it names a model that
/// provider does not serve).
pub(super) fn summary_request(items: String) -> Request {
    request(
        RequestKind::Summary,
        &brain_core::SUMMARY_CALL,
        brain_core::summary_prompt(items),
        None,
    )
}

/// The recap request of an ended watch (`brain_core::RECAP_CALL`).
pub(super) fn recap_request(recap: String) -> Request {
    request(
        RequestKind::Recap,
        &brain_core::RECAP_CALL,
        brain_core::recap_prompt(recap),
        None,
    )
}

/// Whether a call can be made: the provider, or `None` when it cannot,
/// logging the reason once (and once more when it goes away); `slot` holds
/// the reason for the status view.
pub(super) fn available<T>(
    result: Result<T, impl std::fmt::Display>,
    slot: &mut Option<String>,
    what: &str,
) -> Option<T> {
    match result {
        Ok(v) => {
            if slot.take().is_some() {
                tracing::info!(calls = what, "{what} calls are made again");
            }
            Some(v)
        }
        Err(e) => {
            let reason = e.to_string();
            if slot.as_deref() != Some(reason.as_str()) {
                tracing::warn!(event = "llm_calls_unavailable", calls = what, reason = %reason, "no {what} calls");
                *slot = Some(reason);
            }
            None
        }
    }
}

/// The note call's spec and provider, or why no note call is made (no
/// `noteModel`, or `noteProvider` not configured: never another provider).
pub(super) fn note_call(
    settings: &Settings,
    providers: &llm::ProviderSet,
) -> Result<(brain_core::CallSpec, Arc<dyn Provider>), String> {
    let call = settings.note_call().map_err(|e| e.to_string())?;
    let provider = providers
        .resolve(call.provider.as_deref())
        .map_err(|e| format!("noteProvider: {e}; no screen notes are made"))?;
    Ok((call, provider))
}

/// The note call: the settings' note model, temperature and token limit
/// (`brain_core::Settings::note_call`), one user message with the notes,
/// the metrics and the frame (`brain_core::note_prompt`).
pub(super) fn note_request(
    call: &brain_core::CallSpec,
    prompt: brain_core::Prompt,
    jpeg: Vec<u8>,
) -> Request {
    request(RequestKind::Note, call, prompt, Some(jpeg))
}

/// The commentary turn: the settings' eagerness tier and note guidance in
/// the system prompt, the notes and the trigger in the user message
/// (current metrics last), the frame (`brain_core::commentary_prompt`).
pub(super) fn commentary_request(
    settings: &Settings,
    call: &brain_core::CallSpec,
    a: &Active,
    trigger: &str,
    meta: &FrameMeta,
) -> Request {
    let context = a.book.prompt_context(Instant::now());
    commentary_request_from(
        settings,
        call,
        &a.watch.target_name,
        &context,
        trigger,
        meta,
        a.latest_jpeg.as_ref().map(|j| j.as_ref().clone()),
    )
}

pub(super) fn commentary_request_from(
    settings: &Settings,
    call: &brain_core::CallSpec,
    target_name: &str,
    context: &str,
    trigger: &str,
    meta: &FrameMeta,
    jpeg: Option<Vec<u8>>,
) -> Request {
    let prompt = brain_core::commentary_prompt(settings, target_name, context, trigger, meta);
    request(RequestKind::Commentary, call, prompt, jpeg)
}

pub(super) fn spawn_call(
    provider: Arc<dyn Provider>,
    req: Request,
    done: mpsc::Sender<Done>,
    wrap: impl FnOnce(Result<String, String>) -> Done + Send + 'static,
    watch_id: u64,
) {
    tokio::spawn(async move {
        let result = provider
            .complete(req)
            .await
            .map(|r| r.text)
            .map_err(|e| e.to_string());
        let msg = match wrap(result) {
            Done::Note(_, r) => Done::Note(watch_id, r),
            Done::Commentary(_, t, r) => Done::Commentary(watch_id, t, r),
            other @ (Done::Recap(_) | Done::Summary(_)) => other,
        };
        let _ = done.send(msg).await;
    });
}

#[cfg(test)]
mod model_settings_tests {
    use super::*;

    /// A provider that records every request it gets.
    struct Recorder(&'static str, std::sync::Mutex<Vec<Request>>);
    impl Provider for Recorder {
        fn complete(&self, req: Request) -> llm::CompletionFuture<'_> {
            self.1.lock().unwrap().push(req);
            Box::pin(async { Ok(llm::Response::default()) })
        }
        fn name(&self) -> &str {
            self.0
        }
    }

    fn meta() -> FrameMeta {
        FrameMeta {
            at: Instant::now(),
            bytes: 10,
            change_score: 0.5,
            ema_score: 0.2,
            scene_cut: true,
        }
    }

    /// Old shell: every note went to the orchestrator (OpenAI here) with
    /// no regard for `noteProvider`.
    #[test]
    fn an_unconfigured_note_provider_means_no_note_call() {
        let openai = Arc::new(Recorder("openai", Default::default()));
        let providers = llm::ProviderSet::new(openai.clone());
        let mut settings = Settings {
            note_provider: "xai".into(),
            ..Settings::default()
        };
        let err = note_call(&settings, &providers).err().unwrap_or_default();
        assert!(err.contains("XAI_API_KEY"), "{err}");
        settings.note_provider = "openai".into();
        let (call, provider) = note_call(&settings, &providers).unwrap();
        assert_eq!(provider.name(), "openai");
        assert_eq!(call.model, "claude-haiku-4-5");
        settings.note_model.clear();
        assert!(note_call(&settings, &providers).is_err());
        assert!(openai.1.lock().unwrap().is_empty());
    }

    /// Old shell: temperature 0.2 and 200 tokens.
    #[test]
    fn the_note_request_uses_the_note_settings() {
        let settings = Settings {
            note_model: "vision-mini".into(),
            ..Settings::default()
        };
        let call = settings.note_call().unwrap();
        let prompt = brain_core::Prompt {
            system: "sys".into(),
            user: "x".into(),
        };
        let req = note_request(&call, prompt, vec![1]);
        assert_eq!(req.kind, RequestKind::Note);
        assert_eq!(req.temperature, Some(0.3));
        assert_eq!(req.max_tokens, 256);
        assert_eq!(req.model, "vision-mini");
    }

    /// Old shell: the summary went to the orchestrator with `noteModel`
    /// (a model of `noteProvider`'s family, e.g. an OpenAI model sent to
    /// Anthropic) and 300 tokens.
    #[test]
    fn the_summary_request_uses_the_orchestrator_model() {
        let req = summary_request("x".into());
        assert_eq!(req.kind, RequestKind::Summary);
        assert_eq!(req.model, "", "the orchestrator's default model");
        assert_eq!(req.temperature, Some(0.2));
        assert_eq!(req.max_tokens, 256);
    }

    /// Old shell: default model, temperature 0.5, and the same prompt
    /// whatever the eagerness or the note prompt.
    #[test]
    fn the_commentary_request_follows_model_eagerness_and_guidance() {
        let mut settings = Settings {
            commentary_provider: "xai".into(),
            commentary_model: "grok-4".into(),
            commentary_eagerness: 10,
            note_prompt: "Track the boss health bar.".into(),
            ..Settings::default()
        };
        let call = settings.commentary_call();
        let req = commentary_request_from(&settings, &call, "Alice", "", "interval", &meta(), None);
        assert_eq!(req.model, "grok-4");
        assert_eq!(req.kind, RequestKind::Commentary);
        assert_eq!(call.provider.as_deref(), Some("xai"));
        assert!(req.system.contains("COMMENTARY"));
        assert!(
            req.system.contains("eagerness: 10/100 (very low)"),
            "{}",
            req.system
        );
        assert!(
            req.system
                .contains("- Guidance: Track the boss health bar.")
        );
        settings.commentary_eagerness = 90;
        let call = settings.commentary_call();
        let req = commentary_request_from(&settings, &call, "Alice", "", "interval", &meta(), None);
        assert!(req.system.contains("eagerness: 90/100 (very high)"));
        // The provider override is resolved by name: xai unconfigured here.
        let providers = llm::ProviderSet::new(Arc::new(Recorder("openai", Default::default())));
        let mut slot = None;
        assert!(
            available(
                providers.resolve(call.provider.as_deref()),
                &mut slot,
                "commentary"
            )
            .is_none()
        );
        assert!(slot.as_deref().is_some_and(|r| r.contains("XAI_API_KEY")));
        let providers = providers.with("xai", Arc::new(Recorder("grok", Default::default())));
        let p = available(
            providers.resolve(call.provider.as_deref()),
            &mut slot,
            "commentary",
        );
        assert_eq!(p.map(|p| p.name().to_owned()).as_deref(), Some("grok"));
        assert_eq!(slot, None);
    }
}
