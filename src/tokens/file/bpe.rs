//! The merge loop shared by both file formats: adjacent symbols are merged
//! lowest rank first (leftmost among equal ranks) until no pair merges.
//! Long sequences are merged a chunk at a time (`tokens::seams`), exact for
//! any merges; runs whose tokens outgrow the chunks (long runs of spaces)
//! go to the linear-time encoder when the merges meet its condition, else
//! to the heap.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use crate::tokens::backtrack::{Backtrack, Rule};
use crate::tokens::seams::merge_in_chunks;

/// Pair merges: (left id, right id) -> (rank, merged id).
#[derive(Debug, Default)]
pub(super) struct Merges {
    pairs: FxHashMap<(u32, u32), (u32, u32)>,
    /// The merges of two ids below [`SMALL`] (byte-level models' byte
    /// tokens), at `left * SMALL + right`: `rank << 32 | merged`, or
    /// `u64::MAX`; empty until such a merge is added. Most lookups are of
    /// two such ids, and this table stays in the CPU's cache where the
    /// hash table is megabytes.
    small: Vec<u64>,
    /// The linear-time encoder and the number of ids the merges name.
    long: OnceLock<Option<Box<(Backtrack, u32)>>>,
}

#[derive(Clone, Copy)]
struct Symbol {
    id: u32,
    prev: usize,
    next: usize,
    alive: bool,
}

const NONE: usize = usize::MAX;

/// The heap merge's buffers, kept from one run to the next.
#[derive(Default)]
struct HeapScratch {
    symbols: Vec<Symbol>,
    heap: BinaryHeap<Reverse<(u32, usize, u32)>>,
}

/// Pair lookups met before, in a small direct-mapped table that stays in
/// cache: a long run repeats its pairs, and the merge table is megabytes.
struct PairMemo {
    /// `(left << 32 | right) + 1` (0: empty) and `rank << 32 | merged`
    /// (`u64::MAX`: no merge).
    slots: Box<[(u64, u64)]>,
    /// The number of slots is `1 << bits`.
    bits: u32,
}

impl PairMemo {
    /// Room for the distinct pairs of a run of `n` symbols, at most 4096
    /// slots (a short run must not pay for clearing a large table).
    fn new(n: usize) -> PairMemo {
        let bits = (2 * n).next_power_of_two().trailing_zeros().clamp(6, 12);
        PairMemo {
            slots: vec![(0, 0); 1 << bits].into_boxed_slice(),
            bits,
        }
    }

    #[inline(always)]
    fn get(&mut self, left: u32, right: u32, merges: &Merges) -> Option<(u32, u32)> {
        if left < SMALL && right < SMALL && !merges.small.is_empty() {
            return merges.get(left, right);
        }
        let key = (u64::from(left) << 32 | u64::from(right)) + 1;
        let i = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.bits)) as usize;
        let (k, v) = self.slots[i];
        let v = if k == key {
            v
        } else {
            let v = merges
                .get(left, right)
                .map_or(u64::MAX, |(rank, m)| u64::from(rank) << 32 | u64::from(m));
            self.slots[i] = (key, v);
            v
        };
        (v != u64::MAX).then_some(((v >> 32) as u32, v as u32))
    }
}

/// Ids below this have their merges with each other in [`Merges::small`].
const SMALL: u32 = 256;

/// Pieces up to this many symbols merge with a plain scan (no heap).
const SHORT: usize = 24;
/// The chunk of a long run that [`Merges::apply_chunked`] merges at a time.
const CHUNK: usize = 32;
/// The widest window [`Merges::apply_chunked`] merges again around a seam.
const SEAM_WINDOW_MAX: usize = 64 * CHUNK;

impl Merges {
    /// Adds a merge; a later merge of the same pair replaces an earlier one.
    pub fn insert(&mut self, left: u32, right: u32, rank: u32, merged: u32) {
        self.long = OnceLock::new();
        self.pairs.insert((left, right), (rank, merged));
        self.set_small(left, right);
    }

