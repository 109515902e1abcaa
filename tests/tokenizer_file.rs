//! Exact tokenizers from files: tiny hand-built vocabularies with
//! hand-computed ids, malformed files, and a differential check against the
//! built-in cl100k_base through a rank file and a tokenizer.json made from it.

mod byte_level;

use byte_level::{byte_char, byte_level};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use tokenscope::tokens::{Encoding, FileTokenizer, FileTokenizerError, TiktokenOptions, Tokenizer};

fn write(dir: &tempfile::TempDir, name: &str, content: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// A GPT-2 style byte-level BPE: the 256 byte characters are ids 0..=255,
/// then merged tokens in merge order from 256.
fn gpt2_style(merges: &[(&str, &str)], added: serde_json::Value, ignore_merges: bool) -> String {
    let mut vocab = serde_json::Map::new();
    for b in 0..=255u8 {
        vocab.insert(byte_char(b).to_string(), json!(b));
    }
    let mut next = 256;
    let mut merge_list = Vec::new();
    for (a, b) in merges {
        let (a, b) = (byte_level(a), byte_level(b));
        let merged = format!("{a}{b}");
        if !vocab.contains_key(&merged) {
            vocab.insert(merged, json!(next));
            next += 1;
        }
        merge_list.push(format!("{a} {b}"));
    }
    json!({
        "version": "1.0",
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false,
                  "ignore_merges": ignore_merges, "vocab": vocab, "merges": merge_list}
    })
    .to_string()
}

// ids: t=116 h=104 e=101 l=108 o=111 w=119 ' '=Ġ=32
// merges (rank: pair -> new id): 0: Ġ t -> 256 "Ġt", 1: h e -> 257 "he",
// 2: Ġt he -> 258 "Ġthe", 3: l o -> 259 "lo", 4: lo w -> 260 "low",
// 5: t he -> 261 "the"
const MERGES: &[(&str, &str)] = &[
    (" ", "t"),
    ("h", "e"),
    (" t", "he"),
    ("l", "o"),
    ("lo", "w"),
    ("t", "he"),
];

#[test]
fn byte_level_bpe_merges_by_rank() {
    let dir = tempfile::tempdir().unwrap();
    let added = json!([{"id": 262, "content": "<|end|>", "single_word": false, "lstrip": false,
                        "rstrip": false, "normalized": false, "special": true}]);
    let path = write(&dir, "tokenizer.json", &gpt2_style(MERGES, added, false));
    let t = FileTokenizer::load(&path).unwrap();
    // "the low the": pieces "the", " low", " the"
    assert_eq!(t.encode("the low the"), [261, 32, 260, 258]);
    assert_eq!(t.count("the low the"), 4);
    // "hello": h e l l o -> he l l o -> he l lo (ranks 1, 3)
    assert_eq!(t.encode("hello"), [257, 108, 259]);
    // Leftmost of equal pairs first: "lolo" -> lo lo.
    assert_eq!(t.encode("lolo"), [259, 259]);
    // Non-ASCII goes byte by byte: "é" is C3 A9.
    assert_eq!(t.encode("é"), [0xC3, 0xA9]);
    assert_eq!(
        t.decode_bytes(&t.encode("the low é")),
        "the low é".as_bytes()
    );
    // Special tokens are text unless asked for.
    // Ordinary: pieces "the", "<|", "end", "|>"; no merges apply after "the".
    assert_eq!(
        t.encode("the<|end|>"),
        [261, 60, 124, 101, 110, 100, 124, 62]
    );
    assert_eq!(t.encode_with_special("the<|end|>"), [261, 262]);
    assert_eq!(t.decode_bytes(&[262, 9999]), b"<|end|>");
    assert_eq!(
        t.name(),
        format!(
            "{}/tokenizer.json",
            dir.path().file_name().unwrap().to_string_lossy()
        )
    );
    assert_eq!(t.vocab_len(), 262);
}

