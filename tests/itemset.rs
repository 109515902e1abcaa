//! Native item sets (TOML/JSON), their errors, the samples, and profiles.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::{ProptestConfig, any, prop_assert, prop_assert_eq, prop_oneof, proptest};
use proptest::strategy::Strategy as _;
use tokenscope::engine::{
    Content, ItemSet, Kind, Overflow, ReallocateMode, SectionBudget, Strategy, TruncateSide,
};
use tokenscope::input::LoadErrorKind;
use tokenscope::input::itemset::{self, ItemSetFormat};
use tokenscope::input::profile::{
    self, Overrides, ProfileSettings, ProjectConfig, SectionOverride, SettingsError, apply,
    find_config, parse_split, save_profile,
};

fn valid(name: &str) -> PathBuf {
    Path::new("tests/fixtures/valid").join(name)
}

fn load(path: &Path) -> ItemSet {
    itemset::load(path).unwrap_or_else(|e| panic!("{e}\n{}", e.snippet().unwrap_or_default()))
}

#[test]
fn every_key_of_the_toml_format_loads() {
    let set = load(&valid("full.toml"));
    let b = &set.budget;
    assert_eq!(b.model.as_deref(), Some("gpt-4o"));
    assert_eq!(b.encoding.as_deref(), Some("o200k_base"));
    assert_eq!(b.total, Some(4000));
    assert_eq!(b.reserve_output, 500);
    assert_eq!(b.strategy, Strategy::Strict);
    assert_eq!(b.overflow, Overflow::Truncate);
    assert!(!b.reallocate);
    assert_eq!(b.reallocate_mode, ReallocateMode::Priority);
    assert_eq!(b.reallocate_order, ["body", "head"]);
    assert_eq!(b.min_priority, Some(0.2));
    assert_eq!(b.reserved, 300);
    assert_eq!(b.truncate, TruncateSide::Middle);
    assert_eq!(b.marker, " [cut]");
    assert_eq!(b.priority_cut, 0.4);
    // An input file never sets a command: the key is checked, then ignored
    // with a warning (below).

    let head = &set.sections[0];
    assert_eq!(head.name, "head");
    assert_eq!(head.budget, SectionBudget::Tokens(200));
    assert_eq!((head.min, head.max), (Some(50), Some(400)));
    assert_eq!(head.title.as_deref(), Some("# Head"));
    assert_eq!(head.separator(), "\n---\n");
    assert!(head.can_use_reserve);
    assert_eq!(head.strategy, Some(Strategy::Optimal));
    assert_eq!(head.overflow, Some(Overflow::Degrade));
    assert_eq!(set.sections[1].budget, SectionBudget::Share(60.0));
    assert_eq!(set.sections[1].category_order, ["core", "extra"]);
    // `tail` gives no budget: it gets what `body` leaves of 100%.
    assert_eq!(set.sections[2].budget, SectionBudget::Share(40.0));
    assert_eq!(set.sections[2].separator(), "\n\n");

    let ids: Vec<_> = set.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["intro", "core-1", "body-2", "tail-1"]);
    let intro = &set.items[0];
    assert_eq!(
        intro.content,
        Content::Text(
            "# Welcome\n\nThis file is read through `path`, relative to the item-set file.\n"
                .into()
        )
    );
    assert_eq!(
        intro.path.as_deref(),
        Some(valid("files/intro.md").as_path())
    );
    assert_eq!(intro.priority, 2.5);
    assert_eq!(intro.kind, Some(Kind::Docs));
    assert!(intro.pinned);
    assert_eq!(intro.tags, ["a", "b"]);
    let core = &set.items[1];
    assert_eq!(core.priority, 0.9, "relevance is an alias of priority");
    assert_eq!(core.category.as_deref(), Some("core"));
    assert_eq!(core.level, Some(2));
    assert_eq!(core.group.as_deref(), Some("pair"));
    let meta: BTreeMap<String, serde_json::Value> = serde_json::from_str(
        r#"{"source": "x.md", "chunk": 3, "nested": {"ok": true}, "list": [1, 2.5]}"#,
    )
    .unwrap();
    assert_eq!(core.meta, meta);
    let given = &set.items[2];
    assert_eq!(given.content, Content::Given(120));
    assert_eq!(given.priority, 0.3, "score is an alias of priority");
    assert_eq!(given.kind, Some(Kind::Tool));
    assert_eq!(set.items[3].priority, 1.0);

    assert_eq!(set.sources, [valid("full.toml"), valid("files/intro.md")]);
    assert_eq!(
        set.warnings,
        [format!(
            "the summarizer named in {}:17:1 was ignored: commands from input files are never run; \
             to run it, pass it with --summarizer",
            valid("full.toml").display()
        )]
    );
}

