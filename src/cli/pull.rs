//! `tokenscope models pull NAME|ORG/REPO`: a model's tokenizer from the
//! Hugging Face hub into tokenscope's cache.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;

use super::args::PullArgs;
use super::{CliError, ModelsArgs};
use crate::hub::{self, CacheKind, HubCaches, PullOptions, RepoId};
use crate::tokens::FileTokenizer;

/// The schema tag of `models pull --json`.
pub const PULL_SCHEMA: &str = "tokenscope.pull/1";

#[derive(Serialize)]
struct PullJson {
    schema: &'static str,
    /// The registry model pulled for, or null for a repository.
    model: Option<String>,
    repo: String,
    file: String,
    path: String,
    /// `tokenscope` or `hugging_face`.
    cache: CacheKind,
    commit: String,
    size: u64,
    /// Bytes downloaded by this run (0 when the file was already there).
    downloaded: u64,
}

/// Runs `tokenscope models pull`.
pub fn run(models: &ModelsArgs, args: &PullArgs) -> Result<ExitCode, CliError> {
    let registry = super::models::load_registry(models.shared.models_file.as_deref())?;
    let (model, repo) = resolve(&registry, &args.name)?;
    let files: Vec<String> = if args.files.is_empty() {
        vec![hub::DEFAULT_FILE.to_string()]
    } else {
        args.files.clone()
    };
    for f in &files {
        hub::validate_file_name(f).map_err(|e| CliError::Usage(e.to_string()))?;
    }
    hub::validate_revision(&args.revision).map_err(|e| CliError::Usage(e.to_string()))?;
    let names: Vec<&str> = files.iter().map(String::as_str).collect();
    let caches = HubCaches::from_env();

    let result = match (!args.force)
        .then(|| caches.find(&repo, Some(&args.revision), &names))
        .flatten()
    {
        Some(found) => {
            let size = std::fs::metadata(&found.path).map_or(0, |m| m.len());
            PullJson {
                schema: PULL_SCHEMA,
                model: model.clone(),
                repo: repo.to_string(),
                file: found.file,
                path: found.path.display().to_string(),
                cache: found.cache,
                commit: found.commit,
                size,
                downloaded: 0,
            }
        }
        None => {
            let cache_dir = HubCaches::own_dir().ok_or_else(|| {
                CliError::Input("no cache folder: neither XDG_CACHE_HOME nor HOME is set".into())
            })?;
            let mut options = PullOptions::from_env(cache_dir);
            options.revision = args.revision.clone();
            options.files = files.clone();
            let mut bar = Bar::new(&repo, &files[0]);
            let pulled = hub::pull(&repo, &options, &mut |done, total| bar.draw(done, total));
            bar.clear();
            let pulled = pulled?;
            PullJson {
                schema: PULL_SCHEMA,
                model: model.clone(),
                repo: repo.to_string(),
                file: pulled.file,
                path: pulled.path.display().to_string(),
                cache: CacheKind::Tokenscope,
                commit: pulled.commit,
                size: pulled.size,
                downloaded: pulled.downloaded,
            }
        }
    };

    // The file must be one tokenscope can count with.
    let tokenizer = FileTokenizer::load_regular(&result.path).map_err(|e| {
        CliError::Input(format!(
            "models pull: {} was downloaded and verified, but it cannot be used: {e}",
            result.file
        ))
    })?;

    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &result).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        let how = if result.downloaded > 0 {
            format!("downloaded {}", human(result.downloaded))
        } else {
            format!("already in the {}", result.cache)
        };
        writeln!(
            out,
            "{}",
            crate::text::escape::line(&format!(
                "{repo} {} ({}, commit {}): {how}",
                result.file,
                human(result.size),
                &result.commit[..12.min(result.commit.len())]
            ))
        )?;
        writeln!(out, "{}", crate::text::escape::line(&result.path))?;
        let hello = tokenizer.count("Hello, world!");
        match &model {
            Some(name) => writeln!(
                out,
                "{name} now counts exactly with it (`Hello, world!` is {hello} tokens)."
            )?,
            None => writeln!(
                out,
                "Count with it: --tokenizer-file {} (`Hello, world!` is {hello} tokens).",
                crate::text::escape::line(&result.path)
            )?,
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The registry model (if NAME is one) and the repository to pull.
fn resolve(
    registry: &crate::tokens::ModelRegistry,
    name: &str,
) -> Result<(Option<String>, RepoId), CliError> {
    match registry.get(name) {
        Ok(spec) => {
            let Some(repo) = &spec.repo else {
                return Err(CliError::Input(format!(
                    "model `{}` names no Hugging Face repository ({}); give a repository as `org/name`, or add `repo = \"org/name\"` to the model in your models.toml",
                    spec.name,
                    if spec.provider == "openai" || spec.is_exact() {
                        "it already counts exactly"
                    } else {
                        "its provider publishes no tokenizer"
                    }
                )));
            };
            let repo = repo
                .parse::<RepoId>()
                .map_err(|e| CliError::Input(e.to_string()))?;
            Ok((Some(spec.name.clone()), repo))
        }
        Err(unknown) if name.contains('/') => {
            let repo = name.trim().parse::<RepoId>().map_err(|e| {
                CliError::Input(format!("{e} (and it is not a model in the registry)"))
            })?;
            let _ = unknown;
            Ok((None, repo))
        }
        Err(unknown) => Err(CliError::Input(format!(
            "{unknown}; or give a Hugging Face repository as `org/name`"
        ))),
    }
}

/// A progress line on standard error, drawn only on a terminal and at most
/// ten times a second.
struct Bar {
    line: super::status_line::StatusLine,
    label: String,
    last: Option<Instant>,
}

impl Bar {
    fn new(repo: &RepoId, file: &str) -> Bar {
        Bar {
            line: super::status_line::StatusLine::new(),
            label: crate::text::escape::line(&format!("{repo} {file}")).into_owned(),
            last: None,
        }
    }

    fn draw(&mut self, done: u64, total: Option<u64>) {
        if !self.line.is_on() {
            return;
        }
        let finished = total.is_some_and(|t| done >= t);
        if !finished && self.last.is_some_and(|l| l.elapsed().as_millis() < 100) {
            return;
        }
        self.last = Some(Instant::now());
        let line = match total {
            Some(t) if t > 0 => {
                let frac = (done as f64 / t as f64).clamp(0.0, 1.0);
                let width = 24;
                let fill = (frac * width as f64).round() as usize;
                format!(
                    "{}  [{}{}] {:>3}%  {} / {}",
                    self.label,
                    "#".repeat(fill),
                    "-".repeat(width - fill),
                    (frac * 100.0).floor() as u32,
                    human(done),
                    human(t)
                )
            }
            _ => format!("{}  {}", self.label, human(done)),
        };
        self.line.show(&line);
    }

    fn clear(&mut self) {
        self.line.clear();
    }
}

/// A size in bytes for people: `532 B`, `9.1 MB` (powers of 1000).
fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}
