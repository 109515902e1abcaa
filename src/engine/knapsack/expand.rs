//! The expanding-core search (see the module documentation of
//! [`knapsack`](super) for the idea and the tie rule it implements).

use std::ops::{Add, Sub};

use super::bound::{Outlook, Rate};
use super::cardinality::{Counts, Lagrange};
use super::control::{CHECK_EVERY, Control};
use super::filter::{Bounds, Exact, Fast, Filter};
use super::rank::{Ranked, expansion};
use super::subset::SubsetSum;
use super::trace::{BLOCK, SAVED_STATE_BYTES, Trace};

/// The integer type state values are summed in: `u64` when the candidates'
/// total value fits, `u128` otherwise.
pub(super) trait Value: Copy + Ord + Add<Output = Self> + Sub<Output = Self> {
    /// Zero.
    const ZERO: Self;
    /// Converts an item value.
    fn from_u64(v: u64) -> Self;
    /// Widens for bound arithmetic.
    fn wide(self) -> u128;
}

impl Value for u64 {
    const ZERO: Self = 0;
    fn from_u64(v: u64) -> Self {
        v
    }
    fn wide(self) -> u128 {
        u128::from(self)
    }
}

impl Value for u128 {
    const ZERO: Self = 0;
    fn from_u64(v: u64) -> Self {
        u128::from(v)
    }
    fn wide(self) -> u128 {
        self
    }
}

/// The greedy fill changed on some candidates of the core: total weight,
/// value and item count, and the changes made in the current block (one
/// bit per step).
#[derive(Debug, Clone, Copy)]
struct State<V> {
    weight: u64,
    value: V,
    word: u64,
    count: u32,
}

/// The best feasible set found so far, and where to rebuild it from.
#[derive(Debug, Clone, Copy)]
struct Best {
    weight: u64,
    value: u128,
    word: u64,
    block: usize,
}

/// How to run the search.
#[derive(Clone, Copy)]
pub(super) struct Options<'a> {
    /// Use the fast thresholds (magnitudes small enough, see [`Fast`]).
    pub(super) fast: bool,
    /// Bring in the count bounds once the search has carried this many
    /// states through steps.
    pub(super) count_bounds_after: usize,
    /// `(work, subset_sum)`: hand a subset-sum instance to the bitsets once
    /// the search has carried `work` states.
    pub(super) hand_over: Option<(usize, &'a SubsetSum<'a>)>,
}

/// What the search found: the ranked positions chosen and, when a limit
/// stopped it before it proved them best, an upper bound on the value of
/// every set that fits (in ranked values).
pub(super) struct Found {
    pub(super) taken: Vec<usize>,
    pub(super) bound: Option<u128>,
}

/// How a run of the search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// No state can beat the best set: it is the answer.
    Proved,
    /// It did the work it was given before handing over.
    GaveUp,
    /// A limit of the [`Control`] stopped it.
    Stopped,
}

/// Solves the ranked instance; `capacity` is less than the total candidate
/// weight. Exact unless `control` stops it first; then the best set found
/// so far, with a bound.
pub(super) fn solve<V: Value>(
    ranked: &Ranked,
    capacity: u64,
    options: Options<'_>,
    control: &Control<'_>,
) -> Found {
    let mut search = Search::<V>::new(ranked, capacity, options.fast);
    search.count_bounds_after = options.count_bounds_after;
    if !control.unlimited() {
        search.control = Some(control);
    }
    if let Some((work, _)) = options.hand_over {
        search.give_up_after = work;
    }
    let mut ended = search.run();
    if ended == Ended::GaveUp
        && let Some((_, subset_sum)) = options.hand_over
        && subset_sum.bytes() <= control.memory().saturating_sub(search.memory_after_step())
        && let Some(taken) = subset_sum.solve(control)
    {
        return Found { taken, bound: None };
    }
    // No bitsets, or they could not finish in time: go on searching.
    if ended == Ended::GaveUp {
        search.give_up_after = usize::MAX;
        ended = search.run();
    }
    let taken = search.rebuild();
    match ended {
        Ended::Stopped => Found {
            taken,
            bound: Some(search.upper()),
        },
        _ => Found { taken, bound: None },
    }
}

