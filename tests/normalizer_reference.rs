//! Differential tests of the `tokenizer.json` normalizers and pre-tokenizers
//! against HuggingFace's `tokenizers` crate, the reference, on text that
//! stresses Unicode versions: characters added to Unicode after the
//! reference's tables (which NFC must then not reorder, StripAccents must
//! keep, BERT's cleaning must keep), marks of every combining class,
//! format and private-use characters, CJK blocks at the edges of BERT's list,
//! and punctuation of every category.
//!
//! Every pipeline ends in a byte-level BPE, so any normalized text encodes
//! and differences in normalization show as different ids. Needs no download.

use std::path::Path;

use proptest::prelude::*;
use serde_json::json;
use tokenscope::tokens::FileTokenizer;

/// GPT-2's byte-to-character map.
fn byte_chars() -> Vec<char> {
    let mut out = vec!['\0'; 256];
    let mut next = 256u32;
    for b in 0..256u32 {
        let kept = (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
        out[b as usize] = if kept {
            char::from_u32(b).unwrap()
        } else {
            next += 1;
            char::from_u32(next - 1).unwrap()
        };
    }
    out
}

/// A byte-level BPE with a few merges (so ids depend on how bytes group).
fn model() -> serde_json::Value {
    let chars = byte_chars();
    let mut vocab = serde_json::Map::new();
    for (k, c) in chars.iter().enumerate() {
        vocab.insert(c.to_string(), json!(k));
    }
    let merges = ["Ġ t", "h e", "e l", "l o", "Ġt he", "a n", "Ã ©", "ä ¸"];
    for (k, m) in merges.iter().enumerate() {
        vocab.insert(m.replace(' ', ""), json!(256 + k));
    }
    json!({"type": "BPE", "vocab": vocab, "merges": merges})
}

fn pipeline(normalizer: serde_json::Value, pre: serde_json::Value) -> String {
    let byte_level = json!({"type": "ByteLevel", "add_prefix_space": false, "use_regex": false,
                            "trim_offsets": false});
    json!({
        "normalizer": normalizer,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [pre, byte_level.clone()]},
        "model": model(),
        "decoder": byte_level
    })
    .to_string()
}

fn pipelines() -> Vec<(&'static str, String)> {
    let none = json!({"type": "Sequence", "pretokenizers": []});
    let bert = |strip: serde_json::Value, lowercase: bool| {
        json!({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
               "strip_accents": strip, "lowercase": lowercase})
    };
    vec![
        ("NFC", pipeline(json!({"type": "NFC"}), none.clone())),
        ("NFD", pipeline(json!({"type": "NFD"}), none.clone())),
        ("NFKC", pipeline(json!({"type": "NFKC"}), none.clone())),
        ("NFKD", pipeline(json!({"type": "NFKD"}), none.clone())),
        (
            "NFD+StripAccents+Lowercase",
            pipeline(
                json!({"type": "Sequence", "normalizers": [
                    {"type": "NFD"}, {"type": "StripAccents"}, {"type": "Lowercase"}]}),
                none.clone(),
            ),
        ),
        (
            "BertNormalizer+BertPreTokenizer",
            pipeline(bert(json!(null), true), json!({"type": "BertPreTokenizer"})),
        ),
        (
            "BertNormalizer (accents kept)",
            pipeline(bert(json!(false), false), json!({"type": "Whitespace"})),
        ),
        (
            "Punctuation (isolated)",
            pipeline(
                json!(null),
                json!({"type": "Punctuation", "behavior": "Isolated"}),
            ),
        ),
        (
            "Punctuation (contiguous) + Digits",
            pipeline(
                json!(null),
                json!({"type": "Sequence", "pretokenizers": [
                    {"type": "Punctuation", "behavior": "Contiguous"},
                    {"type": "Digits", "individual_digits": false}]}),
            ),
        ),
        (
            "WhitespaceSplit + Punctuation (removed)",
            pipeline(
                json!(null),
                json!({"type": "Sequence", "pretokenizers": [
                    {"type": "WhitespaceSplit"},
                    {"type": "Punctuation", "behavior": "Removed"}]}),
            ),
        ),
    ]
}

struct Pair {
    name: &'static str,
    ours: FileTokenizer,
    reference: tokenizers::Tokenizer,
}

fn pairs() -> &'static Vec<Pair> {
    static PAIRS: std::sync::OnceLock<Vec<Pair>> = std::sync::OnceLock::new();
    PAIRS.get_or_init(|| {
        pipelines()
            .into_iter()
            .map(|(name, json)| Pair {
                name,
                ours: FileTokenizer::from_tokenizer_json(json.as_bytes(), Path::new("t.json"))
                    .unwrap_or_else(|e| panic!("{name}: {e}")),
                reference: json
                    .parse::<tokenizers::Tokenizer>()
                    .unwrap_or_else(|e| panic!("{name} (reference): {e}")),
            })
            .collect()
    })
}

