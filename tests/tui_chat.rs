//! The inspector on an OpenAI chat-completions request
//! (`samples/chat/agent.json`) with the real loader, engine and exporters:
//! the history cut to a small budget, tool call groups listed together,
//! what the tools and reply items are, another model's framing, and the
//! `request` export.

mod tui_support;

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::Value;
use tokenscope::engine::ItemStatus;
use tokenscope::tui::testing::{Action, App, AppOptions, Keymap, Pane, Popup, Theme};
use tui_support::*;

const AGENT: &str = "samples/chat/agent.json";

/// The inspector on the sample request at 100x30, the first plan computed.
fn chat_app(profile_dir: &Path) -> App {
    let path = Path::new(AGENT);
    let text = std::fs::read_to_string(path).unwrap();
    let set = tokenscope::input::chat::parse(path, &text).unwrap();
    let mut app = App::new(AppOptions {
        inputs: vec![path.to_path_buf()],
        models: registry_models(),
        theme: Theme::bundled("dark").unwrap(),
        keymap: Keymap::defaults(),
        profile_file: profile_dir.join("tokenscope.toml"),
        loader: None,
    });
    app.on_resize(100, 30);
    app.set_loaded(set);
    settle(&mut app);
    app
}

fn ctrl_u() -> KeyEvent {
    KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)
}

/// Types a total budget into the budget prompt (`b`).
fn set_budget(app: &mut App, total: usize) {
    app.update(Action::EditBudget);
    app.on_key(ctrl_u());
    for c in total.to_string().chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    settle(app);
}

/// Picks a model in the model picker.
fn pick(app: &mut App, name: &str) {
    app.update(Action::PickModel);
    for c in name.chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    settle(app);
}

/// Selects a section and focuses the items pane on the item `id`.
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

fn status(app: &App, id: &str) -> ItemStatus {
    app.plan()
        .unwrap()
        .items
        .iter()
        .find(|i| i.id == id)
        .unwrap()
        .status
}

fn tokens(app: &App, id: &str) -> usize {
    app.plan()
        .unwrap()
        .items
        .iter()
        .find(|i| i.id == id)
        .unwrap()
        .tokens
}

#[test]
fn a_small_budget_cuts_the_history_and_lists_tool_call_groups_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = chat_app(dir.path());
    assert!(app.plan().unwrap().chat_request);
    assert_eq!(app.plan().unwrap().totals.excluded, 0);
    // The frontier's legend shortens rather than cut the budget at its end.
    let s = screen(&app, 100, 30);
    assert!(s.contains("━ prio 100% ━ items 100% │ 127k "), "{s}");
    set_budget(&mut app, 330);
    let plan = app.plan().unwrap();
    assert_eq!(plan.budget.total, 330);
    assert!(plan.totals.context <= 330);
    // The history is cut oldest first: the newest answer stays.
    let history = plan.sections.iter().find(|s| s.name == "history").unwrap();
    assert!(history.included > 0 && history.excluded > 0, "{history:?}");
    assert_eq!(status(&app, "m9-assistant"), ItemStatus::Included);
    assert_eq!(status(&app, "m1-user"), ItemStatus::Excluded);

    show_item(&mut app, "history", "m6-assistant");
    // The group of the second tool call sorts as one unit, by its summed
    // priority, its members together in request order.
    let listed: Vec<&str> = app.visible_items().map(|i| i.id.as_str()).collect();
    assert_eq!(
        listed,
        [
            "m9-assistant",
            "m6-assistant",
            "m7-tool",
            "m8-tool",
            "m5-user",
            "m4-assistant",
            "m2-assistant",
            "m3-tool",
            "m1-user"
        ]
    );
    let s = screen(&app, 100, 30);
    for needle in [
        "┌ m6-assistant",
        "├ m7-tool",
        "└ m8-tool",
        "assistant message 7 of 11",
        "33 tok: 0 text + 33 framing, role and tool",
        "→ list_plans({\"currency\": \"USD\"})",
        "group call-m6: kept or dropped with",
    ] {
        assert!(s.contains(needle), "{needle}\n{s}");
    }
    // The group needs room for all its members.
    let history = app
        .plan()
        .unwrap()
        .sections
        .iter()
        .find(|s| s.name == "history")
        .unwrap();
    let group: usize = ["m6-assistant", "m7-tool", "m8-tool"]
        .iter()
        .map(|id| tokens(&app, id))
        .sum();
    let need = group - history.headroom;
    assert_eq!(app.needs_to_fit(app.selected_item().unwrap()), Some(need));
    assert!(
        s.contains(&format!("needs {need} more tokens to fit with its group")),
        "{s}"
    );
    insta::assert_snapshot!("chat_budget_330_history_100x30", s);
}

