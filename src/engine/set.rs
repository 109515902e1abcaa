//! The engine's input: an item set (budget settings, sections, items).
//!
//! These are the validated in-memory forms; loaders in [`crate::input`] build
//! them from files and report errors with file, line and column.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Kind, Overflow, ReallocateMode, Strategy, TruncateSide};

/// An item's content.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Text to count and render (from `text`, or read from `path`).
    Text(String),
    /// Only a token count made elsewhere, used as given; nothing is rendered.
    Given(usize),
}

/// One piece of prompt content (docs/concepts.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// A unique id within the item set.
    pub id: String,
    /// The section the item belongs to.
    pub section: String,
    /// The text, or a given token count.
    pub content: Content,
    /// The file the text was read from (`path`), for reports and watching.
    pub path: Option<PathBuf>,
    /// Higher is more important; default 1.0.
    pub priority: f64,
    /// Optional category (used by `balanced` and `category_order`).
    pub category: Option<String>,
    /// Optional level (used by `balanced` when there is no category).
    pub level: Option<i64>,
    /// What the content is; detected when not given.
    pub kind: Option<Kind>,
    /// Must be included.
    pub pinned: bool,
    /// Items of one group are kept or dropped together.
    pub group: Option<String>,
    /// Free tags.
    pub tags: Vec<String>,
    /// Free metadata, carried into reports.
    pub meta: BTreeMap<String, serde_json::Value>,
    /// Fixed extra tokens this item costs beyond its text (e.g. chat message
    /// framing); counted with the item.
    pub overhead: usize,
}

impl Item {
    /// An item with text and default settings.
    pub fn new(id: impl Into<String>, section: impl Into<String>, text: impl Into<String>) -> Self {
        Item {
            id: id.into(),
            section: section.into(),
            content: Content::Text(text.into()),
            path: None,
            priority: 1.0,
            category: None,
            level: None,
            kind: None,
            pinned: false,
            group: None,
            tags: Vec::new(),
            meta: BTreeMap::new(),
            overhead: 0,
        }
    }

    /// The item's text, or `""` when only a count is given.
    pub fn text(&self) -> &str {
        match &self.content {
            Content::Text(t) => t,
            Content::Given(_) => "",
        }
    }
}

/// How a section's budget is given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SectionBudget {
    /// A percentage of the budget left after absolute sections and the reserve.
    Share(f64),
    /// An absolute number of tokens.
    Tokens(usize),
}

/// A section of the context (docs/concepts.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// The section's name, unique in the item set.
    pub name: String,
    /// Its budget.
    pub budget: SectionBudget,
    /// The least it is allocated.
    pub min: Option<usize>,
    /// The most it is allocated.
    pub max: Option<usize>,
    /// A header rendered before its items.
    pub title: Option<String>,
    /// Rendered between items; `None` means a blank line (`"\n\n"`).
    pub separator: Option<String>,
    /// May spill into the reserved pool.
    pub can_use_reserve: bool,
    /// Overrides the budget's strategy.
    pub strategy: Option<Strategy>,
    /// Overrides the budget's overflow mode.
    pub overflow: Option<Overflow>,
    /// Categories in priority order: items of an earlier category go first.
    pub category_order: Vec<String>,
}

impl Section {
    /// A section with a share of the budget and default settings.
    pub fn share(name: impl Into<String>, share: f64) -> Self {
        Section {
            name: name.into(),
            budget: SectionBudget::Share(share),
            min: None,
            max: None,
            title: None,
            separator: None,
            can_use_reserve: false,
            strategy: None,
            overflow: None,
            category_order: Vec::new(),
        }
    }

    /// A section with an absolute budget and default settings.
    pub fn tokens(name: impl Into<String>, tokens: usize) -> Self {
        Section {
            budget: SectionBudget::Tokens(tokens),
            ..Section::share(name, 0.0)
        }
    }

    /// The separator rendered between this section's items.
    pub fn separator(&self) -> &str {
        self.separator.as_deref().unwrap_or("\n\n")
    }
}

