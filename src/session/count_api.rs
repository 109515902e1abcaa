//! `--count-api anthropic`: fetching Claude counts from Anthropic's
//! count_tokens API before a run (the engine itself never waits on the
//! network), with the disk cache; progress goes to what the front end
//! supplies ([`CountProgress`]; the command line draws a line on a
//! terminal).

use std::sync::Arc;

use crate::anthropic::{CountApi, CountStore};
use crate::tokens::{ModelSpec, Tokenizer};

use super::SessionError;

/// The count APIs `--count-api` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum CountApiChoice {
    /// Anthropic's `/v1/messages/count_tokens` (Claude models).
    Anthropic,
}

/// What `--help` says about `--count-api`.
pub const HELP: &str = "Count a Claude model exactly with Anthropic's token counting API. This SENDS THE TEXT of every \
item (or file) to $ANTHROPIC_BASE_URL (default https://api.anthropic.com)/v1/messages/count_tokens with the key in \
$ANTHROPIC_API_KEY. Counts are cached on disk by model and SHA-256 of the text (~/.cache/tokenscope/anthropic on \
Linux; hashes and numbers only), so a re-run sends nothing. Without this flag no content leaves the machine.";

/// Where a count API's progress goes while texts are measured.
pub trait CountProgress: Send + Sync {
    /// `done` of `total` texts are counted.
    fn draw(&self, done: usize, total: usize);
    /// The measuring ended (also after an error).
    fn clear(&self);
}

impl std::fmt::Debug for dyn CountProgress + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CountProgress")
    }
}

/// A model's API counting: the client, the disk cache and the model id.
#[derive(Debug)]
pub struct ApiSession {
    api: CountApi,
    store: CountStore,
    model_id: String,
    fallback: Tokenizer,
    /// Where progress goes (`None`: nowhere).
    progress: Option<Arc<dyn CountProgress>>,
}

impl ApiSession {
    /// A session for `model`, which must be an Anthropic model.
    pub fn new(choice: CountApiChoice, model: &ModelSpec) -> Result<ApiSession, SessionError> {
        let CountApiChoice::Anthropic = choice;
        if model.provider != "anthropic" {
            return Err(SessionError::Usage(format!(
                "--count-api anthropic counts Claude models; `{}` is a {} model (name a Claude model with --model, e.g. claude-sonnet-4-5)",
                model.name, model.provider
            )));
        }
        let fallback = model.tokenizer()?;
        let api = CountApi::from_env()?;
        let store = match CountStore::default_path() {
            Some(path) => CountStore::open(&path)?,
            None => CountStore::in_memory(),
        };
        Ok(ApiSession {
            api,
            store,
            model_id: model.api_id().to_string(),
            fallback,
            progress: None,
        })
    }

    /// The same session, reporting progress to `progress`.
    pub fn with_progress(mut self, progress: Option<Arc<dyn CountProgress>>) -> ApiSession {
        self.progress = progress;
        self
    }

    /// Calls `measure` with a progress callback, and clears the progress
    /// afterwards.
    fn reporting<T>(&self, measure: impl FnOnce(&mut (dyn FnMut(usize, usize) + Send)) -> T) -> T {
        let progress = self.progress.as_deref();
        let result = measure(&mut |done, total| {
            if let Some(p) = progress {
                p.draw(done, total);
            }
        });
        if let Some(p) = progress {
            p.clear();
        }
        result
    }

    /// A tokenizer with no counts measured yet ([`ApiSession::measure`]
    /// adds them).
    pub fn empty_tokenizer(&self) -> Tokenizer {
        Tokenizer::Api(std::sync::Arc::new(crate::tokens::ApiCounts::new(
            self.model_id.clone(),
            crate::anthropic::SOURCE,
            [],
            self.fallback.clone(),
        )))
    }

    /// A tokenizer that counts `texts` exactly (fetched now).
    pub fn tokenizer(&self, texts: &[&str]) -> Result<Tokenizer, SessionError> {
        let result = self.reporting(|progress| {
            crate::anthropic::tokenizer_for(
                &self.api,
                &self.model_id,
                texts,
                self.fallback.clone(),
                &self.store,
                progress,
            )
        });
        self.finish(result)
    }

    /// Measures `texts` (those not measured yet) into `tokenizer`'s table.
    pub fn measure(&self, tokenizer: &Tokenizer, texts: &[&str]) -> Result<(), SessionError> {
        let Some(counts) = tokenizer.api() else {
            return Ok(());
        };
        let result = self.reporting(|progress| {
            self.api
                .measure(&self.model_id, texts, counts, &self.store, progress)
        });
        self.finish(result)
    }

    /// Measures the texts `tokenizer` had to estimate since the last call;
    /// `false` when there were none.
    pub fn refine(&self, tokenizer: &Tokenizer) -> Result<bool, SessionError> {
        let Some(counts) = tokenizer.api() else {
            return Ok(false);
        };
        let missed = counts.take_missed();
        if missed.is_empty() {
            return Ok(false);
        }
        let texts: Vec<&str> = missed.iter().map(String::as_str).collect();
        let result = self.reporting(|progress| {
            self.api
                .measure(&self.model_id, &texts, counts, &self.store, progress)
        });
        self.finish(result.map(|()| true))
    }

    /// Saves new counts (also after an error: what was fetched is kept).
    fn finish<T>(
        &self,
        result: Result<T, crate::anthropic::CountApiError>,
    ) -> Result<T, SessionError> {
        let saved = self.store.save();
        let value = result?;
        saved?;
        Ok(value)
    }
}

/// Runs `pack` until no text had to be estimated (measuring those texts
/// between runs), at most `rounds` times.
pub fn pack_exact<P>(
    session: &ApiSession,
    tokenizer: &Tokenizer,
    rounds: usize,
    mut pack: impl FnMut() -> Result<P, SessionError>,
) -> Result<P, SessionError> {
    let mut plan = pack()?;
    for _ in 1..rounds {
        if !session.refine(tokenizer)? {
            break;
        }
        plan = pack()?;
    }
    // Misses of the last run stay estimates (the plan says so).
    if let Some(a) = tokenizer.api() {
        a.take_missed();
    }
    Ok(plan)
}
