//! The export dialog never proposes a path inside a folder input (where the
//! export would be refused: the next run would read it as an item). One
//! test in its own binary, because it changes the working folder.

mod tui_support;

use std::path::PathBuf;

use tokenscope::tui::testing::{App, AppOptions, Keymap, Theme};
use tui_support::{code, registry_models, screen, settle};

use crossterm::event::KeyCode;
use tokenscope::tui::testing::Action;

#[test]
fn the_export_dialog_proposes_a_path_outside_a_folder_input() {
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("prompts");
    std::fs::create_dir_all(folder.join("a")).unwrap();
    std::fs::write(folder.join("a/one.md"), "One prompt file.").unwrap();
    std::fs::write(folder.join("a/two.md"), "Another prompt file.").unwrap();
    std::env::set_current_dir(&folder).unwrap();
    let mut set = tokenscope::input::load_path(&folder, &Default::default()).unwrap();
    set.budget.total = Some(1_000);
    let mut app = App::new(AppOptions {
        inputs: vec![folder.clone()],
        models: registry_models(),
        theme: Theme::bundled("dark").unwrap(),
        keymap: Keymap::defaults(),
        profile_file: root.path().join("tokenscope.toml"),
        loader: None,
    });
    app.on_resize(160, 30);
    app.set_loaded(set);
    settle(&mut app);
    app.update(Action::Export);
    let proposed: PathBuf = root
        .path()
        .canonicalize()
        .unwrap()
        .join("tokenscope-report.json");
    let s = screen(&app, 160, 30);
    assert!(s.contains(&proposed.display().to_string()), "{s}");
    // Switching the format keeps the folder chosen.
    app.on_key(code(KeyCode::Tab));
    let md = root
        .path()
        .canonicalize()
        .unwrap()
        .join("tokenscope-report.md");
    let s = screen(&app, 160, 30);
    assert!(s.contains(&md.display().to_string()), "{s}");
    app.on_key(code(KeyCode::BackTab));
    // Taking the proposal writes the report there; nothing lands in the folder.
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup().is_none(), "{:?}", app.popup());
    settle(&mut app);
    assert!(proposed.is_file());
    assert!(!folder.join("tokenscope-report.json").exists());

    // A file input inside a folder that is also an input, the working
    // folder deeper still: the proposal is above both, and since the last
    // export is there, taking it asks before replacing it.
    let deep = folder.join("a");
    std::env::set_current_dir(&deep).unwrap();
    let mut set = tokenscope::input::load_path(&folder, &Default::default()).unwrap();
    set.budget.total = Some(1_000);
    let mut app = App::new(AppOptions {
        inputs: vec![folder.clone(), deep.join("one.md")],
        models: registry_models(),
        theme: Theme::bundled("dark").unwrap(),
        keymap: Keymap::defaults(),
        profile_file: root.path().join("tokenscope.toml"),
        loader: None,
    });
    app.on_resize(160, 30);
    app.set_loaded(set);
    settle(&mut app);
    app.update(Action::Export);
    let s = screen(&app, 160, 30);
    assert!(s.contains(&proposed.display().to_string()), "{s}");
    std::fs::write(&proposed, "an earlier report").unwrap();
    app.on_key(code(KeyCode::Enter));
    let s = screen(&app, 160, 30);
    assert!(s.contains("This file exists. Replace it?"), "{s}");
    assert_eq!(
        std::fs::read_to_string(&proposed).unwrap(),
        "an earlier report"
    );
    app.on_key(tui_support::key('y'));
    assert!(app.popup().is_none(), "{:?}", app.popup());
    settle(&mut app);
    assert_ne!(
        std::fs::read_to_string(&proposed).unwrap(),
        "an earlier report"
    );
    assert!(!deep.join("tokenscope-report.json").exists());
    assert!(!folder.join("tokenscope-report.json").exists());
}
