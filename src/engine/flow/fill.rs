//! The maximal fill: the last step of reallocation (docs/engine.md §4).
//!
//! The rounds in [`super`] move tokens between sections by the reallocation
//! mode, but only from sections that could not use them. What is still free
//! after them (every section's headroom and what is left of the reserved
//! pool) is pooled and offered to the excluded units of all sections in the
//! strategy's order:
//!
//! - `greedy`, `strict`, `balanced`: priority, highest first;
//! - `density`, `optimal`: priority per token, highest first (the order in
//!   which an exact knapsack's relaxation fills);
//!
//! ties by section in declared order, then by the section's own order. Each
//! section keeps its own order among its units (its strategy's ranking), so
//! the offers are a merge of the sections' queues. A unit is taken when the
//! tokens it needs fit in the pool and in its section's cap; otherwise it is
//! skipped, except in a `strict` section, which stops at its first miss
//! (the rest stay `below_cutoff`). A group that spans sections is offered
//! whole, when its first unit comes up.
//!
//! A taken unit is paid from its section's own headroom first, then from
//! the headroom of other sections (those with nothing left to take first,
//! then those whose best remaining unit comes last in the order, so tokens
//! rarely pass through a section twice), then from the reserve;
//! each such move is a transfer (moves between the same two sections in this
//! step are reported as one).
//!
//! What this guarantees, and the property tests check: afterwards no
//! excluded unit that is *eligible* (out for `over_section_budget` in a
//! non-`strict` section, or at a `strict` section's cutoff; not pinned out,
//! a duplicate, under `min_priority`, cut by `priority-cut`, of priority 0
//! under `optimal`, or in a group that was excluded) fits in the free tokens
//! and its section's cap. Since free tokens only shrink and caps only
//! tighten as units are taken, a unit that did not fit when it was offered
//! never fits later.
//!
//! Caps: a section never grows past its `max`, and a section with an
//! absolute budget (`tokens`) never grows past it; both may give what they
//! do not use. Covering a pinned overrun ignores the cap (pinned items are
//! in whatever the budget).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::{Board, Source};
use crate::engine::{Reason, Strategy};

/// A section's next unit in the merge.
struct Head {
    key: f64,
    section: usize,
    pos: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    /// The max-heap pops the highest key, then the earliest section, then
    /// the earliest position.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .total_cmp(&other.key)
            .then(other.section.cmp(&self.section))
            .then(other.pos.cmp(&self.pos))
    }
}

/// Whether an excluded unit with this reason may still come in.
fn open(reason: Option<Reason>) -> bool {
    matches!(
        reason,
        Some(Reason::OverSectionBudget | Reason::BelowCutoff)
    )
}

