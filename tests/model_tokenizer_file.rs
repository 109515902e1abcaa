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
fn pick(app: &mut tokenscope::tui::testing::App, name: &str) {
    app.update(tokenscope::tui::testing::Action::PickModel);
    for c in name.chars() {
        app.on_key(tui_support::key(c));
    }
    app.on_key(tui_support::code(crossterm::event::KeyCode::Enter));
    tui_support::settle(app);
}

#[test]
fn the_inspector_loads_the_file_when_the_model_is_picked() {
    use tokenscope::tui::testing::{App, AppOptions, Keymap, Theme};
    let s = Setup::new(
        "[[models]]\nname = \"house-tiny\"\ntokenizer_file = \"tok/tokenizer.json\"\ncontext_window = 4096\n\n\
         [[models]]\nname = \"house-broken\"\ntokenizer_file = \"tok/missing.json\"\ncontext_window = 4096\n",
    );
    let registry = ModelRegistry::load(Some(&s.path("models.toml"))).unwrap();
    let set = tokenscope::input::itemset::load(&s.path("set.toml")).unwrap();
    let mut app = App::new(AppOptions {
        inputs: vec![s.path("set.toml")],
        models: registry.models().to_vec(),
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

// ----- the inspector loads tokenizer files in the background --------------

/// The inspector on the setup's item set, offering the models of its
/// models.toml (and the built-in ones), with the first plan computed under
/// the default encoding.
fn inspector(s: &Setup) -> tokenscope::tui::testing::App {
    use tokenscope::tui::testing::{App, AppOptions, Keymap, Theme};
    let registry = ModelRegistry::load(Some(&s.path("models.toml"))).unwrap();
    let set = tokenscope::input::itemset::load(&s.path("set.toml")).unwrap();
    let mut app = App::new(AppOptions {
        inputs: vec![s.path("set.toml")],
        models: registry.models().to_vec(),
        theme: Theme::bundled("dark").unwrap(),
        keymap: Keymap::defaults(),
        profile_file: s.path("tokenscope.toml"),
        loader: None,
    });
    app.on_resize(100, 30);
    app.set_loaded(set);
    tui_support::settle(&mut app);
    app
}

/// Picks a model in the model picker and returns the jobs it queued,
/// without running them.
fn pick_only(
    app: &mut tokenscope::tui::testing::App,
    name: &str,
) -> Vec<tokenscope::tui::testing::Job> {
    app.update(tokenscope::tui::testing::Action::PickModel);
    for c in name.chars() {
        app.on_key(tui_support::key(c));
    }
    app.on_key(tui_support::code(crossterm::event::KeyCode::Enter));
    assert!(app.popup().is_none(), "{name} is not in the picker");
    app.take_jobs()
}

/// The one tokenizer load among `jobs`.
fn tokenizer_job(jobs: Vec<tokenscope::tui::testing::Job>) -> tokenscope::tui::testing::Job {
    use tokenscope::tui::testing::Job;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job = jobs.into_iter().next().unwrap();
    assert!(matches!(job, Job::Tokenizer(_)), "{job:?}");
    job
}

/// Runs a job on this thread and hands its answers to the app.
fn answer(app: &mut tokenscope::tui::testing::App, job: tokenscope::tui::testing::Job) {
    let runner = tokenscope::tui::testing::InlineRunner::new();
    for out in runner.run(job, tokenscope::tokens::CountCache::global()) {
        app.on_job(out);
    }
}

fn is_default(t: &Tokenizer) -> bool {
    *t == Tokenizer::Exact(tokenscope::tokens::Encoding::O200kBase)
}

#[test]
fn picking_a_file_model_loads_it_in_the_background_and_keeps_the_last_plan() {
    use tokenscope::engine::Strategy;
    use tokenscope::tui::testing::Job;
    let s = Setup::standard();
    let mut app = inspector(&s);
    assert_eq!(app.plan().unwrap().items[0].tokens, 3, "o200k_base first");

    // Picking the model returns at once with a load job and no engine run.
    let job = tokenizer_job(pick_only(&mut app, "house-tiny"));
    let Job::Tokenizer(req) = &job else {
        unreachable!()
    };
    assert_eq!(req.file.model, "house-tiny");
    assert!(!req.file.is_loaded(), "nothing was parsed on the UI thread");
    assert_eq!(
        app.loading_tokenizer().map(|l| l.generation),
        Some(req.generation)
    );
    assert!(is_default(app.tokenizer()), "{}", app.tokenizer());
    assert_eq!(app.model().unwrap().name, "house-tiny");
    // The last plan stays, and the screen says what is loading.
    assert_eq!(app.plan().unwrap().items[0].tokens, 3);
    assert_eq!(app.plan().unwrap().model, None, "the set names no model");
    // Wide enough for the temporary folder's name in the header.
    let screen = tui_support::screen(&app, 160, 30);
    let header = screen.lines().next().unwrap();
    assert!(
        header.contains("model house-tiny · loading tokenizer file tok/tokenizer.json"),
        "{screen}"
    );
    let status = screen.lines().last().unwrap();
    assert!(
        status.contains("loading its tokenizer file tok/tokenizer.json")
            && status.contains("loading tokenizer"),
        "{status}"
    );
    assert!(app.busy());

    // Keys keep working meanwhile; their runs wait for the tokenizer.
    app.on_key(tui_support::key('s'));
    assert_eq!(app.tuning().strategy, Some(Strategy::Strict));
    assert!(
        app.take_jobs().is_empty(),
        "no run with the wrong tokenizer"
    );
    assert_eq!(app.plan().unwrap().budget.strategy, Strategy::Greedy);

    // The file arrives: the engine runs with it and the latest settings.
    answer(&mut app, job);
    assert!(app.loading_tokenizer().is_none());
    assert!(matches!(app.tokenizer(), Tokenizer::File(_)));
    let jobs = app.take_jobs();
    let Some(Job::Pack(pack)) = jobs.first() else {
        panic!("{jobs:?}")
    };
    assert!(matches!(pack.tokenizer, Tokenizer::File(_)));
    assert!(pack.warm, "a new tokenizer counts every text with progress");
    for job in jobs {
        answer(&mut app, job);
    }
    tui_support::settle(&mut app);
    let plan = app.plan().unwrap();
    assert_eq!(plan.items[0].tokens, TINY_COUNT as usize);
    assert_eq!(plan.budget.strategy, Strategy::Strict);
    assert_eq!(plan.model.as_deref(), Some("house-tiny"));
    let status = app.status().unwrap();
    assert!(
        !status.error && status.text.contains("loaded tok/tokenizer.json"),
        "{}",
        status.text
    );
    let screen = tui_support::screen(&app, 100, 30);
    assert!(
        screen
            .lines()
            .next()
            .unwrap()
            .contains("model house-tiny · tok/tokenizer.json exact"),
        "{screen}"
    );

    // A file loaded before needs no job: the engine runs at once.
    pick_only(&mut app, "gpt-4o");
    tui_support::settle(&mut app);
    let jobs = pick_only(&mut app, "house-tiny");
    assert!(
        matches!(jobs.as_slice(), [Job::Pack(p)] if matches!(p.tokenizer, Tokenizer::File(_))),
        "{jobs:?}"
    );
    assert!(app.loading_tokenizer().is_none());
}

#[test]
fn a_load_for_a_model_no_longer_chosen_is_dropped() {
    use tokenscope::tui::testing::Job;
    let s = Setup::new(
        "[[models]]\nname = \"house-tiny\"\ntokenizer_file = \"tok/tokenizer.json\"\n\n\
         [[models]]\nname = \"house-twin\"\ntokenizer_file = \"tok/twin.json\"\n\n\
         [[models]]\nname = \"house-third\"\ntokenizer_file = \"tok/third.json\"\n",
    );
    std::fs::write(s.path("tok/twin.json"), tiny_tokenizer_json()).unwrap();
    std::fs::write(s.path("tok/third.json"), tiny_tokenizer_json()).unwrap();
    let mut app = inspector(&s);

    // Picked, then a built-in model picked before the file arrived.
    let tiny = tokenizer_job(pick_only(&mut app, "house-tiny"));
    let jobs = pick_only(&mut app, "gpt-4o");
    assert!(matches!(jobs.as_slice(), [Job::Pack(_)]), "{jobs:?}");
    assert!(app.loading_tokenizer().is_none());
    for job in jobs {
        answer(&mut app, job);
    }
    tui_support::settle(&mut app);
    answer(&mut app, tiny);
    assert!(is_default(app.tokenizer()), "{}", app.tokenizer());
    assert!(app.take_jobs().is_empty(), "the stale file starts no run");
    assert_eq!(app.plan().unwrap().model.as_deref(), Some("gpt-4o"));
    assert_eq!(app.plan().unwrap().items[0].tokens, 3);

    // Two file models in a row: the first answer is stale, the second one
    // counts.
    let twin = tokenizer_job(pick_only(&mut app, "house-twin"));
    let third = tokenizer_job(pick_only(&mut app, "house-third"));
    assert!(third.generation() > twin.generation());
    answer(&mut app, twin);
    assert_eq!(
        app.loading_tokenizer().map(|l| l.file.model.as_str()),
        Some("house-third"),
        "still waiting for the newer load"
    );
    assert!(is_default(app.tokenizer()));
    assert!(app.take_jobs().is_empty());
    answer(&mut app, third);
    assert!(app.loading_tokenizer().is_none());
    let Tokenizer::File(f) = app.tokenizer() else {
        panic!("{}", app.tokenizer())
    };
    assert!(f.name().contains("third.json"), "{}", f.name());
    tui_support::settle(&mut app);
    let plan = app.plan().unwrap();
    assert_eq!(plan.model.as_deref(), Some("house-third"));
    assert_eq!(plan.items[0].tokens, TINY_COUNT as usize);

    // Undo goes back to house-twin, whose file the stale job did parse:
    // no job, the engine runs at once.
    app.update(tokenscope::tui::testing::Action::Undo);
    let jobs = app.take_jobs();
    assert!(matches!(jobs.as_slice(), [Job::Pack(_)]), "{jobs:?}");
}

#[test]
fn a_broken_file_shows_its_error_and_counting_falls_back() {
    use tokenscope::tui::testing::Job;
    let s = Setup::standard();
    std::fs::write(s.path("tok/tokenizer.json"), "{\n  \"model\": [1,\n").unwrap();
    let mut app = inspector(&s);
    let job = tokenizer_job(pick_only(&mut app, "house-tiny"));
    answer(&mut app, job);
    let status = app.status().unwrap().clone();
    assert!(status.error, "{}", status.text);
    let file = s.path("tok/tokenizer.json").display().to_string();
    for part in [
        format!("{}:3:18: model `house-tiny`", s.models_file()),
        format!("{file}:2:13: invalid tokenizer.json"),
        "counting with o200k_base".to_string(),
    ] {
        assert!(status.text.contains(&part), "{part}: {}", status.text);
    }
    assert!(app.loading_tokenizer().is_none());
    assert!(is_default(app.tokenizer()));
    tui_support::settle(&mut app);
    assert_eq!(app.plan().unwrap().items[0].tokens, 3);
    assert_eq!(app.plan().unwrap().model.as_deref(), Some("house-tiny"));

    // Other changes do not read the broken file again; the warning stays.
    app.on_key(tui_support::key('s'));
    let jobs = app.take_jobs();
    assert!(matches!(jobs.as_slice(), [Job::Pack(_)]), "{jobs:?}");
    for job in jobs {
        answer(&mut app, job);
    }
    tui_support::settle(&mut app);
    let screen = tui_support::screen(&app, 100, 30);
    assert!(
        screen
            .lines()
            .last()
            .unwrap()
            .contains("model `house-tiny`"),
        "{screen}"
    );

    // Fixed on disk and picked again: the file is read again and counts.
    std::fs::write(s.path("tok/tokenizer.json"), tiny_tokenizer_json()).unwrap();
    let job = tokenizer_job(pick_only(&mut app, "house-tiny"));
    answer(&mut app, job);
    assert!(matches!(app.tokenizer(), Tokenizer::File(_)));
    assert!(!app.status().unwrap().error);
    tui_support::settle(&mut app);
    assert_eq!(app.plan().unwrap().items[0].tokens, TINY_COUNT as usize);
}

#[cfg(unix)]
#[test]
fn the_inspector_never_waits_for_a_file_that_is_still_being_read() {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};
    use tokenscope::tui::testing::{InlineRunner, Job};
    let s = Setup::new("[[models]]\nname = \"house-slow\"\ntokenizer_file = \"tok/slow.json\"\n");
    // A named pipe: reading it waits until someone writes it, like a large
    // file on a slow disk.
    let fifo = s.path("tok/slow.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let mut app = inspector(&s);
    let job = tokenizer_job(pick_only(&mut app, "house-slow"));
    let (out_tx, out_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let outs = InlineRunner::new().run(job, tokenscope::tokens::CountCache::global());
        let _ = out_tx.send(outs);
    });
    // The pipe is written when the test says so, or after 20 s: a UI that
    // waits for the reader then fails the timing below instead of hanging.
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let _ = release_rx.recv_timeout(Duration::from_secs(20));
            std::fs::write(&fifo, tiny_tokenizer_json())
        })
    };
    // Let the worker start reading (it holds the file's slot meanwhile).
    std::thread::sleep(Duration::from_millis(300));

    let start = Instant::now();
    app.on_key(tui_support::key('s'));
    assert!(app.take_jobs().is_empty());
    let jobs = pick_only(&mut app, "gpt-4o");
    assert!(matches!(jobs.as_slice(), [Job::Pack(_)]), "{jobs:?}");
    // Picked again while the first read still runs: a new load is queued
    // at once (the file is not loaded yet).
    let again = tokenizer_job(pick_only(&mut app, "house-slow"));
    let waited = start.elapsed();
    assert!(waited < Duration::from_secs(5), "the UI waited {waited:?}");
    assert!(app.loading_tokenizer().is_some());

    release_tx.send(()).unwrap();
    writer.join().unwrap().unwrap();
    let outs = out_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    for out in outs {
        // The first read's answer is stale.
        app.on_job(out);
    }
    assert!(app.loading_tokenizer().is_some());
    answer(&mut app, again);
    assert!(matches!(app.tokenizer(), Tokenizer::File(_)));
    tui_support::settle(&mut app);
    let plan = app.plan().unwrap();
    assert_eq!(plan.model.as_deref(), Some("house-slow"));
    assert_eq!(plan.items[0].tokens, TINY_COUNT as usize);
    assert_eq!(plan.budget.strategy, tokenscope::engine::Strategy::Strict);
}