#[test]
fn json_has_the_same_keys_as_toml() {
    let toml = load(&valid("full.toml"));
    let mut json = load(&valid("full.json"));
    assert_eq!(json.sources[0], valid("full.json"));
    json.sources = toml.sources.clone();
    assert_eq!(json.warnings.len(), 1);
    assert!(
        json.warnings[0].starts_with(&format!(
            "the summarizer named in {}:17:5 was ignored",
            valid("full.json").display()
        )),
        "{:?}",
        json.warnings
    );
    json.warnings = toml.warnings.clone();
    assert_eq!(json, toml);
}

#[test]
fn a_minimal_set_gets_a_default_section() {
    let set = load(&valid("minimal.toml"));
    assert_eq!(set.sections.len(), 1);
    assert_eq!(set.sections[0].name, itemset::DEFAULT_SECTION);
    assert_eq!(set.sections[0].budget, SectionBudget::Share(100.0));
    assert_eq!(set.items[0].id, "main-1");
    assert_eq!(set.budget.total, None);
}

/// Every invalid fixture: the kind, the line and column, and words the
/// message must contain.
/// A fixture, the error kind, (line, column), and words of the message.
type InvalidCase = (
    &'static str,
    LoadErrorKind,
    (usize, usize),
    &'static [&'static str],
);

