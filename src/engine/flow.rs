//! Steps 3–4 over all sections: select each section, let sections marked
//! `can_use_reserve` spill into the reserved pool, and reallocate unused
//! tokens (docs/engine.md §3–4).
//!
//! Terms, per section:
//! - *headroom*: budget minus used;
//! - *demand* for a pool of `P` tokens: the tokens beyond its headroom it
//!   needs to take the excluded units (out for `over_section_budget`,
//!   `below_cutoff` or `priority_cut`) that fit, in its strategy's order,
//!   within headroom plus `P` (for `strict`, up to the first that does not),
//!   plus any pinned overrun. A section with demand is a *receiver*.
//! - a *giver* is a section with headroom that it could not use even if it
//!   received every free token there is. Overflow modes play no part here:
//!   a section that truncates or degrades selects, gives and receives like
//!   one that drops, and its overflow item gets only what is left at the
//!   end (so `truncate` never keeps less than `drop` would).
//! - a section's *cap* is its `max`, or its absolute budget (`tokens`): it
//!   never grows past it by reallocation, though it may give what it does
//!   not use.
//!
//! Spill (always): the reserved pool goes to `can_use_reserve` receivers in
//! proportion to demand. Reallocation (when on): the givers' headroom and
//! what is left of the reserve go to all receivers by the reallocation mode
//! (`priority`: one receiver at a time, those in `reallocate_order` first,
//! then in declared order). Each grant is at most the receiver's demand; the
//! receiver selects again and keeps only the part of the grant its new
//! selection uses, so no granted token sits unused. When no receiver can use
//! its proportional or even part, the pool is offered one receiver at a time
//! instead. Rounds repeat until nothing moves, at most `MAX_ROUNDS` times;
//! every round that moves tokens uses them, so the free pool shrinks, and a
//! section that could not use its headroom with every free token never can
//! later, so tokens do not flow back and forth.
//!
//! The rounds only move tokens from sections that cannot use them; when
//! every section is short (the usual case with many sections) nothing moves
//! there. The [`fill`] step then pools every token still free and offers it
//! to excluded units across sections in the strategy's order, which makes
//! the plan maximal: no eligible excluded item fits in what is left.

use super::allocate::apportion;
use super::prepare::Prepared;
use super::select::{Rule, Selection, select};
use super::{ReallocateMode, Reason, Strategy, Transfer};

/// The bound on reallocation rounds per phase.
const MAX_ROUNDS: usize = 64;

/// The name transfers from the reserved pool carry as `from`.
pub(super) const RESERVED: &str = "reserved";

mod fill;

/// Budgets and selections of all sections while tokens move.
pub(super) struct Board<'a> {
    prep: &'a Prepared,
    rules: &'a [Rule],
    names: Vec<&'a str>,
    forbidden: Vec<bool>,
    /// Per section: the most its budget may grow to by reallocation (its
    /// `max`, or its absolute budget; `usize::MAX` for none).
    caps: Vec<usize>,
    /// The order in which sections pay for what others take from the pool.
    giver_order: Vec<usize>,
    /// Where in `giver_order` sections with headroom start.
    giver_cursor: usize,
    /// Transfers by (giver or `usize::MAX` for the reserve, receiver): their
    /// place in `transfers`.
    pairs: rustc_hash::FxHashMap<(usize, usize), usize>,
    /// Per section: current budget.
    pub budgets: Vec<usize>,
    /// Per section: current selection.
    pub selections: Vec<Selection>,
    /// What is left of the reserved pool.
    pub reserve_left: usize,
    /// Per section: tokens drawn from the reserved pool.
    pub from_reserve: Vec<usize>,
    /// Transfers in the order they happened.
    pub transfers: Vec<Transfer>,
}

/// Where pooled tokens come from.
#[derive(Clone, Copy, PartialEq)]
enum Source {
    Section(usize),
    Reserve,
}

