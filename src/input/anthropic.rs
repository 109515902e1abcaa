//! Anthropic Messages requests (`system`, `messages`, `tools`,
//! `max_tokens`) as item sets, like chat-completions requests
//! ([`super::chat`]): one item per message (and one for `system`), the same
//! sections, and the request written back trimmed.
//!
//! - A message's text is its `text` blocks, the content of its
//!   `tool_result` blocks and the text of its text documents, joined; a cut
//!   keeps the blocks it still covers and empties the rest.
//! - Images (`source` of type `base64`, `url` or `file`) are billed by
//!   Anthropic's rule ([`crate::tokens::ImageRule::Anthropic`]); a PDF
//!   document by its pages (3,000 tokens of text and a page image each);
//!   `tool_use` blocks as their name and input JSON; `thinking` blocks as
//!   their text (never changed); blocks of other types as their JSON.
//! - A user message of `tool_result` blocks only is shown with the role
//!   `tool`; one with other blocks beside its results stays `user` but is
//!   kept with the message it answers. The conversation is cut at user turns only: each assistant
//!   message and tool result is kept with the messages before it up to a
//!   user message (group `turn-m{k}`), so a trimmed request still starts
//!   with a user message, alternates, and answers every `tool_use`.
//! - The tools item costs the definitions plus the tool-use system prompt
//!   Anthropic adds ([`tool_prompt_tokens`]).
//! - Counted with the Claude estimate of the model and its band; the items'
//!   texts and [`crate::engine::ChatLayout::request`] are what a
//!   count_tokens call needs ([`count_tokens_body`] makes its body).

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::Value;

use crate::engine::{ItemSet, Origin, PathSeg, RequestFormat};
use crate::tokens::{ChatMessage, FunctionCall, ImageSource, ToolCall};

use super::load_error::InputError;
use super::request::{self, Builder, block_slot, field_slot, key, str_of};

/// Whether `value` is an Anthropic Messages request rather than a
/// chat-completions one: a `messages` array and a top-level field only
/// Anthropic has (`system`, `stop_sequences`, `top_k`, `thinking`,
/// `anthropic_version`); else, when no message has what only chat
/// completions have (a `system`, `developer` or `tool` role, `tool_calls`),
/// a `claude…` model or content blocks only Anthropic has (`tool_use`,
/// `tool_result`, `thinking`, `document`, an `image` with a `source`).
pub fn is_anthropic_request(value: &Value) -> bool {
    let Some(messages) = value.get("messages").and_then(Value::as_array) else {
        return false;
    };
    if [
        "system",
        "stop_sequences",
        "top_k",
        "thinking",
        "anthropic_version",
    ]
    .iter()
    .any(|k| value.get(*k).is_some())
    {
        return true;
    }
    // What only chat completions have: system, developer and tool roles,
    // tool calls.
    let chat_only = messages.iter().any(|m| {
        matches!(
            str_of(m, "role"),
            Some("system" | "developer" | "tool" | "function")
        ) || m.get("tool_calls").is_some()
    });
    if chat_only {
        return false;
    }
    // A plain conversation for a Claude model (not through a router, whose
    // names have a `/`).
    if str_of(value, "model").is_some_and(|m| m.starts_with("claude") && !m.contains('/')) {
        return true;
    }
    messages.iter().any(|m| {
        m.get("content")
            .and_then(Value::as_array)
            .is_some_and(|blocks| {
                blocks.iter().any(|b| {
                    matches!(
                        str_of(b, "type"),
                        Some(
                            "tool_use"
                                | "tool_result"
                                | "thinking"
                                | "redacted_thinking"
                                | "document"
                        )
                    ) || (str_of(b, "type") == Some("image") && b.get("source").is_some())
                })
            })
    })
}

#[derive(Deserialize)]
struct Shape {
    #[serde(default)]
    #[allow(dead_code)]
    model: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    system: Option<Content>,
    messages: Vec<MessageShape>,
    #[serde(default)]
    #[allow(dead_code)]
    tools: Option<Vec<ToolShape>>,
}

#[derive(Deserialize)]
struct MessageShape {
    #[allow(dead_code)]
    role: String,
    #[allow(dead_code)]
    content: Content,
}

#[derive(Deserialize)]
struct ToolShape {
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct BlockShape {
    #[serde(rename = "type")]
    #[allow(dead_code)]
    kind: String,
}

/// A string or an array of blocks that each have a `type`.
struct Content;

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Content;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of content blocks")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Content, E> {
                Ok(Content)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
                while seq.next_element::<BlockShape>()?.is_some() {}
                Ok(Content)
            }
        }
        d.deserialize_any(V)
    }
}

