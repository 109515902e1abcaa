//! The engine's entry point: [`pack`] runs the steps of docs/engine.md in
//! order (see the step modules for each rule and decision).

use crate::tokens::{ChatFraming, CountCache, Tokenizer};

use super::anytime::{OptimalLimits, RunLimits};
use super::assemble::{self, GroupCause, Parts};
use super::flow::Board;
use super::prepare::Prepared;
use super::select::Rule;
use super::{
    ItemSet, Plan, Reason, SectionBudget, allocate, chat, count, overflow, prepare, render,
    validate,
};

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
    /// The model's chat framing, for item sets loaded from a chat request
    /// (`None`: only the text is counted; see [`super::chat`]). Ignored for
    /// other item sets.
    pub framing: Option<ChatFraming>,
    /// The deadline, memory cap and cancellation of the `optimal`
    /// strategy's search (see [`OptimalLimits`]).
    pub optimal: OptimalLimits,
    /// What makes a shorter version of an item for overflow `summarize`
    /// (`None`: such items are degraded instead, with a warning). The
    /// engine never runs a program itself: the caller supplies this (the
    /// session's [`crate::summarize::CommandSummarizer`] runs the user's
    /// `--summarizer` command).
    pub summarizer: Option<&'a dyn Summarizer>,
}

/// Makes a shorter version of an item's text for overflow `summarize`.
///
/// Called from the engine's run, possibly from several threads; a
/// summarizer that is slow should cache its answers (the engine asks again
/// on every run).
pub trait Summarizer: Send + Sync {
    /// A version of `text` in at most `target_tokens` tokens. The engine
    /// counts the answer and falls back to degrading when it does not fit.
    fn summarize(
        &self,
        text: &str,
        target_tokens: usize,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>>;
}

impl std::fmt::Debug for dyn Summarizer + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Summarizer")
    }
}

