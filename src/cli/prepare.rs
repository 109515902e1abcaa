//! Turning command-line options into a ready-to-run item set: load the
//! inputs, find `tokenscope.toml` and the profile, layer the flags, pick the
//! tokenizer from the model registry and resolve the total budget. Shared by
//! `pack`, `check`, `watch` and the inspector.

use std::path::PathBuf;
use std::time::Duration;

use crate::engine::{DEFAULT_OPTIMAL_DEADLINE, ItemSet, OptimalLimits, PackContext, Plan};
use crate::input::profile::{Overrides, Profile, ProjectConfig, apply, parse_split};
use crate::input::{GitRecency, InputFormat, LoadOptions};
use crate::report::{ColorMode, Rules};
use crate::tokens::{CountCache, Encoding, ModelRegistry, ModelSpec, Tokenizer, resolve_encoding};

use super::args::{ColorChoice, InputArgs};
use super::{CliError, PackArgs};

/// Everything a command needs to run the engine.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The item set with every layer applied and `total` resolved.
    pub set: ItemSet,
    /// The tokenizer items are counted with.
    pub tokenizer: Tokenizer,
    /// The model, when one was named.
    pub model: Option<ModelSpec>,
    /// The registry the model came from (for switching models).
    pub registry: ModelRegistry,
    /// Check rules from the profile (empty without one).
    pub rules: Rules,
    /// The profile used, if any.
    pub profile: Option<Profile>,
    /// The project settings file, if one was found.
    pub config_file: Option<PathBuf>,
    /// The command-line overrides, kept so a reload can re-apply them.
    pub overrides: Overrides,
    /// The input paths.
    pub paths: Vec<PathBuf>,
    /// How the inputs were loaded (for reloading them).
    pub load_options: LoadOptions,
    /// The `optimal` strategy's deadline per run (`--optimal-deadline`,
    /// default [`DEFAULT_OPTIMAL_DEADLINE`]; `None`: no deadline).
    pub optimal_deadline: Option<Duration>,
    /// `--count-api`: the session that measured the tokenizer's counts, to
    /// measure texts a run had to estimate.
    pub api: Option<std::sync::Arc<super::count_api::ApiSession>>,
}

impl Prepared {
    /// Runs the engine with the shared count cache. With `--count-api`,
    /// texts a run had to estimate (items cut to fit, joiners) are measured
    /// and the run repeated, up to eight runs in all (a cut item's search
    /// for its longest fitting piece takes a few rounds); what is still
    /// estimated then is reported as an estimate.
    pub fn pack(&self) -> Result<Plan, CliError> {
        match &self.api {
            Some(session) => {
                super::count_api::pack_exact(session, &self.tokenizer, 8, || self.pack_once())
            }
            None => self.pack_once(),
        }
    }

