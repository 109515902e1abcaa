//! Abuse suite: generated hostile inputs (a seeded generator, so every run
//! is the same) fed through the loaders and every command and format, as a
//! stranger's pull request would feed a `tokenscope check` gate.
//!
//! What must hold on every run:
//! (a) no input makes tokenscope run a command (marker-file payloads in
//!     every key that could hold one);
//! (b) no input or special file changes (inputs hashed before and after;
//!     `-o` through generated link chains; FIFOs and device nodes stay);
//! (c) no raw control character (C0 but newline, DEL, C1, bidi and line
//!     separators) reaches stdout or stderr in a human format;
//! (d) JSON stays valid and carries ids and names byte for byte; the packed
//!     context carries the item texts byte for byte;
//! (e) time and memory stay bounded (every run has a deadline and an
//!     address-space limit) on endless, huge and special files;
//! (f) bad input is exit 2 with a message, never a panic.

mod abuse_support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use abuse_support::{Rng, assert_sane, hostile, hostile_text, run, snapshot, toml_str};
use serde_json::{Value, json};

/// A scratch folder with a home of its own.
struct Scratch {
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> abuse_support::Run {
        run(self.path(), self.home.path(), args, None)
    }
}

/// One generated item set: its items' ids and texts and its section names.
struct GenSet {
    ids: Vec<String>,
    texts: Vec<String>,
    sections: Vec<String>,
}

