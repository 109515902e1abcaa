//! Input format detection, and loading several paths into one item set.
//!
//! # Detection
//!
//! [`LoadOptions::format`] (`--input FORMAT`) forces one format for every
//! path. Otherwise, in this order:
//!
//! 1. a directory is a directory input ([`crate::input::directory`]);
//! 2. a file named `llms.txt` or `llms-full.txt` (any case) is that format;
//! 3. by extension: `.toml` is a native item set; `.md`, `.markdown`,
//!    `.mdx` and `.txt` are Markdown or text prompt files; `.jsonl` and
//!    `.ndjson` are JSONL retrieval results; `.json` is sniffed as below;
//! 4. any other file is sniffed from its content:
//!    - content that starts with `{` or `[`: when the whole text is one JSON
//!      value it is a JSON item set (or a chat request, see below); when it
//!      is not, but its first line is a complete JSON object, it is JSONL;
//!      otherwise it is a JSON item set, whose parser reports the error;
//!    - (files without a known extension only) text that parses as TOML
//!      with a top-level `budget`, `sections` or `items` key is a TOML item
//!      set;
//!    - anything else is a Markdown or text prompt file.
//!
//! A JSON object with a top-level `messages` array is an OpenAI
//! chat-completions request ([`crate::input::chat`]), or an Anthropic
//! Messages request when it has what only those have
//! ([`crate::input::anthropic`]); one with a `contents` array is a Gemini
//! request ([`crate::input::gemini`]); one with `input` (or
//! `instructions`) and no `messages` is an OpenAI Responses request
//! ([`crate::input::responses`]). See [`request_format`].
//!
//! Text must be UTF-8 (a leading byte-order mark is dropped); a file with a
//! NUL byte in its first 8 KiB is binary and refused. A file is read up to
//! the input size limit ([`crate::fsio::INPUT_LIMIT`], `--max-file-size`).
//!
//! # Several paths
//!
//! [`load_paths`] loads each path and merges the item sets into one, in the
//! order given ([`merge`]):
//! - sections are concatenated in order of first appearance; a section name
//!   that appears again is merged into the first one (whose settings apply);
//! - when more than one input adds sections with shares, each input's new
//!   share sections are scaled by `1 / inputs-with-new-shares`, so that each
//!   such input keeps its internal proportions and the whole still adds up
//!   to 100% when each part did;
//! - an item id already taken is prefixed with the input's file stem
//!   (`notes/rules/1`), then suffixed `~2`, `~3`, ... if still taken; ids of
//!   earlier inputs never change;
//! - budget settings come from the first input whose budget differs from the
//!   defaults; different settings in later inputs are ignored with a
//!   warning;
//! - sources and warnings are concatenated; a path given twice is loaded once.

use rustc_hash::FxHashSet as HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::engine::{Budget, ItemSet, SectionBudget};
use crate::input::directory::{self, DEFAULT_MAX_FILE_BYTES, GitRecency};
use crate::input::jsonl::{self, JsonlFields};
use crate::input::load_error::InputError;
use crate::input::{anthropic, chat, gemini, llms_txt, markdown, responses};
use crate::text::line_column;

/// An input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputFormat {
    /// A native item set in TOML (docs/concepts.md).
    Toml,
    /// A native item set in JSON.
    Json,
    /// A Markdown or plain-text prompt file.
    Markdown,
    /// An `llms.txt` file.
    LlmsTxt,
    /// An `llms-full.txt` file.
    LlmsFull,
    /// JSONL retrieval results.
    Jsonl,
    /// A directory: each file an item.
    Directory,
    /// An OpenAI chat-completions request (`messages`, `tools`).
    ChatRequest,
    /// An Anthropic Messages request (`system`, `messages`, `max_tokens`).
    AnthropicRequest,
    /// An OpenAI Responses request (`instructions`, `input`).
    ResponsesRequest,
    /// A Gemini `generateContent` request (`contents`).
    GeminiRequest,
}

impl InputFormat {
    /// Every format.
    pub const ALL: [InputFormat; 11] = [
        InputFormat::Toml,
        InputFormat::Json,
        InputFormat::Markdown,
        InputFormat::LlmsTxt,
        InputFormat::LlmsFull,
        InputFormat::Jsonl,
        InputFormat::Directory,
        InputFormat::ChatRequest,
        InputFormat::AnthropicRequest,
        InputFormat::ResponsesRequest,
        InputFormat::GeminiRequest,
    ];

