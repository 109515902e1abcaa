//! The inspector when the engine refuses the settings: an error state with
//! the reason, never a spinner that waits forever; and the budget an input
//! without one gets.

mod tui_support;

use tokenscope::engine::{Budget, Section};
use tokenscope::tui::testing::{App, AppOptions, Keymap, Theme};
use tui_support::*;

fn app_on(set: tokenscope::engine::ItemSet) -> App {
    let mut app = App::new(AppOptions {
        inputs: vec!["set.toml".into()],
        models: registry_models(),
        theme: Theme::bundled("monochrome").unwrap(),
        keymap: Keymap::defaults(),
        profile_file: std::env::temp_dir().join("tokenscope-refusal-test.toml"),
        loader: None,
    });
    app.on_resize(100, 30);
    app.set_loaded(set);
    settle(&mut app);
    app
}

#[test]
fn a_refused_plan_shows_the_reason_and_stops_the_spinner() {
    let mut set = item_set();
    // A section declared twice: the engine refuses the set.
    set.sections.push(Section::share("header", 5.0));
    let mut app = app_on(set);
    assert!(app.plan().is_none());
    let reason = app.refusal().expect("the refusal is kept").to_string();
    assert!(reason.contains("declared twice"), "{reason}");
    // Ticks go by: the screen stays the same, with the reason and no spinner.
    let first = screen(&app, 100, 30);
    for _ in 0..5 {
        app.on_tick(std::time::Instant::now());
    }
    assert!(!app.busy(), "nothing is running");
    let later = screen(&app, 100, 30);
    assert_eq!(first, later, "the screen must not animate");
    assert!(
        later.contains("no plan: section `header` is declared twice"),
        "{later}"
    );
    assert!(!later.contains("computing"), "{later}");
}

#[test]
fn no_budget_and_an_encoding_alone_gets_the_default_window() {
    let mut set = item_set();
    set.budget = Budget {
        encoding: Some("cl100k_base".into()),
        ..Budget::default()
    };
    let app = app_on(set);
    let plan = app.plan().expect("a plan, not a refusal");
    assert_eq!(plan.budget.total, 128_000);
    assert!(
        plan.warnings.iter().any(|w| w.contains("no budget given")),
        "{:?}",
        plan.warnings
    );
}