/// Writes a generated hostile item set (TOML or JSON) with `summarizer`
/// under [budget] when given.
fn gen_item_set(
    rng: &mut Rng,
    dir: &Path,
    json: bool,
    summarizer: Option<&str>,
) -> (PathBuf, GenSet) {
    let n_sections = 1 + rng.below(3);
    let sections: Vec<String> = (0..n_sections)
        .map(|j| hostile(rng, &format!("s{j}")))
        .collect();
    let n_items = 2 + rng.below(5);
    let mut ids = Vec::new();
    let mut texts = Vec::new();
    let mut items = Vec::new();
    for k in 0..n_items {
        let id = hostile(rng, &format!("i{k}"));
        let text = format!(
            "{} {}",
            "lorem ipsum ".repeat(1 + rng.below(8)),
            hostile_text(rng, "t")
        );
        let section = rng.pick(&sections).clone();
        let category = hostile(rng, "c");
        let tag = hostile(rng, "g");
        items.push((
            id.clone(),
            text.clone(),
            section,
            category,
            tag,
            rng.chance(20),
        ));
        ids.push(id);
        texts.push(text);
    }
    let titles: Vec<String> = sections.iter().map(|_| hostile_text(rng, "## T")).collect();
    let share = 100 / n_sections;
    let path = if json {
        let value = json!({
            "budget": {
                "total": 100_000,
                "overflow": if summarizer.is_some() { "summarize" } else { "drop" },
                "summarizer": summarizer,
            },
            "sections": sections.iter().zip(&titles).map(|(s, t)| json!({"name": s, "share": share, "title": t})).collect::<Vec<_>>(),
            "items": items.iter().map(|(id, text, s, c, g, pinned)| json!({
                "id": id, "text": text, "section": s, "category": c, "tags": [g], "pinned": pinned,
                "meta": {"note": c},
            })).collect::<Vec<_>>(),
        });
        let mut value = value;
        if summarizer.is_none() {
            value["budget"]
                .as_object_mut()
                .unwrap()
                .remove("summarizer");
        }
        let p = dir.join("set.json");
        fs::write(&p, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
        p
    } else {
        let mut t = String::from("[budget]\ntotal = 100000\n");
        if let Some(cmd) = summarizer {
            t += &format!("overflow = \"summarize\"\nsummarizer = {}\n", toml_str(cmd));
        }
        for (s, title) in sections.iter().zip(&titles) {
            t += &format!(
                "\n[[sections]]\nname = {}\nshare = {share}\ntitle = {}\n",
                toml_str(s),
                toml_str(title)
            );
        }
        for (id, text, s, c, g, pinned) in &items {
            t += &format!(
                "\n[[items]]\nid = {}\ntext = {}\nsection = {}\ncategory = {}\ntags = [{}]\npinned = {pinned}\nmeta = {{ note = {} }}\n",
                toml_str(id),
                toml_str(text),
                toml_str(s),
                toml_str(c),
                toml_str(g),
                toml_str(c)
            );
        }
        let p = dir.join("set.toml");
        fs::write(&p, t).unwrap();
        p
    };
    (
        path,
        GenSet {
            ids,
            texts,
            sections,
        },
    )
}

fn report_ids(report: &Value) -> BTreeSet<String> {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn generated_item_sets_through_every_command_and_format() {
    for seed in 0..10u64 {
        let mut rng = Rng::new(seed);
        let s = Scratch::new();
        let (set, made) = gen_item_set(&mut rng, s.path(), seed % 2 == 1, None);
        let before = snapshot(s.path());
        let set = set.file_name().unwrap().to_str().unwrap();

        for format in ["text", "md", "csv"] {
            let r = s.run(&["pack", set, "--format", format]);
            assert_sane(&r, true);
            assert_eq!(r.code, 0, "{}: {}", r.what, r.stderr_text().escape_debug());
        }
        // (d) JSON: valid, ids and section names byte for byte.
        let r = s.run(&["pack", set, "--json"]);
        assert_sane(&r, false);
        let report = r.json();
        assert_eq!(
            report_ids(&report),
            made.ids.iter().cloned().collect::<BTreeSet<_>>(),
            "seed {seed}"
        );
        let names: BTreeSet<String> = report["sections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        for name in &made.sections {
            assert!(
                names.contains(name),
                "seed {seed}: section {name:?} in {names:?}"
            );
        }
        // (d) The context: every included text byte for byte.
        let r = s.run(&["pack", set, "--format", "context"]);
        assert_sane(&r, false);
        let context = r.stdout_text();
        for (id, text) in made.ids.iter().zip(&made.texts) {
            let item = report["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["id"] == *id)
                .unwrap();
            assert!(
                item["status"] == "included" || item["status"] == "pinned",
                "seed {seed}: {item}"
            );
            assert!(
                context.contains(text.as_str()),
                "seed {seed}: {text:?} not in the context"
            );
        }
        // A tight budget: excluded lists, reasons, check failures.
        for format in ["text", "md", "csv"] {
            let r = s.run(&["pack", set, "--budget", "25", "--format", format]);
            assert_sane(&r, true);
        }
        for args in [
            vec![
                "pack", set, "--budget", "25", "--format", "text", "--color", "always",
            ],
            vec!["check", set, "--budget", "25", "--color", "always"],
            vec!["count", set, "--color", "always"],
        ] {
            abuse_support::assert_sane_colored(&s.run(&args));
        }
        for args in [
            vec!["check", set],
            vec!["check", set, "--budget", "25"],
            vec!["check", set, "--budget", "25", "--format", "md"],
            vec!["count", set],
            vec![set, "--budget", "40"],
        ] {
            assert_sane(&s.run(&args), true);
        }
        let r = s.run(&["check", set, "--budget", "25", "--json"]);
        assert_sane(&r, false);
        assert!(r.json()["check"].is_object(), "{}", r.what);
        assert_eq!(snapshot(s.path()), before, "seed {seed}: an input changed");
    }
}

/// A Markdown prompt with front matter, settings comments and hostile
/// headings; JSONL results; an llms.txt; an OpenAI chat request.
fn gen_other_formats(rng: &mut Rng, dir: &Path) -> Vec<(String, bool)> {
    let esc = |s: &str| toml_str(s); // a double-quoted YAML/JSON-compatible string
    let md = format!(
        "---\ntitle: {}\nbudget: 400\n---\n# {}\n\n<!-- priority: 0.3 pinned -->\n## {}\n\n{}\n\n<!-- id: {} tags: {} -->\n## {}\n\n{}\n",
        esc(&hostile_text(rng, "t")),
        hostile_text(rng, "Top").replace('\n', " "),
        hostile_text(rng, "Sec").replace('\n', " "),
        hostile_text(rng, "body"),
        esc(&hostile_text(rng, "x")),
        esc(&hostile_text(rng, "y")),
        hostile_text(rng, "Other").replace('\n', " "),
        hostile_text(rng, "more"),
    );
    fs::write(dir.join("prompt.md"), md).unwrap();
    let jsonl: String = (0..3 + rng.below(4))
        .map(|k| {
            json!({"id": hostile(rng, &format!("j{k}")), "text": hostile_text(rng, "text"), "score": 0.5})
                .to_string()
                + "\n"
        })
        .collect();
    fs::write(dir.join("hits.jsonl"), jsonl).unwrap();
    let one_line = |rng: &mut Rng, p: &str| {
        hostile_text(rng, p).replace(
            [
                '\n', '\r', '\u{2028}', '\u{2029}', '\u{85}', '\u{b}', '\u{c}',
            ],
            " ",
        )
    };
    let llms = format!(
        "# {}\n\n> {}\n\n## {}\n\n- [{}](https://example.com/{}): {}\n- [b](../../etc/passwd)\n",
        one_line(rng, "Proj"),
        one_line(rng, "sum"),
        one_line(rng, "Docs"),
        one_line(rng, "link"),
        one_line(rng, "p").replace([' ', ')', '('], "_"),
        one_line(rng, "desc"),
    );
    fs::write(dir.join("llms.txt"), llms).unwrap();
    let chat = json!({
        "model": "gpt-4o",
        "max_tokens": 50,
        "messages": [
            {"role": "system", "content": hostile_text(rng, "s")},
            {"role": "user", "content": hostile_text(rng, "u"), "name": "n"},
            {"role": "assistant", "content": hostile_text(rng, "a")},
            {"role": "user", "content": hostile_text(rng, "last")},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "description": hostile_text(rng, "d"), "parameters": {"type": "object"}}}],
    });
    fs::write(dir.join("chat.json"), serde_json::to_vec(&chat).unwrap()).unwrap();
    vec![
        ("prompt.md".into(), false),
        ("hits.jsonl".into(), false),
        ("llms.txt".into(), false),
        ("chat.json".into(), true),
    ]
}

#[test]
fn generated_markdown_jsonl_llms_txt_and_chat_requests() {
    for seed in 0..6u64 {
        let mut rng = Rng::new(100 + seed);
        let s = Scratch::new();
        let files = gen_other_formats(&mut rng, s.path());
        let before = snapshot(s.path());
        for (file, chat) in &files {
            let file = file.as_str();
            for format in ["text", "md", "csv"] {
                let r = s.run(&["pack", file, "--budget", "400", "--format", format]);
                assert_sane(&r, true);
            }
            let r = s.run(&["pack", file, "--budget", "400", "--json"]);
            assert_sane(&r, false);
            if r.code == 0 {
                r.json();
            }
            let r = s.run(&["pack", file, "--budget", "400", "--format", "context"]);
            assert_sane(&r, false);
            assert_sane(&s.run(&["check", file, "--budget", "30"]), true);
            assert_sane(&s.run(&["count", file]), true);
            if *chat {
                // (d) The request as sent: every field kept, content exact.
                let r = s.run(&["pack", file, "--format", "request"]);
                assert_sane(&r, false);
                assert_eq!(r.code, 0, "{}: {}", r.what, r.stderr_text());
                let sent: Value =
                    serde_json::from_slice(&fs::read(s.path().join(file)).unwrap()).unwrap();
                assert_eq!(r.json(), sent, "seed {seed}: the untrimmed request changed");
                assert_sane(&s.run(&["count", "--chat", file]), true);
            }
        }
        assert_eq!(snapshot(s.path()), before, "seed {seed}: an input changed");
    }
}

/// (a) Every key that could name a command, in every input format and in
/// the project's `tokenscope.toml`: the marker file must never appear.
#[test]
fn no_input_ever_runs_a_command() {
    let s = Scratch::new();
    let dir = s.path();
    let marker = dir.join("pwned");
    let m = marker.display().to_string();
    let payloads = [
        format!("touch {m}"),
        format!("sh -c 'touch {m}'"),
        format!("$(touch {m})"),
        format!("`touch {m}`"),
        format!("x; touch {m}"),
    ];
    let mut rng = Rng::new(7);
    let mut inputs: Vec<String> = Vec::new();
    for (k, p) in payloads.iter().enumerate() {
        let sub = dir.join(format!("c{k}"));
        fs::create_dir(&sub).unwrap();
        let (set, _) = gen_item_set(&mut rng, &sub, k % 2 == 0, Some(p));
        inputs.push(set.strip_prefix(dir).unwrap().display().to_string());
        // The payload as an id, a section, a title and a file name too.
        let t = format!(
            "[budget]\ntotal = 30\noverflow = \"summarize\"\nsummarizer = {q}\n[[sections]]\nname = {q}\ntitle = {q}\n[[items]]\nid = {q}\nsection = {q}\ntext = {t}\n",
            q = toml_str(p),
            t = toml_str(&"lorem ipsum dolor ".repeat(60)),
        );
        let name = format!("p{k}-{}.toml", p.replace('/', "_"));
        fs::write(dir.join(&name), t).unwrap();
        inputs.push(name);
    }
    fs::write(
        dir.join("front.md"),
        format!(
            "---\nsummarizer: {p}\ncommand: {p}\nbudget: 30\n---\n## a\n\n<!-- summarizer: \"{p}\" -->\n{}\n",
            "lorem ipsum ".repeat(80),
            p = payloads[0]
        ),
    )
    .unwrap();
    inputs.push("front.md".into());
    let jsonl: String = (0..4)
        .map(|k| json!({"id": format!("j{k}"), "text": "lorem ipsum ".repeat(50), "summarizer": payloads[0], "command": payloads[1]}).to_string() + "\n")
        .collect();
    fs::write(dir.join("hits.jsonl"), jsonl).unwrap();
    inputs.push("hits.jsonl".into());
    fs::write(
        dir.join("chat.json"),
        json!({"model": "gpt-4o", "summarizer": payloads[0], "messages": [{"role": "user", "content": payloads[2]}]}).to_string(),
    )
    .unwrap();
    inputs.push("chat.json".into());
    // The project's settings: a profile naming a summarizer.
    fs::write(
        dir.join("tokenscope.toml"),
        format!(
            "[profiles.gate]\nbudget = 30\noverflow = \"summarize\"\nsummarizer = {}\n",
            toml_str(&payloads[0])
        ),
    )
    .unwrap();
    fs::write(
        dir.join("models.toml"),
        format!(
            "[[models]]\nname = \"m\"\nencoding = \"o200k_base\"\nsummarizer = {}\n",
            toml_str(&payloads[0])
        ),
    )
    .unwrap();

    for input in &inputs {
        let input = input.as_str();
        for args in [
            vec!["pack", input, "--format", "text"],
            vec!["pack", input, "--json", "--budget", "30"],
            vec!["check", input, "--profile", "gate"],
            vec![
                "pack",
                input,
                "--models-file",
                "models.toml",
                "--format",
                "text",
            ],
            vec![input, "--budget", "30"],
        ] {
            let r = s.run(&args);
            assert_sane(&r, args.len() > 2 && args[2] != "--json");
            assert!(!marker.exists(), "{}: a command from an input ran", r.what);
        }
    }
    assert_watch_runs_nothing(&s, &inputs[0], &marker);
    assert!(!marker.exists());
}

/// `watch` on an item set that names a summarizer: one change, and still no
/// command ran.
fn assert_watch_runs_nothing(s: &Scratch, input: &str, marker: &Path) {
    use std::io::{BufRead, BufReader};
    let mut child = abuse_support::command(s.path(), s.home.path())
        .args(["watch", input, "--budget", "30", "--exit-after", "1"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(!first.is_empty());
    let path = s.path().join(input);
    let mut text = fs::read(&path).unwrap();
    text.extend_from_slice(b"\n");
    fs::write(&path, text).unwrap();
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > abuse_support::DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("watch did not print its change line in time");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!marker.exists(), "watch ran a command from an input");
}

/// `--git-recency` runs git in the folder: git must not run a command the
/// repository's config names.
#[test]
fn git_recency_runs_no_command_from_the_repository_config() {
    let s = Scratch::new();
    let repo = s.path().join("repo");
    fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(&repo)
            .args(["-c", "user.email=a@b", "-c", "user.name=a"])
            .args(args)
            .output()
    };
    if git(&["init", "-q"]).is_err() {
        return; // no git on this machine: nothing to run
    }
    fs::write(repo.join("a.md"), "alpha").unwrap();
    git(&["add", "."]).unwrap();
    git(&["commit", "-qm", "x"]).unwrap();
    let marker = s.path().join("pwned-git");
    let hook = format!("touch {}", marker.display());
    git(&["config", "core.fsmonitor", &hook]).unwrap();
    fs::write(repo.join("a.md"), "alpha beta").unwrap();
    let r = s.run(&[
        "pack",
        "repo",
        "--git-recency",
        "--budget",
        "100",
        "--format",
        "text",
    ]);
    assert_sane(&r, true);
    assert_eq!(r.code, 0, "{}", r.stderr_text());
    assert!(!marker.exists(), "git ran the repository's fsmonitor hook");
}

/// A folder a stranger made: hostile and invalid file names, links out of
/// it and to endless devices, a FIFO, a link loop, deep nesting, a sparse
/// 300 MiB file, binary and non-UTF-8 files.
#[cfg(unix)]
#[test]
fn hostile_folders_stay_bounded_and_escaped() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::symlink;
    let s = Scratch::new();
    let root = s.path().join("repo");
    fs::create_dir(&root).unwrap();
    let mut rng = Rng::new(42);
    let mut names = BTreeSet::new();
    for k in 0..12 {
        let name = format!(
            "{}.md",
            hostile_text(&mut rng, &format!("f{k}")).replace('/', "_")
        );
        if fs::write(root.join(&name), hostile_text(&mut rng, "body ")).is_ok() {
            names.insert(name);
        }
    }
    let sub = root.join(hostile_text(&mut rng, "sub").replace('/', "_"));
    fs::create_dir(&sub).unwrap();
    fs::write(sub.join("inner.md"), "inner").unwrap();
    fs::write(
        root.join(std::ffi::OsStr::from_bytes(b"bad\xff\x9b.md")),
        "x",
    )
    .unwrap();
    fs::write(root.join("latin1.md"), b"caf\xe9").unwrap();
    fs::write(root.join("binary.md"), b"\x7fELF\0\0\x01").unwrap();
    fs::File::create(root.join("sparse.md"))
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    let mut deep = root.clone();
    for _ in 0..120 {
        deep.push("d");
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("leaf.md"), "leaf").unwrap();
    let secret = s.path().join("secret.txt");
    fs::write(&secret, "TOP-SECRET-OUTSIDE").unwrap();
    symlink(&secret, root.join("secret.md")).unwrap();
    symlink(s.path(), root.join("up")).unwrap();
    symlink("/dev/zero", root.join("zero.md")).unwrap();
    symlink("/dev/urandom", root.join("random.md")).unwrap();
    symlink("loop-b", root.join("loop-a")).unwrap();
    symlink("loop-a", root.join("loop-b")).unwrap();
    symlink(".", root.join("self")).unwrap();
    abuse_support::mkfifo(&root.join("fifo.md"));
    let before = snapshot(&root);

    for format in ["text", "md", "csv"] {
        let r = s.run(&[
            "pack", "repo", "--budget", "5000", "--hidden", "--format", format,
        ]);
        assert_sane(&r, true);
        assert_eq!(r.code, 0, "{}: {}", r.what, r.stderr_text());
    }
    let r = s.run(&["pack", "repo", "--budget", "100000", "--hidden", "--json"]);
    assert_sane(&r, false);
    let report = r.json();
    let ids = report_ids(&report);
    for name in &names {
        assert!(ids.contains(name), "{name:?} missing from {ids:?}");
    }
    let deep_id = format!("{}leaf.md", "d/".repeat(120));
    assert!(ids.contains(&deep_id), "the deep file is missing");
    for id in &ids {
        assert!(
            !id.starts_with("up/") && !id.starts_with("self/") && !id.contains("secret"),
            "a link was followed: {id:?}"
        );
    }
    let r = s.run(&[
        "pack", "repo", "--budget", "100000", "--hidden", "--format", "context",
    ]);
    assert_sane(&r, false);
    assert!(!String::from_utf8_lossy(&r.stdout).contains("TOP-SECRET-OUTSIDE"));
    assert_sane(&s.run(&["check", "repo", "--budget", "50"]), true);
    assert_sane(&s.run(&["repo", "--budget", "50"]), true);
    assert_eq!(snapshot(&root), before, "a file in the folder changed");
}

