//! History library tests: hand-checked predictions, the predictor against a
//! plain average on a synthetic history, report figures, storage.

#[path = "support/synth.rs"]
mod synth;

use time::{Duration, OffsetDateTime};
use tokenscope::engine::{Content, Item, ItemSet, PackContext, Section, pack};
use tokenscope::history::{
    self, Criticality, Mapping, Outcome, Period, Query, Record, ReportOptions, parse_time,
};
use tokenscope::tokens::{CountCache, Encoding, Tokenizer};

fn t(s: &str) -> OffsetDateTime {
    parse_time(s).unwrap()
}

fn rec(task: &str, ty: &str, complexity: u8, tags: &[&str], allocated: u64, used: u64) -> Record {
    Record {
        time: t("2025-06-01T00:00:00Z"),
        task: task.into(),
        task_type: ty.into(),
        complexity,
        tags: tags.iter().map(|s| s.to_string()).collect(),
        criticality: None,
        story_points: None,
        allocated,
        used,
        thinking: None,
        outcome: Some(Outcome::Success),
        quality: None,
        model: None,
        agent: None,
    }
}

/// Four `review` records and one of another type.
fn fixture() -> Vec<Record> {
    let mut a = rec("A", "review", 50, &["rust"], 10_000, 6_000);
    a.agent = Some("alice".into());
    a.thinking = Some(1_500);
    let mut b = rec("B", "review", 30, &["rust", "api"], 10_000, 4_000);
    b.agent = Some("bob".into());
    let mut c = rec("C", "review", 50, &[], 20_000, 9_000);
    c.agent = Some("bob".into());
    c.outcome = Some(Outcome::Failure);
    let mut d = rec("D", "Review", 70, &["rust"], 8_000, 7_800);
    d.agent = Some("alice".into());
    d.outcome = Some(Outcome::Failure);
    d.thinking = Some(3_900);
    let e = rec("E", "docs", 50, &["rust"], 1_000, 100_000);
    vec![a, b, c, d, e]
}

fn query() -> Query {
    Query {
        task_type: "review".into(),
        complexity: 50,
        tags: vec!["rust".into()],
        criticality: Criticality::Medium,
        agent: Some("alice".into()),
    }
}

#[test]
fn prediction_on_a_small_history_matches_the_hand_computation() {
    // Weights w = complexity × tags × agent × outcome; x = needed tokens
    // scaled by (50 + 50) / (50 + c):
    // A: c 50, tags {rust} (J 1), alice ×2, success: w = 1 × 1 × 2 = 2;
    //    x = 6,000.
    // B: c 30 → 1 / (1 + 20/10) = 1/3; J({rust},{rust,api}) = 1/2 → 0.75;
    //    bob: w = 0.25; x = 4,000 × 100/80 = 5,000.
    // C: c 50; J = 0 → 0.5; failure (used 45 % of budget) ×0.3: w = 0.15;
    //    x = 9,000.
    // D: c 70 → 1/3; J 1; alice ×2; failure at 97.5 % of its budget: under-
    //    allocated, keeps ×1, needs 1.25 × 8,000 = 10,000; w = 2/3;
    //    x = 10,000 × 100/120 = 8,333.33.
    // E: another type, ignored. Type match is case-insensitive (D).
    // Σw = 3.066667; Σwx = 12,000 + 1,250 + 1,350 + 5,555.56 = 20,155.56;
    // mean = 6,572.46 → expected 6,572;
    // budget = ceil100(6,572.46 × 1.15 = 7,558.3) = 7,600.
    // n_eff = 3.066667² / (4 + 0.0625 + 0.0225 + 0.444444) = 2.0763;
    // cv = 0.1786; confidence = 2.0763/6.0763 / (1 + 0.3572) = 0.2518 → 0.25.
    let p = history::predict(&fixture(), &query());
    assert_eq!(p.schema, "tokenscope.predict/1");
    assert_eq!(p.source, "history");
    assert_eq!(p.similar, 4);
    assert_eq!(p.own_records, 2);
    assert_eq!(p.expected_used, 6_572);
    assert_eq!(p.budget, 7_600);
    assert_eq!(p.effective_records, 2.08);
    assert_eq!(p.spread_cv, Some(0.18));
    assert_eq!(p.confidence, 0.25);
    assert_eq!(p.confidence_label, "low");
    // Covers: A (6,000) and B (5,000) fit 7,600: (2 + 0.25) / 3.066667 = 0.734.
    assert_eq!(p.covers, Some(0.73));
    assert!(p.reasoning.starts_with(
        "based on 4 similar review tasks (2 by alice, weighted double), weighted average 6,572 used at complexity 50; +15 % headroom; 1 failed for lack of budget"
    ), "{}", p.reasoning);
    // Thinking share from A (0.25, w 2) and D (0.5, w 2/3):
    // (0.5 + 0.3333) / 2.6667 = 0.3125. Budget 7,600: thinking 2,375; the rest
    // 0.6875 splits 15:50:10 → planning 0.1375 (1,045), reflection 0.0917
    // (697), execution the remainder 7,600 − 2,375 − 1,045 − 697 = 3,483.
    assert_eq!(p.phase_source, "history");
    let phases: Vec<(&str, u64)> = p.phases.iter().map(|ph| (ph.name, ph.tokens)).collect();
    assert_eq!(
        phases,
        [
            ("thinking", 2_375),
            ("planning", 1_045),
            ("execution", 3_483),
            ("reflection", 697)
        ]
    );
    // Alternatives: round100 of 7,600 × 0.7 / 1.3 / 1.6.
    let alts: Vec<(&str, u64)> = p.alternatives.iter().map(|a| (a.name, a.budget)).collect();
    assert_eq!(
        alts,
        [
            ("conservative", 5_300),
            ("generous", 9_900),
            ("maximum", 12_200)
        ]
    );
    // 5,300 covers B only: 0.25 / 3.0667 = 0.08; 9,900 all but nothing
    // above 9,900... all four fit: 1.0.
    assert_eq!(p.alternatives[0].covers, Some(0.08));
    assert_eq!(p.alternatives[1].covers, Some(1.0));
}

