//! The session: from settings (what the command line, the inspector or
//! another program asks for) to a ready-to-run item set, tokenizer and
//! options. Both front ends go through it, so that every setting behaves
//! the same in `pack`, `check`, `watch` and the inspector.
//!
//! The steps, each shared:
//! 1. [`Setup::new`] checks what is cheap to check before any input is
//!    read: the model registry, `tokenscope.toml` and the profile, the
//!    flags, the summarizer command.
//! 2. [`Setup::ready`] layers the profile and the flags over a loaded item
//!    set and applies the one fallback policy for inputs that name no
//!    budget ([`default_model`]); it is what the inspector's loader runs
//!    after every load.
//! 3. [`Session::open`] (and [`Session::with_set`] after a change) also
//!    picks the tokenizer ([`resolve_tokenizer`]) and settles the total, for
//!    the commands that run the engine once or per change.
//!
//! Layers: `tokens` -> `engine` -> `input`/`report`/`history` -> `session`
//! -> `cli`/`tui`. Nothing here draws on a terminal or parses arguments.
//!
//! What `tokenscope pack samples/docs/docs.toml --budget 8000 --strategy
//! optimal` does, from another program (it builds with
//! `default-features = false`):
//!
//! ```
//! use tokenscope::input::profile::Overrides;
//! use tokenscope::session::{Session, Settings};
//!
//! let settings = Settings {
//!     paths: vec!["samples/docs/docs.toml".into()],
//!     overrides: Overrides {
//!         budget: Some(8_000),
//!         strategy: Some("optimal".parse()?),
//!         ..Overrides::default()
//!     },
//!     ..Settings::default()
//! };
//! let session = Session::open(&settings)?;
//! let plan = session.pack()?;
//! assert!(plan.totals.used <= 8_000);
//! let json = tokenscope::report::render_report(
//!     &plan,
//!     tokenscope::report::Format::Json,
//!     &tokenscope::report::ReportOptions::default(),
//! );
//! assert!(json.contains("tokenscope.report/1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod count_api;
mod defaults;
mod error;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use count_api::{
    ApiSession, CountApiChoice, CountProgress, HELP as COUNT_API_HELP, pack_exact,
};
pub use defaults::{
    DEFAULT_CONTEXT_WINDOW, DEFAULT_MODEL, default_budget_note, default_model, default_tokenizer,
    settle_budget,
};
pub use error::{SessionError, count_api_exit, exit};

use crate::engine::{DEFAULT_OPTIMAL_DEADLINE, ItemSet, OptimalLimits, PackContext, Plan, Rules};
use crate::input::LoadOptions;
use crate::input::profile::{Overrides, Profile, ProjectConfig, SettingsError, apply};
use crate::summarize::CommandSummarizer;
use crate::tokens::{CountCache, ModelRegistry, ModelSpec, Tokenizer, resolve_encoding};

/// What a front end asks for: the inputs and every setting that layers
/// over them. The command line builds one from its flags; a library user
/// fills in what it needs (`Settings::default()` is "no flags").
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The input paths (item sets, prompt files, folders, requests).
    pub paths: Vec<PathBuf>,
    /// A models.toml to use instead of the user's (`--models-file`).
    pub models_file: Option<PathBuf>,
    /// The profile from `tokenscope.toml` (`--profile`).
    pub profile: Option<String>,
    /// Settings that win over the item set and the profile.
    pub overrides: Overrides,
    /// How the inputs are loaded; the project's priority rules are added.
    pub load: LoadOptions,
    /// The summarizer command (`--summarizer`); `None`: the one in the
    /// user's own `<config dir>/tokenscope/config.toml`, if any. Input files
    /// and profiles never name one.
    pub summarizer: Option<String>,
    /// The `optimal` strategy's deadline per run: `None` keeps the front
    /// end's default, `Some(None)` means no deadline.
    pub optimal_deadline: Option<Option<Duration>>,
    /// A tokenizer file that counts instead of the model's tokenizer.
    pub tokenizer_file: Option<PathBuf>,
    /// Count with a provider's API (opt-in; sends the texts).
    pub count_api: Option<CountApiChoice>,
    /// Where the count API's progress goes (`None`: nowhere).
    pub count_progress: Option<Arc<dyn CountProgress>>,
}

