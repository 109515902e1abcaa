//! Differential tests: our exact counts and token ids against tiktoken-rs,
//! the reference implementation, on generated text covering the hard cases.

use proptest::prelude::*;
use tokenscope::tokens::{Encoding, Tokenizer};

fn reference(e: Encoding) -> &'static tiktoken_rs::CoreBPE {
    use std::sync::OnceLock;
    static CELLS: [OnceLock<tiktoken_rs::CoreBPE>; 5] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    CELLS[e as usize].get_or_init(|| {
        match e {
            Encoding::O200kBase => tiktoken_rs::o200k_base(),
            Encoding::O200kHarmony => harmony(),
            Encoding::Cl100kBase => tiktoken_rs::cl100k_base(),
            Encoding::P50kBase => tiktoken_rs::p50k_base(),
            Encoding::R50kBase => tiktoken_rs::r50k_base(),
        }
        .unwrap()
    })
}

/// OpenAI's `o200k_harmony` as tiktoken defines it: `o200k_base`'s ranks
/// and pattern, its special tokens (`<|endofprompt|>` among them, which
/// tiktoken-rs's own `o200k_harmony` leaves out) and the harmony ones.
fn harmony() -> anyhow::Result<tiktoken_rs::CoreBPE> {
    let base = tiktoken_rs::o200k_base()?;
    let mut encoder = rustc_hash::FxHashMap::default();
    let mut rank = 0u32;
    while let Ok(bytes) = base.decode_bytes(&[rank]) {
        if rank >= 199_998 {
            break;
        }
        encoder.insert(bytes, rank);
        rank += 1;
    }
    let mut specials = rustc_hash::FxHashMap::default();
    for (name, id) in [
        ("<|startoftext|>", 199_998),
        ("<|endoftext|>", 199_999),
        ("<|return|>", 200_002),
        ("<|constrain|>", 200_003),
        ("<|channel|>", 200_005),
        ("<|start|>", 200_006),
        ("<|end|>", 200_007),
        ("<|message|>", 200_008),
        ("<|call|>", 200_012),
        ("<|endofprompt|>", 200_018),
    ] {
        specials.insert(name.to_string(), id);
    }
    for id in [200_000, 200_001, 200_004, 200_009, 200_010, 200_011]
        .into_iter()
        .chain(200_013..=201_087)
    {
        specials.insert(format!("<|reserved_{id}|>"), id);
    }
    tiktoken_rs::CoreBPE::new(encoder, specials, tiktoken_rs::O200K_BASE_PAT_STR)
}

fn check(text: &str) {
    for e in Encoding::ALL {
        let ours = Tokenizer::Exact(e);
        let want = reference(e).encode_ordinary(text);
        let got = ours.encode(text).unwrap();
        assert_eq!(got, want, "{e} ids differ on {text:?}");
        assert_eq!(
            ours.count(text),
            want.len(),
            "{e} count differs on {text:?}"
        );
        let special = reference(e).encode_with_special_tokens(text);
        assert_eq!(
            ours.count_with_special(text),
            special.len(),
            "{e} special count on {text:?}"
        );
        assert_eq!(
            ours.encode_with_special(text).unwrap(),
            special,
            "{e} special ids on {text:?}"
        );
    }
}