/// An item's `path` naming special files: exit 2 at once, never a hang.
#[cfg(unix)]
#[test]
fn item_paths_to_special_files_fail_fast() {
    use std::os::unix::fs::symlink;
    let s = Scratch::new();
    let dir = s.path();
    abuse_support::mkfifo(&dir.join("fifo"));
    symlink("fifo", dir.join("to-fifo")).unwrap();
    symlink("loop2", dir.join("loop1")).unwrap();
    symlink("loop1", dir.join("loop2")).unwrap();
    fs::create_dir(dir.join("folder")).unwrap();
    let targets = [
        ("fifo", "not a regular file"),
        ("to-fifo", "not a regular file"),
        // Devices are outside the item set's folder: refused before opening.
        ("/dev/zero", "outside the item set's folder"),
        ("/dev/urandom", "outside the item set's folder"),
        ("loop1", ""),
        ("folder", "directory"),
        ("missing", "not found"),
    ];
    let mut rng = Rng::new(9);
    for (k, (target, says)) in targets.iter().enumerate() {
        let id = hostile(&mut rng, "item");
        let name = format!("p{k}.toml");
        fs::write(
            dir.join(&name),
            format!(
                "[budget]\ntotal = 100\n[[items]]\nid = {}\npath = {}\n",
                toml_str(&id),
                toml_str(target)
            ),
        )
        .unwrap();
        for cmd in ["pack", "check"] {
            let r = s.run(&[cmd, name.as_str(), "--format", "text"]);
            assert_sane(&r, true);
            assert_eq!(r.code, 2, "{}", r.what);
            let err = r.stderr_text();
            assert!(err.contains(says), "{}: {err}", r.what);
            assert!(
                r.elapsed < std::time::Duration::from_secs(5),
                "{}: took {:?}",
                r.what,
                r.elapsed
            );
        }
    }
    // A models file naming a device as its tokenizer file (directly or
    // behind a link): refused before anything is read.
    fs::write(dir.join("t.txt"), "hello").unwrap();
    symlink("/dev/zero", dir.join("to-zero")).unwrap();
    for target in ["to-zero", "/dev/zero", "/dev/urandom"] {
        fs::write(
            dir.join("models.toml"),
            format!(
                "[[models]]\nname = \"m\"\ntokenizer_file = {}\n",
                toml_str(target)
            ),
        )
        .unwrap();
        let r = s.run(&[
            "count",
            "--models-file",
            "models.toml",
            "--model",
            "m",
            "t.txt",
        ]);
        assert_sane(&r, true);
        assert_eq!(r.code, 2, "{}", r.what);
        assert!(
            r.stderr_text().contains("device or socket"),
            "{}",
            r.stderr_text()
        );
        assert!(r.elapsed < std::time::Duration::from_secs(5), "{}", r.what);
    }
}

