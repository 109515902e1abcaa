//! A small language-aware lexer: removes comments and finds string literals,
//! so that comment markers and braces inside strings are left alone.

use std::ops::Range;

use super::Syntax;

/// Text with its comments removed, and where its string literals are.
pub(super) struct Lexed {
    /// The text without comments.
    pub text: String,
    /// Byte ranges of string literals in `text`, ascending.
    pub literals: Vec<Range<usize>>,
}

impl Lexed {
    /// Whether byte `i` of `text` lies inside a string literal.
    pub fn in_literal(&self, i: usize) -> bool {
        let k = self.literals.partition_point(|r| r.end <= i);
        self.literals.get(k).is_some_and(|r| r.start <= i)
    }

    /// A per-byte mask: `true` inside string literals.
    pub fn mask(&self) -> Vec<bool> {
        let mut mask = vec![false; self.text.len()];
        for r in &self.literals {
            mask[r.clone()].iter_mut().for_each(|m| *m = true);
        }
        mask
    }
}

struct Rules {
    line: &'static [&'static str],
    block: Option<(&'static str, &'static str)>,
    nested_block: bool,
    /// `#` starts a comment only at a word start (shell, YAML).
    hash_at_word_start: bool,
    /// Quote characters that open a literal; triple quotes are checked first.
    quotes: &'static [u8],
    triple: bool,
    /// Backslash escapes work inside `'` literals.
    single_escapes: bool,
}

