//! Report exporters over hand-built plans, and check rules.

use std::path::Path;

use tokenscope::engine::{
    ItemPlan, ItemStatus, Overflow, Plan, PlanBudget, REPORT_SCHEMA, Reason, SectionPlan, Strategy,
    Totals, Transfer,
};
use tokenscope::report::{
    ColorMode, Format, ReportOptions, Rules, Violation, check, format_from_name, render_report,
    should_color, write_report, write_report_file,
};
use tokenscope::tokens::ErrorBand;

#[allow(clippy::too_many_arguments)]
fn item(
    id: &str,
    section: &str,
    tokens: usize,
    final_tokens: usize,
    priority: f64,
    status: ItemStatus,
    reason: Option<Reason>,
    index: usize,
) -> ItemPlan {
    ItemPlan {
        id: id.to_string(),
        section: section.to_string(),
        tokens,
        final_tokens,
        priority,
        pinned: status == ItemStatus::Pinned,
        status,
        reason,
        degrade_level: None,
        given: false,
        duplicate_of: None,
        index,
        final_text: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn section(
    name: &str,
    allocated: usize,
    final_budget: usize,
    used: usize,
    included: usize,
    excluded: usize,
    needed_for_next: Option<usize>,
) -> SectionPlan {
    SectionPlan {
        name: name.to_string(),
        allocated,
        final_budget,
        used,
        headroom: final_budget.saturating_sub(used),
        utilization: if final_budget == 0 {
            0.0
        } else {
            used as f64 / final_budget as f64
        },
        included,
        excluded,
        needed_for_next,
        frame: 0,
        from_reserve: 0,
        pinned_overrun: false,
        optimality_gap: None,
    }
}

/// A plan as the engine would produce for a small documentation context:
/// four sections, a pinned system prompt, a truncated and a degraded item, a
/// count given in the input, exclusions for several reasons, a reallocation
/// and a warning. One id holds a comma and quotes.
fn docs_plan() -> Plan {
    use ItemStatus::*;
    let mut items = vec![
        item("system-prompt", "header", 205, 205, 1.0, Pinned, None, 0),
        item("answer-style", "header", 213, 213, 0.9, Included, None, 1),
        item(
            "authentication",
            "concepts",
            613,
            613,
            0.95,
            Included,
            None,
            2,
        ),
        item("errors", "concepts", 951, 951, 0.9, Included, None, 3),
        item("idempotency", "concepts", 610, 610, 0.85, Included, None, 4),
        item("webhooks", "concepts", 616, 388, 0.8, Truncated, None, 5),
        item(
            "test-mode",
            "concepts",
            292,
            0,
            0.6,
            Excluded,
            Some(Reason::OverSectionBudget),
            6,
        ),
        item(
            "pickups",
            "concepts",
            330,
            0,
            0.3,
            Excluded,
            Some(Reason::BelowMinPriority),
            7,
        ),
        item(
            "page-shipments",
            "pages",
            1102,
            1102,
            0.9,
            Included,
            None,
            8,
        ),
        item("page-labels", "pages", 511, 164, 0.85, Degraded, None, 9),
        item(
            "faq: \"refunds\", part 2",
            "pages",
            240,
            240,
            0.7,
            Included,
            None,
            10,
        ),
        item(
            "page-labels-copy",
            "pages",
            511,
            0,
            0.5,
            Excluded,
            Some(Reason::Duplicate),
            11,
        ),
        item(
            "ex-create-shipment",
            "examples",
            450,
            450,
            0.9,
            Included,
            None,
            12,
        ),
        item(
            "ex-tool-call",
            "examples",
            120,
            0,
            0.6,
            Excluded,
            Some(Reason::GroupExcluded),
            13,
        ),
        item(
            "ex-tool-result",
            "examples",
            900,
            0,
            0.6,
            Excluded,
            Some(Reason::OverSectionBudget),
            14,
        ),
    ];
    items[9].degrade_level = Some(2);
    items[9].final_text = Some("# Labels\n\nBuying a label charges your balance.".into());
    items[10].given = true;
    items[5].final_text = Some("# Webhooks\n\nWebhooks tell your server … [cut]".into());

    let mut concepts = section("concepts", 1400, 2600, 2562, 4, 2, Some(254));
    concepts.from_reserve = 0;
    let sections = vec![
        section("header", 400, 420, 418, 2, 0, None),
        concepts,
        section("pages", 1000, 1520, 1506, 3, 1, None),
        section("examples", 1000, 460, 450, 1, 2, Some(610)),
    ];
    let rendered = "## Instructions\n\nYou are the documentation assistant…".to_string();
    Plan {
        schema: REPORT_SCHEMA,
        model: Some("gpt-4o".into()),
        encoding: "o200k_base".into(),
        exact: true,
        error_band: None,
        count_source: None,
        budget: PlanBudget {
            total: 5000,
            reserve_output: 1000,
            context_window: Some(128_000),
            reserved: 0,
            strategy: Strategy::Greedy,
            overflow: Overflow::Truncate,
            reallocate: true,
        },
        totals: Totals {
            used: 4936,
            rendered: 4978,
            context: 4978,
            included: 10,
            excluded: 5,
            utilization: 4978.0 / 5000.0,
            efficiency: 1.6896,
            estimate_chars4: 5190,
            cost_usd: Some(0.012445),
            optimality_gap: None,
        },
        sections,
        items,
        reallocations: vec![
            Transfer {
                from: "examples".into(),
                to: "concepts".into(),
                tokens: 540,
            },
            Transfer {
                from: "header".into(),
                to: "pages".into(),
                tokens: 20,
            },
        ],
        warnings: vec!["section shares add up to 95%; normalised to 100%".into()],
        rendered,
        chat_request: false,
    }
}

fn estimated(mut plan: Plan) -> Plan {
    plan.exact = false;
    plan.error_band = ErrorBand::new(0.10);
    plan.model = Some("claude-sonnet-4".into());
    plan.encoding = "o200k_base*1.1".into();
    plan
}

fn opts() -> ReportOptions {
    ReportOptions {
        title: Some("samples/docs/docs.toml".into()),
        ..ReportOptions::default()
    }
}

#[test]
fn json_is_the_report_schema() {
    let plan = docs_plan();
    let out = render_report(&plan, Format::Json, &opts());
    insta::assert_snapshot!("report_json", out);
    assert!(out.ends_with("}\n"));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "tokenscope.report/1");
    // The field names of docs/report-schema.md, version 1.
    for key in [
        "schema",
        "model",
        "encoding",
        "exact",
        "error_band",
        "budget",
        "totals",
        "sections",
        "items",
        "reallocations",
        "warnings",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    for key in [
        "total",
        "reserve_output",
        "reserved",
        "strategy",
        "overflow",
        "reallocate",
    ] {
        assert!(v["budget"].get(key).is_some(), "budget.{key}");
    }
    for key in [
        "used",
        "rendered",
        "included",
        "excluded",
        "utilization",
        "efficiency",
        "estimate_chars4",
        "cost_usd",
    ] {
        assert!(v["totals"].get(key).is_some(), "totals.{key}");
    }
    for key in [
        "name",
        "allocated",
        "final",
        "used",
        "included",
        "excluded",
        "needed_for_next",
    ] {
        assert!(v["sections"][0].get(key).is_some(), "sections[].{key}");
    }
    for key in [
        "id",
        "section",
        "tokens",
        "final_tokens",
        "priority",
        "pinned",
        "status",
        "reason",
        "degrade_level",
    ] {
        assert!(v["items"][0].get(key).is_some(), "items[].{key}");
    }
    assert_eq!(v["items"][6]["reason"], "over_section_budget");
    assert_eq!(v["items"][9]["status"], "degraded");
    assert_eq!(v["items"][9]["degrade_level"], 2);
    assert_eq!(v["reallocations"][0]["from"], "examples");
    assert_eq!(v["exact"], true);
    assert!(v["error_band"].is_null(), "exact counts have no band");
    // Stable: the same plan gives the same bytes.
    assert_eq!(out, render_report(&plan, Format::Json, &opts()));
}

#[test]
fn json_gives_the_error_band_of_estimates() {
    let out = render_report(&estimated(docs_plan()), Format::Json, &opts());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["exact"], false);
    assert_eq!(v["error_band"], 0.1);
    // Right after `exact`, and counts stay plain numbers.
    assert!(
        out.contains("\"exact\": false,\n  \"error_band\": 0.1,\n"),
        "{out}"
    );
    assert_eq!(v["totals"]["rendered"], 4978);
}

#[test]
fn markdown_tables() {
    let out = render_report(&docs_plan(), Format::Markdown, &opts());
    insta::assert_snapshot!("report_md", out);
    assert!(!out.contains('≈'));
    assert!(out.contains("| `faq: \"refunds\", part 2` | pages | included |"));
    assert!(out.contains("truncated from 616 to 388 tokens"));
    assert!(out.contains("degraded to outline (level 2)"));
    assert!(out.contains("same content as an included item"));
}

#[test]
fn markdown_marks_estimates() {
    let out = render_report(&estimated(docs_plan()), Format::Markdown, &opts());
    insta::assert_snapshot!("report_md_estimate", out);
    assert!(out.contains(
        "> Counts are estimates (o200k_base*1.1), marked ≈; the real count is expected within ±10% of the estimate."
    ));
    assert!(out.contains("| Used | ≈4,936 ±10% tokens (99.6% of the budget) |"));
    assert!(out.contains("| Context | ≈4,978 ±10% tokens (the exact count of what is sent) |"));
    assert!(out.contains("| Counting | claude-sonnet-4 · o200k_base*1.1 · ≈ estimate ±10% |"));
    // Every count has the band: sections, items, what a change cost.
    assert!(out.contains("truncated from ≈616 ±10% to ≈388 ±10% tokens"));
    assert!(out.contains("| ≈+254 ±10% |"));
    let exact = render_report(&docs_plan(), Format::Markdown, &opts());
    assert!(!exact.contains('±'), "no band on exact counts");
    // Budgets are not counts: they stay unmarked.
    assert!(out.contains("| Budget | 5,000 tokens"));
}

/// A small RFC 4180 reader, to check the writer's quoting independently.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

#[test]
fn csv_rows_and_quoting() {
    let mut plan = docs_plan();
    plan.items[0].id = "line\nbreak".into();
    let out = render_report(&plan, Format::Csv, &opts());
    insta::assert_snapshot!("report_csv", out);
    let rows = parse_csv(&out);
    assert_eq!(
        rows[0],
        [
            "id",
            "section",
            "status",
            "reason",
            "tokens",
            "final_tokens",
            "priority",
            "pinned",
            "degrade_level",
            "given",
            "exact",
            "error_band"
        ]
    );
    assert_eq!(rows.len(), plan.items.len() + 1);
    assert!(rows.iter().all(|r| r.len() == 12), "{rows:?}");
    // Single-line text cells: the line break is shown escaped.
    assert_eq!(rows[1][0], "line\\nbreak");
    assert_eq!(
        rows[11],
        [
            "faq: \"refunds\", part 2",
            "pages",
            "included",
            "",
            "240",
            "240",
            "0.7",
            "false",
            "",
            "true",
            "true",
            ""
        ]
    );
    assert_eq!(rows[7][3], "over_section_budget");
    assert_eq!(rows[10][8], "2");
    let est = render_report(&estimated(docs_plan()), Format::Csv, &opts());
    assert!(parse_csv(&est)[1..].iter().all(|r| r[10] == "false"));
    assert!(
        parse_csv(&est)[1..].iter().all(|r| r[11] == "0.1"),
        "the band as a fraction on every row"
    );
    assert!(!est.contains('≈'), "CSV numbers stay numbers");
    assert!(!est.contains('±'), "CSV numbers stay numbers");
}

#[test]
fn context_is_the_rendered_text_exactly() {
    let mut plan = docs_plan();
    plan.rendered = "## Instructions\r\n\nNo trailing newline, unicode ✓ \u{1b}".into();
    let out = render_report(&plan, Format::Context, &opts());
    assert_eq!(out, plan.rendered);
}

#[test]
fn text_summary() {
    let out = render_report(&docs_plan(), Format::Text, &opts());
    insta::assert_snapshot!("report_text", out);
    assert!(!out.contains('\x1b'), "no colour unless asked");
    for line in out.lines() {
        let w = unicode_width::UnicodeWidthStr::width(line);
        assert!(w <= 80, "{w} columns: {line}");
    }
}

#[test]
fn text_summary_with_estimates_and_colour() {
    let plan = estimated(docs_plan());
    let out = render_report(&plan, Format::Text, &opts());
    insta::assert_snapshot!("report_text_estimate", out);
    assert!(out.contains("used ≈4,936 ±10% / 5,000 tokens (99.6%) · context ≈4,978 ±10%"));
    assert!(out.contains("claude-sonnet-4 · o200k_base*1.1 · ≈ estimate ±10%"));
    for line in out.lines() {
        let w = unicode_width::UnicodeWidthStr::width(line);
        assert!(w <= 80, "{w} columns: {line}");
    }
    let exact = render_report(&docs_plan(), Format::Text, &opts());
    assert!(!exact.contains('±'), "no band on exact counts");
    let coloured = render_report(
        &plan,
        Format::Text,
        &ReportOptions {
            color: true,
            ..opts()
        },
    );
    assert!(coloured.contains("\x1b[32m"), "bars are green");
    assert!(coloured.contains("\x1b[33m!"), "warnings are yellow");
    assert!(coloured.contains("\x1b[0m"));
}

#[test]
fn text_summary_shows_overruns_and_long_lists() {
    let mut plan = docs_plan();
    plan.sections[0].pinned_overrun = true;
    plan.sections[0].used = 900;
    plan.sections[2].from_reserve = 120;
    for n in 0..30 {
        plan.items.push(item(
            &format!("chunk-{n}"),
            "examples",
            100 + n,
            0,
            0.1,
            ItemStatus::Excluded,
            Some(Reason::BelowCutoff),
            20 + n,
        ));
    }
    let out = render_report(&plan, Format::Text, &opts());
    assert!(out.contains("! pinned overrun"), "{out}");
    assert!(out.contains("+120 from reserve"), "{out}");
    assert!(out.contains("excluded (35)"), "{out}");
    assert!(out.contains("… and 15 more"), "{out}");
}

#[test]
fn control_characters_in_ids_are_escaped() {
    let mut plan = docs_plan();
    plan.items[6].id = "evil\u{1b}[2J|id".into();
    plan.sections[1].name = "con\u{7}cepts".into();
    for format in [Format::Text, Format::Markdown] {
        let out = render_report(&plan, format, &opts());
        assert!(!out.contains('\u{1b}'), "{format}: {out}");
        assert!(!out.contains('\u{7}'), "{format}");
        assert!(out.contains("evil\\x1b[2J"), "{format}");
    }
    let md = render_report(&plan, Format::Markdown, &opts());
    assert!(md.contains("`evil\\x1b[2J\\|id`"), "{md}");
}

#[test]
fn narrow_and_empty_plans_do_not_panic() {
    let plan = docs_plan();
    for width in [0, 1, 20, 500] {
        let out = render_report(&plan, Format::Text, &ReportOptions { width, ..opts() });
        assert!(out.contains("concepts"));
    }
    let mut empty = docs_plan();
    empty.items.clear();
    empty.sections.clear();
    empty.reallocations.clear();
    empty.warnings.clear();
    empty.totals.rendered = 0;
    empty.model = None;
    empty.totals.cost_usd = None;
    for format in Format::ALL {
        if format == Format::Request {
            // Only for chat requests.
            let mut out = Vec::new();
            let e = write_report(&empty, format, &mut out, &ReportOptions::default()).unwrap_err();
            assert!(e.to_string().contains("not a chat request"), "{e}");
            continue;
        }
        let out = render_report(&empty, format, &ReportOptions::default());
        if format != Format::Context {
            assert!(!out.is_empty(), "{format}");
        }
    }
}

#[test]
fn files_are_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    std::fs::write(&path, "old").unwrap();
    let plan = docs_plan();
    write_report_file(&plan, Format::Json, &path, &opts()).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        render_report(&plan, Format::Json, &opts())
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["report.json"], "no temporary file is left");
    let missing = dir.path().join("no/such/dir/report.md");
    assert!(write_report_file(&plan, Format::Markdown, &missing, &opts()).is_err());
    assert!(!missing.exists());
}

