//! The loaders on fixture files, detection, merging, errors, and property
//! tests that no input makes a loader panic.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use tokenscope::engine::{ItemSet, Kind, Overflow, SectionBudget};
use tokenscope::input::{
    self, GitRecency, InputError, InputFormat, JsonlFields, LoadOptions, directory, jsonl,
    llms_txt, load_path, load_paths, markdown,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inputs")
        .join(name)
}

fn load(name: &str) -> ItemSet {
    load_path(&fixture(name), &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn load_err(name: &str) -> InputError {
    match load_path(&fixture(name), &LoadOptions::default()) {
        Ok(_) => panic!("{name} loaded without error"),
        Err(e) => e,
    }
}

fn ids(set: &ItemSet) -> Vec<&str> {
    set.items.iter().map(|i| i.id.as_str()).collect()
}

fn shares(set: &ItemSet) -> Vec<f64> {
    set.sections
        .iter()
        .map(|s| match s.budget {
            SectionBudget::Share(x) => x,
            SectionBudget::Tokens(_) => f64::NAN,
        })
        .collect()
}

/// Structural invariants every loader keeps.
fn check_invariants(set: &ItemSet) {
    let mut seen = HashSet::new();
    for item in &set.items {
        assert!(seen.insert(item.id.clone()), "duplicate id {}", item.id);
        assert!(
            set.sections.iter().any(|s| s.name == item.section),
            "item {} in unknown section {}",
            item.id,
            item.section
        );
        assert!(item.priority.is_finite());
    }
    let mut names = HashSet::new();
    for s in &set.sections {
        assert!(names.insert(s.name.clone()), "duplicate section {}", s.name);
    }
}

#[test]
fn markdown_prompt_file() {
    let set = load("prompt.md");
    check_invariants(&set);
    let text = std::fs::read_to_string(fixture("prompt.md")).unwrap();

    assert_eq!(set.budget.total, Some(4000));
    assert_eq!(set.budget.model.as_deref(), Some("gpt-4o"));
    assert_eq!(set.budget.strategy, tokenscope::engine::Strategy::Greedy);
    assert_eq!(set.budget.overflow, Overflow::Truncate);
    assert_eq!(set.budget.reserve_output, 512);

    let names: Vec<_> = set.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Support assistant", "Rules", "Examples", "Context"]);
    assert_eq!(shares(&set), [10.0, 40.0, 40.0, 10.0]);
    assert_eq!(set.sections[1].title.as_deref(), Some("## Rules"));

    assert_eq!(
        ids(&set),
        [
            "support-assistant/1",
            "rules/1",
            "rules/2",
            "rules/3",
            "auth-example",
            "examples/2",
            "context/1"
        ]
    );
    for item in &set.items {
        assert!(text.contains(item.text()), "{} is not a slice", item.id);
    }
    let by_id = |id: &str| set.items.iter().find(|i| i.id == id).unwrap();
    assert!(by_id("rules/1").pinned);
    assert_eq!(
        by_id("rules/1").text(),
        "Never invent endpoints. If you do not know, say so."
    );
    assert_eq!(by_id("rules/3").priority, 0.4);
    assert_eq!(by_id("rules/3").category.as_deref(), Some("style"));
    assert!(by_id("rules/3").text().starts_with("### Tone\n\nFriendly"));
    let code = by_id("auth-example");
    assert_eq!(code.kind, Some(Kind::Code));
    assert_eq!(code.group.as_deref(), Some("example-1"));
    assert!(code.text().starts_with("```http\n") && code.text().ends_with("```"));
    assert_eq!(by_id("examples/2").kind, Some(Kind::Prose));
    assert_eq!(set.sources, vec![fixture("prompt.md")]);
    assert_eq!(set.warnings.len(), 1, "{:?}", set.warnings);
    assert!(set.warnings[0].contains("front matter keys ignored: title"));
}

#[test]
fn text_file_without_extension_is_paragraphs() {
    let set = load("notes");
    check_invariants(&set);
    assert_eq!(ids(&set), ["preamble/1", "preamble/2"]);
    assert_eq!(set.items[1].text(), "They are read as text.");
}

#[test]
fn llms_txt_file() {
    let set = load("llms.txt");
    check_invariants(&set);
    let names: Vec<_> = set.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["header", "Docs", "Optional"]);
    assert_eq!(
        ids(&set),
        [
            "title",
            "summary",
            "header/3",
            "quick-start",
            "authentication",
            "errors",
            "changelog"
        ]
    );
    assert!(
        set.items
            .iter()
            .filter(|i| i.section == "header")
            .all(|i| i.pinned)
    );
    assert_eq!(
        set.items[4].text(),
        "Authentication (https://acme.dev/auth.md): Keys, scopes and rotation"
    );
    assert_eq!(set.items[5].text(), "Errors (https://acme.dev/errors.md)");
    assert_eq!(set.items[6].priority, llms_txt::OPTIONAL_PRIORITY);
    assert_eq!(set.items[6].meta["url"], "https://acme.dev/changelog.md");
}

#[test]
fn llms_full_txt_file() {
    let set = load("llms-full.txt");
    check_invariants(&set);
    let names: Vec<_> = set.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["header", "Quick start", "Optional"]);
    assert_eq!(
        ids(&set),
        ["header/1", "quick-start/1", "quick-start/2", "optional/1"]
    );
    assert!(set.items[0].pinned);
    assert_eq!(
        set.items[0].text(),
        "# Acme API\n\n> Acme is a payments API."
    );
    assert!(set.items[2].text().starts_with("### First call\n\n"));
    assert_eq!(set.items[3].priority, llms_txt::OPTIONAL_PRIORITY);
}

