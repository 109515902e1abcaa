//! The exact knapsack of the `optimal` strategy at the size DESIGN.md §7
//! names: 10,000 items, capacity 128,000, weights 1..=4,000 (like token
//! counts of prompt chunks), one benchmark per instance family.
//!
//! ```text
//! cargo bench --bench knapsack
//! ```
//! Each family is measured on several seeds; the report shows time per
//! solve. Peak memory is measured by `examples/knapsack_peak.rs`.

#[path = "knapsack/families.rs"]
mod families;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use families::Family;
use tokenscope::engine::knapsack::solve;

const ITEMS: usize = 10_000;
const CAPACITY: u64 = 128_000;
const MAX_WEIGHT: u32 = 4_000;
const SEEDS: u64 = 4;

fn knapsack(c: &mut Criterion) {
    let mut group = c.benchmark_group("knapsack_10k_128k");
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for &family in Family::ALL {
        for seed in 0..SEEDS {
            let (weights, values) = family.generate(ITEMS, MAX_WEIGHT, seed);
            group.bench_function(BenchmarkId::new(family.name(), seed), |b| {
                b.iter(|| solve(black_box(&weights), black_box(&values), black_box(CAPACITY)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, knapsack);
criterion_main!(benches);