#[test]
fn format_names() {
    for f in Format::ALL {
        assert_eq!(format_from_name(f.name()).unwrap(), f);
        assert_eq!(f.name().parse::<Format>().unwrap(), f);
    }
    assert_eq!(format_from_name("Markdown").unwrap(), Format::Markdown);
    assert_eq!(
        format_from_name("yaml").unwrap_err().to_string(),
        "unknown report format `yaml`; expected one of: json, md, csv, context, text, request"
    );
    assert_eq!(
        Format::from_path(Path::new("out/r.JSON")),
        Some(Format::Json)
    );
    assert_eq!(
        Format::from_path(Path::new("r.markdown")),
        Some(Format::Markdown)
    );
    assert_eq!(Format::from_path(Path::new("r.csv")), Some(Format::Csv));
    assert_eq!(Format::from_path(Path::new("prompt.txt")), None);
    assert!(!should_color(ColorMode::Never, true));
    assert!(should_color(ColorMode::Always, false));
    assert!(!should_color(ColorMode::Auto, false));
}

// --- check rules ------------------------------------------------------------------

#[test]
fn a_good_plan_passes() {
    let rules = Rules {
        max_utilization: Some(1.0),
        min_included: vec![("concepts".into(), 4), ("pages".into(), 3)],
        must_include: vec![
            "system-prompt".into(),
            "webhooks".into(),
            "page-labels".into(),
        ],
    };
    assert_eq!(check(&docs_plan(), &rules), []);
    assert_eq!(check(&docs_plan(), &Rules::default()), []);
}

