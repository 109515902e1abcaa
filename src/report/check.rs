//! Check rules: what `tokenscope check` gates on (docs/report-schema.md).
//!
//! Some rules always apply: a pinned item must not be excluded, the rendered
//! context must not exceed the total, and pinned items must not overrun their
//! section's budget. A profile adds its own ([`Rules`]): a maximum
//! utilisation, a minimum number of included items per section, and item ids
//! that must be included.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

pub use crate::engine::Rules;
use crate::engine::{ItemStatus, Plan, Reason};

/// A broken rule. Its `Display` form is one line.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// The rendered context is longer than the total.
    RenderedOverTotal {
        /// Exact tokens of the rendered context.
        rendered: usize,
        /// The total.
        total: usize,
    },
    /// Pinned items alone exceed a section's budget.
    PinnedOverrun {
        /// The section.
        section: String,
        /// Tokens the section's pinned items cost in full (they may have
        /// been removed since, to keep the context within the total).
        used: usize,
        /// The section's final budget.
        budget: usize,
    },
    /// A pinned item is excluded.
    PinnedExcluded {
        /// The item.
        id: String,
        /// Its section.
        section: String,
        /// Why the engine excluded it.
        reason: Option<Reason>,
    },
    /// The rendered context uses more of the total than allowed.
    MaxUtilization {
        /// `rendered / total`.
        utilization: f64,
        /// The allowed maximum.
        max: f64,
    },
    /// A section includes fewer items than required.
    MinIncluded {
        /// The section.
        section: String,
        /// Items it includes.
        included: usize,
        /// Items it must include.
        min: usize,
    },
    /// A `min_included` rule names a section that the plan does not have.
    UnknownSection {
        /// The section named by the rule.
        section: String,
    },
    /// A `must_include` item is excluded.
    MustIncludeExcluded {
        /// The item.
        id: String,
        /// Why the engine excluded it.
        reason: Option<Reason>,
    },
    /// A `must_include` item is not in the item set at all.
    MustIncludeMissing {
        /// The item id.
        id: String,
    },
    /// The inputs hold no item at all (`check` without `--allow-empty`).
    EmptyInput {
        /// The inputs, as the report's title names them.
        inputs: String,
    },
}

impl Violation {
    /// A short stable name for the rule, e.g. `pinned_excluded`.
    pub fn rule(&self) -> &'static str {
        match self {
            Violation::RenderedOverTotal { .. } => "rendered_over_total",
            Violation::PinnedOverrun { .. } => "pinned_overrun",
            Violation::PinnedExcluded { .. } => "pinned_excluded",
            Violation::MaxUtilization { .. } => "max_utilization",
            Violation::MinIncluded { .. } => "min_included",
            Violation::UnknownSection { .. } => "unknown_section",
            Violation::MustIncludeExcluded { .. } => "must_include",
            Violation::MustIncludeMissing { .. } => "must_include_missing",
            Violation::EmptyInput { .. } => "empty_input",
        }
    }
}

fn why(reason: Option<Reason>) -> String {
    reason.map_or_else(String::new, |r| format!(" ({})", r.describe()))
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::RenderedOverTotal { rendered, total } => write!(
                f,
                "rendered context is {rendered} tokens, over the total of {total}"
            ),
            Violation::PinnedOverrun {
                section,
                used,
                budget,
            } => write!(
                f,
                "section `{section}`: pinned items need {used} tokens, over its budget of {budget}"
            ),
            Violation::PinnedExcluded {
                id,
                section,
                reason,
            } => write!(
                f,
                "pinned item `{id}` in section `{section}` is excluded{}",
                why(*reason)
            ),
            Violation::MaxUtilization { utilization, max } => write!(
                f,
                "utilization {:.1}% is over the maximum of {:.1}%",
                utilization * 100.0,
                max * 100.0
            ),
            Violation::MinIncluded {
                section,
                included,
                min,
            } => write!(
                f,
                "section `{section}` includes {included} item{}, fewer than the required {min}",
                if *included == 1 { "" } else { "s" }
            ),
            Violation::UnknownSection { section } => write!(
                f,
                "min_included names section `{section}`, which the item set does not have"
            ),
            Violation::MustIncludeExcluded { id, reason } => {
                write!(f, "must-include item `{id}` is excluded{}", why(*reason))
            }
            Violation::MustIncludeMissing { id } => {
                write!(f, "must-include item `{id}` is not in the item set")
            }
            Violation::EmptyInput { inputs } => write!(
                f,
                "{inputs} holds no items: there is nothing to check (an empty folder or file, or every file filtered out?); pass --allow-empty when that is expected"
            ),
        }
    }
}

