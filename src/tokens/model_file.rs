//! Tokenizer files a models.toml names for a model (`tokenizer_file`),
//! loaded the first time the model counts and then kept for the rest of the
//! process.
//!
//! A relative path resolves against the folder of the models.toml that
//! names it; `~` at the start is the home directory. Nothing is read when
//! the registry loads: `tokenscope models` lists such a model without
//! opening its file, and a file that is missing or broken is an error only
//! when its model is used. The error names the models.toml (with line and
//! column), the model and the file. There is no fallback to an estimate: a
//! user who names a tokenizer file wants exact counts, and a silent (or
//! merely warned) switch to an estimate would let a CI gate pass on the
//! wrong numbers.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxHashMap;

use super::{FileTokenizer, FileTokenizerError, Tokenizer};

/// A tokenizer file named by a models.toml, loaded on first use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTokenizerFile {
    /// The model that names it.
    pub model: String,
    /// The path as written in the models.toml.
    pub declared: String,
    /// Where it is: `~` expanded, relative paths joined to the folder of the
    /// models.toml.
    pub path: PathBuf,
    /// The models.toml that names it.
    pub registry: String,
    /// 1-based line of `tokenizer_file` in that file.
    pub line: usize,
    /// 1-based column of its value.
    pub column: usize,
}

/// A model's tokenizer file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub struct ModelTokenizerError {
    /// The models.toml that names the file.
    pub registry: String,
    /// 1-based line of `tokenizer_file` in it.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The model.
    pub model: String,
    /// The path as written.
    pub declared: String,
    /// What is wrong with the file (it names the resolved path).
    #[source]
    pub source: Box<FileTokenizerError>,
}

impl fmt::Display for ModelTokenizerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: model `{}`: tokenizer_file \"{}\" cannot be used: {}",
            self.registry, self.line, self.column, self.model, self.declared, self.source
        )
    }
}

impl ModelTokenizerFile {
    /// Resolves `declared` as written in the models.toml at `registry_file`
    /// (`None`: relative to the working directory).
    pub fn resolve(declared: &str, registry_file: Option<&Path>) -> PathBuf {
        let expanded = if declared == "~" {
            dirs::home_dir()
        } else if let Some(rest) = declared
            .strip_prefix("~/")
            .or_else(|| declared.strip_prefix("~\\"))
        {
            dirs::home_dir().map(|h| h.join(rest))
        } else {
            None
        };
        let path = expanded.unwrap_or_else(|| PathBuf::from(declared));
        if path.is_absolute() {
            return path;
        }
        match registry_file.and_then(Path::parent) {
            Some(dir) => dir.join(path),
            None => path,
        }
    }

    /// The exact tokenizer of the file: parsed on the first call in this
    /// process (for any model naming the same file), then shared. A failed
    /// load is not remembered, so a file fixed meanwhile loads on the next
    /// call.
    pub fn load(&self) -> Result<Tokenizer, ModelTokenizerError> {
        let slot = {
            let key = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
            let mut files = loaded().lock().unwrap_or_else(|e| e.into_inner());
            files.entry(key).or_default().clone()
        };
        // One lock per file: two threads asking at once parse it once.
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(file) = slot.as_ref() {
            return Ok(Tokenizer::File(file.clone()));
        }
        let file =
            FileTokenizer::load_regular(&self.path).map_err(|source| ModelTokenizerError {
                registry: self.registry.clone(),
                line: self.line,
                column: self.column,
                model: self.model.clone(),
                declared: self.declared.clone(),
                source: Box::new(source),
            })?;
        let file = Arc::new(file);
        *slot = Some(file.clone());
        Ok(Tokenizer::File(file))
    }

    /// A short name, the same the loaded tokenizer has: the file name with
    /// its folder, e.g. `Llama-3-8B/tokenizer.json`.
    pub fn name(&self) -> String {
        super::file::display_name(&self.path)
    }

    /// Whether the file has been loaded in this process. Never waits: a
    /// file another thread is loading right now is not loaded yet.
    pub fn is_loaded(&self) -> bool {
        let key = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let slot = {
            let files = loaded().lock().unwrap_or_else(|e| e.into_inner());
            files.get(&key).cloned()
        };
        slot.is_some_and(|s| match s.try_lock() {
            Ok(file) => file.is_some(),
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner().is_some(),
            // Held by the thread that parses the file.
            Err(std::sync::TryLockError::WouldBlock) => false,
        })
    }
}

type Slot = Arc<Mutex<Option<Arc<FileTokenizer>>>>;

/// The files loaded in this process, by canonical path.
fn loaded() -> &'static Mutex<FxHashMap<PathBuf, Slot>> {
    static LOADED: OnceLock<Mutex<FxHashMap<PathBuf, Slot>>> = OnceLock::new();
    LOADED.get_or_init(Default::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_models_file() {
        let reg = Path::new("/etc/team/models.toml");
        assert_eq!(
            ModelTokenizerFile::resolve("tok/llama.json", Some(reg)),
            Path::new("/etc/team/tok/llama.json")
        );
        assert_eq!(
            ModelTokenizerFile::resolve("/abs/t.json", Some(reg)),
            Path::new("/abs/t.json")
        );
        assert_eq!(
            ModelTokenizerFile::resolve("t.json", None),
            Path::new("t.json")
        );
        if let Some(home) = dirs::home_dir() {
            assert_eq!(
                ModelTokenizerFile::resolve("~/t/tokenizer.json", Some(reg)),
                home.join("t/tokenizer.json")
            );
        }
        // Only a leading `~/` is the home directory.
        assert_eq!(
            ModelTokenizerFile::resolve("a~/t.json", Some(reg)),
            Path::new("/etc/team/a~/t.json")
        );
    }

    #[test]
    fn a_missing_file_names_the_registry_the_model_and_the_file() {
        let f = ModelTokenizerFile {
            model: "house".into(),
            declared: "nope/tokenizer.json".into(),
            path: PathBuf::from("/nonexistent/nope/tokenizer.json"),
            registry: "/cfg/models.toml".into(),
            line: 4,
            column: 18,
        };
        let e = f.load().unwrap_err().to_string();
        assert!(e.starts_with("/cfg/models.toml:4:18: model `house`"), "{e}");
        assert!(e.contains("\"nope/tokenizer.json\""), "{e}");
        assert!(e.contains("/nonexistent/nope/tokenizer.json"), "{e}");
        assert!(!f.is_loaded());
    }
}
