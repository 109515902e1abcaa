//! Safe on untrusted files: no write lands on an input (by path, link, hard
//! link or folder), special files and links are written in place or
//! through, new files follow the umask, every read stops at its size limit,
//! and concurrent profile saves keep every profile.
#![cfg(unix)]

mod tui_support;

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokenscope::input::profile::{ProfileSettings, ProjectConfig, save_profile};
use tokenscope::tui::testing::Action;
use tui_support::{code, key, real_app, screen, settle};

const BIN: &str = env!("CARGO_BIN_EXE_tokenscope");

/// A copy of `samples/docs` in a temporary folder, as `docs/`.
fn docs_copy() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let dest = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &dest);
            } else {
                fs::copy(entry.path(), dest).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(Path::new("samples/docs"), &dir.path().join("docs"));
    dir
}

/// Runs the binary in `dir`.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs the binary under a memory limit and a timeout, so that a reader
/// without a bound fails the test instead of exhausting the machine.
fn run_bounded(dir: &Path, args: &[&str], stdin: Stdio) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new("timeout")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args([
            "60",
            "sh",
            "-c",
            "ulimit -v 4194304; exec \"$0\" \"$@\"",
            BIN,
        ])
        .args(args)
        .stdin(stdin)
        .output()
        .unwrap();
    (out, start.elapsed())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A file's bytes, modification time and inode.
fn snapshot(path: &Path) -> (Vec<u8>, SystemTime, u64) {
    let meta = fs::symlink_metadata(path).unwrap();
    let bytes = if meta.file_type().is_symlink() {
        fs::read_link(path).unwrap().as_os_str().as_bytes().to_vec()
    } else {
        fs::read(path).unwrap()
    };
    (bytes, meta.modified().unwrap(), meta.ino())
}

/// `args` must exit 2 naming `output` and `input`, and leave `kept` as it was.
fn refused(dir: &Path, args: &[&str], output: &str, input: &str, kept: &[&str]) {
    let before: Vec<_> = kept.iter().map(|k| snapshot(&dir.join(k))).collect();
    let out = run(dir, args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.contains(&format!("refusing to write {output}")),
        "{err}"
    );
    assert!(err.contains(input), "{err}");
    for (k, b) in kept.iter().zip(before) {
        assert_eq!(snapshot(&dir.join(k)), b, "{k} changed");
    }
}

#[test]
fn output_onto_the_item_set_is_refused() {
    let dir = docs_copy();
    for cmd in ["pack", "check"] {
        refused(
            dir.path(),
            &[cmd, "docs/docs.toml", "-o", "docs/docs.toml"],
            "docs/docs.toml",
            "it is the input docs/docs.toml",
            &["docs/docs.toml"],
        );
    }
    // Through `..`: the same file.
    refused(
        dir.path(),
        &["pack", "docs/docs.toml", "-o", "docs/header/../docs.toml"],
        "docs/header/../docs.toml",
        "docs/docs.toml",
        &["docs/docs.toml"],
    );
}

#[test]
fn output_onto_a_file_an_item_points_to_is_refused() {
    let dir = docs_copy();
    refused(
        dir.path(),
        &["pack", "docs/docs.toml", "-o", "docs/header/system.md"],
        "docs/header/system.md",
        "it is the input docs/header/system.md",
        &["docs/header/system.md", "docs/docs.toml"],
    );
}

