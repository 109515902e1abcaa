//! Writing files off the update path: the export and the profile save are
//! background jobs. The key that confirms them only queues the write; the
//! keys keep working meanwhile; the answer shows in the status line and the
//! log; a second write to the same file supersedes the first; the workers
//! run every write asked for, in order.

mod tui_support;

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokenscope::tui::testing::{
    Action, App, Job, JobOutput, LogSource, Workers, WriteRequest, WriteWhat,
};
use tui_support::*;

const DOCS: &str = "samples/docs/docs.toml";

/// Opens the export dialog, picks the format `tabs` tabs away and types
/// `path`; the dialog is still open.
fn fill_export(app: &mut App, tabs: usize, path: &Path) {
    app.update(Action::Export);
    for _ in 0..tabs {
        app.on_key(code(KeyCode::Tab));
    }
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in path.display().to_string().chars() {
        app.on_key(key(c));
    }
}

fn status(app: &App) -> (String, bool) {
    let s = app.status().expect("a status message");
    (s.text.clone(), s.error)
}

#[test]
fn an_export_is_written_in_the_background_and_the_keys_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = real_app(DOCS, dir.path().join("tokenscope.toml"));
    let out = dir.path().join("report.json");
    fill_export(&mut app, 0, &out);
    app.on_key(code(KeyCode::Enter));

    // Queued, not written: the dialog is closed, the status says so.
    assert!(app.popup().is_none(), "{:?}", app.popup());
    assert!(!out.exists(), "written on the update path");
    assert_eq!(app.pending_writes().collect::<Vec<_>>(), [out.as_path()]);
    let (text, error) = status(&app);
    assert!(
        text.starts_with("writing ") && text.contains("report.json"),
        "{text}"
    );
    assert!(!error);
    assert!(app.busy(), "a pending write shows the spinner");

    // Meanwhile the inspector answers keys.
    let before = app.selected_section().unwrap().name.clone();
    app.update(Action::Down);
    assert_ne!(app.selected_section().unwrap().name, before);
    app.update(Action::Help);
    assert!(app.popup().is_some());
    app.update(Action::Help);

    settle(&mut app);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("\"schema\": \"tokenscope.report/1\""),
        "{text}"
    );
    assert_eq!(app.pending_writes().count(), 0);
    let (text, error) = status(&app);
    assert!(text.starts_with("wrote the json report to "), "{text}");
    assert!(!error);
    let last = app.log().entries().last().unwrap();
    assert_eq!(last.source, LogSource::Export);
    assert!(
        last.text.starts_with("wrote the json report"),
        "{}",
        last.text
    );
}

#[test]
fn a_failing_write_reports_the_error_in_the_status_line_and_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = real_app(DOCS, dir.path().join("tokenscope.toml"));
    let out = dir.path().join("no/such/folder/report.md");
    fill_export(&mut app, 1, &out);
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup().is_none());
    settle(&mut app);
    assert!(!out.exists());
    let (text, error) = status(&app);
    assert!(error, "{text}");
    assert!(
        text.contains("report.md: cannot write the report"),
        "{text}"
    );
    let last = app.log().entries().last().unwrap();
    assert!(last.error);
    assert_eq!(last.source, LogSource::Export);
    assert_eq!(last.text, text);
    // The error stays on screen (an error is kept until replaced).
    assert!(screen(&app, 100, 30).contains("cannot write the report"));
    assert_eq!(app.pending_writes().count(), 0);
    assert!(!app.busy());
}

#[test]
fn a_second_write_to_the_same_file_supersedes_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = real_app(DOCS, dir.path().join("tokenscope.toml"));
    let out = dir.path().join("report.txt");
    // `text`, then `context`, to the same file before either is written.
    fill_export(&mut app, 4, &out);
    app.on_key(code(KeyCode::Enter));
    fill_export(&mut app, 3, &out);
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup().is_none(), "{:?}", app.popup());
    assert_eq!(app.pending_writes().count(), 1);
    let writes: Vec<Job> = app.take_jobs();
    assert_eq!(writes.len(), 2, "{writes:?}");
    // Both are written, in order; only the newer one answers.
    let runner = tokenscope::tui::testing::InlineRunner::new();
    let cache = tokenscope::tokens::CountCache::global();
    let mut outputs = Vec::new();
    for job in writes {
        outputs.extend(runner.run(job, cache));
    }
    let before = app.log().len();
    for out in outputs {
        app.on_job(out);
    }
    assert_eq!(
        app.log().len(),
        before + 1,
        "the superseded answer is dropped"
    );
    let (text, _) = status(&app);
    assert!(text.starts_with("wrote the context report"), "{text}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("## Instructions"), "{written}");
}