const INVALID: &[InvalidCase] = {
    use LoadErrorKind::*;
    &[
        (
            "unknown_strategy.toml",
            InvalidValue,
            (3, 12),
            &[
                "unknown strategy `gredy`",
                "did you mean `greedy`",
                "greedy, strict, density, optimal, balanced",
            ],
        ),
        (
            "unknown_overflow.toml",
            InvalidValue,
            (4, 12),
            &[
                "unknown overflow `trim`",
                "drop, truncate, degrade, summarize, priority-cut",
            ],
        ),
        (
            "unknown_kind.toml",
            InvalidValue,
            (9, 8),
            &[
                "unknown kind `markdown`",
                "prose, code, test, docs, config, comment, chat, tool",
            ],
        ),
        (
            "share_over_100.toml",
            InvalidValue,
            (3, 9),
            &["`share` in section `a` is above 100", "0 to 100"],
        ),
        (
            "share_negative.toml",
            InvalidValue,
            (3, 9),
            &["`share` in section `a` must not be negative"],
        ),
        (
            "negative_total.toml",
            InvalidValue,
            (2, 9),
            &[
                "`total` in [budget] must not be negative (found -100)",
                "whole number of tokens",
            ],
        ),
        (
            "share_and_tokens.toml",
            Conflict,
            (4, 10),
            &["both `share` and `tokens`"],
        ),
        (
            "undeclared_section.toml",
            UndeclaredReference,
            (11, 11),
            &[
                "section `page`, which is not declared",
                "did you mean `pages`?",
                "declared sections: concepts, pages",
            ],
        ),
        (
            "duplicate_section.toml",
            Duplicate,
            (6, 8),
            &["duplicate section `a` (first declared on line 2)"],
        ),
        (
            "duplicate_id.toml",
            Duplicate,
            (6, 6),
            &["duplicate item id `x` (first used on line 2)"],
        ),
        (
            "missing_section_name.toml",
            MissingKey,
            (5, 1),
            &["section #2 has no `name`"],
        ),
        (
            "unknown_key_budget.toml",
            UnknownKey,
            (3, 1),
            &[
                "unknown key `stratgy` in [budget]",
                "did you mean `strategy`?",
            ],
        ),
        (
            "unknown_key_item.toml",
            UnknownKey,
            (4, 1),
            &["unknown key `pined` in item `x`", "did you mean `pinned`?"],
        ),
        (
            "unknown_top_key.toml",
            UnknownKey,
            (1, 3),
            &["unknown key `item`", "did you mean `items`?"],
        ),
        (
            "no_content.toml",
            MissingKey,
            (1, 1),
            &["item `x` has no content", "`text`", "`path`", "`tokens`"],
        ),
        (
            "text_and_path.toml",
            Conflict,
            (4, 1),
            &["both `text` and `path`"],
        ),
        ("syntax_error.toml", Syntax, (3, 16), &["invalid TOML"]),
        (
            "missing_path.toml",
            LoadErrorKind::Io,
            (3, 8),
            &[
                "item `notes`",
                "`files/does-not-exist.md`",
                "file not found",
            ],
        ),
        (
            "not_utf8_path.toml",
            Encoding,
            (3, 8),
            &[
                "item `menu`",
                "`files/latin1.txt`",
                "not valid UTF-8 (bad byte at offset 3)",
            ],
        ),
        (
            "priority_aliases.toml",
            Conflict,
            (5, 1),
            &["both `priority` and `score`", "aliases"],
        ),
        (
            "negative_priority.toml",
            InvalidValue,
            (4, 12),
            &["`priority` in item `x` must not be negative"],
        ),
        (
            "wrong_type.toml",
            InvalidValue,
            (4, 10),
            &["`pinned` in item `x` must be true or false, found a string"],
        ),
        (
            "missing_item_section.toml",
            MissingKey,
            (9, 1),
            &["item `x` has no `section`", "declared sections: a, b"],
        ),
        (
            "reallocate_order_unknown.toml",
            UndeclaredReference,
            (2, 30),
            &["section `concept`", "did you mean `concepts`?"],
        ),
        (
            "min_over_max.toml",
            InvalidValue,
            (5, 7),
            &["`max` in section `a` (100) is below its `min` (500)"],
        ),
        (
            "reserved_over_total.toml",
            InvalidValue,
            (3, 12),
            &["`reserved` in [budget] (200) is larger than `total` (100)"],
        ),
        (
            "fractional_tokens.toml",
            InvalidValue,
            (3, 10),
            &["whole number of tokens, found 12.5"],
        ),
        (
            "unknown_strategy.json",
            InvalidValue,
            (2, 41),
            &["unknown strategy `optimum`", "did you mean `optimal`?"],
        ),
        (
            "syntax_error.json",
            Syntax,
            (4, 5),
            &["invalid JSON", "expected `,` or `]`"],
        ),
        (
            "duplicate_id.json",
            Duplicate,
            (3, 10),
            &["duplicate item id `x` (first used on line 2)"],
        ),
        (
            "duplicate_key.json",
            Duplicate,
            (2, 13),
            &["duplicate key `total` (first given on line 1)"],
        ),
        (
            "negative_total.json",
            InvalidValue,
            (1, 22),
            &["must not be negative (found -1)"],
        ),
        (
            "undeclared_section.json",
            UndeclaredReference,
            (2, 35),
            &["section `b`, which is not declared", "declared sections: a"],
        ),
        (
            "not_an_object.json",
            InvalidValue,
            (1, 1),
            &["the item set must be a table (an object in JSON), found an array"],
        ),
    ]
};

