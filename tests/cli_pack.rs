//! `tokenscope pack` and `tokenscope check` over the bundled samples and the
//! invalid fixtures.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn tokenscope() -> Command {
    let mut c = Command::cargo_bin("tokenscope").unwrap();
    c.env("NO_COLOR", "1");
    c
}

const SAMPLES: [&str; 3] = [
    "samples/docs/docs.toml",
    "samples/agent-memory/memory.toml",
    "samples/rag/rag.toml",
];

fn pack_json(args: &[&str]) -> Value {
    let out = tokenscope()
        .arg("pack")
        .args(args)
        .arg("--json")
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn every_sample_packs_within_its_budget() {
    for sample in SAMPLES {
        let r = pack_json(&[sample]);
        assert_eq!(r["schema"], "tokenscope.report/1", "{sample}");
        let total = r["budget"]["total"].as_u64().unwrap();
        let rendered = r["totals"]["rendered"].as_u64().unwrap();
        assert!(
            rendered <= total,
            "{sample}: rendered {rendered} > total {total}"
        );
        let items = r["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{sample}");
        for item in items {
            let status = item["status"].as_str().unwrap();
            if status == "excluded" {
                assert!(
                    item["reason"].is_string(),
                    "{sample}: excluded without a reason: {item}"
                );
            }
            if item["pinned"] == true {
                assert_ne!(status, "excluded", "{sample}: pinned item out: {item}");
            }
        }
        let sections = r["sections"].as_array().unwrap();
        let allocated: u64 = sections
            .iter()
            .map(|s| s["allocated"].as_u64().unwrap())
            .sum();
        assert_eq!(
            allocated + r["budget"]["reserved"].as_u64().unwrap(),
            total,
            "{sample}"
        );
        let fin: u64 = sections.iter().map(|s| s["final"].as_u64().unwrap()).sum();
        let drawn: u64 = sections
            .iter()
            .map(|s| s["from_reserve"].as_u64().unwrap())
            .sum();
        assert!(
            fin - drawn + r["budget"]["reserved"].as_u64().unwrap() <= total,
            "{sample}"
        );
    }
}

#[test]
fn every_sample_passes_check() {
    for sample in SAMPLES {
        tokenscope()
            .args(["check", sample])
            .assert()
            .success()
            .stdout(predicate::str::starts_with("check passed:"));
    }
}

#[test]
fn the_docs_sample_passes_its_ci_profile() {
    tokenscope()
        .current_dir("samples")
        .args(["check", "docs/docs.toml", "--profile", "ci"])
        .assert()
        .success();
}

#[test]
fn check_fails_with_one_line_per_broken_rule() {
    // At a quarter of the budget the ci profile's minimums and must-include
    // ids cannot all hold.
    let out = tokenscope()
        .current_dir("samples")
        .args([
            "check",
            "docs/docs.toml",
            "--profile",
            "ci",
            "--budget",
            "4000",
        ])
        .assert()
        .code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("check failed:"))
        .collect();
    assert!(lines.len() >= 2, "{stdout}");
    assert!(stdout.contains("fewer than the required"), "{stdout}");
}

#[test]
fn flags_override_the_item_set() {
    let r = pack_json(&[
        "samples/docs/docs.toml",
        "--budget",
        "6000",
        "--strategy",
        "optimal",
        "--overflow",
        "truncate",
    ]);
    assert_eq!(r["budget"]["total"], 6000);
    assert_eq!(r["budget"]["strategy"], "optimal");
    assert_eq!(r["budget"]["overflow"], "truncate");
    let r = pack_json(&[
        "samples/docs/docs.toml",
        "--split",
        "header=10,concepts=50,pages=20,examples=15,footer=5",
    ]);
    let concepts = r["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "concepts")
        .unwrap()
        .clone();
    assert_eq!(concepts["allocated"], 8000);
}

#[test]
fn a_model_without_a_total_uses_its_context_window_minus_the_output_reserve() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set.toml");
    std::fs::write(
        &set,
        "[budget]\nmodel = \"gpt-4o\"\nreserve_output = 4000\n\n[[sections]]\nname = \"main\"\nshare = 100\n\n[[items]]\nid = \"a\"\nsection = \"main\"\ntext = \"hello\"\n",
    )
    .unwrap();
    let r = pack_json(&[set.to_str().unwrap()]);
    assert_eq!(r["budget"]["total"], 124_000);
    assert_eq!(r["budget"]["reserve_output"], 4000);
}