    /// Copies the merge of `left` and `right` into the small table when
    /// both are small.
    fn set_small(&mut self, left: u32, right: u32) {
        if left < SMALL && right < SMALL {
            if self.small.is_empty() {
                self.small = vec![u64::MAX; (SMALL * SMALL) as usize];
            }
            let (rank, merged) = self.pairs[&(left, right)];
            self.small[(left * SMALL + right) as usize] = u64::from(rank) << 32 | u64::from(merged);
        }
    }

    /// The merge of `left` and `right`: (rank, merged id).
    #[inline(always)]
    fn get(&self, left: u32, right: u32) -> Option<(u32, u32)> {
        if left < SMALL && right < SMALL && !self.small.is_empty() {
            let v = self.small[(left * SMALL + right) as usize];
            return (v != u64::MAX).then_some(((v >> 32) as u32, v as u32));
        }
        self.pairs.get(&(left, right)).copied()
    }

    /// Adds a merge unless the pair already has one of a lower rank.
    pub fn insert_lowest(&mut self, left: u32, right: u32, rank: u32, merged: u32) {
        self.long = OnceLock::new();
        let e = self.pairs.entry((left, right)).or_insert((rank, merged));
        if rank < e.0 {
            *e = (rank, merged);
        }
        self.set_small(left, right);
    }

    /// The lowest-rank merge, leftmost among equals, by scanning: the same
    /// order as the heap, cheaper for short pieces. Each pair's merge is
    /// looked up once and kept; a merge looks up only the two new pairs
    /// beside it (the pair table is large, and text whose pieces are all
    /// new waits on memory for each lookup).
    fn apply_short(&self, ids: &[u32], out: &mut Vec<u32>) {
        let pair = |l: u32, r: u32| self.get(l, r);
        Self::scan::<SHORT>(ids, pair, |id, _| out.push(id));
    }

    /// The scan of [`Merges::apply_short`] over up to `N` symbols, with
    /// `pair` to look merges up; calls `emit(id, start)` for each token,
    /// `start` its first symbol's offset in `ids`.
    #[inline]
    fn scan<const N: usize>(
        ids: &[u32],
        mut pair: impl FnMut(u32, u32) -> Option<(u32, u32)>,
        mut emit: impl FnMut(u32, usize),
    ) {
        /// A token so far, where it starts, and its merge with the next
        /// one: (rank, merged id), `u32::MAX` as the rank for none. One
        /// array of these moves once per merge where separate arrays
        /// moved three times.
        #[derive(Clone, Copy)]
        struct Part {
            id: u32,
            start: u32,
            rank: u32,
            merged: u32,
        }
        debug_assert!(!ids.is_empty() && ids.len() <= N);
        let none = Part {
            id: 0,
            start: 0,
            rank: u32::MAX,
            merged: 0,
        };
        let mut parts = [none; N];
        let mut n = ids.len();
        for (k, (p, &id)) in parts.iter_mut().zip(ids).enumerate() {
            (p.id, p.start) = (id, k as u32);
        }
        let mut pair = |l: u32, r: u32| pair(l, r).unwrap_or((u32::MAX, 0));
        for k in 0..n - 1 {
            (parts[k].rank, parts[k].merged) = pair(parts[k].id, parts[k + 1].id);
        }
        while n > 1 {
            let mut best = (u32::MAX, 0usize);
            for (k, p) in parts[..n - 1].iter().enumerate() {
                if p.rank < best.0 {
                    best = (p.rank, k);
                }
            }
            if best.0 == u32::MAX {
                break;
            }
            let k = best.1;
            parts[k].id = parts[k].merged;
            parts.copy_within(k + 2..n, k + 1);
            n -= 1;
            if k + 1 < n {
                (parts[k].rank, parts[k].merged) = pair(parts[k].id, parts[k + 1].id);
            } else {
                parts[k].rank = u32::MAX;
            }
            if k > 0 {
                (parts[k - 1].rank, parts[k - 1].merged) = pair(parts[k - 1].id, parts[k].id);
            }
        }
        for p in &parts[..n] {
            emit(p.id, p.start as usize);
        }
    }

