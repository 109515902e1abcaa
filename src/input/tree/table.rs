//! Typed access to one table of a [`Node`] tree, with errors that name the
//! key, the table, what was found and what was expected.

use std::ops::Range;
use std::str::FromStr;

use super::{Entry, Node, Source, Value};
use crate::engine::UnknownChoice;
use crate::input::error::{LoadError, LoadErrorKind, closest};

/// Counts of tokens or items at or above this are refused: far beyond any
/// context window, and sums of them stay exact in an `f64` and fit a `usize`.
pub(crate) const COUNT_LIMIT: f64 = 9.0e15;

/// A string and where it is in the source.
pub type Spanned = (String, Range<usize>);

/// One table of a document, described for messages (e.g. `[budget]`,
/// ``section `pages` ``, `item #3`).
#[derive(Debug, Clone)]
pub struct TableView<'a> {
    /// The document.
    pub src: Source<'a>,
    /// Where the table is (for missing-key errors).
    pub span: Range<usize>,
    /// The entries.
    pub entries: &'a [Entry],
    /// The table as named in messages.
    pub what: String,
}

impl<'a> TableView<'a> {
    /// Views `node` as a table; an error when it is another type.
    pub fn new(
        src: Source<'a>,
        node: &'a Node,
        what: impl Into<String>,
    ) -> Result<Self, LoadError> {
        let what = what.into();
        match &node.value {
            Value::Table(entries) => Ok(TableView {
                src,
                span: node.span.clone(),
                entries,
                what,
            }),
            other => Err(src.error(
                &node.span,
                LoadErrorKind::InvalidValue,
                format!(
                    "{what} must be a table (an object in JSON), found {}",
                    other.type_name()
                ),
            )),
        }
    }

