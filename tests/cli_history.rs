//! `tokenscope history record|import|report` and `tokenscope predict`.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use clap::CommandFactory;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/history.jsonl")
}

/// Runs `tokenscope` with `home` as the user's home, config and data dirs.
fn run_in(home: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = cargo_bin_cmd!("tokenscope")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    run_in(home.path(), args, "")
}

#[test]
fn cli_definitions_are_consistent() {
    tokenscope::cli::Cli::command().debug_assert();
}

#[test]
fn record_appends_one_line_per_call() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("h.jsonl");
    let f = file.to_str().unwrap();
    let (code, out, err) = run(&[
        "history",
        "record",
        "--history",
        f,
        "--task",
        "T-1",
        "--type",
        "code-review",
        "--complexity",
        "40",
        "--tags",
        "rust, api",
        "--criticality",
        "high",
        "--story-points",
        "3",
        "--allocated",
        "8000",
        "--used",
        "6000",
        "--thinking",
        "1200",
        "--outcome",
        "success",
        "--quality",
        "90",
        "--model",
        "gpt-4o",
        "--agent",
        "alice",
        "--time",
        "2025-06-01T12:00:00+02:00",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("recorded T-1 (code-review): 6000 of 8000 tokens (75 %)"),
        "{out}"
    );
    // `--history` is also accepted before the subcommand.
    let (code, _, err) = run(&[
        "history",
        "--history",
        f,
        "record",
        "--task",
        "T-2",
        "--type",
        "qa",
        "--complexity",
        "0",
        "--allocated",
        "1",
        "--used",
        "5",
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0],
        r#"{"time":"2025-06-01T12:00:00+02:00","task":"T-1","type":"code-review","complexity":40,"tags":["rust","api"],"criticality":"high","story_points":3.0,"allocated":8000,"used":6000,"thinking":1200,"outcome":"success","quality":90,"model":"gpt-4o","agent":"alice"}"#
    );
    let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(second["task"], "T-2");
    assert!(second["time"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn the_default_history_file_is_in_the_data_dir() {
    let home = tempfile::tempdir().unwrap();
    let args = [
        "history",
        "record",
        "--task",
        "a",
        "--type",
        "qa",
        "--complexity",
        "10",
        "--allocated",
        "100",
        "--used",
        "50",
    ];
    let (code, _, err) = run_in(home.path(), &args, "");
    assert_eq!(code, 0, "{err}");
    let file = home.path().join("data/tokenscope/history.jsonl");
    assert_eq!(std::fs::read_to_string(file).unwrap().lines().count(), 1);
    let (code, out, _) = run_in(
        home.path(),
        &["predict", "--type", "qa", "--complexity", "10", "--json"],
        "",
    );
    assert_eq!(code, 0);
    let p: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (p["source"].as_str(), p["similar"].as_u64()),
        (Some("history"), Some(1))
    );
}

#[test]
fn predict_with_an_empty_history_uses_defaults_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("none.jsonl");
    let f = f.to_str().unwrap();
    let (code, out, err) = run(&[
        "predict",
        "--history",
        f,
        "--type",
        "code-review",
        "--complexity",
        "40",
    ]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("predict_defaults_text", out);
    let (code, out, _) = run(&[
        "predict",
        "--history",
        f,
        "--type",
        "code-review",
        "--complexity",
        "40",
        "--json",
    ]);
    assert_eq!(code, 0);
    let p: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["schema"], "tokenscope.predict/1");
    assert_eq!(p["source"], "defaults");
    assert_eq!(p["budget"], 6300);
    assert_eq!(p["confidence_label"], "none");
    assert!(p["reasoning"].as_str().unwrap().starts_with("no history:"));
}

#[test]
fn predict_from_the_sample_history() {
    let s = sample();
    let args = [
        "predict",
        "--history",
        s.to_str().unwrap(),
        "--type",
        "debugging",
        "--complexity",
        "70",
        "--tags",
        "production",
        "--criticality",
        "high",
        "--agent",
        "bob",
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("predict_sample_text", out);
    let mut json = args.to_vec();
    json.push("--json");
    let (code, out, _) = run(&json);
    assert_eq!(code, 0);
    let p: serde_json::Value = serde_json::from_str(&out).unwrap();
    insta::assert_json_snapshot!("predict_sample_json", p);
}

fn report(format: &[&str]) -> String {
    let s = sample();
    let mut args = vec![
        "history",
        "report",
        "--history",
        s.to_str().unwrap(),
        "--now",
        "2025-06-30T00:00:00Z",
    ];
    args.extend_from_slice(format);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn report_formats() {
    insta::assert_snapshot!("report_text", report(&[]));
    insta::assert_snapshot!(
        "report_md_by_day",
        report(&["--format", "md", "--by", "day"])
    );
    let json: serde_json::Value = serde_json::from_str(&report(&["--json"])).unwrap();
    assert_eq!(json["schema"], "tokenscope.history-report/1");
    assert_eq!(json["records"], 360);
    insta::assert_json_snapshot!("report_json", json);
}

#[test]
fn bad_values_name_the_flag_and_exit_2() {
    let base = [
        "history",
        "record",
        "--task",
        "a",
        "--type",
        "qa",
        "--allocated",
        "10",
    ];
    let cases: &[(&[&str], &str)] = &[
        (
            &["--complexity", "101", "--used", "1"],
            "'--complexity <0-100>'",
        ),
        (
            &["--complexity", "1", "--used", "1", "--criticality", "huge"],
            "expected low, medium, high or critical",
        ),
        (
            &["--complexity", "1", "--used", "1", "--outcome", "won"],
            "expected success, failure or partial",
        ),
        (
            &["--complexity", "1", "--used", "1", "--time", "yesterday"],
            "expected RFC 3339",
        ),
        (
            &["--complexity", "1", "--used", "5", "--thinking", "6"],
            "--thinking 6 is more than --used 5",
        ),
        (
            &["--complexity", "1", "--used", "many"],
            "invalid value 'many' for '--used <N>'",
        ),
    ];
    for (extra, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("h.jsonl");
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--history", f.to_str().unwrap()]);
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!f.exists(), "nothing is written on error");
    }
    let (code, _, err) = run(&["predict", "--type", "qa", "--complexity", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("'--complexity <0-100>'"), "{err}");
    let (code, _, err) = run(&["history", "report", "--format", "pdf"]);
    assert_eq!(code, 2);
    assert!(err.contains("[possible values: text, json, md]"), "{err}");
}

#[test]
fn a_corrupt_history_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("h.jsonl");
    let good = std::fs::read_to_string(sample()).unwrap();
    let first = good.lines().next().unwrap();
    std::fs::write(
        &f,
        format!("{first}\n{{\"time\":\"2025-06-01T00:00:00Z\",\"task\":\n"),
    )
    .unwrap();
    for cmd in [
        vec!["predict", "--type", "qa", "--complexity", "1"],
        vec!["history", "report"],
    ] {
        let mut args = cmd.clone();
        args.extend_from_slice(&["--history", f.to_str().unwrap()]);
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains("h.jsonl:2:"), "{err}");
        assert!(err.contains("EOF"), "{err}");
    }
}

#[test]
fn import_skips_bad_lines_with_a_count_or_fails_when_strict() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("export.jsonl");
    std::fs::write(
        &input,
        r#"{"at":"2025-06-01T00:00:00Z","id":"x1","kind":"qa","complexity":5,"budget":100,"tokens":80,"extra":true}
{"at":"2025-06-01T00:00:00Z","id":"x2","kind":"qa","complexity":5,"budget":100,"tokens":
{"at":"2025-06-02T00:00:00Z","id":"x3","kind":"qa","complexity":500,"budget":100,"tokens":5}

{"at":"2025-06-03T00:00:00Z","id":"x4","kind":"qa","complexity":50,"budget":300,"tokens":200}
"#,
    )
    .unwrap();
    let hist = dir.path().join("h.jsonl");
    let map = "at=time,id=task,kind=type,budget=allocated,tokens=used";
    let base = [
        "history",
        "--history",
        hist.to_str().unwrap(),
        "import",
        input.to_str().unwrap(),
        "--map",
        map,
    ];
    let mut strict = base.to_vec();
    strict.push("--strict");
    let (code, _, err) = run(&strict);
    assert_eq!(code, 2);
    assert!(
        err.contains("export.jsonl:2:88: EOF while parsing"),
        "{err}"
    );
    assert!(err.contains("export.jsonl:3:1: field `complexity`: 500 is invalid; expected an integer from 0 to 100"), "{err}");
    assert!(err.contains("--strict: nothing imported"), "{err}");
    assert!(!hist.exists());

    let (code, out, err) = run(&base);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "imported 2 records from {} into {}; skipped 2 bad lines\n",
            input.display(),
            hist.display()
        )
    );
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.starts_with("tokenscope: skipped "), "{err}");
    assert_eq!(std::fs::read_to_string(&hist).unwrap().lines().count(), 2);

    // Without the mapping no line is valid: exit 2, nothing appended.
    let (code, _, err) = run(&[
        "history",
        "--history",
        hist.to_str().unwrap(),
        "import",
        input.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown field `at`"), "{err}");
    assert!(err.contains("no valid record"), "{err}");
    assert_eq!(std::fs::read_to_string(&hist).unwrap().lines().count(), 2);

    // From stdin, in our own field names.
    let home = tempfile::tempdir().unwrap();
    let line = std::fs::read_to_string(sample())
        .unwrap()
        .lines()
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    let (code, out, err) = run_in(
        home.path(),
        &[
            "history",
            "import",
            "-",
            "--history",
            hist.to_str().unwrap(),
        ],
        &line,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("imported 3 records from <stdin>"), "{out}");

    let (code, _, err) = run(&["history", "import", "x.jsonl", "--map", "a=b"]);
    assert_eq!(code, 2);
    assert!(err.contains("`b` is not a record field"), "{err}");
}
