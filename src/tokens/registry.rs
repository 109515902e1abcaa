//! The model registry: names, tokenizers, context windows, prices and chat
//! framing of the models tokenscope knows.
//!
//! The built-in registry is `src/tokens/models.toml`, embedded in the binary;
//! its comments document every field, the prices (public list prices as of
//! 2025, which users can override) and why each estimate ratio was chosen.
//!
//! [`ModelRegistry::load`] layers, in order: the built-in registry, the
//! user's `models.toml` in the config dir
//! (`dirs::config_dir()/tokenscope/models.toml`, e.g.
//! `~/.config/tokenscope/models.toml`, if present), then a `--models-file`.
//! A later entry whose `name` matches an earlier model's name or alias (any
//! case) overrides that model **field by field**: only the fields it gives
//! change, `aliases` are added to the existing ones, and `encoding`,
//! `estimate` or `tokenizer_file` replaces the counting method. An entry with
//! a new name adds a model and must say how to count (one of those three).
//!
//! `tokenizer_file` names a HuggingFace `tokenizer.json` or a tiktoken rank
//! file that counts exactly for the model; it is resolved against the folder
//! of the models.toml that names it and loaded only when the model is used
//! ([`ModelTokenizerFile`]). `error` gives an estimate's expected relative
//! error band (`0.10` for ±10 %); a new `estimate` without `error` gets the
//! default band of its kind ([`Estimate::default_band`]), and `error` alone
//! changes the band of a model that already counts by estimate.
//!
//! `repo` names the model's repository on the Hugging Face hub
//! (`org/name`). [`ModelRegistry::load`] looks for its `tokenizer.json` in
//! the hub caches on disk ([`crate::hub::HubCaches`]); when it is there the
//! model counts exactly with it, otherwise with its estimate (`tokenscope
//! models pull NAME` downloads it). `api_model` is the id the provider's API
//! takes when it differs from `name` (for `--count-api`).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use toml::Spanned;

use super::{
    ChatFraming, Encoding, ErrorBand, Estimate, ModelTokenizerError, ModelTokenizerFile, Tokenizer,
};

/// The embedded built-in registry.
const BUILTIN_TOML: &str = include_str!("models.toml");

/// The origin label of the built-in registry in error messages.
const BUILTIN_ORIGIN: &str = "built-in models.toml";

/// One model: how to count for it, its limits and its prices.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// The canonical name, e.g. `gpt-4o`.
    pub name: String,
    /// Other names that resolve to this model (dated snapshots, `-latest`).
    pub aliases: Vec<String>,
    /// Who serves it, e.g. `openai`.
    pub provider: String,
    /// How to count: an exact encoding, a labelled estimate or a tokenizer
    /// file.
    pub counting: ModelCounting,
    /// Input plus output tokens the model accepts.
    pub context_window: Option<usize>,
    /// The most tokens one reply can have.
    pub max_output: Option<usize>,
    /// List price in USD per million input tokens.
    pub input_price: Option<f64>,
    /// List price in USD per million output tokens.
    pub output_price: Option<f64>,
    /// The chat framing, for models that take chat-completions requests.
    pub chat: Option<ChatFraming>,
    /// The user file that defined or last changed this model; `None` for a
    /// built-in model left as it is.
    pub source: Option<PathBuf>,
    /// The model's repository on the Hugging Face hub (`org/name`), whose
    /// `tokenizer.json` counts exactly for it once it is in a hub cache
    /// (`tokenscope models pull NAME`).
    pub repo: Option<String>,
    /// The model's tokenizer file found in a hub cache
    /// ([`ModelRegistry::find_hub_files`]); the model then counts with it.
    pub hub: Option<crate::hub::Found>,
    /// The model id the provider's API takes, when it differs from `name`
    /// (used by `--count-api`).
    pub api_model: Option<String>,
}

/// How a model counts.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelCounting {
    /// An exact encoding or an estimate, ready to count.
    Tokenizer(Tokenizer),
    /// A tokenizer file, exact, loaded the first time the model counts.
    File(ModelTokenizerFile),
}

impl ModelCounting {
    /// Whether counts are exact (an encoding or a tokenizer file).
    pub fn is_exact(&self) -> bool {
        match self {
            ModelCounting::Tokenizer(t) => t.is_exact(),
            ModelCounting::File(_) => true,
        }
    }

    /// The expected error band of an estimate; `None` when exact.
    pub fn error_band(&self) -> Option<ErrorBand> {
        match self {
            ModelCounting::Tokenizer(t) => t.error_band(),
            ModelCounting::File(_) => None,
        }
    }

    /// What counts, in words, without loading anything: the encoding name,
    /// `≈ o200k_base*1.2 ±10%` for an estimate, or the tokenizer file's path.
    pub fn describe(&self) -> String {
        match self {
            ModelCounting::Tokenizer(t) => t.to_string(),
            ModelCounting::File(f) => f.path.display().to_string(),
        }
    }

    /// The tokenizer; a tokenizer file is loaded on the first call in the
    /// process.
    pub fn tokenizer(&self) -> Result<Tokenizer, ModelTokenizerError> {
        match self {
            ModelCounting::Tokenizer(t) => Ok(t.clone()),
            ModelCounting::File(f) => f.load(),
        }
    }
}

impl ModelSpec {
    /// A model with a name, a provider and a way to count, and nothing else
    /// known (no aliases, window, prices or chat framing); set the other
    /// fields with struct update syntax.
    pub fn new(name: &str, provider: &str, counting: ModelCounting) -> ModelSpec {
        ModelSpec {
            name: name.to_string(),
            aliases: Vec::new(),
            provider: provider.to_string(),
            counting,
            context_window: None,
            max_output: None,
            input_price: None,
            output_price: None,
            chat: None,
            source: None,
            repo: None,
            hub: None,
            api_model: None,
        }
    }

    /// What counts for it, short: `o200k_base`, `≈ o200k_base*1.2 ±10%`, or
    /// the tokenizer file's folder and name.
    pub fn counting_name(&self) -> String {
        match &self.counting {
            ModelCounting::Tokenizer(t) => t.to_string(),
            ModelCounting::File(f) => f.name(),
        }
    }