#[test]
fn ignore_merges_takes_whole_words_from_the_vocabulary() {
    // ranks: 0: a b -> 256 "ab", 1: b c -> 257 "bc", 2: a bc -> 258 "abc".
    // The merges turn "abc" into ab c (rank 0 first, then nothing merges);
    // with ignore_merges the word "abc" is taken whole from the vocabulary.
    let merges = [("a", "b"), ("b", "c"), ("a", "bc")];
    let dir = tempfile::tempdir().unwrap();
    let merged = FileTokenizer::load(write(
        &dir,
        "merged.json",
        &gpt2_style(&merges, json!([]), false),
    ))
    .unwrap();
    assert_eq!(merged.encode("abc"), [256, 99]);
    let whole = FileTokenizer::load(write(
        &dir,
        "whole.json",
        &gpt2_style(&merges, json!([]), true),
    ))
    .unwrap();
    assert_eq!(whole.encode("abc"), [258]);
    // Words not in the vocabulary still merge: "abcabc" -> ab c ab c.
    assert_eq!(whole.encode("abcabc"), [256, 99, 256, 99]);
    assert_ne!(merged.id(), whole.id());
}

/// Llama 2 / Mistral style: Metaspace via normalizer, byte fallback.
fn sentencepiece_style() -> String {
    let mut vocab = serde_json::Map::new();
    vocab.insert("<unk>".into(), json!(0));
    vocab.insert("<s>".into(), json!(1));
    for b in 0..=255u32 {
        vocab.insert(format!("<0x{b:02X}>"), json!(2 + b));
    }
    for (k, tok) in ["▁", "h", "i", "▁h", "▁hi", "t", "▁t", "o", "▁to"]
        .iter()
        .enumerate()
    {
        vocab.insert((*tok).into(), json!(258 + k as u32));
    }
    json!({
        "added_tokens": [{"id": 1, "content": "<s>", "single_word": false, "lstrip": false,
                          "rstrip": false, "normalized": false, "special": true}],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "pre_tokenizer": null,
        "decoder": {"type": "Sequence", "decoders": []},
        "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true,
                  "vocab": vocab,
                  "merges": [["▁", "h"], ["▁h", "i"], ["▁", "t"], ["▁t", "o"]]}
    })
    .to_string()
}

#[test]
fn sentencepiece_style_bpe_with_byte_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "tokenizer.json", &sentencepiece_style());
    let t = FileTokenizer::load(&path).unwrap();
    // ▁ h i ▁ t o -> ▁h i ▁t o -> ▁hi ▁to   (ids: ▁hi = 262, ▁to = 266)
    assert_eq!(t.encode("hi to"), [262, 266]);
    // é has no token: its bytes C3 A9 via <0xC3> <0xA9>.
    assert_eq!(t.encode("hé"), [261, 2 + 0xC3, 2 + 0xA9]);
    assert_eq!(t.decode_bytes(&t.encode("hi to")), b" hi to");
    assert_eq!(t.decode_bytes(&t.encode("hé")), " hé".as_bytes());
    // The special <s> splits the text; the piece after it gets its own ▁.
    assert_eq!(t.encode_with_special("<s>hi"), [1, 262]);
}

#[test]
fn tiktoken_rank_file_with_merges_and_whole_pieces() {
    let mut lines = Vec::new();
    for b in 0..=255u8 {
        lines.push(format!("{} {b}", STANDARD.encode([b])));
    }
    for (k, tok) in ["ab", "cd", "abcd", " a"].iter().enumerate() {
        lines.push(format!("{} {}", STANDARD.encode(tok), 256 + k));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "tiny.tiktoken", &lines.join("\n"));
    let t = FileTokenizer::load(&path).unwrap();
    // Pieces "abcd" (a whole token, 258) and " abx": ' ' a b x; "ab" (256)
    // ranks below " a" (259), so: ' ' ab x.
    assert_eq!(t.encode("abcd abx"), [258, 32, 256, 120]);
    assert_eq!(t.count("abcd abx"), 4);
    assert_eq!(t.decode_bytes(&[258, 32, 256, 120]), b"abcd abx");
    // A different split pattern: every byte its own piece.
    let t2 = FileTokenizer::load_tiktoken(
        &path,
        &TiktokenOptions {
            pattern: Some(".".into()),
            special_tokens: vec![("<|eot|>".into(), 300)],
        },
    )
    .unwrap();
    assert_eq!(t2.encode("abcd"), [97, 98, 99, 100]);
    assert_eq!(t2.encode_with_special("a<|eot|>"), [97, 300]);
    assert_eq!(t2.decode_bytes(&[300]), b"<|eot|>");
    assert_ne!(t.id(), t2.id(), "the pattern is part of the identity");
}

