//! Chat requests counted the way the chat-completions API bills
//! `usage.prompt_tokens`.
//!
//! The rules follow OpenAI's cookbook notebook "How to count tokens with
//! tiktoken", whose figures are checked against the API:
//!
//! - every message costs `tokens_per_message` plus the tokens of its `role`
//!   and of its content; a `name` costs its tokens plus `tokens_per_name`;
//! - the reply is primed with `reply_priming` tokens, once per request;
//! - each function in `tools` costs `function_init` plus the tokens of
//!   `name:description` (a trailing period dropped); a function with
//!   parameter properties adds `properties_init`, and each property adds
//!   `property_key` plus the tokens of `key:type:description`; a property
//!   with an `enum` adds `enum_init` and, per value, `enum_item` plus the
//!   value's tokens; `functions_end` is added once when there are tools.
//!
//! What the cookbook does not cover is counted as follows, and the count is
//! then marked approximate ([`ChatCount::exact`] is false, with a note):
//!
//! - assistant `tool_calls` (and the legacy `function_call`): the tokens of
//!   each call's function name and of its `arguments` text, counted with the
//!   message (the call `id` is not shown to the model and is not counted);
//! - `tool` (and legacy `function`) messages: framed like any other message;
//!   `tool_call_id` is not counted;
//! - content given as an array of parts: the `text` (and `refusal`) parts are
//!   billed as their concatenated text, exactly; `image_url` parts are
//!   billed by the image rule ([`super::image`]: the size read from inline
//!   data, or assumed for a link, with a note); `file` parts (PDFs) are
//!   estimated by their pages, with a note; audio parts are not counted,
//!   since their cost depends on data the request does not describe;
//! - tools of a type other than `function` are not counted; property types
//!   other than a single type name, nested object properties and missing
//!   descriptions are counted by the same formula with the text available;
//! - a tokenizer with no known chat framing (models other than OpenAI's):
//!   only the text is counted, message contents and names plus each tool
//!   definition's compact JSON, with no framing.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::image::{ImageInput, ImageRule};
use super::{CountCache, Encoding, Tokenizer};

/// The constants of a model's chat framing: what a request costs beyond the
/// text of its messages. See the [module docs](self) for how each is used.
///
/// The tool constants default to [`ChatFraming::OPENAI_O200K`]'s values when
/// a user models file leaves them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatFraming {
    /// Tokens added for every message.
    pub tokens_per_message: i64,
    /// Tokens added when a message has a `name` (may be negative).
    pub tokens_per_name: i64,
    /// Tokens added once: the reply is primed with the assistant header.
    pub reply_priming: i64,
    /// Tokens added per function definition.
    #[serde(default = "defaults::function_init")]
    pub function_init: i64,
    /// Tokens added per function that has parameter properties.
    #[serde(default = "defaults::properties_init")]
    pub properties_init: i64,
    /// Tokens added per parameter property.
    #[serde(default = "defaults::property_key")]
    pub property_key: i64,
    /// Tokens added per property with an `enum` list (may be negative).
    #[serde(default = "defaults::enum_init")]
    pub enum_init: i64,
    /// Tokens added per `enum` value.
    #[serde(default = "defaults::enum_item")]
    pub enum_item: i64,
    /// Tokens added once when the request has any tools.
    #[serde(default = "defaults::functions_end")]
    pub functions_end: i64,
}

mod defaults {
    use super::ChatFraming;

    pub fn function_init() -> i64 {
        ChatFraming::OPENAI_O200K.function_init
    }
    pub fn properties_init() -> i64 {
        ChatFraming::OPENAI_O200K.properties_init
    }
    pub fn property_key() -> i64 {
        ChatFraming::OPENAI_O200K.property_key
    }
    pub fn enum_init() -> i64 {
        ChatFraming::OPENAI_O200K.enum_init
    }
    pub fn enum_item() -> i64 {
        ChatFraming::OPENAI_O200K.enum_item
    }
    pub fn functions_end() -> i64 {
        ChatFraming::OPENAI_O200K.functions_end
    }
}

