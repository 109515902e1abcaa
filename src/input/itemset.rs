//! Native item sets in TOML and JSON (docs/concepts.md).
//!
//! A file has up to three top-level keys: `budget` (a table), `sections`
//! (an array of tables, in render order) and `items` (an array of tables,
//! in input order). JSON uses the same keys as TOML. Every error names the
//! file, line and column and says what was expected.
//!
//! Decisions this loader makes where the documented rules are silent:
//!
//! - **Generated ids.** An item without `id` is named after its `path` as
//!   written (`docs/auth.md`), or else `SECTION-N` where `N` is the item's
//!   1-based position among the items of its section in the file
//!   (`concepts-3`). If that name is taken, `#2`, `#3`, ... is appended. So an
//!   id stays the same as long as the items before it in its section do.
//!   An integer `id` (common in retrieval results) is used as its digits.
//! - **Sections without a budget.** A section with neither `share` nor
//!   `tokens` gets an equal part of the share that the other sections leave
//!   (100 minus their shares); if nothing is left it gets a share of 0 and a
//!   warning.
//! - **No `[[sections]]` at all.** Then the sections are made from the items:
//!   each distinct `section` name becomes a section, in order of first use,
//!   with equal shares; items without `section` go to a section named `main`.
//!   When sections are declared, an item without `section` goes to the only
//!   section if there is exactly one, and is an error otherwise.
//! - **`path`** is resolved relative to the item-set file's folder and read as
//!   UTF-8 (a byte-order mark is removed). The file is added to
//!   [`ItemSet::sources`] so that watchers see it.
//! - **`tokens`** alone makes a [`Content::Given`] item; giving it together
//!   with `text` or `path` is an error (one count must win, so say which).
//! - **`priority`**, `relevance` and `score` are one setting; giving two of
//!   them is an error. Priorities must be finite and not negative.
//! - `encoding` and `model` are kept as written; the caller resolves them
//!   against the model registry.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::error::{LoadError, LoadErrorKind, Position, closest, read_named_text, read_text};
use super::tree::{self, Node, Source, TableView, Value};
use crate::engine::{
    Budget, Content, Item, ItemSet, Kind, Overflow, ReallocateMode, Section, SectionBudget,
    Strategy, TruncateSide,
};

/// The valid top-level keys.
pub const TOP_KEYS: &[&str] = &["budget", "sections", "items"];

/// The valid keys of `[budget]`.
pub const BUDGET_KEYS: &[&str] = &[
    "model",
    "encoding",
    "total",
    "reserve_output",
    "strategy",
    "overflow",
    "reallocate",
    "reallocate_mode",
    "reallocate_order",
    "min_priority",
    "reserved",
    "truncate",
    "marker",
    "priority_cut",
    "summarizer",
];

/// The valid keys of a `[[sections]]` entry.
pub const SECTION_KEYS: &[&str] = &[
    "name",
    "share",
    "tokens",
    "min",
    "max",
    "title",
    "separator",
    "can_use_reserve",
    "strategy",
    "overflow",
    "category_order",
];

/// The valid keys of an `[[items]]` entry.
pub const ITEM_KEYS: &[&str] = &[
    "id",
    "section",
    "text",
    "path",
    "tokens",
    "priority",
    "relevance",
    "score",
    "category",
    "level",
    "kind",
    "pinned",
    "group",
    "tags",
    "meta",
];

/// The section that items go to when a file declares no sections and an
/// item names none.
pub const DEFAULT_SECTION: &str = "main";

/// The syntax of an item-set file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemSetFormat {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl ItemSetFormat {
    /// JSON for a `.json` file name (any case), TOML otherwise.
    pub fn from_path(path: &Path) -> ItemSetFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => ItemSetFormat::Json,
            _ => ItemSetFormat::Toml,
        }
    }
}

