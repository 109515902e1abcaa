//! Byte-pair merging of a long run a chunk at a time, exact for any merge
//! rules.
//!
//! A sequence of tokens is the merge of its symbols if and only if every
//! two neighbours are the merge of their own symbols: then neither side's
//! merges ever see the other's, and the merge (lowest rank first, leftmost
//! on ties) picks, within each pair of neighbours, the same merges in the
//! same order as it does for the two alone, whatever happens elsewhere. This
//! holds for any ranks, including merges whose rank is lower than that of a
//! part they join, which the linear-time encoder cannot take.
//!
//! So the run is merged in short chunks, each in cache, and each seam
//! between the tokens so far and the next chunk's is checked by merging the
//! two tokens around it. A seam that fails is merged again in a window of
//! tokens around it, doubled until the window's own two seams hold.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

/// A token and the position of its first symbol.
pub(crate) type Placed<T> = (T, usize);

/// Runs of at least twice this many symbols are merged on every core, in
/// parts of about this many symbols ([`merge_in_chunks`]), unless
/// [`set_parallel_sizes`](super::chunks::set_parallel_sizes) says
/// otherwise.
pub(crate) const PARALLEL_RUN: usize = 1 << 18;

static RUN: AtomicUsize = AtomicUsize::new(PARALLEL_RUN);

pub(super) fn set_parallel_run(symbols: usize) {
    RUN.store(symbols, Ordering::Relaxed);
}

/// A chunk merged ahead of its turn, and its tokens: the `merge` of
/// [`merge_in_chunks`] can merge each whole chunk together with the one
/// after it, one merge of each in turn, so that the lookups of two merges
/// are in flight at once (the tables are megabytes, out of the CPU's cache
/// on text no model has seen, and each merge waits on its lookups).
pub(crate) struct Ahead<T> {
    range: Option<Range<usize>>,
    tokens: Vec<Placed<T>>,
}

impl<T> Default for Ahead<T> {
    fn default() -> Self {
        Ahead {
            range: None,
            tokens: Vec::new(),
        }
    }
}

impl<T: Copy> Ahead<T> {
    /// Appends the merge of `r` (of a run of `n` symbols cut in chunks of
    /// `chunk`) to `out`: the tokens kept when `r` was merged ahead; else,
    /// for a whole chunk with another after it, `two((r, next), (out,
    /// kept))`, which merges both and keeps the next one's tokens for its
    /// turn; else `one(r, out)`. A seam's window or the last chunk is merged
    /// alone; what is kept is the merge of its range, whatever asks for it.
    /// Both are given `cx`, the merge's scratch space.
    pub(crate) fn merge<C>(
        &mut self,
        (r, n, chunk): (Range<usize>, usize, usize),
        out: &mut Vec<Placed<T>>,
        cx: &mut C,
        one: impl FnOnce(&mut C, Range<usize>, &mut Vec<Placed<T>>),
        two: impl FnOnce(
            &mut C,
            (Range<usize>, Range<usize>),
            (&mut Vec<Placed<T>>, &mut Vec<Placed<T>>),
        ),
    ) {
        if self.range.as_ref() == Some(&r) {
            out.extend_from_slice(&self.tokens);
            self.range = None;
            return;
        }
        let next = r.end..(r.end + chunk).min(n);
        if r.len() != chunk || next.is_empty() {
            one(cx, r, out);
            return;
        }
        self.tokens.clear();
        two(cx, (r, next.clone()), (out, &mut self.tokens));
        self.range = Some(next);
    }
}

