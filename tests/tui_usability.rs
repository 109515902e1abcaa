//! What a new user reaches for in the inspector: the selection stays in
//! view after a resize, a failed first load says so, messages speak in the
//! help's words (never the internal action names), the message log, exact
//! counts on demand, per-section rules, the frontier's scale and help, the
//! 80x24 layout and confirming an export over an existing file.

mod tui_support;

use crossterm::event::KeyCode;
use tokenscope::tui::testing::{Action, Pane};
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
    assert!(!s.contains("computing"), "{s}");
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
    let keymap = tokenscope::tui::testing::Keymap::defaults();
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

/// Text rows joined by single spaces (wrapped text reads as one line).
fn joined(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_log_keeps_every_message_in_full_with_time_and_source() {
    let mut app = empty_app();
    app.on_resize(80, 24);
    let long = "section `concepts` has share 0 but items; it gets nothing until you give it a share or a size, and every one of its items is excluded as over budget";
    let mut set = item_set();
    set.warnings = vec![
        long.to_string(),
        "item `evil` has a title with \x1b]0;owned\x07 in it".to_string(),
        // A first row filled exactly: the wrap breaks at the space.
        format!("{} tail", "x".repeat(56)),
    ];
    app.set_loaded(set);
    answer_jobs(&mut app, &plan());
    // The status line has room for the first warning's start only.
    let status = app.status().unwrap().text.clone();
    assert!(status.starts_with("3 warnings while loading"), "{status}");
    assert!(status.ends_with("(L shows all)"), "{status}");
    assert!(screen(&app, 80, 24).contains("L log"));
    app.update(Action::Undo); // "nothing to undo"
    app.on_key(key('L'));
    assert!(matches!(
        app.popup(),
        Some(tokenscope::tui::testing::Popup::Log { .. })
    ));
    let s = screen(&app, 80, 24);
    let text = joined(&column(&s, 3, 77));
    assert!(text.contains(&format!("load {long}")), "{s}");
    // Escaped: the terminal title sequence is shown, not sent.
    assert!(text.contains("\\x1b]0;owned\\x07"), "{s}");
    assert!(!s.contains('\x1b'), "{s}");
    assert!(text.contains("inspector nothing to undo"), "{s}");
    // Each with its time.
    let times = s
        .lines()
        .filter(|l| {
            l.chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take(8)
                .collect::<String>()
                .chars()
                .enumerate()
                .all(|(i, c)| {
                    if i == 2 || i == 5 {
                        c == ':'
                    } else {
                        c.is_ascii_digit()
                    }
                })
        })
        .count();
    assert!(times >= 3, "{s}");
    // Wrapped rows line up under the text (not after the space the wrap
    // broke at).
    for l in column(&s, 3, 77).lines() {
        let spaces = l.chars().take_while(|c| *c == ' ').count();
        assert!(spaces != 19 || l.trim().is_empty(), "{s}");
    }
    // Wrapped inside the popup: nothing drawn past its border.
    for l in s.lines() {
        assert!(tokenscope::text::width(l.trim_matches('"')) <= 80, "{l}");
    }
    // L (or esc) closes it.
    app.on_key(key('L'));
    assert!(app.popup().is_none());
}

#[test]
fn the_log_scrolls_and_is_bounded() {
    let mut app = app();
    app.on_resize(80, 24);
    for i in 0..tokenscope::tui::testing::LOG_LIMIT + 5 {
        app.update(if i % 2 == 0 {
            Action::Undo
        } else {
            Action::Redo
        });
    }
    assert_eq!(app.log().len(), tokenscope::tui::testing::LOG_LIMIT);
    app.on_key(key('L'));
    // Opens on the newest messages.
    let s = screen(&app, 80, 24);
    assert!(s.contains("nothing to redo"), "{s}");
    app.on_key(code(KeyCode::Home));
    let s = screen(&app, 80, 24);
    assert!(s.contains("older messages dropped"), "{s}");
    app.on_key(code(KeyCode::End));
    app.on_key(code(KeyCode::Esc));
    assert!(app.popup().is_none());
}

#[test]
fn at_80x24_the_in_out_counts_are_shown() {
    let mut app = app();
    app.on_resize(80, 24);
    let s = screen(&app, 80, 24);
    insta::assert_snapshot!("main_80x24", s);
    let lines: Vec<&str> = s.lines().collect();
    // The header: the plan's totals.
    assert!(lines[1].contains("10 in / 4 out"), "{s}");
    assert!(lines[1].contains("greedy · drop · realloc on"), "{s}");
    // The sections pane: each section's in/out.
    assert!(lines[4].contains("in/out"), "{s}");
    for (row, io) in [(5, "1/0"), (6, "3/2"), (7, "2/1")] {
        let left = column(&s, 0, 44);
        let line = left.lines().nth(row).unwrap();
        assert!(
            line.trim_end_matches('┃').trim_end().ends_with(io),
            "{line}"
        );
    }
}

#[test]
fn at_the_smallest_size_the_in_out_counts_are_still_shown() {
    let mut app = app();
    app.on_resize(60, 16);
    let s = screen(&app, 60, 16);
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[1].contains("10 in / 4 out"), "{s}");
    let left = column(&s, 0, 33);
    assert!(left.contains("in/out┃"), "{s}");
    assert!(left.contains("1/0┃"), "{s}");
    // The frontier's title keeps the budget when narrow.
    let mut app = app;
    app.on_resize(80, 24);
    let s = screen(&app, 80, 24);
    assert!(s.contains("prio 84% │ 16k "), "{s}");
}

