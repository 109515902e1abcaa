//! The debounced watcher over input paths.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, MetadataKind, ModifyKind};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use super::filter::{IgnoreCache, Targets, normalize_file};
use crate::input::LoadOptions;
use crate::input::directory::DirRules;
use crate::input::load_error::LoadError;

/// The debounce used by the inspector and `tokenscope watch`: short enough
/// that a save shows within a frame or three, long enough to coalesce an
/// editor's write-and-rename.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(25);

/// What the watcher reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// Files that changed, were created, deleted or renamed, coalesced over
    /// the debounce time: sorted, each once, absolute and canonical.
    Changed(Vec<PathBuf>),
    /// The file-system watcher reported errors (for display). Watching goes
    /// on.
    Error(String),
}

/// A watcher could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// A path to watch is not usable.
    #[error("{}: cannot watch: {source}", path.display())]
    Path {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The operating system's watcher failed.
    #[error("{}cannot watch: {source}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Notify {
        /// The path being watched, if the error is about one.
        path: Option<PathBuf>,
        /// The watcher's error.
        #[source]
        source: notify::Error,
    },
    /// The loading options (include/exclude globs) are invalid.
    #[error(transparent)]
    Options(#[from] LoadError),
}

/// Watches input files and directories and reports coalesced batches of
/// changed paths.
///
/// Files are watched through their **parent folders**, so that editors'
/// atomic saves (write a temporary file, rename it over the original),
/// deletes followed by re-creation and bursts of saves are all seen.
/// Directories are watched recursively; events under them are kept only for
/// files the directory loader would read (same ignore files, hidden-file rule
/// and include/exclude globs), plus folders and ignore files, whose changes
/// change which files are read. Reads (open/close without writing) are not
/// changes.
///
/// Events are debounced with `notify-debouncer-full`: a path is reported once
/// no new event arrived for it for the debounce time. The sink is called on
/// the watcher's thread; it should hand the event over (e.g. into the
/// inspector's event channel) and return.
///
/// Known limits: a watched file's folder that is deleted and re-created, or
/// a symbolic link's target that changes elsewhere, is not followed.
pub struct Watcher {
    debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    targets: Arc<RwLock<Targets>>,
    /// Folders watched for input files (non-recursively) and directory
    /// inputs (recursively).
    input_watches: BTreeMap<PathBuf, RecursiveMode>,
    /// Folders watched for extra files only.
    extra_watches: BTreeMap<PathBuf, RecursiveMode>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("input_watches", &self.input_watches)
            .field("extra_watches", &self.extra_watches)
            .finish_non_exhaustive()
    }
}

impl Watcher {
    /// Starts watching `inputs` (files and directories, as given to
    /// [`crate::input::load_paths`]); `options` gives the directory rules.
    /// `sink` receives each batch.
    pub fn new<F>(
        inputs: &[PathBuf],
        options: &LoadOptions,
        debounce: Duration,
        sink: F,
    ) -> Result<Self, WatchError>
    where
        F: Fn(WatchEvent) + Send + 'static,
    {
        let mut targets = Targets::default();
        let mut watches = BTreeMap::new();
        for input in inputs {
            let meta = std::fs::metadata(input).ok();
            if meta.as_ref().is_some_and(|m| m.is_dir()) {
                let root = std::fs::canonicalize(input).map_err(|source| WatchError::Path {
                    path: input.clone(),
                    source,
                })?;
                targets.dirs.push((root.clone(), DirRules::new(options)?));
                watches.insert(root, RecursiveMode::Recursive);
            } else {
                let file = normalize_file(input).map_err(|source| WatchError::Path {
                    path: input.clone(),
                    source,
                })?;
                let parent = file.parent().unwrap_or(Path::new("/")).to_path_buf();
                watches.entry(parent).or_insert(RecursiveMode::NonRecursive);
                targets.inputs.insert(file);
            }
        }
        let targets = Arc::new(RwLock::new(targets));
        let handler_targets = Arc::clone(&targets);
        let debounce = debounce.max(Duration::from_millis(1));
        let debouncer = new_debouncer(debounce, None, move |result: DebounceEventResult| {
            if let Some(event) = batch(&handler_targets, result) {
                sink(event);
            }
        })
        .map_err(|source| WatchError::Notify { path: None, source })?;

        let mut watcher = Watcher {
            debouncer,
            targets,
            input_watches: BTreeMap::new(),
            extra_watches: BTreeMap::new(),
        };
        for (dir, mode) in simplify(watches) {
            watcher
                .debouncer
                .watch(&dir, mode)
                .map_err(|source| WatchError::Notify {
                    path: Some(dir.clone()),
                    source,
                })?;
            watcher.input_watches.insert(dir, mode);
        }
        Ok(watcher)
    }