/// Loads the item set in `file` (TOML, or JSON for `.json`), reading the
/// files its items name by `path`.
pub fn load(file: &Path) -> Result<ItemSet, LoadError> {
    let text = read_text(file)?;
    parse(&text, ItemSetFormat::from_path(file), file)
}

/// Parses an item set from `text`. `file` names the source in messages, and
/// its folder is where item `path`s are resolved.
pub fn parse(text: &str, format: ItemSetFormat, file: &Path) -> Result<ItemSet, LoadError> {
    let src = Source { file, text };
    let root = match format {
        ItemSetFormat::Toml => tree::parse_toml(src)?,
        ItemSetFormat::Json => tree::parse_json(src)?,
    };
    Loader {
        src,
        warnings: Vec::new(),
    }
    .item_set(&root)
}

/// Whether `text` looks like a native item set rather than another JSON
/// document (such as a chat request): a JSON object whose keys include
/// `items`, `sections` or `budget` and are all among them. Cheap and
/// forgiving; used for format detection, not validation.
pub fn looks_like_item_set_json(text: &str) -> bool {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => {
            !map.is_empty() && map.keys().all(|k| TOP_KEYS.contains(&k.as_str()))
        }
        _ => false,
    }
}

/// An item as read, before ids, sections and paths are resolved.
struct RawItem<'a> {
    view: TableView<'a>,
    id: Option<(String, Range<usize>)>,
    section: Option<(String, Range<usize>)>,
    content: RawContent<'a>,
    item: Item,
}

enum RawContent<'a> {
    Text(String),
    Path(&'a str, Range<usize>),
    Given(usize),
}

/// A section as read, with where its name is and whether it had a budget.
struct RawSection {
    section: Section,
    name_span: Range<usize>,
    has_budget: bool,
    span: Range<usize>,
}

struct Loader<'a> {
    src: Source<'a>,
    warnings: Vec<String>,
}

impl<'a> Loader<'a> {
    fn warn(&mut self, span: &Range<usize>, message: String) {
        let p = Position::at_offset(self.src.text, span.start);
        self.warnings
            .push(format!("{}:{p}: {message}", self.src.file.display()));
    }

    fn item_set(mut self, root: &'a Node) -> Result<ItemSet, LoadError> {
        let top = TableView::new(self.src, root, "the item set")?;
        top.check_keys(TOP_KEYS)?;

        let budget_view = match top.entry("budget") {
            Some(e) => Some(TableView::new(self.src, &e.node, "[budget]")?),
            None => None,
        };
        let budget = match &budget_view {
            Some(view) => budget(view)?,
            None => Budget::default(),
        };
        if let Some(e) = budget_view.as_ref().and_then(|v| v.entry("summarizer")) {
            let p = Position::at_offset(self.src.text, e.key_span.start);
            self.warnings.push(ignored_summarizer(&format!(
                "{}:{p}",
                self.src.file.display()
            )));
        }

        let mut raw_sections = Vec::new();
        for (i, node) in array_of_tables(self.src, &top, "sections")? {
            raw_sections.push(section(self.src, node, i)?);
        }
        let mut raw_items = Vec::new();
        for (i, node) in array_of_tables(self.src, &top, "items")? {
            raw_items.push(item(self.src, node, i)?);
        }

        let declared = !raw_sections.is_empty();
        let mut sections = self.resolve_sections(raw_sections)?;
        if let Some(view) = &budget_view {
            check_reallocate_order(view, &sections)?;
        }
        if !declared {
            sections = implicit_sections(&raw_items);
        }
        let names: Vec<&str> = sections.iter().map(|s| s.name.as_str()).collect();
        let known: rustc_hash::FxHashSet<&str> = names.iter().copied().collect();
        for raw in &mut raw_items {
            raw.item.section = item_section(raw, &names, &known, declared)?;
        }
        assign_ids(self.src, &mut raw_items)?;

        let base = self
            .src
            .file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut sources = vec![self.src.file.to_path_buf()];
        let mut items = Vec::with_capacity(raw_items.len());
        for raw in raw_items {
            let RawItem {
                view,
                content,
                mut item,
                ..
            } = raw;
            item.content = match content {
                RawContent::Text(t) => Content::Text(t),
                RawContent::Given(n) => Content::Given(n),
                RawContent::Path(rel, span) => {
                    let resolved = base.join(rel);
                    let text = read_item_file(self.src, &item.id, rel, &resolved, &span)?;
                    sources.push(resolved.clone());
                    item.path = Some(resolved);
                    Content::Text(text)
                }
            };
            if matches!(&item.content, Content::Text(t) if t.trim().is_empty()) {
                self.warn(&view.span, format!("item `{}` is empty", item.id));
            }
            items.push(item);
        }

        self.check_categories(&sections, &items, root);
        if budget.reserved == 0 {
            for s in sections.iter().filter(|s| s.can_use_reserve) {
                let span = find_section_span(root, &s.name).unwrap_or(0..0);
                self.warn(
                    &span,
                    format!(
                        "section `{}` may use the reserve, but [budget] reserved is 0",
                        s.name
                    ),
                );
            }
        }
        if items.is_empty() {
            self.warn(&(0..0), "the item set has no items".to_string());
        }
        Ok(ItemSet {
            budget,
            sections,
            items,
            sources,
            warnings: self.warnings,
            chat: None,
        })
    }

