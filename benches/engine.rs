//! Recomputing a plan with counts cached (README, Performance): 10,000 items in four
//! sections, a 128k budget, after a split, strategy or budget change.
//!
//! Every configuration is run once before measuring, as the inspector does
//! on its first frame, so that item counts (and the rendered chunks) are in
//! the count cache; each measured iteration then alternates between two
//! settings, so every run is a change from the run before.
//!
//! A chat request is benchmarked too: 5,001 messages (about 1 MB), framed
//! for the model on every run, its history cut to a 50k budget, after a
//! budget change (`recompute/chat/budget`).
//!
//! Run: `cargo bench --bench engine` (add `-- recompute/greedy` to filter).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tokenscope::engine::{
    Item, ItemSet, Overflow, PackContext, Section, SectionBudget, Strategy, pack,
};
use tokenscope::tokens::{ChatFraming, CountCache, Encoding, Tokenizer};

const ITEMS: usize = 10_000;
const BUDGET: usize = 128_000;

const WORDS: &[&str] = &[
    "context",
    "budget",
    "token",
    "window",
    "prompt",
    "section",
    "priority",
    "retrieval",
    "chunk",
    "model",
    "answer",
    "question",
    "engine",
    "report",
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "for",
    "with",
    "that",
    "this",
    "user",
    "system",
    "tool",
    "result",
    "call",
    "memory",
    "example",
    "function",
    "return",
    "value",
    "error",
    "file",
    "path",
    "line",
    "column",
    "parse",
    "count",
    "exact",
    "estimate",
    "split",
    "share",
    "reserve",
    "overflow",
    "truncate",
    "degrade",
    "render",
];

/// A deterministic pseudo-random source (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn text(rng: &mut Rng, index: usize) -> String {
    let words = 20 + rng.below(300) as usize;
    let mut out = format!("Item {index}.");
    for w in 0..words {
        out.push(if w % 17 == 16 { '\n' } else { ' ' });
        out.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
        if w % 11 == 10 {
            out.push('.');
        }
    }
    out
}

fn item_set() -> ItemSet {
    let mut rng = Rng(0x5EED);
    let mut set = ItemSet::default();
    set.budget.total = Some(BUDGET);
    set.budget.reserved = 2_000;
    let mut system = Section::tokens("system", 4_000);
    system.title = Some("# System".into());
    set.sections.push(system);
    set.sections.push(Section::share("docs", 40.0));
    set.sections.push(Section::share("chunks", 40.0));
    let mut history = Section::share("history", 20.0);
    history.can_use_reserve = true;
    set.sections.push(history);
    let sections = ["system", "docs", "chunks", "history"];
    for i in 0..ITEMS {
        let section = match i % 100 {
            0 => sections[0],
            n if n < 40 => sections[1],
            n if n < 80 => sections[2],
            _ => sections[3],
        };
        let mut item = Item::new(format!("item-{i}"), section, text(&mut rng, i));
        item.priority = rng.below(1000) as f64 / 1000.0;
        item.category = Some(["api", "guide", "faq", "code"][rng.below(4) as usize].into());
        item.level = Some(rng.below(3) as i64);
        if section == "history" && i % 2 == 0 {
            item.group = Some(format!("turn-{}", i / 4));
        }
        item.pinned = i % 997 == 0;
        set.items.push(item);
    }
    set
}

fn split(set: &mut ItemSet, docs: f64) {
    set.sections[1].budget = SectionBudget::Share(docs);
    set.sections[2].budget = SectionBudget::Share(80.0 - docs);
}

fn bench(c: &mut Criterion) {
    let tokenizer = Tokenizer::Exact(Encoding::O200kBase);
    let cache = CountCache::new();
    let ctx = PackContext {
        tokenizer: &tokenizer,
        cache: &cache,
        model: Some("gpt-4o".into()),
        price_per_million: Some(2.5),
        framing: None,
        optimal: Default::default(),
        summarizer: None,
    };
    let base = item_set();

    let mut group = c.benchmark_group("recompute");
    group.warm_up_time(Duration::from_secs(1));
    for &strategy in Strategy::ALL {
        if strategy == Strategy::Optimal {
            group.sample_size(10);
            group.measurement_time(Duration::from_secs(20));
        } else {
            group.sample_size(30);
            group.measurement_time(Duration::from_secs(4));
        }
        group.bench_function(format!("{strategy}/split"), |b| {
            let mut set = base.clone();
            set.budget.strategy = strategy;
            // The first frame: count and render both settings once.
            for docs in [40.0, 30.0] {
                split(&mut set, docs);
                pack(&set, &ctx).expect("valid");
            }
            let mut flip = false;
            b.iter(|| {
                flip = !flip;
                split(&mut set, if flip { 30.0 } else { 40.0 });
                black_box(pack(black_box(&set), &ctx).expect("valid"))
            })
        });
    }
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(4));

    // A strategy change: greedy <-> density.
    group.bench_function("greedy<->density/strategy", |b| {
        let mut set = base.clone();
        for strategy in [Strategy::Greedy, Strategy::Density] {
            set.budget.strategy = strategy;
            pack(&set, &ctx).expect("valid");
        }
        let mut flip = false;
        b.iter(|| {
            flip = !flip;
            set.budget.strategy = if flip {
                Strategy::Density
            } else {
                Strategy::Greedy
            };
            black_box(pack(black_box(&set), &ctx).expect("valid"))
        })
    });

    // A budget change with truncation: the cut item differs each time.
    group.bench_function("greedy+truncate/budget", |b| {
        let mut set = base.clone();
        set.budget.overflow = Overflow::Truncate;
        for total in [BUDGET, BUDGET - 3_000] {
            set.budget.total = Some(total);
            pack(&set, &ctx).expect("valid");
        }
        let mut flip = false;
        b.iter(|| {
            flip = !flip;
            set.budget.total = Some(if flip { BUDGET - 3_000 } else { BUDGET });
            black_box(pack(black_box(&set), &ctx).expect("valid"))
        })
    });

    // A chat request: 5,001 messages, the history cut to the budget.
    group.bench_function("chat/budget", |b| {
        let mut set = chat_set();
        let ctx = PackContext {
            framing: Some(ChatFraming::OPENAI_O200K),
            ..ctx.clone()
        };
        for total in [50_000, 47_000] {
            set.budget.total = Some(total);
            pack(&set, &ctx).expect("valid");
        }
        let mut flip = false;
        b.iter(|| {
            flip = !flip;
            set.budget.total = Some(if flip { 47_000 } else { 50_000 });
            black_box(pack(black_box(&set), &ctx).expect("valid"))
        })
    });
    group.finish();
}

/// A chat request of 2,500 user/assistant turns and a last question, loaded
/// as the chat loader loads it.
fn chat_set() -> ItemSet {
    let mut rng = Rng(7);
    let mut messages = vec![serde_json::json!({"role": "system", "content": "You are helpful."})];
    for i in 0..2_500 {
        messages.push(serde_json::json!({"role": "user", "content": text(&mut rng, i)}));
        messages.push(serde_json::json!({"role": "assistant", "content": text(&mut rng, i + 1)}));
    }
    messages.push(serde_json::json!({"role": "user", "content": "And now?"}));
    let request = serde_json::json!({"model": "gpt-4o", "messages": messages});
    tokenscope::input::chat::parse(Path::new("bench.json"), &request.to_string()).expect("valid")
}

criterion_group!(benches, bench);
criterion_main!(benches);
