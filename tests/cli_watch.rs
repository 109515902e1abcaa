//! `tokenscope watch` through the binary: an atomic save, a file invalid
//! mid-edit (last good plan kept), then the fix.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn next_line(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(Duration::from_secs(20))
        .expect("a watch line within 20 s")
}

/// `tokenscope watch ARGS PATH`, and its output lines as they come.
fn watch(args: &[&str], path: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokenscope"))
        .arg("watch")
        .args(args)
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

#[test]
fn watch_prints_a_line_per_change_and_survives_an_invalid_file() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = dir.path().join("prompt.md");
    std::fs::write(
        &prompt,
        "## System\n\nYou are helpful.\n\n## Context\n\nOne paragraph.\n",
    )
    .unwrap();
    let (mut child, rx) = watch(&["--budget", "200", "--exit-after", "3"], &prompt);
    let first = next_line(&rx);
    assert!(
        first.contains("/200 tokens") && first.contains("watching"),
        "{first}"
    );

    // An editor's atomic save: write a temporary file, rename it over.
    let tmp = dir.path().join(".prompt.md.swp");
    std::fs::write(
        &tmp,
        "## System\n\nYou are helpful.\n\n## Context\n\nOne paragraph.\n\nA second paragraph.\n",
    )
    .unwrap();
    std::fs::rename(&tmp, &prompt).unwrap();
    let changed = next_line(&rx);
    assert!(
        changed.contains("Context +") && changed.contains("included"),
        "{changed}"
    );

    // Invalid mid-edit: an error line, the last good plan kept.
    std::fs::write(&prompt, "+++\ntotal = \"lots\"\n+++\n## System\n").unwrap();
    let error = next_line(&rx);
    assert!(
        error.contains("error:") && error.contains("prompt.md:2"),
        "{error}"
    );
    assert!(error.contains("keeping the last good plan"), "{error}");

    // Fixed: back to a plan.
    std::fs::write(&prompt, "## System\n\nYou are helpful.\n").unwrap();
    let fixed = next_line(&rx);
    assert!(
        fixed.contains("/200 tokens") && fixed.contains("removed"),
        "{fixed}"
    );
    let status = child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn watch_marks_an_estimate_with_its_error_band() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = dir.path().join("prompt.md");
    std::fs::write(&prompt, "## System\n\nYou are helpful.\n").unwrap();
    let first_line = |model: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tokenscope"))
            .args(["watch", "--budget", "200", "--model", model])
            .arg(&prompt)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        line
    };
    let estimate = first_line("deepseek-v3");
    assert!(estimate.contains(" ±15%/200 tokens"), "{estimate}");
    assert!(estimate.split_whitespace().nth(1).unwrap().starts_with('≈'));
    let exact = first_line("gpt-4o");
    assert!(!exact.contains('≈') && !exact.contains('±'), "{exact}");
}

#[test]
fn watch_follows_a_chat_request_as_the_conversation_grows() {
    let dir = tempfile::tempdir().unwrap();
    let request = dir.path().join("request.json");
    let mut body: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/samples/chat/agent.json"
        ))
        .unwrap(),
    )
    .unwrap();
    std::fs::write(&request, body.to_string()).unwrap();
    let (mut child, rx) = watch(&["--budget", "400", "--exit-after", "2"], &request);
    let first = next_line(&rx);
    assert!(first.contains("/400 tokens"), "{first}");

    // The agent appends its answer and the user's next turn, saved atomically.
    let messages = body["messages"].as_array_mut().unwrap();
    messages.push(
        serde_json::json!({"role": "assistant", "content": "Done: you are on the Team plan."}),
    );
    messages.push(serde_json::json!({"role": "user", "content": "Retry the deploys please."}));
    let tmp = dir.path().join(".request.json.tmp");
    std::fs::write(&tmp, body.to_string()).unwrap();
    std::fs::rename(&tmp, &request).unwrap();
    let changed = next_line(&rx);
    // The old last turn moves into the history; the new one is pinned.
    assert!(changed.contains("+m12-user pinned"), "{changed}");
    assert!(changed.contains("m10-user pinned→"), "{changed}");

    // Broken mid-edit: an error with its position, the last good plan kept.
    std::fs::write(&request, "{\"messages\": [\n  {\"role\": 1}\n]}").unwrap();
    let error = next_line(&rx);
    assert!(error.contains("request.json:2:"), "{error}");
    assert!(error.contains("keeping the last good plan"), "{error}");
    assert!(child.wait().unwrap().success());
}

/// A `tokenscope watch` that is stopped when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn watch_follows_a_folder_deleted_recreated_and_renamed_away_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d4");
    let away = dir.path().join("d4r");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("p.md"), "## A\n\none\n").unwrap();
    let (child, rx) = watch(&["--budget", "500"], &d);
    let _child = Running(child);
    let first = next_line(&rx);
    assert!(first.contains("watching"), "{first}");

    std::fs::remove_dir_all(&d).unwrap();
    let gone = next_line(&rx);
    assert!(gone.contains("error:") && gone.contains("d4"), "{gone}");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("p.md"), "## A\n\none two three\n").unwrap();
    let back = next_line(&rx);
    assert!(back.contains("/500 tokens (+"), "{back}");
    // The re-created folder is watched.
    std::fs::write(d.join("p.md"), "## A\n\none\n").unwrap();
    let edit = next_line(&rx);
    assert!(edit.contains("/500 tokens (-"), "{edit}");

    std::fs::rename(&d, &away).unwrap();
    let moved = next_line(&rx);
    assert!(moved.contains("error:") && moved.contains("d4"), "{moved}");
    // Edits under the new name are not the input.
    std::fs::write(away.join("p.md"), "## A\n\none two three four five\n").unwrap();
    if let Ok(line) = rx.recv_timeout(Duration::from_millis(700)) {
        panic!("an edit in the renamed folder was reported: {line}");
    }
    std::fs::rename(&away, &d).unwrap();
    let home = next_line(&rx);
    assert!(home.contains("/500 tokens (+"), "{home}");
    std::fs::write(d.join("p.md"), "## A\n\none\n").unwrap();
    let last = next_line(&rx);
    assert!(last.contains("/500 tokens (-"), "{last}");
}

#[test]
fn watch_follows_a_files_folder_deleted_and_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    let file = d.join("p.md");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(&file, "## A\n\none\n").unwrap();
    let (child, rx) = watch(&["--budget", "500"], &file);
    let _child = Running(child);
    assert!(next_line(&rx).contains("watching"));
    // Deleted and re-created at once, then an atomic save. Under load the
    // watcher may see the folder back before the file is written, and
    // rightly report the file missing first; the new content must follow.
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::create_dir(&d).unwrap();
    std::fs::write(&file, "## A\n\none two three\n").unwrap();
    let mut back = next_line(&rx);
    while !back.contains("/500 tokens (+") && back.contains("p.md") {
        back = next_line(&rx);
    }
    assert!(back.contains("/500 tokens (+"), "{back}");
    let tmp = d.join(".p.md.swp");
    std::fs::write(&tmp, "## A\n\none\n").unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    let saved = next_line(&rx);
    assert!(saved.contains("/500 tokens (-"), "{saved}");
}

#[test]
fn exit_after_zero_prints_the_first_line_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = dir.path().join("prompt.md");
    std::fs::write(&prompt, "# Rules\n\nBe brief.\n").unwrap();
    let (mut child, rx) = watch(&["--budget", "200", "--exit-after", "0"], &prompt);
    let first = next_line(&rx);
    assert!(first.contains("watching"), "{first}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "watch --exit-after 0 kept running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