    /// Duplicate names are errors; sections without a budget share what the
    /// others leave.
    fn resolve_sections(&mut self, raw: Vec<RawSection>) -> Result<Vec<Section>, LoadError> {
        let mut seen: HashMap<&str, &Range<usize>> = HashMap::new();
        for s in &raw {
            if let Some(first) = seen.insert(&s.section.name, &s.name_span) {
                return Err(self.src.error(
                    &s.name_span,
                    LoadErrorKind::Duplicate,
                    format!(
                        "duplicate section `{}` (first declared on line {}); section names must be unique",
                        s.section.name,
                        self.src.line_of(first.start)
                    ),
                ));
            }
        }
        let given: f64 = raw
            .iter()
            .filter(|s| s.has_budget)
            .map(|s| match s.section.budget {
                SectionBudget::Share(p) => p,
                SectionBudget::Tokens(_) => 0.0,
            })
            .sum();
        let unset = raw.iter().filter(|s| !s.has_budget).count();
        let left = (100.0 - given).max(0.0);
        let each = if unset > 0 { left / unset as f64 } else { 0.0 };
        let mut out = Vec::with_capacity(raw.len());
        for mut s in raw {
            if !s.has_budget {
                s.section.budget = SectionBudget::Share(each);
                if each == 0.0 {
                    self.warn(
                        &s.span,
                        format!(
                            "section `{}` has no `share` or `tokens` and the other sections leave no share; it gets only what reallocation gives it",
                            s.section.name
                        ),
                    );
                }
            }
            out.push(s.section);
        }
        Ok(out)
    }

    /// Warns about `category_order` entries that no item of the section has.
    fn check_categories(&mut self, sections: &[Section], items: &[Item], root: &Node) {
        for s in sections {
            for cat in &s.category_order {
                let used = items
                    .iter()
                    .any(|i| i.section == s.name && i.category.as_deref() == Some(cat.as_str()));
                if !used {
                    let span = find_section_span(root, &s.name).unwrap_or(0..0);
                    self.warn(
                        &span,
                        format!(
                            "`category_order` of section `{}` names category `{cat}`, which none of its items has",
                            s.name
                        ),
                    );
                }
            }
        }
    }
}

