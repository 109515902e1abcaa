//! The engine's output: a [`Plan`]. Its serde form is the report JSON of
//! docs/report-schema.md (`tokenscope.report/1`).

use serde::Serialize;

use super::{DegradeLevel, Overflow, Strategy};
use crate::tokens::{Accuracy, ErrorBand};

/// What happened to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Included in full.
    Included,
    /// Pinned, so included in full.
    Pinned,
    /// Included after being cut.
    Truncated,
    /// Included in a shorter form.
    Degraded,
    /// Not included; see the reason.
    Excluded,
}

impl ItemStatus {
    /// Every status, in the order above.
    pub const ALL: [ItemStatus; 5] = [
        ItemStatus::Included,
        ItemStatus::Pinned,
        ItemStatus::Truncated,
        ItemStatus::Degraded,
        ItemStatus::Excluded,
    ];

    /// The status in one word, as every report, the inspector and `watch`
    /// show it and as the JSON report writes it: `included`, `pinned`,
    /// `truncated`, `degraded`, `excluded`.
    pub const fn name(self) -> &'static str {
        match self {
            ItemStatus::Included => "included",
            ItemStatus::Pinned => "pinned",
            ItemStatus::Truncated => "truncated",
            ItemStatus::Degraded => "degraded",
            ItemStatus::Excluded => "excluded",
        }
    }
}

impl std::fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an item is excluded (or how it was changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Its priority is under `min_priority`.
    BelowMinPriority,
    /// It does not fit in what is left of its section's budget.
    OverSectionBudget,
    /// `strict` stopped at a higher-priority item that did not fit.
    BelowCutoff,
    /// `priority-cut` excluded it for being under the threshold.
    PriorityCut,
    /// Same content as an included item.
    Duplicate,
    /// Another item of its group is out, so the group is out.
    GroupExcluded,
    /// Removed at render time to keep the rendered count within the total.
    RenderTrim,
    /// `optimal` maximises total priority, and a priority of 0 (at the
    /// knapsack's fixed-point precision of 1e-6) adds nothing to it.
    ZeroPriority,
}

impl Reason {
    /// The reason in words, for terminal and Markdown reports.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::BelowMinPriority => "priority under min_priority",
            Reason::OverSectionBudget => "does not fit the section budget",
            Reason::BelowCutoff => {
                "after a higher-priority item that did not fit (strict stops at the first miss)"
            }
            Reason::PriorityCut => "under the priority-cut threshold",
            Reason::Duplicate => "same content as an included item",
            Reason::GroupExcluded => "another item of its group is out",
            Reason::RenderTrim => "trimmed so the rendered context fits the total",
            Reason::ZeroPriority => "priority 0 adds nothing to the optimal choice",
        }
    }
}

/// One item's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemPlan {
    /// The item id.
    pub id: String,
    /// Its section.
    pub section: String,
    /// Its full cost in tokens (text plus overhead).
    pub tokens: usize,
    /// What it costs as included (0 when excluded).
    pub final_tokens: usize,
    /// Its priority.
    pub priority: f64,
    /// Whether it is pinned.
    pub pinned: bool,
    /// What happened to it.
    pub status: ItemStatus,
    /// Why it is excluded, when it is.
    pub reason: Option<Reason>,
    /// The degrade level taken (1 compact, 2 outline, 3 capsule, 4 summary:
    /// [`DegradeLevel`]), when degraded.
    pub degrade_level: Option<u8>,
    /// Whether the count was given in the input rather than counted.
    pub given: bool,
    /// For a `duplicate`, the id of the item with the same content that is
    /// the one packed.
    pub duplicate_of: Option<String>,
    /// Index of the item in the item set.
    #[serde(skip)]
    pub index: usize,
    /// The text as included when it differs from the original (truncated or
    /// degraded).
    #[serde(skip)]
    pub final_text: Option<String>,
}

impl ItemPlan {
    /// The degrade level taken, named, when degraded to a known level.
    pub fn degrade(&self) -> Option<DegradeLevel> {
        self.degrade_level.and_then(DegradeLevel::from_number)
    }
}

/// One section's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionPlan {
    /// The section name.
    pub name: String,
    /// Tokens allocated before reallocation.
    pub allocated: usize,
    /// Tokens allocated after reallocation.
    #[serde(rename = "final")]
    pub final_budget: usize,
    /// Tokens used: included items' final tokens plus `frame`.
    pub used: usize,
    /// Tokens of `used` spent on the section's title and separators (and the
    /// blank line that joins it to the section before).
    pub frame: usize,
    /// `final - used` (0 when pinned items overrun).
    pub headroom: usize,
    /// `used / final` (0 when final is 0).
    pub utilization: f64,
    /// Included item count.
    pub included: usize,
    /// Excluded item count.
    pub excluded: usize,
    /// Extra tokens the section would need to fit its best excluded item.
    pub needed_for_next: Option<usize>,
    /// Tokens the section drew from the reserved pool.
    pub from_reserve: usize,
    /// Whether pinned items alone exceed the section's budget.
    pub pinned_overrun: bool,
    /// For `optimal`, when its search hit the deadline or the memory cap
    /// before proving its choice best: `(bound − kept) / bound` over the
    /// section's selectable priority, where no choice that fits is worth
    /// more than `bound`. `None` when proven optimal, or for other
    /// strategies.
    pub optimality_gap: Option<f64>,
}

/// A reallocation transfer. `from` is a section name or `"reserved"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfer {
    /// The giver.
    pub from: String,
    /// The receiver.
    pub to: String,
    /// Tokens moved.
    pub tokens: usize,
}

