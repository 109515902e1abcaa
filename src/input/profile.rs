//! Project settings in `tokenscope.toml` (docs/report-schema.md): named profiles,
//! check rules, and the directory loader's priority rules; layering of
//! item-set settings, a profile and command-line flags; writing a profile
//! back while keeping the file's comments and layout.
//!
//! ```toml
//! [rules]                       # glob -> priority, for directory inputs
//! "docs/**" = 2.0
//!
//! [profiles.ci]
//! model = "gpt-4o"
//! budget = 16000                # `total` is accepted too
//! strategy = "greedy"
//! split = { header = 10, pages = 40 }
//! max_utilization = 0.98        # check rules
//! must_include = ["system-prompt"]
//!
//! [profiles.ci.sections.pages]
//! strategy = "optimal"
//! min_included = 2              # a check rule
//! ```
//!
//! Layering ([`apply`]): the item set's own settings, then the profile, then
//! the flags; a later layer wins key by key. A layer that sets `model`
//! without `encoding` clears an earlier `encoding` (the model decides how to
//! count); a layer that sets `encoding` keeps the model (for its context
//! window and price) but counts with that encoding.
//!
//! Profiles are shared by every item set of a project, so a profile that
//! names a section the item set does not declare gets a warning in
//! [`ItemSet::warnings`] and that part is skipped; a `--split` flag naming
//! an unknown section is an error.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, InlineTable, Item as TomlItem, Table, TableLike, Value as TomlValue};

use super::error::{LoadError, LoadErrorKind, Position, closest, read_named_text, read_text};
use super::tree::{self, Node, Source, TableView};
use crate::engine::{
    ItemSet, Overflow, ReallocateMode, Rules, SectionBudget, Strategy, UnknownChoice,
};

/// The project settings file name, looked for upward from the working folder.
pub const CONFIG_FILE: &str = "tokenscope.toml";

const TOP_KEYS: &[&str] = &["profiles", "rules"];
const PROFILE_KEYS: &[&str] = &[
    "model",
    "encoding",
    "budget",
    "total",
    "reserve_output",
    "strategy",
    "overflow",
    "reallocate",
    "reallocate_mode",
    "min_priority",
    "reserved",
    "summarizer",
    "split",
    "sections",
    "max_utilization",
    "must_include",
];
const SECTION_KEYS: &[&str] = &[
    "tokens",
    "min",
    "max",
    "strategy",
    "overflow",
    "can_use_reserve",
    "min_included",
];
/// The per-section keys a saved profile owns (`min_included` is a rule and
/// is left alone).
const SECTION_SETTING_KEYS: &[&str] = &[
    "tokens",
    "min",
    "max",
    "strategy",
    "overflow",
    "can_use_reserve",
];

/// Settings a profile layers over an item set. Everything is optional: an
/// unset value leaves the item set's own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileSettings {
    /// A model from the registry.
    pub model: Option<String>,
    /// An encoding (or estimate) name.
    pub encoding: Option<String>,
    /// Total tokens for the context (`budget` or `total` in the file).
    pub total: Option<usize>,
    /// Tokens kept for the output.
    pub reserve_output: Option<usize>,
    /// The default strategy.
    pub strategy: Option<Strategy>,
    /// The default overflow mode.
    pub overflow: Option<Overflow>,
    /// Whether unused tokens are reallocated.
    pub reallocate: Option<bool>,
    /// How unused tokens are reallocated.
    pub reallocate_mode: Option<ReallocateMode>,
    /// Items under this priority are excluded first.
    pub min_priority: Option<f64>,
    /// The reserved pool.
    pub reserved: Option<usize>,
    /// Where the profile names a `summarizer` (`FILE:LINE:COLUMN`). The
    /// command itself is not kept: a project's settings file may come from
    /// someone else, so [`apply`] warns that it was ignored instead of
    /// running it. Commands come only from `--summarizer` or the user's own
    /// `config.toml` ([`super::user_config`]).
    pub summarizer_at: Option<String>,
    /// Section shares in percent, in the order given (`split`).
    pub split: Vec<(String, f64)>,
    /// Per-section overrides, in the order given.
    pub sections: Vec<SectionOverride>,
}

