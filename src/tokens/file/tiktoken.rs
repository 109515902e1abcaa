//! tiktoken rank files: one `base64token rank` pair per line.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustc_hash::FxHashMap;

use super::bpe::Merges;

/// The split pattern of `cl100k_base` as tiktoken has it today; the default
/// for rank files.
pub const CL100K_PATTERN: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s";

/// The older form of the cl100k pattern, which Llama 3 uses (in its
/// `tokenizer.json` and `tokenizer.model`). It cuts whitespace at the end of a
/// text into different pieces from [`CL100K_PATTERN`] (`"\n  "` is one piece
/// there, two here); tiktoken rewrote the pattern so that tokens come out the
/// same, which the tests check.
pub const LLAMA3_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The split pattern of `o200k_base`.
pub const O200K_PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
);

/// The split pattern of `r50k_base` and `p50k_base` as tiktoken has it.
pub const GPT2_PATTERN: &str =
    r"'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s";

/// The split pattern of the HuggingFace `ByteLevel` pre-tokenizer
/// (`use_regex`), as in GPT-2's `tokenizer.json`.
pub const BYTE_LEVEL_PATTERN: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// The split pattern of Qwen 2, 2.5 and 3.
pub const QWEN2_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The main split pattern of DeepSeek V3 (after its digit and CJK splits),
/// with line breaks as the characters themselves, as in its
/// `tokenizer.json`.
pub const DEEPSEEK3_PATTERN: &str = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

/// A pattern by name (`cl100k`, `o200k`, `gpt2`/`r50k`/`p50k`, `llama3`,
/// `qwen2`), or the text itself as a regular expression.
pub fn named_pattern(name_or_regex: &str) -> &str {
    match name_or_regex.trim().to_ascii_lowercase().as_str() {
        "cl100k" | "cl100k_base" => CL100K_PATTERN,
        "llama3" | "llama-3" | "llama_3" => LLAMA3_PATTERN,
        "o200k" | "o200k_base" => O200K_PATTERN,
        "gpt2" | "r50k" | "r50k_base" | "p50k" | "p50k_base" => GPT2_PATTERN,
        "qwen2" | "qwen" => QWEN2_PATTERN,
        _ => name_or_regex,
    }
}

/// A parsed rank file.
pub(super) struct Ranks {
    /// Token bytes -> rank (the rank is the token id).
    pub encoder: FxHashMap<Vec<u8>, u32>,
    /// Rank -> token bytes.
    pub decoder: Vec<Option<Box<[u8]>>>,
    /// Pair merges derived from the ranks.
    pub merges: Merges,
    /// The id of each single byte.
    pub byte_ids: [u32; 256],
}

/// A problem on one line of a rank file (1-based line).
pub(super) struct RankError {
    pub line: usize,
    pub message: String,
}

/// Parses a rank file and derives its merges.
pub(super) fn parse(text: &str) -> Result<Ranks, RankError> {
    let mut encoder: FxHashMap<Vec<u8>, u32> = FxHashMap::default();
    let mut max_rank = 0u32;
    let mut seen_ranks: FxHashMap<u32, usize> = FxHashMap::default();
    for (k, raw) in text.lines().enumerate() {
        let line_no = k + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let err = |message: String| RankError {
            line: line_no,
            message,
        };
        let mut fields = line.split_ascii_whitespace();
        let (Some(token), Some(rank), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(err(format!(
                "expected `base64token rank`, found `{}`",
                shorten(line)
            )));
        };
        let bytes = STANDARD
            .decode(token)
            .map_err(|e| err(format!("`{}` is not valid base64: {e}", shorten(token))))?;
        if bytes.is_empty() {
            return Err(err("the token is empty".into()));
        }
        let rank: u32 = rank.parse().map_err(|_| {
            err(format!(
                "the rank `{}` is not a whole number below 2^32",
                shorten(rank)
            ))
        })?;
        if let Some(first) = seen_ranks.insert(rank, line_no) {
            return Err(err(format!(
                "rank {rank} is given twice (first on line {first})"
            )));
        }
        if encoder.insert(bytes.clone(), rank).is_some() {
            return Err(err(format!("the token `{token}` is given twice")));
        }
        max_rank = max_rank.max(rank);
    }
    if encoder.is_empty() {
        return Err(RankError {
            line: 1,
            message: "the file has no tokens".into(),
        });
    }
    if max_rank as usize > encoder.len() * 4 + 1_000_000 {
        return Err(RankError {
            line: seen_ranks[&max_rank],
            message: format!(
                "rank {max_rank} is far beyond the {} tokens in the file",
                encoder.len()
            ),
        });
    }
    let mut byte_ids = [0u32; 256];
    for (b, slot) in byte_ids.iter_mut().enumerate() {
        *slot = *encoder.get(&[b as u8][..]).ok_or_else(|| RankError {
            line: text.lines().count().max(1),
            message: format!(
                "no token for the single byte 0x{b:02X}; a rank file must have all 256 single bytes"
            ),
        })?;
    }
    let mut decoder: Vec<Option<Box<[u8]>>> = vec![None; max_rank as usize + 1];
    let mut merges = Merges::default();
    for (bytes, &rank) in &encoder {
        decoder[rank as usize] = Some(bytes.clone().into_boxed_slice());
        for split in 1..bytes.len() {
            let (left, right) = bytes.split_at(split);
            if let (Some(&l), Some(&r)) = (encoder.get(left), encoder.get(right)) {
                merges.insert_lowest(l, r, rank, rank);
            }
        }
    }
    Ok(Ranks {
        encoder,
        decoder,
        merges,
        byte_ids,
    })
}

/// A value from the file quoted in an error: escaped (the file may hold
/// terminal controls) and cut to 40 characters.
fn shorten(s: &str) -> String {
    crate::text::escape::line_cut(s, 40)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::Encoding;
    use crate::tokens::vocab::Vocab;

    #[test]
    fn rank_files_of_the_builtin_encodings_get_the_linear_encoder() {
        for e in [Encoding::Cl100kBase, Encoding::R50kBase] {
            let v = Vocab::of(e);
            let lines: Vec<String> = (0..)
                .map_while(|rank| {
                    v.token(rank)
                        .map(|b| format!("{} {rank}", STANDARD.encode(b)))
                })
                .collect();
            let ranks = parse(&lines.join("\n")).ok().unwrap();
            assert!(ranks.merges.long().is_some(), "{e}");
            let mut out = Vec::new();
            let ids = vec![ranks.byte_ids[b'a' as usize]; 5000];
            ranks.merges.apply(&ids, &mut out);
            let mut want = Vec::new();
            v.encode_piece(&[b'a'; 5000], &mut want);
            assert_eq!(out, want, "{e}");
        }
    }
}