/// (b) `-o`, `--record-history` and `history import` through generated
/// chains of links, odd spellings and hard links: refused, nothing changed.
#[cfg(unix)]
#[test]
fn outputs_through_generated_link_chains_never_land_on_inputs() {
    use std::os::unix::fs::symlink;
    let s = Scratch::new();
    let dir = s.path();
    fs::create_dir_all(dir.join("docs/sub")).unwrap();
    fs::write(dir.join("docs/a.md"), "alpha").unwrap();
    fs::write(dir.join("body.txt"), "pointed to").unwrap();
    fs::write(
        dir.join("set.toml"),
        "[budget]\ntotal = 500\n[[items]]\nid = \"b\"\npath = \"body.txt\"\n",
    )
    .unwrap();
    fs::write(
        dir.join("models.toml"),
        "[[models]]\nname = \"m\"\nencoding = \"o200k_base\"\n",
    )
    .unwrap();
    fs::write(dir.join("tokenscope.toml"), "[profiles.p]\nbudget = 500\n").unwrap();
    fs::write(dir.join("hist.jsonl"), "").unwrap();
    fs::create_dir(dir.join("links")).unwrap();
    let before = snapshot(dir);
    let targets = [
        "set.toml",
        "body.txt",
        "models.toml",
        "tokenscope.toml",
        "docs/a.md",
        "docs/new.md",
        "docs/sub/new.md",
    ];
    let mut rng = Rng::new(5);
    for k in 0..24 {
        let target = *rng.pick(&targets);
        // A chain of 1 to 4 links, each relative or absolute, ending at an
        // odd spelling of the target.
        let spelled = match rng.below(4) {
            0 => dir.join(target),
            1 => dir.join("docs/..").join(target),
            2 => dir.join(".").join(target),
            _ => PathBuf::from(format!("{}//{target}", dir.display())),
        };
        let mut next = spelled;
        for j in 0..1 + rng.below(4) {
            let link = dir.join("links").join(format!("l{k}-{j}"));
            if rng.chance(50) {
                let rel = pathdiff(&next, &dir.join("links"));
                symlink(&rel, &link).unwrap();
            } else {
                symlink(&next, &link).unwrap();
            }
            next = link;
        }
        let out = next.display().to_string();
        let r = s.run(&[
            "pack",
            "set.toml",
            "docs",
            "--profile",
            "p",
            "--models-file",
            "models.toml",
            "--json",
            "-o",
            &out,
        ]);
        assert_sane(&r, false);
        assert_eq!(r.code, 2, "{} (to {target}): {}", r.what, r.stderr_text());
        assert!(
            r.stderr_text().contains("refusing to write"),
            "{}",
            r.stderr_text()
        );
        let r = s.run(&[
            "pack",
            "set.toml",
            "docs",
            "--profile",
            "p",
            "--models-file",
            "models.toml",
            "--json",
            "--record",
            "t",
            "--record-history",
            &out,
        ]);
        assert_sane(&r, false);
        assert_eq!(r.code, 2, "{} (to {target}): {}", r.what, r.stderr_text());
    }
    // history import of a file into itself, through a link.
    symlink(dir.join("hist.jsonl"), dir.join("links/hist")).unwrap();
    let r = s.run(&["history", "--history", "links/hist", "import", "hist.jsonl"]);
    assert_sane(&r, true);
    assert_eq!(r.code, 2, "{}", r.what);
    assert_eq!(
        snapshot(dir)
            .into_iter()
            .filter(|(p, _)| !p.starts_with(dir.join("links")))
            .collect::<Vec<_>>(),
        before
    );
    assert!(!dir.join("docs/new.md").exists() && !dir.join("docs/sub/new.md").exists());
}

