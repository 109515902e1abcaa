//! Refusing outputs that would land on an input.

use std::fs::{self, Metadata};
use std::io;
use std::path::{Path, PathBuf};

use super::write::resolve_links;

/// The files and folders a run read, to check outputs against before
/// writing: tokenscope never writes to its inputs.
///
/// An output is refused when it is one of the files (the same path once
/// links and `..` are resolved, or the same file under another name: the
/// same device and inode, as a hard link is), or when it lies anywhere
/// inside one of the folders (a folder input reads every file in it, so a
/// report written there would be read back as an item). Special files
/// (`/dev/null`, FIFOs, terminals) are never refused: writing to them
/// changes no file.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    /// As given, for messages.
    path: PathBuf,
    /// Links and `..` resolved, when the path exists.
    canonical: Option<PathBuf>,
    /// Device and inode.
    id: Option<(u64, u64)>,
    folder: bool,
}

/// An output that would overwrite an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverwriteError {
    /// The output is an input file (or a link to one, or a hard link).
    #[error(
        "refusing to write {}: it is the input {} (tokenscope never writes to its inputs); choose another output file",
        output.display(),
        input.display()
    )]
    IsInput {
        /// The output as given.
        output: PathBuf,
        /// The input as it was read.
        input: PathBuf,
    },
    /// The output lies inside an input folder.
    #[error(
        "refusing to write {}: it is inside the input folder {}, whose files are read as items (tokenscope never writes to its inputs); write it outside that folder",
        output.display(),
        input.display()
    )]
    InFolder {
        /// The output as given.
        output: PathBuf,
        /// The input folder.
        input: PathBuf,
    },
}

impl Inputs {
    /// No inputs yet.
    pub fn new() -> Inputs {
        Inputs::default()
    }

    /// Adds a file or folder that was read. A path that does not exist (or
    /// no longer does) is kept by name.
    pub fn add(&mut self, path: &Path) {
        let meta = fs::metadata(path).ok();
        let folder = meta.as_ref().is_some_and(Metadata::is_dir);
        // Devices and FIFOs hold no content an output could destroy.
        if meta.as_ref().is_some_and(|m| !m.is_dir() && !m.is_file()) {
            return;
        }
        self.entries.push(Entry {
            path: path.to_path_buf(),
            canonical: canonical(path),
            id: meta.as_ref().and_then(file_id),
            folder,
        });
    }

    /// Adds every path of `paths`.
    pub fn extend<'a>(&mut self, paths: impl IntoIterator<Item = &'a Path>) {
        for p in paths {
            self.add(p);
        }
    }

    /// Whether no input was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Checks that writing `output` would change no input (see [`Inputs`]).
    pub fn check(&self, output: &Path) -> Result<(), OverwriteError> {
        let meta = fs::metadata(output).ok();
        if meta.as_ref().is_some_and(|m| !m.is_dir() && !m.is_file()) {
            return Ok(());
        }
        let id = meta.as_ref().and_then(file_id);
        let target = canonical(output);
        for e in &self.entries {
            let refuse = |folder| {
                let (output, input) = (output.to_path_buf(), e.path.clone());
                if folder {
                    Err(OverwriteError::InFolder { output, input })
                } else {
                    Err(OverwriteError::IsInput { output, input })
                }
            };
            if id.is_some() && id == e.id {
                return refuse(e.folder);
            }
            if let (Some(t), Some(c)) = (&target, &e.canonical) {
                if e.folder && t.starts_with(c) {
                    return refuse(true);
                }
                if t == c {
                    return refuse(false);
                }
            }
        }
        Ok(())
    }
}

/// The absolute path `path` names, links and `..` resolved; for a path that
/// does not exist yet, the canonical path of its nearest existing folder
/// with the rest of the path after it.
fn canonical(path: &Path) -> Option<PathBuf> {
    if let Ok(c) = fs::canonicalize(path) {
        return Some(c);
    }
    let target = resolve_links(path).ok()?;
    let target = if target.is_absolute() {
        target
    } else {
        std::env::current_dir().ok()?.join(target)
    };
    let mut rest = Vec::new();
    let mut dir = target.as_path();
    loop {
        if let Ok(c) = fs::canonicalize(dir) {
            return Some(
                rest.iter()
                    .rev()
                    .fold(c, |acc: PathBuf, part| acc.join(part)),
            );
        }
        rest.push(dir.file_name()?.to_os_string());
        dir = dir.parent()?;
    }
}

#[cfg(unix)]
fn file_id(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_meta: &Metadata) -> Option<(u64, u64)> {
    None
}

/// An [`OverwriteError`] as an I/O error, for writers that return one.
impl From<OverwriteError> for io::Error {
    fn from(e: OverwriteError) -> io::Error {
        io::Error::new(io::ErrorKind::AlreadyExists, e)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn files_links_hard_links_and_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let input = root.join("set.toml");
        fs::write(&input, "x").unwrap();
        let folder = root.join("docs");
        fs::create_dir(&folder).unwrap();
        let mut inputs = Inputs::new();
        inputs.add(&input);
        inputs.add(&folder);
        inputs.add(Path::new("/dev/null"));

        assert!(matches!(
            inputs.check(&input),
            Err(OverwriteError::IsInput { .. })
        ));
        assert!(inputs.check(&root.join("docs/../set.toml")).is_err());
        let hard = root.join("hard.toml");
        fs::hard_link(&input, &hard).unwrap();
        assert!(inputs.check(&hard).is_err());
        let soft = root.join("soft.toml");
        std::os::unix::fs::symlink(&input, &soft).unwrap();
        assert!(inputs.check(&soft).is_err());
        let e = inputs.check(&folder.join("new/report.md")).unwrap_err();
        assert!(matches!(e, OverwriteError::InFolder { .. }), "{e}");
        assert!(e.to_string().contains("docs"), "{e}");
        assert!(inputs.check(&folder).is_err());

        inputs.check(&root.join("report.md")).unwrap();
        inputs.check(&root.join("docs-report.md")).unwrap();
        inputs.check(Path::new("/dev/null")).unwrap();
        let e = inputs.check(&soft).unwrap_err().to_string();
        assert!(e.contains("soft.toml") && e.contains("set.toml"), "{e}");
    }
}