impl<'a> Board<'a> {
    /// Selects every section with its allocated budget.
    pub fn new(
        prep: &'a Prepared,
        rules: &'a [Rule],
        names: Vec<&'a str>,
        budgets: Vec<usize>,
        caps: Vec<usize>,
        reserved: usize,
        forbidden: Vec<bool>,
    ) -> Self {
        let selections = prep
            .sections
            .iter()
            .zip(rules)
            .zip(&budgets)
            .map(|((su, rule), &b)| select(su, rule, b, &forbidden))
            .collect();
        let n = budgets.len();
        let from_reserve = vec![0; n];
        Board {
            prep,
            rules,
            names,
            forbidden,
            caps,
            giver_order: (0..n).collect(),
            giver_cursor: 0,
            pairs: Default::default(),
            budgets,
            selections,
            reserve_left: reserved,
            from_reserve,
            transfers: Vec::new(),
        }
    }

    /// The prepared units the board selects from.
    pub fn prepared(&self) -> &'a Prepared {
        self.prep
    }

    fn headroom(&self, s: usize) -> usize {
        self.budgets[s].saturating_sub(self.selections[s].used)
    }

    /// Extra tokens section `s` could use, given up to `pool` more.
    fn demand(&self, s: usize, pool: usize) -> usize {
        let su = &self.prep.sections[s];
        let sel = &self.selections[s];
        let rule = &self.rules[s];
        let head = self.headroom(s);
        let overrun = sel.used.saturating_sub(self.budgets[s]);
        // A pinned overrun must be covered before any unit can come in, and
        // the section never grows past its cap.
        let room = self.caps[s].saturating_sub(self.budgets[s]);
        let reach = head.saturating_add(pool.min(room).saturating_sub(overrun));
        let needs_frame = su.renders && !sel.framed;
        let order: &[u32] = match rule.strategy {
            Strategy::Greedy | Strategy::Strict => &su.ranked,
            Strategy::Density => &su.by_density,
            Strategy::Optimal | Strategy::Balanced => &su.by_priority,
        };
        let mut want = 0usize;
        let mut framed = !needs_frame;
        for &u in order {
            let u = u as usize;
            if sel.taken[u]
                || !matches!(
                    sel.reason[u],
                    Some(Reason::OverSectionBudget | Reason::BelowCutoff | Reason::PriorityCut)
                )
            {
                continue;
            }
            let unit = &su.units[u];
            let frame = if !framed && unit.renders {
                rule.frame
            } else {
                0
            };
            let cost = unit.cost.saturating_add(frame);
            if want.saturating_add(cost) <= reach {
                want = want.saturating_add(cost);
                framed |= unit.renders;
            } else if rule.strategy == Strategy::Strict {
                break;
            }
        }
        overrun.saturating_add(want.saturating_sub(head))
    }

    /// Tokens no section uses: every headroom and what is left of the
    /// reserve.
    pub fn free_tokens(&self) -> usize {
        (0..self.budgets.len())
            .map(|s| self.headroom(s))
            .fold(self.reserve_left, usize::saturating_add)
    }

    fn is_giver(&self, s: usize, free: usize) -> bool {
        let head = self.headroom(s);
        head > 0 && self.demand(s, free.saturating_sub(head)) == 0
    }

    /// The reserved pool spills into `can_use_reserve` sections.
    pub fn spill(&mut self) {
        for _ in 0..MAX_ROUNDS {
            if self.reserve_left == 0 {
                return;
            }
            let sources = vec![(Source::Reserve, self.reserve_left)];
            let allowed: Vec<bool> = self.rules.iter().map(|r| r.can_use_reserve).collect();
            if !self.round(&sources, &allowed, ReallocateMode::Proportional, &[]) {
                return;
            }
        }
    }

    /// Unused tokens of sections, and the rest of the reserve, flow to
    /// sections that still have excluded units.
    pub fn reallocate(&mut self, mode: ReallocateMode, order: &[String]) {
        let allowed = vec![true; self.budgets.len()];
        for _ in 0..MAX_ROUNDS {
            let free = self.free_tokens();
            let mut sources: Vec<(Source, usize)> = (0..self.budgets.len())
                .filter(|&s| self.is_giver(s, free))
                .map(|s| (Source::Section(s), self.headroom(s)))
                .collect();
            if self.reserve_left > 0 {
                sources.push((Source::Reserve, self.reserve_left));
            }
            let order: Vec<usize> = order
                .iter()
                .filter_map(|name| self.names.iter().position(|n| n == name))
                .collect();
            if !self.round(&sources, &allowed, mode, &order) {
                return;
            }
        }
    }

    /// One round: pool the sources, grant to receivers, select again.
    /// Returns whether any tokens moved.
    fn round(
        &mut self,
        sources: &[(Source, usize)],
        allowed: &[bool],
        mode: ReallocateMode,
        order: &[usize],
    ) -> bool {
        let pool = sources.iter().fold(0usize, |a, s| a.saturating_add(s.1));
        if pool == 0 {
            return false;
        }
        // A mask, not a list: with thousands of sections a lookup per
        // section in the list of givers made each round quadratic.
        let mut gives = vec![false; self.budgets.len()];
        for s in sources {
            if let Source::Section(s) = s.0 {
                gives[s] = true;
            }
        }
        let receivers: Vec<(usize, usize)> = (0..self.budgets.len())
            .filter(|&s| allowed[s] && !gives[s])
            .map(|s| (s, self.demand(s, pool)))
            .filter(|&(_, d)| d > 0)
            .collect();
        if receivers.is_empty() {
            return false;
        }
        let mut kept = match mode {
            ReallocateMode::Priority => self.grant_in_order(pool, &receivers, order),
            ReallocateMode::Proportional | ReallocateMode::Even => {
                let grants = distribute(pool, &receivers, mode);
                self.try_grants(&receivers, &grants)
            }
        };
        if kept.iter().all(|&k| k == 0) && mode != ReallocateMode::Priority {
            // No receiver could use its part: serve them one at a time so
            // the pool is not left unused.
            kept = self.grant_in_order(pool, &receivers, order);
        }
        if kept.iter().all(|&k| k == 0) {
            return false;
        }
        // Match sources to what receivers kept, in order: sections as
        // declared, then the reserve; receivers as declared.
        let mut src = sources.iter().copied().peekable();
        let mut src_left = sources.first().map_or(0, |s| s.1);
        for (&(r, _), &keep) in receivers.iter().zip(&kept) {
            let mut need = keep;
            while need > 0 {
                let Some(&(source, _)) = src.peek() else {
                    break;
                };
                let moved = need.min(src_left);
                if moved > 0 {
                    self.transfer(source, r, moved);
                    need -= moved;
                    src_left -= moved;
                }
                if src_left == 0 {
                    src.next();
                    src_left = src.peek().map_or(0, |s| s.1);
                }
            }
        }
        true
    }

    /// Selects each receiver again with its grant; keeps of each grant only
    /// what the new selection uses (the rest stays with the sources).
    /// Returns what each receiver keeps; budgets change in `transfer`.
    fn try_grants(&mut self, receivers: &[(usize, usize)], grants: &[usize]) -> Vec<usize> {
        receivers
            .iter()
            .zip(grants)
            .map(|(&(r, _), &grant)| self.try_grant(r, grant))
            .collect()
    }

    /// Grants to receivers one at a time (sections named in `order` first,
    /// then as declared), each up to its demand, from what earlier ones left.
    fn grant_in_order(
        &mut self,
        pool: usize,
        receivers: &[(usize, usize)],
        order: &[usize],
    ) -> Vec<usize> {
        let mut rank: Vec<usize> = (0..receivers.len()).collect();
        rank.sort_by_key(|&i| {
            let s = receivers[i].0;
            (order.iter().position(|&o| o == s).unwrap_or(usize::MAX), s)
        });
        let mut kept = vec![0usize; receivers.len()];
        let mut left = pool;
        for i in rank {
            if left == 0 {
                break;
            }
            let (r, demand) = receivers[i];
            kept[i] = self.try_grant(r, demand.min(left));
            left -= kept[i];
        }
        kept
    }

    /// Selects section `r` with `grant` more tokens and returns how many of
    /// them the selection uses; the selection is updated for that amount.
    fn try_grant(&mut self, r: usize, grant: usize) -> usize {
        if grant == 0 {
            return 0;
        }
        let su = &self.prep.sections[r];
        let rule = &self.rules[r];
        let budget = self.budgets[r];
        let with = select(su, rule, budget.saturating_add(grant), &self.forbidden);
        let keep = with.used.saturating_sub(budget).min(grant);
        if keep == grant {
            self.selections[r] = with;
        } else if keep > 0 {
            self.selections[r] = select(su, rule, budget + keep, &self.forbidden);
        }
        keep
    }

    fn transfer(&mut self, source: Source, to: usize, tokens: usize) {
        let from = match source {
            Source::Section(s) => {
                self.budgets[s] -= tokens;
                self.names[s]
            }
            Source::Reserve => {
                self.reserve_left -= tokens;
                self.from_reserve[to] += tokens;
                RESERVED
            }
        };
        self.budgets[to] += tokens;
        // Rounds and the fill may move tokens between the same two sections
        // more than once: the plan lists each pair once, with what moved in
        // all (found through a map, so many sections stay linear).
        let key = match source {
            Source::Section(g) => (g, to),
            Source::Reserve => (usize::MAX, to),
        };
        match self.pairs.get(&key) {
            Some(&i) => self.transfers[i].tokens += tokens,
            None => {
                self.pairs.insert(key, self.transfers.len());
                self.transfers.push(Transfer {
                    from: from.to_string(),
                    to: self.names[to].to_string(),
                    tokens,
                });
            }
        }
    }
}