/// The entries of an array of tables at `key` (each with its index).
fn array_of_tables<'a>(
    src: Source<'a>,
    top: &TableView<'a>,
    key: &str,
) -> Result<Vec<(usize, &'a Node)>, LoadError> {
    let Some(e) = top.entry(key) else {
        return Ok(Vec::new());
    };
    let Value::Array(nodes) = &e.node.value else {
        return Err(src.error(
            &e.node.span,
            LoadErrorKind::InvalidValue,
            format!(
                "`{key}` must be an array of tables (`[[{key}]]` in TOML), found {}",
                e.node.value.type_name()
            ),
        ));
    };
    Ok(nodes.iter().enumerate().collect())
}

fn budget(view: &TableView<'_>) -> Result<Budget, LoadError> {
    view.check_keys(BUDGET_KEYS)?;
    let mut b = Budget {
        model: view.name("model")?.map(str::to_string),
        encoding: view.name("encoding")?.map(str::to_string),
        total: view.count("total", "tokens")?,
        ..Budget::default()
    };
    if let Some(n) = view.count("reserve_output", "tokens")? {
        b.reserve_output = n;
    }
    if let Some(s) = view.choice::<Strategy>("strategy")? {
        b.strategy = s;
    }
    if let Some(o) = view.choice::<Overflow>("overflow")? {
        b.overflow = o;
    }
    if let Some(r) = view.bool("reallocate")? {
        b.reallocate = r;
    }
    if let Some(m) = view.choice::<ReallocateMode>("reallocate_mode")? {
        b.reallocate_mode = m;
    }
    if let Some(order) = view.strings("reallocate_order")? {
        b.reallocate_order = order.into_iter().map(|(s, _)| s).collect();
    }
    b.min_priority = view.number_in(
        "min_priority",
        0.0,
        f64::MAX,
        "a priority (a number, 0 or more)",
    )?;
    if let Some(n) = view.count("reserved", "tokens")? {
        b.reserved = n;
    }
    if let Some(t) = view.choice::<TruncateSide>("truncate")? {
        b.truncate = t;
    }
    if let Some(m) = view.str("marker")? {
        b.marker = m.to_string();
    }
    if let Some(p) = view.number_in(
        "priority_cut",
        0.0,
        f64::MAX,
        "a priority threshold (a number, 0 or more)",
    )? {
        b.priority_cut = p;
    }
    // Checked like any key, never kept: see `warn_ignored_summarizer`.
    view.name("summarizer")?;
    if let (Some(total), Some(e)) = (b.total, view.entry("reserved"))
        && b.reserved > total
    {
        return Err(view.error_at(
            e,
            LoadErrorKind::InvalidValue,
            format!(
                "`reserved` in [budget] ({}) is larger than `total` ({total}); expected at most the total",
                b.reserved
            ),
        ));
    }
    Ok(b)
}

fn check_reallocate_order(view: &TableView<'_>, sections: &[Section]) -> Result<(), LoadError> {
    let Some(order) = view.strings("reallocate_order")? else {
        return Ok(());
    };
    for (name, span) in order {
        if !sections.iter().any(|s| s.name == name) {
            return Err(view.src.error(
                &span,
                LoadErrorKind::UndeclaredReference,
                format!(
                    "`reallocate_order` in [budget] names section `{name}`, which is not declared; {}",
                    declared_list(sections.iter().map(|s| s.name.as_str()), &name)
                ),
            ));
        }
    }
    Ok(())
}

/// "declared sections: a, b, c" with a "did you mean" hint.
fn declared_list<'s>(names: impl Iterator<Item = &'s str> + Clone, wanted: &str) -> String {
    let hint = closest(wanted, names.clone())
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default();
    let list: Vec<&str> = names.collect();
    if list.is_empty() {
        format!("{hint}no sections are declared")
    } else {
        format!("{hint}declared sections: {}", list.join(", "))
    }
}

