//! What a new user reaches for in the first hour: folders and prompt files
//! without a budget, `count` on folders, `init`, completions and the man
//! page, suggestions for typos, `watch --json`, empty inputs.

use std::fs;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn tokenscope() -> Command {
    let mut c = Command::cargo_bin("tokenscope").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

// ----- part 4: inputs without a budget --------------------------------------

#[test]
fn a_folder_without_a_budget_uses_the_default_models_window_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.md"), "# A\n\nSome words about a.\n").unwrap();
    fs::write(dir.path().join("b.txt"), "Some words about b.\n").unwrap();
    let out = tokenscope()
        .args(["pack", "--json", "--reserve-output", "1000"])
        .arg(dir.path())
        .assert()
        .success();
    let r = json(&out.get_output().stdout);
    assert_eq!(r["budget"]["total"], 127_000);
    assert_eq!(r["model"], "gpt-4o");
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("no budget or model given: the budget is 127000 tokens, the context window of gpt-4o (128000) minus reserve_output 1000"),
        "{warnings}"
    );
}

#[test]
fn markdown_and_jsonl_without_a_budget_pack() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("prompt.md");
    fs::write(&md, "## One\n\nFirst.\n\n## Two\n\nSecond.\n").unwrap();
    let jsonl = dir.path().join("hits.jsonl");
    fs::write(
        &jsonl,
        "{\"id\": \"d1\", \"text\": \"alpha\", \"score\": 0.9}\n{\"id\": \"d2\", \"text\": \"beta\", \"score\": 0.5}\n",
    )
    .unwrap();
    for input in [&md, &jsonl] {
        tokenscope()
            .args(["pack", "--format", "text"])
            .arg(input)
            .assert()
            .success()
            .stdout(predicate::str::contains("budget 128,000"))
            .stdout(predicate::str::contains("no budget or model given"));
    }
}

#[test]
fn an_encoding_alone_gets_the_default_window_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("prompt.md");
    fs::write(&md, "## One\n\nFirst.\n").unwrap();
    let out = tokenscope()
        .args(["pack", "--json", "-e", "cl100k_base"])
        .arg(&md)
        .assert()
        .success();
    let r = json(&out.get_output().stdout);
    assert_eq!(r["budget"]["total"], 128_000);
    assert!(
        r["warnings"].to_string().contains("no model is named"),
        "{}",
        r["warnings"]
    );
}

#[test]
fn a_named_model_or_budget_gets_no_default_note() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("prompt.md");
    fs::write(&md, "## One\n\nFirst.\n").unwrap();
    for args in [&["--model", "gpt-4o"][..], &["--budget", "500"][..]] {
        let out = tokenscope()
            .args(["pack", "--json"])
            .args(args)
            .arg(&md)
            .assert()
            .success();
        let r = json(&out.get_output().stdout);
        assert!(
            !r["warnings"].to_string().contains("no budget"),
            "{args:?}: {}",
            r["warnings"]
        );
    }
}

// ----- part 3: no arguments, typos, negative numbers ------------------------

#[test]
fn no_arguments_off_a_terminal_prints_the_short_help_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.md"), "text\n").unwrap();
    tokenscope()
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("tokenscope: no input given"))
        .stderr(predicate::str::contains(
            "Usage: tokenscope [OPTIONS] [PATH]...",
        ))
        .stderr(predicate::str::contains("  count "))
        .stderr(predicate::str::contains("tokenscope --help"));
}

#[test]
fn a_mistyped_subcommand_gets_a_suggestion() {
    for (typo, command) in [
        ("cout", "count"),
        ("pakc", "pack"),
        ("chekc", "check"),
        ("model", "models"),
    ] {
        tokenscope()
            .arg(typo)
            .arg("x")
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "`{typo}` is not a command, nor a file or folder; did you mean `tokenscope {command}`?"
            )));
    }
    // A file of that name is opened, not questioned.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("cout"), "# Cout\n\ntext\n").unwrap();
    tokenscope()
        .current_dir(dir.path())
        .arg("cout")
        .assert()
        .success()
        .stdout(predicate::str::contains("used"));
    // Far from any command: the file error as before.
    tokenscope()
        .arg("zzzqqq")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean").not());
}

