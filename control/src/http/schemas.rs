//! OpenAPI schemas of the answer parts whose types live in pure crates
//! (`brain-core`), which take no `utoipa` dependency: the live
//! `voice.streamWatch` settings ([`SettingsSchema`], built from
//! brain-core's own tables, so keys, types, bounds, defaults and meanings
//! cannot drift from what the settings accept) and one entry of the
//! settings reference ([`SettingDocSchema`], a field-for-field mirror of
//! `brain_core::SettingDoc`, checked by a test).

use std::borrow::Cow;

use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

/// The values `visualizerMode` takes (brain-core's `VisualizerMode`,
/// lowercase; a test checks each is accepted and the reference names
/// them).
const VISUALIZER_MODES: [&str; 5] = ["off", "spectrum", "waves", "vectorscope", "cqt"];

/// The schema of `brain_core::Settings` as JSON: every key, required
/// (answers always carry all of them), typed and bounded as brain-core
/// validates edits, with its default and the reference's meaning.
pub(super) struct SettingsSchema;

impl PartialSchema for SettingsSchema {
    fn schema() -> RefOr<Schema> {
        let object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "The live `voice.streamWatch` settings: every key, always. Edits outside a key's \
             bounds are refused; a `PATCH` takes any subset.",
            ));
        RefOr::T(Schema::Object(settings_keys(object, true).build()))
    }
}

impl ToSchema for SettingsSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Settings")
    }
}

/// The body of `PATCH /api/settings`: any subset of the settings' keys,
/// typed and bounded as [`SettingsSchema`]; no other key (unknown and
/// legacy keys are refused, as the handler does).
pub(super) struct SettingsPatchSchema;

impl PartialSchema for SettingsPatchSchema {
    fn schema() -> RefOr<Schema> {
        let object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Some `voice.streamWatch` keys. Strict: an unknown or legacy key, a wrong type \
                 or a value outside a key's bounds refuses the whole patch (every problem \
                 named); nothing changes unless all of it is valid.",
            ))
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)));
        RefOr::T(Schema::Object(settings_keys(object, false).build()))
    }
}

impl ToSchema for SettingsPatchSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SettingsPatch")
    }
}

/// `object` with every settings key from brain-core's tables, typed,
/// bounded, with its default and meaning; `required` marks them all
/// required.
fn settings_keys(mut object: ObjectBuilder, required: bool) -> ObjectBuilder {
    for doc in brain_core::settings_reference() {
        let key = doc.key;
        let default = serde_json::from_str::<serde_json::Value>(&doc.default).ok();
        let property = ObjectBuilder::new()
            .description(Some(doc.meaning))
            .default(default);
        let property = if let Some(s) = brain_core::INT_SETTINGS.iter().find(|s| s.key == key) {
            property
                .schema_type(Type::Integer)
                .minimum(Some(f64::from(s.min)))
                .maximum(Some(f64::from(s.max)))
        } else if let Some(s) = brain_core::FLOAT_SETTINGS.iter().find(|s| s.key == key) {
            property
                .schema_type(Type::Number)
                .format(Some(SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Double,
                )))
                .minimum(Some(s.min))
                .maximum(Some(s.max))
        } else if let Some(s) = brain_core::STR_SETTINGS.iter().find(|s| s.key == key) {
            property
                .schema_type(Type::String)
                .max_length(Some(s.max_chars))
        } else if brain_core::BOOL_SETTINGS.iter().any(|(k, _)| *k == key) {
            property.schema_type(Type::Boolean)
        } else {
            // `visualizerMode`, the one enumerated key (a test checks
            // no other key falls here).
            property
                .schema_type(Type::String)
                .enum_values(Some(VISUALIZER_MODES))
        };
        object = object.property(key, property);
        if required {
            object = object.required(key);
        }
    }
    object
}

/// The body of `POST /api/voice/share-session/{token}/frame`
/// (`share_core::FrameBody`, which has no `utoipa` dependency; a test
/// checks the parser reads every key named here).
#[derive(utoipa::ToSchema)]
#[schema(as = FrameBody, rename_all = "camelCase")]
#[allow(dead_code)] // A schema only: the handler parses with share-core.
pub(super) struct FrameBodySchema {
    /// The image as base64 (a `data:…;base64,` prefix is removed); not
    /// empty.
    data_base64: String,
    /// `image/jpeg`, `image/png` or `image/webp` (absent or empty:
    /// `image/jpeg`).
    mime_type: Option<String>,
    /// A free-form origin label (trimmed, cut to 80 characters).
    source: Option<String>,
}

