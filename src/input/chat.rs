//! OpenAI chat-completions requests (`messages`, `tools`) as item sets.
//!
//! - One item per message, its text the message's billed text (a string
//!   content, or the text parts of an array content); the rest of what the
//!   API bills for it (framing, role, name, tool calls) is counted with the
//!   item when the engine runs, for the model it runs for
//!   ([`crate::engine::chat`]).
//! - Sections, in this order:
//!   - `system`: `system` and `developer` messages, pinned;
//!   - `tools`: one item for the tool definitions (`tools` and legacy
//!     `functions`), pinned; its text shows them as JSON;
//!   - `history`: the messages before the latest turn, with the `strict`
//!     strategy and priorities that rise with recency, so history is cut
//!     oldest first and what is kept is always the most recent part;
//!   - `latest`: the latest turn, pinned: the last `user` message and every
//!     message after it (a request with no user message: its last message
//!     and the tool call it answers), plus the `reply` item for the tokens
//!     that prime the reply.
//!
//!   `system`, `tools` and `latest` have a share of 0, which in a chat set
//!   means "what its items cost"; `history` has a share of 100, the rest.
//! - An assistant message with tool calls and the `tool` messages that
//!   answer them (by `tool_call_id`) form a group, kept or dropped together;
//!   so do a legacy `function_call` and the `function` message that follows
//!   it. The API refuses a tool result without its call, and a call without
//!   its results.
//! - The budget: the request's `model` when the built-in registry knows it
//!   (otherwise a warning, and `--model` decides), and `max_completion_tokens`
//!   (or `max_tokens`) as the output reserve.
//!
//! Item ids: `m{index}-{role}` (`m0-system`, `m3-user`), `tools`, `reply`.
//! Each message item's `meta` has its `role`, its `message` index and its
//! `name`.
//!
//! The Anthropic, Responses and Gemini loaders ([`super::anthropic`],
//! [`super::responses`], [`super::gemini`]) read their requests as the same
//! kind of conversation (one message per item, with where it is in the
//! request and what goes together) and build their item sets here, so the
//! sections, priorities and ids are the same for every format.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;
use serde_json::Value;

use crate::engine::{
    ChatLayout, ChatPart, Item, ItemSet, Kind, Origin, RequestFormat, Section, Strategy,
};
use crate::tokens::{ChatRequest, ModelRegistry};

use super::load_error::InputError;

/// The section of `system` and `developer` messages.
pub const SYSTEM: &str = "system";
/// The section of the tool definitions.
pub const TOOLS: &str = "tools";
/// The section of the conversation before the latest turn.
pub const HISTORY: &str = "history";
/// The section of the latest turn.
pub const LATEST: &str = "latest";

/// Whether `value` is a chat request: an object with a `messages` array.
pub fn is_chat_request(value: &Value) -> bool {
    value.get("messages").is_some_and(Value::is_array)
}

/// Reads a request of any format (detected as in
/// [`super::detect::request_format`]; a chat-completions request
/// otherwise) as the conversation its count is made of, with its format.
pub fn read_request(path: &Path, text: &str) -> Result<(ChatRequest, RequestFormat), InputError> {
    let value = serde_json::from_str::<Value>(text.strip_prefix('\u{feff}').unwrap_or(text));
    let format = value
        .ok()
        .and_then(|v| super::detect::request_format(&v))
        .unwrap_or(super::InputFormat::ChatRequest);
    if format == super::InputFormat::ChatRequest {
        let request = ChatRequest::from_json(text)
            .map_err(|e| InputError::at_line(path, e.line, e.column, e.message))?;
        return Ok((request, RequestFormat::Chat));
    }
    let set = super::detect::load_text(path, text, format, &super::LoadOptions::default())?;
    let layout = set
        .chat
        .ok_or_else(|| InputError::format(path, "expected a request"))?;
    Ok((layout.parsed.clone(), layout.format))
}

/// Loads the chat request `text` (the content of `path`).
pub fn parse(path: &Path, text: &str) -> Result<ItemSet, InputError> {
    parse_with(path, text, None)
}

