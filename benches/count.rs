//! Counting throughput, cold (piece caches cleared before every run):
//! tokenscope on one and two threads, tiktoken-rs and bpe-openai on one
//! thread, for cl100k_base and o200k_base, on two corpora:
//!
//! - mixed: ~20 MB of Rust, Python and docs;
//! - long pieces: 1 MB of 8 KiB runs the pre-tokenizer cannot split (one
//!   letter, one CJK character, spaces, random letters, random punctuation,
//!   an emoji), where tiktoken's merge is quadratic;
//!
//! and one 4 MB run of `a` (tokenscope and bpe-openai only: tiktoken-rs
//! would take hours). Prints MB/s and the ratios, and checks that every
//! count equals tiktoken-rs's (bpe-openai's is checked on the run of `a`).
//!
//! Then the kinds of text that defeat the piece cache (every piece new):
//! random lowercase words, random bytes read as UTF-8 (lossy), base64 of
//! random bytes, minified JavaScript (`/usr/share/javascript/**/*.min.js`
//! when there is some, else generated), random ASCII punctuation and random
//! CJK ideographs, and one 2 MB word of random letters (no space: the
//! linear-time encoders), 2 MB each, for cl100k_base, o200k_base, Gemini
//! (`gemma3`) and, when `scripts/fetch-tokenizers` has fetched it, Llama 3's
//! `tokenizer.json` and those of Qwen 3, DeepSeek V3 and gpt-oss. Prints
//! MB/s on all cores (wall, cold, best of 3: a 2 MB text is counted in
//! chunks on every core, the long word merged in parts) against the 20 MB/s
//! floor (printed, never asserted), MB/s of CPU time on one thread, and the
//! reference's speed on one thread in the same run, and checks every count
//! against the reference (tiktoken-rs, or bpe-openai for the long word; the
//! `tokenizers` crate for the tokenizer files).
//!
//! `cargo bench --bench count -- --warm-up-time 1 --measurement-time 3`

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokenscope::tokens::{Encoding, Tokenizer, clear_piece_caches};

#[path = "support/corpus.rs"]
mod support;

fn reference(e: Encoding) -> tiktoken_rs::CoreBPE {
    match e {
        Encoding::O200kBase => tiktoken_rs::o200k_base(),
        Encoding::O200kHarmony => tiktoken_rs::o200k_harmony(),
        Encoding::Cl100kBase => tiktoken_rs::cl100k_base(),
        Encoding::P50kBase => tiktoken_rs::p50k_base(),
        Encoding::R50kBase => tiktoken_rs::r50k_base(),
    }
    .unwrap()
}