    /// The name used by `--input`.
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Toml => "toml",
            InputFormat::Json => "json",
            InputFormat::Markdown => "markdown",
            InputFormat::LlmsTxt => "llms-txt",
            InputFormat::LlmsFull => "llms-full",
            InputFormat::Jsonl => "jsonl",
            InputFormat::Directory => "directory",
            InputFormat::ChatRequest => "chat",
            InputFormat::AnthropicRequest => "anthropic",
            InputFormat::ResponsesRequest => "responses",
            InputFormat::GeminiRequest => "gemini",
        }
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An `--input` value that names no format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown input format `{0}`; expected one of: toml, json, markdown (or md, text), llms-txt, llms-full, jsonl (or ndjson), directory (or dir), chat (or openai), anthropic, responses, gemini"
)]
pub struct UnknownInputFormat(pub String);

impl FromStr for InputFormat {
    type Err = UnknownInputFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "toml" => InputFormat::Toml,
            "json" => InputFormat::Json,
            "markdown" | "md" | "text" | "txt" => InputFormat::Markdown,
            "llms-txt" | "llms.txt" | "llms" => InputFormat::LlmsTxt,
            "llms-full" | "llms-full.txt" | "llms-full-txt" => InputFormat::LlmsFull,
            "jsonl" | "ndjson" => InputFormat::Jsonl,
            "directory" | "dir" => InputFormat::Directory,
            "chat" | "openai" | "chat-request" => InputFormat::ChatRequest,
            "anthropic" | "claude" | "messages" => InputFormat::AnthropicRequest,
            "responses" | "openai-responses" => InputFormat::ResponsesRequest,
            "gemini" | "google" => InputFormat::GeminiRequest,
            _ => return Err(UnknownInputFormat(s.to_string())),
        })
    }
}

/// Options for every loader.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// Forces one format for every path (`--input FORMAT`); `None` detects.
    pub format: Option<InputFormat>,
    /// Markdown: the heading level that starts a section (1-6). `None` takes
    /// the file's front-matter `heading_level`, else 2.
    pub heading_level: Option<u8>,
    /// Directories: when not empty, only files matching one of these globs.
    pub include: Vec<String>,
    /// Directories: files matching one of these globs are left out.
    pub exclude: Vec<String>,
    /// Directories: `(glob, priority)`; the first glob that matches a file
    /// gives its priority (otherwise 1.0).
    pub priority_rules: Vec<(String, f64)>,
    /// Directories: more priority for files changed recently in git; off
    /// (`None`) by default.
    pub git_recency: Option<GitRecency>,
    /// Directories: load hidden files and folders too.
    pub hidden: bool,
    /// Directories: files larger than this are skipped with a warning.
    pub max_file_bytes: u64,
    /// JSONL: field names.
    pub jsonl_fields: JsonlFields,
    /// JSONL: the section of the items (default `retrieved`).
    pub jsonl_section: String,
    /// Requests: the size (width, height) of linked images, whose size the
    /// request does not give (`--image-size WxH`); `None`: 2048 x 2048 is
    /// assumed, with a warning.
    pub image_size: Option<(u32, u32)>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            format: None,
            heading_level: None,
            include: Vec::new(),
            exclude: Vec::new(),
            priority_rules: Vec::new(),
            git_recency: None,
            hidden: false,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            jsonl_fields: JsonlFields::default(),
            jsonl_section: jsonl::DEFAULT_SECTION.to_string(),
            image_size: None,
        }
    }
}

/// Loads a native item set (TOML or JSON, docs/concepts.md) from its text.
///
/// This is the one place detection hands native item sets over to the
/// item-set loader ([`crate::input::itemset`]).
pub fn load_native(path: &Path, text: &str, format: InputFormat) -> Result<ItemSet, InputError> {
    let kind = match format {
        InputFormat::Json => crate::input::itemset::ItemSetFormat::Json,
        _ => crate::input::itemset::ItemSetFormat::Toml,
    };
    Ok(crate::input::itemset::parse(text, kind, path)?)
}