/// The body of `POST /api/voice/stream-ingest/frame`: a frame body with
/// the watch it is for (`share_core::FrameBody` too).
#[derive(utoipa::ToSchema)]
#[schema(as = IngestFrameBody, rename_all = "camelCase")]
#[allow(dead_code)] // A schema only: the handler parses with share-core.
pub(super) struct IngestFrameBodySchema {
    /// The image as base64 (a `data:…;base64,` prefix is removed); not
    /// empty.
    data_base64: String,
    /// `image/jpeg`, `image/png` or `image/webp` (absent or empty:
    /// `image/jpeg`).
    mime_type: Option<String>,
    /// A free-form origin label (trimmed, cut to 80 characters).
    source: Option<String>,
    /// The guild whose watch the frame is for (a snowflake; a JSON number
    /// is read too). Required: without it, `guild_id_required`.
    guild_id: String,
    /// Whose stream it is (a snowflake; absent or blank: the watch's).
    streamer_user_id: Option<String>,
}

/// One key of the settings reference (`brain_core::SettingDoc`).
#[derive(utoipa::ToSchema)]
#[schema(as = SettingDoc, rename_all = "camelCase")]
#[allow(dead_code)] // A schema only: the answer writes brain-core's type.
pub(super) struct SettingDocSchema {
    /// The JSON key under `voice.streamWatch`.
    key: String,
    /// The default, as JSON text.
    default: String,
    /// What values are accepted (edits outside are refused; stored values
    /// are clamped).
    range: String,
    /// What it does.
    meaning: String,
    /// The code that reads it.
    read_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn properties<T: PartialSchema>() -> serde_json::Value {
        let schema = serde_json::to_value(T::schema()).expect("schema");
        schema["properties"].clone()
    }

    /// The settings schema names exactly the keys `Settings` writes, each
    /// typed as its value is, with the value brain-core defaults to; the
    /// one key without a bounds table is the enumerated `visualizerMode`.
    #[test]
    fn the_settings_schema_is_the_settings() {
        let props = properties::<SettingsSchema>();
        let props = props.as_object().expect("properties");
        let defaults = serde_json::to_value(brain_core::Settings::default()).expect("value");
        let defaults = defaults.as_object().expect("object");
        let mut keys: Vec<&String> = props.keys().collect();
        let mut want: Vec<&String> = defaults.keys().collect();
        keys.sort();
        want.sort();
        assert_eq!(keys, want);
        for (key, value) in defaults {
            let p = &props[key];
            assert_eq!(&p["default"], value, "{key}");
            let ty = p["type"].as_str().unwrap_or_else(|| panic!("{key}: {p}"));
            let fits = match ty {
                "integer" => value.is_u64(),
                "number" => value.is_f64(),
                "string" => value.is_string(),
                "boolean" => value.is_boolean(),
                other => panic!("{key}: {other}"),
            };
            assert!(fits, "{key}: {ty} but {value}");
            assert!(p["description"].as_str().is_some_and(|d| !d.is_empty()));
            if p.get("enum").is_some() {
                assert_eq!(key, "visualizerMode");
            }
        }
        let schema = serde_json::to_value(SettingsSchema::schema()).expect("schema");
        assert_eq!(
            schema["required"].as_array().map(Vec::len),
            Some(want.len())
        );
        assert_eq!(props["maxFrameBytes"]["minimum"], 50_000.0);
        assert_eq!(props["maxFrameBytes"]["maximum"], 4_000_000.0);
    }

    /// Every `visualizerMode` value the schema lists is one the settings
    /// accept, and the reference names each.
    #[test]
    fn visualizer_modes_are_the_settings_values() {
        let range = brain_core::settings_reference()
            .into_iter()
            .find(|d| d.key == "visualizerMode")
            .expect("documented")
            .range;
        for mode in VISUALIZER_MODES {
            let s: brain_core::Settings =
                serde_json::from_value(serde_json::json!({"visualizerMode": mode}))
                    .unwrap_or_else(|e| panic!("{mode}: {e}"));
            assert_eq!(serde_json::to_value(s).unwrap()["visualizerMode"], mode);
            assert!(range.contains(mode), "{mode} not in {range}");
        }
        assert!(
            serde_json::from_value::<brain_core::Settings>(
                serde_json::json!({"visualizerMode": "bars"})
            )
            .is_err()
        );
    }