#[test]
fn jsonl_results() {
    let set = load("results.jsonl");
    check_invariants(&set);
    assert_eq!(set.sections.len(), 1);
    assert_eq!(set.sections[0].name, jsonl::DEFAULT_SECTION);
    assert_eq!(ids(&set), ["doc-17#2", "doc-03#1", "doc-44#5"]);
    let priorities: Vec<f64> = set.items.iter().map(|i| i.priority).collect();
    assert_eq!(priorities, [0.91, 0.72, 0.35]);
    assert_eq!(set.items[2].meta["source"], "webhooks.md");
}

#[test]
fn json_extension_is_sniffed() {
    let set = load("chunks.json");
    assert_eq!(ids(&set), ["retrieved/1", "retrieved/2"]);
    let chat = load("chat.json");
    assert!(
        chat.chat.is_some(),
        "a `.json` with `messages` is a chat request"
    );
    assert_eq!(ids(&chat), ["m0-user", "reply"]);
}

#[test]
fn detection_by_name_extension_and_content() {
    let d = |name: &str| input::detect::detect(&fixture(name)).unwrap();
    assert_eq!(d("prompt.md"), InputFormat::Markdown);
    assert_eq!(d("llms.txt"), InputFormat::LlmsTxt);
    assert_eq!(d("llms-full.txt"), InputFormat::LlmsFull);
    assert_eq!(d("results.jsonl"), InputFormat::Jsonl);
    assert_eq!(d("chunks.json"), InputFormat::Jsonl);
    assert_eq!(d("notes"), InputFormat::Markdown);
    assert_eq!(d("invalid"), InputFormat::Directory);
    assert_eq!(d("chat.json"), InputFormat::ChatRequest);
}

#[test]
fn forced_format() {
    // llms.txt read as a plain Markdown file.
    let options = LoadOptions {
        format: Some(InputFormat::Markdown),
        ..LoadOptions::default()
    };
    let set = load_path(&fixture("llms.txt"), &options).unwrap();
    assert_eq!(set.sections[0].name, "Acme API");
    assert!(!set.items[0].pinned);

    let options = LoadOptions {
        format: Some(InputFormat::Directory),
        ..LoadOptions::default()
    };
    let e = load_path(&fixture("llms.txt"), &options).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("is a file; `--input directory` expects a directory"),
        "{e}"
    );

    let options = LoadOptions {
        format: Some(InputFormat::Jsonl),
        ..LoadOptions::default()
    };
    let e = load_path(&fixture("invalid"), &options).unwrap_err();
    assert!(
        e.to_string().contains("`--input jsonl` expects a file"),
        "{e}"
    );
}

