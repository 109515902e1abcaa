//! Counting speed on inputs made of very long pieces (runs the pre-tokenizer
//! cannot split), for the built-in encodings and for tokenizer files made
//! from `o200k_base` (a tiktoken rank file and a byte-level
//! `tokenizer.json`).
//!
//! ```text
//! cargo run --release --example long_pieces [CASE|all] [TOKENIZER|all] [MB]
//! ```
//! Cases: `a` (one letter repeated), `cjk` (one CJK character repeated),
//! `letters` (random lowercase letters, no spaces), `base64` (a base64 blob
//! without line breaks), `digits`, `punct` (random ASCII punctuation),
//! `spaces`, `js` (minified JavaScript on one line), `lossy` (random bytes
//! read as UTF-8, invalid sequences replaced), and `words:L` (random words
//! of `L` lowercase letters). Tokenizers: `cl100k`,
//! `o200k`, `o200k.tiktoken`, `o200k.json`. `MB` (default 16) is the input
//! size. Prints MB/s (best of three, one thread, by the process's CPU
//! time, which other processes on a shared machine do not inflate) and the
//! token count. Run one case under `/usr/bin/time -v` for the peak
//! resident set.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use tokenscope::tokens::file::{FileTokenizer, O200K_PATTERN, TiktokenOptions};
use tokenscope::tokens::{Encoding, Tokenizer, clear_piece_caches};

const CASES: &[&str] = &[
    "a", "cjk", "letters", "base64", "digits", "punct", "spaces", "js", "lossy",
];
const TOKENIZERS: &[&str] = &["cl100k", "o200k", "o200k.tiktoken", "o200k.json"];

/// The CPU time this process has used.
fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to write.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
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

/// An input of about `len` bytes.
pub fn input(case: &str, len: usize) -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let pick = |rng: &mut Rng, set: &[u8], len: usize| -> String {
        (0..len)
            .map(|_| set[rng.below(set.len())] as char)
            .collect()
    };
    match case {
        "a" => "a".repeat(len),
        "cjk" => "中".repeat(len / 3),
        "letters" => pick(&mut rng, b"abcdefghijklmnopqrstuvwxyz", len),
        "base64" => {
            let raw: Vec<u8> = (0..len * 3 / 4).map(|_| rng.next() as u8).collect();
            base64::engine::general_purpose::STANDARD.encode(raw)
        }
        "digits" => pick(&mut rng, b"0123456789", len),
        "punct" => pick(&mut rng, b"!#$%&()*+,-./:;<=>?@[]^_{|}~", len),
        "spaces" => " ".repeat(len),
        "js" => {
            let words = [
                "function", "return", "var", "let", "const", "this", "null", "if", "else", "for",
                "new", "typeof", "void", "e", "t", "n", "r", "i", "o", "a", "s",
            ];
            let puncts = [
                "(", ")", "{", "}", ";", ",", ".", "=", "===", "&&", "||", "!", "?", ":", "[", "]",
                "+", "0", "1",
            ];
            let mut s = String::with_capacity(len + 16);
            while s.len() < len {
                if rng.below(2) == 0 {
                    s.push_str(words[rng.below(words.len())]);
                } else {
                    s.push_str(puncts[rng.below(puncts.len())]);
                }
            }
            s
        }
        "lossy" => {
            let raw: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&raw).into_owned()
        }
        _ => {
            // `words:L`: random lowercase words of L letters, one space apart.
            let Some(l) = case
                .strip_prefix("words:")
                .and_then(|l| l.parse::<usize>().ok())
            else {
                panic!("unknown case `{case}`; expected one of {CASES:?} or words:L")
            };
            let mut s = String::with_capacity(len + l + 1);
            while s.len() < len {
                s.push(' ');
                s.push_str(&pick(&mut rng, b"abcdefghijklmnopqrstuvwxyz", l));
            }
            s
        }
    }
}

fn o200k_tokens() -> Vec<Vec<u8>> {
    let t = Tokenizer::Exact(Encoding::O200kBase);
    (0..199_998u32)
        .map(|id| t.decode_bytes(&[id]).unwrap())
        .collect()
}