#[test]
fn invalid_files_name_file_line_column_and_what_was_expected() {
    let dir = Path::new("tests/fixtures/invalid");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = INVALID.iter().map(|c| c.0.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every invalid fixture is checked");

    let mut report = String::new();
    for (name, kind, (line, column), words) in INVALID {
        let path = dir.join(name);
        let err = match itemset::load(&path) {
            Ok(_) => panic!("{name} loaded"),
            Err(e) => e,
        };
        let shown = err.to_string();
        assert_eq!(err.kind, *kind, "{shown}");
        assert_eq!(err.file, path);
        let pos = err
            .position
            .unwrap_or_else(|| panic!("{name}: no position: {shown}"));
        assert_eq!((pos.line, pos.column), (*line, *column), "{shown}");
        assert!(
            shown.starts_with(&format!("{}:{line}:{column}: ", path.display())),
            "{shown}"
        );
        for w in *words {
            assert!(shown.contains(w), "{name}: `{w}` not in: {shown}");
        }
        report.push_str(&format!(
            "{shown}\n{}\n\n",
            err.snippet().unwrap_or_default()
        ));
    }
    insta::assert_snapshot!("invalid_item_sets", report);
}

#[test]
fn a_missing_item_set_file_is_an_io_error_naming_it() {
    let e = itemset::load(Path::new("tests/fixtures/valid/nope.toml")).unwrap_err();
    assert_eq!(e.kind, LoadErrorKind::Io);
    assert_eq!(
        e.to_string(),
        "tests/fixtures/valid/nope.toml: file not found"
    );
}

#[test]
fn loader_warnings_have_positions() {
    let text = r#"
[[sections]]
name = "a"
can_use_reserve = true
category_order = ["core", "ghost"]

[[items]]
id = "x"
section = "a"
category = "core"
text = "  "
"#;
    let set = itemset::parse(text, ItemSetFormat::Toml, Path::new("w.toml")).unwrap();
    assert_eq!(
        set.warnings,
        [
            "w.toml:7:1: item `x` is empty",
            "w.toml:3:8: `category_order` of section `a` names category `ghost`, which none of its items has",
            "w.toml:3:8: section `a` may use the reserve, but [budget] reserved is 0",
        ]
    );
    let empty = itemset::parse("", ItemSetFormat::Toml, Path::new("e.toml")).unwrap();
    assert_eq!(empty.warnings, ["e.toml:1:1: the item set has no items"]);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let json = "[".repeat(100_000);
    assert!(itemset::parse(&json, ItemSetFormat::Json, Path::new("d.json")).is_err());
    let toml = format!("x = {}", "[".repeat(100_000));
    assert!(itemset::parse(&toml, ItemSetFormat::Toml, Path::new("d.toml")).is_err());
    let inline = format!("x = {}", "{a = ".repeat(50_000));
    assert!(itemset::parse(&inline, ItemSetFormat::Toml, Path::new("d.toml")).is_err());
}

// --- samples ------------------------------------------------------------------

fn sample_sets() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir("samples").unwrap() {
        let dir = dir.unwrap().path();
        // samples/chat and samples/requests hold API requests, not item
        // sets.
        if !dir.is_dir() || dir.ends_with("chat") || dir.ends_with("requests") {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if matches!(
                f.extension().and_then(|e| e.to_str()),
                Some("toml" | "json")
            ) {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_sample_loads_without_warnings() {
    let sets = sample_sets();
    assert!(sets.len() >= 3, "{sets:?}");
    for path in sets {
        let set = load(&path);
        assert!(
            set.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            set.warnings
        );
        assert!(!set.items.is_empty(), "{}", path.display());
        for item in &set.items {
            assert!(
                !item.text().trim().is_empty(),
                "{}: {}",
                path.display(),
                item.id
            );
        }
    }
    ProjectConfig::load(Path::new("samples/tokenscope.toml")).unwrap();
}

#[test]
fn the_docs_sample_is_what_the_docs_say() {
    let set = load(Path::new("samples/docs/docs.toml"));
    assert_eq!(set.budget.model.as_deref(), Some("gpt-4o"));
    assert_eq!(set.budget.total, Some(16_000));
    let split: Vec<_> = set
        .sections
        .iter()
        .map(|s| (s.name.as_str(), s.budget))
        .collect();
    assert_eq!(
        split,
        [
            ("header", SectionBudget::Share(10.0)),
            ("concepts", SectionBudget::Share(35.0)),
            ("pages", SectionBudget::Share(25.0)),
            ("examples", SectionBudget::Share(25.0)),
            ("footer", SectionBudget::Share(5.0)),
        ]
    );
    assert!((25..=40).contains(&set.items.len()), "{}", set.items.len());
    assert!(set.items.iter().any(|i| i.section == "header" && i.pinned));
    let concepts = &set.sections[1];
    assert_eq!(concepts.category_order, ["core", "extended"]);
    assert_eq!(set.sections[2].category_order, ["main", "reference"]);
    assert_eq!(set.sections[3].category_order, ["core", "related"]);
    for s in &set.sections[1..4] {
        for cat in &s.category_order {
            assert!(
                set.items
                    .iter()
                    .any(|i| i.section == s.name && i.category.as_deref() == Some(cat.as_str())),
                "{} has no {cat} item",
                s.name
            );
        }
    }
    // More content than fits: something is cut at 16k.
    let chars: usize = set.items.iter().map(|i| i.text().chars().count()).sum();
    assert!(chars / 4 > 16_000, "{chars} characters");
}

#[test]
fn the_agent_memory_sample_uses_absolute_budgets_and_a_reserve() {
    let set = load(Path::new("samples/agent-memory/memory.toml"));
    let names: Vec<_> = set.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "divergence-alerts",
            "high-relevance-clusters",
            "single-space-matches",
            "recent-session"
        ]
    );
    assert!(set.budget.reserved > 0);
    let reserve: Vec<_> = set.sections.iter().map(|s| s.can_use_reserve).collect();
    assert_eq!(reserve, [true, true, false, false]);
    let mut sum = set.budget.reserved;
    for s in &set.sections {
        let SectionBudget::Tokens(n) = s.budget else {
            panic!("{} is not absolute", s.name)
        };
        sum += n;
    }
    assert_eq!(Some(sum), set.budget.total);
}

#[test]
fn the_rag_sample_has_scores_and_a_min_priority() {
    let set = load(Path::new("samples/rag/rag.toml"));
    let min = set.budget.min_priority.unwrap();
    let chunks: Vec<_> = set
        .items
        .iter()
        .filter(|i| i.section == "context")
        .collect();
    assert!(chunks.len() >= 10);
    assert!(chunks.iter().any(|i| i.priority < min));
    assert!(chunks.iter().any(|i| i.priority >= min));
    let names: Vec<_> = set.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["system", "question", "context"]);
}

// --- profiles -----------------------------------------------------------------

#[test]
fn the_sample_profiles_load() {
    let config = ProjectConfig::load(Path::new("samples/tokenscope.toml")).unwrap();
    let ci = config.profile("ci").unwrap();
    assert_eq!(ci.settings.model.as_deref(), Some("gpt-4o"));
    assert_eq!(ci.settings.total, Some(16_000));
    assert_eq!(ci.rules.max_utilization, Some(1.0));
    assert_eq!(
        ci.rules.must_include,
        [
            "system-prompt",
            "authentication",
            "errors",
            "page-shipments"
        ]
    );
    assert_eq!(
        ci.rules.min_included,
        [
            ("concepts".to_string(), 7),
            ("pages".to_string(), 4),
            ("examples".to_string(), 4)
        ]
    );
    let tight = config.profile("tight").unwrap();
    assert_eq!(tight.settings.overflow, Some(Overflow::Degrade));
    assert_eq!(tight.settings.split[1], ("concepts".to_string(), 40.0));
    assert_eq!(tight.settings.sections[0].strategy, Some(Strategy::Optimal));
    assert_eq!(config.priority_rules[0].glob, "**/README.md");
    assert_eq!(config.priority_rules.len(), 4);

    // Every id and section the ci rules name exists in the docs sample.
    let docs = load(Path::new("samples/docs/docs.toml"));
    for id in &ci.rules.must_include {
        assert!(docs.items.iter().any(|i| &i.id == id), "{id}");
    }
    for (s, _) in &ci.rules.min_included {
        assert!(docs.sections.iter().any(|x| &x.name == s), "{s}");
    }

    let e = config.profile("prod").unwrap_err().to_string();
    assert!(e.contains("no profile `prod`"), "{e}");
    assert!(e.contains("available profiles: ci, tight"), "{e}");
}

#[test]
fn the_config_is_found_upward() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("a/b/c");
    std::fs::create_dir_all(&deep).unwrap();
    assert_eq!(find_config(&deep), None);
    std::fs::write(dir.path().join("a/tokenscope.toml"), "").unwrap();
    assert_eq!(
        find_config(&deep),
        Some(dir.path().join("a/tokenscope.toml"))
    );
    let config = ProjectConfig::discover(&deep).unwrap().unwrap();
    assert!(config.profiles.is_empty());
}

