//! Counting a large text on every core: the text is split into chunks, the
//! pieces of each chunk are scanned from its start in parallel, and the
//! scans are joined where they meet the scan from the text's start
//! ([`count_synced`]). The built-in encodings, tiktoken rank files,
//! tokenizer.json files whose first pre-tokenizer is a split pattern, and
//! SentencePiece models (cut where their words are) all count this way.

use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The largest chunk a text is counted in on several threads (see
/// [`parallel_chunk_for`]), unless [`set_parallel_sizes`] says otherwise.
pub(crate) const PARALLEL_CHUNK: usize = 256 * 1024;

static CHUNK: AtomicUsize = AtomicUsize::new(PARALLEL_CHUNK);

/// The smallest chunk a text is cut into for [`parallel_chunk_for`]: a
/// file of 16 KB of random words counted on two threads in chunks of 4 KiB
/// takes 6 % more CPU time than on one and 0.57 times the wall time (8 KB:
/// 16 % more, 0.7 times); a folder's files are counted side by side
/// anyway, and took the same time as with 16 KiB chunks.
const MIN_CHUNK: usize = 4 * 1024;

/// The size of the chunks a text of `len` bytes is counted in: about four
/// per thread of the current rayon pool, from 4 KiB to [`PARALLEL_CHUNK`]
/// (or the size [`set_parallel_sizes`] set, which also lowers the floor).
/// A text under two chunks is counted on one thread, so a file of 8 KiB
/// or more uses every core: a minified script of 80 KB is one line that a
/// slow tokenizer counts at 15 MB/s a core.
pub(crate) fn parallel_chunk_for(len: usize) -> usize {
    let most = CHUNK.load(Ordering::Relaxed);
    let threads = rayon::current_num_threads().max(1);
    (len / (4 * threads)).clamp(MIN_CHUNK.min(most), most)
}

/// Whether a text of `len` bytes is counted in chunks on several threads
/// (at least two of [`parallel_chunk_for`]); cheap for the short pieces it
/// is asked about one by one.
#[inline]
pub(crate) fn splits(len: usize) -> bool {
    len >= 2 * MIN_CHUNK.min(CHUNK.load(Ordering::Relaxed)) && len >= 2 * parallel_chunk_for(len)
}

/// Sets, for the whole process, the most bytes of the chunks that a text
/// is counted in on several threads (256 KiB by default; smaller texts are
/// cut into smaller chunks, down to 4 KiB or this size if smaller) and the symbols of the parts that a long word is
/// merged in (words at least twice as long are; 262,144 by default).
/// Counts never depend on them: tests shrink them so that short texts go
/// through the parallel paths too. Zero keeps a size as it is.
#[doc(hidden)]
pub fn set_parallel_sizes(chunk_bytes: usize, run_symbols: usize) {
    if chunk_bytes > 0 {
        CHUNK.store(chunk_bytes, Ordering::Relaxed);
    }
    if run_symbols > 0 {
        super::seams::set_parallel_run(run_symbols);
    }
}

/// A stop rule for a [`Scan`]: called with the end of each piece and the
/// tokens counted since the scan's start (that piece's included); the scan
/// stops after the piece for which it returns true.
pub(crate) type Stop<'a> = &'a mut dyn FnMut(usize, usize) -> bool;

/// A scan of a text's pieces from a position: `scan(from, until, stop)`
/// counts the tokens of the pieces of the scan that starts at character
/// boundary `from`, calls `stop` after each piece, and returns the end of
/// the last piece counted and the tokens counted, when `stop` says so, the
/// text ends, or the next piece would end past `until` (that piece is not
/// counted; a scan may read only [`LOOKAHEAD`] bytes past `until`, see
/// [`view_until`]).
///
/// Scans must not look behind: two scans that reach the same piece end go
/// on alike, whichever position each started from.
pub(crate) trait Scan: Fn(usize, usize, Stop<'_>) -> (usize, usize) + Sync {}
impl<F: Fn(usize, usize, Stop<'_>) -> (usize, usize) + Sync> Scan for F {}

/// How far past a scan's `until` the pre-tokenizer may have to read to end
/// a piece that ends before `until`: its patterns look ahead a character or
/// two (`\s+(?!\S)`, a contraction after a word), and a longer match is a
/// piece that ends past `until` anyway.
pub(crate) const LOOKAHEAD: usize = 64;

/// The part of `text` a scan up to `until` reads: all of it, or up to the
/// first character boundary [`LOOKAHEAD`] bytes or more past `until`.
pub(crate) fn view_until(text: &str, until: usize) -> &str {
    let mut end = until.saturating_add(LOOKAHEAD);
    if end >= text.len() {
        return text;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    &text[..end]
}

/// How many piece ends of its chunk each worker of [`count_synced`] keeps.
const KEPT_ENDS: usize = 1024;

/// What one worker of [`count_synced`] found from its chunk's start: its
/// first piece ends, each with the tokens counted up to it (the start
/// itself first, with none), where it stopped, and the tokens up to there.
struct Scanned {
    ends: Vec<(usize, usize)>,
    end: usize,
    tokens: usize,
}

/// The tokens of all the pieces of `text`'s scan from its start, counted on
/// every core when `text` is at least two `chunk`s long (and the rayon pool
/// has more than one thread), for any scan without look-behind.
///
/// The text is split into chunks near every `chunk` bytes, and each chunk's
/// pieces are scanned on their own from its start, in parallel, up to the
/// first piece end at or past the next chunk's start. A chunk's start may
/// not be where the whole text's scan has a piece end (a start in a run of
/// digits, say), so the scans are then joined in order: the whole text's
/// scan, known up to the end of the chunks before, is followed until it
/// reaches a piece end the chunk's own scan also has; from there on the two
/// are the same scan, and the chunk's count after that end is taken. Where
/// they never meet in the chunk's first piece ends, the chunk is scanned
/// again from the whole text's last piece end. The sum is therefore the
/// count of the scan from the text's start, whatever the cuts.
pub(crate) fn count_synced(text: &str, chunk: usize, scan: impl Scan) -> usize {
    let n = text.len();
    if chunk == 0 || n < 2 * chunk || rayon::current_num_threads() < 2 {
        return scan(0, n, &mut |_, _| false).1;
    }
    let mut starts = vec![0];
    let mut at = chunk;
    while at + chunk / 2 < n {
        let start = start_near(text, at);
        if start >= n {
            break;
        }
        starts.push(start);
        at = start + chunk;
    }
    let limit = |k: usize| starts.get(k + 1).copied().unwrap_or(n);
    let scanned: Vec<Scanned> = (0..starts.len())
        .into_par_iter()
        .map(|k| {
            let stop_at = limit(k);
            let mut ends = vec![(starts[k], 0)];
            // A piece that ends far past the chunk (a long word) is left to
            // the scan that joins the chunks: from here it may not even be
            // one of the text's pieces. So is the text's last piece, which
            // that scan counts anyway: when the last chunk lies in a long
            // word, the piece from its start is a part of the word that
            // would be merged for nothing while the other workers wait.
            let until = (stop_at + (chunk / 2).min(16 * 1024)).min(n - 1);
            let (end, tokens) = scan(starts[k], until, &mut |e, t| {
                if ends.len() < KEPT_ENDS {
                    ends.push((e, t));
                }
                e >= stop_at
            });
            Scanned { ends, end, tokens }
        })
        .collect();
    let mut total = scanned[0].tokens;
    let mut pos = scanned[0].end;
    for (k, own) in scanned.iter().enumerate() {
        let stop_at = limit(k);
        if pos >= stop_at {
            // The pieces before reach past this whole chunk.
            continue;
        }
        if k > 0 {
            let before = |e: usize| {
                own.ends
                    .binary_search_by_key(&e, |&(end, _)| end)
                    .ok()
                    .map(|i| own.ends[i].1)
            };
            let last = own.ends.last().map_or(0, |&(e, _)| e);
            let mut met = before(pos);
            if met.is_none() && pos < last {
                let (e, t) = scan(pos, n, &mut |e, _| {
                    met = before(e);
                    met.is_some() || e >= last || e >= stop_at
                });
                total += t;
                pos = e;
            }
            if let Some(t) = met {
                total += own.tokens - t;
                pos = own.end;
            }
        }
        if pos < stop_at {
            let (e, t) = scan(pos, n, &mut |e, _| e >= stop_at);
            total += t;
            pos = e;
        }
    }
    total
}

/// A chunk start at or after `at`: just after the first line break in the
/// next 512 bytes (where a scan most often has a piece end), else the first
/// character boundary.
fn start_near(text: &str, at: usize) -> usize {
    let s = text.as_bytes();
    let window = &s[at..(at + 512).min(s.len())];
    if let Some(i) = window.iter().position(|&b| b == b'\n') {
        return at + i + 1;
    }
    let mut p = at;
    while !text.is_char_boundary(p) {
        p += 1;
    }
    p
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(f)
    }

    /// A scanner whose pieces depend on where it starts: runs of digits in
    /// threes from the run's start (`\p{N}{1,3}`), a letter with the
    /// spaces after it, any other byte alone. A piece counts as its length
    /// in tokens, so a wrong join shows in the total. A piece that ends
    /// past `until` is not counted, as the contract says.
    fn scan(text: &str, from: usize, until: usize, stop: Stop<'_>) -> (usize, usize) {
        let s = text.as_bytes();
        let (mut i, mut total) = (from, 0);
        while i < s.len() {
            let mut e = i + 1;
            if s[i].is_ascii_digit() {
                while e < s.len() && e < i + 3 && s[e].is_ascii_digit() {
                    e += 1;
                }
            } else if s[i].is_ascii_alphabetic() {
                while e < s.len() && s[e] == b' ' {
                    e += 1;
                }
            }
            if e > until {
                break;
            }
            total += e - i + 1;
            i = e;
            if stop(e, total) {
                break;
            }
        }
        (i, total)
    }

    fn serial(text: &str) -> usize {
        scan(text, 0, text.len(), &mut |_, _| false).1
    }

    /// Random texts of digit runs (some longer than a chunk, so chunk
    /// starts fall out of step with the whole text's threes), letters and
    /// runs of spaces (some longer than a chunk): the parallel count equals
    /// the serial one for every chunk size and thread count.
    #[test]
    fn synced_counts_equal_the_serial_count() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..200 {
            let mut text = String::new();
            while text.len() < 3000 {
                let len = match next() % 10 {
                    0 => 200 + next() as usize % 3000,
                    _ => 1 + next() as usize % 12,
                };
                let c = match next() % 4 {
                    0 => 'a',
                    1 => ' ',
                    2 => '7',
                    _ => ['x', '\n', '-'][next() as usize % 3],
                };
                for _ in 0..len {
                    text.push(c);
                }
            }
            let want = serial(&text);
            for chunk in [16, 64, 300, 1024] {
                for n in [2, 3] {
                    let got = threads(n, || {
                        count_synced(&text, chunk, |from, until, stop| {
                            scan(&text, from, until, stop)
                        })
                    });
                    assert_eq!(got, want, "round {round}, chunk {chunk}, {n} threads");
                }
            }
        }
    }

    /// A large text is scanned from several places at once; a small one, or
    /// one on a single thread, once from its start.
    #[test]
    fn large_texts_are_scanned_in_parallel_chunks() {
        let text = "word 123\n".repeat(400);
        let starts = |n: usize, chunk: usize| {
            let calls = AtomicUsize::new(0);
            let got = threads(n, || {
                count_synced(&text, chunk, |from, until, stop| {
                    if from > 0 {
                        calls.fetch_add(1, Ordering::Relaxed);
                    }
                    scan(&text, from, until, stop)
                })
            });
            assert_eq!(got, serial(&text));
            calls.into_inner()
        };
        assert!(starts(2, 256) >= text.len() / 256 - 2);
        assert_eq!(starts(2, 4096), 0);
        assert_eq!(starts(1, 256), 0);
        let empty = threads(2, || count_synced("", 0, |f, u, s| scan("", f, u, s)));
        assert_eq!(empty, 0);
    }

    /// The text's last piece is counted once, by the scan that joins the
    /// chunks: when the last chunk lies in a long piece (a word of
    /// megabytes), the worker of that chunk does not count the part of it
    /// from the chunk's start, which the join would throw away.
    #[test]
    fn the_last_piece_is_counted_once() {
        for text in [format!("x{}", " ".repeat(5000)), "word 123\n".repeat(400)] {
            let n = text.len();
            let last = AtomicUsize::new(0);
            let got = threads(2, || {
                count_synced(&text, 256, |from, until, stop| {
                    scan(&text, from, until, &mut |e, t| {
                        if e == n {
                            last.fetch_add(1, Ordering::Relaxed);
                        }
                        stop(e, t)
                    })
                })
            });
            assert_eq!(got, serial(&text));
            assert_eq!(last.into_inner(), 1);
        }
    }
}