fn bpe_openai(e: Encoding) -> &'static bpe_openai::Tokenizer {
    match e {
        Encoding::O200kBase => bpe_openai::o200k_base(),
        Encoding::Cl100kBase => bpe_openai::cl100k_base(),
        _ => unreachable!("bpe-openai has cl100k_base and o200k_base"),
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// CPU time of the whole process, in seconds: the machine may be shared,
/// and the wall clock would also count the time other processes had the
/// cores.
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes a timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Best of `runs` CPU timings of a count, in MB/s (the count runs on one
/// thread while the caller waits, so process CPU time is that thread's).
fn mbps_cpu(text: &str, runs: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..runs {
        let t = cpu_seconds();
        n = f();
        best = best.min(cpu_seconds() - t);
    }
    (text.len() as f64 / 1e6 / best, n)
}

/// Best of `runs` timings of a cold-cache count, in MB/s.
fn mbps(text: &str, runs: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut best = Duration::MAX;
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        n = f();
        best = best.min(t.elapsed());
    }
    (text.len() as f64 / 1e6 / best.as_secs_f64(), n)
}

/// 1 MB of 8 KiB pieces, one per line.
fn long_pieces() -> String {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut rand = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let letters: Vec<char> = ('a'..='z').collect();
    let punct: Vec<char> = "!#$%&()*+,-./:;<=>?@[]^_{|}~".chars().collect();
    let mut out = String::new();
    let mut k = 0;
    while out.len() < 1_000_000 {
        let piece: String = match k % 6 {
            0 => "a".repeat(8192),
            1 => "中".repeat(8192 / 3),
            2 => " ".repeat(8192),
            3 => (0..8192).map(|_| letters[rand(26)]).collect(),
            4 => (0..8192).map(|_| punct[rand(punct.len())]).collect(),
            _ => "🙂".repeat(2048),
        };
        out.push_str(&piece);
        out.push('\n');
        k += 1;
    }
    out
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

/// Minified JavaScript: the `*.min.js` files under /usr/share/javascript
/// (read in name order, repeated up to `len` bytes), or generated
/// JavaScript-like text when there are none.
fn minified_js(len: usize, rng: &mut Rng) -> String {
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from("/usr/share/javascript")];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".min.js") {
                files.push(p);
            }
        }
    }
    files.sort();
    let texts: Vec<String> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let mut s = String::with_capacity(len + 1024);
    if texts.iter().any(|t| !t.is_empty()) {
        while s.len() < len {
            for t in &texts {
                s.push_str(t);
            }
        }
        return s;
    }
    let words = [
        "function", "return", "var", "let", "const", "this", "null", "if", "else", "for", "new",
        "typeof", "e", "t", "n", "r", "i", "o",
    ];
    let puncts = [
        "(", ")", "{", "}", ";", ",", ".", "=", "===", "&&", "||", "!", "?", ":", "[", "]", "+",
    ];
    while s.len() < len {
        if rng.below(2) == 0 {
            s.push_str(words[rng.below(words.len())]);
        } else {
            s.push_str(puncts[rng.below(puncts.len())]);
        }
    }
    s
}

/// The cache-defeating kinds, about `len` bytes each.
fn slow_kinds(len: usize) -> Vec<(&'static str, String)> {
    use base64::Engine as _;
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut letters = String::with_capacity(len + 16);
    while letters.len() < len {
        if !letters.is_empty() {
            letters.push(' ');
        }
        for _ in 0..1 + rng.below(12) {
            letters.push((b'a' + rng.below(26) as u8) as char);
        }
    }
    let raw: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
    let lossy = String::from_utf8_lossy(&raw).into_owned();
    let raw: Vec<u8> = (0..len * 3 / 4).map(|_| rng.next() as u8).collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    let base64: String = encoded
        .as_bytes()
        .chunks(76)
        .flat_map(|line| [std::str::from_utf8(line).unwrap(), "\n"])
        .collect();
    let js = minified_js(len, &mut rng);
    let punct_set = b"!#$%&()*+,-./:;<=>?@[]^_{|}~\"'`\\";
    let punct: String = (0..len)
        .map(|_| match rng.below(10) {
            0 => [' ', '\n'][rng.below(2)],
            _ => punct_set[rng.below(punct_set.len())] as char,
        })
        .collect();
    // One word the pre-tokenizers cannot split (the linear-time encoders).
    let word: String = (0..len)
        .map(|_| (b'a' + rng.below(26) as u8) as char)
        .collect();
    let mut cjk = String::with_capacity(len + 4);
    while cjk.len() < len {
        let c = match rng.below(20) {
            0 => ' ',
            1 => '。',
            _ => char::from_u32(0x4E00 + rng.below(0x5200) as u32).unwrap(),
        };
        cjk.push(c);
    }
    vec![
        ("letters", letters),
        ("lossy", lossy),
        ("base64", base64),
        ("minified-js", js),
        ("punct", punct),
        ("cjk", cjk),
        ("one-long-word", word),
    ]
}

/// The counter under test and its reference, for the slow kinds.
struct Subject {
    name: String,
    tok: Tokenizer,
    reference: Box<dyn Fn(&str) -> usize>,
}

