//! Per-thread caches of the token counts of pieces: text repeats its
//! pieces (a few percent of them are distinct in prose and code), and a
//! cached count costs one lookup where a merge costs one per pair. The
//! built-in encodings keep one per encoding (`tokens::bpe`); tokenizer
//! files keep one per loaded tokenizer here, under a number no other
//! tokenizer of the process has. Counts never depend on the caches.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;

use super::gate::CacheGate;

/// A thread's piece cache is cleared when it grows past this many entries.
const PIECE_CACHE_LIMIT: usize = 1 << 18;
/// Pieces longer than this are not cached (they seldom repeat, and copying
/// them would double the memory a long run takes).
const PIECE_CACHE_MAX_LEN: usize = 1024;
/// Pieces this short are counted without the cache: two merges at most
/// cost about what a lookup does, and their frequent hits (digits that a
/// split isolates, replacement characters in binary text) would hide from
/// the gate that the longer pieces miss (random bytes counted 15 % slower
/// through the cache than without it).
const UNCACHED_LEN: usize = 3;
/// How many tokenizer files' caches a thread keeps (the least recently
/// added goes first).
const KEPT_FILE_CACHES: usize = 4;

/// A thread's cached piece counts for one tokenizer: pieces of up to 15
/// bytes packed into a `u128` key (no pointer to follow), longer ones boxed.
///
/// A [`CacheGate`] turns it off for a while on text whose pieces do not
/// repeat.
#[derive(Default)]
pub(crate) struct PieceCache {
    short: FxHashMap<u128, u32>,
    long: FxHashMap<Box<[u8]>, u32>,
    gate: CacheGate,
}

impl PieceCache {
    fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    pub(crate) fn clear(&mut self) {
        self.short.clear();
        self.long.clear();
        self.gate.reset();
    }

    /// Clears the cache when it has grown past its limit (called once per
    /// text or chunk, not per piece).
    pub(crate) fn bound(&mut self) {
        if self.len() > PIECE_CACHE_LIMIT {
            self.clear();
        }
    }

    /// The tokens of `piece`: from the cache when it was counted before and
    /// the cache pays, else `count(piece)` (kept for next time).
    ///
    /// A piece of up to [`UNCACHED_LEN`] bytes is counted without the
    /// cache.
    #[inline(always)]
    pub(crate) fn count(&mut self, piece: &[u8], count: impl FnOnce(&[u8]) -> usize) -> usize {
        if piece.len() <= UNCACHED_LEN || !self.gate.active() {
            return count(piece);
        }
        if let Some(key) = short_key(piece) {
            let before = self.short.len();
            let n = *self.short.entry(key).or_insert_with(|| count(piece) as u32);
            if self.short.len() == before {
                self.gate.hit();
            }
            return n as usize;
        }
        if let Some(&n) = self.long.get(piece) {
            self.gate.hit();
            return n as usize;
        }
        let n = count(piece);
        if piece.len() <= PIECE_CACHE_MAX_LEN {
            self.long.insert(piece.into(), n as u32);
        }
        n
    }
}

#[inline(always)]
fn short_key(piece: &[u8]) -> Option<u128> {
    if piece.len() > 15 {
        return None;
    }
    let mut b = [0u8; 16];
    b[..piece.len()].copy_from_slice(piece);
    b[15] = piece.len() as u8;
    Some(u128::from_le_bytes(b))
}

/// `cache.count(piece, count)`, or `count(piece)` with no cache.
#[inline(always)]
pub(crate) fn cached(
    cache: Option<&mut PieceCache>,
    piece: &[u8],
    count: impl FnOnce(&[u8]) -> usize,
) -> usize {
    match cache {
        Some(c) => c.count(piece, count),
        None => count(piece),
    }
}

/// A number for a tokenizer file's piece caches that no other tokenizer of
/// this process has.
pub(crate) fn new_serial() -> u64 {
    static SERIAL: AtomicU64 = AtomicU64::new(1);
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

thread_local! {
    static FILE_CACHES: RefCell<Vec<(u64, PieceCache)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's piece cache of the tokenizer numbered
/// `serial`; with `None` when this thread's caches are in use already (a
/// thread that waits for the parts of a long piece runs other counts
/// meanwhile).
pub(crate) fn with_file_cache<R>(serial: u64, f: impl FnOnce(Option<&mut PieceCache>) -> R) -> R {
    let mut f = Some(f);
    let ran = FILE_CACHES.try_with(|cell| {
        let mut caches = cell.try_borrow_mut().ok()?;
        let k = match caches.iter().position(|(s, _)| *s == serial) {
            Some(k) => k,
            None => {
                if caches.len() >= KEPT_FILE_CACHES {
                    caches.remove(0);
                }
                caches.push((serial, PieceCache::default()));
                caches.len() - 1
            }
        };
        let cache = &mut caches[k].1;
        cache.bound();
        f.take().map(|f| f(Some(cache)))
    });
    match (ran, f) {
        (Ok(Some(r)), _) => r,
        // The closure did not run, so `f` is still here.
        (_, f) => f.expect("a count that did not run")(None),
    }
}

/// Empties the calling thread's tokenizer-file piece caches.
pub(crate) fn clear_file_caches() {
    let _ = FILE_CACHES.try_with(|cell| {
        if let Ok(mut caches) = cell.try_borrow_mut() {
            caches.clear();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A piece is counted once, then answered from the cache (short and
    /// long keys alike); a piece too long to keep is counted every time.
    #[test]
    fn a_piece_is_counted_once() {
        let mut cache = PieceCache::default();
        let long = vec![b'x'; PIECE_CACHE_MAX_LEN];
        let too_long = vec![b'y'; PIECE_CACHE_MAX_LEN + 1];
        for piece in [
            &b"hello"[..],
            b"exactly fifteen",
            b"sixteen bytes!!!",
            &long,
        ] {
            let mut calls = 0;
            for _ in 0..3 {
                let n = cache.count(piece, |p| {
                    calls += 1;
                    p.len()
                });
                assert_eq!(n, piece.len());
            }
            assert_eq!(calls, 1, "{:?}", String::from_utf8_lossy(piece));
        }
        let mut calls = 0;
        for _ in 0..3 {
            cache.count(&too_long, |p| {
                calls += 1;
                p.len()
            });
        }
        assert_eq!(calls, 3);
        // Pieces that differ only in length (trailing zero bytes) are
        // different keys.
        assert_eq!(cache.count(b"abcd\0", |_| 7), 7);
        assert_eq!(cache.count(b"abcd", |_| 9), 9);
        // Short pieces are counted every time.
        let mut calls = 0;
        for _ in 0..3 {
            cache.count(b"abc", |_| {
                calls += 1;
                1
            });
        }
        assert_eq!(calls, 3);
    }

    /// Each tokenizer has its own cache on a thread; a count run while the
    /// thread's caches are taken gets none.
    #[test]
    fn tokenizers_have_their_own_caches() {
        let (a, b) = (new_serial(), new_serial());
        assert_ne!(a, b);
        with_file_cache(a, |c| c.unwrap().count(b"piece", |_| 1));
        assert_eq!(with_file_cache(a, |c| c.unwrap().count(b"piece", |_| 2)), 1);
        assert_eq!(with_file_cache(b, |c| c.unwrap().count(b"piece", |_| 2)), 2);
        with_file_cache(a, |outer| {
            assert!(outer.is_some());
            assert!(with_file_cache(a, |inner| inner.is_none()));
        });
        clear_file_caches();
        assert_eq!(with_file_cache(a, |c| c.unwrap().count(b"piece", |_| 3)), 3);
    }
}
