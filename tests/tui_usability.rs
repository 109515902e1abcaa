//! What a new user reaches for in the inspector: the selection stays in
//! view after a resize, a failed first load says so, messages speak in the
//! help's words (never the internal action names), the message log, exact
//! counts on demand, per-section rules, the frontier's scale and help, the
//! 80x24 layout and confirming an export over an existing file.

mod tui_support;

use crossterm::event::KeyCode;
use tokenscope::tui::{Action, Pane};
use tui_support::*;

/// The rows of the screen between columns `from` and `to`.
fn column(s: &str, from: usize, to: usize) -> String {
    s.lines()
        .map(|l| {
            let l = l.trim_matches('"');
            l.chars().skip(from).take(to - from).collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn after_a_resize_the_selected_rows_stay_drawn() {
    let mut app = app();
    // The last section, and in `concepts` the last item.
    app.update(Action::Last);
    assert_eq!(app.selected_section().unwrap().name, "footer");
    app.on_resize(60, 16);
    let s = screen(&app, 60, 16);
    assert!(column(&s, 0, 33).contains("footer"), "{s}");
    // Growing back shows the first rows again (no blank rows below).
    app.on_resize(100, 30);
    let s = screen(&app, 100, 30);
    assert!(column(&s, 0, 55).contains("┃header"), "{s}");
    assert!(column(&s, 0, 55).contains("┃footer"), "{s}");

    app.update(Action::First);
    app.update(Action::Down); // concepts
    app.update(Action::FocusNext);
    assert_eq!(app.focus(), Pane::Items);
    app.update(Action::Last);
    let last = app.selected_item().unwrap().id.clone();
    assert_eq!(last, "legacy-api");
    app.on_resize(60, 16);
    let s = screen(&app, 60, 16);
    assert!(column(&s, 0, 33).contains("┃✗ legacy…"), "{s}");
    assert!(!column(&s, 0, 33).contains("✓ auth "), "{s}");
    app.on_resize(100, 30);
    let s = screen(&app, 100, 30);
    assert!(column(&s, 0, 55).contains("✓ auth "), "{s}");
    assert!(column(&s, 0, 55).contains("legacy-api"), "{s}");
}

#[test]
fn a_failed_first_load_says_what_failed() {
    let mut app = empty_app();
    app.on_resize(100, 30);
    app.set_load_error("bad.toml:2:9: expected a number, found a string".into());
    let s = screen(&app, 100, 30);
    assert!(!s.contains("last good plan"), "{s}");
    assert!(s.contains("loading the inputs failed"), "{s}");
    // The whole error where the items would be.
    assert!(s.contains("The inputs could not be loaded:"), "{s}");
    assert!(
        s.contains("bad.toml:2:9: expected a number, found a string"),
        "{s}"
    );
}

#[test]
fn messages_name_keys_and_their_help_text_not_action_names() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut app = history_app(file.path());
    app.on_key(key('s'));
    let text = app.status().unwrap().text.clone();
    assert!(!text.contains("strategy_next"), "{text}");
    assert!(!text.contains('_'), "{text}");
    assert!(
        text.starts_with("s: Next strategy works on the plan"),
        "{text}"
    );
    assert!(text.contains("H/esc returns to it"), "{text}");
}

#[test]
fn no_key_in_any_view_shows_an_action_name() {
    let keymap = tokenscope::tui::Keymap::defaults();
    let names: Vec<String> = keymap
        .bindings()
        .iter()
        .map(|b| b.action.name())
        .filter(|n| n.contains('_'))
        .collect();
    let chars: Vec<char> = keymap
        .bindings()
        .iter()
        .flat_map(|b| b.keys.iter().map(|k| k.to_string()))
        .filter_map(|k| {
            let mut c = k.chars();
            match (c.next(), c.next()) {
                (Some(ch), None) if !"qe/wHPabR".contains(ch) => Some(ch),
                _ => None,
            }
        })
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    for history in [false, true] {
        let mut app = if history {
            history_app(file.path())
        } else {
            app()
        };
        for &c in &chars {
            app.on_key(key(c));
            let shown = format!(
                "{}\n{}",
                app.status().map_or("", |s| s.text.as_str()),
                screen(&app, 100, 30)
            );
            for n in &names {
                assert!(!shown.contains(n.as_str()), "`{n}` after `{c}`: {shown}");
            }
            if app.popup().is_some() {
                app.on_key(code(KeyCode::Esc));
            }
        }
    }
}
