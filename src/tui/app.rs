//! The inspector's state and every change to it: [`App::update`] for actions,
//! [`App::on_key`] for keys (popups first, then the keymap of the view on
//! screen), [`App::on_job`] for finished background work, [`App::on_tick`]
//! for time. The History view's part lives in `history`.
//!
//! The app never runs heavy work itself: it queues [`Job`]s that the event
//! loop hands to the workers (or a test runs inline) and takes their results
//! by generation number, dropping stale ones.

mod files;
mod history;
pub(crate) mod input;
mod log;
mod mouse;
mod select;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::engine::{ItemSet, ItemStatus, Overflow, Plan, SectionBudget, Strategy};
use crate::tokens::{ModelCounting, ModelTokenizerFile, Tokenizer, TokenizerId};

use super::action::View;
use super::jobs::{
    FrontierPoint, FrontierRequest, Generations, Job, JobKind, JobOutput, Loader, PackRequest,
    TokenizerRequest,
};
use super::models;
use super::tuning::{self, ItemTuning, Tuning};
use super::{Action, Keymap, Theme};
use crate::tokens::ModelSpec;

use files::Writes;
pub use history::HistoryOptions;
pub use log::{LOG_LIMIT, Log, LogEntry, LogSource};
pub(crate) use select::SortKey;

/// How long rows stay highlighted after their tokens or status changed.
pub const HIGHLIGHT_FOR: Duration = Duration::from_secs(3);
/// How long an information message stays in the status line.
pub(crate) const STATUS_FOR: Duration = Duration::from_secs(6);
/// An engine run that takes longer than this shows a spinner.
pub(crate) const SLOW_AFTER: Duration = Duration::from_millis(150);
/// Bytes of an item's text shown with token boundaries in the detail pane.
pub(crate) const DETAIL_LIMIT: usize = 64 * 1024;
/// Intervals of the budget frontier (it has one more point, plus the
/// current budget).
pub(crate) const FRONTIER_STEPS: usize = 40;

/// A pane that can have the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// The sections table.
    Sections,
    /// The items of the selected section.
    Items,
    /// The selected item's text.
    Detail,
}

/// What a text prompt asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptKind {
    /// The total budget.
    Budget,
    /// The output reserve.
    Reserve,
    /// A section's size: tokens or a share.
    SectionSize(String),
    /// An item's priority.
    Priority(String),
    /// The name of the profile to save.
    ProfileName,
}

/// A popup over the panes; it takes the keys while open. Each popup's
/// state is its own (the scrolled ones keep only their first line).
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    /// The key help, generated from the keymap.
    Help {
        /// First line shown.
        scroll: usize,
    },
    /// The searchable model list.
    Models(ModelPicker),
    /// A one-line text prompt (the budget, a priority, the name of the
    /// profile to save, ...).
    Prompt(Prompt),
    /// The message log: every message and warning in full.
    Log {
        /// First line shown.
        scroll: usize,
    },
    /// The export dialog: a format and a path.
    Export(ExportDialog),
}

/// The model picker's state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelPicker {
    /// The search text.
    pub query: String,
    /// The highlighted row among the matches.
    pub selected: usize,
}

/// A one-line prompt's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// What is asked.
    pub kind: PromptKind,
    /// The text typed so far.
    pub value: String,
    /// Why the last value was refused.
    pub error: Option<String>,
}

impl Prompt {
    /// A prompt for `kind` starting with `value`.
    pub(crate) fn new(kind: PromptKind, value: String) -> Prompt {
        Prompt {
            kind,
            value,
            error: None,
        }
    }
}

/// The export dialog's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportDialog {
    /// Index into the formats the dialog offers (`App::export_formats`).
    pub format: usize,
    /// The path typed so far.
    pub path: String,
    /// Whether the user edited the path (else it follows the format).
    pub edited: bool,
    /// Why the last attempt was refused.
    pub error: Option<String>,
    /// The path names an existing file: waiting for the answer to
    /// "replace it?" (enter or `y` writes, `n` or esc goes back).
    pub overwrite: bool,
}

/// A message in the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The text (sanitised when drawn).
    pub text: String,
    /// An error (shown in the error style, kept until replaced).
    pub error: bool,
    /// When it was set.
    pub at: Instant,
}

/// Token boundaries of the selected item, computed when the selection or the
/// tokenizer changes (not on every frame).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DetailCache {
    /// The item's index in the plan.
    pub(crate) item: usize,
    /// The tokenizer the boundaries are for.
    pub(crate) tokenizer: TokenizerId,
    /// The plan generation.
    pub(crate) generation: u64,
    /// Boundaries in the original text (its first [`DETAIL_LIMIT`] bytes).
    pub(crate) original: Vec<usize>,
    /// Boundaries in the included form, when it differs.
    pub(crate) final_form: Vec<usize>,
    /// The tokens of the whole text alone, for a message of a chat request
    /// (whose count also has the message's framing and tool calls).
    pub(crate) content_tokens: Option<usize>,
}

/// The computed frontier.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Frontier {
    /// Points by ascending budget.
    pub(crate) points: Vec<FrontierPoint>,
    /// The sum of all items' priorities (the chart's 100 %).
    pub(crate) priority_total: f64,
    /// The number of items (the chart's 100 %).
    pub(crate) item_total: usize,
}

/// A model's tokenizer file being loaded in the background. Until it
/// arrives no engine run starts (it would count with the wrong tokenizer):
/// the last plan stays on screen and keys keep working.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenizerLoad {
    /// The job's generation; answers of other generations are stale.
    pub generation: u64,
    /// The file and the model that names it.
    pub file: ModelTokenizerFile,
    /// When the load was asked for.
    pub started: Instant,
}

/// What the inspector starts with.
pub struct AppOptions {
    /// The input paths, for the header.
    pub inputs: Vec<PathBuf>,
    /// The models to pick from (the registry).
    pub models: Vec<ModelSpec>,
    /// The colour theme.
    pub theme: Theme,
    /// The key bindings.
    pub keymap: Keymap,
    /// Where profiles are saved (`tokenscope.toml`).
    pub profile_file: PathBuf,
    /// What loads (and reloads) the inputs; `None` when the set is given
    /// directly with [`App::set_loaded`].
    pub loader: Option<Loader>,
}

