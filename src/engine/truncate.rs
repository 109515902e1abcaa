//! Overflow `truncate`: cut an item at a token boundary so that it fills a
//! given number of tokens as exactly as possible, marker included.
//!
//! Cut points are [`Tokenizer::token_boundaries`]; keeping `k` of the `m`
//! tokens gives a candidate text (head: the first `k`, then the marker;
//! tail: the marker, then the last `k`; middle: the first `⌈k/2⌉`, the
//! marker, the last `⌊k/2⌋`). Every candidate is counted exactly; the search
//! gallops from a guess near the limit (so that it counts texts about the
//! size of the result, not of the whole item), then bisects, then probes a
//! few steps past the bisection because retokenizing at a cut can make a
//! longer candidate count fewer tokens.

use crate::tokens::{CountCache, Tokenizer};

use super::TruncateSide;

/// How many candidates past the bisection are still tried.
const PROBES: usize = 3;

/// The longest cut of `text` whose count is at most `limit`, with its count.
/// `None` when not even one token of the text fits with the marker, or when
/// the text has fewer than two cut points.
pub(super) fn truncate(
    tokenizer: &Tokenizer,
    cache: &CountCache,
    text: &str,
    side: TruncateSide,
    marker: &str,
    limit: usize,
) -> Option<(String, usize)> {
    let mut points = vec![0usize];
    points.extend(tokenizer.token_boundaries(text));
    let m = points.len() - 1;
    if m < 2 {
        return None;
    }
    let lead = marker.trim_start();
    let candidate = |k: usize| -> String {
        match side {
            TruncateSide::Head => format!("{}{marker}", &text[..points[k]]),
            TruncateSide::Tail => {
                let kept = &text[points[m - k]..];
                if lead.is_empty() {
                    kept.to_string()
                } else {
                    format!("{lead} {kept}")
                }
            }
            TruncateSide::Middle => {
                let h = k.div_ceil(2);
                let t = k - h;
                let head = &text[..points[h]];
                let tail = &text[points[m - t]..];
                if lead.is_empty() || t == 0 {
                    format!("{head}{marker}{tail}")
                } else {
                    format!("{head}{marker} {tail}")
                }
            }
        }
    };
    let fits = |k: usize| -> Option<(String, usize)> {
        let c = candidate(k);
        let n = cache.count(tokenizer, &c);
        (n <= limit).then_some((c, n))
    };

    // Keep `best` = the largest k known to fit, `hi` = the smallest k known
    // not to (m means untested: k = m would be the whole text).
    let marker_tokens = cache.count(tokenizer, marker);
    let guess = limit.saturating_sub(marker_tokens).clamp(1, m - 1);
    let mut best: Option<(usize, String, usize)> = None;
    let mut hi = m;
    if let Some((c, n)) = fits(guess) {
        best = Some((guess, c, n));
        let mut step = 1;
        loop {
            let k = guess + step;
            if k >= hi || k > m - 1 {
                break;
            }
            match fits(k) {
                Some((c, n)) => best = Some((k, c, n)),
                None => {
                    hi = k;
                    break;
                }
            }
            step *= 2;
        }
    } else {
        hi = guess;
        let mut step = 1;
        while hi > 1 {
            let k = hi.saturating_sub(step).max(1);
            match fits(k) {
                Some((c, n)) => {
                    best = Some((k, c, n));
                    break;
                }
                None => hi = k,
            }
            step *= 2;
        }
    }
    let (mut lo, mut text_best, mut count_best) = best?;
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        match fits(mid) {
            Some((c, n)) => (lo, text_best, count_best) = (mid, c, n),
            None => hi = mid,
        }
    }
    for k in hi + 1..=(hi + PROBES).min(m - 1) {
        if let Some((c, n)) = fits(k) {
            (text_best, count_best) = (c, n);
        }
    }
    Some((text_best, count_best))
}