/// Budget settings (docs/concepts.md "Budget").
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// Tokens for the context; `None` means the model's context window minus
    /// `reserve_output` (resolved by the caller before running the engine,
    /// with [`Budget::settle_total`]).
    pub total: Option<usize>,
    /// Tokens kept free for the model's output, out of its context window.
    pub reserve_output: usize,
    /// The model's context window, when known (set by
    /// [`Budget::settle_total`]; reported, not used by the engine).
    pub context_window: Option<usize>,
    /// A model name from the registry.
    pub model: Option<String>,
    /// An encoding name, when no model is given.
    pub encoding: Option<String>,
    /// The default strategy.
    pub strategy: Strategy,
    /// The default overflow mode.
    pub overflow: Overflow,
    /// Whether unused tokens are reallocated.
    pub reallocate: bool,
    /// How unused tokens are reallocated.
    pub reallocate_mode: ReallocateMode,
    /// Section order for `priority` reallocation.
    pub reallocate_order: Vec<String>,
    /// Items under this priority are excluded first.
    pub min_priority: Option<f64>,
    /// A pool given to no section; `can_use_reserve` sections may spill into it.
    pub reserved: usize,
    /// Which part `truncate` keeps.
    pub truncate: TruncateSide,
    /// The marker appended where text was cut (counted).
    pub marker: String,
    /// The threshold under which `priority-cut` excludes outright.
    pub priority_cut: f64,
}

impl Budget {
    /// Settles the context budget from `total`, the model's context window
    /// and `reserve_output`, with one meaning whether a total is given or
    /// not: the context budget is `total`, but never more than
    /// `window - reserve_output`, so the output always has its reserve.
    ///
    /// - With a window: `total = min(total, window - reserve_output)`
    ///   (without a total, `window - reserve_output`); a total cut down
    ///   this way gets a warning. A reserve that leaves nothing of the
    ///   window is impossible: it is ignored, with a warning.
    /// - Without a window (an encoding or a model whose window is unknown),
    ///   the reserve cannot be applied: `total` stays as given (or `None`,
    ///   which the engine refuses) and a non-zero reserve gets a warning.
    ///
    /// Returns the warnings; `context_window` is recorded for the report.
    ///
    /// ```
    /// use tokenscope::engine::Budget;
    /// let mut b = Budget { total: Some(330), reserve_output: 1024, ..Budget::default() };
    /// assert!(b.settle_total(Some(128_000)).is_empty());
    /// assert_eq!(b.total, Some(330));
    /// let mut b = Budget { total: Some(200_000), reserve_output: 4096, ..Budget::default() };
    /// assert_eq!(b.settle_total(Some(128_000)).len(), 1);
    /// assert_eq!(b.total, Some(123_904));
    /// ```
    pub fn settle_total(&mut self, window: Option<usize>) -> Vec<String> {
        let mut warnings = Vec::new();
        self.context_window = window;
        let reserve = self.reserve_output;
        let Some(window) = window else {
            if reserve > 0 {
                warnings.push(format!(
                    "reserve_output {reserve} has no effect: no context window is known for this model or encoding, so only the total limits the context"
                ));
            }
            return warnings;
        };
        let limit = if reserve >= window {
            warnings.push(format!(
                "reserve_output {reserve} is not less than the model's context window of {window} tokens; the reserve is ignored"
            ));
            window
        } else {
            window - reserve
        };
        match self.total {
            Some(t) if t > limit => {
                warnings.push(if limit == window {
                    format!(
                        "total {t} is more than the model's context window of {window}; the context budget is {limit}"
                    )
                } else {
                    format!(
                        "total {t} is more than the context window of {window} minus reserve_output {reserve}; the context budget is {limit}"
                    )
                });
                self.total = Some(limit);
            }
            Some(_) => {}
            None => self.total = Some(limit),
        }
        warnings
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            total: None,
            reserve_output: 0,
            context_window: None,
            model: None,
            encoding: None,
            strategy: Strategy::Greedy,
            overflow: Overflow::Drop,
            reallocate: true,
            reallocate_mode: ReallocateMode::Proportional,
            reallocate_order: Vec::new(),
            min_priority: None,
            reserved: 0,
            truncate: TruncateSide::Head,
            marker: " …".to_string(),
            priority_cut: 0.5,
        }
    }
}

/// Everything the engine packs: budget settings, sections in render order,
/// and items in input order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemSet {
    /// Budget settings.
    pub budget: Budget,
    /// Sections, in render order.
    pub sections: Vec<Section>,
    /// Items, in input order.
    pub items: Vec<Item>,
    /// The files this set was loaded from.
    pub sources: Vec<PathBuf>,
    /// Warnings raised while loading.
    pub warnings: Vec<String>,
    /// For a set loaded from a chat request: the request and which item
    /// stands for which message (see [`super::chat`]). Such a set is counted
    /// and rendered as the request the API bills.
    pub chat: Option<std::sync::Arc<super::ChatLayout>>,
}