    /// Whether `name` is this model's name or one of its aliases
    /// (case-insensitive).
    pub fn answers_to(&self, name: &str) -> bool {
        let n = name.trim();
        self.name.eq_ignore_ascii_case(n) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(n))
    }

    /// Whether the model matches a search query: every space-separated word
    /// occurs in its name, an alias or its provider (case-insensitive).
    pub fn matches(&self, query: &str) -> bool {
        let hay = format!(
            "{} {} {}",
            self.name.to_lowercase(),
            self.aliases.join(" ").to_lowercase(),
            self.provider.to_lowercase()
        );
        query
            .split_whitespace()
            .all(|w| hay.contains(&w.to_lowercase()))
    }
    /// The tokenizer that counts for this model. A model with a
    /// `tokenizer_file` loads it on the first call (once per process); a
    /// missing or broken file is an error naming the models.toml, the model
    /// and the file.
    pub fn tokenizer(&self) -> Result<Tokenizer, ModelTokenizerError> {
        self.counting.tokenizer()
    }

    /// Whether counts for this model are exact (otherwise estimates).
    pub fn is_exact(&self) -> bool {
        self.counting.is_exact()
    }

    /// The expected relative error band of this model's estimates; `None`
    /// when it counts exactly.
    pub fn error_band(&self) -> Option<ErrorBand> {
        self.counting.error_band()
    }

    /// The tokenizer file this model counts with, if any.
    pub fn tokenizer_file(&self) -> Option<&Path> {
        match &self.counting {
            ModelCounting::File(f) => Some(&f.path),
            ModelCounting::Tokenizer(_) => None,
        }
    }

    /// The model id to send to the provider's API: `api_model`, else the
    /// name.
    pub fn api_id(&self) -> &str {
        self.api_model.as_deref().unwrap_or(&self.name)
    }

    /// The input cost in USD of `tokens` tokens at the list price.
    pub fn input_cost(&self, tokens: usize) -> Option<f64> {
        self.input_price.map(|p| tokens as f64 * p / 1_000_000.0)
    }
}

/// A name that is neither a model nor an alias in the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UnknownModel {
    /// The name asked for.
    pub name: String,
    /// The closest known model names, best first (at most 3).
    pub suggestions: Vec<String>,
}

impl fmt::Display for UnknownModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown model `{}`", self.name)?;
        if !self.suggestions.is_empty() {
            let names: Vec<String> = self.suggestions.iter().map(|s| format!("`{s}`")).collect();
            write!(f, "; the closest known models are {}", names.join(", "))?;
        }
        f.write_str(" (`tokenscope models` lists them all)")
    }
}

/// A models file that cannot be read or is not a valid registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or not a valid registry.
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        /// The file (or `built-in models.toml`).
        origin: String,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem, in characters.
        column: usize,
        /// What is wrong and what was expected.
        message: String,
    },
}

/// An `--encoding` name that is neither an encoding nor an estimate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown encoding `{0}`; expected one of: o200k_base, o200k_harmony, cl100k_base, p50k_base, r50k_base, gemma3, chars/4, words*1.3"
)]
pub struct UnknownEncodingName(pub String);

/// Resolves an `--encoding` value to a tokenizer: one of the exact encodings
/// (`o200k_base`, `cl100k_base`, `p50k_base`, `r50k_base`, also without the
/// `_base` suffix, and `gpt2`), `o200k_harmony` (gpt-oss), `gemma3` (alias
/// `gemini`: the embedded Gemma 3 SentencePiece model), or an estimate: `chars/4` (alias `chars4`) or
/// `words*1.3` (alias `words`), with their default error bands.
/// Case-insensitive.
///
/// ```
/// use tokenscope::tokens::{resolve_encoding, Encoding, Estimate, Tokenizer};
/// assert_eq!(resolve_encoding("cl100k_base").unwrap(), Tokenizer::Exact(Encoding::Cl100kBase));
/// assert_eq!(resolve_encoding("words").unwrap(), Tokenizer::estimate(Estimate::Words13));
/// assert!(resolve_encoding("cl200k").unwrap_err().to_string().contains("chars/4"));
/// ```
pub fn resolve_encoding(name: &str) -> Result<Tokenizer, UnknownEncodingName> {
    match name.trim().to_ascii_lowercase().as_str() {
        "chars/4" | "chars4" => Ok(Tokenizer::estimate(Estimate::Chars4)),
        "words*1.3" | "words" => Ok(Tokenizer::estimate(Estimate::Words13)),
        other => builtin_tokenizer(other).map(Ok).unwrap_or_else(|| {
            other
                .parse::<Encoding>()
                .map(Tokenizer::Exact)
                .map_err(|_| UnknownEncodingName(name.to_string()))
        }),
    }
}

/// The models tokenscope knows, looked up by name or alias (any case).
#[derive(Debug, Clone, Default)]
pub struct ModelRegistry {
    models: Vec<ModelSpec>,
    /// Lowercased name or alias -> index into `models`.
    index: FxHashMap<String, usize>,
    /// Named chat framings (`[chat.NAME]` tables).
    framings: BTreeMap<String, ChatFraming>,
}

