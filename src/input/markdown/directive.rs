//! Settings comments: `<!-- priority: 0.3 pinned -->` on its own line sets the
//! next item's settings.
//!
//! Settings are `key: value` (or `key=value`) pairs and the bare flag
//! `pinned`, separated by spaces or commas; a value with spaces is quoted
//! (`category: "user docs"`). Keys: `id`, `priority` (aliases `relevance`,
//! `score`), `pinned` (bare, or `true`/`false`), `kind`, `group`,
//! `category`, `level`, `tag` (alias `tags`; repeat it for several tags).
//! A comment whose first word is not one of these keys is ordinary content.

use std::path::Path;

use crate::engine::Kind;
use crate::input::load_error::{InputError, quote};

/// The settings a comment gives the next item.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Directive {
    /// An explicit id, with its byte offset in the file.
    pub id: Option<(String, usize)>,
    /// Priority.
    pub priority: Option<f64>,
    /// Pinned.
    pub pinned: Option<bool>,
    /// Kind.
    pub kind: Option<Kind>,
    /// Group.
    pub group: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Level.
    pub level: Option<i64>,
    /// Tags.
    pub tags: Vec<String>,
    /// Byte offset of the comment in the file.
    pub offset: usize,
}

impl Directive {
    /// Adds `later`'s settings over these (two comments in a row).
    pub fn merge(&mut self, later: Directive) {
        if later.id.is_some() {
            self.id = later.id;
        }
        self.priority = later.priority.or(self.priority);
        self.pinned = later.pinned.or(self.pinned);
        self.kind = later.kind.or(self.kind);
        if later.group.is_some() {
            self.group = later.group;
        }
        if later.category.is_some() {
            self.category = later.category;
        }
        self.level = later.level.or(self.level);
        self.tags.extend(later.tags);
    }
}

const KEYS: &[&str] = &[
    "id",
    "priority",
    "relevance",
    "score",
    "pinned",
    "kind",
    "group",
    "category",
    "level",
    "tag",
    "tags",
];

/// Parses an HTML block (`block`, at byte `offset` of `text`). `Ok(None)` when
/// it is not a settings comment.
pub(crate) fn parse(
    path: &Path,
    text: &str,
    block: &str,
    offset: usize,
) -> Result<Option<Directive>, InputError> {
    let trimmed = block.trim();
    let lead = block.len() - block.trim_start().len();
    let Some(inner) = trimmed
        .strip_prefix("<!--")
        .and_then(|s| s.strip_suffix("-->"))
    else {
        return Ok(None);
    };
    if inner.contains("<!--") || inner.contains("-->") {
        return Ok(None);
    }
    let inner_offset = offset + lead + 4;
    let tokens = tokenize(inner, inner_offset);
    let Some((first, _)) = tokens.first() else {
        return Ok(None);
    };
    let first_key = first
        .split([':', '='])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if !KEYS.contains(&first_key.as_str()) {
        return Ok(None);
    }

    let mut d = Directive {
        offset: offset + lead,
        ..Directive::default()
    };
    let mut i = 0;
    while i < tokens.len() {
        let (tok, at) = &tokens[i];
        i += 1;
        let (key, value) = match tok.find([':', '=']) {
            Some(p) => {
                let key = tok[..p].to_ascii_lowercase();
                let rest = &tok[p + 1..];
                if rest.is_empty() {
                    match tokens.get(i) {
                        Some((v, vat)) => {
                            i += 1;
                            (key, Some((v.clone(), *vat)))
                        }
                        None => {
                            return Err(InputError::at(
                                path,
                                text,
                                *at,
                                format!("expected a value after `{key}:`"),
                            ));
                        }
                    }
                } else {
                    (key, Some((rest.to_string(), at + p + 1)))
                }
            }
            None => (tok.to_ascii_lowercase(), None),
        };
        apply(path, text, &mut d, &key, value, *at)?;
    }
    Ok(Some(d))
}

