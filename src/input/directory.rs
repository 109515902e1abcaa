//! Directories: each file is an item.
//!
//! - **Which files.** The directory is walked with the `.gitignore`, `.ignore`
//!   and git-exclude rules applied (also outside a git repository), hidden
//!   files and folders skipped unless [`LoadOptions::hidden`] is set, and
//!   symbolic links not followed. [`LoadOptions::include`] globs (when any
//!   are given) select files and [`LoadOptions::exclude`] globs drop them.
//!   Globs match the path relative to the directory with `/` separators; `*`
//!   also matches `/`, so `*.rs` matches Rust files at any depth (use
//!   `src/*.rs` to anchor). Binary files (a NUL byte in the first 8 KiB),
//!   files that are not UTF-8 and files over [`LoadOptions::max_file_bytes`]
//!   (or the input size limit, [`crate::fsio::limit`], when lower) are
//!   skipped with a warning.
//! - **Items.** Id = the relative path; text = the file's content (a leading
//!   byte-order mark removed); `path` = the file; section = the first folder
//!   of the relative path, or [`ROOT_SECTION`] (`.`) for files at the top;
//!   `kind` from the path ([`kind_of`]). Items are in sorted path order and
//!   sections in order of their first file; sections share the budget
//!   equally.
//! - **Priority.** [`LoadOptions::priority_rules`] is a list of
//!   `(glob, priority)`; the first glob that matches gives the priority,
//!   otherwise 1.0. With [`LoadOptions::git_recency`], files changed
//!   recently in git get more: `boost × (1 − r / (commits + 1))` added, where
//!   `r` is 0 for uncommitted changes and `i` for a file last changed `i`
//!   commits ago (1 = the latest commit), among the last `commits` commits.
//!   Outside a git repository (or without `git`) this is skipped with a
//!   warning.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;

use crate::engine::{Item, ItemSet, Kind, Section, SectionBudget};
use crate::input::detect::LoadOptions;
use crate::input::load_error::InputError;

/// The section of files at the top of the directory.
pub const ROOT_SECTION: &str = ".";

/// The default size limit for one file of a directory (8 MiB).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// More priority for files changed recently in git.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GitRecency {
    /// How many of the latest commits to look at.
    pub commits: usize,
    /// The most priority added (for uncommitted changes).
    pub boost: f64,
}

impl Default for GitRecency {
    fn default() -> Self {
        GitRecency {
            commits: 50,
            boost: 0.5,
        }
    }
}

/// The compiled include, exclude and priority globs.
#[derive(Debug, Clone)]
pub(crate) struct DirRules {
    include: Option<GlobSet>,
    exclude: GlobSet,
    priorities: Vec<(globset::GlobMatcher, f64)>,
    /// Whether hidden files are loaded (read by the watcher's filter).
    #[cfg_attr(not(feature = "watch"), allow(dead_code))]
    pub hidden: bool,
}

impl DirRules {
    /// Compiles the globs of `options`.
    pub fn new(options: &LoadOptions) -> Result<Self, InputError> {
        let include = if options.include.is_empty() {
            None
        } else {
            Some(glob_set(&options.include, "--include glob")?)
        };
        let exclude = glob_set(&options.exclude, "--exclude glob")?;
        let mut priorities = Vec::new();
        for (pattern, priority) in &options.priority_rules {
            if !priority.is_finite() {
                return Err(InputError::Option {
                    option: "priority rule",
                    value: format!("{pattern} = {priority}"),
                    message: "expected a finite priority".into(),
                });
            }
            priorities.push((
                glob(pattern, "priority rule glob")?.compile_matcher(),
                *priority,
            ));
        }
        Ok(DirRules {
            include,
            exclude,
            priorities,
            hidden: options.hidden,
        })
    }

    /// Whether a file at `rel` (relative, `/`-separated) is selected by the
    /// include and exclude globs.
    pub fn selects(&self, rel: &str) -> bool {
        self.include.as_ref().is_none_or(|g| g.is_match(rel)) && !self.exclude.is_match(rel)
    }

    /// The priority for `rel`: the first rule that matches, else 1.0.
    pub fn priority(&self, rel: &str) -> f64 {
        self.priorities
            .iter()
            .find(|(m, _)| m.is_match(rel))
            .map_or(1.0, |(_, p)| *p)
    }
}

