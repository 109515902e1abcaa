//! Shared fixtures for the inspector tests: a documentation-like item set, a
//! hand-built plan for it, and an app showing that plan.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokenscope::engine::{
    Budget, Item, ItemPlan, ItemSet, ItemStatus, Overflow, Plan, PlanBudget, REPORT_SCHEMA, Reason,
    Section, SectionPlan, Strategy, Totals, Transfer,
};
use tokenscope::tokens::ModelSpec;
use tokenscope::tokens::{ChatFraming, Encoding, Estimate, ModelCounting, Tokenizer};
use tokenscope::tui::testing::{App, AppOptions, Keymap, Theme};
use tokenscope::tui::testing::{FrontierPoint, Job, JobOutput};

pub const AUTH: &str = "Authentication uses short-lived bearer tokens. Exchange your API key for a token at /v1/auth/token; tokens expire after 15 minutes.\n\nSend the token in the Authorization header:\n\n    Authorization: Bearer <token>\n";
pub const RATE: &str = "Rate limits apply per API key and per organisation. Requests over the limit get HTTP 429 with a Retry-After header. Batch endpoints count each item in the batch against the limit. Use exponential backoff with jitter, starting at one second and doubling up to a minute.";

/// A model with nothing set beyond what each literal gives.
fn spec_base() -> ModelSpec {
    ModelSpec::new(
        "",
        "",
        ModelCounting::Tokenizer(Tokenizer::Exact(Encoding::O200kBase)),
    )
}

pub fn models() -> Vec<ModelSpec> {
    vec![
        ModelSpec {
            name: "gpt-4o".into(),
            aliases: vec!["gpt-4o-2024-08-06".into()],
            provider: "openai".into(),
            counting: ModelCounting::Tokenizer(Tokenizer::Exact(Encoding::O200kBase)),
            context_window: Some(128_000),
            input_price: Some(2.5),
            chat: Some(ChatFraming::OPENAI_O200K),
            ..spec_base()
        },
        ModelSpec {
            name: "gpt-4".into(),
            aliases: vec![],
            provider: "openai".into(),
            counting: ModelCounting::Tokenizer(Tokenizer::Exact(Encoding::Cl100kBase)),
            context_window: Some(8_192),
            input_price: Some(30.0),
            chat: Some(ChatFraming::OPENAI_CL100K),
            ..spec_base()
        },
        ModelSpec {
            name: "claude-sonnet-4".into(),
            aliases: vec!["sonnet".into()],
            provider: "anthropic".into(),
            counting: ModelCounting::Tokenizer(Tokenizer::estimate(Estimate::Scaled {
                base: Encoding::O200kBase,
                ratio: 1.1,
            })),
            context_window: Some(200_000),
            input_price: Some(3.0),
            chat: None,
            ..spec_base()
        },
    ]
}

struct Spec {
    id: &'static str,
    section: &'static str,
    text: &'static str,
    priority: f64,
    pinned: bool,
    tokens: usize,
    final_tokens: usize,
    status: ItemStatus,
    reason: Option<Reason>,
    degrade: Option<u8>,
    final_text: Option<&'static str>,
}

const fn spec(
    id: &'static str,
    section: &'static str,
    text: &'static str,
    priority: f64,
    tokens: usize,
    status: ItemStatus,
) -> Spec {
    Spec {
        id,
        section,
        text,
        priority,
        pinned: false,
        tokens,
        final_tokens: tokens,
        status,
        reason: None,
        degrade: None,
        final_text: None,
    }
}

