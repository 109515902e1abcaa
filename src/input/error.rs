//! The loaders' shared error: which file, where in it, and what was expected.
//!
//! Every loader reports bad input as a [`LoadError`]. Its one-line form reads
//! like a compiler diagnostic, `path:line:column: message`, so that editors and
//! terminals can jump to it; [`LoadError::snippet`] adds the offending source
//! line with a caret under the column. The command line maps every
//! `LoadError` to exit status 2.

use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A position in a text file. Both numbers start at 1; the column counts
/// characters (Unicode scalar values), not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in characters.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text`. An offset past the end (or
    /// inside a multi-byte character) is moved back to the nearest character
    /// boundary, so any offset gives a position.
    pub fn at_offset(text: &str, offset: usize) -> Position {
        let (line, column) = crate::text::line_column(text, offset);
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// What kind of problem a [`LoadError`] is, for callers that react to it
/// (the message always says it in words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoadErrorKind {
    /// The file could not be read.
    Io,
    /// The file (or a file it refers to) is not UTF-8.
    Encoding,
    /// The file is not valid TOML/JSON/...
    Syntax,
    /// A key that the format does not have.
    UnknownKey,
    /// A required key is missing.
    MissingKey,
    /// A value of the wrong type or out of range, or a name that is not one
    /// of the valid choices.
    InvalidValue,
    /// A name or id given twice.
    Duplicate,
    /// A reference to something that is not declared (e.g. a section).
    UndeclaredReference,
    /// Keys that cannot be given together.
    Conflict,
}

/// Bad input: the file, the position when known, and what was expected.
#[derive(Debug, thiserror::Error)]
pub struct LoadError {
    /// The file the problem is in.
    pub file: PathBuf,
    /// Where in the file, when the problem has a position.
    pub position: Option<Position>,
    /// What kind of problem it is.
    pub kind: LoadErrorKind,
    /// The problem in words: what was found and what was expected.
    pub message: String,
    /// The source line at `position`, for [`LoadError::snippet`].
    pub line_text: Option<String>,
    /// The underlying I/O error, for [`LoadErrorKind::Io`].
    #[source]
    pub source: Option<io::Error>,
}

impl LoadError {
    /// An error at byte `offset` of `text`, the contents of `file`.
    pub fn at_offset(
        file: &Path,
        text: &str,
        offset: usize,
        kind: LoadErrorKind,
        message: impl Into<String>,
    ) -> LoadError {
        let position = Position::at_offset(text, offset);
        LoadError {
            file: file.to_path_buf(),
            position: Some(position),
            kind,
            message: message.into(),
            line_text: text
                .lines()
                .nth(position.line - 1)
                .map(|l| l.trim_end_matches('\r').to_string()),
            source: None,
        }
    }

    /// An error at the start of byte range `span` of `text`.
    pub fn at_span(
        file: &Path,
        text: &str,
        span: &Range<usize>,
        kind: LoadErrorKind,
        message: impl Into<String>,
    ) -> LoadError {
        LoadError::at_offset(file, text, span.start, kind, message)
    }

    /// An error at a known line and column (both from 1) of `text`.
    pub fn at_position(
        file: &Path,
        text: &str,
        position: Position,
        kind: LoadErrorKind,
        message: impl Into<String>,
    ) -> LoadError {
        LoadError {
            file: file.to_path_buf(),
            position: Some(position),
            kind,
            message: message.into(),
            line_text: text
                .lines()
                .nth(position.line.saturating_sub(1))
                .map(|l| l.trim_end_matches('\r').to_string()),
            source: None,
        }
    }

    /// An error about the file as a whole (no position).
    pub fn whole_file(file: &Path, kind: LoadErrorKind, message: impl Into<String>) -> LoadError {
        LoadError {
            file: file.to_path_buf(),
            position: None,
            kind,
            message: message.into(),
            line_text: None,
            source: None,
        }
    }

    /// The file could not be read.
    pub fn io(file: &Path, err: io::Error) -> LoadError {
        let message = match err.kind() {
            io::ErrorKind::NotFound => "file not found".to_string(),
            io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => format!("cannot read: {err}"),
        };
        LoadError {
            file: file.to_path_buf(),
            position: None,
            kind: LoadErrorKind::Io,
            message,
            line_text: None,
            source: Some(err),
        }
    }

    /// The file is not valid UTF-8; `bytes` are its contents.
    pub fn not_utf8(file: &Path, bytes: &[u8]) -> LoadError {
        let valid_up_to = match std::str::from_utf8(bytes) {
            Ok(_) => bytes.len(),
            Err(e) => e.valid_up_to(),
        };
        // The valid prefix is text: locate the bad byte in it.
        let prefix = std::str::from_utf8(&bytes[..valid_up_to]).unwrap_or_default();
        let position = Position::at_offset(prefix, prefix.len());
        LoadError {
            file: file.to_path_buf(),
            position: Some(position),
            kind: LoadErrorKind::Encoding,
            message: format!(
                "not valid UTF-8 (bad byte at offset {valid_up_to}); expected a UTF-8 text file"
            ),
            line_text: None,
            source: None,
        }
    }

