//! What the Anthropic, Responses and Gemini request loaders share: JSON
//! parsing with positions and the normalized conversation they build.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::{Origin, PathSeg, RequestFormat, Slot};
use crate::tokens::image::{pdf_estimate, pdf_page_tokens};
use crate::tokens::{
    ChatMessage, ChatRequest, FunctionDef, ImageInput, ImageSource, MessageContent, Parameters,
    Tool,
};

use super::chat::Normalized;
use super::load_error::InputError;

/// Parses `text` as JSON into `T` (a shape check) and as a [`Value`],
/// errors with their line and column.
pub(super) fn parse_json<T: DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<(T, Value), InputError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let at = |e: serde_json::Error| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = full
            .strip_suffix(&suffix)
            .map(str::to_string)
            .unwrap_or(full);
        InputError::at_line(path, e.line().max(1), e.column().max(1), message)
    };
    let shape = serde_json::from_str(text).map_err(at)?;
    let value = serde_json::from_str(text).map_err(at)?;
    Ok((shape, value))
}

/// An error at the first occurrence of `"key"` in `text` (or its start).
pub(super) fn error_at_key(path: &Path, text: &str, key: &str, message: &str) -> InputError {
    let offset = text.find(&format!("\"{key}\"")).unwrap_or(0);
    InputError::at(path, text, offset, message)
}

/// A key path segment.
pub(super) fn key(k: &str) -> PathSeg {
    PathSeg::Key(k.to_string())
}

/// A removable text block's slot: `prefix` + `[i, field]`.
pub(super) fn block_slot(prefix: &[PathSeg], i: usize, field: &str) -> Slot {
    let mut path = prefix.to_vec();
    path.push(PathSeg::Index(i));
    path.push(key(field));
    Slot {
        path,
        removable: true,
    }
}

/// A field's slot (emptied, never removed).
pub(super) fn field_slot(path: Vec<PathSeg>) -> Slot {
    Slot {
        path,
        removable: false,
    }
}

/// The normalized conversation under construction.
pub(super) struct Builder {
    pub format: RequestFormat,
    /// `--image-size`.
    pub hint: Option<(u32, u32)>,
    /// The request's model, for OpenAI's image rule of PDF pages.
    pub model: Option<String>,
    pub messages: Vec<ChatMessage>,
    pub origins: Vec<Origin>,
    pub links: Vec<(usize, usize)>,
    pub warnings: Vec<String>,
    pub tools: Vec<Tool>,
}

impl Builder {
    pub fn new(format: RequestFormat, hint: Option<(u32, u32)>, model: Option<String>) -> Self {
        Builder {
            format,
            hint,
            model,
            messages: Vec::new(),
            origins: Vec::new(),
            links: Vec::new(),
            warnings: Vec::new(),
            tools: Vec::new(),
        }
    }

    /// Adds a message at `origin` whose billed text is its slots' texts
    /// joined (read from `value`, the origin's value); returns its index.
    pub fn push(&mut self, mut message: ChatMessage, origin: Origin, value: &Value) -> usize {
        let text: String = origin
            .slots
            .iter()
            .filter_map(|s| crate::engine::chat::get_str(value, &s.path))
            .collect();
        message.content = Some(MessageContent::Text(text));
        self.messages.push(message);
        self.origins.push(origin);
        self.messages.len() - 1
    }

    /// The next message's index.
    pub fn next(&self) -> usize {
        self.messages.len()
    }

    /// An image at `location` of `message`.
    pub fn image(
        &self,
        source: ImageSource<'_>,
        detail: Option<String>,
        location: String,
    ) -> ImageInput {
        ImageInput::new(source, detail, self.hint, location)
    }

    /// The estimated cost of a PDF document (see
    /// [`crate::tokens::image::pdf_estimate`]), with what the estimate is.
    pub fn pdf(&self, base64: Option<&str>, location: &str) -> (usize, String) {
        let rule = self.format.image_rule(self.model.as_deref());
        pdf_estimate(pdf_page_tokens(rule), base64, location)
    }

    /// A function tool.
    pub fn function(&mut self, name: &str, description: Option<&str>, schema: Option<&Value>) {
        let properties = schema
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .cloned();
        self.tools.push(Tool {
            kind: Some("function".into()),
            function: Some(FunctionDef {
                name: name.to_string(),
                description: description.map(str::to_string),
                parameters: Some(Parameters { properties }),
            }),
        });
    }

    /// A tool of another type (counted as not counted, with a note).
    pub fn other_tool(&mut self, kind: &str) {
        self.tools.push(Tool {
            kind: Some(kind.to_string()),
            function: None,
        });
    }

    /// Joins each message that is not a `user` (or system) message to the
    /// one before it, so that the conversation is cut at user turns only:
    /// what is kept starts with a user message and keeps every call with
    /// its result (Anthropic and Gemini).
    pub fn link_turns(&mut self) {
        for k in 1..self.messages.len() {
            let role = self.messages[k].role.as_str();
            let prev = self.messages[k - 1].role.as_str();
            if role != "user" && !is_system(role) && !is_system(prev) {
                self.links.push((k - 1, k));
            }
        }
    }

    /// The finished normalization.
    pub fn finish(
        self,
        group_prefix: &'static str,
        tool_defs: Vec<Value>,
        max_output: Option<u64>,
    ) -> Normalized {
        Normalized {
            format: self.format,
            parsed: ChatRequest {
                model: self.model.clone(),
                messages: self.messages,
                tools: self.tools,
                functions: Vec::new(),
                tool_prompt: 0,
            },
            origins: self.origins,
            links: self.links,
            group_prefix,
            warnings: self.warnings,
            tool_defs,
            max_output,
            model: self.model,
        }
    }
}

fn is_system(role: &str) -> bool {
    matches!(role, "system" | "developer")
}

/// A string field of `value`.
pub(super) fn str_of<'v>(value: &'v Value, k: &str) -> Option<&'v str> {
    value.get(k).and_then(Value::as_str)
}

/// The first of `keys` that `value` has (camelCase or snake_case).
pub(super) fn either<'v>(value: &'v Value, keys: [&str; 2]) -> Option<(&'v Value, String)> {
    keys.iter()
        .find_map(|k| value.get(*k).map(|v| (v, k.to_string())))
}
