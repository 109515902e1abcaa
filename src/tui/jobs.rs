//! Background work: engine runs, the budget frontier, loading inputs,
//! loading a model's tokenizer file, reading the usage history and writing
//! files (the report export, a profile) run off the UI thread, each job
//! tagged with a generation number issued by [`Generations`]. A newer
//! request makes older ones stale: workers skip stale requests, abandon
//! stale work between steps, and the app drops stale results. Writes are
//! the exception on the worker side: every write requested runs, in order
//! (a later write to the same file lands last); the app drops the answer of
//! a write superseded by a newer one to the same file.
//!
//! Each kind of job has one worker thread with its own [`Executor`], which
//! keeps a working copy of the item set: a settings change resets and
//! re-applies the tunable fields in place instead of cloning every item's
//! text, so a recompute costs an engine run and little else.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::engine::{self, Cancel, Content, ItemSet, ItemStatus, OptimalLimits, PackContext, Plan};
use crate::history::{self, Period, Report, ReportOptions};
use crate::tokens::{
    ChatFraming, CountCache, ModelRegistry, ModelTokenizerFile, Tokenizer, TokenizerId,
};

use crate::input::profile::{ProfileSettings, save_profile};
use crate::report::{self, Format, write_report_file};

use super::terminal::catch_quietly;
use super::tuning::Tuning;

/// Loads the inputs into an item set (with profile and command-line settings
/// applied). Given no paths it loads everything; given the paths that changed
/// on disk it reloads what they touch and answers `Ok(None)` when they touch
/// none of the inputs. The error is the message to show.
pub type Loader = Arc<dyn Fn(&[PathBuf]) -> Result<Option<ItemSet>, String> + Send + Sync>;

/// What an engine run needs: the loaded set, the user's settings, the
/// tokenizer and the model's name and price.
#[derive(Clone)]
pub struct PackRequest {
    /// The generation this request belongs to.
    pub generation: u64,
    /// The item set as loaded.
    pub base: Arc<ItemSet>,
    /// The user's settings over it (the total already resolved in it).
    pub tuning: Tuning,
    /// The tokenizer.
    pub tokenizer: Tokenizer,
    /// The model name, for the report.
    pub model: Option<String>,
    /// The model's context window, used when the set gives no total.
    pub context_window: Option<usize>,
    /// Input price per million tokens.
    pub price: Option<f64>,
    /// The model's chat framing (for chat requests).
    pub framing: Option<ChatFraming>,
    /// Count every text first, reporting progress (a tokenizer not used yet).
    pub warm: bool,
    /// The `optimal` strategy's deadline for the run (`None`: none).
    pub optimal_deadline: Option<Duration>,
    /// The summarizer for overflow `summarize` (`None`: degrade instead).
    pub summarizer: Option<crate::summarize::CommandSummarizer>,
}

/// A request for the budget frontier: the engine at `steps + 1` budgets from
/// 0 to `max_budget`.
#[derive(Clone)]
pub struct FrontierRequest {
    /// The engine settings (the total is replaced at each step).
    pub pack: PackRequest,
    /// The largest budget on the chart.
    pub max_budget: usize,
    /// How many intervals between 0 and `max_budget`.
    pub steps: usize,
}

/// A request to (re)load the inputs.
#[derive(Clone)]
pub struct LoadRequest {
    /// The generation this request belongs to.
    pub(crate) generation: u64,
    /// The files that changed since the last completed load (empty: load
    /// everything).
    pub(crate) changed: Vec<PathBuf>,
    /// What loads the inputs.
    pub(crate) loader: Loader,
}

/// A request to read the usage history and analyse it for the History view.
#[derive(Clone)]
pub struct HistoryRequest {
    /// The generation this request belongs to.
    pub(crate) generation: u64,
    /// The history file (a missing file is an empty history).
    pub(crate) file: PathBuf,
    /// The trend by day or by week.
    pub(crate) period: Period,
    /// The time the alerts look back from.
    pub(crate) now: OffsetDateTime,
    /// Prices for the savings; `None` leaves costs out.
    pub(crate) registry: Option<Arc<ModelRegistry>>,
}

