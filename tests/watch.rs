//! Watching and reloading: atomic saves, deletes and re-creates, bursts of
//! saves, invalid files mid-edit, directories, and cached recounting.
//!
//! Each test waits (up to a generous timeout) for the expected state; no
//! assertion depends on a fixed sleep.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokenscope::engine::ItemSet;
use tokenscope::input::{LoadOptions, load_paths};
use tokenscope::tokens::{CountCache, Encoding, Tokenizer};
use tokenscope::watch::{ReloadOutcome, Reloader, WatchEvent, Watcher};

const DEBOUNCE: Duration = Duration::from_millis(20);
const TIMEOUT: Duration = Duration::from_secs(20);

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    file: PathBuf,
    reloader: Reloader,
    watcher: Watcher,
    events: Receiver<WatchEvent>,
}

fn setup(content: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let file = root.join("prompt.md");
    std::fs::write(&file, content).unwrap();
    let paths = vec![file.clone()];
    let options = LoadOptions::default();
    let mut reloader = Reloader::new(paths.clone(), options.clone());
    assert_eq!(reloader.load(), ReloadOutcome::Reloaded);
    let (watcher, events) = Watcher::with_channel(&paths, &options, DEBOUNCE).unwrap();
    Setup {
        _dir: dir,
        root,
        file,
        reloader,
        watcher,
        events,
    }
}

