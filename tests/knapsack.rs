//! The exact knapsack of the `optimal` strategy against independent
//! references: exhaustive search for small instances, a dynamic programme
//! over the capacity for medium ones. Both restate the documented tie rule
//! (see `tokenscope::engine::knapsack`) from scratch.

#[path = "../benches/knapsack/families.rs"]
mod families;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::cmp::Ordering;
use std::time::{Duration, Instant};

use families::{Family, Rng};
use proptest::prelude::*;
use tokenscope::engine::knapsack::{Limits, Solution, Stop, solve, solve_within};

/// Counts each thread's live heap bytes and their high-water mark, so that a
/// test can measure its own solve while others run on other threads.
struct PerThread;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn grow(bytes: usize) {
    let _ = LIVE.try_with(|l| {
        let live = l.get() + bytes;
        l.set(live);
        let _ = PEAK.try_with(|p| p.set(p.get().max(live)));
    });
}

fn shrink(bytes: usize) {
    let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(bytes)));
}

unsafe impl GlobalAlloc for PerThread {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwards the caller's layout to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as `GlobalAlloc::realloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrink(layout.size());
            grow(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: PerThread = PerThread;

/// Runs `f` and returns its result with the peak heap growth of this thread
/// during it.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, PEAK.with(Cell::get) - base)
}

/// The documented rule, restated: forced items, candidates ranked by
/// density, the greedy fill and the expansion order.
struct Rule {
    /// Weight 0 with a value: always chosen.
    forced: Vec<usize>,
    /// Candidates in ranked order (input indices).
    ranked: Vec<usize>,
    /// The greedy fill is `ranked[..brk]`; `brk == ranked.len()` when all fit.
    brk: usize,
    /// Ranked positions in expansion order.
    expansion: Vec<usize>,
}

impl Rule {
    fn new(w: &[u32], v: &[u64], cap: u64) -> Rule {
        let n = w.len().min(v.len());
        let forced: Vec<usize> = (0..n).filter(|&i| w[i] == 0 && v[i] > 0).collect();
        let mut ranked: Vec<usize> = (0..n)
            .filter(|&i| w[i] > 0 && v[i] > 0 && u64::from(w[i]) <= cap)
            .collect();
        let density = |i: usize, j: usize| -> Ordering {
            // i before j when v_i / w_i > v_j / w_j.
            let lhs = u128::from(v[i]) * u128::from(w[j]);
            let rhs = u128::from(v[j]) * u128::from(w[i]);
            rhs.cmp(&lhs).then(i.cmp(&j))
        };
        ranked.sort_by(|&a, &b| density(a, b));
        let mut brk = 0;
        let mut fill = 0u64;
        while brk < ranked.len() && fill + u64::from(w[ranked[brk]]) <= cap {
            fill += u64::from(w[ranked[brk]]);
            brk += 1;
        }
        let mut expansion = Vec::new();
        let (mut right, mut left) = (brk, brk);
        let mut go_right = true;
        loop {
            let has_right = right < ranked.len();
            let has_left = left > 0;
            let take_right = match (has_right, has_left) {
                (false, false) => break,
                (true, false) => true,
                (false, true) => false,
                (true, true) => go_right,
            };
            go_right = !take_right;
            if take_right {
                expansion.push(right);
                right += 1;
            } else {
                left -= 1;
                expansion.push(left);
            }
        }
        Rule {
            forced,
            ranked,
            brk,
            expansion,
        }
    }

