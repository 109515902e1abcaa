//! The count cache: one count per (tokenizer, content hash).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, RwLock};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::{Tokenizer, TokenizerId};

/// Caches token counts by (tokenizer, 128-bit content hash) so that the same
/// text is tokenized once per tokenizer, however many times it is counted.
///
/// Shared by everything that counts (the engine, the CLI, the inspector);
/// [`CountCache::global`] is the process-wide instance.
#[derive(Debug, Default)]
pub struct CountCache {
    map: RwLock<FxHashMap<(TokenizerId, bool, u128), usize>>,
    tokenized: AtomicU64,
    hits: AtomicU64,
}

impl CountCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide cache.
    pub fn global() -> &'static CountCache {
        static GLOBAL: OnceLock<CountCache> = OnceLock::new();
        GLOBAL.get_or_init(CountCache::new)
    }

    /// Counts `text` as ordinary text, from the cache when it was counted before.
    pub fn count(&self, tokenizer: &Tokenizer, text: &str) -> usize {
        self.count_inner(tokenizer, text, false)
    }

    /// Counts `text` with special-token literals as special tokens.
    pub fn count_with_special(&self, tokenizer: &Tokenizer, text: &str) -> usize {
        self.count_inner(tokenizer, text, true)
    }

    /// Counts many texts in parallel; the result is in input order.
    pub fn count_many<S: AsRef<str> + Sync>(
        &self,
        tokenizer: &Tokenizer,
        texts: &[S],
    ) -> Vec<usize> {
        texts
            .par_iter()
            .map(|t| self.count(tokenizer, t.as_ref()))
            .collect()
    }

    fn count_inner(&self, tokenizer: &Tokenizer, text: &str, special: bool) -> usize {
        // API counts are a table already; a text missing from it must be
        // recorded as a miss on every count, so it is never cached.
        if let Tokenizer::Api(api) = tokenizer {
            return api.count(text);
        }
        let key = (
            tokenizer.id(),
            special,
            xxhash_rust::xxh3::xxh3_128(text.as_bytes()),
        );
        if let Some(&n) = self.map.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return n;
        }
        let n = if special {
            tokenizer.count_with_special(text)
        } else {
            tokenizer.count(text)
        };
        self.tokenized.fetch_add(1, Ordering::Relaxed);
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, n);
        n
    }

    /// How many texts this cache has actually tokenized (cache misses).
    pub fn tokenized(&self) -> u64 {
        self.tokenized.load(Ordering::Relaxed)
    }

    /// How many counts were answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// The number of cached counts.
    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether the cache holds no counts.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::{Encoding, Estimate};

    #[test]
    fn counting_the_same_text_twice_tokenizes_once() {
        let cache = CountCache::new();
        let tok = Tokenizer::Exact(Encoding::Cl100kBase);
        let a = cache.count(&tok, "The same text, counted twice.");
        let b = cache.count(&tok, "The same text, counted twice.");
        assert_eq!(a, b);
        assert_eq!(cache.tokenized(), 1);
        assert_eq!(cache.hits(), 1);
    }

    #[test]
    fn keys_separate_tokenizers_and_special_handling() {
        let cache = CountCache::new();
        let text = "hello <|endoftext|>";
        let o200k = Tokenizer::Exact(Encoding::O200kBase);
        let chars = Tokenizer::estimate(Estimate::Chars4);
        let ordinary = cache.count(&o200k, text);
        let special = cache.count_with_special(&o200k, text);
        assert!(special < ordinary, "the literal is one special token");
        cache.count(&chars, text);
        assert_eq!(cache.tokenized(), 3);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn count_many_keeps_input_order_and_shares_the_cache() {
        let cache = CountCache::new();
        let tok = Tokenizer::Exact(Encoding::O200kBase);
        let texts = ["one", "two words", "one", "three words here", "two words"];
        let counts = cache.count_many(&tok, &texts);
        let expected: Vec<usize> = texts.iter().map(|t| tok.count(t)).collect();
        assert_eq!(counts, expected);
        assert_eq!(cache.len(), 3);
    }
}
