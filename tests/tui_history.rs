//! The inspector's History view: the toggle key, reading in the background
//! with generation numbers, reading again (`r`, file changes), the trend by
//! day or week, scrolling, and snapshots of the view, its empty and error
//! states.

mod tui_support;

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, MouseEvent, MouseEventKind};
use tokenscope::history::Period;
use tokenscope::tui::testing::{Action, App, HistoryOptions, View};
use tokenscope::tui::testing::{Job, JobOutput};
use tui_support::*;

const SAMPLE: &str = "samples/history.jsonl";
const EMPTY: &str = "tests/fixtures/history/empty.jsonl";
const BAD: &str = "tests/fixtures/history/bad.jsonl";

/// Snapshots at 100x30 and, resized as a terminal would be, at 40x12 (then
/// back to 100x30).
fn both(name: &str, app: &mut App) {
    insta::assert_snapshot!(format!("{name}_100x30"), screen(app, 100, 30));
    app.on_resize(40, 12);
    insta::assert_snapshot!(format!("{name}_40x12"), screen(app, 40, 12));
    app.on_resize(100, 30);
}

/// Runs the queued jobs (history reads inline).
fn settle(app: &mut App) {
    answer_jobs(app, &plan());
}

fn history_jobs(app: &mut App) -> Vec<Job> {
    app.take_jobs()
        .into_iter()
        .filter(|j| matches!(j, Job::History(_)))
        .collect()
}

#[test]
fn sample_history() {
    let mut app = history_app(Path::new(SAMPLE));
    assert_eq!(app.view(), View::History);
    let report = app.history_report().expect("read");
    assert_eq!(report.records, 360);
    both("history_sample", &mut app);
    let s = screen(&app, 100, 30);
    // The same figures as `tokenscope history report`.
    for text in [
        "360 records",
        "utilisation 62.5%",
        "prediction accuracy 74.4%",
        "utilisation by week",
        "2025-W18",
        "2025-W26",
        "code-generation",
        "11,100",
        "5,179",
        "would have saved 917,900 tokens ($1.46)",
        "T-0348 (research) used 52,374 tokens",
    ] {
        assert!(s.contains(text), "{text}\n{s}");
    }
}

#[test]
fn trend_by_day() {
    let mut app = history_app(Path::new(SAMPLE));
    app.update(Action::ToggleTrendPeriod);
    assert!(app.history_loading());
    settle(&mut app);
    assert_eq!(app.history_period(), Period::Day);
    let report = app.history_report().unwrap();
    assert_eq!(report.period, Period::Day);
    assert!(report.trend.len() > 50);
    let s = screen(&app, 100, 30);
    assert!(s.contains("utilisation by day"), "{s}");
    assert!(s.contains("2025-05-01"), "{s}");
    insta::assert_snapshot!("history_by_day_100x30", s);
}

#[test]
fn empty_history_says_how_to_record() {
    let mut app = history_app(Path::new(EMPTY));
    assert_eq!(app.history_report().unwrap().records, 0);
    both("history_empty", &mut app);
    let s = screen(&app, 100, 30);
    assert!(s.contains("No usage history yet"), "{s}");
    assert!(s.contains("tokenscope history record"), "{s}");
    assert!(s.contains("--record TYPE --record-history tests/fixtures/history/empty.jsonl"));
}

#[test]
fn a_missing_file_is_an_empty_history() {
    let dir = tempfile::tempdir().unwrap();
    let app = history_app(&dir.path().join("none-yet.jsonl"));
    assert_eq!(app.history_report().unwrap().records, 0);
    assert!(app.history_error().is_none());
    assert!(screen(&app, 100, 30).contains("No usage history yet"));
}

#[test]
fn a_malformed_line_shows_file_line_and_column() {
    let mut app = history_app(Path::new(BAD));
    let e = app.history_error().expect("an error");
    assert!(e.starts_with("tests/fixtures/history/bad.jsonl:3:"), "{e}");
    assert!(app.history_report().is_none());
    both("history_error", &mut app);
    let s = screen(&app, 100, 30);
    assert!(s.contains("bad.jsonl:3:"), "{s}");
    assert!(s.contains("expected a non-negative"), "{s}");
}

