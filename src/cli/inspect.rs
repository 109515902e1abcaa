//! Opening the inspector from the command line: check the options cheaply
//! (the session's [`Setup`]: registry, profile, flags; then the paths), then load the inputs off the UI thread
//! through a [`Reloader`] (which keeps the last good set) and watch them
//! (and the files their items were read from, and the usage history file
//! for the History view) for changes.

use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use crate::report::should_color;
use crate::session::{ApiSession, Setup, set_texts};
use crate::tokens::ModelSpec;
use crate::tui::{HistoryOptions, InspectOptions, Outcome, TuiError, WatchStarter, run};
use crate::watch::{DEFAULT_DEBOUNCE, ReloadOutcome, Reloader, WatchEvent, Watcher};

use super::prepare::{color_mode, settings};
use super::{CliError, PackArgs};

/// Whether the inspector can run: stdin and stdout are both terminals.
/// Otherwise (pipes, scripts, tests) the default command prints the text
/// report instead.
pub fn is_interactive() -> bool {
    io::stdout().is_terminal() && io::stdin().is_terminal()
}

/// Opens the inspector on `args.paths` with the pack options, `--theme`
/// and `--history` (the History view's file; default: the same as
/// `tokenscope history`).
pub fn launch(
    args: &PackArgs,
    theme: Option<String>,
    history: Option<PathBuf>,
) -> Result<ExitCode, CliError> {
    let setup = Arc::new(Setup::new(&settings(args)?)?);
    let registry = Arc::new(setup.registry.clone());
    let history = HistoryOptions {
        registry: Some(registry.clone()),
        ..HistoryOptions::new(history)
    };
    // The history file is watched with the files items were read from.
    let history_file = history.file.clone();
    if args.paths.is_empty() {
        // The same message as `pack`.
        setup.load()?;
    }
    for p in &args.paths {
        if !p.exists() {
            return Err(CliError::Input(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    let mut models: Vec<ModelSpec> = registry.models().to_vec();
    // `--tokenizer-file`: the file counts instead of any model's tokenizer,
    // as in `pack` (the model still gives the window and the price).
    if let Some(path) = &args.tokenizer_file {
        if args.count_api.is_some() {
            return Err(CliError::Usage(
                "--count-api counts with the model's API; leave out --tokenizer-file".into(),
            ));
        }
        count_with_file(&mut models, crate::tokens::Tokenizer::from_file(path)?);
    }
    // `--count-api`: the model counts from API counts that each load of the
    // inputs fetches first (on the loader's thread, never the UI's).
    let api = match args.count_api {
        None => None,
        Some(choice) => {
            let name = setup
                .settings
                .overrides
                .model
                .clone()
                .or_else(|| setup.profile.as_ref().and_then(|p| p.settings.model.clone()))
                .ok_or_else(|| {
                    CliError::Usage(
                        "--count-api anthropic counts Claude models: name one with --model (e.g. --model claude-sonnet-4-5)".into(),
                    )
                })?;
            let spec = registry.get(&name)?;
            let session = ApiSession::new(choice, spec)?;
            let tokenizer = session.empty_tokenizer();
            for m in models.iter_mut().filter(|m| m.name == spec.name) {
                m.counting = crate::tokens::ModelCounting::Tokenizer(tokenizer.clone());
            }
            Some((Arc::new(session), tokenizer))
        }
    };
    let options = setup.load.clone();

    let reloader = Arc::new(Mutex::new(Reloader::new(
        args.paths.clone(),
        options.clone(),
    )));
    let watcher: Arc<Mutex<Option<Watcher>>> = Arc::new(Mutex::new(None));
    let loader = {
        let reloader = reloader.clone();
        let watcher = watcher.clone();
        let history_file = history_file.clone();
        let setup = setup.clone();
        Arc::new(move |changed: &[PathBuf]| {
            let mut r = reloader.lock().unwrap_or_else(|e| e.into_inner());
            let outcome = if changed.is_empty() {
                r.load()
            } else {
                r.reload(changed)
            };
            match outcome {
                ReloadOutcome::Unaffected => Ok(None),
                ReloadOutcome::Failed => Err(r.error().map_or_else(
                    || "the inputs could not be loaded".to_string(),
                    |e| e.to_string(),
                )),
                ReloadOutcome::Reloaded => {
                    // Items read from other files: watch those too.
                    if let Some(w) = watcher.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                        let _ = w.track_files(with_file(r.referenced_files(), &history_file));
                    }
                    let set = r.current().cloned().ok_or("nothing was loaded")?;
                    let (mut set, defaulted) = setup.ready(set).map_err(|e| e.to_string())?;
                    if defaulted {
                        set.warnings.push(format!(
                            "no budget or model given: the budget is the context window of {} minus the output reserve; `b` sets a budget, `m` picks a model",
                            crate::session::DEFAULT_MODEL
                        ));
                    }
                    if let Some((session, tokenizer)) = &api {
                        session
                            .measure(tokenizer, &set_texts(&set))
                            .map_err(|e| e.to_string())?;
                    }
                    Ok(Some(set))
                }
            }
        })
    };
    let watch: WatchStarter = {
        let paths = args.paths.clone();
        Box::new(move |sink| {
            let mut w = Watcher::new(&paths, &options, DEFAULT_DEBOUNCE, move |event| {
                sink(match event {
                    WatchEvent::Changed(paths) => Ok(paths),
                    WatchEvent::Error(e) => Err(e),
                })
            })
            .map_err(|e| e.to_string())?;
            let files = reloader
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .referenced_files();
            let _ = w.track_files(with_file(files, &history_file));
            *watcher.lock().unwrap_or_else(|e| e.into_inner()) = Some(w);
            Ok(Box::new(watcher) as Box<dyn std::any::Any>)
        })
    };
    let profile_file = match &setup.config_file {
        Some(file) => file.clone(),
        None => std::env::current_dir()?.join("tokenscope.toml"),
    };
    let options = InspectOptions {
        inputs: args.paths.clone(),
        loader,
        models,
        theme,
        color: should_color(color_mode(args.shared.color), true),
        profile_file,
        watch: Some(watch),
        history,
        optimal_deadline: args
            .optimal_deadline
            .map_or(Some(crate::engine::INSPECTOR_OPTIMAL_DEADLINE), |d| d.0),
        summarizer: setup.summarizer.clone(),
    };
    match run(options) {
        Ok(Outcome::Quit) => Ok(ExitCode::SUCCESS),
        // 128 + SIGTERM, as a shell reports a process ended by it.
        Ok(Outcome::Terminated) => Ok(ExitCode::from(crate::session::exit::TERMINATED)),
        Err(TuiError::Io(e)) => Err(CliError::Io(e)),
        Err(e) => Err(CliError::Usage(e.to_string())),
    }
}

/// Makes every model count with `tokenizer` (a `--tokenizer-file`).
fn count_with_file(models: &mut [ModelSpec], tokenizer: crate::tokens::Tokenizer) {
    for m in models {
        m.counting = crate::tokens::ModelCounting::Tokenizer(tokenizer.clone());
    }
}

/// The files to watch besides the inputs: those items were read from, and
/// the usage history file.
fn with_file(mut files: Vec<PathBuf>, extra: &Option<PathBuf>) -> Vec<PathBuf> {
    files.extend(extra.iter().cloned());
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::{Encoding, ModelCounting, ModelRegistry, Tokenizer};

    #[test]
    fn a_tokenizer_file_counts_for_every_model_as_in_pack() {
        let mut models = ModelRegistry::builtin().models().to_vec();
        let file = Tokenizer::Exact(Encoding::Cl100kBase);
        count_with_file(&mut models, file.clone());
        assert!(models.len() > 3);
        for m in &models {
            assert_eq!(
                m.counting,
                ModelCounting::Tokenizer(file.clone()),
                "{}",
                m.name
            );
        }
        // The window and the price stay the model's.
        let gpt4o = models.iter().find(|m| m.name == "gpt-4o").unwrap();
        assert_eq!(gpt4o.context_window, Some(128_000));
    }
}
