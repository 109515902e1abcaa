//! The inspector with the real engine, loaders, report exporters and profile
//! writer, on the bundled samples.

mod tui_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokenscope::engine::{ItemStatus, Strategy};
use tokenscope::tui::testing::Action;
use tui_support::*;

const DOCS: &str = "samples/docs/docs.toml";

fn temp_profile() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokenscope.toml");
    (dir, file)
}

#[test]
fn docs_sample_screen() {
    let (_dir, file) = temp_profile();
    let app = real_app(DOCS, file);
    let plan = app.plan().expect("a plan");
    assert!(plan.totals.context <= plan.budget.total);
    insta::assert_snapshot!("docs_sample_100x30", screen(&app, 100, 30));
    insta::assert_snapshot!("docs_sample_140x40", {
        let mut big = real_app(DOCS, temp_profile().1);
        big.on_resize(140, 40);
        screen(&big, 140, 40)
    });
}

#[test]
fn strategy_key_reruns_the_engine() {
    let (_dir, file) = temp_profile();
    let mut app = real_app(DOCS, file);
    app.on_key(key('s'));
    settle(&mut app);
    assert_eq!(app.plan().unwrap().budget.strategy, Strategy::Strict);
    assert!(screen(&app, 100, 30).contains("strategy strict"));
    app.on_key(key('u'));
    settle(&mut app);
    assert_eq!(app.plan().unwrap().budget.strategy, Strategy::Greedy);
}

#[test]
fn a_smaller_budget_excludes_more_and_pins_hold() {
    let (_dir, file) = temp_profile();
    let mut app = real_app(DOCS, file);
    let before = app.plan().unwrap().totals.excluded;
    app.update(Action::EditBudget);
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in "6000".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    settle(&mut app);
    let plan = app.plan().unwrap();
    assert_eq!(plan.budget.total, 6000);
    assert!(plan.totals.excluded > before);
    assert!(plan.totals.context <= 6000);
    assert!(
        plan.items
            .iter()
            .filter(|i| i.pinned)
            .all(|i| i.status != ItemStatus::Excluded)
    );
}

#[test]
fn switching_to_an_estimated_model_labels_counts() {
    let (_dir, file) = temp_profile();
    let mut app = real_app(DOCS, file);
    app.update(Action::PickModel);
    for c in "claude".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    settle(&mut app);
    let plan = app.plan().unwrap();
    assert!(!plan.exact);
    let s = screen(&app, 100, 30);
    assert!(s.contains("estimate"), "{s}");
    assert!(s.contains("≈"), "{s}");
}

#[test]
fn frontier_from_the_engine() {
    let (_dir, file) = temp_profile();
    let app = real_app(DOCS, file);
    let s = screen(&app, 100, 30);
    assert!(s.contains("frontier"));
    assert!(!s.contains("computing…"), "{s}");
}

#[test]
fn export_writes_every_format() {
    let (dir, file) = temp_profile();
    let mut app = real_app(DOCS, file);
    for (tabs, ext, needle) in [
        (0, "json", "\"schema\": \"tokenscope.report/1\""),
        (1, "md", "|"),
        (2, "csv", "id,section,status"),
        (3, "txt", "## Instructions"),
    ] {
        app.update(Action::Export);
        for _ in 0..tabs {
            app.on_key(code(KeyCode::Tab));
        }
        let path = dir.path().join(format!("report-{tabs}.{ext}"));
        app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        for c in path.display().to_string().chars() {
            app.on_key(key(c));
        }
        app.on_key(code(KeyCode::Enter));
        assert!(
            app.popup().is_none(),
            "export {ext} failed: {:?}",
            app.popup()
        );
        settle(&mut app);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(needle), "{ext}: {text}");
    }
}

#[test]
fn export_to_a_missing_folder_reports_the_error() {
    let (dir, file) = temp_profile();
    let mut app = real_app(DOCS, file);
    app.update(Action::Export);
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    let path = dir.path().join("no/such/folder/report.json");
    for c in path.display().to_string().chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    settle(&mut app);
    let s = screen(&app, 100, 30);
    assert!(s.contains("cannot write"), "{s}");
}

#[test]
fn save_profile_keeps_comments() {
    let (_dir, file) = temp_profile();
    std::fs::copy("samples/tokenscope.toml", &file).unwrap();
    let mut app = real_app(DOCS, file.clone());
    app.on_key(key('s')); // strict
    app.update(Action::Down); // concepts
    app.on_key(key('+'));
    settle(&mut app);
    app.on_key(key('w'));
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in "tuned".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup().is_none(), "{:?}", app.popup());
    settle(&mut app);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("[profiles.tuned]"), "{text}");
    assert!(text.contains("strategy = \"strict\""), "{text}");
    assert!(text.contains("concepts = 36"), "{text}");
    assert!(
        text.contains("# The CI gate for the docs context"),
        "comments kept: {text}"
    );
    let config = tokenscope::input::profile::ProjectConfig::load(&file).unwrap();
    assert!(config.profile("tuned").is_ok());
}

