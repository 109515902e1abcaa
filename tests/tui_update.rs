//! `App::update` and key handling: share rescaling keeps 100 %, undo/redo,
//! pin toggles, strategy cycling, prompts, stale results, reload errors.

mod tui_support;

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokenscope::engine::{ItemStatus, SectionBudget, Strategy};
use tokenscope::tui::testing::HIGHLIGHT_FOR;
use tokenscope::tui::testing::{Action, Pane, Popup};
use tokenscope::tui::testing::{Job, JobOutput};
use tui_support::*;

fn share_sum(app: &tokenscope::tui::testing::App) -> f64 {
    let base = app.item_set().unwrap();
    app.tuning()
        .section_budgets(base)
        .iter()
        .map(|(_, b)| match b {
            SectionBudget::Share(p) => *p,
            SectionBudget::Tokens(_) => 0.0,
        })
        .sum()
}

fn share_of(app: &tokenscope::tui::testing::App, name: &str) -> f64 {
    match app.tuning().sections.get(name) {
        Some(SectionBudget::Share(p)) => *p,
        other => panic!("{name}: {other:?}"),
    }
}

fn select_section(app: &mut tokenscope::tui::testing::App, name: &str) {
    app.update(Action::First);
    while app.selected_section().unwrap().name != name {
        app.update(Action::Down);
    }
}

fn select_item(app: &mut tokenscope::tui::testing::App, id: &str) {
    let section = app
        .plan()
        .unwrap()
        .items
        .iter()
        .find(|i| i.id == id)
        .unwrap()
        .section
        .clone();
    while app.focus() != Pane::Sections {
        app.update(Action::FocusNext);
    }
    select_section(app, &section);
    app.update(Action::FocusNext);
    app.update(Action::First);
    while app.selected_item().unwrap().id != id {
        app.update(Action::Down);
    }
}

#[test]
fn growing_a_share_rescales_the_others_to_one_hundred() {
    let mut app = app();
    select_section(&mut app, "concepts");
    app.update(Action::ShareGrow);
    assert_eq!(share_of(&app, "concepts"), 36.0);
    assert_eq!(share_sum(&app), 100.0);
    for action in [
        Action::ShareGrowMore,
        Action::ShareGrowMore,
        Action::ShareShrink,
        Action::ShareShrinkMore,
    ] {
        app.update(action);
        assert_eq!(share_sum(&app), 100.0, "after {action:?}");
    }
    assert_eq!(share_of(&app, "concepts"), 40.0);
    // Shrinking past zero stays at zero, and the rest still add up.
    for _ in 0..12 {
        app.update(Action::ShareShrinkMore);
    }
    assert_eq!(share_of(&app, "concepts"), 0.0);
    assert_eq!(share_sum(&app), 100.0);
    // Growing to everything leaves the others at zero.
    for _ in 0..30 {
        app.update(Action::ShareGrowMore);
    }
    assert_eq!(share_of(&app, "concepts"), 100.0);
    assert_eq!(share_sum(&app), 100.0);
}

#[test]
fn share_changes_queue_an_engine_run_with_the_new_split() {
    let mut app = app();
    select_section(&mut app, "pages");
    app.update(Action::ShareGrowMore);
    let jobs = app.take_jobs();
    let Some(Job::Pack(req)) = jobs.first() else {
        panic!("expected an engine run, got {jobs:?}")
    };
    assert_eq!(
        req.tuning.sections.get("pages"),
        Some(&SectionBudget::Share(30.0))
    );
    assert!(!req.warm, "counts are already cached for this tokenizer");
}

#[test]
fn undo_and_redo_every_change() {
    let mut app = app();
    let original = app.tuning().clone();
    select_section(&mut app, "concepts");
    app.update(Action::ShareGrow);
    let after_share = app.tuning().clone();
    app.update(Action::StrategyNext);
    app.update(Action::ToggleReallocate);
    assert_eq!(app.history_len(), (3, 0));
    app.update(Action::Undo);
    app.update(Action::Undo);
    assert_eq!(app.tuning(), &after_share);
    app.update(Action::Undo);
    assert_eq!(app.tuning(), &original);
    app.update(Action::Undo); // nothing left: no change
    assert_eq!(app.tuning(), &original);
    assert_eq!(app.history_len(), (0, 3));
    app.update(Action::Redo);
    app.update(Action::Redo);
    app.update(Action::Redo);
    assert_eq!(app.tuning().strategy, Some(Strategy::Strict));
    assert_eq!(app.tuning().reallocate, Some(false));
    // A new change after an undo drops the redo history.
    app.update(Action::Undo);
    app.update(Action::OverflowNext);
    assert_eq!(app.history_len(), (3, 0));
}

