//! The merge loop shared by both file formats: adjacent symbols are merged
//! lowest rank first (leftmost among equal ranks) until no pair merges.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

/// Pair merges: (left id, right id) -> (rank, merged id).
#[derive(Debug, Default)]
pub(super) struct Merges {
    pairs: FxHashMap<(u32, u32), (u32, u32)>,
}

#[derive(Clone, Copy)]
struct Symbol {
    id: u32,
    prev: usize,
    next: usize,
    alive: bool,
}

const NONE: usize = usize::MAX;

/// Pieces up to this many symbols merge with a plain scan (no heap).
const SHORT: usize = 24;

impl Merges {
    /// Adds a merge; a later merge of the same pair replaces an earlier one.
    pub fn insert(&mut self, left: u32, right: u32, rank: u32, merged: u32) {
        self.pairs.insert((left, right), (rank, merged));
    }

    /// Adds a merge unless the pair already has one of a lower rank.
    pub fn insert_lowest(&mut self, left: u32, right: u32, rank: u32, merged: u32) {
        let e = self.pairs.entry((left, right)).or_insert((rank, merged));
        if rank < e.0 {
            *e = (rank, merged);
        }
    }

    /// The lowest-rank merge, leftmost among equals, by scanning: the same
    /// order as the heap, cheaper for short pieces.
    fn apply_short(&self, ids: &[u32], out: &mut Vec<u32>) {
        let mut parts = [0u32; SHORT];
        let mut n = ids.len();
        parts[..n].copy_from_slice(ids);
        loop {
            let mut best: Option<(u32, usize, u32)> = None;
            for k in 0..n - 1 {
                if let Some(&(rank, merged)) = self.pairs.get(&(parts[k], parts[k + 1]))
                    && best.is_none_or(|(r, _, _)| rank < r)
                {
                    best = Some((rank, k, merged));
                }
            }
            let Some((_, k, merged)) = best else { break };
            parts[k] = merged;
            parts.copy_within(k + 2..n, k + 1);
            n -= 1;
            if n == 1 {
                break;
            }
        }
        out.extend_from_slice(&parts[..n]);
    }

    /// Merges `ids` in place and appends the result to `out`.
    pub fn apply(&self, ids: &[u32], out: &mut Vec<u32>) {
        match ids.len() {
            0 => return,
            1 => {
                out.push(ids[0]);
                return;
            }
            n if n <= SHORT => {
                self.apply_short(ids, out);
                return;
            }
            _ => {}
        }
        let mut symbols: Vec<Symbol> = ids
            .iter()
            .enumerate()
            .map(|(k, &id)| Symbol {
                id,
                prev: if k == 0 { NONE } else { k - 1 },
                next: if k + 1 == ids.len() { NONE } else { k + 1 },
                alive: true,
            })
            .collect();
        // Min-heap on (rank, position); entries are checked when popped.
        let mut heap: BinaryHeap<Reverse<(u32, usize, u32)>> = BinaryHeap::new();
        for k in 0..ids.len() - 1 {
            if let Some(&(rank, merged)) = self.pairs.get(&(ids[k], ids[k + 1])) {
                heap.push(Reverse((rank, k, merged)));
            }
        }
        while let Some(Reverse((_, pos, merged))) = heap.pop() {
            let left = symbols[pos];
            if !left.alive || left.next == NONE {
                continue;
            }
            let right = symbols[left.next];
            match self.pairs.get(&(left.id, right.id)) {
                Some(&(_, m)) if m == merged => {}
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
                if let Some(&(rank, m)) = self.pairs.get(&(prev.id, merged)) {
                    heap.push(Reverse((rank, left.prev, m)));
                }
            }
            if right.next != NONE {
                let next = symbols[right.next];
                if let Some(&(rank, m)) = self.pairs.get(&(merged, next.id)) {
                    heap.push(Reverse((rank, pos, m)));
                }
            }
        }
        out.extend(symbols.iter().filter(|s| s.alive).map(|s| s.id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