    /// The patch schema takes what the settings take: every key it names,
    /// at its minimum and maximum, alone, is a valid patch; a step past a
    /// bound is refused, as is a key it does not name.
    #[test]
    fn the_patch_schema_is_what_a_patch_accepts() {
        let schema = serde_json::to_value(SettingsPatchSchema::schema()).expect("schema");
        let props = schema["properties"].as_object().expect("properties");
        assert!(!props.is_empty());
        let base = brain_core::Settings::default();
        for (key, p) in props {
            let patch = |v: serde_json::Value| serde_json::json!({ key.as_str(): v });
            assert!(
                base.apply_patch(&patch(p["default"].clone())).is_ok(),
                "{key}"
            );
            if let (Some(min), Some(max)) = (p["minimum"].as_f64(), p["maximum"].as_f64()) {
                let (step, to_json): (f64, fn(f64) -> serde_json::Value) = if p["type"] == "integer"
                {
                    (1.0, |v| serde_json::json!(v as i64))
                } else {
                    (0.001 * (max - min).max(1.0), |v| serde_json::json!(v))
                };
                assert!(
                    base.apply_patch(&patch(to_json(min))).is_ok(),
                    "{key} {min}"
                );
                assert!(
                    base.apply_patch(&patch(to_json(max))).is_ok(),
                    "{key} {max}"
                );
                assert!(
                    base.apply_patch(&patch(to_json(max + step))).is_err(),
                    "{key} > {max}"
                );
                if min - step >= 0.0 || p["type"] == "number" {
                    assert!(
                        base.apply_patch(&patch(to_json(min - step))).is_err(),
                        "{key} < {min}"
                    );
                }
            }
        }
        assert!(
            base.apply_patch(&serde_json::json!({"noSuchKey": 1}))
                .is_err()
        );
        assert_eq!(schema["additionalProperties"], false);
        assert!(schema.get("required").is_none());
    }

    /// The frame body mirrors name what share-core's parser reads: a body
    /// with every key they name is parsed with each of them read.
    #[test]
    fn the_frame_body_mirrors_are_what_share_core_reads() {
        let plain = properties::<FrameBodySchema>();
        let ingest = properties::<IngestFrameBodySchema>();
        for key in plain.as_object().expect("properties").keys() {
            assert!(ingest[key].is_object(), "{key}");
        }
        let mut keys: Vec<&String> = ingest.as_object().expect("properties").keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "dataBase64",
                "guildId",
                "mimeType",
                "source",
                "streamerUserId"
            ]
        );
        let body = serde_json::json!({
            "dataBase64": "data:image/png;base64,QUJD",
            "mimeType": "image/png",
            "source": " tab ",
            "guildId": "12",
            "streamerUserId": "34",
        })
        .to_string();
        let frame = share_core::FrameBody::parse(body.as_bytes(), 1 << 20).expect("parsed");
        assert_eq!(frame.data_base64, "QUJD");
        assert_eq!(frame.mime_type, "image/png");
        assert_eq!(frame.source.as_deref(), Some("tab"));
        assert_eq!(frame.guild_id.as_deref(), Some("12"));
        assert_eq!(frame.streamer_user_id.as_deref(), Some("34"));
        // The one required key of a frame is required by the parser too.
        assert_eq!(plain["dataBase64"]["type"], "string");
        let without = br#"{"mimeType":"image/png"}"#;
        assert!(share_core::FrameBody::parse(without, 1 << 20).is_err());
    }

    /// The mirror has exactly the fields a `SettingDoc` writes.
    #[test]
    fn the_setting_doc_mirror_has_the_fields_of_setting_doc() {
        let props = properties::<SettingDocSchema>();
        let mut keys: Vec<&String> = props.as_object().expect("properties").keys().collect();
        let doc = serde_json::to_value(&brain_core::settings_reference()[0]).expect("value");
        let mut want: Vec<&String> = doc.as_object().expect("object").keys().collect();
        keys.sort();
        want.sort();
        assert_eq!(keys, want);
        for key in want {
            assert!(doc[key].is_string(), "{key}");
            assert_eq!(props[key]["type"], "string", "{key}");
        }
    }
}