fn load_err(name: &str, content: &str) -> FileTokenizerError {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, name, content);
    FileTokenizer::load(&path).unwrap_err()
}

#[test]
fn malformed_tokenizer_json_names_the_file_line_and_column() {
    let err = load_err(
        "tokenizer.json",
        "{\n  \"model\": {\"type\": \"BPE\",\n    \"vocab\": {\"a\": 0,}\n  }\n}",
    );
    let FileTokenizerError::Json { line, column, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((*line, *column), (3, 22));
    let msg = err.to_string();
    assert!(
        msg.contains("tokenizer.json:3:22: invalid tokenizer.json"),
        "{msg}"
    );

    let err = load_err("tokenizer.json", r#"{"model": {"type": "Mystery"}}"#);
    assert!(
        err.to_string().contains("unknown variant `Mystery`"),
        "{err}"
    );

    let err = load_err(
        "tokenizer.json",
        r#"{"model": {"type": "Unigram", "vocab": []}}"#,
    );
    assert!(
        err.to_string()
            .contains("model: WordLevel and Unigram models are not supported"),
        "{err}"
    );

    let err = load_err(
        "tokenizer.json",
        r#"{"model": {"type": "WordPiece", "vocab": {"a": 0}}}"#,
    );
    assert!(
        err.to_string()
            .ends_with("model.unk_token: `[UNK]` is not in the vocabulary"),
        "{err}"
    );

    let bad_merge = r#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a c"]}}"#;
    let err = load_err("tokenizer.json", bad_merge);
    assert!(
        err.to_string()
            .ends_with("model.merges[1]: `c` is not in the vocabulary"),
        "{err}"
    );

    let bad_regex = r#"{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"},
                       "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#;
    let err = load_err("tokenizer.json", bad_regex);
    assert!(
        err.to_string()
            .contains("pre_tokenizer.pattern: the regular expression `(unclosed` does not compile"),
        "{err}"
    );
}

#[test]
fn malformed_rank_files_name_the_line() {
    let mut lines: Vec<String> = (0..=255u8)
        .map(|b| format!("{} {b}", STANDARD.encode([b])))
        .collect();
    lines.insert(2, "not*base64 7".into());
    let err = load_err("bad.tiktoken", &lines.join("\n"));
    assert!(
        err.to_string().contains(
            "bad.tiktoken:3: invalid tiktoken rank file: `not*base64` is not valid base64"
        ),
        "{err}"
    );

    let mut lines: Vec<String> = (0..=255u8)
        .map(|b| format!("{} {b}", STANDARD.encode([b])))
        .collect();
    lines.push(format!("{} 5", STANDARD.encode("xy")));
    let err = load_err("dup.tiktoken", &lines.join("\n"));
    assert!(
        err.to_string().contains(
            "dup.tiktoken:257: invalid tiktoken rank file: rank 5 is given twice (first on line 6)"
        ),
        "{err}"
    );

    let lines: Vec<String> = (0..=200u8)
        .map(|b| format!("{} {b}", STANDARD.encode([b])))
        .collect();
    let err = load_err("short.tiktoken", &lines.join("\n"));
    assert!(
        err.to_string()
            .contains("no token for the single byte 0xC9"),
        "{err}"
    );

    let err = load_err("fields.tiktoken", "YQ== 0 extra\n");
    assert!(
        err.to_string()
            .contains("fields.tiktoken:1: invalid tiktoken rank file: expected `base64token rank`"),
        "{err}"
    );

    let err = FileTokenizer::load(Path::new("/nonexistent/tokenizer.json")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read tokenizer file /nonexistent/tokenizer.json"),
        "{err}"
    );
}

#[test]
fn file_tokenizers_are_send_sync_and_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FileTokenizer>();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "tokenizer.json",
        &gpt2_style(MERGES, json!([]), false),
    );
    let shared = Arc::new(FileTokenizer::load(&path).unwrap());
    let counts: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let t = Arc::clone(&shared);
                s.spawn(move || t.count("the low the"))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(counts, [4, 4, 4, 4]);
}

