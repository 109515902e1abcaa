//! Snapshots of every pane and popup at 100x30 and at the smallest size
//! the inspector draws in (40x12, the compact layout), the too-small screen
//! below it, and what is drawn at every size down to 1x1.

mod tui_support;

use crossterm::event::KeyCode;
use tokenscope::tui::testing::{Action, App, Pane};
use tui_support::*;

/// Snapshots at 100x30 and, resized as a terminal would be, at 40x12 (then
/// back to 100x30).
fn both(name: &str, app: &mut App) {
    insta::assert_snapshot!(format!("{name}_100x30"), screen(app, 100, 30));
    app.on_resize(40, 12);
    insta::assert_snapshot!(format!("{name}_40x12"), screen(app, 40, 12));
    app.on_resize(100, 30);
}

#[test]
fn main_screen() {
    let mut app = app();
    both("main", &mut app);
}

#[test]
fn items_pane_focused_on_a_truncated_item() {
    let mut app = app();
    app.update(Action::Down); // concepts
    app.update(Action::FocusNext); // items
    app.update(Action::Down);
    app.update(Action::Down); // rate-limits (priority order: auth, sessions, rate-limits)
    assert_eq!(app.selected_item().unwrap().id, "rate-limits");
    both("items_truncated", &mut app);
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
    both("detail_excluded", &mut app);
}

#[test]
fn degraded_item_side_by_side() {
    let mut app = app();
    app.update(Action::Down);
    app.update(Action::Down); // pages
    app.update(Action::FocusNext);
    app.update(Action::Down); // reference
    assert_eq!(app.selected_item().unwrap().id, "reference");
    both("detail_degraded", &mut app);
}

#[test]
fn help_overlay() {
    let mut app = app();
    app.update(Action::Help);
    both("help", &mut app);
}

#[test]
fn model_picker() {
    let mut app = app();
    app.update(Action::PickModel);
    both("models", &mut app);
    for c in "anthropic".chars() {
        app.on_key(key(c));
    }
    both("models_search", &mut app);
}

#[test]
fn budget_prompt_with_an_error() {
    let mut app = app();
    app.update(Action::EditBudget);
    app.on_key(code(KeyCode::Backspace));
    app.on_key(key('x'));
    app.on_key(code(KeyCode::Enter));
    both("prompt_budget_error", &mut app);
}

#[test]
fn export_dialog() {
    let mut app = app();
    app.update(Action::Export);
    app.on_key(code(KeyCode::Tab));
    both("export", &mut app);
}

#[test]
fn filter_line() {
    let mut app = app();
    app.update(Action::Down);
    app.update(Action::Filter);
    for c in "sess".chars() {
        app.on_key(key(c));
    }
    both("filter", &mut app);
}

#[test]
fn save_profile_prompt() {
    let mut app = app();
    app.update(Action::SaveProfile);
    both("save_profile", &mut app);
}

/// The log popup (its lines carry the clock time: no snapshot) fits the
/// compact layout.
#[test]
fn log_popup_at_the_smallest_size() {
    let mut app = app();
    app.update(Action::Undo); // a message: nothing to undo
    app.update(Action::ShowLog);
    app.on_resize(40, 12);
    let s = screen(&app, 40, 12);
    assert!(s.contains("messages (1)"), "{s}");
    assert!(
        s.contains("┃ nothing to undo") || s.contains("┃  nothing to undo"),
        "{s}"
    );
}

#[test]
fn loading_screen() {
    let mut app = empty_app();
    both("empty", &mut app);
}

#[test]
fn below_the_minimum_the_screen_says_it_is_too_small() {
    let mut app = app();
    app.on_resize(39, 11);
    let s = screen(&app, 39, 11);
    insta::assert_snapshot!("too_small_39x11", s);
    assert!(s.contains("needs at least 40x12"), "{s}");
    // One column or one row short is enough.
    for (w, h) in [(39, 12), (40, 11)] {
        app.on_resize(w, h);
        let s = screen(&app, w, h);
        assert!(s.contains("terminal too small"), "{w}x{h}: {s}");
    }
    app.on_resize(40, 12);
    assert!(!screen(&app, 40, 12).contains("too small"));
}

const TOO_SMALL: &str = "terminal too small";

/// The rows of a screen, unquoted.
fn rows(s: &str) -> Vec<String> {
    s.lines().map(|l| l.trim_matches('"').to_string()).collect()
}