#[test]
fn counts_switch_between_compact_and_in_full() {
    let mut app = app();
    app.update(Action::Down); // concepts
    app.update(Action::FocusNext);
    let compact = screen(&app, 100, 30);
    insta::assert_snapshot!("counts_compact_100x30", compact);
    assert!(compact.contains("5.6k"), "{compact}");
    app.on_key(key('#'));
    assert!(app.exact_counts());
    let exact = screen(&app, 100, 30);
    insta::assert_snapshot!("counts_exact_100x30", exact);
    // Sections, items and the frontier's budget in full.
    assert!(!exact.contains("5.6k"), "{exact}");
    assert!(exact.contains("5,600"), "{exact}");
    assert!(exact.contains("│ 16,000"), "{exact}");
    assert!(column(&exact, 0, 55).contains("1,200"), "{exact}");
    // At 80x24 the in/out counts stay.
    let narrow = screen(&app, 80, 24);
    assert!(column(&narrow, 0, 44).contains("3/2"), "{narrow}");
    app.on_key(key('#'));
    let without_status = |s: &str| s.lines().take(29).collect::<Vec<_>>().join("\n");
    assert_eq!(
        without_status(&screen(&app, 100, 30)),
        without_status(&compact)
    );
}

#[test]
fn sections_show_their_own_strategy_and_overflow() {
    let mut app = empty_app();
    app.on_resize(100, 30);
    let mut set = item_set();
    set.sections[1].strategy = Some(tokenscope::engine::Strategy::Density);
    set.sections[1].overflow = Some(tokenscope::engine::Overflow::Truncate);
    set.sections[3].strategy = Some(tokenscope::engine::Strategy::Optimal);
    app.set_loaded(set);
    answer_jobs(&mut app, &plan());
    app.update(Action::Down); // concepts
    let s = screen(&app, 100, 30);
    insta::assert_snapshot!("section_rules_100x30", s);
    let left = column(&s, 0, 55);
    assert!(left.contains("own rules"), "{s}");
    let row = |name: &str| {
        left.lines()
            .find(|l| l.contains(&format!("┃{name} ")))
            .unwrap()
            .to_string()
    };
    // Shortened to fit beside the figures; in full above the items.
    assert!(row("concepts").contains("density,trunc"), "{s}");
    assert!(row("examples").contains("optimal"), "{s}");
    assert!(!row("pages").contains("optimal"), "{s}");
    // The global strategy stays greedy in the header.
    assert!(s.lines().nth(1).unwrap().contains("strategy greedy"), "{s}");
    // The selected section's rules in full above its items.
    assert!(left.contains("own rules density, truncate"), "{s}");
    // At 80 columns, shortened but there.
    let s = screen(&app, 80, 24);
    assert!(column(&s, 0, 44).contains("density"), "{s}");
}