/// GPT-2's byte-to-character map of byte-level BPE.
fn byte_char(b: u8) -> char {
    let printable = |b: u8| (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
    if printable(b) {
        return b as char;
    }
    let n = (0..b).filter(|&x| !printable(x)).count() as u32;
    char::from_u32(256 + n).unwrap()
}

fn tokenizer(name: &str, dir: &Path) -> Tokenizer {
    match name {
        "cl100k" => Tokenizer::Exact(Encoding::Cl100kBase),
        "o200k" => Tokenizer::Exact(Encoding::O200kBase),
        "o200k.tiktoken" => {
            let lines: Vec<String> = o200k_tokens()
                .iter()
                .enumerate()
                .map(|(rank, b)| {
                    format!(
                        "{} {rank}",
                        base64::engine::general_purpose::STANDARD.encode(b)
                    )
                })
                .collect();
            let path = dir.join("o200k_base.tiktoken");
            std::fs::write(&path, lines.join("\n")).unwrap();
            let opts = TiktokenOptions {
                pattern: Some("o200k".into()),
                special_tokens: vec![],
            };
            Tokenizer::File(FileTokenizer::load_tiktoken(&path, &opts).unwrap().into())
        }
        "o200k.json" => {
            let tokens = o200k_tokens();
            let ids: std::collections::HashMap<&[u8], usize> = tokens
                .iter()
                .enumerate()
                .map(|(i, b)| (b.as_slice(), i))
                .collect();
            let text = |b: &[u8]| -> String { b.iter().map(|&x| byte_char(x)).collect() };
            let mut vocab = serde_json::Map::new();
            let mut merges = Vec::new();
            for (rank, b) in tokens.iter().enumerate() {
                vocab.insert(text(b), rank.into());
                for k in 1..b.len() {
                    let (l, r) = b.split_at(k);
                    if ids.contains_key(l) && ids.contains_key(r) {
                        merges.push(serde_json::json!([text(l), text(r)]));
                    }
                }
            }
            let json = serde_json::json!({
                "normalizer": null,
                "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                    {"type": "Split", "pattern": {"Regex": O200K_PATTERN},
                     "behavior": "Isolated", "invert": false},
                    {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
                     "use_regex": false}]},
                "model": {"type": "BPE", "ignore_merges": false, "vocab": vocab, "merges": merges}
            });
            let path = dir.join("tokenizer.json");
            std::fs::write(&path, json.to_string()).unwrap();
            Tokenizer::File(FileTokenizer::load(&path).unwrap().into())
        }
        _ => panic!("unknown tokenizer `{name}`; expected one of {TOKENIZERS:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let case = args.first().map_or("all", String::as_str);
    let tok = args.get(1).map_or("all", String::as_str);
    let mb: f64 = args
        .get(2)
        .map_or(16.0, |s| s.parse().expect("MB is a number"));
    let cases: Vec<&str> = if case == "all" {
        CASES.to_vec()
    } else {
        vec![case]
    };
    let toks: Vec<&str> = if tok == "all" {
        TOKENIZERS.to_vec()
    } else {
        vec![tok]
    };
    let dir = tempfile::tempdir().unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    for name in toks {
        let t = tokenizer(name, dir.path());
        t.count("warm up the tables");
        let long = "a".repeat(100_000);
        let start = cpu_time();
        let n = t.count(&long);
        println!(
            "{name:>15}: first 100 kB piece {:.3} s CPU ({n} tokens)",
            (cpu_time() - start).as_secs_f64()
        );
        for &case in &cases {
            let text = input(case, (mb * 1e6) as usize);
            let mut best = Duration::MAX;
            let mut n = 0;
            for _ in 0..3 {
                n = pool.install(|| {
                    clear_piece_caches();
                    let start = cpu_time();
                    let n = t.count(&text);
                    best = best.min(cpu_time() - start);
                    n
                });
                if best > Duration::from_secs(20) {
                    break;
                }
            }
            println!(
                "{name:>15} {case:>8}: {:8.1} MB/s  {:>10} tokens  ({:.2} s for {:.1} MB)",
                text.len() as f64 / 1e6 / best.as_secs_f64(),
                n,
                best.as_secs_f64(),
                text.len() as f64 / 1e6
            );
        }
    }
}