/// `to` relative to the folder `from` (both absolute, no links).
fn pathdiff(to: &Path, from: &Path) -> PathBuf {
    let to: Vec<_> = to.components().collect();
    let from: Vec<_> = from.components().collect();
    let common = to.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c);
    }
    out
}

/// (b) Special files as outputs are written in place and stay what they
/// are: a FIFO with a reader, and (as root) a null device made here, never
/// the real `/dev/null`.
#[cfg(unix)]
#[test]
fn special_outputs_stay_special() {
    use std::os::unix::fs::FileTypeExt;
    let s = Scratch::new();
    let dir = s.path();
    fs::write(
        dir.join("set.toml"),
        "[budget]\ntotal = 50\n[[items]]\nid = \"a\"\ntext = \"x\"\n",
    )
    .unwrap();
    let fifo = dir.join("out.fifo");
    abuse_support::mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(fifo).unwrap())
    };
    let r = s.run(&["pack", "set.toml", "--json", "-o", "out.fifo"]);
    assert_sane(&r, false);
    assert_eq!(r.code, 0, "{}", r.stderr_text());
    let got = reader.join().unwrap();
    serde_json::from_slice::<Value>(&got).unwrap();
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let node = dir.join("null");
        let c = std::ffi::CString::new(node.to_str().unwrap()).unwrap();
        // SAFETY: a valid path; 1:3 is the null device.
        let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
        if made == 0 {
            std::os::unix::fs::symlink(&node, dir.join("null-link")).unwrap();
            for out in ["null", "null-link"] {
                let r = s.run(&["pack", "set.toml", "--json", "-o", out]);
                assert_sane(&r, false);
                assert_eq!(r.code, 0, "{}", r.stderr_text());
                let r = s.run(&[
                    "pack",
                    "set.toml",
                    "--json",
                    "--record",
                    "t",
                    "--record-history",
                    out,
                ]);
                assert_sane(&r, false);
                assert!(fs::metadata(&node).unwrap().file_type().is_char_device());
            }
        }
    }
}

