//! Counts measured by a provider's counting API ([`ApiCounts`]), for models
//! whose tokenizer is not published (Claude).
//!
//! Counting in tokenscope is synchronous and never waits on the network, so
//! API counts are fetched *before* a run, for every text the run is known to
//! count (the items, section titles and joiners), and kept in a table keyed
//! by the text's hash. [`Tokenizer::Api`] counts from that table: a text in
//! it is exact. A text that is not (a piece of an item cut to fit, a
//! degraded item, an item changed since the fetch) is counted with the
//! model's estimate instead, and the miss is recorded: a run that had any is
//! reported as an estimate, with the estimate's band and a warning, never
//! as exact.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

use rustc_hash::FxHashMap;

use super::{ErrorBand, Tokenizer};

/// Token counts from a provider's API, with the estimate used for texts
/// that were not measured.
#[derive(Debug)]
pub struct ApiCounts {
    /// The model the counts are for, as the API names it.
    pub model: String,
    /// Where the counts come from, e.g. `anthropic count_tokens`.
    pub source: String,
    counts: RwLock<FxHashMap<u128, usize>>,
    fallback: Tokenizer,
    misses: AtomicUsize,
    /// Texts that missed since the last [`ApiCounts::take_missed`], by hash
    /// (at most [`MAX_MISSED`] bytes of text are kept).
    missed: Mutex<(FxHashMap<u128, String>, usize)>,
}

/// How many bytes of missed texts are kept for a later fetch.
const MAX_MISSED: usize = 64 * 1024 * 1024;

impl ApiCounts {
    /// A table of measured counts, by text, with the tokenizer that counts
    /// any other text (the model's estimate).
    pub fn new<'a>(
        model: impl Into<String>,
        source: impl Into<String>,
        counts: impl IntoIterator<Item = (&'a str, usize)>,
        fallback: Tokenizer,
    ) -> ApiCounts {
        ApiCounts {
            model: model.into(),
            source: source.into(),
            counts: RwLock::new(counts.into_iter().map(|(t, n)| (key(t), n)).collect()),
            fallback,
            misses: AtomicUsize::new(0),
            missed: Mutex::default(),
        }
    }

    /// The measured count of `text`, if it was measured (the empty text is
    /// 0 tokens).
    pub fn get(&self, text: &str) -> Option<usize> {
        if text.is_empty() {
            return Some(0);
        }
        let counts = self.counts.read().unwrap_or_else(|e| e.into_inner());
        counts.get(&key(text)).copied()
    }

    /// Adds a measured count.
    pub fn insert(&self, text: &str, tokens: usize) {
        let mut counts = self.counts.write().unwrap_or_else(|e| e.into_inner());
        counts.insert(key(text), tokens);
    }

    /// The texts that were counted with the estimate since the last call
    /// (each once), to be measured before the run is repeated.
    pub fn take_missed(&self) -> Vec<String> {
        let mut missed = self.missed.lock().unwrap_or_else(|e| e.into_inner());
        let (texts, bytes) = std::mem::take(&mut *missed);
        let _ = bytes;
        texts.into_values().collect()
    }

    /// The count of `text`: measured, or else estimated (and the miss
    /// recorded).
    pub fn count(&self, text: &str) -> usize {
        match self.get(text) {
            Some(n) => n,
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                let mut missed = self.missed.lock().unwrap_or_else(|e| e.into_inner());
                let (texts, bytes) = &mut *missed;
                if *bytes + text.len() <= MAX_MISSED {
                    texts.entry(key(text)).or_insert_with(|| {
                        *bytes += text.len();
                        text.to_string()
                    });
                }
                drop(missed);
                self.fallback.count(text)
            }
        }
    }

    /// How many counts so far were estimates (texts not measured).
    pub fn misses(&self) -> usize {
        self.misses.load(Ordering::Relaxed)
    }

    /// How many texts were measured.
    pub fn len(&self) -> usize {
        self.counts.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no text was measured.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tokenizer that counts texts that were not measured.
    pub fn fallback(&self) -> &Tokenizer {
        &self.fallback
    }

    /// The error band of the fallback estimate.
    pub fn fallback_band(&self) -> Option<ErrorBand> {
        self.fallback.error_band()
    }

    /// A stable identity: the model, the source and the fallback.
    pub(crate) fn id(&self) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(self.model.as_bytes());
        h.update(b"\0");
        h.update(self.source.as_bytes());
        h.update(&self.fallback.id().raw().to_le_bytes());
        h.digest()
    }
}

fn key(text: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::{Encoding, Estimate};

    #[test]
    fn measured_texts_are_exact_and_others_are_estimated_and_recorded() {
        let fallback = Tokenizer::estimate(Estimate::Scaled {
            base: Encoding::O200kBase,
            ratio: 2.0,
        });
        let api = ApiCounts::new("claude-x", "test", [("hello world", 7)], fallback.clone());
        assert_eq!(api.count("hello world"), 7);
        assert_eq!(api.count(""), 0);
        assert_eq!(api.misses(), 0);
        assert_eq!(api.count("hello"), fallback.count("hello"));
        assert_eq!(api.misses(), 1);
        api.count("hello");
        assert_eq!(api.misses(), 2);
        assert_eq!(api.take_missed(), ["hello"]);
        assert!(api.take_missed().is_empty());
        api.insert("hello", 3);
        assert_eq!(api.count("hello"), 3);
        assert_eq!(api.misses(), 2);
        let t = Tokenizer::Api(std::sync::Arc::new(api));
        assert!(t.is_exact());
        assert_eq!(t.error_band(), None);
        assert_eq!(t.count("hello world"), 7);
        assert_eq!(t.name(), "claude-x via test");
    }
}
