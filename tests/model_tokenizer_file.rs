//! A user models.toml that names a tokenizer file per model
//! (`tokenizer_file`): exact counts in `count` and `pack`, the listing in
//! `models`, path resolution, loading once and only when used, and errors
//! for missing or broken files.

mod byte_level;

use byte_level::{byte_char, byte_level};
use std::path::PathBuf;
use std::sync::Arc;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::{Value, json};
use tokenscope::tokens::{ModelRegistry, Tokenizer};

/// A byte-level BPE `tokenizer.json`: the 256 bytes are ids 0..=255, then
/// one token per merge, in merge order, from 256:
///   256 "he", 257 "ll", 258 "hell", 259 "hello", 260 " hello".
/// So "hello hello world" splits into "hello", " hello", " world" and counts
/// 1 + 1 + 6 (` world` has no merges: six bytes) = 8 tokens, where
/// o200k_base counts 3 and cl100k_base 3.
fn tiny_tokenizer_json() -> String {
    let merges = [
        ("h", "e"),
        ("l", "l"),
        ("he", "ll"),
        ("hell", "o"),
        (" ", "hello"),
    ];
    let mut vocab = serde_json::Map::new();
    for b in 0..=255u8 {
        vocab.insert(byte_char(b).to_string(), json!(b));
    }
    let mut merge_list = Vec::new();
    for (i, (a, b)) in merges.iter().enumerate() {
        let (a, b) = (byte_level(a), byte_level(b));
        vocab.insert(format!("{a}{b}"), json!(256 + i));
        merge_list.push(format!("{a} {b}"));
    }
    json!({
        "version": "1.0",
        "added_tokens": [],
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "post_processor": null,
        "decoder": null,
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false,
                  "ignore_merges": false, "vocab": vocab, "merges": merge_list}
    })
    .to_string()
}

const TEXT: &str = "hello hello world";
/// Hand-computed above.
const TINY_COUNT: u64 = 8;

