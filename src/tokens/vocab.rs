//! Vocabulary tables laid out at build time (see `build.rs`): token bytes in
//! rank order and a hash table from bytes to rank, read in place from the
//! binary, so loading an encoding costs nothing.

use super::Encoding;

include!("table_hash.rs");

/// A BPE vocabulary: rank <-> bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vocab {
    n: usize,
    mask: usize,
    offsets: &'static [u8],
    slots: &'static [u8],
    bytes: &'static [u8],
}

static O200K: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_base.bin"));
static CL100K: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/cl100k_base.bin"));
static P50K: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/p50k_base.bin"));
static R50K: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/r50k_base.bin"));

#[inline(always)]
fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]])
}

impl Vocab {
    /// The vocabulary of an encoding.
    pub(crate) fn of(e: Encoding) -> Vocab {
        let blob = match e {
            Encoding::O200kBase | Encoding::O200kHarmony => O200K,
            Encoding::Cl100kBase => CL100K,
            Encoding::P50kBase => P50K,
            Encoding::R50kBase => R50K,
        };
        let n = u32_at(blob, 0) as usize;
        let cap = u32_at(blob, 1) as usize;
        let off_start = 8;
        let slots_start = off_start + (n + 1) * 4;
        let bytes_start = slots_start + cap * 4;
        Vocab {
            n,
            mask: cap - 1,
            offsets: &blob[off_start..slots_start],
            slots: &blob[slots_start..bytes_start],
            bytes: &blob[bytes_start..],
        }
    }

    /// The bytes of a rank.
    #[inline]
    pub(crate) fn token(&self, rank: u32) -> Option<&'static [u8]> {
        let r = rank as usize;
        if r >= self.n {
            return None;
        }
        let a = u32_at(self.offsets, r) as usize;
        let b = u32_at(self.offsets, r + 1) as usize;
        Some(&self.bytes[a..b])
    }

    /// The rank of a byte string, if it is a token.
    #[inline]
    pub(crate) fn rank(&self, piece: &[u8]) -> Option<u32> {
        let len_tag = piece.len().min(255) as u32;
        let mut i = (table_hash(piece) as usize) & self.mask;
        loop {
            let slot = u32_at(self.slots, i);
            if slot == u32::MAX {
                return None;
            }
            if slot >> 24 == len_tag {
                let rank = slot & 0x00FF_FFFF;
                let r = rank as usize;
                let a = u32_at(self.offsets, r) as usize;
                let b = u32_at(self.offsets, r + 1) as usize;
                if &self.bytes[a..b] == piece {
                    return Some(rank);
                }
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Ranks of the byte-pair merges of `piece` (the standard tiktoken merge
    /// order: lowest rank first, leftmost on ties), appended to `out`.
    pub(crate) fn encode_piece(&self, piece: &[u8], out: &mut Vec<u32>) {
        self.merge(piece, |a, b| {
            out.push(self.rank(&piece[a..b]).expect("merged parts are tokens"))
        });
    }

    /// Number of tokens `piece` encodes to.
    pub(crate) fn count_piece(&self, piece: &[u8]) -> usize {
        if piece.len() <= 1 || self.rank(piece).is_some() {
            return 1;
        }
        let mut n = 0;
        self.merge(piece, |_, _| n += 1);
        n
    }

    /// Runs the merge and calls `part(start, end)` for each final part.
    fn merge(&self, piece: &[u8], mut part: impl FnMut(usize, usize)) {
        if piece.len() <= 1 {
            if !piece.is_empty() {
                part(0, 1);
            }
            return;
        }
        if piece.len() <= 192 {
            self.merge_linear(piece, &mut part)
        } else {
            self.merge_heap(piece, &mut part)
        }
    }

    /// Quadratic merge for short pieces (fast in practice).
    fn merge_linear(&self, piece: &[u8], part: &mut impl FnMut(usize, usize)) {
        // parts[i] = (start, rank of merging part i with part i + 1)
        let mut parts: Vec<(usize, u32)> = Vec::with_capacity(piece.len() + 1);
        let mut min = (u32::MAX, usize::MAX);
        for i in 0..piece.len() - 1 {
            let r = self.rank(&piece[i..i + 2]).unwrap_or(u32::MAX);
            if r < min.0 {
                min = (r, i);
            }
            parts.push((i, r));
        }
        parts.push((piece.len() - 1, u32::MAX));
        parts.push((piece.len(), u32::MAX));
        let rank_at = |parts: &[(usize, u32)], i: usize| -> u32 {
            if i + 3 < parts.len() {
                self.rank(&piece[parts[i].0..parts[i + 3].0])
                    .unwrap_or(u32::MAX)
            } else {
                u32::MAX
            }
        };
        while min.0 != u32::MAX {
            let i = min.1;
            if i > 0 {
                parts[i - 1].1 = rank_at(&parts, i - 1);
            }
            parts[i].1 = rank_at(&parts, i);
            parts.remove(i + 1);
            min = (u32::MAX, usize::MAX);
            for (j, &(_, r)) in parts[..parts.len() - 1].iter().enumerate() {
                if r < min.0 {
                    min = (r, j);
                }
            }
        }
        for w in parts.windows(2) {
            part(w[0].0, w[1].0);
        }
    }

    /// O(n log n) merge for long pieces (long runs with no split point): a
    /// linked list of parts and a heap of candidate merges ordered by
    /// (rank, start), which picks the same merge as the quadratic scan.
    fn merge_heap(&self, piece: &[u8], part: &mut impl FnMut(usize, usize)) {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let n = piece.len();
        // Part k starts at byte k; next/prev link live parts; end[k] is its end.
        let mut next: Vec<usize> = (1..=n).collect();
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let mut alive = vec![true; n];
        let mut heap = BinaryHeap::new();
        for i in 0..n - 1 {
            if let Some(r) = self.rank(&piece[i..i + 2]) {
                heap.push(Reverse((r, i, i + 2)));
            }
        }
        while let Some(Reverse((r, start, end))) = heap.pop() {
            // Stale unless `start` is alive and its pair still spans to `end`.
            if !alive[start] {
                continue;
            }
            let mid = next[start];
            if mid >= n || next[mid] != end {
                continue;
            }
            let _ = r;
            // Merge `mid` into `start`.
            alive[mid] = false;
            next[start] = end;
            if end < n {
                prev[end] = start;
            }
            if end < n {
                let after = next[end];
                if let Some(r2) = self.rank(&piece[start..after]) {
                    heap.push(Reverse((r2, start, after)));
                }
            }
            let p = prev[start];
            if p != usize::MAX
                && let Some(r2) = self.rank(&piece[p..end])
            {
                heap.push(Reverse((r2, p, end)));
            }
        }
        let mut i = 0;
        while i < n {
            part(i, next[i]);
            i = next[i];
        }
    }
}
