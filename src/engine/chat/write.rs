//! Writing back a trimmed request of the Anthropic Messages, OpenAI
//! Responses and Gemini formats: the kept entries of its conversation
//! array, their changed text in place, every other field as written.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::tokens::ImageRule;

/// The API a request is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestFormat {
    /// OpenAI chat completions (`messages`).
    Chat,
    /// Anthropic Messages (`system`, `messages`).
    Anthropic,
    /// OpenAI Responses (`instructions`, `input`).
    Responses,
    /// Gemini `generateContent` (`systemInstruction`, `contents`).
    Gemini,
}

impl RequestFormat {
    /// The name shown to people: `OpenAI chat completions`, ...
    pub fn label(self) -> &'static str {
        match self {
            RequestFormat::Chat => "OpenAI chat completions",
            RequestFormat::Anthropic => "Anthropic Messages",
            RequestFormat::Responses => "OpenAI Responses",
            RequestFormat::Gemini => "Gemini generateContent",
        }
    }

    /// The top-level keys that go with the tool definitions, removed with
    /// them.
    pub fn tool_keys(self) -> &'static [&'static str] {
        match self {
            RequestFormat::Chat => &[
                "tools",
                "functions",
                "tool_choice",
                "function_call",
                "parallel_tool_calls",
            ],
            RequestFormat::Anthropic => &["tools", "tool_choice"],
            RequestFormat::Responses => &["tools", "tool_choice", "parallel_tool_calls"],
            RequestFormat::Gemini => &["tools", "toolConfig", "tool_config"],
        }
    }

    /// How images are billed for `model` (the run's model, else the
    /// request's): by the provider the format is sent to.
    pub fn image_rule(self, model: Option<&str>) -> ImageRule {
        match self {
            RequestFormat::Chat | RequestFormat::Responses => ImageRule::openai(model),
            RequestFormat::Anthropic => ImageRule::Anthropic,
            RequestFormat::Gemini => ImageRule::Gemini,
        }
    }
}

/// One step of a path into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A string in a message that holds part of its billed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The path from the message's value to the string.
    pub path: Vec<PathSeg>,
    /// Whether the string is the only text of an array element that can
    /// go when it is emptied (a text block or part); otherwise it is set
    /// to `""` (a tool result's content, a field).
    pub removable: bool,
}

/// Where a message of the normalized conversation is in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The top-level key: `messages`, `system`, `input`, `contents`, ...
    pub key: String,
    /// The index in that key's array; `None` for the key's whole value.
    pub index: Option<usize>,
    /// The strings that hold the message's billed text, in order.
    pub slots: Vec<Slot>,
}

/// The request less what is cut (see the module documentation).
pub(super) struct Trimmed<'a> {
    pub request: &'a Value,
    pub format: RequestFormat,
    pub origins: &'a [Origin],
    /// Per message: kept.
    pub keep: &'a [bool],
    /// Per message: its new billed text, when cut or degraded.
    pub changed: &'a [Option<&'a str>],
    pub keep_tools: bool,
    /// (key, index) → message, for [`Trimmed::message_at`].
    pub at: rustc_hash::FxHashMap<(&'a str, Option<usize>), usize>,
}

/// The index of `origins` by (key, index).
pub(super) fn origin_index(
    origins: &[Origin],
) -> rustc_hash::FxHashMap<(&str, Option<usize>), usize> {
    origins
        .iter()
        .enumerate()
        .map(|(k, o)| ((o.key.as_str(), o.index), k))
        .collect()
}

impl Trimmed<'_> {
    /// The message at (`key`, `index`), if any.
    fn message_at(&self, key: &str, index: Option<usize>) -> Option<usize> {
        self.at.get(&(key, index)).copied()
    }

    /// `value` (message `k`'s) with its changes.
    fn entry<'v>(&self, k: usize, value: &'v Value) -> std::borrow::Cow<'v, Value> {
        match self.changed.get(k).copied().flatten() {
            Some(text) => {
                let mut value = value.clone();
                set_text(&mut value, &self.origins[k].slots, text);
                std::borrow::Cow::Owned(value)
            }
            None => std::borrow::Cow::Borrowed(value),
        }
    }

    fn kept(&self, k: usize) -> bool {
        self.keep.get(k).copied().unwrap_or(true)
    }
}

impl Serialize for Trimmed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Value::Object(map) = self.request else {
            return self.request.serialize(serializer);
        };
        let tool_keys = self.format.tool_keys();
        let mut out = serializer.serialize_map(None)?;
        for (key, value) in map {
            if !self.keep_tools && tool_keys.contains(&key.as_str()) {
                continue;
            }
            if let Some(k) = self.message_at(key, None) {
                if self.kept(k) {
                    out.serialize_entry(key, self.entry(k, value).as_ref())?;
                }
                continue;
            }
            match value {
                Value::Array(list) if self.origins.iter().any(|o| &o.key == key) => out
                    .serialize_entry(
                        key,
                        &Entries {
                            key,
                            list,
                            trimmed: self,
                        },
                    )?,
                _ => out.serialize_entry(key, value)?,
            }
        }
        out.end()
    }
}

