//! The engine's entry point.

use crate::tokens::{CountCache, Tokenizer};

use super::{ItemSet, Plan};

/// What the engine needs besides the item set.
#[derive(Debug, Clone)]
pub struct PackContext<'a> {
    /// The tokenizer every item is counted with.
    pub tokenizer: &'a Tokenizer,
    /// The shared count cache.
    pub cache: &'a CountCache,
    /// The model name, for the report.
    pub model: Option<String>,
    /// Input price in USD per million tokens, for the cost.
    pub price_per_million: Option<f64>,
}

/// An item set the engine cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// The budget's total was not resolved.
    #[error(
        "no total budget: give `total` in [budget], --budget, or a model with a known context window"
    )]
    NoTotal,
    /// Invalid settings, with the reason.
    #[error("{0}")]
    Invalid(String),
}

/// Runs the engine once: count, allocate, select, reallocate, overflow,
/// render (DESIGN.md §2). `set.budget.total` must be resolved.
pub fn pack(set: &ItemSet, ctx: &PackContext<'_>) -> Result<Plan, EngineError> {
    let _ = (set, ctx);
    todo!("engine under construction")
}