impl Settings {
    /// A short title for reports: the input paths.
    pub fn title(&self) -> String {
        self.paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What [`Setup::new`] found: everything a load of the inputs is layered
/// with, checked before any input is read.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The settings it was made from.
    pub settings: Settings,
    /// The model registry (built in, then the user's models.toml).
    pub registry: ModelRegistry,
    /// The project settings file, if one was found.
    pub config_file: Option<PathBuf>,
    /// The profile used, if any.
    pub profile: Option<Profile>,
    /// How the inputs are loaded (the settings' options and the project's
    /// priority rules).
    pub load: LoadOptions,
    /// The summarizer command to run, checked.
    pub summarizer: Option<CommandSummarizer>,
}

impl Setup {
    /// Checks `settings`: loads the registry, finds `tokenscope.toml` (next
    /// to the inputs, then upward from the working folder) and the profile,
    /// and checks the summarizer command.
    pub fn new(settings: &Settings) -> Result<Setup, SessionError> {
        let registry = ModelRegistry::load(settings.models_file.as_deref())?;
        let cwd = std::env::current_dir()?;
        let config = ProjectConfig::discover_for(&settings.paths, &cwd)?;
        let profile = match (&settings.profile, &config) {
            (None, _) => None,
            (Some(name), Some(c)) => Some(c.profile(name)?.clone()),
            (Some(name), None) => {
                return Err(SettingsError::NoConfig {
                    name: name.clone(),
                    input_start: crate::input::profile::input_start(&settings.paths, &cwd),
                    start: cwd,
                }
                .into());
            }
        };
        let mut load = settings.load.clone();
        if let Some(c) = &config {
            load.priority_rules = c
                .priority_rules
                .iter()
                .map(|r| (r.glob.clone(), r.priority))
                .collect();
        }
        let summarizer = summarizer(settings.summarizer.as_deref())?;
        Ok(Setup {
            settings: settings.clone(),
            registry,
            config_file: config.map(|c| c.file),
            profile,
            load,
            summarizer,
        })
    }

    /// Loads the inputs into one item set.
    pub fn load(&self) -> Result<ItemSet, SessionError> {
        if self.settings.paths.is_empty() {
            return Err(SessionError::Usage(
                "no input given; name an item set, prompt file or folder (e.g. `tokenscope pack samples/docs/docs.toml`)".into(),
            ));
        }
        Ok(crate::input::load_paths(&self.settings.paths, &self.load)?)
    }

    /// Layers the profile and the flags over a freshly loaded `set` and,
    /// when it names no budget, model or encoding, gives it
    /// [`DEFAULT_MODEL`] ([`default_model`]). Returns the set and whether
    /// the default model was given (the caller says so in its own words).
    /// Checks that the set's model or encoding exists.
    pub fn ready(&self, mut set: ItemSet) -> Result<(ItemSet, bool), SessionError> {
        apply(&mut set, self.profile.as_ref(), &self.settings.overrides)?;
        let defaulted = default_model(&mut set);
        resolve_tokenizer(&set, &self.registry)?;
        Ok((set, defaulted))
    }

    /// The check rules of the profile (empty without one).
    pub fn rules(&self) -> Rules {
        self.profile
            .as_ref()
            .map(|p| p.rules.clone())
            .unwrap_or_default()
    }
}

/// Everything a command needs to run the engine: the item set with every
/// layer applied and its total settled, the tokenizer and the options.
#[derive(Debug, Clone)]
pub struct Session {
    /// What the session was set up with.
    pub setup: Arc<Setup>,
    /// The item set with every layer applied and `total` resolved.
    pub set: ItemSet,
    /// The tokenizer items are counted with.
    pub tokenizer: Tokenizer,
    /// The model, when one was named.
    pub model: Option<ModelSpec>,
    /// The `optimal` strategy's deadline per run (default
    /// [`DEFAULT_OPTIMAL_DEADLINE`]; `None`: no deadline).
    pub optimal_deadline: Option<Duration>,
    /// `count_api`: the session that measured the tokenizer's counts, to
    /// measure texts a run had to estimate.
    pub api: Option<Arc<ApiSession>>,
}

impl Session {
    /// Sets up, loads the inputs and makes them ready to run.
    pub fn open(settings: &Settings) -> Result<Session, SessionError> {
        let setup = Arc::new(Setup::new(settings)?);
        let set = setup.load()?;
        Session::from_setup(setup, set)
    }

