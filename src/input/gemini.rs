//! Gemini `generateContent` requests (`contents`, `systemInstruction`,
//! `tools`, `generationConfig.maxOutputTokens`; the snake_case spellings
//! too) as item sets, like chat-completions requests ([`super::chat`]): one
//! item per content (turn), one for the system instruction.
//!
//! - A turn's text is its `text` parts (not `thought` ones) and the string
//!   values of its `functionResponse` responses, joined; a cut keeps the
//!   parts it still covers and empties the rest.
//! - `inlineData` images are billed by Gemini's rule
//!   ([`crate::tokens::ImageRule::Gemini`]) from their header, `fileData`
//!   images at `--image-size` or the assumed size; PDFs at 258 tokens a
//!   page; `functionCall` parts as their name and args JSON; thought,
//!   code and other parts as their text or JSON.
//! - Role `model` is shown as `assistant`; a `user` (or `function`) turn
//!   of `functionResponse` parts only as `tool`. The conversation is cut at
//!   user turns only (group `turn-m{k}`), so a trimmed request starts with a
//!   user turn and keeps every function call with its response.
//! - The request body names no model (it is in the URL): give `--model`.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::engine::{ItemSet, Origin, PathSeg, RequestFormat, Slot};
use crate::tokens::{ChatMessage, FunctionCall, ImageSource, ToolCall};

use super::load_error::InputError;
use super::request::{self, Builder, block_slot, either, field_slot, key, str_of};

