//! The debounced watcher over input paths.

use std::collections::{BTreeSet, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, MetadataKind, ModifyKind};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use super::filter::{IgnoreCache, Targets, normalize_file};
use crate::input::LoadOptions;
use crate::input::directory::{DirRules, walker};
use crate::input::load_error::InputError;

/// The debounce used by the inspector and `tokenscope watch`: long enough to
/// coalesce an editor's write-and-rename (a few milliseconds), short enough
/// that a save of a 1 MB prompt shows as a new item set within 50 ms
/// (`benches/reload.rs`). Events come out 20-25 ms after the last one (the
/// debouncer checks every quarter of the debounce).
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(20);

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
    Options(#[from] InputError),
}

type Inner = Debouncer<notify::RecommendedWatcher, RecommendedCache>;

/// State shared with the debouncer's thread.
struct Shared {
    /// The debouncer; `None` once the watcher is dropped (which breaks the
    /// reference cycle through the event handler).
    debouncer: Mutex<Option<Inner>>,
    /// What is relevant.
    targets: RwLock<Targets>,
    /// Folders watched for the inputs: input files' parents and the folders
    /// of directory inputs.
    input_folders: Mutex<BTreeSet<PathBuf>>,
}

impl Shared {
    fn watch(&self, folder: &Path) -> notify::Result<()> {
        let mut guard = self.debouncer.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_mut() {
            Some(d) => d.watch(folder, RecursiveMode::NonRecursive),
            None => Ok(()),
        }
    }

    fn unwatch(&self, folder: &Path) {
        let mut guard = self.debouncer.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = guard.as_mut() {
            // The folder may be gone already, which ends its watch anyway.
            let _ = d.unwatch(folder);
        }
    }

    fn add_input_folder(&self, folder: PathBuf) {
        self.input_folders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(folder);
    }

