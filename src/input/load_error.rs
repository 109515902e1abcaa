//! The loaders' error: which file, where in it, and what was expected.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// An input that could not be loaded.
///
/// Every variant names the file; errors in a file's content also carry the
/// 1-based line and column (counted in characters) and say what was expected.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A file or directory could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The content is not what the format expects.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong and what was expected instead.
        message: String,
    },
    /// The file as a whole is not an input tokenscope can load this way
    /// (binary content, a format forced on the wrong kind of path, ...).
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong and what was expected instead.
        message: String,
    },
    /// A native item set (TOML/JSON) that could not be loaded; the inner
    /// error has the file, position, kind and message.
    #[error(transparent)]
    ItemSet(#[from] super::error::LoadError),
    /// A loading option is invalid (a glob, a field name, a heading level).
    #[error("invalid {option} `{value}`: {message}")]
    Option {
        /// The option, e.g. `--include glob`.
        option: &'static str,
        /// The value given.
        value: String,
        /// What was expected.
        message: String,
    },
}

impl InputError {
    /// A content error at a byte offset of `text`, the file's full content.
    pub(crate) fn at(path: &Path, text: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = crate::text::line_column(text, offset);
        InputError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A content error at a known line and column.
    pub(crate) fn at_line(
        path: &Path,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        InputError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    /// An error about the file as a whole.
    pub(crate) fn format(path: &Path, message: impl Into<String>) -> Self {
        InputError::Format {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        InputError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The file the error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            InputError::Io { path, .. }
            | InputError::Syntax { path, .. }
            | InputError::Format { path, .. } => Some(path),
            InputError::ItemSet(e) => Some(&e.file),
            InputError::Option { .. } => None,
        }
    }

    /// The 1-based line, for errors in a file's content.
    pub fn line(&self) -> Option<usize> {
        match self {
            InputError::Syntax { line, .. } => Some(*line),
            InputError::ItemSet(e) => e.position.map(|p| p.line),
            _ => None,
        }
    }

    /// The 1-based column (in characters), for errors in a file's content.
    pub fn column(&self) -> Option<usize> {
        match self {
            InputError::Syntax { column, .. } => Some(*column),
            InputError::ItemSet(e) => e.position.map(|p| p.column),
            _ => None,
        }
    }
}

/// Quotes a value for an error message, shortened and with control
/// characters escaped ([`crate::text::escape`]) so that it prints on one line.
pub(crate) fn quote(value: &str) -> Quoted<'_> {
    Quoted(value)
}

/// See [`quote`].
pub(crate) struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 60;
        write!(f, "`{}`", crate::text::escape::line_cut(self.0, MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_and_column() {
        let e = InputError::at(Path::new("p.md"), "x\nyz", 2, "expected a number");
        assert_eq!(e.to_string(), "p.md:2:1: expected a number");
        assert_eq!(e.line(), Some(2));
        assert_eq!(e.column(), Some(1));
        assert_eq!(e.path(), Some(Path::new("p.md")));
    }

    #[test]
    fn quote_escapes_and_shortens() {
        assert_eq!(quote("a\nb").to_string(), "`a\\nb`");
        let long = "x".repeat(100);
        assert_eq!(quote(&long).to_string().chars().count(), 63);
    }
}
