//! Degraded forms per kind on realistic inputs, counted exactly with
//! cl100k_base. Each level's text is snapshotted; levels must strictly shrink.

use std::path::{Path, PathBuf};

use tokenscope::engine::degrade::{self, Syntax};
use tokenscope::engine::{Item, Kind};
use tokenscope::tokens::{CountCache, Encoding, Tokenizer};

const TOKENIZER: Tokenizer = Tokenizer::Exact(Encoding::Cl100kBase);

fn count(text: &str) -> usize {
    CountCache::global().count(&TOKENIZER, text)
}

fn fixture(name: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/degrade")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    (path, text)
}

fn item_for(name: &str) -> Item {
    let (path, text) = fixture(name);
    let mut item = Item::new(name, "s", text);
    item.path = Some(path);
    item
}

/// The forms of a fixture, checked for strict shrinking and an exact capsule
/// count, rendered for a snapshot.
fn report(name: &str, expected_kind: Kind, expected_levels: &[u8]) -> String {
    let item = item_for(name);
    assert_eq!(degrade::detect_kind(&item), expected_kind, "kind of {name}");
    let forms = degrade::item_forms(&item, &count);
    let levels: Vec<u8> = forms.iter().map(|(l, _)| *l).collect();
    assert_eq!(levels, expected_levels, "levels of {name}");
    let full = count(item.text());
    let mut previous = full;
    let mut out = format!("full: {full} tokens\n");
    for (level, text) in &forms {
        let n = count(text);
        assert!(
            n < previous,
            "{name}: level {level} has {n} tokens, not fewer than {previous}"
        );
        previous = n;
        out.push_str(&format!("\n=== level {level}: {n} tokens ===\n{text}\n"));
    }
    if let Some((3, capsule)) = forms.last() {
        let (first, marker) = capsule.split_once('\n').expect("capsule has two lines");
        let expected = full - count(first);
        assert_eq!(marker, format!("[… {expected} tokens omitted]"));
    }
    out
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "fixtures/degrade/snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn rust_code() {
    snapshot!("rust_code", report("session.rs", Kind::Code, &[1, 2, 3]));
}

#[test]
fn python_code() {
    snapshot!("python_code", report("ingest.py", Kind::Code, &[1, 2, 3]));
}

#[test]
fn markdown_readme() {
    snapshot!(
        "markdown_readme",
        report("README.md", Kind::Docs, &[1, 2, 3])
    );
}

#[test]
fn rust_tests() {
    snapshot!(
        "rust_tests",
        report("parser_test.rs", Kind::Test, &[1, 2, 3])
    );
}

#[test]
fn toml_config() {
    snapshot!(
        "toml_config",
        report("tokenscope.toml", Kind::Config, &[1, 2, 3])
    );
}

#[test]
fn yaml_config() {
    snapshot!(
        "yaml_config",
        report("compose.yaml", Kind::Config, &[1, 2, 3])
    );
}

#[test]
fn json_config() {
    snapshot!(
        "json_config",
        report("package.json", Kind::Config, &[1, 2, 3])
    );
}

#[test]
fn chat_message() {
    let (_, text) = fixture("chat.txt");
    let item = Item::new("msg-1", "history", text);
    assert_eq!(degrade::detect_kind(&item), Kind::Chat);
    snapshot!("chat_message", report("chat.txt", Kind::Chat, &[1, 2, 3]));
}

#[test]
fn content_detection_without_a_path() {
    let cases = [
        ("session.rs", Kind::Code, Syntax::Rust),
        ("ingest.py", Kind::Code, Syntax::Python),
        ("README.md", Kind::Docs, Syntax::Markdown),
        ("parser_test.rs", Kind::Test, Syntax::Rust),
        ("tokenscope.toml", Kind::Config, Syntax::Toml),
        ("compose.yaml", Kind::Config, Syntax::Yaml),
        ("package.json", Kind::Config, Syntax::Json),
        ("chat.txt", Kind::Chat, Syntax::Plain),
    ];
    for (name, kind, syntax) in cases {
        let (_, text) = fixture(name);
        let item = Item::new("no-file-name", "s", text.clone());
        assert_eq!(
            degrade::detect_kind(&item),
            kind,
            "kind of {name} from content"
        );
        assert_eq!(
            degrade::syntax_from_content(&text),
            syntax,
            "syntax of {name}"
        );
    }
}

