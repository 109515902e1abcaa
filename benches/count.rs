//! Counting throughput on a ~20 MB mixed corpus (Rust, Python, docs): our
//! exact counter on one and two threads, against tiktoken-rs on one thread,
//! for cl100k_base and o200k_base. Prints MB/s and the ratio.
//!
//! `cargo bench --bench count`

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

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
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
        assert_eq!(n1, n3, "{e}: counts differ from tiktoken-rs");
        assert_eq!(n2, n3, "{e}: parallel count differs");
        println!(
            "{e}: tokenscope {ours1:.1} MB/s (1 thread), {ours2:.1} MB/s (2 threads, {:.2}x); \
             tiktoken-rs {theirs:.1} MB/s (1 thread); ratio {:.2}x; {n1} tokens",
            ours2 / ours1,
            ours1 / theirs
        );

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
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