fn rules(syntax: Syntax) -> Rules {
    let none = Rules {
        line: &[],
        block: None,
        nested_block: false,
        hash_at_word_start: false,
        quotes: b"",
        triple: false,
        single_escapes: true,
    };
    match syntax {
        Syntax::Rust => Rules {
            line: &["//"],
            block: Some(("/*", "*/")),
            nested_block: true,
            quotes: b"\"",
            ..none
        },
        Syntax::CLike => Rules {
            line: &["//"],
            block: Some(("/*", "*/")),
            quotes: b"\"'`",
            ..none
        },
        Syntax::JavaScript => Rules {
            line: &["//"],
            block: Some(("/*", "*/")),
            quotes: b"\"'`",
            ..none
        },
        Syntax::Json => Rules {
            line: &["//"],
            block: Some(("/*", "*/")),
            quotes: b"\"",
            ..none
        },
        Syntax::Python => Rules {
            line: &["#"],
            quotes: b"\"'",
            triple: true,
            ..none
        },
        Syntax::Shell => Rules {
            line: &["#"],
            hash_at_word_start: true,
            quotes: b"\"'",
            single_escapes: false,
            ..none
        },
        Syntax::Sql => Rules {
            line: &["--"],
            block: Some(("/*", "*/")),
            quotes: b"'\"",
            single_escapes: false,
            ..none
        },
        Syntax::Toml => Rules {
            line: &["#"],
            quotes: b"\"'",
            triple: true,
            single_escapes: false,
            ..none
        },
        Syntax::Yaml => Rules {
            line: &["#"],
            hash_at_word_start: true,
            quotes: b"\"'",
            single_escapes: false,
            ..none
        },
        Syntax::Markdown | Syntax::Plain => none,
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Removes comments from `text`, keeping string literals intact.
pub(super) fn lex(text: &str, syntax: Syntax) -> Lexed {
    let r = rules(syntax);
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut literals = Vec::new();
    let mut i = 0;
    let mut copied = 0; // bytes of `text` before this are handled
    // A shebang line is not a comment.
    if text.starts_with("#!") && matches!(syntax, Syntax::Shell | Syntax::Python) {
        i = text.find('\n').unwrap_or(text.len());
    }
    while i < b.len() {
        let c = b[i];
        // Line comments.
        if let Some(start) = r.line.iter().find(|m| b[i..].starts_with(m.as_bytes())) {
            let word_start =
                i == 0 || b[i - 1].is_ascii_whitespace() || b";&|(".contains(&b[i - 1]);
            if !(r.hash_at_word_start && *start == "#" && !word_start)
                && !(syntax == Syntax::Yaml && !(i == 0 || b[i - 1].is_ascii_whitespace()))
            {
                out.push_str(&text[copied..i]);
                let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
                i = end;
                copied = end;
                continue;
            }
        }
        // Block comments.
        if let Some((open, close)) = r.block
            && b[i..].starts_with(open.as_bytes())
        {
            out.push_str(&text[copied..i]);
            let mut depth = 1usize;
            let mut j = i + open.len();
            while j < b.len() && depth > 0 {
                if b[j..].starts_with(close.as_bytes()) {
                    depth -= 1;
                    j += close.len();
                } else if r.nested_block && b[j..].starts_with(open.as_bytes()) {
                    depth += 1;
                    j += open.len();
                } else {
                    j += 1;
                }
            }
            let before = out.as_bytes().last().copied();
            let after = b.get(j).copied();
            if before.is_some_and(|x| !x.is_ascii_whitespace())
                && after.is_some_and(|x| !x.is_ascii_whitespace())
            {
                out.push(' ');
            }
            if before.is_some_and(|x| x == b' ' || x == b'\t') {
                while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                    j += 1;
                }
            }
            i = j;
            copied = j;
            continue;
        }
        // String literals.
        if let Some(end) = literal_end(text, i, syntax, &r) {
            out.push_str(&text[copied..i]);
            let start = out.len();
            out.push_str(&text[i..end]);
            literals.push(start..out.len());
            i = end;
            copied = end;
            continue;
        }
        i += if c < 0x80 { 1 } else { utf8_len(c) };
    }
    out.push_str(&text[copied.min(b.len())..]);
    Lexed {
        text: out,
        literals,
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// If a string literal starts at `i`, where it ends (exclusive).
fn literal_end(text: &str, i: usize, syntax: Syntax, r: &Rules) -> Option<usize> {
    let b = text.as_bytes();
    let c = b[i];
    if syntax == Syntax::Rust {
        return rust_literal_end(text, i);
    }
    if syntax == Syntax::JavaScript && c == b'/' {
        return js_regex_end(text, i);
    }
    if !r.quotes.contains(&c) {
        return None;
    }
    if syntax == Syntax::Yaml {
        // A quote opens a scalar only where a scalar may start.
        let prev = text[..i].trim_end_matches([' ', '\t']).as_bytes().last();
        if !matches!(
            prev,
            None | Some(b'\n' | b':' | b'-' | b'[' | b'{' | b',' | b'?')
        ) {
            return None;
        }
    }
    if r.triple && b[i..].len() >= 3 && b[i + 1] == c && b[i + 2] == c {
        let close = [c, c, c];
        let mut j = i + 3;
        while j + 3 <= b.len() {
            if b[j] == b'\\' && c == b'"' {
                j += 2;
                continue;
            }
            if b[j..j + 3] == close {
                // A run of more than three quotes closes at its end.
                let mut k = j + 3;
                while k < b.len() && b[k] == c && k < j + 5 {
                    k += 1;
                }
                return Some(k);
            }
            j += 1;
        }
        return Some(b.len());
    }
    let escapes = c != b'\'' || r.single_escapes;
    let multiline = c == b'`';
    let mut j = i + 1;
    while j < b.len() {
        let x = b[j];
        if x == b'\\' && escapes && !(c == b'`' && syntax == Syntax::CLike) {
            j += 2;
            continue;
        }
        if x == c {
            return Some(j + 1);
        }
        if x == b'\n' && !multiline {
            return Some(j);
        }
        j += 1;
    }
    Some(b.len())
}

fn rust_literal_end(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    let prev_ident = i > 0 && is_ident(b[i - 1]);
    match b[i] {
        b'"' => {
            let mut j = i + 1;
            while j < b.len() {
                match b[j] {
                    b'\\' => j += 2,
                    b'"' => return Some(j + 1),
                    _ => j += 1,
                }
            }
            Some(b.len())
        }
        b'r' if !prev_ident || (i > 0 && b[i - 1] == b'b' && (i < 2 || !is_ident(b[i - 2]))) => {
            let hashes = b[i + 1..].iter().take_while(|&&x| x == b'#').count();
            if b.get(i + 1 + hashes) != Some(&b'"') {
                return None;
            }
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let from = i + 2 + hashes;
            let end = b[from..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |p| from + p + close.len());
            Some(end)
        }
        b'\'' => {
            // A char literal (`'a'`, `'\n'`, `'\u{1F600}'`) or a lifetime (`'a`).
            if b.get(i + 1) == Some(&b'\\') {
                let end = b[i + 2..].iter().take(12).position(|&x| x == b'\'')?;
                return Some(i + 2 + end + 1);
            }
            let ch = text[i + 1..].chars().next()?;
            let after = i + 1 + ch.len_utf8();
            (b.get(after) == Some(&b'\'')).then_some(after + 1)
        }
        _ => None,
    }
}

fn js_regex_end(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    if matches!(b.get(i + 1), Some(b'/' | b'*') | None) {
        return None;
    }
    let before = text[..i].trim_end();
    let prev = before.as_bytes().last().copied();
    let keyword = ["return", "typeof", "case", "in", "of", "yield", "await"]
        .iter()
        .any(|k| before.ends_with(k));
    let regex_context = match prev {
        None => true,
        Some(p) => b"(,=:[!&|?{};+-*%<>~^\n".contains(&p) || keyword,
    };
    if !regex_context {
        return None;
    }
    let mut j = i + 1;
    let mut class = false;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'\n' => return None,
            b'[' => {
                class = true;
                j += 1;
            }
            b']' => {
                class = false;
                j += 1;
            }
            b'/' if !class => {
                j += 1;
                while j < b.len() && b[j].is_ascii_alphabetic() {
                    j += 1;
                }
                return Some(j);
            }
            _ => j += 1,
        }
    }
    None
}

/// Removes blank lines and trailing whitespace, except inside string literals.
pub(super) fn drop_blank_lines(lexed: &Lexed) -> String {
    let text = &lexed.text;
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    while start < text.len() {
        let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
        let line = &text[start..end];
        let inside = start > 0 && lexed.in_literal(start - 1) && lexed.in_literal(start);
        let ends_inside = end < text.len() && lexed.in_literal(end);
        if inside {
            out.push_str(line);
            out.push('\n');
        } else if !line.trim().is_empty() {
            if ends_inside {
                out.push_str(line);
            } else {
                out.push_str(line.trim_end());
            }
            out.push('\n');
        }
        start = end + 1;
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}
