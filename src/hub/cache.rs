//! Finding a repository's files in the hub caches on disk (no network).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::RepoId;
use super::repo::{is_commit, validate_revision};

/// Which cache a file was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheKind {
    /// tokenscope's own cache, where `models pull` writes.
    Tokenscope,
    /// The Hugging Face cache (`$HF_HUB_CACHE`, `$HF_HOME/hub`).
    HuggingFace,
}

impl fmt::Display for CacheKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CacheKind::Tokenscope => "tokenscope cache",
            CacheKind::HuggingFace => "Hugging Face cache",
        })
    }
}

/// A repository file found in a cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The file (`.../snapshots/COMMIT/FILE`).
    pub path: PathBuf,
    /// The cache it is in.
    pub cache: CacheKind,
    /// The commit of the snapshot it belongs to.
    pub commit: String,
    /// The file's path in the repository (e.g. `tokenizer.json`).
    pub file: String,
}

/// The hub caches to look in, tokenscope's own first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HubCaches {
    /// The cache folders (each holding `models--ORG--NAME` folders) and
    /// their kinds, in the order they are searched.
    pub dirs: Vec<(PathBuf, CacheKind)>,
}

impl HubCaches {
    /// The caches named by the environment: tokenscope's own
    /// ([`HubCaches::own_dir`]), then the Hugging Face cache
    /// ([`HubCaches::huggingface_dir`]).
    pub fn from_env() -> HubCaches {
        let mut dirs = Vec::new();
        if let Some(own) = Self::own_dir() {
            dirs.push((own, CacheKind::Tokenscope));
        }
        if let Some(hf) = Self::huggingface_dir() {
            dirs.push((hf, CacheKind::HuggingFace));
        }
        HubCaches { dirs }
    }

    /// tokenscope's own hub cache, where `models pull` writes:
    /// `dirs::cache_dir()/tokenscope/hub`.
    pub fn own_dir() -> Option<PathBuf> {
        dirs::cache_dir().map(|d| d.join("tokenscope").join("hub"))
    }

    /// The Hugging Face cache, as `huggingface_hub` finds it:
    /// `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
    pub fn huggingface_dir() -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = var("HF_HUB_CACHE") {
            return Some(PathBuf::from(dir));
        }
        if let Some(home) = var("HF_HOME") {
            return Some(PathBuf::from(home).join("hub"));
        }
        let base = var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| dirs::home_dir().map(|h| h.join(".cache")))?;
        Some(base.join("huggingface").join("hub"))
    }

    /// The first of `files` found for `repo` at `revision` (`None`: the
    /// `main` revision) in any cache, caches in order. In a cache, the
    /// snapshot that `refs/REVISION` names is looked at first (a revision
    /// that is a commit names its snapshot); without it, the most recently
    /// changed snapshot that has the file. Only regular files count (links
    /// are followed).
    pub fn find(&self, repo: &RepoId, revision: Option<&str>, files: &[&str]) -> Option<Found> {
        let revision = revision.unwrap_or("main");
        self.dirs.iter().find_map(|(dir, kind)| {
            find_in(&dir.join(repo.cache_folder()), revision, files).map(|(path, commit, file)| {
                Found {
                    path,
                    cache: *kind,
                    commit,
                    file: file.to_string(),
                }
            })
        })
    }
}

fn find_in<'f>(
    repo_dir: &Path,
    revision: &str,
    files: &[&'f str],
) -> Option<(PathBuf, String, &'f str)> {
    if !repo_dir.is_dir() || validate_revision(revision).is_err() {
        return None;
    }
    let snapshots = repo_dir.join("snapshots");
    let commit = if is_commit(revision) {
        Some(revision.to_string())
    } else {
        read_ref(&repo_dir.join("refs").join(revision))
    };
    if let Some(commit) = commit {
        for file in files {
            let path = snapshots.join(&commit).join(file);
            if path.is_file() {
                return Some((path, commit, file));
            }
        }
        if is_commit(revision) {
            return None;
        }
    }
    // No ref (a cache filled by hand or by an older tool): the newest
    // snapshot that has one of the files.
    let mut best: Option<(std::time::SystemTime, PathBuf, String, &'f str)> = None;
    for entry in std::fs::read_dir(&snapshots).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_commit(&name) {
            continue;
        }
        for file in files {
            let path = entry.path().join(file);
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let time = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
            if best.as_ref().is_none_or(|b| time > b.0) {
                best = Some((time, path, name.clone(), file));
            }
            break;
        }
    }
    best.map(|(_, path, commit, file)| (path, commit, file))
}