/// The frontier job the app queues next, after answering the engine run
/// with `plan`.
fn next_frontier(
    app: &mut tokenscope::tui::testing::App,
    plan: &tokenscope::engine::Plan,
) -> usize {
    let mut max = None;
    for job in app.take_jobs() {
        match job {
            tokenscope::tui::testing::Job::Pack(p) => {
                app.on_job(tokenscope::tui::testing::JobOutput::Packed {
                    generation: p.generation,
                    result: Ok(plan.clone()),
                    elapsed: std::time::Duration::from_millis(1),
                    warmed: None,
                });
                for j in app.take_jobs() {
                    if let tokenscope::tui::testing::Job::Frontier(f) = j {
                        max = Some(f.max_budget);
                    }
                }
            }
            tokenscope::tui::testing::Job::Frontier(f) => max = Some(f.max_budget),
            _ => {}
        }
    }
    max.expect("a frontier job")
}

#[test]
fn the_frontier_fits_the_budget_not_only_the_window() {
    let mut app = empty_app();
    app.on_resize(100, 30);
    app.set_loaded(item_set());
    // Budget 16,000 with gpt-4o (a 128k window): the chart runs to a round
    // number past twice the budget, not to the window.
    let max = next_frontier(&mut app, &plan());
    assert_eq!(max, 40_000);
    // A small budget: a small chart.
    let mut small = plan();
    small.budget.total = 1_280;
    small.totals.used = 1_200;
    small.totals.context = 1_210;
    app.update(Action::ToggleReallocate);
    let max = next_frontier(&mut app, &small);
    assert_eq!(max, 3_000);
    // A budget near the window: capped at the window less the reserve, but
    // never below the budget.
    let mut big = plan();
    big.budget.total = 120_000;
    big.totals.used = 100_000;
    app.update(Action::StrategyNext);
    let max = next_frontier(&mut app, &big);
    assert_eq!(max, 128_000 - 4_096);
}

#[test]
fn help_fits_80_columns_and_explains_the_frontier() {
    let mut app = app();
    app.on_resize(80, 24);
    app.update(Action::Help);
    // Every page of the help, inside the popup's borders.
    let mut seen = String::new();
    for _ in 0..200 {
        let s = screen(&app, 80, 24);
        for l in s.lines() {
            let l = l.trim_matches('"');
            assert!(tokenscope::text::width(l) <= 80);
            // No row ends cut (`…`) at the popup's right border.
            assert!(!l.contains("…┃"), "{s}");
        }
        seen.push_str(&column(&s, 2, 78));
        seen.push('\n');
        app.on_key(code(KeyCode::PageDown));
    }
    // Each description reads whole once the wrapped rows are joined.
    let text = joined(
        &seen
            .lines()
            .map(|l| l.trim_start_matches(['┃', ' ']).to_string())
            .collect::<Vec<_>>()
            .join(" "),
    );
    for b in tokenscope::tui::testing::Keymap::defaults().bindings() {
        assert!(
            text.contains(&joined(&b.description)),
            "{}: {text}",
            b.description
        );
    }
    assert!(text.contains("The frontier chart"), "{text}");
    assert!(
        text.contains("the share of all items' priority the plan would keep at each budget"),
        "{text}"
    );
    assert!(text.contains("# shows them in full (1,234)"), "{text}");
}

fn type_path(app: &mut tokenscope::tui::testing::App, path: &std::path::Path) {
    app.on_key(crossterm::event::KeyEvent::new(
        KeyCode::Char('u'),
        crossterm::event::KeyModifiers::CONTROL,
    ));
    for c in path.display().to_string().chars() {
        app.on_key(key(c));
    }
}