/// A profile's settings for one section (`[profiles.NAME.sections.SECTION]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SectionOverride {
    /// The section.
    pub name: String,
    /// An absolute budget (replaces the section's share).
    pub tokens: Option<usize>,
    /// The least the section is allocated.
    pub min: Option<usize>,
    /// The most the section is allocated.
    pub max: Option<usize>,
    /// The section's strategy.
    pub strategy: Option<Strategy>,
    /// The section's overflow mode.
    pub overflow: Option<Overflow>,
    /// Whether the section may spill into the reserved pool.
    pub can_use_reserve: Option<bool>,
}

impl SectionOverride {
    fn is_empty(&self) -> bool {
        self.tokens.is_none()
            && self.min.is_none()
            && self.max.is_none()
            && self.strategy.is_none()
            && self.overflow.is_none()
            && self.can_use_reserve.is_none()
    }
}

impl ProfileSettings {
    /// The settings an item set runs with now, as a profile would store them:
    /// what the inspector saves after the user tuned a set. Shares go to
    /// `split`, absolute budgets and per-section strategy/overflow to
    /// `sections`.
    pub fn from_item_set(set: &ItemSet) -> ProfileSettings {
        let b = &set.budget;
        let mut split = Vec::new();
        let mut sections = Vec::new();
        for s in &set.sections {
            let mut o = SectionOverride {
                name: s.name.clone(),
                min: s.min,
                max: s.max,
                strategy: s.strategy,
                overflow: s.overflow,
                can_use_reserve: s.can_use_reserve.then_some(true),
                ..SectionOverride::default()
            };
            match s.budget {
                SectionBudget::Share(p) => split.push((s.name.clone(), p)),
                SectionBudget::Tokens(n) => o.tokens = Some(n),
            }
            if !o.is_empty() {
                sections.push(o);
            }
        }
        ProfileSettings {
            model: b.model.clone(),
            encoding: b.encoding.clone(),
            total: b.total,
            reserve_output: Some(b.reserve_output),
            strategy: Some(b.strategy),
            overflow: Some(b.overflow),
            reallocate: Some(b.reallocate),
            reallocate_mode: Some(b.reallocate_mode),
            min_priority: b.min_priority,
            reserved: (b.reserved > 0).then_some(b.reserved),
            // A command from the command line is not written into the
            // project's file: it would not be run from there.
            summarizer_at: None,
            split,
            sections,
        }
    }
}

/// A named profile: settings and check rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// The profile's name (`[profiles.NAME]`).
    pub name: String,
    /// Settings layered over an item set.
    pub settings: ProfileSettings,
    /// The rules `tokenscope check` applies with this profile.
    pub rules: Rules,
}

/// A `[rules]` entry: files matching `glob` get `priority` (used by the
/// directory loader; the first matching rule wins).
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityRule {
    /// A glob over paths relative to the loaded folder.
    pub glob: String,
    /// The priority given to matching files.
    pub priority: f64,
}

/// The contents of a `tokenscope.toml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectConfig {
    /// The file it was read from.
    pub file: PathBuf,
    /// Profiles in file order.
    pub profiles: Vec<Profile>,
    /// `[rules]`: glob -> priority, in file order.
    pub priority_rules: Vec<PriorityRule>,
}

/// Settings that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    /// A `--split` value that is not `name=percent,...`.
    #[error(
        "--split `{text}`: {problem}; expected NAME=PERCENT pairs separated by commas, e.g. `header=10,pages=40`"
    )]
    BadSplit {
        /// The value given.
        text: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A flag names a section the item set does not declare.
    #[error("{origin} names section `{name}`, which the item set does not declare; {hint}declared sections: {}", declared.join(", "))]
    UnknownSection {
        /// Where the name came from, e.g. `--split`.
        origin: String,
        /// The name given.
        name: String,
        /// A "did you mean" hint, or empty.
        hint: String,
        /// The declared sections.
        declared: Vec<String>,
    },
    /// A profile name that is not in the file.
    #[error("no profile `{name}` in {}; {}", file.display(), if available.is_empty() { "it defines no profiles".to_string() } else { format!("available profiles: {}", available.join(", ")) })]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The settings file.
        file: PathBuf,
        /// The profiles it defines.
        available: Vec<String>,
    },
    /// `--profile` was given but no `tokenscope.toml` was found.
    #[error("--profile `{name}`: no {CONFIG_FILE} found {}", match input_start {
        Some(dir) if dir != start => format!("in {} (the input's folder), {} (the working folder) or any folder above them", dir.display(), start.display()),
        _ => format!("in {} or any folder above it", start.display()),
    })]
    NoConfig {
        /// The profile asked for.
        name: String,
        /// The working folder, where the second search started.
        start: PathBuf,
        /// The first input's folder, where the first search started.
        input_start: Option<PathBuf>,
    },
    /// A strategy or overflow name that is not valid.
    #[error(transparent)]
    Choice(#[from] UnknownChoice),
}