struct Search<'a, V> {
    ranked: &'a Ranked,
    /// The limits, when there are any.
    control: Option<&'a Control<'a>>,
    capacity: u64,
    /// Bound arithmetic fits in `i128` without checks.
    fast: bool,
    /// The break item's position: the greedy fill is positions `..brk`.
    brk: usize,
    /// The greedy fill's weight.
    fill_weight: u64,
    best: Best,
    /// The ranked position handled at each step: the expansion order.
    order: Vec<usize>,
    /// Steps done.
    steps: usize,
    trace: Trace,
    states: Vec<State<V>>,
    spare: Vec<State<V>>,
    /// The next candidate right of the core.
    next_right: usize,
    /// The next candidate left of the core is `next_left - 1`.
    next_left: usize,
    /// Total weight of positions `..next_left`: all a state can still remove.
    left_weight: u64,
    /// States carried through steps so far.
    work: usize,
    counts: Option<Counts>,
    lagrange: Option<Lagrange>,
    /// `Σ max(0, rho)` over free right candidates plus `Σ max(0, −rho)` over
    /// free left ones.
    free_rho: i128,
    count_bounds_after: usize,
    give_up_after: usize,
}

impl<'a, V: Value> Search<'a, V> {
    fn new(ranked: &'a Ranked, capacity: u64, fast: bool) -> Self {
        let mut weight = 0u64;
        let mut value = V::ZERO;
        let mut brk = 0;
        while brk < ranked.len() && weight + ranked.weight[brk] <= capacity {
            weight += ranked.weight[brk];
            value = value + V::from_u64(ranked.value[brk]);
            brk += 1;
        }
        let mut search = Search {
            ranked,
            control: None,
            capacity,
            fast,
            brk,
            fill_weight: weight,
            best: Best {
                weight,
                value: value.wide(),
                word: 0,
                block: 0,
            },
            order: expansion(ranked.len(), brk),
            steps: 0,
            trace: Trace::default(),
            states: Vec::new(),
            spare: Vec::new(),
            next_right: brk,
            next_left: brk,
            left_weight: weight,
            work: 0,
            counts: None,
            lagrange: None,
            free_rho: 0,
            count_bounds_after: usize::MAX,
            give_up_after: usize::MAX,
        };
        let count = u32::try_from(brk).unwrap_or(u32::MAX);
        let bounds = search.bounds();
        let keep = if fast {
            Fast::new(&bounds, weight, value.wide()).keep(weight, value.wide(), count)
        } else {
            Exact::new(&bounds, weight, value.wide()).keep(weight, value.wide(), count)
        };
        if keep {
            search.states.push(State {
                weight,
                value,
                word: 0,
                count,
            });
        }
        search
    }