#[test]
fn a_stale_or_unknown_answer_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = real_app(DOCS, dir.path().join("tokenscope.toml"));
    let before = (app.log().len(), app.status().cloned());
    app.on_job(JobOutput::Written {
        generation: 42,
        path: dir.path().join("never-asked.json"),
        result: Err("never-asked.json: cannot write the report".into()),
    });
    assert_eq!((app.log().len(), app.status().cloned()), before);
}

#[test]
fn a_profile_is_saved_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokenscope.toml");
    std::fs::copy("samples/tokenscope.toml", &file).unwrap();
    let mut app = real_app(DOCS, file.clone());
    let original = std::fs::read_to_string(&file).unwrap();
    app.on_key(key('s')); // strict
    settle(&mut app);
    app.update(Action::SaveProfile);
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in "small".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup().is_none(), "{:?}", app.popup());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    assert_eq!(app.pending_writes().collect::<Vec<_>>(), [file.as_path()]);
    settle(&mut app);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("[profiles.small]"), "{text}");
    assert!(text.contains("strategy = \"strict\""), "{text}");
    let (msg, error) = status(&app);
    assert!(!error);
    assert!(msg.starts_with("saved profile `small` to "), "{msg}");
    assert_eq!(
        app.log().entries().last().unwrap().source,
        LogSource::Profile
    );
}

#[test]
fn a_profile_that_cannot_be_saved_reports_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("missing/folder/tokenscope.toml");
    let mut app = real_app(DOCS, file.clone());
    app.update(Action::SaveProfile);
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup().is_none(), "{:?}", app.popup());
    settle(&mut app);
    assert!(!file.exists());
    let (msg, error) = status(&app);
    assert!(error, "{msg}");
    assert!(msg.contains("tokenscope.toml"), "{msg}");
    let last = app.log().entries().last().unwrap();
    assert!(last.error && last.source == LogSource::Profile);
}

/// The workers do not coalesce writes as they do engine runs: every write
/// asked for lands, even when asked for in a burst.
#[test]
fn the_workers_write_every_file_of_a_burst() {
    let dir = tempfile::tempdir().unwrap();
    let app = real_app(DOCS, dir.path().join("tokenscope.toml"));
    let plan = std::sync::Arc::new(app.plan().unwrap().clone());
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let workers = Workers::start(move |out| {
        let _ = tx.lock().unwrap().send(out);
    });
    let paths: Vec<_> = (1..=5)
        .map(|i| dir.path().join(format!("burst-{i}.csv")))
        .collect();
    for (i, path) in paths.iter().enumerate() {
        workers.submit(Job::Write(WriteRequest {
            generation: i as u64 + 1,
            path: path.clone(),
            what: WriteWhat::Report {
                plan: plan.clone(),
                format: tokenscope::report::Format::Csv,
                options: tokenscope::report::ReportOptions {
                    color: false,
                    width: 100,
                    title: None,
                    check: None,
                },
            },
            done: format!("wrote {}", i + 1),
        }));
    }
    let mut answered = Vec::new();
    while answered.len() < paths.len() {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(JobOutput::Written {
                generation, result, ..
            }) => {
                assert_eq!(result, Ok(format!("wrote {generation}")));
                answered.push(generation);
            }
            Ok(other) => panic!("{other:?}"),
            Err(e) => panic!("after {answered:?}: {e}"),
        }
    }
    assert_eq!(answered, [1, 2, 3, 4, 5]);
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.starts_with("id,section,status"), "{text}");
    }
}
