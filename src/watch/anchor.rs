//! Folders watched by path: an anchor is a folder the inputs live in, with
//! the ancestor watched to see it come and go (see [`super::Watcher`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::input::directory::walker;

/// Which file a folder is (device and inode on Unix), to tell a folder from
/// another one made at the same path.
pub(super) type FolderId = (u64, u64);

/// The identity of the folder at `path`, `None` when there is no folder.
pub(super) fn folder_id(path: &Path) -> Option<FolderId> {
    let meta = std::fs::metadata(path).ok().filter(|m| m.is_dir())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Some((0, 0))
    }
}

/// What an anchor folder holds for the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Holds {
    /// Input files (or tracked files): only the folder itself is watched.
    Files,
    /// A directory input: the folder and every folder under it that the
    /// directory loader enters (with this hidden-file rule).
    Tree { hidden: bool },
}

/// A folder the inputs live in, watched **by path**: when it vanishes
/// (deleted or renamed away) its nearest existing ancestor is watched
/// instead, and when a folder appears at the path again (re-created, or
/// renamed back) it is watched again and its inputs reported as changed.
/// A folder renamed away is no longer watched: its new name is not an
/// input.
#[derive(Debug)]
pub(super) struct Anchor {
    /// Absolute (canonical when it existed at the start).
    pub(super) path: PathBuf,
    pub(super) holds: Holds,
    /// Whether it is for tracked files ([`Watcher::track_files`]) rather
    /// than inputs.
    pub(super) tracked: bool,
    /// The folder watched at `path` now, `None` when there is none.
    pub(super) armed: Option<FolderId>,
    /// Set when its watch ended with a removal or a move: re-armed (and its
    /// inputs reported) at the next refresh whatever is at `path`.
    pub(super) stale: bool,
    /// The folder watched to see `path` appear, vanish or be replaced: its
    /// nearest existing ancestor.
    pub(super) guard: Option<PathBuf>,
    /// The folders watched for its contents (`path` itself, and for a tree
    /// the folders under it).
    pub(super) folders: BTreeSet<PathBuf>,
    /// What is reported as changed when the folder appears or vanishes: its
    /// input files, or the directory input itself.
    pub(super) report: BTreeSet<PathBuf>,
}

impl Anchor {
    pub(super) fn new(path: PathBuf, holds: Holds, tracked: bool) -> Anchor {
        Anchor {
            path,
            holds,
            tracked,
            armed: None,
            stale: false,
            guard: None,
            folders: BTreeSet::new(),
            report: BTreeSet::new(),
        }
    }
}

/// The anchors and the folders actually watched.
#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) anchors: Vec<Anchor>,
    /// Folders with a watch, and which folder each watch is on.
    pub(super) watched: BTreeMap<PathBuf, FolderId>,
}

/// `top` and every folder under it that the directory loader would enter
/// (ignored and hidden folders are not watched, so a large `node_modules`
/// or `target` costs nothing). Folders that vanish during the walk are
/// skipped.
pub(super) fn tree_folders(top: &Path, hidden: bool) -> Vec<PathBuf> {
    walker(top, hidden)
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_dir()))
        .map(|e| e.into_path())
        .collect()
}

/// Adds `file` to the anchor for `folder` (one per folder and kind).
pub(super) fn add_file(anchors: &mut Vec<Anchor>, folder: PathBuf, file: PathBuf, tracked: bool) {
    if let Some(a) = anchors
        .iter_mut()
        .find(|a| a.path == folder && a.holds == Holds::Files && a.tracked == tracked)
    {
        a.report.insert(file);
        return;
    }
    let mut anchor = Anchor::new(folder, Holds::Files, tracked);
    anchor.report.insert(file);
    anchors.push(anchor);
}