impl Setup {
    /// Feeds watch events to the reloader until `done` holds or the timeout
    /// passes; returns whether it held.
    fn wait_until(&mut self, mut done: impl FnMut(&Reloader) -> bool) -> bool {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if done(&self.reloader) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match self
                .events
                .recv_timeout(left.min(Duration::from_millis(200)))
            {
                Ok(WatchEvent::Changed(paths)) => {
                    self.reloader.reload(&paths);
                }
                Ok(WatchEvent::Error(e)) => panic!("watcher error: {e}"),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    /// The item set loaded fresh from the file as it is now.
    fn fresh(&self) -> ItemSet {
        load_paths(std::slice::from_ref(&self.file), &LoadOptions::default()).unwrap()
    }

    /// Waits until the reloader's set equals a fresh load of the file.
    fn wait_for_current_file(&mut self) {
        let want = self.fresh();
        let ok = self.wait_until(|r| r.current() == Some(&want) && r.error().is_none());
        assert!(
            ok,
            "the reloaded set never matched the file; current items: {:?}; error: {:?}",
            self.reloader.current().map(|s| s
                .items
                .iter()
                .map(|i| i.text().to_string())
                .collect::<Vec<_>>()),
            self.reloader.error().map(ToString::to_string)
        );
    }
}

fn texts(set: &ItemSet) -> Vec<&str> {
    set.items.iter().map(|i| i.text()).collect()
}

#[test]
fn atomic_rename_over_the_file() {
    let mut s = setup("## A\n\nold text\n");
    let tmp = s.root.join(".prompt.md.tmp");
    std::fs::write(&tmp, "## A\n\nnew text\n\nmore\n").unwrap();
    std::fs::rename(&tmp, &s.file).unwrap();
    s.wait_for_current_file();
    assert_eq!(texts(s.reloader.current().unwrap()), ["new text", "more"]);
}

#[test]
fn delete_then_recreate() {
    let mut s = setup("## A\n\nfirst\n");
    let generation = s.reloader.generation();
    std::fs::remove_file(&s.file).unwrap();
    assert!(
        s.wait_until(|r| r.error().is_some()),
        "the delete was not reported"
    );
    // The last good set stays current.
    assert_eq!(texts(s.reloader.current().unwrap()), ["first"]);
    assert_eq!(s.reloader.generation(), generation);

    std::fs::write(&s.file, "## A\n\nsecond\n").unwrap();
    s.wait_for_current_file();
    assert_eq!(texts(s.reloader.current().unwrap()), ["second"]);
    assert!(s.reloader.generation() > generation);
}

#[test]
fn burst_of_saves_ends_with_the_last_content() {
    let mut s = setup("## A\n\nstart\n");
    for n in 0..100 {
        let body = format!("## A\n\nsave {n}\n\n{}\n", "word ".repeat(n % 7));
        if n % 3 == 0 {
            // Some saves are atomic renames, the others in-place writes.
            let tmp = s.root.join(format!("prompt.md.{n}.tmp"));
            std::fs::write(&tmp, body).unwrap();
            std::fs::rename(&tmp, &s.file).unwrap();
        } else {
            std::fs::write(&s.file, body).unwrap();
        }
    }
    s.wait_for_current_file();
    let set = s.reloader.current().unwrap();
    assert_eq!(set.items[0].text(), "save 99");
}

#[test]
fn invalid_mid_edit_keeps_the_last_good_set_then_recovers() {
    let mut s = setup("---\ntotal: 1000\n---\n## A\n\ngood\n");
    std::fs::write(&s.file, "---\ntotal: lots\n---\n## A\n\nhalf-edited\n").unwrap();
    assert!(s.wait_until(|r| r.error().is_some()), "no error reported");
    let e = s.reloader.error().unwrap();
    assert_eq!((e.line(), e.column()), (Some(2), Some(8)), "{e}");
    assert!(
        e.to_string().contains("expected a token count for `total`"),
        "{e}"
    );
    let kept = s.reloader.current().unwrap();
    assert_eq!(texts(kept), ["good"]);
    assert_eq!(kept.budget.total, Some(1000));

    std::fs::write(&s.file, "---\ntotal: 2000\n---\n## A\n\nfixed\n").unwrap();
    s.wait_for_current_file();
    assert!(s.reloader.error().is_none());
    assert_eq!(s.reloader.current().unwrap().budget.total, Some(2000));
}

#[test]
fn only_changed_items_are_recounted() {
    let paragraphs: Vec<String> = (0..50)
        .map(|i| format!("Paragraph {i} says something about topic {i}."))
        .collect();
    let mut s = setup(&format!("## A\n\n{}\n", paragraphs.join("\n\n")));
    let tokenizer = Tokenizer::Exact(Encoding::Cl100kBase);
    let cache = CountCache::new();
    let count_all = |set: &ItemSet| -> usize {
        let texts: Vec<&str> = set.items.iter().map(|i| i.text()).collect();
        cache.count_many(&tokenizer, &texts).iter().sum()
    };
    count_all(s.reloader.current().unwrap());
    assert_eq!(cache.tokenized(), 50);

    let mut edited = paragraphs.clone();
    edited[17] = "Paragraph 17 now says something else entirely.".to_string();
    std::fs::write(&s.file, format!("## A\n\n{}\n", edited.join("\n\n"))).unwrap();
    s.wait_for_current_file();
    let total = count_all(s.reloader.current().unwrap());
    assert_eq!(
        cache.tokenized(),
        51,
        "only the edited item is tokenized again"
    );
    let expected: usize = edited.iter().map(|p| tokenizer.count(p)).sum();
    assert_eq!(total, expected);
}

#[test]
fn unrelated_files_in_the_folder_are_not_reported() {
    let s = setup("## A\n\ntext\n");
    std::fs::write(s.root.join("other.md"), "unrelated").unwrap();
    std::fs::write(s.root.join("prompt.md.swp"), "editor state").unwrap();
    std::fs::write(&s.file, "## A\n\nchanged\n").unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let mut reported = Vec::new();
    while Instant::now() < deadline && !reported.contains(&s.file) {
        if let Ok(WatchEvent::Changed(paths)) = s.events.recv_timeout(Duration::from_millis(200)) {
            reported.extend(paths);
        }
    }
    assert!(reported.contains(&s.file), "the change was not reported");
    assert!(reported.iter().all(|p| p == &s.file), "{reported:?}");
}

#[test]
fn tracked_files_elsewhere_are_reported() {
    let mut s = setup("## A\n\ntext\n");
    let elsewhere = tempfile::tempdir().unwrap();
    let doc = std::fs::canonicalize(elsewhere.path())
        .unwrap()
        .join("doc.md");
    std::fs::write(&doc, "v1").unwrap();
    s.watcher.track_files(vec![doc.clone()]).unwrap();
    std::fs::write(&doc, "v2").unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let mut seen = false;
    while Instant::now() < deadline && !seen {
        if let Ok(WatchEvent::Changed(paths)) = s.events.recv_timeout(Duration::from_millis(200)) {
            seen = paths.contains(&doc);
        }
    }
    assert!(seen, "a change to a tracked file was not reported");
    // Tracking nothing stops reporting it.
    s.watcher.track_files(Vec::new()).unwrap();
    assert_eq!(s.reloader.reload(&[doc]), ReloadOutcome::Unaffected);
}

fn dir_setup() -> (
    tempfile::TempDir,
    PathBuf,
    Reloader,
    Watcher,
    Receiver<WatchEvent>,
) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join(".gitignore"), "*.log\nbuild/\n").unwrap();
    std::fs::write(root.join("src/a.rs"), "fn a() {}\n").unwrap();
    // Ignored and hidden folders, which get no watches.
    std::fs::create_dir_all(root.join("build/cache")).unwrap();
    std::fs::create_dir_all(root.join(".cache/x")).unwrap();
    let paths = vec![root.clone()];
    let options = LoadOptions::default();
    let mut reloader = Reloader::new(paths.clone(), options.clone());
    assert_eq!(reloader.load(), ReloadOutcome::Reloaded);
    let (watcher, events) = Watcher::with_channel(&paths, &options, DEBOUNCE).unwrap();
    (dir, root, reloader, watcher, events)
}

