//! Degraded forms of an item (DESIGN.md §2.5 `degrade`).
//!
//! [`forms`] gives an item's shorter forms, mildest first:
//!
//! | level | name    | what it keeps |
//! |-------|---------|---------------|
//! | 1     | compact | whitespace runs collapsed (a run with a line break becomes one line break, others one space) |
//! | 2     | outline | the first sentence of each paragraph, whitespace collapsed |
//! | 3     | capsule | the first non-blank line and `[… N tokens omitted]` |
//!
//! A level is left out when its form is not shorter, in tokens, than the
//! previous form kept, so the forms returned strictly shrink.

use std::path::Path;

use super::{Item, Kind};

/// The kind of an item: its own `kind`, else one detected from its file
/// extension, else from its content.
pub fn detect_kind(item: &Item) -> Kind {
    if let Some(kind) = item.kind {
        return kind;
    }
    if let Some(kind) = item.path.as_deref().and_then(kind_from_path) {
        return kind;
    }
    kind_from_content(item.text())
}

fn kind_from_path(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if name.contains("test") || name.contains("spec") {
        return Some(Kind::Test);
    }
    Some(match ext.as_str() {
        "rs" | "py" | "js" | "ts" | "go" | "c" | "h" | "cpp" | "java" | "rb" | "sh" => Kind::Code,
        "md" | "rst" | "adoc" => Kind::Docs,
        "toml" | "yaml" | "yml" | "json" | "ini" => Kind::Config,
        "txt" => Kind::Prose,
        _ => return None,
    })
}

fn kind_from_content(text: &str) -> Kind {
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count().max(1);
    let code_lines = text
        .lines()
        .filter(|l| {
            let t = l.trim_end();
            t.ends_with(';') || t.ends_with('{') || t.ends_with('}')
        })
        .count();
    if code_lines * 3 >= lines && code_lines > 0 {
        Kind::Code
    } else if text.trim_start().starts_with('#') {
        Kind::Docs
    } else {
        Kind::Prose
    }
}

/// The shorter forms of `text`, mildest first, each with its level
/// (1 compact, 2 outline, 3 capsule). `count` counts tokens. Every form is
/// strictly shorter in tokens than the text and than the forms before it.
pub fn forms(text: &str, kind: Kind, count: &dyn Fn(&str) -> usize) -> Vec<(u8, String)> {
    let _ = kind;
    let full = count(text);
    let mut out = Vec::new();
    let mut last = full;
    let first_line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let candidates = [
        (1u8, compact(text)),
        (2u8, outline(text)),
        (
            3u8,
            capsule(first_line, full.saturating_sub(count(first_line))),
        ),
    ];
    for (level, form) in candidates {
        let n = count(&form);
        if n < last && !form.is_empty() {
            last = n;
            out.push((level, form));
        }
    }
    out
}

fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run: Option<bool> = None; // Some(has_newline) while in a whitespace run
    for c in text.trim().chars() {
        if c.is_whitespace() {
            let nl = c == '\n';
            run = Some(run.unwrap_or(false) || nl);
        } else {
            if let Some(nl) = run.take() {
                out.push(if nl { '\n' } else { ' ' });
            }
            out.push(c);
        }
    }
    out
}

fn outline(text: &str) -> String {
    let mut parts = Vec::new();
    for paragraph in text.split("\n\n") {
        let p = paragraph.trim();
        if p.is_empty() {
            continue;
        }
        let first_line = p.lines().next().unwrap_or("");
        let mut end = first_line.len();
        for (i, c) in first_line.char_indices() {
            if matches!(c, '.' | '!' | '?')
                && first_line[i + c.len_utf8()..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
            {
                end = i + c.len_utf8();
                break;
            }
        }
        parts.push(
            first_line[..end]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    parts.join("\n")
}

fn capsule(first_line: &str, omitted: usize) -> String {
    format!("{first_line} [… {omitted} tokens omitted]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> usize {
        s.split_whitespace().count()
    }

    #[test]
    fn forms_shrink_mildest_first() {
        let text =
            "Intro   sentence one. More words here.\n\n\nSecond   para. Tail words go on and on.";
        let f = forms(text, Kind::Prose, &words);
        assert_eq!(f.first().map(|f| f.0), Some(2));
        assert_eq!(f[0].1, "Intro sentence one.\nSecond para.");
        let levels: Vec<u8> = f.iter().map(|f| f.0).collect();
        assert!(levels.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn compact_collapses_runs() {
        assert_eq!(compact("  a  b\n\n\n  c "), "a b\nc");
    }

    #[test]
    fn kinds_from_content() {
        assert_eq!(kind_from_content("fn main() {\n    x();\n}"), Kind::Code);
        assert_eq!(kind_from_content("# Title\ntext"), Kind::Docs);
        assert_eq!(kind_from_content("plain words"), Kind::Prose);
    }
}
