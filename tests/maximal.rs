//! Plans use the whole budget (issue: maximal plans): with reallocation on,
//! no eligible excluded item fits in what the plan leaves free; with it off,
//! each section on its own is maximal; `truncate` never keeps fewer priority
//! points than `drop`. Over random item sets with many sections and sizes
//! from 1 to 50,000 tokens, and over random folders read from disk.

use std::sync::OnceLock;

use proptest::prelude::*;
use tokenscope::engine::{
    Content, Item, ItemSet, ItemStatus, Overflow, PackContext, Plan, Reason, Section,
    SectionBudget, Strategy as Pick, pack,
};
use tokenscope::input::{LoadOptions, load_path};
use tokenscope::tokens::{CountCache, Encoding, Tokenizer};

const O200K: Tokenizer = Tokenizer::Exact(Encoding::O200kBase);

fn cache() -> &'static CountCache {
    static CACHE: OnceLock<CountCache> = OnceLock::new();
    CACHE.get_or_init(CountCache::new)
}

fn run(set: &ItemSet) -> Plan {
    let ctx = PackContext::new(&O200K, cache());
    pack(set, &ctx).expect("the engine runs")
}

/// Sizes spanning 1..50k tokens, most of them small, as in real folders.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 1usize..200,
        3 => 200usize..3_000,
        1 => 3_000usize..50_001,
    ]
}

#[derive(Debug, Clone)]
struct SectionSpec {
    budget: SectionBudget,
    max: Option<usize>,
    strategy: Option<Pick>,
}

fn section_spec() -> impl Strategy<Value = SectionSpec> {
    (
        prop_oneof![
            4 => (0u32..=100).prop_map(|p| SectionBudget::Share(f64::from(p))),
            1 => (0usize..20_000).prop_map(SectionBudget::Tokens),
        ],
        prop::option::weighted(0.2, 0usize..40_000),
        prop::option::weighted(
            0.3,
            prop::sample::select(vec![
                Pick::Greedy,
                Pick::Density,
                Pick::Optimal,
                Pick::Balanced,
            ]),
        ),
    )
        .prop_map(|(budget, max, strategy)| SectionSpec {
            budget,
            max,
            strategy,
        })
}

#[derive(Debug, Clone)]
struct Case {
    total: usize,
    reserved: usize,
    strategy: Pick,
    sections: Vec<SectionSpec>,
    /// (section, tokens, priority tenths, pinned)
    items: Vec<(usize, usize, u32, bool)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![1 => 1_000usize..10_000, 1 => 10_000usize..200_000, 1 => 200_000usize..1_000_001],
        prop_oneof![3 => Just(0usize), 1 => 0usize..5_000],
        prop::sample::select(vec![Pick::Greedy, Pick::Density, Pick::Optimal, Pick::Balanced]),
        prop::collection::vec(section_spec(), 1..16),
        prop::collection::vec(
            (0usize..16, size(), 0u32..=20, prop::bool::weighted(0.03)),
            0..120,
        ),
    )
        .prop_map(|(total, reserved, strategy, sections, items)| Case {
            total,
            reserved,
            strategy,
            sections,
            items,
        })
}

fn build(c: &Case) -> ItemSet {
    let mut set = ItemSet::default();
    set.budget.total = Some(c.total);
    set.budget.reserved = c.reserved;
    set.budget.strategy = c.strategy;
    for (i, spec) in c.sections.iter().enumerate() {
        let mut s = Section::share(format!("s{i}"), 0.0);
        s.budget = spec.budget;
        s.max = spec.max;
        s.strategy = spec.strategy;
        set.sections.push(s);
    }
    for (k, &(section, tokens, priority, pinned)) in c.items.iter().enumerate() {
        let mut item = Item::new(
            format!("i{k}"),
            format!("s{}", section % c.sections.len()),
            "",
        );
        item.content = Content::Given(tokens);
        item.priority = f64::from(priority) / 10.0;
        item.pinned = pinned;
        set.items.push(item);
    }
    set
}

/// The most a section may grow to: its `max`, or its absolute budget.
fn cap(set: &ItemSet, plan: &Plan, s: usize) -> usize {
    let section = &set.sections[s];
    let max = section.max.unwrap_or(usize::MAX);
    match section.budget {
        SectionBudget::Tokens(_) => plan.sections[s].allocated.min(max),
        SectionBudget::Share(_) => max,
    }
}

/// Every excluded item that could still come in: out for
/// `over_section_budget`, in a section that may grow by what it needs.
/// (Given counts render nothing, so an item costs exactly its tokens.)
fn fitting(set: &ItemSet, plan: &Plan) -> Vec<String> {
    let free = plan.budget.total.saturating_sub(plan.totals.used);
    let optimal =
        |s: usize| set.sections[s].strategy.unwrap_or(set.budget.strategy) == Pick::Optimal;
    plan.items
        .iter()
        .filter(|i| i.status == ItemStatus::Excluded && i.reason == Some(Reason::OverSectionBudget))
        .filter(|i| {
            let s = set
                .sections
                .iter()
                .position(|x| x.name == i.section)
                .unwrap();
            let sp = &plan.sections[s];
            let need = (sp.used + i.tokens).saturating_sub(sp.final_budget);
            let zero = optimal(s) && i.priority == 0.0;
            !zero && i.tokens <= free && need <= cap(set, plan, s).saturating_sub(sp.final_budget)
        })
        .map(|i| format!("{} ({} tokens, {} free)", i.id, i.tokens, free))
        .collect()
}