impl<'a> PackContext<'a> {
    /// A context with no model, price or chat framing, and the default
    /// [`OptimalLimits`]; set the other fields as needed.
    pub fn new(tokenizer: &'a Tokenizer, cache: &'a CountCache) -> Self {
        PackContext {
            tokenizer,
            cache,
            model: None,
            price_per_million: None,
            framing: None,
            optimal: OptimalLimits::default(),
            summarizer: None,
        }
    }
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
/// render (docs/engine.md). `set.budget.total` must be resolved.
///
/// The same item set and tokenizer always give the same plan (unless an
/// `optimal` search is stopped by [`PackContext::optimal`]'s deadline, memory
/// cap or cancellation: the plan then reports its `optimality_gap`). The
/// rendered context's exact count (plus what included items cost without
/// being rendered, such as given counts) never exceeds the total.
///
/// Errors: [`EngineError::NoTotal`] without a total; [`EngineError::Invalid`]
/// for an item in an undeclared section, duplicate section names or item
/// ids, a priority that is negative or not a number, a share outside 0–100,
/// a `min` over a `max`, or `reallocate_order` naming an unknown section.
///
/// Decisions where the documented rules are silent:
/// - An item costs its tokens plus its `overhead` (also for given counts),
///   plus its section's separator when it renders text; a section that
///   renders pays its title and the blank line before it once. Section
///   `used` includes these (`frame`).
/// - `reserved` over the total, and absolute sections over what is left,
///   are scaled down with a warning, not refused, so the inspector keeps
///   working while budgets are dragged around.
/// - Pinned items ignore `min_priority`; a pinned member pins its group.
/// - Duplicates (equal non-empty text, across sections) are found before
///   selection; the pinned, then highest-priority, then earliest is kept.
/// - Groups are ranked by their summed priority and cost; a group spanning
///   sections that one section cannot take is excluded everywhere.
/// - `optimal` never takes priority-0 items (`zero_priority`): they add
///   nothing and ties go to fewer tokens.
/// - `priority-cut` only cuts when a section's candidates do not all fit.
/// - Truncate/degrade/summarize act on each section's best excluded single
///   item (never a group; for `strict`, only the item at the cutoff), in the
///   headroom left after reallocation; such a section keeps its headroom
///   rather than giving it away.
/// - The invariant counts the context: the rendered text plus included
///   items' given counts and overhead. Only when pinned items alone exceed
///   the total are pinned items removed, each with a warning.
///
/// ```
/// use tokenscope::engine::{pack, Item, ItemSet, PackContext, Section};
/// use tokenscope::tokens::{CountCache, Encoding, Tokenizer};
///
/// let mut set = ItemSet::default();
/// set.budget.total = Some(20);
/// set.sections.push(Section::share("docs", 100.0));
/// set.items.push(Item::new("a", "docs", "Short and useful."));
/// set.items.push(Item::new("b", "docs", "A much longer item that cannot fit in twenty tokens at all, \
///     because it goes on and on about nothing in particular for quite a while."));
/// let tokenizer = Tokenizer::Exact(Encoding::Cl100kBase);
/// let cache = CountCache::new();
/// let ctx = PackContext::new(&tokenizer, &cache);
/// let plan = pack(&set, &ctx).unwrap();
/// assert_eq!(plan.rendered, "Short and useful.");
/// assert!(plan.totals.rendered <= 20);
/// ```
pub fn pack(set: &ItemSet, ctx: &PackContext<'_>) -> Result<Plan, EngineError> {
    let misses = ctx.tokenizer.api().map(|a| a.misses());
    let mut plan = pack_counted(set, ctx)?;
    // API counts are exact only for the texts measured before the run: a run
    // that had to estimate any other text (an item cut to fit, a degraded
    // one) is reported as an estimate, with the estimate's band.
    if let (Some(api), Some(before)) = (ctx.tokenizer.api(), misses) {
        let estimated = api.misses().saturating_sub(before);
        if estimated > 0 {
            plan.exact = false;
            plan.error_band = api.fallback_band();
            plan.warnings.push(format!(
                "{estimated} text(s) made during packing (items cut or degraded to fit, or changed since the counts were fetched) are counted with the estimate {}, not by {}; the other counts are exact",
                api.fallback(),
                api.source
            ));
        }
    }
    Ok(plan)
}

fn pack_counted(set: &ItemSet, ctx: &PackContext<'_>) -> Result<Plan, EngineError> {
    let checked = validate::validate(set)?;
    let solver = RunLimits::start(&ctx.optimal);
    let total = checked.total;
    let mut warnings = set.warnings.clone();

    // A chat request is framed for this run's model (see `chat`).
    let framed = set.chat.as_ref().map(|layout| {
        chat::frame(
            set,
            layout,
            ctx.tokenizer,
            ctx.cache,
            ctx.framing,
            ctx.model.as_deref(),
        )
    });
    if let Some(layout) = &set.chat
        && ctx.model.is_none()
        && layout.format == chat::RequestFormat::Gemini
        && layout.parsed.model.is_none()
    {
        warnings.push(
            "a Gemini request names its model in the URL, not in the body: choose the model (--model) to count with its tokenizer".into(),
        );
    }
    let set = match &framed {
        Some(f) => {
            warnings.extend(f.notes.iter().map(|n| format!("chat count: {n}")));
            &f.set
        }
        None => set,
    };

    // 1. Count.
    let counts = count::count(set, ctx.tokenizer, ctx.cache);
    let b = &set.budget;
    let rules: Vec<Rule> = set
        .sections
        .iter()
        .enumerate()
        .map(|(s, section)| Rule {
            strategy: section.strategy.unwrap_or(b.strategy),
            overflow: section.overflow.unwrap_or(b.overflow),
            priority_cut: b.priority_cut,
            frame: counts.frame[s],
            separator: counts.separator[s],
            can_use_reserve: section.can_use_reserve,
            solver: solver.clone(),
        })
        .collect();
    let prep = prepare::prepare(set, checked.section_of, counts);

    // 2. Allocate.
    let allocation = allocate::allocate(set, total, &mut warnings);

    // 3–4. Select, spill into the reserve, reallocate; then make groups that
    // span sections all-or-nothing: a group taken in one section and not in
    // another is excluded everywhere and the sections run again. Each pass
    // excludes at least one more group, so this ends.
    let names: Vec<&str> = set.sections.iter().map(|s| s.name.as_str()).collect();
    let mut forbidden: Vec<bool> = prep.groups.iter().map(|g| g.broken).collect();
    let mut causes: Vec<GroupCause> = vec![None; prep.groups.len()];
    let caps: Vec<usize> = set
        .sections
        .iter()
        .zip(&allocation.budgets)
        .map(|(section, &allocated)| {
            let max = section.max.unwrap_or(usize::MAX);
            match section.budget {
                SectionBudget::Tokens(_) => allocated.min(max),
                SectionBudget::Share(_) => max,
            }
        })
        .collect();
    let mut board = loop {
        let mut board = Board::new(
            &prep,
            &rules,
            names.clone(),
            allocation.budgets.clone(),
            caps.clone(),
            allocation.reserved,
            forbidden.clone(),
        );
        board.spill();
        if b.reallocate {
            board.reallocate(b.reallocate_mode, &b.reallocate_order);
            board.fill(b.strategy);
        }
        let split = split_groups(&prep, &board, &forbidden);
        if split.is_empty() {
            break board;
        }
        for (g, cause) in split {
            forbidden[g] = true;
            causes[g] = Some(cause);
        }
    };

    // 5. Overflow.
    let changes = overflow::apply(
        set,
        ctx.tokenizer,
        ctx.cache,
        ctx.summarizer,
        &rules,
        &mut board,
        &mut warnings,
    );
    let mut outcomes = assemble::outcomes(set, &prep, &board, &causes, changes, b.priority_cut);

    // 6. Render within the total.
    let rendered = render::fit(
        set,
        framed.as_ref(),
        ctx,
        &prep,
        &rules,
        &mut outcomes,
        &board.budgets,
        total,
        &mut warnings,
    );

    if let Some(chat) = &framed
        && !chat.keeps_a_message(outcomes.iter().map(|o| o.included()))
    {
        warnings.push(format!(
            "no message of the chat request fits in the total of {total} tokens: the trimmed request has no messages, and the API refuses it"
        ));
    }

    // 7. Report.
    Ok(assemble::plan(Parts {
        set,
        tokenizer: ctx.tokenizer,
        model: ctx.model.clone(),
        price_per_million: ctx.price_per_million,
        total,
        reserved: allocation.reserved,
        prep: &prep,
        rules: &rules,
        allocated: &allocation.budgets,
        board,
        outcomes,
        rendered,
        warnings,
    }))
}

/// Groups that span sections and are taken in some but not all of them,
/// each with the first unit that is out and its reason.
fn split_groups(
    prep: &Prepared,
    board: &Board<'_>,
    forbidden: &[bool],
) -> Vec<(usize, (u32, u32, Reason))> {
    let mut out = Vec::new();
    for (g, group) in prep.groups.iter().enumerate() {
        if forbidden[g] || group.units.len() < 2 {
            continue;
        }
        let taken = |&(s, u): &(u32, u32)| board.selections[s as usize].taken[u as usize];
        if group.units.iter().all(taken) || !group.units.iter().any(taken) {
            continue;
        }
        if let Some(&(s, u)) = group.units.iter().find(|su| !taken(su)) {
            let reason = board.selections[s as usize].reason[u as usize]
                .unwrap_or(Reason::OverSectionBudget);
            out.push((g, (s, u, reason)));
        }
    }
    out
}