    fn pack_once(&self) -> Result<Plan, CliError> {
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
        };
        crate::engine::pack(&self.set, &ctx).map_err(|e| CliError::Input(e.to_string()))
    }

    /// A short title for reports: the input file names.
    pub fn title(&self) -> String {
        self.paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Re-applies the profile and flags over a freshly loaded item set (after
    /// a file changed) and resolves the tokenizer and total again.
    pub fn with_set(&self, set: ItemSet) -> Result<Prepared, CliError> {
        let mut p = finish(
            set,
            self.registry.clone(),
            self.profile.clone(),
            self.config_file.clone(),
            self.overrides.clone(),
            self.paths.clone(),
        )?;
        p.load_options = self.load_options.clone();
        p.optimal_deadline = self.optimal_deadline;
        if let Tokenizer::File(_) = &self.tokenizer {
            p.tokenizer = self.tokenizer.clone();
        }
        if let (Some(session), Tokenizer::Api(_)) = (&self.api, &self.tokenizer) {
            p.tokenizer = self.tokenizer.clone();
            session.measure(&p.tokenizer, &set_texts(&p.set))?;
            p.api = Some(session.clone());
        }
        // Only `--summarizer` sets a command (never an input file).
        p.set.budget.summarizer = self.set.budget.summarizer.clone();
        Ok(p)
    }
}

/// Maps `--color` to the report module's colour mode.
pub fn color_mode(choice: ColorChoice) -> ColorMode {
    match choice {
        ColorChoice::Auto => ColorMode::Auto,
        ColorChoice::Always => ColorMode::Always,
        ColorChoice::Never => ColorMode::Never,
    }
}

/// Loads the inputs named by `paths` into one item set.
pub fn load_inputs(paths: &[PathBuf], options: &LoadOptions) -> Result<ItemSet, CliError> {
    if paths.is_empty() {
        return Err(CliError::Input(
            "no input given; name an item set, prompt file or folder (e.g. `tokenscope pack samples/docs/docs.toml`)".into(),
        ));
    }
    crate::input::load_paths(paths, options).map_err(|e| CliError::Input(e.to_string()))
}

/// The loader options from the command line and the project's `[rules]`.
pub fn load_options(
    args: &InputArgs,
    config: Option<&ProjectConfig>,
) -> Result<LoadOptions, CliError> {
    let mut o = LoadOptions::default();
    if let Some(f) = &args.format {
        o.format = Some(
            f.parse::<InputFormat>()
                .map_err(|e| CliError::Input(e.to_string()))?,
        );
    }
    o.heading_level = args.heading_level;
    o.include = args.include.clone();
    o.exclude = args.exclude.clone();
    o.hidden = args.hidden;
    o.image_size = args.image_size;
    if args.git_recency {
        o.git_recency = Some(GitRecency::default());
    }
    if let Some(c) = config {
        o.priority_rules = c
            .priority_rules
            .iter()
            .map(|r| (r.glob.clone(), r.priority))
            .collect();
    }
    if let Some(spec) = &args.jsonl_fields {
        for pair in spec.split(',').filter(|p| !p.trim().is_empty()) {
            let (field, name) = pair.split_once('=').ok_or_else(|| {
                CliError::Input(format!(
                    "--jsonl-fields `{spec}`: expected FIELD=NAME pairs such as `text=content`"
                ))
            })?;
            let name = name.trim().to_string();
            match field.trim() {
                "id" => o.jsonl_fields.id = name,
                "text" => o.jsonl_fields.text = name,
                "score" => o.jsonl_fields.score = name,
                other => {
                    return Err(CliError::Input(format!(
                        "--jsonl-fields: unknown field `{other}`; expected id, text or score"
                    )));
                }
            }
        }
    }
    Ok(o)
}

/// Prepares a run from `pack`/`check`/inspector options.
pub fn prepare(args: &PackArgs) -> Result<Prepared, CliError> {
    let registry = ModelRegistry::load(args.shared.models_file.as_deref())
        .map_err(|e| CliError::Input(e.to_string()))?;
    let cwd = std::env::current_dir()?;
    let config = ProjectConfig::discover_for(&args.paths, &cwd)
        .map_err(|e| CliError::Input(e.to_string()))?;
    let profile = match &args.profile {
        None => None,
        Some(name) => match &config {
            Some(c) => Some(
                c.profile(name)
                    .map_err(|e| CliError::Input(e.to_string()))?
                    .clone(),
            ),
            None => {
                return Err(CliError::Input(
                    crate::input::profile::SettingsError::NoConfig {
                        name: name.clone(),
                        input_start: crate::input::profile::input_start(&args.paths, &cwd),
                        start: cwd,
                    }
                    .to_string(),
                ));
            }
        },
    };
    let overrides = overrides(args)?;
    let options = load_options(&args.input, config.as_ref())?;
    let mut set = load_inputs(&args.paths, &options)?;
    set.budget.summarizer = summarizer(args)?;
    let mut prepared = finish(
        set,
        registry,
        profile,
        config.map(|c| c.file),
        overrides,
        args.paths.clone(),
    )?;
    prepared.load_options = options;
    if let Some(d) = args.optimal_deadline {
        prepared.optimal_deadline = d.0;
    }
    if let Some(path) = &args.tokenizer_file {
        prepared.tokenizer =
            Tokenizer::from_file(path).map_err(|e| CliError::Input(e.to_string()))?;
    }
    if let Some(choice) = args.count_api {
        let model = prepared.model.as_ref().ok_or_else(|| {
            CliError::Input(
                "--count-api anthropic counts Claude models: name one with --model (e.g. --model claude-sonnet-4-5)".into(),
            )
        })?;
        if args.tokenizer_file.is_some() || prepared.set.budget.encoding.is_some() {
            return Err(CliError::Input(
                "--count-api counts with the model's API; leave out --tokenizer-file and --encoding".into(),
            ));
        }
        let session = super::count_api::ApiSession::new(choice, model)?;
        prepared.tokenizer = session.tokenizer(&set_texts(&prepared.set))?;
        prepared.api = Some(std::sync::Arc::new(session));
    }
    Ok(prepared)
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

/// The summarizer command: `--summarizer`, else `summarizer` in the user's
/// own `<config dir>/tokenscope/config.toml`
/// ([`crate::input::user_config`]); checked to split into a program and its
/// arguments (see [`crate::engine::summarize`]). Item sets and profiles
/// never name one (their `summarizer` is ignored with a warning).
pub fn summarizer(args: &PackArgs) -> Result<Option<String>, CliError> {
    match &args.summarizer {
        None => crate::input::user_config::UserConfig::load_default()
            .map(|c| c.summarizer)
            .map_err(|e| CliError::Input(e.to_string())),
        Some(cmd) => match crate::engine::summarize::split_command(cmd) {
            Ok(_) => Ok(Some(cmd.clone())),
            Err(problem) => Err(CliError::Input(format!("--summarizer `{cmd}`: {problem}"))),
        },
    }
}

/// The command-line settings that layer over an item set and its profile.
pub fn overrides(args: &PackArgs) -> Result<Overrides, CliError> {
    let bad = |e: &dyn std::fmt::Display| CliError::Input(e.to_string());
    Ok(Overrides {
        model: args.model.clone(),
        encoding: args.encoding.clone(),
        budget: args.budget,
        reserve_output: args.reserve_output,
        strategy: args
            .strategy
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| bad(&e))?,
        overflow: args
            .overflow
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| bad(&e))?,
        split: args
            .split
            .as_deref()
            .map(parse_split)
            .transpose()
            .map_err(|e| bad(&e))?
            .unwrap_or_default(),
    })
}

