//! `tokenscope calibrate MODEL PATHS...`: a Claude model's ratio and error
//! band measured on the user's own files through Anthropic's count_tokens
//! API, written into the user's models.toml (see [`crate::calibrate`]).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::models::{Align, Table, load_registry, use_color};
use super::{CliError, SharedArgs};
use crate::calibrate::{Sample, calibrate, update_models_toml};
use crate::session::{ApiSession, CountApiChoice};
use crate::text::thousands;
use crate::tokens::{Encoding, Estimate, ModelCounting, ModelRegistry, Tokenizer};

/// The schema tag of `calibrate --json`.
pub const CALIBRATE_SCHEMA: &str = "tokenscope.calibrate/1";

/// `tokenscope calibrate`.
#[derive(Debug, Clone, Args)]
pub struct CalibrateArgs {
    /// The Claude model to calibrate (e.g. claude-sonnet-4-5).
    pub model: String,
    /// Files and folders to measure on (folders are walked; .gitignore is
    /// respected, hidden, binary and empty files are skipped).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print the measurement without writing the models.toml.
    #[arg(long)]
    pub dry_run: bool,
    /// JSON output (`tokenscope.calibrate/1`).
    #[arg(long)]
    pub json: bool,
    /// Measure at most this many files (the first ones found).
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub max_files: usize,
    /// Shared options (`--models-file`: the file to write instead of the
    /// config-dir models.toml).
    #[command(flatten)]
    pub shared: SharedArgs,
}

#[derive(Serialize)]
struct CalibrateJson {
    schema: &'static str,
    model: String,
    base: String,
    ratio: f64,
    error: f64,
    files: Vec<FileJson>,
    total_exact: usize,
    total_base: usize,
    skipped: usize,
    /// The models.toml written; null with --dry-run.
    written: Option<String>,
}

#[derive(Serialize)]
struct FileJson {
    path: String,
    exact: usize,
    base: usize,
    /// Relative error of the calibrated estimate; null when `exact` is 0.
    error: Option<f64>,
}