    /// Merges `ids` and appends the result to `out`.
    pub fn apply(&self, ids: &[u32], out: &mut Vec<u32>) {
        match ids.len() {
            0 => {}
            1 => out.push(ids[0]),
            n if n <= SHORT => self.apply_short(ids, out),
            n if n > CHUNK && (self.apply_chunked(ids, out) || self.apply_long(ids, out)) => {}
            _ => self.apply_heap(ids, out),
        }
    }

    /// The linear-time encoder of these merges, if they meet its condition:
    /// for the long runs the chunks give up on (tokens longer than a chunk).
    pub(super) fn long(&self) -> Option<&(Backtrack, u32)> {
        self.long
            .get_or_init(|| {
                let n = self
                    .pairs
                    .iter()
                    .map(|(&(l, r), &(_, m))| l.max(r).max(m))
                    .max()? as usize
                    + 1;
                let mut merged = vec![false; n];
                let rules: Vec<Rule> = self
                    .pairs
                    .iter()
                    .map(|(&(l, r), &(rank, m))| {
                        merged[m as usize] = true;
                        (l, r, rank, m)
                    })
                    .collect();
                // Every id no merge produces is a symbol of its own.
                let atoms: Vec<(u32, u32)> = (0..n as u32)
                    .filter(|&t| !merged[t as usize])
                    .map(|t| (t, t))
                    .collect();
                let long = Backtrack::build(n, &atoms, rules, true, |ids| {
                    let mut out = Vec::new();
                    self.apply_heap(ids, &mut out);
                    out
                })?;
                Some(Box::new((long, n as u32)))
            })
            .as_deref()
    }

    /// [`Merges::apply`] with the linear-time encoder; `false` (with `out`
    /// unchanged) when it cannot take these ids. An id above every id the
    /// merges name merges with nothing, so the ids are encoded around it.
    fn apply_long(&self, ids: &[u32], out: &mut Vec<u32>) -> bool {
        let Some((long, n)) = self.long() else {
            return false;
        };
        let base = out.len();
        let mut start = 0;
        for (k, &id) in ids.iter().enumerate() {
            if id >= *n {
                if !long.encode(&ids[start..k], out) {
                    out.truncate(base);
                    return false;
                }
                out.push(id);
                start = k + 1;
            }
        }
        if !long.encode(&ids[start..], out) {
            out.truncate(base);
            return false;
        }
        true
    }

    /// The heap merge, O(n log n).
    fn apply_heap(&self, ids: &[u32], out: &mut Vec<u32>) {
        if ids.len() <= 1 {
            out.extend_from_slice(ids);
            return;
        }
        let symbols = self.heap_merge(ids);
        out.extend(symbols.iter().filter(|s| s.alive).map(|s| s.id));
    }

    /// [`Merges::apply_heap`] that appends each token with the position of
    /// its first symbol, `at` plus its offset in `ids`.
    fn apply_heap_at(
        &self,
        ids: &[u32],
        at: usize,
        out: &mut Vec<(u32, usize)>,
        scratch: &mut HeapScratch,
        memo: &mut PairMemo,
    ) {
        self.heap_merge_with(ids, scratch, |l, r| memo.get(l, r, self));
        out.extend(
            scratch
                .symbols
                .iter()
                .enumerate()
                .filter(|(_, s)| s.alive)
                .map(|(k, s)| (s.id, at + k)),
        );
    }

    /// Runs the heap merge; the live symbols are the result, each at the
    /// position of its first input symbol.
    fn heap_merge(&self, ids: &[u32]) -> Vec<Symbol> {
        let mut scratch = HeapScratch::default();
        self.heap_merge_with(ids, &mut scratch, |l, r| self.get(l, r));
        scratch.symbols
    }

