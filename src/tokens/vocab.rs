//! Vocabulary tables laid out at build time (see `build.rs`): token bytes in
//! rank order and a hash table from bytes to rank, read in place from the
//! binary, so loading an encoding costs nothing.

use std::sync::OnceLock;

use super::Encoding;
use super::backtrack::{Backtrack, Rule};
use super::open_table::{OpenTable, Slot};
use super::seams::{Placed, merge_in_chunks};

include!("table_hash.rs");

/// The linear-time encoders of the built-in encodings, built on the first
/// long piece the chunks give up on (runs whose tokens are longer than a
/// chunk, such as long runs of spaces).
static LONG: [OnceLock<Option<Backtrack>>; 4] = [const { OnceLock::new() }; 4];

/// Pieces up to this many bytes merge with the quadratic scan.
const MERGE_LINEAR_MAX: usize = 192;

/// The chunk of a long piece merged at a time (by the quadratic scan).
const CHUNK: usize = 64;
/// The widest window merged again around a seam between chunks.
const SEAM_WINDOW_MAX: usize = 64 * CHUNK;

/// Tokens of up to this many bytes are looked up in [`ShortRanks`].
const SHORT_TOKEN: usize = 5;

/// Tokens longer than [`SHORT_TOKEN`] and up to this many bytes are looked
/// up in [`MidRanks`].
const MID_TOKEN: usize = 12;
/// The shortest token of [`MidRanks`].
const MID_FIRST: usize = SHORT_TOKEN + 1;

/// The short-token tables, built on each encoding's first use.
static SHORT: [OnceLock<OpenTable<ShortSlot>>; 4] = [const { OnceLock::new() }; 4];
/// The mid-length token tables, built with the short ones.
static MID: [OnceLock<OpenTable<MidSlot>>; 4] = [const { OnceLock::new() }; 4];
/// The rank of every two-byte string (`u32::MAX`: not a token), indexed by
/// its bytes: a merge looks up every pair of neighbouring bytes first.
static TWO: [OnceLock<Box<[u32]>>; 4] = [const { OnceLock::new() }; 4];

/// Every token of [`SHORT_TOKEN`] + 1 to [`MID_TOKEN`] bytes, each in one
/// `u128` slot: its bytes (bits 0-95), its length (bits 96-99) and its rank
/// (bits 100-127). Like [`ShortSlot`], one read per lookup where the general
/// table takes three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MidSlot(u128);

const MID_KEY: u128 = (1 << 100) - 1;

impl Slot for MidSlot {
    const EMPTY: MidSlot = MidSlot(0);
    type Key = u128;

    #[inline(always)]
    fn hash(key: u128) -> u64 {
        (key as u64) ^ ((key >> 64) as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
    }

    #[inline(always)]
    fn holds(self, key: u128) -> bool {
        self.0 & MID_KEY == key
    }
}

impl MidSlot {
    #[inline(always)]
    fn key(piece: &[u8]) -> u128 {
        let mut b = [0u8; 16];
        b[..piece.len()].copy_from_slice(piece);
        b[12] = piece.len() as u8;
        u128::from_le_bytes(b)
    }
}

/// Every token of up to [`SHORT_TOKEN`] bytes, each in one `u64` slot that
/// holds its bytes (bits 0-39, little endian), its length (bits 40-42) and
/// its rank (bits 43-63). A lookup reads one slot (or a few neighbours) and
/// nothing else: the merge of a short piece looks up mostly short parts,
/// and the general table costs three memory reads per lookup (slot,
/// offsets, bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShortSlot(u64);

const SHORT_KEY: u64 = (1 << 43) - 1;

impl Slot for ShortSlot {
    const EMPTY: ShortSlot = ShortSlot(0);
    type Key = u64;

    #[inline(always)]
    fn hash(key: u64) -> u64 {
        key
    }