/// Settings given on the command line; they win over the profile and the
/// item set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--model`.
    pub model: Option<String>,
    /// `--encoding`.
    pub encoding: Option<String>,
    /// `--budget`.
    pub budget: Option<usize>,
    /// `--reserve-output`.
    pub reserve_output: Option<usize>,
    /// `--strategy`.
    pub strategy: Option<Strategy>,
    /// `--overflow`.
    pub overflow: Option<Overflow>,
    /// `--split`, parsed by [`parse_split`].
    pub split: Vec<(String, f64)>,
}

/// Parses a `--split` value: `name=percent` pairs separated by commas, e.g.
/// `header=10,pages=40` (a trailing `%` is allowed). Percentages are from 0
/// to 100; a name may appear once.
pub fn parse_split(text: &str) -> Result<Vec<(String, f64)>, SettingsError> {
    let bad = |problem: String| SettingsError::BadSplit {
        text: text.to_string(),
        problem,
    };
    let mut out: Vec<(String, f64)> = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((name, pct)) = part.split_once('=') else {
            return Err(bad(format!("`{part}` has no `=`")));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(bad(format!("`{part}` has no section name")));
        }
        let pct_text = pct.trim().trim_end_matches('%').trim();
        let pct: f64 = pct_text
            .parse()
            .map_err(|_| bad(format!("`{pct_text}` (for `{name}`) is not a number")))?;
        if !(0.0..=100.0).contains(&pct) {
            return Err(bad(format!(
                "{pct} (for `{name}`) is not between 0 and 100"
            )));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(bad(format!("section `{name}` is given twice")));
        }
        out.push((name.to_string(), pct));
    }
    if out.is_empty() {
        return Err(bad("no sections given".to_string()));
    }
    Ok(out)
}

/// The `tokenscope.toml` in `start` or the nearest folder above it.
pub fn find_config(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(CONFIG_FILE))
        .find(|candidate| candidate.is_file())
}

/// Where the search for an input's `tokenscope.toml` starts: the first
/// input that exists (not stdin), as an absolute folder.
pub fn input_start(inputs: &[PathBuf], cwd: &Path) -> Option<PathBuf> {
    let first = inputs.iter().find(|p| p.as_os_str() != "-" && p.exists())?;
    let abs = cwd.join(first);
    if abs.is_dir() {
        Some(abs)
    } else {
        abs.parent().map(Path::to_path_buf)
    }
}

impl ProjectConfig {
    /// Reads and validates `file`.
    pub fn load(file: &Path) -> Result<ProjectConfig, LoadError> {
        let text = read_named_text(file)?;
        ProjectConfig::parse(&text, file)
    }

    /// The project settings found upward from `start` (usually the working
    /// folder), or `None` when there is no `tokenscope.toml`.
    pub fn discover(start: &Path) -> Result<Option<ProjectConfig>, LoadError> {
        find_config(start)
            .map(|f| ProjectConfig::load(&f))
            .transpose()
    }

    /// The project settings for a run on `inputs` from the working folder
    /// `cwd`: the first `tokenscope.toml` found upward from the first
    /// input's folder (a folder input: the folder itself; a file: the folder
    /// it is in), else the first one upward from `cwd`, else `None`. So a
    /// sample's profiles work from any working folder, and an input outside
    /// any project still gets the working folder's.
    pub fn discover_for(
        inputs: &[PathBuf],
        cwd: &Path,
    ) -> Result<Option<ProjectConfig>, LoadError> {
        let found = input_start(inputs, cwd)
            .and_then(|dir| find_config(&dir))
            .or_else(|| find_config(cwd));
        found.map(|f| ProjectConfig::load(&f)).transpose()
    }

