//! clap definitions for every subcommand.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// See where an LLM context window goes.
#[derive(Debug, Parser)]
#[command(
    name = "tokenscope",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// The subcommand; without one, the inspector opens on the paths.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options for the inspector (no subcommand).
    #[command(flatten)]
    pub inspect: PackArgs,
    /// The inspector's colour theme: dark, light, high-contrast or monochrome
    /// (default: dark, or monochrome when NO_COLOR is set or --color never).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// The usage history the inspector's History view shows (JSON Lines).
    /// Default: `tokenscope/history.jsonl` in the user data directory, as for
    /// `tokenscope history`.
    #[arg(long = "history", value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// The most any one file (or stdin) may hold, e.g. `512M` or `2G`;
    /// replaces the defaults of 256 MiB for inputs and 1 GiB for tokenizer
    /// files.
    #[arg(long, value_name = "SIZE", global = true, allow_negative_numbers = true, value_parser = crate::fsio::parse_size)]
    pub max_file_size: Option<u64>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Exact token counts per file (or per file in a folder) and in total (stdin: `-` or no path).
    Count(CountArgs),
    /// The model registry.
    Models(ModelsArgs),
    /// Run the engine once; write a report or the packed context.
    Pack(PackArgs),
    /// Like pack; exit 1 when a rule is broken (a CI gate).
    Check(PackArgs),
    /// Watch the inputs; print one summary line per change.
    Watch(WatchArgs),
    /// Recorded usage: record a task, import records, report.
    History(super::history::HistoryArgs),
    /// Recommend a budget for a new task from similar recorded ones.
    Predict(super::predict::PredictArgs),
    /// Measure a Claude model's ratio to a base encoding and its error band
    /// on your own files, and write them into your models.toml.
    ///
    /// Sends the text of every file to Anthropic's count_tokens API
    /// ($ANTHROPIC_BASE_URL, default `https://api.anthropic.com`, key in
    /// $ANTHROPIC_API_KEY); counts are cached on disk by content hash. The
    /// ratio is the total API count over the total base count (the model's
    /// estimate base, o200k_base for Claude); the error band is the 95th
    /// percentile of the per-file relative error of the calibrated estimate.
    /// Both go into the model's entry in the config-dir models.toml (or
    /// --models-file), comments kept; --dry-run only prints.
    Calibrate(super::calibrate::CalibrateArgs),
    /// Write a commented tokenscope.toml for this folder (and with
    /// --item-set a starter item set).
    Init(super::init::InitArgs),
    /// Print shell completions: bash, zsh, fish, powershell or elvish.
    Completions(super::init::CompletionsArgs),
    /// Print the manual page (roff), e.g. `tokenscope man > tokenscope.1`.
    Man(super::init::ManArgs),
}

/// Output colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour on a terminal unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Options shared by the commands that count.
#[derive(Debug, Clone, Args, Default)]
pub struct SharedArgs {
    /// A user model registry (TOML) that extends or overrides the built-in one.
    #[arg(long, value_name = "FILE", global = true)]
    pub models_file: Option<PathBuf>,
    /// Colour: auto, always or never (`NO_COLOR` is respected).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
}

/// `tokenscope count`.
#[derive(Debug, Clone, Args)]
pub struct CountArgs {
    /// Files and folders to count (a folder: every file under it, with
    /// `.gitignore` respected); `-` or none reads stdin.
    pub paths: Vec<PathBuf>,
    /// A model from the registry (repeat for side-by-side columns; see
    /// `tokenscope models`). With neither --model nor --encoding, counts use
    /// o200k_base (with --chat: the model each request names).
    #[arg(long = "model", short = 'm', value_name = "MODEL")]
    pub models: Vec<String>,
    /// An encoding: o200k_base (the default), cl100k_base, p50k_base,
    /// r50k_base, or an estimate: chars/4, words*1.3 (repeatable).
    #[arg(long = "encoding", short = 'e', value_name = "ENCODING")]
    pub encodings: Vec<String>,
    /// A HuggingFace tokenizer.json or a tiktoken rank file to count with
    /// exactly (repeatable: one column each).
    #[arg(long = "tokenizer-file", value_name = "FILE")]
    pub tokenizer_files: Vec<PathBuf>,
    /// Count special-token literals such as `<|endoftext|>` as special tokens.
    #[arg(long)]
    pub allow_special: bool,
    /// Each file is an OpenAI chat-completions request: print the prompt
    /// tokens the API bills for it (message framing, names, tools and reply
    /// priming included), with a per-message breakdown for a single file.
    #[arg(long)]
    pub chat: bool,
    /// Only the N largest files (by the first column), then one line for
    /// the rest; the total counts every file. Files are listed largest
    /// first whenever a folder is given.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_top)]
    pub top: Option<usize>,
    /// Folders: count hidden files and folders too.
    #[arg(long)]
    pub hidden: bool,
    /// JSON output (`tokenscope.count/1`).
    #[arg(long)]
    pub json: bool,
    /// Count Claude models exactly with Anthropic's count_tokens API (sends
    /// the text to Anthropic; see --help).
    #[arg(long, value_enum, value_name = "API", long_help = crate::session::COUNT_API_HELP)]
    pub count_api: Option<crate::session::CountApiChoice>,
    /// Output format: text (the default), json (as --json) or csv (one row
    /// per file: `path` and a count per column; no total row).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Shared options.
    #[command(flatten)]
    pub shared: SharedArgs,
}

