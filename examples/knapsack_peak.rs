//! Time, peak heap and optimality gap of the knapsack on each instance
//! family.
//!
//! ```text
//! cargo run --release --example knapsack_peak [FAMILY|all|adversarial] [ITEMS] [CAPACITY] [SEEDS]
//! ```
//! Defaults: all families, 10,000 items, capacity 128,000, 5 seeds. Prints,
//! per family, the slowest and mean solve time, the largest peak heap
//! growth during a solve (counted by a global allocator wrapper) and the
//! largest optimality gap. Each instance is solved `REPEAT` times (default
//! 5) and its fastest time kept, which filters out other processes on a
//! shared machine. Run one family under `/usr/bin/time -v` to see the
//! process's maximum resident set.
//!
//! `DEADLINE_MS` (a deadline per solve) and `MEMORY_MB` (the memory cap)
//! run the anytime solve ([`solve_within`]); without them the solve is
//! exact. `adversarial` selects the families built to defeat every bound;
//! give them a deadline.

#[path = "../benches/knapsack/families.rs"]
mod families;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use families::Family;
use tokenscope::engine::knapsack::{Limits, solve_within};

/// Counts live heap bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwards the caller's layout to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as `GlobalAlloc::realloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let live = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map_or("all", String::as_str);
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let capacity: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(128_000);
    let seeds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);
    let env = |name: &str| std::env::var(name).ok().and_then(|s| s.parse::<u64>().ok());
    let repeat = env("REPEAT").unwrap_or(5) as usize;
    let deadline = env("DEADLINE_MS").map(Duration::from_millis);
    let memory = env("MEMORY_MB").map(|mb| (mb as usize) << 20);
    println!(
        "{:<28} {:>10} {:>10} {:>12} {:>8} {:>11}",
        "family", "max ms", "mean ms", "peak heap", "chosen", "max gap"
    );
    let families: Vec<Family> = Family::ALL
        .iter()
        .chain(Family::ADVERSARIAL)
        .copied()
        .filter(|f| match which {
            "all" => Family::ALL.contains(f),
            "adversarial" => Family::ADVERSARIAL.contains(f),
            name => f.name() == name,
        })
        .collect();
    let mut seen = Vec::new();
    for family in families {
        if seen.contains(&family) {
            continue;
        }
        seen.push(family);
        let mut worst = 0f64;
        let mut total = 0f64;
        let mut peak = 0usize;
        let mut chosen = 0usize;
        let mut gap: Option<f64> = None;
        for seed in 0..seeds {
            let (w, v) = family.generate(n, 4_000, seed);
            let mut ms = f64::INFINITY;
            for _ in 0..repeat.max(1) {
                let base = LIVE.load(Ordering::Relaxed);
                PEAK.store(base, Ordering::Relaxed);
                let start = Instant::now();
                let limits = Limits {
                    deadline: deadline.map(|d| start + d),
                    memory,
                    cancel: None,
                };
                let s = solve_within(&w, &v, capacity, &limits);
                ms = ms.min(start.elapsed().as_secs_f64() * 1e3);
                peak = peak.max(PEAK.load(Ordering::Relaxed) - base);
                chosen = s.chosen.len();
                if let Some(g) = s.gap() {
                    gap = Some(gap.map_or(g, |m: f64| m.max(g)));
                }
            }
            worst = worst.max(ms);
            total += ms;
        }
        println!(
            "{:<28} {:>10.3} {:>10.3} {:>9.2} MB {:>8} {:>11}",
            family.name(),
            worst,
            total / seeds.max(1) as f64,
            peak as f64 / 1e6,
            chosen,
            gap.map_or("proven".to_string(), |g| format!("{:.6}%", g * 100.0)),
        );
    }
}