fn glob(pattern: &str, option: &'static str) -> Result<Glob, InputError> {
    Glob::new(pattern).map_err(|e| InputError::Option {
        option,
        value: pattern.to_string(),
        message: format!("expected a glob such as `*.md` or `src/**`: {}", e.kind()),
    })
}

fn glob_set(patterns: &[String], option: &'static str) -> Result<GlobSet, InputError> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(glob(p, option)?);
    }
    b.build().map_err(|e| InputError::Option {
        option,
        value: patterns.join(", "),
        message: e.to_string(),
    })
}

/// A walker over `root` with the loading rules (ignore files, hidden files).
pub(crate) fn walker(root: &Path, hidden: bool) -> ignore::WalkBuilder {
    let mut b = ignore::WalkBuilder::new(root);
    b.hidden(!hidden)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        .ignore(true)
        .parents(true)
        .require_git(false)
        .follow_links(false);
    b
}

/// `path` relative to `root`, with `/` separators; `None` when it is not
/// inside `root` or not valid Unicode.
pub(crate) fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let parts = parts?;
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// Loads every file under `root`.
pub fn load(root: &Path, options: &LoadOptions) -> Result<ItemSet, InputError> {
    let meta = std::fs::metadata(root).map_err(|e| InputError::io(root, e))?;
    if !meta.is_dir() {
        return Err(InputError::format(root, "expected a directory"));
    }
    let rules = DirRules::new(options)?;
    let mut set = ItemSet::default();
    set.sources.push(root.to_path_buf());

    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in walker(root, options.hidden).build() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                set.warnings
                    .push(format!("{}: skipped: {e}", root.display()));
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.into_path();
        let Some(rel) = relative(root, &path) else {
            set.warnings.push(format!(
                "{}: skipped: the name is not valid Unicode",
                path.display()
            ));
            continue;
        };
        if rules.selects(&rel) {
            files.push((rel, path));
        }
    }
    files.sort();

    let max = options.max_file_bytes;
    let read: Vec<Result<String, String>> = files
        .par_iter()
        .map(|(_, path)| read_text(path, max))
        .collect();

    let recency = match options.git_recency {
        Some(r) if r.commits > 0 => match git_ranks(root, r.commits) {
            Ok(ranks) => Some((r, ranks)),
            Err(why) => {
                set.warnings.push(format!(
                    "{}: recency priority skipped: {why}",
                    root.display()
                ));
                None
            }
        },
        _ => None,
    };

    let mut sections: Vec<String> = Vec::new();
    let mut skipped = Skipped::default();
    for ((rel, path), text) in files.into_iter().zip(read) {
        let text = match text {
            Ok(t) => t,
            Err(why) => {
                skipped.add(&mut set.warnings, &path, why);
                continue;
            }
        };
        let section = match rel.split_once('/') {
            Some((first, _)) => first.to_string(),
            None => ROOT_SECTION.to_string(),
        };
        if !sections.contains(&section) {
            sections.push(section.clone());
        }
        let mut priority = rules.priority(&rel);
        if let Some((r, ranks)) = &recency
            && let Some(&rank) = ranks.get(&rel)
        {
            priority += r.boost * (1.0 - rank as f64 / (r.commits as f64 + 1.0));
        }
        let mut item = Item::new(rel.clone(), section, text);
        item.kind = kind_of(&rel);
        item.priority = priority;
        item.path = Some(path);
        set.items.push(item);
    }
    skipped.finish(root, &mut set.warnings);
    if set.items.is_empty() {
        set.warnings
            .push(format!("{}: no files to load", root.display()));
    }
    let share = 100.0 / sections.len().max(1) as f64;
    set.sections = sections
        .into_iter()
        .map(|name| {
            let mut s = Section::share(name, share);
            s.budget = SectionBudget::Share(share);
            s
        })
        .collect();
    Ok(set)
}

/// How many files of one kind a folder's warnings name before they only
/// count them: a checkout with `__pycache__` or images would otherwise list
/// hundreds of lines.
const NAMED_SKIPS: usize = 3;

/// Files skipped for being binary or not UTF-8 (expected in any real
/// folder): the first [`NAMED_SKIPS`] of each kind are named, the rest
/// counted in one warning. Other reasons (unreadable, over the size limit)
/// are always named.
#[derive(Default)]
struct Skipped {
    /// Per common reason: how many files.
    common: Vec<(String, usize)>,
}