/// The commit a `refs/NAME` file holds, if it is one.
fn read_ref(path: &Path) -> Option<String> {
    let bytes = crate::fsio::read_regular_file(path, crate::fsio::Limit::Input).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?.trim();
    is_commit(text).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const C1: &str = "1111111111111111111111111111111111111111";
    const C2: &str = "2222222222222222222222222222222222222222";

    fn snapshot(root: &Path, folder: &str, commit: &str, file: &str) -> PathBuf {
        let dir = root.join(folder).join("snapshots").join(commit);
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{}").unwrap();
        path
    }

    #[test]
    fn finds_the_ref_snapshot_first_then_the_newest() {
        let tmp = tempfile::tempdir().unwrap();
        let repo: RepoId = "org/model".parse().unwrap();
        let caches = HubCaches {
            dirs: vec![(tmp.path().to_path_buf(), CacheKind::HuggingFace)],
        };
        assert_eq!(caches.find(&repo, None, &["tokenizer.json"]), None);
        let p1 = snapshot(tmp.path(), "models--org--model", C1, "tokenizer.json");
        let found = caches.find(&repo, None, &["tokenizer.json"]).unwrap();
        assert_eq!(found.path, p1);
        assert_eq!(found.commit, C1);
        assert_eq!(found.cache, CacheKind::HuggingFace);
        // refs/main names the other snapshot.
        let p2 = snapshot(tmp.path(), "models--org--model", C2, "tokenizer.json");
        let refs = tmp.path().join("models--org--model/refs");
        std::fs::create_dir_all(&refs).unwrap();
        std::fs::write(refs.join("main"), C1).unwrap();
        assert_eq!(
            caches.find(&repo, None, &["tokenizer.json"]).unwrap().path,
            p1
        );
        std::fs::write(refs.join("main"), format!("{C2}\n")).unwrap();
        assert_eq!(
            caches.find(&repo, None, &["tokenizer.json"]).unwrap().path,
            p2
        );
        // A commit revision names its snapshot.
        assert_eq!(
            caches
                .find(&repo, Some(C1), &["tokenizer.json"])
                .unwrap()
                .path,
            p1
        );
        // A file the snapshots do not have.
        assert_eq!(caches.find(&repo, None, &["vocab.json"]), None);
        // A traversing revision finds nothing.
        assert_eq!(caches.find(&repo, Some("../x"), &["tokenizer.json"]), None);
    }

    #[test]
    fn own_cache_comes_first() {
        let ours = tempfile::tempdir().unwrap();
        let hf = tempfile::tempdir().unwrap();
        let repo: RepoId = "org/model".parse().unwrap();
        snapshot(hf.path(), "models--org--model", C1, "tokenizer.json");
        let caches = HubCaches {
            dirs: vec![
                (ours.path().to_path_buf(), CacheKind::Tokenscope),
                (hf.path().to_path_buf(), CacheKind::HuggingFace),
            ],
        };
        assert_eq!(
            caches.find(&repo, None, &["tokenizer.json"]).unwrap().cache,
            CacheKind::HuggingFace
        );
        snapshot(ours.path(), "models--org--model", C2, "tokenizer.json");
        assert_eq!(
            caches.find(&repo, None, &["tokenizer.json"]).unwrap().cache,
            CacheKind::Tokenscope
        );
    }
}
