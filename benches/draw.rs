//! The inspector with 10,000 items: drawing one frame to a TestBackend, and a
//! settings change followed by the engine run that produces the next frame's
//! plan (counts cached, as after the first run).
//!
//! `cargo bench --bench draw`

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokenscope::engine::{Budget, Item, ItemSet, PackContext, Section, pack};
use tokenscope::tokens::ModelSpec;
use tokenscope::tokens::{CountCache, Encoding, ModelCounting, Tokenizer};
use tokenscope::tui::testing::{Action, App, AppOptions, Keymap, Theme, draw};
use tokenscope::tui::testing::{InlineRunner, Job};

const ITEMS: usize = 10_000;
const SECTIONS: [&str; 5] = ["system", "concepts", "pages", "examples", "memory"];

fn words(seed: usize, n: usize) -> String {
    const W: [&str; 16] = [
        "token", "budget", "section", "the", "model", "context", "window", "shipping", "label",
        "rate", "carrier", "webhook", "retry", "and", "of", "request",
    ];
    let mut s = String::with_capacity(n * 7);
    let mut x = seed as u64 * 6364136223846793005 + 1442695040888963407;
    for i in 0..n {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s.push_str(W[(x >> 33) as usize % W.len()]);
        s.push(if i % 12 == 11 { '\n' } else { ' ' });
    }
    s
}

fn item_set() -> ItemSet {
    let items = (0..ITEMS)
        .map(|i| {
            let mut item = Item::new(
                format!("item-{i:05}"),
                SECTIONS[i % SECTIONS.len()],
                words(i, 40 + i % 160),
            );
            item.priority = ((i * 37) % 100) as f64 / 100.0;
            item
        })
        .collect();
    ItemSet {
        budget: Budget {
            total: Some(128_000),
            ..Budget::default()
        },
        sections: SECTIONS.iter().map(|s| Section::share(*s, 20.0)).collect(),
        items,
        sources: vec![PathBuf::from("bench.toml")],
        warnings: vec![],
        chat: None,
    }
}

fn settle(app: &mut App, runner: &InlineRunner) {
    loop {
        let jobs: Vec<Job> = app
            .take_jobs()
            .into_iter()
            .filter(|j| !matches!(j, Job::Frontier(_)))
            .collect();
        if jobs.is_empty() {
            break;
        }
        for job in jobs {
            for out in runner.run(job, CountCache::global()) {
                app.on_job(out);
            }
        }
    }
}

fn app(runner: &InlineRunner) -> App {
    let mut app = App::new(AppOptions {
        inputs: vec![PathBuf::from("bench.toml")],
        models: vec![ModelSpec {
            name: "gpt-4o".into(),
            aliases: vec![],
            provider: "openai".into(),
            counting: ModelCounting::Tokenizer(Tokenizer::Exact(Encoding::O200kBase)),
            context_window: Some(128_000),
            input_price: Some(2.5),
            chat: None,
            ..ModelSpec::new(
                "",
                "",
                ModelCounting::Tokenizer(Tokenizer::Exact(Encoding::O200kBase)),
            )
        }],
        theme: Theme::bundled("dark").unwrap(),
        keymap: Keymap::defaults(),
        profile_file: std::env::temp_dir().join("tokenscope-bench.toml"),
        loader: None,
    });
    app.on_resize(100, 30);
    app.set_loaded(item_set());
    settle(&mut app, runner);
    assert_eq!(app.plan().expect("a plan").items.len(), ITEMS);
    // Show a long section in the items pane and an item in the detail pane.
    app.update(Action::Down);
    app.update(Action::FocusNext);
    app.update(Action::PageDown);
    app
}

fn bench(c: &mut Criterion) {
    let runner = InlineRunner::new();
    let mut app = app(&runner);
    for (w, h) in [(100u16, 30u16), (200, 60)] {
        app.on_resize(w, h);
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        c.bench_function(&format!("draw_10k_items_{w}x{h}"), |b| {
            b.iter(|| {
                terminal.draw(|f| draw(f, &app)).unwrap();
            })
        });
    }
    app.on_resize(100, 30);
    let set = item_set();
    let tokenizer = Tokenizer::Exact(Encoding::O200kBase);
    let ctx = PackContext {
        tokenizer: &tokenizer,
        cache: CountCache::global(),
        model: Some("gpt-4o".into()),
        price_per_million: Some(2.5),
        framing: None,
        optimal: Default::default(),
        summarizer: None,
    };
    c.bench_function("engine_only_10k_items_greedy", |b| {
        b.iter(|| pack(&set, &ctx).unwrap())
    });
    let plan = pack(&set, &ctx).unwrap();
    c.bench_function("app_takes_a_plan_10k_items", |b| {
        b.iter(|| app.take_plan(plan.clone(), 1))
    });
    c.bench_function("change_and_recompute_10k_items_greedy", |b| {
        b.iter(|| {
            app.update(Action::ToggleReallocate);
            settle(&mut app, &runner);
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
