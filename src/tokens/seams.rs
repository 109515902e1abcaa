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

/// A token and the position of its first symbol.
pub(crate) type Placed<T> = (T, usize);

/// The merge of symbols `0..n`: `merge(range, out)` appends the merge of
/// the symbols in `range`, each token with its first symbol's position;
/// `holds(a, b, end)` tells whether tokens `a` then `b` (the latter ending
/// at symbol `end`) are the merge of their own symbols. `None` when a
/// seam's window grows past `max_window` symbols, or when the windows
/// merged again add up to more than four times the run so far (runs whose
/// tokens are longer than a chunk, such as long runs of spaces, whose
/// every seam fails): the caller then takes another merge.
pub(crate) fn merge_in_chunks<T: Copy>(
    n: usize,
    chunk: usize,
    max_window: usize,
    mut merge: impl FnMut(Range<usize>, &mut Vec<Placed<T>>),
    mut holds: impl FnMut(Placed<T>, Placed<T>, usize) -> bool,
) -> Option<Vec<Placed<T>>> {
    let mut tokens: Vec<Placed<T>> = Vec::with_capacity(n / 2);
    let mut window: Vec<Placed<T>> = Vec::new();
    let mut at = 0;
    let mut redone = 0;
    while at < n {
        let end = (at + chunk).min(n);
        let seam = tokens.len();
        merge(at..end, &mut tokens);
        at = end;
        if seam == 0 || seam == tokens.len() {
            continue;
        }
        // Tokens `..seam` are the merge of the symbols before the chunk,
        // tokens `seam..` the chunk's; make the seam between them hold.
        let end_of = |tokens: &[Placed<T>], k: usize| tokens.get(k + 1).map_or(end, |t| t.1);
        let seam_end = end_of(&tokens, seam);
        redone += seam_end - tokens[seam - 1].1;
        if holds(tokens[seam - 1], tokens[seam], seam_end) {
            continue;
        }
        let mut reach = 1;
        loop {
            let lo = seam.saturating_sub(reach);
            let hi = (seam + reach).min(tokens.len());
            let (from, to) = (tokens[lo].1, end_of(&tokens, hi - 1));
            // The window, and the two seams checked around it.
            redone += 2 * (to - from);
            if to - from > max_window || redone > 4 * end + 4096 {
                return None;
            }
            window.clear();
            merge(from..to, &mut window);
            let left_holds = lo == 0 || {
                let first_end = window.get(1).map_or(to, |t| t.1);
                holds(tokens[lo - 1], window[0], first_end)
            };
            let right_holds = hi == tokens.len()
                || holds(window[window.len() - 1], tokens[hi], end_of(&tokens, hi));
            if left_holds && right_holds {
                tokens.splice(lo..hi, window.drain(..));
                break;
            }
            reach *= 2;
        }
    }
    Some(tokens)
}
