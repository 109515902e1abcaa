//! Unit tests of the engine's rules (docs/engine.md), one small hand-checked
//! item set per rule. Most use given counts (`Content::Given`) so that the
//! arithmetic is plain: such items cost exactly their count and render
//! nothing. Text tests use cl100k_base and assert the counts they rely on.

use tokenscope::engine::{
    Content, EngineError, Item, ItemSet, ItemStatus, Overflow, PackContext, Plan, ReallocateMode,
    Reason, Section, Strategy, TruncateSide, pack,
};
use tokenscope::tokens::{CountCache, Encoding, Tokenizer};

const CL100K: Tokenizer = Tokenizer::Exact(Encoding::Cl100kBase);

fn given(id: &str, section: &str, tokens: usize, priority: f64) -> Item {
    let mut item = Item::new(id, section, "");
    item.content = Content::Given(tokens);
    item.priority = priority;
    item
}

fn text(id: &str, section: &str, body: &str, priority: f64) -> Item {
    let mut item = Item::new(id, section, body);
    item.priority = priority;
    item
}

fn item_set(total: usize, sections: Vec<Section>, items: Vec<Item>) -> ItemSet {
    let mut set = ItemSet::default();
    set.budget.total = Some(total);
    set.sections = sections;
    set.items = items;
    set
}

fn run_with(set: &ItemSet, cache: &CountCache) -> Plan {
    let ctx = PackContext {
        tokenizer: &CL100K,
        cache,
        model: Some("gpt-4".into()),
        price_per_million: Some(30.0),
        framing: None,
        optimal: Default::default(),
        summarizer: None,
    };
    pack(set, &ctx).expect("valid item set")
}

fn run(set: &ItemSet) -> Plan {
    run_with(set, &CountCache::new())
}

fn try_run(set: &ItemSet) -> Result<Plan, EngineError> {
    let cache = CountCache::new();
    let ctx = PackContext {
        tokenizer: &CL100K,
        cache: &cache,
        model: None,
        price_per_million: None,
        framing: None,
        optimal: Default::default(),
        summarizer: None,
    };
    pack(set, &ctx)
}

fn outcome(plan: &Plan, id: &str) -> (ItemStatus, Option<Reason>) {
    let item = plan
        .items
        .iter()
        .find(|i| i.id == id)
        .expect("item in plan");
    (item.status, item.reason)
}

fn kept(plan: &Plan) -> Vec<&str> {
    plan.items
        .iter()
        .filter(|i| i.status != ItemStatus::Excluded)
        .map(|i| i.id.as_str())
        .collect()
}

fn section<'a>(plan: &'a Plan, name: &str) -> &'a tokenscope::engine::SectionPlan {
    plan.sections
        .iter()
        .find(|s| s.name == name)
        .expect("section in plan")
}

const IN: (ItemStatus, Option<Reason>) = (ItemStatus::Included, None);
const OVER: (ItemStatus, Option<Reason>) = (ItemStatus::Excluded, Some(Reason::OverSectionBudget));

fn count(s: &str) -> usize {
    CL100K.count(s)
}

// ---------------------------------------------------------------- validation

#[test]
fn no_total_is_an_error() {
    let mut set = item_set(0, vec![Section::share("a", 100.0)], vec![]);
    set.budget.total = None;
    assert_eq!(try_run(&set).unwrap_err(), EngineError::NoTotal);
}

#[test]
fn invalid_sets_are_errors_with_clear_messages() {
    let base = || {
        item_set(
            100,
            vec![Section::share("a", 100.0)],
            vec![given("x", "a", 1, 1.0)],
        )
    };
    let message = |set: ItemSet| match try_run(&set) {
        Err(EngineError::Invalid(m)) => m,
        other => panic!("expected Invalid, got {other:?}"),
    };

    let mut s = base();
    s.items[0].section = "nowhere".into();
    let m = message(s);
    assert!(
        m.contains("`x`") && m.contains("`nowhere`") && m.contains("`a`"),
        "{m}"
    );

    let mut s = base();
    s.sections.push(Section::share("a", 0.0));
    assert!(message(s).contains("declared twice"));

    let mut s = base();
    s.items[0].priority = -1.0;
    assert!(message(s).contains("priority -1"));

    let mut s = base();
    s.items[0].priority = f64::NAN;
    assert!(message(s).contains("priority NaN"));

    let mut s = base();
    s.sections[0] = Section::share("a", 150.0);
    assert!(message(s).contains("share 150"));

    let mut s = base();
    s.sections[0].min = Some(10);
    s.sections[0].max = Some(5);
    assert!(message(s).contains("min 10 is larger than max 5"));

    let mut s = base();
    s.items.push(given("x", "a", 1, 1.0));
    assert!(message(s).contains("item id `x` is used twice"));

    let mut s = base();
    s.budget.reallocate_order = vec!["zzz".into()];
    assert!(message(s).contains("`zzz`"));

    let mut s = base();
    s.budget.min_priority = Some(f64::INFINITY);
    assert!(message(s).contains("min_priority"));
}

#[test]
fn empty_set_gives_an_empty_plan() {
    let plan = run(&item_set(100, vec![], vec![]));
    assert!(plan.items.is_empty() && plan.sections.is_empty());
    assert_eq!(plan.totals.rendered, 0);
    assert_eq!(plan.rendered, "");
}

// ------------------------------------------------------------------- count

#[test]
fn items_are_counted_with_overhead_and_given_counts_are_marked() {
    assert_eq!(count("hello world"), 2);
    let mut framed = text("t", "a", "hello world", 1.0);
    framed.overhead = 4;
    let set = item_set(
        1000,
        vec![Section::share("a", 100.0)],
        vec![framed, given("g", "a", 7, 1.0)],
    );
    let plan = run(&set);
    let t = &plan.items[0];
    assert_eq!((t.tokens, t.final_tokens, t.given), (6, 6, false));
    let g = &plan.items[1];
    assert_eq!((g.tokens, g.final_tokens, g.given), (7, 7, true));
    // The context costs the rendered text plus what is not rendered text.
    assert_eq!(plan.rendered, "hello world");
    assert_eq!(plan.totals.rendered, 2);
    assert_eq!(plan.totals.context, 2 + 4 + 7);
}