fn pinned_over(plan: &Plan) -> bool {
    plan.sections.iter().any(|s| s.pinned_overrun) || plan.totals.used > plan.budget.total
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn with_reallocation_nothing_eligible_fits_in_what_is_left(c in case()) {
        let set = build(&c);
        let plan = run(&set);
        prop_assume!(!pinned_over(&plan));
        let fits = fitting(&set, &plan);
        prop_assert!(fits.is_empty(), "these fit: {fits:?}");
        // Budgets still add up, and no section grew past its cap.
        let finals: usize = plan.sections.iter().map(|s| s.final_budget).sum();
        prop_assert!(finals <= c.total);
        for (s, sp) in plan.sections.iter().enumerate() {
            // (Covering pinned items may pass the cap: they are in whatever
            // the budget.)
            prop_assert!(
                sp.final_budget <= cap(&set, &plan, s).max(sp.allocated).max(sp.used),
                "section {} grew to {} past its cap", sp.name, sp.final_budget
            );
            prop_assert!(sp.used <= sp.final_budget);
        }
        // Every transfer is reported: budgets move only through them.
        let mut moved = vec![0i64; plan.sections.len()];
        for t in &plan.reallocations {
            if let Some(f) = plan.sections.iter().position(|s| s.name == t.from) {
                moved[f] -= t.tokens as i64;
            }
            let to = plan.sections.iter().position(|s| s.name == t.to).unwrap();
            moved[to] += t.tokens as i64;
        }
        for (s, sp) in plan.sections.iter().enumerate() {
            prop_assert_eq!(sp.allocated as i64 + moved[s], sp.final_budget as i64, "{}", &sp.name);
        }
    }

    #[test]
    fn without_reallocation_each_section_is_maximal_on_its_own(c in case()) {
        let mut set = build(&c);
        set.budget.reallocate = false;
        let plan = run(&set);
        prop_assume!(!pinned_over(&plan));
        for i in &plan.items {
            if i.status != ItemStatus::Excluded || i.reason != Some(Reason::OverSectionBudget) {
                continue;
            }
            let s = set.sections.iter().position(|x| x.name == i.section).unwrap();
            let sp = &plan.sections[s];
            let optimal = set.sections[s].strategy.unwrap_or(set.budget.strategy) == Pick::Optimal;
            if optimal && i.priority == 0.0 {
                continue;
            }
            prop_assert!(
                i.tokens > sp.final_budget.saturating_sub(sp.used),
                "{} ({} tokens) fits in section {} ({} of {})", i.id, i.tokens, sp.name, sp.used, sp.final_budget
            );
        }
    }
}

// ------------------------------------------------------ truncate vs drop

#[path = "support/words.rs"]
mod words;
use words::WORDS;

fn text() -> impl Strategy<Value = String> {
    (1usize..400).prop_flat_map(|n| {
        prop::collection::vec(prop::sample::select(WORDS), n..=n).prop_map(|w| w.join(" "))
    })
}

fn kept_points(plan: &Plan) -> f64 {
    plan.items
        .iter()
        .filter(|i| i.status != ItemStatus::Excluded)
        .map(|i| i.priority)
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn truncate_never_keeps_fewer_points_than_drop(
        total in 20usize..3_000,
        strategy in prop::sample::select(Pick::ALL),
        reallocate in any::<bool>(),
        sections in 1usize..5,
        items in prop::collection::vec((0usize..5, text(), 0u32..=20), 1..25),
    ) {
        let mut set = ItemSet::default();
        set.budget.total = Some(total);
        set.budget.strategy = strategy;
        set.budget.reallocate = reallocate;
        for s in 0..sections {
            set.sections.push(Section::share(format!("s{s}"), 100.0 / sections as f64));
        }
        for (k, (s, t, p)) in items.iter().enumerate() {
            let mut item = Item::new(format!("i{k}"), format!("s{}", s % sections), t.clone());
            item.priority = f64::from(*p) / 10.0;
            set.items.push(item);
        }
        let drop = run(&set);
        for mode in [Overflow::Truncate, Overflow::Degrade] {
            set.budget.overflow = mode;
            let cut = run(&set);
            prop_assert!(
                kept_points(&cut) + 1e-9 >= kept_points(&drop),
                "{mode}: {} < drop's {}", kept_points(&cut), kept_points(&drop)
            );
            prop_assert!(cut.totals.context <= total);
            for i in &cut.items {
                if i.status == ItemStatus::Truncated {
                    let floor = tokenscope::engine::truncate_floor(i.tokens);
                    prop_assert!(i.final_tokens >= floor.min(i.tokens), "{} cut to {}", i.id, i.final_tokens);
                }
            }
        }
    }
}