/// A folder with `models.toml` naming `tok/tokenizer.json` (relative) for
/// the model `house-tiny`, the tokenizer file, `text.txt` and an item set.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(models_toml: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tok")).unwrap();
        std::fs::write(dir.path().join("tok/tokenizer.json"), tiny_tokenizer_json()).unwrap();
        std::fs::write(dir.path().join("models.toml"), models_toml).unwrap();
        std::fs::write(dir.path().join("text.txt"), TEXT).unwrap();
        std::fs::write(
            dir.path().join("set.toml"),
            format!(
                "[budget]\ntotal = 100\n\n[[sections]]\nname = \"main\"\nshare = 100\n\n\
                 [[items]]\nid = \"greeting\"\nsection = \"main\"\ntext = \"{TEXT}\"\n"
            ),
        )
        .unwrap();
        Setup { dir }
    }

    fn standard() -> Setup {
        Setup::new(
            "[[models]]\nname = \"house-tiny\"\ntokenizer_file = \"tok/tokenizer.json\"\ncontext_window = 4096\ninput_price = 1.0\n",
        )
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `tokenscope ARGS` run in an unrelated folder (so only the models.toml
    /// decides where the tokenizer file is), with no user config.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let elsewhere = tempfile::tempdir().unwrap();
        let out = cargo_bin_cmd!("tokenscope")
            .current_dir(elsewhere.path())
            .env("XDG_CONFIG_HOME", elsewhere.path())
            .env("HOME", elsewhere.path())
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn models_file(&self) -> String {
        self.path("models.toml").display().to_string()
    }
}

#[test]
fn count_with_the_model_is_exact_with_its_tokenizer_file() {
    let s = Setup::standard();
    let models = s.models_file();
    let text = s.path("text.txt").display().to_string();
    let (code, stdout, stderr) = s.run(&[
        "count",
        "--models-file",
        &models,
        "--model",
        "house-tiny",
        "--model",
        "gpt-4o",
        &text,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let row = stdout.lines().find(|l| l.contains("text.txt")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1..], ["8", "3"], "{stdout}");
    assert!(!stdout.contains('≈') && !stdout.contains('±'), "{stdout}");
    // The header names the file (folder and name) as the encoding.
    assert!(stdout.contains("tok/tokenizer.json"), "{stdout}");

    let (code, stdout, stderr) = s.run(&[
        "count",
        "--json",
        "--models-file",
        &models,
        "-m",
        "house-tiny",
        &text,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["model"], "house-tiny");
    assert_eq!(r["total"], TINY_COUNT);
    assert_eq!(r["exact"], true);
    assert_eq!(r["error_band"], Value::Null);
    assert_eq!(r["encoding"], "tok/tokenizer.json");
    assert_eq!(r["context_window"], 4096);
}

#[test]
fn pack_with_the_model_counts_with_its_tokenizer_file() {
    let s = Setup::standard();
    let set = s.path("set.toml").display().to_string();
    let (code, stdout, stderr) = s.run(&[
        "pack",
        &set,
        "--json",
        "--models-file",
        &s.models_file(),
        "--model",
        "house-tiny",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["model"], "house-tiny");
    assert_eq!(v["encoding"], "tok/tokenizer.json");
    assert_eq!(v["exact"], true);
    assert_eq!(v["error_band"], Value::Null);
    assert_eq!(v["items"][0]["tokens"], TINY_COUNT);
    assert_eq!(v["items"][0]["status"], "included");
    // The rendered context is the one item: counted by the same file.
    assert_eq!(v["totals"]["rendered"], TINY_COUNT);

    let (code, stdout, stderr) = s.run(&[
        "pack",
        &set,
        "--format",
        "md",
        "--models-file",
        &s.models_file(),
        "--model",
        "house-tiny",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("| Counting | house-tiny · tok/tokenizer.json · exact |"),
        "{stdout}"
    );
    assert!(!stdout.contains('≈'), "{stdout}");
}

#[test]
fn models_lists_the_model_as_exact_with_its_file() {
    let s = Setup::standard();
    let (code, stdout, stderr) = s.run(&["models", "--models-file", &s.models_file()]);
    assert_eq!(code, 0, "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("house-tiny "))
        .unwrap();
    let file = s.path("tok/tokenizer.json").display().to_string();
    assert!(row.contains(&file), "{row}");
    assert!(!row.contains('≈') && !row.contains("not found"), "{row}");

    let (code, stdout, stderr) = s.run(&["models", "--json", "--models-file", &s.models_file()]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let m = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "house-tiny")
        .unwrap();
    assert_eq!(m["exact"], true);
    assert_eq!(m["error_band"], Value::Null);
    assert_eq!(m["encoding"], file.as_str());
    assert_eq!(m["tokenizer_file"], file.as_str());
    assert_eq!(m["source"], s.models_file().as_str());

    // The listing does not read the file; a missing one is marked.
    std::fs::remove_file(s.path("tok/tokenizer.json")).unwrap();
    let (code, stdout, stderr) = s.run(&["models", "--models-file", &s.models_file()]);
    assert_eq!(code, 0, "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("house-tiny "))
        .unwrap();
    assert!(row.contains("(not found)"), "{row}");
}

#[test]
fn a_missing_tokenizer_file_names_the_models_file_the_model_and_the_file() {
    let s = Setup::new(
        "# team models\n[[models]]\nname = \"house-tiny\"\ntokenizer_file = \"tok/missing.json\"\n",
    );
    let text = s.path("text.txt").display().to_string();
    let (code, stdout, stderr) = s.run(&[
        "count",
        "--models-file",
        &s.models_file(),
        "-m",
        "house-tiny",
        &text,
    ]);
    assert_eq!(code, 2, "{stdout}");
    assert_eq!(stdout, "");
    let expected_start = format!(
        "tokenscope: {}:4:18: model `house-tiny`: tokenizer_file \"tok/missing.json\" cannot be used: cannot read tokenizer file {}",
        s.models_file(),
        s.path("tok/missing.json").display()
    );
    assert!(stderr.starts_with(&expected_start), "{stderr}");

    // `pack` says the same, and other models of the file still work.
    let set = s.path("set.toml").display().to_string();
    let (code, _, stderr) = s.run(&[
        "pack",
        &set,
        "--models-file",
        &s.models_file(),
        "--model",
        "house-tiny",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("model `house-tiny`"), "{stderr}");
    assert!(stderr.contains("tok/missing.json"), "{stderr}");
    let (code, _, stderr) = s.run(&[
        "count",
        "--models-file",
        &s.models_file(),
        "-m",
        "gpt-4o",
        &text,
    ]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_broken_tokenizer_file_names_the_models_file_the_model_and_the_json_position() {
    let s = Setup::standard();
    std::fs::write(s.path("tok/tokenizer.json"), "{\n  \"model\": [1,\n").unwrap();
    let text = s.path("text.txt").display().to_string();
    let (code, stdout, stderr) = s.run(&[
        "count",
        "--models-file",
        &s.models_file(),
        "-m",
        "house-tiny",
        &text,
    ]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.starts_with(&format!(
            "tokenscope: {}:3:18: model `house-tiny`: tokenizer_file \"tok/tokenizer.json\"",
            s.models_file()
        )),
        "{stderr}"
    );
    let file = s.path("tok/tokenizer.json").display().to_string();
    assert!(
        stderr.contains(&format!("{file}:2:13: invalid tokenizer.json")),
        "{stderr}"
    );
}

#[test]
fn paths_resolve_against_the_config_dir_and_home() {
    // The user's config-dir models.toml: a relative path is relative to it.
    let config = tempfile::tempdir().unwrap();
    let folder = config.path().join("tokenscope");
    std::fs::create_dir_all(folder.join("tok")).unwrap();
    std::fs::write(folder.join("tok/tokenizer.json"), tiny_tokenizer_json()).unwrap();
    std::fs::write(
        folder.join("models.toml"),
        "[[models]]\nname = \"house-tiny\"\ntokenizer_file = \"tok/tokenizer.json\"\n\n\
         [[models]]\nname = \"home-tiny\"\ntokenizer_file = \"~/t.json\"\n",
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("t.json"), tiny_tokenizer_json()).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    for model in ["house-tiny", "home-tiny"] {
        let out = cargo_bin_cmd!("tokenscope")
            .current_dir(elsewhere.path())
            .env("XDG_CONFIG_HOME", config.path())
            .env("HOME", home.path())
            .args(["count", "--json", "-m", model, "-"])
            .write_stdin(TEXT)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{model}: {stderr}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["results"][0]["total"], TINY_COUNT, "{model}");
    }
}

#[test]
fn the_file_is_read_only_when_the_model_is_used_and_once_per_process() {
    let s = Setup::standard();
    let models = s.path("models.toml");
    // Loading the registry does not read the file: it may be missing.
    std::fs::rename(s.path("tok/tokenizer.json"), s.path("tok/later.json")).unwrap();
    let registry = ModelRegistry::load(Some(&models)).unwrap();
    let spec = registry.get("house-tiny").unwrap();
    assert!(spec.is_exact());
    assert!(spec.tokenizer().is_err());
    // Once it is there, it loads on use ...
    std::fs::rename(s.path("tok/later.json"), s.path("tok/tokenizer.json")).unwrap();
    let Tokenizer::File(first) = spec.tokenizer().unwrap() else {
        panic!("expected a tokenizer file");
    };
    assert_eq!(first.count(TEXT), TINY_COUNT as usize);
    // ... and is parsed once: another registry, another model naming the
    // same file, and a changed file on disk all get the first load.
    std::fs::write(s.path("tok/tokenizer.json"), "not json any more").unwrap();
    std::fs::write(
        s.path("more.toml"),
        format!(
            "[[models]]\nname = \"twin\"\ntokenizer_file = \"{}\"\n",
            s.path("tok/tokenizer.json").display()
        ),
    )
    .unwrap();
    let mut again = ModelRegistry::load(Some(&models)).unwrap();
    again.extend_from_file(&s.path("more.toml")).unwrap();
    for name in ["house-tiny", "twin"] {
        let Tokenizer::File(next) = again.get(name).unwrap().tokenizer().unwrap() else {
            panic!("expected a tokenizer file");
        };
        assert!(Arc::ptr_eq(&first, &next), "{name}");
    }
}

#[test]
fn the_band_and_the_file_are_set_per_model_in_one_file() {
    // An estimate with its own band next to a file model.
    let s = Setup::new(
        "[[models]]\nname = \"house-tiny\"\ntokenizer_file = \"tok/tokenizer.json\"\n\n\
         [[models]]\nname = \"house-guess\"\nestimate = \"chars/4\"\nerror = 0.2\n",
    );
    let text = s.path("text.txt").display().to_string();
    let (code, stdout, stderr) = s.run(&[
        "count",
        "--models-file",
        &s.models_file(),
        "-m",
        "house-tiny",
        "-m",
        "house-guess",
        &text,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let row = stdout.lines().find(|l| l.contains("text.txt")).unwrap();
    // chars/4 of 17 characters: 5.
    assert!(row.contains("  8  ") && row.ends_with("≈5 ±20%"), "{row}");
}

mod tui_support;

/// Picks a model in the inspector's model picker.
fn pick(app: &mut tokenscope::tui::App, name: &str) {
    app.update(tokenscope::tui::Action::PickModel);
    for c in name.chars() {
        app.on_key(tui_support::key(c));
    }
    app.on_key(tui_support::code(crossterm::event::KeyCode::Enter));
    tui_support::settle(app);
}

#[test]
fn the_inspector_loads_the_file_when_the_model_is_picked() {
    use tokenscope::tui::{App, AppOptions, Keymap, ModelChoice, Theme};
    let s = Setup::new(
        "[[models]]\nname = \"house-tiny\"\ntokenizer_file = \"tok/tokenizer.json\"\ncontext_window = 4096\n\n\
         [[models]]\nname = \"house-broken\"\ntokenizer_file = \"tok/missing.json\"\ncontext_window = 4096\n",
    );
    let registry = ModelRegistry::load(Some(&s.path("models.toml"))).unwrap();
    let set = tokenscope::input::itemset::load(&s.path("set.toml")).unwrap();
    let mut app = App::new(AppOptions {
        inputs: vec![s.path("set.toml")],
        models: registry.models().iter().map(ModelChoice::from).collect(),
        theme: Theme::bundled("dark").unwrap(),
        keymap: Keymap::defaults(),
        profile_file: s.path("tokenscope.toml"),
        loader: None,
    });
    app.on_resize(100, 30);
    app.set_loaded(set);
    tui_support::settle(&mut app);

    pick(&mut app, "house-tiny");
    assert!(matches!(app.tokenizer(), Tokenizer::File(_)));
    let plan = app.plan().unwrap();
    assert!(plan.exact);
    assert_eq!(plan.items[0].tokens, TINY_COUNT as usize);
    let screen = tui_support::screen(&app, 100, 30);
    let header = screen.lines().next().unwrap();
    assert!(
        header.contains("model house-tiny · tok/tokenizer.json exact"),
        "{screen}"
    );
    assert!(!screen.contains('≈'), "{screen}");

    // A file that cannot be loaded: the error says which, and counting goes
    // on with the default encoding.
    pick(&mut app, "house-broken");
    let status = app.status().unwrap();
    assert!(status.error, "{}", status.text);
    assert!(
        status.text.contains("model `house-broken`") && status.text.contains("tok/missing.json"),
        "{}",
        status.text
    );
    assert_eq!(
        app.tokenizer(),
        &Tokenizer::Exact(tokenscope::tokens::Encoding::O200kBase)
    );
}