/// The budget as the engine ran it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanBudget {
    /// Tokens for the context.
    pub total: usize,
    /// Tokens kept for the output, out of the context window.
    pub reserve_output: usize,
    /// The model's context window, when known: the total is at most this
    /// minus `reserve_output`.
    pub context_window: Option<usize>,
    /// The reserved pool.
    pub reserved: usize,
    /// The default strategy.
    pub strategy: Strategy,
    /// The default overflow mode.
    pub overflow: Overflow,
    /// Whether reallocation was on.
    pub reallocate: bool,
}

/// Totals over the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    /// What the plan charges against the budget: the sum of the sections'
    /// `used` (included items' final tokens, titles and separators). The one
    /// figure called "used" everywhere (inspector, every report format).
    /// It can differ from `context` by a few tokens, because pieces counted
    /// on their own can merge where they join in the rendered text.
    pub used: usize,
    /// Exact count of the rendered context.
    pub rendered: usize,
    /// What the context costs: `rendered` plus the tokens of included items
    /// that are not rendered text (given counts, per-item overhead such as
    /// chat framing). Never more than the total.
    pub context: usize,
    /// Included item count.
    pub included: usize,
    /// Excluded item count.
    pub excluded: usize,
    /// `used / total` (0 when the total is 0), as each section's
    /// utilisation is its `used` over its final budget.
    pub utilization: f64,
    /// Kept priority per 1,000 used tokens.
    pub efficiency: f64,
    /// The `chars/4` estimate of the rendered context, against the exact count.
    pub estimate_chars4: usize,
    /// Input cost of the context (`context` tokens) at the model's price.
    pub cost_usd: Option<f64>,
    /// The [`SectionPlan::optimality_gap`] of all `optimal` sections
    /// together (their bounds and kept priorities summed); `None` when every
    /// one was proven optimal, or no section is `optimal`.
    pub optimality_gap: Option<f64>,
}

/// The result of one engine run (docs/concepts.md "Plan").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Always `tokenscope.report/1`.
    pub schema: &'static str,
    /// The model, if one was chosen.
    pub model: Option<String>,
    /// The tokenizer's name (encoding or estimate formula).
    pub encoding: String,
    /// Whether counts are exact.
    pub exact: bool,
    /// The expected relative error of the counts when they are estimates
    /// (`0.1` for ±10 %); `null` when they are exact.
    pub error_band: Option<ErrorBand>,
    /// Where the counts come from when not from a tokenizer on this
    /// machine: `anthropic count_tokens` with `--count-api anthropic`.
    /// Absent from the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count_source: Option<String>,
    /// The budget as run.
    pub budget: PlanBudget,
    /// Totals.
    pub totals: Totals,
    /// Sections in render order.
    pub sections: Vec<SectionPlan>,
    /// Items in input order.
    pub items: Vec<ItemPlan>,
    /// Reallocation transfers in the order they happened.
    pub reallocations: Vec<Transfer>,
    /// Warnings: the item set's (from loading) first, then the engine's
    /// (shares normalised, pinned overruns, ...).
    pub warnings: Vec<String>,
    /// The rendered context.
    #[serde(skip)]
    pub rendered: String,
    /// Whether the item set was a chat request, so that `rendered` is the
    /// trimmed request as JSON.
    #[serde(skip)]
    pub chat_request: bool,
}

impl Plan {
    /// How exact the plan's counts are, for labelling them
    /// ([`Accuracy::label`]).
    pub fn accuracy(&self) -> Accuracy {
        Accuracy::new(self.exact, self.error_band)
    }

    /// When an `optimal` search stopped before proving its choice best: the
    /// plan's gap and the sections' (`gap 0.0012% (docs 0.0012%)`); `None`
    /// when every `optimal` section is proven optimal.
    pub fn optimality_label(&self) -> Option<String> {
        let gap = self.totals.optimality_gap?;
        let sections: Vec<String> = self
            .sections
            .iter()
            .filter_map(|s| Some(format!("{} {}", s.name, gap_percent(s.optimality_gap?))))
            .collect();
        Some(format!(
            "gap {} ({})",
            gap_percent(gap),
            sections.join(", ")
        ))
    }
}

/// An optimality gap as a percentage with two significant digits
/// (`0.035%`, `0.00078%`, `12%`); `<0.000001%` below that, `0%` for none.
pub fn gap_percent(gap: f64) -> String {
    let pct = gap * 100.0;
    if !pct.is_finite() || pct <= 0.0 {
        return "0%".to_string();
    }
    if pct < 1e-6 {
        return "<0.000001%".to_string();
    }
    let magnitude = pct.log10().floor() as i32;
    let mut decimals = (1 - magnitude).max(0) as usize;
    // Rounding up to the next power of ten (9.99…e-5 to 0.000100) needs one
    // digit less.
    let rounded: f64 = format!("{pct:.decimals$}").parse().unwrap_or(pct);
    if decimals > 0 && rounded >= 10f64.powi(magnitude + 1) {
        decimals -= 1;
    }
    format!("{pct:.decimals$}%")
}

/// The report schema name.
pub const REPORT_SCHEMA: &str = "tokenscope.report/1";

#[cfg(test)]
mod tests {
    use super::*;

    /// The inspector, `watch` and the reports each had a copy of these
    /// words (the reports through the JSON names): the enum's own name is
    /// now the one, and it must stay the JSON name.
    #[test]
    fn status_names_are_the_json_names() {
        for status in ItemStatus::ALL {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json.as_str(), Some(status.name()));
            assert_eq!(status.to_string(), status.name());
        }
        assert_eq!(ItemStatus::Excluded.to_string(), "excluded");
    }
}