    /// The offending source line with a caret under the column, when the
    /// error has a position, e.g.
    ///
    /// ```text
    ///    12 | strategy = "gredy"
    ///       |            ^
    /// ```
    pub fn snippet(&self) -> Option<String> {
        let position = self.position?;
        let line = self.line_text.as_ref()?;
        // A line holds no newline. Tabs stay (they are layout the caret line
        // repeats); every other unsafe character is escaped, and the caret
        // moves past the escape.
        let shown = crate::text::escape::multiline(line);
        let before: String = line
            .chars()
            .take(position.column.saturating_sub(1))
            .collect();
        let pad: String = crate::text::escape::multiline(&before)
            .chars()
            .flat_map(|c| {
                let (fill, n) = if c == '\t' {
                    ('\t', 1)
                } else {
                    (' ', crate::text::char_width(c))
                };
                std::iter::repeat_n(fill, n)
            })
            .collect();
        let gutter = position.line.to_string().len().max(3);
        Some(format!(
            "{:>gutter$} | {shown}\n{:>gutter$} | {pad}^",
            position.line, ""
        ))
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The candidate closest to `word`, when one is close enough to be the
/// likely intent (for "did you mean" hints).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Reads `file` as UTF-8 text (a leading byte-order mark is removed), up to
/// the input size limit ([`crate::fsio::read_file`]); binary content (a NUL
/// byte in the first 8 KiB) is an encoding error.
pub fn read_text(file: &Path) -> Result<String, LoadError> {
    let bytes = crate::fsio::read_file(file, crate::fsio::Limit::Input)
        .map_err(|e| LoadError::io(file, e))?;
    text_from_bytes(file, bytes)
}

/// [`read_text`] for a file that an input names (an item's `path`): only a
/// regular file is read ([`crate::fsio::read_regular_file`]), so a FIFO
/// cannot block the run and a device is refused at once.
pub fn read_named_text(file: &Path) -> Result<String, LoadError> {
    let bytes = crate::fsio::read_regular_file(file, crate::fsio::Limit::Input)
        .map_err(|e| LoadError::io(file, e))?;
    text_from_bytes(file, bytes)
}

fn text_from_bytes(file: &Path, bytes: Vec<u8>) -> Result<String, LoadError> {
    if let Some(at) = crate::fsio::first_nul(&bytes) {
        return Err(LoadError {
            file: file.to_path_buf(),
            position: None,
            kind: LoadErrorKind::Encoding,
            message: format!(
                "binary content (a NUL byte at offset {at}); expected a UTF-8 text file"
            ),
            line_text: None,
            source: None,
        });
    }
    let mut text = String::from_utf8(bytes).map_err(|e| LoadError::not_utf8(file, e.as_bytes()))?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "ab\ncé\u{1F600}x\n";
        assert_eq!(
            Position::at_offset(text, 0),
            Position { line: 1, column: 1 }
        );
        assert_eq!(
            Position::at_offset(text, 3),
            Position { line: 2, column: 1 }
        );
        // After "cé" (3 bytes) and the emoji (4 bytes): the 4th character.
        assert_eq!(
            Position::at_offset(text, 10),
            Position { line: 2, column: 4 }
        );
        // Inside the emoji: moved back to its start.
        assert_eq!(
            Position::at_offset(text, 8),
            Position { line: 2, column: 3 }
        );
        // Past the end.
        assert_eq!(
            Position::at_offset(text, 99),
            Position { line: 3, column: 1 }
        );
    }

    #[test]
    fn display_and_snippet() {
        let text = "[budget]\nstrategy = \"gredy\"\n";
        let e = LoadError::at_offset(
            Path::new("set.toml"),
            text,
            20,
            LoadErrorKind::InvalidValue,
            "unknown strategy",
        );
        assert_eq!(e.to_string(), "set.toml:2:12: unknown strategy");
        assert_eq!(
            e.snippet().unwrap(),
            "  2 | strategy = \"gredy\"\n    |            ^"
        );
    }

    /// This copy replaced unsafe characters with U+FFFD (one column, so the
    /// caret stayed aligned) where every other output shows the escape; it
    /// now shows the escape too and moves the caret past it, by display
    /// width.
    #[test]
    fn snippet_escapes_and_keeps_the_caret_under_the_column() {
        let text = "a\x1b[2Jb\t漢 = bad\r\n";
        let e = LoadError::at_offset(
            Path::new("set.toml"),
            text,
            text.find('=').unwrap(),
            LoadErrorKind::InvalidValue,
            "bad",
        );
        assert_eq!(e.to_string(), "set.toml:1:10: bad");
        assert_eq!(
            e.snippet().unwrap(),
            format!("  1 | a\\x1b[2Jb\t漢 = bad\n    | {}\t   ^", " ".repeat(9))
        );
    }

    #[test]
    fn closest_suggests_only_near_names() {
        let keys = ["strategy", "overflow", "total"];
        assert_eq!(closest("stratgy", keys), Some("strategy"));
        assert_eq!(closest("Overflw", keys), Some("overflow"));
        assert_eq!(closest("xyz", keys), None);
    }

    #[test]
    fn not_utf8_names_the_offset() {
        let e = LoadError::not_utf8(Path::new("x.md"), b"ok\nab\xffcd");
        assert_eq!(e.position, Some(Position { line: 2, column: 3 }));
        assert!(e.message.contains("offset 5"), "{}", e.message);
    }
}