fn check(text: &str) -> Result<(), String> {
    for p in pairs() {
        let ours = p.ours.encode(text);
        let want = p
            .reference
            .encode(text, false)
            .map_err(|e| format!("{} (reference) on {text:?}: {e}", p.name))?
            .get_ids()
            .to_vec();
        if ours != want {
            return Err(format!(
                "{} differs on {text:?}\n  ours:      {ours:?}\n  reference: {want:?}",
                p.name
            ));
        }
    }
    Ok(())
}

/// Characters whose handling depends on the Unicode version or on a
/// category table.
const AWKWARD: &[char] = &[
    // Marks: Tai Tham tone (ccc 230), Vietnamese reading mark (Unicode 13,
    // ccc 6), grave, cedilla, a spacing mark, an enclosing mark, Khmer.
    '\u{1a75}',
    '\u{16ff0}',
    '\u{16ff1}',
    '\u{300}',
    '\u{327}',
    '\u{903}',
    '\u{20dd}',
    '\u{17dd}',
    '\u{1e94a}',
    '\u{10f46}',
    '\u{1abf}',
    // Letters with decompositions; compatibility forms.
    'é',
    'Å',
    'ﬁ',
    '①',
    'Ⅻ',
    '²',
    '\u{fb2c}',
    '\u{1e9b}',
    '\u{2126}',
    '\u{1f88}',
    // Format, control, private use, unassigned, noncharacter.
    '\u{200b}',
    '\u{200d}',
    '\u{2066}',
    '\u{13430}',
    '\u{13438}',
    '\u{1bca0}',
    '\u{e0001}',
    '\u{e000}',
    '\u{f0000}',
    '\u{378}',
    '\u{fdd0}',
    '\u{7}',
    '\u{0}',
    '\u{fffd}',
    '\u{85}',
    '\u{9c}',
    '\u{feff}',
    '\u{890}',
    '\u{110cd}',
    // CJK at the edges of BERT's blocks (U+2B820..U+2B91F is not in its list).
    '\u{4e00}',
    '\u{9fff}',
    '\u{2b81f}',
    '\u{2b820}',
    '\u{2b91f}',
    '\u{2b920}',
    '\u{2ceaf}',
    '\u{31350}',
    '\u{3400}',
    '\u{f900}',
    '\u{2f800}',
    // Punctuation old and new, ASCII symbols.
    '!',
    '$',
    '+',
    '^',
    '`',
    '|',
    '~',
    '-',
    '_',
    '¡',
    '§',
    '«',
    '\u{2e52}',
    '\u{2e5d}',
    '\u{1e95e}',
    '\u{11b00}',
    '\u{10f86}',
    '\u{5f0}',
    '。',
    '、',
    '\u{ff01}',
    // Whitespace of every kind, digits of every kind.
    ' ',
    '\t',
    '\n',
    '\r',
    '\u{a0}',
    '\u{3000}',
    '\u{2028}',
    '\u{1680}',
    '1',
    '٣',
    '\u{1e950}',
    '\u{1fbf0}',
    // Letters: Latin both cases, title case, Greek final sigma, Turkish I.
    'a',
    'Z',
    'ǅ',
    'Σ',
    'ς',
    'İ',
    'ß',
    'ẞ',
    'h',
    'e',
    'l',
    'o',
    't',
];

#[test]
fn fixed_cases_match_the_reference() {
    let cases = [
        // NFC reorders these in current Unicode (ccc 230 then 6), not in
        // the reference's Unicode 9, where U+16FF0 is unassigned.
        "\u{1a75}\u{16ff0}",
        "\u{1b01b}\u{16ff0}",
        "a\u{301}\u{16ff0}\u{327}",
        // BERT: U+2B820 is not one of its "Chinese characters".
        "x\u{2b820}y\u{2b920}z",
        // BERT's cleaning keeps unassigned characters, drops format ones.
        "a\u{378}b\u{200b}c\u{e000}d\u{13430}e",
        "the hello Héllo çà 日本語 wörld!!! $5+3 ...",
        "",
        " ",
    ];
    for text in cases {
        check(text).unwrap();
    }
}

#[test]
fn every_awkward_character_alone_and_in_pairs() {
    for &a in AWKWARD {
        check(&a.to_string()).unwrap();
        for &b in AWKWARD {
            check(&format!("{a}{b}")).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn matches_the_reference_on_arbitrary_strings(text in any::<String>()) {
        check(&text).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn matches_the_reference_on_awkward_text(
        text in proptest::collection::vec(proptest::sample::select(AWKWARD), 0..24)
            .prop_map(|v| v.into_iter().collect::<String>())
    ) {
        check(&text).map_err(TestCaseError::fail)?;
    }
}