    /// An error for every key that is not in `valid`, naming the closest
    /// valid key and listing them all.
    pub fn check_keys(&self, valid: &[&str]) -> Result<(), LoadError> {
        for e in self.entries {
            if !valid.contains(&e.key.as_str()) {
                let hint = closest(&e.key, valid.iter().copied())
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                return Err(self.src.error(
                    &e.key_span,
                    LoadErrorKind::UnknownKey,
                    format!(
                        "unknown key `{}` in {}; {hint}valid keys: {}",
                        e.key,
                        self.what,
                        valid.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The entry for `key`.
    pub fn entry(&self, key: &str) -> Option<&'a Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// An error at `key`'s value.
    pub fn error_at(
        &self,
        entry: &Entry,
        kind: LoadErrorKind,
        message: impl Into<String>,
    ) -> LoadError {
        self.src.error(&entry.node.span, kind, message)
    }

    /// An error at the table itself.
    pub fn error_here(&self, kind: LoadErrorKind, message: impl Into<String>) -> LoadError {
        self.src.error(&self.span, kind, message)
    }

    fn wrong_type(&self, entry: &Entry, expected: &str) -> LoadError {
        self.error_at(
            entry,
            LoadErrorKind::InvalidValue,
            format!(
                "`{}` in {} must be {expected}, found {}",
                entry.key,
                self.what,
                entry.node.value.type_name()
            ),
        )
    }

    /// A string value.
    pub fn str(&self, key: &str) -> Result<Option<&'a str>, LoadError> {
        let Some(e) = self.entry(key) else {
            return Ok(None);
        };
        match &e.node.value {
            Value::String(s) => Ok(Some(s)),
            _ => Err(self.wrong_type(e, "a string")),
        }
    }

    /// A string value that must not be empty (or only whitespace).
    pub fn name(&self, key: &str) -> Result<Option<&'a str>, LoadError> {
        let value = self.str(key)?;
        if let (Some(v), Some(e)) = (value, self.entry(key))
            && v.trim().is_empty()
        {
            return Err(self.error_at(
                e,
                LoadErrorKind::InvalidValue,
                format!("`{key}` in {} must not be empty", self.what),
            ));
        }
        Ok(value)
    }

    /// A boolean value.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, LoadError> {
        let Some(e) = self.entry(key) else {
            return Ok(None);
        };
        match e.node.value {
            Value::Bool(b) => Ok(Some(b)),
            _ => Err(self.wrong_type(e, "true or false")),
        }
    }

    /// A whole number (an integer, or a float with no fractional part).
    pub fn integer(&self, key: &str) -> Result<Option<i64>, LoadError> {
        let Some(e) = self.entry(key) else {
            return Ok(None);
        };
        match e.node.value {
            Value::Integer(n) => Ok(Some(n)),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
            Value::Float(f) => Err(self.error_at(
                e,
                LoadErrorKind::InvalidValue,
                format!("`{key}` in {} must be a whole number, found {f}", self.what),
            )),
            _ => Err(self.wrong_type(e, "a whole number")),
        }
    }

    /// A count of tokens (or items): a whole number, not negative, below
    /// 9,000,000,000,000,000 (`COUNT_LIMIT`).
    pub fn count(&self, key: &str, unit: &str) -> Result<Option<usize>, LoadError> {
        let Some(e) = self.entry(key) else {
            return Ok(None);
        };
        let expected = format!("a whole number of {unit}");
        let (n, shown) = match e.node.value {
            Value::Integer(n) => (n as f64, n.to_string()),
            Value::Float(f) if f.abs() >= 1e16 => (f, format!("{f:e}")),
            Value::Float(f) => (f, f.to_string()),
            _ => return Err(self.wrong_type(e, &expected)),
        };
        if n.is_finite() && n.fract() == 0.0 && n >= COUNT_LIMIT {
            return Err(self.error_at(
                e,
                LoadErrorKind::InvalidValue,
                format!(
                    "`{key}` in {} is too large (found {shown}); expected {expected} below 9,000,000,000,000,000",
                    self.what
                ),
            ));
        }
        if n < 0.0 {
            return Err(self.error_at(
                e,
                LoadErrorKind::InvalidValue,
                format!(
                    "`{key}` in {} must not be negative (found {shown}); expected {expected}",
                    self.what
                ),
            ));
        }
        if n.fract() != 0.0 || !n.is_finite() {
            return Err(self.error_at(
                e,
                LoadErrorKind::InvalidValue,
                format!("`{key}` in {} must be {expected}, found {n}", self.what),
            ));
        }
        Ok(Some(n as usize))
    }

    /// A finite number.
    pub fn number(&self, key: &str) -> Result<Option<f64>, LoadError> {
        let Some(e) = self.entry(key) else {
            return Ok(None);
        };
        let n = match e.node.value {
            Value::Integer(n) => n as f64,
            Value::Float(f) => f,
            _ => return Err(self.wrong_type(e, "a number")),
        };
        if !n.is_finite() {
            return Err(self.error_at(
                e,
                LoadErrorKind::InvalidValue,
                format!(
                    "`{key}` in {} must be a finite number, found {n}",
                    self.what
                ),
            ));
        }
        Ok(Some(n))
    }

    /// A finite number in `min..=max`; `expected` says what it means.
    pub fn number_in(
        &self,
        key: &str,
        min: f64,
        max: f64,
        expected: &str,
    ) -> Result<Option<f64>, LoadError> {
        let value = self.number(key)?;
        if let (Some(v), Some(e)) = (value, self.entry(key))
            && !(min..=max).contains(&v)
        {
            let why = if v < 0.0 && min >= 0.0 {
                "must not be negative"
            } else {
                "is out of range"
            };
            return Err(self.error_at(
                e,
                LoadErrorKind::InvalidValue,
                format!(
                    "`{key}` in {} {why} (found {v}); expected {expected}",
                    self.what
                ),
            ));
        }
        Ok(value)
    }

    /// An array of strings.
    pub fn strings(&self, key: &str) -> Result<Option<Vec<Spanned>>, LoadError> {
        let Some(e) = self.entry(key) else {
            return Ok(None);
        };
        let Value::Array(items) = &e.node.value else {
            return Err(self.wrong_type(e, "an array of strings"));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match &item.value {
                Value::String(s) => out.push((s.clone(), item.span.clone())),
                other => {
                    return Err(self.src.error(
                        &item.span,
                        LoadErrorKind::InvalidValue,
                        format!(
                            "`{key}` in {} must be an array of strings, found {} in it",
                            self.what,
                            other.type_name()
                        ),
                    ));
                }
            }
        }
        Ok(Some(out))
    }

    /// One of a choice's names (a strategy, an overflow mode, ...).
    pub fn choice<T>(&self, key: &str) -> Result<Option<T>, LoadError>
    where
        T: FromStr<Err = UnknownChoice>,
    {
        let Some(value) = self.str(key)? else {
            return Ok(None);
        };
        match value.parse::<T>() {
            Ok(v) => Ok(Some(v)),
            Err(err) => {
                let e = self.entry(key).map_or_else(
                    || self.error_here(LoadErrorKind::InvalidValue, ""),
                    |e| self.error_at(e, LoadErrorKind::InvalidValue, ""),
                );
                Err(LoadError {
                    message: describe_choice_error(&err, &format!("`{key}` in {}", self.what)),
                    ..e
                })
            }
        }
    }
}

/// The message for a name that is not one of a choice's valid names, with a
/// "did you mean" hint when one is close.
pub fn describe_choice_error(err: &UnknownChoice, place: &str) -> String {
    let hint = closest(&err.value, err.valid.iter().copied())
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default();
    format!(
        "unknown {} `{}` ({place}); {hint}expected one of: {}",
        err.what,
        err.value,
        err.valid.join(", ")
    )
}
