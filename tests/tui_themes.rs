//! Every bundled theme loads with every slot; user overrides; NO_COLOR.

use ratatui::style::{Color, Modifier};
use tokenscope::tui::testing::{BUNDLED, SLOTS};
use tokenscope::tui::testing::{Theme, ThemeError};

#[test]
fn every_bundled_theme_loads() {
    assert_eq!(BUNDLED.len(), 4);
    for (name, _) in BUNDLED {
        let t = Theme::bundled(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.name, name);
        // States must look different from each other.
        assert_ne!(t.included, t.excluded, "{name}");
        assert_ne!(t.token_a, t.token_b, "{name}");
        assert_ne!(t.selected, t.text, "{name}");
        assert_ne!(t.over_budget, t.bar_fill, "{name}");
    }
    assert!(SLOTS.contains(&"over_budget") && SLOTS.contains(&"bar_empty"));
}

#[test]
fn monochrome_has_no_colour() {
    let t = Theme::bundled("monochrome").unwrap();
    for style in [
        t.text,
        t.muted,
        t.header,
        t.selected,
        t.included,
        t.pinned,
        t.truncated,
        t.degraded,
        t.excluded,
        t.over_budget,
        t.bar_fill,
        t.bar_empty,
        t.token_a,
        t.token_b,
        t.escape,
        t.changed,
        t.status_error,
        t.popup,
    ] {
        assert!(style.fg.is_none() && style.bg.is_none(), "{style:?}");
    }
    assert!(t.selected.add_modifier.contains(Modifier::REVERSED));
    // Without colour, and no --theme, monochrome is the default.
    assert_eq!(
        tokenscope::tui::testing::choose_theme(None, false)
            .unwrap()
            .name,
        "monochrome"
    );
    assert_eq!(
        tokenscope::tui::testing::choose_theme(None, true)
            .unwrap()
            .name,
        "dark"
    );
    assert_eq!(
        tokenscope::tui::testing::choose_theme(Some("light"), false)
            .unwrap()
            .name,
        "light"
    );
}

#[test]
fn user_overrides_some_slots() {
    let t = Theme::bundled("dark")
        .unwrap()
        .with_overrides(
            "[slots]\nexcluded = { fg = \"#ff8800\", bold = true }\n",
            "theme.toml",
        )
        .unwrap();
    assert_eq!(t.excluded.fg, Some(Color::Rgb(255, 136, 0)));
    assert!(t.excluded.add_modifier.contains(Modifier::BOLD));
    assert_eq!(t.included, Theme::bundled("dark").unwrap().included);
}

#[test]
fn theme_errors_say_where() {
    let e = Theme::bundled("dark")
        .unwrap()
        .with_overrides("[slots]\nexclude = { fg = \"red\" }\n", "theme.toml")
        .unwrap_err();
    let ThemeError::Invalid {
        line,
        column,
        message,
        ..
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!((*line, *column), (2, 1));
    assert!(
        message.contains("unknown slot `exclude`") && message.contains("excluded"),
        "{e}"
    );
    let e = Theme::bundled("dark")
        .unwrap()
        .with_overrides("[slots]\ntext = { fg = \"mauve\" }\n", "theme.toml")
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("theme.toml:2:15: unknown colour `mauve`"),
        "{e}"
    );
    assert!(matches!(
        Theme::bundled("solarized"),
        Err(ThemeError::Unknown(_))
    ));
}