    /// Parses the settings in `text`; `file` names it in messages.
    pub fn parse(text: &str, file: &Path) -> Result<ProjectConfig, LoadError> {
        let src = Source { file, text };
        let root = tree::parse_toml(src)?;
        let top = TableView::new(src, &root, CONFIG_FILE)?;
        top.check_keys(TOP_KEYS)?;
        let mut config = ProjectConfig {
            file: file.to_path_buf(),
            ..ProjectConfig::default()
        };
        if let Some(e) = top.entry("rules") {
            let view = TableView::new(src, &e.node, "[rules]")?;
            for rule in view.entries {
                let priority = view
                    .number_in(&rule.key, 0.0, f64::MAX, "a priority (a number, 0 or more)")?
                    .unwrap_or(1.0);
                if let Err(err) = globset::Glob::new(&rule.key) {
                    return Err(src.error(
                        &rule.key_span,
                        LoadErrorKind::InvalidValue,
                        format!("invalid glob `{}` in [rules]: {}", rule.key, err.kind()),
                    ));
                }
                config.priority_rules.push(PriorityRule {
                    glob: rule.key.clone(),
                    priority,
                });
            }
        }
        if let Some(e) = top.entry("profiles") {
            let view = TableView::new(src, &e.node, "[profiles]")?;
            for p in view.entries {
                config.profiles.push(profile(src, &p.key, &p.node)?);
            }
        }
        Ok(config)
    }

    /// The profile named `name`, or an error listing the available ones.
    pub fn profile(&self, name: &str) -> Result<&Profile, SettingsError> {
        self.profiles
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| SettingsError::UnknownProfile {
                name: name.to_string(),
                file: self.file.clone(),
                available: self.profiles.iter().map(|p| p.name.clone()).collect(),
            })
    }
}

fn profile(src: Source<'_>, name: &str, node: &Node) -> Result<Profile, LoadError> {
    let view = TableView::new(src, node, format!("[profiles.{name}]"))?;
    view.check_keys(PROFILE_KEYS)?;
    if let (Some(_), Some(e)) = (view.entry("budget"), view.entry("total")) {
        return Err(src.error(
            &e.key_span,
            LoadErrorKind::Conflict,
            format!("[profiles.{name}] gives both `budget` and `total`; they are one setting, expected only one"),
        ));
    }
    let total = match view.count("budget", "tokens")? {
        Some(n) => Some(n),
        None => view.count("total", "tokens")?,
    };
    let mut settings = ProfileSettings {
        model: view.name("model")?.map(str::to_string),
        encoding: view.name("encoding")?.map(str::to_string),
        total,
        reserve_output: view.count("reserve_output", "tokens")?,
        strategy: view.choice("strategy")?,
        overflow: view.choice("overflow")?,
        reallocate: view.bool("reallocate")?,
        reallocate_mode: view.choice("reallocate_mode")?,
        min_priority: view.number_in(
            "min_priority",
            0.0,
            f64::MAX,
            "a priority (a number, 0 or more)",
        )?,
        reserved: view.count("reserved", "tokens")?,
        summarizer_at: match (view.name("summarizer")?, view.entry("summarizer")) {
            (Some(_), Some(e)) => Some(format!(
                "{}:{}",
                src.file.display(),
                Position::at_offset(src.text, e.key_span.start)
            )),
            _ => None,
        },
        split: Vec::new(),
        sections: Vec::new(),
    };
    if let Some(e) = view.entry("split") {
        let split = TableView::new(src, &e.node, format!("`split` of [profiles.{name}]"))?;
        for s in split.entries {
            let pct = split
                .number_in(&s.key, 0.0, 100.0, "a percentage of the budget, 0 to 100")?
                .unwrap_or(0.0);
            settings.split.push((s.key.clone(), pct));
        }
    }
    let mut rules = Rules {
        max_utilization: view.number_in(
            "max_utilization",
            0.0,
            1.0,
            "a fraction of the total from 0 to 1 (e.g. 0.95)",
        )?,
        must_include: view
            .strings("must_include")?
            .unwrap_or_default()
            .into_iter()
            .map(|(s, _)| s)
            .collect(),
        min_included: Vec::new(),
    };
    if let Some(e) = view.entry("sections") {
        let sections = TableView::new(src, &e.node, format!("[profiles.{name}.sections]"))?;
        for s in sections.entries {
            let sv = TableView::new(
                src,
                &s.node,
                format!("[profiles.{name}.sections.{}]", s.key),
            )?;
            sv.check_keys(SECTION_KEYS)?;
            if let (Some(t), Some(_)) = (
                sv.entry("tokens"),
                settings.split.iter().find(|(n, _)| n == &s.key),
            ) {
                return Err(src.error(
                    &t.key_span,
                    LoadErrorKind::Conflict,
                    format!(
                        "[profiles.{name}] gives section `{}` both a share in `split` and `tokens`; expected one of them",
                        s.key
                    ),
                ));
            }
            let o = SectionOverride {
                name: s.key.clone(),
                tokens: sv.count("tokens", "tokens")?,
                min: sv.count("min", "tokens")?,
                max: sv.count("max", "tokens")?,
                strategy: sv.choice("strategy")?,
                overflow: sv.choice("overflow")?,
                can_use_reserve: sv.bool("can_use_reserve")?,
            };
            if let (Some(lo), Some(hi), Some(e)) = (o.min, o.max, sv.entry("max"))
                && lo > hi
            {
                return Err(sv.error_at(
                    e,
                    LoadErrorKind::InvalidValue,
                    format!(
                        "`max` in {} ({hi}) is below its `min` ({lo}); expected max >= min",
                        sv.what
                    ),
                ));
            }
            if let Some(n) = sv.count("min_included", "items")? {
                rules.min_included.push((s.key.clone(), n));
            }
            if !o.is_empty() {
                settings.sections.push(o);
            }
        }
    }
    Ok(Profile {
        name: name.to_string(),
        settings,
        rules,
    })
}