#[test]
fn the_tools_and_reply_items_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = chat_app(dir.path());
    set_budget(&mut app, 330);

    show_item(&mut app, "tools", "tools");
    let s = screen(&app, 100, 30);
    assert!(
        s.contains("tool definitions: 3 functions: get_quota,"),
        "{s}"
    );
    assert!(s.contains("as the API bills them (not the JSON"), "{s}");
    insta::assert_snapshot!("chat_tools_item_100x30", s);

    show_item(&mut app, "latest", "reply");
    let s = screen(&app, 100, 30);
    assert!(
        s.contains("reply priming: the assistant header that"),
        "{s}"
    );
    assert!(s.contains("always kept; it has no text"), "{s}");
    assert_eq!(tokens(&app, "reply"), 3);
}

#[test]
fn an_estimated_model_changes_the_framing() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = chat_app(dir.path());
    set_budget(&mut app, 330);
    // gpt-4o frames each message with 4 tokens.
    show_item(&mut app, "latest", "m10-user");
    let s = screen(&app, 100, 30);
    assert!(s.contains("22 tok: 18 text + 4 framing and role"), "{s}");
    pick(&mut app, "claude-sonnet-4-5");
    let plan = app.plan().unwrap();
    assert_eq!(plan.model.as_deref(), Some("claude-sonnet-4-5"));
    assert!(!plan.exact);
    assert_eq!(plan.budget.total, 330, "the typed budget stays");
    assert!(plan.totals.context <= 330);
    // No published chat framing: the reply priming costs nothing and a
    // message costs its text.
    assert_eq!(tokens(&app, "reply"), 0);
    show_item(&mut app, "latest", "m10-user");
    let s = screen(&app, 100, 30);
    let user = tokens(&app, "m10-user");
    assert!(
        s.contains(&format!(
            "≈{user} ±10% tok: {user} text + 0 (no chat framing"
        )),
        "{s}"
    );
    show_item(&mut app, "latest", "reply");
    let s = screen(&app, 100, 30);
    assert!(
        s.contains("no chat framing is known for this model:") && s.contains("counted as 0"),
        "{s}"
    );
    insta::assert_snapshot!("chat_estimated_model_reply_100x30", s);
}

#[test]
fn the_export_dialog_offers_the_trimmed_request_and_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = chat_app(dir.path());
    set_budget(&mut app, 330);
    app.update(Action::Export);
    let s = screen(&app, 100, 30);
    assert!(s.contains(" request "), "{s}");
    // Tab to `request`: the path follows the format.
    let mut tabs = 0;
    while !screen(&app, 100, 30).contains("[request]") {
        app.on_key(code(KeyCode::Tab));
        tabs += 1;
        assert!(tabs < 10, "no request format offered");
    }
    let Some(Popup::Export(export)) = app.popup() else {
        panic!("{:?}", app.popup())
    };
    assert_eq!(export.path, "tokenscope-request.json");
    let out = dir.path().join("trimmed.json");
    app.on_key(ctrl_u());
    for c in out.display().to_string().chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup().is_none(), "{:?}", app.popup());
    settle(&mut app);
    let message = &app.status().unwrap().text;
    assert!(
        message.starts_with("wrote the trimmed request (3 of 11 messages) to "),
        "{message}"
    );

    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written, app.plan().unwrap().rendered);
    let request: Value = serde_json::from_str(&written).unwrap();
    let original: Value = serde_json::from_str(&std::fs::read_to_string(AGENT).unwrap()).unwrap();
    let messages = request["messages"].as_array().unwrap();
    assert!(messages.len() < original["messages"].as_array().unwrap().len());
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "assistant", "user"]);
    assert_eq!(messages[1], original["messages"][9]);
    // Everything else is as written.
    assert_eq!(request["tools"], original["tools"]);
    assert_eq!(request["model"], "gpt-4o");
    assert_eq!(request["max_completion_tokens"], 1024);
}

#[test]
fn other_inputs_are_not_offered_the_request_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = real_app("samples/docs/docs.toml", dir.path().join("tokenscope.toml"));
    app.update(Action::Export);
    for _ in 0..8 {
        let s = screen(&app, 100, 30);
        assert!(!s.contains("request"), "{s}");
        app.on_key(code(KeyCode::Tab));
    }
}

#[test]
fn chat_screens_fit_small_terminals() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = chat_app(dir.path());
    set_budget(&mut app, 330);
    show_item(&mut app, "history", "m7-tool");
    for (w, h) in [(80, 24), (60, 20), (40, 12), (20, 5), (1, 1)] {
        app.on_resize(w, h);
        let s = screen(&app, w, h);
        assert_eq!(s.lines().count(), h as usize);
        // The detail pane scrolls to the end of the text and no further.
        app.update(Action::FocusNext);
        app.update(Action::Last);
        let _ = screen(&app, w, h);
        app.update(Action::FocusPrev);
    }
}
