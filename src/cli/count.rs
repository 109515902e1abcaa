//! `tokenscope count`: token counts per file and in total, per model or
//! encoding, side by side.
//!
//! Files are read and counted in parallel through [`CountCache::global`].
//! A file that cannot be counted (missing, a directory, binary, invalid
//! UTF-8, or with `--chat` invalid request JSON) gets one line on stderr; the
//! other files are still counted and printed, and the exit status is 2.
//! Bytes are counted as they are: CRLF stays CRLF, a BOM stays a BOM.
//!
//! Columns: one per `--model` (in the order given), then one per
//! `--encoding`. With neither, `o200k_base`; with `--chat` and neither, each
//! request is counted for the model its `model` field names (one column per
//! distinct model; requests without one use `o200k_base` with the gpt-4o
//! framing).

mod inputs;

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use rayon::prelude::*;
use serde::Serialize;

use self::inputs::Input;
use super::models::{Align, Table, load_registry, use_color};
use super::{CliError, CountArgs};
use crate::engine::RequestFormat;
use crate::text::{escape, thousands, usd};
use crate::tokens::{
    Accuracy, ChatCount, ChatCounter, ChatFraming, ChatRequest, CountCache, Encoding, ErrorBand,
    ModelRegistry, ModelSpec, Tokenizer, chat_framing, resolve_encoding,
};

/// The schema tag of `count --json`.
pub const COUNT_SCHEMA: &str = "tokenscope.count/1";

/// A request counted in every column (the columns come from flags).
const ALL_COLUMNS: usize = usize::MAX;