    /// What [`Session::open`] does once the inputs are loaded: `set` (read
    /// by [`Setup::load`], or built by another program, e.g. from data it
    /// holds in memory) made ready with `setup` (layers, default model,
    /// tokenizer, total), then the settings' tokenizer file and count API.
    /// [`Session::open`] is `Setup::new`, then `Setup::load`, then this.
    pub fn from_setup(setup: Arc<Setup>, set: ItemSet) -> Result<Session, SessionError> {
        let mut session = Session::ready(setup.clone(), set)?;
        let settings = &setup.settings;
        if let Some(path) = &settings.tokenizer_file {
            session.tokenizer = Tokenizer::from_file(path)?;
        }
        if let Some(choice) = settings.count_api {
            let model = session.model.as_ref().ok_or_else(|| {
                SessionError::Usage(
                    "--count-api anthropic counts Claude models: name one with --model (e.g. --model claude-sonnet-4-5)".into(),
                )
            })?;
            if settings.tokenizer_file.is_some() || session.set.budget.encoding.is_some() {
                return Err(SessionError::Usage(
                    "--count-api counts with the model's API; leave out --tokenizer-file and --encoding".into(),
                ));
            }
            let api =
                ApiSession::new(choice, model)?.with_progress(settings.count_progress.clone());
            session.tokenizer = api.tokenizer(&set_texts(&session.set))?;
            session.api = Some(Arc::new(api));
        }
        Ok(session)
    }

    /// `set` made ready with `setup`: layers, default model, tokenizer,
    /// total.
    fn ready(setup: Arc<Setup>, set: ItemSet) -> Result<Session, SessionError> {
        let (mut set, defaulted) = setup.ready(set)?;
        let (tokenizer, model) = resolve_tokenizer(&set, &setup.registry)?;
        resolve_total(&mut set, model.as_ref())?;
        if defaulted {
            set.warnings.push(default_budget_note(&set.budget));
        }
        let optimal_deadline = setup
            .settings
            .optimal_deadline
            .unwrap_or(Some(DEFAULT_OPTIMAL_DEADLINE));
        Ok(Session {
            setup,
            set,
            tokenizer,
            model,
            optimal_deadline,
            api: None,
        })
    }

    /// Runs the engine with the shared count cache. With a count API,
    /// texts a run had to estimate (items cut to fit, joiners) are measured
    /// and the run repeated, up to twelve runs in all (a cut item's search
    /// for its longest fitting piece takes a round per step while the
    /// estimate undercounts, and one more when a step falls below the
    /// truncate floor); what is still
    /// estimated then is reported as an estimate.
    pub fn pack(&self) -> Result<Plan, SessionError> {
        match &self.api {
            Some(api) => pack_exact(api, &self.tokenizer, 12, || self.pack_once()),
            None => self.pack_once(),
        }
    }

    fn pack_once(&self) -> Result<Plan, SessionError> {
        let summarizer = self
            .setup
            .summarizer
            .as_ref()
            .map(|s| s as &dyn crate::engine::Summarizer);
        let ctx = PackContext {
            tokenizer: &self.tokenizer,
            cache: CountCache::global(),
            model: self.model.as_ref().map(|m| m.name.clone()),
            price_per_million: self.model.as_ref().and_then(|m| m.input_price),
            framing: crate::tokens::chat_framing(self.model.as_ref(), &self.tokenizer),
            optimal: OptimalLimits {
                deadline: self.optimal_deadline,
                ..OptimalLimits::default()
            },
            summarizer,
        };
        Ok(crate::engine::pack(&self.set, &ctx)?)
    }

    /// A short title for reports: the input paths.
    pub fn title(&self) -> String {
        self.setup.settings.title()
    }

    /// The check rules of the profile (empty without one).
    pub fn rules(&self) -> Rules {
        self.setup.rules()
    }