    #[inline(always)]
    fn holds(self, key: u64) -> bool {
        self.0 & SHORT_KEY == key
    }
}

impl ShortSlot {
    /// The key of a piece of 1 to [`SHORT_TOKEN`] bytes.
    #[inline(always)]
    fn key(piece: &[u8]) -> u64 {
        let mut key = (piece.len() as u64) << 40;
        for (i, &b) in piece.iter().enumerate() {
            key |= u64::from(b) << (8 * i);
        }
        key
    }
}

/// Lays out the tokens of `ranks` of `lengths` in a table of packed slots,
/// lowest rank first (so a repeated byte string keeps its lowest rank, as
/// the general table does). An empty table when a rank does not fit in
/// the slot (never so for the built-in encodings).
fn packed<S: Slot>(
    ranks: impl Iterator<Item = (u32, &'static [u8])> + Clone,
    lengths: std::ops::RangeInclusive<usize>,
    rank_bits: u32,
    slot: impl Fn(&[u8], u32) -> (S::Key, S),
) -> OpenTable<S> {
    let n = ranks
        .clone()
        .filter(|(_, b)| lengths.contains(&b.len()))
        .count();
    let mut table = OpenTable::with_room(n);
    for (rank, bytes) in ranks {
        if !lengths.contains(&bytes.len()) {
            continue;
        }
        if rank >= 1 << rank_bits {
            return OpenTable::none();
        }
        let (key, s) = slot(bytes, rank);
        table.insert_first(key, s);
    }
    table
}

/// A BPE vocabulary: rank <-> bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vocab {
    /// Which encoding (for its linear-time encoder).
    encoding: Encoding,
    n: usize,
    mask: usize,
    offsets: &'static [u8],
    slots: &'static [u8],
    bytes: &'static [u8],
    /// The short and mid-length tokens, when their ranks fit the tables.
    short: Option<(&'static OpenTable<ShortSlot>, &'static OpenTable<MidSlot>)>,
    /// [`TWO`] of this encoding.
    two: &'static [u32],
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
        let mut v = Vocab {
            encoding: e,
            n,
            mask: cap - 1,
            offsets: &blob[off_start..slots_start],
            slots: &blob[slots_start..bytes_start],
            bytes: &blob[bytes_start..],
            short: None,
            two: &[],
        };
        let ranks = (0..n as u32).filter_map(|r| Some((r, v.token(r)?)));
        let short = SHORT[e.table() as usize].get_or_init(|| {
            packed(ranks.clone(), 1..=SHORT_TOKEN, 21, |b, rank| {
                let key = ShortSlot::key(b);
                (key, ShortSlot(key | u64::from(rank) << 43))
            })
        });
        let mid = MID[e.table() as usize].get_or_init(|| {
            packed(ranks, MID_FIRST..=MID_TOKEN, 28, |b, rank| {
                let key = MidSlot::key(b);
                (key, MidSlot(key | u128::from(rank) << 100))
            })
        });
        v.short = (!short.is_none() && !mid.is_none()).then_some((short, mid));
        v.two = TWO[e.table() as usize].get_or_init(|| {
            (0..=u16::MAX)
                .map(|k| v.rank(&k.to_le_bytes()).unwrap_or(u32::MAX))
                .collect()
        });
        v
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
        if let Some((short, mid)) = self.short {
            match piece.len() {
                0 => {}
                1..=SHORT_TOKEN => {
                    return short.get(ShortSlot::key(piece)).map(|s| (s.0 >> 43) as u32);
                }
                MID_FIRST..=MID_TOKEN => {
                    return mid.get(MidSlot::key(piece)).map(|s| (s.0 >> 100) as u32);
                }
                _ => {}
            }
        }
        self.table_rank(piece)
    }

    /// [`Vocab::rank`] by the general table laid out at build time.
    #[inline]
    fn table_rank(&self, piece: &[u8]) -> Option<u32> {
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
        if piece.len() > MERGE_LINEAR_MAX {
            if let Some(parts) = self.merge_chunked(piece) {
                let ends = parts.iter().skip(1).map(|p| p.1).chain([piece.len()]);
                for (&(_, start), end) in parts.iter().zip(ends) {
                    out.push(
                        self.rank(&piece[start..end])
                            .expect("merged parts are tokens"),
                    );
                }
                return;
            }
            if let Some(long) = self.long()
                && long.encode(piece, out)
            {
                return;
            }
        }
        self.merge(piece, |a, b| {
            out.push(self.rank(&piece[a..b]).expect("merged parts are tokens"))
        });
    }