#[test]
fn given_kind_wins_and_ids_that_look_like_file_names_count() {
    let mut item = Item::new("notes.md", "s", "fn main() {}");
    assert_eq!(degrade::detect_kind(&item), Kind::Docs);
    item.kind = Some(Kind::Prose);
    assert_eq!(degrade::detect_kind(&item), Kind::Prose);
    let item = Item::new("tests/api_test.go", "s", "package api");
    assert_eq!(degrade::detect_kind(&item), Kind::Test);
    let item = Item::new(
        "retrieved chunk 4.2",
        "s",
        "The cache is warmed at startup. It holds the last hour.",
    );
    assert_eq!(degrade::detect_kind(&item), Kind::Prose);
}

#[test]
fn prose_outline_keeps_first_and_last_sentences() {
    let text = "The index is rebuilt nightly.  It takes about  ten minutes, e.g. on a laptop.\n\n\nQueries during the rebuild read the old index. Nothing is lost.";
    let forms = degrade::forms(text, Kind::Prose, &count);
    assert_eq!(
        forms[0].1,
        "The index is rebuilt nightly. It takes about ten minutes, e.g. on a laptop.\n\nQueries during the rebuild read the old index. Nothing is lost."
    );
    assert_eq!(
        forms[1],
        (2, "The index is rebuilt nightly. … Queries during the rebuild read the old index. Nothing is lost.".to_string())
    );
}

#[test]
fn comment_markers_inside_strings_survive() {
    let rust = "let url = \"http://example.com/*x*/\"; // the endpoint\nlet c = '\"'; /* quote */ let d = 1;\nfn f<'a>(s: &'a str) -> &'a str { s } // lifetime\n";
    let out = degrade::forms_with_syntax(rust, Kind::Code, Syntax::Rust, &count);
    assert_eq!(
        out[0].1,
        "let url = \"http://example.com/*x*/\";\nlet c = '\"'; let d = 1;\nfn f<'a>(s: &'a str) -> &'a str { s }"
    );
    let py = "s = '# not a comment'  # a comment\nt = \"\"\"\n# kept: inside a docstring\n\"\"\"\n";
    let out = degrade::forms_with_syntax(py, Kind::Code, Syntax::Python, &count);
    assert_eq!(
        out[0].1,
        "s = '# not a comment'\nt = \"\"\"\n# kept: inside a docstring\n\"\"\""
    );
    let sh = "#!/bin/sh\necho \"#1\" $# ${#x} # count\n# setup\nx=1\n";
    let out = degrade::forms_with_syntax(sh, Kind::Code, Syntax::Shell, &count);
    assert_eq!(out[0].1, "#!/bin/sh\necho \"#1\" $# ${#x}\nx=1");
    let sql = "SELECT '--not' AS a -- trailing\nFROM t /* block */ WHERE x = 1;\n";
    let out = degrade::forms_with_syntax(sql, Kind::Code, Syntax::Sql, &count);
    assert_eq!(out[0].1, "SELECT '--not' AS a\nFROM t WHERE x = 1;");
}

#[test]
fn javascript_outline_and_test_names() {
    let js = "import { x } from './x.js';\n\nexport function total(items) {\n  // sum\n  return items.reduce((a, b) => a + b, 0);\n}\n\nconst pattern = /\\/\\/ not a comment/g;\n\nexport class Cart {\n  constructor(items) {\n    this.items = items;\n  }\n  get size() {\n    return this.items.length;\n  }\n}\n";
    let forms = degrade::forms_with_syntax(js, Kind::Code, Syntax::JavaScript, &count);
    assert_eq!(forms[1].0, 2);
    assert_eq!(
        forms[1].1,
        "export function total(items) { … }\nconst pattern = /\\/\\/ not a comment/g;\nexport class Cart {\n  constructor(items) { … }\n  get size() { … }\n}"
    );
    let spec = "describe('cart', () => {\n  it('starts empty', () => {\n    expect(new Cart([]).size).toBe(0);\n  });\n  test(\"adds items\", () => {\n    const c = new Cart([1]);\n    expect(c.size).toBe(1);\n  });\n});\n";
    let forms = degrade::forms_with_syntax(spec, Kind::Test, Syntax::JavaScript, &count);
    let outline = forms.iter().find(|(l, _)| *l == 2).expect("an outline");
    assert_eq!(
        outline.1,
        "describe('cart')\n  it('starts empty')\n  test(\"adds items\")"
    );
}