    /// Starts watching and delivers batches over a channel.
    pub fn with_channel(
        inputs: &[PathBuf],
        options: &LoadOptions,
        debounce: Duration,
    ) -> Result<(Self, mpsc::Receiver<WatchEvent>), WatchError> {
        let (tx, rx) = mpsc::channel();
        let watcher = Watcher::new(inputs, options, debounce, move |e| {
            let _ = tx.send(e);
        })?;
        Ok((watcher, rx))
    }

    /// Also watches these files (typically the files an item set's items
    /// were read from, [`super::Reloader::referenced_files`]); replaces the
    /// previous list. Files in folders that no longer exist are skipped.
    pub fn track_files<I>(&mut self, files: I) -> Result<(), WatchError>
    where
        I: IntoIterator<Item = PathBuf>,
    {
        let mut extra = std::collections::HashSet::new();
        let mut wanted: BTreeMap<PathBuf, RecursiveMode> = BTreeMap::new();
        for file in files {
            let Ok(file) = normalize_file(&file) else {
                continue;
            };
            let parent = file.parent().unwrap_or(Path::new("/")).to_path_buf();
            if !self.covered(&parent) {
                wanted.insert(parent, RecursiveMode::NonRecursive);
            }
            extra.insert(file);
        }
        let old: Vec<PathBuf> = self
            .extra_watches
            .keys()
            .filter(|d| !wanted.contains_key(*d))
            .cloned()
            .collect();
        for dir in old {
            // The folder may be gone already, which ends its watch anyway.
            let _ = self.debouncer.unwatch(&dir);
            self.extra_watches.remove(&dir);
        }
        for (dir, mode) in wanted {
            if self.extra_watches.contains_key(&dir) {
                continue;
            }
            self.debouncer
                .watch(&dir, mode)
                .map_err(|source| WatchError::Notify {
                    path: Some(dir.clone()),
                    source,
                })?;
            self.extra_watches.insert(dir, mode);
        }
        self.targets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .extra = extra;
        Ok(())
    }

    /// Whether `dir` is already watched for the inputs.
    fn covered(&self, dir: &Path) -> bool {
        self.input_watches
            .iter()
            .any(|(w, mode)| w == dir || (*mode == RecursiveMode::Recursive && dir.starts_with(w)))
    }
}

/// Drops folders already covered by a recursive watch.
fn simplify(watches: BTreeMap<PathBuf, RecursiveMode>) -> Vec<(PathBuf, RecursiveMode)> {
    let recursive: Vec<PathBuf> = watches
        .iter()
        .filter(|(_, m)| **m == RecursiveMode::Recursive)
        .map(|(d, _)| d.clone())
        .collect();
    watches
        .into_iter()
        .filter(|(dir, mode)| {
            !recursive
                .iter()
                .any(|r| dir.starts_with(r) && (dir != r || *mode != RecursiveMode::Recursive))
        })
        .collect()
}

/// Turns one debounced delivery into a batch for the sink, if it matters.
fn batch(targets: &RwLock<Targets>, result: DebounceEventResult) -> Option<WatchEvent> {
    let targets = targets.read().unwrap_or_else(|e| e.into_inner());
    match result {
        Ok(events) => {
            let mut cache = IgnoreCache::default();
            let mut paths: Vec<PathBuf> = Vec::new();
            for event in &events {
                if event.need_rescan() {
                    // Events were lost: everything may have changed.
                    paths.extend(targets.all());
                    continue;
                }
                if !is_change(&event.kind) {
                    continue;
                }
                for path in &event.paths {
                    if targets.relevant(path, &mut cache) {
                        paths.push(path.clone());
                    }
                }
            }
            paths.sort();
            paths.dedup();
            (!paths.is_empty()).then_some(WatchEvent::Changed(paths))
        }
        Err(errors) => {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            Some(WatchEvent::Error(text.join("; ")))
        }
    }
}

/// Whether an event kind can change a file's content or existence.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_not_changes() {
        assert!(!is_change(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(is_change(&EventKind::Remove(
            notify::event::RemoveKind::File
        )));
    }

    #[test]
    fn recursive_watches_cover_their_subfolders() {
        let mut w = BTreeMap::new();
        w.insert(PathBuf::from("/a"), RecursiveMode::Recursive);
        w.insert(PathBuf::from("/a/b"), RecursiveMode::NonRecursive);
        w.insert(PathBuf::from("/c"), RecursiveMode::NonRecursive);
        let s = simplify(w);
        assert_eq!(
            s,
            vec![
                (PathBuf::from("/a"), RecursiveMode::Recursive),
                (PathBuf::from("/c"), RecursiveMode::NonRecursive)
            ]
        );
    }
}
