//! Kind and syntax detection: from the item's `kind`, its file name, and its
//! content.

use std::path::Path;

use super::Syntax;
use crate::engine::{Item, Kind};

/// The item's kind: `item.kind` when given; else from the file extension of
/// `item.path` (or of an id that looks like a file name); else from content.
pub fn detect_kind(item: &Item) -> Kind {
    if let Some(kind) = item.kind {
        return kind;
    }
    let text = item.text();
    if let Some(name) = file_name(item)
        && let Some(kind) = kind_from_name(&name, text)
    {
        return kind;
    }
    kind_from_content(text)
}

/// The syntax of an item's text: from its file name when it has one with a
/// known extension, else from content.
pub fn detect_syntax(item: &Item) -> Syntax {
    file_name(item)
        .and_then(|n| syntax_from_name(&n))
        .unwrap_or_else(|| syntax_from_content(item.text()))
}

/// The file name to go by: the path, or the id when it looks like a file name.
fn file_name(item: &Item) -> Option<String> {
    if let Some(p) = &item.path {
        return Some(p.to_string_lossy().into_owned());
    }
    looks_like_file_name(&item.id).then(|| item.id.clone())
}

/// `src/auth.rs`, `README.md`: no whitespace, and an extension of 1 to 10
/// alphanumeric characters after a non-empty stem.
fn looks_like_file_name(id: &str) -> bool {
    if id.is_empty() || id.len() > 300 || id.chars().any(char::is_whitespace) {
        return false;
    }
    let base = id.rsplit(['/', '\\']).next().unwrap_or(id);
    match base.rsplit_once('.') {
        Some((stem, ext)) => {
            !stem.is_empty()
                && (1..=10).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphanumeric())
                && ext.chars().any(|c| c.is_ascii_alphabetic())
        }
        None => false,
    }
}

fn extension(name: &str) -> Option<String> {
    let ext = Path::new(name).extension()?.to_str()?;
    Some(ext.to_ascii_lowercase())
}

/// The syntax a file extension names.
pub fn syntax_from_name(name: &str) -> Option<Syntax> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base {
        "Dockerfile" | "Makefile" | ".bashrc" | ".zshrc" | ".profile" => {
            return Some(Syntax::Shell);
        }
        "Cargo.lock" | "Pipfile" => return Some(Syntax::Toml),
        _ => {}
    }
    let syntax = match extension(name)?.as_str() {
        "rs" => Syntax::Rust,
        "c" | "h" | "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" | "java" | "cs" | "go" | "kt"
        | "kts" | "swift" | "scala" | "dart" | "php" | "m" | "mm" | "proto" | "zig" => {
            Syntax::CLike
        }
        "js" | "jsx" | "mjs" | "cjs" | "ts" | "tsx" | "mts" | "cts" | "vue" | "svelte" => {
            Syntax::JavaScript
        }
        "py" | "pyi" | "pyw" => Syntax::Python,
        "sh" | "bash" | "zsh" | "fish" | "ksh" | "rb" | "pl" | "pm" | "r" | "ps1" => Syntax::Shell,
        "sql" | "psql" | "lua" | "hs" => Syntax::Sql,
        "toml" | "ini" | "cfg" | "conf" | "env" | "properties" => Syntax::Toml,
        "yaml" | "yml" => Syntax::Yaml,
        "json" | "jsonc" | "json5" | "ipynb" | "jsonl" | "geojson" => Syntax::Json,
        "md" | "markdown" | "mdx" | "rst" | "adoc" | "asciidoc" | "org" => Syntax::Markdown,
        "txt" | "text" | "log" => Syntax::Plain,
        _ => return None,
    };
    Some(syntax)
}

/// The kind a file name says, refined by content (a code file that is mostly
/// tests is `test`).
fn kind_from_name(name: &str, text: &str) -> Option<Kind> {
    let syntax = syntax_from_name(name)?;
    Some(match syntax {
        Syntax::Rust
        | Syntax::CLike
        | Syntax::JavaScript
        | Syntax::Python
        | Syntax::Shell
        | Syntax::Sql => {
            if name_is_test(name) || mostly_tests(text) {
                Kind::Test
            } else {
                Kind::Code
            }
        }
        Syntax::Toml | Syntax::Yaml | Syntax::Json => Kind::Config,
        Syntax::Markdown => Kind::Docs,
        Syntax::Plain => return None,
    })
}

/// `tests/…`, `…_test.go`, `test_….py`, `….spec.ts`, `__tests__/…`.
fn name_is_test(name: &str) -> bool {
    let lower = name.replace('\\', "/").to_ascii_lowercase();
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    let stem = base.split('.').next().unwrap_or(base);
    let in_test_dir = lower
        .split('/')
        .rev()
        .nth(1)
        .is_some_and(|d| matches!(d, "tests" | "test" | "__tests__" | "spec" | "specs"));
    in_test_dir
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem.ends_with("_spec")
        || base.contains(".test.")
        || base.contains(".spec.")
}