/// Loads the chat request `text`, linked images counted at `hint`
/// (`--image-size`) when given.
pub fn parse_with(
    path: &Path,
    text: &str,
    hint: Option<(u32, u32)>,
) -> Result<ItemSet, InputError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let parsed = ChatRequest::from_json(text)
        .map_err(|e| InputError::at_line(path, e.line, e.column, e.message))?;
    let request: Value = serde_json::from_str(text).map_err(|e| {
        InputError::at_line(path, e.line().max(1), e.column().max(1), e.to_string())
    })?;
    if !is_chat_request(&request) {
        return Err(InputError::at_line(
            path,
            1,
            1,
            "expected a chat-completions request: a JSON object with a `messages` array",
        ));
    }
    if parsed.messages.is_empty() {
        let offset = text.find("\"messages\"").unwrap_or(0);
        return Err(InputError::at(
            path,
            text,
            offset,
            "expected at least one message in `messages`",
        ));
    }
    let mut parsed = parsed;
    parsed.resolve_images(hint);
    let mut warnings = Vec::new();
    let links = call_groups(&parsed, &mut warnings).into_iter().collect();
    let tool_defs = ["tools", "functions"]
        .iter()
        .filter_map(|k| request.get(*k).and_then(Value::as_array))
        .flatten()
        .cloned()
        .collect();
    let max_output = ["max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|k| request.get(*k).and_then(Value::as_u64));
    let model = parsed.model.clone();
    Ok(build(
        path,
        request,
        Normalized {
            format: RequestFormat::Chat,
            parsed,
            origins: Vec::new(),
            links,
            group_prefix: "call",
            warnings,
            tool_defs,
            max_output,
            model,
        },
    ))
}

/// A request of any format as a chat-completions conversation, with what
/// the item set needs besides.
pub(crate) struct Normalized {
    /// The API the request is for.
    pub format: RequestFormat,
    /// The conversation, one message per item.
    pub parsed: ChatRequest,
    /// Where each message is in the request (empty for chat completions).
    pub origins: Vec<Origin>,
    /// Pairs of messages that are kept or dropped together.
    pub links: Vec<(usize, usize)>,
    /// The group names' prefix: `call` (a call and its results) or `turn`
    /// (a user turn and what answers it).
    pub group_prefix: &'static str,
    /// Problems found while reading the request.
    pub warnings: Vec<String>,
    /// The tool definitions as written, for the tools item's text.
    pub tool_defs: Vec<Value>,
    /// The output reserve the request asks for.
    pub max_output: Option<u64>,
    /// The model the request names.
    pub model: Option<String>,
}

/// The item set of a normalized request (see the module documentation).
pub(crate) fn build(path: &Path, request: Value, normalized: Normalized) -> ItemSet {
    let Normalized {
        format,
        parsed,
        origins,
        links,
        group_prefix,
        mut warnings,
        tool_defs,
        max_output,
        model,
    } = normalized;
    let mut set = ItemSet::default();
    let messages = &parsed.messages;
    let n = messages.len();
    let is_system = |k: usize| matches!(messages[k].role.as_str(), "system" | "developer");

    // Messages kept together: the unit (first message) of each message.
    let unit_start = units(n, &links);
    let mut unit_members: HashMap<usize, usize> = HashMap::default();
    for &u in &unit_start {
        *unit_members.entry(u).or_default() += 1;
    }

    // The latest turn: from the last user message (or the last message's
    // unit) to the end.
    let latest_start = (0..n)
        .rev()
        .find(|&k| messages[k].role == "user")
        .unwrap_or(unit_start[n - 1]);

    // History units, oldest first, for recency priorities.
    let history: Vec<usize> = (0..latest_start).filter(|&k| !is_system(k)).collect();
    let mut unit_order: Vec<usize> = history.iter().map(|&k| unit_start[k]).collect();
    unit_order.dedup();
    let unit_rank: HashMap<usize, usize> = unit_order
        .iter()
        .enumerate()
        .map(|(r, &u)| (u, r))
        .collect();
    let mut unit_size: HashMap<usize, usize> = HashMap::default();
    for &k in &history {
        *unit_size.entry(unit_start[k]).or_default() += 1;
    }

    set.sections.push(fixed_section(SYSTEM));
    let has_tools = !parsed.tools.is_empty() || !parsed.functions.is_empty();
    if has_tools {
        set.sections.push(fixed_section(TOOLS));
    }
    let mut history_section = Section::share(HISTORY, 100.0);
    history_section.strategy = Some(Strategy::Strict);
    set.sections.push(history_section);
    set.sections.push(fixed_section(LATEST));

    let mut parts = BTreeMap::new();
    let mut items = Vec::with_capacity(n + 2);
    for (k, m) in messages.iter().enumerate() {
        let section = if is_system(k) {
            SYSTEM
        } else if k >= latest_start {
            LATEST
        } else {
            HISTORY
        };
        let text = m
            .content
            .as_ref()
            .map(|c| c.billed_text())
            .unwrap_or_default();
        let mut item = Item::new(format!("m{k}-{}", id_role(&m.role)), section, text);
        item.kind = Some(Kind::Chat);
        item.pinned = section != HISTORY;
        if section == HISTORY {
            let unit = unit_start[k];
            let rank = unit_rank.get(&unit).copied().unwrap_or(0);
            let units = unit_order.len().max(1);
            let members = unit_size.get(&unit).copied().unwrap_or(1).max(1);
            // Rises with recency; a unit's members share its priority, so a
            // group ranks where its first message is.
            item.priority = (rank + 1) as f64 / units as f64 / members as f64;
        }
        if unit_members.get(&unit_start[k]).copied().unwrap_or(1) > 1 {
            item.group = Some(format!("{group_prefix}-m{}", unit_start[k]));
        }
        item.meta
            .insert("role".into(), Value::String(m.role.clone()));
        item.meta.insert("message".into(), Value::from(k));
        if let Some(name) = &m.name {
            item.meta.insert("name".into(), Value::String(name.clone()));
        }
        item.path = Some(path.to_path_buf());
        parts.insert(item.id.clone(), ChatPart::Message(k));
        items.push(item);
    }
    if has_tools {
        let text = serde_json::to_string_pretty(&Value::Array(tool_defs)).unwrap_or_default();
        let mut item = Item::new("tools", TOOLS, text);
        item.kind = Some(Kind::Config);
        item.pinned = true;
        item.path = Some(path.to_path_buf());
        parts.insert(item.id.clone(), ChatPart::Tools);
        items.push(item);
    }
    let mut reply = Item::new("reply", LATEST, "");
    reply.kind = Some(Kind::Chat);
    reply.pinned = true;
    reply.meta.insert(
        "note".into(),
        Value::String("the assistant header that primes the reply".into()),
    );
    parts.insert(reply.id.clone(), ChatPart::ReplyPriming);
    items.push(reply);
    set.items = items;

    // Budget from the request.
    if let Some(model) = &model {
        if ModelRegistry::builtin().get(model).is_ok() {
            set.budget.model = Some(model.clone());
        } else {
            warnings.push(format!(
                "the request's model `{model}` is not in the built-in registry; give --model to count for it"
            ));
        }
    }
    if let Some(max) = max_output {
        set.budget.reserve_output = usize::try_from(max).unwrap_or(usize::MAX);
    }

    set.sources.push(path.to_path_buf());
    set.warnings = warnings;
    let mut layout = ChatLayout::new(request, parsed);
    layout.parts = parts;
    layout.format = format;
    layout.origins = origins;
    set.chat = Some(Arc::new(layout));
    set
}