fn parse_top(text: &str) -> Result<usize, String> {
    let t = text.trim();
    match t.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("top must be a positive number of files, got {t}")),
    }
}

/// `tokenscope models`.
#[derive(Debug, Clone, Args)]
pub struct ModelsArgs {
    /// What to do; without one, the registry is listed.
    #[command(subcommand)]
    pub action: Option<ModelsCommand>,
    /// JSON output (`tokenscope.models/1`).
    #[arg(long)]
    pub json: bool,
    /// Shared options.
    #[command(flatten)]
    pub shared: SharedArgs,
}

/// `tokenscope models SUBCOMMAND`.
#[derive(Debug, Clone, Subcommand)]
pub enum ModelsCommand {
    /// Download a model's tokenizer from the Hugging Face hub, so that the
    /// model counts exactly.
    ///
    /// NAME is a model from the registry that names a hub repository (see
    /// `tokenscope models`) or a repository `org/name`. The file goes into
    /// tokenscope's cache (`~/.cache/tokenscope/hub` on Linux) in the hub's
    /// layout; nothing is downloaded when the file is already there or in
    /// the Hugging Face cache ($HF_HUB_CACHE, $HF_HOME/hub,
    /// ~/.cache/huggingface/hub). A cut download resumes on the next run;
    /// every file is checked against the hub's checksum before it is used.
    /// Environment: HF_TOKEN (gated or private repositories), HF_ENDPOINT
    /// (another hub or a mirror), HTTPS_PROXY / ALL_PROXY / NO_PROXY.
    Pull(PullArgs),
}

/// `tokenscope models pull`.
#[derive(Debug, Clone, Args)]
pub struct PullArgs {
    /// A model name or alias from the registry, or a hub repository
    /// `org/name`.
    pub name: String,
    /// The file to fetch (repeatable: the first the repository has is
    /// fetched); default `tokenizer.json`.
    #[arg(long = "file", value_name = "FILE")]
    pub files: Vec<String>,
    /// The branch, tag or commit to fetch from.
    #[arg(long, value_name = "REV", default_value = "main")]
    pub revision: String,
    /// Download even when the file is already in a cache.
    #[arg(long)]
    pub force: bool,
    /// JSON output (`tokenscope.pull/1`).
    #[arg(long)]
    pub json: bool,
}

/// `tokenscope pack` and `tokenscope check`.
#[derive(Debug, Clone, Args, Default)]
pub struct PackArgs {
    /// Item sets and prompt files.
    pub paths: Vec<PathBuf>,
    /// Count Claude models exactly with Anthropic's count_tokens API (sends
    /// the text of every item to Anthropic; see --help).
    #[arg(long, value_enum, value_name = "API", long_help = crate::session::COUNT_API_HELP)]
    pub count_api: Option<crate::session::CountApiChoice>,
    /// A model from the registry.
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    /// An encoding (instead of a model).
    #[arg(long, short = 'e')]
    pub encoding: Option<String>,
    /// Total tokens for the context (default: the model's context window
    /// minus the output reserve).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_budget)]
    pub budget: Option<usize>,
    /// Tokens kept for the model's output.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_reserve)]
    pub reserve_output: Option<usize>,
    /// greedy, strict, density, optimal or balanced.
    #[arg(long)]
    pub strategy: Option<String>,
    /// drop, truncate, degrade, summarize or priority-cut.
    #[arg(long)]
    pub overflow: Option<String>,
    /// Section shares, e.g. `header=10,pages=40`.
    #[arg(long, value_name = "NAME=PCT,...")]
    pub split: Option<String>,
    /// A profile from tokenscope.toml.
    #[arg(long)]
    pub profile: Option<String>,
    /// Report format: json, md, csv, context, text, or request (a chat
    /// request input trimmed to the budget, as the API takes it). Default:
    /// text on a terminal, context when piped (with -o: from the extension).
    #[arg(long)]
    pub format: Option<String>,
    /// Shorthand for `--format json`.
    #[arg(long)]
    pub json: bool,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A command that summarizes an item that does not fit (overflow
    /// `summarize`): the item on stdin, the target in
    /// `TOKENSCOPE_TARGET_TOKENS`, the summary on stdout. Split into words
    /// like a shell does but run without one (`sh -c '...'` for pipes); its
    /// output is capped and it is stopped after 30 s. Besides this flag only
    /// `summarizer` in `<config dir>/tokenscope/config.toml` names one: a
    /// `summarizer` in an item set or a project profile is ignored.
    #[arg(long, value_name = "CMD")]
    pub summarizer: Option<String>,
    /// A HuggingFace tokenizer.json or a tiktoken rank file to count with
    /// exactly (instead of the model's tokenizer).
    #[arg(long, value_name = "FILE")]
    pub tokenizer_file: Option<PathBuf>,
    /// Record this plan's allocation in the usage history as task type TYPE.
    #[arg(long, value_name = "TYPE")]
    pub record: Option<String>,
    /// The usage history file for `--record` (default: the user data folder).
    #[arg(long = "record-history", value_name = "FILE")]
    pub record_history: Option<PathBuf>,
    /// Time for the `optimal` strategy's search per run: milliseconds
    /// (`500`) or with a unit (`250ms`, `2s`), or `none`. When it runs out
    /// the plan keeps the best choice found and reports its optimality gap.
    /// Default: 2s; in the inspector 10ms.
    #[arg(long, value_name = "DURATION", allow_negative_numbers = true, value_parser = parse_optimal_deadline)]
    pub optimal_deadline: Option<OptimalDeadline>,
    /// check: inputs that hold no items pass (with a warning) instead of
    /// failing.
    #[arg(long)]
    pub allow_empty: bool,
    /// Input options.
    #[command(flatten)]
    pub input: InputArgs,
    /// Shared options.
    #[command(flatten)]
    pub shared: SharedArgs,
}

/// A whole number of tokens (`_` and `,` allowed as digit separators) for
/// the option `what`: a negative number or anything else gets a message
/// that says what is expected, never clap's `-- -5` tip.
pub fn parse_tokens(text: &str, what: &str, min: usize) -> Result<usize, String> {
    let t = text.trim();
    let digits: String = t.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    let expected = if min > 0 {
        format!("{what} must be a positive number of tokens, got {t}")
    } else {
        format!("{what} must be a number of tokens (0 or more), got {t}")
    };
    if digits.starts_with('-') {
        return Err(expected);
    }
    match digits.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        Ok(_) => Err(expected),
        Err(_) if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) => {
            Err(format!("{what} {t} is too large"))
        }
        Err(_) => Err(expected),
    }
}