#[test]
fn frontier_points_match_engine_runs() {
    use std::sync::Arc;
    use tokenscope::tui::testing::Tuning;
    use tokenscope::tui::testing::{
        FrontierRequest, InlineRunner, Job, JobOutput, PackRequest, kept,
    };

    let set = tokenscope::input::itemset::load(std::path::Path::new(DOCS)).unwrap();
    let tokenizer = tokenscope::tokens::Tokenizer::Exact(tokenscope::tokens::Encoding::O200kBase);
    let pack = PackRequest {
        generation: 1,
        base: Arc::new(set),
        tuning: Tuning::default(),
        tokenizer: tokenizer.clone(),
        model: Some("gpt-4o".into()),
        context_window: Some(128_000),
        price: None,
        framing: None,
        warm: false,
        optimal_deadline: None,
        summarizer: None,
    };
    let runner = InlineRunner::new();
    let cache = tokenscope::tokens::CountCache::global();
    let outputs = runner.run(
        Job::Frontier(FrontierRequest {
            pack: pack.clone(),
            max_budget: 40_000,
            steps: 40,
        }),
        cache,
    );
    let Some(JobOutput::Frontier { points, .. }) = outputs.last() else {
        panic!("{outputs:?}")
    };
    // 41 evenly spaced budgets; the current one (16,000) is among them.
    assert_eq!(points.len(), 41);
    assert_eq!(points[0].budget, 0);
    assert_eq!(points[40].budget, 40_000);
    assert!(points.windows(2).all(|w| w[0].budget < w[1].budget));
    let at_16k = points.iter().find(|p| p.budget == 16_000).unwrap();
    let plan = match runner.run(Job::Pack(pack), cache).pop() {
        Some(JobOutput::Packed {
            result: Ok(plan), ..
        }) => plan,
        other => panic!("{other:?}"),
    };
    let (priority, items) = kept(&plan);
    assert_eq!(at_16k.items, items);
    assert!((at_16k.priority - priority).abs() < 1e-9);
    // With everything affordable, everything is kept.
    let total: f64 = plan.items.iter().map(|i| i.priority).sum();
    assert!(
        (points[40].priority - total).abs() < 1e-9,
        "{:?}",
        points[40]
    );
    // Progress was reported along the way.
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, JobOutput::Progress { done: 20, .. }))
    );
}

/// An `optimal` plan whose search stopped early: the header says how far
/// from proven it may be, next to the strategy.
#[test]
fn the_header_shows_the_optimality_gap() {
    let mut app = empty_app();
    app.on_resize(100, 30);
    app.set_loaded(item_set());
    let mut plan = plan();
    plan.budget.strategy = Strategy::Optimal;
    plan.totals.optimality_gap = Some(0.000_35);
    answer_jobs(&mut app, &plan);
    let shown = screen(&app, 100, 30);
    // The settings line is full: its short form, the gap beside the strategy.
    assert!(shown.contains("optimal gap 0.035% · drop"), "{shown}");
    plan.totals.optimality_gap = None;
    app.update(Action::ToggleReallocate);
    answer_jobs(&mut app, &plan);
    let shown = screen(&app, 100, 30);
    assert!(
        shown.contains("strategy optimal") && !shown.contains("gap"),
        "{shown}"
    );
}

/// A newer request cancels a running `optimal` search at once: the stale
/// run returns nothing instead of finishing (with no deadline this search
/// would take minutes).
#[test]
fn a_stale_optimal_run_is_cancelled_at_once() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};
    use tokenscope::engine::{Cancel, Content, Item, ItemSet, Section};
    use tokenscope::tui::testing::Tuning;
    use tokenscope::tui::testing::{Executor, Job, PackRequest};

    // A subset sum that defeats every bound: multiples of 3, one 1 and one
    // priority nudged, a total 2 above a multiple of 3.
    let mut set = ItemSet::default();
    set.budget.total = Some(1_000_001);
    set.budget.strategy = Strategy::Optimal;
    set.sections.push(Section::share("docs", 100.0));
    let mut seed = 1u64;
    for i in 0..10_000 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let tokens = if i == 0 {
            1
        } else {
            3 * (1 + (seed >> 33) % 1_333)
        };
        let mut item = Item::new(format!("i{i}"), "docs", "");
        item.content = Content::Given(tokens as usize);
        item.priority = (tokens + u64::from(i == 1)) as f64 / 1e6;
        set.items.push(item);
    }
    let request = PackRequest {
        generation: 1,
        base: Arc::new(set),
        tuning: Tuning::default(),
        tokenizer: tokenscope::tokens::Tokenizer::Exact(tokenscope::tokens::Encoding::O200kBase),
        model: None,
        context_window: None,
        price: None,
        framing: None,
        warm: false,
        optimal_deadline: None,
        summarizer: None,
    };
    // The app asks for generation 2 while generation 1 runs.
    let latest = Arc::new(AtomicU64::new(1));
    let stale = {
        let latest = latest.clone();
        Cancel::new(move || latest.load(Ordering::SeqCst) > 1)
    };
    let asker = {
        let latest = latest.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            latest.store(2, Ordering::SeqCst);
            Instant::now()
        })
    };
    let mut executor = Executor::new();
    let cache = tokenscope::tokens::CountCache::new();
    let out = executor.run(Job::Pack(request), &cache, &stale, &mut |_| {});
    let ended = Instant::now();
    let asked = asker.join().unwrap();
    assert!(out.is_none(), "a stale run's plan must be dropped");
    // Generous: the poll is looked at every few thousand states.
    assert!(ended.duration_since(asked) < Duration::from_secs(5));
}