impl Skipped {
    fn add(&mut self, warnings: &mut Vec<String>, path: &Path, why: String) {
        if why == BINARY || why == NOT_UTF8 {
            let n = match self.common.iter_mut().find(|c| c.0 == why) {
                Some(c) => {
                    c.1 += 1;
                    c.1
                }
                None => {
                    self.common.push((why.clone(), 1));
                    1
                }
            };
            if n > NAMED_SKIPS {
                return;
            }
        }
        warnings.push(format!("{}: skipped: {why}", path.display()));
    }

    /// One warning per reason for the files not named.
    fn finish(self, root: &Path, warnings: &mut Vec<String>) {
        for (why, n) in self.common {
            if n > NAMED_SKIPS {
                let more = n - NAMED_SKIPS;
                let files = if more == 1 { "file" } else { "files" };
                warnings.push(format!(
                    "{}: skipped {more} more {files}: {why}",
                    root.display()
                ));
            }
        }
    }
}

const BINARY: &str = "binary file";
const NOT_UTF8: &str = "not UTF-8 text";

/// Reads a file as text, or says why it is skipped: over `max` bytes (or
/// the input size limit, whichever is lower; never more than that is read),
/// binary, or not UTF-8.
fn read_text(path: &Path, max: u64) -> Result<String, String> {
    let max = max.min(crate::fsio::limit(crate::fsio::Limit::Input));
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let len = file
        .metadata()
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if len > max {
        return Err(format!(
            "{len} bytes is over the {max}-byte limit for a file"
        ));
    }
    // The file may grow while it is read: read no more than the limit.
    let bytes = crate::fsio::read_capped(file, max).map_err(|e| match e.kind() {
        std::io::ErrorKind::FileTooLarge => format!("over the {max}-byte limit for a file"),
        _ => format!("cannot read: {e}"),
    })?;
    if crate::fsio::first_nul(&bytes).is_some() {
        return Err(BINARY.to_string());
    }
    let mut text = String::from_utf8(bytes).map_err(|_| NOT_UTF8.to_string())?;
    if text.starts_with('\u{feff}') {
        text.drain(..3);
    }
    Ok(text)
}

/// The kind of a file from its path: `test` for files under a `test`,
/// `tests`, `spec` or `__tests__` folder or named like a test
/// (`*_test.*`, `test_*.py`, `*.test.*`, `*.spec.*`, `*_spec.*`); otherwise
/// `code`, `docs` or `config` by extension; `None` when unknown.
pub fn kind_of(rel: &str) -> Option<Kind> {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), e.to_string()),
        None => (name.clone(), String::new()),
    };
    let in_test_dir = rel
        .split('/')
        .rev()
        .skip(1)
        .any(|d| matches!(d, "test" | "tests" | "spec" | "__tests__"));
    let test_name = stem.ends_with("_test")
        || stem.ends_with(".test")
        || stem.ends_with(".spec")
        || stem.ends_with("_spec")
        || (stem.starts_with("test_") && ext == "py");
    if in_test_dir || test_name {
        return Some(Kind::Test);
    }
    const CODE: &[&str] = &[
        "rs", "py", "pyi", "js", "mjs", "cjs", "jsx", "ts", "tsx", "go", "c", "h", "cc", "cpp",
        "cxx", "hpp", "hh", "java", "kt", "kts", "scala", "rb", "php", "swift", "cs", "fs", "m",
        "mm", "sh", "bash", "zsh", "fish", "ps1", "lua", "pl", "r", "jl", "dart", "ex", "exs",
        "erl", "hs", "ml", "clj", "sql", "vue", "svelte", "zig", "nim", "css", "scss", "html",
        "proto", "graphql",
    ];
    const DOCS: &[&str] = &["md", "markdown", "mdx", "rst", "txt", "adoc", "org", "tex"];
    const CONFIG: &[&str] = &[
        "toml",
        "yaml",
        "yml",
        "json",
        "jsonc",
        "ini",
        "cfg",
        "conf",
        "xml",
        "properties",
        "env",
        "lock",
    ];
    if CODE.contains(&ext.as_str()) || matches!(name.as_str(), "makefile" | "dockerfile") {
        Some(Kind::Code)
    } else if DOCS.contains(&ext.as_str())
        || matches!(stem.as_str(), "readme" | "license" | "changelog")
    {
        Some(Kind::Docs)
    } else if CONFIG.contains(&ext.as_str()) || name.starts_with(".editorconfig") {
        Some(Kind::Config)
    } else {
        None
    }
}