/// Runs `tokenscope count`.
pub fn run(args: &CountArgs) -> Result<ExitCode, CliError> {
    let format = output_format(args)?;
    let registry = load_registry(args.shared.models_file.as_deref())?;
    let mut columns = flag_columns(args, &registry)?;
    let (inputs, folders, empty) = inputs::collect(&args.paths, args.hidden)?;
    if let Some(choice) = args.count_api {
        use_count_api(choice, args, &mut columns, &inputs)?;
    }
    let bar = inputs::progress(inputs.len());

    // (name, why, found in a folder)
    let mut errors: Vec<(String, String, bool)> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    if args.chat {
        // Any request format, read as the conversation it is billed for.
        let parsed: Vec<(Input, Result<ReadRequest, String>)> = inputs
            .into_par_iter()
            .map(|input| {
                let request = input.read().and_then(|text| {
                    crate::input::chat::read_request(Path::new(&input.display), &text)
                        .map_err(request_error)
                });
                bar.inc(1);
                (input, request)
            })
            .collect();
        let auto = columns.is_empty();
        // Which column counts each request: all of them, or with no flags the
        // column of the request's own model.
        let mut targets: Vec<Option<usize>> = Vec::with_capacity(parsed.len());
        for (input, request) in &parsed {
            let target = match request {
                Err(e) => {
                    errors.push((input.display.clone(), e.clone(), input.in_folder));
                    None
                }
                Ok(_) if !auto => Some(ALL_COLUMNS),
                Ok((r, _)) => match request_column(r, &registry, &mut columns) {
                    Ok(i) => Some(i),
                    Err(e) => {
                        errors.push((input.display.clone(), e, input.in_folder));
                        None
                    }
                },
            };
            targets.push(target);
        }
        let counted: Vec<Option<Row>> = parsed
            .par_iter()
            .zip(&targets)
            .map(|((input, request), target)| {
                let (Ok((request, format)), Some(target)) = (request, target) else {
                    return None;
                };
                let cells = columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        (*target == ALL_COLUMNS || *target == i).then(|| {
                            let model = c.model.as_ref().map(|m| m.name.as_str());
                            let model = model.or(request.model.as_deref());
                            let count = ChatCounter::new(&c.tokenizer, c.framing)
                                .allow_special(args.allow_special)
                                .with_images(format.image_rule(model))
                                .count(request);
                            Cell {
                                tokens: count.total,
                                accuracy: Accuracy::new(count.exact, c.tokenizer.error_band()),
                                chat: Some(count),
                            }
                        })
                    })
                    .collect();
                Some(Row {
                    display: input.display.clone(),
                    json_path: input.json_path.clone(),
                    cells,
                })
            })
            .collect();
        rows.extend(counted.into_iter().flatten());
    } else {
        if columns.is_empty() {
            columns.push(Column::encoding(Tokenizer::Exact(Encoding::O200kBase)));
        }
        let cache = CountCache::global();
        let counted: Vec<Result<Row, (String, String, bool)>> = inputs
            .into_par_iter()
            .map(|input| {
                let text = input.read();
                bar.inc(1);
                let text = text.map_err(|e| (input.display.clone(), e, input.in_folder))?;
                let cells = columns
                    .iter()
                    .map(|c| {
                        let tokens = if args.allow_special {
                            cache.count_with_special(&c.tokenizer, &text)
                        } else {
                            cache.count(&c.tokenizer, &text)
                        };
                        Some(Cell {
                            tokens,
                            accuracy: c.tokenizer.accuracy(),
                            chat: None,
                        })
                    })
                    .collect();
                Ok(Row {
                    display: input.display,
                    json_path: input.json_path,
                    cells,
                })
            })
            .collect();
        for r in counted {
            match r {
                Ok(row) => rows.push(row),
                Err(e) => errors.push(e),
            }
        }
    }

    bar.finish_and_clear();
    // Files a folder holds that are not text are skipped, not errors.
    let (skipped, errors): (Vec<_>, Vec<_>) = errors.into_iter().partition(|e| e.2);
    let skipped: Vec<(String, String)> = skipped.into_iter().map(|(p, m, _)| (p, m)).collect();
    let errors: Vec<(String, String)> = errors.into_iter().map(|(p, m, _)| (p, m)).collect();
    if folders || args.top.is_some() {
        // Largest first (by the first column), then by name.
        rows.sort_by(|a, b| {
            let tokens = |r: &Row| {
                r.cells
                    .first()
                    .and_then(|c| c.as_ref())
                    .map_or(0, |c| c.tokens)
            };
            tokens(b)
                .cmp(&tokens(a))
                .then_with(|| a.display.cmp(&b.display))
        });
    }
    let shown = args.top.unwrap_or(usize::MAX).min(rows.len());

    let mut err = io::stderr().lock();
    for warning in &empty {
        writeln!(err, "tokenscope: warning: {warning}")?;
    }
    for (path, message) in &errors {
        writeln!(err, "tokenscope: {path}: {}", escape::multiline(message))?;
    }
    if args.chat && format == OutputFormat::Text {
        for row in &rows {
            let mut seen: Vec<&str> = Vec::new();
            for note in row
                .cells
                .iter()
                .flatten()
                .flat_map(|c| c.chat.iter())
                .flat_map(|c| &c.notes)
            {
                if !seen.contains(&note.as_str()) {
                    seen.push(note);
                    writeln!(
                        err,
                        "tokenscope: note: {}: {}",
                        row.display,
                        escape::multiline(note)
                    )?;
                }
            }
        }
    }
    drop(err);

    let mut out = io::stdout().lock();
    if format == OutputFormat::Json {
        write_json(&mut out, &columns, &rows, shown, &errors, &skipped)?;
    } else if format == OutputFormat::Csv {
        write_csv(&mut out, &columns, &rows[..shown])?;
    } else if !rows.is_empty() {
        write_text(
            &mut out,
            &columns,
            &rows,
            shown,
            args.chat,
            use_color(args.shared.color),
        )?;
    }
    out.flush()?;
    drop(out);
    if format != OutputFormat::Json
        && let Some(summary) = inputs::skipped_summary(&skipped)
    {
        writeln!(io::stderr(), "tokenscope: {summary}")?;
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// How `count` writes its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutputFormat {
    Text,
    Json,
    Csv,
}