/// The merge of symbols `0..n`: `merge(range, out)` appends the merge of
/// the symbols in `range`, each token with its first symbol's position;
/// `holds(a, b, end)` tells whether tokens `a` then `b` (the latter ending
/// at symbol `end`) are the merge of their own symbols. `None` when a
/// seam's window grows past `max_window` symbols, or when the windows
/// merged again add up to more than four times the run so far (runs whose
/// tokens are longer than a chunk, such as long runs of spaces, whose
/// every seam fails): the caller then takes another merge.
///
/// A run of at least twice [`PARALLEL_RUN`] symbols is merged on every
/// core: it is cut into parts of about that many symbols, each part merged
/// in chunks on its own (with the `merge` and `holds` that `make` gives it,
/// so that each has its own scratch space), and the seams between the parts
/// are then made to hold with `merge` and `holds`, as those between chunks
/// are: the same tokens, by the same argument.
pub(crate) fn merge_in_chunks<T, M, H, PM, PH>(
    n: usize,
    chunk: usize,
    max_window: usize,
    (mut merge, mut holds): (M, H),
    make: impl Fn() -> (PM, PH) + Sync,
) -> Option<Vec<Placed<T>>>
where
    T: Copy + Send,
    M: FnMut(Range<usize>, &mut Vec<Placed<T>>),
    H: FnMut(Placed<T>, Placed<T>, usize) -> bool,
    PM: FnMut(Range<usize>, &mut Vec<Placed<T>>),
    PH: FnMut(Placed<T>, Placed<T>, usize) -> bool,
{
    let run = RUN.load(Ordering::Relaxed);
    if n < 2 * run || rayon::current_num_threads() < 2 {
        return merge_range(0..n, chunk, max_window, &mut merge, &mut holds);
    }
    let count = n.div_ceil(run);
    let parts: Vec<Option<Vec<Placed<T>>>> = (0..count)
        .into_par_iter()
        .map(|k| {
            let (mut merge, mut holds) = make();
            let range = k * n / count..(k + 1) * n / count;
            merge_range(range, chunk, max_window, &mut merge, &mut holds)
        })
        .collect();
    let mut tokens = Vec::with_capacity(parts.iter().flatten().map(Vec::len).sum());
    let mut seams = Seams::new(max_window);
    for (k, part) in parts.into_iter().enumerate() {
        let part = part?;
        let seam = tokens.len();
        tokens.extend(part);
        let end = (k + 1) * n / count;
        let budget = 4 * end + 4096;
        if seam > 0
            && seam < tokens.len()
            && !seams.repair(&mut tokens, seam, end, budget, &mut merge, &mut holds)
        {
            return None;
        }
    }
    Some(tokens)
}

/// The merge of the symbols in `range` (tokens placed at their
/// positions in the whole run).
fn merge_range<T: Copy>(
    range: Range<usize>,
    chunk: usize,
    max_window: usize,
    merge: &mut impl FnMut(Range<usize>, &mut Vec<Placed<T>>),
    holds: &mut impl FnMut(Placed<T>, Placed<T>, usize) -> bool,
) -> Option<Vec<Placed<T>>> {
    let mut tokens: Vec<Placed<T>> = Vec::with_capacity(range.len() / 2);
    let mut seams = Seams::new(max_window);
    let mut at = range.start;
    while at < range.end {
        let end = (at + chunk).min(range.end);
        let seam = tokens.len();
        merge(at..end, &mut tokens);
        at = end;
        if seam == 0 || seam == tokens.len() {
            continue;
        }
        let budget = 4 * (end - range.start) + 4096;
        if !seams.repair(&mut tokens, seam, end, budget, merge, holds) {
            return None;
        }
    }
    Some(tokens)
}

/// The state of the seam repairs of one merge: the widest window allowed,
/// the symbols merged again so far, and the window's scratch space.
struct Seams<T> {
    max_window: usize,
    redone: usize,
    window: Vec<Placed<T>>,
}

impl<T: Copy> Seams<T> {
    fn new(max_window: usize) -> Self {
        Seams {
            max_window,
            redone: 0,
            window: Vec::new(),
        }
    }