// ------------------------------------------------- differential: cl100k_base

const CL100K: Tokenizer = Tokenizer::Exact(Encoding::Cl100kBase);

/// cl100k_base's tokens by rank, read through the built-in tokenizer.
fn cl100k_tokens() -> &'static Vec<Vec<u8>> {
    static TOKENS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    TOKENS.get_or_init(|| {
        (0..100_256u32)
            .map(|id| {
                CL100K
                    .decode_bytes(&[id])
                    .expect("cl100k has every rank below 100256")
            })
            .collect()
    })
}

const SAMPLES: &[&str] = &[
    "Hello, world! This is a test of the tokenizer.",
    "  leading spaces, trailing spaces   \n\n\n  and blank lines\r\n",
    "fn main() {\n    println!(\"{}\", 12345678 + 0x1F);\n}\n",
    "Ünïcödé: 日本語のテキスト, emoji 🎉👩‍💻, Ελληνικά, русский текст.",
    "I'm sure they'll say we've done it; you're right, it's HE'S.",
    "numbers 1 12 123 1234 12345 3.14159 -42 1e10",
    "tabs\tand\u{a0}non-breaking\u{2003}spaces and a <|endoftext|> literal",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "https://example.com/path?query=value&other=1#fragment",
    "",
];

#[test]
fn a_rank_file_of_cl100k_counts_like_the_builtin() {
    let lines: Vec<String> = cl100k_tokens()
        .iter()
        .enumerate()
        .map(|(rank, bytes)| format!("{} {rank}", STANDARD.encode(bytes)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "cl100k_base.tiktoken", &lines.join("\n"));
    let t = FileTokenizer::load(&path).unwrap();
    for text in SAMPLES.iter().chain(TRAILING_WHITESPACE) {
        assert_eq!(Some(t.encode(text)), CL100K.encode(text), "{text:?}");
    }
    for text in long_samples() {
        assert_eq!(Some(t.encode(&text)), CL100K.encode(&text), "{text:.20}…");
    }
    let readme = include_str!("fixtures/degrade/README.md");
    assert_eq!(t.count(readme), CL100K.count(readme));
    // Llama 3's older form of the pattern counts the same.
    let llama3 = FileTokenizer::load_tiktoken(
        &path,
        &TiktokenOptions {
            pattern: Some("llama3".into()),
            special_tokens: vec![],
        },
    )
    .unwrap();
    for text in SAMPLES.iter().chain(TRAILING_WHITESPACE) {
        assert_eq!(Some(llama3.encode(text)), CL100K.encode(text), "{text:?}");
    }
}

/// Pieces long enough for the linear-time encoder (over 4 KiB).
fn long_samples() -> Vec<String> {
    let letters: String = (0..6000u32)
        .map(|i| char::from(b'a' + (i * i % 26) as u8))
        .collect();
    vec![
        "a".repeat(6000),
        " ".repeat(5000),
        "中".repeat(2000),
        "!=".repeat(2600),
        letters,
    ]
}

/// Texts where tiktoken's current cl100k pattern and Llama 3's older form
/// split into different pieces (the tokens come out the same).
const TRAILING_WHITESPACE: &[&str] = &["x\n  ", "\r ", "end\n\n \t", "}\n    ", "x\r\n  "];

#[test]
fn a_llama3_style_tokenizer_json_of_cl100k_counts_like_the_builtin() {
    let tokens = cl100k_tokens();
    let mut vocab = serde_json::Map::new();
    let mut ids = std::collections::HashMap::new();
    for (rank, bytes) in tokens.iter().enumerate() {
        let s: String = bytes.iter().map(|&b| byte_char(b)).collect();
        vocab.insert(s, json!(rank));
        ids.insert(bytes.as_slice(), rank);
    }
    // Merges in the order of the merged token's rank: every split of a token
    // into two tokens.
    let mut merges = Vec::new();
    for bytes in tokens.iter() {
        for k in 1..bytes.len() {
            let (a, b) = bytes.split_at(k);
            if ids.contains_key(a) && ids.contains_key(b) {
                let a: String = a.iter().map(|&x| byte_char(x)).collect();
                let b: String = b.iter().map(|&x| byte_char(x)).collect();
                merges.push(json!([a, b]));
            }
        }
    }
    let src = json!({
        "added_tokens": [{"id": 100257, "content": "<|endoftext|>", "single_word": false,
                          "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
        "normalizer": null,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": tokenscope::tokens::file::LLAMA3_PATTERN},
             "behavior": "Isolated", "invert": false},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
        "model": {"type": "BPE", "ignore_merges": true, "vocab": vocab, "merges": merges}
    });
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "tokenizer.json", &src.to_string());
    let t = FileTokenizer::load(&path).unwrap();
    for text in SAMPLES.iter().chain(TRAILING_WHITESPACE) {
        assert_eq!(Some(t.encode(text)), CL100K.encode(text), "{text:?}");
        assert_eq!(
            t.count_with_special(text),
            CL100K.count_with_special(text),
            "{text:?}"
        );
    }
    for text in long_samples() {
        assert_eq!(Some(t.encode(&text)), CL100K.encode(&text), "{text:.20}…");
    }
    let readme = include_str!("fixtures/degrade/README.md");
    assert_eq!(t.count(readme), CL100K.count(readme));
    assert_eq!(t.decode_bytes(&t.encode(readme)), readme.as_bytes());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn tiny() -> &'static FileTokenizer {
        static T: OnceLock<FileTokenizer> = OnceLock::new();
        T.get_or_init(|| {
            let json = gpt2_style(MERGES, json!([]), false);
            FileTokenizer::from_tokenizer_json(json.as_bytes(), Path::new("tiny/tokenizer.json"))
                .unwrap()
        })
    }

    fn tiny_sp() -> &'static FileTokenizer {
        static T: OnceLock<FileTokenizer> = OnceLock::new();
        T.get_or_init(|| {
            let json = sentencepiece_style();
            FileTokenizer::from_tokenizer_json(json.as_bytes(), Path::new("sp/tokenizer.json"))
                .unwrap()
        })
    }

    proptest! {
        #[test]
        fn byte_level_round_trips(text in "\\PC{0,80}|[the lowé <|>]{0,40}") {
            let t = tiny();
            let ids = t.encode(&text);
            prop_assert_eq!(t.decode_bytes(&ids), text.as_bytes());
            prop_assert_eq!(t.count(&text), ids.len());
            prop_assert!(ids.len() <= text.len());
        }

        #[test]
        fn byte_fallback_round_trips(text in "[hito é]{1,40}") {
            // The normalizer prepends ▁ and turns spaces into ▁; decoding
            // gives the leading space back.
            let t = tiny_sp();
            let decoded = t.decode_bytes(&t.encode(&text));
            prop_assert_eq!(decoded, format!(" {text}").into_bytes());
        }
    }
}

