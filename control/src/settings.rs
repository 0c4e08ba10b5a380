//! The live `voice.streamWatch` settings: loaded from the store at start
//! (legacy keys migrated once and written back), edited through the admin
//! API (strict validation, saved before they apply), and pushed to the
//! brain, the share-session rules and the share page as they change.

use std::sync::Arc;

use brain_core::{Settings, SettingsError};
use tokio::sync::watch;

use crate::store::{Store, StoreError};

/// What the environment fixes regardless of stored settings.
#[derive(Clone, Debug, Default)]
pub struct EnvOverrides {
    /// `STREAM_LINK_FALLBACK`.
    pub link_fallback_enabled: bool,
    /// `PUBLIC_SHARE_SESSION_TTL_MINUTES` as given.
    pub share_ttl_minutes: Option<String>,
}

/// Why an edit was refused.
#[derive(Debug)]
pub enum PatchError {
    /// The edit itself is wrong (400): every problem, each a sentence.
    Invalid(Vec<SettingsError>),
    /// It could not be saved (500); nothing changed.
    NotSaved(StoreError),
}

/// Owner of the current settings; cheap to clone.
#[derive(Clone)]
pub struct SettingsHub {
    store: Store,
    env: Arc<EnvOverrides>,
    tx: Arc<watch::Sender<Settings>>,
    share_tx: Arc<watch::Sender<share_core::ShareSettings>>,
    /// Serializes edits (read-modify-write).
    edit: Arc<tokio::sync::Mutex<()>>,
}

impl SettingsHub {
    /// Loads the stored settings (defaults when none), migrating legacy
    /// keys and writing the normalized document back when that changed it.
    pub fn load(store: Store, env: EnvOverrides) -> Self {
        let settings = match store.settings_json() {
            Ok(Some(doc)) => match Settings::from_json_value(&doc) {
                Ok((s, report)) => {
                    if report.needs_rewrite() {
                        tracing::info!(
                            migrated = report.migrated.len(),
                            adjusted = ?report.adjusted,
                            unknown = ?report.unknown,
                            "stored settings normalized"
                        );
                        if let Err(e) = serde_json::to_value(&s)
                            .map_err(StoreError::from)
                            .and_then(|v| store.put_settings_json(&v))
                        {
                            tracing::warn!(error = %e, "normalized settings not written back");
                        }
                    }
                    s
                }
                Err(e) => {
                    tracing::warn!(error = %e, "stored settings unreadable; using defaults");
                    Settings::default()
                }
            },
            Ok(None) => Settings::default(),
            Err(e) => {
                tracing::warn!(error = %e, "settings not loaded; using defaults");
                Settings::default()
            }
        };
        let share = share_settings(&settings, &env);
        Self {
            store,
            env: Arc::new(env),
            tx: Arc::new(watch::channel(settings).0),
            share_tx: Arc::new(watch::channel(share).0),
            edit: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// The settings now.
    pub fn current(&self) -> Settings {
        self.tx.borrow().clone()
    }

    /// The share-session rules now.
    pub fn share(&self) -> share_core::ShareSettings {
        self.share_tx.borrow().clone()
    }

    /// Follows the settings.
    pub fn subscribe(&self) -> watch::Receiver<Settings> {
        self.tx.subscribe()
    }

    /// Follows the share-session rules.
    pub fn subscribe_share(&self) -> watch::Receiver<share_core::ShareSettings> {
        self.share_tx.subscribe()
    }

    /// Applies an edit: validated strictly, saved, then live.
    pub async fn patch(&self, patch: &serde_json::Value) -> Result<Settings, PatchError> {
        let _one_at_a_time = self.edit.lock().await;
        let next = self
            .current()
            .apply_patch(patch)
            .map_err(PatchError::Invalid)?;
        let doc = serde_json::to_value(&next).map_err(|e| PatchError::NotSaved(e.into()))?;
        self.store
            .save_settings_json(doc)
            .await
            .map_err(PatchError::NotSaved)?;
        let share = share_settings(&next, &self.env);
        self.tx.send_replace(next.clone());
        self.share_tx.send_replace(share);
        tracing::info!(keys = ?patch.as_object().map(|o| o.keys().collect::<Vec<_>>()), "settings changed");
        Ok(next)
    }
}

/// The share-session rules the settings and environment imply.
pub fn share_settings(s: &Settings, env: &EnvOverrides) -> share_core::ShareSettings {
    share_core::ShareSettings {
        max_frame_bytes: s.max_frame_bytes as usize,
        max_frames_per_minute: s.max_frames_per_minute,
        keyframe_interval_ms: s.keyframe_interval_ms,
        share_page_max_width_px: s.share_page_max_width_px,
        share_page_jpeg_quality: s.share_page_jpeg_quality,
        stream_watch_enabled: s.enabled,
        link_fallback_enabled: env.link_fallback_enabled,
        ..share_core::ShareSettings::default()
    }
    .with_ttl_env_value(env.share_ttl_minutes.as_deref())
    .normalized()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env() -> EnvOverrides {
        EnvOverrides {
            link_fallback_enabled: true,
            share_ttl_minutes: Some("5".into()),
        }
    }

    #[tokio::test]
    async fn an_edit_is_saved_applied_and_pushed_to_the_share_rules() {
        let store = Store::in_memory().expect("store");
        let hub = SettingsHub::load(store.clone(), env());
        let mut share_rx = hub.subscribe_share();
        let s = hub
            .patch(&json!({"maxFrameBytes": 60000, "sharePageJpegQuality": 0.7}))
            .await
            .expect("valid edit");
        assert_eq!(s.max_frame_bytes, 60_000);
        assert!(share_rx.has_changed().expect("open"));
        let share = share_rx.borrow_and_update().clone();
        assert_eq!(share.max_frame_bytes, 60_000);
        assert!((share.share_page_jpeg_quality - 0.7).abs() < 1e-9);
        assert!((share.ttl.minutes() - 5.0).abs() < 1e-9, "env TTL kept");
        // Saved: a new hub on the same store starts from it.
        let again = SettingsHub::load(store, env());
        assert_eq!(again.current().max_frame_bytes, 60_000);
    }

    #[tokio::test]
    async fn a_bad_edit_changes_nothing_and_names_every_problem() {
        let store = Store::in_memory().expect("store");
        let hub = SettingsHub::load(store.clone(), env());
        let err = hub
            .patch(&json!({"maxFrameBytes": 10, "noSuchKey": 1}))
            .await
            .expect_err("invalid");
        let PatchError::Invalid(problems) = err else {
            panic!("not a validation error")
        };
        assert!(!problems.is_empty());
        assert_eq!(hub.current(), Settings::default());
        assert_eq!(store.settings_json().expect("load"), None, "nothing saved");
        let err = hub
            .patch(&json!({"directMinIntervalSeconds": 9}))
            .await
            .expect_err("legacy keys are refused in edits");
        assert!(matches!(err, PatchError::Invalid(_)));
    }

    #[test]
    fn stored_legacy_keys_are_migrated_once_and_written_back() {
        let store = Store::in_memory().expect("store");
        store
            .put_settings_json(&json!({"directMinIntervalSeconds": 40}))
            .expect("seed");
        let hub = SettingsHub::load(store.clone(), env());
        assert_eq!(hub.current().commentary_interval_seconds, 40);
        let doc = store.settings_json().expect("load").expect("written back");
        assert_eq!(doc["commentaryIntervalSeconds"], json!(40));
        assert!(doc.get("directMinIntervalSeconds").is_none(), "{doc}");
    }
}