#[test]
fn native_item_sets_are_handed_to_the_item_set_loader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("set.toml");
    std::fs::write(&path, "[budget]\ntotal = 10\n").unwrap();
    match load_path(&path, &LoadOptions::default()) {
        // Connected: the item-set loader reads it.
        Ok(set) => assert_eq!(set.budget.total, Some(10)),
        // Not connected in this build: a clear error about the file.
        Err(e) => {
            assert_eq!(e.path(), Some(path.as_path()));
            assert!(e.to_string().contains("TOML item sets"), "{e}");
        }
    }
}

#[test]
fn several_paths_merge() {
    let set = load_paths(
        &[
            fixture("prompt.md"),
            fixture("results.jsonl"),
            fixture("notes"),
        ],
        &LoadOptions::default(),
    )
    .unwrap();
    check_invariants(&set);
    let names: Vec<_> = set.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Support assistant",
            "Rules",
            "Examples",
            "Context",
            "retrieved",
            "preamble"
        ]
    );
    let total: f64 = shares(&set).iter().sum();
    assert!((total - 100.0).abs() < 1e-9, "{total}");
    assert_eq!(set.budget.total, Some(4000));
    assert_eq!(set.items.len(), 7 + 3 + 2);
    assert_eq!(set.sources.len(), 3);

    // The same file twice: loaded once.
    let twice = load_paths(
        &[fixture("notes"), fixture("notes")],
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(twice.items.len(), 2);
    assert!(
        twice
            .warnings
            .iter()
            .any(|w| w.contains("given more than once"))
    );

    // Colliding ids get the file stem.
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.md");
    std::fs::write(&other, "first\n\nsecond\n").unwrap();
    let set = load_paths(&[fixture("notes"), other], &LoadOptions::default()).unwrap();
    assert_eq!(
        ids(&set),
        [
            "preamble/1",
            "preamble/2",
            "other/preamble/1",
            "other/preamble/2"
        ]
    );
    assert_eq!(set.sections.len(), 1);

    let e = load_paths(&[], &LoadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("expected at least one file"), "{e}");
}

#[test]
fn errors_name_file_line_and_column() {
    let cases = [
        (
            "invalid/bad_strategy.md",
            3,
            11,
            "unknown strategy `fastest`; expected one of: greedy, strict, density, optimal, balanced",
        ),
        (
            "invalid/bad_directive.md",
            5,
            16,
            "expected a number for `priority`, found `high`",
        ),
        (
            "invalid/bad_score.jsonl",
            2,
            28,
            "expected `score` to be a number, found `high`",
        ),
        (
            "invalid/bad_json.jsonl",
            2,
            12,
            "expected a JSON object on this line: expected `,` or `}`",
        ),
        (
            "invalid/bad_split.md",
            3,
            9,
            "`split` names section `Rules`, which the file does not have; expected one of: Other",
        ),
    ];
    for (name, line, column, message) in cases {
        let e = load_err(name);
        let expected = format!("{}:{line}:{column}: {message}", fixture(name).display());
        assert_eq!(e.to_string(), expected);
        assert_eq!((e.line(), e.column()), (Some(line), Some(column)));
    }

    let e = load_err("missing.md");
    assert!(matches!(e, InputError::Io { .. }));
    assert!(e.to_string().contains("missing.md: cannot read"), "{e}");
}

#[test]
fn binary_and_non_utf8_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("blob.md");
    std::fs::write(&bin, b"abc\0def").unwrap();
    let e = load_path(&bin, &LoadOptions::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("binary content (a NUL byte at offset 3)"),
        "{e}"
    );

    let latin = dir.path().join("latin.md");
    std::fs::write(&latin, b"ok\ncaf\xe9\n").unwrap();
    let e = load_path(&latin, &LoadOptions::default()).unwrap_err();
    assert_eq!((e.line(), e.column()), (Some(2), Some(4)), "{e}");

    let bom = dir.path().join("bom.md");
    std::fs::write(&bom, "\u{feff}hello\n").unwrap();
    let set = load_path(&bom, &LoadOptions::default()).unwrap();
    assert_eq!(set.items[0].text(), "hello");
}