#[test]
fn directories_are_watched_recursively_with_ignore_rules() {
    let (_dir, root, mut reloader, watcher, events) = dir_setup();
    assert_eq!(watcher.watched_folders(), [root.clone(), root.join("src")]);
    std::fs::write(root.join("debug.log"), "noise").unwrap();
    std::fs::create_dir_all(root.join("build")).unwrap();
    std::fs::write(root.join("build/out.rs"), "noise").unwrap();
    std::fs::create_dir_all(root.join("src/deep")).unwrap();
    std::fs::write(root.join("src/deep/b.rs"), "fn b() {}\n").unwrap();

    let deadline = Instant::now() + TIMEOUT;
    let mut reported: Vec<PathBuf> = Vec::new();
    let has = |r: &Reloader, id: &str| {
        r.current()
            .is_some_and(|s| s.items.iter().any(|i| i.id == id))
    };
    while Instant::now() < deadline && !has(&reloader, "src/deep/b.rs") {
        if let Ok(WatchEvent::Changed(paths)) = events.recv_timeout(Duration::from_millis(200)) {
            reloader.reload(&paths);
            reported.extend(paths);
        }
    }
    assert!(
        has(&reloader, "src/deep/b.rs"),
        "the new file was not loaded"
    );
    let ignored = [root.join("debug.log"), root.join("build/out.rs")];
    assert!(
        reported
            .iter()
            .all(|p| !ignored.contains(p) && !p.starts_with(root.join("build"))),
        "{reported:?}"
    );
    let ids: Vec<&str> = reloader
        .current()
        .unwrap()
        .items
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(ids, ["src/a.rs", "src/deep/b.rs"]);
    // The new folder is watched: a file created in it later is seen too.
    assert!(watcher.watched_folders().contains(&root.join("src/deep")));
    std::fs::write(root.join("src/deep/c.rs"), "fn c() {}\n").unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline && !has(&reloader, "src/deep/c.rs") {
        if let Ok(WatchEvent::Changed(paths)) = events.recv_timeout(Duration::from_millis(200)) {
            reloader.reload(&paths);
        }
    }
    assert!(
        has(&reloader, "src/deep/c.rs"),
        "a file in the new folder was not seen"
    );
    assert!(!watcher.watched_folders().contains(&root.join("build")));
}

#[test]
fn directory_files_deleted_are_dropped() {
    let (_dir, root, mut reloader, _watcher, events) = dir_setup();
    std::fs::remove_file(root.join("src/a.rs")).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let empty = |r: &Reloader| r.current().is_some_and(|s| s.items.is_empty());
    while Instant::now() < deadline && !empty(&reloader) {
        if let Ok(WatchEvent::Changed(paths)) = events.recv_timeout(Duration::from_millis(200)) {
            reloader.reload(&paths);
        }
    }
    assert!(empty(&reloader), "the deleted file is still loaded");
    assert!(reloader.error().is_none());
}

