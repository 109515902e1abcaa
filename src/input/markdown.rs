//! Markdown and plain-text prompt files.
//!
//! How a file becomes an item set:
//!
//! - **Sections.** A heading at the section level (default 2, from
//!   [`LoadOptions::heading_level`] or the front matter's `heading_level`)
//!   starts a section named by the heading's text; the heading line itself is
//!   the section's `title`. After the first section, a heading *above* the
//!   section level (an `# H1` when sections are `##`) starts a section too.
//!   Content before the first section goes to a section named after the first
//!   heading above the section level (the document's `# Title`), or
//!   `preamble`. Repeated names get ` (2)`, ` (3)`, ... Sections without items
//!   are left out.
//! - **Items.** Each top-level block is an item: a paragraph, a list, a
//!   table, a code block, a block quote, an HTML block. A sub-heading (deeper
//!   than the section level, or the title in the preamble) joins the block
//!   that follows it, so that no heading stands alone; one with nothing after
//!   it in its section is an item by itself. Thematic breaks are not items.
//!   Item text is the exact slice of the file (trailing whitespace trimmed),
//!   so counts are honest. Code blocks have kind `code`, ordinary HTML
//!   comments kind `comment`, everything else `prose`.
//! - **Ids** are `section-slug/N`, N counting the section's items from 1;
//!   a settings comment can give an explicit `id`.
//! - **Settings comments**: an HTML comment on its own line such as
//!   `<!-- priority: 0.3 pinned -->` sets the next item's settings (two in a
//!   row add up). Settings are `key: value` (or `key=value`) pairs and the
//!   bare flag `pinned`, separated by spaces or commas; quote a value with
//!   spaces (`category: "user docs"`). Keys: `id`, `priority` (aliases
//!   `relevance`, `score`), `pinned` (bare, or `true`/`false`), `kind`,
//!   `group`, `category`, `level`, `tag` (repeat for several tags). A comment
//!   whose first word is not one of these keys is ordinary content (an item
//!   of kind `comment`); a bad value in a settings comment is an error.
//! - **Front matter** (`+++` TOML or `---` `key: value` lines at the very
//!   start) may carry the budget settings and `split`; see below.
//! - **Shares.** Sections share the budget equally by default; `split` in the
//!   front matter gives named sections explicit percentages and the others
//!   share what is left equally.
//!
//! Plain text is read the same way: without Markdown syntax it is a list of
//! paragraphs (separated by blank lines) in one `preamble` section.
//!
//! Front-matter keys: `total` (alias `budget`), `model`, `encoding`,
//! `strategy`, `overflow`, `reserve_output`, `reserved`, `reallocate`,
//! `min_priority`, `heading_level`, `split` (`"name=pct, ..."`, or in TOML a
//! table `{ name = pct }`); in TOML they may also sit in a `[budget]` table.
//! Other keys (`title`, `tags`, ...) are ignored with a warning. A `---` line
//! at the start without a closing `---` is a thematic break, not front
//! matter.

mod directive;
mod front_matter;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::ops::Range;
use std::path::Path;

use pulldown_cmark::{Event, Options, Parser, Tag};

use crate::engine::{Item, ItemSet, Kind, Section, SectionBudget};
use crate::input::detect::LoadOptions;
use crate::input::load_error::{InputError, quote};
use crate::text::line_column;

use directive::Directive;

/// The default heading level that starts a section.
pub const DEFAULT_HEADING_LEVEL: u8 = 2;

/// Variations on the Markdown reading used by other loaders (`llms-full.txt`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Flavor {
    /// A fixed name for the content before the first section (instead of the
    /// document title or `preamble`).
    pub preamble_name: Option<&'static str>,
    /// Pin the items before the first section.
    pub pin_preamble: bool,
    /// Priority for items of a section named `Optional` (any case).
    pub optional_priority: Option<f64>,
}

/// Loads a Markdown or plain-text prompt file from its text. `path` names
/// the file in errors and in the set's `sources`.
pub fn parse(path: &Path, text: &str, options: &LoadOptions) -> Result<ItemSet, InputError> {
    parse_flavored(path, text, options, Flavor::default())
}