fn subjects() -> Vec<Subject> {
    let mut out = Vec::new();
    for e in [Encoding::Cl100kBase, Encoding::O200kBase] {
        let refr = reference(e);
        let fast = bpe_openai(e);
        out.push(Subject {
            name: e.to_string(),
            tok: Tokenizer::Exact(e),
            // tiktoken-rs's merge is quadratic in a piece's length: the long
            // word is checked against bpe-openai (exact, linear time).
            reference: Box::new(move |t| {
                if t.len() > 1 << 16 && !t.contains(char::is_whitespace) {
                    fast.count(t)
                } else {
                    refr.encode_ordinary(t).len()
                }
            }),
        });
    }
    let dir = std::env::var_os("TOKENSCOPE_TEST_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-data/tokenizers")
        });
    let hf =
        |name: &str| tokenizers::Tokenizer::from_file(dir.join(name).join("tokenizer.json")).ok();
    match hf("gemma3") {
        Some(refr) => out.push(Subject {
            name: "gemma3".into(),
            tok: tokenscope::tokens::resolve_encoding("gemma3").unwrap(),
            reference: Box::new(move |t| refr.encode_fast(t, false).unwrap().len()),
        }),
        None => {
            println!("gemma3: no reference tokenizer.json (run scripts/fetch-tokenizers); skipped")
        }
    }
    for name in ["llama3", "qwen3", "deepseek_v3", "gptoss"] {
        let file = dir.join(name).join("tokenizer.json");
        match (hf(name), Tokenizer::from_file(&file)) {
            (Some(refr), Ok(tok)) => out.push(Subject {
                name: format!("{name}/tokenizer.json"),
                tok,
                reference: Box::new(move |t| refr.encode_fast(t, false).unwrap().len()),
            }),
            _ => println!(
                "{name}/tokenizer.json: not fetched (run scripts/fetch-tokenizers); skipped"
            ),
        }
    }
    out
}

/// The slow kinds: MB/s against the 20 MB/s floor, counts against the
/// reference, and a criterion group per tokenizer.
fn bench_slow_kinds(c: &mut Criterion) {
    let kinds = slow_kinds(2_000_000);
    let one = pool(1);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let all = pool(cores);
    for s in subjects() {
        let mut g = c.benchmark_group(format!("count-slow-kinds/{}", s.name.replace('/', "-")));
        g.sample_size(10);
        for (kind, text) in &kinds {
            let (ours, n) = mbps_cpu(text, 3, || {
                one.install(|| {
                    clear_piece_caches();
                    s.tok.count(text)
                })
            });
            let (wall, n_all) = mbps(text, 3, || {
                all.install(|| {
                    clear_piece_caches();
                    s.tok.count(text)
                })
            });
            // The reference's speed on the same text in the same run: a
            // yardstick on a machine whose speed swings between periods.
            let (theirs, want) = mbps_cpu(text, 1, || (s.reference)(text));
            assert_eq!(
                n, want,
                "{} {kind}: counts differ from the reference",
                s.name
            );
            assert_eq!(n_all, want, "{} {kind}: the parallel count differs", s.name);
            println!(
                "{} {kind}: tokenscope {wall:.1} MB/s on {cores} threads (wall, cold, best of 3){}, \
                 {ours:.1} MB/s of CPU time on 1 thread; reference {theirs:.1} MB/s on 1 thread \
                 ({:.1}x); {n} tokens, same as the reference",
                s.name,
                if wall >= 20.0 {
                    ""
                } else {
                    " BELOW the 20 MB/s floor"
                },
                ours / theirs,
            );
            g.throughput(Throughput::Bytes(text.len() as u64));
            g.bench_function(format!("{kind}/tokenscope-1-thread-cold"), |b| {
                b.iter(|| {
                    one.install(|| {
                        clear_piece_caches();
                        s.tok.count(text)
                    })
                })
            });
            g.bench_function(format!("{kind}/tokenscope-all-cores-cold"), |b| {
                b.iter(|| {
                    all.install(|| {
                        clear_piece_caches();
                        s.tok.count(text)
                    })
                })
            });
        }
        g.finish();
    }
}

