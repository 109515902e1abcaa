//! OpenAI Responses requests (`instructions`, `input`, `tools`,
//! `max_output_tokens`) as item sets, like chat-completions requests
//! ([`super::chat`]): one item per input item (and one for
//! `instructions`, in the `system` section, and for a string `input`).
//!
//! - An item's text: a message's `input_text`/`output_text`/`refusal`
//!   parts (or its string content), a `function_call_output`'s `output`;
//!   a cut keeps the parts it still covers and empties the rest.
//! - `function_call` items are billed as their name and arguments, like a
//!   chat tool call; `input_image` parts by OpenAI's image rule for the
//!   model; `input_file` PDFs by their pages; `reasoning` items as their
//!   summary text; other item types as their JSON.
//! - A `function_call` and its `function_call_output` (by `call_id`) are
//!   kept or dropped together (group `call-m{k}`), with the `reasoning`
//!   item before a call and the calls made in a row.
//! - Counted like a chat-completions request for the model (its framing);
//!   OpenAI does not publish the Responses API's framing, so a note says
//!   the framing is assumed to be the chat one.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::engine::{ItemSet, Origin, PathSeg, RequestFormat, Slot};
use crate::tokens::{ChatMessage, FunctionCall, ImageInput, ToolCall};

use super::load_error::InputError;
use super::request::{self, Builder, block_slot, field_slot, key, str_of};

