//! Which file-system events matter: the watched files themselves, and files
//! under watched directories that the directory loader would read.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::input::directory::{DirRules, relative};

/// The names of ignore files; a change to one changes which files load.
const IGNORE_FILES: [&str; 2] = [".gitignore", ".ignore"];

/// What the watcher is interested in. Paths are absolute and canonical (for
/// files: the canonical parent folder joined with the file name, so that a
/// file may be missing for a while).
#[derive(Debug, Default)]
pub(crate) struct Targets {
    /// Input files.
    pub inputs: HashSet<PathBuf>,
    /// Files an item set refers to (item `path`s), tracked on request.
    pub extra: HashSet<PathBuf>,
    /// Directory inputs and their loading rules.
    pub dirs: Vec<(PathBuf, DirRules)>,
}

impl Targets {
    /// Whether a change at `path` can change the loaded item set.
    pub fn relevant(&self, path: &Path, cache: &mut IgnoreCache) -> bool {
        if self.inputs.contains(path) || self.extra.contains(path) {
            return true;
        }
        self.dirs
            .iter()
            .any(|(root, rules)| in_directory(root, rules, path, cache))
    }

    /// For a path under a directory input: that input's hidden-file rule.
    pub fn directory_hidden_rule(&self, path: &Path) -> Option<bool> {
        self.dirs
            .iter()
            .find(|(root, _)| path.starts_with(root))
            .map(|(_, rules)| rules.hidden)
    }

    /// Every watched file and directory (reported when events were lost).
    pub fn all(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .inputs
            .iter()
            .chain(&self.extra)
            .cloned()
            .chain(self.dirs.iter().map(|(d, _)| d.clone()))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Whether `path` is a file the directory loader would read under `root`
/// (or a folder, an ignore file, or a path that no longer exists there).
fn in_directory(root: &Path, rules: &DirRules, path: &Path, cache: &mut IgnoreCache) -> bool {
    if path == root {
        return true;
    }
    let Ok(rel_path) = path.strip_prefix(root) else {
        return false;
    };
    let Some(rel) = relative(root, path) else {
        return false;
    };
    let parts: Vec<&str> = rel.split('/').collect();
    let (name, folders) = match parts.split_last() {
        Some((name, folders)) => (*name, folders),
        None => return false,
    };
    if !rules.hidden && folders.iter().any(|f| f.starts_with('.')) {
        return false;
    }
    let ignore_file = IGNORE_FILES.contains(&name);
    if !rules.hidden && name.starts_with('.') && !ignore_file {
        return false;
    }
    let meta = std::fs::symlink_metadata(path).ok();
    let is_dir = meta.as_ref().is_some_and(|m| m.is_dir());
    if cache.ignored(root, rel_path, is_dir) {
        return false;
    }
    // Folders and vanished paths may hold (or have held) selected files.
    ignore_file || is_dir || meta.is_none() || rules.selects(&rel)
}

/// Ignore-file matchers per folder, built on demand for one batch of events.
#[derive(Debug, Default)]
pub(crate) struct IgnoreCache {
    matchers: HashMap<PathBuf, Option<Gitignore>>,
}

impl IgnoreCache {
    /// Whether `rel` (relative to `root`) is ignored by the `.gitignore` or
    /// `.ignore` files of `root` and the folders between it and `rel`; the
    /// deepest file that has a say decides, as in git.
    fn ignored(&mut self, root: &Path, rel: &Path, is_dir: bool) -> bool {
        let mut folders = vec![root.to_path_buf()];
        let mut cur = root.to_path_buf();
        let components: Vec<_> = rel.components().collect();
        for c in components.iter().take(components.len().saturating_sub(1)) {
            cur.push(c);
            folders.push(cur.clone());
        }
        for folder in folders.iter().rev() {
            let Ok(sub) = root.join(rel).strip_prefix(folder).map(Path::to_path_buf) else {
                continue;
            };
            let Some(matcher) = self.matcher(folder) else {
                continue;
            };
            let m = matcher.matched_path_or_any_parents(&sub, is_dir);
            if m.is_ignore() {
                return true;
            }
            if m.is_whitelist() {
                return false;
            }
        }
        false
    }

    fn matcher(&mut self, folder: &Path) -> Option<&Gitignore> {
        self.matchers
            .entry(folder.to_path_buf())
            .or_insert_with(|| {
                let mut b = GitignoreBuilder::new(folder);
                let mut any = false;
                for name in IGNORE_FILES {
                    let file = folder.join(name);
                    if file.is_file() {
                        any = true;
                        // A malformed line is skipped, as the directory walk does.
                        let _ = b.add(file);
                    }
                }
                if any { b.build().ok() } else { None }
            })
            .as_ref()
    }
}

/// The absolute, canonical form of a file path whose parent folder exists:
/// the canonical parent joined with the file name (the file itself may be
/// missing, or a symbolic link that is kept as it is).
pub(crate) fn normalize_file(path: &Path) -> io::Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let name = absolute.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "expected a file path with a file name",
        )
    })?;
    let parent = absolute.parent().unwrap_or(Path::new("/"));
    Ok(std::fs::canonicalize(parent)?.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::LoadOptions;

    #[test]
    fn directory_rules_apply_to_events() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::write(root.join(".gitignore"), "target/\n*.log\n").unwrap();
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::write(root.join("src/.gitignore"), "!keep.log\n").unwrap();
        let options = LoadOptions {
            exclude: vec!["*.tmp".into()],
            ..LoadOptions::default()
        };
        let targets = Targets {
            dirs: vec![(root.clone(), DirRules::new(&options).unwrap())],
            ..Targets::default()
        };
        let mut cache = IgnoreCache::default();
        let mut rel = |p: &str| targets.relevant(&root.join(p), &mut cache);
        assert!(rel("src/lib.rs"));
        assert!(rel("src/deep"));
        assert!(rel(".gitignore"));
        assert!(!rel("target/debug/x.rs"));
        assert!(!rel("run.log"));
        assert!(rel("src/keep.log"));
        assert!(!rel(".git/index"));
        assert!(!rel(".hidden"));
        assert!(rel("gone.tmp")); // vanished paths may have been folders
        std::fs::write(root.join("x.tmp"), "").unwrap();
        assert!(!rel("x.tmp"));
        assert!(!targets.relevant(Path::new("/elsewhere/a.rs"), &mut cache));
    }
}