impl Board<'_> {
    /// Tokens section `s` may still take: its headroom, plus (when tokens
    /// are pooled) the other sections' headroom and the reserve, within its
    /// cap, given `free` (the board's [`Board::free_tokens`]). A pinned
    /// overrun is subtracted.
    pub fn spare_for(&self, s: usize, pooled: bool, free: usize) -> usize {
        let own = self.headroom(s);
        if !pooled {
            return own;
        }
        let overrun = self.selections[s].used.saturating_sub(self.budgets[s]);
        let others = free.saturating_sub(own);
        let room = self.caps[s].saturating_sub(self.budgets[s]);
        own.saturating_add(others.min(room)).saturating_sub(overrun)
    }

    /// Charges `cost` more tokens to section `s`, covering what its budget
    /// lacks from the pool (see [`Board::cover`]). Returns how much the
    /// free tokens shrank.
    ///
    /// Free tokens are `Σ max(0, budget - used) + reserve`, and budgets plus
    /// the reserve only move between themselves, so they shrink by the
    /// growth of `min(budget, used)` summed over sections. A giver gives at
    /// most its headroom, which leaves its `min` alone, so only `s` counts.
    pub fn charge(&mut self, s: usize, cost: usize) -> usize {
        let settled = |b: &Self| b.budgets[s].min(b.selections[s].used);
        let before = settled(self);
        let used = self.selections[s].used.saturating_add(cost);
        self.selections[s].used = used;
        let need = used.saturating_sub(self.budgets[s]);
        self.cover(s, need);
        settled(self) - before
    }

    /// Moves up to `amount` tokens to section `s`: from other sections'
    /// headroom in `giver_order`, then from the reserve. Headroom only
    /// shrinks while tokens are pooled, so sections at the front of the
    /// order that have none left are passed over for good.
    fn cover(&mut self, s: usize, amount: usize) {
        let mut left = amount;
        while self.giver_cursor < self.giver_order.len()
            && self.headroom(self.giver_order[self.giver_cursor]) == 0
        {
            self.giver_cursor += 1;
        }
        for k in self.giver_cursor..self.giver_order.len() {
            if left == 0 {
                return;
            }
            let g = self.giver_order[k];
            if g == s {
                continue;
            }
            let head = self.headroom(g);
            if head > 0 {
                let moved = head.min(left);
                self.transfer(Source::Section(g), s, moved);
                left -= moved;
            }
        }
        if left > 0 && self.reserve_left > 0 {
            let moved = self.reserve_left.min(left);
            self.transfer(Source::Reserve, s, moved);
        }
    }

    /// Pinned overruns are covered from the pool as far as it goes.
    fn cover_overruns(&mut self) {
        let mut free = self.free_tokens();
        for s in 0..self.budgets.len() {
            let over = self.selections[s].used.saturating_sub(self.budgets[s]);
            if over > 0 {
                let moved = over.min(free.saturating_sub(self.headroom(s)));
                self.cover(s, moved);
                free -= moved;
            }
        }
    }

    /// The maximal fill (see the module docs).
    pub fn fill(&mut self, strategy: Strategy) {
        let prep = self.prep;
        let by_density = matches!(strategy, Strategy::Density | Strategy::Optimal);
        let queues: Vec<Vec<u32>> = (0..self.budgets.len())
            .map(|s| {
                let sel = &self.selections[s];
                self.order(s)
                    .iter()
                    .copied()
                    // Units that cost nothing (an empty item) are offered
                    // too: in a `strict` section, skipping one would let the
                    // units after it in while it stays out.
                    .filter(|&u| !sel.taken[u as usize] && open(sel.reason[u as usize]))
                    .collect()
            })
            .collect();
        let key = |s: usize, u: u32| {
            let unit = &prep.sections[s].units[u as usize];
            if by_density {
                if unit.cost == 0 {
                    f64::INFINITY
                } else {
                    unit.priority / unit.cost as f64
                }
            } else {
                unit.priority
            }
        };
        // Sections pay in the order they are least likely to need their
        // tokens: those with nothing left to take first, then by their best
        // open unit, lowest first; ties: the later section first.
        let best: Vec<f64> = queues
            .iter()
            .enumerate()
            .map(|(s, q)| {
                q.iter()
                    .map(|&u| key(s, u))
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect();
        let mut givers: Vec<usize> = (0..self.budgets.len()).collect();
        givers.sort_by(|&a, &b| best[a].total_cmp(&best[b]).then(b.cmp(&a)));
        self.giver_order = givers;
        self.giver_cursor = 0;
        self.cover_overruns();
        let mut heap: BinaryHeap<Head> = queues
            .iter()
            .enumerate()
            .filter(|(_, q)| !q.is_empty())
            .map(|(s, q)| Head {
                key: key(s, q[0]),
                section: s,
                pos: 0,
            })
            .collect();
        let mut free = self.free_tokens();
        while let Some(Head {
            section: s, pos, ..
        }) = heap.pop()
        {
            if free == 0 {
                break;
            }
            let u = queues[s][pos] as usize;
            let strict = self.rules[s].strategy == Strategy::Strict;
            let mut stop = false;
            if !self.selections[s].taken[u] && open(self.selections[s].reason[u]) {
                if let Some(consumed) = self.offer(s, u, free) {
                    free = free.saturating_sub(consumed);
                } else if strict {
                    self.selections[s].reason[u] = Some(Reason::OverSectionBudget);
                    stop = true;
                }
            }
            if !stop && pos + 1 < queues[s].len() {
                heap.push(Head {
                    key: key(s, queues[s][pos + 1]),
                    section: s,
                    pos: pos + 1,
                });
            }
        }
    }

    /// Takes unit `u` of section `s` (and the rest of its group when the
    /// group spans sections) if what it needs fits in its sections' caps and
    /// the `free` tokens. Returns how much the free tokens shrank when it
    /// did.
    fn offer(&mut self, s: usize, u: usize, free: usize) -> Option<usize> {
        let prep = self.prep;
        let unit = &prep.sections[s].units[u];
        let parts: Vec<(usize, usize)> = match unit.group {
            Some(g) if prep.groups[g as usize].units.len() > 1 => prep.groups[g as usize]
                .units
                .iter()
                .map(|&(gs, gu)| (gs as usize, gu as usize))
                .collect(),
            _ => vec![(s, u)],
        };
        // What each section involved needs beyond its budget, with its frame
        // when nothing of it renders yet.
        let mut extra: Vec<(usize, usize)> = Vec::new();
        for &(ps, pu) in &parts {
            let sel = &self.selections[ps];
            if sel.taken[pu] || !open(sel.reason[pu]) {
                return None;
            }
            if ps != s && self.rules[ps].strategy == Strategy::Strict && !self.at_cutoff(ps, pu) {
                return None;
            }
            let punit = &prep.sections[ps].units[pu];
            let cost = match extra.iter_mut().find(|e| e.0 == ps) {
                Some(e) => {
                    e.1 = e.1.saturating_add(punit.cost);
                    continue;
                }
                None => punit.cost,
            };
            extra.push((ps, cost));
        }
        for e in &mut extra {
            let (ps, _) = *e;
            let renders = parts
                .iter()
                .any(|&(qs, qu)| qs == ps && prep.sections[qs].units[qu].renders);
            if renders && !self.selections[ps].framed {
                e.1 = e.1.saturating_add(self.rules[ps].frame);
            }
        }
        let mut pool_need = 0usize;
        for &(ps, cost) in &extra {
            let sel = &self.selections[ps];
            let need = sel
                .used
                .saturating_add(cost)
                .saturating_sub(self.budgets[ps]);
            if need > self.caps[ps].saturating_sub(self.budgets[ps]) {
                return None;
            }
            pool_need = pool_need.saturating_add(need);
        }
        let own: usize = extra.iter().map(|&(ps, _)| self.headroom(ps)).sum();
        if pool_need > free.saturating_sub(own) {
            return None;
        }
        for &(ps, pu) in &parts {
            let sel = &mut self.selections[ps];
            sel.taken[pu] = true;
            sel.reason[pu] = None;
            sel.framed |= prep.sections[ps].units[pu].renders;
        }
        Some(
            extra
                .into_iter()
                .map(|(ps, cost)| self.charge(ps, cost))
                .sum(),
        )
    }

    /// Whether unit `u` is the first open unit of strict section `s`.
    fn at_cutoff(&self, s: usize, u: usize) -> bool {
        let sel = &self.selections[s];
        self.prep.sections[s]
            .ranked
            .iter()
            .map(|&x| x as usize)
            .find(|&x| !sel.taken[x] && open(sel.reason[x]))
            == Some(u)
    }

    /// Section `s`'s units in its strategy's order.
    fn order(&self, s: usize) -> &[u32] {
        let su = &self.prep.sections[s];
        match self.rules[s].strategy {
            Strategy::Greedy | Strategy::Strict => &su.ranked,
            Strategy::Density => &su.by_density,
            Strategy::Optimal | Strategy::Balanced => &su.by_priority,
        }
    }
}