#[test]
fn changing_strategy_or_split_never_recounts_items() {
    let items: Vec<Item> = (0..20)
        .map(|i| {
            text(
                &format!("i{i}"),
                if i % 2 == 0 { "a" } else { "b" },
                &format!("item number {i} says something"),
                1.0 + i as f64,
            )
        })
        .collect();
    let mut set = item_set(
        40,
        vec![Section::share("a", 50.0), Section::share("b", 50.0)],
        items,
    );
    let cache = CountCache::new();
    run_with(&set, &cache);
    let after_first = cache.tokenized();
    for strategy in Strategy::ALL {
        set.budget.strategy = *strategy;
        set.sections[0].budget = tokenscope::engine::SectionBudget::Share(30.0);
        set.sections[1].budget = tokenscope::engine::SectionBudget::Share(70.0);
        run_with(&set, &cache);
    }
    // Only new renderings (joins of items) may be counted; items never again.
    let item_texts: Vec<String> = set.items.iter().map(|i| i.text().to_string()).collect();
    let before = cache.tokenized();
    cache.count_many(&CL100K, &item_texts);
    assert_eq!(cache.tokenized(), before, "items were all cached");
    assert!(after_first >= 20);
}

// ---------------------------------------------------------------- allocate

fn budgets(plan: &Plan) -> Vec<usize> {
    plan.sections.iter().map(|s| s.allocated).collect()
}

#[test]
fn shares_split_by_largest_remainder_and_add_up_exactly() {
    let mut set = item_set(
        100,
        vec![
            Section::share("a", 33.3),
            Section::share("b", 33.3),
            Section::share("c", 33.4),
        ],
        vec![],
    );
    set.budget.reserved = 1;
    let plan = run(&set);
    // 99 * (33.3, 33.3, 33.4)% = 32.967, 32.967, 33.066 -> 32, 32, 33 + 2
    // by largest remainder: a and b (.967) before c (.066).
    assert_eq!(budgets(&plan), vec![33, 33, 33]);
    assert_eq!(plan.budget.reserved, 1);
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
}

#[test]
fn shares_not_adding_to_100_are_normalised_with_a_warning() {
    let set = item_set(
        90,
        vec![Section::share("a", 20.0), Section::share("b", 40.0)],
        vec![],
    );
    let plan = run(&set);
    assert_eq!(budgets(&plan), vec![30, 60]);
    assert!(plan.warnings.iter().any(|w| w.contains("add up to 60%")));
}

#[test]
fn absolute_sections_first_then_shares_of_the_rest() {
    let set = item_set(
        1000,
        vec![
            Section::tokens("system", 200),
            Section::share("a", 25.0),
            Section::share("b", 75.0),
        ],
        vec![],
    );
    assert_eq!(budgets(&run(&set)), vec![200, 200, 600]);
}

#[test]
fn min_and_max_clamp_and_the_rest_is_shared_again() {
    let mut a = Section::share("a", 50.0);
    a.max = Some(100);
    let mut b = Section::share("b", 25.0);
    b.min = Some(300);
    let c = Section::share("c", 25.0);
    let plan = run(&item_set(1000, vec![a, b, c], vec![]));
    // a capped at 100 (from 500), b raised to 300 (from 250)... a's cap is
    // the larger violation: fixed first; then b = 900*25/50 = 450, c = 450.
    assert_eq!(budgets(&plan), vec![100, 450, 450]);
    assert_eq!(budgets(&plan).iter().sum::<usize>(), 1000);

    let mut a = Section::share("a", 50.0);
    a.min = Some(800);
    let b = Section::share("b", 50.0);
    let plan = run(&item_set(1000, vec![a, b], vec![]));
    assert_eq!(budgets(&plan), vec![800, 200]);
}

#[test]
fn impossible_clamps_warn_and_stay_within_the_total() {
    let mut a = Section::share("a", 50.0);
    a.max = Some(100);
    let mut b = Section::share("b", 50.0);
    b.max = Some(100);
    let plan = run(&item_set(1000, vec![a, b], vec![]));
    assert_eq!(budgets(&plan), vec![100, 100]);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("800 tokens are in no section"))
    );

    let mut a = Section::share("a", 50.0);
    a.min = Some(900);
    let mut b = Section::share("b", 50.0);
    b.min = Some(900);
    let plan = run(&item_set(1000, vec![a, b], vec![]));
    assert_eq!(budgets(&plan), vec![500, 500]);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("minimums need 1800"))
    );
}

#[test]
fn absolute_sections_over_the_total_are_scaled_down_with_a_warning() {
    let mut set = item_set(
        100,
        vec![
            Section::tokens("a", 150),
            Section::tokens("b", 50),
            Section::share("c", 100.0),
        ],
        vec![],
    );
    set.budget.reserved = 20;
    let plan = run(&set);
    // 80 available, in proportion 150:50.
    assert_eq!(budgets(&plan), vec![60, 20, 0]);
    assert!(plan.warnings.iter().any(|w| w.contains("scaled down")));
}

#[test]
fn reserved_over_the_total_is_clamped() {
    let mut set = item_set(10, vec![Section::share("a", 100.0)], vec![]);
    set.budget.reserved = 50;
    let plan = run(&set);
    assert_eq!(plan.budget.reserved, 10);
    assert_eq!(budgets(&plan), vec![0]);
    assert!(plan.warnings.iter().any(|w| w.contains("reserved pool")));
}

// ---------------------------------------------------------------- strategies

fn three(strategy: Strategy) -> Plan {
    let mut set = item_set(
        10,
        vec![Section::share("a", 100.0)],
        vec![
            given("x", "a", 6, 3.0),
            given("y", "a", 5, 2.0),
            given("z", "a", 4, 1.0),
        ],
    );
    set.budget.strategy = strategy;
    set.budget.reallocate = false;
    run(&set)
}