#[test]
fn pin_toggles() {
    let mut app = app();
    select_item(&mut app, "webhooks");
    app.update(Action::TogglePin);
    assert_eq!(app.tuning().items["webhooks"].pinned, Some(true));
    let jobs = app.take_jobs();
    assert!(
        matches!(jobs.first(), Some(Job::Pack(r)) if r.tuning.items["webhooks"].pinned == Some(true))
    );
    app.update(Action::TogglePin);
    assert!(
        !app.tuning().items.contains_key("webhooks"),
        "unpinning an item that was not pinned in the file is no change"
    );
    // The header is pinned in the file: unpinning is a change.
    select_item(&mut app, "header");
    app.on_key(key(' '));
    assert_eq!(app.tuning().items["header"].pinned, Some(false));
    assert_eq!(app.history_len().0, 3);
}

#[test]
fn strategy_and_overflow_cycle() {
    let mut app = app();
    let mut seen = vec![];
    for _ in 0..5 {
        app.update(Action::StrategyNext);
        seen.push(app.tuning().strategy.unwrap());
    }
    assert_eq!(
        seen,
        vec![
            Strategy::Strict,
            Strategy::Density,
            Strategy::Optimal,
            Strategy::Balanced,
            Strategy::Greedy
        ]
    );
    app.update(Action::StrategyPrev);
    assert_eq!(app.tuning().strategy, Some(Strategy::Balanced));
    app.update(Action::OverflowNext);
    assert_eq!(app.tuning().overflow.unwrap().name(), "truncate");
    app.update(Action::OverflowPrev);
    app.update(Action::OverflowPrev);
    assert_eq!(app.tuning().overflow.unwrap().name(), "priority-cut");
}

#[test]
fn priorities_move_in_tenths_and_can_be_typed() {
    let mut app = app();
    select_item(&mut app, "faq");
    app.update(Action::PriorityUp);
    app.update(Action::PriorityUp);
    assert_eq!(app.tuning().items["faq"].priority, Some(0.6));
    for _ in 0..10 {
        app.update(Action::PriorityDown);
    }
    assert_eq!(app.tuning().items["faq"].priority, Some(0.0));
    app.update(Action::EditPriority);
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in "-1".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    assert!(matches!(
        app.popup(),
        Some(Popup::Prompt(p)) if p.error.is_some()
    ));
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in "2.5".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup().is_none());
    assert_eq!(app.tuning().items["faq"].priority, Some(2.5));
}

#[test]
fn budget_and_reserve_prompts() {
    let mut app = app();
    app.update(Action::EditBudget);
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in "20k".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.tuning().total, Some(20_000));
    app.update(Action::EditReserve);
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in "1,024".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.tuning().reserve_output, Some(1024));
    // Esc cancels without a change.
    app.update(Action::EditBudget);
    app.on_key(key('9'));
    app.on_key(code(KeyCode::Esc));
    assert_eq!(app.tuning().total, Some(20_000));
    assert_eq!(app.history_len().0, 2);
}

#[test]
fn section_sizes_in_tokens_or_shares() {
    let mut app = app();
    select_section(&mut app, "examples");
    app.update(Action::SectionSize);
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in "2000".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    assert_eq!(
        app.tuning().sections.get("examples"),
        Some(&SectionBudget::Tokens(2000))
    );
    // The remaining share sections still add up to 100.
    assert_eq!(share_sum(&app), 100.0);
    app.update(Action::SectionSize);
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in "30%".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    assert_eq!(share_of(&app, "examples"), 30.0);
    assert_eq!(share_sum(&app), 100.0);
}

#[test]
fn picking_a_model_counts_in_the_background() {
    let mut app = app();
    app.take_jobs();
    app.update(Action::PickModel);
    for c in "sonnet".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup().is_none());
    assert_eq!(app.tuning().model.as_deref(), Some("claude-sonnet-4"));
    assert!(!app.tokenizer().is_exact());
    let jobs = app.take_jobs();
    let Some(Job::Pack(req)) = jobs.first() else {
        panic!("{jobs:?}")
    };
    assert!(
        req.warm,
        "a new tokenizer counts every text first, with progress"
    );
    assert_eq!(req.context_window, Some(200_000));
    // Progress for the current generation is shown; a stale one is not.
    app.on_job(JobOutput::Progress {
        kind: tokenscope::tui::testing::JobKind::Pack,
        generation: req.generation,
        done: 3,
        total: 14,
    });
    assert!(screen(&app, 100, 30).contains("counting 3/14"));
}

#[test]
fn stale_results_are_dropped() {
    let mut app = app();
    app.update(Action::StrategyNext);
    let old = app.take_jobs();
    app.update(Action::StrategyNext);
    let new = app.take_jobs();
    let mut stale = plan();
    stale.budget.strategy = Strategy::Strict;
    app.on_job(JobOutput::Packed {
        generation: old[0].generation(),
        result: Ok(stale),
        elapsed: Duration::ZERO,
        warmed: None,
    });
    assert_eq!(app.plan().unwrap().budget.strategy, Strategy::Greedy);
    let mut fresh = plan();
    fresh.budget.strategy = Strategy::Density;
    app.on_job(JobOutput::Packed {
        generation: new[0].generation(),
        result: Ok(fresh),
        elapsed: Duration::ZERO,
        warmed: None,
    });
    assert_eq!(app.plan().unwrap().budget.strategy, Strategy::Density);
}

