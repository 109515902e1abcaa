//! How much of the budget plans use on a real folder, and whether they are
//! maximal, for every strategy at several budgets.
//!
//! ```sh
//! cargo run --release --example fill_check -- /usr/share/doc
//! cargo run --release --example fill_check -- /usr/lib/python3.11 1000 200000
//! ```
//!
//! For each budget and strategy it prints `used` and `context` over the
//! total, the tokens left, how many excluded items there are, the smallest
//! of them, how many would still fit in what is left (0 for a maximal plan;
//! a file costs at least its tokens and its separator), and the engine's
//! time for the run (counts cached).

use std::path::PathBuf;
use std::time::Instant;

use tokenscope::engine::{ItemStatus, PackContext, Reason, Strategy, pack};
use tokenscope::input::{LoadOptions, load_path};
use tokenscope::tokens::{CountCache, Encoding, Tokenizer};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().expect("usage: fill_check PATH [BUDGET...]"));
    let mut budgets: Vec<usize> = args.map(|a| a.parse().expect("a budget")).collect();
    if budgets.is_empty() {
        budgets = vec![1_000, 8_000, 64_000, 200_000, 1_000_000];
    }
    let loaded = load_path(&path, &LoadOptions::default()).expect("the folder loads");
    let tokenizer = Tokenizer::Exact(Encoding::O200kBase);
    let cache = CountCache::new();
    let ctx = PackContext::new(&tokenizer, &cache);
    println!(
        "{}: {} items in {} sections",
        path.display(),
        loaded.items.len(),
        loaded.sections.len()
    );
    println!(
        "{:>9} {:>9} {:>9} {:>7} {:>9} {:>7} {:>6} {:>8} {:>6} {:>8}",
        "budget", "strategy", "used", "use", "context", "left", "out", "smallest", "fit", "ms"
    );
    for &budget in &budgets {
        for strategy in [
            Strategy::Greedy,
            Strategy::Density,
            Strategy::Optimal,
            Strategy::Balanced,
            Strategy::Strict,
        ] {
            let mut set = loaded.clone();
            set.budget.total = Some(budget);
            set.budget.strategy = strategy;
            // Warm the count cache, then time a run with counts cached.
            pack(&set, &ctx).expect("the engine runs");
            let start = Instant::now();
            let plan = pack(&set, &ctx).expect("the engine runs");
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            let left = budget.saturating_sub(plan.totals.used);
            let out: Vec<_> = plan
                .items
                .iter()
                .filter(|i| {
                    i.status == ItemStatus::Excluded && i.reason == Some(Reason::OverSectionBudget)
                })
                .collect();
            let smallest = out.iter().map(|i| i.tokens).min();
            let fit = out.iter().filter(|i| i.tokens < left).count();
            println!(
                "{:>9} {:>9} {:>9} {:>6.2}% {:>9} {:>7} {:>6} {:>8} {:>6} {:>8.1}",
                budget,
                strategy.name(),
                plan.totals.used,
                plan.totals.utilization * 100.0,
                plan.totals.context,
                left,
                out.len(),
                smallest.map_or("-".to_string(), |s| s.to_string()),
                fit,
                ms
            );
        }
    }
}
