//! Key bindings: defaults from data, user overrides, descriptions in help.

mod tui_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokenscope::tui::testing::{Action, Keymap};

fn ev(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

#[test]
fn default_bindings() {
    let k = Keymap::defaults();
    let none = KeyModifiers::NONE;
    assert_eq!(
        k.action_for(&ev(KeyCode::Char('q'), none)),
        Some(Action::Quit)
    );
    assert_eq!(
        k.action_for(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Some(Action::Quit)
    );
    // Shift is folded into the character, as terminals report it.
    assert_eq!(
        k.action_for(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
        Some(Action::Last)
    );
    assert_eq!(
        k.action_for(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
        Some(Action::FocusPrev)
    );
    assert_eq!(
        k.action_for(&ev(KeyCode::Char('j'), none)),
        Some(Action::Down)
    );
    assert_eq!(k.action_for(&ev(KeyCode::Down, none)), Some(Action::Down));
    assert_eq!(
        k.action_for(&ev(KeyCode::Char('s'), none)),
        Some(Action::StrategyNext)
    );
    assert_eq!(
        k.action_for(&ev(KeyCode::Char('r'), KeyModifiers::CONTROL)),
        Some(Action::Redo)
    );
    assert_eq!(
        k.action_for(&ev(KeyCode::Char(' '), none)),
        Some(Action::TogglePin)
    );
    assert_eq!(
        k.action_for(&ev(KeyCode::Char('Z'), KeyModifiers::SHIFT)),
        None
    );
    assert_eq!(k.keys_for(Action::Quit), "q/ctrl-c");
}

#[test]
fn every_action_but_none_has_a_default_key_and_a_description() {
    let k = Keymap::defaults();
    let text = tokenscope::tui::testing::DEFAULT_KEYS;
    for b in k.bindings() {
        assert!(!b.keys.is_empty(), "{:?}", b.action);
        assert!(b.description.len() > 3, "{:?}", b.action);
        assert!(text.contains(&format!("action = \"{}\"", b.action.name())));
    }
    assert!(k.bindings().len() >= 35);
}

#[test]
fn user_bindings_override_defaults() {
    let user = r#"
[[binding]]
action = "strategy_next"
keys = ["x"]

[[binding]]
action = "cycle_theme"
keys = ["q"]
description = "Another look"

[[binding]]
action = "none"
keys = ["j"]
"#;
    let k = Keymap::defaults()
        .with_overrides(user, "keys.toml")
        .unwrap();
    let none = KeyModifiers::NONE;
    assert_eq!(
        k.action_for(&ev(KeyCode::Char('x'), none)),
        Some(Action::StrategyNext)
    );
    // The action's default key is replaced...
    assert_eq!(k.action_for(&ev(KeyCode::Char('s'), none)), None);
    // ...a key taken by another action leaves its old one...
    assert_eq!(
        k.action_for(&ev(KeyCode::Char('q'), none)),
        Some(Action::CycleTheme)
    );
    assert_eq!(
        k.action_for(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Some(Action::Quit)
    );
    // ...and `none` unbinds.
    assert_eq!(k.action_for(&ev(KeyCode::Char('j'), none)), None);
    assert_eq!(k.action_for(&ev(KeyCode::Down, none)), Some(Action::Down));
    // Descriptions: the default kept unless the user gives one.
    let find = |a: Action| k.bindings().iter().find(|b| b.action == a).unwrap().clone();
    assert!(
        find(Action::StrategyNext)
            .description
            .starts_with("Next strategy")
    );
    assert_eq!(find(Action::CycleTheme).description, "Another look");
}

#[test]
fn help_overlay_is_generated_from_the_keymap() {
    let mut app = tui_support::app();
    let user = "[[binding]]\naction = \"export\"\nkeys = [\"ctrl-e\", \"f5\"]\ndescription = \"Write the report somewhere\"\n";
    let k = Keymap::defaults()
        .with_overrides(user, "keys.toml")
        .unwrap();
    app = {
        let _ = &mut app;
        let mut a = tokenscope::tui::testing::App::new(tokenscope::tui::testing::AppOptions {
            inputs: vec![],
            models: tui_support::models(),
            theme: tokenscope::tui::testing::Theme::bundled("dark").unwrap(),
            keymap: k,
            profile_file: std::env::temp_dir().join("x.toml"),
            loader: None,
        });
        a.on_resize(120, 60);
        a
    };
    app.update(Action::Help);
    // Every page of the help.
    let mut s = String::new();
    for _ in 0..10 {
        s.push_str(&tui_support::screen(&app, 120, 60));
        app.on_key(tui_support::code(crossterm::event::KeyCode::PageDown));
    }
    assert!(s.contains("ctrl-e, f5"), "{s}");
    assert!(s.contains("Write the report somewhere"), "{s}");
    assert!(s.contains("Pin or unpin the item"), "{s}");
}

#[test]
fn bad_user_files_say_where_and_what() {
    let bad_key = "[[binding]]\naction = \"quit\"\nkeys = [\"hyper-q\"]\n";
    let e = Keymap::defaults()
        .with_overrides(bad_key, "keys.toml")
        .unwrap_err();
    assert_eq!((e.line, e.column), (3, 9));
    assert!(
        e.to_string()
            .starts_with("keys.toml:3:9: unknown key `hyper-q`"),
        "{e}"
    );

    let bad_action = "[[binding]]\naction = \"explode\"\nkeys = [\"x\"]\n";
    let e = Keymap::defaults()
        .with_overrides(bad_action, "keys.toml")
        .unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("explode"), "{e}");
    assert!(
        e.message.contains("strategy_next"),
        "lists the valid actions: {e}"
    );

    let bad_field = "[[binding]]\naction = \"quit\"\nkey = [\"x\"]\n";
    let e = Keymap::defaults()
        .with_overrides(bad_field, "keys.toml")
        .unwrap_err();
    assert!(e.message.contains("key"), "{e}");
}

#[test]
fn key_names_round_trip() {
    use tokenscope::tui::testing::KeyChord;
    for name in [
        "q", "G", "ctrl-r", "alt-x", "enter", "esc", "tab", "backtab", "space", "pagedown", "f5",
        "?", "+", "-",
    ] {
        let chord = KeyChord::parse(name).unwrap();
        assert_eq!(
            KeyChord::parse(&chord.to_string().replace('↑', "up")).unwrap(),
            chord,
            "{name}"
        );
    }
    assert!(KeyChord::parse("f13").is_err());
    assert!(KeyChord::parse("").is_err());
}