fn asking(app: &tokenscope::tui::testing::App) -> bool {
    matches!(
        app.popup(),
        Some(tokenscope::tui::testing::Popup::Export(e)) if e.overwrite
    )
}

#[test]
fn exporting_over_a_file_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("report.json");
    std::fs::write(&existing, "keep me").unwrap();
    let mut app = app();
    app.on_resize(120, 30);

    // A new file: written at once.
    app.update(Action::Export);
    let fresh = dir.path().join("fresh.json");
    type_path(&mut app, &fresh);
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup().is_none(), "{:?}", app.popup());
    answer_jobs(&mut app, &plan());
    assert!(fresh.is_file());

    // An existing file: the dialog asks; `n` goes back to the path.
    app.update(Action::Export);
    type_path(&mut app, &existing);
    app.on_key(code(KeyCode::Enter));
    assert!(asking(&app), "{:?}", app.popup());
    let s = screen(&app, 120, 30);
    assert!(
        s.contains("This file exists. Replace it? y/enter replaces, n/esc goes back"),
        "{s}"
    );
    app.on_key(key('n'));
    assert!(!asking(&app));
    assert!(app.popup().is_some());
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    assert!(!screen(&app, 120, 30).contains("Replace it?"));
    // Esc while asked also goes back (a second esc closes the dialog).
    app.on_key(code(KeyCode::Enter));
    assert!(asking(&app));
    app.on_key(code(KeyCode::Esc));
    assert!(app.popup().is_some() && !asking(&app));
    // Editing the path while asked edits it and asks again on enter.
    app.on_key(code(KeyCode::Enter));
    app.on_key(code(KeyCode::Backspace));
    assert!(!asking(&app));
    app.on_key(key('n'));
    app.on_key(code(KeyCode::Enter));
    assert!(asking(&app));
    app.on_key(code(KeyCode::Esc));
    app.on_key(code(KeyCode::Esc));
    assert!(app.popup().is_none());
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");

    // `y` replaces it.
    app.update(Action::Export);
    type_path(&mut app, &existing);
    app.on_key(code(KeyCode::Enter));
    app.on_key(key('y'));
    assert!(app.popup().is_none());
    answer_jobs(&mut app, &plan());
    let written = std::fs::read_to_string(&existing).unwrap();
    assert!(written.contains("\"schema\""), "{written}");

    // Enter twice replaces it too.
    std::fs::write(&existing, "keep me").unwrap();
    app.update(Action::Export);
    type_path(&mut app, &existing);
    app.on_key(code(KeyCode::Enter));
    assert!(asking(&app));
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup().is_none());
    answer_jobs(&mut app, &plan());
    assert_ne!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    assert!(
        app.status()
            .unwrap()
            .text
            .starts_with("wrote the json report")
    );
}

#[test]
fn the_new_popups_and_columns_draw_at_every_size() {
    let mut states = Vec::new();
    let mut a = app();
    for i in 0..30 {
        a.update(if i % 2 == 0 {
            Action::Undo
        } else {
            Action::Redo
        });
    }
    a.update(Action::ShowLog);
    states.push(a);
    let mut a = app();
    a.update(Action::ToggleCounts);
    states.push(a);
    let mut a = empty_app();
    let mut set = item_set();
    set.sections[1].strategy = Some(tokenscope::engine::Strategy::Balanced);
    set.sections[1].overflow = Some(tokenscope::engine::Overflow::PriorityCut);
    a.set_loaded(set);
    answer_jobs(&mut a, &plan());
    states.push(a);
    let mut a = empty_app();
    a.set_load_error("x\n\x1b[2Jy".into());
    states.push(a);
    for app in &mut states {
        for w in (1..=130).step_by(7).chain([1, 2, 59, 60, 61, 80]) {
            for h in (1..=45).step_by(4).chain([1, 2, 15, 16, 17, 24]) {
                app.on_resize(w, h);
                let s = screen(app, w, h);
                assert!(!s.contains('\x1b'));
            }
        }
    }
}