/// Loads the Anthropic request `text` (the content of `path`); linked
/// images are counted at `hint` (`--image-size`) when given.
pub fn parse(path: &Path, text: &str, hint: Option<(u32, u32)>) -> Result<ItemSet, InputError> {
    let (shape, request): (Shape, Value) = request::parse_json(path, text)?;
    if shape.messages.is_empty() {
        return Err(request::error_at_key(
            path,
            text,
            "messages",
            "expected at least one message in `messages`",
        ));
    }
    let model = str_of(&request, "model").map(str::to_string);
    let mut b = Builder::new(RequestFormat::Anthropic, hint, model);

    match request.get("system") {
        Some(Value::String(_)) => {
            let origin = Origin {
                key: "system".into(),
                index: None,
                slots: vec![field_slot(Vec::new())],
            };
            b.push(ChatMessage::new("system", None), origin, &request["system"]);
        }
        Some(Value::Array(blocks)) => {
            let mut message = ChatMessage::new("system", None);
            let slots = blocks_of(&mut b, &mut message, blocks, &[], "system");
            let origin = Origin {
                key: "system".into(),
                index: None,
                slots,
            };
            b.push(message, origin, &request["system"]);
        }
        _ => {}
    }

    let messages = request["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut open_calls: Vec<(String, usize)> = Vec::new();
    for (j, m) in messages.iter().enumerate() {
        let k = b.next();
        let role = str_of(m, "role").unwrap_or("user").to_string();
        let mut message = ChatMessage::new(role.clone(), None);
        let slots = match m.get("content") {
            Some(Value::Array(blocks)) => {
                let where_ = format!("message {j}");
                blocks_of(&mut b, &mut message, blocks, &[key("content")], &where_)
            }
            _ => vec![field_slot(vec![key("content")])],
        };
        let blocks = m.get("content").and_then(Value::as_array);
        let results: Vec<&str> = blocks
            .into_iter()
            .flatten()
            .filter(|b| str_of(b, "type") == Some("tool_result"))
            .filter_map(|b| str_of(b, "tool_use_id"))
            .collect();
        if role == "user" && blocks.is_some_and(|bl| !bl.is_empty() && bl.len() == results.len()) {
            message.role = "tool".into();
        }
        for id in &results {
            match open_calls.iter().position(|(c, _)| c == id) {
                Some(at) => {
                    open_calls.remove(at);
                }
                None => b.warnings.push(format!(
                    "message {j} answers tool_use `{id}`, which the message before it does not make; the API refuses such a request"
                )),
            }
        }
        if !open_calls.is_empty() && role == "assistant" {
            b.warnings.push(format!(
                "message {j}: tool_use `{}` has no tool_result in the next message; the API refuses such a request",
                open_calls[0].0
            ));
            open_calls.clear();
        }
        open_calls.extend(
            message
                .tool_calls
                .iter()
                .filter_map(|c| c.id.clone().map(|id| (id, k))),
        );
        let origin = Origin {
            key: "messages".into(),
            index: Some(j),
            slots,
        };
        let mixed = !results.is_empty() && message.role == "user";
        let at = b.push(message, origin, m);
        if mixed && at > 0 {
            // Tool results beside other blocks (an image, text): still the
            // answer to the message before, kept or cut with it.
            b.links.push((at - 1, at));
        }
    }
    if b.messages
        .iter()
        .find(|m| m.role != "system")
        .is_some_and(|m| m.role == "assistant")
    {
        b.warnings.push(
            "the first message is not a user message; the API expects the conversation to start with one".into(),
        );
    }
    b.link_turns();

    let tool_defs: Vec<Value> = request
        .get("tools")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for tool in &tool_defs {
        let kind = str_of(tool, "type");
        match (kind, str_of(tool, "name")) {
            (None | Some("custom"), Some(name)) => {
                b.function(name, str_of(tool, "description"), tool.get("input_schema"))
            }
            (Some(kind), _) => b.other_tool(kind),
            (None, None) => b.other_tool("(none)"),
        }
    }
    let max_output = request.get("max_tokens").and_then(Value::as_u64);
    let choice = request
        .get("tool_choice")
        .and_then(|c| str_of(c, "type"))
        .unwrap_or("auto");
    let tool_prompt = tool_prompt_tokens(b.model.as_deref(), choice);
    if request.get("mcp_servers").is_some_and(|v| !v.is_null()) {
        b.warnings.push(
            "`mcp_servers`: the tools of MCP servers are billed but are not in the request, so they are not counted".into(),
        );
    }
    let mut normalized = b.finish("turn", tool_defs, max_output);
    normalized.parsed.tool_prompt = tool_prompt;
    Ok(super::chat::build(path, request, normalized))
}

/// The fields Anthropic's count_tokens endpoint takes.
const COUNT_TOKENS_FIELDS: [&str; 7] = [
    "model",
    "system",
    "messages",
    "tools",
    "tool_choice",
    "thinking",
    "mcp_servers",
];

/// The body of a count_tokens call for `request`, an Anthropic Messages
/// request (such as the trimmed one a plan renders, or
/// [`crate::engine::ChatLayout::request`]): its fields that endpoint takes,
/// in their order (`max_tokens`, `temperature`, `stream`, ... left out).
///
/// ```
/// use serde_json::json;
/// let body = tokenscope::input::anthropic::count_tokens_body(&json!({
///     "model": "claude-sonnet-4-5", "max_tokens": 10, "system": "x",
///     "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5
/// }));
/// assert_eq!(body, json!({"model": "claude-sonnet-4-5", "system": "x",
///     "messages": [{"role": "user", "content": "hi"}]}));
/// ```
pub fn count_tokens_body(request: &Value) -> Value {
    match request {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| COUNT_TOKENS_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The tokens of the system prompt Anthropic adds to a request with tools,
/// by model and `tool_choice` type, from Anthropic's pricing page ("Tool
/// use pricing"): 346 (`auto`, `none`) or 313 (`any`, `tool`) for Claude 4
/// and 3.7 models (and, assumed, models not listed); Claude 3.5 Haiku and 3
/// Haiku 264 or 340; Claude 3 Opus 530 or 281; Claude 3 Sonnet 159 or 235.
pub fn tool_prompt_tokens(model: Option<&str>, tool_choice: &str) -> usize {
    let forced = matches!(tool_choice, "any" | "tool");
    let m = model.unwrap_or("").to_ascii_lowercase();
    let (auto, any) = if m.contains("claude-3-5-haiku") || m.contains("claude-3-haiku") {
        (264, 340)
    } else if m.contains("claude-3-opus") {
        (530, 281)
    } else if m.contains("claude-3-sonnet") {
        (159, 235)
    } else {
        (346, 313)
    };
    if forced { any } else { auto }
}

/// The slots of `blocks` (at `prefix` in the message's value), adding their
/// images, calls and other billed parts to `message`.
fn blocks_of(
    b: &mut Builder,
    message: &mut ChatMessage,
    blocks: &[Value],
    prefix: &[PathSeg],
    where_: &str,
) -> Vec<crate::engine::Slot> {
    let mut slots = Vec::new();
    let mut images = 0;
    for (i, block) in blocks.iter().enumerate() {
        let mut at = prefix.to_vec();
        at.push(PathSeg::Index(i));
        match str_of(block, "type").unwrap_or("") {
            "text" => {
                if block.get("text").is_some_and(Value::is_string) {
                    slots.push(block_slot(prefix, i, "text"));
                }
            }
            "image" => {
                images += 1;
                let location = format!("{where_}, image {images}");
                let image = image_of(b, block.get("source"), location);
                message.images.push(image);
            }
            "document" => {
                let source = block.get("source");
                for k in ["title", "context"] {
                    if let Some(t) = str_of(block, k) {
                        message.hidden.push(t.to_string());
                    }
                }
                match source.and_then(|s| str_of(s, "type")) {
                    Some("text") => {
                        let mut path = at.clone();
                        path.extend([key("source"), key("data")]);
                        slots.push(field_slot(path));
                    }
                    Some("content") => {
                        if let Some(Value::Array(inner)) = source.and_then(|s| s.get("content")) {
                            let mut p = at.clone();
                            p.extend([key("source"), key("content")]);
                            slots.extend(blocks_of(b, message, inner, &p, where_));
                        }
                    }
                    Some("base64") => {
                        let location = format!("{where_}, document {i}");
                        let data = source.and_then(|s| str_of(s, "data"));
                        message
                            .estimated
                            .push(b.pdf(Some(data.unwrap_or("")), &location));
                    }
                    _ => {
                        let location = format!("{where_}, document {i}");
                        message.estimated.push(b.pdf(None, &location));
                    }
                }
            }
            "tool_use" | "server_tool_use" => {
                let input = block.get("input").map(Value::to_string).unwrap_or_default();
                message.tool_calls.push(ToolCall {
                    id: str_of(block, "id").map(str::to_string),
                    kind: Some("function".into()),
                    function: Some(FunctionCall {
                        name: str_of(block, "name").unwrap_or("").to_string(),
                        arguments: input,
                    }),
                });
            }
            "tool_result" => match block.get("content") {
                Some(Value::String(_)) => {
                    let mut path = at.clone();
                    path.push(key("content"));
                    slots.push(field_slot(path));
                }
                Some(Value::Array(inner)) => {
                    let mut p = at.clone();
                    p.push(key("content"));
                    slots.extend(blocks_of(b, message, inner, &p, where_));
                }
                _ => {}
            },
            "thinking" => {
                if let Some(t) = str_of(block, "thinking") {
                    message.hidden.push(t.to_string());
                }
            }
            "redacted_thinking" => message.estimated.push((
                0,
                format!("{where_}: redacted thinking is encrypted and not counted"),
            )),
            other => {
                message.hidden.push(block.to_string());
                message.estimated.push((
                    0,
                    format!("{where_}: a `{other}` block is counted as its JSON"),
                ));
            }
        }
    }
    slots
}

/// An image block's `source`.
fn image_of(b: &Builder, source: Option<&Value>, location: String) -> crate::tokens::ImageInput {
    let source = match source.and_then(|s| str_of(s, "type")) {
        Some("base64") => ImageSource::Base64(source.and_then(|s| str_of(s, "data")).unwrap_or("")),
        Some("url") => ImageSource::Reference("a linked image"),
        Some("file") => ImageSource::Reference("an uploaded file"),
        _ => ImageSource::Reference("an image without a readable source"),
    };
    b.image(source, None, location)
}