fn finish(
    mut set: ItemSet,
    registry: ModelRegistry,
    profile: Option<Profile>,
    config_file: Option<PathBuf>,
    overrides: Overrides,
    paths: Vec<PathBuf>,
) -> Result<Prepared, CliError> {
    apply(&mut set, profile.as_ref(), &overrides).map_err(|e| CliError::Input(e.to_string()))?;
    let defaulted = default_model(&mut set);
    let (tokenizer, model) = resolve_tokenizer(&set, &registry)?;
    resolve_total(&mut set, model.as_ref())?;
    if defaulted {
        set.warnings.push(default_budget_note(&set.budget));
    }
    let rules = profile
        .as_ref()
        .map(|p| p.rules.clone())
        .unwrap_or_default();
    Ok(Prepared {
        set,
        tokenizer,
        model,
        registry,
        rules,
        profile,
        config_file,
        overrides,
        paths,
        load_options: LoadOptions::default(),
        optimal_deadline: Some(DEFAULT_OPTIMAL_DEADLINE),
        api: None,
    })
}

/// The tokenizer for an item set: its model's, else its encoding, else
/// `o200k_base`.
pub fn resolve_tokenizer(
    set: &ItemSet,
    registry: &ModelRegistry,
) -> Result<(Tokenizer, Option<ModelSpec>), CliError> {
    if let Some(name) = &set.budget.encoding {
        let tok = resolve_encoding(name).map_err(|e| CliError::Input(e.to_string()))?;
        let model = match &set.budget.model {
            Some(m) => Some(
                registry
                    .get(m)
                    .map_err(|e| CliError::Input(e.to_string()))?
                    .clone(),
            ),
            None => None,
        };
        return Ok((tok, model));
    }
    if let Some(name) = &set.budget.model {
        let spec = registry
            .get(name)
            .map_err(|e| CliError::Input(e.to_string()))?
            .clone();
        let tokenizer = spec
            .tokenizer()
            .map_err(|e| CliError::Input(e.to_string()))?;
        return Ok((tokenizer, Some(spec)));
    }
    Ok((Tokenizer::Exact(Encoding::O200kBase), None))
}