/// Layers `profile` and then `overrides` over `set`'s own settings (see the
/// module docs). `set.budget.total` stays `None` unless some layer gives it;
/// the caller then resolves it from the model's context window.
pub fn apply(
    set: &mut ItemSet,
    profile: Option<&Profile>,
    overrides: &Overrides,
) -> Result<(), SettingsError> {
    if let Some(p) = profile {
        apply_profile(set, p);
    }
    let b = &mut set.budget;
    layer_model(
        &mut b.model,
        &mut b.encoding,
        &overrides.model,
        &overrides.encoding,
    );
    if let Some(n) = overrides.budget {
        b.total = Some(n);
    }
    if let Some(n) = overrides.reserve_output {
        b.reserve_output = n;
    }
    if let Some(s) = overrides.strategy {
        b.strategy = s;
    }
    if let Some(o) = overrides.overflow {
        b.overflow = o;
    }
    for (name, pct) in &overrides.split {
        let Some(section) = set.sections.iter_mut().find(|s| &s.name == name) else {
            let declared: Vec<String> = set.sections.iter().map(|s| s.name.clone()).collect();
            let hint = closest(name, declared.iter().map(String::as_str))
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            return Err(SettingsError::UnknownSection {
                origin: "--split".to_string(),
                name: name.clone(),
                hint,
                declared,
            });
        };
        section.budget = SectionBudget::Share(*pct);
    }
    Ok(())
}

fn layer_model(
    model: &mut Option<String>,
    encoding: &mut Option<String>,
    new_model: &Option<String>,
    new_encoding: &Option<String>,
) {
    if let Some(m) = new_model {
        *model = Some(m.clone());
        *encoding = None;
    }
    if let Some(e) = new_encoding {
        *encoding = Some(e.clone());
    }
}