#[test]
fn negative_numbers_get_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["pack", "README.md", "--budget", "-5"],
            "budget must be a positive number of tokens, got -5",
        ),
        (
            &["pack", "README.md", "--budget", "0"],
            "budget must be a positive number of tokens, got 0",
        ),
        (
            &["check", "README.md", "--reserve-output", "-1"],
            "reserve-output must be a number of tokens (0 or more), got -1",
        ),
        (
            &["watch", "README.md", "--exit-after", "-2"],
            "exit-after must be a number of changes (0 or more), got -2",
        ),
        (
            &["pack", "README.md", "--optimal-deadline", "-5"],
            "optimal-deadline must be a positive duration",
        ),
        (
            &["pack", "README.md", "--heading-level", "-1"],
            "-1 is not in 1..=6",
        ),
        (
            &["count", "README.md", "--top", "-3"],
            "top must be a positive number of files, got -3",
        ),
        (
            &["predict", "--type", "x", "--complexity", "-5"],
            "complexity must be a whole number from 0 to 100, got -5",
        ),
        (
            &[
                "history",
                "record",
                "--task",
                "t",
                "--type",
                "x",
                "--complexity",
                "5",
                "--allocated",
                "-9",
                "--used",
                "1",
            ],
            "allocated must be a positive number of tokens, got -9",
        ),
    ];
    for (args, message) in cases {
        tokenscope()
            .args(*args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*message))
            .stderr(predicate::str::contains("-- -").not());
    }
    // Thousands separators are fine.
    tokenscope()
        .args([
            "pack",
            "samples/docs/docs.toml",
            "--budget",
            "8_000",
            "--json",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"total\": 8000"));
}

#[test]
fn a_mistyped_task_type_gets_the_closest_recorded_one() {
    tokenscope()
        .args(["predict", "--type", "code-reveiw", "--complexity", "50"])
        .args(["--history", "samples/history.jsonl"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "no recorded task has type `code-reveiw`; did you mean `code-review`?",
        ));
    tokenscope()
        .args(["predict", "--type", "zzz", "--complexity", "50", "--json"])
        .args(["--history", "samples/history.jsonl"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "recorded types: code-generation, code-review",
        ));
    tokenscope()
        .args(["predict", "--type", "code-review", "--complexity", "50"])
        .args(["--history", "samples/history.jsonl"])
        .assert()
        .success()
        .stderr("");
}

// ----- part 1: count on folders ---------------------------------------------

/// A folder with a `.gitignore`, a hidden file, a binary file and files of
/// known sizes at two depths.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fs::create_dir_all(p.join("src/deep")).unwrap();
    fs::create_dir_all(p.join("target")).unwrap();
    fs::write(p.join(".gitignore"), "target/\n*.log\n").unwrap();
    fs::write(p.join("small.md"), "one two\n").unwrap();
    fs::write(
        p.join("src/big.rs"),
        "fn main() { println!(\"hello world\"); }\n".repeat(20),
    )
    .unwrap();
    fs::write(p.join("src/deep/mid.rs"), "let x = 1;\n".repeat(5)).unwrap();
    fs::write(p.join("target/out.rs"), "ignored ".repeat(500)).unwrap();
    fs::write(p.join("run.log"), "ignored ".repeat(500)).unwrap();
    fs::write(p.join(".hidden"), "hidden ".repeat(300)).unwrap();
    fs::write(p.join("logo.png"), b"\x89PNG\r\n\x1a\n\0\0\0").unwrap();
    dir
}

