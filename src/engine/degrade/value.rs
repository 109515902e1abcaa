//! Shortening values: long strings become `"…"`, long arrays keep their
//! first items, long assignment values become `…`.

/// Strings longer than this many characters are shown as `"…"`.
pub(super) const LONG_STRING: usize = 40;
/// Arrays longer than this keep this many items and an `…`.
pub(super) const ARRAY_ITEMS: usize = 3;
/// Assignment values in code longer than this (or spanning lines) become `…`.
const LONG_VALUE: usize = 60;

/// A code statement `lhs = value;` with a long or multi-line value, with the
/// value replaced by `…`. `None` when nothing changes.
pub(super) fn shorten_assignment(stmt: &str) -> Option<String> {
    let b = stmt.as_bytes();
    let mut quote: Option<u8> = None;
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' | b'`' => quote = Some(c),
            b'(' | b'[' | b'{' | b'<' => depth += 1,
            b')' | b']' | b'}' | b'>' => depth = depth.saturating_sub(1),
            b'=' if depth == 0 => {
                let prev = if i > 0 { b[i - 1] } else { b' ' };
                let next = b.get(i + 1).copied().unwrap_or(b' ');
                if matches!(
                    prev,
                    b'=' | b'!' | b'<' | b'>' | b'+' | b'-' | b'*' | b'/' | b'|' | b'&' | b':'
                ) || matches!(next, b'=' | b'>')
                {
                    i += 1;
                    continue;
                }
                let value_end = stmt.trim_end().trim_end_matches([';', ',']).len();
                if value_end <= i {
                    return None;
                }
                let value = stmt[i + 1..value_end].trim();
                if value.contains('\n') || value.chars().count() > LONG_VALUE {
                    let tail = &stmt.trim_end()[value_end..];
                    return Some(format!("{} …{tail}", stmt[..=i].trim_end()));
                }
                return None;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A value in flow syntax (JSON, TOML values, YAML flow collections).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Flow {
    /// A quoted string: its source and its length in characters.
    Str(String, usize),
    /// An array.
    Seq(Vec<Flow>),
    /// A table or object: keys in source form, and values.
    Map(Vec<(String, Flow)>),
    /// Anything else: numbers, booleans, dates, bare words.
    Atom(String),
}

/// How a flow value is written back.
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    /// Between items: `", "` or `","`.
    pub item_sep: &'static str,
    /// Between key and value: `" = "`, `": "` or `":"`.
    pub key_sep: &'static str,
}

/// Parses a flow value starting at byte `i` (whitespace first is skipped).
/// Returns the value and the position after it; `None` when malformed.
/// `bare_end` lists the bytes that end an unquoted atom besides `,]}`.
pub(super) fn parse(s: &str, i: usize, bare_end: &[u8]) -> Option<(Flow, usize)> {
    let b = s.as_bytes();
    let i = skip_ws(b, i);
    match *b.get(i)? {
        q @ (b'"' | b'\'') => {
            let triple = b[i..].starts_with(&[q, q, q]);
            let (open, close): (usize, &[u8]) = if triple {
                (3, &b[i..i + 3])
            } else {
                (1, &b[i..i + 1])
            };
            let mut j = i + open;
            while j < b.len() {
                if b[j] == b'\\' && q == b'"' {
                    j += 2;
                    continue;
                }
                if b[j..].starts_with(close) {
                    let end = j + close.len();
                    let chars = s.get(i + open..j)?.chars().count();
                    return Some((Flow::Str(s[i..end].to_string(), chars), end));
                }
                if b[j] == b'\n' && !triple {
                    return None;
                }
                j += 1;
            }
            None
        }
        b'[' => {
            let mut items = Vec::new();
            let mut j = skip_ws(b, i + 1);
            loop {
                if *b.get(j)? == b']' {
                    return Some((Flow::Seq(items), j + 1));
                }
                let (item, next) = parse(s, j, b"")?;
                items.push(item);
                j = skip_ws(b, next);
                match *b.get(j)? {
                    b',' => j = skip_ws(b, j + 1),
                    b']' => {}
                    _ => return None,
                }
            }
        }
        b'{' => {
            let mut entries = Vec::new();
            let mut j = skip_ws(b, i + 1);
            loop {
                if *b.get(j)? == b'}' {
                    return Some((Flow::Map(entries), j + 1));
                }
                let key_end = key_end(s, j)?;
                let key = s[j..key_end].trim().to_string();
                let sep = skip_ws(b, key_end);
                if !matches!(b.get(sep), Some(b'=' | b':')) {
                    return None;
                }
                let (value, next) = parse(s, sep + 1, b"")?;
                entries.push((key, value));
                j = skip_ws(b, next);
                match *b.get(j)? {
                    b',' => j = skip_ws(b, j + 1),
                    b'}' => {}
                    _ => return None,
                }
            }
        }
        _ => {
            let mut j = i;
            while j < b.len() && !b",]}\n".contains(&b[j]) && !bare_end.contains(&b[j]) {
                j += 1;
            }
            let atom = s[i..j].trim_end();
            if atom.is_empty() {
                return None;
            }
            Some((Flow::Atom(atom.to_string()), i + atom.len()))
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The end of a key: a quoted string, or bare text up to `=` or `:`.
fn key_end(s: &str, i: usize) -> Option<usize> {
    let b = s.as_bytes();
    if matches!(b.get(i), Some(b'"' | b'\'')) {
        let (_, end) = parse(s, i, b"")?;
        return Some(end);
    }
    let n = b[i..]
        .iter()
        .position(|c| matches!(c, b'=' | b':' | b',' | b'}' | b'\n'))?;
    Some(i + n)
}

/// Writes a flow value with long strings and arrays shortened.
pub(super) fn render(flow: &Flow, style: Style, out: &mut String) {
    match flow {
        Flow::Str(raw, chars) => {
            if *chars > LONG_STRING {
                let q = &raw[..1];
                out.push_str(q);
                out.push('…');
                out.push_str(q);
            } else {
                out.push_str(raw);
            }
        }
        Flow::Atom(a) => {
            if a.chars().count() > LONG_STRING {
                out.push('…');
            } else {
                out.push_str(a);
            }
        }
        Flow::Seq(items) => {
            out.push('[');
            for (k, item) in items.iter().take(ARRAY_ITEMS).enumerate() {
                if k > 0 {
                    out.push_str(style.item_sep);
                }
                render(item, style, out);
            }
            if items.len() > ARRAY_ITEMS {
                out.push_str(style.item_sep);
                out.push('…');
            }
            out.push(']');
        }
        Flow::Map(entries) => {
            out.push('{');
            for (k, (key, value)) in entries.iter().enumerate() {
                if k > 0 {
                    out.push_str(style.item_sep);
                }
                out.push_str(key);
                out.push_str(style.key_sep);
                render(value, style, out);
            }
            out.push('}');
        }
    }
}

/// A flow value shortened, as a string.
pub(super) fn shortened(flow: &Flow, style: Style) -> String {
    let mut out = String::new();
    render(flow, style, &mut out);
    out
}
