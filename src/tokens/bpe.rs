//! Exact counting and encoding for the tiktoken encodings: split with the
//! hand-written pre-tokenizers, then look each piece up in a per-thread piece
//! cache (text repeats its pieces: a few percent of them are distinct), the
//! vocabulary, or run the byte-pair merge. Large texts are cut at safe points
//! and counted on all cores.

use std::cell::RefCell;

use super::Encoding;
use super::chunks::{Stop, count_synced, parallel_chunk_for, view_until};
use super::piece_cache::{PieceCache, clear_file_caches};
use super::pretok::{for_each_piece, scan_pieces};
use super::vocab::Vocab;

thread_local! {
    static PIECES: RefCell<[PieceCache; 4]> = RefCell::new(Default::default());
}

/// Empties the calling thread's piece caches, and those of the threads of
/// the current rayon pool, so the next count starts cold (for benchmarks).
pub fn clear_piece_caches() {
    let clear = || {
        PIECES.with(|cell| cell.borrow_mut().iter_mut().for_each(PieceCache::clear));
        clear_file_caches();
    };
    clear();
    rayon::broadcast(|_| clear());
}

/// Counts `text` as ordinary text, on every core when it is large.
pub(crate) fn count_ordinary(enc: Encoding, text: &str) -> usize {
    count_synced(text, parallel_chunk_for(text.len()), |from, until, stop| {
        count_scan(enc, text, from, until, stop)
    })
}

/// Counts the pieces of the scan of `text` from `from` on this thread, up to
/// the piece after which `stop(end, tokens so far)` says to stop or before
/// one that ends past `until`: returns where it stopped and the tokens
/// counted (a [`Scan`](super::chunks::Scan)).
pub(crate) fn count_scan(
    enc: Encoding,
    text: &str,
    from: usize,
    until: usize,
    stop: Stop<'_>,
) -> (usize, usize) {
    let enc = enc.table();
    let vocab = Vocab::of(enc);
    let view = view_until(text, until);
    PIECES.with(|cell| match cell.try_borrow_mut() {
        Ok(mut caches) => {
            let cache = &mut caches[enc as usize];
            cache.bound();
            scan_counts(enc, view, from, until, stop, |piece| {
                count_cached(cache, &vocab, piece)
            })
        }
        // Taken already when this thread, waiting for the parts of a long
        // piece merged on every core, runs another count meanwhile.
        Err(_) => scan_counts(enc, view, from, until, stop, |piece| {
            vocab.count_piece(piece)
        }),
    })
}

/// [`count_scan`]'s loop, each piece counted by `count`.
#[inline(always)]
fn scan_counts(
    enc: Encoding,
    view: &str,
    from: usize,
    until: usize,
    stop: Stop<'_>,
    mut count: impl FnMut(&[u8]) -> usize,
) -> (usize, usize) {
    let mut total = 0usize;
    let mut done = from;
    scan_pieces(enc, view, from, |piece, end| {
        if end > until {
            return true;
        }
        total += count(piece);
        done = end;
        stop(end, total)
    });
    (done, total)
}

/// The tokens of one piece, through this thread's piece cache when it pays.
#[inline(always)]
fn count_cached(cache: &mut PieceCache, vocab: &Vocab, piece: &[u8]) -> usize {
    if piece.len() == 1 {
        return 1;
    }
    cache.count(piece, |p| vocab.count_piece(p))
}

/// A stretch of text between special-token literals, or one literal's id.
pub(crate) enum Segment<'a> {
    /// Ordinary text.
    Text(&'a str),
    /// A special token.
    Special(u32),
}

/// Splits `text` around the encoding's special-token literals, calling `f`
/// for each segment in order. Ordinary stretches are tokenized separately,
/// as the reference tokenizer does.
pub(crate) fn split_special<'a>(enc: Encoding, text: &'a str, mut f: impl FnMut(Segment<'a>)) {
    let specials = enc.special_tokens();
    let mut start = 0;
    let mut from = 0;
    while let Some(p) = text[from..].find("<|") {
        let at = from + p;
        match specials.iter().find(|(lit, _)| text[at..].starts_with(lit)) {
            Some((lit, id)) => {
                if at > start {
                    f(Segment::Text(&text[start..at]));
                }
                f(Segment::Special(*id));
                start = at + lit.len();
                from = start;
            }
            None => from = at + 2,
        }
    }
    if start < text.len() {
        f(Segment::Text(&text[start..]));
    }
}

/// Counts `text`, with special-token literals as one token each.
pub(crate) fn count_with_special(enc: Encoding, text: &str) -> usize {
    let mut n = 0;
    split_special(enc, text, |seg| match seg {
        Segment::Text(t) => n += count_ordinary(enc, t),
        Segment::Special(_) => n += 1,
    });
    n
}

/// Token ids of `text` as ordinary text.
pub(crate) fn encode_ordinary(enc: Encoding, text: &str) -> Vec<u32> {
    let vocab = Vocab::of(enc);
    let mut out = Vec::with_capacity(text.len() / 3 + 1);
    for_each_piece(enc, text, |piece| match vocab.rank(piece) {
        Some(r) => out.push(r),
        None => vocab.encode_piece(piece, &mut out),
    });
    out
}

/// Token ids of `text` with special-token literals as special tokens.
pub(crate) fn encode_with_special(enc: Encoding, text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    split_special(enc, text, |seg| match seg {
        Segment::Text(t) => out.extend(encode_ordinary(enc, t)),
        Segment::Special(id) => out.push(id),
    });
    out
}

/// The bytes of token ids (special tokens included); `None` for an unknown id.
pub(crate) fn decode_bytes(enc: Encoding, ids: &[u32]) -> Option<Vec<u8>> {
    let vocab = Vocab::of(enc);
    let mut out = Vec::with_capacity(ids.len() * 4);
    for &id in ids {
        match vocab.token(id) {
            Some(b) => out.extend_from_slice(b),
            None => {
                let (lit, _) = enc.special_tokens().iter().find(|(_, sid)| *sid == id)?;
                out.extend_from_slice(lit.as_bytes());
            }
        }
    }
    Some(out)
}

/// The byte length of each token of `text` (ordinary).
pub(crate) fn token_lengths(enc: Encoding, text: &str) -> Vec<usize> {
    let vocab = Vocab::of(enc);
    encode_ordinary(enc, text)
        .into_iter()
        .map(|id| vocab.token(id).map_or(0, <[u8]>::len))
        .collect()
}