fn section<'a>(src: Source<'a>, node: &'a Node, index: usize) -> Result<RawSection, LoadError> {
    let mut view = TableView::new(src, node, format!("section #{}", index + 1))?;
    view.check_keys(SECTION_KEYS)?;
    let Some(name) = view.name("name")? else {
        return Err(view.error_here(
            LoadErrorKind::MissingKey,
            format!(
                "section #{} has no `name`; expected `name = \"...\"` (a unique section name)",
                index + 1
            ),
        ));
    };
    view.what = format!("section `{name}`");
    let name_span = view
        .entry("name")
        .map_or(node.span.clone(), |e| e.node.span.clone());

    let share = view.number("share")?;
    let tokens = view.count("tokens", "tokens")?;
    if let (Some(e), Some(share)) = (view.entry("share"), share) {
        if share < 0.0 {
            return Err(view.error_at(
                e,
                LoadErrorKind::InvalidValue,
                format!("`share` in section `{name}` must not be negative (found {share}); expected a percentage of the budget, 0 to 100"),
            ));
        }
        if share > 100.0 {
            return Err(view.error_at(
                e,
                LoadErrorKind::InvalidValue,
                format!("`share` in section `{name}` is above 100 (found {share}); expected a percentage of the budget, 0 to 100"),
            ));
        }
    }
    let budget = match (share, tokens) {
        (Some(_), Some(_)) => {
            let e = view.entry("tokens").or(view.entry("share"));
            let err = e.map_or_else(
                || view.error_here(LoadErrorKind::Conflict, ""),
                |e| view.error_at(e, LoadErrorKind::Conflict, ""),
            );
            return Err(LoadError {
                message: format!(
                    "section `{name}` gives both `share` and `tokens`; expected one of them (`share` is a percentage, `tokens` an absolute budget)"
                ),
                ..err
            });
        }
        (Some(p), None) => SectionBudget::Share(p),
        (None, Some(n)) => SectionBudget::Tokens(n),
        (None, None) => SectionBudget::Share(0.0),
    };
    let min = view.count("min", "tokens")?;
    let max = view.count("max", "tokens")?;
    if let (Some(lo), Some(hi), Some(e)) = (min, max, view.entry("max"))
        && lo > hi
    {
        return Err(view.error_at(
            e,
            LoadErrorKind::InvalidValue,
            format!(
                "`max` in section `{name}` ({hi}) is below its `min` ({lo}); expected max >= min"
            ),
        ));
    }
    let section = Section {
        name: name.to_string(),
        budget,
        min,
        max,
        title: view.str("title")?.map(str::to_string),
        separator: view.str("separator")?.map(str::to_string),
        can_use_reserve: view.bool("can_use_reserve")?.unwrap_or(false),
        strategy: view.choice::<Strategy>("strategy")?,
        overflow: view.choice::<Overflow>("overflow")?,
        category_order: view
            .strings("category_order")?
            .unwrap_or_default()
            .into_iter()
            .map(|(s, _)| s)
            .collect(),
    };
    Ok(RawSection {
        section,
        name_span,
        has_budget: share.is_some() || tokens.is_some(),
        span: node.span.clone(),
    })
}

