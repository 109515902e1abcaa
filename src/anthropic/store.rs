//! The disk cache of API counts: `input_tokens` by (model, SHA-256 of the
//! message content), in one JSON file,
//! `dirs::cache_dir()/tokenscope/anthropic/counts.json` (e.g.
//! `~/.cache/tokenscope/anthropic/counts.json`). Only hashes and numbers are
//! stored, never the content.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The schema tag of the cache file.
const SCHEMA: &str = "tokenscope.anthropic-counts/1";

/// The count cache file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("count cache {}: {message}", path.display())]
pub struct StoreError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

#[derive(Serialize, Deserialize, Default)]
struct File {
    schema: String,
    /// `MODEL\tSHA256` -> input_tokens.
    counts: BTreeMap<String, usize>,
}

/// Cached `input_tokens` by model and content hash; shared by threads.
#[derive(Debug, Default)]
pub struct CountStore {
    path: Option<PathBuf>,
    counts: Mutex<BTreeMap<String, usize>>,
    /// Entries added since loading.
    added: Mutex<BTreeMap<String, usize>>,
}

impl CountStore {
    /// The default file: `dirs::cache_dir()/tokenscope/anthropic/counts.json`.
    pub fn default_path() -> Option<PathBuf> {
        dirs::cache_dir().map(|d| d.join("tokenscope").join("anthropic").join("counts.json"))
    }

    /// A store kept in memory only.
    pub fn in_memory() -> CountStore {
        CountStore::default()
    }

    /// Loads the store at `path` (empty when the file does not exist).
    pub fn open(path: &Path) -> Result<CountStore, StoreError> {
        Ok(CountStore {
            path: Some(path.to_path_buf()),
            counts: Mutex::new(read(path)?),
            added: Mutex::default(),
        })
    }

    /// The cached count of a one-message request with `content`.
    pub fn get(&self, model: &str, content: &str) -> Option<usize> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(&key(model, content)).copied()
    }

    /// Records a count.
    pub fn put(&self, model: &str, content: &str, tokens: usize) {
        let k = key(model, content);
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(k.clone(), tokens);
        self.added
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(k, tokens);
    }

    /// How many counts were added since loading.
    pub fn added(&self) -> usize {
        self.added.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Writes the added counts to the file (merged with what another
    /// process wrote meanwhile, under a lock; atomically). Nothing to do for
    /// an in-memory store or when nothing was added.
    pub fn save(&self) -> Result<(), StoreError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let added = self.added.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if added.is_empty() {
            return Ok(());
        }
        let err = |message: String| StoreError {
            path: path.clone(),
            message,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        let _lock = crate::fsio::lock_for_update(path).map_err(|e| err(e.to_string()))?;
        let mut counts = read(path)?;
        counts.extend(added);
        let file = File {
            schema: SCHEMA.to_string(),
            counts,
        };
        let text = serde_json::to_string(&file).map_err(|e| err(e.to_string()))?;
        crate::fsio::write_file(path, text.as_bytes()).map_err(|e| err(e.to_string()))?;
        self.added.lock().unwrap_or_else(|e| e.into_inner()).clear();
        Ok(())
    }
}

fn read(path: &Path) -> Result<BTreeMap<String, usize>, StoreError> {
    let err = |message: String| StoreError {
        path: path.to_path_buf(),
        message,
    };
    match crate::fsio::read_regular_file(path, crate::fsio::Limit::Input) {
        Ok(bytes) => {
            let file: File = serde_json::from_slice(&bytes)
                .map_err(|e| err(format!("{e}; delete the file to start a new cache")))?;
            if file.schema != SCHEMA {
                return Err(err(format!(
                    "expected schema {SCHEMA}, found `{}`; delete the file to start a new cache",
                    crate::text::escape::line(&file.schema)
                )));
            }
            Ok(file.counts)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(err(e.to_string())),
    }
}

fn key(model: &str, content: &str) -> String {
    let hash = sha2::Sha256::digest(content.as_bytes());
    format!("{model}\t{}", crate::hub::pull::to_hex(&hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_survive_a_save_and_merge_with_other_writers() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a/counts.json");
        let s = CountStore::open(&path).unwrap();
        assert_eq!(s.get("m", "hello"), None);
        s.put("m", "hello", 9);
        assert_eq!(s.get("m", "hello"), Some(9));
        assert_eq!(s.get("other", "hello"), None);
        // Another process adds a count meanwhile.
        let other = CountStore::open(&path).unwrap();
        other.put("m", "bye", 4);
        other.save().unwrap();
        s.save().unwrap();
        let again = CountStore::open(&path).unwrap();
        assert_eq!(again.get("m", "hello"), Some(9));
        assert_eq!(again.get("m", "bye"), Some(4));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("hello"), "no content is stored: {text}");

        std::fs::write(&path, "{broken").unwrap();
        let e = CountStore::open(&path).unwrap_err().to_string();
        assert!(e.contains("delete the file"), "{e}");
    }
}