/// A top-level block of the document.
#[derive(Debug)]
enum Block {
    Heading {
        level: u8,
        text: String,
        range: Range<usize>,
    },
    Settings(Directive),
    Content {
        kind: Kind,
        range: Range<usize>,
    },
}

/// A section being built.
#[derive(Debug)]
struct DraftSection {
    /// `None` for the preamble until it is named.
    name: Option<String>,
    title: Option<String>,
    items: Vec<DraftItem>,
}

#[derive(Debug)]
struct DraftItem {
    range: Range<usize>,
    kind: Kind,
    settings: Option<Directive>,
}

pub(crate) fn parse_flavored(
    path: &Path,
    text: &str,
    options: &LoadOptions,
    flavor: Flavor,
) -> Result<ItemSet, InputError> {
    let fm = front_matter::parse(path, text)?;
    let level = match (options.heading_level, fm.heading_level) {
        (Some(l), _) => {
            if !(1..=6).contains(&l) {
                return Err(InputError::Option {
                    option: "heading level",
                    value: l.to_string(),
                    message: "expected a heading level from 1 to 6".into(),
                });
            }
            l
        }
        (None, Some((l, _))) => l,
        (None, None) => DEFAULT_HEADING_LEVEL,
    };

    let blocks = blocks(path, text, fm.body_start)?;
    let mut warnings = Vec::new();
    if !fm.ignored.is_empty() {
        warnings.push(format!(
            "{}: front matter keys ignored: {}",
            path.display(),
            fm.ignored.join(", ")
        ));
    }

    // Group blocks into sections and items.
    let mut sections: Vec<DraftSection> = vec![DraftSection {
        name: flavor.preamble_name.map(str::to_string),
        title: None,
        items: Vec::new(),
    }];
    let mut in_preamble = true;
    let mut pending_heading: Option<Range<usize>> = None;
    let mut pending_settings: Option<Directive> = None;
    for block in blocks {
        match block {
            Block::Heading {
                level: l,
                text: heading,
                range,
            } => {
                let starts_section = l == level || (!in_preamble && l < level);
                if starts_section {
                    if let Some(r) = pending_heading.take() {
                        push_item(&mut sections, r, Kind::Prose, None);
                    }
                    sections.push(DraftSection {
                        name: Some(heading),
                        title: Some(text[range.clone()].trim_end().to_string()),
                        items: Vec::new(),
                    });
                    in_preamble = false;
                } else {
                    if in_preamble && l < level && sections[0].name.is_none() {
                        sections[0].name = Some(heading);
                    }
                    pending_heading = Some(match pending_heading {
                        Some(p) => p.start..range.end,
                        None => range,
                    });
                }
            }
            Block::Settings(d) => match &mut pending_settings {
                Some(p) => p.merge(d),
                None => pending_settings = Some(d),
            },
            Block::Content { kind, range } => {
                let start = pending_heading.take().map_or(range.start, |h| h.start);
                push_item(
                    &mut sections,
                    start..range.end,
                    kind,
                    pending_settings.take(),
                );
            }
        }
    }
    if let Some(r) = pending_heading.take() {
        let settings = pending_settings.take();
        push_item(&mut sections, r, Kind::Prose, settings);
    }
    if let Some(d) = pending_settings {
        let (line, _) = line_column(text, d.offset);
        warnings.push(format!(
            "{}:{line}: the settings comment applies to no item (nothing follows it)",
            path.display()
        ));
    }

    let mut set = build(path, text, sections, flavor, &fm.split)?;
    set.budget = fm.budget;
    set.sources.push(path.to_path_buf());
    set.warnings.extend(warnings);
    Ok(set)
}

fn push_item(
    sections: &mut [DraftSection],
    range: Range<usize>,
    kind: Kind,
    settings: Option<Directive>,
) {
    if let Some(section) = sections.last_mut() {
        section.items.push(DraftItem {
            range,
            kind,
            settings,
        });
    }
}