/// The inspector's whole state, grouped by what owns it: what it was opened
/// with, the settings and their undo history, the loading of the inputs,
/// the model and tokenizer counted with, the engine runs, the background
/// jobs, one struct per pane, the open popup and the History view.
pub struct App {
    pub(crate) inputs: Vec<PathBuf>,
    pub(crate) models: Vec<ModelSpec>,
    pub(crate) theme: Theme,
    pub(crate) keymap: Keymap,
    pub(crate) profile_file: PathBuf,

    pub(crate) base: Option<Arc<ItemSet>>,
    pub(crate) tuning: Tuning,
    pub(crate) edits: Edits,
    pub(crate) load: LoadState,
    pub(crate) counting: Counting,
    pub(crate) engine: EngineState,
    pub(crate) jobs: JobState,
    pub(crate) writes: Writes,

    pub(crate) focus: Pane,
    pub(crate) sections: SectionsPane,
    pub(crate) items: ItemsPane,
    pub(crate) detail: DetailPane,
    pub(crate) frontier: FrontierPane,
    pub(crate) popup: Option<Popup>,
    pub(crate) status: Option<Status>,
    log: log::Log,
    /// Counts in full (`1,234`) rather than compact (`1.2k`).
    pub(crate) exact_counts: bool,
    pub(crate) ticks: u64,
    pub(crate) size: Rect,

    pub(crate) view: View,
    pub(crate) history: history::HistoryState,

    dirty: bool,
    quit: bool,
}

/// The settings changes that can be undone and redone.
#[derive(Default)]
pub(crate) struct Edits {
    pub(crate) undo: Vec<Tuning>,
    pub(crate) redo: Vec<Tuning>,
}

/// Loading the inputs.
pub(crate) struct LoadState {
    /// What loads (and reloads) the inputs.
    pub(crate) loader: Option<Loader>,
    /// A load job is running.
    pub(crate) loading: bool,
    /// Why the last load failed (the last good set stays).
    pub(crate) error: Option<String>,
    /// How many sets were taken (a tokenizer is warm per set).
    pub(crate) generation: u64,
    /// The next plan comes from a reload: highlight what changed.
    pub(crate) reload_pending: bool,
    /// The files changed since the last completed load.
    pub(crate) changed_files: Vec<PathBuf>,
}

/// The model and the tokenizer counted with.
pub(crate) struct Counting {
    pub(crate) model: Option<ModelSpec>,
    pub(crate) tokenizer: Tokenizer,
    /// Why counting is not as the model asks (unknown model, a tokenizer
    /// file that failed to load).
    pub(crate) warning: Option<String>,
    /// Tokenizers whose counts of a loaded set are all cached.
    pub(crate) warm: FxHashSet<(TokenizerId, u64)>,
    /// The model's tokenizer file loading in the background.
    pub(crate) load: Option<TokenizerLoad>,
    /// A tokenizer file that failed to load for the chosen model, and why:
    /// counting falls back without loading it again until the model is
    /// picked again.
    pub(crate) failed: Option<(ModelTokenizerFile, String)>,
}

/// The engine runs and the plan on screen.
pub(crate) struct EngineState {
    pub(crate) plan: Option<Plan>,
    /// Why the last run refused the settings.
    pub(crate) error: Option<String>,
    /// How long the last run took.
    pub(crate) elapsed: Option<Duration>,
    /// The tokenizer the plan on screen was counted with.
    pub(crate) tokenizer: Option<Tokenizer>,
    /// The generation of the plan on screen.
    pub(crate) generation: u64,
    /// When the pending run was asked for (`None`: none pending).
    pub(crate) requested_at: Option<Instant>,
    /// The pending run takes long enough to show a spinner.
    pub(crate) slow: bool,
    /// The `optimal` strategy's deadline per engine run.
    pub(crate) optimal_deadline: Option<Duration>,
    /// The summarizer engine runs use ([`App::set_summarizer`]).
    pub(crate) summarizer: Option<crate::summarize::CommandSummarizer>,
}

/// The background jobs: the queue for the workers, one generation counter
/// per kind ([`Generations`]) and the progress they report.
#[derive(Default)]
pub(crate) struct JobState {
    pub(crate) queued: Vec<Job>,
    pub(crate) generations: Generations,
    pub(crate) progress: FxHashMap<JobKind, (usize, usize)>,
}

impl JobState {
    /// Queues `job` (built with a fresh generation of its kind from
    /// [`Generations::issue`]).
    fn push(&mut self, job: Job) {
        self.queued.push(job);
    }
}

/// The sections pane.
#[derive(Default)]
pub(crate) struct SectionsPane {
    /// The selected row.
    pub(crate) sel: usize,
    /// The first row shown.
    pub(crate) offset: usize,
}

/// The items pane.
pub(crate) struct ItemsPane {
    /// The selected row (an index into `visible`).
    pub(crate) sel: usize,
    /// The first row shown.
    pub(crate) offset: usize,
    /// The plan indices of the rows, in order.
    pub(crate) visible: Vec<usize>,
    pub(crate) sort: SortKey,
    pub(crate) filter: String,
    /// The filter line takes the keys.
    pub(crate) filter_editing: bool,
    /// Items highlighted as just changed, and since when.
    pub(crate) changed: FxHashMap<String, Instant>,
}

/// The detail pane.
#[derive(Default)]
pub(crate) struct DetailPane {
    /// The first line shown.
    pub(crate) scroll: usize,
    /// The selected item's token boundaries.
    pub(crate) cache: Option<DetailCache>,
}

/// The budget frontier chart.
#[derive(Default)]
pub(crate) struct FrontierPane {
    /// What the chart on screen (or being computed) is for: the set, the
    /// settings but the total, the tokenizer and the largest budget.
    pub(crate) key: Option<(u64, Tuning, TokenizerId, usize)>,
    pub(crate) chart: Option<Frontier>,
}