    /// Makes the seam between `tokens[..seam]` (the merge of the symbols before
    /// it) and `tokens[seam..]` (the merge of those after, up to symbol `end`)
    /// hold: when the two tokens around it are not the merge of their own
    /// symbols, a window of tokens around the seam is merged again, doubled
    /// until the window's own two seams hold. `false` when the window grows
    /// past `max_window` symbols or the symbols merged again (`redone`, added
    /// to) pass `budget`.
    fn repair(
        &mut self,
        tokens: &mut Vec<Placed<T>>,
        seam: usize,
        end: usize,
        budget: usize,
        merge: &mut impl FnMut(Range<usize>, &mut Vec<Placed<T>>),
        holds: &mut impl FnMut(Placed<T>, Placed<T>, usize) -> bool,
    ) -> bool {
        let (max_window, redone, window) = (self.max_window, &mut self.redone, &mut self.window);
        let end_of = |tokens: &[Placed<T>], k: usize| tokens.get(k + 1).map_or(end, |t| t.1);
        let seam_end = end_of(tokens, seam);
        *redone += seam_end - tokens[seam - 1].1;
        if holds(tokens[seam - 1], tokens[seam], seam_end) {
            return true;
        }
        let mut reach = 1;
        loop {
            let lo = seam.saturating_sub(reach);
            let hi = (seam + reach).min(tokens.len());
            let (from, to) = (tokens[lo].1, end_of(tokens, hi - 1));
            // The window, and the two seams checked around it.
            *redone += 2 * (to - from);
            if to - from > max_window || *redone > budget {
                return false;
            }
            window.clear();
            merge(from..to, window);
            let left_holds = lo == 0 || {
                let first_end = window.get(1).map_or(to, |t| t.1);
                holds(tokens[lo - 1], window[0], first_end)
            };
            let right_holds = hi == tokens.len()
                || holds(window[window.len() - 1], tokens[hi], end_of(tokens, hi));
            if left_holds && right_holds {
                tokens.splice(lo..hi, window.drain(..));
                return true;
            }
            reach *= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in merge: one token per symbol, its value the symbol's
    /// index times ten.
    fn one_by_one(r: Range<usize>, out: &mut Vec<Placed<u32>>) {
        out.extend(r.map(|k| (k as u32 * 10, k)));
    }

    #[test]
    fn a_chunk_merged_ahead_is_given_to_its_own_range_only() {
        let (n, chunk) = (10, 4);
        let mut ahead = Ahead::default();
        // (calls of `one`, calls of `two`)
        let mut calls = (0, 0);
        let merge = |r: Range<usize>, ahead: &mut Ahead<u32>, calls: &mut (i32, i32)| {
            let mut out = Vec::new();
            ahead.merge(
                (r, n, chunk),
                &mut out,
                calls,
                |calls, r, out| {
                    calls.0 += 1;
                    one_by_one(r, out);
                },
                |calls, (a, b), (out_a, out_b)| {
                    calls.1 += 1;
                    one_by_one(a, out_a);
                    one_by_one(b, out_b);
                },
            );
            out
        };
        let want = |r: Range<usize>| {
            let mut out = Vec::new();
            one_by_one(r, &mut out);
            out
        };
        // A whole chunk is merged with the next, which is then handed over.
        assert_eq!(merge(0..4, &mut ahead, &mut calls), want(0..4));
        assert_eq!(merge(4..8, &mut ahead, &mut calls), want(4..8));
        // Handed over once: asked again, it is merged again (with 8..10).
        assert_eq!(merge(4..8, &mut ahead, &mut calls), want(4..8));
        // A window of another length, and the last chunk, merge alone; the
        // last chunk here was merged ahead by the call before.
        assert_eq!(merge(3..6, &mut ahead, &mut calls), want(3..6));
        assert_eq!(merge(8..10, &mut ahead, &mut calls), want(8..10));
        assert_eq!(merge(8..10, &mut ahead, &mut calls), want(8..10));
        assert_eq!(calls, (2, 2));
    }
}