    /// What states can still do beyond the current core.
    fn bounds(&self) -> Bounds<'_> {
        let r = self.ranked;
        Bounds {
            outlook: Outlook {
                add: (self.next_right < r.len())
                    .then(|| Rate::new(r.weight[self.next_right], r.value[self.next_right])),
                remove: (self.next_left > 0)
                    .then(|| Rate::new(r.weight[self.next_left - 1], r.value[self.next_left - 1])),
                removable: self.left_weight,
            },
            capacity: self.capacity,
            counts: self.counts.as_ref(),
            lagrange: self.lagrange.as_ref().map(|l| (l, self.free_rho)),
        }
    }

    /// Widens the core until no state can beat the best set, the work given
    /// is done, or a limit stops it.
    fn run(&mut self) -> Ended {
        while !self.states.is_empty() && self.steps < self.order.len() {
            if self.work + self.states.len() > self.give_up_after {
                return Ended::GaveUp;
            }
            if let Some(control) = self.control
                && (control.tick(self.states.len() + 1).is_some()
                    || control.over_memory(self.memory_after_step()))
            {
                return Ended::Stopped;
            }
            self.work += self.states.len();
            if self.counts.is_none() && self.work >= self.count_bounds_after {
                self.bring_in_count_bounds();
            }
            if !self.step() {
                return Ended::Stopped;
            }
        }
        Ended::Proved
    }

    /// About the most bytes the state lists and the saved history take
    /// during the next step.
    fn memory_after_step(&self) -> usize {
        let state = std::mem::size_of::<State<V>>();
        let saving = if self.steps > 0 && self.steps.is_multiple_of(BLOCK) {
            self.states.len() * SAVED_STATE_BYTES
        } else {
            0
        };
        let out = self.spare.capacity().max(2 * self.states.len());
        self.trace.bytes() + saving + (self.states.capacity() + out) * state
    }

    /// An upper bound on the value of every set that fits, from the states
    /// left (the ones pruned or dominated cannot beat the best set).
    fn upper(&self) -> u128 {
        let outlook = self.bounds().outlook;
        self.states
            .iter()
            .filter_map(|s| outlook.upper(s.weight, s.value.wide(), self.capacity))
            .fold(self.best.value, u128::max)
    }

    /// Adds the count certificates and the Lagrangian bound.
    fn bring_in_count_bounds(&mut self) {
        let counts = Counts::new(self.ranked);
        let k_min = counts.fewest(self.best.value + 1);
        let k_max = counts.most(self.capacity);
        // The greedy fill plus part of the break item solves the plain linear
        // relaxation, with between `brk` and `brk + 1` items; unless that
        // breaks a count limit, the Lagrangian bound is no better than the
        // linear one.
        let part = self.fill_weight < self.capacity;
        let breaks_limit = (part && self.brk >= k_max) || self.brk < k_min;
        if self.fast && breaks_limit {
            let control = self.control;
            let stop = move || control.is_some_and(|c| c.look().is_some());
            self.lagrange = Lagrange::new(self.ranked, self.capacity, k_min, k_max, &stop);
        }
        if let Some(l) = &self.lagrange {
            let right: i128 = l.rho[self.next_right..].iter().map(|&r| r.max(0)).sum();
            let left: i128 = l.rho[..self.next_left].iter().map(|&r| (-r).max(0)).sum();
            self.free_rho = right + left;
        }
        self.counts = Some(counts);
    }

    /// One step: the next candidate in expansion order joins the core.
    /// `false` when a limit stopped it halfway: the state list and the core
    /// are then as before the step (the best set may be newer).
    fn step(&mut self) -> bool {
        let before = (
            self.next_right,
            self.next_left,
            self.left_weight,
            self.free_rho,
        );
        let step = self.steps;
        self.steps += 1;
        let pos = self.order[step];
        let right = pos >= self.brk;
        if step > 0 && step.is_multiple_of(BLOCK) {
            self.trace
                .close_block(self.states.iter().map(|s| (s.weight, s.word)));
            for s in &mut self.states {
                s.word = 0;
            }
        }
        if right {
            self.next_right = pos + 1;
        } else {
            self.next_left = pos;
            self.left_weight -= self.ranked.weight[pos];
        }
        if let Some(l) = &self.lagrange {
            let rho = l.rho[pos];
            self.free_rho -= if right { rho.max(0) } else { (-rho).max(0) };
        }
        let dw = self.ranked.weight[pos];
        let dv = V::from_u64(self.ranked.value[pos]);
        let bit = 1u64 << (step % BLOCK);
        let spare = std::mem::take(&mut self.spare);
        let (best, out, done) = if self.fast {
            self.merge::<Fast>(right, dw, dv, bit, step / BLOCK, spare)
        } else {
            self.merge::<Exact>(right, dw, dv, bit, step / BLOCK, spare)
        };
        self.best = best;
        if !done {
            (
                self.next_right,
                self.next_left,
                self.left_weight,
                self.free_rho,
            ) = before;
            self.spare = out;
            return false;
        }
        self.spare = std::mem::replace(&mut self.states, out);
        true
    }

    /// Merges the states with the states changed on the step's candidate
    /// (weight `dw`, value `dv`, added on the right, removed on the left).
    fn merge<F: Filter>(
        &self,
        right: bool,
        dw: u64,
        dv: V,
        bit: u64,
        block: usize,
        out: Vec<State<V>>,
    ) -> (Best, Vec<State<V>>, bool) {
        let bounds = self.bounds();
        let mut merge = Merge {
            filter: F::new(&bounds, self.best.weight, self.best.value),
            bounds,
            best: self.best,
            block,
            out,
            control: self.control,
            done: true,
        };
        if right {
            // Add the candidate. Every state is a set of candidates and
            // weighs at most their total (below 2^64), so nothing overflows.
            merge.run(&self.states, |s| State {
                weight: s.weight + dw,
                value: s.value + dv,
                word: s.word | bit,
                count: s.count + 1,
            });
        } else {
            // Remove it: every state still holds it, so nothing underflows.
            merge.run(&self.states, |s| State {
                weight: s.weight - dw,
                value: s.value - dv,
                word: s.word | bit,
                count: s.count - 1,
            });
        }
        (merge.best, merge.out, merge.done)
    }

    /// The ranked positions of the best set.
    fn rebuild(&self) -> Vec<usize> {
        let r = self.ranked;
        let mut take: Vec<bool> = (0..r.len()).map(|pos| pos < self.brk).collect();
        let Best {
            mut weight,
            mut word,
            mut block,
            ..
        } = self.best;
        loop {
            while word != 0 {
                let pos = self.order[block * BLOCK + word.trailing_zeros() as usize];
                word &= word - 1;
                take[pos] = !take[pos];
                if pos >= self.brk {
                    weight -= r.weight[pos];
                } else {
                    weight += r.weight[pos];
                }
            }
            if block == 0 {
                break;
            }
            block -= 1;
            // The state's ancestor was in the list saved at the end of the
            // previous block, under its (unique) weight.
            match self.trace.word(block, weight) {
                Some(w) => word = w,
                None => {
                    debug_assert!(false, "lost the state of weight {weight} in block {block}");
                    break;
                }
            }
        }
        debug_assert_eq!(weight, self.fill_weight);
        (0..r.len()).filter(|&pos| take[pos]).collect()
    }
}

