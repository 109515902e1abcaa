//! Counting speed of one tokenizer on the text files under some folders.
//!
//! `cargo run --release --example count_speed -- ENCODING PATH...`
//! ENCODING is an `--encoding` name (`gemma3`, `o200k_base`, ...) or a
//! tokenizer file. Reads every UTF-8 file under the paths (up to 64 MB in
//! all), then counts them one by one on one thread, best of 3, and prints
//! MB/s, the token count and the time of the first count of a short text
//! (loading included).

use std::path::{Path, PathBuf};
use std::time::Instant;

use tokenscope::tokens::{Tokenizer, clear_piece_caches, resolve_encoding};

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let Ok(rd) = std::fs::read_dir(p) else { return };
        let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for e in entries {
            walk(&e, out);
        }
    } else if p.is_file() {
        out.push(p.to_path_buf());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((name, paths)) = args.split_first() else {
        eprintln!("usage: count_speed ENCODING|TOKENIZER_FILE PATH...");
        std::process::exit(2);
    };
    let start = Instant::now();
    let tok = match resolve_encoding(name) {
        Ok(t) => t,
        Err(_) => Tokenizer::from_file(Path::new(name)).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        }),
    };
    let first = tok.count("Hello, world!");
    let load = start.elapsed();
    let mut files = Vec::new();
    for p in paths {
        walk(Path::new(p), &mut files);
    }
    let mut texts = Vec::new();
    let mut bytes = 0usize;
    for f in files {
        if let Ok(t) = std::fs::read_to_string(&f) {
            bytes += t.len();
            texts.push(t);
            if bytes > 64 << 20 {
                break;
            }
        }
    }
    let mut best = f64::MAX;
    let mut tokens = 0;
    for _ in 0..3 {
        clear_piece_caches();
        let t0 = Instant::now();
        tokens = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool")
            .install(|| texts.iter().map(|t| tok.count(t)).sum::<usize>());
        best = best.min(t0.elapsed().as_secs_f64());
    }
    println!(
        "{}: {} files, {:.1} MB, {} tokens, {:.1} MB/s (1 thread, best of 3, cold caches); first count {:.1} ms ({first} tokens)",
        tok.name(),
        texts.len(),
        bytes as f64 / 1e6,
        tokens,
        bytes as f64 / 1e6 / best,
        load.as_secs_f64() * 1e3
    );
}