/// What must be on screen for `app` at `w` x `h`; `Err` says what is not.
fn check_screen(app: &App, w: u16, h: u16) -> Result<(), String> {
    let s = screen(app, w, h);
    let rows = rows(&s);
    if rows.len() != h as usize {
        return Err(format!("{} rows", rows.len()));
    }
    if let Some(r) = rows
        .iter()
        .find(|r| tokenscope::text::width(r) != w as usize)
    {
        return Err(format!("a row is not {w} wide: {r:?}"));
    }
    if w < 40 || h < 12 {
        // The message, wrapped and cut to fit: its first row is where it
        // starts, and nothing of the panes is drawn.
        let first = rows[0].trim_end();
        let message = format!("{TOO_SMALL} ({w}x{h}); tokenscope needs at least 40x12. q quits.");
        if first.is_empty() || !message.starts_with(first) {
            return Err(format!("not the too-small message: {s}"));
        }
        if s.contains("16,000") {
            return Err(format!("panes drawn below the minimum: {s}"));
        }
        return Ok(());
    }
    if s.contains(TOO_SMALL) {
        return Err(format!("too small at {w}x{h}: {s}"));
    }
    if let Some(popup) = app.popup() {
        // The popup is drawn, its title on its top border.
        let title = match popup {
            tokenscope::tui::testing::Popup::Help { .. } => "keys",
            tokenscope::tui::testing::Popup::Models(_) => "model",
            tokenscope::tui::testing::Popup::Prompt(_) => "Total budget",
            tokenscope::tui::testing::Popup::Export(_) => "export",
            tokenscope::tui::testing::Popup::Log { .. } => "log",
        };
        if !s.contains(title) {
            return Err(format!("no popup titled {title:?}: {s}"));
        }
        return Ok(());
    }
    // The header: the budget used of the total, the items in and out.
    let header: String = rows[..3].concat();
    for needle in ["8,850 / 16,000", "10 in / 4 out"] {
        if !header.contains(needle) {
            return Err(format!("no {needle:?} in the header: {s}"));
        }
    }
    // The selected row, in the focused pane (below the header).
    let body = rows[2..rows.len() - 1].concat();
    let selected = match app.focus() {
        Pane::Sections => app.selected_section().unwrap().name.clone(),
        Pane::Items | Pane::Detail => app.selected_item().unwrap().id.clone(),
    };
    let shown: String = selected.chars().take(5).collect();
    if !body.contains(&shown) {
        return Err(format!("the selected {selected:?} is not on screen: {s}"));
    }
    Ok(())
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
    a.update(Action::Down); // concepts
    a.update(Action::FocusNext);
    a.update(Action::Last); // the last item of concepts
    states.push(a);
    let mut a = app();
    a.update(Action::FocusNext);
    a.update(Action::FocusNext);
    states.push(a);
    let mut a = app();
    a.update(Action::Last); // footer, the last section
    states.push(a);
    let mut failures = Vec::new();
    for app in &mut states {
        for w in (1..=130).step_by(7).chain([1, 2, 39, 40, 41, 59, 60, 61]) {
            for h in (1..=45).step_by(4).chain([1, 2, 11, 12, 13, 15, 16, 17]) {
                app.on_resize(w, h);
                if let Err(e) = check_screen(app, w, h) {
                    failures.push(format!("{w}x{h}: {e}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The app after picking the estimated model, showing the plan the engine
/// gives for it (the hand-built plan, counted as an estimate).
fn estimated_app() -> tokenscope::tui::testing::App {
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
    let mut app = estimated_app();
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
    both("main_estimate", &mut app);

    // An exact model: no band anywhere.
    let exact = screen(&app_exact(), 100, 30);
    assert!(!exact.contains('±'), "{exact}");
    assert!(exact.lines().next().unwrap().contains("o200k_base exact"));
}

fn app_exact() -> tokenscope::tui::testing::App {
    app()
}

/// At 40x12 one pane has the body: the focus keys switch it, the status
/// line names the next, and a click selects a row of the pane on screen.
#[test]
fn the_compact_layout_shows_the_focused_pane() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let mut app = app();
    app.on_resize(40, 12);
    let s = screen(&app, 40, 12);
    assert!(
        s.contains("sections (5)") && !s.contains("items · header"),
        "{s}"
    );
    assert!(s.contains(" tab items · "), "{s}");
    // Row 6: the body starts at row 2, then the border and the column
    // header; `pages` is the third section.
    app.on_mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 5,
        row: 6,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(app.selected_section().unwrap().name, "pages");
    app.update(Action::FocusNext);
    let s = screen(&app, 40, 12);
    assert!(
        s.contains("items · pages") && !s.contains("sections (5)"),
        "{s}"
    );
    assert!(s.contains(" tab detail · "), "{s}");
    app.on_mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 5,
        row: 5,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(app.selected_item().unwrap().id, "reference");
    app.update(Action::FocusNext);
    let s = screen(&app, 40, 12);
    assert!(s.contains("┏ reference degraded"), "{s}");
    assert!(s.contains(" tab sections · "), "{s}");
    // Back to the full layout: every pane again.
    app.on_resize(100, 30);
    let s = screen(&app, 100, 30);
    assert!(
        s.contains("sections (5)") && s.contains("items · pages"),
        "{s}"
    );
}