#[test]
fn a_bad_read_keeps_the_last_good_report_under_a_banner() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.jsonl");
    std::fs::copy(SAMPLE, &file).unwrap();
    let mut app = history_app(&file);
    assert_eq!(app.history_report().unwrap().records, 360);
    // Mid-edit: a half-written line.
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("{\"time\":\"2025-07-01T00:00:00Z\",\"task\":\n");
    std::fs::write(&file, &text).unwrap();
    app.update(Action::ReloadHistory);
    settle(&mut app);
    let e = app.history_error().unwrap().to_string();
    assert!(e.contains("history.jsonl:361:"), "{e}");
    assert_eq!(app.history_report().unwrap().records, 360);
    let s = screen(&app, 100, 30);
    assert!(s.contains("(showing the last good read)"), "{s}");
    assert!(s.contains("code-generation"), "{s}");
    // Fixed: the error goes.
    text.truncate(text.len() - "{\"time\":\"2025-07-01T00:00:00Z\",\"task\":\n".len());
    std::fs::write(&file, &text).unwrap();
    app.update(Action::ReloadHistory);
    settle(&mut app);
    assert!(app.history_error().is_none());
    assert!(app.status().unwrap().text.contains("360 records"));
}

#[test]
fn the_toggle_key_opens_and_esc_or_the_same_key_returns() {
    let mut app = app();
    app.set_history(history_options(Path::new(SAMPLE)));
    assert_eq!(app.view(), View::Plan);
    app.on_key(key('H'));
    assert_eq!(app.view(), View::History);
    // Opening reads the file in the background.
    assert_eq!(history_jobs(&mut app).len(), 1);
    assert!(app.history_loading());
    app.on_key(code(KeyCode::Esc));
    assert_eq!(app.view(), View::Plan);
    app.on_key(key('H'));
    assert_eq!(app.view(), View::History);
    app.on_key(key('H'));
    assert_eq!(app.view(), View::Plan);
    // On the plan, esc still clears the filter and leaves the view alone.
    app.on_key(code(KeyCode::Esc));
    assert_eq!(app.view(), View::Plan);
}

#[test]
fn keys_mean_the_view_s_actions_in_the_view() {
    let mut app = history_app(Path::new(SAMPLE));
    let reallocate = app.item_set().unwrap().budget.reallocate;
    // `r` reads the file again in the view...
    app.on_key(key('r'));
    assert_eq!(history_jobs(&mut app).len(), 1);
    assert_eq!(app.tuning().reallocate, None);
    // ...and plan keys do nothing to the plan there, with a hint.
    app.on_key(key('s'));
    assert_eq!(app.tuning().strategy, None);
    assert!(app.take_jobs().is_empty());
    let hint = &app.status().unwrap().text;
    assert!(
        hint.contains("Next strategy") && hint.contains("H/esc") && !hint.contains("strategy_next"),
        "{hint}"
    );
    // Back on the plan, `r` toggles reallocation again.
    app.on_key(code(KeyCode::Esc));
    app.on_key(key('r'));
    assert_eq!(app.tuning().reallocate, Some(!reallocate));
    // Quit works everywhere.
    app.on_key(key('H'));
    app.on_key(key('q'));
    assert!(app.should_quit());
}

#[test]
fn stale_reads_are_dropped() {
    let mut app = app();
    app.set_history(history_options(Path::new(SAMPLE)));
    app.update(Action::ToggleHistory);
    let first = history_jobs(&mut app);
    app.update(Action::ToggleTrendPeriod);
    let second = history_jobs(&mut app);
    let runner = tokenscope::tui::testing::InlineRunner::new();
    let cache = tokenscope::tokens::CountCache::global();
    // The newer read (by day) finishes first; the older one is dropped.
    for out in runner.run(second.into_iter().next().unwrap(), cache) {
        app.on_job(out);
    }
    for out in runner.run(first.into_iter().next().unwrap(), cache) {
        app.on_job(out);
    }
    assert_eq!(app.history_report().unwrap().period, Period::Day);
    assert!(!app.history_loading());
    // A stale error is dropped too.
    app.on_job(JobOutput::History {
        generation: 1,
        result: Err("old".into()),
    });
    assert!(app.history_error().is_none());
}