/// One char from every plane and many general categories, in one string.
fn all_planes() -> String {
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

#[test]
fn hand_picked_cases() {
    let cases: Vec<String> = vec![
        String::new(),
        "hello world".into(),
        "Hello, World! It's 2024 and we're testing: don't, I'll, you've, she'd, I'm.".into(),
        "IT'S THE END'S END'LL 'S 'Ll 'lL 'ſ ſ 'VE 'RE".into(),
        "line one\r\nline two\r\n\r\n  indented\r\n".into(),
        "trailing spaces   ".into(),
        "   leading spaces".into(),
        "a\n\n\n  b\n \n \nc   \n".into(),
        "tabs\t\tand\u{b}vertical\u{c}feeds\u{85}next\u{a0}nbsp\u{3000}ideo\u{2028}ls\u{2029}ps".into(),
        "numbers 1 12 123 1234 12345678901234567890 ١٢٣٤٥ ²³ Ⅻ ⅷ".into(),
        "caf\u{65}\u{301} nai\u{308}ve \u{1100}\u{1161}\u{11a8} e\u{301}\u{302}\u{303}".into(),
        "\u{301}\u{302}leading marks \u{301}A \u{301}a \u{301}1 x\u{301}Y".into(),
        "emoji 👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🇺🇳 ❤️‍🔥 a👋b".into(),
        "CJK 漢字かなカナ한국어 混合 text with English 和 数字123".into(),
        "Ǆungla ǅungla ǆungla ᾈ titlecase ʰmodifier ˢ ǂclick".into(),
        "HTTPServerError XMLHttpRequest camelCase snake_case SCREAMING_CASE kebab-case".into(),
        "<|endoftext|> and <|endofprompt|> and <|fim_prefix|><|fim_middle|><|fim_suffix|> <|unknown|> <| |>".into(),
        "<|start|>user<|message|>hi<|end|><|start|>assistant<|channel|>final<|message|>x<|return|><|call|><|reserved_200100|><|reserved_201087|><|reserved_201088|><|startoftext|>".into(),
        "text<|endoftext|>more<|endoftext|>".into(),
        "paths /usr/bin/env a//b ///x /\n/\r\n//".into(),
        "punct!!! ... ??? ;;; --- === +++ *** @@@ ### $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}}".into(),
        " !\n !\r\n !!\n\n".into(),
        "'".into(),
        "'s".into(),
        " ".into(),
        "\n".into(),
        "\r\n".into(),
        "  \n".into(),
        "x  \n".into(),
        "\u{200b}zero\u{200d}width\u{feff}".into(),
        "Ωμέγα Ελληνικά русский текст العربية עברית हिन्दी ไทย".into(),
        all_planes(),
        "a".repeat(5000),
        "ab".repeat(3000),
        "漢".repeat(2000),
        "1".repeat(1001),
        "!".repeat(3000),
        " ".repeat(3000) + "x",
        "\n".repeat(500) + "x",
        "\u{301}".repeat(500),
        "aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQgZW5jb2RlZCB0ZXh0".repeat(50),
        "fn main() {\n    let x: Vec<u32> = (0..10).map(|i| i * 2).collect();\n    println!(\"{x:?}\");\n}\n".into(),
        "def f(x):\n    return {'a': [1, 2, 3], \"b\": None}  # comment\n\n\nclass A(B):\n\tpass\n".into(),
    ];
    for c in &cases {
        check(c);
    }
}

#[test]
fn long_pieces_use_the_same_merges() {
    // Long runs with no split point exercise the heap-based merge.
    let mut s = String::new();
    for i in 0..4000u32 {
        s.push(char::from(b'a' + (i * 7 % 26) as u8));
    }
    check(&s);
    check(&"abcdefghij".repeat(100));
    check(&"ÄÖÜäöüß".repeat(100));
    check(&"🙂".repeat(300));
}

/// Pieces past the length where the linear-time encoder takes over (4 KiB):
/// runs of one character, random letters and punctuation, glued tokens.
#[test]
fn very_long_pieces_match_the_reference() {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut rand = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let mut pick =
        |set: &[char], len: usize| -> String { (0..len).map(|_| set[rand(set.len())]).collect() };
    let letters: Vec<char> = ('a'..='z').collect();
    let punct: Vec<char> = "!#$%&()*+,-./:;<=>?@[]^_{|}~".chars().collect();
    let mut texts = vec![
        "a".repeat(6000),
        "中".repeat(2000),
        " ".repeat(5000),
        "\n".repeat(4500),
        "=".repeat(4200) + "\n",
        "🙂".repeat(1500),
        "ab".repeat(2600),
        "é".repeat(3000),
        pick(&letters, 6000),
        pick(&punct, 6000),
        " ".to_string() + &pick(&['x', 'y'], 5000),
    ];
    texts.push(texts[8].to_uppercase());
    for text in &texts {
        check(text);
    }
}

/// A long piece of letters glued from a few fragments, as a strategy.
fn long_piece() -> impl Strategy<Value = String> {
    let fragments: Vec<&'static str> = vec![
        "a", "ab", "the", "ing", "tion", "x", "qu", "é", "ß", "中", "文", "zz", "aaaa", "e",
    ];
    (
        proptest::collection::vec(proptest::sample::select(fragments), 1..6),
        proptest::collection::vec(0usize..6, 4100..4400),
    )
        .prop_map(|(pool, picks)| picks.iter().map(|&k| pool[k % pool.len()]).collect())
}

fn alphabet() -> impl Strategy<Value = String> {
    let atoms: Vec<&'static str> = vec![
        "a",
        "b",
        "Z",
        "Q",
        "é",
        "ß",
        "ǅ",
        "ʰ",
        "漢",
        "か",
        "한",
        "\u{301}",
        "\u{308}",
        "1",
        "9",
        "٣",
        "²",
        "Ⅻ",
        " ",
        "  ",
        "\t",
        "\n",
        "\r",
        "\r\n",
        "\u{a0}",
        "\u{3000}",
        "\u{2028}",
        "\u{85}",
        "'",
        "'s",
        "'S",
        "'ll",
        "'LL",
        "'ve",
        "'re",
        "'d",
        "'m",
        "'t",
        "ſ",
        "!",
        ".",
        ",",
        "/",
        "-",
        "_",
        "(",
        "\"",
        "#",
        "👍",
        "👩‍👩‍👧",
        "\u{200d}",
        "\u{fe0f}",
        "<|endoftext|>",
        "<|start|>",
        "<|reserved_200500|>",
        "<|endofprompt|>",
        "<|",
        "|>",
        "the",
        "The",
        "THE",
        "hello",
        "World",
        "HTTP",
        "Server",
        "123456",
        "\u{b}",
        "\u{c}",
    ];
    proptest::collection::vec(proptest::sample::select(atoms), 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn matches_reference_on_generated_text(text in alphabet()) {
        check(&text);
    }

    #[test]
    fn matches_reference_on_arbitrary_strings(text in "\\PC{0,60}") {
        check(&text);
    }

    #[test]
    fn matches_reference_on_arbitrary_chars(text in any::<String>()) {
        check(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn matches_reference_on_long_pieces(text in long_piece()) {
        check(&text);
    }
}

#[test]
fn parallel_chunking_matches_serial() {
    // Large enough to be counted in parallel chunks.
    let para = "The quick brown fox jumps over the lazy dog.\nIt's 2024: prices rose 12.5%!\n  indented line\r\n\n";
    let text = para.repeat(20_000);
    assert!(text.len() > 1_000_000);
    for e in [
        Encoding::O200kBase,
        Encoding::Cl100kBase,
        Encoding::R50kBase,
    ] {
        let want = reference(e).encode_ordinary(&text).len();
        assert_eq!(Tokenizer::Exact(e).count(&text), want, "{e}");
    }
}