impl App {
    /// A new inspector; when a loader is given, the first load is queued.
    pub fn new(options: AppOptions) -> App {
        let mut app = App {
            inputs: options.inputs,
            models: options.models,
            theme: options.theme,
            keymap: options.keymap,
            profile_file: options.profile_file,
            base: None,
            tuning: Tuning::default(),
            edits: Edits::default(),
            load: LoadState {
                loader: options.loader,
                loading: false,
                error: None,
                generation: 0,
                reload_pending: false,
                changed_files: Vec::new(),
            },
            counting: Counting {
                model: None,
                tokenizer: models::default_tokenizer(),
                warning: None,
                warm: FxHashSet::default(),
                load: None,
                failed: None,
            },
            engine: EngineState {
                plan: None,
                error: None,
                elapsed: None,
                tokenizer: None,
                generation: 0,
                requested_at: None,
                slow: false,
                optimal_deadline: Some(crate::engine::INSPECTOR_OPTIMAL_DEADLINE),
                summarizer: None,
            },
            jobs: JobState::default(),
            writes: Writes::default(),
            focus: Pane::Sections,
            sections: SectionsPane::default(),
            items: ItemsPane {
                sel: 0,
                offset: 0,
                visible: Vec::new(),
                sort: SortKey::Priority,
                filter: String::new(),
                filter_editing: false,
                changed: FxHashMap::default(),
            },
            detail: DetailPane::default(),
            frontier: FrontierPane::default(),
            popup: None,
            status: None,
            log: log::Log::default(),
            exact_counts: false,
            ticks: 0,
            size: Rect::new(0, 0, 100, 30),
            view: View::Plan,
            history: history::HistoryState::new(HistoryOptions::new(None)),
            dirty: true,
            quit: false,
        };
        if app.load.loader.is_some() {
            app.request_load();
        }
        app
    }

    // ----- queries -------------------------------------------------------

    /// Whether the user asked to quit.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Whether something changed since the last [`App::mark_drawn`].
    pub(crate) fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Records that the screen shows the current state.
    pub(crate) fn mark_drawn(&mut self) {
        self.dirty = false;
    }

    /// The jobs queued since the last call, for the workers.
    pub fn take_jobs(&mut self) -> Vec<Job> {
        std::mem::take(&mut self.jobs.queued)
    }

    /// The current plan, if one was computed.
    pub fn plan(&self) -> Option<&Plan> {
        self.engine.plan.as_ref()
    }

    /// The settings the user changed.
    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    /// The loaded item set (last good one).
    pub fn item_set(&self) -> Option<&ItemSet> {
        self.base.as_deref()
    }

    /// The pane with the focus.
    pub fn focus(&self) -> Pane {
        self.focus
    }

    /// The open popup.
    pub fn popup(&self) -> Option<&Popup> {
        self.popup.as_ref()
    }

    /// Whether counts are shown in full (`1,234`) rather than compact
    /// (`1.2k`).
    pub fn exact_counts(&self) -> bool {
        self.exact_counts
    }

    /// A token count as the panes show it: compact (`1.2k`) or, after the
    /// counts toggle, in full (`1,234`).
    pub(crate) fn count_text(&self, n: usize) -> String {
        if self.exact_counts {
            crate::text::thousands(n)
        } else {
            crate::text::short_count(n)
        }
    }

    /// The status line's message.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    /// Why the engine refused the current settings (no plan could be made),
    /// once that run has answered and no newer one is pending.
    pub fn refusal(&self) -> Option<&str> {
        self.engine
            .error
            .as_deref()
            .filter(|_| self.engine.requested_at.is_none())
    }

    /// The error from the last load, while the last good plan is shown.
    pub fn load_error(&self) -> Option<&str> {
        self.load.error.as_deref()
    }

    /// The theme in use.
    pub(crate) fn theme(&self) -> &Theme {
        &self.theme
    }

    /// The key bindings.
    pub(crate) fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    /// The active model, if any.
    pub fn model(&self) -> Option<&ModelSpec> {
        self.counting.model.as_ref()
    }

