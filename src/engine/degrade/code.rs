//! Code forms: compact (comments and blank lines stripped) and outline
//! (declarations and signatures without bodies).

use std::ops::Range;

use super::Syntax;
use super::lex::{Lexed, drop_blank_lines, lex};
use super::value::shorten_assignment;

/// Comments and blank lines removed; string literals untouched.
pub(super) fn compact(text: &str, syntax: Syntax) -> String {
    drop_blank_lines(&lex(text, syntax))
}

/// Declarations and signatures without bodies, from compact code.
pub(super) fn outline(compact: &str, syntax: Syntax) -> String {
    match syntax {
        Syntax::Python => python_outline(compact),
        Syntax::Shell => shell_outline(compact),
        Syntax::Sql => sql_outline(compact),
        Syntax::Rust | Syntax::CLike | Syntax::JavaScript => brace_outline(compact, syntax),
        _ => top_level_outline(compact),
    }
}

/// Replacements applied to a text: (range, replacement), non-overlapping.
#[derive(Default)]
struct Edits(Vec<(Range<usize>, String)>);

impl Edits {
    fn replace(&mut self, range: Range<usize>, with: impl Into<String>) {
        self.0.push((range, with.into()));
    }

    fn apply(mut self, text: &str) -> String {
        self.0.sort_by_key(|(r, _)| (r.start, r.end));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (r, with) in self.0 {
            if r.start < at {
                continue; // overlaps an earlier edit
            }
            out.push_str(&text[at..r.start]);
            out.push_str(&with);
            at = r.end;
        }
        out.push_str(&text[at..]);
        tidy_lines(&out)
    }
}

/// Trailing whitespace and blank lines removed.
fn tidy_lines(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum End {
    Semi,
    Newline,
    Brace,
    Close,
    Eof,
}

struct BraceOutline<'a> {
    text: &'a str,
    b: &'a [u8],
    lit: Vec<bool>,
    edits: Edits,
    syntax: Syntax,
}

fn brace_outline(compact: &str, syntax: Syntax) -> String {
    let lexed: Lexed = lex(compact, syntax);
    // The literal mask is of the lexed text: work on that (it differs from
    // `compact` when tidying made a comment marker out of literal text).
    let compact = lexed.text.as_str();
    let mut p = BraceOutline {
        text: compact,
        b: compact.as_bytes(),
        lit: lexed.mask(),
        edits: Edits::default(),
        syntax,
    };
    let mut pos = 0;
    while pos < p.b.len() {
        pos = p.container(pos);
    }
    p.edits.apply(compact)
}