/// A truncated item keeps at least its floor even when the longest cut
/// that fits its space is a token short of the floor (the cut's count moves
/// by more than one token at a word boundary). Found by the property above.
#[test]
fn a_cut_one_token_short_of_the_floor_is_not_kept() {
    let text = "the 42 the the the 42 end. https://a.b/c the 42 https://a.b/c the the the the the the the 漢字 the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the window the über 's context /path token";
    let mut set = ItemSet::default();
    set.budget.total = Some(130);
    set.budget.strategy = Pick::Greedy;
    set.budget.reallocate = false;
    for s in 0..4 {
        set.sections.push(Section::share(format!("s{s}"), 25.0));
    }
    let mut item = Item::new("i0", "s0", text);
    item.priority = 1.7;
    set.items.push(item);
    for mode in [Overflow::Truncate, Overflow::Degrade] {
        set.budget.overflow = mode;
        let plan = run(&set);
        let i = &plan.items[0];
        if mode == Overflow::Truncate {
            // 31 tokens fit the section's 32, no cut of 32 does.
            assert_eq!(i.status, ItemStatus::Excluded, "{plan:#?}");
        }
        if i.status == ItemStatus::Truncated {
            let floor = tokenscope::engine::truncate_floor(i.tokens);
            assert!(
                i.final_tokens >= floor,
                "{mode}: cut to {} (floor {floor})",
                i.final_tokens
            );
        }
    }
}

// ------------------------------------------------------ folders on disk

/// Random folders: files of random sizes in random first-level folders,
/// loaded as a user's folder would be, packed with every strategy.
#[test]
fn random_folders_are_packed_maximally() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let files = prop::collection::vec((0usize..6, 1usize..3_000), 1..60);
    runner
        .run(&(files, 500usize..20_000), |(files, budget)| {
            let dir = tempfile::tempdir().unwrap();
            for (k, (folder, words)) in files.iter().enumerate() {
                let sub = dir.path().join(format!("d{folder}"));
                std::fs::create_dir_all(&sub).unwrap();
                let body: Vec<&str> = (0..*words)
                    .map(|w| WORDS[(w * 7 + k) % WORDS.len()])
                    .collect();
                std::fs::write(sub.join(format!("f{k}.txt")), body.join(" ")).unwrap();
            }
            let loaded = load_path(dir.path(), &LoadOptions::default()).unwrap();
            for strategy in [Pick::Greedy, Pick::Density, Pick::Optimal, Pick::Balanced] {
                let mut set = loaded.clone();
                set.budget.total = Some(budget);
                set.budget.strategy = strategy;
                let plan = run(&set);
                let free = budget.saturating_sub(plan.totals.used);
                for i in &plan.items {
                    if i.status != ItemStatus::Excluded
                        || i.reason != Some(Reason::OverSectionBudget)
                    {
                        continue;
                    }
                    let sp = plan.sections.iter().find(|s| s.name == i.section).unwrap();
                    // A file costs at least its tokens and its separator, and
                    // the section's frame when nothing of it is in yet.
                    let least = i.tokens + 1 + if sp.used == 0 { 1 } else { 0 };
                    prop_assert!(
                        least > free,
                        "{strategy}: {} ({} tokens) fits in the {free} left",
                        i.id,
                        i.tokens
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

/// A render trim frees a whole item, usually more than the excess (here an
/// empty separator makes the joined text count more than its pieces): what
/// it frees goes to items that fit, so `optimal` still keeps at least what
/// `density` keeps (a case the engine property tests found).
#[test]
fn a_render_trim_leaves_no_room_unused() {
    let cl100k = Tokenizer::Exact(Encoding::Cl100kBase);
    let cache = CountCache::new();
    let mut set = ItemSet::default();
    set.budget.total = Some(78);
    set.budget.reallocate = false;
    let mut s = Section::share("s0", 0.0);
    s.separator = Some(String::new());
    set.sections.push(s);
    let items: [(&str, f64, bool, Option<usize>); 5] = [
        ("same text", 0.0, true, None),
        (
            "https://a.b/c 42 漢字 漢字 the the the the the 42 the the the main()",
            1.5,
            false,
            None,
        ),
        ("… the 漢字 the the 42 42 the", 1.5, false, None),
        ("the", 0.1, false, None),
        ("", 0.0, true, Some(35)),
    ];
    for (k, (text, priority, pinned, given)) in items.iter().enumerate() {
        let mut item = Item::new(format!("i{k}"), "s0", *text);
        if let Some(n) = given {
            item.content = Content::Given(*n);
        }
        item.priority = *priority;
        item.pinned = *pinned;
        set.items.push(item);
    }
    let mut kept = Vec::new();
    for strategy in [Pick::Optimal, Pick::Density] {
        set.budget.strategy = strategy;
        let plan = pack(&set, &PackContext::new(&cl100k, &cache)).unwrap();
        assert!(plan.totals.context <= 78);
        kept.push(kept_points(&plan));
    }
    assert!(
        kept[0] + 1e-9 >= kept[1],
        "optimal {} < density {}",
        kept[0],
        kept[1]
    );
}