#[test]
fn every_rule_reports_one_line() {
    let mut plan = docs_plan();
    plan.totals.rendered = 5012;
    plan.totals.utilization = 5012.0 / 5000.0;
    plan.sections[0].pinned_overrun = true;
    plan.sections[0].used = 640;
    plan.items[0].status = ItemStatus::Excluded;
    plan.items[0].reason = Some(Reason::RenderTrim);
    let rules = Rules {
        max_utilization: Some(0.9),
        min_included: vec![("examples".into(), 2), ("appendix".into(), 1)],
        must_include: vec!["test-mode".into(), "faq".into()],
    };
    let violations = check(&plan, &rules);
    let rules_hit: Vec<_> = violations.iter().map(Violation::rule).collect();
    assert_eq!(
        rules_hit,
        [
            "rendered_over_total",
            "pinned_overrun",
            "pinned_excluded",
            "max_utilization",
            "min_included",
            "unknown_section",
            "must_include",
            "must_include_missing"
        ]
    );
    let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(lines.iter().all(|l| !l.contains('\n')));
    insta::assert_snapshot!("check_violations", lines.join("\n"));
    assert_eq!(
        serde_json::to_string(&violations[4]).unwrap(),
        r#"{"rule":"min_included","message":"section `examples` includes 1 item, fewer than the required 2"}"#
    );
}