    /// The active tokenizer (while a model's tokenizer file loads, the one
    /// the plan on screen was counted with).
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.counting.tokenizer
    }

    /// The tokenizer file loading in the background for the chosen model,
    /// if any.
    pub fn loading_tokenizer(&self) -> Option<&TokenizerLoad> {
        self.counting.load.as_ref()
    }

    /// How many changes can be undone and redone.
    pub fn history_len(&self) -> (usize, usize) {
        (self.edits.undo.len(), self.edits.redo.len())
    }

    /// Ids of the items highlighted as just changed.
    pub fn changed_items(&self) -> impl Iterator<Item = &str> {
        self.items.changed.keys().map(String::as_str)
    }

    /// The item plans listed in the items pane, in order.
    pub fn visible_items(&self) -> impl Iterator<Item = &crate::engine::ItemPlan> {
        let plan = self.engine.plan.as_ref();
        self.items
            .visible
            .iter()
            .filter_map(move |&i| plan.and_then(|p| p.items.get(i)))
    }

    /// The selected section's plan.
    pub fn selected_section(&self) -> Option<&crate::engine::SectionPlan> {
        self.engine.plan.as_ref()?.sections.get(self.sections.sel)
    }

    /// The selected item's plan.
    pub fn selected_item(&self) -> Option<&crate::engine::ItemPlan> {
        self.engine.plan.as_ref()?.items.get(self.selected_index()?)
    }

    /// The selected item's index in the plan, if a row is selected.
    pub(crate) fn selected_index(&self) -> Option<usize> {
        self.items.visible.get(self.items.sel).copied()
    }

    /// The text of a plan item (from the loaded set), `""` when unknown.
    pub(crate) fn item_text(&self, plan_index: usize) -> &str {
        self.loaded_item_of(plan_index).map_or("", |i| i.text())
    }

    /// The loaded item a plan item stands for.
    pub(crate) fn loaded_item_of(&self, plan_index: usize) -> Option<&crate::engine::Item> {
        let ip = self.engine.plan.as_ref()?.items.get(plan_index)?;
        let base = self.base.as_ref()?;
        match base.items.get(ip.index) {
            Some(item) if item.id == ip.id => Some(item),
            _ => base.items.iter().find(|i| i.id == ip.id),
        }
    }

    /// What part of the chat request a plan item stands for, when the input
    /// is a chat request.
    pub(crate) fn chat_part(&self, plan_index: usize) -> Option<crate::engine::ChatPart> {
        let ip = self.engine.plan.as_ref()?.items.get(plan_index)?;
        let chat = self.base.as_ref()?.chat.as_ref()?;
        chat.parts.get(&ip.id).copied()
    }

    // ----- loading -------------------------------------------------------

    /// Queues a (re)load of the inputs: everything at first, afterwards the
    /// files changed since the last completed load.
    pub(crate) fn request_load(&mut self) {
        if let Some(loader) = &self.load.loader {
            let generation = self.jobs.generations.issue(JobKind::Load);
            self.load.loading = true;
            self.jobs.push(Job::Load(super::jobs::LoadRequest {
                generation,
                changed: self.load.changed_files.clone(),
                loader: loader.clone(),
            }));
            self.dirty = true;
        }
    }

    /// Input files changed on disk: reload what they touch (and the usage
    /// history when it is one of them and the History view is open).
    pub fn on_files_changed(&mut self, paths: &[PathBuf]) {
        let paths = self.history_files_changed(paths);
        if self.load.loader.is_none() || paths.is_empty() {
            return;
        }
        for p in &paths {
            if !self.load.changed_files.contains(p) {
                self.load.changed_files.push(p.clone());
            }
        }
        self.load.reload_pending = self.base.is_some();
        self.request_load();
    }

    /// Takes a freshly loaded item set (keeps the user's settings) and queues
    /// an engine run.
    pub fn set_loaded(&mut self, set: ItemSet) {
        let reload = self.base.is_some();
        self.load.generation += 1;
        if !set.warnings.is_empty() {
            let n = set.warnings.len();
            for w in &set.warnings {
                self.log_only(LogSource::Load, w.to_string(), true);
            }
            let all = self.keymap.keys_for(Action::ShowLog);
            let all = all.split('/').next().unwrap_or_default();
            let hint = if n > 1 && !all.is_empty() {
                format!(" ({all} shows all)")
            } else {
                String::new()
            };
            self.set_status(
                format!(
                    "{n} warning{} while loading: {}{hint}",
                    if n == 1 { "" } else { "s" },
                    set.warnings[0]
                ),
                false,
            );
        }
        self.base = Some(Arc::new(set));
        self.load.error = None;
        self.load.loading = false;
        self.load.reload_pending = reload || self.load.reload_pending;
        self.resolve_model();
        self.request_pack();
    }

    /// Loading failed: keep the last good set and show why.
    pub fn set_load_error(&mut self, message: String) {
        self.log_only(LogSource::Load, message.clone(), true);
        self.load.loading = false;
        self.load.error = Some(message);
        self.load.reload_pending = false;
        self.dirty = true;
    }

    /// Picks the model and tokenizer as `pack` does: a model chosen in the
    /// inspector counts with its own tokenizer; otherwise the set's
    /// `encoding` wins over its model's (the model still gives the price and
    /// context window); otherwise the model's; otherwise `o200k_base`.
    ///
    /// A model's tokenizer file that is not loaded yet is loaded by a
    /// background job ([`Job::Tokenizer`]); meanwhile the tokenizer stays
    /// the one of the plan on screen and no engine run starts. A file that
    /// failed to load for this model is not tried again (counting falls
    /// back, with the warning) until the model is picked again.
    fn resolve_model(&mut self) {
        let before = self.counting.warning.clone();
        self.pick_model_and_tokenizer();
        if let Some(w) = &self.counting.warning
            && before.as_ref() != Some(w)
        {
            self.log_only(LogSource::Model, w.clone(), true);
        }
    }

    /// [`App::resolve_model`] without the log.
    fn pick_model_and_tokenizer(&mut self) {
        let Some(base) = &self.base else { return };
        let name = self
            .tuning
            .model
            .clone()
            .or_else(|| base.budget.model.clone());
        self.counting.warning = None;
        self.counting.model = None;
        if let Some(name) = &name {
            match models::find(&self.models, name) {
                Some(m) => self.counting.model = Some(m.clone()),
                None => {
                    self.counting.warning = Some(format!(
                        "unknown model `{name}`; counting with {}",
                        models::default_tokenizer()
                    ))
                }
            }
        }
        let encoding = if self.tuning.model.is_some() {
            None
        } else {
            base.budget.encoding.clone()
        };
        self.counting.tokenizer = match (encoding, &self.counting.model) {
            (Some(e), _) => {
                let resolved = crate::tokens::resolve_encoding(&e);
                self.or_default_tokenizer(resolved)
            }
            (None, Some(m)) => match &m.counting {
                // The file this model waits for (asked first: a file being
                // parsed is not loaded yet).
                ModelCounting::File(f)
                    if self.counting.load.as_ref().is_some_and(|l| l.file == *f) =>
                {
                    return;
                }
                ModelCounting::File(f) if !f.is_loaded() => {
                    let f = f.clone();
                    match &self.counting.failed {
                        Some((failed, why)) if *failed == f => {
                            self.counting.warning = Some(why.clone());
                            self.counting.load = None;
                            models::default_tokenizer()
                        }
                        _ => {
                            self.load_tokenizer(f);
                            return;
                        }
                    }
                }
                // Exact encodings, estimates and files loaded before (they
                // are shared for the rest of the run): no waiting.
                counting => {
                    let resolved = counting.tokenizer();
                    self.or_default_tokenizer(resolved)
                }
            },
            (None, None) => models::default_tokenizer(),
        };
        // A load for another model is no longer wanted: its answer is stale.
        self.counting.load = None;
    }

    /// Queues the load of a model's tokenizer file; an earlier load's answer
    /// becomes stale.
    fn load_tokenizer(&mut self, file: ModelTokenizerFile) {
        let generation = self.jobs.generations.issue(JobKind::Tokenizer);
        self.jobs.push(Job::Tokenizer(TokenizerRequest {
            generation,
            file: file.clone(),
        }));
        self.counting.load = Some(TokenizerLoad {
            generation,
            file,
            started: Instant::now(),
        });
        self.dirty = true;
    }

    /// A model's tokenizer file arrived (or failed): count with it (or fall
    /// back with the error shown) and run the engine. Stale answers, for a
    /// model no longer chosen, are dropped.
    fn on_tokenizer(&mut self, generation: u64, result: Result<Tokenizer, String>) {
        let Some(load) = self.counting.load.take_if(|l| l.generation == generation) else {
            return;
        };
        let model = load.file.model.clone();
        match result {
            Ok(t) => {
                self.counting.tokenizer = t;
                self.counting.warning = None;
                let secs = load.started.elapsed().as_secs_f64();
                self.info_from(
                    LogSource::Model,
                    format!(
                        "model {model}: loaded {} in {secs:.1} s (exact)",
                        load.file.name()
                    ),
                );
            }
            Err(e) => {
                let why = format!("{e}; counting with {}", models::default_tokenizer());
                self.counting.tokenizer = models::default_tokenizer();
                self.counting.warning = Some(why.clone());
                self.counting.failed = Some((load.file, why.clone()));
                self.error_from(LogSource::Model, why);
            }
        }
        self.request_pack();
    }

    /// The tokenizer, or `o200k_base` with a warning saying why not.
    fn or_default_tokenizer<E: std::fmt::Display>(
        &mut self,
        resolved: Result<Tokenizer, E>,
    ) -> Tokenizer {
        resolved.unwrap_or_else(|err| {
            self.counting.warning = Some(format!(
                "{err}; counting with {}",
                models::default_tokenizer()
            ));
            models::default_tokenizer()
        })
    }

    // ----- engine runs ---------------------------------------------------

    fn pack_request(&self) -> Option<PackRequest> {
        let base = self.base.clone()?;
        let warm = !self
            .counting
            .warm
            .contains(&(self.counting.tokenizer.id(), self.load.generation));
        Some(PackRequest {
            generation: self.jobs.generations.current(JobKind::Pack),
            base,
            tuning: self.tuning.clone(),
            tokenizer: self.counting.tokenizer.clone(),
            model: self.counting.model.as_ref().map(|m| m.name.clone()),
            context_window: self.counting.model.as_ref().and_then(|m| m.context_window),
            price: self.counting.model.as_ref().and_then(|m| m.input_price),
            framing: self.framing(),
            warm,
            optimal_deadline: self.engine.optimal_deadline,
            summarizer: self.engine.summarizer.clone(),
        })
    }

    /// Sets the `optimal` strategy's deadline per engine run (`None`: none;
    /// default [`INSPECTOR_OPTIMAL_DEADLINE`](crate::engine::INSPECTOR_OPTIMAL_DEADLINE)).
    pub(crate) fn set_optimal_deadline(&mut self, deadline: Option<Duration>) {
        self.engine.optimal_deadline = deadline;
    }

    /// Sets the summarizer for overflow `summarize` (`None`: such items are
    /// degraded, with a warning).
    pub fn set_summarizer(&mut self, summarizer: Option<crate::summarize::CommandSummarizer>) {
        self.engine.summarizer = summarizer;
    }

    /// How chat requests are framed: the model's framing, or the one of the
    /// tokenizer's encoding when no model is chosen; `None` when none is
    /// known.
    pub(crate) fn framing(&self) -> Option<crate::tokens::ChatFraming> {
        match &self.counting.model {
            Some(m) => m.chat,
            None => crate::tokens::chat_framing(None, &self.counting.tokenizer),
        }
    }

    /// Queues an engine run for the current settings; while a tokenizer
    /// file loads, only makes older runs stale (the run starts when the file
    /// arrives).
    pub(crate) fn request_pack(&mut self) {
        self.jobs.generations.issue(JobKind::Pack);
        if self.counting.load.is_some() {
            self.engine.requested_at = None;
            self.engine.slow = false;
            self.jobs.progress.remove(&JobKind::Pack);
            self.dirty = true;
            return;
        }
        if let Some(req) = self.pack_request() {
            self.engine.requested_at = Some(Instant::now());
            self.jobs.push(Job::Pack(req));
        }
        self.dirty = true;
    }

    fn request_frontier(&mut self) {
        let Some(mut pack) = self.pack_request() else {
            return;
        };
        let key_tuning = Tuning {
            total: None,
            ..self.tuning.clone()
        };
        let max_budget = self.frontier_max();
        let key = (
            self.load.generation,
            key_tuning,
            self.counting.tokenizer.id(),
            max_budget,
        );
        if self.frontier.key.as_ref() == Some(&key) {
            return;
        }
        self.frontier.key = Some(key);
        pack.generation = self.jobs.generations.issue(JobKind::Frontier);
        pack.warm = false;
        self.jobs.push(Job::Frontier(FrontierRequest {
            pack,
            max_budget,
            steps: FRONTIER_STEPS,
        }));
    }

    /// The largest budget on the frontier chart: about twice the budget (or
    /// what the plan uses, when more), rounded up to a round number (1, 2,
    /// 2.5 or 5 times a power of ten) so that small budget changes keep the
    /// chart; at most the model's context window less the output reserve,
    /// but never below the budget itself.
    pub(crate) fn frontier_max(&self) -> usize {
        let budget = self.engine.plan.as_ref().map_or(0, |p| {
            p.budget.total.max(p.totals.used).max(p.totals.context)
        });
        let mut top = round_up(budget.saturating_mul(2)).max(1);
        let reserve = self
            .tuning
            .reserve_output
            .or(self.base.as_ref().map(|b| b.budget.reserve_output))
            .unwrap_or(0);
        if let Some(w) = self.counting.model.as_ref().and_then(|m| m.context_window) {
            top = top.min(w.saturating_sub(reserve)).max(budget).max(1);
        }
        top
    }

    /// Takes the output of a background job; stale results are dropped.
    pub fn on_job(&mut self, out: JobOutput) {
        match out {
            JobOutput::Progress {
                kind,
                generation,
                done,
                total,
            } => {
                if self.jobs.generations.is_current(kind, generation) {
                    self.jobs.progress.insert(kind, (done, total));
                    self.dirty = true;
                }
            }
            JobOutput::Packed {
                generation,
                result,
                elapsed,
                warmed,
            } => {
                if let Some(id) = warmed {
                    self.counting.warm.insert((id, self.load.generation));
                }
                if !self.jobs.generations.is_current(JobKind::Pack, generation) {
                    return;
                }
                self.jobs.progress.remove(&JobKind::Pack);
                self.engine.requested_at = None;
                self.engine.slow = false;
                self.engine.elapsed = Some(elapsed);
                match result {
                    Ok(plan) => {
                        self.take_plan(plan, generation);
                        self.request_frontier();
                    }
                    Err(e) => {
                        self.log_only(LogSource::Engine, e.clone(), true);
                        self.engine.error = Some(e);
                    }
                }
                self.dirty = true;
            }
            JobOutput::Frontier { generation, points } => {
                if !self
                    .jobs
                    .generations
                    .is_current(JobKind::Frontier, generation)
                {
                    return;
                }
                self.jobs.progress.remove(&JobKind::Frontier);
                let (priority_total, item_total) =
                    self.engine.plan.as_ref().map_or((0.0, 0), |p| {
                        (
                            p.items.iter().map(|i| i.priority.max(0.0)).sum(),
                            p.items.len(),
                        )
                    });
                self.frontier.chart = Some(Frontier {
                    points,
                    priority_total,
                    item_total,
                });
                self.dirty = true;
            }
            JobOutput::Loaded { generation, result } => {
                if !self.jobs.generations.is_current(JobKind::Load, generation)
                    || !self.load.loading
                {
                    return;
                }
                self.load.changed_files.clear();
                match result {
                    Ok(Some(set)) => self.set_loaded(set),
                    Ok(None) => {
                        self.load.loading = false;
                        self.load.reload_pending = false;
                        self.dirty = true;
                    }
                    Err(e) => self.set_load_error(e),
                }
            }
            JobOutput::History { generation, result } => self.on_history(generation, result),
            JobOutput::Tokenizer { generation, result } => self.on_tokenizer(generation, result),
            JobOutput::Written {
                generation,
                path,
                result,
            } => self.on_written(generation, path, result),
        }
    }

    /// Installs a new plan: highlights what changed, keeps the selection on
    /// the same section and item.
    pub fn take_plan(&mut self, plan: Plan, generation: u64) {
        let now = Instant::now();
        let mut changed_count = 0;
        if let Some(old) = &self.engine.plan {
            let before: FxHashMap<&str, (ItemStatus, usize)> = old
                .items
                .iter()
                .map(|i| (i.id.as_str(), (i.status, i.final_tokens)))
                .collect();
            for item in &plan.items {
                let now_state = (item.status, item.final_tokens);
                let was = before.get(item.id.as_str());
                if was.is_some_and(|w| *w != now_state)
                    || (was.is_none() && self.load.reload_pending)
                {
                    self.items.changed.insert(item.id.clone(), now);
                    changed_count += 1;
                }
            }
        }
        if self.load.reload_pending && self.engine.plan.is_some() {
            let what = self
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            self.info_from(
                LogSource::Load,
                format!(
                    "reloaded {what}: {changed_count} item{} changed",
                    if changed_count == 1 { "" } else { "s" }
                ),
            );
        }
        self.load.reload_pending = false;
        // The plan's warnings the last plan did not have (those from
        // loading were logged when the set came).
        let new_warnings: Vec<String> = plan
            .warnings
            .iter()
            .filter(|w| {
                self.engine
                    .plan
                    .as_ref()
                    .is_none_or(|old| !old.warnings.contains(w))
            })
            .filter(|w| self.base.as_ref().is_none_or(|b| !b.warnings.contains(w)))
            .map(|w| w.to_string())
            .collect();
        for w in new_warnings {
            self.log_only(LogSource::Engine, w, true);
        }
        let keep_section = self.selected_section().map(|s| s.name.clone());
        let keep_item = self.selected_item().map(|i| i.id.clone());
        self.engine.tokenizer = Some(self.counting.tokenizer.clone());
        self.engine.plan = Some(plan);
        self.engine.error = None;
        self.engine.generation = generation;
        if let Some(i) = keep_section.and_then(|name| {
            self.engine
                .plan
                .as_ref()
                .and_then(|p| p.sections.iter().position(|s| s.name == name))
        }) {
            self.sections.sel = i;
        }
        self.clamp_sections();
        self.refresh_visible(keep_item.as_deref());
        self.dirty = true;
    }

    // ----- time ----------------------------------------------------------

    /// Advances time: expires highlights and messages, notices slow runs.
    pub fn on_tick(&mut self, now: Instant) {
        self.ticks = self.ticks.wrapping_add(1);
        let before = self.items.changed.len();
        self.items
            .changed
            .retain(|_, at| now.saturating_duration_since(*at) < HIGHLIGHT_FOR);
        if self.items.changed.len() != before {
            self.dirty = true;
        }
        if self
            .status
            .as_ref()
            .is_some_and(|s| !s.error && now.saturating_duration_since(s.at) >= STATUS_FOR)
        {
            self.status = None;
            self.dirty = true;
        }
        if self
            .engine
            .requested_at
            .is_some_and(|at| now.saturating_duration_since(at) >= SLOW_AFTER)
        {
            self.engine.slow = true;
        }
        if self.busy() {
            // The spinner moves.
            self.dirty = true;
        }
    }

    /// Whether background work is running that the screen shows.
    pub fn busy(&self) -> bool {
        self.engine.slow
            || self.load.loading
            || self.history.loading
            || self.counting.load.is_some()
            || !self.jobs.progress.is_empty()
            || !self.writes.pending.is_empty()
    }

    /// The terminal was resized.
    pub fn on_resize(&mut self, width: u16, height: u16) {
        self.size = Rect::new(0, 0, width, height);
        self.clamp_sections();
        self.ensure_item_visible();
        self.detail.scroll = self.detail.scroll.min(self.detail_max_scroll());
        self.clamp_history_scroll();
        // A popup scrolled further than its last page now allows.
        let help_max = super::view::help_max_scroll(self);
        let log_max = super::view::log_max_scroll(self);
        match &mut self.popup {
            Some(Popup::Help { scroll }) => *scroll = (*scroll).min(help_max),
            Some(Popup::Log { scroll }) => *scroll = (*scroll).min(log_max),
            _ => {}
        }
        self.dirty = true;
    }

    /// Shows information in the status line (and logs it).
    pub(crate) fn info(&mut self, text: String) {
        self.info_from(LogSource::Inspector, text);
    }

    /// Shows an error in the status line (and logs it).
    pub(crate) fn error(&mut self, text: String) {
        self.error_from(LogSource::Inspector, text);
    }

    fn set_status(&mut self, text: String, error: bool) {
        self.status = Some(Status {
            text,
            error,
            at: Instant::now(),
        });
        self.dirty = true;
    }

    // ----- actions -------------------------------------------------------

    /// A key press: the open popup or the filter takes it, else the keymap
    /// turns it into an action.
    pub fn on_key(&mut self, key: KeyEvent) {
        if self.popup.is_some() {
            self.popup_key(key);
        } else if self.items.filter_editing {
            self.filter_key(key);
        } else if let Some(action) = self.keymap.action_in(self.view, &key) {
            self.update(action);
        }
        self.dirty = true;
    }

    /// Applies one action (in the History view, the view's meaning of it).
    pub fn update(&mut self, action: Action) {
        self.dirty = true;
        if self.view == View::History && self.history_update(action) {
            return;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => {
                self.popup = match self.popup {
                    Some(Popup::Help { .. }) => None,
                    _ => Some(Popup::Help { scroll: 0 }),
                }
            }
            Action::FocusNext => {
                self.focus = match self.focus {
                    Pane::Sections => Pane::Items,
                    Pane::Items => Pane::Detail,
                    Pane::Detail => Pane::Sections,
                }
            }
            Action::FocusPrev => {
                self.focus = match self.focus {
                    Pane::Sections => Pane::Detail,
                    Pane::Items => Pane::Sections,
                    Pane::Detail => Pane::Items,
                }
            }
            Action::Down => self.move_by(1),
            Action::Up => self.move_by(-1),
            Action::PageDown => self.move_by(self.page() as isize),
            Action::PageUp => self.move_by(-(self.page() as isize)),
            Action::First => self.move_by(isize::MIN / 2),
            Action::Last => self.move_by(isize::MAX / 2),
            Action::ShareGrow => self.change_share(1.0),
            Action::ShareShrink => self.change_share(-1.0),
            Action::ShareGrowMore => self.change_share(5.0),
            Action::ShareShrinkMore => self.change_share(-5.0),
            Action::SectionSize => {
                if let Some(s) = self.selected_section() {
                    let name = s.name.clone();
                    let value = self.section_size_text(&name);
                    self.popup = Some(Popup::Prompt(Prompt::new(
                        PromptKind::SectionSize(name),
                        value,
                    )));
                }
            }
            Action::StrategyNext => self.cycle_strategy(1),
            Action::StrategyPrev => self.cycle_strategy(-1),
            Action::OverflowNext => self.cycle_overflow(1),
            Action::OverflowPrev => self.cycle_overflow(-1),
            Action::ToggleReallocate => {
                let now = self.effective_budget_flag();
                self.change(|t| t.reallocate = Some(!now));
            }
            Action::PickModel => {
                let selected = self
                    .counting
                    .model
                    .as_ref()
                    .and_then(|m| self.models.iter().position(|x| x.name == m.name))
                    .unwrap_or(0);
                self.popup = Some(Popup::Models(ModelPicker {
                    query: String::new(),
                    selected,
                }));
            }
            Action::EditBudget => {
                let value = self
                    .engine
                    .plan
                    .as_ref()
                    .map(|p| p.budget.total.to_string())
                    .unwrap_or_default();
                self.popup = Some(Popup::Prompt(Prompt::new(PromptKind::Budget, value)));
            }
            Action::EditReserve => {
                let value = self
                    .tuning
                    .reserve_output
                    .or(self.base.as_ref().map(|b| b.budget.reserve_output))
                    .unwrap_or(0)
                    .to_string();
                self.popup = Some(Popup::Prompt(Prompt::new(PromptKind::Reserve, value)));
            }
            Action::TogglePin => {
                if let Some(item) = self.selected_item() {
                    let id = item.id.clone();
                    let pinned = self.item_pinned(&id);
                    let loaded = self.loaded_item(&id).map(|i| (i.pinned, i.priority));
                    self.change(|t| {
                        let e = t.items.entry(id.clone()).or_default();
                        e.pinned = Some(!pinned);
                        // Back to the loaded value: no longer a change.
                        if loaded.is_some_and(|(p, _)| p != pinned) {
                            e.pinned = None;
                        }
                        if e.pinned.is_none() && e.priority.is_none() {
                            t.items.remove(&id);
                        }
                    });
                }
            }
            Action::PriorityUp => self.nudge_priority(0.1),
            Action::PriorityDown => self.nudge_priority(-0.1),
            Action::EditPriority => {
                if let Some(item) = self.selected_item() {
                    let id = item.id.clone();
                    let value = format_priority(self.item_priority(&id));
                    self.popup = Some(Popup::Prompt(Prompt::new(PromptKind::Priority(id), value)));
                }
            }
            Action::Undo => {
                if let Some(prev) = self.edits.undo.pop() {
                    let cur = std::mem::replace(&mut self.tuning, prev);
                    self.edits.redo.push(cur);
                    self.after_change();
                    self.info(format!("undone ({} more)", self.edits.undo.len()));
                } else {
                    self.info("nothing to undo".to_string());
                }
            }
            Action::Redo => {
                if let Some(next) = self.edits.redo.pop() {
                    let cur = std::mem::replace(&mut self.tuning, next);
                    self.edits.undo.push(cur);
                    self.after_change();
                    self.info(format!("redone ({} more)", self.edits.redo.len()));
                } else {
                    self.info("nothing to redo".to_string());
                }
            }
            Action::CycleSort => {
                self.items.sort = self.items.sort.next();
                let keep = self.selected_item().map(|i| i.id.clone());
                self.refresh_visible(keep.as_deref());
            }
            Action::Filter => {
                self.items.filter_editing = true;
                self.focus = Pane::Items;
            }
            Action::ClearFilter => {
                if !self.items.filter.is_empty() {
                    self.items.filter.clear();
                    let keep = self.selected_item().map(|i| i.id.clone());
                    self.refresh_visible(keep.as_deref());
                }
            }
            Action::CycleTheme => {
                let next = Theme::next_name(&self.theme.name);
                match Theme::bundled(next) {
                    Ok(t) => {
                        self.theme = t;
                        self.info(format!("theme {next}"));
                    }
                    Err(e) => self.error(e.to_string()),
                }
            }
            Action::Export => {
                if self.engine.plan.is_none() {
                    self.error("no plan to export yet".to_string());
                } else {
                    self.popup = Some(Popup::Export(ExportDialog {
                        format: 0,
                        path: self.export_path(0),
                        edited: false,
                        error: None,
                        overwrite: false,
                    }));
                }
            }
            Action::SaveProfile => {
                if self.base.is_none() {
                    self.error("nothing loaded to save".to_string());
                } else {
                    self.popup = Some(Popup::Prompt(Prompt::new(
                        PromptKind::ProfileName,
                        "tuned".to_string(),
                    )));
                }
            }
            Action::ToggleHistory => self.open_history(),
            Action::ToggleCounts => {
                self.exact_counts = !self.exact_counts;
                self.info(if self.exact_counts {
                    "counts in full (1,234)".to_string()
                } else {
                    "counts compact (1.2k)".to_string()
                });
            }
            Action::ShowLog => {
                self.popup = match self.popup {
                    Some(Popup::Log { .. }) => None,
                    _ => Some(Popup::Log {
                        scroll: crate::tui::view::log_max_scroll(self),
                    }),
                }
            }
            Action::ReloadHistory => self.request_history(),
            Action::ToggleTrendPeriod => self.toggle_trend_period(),
            Action::None => {}
        }
    }

    /// Records the current settings for undo, applies `f`, and recomputes
    /// when anything changed.
    pub(crate) fn change(&mut self, f: impl FnOnce(&mut Tuning)) {
        let before = self.tuning.clone();
        f(&mut self.tuning);
        if self.tuning != before {
            self.edits.undo.push(before);
            self.edits.redo.clear();
            self.after_change();
        }
    }

    fn after_change(&mut self) {
        let model_before = self.counting.model.as_ref().map(|m| m.name.clone());
        self.resolve_model();
        let model_after = self.counting.model.as_ref().map(|m| m.name.clone());
        // The token marks follow the plan on screen: while a tokenizer file
        // loads, that plan (and its tokenizer) stays.
        if model_before != model_after && self.counting.load.is_none() {
            self.detail.cache = None;
        }
        self.request_pack();
    }

    fn effective_budget_flag(&self) -> bool {
        self.tuning
            .reallocate
            .or(self.base.as_ref().map(|b| b.budget.reallocate))
            .unwrap_or(true)
    }

    fn cycle_strategy(&mut self, step: isize) {
        let cur = self
            .tuning
            .strategy
            .or(self.base.as_ref().map(|b| b.budget.strategy))
            .unwrap_or(Strategy::Greedy);
        let next = cycle(Strategy::ALL, cur, step);
        self.change(|t| t.strategy = Some(next));
    }

    fn cycle_overflow(&mut self, step: isize) {
        let cur = self
            .tuning
            .overflow
            .or(self.base.as_ref().map(|b| b.budget.overflow))
            .unwrap_or(Overflow::Drop);
        let next = cycle(Overflow::ALL, cur, step);
        self.change(|t| t.overflow = Some(next));
    }

    fn change_share(&mut self, points: f64) {
        let (Some(base), Some(section)) = (self.base.clone(), self.selected_section()) else {
            return;
        };
        let name = section.name.clone();
        let budgets = self.tuning.section_budgets(&base);
        match budgets.iter().find(|(n, _)| *n == name).map(|(_, b)| *b) {
            Some(SectionBudget::Share(_)) => {
                let current = tuning::normalised_share(&budgets, &name).unwrap_or(0.0);
                match tuning::rescale_shares(&budgets, &name, current.round() + points) {
                    Some(shares) => self.change(|t| {
                        for (n, p) in shares {
                            t.sections.insert(n, SectionBudget::Share(p));
                        }
                    }),
                    None => self.info(format!(
                        "`{name}` is the only section with a share; give it an absolute size with {}",
                        self.keymap.keys_for(Action::SectionSize)
                    )),
                }
            }
            Some(SectionBudget::Tokens(n)) => {
                let total = self.engine.plan.as_ref().map_or(0, |p| p.budget.total);
                let step = ((total / 100).max(1) as f64 * points.abs()) as usize;
                let new = if points > 0.0 {
                    n.saturating_add(step)
                } else {
                    n.saturating_sub(step)
                };
                self.change(|t| {
                    t.sections.insert(name, SectionBudget::Tokens(new));
                });
            }
            None => {}
        }
    }

    fn section_size_text(&self, name: &str) -> String {
        let Some(base) = &self.base else {
            return String::new();
        };
        let budgets = self.tuning.section_budgets(base);
        match budgets.iter().find(|(n, _)| n == name).map(|(_, b)| *b) {
            Some(SectionBudget::Tokens(n)) => n.to_string(),
            Some(SectionBudget::Share(_)) => {
                let p = tuning::normalised_share(&budgets, name).unwrap_or(0.0);
                format!("{}%", format_priority(p))
            }
            None => String::new(),
        }
    }

    fn loaded_item(&self, id: &str) -> Option<&crate::engine::Item> {
        self.base.as_ref()?.items.iter().find(|i| i.id == id)
    }

    pub(crate) fn item_pinned(&self, id: &str) -> bool {
        self.tuning
            .items
            .get(id)
            .and_then(|t| t.pinned)
            .or_else(|| {
                self.base
                    .as_ref()
                    .and_then(|b| b.items.iter().find(|i| i.id == id))
                    .map(|i| i.pinned)
            })
            .unwrap_or(false)
    }

    pub(crate) fn item_priority(&self, id: &str) -> f64 {
        self.tuning
            .items
            .get(id)
            .and_then(|t| t.priority)
            .or_else(|| {
                self.base
                    .as_ref()
                    .and_then(|b| b.items.iter().find(|i| i.id == id))
                    .map(|i| i.priority)
            })
            .unwrap_or(1.0)
    }

    fn nudge_priority(&mut self, by: f64) {
        let Some(item) = self.selected_item() else {
            return;
        };
        let id = item.id.clone();
        let p = ((self.item_priority(&id) + by) * 10.0).round() / 10.0;
        let p = p.max(0.0);
        self.set_priority(id, p);
    }

    pub(crate) fn set_priority(&mut self, id: String, priority: f64) {
        self.change(|t| {
            let e: &mut ItemTuning = t.items.entry(id).or_default();
            e.priority = Some(priority);
        });
    }

    fn page(&self) -> usize {
        let l = super::view::layout::compute(self.size, self.section_rows_wanted());
        let h = match self.focus {
            Pane::Sections => l.sections.height,
            Pane::Items => l.items.height,
            Pane::Detail => l.detail.height,
        };
        (h as usize).saturating_sub(3).max(1)
    }

    pub(crate) fn section_rows_wanted(&self) -> usize {
        self.engine.plan.as_ref().map_or(0, |p| p.sections.len())
    }
}

fn cycle<T: Copy + PartialEq>(all: &[T], cur: T, step: isize) -> T {
    let n = all.len() as isize;
    let i = all.iter().position(|x| *x == cur).unwrap_or(0) as isize;
    all[((i + step).rem_euclid(n)) as usize]
}

/// The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a
/// power of ten) that is at least `n` (`n` itself for 0).
pub(crate) fn round_up(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let mut p: usize = 1;
    loop {
        for m in [10, 12, 15, 20, 25, 30, 40, 50, 60, 80] {
            let v = p.saturating_mul(m) / 10;
            if v >= n {
                return v;
            }
        }
        if p > usize::MAX / 100 {
            return n;
        }
        p *= 10;
    }
}

/// A priority or share without needless decimals: `1`, `0.5`, `0.35`.
pub(crate) fn format_priority(p: f64) -> String {
    let s = format!("{:.2}", p);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}