/// The format of `path`, reading its content only when the name does not
/// decide (see the module documentation).
pub fn detect(path: &Path) -> Result<InputFormat, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| InputError::io(path, e))?;
    if meta.is_dir() {
        return Ok(InputFormat::Directory);
    }
    match by_name(path) {
        Guess::Known(f) => Ok(f),
        guess => {
            let text = read_text(path)?;
            Ok(sniff(&text, guess == Guess::Json))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guess {
    Known(InputFormat),
    /// `.json`: JSON item set, chat request or JSONL.
    Json,
    Unknown,
}

fn by_name(path: &Path) -> Guess {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if name == "llms.txt" {
        return Guess::Known(InputFormat::LlmsTxt);
    }
    if name == "llms-full.txt" {
        return Guess::Known(InputFormat::LlmsFull);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "toml" => Guess::Known(InputFormat::Toml),
        "md" | "markdown" | "mdx" | "txt" => Guess::Known(InputFormat::Markdown),
        "jsonl" | "ndjson" => Guess::Known(InputFormat::Jsonl),
        "json" => Guess::Json,
        _ => Guess::Unknown,
    }
}

/// Detects the format of a file from its text, as [`load_path`] does for
/// a file whose name does not decide (`json_ext`: the name ends in
/// `.json`, so it is JSON of some kind): a request, a JSON item set, JSONL,
/// a TOML item set, else Markdown. Also for text that has no file (a
/// library user's data).
///
/// ```
/// use tokenscope::input::InputFormat;
/// use tokenscope::input::detect::sniff;
/// assert_eq!(sniff(r#"{"messages": []}"#, false), InputFormat::ChatRequest);
/// assert_eq!(sniff("{\"text\": \"a\"}\n{\"text\": \"b\"}\n", false), InputFormat::Jsonl);
/// assert_eq!(sniff("[[items]]\ntext = \"a\"\n", false), InputFormat::Toml);
/// assert_eq!(sniff("# A prompt\n", false), InputFormat::Markdown);
/// ```
pub fn sniff(text: &str, json_ext: bool) -> InputFormat {
    let trimmed = text.trim_start();
    let looks_json = trimmed.starts_with('{') || trimmed.starts_with('[');
    if looks_json {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            return request_format(&value).unwrap_or(InputFormat::Json);
        }
        let first = trimmed.lines().next().unwrap_or("");
        if matches!(
            serde_json::from_str::<serde_json::Value>(first),
            Ok(serde_json::Value::Object(_))
        ) {
            return InputFormat::Jsonl;
        }
    }
    if !json_ext
        && let Ok(table) = text.parse::<toml::Table>()
        && ["budget", "sections", "items"]
            .iter()
            .any(|k| table.contains_key(*k))
    {
        return InputFormat::Toml;
    }
    if looks_json || json_ext {
        return InputFormat::Json;
    }
    InputFormat::Markdown
}

/// The request format of a JSON value, if it is a request: Anthropic
/// Messages or chat completions for a `messages` array
/// ([`anthropic::is_anthropic_request`] decides), Gemini for a `contents`
/// array, Responses for an `input` string or array (or `instructions`)
/// without `messages`.
pub fn request_format(value: &serde_json::Value) -> Option<InputFormat> {
    if chat::is_chat_request(value) {
        return Some(if anthropic::is_anthropic_request(value) {
            InputFormat::AnthropicRequest
        } else {
            InputFormat::ChatRequest
        });
    }
    if gemini::is_gemini_request(value) {
        return Some(InputFormat::GeminiRequest);
    }
    if responses::is_responses_request(value) {
        return Some(InputFormat::ResponsesRequest);
    }
    None
}

/// Reads a file as UTF-8 text (a leading byte-order mark dropped), up to the
/// input size limit ([`crate::fsio::read_file`]).
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let bytes = crate::fsio::read_file(path, crate::fsio::Limit::Input)
        .map_err(|e| InputError::io(path, e))?;
    if let Some(pos) = crate::fsio::first_nul(&bytes) {
        return Err(InputError::format(
            path,
            format!("expected a text file, found binary content (a NUL byte at offset {pos})"),
        ));
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..3);
            }
            Ok(text)
        }
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            // Safe prefix: everything before the first invalid byte.
            let prefix = String::from_utf8_lossy(&bytes[..valid]);
            let (line, column) = line_column(&prefix, prefix.len());
            Err(InputError::at_line(
                path,
                line,
                column,
                "expected UTF-8 text, found a byte sequence that is not UTF-8",
            ))
        }
    }
}

