//! Front matter of a Markdown prompt file: budget settings in a `+++` TOML
//! block or a `---` block of simple `key: value` lines.
//!
//! Recognised keys (in either form; in TOML also inside a `[budget]` table):
//! `total` (alias `budget`), `model`, `encoding`, `strategy`, `overflow`,
//! `reserve_output`, `reserved`, `reallocate`, `min_priority`,
//! `heading_level` (1-6: the heading level that starts a section) and
//! `split` (`"name=pct, name=pct"`, or a TOML table `{ name = pct }`).
//! Other keys (`title`, `tags`, ...) are ignored with a warning, so a file's
//! usual metadata does not get in the way. A `---` block without a closing
//! `---` line is not front matter (it is a thematic break).

use std::path::Path;

use crate::engine::{Budget, Overflow, Strategy};
use crate::input::load_error::{InputError, quote};

/// A front-matter value, from either syntax.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
    /// `split` as a TOML table.
    Pairs(Vec<(String, f64)>),
    /// A TOML value of another type, by type name.
    Other(&'static str),
}

/// A section share asked for by `split`, with the offset of the setting.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SplitShare {
    /// The section name as written.
    pub name: String,
    /// The percentage.
    pub share: f64,
    /// Byte offset of the `split` value in the file.
    pub offset: usize,
}

/// What the front matter says.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FrontMatter {
    /// Byte offset where the Markdown body starts (0 without front matter).
    pub body_start: usize,
    /// Whether a front-matter block was present.
    pub present: bool,
    /// Budget settings, applied over [`Budget::default`].
    pub budget: Budget,
    /// The section heading level, with the offset of the setting.
    pub heading_level: Option<(u8, usize)>,
    /// Explicit section shares.
    pub split: Vec<SplitShare>,
    /// Keys that were ignored.
    pub ignored: Vec<String>,
}

/// Reads the front matter at the start of `text`, if any.
pub(crate) fn parse(path: &Path, text: &str) -> Result<FrontMatter, InputError> {
    let mut fm = FrontMatter::default();
    let Some((fence, body_range, body_start)) = find_block(text) else {
        return Ok(fm);
    };
    fm.present = true;
    fm.body_start = body_start;
    let block = &text[body_range.clone()];
    let entries = if fence == "+++" {
        toml_entries(path, text, block, body_range.start)?
    } else {
        yaml_entries(path, text, block, body_range.start)?
    };
    for (key, value, offset) in entries {
        apply(path, text, &mut fm, &key, value, offset)?;
    }
    Ok(fm)
}

/// Finds a fenced block at the very start: (fence, content range, body start).
fn find_block(text: &str) -> Option<(&'static str, std::ops::Range<usize>, usize)> {
    let fence = ["---", "+++"].into_iter().find(|f| {
        text.strip_prefix(f)
            .is_some_and(|rest| rest.starts_with('\n') || rest.starts_with("\r\n"))
    })?;
    let first_line_end = text.find('\n')? + 1;
    let mut offset = first_line_end;
    for line in text[first_line_end..].split_inclusive('\n') {
        let trimmed = line.trim_end_matches(['\n', '\r']).trim_end();
        if trimmed == fence || (fence == "---" && trimmed == "...") {
            return Some((fence, first_line_end..offset, offset + line.len()));
        }
        offset += line.len();
    }
    None
}

/// `key: value` lines. Indented lines and `- item` lines continue the
/// previous key (YAML lists and maps), which is fine for ignored keys only.
fn yaml_entries(
    path: &Path,
    text: &str,
    block: &str,
    base: usize,
) -> Result<Vec<(String, Value, usize)>, InputError> {
    let mut out: Vec<(String, Value, usize)> = Vec::new();
    let mut last_key: Option<(String, usize)> = None;
    let mut offset = base;
    for line in block.split_inclusive('\n') {
        let line_offset = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if content.starts_with([' ', '\t']) || trimmed.starts_with("- ") || trimmed == "-" {
            if let Some((key, _)) = &last_key
                && is_known(key)
            {
                let at = line_offset + (content.len() - content.trim_start().len());
                return Err(InputError::at(
                    path,
                    text,
                    at,
                    format!("expected the value of `{key}` on its line, as `{key}: value`"),
                ));
            }
            continue;
        }
        let Some(colon) = content.find(':') else {
            return Err(InputError::at(
                path,
                text,
                line_offset,
                format!(
                    "expected `key: value` in the front matter, found {}",
                    quote(trimmed)
                ),
            ));
        };
        let key = content[..colon].trim().to_string();
        let raw = &content[colon + 1..];
        let value_offset = line_offset + colon + 1 + (raw.len() - raw.trim_start().len());
        let value = unquote_yaml(raw.trim());
        last_key = Some((key.clone(), value_offset));
        if value.is_empty() {
            if is_known(&key) {
                return Err(InputError::at(
                    path,
                    text,
                    value_offset,
                    format!("expected a value after `{key}:`"),
                ));
            }
            out.push((key, Value::Other("map"), value_offset));
            continue;
        }
        out.push((key, Value::Text(value), value_offset));
    }
    Ok(out)
}