/// A request to load the tokenizer file a model names (`tokenizer_file` in
/// a models.toml): parsing a large `tokenizer.json` takes seconds, so it
/// never runs on the UI thread.
#[derive(Clone)]
pub struct TokenizerRequest {
    /// The generation this request belongs to.
    pub generation: u64,
    /// The file and the model that names it.
    pub file: ModelTokenizerFile,
}

/// A file to write: the report export or a profile. The app checks the
/// request first (the path, replacing a file); the worker writes.
#[derive(Clone)]
pub struct WriteRequest {
    /// The generation this request belongs to.
    pub generation: u64,
    /// The file written.
    pub path: PathBuf,
    /// What is written there.
    pub what: WriteWhat,
    /// The message to show once written.
    pub done: String,
}

/// What a [`WriteRequest`] writes.
#[derive(Clone)]
pub enum WriteWhat {
    /// A report of the plan (atomically, through the report module).
    Report {
        /// The plan on screen when the export was asked for.
        plan: Arc<Plan>,
        /// The report format.
        format: Format,
        /// The report's options (title, width).
        options: report::ReportOptions,
    },
    /// The tuned settings as a profile (the file's comments and layout
    /// kept, through the profile module).
    Profile {
        /// The profile's name.
        name: String,
        /// The item set as loaded.
        base: Arc<ItemSet>,
        /// The user's settings over it.
        tuning: Tuning,
        /// The model's context window (the total when the set has none).
        context_window: Option<usize>,
    },
}

/// A unit of background work.
#[derive(Clone)]
pub enum Job {
    /// Run the engine.
    Pack(PackRequest),
    /// Compute the budget frontier.
    Frontier(FrontierRequest),
    /// Load the inputs.
    Load(LoadRequest),
    /// Read and analyse the usage history.
    History(HistoryRequest),
    /// Load a model's tokenizer file.
    Tokenizer(TokenizerRequest),
    /// Write a file.
    Write(WriteRequest),
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Pack(p) => write!(f, "Pack(gen {})", p.generation),
            Job::Frontier(r) => write!(f, "Frontier(gen {})", r.pack.generation),
            Job::Load(l) => write!(f, "Load(gen {})", l.generation),
            Job::History(h) => write!(f, "History(gen {})", h.generation),
            Job::Tokenizer(t) => write!(
                f,
                "Tokenizer(gen {}, {})",
                t.generation,
                t.file.path.display()
            ),
            Job::Write(w) => write!(f, "Write(gen {}, {})", w.generation, w.path.display()),
        }
    }
}

/// The kinds of job; each has its own worker and generation counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Engine runs.
    Pack,
    /// The budget frontier.
    Frontier,
    /// Loading inputs.
    Load,
    /// Reading the usage history.
    History,
    /// Loading a model's tokenizer file.
    Tokenizer,
    /// Writing files.
    Write,
}

impl JobKind {
    /// Every kind, one worker each.
    pub const ALL: [JobKind; 6] = [
        JobKind::Pack,
        JobKind::Frontier,
        JobKind::Load,
        JobKind::History,
        JobKind::Tokenizer,
        JobKind::Write,
    ];

    /// Whether a newer job of this kind makes older ones stale. Writes do
    /// not: each one asked for is written.
    pub fn supersedes(self) -> bool {
        self != JobKind::Write
    }
}

/// The newest generation issued per job kind: the one way the app numbers
/// its jobs and tells current answers from stale ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Generations {
    latest: [u64; JobKind::ALL.len()],
}

impl Generations {
    /// A new generation of `kind`: every answer to an older one is stale
    /// from now on.
    pub(crate) fn issue(&mut self, kind: JobKind) -> u64 {
        let g = &mut self.latest[kind as usize];
        *g += 1;
        *g
    }

    /// The newest generation issued of `kind` (0: none yet).
    pub(crate) fn current(&self, kind: JobKind) -> u64 {
        self.latest[kind as usize]
    }