#[test]
fn bad_profiles_are_errors_with_positions() {
    let cases = [
        (
            "[profiles.ci]\nstratgy = \"greedy\"\n",
            (2, 1),
            "did you mean `strategy`?",
        ),
        (
            "[profiles.ci]\nmax_utilization = 1.5\n",
            (2, 19),
            "fraction of the total from 0 to 1",
        ),
        (
            "[profiles.ci]\nbudget = 1\ntotal = 2\n",
            (3, 1),
            "both `budget` and `total`",
        ),
        ("[profiles.ci]\nsplit = { a = 120 }\n", (2, 15), "0 to 100"),
        (
            "[profiles.ci.sections.a]\nmin_included = -1\n",
            (2, 16),
            "must not be negative",
        ),
        ("[rules]\n\"src/[\" = 1.0\n", (2, 1), "invalid glob"),
        ("[profile.ci]\n", (1, 2), "did you mean `profiles`?"),
        (
            "[profiles.ci]\nsplit = { a = 10 }\n[profiles.ci.sections.a]\ntokens = 5\n",
            (4, 1),
            "both a share in `split` and `tokens`",
        ),
    ];
    for (text, (line, column), words) in cases {
        let e = ProjectConfig::parse(text, Path::new("tokenscope.toml")).unwrap_err();
        let pos = e.position.unwrap();
        assert_eq!((pos.line, pos.column), (line, column), "{e}");
        assert!(e.to_string().contains(words), "{e}");
    }
}