/// The model an input runs with when it names no budget, no model and no
/// encoding: its context window (minus the output reserve) is the budget.
pub const DEFAULT_MODEL: &str = "gpt-4o";

/// The context window assumed when no budget is given and the model or
/// encoding has no known window: that of [`DEFAULT_MODEL`].
pub const DEFAULT_CONTEXT_WINDOW: usize = 128_000;

/// Folders, Markdown and JSONL carry no budget: an item set with no
/// `total`, no model and no encoding takes [`DEFAULT_MODEL`] (whose
/// tokenizer is the default `o200k_base`), so that its budget is the
/// model's context window minus `reserve_output`. Returns whether it did;
/// [`resolve_total`] then says so in a warning.
pub fn default_model(set: &mut ItemSet) -> bool {
    let b = &mut set.budget;
    if b.total.is_some() || b.model.is_some() || b.encoding.is_some() {
        return false;
    }
    b.model = Some(DEFAULT_MODEL.to_string());
    true
}

/// Settles `total` from the model's context window and `reserve_output`
/// (see [`settle_budget`]); its warnings join the item set's.
pub fn resolve_total(set: &mut ItemSet, model: Option<&ModelSpec>) -> Result<(), CliError> {
    let warnings = settle_budget(
        &mut set.budget,
        model.and_then(|m| m.context_window),
        model.map(|m| m.name.as_str()),
    );
    set.warnings.extend(warnings);
    if set.budget.total.is_none() {
        return Err(CliError::Input(
            "no total budget: give `total` in [budget], --budget N, or a model with a known context window".into(),
        ));
    }
    Ok(())
}

/// Settles the budget's `total` as [`crate::engine::Budget::settle_total`]
/// does for `window` (the context window of `model`, when known). Without
/// a total and without a known window (an encoding alone, or a model whose
/// window is unknown) the total is [`DEFAULT_CONTEXT_WINDOW`] minus the
/// reserve, with a warning that says so: `total` is always set afterwards.
/// Returns the warnings.
pub fn settle_budget(
    budget: &mut crate::engine::Budget,
    window: Option<usize>,
    model: Option<&str>,
) -> Vec<String> {
    if budget.total.is_some() || window.is_some() {
        return budget.settle_total(window);
    }
    let reserve = budget.reserve_output;
    let total = DEFAULT_CONTEXT_WINDOW.saturating_sub(reserve).max(1);
    let what = match model {
        Some(m) => format!("model {m} has no known context window"),
        None => "no model is named".to_string(),
    };
    budget.total = Some(total);
    budget.context_window = None;
    vec![format!(
        "no budget given and {what}: the budget is {total} tokens ({DEFAULT_CONTEXT_WINDOW}, the context window of {DEFAULT_MODEL}, minus reserve_output {reserve}); set one with --budget N or --model NAME"
    )]
}

/// The warning that says an item set runs with [`DEFAULT_MODEL`]'s budget
/// because it named none (after [`default_model`] and [`resolve_total`]).
pub fn default_budget_note(budget: &crate::engine::Budget) -> String {
    let total = budget.total.unwrap_or(0);
    let window = budget.context_window.unwrap_or(DEFAULT_CONTEXT_WINDOW);
    let reserve = budget.reserve_output;
    let minus = if reserve > 0 {
        format!(" minus reserve_output {reserve}")
    } else {
        String::new()
    };
    format!(
        "no budget or model given: the budget is {total} tokens, the context window of {DEFAULT_MODEL} ({window}){minus}; set one with --budget N or --model NAME"
    )
}