    /// Whether an answer of `kind` and `generation` is for the newest
    /// request (else it is stale and dropped).
    pub(crate) fn is_current(&self, kind: JobKind, generation: u64) -> bool {
        self.current(kind) == generation
    }
}

impl Job {
    /// The job's kind.
    pub fn kind(&self) -> JobKind {
        match self {
            Job::Pack(_) => JobKind::Pack,
            Job::Frontier(_) => JobKind::Frontier,
            Job::Load(_) => JobKind::Load,
            Job::History(_) => JobKind::History,
            Job::Tokenizer(_) => JobKind::Tokenizer,
            Job::Write(_) => JobKind::Write,
        }
    }

    /// The job's generation.
    pub fn generation(&self) -> u64 {
        match self {
            Job::Pack(p) => p.generation,
            Job::Frontier(r) => r.pack.generation,
            Job::Load(l) => l.generation,
            Job::History(h) => h.generation,
            Job::Tokenizer(t) => t.generation,
            Job::Write(w) => w.generation,
        }
    }
}

/// One point of the budget frontier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrontierPoint {
    /// The total budget.
    pub budget: usize,
    /// The total priority of the items kept.
    pub priority: f64,
    /// How many items are kept.
    pub items: usize,
}

/// What a job reports back to the UI loop.
#[derive(Debug, Clone)]
pub enum JobOutput {
    /// Work in progress.
    Progress {
        /// Which job.
        kind: JobKind,
        /// Its generation.
        generation: u64,
        /// Steps done.
        done: usize,
        /// Steps in all.
        total: usize,
    },
    /// An engine run finished.
    Packed {
        /// Its generation.
        generation: u64,
        /// The plan, or the engine's error.
        result: Result<Plan, String>,
        /// How long the run took (counting included).
        elapsed: Duration,
        /// The tokenizer whose counts are now all cached, when the job warmed it.
        warmed: Option<TokenizerId>,
    },
    /// The frontier is ready.
    Frontier {
        /// Its generation.
        generation: u64,
        /// Points by ascending budget.
        points: Vec<FrontierPoint>,
    },
    /// Loading finished.
    Loaded {
        /// Its generation.
        generation: u64,
        /// The item set (`None`: the change did not touch the inputs), or the
        /// error to show (the last good set is kept).
        result: Result<Option<ItemSet>, String>,
    },
    /// The usage history was read and analysed.
    History {
        /// Its generation.
        generation: u64,
        /// The report (boxed: it is large), or the error to show: the file
        /// and line of a malformed record, or why the file cannot be read.
        result: Result<Box<Report>, String>,
    },
    /// A model's tokenizer file was loaded.
    Tokenizer {
        /// Its generation.
        generation: u64,
        /// The exact tokenizer of the file, or the error to show: the
        /// models.toml (line and column), the model, the file and what is
        /// wrong with it.
        result: Result<Tokenizer, String>,
    },
    /// A file was written (or not).
    Written {
        /// Its generation.
        generation: u64,
        /// The file.
        path: PathBuf,
        /// The message to show, or the error: the file and why it cannot
        /// be written.
        result: Result<String, String>,
    },
}

/// Texts counted per progress step when warming a tokenizer.
const WARM_CHUNK: usize = 256;

/// Runs jobs; keeps a working copy of the item set between engine runs.
#[derive(Default)]
pub struct Executor {
    copy: Option<(Arc<ItemSet>, ItemSet)>,
}

impl Executor {
    /// An executor with no working copy yet.
    pub fn new() -> Executor {
        Executor::default()
    }