impl ChatFraming {
    /// gpt-4o and gpt-4o-mini (and, assumed, the newer `o200k_base` models).
    pub const OPENAI_O200K: ChatFraming = ChatFraming {
        tokens_per_message: 3,
        tokens_per_name: 1,
        reply_priming: 3,
        function_init: 7,
        properties_init: 3,
        property_key: 3,
        enum_init: -3,
        enum_item: 3,
        functions_end: 12,
    };

    /// gpt-4, gpt-4-turbo and gpt-3.5-turbo (0125 and later).
    pub const OPENAI_CL100K: ChatFraming = ChatFraming {
        function_init: 10,
        ..ChatFraming::OPENAI_O200K
    };

    /// The framing of OpenAI's chat models on an encoding, for counting a
    /// request with `--encoding` rather than a model: `o200k_base` and
    /// `cl100k_base` have one; the older encodings have no chat models.
    pub fn for_encoding(encoding: Encoding) -> Option<ChatFraming> {
        match encoding {
            Encoding::O200kBase => Some(ChatFraming::OPENAI_O200K),
            Encoding::Cl100kBase => Some(ChatFraming::OPENAI_CL100K),
            // gpt-oss frames chats in the harmony format, which is not
            // OpenAI's chat-completions framing.
            Encoding::O200kHarmony | Encoding::P50kBase | Encoding::R50kBase => None,
        }
    }
}

/// An OpenAI chat-completions request: the parts that are billed as prompt
/// tokens. Other fields (`temperature`, `stream`, ...) are accepted and
/// ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChatRequest {
    /// The model the request names, if any.
    #[serde(default)]
    pub model: Option<String>,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Tool definitions.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tools: Vec<Tool>,
    /// Legacy function definitions (`functions`), counted like `tools`.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub functions: Vec<FunctionDef>,
    /// Tokens the provider adds to a request with tools, beyond their
    /// definitions (Anthropic's tool-use system prompt); 0 for
    /// chat-completions requests.
    #[serde(skip)]
    pub tool_prompt: usize,
}

/// One message of a chat request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChatMessage {
    /// `system`, `developer`, `user`, `assistant`, `tool` (or any other role).
    pub role: String,
    /// The content: text, an array of parts, or absent.
    #[serde(default)]
    pub content: Option<MessageContent>,
    /// The participant's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Tool calls made by an assistant message.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// A legacy function call made by an assistant message.
    #[serde(default)]
    pub function_call: Option<FunctionCall>,
    /// An assistant's refusal text.
    #[serde(default)]
    pub refusal: Option<String>,
    /// For a `tool` message: the call it answers (not counted).
    #[serde(default)]
    pub tool_call_id: Option<String>,
    /// The message's images, billed by the counter's [`ImageRule`]; for a
    /// chat-completions request, its `image_url` parts
    /// ([`ChatRequest::resolve_images`]).
    #[serde(skip)]
    pub images: Vec<ImageInput>,
    /// Text the message is billed for besides its content and tool calls,
    /// which trimming never changes (thinking, documents, other request
    /// formats' structured parts).
    #[serde(skip)]
    pub hidden: Vec<String>,
    /// Tokens billed for parts whose text is not available, estimated
    /// (a PDF document's pages), with what they are.
    #[serde(skip)]
    pub estimated: Vec<(usize, String)>,
}

impl ChatMessage {
    /// A message of `role` with `content` and nothing else.
    pub fn new(role: impl Into<String>, content: Option<MessageContent>) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content,
            name: None,
            tool_calls: Vec::new(),
            function_call: None,
            refusal: None,
            tool_call_id: None,
            images: Vec::new(),
            hidden: Vec::new(),
            estimated: Vec::new(),
        }
    }
}

/// A message's content: a string, or an array of content parts.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Content parts (`text`, `image_url`, `input_audio`, `file`, ...).
    Parts(Vec<ContentPart>),
}

impl MessageContent {
    /// The text that is billed: a string as it is; of an array, the `text`
    /// and `refusal` parts' texts concatenated (other parts are not text).
    pub fn billed_text(&self) -> String {
        match self {
            MessageContent::Text(t) => t.clone(),
            MessageContent::Parts(parts) => parts.iter().filter_map(ContentPart::text).collect(),
        }
    }
}

