//! Counting a large text on every core: the text is cut where no piece of
//! any pattern can span ([`safe_cuts`]), each chunk is counted on its own
//! and the counts are added. The built-in encodings and the tokenizer files
//! (tiktoken rank files, SentencePiece models that map text character for
//! character) all count this way.

use rayon::prelude::*;

use super::pretok::safe_cuts;

/// Texts at least twice this long are counted in parallel chunks of about
/// this size.
pub(crate) const PARALLEL_CHUNK: usize = 256 * 1024;

/// The sum of `count` over the chunks of `text`, counted in parallel when
/// the text is at least two `chunk`s long, the rayon pool has more than one
/// thread and there is a safe place to cut; else `count(text)`.
///
/// `count` must be additive over safe cuts (a count of the pieces a
/// pre-tokenizer splits out, each encoded alone), which is what makes the
/// sum equal the count of the whole text.
pub(crate) fn count_in_chunks(
    text: &str,
    chunk: usize,
    count: impl Fn(&str) -> usize + Sync,
) -> usize {
    if chunk > 0 && text.len() >= 2 * chunk && rayon::current_num_threads() > 1 {
        let cuts = safe_cuts(text, chunk);
        if !cuts.is_empty() {
            let mut bounds = Vec::with_capacity(cuts.len() + 2);
            bounds.push(0);
            bounds.extend(cuts);
            bounds.push(text.len());
            return bounds
                .par_windows(2)
                .map(|w| count(&text[w[0]..w[1]]))
                .sum();
        }
    }
    count(text)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn two_threads<T: Send>(f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
            .install(f)
    }

    /// The chunks counted: (byte offset in the text, the chunk), in order.
    fn chunks(text: &str, chunk: usize) -> (usize, Vec<(usize, String)>) {
        let seen = Mutex::new(Vec::new());
        let total = count_in_chunks(text, chunk, |c| {
            let at = c.as_ptr() as usize - text.as_ptr() as usize;
            seen.lock().unwrap().push((at, c.to_string()));
            c.split_whitespace().count()
        });
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        (total, seen)
    }

    #[test]
    fn large_texts_are_cut_only_before_a_newline_after_a_letter() {
        let text = "word\n".repeat(40) + "x 1 2\n3 4\n";
        let (total, seen) = two_threads(|| chunks(&text, 32));
        assert_eq!(total, text.split_whitespace().count());
        assert!(seen.len() > 1, "{seen:?}");
        let joined: String = seen.iter().map(|(_, c)| c.as_str()).collect();
        assert_eq!(joined, text);
        let mut at = 0;
        for (offset, c) in &seen {
            assert_eq!(*offset, at);
            if *offset > 0 {
                assert!(c.starts_with('\n'), "{c:?}");
                assert!(text.as_bytes()[offset - 1].is_ascii_alphabetic());
            }
            at += c.len();
        }
    }

    #[test]
    fn small_texts_one_thread_or_no_cut_count_whole() {
        let text = "word\n".repeat(40);
        let (_, seen) = two_threads(|| chunks(&text, 4096));
        assert_eq!(seen, vec![(0, text.clone())]);
        let (_, seen) = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| chunks(&text, 32));
        assert_eq!(seen.len(), 1);
        // Digits before every newline: nowhere is safe to cut.
        let digits = "123\n".repeat(40);
        let (total, seen) = two_threads(|| chunks(&digits, 32));
        assert_eq!((total, seen.len()), (40, 1));
        let (total, _) = two_threads(|| chunks("", 0));
        assert_eq!(total, 0);
    }
}