#[test]
fn criticality_raises_the_budget() {
    // 6,572.46 × 1.15 × 1.2 = 9,070.0 → 9,100.
    let mut q = query();
    q.criticality = Criticality::High;
    let p = history::predict(&fixture(), &q);
    assert_eq!(p.budget, 9_100);
    assert!(
        p.reasoning.contains("high criticality +20 %"),
        "{}",
        p.reasoning
    );
}

#[test]
fn without_history_the_defaults_are_used_and_said() {
    // code-review: 6,000 at complexity 50; ×(50 + 40)/100 = 5,400;
    // critical: ceil100(5,400 × 1.15 × 1.4 = 8,694) = 8,700.
    let q = Query {
        task_type: "code-review".into(),
        complexity: 40,
        criticality: Criticality::Critical,
        ..Query::default()
    };
    let p = history::predict(&[], &q);
    assert_eq!(
        (p.source, p.expected_used, p.budget),
        ("defaults", 5_400, 8_700)
    );
    assert_eq!((p.confidence, p.confidence_label), (0.0, "none"));
    assert!(p.reasoning.starts_with("no history:"), "{}", p.reasoning);
    assert_eq!(p.phase_source, "defaults");
    assert_eq!(p.phases[0].tokens, 2_175); // 25 % of 8,700
    // With records of other types only, it names the type.
    let p = history::predict(&fixture(), &q);
    assert!(
        p.reasoning.starts_with("no history for type code-review"),
        "{}",
        p.reasoning
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[test]
fn predictor_beats_the_plain_type_average_on_a_synthetic_history() {
    let records = synth::generate(42, 800);
    let (past, future) = records.split_at(600);
    let mut ours = Vec::new();
    let mut plain = Vec::new();
    for r in future {
        let p = history::predict(past, &Query::for_record(r));
        ours.push((p.expected_used as f64 - r.used as f64).abs());
        let same: Vec<f64> = past
            .iter()
            .filter(|x| x.task_type == r.task_type)
            .map(|x| x.used as f64)
            .collect();
        let avg = same.iter().sum::<f64>() / same.len() as f64;
        plain.push((avg - r.used as f64).abs());
    }
    let (ours, plain) = (median(ours), median(plain));
    println!(
        "synthetic history (seed 42, 600 past / 200 future records): median absolute error {ours:.0} tokens (predictor) vs {plain:.0} (type average)"
    );
    assert!(
        ours < plain * 0.8,
        "predictor {ours:.0} vs plain average {plain:.0}"
    );
}

fn fixture_for_report() -> Vec<Record> {
    let times = [
        "2025-06-01T10:00:00Z",
        "2025-06-02T10:00:00Z",
        "2025-06-09T10:00:00Z",
        "2025-06-14T10:00:00Z",
    ];
    let used = [1_000, 2_000, 3_000, 9_000];
    let mut out: Vec<Record> = times
        .iter()
        .zip(used)
        .enumerate()
        .map(|(i, (time, used))| {
            let mut r = rec(&format!("r{i}"), "qa", 50, &[], 4_000, used);
            r.time = t(time);
            r.model = Some("gpt-4o".into());
            r
        })
        .collect();
    out[3].allocated = 10_000;
    out.reverse(); // file order does not matter
    out
}

#[test]
fn report_figures_match_the_hand_computation() {
    let records = fixture_for_report();
    let registry = tokenscope::tokens::ModelRegistry::builtin();
    let opts = ReportOptions {
        now: t("2025-06-15T00:00:00Z"),
        period: Period::Week,
        registry: Some(&registry),
    };
    let rep = history::report(&records, &opts);
    assert_eq!(rep.schema, "tokenscope.history-report/1");
    let qa = &rep.types[0];
    // Utilisation: 0.25, 0.5, 0.75, 0.9 → mean 0.6.
    assert_eq!(qa.avg_utilization, 0.6);
    // Over-allocated (< 50 %): 1,000/4,000 only → 0.25. Under (> 95 % or
    // failed): none.
    assert_eq!(
        (qa.over_allocation_rate, qa.under_allocation_rate),
        (0.25, 0.0)
    );
    // Predicted from predecessors only: r1 from r0 → 1,000 (error 1,000,
    // accuracy 0.5); r2 from r0, r1 → 1,500 (error 1,500, accuracy 0.5); r3
    // from all three → 2,000 (error 7,000, accuracy 1 − 7/9 = 0.2222).
    // Mean accuracy 0.4074; median error 1,500.
    assert_eq!(qa.evaluated, 3);
    assert_eq!(qa.accuracy, Some(0.407));
    assert_eq!(qa.median_abs_error, Some(1_500));
    // Suggested budgets 1,200, 1,800, 2,300 against 4,000 + 4,000 + 10,000:
    // 18,000 − 5,300 = 12,700 saved; all three fell short of their use.
    assert_eq!(rep.savings.suggested_tokens, 5_300);
    assert_eq!(rep.savings.tokens_saved, 12_700);
    assert_eq!(rep.savings.would_fall_short, 3);
    // gpt-4o input price 2.50 $/M: 12,700 × 2.5 / 1e6 = 0.03175.
    let cost = rep.savings.cost_saved_usd.unwrap();
    assert!((cost - 0.03175).abs() <= 0.00006, "{cost}");
    assert_eq!(rep.savings.priced_records, 3);
    // Median used (2,000 + 3,000) / 2 = 2,500; r3 (9,000, 2025-06-14) is
    // within 7 days of the 15th and above 5,000: an outlier.
    assert_eq!(rep.alerts.len(), 1);
    assert_eq!(
        (rep.alerts[0].kind, rep.alerts[0].task.as_str()),
        ("outlier", "r3")
    );
    assert!(
        rep.alerts[0]
            .message
            .contains("3.6× the type median of 2,500")
    );
    // Weeks: W22 (June 1, a Sunday) has r0; W23 (June 2–8) r1; W24 r2 and
    // r3: (3,000 + 9,000) / (4,000 + 10,000) = 0.857.
    let trend: Vec<(&str, usize, f64)> = rep
        .trend
        .iter()
        .map(|p| (p.period.as_str(), p.records, p.utilization))
        .collect();
    assert_eq!(
        trend,
        [
            ("2025-W22", 1, 0.25),
            ("2025-W23", 1, 0.5),
            ("2025-W24", 2, 0.857)
        ]
    );
    let by_day = history::report(
        &records,
        &ReportOptions {
            period: Period::Day,
            ..opts
        },
    );
    assert_eq!(by_day.trend.len(), 4);
    assert_eq!(by_day.trend[0].period, "2025-06-01");
}

#[test]
fn an_empty_history_reports_nothing_without_failing() {
    let rep = history::report(
        &[],
        &ReportOptions {
            now: t("2025-06-15T00:00:00Z"),
            period: Period::Day,
            registry: None,
        },
    );
    assert_eq!(rep.records, 0);
    assert!(rep.types.is_empty() && rep.trend.is_empty() && rep.avg_utilization.is_none());
    assert!(history::report_text(&rep).contains("empty"));
}

#[test]
fn concurrent_appends_never_interleave() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep/er/history.jsonl");
    std::thread::scope(|s| {
        for w in 0..8 {
            let path = path.clone();
            s.spawn(move || {
                for i in 0..50 {
                    let mut r = rec(&format!("w{w}-{i}"), "qa", 10, &["x"; 1], 100, 50);
                    r.agent = Some("a".repeat(500 + w)); // long lines
                    history::append(&path, &[r]).unwrap();
                }
            });
        }
    });
    let records = history::load(&path).unwrap();
    assert_eq!(records.len(), 400);
}

#[test]
fn a_bad_line_in_the_history_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.jsonl");
    let good = rec("a", "qa", 1, &[], 10, 5).to_line();
    std::fs::write(&path, format!("{good}\n{{\"time\": 12}}\n")).unwrap();
    let err = history::load(&path).unwrap_err().to_string();
    assert!(err.contains("h.jsonl:3:11:"), "{err}");
    assert!(
        err.contains("field `time`: 12 is invalid; expected an RFC 3339 time string"),
        "{err}"
    );
    // A missing file is an empty history.
    assert!(
        history::load(&dir.path().join("none.jsonl"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn import_maps_fields_and_collects_bad_lines() {
    let text = r#"{"ts":"2025-06-01T00:00:00Z","id":"x1","kind":"qa","complexity":5,"budget":100,"tokens":80,"cost":1.5}
{"ts":"2025-06-01T00:00:00Z","id":"x2","kind":"qa","complexity":5,"budget":100}
{"ts":"2025-06-01T00:00:00Z","id":"x3","kind":"qa","complexity":5,"budget":0,"tokens":1}
{"ts":"2025-06-01T00:00:00Z","id":"x4","kind":"qa","complexity":5,"budget":100,"tokens":1,"outcome":"meh"}"#;
    let map = Mapping::parse("ts=time,id=task,kind=type,budget=allocated,tokens=used").unwrap();
    let (records, errors) = history::parse_lines(text, &map);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].task, "x1");
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 4]);
    assert!(
        errors[0].message.contains("missing field `used`"),
        "{}",
        errors[0].message
    );
    assert!(
        errors[1].message.contains("`allocated`"),
        "{}",
        errors[1].message
    );
    assert!(
        errors[2]
            .message
            .contains("field `outcome`: `meh` is not an outcome"),
        "{}",
        errors[2].message
    );
}

#[test]
fn a_plan_becomes_a_record() {
    let mut set = ItemSet::default();
    set.budget.total = Some(500);
    set.sections = vec![Section::share("main", 100.0)];
    let mut item = Item::new("a", "main", "");
    item.content = Content::Given(120);
    set.items = vec![item];
    let cache = CountCache::new();
    let plan = pack(
        &set,
        &PackContext {
            tokenizer: &Tokenizer::Exact(Encoding::O200kBase),
            cache: &cache,
            model: Some("gpt-4o".into()),
            price_per_million: None,
            framing: None,
            optimal: Default::default(),
            summarizer: None,
        },
    )
    .unwrap();
    let at = t("2025-06-01T12:00:00Z");
    let r = history::record_from_plan(&plan, "rag", at);
    assert_eq!((r.allocated, r.used), (500, plan.totals.rendered as u64));
    assert_eq!(
        (r.task.as_str(), r.model.as_deref()),
        ("pack-1748779200", Some("gpt-4o"))
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.jsonl");
    let written = history::record_plan(&path, &plan, "rag").unwrap();
    assert!(written.time > at + Duration::days(1));
    assert_eq!(history::load(&path).unwrap(), vec![written]);
}