#[test]
fn the_history_file_changing_is_read_again_while_the_view_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.jsonl");
    std::fs::copy(SAMPLE, &file).unwrap();
    let watched = std::fs::canonicalize(dir.path())
        .unwrap()
        .join("history.jsonl");
    let mut app = app();
    app.set_history(history_options(&file));
    // Closed: nothing to do (opening reads it).
    app.on_files_changed(std::slice::from_ref(&watched));
    assert!(history_jobs(&mut app).is_empty());
    app.update(Action::ToggleHistory);
    settle(&mut app);
    assert_eq!(app.history_report().unwrap().records, 360);
    let extra = r#"{"time":"2025-06-30T10:00:00Z","task":"T-0361","type":"research","complexity":40,"allocated":20000,"used":15000}"#;
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(extra);
    text.push('\n');
    std::fs::write(&file, text).unwrap();
    app.on_files_changed(&[watched, PathBuf::from("/elsewhere/other.md")]);
    let jobs = app.take_jobs();
    assert!(jobs.iter().any(|j| matches!(j, Job::History(_))));
    let runner = tokenscope::tui::testing::InlineRunner::new();
    for job in jobs {
        if matches!(job, Job::History(_)) {
            for out in runner.run(job, tokenscope::tokens::CountCache::global()) {
                app.on_job(out);
            }
        }
    }
    assert_eq!(app.history_report().unwrap().records, 361);
}

fn many_types_file(dir: &Path, types: usize) -> PathBuf {
    let file = dir.join("history.jsonl");
    let mut text = String::new();
    for t in 0..types {
        for i in 0..3 {
            text.push_str(&format!(
                "{{\"time\":\"2025-06-{:02}T10:00:00Z\",\"task\":\"T-{t}-{i}\",\"type\":\"type-{t:02}\",\"complexity\":40,\"allocated\":10000,\"used\":{}}}\n",
                i + 1,
                3000 + t * 300
            ));
        }
    }
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn task_types_scroll_and_stop_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = history_app(&many_types_file(dir.path(), 30));
    assert_eq!(app.history_report().unwrap().types.len(), 30);
    assert_eq!(app.history_scroll(), 0);
    app.update(Action::Down);
    assert_eq!(app.history_scroll(), 1);
    app.update(Action::Last);
    let last = app.history_scroll();
    assert!(last > 0 && last < 30, "{last}");
    let s = screen(&app, 100, 30);
    assert!(s.contains("type-29"), "{s}");
    assert!(!s.contains("type-00"), "{s}");
    app.update(Action::Down);
    assert_eq!(app.history_scroll(), last);
    app.update(Action::First);
    assert_eq!(app.history_scroll(), 0);
    // The wheel scrolls too.
    app.on_mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 10,
        row: 20,
        modifiers: crossterm::event::KeyModifiers::NONE,
    });
    assert_eq!(app.history_scroll(), 3);
    // A taller screen shows more rows: the scroll shrinks to fit.
    app.on_resize(100, 80);
    assert_eq!(app.history_scroll(), 0);
}

#[test]
fn without_a_data_directory_the_view_says_to_give_a_file() {
    let mut app = app();
    app.set_history(HistoryOptions {
        file: None,
        given: false,
        registry: None,
        now: None,
    });
    app.update(Action::ToggleHistory);
    assert!(history_jobs(&mut app).is_empty());
    assert!(app.history_error().unwrap().contains("--history FILE"));
    assert!(screen(&app, 100, 30).contains("--history FILE"));
}