#[test]
fn greedy_takes_what_fits_and_keeps_going() {
    let plan = three(Strategy::Greedy);
    assert_eq!(outcome(&plan, "x"), IN);
    assert_eq!(outcome(&plan, "y"), OVER);
    assert_eq!(outcome(&plan, "z"), IN);
    let s = section(&plan, "a");
    assert_eq!((s.used, s.headroom, s.included, s.excluded), (10, 0, 2, 1));
    assert_eq!(s.needed_for_next, Some(5));
}

#[test]
fn strict_stops_at_the_first_item_that_does_not_fit() {
    let plan = three(Strategy::Strict);
    assert_eq!(outcome(&plan, "x"), IN);
    assert_eq!(outcome(&plan, "y"), OVER);
    assert_eq!(
        outcome(&plan, "z"),
        (ItemStatus::Excluded, Some(Reason::BelowCutoff))
    );
    assert_eq!(section(&plan, "a").needed_for_next, Some(1));
}

/// Found by `engine_props`: section `s1` starts with no budget and gets
/// tokens only from the fill; an empty item there (it costs nothing) was
/// skipped by the fill, so `strict` kept `i2` (0.5) while `i7` (0.6) was
/// out. Every unit is now offered in order.
#[test]
fn strict_fill_takes_an_empty_item_in_order() {
    let item = |id: &str, section: &str, body: &str, priority: f64, group: Option<&str>| {
        let mut item = text(id, section, body, priority);
        item.group = group.map(str::to_string);
        item
    };
    let mut i3 = item(
        "i3",
        "s1",
        "the 42 the the the the the 42 the 漢字 the the the 漢字 the the the https://a.b/c the",
        1.3,
        Some("g1"),
    );
    i3.overhead = 1;
    let mut i6 = given("i6", "s0", 39, 0.0);
    i6.overhead = 1;
    let mut set = item_set(
        142,
        vec![
            Section::share("s0", 44.0),
            Section::share("s1", 0.0),
            Section::tokens("s2", 0),
        ],
        vec![
            item("i0", "s0", "https://a.b/c", 0.0, None),
            given("i1", "s0", 39, 0.0),
            item("i2", "s1", "the", 0.5, None),
            i3,
            item("i4", "s1", "budget", 0.8, None),
            item(
                "i5",
                "s1",
                "the the the 42 the main() the 42 漢字 the the the the 42 the the the",
                0.0,
                Some("g1"),
            ),
            i6,
            item("i7", "s1", "", 0.6, None),
        ],
    );
    set.budget.strategy = Strategy::Strict;
    set.budget.overflow = Overflow::PriorityCut;
    let plan = run(&set);
    assert_eq!(section(&plan, "s1").allocated, 0);
    assert_eq!(outcome(&plan, "i4"), IN);
    assert_eq!(outcome(&plan, "i7"), IN);
    assert_eq!(outcome(&plan, "i2"), IN);
}

#[test]
fn density_orders_by_priority_per_token() {
    let mut set = item_set(
        10,
        vec![Section::share("a", 100.0)],
        vec![
            given("big", "a", 8, 4.0),
            given("b", "a", 3, 3.0),
            given("c", "a", 3, 2.0),
        ],
    );
    set.budget.strategy = Strategy::Density;
    assert_eq!(kept(&run(&set)), vec!["b", "c"]);
    set.budget.strategy = Strategy::Greedy;
    assert_eq!(kept(&run(&set)), vec!["big"]);
}

#[test]
fn optimal_maximises_total_priority() {
    let mut set = item_set(
        10,
        vec![Section::share("a", 100.0)],
        vec![
            given("x", "a", 6, 5.0),
            given("y", "a", 5, 4.0),
            given("z", "a", 5, 4.0),
        ],
    );
    set.budget.strategy = Strategy::Optimal;
    let plan = run(&set);
    assert_eq!(kept(&plan), vec!["y", "z"]);
    assert_eq!(outcome(&plan, "x"), OVER);
    set.budget.strategy = Strategy::Greedy;
    assert_eq!(kept(&run(&set)), vec!["x"]);
}

#[test]
fn optimal_ties_go_to_fewer_tokens_and_zero_priority_is_never_taken() {
    let mut set = item_set(
        10,
        vec![Section::share("a", 100.0)],
        vec![
            given("heavy", "a", 9, 2.0),
            given("light1", "a", 3, 1.0),
            given("light2", "a", 3, 1.0),
            given("nothing", "a", 1, 0.0),
        ],
    );
    set.budget.strategy = Strategy::Optimal;
    let plan = run(&set);
    assert_eq!(kept(&plan), vec!["light1", "light2"]);
    assert_eq!(
        outcome(&plan, "nothing"),
        (ItemStatus::Excluded, Some(Reason::ZeroPriority))
    );
}

#[test]
fn optimal_takes_pinned_first_and_packs_the_rest() {
    let mut pin = given("pin", "a", 4, 0.1);
    pin.pinned = true;
    let mut set = item_set(
        10,
        vec![Section::share("a", 100.0)],
        vec![
            pin,
            given("x", "a", 6, 5.0),
            given("y", "a", 3, 2.0),
            given("z", "a", 3, 2.0),
        ],
    );
    set.budget.strategy = Strategy::Optimal;
    let plan = run(&set);
    assert_eq!(kept(&plan), vec!["pin", "x"]);
    assert_eq!(outcome(&plan, "pin"), (ItemStatus::Pinned, None));
}

#[test]
fn balanced_gives_each_category_a_fair_quota() {
    let mut items = Vec::new();
    for i in 0..4 {
        let mut it = given(&format!("x{i}"), "a", 10, 0.9);
        it.category = Some("x".into());
        items.push(it);
    }
    for i in 0..2 {
        let mut it = given(&format!("y{i}"), "a", 10, 0.1);
        it.category = Some("y".into());
        items.push(it);
    }
    let mut set = item_set(30, vec![Section::share("a", 100.0)], items);
    set.budget.strategy = Strategy::Balanced;
    // Candidate tokens 40 (x) and 20 (y): quotas 20 and 10.
    assert_eq!(kept(&run(&set)), vec!["x0", "x1", "y0"]);
    set.budget.strategy = Strategy::Greedy;
    assert_eq!(kept(&run(&set)), vec!["x0", "x1", "x2"]);
}