#[test]
fn reloads_only_touched_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let a = root.join("a.md");
    let b = root.join("b.jsonl");
    std::fs::write(&a, "alpha\n").unwrap();
    std::fs::write(&b, "{\"text\": \"beta\"}\n").unwrap();
    let mut reloader = Reloader::new(vec![a.clone(), b.clone()], LoadOptions::default());
    assert_eq!(reloader.load(), ReloadOutcome::Reloaded);
    assert_eq!(
        reloader.reload(&[root.join("c.md")]),
        ReloadOutcome::Unaffected
    );

    // Break b; a change to a alone reloads a and merges b's last good load.
    std::fs::write(&b, "{broken\n").unwrap();
    std::fs::write(&a, "alpha two\n").unwrap();
    assert_eq!(
        reloader.reload(std::slice::from_ref(&a)),
        ReloadOutcome::Reloaded
    );
    assert_eq!(texts(reloader.current().unwrap()), ["alpha two", "beta"]);
    assert_eq!(
        reloader.reload(std::slice::from_ref(&b)),
        ReloadOutcome::Failed
    );
    let e = reloader.error().unwrap();
    assert_eq!(e.path(), Some(Path::new(&b)));
    assert_eq!(texts(reloader.current().unwrap()), ["alpha two", "beta"]);
}

/// Feeds watch events to `reloader` until `done` holds or the timeout passes;
/// returns whether it held. Every reported path is added to `reported`.
fn pump(
    reloader: &mut Reloader,
    events: &Receiver<WatchEvent>,
    reported: &mut Vec<PathBuf>,
    timeout: Duration,
    mut done: impl FnMut(&Reloader) -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done(reloader) {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        match events.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok(WatchEvent::Changed(paths)) => {
                reloader.reload(&paths);
                reported.extend(paths);
            }
            Ok(WatchEvent::Error(e)) => panic!("watcher error: {e}"),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

/// Whether the current set is one item with exactly `text`.
fn holds(text: &str) -> impl Fn(&Reloader) -> bool + '_ {
    move |r: &Reloader| {
        r.error().is_none()
            && r.current()
                .is_some_and(|s| s.items.len() == 1 && s.items[0].text().trim() == text)
    }
}

/// A watcher and reloader over one input, and the paths reported so far.
struct Follow {
    reloader: Reloader,
    _watcher: Watcher,
    events: Receiver<WatchEvent>,
    reported: Vec<PathBuf>,
}

impl Follow {
    /// Pumps events until `done` holds or `timeout` passes.
    fn until(&mut self, timeout: Duration, done: impl FnMut(&Reloader) -> bool) -> bool {
        pump(
            &mut self.reloader,
            &self.events,
            &mut self.reported,
            timeout,
            done,
        )
    }

    /// Pumps events until the input's one item holds `text`.
    fn sees(&mut self, text: &str) -> bool {
        self.until(TIMEOUT, holds(text))
    }
}

/// A watcher and reloader over `input` (a folder or a file).
fn follow(input: &Path) -> Follow {
    let paths = vec![input.to_path_buf()];
    let options = LoadOptions::default();
    let mut reloader = Reloader::new(paths.clone(), options.clone());
    assert_eq!(reloader.load(), ReloadOutcome::Reloaded);
    let (watcher, events) = Watcher::with_channel(&paths, &options, DEBOUNCE).unwrap();
    Follow {
        reloader,
        _watcher: watcher,
        events,
        reported: Vec::new(),
    }
}

#[test]
fn a_watched_folder_deleted_and_recreated_is_watched_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let d = root.join("d4");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("p.md"), "alpha\n").unwrap();
    let mut f = follow(&d);

    // Deleted, then re-created a moment later.
    std::fs::remove_dir_all(&d).unwrap();
    assert!(
        f.until(TIMEOUT, |r| r.error().is_some()),
        "the deleted folder was not f.reported"
    );
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("p.md"), "beta\n").unwrap();
    assert!(f.sees("beta"));
    // The new folder is watched: later edits are seen.
    std::fs::write(d.join("p.md"), "gamma\n").unwrap();
    assert!(f.sees("gamma"));

    // Deleted and re-created at once (the new folder may get the old one's
    // inode number).
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("p.md"), "delta\n").unwrap();
    assert!(f.sees("delta"));
    std::fs::write(d.join("p.md"), "epsilon\n").unwrap();
    assert!(f.sees("epsilon"));
    assert!(
        f.reported.iter().all(|p| p.starts_with(&d)),
        "{:?}",
        f.reported
    );
}