    /// Re-applies the profile and flags over a freshly loaded item set
    /// (after a file changed) and resolves the tokenizer and total again;
    /// a tokenizer file or count API stays.
    pub fn with_set(&self, set: ItemSet) -> Result<Session, SessionError> {
        let mut s = Session::ready(self.setup.clone(), set)?;
        s.optimal_deadline = self.optimal_deadline;
        if let Tokenizer::File(_) = &self.tokenizer {
            s.tokenizer = self.tokenizer.clone();
        }
        if let (Some(api), Tokenizer::Api(_)) = (&self.api, &self.tokenizer) {
            s.tokenizer = self.tokenizer.clone();
            api.measure(&s.tokenizer, &set_texts(&s.set))?;
            s.api = Some(api.clone());
        }
        Ok(s)
    }
}

/// Every text a run over `set` counts before it cuts anything: the items,
/// the section titles and separators, and the joiner between sections.
pub fn set_texts(set: &ItemSet) -> Vec<&str> {
    let mut texts: Vec<&str> = set.items.iter().map(|i| i.text()).collect();
    for s in &set.sections {
        texts.extend(s.title.as_deref());
        texts.push(s.separator());
    }
    // The engine's joiner between sections.
    texts.push("\n\n");
    texts
}

/// The summarizer: `command` (checked to split into a program and its
/// arguments, see [`crate::summarize`]), else `summarizer` in the user's
/// own `<config dir>/tokenscope/config.toml`
/// ([`crate::input::user_config`]). Item sets and profiles never name one
/// (their `summarizer` is ignored with a warning).
pub fn summarizer(command: Option<&str>) -> Result<Option<CommandSummarizer>, SessionError> {
    let command = match command {
        Some(cmd) => cmd.to_string(),
        None => match crate::input::user_config::UserConfig::load_default()?.summarizer {
            Some(cmd) => cmd,
            None => return Ok(None),
        },
    };
    CommandSummarizer::new(&command)
        .map(Some)
        .map_err(|problem| SessionError::Usage(format!("--summarizer `{command}`: {problem}")))
}

/// The tokenizer for an item set: its encoding (the model, when named too,
/// still gives the price and context window), else its model's, else
/// [`default_tokenizer`].
pub fn resolve_tokenizer(
    set: &ItemSet,
    registry: &ModelRegistry,
) -> Result<(Tokenizer, Option<ModelSpec>), SessionError> {
    let model = match &set.budget.model {
        Some(m) => Some(registry.get(m)?.clone()),
        None => None,
    };
    if let Some(name) = &set.budget.encoding {
        return Ok((resolve_encoding(name)?, model));
    }
    match model {
        Some(spec) => Ok((spec.tokenizer()?, Some(spec))),
        None => Ok((default_tokenizer(), None)),
    }
}

/// Settles `total` from the model's context window and `reserve_output`
/// ([`settle_budget`]); its warnings join the item set's.
pub fn resolve_total(set: &mut ItemSet, model: Option<&ModelSpec>) -> Result<(), SessionError> {
    let warnings = settle_budget(
        &mut set.budget,
        model.and_then(|m| m.context_window),
        model.map(|m| m.name.as_str()),
    );
    set.warnings.extend(warnings);
    if set.budget.total.is_none() {
        return Err(SessionError::Usage(
            "no total budget: give `total` in [budget], --budget N, or a model with a known context window".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Format, ReportOptions, render_report};

    fn json(plan: &Plan) -> String {
        render_report(plan, Format::Json, &ReportOptions::default())
    }

    #[test]
    fn from_setup_with_the_loaded_set_is_open() {
        let settings = Settings {
            paths: vec!["samples/docs/docs.toml".into()],
            profile: Some("tight".into()),
            ..Settings::default()
        };
        let opened = Session::open(&settings).unwrap().pack().unwrap();
        let setup = Arc::new(Setup::new(&settings).unwrap());
        let set = setup.load().unwrap();
        let built = Session::from_setup(setup, set).unwrap().pack().unwrap();
        assert_eq!(json(&opened), json(&built));
        assert_eq!(opened.budget.total, 8_000, "the profile applies");
    }

    #[test]
    fn from_setup_takes_a_set_built_in_memory() {
        let text = r#"{"items": [{"id": "a", "text": "hello world"}]}"#;
        let set = crate::input::detect::load_native(
            std::path::Path::new("<memory>"),
            text,
            crate::input::InputFormat::Json,
        )
        .unwrap();
        let settings = Settings {
            overrides: Overrides {
                budget: Some(100),
                ..Overrides::default()
            },
            ..Settings::default()
        };
        let session = Session::from_setup(Arc::new(Setup::new(&settings).unwrap()), set).unwrap();
        let plan = session.pack().unwrap();
        assert_eq!(plan.budget.total, 100);
        assert_eq!(plan.totals.included, 1);
    }
}
