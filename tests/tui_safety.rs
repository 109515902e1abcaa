//! Untrusted text cannot drive the terminal, and wide or combining
//! characters are laid out by display width: item text, and the task types,
//! ids and file names of the usage history in the History view.

mod tui_support;

use ratatui::buffer::Buffer;
use tokenscope::engine::{Item, ItemStatus};
use tokenscope::tui::testing::Action;
use tui_support::*;

fn all_cells_safe(buf: &Buffer) {
    for cell in buf.content() {
        for c in cell.symbol().chars() {
            assert!(
                !c.is_control() && !('\u{202a}'..='\u{202e}').contains(&c),
                "control character {c:?} reached the screen"
            );
        }
    }
}

fn hostile_app(text: &str, id: &str) -> tokenscope::tui::testing::App {
    let mut set = item_set();
    set.items[1] = {
        let mut i = Item::new(id, "concepts", text);
        i.priority = 0.9;
        i
    };
    let mut p = plan();
    p.items[1].id = id.to_string();
    let mut app = empty_app();
    app.on_resize(100, 30);
    app.set_loaded(set);
    answer_jobs(&mut app, &p);
    app.update(Action::Down); // concepts
    app.update(Action::FocusNext); // items: the hostile item is first by priority
    assert_eq!(app.selected_item().unwrap().id, id);
    assert_eq!(app.selected_item().unwrap().status, ItemStatus::Included);
    app
}

#[test]
fn control_characters_are_escaped() {
    let text =
        "title: \x1b]0;pwned\x07 then \x1b[2J\x1b[31mred\x1b[0m \u{9b}31m and \u{202e}reversed\r\n";
    let app = hostile_app(text, "evil\x1b[5m-id");
    let buf = buffer(&app, 100, 30);
    all_cells_safe(&buf);
    let s = screen(&app, 100, 30);
    assert!(s.contains("\\x1b]0;pwned\\x07"), "{s}");
    assert!(s.contains("evil\\x1b[5m-id"), "{s}");
    assert!(s.contains("\\u{202e}reversed\\r"), "{s}");
}

#[test]
fn escapes_are_drawn_in_the_escape_style() {
    let app = hostile_app("a\x1bb", "esc");
    let buf = buffer(&app, 100, 30);
    let theme = tokenscope::tui::testing::Theme::bundled("dark").unwrap();
    // Find the `\x1b` in the detail pane and check its style.
    let area = buf.area;
    let mut found = false;
    for y in 0..area.height {
        let row: String = (0..area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if let Some(byte) = row.find("a\\x1bb") {
            let col = row[..byte].chars().count() as u16 + 1;
            assert_eq!(buf[(col, y)].symbol(), "\\");
            assert_eq!(buf[(col, y)].bg, theme.escape.bg.unwrap());
            found = true;
        }
    }
    assert!(found);
}

#[test]
fn wide_and_combining_characters_keep_rows_aligned() {
    let text = "漢字のテキスト and cafe\u{301} ".repeat(20);
    let app = hostile_app(&text, "漢字-e\u{301}-id");
    let buf = buffer(&app, 100, 30);
    all_cells_safe(&buf);
    let s = screen(&app, 100, 30);
    // Every screen row is exactly 100 columns wide, borders in place.
    for line in s.lines() {
        let inner = line.trim_matches('"');
        let inner = inner.split("\" Hidden by").next().unwrap();
        assert_eq!(unicode_width::UnicodeWidthStr::width(inner), 100, "{line}");
    }
    assert!(s.contains("漢字-e\u{301}-id"), "{s}");
}

#[test]
fn detail_pane_alternates_token_colours() {
    // o200k_base: "Hello" | " world" | "!" are three tokens.
    let app = hostile_app("Hello world!", "hello");
    let theme = tokenscope::tui::testing::Theme::bundled("dark").unwrap();
    let buf = buffer(&app, 100, 30);
    let mut checked = false;
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if let Some(byte) = row.find("Hello world!") {
            let x0 = row[..byte].chars().count() as u16;
            let bg = |dx: u16| buf[(x0 + dx, y)].bg;
            let a = theme.token_a.bg.unwrap();
            let b = theme.token_b.bg.unwrap();
            assert_eq!((0..5).map(bg).collect::<Vec<_>>(), vec![a; 5]);
            assert_eq!((5..11).map(bg).collect::<Vec<_>>(), vec![b; 6]);
            assert_eq!(bg(11), a);
            checked = true;
        }
    }
    assert!(checked, "{}", screen(&app, 100, 30));
}

/// A history whose task types, task ids and file name carry escapes and
/// wide characters.
fn hostile_history_app() -> (tempfile::TempDir, tokenscope::tui::testing::App) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hist\x1b[2Jory.jsonl");
    let mut text = String::new();
    for (i, ty) in [
        "evil\\u001b]0;pwned\\u0007type",
        "漢字のタイプ-cafe\\u0301",
        "\\u202ereversed\\r\\n",
    ]
    .iter()
    .enumerate()
    {
        for (j, used) in [(6, 4000), (7, 5000), (8, 30_000)] {
            text.push_str(&format!(
                "{{\"time\":\"2025-06-2{j}T10:00:00Z\",\"task\":\"T\\u001b[31m-{i}-{j}\",\"type\":\"{ty}\",\"complexity\":40,\"allocated\":10000,\"used\":{used}}}\n"
            ));
        }
    }
    std::fs::write(&file, text).unwrap();
    let app = history_app(&file);
    assert_eq!(app.history_report().unwrap().records, 9);
    assert!(!app.history_report().unwrap().alerts.is_empty());
    (dir, app)
}

#[test]
fn history_text_is_escaped() {
    let (_dir, app) = hostile_history_app();
    for (w, h) in [(100, 30), (60, 16), (20, 6), (1, 1)] {
        all_cells_safe(&buffer(&app, w, h));
    }
    let s = screen(&app, 100, 30);
    assert!(s.contains("evil\\x1b]0;pwned\\x07type"), "{s}");
    assert!(s.contains("hist\\x1b[2Jory.jsonl"), "{s}");
    assert!(s.contains("T\\x1b[31m-"), "{s}");
    // Every row is exactly 100 columns wide despite the wide characters.
    for line in s.lines() {
        let inner = line.trim_matches('"');
        let inner = inner.split("\" Hidden by").next().unwrap();
        assert_eq!(unicode_width::UnicodeWidthStr::width(inner), 100, "{line}");
    }
    assert!(s.contains("漢字のタイプ-cafe\u{301}"), "{s}");
}

#[test]
fn a_malformed_history_is_an_error_on_screen_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.jsonl");
    std::fs::write(
        &file,
        "{\"time\":\"x\\u001b[2J\"}\n\u{0}\u{1b}[31mgarbage\n",
    )
    .unwrap();
    let app = history_app(&file);
    let e = app.history_error().unwrap();
    assert!(e.contains("history.jsonl:1:"), "{e}");
    for (w, h) in [(100, 30), (20, 6), (1, 1)] {
        all_cells_safe(&buffer(&app, w, h));
    }
}
