//! The one fallback policy for inputs that name no budget, model or
//! encoding, shared by every front end.

use crate::engine::{Budget, ItemSet};
use crate::tokens::{Encoding, Tokenizer};

/// The model an input runs with when it names no budget, no model and no
/// encoding: its context window (minus the output reserve) is the budget.
pub const DEFAULT_MODEL: &str = "gpt-4o";

/// The context window assumed when no budget is given and the model or
/// encoding has no known window: that of [`DEFAULT_MODEL`].
pub const DEFAULT_CONTEXT_WINDOW: usize = 128_000;

/// The tokenizer used when neither a model nor an encoding is given.
pub fn default_tokenizer() -> Tokenizer {
    Tokenizer::Exact(Encoding::O200kBase)
}

/// Folders, Markdown and JSONL carry no budget: an item set with no
/// `total`, no model and no encoding takes [`DEFAULT_MODEL`] (whose
/// tokenizer is the default `o200k_base`), so that its budget is the
/// model's context window minus `reserve_output`. Returns whether it did;
/// the caller says so ([`default_budget_note`]).
pub fn default_model(set: &mut ItemSet) -> bool {
    let b = &mut set.budget;
    if b.total.is_some() || b.model.is_some() || b.encoding.is_some() {
        return false;
    }
    b.model = Some(DEFAULT_MODEL.to_string());
    true
}

/// Settles the budget's `total` as [`Budget::settle_total`] does for
/// `window` (the context window of `model`, when known). Without a total
/// and without a known window (an encoding alone, or a model whose window
/// is unknown) the total is [`DEFAULT_CONTEXT_WINDOW`] minus the reserve,
/// with a warning that says so: `total` is always set afterwards. Returns
/// the warnings.
pub fn settle_budget(
    budget: &mut Budget,
    window: Option<usize>,
    model: Option<&str>,
) -> Vec<String> {
    if budget.total.is_some() || window.is_some() {
        return budget.settle_total(window);
    }
    let reserve = budget.reserve_output;
    let total = DEFAULT_CONTEXT_WINDOW.saturating_sub(reserve).max(1);
    let what = match model {
        Some(m) => format!("model {m} has no known context window"),
        None => "no model is named".to_string(),
    };
    budget.total = Some(total);
    budget.context_window = None;
    vec![format!(
        "no budget given and {what}: the budget is {total} tokens ({DEFAULT_CONTEXT_WINDOW}, the context window of {DEFAULT_MODEL}, minus reserve_output {reserve}); set one with --budget N or --model NAME"
    )]
}

/// The warning that says an item set runs with [`DEFAULT_MODEL`]'s budget
/// because it named none (after [`default_model`] and the total settled).
pub fn default_budget_note(budget: &Budget) -> String {
    let total = budget.total.unwrap_or(0);
    let window = budget.context_window.unwrap_or(DEFAULT_CONTEXT_WINDOW);
    let reserve = budget.reserve_output;
    let minus = if reserve > 0 {
        format!(" minus reserve_output {reserve}")
    } else {
        String::new()
    };
    format!(
        "no budget or model given: the budget is {total} tokens, the context window of {DEFAULT_MODEL} ({window}){minus}; set one with --budget N or --model NAME"
    )
}