/// Throughput against the built-in cl100k_base; run with
/// `cargo test --release --test tokenizer_file -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn measure_counting_speed() {
    let lines: Vec<String> = cl100k_tokens()
        .iter()
        .enumerate()
        .map(|(rank, bytes)| format!("{} {rank}", STANDARD.encode(bytes)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "cl100k_base.tiktoken", &lines.join("\n"));
    let started = std::time::Instant::now();
    let t = FileTokenizer::load(&path).unwrap();
    let load = started.elapsed();
    let mut corpus = String::new();
    for name in [
        "session.rs",
        "ingest.py",
        "README.md",
        "compose.yaml",
        "chat.txt",
    ] {
        corpus.push_str(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/degrade")
                    .join(name),
            )
            .unwrap(),
        );
    }
    let corpus = corpus.repeat(200);
    let mb = corpus.len() as f64 / 1e6;
    let started = std::time::Instant::now();
    let n = t.count(&corpus);
    let file = started.elapsed();
    let started = std::time::Instant::now();
    let m = CL100K.count(&corpus);
    let builtin = started.elapsed();
    assert_eq!(n, m);
    let llama3 = FileTokenizer::load_tiktoken(
        &path,
        &TiktokenOptions {
            pattern: Some("llama3".into()),
            special_tokens: vec![],
        },
    )
    .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(llama3.count(&corpus), n);
    let regex = started.elapsed();
    let custom = FileTokenizer::load_tiktoken(
        &path,
        &TiktokenOptions {
            pattern: Some(format!(
                "{}|(?=never)x",
                tokenscope::tokens::file::LLAMA3_PATTERN
            )),
            special_tokens: vec![],
        },
    )
    .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(custom.count(&corpus), n);
    let fancy = started.elapsed();
    println!(
        "load {:.2} s; {mb:.1} MB, {n} tokens: rank file (cl100k scanner) {:.1} MB/s, llama3 pattern (regex) {:.1} MB/s, custom pattern (fancy-regex) {:.1} MB/s; built-in {:.1} MB/s",
        load.as_secs_f64(),
        mb / file.as_secs_f64(),
        mb / regex.as_secs_f64(),
        mb / fancy.as_secs_f64(),
        mb / builtin.as_secs_f64()
    );
}