#[test]
fn count_walks_a_folder_like_pack_largest_first() {
    let dir = project();
    let out = tokenscope()
        .current_dir(dir.path())
        .args(["count", "."])
        .assert()
        .success()
        .stderr("tokenscope: skipped 1 file in folders that could not be counted (1 binary); --json lists them\n");
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let names: Vec<&str> = text
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["src/big.rs", "src/deep/mid.rs", "small.md"],
        "{text}"
    );
    assert!(text.contains("total (3 files)"), "{text}");
    assert!(!text.contains("target") && !text.contains("run.log") && !text.contains(".hidden"));

    // --hidden counts the hidden file too; .gitignore still applies.
    tokenscope()
        .current_dir(dir.path())
        .args(["count", ".", "--hidden"])
        .assert()
        .success()
        .stdout(predicate::str::contains(".hidden"))
        .stdout(predicate::str::contains("target").not());

    // A folder named with a trailing slash: names are shown once-separated.
    let out = tokenscope()
        .current_dir(dir.path())
        .args(["count", "src/", "--json"])
        .assert()
        .success();
    let paths: Vec<String> = json(&out.get_output().stdout)["results"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["src/big.rs", "src/deep/mid.rs"]);
}

#[test]
fn count_top_lists_the_largest_and_totals_every_file() {
    let dir = project();
    let all = json(
        &tokenscope()
            .current_dir(dir.path())
            .args(["count", ".", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let top = json(
        &tokenscope()
            .current_dir(dir.path())
            .args(["count", ".", "--json", "--top", "2"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let r_all = &all["results"][0];
    let r_top = &top["results"][0];
    assert_eq!(r_all["files"].as_array().unwrap().len(), 3);
    assert_eq!(r_top["files"].as_array().unwrap().len(), 2);
    assert_eq!(r_top["total"], r_all["total"]);
    let listed: u64 = r_top["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["tokens"].as_u64().unwrap())
        .sum();
    assert_eq!(r_top["omitted"]["files"], 1);
    assert_eq!(
        listed + r_top["omitted"]["tokens"].as_u64().unwrap(),
        r_all["total"].as_u64().unwrap()
    );
    assert!(r_all.get("omitted").is_none());
    assert_eq!(all["skipped"][0]["path"], "logo.png");
    assert!(all["errors"].as_array().unwrap().is_empty());

    tokenscope()
        .current_dir(dir.path())
        .args(["count", ".", "--top", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("… 2 more files (--top 1)"))
        .stdout(predicate::str::contains("total (3 files)"));
    tokenscope()
        .args(["count", "README.md", "--top", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "top must be a positive number of files, got 0",
        ));
}

#[test]
fn count_on_an_empty_folder_warns() {
    let dir = tempfile::tempdir().unwrap();
    tokenscope()
        .arg("count")
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("no files to count"));
}

#[test]
fn count_off_a_terminal_draws_no_progress_bar() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..250 {
        fs::write(dir.path().join(format!("f{i:03}.txt")), "word ".repeat(i)).unwrap();
    }
    tokenscope()
        .arg("count")
        .arg(dir.path())
        .assert()
        .success()
        .stderr("");
}

// ----- part 2: init, completions, man ---------------------------------------

#[test]
fn init_writes_settings_that_load_without_warnings() {
    let dir = project();
    // Its binary file would be a (correct) warning of the folder loader.
    fs::remove_file(dir.path().join("logo.png")).unwrap();
    fs::create_dir_all(dir.path().join("docs")).unwrap();
    fs::write(dir.path().join("docs/guide.md"), "# Guide\n\nRead me.\n").unwrap();
    fs::write(dir.path().join("README.md"), "# Project\n\nAbout it.\n").unwrap();
    tokenscope()
        .current_dir(dir.path())
        .args(["init", "--item-set"])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote"))
        .stderr("");
    let config_file = dir.path().join("tokenscope.toml");
    let text = fs::read_to_string(&config_file).unwrap();
    assert!(text.contains("\"docs/**\" = 1.5"), "{text}");
    assert!(text.contains("\"src/**\" = 1.0"), "{text}");
    assert!(
        !text.contains("\"tests/**\""),
        "no tests folder here: {text}"
    );
    let config = tokenscope::input::profile::ProjectConfig::load(&config_file).unwrap();
    assert!(config.profile("dev").is_ok() && config.profile("ci").is_ok());

    let set = tokenscope::input::itemset::load(&dir.path().join("context.toml")).unwrap();
    assert!(set.warnings.is_empty(), "{:?}", set.warnings);
    assert!(
        set.items.iter().any(|i| i.id == "README"),
        "{:?}",
        set.items.iter().map(|i| &i.id).collect::<Vec<_>>()
    );

    // The profiles and the item set run as written, without a warning.
    for args in [
        &["check", ".", "--profile", "ci", "--json"][..],
        &["pack", ".", "--profile", "dev", "--json"][..],
        &["pack", "context.toml", "--json"][..],
    ] {
        let out = tokenscope()
            .current_dir(dir.path())
            .args(args)
            .assert()
            .success()
            .stderr(predicate::str::contains("warning").not());
        let r = json(&out.get_output().stdout);
        assert_eq!(r["warnings"], serde_json::json!([]), "{args:?}");
    }
}

#[test]
fn init_never_replaces_a_file_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokenscope.toml");
    fs::write(&file, "# mine\n").unwrap();
    tokenscope()
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "tokenscope.toml already exists; nothing was written (pass --force to replace it)",
        ));
    assert_eq!(fs::read_to_string(&file).unwrap(), "# mine\n");
    // --item-set checks both files before writing either.
    fs::remove_file(&file).unwrap();
    fs::write(dir.path().join("context.toml"), "# mine too\n").unwrap();
    tokenscope()
        .current_dir(dir.path())
        .args(["init", "--item-set"])
        .assert()
        .code(2);
    assert!(!file.exists());
    tokenscope()
        .current_dir(dir.path())
        .args(["init", "--item-set", "--force"])
        .assert()
        .success();
    assert!(fs::read_to_string(&file).unwrap().contains("[profiles.ci]"));
    assert!(
        fs::read_to_string(dir.path().join("context.toml"))
            .unwrap()
            .contains("[[items]]")
    );
}

#[test]
fn completions_for_every_shell_and_the_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = tokenscope()
            .args(["completions", shell])
            .assert()
            .success()
            .stderr("");
        let script = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        assert!(
            script.contains("tokenscope") && script.contains("count"),
            "{shell}"
        );
        assert!(script.contains("budget"), "{shell}");
    }
    tokenscope().args(["completions", "tcsh"]).assert().code(2);
    tokenscope()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH tokenscope 1"))
        .stdout(
            predicate::str::contains(".SH SUBCOMMANDS")
                .or(predicate::str::contains("tokenscope\\-count")),
        );
    tokenscope()
        .args(["man", "count"])
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH tokenscope-count 1"))
        .stdout(predicate::str::contains("\\-\\-top"));
    tokenscope()
        .args(["man", "cout"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `count`?"));
}

// ----- part 5: watch --json -------------------------------------------------

/// Waits until `file` has at least `n` lines, and returns them.
fn lines_of(file: &std::path::Path, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = fs::read_to_string(file).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{n} lines expected in {}: {text}",
            file.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn watch_json_writes_json_lines_to_the_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = dir.path().join("prompt.md");
    let log = dir.path().join("watch.jsonl");
    fs::write(
        &prompt,
        "## System\n\nYou are helpful.\n\n## Context\n\nOne paragraph.\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tokenscope"))
        .args([
            "watch",
            "--json",
            "--budget",
            "200",
            "--exit-after",
            "2",
            "-o",
        ])
        .arg(&log)
        .arg(&prompt)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = lines_of(&log, 1);
    let first: Value = serde_json::from_str(&start[0]).unwrap();
    assert_eq!(first["schema"], "tokenscope.watch/1");
    assert_eq!(first["event"], "start");
    assert_eq!(first["total"], 200);
    assert!(first["time"].as_str().unwrap().ends_with('Z'));

    // An invalid edit, then a valid one that adds an item.
    fs::write(&prompt, "---\nbudget: [\n---\n## System\n").unwrap();
    lines_of(&log, 2);
    fs::write(
        &prompt,
        "## System\n\nYou are helpful.\n\n## Context\n\nOne paragraph.\n\n## More\n\nA new part.\n",
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    let lines = lines_of(&log, 2);
    let stdout = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
    assert_eq!(stdout, "", "-o takes every line");
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Each line is one object; the second is the error or the change.
    let second = &events[1];
    match second["event"].as_str().unwrap() {
        "error" => assert!(second["message"].as_str().unwrap().contains("prompt.md")),
        "change" => {
            assert!(second["used_delta"].as_i64().unwrap() > 0);
            assert!(
                second["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|i| i["before"].is_null())
            );
        }
        other => panic!("unexpected event {other}: {second}"),
    }
}

#[test]
fn watch_refuses_report_formats_and_outputs_onto_inputs() {
    tokenscope()
        .args(["watch", "README.md", "--format", "md", "--exit-after", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "watch writes text lines or JSON Lines",
        ));
    let dir = tempfile::tempdir().unwrap();
    let prompt = dir.path().join("prompt.md");
    fs::write(&prompt, "## A\n\ntext\n").unwrap();
    tokenscope()
        .args(["watch", "--json", "--exit-after", "0", "-o"])
        .arg(&prompt)
        .arg(&prompt)
        .assert()
        .code(2);
    assert_eq!(fs::read_to_string(&prompt).unwrap(), "## A\n\ntext\n");
}

// ----- part 7: reports ------------------------------------------------------

#[test]
fn the_text_report_names_folder_files_once_and_keeps_long_names_apart() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let long = "a_very_long_folder_name_that_goes_on_and_on";
    fs::create_dir_all(p.join("src/engine")).unwrap();
    fs::create_dir_all(p.join(format!("src/{long}"))).unwrap();
    fs::write(p.join("src/engine/flow.rs"), "fn flow() {}\n".repeat(200)).unwrap();
    fs::write(
        p.join(format!("src/{long}/first.rs")),
        "fn a() {}\n".repeat(200),
    )
    .unwrap();
    fs::write(
        p.join(format!("src/{long}/second.rs")),
        "fn b() {}\n".repeat(200),
    )
    .unwrap();
    fs::write(p.join("src/small.rs"), "fn s() {}\n").unwrap();
    let out = tokenscope()
        .args(["pack", "--format", "text", "--budget", "50"])
        .arg(p)
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let excluded: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("excluded"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(excluded.contains(&"src/engine/flow.rs"), "{text}");
    assert!(!text.contains("src/src/"), "{text}");
    assert_eq!(excluded.len(), 3, "{text}");
    let mut distinct = excluded.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "two names read the same: {text}");
    assert!(excluded.iter().all(|n| n.chars().count() <= 40), "{text}");
}

#[test]
fn a_sections_separator_never_comes_before_its_first_item() {
    let out = tokenscope()
        .args(["pack", "samples/rag/rag.toml", "--format", "context"])
        .assert()
        .success();
    let context = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        context.contains("# Retrieved documentation\n\n"),
        "{context}"
    );
    assert!(
        !context.contains("# Retrieved documentation\n\n---"),
        "{context}"
    );
    // Between items it is still there.
    assert!(context.contains("\n\n---\n\n"), "{context}");
    // And the plan still counts the context honestly.
    let r = json(
        &tokenscope()
            .args(["pack", "samples/rag/rag.toml", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert!(
        r["totals"]["context"].as_u64() <= r["totals"]["used"].as_u64(),
        "{}",
        r["totals"]
    );
}

#[test]
fn format_help_lists_every_format() {
    tokenscope()
        .args(["pack", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "json, md, csv, context, text, or request",
        ));
}

// ----- part 8: profiles next to the input -----------------------------------

#[test]
fn a_samples_profile_works_from_the_repository_root() {
    tokenscope()
        .args(["check", "samples/docs/docs.toml", "--profile", "ci"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("check passed: "));
}

#[test]
fn the_inputs_tokenscope_toml_comes_before_the_working_folders() {
    let here = tempfile::tempdir().unwrap();
    fs::write(
        here.path().join("tokenscope.toml"),
        "[profiles.ci]\nmodel = \"gpt-4o\"\nbudget = 1234\n[profiles.mine]\nbudget = 777\n",
    )
    .unwrap();
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/docs/docs.toml");
    // The sample's own samples/tokenscope.toml wins: budget 16000.
    let r = json(
        &tokenscope()
            .current_dir(here.path())
            .args(["pack", "--json", "--profile", "ci"])
            .arg(&docs)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(r["budget"]["total"], 16_000);
    // An input with no tokenscope.toml above it takes the working folder's.
    let outside = tempfile::tempdir().unwrap();
    let prompt = outside.path().join("p.md");
    fs::write(&prompt, "## A\n\ntext\n").unwrap();
    let r = json(
        &tokenscope()
            .current_dir(here.path())
            .args(["pack", "--json", "--profile", "mine"])
            .arg(&prompt)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(r["budget"]["total"], 777);
    // Neither: the message names both places.
    tokenscope()
        .current_dir(outside.path())
        .args(["pack", "--profile", "ci", "p.md"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no tokenscope.toml found in"));
}

// ----- part 9: empty inputs, history import, --record -----------------------

#[test]
fn empty_inputs_warn_in_pack_and_fail_check_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let blank = dir.path().join("blank.md");
    fs::write(&blank, "").unwrap();
    for input in [&empty, &blank] {
        tokenscope()
            .args(["pack", "--format", "text"])
            .arg(input)
            .assert()
            .success()
            .stderr(predicate::str::contains("holds no items: nothing to pack"));
        tokenscope()
            .arg("check")
            .arg(input)
            .assert()
            .code(1)
            .stdout(predicate::str::contains("holds no items"))
            .stdout(predicate::str::contains(
                "pass --allow-empty when that is expected",
            ));
        tokenscope()
            .args(["check", "--allow-empty"])
            .arg(input)
            .assert()
            .success()
            .stdout(predicate::str::starts_with("check passed"))
            .stderr(predicate::str::contains("warning"));
    }
    let out = tokenscope()
        .args(["check", "--json"])
        .arg(&empty)
        .assert()
        .code(1);
    let r = json(&out.get_output().stdout);
    assert_eq!(r["check"]["failures"][0]["rule"], "empty_input");
    // A non-empty input is not affected.
    tokenscope()
        .args(["check", "samples/docs/docs.toml"])
        .assert()
        .success()
        .stderr("");
}

#[test]
fn history_import_accepts_what_record_accepts_and_each_task_once() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("h.jsonl");
    let input = dir.path().join("in.jsonl");
    fs::write(
        &input,
        concat!(
            "{\"task\":\"t1\",\"type\":\"review\",\"complexity\":5,\"allocated\":100,\"used\":50}\n",
            "{\"task\":\"t2\",\"type\":\"review\",\"complexity\":5,\"allocated\":100,\"used\":60,\"tags\":\"a, b\",\"criticality\":\"high\",\"outcome\":\"partial\",\"quality\":80}\n",
            "{\"task\":\"t1\",\"type\":\"review\",\"complexity\":5,\"allocated\":100,\"used\":70,\"time\":\"2025-01-01T00:00:00Z\"}\n",
            "{\"task\":\"t3\",\"type\":\"review\",\"complexity\":500,\"allocated\":100,\"used\":70}\n",
        ),
    )
    .unwrap();
    tokenscope()
        .args(["history", "import", "--history"])
        .arg(&history)
        .arg(&input)
        .assert()
        .success()
        .stdout(predicate::str::contains("imported 2 records from"))
        .stdout(predicate::str::contains(
            "; skipped 1 bad line and 1 task already recorded",
        ))
        .stderr(predicate::str::contains(
            ":3:1: task `t1` is also on line 1; a task is recorded once",
        ));
    let text = fs::read_to_string(&history).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("\"tags\":[\"a\",\"b\"]"), "{text}");
    // Again: every task is already there; nothing is appended, and that is
    // no error (with --strict it is).
    tokenscope()
        .args(["history", "import", "--history"])
        .arg(&history)
        .arg(&input)
        .assert()
        .success()
        .stdout(predicate::str::contains("imported 0 records"))
        .stdout(predicate::str::contains("3 tasks already recorded"));
    tokenscope()
        .args(["history", "import", "--strict", "--history"])
        .arg(&history)
        .arg(&input)
        .assert()
        .code(2);
    assert_eq!(fs::read_to_string(&history).unwrap(), text);
}

#[test]
fn history_report_says_1_record_and_more_rather_than_negative_savings() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("h.jsonl");
    fs::write(
        &history,
        concat!(
            "{\"time\":\"2025-01-01T00:00:00Z\",\"task\":\"a\",\"type\":\"x\",\"complexity\":5,\"allocated\":100,\"used\":50}\n",
            "{\"time\":\"2025-01-09T00:00:00Z\",\"task\":\"b\",\"type\":\"x\",\"complexity\":5,\"allocated\":1,\"used\":1}\n",
        ),
    )
    .unwrap();
    let out = tokenscope()
        .args([
            "history",
            "report",
            "--now",
            "2025-01-10T00:00:00Z",
            "--history",
        ])
        .arg(&history)
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("History: 2 records"), "{text}");
    assert!(
        text.contains("1 record predicted from its predecessors"),
        "{text}"
    );
    assert!(text.contains("99 tokens more than allocated"), "{text}");
    assert!(!text.contains("-99 tokens saved"), "{text}");
    assert!(text.contains(" 1 record "), "the weekly trend: {text}");
    assert!(!text.contains(" 1 records"), "{text}");
}

#[test]
fn pack_record_says_what_it_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("h.jsonl");
    tokenscope()
        .args(["pack", "samples/docs/docs.toml", "--format", "context", "--record", "docs-qa", "--record-history"])
        .arg(&history)
        .assert()
        .success()
        .stderr(predicate::str::is_match(r"^tokenscope: recorded task pack-\d+ \(docs-qa\): [\d,]+ of 16,000 tokens in .*h\.jsonl\n$").unwrap());
    assert_eq!(fs::read_to_string(&history).unwrap().lines().count(), 1);
}

#[test]
fn count_formats_agree() {
    let dir = project();
    let csv = tokenscope()
        .current_dir(dir.path())
        .args([
            "count",
            ".",
            "--format",
            "csv",
            "-m",
            "gpt-4o",
            "-e",
            "cl100k_base",
        ])
        .assert()
        .success();
    let csv = String::from_utf8(csv.get_output().stdout.clone()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("path,gpt-4o,cl100k_base"));
    assert!(lines.next().unwrap().starts_with("src/big.rs,"), "{csv}");
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let via_format = tokenscope()
        .current_dir(dir.path())
        .args(["count", ".", "--format", "json"])
        .assert()
        .success();
    let via_flag = tokenscope()
        .current_dir(dir.path())
        .args(["count", ".", "--json"])
        .assert()
        .success();
    assert_eq!(via_format.get_output().stdout, via_flag.get_output().stdout);
    tokenscope()
        .args(["count", "README.md", "--format", "md"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected text, json or csv"));
}

// ----- exit codes: one per kind of failure -----------------------------------

#[test]
fn each_kind_of_failure_has_its_own_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set.toml");
    fs::write(
        &set,
        "[budget]\ntotal = 5\n[[sections]]\nname = \"a\"\n[[items]]\nid = \"x\"\nsection = \"a\"\npinned = true\ntext = \"one two three four five six seven eight nine ten\"\n",
    )
    .unwrap();
    let set = set.to_str().unwrap();
    // 1: a broken rule (a pinned item left out).
    tokenscope().args(["check", set]).assert().code(1);
    // 2: bad input, with file:line:col.
    let broken = dir.path().join("broken.toml");
    fs::write(&broken, "[budget]\ntotal = \"many\"\n").unwrap();
    tokenscope()
        .args(["pack", broken.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("broken.toml:2:"));
    // 2: bad usage.
    tokenscope()
        .args(["pack", set, "--strategy", "fastest"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("fastest"));
    // 3: the report cannot be written (its folder does not exist).
    let out = dir.path().join("no-such-folder").join("report.json");
    tokenscope()
        .args(["pack", set, "--budget", "100", "-o", out.to_str().unwrap()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("cannot write"));
    // 0: success.
    tokenscope()
        .args(["pack", set, "--budget", "100", "--json"])
        .assert()
        .code(0);
}
