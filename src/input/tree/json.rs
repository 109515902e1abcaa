//! Recovers the spans of a JSON document that `serde_json` has already
//! accepted. The scanner still checks every step and returns an error
//! instead of panicking, should the two ever disagree.

use std::ops::Range;

use super::{Entry, Node, Source, Value};
use crate::input::error::{LoadError, LoadErrorKind};

/// Deeper nesting than this is refused (serde_json refuses it first).
const MAX_DEPTH: usize = 256;

/// Scans `src` (valid JSON) into a [`Node`] tree.
pub fn scan(src: Source<'_>) -> Result<Node, LoadError> {
    let mut s = Scanner { src, pos: 0 };
    s.skip_ws();
    let node = s.value(0)?;
    s.skip_ws();
    if s.pos != s.src.text.len() {
        return Err(s.fail("trailing characters after the JSON value"));
    }
    Ok(node)
}

struct Scanner<'a> {
    src: Source<'a>,
    pos: usize,
}

impl Scanner<'_> {
    fn bytes(&self) -> &[u8] {
        self.src.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn fail(&self, message: &str) -> LoadError {
        self.src.error(
            &(self.pos..self.pos),
            LoadErrorKind::Syntax,
            format!("invalid JSON: {message}"),
        )
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), LoadError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.fail(&format!("expected `{}`", byte as char)))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, LoadError> {
        if depth > MAX_DEPTH {
            return Err(self.fail("nested too deeply"));
        }
        let start = self.pos;
        let value = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::String(self.string()?.0),
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            _ => return Err(self.fail("expected a value")),
        };
        Ok(Node {
            span: start..self.pos,
            value,
        })
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, LoadError> {
        if self.bytes()[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.fail(&format!("expected `{word}`")))
        }
    }

    fn number(&mut self) -> Result<Value, LoadError> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.pos += 1;
        }
        let text = &self.src.text[start..self.pos];
        let integral = !text.contains(['.', 'e', 'E']);
        if integral && let Ok(n) = text.parse::<i64>() {
            return Ok(Value::Integer(n));
        }
        text.parse::<f64>()
            .map(Value::Float)
            .map_err(|_| self.fail("expected a number"))
    }

    /// A string and its span (quotes included).
    fn string(&mut self) -> Result<(String, Range<usize>), LoadError> {
        let start = self.pos;
        self.expect(b'"')?;
        loop {
            match self.peek() {
                None => return Err(self.fail("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => self.pos += 2,
                Some(_) => self.pos += 1,
            }
        }
        let span = start..self.pos;
        let raw = self
            .src
            .text
            .get(span.clone())
            .ok_or_else(|| self.fail("unterminated string"))?;
        let text: String = serde_json::from_str(raw).map_err(|_| self.fail("invalid string"))?;
        Ok((text, span))
    }

    fn array(&mut self, depth: usize) -> Result<Value, LoadError> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.fail("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, LoadError> {
        self.expect(b'{')?;
        let mut entries: Vec<Entry> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Table(entries));
        }
        loop {
            self.skip_ws();
            let (key, key_span) = self.string()?;
            if let Some(first) = entries.iter().find(|e| e.key == key) {
                return Err(self.src.error(
                    &key_span,
                    LoadErrorKind::Duplicate,
                    format!(
                        "duplicate key `{key}` (first given on line {})",
                        self.src.line_of(first.key_span.start)
                    ),
                ));
            }
            self.skip_ws();
            self.expect(b':')?;
            self.skip_ws();
            let node = self.value(depth + 1)?;
            entries.push(Entry {
                key,
                key_span,
                node,
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Table(entries));
                }
                _ => return Err(self.fail("expected `,` or `}`")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn scan_str(text: &str) -> Result<Node, LoadError> {
        scan(Source {
            file: Path::new("t.json"),
            text,
        })
    }

    #[test]
    fn spans_cover_values_and_keys() {
        let text = r#"{"a": [1, -2.5e3, "x\"y"], "b": {"c": null}}"#;
        let node = scan_str(text).unwrap();
        let Value::Table(entries) = &node.value else {
            panic!("object expected")
        };
        assert_eq!(&text[entries[0].key_span.clone()], "\"a\"");
        let Value::Array(items) = &entries[0].node.value else {
            panic!("array expected")
        };
        assert_eq!(items[0].value, Value::Integer(1));
        assert_eq!(items[1].value, Value::Float(-2500.0));
        assert_eq!(items[2].value, Value::String("x\"y".into()));
        assert_eq!(&text[items[2].span.clone()], r#""x\"y""#);
        assert_eq!(&text[entries[1].node.span.clone()], r#"{"c": null}"#);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = scan_str("{\"a\": 1,\n \"a\": 2}").unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::Duplicate);
        assert_eq!(e.position.map(|p| (p.line, p.column)), Some((2, 2)));
    }

    #[test]
    fn big_integers_become_floats() {
        let node = scan_str("18446744073709551616").unwrap();
        assert_eq!(node.value, Value::Float(18446744073709551616.0));
    }
}