    /// The input indices of a set given per ranked position, plus the forced
    /// items, ascending.
    fn indices(&self, set: &[bool]) -> Vec<usize> {
        let mut out: Vec<usize> = self.forced.clone();
        out.extend(
            (0..self.ranked.len())
                .filter(|&p| set[p])
                .map(|p| self.ranked[p]),
        );
        out.sort_unstable();
        out
    }
}

/// Totals of a set of input indices.
fn totals(w: &[u32], v: &[u64], set: &[usize]) -> (u128, u128) {
    set.iter().fold((0, 0), |(tw, tv), &i| {
        (tw + u128::from(w[i]), tv + u128::from(v[i]))
    })
}

/// Exhaustive search over every subset of the candidates (at most ~16).
/// Bit `k` of a subset mask is the candidate `k`-th in expansion order, so
/// the tie rule looks at the highest bit where two masks differ.
fn brute_force(w: &[u32], v: &[u64], cap: u64) -> Vec<usize> {
    let rule = Rule::new(w, v, cap);
    let m = rule.expansion.len();
    assert!(m <= 20, "too many candidates for exhaustive search");
    let item = |k: usize| rule.ranked[rule.expansion[k]];
    let greedy: u32 = (0..m)
        .filter(|&k| rule.expansion[k] < rule.brk)
        .fold(0, |g, k| g | 1 << k);
    let mut weight = vec![0u128; 1 << m];
    let mut value = vec![0u128; 1 << m];
    let mut best: u32 = 0;
    for mask in 1u32..(1u32 << m) {
        let low = mask.trailing_zeros() as usize;
        let rest = (mask & (mask - 1)) as usize;
        weight[mask as usize] = weight[rest] + u128::from(w[item(low)]);
        value[mask as usize] = value[rest] + u128::from(v[item(low)]);
        let (tw, tv) = (weight[mask as usize], value[mask as usize]);
        if tw > u128::from(cap) {
            continue;
        }
        let (bw, bv) = (weight[best as usize], value[best as usize]);
        let better = tv > bv
            || (tv == bv && tw < bw)
            || (tv == bv && tw == bw && {
                let top = 31 - (mask ^ best).leading_zeros();
                (mask >> top & 1) == (greedy >> top & 1)
            });
        if better {
            best = mask;
        }
    }
    let mut set = vec![false; rule.ranked.len()];
    for k in (0..m).filter(|&k| best >> k & 1 == 1) {
        set[rule.expansion[k]] = true;
    }
    rule.indices(&set)
}

/// A dynamic programme over exact total weights, taking the candidates in
/// expansion order; on equal value at equal weight it keeps the decision
/// that agrees with the greedy fill, which is the tie rule.
fn capacity_dp(w: &[u32], v: &[u64], cap: u64) -> Vec<usize> {
    let rule = Rule::new(w, v, cap);
    let m = rule.ranked.len();
    if rule.brk == m {
        return rule.indices(&vec![true; m]);
    }
    let cap = usize::try_from(cap).expect("small capacity");
    const NONE: u128 = u128::MAX;
    let mut best: Vec<u128> = vec![NONE; cap + 1];
    best[0] = 0;
    // took[k]: bitset over totals, set where step k took its candidate.
    let words = cap / 64 + 1;
    let mut took: Vec<Vec<u64>> = Vec::with_capacity(m);
    for &pos in &rule.expansion {
        let item = rule.ranked[pos];
        let (iw, iv) = (w[item] as usize, u128::from(v[item]));
        let greedy = pos < rule.brk;
        let mut row = vec![0u64; words];
        for t in (iw..=cap).rev() {
            let from = best[t - iw];
            if from == NONE {
                continue;
            }
            let with = from + iv;
            let without = best[t];
            if without == NONE || with > without || (with == without && greedy) {
                best[t] = with;
                row[t / 64] |= 1 << (t % 64);
            }
        }
        took.push(row);
    }
    let mut at = 0;
    for t in 0..=cap {
        if best[t] != NONE && best[t] > best[at] {
            at = t;
        }
    }
    let mut set = vec![false; m];
    for (k, &pos) in rule.expansion.iter().enumerate().rev() {
        if took[k][at / 64] >> (at % 64) & 1 == 1 {
            set[pos] = true;
            at -= w[rule.ranked[pos]] as usize;
        }
    }
    assert_eq!(at, 0);
    rule.indices(&set)
}

/// Runs the solver and checks the answer's shape and feasibility.
fn solved(w: &[u32], v: &[u64], cap: u64) -> Vec<usize> {
    let got = solve(w, v, cap);
    assert!(
        got.windows(2).all(|p| p[0] < p[1]),
        "not ascending: {got:?}"
    );
    assert!(got.iter().all(|&i| i < w.len().min(v.len())));
    let (tw, _) = totals(w, v, &got);
    assert!(tw <= u128::from(cap), "over capacity: {tw} > {cap}");
    got
}

fn assert_same(w: &[u32], v: &[u64], cap: u64, got: &[usize], want: &[usize], what: &str) {
    let (gw, gv) = totals(w, v, got);
    let (ww, wv) = totals(w, v, want);
    assert_eq!(
        (gv, gw),
        (wv, ww),
        "{what}: (value, weight) differs; cap {cap}\nweights {w:?}\nvalues {v:?}"
    );
    assert_eq!(
        got, want,
        "{what}: tie rule differs; cap {cap}\nweights {w:?}\nvalues {v:?}"
    );
}

fn check_small(w: &[u32], v: &[u64], cap: u64) {
    let got = solved(w, v, cap);
    let want = brute_force(w, v, cap);
    assert_same(w, v, cap, &got, &want, "brute force");
}

fn check_medium(w: &[u32], v: &[u64], cap: u64) {
    let got = solved(w, v, cap);
    let want = capacity_dp(w, v, cap);
    assert_same(w, v, cap, &got, &want, "capacity DP");
}

#[test]
fn references_agree_with_each_other() {
    // The two references restate the rule independently: check one against
    // the other so that a shared misreading would have to be made twice.
    let mut rng = Rng::new(7);
    for _ in 0..300 {
        let n = rng.range(0, 12) as usize;
        let w: Vec<u32> = (0..n).map(|_| rng.range(0, 9) as u32).collect();
        let v: Vec<u64> = (0..n).map(|_| rng.range(0, 6)).collect();
        let cap = rng.range(0, 30);
        assert_eq!(brute_force(&w, &v, cap), capacity_dp(&w, &v, cap));
    }
}

#[test]
fn edge_cases() {
    assert_eq!(solve(&[], &[], 10), Vec::<usize>::new());
    assert_eq!(solve(&[], &[], 0), Vec::<usize>::new());
    // Capacity 0: only free items.
    assert_eq!(solve(&[1, 0, 2, 0], &[5, 3, 1, 0], 0), vec![1]);
    // All too heavy.
    assert_eq!(solve(&[11, 12], &[5, 6], 10), Vec::<usize>::new());
    // Zero values are never chosen, even when free or when they fit.
    assert_eq!(solve(&[0, 1, 2], &[0, 0, 0], 10), Vec::<usize>::new());
    // Zero weights with value are always chosen.
    assert_eq!(solve(&[0, 5, 0], &[1, 10, u64::MAX], 4), vec![0, 2]);
    // Everything fits.
    assert_eq!(solve(&[3, 4, 5], &[1, 1, 1], 12), vec![0, 1, 2]);
    // Duplicates: the earlier ones, on either side of the cut.
    assert_eq!(solve(&[4, 4, 4, 4, 4], &[7, 7, 7, 7, 7], 13), vec![0, 1, 2]);
    assert_eq!(solve(&[5, 4, 4, 4, 4], &[1, 7, 7, 7, 7], 9), vec![1, 2]);
    // Ties go to fewer tokens.
    assert_eq!(solve(&[4, 2, 1], &[6, 3, 3], 6), vec![0, 2]);
    assert_eq!(solve(&[5, 3], &[6, 6], 5), vec![1]);
    // u32::MAX weights.
    let big = u32::MAX;
    assert_eq!(solve(&[big, big, 1], &[10, 9, 1], u64::from(big)), vec![0]);
    assert_eq!(solve(&[big, big, 1], &[10, 9, 1], u64::MAX), vec![0, 1, 2]);
    assert_eq!(
        solve(&[big, big - 1, 2], &[10, 9, 2], u64::from(big) + 1),
        vec![1, 2]
    );
    // Values whose sum needs 128 bits.
    assert_eq!(
        solve(&[2, 1, 1, 2], &[u64::MAX, u64::MAX, u64::MAX - 1, 1], 2),
        vec![1, 2]
    );
    // Mismatched lengths: extra entries are ignored.
    assert_eq!(solve(&[1, 1, 1], &[5, 6], 5), vec![0, 1]);
    assert_eq!(solve(&[1], &[5, 6], 5), vec![0]);
}

#[test]
fn documented_examples_of_the_tie_rule() {
    // Equal density, two light items tie one heavy one: the greedy fill (the
    // heavy item, ranked first by input order) wins.
    assert_eq!(solve(&[2, 1, 1], &[2, 1, 1], 2), vec![0]);
    assert_eq!(solve(&[1, 1, 2], &[1, 1, 2], 2), vec![0, 1]);
    // Exact fills of a subset-sum instance: the one that changes the greedy
    // fill closest to the cut.
    let w = [5, 4, 3, 3, 2, 2, 1];
    let got = solve(&w, &w.map(u64::from), 13);
    assert_eq!(got, brute_force(&w, &w.map(u64::from), 13));
}

#[test]
fn every_family_small_against_brute_force() {
    for &family in Family::ALL {
        for seed in 0..40 {
            let mut rng = Rng::new(seed);
            let n = rng.range(0, 16) as usize;
            let r = [50, 100, 400][seed as usize % 3];
            let (w, v) = family.generate(n, r, seed);
            let total: u64 = w.iter().map(|&x| u64::from(x)).sum();
            let cap = rng.range(0, total.max(1));
            check_small(&w, &v, cap);
        }
    }
}

#[test]
fn every_family_medium_against_dp() {
    for &family in Family::ALL {
        for seed in 0..8 {
            let r = [100, 250, 1000][seed as usize % 3];
            let (w, v) = family.generate(200, r, seed);
            check_medium(&w, &v, 5_000);
        }
    }
}

#[test]
fn larger_instances_against_dp() {
    for &family in &[
        Family::StronglyCorrelated,
        Family::SubsetSum,
        Family::RealCounts,
        Family::FewKinds,
    ] {
        let (w, v) = family.generate(1_500, 400, 99);
        check_medium(&w, &v, 20_000);
    }
}

#[test]
fn subset_sum_with_an_unreachable_capacity() {
    // Multiples of 3 and one odd one out, capacity 2 more than a multiple of
    // 3: the linear bound stays one above every reachable total, so only
    // reachability can prove the optimum.
    let mut rng = Rng::new(5);
    let mut w: Vec<u32> = (0..2_500).map(|_| 3 * rng.range(1, 300) as u32).collect();
    w[17] = 1;
    let v: Vec<u64> = w.iter().map(|&x| u64::from(x)).collect();
    check_medium(&w, &v, 20_000);
    let doubled: Vec<u64> = v.iter().map(|&x| 2 * x).collect();
    check_medium(&w, &doubled, 19_997);
}

/// Checks what every anytime answer promises: ascending indices that fit,
/// `value` their total, `bound` at least `value`, and the gap from them.
fn check_anytime(w: &[u32], v: &[u64], cap: u64, s: &Solution) {
    assert!(s.chosen.windows(2).all(|p| p[0] < p[1]));
    let (tw, tv) = totals(w, v, &s.chosen);
    assert!(tw <= u128::from(cap), "over capacity: {tw} > {cap}");
    assert_eq!(tv, s.value);
    assert!(
        s.value <= s.bound,
        "value {} over bound {}",
        s.value,
        s.bound
    );
    match s.stopped {
        None => {
            assert_eq!(s.bound, s.value);
            assert_eq!(s.gap(), None);
        }
        Some(_) => {
            let gap = s.gap().expect("a stopped solve has a gap");
            let want = if s.bound == 0 {
                0.0
            } else {
                (s.bound - s.value) as f64 / s.bound as f64
            };
            assert_eq!(gap, want);
            assert!((0.0..=1.0).contains(&gap));
        }
    }
}

/// The largest total value of any set that fits (through the exact solve).
fn optimum(w: &[u32], v: &[u64], cap: u64) -> u128 {
    totals(w, v, &solve(w, v, cap)).1
}

#[test]
fn a_deadline_stops_an_adversarial_solve_close_to_its_bound() {
    // Exact, these take seconds to minutes; stopped after 50 ms each is
    // within a millionth-or-so of its bound.
    for (family, n, cap) in [
        (Family::NudgedSubsetSum, 10_000, 128_000),
        (Family::NudgedSubsetSum, 20_000, 1_000_001),
        (Family::MultipleStronglyCorrelated, 10_000, 500_000),
    ] {
        let (w, v) = family.generate(n, 4_000, 1);
        let start = Instant::now();
        let limits = Limits {
            deadline: Some(start + Duration::from_millis(50)),
            ..Limits::default()
        };
        let s = solve_within(&w, &v, cap, &limits);
        let took = start.elapsed();
        check_anytime(&w, &v, cap, &s);
        // The nudged subset sums defeat every bound (seconds to prove in a
        // release build); the multiple strongly correlated family can be
        // proven inside the deadline on a fast machine, which is right too.
        if family == Family::MultipleStronglyCorrelated && s.stopped.is_none() {
            continue;
        }
        assert_eq!(s.stopped, Some(Stop::Deadline), "{}", family.name());
        let gap = s.gap().expect("stopped");
        assert!(gap < 1e-3, "{}: gap {gap}", family.name());
        // Generous: a behaviour test, not a benchmark (debug builds on a
        // loaded machine).
        assert!(
            took < Duration::from_secs(20),
            "{}: {took:?}",
            family.name()
        );
    }
}

#[test]
fn a_passed_deadline_still_gives_at_least_the_greedy_fill() {
    let (w, v) = Family::NudgedSubsetSum.generate(10_000, 4_000, 2);
    let cap = 128_000;
    let limits = Limits {
        deadline: Some(Instant::now()),
        ..Limits::default()
    };
    let s = solve_within(&w, &v, cap, &limits);
    check_anytime(&w, &v, cap, &s);
    assert!(s.stopped.is_some());
    // The greedy fill by density, restated.
    let rule = Rule::new(&w, &v, cap);
    let greedy: u128 = rule.ranked[..rule.brk]
        .iter()
        .map(|&i| u128::from(v[i]))
        .sum();
    assert!(s.value >= greedy);
    // Dantzig's bound: no set is worth more than the capacity plus the
    // nudge.
    assert!(s.bound <= u128::from(cap) + 1);
}

#[test]
fn cancelling_stops_a_solve() {
    // Without limits this instance takes well over a minute.
    let (w, v) = Family::NudgedSubsetSum.generate(10_000, 4_000, 3);
    let cap = 1_000_001;
    let start = Instant::now();
    let polls = Cell::new(0);
    let cancel = || {
        polls.set(polls.get() + 1);
        start.elapsed() > Duration::from_millis(30)
    };
    let limits = Limits {
        cancel: Some(&cancel),
        ..Limits::default()
    };
    let s = solve_within(&w, &v, cap, &limits);
    check_anytime(&w, &v, cap, &s);
    assert_eq!(s.stopped, Some(Stop::Cancelled));
    assert!(polls.get() > 0);
    assert!(start.elapsed() < Duration::from_secs(20));
    // Cancelled before it starts: still an answer that fits.
    let at_once = || true;
    let limits = Limits {
        cancel: Some(&at_once),
        ..Limits::default()
    };
    let s = solve_within(&w, &v, cap, &limits);
    check_anytime(&w, &v, cap, &s);
    assert_eq!(s.stopped, Some(Stop::Cancelled));
}

#[test]
fn the_memory_cap_is_honoured() {
    let (w, v) = Family::NudgedSubsetSum.generate(10_000, 4_000, 4);
    let cap = 128_000;
    // The items' own arrays (ranking, expansion order, result): about
    // 40 bytes an item, besides the capped state lists and history.
    let fixed = 40 * w.len() + (64 << 10);
    for memory in [256 << 10, 2 << 20, 8 << 20] {
        let limits = Limits {
            memory: Some(memory),
            ..Limits::default()
        };
        let (s, peak) = peak_of(|| solve_within(&w, &v, cap, &limits));
        check_anytime(&w, &v, cap, &s);
        assert_eq!(s.stopped, Some(Stop::Memory), "cap {memory}");
        assert!(
            peak <= memory + fixed,
            "cap {memory}: peak {peak} over {}",
            memory + fixed
        );
        assert!(s.gap().expect("stopped") < 1e-3);
    }
    // The subset-sum bitsets stay within the cap too: under it they are
    // left out and the search stops at the cap instead.
    let (w, v) = Family::UnreachableSubsetSum.generate(10_000, 4_000, 4);
    let limits = Limits {
        memory: Some(2 << 20),
        ..Limits::default()
    };
    let (s, peak) = peak_of(|| solve_within(&w, &v, cap, &limits));
    check_anytime(&w, &v, cap, &s);
    assert!(peak <= (2 << 20) + fixed, "peak {peak}");
    // With room for them they prove the optimum.
    let s = solve_within(&w, &v, cap, &Limits::default());
    assert_eq!((s.stopped, s.value), (None, u128::from(cap) - 1));
}

#[test]
fn unlimited_limits_give_the_exact_answer() {
    for &family in Family::ALL {
        let (w, v) = family.generate(300, 400, 11);
        let s = solve_within(&w, &v, 9_000, &Limits::default());
        check_anytime(&w, &v, 9_000, &s);
        assert_eq!(s.stopped, None);
        assert_eq!(s.chosen, solve(&w, &v, 9_000));
        // Generous limits change nothing either.
        let limits = Limits {
            deadline: Some(Instant::now() + Duration::from_secs(3_600)),
            memory: Some(1 << 30),
            cancel: Some(&|| false),
        };
        assert_eq!(solve_within(&w, &v, 9_000, &limits), s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Stopped anywhere (a memory cap is looked at every step), the answer
    /// fits, is worth at most its bound, and the bound is at least the
    /// optimum; with no limit it is the exact answer.
    #[test]
    fn anytime_answers_fit_and_bound_the_optimum(
        family in prop::sample::select(
            [Family::ALL, Family::ADVERSARIAL].concat()
        ),
        seed in any::<u64>(),
        n in 0usize..120,
        cap in 0u64..4_000,
        memory in 0usize..20_000,
    ) {
        let (w, v) = family.generate(n, 300, seed);
        let limits = Limits { memory: Some(memory), ..Limits::default() };
        let s = solve_within(&w, &v, cap, &limits);
        check_anytime(&w, &v, cap, &s);
        let best = optimum(&w, &v, cap);
        prop_assert!(s.bound >= best, "bound {} under the optimum {}", s.bound, best);
        prop_assert!(s.value <= best);
        if s.stopped.is_none() {
            prop_assert_eq!(s.value, best);
            prop_assert_eq!(&s.chosen, &solve(&w, &v, cap));
        }
        let exact = solve_within(&w, &v, cap, &Limits::default());
        prop_assert_eq!(exact.stopped, None);
        prop_assert_eq!(exact.chosen, solve(&w, &v, cap));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn tiny_numbers_many_ties(
        w in prop::collection::vec(0u32..8, 0..=16),
        v in prop::collection::vec(0u64..5, 0..=16),
        cap in 0u64..40,
    ) {
        check_small(&w, &v, cap);
    }

    #[test]
    fn wide_numbers(
        w in prop::collection::vec(prop_oneof![0u32..100, any::<u32>()], 0..=14),
        v in prop::collection::vec(prop_oneof![0u64..100, any::<u64>()], 0..=14),
        cap in prop_oneof![
            0u64..500,
            any::<u64>(),
            (u64::from(u32::MAX) - 5)..(u64::from(u32::MAX) * 3),
        ],
    ) {
        check_small(&w, &v, cap);
    }

    #[test]
    fn values_on_a_line(
        w in prop::collection::vec(1u32..40, 0..=16),
        slope in 0u64..4,
        offset in 0u64..30,
        cap in 0u64..200,
    ) {
        let v: Vec<u64> = w.iter().map(|&x| u64::from(x) * slope + offset).collect();
        check_small(&w, &v, cap);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn medium_random(
        family in prop::sample::select(Family::ALL),
        seed in any::<u64>(),
        r in prop_oneof![Just(60u32), Just(250), Just(1_000)],
        cap in 0u64..6_000,
    ) {
        let (w, v) = family.generate(200, r, seed);
        check_medium(&w, &v, cap);
    }
}

/// The engine and the reports: an `optimal` section whose search a limit
/// stops reports its gap; proven ones and other strategies report none.
mod in_the_plan {
    use std::time::Duration;

    use tokenscope::engine::{
        Content, Item, ItemSet, OptimalLimits, PackContext, Plan, Section, Strategy, gap_percent,
        pack,
    };
    use tokenscope::report::{Format, ReportOptions, render_report};
    use tokenscope::tokens::{CountCache, Encoding, Tokenizer};

    use super::Family;

    const CL100K: Tokenizer = Tokenizer::Exact(Encoding::Cl100kBase);

    /// An item set of given counts: the nudged subset sum as tokens and
    /// priorities (`tokens / 1e6`), one `optimal` section.
    fn adversarial(n: usize, total: usize, strategy: Strategy) -> ItemSet {
        let (w, v) = Family::NudgedSubsetSum.generate(n, 4_000, 7);
        let mut set = ItemSet::default();
        set.budget.total = Some(total);
        set.budget.strategy = strategy;
        set.sections.push(Section::share("docs", 100.0));
        for (i, (&w, &v)) in w.iter().zip(&v).enumerate() {
            let mut item = Item::new(format!("i{i}"), "docs", "");
            item.content = Content::Given(w as usize);
            item.priority = v as f64 / 1e6;
            set.items.push(item);
        }
        set
    }

    fn run(set: &ItemSet, optimal: OptimalLimits) -> Plan {
        let cache = CountCache::new();
        let ctx = PackContext {
            optimal,
            ..PackContext::new(&CL100K, &cache)
        };
        pack(set, &ctx).expect("valid item set")
    }

    fn deadline(ms: u64) -> OptimalLimits {
        OptimalLimits {
            deadline: Some(Duration::from_millis(ms)),
            ..OptimalLimits::default()
        }
    }

    #[test]
    fn a_stopped_search_reports_its_gap() {
        let set = adversarial(10_000, 128_000, Strategy::Optimal);
        let plan = run(&set, deadline(50));
        let gap = plan.totals.optimality_gap.expect("stopped at the deadline");
        assert!(gap > 0.0 && gap < 1e-3, "gap {gap}");
        assert_eq!(plan.sections[0].optimality_gap, Some(gap));
        assert!(plan.totals.used <= 128_000);
        let json: serde_json::Value = serde_json::to_value(&plan).expect("serialises");
        assert_eq!(json["totals"]["optimality_gap"].as_f64(), Some(gap));
        assert_eq!(json["sections"][0]["optimality_gap"].as_f64(), Some(gap));
        let label = format!("gap {} (docs {})", gap_percent(gap), gap_percent(gap));
        assert_eq!(plan.optimality_label().as_deref(), Some(label.as_str()));
        let opts = ReportOptions::default();
        let text = render_report(&plan, Format::Text, &opts);
        assert!(
            text.contains(&format!("optimal not proven, {label}")),
            "{text}"
        );
        let md = render_report(&plan, Format::Markdown, &opts);
        assert!(
            md.contains(&format!("| Optimality | not proven, {label}")),
            "{md}"
        );
    }

    #[test]
    fn proven_plans_and_other_strategies_report_no_gap() {
        // Small enough to prove at once.
        let set = adversarial(40, 20_000, Strategy::Optimal);
        let plan = run(&set, deadline(2_000));
        assert_eq!(plan.totals.optimality_gap, None);
        assert_eq!(plan.sections[0].optimality_gap, None);
        let greedy = run(&adversarial(10_000, 128_000, Strategy::Greedy), deadline(0));
        assert_eq!(greedy.totals.optimality_gap, None);
        for plan in [&plan, &greedy] {
            let json: serde_json::Value = serde_json::to_value(plan).expect("serialises");
            assert!(json["totals"]["optimality_gap"].is_null());
            assert!(json["sections"][0]["optimality_gap"].is_null());
            let opts = ReportOptions::default();
            assert!(!render_report(plan, Format::Text, &opts).contains("not proven"));
            assert!(!render_report(plan, Format::Markdown, &opts).contains("Optimality"));
        }
    }

    #[test]
    fn gaps_read_as_percentages() {
        assert_eq!(gap_percent(0.0), "0%");
        assert_eq!(gap_percent(0.00035), "0.035%");
        assert_eq!(gap_percent(7.8e-6), "0.00078%");
        assert_eq!(gap_percent(0.123), "12%");
        assert_eq!(gap_percent(9.99998e-7), "0.00010%");
        assert_eq!(gap_percent(1e-9), "<0.000001%");
    }
}