    /// Number of tokens `piece` encodes to.
    pub(crate) fn count_piece(&self, piece: &[u8]) -> usize {
        if piece.len() <= 1 || self.rank(piece).is_some() {
            return 1;
        }
        if piece.len() > MERGE_LINEAR_MAX {
            if let Some(parts) = self.merge_chunked(piece) {
                return parts.len();
            }
            if let Some(long) = self.long() {
                let mut ids = Vec::with_capacity(piece.len() / 4);
                if long.encode(piece, &mut ids) {
                    return ids.len();
                }
            }
        }
        let mut n = 0;
        self.merge(piece, |_, _| n += 1);
        n
    }

    /// The linear-time encoder of this vocabulary (`None` if the vocabulary
    /// did not meet its condition, which the tests rule out for the built-in
    /// encodings).
    fn long(&self) -> Option<&'static Backtrack> {
        LONG[self.encoding.table() as usize]
            .get_or_init(|| self.build_long())
            .as_ref()
    }

    /// Builds the linear-time encoder: the symbols are bytes, and every
    /// split of a token into two tokens is a rule of the token's rank.
    fn build_long(&self) -> Option<Backtrack> {
        let atoms: Vec<(u32, u32)> = (0..=255u8)
            .map(|b| Some((b as u32, self.rank(&[b])?)))
            .collect::<Option<_>>()?;
        let mut rules: Vec<Rule> = Vec::new();
        for rank in 0..self.n as u32 {
            let Some(bytes) = self.token(rank) else {
                continue;
            };
            for k in 1..bytes.len() {
                if let Some(l) = self.rank(&bytes[..k])
                    && let Some(r) = self.rank(&bytes[k..])
                {
                    rules.push((l, r, rank, rank));
                }
            }
        }
        Backtrack::build(self.n, &atoms, rules, false, |symbols| {
            let bytes: Vec<u8> = symbols.iter().map(|&s| s as u8).collect();
            let mut out = Vec::new();
            self.merge(&bytes, |a, b| {
                out.push(self.rank(&bytes[a..b]).unwrap_or(u32::MAX))
            });
            out
        })
    }

    /// The merge of a long piece a chunk at a time ([`merge_in_chunks`]), on
    /// every core when very long: each part's start.
    /// `None` when a seam's window grows too wide.
    fn merge_chunked(&self, piece: &[u8]) -> Option<Vec<Placed<()>>> {
        let merge = |r: std::ops::Range<usize>, out: &mut Vec<Placed<()>>| {
            self.merge(&piece[r.clone()], |a, _| out.push(((), r.start + a)));
        };
        let holds = |(_, at): Placed<()>, (_, seam): Placed<()>, end: usize| {
            let mut k = 0;
            let mut ok = true;
            self.merge(&piece[at..end], |_, b| {
                ok &= at + b == if k == 0 { seam } else { end };
                k += 1;
            });
            ok && k == 2
        };
        merge_in_chunks(piece.len(), CHUNK, SEAM_WINDOW_MAX, (merge, holds), || {
            (merge, holds)
        })
    }

    /// Runs the merge and calls `part(start, end)` for each final part.
    fn merge(&self, piece: &[u8], mut part: impl FnMut(usize, usize)) {
        if piece.len() <= 1 {
            if !piece.is_empty() {
                part(0, 1);
            }
            return;
        }
        if piece.len() <= MERGE_LINEAR_MAX {
            self.merge_linear(piece, &mut part)
        } else {
            self.merge_heap(piece, &mut part)
        }
    }

    /// Quadratic merge for short pieces (fast in practice), in a fixed
    /// array on the stack.
    fn merge_linear(&self, piece: &[u8], part: &mut impl FnMut(usize, usize)) {
        debug_assert!(piece.len() >= 2 && piece.len() < MERGE_LINEAR_MAX + 1);
        // parts[i] = (start, rank of merging part i with part i + 1); the
        // last two entries are the last byte and the end.
        let mut parts = [(0u32, u32::MAX); MERGE_LINEAR_MAX + 2];
        let mut len = piece.len() + 1;
        let mut min = (u32::MAX, usize::MAX);
        for i in 0..piece.len() - 1 {
            let r = self.two[usize::from(u16::from_le_bytes([piece[i], piece[i + 1]]))];
            if r < min.0 {
                min = (r, i);
            }
            parts[i] = (i as u32, r);
        }
        parts[piece.len() - 1] = ((piece.len() - 1) as u32, u32::MAX);
        parts[piece.len()] = (piece.len() as u32, u32::MAX);
        let rank_at = |parts: &[(u32, u32)], len: usize, i: usize| -> u32 {
            if i + 3 < len {
                self.rank(&piece[parts[i].0 as usize..parts[i + 3].0 as usize])
                    .unwrap_or(u32::MAX)
            } else {
                u32::MAX
            }
        };
        while min.0 != u32::MAX {
            let i = min.1;
            if i > 0 {
                parts[i - 1].1 = rank_at(&parts, len, i - 1);
            }
            parts[i].1 = rank_at(&parts, len, i);
            parts.copy_within(i + 2..len, i + 1);
            len -= 1;
            min = (u32::MAX, usize::MAX);
            for (j, &(_, r)) in parts[..len - 1].iter().enumerate() {
                if r < min.0 {
                    min = (r, j);
                }
            }
        }
        for w in parts[..len].windows(2) {
            part(w[0].0 as usize, w[1].0 as usize);
        }
    }

    /// O(n log n) merge for pieces past the quadratic scan's limit (the
    /// reference that counting's chunks are checked against, and their
    /// fallback): a linked list of parts and a heap of candidate merges
    /// ordered by (rank, start), which picks the same merge as the scan.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference merge's ranks for `piece`.
    fn reference(v: &Vocab, piece: &[u8]) -> Vec<u32> {
        let mut out = Vec::new();
        v.merge(piece, |a, b| out.push(v.rank(&piece[a..b]).unwrap()));
        out
    }

    fn linear(v: &Vocab, piece: &[u8]) -> Vec<u32> {
        let mut out = Vec::new();
        assert!(v.long().unwrap().encode(piece, &mut out));
        out
    }

    #[test]
    fn every_builtin_vocabulary_meets_the_linear_encoders_condition() {
        for e in Encoding::ALL {
            let t = std::time::Instant::now();
            let v = Vocab::of(e);
            assert!(v.long().is_some(), "{e}");
            eprintln!("{e}: linear encoder built in {:?}", t.elapsed());
            // Every token encodes as the reference merge has it (itself,
            // except for tokens no merge reaches, such as special tokens).
            let mut unreached = 0;
            for rank in 0..v.n as u32 {
                let bytes = v.token(rank).unwrap();
                let want = reference(&v, bytes);
                unreached += usize::from(want != [rank]);
                assert_eq!(linear(&v, bytes), want, "{e}: token {rank} {bytes:?}");
            }
            eprintln!(
                "{e}: {unreached} tokens no merge reaches; {:?}",
                v.long().unwrap()
            );
        }
    }

    /// The short and mid-length tables answer as the general table does:
    /// every token, and byte strings that are not tokens (cut or extended
    /// tokens, random bytes).
    #[test]
    fn the_short_tables_agree_with_the_general_table() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for e in Encoding::ALL {
            let v = Vocab::of(e);
            assert!(v.short.is_some(), "{e}: the short tables are built");
            for rank in 0..v.n as u32 {
                let bytes = v.token(rank).unwrap();
                assert_eq!(v.rank(bytes), v.table_rank(bytes), "{e}: {bytes:?}");
                let mut longer = bytes.to_vec();
                longer.push(rng.next() as u8);
                assert_eq!(v.rank(&longer), v.table_rank(&longer), "{e}: {longer:?}");
                assert_eq!(
                    v.rank(&bytes[1..]),
                    v.table_rank(&bytes[1..]),
                    "{e}: {:?}",
                    &bytes[1..]
                );
            }
            let mut found = 0;
            for _ in 0..200_000 {
                let len = 1 + rng.below(MID_TOKEN + 2);
                let p: Vec<u8> = (0..len).map(|_| b"aeiost \n"[rng.below(8)]).collect();
                let r = v.rank(&p);
                assert_eq!(r, v.table_rank(&p), "{e}: {p:?}");
                found += usize::from(r.is_some());
            }
            assert!(found > 1000, "{e}: {found} random pieces are tokens");
        }
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Pieces built from tokens: random tokens glued together, a token
    /// repeated, tokens with their first or last byte cut, random bytes.
    fn piece(v: &Vocab, rng: &mut Rng) -> Vec<u8> {
        let len = 1 + rng.below(600);
        let mut p = Vec::new();
        let kind = rng.below(5);
        let tok = |rng: &mut Rng| v.token(rng.below(v.n) as u32).unwrap();
        while p.len() < len {
            match kind {
                0 => p.extend_from_slice(tok(rng)),
                1 => {
                    let t = tok(rng);
                    for _ in 0..1 + rng.below(40) {
                        p.extend_from_slice(t);
                    }
                }
                2 => {
                    let t = tok(rng);
                    let cut = rng.below(2);
                    p.extend_from_slice(
                        &t[cut.min(t.len() - 1)..t.len() - (1 - cut) * (t.len() > 1) as usize],
                    );
                }
                3 => p.push(rng.next() as u8),
                _ => {
                    // A few distinct tokens, picked over and over.
                    let pool: Vec<&[u8]> = (0..3).map(|_| tok(rng)).collect();
                    for _ in 0..len {
                        p.extend_from_slice(pool[rng.below(3)]);
                    }
                }
            }
        }
        p
    }

    #[test]
    fn the_linear_encoder_agrees_with_the_reference_merge() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for e in Encoding::ALL {
            let v = Vocab::of(e);
            for _ in 0..3000 {
                let p = piece(&v, &mut rng);
                assert_eq!(linear(&v, &p), reference(&v, &p), "{e}: {p:?}");
            }
        }
    }

    /// The merge in chunks, as counting and encoding run it on pieces
    /// longer than the quadratic scan's limit.
    fn chunked(v: &Vocab, piece: &[u8]) -> Vec<u32> {
        let mut out = Vec::new();
        v.encode_piece(piece, &mut out);
        assert_eq!(v.count_piece(piece), out.len());
        out
    }

    #[test]
    fn the_chunked_merge_agrees_with_the_reference_merge() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ 0x5DEE_CE66);
        for e in Encoding::ALL {
            let v = Vocab::of(e);
            let mut long = 0;
            for _ in 0..3000 {
                let p = piece(&v, &mut rng);
                long += usize::from(p.len() > MERGE_LINEAR_MAX);
                assert_eq!(chunked(&v, &p), reference(&v, &p), "{e}: {p:?}");
            }
            assert!(long > 1000, "{e}: {long} pieces took the chunks");
            for unit in [
                "a", " ", "\n", "!", "中", "0", "ab", "=-", "aab", "🎉", "é", ".:",
            ] {
                for n in [97, 193, 256, 500, 1000, 4097] {
                    let p = unit.repeat(n);
                    let p = p.as_bytes();
                    assert_eq!(chunked(&v, p), reference(&v, p), "{e}: {unit:?} x {n}");
                }
            }
        }
    }

    #[test]
    fn long_runs_agree_with_the_reference_merge() {
        for e in Encoding::ALL {
            let v = Vocab::of(e);
            for unit in ["a", " ", "\n", "!", "中", "0", "ab", "=-", "aab", "🎉", "é"] {
                for n in [193, 200, 255, 256, 257, 500, 1000, 4097] {
                    let p = unit.repeat(n);
                    assert_eq!(
                        linear(&v, p.as_bytes()),
                        reference(&v, p.as_bytes()),
                        "{e}: {unit:?} x {n}"
                    );
                }
            }
        }
    }
}
