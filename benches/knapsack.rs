//! The exact knapsack of the `optimal` strategy at the size README, Performance
//! names: 10,000 items, capacity 128,000, weights 1..=4,000 (like token
//! counts of prompt chunks), one benchmark per instance family.
//!
//! ```text
//! cargo bench --bench knapsack
//! ```
//! Each family is measured on several seeds; the report shows time per
//! solve. Peak memory is measured by `examples/knapsack_peak.rs`.
//!
//! `knapsack_anytime` runs the families built to defeat every bound
//! ([`Family::ADVERSARIAL`]) under a 50 ms deadline and the default memory
//! cap, at 10,000 items with capacities 128,000 and 1,000,001 (both 2 above
//! a multiple of 3): each solve returns by the deadline (or proves the
//! optimum first); `examples/knapsack_peak.rs adversarial` with
//! `DEADLINE_MS` prints their gaps and peak memory.

#[path = "knapsack/families.rs"]
mod families;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use families::Family;
use std::time::Instant;

use tokenscope::engine::knapsack::{DEFAULT_MEMORY, Limits, solve, solve_within};

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

/// The anytime solve's deadline in `knapsack_anytime`.
const DEADLINE: Duration = Duration::from_millis(50);

fn anytime(c: &mut Criterion) {
    let mut group = c.benchmark_group("knapsack_anytime_10k");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for &family in Family::ADVERSARIAL {
        for capacity in [CAPACITY, 1_000_001] {
            let (weights, values) = family.generate(ITEMS, MAX_WEIGHT, 0);
            let id = BenchmarkId::new(family.name(), capacity);
            group.bench_function(id, |b| {
                b.iter(|| {
                    let limits = Limits {
                        deadline: Some(Instant::now() + DEADLINE),
                        memory: Some(DEFAULT_MEMORY),
                        cancel: None,
                    };
                    solve_within(
                        black_box(&weights),
                        black_box(&values),
                        black_box(capacity),
                        &limits,
                    )
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, knapsack, anytime);
criterion_main!(benches);