fn item<'a>(src: Source<'a>, node: &'a Node, index: usize) -> Result<RawItem<'a>, LoadError> {
    let mut view = TableView::new(src, node, format!("item #{}", index + 1))?;
    let id = match view.entry("id") {
        None => None,
        Some(e) => match &e.node.value {
            Value::String(s) if !s.trim().is_empty() => Some((s.clone(), e.node.span.clone())),
            Value::Integer(n) => Some((n.to_string(), e.node.span.clone())),
            Value::String(_) => {
                return Err(view.error_at(
                    e,
                    LoadErrorKind::InvalidValue,
                    format!("`id` in item #{} must not be empty", index + 1),
                ));
            }
            other => {
                return Err(view.error_at(
                    e,
                    LoadErrorKind::InvalidValue,
                    format!(
                        "`id` in item #{} must be a string (or an integer), found {}",
                        index + 1,
                        other.type_name()
                    ),
                ));
            }
        },
    };
    if let Some((id, _)) = &id {
        view.what = format!("item `{id}`");
    }
    view.check_keys(ITEM_KEYS)?;
    let section = view.name("section")?.map(|s| {
        (
            s.to_string(),
            view.entry("section").map_or(0..0, |e| e.node.span.clone()),
        )
    });

    let given: Vec<&str> = ["text", "path", "tokens"]
        .into_iter()
        .filter(|k| view.entry(k).is_some())
        .collect();
    if given.len() > 1 {
        let second = view
            .entry(given[1])
            .map_or(node.span.clone(), |e| e.key_span.clone());
        return Err(src.error(
            &second,
            LoadErrorKind::Conflict,
            format!(
                "{} gives both `{}` and `{}`; expected only one of `text`, `path` or `tokens`",
                view.what, given[0], given[1]
            ),
        ));
    }
    let content = if let Some(text) = view.str("text")? {
        RawContent::Text(text.to_string())
    } else if let Some(path) = view.name("path")? {
        let span = view.entry("path").map_or(0..0, |e| e.node.span.clone());
        RawContent::Path(path, span)
    } else if let Some(n) = view.count("tokens", "tokens")? {
        RawContent::Given(n)
    } else {
        return Err(view.error_here(
            LoadErrorKind::MissingKey,
            format!(
                "{} has no content; expected one of `text` (inline), `path` (a file) or `tokens` (a count made elsewhere)",
                view.what
            ),
        ));
    };

    let aliases: Vec<&str> = ["priority", "relevance", "score"]
        .into_iter()
        .filter(|k| view.entry(k).is_some())
        .collect();
    if aliases.len() > 1 {
        let second = view
            .entry(aliases[1])
            .map_or(node.span.clone(), |e| e.key_span.clone());
        return Err(src.error(
            &second,
            LoadErrorKind::Conflict,
            format!(
                "{} gives both `{}` and `{}`; they are one setting (aliases), expected only one",
                view.what, aliases[0], aliases[1]
            ),
        ));
    }
    let priority = match aliases.first() {
        Some(key) => view
            .number_in(
                key,
                0.0,
                f64::MAX,
                "a priority: a number, 0 or more, higher is more important",
            )?
            .unwrap_or(1.0),
        None => 1.0,
    };

    let meta = match view.entry("meta") {
        None => BTreeMap::new(),
        Some(e) => match &e.node.value {
            Value::Table(entries) => entries
                .iter()
                .map(|m| (m.key.clone(), m.node.value.to_json()))
                .collect(),
            other => {
                return Err(view.error_at(
                    e,
                    LoadErrorKind::InvalidValue,
                    format!(
                        "`meta` in {} must be a table, found {}",
                        view.what,
                        other.type_name()
                    ),
                ));
            }
        },
    };

    let item = Item {
        id: String::new(),
        section: String::new(),
        content: Content::Given(0),
        path: None,
        priority,
        category: view.name("category")?.map(str::to_string),
        level: view.integer("level")?,
        kind: view.choice::<Kind>("kind")?,
        pinned: view.bool("pinned")?.unwrap_or(false),
        group: view.name("group")?.map(str::to_string),
        tags: view
            .strings("tags")?
            .unwrap_or_default()
            .into_iter()
            .map(|(s, _)| s)
            .collect(),
        meta,
        overhead: 0,
    };
    Ok(RawItem {
        view,
        id,
        section,
        content,
        item,
    })
}

