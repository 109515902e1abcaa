//! `tokenscope models`: the model registry as a table or JSON.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use serde::Serialize;

use super::args::ColorChoice;
use super::{CliError, ModelsArgs};
use crate::text::{self, escape, thousands};
use crate::tokens::{ChatFraming, ErrorBand, ModelCounting, ModelRegistry, ModelSpec};

/// The schema tag of `models --json`.
pub const MODELS_SCHEMA: &str = "tokenscope.models/1";

/// Runs `tokenscope models`.
pub fn run(args: &ModelsArgs) -> Result<ExitCode, CliError> {
    let registry = load_registry(args.shared.models_file.as_deref())?;
    let mut out = io::stdout().lock();
    if args.json {
        let report = ModelsReport {
            schema: MODELS_SCHEMA,
            models: registry.models().iter().map(ModelJson::from).collect(),
        };
        serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        let mut table = Table::new(&[
            ("name", Align::Left),
            ("provider", Align::Left),
            ("counting", Align::Left),
            ("context", Align::Right),
            ("max output", Align::Right),
            ("input $/M", Align::Right),
            ("output $/M", Align::Right),
        ]);
        for m in registry.models() {
            table.row(vec![
                m.name.clone(),
                m.provider.clone(),
                counting(m),
                opt(m.context_window.map(thousands)),
                opt(m.max_output.map(thousands)),
                opt(m.input_price.map(price)),
                opt(m.output_price.map(price)),
            ]);
        }
        table.write(&mut out, use_color(args.shared.color))?;
        if registry.models().iter().any(pullable) {
            writeln!(
                out,
                "\n† exact after `tokenscope models pull NAME`, which downloads the model's tokenizer from\nits Hugging Face repository (until then: the estimate shown)."
            )?;
        }
        writeln!(
            out,
            "\n≈ estimate ±N%: counted without the model's own tokenizer (closed models publish none;\nfor an open model, name its tokenizer file); the real count is expected within N% of the\nestimate on typical English prose and code. Prices: 2025 list prices in USD per million\ntokens. Override any of it in a models.toml (--models-file, or tokenscope/models.toml in\nthe config dir)."
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Loads the registry with the user's layers, mapping errors to exit code 2.
pub(super) fn load_registry(
    models_file: Option<&std::path::Path>,
) -> Result<ModelRegistry, CliError> {
    Ok(ModelRegistry::load(models_file)?)
}

#[derive(Serialize)]
struct ModelsReport {
    schema: &'static str,
    models: Vec<ModelJson>,
}

#[derive(Serialize)]
struct ModelJson {
    name: String,
    aliases: Vec<String>,
    provider: String,
    exact: bool,
    /// The encoding name, the estimate's formula, or the tokenizer file.
    encoding: String,
    /// The expected relative error of an estimate (`0.1` for ±10 %); null
    /// when exact.
    error_band: Option<ErrorBand>,
    /// The tokenizer file the model counts with (resolved); null for none.
    tokenizer_file: Option<String>,
    context_window: Option<usize>,
    max_output: Option<usize>,
    input_price_per_million: Option<f64>,
    output_price_per_million: Option<f64>,
    chat: Option<ChatFraming>,
    /// The user file that defined or changed it; null for built-in.
    source: Option<String>,
    /// The model's Hugging Face repository (`org/name`), if it has one.
    repo: Option<String>,
    /// Where its tokenizer file was found: `tokenscope` (pulled) or
    /// `hugging_face` (the Hugging Face cache); null when not from a cache.
    tokenizer_found_in: Option<crate::hub::CacheKind>,
    /// The model id sent to the provider's count API when it is not the
    /// name; null otherwise.
    api_model: Option<String>,
}

impl From<&ModelSpec> for ModelJson {
    fn from(m: &ModelSpec) -> Self {
        ModelJson {
            name: m.name.clone(),
            aliases: m.aliases.clone(),
            provider: m.provider.clone(),
            exact: m.is_exact(),
            encoding: match &m.counting {
                ModelCounting::Tokenizer(t) => t.name(),
                ModelCounting::File(f) => f.path.display().to_string(),
            },
            error_band: m.error_band(),
            tokenizer_file: m.tokenizer_file().map(|p| p.display().to_string()),
            context_window: m.context_window,
            max_output: m.max_output,
            input_price_per_million: m.input_price,
            output_price_per_million: m.output_price,
            chat: m.chat,
            source: m.source.as_ref().map(|p| p.display().to_string()),
            repo: m.repo.clone(),
            tokenizer_found_in: m.hub.as_ref().map(|f| f.cache),
            api_model: m.api_model.clone(),
        }
    }
}

/// The counting column: the encoding, `≈ formula ±band`, or the tokenizer
/// file (marked when it is not there; it is read only when the model is
/// used).
fn counting(m: &ModelSpec) -> String {
    if let Some(found) = &m.hub {
        return format!("{} ({})", found.file, found.cache);
    }
    let text = m.counting.describe();
    match m.tokenizer_file() {
        Some(path) if !path.is_file() => format!("{text} (not found)"),
        _ if pullable(m) => format!("{text} †"),
        _ => text,
    }
}

/// A model that counts by estimate until its tokenizer is pulled.
fn pullable(m: &ModelSpec) -> bool {
    m.repo.is_some() && !m.is_exact()
}

fn opt(v: Option<String>) -> String {
    v.unwrap_or_else(|| "-".to_string())
}

/// A price in USD per million tokens: two decimals, three when needed.
fn price(p: f64) -> String {
    let two = format!("{p:.2}");
    if (two.parse::<f64>().unwrap_or(p) - p).abs() > 1e-9 {
        format!("{p:.3}")
    } else {
        two
    }
}

/// Whether to colour stdout: `always`, or `auto` on a terminal without
/// `NO_COLOR`.
pub(super) fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

fn safe(cell: &str) -> String {
    escape::line(cell).into_owned()
}

/// Column alignment.
#[derive(Clone, Copy)]
pub(super) enum Align {
    Left,
    Right,
}

/// A plain-text table: columns separated by two spaces, measured by display
/// width, no trailing spaces. Every cell is escaped for one line
/// ([`crate::text::escape::line`]): names and paths come from user files.
pub(super) struct Table {
    headers: Vec<Vec<String>>,
    aligns: Vec<Align>,
    rows: Vec<Vec<String>>,
    /// Row indices before which a blank line is drawn.
    breaks: Vec<usize>,
}

impl Table {
    pub(super) fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            headers: vec![columns.iter().map(|(h, _)| safe(h)).collect()],
            aligns: columns.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
            breaks: Vec::new(),
        }
    }

    /// Adds a second (or further) header line.
    pub(super) fn header(&mut self, cells: Vec<String>) {
        self.headers.push(cells.iter().map(|c| safe(c)).collect());
    }

    pub(super) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.iter().map(|c| safe(c)).collect());
    }

    /// Draws a blank line before the next row.
    pub(super) fn gap(&mut self) {
        self.breaks.push(self.rows.len());
    }

    pub(super) fn write(&self, out: &mut impl Write, color: bool) -> io::Result<()> {
        let mut widths = vec![0usize; self.aligns.len()];
        for line in self.headers.iter().chain(&self.rows) {
            for (w, cell) in widths.iter_mut().zip(line) {
                *w = (*w).max(text::width(cell));
            }
        }
        for header in &self.headers {
            let text = self.line(header, &widths);
            if color {
                writeln!(out, "\x1b[1m{text}\x1b[0m")?;
            } else {
                writeln!(out, "{text}")?;
            }
        }
        for (i, row) in self.rows.iter().enumerate() {
            if self.breaks.contains(&i) {
                writeln!(out)?;
            }
            writeln!(out, "{}", self.line(row, &widths))?;
        }
        Ok(())
    }

    fn line(&self, cells: &[String], widths: &[usize]) -> String {
        let mut line = String::new();
        for (i, ((cell, width), align)) in cells.iter().zip(widths).zip(&self.aligns).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(&match align {
                Align::Left => text::align_left(cell, *width),
                Align::Right => text::align_right(cell, *width),
            });
        }
        line.trim_end().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_keep_significant_decimals() {
        assert_eq!(price(2.5), "2.50");
        assert_eq!(price(0.15), "0.15");
        assert_eq!(price(0.075), "0.075");
    }

    #[test]
    fn table_aligns_by_display_width() {
        let mut t = Table::new(&[("a", Align::Left), ("n", Align::Right)]);
        t.row(vec!["日本".into(), "1".into()]);
        t.row(vec!["x".into(), "100".into()]);
        let mut out = Vec::new();
        t.write(&mut out, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a       n\n日本    1\nx     100\n"
        );
    }

    #[test]
    fn table_cells_are_escaped() {
        let mut t = Table::new(&[("name", Align::Left), ("n", Align::Right)]);
        t.header(vec!["\u{202e}x".into(), String::new()]);
        t.row(vec!["evil\x1b]0;t\x07".into(), "1".into()]);
        let mut out = Vec::new();
        t.write(&mut out, false).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("evil\\x1b]0;t\\x07"), "{out}");
        assert!(out.contains("\\u{202e}x"), "{out}");
        assert!(!out.contains(['\x1b', '\x07', '\u{202e}']), "{out}");
    }
}
