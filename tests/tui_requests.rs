//! The inspector on Anthropic, Responses and Gemini requests: what a
//! message is (its role, the request's API, each image and its cost) and
//! the `request` export in each format.

mod tui_support;

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::Value;
use tokenscope::input::{LoadOptions, load_path};
use tokenscope::tui::testing::{Action, App, AppOptions, Keymap, Pane, Popup, Theme};
use tui_support::*;

fn request_app(sample: &str, profile_dir: &Path) -> App {
    let path = Path::new(sample);
    let set = load_path(path, &LoadOptions::default()).unwrap();
    let mut app = App::new(AppOptions {
        inputs: vec![path.to_path_buf()],
        models: registry_models(),
        theme: Theme::bundled("dark").unwrap(),
        keymap: Keymap::defaults(),
        profile_file: profile_dir.join("tokenscope.toml"),
        loader: None,
    });
    app.on_resize(110, 32);
    app.set_loaded(set);
    settle(&mut app);
    if app.plan().is_none() {
        // A Gemini request names no model: pick one (its window is the
        // budget).
        app.update(Action::PickModel);
        for c in "gemini-2.5-flash".chars() {
            app.on_key(key(c));
        }
        app.on_key(code(KeyCode::Enter));
        settle(&mut app);
    }
    app
}

fn show_item(app: &mut App, section: &str, id: &str) {
    while app.focus() != Pane::Sections {
        app.update(Action::FocusNext);
    }
    app.update(Action::First);
    while app.selected_section().unwrap().name != section {
        app.update(Action::Down);
    }
    app.update(Action::FocusNext);
    app.update(Action::First);
    while app.selected_item().unwrap().id != id {
        app.update(Action::Down);
    }
}

#[test]
fn a_message_with_an_image_says_what_it_costs() {
    let dir = tempfile::tempdir().unwrap();
    for (sample, api, cost) in [
        (
            "samples/requests/anthropic.json",
            "Anthropic Messages",
            "1,334 tok",
        ),
        (
            "samples/requests/responses.json",
            "OpenAI Responses",
            "765 tok",
        ),
        (
            "samples/requests/gemini.json",
            "Gemini generateContent",
            "1,032 tok",
        ),
    ] {
        let mut app = request_app(sample, dir.path());
        show_item(&mut app, "history", "m5-user");
        settle(&mut app);
        let s = screen(&app, 110, 32);
        assert!(s.contains(api), "{sample}: {s}");
        assert!(s.contains("▣ image 1 · 1000x1000 · "), "{sample}: {s}");
        assert!(s.contains(cost), "{sample}: {s}");
        // A tool result message is shown as `tool`.
        show_item(&mut app, "history", "m3-tool");
        settle(&mut app);
        let s = screen(&app, 110, 32);
        assert!(s.contains("tool message 4 of"), "{sample}: {s}");
    }
}

#[test]
fn the_request_export_writes_each_format() {
    let dir = tempfile::tempdir().unwrap();
    for (sample, key_name) in [
        ("samples/requests/anthropic.json", "messages"),
        ("samples/requests/responses.json", "input"),
        ("samples/requests/gemini.json", "contents"),
    ] {
        let mut app = request_app(sample, dir.path());
        assert!(app.plan().unwrap().chat_request);
        app.update(Action::Export);
        let mut tabs = 0;
        while !screen(&app, 110, 32).contains("[request]") {
            app.on_key(code(KeyCode::Tab));
            tabs += 1;
            assert!(tabs < 10, "{sample}: no request format offered");
        }
        assert!(matches!(app.popup(), Some(Popup::Export(_))));
        let out = dir.path().join(format!("{key_name}.json"));
        app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        for c in out.display().to_string().chars() {
            app.on_key(key(c));
        }
        app.on_key(code(KeyCode::Enter));
        settle(&mut app);
        let written = std::fs::read_to_string(&out).unwrap();
        assert_eq!(written, app.plan().unwrap().rendered, "{sample}");
        let request: Value = serde_json::from_str(&written).unwrap();
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
        assert_eq!(
            request, original,
            "{sample}: nothing cut at the default budget"
        );
        assert!(request[key_name].is_array());
    }
}