fn apply_profile(set: &mut ItemSet, profile: &Profile) {
    let p = &profile.settings;
    if let Some(at) = &p.summarizer_at {
        set.warnings
            .push(super::itemset::ignored_summarizer(&format!(
                "{at} (profile `{}`)",
                profile.name
            )));
    }
    let b = &mut set.budget;
    layer_model(&mut b.model, &mut b.encoding, &p.model, &p.encoding);
    if let Some(n) = p.total {
        b.total = Some(n);
    }
    if let Some(n) = p.reserve_output {
        b.reserve_output = n;
    }
    if let Some(s) = p.strategy {
        b.strategy = s;
    }
    if let Some(o) = p.overflow {
        b.overflow = o;
    }
    if let Some(r) = p.reallocate {
        b.reallocate = r;
    }
    if let Some(m) = p.reallocate_mode {
        b.reallocate_mode = m;
    }
    if let Some(m) = p.min_priority {
        b.min_priority = Some(m);
    }
    if let Some(r) = p.reserved {
        b.reserved = r;
    }
    let mut unknown = Vec::new();
    for (name, pct) in &p.split {
        match set.sections.iter_mut().find(|s| &s.name == name) {
            Some(s) => s.budget = SectionBudget::Share(*pct),
            None => unknown.push(name.clone()),
        }
    }
    for o in &p.sections {
        let Some(s) = set.sections.iter_mut().find(|s| s.name == o.name) else {
            unknown.push(o.name.clone());
            continue;
        };
        if let Some(n) = o.tokens {
            s.budget = SectionBudget::Tokens(n);
        }
        if o.min.is_some() {
            s.min = o.min;
        }
        if o.max.is_some() {
            s.max = o.max;
        }
        if o.strategy.is_some() {
            s.strategy = o.strategy;
        }
        if o.overflow.is_some() {
            s.overflow = o.overflow;
        }
        if let Some(c) = o.can_use_reserve {
            s.can_use_reserve = c;
        }
    }
    unknown.dedup();
    for name in unknown {
        set.warnings.push(format!(
            "profile `{}` sets section `{name}`, which this item set does not declare; ignored",
            profile.name
        ));
    }
}

/// Why a profile could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveProfileError {
    /// The existing file could not be read or is not valid TOML.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The file has a key where a table is needed.
    #[error("{}: `{key}` is not a table; expected a table of profiles", file.display())]
    NotATable {
        /// The settings file.
        file: PathBuf,
        /// The dotted key.
        key: String,
    },
    /// The file could not be written.
    #[error("{}: cannot write: {source}", file.display())]
    Write {
        /// The settings file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Writes `settings` as profile `name` into the `tokenscope.toml` at `file`
/// (created when missing), keeping every comment, blank line and key order
/// of the rest of the file, and the comments beside the keys it rewrites.
///
/// The profile's setting keys become exactly `settings`: a value that is
/// `None` is removed. Its check rules (`max_utilization`, `must_include`,
/// `min_included`) and any other profile are left as they are.
///
/// The whole update holds an exclusive lock ([`crate::fsio::lock_for_update`]):
/// the file is read under the lock, the profile is written into what is
/// there now, and the file is replaced atomically (through a symbolic link,
/// the link's target) before the lock is released, so two savers at once
/// keep both profiles.
pub fn save_profile(
    file: &Path,
    name: &str,
    settings: &ProfileSettings,
) -> Result<(), SaveProfileError> {
    let write_error = |source| SaveProfileError::Write {
        file: file.to_path_buf(),
        source,
    };
    let _lock = crate::fsio::lock_for_update(file).map_err(write_error)?;
    let text = if file.exists() {
        read_text(file)?
    } else {
        String::new()
    };
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let offset = e.span().map_or(0, |s: Range<usize>| s.start);
        LoadError::at_offset(
            file,
            &text,
            offset,
            LoadErrorKind::Syntax,
            format!("invalid TOML: {}", e.message().trim_end()),
        )
    })?;
    let not_a_table = |key: &str| SaveProfileError::NotATable {
        file: file.to_path_buf(),
        key: key.to_string(),
    };

    let profiles = doc
        .entry("profiles")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            TomlItem::Table(t)
        })
        .as_table_like_mut()
        .ok_or_else(|| not_a_table("profiles"))?;
    let profile = profiles
        .entry(name)
        .or_insert(TomlItem::Table(Table::new()))
        .as_table_like_mut()
        .ok_or_else(|| not_a_table(&format!("profiles.{name}")))?;
    write_settings(profile, settings).map_err(|k| not_a_table(&format!("profiles.{name}.{k}")))?;

    let out = doc.to_string();
    crate::fsio::write_file(file, out.as_bytes()).map_err(write_error)
}

/// Sets `key` to `value` keeping the old value's surrounding comments, or
/// removes it when `value` is `None`.
fn set_value(table: &mut dyn TableLike, key: &str, value: Option<TomlValue>) {
    match value {
        None => {
            table.remove(key);
        }
        Some(mut v) => {
            if let Some(old) = table.get_mut(key).and_then(TomlItem::as_value_mut) {
                *v.decor_mut() = old.decor().clone();
                *old = v;
            } else {
                table.insert(key, TomlItem::Value(v));
            }
        }
    }
}

