//! The document's tests: every route is in it, and every answer and
//! request body is typed down to its leaves.

use super::*;

/// Every route the router has is in the document, with its method, and
/// the document names no route the router lacks.
#[test]
fn the_document_covers_every_route() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0", "{}", doc["openapi"]);
    assert_eq!(doc["info"]["title"], "control");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let mut documented = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            documented.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    let routes: std::collections::BTreeSet<(String, String)> = super::super::route_list()
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect();
    assert_eq!(
        routes.len(),
        super::super::route_list().len(),
        "a route listed twice"
    );
    let missing: Vec<_> = routes.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routes).collect();
    assert!(
        missing.is_empty(),
        "routes not in the document: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "documented routes the router lacks: {extra:?}"
    );
    // Parses back as JSON text, as served.
    let text = serde_json::to_string(&doc).expect("serialize");
    let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(back, doc);
    assert!(
        doc["components"]["securitySchemes"]["dashboardToken"].is_object(),
        "{}",
        doc["components"]
    );
    for schema in [
        "Health",
        "ErrorBody",
        "VoiceState",
        "WatchResult",
        "ShareListing",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
    assert_eq!(
        doc["paths"]["/api/voice/share-session"]["post"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["$ref"],
        "#/components/schemas/WatchResult"
    );
}

/// The schema a `$ref` names, or the schema itself.
fn resolve<'a>(doc: &'a serde_json::Value, schema: &'a serde_json::Value) -> &'a serde_json::Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("not a component: {r}"));
            let found = &doc["components"]["schemas"][name];
            assert!(found.is_object(), "{r} is not in the components");
            found
        }
        None => schema,
    }
}

/// The properties of a schema with their schemas, through `$ref`s and
/// `allOf` parts.
fn property_schemas(
    doc: &serde_json::Value,
    schema: &serde_json::Value,
) -> Vec<(String, serde_json::Value)> {
    let schema = resolve(doc, schema);
    let mut out: Vec<(String, serde_json::Value)> = schema["properties"]
        .as_object()
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(property_schemas(doc, part));
    }
    out
}

/// The property names of a schema, through `$ref`s and `allOf` parts.
fn properties(doc: &serde_json::Value, schema: &serde_json::Value) -> Vec<String> {
    property_schemas(doc, schema)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// Every documented answer of every route says what it is: a JSON 200
/// (and every JSON error) has a schema with named properties (not
/// `{"type": "object"}`), except the document itself; the page, event
/// stream and frame routes answer another content type.
#[test]
fn every_json_answer_has_a_schema_with_properties() {
    let doc = document();
    let mut json_200 = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let responses = op["responses"].as_object().expect("responses");
            assert!(responses.contains_key("200"), "{method} {path}: no 200");
            for (status, r) in responses {
                let content = r["content"].as_object();
                let Some(json) = content.and_then(|c| c.get("application/json")) else {
                    assert!(
                        content.is_some_and(|c| !c.is_empty()),
                        "{method} {path} {status}: no content"
                    );
                    continue;
                };
                if path == "/api/openapi.json" {
                    continue;
                }
                let props = properties(&doc, &json["schema"]);
                assert!(
                    !props.is_empty(),
                    "{method} {path} {status}: a schema without properties: {}",
                    json["schema"]
                );
                if status == "200" {
                    json_200 += 1;
                }
            }
        }
    }
    assert!(json_200 >= 18, "only {json_200} JSON 200 answers");
    // The dashboard's event is documented too, and media state's
    // desired voice connection is typed down to its fields.
    let dash = &doc["components"]["schemas"]["DashboardState"]["properties"];
    for key in ["media", "voice", "shares"] {
        assert!(dash[key].is_object(), "DashboardState.{key}: {dash}");
    }
    let state = properties(&doc, &doc["components"]["schemas"]["VoiceState"]);
    for key in [
        "userId", "voice", "sharers", "streams", "watches", "brain", "speech",
    ] {
        assert!(
            state.iter().any(|k| k == key),
            "VoiceState.{key}: {state:?}"
        );
    }
    let voice = &doc["components"]["schemas"]["VoiceConnectState"]["properties"];
    for key in ["channelId", "daveGroupId", "endpoint", "guildId", "userId"] {
        assert!(voice[key].is_object(), "VoiceConnectState.{key}: {voice}");
    }
    assert!(voice.get("token").is_none() && voice.get("sessionId").is_none());
}

/// Answers that are free-form by design, by route and status: only
/// these may be (or hold) an object schema without named properties.
const FREE_FORM: &[(&str, &str, &str)] = &[(
    "/api/openapi.json",
    "200",
    "the document itself: OpenAPI's own shape, not this API's",
)];

