//! The debounced watcher over input paths.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, MetadataKind, ModifyKind};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use super::anchor::{Anchor, Holds, State, add_file, folder_id, tree_folders};
use super::filter::{IgnoreCache, Targets, normalize_file};
use crate::input::LoadOptions;
use crate::input::directory::DirRules;
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
    /// Setting up a watch failed (the message names the folder).
    #[error("{0}")]
    Setup(String),
}

type Inner = Debouncer<notify::RecommendedWatcher, RecommendedCache>;

/// State shared with the debouncer's thread.
struct Shared {
    /// The debouncer; `None` once the watcher is dropped (which breaks the
    /// reference cycle through the event handler).
    debouncer: Mutex<Option<Inner>>,
    /// What is relevant.
    targets: RwLock<Targets>,
    /// Anchors and watches. Locked before `debouncer` when both are.
    state: Mutex<State>,
}

impl Shared {
    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes sure the folder now at `folder` is watched (again, when the
    /// folder there was replaced). Nothing happens for a path that is not a
    /// folder; `Err` only for failures other than the folder vanishing.
    fn ensure(&self, state: &mut State, folder: &Path) -> Result<(), WatchError> {
        let Some(id) = folder_id(folder) else {
            state.watched.remove(folder);
            return Ok(());
        };
        if state.watched.get(folder) == Some(&id) {
            return Ok(());
        }
        let mut guard = self.debouncer.lock().unwrap_or_else(|e| e.into_inner());
        let Some(d) = guard.as_mut() else {
            return Ok(());
        };
        match d.watch(folder, RecursiveMode::NonRecursive) {
            Ok(()) => {
                state.watched.insert(folder.to_path_buf(), id);
                Ok(())
            }
            Err(e) if vanished(&e) => {
                state.watched.remove(folder);
                Ok(())
            }
            Err(source) => Err(WatchError::Notify {
                path: Some(folder.to_path_buf()),
                source,
            }),
        }
    }

    fn unwatch(&self, state: &mut State, folder: &Path) {
        state.watched.remove(folder);
        let mut guard = self.debouncer.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = guard.as_mut() {
            // The folder may be gone already, which ends its watch anyway.
            let _ = d.unwatch(folder);
        }
    }

    /// The watch on `path` and on every folder under it ended with it (the
    /// operating system's watcher drops them when a folder is deleted or
    /// moved out of a watched folder): forget them, and disarm the anchors
    /// there, so that whatever folder is at their paths now is watched again
    /// and their inputs reported (a folder re-created at once may even reuse
    /// the old one's inode number, so identities alone would not tell).
    fn forget_under(state: &mut State, path: &Path) {
        if !state.watched.contains_key(path) {
            return;
        }
        state.watched.retain(|folder, _| !folder.starts_with(path));
        for anchor in &mut state.anchors {
            if anchor.path.starts_with(path) {
                anchor.stale = true;
            }
        }
    }

    /// Whether an anchor's folder or guard is not what [`Shared::refresh`]
    /// last saw (it changed while the watches were being set up).
    fn unsettled(state: &State) -> bool {
        state.anchors.iter().any(|a| {
            a.stale
                || folder_id(&a.path).is_some() != a.armed.is_some()
                || a.path.ancestors().skip(1).find(|p| p.is_dir()) != a.guard.as_deref()
        })
    }

    /// Re-arms every anchor whose folder appeared, vanished or was replaced
    /// since the last call, moves guards to the nearest existing ancestors,
    /// and syncs the watches; again while folders changed meanwhile (a few
    /// rounds at most). Returns the paths to report as changed.
    fn refresh(&self, state: &mut State) -> (Vec<PathBuf>, Vec<String>) {
        let (mut report, mut errors) = self.refresh_once(state);
        for _ in 0..4 {
            if !Shared::unsettled(state) {
                break;
            }
            let (more, errs) = self.refresh_once(state);
            report.extend(more);
            errors.extend(errs);
        }
        (report, errors)
    }

    fn refresh_once(&self, state: &mut State) -> (Vec<PathBuf>, Vec<String>) {
        let mut report = Vec::new();
        let mut errors = Vec::new();
        let mut changed = false;
        for anchor in &mut state.anchors {
            let now = folder_id(&anchor.path);
            if now != anchor.armed || anchor.stale {
                anchor.armed = now;
                anchor.stale = false;
                anchor.folders.clear();
                if now.is_some() {
                    match anchor.holds {
                        Holds::Files => {
                            anchor.folders.insert(anchor.path.clone());
                        }
                        Holds::Tree { hidden } => {
                            anchor.folders.extend(tree_folders(&anchor.path, hidden));
                        }
                    }
                }
                report.extend(anchor.report.iter().cloned());
                changed = true;
            }
            let guard = anchor.path.ancestors().skip(1).find(|a| a.is_dir());
            if guard != anchor.guard.as_deref() {
                anchor.guard = guard.map(Path::to_path_buf);
                changed = true;
            }
        }
        let mut wanted: BTreeSet<PathBuf> = state
            .anchors
            .iter()
            .filter_map(|a| a.guard.clone())
            .collect();
        if changed {
            wanted.extend(state.anchors.iter().flat_map(|a| a.folders.iter().cloned()));
            let stale: Vec<PathBuf> = state
                .watched
                .keys()
                .filter(|f| !wanted.contains(*f))
                .cloned()
                .collect();
            for folder in stale {
                self.unwatch(state, &folder);
            }
        } else {
            // Folders recorded as unwatched (see `forget_under`) come back.
            wanted.extend(
                state
                    .anchors
                    .iter()
                    .flat_map(|a| a.folders.iter())
                    .filter(|f| !state.watched.contains_key(*f))
                    .cloned(),
            );
        }
        for folder in wanted {
            if let Err(e) = self.ensure(state, &folder) {
                errors.push(e.to_string());
            }
        }
        (report, errors)
    }

    /// Watches `top`, a new or un-ignored folder under a directory input,
    /// and the folders under it that the loader would enter.
    fn add_tree(&self, state: &mut State, top: &Path, hidden: bool) -> Result<(), WatchError> {
        let folders = tree_folders(top, hidden);
        if let Some(anchor) = state.anchors.iter_mut().find(|a| {
            matches!(a.holds, Holds::Tree { .. }) && a.armed.is_some() && top.starts_with(&a.path)
        }) {
            anchor.folders.extend(folders.iter().cloned());
        } else {
            return Ok(());
        }
        for folder in folders {
            self.ensure(state, &folder)?;
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
/// Folders are watched **by path**: the parent of each such folder (or its
/// nearest existing ancestor) is watched too, so that a folder deleted and
/// re-created, or renamed away and back, is watched again and its inputs
/// reported as changed (the paths given, never the folder's new name: a
/// folder renamed away is no longer watched).
///
/// Events are debounced with `notify-debouncer-full`: a path is reported once
/// no new event arrived for it for the debounce time. The sink is called on
/// the watcher's thread; it should hand the event over (e.g. into the
/// inspector's event channel) and return.
///
/// Known limits: a symbolic link's target that changes elsewhere is not
/// followed; a folder that an edit to an ignore file un-ignores is watched
/// from that edit on.
pub struct Watcher {
    shared: Arc<Shared>,
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

/// `path` made absolute against the working folder, without resolving
/// links (for paths that do not exist).
fn absolute(path: &Path) -> io::Result<PathBuf> {
    std::path::absolute(path)
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
        let mut anchors: Vec<Anchor> = Vec::new();
        for input in inputs {
            let is_dir = std::fs::metadata(input).is_ok_and(|m| m.is_dir());
            if is_dir {
                let root = std::fs::canonicalize(input).map_err(|source| WatchError::Path {
                    path: input.clone(),
                    source,
                })?;
                let rules = DirRules::new(options)?;
                let mut anchor = Anchor::new(
                    root.clone(),
                    Holds::Tree {
                        hidden: rules.hidden,
                    },
                    false,
                );
                anchor.report.insert(root.clone());
                anchors.push(anchor);
                targets.dirs.push((root, rules));
            } else {
                let file = match normalize_file(input) {
                    Ok(file) => file,
                    // Its folder is missing: watched for when it appears.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        absolute(input).map_err(|source| WatchError::Path {
                            path: input.clone(),
                            source,
                        })?
                    }
                    Err(source) => {
                        return Err(WatchError::Path {
                            path: input.clone(),
                            source,
                        });
                    }
                };
                let folder = file.parent().unwrap_or(Path::new("/")).to_path_buf();
                add_file(&mut anchors, folder, file.clone(), false);
                targets.inputs.insert(file);
            }
        }
        let shared = Arc::new(Shared {
            debouncer: Mutex::new(None),
            targets: RwLock::new(targets),
            state: Mutex::new(State {
                anchors,
                watched: BTreeMap::new(),
            }),
        });

        let handler_shared = Arc::clone(&shared);
        let debounce = debounce.max(Duration::from_millis(1));
        let debouncer = new_debouncer(debounce, None, move |result: DebounceEventResult| {
            let mut state = handler_shared.lock_state();
            if let Ok(events) = &result {
                for event in events {
                    if matches!(
                        event.kind,
                        EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
                    ) {
                        for path in &event.paths {
                            Shared::forget_under(&mut state, path);
                        }
                    }
                }
            }
            let (event, folders) = batch(&handler_shared.targets, result);
            // Folders that appeared, vanished or were replaced are watched
            // (again) before the batch goes out, and so are new folders
            // under a directory input, so that what is created in them from
            // now on is seen.
            let (rearmed, mut errors) = handler_shared.refresh(&mut state);
            for (folder, hidden) in folders {
                if let Err(e) = handler_shared.add_tree(&mut state, &folder, hidden) {
                    errors.push(e.to_string());
                }
            }
            drop(state);
            for event in merge(event, rearmed) {
                sink(event);
            }
            if !errors.is_empty() {
                sink(WatchEvent::Error(errors.join("; ")));
            }
        })
        .map_err(|source| WatchError::Notify { path: None, source })?;
        *shared.debouncer.lock().unwrap_or_else(|e| e.into_inner()) = Some(debouncer);

        let watcher = Watcher { shared };
        {
            let mut state = watcher.shared.lock_state();
            let (_, errors) = watcher.shared.refresh(&mut state);
            if let Some(e) = errors.into_iter().next() {
                return Err(WatchError::Setup(e));
            }
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
        let mut state = self.shared.lock_state();
        state.anchors.retain(|a| !a.tracked);
        for file in files {
            let Ok(file) = normalize_file(&file) else {
                continue;
            };
            let folder = file.parent().unwrap_or(Path::new("/")).to_path_buf();
            add_file(&mut state.anchors, folder, file.clone(), true);
            extra.insert(file);
        }
        self.shared
            .targets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .extra = extra;
        let (_, errors) = self.shared.refresh(&mut state);
        match errors.into_iter().next() {
            Some(e) => Err(WatchError::Setup(e)),
            None => Ok(()),
        }
    }

    /// Every folder being watched for the inputs' contents, sorted (the
    /// ancestors watched to see those folders come and go are not listed).
    pub fn watched_folders(&self) -> Vec<PathBuf> {
        let state = self.shared.lock_state();
        let mut all: Vec<PathBuf> = state
            .anchors
            .iter()
            .flat_map(|a| a.folders.iter())
            .filter(|f| state.watched.contains_key(*f))
            .cloned()
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// The events to deliver: the batch with the paths of re-armed folders
/// added.
fn merge(event: Option<WatchEvent>, rearmed: Vec<PathBuf>) -> Vec<WatchEvent> {
    let (mut paths, mut out) = match event {
        Some(WatchEvent::Changed(paths)) => (paths, Vec::new()),
        Some(error) => (Vec::new(), vec![error]),
        None => (Vec::new(), Vec::new()),
    };
    paths.extend(rearmed);
    paths.sort();
    paths.dedup();
    if !paths.is_empty() {
        out.insert(0, WatchEvent::Changed(paths));
    }
    out
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