#[test]
fn balanced_uses_levels_without_categories_and_gives_leftover_to_the_best() {
    let mut items = Vec::new();
    for (i, (level, tokens, p)) in [(1, 7, 0.9), (1, 7, 0.8), (2, 6, 0.3), (2, 1, 0.2)]
        .iter()
        .enumerate()
    {
        let mut it = given(&format!("i{i}"), "a", *tokens, *p);
        it.level = Some(*level);
        items.push(it);
    }
    let mut set = item_set(15, vec![Section::share("a", 100.0)], items);
    set.budget.strategy = Strategy::Balanced;
    // Level 1 has 14 candidate tokens, level 2 has 7: quotas 10 and 5.
    // Level 1 fills i0 (7); level 2 takes i3 (1) as i2 (6) is over its 5.
    // Leftover 7 goes to the best remaining that fits: i1 (7).
    assert_eq!(kept(&run(&set)), vec!["i0", "i1", "i3"]);
}

#[test]
fn category_order_puts_listed_categories_first() {
    let mut a = given("a", "s", 5, 0.2);
    a.category = Some("rules".into());
    let mut b = given("b", "s", 5, 0.9);
    b.category = Some("examples".into());
    let mut c = given("c", "s", 5, 0.5);
    c.category = None;
    let mut sec = Section::share("s", 100.0);
    sec.category_order = vec!["rules".into(), "examples".into()];
    let mut set = item_set(10, vec![sec], vec![a, b, c]);
    for strategy in [Strategy::Greedy, Strategy::Strict, Strategy::Density] {
        set.budget.strategy = strategy;
        assert_eq!(kept(&run(&set)), vec!["a", "b"], "{strategy}");
    }
    set.sections[0].category_order.clear();
    set.budget.strategy = Strategy::Greedy;
    assert_eq!(kept(&run(&set)), vec!["b", "c"]);
}

#[test]
fn ties_go_by_input_order() {
    let set = item_set(
        10,
        vec![Section::share("a", 100.0)],
        vec![
            given("p", "a", 5, 1.0),
            given("q", "a", 5, 1.0),
            given("r", "a", 5, 1.0),
        ],
    );
    assert_eq!(kept(&run(&set)), vec!["p", "q"]);
}

#[test]
fn section_strategy_overrides_the_budget_default() {
    let mut sec = Section::share("a", 100.0);
    sec.strategy = Some(Strategy::Strict);
    let mut set = item_set(
        10,
        vec![sec],
        vec![
            given("x", "a", 6, 3.0),
            given("y", "a", 5, 2.0),
            given("z", "a", 4, 1.0),
        ],
    );
    set.budget.strategy = Strategy::Greedy;
    assert_eq!(
        outcome(&run(&set), "z"),
        (ItemStatus::Excluded, Some(Reason::BelowCutoff))
    );
}

// ---------------------------------------------------------- exclusions first

#[test]
fn min_priority_excludes_first_but_not_pinned_items() {
    let mut pin = given("pin", "a", 1, 0.01);
    pin.pinned = true;
    let mut set = item_set(
        100,
        vec![Section::share("a", 100.0)],
        vec![given("low", "a", 1, 0.1), given("ok", "a", 1, 0.5), pin],
    );
    set.budget.min_priority = Some(0.3);
    let plan = run(&set);
    assert_eq!(
        outcome(&plan, "low"),
        (ItemStatus::Excluded, Some(Reason::BelowMinPriority))
    );
    assert_eq!(outcome(&plan, "ok"), IN);
    assert_eq!(outcome(&plan, "pin"), (ItemStatus::Pinned, None));
}

#[test]
fn duplicates_keep_the_highest_priority_then_the_earliest() {
    let set = item_set(
        1000,
        vec![Section::share("a", 50.0), Section::share("b", 50.0)],
        vec![
            text("first", "a", "same words", 0.5),
            text("best", "b", "same words", 0.9),
            text("tie", "a", "same words", 0.9),
            text("other", "a", "different words", 0.5),
        ],
    );
    let plan = run(&set);
    assert_eq!(outcome(&plan, "best"), IN);
    assert_eq!(outcome(&plan, "other"), IN);
    for id in ["first", "tie"] {
        assert_eq!(
            outcome(&plan, id),
            (ItemStatus::Excluded, Some(Reason::Duplicate))
        );
        let item = plan.items.iter().find(|i| i.id == id).unwrap();
        assert_eq!(item.duplicate_of.as_deref(), Some("best"));
    }
    assert_eq!(plan.rendered.matches("same words").count(), 1);
}

#[test]
fn a_pinned_duplicate_is_the_one_kept() {
    let mut pin = text("pin", "a", "same", 0.1);
    pin.pinned = true;
    let set = item_set(
        100,
        vec![Section::share("a", 100.0)],
        vec![text("hi", "a", "same", 0.9), pin],
    );
    let plan = run(&set);
    assert_eq!(outcome(&plan, "pin"), (ItemStatus::Pinned, None));
    assert_eq!(outcome(&plan, "hi").1, Some(Reason::Duplicate));
}

// ---------------------------------------------------------------- pinned

#[test]
fn pinned_items_over_the_budget_warn_and_flag_the_section() {
    let mut p1 = given("p1", "a", 8, 1.0);
    p1.pinned = true;
    let mut p2 = given("p2", "a", 8, 1.0);
    p2.pinned = true;
    let mut set = item_set(
        30,
        vec![Section::share("a", 50.0), Section::share("b", 50.0)],
        vec![p1, p2, given("x", "a", 1, 5.0), given("y", "b", 10, 1.0)],
    );
    set.budget.reallocate = false;
    let plan = run(&set);
    let a = section(&plan, "a");
    assert!(a.pinned_overrun);
    assert_eq!((a.used, a.headroom), (16, 0));
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("section `a`") && w.contains("pinned"))
    );
    assert_eq!(outcome(&plan, "p1").0, ItemStatus::Pinned);
    assert_eq!(outcome(&plan, "x"), OVER);
    // 16 + 10 = 26 <= 30: nothing trimmed.
    assert_eq!(outcome(&plan, "y"), IN);
}