/// One part of an array content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContentPart {
    /// The part's type, e.g. `text` or `image_url`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` part.
    #[serde(default)]
    pub text: Option<String>,
    /// The text of a `refusal` part.
    #[serde(default)]
    pub refusal: Option<String>,
    /// The image of an `image_url` part: `{"url": ..., "detail": ...}`.
    #[serde(default)]
    pub image_url: Option<serde_json::Value>,
    /// The file of a `file` part: `{"file_data": ..., "file_id": ...}`.
    #[serde(default)]
    pub file: Option<serde_json::Value>,
}

impl ContentPart {
    /// The part's billed text: a `text` part's text or a `refusal` part's
    /// refusal; `None` for parts that are not text (images, audio, files).
    pub fn text(&self) -> Option<&str> {
        match (self.kind.as_str(), &self.text, &self.refusal) {
            ("text", Some(t), _) | ("refusal", _, Some(t)) => Some(t),
            _ => None,
        }
    }

    /// Whether the part is billed as text.
    pub fn is_text(&self) -> bool {
        self.text().is_some()
    }
}

/// A tool call in an assistant message.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ToolCall {
    /// The call id (not counted).
    #[serde(default)]
    pub id: Option<String>,
    /// The call's type, normally `function`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The function called.
    #[serde(default)]
    pub function: Option<FunctionCall>,
}

/// A function call: name and JSON arguments text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FunctionCall {
    /// The function's name.
    pub name: String,
    /// The arguments as the JSON text the model wrote.
    #[serde(default)]
    pub arguments: String,
}

/// A tool definition in `tools`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Tool {
    /// The tool's type, normally `function`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The function, for `function` tools.
    #[serde(default)]
    pub function: Option<FunctionDef>,
}

/// A function definition.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FunctionDef {
    /// The function's name.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: Option<String>,
    /// Its parameters, a JSON schema object.
    #[serde(default)]
    pub parameters: Option<Parameters>,
}

/// A function's parameters schema: only the properties are billed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Parameters {
    /// The properties by name.
    #[serde(default)]
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A request that is not valid chat-request JSON, with the position of the
/// problem (line and column are 1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ChatParseError {
    /// The line of the problem.
    pub line: usize,
    /// The column of the problem (in characters).
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl ChatRequest {
    /// Parses an OpenAI chat-completions request (a leading byte-order mark
    /// is skipped).
    ///
    /// ```
    /// use tokenscope::tokens::ChatRequest;
    /// let r = ChatRequest::from_json(r#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}"#).unwrap();
    /// assert_eq!(r.messages.len(), 1);
    /// let e = ChatRequest::from_json("{\"messages\": [{\"role\": 5}]}").unwrap_err();
    /// assert_eq!((e.line, e.column), (1, 24));
    /// ```
    pub fn from_json(text: &str) -> Result<ChatRequest, ChatParseError> {
        // A UTF-8 byte-order mark is not JSON; editors on Windows add one.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut request: ChatRequest = serde_json::from_str(text).map_err(|e| {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let message = full
                .strip_suffix(&suffix)
                .map(str::to_string)
                .unwrap_or(full);
            ChatParseError {
                line: e.line().max(1),
                column: e.column().max(1),
                message,
            }
        })?;
        request.resolve_images(None);
        Ok(request)
    }
}

impl ChatRequest {
    /// Reads the images of the messages' `image_url` parts (their sizes
    /// from inline data, or `hint` for links; see [`super::image`]), and
    /// estimates their `file` parts (PDFs) by their pages for the request's
    /// model.
    pub fn resolve_images(&mut self, hint: Option<(u32, u32)>) {
        let per_page = super::image::pdf_page_tokens(ImageRule::openai(self.model.as_deref()));
        for (k, m) in self.messages.iter_mut().enumerate() {
            m.images.clear();
            m.estimated.clear();
            let Some(MessageContent::Parts(parts)) = &m.content else {
                continue;
            };
            for (n, p) in parts.iter().filter(|p| p.kind == "file").enumerate() {
                let data = p
                    .file
                    .as_ref()
                    .and_then(|f| f.get("file_data"))
                    .and_then(|d| d.as_str());
                let location = format!("message {k}, file {}", n + 1);
                m.estimated
                    .push(super::image::pdf_estimate(per_page, data, &location));
            }
            let mut n = 0;
            for p in parts.iter().filter(|p| p.kind == "image_url") {
                n += 1;
                let (url, detail) = match &p.image_url {
                    Some(serde_json::Value::String(u)) => (u.as_str(), None),
                    Some(v) => (
                        v.get("url").and_then(|u| u.as_str()).unwrap_or(""),
                        v.get("detail").and_then(|d| d.as_str()).map(str::to_string),
                    ),
                    None => ("", None),
                };
                m.images.push(ImageInput::from_url(
                    url,
                    detail,
                    hint,
                    format!("message {k}, image {n}"),
                ));
            }
        }
    }
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ContentVisitor;

        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = MessageContent;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of content parts")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MessageContent::Text(v.to_string()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(MessageContent::Text(v))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut parts = Vec::new();
                while let Some(part) = seq.next_element::<ContentPart>()? {
                    parts.push(part);
                }
                Ok(MessageContent::Parts(parts))
            }
        }

        d.deserialize_any(ContentVisitor)
    }
}