/// Strips matching quotes, or a trailing ` # comment` from an unquoted value.
fn unquote_yaml(raw: &str) -> String {
    for q in ['"', '\''] {
        if raw.len() >= 2 && raw.starts_with(q) && raw.ends_with(q) {
            return raw[1..raw.len() - 1].to_string();
        }
    }
    match raw.find(" #") {
        Some(i) => raw[..i].trim_end().to_string(),
        None => raw.to_string(),
    }
}

fn toml_entries(
    path: &Path,
    text: &str,
    block: &str,
    base: usize,
) -> Result<Vec<(String, Value, usize)>, InputError> {
    let doc = toml_edit::Document::parse(block).map_err(|e| {
        let at = base + e.span().map_or(0, |s| s.start);
        InputError::at(
            path,
            text,
            at,
            format!("invalid TOML front matter: {}", e.message().trim()),
        )
    })?;
    let mut out = Vec::new();
    for (key, item) in doc.as_table().iter() {
        let offset = base + item.span().map_or(0, |s| s.start);
        if key == "budget"
            && let Some(table) = item.as_table_like()
        {
            for (k, inner) in table.iter() {
                let off = base + inner.span().map_or(offset - base, |s| s.start);
                out.push((k.to_string(), toml_value(inner), off));
            }
            continue;
        }
        out.push((key.to_string(), toml_value(item), offset));
    }
    Ok(out)
}

fn toml_value(item: &toml_edit::Item) -> Value {
    use toml_edit::Value as V;
    if let Some(table) = item.as_table_like() {
        let mut pairs = Vec::new();
        for (k, v) in table.iter() {
            let n = match v.as_value() {
                Some(V::Integer(i)) => *i.value() as f64,
                Some(V::Float(f)) => *f.value(),
                _ => return Value::Other("table"),
            };
            pairs.push((k.to_string(), n));
        }
        return Value::Pairs(pairs);
    }
    match item.as_value() {
        Some(V::String(s)) => Value::Text(s.value().clone()),
        Some(V::Integer(i)) => Value::Integer(*i.value()),
        Some(V::Float(f)) => Value::Float(*f.value()),
        Some(V::Boolean(b)) => Value::Bool(*b.value()),
        Some(V::Datetime(_)) => Value::Other("date"),
        Some(V::Array(_)) => Value::Other("array"),
        Some(V::InlineTable(_)) => Value::Other("table"),
        None => Value::Other("table"),
    }
}

const KNOWN: &[&str] = &[
    "total",
    "budget",
    "model",
    "encoding",
    "strategy",
    "overflow",
    "reserve_output",
    "reserved",
    "reallocate",
    "min_priority",
    "heading_level",
    "split",
];

fn is_known(key: &str) -> bool {
    KNOWN.contains(&key)
}

fn describe(value: &Value) -> String {
    match value {
        Value::Text(s) => quote(s).to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Pairs(_) => "a table".to_string(),
        Value::Other(t) => format!("a {t}"),
    }
}

fn apply(
    path: &Path,
    text: &str,
    fm: &mut FrontMatter,
    key: &str,
    value: Value,
    offset: usize,
) -> Result<(), InputError> {
    let err = |expected: &str| {
        InputError::at(
            path,
            text,
            offset,
            format!(
                "expected {expected} for `{key}`, found {}",
                describe(&value)
            ),
        )
    };
    let budget = &mut fm.budget;
    match key {
        "total" | "budget" => {
            budget.total = Some(as_count(&value).ok_or_else(|| err("a token count"))?)
        }
        "reserve_output" => {
            budget.reserve_output = as_count(&value).ok_or_else(|| err("a token count"))?;
        }
        "reserved" => budget.reserved = as_count(&value).ok_or_else(|| err("a token count"))?,
        "model" => budget.model = Some(as_name(&value).ok_or_else(|| err("a model name"))?),
        "encoding" => {
            budget.encoding = Some(as_name(&value).ok_or_else(|| err("an encoding name"))?);
        }
        "strategy" => {
            let name = as_name(&value).ok_or_else(|| err("a strategy name"))?;
            budget.strategy = name
                .parse::<Strategy>()
                .map_err(|e| InputError::at(path, text, offset, e.to_string()))?;
        }
        "overflow" => {
            let name = as_name(&value).ok_or_else(|| err("an overflow mode"))?;
            budget.overflow = name
                .parse::<Overflow>()
                .map_err(|e| InputError::at(path, text, offset, e.to_string()))?;
        }
        "reallocate" => budget.reallocate = as_bool(&value).ok_or_else(|| err("true or false"))?,
        "min_priority" => {
            budget.min_priority = Some(as_number(&value).ok_or_else(|| err("a number"))?);
        }
        "heading_level" => {
            let level = as_count(&value)
                .filter(|l| (1..=6).contains(l))
                .ok_or_else(|| err("a heading level from 1 to 6"))?;
            fm.heading_level = Some((level as u8, offset));
        }
        "split" => fm.split = split_shares(path, text, &value, offset)?,
        _ => fm.ignored.push(key.to_string()),
    }
    Ok(())
}

