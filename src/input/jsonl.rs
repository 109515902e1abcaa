//! JSONL retrieval results: one JSON object per line.
//!
//! Each non-blank line is an item: `text` (required, a string) is its text,
//! `id` (a string or a number) its id, `score` (a number) its priority
//! (default 1.0). The field names are configurable ([`JsonlFields`]). Other
//! fields are kept in the item's `meta`. Items go to one section, `retrieved`
//! by default ([`LoadOptions::jsonl_section`]), which gets the whole share.
//! A line without an id gets `section-slug/LINE`; an id seen before gets
//! `~2`, `~3`, ... with a warning. A line that is not a JSON object, or a
//! field of the wrong type, is an error naming the line and column.

use rustc_hash::FxHashSet as HashSet;
use std::path::Path;

use serde_json::{Map, Value};

use crate::engine::{Item, ItemSet, Section};
use crate::input::detect::LoadOptions;
use crate::input::load_error::{InputError, quote};
use crate::input::markdown::{slug, unique_id};

/// The field names of a JSONL retrieval result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonlFields {
    /// The id field (default `id`); optional in each line.
    pub id: String,
    /// The text field (default `text`); required in each line.
    pub text: String,
    /// The score field, used as priority (default `score`); optional.
    pub score: String,
}

impl Default for JsonlFields {
    fn default() -> Self {
        JsonlFields {
            id: "id".into(),
            text: "text".into(),
            score: "score".into(),
        }
    }
}

/// The default section of JSONL items.
pub const DEFAULT_SECTION: &str = "retrieved";

/// Loads JSONL retrieval results from their text.
pub fn parse(path: &Path, text: &str, options: &LoadOptions) -> Result<ItemSet, InputError> {
    let fields = &options.jsonl_fields;
    for (what, name) in [
        ("JSONL id field", &fields.id),
        ("JSONL text field", &fields.text),
        ("JSONL score field", &fields.score),
    ] {
        if name.trim().is_empty() {
            return Err(InputError::Option {
                option: what,
                value: name.clone(),
                message: "expected a field name".into(),
            });
        }
    }
    let section = if options.jsonl_section.trim().is_empty() {
        DEFAULT_SECTION.to_string()
    } else {
        options.jsonl_section.clone()
    };
    let section_slug = slug(&section);

    let mut set = ItemSet::default();
    set.sections.push(Section::share(section.clone(), 100.0));
    set.sources.push(path.to_path_buf());
    let mut used = HashSet::default();

    let mut offset = 0usize;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| {
            InputError::at(
                path,
                text,
                line_start + byte_of_column(line, e.column()),
                format!(
                    "expected a JSON object on this line: {}",
                    strip_position(&e)
                ),
            )
        })?;
        let Value::Object(mut object) = value else {
            return Err(InputError::at(
                path,
                text,
                line_start + indent(line),
                format!("expected a JSON object with a `{}` field", fields.text),
            ));
        };
        let at = |field: &str| line_start + field_offset(line, field);

        let item_text = match object.remove(&fields.text) {
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(InputError::at(
                    path,
                    text,
                    at(&fields.text),
                    format!(
                        "expected `{}` to be a string, found {}",
                        fields.text,
                        type_name(&other)
                    ),
                ));
            }
            None => {
                return Err(InputError::at(
                    path,
                    text,
                    line_start + indent(line),
                    format!("expected a `{}` field with the chunk's text", fields.text),
                ));
            }
        };
        let wanted_id = match object.remove(&fields.id) {
            None | Some(Value::Null) => format!("{section_slug}/{line_no}"),
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => {
                return Err(InputError::at(
                    path,
                    text,
                    at(&fields.id),
                    format!(
                        "expected `{}` to be a non-empty string or a number, found {}",
                        fields.id,
                        describe(&other)
                    ),
                ));
            }
        };
        let priority = match object.remove(&fields.score) {
            None | Some(Value::Null) => 1.0,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(x) if x.is_finite() => x,
                _ => {
                    return Err(InputError::at(
                        path,
                        text,
                        at(&fields.score),
                        format!("expected `{}` to be a finite number", fields.score),
                    ));
                }
            },
            Some(other) => {
                return Err(InputError::at(
                    path,
                    text,
                    at(&fields.score),
                    format!(
                        "expected `{}` to be a number, found {}",
                        fields.score,
                        describe(&other)
                    ),
                ));
            }
        };
        let id = unique_id(&mut used, &wanted_id);
        if id != wanted_id {
            set.warnings.push(format!(
                "{}:{line_no}: id {} was used before; this item is {}",
                path.display(),
                quote(&wanted_id),
                quote(&id)
            ));
        }
        let mut item = Item::new(id, section.clone(), item_text);
        item.priority = priority;
        item.meta = meta(object);
        set.items.push(item);
    }
    Ok(set)
}

