//! What `count` reads: files, stdin, and every file under a folder (walked
//! as `pack` walks one: `.gitignore`, `.ignore` and git-exclude rules
//! applied, hidden files skipped unless `--hidden`, links not followed).
//!
//! Files are read when they are counted (in parallel, see
//! [`Input::read`]), so that a large folder is never held in memory at
//! once. A file named on the command line that cannot be counted is an
//! error; a file found in a folder that is not text (binary, not UTF-8) or
//! cannot be read is skipped and reported in a summary.

use std::io;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::super::CliError;
use crate::text::escape;

/// A file (or stdin) to count.
pub(super) struct Input {
    /// The name shown in text output and error lines.
    pub display: String,
    /// The name in JSON output (`-` for stdin).
    pub json_path: String,
    /// Where the text comes from.
    source: Source,
    /// Found in a folder: a file that is not text is skipped, not an error.
    pub in_folder: bool,
}

enum Source {
    /// Standard input, read once up front.
    Stdin(Result<String, String>),
    File(PathBuf),
    /// A folder entry the walk could not read.
    Unreadable(String),
}

impl Input {
    /// The text, or what is wrong with the file.
    pub fn read(&self) -> Result<String, String> {
        match &self.source {
            Source::Stdin(text) => text.clone(),
            Source::File(path) => read_file(path),
            Source::Unreadable(why) => Err(why.clone()),
        }
    }
}

/// The inputs `paths` name, in order: none or `-` is stdin (read once), a
/// folder is every file under it in path order (see the module docs).
/// Also returns whether a folder was given, and a warning per folder with
/// no file to count.
pub(super) fn collect(
    paths: &[PathBuf],
    hidden: bool,
) -> Result<(Vec<Input>, bool, Vec<String>), CliError> {
    let stdin_path = Path::new("-");
    let wanted: Vec<&Path> = if paths.is_empty() {
        vec![stdin_path]
    } else {
        paths.iter().map(PathBuf::as_path).collect()
    };
    let mut stdin = if wanted.contains(&stdin_path) {
        let limit = crate::fsio::limit(crate::fsio::Limit::Input);
        let bytes = crate::fsio::read_capped(io::stdin().lock(), limit).map_err(CliError::stdin)?;
        Some(decode(bytes))
    } else {
        None
    };
    let mut inputs = Vec::new();
    let mut folders = false;
    let mut warnings = Vec::new();
    for &path in &wanted {
        if path == stdin_path {
            inputs.push(Input {
                display: "<stdin>".to_string(),
                json_path: "-".to_string(),
                // Named twice: counted once, then as empty.
                source: Source::Stdin(stdin.take().unwrap_or_else(|| Ok(String::new()))),
                in_folder: false,
            });
        } else if path.is_dir() {
            folders = true;
            let found = folder(path, hidden);
            if found.is_empty() {
                let name = escape::line(&path.to_string_lossy()).into_owned();
                warnings.push(if hidden {
                    format!("{name}: no files to count")
                } else {
                    format!(
                        "{name}: no files to count (hidden files are skipped; --hidden counts them)"
                    )
                });
            }
            inputs.extend(found);
        } else {
            inputs.push(named(path, path.to_path_buf(), false));
        }
    }
    Ok((inputs, folders, warnings))
}

fn named(name: &Path, path: PathBuf, in_folder: bool) -> Input {
    let name = name.to_string_lossy();
    Input {
        display: escape::line(&name).into_owned(),
        json_path: name.into_owned(),
        source: Source::File(path),
        in_folder,
    }
}

/// Every file under `root`, in path order; named as given (`src/a.rs`), or
/// relative for `.` (`a.rs`).
fn folder(root: &Path, hidden: bool) -> Vec<Input> {
    let mut found: Vec<(PathBuf, Result<PathBuf, String>)> = Vec::new();
    for entry in crate::input::directory::walker(root, hidden).build() {
        match entry {
            Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                let path = e.into_path();
                found.push((shown_name(root, &path), Ok(path)));
            }
            Ok(_) => {}
            Err(e) => {
                let at = error_path(&e).unwrap_or_else(|| root.to_path_buf());
                found.push((shown_name(root, &at), Err(format!("cannot read: {e}"))));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
        .into_iter()
        .map(|(name, path)| match path {
            Ok(path) => named(&name, path, true),
            Err(why) => {
                let mut input = named(&name, name.clone(), true);
                input.source = Source::Unreadable(why);
                input
            }
        })
        .collect()
}

/// A found file's name as shown: relative to the working folder when the
/// root is `.`, and with doubled separators gone (`src/` walks to
/// `src//a.rs`; it is shown as `src/a.rs`).
fn shown_name(root: &Path, path: &Path) -> PathBuf {
    let path = if root == Path::new(".") {
        path.strip_prefix(".").unwrap_or(path)
    } else {
        path
    };
    path.components().collect()
}

fn error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

fn read_file(path: &Path) -> Result<String, String> {
    if path.is_dir() {
        return Err("is a directory".to_string());
    }
    match crate::fsio::read_file(path, crate::fsio::Limit::Input) {
        Ok(bytes) => decode(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err("no such file".to_string()),
        Err(e) => Err(format!("cannot read: {e}")),
    }
}

/// The text of a file's bytes: binary (NUL bytes) and invalid UTF-8 are
/// errors naming the byte offset.
pub(super) fn decode(bytes: Vec<u8>) -> Result<String, String> {
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(format!(
            "binary file (NUL byte at byte offset {at}); not counted"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        // The prefix up to `at` is valid UTF-8.
        let before = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let (line, column) = crate::text::line_column(before, at);
        format!("invalid UTF-8 at byte offset {at} (line {line}, column {column}); not counted")
    })
}

/// The summary line for files skipped in folders: how many, and why
/// (binary, not UTF-8, other: unreadable, or with `--chat` not a request).
pub(super) fn skipped_summary(skipped: &[(String, String)]) -> Option<String> {
    if skipped.is_empty() {
        return None;
    }
    let binary = skipped.iter().filter(|s| s.1.starts_with("binary")).count();
    let utf8 = skipped
        .iter()
        .filter(|s| s.1.starts_with("invalid UTF-8"))
        .count();
    let other = skipped.len() - binary - utf8;
    let mut why = Vec::new();
    for (n, what) in [(binary, "binary"), (utf8, "not UTF-8"), (other, "other")] {
        if n > 0 {
            why.push(format!("{} {what}", crate::text::thousands(n)));
        }
    }
    let n = skipped.len();
    Some(format!(
        "skipped {} file{} in folders that could not be counted ({}); --json lists them",
        crate::text::thousands(n),
        if n == 1 { "" } else { "s" },
        why.join(", ")
    ))
}

/// The fewest files for which `count` shows a progress bar.
pub(super) const PROGRESS_FROM: usize = 200;

/// A progress bar on stderr for `files` files: drawn only when stderr is a
/// terminal and there are at least [`PROGRESS_FROM`] files; hidden
/// otherwise.
pub(super) fn progress(files: usize) -> ProgressBar {
    use std::io::IsTerminal;
    if files < PROGRESS_FROM || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(files as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("counting {bar:30} {pos}/{len} files · {elapsed} · eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}