#[test]
fn piped_pack_writes_the_context() {
    let out = tokenscope()
        .args(["pack", "samples/rag/rag.toml"])
        .assert()
        .success();
    let context = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let r = pack_json(&["samples/rag/rag.toml"]);
    assert!(context.starts_with("# System"), "{context}");
    let counted = tokenscope()
        .args(["count", "-", "--model", "gpt-4o-mini", "--json"])
        .write_stdin(context)
        .assert()
        .success();
    let counted: Value = serde_json::from_slice(&counted.get_output().stdout).unwrap();
    assert_eq!(
        counted["results"][0]["total"], r["totals"]["rendered"],
        "the rendered count is the count of the context"
    );
}

#[test]
fn every_format_writes_atomically_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    for (ext, probe) in [
        ("json", "\"schema\""),
        ("md", "|"),
        ("csv", "id,section"),
        ("txt", "tokenscope"),
    ] {
        let path = dir.path().join(format!("report.{ext}"));
        tokenscope()
            .args(["pack", "samples/docs/docs.toml", "-o"])
            .arg(&path)
            .assert()
            .success()
            .stdout("");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(probe), "{ext}: {text}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn bad_input_names_file_line_and_column_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("bad.toml");
    std::fs::write(&set, "[budget]\ntotal = 100\nstrategy = \"fastest\"\n").unwrap();
    tokenscope()
        .args(["pack"])
        .arg(&set)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml:3:").and(predicate::str::contains("greedy")));
    tokenscope()
        .args(["pack", "samples/docs/docs.toml", "--strategy", "fast"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("optimal"));
    tokenscope()
        .args(["pack", "samples/docs/docs.toml", "--split", "nosuch=10"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("concepts"));
    tokenscope()
        .args(["pack", "samples/docs/docs.toml", "--profile", "nosuch"])
        .current_dir("samples")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ci"));
    tokenscope()
        .args(["pack", "missing.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.toml"));
}

#[test]
fn inputs_are_never_modified() {
    let before: Vec<(String, Vec<u8>)> = SAMPLES
        .iter()
        .map(|s| (s.to_string(), std::fs::read(s).unwrap()))
        .collect();
    for sample in SAMPLES {
        tokenscope()
            .args(["pack", sample, "--format", "md"])
            .assert()
            .success();
    }
    for (path, bytes) in before {
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{path} changed");
    }
}

#[test]
fn pack_record_appends_the_plan_to_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    for _ in 0..2 {
        tokenscope()
            .args([
                "pack",
                "samples/rag/rag.toml",
                "--json",
                "--record",
                "rag-answer",
                "--record-history",
            ])
            .arg(&history)
            .assert()
            .success();
    }
    let text = std::fs::read_to_string(&history).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let r = pack_json(&["samples/rag/rag.toml"]);
    assert_eq!(lines[0]["type"], "rag-answer", "{}", lines[0]);
    assert_eq!(lines[0]["allocated"], r["budget"]["total"]);
    assert_eq!(lines[0]["used"], r["totals"]["rendered"]);
}

fn summarize_set(dir: &std::path::Path) -> std::path::PathBuf {
    let set = dir.join("sum.toml");
    std::fs::write(
        &set,
        "[budget]\ntotal = 24\noverflow = \"summarize\"\n[[sections]]\nname = \"main\"\nshare = 100\n[[items]]\nid = \"long\"\nsection = \"main\"\ntext = \"This long paragraph will not fit into the tiny budget it was given, because it goes on and on about nothing in particular for many words and then some more words after that.\"\n",
    )
    .unwrap();
    set
}

#[test]
fn summarize_uses_the_command_output_when_it_fits_and_degrades_when_it_fails() {
    let dir = tempfile::tempdir().unwrap();
    let set = summarize_set(dir.path());
    let r = pack_json(&[set.to_str().unwrap(), "--summarizer", "head -c 40"]);
    let item = &r["items"][0];
    assert_eq!(item["status"], "degraded");
    assert_eq!(item["degrade_level"], 4, "{item}");
    assert!(r["warnings"].as_array().unwrap().is_empty());
    let r = pack_json(&[set.to_str().unwrap(), "--summarizer", "exit 3"]);
    assert!(
        r["warnings"][0]
            .as_str()
            .unwrap()
            .contains("summarizer failed"),
        "{}",
        r["warnings"]
    );
    assert_ne!(r["items"][0]["degrade_level"], 4);
    let r = pack_json(&[set.to_str().unwrap()]);
    assert!(
        r["warnings"][0]
            .as_str()
            .unwrap()
            .contains("no summarizer command"),
        "{}",
        r["warnings"]
    );
}

#[test]
fn a_tokenizer_file_counts_exactly() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let ranks = dir.path().join("bytes.tiktoken");
    let mut f = std::fs::File::create(&ranks).unwrap();
    // Every byte is a token, plus one merge: `ab`.
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b64 = |bytes: &[u8]| {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |a, (i, &b)| a | (b as u32) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    };
    for i in 0..=255u8 {
        writeln!(f, "{} {i}", b64(&[i])).unwrap();
    }
    writeln!(f, "{} 256", b64(b"ab")).unwrap();
    drop(f);
    let out = tokenscope()
        .args(["count", "-", "--json", "--tokenizer-file"])
        .arg(&ranks)
        .write_stdin("abcab")
        .assert()
        .success();
    let r: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(r["results"][0]["total"], 3, "ab c ab");
    assert_eq!(r["results"][0]["exact"], true);
    tokenscope()
        .args(["count", "-", "--tokenizer-file", "nosuch.json"])
        .write_stdin("x")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nosuch.json"));
}

