//! Degraded forms of an item, by content kind (docs/engine.md §5 `degrade`).
//!
//! [`forms`] gives an item's shorter forms, mildest first:
//!
//! | level | name    | what it keeps |
//! |-------|---------|---------------|
//! | 1     | compact | code: no comments, no blank lines; docs, chat, prose: whitespace collapsed; config: no comments or blank lines (JSON minified) |
//! | 2     | outline | code: declarations and signatures, bodies as `{ … }`; tests: the test names; docs: headings and each paragraph's first sentence; config: keys and structure, strings over 40 characters as `"…"`, arrays past 3 items as `…`; chat, prose: the first and last sentences |
//! | 3     | capsule | the first non-blank line and `[… N tokens omitted]` |
//! | 4     | summary | what the `summarize` overflow's command wrote ([`crate::summarize`]) |
//!
//! [`DegradeLevel`] names the levels; forms carry the level's number.
//!
//! A level is left out when its form is not shorter, in tokens, than the
//! previous form kept, so the forms returned strictly shrink. The engine
//! takes the mildest form that fits.
//!
//! Which kind a text is comes from [`detect_kind`]; which language a code or
//! config text is written in ([`Syntax`]) from the file extension when there
//! is one ([`detect_syntax`], used by [`item_forms`]) or else from content
//! ([`forms`]). Decisions worth knowing:
//! - outlines of code drop imports (`use`, `import`, `#include`) and
//!   attributes; docstrings are string literals and so survive `compact`;
//! - a capsule keeps the first non-blank line that has a letter or digit
//!   (a JSON object's `{` says nothing), else the first non-blank line, with
//!   runs of whitespace collapsed; a line over 80 characters is cut to its
//!   leading sentences (at least five words), or else to its first words, and ends with `…`, so that
//!   the last resort before dropping stays small;
//! - `tool` items are treated as config when they are JSON, else as prose;
//!   `comment` items as prose.

mod code;
mod config;
mod detect;
mod lex;
mod text;
mod value;

pub use detect::{
    detect_kind, detect_syntax, kind_from_content, syntax_from_content, syntax_from_name,
};

use super::{Item, Kind};

/// The language a code or config text is written in, which decides comment
/// syntax and outline rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// Rust: `//` and nested `/* */` comments, raw strings, lifetimes.
    Rust,
    /// C, C++, Java, C#, Go, Kotlin, Swift and the like: `//`, `/* */`.
    CLike,
    /// JavaScript and TypeScript: `//`, `/* */`, template strings, regexes.
    JavaScript,
    /// Python: `#` comments, triple-quoted strings, indentation blocks.
    Python,
    /// Shell and other `#`-comment scripts (Ruby, Perl, R).
    Shell,
    /// SQL (and Lua/Haskell-style `--` comments).
    Sql,
    /// TOML and INI-like files.
    Toml,
    /// YAML.
    Yaml,
    /// JSON (comments allowed, as in JSONC).
    Json,
    /// Markdown and other lightweight markup.
    Markdown,
    /// Plain text.
    Plain,
}

/// A degraded form's level, mildest first. Plans and forms carry the
/// number ([`DegradeLevel::number`]); this gives it its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DegradeLevel {
    /// 1: comments, blank lines and extra whitespace removed.
    Compact,
    /// 2: declarations, headings, keys: the structure without the bodies.
    Outline,
    /// 3: the first line and how many tokens were left out.
    Capsule,
    /// 4: what the summarizer command wrote for the item.
    Summary,
}

impl DegradeLevel {
    /// Every level, mildest first.
    pub const ALL: [DegradeLevel; 4] = [
        DegradeLevel::Compact,
        DegradeLevel::Outline,
        DegradeLevel::Capsule,
        DegradeLevel::Summary,
    ];

    /// The level with this number (1 to 4).
    pub const fn from_number(n: u8) -> Option<DegradeLevel> {
        match n {
            1 => Some(DegradeLevel::Compact),
            2 => Some(DegradeLevel::Outline),
            3 => Some(DegradeLevel::Capsule),
            4 => Some(DegradeLevel::Summary),
            _ => None,
        }
    }

    /// The level's number, as plans and reports carry it (1 to 4).
    pub const fn number(self) -> u8 {
        match self {
            DegradeLevel::Compact => 1,
            DegradeLevel::Outline => 2,
            DegradeLevel::Capsule => 3,
            DegradeLevel::Summary => 4,
        }
    }

    /// The level's name: `compact`, `outline`, `capsule`, `summary`.
    pub const fn name(self) -> &'static str {
        match self {
            DegradeLevel::Compact => "compact",
            DegradeLevel::Outline => "outline",
            DegradeLevel::Capsule => "capsule",
            DegradeLevel::Summary => "summary",
        }
    }
}

impl std::fmt::Display for DegradeLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The longest first line a capsule keeps, in characters.
const CAPSULE_LINE: usize = 80;

/// Shorter forms of `text` for its `kind`, mildest first: `(1, compact)`,
/// `(2, outline)`, `(3, capsule)`. A level whose form is not shorter (in
/// tokens, by `count`) than the previous form kept is left out.
///
/// The language of code and config is detected from the content; use
/// [`item_forms`] to go by the item's file extension as well.
///
/// ```
/// use tokenscope::engine::{Kind, degrade};
/// let count = |s: &str| s.split_whitespace().count();
/// let text = "fn add(a: u32, b: u32) -> u32 {\n    // sum them\n    a + b\n}\n";
/// let forms = degrade::forms(text, Kind::Code, &count);
/// assert_eq!(forms[0], (1, "fn add(a: u32, b: u32) -> u32 {\n    a + b\n}".to_string()));
/// ```
pub fn forms(text: &str, kind: Kind, count: &dyn Fn(&str) -> usize) -> Vec<(u8, String)> {
    forms_with_syntax(text, kind, syntax_from_content(text), count)
}