/// Counts test functions and all functions; tests when at least half are tests.
fn mostly_tests(text: &str) -> bool {
    let (tests, functions) = test_and_function_counts(text);
    tests > 0 && tests * 2 >= functions.max(1)
}

fn test_and_function_counts(text: &str) -> (usize, usize) {
    let mut tests = 0;
    let mut functions = 0;
    let mut after_test_attr = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("#[test]")
            || t.starts_with("#[tokio::test")
            || t.starts_with("#[rstest")
            || t.starts_with("#[test_case")
            || t.starts_with("@Test")
            || t.starts_with("@pytest.mark")
        {
            after_test_attr = true;
            continue;
        }
        let is_fn = is_function_line(t);
        if is_fn {
            functions += 1;
            if after_test_attr
                || t.contains("def test_")
                || t.contains("def test(")
                || t.starts_with("func Test")
            {
                tests += 1;
            }
            after_test_attr = false;
        } else if js_test_call(t) {
            tests += 1;
            functions += 1;
        } else if !t.starts_with("#[") && !t.starts_with('@') && !t.is_empty() {
            after_test_attr = false;
        }
    }
    (tests, functions)
}

fn is_function_line(t: &str) -> bool {
    let t = strip_prefixes(
        t,
        &[
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "async ",
            "unsafe ",
            "const ",
        ],
    );
    t.starts_with("fn ")
        || t.starts_with("def ")
        || t.starts_with("func ")
        || t.starts_with("function ")
}

fn strip_prefixes<'a>(mut t: &'a str, prefixes: &[&str]) -> &'a str {
    loop {
        let before = t;
        for p in prefixes {
            if let Some(rest) = t.strip_prefix(p) {
                t = rest;
            }
        }
        if t.len() == before.len() {
            return t;
        }
    }
}

/// `it("…"`, `test('…'`, `describe("…"`.
pub(super) fn js_test_call(t: &str) -> bool {
    for f in ["it", "test", "describe", "context", "specify"] {
        if let Some(rest) = t.strip_prefix(f) {
            let rest = rest
                .strip_prefix(".only")
                .or_else(|| rest.strip_prefix(".skip"))
                .or_else(|| rest.strip_prefix(".each"))
                .unwrap_or(rest);
            let rest = rest.trim_start();
            if let Some(rest) = rest.strip_prefix('(')
                && rest.trim_start().starts_with(['"', '\'', '`'])
            {
                return true;
            }
        }
    }
    false
}

/// The kind of untyped text, from its content alone.
pub fn kind_from_content(text: &str) -> Kind {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Kind::Prose;
    }
    if let Some(kind) = single_fence_kind(trimmed) {
        return kind;
    }
    if is_json(trimmed) {
        return Kind::Config;
    }
    // Code inside Markdown fences says nothing about the text around it.
    let outside = without_fences(trimmed);
    let code = code_score(&outside);
    let (tests, _) = test_and_function_counts(&outside);
    if tests > 0 && code >= 0.15 {
        return Kind::Test;
    }
    if code >= 0.3 {
        return Kind::Code;
    }
    if looks_like_toml(trimmed) || looks_like_yaml(trimmed) {
        return Kind::Config;
    }
    if looks_like_markdown(trimmed) {
        return Kind::Docs;
    }
    if looks_like_chat(trimmed) {
        return Kind::Chat;
    }
    Kind::Prose
}

