//! `tokenscope models`, and the consistency of the clap definitions.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use clap::CommandFactory;

fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(sub)
}

/// `tokenscope` in `tests/fixtures/count` with no user config dir.
fn tokenscope(args: &[&str]) -> (i32, String, String) {
    let out = cargo_bin_cmd!("tokenscope")
        .current_dir(fixtures("count"))
        .env("XDG_CONFIG_HOME", fixtures("count/no-config-here"))
        .env("HOME", fixtures("count/no-config-here"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn cli_definitions_are_consistent() {
    tokenscope::cli::Cli::command().debug_assert();
}

#[test]
fn models_table() {
    let (code, stdout, stderr) = tokenscope(&["models"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains('\x1b'));
    // Estimates are marked in the counting column.
    let claude = stdout
        .lines()
        .find(|l| l.starts_with("claude-sonnet-4-5 "))
        .unwrap();
    assert!(claude.contains("≈ o200k_base*1.2 ±10%"), "{claude}");
    let gemini = stdout
        .lines()
        .find(|l| l.starts_with("gemini-2.5-pro "))
        .unwrap();
    // Gemini counts exactly with the embedded Gemma 3 model.
    assert!(gemini.contains(" gemma3 "), "{gemini}");
    assert!(!gemini.contains('≈') && !gemini.contains('±'), "{gemini}");
    let gpt = stdout.lines().find(|l| l.starts_with("gpt-4o ")).unwrap();
    assert!(!gpt.contains('≈') && !gpt.contains('±'), "{gpt}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn models_json() {
    let (code, stdout, stderr) = tokenscope(&["models", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["schema"], "tokenscope.models/1");
    let models = v["models"].as_array().unwrap();
    assert!(models.len() >= 28);
    let gpt4o = models.iter().find(|m| m["name"] == "gpt-4o").unwrap();
    assert_eq!(gpt4o["encoding"], "o200k_base");
    assert_eq!(gpt4o["exact"], true);
    assert_eq!(gpt4o["error_band"], serde_json::Value::Null);
    assert_eq!(gpt4o["tokenizer_file"], serde_json::Value::Null);
    let claude = models
        .iter()
        .find(|m| m["name"] == "claude-sonnet-4-5")
        .unwrap();
    assert_eq!(claude["exact"], false);
    assert_eq!(claude["encoding"], "o200k_base*1.2");
    assert_eq!(claude["error_band"], 0.1);
    // Every estimate has a band, no exact model has one.
    for m in models {
        assert_eq!(m["error_band"].is_null(), m["exact"] == true, "{m}");
    }
    assert_eq!(gpt4o["context_window"], 128_000);
    assert_eq!(gpt4o["chat"]["tokens_per_message"], 3);
    assert!(
        gpt4o["aliases"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("chatgpt-4o-latest"))
    );
    insta::assert_snapshot!(stdout);
}

#[test]
fn models_file_override_shows_in_the_listing() {
    let (code, stdout, stderr) =
        tokenscope(&["models", "--json", "--models-file", "override.toml"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let models = v["models"].as_array().unwrap();
    let gpt4o = models.iter().find(|m| m["name"] == "gpt-4o").unwrap();
    assert_eq!(gpt4o["context_window"], 64_000);
    assert_eq!(gpt4o["input_price_per_million"], 1.0);
    // Fields the override leaves out keep their built-in values.
    assert_eq!(gpt4o["output_price_per_million"], 10.0);
    assert_eq!(gpt4o["max_output"], 16_384);
    assert_eq!(gpt4o["source"], "override.toml");
    let house = models.iter().find(|m| m["name"] == "house-model").unwrap();
    assert_eq!(house["provider"], "acme");
    assert_eq!(house["chat"]["function_init"], 10);
    let untouched = models.iter().find(|m| m["name"] == "gpt-4").unwrap();
    assert_eq!(untouched["source"], serde_json::Value::Null);

    let (code, table, _) = tokenscope(&["models", "--models-file", "override.toml"]);
    assert_eq!(code, 0);
    let row = table
        .lines()
        .find(|l| l.starts_with("house-model "))
        .unwrap();
    assert!(row.contains("acme") && row.contains("32,000"), "{row}");
}

#[test]
fn bad_models_file_is_exit_2_with_position() {
    let (code, stdout, stderr) = tokenscope(&["models", "--models-file", "bad-models.toml"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("tokenscope: bad-models.toml:3:18: "),
        "{stderr}"
    );
}