fn specs() -> Vec<Spec> {
    use ItemStatus::*;
    vec![
        Spec {
            pinned: true,
            ..spec(
                "header",
                "header",
                "# Acme API docs\nYou answer questions about the Acme API.",
                1.0,
                120,
                Pinned,
            )
        },
        spec("auth", "concepts", AUTH, 0.9, 820, Included),
        spec(
            "sessions",
            "concepts",
            "Sessions keep state between requests for up to an hour.",
            0.8,
            1200,
            Included,
        ),
        Spec {
            final_tokens: 1800,
            final_text: Some(
                "Rate limits apply per API key and per organisation. Requests over the limit get HTTP 429 …",
            ),
            ..spec("rate-limits", "concepts", RATE, 0.7, 2100, Truncated)
        },
        Spec {
            final_tokens: 0,
            reason: Some(Reason::OverSectionBudget),
            ..spec(
                "webhooks",
                "concepts",
                "Webhooks deliver events with at-least-once semantics.",
                0.5,
                1900,
                Excluded,
            )
        },
        Spec {
            final_tokens: 0,
            reason: Some(Reason::Duplicate),
            ..spec(
                "legacy-api",
                "concepts",
                "Sessions keep state between requests for up to an hour.",
                0.2,
                400,
                Excluded,
            )
        },
        spec(
            "quickstart",
            "pages",
            "Install the SDK, set ACME_API_KEY and call client.ping().",
            0.95,
            1500,
            Included,
        ),
        Spec {
            final_tokens: 900,
            degrade: Some(2),
            final_text: Some("## Reference\nEvery endpoint, its parameters and errors."),
            ..spec(
                "reference",
                "pages",
                "## Reference\nEvery endpoint, its parameters and errors.\n\nGET /v1/items lists items.",
                0.6,
                3100,
                Degraded,
            )
        },
        Spec {
            final_tokens: 0,
            reason: Some(Reason::OverSectionBudget),
            ..spec(
                "faq",
                "pages",
                "Frequently asked questions.",
                0.4,
                1200,
                Excluded,
            )
        },
        spec(
            "curl",
            "examples",
            "curl -H 'Authorization: Bearer $TOKEN' https://api.acme.dev/v1/items",
            0.8,
            600,
            Included,
        ),
        spec(
            "python",
            "examples",
            "client = acme.Client()\nfor item in client.items.list():\n\tprint(item.id)",
            0.7,
            900,
            Included,
        ),
        spec(
            "node",
            "examples",
            "const client = new Acme();\nawait client.items.list();",
            0.6,
            950,
            Included,
        ),
        Spec {
            final_tokens: 0,
            reason: Some(Reason::BelowCutoff),
            ..spec(
                "go",
                "examples",
                "c := acme.NewClient()",
                0.3,
                1000,
                Excluded,
            )
        },
        spec(
            "footer",
            "footer",
            "Answer with links to the pages you used.",
            0.5,
            60,
            Included,
        ),
    ]
}

pub fn item_set() -> ItemSet {
    let sections = vec![
        Section::share("header", 10.0),
        Section::share("concepts", 35.0),
        Section::share("pages", 25.0),
        Section::share("examples", 25.0),
        Section::share("footer", 5.0),
    ];
    let items = specs()
        .iter()
        .map(|s| {
            let mut i = Item::new(s.id, s.section, s.text);
            i.priority = s.priority;
            i.pinned = s.pinned;
            i
        })
        .collect();
    ItemSet {
        budget: Budget {
            total: Some(16_000),
            reserve_output: 4_096,
            model: Some("gpt-4o".into()),
            ..Budget::default()
        },
        sections,
        items,
        sources: vec![PathBuf::from("samples/docs/docs.toml")],
        warnings: vec![],
        chat: None,
    }
}