/// `--format` (text, json or csv) and `--json`.
fn output_format(args: &CountArgs) -> Result<OutputFormat, CliError> {
    let named = match args
        .format
        .as_deref()
        .map(|f| f.trim().to_ascii_lowercase())
    {
        None => None,
        Some(f) if f == "text" => Some(OutputFormat::Text),
        Some(f) if f == "json" => Some(OutputFormat::Json),
        Some(f) if f == "csv" => Some(OutputFormat::Csv),
        Some(f) => {
            return Err(CliError::Input(format!(
                "count --format `{f}`: expected text, json or csv"
            )));
        }
    };
    match (args.json, named) {
        (true, Some(f)) if f != OutputFormat::Json => Err(CliError::Input(
            "--json and --format disagree; give one".to_string(),
        )),
        (true, _) => Ok(OutputFormat::Json),
        (false, f) => Ok(f.unwrap_or(OutputFormat::Text)),
    }
}

/// CSV: a header (`path`, then each column's label), then one row per file;
/// an estimate's cell is its number (the header does not say `≈`), a file
/// not counted in a column has an empty cell. Text cells go through
/// [`escape::csv_text`] (quoted, never read as a formula).
fn write_csv(out: &mut impl Write, columns: &[Column], rows: &[Row]) -> Result<(), CliError> {
    let mut header = vec!["path".to_string()];
    header.extend(columns.iter().map(|c| escape::csv_text(&c.label())));
    writeln!(out, "{}", header.join(","))?;
    for row in rows {
        let mut cells = vec![escape::csv_text(&row.json_path)];
        cells.extend(row.cells.iter().map(|c| {
            c.as_ref()
                .map_or_else(String::new, |c| c.tokens.to_string())
        }));
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

/// One column of counts: a model or an encoding.
struct Column {
    model: Option<ModelSpec>,
    tokenizer: Tokenizer,
    framing: Option<ChatFraming>,
}

impl Column {
    /// The column of a model; loads its tokenizer file on first use.
    fn model(spec: &ModelSpec) -> Result<Column, String> {
        Ok(Column {
            model: Some(spec.clone()),
            tokenizer: spec.tokenizer().map_err(|e| e.to_string())?,
            framing: spec.chat,
        })
    }

    fn encoding(tokenizer: Tokenizer) -> Column {
        let framing = chat_framing(None, &tokenizer);
        Column {
            model: None,
            tokenizer,
            framing,
        }
    }

    fn label(&self) -> String {
        match &self.model {
            Some(m) => m.name.clone(),
            None => self.tokenizer.name(),
        }
    }
}

/// The columns the flags ask for: each `--model`, then each `--encoding`.
fn flag_columns(args: &CountArgs, registry: &ModelRegistry) -> Result<Vec<Column>, CliError> {
    let mut columns = Vec::new();
    for name in &args.models {
        let spec = registry.get(name)?;
        columns.push(Column::model(spec).map_err(CliError::Input)?);
    }
    for name in &args.encodings {
        let tokenizer = resolve_encoding(name)?;
        columns.push(Column::encoding(tokenizer));
    }
    for path in &args.tokenizer_files {
        let tokenizer = Tokenizer::from_file(path)?;
        columns.push(Column::encoding(tokenizer));
    }
    Ok(columns)
}

/// `--count-api`: every Claude column counts the inputs through the API
/// (fetched now; cached counts need no request).
fn use_count_api(
    choice: crate::session::CountApiChoice,
    args: &CountArgs,
    columns: &mut [Column],
    inputs: &[Input],
) -> Result<(), CliError> {
    if args.chat {
        return Err(CliError::Input(
            "--count-api counts files of text; --chat reads OpenAI chat-completions requests, whose framing Anthropic's API does not count (leave out --chat)".into(),
        ));
    }
    let read: Vec<String> = inputs.par_iter().filter_map(|i| i.read().ok()).collect();
    let texts: Vec<&str> = read.iter().map(String::as_str).collect();
    let mut any = false;
    for c in columns.iter_mut() {
        let Some(model) = c.model.as_ref().filter(|m| m.provider == "anthropic") else {
            continue;
        };
        let session = crate::session::ApiSession::new(choice, model)?.with_progress(Some(
            std::sync::Arc::new(super::status_line::CountApiLine::new()),
        ));
        c.tokenizer = session.tokenizer(&texts)?;
        any = true;
    }
    if !any {
        return Err(CliError::Input(
            "--count-api anthropic counts Claude models: name one with --model (e.g. --model claude-sonnet-4-5)".into(),
        ));
    }
    Ok(())
}

/// The column for a request's own model, added when new.
fn request_column(
    request: &ChatRequest,
    registry: &ModelRegistry,
    columns: &mut Vec<Column>,
) -> Result<usize, String> {
    let wanted = match &request.model {
        Some(name) => Column::model(registry.get(name).map_err(|e| e.to_string())?)?,
        None => Column::encoding(Tokenizer::Exact(Encoding::O200kBase)),
    };
    let label = wanted.label();
    let is_model = wanted.model.is_some();
    if let Some(i) = columns
        .iter()
        .position(|c| c.label() == label && c.model.is_some() == is_model)
    {
        return Ok(i);
    }
    columns.push(wanted);
    Ok(columns.len() - 1)
}

/// A request read for counting, with its format.
type ReadRequest = (ChatRequest, RequestFormat);

/// A request's error without its path (the error line names it):
/// `line L, column C: what is wrong`.
fn request_error(e: crate::input::InputError) -> String {
    use crate::input::InputError;
    match e {
        InputError::Syntax {
            line,
            column,
            message,
            ..
        } => format!("line {line}, column {column}: {message}"),
        InputError::Format { message, .. } => message,
        other => other.to_string(),
    }
}

/// One counted file: a cell per column (`None`: not counted in it).
struct Row {
    display: String,
    json_path: String,
    cells: Vec<Option<Cell>>,
}

struct Cell {
    tokens: usize,
    accuracy: Accuracy,
    chat: Option<ChatCount>,
}

struct Totals {
    tokens: usize,
    /// Exact when every cell is; otherwise the first estimate's accuracy
    /// (the cells of one column share the column's band).
    accuracy: Accuracy,
}

fn totals(rows: &[Row], col: usize) -> Totals {
    let cells: Vec<&Cell> = rows.iter().filter_map(|r| r.cells[col].as_ref()).collect();
    Totals {
        tokens: cells.iter().map(|c| c.tokens).sum(),
        accuracy: cells
            .iter()
            .map(|c| c.accuracy)
            .find(|a| !a.is_exact())
            .unwrap_or(Accuracy::Exact),
    }
}

fn share(tokens: usize, window: Option<usize>) -> Option<f64> {
    window.map(|w| tokens as f64 / w as f64)
}

fn cost(tokens: usize, column: &Column) -> Option<f64> {
    column
        .model
        .as_ref()
        .and_then(|m| m.input_cost(tokens))
        .map(|c| (c * 1e10).round() / 1e10)
}

#[derive(Serialize)]
struct CountReport<'a> {
    schema: &'static str,
    results: Vec<ResultJson<'a>>,
    errors: Vec<ErrorJson<'a>>,
    /// Files in folders that are not text (binary, not UTF-8) or could not
    /// be read: not counted, and not errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<ErrorJson<'a>>,
}

#[derive(Serialize)]
struct ResultJson<'a> {
    model: Option<&'a str>,
    encoding: String,
    exact: bool,
    /// The expected relative error of an estimate (`0.1` for ±10 %); null
    /// when exact.
    error_band: Option<ErrorBand>,
    /// Where the counts come from when not from a local tokenizer
    /// (`anthropic count_tokens`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    count_source: Option<&'a str>,
    context_window: Option<usize>,
    files: Vec<FileJson<'a>>,
    /// With `--top N`: the files left out of `files` (`total` counts them).
    #[serde(skip_serializing_if = "Option::is_none")]
    omitted: Option<Omitted>,
    total: usize,
    /// `total / context_window`.
    context_share: Option<f64>,
    input_price_per_million: Option<f64>,
    /// Input cost of `total` at the list price.
    cost_usd: Option<f64>,
}

