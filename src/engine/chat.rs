//! Chat requests as item sets: one item per message, framed per run for the
//! model being packed for, and rendered back into a request.
//!
//! An item set loaded from an OpenAI chat-completions request carries a
//! [`ChatLayout`]: the request as it was written and which item stands for
//! which part of it. The item set itself stays model-independent; on every
//! run the engine frames a copy of it with the run's tokenizer and chat
//! framing ([`PackContext::framing`](super::PackContext::framing)):
//!
//! - a message item costs what the API bills for that message: its content
//!   text (the item's text, which overflow may cut or degrade) plus an
//!   `overhead` for everything else (per-message framing, the role, the
//!   name, tool calls, a refusal);
//! - the tool definitions item costs what the API bills for `tools` and
//!   `functions`; it renders no text, so it is kept or dropped whole;
//! - the reply-priming item costs the framing's `reply_priming`; it is
//!   billed with any request, so the render step never removes it;
//! - no message is a duplicate of another (a repeated message is still said
//!   again);
//! - items are not joined by separators or titles (each message is
//!   tokenized on its own), so the context's count is the sum of the
//!   included items' counts, which is the request's billed prompt tokens;
//! - a section whose budget is a share of 0 is sized to what its items cost
//!   (the loader gives the system, tools and latest-turn sections a share of
//!   0 and the history a share of 100: fixed parts take what they need, the
//!   history gets the rest).
//!
//! The rendered context of a chat set is the trimmed request as JSON: the
//! kept messages in their order, cut or degraded contents replaced, the
//! tools removed when their item is out, every other field unchanged.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::tokens::{ChatCounter, ChatFraming, ChatRequest, CountCache, Tokenizer};

use super::{Content, Item, ItemSet, SectionBudget};

mod write;

pub use write::{Origin, PathSeg, RequestFormat, Slot, get_str, set_text};

/// What part of a chat request an item stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatPart {
    /// The message at this index of `messages`.
    Message(usize),
    /// The tool definitions (`tools` and legacy `functions`).
    Tools,
    /// The tokens that prime the reply (once per request).
    ReplyPriming,
}

/// The request an item set was loaded from, and how its items map onto it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatLayout {
    /// The request as written: every field, in its order.
    pub request: Value,
    /// The billed parts of the request.
    pub parsed: ChatRequest,
    /// Item id → the part it stands for.
    pub parts: BTreeMap<String, ChatPart>,
    /// The API the request is for.
    pub format: RequestFormat,
    /// Per message of `parsed`, where it is in `request` (empty for a
    /// chat-completions request, whose message `k` is `messages[k]`).
    pub origins: Vec<Origin>,
}

impl ChatLayout {
    /// A layout of `request` (the JSON as written; `parsed` is its billed
    /// parts) with no items mapped yet.
    pub fn new(request: Value, parsed: ChatRequest) -> Self {
        ChatLayout {
            request,
            parsed,
            parts: BTreeMap::new(),
            format: RequestFormat::Chat,
            origins: Vec::new(),
        }
    }

    /// The model images are billed for: `model` (the run's), else the
    /// request's own.
    fn image_rule(&self, model: Option<&str>) -> crate::tokens::ImageRule {
        self.format
            .image_rule(model.or(self.parsed.model.as_deref()))
    }

    /// Item index → part, for the items of `set` that stand for one.
    pub(super) fn parts_of(&self, set: &ItemSet) -> Vec<Option<ChatPart>> {
        let by_id: FxHashMap<&str, ChatPart> =
            self.parts.iter().map(|(id, &p)| (id.as_str(), p)).collect();
        set.items
            .iter()
            .map(|item| by_id.get(item.id.as_str()).copied())
            .collect()
    }