/// The billed prompt tokens of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageCount {
    /// The message's role.
    pub role: String,
    /// The message's name, if any.
    pub name: Option<String>,
    /// Tokens of the content text.
    pub content: usize,
    /// Tokens of the assistant's tool (or function) calls.
    pub tool_calls: usize,
    /// Tokens of what the message holds besides its text and calls: images,
    /// documents, thinking.
    pub extra: usize,
    /// The framing: per-message tokens, the role, the name and its extra
    /// token. This is the `overhead` of a chat message as an engine item.
    pub overhead: usize,
    /// `content + tool_calls + extra + overhead`.
    pub total: usize,
}

/// The billed prompt tokens of a chat request, with a per-message breakdown.
///
/// `total` is the sum of the messages' totals, `tools` and `reply_priming`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatCount {
    /// Per message, in request order.
    pub messages: Vec<MessageCount>,
    /// Tokens of the tool definitions, their framing included.
    pub tools: usize,
    /// Tokens that prime the reply.
    pub reply_priming: usize,
    /// The prompt tokens the API bills (`usage.prompt_tokens`).
    pub total: usize,
    /// Whether the count is exact: an exact tokenizer, a known framing, and
    /// nothing in the request outside the rules verified against the API.
    pub exact: bool,
    /// Why the count is not exact, or what was left out.
    pub notes: Vec<String>,
}

/// Counts chat requests with one tokenizer and framing.
#[derive(Debug, Clone)]
pub struct ChatCounter<'a> {
    tokenizer: &'a Tokenizer,
    framing: Option<ChatFraming>,
    cache: &'a CountCache,
    allow_special: bool,
    images: ImageRule,
}

impl<'a> ChatCounter<'a> {
    /// A counter for `tokenizer` with `framing` (`None`: text only, see the
    /// [module docs](self)), counting through [`CountCache::global`].
    pub fn new(tokenizer: &'a Tokenizer, framing: Option<ChatFraming>) -> Self {
        ChatCounter {
            tokenizer,
            framing,
            cache: CountCache::global(),
            allow_special: false,
            images: ImageRule::openai(None),
        }
    }

    /// Bills images by `rule` (default: OpenAI's gpt-4o tiles).
    pub fn with_images(mut self, rule: ImageRule) -> Self {
        self.images = rule;
        self
    }

    /// Counts through `cache` instead of the global cache.
    pub fn with_cache(mut self, cache: &'a CountCache) -> Self {
        self.cache = cache;
        self
    }

    /// Counts special-token literals in the text as special tokens.
    pub fn allow_special(mut self, allow: bool) -> Self {
        self.allow_special = allow;
        self
    }

    fn tokens(&self, text: &str) -> i64 {
        let n = if self.allow_special {
            self.cache.count_with_special(self.tokenizer, text)
        } else {
            self.cache.count(self.tokenizer, text)
        };
        i64::try_from(n).unwrap_or(i64::MAX)
    }

