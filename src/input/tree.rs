//! A parsed document with the byte span of every key and value, the same for
//! TOML and JSON, so that one validator gives the same messages with exact
//! positions for both formats.
//!
//! TOML is parsed by the `toml` crate ([`toml::de::DeTable`], which keeps
//! spans). JSON is checked by `serde_json` first (its syntax errors carry the
//! line and column), then read again by a small scanner that recovers the
//! spans, which `serde_json` does not keep.

mod json;
mod table;

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::error::{LoadError, LoadErrorKind, Position};

pub use table::{TableView, describe_choice_error};

/// A value and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Byte range of the value in the source text.
    pub span: Range<usize>,
    /// The value.
    pub value: Value,
}

/// A table entry: a key, where the key is, and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// Byte range of the key in the source text.
    pub key_span: Range<usize>,
    /// The value.
    pub node: Node,
}

/// A value of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A table (TOML) or object (JSON), entries in source order.
    Table(Vec<Entry>),
    /// An array.
    Array(Vec<Node>),
    /// A string.
    String(String),
    /// An integer that fits `i64`.
    Integer(i64),
    /// A float (or a JSON number that is not an `i64`).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A TOML date-time, as written.
    Datetime(String),
    /// JSON `null`.
    Null,
}

impl Value {
    /// The type's name as a user reads it in an error message.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Table(_) => "a table",
            Value::Array(_) => "an array",
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Null => "null",
        }
    }

    /// The value as JSON (for free-form `meta`). Non-finite floats become
    /// strings (`"inf"`, `"NaN"`), date-times strings as written.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Table(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.node.value.to_json()))
                    .collect(),
            ),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(|n| n.value.to_json()).collect())
            }
            Value::String(s) | Value::Datetime(s) => serde_json::Value::String(s.clone()),
            Value::Integer(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map_or_else(|| serde_json::Value::String(f.to_string()), Into::into),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Null => serde_json::Value::Null,
        }
    }
}

/// A source text and the file it came from, for building errors.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The file, as named in messages.
    pub file: &'a Path,
    /// Its contents.
    pub text: &'a str,
}

impl Source<'_> {
    /// An error at the start of `span`.
    pub fn error(
        &self,
        span: &Range<usize>,
        kind: LoadErrorKind,
        message: impl Into<String>,
    ) -> LoadError {
        LoadError::at_span(self.file, self.text, span, kind, message)
    }

    /// The 1-based line of byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        Position::at_offset(self.text, offset).line
    }
}

/// Parses TOML into a [`Node`] tree; table entries are in source order.
pub fn parse_toml(src: Source<'_>) -> Result<Node, LoadError> {
    let doc = DeTable::parse(src.text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        LoadError::at_offset(
            src.file,
            src.text,
            offset,
            LoadErrorKind::Syntax,
            format!("invalid TOML: {}", e.message().trim_end()),
        )
    })?;
    let span = doc.span();
    Ok(Node {
        span,
        value: toml_table(src, doc.get_ref())?,
    })
}

fn toml_table(src: Source<'_>, table: &DeTable<'_>) -> Result<Value, LoadError> {
    let mut entries = Vec::with_capacity(table.len());
    for (key, value) in table.iter() {
        entries.push(Entry {
            key: key.get_ref().to_string(),
            key_span: key.span(),
            node: toml_node(src, value.span(), value.get_ref())?,
        });
    }
    // The toml map is ordered by key; messages should follow the file.
    entries.sort_by_key(|e| e.key_span.start);
    Ok(Value::Table(entries))
}

fn toml_node(src: Source<'_>, span: Range<usize>, value: &DeValue<'_>) -> Result<Node, LoadError> {
    let value = match value {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Value::Integer(n),
            Err(_) => {
                return Err(src.error(
                    &span,
                    LoadErrorKind::InvalidValue,
                    format!("integer `{i}` is out of range"),
                ));
            }
        },
        DeValue::Float(f) => Value::Float(parse_toml_float(f.as_str())),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                out.push(toml_node(src, item.span(), item.get_ref())?);
            }
            Value::Array(out)
        }
        DeValue::Table(t) => toml_table(src, t)?,
    };
    Ok(Node { span, value })
}

fn parse_toml_float(text: &str) -> f64 {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    match cleaned.as_str() {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        "nan" | "+nan" | "-nan" => f64::NAN,
        other => other.parse().unwrap_or(f64::NAN),
    }
}

/// Parses JSON into a [`Node`] tree. Syntax errors come from `serde_json`,
/// with its line and column; duplicate keys in an object are an error too.
pub fn parse_json(src: Source<'_>) -> Result<Node, LoadError> {
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(src.text) {
        let message = e.to_string();
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        let position = Position {
            line: e.line().max(1),
            column: e.column().max(1),
        };
        return Err(LoadError::at_position(
            src.file,
            src.text,
            position,
            LoadErrorKind::Syntax,
            format!("invalid JSON: {message}"),
        ));
    }
    json::scan(src)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source<'_> {
        Source {
            file: Path::new("t"),
            text,
        }
    }

    #[test]
    fn toml_entries_follow_the_file_and_keep_spans() {
        let text = "b = 1\na = \"x\"\n[t]\nz = [1.5, true]\n";
        let node = parse_toml(src(text)).unwrap();
        let Value::Table(entries) = node.value else {
            panic!("table expected")
        };
        let keys: Vec<_> = entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "t"]);
        assert_eq!(&text[entries[1].node.span.clone()], "\"x\"");
        let Value::Table(t) = &entries[2].node.value else {
            panic!("table expected")
        };
        assert_eq!(
            t[0].node.value,
            Value::Array(vec![
                Node {
                    span: 23..26,
                    value: Value::Float(1.5)
                },
                Node {
                    span: 28..32,
                    value: Value::Bool(true)
                }
            ])
        );
    }

    #[test]
    fn json_syntax_errors_have_positions() {
        let e = parse_json(src("{\n  \"a\": 1\n  \"b\": 2\n}")).unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::Syntax);
        assert_eq!(e.position.map(|p| (p.line, p.column)), Some((3, 3)), "{e}");
        assert!(!e.message.contains(" at line "), "{}", e.message);
    }
}