fn apply(
    path: &Path,
    text: &str,
    d: &mut Directive,
    key: &str,
    value: Option<(String, usize)>,
    key_at: usize,
) -> Result<(), InputError> {
    let Some((value, at)) = value else {
        if key == "pinned" {
            d.pinned = Some(true);
            return Ok(());
        }
        return Err(InputError::at(
            path,
            text,
            key_at,
            format!(
                "expected `key: value` or `pinned` in a settings comment, found {}; keys: {}",
                quote(key),
                KEYS.join(", ")
            ),
        ));
    };
    let bad = |expected: &str| {
        InputError::at(
            path,
            text,
            at,
            format!("expected {expected} for `{key}`, found {}", quote(&value)),
        )
    };
    match key {
        "id" => {
            if value.is_empty() {
                return Err(bad("a non-empty id"));
            }
            d.id = Some((value.clone(), at));
        }
        "priority" | "relevance" | "score" => {
            let n: f64 = value.parse().map_err(|_| bad("a number"))?;
            if !n.is_finite() {
                return Err(bad("a finite number"));
            }
            d.priority = Some(n);
        }
        "pinned" => {
            d.pinned = Some(match value.to_ascii_lowercase().as_str() {
                "true" | "yes" => true,
                "false" | "no" => false,
                _ => return Err(bad("true or false")),
            });
        }
        "kind" => {
            d.kind = Some(
                value
                    .parse::<Kind>()
                    .map_err(|e| InputError::at(path, text, at, e.to_string()))?,
            );
        }
        "group" => d.group = Some(value),
        "category" => d.category = Some(value),
        "level" => d.level = Some(value.parse().map_err(|_| bad("an integer"))?),
        "tag" | "tags" => d.tags.push(value),
        _ => {
            return Err(InputError::at(
                path,
                text,
                key_at,
                format!(
                    "unknown setting {}; expected one of: {}",
                    quote(key),
                    KEYS.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Splits on whitespace and commas; double quotes group (and are removed).
/// Each token comes with its byte offset in the file.
fn tokenize(s: &str, base: usize) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
            start.get_or_insert(i);
            continue;
        }
        if !quoted && (c.is_whitespace() || c == ',') {
            if let Some(st) = start.take() {
                out.push((std::mem::take(&mut cur), base + st));
            }
            continue;
        }
        start.get_or_insert(i);
        cur.push(c);
    }
    if let Some(st) = start {
        out.push((cur, base + st));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(block: &str) -> Result<Option<Directive>, InputError> {
        parse(Path::new("p.md"), block, block, 0)
    }

    #[test]
    fn reads_settings() {
        let x = d("<!-- priority: 0.3 pinned, kind=code group: g1 category: \"user docs\" tag: a tag: b -->\n")
            .unwrap()
            .unwrap();
        assert_eq!(x.priority, Some(0.3));
        assert_eq!(x.pinned, Some(true));
        assert_eq!(x.kind, Some(Kind::Code));
        assert_eq!(x.group.as_deref(), Some("g1"));
        assert_eq!(x.category.as_deref(), Some("user docs"));
        assert_eq!(x.tags, vec!["a", "b"]);
    }

    #[test]
    fn ordinary_comments_are_not_settings() {
        assert_eq!(d("<!-- TODO: rewrite this -->").unwrap(), None);
        assert_eq!(d("<!---->").unwrap(), None);
        assert_eq!(d("<div>pinned</div>").unwrap(), None);
    }

    #[test]
    fn bad_values_point_at_the_value() {
        let e = d("<!-- priority: high -->").unwrap_err();
        assert_eq!(e.column(), Some(16), "{e}");
        assert!(
            e.to_string().contains("expected a number for `priority`"),
            "{e}"
        );
        let e = d("<!-- pinned colour: red -->").unwrap_err();
        assert!(e.to_string().contains("unknown setting `colour`"), "{e}");
        let e = d("<!-- kind: poem -->").unwrap_err();
        assert!(e.to_string().contains("prose"), "{e}");
        let e = d("<!-- pinned bogus -->").unwrap_err();
        assert!(
            e.to_string().contains("expected `key: value` or `pinned`"),
            "{e}"
        );
        let e = d("<!-- id: -->").unwrap_err();
        assert!(
            e.to_string().contains("expected a value after `id:`"),
            "{e}"
        );
    }
}