/// Runs `tokenscope calibrate`.
pub fn run(args: &CalibrateArgs) -> Result<ExitCode, CliError> {
    let registry = load_registry(args.shared.models_file.as_deref())?;
    let spec = registry.get(&args.model)?.clone();
    let base = match &spec.counting {
        ModelCounting::Tokenizer(Tokenizer::Estimate(Estimate::Scaled { base, .. }, _)) => *base,
        _ => Encoding::O200kBase,
    };
    let (files, skipped) = collect(&args.paths, args.max_files)?;
    if files.is_empty() {
        return Err(CliError::Input(format!(
            "calibrate: no text file to measure in {} ({skipped} skipped: binary, empty or unreadable)",
            args.paths
                .iter()
                .map(|p| crate::text::escape::line(&p.display().to_string()).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let session = ApiSession::new(CountApiChoice::Anthropic, &spec)?.with_progress(Some(
        std::sync::Arc::new(super::status_line::CountApiLine::new()),
    ));
    let texts: Vec<&str> = files.iter().map(|(_, t)| t.as_str()).collect();
    let measured = session.tokenizer(&texts)?;
    let api = measured
        .api()
        .ok_or_else(|| CliError::Input("calibrate: no API counts".into()))?;
    let base_tok = Tokenizer::Exact(base);
    let samples: Vec<Sample> = files
        .iter()
        .map(|(path, text)| Sample {
            name: path.display().to_string(),
            exact: api.get(text).unwrap_or(0),
            base: base_tok.count(text),
        })
        .collect();
    let c = calibrate(base, &samples).map_err(|e| CliError::Input(format!("calibrate: {e}")))?;

    let written = if args.dry_run {
        None
    } else {
        let target = match &args.shared.models_file {
            Some(p) => p.clone(),
            None => ModelRegistry::config_file().ok_or_else(|| {
                CliError::Input(
                    "calibrate: no config folder (HOME is not set); give --models-file FILE".into(),
                )
            })?,
        };
        let date = time::OffsetDateTime::now_utc().date();
        let note = format!(
            "calibrated by `tokenscope calibrate` on {} files ({} tokens), {date}: ratio = total API count / total {} count, error = 95th percentile of the per-file error",
            samples.len(),
            c.total_exact,
            base.name()
        );
        write(&target, &spec.name, &spec.aliases, &c, &note)?;
        Some(target)
    };

    let mut out = io::stdout().lock();
    if args.json {
        let report = CalibrateJson {
            schema: CALIBRATE_SCHEMA,
            model: spec.name.clone(),
            base: base.name().to_string(),
            ratio: c.ratio,
            error: c.error,
            files: samples
                .iter()
                .zip(&c.errors)
                .map(|(s, e)| FileJson {
                    path: s.name.clone(),
                    exact: s.exact,
                    base: s.base,
                    error: *e,
                })
                .collect(),
            total_exact: c.total_exact,
            total_base: c.total_base,
            skipped,
            written: written.as_ref().map(|p| p.display().to_string()),
        };
        serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        let base_header = base.name().to_string();
        let mut table = Table::new(&[
            ("file", Align::Left),
            ("anthropic", Align::Right),
            (base_header.as_str(), Align::Right),
            ("ratio", Align::Right),
            ("error", Align::Right),
        ]);
        for (s, e) in samples.iter().zip(&c.errors) {
            table.row(vec![
                s.name.clone(),
                thousands(s.exact),
                thousands(s.base),
                ratio_of(s.exact, s.base),
                e.map_or_else(|| "-".into(), |e| format!("{:.1}%", e * 100.0)),
            ]);
        }
        table.gap();
        table.row(vec![
            format!("total ({} files)", samples.len()),
            thousands(c.total_exact),
            thousands(c.total_base),
            format!("{}", c.ratio),
            String::new(),
        ]);
        table.write(&mut out, use_color(args.shared.color))?;
        writeln!(
            out,
            "\n{}: estimate = {} × {}, error ±{:.1}% (95th percentile of the per-file error of that estimate{})",
            spec.name,
            base.name(),
            c.ratio,
            c.error * 100.0,
            if skipped > 0 {
                format!("; {skipped} files skipped")
            } else {
                String::new()
            }
        )?;
        match &written {
            Some(p) => writeln!(
                out,
                "Written to {}; estimates for {} now carry this band.",
                crate::text::escape::line(&p.display().to_string()),
                spec.name
            )?,
            None => writeln!(out, "Not written (--dry-run).")?,
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn ratio_of(exact: usize, base: usize) -> String {
    if base == 0 {
        "-".into()
    } else {
        format!("{:.3}", exact as f64 / base as f64)
    }
}

/// The text files under `paths` (at most `max`), and how many were
/// skipped.
fn collect(paths: &[PathBuf], max: usize) -> Result<(Vec<(PathBuf, String)>, usize), CliError> {
    let mut files = Vec::new();
    let mut skipped = 0;
    for root in paths {
        if !root.exists() {
            return Err(CliError::Input(format!(
                "{}: no such file or directory",
                crate::text::escape::line(&root.display().to_string())
            )));
        }
        let mut found: Vec<PathBuf> = if root.is_dir() {
            crate::input::directory::walker(root, false)
                .build()
                .flatten()
                .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
                .map(|e| e.into_path())
                .collect()
        } else {
            vec![root.clone()]
        };
        found.sort();
        for path in found {
            if files.len() >= max {
                return Ok((files, skipped));
            }
            match crate::fsio::read_text_file(&path, crate::fsio::Limit::Input) {
                Ok(text) if !text.trim().is_empty() => files.push((path, text)),
                _ => skipped += 1,
            }
        }
    }
    Ok((files, skipped))
}

/// Writes the calibration into `path` (created if missing), under a lock,
/// atomically, after checking that the result is a valid registry.
fn write(
    path: &Path,
    name: &str,
    aliases: &[String],
    c: &crate::calibrate::Calibration,
    note: &str,
) -> Result<(), CliError> {
    let err = |e: &dyn std::fmt::Display| {
        CliError::Input(format!(
            "calibrate: {}: {e}",
            crate::text::escape::line(&path.display().to_string())
        ))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    }
    let _lock = crate::fsio::lock_for_update(path).map_err(|e| err(&e))?;
    let text = match crate::fsio::read_text_file(path, crate::fsio::Limit::Input) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(err(&e)),
    };
    let updated = update_models_toml(&text, path, name, aliases, c, note)
        .map_err(|e| CliError::Input(e.to_string()))?;
    let mut check = ModelRegistry::builtin();
    check
        .extend_from_str(&updated, &path.display().to_string())
        .map_err(|e| {
            CliError::Input(format!("calibrate: the updated file would be invalid: {e}"))
        })?;
    crate::fsio::write_file(path, updated.as_bytes()).map_err(|e| err(&e))
}