impl BraceOutline<'_> {
    fn code(&self, i: usize) -> bool {
        !self.lit[i]
    }

    /// Statements up to the container's closing brace; returns the position
    /// after it (or the end of text).
    fn container(&mut self, mut pos: usize) -> usize {
        loop {
            while pos < self.b.len() && self.b[pos].is_ascii_whitespace() {
                pos += 1;
            }
            if pos >= self.b.len() {
                return self.b.len();
            }
            if self.b[pos] == b'}' && self.code(pos) {
                return pos + 1;
            }
            let (end, at) = self.statement_end(pos);
            match end {
                End::Semi => {
                    self.declaration(pos..at + 1);
                    pos = at + 1;
                }
                End::Newline | End::Eof | End::Close => {
                    self.declaration(pos..at);
                    pos = at;
                }
                End::Brace => {
                    let close = self.matching_brace(at);
                    let header = &self.text[pos..at];
                    self.drop_attributes(pos..at);
                    if classify(header) == Block::Container {
                        pos = self.container(at + 1);
                    } else {
                        let elided = if self.text[at..close].contains('\n') || close - at > 50 {
                            "{ … }"
                        } else {
                            &self.text[at..close]
                        };
                        let elided = elided.to_string();
                        self.edits.replace(at..close, elided);
                        pos = close;
                    }
                }
            }
        }
    }

    /// Where the statement starting at `pos` ends, and how.
    fn statement_end(&self, pos: usize) -> (End, usize) {
        let mut depth = 0usize;
        // `use a::{b, c};`, `import { x } from "y";`: braces group names.
        let head = self.text[pos..].trim_start();
        let grouping = is_import(head, self.syntax)
            || head.starts_with("export {")
            || head.starts_with("export type {");
        let mut i = pos;
        while i < self.b.len() {
            if !self.code(i) {
                i += 1;
                continue;
            }
            match self.b[i] {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth = depth.saturating_sub(1),
                b'{' if grouping => depth += 1,
                b'}' if grouping && depth > 0 => depth -= 1,
                b'{' if depth == 0 => return (End::Brace, i),
                b'}' if depth == 0 => return (End::Close, i),
                b';' if depth == 0 => return (End::Semi, i),
                b'\n' if depth == 0 && self.line_ends_statement(pos, i) => {
                    return (End::Newline, i);
                }
                _ => {}
            }
            i += 1;
        }
        (End::Eof, self.b.len())
    }

    /// Whether a newline at `nl` ends the statement that started at `start`.
    fn line_ends_statement(&self, start: usize, nl: usize) -> bool {
        let line_start = self.text[..nl].rfind('\n').map_or(0, |p| p + 1).max(start);
        let last = self.text[line_start..nl].trim();
        if last.is_empty() {
            return false;
        }
        let next = self.text[nl + 1..]
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let next_t = next.trim_start();
        if next_t.is_empty() {
            return true;
        }
        let continues_after = [
            ",",
            "(",
            "[",
            "<",
            "=",
            "+",
            "-",
            "*",
            "/",
            "&",
            "|",
            ".",
            ":",
            "->",
            "=>",
            "\\",
            "where",
            "extends",
            "implements",
            "?",
            "&&",
            "||",
        ];
        if continues_after.iter().any(|s| last.ends_with(s)) && !last.ends_with("*/") {
            return false;
        }
        let continues_before = [
            "{",
            ".",
            "?",
            ":",
            "->",
            "=>",
            "where",
            "&&",
            "||",
            "+",
            ")",
            "]",
            "=",
            "|",
            ">",
            "extends",
            "implements",
            "throws",
        ];
        if continues_before.iter().any(|s| next_t.starts_with(s)) {
            return false;
        }
        let indent = |s: &str| s.len() - s.trim_start().len();
        let first_line = self.text[start..].lines().next().unwrap_or("");
        let start_indent =
            indent(&self.text[self.text[..start].rfind('\n').map_or(0, |p| p + 1)..start])
                + indent(first_line);
        indent(next) <= start_indent
    }

    fn matching_brace(&self, open: usize) -> usize {
        let mut depth = 0usize;
        let mut i = open;
        while i < self.b.len() {
            if self.code(i) {
                match self.b[i] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        self.b.len()
    }

    /// Removes attribute and annotation lines (`#[derive(…)]`, `@Override`)
    /// at the start of a header.
    fn drop_attributes(&mut self, range: Range<usize>) {
        let mut at = range.start;
        while at < range.end {
            let rest = &self.text[at..range.end];
            let t = rest.trim_start();
            let lead = rest.len() - t.len();
            if !(t.starts_with("#[") || t.starts_with("#![") || t.starts_with('@')) {
                return;
            }
            let line_end = rest.find('\n').map_or(range.end, |n| at + n);
            // An attribute may share its line with the item: `#[test] fn x`.
            let attr_end = attribute_end(t).map_or(line_end, |n| (at + lead + n).min(line_end));
            self.edits.replace(at + lead..attr_end, "");
            at = attr_end;
            while at < range.end && self.b[at] == b' ' {
                at += 1;
            }
            if at < range.end && self.b[at] == b'\n' {
                at += 1;
            }
        }
    }

    /// A statement ended by `;`, a newline or the container's end.
    fn declaration(&mut self, range: Range<usize>) {
        let stmt = &self.text[range.clone()];
        let t = stmt.trim_start();
        if t.is_empty() {
            return;
        }
        if (t.starts_with("#[") || t.starts_with("#![") || t.starts_with('@'))
            && (attribute_end(t).is_some_and(|n| t[n..].trim().is_empty()) || !t.contains('\n'))
        {
            self.edits.replace(range, "");
            return;
        }
        if is_import(t, self.syntax) {
            self.edits.replace(range, "");
            return;
        }
        if let Some(short) = shorten_assignment(stmt) {
            self.edits.replace(range, short);
        }
    }
}

/// The byte length of a leading `#[…]` / `#![…]` / `@Name(…)` attribute.
fn attribute_end(t: &str) -> Option<usize> {
    let b = t.as_bytes();
    if t.starts_with('@') {
        let mut i = 1;
        while i < b.len() && (is_word(b[i]) || b[i] == b'.') {
            i += 1;
        }
        if b.get(i) == Some(&b'(') {
            return close_of(b, i, b'(', b')');
        }
        return Some(i);
    }
    let open = t.find('[')?;
    close_of(b, open, b'[', b']')
}

fn close_of(b: &[u8], open: usize, o: u8, c: u8) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &x) in b.iter().enumerate().skip(open) {
        if x == o {
            depth += 1;
        } else if x == c {
            depth -= 1;
            if depth == 0 {
                return Some(i + 1);
            }
        }
    }
    None
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_import(t: &str, syntax: Syntax) -> bool {
    let first = t.split_whitespace().next().unwrap_or("");
    match first {
        "use" | "import" | "#include" | "#import" | "using" => true,
        "pub" => t.split_whitespace().nth(1) == Some("use"),
        "extern" => t.split_whitespace().nth(1) == Some("crate"),
        "from" => syntax == Syntax::Python,
        _ => {
            (first == "const" || first == "var" || first == "let")
                && t.contains("require(")
                && !t.contains('\n')
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Block {
    /// Its body is dropped: functions, methods, values, control flow, macros.
    Body,
    /// Its inner declarations are kept: types, impls, modules, classes.
    Container,
}

fn classify(header: &str) -> Block {
    let header = strip_attribute_lines(header);
    let mut depth = 0usize;
    let b = header.as_bytes();
    let mut i = 0;
    let mut first = true;
    while i < b.len() {
        let x = b[i];
        match x {
            b'(' | b'[' | b'<' => depth += 1,
            b')' | b']' | b'>' => depth = depth.saturating_sub(1),
            b'=' if depth == 0 => {
                let prev = if i > 0 { b[i - 1] } else { b' ' };
                let next = b.get(i + 1).copied().unwrap_or(b' ');
                if !matches!(prev, b'=' | b'!' | b'<' | b'>') && !matches!(next, b'=' | b'>') {
                    return Block::Body;
                }
            }
            _ if is_word(x) && (i == 0 || !is_word(b[i - 1])) => {
                let end = i + b[i..].iter().take_while(|&&c| is_word(c)).count();
                let word = &header[i..end];
                if first
                    && matches!(
                        word,
                        "if" | "else"
                            | "for"
                            | "while"
                            | "loop"
                            | "match"
                            | "switch"
                            | "do"
                            | "try"
                            | "catch"
                            | "finally"
                            | "unsafe"
                            | "return"
                            | "defer"
                            | "go"
                            | "select"
                            | "static"
                    )
                    && !(word == "unsafe"
                        && header[end..]
                            .trim_start()
                            .starts_with(|c: char| c.is_alphabetic()))
                    && !(word == "static"
                        && header[end..]
                            .trim_start()
                            .starts_with(|c: char| c.is_alphabetic()))
                {
                    return Block::Body;
                }
                first = false;
                if depth == 0 {
                    match word {
                        "fn" | "func" | "function" | "fun" | "def" | "sub" | "macro_rules" => {
                            return Block::Body;
                        }
                        "struct" | "enum" | "union" | "trait" | "impl" | "mod" | "class"
                        | "interface" | "namespace" | "object" | "module" | "record" | "extern"
                        | "protocol" | "extension" => return Block::Container,
                        _ => {}
                    }
                }
                i = end;
                continue;
            }
            b'!' if depth == 0 && header[i + 1..].trim().is_empty() => return Block::Body,
            _ => {}
        }
        i += 1;
    }
    if header.contains('(') {
        Block::Body
    } else {
        Block::Container
    }
}

fn strip_attribute_lines(header: &str) -> String {
    let mut t = header.trim_start();
    while t.starts_with("#[") || t.starts_with("#![") || t.starts_with('@') {
        match attribute_end(t) {
            Some(n) => t = t[n..].trim_start(),
            None => break,
        }
    }
    t.to_string()
}

// ---------------------------------------------------------------- Python

/// Physical lines grouped into logical lines: brackets, string literals and
/// backslash continuations join lines.
fn logical_lines(text: &str, syntax: Syntax) -> Vec<(usize, String)> {
    let lexed = lex(text, syntax);
    // Positions below are of the lexed text, which literals are marked in.
    let text = lexed.text.as_str();
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut depth = 0i64;
    let mut start = 0;
    let mut current: Option<(usize, String)> = None;
    while start < text.len() {
        let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
        let line = &text[start..end];
        let joined = current.is_some();
        for (k, c) in line.bytes().enumerate() {
            if lexed.in_literal(start + k) {
                continue;
            }
            match c {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = (depth - 1).max(0),
                _ => {}
            }
        }
        let indent = line.len() - line.trim_start().len();
        let entry = current.get_or_insert_with(|| (indent, String::new()));
        if joined {
            entry.1.push('\n');
        }
        entry.1.push_str(line);
        let continues = depth > 0
            || (end < text.len() && lexed.in_literal(end))
            || line.trim_end().ends_with('\\');
        if !continues {
            out.extend(current.take());
        }
        start = end + 1;
    }
    out.extend(current.take());
    out
}

fn python_outline(compact: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut skip_deeper_than: Option<usize> = None;
    for (indent, line) in logical_lines(compact, Syntax::Python) {
        if let Some(limit) = skip_deeper_than {
            if indent > limit {
                continue;
            }
            skip_deeper_than = None;
        }
        let t = line.trim_start();
        if t.starts_with('@') || is_import(t, Syntax::Python) {
            continue;
        }
        let is_def = t.starts_with("def ") || t.starts_with("async def ");
        if is_def || t.starts_with("class ") {
            if is_def {
                out.push(format!("{} …", line.trim_end()));
                skip_deeper_than = Some(indent);
            } else {
                out.push(line.trim_end().to_string());
            }
            continue;
        }
        if t.ends_with(':') && indent == 0 {
            out.push(format!("{} …", line.trim_end()));
            skip_deeper_than = Some(indent);
            continue;
        }
        if t.ends_with(':') {
            skip_deeper_than = Some(indent);
            continue;
        }
        if is_python_binding(t) {
            out.push(
                shorten_assignment(&line)
                    .unwrap_or(line)
                    .trim_end()
                    .to_string(),
            );
        }
    }
    out.join("\n")
}

/// `NAME = value`, `name: type`, `name: type = value`.
fn is_python_binding(t: &str) -> bool {
    let name_len = t.bytes().take_while(|&c| is_word(c) || c == b'.').count();
    if name_len == 0 || t[..name_len].contains('.') {
        return false;
    }
    let rest = t[name_len..].trim_start();
    (rest.starts_with('=') && !rest.starts_with("=="))
        || (rest.starts_with(':') && !rest.starts_with(":="))
}

// ---------------------------------------------------------------- shell

fn shell_outline(compact: &str) -> String {
    let lexed = lex(compact, Syntax::Shell);
    let mask = lexed.mask();
    let compact = lexed.text.as_str();
    let mut out: Vec<String> = Vec::new();
    let mut start = 0;
    let b = compact.as_bytes();
    while start < compact.len() {
        let end = compact[start..]
            .find('\n')
            .map_or(compact.len(), |n| start + n);
        let line = &compact[start..end];
        let t = line.trim();
        let is_function = (t.starts_with("function ") || t.contains("()")) && t.ends_with('{');
        if is_function {
            let open = start + line.rfind('{').unwrap_or(0);
            let mut depth = 0usize;
            let mut close = compact.len();
            for i in open..compact.len() {
                if mask[i] {
                    continue;
                }
                match b[i] {
                    b'{' => depth += 1,
                    // A `}` before any `{` (the line's own was in a literal).
                    b'}' if depth == 0 => {}
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            close = i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            out.push(format!("{} … }}", line.trim_end()));
            start = compact[close..]
                .find('\n')
                .map_or(compact.len(), |n| close + n)
                + 1;
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let assignment = {
            let t = t
                .strip_prefix("export ")
                .or_else(|| t.strip_prefix("readonly "))
                .unwrap_or(t);
            let name = t.bytes().take_while(|&c| is_word(c)).count();
            name > 0 && t.as_bytes().get(name) == Some(&b'=')
        };
        if t.starts_with("#!") || (indent == 0 && assignment) {
            out.push(shorten_assignment(line).unwrap_or_else(|| line.to_string()));
        }
        start = end + 1;
    }
    out.join("\n")
}

// ---------------------------------------------------------------- SQL

fn sql_outline(compact: &str) -> String {
    let lexed = lex(compact, Syntax::Sql);
    let compact = lexed.text.as_str();
    let mut out: Vec<String> = Vec::new();
    let mut start = 0;
    let b = compact.as_bytes();
    for i in 0..=b.len() {
        if i < b.len() && (b[i] != b';' || lexed.in_literal(i)) {
            continue;
        }
        let stmt = compact[start..i].trim();
        start = i + 1;
        if stmt.is_empty() {
            continue;
        }
        let first = stmt.lines().next().unwrap_or("").trim_end();
        if stmt.contains('\n') {
            out.push(format!("{first} …;"));
        } else {
            out.push(format!("{first};"));
        }
    }
    out.join("\n")
}

// ---------------------------------------------------------------- other

/// For code in a language without a dedicated outline: the lines at the
/// outermost indentation, and lines that open a definition.
fn top_level_outline(compact: &str) -> String {
    compact
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            l.len() == t.len()
                || [
                    "def ",
                    "class ",
                    "module ",
                    "function ",
                    "local function ",
                    "sub ",
                    "fn ",
                ]
                .iter()
                .any(|k| t.starts_with(k))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------- tests

/// The test names: Rust `#[test] fn name`, Python `def test_*`, JS
/// `describe`/`it`/`test` titles, Go `func TestX`, Java `@Test void name`.
/// Falls back to the code outline when no test is found.
pub(super) fn test_outline(compact: &str, syntax: Syntax) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut pending_attr: Option<String> = None;
    for line in compact.lines() {
        let t = line.trim_start();
        let indent = &line[..line.len() - t.len()];
        if let Some(attr) = test_attribute(t) {
            let rest = t[attribute_end(t).unwrap_or(t.len())..].trim_start();
            if let Some(name) = function_name(rest) {
                out.push(format!("{indent}{attr} {name}"));
            } else {
                pending_attr = Some(attr);
            }
            continue;
        }
        if let Some(name) = function_name(t) {
            if let Some(attr) = pending_attr.take() {
                out.push(format!("{indent}{attr} {name}"));
            } else if name.starts_with("def test") || name.starts_with("func Test") {
                out.push(format!("{indent}{name}"));
            }
            continue;
        }
        if t.starts_with("#[") || t.starts_with('@') {
            continue; // other attributes between the test attribute and the fn
        }
        pending_attr = None;
        if syntax == Syntax::Python && t.starts_with("class Test") {
            out.push(format!("{indent}{}", t.trim_end_matches(':').trim_end()));
            continue;
        }
        if let Some(call) = js_test_title(t) {
            out.push(format!("{indent}{call}"));
        }
    }
    if out.is_empty() {
        outline(compact, syntax)
    } else {
        out.join("\n")
    }
}

fn test_attribute(t: &str) -> Option<String> {
    if t.starts_with("#[test]") {
        return Some("#[test]".into());
    }
    for a in [
        "#[tokio::test",
        "#[rstest",
        "#[test_case",
        "#[async_std::test",
        "#[bench]",
    ] {
        if t.starts_with(a) {
            let end = attribute_end(t).unwrap_or(t.len());
            return Some(t[..end].to_string());
        }
    }
    if t.starts_with("@Test")
        || t.starts_with("@ParameterizedTest")
        || t.starts_with("@pytest.mark.parametrize")
    {
        let end = attribute_end(t).unwrap_or(t.len());
        return Some(t[..end.min(t.find('(').unwrap_or(end))].to_string());
    }
    None
}

/// `fn name`, `def name`, `func Name`, or a Java-style `void name` from a
/// function's first line.
fn function_name(t: &str) -> Option<String> {
    let words: Vec<&str> = t
        .split(|c: char| c.is_whitespace() || c == '(' || c == '<' || c == ':')
        .filter(|w| !w.is_empty())
        .collect();
    for (k, w) in words.iter().enumerate() {
        if matches!(*w, "fn" | "def" | "func" | "function" | "void" | "fun") {
            let name = words.get(k + 1)?;
            return Some(format!("{w} {name}"));
        }
        let modifier = matches!(
            *w,
            "pub"
                | "pub(crate)"
                | "async"
                | "unsafe"
                | "const"
                | "public"
                | "private"
                | "protected"
                | "static"
                | "extern"
        );
        if !modifier {
            return None;
        }
    }
    None
}

/// `describe("parser")`, `it("parses")`, `test("…")` from a call line.
fn js_test_title(t: &str) -> Option<String> {
    if !super::detect::js_test_call(t) {
        return None;
    }
    let open = t.find('(')?;
    let rest = &t[open + 1..];
    let rest = rest.trim_start();
    let q = rest.chars().next()?;
    let body = &rest[1..];
    let mut end = None;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == q {
            end = Some(i);
            break;
        }
    }
    let title = &body[..end?];
    Some(format!("{}({q}{title}{q})", &t[..open]))
}
