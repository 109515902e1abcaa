//! `llms.txt` and `llms-full.txt` (the llmstxt.org format).
//!
//! `llms.txt`:
//! - the `# Title`, the `> summary` and any other text before the first
//!   `## ` heading form a pinned `header` section (items `title`, `summary`,
//!   `header/N`);
//! - each `## ` heading starts a section of that name (the heading line is the
//!   section's title);
//! - each list entry `- [name](url): description` is an item: its id is the
//!   slug of the name, its text the readable line `name (url): description`,
//!   and `url` and `name` are kept in `meta`. List entries without a link and
//!   other paragraphs are items with their source text;
//! - items of the section named `Optional` get priority 0.2
//!   ([`OPTIONAL_PRIORITY`]): the format says they may be skipped;
//! - sections share the budget equally.
//!
//! `llms-full.txt` is read like a Markdown prompt file (see
//! [`crate::input::markdown`]) with `## ` sections: each section's text is
//! split into items by block and sub-heading, the text before the first
//! section is the pinned `header` section, and `Optional` is low priority.

use rustc_hash::FxHashSet as HashSet;
use std::ops::Range;
use std::path::Path;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::engine::{Item, ItemSet, Kind, Section, SectionBudget};
use crate::input::detect::LoadOptions;
use crate::input::load_error::InputError;
use crate::input::markdown::{self, Flavor, slug, unique_id};

/// The priority of items in the `Optional` section.
pub const OPTIONAL_PRIORITY: f64 = 0.2;

/// The name of the section holding the title and summary.
pub const HEADER_SECTION: &str = "header";

/// Loads an `llms-full.txt` file from its text.
pub fn parse_full(path: &Path, text: &str, options: &LoadOptions) -> Result<ItemSet, InputError> {
    markdown::parse_flavored(
        path,
        text,
        options,
        Flavor {
            preamble_name: Some(HEADER_SECTION),
            pin_preamble: true,
            optional_priority: Some(OPTIONAL_PRIORITY),
        },
    )
}

/// One entry being collected.
#[derive(Debug)]
struct Entry {
    range: Range<usize>,
    kind: EntryKind,
}

#[derive(Debug)]
enum EntryKind {
    Title,
    Summary,
    Block,
    ListItem { link: Option<Link> },
}

/// The first link of a list entry.
#[derive(Debug)]
struct Link {
    /// The link text.
    name: String,
    url: String,
    /// Where the link is in the file.
    range: Range<usize>,
}

/// A list entry being read.
#[derive(Debug)]
struct OpenEntry {
    range: Range<usize>,
    link: Option<Link>,
    /// Inside the link's text.
    in_link: bool,
}

/// A section being collected: name, title line, entries.
type Draft = (String, Option<String>, Vec<Entry>);