    /// Counts the prompt tokens `request` is billed.
    pub fn count(&self, request: &ChatRequest) -> ChatCount {
        let mut notes = Notes::default();
        if self.framing.is_none() {
            notes.add(format!(
                "no chat framing is known for {}: counted the message text and tool JSON only",
                self.tokenizer.name()
            ));
        }
        let messages: Vec<MessageCount> = request
            .messages
            .iter()
            .map(|m| self.message(m, &mut notes))
            .collect();
        let mut tools = clamp(self.tools(request, &mut notes));
        if !request.tools.is_empty() || !request.functions.is_empty() {
            tools = tools.saturating_add(request.tool_prompt);
        }
        let reply_priming = self.framing.map_or(0, |f| clamp(f.reply_priming));
        let total = messages.iter().map(|m| m.total).sum::<usize>() + tools + reply_priming;
        ChatCount {
            messages,
            tools,
            reply_priming,
            total,
            exact: self.tokenizer.is_exact() && notes.0.is_empty(),
            notes: notes.0,
        }
    }

    fn message(&self, m: &ChatMessage, notes: &mut Notes) -> MessageCount {
        let mut content = 0i64;
        match &m.content {
            None => {}
            Some(MessageContent::Text(t)) => content += self.tokens(t),
            Some(c @ MessageContent::Parts(parts)) => {
                for p in parts
                    .iter()
                    .filter(|p| !p.is_text() && p.kind != "image_url" && p.kind != "file")
                {
                    notes.add(format!(
                        "content parts of type `{}` are not counted (their cost depends on data the request only links to)",
                        p.kind
                    ));
                }
                content += self.tokens(&c.billed_text());
            }
        }
        if let Some(r) = &m.refusal {
            content += self.tokens(r);
        }

        let mut extra = 0i64;
        for image in &m.images {
            extra += i64::try_from(self.images.tokens(
                image.width,
                image.height,
                image.detail.as_deref(),
            ))
            .unwrap_or(i64::MAX);
            if let Some(why) = &image.assumed {
                notes.add(format!(
                    "{} ({}x{}): {why}",
                    image.location, image.width, image.height
                ));
            }
        }
        for text in &m.hidden {
            extra += self.tokens(text);
        }
        for (tokens, what) in &m.estimated {
            extra += i64::try_from(*tokens).unwrap_or(i64::MAX);
            notes.add(what.clone());
        }

        let mut tool_calls = 0i64;
        let calls = m
            .tool_calls
            .iter()
            .filter_map(|c| c.function.as_ref())
            .chain(m.function_call.as_ref());
        for call in calls {
            notes.add(
                "assistant tool calls are counted as their function name and arguments text; the API's framing for them is not published"
                    .to_string(),
            );
            tool_calls += self.tokens(&call.name) + self.tokens(&call.arguments);
        }

        let mut overhead = 0i64;
        if let Some(f) = self.framing {
            overhead += f.tokens_per_message + self.tokens(&m.role);
            if let Some(name) = &m.name {
                overhead += self.tokens(name) + f.tokens_per_name;
            }
            if m.role == "tool" || m.role == "function" {
                notes.add(format!(
                    "`{}` messages are framed like other messages; the API's framing for them is not published",
                    m.role
                ));
            }
        } else if let Some(name) = &m.name {
            overhead += self.tokens(name);
        }

        let (content, tool_calls, extra, overhead) = (
            clamp(content),
            clamp(tool_calls),
            clamp(extra),
            clamp(overhead),
        );
        MessageCount {
            role: m.role.clone(),
            name: m.name.clone(),
            content,
            tool_calls,
            extra,
            overhead,
            total: content
                .saturating_add(tool_calls)
                .saturating_add(extra)
                .saturating_add(overhead),
        }
    }

