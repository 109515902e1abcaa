//! Config forms (TOML, YAML, JSON): compact drops comments and blank lines;
//! outline keeps keys and structure and shortens long values.

use super::Syntax;
use super::lex::{drop_blank_lines, lex};
use super::value::{self, ARRAY_ITEMS, LONG_STRING, Style};

/// The config syntax of a text, when the caller's syntax is not a config one.
pub(super) fn config_syntax(text: &str, syntax: Syntax) -> Syntax {
    match syntax {
        Syntax::Toml | Syntax::Yaml | Syntax::Json => syntax,
        _ => match super::detect::syntax_from_content(text) {
            s @ (Syntax::Toml | Syntax::Json) => s,
            _ => Syntax::Yaml,
        },
    }
}

/// Comments and blank lines removed; JSON also loses the whitespace between
/// tokens.
pub(super) fn compact(text: &str, syntax: Syntax) -> String {
    match syntax {
        Syntax::Json => minify_json(&lex(text, Syntax::Json).text),
        Syntax::Yaml => yaml_compact(text),
        _ => drop_blank_lines(&lex(text, syntax)),
    }
}

/// Keys and structure with long values shortened.
pub(super) fn outline(compact: &str, syntax: Syntax) -> String {
    match syntax {
        Syntax::Json => json_outline(compact),
        Syntax::Yaml => yaml_outline(compact),
        _ => toml_outline(compact),
    }
}

fn minify_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

const JSON_STYLE: Style = Style {
    item_sep: ",",
    key_sep: ":",
};

fn json_outline(compact: &str) -> String {
    match value::parse(compact, 0, b"") {
        Some((flow, _)) => value::shortened(&flow, JSON_STYLE),
        None => compact.to_string(),
    }
}

const TOML_STYLE: Style = Style {
    item_sep: ", ",
    key_sep: " = ",
};

fn toml_outline(compact: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut pos = 0;
    while pos < compact.len() {
        let end = compact[pos..].find('\n').map_or(compact.len(), |n| pos + n);
        let line = &compact[pos..end];
        let t = line.trim_start();
        let eq = (!t.starts_with('[')).then(|| line.find('=')).flatten();
        if let Some(eq) = eq
            && let Some((flow, after)) = value::parse(compact, pos + eq + 1, b"#")
        {
            out.push(format!(
                "{} = {}",
                line[..eq].trim_end(),
                value::shortened(&flow, TOML_STYLE)
            ));
            pos = compact[after..]
                .find('\n')
                .map_or(compact.len(), |n| after + n)
                + 1;
            continue;
        }
        out.push(line.to_string());
        pos = end + 1;
    }
    out.join("\n")
}

/// Indentation width of a line.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A block scalar header: `key: |`, `- >-`, `key: |2`.
fn opens_block_scalar(line: &str) -> bool {
    let t = line.trim_end();
    let Some(last) = t.split_whitespace().last() else {
        return false;
    };
    (last.starts_with('|') || last.starts_with('>'))
        && last[1..]
            .chars()
            .all(|c| matches!(c, '-' | '+' | '0'..='9'))
        && (t.contains(": ") || t.trim_start().starts_with("- ") || t.trim_start() == last)
}