/// Sections made from the items when the file declares none.
fn implicit_sections(items: &[RawItem<'_>]) -> Vec<Section> {
    let mut names: Vec<&str> = Vec::new();
    for raw in items {
        let name = raw
            .section
            .as_ref()
            .map_or(DEFAULT_SECTION, |(s, _)| s.as_str());
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let share = if names.is_empty() {
        0.0
    } else {
        100.0 / names.len() as f64
    };
    names
        .into_iter()
        .map(|n| Section::share(n, share))
        .collect()
}

/// The section of an item: the one it names (looked up in `known`, the
/// set of `names`), else the only or the implicit one.
fn item_section(
    raw: &RawItem<'_>,
    names: &[&str],
    known: &rustc_hash::FxHashSet<&str>,
    declared: bool,
) -> Result<String, LoadError> {
    match &raw.section {
        Some((name, span)) => {
            if known.contains(name.as_str()) {
                Ok(name.clone())
            } else {
                Err(raw.view.src.error(
                    span,
                    LoadErrorKind::UndeclaredReference,
                    format!(
                        "{} is in section `{name}`, which is not declared; {}",
                        raw.view.what,
                        declared_list(names.iter().copied(), name)
                    ),
                ))
            }
        }
        None if !declared => Ok(DEFAULT_SECTION.to_string()),
        None if names.len() == 1 => Ok(names[0].to_string()),
        None => Err(raw.view.error_here(
            LoadErrorKind::MissingKey,
            format!(
                "{} has no `section`; expected one of the declared sections: {}",
                raw.view.what,
                names.join(", ")
            ),
        )),
    }
}

/// Explicit ids must be unique; missing ones are generated (see the module
/// docs).
fn assign_ids(src: Source<'_>, items: &mut [RawItem<'_>]) -> Result<(), LoadError> {
    let mut taken: HashMap<String, Range<usize>> = HashMap::new();
    for raw in items.iter() {
        if let Some((id, span)) = &raw.id {
            if let Some(first) = taken.get(id) {
                return Err(src.error(
                    span,
                    LoadErrorKind::Duplicate,
                    format!(
                        "duplicate item id `{id}` (first used on line {}); item ids must be unique",
                        src.line_of(first.start)
                    ),
                ));
            }
            taken.insert(id.clone(), span.clone());
        }
    }
    let mut generated: HashSet<String> = HashSet::new();
    let mut per_section: HashMap<String, usize> = HashMap::new();
    for raw in items.iter_mut() {
        let n = per_section.entry(raw.item.section.clone()).or_insert(0);
        *n += 1;
        raw.item.id = match &raw.id {
            Some((id, _)) => id.clone(),
            None => {
                let base = match &raw.content {
                    RawContent::Path(p, _) => (*p).to_string(),
                    _ => format!("{}-{n}", raw.item.section),
                };
                let mut id = base.clone();
                let mut k = 2;
                while taken.contains_key(&id) || generated.contains(&id) {
                    id = format!("{base}#{k}");
                    k += 1;
                }
                generated.insert(id.clone());
                id
            }
        };
    }
    Ok(())
}

fn read_item_file(
    src: Source<'_>,
    id: &str,
    rel: &str,
    resolved: &Path,
    span: &Range<usize>,
) -> Result<String, LoadError> {
    if let Some(outside) = outside_allowed_folders(src.file, resolved) {
        return Err(src.error(
            span,
            LoadErrorKind::InvalidValue,
            format!(
                "item `{id}`: file `{rel}` ({}) is outside the item set's folder and the working folder; \
                 an item set may only point to files under them, so that one from someone else \
                 (say in a pull request) cannot pull other files of the machine into the context \
                 (move the file, or run from a folder that contains it)",
                outside.display()
            ),
        ));
    }
    read_named_text(resolved).map_err(|inner| {
        let what = match inner.kind {
            LoadErrorKind::Encoding => format!("is {}", inner.message),
            _ => format!("cannot be read: {}", inner.message),
        };
        LoadError {
            source: inner.source,
            ..src.error(
                span,
                inner.kind,
                format!("item `{id}`: file `{rel}` ({}) {what}", resolved.display()),
            )
        }
    })
}

/// Where `resolved` (a file an item points to) really is, when that is
/// neither under the item set's folder nor under the working folder (links
/// resolved); `None` when it is under one of them, or does not exist (the
/// read then says so).
fn outside_allowed_folders(item_set: &Path, resolved: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(resolved).ok()?;
    let folder = item_set
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let allowed = [
        std::fs::canonicalize(folder).ok(),
        std::env::current_dir()
            .ok()
            .and_then(|d| std::fs::canonicalize(d).ok()),
    ];
    let inside = allowed.iter().flatten().any(|dir| real.starts_with(dir));
    (!inside).then_some(real)
}

/// The warning for a `summarizer` named in an input file (at `location`,
/// `FILE:LINE:COLUMN`): the command is not run. Commands come only from the command line
/// or the user's own configuration, never from a file that may come from
/// someone else (such as an item set in a pull request that `check` gates).
pub(crate) fn ignored_summarizer(location: &str) -> String {
    format!(
        "{IGNORED_SUMMARIZER}{location} was ignored: commands from input files are never run; \
         to run it, pass it with --summarizer"
    )
}

const IGNORED_SUMMARIZER: &str = "the summarizer named in ";

/// Whether a warning is the one about an input file's ignored `summarizer`
/// (which `check` prints on stderr even though it prints no report).
pub fn is_ignored_summarizer(warning: &str) -> bool {
    warning.starts_with(IGNORED_SUMMARIZER)
}

/// Where the section named `name` is declared in `root`, for warnings.
fn find_section_span(root: &Node, name: &str) -> Option<Range<usize>> {
    let Value::Table(top) = &root.value else {
        return None;
    };
    let sections = top.iter().find(|e| e.key == "sections")?;
    let Value::Array(nodes) = &sections.node.value else {
        return None;
    };
    nodes.iter().find_map(|n| match &n.value {
        Value::Table(entries) => entries
            .iter()
            .find(|e| e.key == "name" && e.node.value == Value::String(name.to_string()))
            .map(|e| e.node.span.clone()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml(text: &str) -> Result<ItemSet, LoadError> {
        parse(text, ItemSetFormat::Toml, Path::new("set.toml"))
    }

    #[test]
    fn generated_ids_are_stable_and_unique() {
        let set = toml(
            r#"
[[sections]]
name = "a"
[[sections]]
name = "b"
[[items]]
section = "a"
text = "one"
[[items]]
id = "a-2"
section = "b"
text = "explicit"
[[items]]
section = "a"
text = "two"
[[items]]
section = "b"
tokens = 5
"#,
        )
        .unwrap();
        let ids: Vec<_> = set.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["a-1", "a-2", "a-2#2", "b-2"]);
    }

    #[test]
    fn unset_sections_share_what_is_left() {
        let set = toml(
            "[[sections]]\nname = \"a\"\nshare = 40\n[[sections]]\nname = \"b\"\n[[sections]]\nname = \"c\"\ntokens = 100\n[[sections]]\nname = \"d\"\n[[items]]\nsection = \"a\"\ntext = \"x\"\n",
        )
        .unwrap();
        let budgets: Vec<_> = set.sections.iter().map(|s| s.budget).collect();
        assert_eq!(
            budgets,
            [
                SectionBudget::Share(40.0),
                SectionBudget::Share(30.0),
                SectionBudget::Tokens(100),
                SectionBudget::Share(30.0)
            ]
        );
        assert!(set.warnings.is_empty(), "{:?}", set.warnings);
    }

    #[test]
    fn implicit_sections_follow_first_use() {
        let set =
            toml("[[items]]\nsection = \"s\"\ntext = \"x\"\n[[items]]\ntext = \"y\"\n").unwrap();
        let names: Vec<_> = set.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["s", "main"]);
        assert_eq!(set.sections[0].budget, SectionBudget::Share(50.0));
        assert_eq!(set.items[1].id, "main-1");
    }

    #[test]
    fn json_detection() {
        assert!(looks_like_item_set_json(r#"{"items": []}"#));
        assert!(!looks_like_item_set_json(r#"{"messages": []}"#));
        assert!(!looks_like_item_set_json(r#"{"items": [], "model": "x"}"#));
        assert!(!looks_like_item_set_json("[1]"));
    }
}