/// Whether `value` is a Gemini request: a `contents` array.
pub fn is_gemini_request(value: &Value) -> bool {
    value.get("contents").is_some_and(Value::is_array)
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Shape {
    contents: Vec<ContentShape>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct ContentShape {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    parts: Vec<serde_json::Map<String, Value>>,
}

/// Loads the Gemini request `text` (the content of `path`); linked images
/// are counted at `hint` (`--image-size`) when given.
pub fn parse(path: &Path, text: &str, hint: Option<(u32, u32)>) -> Result<ItemSet, InputError> {
    let (shape, request): (Shape, Value) = request::parse_json(path, text)?;
    if shape.contents.is_empty() {
        return Err(request::error_at_key(
            path,
            text,
            "contents",
            "expected at least one content in `contents`",
        ));
    }
    let model = str_of(&request, "model").map(|m| m.trim_start_matches("models/").to_string());
    let mut b = Builder::new(RequestFormat::Gemini, hint, model);

    if let Some((system, name)) = either(&request, ["systemInstruction", "system_instruction"]) {
        let mut message = ChatMessage::new("system", None);
        let slots = match system {
            Value::String(_) => vec![field_slot(Vec::new())],
            _ => match system.get("parts") {
                Some(Value::Array(parts)) => parts_of(
                    &mut b,
                    &mut message,
                    parts,
                    &[key("parts")],
                    "the system instruction",
                ),
                _ => Vec::new(),
            },
        };
        let origin = Origin {
            key: name,
            index: None,
            slots,
        };
        b.push(message, origin, system);
    }

    let contents = request["contents"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut open = 0usize;
    for (j, content) in contents.iter().enumerate() {
        let where_ = format!("content {j}");
        let role = match str_of(content, "role").unwrap_or("user") {
            "model" => "assistant",
            "function" => "tool",
            other => other,
        };
        let mut message = ChatMessage::new(role, None);
        let parts = content.get("parts").and_then(Value::as_array);
        let slots = match parts {
            Some(parts) => parts_of(&mut b, &mut message, parts, &[key("parts")], &where_),
            None => Vec::new(),
        };
        let responses = parts
            .into_iter()
            .flatten()
            .filter(|p| either(p, ["functionResponse", "function_response"]).is_some())
            .count();
        if responses > 0 && parts.is_some_and(|p| p.len() == responses) {
            message.role = "tool".into();
        }
        if responses > 0 && open == 0 {
            b.warnings.push(format!(
                "{where_} answers a function call that the turn before it does not make; the API refuses such a request"
            ));
        }
        open = message.tool_calls.len();
        let origin = Origin {
            key: "contents".into(),
            index: Some(j),
            slots,
        };
        let mixed = responses > 0 && message.role == "user";
        let at = b.push(message, origin, content);
        if mixed && at > 0 {
            // Function responses beside other parts: still the answer to
            // the turn before, kept or cut with it.
            b.links.push((at - 1, at));
        }
    }
    if b.messages
        .iter()
        .find(|m| m.role != "system")
        .is_some_and(|m| m.role == "assistant")
    {
        b.warnings.push(
            "the first content is not a user turn; the API expects the conversation to start with one".into(),
        );
    }
    b.link_turns();

    let tool_defs: Vec<Value> = request
        .get("tools")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for tool in &tool_defs {
        match either(tool, ["functionDeclarations", "function_declarations"]) {
            Some((Value::Array(decls), _)) => {
                for d in decls {
                    let schema = d
                        .get("parameters")
                        .or_else(|| d.get("parametersJsonSchema"))
                        .or_else(|| d.get("parameters_json_schema"));
                    b.function(
                        str_of(d, "name").unwrap_or(""),
                        str_of(d, "description"),
                        schema,
                    );
                }
            }
            _ => {
                let kind = tool
                    .as_object()
                    .and_then(|o| o.keys().next().cloned())
                    .unwrap_or_else(|| "(none)".into());
                b.other_tool(&kind);
            }
        }
    }
    let max_output = either(&request, ["generationConfig", "generation_config"])
        .and_then(|(c, _)| either(c, ["maxOutputTokens", "max_output_tokens"]))
        .and_then(|(m, _)| m.as_u64());
    let normalized = b.finish("turn", tool_defs, max_output);
    Ok(super::chat::build(path, request, normalized))
}

/// The slots of `parts` (at `prefix`), adding images, calls and other parts
/// to `message`.
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
        let mut at = prefix.to_vec();
        at.push(PathSeg::Index(i));
        if part.get("text").is_some_and(Value::is_string) {
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                message
                    .hidden
                    .push(str_of(part, "text").unwrap_or("").to_string());
            } else {
                slots.push(block_slot(prefix, i, "text"));
            }
        } else if let Some((data, _)) = either(part, ["inlineData", "inline_data"]) {
            let mime = either(data, ["mimeType", "mime_type"])
                .and_then(|(m, _)| m.as_str())
                .unwrap_or("");
            let bytes = str_of(data, "data").unwrap_or("");
            if mime == "application/pdf" {
                message
                    .estimated
                    .push(b.pdf(Some(bytes), &format!("{where_}, part {i}")));
            } else if mime.starts_with("image/") || mime.is_empty() {
                images += 1;
                let location = format!("{where_}, image {images}");
                message
                    .images
                    .push(b.image(ImageSource::Base64(bytes), None, location));
            } else {
                message.estimated.push((
                    0,
                    format!("{where_}, part {i}: inline `{mime}` data is not counted (only images and PDFs are)"),
                ));
            }
        } else if let Some((file, _)) = either(part, ["fileData", "file_data"]) {
            let mime = either(file, ["mimeType", "mime_type"])
                .and_then(|(m, _)| m.as_str())
                .unwrap_or("");
            if mime == "application/pdf" {
                message
                    .estimated
                    .push(b.pdf(None, &format!("{where_}, part {i}")));
            } else if mime.starts_with("image/") || mime.is_empty() {
                images += 1;
                let location = format!("{where_}, image {images}");
                let image = b.image(ImageSource::Reference("a linked file"), None, location);
                message.images.push(image);
            } else {
                message.estimated.push((
                    0,
                    format!("{where_}, part {i}: a linked `{mime}` file is not counted (only images and PDFs are)"),
                ));
            }
        } else if let Some((call, _)) = either(part, ["functionCall", "function_call"]) {
            let name = str_of(call, "name").unwrap_or("").to_string();
            message.tool_calls.push(ToolCall {
                id: str_of(call, "id")
                    .map(str::to_string)
                    .or_else(|| Some(name.clone())),
                kind: Some("function".into()),
                function: Some(FunctionCall {
                    name,
                    arguments: call.get("args").map(Value::to_string).unwrap_or_default(),
                }),
            });
        } else if let Some((response, field)) =
            either(part, ["functionResponse", "function_response"])
        {
            if let Some(name) = str_of(response, "name") {
                message.hidden.push(name.to_string());
            }
            if let Some(body) = response.get("response") {
                let mut path = at.clone();
                path.extend([key(&field), key("response")]);
                string_leaves(body, &mut path, &mut slots, message);
            }
        } else {
            message.hidden.push(part.to_string());
            message.estimated.push((
                0,
                format!("{where_}, part {i}: a part of this kind is counted as its JSON"),
            ));
        }
    }
    slots
}

/// The string values under `value` (at `path`) as field slots, in order;
/// object keys and other scalars are counted as hidden text.
fn string_leaves(
    value: &Value,
    path: &mut Vec<PathSeg>,
    slots: &mut Vec<Slot>,
    message: &mut ChatMessage,
) {
    match value {
        Value::String(_) => slots.push(field_slot(path.clone())),
        Value::Object(map) => {
            for (k, v) in map {
                message.hidden.push(k.clone());
                path.push(key(k));
                string_leaves(v, path, slots, message);
                path.pop();
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                path.push(PathSeg::Index(i));
                string_leaves(v, path, slots, message);
                path.pop();
            }
        }
        other => message.hidden.push(other.to_string()),
    }
}