#[test]
fn flags_win_over_the_profile_which_wins_over_the_item_set() {
    let mut set = load(Path::new("samples/docs/docs.toml"));
    set.budget.encoding = Some("cl100k_base".into());
    let config = ProjectConfig::load(Path::new("samples/tokenscope.toml")).unwrap();
    let tight = config.profile("tight").unwrap();
    let overrides = Overrides {
        budget: Some(9000),
        strategy: Some(Strategy::Density),
        split: parse_split("pages=30").unwrap(),
        ..Overrides::default()
    };
    apply(&mut set, Some(tight), &overrides).unwrap();
    // The profile's model clears the item set's encoding.
    assert_eq!(set.budget.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(set.budget.encoding, None);
    assert_eq!(set.budget.total, Some(9000), "the flag wins");
    assert_eq!(set.budget.strategy, Strategy::Density, "the flag wins");
    assert_eq!(set.budget.overflow, Overflow::Degrade, "from the profile");
    let shares: Vec<_> = set.sections.iter().map(|s| s.budget).collect();
    assert_eq!(
        shares,
        [
            SectionBudget::Share(12.0),
            SectionBudget::Share(40.0),
            SectionBudget::Share(30.0),
            SectionBudget::Share(18.0),
            SectionBudget::Share(5.0)
        ]
    );
    assert_eq!(set.sections[2].strategy, Some(Strategy::Optimal));
    assert!(set.warnings.is_empty(), "{:?}", set.warnings);

    // An encoding flag keeps the model.
    let enc = Overrides {
        encoding: Some("cl100k_base".into()),
        ..Overrides::default()
    };
    apply(&mut set, None, &enc).unwrap();
    assert_eq!(set.budget.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(set.budget.encoding.as_deref(), Some("cl100k_base"));
}

#[test]
fn unknown_sections_in_split_flags_are_errors_and_in_profiles_warnings() {
    let mut set = load(Path::new("samples/rag/rag.toml"));
    let bad = Overrides {
        split: parse_split("contxt=80").unwrap(),
        ..Overrides::default()
    };
    let e = apply(&mut set, None, &bad).unwrap_err();
    assert!(matches!(e, SettingsError::UnknownSection { .. }));
    assert_eq!(
        e.to_string(),
        "--split names section `contxt`, which the item set does not declare; did you mean `context`? declared sections: system, question, context"
    );

    let config = ProjectConfig::load(Path::new("samples/tokenscope.toml")).unwrap();
    apply(
        &mut set,
        config.profile("tight").ok(),
        &Overrides::default(),
    )
    .unwrap();
    assert!(
        set.warnings
            .iter()
            .any(|w| w.contains("profile `tight` sets section `header`")),
        "{:?}",
        set.warnings
    );
}

const COMMENTED: &str = r#"# Project settings for the shop's prompts.

[rules]
"docs/**" = 2.0   # docs first

# The CI gate.
[profiles.ci]
model = "gpt-4o"   # production model
budget = 16000
strategy = "greedy"
max_utilization = 0.95   # keep headroom
must_include = ["system"]

# Exact packing for pages.
[profiles.ci.sections.pages]
strategy = "optimal"   # exact
min_included = 2       # a rule, never rewritten

[profiles.ci.sections.footer]
overflow = "truncate"

# Local experiments.
[profiles.dev]
model = "gpt-4o-mini"
"#;

#[test]
fn saving_a_profile_keeps_comments_and_layout() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokenscope.toml");
    std::fs::write(&file, COMMENTED).unwrap();

    let settings = ProfileSettings {
        model: Some("gpt-4.1".into()),
        total: Some(20_000),
        strategy: Some(Strategy::Density),
        overflow: Some(Overflow::Degrade),
        split: vec![("header".into(), 10.0), ("pages".into(), 42.5)],
        sections: vec![SectionOverride {
            name: "pages".into(),
            strategy: Some(Strategy::Greedy),
            ..SectionOverride::default()
        }],
        ..ProfileSettings::default()
    };
    save_profile(&file, "ci", &settings).unwrap();
    let written = std::fs::read_to_string(&file).unwrap();
    insta::assert_snapshot!("saved_profile", written);
    for kept in [
        "# Project settings for the shop's prompts.",
        "\"docs/**\" = 2.0   # docs first",
        "# The CI gate.",
        "model = \"gpt-4.1\"   # production model",
        "max_utilization = 0.95   # keep headroom",
        "# Exact packing for pages.",
        "strategy = \"greedy\"   # exact",
        "min_included = 2       # a rule, never rewritten",
        "# Local experiments.\n[profiles.dev]\nmodel = \"gpt-4o-mini\"",
    ] {
        assert!(written.contains(kept), "lost `{kept}`:\n{written}");
    }
    assert!(
        !written.contains("truncate"),
        "footer override removed:\n{written}"
    );

    let config = ProjectConfig::load(&file).unwrap();
    let ci = config.profile("ci").unwrap();
    assert_eq!(ci.settings, settings);
    assert_eq!(ci.rules.max_utilization, Some(0.95));
    assert_eq!(ci.rules.min_included, [("pages".to_string(), 2)]);
    assert_eq!(
        config.profile("dev").unwrap().settings.model.as_deref(),
        Some("gpt-4o-mini")
    );

    // A new profile is added; a missing file is created.
    save_profile(&file, "new", &settings).unwrap();
    assert_eq!(
        ProjectConfig::load(&file)
            .unwrap()
            .profile("new")
            .unwrap()
            .settings,
        settings
    );
    let fresh = dir.path().join("sub").join("tokenscope.toml");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    save_profile(&fresh, "ci", &settings).unwrap();
    assert_eq!(
        ProjectConfig::load(&fresh)
            .unwrap()
            .profile("ci")
            .unwrap()
            .settings,
        settings
    );
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["tokenscope.toml"]);
}

