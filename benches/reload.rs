//! From a save to a new item set: a ~1 MB Markdown prompt in which one item
//! changes, through the file watcher (debounce included), the reload, and
//! the recount through the count cache.
//!
//! `cargo bench --bench reload` (environment: `RELOAD_DEBOUNCE_MS`, default
//! the watcher's default; `RELOAD_SAVES`, default 40).
//!
//! Reported per save, as min / median / p95 / max:
//! - `event`: from the start of the save (an atomic write-and-rename, as
//!   editors do) to the watcher's batch arriving (the debounce is in here);
//! - `reload`: loading the changed input into a new item set;
//! - `save -> item set`: the two together, the figure the target is about;
//! - `(cpu)` lines: the CPU time of the loading thread for the same step,
//!   which does not grow when other processes compete for the cores;
//! - `recount`: counting every item of the new set through the cache (one
//!   item is actually tokenized).

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use tokenscope::input::{LoadOptions, load_paths};
use tokenscope::tokens::{CountCache, Encoding, Tokenizer};
use tokenscope::watch::{DEFAULT_DEBOUNCE, ReloadOutcome, Reloader, WatchEvent, Watcher};

/// A Markdown prompt of about `target` bytes: sections of paragraphs, lists
/// and code blocks. Paragraph `marker` texts are unique so one can be edited.
fn prompt(target: usize) -> String {
    let mut out = String::from("---\ntotal: 100000\n---\n# Big prompt\n\nIntro.\n\n");
    let mut section = 0;
    let mut block = 0;
    while out.len() < target {
        section += 1;
        out.push_str(&format!("## Section {section}\n\n"));
        for _ in 0..60 {
            block += 1;
            match block % 5 {
                0 => out.push_str(&format!(
                    "```rust\nfn block_{block}(x: u32) -> u32 {{\n    x * {block} + 1\n}}\n```\n\n"
                )),
                1 => out.push_str(&format!(
                    "- item one of list {block}\n- item two mentions `code` and a [link](https://example.com/{block})\n- item three\n\n"
                )),
                _ => out.push_str(&format!(
                    "Paragraph marker-{block}: the assistant reads this text about topic {block}, \
                     weighs it against the budget, and decides what to keep. It has *emphasis*, \
                     numbers like {} and enough words to look like real prose in a prompt.\n\n",
                    block * 7
                )),
            }
        }
    }
    out
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (Linux);
/// zero elsewhere. Unlike wall time it does not grow when other processes
/// compete for the cores.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn stats(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name:>18}: min {:7.2} ms  median {:7.2} ms  p95 {:7.2} ms  max {:7.2} ms",
        ms(v[0]),
        ms(p(0.5)),
        ms(p(0.95)),
        ms(v[v.len() - 1])
    );
}

fn main() {
    let debounce = std::env::var("RELOAD_DEBOUNCE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_DEBOUNCE);
    let saves: usize = std::env::var("RELOAD_SAVES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
        .max(2);

    let dir = tempfile::tempdir().expect("temporary folder");
    let root = std::fs::canonicalize(dir.path()).expect("canonical folder");
    let file = root.join("prompt.md");
    let text = prompt(1 << 20);
    std::fs::write(&file, &text).expect("write the prompt");
    let paths: Vec<PathBuf> = vec![file.clone()];
    let options = LoadOptions::default();

    // Loading alone, without the watcher.
    let (mut parse, mut parse_cpu) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        let (t, c) = (Instant::now(), thread_cpu());
        black_box(load_paths(&paths, &options).expect("load"));
        parse.push(t.elapsed());
        parse_cpu.push(thread_cpu() - c);
    }

    let mut reloader = Reloader::new(paths.clone(), options.clone());
    assert_eq!(reloader.load(), ReloadOutcome::Reloaded);
    let items = reloader.current().map_or(0, |s| s.items.len());
    let tokenizer = Tokenizer::Exact(Encoding::Cl100kBase);
    let cache = CountCache::new();
    let count_all = |reloader: &Reloader| -> usize {
        let set = reloader.current().expect("a current set");
        let texts: Vec<&str> = set.items.iter().map(|i| i.text()).collect();
        cache.count_many(&tokenizer, &texts).iter().sum()
    };
    let t = Instant::now();
    let tokens = count_all(&reloader);
    let first_count = t.elapsed();

    let (_watcher, events) =
        Watcher::with_channel(&paths, &options, debounce).expect("start watching");

    println!(
        "prompt: {} bytes, {items} items, {tokens} tokens (cl100k_base); first count {:.0} ms; debounce {} ms; {saves} saves",
        text.len(),
        first_count.as_secs_f64() * 1000.0,
        debounce.as_millis()
    );

    let (mut event, mut reload, mut to_set, mut recount) = (vec![], vec![], vec![], vec![]);
    let mut reload_cpu = vec![];
    let mut current = text;
    for n in 0..saves {
        let block = 2 + 5 * (n * 13 % 200);
        let marker = format!("Paragraph marker-{block}:");
        let edited = current.replacen(&marker, &format!("Paragraph marker-{block} (edit {n}):"), 1);
        assert_ne!(edited, current, "the edit changes the text");

        let tokenized_before = cache.tokenized();
        let tmp = root.join(".prompt.md.swp");
        let t0 = Instant::now();
        std::fs::write(&tmp, &edited).expect("write");
        std::fs::rename(&tmp, &file).expect("rename");
        let changed = match events.recv_timeout(Duration::from_secs(10)) {
            Ok(WatchEvent::Changed(paths)) => paths,
            Ok(WatchEvent::Error(e)) => panic!("watcher error: {e}"),
            Err(RecvTimeoutError::Timeout) => panic!("no event within 10 s"),
            Err(RecvTimeoutError::Disconnected) => panic!("watcher stopped"),
        };
        let (t1, c1) = (Instant::now(), thread_cpu());
        assert_eq!(reloader.reload(&changed), ReloadOutcome::Reloaded);
        let (t2, c2) = (Instant::now(), thread_cpu());
        reload_cpu.push(c2 - c1);
        black_box(count_all(&reloader));
        let t3 = Instant::now();
        assert_eq!(
            cache.tokenized() - tokenized_before,
            1,
            "one item recounted"
        );

        event.push(t1 - t0);
        reload.push(t2 - t1);
        to_set.push(t2 - t0);
        recount.push(t3 - t2);
        current = edited;

        // Let stray events of this save pass before the next one (not timed).
        while let Ok(WatchEvent::Changed(paths)) = events.recv_timeout(debounce * 3) {
            reloader.reload(&paths);
        }
    }

    stats("load only", parse);
    stats("load only (cpu)", parse_cpu);
    stats("event", event);
    stats("reload", reload);
    stats("reload (cpu)", reload_cpu);
    stats("save -> item set", to_set);
    stats("recount (cached)", recount);
}