/// A section sized to what its items cost (share 0 in a chat set).
fn fixed_section(name: &str) -> Section {
    Section::share(name, 0.0)
}

/// A role as it appears in an item id: letters, digits, `-` and `_` only.
fn id_role(role: &str) -> String {
    let cleaned: String = role
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(24)
        .collect();
    if cleaned.is_empty() {
        "message".into()
    } else {
        cleaned
    }
}

/// Per message, the first message of its unit: the smallest index among
/// the messages `links` joins it to (directly or not).
fn units(n: usize, links: &[(usize, usize)]) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut k: usize) -> usize {
        while parent[k] != k {
            parent[k] = parent[parent[k]];
            k = parent[k];
        }
        k
    }
    for &(a, b) in links {
        if a >= n || b >= n {
            continue;
        }
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        parent[hi] = lo;
    }
    (0..n).map(|k| root(&mut parent, k)).collect()
}

/// Message index → the index of the assistant message whose call it
/// answers, for `tool` messages matched by `tool_call_id` and `function`
/// messages right after a `function_call`. Unmatched results are warned
/// about (the API refuses them).
fn call_groups(request: &ChatRequest, warnings: &mut Vec<String>) -> HashMap<usize, usize> {
    let mut out = HashMap::default();
    let mut open: HashMap<&str, usize> = HashMap::default();
    for (k, m) in request.messages.iter().enumerate() {
        if m.role == "assistant" {
            for call in &m.tool_calls {
                if let Some(id) = call.id.as_deref() {
                    open.insert(id, k);
                }
            }
            continue;
        }
        match m.role.as_str() {
            "tool" => match m.tool_call_id.as_deref().and_then(|id| open.get(id)) {
                Some(&a) => {
                    out.insert(k, a);
                }
                None => warnings.push(format!(
                    "message {k} (`tool`) answers tool call {}, which no earlier assistant message makes; the API refuses such a request",
                    m.tool_call_id
                        .as_deref()
                        .map_or("(no tool_call_id)".to_string(), |id| format!("`{id}`"))
                )),
            },
            "function" => {
                let prev = k.checked_sub(1).map(|p| &request.messages[p]);
                match prev {
                    Some(p) if p.role == "assistant" && p.function_call.is_some() => {
                        out.insert(k, k - 1);
                    }
                    _ => warnings.push(format!(
                        "message {k} (`function`) does not follow an assistant `function_call`"
                    )),
                }
            }
            _ => {}
        }
    }
    out
}