    /// Runs `job`. `stale` says whether a newer request has arrived (the job
    /// then stops early and returns `None`; an engine run's `optimal` search
    /// polls it too); `progress` receives progress.
    pub fn run(
        &mut self,
        job: Job,
        cache: &CountCache,
        stale: &Cancel,
        progress: &mut dyn FnMut(JobOutput),
    ) -> Option<JobOutput> {
        match job {
            Job::Pack(req) => self.pack(req, cache, stale, progress),
            Job::Frontier(req) => self.frontier(req, cache, stale, progress),
            Job::Load(req) => {
                let result = catch_quietly(|| (req.loader)(&req.changed)).unwrap_or_else(|| {
                    Err("loading the inputs failed (internal error)".to_string())
                });
                Some(JobOutput::Loaded {
                    generation: req.generation,
                    result,
                })
            }
            Job::History(req) => Some(JobOutput::History {
                generation: req.generation,
                result: read_history(&req),
            }),
            Job::Tokenizer(req) => Some(JobOutput::Tokenizer {
                generation: req.generation,
                result: load_tokenizer(&req.file),
            }),
            Job::Write(req) => Some(JobOutput::Written {
                generation: req.generation,
                result: write_file(&req),
                path: req.path,
            }),
        }
    }

    /// The working copy of `base` with `tuning` applied.
    fn effective(&mut self, req: &PackRequest) -> &mut ItemSet {
        let reuse = matches!(&self.copy, Some((b, _)) if Arc::ptr_eq(b, &req.base));
        if !reuse {
            self.copy = Some((req.base.clone(), (*req.base).clone()));
        }
        let (base, copy) = self.copy.as_mut().expect("set just above");
        req.tuning.apply_in_place(base, copy, req.context_window);
        copy
    }

    fn pack(
        &mut self,
        req: PackRequest,
        cache: &CountCache,
        stale: &Cancel,
        progress: &mut dyn FnMut(JobOutput),
    ) -> Option<JobOutput> {
        let start = Instant::now();
        let mut warmed = None;
        if req.warm {
            let texts: Vec<&str> = req
                .base
                .items
                .iter()
                .filter_map(|i| match &i.content {
                    Content::Text(t) => Some(t.as_str()),
                    Content::Given(_) => None,
                })
                .collect();
            let total = texts.len();
            for (n, chunk) in texts.chunks(WARM_CHUNK).enumerate() {
                if stale.is_cancelled() {
                    return None;
                }
                cache.count_many(&req.tokenizer, chunk);
                progress(JobOutput::Progress {
                    kind: JobKind::Pack,
                    generation: req.generation,
                    done: ((n + 1) * WARM_CHUNK).min(total),
                    total,
                });
            }
            warmed = Some(req.tokenizer.id());
        }
        if stale.is_cancelled() {
            return None;
        }
        let tokenizer = req.tokenizer.clone();
        let model = req.model.clone();
        let price = req.price;
        let generation = req.generation;
        let set = self.effective(&req);
        let ctx = PackContext {
            tokenizer: &tokenizer,
            cache,
            model,
            price_per_million: price,
            framing: req.framing,
            optimal: optimal_limits(req.optimal_deadline, stale),
            summarizer: req
                .summarizer
                .as_ref()
                .map(|s| s as &dyn crate::engine::Summarizer),
        };
        let result = run_engine(set, &ctx);
        if stale.is_cancelled() {
            // A cancelled `optimal` search may have stopped early: drop it.
            return None;
        }
        Some(JobOutput::Packed {
            generation,
            result,
            elapsed: start.elapsed(),
            warmed,
        })
    }