#[test]
fn reallocation_covers_a_pinned_overrun_when_it_can() {
    let mut p1 = given("p1", "a", 12, 1.0);
    p1.pinned = true;
    let set = item_set(
        20,
        vec![Section::share("a", 50.0), Section::share("b", 50.0)],
        vec![p1, given("y", "b", 4, 1.0)],
    );
    let plan = run(&set);
    let a = section(&plan, "a");
    assert_eq!(a.final_budget, 12);
    assert!(!a.pinned_overrun);
    assert_eq!(plan.reallocations.len(), 1);
    assert_eq!(plan.reallocations[0].tokens, 2);
}

// ---------------------------------------------------------------- groups

#[test]
fn a_group_is_kept_or_dropped_whole() {
    let mut call = given("call", "h", 4, 0.9);
    call.group = Some("t1".into());
    let mut result = given("result", "h", 4, 0.1);
    result.group = Some("t1".into());
    let set = item_set(
        10,
        vec![Section::share("h", 100.0)],
        vec![call, given("solo", "h", 5, 0.8), result],
    );
    // The group (8 tokens, priority 1.0) goes first; solo no longer fits.
    let plan = run(&set);
    assert_eq!(kept(&plan), vec!["call", "result"]);

    let mut set = set;
    set.budget.total = Some(7);
    let plan = run(&set);
    assert_eq!(kept(&plan), vec!["solo"]);
    assert_eq!(outcome(&plan, "call"), OVER);
    assert_eq!(outcome(&plan, "result"), OVER);
}

#[test]
fn a_group_member_under_min_priority_takes_the_group_out() {
    let mut a = given("a", "h", 1, 0.9);
    a.group = Some("g".into());
    let mut b = given("b", "h", 1, 0.1);
    b.group = Some("g".into());
    let mut set = item_set(100, vec![Section::share("h", 100.0)], vec![a, b]);
    set.budget.min_priority = Some(0.5);
    let plan = run(&set);
    assert_eq!(outcome(&plan, "b").1, Some(Reason::BelowMinPriority));
    assert_eq!(outcome(&plan, "a").1, Some(Reason::GroupExcluded));
}

#[test]
fn a_group_across_sections_is_all_or_nothing() {
    let mut call = given("call", "assistant", 4, 0.9);
    call.group = Some("t".into());
    let mut result = given("result", "tool", 30, 0.9);
    result.group = Some("t".into());
    let mut set = item_set(
        40,
        vec![
            Section::share("assistant", 50.0),
            Section::share("tool", 50.0),
        ],
        vec![call, result, given("other", "assistant", 3, 0.1)],
    );
    set.budget.reallocate = false;
    let plan = run(&set);
    assert_eq!(outcome(&plan, "result"), OVER);
    assert_eq!(
        outcome(&plan, "call"),
        (ItemStatus::Excluded, Some(Reason::GroupExcluded))
    );
    assert_eq!(outcome(&plan, "other"), IN);

    // With reallocation the assistant section's headroom lets it fit.
    set.budget.reallocate = true;
    let plan = run(&set);
    assert_eq!(kept(&plan), vec!["call", "result", "other"]);
}

#[test]
fn a_pinned_member_pins_its_group() {
    let mut a = given("a", "h", 6, 0.1);
    a.group = Some("g".into());
    a.pinned = true;
    let mut b = given("b", "h", 6, 0.1);
    b.group = Some("g".into());
    let set = item_set(20, vec![Section::share("h", 100.0)], vec![a, b]);
    let plan = run(&set);
    assert_eq!(outcome(&plan, "b"), (ItemStatus::Pinned, None));
}

// ------------------------------------------------------- reserve, reallocate

#[test]
fn sections_that_can_use_the_reserve_spill_into_it() {
    let mut a = Section::share("a", 50.0);
    a.can_use_reserve = true;
    let b = Section::share("b", 50.0);
    let mut set = item_set(
        30,
        vec![a, b],
        vec![
            given("a1", "a", 10, 1.0),
            given("a2", "a", 5, 1.0),
            given("b1", "b", 14, 1.0),
        ],
    );
    set.budget.reserved = 10;
    set.budget.reallocate = false;
    let plan = run(&set);
    // a and b get 10 each; a needs 5 more and draws them from the reserve.
    let a = section(&plan, "a");
    assert_eq!(
        (a.allocated, a.final_budget, a.from_reserve, a.used),
        (10, 15, 5, 15)
    );
    assert_eq!(plan.reallocations.len(), 1);
    assert_eq!(plan.reallocations[0].from, "reserved");
    assert_eq!(plan.reallocations[0].to, "a");
    assert_eq!(plan.reallocations[0].tokens, 5);
    // b cannot use the reserve.
    assert_eq!(outcome(&plan, "b1"), OVER);
    assert_eq!(section(&plan, "b").final_budget, 10);
}

#[test]
fn with_reallocation_the_unused_reserve_goes_to_any_section() {
    let b = Section::share("b", 100.0);
    let mut set = item_set(30, vec![b], vec![given("b1", "b", 14, 1.0)]);
    set.budget.reserved = 10;
    let plan = run(&set);
    let b = section(&plan, "b");
    assert_eq!((b.allocated, b.final_budget, b.from_reserve), (20, 20, 0));
    assert!(plan.reallocations.is_empty());

    set.items.push(given("b2", "b", 10, 0.5));
    let plan = run(&set);
    let b = section(&plan, "b");
    // b1 fits (14 of 20); b2 needs 4 more, which come from the reserve.
    assert_eq!((b.final_budget, b.from_reserve, b.used), (24, 4, 24));
}

