//! A synthetic usage history from a seeded generator: shared by the history
//! tests and the `history_sample` example that writes
//! `samples/history.jsonl`.
//!
//! Usage follows `base(type) × (50 + complexity) / 100 × agent factor × tag
//! factor × noise (±25 %)`; allocations are one of three per-type habits
//! (1.2×, 1.6× or 2.2× the base); a task whose need exceeds its allocation
//! is cut at the allocation and fails (or ends partial); 4 % of the others
//! fail for other reasons; 2 % are runaway tasks that need 3× and get 5×
//! the base.

use time::{Duration, OffsetDateTime};
use tokenscope::history::{Criticality, Outcome, Record};

/// splitmix64: small, seedable, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi].
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next_u64() as usize % items.len()]
    }
}

/// (type, tokens at complexity 50, tag pool)
pub const TYPES: &[(&str, f64, &[&str])] = &[
    (
        "code-generation",
        9_000.0,
        &["rust", "python", "api", "large-repo", "tests"],
    ),
    (
        "code-review",
        5_500.0,
        &["rust", "python", "security", "large-diff"],
    ),
    (
        "debugging",
        12_000.0,
        &["flaky-test", "production", "large-repo", "rust"],
    ),
    (
        "research",
        14_000.0,
        &["papers", "web", "competitors", "deep"],
    ),
    ("documentation", 4_500.0, &["api", "tutorial", "changelog"]),
    ("summarization", 2_500.0, &["meeting", "thread", "long-doc"]),
];

/// (agent, usage factor)
pub const AGENTS: &[(&str, f64)] = &[
    ("alice", 0.85),
    ("bob", 1.15),
    ("ci-bot", 0.75),
    ("planner", 1.3),
];

const MODELS: &[&str] = &["gpt-4o", "gpt-4.1-mini", "claude-sonnet-4-5", "o4-mini"];

/// Tags that make a task heavier, and by how much.
fn tag_factor(tag: &str) -> f64 {
    match tag {
        "large-repo" | "large-diff" | "deep" | "long-doc" => 1.35,
        "production" | "security" => 1.15,
        "changelog" | "thread" => 0.8,
        _ => 1.0,
    }
}

/// `n` records starting on 2025-05-01, about `n / 60` a day, in time order.
pub fn generate(seed: u64, n: usize) -> Vec<Record> {
    let mut rng = Rng::new(seed);
    let start = OffsetDateTime::from_unix_timestamp(1_746_057_600).expect("2025-05-01"); // 2025-05-01T00:00Z
    let span = 60 * 24 * 3600;
    let mut offsets: Vec<u64> = (0..n).map(|_| rng.range(0, span)).collect();
    offsets.sort_unstable();
    let mut out = Vec::with_capacity(n);
    for (i, offset) in offsets.into_iter().enumerate() {
        let (task_type, base, pool) = *rng.pick(TYPES);
        let (agent, agent_factor) = *rng.pick(AGENTS);
        let complexity = rng.range(5, 95) as u8;
        let mut tags: Vec<String> = Vec::new();
        for _ in 0..rng.range(0, 2) {
            let t = rng.pick(pool).to_string();
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        let tag_f: f64 = tags.iter().map(|t| tag_factor(t)).product();
        let noise = 0.75 + 0.5 * rng.unit();
        // 2 % runaway tasks: need ~3× and were given a large budget.
        let runaway = rng.unit() < 0.02;
        let need = base * (50.0 + f64::from(complexity)) / 100.0
            * agent_factor
            * tag_f
            * noise
            * if runaway { 3.0 } else { 1.0 };
        let habit = if runaway {
            5.0
        } else {
            *rng.pick(&[1.2, 1.6, 2.2])
        };
        let allocated = ((base * habit / 500.0).round() as u64).max(1) * 500;
        let need = need.round() as u64;
        let (used, outcome) = if need > allocated {
            let o = if rng.unit() < 0.6 {
                Outcome::Failure
            } else {
                Outcome::Partial
            };
            (allocated - rng.range(0, allocated / 50), o)
        } else if rng.unit() < 0.04 {
            (need, Outcome::Failure)
        } else {
            (need, Outcome::Success)
        };
        let criticality = *rng.pick(&[
            Criticality::Low,
            Criticality::Medium,
            Criticality::Medium,
            Criticality::High,
            Criticality::Critical,
        ]);
        let thinking =
            (rng.unit() < 0.6).then(|| (used as f64 * (0.15 + 0.25 * rng.unit())) as u64);
        out.push(Record {
            time: start + Duration::seconds(offset as i64),
            task: format!("T-{:04}", i + 1),
            task_type: task_type.to_string(),
            complexity,
            tags,
            criticality: Some(criticality),
            story_points: (rng.unit() < 0.3).then(|| *rng.pick(&[1.0, 2.0, 3.0, 5.0, 8.0])),
            allocated,
            used,
            thinking,
            outcome: Some(outcome),
            quality: (outcome != Outcome::Failure).then(|| rng.range(55, 100) as u8),
            model: Some(rng.pick(MODELS).to_string()),
            agent: Some(agent.to_string()),
        });
    }
    out
}