/// Whether `value` is a Responses request: an `input` (string or array) or
/// `instructions`, and no `messages` or `contents`.
pub fn is_responses_request(value: &Value) -> bool {
    value.get("messages").is_none()
        && value.get("contents").is_none()
        && (value
            .get("input")
            .is_some_and(|i| i.is_string() || i.is_array())
            || value.get("instructions").is_some_and(Value::is_string))
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Shape {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    instructions: Option<String>,
    #[serde(default)]
    input: Option<Input>,
    #[serde(default)]
    tools: Option<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum Input {
    Text(String),
    Items(Vec<serde_json::Map<String, Value>>),
}

/// Loads the Responses request `text` (the content of `path`); linked
/// images are counted at `hint` (`--image-size`) when given.
pub fn parse(path: &Path, text: &str, hint: Option<(u32, u32)>) -> Result<ItemSet, InputError> {
    let (_shape, request): (Shape, Value) = request::parse_json(path, text).map_err(|e| {
        if e.to_string().contains("untagged enum Input") {
            let line = e.line().unwrap_or(1);
            let column = e.column().unwrap_or(1);
            InputError::at_line(
                path,
                line,
                column,
                "expected `input` to be a string or an array of input items (objects)",
            )
        } else {
            e
        }
    })?;
    let model = str_of(&request, "model").map(str::to_string);
    let mut b = Builder::new(RequestFormat::Responses, hint, model.clone());

    if request.get("instructions").is_some_and(Value::is_string) {
        let origin = Origin {
            key: "instructions".into(),
            index: None,
            slots: vec![field_slot(Vec::new())],
        };
        b.push(
            ChatMessage::new("developer", None),
            origin,
            &request["instructions"],
        );
    }
    match request.get("input") {
        Some(Value::String(_)) => {
            let origin = Origin {
                key: "input".into(),
                index: None,
                slots: vec![field_slot(Vec::new())],
            };
            b.push(ChatMessage::new("user", None), origin, &request["input"]);
        }
        Some(Value::Array(items)) => items_of(&mut b, items),
        _ => {}
    }
    if b.messages.is_empty() {
        return Err(request::error_at_key(
            path,
            text,
            "input",
            "expected a Responses request with `input` (a string or at least one item) or `instructions`",
        ));
    }

    let tool_defs: Vec<Value> = request
        .get("tools")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for tool in &tool_defs {
        match (str_of(tool, "type"), str_of(tool, "name")) {
            (Some("function") | None, Some(name)) => {
                b.function(name, str_of(tool, "description"), tool.get("parameters"))
            }
            (Some(kind), _) => b.other_tool(kind),
            (None, None) => b.other_tool("(none)"),
        }
    }
    let max_output = request.get("max_output_tokens").and_then(Value::as_u64);
    for (key, what) in [
        (
            "previous_response_id",
            "the earlier response's turns, stored by the API",
        ),
        ("conversation", "the conversation's stored items"),
        ("prompt", "the stored prompt template"),
    ] {
        if request.get(key).is_some_and(|v| !v.is_null()) {
            b.warnings.push(format!(
                "`{key}`: {what} are billed with this request but are not in it, so they are not counted"
            ));
        }
    }
    let mut normalized = b.finish("call", tool_defs, max_output);
    normalized.warnings.push(
        "the Responses API's framing is not published: messages are framed like chat-completions messages".into(),
    );
    Ok(super::chat::build(path, request, normalized))
}

/// The items of an `input` array.
fn items_of(b: &mut Builder, items: &[Value]) {
    let mut calls: Vec<(String, usize)> = Vec::new();
    for (j, item) in items.iter().enumerate() {
        let k = b.next();
        let kind = str_of(item, "type").unwrap_or(if item.get("role").is_some() {
            "message"
        } else {
            ""
        });
        let where_ = format!("input item {j}");
        let mut slots: Vec<Slot> = Vec::new();
        let mut message;
        match kind {
            "message" => {
                message = ChatMessage::new(str_of(item, "role").unwrap_or("user"), None);
                match item.get("content") {
                    Some(Value::String(_)) => slots.push(field_slot(vec![key("content")])),
                    Some(Value::Array(parts)) => {
                        slots = parts_of(b, &mut message, parts, &[key("content")], &where_)
                    }
                    _ => {}
                }
            }
            "function_call" | "custom_tool_call" => {
                message = ChatMessage::new("assistant", None);
                let args = match item.get("arguments").or_else(|| item.get("input")) {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                let id = str_of(item, "call_id").map(str::to_string);
                message.tool_calls.push(ToolCall {
                    id: id.clone(),
                    kind: Some("function".into()),
                    function: Some(FunctionCall {
                        name: str_of(item, "name").unwrap_or("").to_string(),
                        arguments: args,
                    }),
                });
                // Calls made in a row, and the reasoning before them, go
                // together.
                if let Some(prev) = k.checked_sub(1)
                    && let Some(p) = items.get(j.wrapping_sub(1))
                    && matches!(
                        str_of(p, "type"),
                        Some("function_call" | "custom_tool_call" | "reasoning")
                    )
                {
                    b.links.push((prev, k));
                }
                if let Some(id) = id {
                    calls.push((id, k));
                }
            }
            "function_call_output" | "custom_tool_call_output" => {
                message = ChatMessage::new("tool", None);
                let id = str_of(item, "call_id").unwrap_or("");
                message.tool_call_id = Some(id.to_string());
                match item.get("output") {
                    Some(Value::String(_)) => slots.push(field_slot(vec![key("output")])),
                    Some(Value::Array(parts)) => {
                        slots = parts_of(b, &mut message, parts, &[key("output")], &where_)
                    }
                    Some(other) => message.hidden.push(other.to_string()),
                    None => {}
                }
                match calls.iter().find(|(c, _)| c == id) {
                    Some(&(_, at)) => b.links.push((at, k)),
                    None => b.warnings.push(format!(
                        "{where_} answers call `{id}`, which no earlier function_call makes; the API refuses such a request"
                    )),
                }
            }
            "reasoning" => {
                message = ChatMessage::new("assistant", None);
                for s in item
                    .get("summary")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(t) = str_of(s, "text") {
                        message.hidden.push(t.to_string());
                    }
                }
                if item.get("encrypted_content").is_some() {
                    message
                        .estimated
                        .push((0, format!("{where_}: encrypted reasoning is not counted")));
                }
            }
            other => {
                let role = if other.ends_with("_output") {
                    "tool"
                } else {
                    "assistant"
                };
                message = ChatMessage::new(role, None);
                message.hidden.push(item.to_string());
                let what = if other.is_empty() { "(no type)" } else { other };
                message.estimated.push((
                    0,
                    format!("{where_}: an item of type `{what}` is counted as its JSON"),
                ));
            }
        }
        let origin = Origin {
            key: "input".into(),
            index: Some(j),
            slots,
        };
        b.push(message, origin, item);
    }
}

/// The slots of content `parts` (at `prefix`), adding images and files to
/// `message`.
fn parts_of(
    b: &mut Builder,
    message: &mut ChatMessage,
    parts: &[Value],
    prefix: &[PathSeg],
    where_: &str,
) -> Vec<Slot> {
    let mut slots = Vec::new();
    let mut images = 0;
    for (i, part) in parts.iter().enumerate() {
        match str_of(part, "type").unwrap_or("") {
            "input_text" | "output_text" | "text" => {
                if part.get("text").is_some_and(Value::is_string) {
                    slots.push(block_slot(prefix, i, "text"));
                }
            }
            "refusal" => {
                if part.get("refusal").is_some_and(Value::is_string) {
                    slots.push(block_slot(prefix, i, "refusal"));
                }
            }
            "input_image" => {
                images += 1;
                let location = format!("{where_}, image {images}");
                let detail = str_of(part, "detail").map(str::to_string);
                let image = match str_of(part, "image_url") {
                    Some(url) => ImageInput::from_url(url, detail, b.hint, location),
                    None => b.image(
                        crate::tokens::ImageSource::Reference("an uploaded file"),
                        detail,
                        location,
                    ),
                };
                message.images.push(image);
            }
            "input_file" => {
                let location = format!("{where_}, file {i}");
                let data = str_of(part, "file_data")
                    .map(|d| crate::tokens::image::data_url_payload(d).unwrap_or(d));
                message.estimated.push(b.pdf(data, &location));
            }
            other => {
                message.hidden.push(part.to_string());
                message.estimated.push((
                    0,
                    format!("{where_}: a `{other}` part is counted as its JSON"),
                ));
            }
        }
    }
    slots
}