fn write(root: &Path, rel: &str, content: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "README.md", b"# Project\n");
    write(root, "Cargo.toml", b"[package]\n");
    write(root, "src/lib.rs", b"pub fn f() {}\n");
    write(root, "src/deep/mod.rs", b"mod x;\n");
    write(root, "tests/it.rs", b"#[test] fn t() {}\n");
    write(root, "docs/guide.md", b"Guide\n");
    write(root, "docs/logo.png", b"\x89PNG\r\n\x1a\n\0\0\0");
    write(root, "docs/latin.txt", b"caf\xe9");
    write(root, ".gitignore", b"target/\n*.log\n");
    write(root, "target/debug/out.rs", b"generated\n");
    write(root, "run.log", b"log\n");
    write(root, ".secret/key.txt", b"hidden\n");
    write(root, ".env", b"A=1\n");
    dir
}

#[test]
fn directory_each_file_an_item() {
    let dir = project();
    let set = load_path(dir.path(), &LoadOptions::default()).unwrap();
    check_invariants(&set);
    assert_eq!(
        ids(&set),
        [
            "Cargo.toml",
            "README.md",
            "docs/guide.md",
            "src/deep/mod.rs",
            "src/lib.rs",
            "tests/it.rs"
        ]
    );
    let names: Vec<_> = set.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [directory::ROOT_SECTION, "docs", "src", "tests"]);
    assert_eq!(shares(&set), [25.0; 4]);
    let kinds: Vec<_> = set.items.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            Some(Kind::Config),
            Some(Kind::Docs),
            Some(Kind::Docs),
            Some(Kind::Code),
            Some(Kind::Code),
            Some(Kind::Test)
        ]
    );
    assert_eq!(set.items[4].text(), "pub fn f() {}\n");
    assert_eq!(
        set.items[4].path.as_deref(),
        Some(dir.path().join("src/lib.rs").as_path())
    );
    assert_eq!(set.warnings.len(), 2, "{:?}", set.warnings);
    assert!(
        set.warnings
            .iter()
            .any(|w| w.contains("logo.png: skipped: binary file"))
    );
    assert!(
        set.warnings
            .iter()
            .any(|w| w.contains("latin.txt: skipped: not UTF-8 text"))
    );
}

/// A folder full of compiled files (`__pycache__`, images) names the first
/// few it skips and counts the rest in one line, so the report stays
/// readable; an unreadable file is always named.
#[test]
fn directory_names_the_first_skipped_files_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.py"), "print('hi')\n").unwrap();
    std::fs::create_dir(dir.path().join("cache")).unwrap();
    for i in 0..15 {
        std::fs::write(dir.path().join(format!("cache/m{i:02}.pyc")), b"\x00\x01").unwrap();
    }
    std::fs::write(dir.path().join("latin.txt"), b"caf\xe9\n").unwrap();
    let set = load_path(dir.path(), &LoadOptions::default()).unwrap();
    let binary: Vec<_> = set
        .warnings
        .iter()
        .filter(|w| w.contains("binary file"))
        .collect();
    assert_eq!(binary.len(), 4, "{:?}", set.warnings);
    assert!(binary[0].contains("m00.pyc: skipped: binary file"));
    assert!(binary[2].contains("m02.pyc: skipped: binary file"));
    assert!(
        binary[3].ends_with(": skipped 12 more files: binary file"),
        "{}",
        binary[3]
    );
    assert!(
        set.warnings
            .iter()
            .any(|w| w.contains("latin.txt: skipped: not UTF-8 text"))
    );
    assert_eq!(set.items.len(), 1);
}

