//! Untrusted text through every command and format: item ids, section
//! names, file names, task types, model names and flag values that hold
//! terminal escapes (`ESC ]0;title BEL`, OSC 52, `ESC [2J`, a C1 CSI, DEL,
//! CR, a bidi override) and spreadsheet formulas.
//!
//! Human-facing output (tables, text, Markdown, CSV, check lines, watch
//! lines, error messages) must show them escaped; JSON must carry them
//! byte for byte; the packed context must stay byte-exact. A closed stdout
//! exits 0 for every command and format.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

const TITLE: &str = "\u{1b}]0;pwned\u{7}";
const CLIPBOARD: &str = "\u{1b}]52;c;cm0gLXJmIH4K\u{7}";
const CLEAR: &str = "\u{1b}[2J";
const C1_CSI: &str = "\u{9b}2J";
const BIDI: &str = "\u{202e}";
const DEL: &str = "\u{7f}";

/// `name` followed by every hostile sequence.
fn hostile(name: &str) -> String {
    format!("{name}{TITLE}{CLIPBOARD}{CLEAR}{C1_CSI}{BIDI}{DEL}\r!")
}

/// The ids that a spreadsheet would run as formulas.
const FORMULAS: [&str; 5] = [
    "=HYPERLINK(\"http://evil.example\",\"x\")",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
];