pub fn plan() -> Plan {
    let specs = specs();
    let items: Vec<ItemPlan> = specs
        .iter()
        .enumerate()
        .map(|(index, s)| ItemPlan {
            id: s.id.into(),
            section: s.section.into(),
            tokens: s.tokens,
            final_tokens: s.final_tokens,
            priority: s.priority,
            pinned: s.pinned,
            status: s.status,
            reason: s.reason,
            degrade_level: s.degrade,
            given: false,
            duplicate_of: (s.reason == Some(Reason::Duplicate)).then(|| "sessions".to_string()),
            index,
            final_text: s.final_text.map(str::to_string),
        })
        .collect();
    let section = |name: &str, allocated: usize, final_budget: usize, moved_in: bool| {
        let mine: Vec<&ItemPlan> = items.iter().filter(|i| i.section == name).collect();
        let used: usize = mine.iter().map(|i| i.final_tokens).sum();
        let excluded = mine
            .iter()
            .filter(|i| i.status == ItemStatus::Excluded)
            .count();
        let _ = moved_in;
        SectionPlan {
            name: name.into(),
            allocated,
            final_budget,
            used,
            frame: 0,
            headroom: final_budget.saturating_sub(used),
            utilization: if final_budget == 0 {
                0.0
            } else {
                used as f64 / final_budget as f64
            },
            included: mine.len() - excluded,
            excluded,
            needed_for_next: None,
            from_reserve: 0,
            pinned_overrun: false,
            optimality_gap: None,
        }
    };
    let sections = vec![
        section("header", 1600, 1600, false),
        section("concepts", 5600, 5900, true),
        section("pages", 4000, 4000, false),
        section("examples", 4000, 4000, false),
        section("footer", 800, 500, false),
    ];
    let used: usize = items.iter().map(|i| i.final_tokens).sum();
    let included = items
        .iter()
        .filter(|i| i.status != ItemStatus::Excluded)
        .count();
    Plan {
        schema: REPORT_SCHEMA,
        model: Some("gpt-4o".into()),
        encoding: "o200k_base".into(),
        exact: true,
        error_band: None,
        count_source: None,
        budget: PlanBudget {
            total: 16_000,
            reserve_output: 4_096,
            context_window: Some(128_000),
            reserved: 0,
            strategy: Strategy::Greedy,
            overflow: Overflow::Drop,
            reallocate: true,
        },
        totals: Totals {
            used,
            rendered: used + 12,
            context: used + 12,
            included,
            excluded: items.len() - included,
            utilization: (used + 12) as f64 / 16_000.0,
            efficiency: 0.8,
            estimate_chars4: used,
            cost_usd: Some((used + 12) as f64 * 2.5 / 1e6),
            optimality_gap: None,
        },
        sections,
        items,
        reallocations: vec![Transfer {
            from: "footer".into(),
            to: "concepts".into(),
            tokens: 300,
        }],
        warnings: vec![],
        rendered: String::new(),
        chat_request: false,
    }
}

pub fn frontier() -> Vec<FrontierPoint> {
    (0..=40)
        .map(|i| {
            let budget = i * 123_904 / 40;
            let f = (budget as f64 / 14_000.0).min(1.0);
            FrontierPoint {
                budget,
                priority: 9.35 * f.sqrt(),
                items: (14.0 * f) as usize,
            }
        })
        .collect()
}

pub fn empty_app() -> App {
    let dir = std::env::temp_dir();
    App::new(AppOptions {
        inputs: vec![PathBuf::from("samples/docs/docs.toml")],
        models: models(),
        theme: Theme::bundled("dark").unwrap(),
        keymap: Keymap::defaults(),
        profile_file: dir.join("tokenscope-tui-test.toml"),
        loader: None,
    })
}

/// Answers every queued job with `plan` (engine runs) and [`frontier`].
pub fn answer_jobs(app: &mut App, plan: &Plan) {
    loop {
        let jobs = app.take_jobs();
        if jobs.is_empty() {
            break;
        }
        answer(app, plan, jobs);
    }
}