#[test]
fn directory_globs_priorities_hidden_and_size() {
    let dir = project();
    let options = LoadOptions {
        include: vec!["*.rs".into(), "*.md".into()],
        exclude: vec!["tests/**".into()],
        priority_rules: vec![
            ("src/lib.rs".into(), 5.0),
            ("src/**".into(), 2.0),
            ("*.md".into(), 0.5),
        ],
        ..LoadOptions::default()
    };
    let set = load_path(dir.path(), &options).unwrap();
    assert_eq!(
        ids(&set),
        [
            "README.md",
            "docs/guide.md",
            "src/deep/mod.rs",
            "src/lib.rs"
        ]
    );
    let priorities: Vec<f64> = set.items.iter().map(|i| i.priority).collect();
    assert_eq!(priorities, [0.5, 0.5, 2.0, 5.0]);

    let options = LoadOptions {
        hidden: true,
        max_file_bytes: 9,
        include: vec![".env".into(), ".secret/**".into(), "src/**".into()],
        ..LoadOptions::default()
    };
    let set = load_path(dir.path(), &options).unwrap();
    assert_eq!(ids(&set), [".env", ".secret/key.txt", "src/deep/mod.rs"]);
    assert!(
        set.warnings
            .iter()
            .any(|w| w.contains("lib.rs: skipped: 14 bytes is over the 9-byte limit")),
        "{:?}",
        set.warnings
    );

    let bad = LoadOptions {
        exclude: vec!["a{b".into()],
        ..LoadOptions::default()
    };
    let e = load_path(dir.path(), &bad).unwrap_err();
    assert!(
        e.to_string().starts_with("invalid --exclude glob `a{b`"),
        "{e}"
    );
}

fn git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn directory_git_recency() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let options = LoadOptions {
        git_recency: Some(GitRecency {
            commits: 3,
            boost: 1.0,
        }),
        ..LoadOptions::default()
    };
    write(root, "a.txt", b"a\n");
    // Not a repository (yet): skipped with a warning.
    let set = load_path(root, &options).unwrap();
    assert_eq!(set.items[0].priority, 1.0);
    assert!(
        set.warnings
            .iter()
            .any(|w| w.contains("recency priority skipped")),
        "{:?}",
        set.warnings
    );

    if !git(root, &["init", "-q"]) {
        eprintln!("git is not available; the rest of this test is skipped");
        return;
    }
    write(root, "b.txt", b"b\n");
    write(root, "c.txt", b"c\n");
    assert!(git(root, &["add", "a.txt"]) && git(root, &["commit", "-qm", "a"]));
    assert!(git(root, &["add", "b.txt"]) && git(root, &["commit", "-qm", "b"]));
    assert!(git(root, &["add", "c.txt"]) && git(root, &["commit", "-qm", "c"]));
    write(root, "d.txt", b"d\n"); // untracked: an uncommitted change
    let set = load_path(root, &options).unwrap();
    assert!(set.warnings.is_empty(), "{:?}", set.warnings);
    let priorities: Vec<(String, f64)> = set
        .items
        .iter()
        .map(|i| (i.id.clone(), i.priority))
        .collect();
    assert_eq!(
        priorities,
        [
            ("a.txt".to_string(), 1.25),
            ("b.txt".to_string(), 1.5),
            ("c.txt".to_string(), 1.75),
            ("d.txt".to_string(), 2.0)
        ]
    );
}

#[test]
fn jsonl_field_names_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hits.ndjson");
    std::fs::write(&path, "{\"key\": \"k1\", \"body\": \"b1\", \"rel\": 0.3}\n").unwrap();
    let options = LoadOptions {
        jsonl_fields: JsonlFields {
            id: "key".into(),
            text: "body".into(),
            score: "rel".into(),
        },
        jsonl_section: "hits".into(),
        ..LoadOptions::default()
    };
    let set = load_path(&path, &options).unwrap();
    assert_eq!(ids(&set), ["k1"]);
    assert_eq!(set.items[0].section, "hits");
    assert_eq!(set.items[0].priority, 0.3);
    let e = load_path(&path, &LoadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("expected a `text` field"), "{e}");
}

// ---- property tests: no input makes a loader panic ----

