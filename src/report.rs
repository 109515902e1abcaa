//! Reports: one exporter per format, used by the command line and the inspector.
//!
//! A report is a [`Plan`] written out (docs/concepts.md). Every format implements
//! [`Exporter`]; [`Format`] names them and [`format_from_name`] parses a
//! `--format` value:
//!
//! | name      | what                                                        |
//! |-----------|-------------------------------------------------------------|
//! | `json`    | the `tokenscope.report/1` JSON of docs/report-schema.md, pretty      |
//! | `md`      | Markdown tables: summary, sections, items, reallocations   |
//! | `csv`     | one row per item                                            |
//! | `context` | the rendered context, byte for byte                         |
//! | `text`    | a terminal summary with a bar per section                   |
//! | `request` | a request's input only (any API): the trimmed request       |
//!
//! When the plan's counts are estimates (`plan.exact == false`), the
//! human-readable formats mark every count (and the cost) with `≈` and the
//! expected error band, `≈1,234 ±10%`, through
//! [`Accuracy::label`](crate::tokens::Accuracy::label); CSV keeps its numbers
//! plain and says so in its `exact` and `error_band` columns; JSON has the
//! top-level `exact` and `error_band` (`0.1` for ±10 %, `null` when exact).
//! [`write_report_file`] writes atomically (temporary file + rename) through
//! [`crate::fsio::write_file`].
//!
//! ```
//! use tokenscope::report::{format_from_name, Format};
//! assert_eq!(format_from_name("md").unwrap(), Format::Markdown);
//! assert!(format_from_name("yaml").unwrap_err().to_string().contains("json, md, csv, context, text, request"));
//! ```

pub mod check;
mod common;
mod context;
mod csv;
mod json;
mod markdown;
mod text;

use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use crate::engine::Plan;

pub use check::{CheckFailure, CheckReport, Rules, Violation, check};
pub use context::{ContextExporter, NOT_A_REQUEST, RequestExporter};
pub use csv::CsvExporter;
pub use json::JsonExporter;
pub use markdown::MarkdownExporter;
pub use text::TextExporter;

/// Writes a plan in one format.
pub trait Exporter {
    /// Writes `plan` to `out`.
    fn write(&self, plan: &Plan, out: &mut dyn Write, opts: &ReportOptions) -> io::Result<()>;
}

/// How a report is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// Use ANSI colours (text format only). See [`should_color`].
    pub color: bool,
    /// Line width in columns for the text format (bars fill what is left).
    pub width: usize,
    /// What was packed (e.g. the input file names), shown in the text and
    /// Markdown headers.
    pub title: Option<String>,
    /// The verdict of `tokenscope check`, written into the JSON (`check`)
    /// and Markdown reports; `None` for `pack` and the inspector.
    pub check: Option<CheckReport>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            color: false,
            width: 80,
            title: None,
            check: None,
        }
    }
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `json`: the `tokenscope.report/1` document.
    Json,
    /// `md`: Markdown tables.
    Markdown,
    /// `csv`: one row per item.
    Csv,
    /// `context`: the rendered context.
    Context,
    /// `text`: a terminal summary.
    Text,
    /// `request`: the trimmed request (request inputs only: chat
    /// completions, Responses, Anthropic Messages, Gemini).
    Request,
}

/// A format name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format `{0}`; expected one of: json, md, csv, context, text, request")]
pub struct UnknownFormat(pub String);

impl Format {
    /// Every format, in the order they are listed.
    pub const ALL: [Format; 6] = [
        Format::Json,
        Format::Markdown,
        Format::Csv,
        Format::Context,
        Format::Text,
        Format::Request,
    ];

    /// The name used with `--format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Markdown => "md",
            Format::Csv => "csv",
            Format::Context => "context",
            Format::Text => "text",
            Format::Request => "request",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Markdown => "md",
            Format::Csv => "csv",
            Format::Context | Format::Text => "txt",
            Format::Request => "json",
        }
    }

    /// The format a file name suggests (`.json`, `.md`/`.markdown`, `.csv`),
    /// for `-o FILE` without `--format`. `None` for other extensions, where
    /// the rendered context and the text summary are both plausible.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "md" | "markdown" => Some(Format::Markdown),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The exporter for this format.
    pub fn exporter(self) -> &'static dyn Exporter {
        match self {
            Format::Json => &JsonExporter,
            Format::Markdown => &MarkdownExporter,
            Format::Csv => &CsvExporter,
            Format::Context => &ContextExporter,
            Format::Text => &TextExporter,
            Format::Request => &RequestExporter,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        format_from_name(s)
    }
}

/// Parses a `--format` value (case-insensitive; `markdown` is accepted for
/// `md`), listing the valid names on error.
pub fn format_from_name(name: &str) -> Result<Format, UnknownFormat> {
    match name.trim().to_ascii_lowercase().as_str() {
        "json" => Ok(Format::Json),
        "md" | "markdown" => Ok(Format::Markdown),
        "csv" => Ok(Format::Csv),
        "context" => Ok(Format::Context),
        "text" => Ok(Format::Text),
        "request" => Ok(Format::Request),
        _ => Err(UnknownFormat(name.to_string())),
    }
}

/// When to colour terminal output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorMode {
    /// On a terminal, unless `NO_COLOR` is set to a non-empty value.
    #[default]
    Auto,
    /// Always (overrides `NO_COLOR`, as an explicit flag should).
    Always,
    /// Never.
    Never,
}

/// Whether to colour output to a stream that is (or is not) a terminal.
pub fn should_color(mode: ColorMode, stream_is_terminal: bool) -> bool {
    match mode {
        ColorMode::Always => true,
        ColorMode::Never => false,
        ColorMode::Auto => {
            stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Writes `plan` as `format` to `out`.
pub fn write_report(
    plan: &Plan,
    format: Format,
    out: &mut dyn Write,
    opts: &ReportOptions,
) -> io::Result<()> {
    format.exporter().write(plan, out, opts)
}

/// The report as a string (the context and every report are UTF-8).
pub fn render_report(plan: &Plan, format: Format, opts: &ReportOptions) -> String {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail; a format that does not apply to the plan
    // (`request` of a plan that is not a chat request) writes nothing.
    let _ = write_report(plan, format, &mut buf, opts);
    String::from_utf8_lossy(&buf).into_owned()
}

/// Writes `plan` as `format` to the file `path` with
/// [`crate::fsio::write_file`]: a regular file is replaced atomically
/// (temporary file + rename, through symbolic links), a special file such as
/// `/dev/null` or a FIFO is written in place.
pub fn write_report_file(
    plan: &Plan,
    format: Format,
    path: &Path,
    opts: &ReportOptions,
) -> io::Result<()> {
    let mut buf = Vec::new();
    write_report(plan, format, &mut buf, opts)?;
    crate::fsio::write_file(path, &buf)
}

/// Writes `bytes` to `path`; the same as [`crate::fsio::write_file`], which
/// every writer uses.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    crate::fsio::write_file(path, bytes)
}