/// Loads one path: detected (or forced) format, then its loader.
pub fn load_path(path: &Path, options: &LoadOptions) -> Result<ItemSet, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| InputError::io(path, e))?;
    if meta.is_dir() {
        return match options.format {
            None | Some(InputFormat::Directory) => directory::load(path, options),
            Some(f) => Err(InputError::format(
                path,
                format!("is a directory; `--input {f}` expects a file"),
            )),
        };
    }
    if options.format == Some(InputFormat::Directory) {
        return Err(InputError::format(
            path,
            "is a file; `--input directory` expects a directory",
        ));
    }
    let text = read_text(path)?;
    let format = match options.format {
        Some(f) => f,
        None => match by_name(path) {
            Guess::Known(f) => f,
            guess => sniff(&text, guess == Guess::Json),
        },
    };
    load_text(path, &text, format, options)
}

/// Loads `text` (the content of `path`) as `format`. Not for directories.
pub fn load_text(
    path: &Path,
    text: &str,
    format: InputFormat,
    options: &LoadOptions,
) -> Result<ItemSet, InputError> {
    match format {
        InputFormat::Toml | InputFormat::Json => {
            let mut set = load_native(path, text, format)?;
            if set.sources.is_empty() {
                set.sources.push(path.to_path_buf());
            }
            Ok(set)
        }
        InputFormat::Markdown => markdown::parse(path, text, options),
        InputFormat::LlmsTxt => llms_txt::parse(path, text, options),
        InputFormat::LlmsFull => llms_txt::parse_full(path, text, options),
        InputFormat::Jsonl => jsonl::parse(path, text, options),
        InputFormat::ChatRequest => chat::parse_with(path, text, options.image_size),
        InputFormat::AnthropicRequest => anthropic::parse(path, text, options.image_size),
        InputFormat::ResponsesRequest => responses::parse(path, text, options.image_size),
        InputFormat::GeminiRequest => gemini::parse(path, text, options.image_size),
        InputFormat::Directory => Err(InputError::format(
            path,
            "is a file; `--input directory` expects a directory",
        )),
    }
}

/// Loads every path and merges them into one item set (see the module
/// documentation for the merge rules).
pub fn load_paths(paths: &[PathBuf], options: &LoadOptions) -> Result<ItemSet, InputError> {
    if paths.is_empty() {
        return Err(InputError::Option {
            option: "input paths",
            value: String::new(),
            message: "expected at least one file or directory".into(),
        });
    }
    let mut seen = HashSet::default();
    let mut sets = Vec::with_capacity(paths.len());
    let mut warnings = Vec::new();
    for path in paths {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if !seen.insert(key) {
            warnings.push(format!(
                "{}: given more than once; loaded once",
                path.display()
            ));
            continue;
        }
        sets.push(load_path(path, options)?);
    }
    if sets.len() > 1
        && let Some(chat) = sets.iter().find(|s| s.chat.is_some())
    {
        let path = chat.sources.first().cloned().unwrap_or_default();
        return Err(InputError::format(
            &path,
            "an API request (chat completions, Responses, Anthropic, Gemini) is packed as the request the API bills, so it cannot be merged with other inputs; give it on its own",
        ));
    }
    let mut set = merge(sets);
    set.warnings.extend(warnings);
    Ok(set)
}

/// Merges item sets loaded from several inputs into one (see the module
/// documentation for the rules). One set is returned unchanged.
pub fn merge(sets: Vec<ItemSet>) -> ItemSet {
    let mut iter = sets.into_iter();
    let Some(mut out) = iter.next() else {
        return ItemSet::default();
    };
    let rest: Vec<ItemSet> = iter.collect();
    if rest.is_empty() {
        return out;
    }

    let default_budget = Budget::default();
    let mut budget_from: Option<PathBuf> =
        (out.budget != default_budget).then(|| first_source(&out));
    let mut used: HashSet<String> = out.items.iter().map(|i| i.id.clone()).collect();
    let mut names: HashSet<String> = out.sections.iter().map(|s| s.name.clone()).collect();
    // Per input: indices (in `out.sections`) of the share sections it added.
    let mut added: Vec<Vec<usize>> = vec![
        out.sections
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.budget, SectionBudget::Share(_)))
            .map(|(i, _)| i)
            .collect(),
    ];

    for set in rest {
        let source = first_source(&set);
        if set.budget != default_budget {
            match &budget_from {
                None => {
                    out.budget = set.budget.clone();
                    budget_from = Some(source.clone());
                }
                Some(first) if set.budget != out.budget => out.warnings.push(format!(
                    "{}: budget settings ignored; those of {} apply",
                    source.display(),
                    first.display()
                )),
                Some(_) => {}
            }
        }
        let mut new_shares = Vec::new();
        for section in set.sections {
            if names.insert(section.name.clone()) {
                if matches!(section.budget, SectionBudget::Share(_)) {
                    new_shares.push(out.sections.len());
                }
                out.sections.push(section);
            }
        }
        added.push(new_shares);

        let stem = source
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("input")
            .to_string();
        for mut item in set.items {
            if used.contains(&item.id) {
                let prefixed = format!("{stem}/{}", item.id);
                item.id = markdown::unique_id(&mut used, &prefixed);
            } else {
                used.insert(item.id.clone());
            }
            out.items.push(item);
        }
        out.sources.extend(set.sources);
        out.warnings.extend(set.warnings);
    }

    let contributing = added.iter().filter(|a| !a.is_empty()).count();
    if contributing > 1 {
        let scale = 1.0 / contributing as f64;
        for index in added.into_iter().flatten() {
            if let SectionBudget::Share(s) = &mut out.sections[index].budget {
                *s *= scale;
            }
        }
    }
    out
}