/// Where a schema, or any schema inside it (properties, items, the
/// parts of `allOf` / `oneOf` / `anyOf`, map values, through `$ref`s),
/// is an object without named properties or a schema that says
/// nothing (`{}`): the places an answer's shape is not documented.
fn bare_objects(doc: &serde_json::Value, schema: &serde_json::Value, at: &str) -> Vec<String> {
    fn walk(
        doc: &serde_json::Value,
        schema: &serde_json::Value,
        at: String,
        seen: &mut std::collections::BTreeSet<String>,
        out: &mut Vec<String>,
    ) {
        if let Some(r) = schema["$ref"].as_str() {
            if seen.insert(r.to_owned()) {
                walk(doc, resolve(doc, schema), format!("{at} ({r})"), seen, out);
            }
            return;
        }
        let Some(obj) = schema.as_object() else {
            out.push(format!("{at}: not a schema: {schema}"));
            return;
        };
        let is_object = match &schema["type"] {
            serde_json::Value::String(t) => t == "object",
            serde_json::Value::Array(ts) => ts.iter().any(|t| t == "object"),
            _ => false,
        };
        let has_properties = schema["properties"]
            .as_object()
            .is_some_and(|p| !p.is_empty());
        let map_values = schema["additionalProperties"].is_object();
        let says_something = [
            "type",
            "allOf",
            "oneOf",
            "anyOf",
            "enum",
            "const",
            "properties",
        ]
        .iter()
        .any(|k| obj.contains_key(*k));
        if (is_object && !has_properties && !map_values) || !says_something {
            out.push(format!("{at}: {schema}"));
        }
        for (name, p) in schema["properties"].as_object().into_iter().flatten() {
            walk(doc, p, format!("{at}.{name}"), seen, out);
        }
        if schema["items"].is_object() {
            walk(doc, &schema["items"], format!("{at}[]"), seen, out);
        }
        if map_values {
            walk(
                doc,
                &schema["additionalProperties"],
                format!("{at}{{}}"),
                seen,
                out,
            );
        }
        for k in ["allOf", "oneOf", "anyOf"] {
            for (i, part) in schema[k].as_array().into_iter().flatten().enumerate() {
                walk(doc, part, format!("{at}.{k}[{i}]"), seen, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        doc,
        schema,
        at.to_owned(),
        &mut Default::default(),
        &mut out,
    );
    out
}

/// Every JSON answer is documented down to its leaves: no object
/// without named properties anywhere inside it (the settings, the
/// media state's mediad view and connection, health's gateway, the
/// voice state's voice, sharers, streams, brain and speech, the
/// recaps), except the allowlisted free-form answers; every
/// component is complete too.
#[test]
fn every_json_answer_is_typed_down_to_its_leaves() {
    let doc = document();
    let mut bare = Vec::new();
    let mut allowed = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            for (status, r) in op["responses"].as_object().expect("responses") {
                let Some(json) = r["content"].get("application/json") else {
                    continue;
                };
                if FREE_FORM.iter().any(|(p, s, _)| p == path && s == status) {
                    allowed += 1;
                    continue;
                }
                bare.extend(bare_objects(
                    &doc,
                    &json["schema"],
                    &format!("{method} {path} {status}"),
                ));
            }
        }
    }
    assert_eq!(allowed, FREE_FORM.len(), "an allowlisted answer is gone");
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        bare.extend(bare_objects(&doc, schema, name));
    }
    assert!(
        bare.is_empty(),
        "schemas without properties:\n{}",
        bare.join("\n")
    );
    // The check sees what it is for: a bare object inside an answer,
    // behind a `$ref` and an optional, is caught.
    let mut probe = doc.clone();
    probe["components"]["schemas"]["Health"]["properties"]["mediad"] =
        serde_json::json!({"type": "object"});
    let health = serde_json::json!({"$ref": "#/components/schemas/DashboardState"});
    assert!(bare_objects(&probe, &health, "probe").is_empty());
    let health =
        serde_json::json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Health"}]});
    let found = bare_objects(&probe, &health, "probe");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains(".mediad"), "{found:?}");
    assert_eq!(bare_objects(&probe, &serde_json::json!({}), "any").len(), 1);
}

/// The routes whose handlers read a JSON body.
const JSON_BODIES: &[(&str, &str)] = &[
    ("post", "/api/voice/share-session/{token}/frame"),
    ("post", "/api/voice/stream-ingest/frame"),
    ("post", "/api/voice/stream-ingest/frame/"),
    ("post", "/api/voice/screen-watch"),
    ("post", "/api/voice/go-live"),
    ("patch", "/api/settings"),
    ("post", "/api/voice/share-session"),
    ("post", "/api/voice/share-sessions/stop"),
    ("put", "/api/media/voice"),
    ("put", "/api/media/subscriptions/{user_id}"),
];