#[test]
fn a_broken_settings_file_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokenscope.toml");
    std::fs::write(&file, "[profiles.ci\n").unwrap();
    let e = save_profile(&file, "ci", &ProfileSettings::default()).unwrap_err();
    assert!(e.to_string().contains("invalid TOML"), "{e}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "[profiles.ci\n");
    std::fs::write(&file, "profiles = 3\n").unwrap();
    let e = save_profile(&file, "ci", &ProfileSettings::default()).unwrap_err();
    assert!(e.to_string().contains("`profiles` is not a table"), "{e}");
}

#[test]
fn tuned_settings_round_trip_through_a_saved_profile() {
    let original = load(Path::new("samples/docs/docs.toml"));
    let mut tuned = original.clone();
    tuned.budget.total = Some(12_345);
    tuned.budget.strategy = Strategy::Optimal;
    tuned.sections[2].budget = SectionBudget::Share(100.0 / 3.0);
    tuned.sections[4].budget = SectionBudget::Tokens(300);
    tuned.sections[1].overflow = Some(Overflow::Truncate);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(profile::CONFIG_FILE);
    save_profile(&file, "tuned", &ProfileSettings::from_item_set(&tuned)).unwrap();
    let config = ProjectConfig::load(&file).unwrap();
    let mut replayed = original.clone();
    apply(
        &mut replayed,
        config.profile("tuned").ok(),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(replayed, tuned);
}

// --- never panic ----------------------------------------------------------------

fn seeds() -> Vec<(String, ItemSetFormat)> {
    let mut out = Vec::new();
    for f in ["full.toml", "full.json", "minimal.toml"] {
        let p = valid(f);
        out.push((
            std::fs::read_to_string(&p).unwrap(),
            ItemSetFormat::from_path(&p),
        ));
    }
    for p in ["samples/rag/rag.toml", "samples/agent-memory/memory.toml"] {
        out.push((std::fs::read_to_string(p).unwrap(), ItemSetFormat::Toml));
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize),
}

fn mutation() -> impl proptest::strategy::Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (
            any::<usize>(),
            proptest::string::string_regex(r#"[\[\]{}"'=,:.\-+\n 0-9a-z_#\\é]{0,6}"#).unwrap()
        )
            .prop_map(|(a, s)| Mutation::Insert(a, s)),
        (any::<usize>(), 0usize..80).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
    ]
}

fn boundary(s: &str, at: usize) -> usize {
    let mut i = at % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(mut s: String, mutations: &[Mutation]) -> String {
    for m in mutations {
        match m {
            Mutation::Delete(at, n) => {
                let a = boundary(&s, *at);
                let b = boundary(&s, (a + n).min(s.len()));
                s.replace_range(a..b.max(a), "");
            }
            Mutation::Insert(at, text) => {
                let a = boundary(&s, *at);
                s.insert_str(a, text);
            }
            Mutation::Duplicate(at, n) => {
                let a = boundary(&s, *at);
                let b = boundary(&s, (a + n).min(s.len())).max(a);
                let piece = s[a..b].to_string();
                s.insert_str(b, &piece);
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        let origin = valid("random.toml");
        for format in [ItemSetFormat::Toml, ItemSetFormat::Json] {
            if let Err(e) = itemset::parse(&text, format, &origin) {
                let _ = (e.to_string(), e.snippet());
            }
        }
        let _ = ProjectConfig::parse(&text, &origin);
        let _ = parse_split(&text);
    }

    #[test]
    fn mutated_valid_files_never_panic(
        seed in 0usize..5,
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let (text, format) = seeds()[seed].clone();
        let text = mutate(text, &mutations);
        match itemset::parse(&text, format, &valid("mutated.toml")) {
            Ok(set) => {
                // Whatever loads is consistent: ids unique, sections declared.
                let mut ids: Vec<_> = set.items.iter().map(|i| &i.id).collect();
                ids.sort();
                ids.dedup();
                prop_assert_eq!(ids.len(), set.items.len());
                for i in &set.items {
                    prop_assert!(set.sections.iter().any(|s| s.name == i.section));
                }
            }
            Err(e) => {
                prop_assert!(e.position.is_some() || e.kind == LoadErrorKind::Io || e.kind == LoadErrorKind::Encoding, "{}", e);
                let _ = e.snippet();
            }
        }
    }

    #[test]
    fn mutated_settings_never_panic(mutations in proptest::collection::vec(mutation(), 1..6)) {
        let text = mutate(COMMENTED.to_string(), &mutations);
        let _ = ProjectConfig::parse(&text, Path::new("tokenscope.toml"));
    }
}