#[test]
fn word_suffix_and_subword_prefix_models() {
    // CLIP-style end-of-word suffix, words split on whitespace.
    let clip = json!({
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "model": {"type": "BPE", "end_of_word_suffix": "</w>",
                  "vocab": {"a": 0, "b": 1, "b</w>": 2, "a</w>": 3, "ab</w>": 4},
                  "merges": ["a b</w>"]}
    });
    let t = FileTokenizer::from_tokenizer_json(clip.to_string().as_bytes(), Path::new("clip.json"))
        .unwrap();
    // "ab" -> a b</w> -> ab</w>; "a" -> a</w>.
    assert_eq!(t.encode("ab  a"), [4, 3]);
    // A continuing-subword prefix: the merged token drops the right side's prefix.
    let prefixed = json!({
        "pre_tokenizer": {"type": "Whitespace"},
        "model": {"type": "BPE", "continuing_subword_prefix": "##",
                  "vocab": {"a": 0, "##b": 1, "ab": 2, "!": 3},
                  "merges": [["a", "##b"]]}
    });
    let t =
        FileTokenizer::from_tokenizer_json(prefixed.to_string().as_bytes(), Path::new("p.json"))
            .unwrap();
    assert_eq!(t.encode("ab abb!"), [2, 2, 1, 3]);
    // Unknown characters without an unk token are dropped, as `tokenizers` does.
    assert_eq!(t.encode("ax"), [0]);
}

