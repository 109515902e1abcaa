//! Lays out tokenizer tables at build time so a process counts its first
//! token without parsing a vocabulary:
//!
//! - for each tiktoken encoding, the token bytes in rank order and an
//!   open-addressing hash table from bytes to rank (data from the
//!   tiktoken-rs crate, the reference implementation);
//! - a two-level character class table (letter, number, white space, the
//!   case classes of o200k, marks) built from regex-syntax's Unicode tables,
//!   the same tables the reference tokenizer's regex engine uses.

use std::env;
use std::fs;
use std::path::Path;

include!("src/tokens/table_hash.rs");

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/tokens/table_hash.rs");
    println!("cargo:rerun-if-changed=src/tokens/char_class.rs");
    let out = env::var("OUT_DIR").expect("OUT_DIR");
    let out = Path::new(&out);
    type Loader = fn() -> anyhow::Result<tiktoken_rs::CoreBPE>;
    let encodings: [(&str, Loader); 4] = [
        ("o200k_base", tiktoken_rs::o200k_base),
        ("cl100k_base", tiktoken_rs::cl100k_base),
        ("p50k_base", tiktoken_rs::p50k_base),
        ("r50k_base", tiktoken_rs::r50k_base),
    ];
    for (name, load) in encodings {
        let bpe = load().expect("reference encoding loads");
        let mut tokens: Vec<Vec<u8>> = Vec::new();
        while let Ok(b) = bpe.decode_bytes(&[tokens.len() as u32]) {
            tokens.push(b);
        }
        // Ranks are contiguous in every encoding; specials live above them.
        fs::write(out.join(format!("{name}.bin")), vocab_blob(&tokens)).expect("write table");
    }
    fs::write(out.join("charclass.bin"), charclass_blob()).expect("write class table");
}

/// Layout (little endian): n: u32, cap: u32, offsets: [u32; n + 1],
/// slots: [u32; cap], bytes: [u8].
/// A slot is `rank | min(len, 255) << 24`, or u32::MAX when empty.
fn vocab_blob(tokens: &[Vec<u8>]) -> Vec<u8> {
    let n = tokens.len();
    assert!(n < (1 << 24));
    let cap = (n * 2).next_power_of_two();
    let mut slots = vec![u32::MAX; cap];
    for (rank, t) in tokens.iter().enumerate() {
        let mut i = (table_hash(t) as usize) & (cap - 1);
        while slots[i] != u32::MAX {
            i = (i + 1) & (cap - 1);
        }
        slots[i] = rank as u32 | (t.len().min(255) as u32) << 24;
    }
    let mut blob = Vec::new();
    blob.extend((n as u32).to_le_bytes());
    blob.extend((cap as u32).to_le_bytes());
    let mut off = 0u32;
    for t in tokens {
        blob.extend(off.to_le_bytes());
        off += t.len() as u32;
    }
    blob.extend(off.to_le_bytes());
    for s in slots {
        blob.extend(s.to_le_bytes());
    }
    for t in tokens {
        blob.extend(t);
    }
    blob
}

include!("src/tokens/char_class.rs");

fn class_ranges(pattern: &str) -> Vec<(u32, u32)> {
    use regex_syntax::hir::{Class, HirKind};
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .expect("class parses");
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => c
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        other => panic!("unexpected class for {pattern}: {other:?}"),
    }
}

/// Layout: blocks: u32, index: [u16; 0x1100], then `blocks` blocks of 256
/// class bytes.
fn charclass_blob() -> Vec<u8> {
    let mut class = vec![0u8; 0x110000];
    for (pattern, bit) in CLASS_SETS {
        for (a, b) in class_ranges(pattern) {
            for c in a..=b {
                class[c as usize] |= bit;
            }
        }
    }
    let mut blocks: Vec<&[u8]> = Vec::new();
    let mut index = Vec::with_capacity(0x1100);
    for block in class.chunks(256) {
        let pos = blocks.iter().position(|b| *b == block).unwrap_or_else(|| {
            blocks.push(block);
            blocks.len() - 1
        });
        index.push(pos as u16);
    }
    let mut blob = Vec::new();
    blob.extend((blocks.len() as u32).to_le_bytes());
    for i in index {
        blob.extend(i.to_le_bytes());
    }
    for b in blocks {
        blob.extend(b);
    }
    blob
}