/// A character that must not reach a terminal raw (newline is layout).
fn is_raw_control(c: char) -> bool {
    let n = c as u32;
    c != '\n'
        && (n < 0x20
            || (0x7f..=0x9f).contains(&n)
            || matches!(
                c,
                '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            ))
}

/// Panics when `bytes` is not UTF-8 or holds a raw control character.
fn assert_clean(what: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    if let Some((at, c)) = text.char_indices().find(|(_, c)| is_raw_control(*c)) {
        panic!("{what}: raw {c:?} at byte {at}:\n{}", text.escape_debug());
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A folder with a hostile item set (under a hostile file name), a
/// `tokenscope.toml` with a failing profile `gate`, and a models file.
struct Fixture {
    dir: tempfile::TempDir,
    set: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let set = dir.path().join(format!("set{TITLE}{BIDI}{C1_CSI}.json"));
        std::fs::write(&set, serde_json::to_string_pretty(&item_set(&[])).unwrap()).unwrap();
        let profile = format!(
            "[profiles.gate]\nmust_include = [{}, {}]\n\n[profiles.gate.sections.{}]\nmin_included = 1\n\n[profiles.gate.sections.{}]\nmin_included = 9\n",
            toml_string(&hostile("missing")),
            toml_string(&hostile("cut")),
            toml_string(&hostile("nosuch")),
            toml_string(&hostile("sec")),
        );
        std::fs::write(dir.path().join("tokenscope.toml"), profile).unwrap();
        std::fs::write(
            dir.path().join("models.toml"),
            format!(
                "[[models]]\nname = {}\nprovider = {}\nencoding = \"o200k_base\"\ncontext_window = 1000\n",
                toml_string(&hostile("model")),
                toml_string(&hostile("provider")),
            ),
        )
        .unwrap();
        Fixture { dir, set }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The binary in the fixture's folder.
    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tokenscope"));
        c.current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env("XDG_DATA_HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path())
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// The binary with the item set's path after `args`.
    fn on_set(&self, args: &[&str]) -> Output {
        self.cmd(args).arg(&self.set).output().unwrap()
    }
}

/// A TOML basic string: everything outside printable ASCII as `\uXXXX`.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// The hostile item set, with `extra` items added.
fn item_set(extra: &[Value]) -> Value {
    let mut items = vec![
        json!({"id": hostile("id"), "section": hostile("sec"), "priority": 0.9,
               "text": format!("text with {}", hostile("text"))}),
        json!({"id": hostile("cut"), "section": "plain", "text": "word ".repeat(200)}),
        json!({"id": hostile("pin"), "section": hostile("sec"), "pinned": true,
               "text": "pinned ".repeat(100)}),
    ];
    for (i, id) in FORMULAS.iter().enumerate() {
        items.push(json!({"id": id, "section": "plain", "text": format!("f{i}")}));
    }
    items.extend(extra.iter().cloned());
    json!({
        "budget": {"total": 400, "strategy": "greedy", "overflow": "drop"},
        "sections": [{"name": hostile("sec"), "share": 50}, {"name": "plain", "share": 50}],
        "items": items,
    })
}

/// The CSV cells of `csv` (RFC 4180: quoted cells, doubled quotes).
fn csv_rows(csv: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = csv.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (_, c) => cell.push(c),
        }
    }
    rows
}

#[test]
fn human_report_formats_escape_every_control_character() {
    let f = Fixture::new();
    for format in ["text", "md", "csv"] {
        let out = f.on_set(&["pack", "--format", format]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            text(&out.stderr)
        );
        assert_clean(&format!("pack --format {format} stdout"), &out.stdout);
        assert_clean(&format!("pack --format {format} stderr"), &out.stderr);
        let shown = text(&out.stdout);
        // Visibly escaped, in the one notation.
        assert!(shown.contains("\\x1b]0;pwned\\x07"), "{format}: {shown}");
        if format != "csv" {
            assert!(shown.contains("\\u{202e}"), "{format}: {shown}");
        }
    }
    // The default command (no subcommand, not a terminal): the text report,
    // with the hostile file name in its title.
    let out = f.cmd(&[]).arg(&f.set).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_clean("default command", &out.stdout);
    assert!(text(&out.stdout).contains("set\\x1b]0;pwned\\x07\\u{202e}\\x9b2J.json"));
}

#[test]
fn csv_cells_are_neutralised_against_formulas() {
    let f = Fixture::new();
    let out = f.on_set(&["pack", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0));
    let rows = csv_rows(&text(&out.stdout));
    assert_eq!(rows[0][0], "id");
    let width = rows[0].len();
    for row in &rows {
        assert_eq!(row.len(), width, "{row:?}");
    }
    for id in FORMULAS {
        let shown = id.replace('\t', "\\t");
        assert!(
            rows.iter().any(|r| r[0] == format!("'{shown}")),
            "{id:?} not neutralised: {rows:?}"
        );
    }
    for row in &rows[1..] {
        for (i, cell) in row.iter().enumerate().take(2) {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "column {i}: {cell:?}"
            );
        }
        // Numbers stay numbers.
        assert!(row[4].parse::<u64>().is_ok(), "{row:?}");
        assert!(row[6].parse::<f64>().is_ok(), "{row:?}");
    }
}

#[test]
fn json_carries_the_values_byte_for_byte_and_context_stays_exact() {
    let f = Fixture::new();
    let out = f.on_set(&["pack", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let ids: Vec<&str> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&hostile("id").as_str()), "{ids:?}");
    for id in FORMULAS {
        assert!(ids.contains(&id), "{ids:?}");
    }
    assert!(
        report["sections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == hostile("sec"))
    );

    // The packed context is the prompt itself: byte for byte.
    let out = f.on_set(&["pack", "--format", "context"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).contains(&format!("text with {}", hostile("text"))),
        "{}",
        text(&out.stdout).escape_debug()
    );
}

#[test]
fn check_lines_are_escaped_and_stay_off_a_machine_report() {
    let f = Fixture::new();
    // No report: the verdict lines are the output.
    let out = f.on_set(&["check", "--profile", "gate"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_clean("check stdout", &out.stdout);
    assert_clean("check stderr", &out.stderr);
    let lines = text(&out.stdout);
    assert!(
        lines.lines().all(|l| l.starts_with("check failed: ")),
        "{lines}"
    );
    assert!(lines.contains("missing\\x1b]0;pwned\\x07"), "{lines}");
    assert!(lines.contains("nosuch\\x1b]0;pwned\\x07"), "{lines}");

    // JSON: stdout is one document with the verdict in it; lines on stderr.
    let out = f.on_set(&["check", "--profile", "gate", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is only JSON");
    assert_eq!(report["schema"], "tokenscope.report/1");
    assert_eq!(report["check"]["passed"], false);
    let failures = report["check"]["failures"].as_array().unwrap();
    assert!(failures.iter().any(|v| v["rule"] == "must_include_missing"
        && v["message"].as_str().unwrap().contains(&hostile("missing"))));
    assert!(failures.iter().any(|v| v["rule"] == "unknown_section"));
    assert_clean("check --json stderr", &out.stderr);
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("check failed: "))
            .count(),
        failures.len(),
        "{stderr}"
    );

    // Markdown and CSV on stdout: only the report.
    for format in ["md", "csv"] {
        let out = f.on_set(&["check", "--profile", "gate", "--format", format]);
        assert_eq!(out.status.code(), Some(1));
        assert_clean(format, &out.stdout);
        let stdout = text(&out.stdout);
        assert!(!stdout.contains("check failed"), "{format}: {stdout}");
        assert!(text(&out.stderr).contains("check failed: "), "{format}");
    }
    let md = text(
        &f.on_set(&["check", "--profile", "gate", "--format", "md"])
            .stdout,
    );
    assert!(
        md.contains("## Check") && md.contains("**must_include_missing**"),
        "{md}"
    );
    let csv = text(
        &f.on_set(&["check", "--profile", "gate", "--format", "csv"])
            .stdout,
    );
    assert!(csv_rows(&csv).iter().all(|r| r.len() == 12), "{csv}");

    // The report to a file: the verdict in it, the lines on stdout.
    let out = f.on_set(&["check", "--profile", "gate", "-o", "report.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with("check failed: "));
    let file: Value =
        serde_json::from_slice(&std::fs::read(f.path("report.json")).unwrap()).unwrap();
    assert_eq!(
        file["check"]["failures"].as_array().unwrap().len(),
        failures.len()
    );

    // A passing check with --json: `passed` true, stdout still pure.
    let out = f.on_set(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is only JSON");
    assert_eq!(report["check"], json!({"passed": true, "failures": []}));
    assert!(text(&out.stderr).starts_with("check passed: "));
    // `pack --json` has no `check`.
    let out = f.on_set(&["pack", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.get("check").is_none());
}

#[test]
fn error_messages_on_stderr_are_escaped() {
    let f = Fixture::new();
    let bad = hostile("bad");
    let set = f.set.to_str().unwrap();
    // A key the item set does not know, and a bad value in it.
    let unknown_key = f.path("keys.json");
    std::fs::write(
        &unknown_key,
        serde_json::to_string(&json!({"items": [{"id": "a", "text": "b", bad.clone(): 1}]}))
            .unwrap(),
    )
    .unwrap();
    let bad_value = f.path("value.json");
    std::fs::write(
        &bad_value,
        serde_json::to_string(
            &json!({"budget": {"strategy": bad}, "items": [{"id": "a", "text": "b"}]}),
        )
        .unwrap(),
    )
    .unwrap();
    let missing = f.path(&format!("missing{TITLE}.md"));
    let flag = format!("--no-such-flag{TITLE}{BIDI}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["pack", set, &flag],
        vec![&flag],
        vec!["pack", unknown_key.to_str().unwrap()],
        vec!["pack", bad_value.to_str().unwrap()],
        vec!["pack", missing.to_str().unwrap()],
        vec!["pack", set, "--strategy", &bad],
        vec!["pack", set, "--overflow", &bad],
        vec!["pack", set, "--format", &bad],
        vec!["pack", set, "--split", "nosuch=10"],
        vec!["pack", set, "--profile", &bad],
        vec!["pack", set, "--model", &bad],
        // clap's own errors quote the argument.
        vec!["pack", set, "--budget", &bad],
        vec!["pack", &bad],
        vec!["count", "--model", &bad],
        vec!["count", "--encoding", &bad],
        vec!["models", "--models-file", missing.to_str().unwrap()],
        vec!["predict", "--type", &bad, "--complexity", "500"],
    ];
    for args in cases {
        let out = f.run(&args);
        let what = format!(
            "{:?}",
            args.iter()
                .map(|a| a.escape_debug().to_string())
                .collect::<Vec<_>>()
        );
        assert_eq!(out.status.code(), Some(2), "{what}: {}", text(&out.stderr));
        assert!(!out.stderr.is_empty(), "{what}");
        assert_clean(&format!("{what} stderr"), &out.stderr);
        assert_clean(&format!("{what} stdout"), &out.stdout);
    }
    // Readable: the value is quoted, escaped, not dropped.
    let out = f.run(&["pack", set, "--strategy", &bad]);
    assert!(
        text(&out.stderr).contains(
            "bad\\x1b]0;pwned\\x07\\x1b]52;c;cm0gLXJmIH4K\\x07\\x1b[2J\\x9b2J\\u{202e}\\x7f\\r!"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn count_and_models_escape_file_and_model_names() {
    let f = Fixture::new();
    let set = f.set.to_str().unwrap();
    let model = hostile("model");
    let missing = f.path(&format!("gone{CLEAR}.txt"));
    let out = f.run(&[
        "count",
        set,
        missing.to_str().unwrap(),
        "--models-file",
        "models.toml",
        "--model",
        &model,
        "--encoding",
        "cl100k_base",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_clean("count stdout", &out.stdout);
    assert_clean("count stderr", &out.stderr);
    assert!(text(&out.stdout).contains("model\\x1b]0;pwned"));
    assert!(text(&out.stderr).contains("gone\\x1b[2J.txt"));
    // JSON keeps them exact.
    let out = f.run(&[
        "count",
        set,
        "--models-file",
        "models.toml",
        "--model",
        &model,
        "--json",
    ]);
    let counted: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(counted["results"][0]["model"], model.as_str());
    assert_eq!(counted["results"][0]["files"][0]["path"], set);

    let out = f.run(&["models", "--models-file", "models.toml"]);
    assert_eq!(out.status.code(), Some(0));
    assert_clean("models stdout", &out.stdout);
    assert!(text(&out.stdout).contains("provider\\x1b]0;pwned"));
    let out = f.run(&["models", "--models-file", "models.toml", "--json"]);
    let models: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        models["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == model.as_str())
    );
}

#[test]
fn history_and_predict_escape_task_types() {
    let f = Fixture::new();
    let kind = hostile("type");
    let task = hostile("task");
    let history = f.path("history.jsonl");
    let h = history.to_str().unwrap();
    let out = f.run(&[
        "history",
        "--history",
        h,
        "record",
        "--task",
        &task,
        "--type",
        &kind,
        "--complexity",
        "50",
        "--allocated",
        "1000",
        "--used",
        "900",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_clean("history record", &out.stdout);
    // A second record of the type, an outlier: an alert that quotes it.
    f.run(&[
        "history",
        "--history",
        h,
        "record",
        "--task",
        &task,
        "--type",
        &kind,
        "--complexity",
        "50",
        "--allocated",
        "100000",
        "--used",
        "50000",
    ]);
    f.run(&[
        "history",
        "--history",
        h,
        "record",
        "--task",
        "t3",
        "--type",
        &kind,
        "--complexity",
        "50",
        "--allocated",
        "1000",
        "--used",
        "800",
    ]);
    for format in ["text", "md"] {
        let out = f.run(&["history", "--history", h, "report", "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_clean(&format!("history report {format}"), &out.stdout);
        assert!(text(&out.stdout).contains("type\\x1b]0;pwned"), "{format}");
    }
    let out = f.run(&["history", "--history", h, "report", "--format", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        serde_json::to_string(&report)
            .unwrap()
            .contains("type\\u001b]0;pwned\\u0007")
    );

    let out = f.run(&[
        "predict",
        "--history",
        h,
        "--type",
        &kind,
        "--complexity",
        "50",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_clean("predict", &out.stdout);
    let out = f.run(&[
        "predict",
        "--history",
        h,
        "--type",
        &kind,
        "--complexity",
        "50",
        "--json",
    ]);
    let prediction: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(prediction["type"], kind.as_str());

    // Import: bad lines are quoted on stderr.
    let import = f.path("import.jsonl");
    std::fs::write(
        &import,
        format!(
            "{}\n{}\n",
            json!({"time": "2025-05-01T06:50:10Z", "task": "ok", "type": "x", "complexity": 5,
                   "allocated": 10, "used": 5}),
            json!({"time": hostile("when"), "task": hostile("t"), "type": kind}),
        ),
    )
    .unwrap();
    let out = f.run(&[
        "history",
        "--history",
        h,
        "import",
        import.to_str().unwrap(),
    ]);
    assert_clean("history import stdout", &out.stdout);
    assert_clean("history import stderr", &out.stderr);
    assert!(
        text(&out.stderr).contains("skipped"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn watch_lines_escape_ids_sections_and_file_names() {
    let f = Fixture::new();
    let mut child = f
        .cmd(&["watch", "--exit-after", "2"])
        .arg(&f.set)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut line = Vec::new();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let _ = tx.send(line);
                }
            }
        }
    });
    let next = || {
        rx.recv_timeout(Duration::from_secs(20))
            .expect("a watch line")
    };
    let first = next();
    assert_clean("watch first line", &first);
    assert!(
        text(&first).contains("set\\x1b]0;pwned"),
        "{}",
        text(&first)
    );
    let added = json!({"id": hostile("new"), "section": hostile("sec"), "text": "new item"});
    std::fs::write(
        &f.set,
        serde_json::to_string_pretty(&item_set(&[added])).unwrap(),
    )
    .unwrap();
    let changed = next();
    assert_clean("watch change line", &changed);
    assert!(
        text(&changed).contains("+new\\x1b]0;pwned"),
        "{}",
        text(&changed)
    );
    // Invalid mid-edit: the error line quotes the bad key, escaped.
    let mut broken = item_set(&[]);
    broken["items"][0][hostile("key")] = json!(1);
    std::fs::write(&f.set, serde_json::to_string_pretty(&broken).unwrap()).unwrap();
    let error = next();
    assert_clean("watch error line", &error);
    assert!(text(&error).contains("error:"), "{}", text(&error));
    let status = child.wait().unwrap();
    assert!(status.success());
}

/// Runs `args` with stdout a pipe whose reading end is already closed: every
/// write fails with EPIPE.
fn with_closed_stdout(f: &Fixture, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    f.cmd(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_exits_zero_for_every_command_and_format() {
    let f = Fixture::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = root.join("samples/docs/docs.toml");
    let chat = root.join("samples/chat/agent.json");
    let history = root.join("samples/history.jsonl");
    let (docs, chat, history) = (
        docs.to_str().unwrap(),
        chat.to_str().unwrap(),
        history.to_str().unwrap(),
    );
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for format in ["json", "md", "csv", "text", "context"] {
        cases.push(vec!["pack", docs, "--format", format]);
        cases.push(vec!["check", docs, "--format", format]);
    }
    cases.extend([
        vec!["pack", docs],
        vec!["pack", chat, "--format", "request"],
        vec!["check", docs],
        vec![docs],
        vec![docs, "--json"],
        vec!["count", docs, "--model", "gpt-4o"],
        vec!["count", docs, "--json"],
        vec!["count", "--chat", chat],
        vec!["models"],
        vec!["models", "--json"],
        vec!["history", "--history", history, "report"],
        vec!["history", "--history", history, "report", "--format", "md"],
        vec!["history", "--history", history, "report", "--json"],
        vec![
            "predict",
            "--history",
            history,
            "--type",
            "research",
            "--complexity",
            "50",
        ],
        vec![
            "predict",
            "--history",
            history,
            "--type",
            "research",
            "--complexity",
            "50",
            "--json",
        ],
        vec!["watch", docs, "--exit-after", "1"],
        vec!["--help"],
    ]);
    for args in &cases {
        for run in 0..3 {
            let out = with_closed_stdout(&f, args);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{args:?} (run {run}): {}",
                text(&out.stderr)
            );
            assert!(
                !text(&out.stderr).contains("pipe"),
                "{args:?}: {}",
                text(&out.stderr)
            );
        }
    }
}

#[test]
fn a_closed_pipe_does_not_turn_a_failed_check_into_a_pass() {
    let f = Fixture::new();
    let set = f.set.to_str().unwrap();
    for format in ["json", "md", "csv", "text"] {
        let out = with_closed_stdout(&f, &["check", set, "--profile", "gate", "--format", format]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("check failed: "), "{format}");
    }
    let out = with_closed_stdout(&f, &["check", set, "--profile", "gate"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_reader_that_stops_early_still_gets_exit_zero() {
    // `| head -1`: the reader takes one line and closes the pipe while the
    // report is still being written.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = root.join("samples/docs/docs.toml");
    for format in ["json", "md", "csv", "context"] {
        for run in 0..5 {
            let mut child = Command::new(env!("CARGO_BIN_EXE_tokenscope"))
                .args(["pack", "--format", format])
                .arg(&docs)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut first = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut first)
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{format} run {run}: {}",
                text(&out.stderr)
            );
        }
    }
}