    /// [`Merges::heap_merge`] into `scratch.symbols`, with `pair` to look
    /// merges up.
    fn heap_merge_with(
        &self,
        ids: &[u32],
        scratch: &mut HeapScratch,
        mut pair: impl FnMut(u32, u32) -> Option<(u32, u32)>,
    ) {
        let HeapScratch { symbols, heap } = scratch;
        symbols.clear();
        symbols.extend(ids.iter().enumerate().map(|(k, &id)| Symbol {
            id,
            prev: if k == 0 { NONE } else { k - 1 },
            next: if k + 1 == ids.len() { NONE } else { k + 1 },
            alive: true,
        }));
        // Min-heap on (rank, position); entries are checked when popped.
        heap.clear();
        for k in 0..ids.len().saturating_sub(1) {
            if let Some((rank, merged)) = pair(ids[k], ids[k + 1]) {
                heap.push(Reverse((rank, k, merged)));
            }
        }
        while let Some(Reverse((_, pos, merged))) = heap.pop() {
            let left = symbols[pos];
            if !left.alive || left.next == NONE {
                continue;
            }
            let right = symbols[left.next];
            match pair(left.id, right.id) {
                Some((_, m)) if m == merged => {}
                _ => continue, // stale: one side has merged since
            }
            let right_pos = left.next;
            symbols[pos].id = merged;
            symbols[pos].next = right.next;
            symbols[right_pos].alive = false;
            if right.next != NONE {
                symbols[right.next].prev = pos;
            }
            if left.prev != NONE {
                let prev = symbols[left.prev];
                if let Some((rank, m)) = pair(prev.id, merged) {
                    heap.push(Reverse((rank, left.prev, m)));
                }
            }
            if right.next != NONE {
                let next = symbols[right.next];
                if let Some((rank, m)) = pair(merged, next.id) {
                    heap.push(Reverse((rank, pos, m)));
                }
            }
        }
    }