/// (e)(f) Numbers at and past every edge, in every strategy and overflow
/// mode: exit 0 or 2, never a panic; counts past the limit say so.
#[test]
fn numeric_edges_never_panic() {
    let values = [
        "0",
        "1",
        "-1",
        "-0.0",
        "0.5",
        "1e308",
        "-1e308",
        "nan",
        "inf",
        "-inf",
        "8999999999999999",
        "9000000000000000",
        "9007199254740993",
        "9223372036854775807",
        "1.0e15",
    ];
    let strategies = ["greedy", "strict", "density", "optimal", "balanced"];
    let overflows = ["drop", "truncate", "degrade", "priority-cut"];
    let s = Scratch::new();
    let mut rng = Rng::new(11);
    for k in 0..40 {
        let (total, tokens, share, prio, min) = (
            *rng.pick(&values),
            *rng.pick(&values),
            *rng.pick(&values),
            *rng.pick(&values),
            *rng.pick(&values),
        );
        let t = format!(
            "[budget]\ntotal = {total}\nstrategy = \"{}\"\noverflow = \"{}\"\n[[sections]]\nname = \"a\"\nshare = {share}\nmin = {min}\n[[sections]]\nname = \"b\"\nshare = 10\n[[items]]\nid = \"x\"\nsection = \"a\"\ntokens = {tokens}\npriority = {prio}\n[[items]]\nid = \"y\"\nsection = \"b\"\ntext = \"lorem ipsum\"\npinned = true\n",
            rng.pick(&strategies),
            rng.pick(&overflows),
        );
        let name = format!("n{k}.toml");
        fs::write(s.path().join(&name), &t).unwrap();
        let r = s.run(&["pack", &name, "--json", "--optimal-deadline", "200ms"]);
        assert_sane(&r, false);
        assert!(r.code == 0 || r.code == 2, "{}", r.what);
        if r.code == 0 {
            r.json();
        }
        let r = s.run(&["check", &name, "--optimal-deadline", "200ms"]);
        assert_sane(&r, true);
    }
    for big in ["9000000000000000", "9223372036854775807", "1e300"] {
        fs::write(
            s.path().join("big.toml"),
            format!("[budget]\ntotal = {big}\n"),
        )
        .unwrap();
        let r = s.run(&["pack", "big.toml"]);
        assert_eq!(r.code, 2);
        assert!(
            r.stderr_text().contains("is too large"),
            "{}",
            r.stderr_text()
        );
    }
    for budget in ["18446744073709551615", "0", "1"] {
        fs::write(
            s.path().join("ok.toml"),
            "[[items]]\nid = \"a\"\ntext = \"x\"\n",
        )
        .unwrap();
        for strategy in strategies {
            let r = s.run(&[
                "pack",
                "ok.toml",
                "--budget",
                budget,
                "--reserve-output",
                budget,
                "--strategy",
                strategy,
                "--format",
                "text",
            ]);
            assert_sane(&r, true);
        }
    }
}