/// Loads an `llms.txt` file from its text.
pub fn parse(path: &Path, text: &str, _options: &LoadOptions) -> Result<ItemSet, InputError> {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);

    // (section name, title, entries); the first is the header.
    let mut sections: Vec<Draft> = vec![(HEADER_SECTION.to_string(), None, Vec::new())];
    let mut saw_title = false;
    let mut depth = 0usize;
    let mut heading: Option<(HeadingLevel, Range<usize>, String)> = None;
    let mut item: Option<OpenEntry> = None;
    let mut top_start: Option<Range<usize>> = None;

    for (event, range) in Parser::new_ext(text, opts).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                depth += 1;
                match tag {
                    Tag::Heading { level, .. } if depth == 1 => {
                        heading = Some((level, range, String::new()));
                    }
                    Tag::List(_) if depth == 1 => {}
                    Tag::Item if depth == 2 => {
                        item = Some(OpenEntry {
                            range,
                            link: None,
                            in_link: false,
                        });
                    }
                    Tag::Link { dest_url, .. } => {
                        if let Some(open) = &mut item
                            && open.link.is_none()
                        {
                            open.link = Some(Link {
                                name: String::new(),
                                url: dest_url.to_string(),
                                range,
                            });
                            open.in_link = true;
                        }
                    }
                    _ if depth == 1 => top_start = Some(range),
                    _ => {}
                }
            }
            Event::End(tag) => {
                depth = depth.saturating_sub(1);
                match tag {
                    TagEnd::Heading(_) if depth == 0 => {
                        if let Some((level, range, name)) = heading.take() {
                            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
                            let current = sections.len() - 1;
                            if level == HeadingLevel::H2 {
                                let title = text[range].trim_end().to_string();
                                sections.push((name, Some(title), Vec::new()));
                            } else if level == HeadingLevel::H1 && current == 0 && !saw_title {
                                saw_title = true;
                                sections[0].2.push(Entry {
                                    range,
                                    kind: EntryKind::Title,
                                });
                            } else {
                                sections[current].2.push(Entry {
                                    range,
                                    kind: EntryKind::Block,
                                });
                            }
                        }
                    }
                    TagEnd::Link => {
                        if let Some(open) = &mut item {
                            open.in_link = false;
                        }
                    }
                    TagEnd::Item if depth == 1 => {
                        if let Some(open) = item.take() {
                            push(
                                &mut sections,
                                Entry {
                                    range: open.range,
                                    kind: EntryKind::ListItem { link: open.link },
                                },
                            );
                        }
                    }
                    TagEnd::List(_) if depth == 0 => {}
                    _ if depth == 0 => {
                        if let Some(start) = top_start.take() {
                            let r = start.start..start.end.max(range.end);
                            let is_summary = sections.len() == 1
                                && matches!(tag, TagEnd::BlockQuote(_))
                                && !sections[0]
                                    .2
                                    .iter()
                                    .any(|e| matches!(e.kind, EntryKind::Summary));
                            push(
                                &mut sections,
                                Entry {
                                    range: r,
                                    kind: if is_summary {
                                        EntryKind::Summary
                                    } else {
                                        EntryKind::Block
                                    },
                                },
                            );
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, _, name)) = &mut heading {
                    name.push_str(&t);
                } else if let Some(OpenEntry {
                    link: Some(link),
                    in_link: true,
                    ..
                }) = &mut item
                {
                    link.name.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some((_, _, name)) = &mut heading {
                    name.push(' ');
                }
            }
            _ => {}
        }
    }

    let mut set = ItemSet::default();
    set.sources.push(path.to_path_buf());
    if !saw_title {
        set.warnings.push(format!(
            "{}: no `# Title` line; an llms.txt file is expected to start with one",
            path.display()
        ));
    }
    build(text, sections, &mut set);
    Ok(set)
}

fn push(sections: &mut [Draft], entry: Entry) {
    if let Some(last) = sections.last_mut() {
        last.2.push(entry);
    }
}

fn build(text: &str, sections: Vec<Draft>, set: &mut ItemSet) {
    let mut used_ids = HashSet::default();
    let mut used_names: HashSet<String> = HashSet::default();
    for (index, (name, title, entries)) in sections.into_iter().enumerate() {
        if entries.is_empty() {
            continue;
        }
        let base = if name.is_empty() {
            "untitled".to_string()
        } else {
            name
        };
        let mut name = base.clone();
        let mut n = 2;
        while used_names.contains(&name) {
            name = format!("{base} ({n})");
            n += 1;
        }
        used_names.insert(name.clone());
        let header = index == 0;
        let optional = name.eq_ignore_ascii_case("optional");
        let section_slug = slug(&name);
        let mut section = Section::share(name.clone(), 0.0);
        section.title = title;
        set.sections.push(section);

        for (n, entry) in entries.into_iter().enumerate() {
            let source = text[entry.range.clone()].trim_end();
            let (wanted, body, kind, meta) = match entry.kind {
                EntryKind::Title => ("title".to_string(), source.to_string(), Kind::Prose, None),
                EntryKind::Summary => {
                    ("summary".to_string(), source.to_string(), Kind::Prose, None)
                }
                EntryKind::Block => (
                    format!("{section_slug}/{}", n + 1),
                    source.to_string(),
                    Kind::Prose,
                    None,
                ),
                EntryKind::ListItem {
                    link:
                        Some(Link {
                            name: label,
                            url,
                            range: link_range,
                        }),
                } => {
                    let label = label.split_whitespace().collect::<Vec<_>>().join(" ");
                    let after = text
                        .get(link_range.end..entry.range.end)
                        .unwrap_or("")
                        .trim()
                        .trim_start_matches(':')
                        .trim();
                    let description = after.split_whitespace().collect::<Vec<_>>().join(" ");
                    let shown = if label.is_empty() {
                        url.clone()
                    } else {
                        label.clone()
                    };
                    let body = if description.is_empty() {
                        format!("{shown} ({url})")
                    } else {
                        format!("{shown} ({url}): {description}")
                    };
                    let wanted = if label.is_empty() {
                        slug(&url)
                    } else {
                        slug(&label)
                    };
                    (wanted, body, Kind::Docs, Some((label, url)))
                }
                EntryKind::ListItem { link: None } => {
                    let body = strip_marker(source);
                    (
                        format!("{section_slug}/{}", n + 1),
                        body.to_string(),
                        Kind::Prose,
                        None,
                    )
                }
            };
            if body.trim().is_empty() {
                continue;
            }
            let id = unique_id(&mut used_ids, &wanted);
            let mut item = Item::new(id, name.clone(), body);
            item.kind = Some(kind);
            item.pinned = header;
            if optional {
                item.priority = OPTIONAL_PRIORITY;
            }
            if let Some((label, url)) = meta {
                item.meta.insert("name".into(), label.into());
                item.meta.insert("url".into(), url.into());
            }
            set.items.push(item);
        }
    }
    // Drop sections whose entries were all blank.
    let with_items: HashSet<&str> = set.items.iter().map(|i| i.section.as_str()).collect();
    let keep: Vec<Section> = set
        .sections
        .iter()
        .filter(|s| with_items.contains(s.name.as_str()))
        .cloned()
        .collect();
    set.sections = keep;
    let n = set.sections.len().max(1) as f64;
    for s in &mut set.sections {
        s.budget = SectionBudget::Share(100.0 / n);
    }
}