    /// The merge of a long run, a chunk at a time ([`merge_in_chunks`]), on
    /// every core when very long, exact for any
    /// merges. `false` (with `out` unchanged) when a seam's window grows past
    /// [`SEAM_WINDOW_MAX`] symbols: then the caller runs the heap.
    fn apply_chunked(&self, ids: &[u32], out: &mut Vec<u32>) -> bool {
        let make = || {
            let (mut heap, mut memo) = (HeapScratch::default(), PairMemo::new(ids.len()));
            let merge = move |r: std::ops::Range<usize>, out: &mut Vec<(u32, usize)>| {
                if r.len() <= CHUNK {
                    let pair = |l, r| memo.get(l, r, self);
                    Self::scan::<CHUNK>(&ids[r.clone()], pair, |id, at| {
                        out.push((id, r.start + at))
                    });
                } else {
                    self.apply_heap_at(&ids[r.clone()], r.start, out, &mut heap, &mut memo);
                }
            };
            let mut scratch = Vec::new();
            let holds = move |(a, at): (u32, usize), (b, _): (u32, usize), end: usize| {
                // The scan or the heap, never the chunks again: two tokens
                // can span more than a chunk.
                scratch.clear();
                let pair = &ids[at..end];
                if pair.len() <= SHORT {
                    self.apply_short(pair, &mut scratch);
                } else {
                    self.apply_heap(pair, &mut scratch);
                }
                scratch[..] == [a, b]
            };
            (merge, holds)
        };
        match merge_in_chunks(ids.len(), CHUNK, SEAM_WINDOW_MAX, make(), make) {
            Some(tokens) => {
                out.extend(tokens.iter().map(|t| t.0));
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The small table answers as the hash table, after merges replaced
    /// by `insert` and kept or not by `insert_lowest`.
    #[test]
    fn small_ids_look_up_as_the_table() {
        let mut m = Merges::default();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: u32| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % u64::from(n)) as u32
        };
        for k in 0..20_000 {
            let (l, r) = (next(300), next(300));
            let (rank, merged) = (next(1000), 300 + next(5000));
            if k % 2 == 0 {
                m.insert(l, r, rank, merged);
            } else {
                m.insert_lowest(l, r, rank, merged);
            }
        }
        let mut small = 0;
        for l in 0..300 {
            for r in 0..300 {
                assert_eq!(m.get(l, r), m.pairs.get(&(l, r)).copied(), "{l} {r}");
                small += usize::from(l < SMALL && r < SMALL && m.get(l, r).is_some());
            }
        }
        assert!(small > 10_000, "{small}");
    }

    #[test]
    fn lowest_rank_first_then_leftmost() {
        // a=0 b=1 c=2; ab=3 (rank 0), bc=4 (rank 1), abc=5 via ab+c (rank 2)
        let mut m = Merges::default();
        m.insert(0, 1, 0, 3);
        m.insert(1, 2, 1, 4);
        m.insert(3, 2, 2, 5);
        let mut out = Vec::new();
        m.apply(&[0, 1, 2], &mut out);
        assert_eq!(out, [5]);
        out.clear();
        // b c b c: bc merges at both places, leftmost first; no more merges.
        m.apply(&[1, 2, 1, 2], &mut out);
        assert_eq!(out, [4, 4]);
        out.clear();
        // a b a b: ab twice.
        m.apply(&[0, 1, 0, 1], &mut out);
        assert_eq!(out, [3, 3]);
        assert_eq!(m.pairs.len(), 3);
        // The scan for short pieces and the heap for long ones agree.
        let long: Vec<u32> = [0, 1, 2, 1, 2, 0, 1, 0, 1, 2]
            .iter()
            .cycle()
            .take(40)
            .copied()
            .collect();
        let mut heap = Vec::new();
        m.apply(&long, &mut heap);
        let mut scan = Vec::new();
        for chunk in long.chunks(10) {
            m.apply_short(chunk, &mut scan);
        }
        assert_eq!(heap, scan);
    }

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    fn heap(m: &Merges, ids: &[u32]) -> Vec<u32> {
        let mut out = Vec::new();
        m.apply_heap(ids, &mut out);
        out
    }

    fn linear(m: &Merges, ids: &[u32]) -> Option<Vec<u32>> {
        let mut out = vec![7777];
        m.apply_long(ids, &mut out).then(|| out.split_off(1))
    }

    /// Merges learnt the way training learns them: each new token joins two
    /// existing ones, at the next rank. With `odd`, one rule in ten names an
    /// existing merged token instead, which the linear encoder may decline.
    fn trained(rng: &mut Rng, atoms: u32, tokens: u32, odd: bool) -> Merges {
        let mut m = Merges::default();
        let mut seen = std::collections::HashSet::new();
        let mut next = atoms;
        let mut rank = 0;
        while next < atoms + tokens {
            let (l, r) = (
                rng.below(next as usize) as u32,
                rng.below(next as usize) as u32,
            );
            if !seen.insert((l, r)) {
                continue;
            }
            let merged = if odd && rng.below(10) == 0 && next > atoms {
                atoms + rng.below((next - atoms) as usize) as u32
            } else {
                next
            };
            m.insert(l, r, rank, merged);
            rank += 1;
            if merged == next {
                next += 1;
            }
        }
        m
    }

    #[test]
    fn the_linear_encoder_agrees_with_the_heap_or_declines() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut built, mut declined) = (0, 0);
        for round in 0..600 {
            let atoms = 2 + rng.below(4) as u32;
            let tokens = 4 + rng.below(40) as u32;
            let odd = round % 2 == 1;
            let m = trained(&mut rng, atoms, tokens, odd);
            if m.long().is_none() {
                assert!(
                    odd,
                    "round {round}: merges as training makes them are declined"
                );
                declined += 1;
                continue;
            }
            built += 1;
            for _ in 0..40 {
                let len = 1 + rng.below(300);
                // Mostly atoms, sometimes an id no merge names (merges with nothing).
                let ids: Vec<u32> = (0..len)
                    .map(|_| {
                        if rng.below(50) == 0 {
                            1000
                        } else {
                            rng.below(atoms as usize) as u32
                        }
                    })
                    .collect();
                let want = heap(&m, &ids);
                assert_eq!(
                    linear(&m, &ids).as_ref(),
                    Some(&want),
                    "round {round}: {ids:?}"
                );
            }
        }
        assert!(built > 300, "built {built}, declined {declined}");
    }

    /// The scan for short pieces merges as the heap does, on random merges
    /// (odd ones included) and random pieces of every short length.
    #[test]
    fn the_short_scan_agrees_with_the_heap() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let mut merged = 0;
        for round in 0..300 {
            let atoms = 2 + rng.below(5) as u32;
            let tokens = 4 + rng.below(60) as u32;
            let m = trained(&mut rng, atoms, tokens, round % 2 == 1);
            for _ in 0..50 {
                let len = 1 + rng.below(SHORT);
                let ids: Vec<u32> = (0..len).map(|_| rng.below(atoms as usize) as u32).collect();
                let mut scan = Vec::new();
                m.apply_short(&ids, &mut scan);
                assert_eq!(scan, heap(&m, &ids), "round {round}: {ids:?}");
                merged += usize::from(scan.len() < ids.len());
            }
        }
        assert!(merged > 5000, "{merged}");
    }

    fn chunked(m: &Merges, ids: &[u32]) -> Option<Vec<u32>> {
        let mut out = vec![7777];
        m.apply_chunked(ids, &mut out).then(|| out.split_off(1))
    }

    /// The chunked merge equals the heap on merges as training makes them
    /// and on odd ones (which the linear encoder declines), on runs of many
    /// chunks: random symbols, few symbols, one symbol repeated.
    #[test]
    fn the_chunked_merge_agrees_with_the_heap() {
        let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
        let mut repaired = 0;
        for round in 0..200 {
            let atoms = 2 + rng.below(4) as u32;
            let tokens = 4 + rng.below(60) as u32;
            let m = trained(&mut rng, atoms, tokens, round % 2 == 1);
            for case in 0..6 {
                let len = 1 + rng.below(6 * CHUNK);
                let ids: Vec<u32> = (0..len)
                    .map(|k| match case {
                        0 => 0,
                        1 => (k % 2) as u32,
                        2 if rng.below(40) == 0 => 1000,
                        _ => rng.below(atoms as usize) as u32,
                    })
                    .collect();
                let want = heap(&m, &ids);
                let got = chunked(&m, &ids).expect("no seam window grows that wide here");
                assert_eq!(got, want, "round {round} case {case}: {ids:?}");
                // How often a chunk's own merge was not the final one at a
                // seam (the check must have work to do).
                let mut by_chunks = Vec::new();
                for c in ids.chunks(CHUNK) {
                    m.apply_heap(c, &mut by_chunks);
                }
                repaired += usize::from(by_chunks != want);
            }
        }
        assert!(repaired > 100, "{repaired} runs needed a seam merged again");
    }

    #[test]
    fn long_runs_merge_as_the_heap_does() {
        let mut m = Merges::default();
        m.insert(0, 0, 0, 1); // aa
        m.insert(1, 1, 1, 2); // aaaa
        m.insert(2, 0, 2, 3); // aaaaa
        let ids = vec![0u32; 10_001];
        let mut out = Vec::new();
        m.apply(&ids, &mut out);
        assert_eq!(out, heap(&m, &ids));
        assert_eq!(linear(&m, &ids).unwrap(), out);
        assert_eq!(chunked(&m, &ids).unwrap(), out);
        // 5000 `aa` and an `a`; 2500 `aaaa` and the `a`; the last two join.
        assert_eq!(out.len(), 2500);
        // Tokens longer than a chunk: seams between them span two chunks
        // and more (checking one must not chunk again).
        m.insert(2, 2, 3, 4); // a8
        m.insert(4, 4, 4, 5); // a16
        m.insert(5, 5, 5, 6); // a32
        m.insert(6, 6, 6, 7); // a64
        for len in [1000, 10_001] {
            let ids = vec![0u32; len];
            let want = heap(&m, &ids);
            assert!(want.iter().filter(|&&t| t == 7).count() >= len / 64 - 1);
            // The chunks may give up here (their seams all fail); what they
            // give, and what `apply` gives, is the heap's.
            if let Some(got) = chunked(&m, &ids) {
                assert_eq!(got, want, "{len}");
            }
            let mut got = Vec::new();
            m.apply(&ids, &mut got);
            assert_eq!(got, want, "{len}");
        }
    }
}