fn three_sections(mode: ReallocateMode, order: &[&str]) -> Plan {
    // a leaves 20 unused; b wants 10 more, c wants 30 more.
    let mut set = item_set(
        90,
        vec![
            Section::share("a", 100.0 / 3.0),
            Section::share("b", 100.0 / 3.0),
            Section::share("c", 100.0 / 3.0),
        ],
        vec![
            given("a1", "a", 10, 1.0),
            given("b1", "b", 30, 1.0),
            given("b2", "b", 10, 0.5),
            given("c1", "c", 20, 1.0),
            given("c2", "c", 10, 0.9),
            given("c3", "c", 10, 0.8),
            given("c4", "c", 10, 0.7),
        ],
    );
    set.budget.reallocate_mode = mode;
    set.budget.reallocate_order = order.iter().map(|s| s.to_string()).collect();
    run(&set)
}

fn finals(plan: &Plan) -> Vec<usize> {
    plan.sections.iter().map(|s| s.final_budget).collect()
}

#[test]
fn proportional_reallocation_follows_unmet_demand() {
    let plan = three_sections(ReallocateMode::Proportional, &[]);
    // a leaves 20. Demand within reach: b 10 (b2), c 20 (c3, c4): parts 7 and
    // 13. b cannot use 7 (b2 needs 10) and keeps none; c uses 10 of its 13
    // for c3. The next round offers a's remaining 10: parts of 5 each help
    // neither, so they are offered one at a time and b takes all 10.
    assert_eq!(plan.reallocations.len(), 2);
    let t = &plan.reallocations;
    assert_eq!(
        (t[0].from.as_str(), t[0].to.as_str(), t[0].tokens),
        ("a", "c", 10)
    );
    assert_eq!(
        (t[1].from.as_str(), t[1].to.as_str(), t[1].tokens),
        ("a", "b", 10)
    );
    assert_eq!(finals(&plan), vec![10, 40, 40]);
    assert_eq!(kept(&plan), vec!["a1", "b1", "b2", "c1", "c2", "c3"]);
    assert_eq!(section(&plan, "c").needed_for_next, Some(10));
}

#[test]
fn priority_reallocation_serves_the_named_section_first() {
    let plan = three_sections(ReallocateMode::Priority, &["b"]);
    assert_eq!(plan.reallocations[0].to, "b");
    assert_eq!(plan.reallocations[0].tokens, 10);
    assert_eq!(outcome(&plan, "b2"), IN);
    // The other 10 go to c, next in declared order.
    assert_eq!(plan.reallocations[1].to, "c");
    assert_eq!(plan.reallocations[1].tokens, 10);
    assert_eq!(outcome(&plan, "c2"), IN);
    assert_eq!(finals(&plan), vec![10, 40, 40]);
}

#[test]
fn even_reallocation_splits_evenly() {
    let plan = three_sections(ReallocateMode::Even, &[]);
    assert_eq!(finals(&plan), vec![10, 40, 40]);
    assert_eq!(outcome(&plan, "b2"), IN);
    assert_eq!(outcome(&plan, "c2"), IN);
}

#[test]
fn no_reallocation_when_it_is_off() {
    let mut set = item_set(
        20,
        vec![Section::share("a", 50.0), Section::share("b", 50.0)],
        vec![given("a1", "a", 2, 1.0), given("b1", "b", 15, 1.0)],
    );
    set.budget.reallocate = false;
    let plan = run(&set);
    assert!(plan.reallocations.is_empty());
    assert_eq!(outcome(&plan, "b1"), OVER);
    set.budget.reallocate = true;
    let plan = run(&set);
    assert_eq!(outcome(&plan, "b1"), IN);
    assert_eq!(section(&plan, "a").final_budget, 5);
    assert_eq!(section(&plan, "b").final_budget, 15);
}

// ---------------------------------------------------------------- overflow

const LONG: &str = "The quick brown fox jumps over the lazy dog. It was a bright cold day in April, and the clocks were striking thirteen. Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse.";

fn overflow_set(mode: Overflow, total: usize) -> ItemSet {
    let mut set = item_set(
        total,
        vec![Section::share("a", 100.0)],
        vec![
            text("short", "a", "Short note.", 2.0),
            text("long", "a", LONG, 1.0),
        ],
    );
    set.budget.overflow = mode;
    set.budget.reallocate = false;
    set
}

#[test]
fn truncate_fills_the_remaining_budget_exactly() {
    assert_eq!(count("Short note."), 3);
    assert_eq!(count("\n\n"), 1);
    for side in TruncateSide::ALL {
        let mut set = overflow_set(Overflow::Truncate, 45);
        set.budget.truncate = *side;
        let plan = run(&set);
        let long = &plan.items[1];
        assert_eq!(long.status, ItemStatus::Truncated, "{side}");
        let cut = long.final_text.as_deref().unwrap();
        assert_eq!(count(cut), long.final_tokens);
        assert!(long.final_tokens < long.tokens);
        // short costs 3 + 1 separator; long's separator 1: 40 tokens left.
        assert!(
            long.final_tokens <= 40 && long.final_tokens >= 39,
            "{side}: {}",
            long.final_tokens
        );
        assert!(cut.contains('…'));
        match side {
            TruncateSide::Head => {
                assert!(cut.starts_with("The quick brown") && cut.ends_with(" …"))
            }
            TruncateSide::Tail => assert!(cut.starts_with("… ") && cut.ends_with("in my purse.")),
            TruncateSide::Middle => {
                assert!(cut.starts_with("The quick") && cut.ends_with("purse."))
            }
        }
        assert!(plan.totals.rendered <= 45);
        assert_eq!(section(&plan, "a").used, 3 + 1 + long.final_tokens + 1);
    }
}

#[test]
fn truncate_counts_the_marker() {
    let mut set = overflow_set(Overflow::Truncate, 45);
    set.budget.marker = " [cut here, see the full document]".into();
    let plan = run(&set);
    let long = &plan.items[1];
    let cut = long.final_text.as_deref().unwrap();
    assert!(cut.ends_with(" [cut here, see the full document]"));
    assert_eq!(count(cut), long.final_tokens);
    assert!(long.final_tokens <= 40);
}