#[test]
fn a_check_verdict_goes_into_the_json_and_markdown_reports() {
    use tokenscope::report::{CheckReport, Rules, check};
    let plan = docs_plan();
    let rules = Rules {
        must_include: vec!["no-such-id".into()],
        ..Rules::default()
    };
    let verdict = CheckReport::new(&check(&plan, &rules));
    assert!(!verdict.passed);
    let with = ReportOptions {
        check: Some(verdict),
        ..opts()
    };
    let json: serde_json::Value =
        serde_json::from_str(&render_report(&plan, Format::Json, &with)).unwrap();
    assert_eq!(json["check"]["passed"], false);
    assert_eq!(json["check"]["failures"][0]["rule"], "must_include_missing");
    // The plan's fields come first, unchanged.
    let without: serde_json::Value =
        serde_json::from_str(&render_report(&plan, Format::Json, &opts())).unwrap();
    let mut stripped = json.clone();
    stripped.as_object_mut().unwrap().remove("check");
    assert_eq!(stripped, without);
    assert!(without.get("check").is_none());
    let md = render_report(&plan, Format::Markdown, &with);
    assert!(
        md.contains("## Check\n\n- **must_include_missing**: must-include item `no-such-id`"),
        "{md}"
    );
    let passed = ReportOptions {
        check: Some(CheckReport::new(&[])),
        ..opts()
    };
    assert!(render_report(&plan, Format::Markdown, &passed).contains("## Check\n\nPassed"));
}
