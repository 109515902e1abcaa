//! `tokenscope count`: every output format, side-by-side columns, stdin,
//! per-file errors, `--models-file`, `--allow-special` and `--chat`.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use tokenscope::tokens::{Encoding, Tokenizer};

fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(sub)
}

/// `tokenscope` run in `tests/fixtures/<dir>`, with no user config dir and no
/// colour, so output is the same on every machine.
fn tokenscope(dir: &str) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("tokenscope");
    cmd.current_dir(fixtures(dir))
        .env("XDG_CONFIG_HOME", fixtures("count/no-config-here"))
        .env("HOME", fixtures("count/no-config-here"))
        .env_remove("NO_COLOR");
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &str, args: &[&str]) -> Run {
    run_with_stdin(dir, args, None)
}

fn run_with_stdin(dir: &str, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = tokenscope(dir);
    cmd.args(args);
    if let Some(s) = stdin {
        cmd.write_stdin(s);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[test]
fn default_text_uses_o200k_base() {
    let r = run("count", &["count", "hello.txt", "crlf.md", "unicode.txt"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn default_json_matches_the_design_shape() {
    let r = run("count", &["count", "--json", "hello.txt", "crlf.md"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    assert_eq!(v["schema"], "tokenscope.count/1");
    let result = &v["results"][0];
    assert_eq!(result["model"], serde_json::Value::Null);
    assert_eq!(result["encoding"], "o200k_base");
    assert_eq!(result["exact"], true);
    assert_eq!(result["context_window"], serde_json::Value::Null);
    assert_eq!(result["files"][0]["path"], "hello.txt");
    let sum = result["files"][0]["tokens"].as_u64().unwrap()
        + result["files"][1]["tokens"].as_u64().unwrap();
    assert_eq!(result["total"].as_u64().unwrap(), sum);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn models_and_encodings_side_by_side_text() {
    let r = run(
        "count",
        &[
            "count",
            "-m",
            "gpt-4o",
            "--model",
            "Claude-Sonnet-4.5",
            "-m",
            "gpt-4",
            "-e",
            "chars/4",
            "--encoding",
            "cl100k_base",
            "hello.txt",
            "unicode.txt",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Estimates are marked wherever a count is shown.
    let claude_rows: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("hello.txt"))
        .collect();
    assert!(claude_rows[0].contains('≈'), "{}", r.stdout);
    // ... with the expected error band of each estimate, and only there.
    let cells: Vec<&str> = claude_rows[0]
        .split("  ")
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells.iter().map(|c| c.trim()).collect::<Vec<_>>(),
        ["hello.txt", "11", "≈14 ±10%", "11", "≈11 ±25%", "11"],
        "{}",
        r.stdout
    );
    let total = r.stdout.lines().find(|l| l.starts_with("total")).unwrap();
    assert_eq!(total.matches('±').count(), 2, "{total}");
    let share = r
        .stdout
        .lines()
        .find(|l| l.starts_with("share of window"))
        .unwrap();
    assert!(share.contains("≈0.01% ±10%"), "{share}");
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn models_side_by_side_json() {
    let r = run(
        "count",
        &[
            "count",
            "--json",
            "-m",
            "gpt-4o",
            "-m",
            "claude-sonnet-4-5",
            "-e",
            "words",
            "hello.txt",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["model"], "gpt-4o");
    assert_eq!(results[0]["encoding"], "o200k_base");
    assert_eq!(results[0]["exact"], true);
    assert_eq!(results[0]["context_window"], 128_000);
    assert_eq!(results[0]["error_band"], serde_json::Value::Null);
    assert_eq!(results[1]["model"], "claude-sonnet-4-5");
    assert_eq!(results[1]["exact"], false);
    assert_eq!(results[1]["error_band"], 0.1);
    assert_eq!(results[2]["model"], serde_json::Value::Null);
    assert_eq!(results[2]["encoding"], "words*1.3");
    assert_eq!(results[2]["exact"], false);
    assert_eq!(results[2]["error_band"], 0.5);
    // Cost = total * input price / 1M.
    let total = results[0]["total"].as_f64().unwrap();
    let cost = results[0]["cost_usd"].as_f64().unwrap();
    assert!((cost - total * 2.5 / 1e6).abs() < 1e-9);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn counts_equal_the_tokenizer_on_the_exact_bytes_crlf_included() {
    let raw = std::fs::read_to_string(fixtures("count/crlf.md")).unwrap();
    assert!(raw.contains("\r\n"));
    // r50k_base counts `\r\n` as two tokens, so normalising would show.
    let tok = Tokenizer::Exact(Encoding::R50kBase);
    let lf = raw.replace("\r\n", "\n");
    assert_ne!(
        tok.count(&raw),
        tok.count(&lf),
        "fixture must tell CRLF apart"
    );
    let r = run("count", &["count", "--json", "-e", "r50k_base", "crlf.md"]);
    let v = json(&r.stdout);
    assert_eq!(
        v["results"][0]["total"].as_u64().unwrap() as usize,
        tok.count(&raw)
    );
}

#[test]
fn stdin_without_path_and_with_dash() {
    let r = run_with_stdin("count", &["count"], Some("Hello, world!\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("stdin_no_path", r.stdout);

    let r = run_with_stdin(
        "count",
        &["count", "--json", "-", "hello.txt"],
        Some("Hello, world!\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    assert_eq!(v["results"][0]["files"][0]["path"], "-");
    let expected = Tokenizer::Exact(Encoding::O200kBase).count("Hello, world!\n");
    assert_eq!(v["results"][0]["files"][0]["tokens"], expected);
    assert_eq!(v["results"][0]["files"][1]["path"], "hello.txt");
}

#[test]
fn bad_files_get_one_line_each_and_the_rest_are_counted() {
    let r = run(
        "count",
        &[
            "count",
            "hello.txt",
            "missing.txt",
            "adir",
            "binary.bin",
            "latin1.txt",
            "unicode.txt",
        ],
    );
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "tokenscope: warning: adir: no files to count (hidden files are skipped; --hidden counts them)\n\
         tokenscope: missing.txt: no such file\n\
         tokenscope: binary.bin: binary file (NUL byte at byte offset 3); not counted\n\
         tokenscope: latin1.txt: invalid UTF-8 at byte offset 12 (line 2, column 5); not counted\n"
    );
    assert!(r.stdout.contains("hello.txt"));
    assert!(r.stdout.contains("unicode.txt"));
    assert!(!r.stdout.contains("missing.txt"));
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn each_error_case_alone_still_counts_the_others() {
    for (bad, what) in [
        ("missing.txt", "no such file"),
        ("binary.bin", "binary file"),
        ("latin1.txt", "invalid UTF-8 at byte offset 12"),
    ] {
        let r = run("count", &["count", "--json", bad, "hello.txt"]);
        assert_eq!(r.code, 2, "{bad}");
        assert_eq!(r.stderr.lines().count(), 1, "{bad}: {}", r.stderr);
        assert!(
            r.stderr.starts_with(&format!("tokenscope: {bad}: {what}")),
            "{}",
            r.stderr
        );
        let v = json(&r.stdout);
        assert_eq!(v["results"][0]["files"][0]["path"], "hello.txt", "{bad}");
        assert_eq!(v["errors"][0]["path"], bad);
    }
}

#[test]
fn errors_in_json_output() {
    let r = run("count", &["count", "--json", "hello.txt", "binary.bin"]);
    assert_eq!(r.code, 2);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn unknown_model_names_close_ones() {
    let r = run("count", &["count", "-m", "gpt4o", "hello.txt"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "tokenscope: unknown model `gpt4o`; the closest known models are `gpt-4o`, `gpt-4`, `gpt-4o-mini` (`tokenscope models` lists them all)\n"
    );
    let r = run("count", &["count", "-m", "claude-sonet", "hello.txt"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("`claude-sonnet-4-5`"), "{}", r.stderr);
}

#[test]
fn unknown_encoding_lists_the_valid_names() {
    let r = run("count", &["count", "-e", "o300k_base", "hello.txt"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "tokenscope: unknown encoding `o300k_base`; expected one of: o200k_base, o200k_harmony, cl100k_base, p50k_base, r50k_base, gemma3, chars/4, words*1.3\n"
    );
}

#[test]
fn models_file_overrides_and_adds_models() {
    let r = run(
        "count",
        &[
            "count",
            "--json",
            "--models-file",
            "override.toml",
            "-m",
            "gpt-4o",
            "-m",
            "house-model",
            "hello.txt",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    let gpt = &v["results"][0];
    assert_eq!(gpt["context_window"], 64_000);
    assert_eq!(gpt["input_price_per_million"], 1.0);
    let total = gpt["total"].as_f64().unwrap();
    assert!((gpt["cost_usd"].as_f64().unwrap() - total / 1e6).abs() < 1e-12);
    let house = &v["results"][1];
    assert_eq!(house["model"], "house-model");
    assert_eq!(house["encoding"], "cl100k_base");
    assert_eq!(house["context_window"], 32_000);
}

#[test]
fn models_file_from_the_config_dir_is_layered() {
    let mut cmd = tokenscope("count");
    let out = cmd
        .env("XDG_CONFIG_HOME", fixtures("count/config"))
        .args(["count", "--json", "-m", "config-model", "hello.txt"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(v["results"][0]["model"], "config-model");
    assert_eq!(v["results"][0]["context_window"], 4_096);
}

#[test]
fn bad_models_file_names_file_line_and_column() {
    let r = run(
        "count",
        &["count", "--models-file", "bad-models.toml", "hello.txt"],
    );
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    insta::assert_snapshot!(r.stderr);

    let r = run(
        "count",
        &["count", "--models-file", "no-such-models.toml", "hello.txt"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("tokenscope: no-such-models.toml: cannot read"),
        "{}",
        r.stderr
    );
}

#[test]
fn allow_special_counts_literals_as_one_token() {
    let ordinary = run("count", &["count", "--json", "special.txt"]);
    let special = run(
        "count",
        &["count", "--json", "--allow-special", "special.txt"],
    );
    assert_eq!(ordinary.code, 0);
    assert_eq!(special.code, 0);
    let a = json(&ordinary.stdout)["results"][0]["total"]
        .as_u64()
        .unwrap();
    let b = json(&special.stdout)["results"][0]["total"]
        .as_u64()
        .unwrap();
    let text = std::fs::read_to_string(fixtures("count/special.txt")).unwrap();
    let tok = Tokenizer::Exact(Encoding::O200kBase);
    assert_eq!(a as usize, tok.count(&text));
    assert_eq!(b as usize, tok.count_with_special(&text));
    assert!(a > b, "ordinary {a} should exceed special {b}");
}

#[test]
fn chat_single_file_text_with_breakdown() {
    let r = run("chat", &["count", "--chat", "cookbook_conversation.json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(" 124\n"), "{}", r.stdout);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn chat_models_side_by_side_match_the_cookbook() {
    let r = run(
        "chat",
        &[
            "count",
            "--chat",
            "--json",
            "-m",
            "gpt-4",
            "-m",
            "gpt-4o-mini",
            "-e",
            "cl100k_base",
            "cookbook_conversation.json",
            "cookbook_tools.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    let tokens = |result: usize, file: usize| {
        v["results"][result]["files"][file]["tokens"]
            .as_u64()
            .unwrap()
    };
    assert_eq!((tokens(0, 0), tokens(0, 1)), (129, 105));
    assert_eq!((tokens(1, 0), tokens(1, 1)), (124, 101));
    assert_eq!((tokens(2, 0), tokens(2, 1)), (129, 105));
    assert_eq!(v["results"][0]["total"], 234);
    assert_eq!(v["results"][0]["files"][0]["chat"]["reply_priming"], 3);
    assert_eq!(
        v["results"][0]["files"][0]["chat"]["messages"][1]["name"],
        "example_user"
    );
}

#[test]
fn chat_json_snapshot() {
    let r = run(
        "chat",
        &["count", "--chat", "--json", "cookbook_tools.json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn chat_without_flags_uses_each_request_model() {
    let r = run(
        "chat",
        &[
            "count",
            "--chat",
            "cookbook_conversation.json",
            "tool_round_trip.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Notes explain why the tool round trip is an estimate.
    assert!(
        r.stderr.contains("note: tool_round_trip.json"),
        "{}",
        r.stderr
    );
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn chat_invalid_json_names_line_and_column_and_others_are_counted() {
    let r = run(
        "chat",
        &[
            "count",
            "--chat",
            "invalid_content.json",
            "trailing_comma.json",
            "cookbook_tools.json",
        ],
    );
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "tokenscope: invalid_content.json: line 4, column 34: invalid type: integer `42`, expected a string or an array of content parts\n\
         tokenscope: trailing_comma.json: line 5, column 3: trailing comma\n"
    );
    assert!(r.stdout.contains("cookbook_tools.json"));
    assert!(r.stdout.contains(" 101\n"), "{}", r.stdout);
}

#[test]
fn chat_unknown_request_model_names_close_ones() {
    let r = run_with_stdin(
        "chat",
        &["count", "--chat"],
        Some(r#"{"model": "gpt-4o-mimi", "messages": []}"#),
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("tokenscope: <stdin>: unknown model `gpt-4o-mimi`; the closest known models are `gpt-4o-mini`"),
        "{}",
        r.stderr
    );
}

#[test]
fn colour_only_when_asked() {
    let plain = run("count", &["count", "-m", "gpt-4o", "hello.txt"]);
    assert!(!plain.stdout.contains('\x1b'));
    let coloured = run(
        "count",
        &["count", "--color", "always", "-m", "gpt-4o", "hello.txt"],
    );
    assert!(coloured.stdout.contains("\x1b[1m"));
}

#[test]
fn help_says_the_default_encoding() {
    tokenscope("count")
        .args(["count", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("o200k_base (the default)"));
}