/// One step's merge of the unchanged states with the changed ones.
struct Merge<'a, V, F> {
    bounds: Bounds<'a>,
    filter: F,
    best: Best,
    block: usize,
    out: Vec<State<V>>,
    /// Looked at every [`CHECK_EVERY`] states of a long merge.
    control: Option<&'a Control<'a>>,
    /// `false` when a limit stopped the merge halfway.
    done: bool,
}

impl<V: Value, F: Filter> Merge<'_, V, F> {
    /// Merges `states` (increasing weight and value) with `shift` applied to
    /// each (also increasing), keeping the non-dominated states worth
    /// keeping, in increasing weight, and updating the best set.
    #[inline(always)]
    fn run(&mut self, states: &[State<V>], shift: impl Fn(&State<V>) -> State<V>) {
        self.out.clear();
        let n = states.len();
        let (mut i, mut k) = (0, 0);
        let mut last: Option<V> = None;
        let mut countdown = CHECK_EVERY;
        while i < n || k < n {
            countdown -= 1;
            if countdown == 0 {
                countdown = CHECK_EVERY;
                if self.control.is_some_and(|c| c.look().is_some()) {
                    self.done = false;
                    return;
                }
            }
            let next = if k == n {
                i += 1;
                states[i - 1]
            } else {
                let c = shift(&states[k]);
                if i == n || c.weight < states[i].weight {
                    k += 1;
                    c
                } else if states[i].weight < c.weight {
                    i += 1;
                    states[i - 1]
                } else {
                    // Equal weight: the larger value; on a full tie the
                    // unchanged state, which agrees with the greedy fill here.
                    let a = states[i];
                    i += 1;
                    k += 1;
                    if c.value > a.value { c } else { a }
                }
            };
            // Dominated by a lighter (or equal) state of at least this value.
            if last.is_some_and(|v| next.value <= v) {
                continue;
            }
            last = Some(next.value);
            let value = next.value.wide();
            if next.weight <= self.bounds.capacity
                && (value > self.best.value
                    || (value == self.best.value && next.weight < self.best.weight))
            {
                self.best = Best {
                    weight: next.weight,
                    value,
                    word: next.word,
                    block: self.block,
                };
                self.filter = F::new(&self.bounds, self.best.weight, self.best.value);
            }
            if self.filter.keep(next.weight, value, next.count) {
                self.out.push(next);
            }
        }
    }
}