/// The kept entries of one conversation array.
struct Entries<'a> {
    key: &'a str,
    list: &'a [Value],
    trimmed: &'a Trimmed<'a>,
}

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_seq(None)?;
        for (j, value) in self.list.iter().enumerate() {
            match self.trimmed.message_at(self.key, Some(j)) {
                Some(k) if !self.trimmed.kept(k) => {}
                Some(k) => out.serialize_element(self.trimmed.entry(k, value).as_ref())?,
                None => out.serialize_element(value)?,
            }
        }
        out.end()
    }
}

/// The string at `path` in `value`.
pub fn get_str<'v>(value: &'v Value, path: &[PathSeg]) -> Option<&'v str> {
    get(value, path)?.as_str()
}

fn get<'v>(value: &'v Value, path: &[PathSeg]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, seg| match seg {
        PathSeg::Key(k) => v.get(k.as_str()),
        PathSeg::Index(i) => v.get(*i),
    })
}

fn get_mut<'v>(value: &'v mut Value, path: &[PathSeg]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, seg| match seg {
        PathSeg::Key(k) => v.get_mut(k.as_str()),
        PathSeg::Index(i) => v.get_mut(*i),
    })
}

/// Writes `text` over the message's slots: each slot keeps its text while
/// that text is still how `text` goes on (a cut keeps a prefix); the first
/// slot where it does not (or the last) gets the rest of `text`; the slots
/// after it are emptied (removed when removable, in reverse order so that
/// earlier paths stay valid, unless they are the last element of their
/// array), and so is that slot when the rest is empty. The slots' texts
/// joined are then `text`.
pub fn set_text(value: &mut Value, slots: &[Slot], text: &str) {
    let mut rest = text;
    let mut emptied = Vec::new();
    let mut placed = false;
    for (i, slot) in slots.iter().enumerate() {
        if placed {
            emptied.push(slot);
            continue;
        }
        let original = get_str(value, &slot.path).unwrap_or("").to_string();
        let last = i + 1 == slots.len();
        if !last && rest.starts_with(original.as_str()) {
            rest = &rest[original.len()..];
            continue;
        }
        placed = true;
        if rest.is_empty() && slot.removable {
            // An empty text block is refused by some APIs: it goes too.
            emptied.push(slot);
            continue;
        }
        if let Some(target) = get_mut(value, &slot.path) {
            *target = Value::String(rest.to_string());
        }
    }
    for slot in emptied.into_iter().rev() {
        let removed = slot.removable
            && slot.path.len() >= 2
            && match (
                &slot.path[slot.path.len() - 2],
                get_mut(value, &slot.path[..slot.path.len() - 2]),
            ) {
                // The last element of an array stays (emptied): some APIs
                // refuse empty content.
                (PathSeg::Index(i), Some(Value::Array(list)))
                    if *i < list.len() && list.len() > 1 =>
                {
                    list.remove(*i);
                    true
                }
                _ => false,
            };
        if !removed && let Some(target) = get_mut(value, &slot.path) {
            *target = Value::String(String::new());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn block(i: usize) -> Slot {
        Slot {
            path: vec![
                PathSeg::Key("content".into()),
                PathSeg::Index(i),
                PathSeg::Key("text".into()),
            ],
            removable: true,
        }
    }

    #[test]
    fn a_prefix_keeps_the_slots_it_covers() {
        let mut m = json!({"content": [{"type": "text", "text": "abc"}, {"type": "image"}, {"type": "text", "text": "defgh"}]});
        set_text(&mut m, &[block(0), block(2)], "abcde…");
        assert_eq!(m["content"][0]["text"], "abc");
        assert_eq!(m["content"][2]["text"], "de…");
        let mut m = json!({"content": [{"type": "text", "text": "abc"}, {"type": "image"}, {"type": "text", "text": "defgh"}]});
        set_text(&mut m, &[block(0), block(2)], "short");
        assert_eq!(m["content"][0]["text"], "short");
        assert_eq!(m["content"].as_array().unwrap().len(), 2, "{m}");
        assert_eq!(m["content"][1]["type"], "image");
    }

    #[test]
    fn an_empty_rest_removes_its_block_but_never_the_last_one() {
        let mut m = json!({"content": [{"type": "text", "text": "abc"}, {"type": "image"}, {"type": "text", "text": "def"}]});
        set_text(&mut m, &[block(0), block(2)], "abc");
        assert_eq!(m["content"].as_array().unwrap().len(), 2, "{m}");
        assert_eq!(m["content"][0]["text"], "abc");
        let mut m = json!({"content": [{"type": "text", "text": "abc"}]});
        set_text(&mut m, &[block(0)], "");
        assert_eq!(m, json!({"content": [{"type": "text", "text": ""}]}));
    }

    #[test]
    fn fields_are_emptied_not_removed() {
        let field = |k: &str| Slot {
            path: vec![PathSeg::Key(k.into())],
            removable: false,
        };
        let mut m = json!({"a": "xxxx", "b": "yyyy"});
        set_text(&mut m, &[field("a"), field("b")], "zz");
        assert_eq!(m, json!({"a": "zz", "b": ""}));
    }
}