/// A list entry's text without its `- `, `* `, `+ ` or `1. ` marker.
fn strip_marker(source: &str) -> &str {
    let t = source.trim_start();
    for m in ["- ", "* ", "+ "] {
        if let Some(rest) = t.strip_prefix(m) {
            return rest.trim();
        }
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0
        && let Some(rest) = t[digits..]
            .strip_prefix(". ")
            .or_else(|| t[digits..].strip_prefix(") "))
    {
        return rest.trim();
    }
    t.trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# FastThing\n\n> A fast thing for doing things.\n\nSome details.\n\n## Docs\n\n- [Quick start](https://x.dev/start.md): How to install\n- [API](https://x.dev/api.md)\n- plain note\n\n## Optional\n\n- [Quick start](https://x.dev/old.md): Older guide\n";

    fn load(text: &str) -> ItemSet {
        parse(Path::new("llms.txt"), text, &LoadOptions::default()).unwrap()
    }

    #[test]
    fn header_sections_and_link_entries() {
        let set = load(SAMPLE);
        let names: Vec<_> = set.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["header", "Docs", "Optional"]);
        let ids: Vec<_> = set.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "title",
                "summary",
                "header/3",
                "quick-start",
                "api",
                "docs/3",
                "quick-start~2"
            ]
        );
        assert!(set.items[..3].iter().all(|i| i.pinned));
        assert_eq!(set.items[0].text(), "# FastThing");
        assert_eq!(set.items[1].text(), "> A fast thing for doing things.");
        assert_eq!(
            set.items[3].text(),
            "Quick start (https://x.dev/start.md): How to install"
        );
        assert_eq!(set.items[4].text(), "API (https://x.dev/api.md)");
        assert_eq!(set.items[5].text(), "plain note");
        assert_eq!(set.items[6].priority, OPTIONAL_PRIORITY);
        assert_eq!(set.items[3].meta["url"], "https://x.dev/start.md");
        assert_eq!(set.sections[1].title.as_deref(), Some("## Docs"));
        assert!(set.warnings.is_empty());
    }

    #[test]
    fn missing_title_warns() {
        let set = load("## Docs\n\n- [a](b)\n");
        assert_eq!(set.items.len(), 1);
        assert_eq!(set.warnings.len(), 1);
    }

    #[test]
    fn full_splits_sections_into_blocks() {
        let text = "# FastThing\n\n> Summary.\n\n## Guide\n\nPara one.\n\n### Install\n\nRun it.\n\n## Optional\n\nOld stuff.\n";
        let set = parse_full(Path::new("llms-full.txt"), text, &LoadOptions::default()).unwrap();
        let names: Vec<_> = set.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["header", "Guide", "Optional"]);
        assert!(set.items[0].pinned);
        assert_eq!(set.items[0].text(), "# FastThing\n\n> Summary.");
        assert_eq!(set.items[2].text(), "### Install\n\nRun it.");
        assert_eq!(set.items[3].priority, OPTIONAL_PRIORITY);
    }
}