    /// The request that keeps only the included parts, as pretty JSON:
    /// `parts[i]` is what item `i` stands for, `included[i]` whether it is
    /// in, `texts[i]` its changed text, if any.
    pub(super) fn trimmed_json(
        &self,
        parts: &[Option<ChatPart>],
        included: &[bool],
        texts: &[Option<&str>],
    ) -> String {
        let n = self.parsed.messages.len();
        let mut keep = vec![true; n];
        let mut changed: Vec<Option<&str>> = vec![None; n];
        let mut keep_tools = true;
        for (i, part) in parts.iter().enumerate() {
            match *part {
                Some(ChatPart::Message(k)) if k < n => {
                    keep[k] = included[i];
                    changed[k] = texts[i];
                }
                Some(ChatPart::Tools) => keep_tools = included[i],
                _ => {}
            }
        }
        let mut text = if self.format == RequestFormat::Chat {
            let trimmed = Trimmed {
                request: &self.request,
                keep: &keep,
                changed: &changed,
                keep_tools,
            };
            serde_json::to_string_pretty(&trimmed)
        } else {
            let trimmed = write::Trimmed {
                request: &self.request,
                format: self.format,
                origins: &self.origins,
                keep: &keep,
                changed: &changed,
                keep_tools,
                at: write::origin_index(&self.origins),
            };
            serde_json::to_string_pretty(&trimmed)
        }
        .unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The request as written, less what is cut, serialized without copying
/// what stays.
struct Trimmed<'a> {
    request: &'a Value,
    /// Per message: kept.
    keep: &'a [bool],
    /// Per message: its new billed text, when cut or degraded.
    changed: &'a [Option<&'a str>],
    keep_tools: bool,
}

impl Serialize for Trimmed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Value::Object(map) = self.request else {
            return self.request.serialize(serializer);
        };
        let entries = map.iter().filter(|(k, _)| {
            self.keep_tools || !RequestFormat::Chat.tool_keys().contains(&k.as_str())
        });
        let mut out = serializer.serialize_map(None)?;
        for (key, value) in entries {
            match (key.as_str(), value) {
                ("messages", Value::Array(messages)) => out.serialize_entry(
                    key,
                    &Messages {
                        messages,
                        trimmed: self,
                    },
                )?,
                _ => out.serialize_entry(key, value)?,
            }
        }
        out.end()
    }
}

/// The kept messages, a changed one with its new content.
struct Messages<'a> {
    messages: &'a [Value],
    trimmed: &'a Trimmed<'a>,
}

impl Serialize for Messages<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_seq(None)?;
        for (k, message) in self.messages.iter().enumerate() {
            if !self.trimmed.keep.get(k).copied().unwrap_or(true) {
                continue;
            }
            match self.trimmed.changed.get(k).copied().flatten() {
                Some(text) => {
                    let mut message = message.clone();
                    replace_content(&mut message, text);
                    out.serialize_element(&message)?;
                }
                None => out.serialize_element(message)?,
            }
        }
        out.end()
    }
}

/// Replaces a message's billed text with `text`: a string content becomes
/// `text`; in an array content the first text part gets `text` and the other
/// text parts go, while images, audio and files stay.
fn replace_content(message: &mut Value, text: &str) {
    let Value::Object(map) = message else {
        return;
    };
    match map.get_mut("content") {
        Some(Value::Array(parts)) => {
            let mut placed = false;
            parts.retain_mut(|part| {
                let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
                if kind != "text" && kind != "refusal" {
                    return true;
                }
                if placed {
                    return false;
                }
                placed = true;
                *part = serde_json::json!({"type": "text", "text": text});
                true
            });
            if !placed {
                parts.insert(0, serde_json::json!({"type": "text", "text": text}));
            }
        }
        _ => {
            map.insert("content".into(), Value::String(text.to_string()));
        }
    }
}

/// A copy of a chat set framed for one tokenizer and framing, with the
/// notes on what the count does not cover exactly.
pub(super) struct Framed {
    /// The framed item set.
    pub set: ItemSet,
    /// Notes from the chat count (tool-call framing not published, ...).
    pub notes: Vec<String>,
    /// Per item: the part of the request it stands for.
    pub parts: Vec<Option<ChatPart>>,
}

impl Framed {
    /// Whether the item at `i` is billed with every request (the reply
    /// priming), so it is never removed.
    pub fn is_fixed(&self, i: usize) -> bool {
        self.parts.get(i).copied().flatten() == Some(ChatPart::ReplyPriming)
    }