/// The document's top-level blocks, with offsets into `text`.
fn blocks(path: &Path, text: &str, body_start: usize) -> Result<Vec<Block>, InputError> {
    let body = &text[body_start..];
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_FOOTNOTES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);

    let mut out = Vec::new();
    let mut depth = 0usize;
    // The open top-level block: (tag kind, range, heading level, heading text).
    let mut open: Option<(OpenKind, Range<usize>, String)> = None;
    for (event, r) in Parser::new_ext(body, opts).into_offset_iter() {
        let range = body_start + r.start..body_start + r.end;
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    let kind = match tag {
                        Tag::Heading { level, .. } => OpenKind::Heading(level as u8),
                        Tag::CodeBlock(_) => OpenKind::Content(Kind::Code),
                        Tag::HtmlBlock => OpenKind::Html,
                        _ => OpenKind::Content(Kind::Prose),
                    };
                    open = Some((kind, range, String::new()));
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0
                    && let Some((kind, start_range, heading)) = open.take()
                {
                    let range = start_range.start..start_range.end.max(range.end);
                    if let Some(block) = finish(path, text, kind, range, heading)? {
                        out.push(block);
                    }
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((OpenKind::Heading(_), _, heading)) = &mut open {
                    heading.push_str(&t);
                } else if depth == 0 {
                    out.push(Block::Content {
                        kind: Kind::Prose,
                        range,
                    });
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some((OpenKind::Heading(_), _, heading)) = &mut open {
                    heading.push(' ');
                }
            }
            Event::Rule => {}
            _ => {
                if depth == 0 && !range.is_empty() {
                    out.push(Block::Content {
                        kind: Kind::Prose,
                        range,
                    });
                }
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy)]
enum OpenKind {
    Heading(u8),
    Html,
    Content(Kind),
}

fn finish(
    path: &Path,
    text: &str,
    kind: OpenKind,
    range: Range<usize>,
    heading: String,
) -> Result<Option<Block>, InputError> {
    Ok(Some(match kind {
        OpenKind::Heading(level) => Block::Heading {
            level,
            text: heading.split_whitespace().collect::<Vec<_>>().join(" "),
            range,
        },
        OpenKind::Html => {
            let slice = &text[range.clone()];
            match directive::parse(path, text, slice, range.start)? {
                Some(d) => Block::Settings(d),
                None => {
                    let t = slice.trim();
                    let kind = if t.starts_with("<!--") && t.ends_with("-->") {
                        Kind::Comment
                    } else {
                        Kind::Prose
                    };
                    Block::Content { kind, range }
                }
            }
        }
        OpenKind::Content(kind) => Block::Content { kind, range },
    }))
}

/// Turns drafts into the item set: unique names, ids, shares, settings.
fn build(
    path: &Path,
    text: &str,
    drafts: Vec<DraftSection>,
    flavor: Flavor,
    split: &[front_matter::SplitShare],
) -> Result<ItemSet, InputError> {
    let mut set = ItemSet::default();

    // Explicit ids first, so generated ones can avoid them.
    let mut used: HashSet<String> = HashSet::default();
    let mut first_use: HashMap<String, usize> = HashMap::default();
    for item in drafts.iter().flat_map(|s| &s.items) {
        if let Some((id, at)) = item.settings.as_ref().and_then(|d| d.id.as_ref()) {
            if let Some(first) = first_use.get(id) {
                let (line, _) = line_column(text, *first);
                return Err(InputError::at(
                    path,
                    text,
                    *at,
                    format!(
                        "duplicate item id {}; expected a new id (first used on line {line})",
                        quote(id)
                    ),
                ));
            }
            first_use.insert(id.clone(), *at);
            used.insert(id.clone());
        }
    }

    let mut names: HashSet<String> = HashSet::default();
    for (index, draft) in drafts.into_iter().enumerate() {
        let items: Vec<DraftItem> = draft
            .items
            .into_iter()
            .filter(|i| !text[i.range.clone()].trim().is_empty())
            .collect();
        if items.is_empty() {
            continue;
        }
        let base = draft
            .name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| if index == 0 { "preamble" } else { "untitled" }.to_string());
        let name = unique_name(&names, &base);
        names.insert(name.clone());
        let slug = slug(&name);
        let preamble = index == 0;
        let optional = name.eq_ignore_ascii_case("optional");

        let mut section = Section::share(name.clone(), 0.0);
        section.title = draft.title;
        set.sections.push(section);

        for (n, draft_item) in items.into_iter().enumerate() {
            let slice = text[draft_item.range.clone()].trim_end();
            let settings = draft_item.settings.unwrap_or_default();
            let id = match settings.id {
                Some((id, _)) => id,
                None => unique_id(&mut used, &format!("{slug}/{}", n + 1)),
            };
            let mut item = Item::new(id, name.clone(), slice);
            item.kind = Some(settings.kind.unwrap_or(draft_item.kind));
            if preamble && flavor.pin_preamble {
                item.pinned = true;
            }
            if optional && let Some(p) = flavor.optional_priority {
                item.priority = p;
            }
            if let Some(p) = settings.priority {
                item.priority = p;
            }
            if let Some(p) = settings.pinned {
                item.pinned = p;
            }
            item.group = settings.group;
            item.category = settings.category;
            item.level = settings.level;
            item.tags = settings.tags;
            set.items.push(item);
        }
    }

    assign_shares(path, text, &mut set, split)?;
    Ok(set)
}

