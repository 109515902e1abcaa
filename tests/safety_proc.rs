//! Safe on untrusted files: a `summarizer` named by an item set (TOML or
//! JSON) or a project profile is never run by `pack`, `check` or `watch`;
//! `--summarizer` still works, run as a program and its arguments (no
//! shell), and a summarizer that prints without end is stopped quickly with
//! bounded memory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

fn tokenscope(cwd: &Path) -> Command {
    let mut c = Command::cargo_bin("tokenscope").unwrap();
    // No user config.toml (which may name a summarizer) from the machine.
    c.env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", NO_CONFIG)
        .current_dir(cwd);
    c
}

/// A config folder that does not exist.
const NO_CONFIG: &str = "/nonexistent/tokenscope-test-config";

const LONG: &str = "This long paragraph will not fit into the tiny budget it was given, \
    because it goes on and on about nothing in particular for many words and then some more \
    words after that.";

/// An item set in `dir` whose `[budget]` names `summarizer`; TOML or JSON.
fn item_set(dir: &Path, json: bool, summarizer: &str) -> PathBuf {
    if json {
        let file = dir.join("set.json");
        let body = serde_json::json!({
            "budget": {"total": 24, "overflow": "summarize", "summarizer": summarizer},
            "sections": [{"name": "main", "share": 100}],
            "items": [{"id": "long", "section": "main", "text": LONG}],
        });
        std::fs::write(&file, serde_json::to_string_pretty(&body).unwrap()).unwrap();
        file
    } else {
        let file = dir.join("set.toml");
        std::fs::write(
            &file,
            format!(
                "[budget]\ntotal = 24\noverflow = \"summarize\"\nsummarizer = {summarizer:?}\n\
                 [[sections]]\nname = \"main\"\nshare = 100\n\
                 [[items]]\nid = \"long\"\nsection = \"main\"\ntext = {LONG:?}\n"
            ),
        )
        .unwrap();
        file
    }
}

/// A command that would create `marker` if it ran (with or without a shell).
fn marker_command(marker: &Path) -> String {
    format!("touch {}", marker.display())
}

fn pack_json(cwd: &Path, args: &[&str]) -> Value {
    let out = tokenscope(cwd)
        .arg("pack")
        .args(args)
        .arg("--json")
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

fn warnings(report: &Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_item_set_never_runs_its_summarizer() {
    for json in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("pwned");
        let set = item_set(dir.path(), json, &marker_command(&marker));
        let name = set.file_name().unwrap().to_str().unwrap().to_string();
        let position = if json { "5:5" } else { "4:1" };

        let r = pack_json(dir.path(), &[&name]);
        let w = warnings(&r);
        assert_eq!(
            w[0],
            format!(
                "the summarizer named in {name}:{position} was ignored: commands from input \
                 files are never run; to run it, pass it with --summarizer"
            ),
            "{w:?}"
        );
        assert!(w[1].contains("no summarizer command"), "{w:?}");
        assert_eq!(r["items"][0]["status"], "degraded", "overflow falls back");
        assert_ne!(r["items"][0]["degrade_level"], 4, "not a summary");

        // The text report and `check` (which prints the warning on stderr
        // and judges the plan as computed).
        let text = tokenscope(dir.path())
            .args(["pack", &name, "--format", "text"])
            .assert()
            .success();
        let text = String::from_utf8_lossy(&text.get_output().stdout).to_string();
        assert!(text.contains("was ignored"), "{text}");
        let check = tokenscope(dir.path())
            .args(["check", &name])
            .assert()
            .success();
        let stderr = String::from_utf8_lossy(&check.get_output().stderr).to_string();
        assert!(
            stderr.contains(&format!(
                "warning: the summarizer named in {name}:{position} was ignored"
            )),
            "{stderr}"
        );
        assert!(
            !marker.exists(),
            "the item set's command ran (json: {json})"
        );
    }
}

#[test]
fn a_project_profile_never_runs_its_summarizer() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let set = item_set(dir.path(), false, "ignored-anyway");
    std::fs::write(
        dir.path().join("tokenscope.toml"),
        format!(
            "[profiles.ci]\noverflow = \"summarize\"\nsummarizer = {:?}\n",
            marker_command(&marker)
        ),
    )
    .unwrap();
    let set = set.to_str().unwrap();
    let r = pack_json(dir.path(), &[set, "--profile", "ci"]);
    let w = warnings(&r);
    let config = dir.path().join("tokenscope.toml");
    assert!(
        w.contains(&format!(
            "the summarizer named in {}:3:1 (profile `ci`) was ignored: commands from input \
             files are never run; to run it, pass it with --summarizer",
            config.display()
        )),
        "{w:?}"
    );
    let check = tokenscope(dir.path())
        .args(["check", set, "--profile", "ci"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&check.get_output().stderr).to_string();
    assert!(stderr.contains("(profile `ci`) was ignored"), "{stderr}");
    assert!(!marker.exists(), "the profile's command ran");
}

#[test]
fn watch_never_runs_an_item_sets_summarizer() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let set = item_set(dir.path(), true, &marker_command(&marker));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tokenscope"))
        .env("XDG_CONFIG_HOME", NO_CONFIG)
        .args(["watch", "--exit-after", "1"])
        .arg(&set)
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("watching"), "{first}");
    // A reload packs again, with the summarizer still ignored.
    let text = std::fs::read_to_string(&set).unwrap();
    std::fs::write(&set, text.replace("\"total\": 24", "\"total\": 25")).unwrap();
    let second = lines.next().unwrap().unwrap();
    assert!(second.contains("/25 tokens"), "{second}");
    assert!(child.wait().unwrap().success());
    assert!(!marker.exists(), "watch ran the item set's command");
}