    /// Whether any message item is included (`included` per item).
    pub fn keeps_a_message(&self, included: impl Iterator<Item = bool>) -> bool {
        self.parts
            .iter()
            .zip(included)
            .any(|(part, inc)| inc && matches!(part, Some(ChatPart::Message(_))))
    }

    /// The trimmed request as pretty JSON (see [`ChatLayout::trimmed_json`]).
    pub fn request_json(&self, included: &[bool], texts: &[Option<&str>]) -> String {
        match &self.set.chat {
            Some(layout) => layout.trimmed_json(&self.parts, included, texts),
            None => String::new(),
        }
    }
}

/// Frames `set` (loaded with `layout`) for `tokenizer` and `framing`: see
/// the module documentation.
pub(super) fn frame(
    set: &ItemSet,
    layout: &Arc<ChatLayout>,
    tokenizer: &Tokenizer,
    cache: &CountCache,
    framing: Option<ChatFraming>,
    model: Option<&str>,
) -> Framed {
    let count = ChatCounter::new(tokenizer, framing)
        .with_cache(cache)
        .with_images(layout.image_rule(model))
        .count(&layout.parsed);
    let parts = layout.parts_of(set);
    let mut framed = ItemSet {
        budget: set.budget.clone(),
        sections: set.sections.clone(),
        items: set
            .items
            .iter()
            .zip(&parts)
            .map(|(item, part)| bare_copy(item, part))
            .collect(),
        sources: Vec::new(),
        warnings: Vec::new(),
        chat: set.chat.clone(),
    };
    let mut cost = vec![0usize; framed.items.len()];
    for (i, item) in framed.items.iter_mut().enumerate() {
        match parts[i] {
            Some(ChatPart::Message(k)) => {
                let billed = count.messages.get(k);
                let total = billed.map_or(0, |m| m.total);
                // The message's content count is its text's count, unless a
                // `refusal` field adds to it.
                let refusal = layout
                    .parsed
                    .messages
                    .get(k)
                    .is_some_and(|m| m.refusal.is_some());
                let text = match billed {
                    Some(m) if !refusal => m.content,
                    _ => cache.count(tokenizer, item.text()),
                };
                item.overhead = total.saturating_sub(text);
                cost[i] = total.max(text);
            }
            Some(ChatPart::Tools) => {
                item.overhead = count.tools;
                cost[i] = count.tools;
            }
            Some(ChatPart::ReplyPriming) => {
                item.overhead = count.reply_priming;
                cost[i] = count.reply_priming;
            }
            None => {
                let text = match &item.content {
                    Content::Text(t) => cache.count(tokenizer, t),
                    Content::Given(n) => *n,
                };
                cost[i] = text.saturating_add(item.overhead);
            }
        }
    }
    for section in &mut framed.sections {
        section.title = None;
        section.separator = Some(String::new());
        if section.budget == SectionBudget::Share(0.0) {
            let need = framed
                .items
                .iter()
                .zip(&cost)
                .filter(|(item, _)| item.section == section.name)
                .fold(0usize, |sum, (_, &c)| sum.saturating_add(c));
            section.budget = SectionBudget::Tokens(need);
        }
    }
    Framed {
        set: framed,
        notes: count.notes,
        parts,
    }
}

/// A copy of `item` with what the engine reads: not its `meta`, `tags` or
/// `path` (which only the caller's reports use, from the set it packed), and
/// no text for the parts that render none (the tools and the reply priming
/// cost their framed count alone).
fn bare_copy(item: &Item, part: &Option<ChatPart>) -> Item {
    let content = match part {
        Some(ChatPart::Tools | ChatPart::ReplyPriming) => Content::Text(String::new()),
        _ => item.content.clone(),
    };
    Item {
        id: item.id.clone(),
        section: item.section.clone(),
        content,
        path: None,
        priority: item.priority,
        category: item.category.clone(),
        level: item.level,
        kind: item.kind,
        pinned: item.pinned,
        group: item.group.clone(),
        tags: Vec::new(),
        meta: BTreeMap::new(),
        overhead: item.overhead,
    }
}