fn yaml_compact(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut block: Option<usize> = None;
    // Blank lines inside a block scalar are content, unless the block ends.
    let mut blanks = 0;
    for line in text.lines() {
        if let Some(parent) = block {
            if line.trim().is_empty() {
                blanks += 1;
                continue;
            }
            if indent(line) > parent {
                out.extend(std::iter::repeat_n(String::new(), blanks));
                blanks = 0;
                out.push(line.trim_end().to_string());
                continue;
            }
            block = None;
            blanks = 0;
        }
        let stripped = lex(line, Syntax::Yaml).text;
        let stripped = stripped.trim_end();
        if stripped.trim().is_empty() {
            continue;
        }
        if opens_block_scalar(stripped) {
            block = Some(indent(stripped));
        }
        out.push(stripped.to_string());
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

const YAML_STYLE: Style = Style {
    item_sep: ", ",
    key_sep: ": ",
};

fn yaml_outline(compact: &str) -> String {
    let lines: Vec<&str> = compact.lines().collect();
    let mut out: Vec<String> = Vec::new();
    // Runs of sequence items: (indent, items seen).
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut k = 0;
    while k < lines.len() {
        let line = lines[k];
        if line.trim().is_empty() {
            k += 1;
            continue;
        }
        let ind = indent(line);
        while runs.last().is_some_and(|&(i, _)| i > ind) {
            runs.pop();
        }
        let t = line.trim_start();
        let is_item = t == "-" || t.starts_with("- ");
        if is_item {
            match runs.last_mut() {
                Some((i, n)) if *i == ind => *n += 1,
                _ => runs.push((ind, 1)),
            }
            let n = runs.last().map_or(1, |r| r.1);
            if n > ARRAY_ITEMS {
                if n == ARRAY_ITEMS + 1 {
                    out.push(format!("{}- …", &line[..ind]));
                }
                k += 1;
                while k < lines.len() && (lines[k].trim().is_empty() || indent(lines[k]) > ind) {
                    k += 1;
                }
                continue;
            }
        } else if runs.last().is_some_and(|&(i, _)| i == ind) {
            runs.pop();
        }
        if opens_block_scalar(line) {
            let head = line.trim_end();
            let cut = head
                .rfind(char::is_whitespace)
                .map_or(head.len(), |p| p + 1);
            out.push(format!("{}…", &head[..cut]));
            k += 1;
            while k < lines.len() && (lines[k].trim().is_empty() || indent(lines[k]) > ind) {
                k += 1;
            }
            continue;
        }
        out.push(yaml_line(line));
        k += 1;
    }
    out.join("\n")
}

/// One YAML line with a long scalar or flow value shortened.
fn yaml_line(line: &str) -> String {
    let ind = indent(line);
    let mut t = &line[ind..];
    let mut prefix = String::from(&line[..ind]);
    while let Some(rest) = t.strip_prefix("- ") {
        prefix.push_str("- ");
        t = rest;
    }
    // `key: value`, or a bare scalar item.
    let (head, value) = match find_key_colon(t) {
        Some(c) => (&t[..=c], t[c + 1..].trim()),
        None => ("", t.trim()),
    };
    if value.is_empty() {
        return line.trim_end().to_string();
    }
    let short = if value.starts_with(['[', '{', '"', '\'']) {
        match value::parse(value, 0, b"") {
            Some((flow, end)) if value[end..].trim().is_empty() => {
                value::shortened(&flow, YAML_STYLE)
            }
            _ => value.to_string(),
        }
    } else if value.chars().count() > LONG_STRING {
        "\"…\"".to_string()
    } else {
        value.to_string()
    };
    if head.is_empty() {
        format!("{prefix}{short}")
    } else {
        format!("{prefix}{head} {short}")
    }
}

/// The colon that ends a mapping key: followed by a space or the end, and
/// not inside quotes.
fn find_key_colon(t: &str) -> Option<usize> {
    let b = t.as_bytes();
    if matches!(b.first(), Some(b'[' | b'{')) {
        return None;
    }
    let mut quote: Option<u8> = None;
    for (i, &c) in b.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if (c == b'"' || c == b'\'') && i == 0 => quote = Some(c),
            None if c == b':' && matches!(b.get(i + 1), None | Some(b' ' | b'\t')) => {
                return Some(i);
            }
            None => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_outline_shortens_long_strings_and_arrays() {
        let json =
            r#"{"a":"0123456789012345678901234567890123456789x","b":[1,2,3,4,5],"c":{"d":true}}"#;
        assert_eq!(
            json_outline(json),
            r#"{"a":"…","b":[1,2,3,…],"c":{"d":true}}"#
        );
    }

    #[test]
    fn yaml_sequences_keep_three_items() {
        let y = "k:\n  - a\n  - b\n  - c\n  - d\n  - e\nz: 1";
        assert_eq!(yaml_outline(y), "k:\n  - a\n  - b\n  - c\n  - …\nz: 1");
    }

    #[test]
    fn toml_values_are_shortened_in_place() {
        let toml = "[a]\nlist = [1, 2, 3, 4]\nname = \"short\"\n";
        assert_eq!(
            toml_outline(toml),
            "[a]\nlist = [1, 2, 3, …]\nname = \"short\""
        );
        assert!(matches!(
            value::parse("x", 0, b""),
            Some((value::Flow::Atom(_), 1))
        ));
    }
}
