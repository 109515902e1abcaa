//! Counting speed of one tokenizer on the text files under some folders.
//!
//! `cargo run --release --example count_speed -- [--threads N] ENCODING PATH...`
//! ENCODING is an `--encoding` name (`gemma3`, `o200k_base`, ...) or a
//! tokenizer file. Reads every UTF-8 file under the paths (up to 64 MB in
//! all), then counts them one by one on N threads (1 unless told; a large
//! text is counted on all of them), best of 3, and prints MB/s, the token
//! count and the time of the first count of a short text (loading
//! included).

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

/// CPU time of the whole process, in seconds: on a shared machine the wall
/// clock also counts the time other processes had the cores.
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes a timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut threads = 1;
    if let Some(i) = args.iter().position(|a| a == "--threads") {
        threads = args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| {
                eprintln!("--threads takes a number of threads");
                std::process::exit(2)
            });
        args.drain(i..i + 2);
    }
    if let Some(i) = args.iter().position(|a| a == "--chunk") {
        let bytes = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(0);
        tokenscope::tokens::set_parallel_sizes(bytes, 0);
        args.drain(i..(i + 2).min(args.len()));
    }
    let Some((name, paths)) = args.split_first() else {
        eprintln!("usage: count_speed [--threads N] ENCODING|TOKENIZER_FILE PATH...");
        std::process::exit(2);
    };
    let start = Instant::now();
    let start_cpu = cpu_seconds();
    let tok = match resolve_encoding(name) {
        Ok(t) => t,
        Err(_) => Tokenizer::from_file(Path::new(name)).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        }),
    };
    let first = tok.count("Hello, world!");
    let load = start.elapsed();
    let load_cpu = cpu_seconds() - start_cpu;
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
    let mut best_cpu = f64::MAX;
    let mut tokens = 0;
    for _ in 0..3 {
        clear_piece_caches();
        // A new pool: its threads start with empty caches.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        let t0 = Instant::now();
        let c0 = cpu_seconds();
        tokens = pool.install(|| texts.iter().map(|t| tok.count(t)).sum::<usize>());
        best = best.min(t0.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(cpu_seconds() - c0);
    }
    let mb = bytes as f64 / 1e6;
    println!(
        "{}: {} files, {mb:.1} MB, {tokens} tokens; {threads} thread(s), cold caches, best of 3: {:.1} MB/s of CPU time ({:.1} MB/s wall); first count {:.1} ms CPU ({:.1} ms wall, {first} tokens)",
        tok.name(),
        texts.len(),
        mb / best_cpu,
        mb / best,
        load_cpu * 1e3,
        load.as_secs_f64() * 1e3
    );
}
