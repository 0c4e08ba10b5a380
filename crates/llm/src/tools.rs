//! Checks shared by both HTTP wire mappings of tool calling.

use serde_json::{Value, json};

use crate::error::LlmError;
use crate::types::{Part, Role, ToolCall, ToolSpec};

/// Longest tool name both APIs accept.
const MAX_TOOL_NAME: usize = 64;

/// Checks the offered tools: valid, unique names and object schemas.
pub(crate) fn check_tools(tools: &[ToolSpec]) -> Result<(), LlmError> {
    for (i, tool) in tools.iter().enumerate() {
        check_name(&tool.name)?;
        if tools[..i].iter().any(|t| t.name == tool.name) {
            return Err(LlmError::InvalidRequest(format!(
                "tool {:?} is offered twice",
                tool.name
            )));
        }
        if !tool.input_schema.is_object() {
            return Err(LlmError::InvalidRequest(format!(
                "the input_schema of tool {:?} is not a JSON object",
                tool.name
            )));
        }
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), LlmError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_TOOL_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(LlmError::InvalidRequest(format!(
            "tool name {name:?} is not 1 to {MAX_TOOL_NAME} ASCII letters, digits, '_' or '-'"
        )))
    }
}

/// Checks that `part` may appear in a message of `role`.
pub(crate) fn check_part_role(part: &Part, role: Role) -> Result<(), LlmError> {
    match (part, role) {
        (Part::ToolCall(_), Role::User) => Err(LlmError::InvalidRequest(
            "a tool call can only be part of an assistant message".to_owned(),
        )),
        (Part::ToolResult { .. }, Role::Assistant) => Err(LlmError::InvalidRequest(
            "a tool result can only be part of a user message".to_owned(),
        )),
        _ => Ok(()),
    }
}

/// A tool call to send back: its id and name must be set, and its input is
/// a JSON object (`null` is sent as `{}`).
pub(crate) fn call_input(call: &ToolCall) -> Result<Value, LlmError> {
    if call.id.is_empty() {
        return Err(LlmError::InvalidRequest(format!(
            "tool call of {:?} has an empty id",
            call.name
        )));
    }
    if call.name.is_empty() {
        return Err(LlmError::InvalidRequest(format!(
            "tool call {:?} has an empty name",
            call.id
        )));
    }
    match &call.input {
        Value::Null => Ok(Value::Object(serde_json::Map::new())),
        Value::Object(_) => Ok(call.input.clone()),
        _ => Err(LlmError::InvalidRequest(format!(
            "the input of tool call {:?} is not a JSON object",
            call.id
        ))),
    }
}

/// A tool result's id must be set and its parts be text or images.
pub(crate) fn check_result(call_id: &str, parts: &[Part]) -> Result<(), LlmError> {
    if call_id.is_empty() {
        return Err(LlmError::InvalidRequest(
            "tool result has an empty call_id".to_owned(),
        ));
    }
    if parts
        .iter()
        .any(|p| !matches!(p, Part::Text(_) | Part::Image { .. }))
    {
        return Err(LlmError::InvalidRequest(format!(
            "tool result {call_id:?} may only hold text and image parts"
        )));
    }
    Ok(())
}

/// A tool call's input as received: a JSON object, or `{}` when absent or
/// `null`.
pub(crate) fn received_input(id: &str, input: Option<&Value>) -> Result<Value, String> {
    match input {
        None | Some(Value::Null) => Ok(Value::Object(serde_json::Map::new())),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(_) => Err(format!(
            "tool call {id:?} has an input that is not a JSON object"
        )),
    }
}

/// A tool's wire spec as both APIs start it: `name`, the input schema under
/// `schema_key` (Anthropic `input_schema`, OpenAI `parameters`) and the
/// `description` when there is one.
pub(crate) fn spec(tool: &ToolSpec, schema_key: &str) -> Value {
    let mut spec = json!({ "name": tool.name });
    spec[schema_key] = tool.input_schema.clone();
    if !tool.description.is_empty() {
        spec["description"] = Value::from(tool.description.as_str());
    }
    spec
}

/// Sets `tools` of a request body to each tool's `wire` spec; no key at all
/// when there are none.
pub(crate) fn set_specs(body: &mut Value, tools: &[ToolSpec], wire: impl Fn(&ToolSpec) -> Value) {
    if !tools.is_empty() {
        body["tools"] = Value::Array(tools.iter().map(wire).collect());
    }
}