    fn tools(&self, request: &ChatRequest, notes: &mut Notes) -> i64 {
        let mut functions: Vec<&FunctionDef> = Vec::new();
        for tool in &request.tools {
            match (tool.kind.as_deref(), &tool.function) {
                (None | Some("function"), Some(f)) => functions.push(f),
                (kind, _) => notes.add(format!(
                    "tools of type `{}` are not counted",
                    kind.unwrap_or("(none)")
                )),
            }
        }
        functions.extend(request.functions.iter());
        if functions.is_empty() {
            return 0;
        }
        let Some(fr) = self.framing else {
            return functions
                .iter()
                .map(|f| self.tokens(&function_json(f)))
                .sum();
        };
        let mut total = 0i64;
        for f in functions {
            total += fr.function_init;
            let desc = match &f.description {
                Some(d) => d.strip_suffix('.').unwrap_or(d),
                None => {
                    notes.add(format!(
                        "function `{}` has no description; counted by the verified formula with an empty one",
                        f.name
                    ));
                    ""
                }
            };
            total += self.tokens(&format!("{}:{}", f.name, desc));
            let props = f.parameters.as_ref().and_then(|p| p.properties.as_ref());
            let Some(props) = props.filter(|p| !p.is_empty()) else {
                continue;
            };
            total += fr.properties_init;
            for (key, schema) in props {
                total += fr.property_key;
                let ty = match schema.get("type") {
                    Some(serde_json::Value::String(t)) => t.clone(),
                    other => {
                        notes.add(format!(
                            "property `{key}` of `{}` has no single type name; counted with its type as written",
                            f.name
                        ));
                        other.map(json_text).unwrap_or_default()
                    }
                };
                if schema.get("properties").is_some() || schema.get("items").is_some() {
                    notes.add(format!(
                        "nested schema of property `{key}` of `{}` is counted by its type only",
                        f.name
                    ));
                }
                if let Some(values) = schema.get("enum").and_then(|e| e.as_array()) {
                    total += fr.enum_init;
                    for v in values {
                        total += fr.enum_item + self.tokens(&json_text(v));
                    }
                }
                let pdesc = schema
                    .get("description")
                    .and_then(|d| d.as_str())
                    .unwrap_or("");
                let pdesc = pdesc.strip_suffix('.').unwrap_or(pdesc);
                total += self.tokens(&format!("{key}:{ty}:{pdesc}"));
            }
        }
        total + fr.functions_end
    }
}

/// Counts the prompt tokens `request` is billed by `spec`'s model, through
/// [`CountCache::global`]: its tokenizer and chat framing. Fails only when
/// the model's `tokenizer_file` cannot be loaded.
///
/// ```
/// use tokenscope::tokens::{chat_prompt_tokens, ChatRequest, ModelRegistry};
/// let registry = ModelRegistry::builtin();
/// let request = ChatRequest::from_json(r#"{"messages": [{"role": "user", "content": "Hello!"}]}"#).unwrap();
/// let count = chat_prompt_tokens(&request, registry.get("gpt-4o").unwrap()).unwrap();
/// // 3 framing + 1 role + 2 content + 3 reply priming
/// assert_eq!(count.total, 9);
/// assert_eq!(count.messages[0].overhead, 4);
/// ```
pub fn chat_prompt_tokens(
    request: &ChatRequest,
    spec: &super::ModelSpec,
) -> Result<ChatCount, super::ModelTokenizerError> {
    let tokenizer = spec.tokenizer()?;
    Ok(ChatCounter::new(&tokenizer, spec.chat)
        .with_images(ImageRule::for_model(spec))
        .count(request))
}

/// The chat framing a request is counted with for `model` (its registry
/// framing) or, without a model, for `tokenizer` (OpenAI's framing on
/// `o200k_base` and `cl100k_base`; none for the other encodings, files and
/// estimates).
pub fn chat_framing(
    model: Option<&super::ModelSpec>,
    tokenizer: &Tokenizer,
) -> Option<ChatFraming> {
    match (model, tokenizer) {
        (Some(spec), _) => spec.chat,
        (None, Tokenizer::Exact(e)) => ChatFraming::for_encoding(*e),
        (None, Tokenizer::File(_) | Tokenizer::Estimate(..) | Tokenizer::Api(_)) => None,
    }
}

/// A string value as itself, anything else as compact JSON.
fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn function_json(f: &FunctionDef) -> String {
    let mut obj = serde_json::Map::new();
    obj.insert("name".into(), f.name.clone().into());
    if let Some(d) = &f.description {
        obj.insert("description".into(), d.clone().into());
    }
    if let Some(p) = f.parameters.as_ref().and_then(|p| p.properties.as_ref()) {
        obj.insert("properties".into(), serde_json::Value::Object(p.clone()));
    }
    serde_json::Value::Object(obj).to_string()
}

fn clamp(n: i64) -> usize {
    usize::try_from(n.max(0)).unwrap_or(usize::MAX)
}

/// Notes without duplicates, in first-seen order.
#[derive(Default)]
struct Notes(Vec<String>);

impl Notes {
    fn add(&mut self, note: String) {
        if !self.0.contains(&note) {
            self.0.push(note);
        }
    }
}