/// The text without its fenced code blocks (fence lines included).
fn without_fences(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fence: Option<&str> = None;
    for line in text.lines() {
        let t = line.trim_start();
        match fence {
            Some(f) => {
                if t.starts_with(f) {
                    fence = None;
                }
            }
            None if t.starts_with("```") => fence = Some("```"),
            None if t.starts_with("~~~") => fence = Some("~~~"),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The syntax of untyped text, from its content alone.
pub fn syntax_from_content(text: &str) -> Syntax {
    let trimmed = text.trim();
    if let Some(lang) = fence_language(trimmed)
        && let Some(s) = syntax_from_name(&format!("x.{lang}"))
    {
        return s;
    }
    if is_json(trimmed) {
        return Syntax::Json;
    }
    if code_score(trimmed) >= 0.15 {
        return code_syntax(trimmed);
    }
    if looks_like_toml(trimmed) {
        return Syntax::Toml;
    }
    if looks_like_yaml(trimmed) {
        return Syntax::Yaml;
    }
    if looks_like_markdown(trimmed) {
        return Syntax::Markdown;
    }
    Syntax::Plain
}

/// Which programming language family code looks like.
pub(super) fn code_syntax(text: &str) -> Syntax {
    let mut scores = [0usize; 6]; // rust, clike, js, python, shell, sql
    for line in text.lines().take(400) {
        let t = line.trim_start();
        let lower = t.to_ascii_lowercase();
        if t.starts_with("fn ")
            || t.starts_with("pub ")
            || t.starts_with("impl")
            || t.starts_with("use ")
            || t.starts_with("let mut ")
            || t.starts_with("#[")
            || t.starts_with("mod ")
            || t.contains("::")
            || t.contains("-> ")
            || t.contains("&self")
            || t.contains("&mut ")
        {
            scores[0] += 2;
        }
        if t.starts_with("#include")
            || t.starts_with("func ")
            || t.starts_with("package ")
            || t.starts_with("public ")
            || t.starts_with("private ")
            || t.starts_with("int ")
            || t.starts_with("void ")
            || t.starts_with("static ")
        {
            scores[1] += 2;
        }
        if t.starts_with("function ")
            || t.starts_with("const ")
            || t.starts_with("export ")
            || t.starts_with("import ") && (t.contains(" from ") || t.contains('{'))
            || t.contains("=>")
            || t.starts_with("var ")
            || t.contains("console.")
        {
            scores[2] += 2;
        }
        if t.starts_with("def ")
            || t.starts_with("class ") && t.trim_end().ends_with(':')
            || t.starts_with("from ") && t.contains(" import ")
            || t.starts_with("import ") && !t.contains('{') && !t.ends_with(';')
            || t.starts_with("elif ")
            || t.starts_with("self.")
            || t.trim_end().ends_with(':') && (t.starts_with("if ") || t.starts_with("for "))
        {
            scores[3] += 2;
        }
        if t.starts_with("#!")
            || t.starts_with("echo ")
            || t.starts_with("export ") && t.contains('=') && !t.contains(' ')
            || t.starts_with("fi")
            || t.starts_with("done")
            || t.starts_with("esac")
            || t.contains("$(")
            || t.contains("${")
        {
            scores[4] += 2;
        }
        if lower.starts_with("select ")
            || lower.starts_with("create table")
            || lower.starts_with("insert into")
            || lower.starts_with("update ") && lower.contains(" set ")
            || lower.starts_with("from ") && !lower.contains(" import ")
            || lower.starts_with("where ")
        {
            scores[5] += 2;
        }
    }
    let best = scores
        .iter()
        .enumerate()
        .max_by_key(|&(i, s)| (*s, usize::MAX - i))
        .map(|(i, _)| i)
        .unwrap_or(1);
    match best {
        0 => Syntax::Rust,
        2 => Syntax::JavaScript,
        3 => Syntax::Python,
        4 => Syntax::Shell,
        5 => Syntax::Sql,
        _ => Syntax::CLike,
    }
}

/// The language of a text that is one fenced code block, if it is.
fn fence_language(trimmed: &str) -> Option<&str> {
    let first = trimmed.lines().next()?;
    let fence = if first.starts_with("```") {
        "```"
    } else if first.starts_with("~~~") {
        "~~~"
    } else {
        return None;
    };
    if !trimmed.ends_with(fence) || trimmed.lines().count() < 2 {
        return None;
    }
    let lang = first.trim_start_matches(fence).trim();
    let lang = lang.split([' ', ',', '{']).next().unwrap_or("");
    (!lang.is_empty()).then(|| fence_extension(lang))
}

/// The file extension a fence's language name stands for (`python` -> `py`).
fn fence_extension(lang: &str) -> &str {
    match lang.to_ascii_lowercase().as_str() {
        "rust" => "rs",
        "python" | "python3" | "py3" => "py",
        "javascript" | "node" => "js",
        "typescript" => "ts",
        "bash" | "shell" | "console" | "zsh" => "sh",
        "golang" => "go",
        "c++" => "cpp",
        "csharp" | "c#" => "cs",
        "kotlin" => "kt",
        "ruby" => "rb",
        "yml" => "yaml",
        "markdown" => "md",
        "postgresql" | "postgres" | "mysql" | "sqlite" => "sql",
        _ => lang,
    }
}

fn single_fence_kind(trimmed: &str) -> Option<Kind> {
    let lang = fence_language(trimmed)?;
    let inner = trimmed.lines().skip(1).collect::<Vec<_>>();
    let inner = inner[..inner.len().saturating_sub(1)].join("\n");
    kind_from_name(&format!("x.{lang}"), &inner)
}

fn is_json(trimmed: &str) -> bool {
    (trimmed.starts_with('{') || trimmed.starts_with('['))
        && serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok()
}

/// The share of non-blank lines that look like code.
fn code_score(text: &str) -> f64 {
    let mut lines = 0usize;
    let mut codey = 0usize;
    for line in text.lines().take(400) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        lines += 1;
        let strong = [
            "fn ",
            "pub fn",
            "pub struct",
            "impl ",
            "impl<",
            "def ",
            "class ",
            "function ",
            "import ",
            "use ",
            "#include",
            "package ",
            "func ",
            "return ",
            "let ",
            "const ",
            "var ",
            "struct ",
            "enum ",
            "trait ",
            "if (",
            "} else",
            "#[",
            "async ",
            "self.",
            "elif ",
            "for (",
            "while (",
        ];
        if strong.iter().any(|k| t.starts_with(k))
            || t.ends_with(';')
            || t.ends_with('{')
            || t == "}"
            || t.ends_with("};")
            || t.ends_with("):")
            || t.starts_with("//")
        {
            codey += 1;
            continue;
        }
        let punct = t
            .chars()
            .filter(|c| matches!(c, '{' | '}' | '(' | ')' | ';' | '=' | '<' | '>' | '[' | ']'))
            .count();
        if punct * 6 >= t.chars().count() && punct >= 2 {
            codey += 1;
        }
    }
    if lines == 0 {
        0.0
    } else {
        codey as f64 / lines as f64
    }
}

fn content_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
}

fn looks_like_toml(text: &str) -> bool {
    let mut total = 0;
    let mut hits = 0;
    let mut headers = 0;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with('#') {
            continue;
        }
        total += 1;
        if line.starts_with('[') && line.ends_with(']') && !line.contains(", ") {
            hits += 1;
            headers += 1;
        } else if let Some((key, _)) = line.split_once('=') {
            let key = key.trim();
            if !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | '\''))
            {
                hits += 1;
            }
        } else if line.starts_with(']') || line.ends_with(',') || line.starts_with('"') {
            hits += 1; // continuation of a multi-line array
        }
    }
    total > 0 && hits * 10 >= total * 7 && (headers > 0 || hits >= 2)
}