#[test]
fn degrade_takes_the_mildest_form_that_fits() {
    let doc = "First point here.   It has details that go on.\n\n\nSecond point.  More detail follows here and here.\n\nThird point. Trailing words.";
    let mut set = item_set(
        100,
        vec![Section::share("a", 100.0)],
        vec![text("doc", "a", doc, 1.0)],
    );
    set.budget.overflow = Overflow::Degrade;
    set.budget.reallocate = false;
    let full = count(doc);
    // Budget one token short of the full text (+ separator).
    set.budget.total = Some(full);
    let plan = run(&set);
    let d = &plan.items[0];
    assert_eq!(d.status, ItemStatus::Degraded);
    assert_eq!(d.degrade_level, Some(1));
    assert_eq!(count(d.final_text.as_deref().unwrap()), d.final_tokens);

    // The outline as the degrade module makes it for this item's kind.
    let kind = tokenscope::engine::degrade::detect_kind(&set.items[0]);
    let forms = tokenscope::engine::degrade::forms(doc, kind, &count);
    let outline = forms
        .iter()
        .find(|(level, _)| *level == 2)
        .map(|(_, form)| form.as_str())
        .expect("the text has an outline");
    set.budget.total = Some(count(outline) + 1);
    let plan = run(&set);
    let d = &plan.items[0];
    assert_eq!(d.degrade_level, Some(2));
    assert_eq!(d.final_text.as_deref(), Some(outline));
}

/// A summarizer that answers with a fixed text, or fails.
struct Fixed(Result<&'static str, &'static str>);

impl tokenscope::engine::Summarizer for Fixed {
    fn summarize(
        &self,
        _text: &str,
        _target_tokens: usize,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        self.0.map(str::to_string).map_err(Into::into)
    }
}

fn run_summarized(set: &ItemSet, summarizer: &Fixed) -> Plan {
    let cache = CountCache::new();
    let ctx = PackContext {
        summarizer: Some(summarizer),
        ..PackContext::new(&CL100K, &cache)
    };
    pack(set, &ctx).expect("valid item set")
}

#[test]
fn summarize_falls_back_to_degrade_with_a_warning() {
    let set = overflow_set(Overflow::Summarize, 25);
    let plan = run(&set);
    assert_eq!(plan.items[1].status, ItemStatus::Degraded);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("no summarizer command"))
    );
    // A summarizer that fails: a warning, and degrade takes over.
    let plan = run_summarized(&set, &Fixed(Err("exit status 7")));
    assert_eq!(plan.items[1].status, ItemStatus::Degraded);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("summarizer failed: exit status 7")),
        "{:?}",
        plan.warnings
    );
    // A summary that fits: used as the item's text.
    let plan = run_summarized(&set, &Fixed(Ok("A short summary.")));
    assert_eq!(plan.items[1].degrade_level, Some(4));
    assert_eq!(
        plan.items[1].final_text.as_deref(),
        Some("A short summary.")
    );
    // A summary that does not fit: degraded, with a warning.
    let long: &'static str = Box::leak("word ".repeat(400).into_boxed_str());
    let plan = run_summarized(&set, &Fixed(Ok(long)));
    assert_eq!(plan.items[1].status, ItemStatus::Degraded);
    assert!(
        plan.warnings.iter().any(|w| w.contains("the summary has")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn priority_cut_excludes_low_items_only_when_the_section_overflows() {
    let mut set = item_set(
        10,
        vec![Section::share("a", 100.0)],
        vec![
            given("small_low", "a", 2, 0.1),
            given("big", "a", 9, 0.9),
            given("mid", "a", 1, 0.6),
        ],
    );
    set.budget.overflow = Overflow::PriorityCut;
    set.budget.strategy = Strategy::Density;
    let plan = run(&set);
    // Density alone would take small_low (0.05/token) ... the section
    // overflows, so small_low is cut outright and big fits.
    assert_eq!(
        outcome(&plan, "small_low"),
        (ItemStatus::Excluded, Some(Reason::PriorityCut))
    );
    assert_eq!(kept(&plan), vec!["big", "mid"]);

    set.budget.total = Some(12);
    let plan = run(&set);
    assert_eq!(kept(&plan), vec!["small_low", "big", "mid"]);
}

#[test]
fn overflow_mode_per_section() {
    let mut a = Section::share("a", 50.0);
    a.overflow = Some(Overflow::Truncate);
    let b = Section::share("b", 50.0);
    let mut set = item_set(
        90,
        vec![a, b],
        vec![
            text("la", "a", LONG, 1.0),
            text("lb", "b", &LONG.to_uppercase(), 1.0),
        ],
    );
    set.budget.reallocate = false;
    let plan = run(&set);
    assert_eq!(outcome(&plan, "la").0, ItemStatus::Truncated);
    assert_eq!(outcome(&plan, "lb"), OVER);
}

// ---------------------------------------------------------------- render

#[test]
fn render_titles_separators_and_order() {
    let mut a = Section::share("a", 50.0);
    a.title = Some("## Rules".into());
    let mut b = Section::share("b", 50.0);
    b.separator = Some("\n---\n".into());
    let set = item_set(
        200,
        vec![a, b],
        vec![
            text("b2", "b", "beta two", 0.1),
            text("a1", "a", "alpha one", 0.5),
            text("b1", "b", "beta one", 0.9),
            text("a2", "a", "alpha two", 0.9),
            given("g", "a", 3, 1.0),
        ],
    );
    let plan = run(&set);
    assert_eq!(
        plan.rendered,
        "## Rules\n\nalpha one\n\nalpha two\n\nbeta two\n---\nbeta one"
    );
    assert_eq!(plan.totals.rendered, count(&plan.rendered));
    assert_eq!(plan.totals.context, plan.totals.rendered + 3);
    // Section usage includes the title and separators.
    let a = section(&plan, "a");
    let title = count("## Rules") + count("\n\n");
    assert_eq!(a.frame, title + 2 * count("\n\n"));
    assert_eq!(
        a.used,
        count("alpha one") + count("alpha two") + 3 + a.frame
    );
}

#[test]
fn render_trim_keeps_the_context_within_the_total() {
    // Pinned items overrun section a; b fills its own budget: together they
    // are over the total, so b's lowest-priority items are trimmed.
    let mut p = given("p", "a", 20, 1.0);
    p.pinned = true;
    let mut set = item_set(
        30,
        vec![Section::share("a", 50.0), Section::share("b", 50.0)],
        vec![
            p,
            given("b1", "b", 5, 0.9),
            given("b2", "b", 5, 0.2),
            given("b3", "b", 5, 0.5),
        ],
    );
    set.budget.reallocate = false;
    let plan = run(&set);
    assert_eq!(
        outcome(&plan, "b2"),
        (ItemStatus::Excluded, Some(Reason::RenderTrim))
    );
    assert_eq!(outcome(&plan, "b3"), IN);
    assert_eq!(outcome(&plan, "b1"), IN);
    assert_eq!(plan.totals.context, 30);
}

#[test]
fn pinned_items_alone_over_the_total_are_trimmed_with_a_warning() {
    let mut p1 = text("p1", "a", "pinned text one", 0.9);
    p1.pinned = true;
    let mut p2 = text("p2", "a", "pinned text two", 0.1);
    p2.pinned = true;
    let set = item_set(5, vec![Section::share("a", 100.0)], vec![p1, p2]);
    let plan = run(&set);
    assert!(plan.totals.rendered <= 5);
    assert_eq!(
        outcome(&plan, "p2"),
        (ItemStatus::Excluded, Some(Reason::RenderTrim))
    );
    assert_eq!(outcome(&plan, "p1").0, ItemStatus::Pinned);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("pinned item `p2` removed"))
    );
    assert!(section(&plan, "a").pinned_overrun);
}