/// [`forms`] for an item: its kind from [`detect_kind`], its syntax from its
/// file name when it has one ([`detect_syntax`]).
pub fn item_forms(item: &Item, count: &dyn Fn(&str) -> usize) -> Vec<(u8, String)> {
    forms_with_syntax(item.text(), detect_kind(item), detect_syntax(item), count)
}

/// [`forms`] with the syntax given.
pub fn forms_with_syntax(
    text: &str,
    kind: Kind,
    syntax: Syntax,
    count: &dyn Fn(&str) -> usize,
) -> Vec<(u8, String)> {
    let (compact, outline) = compact_and_outline(text, kind, syntax);
    let full = count(text);
    let mut out = Vec::with_capacity(3);
    let mut previous = full;
    for (level, form) in [
        (DegradeLevel::Compact.number(), compact),
        (DegradeLevel::Outline.number(), outline),
    ] {
        if form.trim().is_empty() {
            continue;
        }
        let n = count(&form);
        if n < previous {
            previous = n;
            out.push((level, form));
        }
    }
    if let Some(capsule) = capsule(text, full, count)
        && count(&capsule) < previous
    {
        out.push((DegradeLevel::Capsule.number(), capsule));
    }
    out
}

/// The compact and outline forms (not yet compared with each other).
fn compact_and_outline(text: &str, kind: Kind, syntax: Syntax) -> (String, String) {
    match kind {
        Kind::Code | Kind::Test => {
            let syntax = match syntax {
                Syntax::Rust
                | Syntax::CLike
                | Syntax::JavaScript
                | Syntax::Python
                | Syntax::Shell
                | Syntax::Sql => syntax,
                _ => detect::code_syntax(text),
            };
            let compact = code::compact(text, syntax);
            let outline = if kind == Kind::Test {
                code::test_outline(&compact, syntax)
            } else {
                code::outline(&compact, syntax)
            };
            (compact, outline)
        }
        Kind::Docs => {
            let compact = text::markdown_compact(text);
            let outline = text::markdown_outline(&compact);
            (compact, outline)
        }
        Kind::Config => config_forms(text, syntax),
        Kind::Tool if syntax == Syntax::Json || syntax_from_content(text) == Syntax::Json => {
            config_forms(text, Syntax::Json)
        }
        Kind::Prose | Kind::Chat | Kind::Comment | Kind::Tool => {
            let compact = text::prose_compact(text);
            let outline = text::prose_outline(&compact);
            (compact, outline)
        }
    }
}

fn config_forms(text: &str, syntax: Syntax) -> (String, String) {
    let syntax = config::config_syntax(text, syntax);
    let compact = config::compact(text, syntax);
    let outline = config::outline(&compact, syntax);
    (compact, outline)
}

/// The first non-blank line and `[… N tokens omitted]`, where N is the
/// original's tokens minus the kept line's. `None` for blank text.
fn capsule(text: &str, full: usize, count: &dyn Fn(&str) -> usize) -> Option<String> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.clone().find(|l| l.chars().any(char::is_alphanumeric));
    let first = first.or_else(|| lines.next())?;
    let first = first.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = first.as_str();
    let line = if first.chars().count() > CAPSULE_LINE {
        // A long line keeps its leading sentences (at least five words) when
        // they are short enough, else its first words.
        let sentences = text::sentences(first);
        let mut lead = String::new();
        for sentence in &sentences {
            if !lead.is_empty() {
                lead.push(' ');
            }
            lead.push_str(sentence);
            if lead.split_whitespace().count() >= 5 {
                break;
            }
        }
        if lead.chars().count() <= CAPSULE_LINE && lead.len() < first.len() {
            format!("{lead} …")
        } else {
            let cut = first
                .char_indices()
                .nth(CAPSULE_LINE)
                .map_or(first.len(), |(i, _)| i);
            let head = &first[..cut];
            let head = head.rfind(char::is_whitespace).map_or(head, |p| &head[..p]);
            format!("{} …", head.trim_end())
        }
    } else {
        first.to_string()
    };
    let omitted = full.saturating_sub(count(&line));
    Some(format!("{line}\n[… {omitted} tokens omitted]"))
}

#[cfg(test)]
mod level_tests {
    use super::*;

    /// The reports and the inspector each had a copy of these names, and
    /// both called level 4 (a summary) `shorter form` or `degraded`.
    #[test]
    fn every_level_has_a_name_and_a_number() {
        let names: Vec<&str> = DegradeLevel::ALL.iter().map(|l| l.name()).collect();
        assert_eq!(names, ["compact", "outline", "capsule", "summary"]);
        for (i, level) in DegradeLevel::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(level.number()), i + 1);
            assert_eq!(DegradeLevel::from_number(level.number()), Some(level));
            assert_eq!(level.to_string(), level.name());
        }
        assert_eq!(DegradeLevel::from_number(0), None);
        assert_eq!(DegradeLevel::from_number(5), None);
        assert_eq!(
            DegradeLevel::from_number(super::super::overflow::SUMMARY_LEVEL),
            Some(DegradeLevel::Summary)
        );
    }
}