fn looks_like_yaml(text: &str) -> bool {
    let mut total = 0;
    let mut keys = 0;
    let mut items = 0;
    let mut long_values = 0;
    for line in content_lines(text) {
        total += 1;
        let t = line.trim_start();
        if t == "---" || t == "..." {
            keys += 1;
            continue;
        }
        if let Some(rest) = t.strip_prefix("- ").or_else(|| (t == "-").then_some("")) {
            items += 1;
            if rest.split_whitespace().count() > 12 {
                long_values += 1;
            }
            continue;
        }
        if let Some((key, value)) = t.split_once(':') {
            let key_ok = !key.is_empty()
                && key.len() <= 60
                && key
                    .trim_matches(['"', '\''])
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '$'));
            if key_ok && (value.is_empty() || value.starts_with(' ')) {
                keys += 1;
                if value.split_whitespace().count() > 8 {
                    long_values += 1;
                }
            }
        }
    }
    let hits = keys + items;
    total >= 2 && keys >= 1 && hits * 10 >= total * 8 && long_values * 3 < hits
}

fn looks_like_markdown(text: &str) -> bool {
    let mut signals = 0;
    for line in text.lines() {
        let t = line.trim_start();
        let hashes = t.bytes().take_while(|&b| b == b'#').count();
        if (1..=6).contains(&hashes) && t[hashes..].starts_with(' ') {
            signals += 3;
        } else if t.starts_with("```") || t.starts_with("~~~") {
            signals += 2;
        } else if t.starts_with("- [")
            || t.contains("](")
            || t.starts_with("> ")
            || ((t.starts_with("- ") || t.starts_with("* ")) && t.len() > 2)
        {
            signals += 1;
        } else if !t.is_empty() && t.bytes().all(|b| b == b'=' || b == b'-') && t.len() >= 3 {
            signals += 2;
        }
    }
    signals >= 3
}

fn looks_like_chat(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let roles = lines.iter().filter(|l| role_prefix(l.trim_start())).count();
    if roles >= 1 && roles * 3 >= lines.len().min(9) {
        return true;
    }
    if lines.len() > 6 || text.chars().count() > 1200 {
        return false;
    }
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect();
    let conversational = words
        .iter()
        .filter(|w| {
            matches!(
                **w,
                "i" | "i'm"
                    | "i've"
                    | "you"
                    | "you're"
                    | "your"
                    | "we"
                    | "me"
                    | "my"
                    | "please"
                    | "thanks"
                    | "thank"
                    | "hi"
                    | "hello"
                    | "hey"
                    | "can"
                    | "could"
                    | "sure"
                    | "ok"
                    | "okay"
                    | "let's"
            )
        })
        .count();
    conversational >= 2 || text.contains('?') && conversational >= 1
}

fn role_prefix(line: &str) -> bool {
    let Some((head, _)) = line.split_once(':') else {
        return false;
    };
    matches!(
        head.trim().to_ascii_lowercase().as_str(),
        "user" | "assistant" | "system" | "human" | "ai" | "bot" | "me" | "q" | "a" | "tool"
    )
}