fn bench(c: &mut Criterion) {
    let text = support::corpus();
    let mb = text.len() as f64 / 1e6;
    println!("corpus: {mb:.1} MB");
    let one = pool(1);
    let two = pool(2);
    for e in [Encoding::Cl100kBase, Encoding::O200kBase] {
        let tok = Tokenizer::Exact(e);
        let refr = reference(e);
        let (ours1, n1) = mbps(&text, 3, || {
            one.install(|| {
                clear_piece_caches();
                tok.count(&text)
            })
        });
        let (ours2, n2) = mbps(&text, 3, || {
            two.install(|| {
                clear_piece_caches();
                tok.count(&text)
            })
        });
        let (theirs, n3) = mbps(&text, 2, || refr.encode_ordinary(&text).len());
        let fast = bpe_openai(e);
        let (bpe, n4) = mbps(&text, 2, || fast.count(text.as_str()));
        assert_eq!(n1, n3, "{e}: counts differ from tiktoken-rs");
        assert_eq!(n2, n3, "{e}: parallel count differs");
        println!(
            "{e} mixed: tokenscope {ours1:.1} MB/s (1 thread), {ours2:.1} MB/s (2 threads, {:.2}x); \
             tiktoken-rs {theirs:.1} MB/s; bpe-openai {bpe:.1} MB/s ({n4} tokens{}); \
             ratio {:.2}x tiktoken-rs, {:.2}x bpe-openai; {n1} tokens",
            ours2 / ours1,
            if n4 == n1 { ", same" } else { ", DIFFERENT" },
            ours1 / theirs,
            ours1 / bpe,
        );

        let long = long_pieces();
        let (l1, m1) = mbps(&long, 3, || {
            one.install(|| {
                clear_piece_caches();
                tok.count(&long)
            })
        });
        let (l3, m3) = mbps(&long, 1, || refr.encode_ordinary(&long).len());
        let (l4, m4) = mbps(&long, 2, || fast.count(long.as_str()));
        assert_eq!(m1, m3, "{e}: long-piece counts differ from tiktoken-rs");
        println!(
            "{e} long pieces: tokenscope {l1:.1} MB/s (1 thread); tiktoken-rs {l3:.2} MB/s; \
             bpe-openai {l4:.1} MB/s ({m4} tokens{}); {m1} tokens",
            if m4 == m1 { ", same" } else { ", DIFFERENT" },
        );

        let run = "a".repeat(4_000_000);
        let (r1, k1) = mbps(&run, 3, || {
            one.install(|| {
                clear_piece_caches();
                tok.count(&run)
            })
        });
        let (r4, k4) = mbps(&run, 2, || fast.count(run.as_str()));
        assert_eq!(k1, k4, "{e}: the run of `a` counts differ from bpe-openai");
        println!("{e} 4 MB of `a`: tokenscope {r1:.1} MB/s; bpe-openai {r4:.1} MB/s; {k1} tokens");

        let mut g = c.benchmark_group(format!("count/{e}"));
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.sample_size(10);
        g.bench_function("tokenscope-1-thread-cold", |b| {
            b.iter(|| {
                one.install(|| {
                    clear_piece_caches();
                    tok.count(&text)
                })
            })
        });
        g.bench_function("tokenscope-2-threads-cold", |b| {
            b.iter(|| {
                two.install(|| {
                    clear_piece_caches();
                    tok.count(&text)
                })
            })
        });
        g.bench_function("tiktoken-rs-1-thread", |b| {
            b.iter(|| refr.encode_ordinary(&text).len())
        });
        g.bench_function("bpe-openai-1-thread", |b| {
            b.iter(|| fast.count(text.as_str()))
        });
        g.finish();

        let mut g = c.benchmark_group(format!("count-long-pieces/{e}"));
        g.throughput(Throughput::Bytes(long.len() as u64));
        g.sample_size(10);
        g.bench_function("tokenscope-1-thread-cold", |b| {
            b.iter(|| {
                one.install(|| {
                    clear_piece_caches();
                    tok.count(&long)
                })
            })
        });
        g.bench_function("bpe-openai-1-thread", |b| {
            b.iter(|| fast.count(long.as_str()))
        });
        g.finish();
    }
}

criterion_group!(benches, bench, bench_slow_kinds);
criterion_main!(benches);