#[test]
fn blank_and_tiny_texts_have_no_forms_or_only_shorter_ones() {
    assert!(degrade::forms("", Kind::Prose, &count).is_empty());
    assert!(degrade::forms("   \n\n ", Kind::Code, &count).is_empty());
    assert!(degrade::forms("ok", Kind::Chat, &count).is_empty());
    for kind in Kind::ALL {
        for text in [
            "}",
            "{",
            "\"",
            "'''",
            "/*",
            "- a\n-",
            "# x\n```",
            "[a = {",
            "fn (",
            "\u{0}\u{7f}é",
        ] {
            let full = count(text);
            let mut previous = full;
            for (_, form) in degrade::forms(text, *kind, &count) {
                let n = count(&form);
                assert!(n < previous);
                previous = n;
            }
        }
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Text made of the pieces that stress the lexers and outlines.
    fn code_like() -> impl Strategy<Value = String> {
        let atoms = prop::sample::select(vec![
            "fn ", "def ", "class ", "{", "}", "(", ")", "[", "]", ";", "\n", "\n\n", "    ", "\"",
            "'", "`", "/*", "*/", "//", "#", "--", "=", ":", ",", "- ", "# ", "```", "r#\"", "\"#",
            "\\", "é", "日本", "<", ">", "|", "x", "name", "1.", ". ", "? ", "\t", "@", "#[test]",
            "'''", "\"\"\"",
        ]);
        prop::collection::vec(atoms, 0..60).prop_map(|v| v.concat())
    }

    /// Found by the property below: tidying a C-like text turned literal
    /// text into an open comment, so the outline's literal mask (of the
    /// lexed text) was shorter than the text it was read against, and every
    /// outline panicked on an index. Untrusted text must never panic.
    #[test]
    fn an_outline_of_text_whose_tidying_opens_a_comment_does_not_panic() {
        let text = "``\"\"\"\\\n\n\"r#\"\"/*";
        for syntax in [
            Syntax::CLike,
            Syntax::Rust,
            Syntax::JavaScript,
            Syntax::Shell,
            Syntax::Sql,
            Syntax::Python,
        ] {
            for kind in Kind::ALL {
                let forms = degrade::forms_with_syntax(text, *kind, syntax, &words);
                for (_, form) in forms {
                    assert!(words(&form) < words(text), "{syntax:?} {kind:?}: {form:?}");
                }
            }
        }
    }

    fn words(s: &str) -> usize {
        s.split_whitespace().count() + s.chars().filter(|c| c.is_ascii_punctuation()).count()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn forms_never_panic_and_strictly_shrink(text in code_like(), k in 0usize..8, s in 0usize..11) {
            let kind = Kind::ALL[k];
            let syntax = [
                Syntax::Rust, Syntax::CLike, Syntax::JavaScript, Syntax::Python, Syntax::Shell,
                Syntax::Sql, Syntax::Toml, Syntax::Yaml, Syntax::Json, Syntax::Markdown, Syntax::Plain,
            ][s];
            let full = words(&text);
            let mut previous = full;
            let mut last_level = 0;
            for (level, form) in degrade::forms_with_syntax(&text, kind, syntax, &words) {
                prop_assert!(level > last_level && level <= 3);
                let n = words(&form);
                prop_assert!(n < previous);
                previous = n;
                last_level = level;
            }
            let _ = degrade::kind_from_content(&text);
            let _ = degrade::syntax_from_content(&text);
        }

        #[test]
        fn arbitrary_unicode_never_panics(text in "\\PC{0,200}", k in 0usize..8) {
            let _ = degrade::forms(&text, Kind::ALL[k], &words);
        }
    }
}

fn outline_of(text: &str, syntax: Syntax) -> String {
    let forms = degrade::forms_with_syntax(text, Kind::Code, syntax, &count);
    forms
        .into_iter()
        .find(|(l, _)| *l == 2)
        .expect("an outline")
        .1
}

#[test]
fn go_outline() {
    let go = r#"package main

import (
	"fmt"
	"os"
)

// Server handles requests.
type Server struct {
	Addr string
	mu   sync.Mutex
}

func (s *Server) Start(port int) error {
	fmt.Println("starting {")
	return nil
}

func main() {
	s := &Server{Addr: ":8080"}
	if err := s.Start(8080); err != nil {
		os.Exit(1)
	}
}
"#;
    assert_eq!(
        outline_of(go, Syntax::CLike),
        "package main\ntype Server struct {\n\tAddr string\n\tmu   sync.Mutex\n}\nfunc (s *Server) Start(port int) error { … }\nfunc main() { … }"
    );
}

#[test]
fn java_and_c_outlines() {
    let java = r#"package com.example;

import java.util.List;

/** A cart. */
public class Cart {
    private final List<Item> items;

    @Override
    public String toString() {
        return "Cart" + items;
    }

    public int size() { return items.size(); }
}
"#;
    assert_eq!(
        outline_of(java, Syntax::CLike),
        "package com.example;\npublic class Cart {\n    private final List<Item> items;\n    public String toString() { … }\n    public int size() { return items.size(); }\n}"
    );
    let c = "#include <stdio.h>\n\n/* entry */\nstatic int counter = 0;\n\nint main(int argc, char **argv)\n{\n    printf(\"%d\\n\", argc);\n    return 0;\n}\n";
    assert_eq!(
        outline_of(c, Syntax::CLike),
        "static int counter = 0;\nint main(int argc, char **argv)\n{ … }"
    );
}

#[test]
fn typescript_outline() {
    let ts = r#"import type { Item } from "./item";

export interface Cart {
  items: Item[];
  total(): number;
}

export const emptyCart = (): Cart => {
  return { items: [], total: () => 0 };
};

export enum Status { Open, Closed }
"#;
    assert_eq!(
        outline_of(ts, Syntax::JavaScript),
        "export interface Cart {\n  items: Item[];\n  total(): number;\n}\nexport const emptyCart = (): Cart => { … };\nexport enum Status { Open, Closed }"
    );
}

#[test]
fn markdown_with_much_code_is_still_docs() {
    let text = "# Usage\n\nCall the client like this:\n\n```rust\nfn main() {\n    let c = Client::new();\n    c.send(1);\n    c.send(2);\n}\n```\n\nThen read the reply.\n";
    let item = Item::new("usage", "docs", text);
    assert_eq!(degrade::detect_kind(&item), Kind::Docs);
    let fenced = "```python\ndef test_one():\n    assert 1\n```";
    assert_eq!(
        degrade::detect_kind(&Item::new("t", "s", fenced)),
        Kind::Test
    );
}

/// Time to degrade large inputs; run with
/// `cargo test --release --test degrade -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn measure_degrade_speed() {
    let words = |s: &str| s.len() / 4;
    for (name, kind) in [
        ("session.rs", Kind::Code),
        ("ingest.py", Kind::Code),
        ("README.md", Kind::Docs),
        ("compose.yaml", Kind::Config),
        ("tokenscope.toml", Kind::Config),
        ("chat.txt", Kind::Chat),
    ] {
        let (path, text) = fixture(name);
        let big = text.repeat(250);
        let syntax = degrade::syntax_from_name(&path.to_string_lossy()).unwrap_or(Syntax::Plain);
        let started = std::time::Instant::now();
        let forms = degrade::forms_with_syntax(&big, kind, syntax, &words);
        let took = started.elapsed();
        println!(
            "{name}: {:.1} MB in {:.0} ms ({:.1} MB/s), levels {:?}",
            big.len() as f64 / 1e6,
            took.as_secs_f64() * 1e3,
            big.len() as f64 / 1e6 / took.as_secs_f64(),
            forms.iter().map(|f| f.0).collect::<Vec<_>>()
        );
    }
}
