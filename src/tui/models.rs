//! The models the inspector offers, and how the active tokenizer is chosen.

use std::str::FromStr;

use crate::tokens::{Encoding, Estimate, Tokenizer};

/// A model the user can pick: what the model picker lists and what the
/// header shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelChoice {
    /// The registry name.
    pub name: String,
    /// Other names it answers to.
    pub aliases: Vec<String>,
    /// Who serves it.
    pub provider: String,
    /// How it counts (exact, or a labelled estimate).
    pub tokenizer: Tokenizer,
    /// Its context window in tokens.
    pub context_window: Option<usize>,
    /// Input price in USD per million tokens.
    pub input_price: Option<f64>,
}

impl ModelChoice {
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
}

/// The model with this name or alias in `models`.
pub fn find<'a>(models: &'a [ModelChoice], name: &str) -> Option<&'a ModelChoice> {
    models.iter().find(|m| m.answers_to(name))
}

/// A tokenizer from an encoding or estimate name: the exact encodings, or
/// `chars/4` (`chars4`) and `words*1.3` (`words`).
pub fn tokenizer_for_encoding(name: &str) -> Option<Tokenizer> {
    if let Ok(e) = Encoding::from_str(name) {
        return Some(Tokenizer::Exact(e));
    }
    match name.trim().to_ascii_lowercase().as_str() {
        "chars/4" | "chars4" => Some(Tokenizer::Estimate(Estimate::Chars4)),
        "words*1.3" | "words" => Some(Tokenizer::Estimate(Estimate::Words13)),
        _ => None,
    }
}

/// The tokenizer used when neither a model nor an encoding is given.
pub fn default_tokenizer() -> Tokenizer {
    Tokenizer::Exact(Encoding::O200kBase)
}