fn int(n: usize) -> TomlValue {
    TomlValue::from(i64::try_from(n).unwrap_or(i64::MAX))
}

fn num(x: f64) -> TomlValue {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        TomlValue::from(x as i64)
    } else {
        TomlValue::from(x)
    }
}

fn text(s: &str) -> TomlValue {
    TomlValue::from(s)
}

/// Writes the setting keys; `Err(key)` when a key that must be a table is not.
fn write_settings(profile: &mut dyn TableLike, s: &ProfileSettings) -> Result<(), String> {
    set_value(profile, "model", s.model.as_deref().map(text));
    set_value(profile, "encoding", s.encoding.as_deref().map(text));
    let budget_key = if profile.contains_key("total") && !profile.contains_key("budget") {
        "total"
    } else {
        "budget"
    };
    let other = if budget_key == "total" {
        "budget"
    } else {
        "total"
    };
    profile.remove(other);
    set_value(profile, budget_key, s.total.map(int));
    set_value(profile, "reserve_output", s.reserve_output.map(int));
    set_value(profile, "strategy", s.strategy.map(|v| text(v.name())));
    set_value(profile, "overflow", s.overflow.map(|v| text(v.name())));
    set_value(profile, "reallocate", s.reallocate.map(TomlValue::from));
    set_value(
        profile,
        "reallocate_mode",
        s.reallocate_mode.map(|v| text(v.name())),
    );
    set_value(profile, "min_priority", s.min_priority.map(num));
    set_value(profile, "reserved", s.reserved.map(int));
    let split = (!s.split.is_empty()).then(|| {
        let mut t = InlineTable::new();
        for (name, pct) in &s.split {
            t.insert(name, num(*pct));
        }
        TomlValue::InlineTable(t)
    });
    set_value(profile, "split", split);

    let has_sections = profile.contains_key("sections");
    if s.sections.is_empty() && !has_sections {
        return Ok(());
    }
    let sections = profile
        .entry("sections")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            TomlItem::Table(t)
        })
        .as_table_like_mut()
        .ok_or_else(|| "sections".to_string())?;
    // Sections the settings no longer override keep only their rules.
    let existing: Vec<String> = sections.iter().map(|(k, _)| k.to_string()).collect();
    for key in existing {
        if s.sections.iter().any(|o| o.name == key) {
            continue;
        }
        if let Some(t) = sections.get_mut(&key).and_then(TomlItem::as_table_like_mut) {
            for k in SECTION_SETTING_KEYS {
                t.remove(k);
            }
            if t.is_empty() {
                sections.remove(&key);
            }
        }
    }
    for o in &s.sections {
        let t = sections
            .entry(&o.name)
            .or_insert(TomlItem::Table(Table::new()))
            .as_table_like_mut()
            .ok_or_else(|| format!("sections.{}", o.name))?;
        set_value(t, "tokens", o.tokens.map(int));
        set_value(t, "min", o.min.map(int));
        set_value(t, "max", o.max.map(int));
        set_value(t, "strategy", o.strategy.map(|v| text(v.name())));
        set_value(t, "overflow", o.overflow.map(|v| text(v.name())));
        set_value(t, "can_use_reserve", o.can_use_reserve.map(TomlValue::from));
    }
    if sections.is_empty() {
        profile.remove("sections");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_parses_and_rejects() {
        assert_eq!(
            parse_split("header=10, pages = 40%").unwrap(),
            vec![("header".to_string(), 10.0), ("pages".to_string(), 40.0)]
        );
        for bad in ["", "a", "=3", "a=x", "a=120", "a=-1", "a=1,a=2"] {
            assert!(parse_split(bad).is_err(), "{bad}");
        }
        let e = parse_split("a=x").unwrap_err().to_string();
        assert!(e.contains("`x` (for `a`) is not a number"), "{e}");
    }

    #[test]
    fn value_setting_keeps_comments() {
        let mut doc: DocumentMut = "[p]\nmodel = \"a\" # the model\n".parse().unwrap();
        let t = doc["p"].as_table_like_mut().unwrap();
        set_value(t, "model", Some(text("b")));
        assert_eq!(doc.to_string(), "[p]\nmodel = \"b\" # the model\n");
    }
}