    fn frontier(
        &mut self,
        req: FrontierRequest,
        cache: &CountCache,
        stale: &Cancel,
        progress: &mut dyn FnMut(JobOutput),
    ) -> Option<JobOutput> {
        let steps = req.steps.max(1);
        let generation = req.pack.generation;
        let tokenizer = req.pack.tokenizer.clone();
        let ctx = PackContext {
            tokenizer: &tokenizer,
            cache,
            model: req.pack.model.clone(),
            price_per_million: req.pack.price,
            framing: req.pack.framing,
            optimal: optimal_limits(req.pack.optimal_deadline, stale),
            summarizer: req
                .pack
                .summarizer
                .as_ref()
                .map(|s| s as &dyn crate::engine::Summarizer),
        };
        let mut budgets: Vec<usize> = (0..=steps)
            .map(|i| (req.max_budget as u128 * i as u128 / steps as u128) as usize)
            .collect();
        let mut pack = req.pack.clone();
        let current = {
            let set = self.effective(&pack);
            set.budget.total
        };
        if let Some(c) = current.filter(|c| *c <= req.max_budget) {
            budgets.push(c);
        }
        budgets.sort_unstable();
        budgets.dedup();
        let mut points = Vec::with_capacity(budgets.len());
        for (n, budget) in budgets.iter().copied().enumerate() {
            if stale.is_cancelled() {
                return None;
            }
            pack.tuning.total = Some(budget);
            let set = self.effective(&pack);
            let (priority, items) = match run_engine(set, &ctx) {
                Ok(plan) => kept(&plan),
                Err(_) => (0.0, 0),
            };
            points.push(FrontierPoint {
                budget,
                priority,
                items,
            });
            progress(JobOutput::Progress {
                kind: JobKind::Frontier,
                generation,
                done: n + 1,
                total: budgets.len(),
            });
        }
        Some(JobOutput::Frontier { generation, points })
    }
}

/// Reads the history file and reports on it as `history report` does.
fn read_history(req: &HistoryRequest) -> Result<Box<Report>, String> {
    let run = || {
        let records = history::load(&req.file).map_err(|e| e.to_string())?;
        let options = ReportOptions {
            now: req.now,
            period: req.period,
            registry: req.registry.as_deref(),
        };
        Ok(Box::new(history::report(&records, &options)))
    };
    catch_quietly(run)
        .unwrap_or_else(|| Err("analysing the history failed (internal error)".to_string()))
}

/// Writes a report or a profile; the request's message, or the error.
fn write_file(req: &WriteRequest) -> Result<String, String> {
    let path = &req.path;
    let run = || match &req.what {
        WriteWhat::Report {
            plan,
            format,
            options,
        } => write_report_file(plan, *format, path, options)
            .map_err(|e| format!("{}: cannot write the report: {e}", path.display())),
        WriteWhat::Profile {
            name,
            base,
            tuning,
            context_window,
        } => {
            let set = tuning.apply(base, *context_window);
            let mut settings = ProfileSettings::from_item_set(&set);
            // A total the user never gave stays unset: it follows the model.
            settings.total = tuning.total.or(base.budget.total);
            save_profile(path, name, &settings).map_err(|e| e.to_string())
        }
    };
    catch_quietly(run)
        .unwrap_or_else(|| {
            Err(format!(
                "{}: writing failed (internal error)",
                path.display()
            ))
        })
        .map(|()| req.done.clone())
}

/// Loads (or takes the already loaded) tokenizer file of a model.
fn load_tokenizer(file: &ModelTokenizerFile) -> Result<Tokenizer, String> {
    catch_quietly(|| file.load().map_err(|e| e.to_string())).unwrap_or_else(|| {
        Err(format!(
            "model `{}`: loading the tokenizer file {} failed (internal error)",
            file.model,
            file.path.display()
        ))
    })
}

/// The limits of an engine run's `optimal` search: the request's deadline,
/// the default memory cap, and `stale` as the cancellation.
fn optimal_limits(deadline: Option<Duration>, stale: &Cancel) -> OptimalLimits {
    OptimalLimits {
        deadline,
        cancel: Some(stale.clone()),
        ..OptimalLimits::default()
    }
}

/// Runs the engine, turning a panic inside it into an error message so that
/// one bad input cannot take the inspector down.
fn run_engine(set: &ItemSet, ctx: &PackContext<'_>) -> Result<Plan, String> {
    match catch_quietly(|| engine::pack(set, ctx)) {
        Some(Ok(plan)) => Ok(plan),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("the engine failed on this input (internal error)".to_string()),
    }
}

/// The total priority and the number of items a plan keeps.
pub fn kept(plan: &Plan) -> (f64, usize) {
    plan.items
        .iter()
        .filter(|i| i.status != ItemStatus::Excluded)
        .fold((0.0, 0), |(p, n), i| (p + i.priority.max(0.0), n + 1))
}