/// Serialized as `{"rule": "...", "message": "..."}`.
impl Serialize for Violation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Violation", 2)?;
        s.serialize_field("rule", self.rule())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

/// The verdict of `tokenscope check` as the reports carry it: the `check`
/// field of the JSON report, `{"passed": bool, "failures": [{"rule",
/// "message"}]}`, and the Markdown report's "Check" section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Whether every rule holds.
    pub passed: bool,
    /// One entry per broken rule, in the order [`check`] finds them.
    pub failures: Vec<CheckFailure>,
}

/// A broken rule in a [`CheckReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckFailure {
    /// The rule's short name ([`Violation::rule`]).
    pub rule: &'static str,
    /// The one-line message ([`Violation`]'s `Display` form).
    pub message: String,
}

impl CheckReport {
    /// The verdict for these violations (passed when there are none).
    pub fn new(violations: &[Violation]) -> CheckReport {
        CheckReport {
            passed: violations.is_empty(),
            failures: violations
                .iter()
                .map(|v| CheckFailure {
                    rule: v.rule(),
                    message: v.to_string(),
                })
                .collect(),
        }
    }
}

/// Every rule `plan` breaks, built-in rules first, then the profile's in the
/// order given. Empty when the plan passes.
pub fn check(plan: &Plan, rules: &Rules) -> Vec<Violation> {
    let mut out = Vec::new();
    let total = plan.budget.total;
    if plan.totals.rendered > total {
        out.push(Violation::RenderedOverTotal {
            rendered: plan.totals.rendered,
            total,
        });
    }
    for s in plan.sections.iter().filter(|s| s.pinned_overrun) {
        out.push(Violation::PinnedOverrun {
            section: s.name.clone(),
            used: plan
                .items
                .iter()
                .filter(|i| i.pinned && i.section == s.name)
                .map(|i| i.tokens)
                .sum::<usize>()
                .max(s.used),
            budget: s.final_budget,
        });
    }
    for item in plan
        .items
        .iter()
        .filter(|i| i.pinned && i.status == ItemStatus::Excluded)
    {
        out.push(Violation::PinnedExcluded {
            id: item.id.clone(),
            section: item.section.clone(),
            reason: item.reason,
        });
    }
    if let Some(max) = rules.max_utilization
        && plan.totals.utilization > max
    {
        out.push(Violation::MaxUtilization {
            utilization: plan.totals.utilization,
            max,
        });
    }
    for (name, min) in &rules.min_included {
        match plan.sections.iter().find(|s| &s.name == name) {
            None => out.push(Violation::UnknownSection {
                section: name.clone(),
            }),
            Some(s) if s.included < *min => out.push(Violation::MinIncluded {
                section: name.clone(),
                included: s.included,
                min: *min,
            }),
            Some(_) => {}
        }
    }
    for id in &rules.must_include {
        match plan.items.iter().find(|i| &i.id == id) {
            None => out.push(Violation::MustIncludeMissing { id: id.clone() }),
            Some(i) if i.status == ItemStatus::Excluded => {
                out.push(Violation::MustIncludeExcluded {
                    id: id.clone(),
                    reason: i.reason,
                });
            }
            Some(_) => {}
        }
    }
    out
}