fn answer(app: &mut App, plan: &Plan, jobs: Vec<Job>) {
    for job in jobs {
        match job {
            Job::Pack(p) => app.on_job(JobOutput::Packed {
                generation: p.generation,
                result: Ok(plan.clone()),
                elapsed: Duration::from_micros(1_250),
                warmed: Some(p.tokenizer.id()),
            }),
            Job::Frontier(f) => app.on_job(JobOutput::Frontier {
                generation: f.pack.generation,
                points: frontier(),
            }),
            Job::Load(_) => {}
            job @ (Job::History(_) | Job::Tokenizer(_) | Job::Write(_)) => {
                let runner = tokenscope::tui::testing::InlineRunner::new();
                for out in runner.run(job, tokenscope::tokens::CountCache::global()) {
                    app.on_job(out);
                }
            }
        }
    }
}

/// An app showing the hand-built plan at 100x30.
pub fn app() -> App {
    let mut app = empty_app();
    app.on_resize(100, 30);
    app.set_loaded(item_set());
    let plan = plan();
    answer_jobs(&mut app, &plan);
    app
}

/// The screen as text.
pub fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| tokenscope::tui::testing::draw(f, app))
        .unwrap();
    terminal.backend().to_string()
}

/// The drawn buffer.
pub fn buffer(app: &App, width: u16, height: u16) -> ratatui::buffer::Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| tokenscope::tui::testing::draw(f, app))
        .unwrap();
    terminal.backend().buffer().clone()
}

pub fn key(c: char) -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char(c),
        crossterm::event::KeyModifiers::NONE,
    )
}

pub fn code(code: crossterm::event::KeyCode) -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::new(code, crossterm::event::KeyModifiers::NONE)
}

/// The registry's models.
pub fn registry_models() -> Vec<ModelSpec> {
    tokenscope::tokens::ModelRegistry::builtin()
        .models()
        .to_vec()
}

/// An app on a real item set file, with the real engine run inline.
pub fn real_app(path: &str, profile_file: PathBuf) -> App {
    let set = tokenscope::input::itemset::load(std::path::Path::new(path)).unwrap();
    let mut app = App::new(AppOptions {
        inputs: vec![PathBuf::from(path)],
        models: registry_models(),
        theme: Theme::bundled("dark").unwrap(),
        keymap: Keymap::defaults(),
        profile_file,
        loader: None,
    });
    app.on_resize(100, 30);
    app.set_loaded(set);
    settle(&mut app);
    app
}

/// Runs every queued job with the real engine on this thread, then shows
/// the final plan with a fixed engine time so that screens are stable.
pub fn settle(app: &mut App) {
    let runner = tokenscope::tui::testing::InlineRunner::new();
    let cache = tokenscope::tokens::CountCache::global();
    loop {
        let jobs = app.take_jobs();
        if jobs.is_empty() {
            break;
        }
        for job in jobs {
            for out in runner.run(job, cache) {
                let out = match out {
                    JobOutput::Packed {
                        generation,
                        result,
                        warmed,
                        ..
                    } => JobOutput::Packed {
                        generation,
                        result,
                        elapsed: Duration::from_micros(1_250),
                        warmed,
                    },
                    other => other,
                };
                app.on_job(out);
            }
        }
    }
}

/// The time the History view's alerts look back from in tests.
pub const HISTORY_NOW: &str = "2025-07-01T00:00:00Z";

/// The History view's settings for `file`: priced with the built-in
/// registry, alerts up to [`HISTORY_NOW`].
pub fn history_options(file: &std::path::Path) -> tokenscope::tui::testing::HistoryOptions {
    tokenscope::tui::testing::HistoryOptions {
        file: Some(file.to_path_buf()),
        given: true,
        registry: Some(std::sync::Arc::new(
            tokenscope::tokens::ModelRegistry::builtin(),
        )),
        now: Some(tokenscope::history::parse_time(HISTORY_NOW).unwrap()),
    }
}

/// [`app`] with the History view open on `file`, read inline.
pub fn history_app(file: &std::path::Path) -> App {
    let mut app = app();
    app.set_history(history_options(file));
    app.update(tokenscope::tui::testing::Action::ToggleHistory);
    answer_jobs(&mut app, &plan());
    app
}