fn meta(object: Map<String, Value>) -> std::collections::BTreeMap<String, Value> {
    object.into_iter().collect()
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The byte offset of `"field"` in the line (the start of the line when it
/// cannot be found, e.g. because the key is escaped).
fn field_offset(line: &str, field: &str) -> usize {
    let key = format!("\"{field}\"");
    line.find(&key).unwrap_or_else(|| indent(line))
}

/// serde_json columns are 1-based byte columns; 0 means "at the start".
fn byte_of_column(line: &str, column: usize) -> usize {
    let mut b = column.saturating_sub(1).min(line.len());
    while !line.is_char_boundary(b) {
        b -= 1;
    }
    b
}

/// serde_json's message without its own ` at line 1 column N` suffix.
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s).to_string(),
        other => type_name(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<ItemSet, InputError> {
        parse(Path::new("r.jsonl"), text, &LoadOptions::default())
    }

    #[test]
    fn lines_become_items() {
        let set = load("{\"id\":\"a\",\"text\":\"alpha\",\"score\":0.9,\"url\":\"u\"}\n\n{\"text\":\"beta\"}\r\n{\"id\":7,\"text\":\"gamma\",\"score\":0.1}").unwrap();
        assert_eq!(set.sections[0].name, "retrieved");
        let ids: Vec<_> = set.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["a", "retrieved/3", "7"]);
        assert_eq!(set.items[0].priority, 0.9);
        assert_eq!(set.items[1].priority, 1.0);
        assert_eq!(set.items[0].meta["url"], "u");
        assert_eq!(set.items[1].text(), "beta");
    }

    #[test]
    fn configurable_fields_and_section() {
        let options = LoadOptions {
            jsonl_fields: JsonlFields {
                id: "doc".into(),
                text: "chunk".into(),
                score: "relevance".into(),
            },
            jsonl_section: "docs".into(),
            ..LoadOptions::default()
        };
        let set = parse(
            Path::new("r.jsonl"),
            "{\"doc\":\"d1\",\"chunk\":\"c\",\"relevance\":0.5}\n",
            &options,
        )
        .unwrap();
        assert_eq!(set.items[0].id, "d1");
        assert_eq!(set.items[0].section, "docs");
        assert_eq!(set.items[0].priority, 0.5);
    }

    #[test]
    fn bad_lines_name_line_and_column() {
        let e = load("{\"text\":\"a\"}\n{\"text\": \"b\",}\n").unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert_eq!(e.column(), Some(14), "{e}");
        assert!(
            e.to_string()
                .starts_with("r.jsonl:2:14: expected a JSON object"),
            "{e}"
        );

        let e = load("{\"text\":\"a\"}\n  [1,2]\n").unwrap_err();
        assert_eq!((e.line(), e.column()), (Some(2), Some(3)));

        let e = load("{\"id\":\"x\", \"text\": 5}\n").unwrap_err();
        assert_eq!(e.column(), Some(12), "{e}");
        assert!(
            e.to_string()
                .contains("expected `text` to be a string, found a number")
        );

        let e = load("{\"text\":\"a\",\"score\":\"high\"}").unwrap_err();
        assert!(
            e.to_string()
                .contains("expected `score` to be a number, found `high`"),
            "{e}"
        );

        let e = load("{\"id\":\"x\"}").unwrap_err();
        assert!(e.to_string().contains("expected a `text` field"), "{e}");
    }

    #[test]
    fn repeated_ids_are_renamed_with_a_warning() {
        let set = load("{\"id\":\"a\",\"text\":\"1\"}\n{\"id\":\"a\",\"text\":\"2\"}\n").unwrap();
        assert_eq!(set.items[1].id, "a~2");
        assert_eq!(set.warnings.len(), 1);
        assert!(
            set.warnings[0].starts_with("r.jsonl:2:"),
            "{:?}",
            set.warnings
        );
    }
}