#[test]
fn popups_scrolled_to_their_end_scroll_back_at_once_after_a_resize() {
    let mut app = app();
    app.on_resize(80, 24);
    app.update(Action::Help);
    app.on_key(code(KeyCode::End));
    let Some(tokenscope::tui::testing::Popup::Help { scroll: end_small }) = app.popup().cloned()
    else {
        panic!()
    };
    app.on_resize(140, 60);
    let Some(tokenscope::tui::testing::Popup::Help { scroll: end_big }) = app.popup().cloned()
    else {
        panic!()
    };
    assert!(end_big < end_small, "{end_big} {end_small}");
    // One key up moves the text at once.
    let before = screen(&app, 140, 60);
    app.on_key(code(KeyCode::Up));
    assert_ne!(screen(&app, 140, 60), before);
}

#[test]
fn the_wheel_scrolls_the_log_and_the_help() {
    use crossterm::event::{KeyModifiers, MouseEvent, MouseEventKind};
    let wheel = |kind| MouseEvent {
        kind,
        column: 40,
        row: 10,
        modifiers: KeyModifiers::NONE,
    };
    let mut app = app();
    app.on_resize(80, 24);
    for i in 0..60 {
        app.update(if i % 2 == 0 {
            Action::Undo
        } else {
            Action::Redo
        });
    }
    app.update(Action::ShowLog);
    let Some(tokenscope::tui::testing::Popup::Log { scroll: end }) = app.popup().cloned() else {
        panic!()
    };
    assert!(end > 3);
    app.on_mouse(wheel(MouseEventKind::ScrollUp));
    assert_eq!(
        app.popup(),
        Some(&tokenscope::tui::testing::Popup::Log { scroll: end - 3 })
    );
    app.on_mouse(wheel(MouseEventKind::ScrollDown));
    app.on_mouse(wheel(MouseEventKind::ScrollDown));
    assert_eq!(
        app.popup(),
        Some(&tokenscope::tui::testing::Popup::Log { scroll: end })
    );
    app.on_key(key('L'));
    app.update(Action::Help);
    app.on_mouse(wheel(MouseEventKind::ScrollDown));
    assert_eq!(
        app.popup(),
        Some(&tokenscope::tui::testing::Popup::Help { scroll: 3 })
    );
}

#[test]
fn a_user_bound_log_key_opens_and_closes_the_log() {
    let keymap = tokenscope::tui::testing::Keymap::defaults()
        .with_overrides(
            "[[binding]]\naction = \"show_log\"\nkeys = [\"f2\"]\n",
            "keys.toml",
        )
        .unwrap();
    let mut app = tokenscope::tui::testing::App::new(tokenscope::tui::testing::AppOptions {
        inputs: vec![],
        models: models(),
        theme: tokenscope::tui::testing::Theme::bundled("dark").unwrap(),
        keymap,
        profile_file: std::env::temp_dir().join("tokenscope-usability.toml"),
        loader: None,
    });
    app.on_resize(80, 24);
    app.on_key(code(KeyCode::F(2)));
    assert!(matches!(
        app.popup(),
        Some(tokenscope::tui::testing::Popup::Log { .. })
    ));
    // The footer names the user's key.
    assert!(
        screen(&app, 80, 24)
            .lines()
            .last()
            .unwrap()
            .contains("f2 log")
    );
    app.on_key(code(KeyCode::F(2)));
    assert!(app.popup().is_none());
}

#[test]
fn the_log_and_the_counts_keys_work_in_the_history_view() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut app = history_app(file.path());
    app.on_key(key('#'));
    assert!(app.exact_counts());
    assert!(!app.status().unwrap().text.contains("works on the plan"));
    app.on_key(key('L'));
    assert!(matches!(
        app.popup(),
        Some(tokenscope::tui::testing::Popup::Log { .. })
    ));
    let s = screen(&app, 100, 30);
    assert!(s.contains("counts in full (1,234)"), "{s}");
    app.on_key(key('L'));
    assert!(app.popup().is_none());
    assert_eq!(app.view(), tokenscope::tui::testing::View::History);
}