#[test]
fn a_watched_folder_renamed_away_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let d = root.join("d4");
    let away = root.join("d4r");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("p.md"), "alpha\n").unwrap();
    let mut f = follow(&d);

    std::fs::rename(&d, &away).unwrap();
    assert!(
        f.until(TIMEOUT, |r| r.error().is_some()),
        "the folder renamed away was not f.reported"
    );
    assert!(f.reloader.error().unwrap().to_string().contains("d4"));
    // Edits under the new name are not the input: nothing is f.reported.
    let before = f.reported.len();
    std::fs::write(away.join("p.md"), "edited away\n").unwrap();
    f.until(Duration::from_millis(500), |_| false);
    assert_eq!(f.reported.len(), before, "{:?}", f.reported);
    assert_eq!(texts(f.reloader.current().unwrap()), ["alpha\n"]);

    // Renamed back: watched again, with what it holds now.
    std::fs::rename(&away, &d).unwrap();
    assert!(f.sees("edited away"));
    std::fs::write(d.join("p.md"), "back home\n").unwrap();
    assert!(f.sees("back home"));
    // Only the path given is ever f.reported, never the folder's other name.
    assert!(
        f.reported.iter().all(|p| p.starts_with(&d)),
        "{:?}",
        f.reported
    );
}

#[test]
fn a_watched_files_folder_deleted_recreated_or_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let d = root.join("d");
    let file = d.join("p.md");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(&file, "alpha\n").unwrap();
    let mut f = follow(&file);

    // The folder deleted, then re-created.
    std::fs::remove_dir_all(&d).unwrap();
    assert!(f.until(TIMEOUT, |r| r.error().is_some()));
    std::fs::create_dir(&d).unwrap();
    std::fs::write(&file, "beta\n").unwrap();
    assert!(f.sees("beta"));
    // An editor's atomic save in the new folder.
    let tmp = d.join(".p.md.swp");
    std::fs::write(&tmp, "gamma\n").unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    assert!(f.sees("gamma"));

    // Deleted and re-created at once.
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::create_dir(&d).unwrap();
    std::fs::write(&file, "delta\n").unwrap();
    assert!(f.sees("delta"));

    // Renamed away (an error, edits there ignored) and back.
    let away = root.join("dr");
    std::fs::rename(&d, &away).unwrap();
    assert!(f.until(TIMEOUT, |r| r.error().is_some()));
    std::fs::write(away.join("p.md"), "edited away\n").unwrap();
    f.until(Duration::from_millis(500), |_| false);
    assert_eq!(texts(f.reloader.current().unwrap()), ["delta"]);
    std::fs::rename(&away, &d).unwrap();
    assert!(f.sees("edited away"));
    std::fs::write(&file, "epsilon\n").unwrap();
    assert!(f.sees("epsilon"));
    assert!(f.reported.iter().all(|p| p == &file), "{:?}", f.reported);
}

#[test]
fn a_grandparent_deleted_and_recreated_is_followed_down() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let top = root.join("a");
    let file = top.join("b/c/p.md");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "alpha\n").unwrap();
    let mut f = follow(&file);
    std::fs::remove_dir_all(&top).unwrap();
    assert!(f.until(TIMEOUT, |r| r.error().is_some()));
    // Re-created one level at a time, with pauses the watcher sees.
    std::fs::create_dir(&top).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    std::fs::create_dir(top.join("b")).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    std::fs::create_dir(top.join("b/c")).unwrap();
    std::fs::write(&file, "beta\n").unwrap();
    assert!(f.sees("beta"));
    std::fs::write(&file, "gamma\n").unwrap();
    assert!(f.sees("gamma"));
}
