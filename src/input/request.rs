//! What the Anthropic, Responses and Gemini request loaders share: JSON
//! parsing with positions, the normalized conversation they build, and the
//! cost of parts whose text is not in the request (PDF pages).

use std::path::Path;

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::{Origin, PathSeg, RequestFormat, Slot};
use crate::tokens::{
    ChatMessage, ChatRequest, FunctionDef, ImageInput, ImageRule, ImageSource, MessageContent,
    Parameters, Tool,
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

    /// The estimated cost of a PDF document: its pages (counted in inline
    /// `base64` data; one page assumed for a link or file id) at
    /// [`pdf_page_tokens`] each, with what the estimate is.
    pub fn pdf(&self, base64: Option<&str>, location: &str) -> (usize, String) {
        let per_page = pdf_page_tokens(self.format, self.model.as_deref());
        match base64.map(pdf_pages) {
            Some(Some(pages)) => (
                pages.saturating_mul(per_page),
                format!(
                    "{location}: a PDF of {pages} page(s), estimated at {per_page} tokens a page"
                ),
            ),
            Some(None) => (
                per_page,
                format!(
                    "{location}: a PDF whose pages could not be read, estimated as one page of {per_page} tokens"
                ),
            ),
            None => (
                per_page,
                format!(
                    "{location}: a linked document whose pages are unknown, estimated as one page of {per_page} tokens"
                ),
            ),
        }
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

/// The estimated tokens of one PDF page: Gemini's documented 258; for
/// Anthropic and OpenAI, which bill a page as its text plus an image of
/// it, 3,000 tokens of text (the top of Anthropic's documented 1,500-3,000
/// a page) plus a letter page's image (1700 x 2200) by the image rule.
pub fn pdf_page_tokens(format: RequestFormat, model: Option<&str>) -> usize {
    match format {
        RequestFormat::Gemini => 258,
        RequestFormat::Anthropic => 3_000 + ImageRule::Anthropic.tokens(1700, 2200, None),
        RequestFormat::Chat | RequestFormat::Responses => {
            3_000 + ImageRule::openai(model).tokens(1700, 2200, None)
        }
    }
}

/// The pages of a PDF given as base64: its `/Type /Page` objects. `None`
/// when the data is not base64 or not a PDF.
pub fn pdf_pages(base64: &str) -> Option<usize> {
    let clean: String = base64
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(clean.as_bytes())
        .ok()?;
    if !bytes.starts_with(b"%PDF") {
        return None;
    }
    let finder = aho_corasick::AhoCorasick::new(["/Type/Page", "/Type /Page"]).ok()?;
    let pages = finder
        .find_iter(&bytes)
        .filter(|m| bytes.get(m.end()) != Some(&b's'))
        .count();
    Some(pages.max(1))
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