#[derive(Serialize)]
struct Omitted {
    files: usize,
    tokens: usize,
}

#[derive(Serialize)]
struct FileJson<'a> {
    path: &'a str,
    tokens: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat: Option<&'a ChatCount>,
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    path: &'a str,
    error: &'a str,
}

fn write_json(
    out: &mut impl Write,
    columns: &[Column],
    rows: &[Row],
    shown: usize,
    errors: &[(String, String)],
    skipped: &[(String, String)],
) -> Result<(), CliError> {
    let results = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let total = totals(rows, i).tokens;
            let rest = &rows[shown..];
            let window = c.model.as_ref().and_then(|m| m.context_window);
            ResultJson {
                model: c.model.as_ref().map(|m| m.name.as_str()),
                encoding: c.tokenizer.name(),
                exact: c.tokenizer.is_exact(),
                error_band: c.tokenizer.error_band(),
                count_source: c.tokenizer.api().map(|a| a.source.as_str()),
                context_window: window,
                files: rows[..shown]
                    .iter()
                    .filter_map(|r| {
                        r.cells[i].as_ref().map(|cell| FileJson {
                            path: &r.json_path,
                            tokens: cell.tokens,
                            chat: cell.chat.as_ref(),
                        })
                    })
                    .collect(),
                omitted: (!rest.is_empty()).then(|| Omitted {
                    files: rest.len(),
                    tokens: totals(rest, i).tokens,
                }),
                total,
                context_share: share(total, window),
                input_price_per_million: c.model.as_ref().and_then(|m| m.input_price),
                cost_usd: cost(total, c),
            }
        })
        .collect();
    let report = CountReport {
        schema: COUNT_SCHEMA,
        results,
        errors: errors
            .iter()
            .map(|(path, error)| ErrorJson { path, error })
            .collect(),
        skipped: skipped
            .iter()
            .map(|(path, error)| ErrorJson { path, error })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report).map_err(io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

fn percent(share: f64) -> String {
    let pct = share * 100.0;
    if pct > 0.0 && pct < 0.01 {
        "<0.01%".to_string()
    } else {
        format!("{pct:.2}%")
    }
}

fn write_text(
    out: &mut impl Write,
    columns: &[Column],
    rows: &[Row],
    shown: usize,
    chat: bool,
    color: bool,
) -> Result<(), CliError> {
    let mut spec: Vec<(&str, Align)> = vec![("file", Align::Left)];
    let labels: Vec<String> = columns.iter().map(Column::label).collect();
    spec.extend(labels.iter().map(|l| (l.as_str(), Align::Right)));
    let mut table = Table::new(&spec);
    let any_model = columns.iter().any(|c| c.model.is_some());
    if any_model {
        let mut second = vec![if chat { "(prompt tokens)" } else { "" }.to_string()];
        second.extend(columns.iter().map(|c| c.tokenizer.to_string()));
        table.header(second);
    }
    for row in &rows[..shown] {
        let mut cells = vec![row.display.clone()];
        cells.extend(row.cells.iter().map(|c| match c {
            Some(c) => c.accuracy.count_label(c.tokens),
            None => "-".to_string(),
        }));
        table.row(cells);
    }
    let rest = &rows[shown..];
    if !rest.is_empty() {
        let n = rest.len();
        let mut cells = vec![format!(
            "… {} more file{} (--top {})",
            thousands(n),
            if n == 1 { "" } else { "s" },
            shown
        )];
        cells.extend((0..columns.len()).map(|i| {
            let t = totals(rest, i);
            t.accuracy.count_label(t.tokens)
        }));
        table.row(cells);
    }
    let totals: Vec<Totals> = (0..columns.len()).map(|i| totals(rows, i)).collect();
    table.gap();
    let mut total_row = vec![format!("total ({} files)", thousands(rows.len()))];
    if rows.len() == 1 {
        total_row[0] = "total".to_string();
    }
    total_row.extend(totals.iter().map(|t| t.accuracy.count_label(t.tokens)));
    table.row(total_row);
    if any_model {
        let per_column = |f: &dyn Fn(&Column, &Totals) -> Option<String>| -> Vec<String> {
            columns
                .iter()
                .zip(&totals)
                .map(|(c, t)| f(c, t).unwrap_or_else(|| "-".to_string()))
                .collect()
        };
        let mut window = vec!["context window".to_string()];
        window.extend(per_column(&|c, _| {
            c.model.as_ref()?.context_window.map(thousands)
        }));
        table.row(window);
        let mut used = vec!["share of window".to_string()];
        used.extend(per_column(&|c, t| {
            let s = share(t.tokens, c.model.as_ref()?.context_window)?;
            Some(t.accuracy.label(&percent(s)))
        }));
        table.row(used);
        let mut price = vec!["input cost".to_string()];
        price.extend(per_column(&|c, t| {
            let x = cost(t.tokens, c)?;
            Some(t.accuracy.label(&usd(x)))
        }));
        table.row(price);
    }
    table.write(out, color)?;

    if chat && rows.len() == 1 {
        for (c, cell) in columns.iter().zip(&rows[0].cells) {
            if let Some(count) = cell.as_ref().and_then(|c| c.chat.as_ref()) {
                writeln!(out)?;
                write_breakdown(out, &rows[0].display, c, count, color)?;
            }
        }
    }
    Ok(())
}

/// Per-message breakdown of one chat request for one column.
fn write_breakdown(
    out: &mut impl Write,
    path: &str,
    column: &Column,
    count: &ChatCount,
    color: bool,
) -> Result<(), CliError> {
    writeln!(out, "{path} for {}:", escape::line(&column.label()))?;
    // Images, documents and thinking get a column when a message has any.
    let other = count.messages.iter().any(|m| m.extra > 0);
    let mut headers = vec![
        ("#", Align::Right),
        ("role", Align::Left),
        ("name", Align::Left),
        ("content", Align::Right),
        ("tool calls", Align::Right),
    ];
    if other {
        headers.push(("images, other", Align::Right));
    }
    headers.extend([("framing", Align::Right), ("total", Align::Right)]);
    let mut table = Table::new(&headers);
    let accuracy = Accuracy::new(count.exact, column.tokenizer.error_band());
    let mark = |n: usize| accuracy.count_label(n);
    for (i, m) in count.messages.iter().enumerate() {
        let mut row = vec![
            (i + 1).to_string(),
            m.role.clone(),
            m.name.clone().unwrap_or_default(),
            mark(m.content),
            mark(m.tool_calls),
        ];
        if other {
            row.push(mark(m.extra));
        }
        row.extend([mark(m.overhead), mark(m.total)]);
        table.row(row);
    }
    let extra = |label: &str, n: usize| {
        let mut row = vec![String::new(), label.to_string()];
        row.resize(headers.len() - 1, String::new());
        row.push(mark(n));
        row
    };
    table.row(extra("tool definitions", count.tools));
    table.row(extra("reply priming", count.reply_priming));
    table.row(extra("total", count.total));
    table.write(out, color)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::inputs::decode;
    use super::*;

    #[test]
    fn decode_reports_nul_and_utf8_positions() {
        assert_eq!(decode(b"a\r\nb".to_vec()).unwrap(), "a\r\nb");
        let e = decode(b"ab\0c".to_vec()).unwrap_err();
        assert!(e.contains("offset 2"), "{e}");
        let e = decode(b"ok\nh\xc3\xa9\xff".to_vec()).unwrap_err();
        assert!(e.contains("byte offset 6 (line 2, column 3)"), "{e}");
    }

    #[test]
    fn percent_shows_tiny_shares() {
        assert_eq!(percent(0.0), "0.00%");
        assert_eq!(percent(0.000_01), "<0.01%");
        assert_eq!(percent(0.5), "50.00%");
    }
}