fn as_count(v: &Value) -> Option<usize> {
    match v {
        Value::Integer(i) => usize::try_from(*i).ok(),
        Value::Text(s) => s.trim().replace('_', "").parse().ok(),
        _ => None,
    }
}

fn as_number(v: &Value) -> Option<f64> {
    let n = match v {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Text(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Some(true),
            "false" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn as_name(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// `name=pct, name=pct` (a `%` after the number is allowed), or TOML pairs.
fn split_shares(
    path: &Path,
    text: &str,
    value: &Value,
    offset: usize,
) -> Result<Vec<SplitShare>, InputError> {
    let pairs: Vec<(String, f64)> = match value {
        Value::Pairs(p) => p.clone(),
        Value::Text(s) => {
            let mut out = Vec::new();
            for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let parsed = part.rsplit_once('=').and_then(|(name, pct)| {
                    let pct = pct
                        .trim()
                        .trim_end_matches('%')
                        .trim()
                        .parse::<f64>()
                        .ok()?;
                    Some((name.trim().to_string(), pct))
                });
                match parsed {
                    Some((name, pct)) if !name.is_empty() => out.push((name, pct)),
                    _ => {
                        return Err(InputError::at(
                            path,
                            text,
                            offset,
                            format!("expected `name=percent` in `split`, found {}", quote(part)),
                        ));
                    }
                }
            }
            out
        }
        other => {
            return Err(InputError::at(
                path,
                text,
                offset,
                format!(
                    "expected `split` as \"name=percent, ...\", found {}",
                    describe(other)
                ),
            ));
        }
    };
    pairs
        .into_iter()
        .map(|(name, share)| {
            if share.is_finite() && (0.0..=100.0).contains(&share) {
                Ok(SplitShare {
                    name,
                    share,
                    offset,
                })
            } else {
                Err(InputError::at(
                    path,
                    text,
                    offset,
                    format!(
                        "expected a percentage from 0 to 100 for section `{name}`, found {share}"
                    ),
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fm(text: &str) -> Result<FrontMatter, InputError> {
        parse(Path::new("p.md"), text)
    }

    #[test]
    fn yaml_like_settings() {
        let f = fm("---\ntitle: My prompt\ntotal: 8000\nmodel: gpt-4o\nstrategy: \"strict\"\noverflow: truncate # cut\nreserve_output: 500\nsplit: Rules=60, Examples=40%\n---\n# Body\n").unwrap();
        assert!(f.present);
        assert_eq!(f.budget.total, Some(8000));
        assert_eq!(f.budget.model.as_deref(), Some("gpt-4o"));
        assert_eq!(f.budget.strategy, Strategy::Strict);
        assert_eq!(f.budget.overflow, Overflow::Truncate);
        assert_eq!(f.budget.reserve_output, 500);
        assert_eq!(f.split.len(), 2);
        assert_eq!(f.split[1].name, "Examples");
        assert_eq!(f.split[1].share, 40.0);
        assert_eq!(f.ignored, vec!["title".to_string()]);
        assert!(fm("---\n---\nx").unwrap().body_start == 8);
    }

    #[test]
    fn toml_settings_flat_or_in_budget_table() {
        let f = fm("+++\nheading_level = 3\n[budget]\ntotal = 1200\nreallocate = false\nsplit = { a = 30, b = 70 }\n+++\nbody").unwrap();
        assert_eq!(f.budget.total, Some(1200));
        assert!(!f.budget.reallocate);
        assert_eq!(f.heading_level.map(|h| h.0), Some(3));
        assert_eq!(f.split.len(), 2);
        assert_eq!(
            &"+++\nheading_level = 3\n[budget]\ntotal = 1200\nreallocate = false\nsplit = { a = 30, b = 70 }\n+++\nbody"
                [f.body_start..],
            "body"
        );
    }

    #[test]
    fn errors_point_at_the_value() {
        let e = fm("---\ntotal: lots\n---\n").unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert_eq!(e.column(), Some(8));
        assert!(
            e.to_string().contains("expected a token count for `total`"),
            "{e}"
        );

        let e = fm("+++\nstrategy = \"fastest\"\n+++\n").unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.to_string().contains("greedy"), "{e}");

        let e = fm("+++\ntotal = \n+++\n").unwrap_err();
        assert_eq!(e.line(), Some(2), "{e}");

        let e = fm("---\nno colon here\n---\n").unwrap_err();
        assert!(e.to_string().contains("expected `key: value`"), "{e}");

        let e = fm("---\ntotal:\n  - 5\n---\n").unwrap_err();
        assert_eq!(e.line(), Some(2), "{e}");
    }

    #[test]
    fn unclosed_dashes_are_not_front_matter() {
        let f = fm("---\ntotal: 5\n\ntext").unwrap();
        assert!(!f.present);
        assert_eq!(f.body_start, 0);
    }

    #[test]
    fn yaml_lists_under_ignored_keys_are_skipped() {
        let f = fm("---\ntags:\n  - a\n  - b\ntotal: 10\n---\n").unwrap();
        assert_eq!(f.budget.total, Some(10));
        assert_eq!(f.ignored, vec!["tags".to_string()]);
    }
}