fn first_source(set: &ItemSet) -> PathBuf {
    set.sources
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("input"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Item, Section};

    #[test]
    fn format_names_round_trip() {
        for f in InputFormat::ALL {
            assert_eq!(f.name().parse::<InputFormat>().unwrap(), f);
        }
        assert_eq!("md".parse::<InputFormat>().unwrap(), InputFormat::Markdown);
        let e = "yaml".parse::<InputFormat>().unwrap_err();
        assert!(e.to_string().contains("expected one of: toml"));
    }

    #[test]
    fn sniffing_rules() {
        assert_eq!(sniff("{\"items\": []}", false), InputFormat::Json);
        assert_eq!(
            sniff("{\"text\": \"a\"}\n{\"text\": \"b\"}\n", false),
            InputFormat::Jsonl
        );
        assert_eq!(sniff("{ broken", false), InputFormat::Json);
        assert_eq!(sniff("[budget]\ntotal = 5\n", false), InputFormat::Toml);
        assert_eq!(sniff("[budget]\ntotal = 5\n", true), InputFormat::Json);
        assert_eq!(sniff("# Title\n\ntext", false), InputFormat::Markdown);
        assert_eq!(sniff("a = 1\n", false), InputFormat::Markdown);
        assert_eq!(
            sniff("{\"model\":\"gpt-4o\",\"messages\":[]}", true),
            InputFormat::ChatRequest
        );
    }

    fn set(source: &str, sections: &[(&str, f64)], items: &[(&str, &str)]) -> ItemSet {
        ItemSet {
            sections: sections
                .iter()
                .map(|(n, s)| Section::share(*n, *s))
                .collect(),
            items: items
                .iter()
                .map(|(id, sec)| Item::new(*id, *sec, *id))
                .collect(),
            sources: vec![PathBuf::from(source)],
            ..ItemSet::default()
        }
    }

    #[test]
    fn merge_rules() {
        let a = set(
            "a/first.md",
            &[("x", 50.0), ("y", 50.0)],
            &[("x/1", "x"), ("y/1", "y")],
        );
        let mut b = set(
            "b/second.md",
            &[("y", 100.0), ("z", 100.0)],
            &[("y/1", "y"), ("z/1", "z")],
        );
        b.budget.total = Some(100);
        let mut c = set(
            "third.jsonl",
            &[("z", 100.0)],
            &[("y/1", "z"), ("second/y/1", "z")],
        );
        c.budget.total = Some(200);
        let m = merge(vec![a, b, c]);
        let names: Vec<_> = m.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["x", "y", "z"]);
        let shares: Vec<_> = m.sections.iter().map(|s| s.budget).collect();
        assert_eq!(
            shares,
            [
                SectionBudget::Share(25.0),
                SectionBudget::Share(25.0),
                SectionBudget::Share(50.0)
            ]
        );
        let ids: Vec<_> = m.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "x/1",
                "y/1",
                "second/y/1",
                "z/1",
                "third/y/1",
                "third/second/y/1"
            ]
        );
        assert_eq!(m.budget.total, Some(100));
        assert_eq!(m.sources.len(), 3);
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert!(m.warnings[0].contains("third.jsonl: budget settings ignored"));
    }
}