#[test]
fn the_command_line_summarizer_runs_as_a_program_with_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let set = item_set(dir.path(), false, "ignored-anyway");
    let set = set.to_str().unwrap();
    // Quotes group words; nothing after `;` runs (there is no shell).
    let cmd = format!("printf 'A short summary.' ; touch {}", marker.display());
    let r = pack_json(dir.path(), &[set, "--summarizer", &cmd]);
    let item = &r["items"][0];
    assert_eq!(item["degrade_level"], 4, "{item}");
    // printf prints its format and ignores the extra arguments.
    assert!(!marker.exists());
    let r = pack_json(dir.path(), &[set, "--summarizer", "head -c 40"]);
    assert_eq!(r["items"][0]["degrade_level"], 4);
    // A command that cannot be split is a usage error (exit 2).
    let out = tokenscope(dir.path())
        .args(["pack", set, "--summarizer", "llm 'unclosed"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("--summarizer `llm 'unclosed`: cannot split it into words"),
        "{stderr}"
    );
}

/// The largest resident size of any child this process has waited for, in
/// bytes.
#[cfg(target_os = "linux")]
fn children_max_rss() -> u64 {
    // SAFETY: getrusage(2) fills the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage struct.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss as u64 * 1024
}

#[cfg(target_os = "linux")]
#[test]
fn a_summarizer_printing_without_end_is_stopped_quickly_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let set = item_set(dir.path(), false, "ignored-anyway");
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tokenscope"))
        .env("XDG_CONFIG_HOME", NO_CONFIG)
        .args(["pack", "--json", "--summarizer", "yes"])
        .arg(&set)
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(out.status.success(), "{out:?}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = warnings(&r);
    assert!(
        w.iter()
            .any(|w| w.contains("summarizer `yes` printed more than 65536 bytes and was stopped")),
        "{w:?}"
    );
    assert_eq!(r["items"][0]["status"], "degraded");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    // Every child waited for so far (tokenscope, and `yes` reaped by it is
    // not counted here) stayed small: before the cap, memory grew without
    // bound until the 30 s timeout.
    let rss = children_max_rss();
    assert!(rss < 400 * 1024 * 1024, "a child reached {rss} bytes");
}

#[test]
fn the_users_own_config_may_name_the_summarizer() {
    let dir = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let folder = config.path().join("tokenscope");
    std::fs::create_dir(&folder).unwrap();
    let file = folder.join("config.toml");
    std::fs::write(&file, "summarizer = \"printf 'From the user config.'\"\n").unwrap();
    let set = item_set(dir.path(), false, "ignored-anyway");
    let set = set.to_str().unwrap();
    // The packed context (stdout is a pipe) holds the summary.
    let run = |args: &[&str]| -> String {
        let out = tokenscope(dir.path())
            .env("XDG_CONFIG_HOME", config.path())
            .arg("pack")
            .args(args)
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stdout).to_string()
    };
    assert_eq!(run(&[set]).trim(), "From the user config.");
    // The command line wins.
    assert_eq!(
        run(&[set, "--summarizer", "printf 'From the flag.'"]).trim(),
        "From the flag."
    );
    // A bad file is an error with its position (exit 2).
    std::fs::write(&file, "summariser = \"x\"\n").unwrap();
    let out = tokenscope(dir.path())
        .env("XDG_CONFIG_HOME", config.path())
        .args(["pack", set])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("config.toml:1:1"), "{stderr}");
    std::fs::write(&file, "summarizer = \"llm 'open\"\n").unwrap();
    let out = tokenscope(dir.path())
        .env("XDG_CONFIG_HOME", config.path())
        .args(["pack", set])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("cannot split it into words"), "{stderr}");
}

#[test]
fn a_saved_profile_never_stores_a_command() {
    use tokenscope::input::profile::{ProfileSettings, save_profile};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokenscope.toml");
    let mut set = tokenscope::input::itemset::load(&item_set(dir.path(), false, "x")).unwrap();
    // An item set cannot carry a command at all (`--summarizer` lives in
    // the session, never in the set a profile is saved from).
    set.budget.overflow = tokenscope::engine::Overflow::Summarize;
    let settings = ProfileSettings::from_item_set(&set);
    assert_eq!(settings.summarizer_at, None);
    save_profile(&file, "tuned", &settings).unwrap();
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("[profiles.tuned]"), "{written}");
    assert!(!written.contains("summarizer"), "{written}");
    assert!(!written.contains("llm"), "{written}");
}