/// Every documented request body says what it is: a JSON body is a
/// schema with named properties, typed down to its leaves (no
/// `content = Object`), its ids strings; any other body is an image,
/// under its content type. Exactly the routes that read a JSON body
/// document one.
#[test]
fn every_request_body_is_typed_down_to_its_leaves() {
    let doc = document();
    let mut json = std::collections::BTreeSet::new();
    let mut bare = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Some(body) = op.get("requestBody") else {
                continue;
            };
            let content = body["content"].as_object().expect("content");
            assert!(
                !content.is_empty(),
                "{method} {path}: a body without content"
            );
            for (ctype, media) in content {
                let at = format!("{method} {path} request ({ctype})");
                if ctype != "application/json" {
                    assert!(ctype.starts_with("image/"), "{at}: not JSON, not an image");
                    continue;
                }
                json.insert((method.clone(), path.clone()));
                let props = property_schemas(&doc, &media["schema"]);
                assert!(
                    !props.is_empty(),
                    "{at}: no properties: {}",
                    media["schema"]
                );
                for (name, p) in &props {
                    if name.ends_with("Id") {
                        let ty = &resolve(&doc, p)["type"];
                        let string = ty == "string"
                            || ty
                                .as_array()
                                .is_some_and(|t| t.iter().any(|t| t == "string"));
                        assert!(string, "{at}.{name}: an id that is not a string: {p}");
                    }
                }
                bare.extend(bare_objects(&doc, &media["schema"], &at));
            }
        }
    }
    let want: std::collections::BTreeSet<(String, String)> = JSON_BODIES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(json, want);
    assert!(
        bare.is_empty(),
        "request bodies without properties:\n{}",
        bare.join("\n")
    );
    // What the old documents said in words is now in the schemas.
    let op = |m: &str, p: &str| {
        doc["paths"][p][m]["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    let names = |m: &str, p: &str| {
        let mut n = properties(&doc, &op(m, p));
        n.sort();
        n
    };
    assert_eq!(
        names("post", "/api/voice/screen-watch"),
        [
            "action",
            "channelId",
            "guildId",
            "preferredTransport",
            "requesterId",
            "target",
            "textChannelId"
        ]
    );
    assert_eq!(names("post", "/api/voice/go-live"), ["action", "guildId"]);
    assert_eq!(
        names("post", "/api/voice/share-sessions/stop"),
        ["all", "suffix"]
    );
    assert_eq!(
        names("put", "/api/media/voice"),
        [
            "channelId",
            "endpoint",
            "guildId",
            "sessionId",
            "token",
            "userId"
        ]
    );
    assert_eq!(
        names("put", "/api/media/subscriptions/{user_id}"),
        [
            "jpegQuality",
            "maxFps",
            "preferredPixelCount",
            "quality",
            "streamType"
        ]
    );
    assert_eq!(
        names("post", "/api/voice/stream-ingest/frame"),
        [
            "dataBase64",
            "guildId",
            "mimeType",
            "source",
            "streamerUserId"
        ]
    );
    // Strict bodies say so; the patch takes any subset of the settings.
    let sub = resolve(&doc, &op("put", "/api/media/subscriptions/{user_id}")).clone();
    assert_eq!(sub["additionalProperties"], false);
    let patch = resolve(&doc, &op("patch", "/api/settings")).clone();
    assert_eq!(patch["additionalProperties"], false);
    assert!(patch.get("required").is_none(), "{}", patch["required"]);
    let mut keys = properties(&doc, &patch);
    let mut settings = properties(&doc, &doc["components"]["schemas"]["Settings"]);
    keys.sort();
    settings.sort();
    assert_eq!(keys, settings);
    // The check sees a body described in words.
    let words = serde_json::json!({"type": "object"});
    assert_eq!(bare_objects(&doc, &words, "probe").len(), 1);
}

/// The typed answers write the same bytes as the `json!` views they
/// replaced.
#[test]
fn typed_answers_keep_their_bytes() {
    let e = ErrorBody {
        error: "Not found.".into(),
        ok: false,
        reason: "not_found".into(),
    };
    assert_eq!(
        serde_json::to_string(&e).unwrap(),
        serde_json::json!({"ok": false, "error": "Not found.", "reason": "not_found"}).to_string()
    );
    let h = Health {
        status: "degraded",
        uptime_secs: 7,
        mediad: crate::media::MediadConnStatus::default(),
        gateway: None,
        frame_ingest: IngestView {
            admitted: 1,
            refused: 2,
            jpeg_decoded: 3,
            jpeg_decode_cpu_ns: 4,
        },
    };
    let old = serde_json::json!({
        "status": "degraded",
        "uptimeSecs": 7,
        "mediad": crate::media::MediadConnStatus::default(),
        "gateway": Option::<crate::discord::GatewayStatus>::None,
        "frameIngest": {"admitted": 1, "refused": 2, "jpegDecoded": 3, "jpegDecodeCpuNs": 4},
    });
    assert_eq!(
        serde_json::to_value(&h).unwrap().to_string(),
        old.to_string()
    );
    let listing = crate::watch::ShareListing {
        sessions: vec![crate::watch::ShareSessionView {
            suffix: "QrStUvWx".into(),
            guild_id: "1".into(),
            requester_id: "2".into(),
            target_id: "3".into(),
            expires_in_minutes: 14,
            frames_accepted: 5,
        }],
    };
    let old = serde_json::json!({"sessions": [{
        "suffix": "QrStUvWx",
        "guildId": "1",
        "requesterId": "2",
        "targetId": "3",
        "expiresInMinutes": 14,
        "framesAccepted": 5,
    }]});
    assert_eq!(
        serde_json::to_value(&listing).unwrap().to_string(),
        old.to_string()
    );
}