impl ModelRegistry {
    /// The built-in registry (embedded `models.toml`).
    ///
    /// ```
    /// use tokenscope::tokens::ModelRegistry;
    /// let registry = ModelRegistry::builtin();
    /// let spec = registry.get("GPT-4o-2024-08-06").unwrap();
    /// assert_eq!(spec.name, "gpt-4o");
    /// assert!(spec.is_exact());
    /// ```
    pub fn builtin() -> ModelRegistry {
        static BUILTIN: OnceLock<ModelRegistry> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let mut r = ModelRegistry::default();
                if let Err(e) = r.layer(BUILTIN_TOML, BUILTIN_ORIGIN, None) {
                    // The embedded file is checked by the unit tests; this is
                    // unreachable in a tested build.
                    panic!("the built-in model registry is invalid: {e}");
                }
                r
            })
            .clone()
    }

    /// The built-in registry, then the user's config-dir `models.toml` if it
    /// exists, then `user_file` (which must exist), each layered on the one
    /// before (see the [module docs](self)).
    pub fn load(user_file: Option<&Path>) -> Result<ModelRegistry, RegistryError> {
        let mut r = ModelRegistry::builtin();
        if let Some(config) = Self::config_file().filter(|p| p.is_file()) {
            r.extend_from_file(&config)?;
        }
        if let Some(file) = user_file {
            r.extend_from_file(file)?;
        }
        r.find_hub_files(&crate::hub::HubCaches::from_env());
        Ok(r)
    }

    /// Looks for the tokenizer file of every model with a `repo` in the hub
    /// `caches` (no network): a model whose `tokenizer.json` is found counts
    /// exactly with it from then on, and [`ModelSpec::hub`] says where it
    /// is. A model given a `tokenizer_file` by a models.toml keeps it. The
    /// file is read only when the model counts; a broken one is then an
    /// error naming it (no silent fallback to the estimate).
    pub fn find_hub_files(&mut self, caches: &crate::hub::HubCaches) {
        for m in &mut self.models {
            let Some(repo) = m.repo.as_deref() else {
                continue;
            };
            if matches!(m.counting, ModelCounting::File(_)) && m.hub.is_none() {
                continue;
            }
            let Ok(repo) = repo.parse::<crate::hub::RepoId>() else {
                continue;
            };
            let Some(found) = caches.find(&repo, None, &[crate::hub::DEFAULT_FILE]) else {
                continue;
            };
            m.counting = ModelCounting::File(ModelTokenizerFile {
                model: m.name.clone(),
                declared: found.path.display().to_string(),
                path: found.path.clone(),
                registry: format!("{} ({repo})", found.cache),
                line: 1,
                column: 1,
            });
            m.hub = Some(found);
        }
    }

    /// Where the user's registry file lives:
    /// `dirs::config_dir()/tokenscope/models.toml`.
    pub fn config_file() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("tokenscope").join("models.toml"))
    }

    /// Layers a models file on this registry.
    pub fn extend_from_file(&mut self, path: &Path) -> Result<(), RegistryError> {
        let text =
            crate::fsio::read_text_file(path, crate::fsio::Limit::Input).map_err(|source| {
                RegistryError::Read {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        self.layer(&text, &path.display().to_string(), Some(path))
    }

    /// Layers registry TOML text on this registry; `origin` names it in
    /// errors.
    pub fn extend_from_str(&mut self, text: &str, origin: &str) -> Result<(), RegistryError> {
        self.layer(text, origin, Some(Path::new(origin)))
    }

    /// The model with this name or alias (case-insensitive).
    pub fn get(&self, name_or_alias: &str) -> Result<&ModelSpec, UnknownModel> {
        match self.index.get(&name_or_alias.trim().to_lowercase()) {
            Some(&i) => Ok(&self.models[i]),
            None => Err(UnknownModel {
                name: name_or_alias.to_string(),
                suggestions: self.closest(name_or_alias, 3),
            }),
        }
    }

    /// Every model, in registry order (built-in first, then added ones).
    pub fn models(&self) -> &[ModelSpec] {
        &self.models
    }

    /// The number of models.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether the registry has no models.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// A named chat framing (`[chat.NAME]`), e.g. `openai-o200k`.
    pub fn framing(&self, name: &str) -> Option<&ChatFraming> {
        self.framings.get(name)
    }

    /// The `n` model names closest to `query`, comparing with every name and
    /// alias; best first.
    fn closest(&self, query: &str, n: usize) -> Vec<String> {
        let query = query.trim().to_lowercase();
        let mut best: Vec<f64> = vec![0.0; self.models.len()];
        for (key, &i) in &self.index {
            let score = strsim::jaro_winkler(&query, key)
                .max(strsim::normalized_damerau_levenshtein(&query, key));
            if score > best[i] {
                best[i] = score;
            }
        }
        let mut ranked: Vec<(f64, usize)> = best.into_iter().zip(0..).collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked
            .into_iter()
            .take(n)
            .map(|(_, i)| self.models[i].name.clone())
            .collect()
    }

    fn layer(
        &mut self,
        text: &str,
        origin: &str,
        source: Option<&Path>,
    ) -> Result<(), RegistryError> {
        let at = |span: Range<usize>, message: String| {
            let (line, column) = crate::text::line_column(text, span.start);
            RegistryError::Invalid {
                origin: origin.to_string(),
                line,
                column,
                message,
            }
        };
        let raw: RawFile = toml::from_str(text)
            .map_err(|e| at(e.span().unwrap_or(0..0), e.message().trim_end().to_string()))?;
        for (name, framing) in raw.chat {
            self.framings.insert(name, framing);
        }
        let line_of = |offset: usize| crate::text::line_column(text, offset);
        for entry in raw.models {
            self.apply(entry, origin, source, &at, &line_of)?;
        }
        Ok(())
    }

    fn apply(
        &mut self,
        entry: RawModel,
        origin: &str,
        source: Option<&Path>,
        at: &dyn Fn(Range<usize>, String) -> RegistryError,
        line_of: &dyn Fn(usize) -> (usize, usize),
    ) -> Result<(), RegistryError> {
        let name_span = entry.name.span();
        let name = entry.name.into_inner().trim().to_string();
        if name.is_empty() {
            return Err(at(name_span, "a model `name` must not be empty".into()));
        }

        let tokenizer_file = match entry.tokenizer_file {
            None => None,
            Some(f) => {
                let span = f.span();
                let declared = f.into_inner();
                if declared.trim().is_empty() {
                    return Err(at(span, "`tokenizer_file` must not be empty".into()));
                }
                Some((declared, span))
            }
        };
        let given: Vec<&str> = [
            entry.encoding.as_ref().map(|_| "`encoding`"),
            entry.estimate.as_ref().map(|_| "`estimate`"),
            tokenizer_file.as_ref().map(|_| "`tokenizer_file`"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if given.len() > 1 {
            let span = entry
                .estimate
                .as_ref()
                .map(Spanned::span)
                .or_else(|| tokenizer_file.as_ref().map(|(_, s)| s.clone()))
                .unwrap_or(name_span.clone());
            return Err(at(
                span,
                format!(
                    "give one of `encoding`, `estimate` or `tokenizer_file`, not {}",
                    given.join(" and ")
                ),
            ));
        }
        let error = match entry.error {
            None => None,
            Some(e) => {
                let span = e.span();
                let value = e.into_inner().0;
                let band = ErrorBand::new(value).ok_or_else(|| {
                    at(
                        span.clone(),
                        format!(
                            "`error` must be above 0 and at most 1 (0.10 means ±10%), found {value}"
                        ),
                    )
                })?;
                if entry.encoding.is_some() || tokenizer_file.is_some() {
                    return Err(at(
                        span,
                        "`error` is the expected error of an estimate; a model that counts exactly (`encoding` or `tokenizer_file`) has none".into(),
                    ));
                }
                Some((band, span))
            }
        };
        let counting = match (entry.encoding, entry.estimate, tokenizer_file) {
            (Some(enc), _, _) => Some(ModelCounting::Tokenizer(
                parse_encoding(&enc).map_err(|m| at(enc.span(), m))?,
            )),
            (None, Some(est), _) => {
                let estimate = parse_estimate(&est).map_err(|m| at(est.span(), m))?;
                let band = error.as_ref().map_or(estimate.default_band(), |(b, _)| *b);
                Some(ModelCounting::Tokenizer(Tokenizer::Estimate(
                    estimate, band,
                )))
            }
            (None, None, Some((declared, span))) => {
                let (line, column) = line_of(span.start);
                Some(ModelCounting::File(ModelTokenizerFile {
                    model: name.clone(),
                    path: ModelTokenizerFile::resolve(&declared, source),
                    declared,
                    registry: origin.to_string(),
                    line,
                    column,
                }))
            }
            (None, None, None) => None,
        };
        let chat = match entry.chat {
            None => None,
            Some(c) => {
                let span = c.span();
                Some(match c.into_inner() {
                    RawChat::Inline(f) => f,
                    RawChat::Preset(p) => *self.framings.get(&p).ok_or_else(|| {
                        let known: Vec<&str> = self.framings.keys().map(String::as_str).collect();
                        at(
                            span,
                            format!(
                                "unknown chat framing `{p}`; expected one of: {} (or an inline table)",
                                known.join(", ")
                            ),
                        )
                    })?,
                })
            }
        };
        let repo = match entry.repo {
            None => None,
            Some(r) => {
                let span = r.span();
                let value = r.into_inner();
                value
                    .trim()
                    .parse::<crate::hub::RepoId>()
                    .map_err(|e| at(span, format!("`repo`: {e}")))?;
                Some(value.trim().to_string())
            }
        };
        let context_window = positive(entry.context_window, "context_window", at)?;
        let max_output = positive(entry.max_output, "max_output", at)?;
        let input_price = price(entry.input_price, "input_price", at)?;
        let output_price = price(entry.output_price, "output_price", at)?;

        let idx = match self.index.get(&name.to_lowercase()) {
            Some(&i) => i,
            None => {
                let Some(counting) = counting.clone() else {
                    return Err(at(
                        name_span,
                        format!(
                            "model `{name}` is not in the registry, so it needs `encoding` (e.g. \"o200k_base\"), `estimate` (e.g. {{ base = \"o200k_base\", ratio = 1.2 }}) or `tokenizer_file` (e.g. \"llama3/tokenizer.json\")"
                        ),
                    ));
                };
                self.models.push(ModelSpec::new(&name, "custom", counting));
                let i = self.models.len() - 1;
                self.index.insert(name.to_lowercase(), i);
                i
            }
        };

        for alias in entry.aliases {
            let span = alias.span();
            let alias = alias.into_inner().trim().to_string();
            if alias.is_empty() {
                return Err(at(span, "an alias must not be empty".into()));
            }
            match self.index.get(&alias.to_lowercase()) {
                Some(&j) if j == idx => {}
                Some(&j) => {
                    return Err(at(
                        span,
                        format!(
                            "alias `{alias}` of `{}` is already a name or alias of `{}`",
                            self.models[idx].name, self.models[j].name
                        ),
                    ));
                }
                None => {
                    self.index.insert(alias.to_lowercase(), idx);
                    self.models[idx].aliases.push(alias);
                }
            }
        }

        let m = &mut self.models[idx];
        if let Some(p) = entry.provider {
            m.provider = p;
        }
        match (counting, error) {
            (Some(mut c), _) => {
                // Errors name the model as listed, even when the entry
                // named it by an alias.
                if let ModelCounting::File(f) = &mut c {
                    f.model = m.name.clone();
                }
                m.counting = c;
            }
            (None, Some((band, span))) => match &mut m.counting {
                ModelCounting::Tokenizer(Tokenizer::Estimate(_, b)) => *b = band,
                other => {
                    return Err(at(
                        span,
                        format!(
                            "model `{}` counts exactly ({}); `error` applies to estimates",
                            m.name,
                            other.describe()
                        ),
                    ));
                }
            },
            (None, None) => {}
        }
        if context_window.is_some() {
            m.context_window = context_window;
        }
        if max_output.is_some() {
            m.max_output = max_output;
        }
        if input_price.is_some() {
            m.input_price = input_price;
        }
        if output_price.is_some() {
            m.output_price = output_price;
        }
        if chat.is_some() {
            m.chat = chat;
        }
        if let Some(r) = repo {
            m.repo = Some(r);
        }
        if let Some(a) = entry.api_model {
            m.api_model = Some(a);
        }
        if let Some(s) = source {
            m.source = Some(s.to_path_buf());
        }
        Ok(())
    }
}

fn parse_encoding(enc: &Spanned<String>) -> Result<Tokenizer, String> {
    if let Some(t) = builtin_tokenizer(enc.get_ref()) {
        return Ok(t);
    }
    enc.get_ref()
        .parse::<Encoding>()
        .map(Tokenizer::Exact)
        .map_err(|_| {
            format!(
                "unknown encoding `{}`; expected one of: o200k_base, o200k_harmony, cl100k_base, p50k_base, r50k_base, gemma3",
                enc.get_ref()
            )
        })
}

/// The exact tokenizers built in besides the tiktoken encodings: `gemma3`
/// (alias `gemini`), the embedded Gemma 3 SentencePiece model.
fn builtin_tokenizer(name: &str) -> Option<Tokenizer> {
    match name.trim().to_ascii_lowercase().as_str() {
        "gemma3" | "gemini" => Some(Tokenizer::File(super::FileTokenizer::gemma3())),
        _ => None,
    }
}

fn parse_estimate(est: &Spanned<RawEstimate>) -> Result<Estimate, String> {
    const EXPECTED: &str =
        "expected \"chars/4\", \"words*1.3\" or { base = \"o200k_base\", ratio = 1.2 }";
    match est.get_ref() {
        RawEstimate::Formula(f) => match f.trim().to_ascii_lowercase().as_str() {
            "chars/4" | "chars4" => Ok(Estimate::Chars4),
            "words*1.3" | "words" => Ok(Estimate::Words13),
            _ => Err(format!("unknown estimate `{f}`; {EXPECTED}")),
        },
        RawEstimate::Scaled { base, ratio } => {
            let base = base.parse::<Encoding>().map_err(|e| e.to_string())?;
            if !ratio.is_finite() || *ratio <= 0.0 || *ratio > 100.0 {
                return Err(format!(
                    "estimate ratio {ratio} is out of range; expected a number above 0 and at most 100"
                ));
            }
            Ok(Estimate::Scaled {
                base,
                ratio: *ratio,
            })
        }
    }
}

fn positive(
    v: Option<Spanned<TokenCount>>,
    field: &str,
    at: &dyn Fn(Range<usize>, String) -> RegistryError,
) -> Result<Option<usize>, RegistryError> {
    match v {
        None => Ok(None),
        Some(s) => match usize::try_from(s.get_ref().0) {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(at(
                s.span(),
                format!(
                    "`{field}` must be a positive number of tokens, found {}",
                    s.get_ref().0
                ),
            )),
        },
    }
}

fn price(
    v: Option<Spanned<Price>>,
    field: &str,
    at: &dyn Fn(Range<usize>, String) -> RegistryError,
) -> Result<Option<f64>, RegistryError> {
    match v {
        None => Ok(None),
        Some(s) if s.get_ref().0.is_finite() && s.get_ref().0 >= 0.0 => Ok(Some(s.get_ref().0)),
        Some(s) => Err(at(
            s.span(),
            format!(
                "`{field}` must be a price of 0 or more USD per million tokens, found {}",
                s.get_ref().0
            ),
        )),
    }
}

/// A whole number of tokens in a models file (range-checked later).
struct TokenCount(i64);

impl<'de> Deserialize<'de> for TokenCount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = TokenCount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number of tokens, e.g. 128000")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<TokenCount, E> {
                Ok(TokenCount(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<TokenCount, E> {
                Ok(TokenCount(i64::try_from(v).unwrap_or(i64::MAX)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A price in USD per million tokens (an integer is accepted too).
struct Price(f64);

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Price;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a price in USD per million tokens, e.g. 2.5")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Price, E> {
                Ok(Price(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Price, E> {
                Ok(Price(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Price, E> {
                Ok(Price(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

/// An estimate's error band as a fraction (an integer is accepted too;
/// range-checked later).
struct Fraction(f64);

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Fraction;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a fraction of the count, e.g. 0.10 for ±10%")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Fraction, E> {
                Ok(Fraction(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Fraction, E> {
                Ok(Fraction(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Fraction, E> {
                Ok(Fraction(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    chat: BTreeMap<String, ChatFraming>,
    #[serde(default)]
    models: Vec<RawModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    name: Spanned<String>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    provider: Option<String>,
    encoding: Option<Spanned<String>>,
    estimate: Option<Spanned<RawEstimate>>,
    context_window: Option<Spanned<TokenCount>>,
    max_output: Option<Spanned<TokenCount>>,
    input_price: Option<Spanned<Price>>,
    output_price: Option<Spanned<Price>>,
    chat: Option<Spanned<RawChat>>,
    tokenizer_file: Option<Spanned<String>>,
    error: Option<Spanned<Fraction>>,
    repo: Option<Spanned<String>>,
    api_model: Option<String>,
}

#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "\"chars/4\", \"words*1.3\" or a table { base, ratio }"
)]
enum RawEstimate {
    Formula(String),
    Scaled { base: String, ratio: f64 },
}

#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "the name of a [chat.NAME] table or an inline table of chat framing constants"
)]
enum RawChat {
    Preset(String),
    Inline(ChatFraming),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry_with(text: &str) -> Result<ModelRegistry, RegistryError> {
        let mut r = ModelRegistry::builtin();
        r.extend_from_str(text, "user.toml")?;
        Ok(r)
    }

    #[test]
    fn builtin_parses_with_enough_models() {
        let r = ModelRegistry::builtin();
        assert!(r.len() >= 28, "only {} models", r.len());
    }

    #[test]
    fn every_builtin_model_is_complete_and_resolves() {
        let r = ModelRegistry::builtin();
        for m in r.models() {
            assert_eq!(r.get(&m.name).unwrap().name, m.name);
            assert_eq!(r.get(&m.name.to_uppercase()).unwrap().name, m.name);
            for a in &m.aliases {
                assert_eq!(r.get(a).unwrap().name, m.name, "alias {a}");
                assert_eq!(r.get(&a.to_uppercase()).unwrap().name, m.name, "alias {a}");
            }
            assert!(
                m.context_window.is_some(),
                "{} has no context window",
                m.name
            );
            assert!(m.input_price.is_some(), "{} has no input price", m.name);
            assert_ne!(m.provider, "custom", "{} has no provider", m.name);
            assert!(m.source.is_none());
            // Every tokenizer counts: exact encodings load, estimates scale.
            let tokenizer = m.tokenizer().unwrap();
            assert!(tokenizer.count("Hello, world!") > 0, "{}", m.name);
            // Estimates carry a band, exact models none.
            assert_eq!(m.error_band().is_some(), !m.is_exact(), "{}", m.name);
            assert_eq!(tokenizer.error_band(), m.error_band(), "{}", m.name);
            if !m.name.starts_with("text-embedding") {
                assert!(m.output_price.is_some(), "{} has no output price", m.name);
            }
            // gpt-oss (open weights) bounds a reply by its window only.
            if !m.name.starts_with("text-embedding") && !m.name.starts_with("gpt-oss") {
                assert!(m.max_output.is_some(), "{} has no max output", m.name);
            }
        }
    }

    #[test]
    fn required_models_are_present() {
        let r = ModelRegistry::builtin();
        for name in [
            "gpt-5",
            "gpt-5-mini",
            "gpt-5-nano",
            "gpt-4.1",
            "gpt-4.1-mini",
            "gpt-4.1-nano",
            "gpt-4o",
            "gpt-4o-mini",
            "o1",
            "o3",
            "o3-mini",
            "o4-mini",
            "gpt-4-turbo",
            "gpt-4",
            "gpt-3.5-turbo",
            "text-embedding-3-small",
            "text-embedding-3-large",
            "claude-opus-4.1",
            "claude-sonnet-4.5",
            "claude-haiku-4.5",
            "claude-haiku-3.5",
            "gemini-2.5-pro",
            "gemini-2.5-flash",
            "llama-3.1-70b",
            "llama-3.3-70b",
            "mistral-large",
            "qwen2.5-72b",
            "qwen3",
            "deepseek-v3",
            "deepseek-r1",
        ] {
            assert!(r.get(name).is_ok(), "{name} missing");
        }
    }

    #[test]
    fn aliases_resolve_to_their_model() {
        let r = ModelRegistry::builtin();
        assert_eq!(r.get("gpt-4o-2024-08-06").unwrap().name, "gpt-4o");
        assert_eq!(r.get("chatgpt-4o-latest").unwrap().name, "gpt-4o");
        assert_eq!(r.get("  ChatGPT-4o-Latest ").unwrap().name, "gpt-4o");
        assert_eq!(r.get("deepseek-chat").unwrap().name, "deepseek-v3");
        assert_eq!(
            r.get("claude-sonnet-4-5-20250929").unwrap().name,
            "claude-sonnet-4-5"
        );
    }

    #[test]
    fn openai_and_google_models_are_exact_and_others_are_estimates() {
        let r = ModelRegistry::builtin();
        for m in r.models() {
            let published = m.provider == "openai" || m.provider == "google";
            assert_eq!(m.is_exact(), published, "{}", m.name);
        }
        assert_eq!(
            r.get("gpt-4o").unwrap().tokenizer().unwrap(),
            Tokenizer::Exact(Encoding::O200kBase)
        );
        assert_eq!(
            r.get("gpt-4").unwrap().tokenizer().unwrap(),
            Tokenizer::Exact(Encoding::Cl100kBase)
        );
        assert!(matches!(
            r.get("claude-sonnet-4-5").unwrap().tokenizer().unwrap(),
            Tokenizer::Estimate(
                Estimate::Scaled {
                    base: Encoding::O200kBase,
                    ..
                },
                _
            )
        ));
    }

    #[test]
    fn chat_framing_matches_the_cookbook_constants() {
        let r = ModelRegistry::builtin();
        assert_eq!(
            r.get("gpt-4o").unwrap().chat,
            Some(ChatFraming::OPENAI_O200K)
        );
        assert_eq!(
            r.get("gpt-4o-mini").unwrap().chat,
            Some(ChatFraming::OPENAI_O200K)
        );
        assert_eq!(
            r.get("gpt-4").unwrap().chat,
            Some(ChatFraming::OPENAI_CL100K)
        );
        assert_eq!(
            r.get("gpt-3.5-turbo").unwrap().chat,
            Some(ChatFraming::OPENAI_CL100K)
        );
        assert_eq!(r.get("text-embedding-3-small").unwrap().chat, None);
        assert_eq!(
            r.framing("openai-o200k").copied(),
            Some(ChatFraming::OPENAI_O200K)
        );
    }

    #[test]
    fn every_encoding_name_resolves() {
        for e in Encoding::ALL {
            assert_eq!(resolve_encoding(e.name()).unwrap(), Tokenizer::Exact(e));
            assert_eq!(
                resolve_encoding(&e.name().to_uppercase()).unwrap(),
                Tokenizer::Exact(e)
            );
        }
        for (name, est) in [
            ("chars/4", Estimate::Chars4),
            ("chars4", Estimate::Chars4),
            ("words*1.3", Estimate::Words13),
            ("words", Estimate::Words13),
        ] {
            assert_eq!(resolve_encoding(name).unwrap(), Tokenizer::estimate(est));
        }
        let err = resolve_encoding("o300k").unwrap_err().to_string();
        for valid in [
            "o200k_base",
            "cl100k_base",
            "p50k_base",
            "r50k_base",
            "chars/4",
            "words*1.3",
        ] {
            assert!(err.contains(valid), "{err}");
        }
    }

    #[test]
    fn repo_models_count_exactly_once_their_tokenizer_is_in_a_hub_cache() {
        use crate::hub::{CacheKind, HubCaches};
        let r = ModelRegistry::builtin();
        for name in ["llama-3.1-8b", "qwen3-32b", "deepseek-v3"] {
            let m = r.get(name).unwrap();
            assert!(m.repo.is_some(), "{name} has no repo");
            assert!(!m.is_exact());
        }
        assert_eq!(
            r.get("claude-3-5-haiku").unwrap().api_id(),
            "claude-3-5-haiku-latest"
        );
        assert_eq!(
            r.get("claude-sonnet-4-5").unwrap().api_id(),
            "claude-sonnet-4-5"
        );

        let tmp = tempfile::tempdir().unwrap();
        let snap = tmp.path().join(
            "models--meta-llama--Llama-3.1-8B-Instruct/snapshots/1111111111111111111111111111111111111111",
        );
        std::fs::create_dir_all(&snap).unwrap();
        std::fs::write(snap.join("tokenizer.json"), "{}").unwrap();
        let caches = HubCaches {
            dirs: vec![(tmp.path().to_path_buf(), CacheKind::HuggingFace)],
        };
        let mut r = ModelRegistry::builtin();
        // A user's own tokenizer_file wins over the cache.
        r.extend_from_str(
            "[[models]]\nname = \"qwen3-32b\"\ntokenizer_file = \"/x/tokenizer.json\"\n",
            "user.toml",
        )
        .unwrap();
        r.find_hub_files(&caches);
        let m = r.get("llama-3.1-8b").unwrap();
        assert!(m.is_exact());
        assert_eq!(
            m.tokenizer_file(),
            Some(snap.join("tokenizer.json").as_path())
        );
        assert_eq!(m.hub.as_ref().unwrap().cache, CacheKind::HuggingFace);
        assert!(!r.get("llama-3.1-70b").unwrap().is_exact());
        let q = r.get("qwen3-32b").unwrap();
        assert_eq!(q.tokenizer_file(), Some(Path::new("/x/tokenizer.json")));
        assert!(q.hub.is_none());

        let e = registry_with(
            "[[models]]\nname = \"x\"\nencoding = \"o200k_base\"\nrepo = \"../etc\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("user.toml:4:8: `repo`: invalid repository"),
            "{e}"
        );
    }

    #[test]
    fn unknown_model_names_three_close_ones() {
        let r = ModelRegistry::builtin();
        let e = r.get("gpt4o").unwrap_err();
        assert_eq!(e.suggestions.len(), 3);
        assert_eq!(e.suggestions[0], "gpt-4o");
        let msg = e.to_string();
        assert!(msg.starts_with("unknown model `gpt4o`"), "{msg}");
        assert!(msg.contains("`gpt-4o`"), "{msg}");

        let e = r.get("claude-sonet-4.5").unwrap_err();
        assert_eq!(e.suggestions[0], "claude-sonnet-4-5", "{:?}", e.suggestions);
        // Matched by an alias, reported by the model's name.
        let e = r.get("deepseek-chatt").unwrap_err();
        assert_eq!(e.suggestions[0], "deepseek-v3", "{:?}", e.suggestions);
    }

    #[test]
    fn user_entry_overrides_field_by_field() {
        let r = registry_with(
            r#"
[[models]]
name = "GPT-4o"
input_price = 1.0
aliases = ["my-4o"]
"#,
        )
        .unwrap();
        let m = r.get("gpt-4o").unwrap();
        assert_eq!(m.input_price, Some(1.0));
        assert_eq!(m.output_price, Some(10.0));
        assert_eq!(m.context_window, Some(128_000));
        assert_eq!(
            m.counting,
            ModelCounting::Tokenizer(Tokenizer::Exact(Encoding::O200kBase))
        );
        assert_eq!(r.get("my-4o").unwrap().name, "gpt-4o");
        assert_eq!(r.get("chatgpt-4o-latest").unwrap().name, "gpt-4o");
        assert_eq!(m.source.as_deref(), Some(Path::new("user.toml")));
        // Other models untouched.
        assert!(r.get("gpt-4").unwrap().source.is_none());
    }

    #[test]
    fn override_by_alias_and_replace_counting() {
        let r = registry_with(
            r#"
[[models]]
name = "claude-sonnet-4-5-20250929"
estimate = { base = "cl100k_base", ratio = 1.3 }
"#,
        )
        .unwrap();
        let m = r.get("claude-sonnet-4.5").unwrap();
        assert_eq!(
            m.counting,
            ModelCounting::Tokenizer(Tokenizer::estimate(Estimate::Scaled {
                base: Encoding::Cl100kBase,
                ratio: 1.3
            }))
        );
        assert_eq!(m.name, "claude-sonnet-4-5");
    }

    #[test]
    fn error_bands_default_by_kind_and_can_be_set() {
        let r = registry_with(
            r#"
[[models]]
name = "ratio-model"
estimate = { base = "o200k_base", ratio = 1.1 }

[[models]]
name = "words-model"
estimate = "words*1.3"

[[models]]
name = "tight-model"
estimate = "chars/4"
error = 0.15

[[models]]
name = "claude-haiku-4-5"
error = 0.2

[[models]]
name = "gemini-2.5-pro"
estimate = "chars/4"
"#,
        )
        .unwrap();
        let band = |n: &str| r.get(n).unwrap().error_band();
        assert_eq!(band("ratio-model"), Some(ErrorBand::RATIO));
        assert_eq!(band("words-model"), Some(ErrorBand::WORDS13));
        assert_eq!(band("tight-model"), ErrorBand::new(0.15));
        // `error` alone changes the band and keeps the estimate.
        assert_eq!(band("claude-haiku-4-5"), ErrorBand::new(0.2));
        assert!(matches!(
            r.get("claude-haiku-4-5").unwrap().tokenizer().unwrap(),
            Tokenizer::Estimate(Estimate::Scaled { .. }, _)
        ));
        // A new estimate without `error` takes its kind's default.
        assert_eq!(band("gemini-2.5-pro"), Some(ErrorBand::CHARS4));
        assert_eq!(band("gpt-4o"), None);
        // The tokenizer carries the band to plans and screens.
        assert_eq!(
            r.get("tight-model")
                .unwrap()
                .tokenizer()
                .unwrap()
                .to_string(),
            "≈ chars/4 ±15%"
        );
    }

    #[test]
    fn builtin_bands_are_documented_figures() {
        let r = ModelRegistry::builtin();
        let band = |n: &str| r.get(n).unwrap().error_band().unwrap().to_string();
        assert_eq!(band("claude-sonnet-4-5"), "±10%");
        assert_eq!(band("llama-3.1-8b"), "±5%");
    }

    #[test]
    fn gemini_and_gpt_oss_count_exactly_with_built_in_tables() {
        let r = ModelRegistry::builtin();
        for name in [
            "gemini-2.5-pro",
            "gemini-2.5-flash",
            "gemini-2.5-flash-lite",
            "gemini-2.0-flash",
        ] {
            let spec = r.get(name).unwrap();
            assert!(spec.is_exact(), "{name}");
            assert_eq!(spec.counting.describe(), "gemma3", "{name}");
            let t = spec.tokenizer().unwrap();
            assert_eq!(t.count("What is your name?"), 5, "{name}");
        }
        for name in ["gpt-oss-120b", "openai/gpt-oss-20b"] {
            let spec = r.get(name).unwrap();
            assert!(spec.is_exact(), "{name}");
            assert_eq!(
                spec.tokenizer().unwrap(),
                Tokenizer::Exact(Encoding::O200kHarmony)
            );
            assert_eq!(spec.chat, None, "harmony is not chat-completions framing");
        }
        assert_eq!(
            resolve_encoding("Gemma3").unwrap().to_string(),
            "gemma3",
            "a built-in tokenizer by name"
        );
        assert_eq!(
            resolve_encoding("o200k_harmony").unwrap(),
            Tokenizer::Exact(Encoding::O200kHarmony)
        );
        let mut user = ModelRegistry::builtin();
        user.extend_from_str(
            "[[models]]\nname = \"my-gemma\"\nencoding = \"gemma3\"\n",
            "user.toml",
        )
        .unwrap();
        assert!(user.get("my-gemma").unwrap().is_exact());
        let (l, c, m) = invalid("[[models]]\nname = \"x\"\nencoding = \"gemma4\"\n");
        assert_eq!((l, c), (3, 12));
        assert!(m.contains("gemma3") && m.contains("o200k_harmony"), "{m}");
    }

    #[test]
    fn error_is_checked() {
        let (l, c, m) = invalid("[[models]]\nname = \"claude-opus-4-5\"\nerror = 0\n");
        assert_eq!((l, c), (3, 9));
        assert!(m.contains("above 0 and at most 1"), "{m}");
        let (l, _, m) = invalid("[[models]]\nname = \"claude-opus-4-5\"\nerror = 1.5\n");
        assert_eq!(l, 3);
        assert!(m.contains("found 1.5"), "{m}");
        let (l, _, m) = invalid("[[models]]\nname = \"claude-opus-4-5\"\nerror = \"10%\"\n");
        assert_eq!(l, 3);
        assert!(m.contains("0.10 for ±10%"), "{m}");
        let (l, _, m) = invalid("[[models]]\nname = \"gpt-4o\"\nerror = 0.1\n");
        assert_eq!(l, 3);
        assert!(m.contains("counts exactly (o200k_base)"), "{m}");
        let (l, _, m) =
            invalid("[[models]]\nname = \"x\"\nencoding = \"o200k_base\"\nerror = 0.1\n");
        assert_eq!(l, 4);
        assert!(m.contains("has none"), "{m}");
    }

    #[test]
    fn tokenizer_file_is_resolved_and_not_loaded_with_the_registry() {
        let r = registry_with(
            r#"
[[models]]
name = "house-llama"
tokenizer_file = "tok/tokenizer.json"
context_window = 8192

[[models]]
name = "llama-3.1-8b"
tokenizer_file = "/models/llama/tokenizer.json"
"#,
        )
        .unwrap();
        let m = r.get("house-llama").unwrap();
        assert!(m.is_exact());
        assert_eq!(m.error_band(), None);
        assert_eq!(m.tokenizer_file(), Some(Path::new("tok/tokenizer.json")));
        assert_eq!(m.counting.describe(), "tok/tokenizer.json");
        // The file does not exist: the registry loads, the model fails when
        // used, naming the models file with its position, the model and the
        // file.
        let e = m.tokenizer().unwrap_err().to_string();
        assert!(
            e.starts_with(
                "user.toml:4:18: model `house-llama`: tokenizer_file \"tok/tokenizer.json\""
            ),
            "{e}"
        );
        let llama = r.get("llama3.1").unwrap();
        assert!(llama.is_exact());
        let ModelCounting::File(f) = &llama.counting else {
            panic!("expected a tokenizer file, got {:?}", llama.counting);
        };
        assert_eq!(f.model, "llama-3.1-8b", "named by the model, not the entry");
        assert_eq!(f.path, Path::new("/models/llama/tokenizer.json"));
    }

    #[test]
    fn tokenizer_file_conflicts_are_reported() {
        let (l, _, m) = invalid(
            "[[models]]\nname = \"x\"\nencoding = \"cl100k_base\"\ntokenizer_file = \"t.json\"\n",
        );
        assert_eq!(l, 4);
        assert!(m.contains("not `encoding` and `tokenizer_file`"), "{m}");
        let (l, _, m) =
            invalid("[[models]]\nname = \"x\"\ntokenizer_file = \"t.json\"\nerror = 0.1\n");
        assert_eq!(l, 4);
        assert!(m.contains("has none"), "{m}");
        let (l, _, m) = invalid("[[models]]\nname = \"x\"\ntokenizer_file = \" \"\n");
        assert_eq!(l, 3);
        assert!(m.contains("must not be empty"), "{m}");
        let (l, _, m) = invalid("[[models]]\nname = \"new-one\"\ncontext_window = 5\n");
        assert_eq!(l, 2);
        assert!(m.contains("`tokenizer_file`"), "{m}");
    }

    #[test]
    fn new_model_with_preset_and_inline_framing() {
        let r = registry_with(
            r#"
[chat.mine]
tokens_per_message = 4
tokens_per_name = -1
reply_priming = 2

[[models]]
name = "house-model"
encoding = "cl100k_base"
context_window = 32000
chat = "mine"

[[models]]
name = "other-model"
estimate = "chars/4"
chat = { tokens_per_message = 3, tokens_per_name = 1, reply_priming = 3, function_init = 10 }
"#,
        )
        .unwrap();
        let m = r.get("house-model").unwrap();
        assert_eq!(m.provider, "custom");
        assert_eq!(m.chat.unwrap().tokens_per_message, 4);
        assert_eq!(m.chat.unwrap().tokens_per_name, -1);
        assert_eq!(m.chat.unwrap().functions_end, 12);
        let o = r.get("other-model").unwrap();
        assert_eq!(
            o.counting,
            ModelCounting::Tokenizer(Tokenizer::estimate(Estimate::Chars4))
        );
        assert_eq!(o.error_band(), Some(ErrorBand::CHARS4));
        assert_eq!(o.chat, Some(ChatFraming::OPENAI_CL100K));
        assert_eq!(r.len(), ModelRegistry::builtin().len() + 2);
    }

    fn invalid(text: &str) -> (usize, usize, String) {
        match registry_with(text) {
            Err(RegistryError::Invalid {
                origin,
                line,
                column,
                message,
            }) => {
                assert_eq!(origin, "user.toml");
                (line, column, message)
            }
            other => panic!("expected an invalid-file error, got {other:?}"),
        }
    }

    #[test]
    fn toml_syntax_error_has_position() {
        let (line, column, message) = invalid("[[models]]\nname = \"x\"\nencoding = \n");
        assert_eq!((line, column), (3, 12), "{message}");
        assert!(message.contains("expected"), "{message}");
    }

    #[test]
    fn semantic_errors_have_positions() {
        let (l, c, m) = invalid("[[models]]\nname = \"new-one\"\ncontext_window = 1000\n");
        assert_eq!((l, c), (2, 8));
        assert!(m.contains("needs `encoding`"), "{m}");

        let (l, c, m) = invalid("[[models]]\nname = \"x\"\nencoding = \"o300k\"\n");
        assert_eq!((l, c), (3, 12));
        assert!(m.contains("o200k_base"), "{m}");

        let (l, _, m) = invalid("[[models]]\nname = \"x\"\nestimate = \"bytes/3\"\n");
        assert_eq!(l, 3);
        assert!(m.contains("chars/4"), "{m}");

        let (l, _, m) =
            invalid("[[models]]\nname = \"x\"\nestimate = { base = \"o200k_base\", ratio = -2 }\n");
        assert_eq!(l, 3);
        assert!(m.contains("ratio"), "{m}");

        let (l, _, m) = invalid("[[models]]\nname = \"gpt-4\"\ncontext_window = -5\n");
        assert_eq!(l, 3);
        assert!(m.contains("positive"), "{m}");

        let (l, _, m) = invalid("[[models]]\nname = \"gpt-4\"\ninput_price = -1.0\n");
        assert_eq!(l, 3);
        assert!(m.contains("price"), "{m}");

        let (l, c, m) = invalid("[[models]]\nname = \"gpt-4\"\ncontext_windw = 5\n");
        assert_eq!((l, c), (3, 1));
        assert!(m.contains("context_window"), "{m}");

        let (l, _, m) = invalid("[[models]]\nname = \"gpt-4\"\naliases = [\"gpt-4o\"]\n");
        assert_eq!(l, 3);
        assert!(m.contains("already"), "{m}");

        let (l, _, m) = invalid("[[models]]\nname = \"gpt-4\"\nchat = \"nope\"\n");
        assert_eq!(l, 3);
        assert!(m.contains("openai-o200k"), "{m}");

        let (l, _, m) = invalid(
            "[[models]]\nname = \"gpt-4\"\nencoding = \"cl100k_base\"\nestimate = \"chars/4\"\n",
        );
        assert_eq!(l, 4);
        assert!(m.contains("not `encoding` and `estimate`"), "{m}");
    }

    #[test]
    fn wrong_value_types_say_what_was_expected() {
        let (l, c, m) = invalid("[[models]]\nname = \"gpt-4o\"\ncontext_window = \"big\"\n");
        assert_eq!((l, c), (3, 18));
        assert!(m.contains("expected a whole number of tokens"), "{m}");
        let (l, _, m) = invalid("[[models]]\nname = \"gpt-4o\"\ninput_price = \"cheap\"\n");
        assert_eq!(l, 3);
        assert!(
            m.contains("expected a price in USD per million tokens"),
            "{m}"
        );
        // Integers are fine as prices.
        let r = registry_with("[[models]]\nname = \"gpt-4o\"\ninput_price = 3\n").unwrap();
        assert_eq!(r.get("gpt-4o").unwrap().input_price, Some(3.0));
    }

    #[test]
    fn missing_user_file_is_an_error_naming_it() {
        let e = ModelRegistry::load(Some(Path::new("/nonexistent/tokenscope-models.toml")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/tokenscope-models.toml"), "{e}");
    }

    #[test]
    fn input_cost_uses_the_list_price() {
        let r = ModelRegistry::builtin();
        let cost = r.get("gpt-4o").unwrap().input_cost(1_000_000).unwrap();
        assert!((cost - 2.5).abs() < 1e-12);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        #[test]
        fn any_user_file_is_loaded_or_rejected_without_panic(text in "\\PC{0,300}") {
            let _ = registry_with(&text);
        }

        #[test]
        fn toml_like_user_files_never_panic(
            name in "[a-z0-9.-]{0,12}",
            field in "(encoding|estimate|context_window|max_output|input_price|chat|aliases|provider|error|tokenizer_file)",
            value in "(\"o200k_base\"|\"chars/4\"|-1|0|12|1.5|\"x\"|\\[\"gpt-4o\"\\]|\\{ base = \"cl100k_base\", ratio = 0 \\})",
        ) {
            let text = format!("[[models]]\nname = \"{name}\"\n{field} = {value}\n");
            if let Err(RegistryError::Invalid { line, .. }) = registry_with(&text) {
                proptest::prop_assert!((1..=3).contains(&line), "line {line} for {text}");
            }
        }
    }
}