fn parse_budget(text: &str) -> Result<usize, String> {
    parse_tokens(text, "budget", 1)
}

fn parse_reserve(text: &str) -> Result<usize, String> {
    parse_tokens(text, "reserve-output", 0)
}

fn parse_exit_after(text: &str) -> Result<usize, String> {
    let t = text.trim();
    t.parse::<usize>()
        .map_err(|_| format!("exit-after must be a number of changes (0 or more), got {t}"))
}

/// A parsed `--optimal-deadline`: `None` for no deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptimalDeadline(pub Option<Duration>);

fn parse_optimal_deadline(text: &str) -> Result<OptimalDeadline, String> {
    if text.trim().starts_with('-') {
        return Err(format!(
            "optimal-deadline must be a positive duration (500, 250ms, 2s) or none, got {}",
            text.trim()
        ));
    }
    crate::engine::parse_deadline(text).map(OptimalDeadline)
}

/// How inputs are read (docs/inputs.md).
#[derive(Debug, Clone, Args, Default)]
pub struct InputArgs {
    /// Force the input format: toml, json, markdown, llms-txt, llms-full,
    /// jsonl, directory, chat, anthropic, responses or gemini (detected from
    /// the name and content otherwise).
    #[arg(long = "input", id = "input_format", value_name = "FORMAT")]
    pub format: Option<String>,
    /// Markdown: the heading level that starts a section (default 2).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = clap::value_parser!(u8).range(1..=6))]
    pub heading_level: Option<u8>,
    /// Folders: only files matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Folders: leave out files matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Folders: load hidden files and folders too.
    #[arg(long)]
    pub hidden: bool,
    /// Folders: more priority for files changed in the last git commits.
    #[arg(long)]
    pub git_recency: bool,
    /// JSONL: field names, e.g. `id=doc_id,text=content,score=similarity`.
    #[arg(long, value_name = "FIELD=NAME,...")]
    pub jsonl_fields: Option<String>,
    /// Requests: the size of linked images (URLs, file ids), whose size the
    /// request does not give, e.g. `1024x768` (default: 2048x2048 assumed,
    /// with a warning).
    #[arg(long, value_name = "WxH", value_parser = parse_image_size)]
    pub image_size: Option<(u32, u32)>,
}

/// `WxH` (or `W*H`), both 1 to 100,000 pixels.
pub fn parse_image_size(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{text}`: expected WIDTHxHEIGHT in pixels, such as 1024x768");
    let (w, h) = text.trim().split_once(['x', 'X', '*']).ok_or_else(bad)?;
    let side = |s: &str| {
        s.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
    };
    match (side(w), side(h)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err(bad()),
    }
}

/// `tokenscope watch`.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Exit after printing this many change lines (for scripts and tests;
    /// 0: after the first line, the plan as it is).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_exit_after)]
    pub exit_after: Option<usize>,
    /// The inputs and engine options, as for `pack`.
    #[command(flatten)]
    pub pack: PackArgs,
}
