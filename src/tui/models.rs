//! The models the inspector offers, and how the active tokenizer is chosen.

use crate::tokens::{ChatFraming, Encoding, ModelCounting, Tokenizer};

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
    /// How it counts: an encoding, a labelled estimate, or a tokenizer file
    /// (loaded when the model is picked).
    pub counting: ModelCounting,
    /// Its context window in tokens.
    pub context_window: Option<usize>,
    /// Input price in USD per million tokens.
    pub input_price: Option<f64>,
    /// How it frames chat requests.
    pub chat: Option<ChatFraming>,
}

impl ModelChoice {
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
}

/// The model with this name or alias in `models`.
pub fn find<'a>(models: &'a [ModelChoice], name: &str) -> Option<&'a ModelChoice> {
    models.iter().find(|m| m.answers_to(name))
}

/// The tokenizer used when neither a model nor an encoding is given.
pub fn default_tokenizer() -> Tokenizer {
    Tokenizer::Exact(Encoding::O200kBase)
}
