//! The budget engine: pure functions from an [`ItemSet`] and a tokenizer to a
//! [`Plan`]. No terminal or command-line code lives here.
//!
//! The steps follow docs/engine.md: count, allocate, select, reallocate,
//! overflow, render, report.

mod allocate;
mod anytime;
mod assemble;
pub mod chat;
mod count;
pub mod degrade;
mod flow;
pub mod knapsack;
mod options;
mod overflow;
mod plan;
mod prepare;
mod render;
mod rules;
mod run;
mod select;
mod set;
mod truncate;
mod validate;

pub use allocate::apportion;
pub use anytime::{
    Cancel, DEFAULT_OPTIMAL_DEADLINE, INSPECTOR_OPTIMAL_DEADLINE, OptimalLimits, parse_deadline,
};
pub use chat::{ChatLayout, ChatPart, Origin, PathSeg, RequestFormat, Slot};
pub use degrade::DegradeLevel;
pub use options::{Kind, Overflow, ReallocateMode, Strategy, TruncateSide, UnknownChoice};
pub use overflow::SUMMARY_LEVEL;
pub use overflow::{TRUNCATE_MIN_SHARE, TRUNCATE_MIN_TOKENS, truncate_floor};
pub use plan::{
    ItemPlan, ItemStatus, Plan, PlanBudget, REPORT_SCHEMA, Reason, SectionPlan, Totals, Transfer,
    gap_percent,
};
pub use rules::Rules;
pub use run::{EngineError, PackContext, Summarizer, pack};
pub use set::{Budget, Content, Item, ItemSet, Section, SectionBudget};