// ---------------------------------------------------------------- report

#[test]
fn totals_report_usage_efficiency_estimate_and_cost() {
    let set = item_set(
        100,
        vec![Section::share("a", 100.0)],
        vec![
            text("x", "a", "hello world", 2.0),
            text("y", "a", "goodbye world", 1.0),
        ],
    );
    let plan = run(&set);
    assert_eq!(plan.rendered, "hello world\n\ngoodbye world");
    let rendered = count(&plan.rendered);
    assert_eq!(plan.totals.rendered, rendered);
    assert_eq!(plan.totals.included, 2);
    assert_eq!(plan.totals.excluded, 0);
    let used = section(&plan, "a").used;
    assert_eq!(plan.totals.used, used);
    assert!((plan.totals.efficiency - 3.0 * 1000.0 / used as f64).abs() < 1e-9);
    // Utilisation is `used` over the total, like a section's.
    assert!((plan.totals.utilization - used as f64 / 100.0).abs() < 1e-12);
    assert_eq!(
        plan.totals.estimate_chars4,
        "hello world\n\ngoodbye world".chars().count().div_ceil(4)
    );
    let cost = plan.totals.cost_usd.unwrap();
    assert!((cost - 30.0 * rendered as f64 / 1e6).abs() < 1e-12);
    assert_eq!(plan.schema, "tokenscope.report/1");
    assert_eq!(plan.encoding, "cl100k_base");
    assert!(plan.exact);
    assert_eq!(plan.model.as_deref(), Some("gpt-4"));
    let s = section(&plan, "a");
    assert_eq!(s.headroom, 100 - s.used);
    assert!((s.utilization - s.used as f64 / 100.0).abs() < 1e-12);
    assert_eq!(s.needed_for_next, None);
}

#[test]
fn the_report_json_has_the_documented_shape() {
    let mut set = item_set(
        10,
        vec![Section::share("a", 100.0)],
        vec![given("x", "a", 6, 3.0), given("y", "a", 5, 2.0)],
    );
    set.warnings.push("loader warning".into());
    let plan = run(&set);
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["schema"], "tokenscope.report/1");
    for key in [
        "total",
        "reserve_output",
        "reserved",
        "strategy",
        "overflow",
        "reallocate",
    ] {
        assert!(json["budget"].get(key).is_some(), "budget.{key}");
    }
    for key in [
        "used",
        "rendered",
        "included",
        "excluded",
        "utilization",
        "efficiency",
        "estimate_chars4",
        "cost_usd",
    ] {
        assert!(json["totals"].get(key).is_some(), "totals.{key}");
    }
    for key in [
        "name",
        "allocated",
        "final",
        "used",
        "included",
        "excluded",
        "needed_for_next",
    ] {
        assert!(json["sections"][0].get(key).is_some(), "sections.{key}");
    }
    for key in [
        "id",
        "section",
        "tokens",
        "final_tokens",
        "priority",
        "pinned",
        "status",
        "reason",
        "degrade_level",
    ] {
        assert!(json["items"][0].get(key).is_some(), "items.{key}");
    }
    assert_eq!(json["items"][1]["reason"], "over_section_budget");
    assert_eq!(json["items"][0]["status"], "included");
    assert_eq!(json["warnings"][0], "loader warning");
}

#[test]
fn the_same_input_gives_the_same_plan() {
    let mut items = Vec::new();
    for i in 0..60 {
        let mut it = text(
            &format!("i{i}"),
            ["a", "b", "c"][i % 3],
            &format!("item {} text {}", i, i * 7 % 13),
            (i * 37 % 11) as f64 / 10.0,
        );
        it.category = Some(["x", "y"][i % 2].into());
        if i % 7 == 0 {
            it.group = Some(format!("g{}", i % 4));
        }
        items.push(it);
    }
    let mut set = item_set(
        120,
        vec![
            Section::share("a", 40.0),
            Section::share("b", 35.0),
            Section::share("c", 25.0),
        ],
        items,
    );
    set.budget.reserved = 10;
    set.sections[1].can_use_reserve = true;
    for strategy in Strategy::ALL {
        set.budget.strategy = *strategy;
        let one = run(&set);
        let two = run_with(&set, &CountCache::new());
        assert_eq!(one, two);
        assert_eq!(
            serde_json::to_string(&one).unwrap(),
            serde_json::to_string(&two).unwrap()
        );
        assert!(one.totals.rendered <= 120);
    }
}