/// Equal shares, or explicit ones from `split` with the rest shared equally.
fn assign_shares(
    path: &Path,
    text: &str,
    set: &mut ItemSet,
    split: &[front_matter::SplitShare],
) -> Result<(), InputError> {
    let mut explicit = vec![None; set.sections.len()];
    for s in split {
        let found = set
            .sections
            .iter()
            .position(|sec| sec.name == s.name)
            .or_else(|| {
                set.sections.iter().position(|sec| {
                    sec.name.eq_ignore_ascii_case(&s.name) || slug(&sec.name) == slug(&s.name)
                })
            });
        match found {
            Some(i) => explicit[i] = Some(s.share),
            None => {
                let known: Vec<&str> = set.sections.iter().map(|s| s.name.as_str()).collect();
                return Err(InputError::at(
                    path,
                    text,
                    s.offset,
                    format!(
                        "`split` names section {}, which the file does not have; expected one of: {}",
                        quote(&s.name),
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    let given: f64 = explicit.iter().flatten().sum();
    let rest = explicit.iter().filter(|e| e.is_none()).count();
    let each = if rest > 0 {
        ((100.0 - given).max(0.0)) / rest as f64
    } else {
        0.0
    };
    if rest > 0 && given >= 100.0 {
        set.warnings.push(format!(
            "{}: `split` gives out 100% or more; sections not named in it get no share",
            path.display()
        ));
    }
    for (section, share) in set.sections.iter_mut().zip(explicit) {
        section.budget = SectionBudget::Share(share.unwrap_or(each));
    }
    Ok(())
}

fn unique_name(used: &HashSet<String>, base: &str) -> String {
    if !used.contains(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base} ({n})"))
        .find(|c| !used.contains(c))
        .unwrap_or_else(|| base.to_string())
}

/// `base`, or `base~2`, `base~3`, ... whichever is free; marks it used.
pub(crate) fn unique_id(used: &mut HashSet<String>, base: &str) -> String {
    let id = if used.contains(base) {
        (2..)
            .map(|n| format!("{base}~{n}"))
            .find(|c| !used.contains(c))
            .unwrap_or_else(|| base.to_string())
    } else {
        base.to_string()
    };
    used.insert(id.clone());
    id
}

/// A readable, URL-safe form of a name: lowercase letters and digits joined
/// by `-` (non-ASCII letters kept), at most 48 characters; `section` when
/// nothing is left.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        } else {
            dash = true;
        }
        if out.chars().count() >= 48 {
            break;
        }
    }
    if out.is_empty() {
        "section".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> ItemSet {
        parse(Path::new("p.md"), text, &LoadOptions::default()).unwrap()
    }

    #[test]
    fn slugs_are_readable() {
        assert_eq!(slug("Output format!"), "output-format");
        assert_eq!(slug("  --  "), "section");
        assert_eq!(slug("Règles de base"), "règles-de-base");
    }

    #[test]
    fn headings_sections_and_exact_slices() {
        let text = "# Helper\n\nYou help.\n\n## Rules\n\n- be brief\n- be kind\n\n### Tone\n\nFriendly.\n\n```rust\nfn main() {}\n```\n\n## Examples\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        let set = load(text);
        let names: Vec<_> = set.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Helper", "Rules", "Examples"]);
        assert_eq!(set.sections[1].title.as_deref(), Some("## Rules"));
        let ids: Vec<_> = set.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            ["helper/1", "rules/1", "rules/2", "rules/3", "examples/1"]
        );
        assert_eq!(set.items[0].text(), "# Helper\n\nYou help.");
        assert_eq!(set.items[1].text(), "- be brief\n- be kind");
        assert_eq!(set.items[2].text(), "### Tone\n\nFriendly.");
        assert_eq!(set.items[3].kind, Some(Kind::Code));
        assert_eq!(set.items[3].text(), "```rust\nfn main() {}\n```");
        assert_eq!(set.items[4].text(), "| a | b |\n|---|---|\n| 1 | 2 |");
        for item in &set.items {
            assert!(text.contains(item.text()));
        }
        let total: f64 = set
            .sections
            .iter()
            .map(|s| match s.budget {
                SectionBudget::Share(x) => x,
                SectionBudget::Tokens(_) => 0.0,
            })
            .sum();
        assert!((total - 100.0).abs() < 1e-9);
    }

    #[test]
    fn text_without_headings_is_a_preamble_of_paragraphs() {
        let set = load("first paragraph\nstill first\n\nsecond\n");
        assert_eq!(set.sections.len(), 1);
        assert_eq!(set.sections[0].name, "preamble");
        assert_eq!(set.items.len(), 2);
        assert_eq!(set.items[0].text(), "first paragraph\nstill first");
        assert_eq!(set.items[1].id, "preamble/2");
    }

    #[test]
    fn settings_comments_apply_to_the_next_item() {
        let set = load(
            "## A\n\n<!-- priority: 0.3 pinned id: intro -->\n### Sub\n\nText.\n\nMore.\n\n<!-- plain comment -->\n",
        );
        assert_eq!(set.items[0].id, "intro");
        assert_eq!(set.items[0].priority, 0.3);
        assert!(set.items[0].pinned);
        assert_eq!(set.items[0].text(), "### Sub\n\nText.");
        assert_eq!(set.items[1].priority, 1.0);
        assert_eq!(set.items[2].kind, Some(Kind::Comment));
    }

    #[test]
    fn heading_level_option_and_duplicates() {
        let options = LoadOptions {
            heading_level: Some(1),
            ..LoadOptions::default()
        };
        let set = parse(
            Path::new("p.md"),
            "intro\n\n# A\n\nx\n\n## a-sub\n\ny\n\n# A\n\nz\n",
            &options,
        )
        .unwrap();
        let names: Vec<_> = set.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["preamble", "A", "A (2)"]);
        assert_eq!(set.items[2].text(), "## a-sub\n\ny");
        assert_eq!(set.items[3].id, "a-2/1");
    }

    #[test]
    fn front_matter_budget_and_split() {
        let set = load("---\ntotal: 900\nsplit: B=70\n---\n## A\n\na\n\n## B\n\nb\n\n## C\n\nc\n");
        assert_eq!(set.budget.total, Some(900));
        let shares: Vec<_> = set.sections.iter().map(|s| s.budget).collect();
        assert_eq!(
            shares,
            [
                SectionBudget::Share(15.0),
                SectionBudget::Share(70.0),
                SectionBudget::Share(15.0)
            ]
        );
        let e = parse(
            Path::new("p.md"),
            "---\nsplit: Z=70\n---\n## A\n\na\n",
            &LoadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.to_string().contains("expected one of: A"), "{e}");
    }

    #[test]
    fn duplicate_explicit_ids_are_an_error() {
        let e = parse(
            Path::new("p.md"),
            "<!-- id: x -->\na\n\n<!-- id: x -->\nb\n",
            &LoadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.line(), Some(4));
        assert!(e.to_string().contains("first used on line 1"), "{e}");
    }

    #[test]
    fn dangling_settings_warn() {
        let set = load("text\n\n<!-- pinned -->\n");
        assert_eq!(set.items.len(), 1);
        assert!(
            set.warnings.iter().any(|w| w.contains("p.md:3")),
            "{:?}",
            set.warnings
        );
    }
}