/// `--optimal-deadline` bounds the `optimal` search: an adversarial subset
/// sum stops at it and reports its gap; `none` and the default prove small
/// instances; a malformed duration exits 2 and says what is expected.
#[test]
fn optimal_deadline_bounds_the_search_and_reports_the_gap() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hard.toml");
    let mut toml = String::from(
        "[budget]\ntotal = 1000001\nstrategy = \"optimal\"\nencoding = \"o200k_base\"\n\n[[sections]]\nname = \"docs\"\n",
    );
    let mut seed = 7u64;
    for i in 0..10_000u64 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let tokens = if i == 0 {
            1
        } else {
            3 * (1 + (seed >> 33) % 1_333)
        };
        let priority = (tokens + u64::from(i == 1)) as f64 / 1e6;
        toml.push_str(&format!(
            "\n[[items]]\nsection = \"docs\"\nid = \"i{i}\"\ntokens = {tokens}\npriority = {priority:?}\n"
        ));
    }
    std::fs::write(&file, toml).unwrap();
    let path = file.to_str().unwrap();
    let start = std::time::Instant::now();
    let r = pack_json(&[path, "--optimal-deadline", "50ms"]);
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
    let gap = r["totals"]["optimality_gap"].as_f64().expect("a gap");
    assert!(gap > 0.0 && gap < 1e-3, "{gap}");
    assert_eq!(r["sections"][0]["optimality_gap"].as_f64(), Some(gap));
    tokenscope()
        .args(["pack", path, "--optimal-deadline", "50", "--format", "text"])
        .assert()
        .success()
        .stdout(predicate::str::contains("optimal not proven, gap"));
    // A proven plan: null.
    let r = pack_json(&[
        "samples/rag/rag.toml",
        "--strategy",
        "optimal",
        "--optimal-deadline",
        "none",
    ]);
    assert!(r["totals"]["optimality_gap"].is_null());
    assert!(r["sections"][0]["optimality_gap"].is_null());
    tokenscope()
        .args(["pack", "samples/rag/rag.toml", "--optimal-deadline", "soon"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--optimal-deadline").and(predicate::str::contains("250ms")),
        );
}