/// Random edits of a seed text: inserts, deletes and replacements.
fn mutated(seed: &'static str) -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "#",
        "## ",
        "\n",
        "\n\n",
        "<!--",
        "-->",
        "---\n",
        "+++\n",
        "```",
        "- [",
        "](",
        "): ",
        ">",
        "|",
        "{",
        "}",
        "\"",
        ":",
        "=",
        "priority: ",
        "pinned",
        "id: x",
        "\r",
        "\u{feff}",
        "é",
        "\t",
        "split: ",
        "total: ",
        "[budget]",
        "*",
        "1. ",
    ]);
    prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, pieces), 0..12).prop_map(
        move |edits| {
            let mut s = seed.to_string();
            for (at, op, piece) in edits {
                let mut i = at.index(s.len() + 1);
                while !s.is_char_boundary(i) {
                    i -= 1;
                }
                match op {
                    0 => s.insert_str(i, piece),
                    1 => {
                        let mut end = (i + piece.len()).min(s.len());
                        while !s.is_char_boundary(end) {
                            end -= 1;
                        }
                        s.replace_range(i..end, "");
                    }
                    _ => {
                        let mut end = (i + 1).min(s.len());
                        while !s.is_char_boundary(end) {
                            end += 1;
                        }
                        s.replace_range(i..end, piece);
                    }
                }
            }
            s
        },
    )
}

const MD_SEED: &str = include_str!("fixtures/inputs/prompt.md");
const LLMS_SEED: &str = include_str!("fixtures/inputs/llms.txt");
const JSONL_SEED: &str = include_str!("fixtures/inputs/results.jsonl");

fn text_input() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[#>\\-*+`|<!\\[\\]():=\"{} \n\ta-z0-9]{0,200}"
    ]
}

/// A loaded item set's texts are exact slices of the input.
fn check_slices(set: &ItemSet, text: &str) {
    for item in &set.items {
        assert!(
            text.contains(item.text()),
            "{:?} is not a slice of the input",
            item.id
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn markdown_never_panics(text in prop_oneof![text_input(), mutated(MD_SEED)], level in 1u8..=6) {
        let options = LoadOptions { heading_level: Some(level), ..LoadOptions::default() };
        if let Ok(set) = markdown::parse(Path::new("p.md"), &text, &options) {
            check_invariants(&set);
            check_slices(&set, &text);
        }
    }

    #[test]
    fn llms_txt_never_panics(text in prop_oneof![text_input(), mutated(LLMS_SEED)]) {
        if let Ok(set) = llms_txt::parse(Path::new("llms.txt"), &text, &LoadOptions::default()) {
            check_invariants(&set);
        }
        if let Ok(set) = llms_txt::parse_full(Path::new("llms-full.txt"), &text, &LoadOptions::default()) {
            check_invariants(&set);
            check_slices(&set, &text);
        }
    }

    #[test]
    fn jsonl_never_panics(text in prop_oneof![text_input(), mutated(JSONL_SEED)]) {
        match jsonl::parse(Path::new("r.jsonl"), &text, &LoadOptions::default()) {
            Ok(set) => check_invariants(&set),
            Err(e) => {
                let line = e.line().expect("content errors have a line");
                prop_assert!(line >= 1 && line <= text.split('\n').count());
            }
        }
    }

    #[test]
    fn any_file_content_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300), name in prop::sample::select(vec!["x", "x.json", "x.md", "llms.txt", "x.jsonl"])) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let _ = input::detect::detect(&path);
        let _ = load_path(&path, &LoadOptions::default());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn directories_never_panic(files in prop::collection::vec((
        "[a-c.]{1,3}(/[a-c.]{1,3}){0,2}".prop_filter("stays inside", |r| r.split('/').all(|c| c != "." && c != "..")),
        prop::collection::vec(any::<u8>(), 0..40),
    ), 0..8)) {
        let dir = tempfile::tempdir().unwrap();
        let mut written = 0;
        for (rel, content) in &files {
            let path = dir.path().join(rel);
            if path.parent().is_some_and(|p| std::fs::create_dir_all(p).is_ok())
                && std::fs::write(&path, content).is_ok()
            {
                written += 1;
            }
        }
        let set = load_path(dir.path(), &LoadOptions { hidden: true, ..LoadOptions::default() }).unwrap();
        check_invariants(&set);
        prop_assert!(set.items.len() <= written);
    }
}
