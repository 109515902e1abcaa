//! Opening the inspector from the command line: check the options cheaply
//! (registry, profile, flags, paths), then load the inputs off the UI thread.

use std::io::{self, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::prepare::{color_mode, load_inputs, overrides, resolve_tokenizer};
use crate::cli::{CliError, PackArgs};
use crate::input::profile::{ProjectConfig, SettingsError, apply};
use crate::report::should_color;
use crate::tokens::{ModelRegistry, ModelSpec};

use super::{InspectOptions, ModelChoice, Outcome, TuiError, run};

/// Whether the inspector can run: stdin and stdout are both terminals.
/// Otherwise (pipes, scripts, tests) the default command prints the text
/// report instead.
pub fn is_interactive() -> bool {
    io::stdout().is_terminal() && io::stdin().is_terminal()
}

impl From<&ModelSpec> for ModelChoice {
    fn from(m: &ModelSpec) -> ModelChoice {
        ModelChoice {
            name: m.name.clone(),
            aliases: m.aliases.clone(),
            provider: m.provider.clone(),
            tokenizer: m.tokenizer(),
            context_window: m.context_window,
            input_price: m.input_price,
        }
    }
}

/// Opens the inspector on `args.paths` with the pack options and `--theme`.
pub fn launch(args: &PackArgs, theme: Option<String>) -> Result<ExitCode, CliError> {
    let bad = |e: &dyn std::fmt::Display| CliError::Input(e.to_string());
    let registry = ModelRegistry::load(args.shared.models_file.as_deref()).map_err(|e| bad(&e))?;
    let cwd = std::env::current_dir()?;
    let config = ProjectConfig::discover(&cwd).map_err(|e| bad(&e))?;
    let profile = match (&args.profile, &config) {
        (None, _) => None,
        (Some(name), Some(c)) => Some(c.profile(name).map_err(|e| bad(&e))?.clone()),
        (Some(name), None) => {
            return Err(bad(&SettingsError::NoConfig {
                name: name.clone(),
                start: cwd,
            }));
        }
    };
    let overrides = overrides(args)?;
    if args.paths.is_empty() {
        // Same message as `pack`.
        load_inputs(&args.paths)?;
    }
    for p in &args.paths {
        if !p.exists() {
            return Err(CliError::Input(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    let models: Vec<ModelChoice> = registry.models().iter().map(ModelChoice::from).collect();
    let paths = args.paths.clone();
    let loader_registry = registry.clone();
    let loader = Arc::new(move || {
        let mut set = load_inputs(&paths).map_err(|e| e.to_string())?;
        apply(&mut set, profile.as_ref(), &overrides).map_err(|e| e.to_string())?;
        resolve_tokenizer(&set, &loader_registry).map_err(|e| e.to_string())?;
        Ok(set)
    });
    let profile_file = config
        .map(|c| c.file)
        .unwrap_or_else(|| cwd.join("tokenscope.toml"));
    let options = InspectOptions {
        inputs: args.paths.clone(),
        loader,
        models,
        theme,
        color: should_color(color_mode(args.shared.color), true),
        profile_file,
        watch: None,
    };
    match run(options) {
        Ok(Outcome::Quit) => Ok(ExitCode::SUCCESS),
        // 128 + SIGTERM, as a shell reports a process ended by it.
        Ok(Outcome::Terminated) => Ok(ExitCode::from(143)),
        Err(TuiError::Io(e)) => Err(CliError::Io(e)),
        Err(e) => Err(CliError::Input(e.to_string())),
    }
}