/// The unit a section's overflow mode would cut or degrade: the best
/// (priority, then input order) excluded unit that did not fit and renders
/// text: one item, or a whole group that lies in this section alone (a
/// tool call and its result: its largest member is cut, the others are
/// kept whole; see `overflow::apply`). A group that spans sections or is
/// out as a whole is never a candidate. For `strict` it can only be the
/// unit at the cutoff, so that nothing after the cutoff comes in.
pub(super) fn overflow_candidate(
    prep: &Prepared,
    s: usize,
    sel: &Selection,
    strategy: Strategy,
) -> Option<usize> {
    let su = &prep.sections[s];
    let eligible = |u: usize| {
        let unit = &su.units[u];
        unit.renders
            && match unit.group {
                None => unit.members.len() == 1,
                Some(g) => {
                    let group = &prep.groups[g as usize];
                    group.units.len() == 1 && !group.broken
                }
            }
    };
    if strategy == Strategy::Strict {
        return su
            .ranked
            .iter()
            .map(|&u| u as usize)
            .find(|&u| sel.reason[u] == Some(Reason::OverSectionBudget))
            .filter(|&u| eligible(u));
    }
    su.by_priority.iter().map(|&u| u as usize).find(|&u| {
        !sel.taken[u]
            && matches!(
                sel.reason[u],
                Some(Reason::OverSectionBudget | Reason::BelowCutoff)
            )
            && eligible(u)
    })
}