    /// Watches `top` and every folder under it that the directory loader
    /// would enter (ignored and hidden folders are not watched, so a large
    /// `node_modules` or `target` costs nothing). Folders that vanish while
    /// this runs are skipped.
    fn watch_tree(&self, top: &Path, hidden: bool) -> Result<(), WatchError> {
        for entry in walker(top, hidden).build().flatten() {
            if !entry.file_type().is_some_and(|t| t.is_dir()) {
                continue;
            }
            let folder = entry.into_path();
            match self.watch(&folder) {
                Ok(()) => self.add_input_folder(folder),
                Err(e) if vanished(&e) => {}
                Err(source) => {
                    return Err(WatchError::Notify {
                        path: Some(folder),
                        source,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Whether a watch failed because its folder no longer exists.
fn vanished(e: &notify::Error) -> bool {
    match &e.kind {
        notify::ErrorKind::PathNotFound => true,
        notify::ErrorKind::Io(io) => io.kind() == io::ErrorKind::NotFound,
        _ => false,
    }
}

/// Watches input files and directories and reports coalesced batches of
/// changed paths.
///
/// Files are watched through their **parent folders**, so that editors'
/// atomic saves (write a temporary file, rename it over the original),
/// deletes followed by re-creation and bursts of saves are all seen.
/// Directories are watched folder by folder, recursively, skipping the
/// folders the directory loader skips (ignore files, hidden folders), so a
/// large ignored tree costs no watches; new folders are watched as they
/// appear. Events under a directory are kept only for files the loader would
/// read (same ignore files, hidden-file rule and include/exclude globs), plus
/// folders and ignore files, whose changes change which files are read.
/// Reads (open/close without writing) are not changes.
///
/// Events are debounced with `notify-debouncer-full`: a path is reported once
/// no new event arrived for it for the debounce time. The sink is called on
/// the watcher's thread; it should hand the event over (e.g. into the
/// inspector's event channel) and return.
///
/// Known limits: a watched file's folder that is deleted and re-created, or
/// a symbolic link's target that changes elsewhere, is not followed; a folder
/// that an edit to an ignore file un-ignores is watched from that edit on.
pub struct Watcher {
    shared: Arc<Shared>,
    /// Folders watched for extra files only.
    extra_folders: BTreeSet<PathBuf>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("folders", &self.watched_folders())
            .finish_non_exhaustive()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let debouncer = self
            .shared
            .debouncer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(debouncer);
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
        let mut file_folders = BTreeSet::new();
        for input in inputs {
            let is_dir = std::fs::metadata(input).is_ok_and(|m| m.is_dir());
            if is_dir {
                let root = std::fs::canonicalize(input).map_err(|source| WatchError::Path {
                    path: input.clone(),
                    source,
                })?;
                targets.dirs.push((root, DirRules::new(options)?));
            } else {
                let file = normalize_file(input).map_err(|source| WatchError::Path {
                    path: input.clone(),
                    source,
                })?;
                file_folders.insert(file.parent().unwrap_or(Path::new("/")).to_path_buf());
                targets.inputs.insert(file);
            }
        }
        let roots: Vec<(PathBuf, bool)> = targets
            .dirs
            .iter()
            .map(|(root, rules)| (root.clone(), rules.hidden))
            .collect();
        let shared = Arc::new(Shared {
            debouncer: Mutex::new(None),
            targets: RwLock::new(targets),
            input_folders: Mutex::new(BTreeSet::new()),
        });

        let handler_shared = Arc::clone(&shared);
        let debounce = debounce.max(Duration::from_millis(1));
        let debouncer = new_debouncer(debounce, None, move |result: DebounceEventResult| {
            let (event, folders) = batch(&handler_shared.targets, result);
            // New folders are watched before the batch goes out, so that
            // what is created in them from now on is seen.
            let mut errors = Vec::new();
            for (folder, hidden) in folders {
                if let Err(e) = handler_shared.watch_tree(&folder, hidden) {
                    errors.push(e.to_string());
                }
            }
            if let Some(event) = event {
                sink(event);
            }
            if !errors.is_empty() {
                sink(WatchEvent::Error(errors.join("; ")));
            }
        })
        .map_err(|source| WatchError::Notify { path: None, source })?;
        *shared.debouncer.lock().unwrap_or_else(|e| e.into_inner()) = Some(debouncer);

        let watcher = Watcher {
            shared,
            extra_folders: BTreeSet::new(),
        };
        for folder in file_folders {
            watcher
                .shared
                .watch(&folder)
                .map_err(|source| WatchError::Notify {
                    path: Some(folder.clone()),
                    source,
                })?;
            watcher.shared.add_input_folder(folder);
        }
        for (root, hidden) in roots {
            watcher.shared.watch_tree(&root, hidden)?;
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
    /// previous list. Files in folders that do not exist are skipped.
    pub fn track_files<I>(&mut self, files: I) -> Result<(), WatchError>
    where
        I: IntoIterator<Item = PathBuf>,
    {
        let mut extra = HashSet::new();
        let mut wanted = BTreeSet::new();
        {
            let input_folders = self
                .shared
                .input_folders
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for file in files {
                let Ok(file) = normalize_file(&file) else {
                    continue;
                };
                let parent = file.parent().unwrap_or(Path::new("/")).to_path_buf();
                if !input_folders.contains(&parent) {
                    wanted.insert(parent);
                }
                extra.insert(file);
            }
        }
        let old: Vec<PathBuf> = self.extra_folders.difference(&wanted).cloned().collect();
        for folder in old {
            self.shared.unwatch(&folder);
            self.extra_folders.remove(&folder);
        }
        for folder in wanted {
            if self.extra_folders.contains(&folder) {
                continue;
            }
            self.shared
                .watch(&folder)
                .map_err(|source| WatchError::Notify {
                    path: Some(folder.clone()),
                    source,
                })?;
            self.extra_folders.insert(folder);
        }
        self.shared
            .targets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .extra = extra;
        Ok(())
    }

    /// Every folder being watched, sorted.
    pub fn watched_folders(&self) -> Vec<PathBuf> {
        let input = self
            .shared
            .input_folders
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<PathBuf> = input.iter().chain(&self.extra_folders).cloned().collect();
        all.sort();
        all.dedup();
        all
    }
}

/// Turns one debounced delivery into a batch for the sink, if it matters,
/// and the folders to start watching: new folders under a directory input,
/// and folders whose ignore file changed (each with its input's hidden-file
/// rule).
fn batch(
    targets: &RwLock<Targets>,
    result: DebounceEventResult,
) -> (Option<WatchEvent>, Vec<(PathBuf, bool)>) {
    let targets = targets.read().unwrap_or_else(|e| e.into_inner());
    match result {
        Ok(events) => {
            let mut cache = IgnoreCache::default();
            let mut paths: Vec<PathBuf> = Vec::new();
            let mut folders: Vec<(PathBuf, bool)> = Vec::new();
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
                    if !targets.relevant(path, &mut cache) {
                        continue;
                    }
                    paths.push(path.clone());
                    let Some(hidden) = targets.directory_hidden_rule(path) else {
                        continue;
                    };
                    if path.is_dir() {
                        folders.push((path.clone(), hidden));
                    } else if is_ignore_file(path)
                        && let Some(parent) = path.parent()
                    {
                        folders.push((parent.to_path_buf(), hidden));
                    }
                }
            }
            paths.sort();
            paths.dedup();
            folders.sort();
            folders.dedup();
            let event = (!paths.is_empty()).then_some(WatchEvent::Changed(paths));
            (event, folders)
        }
        Err(errors) => {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            (Some(WatchEvent::Error(text.join("; "))), Vec::new())
        }
    }
}

fn is_ignore_file(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n == ".gitignore" || n == ".ignore")
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
}