/// (f) Seeded mutations of real inputs through every loader in process:
/// an error or an item set, never a panic.
#[test]
fn mutated_inputs_never_panic_a_loader() {
    use tokenscope::input::detect::{InputFormat, LoadOptions, load_text};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let seeds: Vec<(PathBuf, String, InputFormat)> = vec![
        (root.join("docs/docs.toml"), fs::read_to_string(root.join("docs/docs.toml")).unwrap(), InputFormat::Toml),
        (root.join("agent-memory/memory.toml"), fs::read_to_string(root.join("agent-memory/memory.toml")).unwrap(), InputFormat::Toml),
        (root.join("chat/agent.json"), fs::read_to_string(root.join("chat/agent.json")).unwrap(), InputFormat::ChatRequest),
        (root.join("requests/anthropic.json"), fs::read_to_string(root.join("requests/anthropic.json")).unwrap(), InputFormat::AnthropicRequest),
        (root.join("requests/responses.json"), fs::read_to_string(root.join("requests/responses.json")).unwrap(), InputFormat::ResponsesRequest),
        (root.join("requests/gemini.json"), fs::read_to_string(root.join("requests/gemini.json")).unwrap(), InputFormat::GeminiRequest),
        (root.join("x.json"), r#"{"budget":{"total":100},"sections":[{"name":"a","share":100}],"items":[{"id":"a","section":"a","text":"hello"}]}"#.into(), InputFormat::Json),
        (root.join("x.md"), "---\nbudget: 100\nheading_level: 2\n---\n# T\n\n<!-- priority: 0.3 pinned -->\n## A\n\ntext\n\n<!-- id: x tags: a,b -->\n## B\n\n```\ncode\n```\n".into(), InputFormat::Markdown),
        (root.join("x.jsonl"), "{\"id\":\"a\",\"text\":\"x\",\"score\":0.5}\n{\"id\":\"b\",\"text\":\"y\",\"score\":1}\n".into(), InputFormat::Jsonl),
        (root.join("llms.txt"), "# P\n\n> s\n\n## Docs\n\n- [a](https://x/a): d\n\n## Optional\n\n- [b](https://x/b)\n".into(), InputFormat::LlmsTxt),
        (root.join("llms-full.txt"), "# P\n\n> s\n\n## One\n\ntext\n\n## Two\n\nmore\n".into(), InputFormat::LlmsFull),
    ];
    let options = LoadOptions::default();
    let mut rng = Rng::new(2026);
    for (path, text, format) in &seeds {
        for _ in 0..150 {
            let mutated = mutate(&mut rng, text);
            let loaded = std::panic::catch_unwind(|| {
                let _ = load_text(path, &mutated, *format, &options);
            });
            assert!(
                loaded.is_ok(),
                "{format:?} panicked on {:?}",
                mutated.escape_debug().to_string()
            );
        }
    }
}

/// One to four edits: cut at a random place, put a hostile piece in, copy
/// a span elsewhere, or change a character.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut s = text.to_string();
    for _ in 0..1 + rng.below(4) {
        let at = s.floor_char_boundary(rng.below(s.len() + 1));
        match rng.below(4) {
            0 => s.truncate(at),
            1 => s.insert_str(at, abuse_support::nasty(rng)),
            2 => {
                let end = s.floor_char_boundary((at + rng.below(64)).min(s.len()));
                let span = s[at..end].to_string();
                let to = s.floor_char_boundary(rng.below(s.len() + 1));
                s.insert_str(to, &span);
            }
            _ => {
                if let Some(c) = s[at..].chars().next() {
                    let with = *rng.pick(&[
                        '"', '[', ']', '{', '}', '=', '\n', '-', '#', '<', '0', '\u{1b}',
                    ]);
                    s.replace_range(at..at + c.len_utf8(), &with.to_string());
                }
            }
        }
    }
    s
}

/// (c)(f) Mutated inputs through the CLI: the message on stderr is escaped.
#[test]
fn mutated_inputs_get_clean_messages() {
    let s = Scratch::new();
    let mut rng = Rng::new(77);
    let base = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/agent-memory/memory.toml"),
    )
    .unwrap();
    let json =
        r#"{"budget":{"total":100},"items":[{"id":"a","text":"hello"},{"id":"b","text":"world"}]}"#;
    for k in 0..16 {
        let (name, text) = if k % 2 == 0 {
            (format!("m{k}.toml"), mutate(&mut rng, &base))
        } else {
            (format!("m{k}.json"), mutate(&mut rng, json))
        };
        fs::write(s.path().join(&name), &text).unwrap();
        let r = s.run(&["pack", &name, "--format", "text"]);
        assert_sane(&r, true);
    }
}

/// History files and task names from strangers: report, predict, import.
#[test]
fn hostile_histories() {
    let s = Scratch::new();
    let mut rng = Rng::new(31);
    let types: Vec<String> = (0..3)
        .map(|k| hostile(&mut rng, &format!("type{k}")))
        .collect();
    let mut lines = String::new();
    for k in 0..40 {
        let mut rec = json!({
            "time": format!("2026-01-{:02}T{:02}:00:00Z", 1 + k % 28, k % 24),
            "task": hostile(&mut rng, "T"),
            "type": rng.pick(&types),
            "complexity": rng.below(101),
            "tags": [hostile(&mut rng, "tag")],
            "allocated": 1 + rng.below(100_000),
            "used": rng.below(120_000),
            "outcome": *rng.pick(&["success", "failure", "partial"]),
            "model": hostile(&mut rng, "model"),
            "agent": hostile(&mut rng, "agent"),
        });
        if rng.chance(15) {
            // At the limit: figures must saturate, not overflow.
            rec["allocated"] = json!(9_000_000_000_000_000u64);
            rec["used"] = json!(9_000_000_000_000_000u64);
        }
        lines += &rec.to_string();
        lines.push('\n');
    }
    fs::write(s.path().join("h.jsonl"), &lines).unwrap();
    fs::write(
        s.path().join("bad.jsonl"),
        format!("{lines}{{\"time\": \"\u{1b}[2J\"}}\nnot json \u{9b}2J\n"),
    )
    .unwrap();
    for file in ["h.jsonl", "bad.jsonl"] {
        for args in [
            vec!["report"],
            vec!["report", "--format", "md"],
            vec!["report", "--by", "week"],
        ] {
            let mut a = vec!["history", "--history", file];
            a.extend(args);
            assert_sane(&s.run(&a), true);
        }
        let r = s.run(&["history", "--history", file, "report", "--json"]);
        assert_sane(&r, false);
        if r.code == 0 {
            r.json();
        }
        for t in &types {
            let agent = hostile(&mut rng, "a");
            let r = s.run(&[
                "predict",
                "--history",
                file,
                "--type",
                t,
                "--complexity",
                "50",
                "--agent",
                &agent,
                "--tags",
                "x,\u{1b}[2J",
            ]);
            assert_sane(&r, true);
            let r = s.run(&[
                "predict",
                "--history",
                file,
                "--type",
                t,
                "--complexity",
                "50",
                "--json",
            ]);
            assert_sane(&r, false);
            if r.code == 0 {
                r.json();
            }
        }
    }
    // Past the limit: refused with the line, never an overflow.
    let mut first: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    first["allocated"] = json!(u64::MAX);
    let huge = format!("{first}\n{lines}");
    fs::write(s.path().join("huge.jsonl"), huge).unwrap();
    for args in [
        vec!["history", "--history", "huge.jsonl", "report"],
        vec![
            "predict",
            "--history",
            "huge.jsonl",
            "--type",
            "t",
            "--complexity",
            "5",
        ],
    ] {
        let r = s.run(&args);
        assert_sane(&r, true);
        assert_eq!(r.code, 2, "{}", r.what);
        assert!(r.stderr_text().contains("too large"), "{}", r.stderr_text());
    }
    fs::write(
        s.path().join("one.toml"),
        "[[items]]\nid = \"a\"\ntext = \"x\"\n",
    )
    .unwrap();
    let r = s.run(&[
        "pack",
        "one.toml",
        "--budget",
        "18446744073709551615",
        "--json",
        "--record",
        "t",
        "--record-history",
        "rec.jsonl",
    ]);
    assert_sane(&r, false);
    assert_eq!(r.code, 2, "{}", r.what);
    let r = s.run(&["history", "--history", "new.jsonl", "import", "bad.jsonl"]);
    assert_sane(&r, true);
    let r = s.run(&[
        "history",
        "--history",
        "new.jsonl",
        "import",
        "h.jsonl",
        "--map",
        "task=\u{1b}]0;x\u{7},type=type",
    ]);
    assert_sane(&r, true);
    let r = s.run(&[
        "history",
        "--history",
        "new2.jsonl",
        "record",
        "--task",
        &hostile(&mut rng, "t"),
        "--type",
        &types[0],
        "--complexity",
        "10",
        "--allocated",
        "100",
        "--used",
        "50",
    ]);
    assert_sane(&r, true);
    assert_eq!(r.code, 0, "{}", r.stderr_text());
}