#[test]
fn output_inside_a_folder_input_is_refused() {
    let dir = docs_copy();
    let args = ["pack", "docs/concepts", "--budget", "5000", "-o"];
    refused(
        dir.path(),
        &[&args[..], &["docs/concepts/errors.md"]].concat(),
        "docs/concepts/errors.md",
        "inside the input folder docs/concepts",
        &["docs/concepts/errors.md"],
    );
    // A new file there would be read back as an item: refused too, not made.
    refused(
        dir.path(),
        &[&args[..], &["docs/concepts/sub/report.md"]].concat(),
        "docs/concepts/sub/report.md",
        "inside the input folder docs/concepts",
        &[],
    );
    assert!(!dir.path().join("docs/concepts/sub").exists());
    // Beside the folder is fine.
    let out = run(dir.path(), &[&args[..], &["docs/report.md"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("docs/report.md").is_file());
}

#[test]
fn output_onto_a_hard_link_or_symlink_of_an_input_is_refused() {
    let dir = docs_copy();
    fs::hard_link(
        dir.path().join("docs/docs.toml"),
        dir.path().join("hard.toml"),
    )
    .unwrap();
    symlink("docs/docs.toml", dir.path().join("soft.toml")).unwrap();
    symlink("docs/header/style.md", dir.path().join("style-link.md")).unwrap();
    for (output, input) in [
        ("hard.toml", "docs/docs.toml"),
        ("soft.toml", "docs/docs.toml"),
        ("style-link.md", "docs/header/style.md"),
    ] {
        refused(
            dir.path(),
            &["pack", "docs/docs.toml", "-o", output],
            output,
            &format!("it is the input {input}"),
            &[
                "docs/docs.toml",
                "hard.toml",
                "soft.toml",
                "style-link.md",
                input,
            ],
        );
    }
    // An input given through a linked folder: writing the real file is
    // refused too.
    symlink("docs", dir.path().join("linked")).unwrap();
    refused(
        dir.path(),
        &["pack", "linked/docs.toml", "-o", "docs/docs.toml"],
        "docs/docs.toml",
        "it is the input linked/docs.toml",
        &["docs/docs.toml"],
    );
}

#[test]
fn other_files_read_are_never_written() {
    let dir = docs_copy();
    fs::write(dir.path().join("models.toml"), "# no models of my own\n").unwrap();
    refused(
        dir.path(),
        &[
            "pack",
            "docs/docs.toml",
            "--models-file",
            "models.toml",
            "-o",
            "models.toml",
        ],
        "models.toml",
        "it is the input models.toml",
        &["models.toml"],
    );
    fs::copy(
        "samples/tokenscope.toml",
        dir.path().join("tokenscope.toml"),
    )
    .unwrap();
    refused(
        dir.path(),
        &["pack", "docs/docs.toml", "-o", "tokenscope.toml"],
        "tokenscope.toml",
        "tokenscope.toml",
        &["tokenscope.toml"],
    );
    // --record appends to the history: never to an input.
    let out = run(
        dir.path(),
        &[
            "pack",
            "docs/docs.toml",
            "--record",
            "docs",
            "--record-history",
            "docs/header/product.md",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--record: refusing to write docs/header/product.md"));
    // Nor may -o replace the history --record appends to.
    fs::write(dir.path().join("history.jsonl"), "").unwrap();
    refused(
        dir.path(),
        &[
            "pack",
            "docs/docs.toml",
            "--record",
            "docs",
            "--record-history",
            "history.jsonl",
            "-o",
            "history.jsonl",
        ],
        "history.jsonl",
        "history.jsonl",
        &["history.jsonl"],
    );
}

/// Makes a FIFO at `path`, with a hard link `path.keep` to it that stays a
/// FIFO whatever happens to `path`.
fn mkfifo(path: &Path) -> std::path::PathBuf {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let keep = path.with_extension("keep");
    fs::hard_link(path, &keep).unwrap();
    keep
}

/// Opens (and closes) the FIFO `keep` from the other end without waiting,
/// so that a thread still blocked opening it (when the binary never did)
/// goes on and the test fails instead of hanging.
fn unblock(keep: &Path, write_end: bool) {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = fs::OpenOptions::new()
        .read(!write_end)
        .write(write_end)
        .custom_flags(libc::O_NONBLOCK)
        .open(keep);
}

#[test]
fn output_to_a_fifo_is_written_in_place() {
    let dir = docs_copy();
    let fifo = dir.path().join("report.fifo");
    let keep = mkfifo(&fifo);
    let reader = {
        let keep = keep.clone();
        std::thread::spawn(move || fs::read_to_string(keep).unwrap())
    };
    let out = run(
        dir.path(),
        &[
            "pack",
            "docs/docs.toml",
            "--format",
            "md",
            "-o",
            "report.fifo",
        ],
    );
    unblock(&keep, true);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = reader.join().unwrap();
    assert!(text.contains("## Summary"), "{text}");
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

/// A character device like `/dev/null` to write to. As root (who could
/// replace the real one if the writer regressed) it is a node of the same
/// device made in `dir`; otherwise the real `/dev/null`, which the process
/// cannot replace.
fn null_device(dir: &Path) -> Option<std::path::PathBuf> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("/dev/null".into());
    }
    let node = dir.join("null");
    let c = CString::new(node.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; 1:3 is the null device.
    let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    (made == 0).then_some(node)
}

#[test]
fn output_to_dev_null_and_dev_stdout_writes_the_stream() {
    let dir = docs_copy();
    match null_device(dir.path()) {
        Some(null) => {
            let out = run(
                dir.path(),
                &["pack", "docs/docs.toml", "-o", null.to_str().unwrap()],
            );
            assert!(out.status.success(), "{}", stderr(&out));
            assert!(fs::metadata(&null).unwrap().file_type().is_char_device());
            assert!(out.stdout.is_empty());
        }
        None => eprintln!("root without mknod: the device part of this test is skipped"),
    }

    let out = run(
        dir.path(),
        &["pack", "docs/docs.toml", "--json", "-o", "/dev/stdout"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], "tokenscope.report/1");
}

#[test]
fn output_through_a_symlink_writes_the_target_and_keeps_the_link() {
    let dir = docs_copy();
    let root = dir.path();
    fs::create_dir(root.join("out")).unwrap();
    fs::write(root.join("out/report.md"), "old").unwrap();
    fs::set_permissions(
        root.join("out/report.md"),
        fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    symlink("out/report.md", root.join("link.md")).unwrap();
    let out = run(root, &["pack", "docs/docs.toml", "-o", "link.md"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        fs::symlink_metadata(root.join("link.md"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let text = fs::read_to_string(root.join("out/report.md")).unwrap();
    assert!(text.contains("## Summary"), "{text}");
    let mode = fs::metadata(root.join("out/report.md")).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o640, "an existing file keeps its mode");

    // A dangling link: its target is made, the link stays.
    symlink("out/new.json", root.join("dangling.json")).unwrap();
    let out = run(root, &["pack", "docs/docs.toml", "-o", "dangling.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        fs::symlink_metadata(root.join("dangling.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::read_to_string(root.join("out/new.json"))
            .unwrap()
            .contains("tokenscope.report/1")
    );
    let leftovers: Vec<_> = fs::read_dir(root.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn new_files_follow_the_umask() {
    let dir = docs_copy();
    for (umask, mode) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
        let name = format!("report-{umask}.md");
        let status = Command::new("sh")
            .current_dir(dir.path())
            .args([
                "-c",
                &format!("umask {umask}; exec \"$0\" pack docs/docs.toml -o {name}"),
                BIN,
            ])
            .stdin(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let got = fs::metadata(dir.path().join(&name)).unwrap().mode() & 0o777;
        assert_eq!(got, mode, "umask {umask}: {got:o}");
    }
}

fn assert_limited(out: &Output, elapsed: Duration, name: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(name)
            && err.contains("larger than the 1 MiB limit; pass --max-file-size to raise it"),
        "{err}"
    );
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
}

#[test]
fn endless_inputs_stop_at_the_limit() {
    let dir = docs_copy();
    let d = dir.path();
    let (out, t) = run_bounded(
        d,
        &[
            "pack",
            "/dev/zero",
            "--budget",
            "100",
            "--max-file-size",
            "1M",
        ],
        Stdio::null(),
    );
    assert_limited(&out, t, "/dev/zero");

    let zero = fs::File::open("/dev/zero").unwrap();
    let (out, t) = run_bounded(
        d,
        &["count", "-", "--max-file-size", "1M"],
        Stdio::from(zero),
    );
    assert_limited(&out, t, "<stdin>");

    let (out, t) = run_bounded(
        d,
        &[
            "history",
            "report",
            "--history",
            "/dev/zero",
            "--max-file-size",
            "1M",
        ],
        Stdio::null(),
    );
    assert_limited(&out, t, "/dev/zero");

    let (out, t) = run_bounded(
        d,
        &[
            "count",
            "docs/docs.toml",
            "--tokenizer-file",
            "/dev/urandom",
            "--max-file-size",
            "1M",
        ],
        Stdio::null(),
    );
    assert_limited(&out, t, "/dev/urandom");

    // A FIFO nobody closes: the read stops at the limit too.
    let keep = mkfifo(&d.join("endless.fifo"));
    let writer = {
        let keep = keep.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = fs::OpenOptions::new().write(true).open(keep).unwrap();
            let chunk = vec![b'a'; 64 * 1024];
            // Until the reader goes away (a broken pipe).
            while f.write_all(&chunk).is_ok() {}
        })
    };
    let (out, t) = run_bounded(
        d,
        &[
            "pack",
            "endless.fifo",
            "--budget",
            "100",
            "--max-file-size",
            "1M",
        ],
        Stdio::null(),
    );
    unblock(&keep, false);
    assert_limited(&out, t, "endless.fifo");
    writer.join().unwrap();
}

#[test]
fn the_limit_applies_to_files_and_can_be_raised() {
    let dir = docs_copy();
    let d = dir.path();
    fs::write(d.join("big.md"), "word ".repeat(300_000)).unwrap(); // 1.5 MB
    let out = run(
        d,
        &["pack", "big.md", "--budget", "100", "--max-file-size", "1M"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("big.md: cannot read: it is larger than the 1 MiB limit"),
        "{}",
        stderr(&out)
    );
    let out = run(d, &["count", "big.md", "--max-file-size", "2M"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Items' files too.
    fs::write(
        d.join("set.toml"),
        "[[items]]\nsection = \"s\"\npath = \"big.md\"\n",
    )
    .unwrap();
    let out = run(
        d,
        &[
            "pack",
            "set.toml",
            "--budget",
            "100",
            "--max-file-size",
            "1M",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("larger than the 1 MiB limit"),
        "{}",
        stderr(&out)
    );

    let out = run(d, &["pack", "big.md", "--max-file-size", "lots"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid size `lots`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn binary_files_an_item_points_to_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("blob.md"), b"GIF89a\0\0\x01").unwrap();
    fs::write(
        dir.path().join("set.toml"),
        "[[items]]\nsection = \"s\"\npath = \"blob.md\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["pack", "set.toml", "--budget", "100"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("binary content (a NUL byte at offset 6)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn concurrent_profile_saves_keep_every_profile() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokenscope.toml");
    fs::write(&file, "# the team's profiles\n[rules]\n\"docs/**\" = 2.0\n").unwrap();
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let file = file.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let settings = ProfileSettings {
                        total: Some(1000 + i),
                        ..ProfileSettings::default()
                    };
                    save_profile(&file, &format!("p{t}-{i}"), &settings).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let config = ProjectConfig::load(&file).unwrap();
    assert_eq!(config.profiles.len(), 50);
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# the team's profiles\n"), "{text}");
    assert!(text.contains("\"docs/**\" = 2.0"), "{text}");
}

#[test]
fn saving_a_profile_through_a_symlink_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("shared")).unwrap();
    let real = dir.path().join("shared/tokenscope.toml");
    fs::write(&real, "# shared\n").unwrap();
    let link = dir.path().join("tokenscope.toml");
    symlink("shared/tokenscope.toml", &link).unwrap();
    let settings = ProfileSettings {
        total: Some(4000),
        ..ProfileSettings::default()
    };
    save_profile(&link, "ci", &settings).unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let text = fs::read_to_string(&real).unwrap();
    assert!(
        text.contains("[profiles.ci]") && text.contains("# shared"),
        "{text}"
    );
}

#[test]
fn the_inspectors_export_refuses_an_input() {
    let dir = docs_copy();
    let set = dir.path().join("docs/docs.toml");
    let item_file = dir.path().join("docs/header/system.md");
    let mut app = real_app(set.to_str().unwrap(), dir.path().join("tokenscope.toml"));
    for target in [&set, &item_file] {
        let before = snapshot(target);
        app.update(Action::Export);
        app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        for c in target.display().to_string().chars() {
            app.on_key(key(c));
        }
        app.on_key(code(KeyCode::Enter));
        assert!(
            app.popup().is_some(),
            "the dialog stays open with the error"
        );
        let s = screen(&app, 200, 30);
        assert!(s.contains("refusing to write"), "{s}");
        assert_eq!(snapshot(target), before);
        app.on_key(code(KeyCode::Esc));
    }
    // Elsewhere works.
    let fine = dir.path().join("report.json");
    app.update(Action::Export);
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    for c in fine.display().to_string().chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup().is_none(), "{:?}", app.popup());
    settle(&mut app);
    assert!(fine.is_file());
}

#[test]
fn items_point_only_to_files_under_the_item_set_or_the_working_folder() {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("repo");
    let set_dir = work.join("prompts");
    fs::create_dir_all(&set_dir).unwrap();
    let secret = root.path().join("secret.txt");
    fs::write(&secret, "the runner's secret token").unwrap();
    fs::write(
        work.join("shared.md"),
        "Shared text under the working folder.",
    )
    .unwrap();
    let item_set = |path: &str| {
        format!(
            "[budget]\ntotal = 1000\n[[sections]]\nname = \"a\"\nshare = 100\n\
             [[items]]\nid = \"x\"\nsection = \"a\"\npath = \"{path}\"\n"
        )
    };
    // Outside both folders, directly, through `..` and through a link.
    symlink(&secret, set_dir.join("link.txt")).unwrap();
    for path in ["../../secret.txt", secret.to_str().unwrap(), "link.txt"] {
        fs::write(set_dir.join("set.toml"), item_set(path)).unwrap();
        let out = run(&work, &["pack", "prompts/set.toml", "--format", "context"]);
        assert_eq!(out.status.code(), Some(2), "{path}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("outside the item set's folder"), "{err}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("secret token"));
    }
    // Under the working folder (a sibling of the item set's folder): fine.
    fs::write(set_dir.join("set.toml"), item_set("../shared.md")).unwrap();
    let out = run(&work, &["pack", "prompts/set.toml", "--format", "context"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Shared text"));
    // Run from a folder that contains the file: the user chose it.
    fs::write(set_dir.join("set.toml"), item_set("../../secret.txt")).unwrap();
    let out = run(
        root.path(),
        &["pack", "repo/prompts/set.toml", "--format", "context"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
