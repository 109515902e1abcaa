//! Reloading inputs after a change, keeping the last good item set.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::engine::ItemSet;
use crate::input::{InputError, LoadOptions, detect};

use super::filter::normalize_file;

/// What a reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// A new item set is current.
    Reloaded,
    /// Loading failed: [`Reloader::error`] says why, and the last good item
    /// set (if there was one) stays current.
    Failed,
    /// None of the changed paths belongs to the inputs; nothing was read.
    Unaffected,
}

/// One input path and what was last loaded from it.
#[derive(Debug)]
struct Input {
    /// As given.
    path: PathBuf,
    /// Canonical form, for matching changed paths (`None` until it exists).
    canonical: Option<PathBuf>,
    /// Whether this input has loaded without error at least once.
    loaded: bool,
    /// The last item set loaded from this input without error (kept when
    /// there are several inputs, to merge with).
    last: Option<ItemSet>,
    /// Canonical files its last item set was read from (item `path`s).
    referenced: HashSet<PathBuf>,
}

/// Reloads the inputs when they change and keeps the last item set that
/// loaded without error.
///
/// Only inputs touched by a batch are read again; the others are merged from
/// their last load. When an input fails to load, the error is kept for
/// display ([`Reloader::error`]) and the previous item set stays current; the
/// next successful reload clears the error. Counting the reloaded set goes
/// through the shared [`crate::tokens::CountCache`] (in the engine), so
/// unchanged items, whose text is the same, are not tokenized again.
#[derive(Debug)]
pub struct Reloader {
    inputs: Vec<Input>,
    options: LoadOptions,
    current: Option<ItemSet>,
    error: Option<InputError>,
    generation: u64,
}

impl Reloader {
    /// A reloader over `paths` (as given to [`crate::input::load_paths`]);
    /// nothing is read until [`Reloader::load`].
    pub fn new(paths: Vec<PathBuf>, options: LoadOptions) -> Self {
        let inputs = paths
            .into_iter()
            .map(|path| Input {
                canonical: canonical(&path),
                path,
                loaded: false,
                last: None,
                referenced: HashSet::new(),
            })
            .collect();
        Reloader {
            inputs,
            options,
            current: None,
            error: None,
            generation: 0,
        }
    }

    /// Loads every input.
    pub fn load(&mut self) -> ReloadOutcome {
        let all: Vec<usize> = (0..self.inputs.len()).collect();
        self.reload_inputs(&all)
    }

    /// Reloads the inputs that `changed` (a [`super::WatchEvent::Changed`]
    /// batch) touches: an input file itself, a path under an input
    /// directory, or a file an input's items were read from.
    pub fn reload(&mut self, changed: &[PathBuf]) -> ReloadOutcome {
        for input in &mut self.inputs {
            if input.canonical.is_none() {
                input.canonical = canonical(&input.path);
            }
        }
        let affected: Vec<usize> = self
            .inputs
            .iter()
            .enumerate()
            .filter(|(_, input)| {
                !input.loaded
                    || changed.iter().any(|c| {
                        input
                            .canonical
                            .as_ref()
                            .is_some_and(|p| c == p || c.starts_with(p))
                            || input.referenced.contains(c)
                    })
            })
            .map(|(i, _)| i)
            .collect();
        if affected.is_empty() {
            return ReloadOutcome::Unaffected;
        }
        self.reload_inputs(&affected)
    }

    fn reload_inputs(&mut self, which: &[usize]) -> ReloadOutcome {
        // With one input the merged set is that input's set: it is kept once,
        // as `current`, instead of also as the input's last load.
        let single = self.inputs.len() == 1;
        let mut first_error = None;
        let mut fresh = None;
        for &i in which {
            let input = &mut self.inputs[i];
            match detect::load_path(&input.path, &self.options) {
                Ok(set) => {
                    input.referenced = referenced(&input.path, &set);
                    input.loaded = true;
                    if single {
                        fresh = Some(set);
                    } else {
                        input.last = Some(set);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            self.error = Some(e);
            return ReloadOutcome::Failed;
        }
        let set = match fresh {
            Some(set) => set,
            None => {
                let sets: Vec<ItemSet> =
                    self.inputs.iter().filter_map(|i| i.last.clone()).collect();
                let mut set = detect::merge(sets);
                if self.inputs.is_empty() {
                    set.warnings.push("no inputs to load".to_string());
                }
                set
            }
        };
        self.current = Some(set);
        self.error = None;
        self.generation += 1;
        ReloadOutcome::Reloaded
    }

    /// The current item set: the last one that loaded without error.
    pub fn current(&self) -> Option<&ItemSet> {
        self.current.as_ref()
    }

    /// The error of the last load, until a load succeeds.
    pub fn error(&self) -> Option<&InputError> {
        self.error.as_ref()
    }

    /// How many item sets have been loaded; changes with every successful
    /// (re)load, so consumers can drop stale work.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The input paths, as given.
    pub fn paths(&self) -> Vec<&Path> {
        self.inputs.iter().map(|i| i.path.as_path()).collect()
    }

    /// The loading options.
    pub fn options(&self) -> &LoadOptions {
        &self.options
    }

    /// Files the current items were read from that are not input paths
    /// themselves (item `path`s of native item sets): give them to
    /// [`super::Watcher::track_files`] so that editing them reloads too.
    pub fn referenced_files(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .inputs
            .iter()
            .flat_map(|i| i.referenced.iter().cloned())
            .filter(|p| !self.inputs.iter().any(|i| i.canonical.as_ref() == Some(p)))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Canonical files the items of `set` were read from, other than files of a
/// directory input (those are watched with the directory).
fn referenced(input: &Path, set: &ItemSet) -> HashSet<PathBuf> {
    if input.is_dir() {
        return HashSet::new();
    }
    set.items
        .iter()
        .filter_map(|item| item.path.as_deref())
        .filter_map(canonical)
        .collect()
}

/// The form the watcher reports a path in: a directory fully resolved; a
/// file as its resolved folder joined with its name (see the watcher).
/// `None` when the folder does not exist.
fn canonical(path: &Path) -> Option<PathBuf> {
    if path.is_dir() {
        std::fs::canonicalize(path).ok()
    } else {
        normalize_file(path).ok()
    }
}
