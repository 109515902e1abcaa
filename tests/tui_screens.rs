//! Snapshots of every pane and popup at 100x30 and at a tiny size, and
//! drawing at every size down to 1x1 without a panic.

mod tui_support;

use crossterm::event::KeyCode;
use tokenscope::tui::Action;
use tui_support::*;

fn both(name: &str, app: &tokenscope::tui::App) {
    insta::assert_snapshot!(format!("{name}_100x30"), screen(app, 100, 30));
    insta::assert_snapshot!(format!("{name}_20x6"), screen(app, 20, 6));
}

#[test]
fn main_screen() {
    let app = app();
    both("main", &app);
}

#[test]
fn items_pane_focused_on_a_truncated_item() {
    let mut app = app();
    app.update(Action::Down); // concepts
    app.update(Action::FocusNext); // items
    app.update(Action::Down);
    app.update(Action::Down); // rate-limits (priority order: auth, sessions, rate-limits)
    assert_eq!(app.selected_item().unwrap().id, "rate-limits");
    both("items_truncated", &app);
}

#[test]
fn detail_of_an_excluded_item() {
    let mut app = app();
    app.update(Action::Down);
    app.update(Action::FocusNext);
    app.update(Action::Last); // legacy-api (0.2) is last by priority; webhooks before it
    app.update(Action::Up);
    assert_eq!(app.selected_item().unwrap().id, "webhooks");
    app.update(Action::FocusNext); // detail
    both("detail_excluded", &app);
}

#[test]
fn degraded_item_side_by_side() {
    let mut app = app();
    app.update(Action::Down);
    app.update(Action::Down); // pages
    app.update(Action::FocusNext);
    app.update(Action::Down); // reference
    assert_eq!(app.selected_item().unwrap().id, "reference");
    both("detail_degraded", &app);
}

#[test]
fn help_overlay() {
    let mut app = app();
    app.update(Action::Help);
    both("help", &app);
}

#[test]
fn model_picker() {
    let mut app = app();
    app.update(Action::PickModel);
    both("models", &app);
    for c in "anthropic".chars() {
        app.on_key(key(c));
    }
    both("models_search", &app);
}

#[test]
fn budget_prompt_with_an_error() {
    let mut app = app();
    app.update(Action::EditBudget);
    app.on_key(code(KeyCode::Backspace));
    app.on_key(key('x'));
    app.on_key(code(KeyCode::Enter));
    both("prompt_budget_error", &app);
}

#[test]
fn export_dialog() {
    let mut app = app();
    app.update(Action::Export);
    app.on_key(code(KeyCode::Tab));
    both("export", &app);
}

#[test]
fn filter_line() {
    let mut app = app();
    app.update(Action::Down);
    app.update(Action::Filter);
    for c in "sess".chars() {
        app.on_key(key(c));
    }
    both("filter", &app);
}

#[test]
fn save_profile_prompt() {
    let mut app = app();
    app.update(Action::SaveProfile);
    both("save_profile", &app);
}

#[test]
fn loading_screen() {
    let app = empty_app();
    both("empty", &app);
}

#[test]
fn every_size_down_to_one_by_one() {
    let mut states = vec![app()];
    for action in [
        Action::Help,
        Action::PickModel,
        Action::EditBudget,
        Action::Export,
    ] {
        let mut a = app();
        a.update(action);
        states.push(a);
    }
    let mut a = app();
    a.update(Action::FocusNext);
    a.update(Action::FocusNext);
    states.push(a);
    for app in &states {
        for w in (1..=130).step_by(7).chain([1, 2, 59, 60, 61]) {
            for h in (1..=45).step_by(4).chain([1, 2, 15, 16, 17]) {
                let _ = screen(app, w, h);
            }
        }
    }
}

/// The app after picking the estimated model, showing the plan the engine
/// gives for it (the hand-built plan, counted as an estimate).
fn estimated_app() -> tokenscope::tui::App {
    let mut app = app();
    app.update(Action::PickModel);
    for c in "sonnet".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    let mut plan = plan();
    plan.exact = false;
    plan.error_band = tokenscope::tokens::ErrorBand::new(0.10);
    plan.model = Some("claude-sonnet-4".into());
    plan.encoding = "o200k_base*1.1".into();
    answer_jobs(&mut app, &plan);
    app
}

#[test]
fn header_shows_the_error_band_of_an_estimated_model() {
    let app = estimated_app();
    assert!(!app.tokenizer().is_exact());
    let s = screen(&app, 100, 30);
    let header: Vec<&str> = s.lines().take(3).collect();
    assert!(
        header[0].contains("model claude-sonnet-4 · ≈ o200k_base*1.1 ±10% │ input ≈$"),
        "{s}"
    );
    let used = app.plan().unwrap().totals.used;
    assert!(
        header[2].contains(&format!(
            "≈{} ±10% / 16,000",
            tokenscope::text::thousands(used)
        )),
        "{s}"
    );
    // The sections pane says the counts are estimates, with the band.
    assert!(s.contains("≈ estimated counts ±10%"), "{s}");
    both("main_estimate", &app);

    // An exact model: no band anywhere.
    let exact = screen(&app_exact(), 100, 30);
    assert!(!exact.contains('±'), "{exact}");
    assert!(exact.lines().next().unwrap().contains("o200k_base exact"));
}

fn app_exact() -> tokenscope::tui::App {
    app()
}