/// For files under `root` changed recently in git: relative path -> rank
/// (0 = uncommitted change, i = last changed i commits ago).
fn git_ranks(root: &Path, commits: usize) -> Result<HashMap<String, usize>, String> {
    let prefix = git(root, &["rev-parse", "--show-prefix"])?;
    let prefix = prefix.trim_end_matches(['\n', '\r']).to_string();
    let strip = |p: &str| -> Option<String> { p.strip_prefix(prefix.as_str()).map(str::to_string) };

    let mut ranks = HashMap::new();
    let status = git(
        root,
        &[
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=all",
            "--",
            ".",
        ],
    )?;
    let mut entries = status.split('\0');
    while let Some(entry) = entries.next() {
        if entry.len() < 4 {
            continue;
        }
        let code = &entry[..2];
        if let Some(rel) = strip(&entry[3..]) {
            ranks.insert(rel, 0);
        }
        if code.starts_with('R') || code.starts_with('C') {
            entries.next(); // the old name of a rename or copy
        }
    }

    let n = commits.to_string();
    let log = git(
        root,
        &[
            "-c",
            "core.quotePath=false",
            "log",
            "-n",
            &n,
            "--name-only",
            "--no-renames",
            "--format=%x00",
            "--",
            ".",
        ],
    )?;
    let mut seen: HashSet<String> = ranks.keys().cloned().collect();
    let mut commit = 0usize;
    for line in log.lines() {
        if line.contains('\0') {
            commit += 1;
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if let Some(rel) = strip(line)
            && seen.insert(rel.clone())
        {
            ranks.insert(rel, commit.max(1));
        }
    }
    Ok(ranks)
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    // A repository's own config may name commands that `status` or `log`
    // would run (an fsmonitor hook, a signature checker): not here.
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "log.showSignature=false",
        ])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or("git failed").trim();
        return Err(if first.contains("not a git repository") {
            "not a git repository".to_string()
        } else {
            first.to_string()
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_paths() {
        assert_eq!(kind_of("src/lib.rs"), Some(Kind::Code));
        assert_eq!(kind_of("tests/loaders.rs"), Some(Kind::Test));
        assert_eq!(kind_of("web/app.test.ts"), Some(Kind::Test));
        assert_eq!(kind_of("pkg/foo_test.go"), Some(Kind::Test));
        assert_eq!(kind_of("test_x.py"), Some(Kind::Test));
        assert_eq!(kind_of("README.md"), Some(Kind::Docs));
        assert_eq!(kind_of("LICENSE"), Some(Kind::Docs));
        assert_eq!(kind_of("Cargo.toml"), Some(Kind::Config));
        assert_eq!(kind_of("Makefile"), Some(Kind::Code));
        assert_eq!(kind_of("data.bin"), None);
        assert_eq!(kind_of(".env"), Some(Kind::Config));
    }

    #[test]
    fn rules_first_match_wins() {
        let options = LoadOptions {
            include: vec!["*.rs".into(), "*.md".into()],
            exclude: vec!["target/**".into()],
            priority_rules: vec![("src/main.rs".into(), 3.0), ("src/**".into(), 2.0)],
            ..LoadOptions::default()
        };
        let r = DirRules::new(&options).unwrap();
        assert!(r.selects("src/a/b.rs"));
        assert!(!r.selects("target/x.rs"));
        assert!(!r.selects("Cargo.toml"));
        assert_eq!(r.priority("src/main.rs"), 3.0);
        assert_eq!(r.priority("src/lib.rs"), 2.0);
        assert_eq!(r.priority("README.md"), 1.0);
    }

    #[test]
    fn bad_globs_are_option_errors() {
        let options = LoadOptions {
            include: vec!["src/[".into()],
            ..LoadOptions::default()
        };
        let e = DirRules::new(&options).unwrap_err();
        assert!(
            e.to_string().starts_with("invalid --include glob `src/[`"),
            "{e}"
        );
    }
}