/// The worker threads, one per job kind.
pub struct Workers {
    senders: Vec<(JobKind, Sender<Job>, Arc<AtomicU64>)>,
}

impl Workers {
    /// Starts one worker per job kind; results go to `sink`.
    pub fn start(sink: impl Fn(JobOutput) + Send + Sync + 'static) -> Workers {
        let sink: Arc<dyn Fn(JobOutput) + Send + Sync> = Arc::new(sink);
        let mut senders = Vec::new();
        for kind in JobKind::ALL {
            let (tx, rx) = mpsc::channel::<Job>();
            let latest = Arc::new(AtomicU64::new(0));
            let sink = sink.clone();
            let l = latest.clone();
            let spawned = thread::Builder::new()
                .name(format!("tokenscope-{kind:?}").to_lowercase())
                .spawn(move || worker(rx, l, sink));
            if spawned.is_ok() {
                senders.push((kind, tx, latest));
            }
        }
        Workers { senders }
    }

    /// Queues a job; it makes every older job of its kind stale.
    pub fn submit(&self, job: Job) {
        if let Some((_, tx, latest)) = self.senders.iter().find(|(k, _, _)| *k == job.kind()) {
            latest.fetch_max(job.generation(), Ordering::SeqCst);
            let _ = tx.send(job);
        }
    }
}

fn worker(rx: Receiver<Job>, latest: Arc<AtomicU64>, sink: Arc<dyn Fn(JobOutput) + Send + Sync>) {
    let mut executor = Executor::new();
    let cache = CountCache::global();
    while let Ok(mut job) = rx.recv() {
        let supersedes = job.kind().supersedes();
        // Coalesce a burst: only the newest request matters (every write
        // runs).
        while supersedes && let Ok(newer) = rx.try_recv() {
            job = newer;
        }
        let generation = job.generation();
        let stale = {
            let latest = latest.clone();
            Cancel::new(move || supersedes && latest.load(Ordering::SeqCst) > generation)
        };
        if stale.is_cancelled() {
            continue;
        }
        let out = executor.run(job, cache, &stale, &mut |p| sink(p));
        if let Some(out) = out {
            sink(out);
        }
    }
}

/// Runs jobs on the calling thread, one after the other, collecting their
/// outputs: what tests and benchmarks use instead of [`Workers`].
#[derive(Default)]
pub struct InlineRunner {
    executors: Mutex<Vec<(JobKind, Executor)>>,
}

impl InlineRunner {
    /// A runner with no state yet.
    pub fn new() -> InlineRunner {
        InlineRunner::default()
    }

    /// Runs one job to completion; progress reports included.
    pub fn run(&self, job: Job, cache: &CountCache) -> Vec<JobOutput> {
        let mut outputs = Vec::new();
        let mut executors = self.executors.lock().unwrap_or_else(|e| e.into_inner());
        let kind = job.kind();
        let idx = match executors.iter().position(|(k, _)| *k == kind) {
            Some(i) => i,
            None => {
                executors.push((kind, Executor::new()));
                executors.len() - 1
            }
        };
        let out = executors[idx]
            .1
            .run(job, cache, &Cancel::new(|| false), &mut |p| outputs.push(p));
        outputs.extend(out);
        outputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_are_per_kind_and_only_the_newest_is_current() {
        let mut g = Generations::default();
        assert_eq!(g.current(JobKind::Pack), 0);
        let a = g.issue(JobKind::Pack);
        let b = g.issue(JobKind::Pack);
        assert_eq!((a, b), (1, 2));
        assert!(!g.is_current(JobKind::Pack, a));
        assert!(g.is_current(JobKind::Pack, b));
        // Another kind counts on its own.
        assert_eq!(g.issue(JobKind::Write), 1);
        assert!(g.is_current(JobKind::Pack, b));
        assert!(
            JobKind::ALL
                .iter()
                .all(|k| *k == JobKind::Write || k.supersedes())
        );
        assert!(!JobKind::Write.supersedes());
    }
}