#[test]
fn help_lists_the_history_keys() {
    let mut app = history_app(Path::new(SAMPLE));
    app.on_resize(120, 60);
    app.update(Action::Help);
    // The whole list: the first page and the last.
    let mut s = screen(&app, 120, 60);
    app.on_key(code(KeyCode::PageDown));
    app.on_key(code(KeyCode::PageDown));
    s.push_str(&screen(&app, 120, 60));
    assert!(
        s.contains("History view: utilisation trend, task types, suggested budgets"),
        "{s}"
    );
    assert!(s.contains("In the History view"), "{s}");
    assert!(s.contains("Read the history file again"), "{s}");
    assert!(s.contains("H, esc"), "{s}");
    // Scrolled to its end at 100x30: the History view's keys.
    app.on_resize(100, 30);
    for _ in 0..6 {
        app.on_key(code(KeyCode::PageDown));
    }
    insta::assert_snapshot!("history_help_end_100x30", screen(&app, 100, 30));
    // The help closes back to the view.
    app.on_key(code(KeyCode::Esc));
    assert!(app.popup().is_none());
    assert_eq!(app.view(), View::History);
}

/// What must be on screen for the History view of `app` at `w` x `h`;
/// `Err` says what is not. `records` is what the title says of the file
/// (`None`: no report yet).
fn check_history(app: &App, w: u16, h: u16, records: Option<&str>) -> Result<(), String> {
    let s = screen(app, w, h);
    let rows: Vec<&str> = s.lines().map(|l| l.trim_matches('"')).collect();
    if rows.len() != h as usize {
        return Err(format!("{} rows", rows.len()));
    }
    if w < 40 || h < 12 {
        // The one-paragraph summary, wrapped and cut to fit.
        let first = rows[0].trim_end();
        if first.is_empty() || !"History: ".starts_with(first) && !first.starts_with("History:") {
            return Err(format!("not the compact summary: {s}"));
        }
        return Ok(());
    }
    if s.contains("Enlarge") {
        return Err(format!("the too-small summary at {w}x{h}: {s}"));
    }
    if app.popup().is_some() {
        return if s.contains("keys") {
            Ok(())
        } else {
            Err(format!("no help: {s}"))
        };
    }
    if !rows[0].starts_with(" History ") {
        return Err(format!("no title: {s}"));
    }
    if let Some(records) = records
        && !rows[0].contains(records)
    {
        return Err(format!("no {records:?} in the title: {s}"));
    }
    Ok(())
}

#[test]
fn every_size_down_to_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut states = vec![
        (history_app(Path::new(SAMPLE)), Some("360 records")),
        (history_app(Path::new(EMPTY)), None),
        (history_app(Path::new(BAD)), None),
        (
            history_app(&many_types_file(dir.path(), 40)),
            Some("120 records"),
        ),
    ];
    let mut loading = app();
    loading.set_history(history_options(Path::new(SAMPLE)));
    loading.update(Action::ToggleHistory);
    states.push((loading, None));
    let mut help = history_app(Path::new(SAMPLE));
    help.update(Action::Help);
    states.push((help, None));
    let mut failures = Vec::new();
    for (app, records) in &mut states {
        for w in (1..=130).step_by(7).chain([1, 2, 39, 40, 41, 59, 60, 61]) {
            for h in (1..=45).step_by(4).chain([1, 2, 11, 12, 13, 15, 16, 17]) {
                app.on_resize(w, h);
                if let Err(e) = check_history(app, w, h, *records) {
                    failures.push(format!("{w}x{h}: {e}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_compact_history_shows_the_task_types() {
    let mut app = history_app(Path::new(SAMPLE));
    app.on_resize(40, 12);
    let s = screen(&app, 40, 12);
    assert!(s.contains("360 records"), "{s}");
    assert!(s.contains("utilisation 62.5%"), "{s}");
    // The first task types, their names cut to the column.
    for t in &app.history_report().unwrap().types[..3] {
        let shown: String = t.task_type.chars().take(10).collect();
        assert!(s.contains(&shown), "{shown}: {s}");
    }
}