/// BERT-style: BertNormalizer (lowercase, accents stripped, CJK isolated),
/// BertPreTokenizer, WordPiece.
#[test]
fn wordpiece_with_bert_normalizer() {
    let vocab: serde_json::Map<String, serde_json::Value> = [
        "[UNK]", "[CLS]", "un", "##aff", "##able", "aff", "!", "日", "本", "cafe", "##s",
    ]
    .iter()
    .enumerate()
    .map(|(k, t)| ((*t).to_string(), json!(k)))
    .collect();
    let bert = json!({
        "added_tokens": [{"id": 1, "content": "[CLS]", "single_word": false, "lstrip": false,
                          "rstrip": false, "normalized": false, "special": true}],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    });
    let t = FileTokenizer::from_tokenizer_json(bert.to_string().as_bytes(), Path::new("bert.json"))
        .unwrap();
    // "UnAffable!" -> "unaffable" "!" -> un ##aff ##able, !
    assert_eq!(t.encode("UnAffable!"), [2, 3, 4, 6]);
    // Accents go with lowercasing; CJK characters are words of their own.
    assert_eq!(t.encode("Cafés 日本"), [9, 10, 7, 8]);
    // A word with an unmatched piece is [UNK] whole; control characters vanish.
    assert_eq!(t.encode("unx\u{7}"), [0]);
    assert_eq!(t.encode_with_special("[CLS] aff"), [1, 5]);
    assert_eq!(t.decode_bytes(&[2, 3, 4]), b"unaffable");
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn mutate(base: &str, edits: &[(usize, char)], cut: usize) -> String {
        let mut chars: Vec<char> = base.chars().collect();
        for &(at, c) in edits {
            if !chars.is_empty() {
                let k = at % chars.len();
                chars[k] = c;
            }
        }
        let keep = chars.len() - cut % (chars.len() / 4 + 1);
        chars.truncate(keep);
        chars.into_iter().collect()
    }

    fn edit() -> impl Strategy<Value = (usize, char)> {
        (
            any::<usize>(),
            prop::sample::select(vec![
                '"', '{', '}', '[', ']', ',', ':', '0', '9', '-', 'a', ' ', '\\', 'é', 'x',
            ]),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn mutated_tokenizer_json_never_panics(edits in prop::collection::vec(edit(), 0..6), cut in any::<usize>(), which in 0usize..3) {
            let base = match which {
                0 => sentencepiece_style(),
                1 => gpt2_style(MERGES, json!([{"id": 262, "content": "<|end|>", "special": true, "normalized": false}]), true),
                _ => json!({"normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "BertPreTokenizer"},
                            "model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1, "##b": 2}}}).to_string(),
            };
            let src = mutate(&base, &edits, cut);
            if let Ok(t) = FileTokenizer::from_tokenizer_json(src.as_bytes(), Path::new("fuzz.json")) {
                for text in ["", "hi to", "the low <|end|> é 日本", "ab\u{0}\u{7f}  \n\n", "<s><s>"] {
                    let ids = t.encode_with_special(text);
                    let _ = t.decode_bytes(&ids);
                    prop_assert_eq!(t.count(text), t.encode(text).len());
                }
            }
        }

        #[test]
        fn mutated_rank_files_never_panic(edits in prop::collection::vec(edit(), 0..6), cut in any::<usize>()) {
            let mut lines: Vec<String> = (0..=255u8).map(|b| format!("{} {b}", STANDARD.encode([b]))).collect();
            lines.push(format!("{} 256", STANDARD.encode("ab")));
            let src = mutate(&lines.join("\n"), &edits, cut);
            if let Ok(t) = FileTokenizer::from_tiktoken(src.as_bytes(), Path::new("fuzz.tiktoken"), &TiktokenOptions::default()) {
                let ids = t.encode("abc ab\n é");
                let _ = t.decode_bytes(&ids);
            }
        }
    }
}

#[test]
fn large_texts_count_the_same_in_parallel_chunks() {
    let lines: Vec<String> = cl100k_tokens()
        .iter()
        .enumerate()
        .map(|(rank, bytes)| format!("{} {rank}", STANDARD.encode(bytes)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "cl100k_base.tiktoken", &lines.join("\n"));
    let readme = include_str!("fixtures/degrade/README.md");
    let big = readme.repeat(400); // about 600 KB: several chunks
    for pattern in ["cl100k", "llama3"] {
        let t = FileTokenizer::load_tiktoken(
            &path,
            &TiktokenOptions {
                pattern: Some(pattern.into()),
                special_tokens: vec![],
            },
        )
        .unwrap();
        assert_eq!(t.count(&big), t.encode(&big).len(), "{pattern}");
        assert_eq!(t.count(&big), CL100K.count(&big), "{pattern}");
    }
}