/// Splits `pool` among receivers `(section, demand)` in proportion to
/// demand or evenly; no part exceeds its demand.
fn distribute(pool: usize, receivers: &[(usize, usize)], mode: ReallocateMode) -> Vec<usize> {
    let demands: Vec<usize> = receivers.iter().map(|r| r.1).collect();
    let total: u128 = demands.iter().map(|&d| d as u128).sum();
    if total <= pool as u128 {
        return demands;
    }
    if mode == ReallocateMode::Proportional {
        // pool < total, so each part (floor or ceiling of pool * d / total)
        // is at most d.
        let weights: Vec<f64> = demands.iter().map(|&d| d as f64).collect();
        let mut parts = apportion(pool, &weights);
        for (p, &d) in parts.iter_mut().zip(&demands) {
            *p = (*p).min(d);
        }
        return parts;
    }
    let mut parts = vec![0usize; demands.len()];
    let mut left = pool;
    loop {
        let open: Vec<usize> = (0..demands.len())
            .filter(|&i| parts[i] < demands[i])
            .collect();
        if open.is_empty() || left == 0 {
            return parts;
        }
        let shares = apportion(left, &vec![1.0; open.len()]);
        for (&i, share) in open.iter().zip(shares) {
            let give = share.min(demands[i] - parts[i]);
            parts[i] += give;
            left -= give;
        }
    }
}