/// Models files from strangers: hostile names, aliases and providers are
/// listed escaped, carried exactly in JSON, and usable by name.
#[test]
fn hostile_models_files() {
    let s = Scratch::new();
    let mut rng = Rng::new(61);
    let mut t = String::new();
    let mut names = Vec::new();
    for k in 0..4 {
        let name = hostile(&mut rng, &format!("m{k}"));
        t += &format!(
            "[[models]]\nname = {}\naliases = [{}]\nprovider = {}\nencoding = \"o200k_base\"\ncontext_window = 1000\n\n",
            toml_str(&name),
            toml_str(&hostile(&mut rng, &format!("alias{k}"))),
            toml_str(&hostile(&mut rng, "prov")),
        );
        names.push(name);
    }
    fs::write(s.path().join("models.toml"), &t).unwrap();
    fs::write(s.path().join("t.md"), "hello world").unwrap();
    let r = s.run(&["models", "--models-file", "models.toml"]);
    assert_sane(&r, true);
    assert_eq!(r.code, 0, "{}", r.stderr_text());
    let r = s.run(&["models", "--models-file", "models.toml", "--json"]);
    assert_sane(&r, false);
    let listed = r.json().to_string();
    for name in &names {
        assert!(
            listed.contains(&serde_json::to_string(name).unwrap()),
            "{name:?} not in the JSON"
        );
        let r = s.run(&[
            "count",
            "--models-file",
            "models.toml",
            "--model",
            name,
            "t.md",
        ]);
        assert_sane(&r, true);
        assert_eq!(r.code, 0, "{}: {}", r.what, r.stderr_text());
        let r = s.run(&[
            "pack",
            "t.md",
            "--models-file",
            "models.toml",
            "--model",
            name,
            "--format",
            "text",
        ]);
        assert_sane(&r, true);
    }
    let r = s.run(&[
        "count",
        "--models-file",
        "models.toml",
        "--model",
        "\u{1b}]0;nope\u{7}",
        "t.md",
    ]);
    assert_sane(&r, true);
    assert_eq!(r.code, 2);
}

/// (e) Many sections (an item set or a Markdown file with tens of
/// thousands of headings) stay fast: reallocation was quadratic in the
/// number of sections (60,000 sections took about 11 s in a debug build,
/// now under 1 s).
#[test]
fn many_sections_stay_fast() {
    let s = Scratch::new();
    let mut t = String::from("[budget]\ntotal = 100000000\n");
    for k in 0..60_000 {
        t += &format!("[[sections]]\nname = \"s{k}\"\n");
    }
    t += "[[items]]\nid = \"a\"\nsection = \"s0\"\ntext = \"x\"\n";
    fs::write(s.path().join("wide.toml"), t).unwrap();
    let r = s.run(&["pack", "wide.toml", "--json"]);
    assert_sane(&r, false);
    assert_eq!(r.code, 0, "{}", r.stderr_text());
    assert!(
        r.elapsed < std::time::Duration::from_secs(8),
        "60,000 sections took {:?}",
        r.elapsed
    );
}

/// The checks can fail: the packed context (byte-exact by design) holds the
/// raw escapes, and the human-output check catches them; a coloured run
/// passes only once its own SGR sequences are removed.
#[test]
fn the_checks_catch_what_they_look_for() {
    let s = Scratch::new();
    fs::write(
        s.path().join("raw.toml"),
        "[[items]]\nid = \"a\"\ntext = \"x\\u001B]0;pwned\\u0007y\"\n",
    )
    .unwrap();
    let r = s.run(&["pack", "raw.toml", "--budget", "100", "--format", "context"]);
    assert_sane(&r, false);
    assert!(String::from_utf8_lossy(&r.stdout).contains("\u{1b}]0;pwned\u{7}"));
    assert!(std::panic::catch_unwind(|| assert_sane(&r, true)).is_err());
    let r = s.run(&[
        "pack", "raw.toml", "--budget", "100", "--format", "text", "--color", "always",
    ]);
    assert!(r.stdout.contains(&0x1b), "no colour was written");
    abuse_support::assert_sane_colored(&r);
}