#[test]
fn changed_items_are_highlighted_then_expire() {
    let mut app = app();
    app.update(Action::StrategyNext);
    let mut next = plan();
    let faq = next.items.iter_mut().find(|i| i.id == "faq").unwrap();
    faq.status = ItemStatus::Included;
    faq.final_tokens = faq.tokens;
    faq.reason = None;
    answer_jobs(&mut app, &next);
    let changed: Vec<&str> = app.changed_items().collect();
    assert_eq!(changed, vec!["faq"]);
    app.on_tick(Instant::now() + HIGHLIGHT_FOR + Duration::from_millis(10));
    assert_eq!(app.changed_items().count(), 0);
}

#[test]
fn an_invalid_reload_keeps_the_last_good_plan() {
    let mut app = app();
    app.on_job(JobOutput::Loaded {
        generation: 0,
        result: Err("docs.toml:3:9: expected a number".into()),
    });
    // Generation 0 is not the current load: dropped.
    assert!(app.load_error().is_none());
    app.set_load_error("docs.toml:3:9: expected a number, found a string".into());
    assert!(app.plan().is_some());
    let s = screen(&app, 100, 30);
    assert!(
        s.contains("input error (showing the last good plan): docs.toml:3:9"),
        "{s}"
    );
    assert!(s.contains("rate-limits") || s.contains("sections (5)"));
    // Fixing the file recovers.
    app.set_loaded(item_set());
    assert!(app.load_error().is_none());
}

#[test]
fn filter_and_sort() {
    let mut app = app();
    select_section(&mut app, "concepts");
    app.update(Action::Filter);
    for c in "SESSIONS".chars() {
        app.on_key(key(c));
    }
    let ids: Vec<&str> = app.visible_items().map(|i| i.id.as_str()).collect();
    // By id, and by text: legacy-api has the same text as sessions.
    assert_eq!(ids, vec!["sessions", "legacy-api"]);
    app.on_key(code(KeyCode::Enter));
    app.update(Action::ClearFilter);
    assert_eq!(app.visible_items().count(), 5);
    app.update(Action::CycleSort); // tokens
    let ids: Vec<&str> = app.visible_items().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["rate-limits", "webhooks", "sessions", "auth", "legacy-api"]
    );
    app.update(Action::CycleSort); // order
    let ids: Vec<&str> = app.visible_items().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["auth", "sessions", "rate-limits", "webhooks", "legacy-api"]
    );
}

#[test]
fn quit_and_help() {
    let mut app = app();
    app.on_key(key('?'));
    assert!(matches!(app.popup(), Some(Popup::Help { .. })));
    app.on_key(key('q')); // closes the help, does not quit
    assert!(app.popup().is_none());
    assert!(!app.should_quit());
    app.on_key(key('q'));
    assert!(app.should_quit());
}

#[test]
fn mouse_selects_rows() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = app();
    // Sections pane rows start at y = 3 (header) + 2 (border, column names).
    app.on_mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 5,
        row: 7,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(app.selected_section().unwrap().name, "pages");
    assert_eq!(app.focus(), Pane::Sections);
    app.on_mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 5,
        row: 7,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(app.selected_section().unwrap().name, "footer");
}

#[test]
fn detail_scroll_stops_at_the_last_line() {
    let mut set = item_set();
    let text: String = (1..=60).map(|n| format!("line {n}\n")).collect();
    set.items[1] = tokenscope::engine::Item::new("auth", "concepts", text.trim_end());
    let mut app = empty_app();
    app.on_resize(100, 30);
    app.set_loaded(set);
    answer_jobs(&mut app, &plan());
    select_item(&mut app, "auth");
    app.update(Action::FocusNext); // detail
    assert_eq!(app.focus(), Pane::Detail);
    for _ in 0..100 {
        app.update(Action::Down);
    }
    let s = screen(&app, 100, 30);
    // The last page is shown, full: not scrolled past the end.
    assert!(s.contains("line 60"), "{s}");
    // (Two rows above the text say what reallocation moved.)
    assert!(s.contains("line 50"), "{s}");
    assert!(!s.contains("line 49 "), "{s}");
    app.update(Action::Up);
    assert!(!screen(&app, 100, 30).contains("line 60"));
    app.update(Action::First);
    assert!(screen(&app, 100, 30).contains("line 1 "));
}

#[test]
fn help_scrolls_to_its_end_and_back() {
    let mut app = app();
    app.update(Action::Help);
    let top = screen(&app, 100, 30);
    assert!(top.contains("Show or hide this help"));
    for _ in 0..200 {
        app.on_key(key('j'));
    }
    let bottom = screen(&app, 100, 30);
    assert!(bottom.contains("Mouse: click a row"), "{bottom}");
    assert!(!bottom.contains("Show or hide this help"));
    // One step up is one line up, not two hundred.
    app.on_key(key('k'));
    let up = screen(&app, 100, 30);
    assert_ne!(up, bottom);
    assert!(!up.contains("Show or hide this help"));
}
