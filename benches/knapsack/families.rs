//! Knapsack instance families shared by the knapsack benchmark, its
//! memory-measuring example and its tests. Deterministic: a family, a size
//! and a seed always give the same instance.
#![allow(dead_code)]

/// A small, fast, deterministic generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5EED_CAFE_F00D_D00D)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit();
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// The instance families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Weights and values independent: `w` in 1..=R, `v` in 1..=1e6.
    Uncorrelated,
    /// Token counts of prompt chunks: log-normal weights (median R/12),
    /// values = relevance in [0, 1] * 1e6 (some 0).
    RealCounts,
    /// Token counts as in `RealCounts`, priorities from three levels
    /// (0.5, 1, 2) · 1e6: many equal values.
    PriorityLevels,
    /// `v = w + U[-R/10, R/10]` (at least 1).
    WeaklyCorrelated,
    /// `v = w + R/10`.
    StronglyCorrelated,
    /// `w = v + R/10`, `v` in 1..=R-R/10.
    InverseStronglyCorrelated,
    /// `v = w + R/10 + U[-R/500, R/500]`.
    AlmostStronglyCorrelated,
    /// `v = w`.
    SubsetSum,
    /// Every item the same: `w = R/4 + 23`, `v = 1e6`.
    EqualItems,
    /// Four kinds of item, values on a line in the weight: huge tie sets.
    FewKinds,
    /// Weights in a narrow band `[3R/4, 3R/4 + R/40]`, values uniform.
    SimilarWeights,
    /// Uncorrelated with values near 1e12 (fixed-point priorities).
    LargeValues,
    /// `v = 3·ceil(w/3)` (Pisinger's profit ceiling).
    ProfitCeiling,
    /// `v = (2/3)·sqrt(4R² − (w − 2R)²)` (Pisinger's circle).
    Circle,
    /// Subset sum with every weight a multiple of 3.
    MultiplesOfThree,
    /// Strongly correlated with two offsets: `v = w + R/10` or `w + R/5`.
    MultipleStronglyCorrelated,
    /// Spanner instances: copies of 20 strongly correlated kernel items
    /// scaled by random multipliers 1..=10.
    Spanner,
    /// Uncorrelated with values near `u64::MAX`: sums need 128 bits.
    HugeValues,
    /// Adversarial: subset sum with every weight a multiple of 3 but one
    /// (weight 1); with a capacity 2 above a multiple of 3 the linear bound
    /// stays above every reachable total. Not in [`Family::ALL`].
    UnreachableSubsetSum,
    /// Adversarial: [`Family::UnreachableSubsetSum`] with one value nudged
    /// up by 1, so the instance is no longer a pure subset sum and the
    /// bitsets cannot take it. Not in [`Family::ALL`].
    NudgedSubsetSum,
}

impl Family {
    /// Every family.
    pub const ALL: &'static [Family] = &[
        Family::Uncorrelated,
        Family::RealCounts,
        Family::PriorityLevels,
        Family::WeaklyCorrelated,
        Family::StronglyCorrelated,
        Family::InverseStronglyCorrelated,
        Family::AlmostStronglyCorrelated,
        Family::SubsetSum,
        Family::EqualItems,
        Family::FewKinds,
        Family::SimilarWeights,
        Family::LargeValues,
        Family::HugeValues,
        Family::ProfitCeiling,
        Family::Circle,
        Family::MultiplesOfThree,
        Family::MultipleStronglyCorrelated,
        Family::Spanner,
    ];

    /// The families built to defeat every bound: exact solves take seconds
    /// to minutes at benchmark sizes (use a deadline).
    pub const ADVERSARIAL: &'static [Family] = &[
        Family::UnreachableSubsetSum,
        Family::NudgedSubsetSum,
        Family::MultipleStronglyCorrelated,
    ];

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Family::Uncorrelated => "uncorrelated",
            Family::RealCounts => "real-counts",
            Family::PriorityLevels => "priority-levels",
            Family::WeaklyCorrelated => "weakly-correlated",
            Family::StronglyCorrelated => "strongly-correlated",
            Family::InverseStronglyCorrelated => "inverse-strongly-correlated",
            Family::AlmostStronglyCorrelated => "almost-strongly-correlated",
            Family::SubsetSum => "subset-sum",
            Family::EqualItems => "equal-items",
            Family::FewKinds => "few-kinds",
            Family::SimilarWeights => "similar-weights",
            Family::LargeValues => "large-values",
            Family::HugeValues => "huge-values",
            Family::ProfitCeiling => "profit-ceiling",
            Family::Circle => "circle",
            Family::MultiplesOfThree => "multiples-of-three",
            Family::MultipleStronglyCorrelated => "multiple-strongly-correlated",
            Family::Spanner => "spanner",
            Family::UnreachableSubsetSum => "unreachable-subset-sum",
            Family::NudgedSubsetSum => "nudged-subset-sum",
        }
    }

    /// `n` items with weights up to about `max_weight` (R, at least 50).
    pub fn generate(self, n: usize, max_weight: u32, seed: u64) -> (Vec<u32>, Vec<u64>) {
        let r = u64::from(max_weight.max(50));
        let mut rng = Rng::new(seed ^ (self as u64).wrapping_mul(0x1000_0001));
        let kernel_size = if self == Family::Spanner { 20 } else { 0 };
        let kernel: Vec<(u64, u64)> = (0..kernel_size)
            .map(|_| {
                let w = rng.range(1, (r / 10).max(1));
                (w, w + r / 10)
            })
            .collect();
        let mut weights = Vec::with_capacity(n);
        let mut values = Vec::with_capacity(n);
        for _ in 0..n {
            let (w, v) = match self {
                Family::Uncorrelated => (rng.range(1, r), rng.range(1, 1_000_000)),
                Family::RealCounts => {
                    let w = ((r as f64 / 12.0) * rng.normal().exp()).round();
                    let w = (w as u64).clamp(1, r);
                    (w, (rng.unit() * 1e6).round() as u64)
                }
                Family::PriorityLevels => {
                    let w = ((r as f64 / 12.0) * rng.normal().exp()).round();
                    let w = (w as u64).clamp(1, r);
                    (w, [500_000, 1_000_000, 2_000_000][rng.range(0, 2) as usize])
                }
                Family::WeaklyCorrelated => {
                    let w = rng.range(1, r);
                    let v = (w + rng.range(0, r / 5)).saturating_sub(r / 10);
                    (w, v.max(1))
                }
                Family::StronglyCorrelated => {
                    let w = rng.range(1, r);
                    (w, w + r / 10)
                }
                Family::InverseStronglyCorrelated => {
                    let v = rng.range(1, r - r / 10);
                    (v + r / 10, v)
                }
                Family::AlmostStronglyCorrelated => {
                    let w = rng.range(1, r);
                    (w, w + r / 10 + rng.range(0, 2 * (r / 500)) - r / 500)
                }
                Family::SubsetSum => {
                    let w = rng.range(1, r);
                    (w, w)
                }
                Family::EqualItems => (r / 4 + 23, 1_000_000),
                Family::FewKinds => {
                    let w = [r / 13 + 1, r / 7 + 1, r / 5 + 1, r / 3 + 1][rng.range(0, 3) as usize];
                    (w, w * 100 + 2_500)
                }
                Family::SimilarWeights => (
                    rng.range(3 * r / 4, 3 * r / 4 + r / 40),
                    rng.range(1, 1_000_000),
                ),
                Family::LargeValues => (rng.range(1, r), rng.range(1, 1_000_000_000_000)),
                Family::HugeValues => (rng.range(1, r), u64::MAX - rng.range(0, 1 << 40)),
                Family::ProfitCeiling => {
                    let w = rng.range(1, r);
                    (w, 3 * w.div_ceil(3))
                }
                Family::Circle => {
                    let w = rng.range(1, r);
                    let (wf, rf) = (w as f64, r as f64);
                    let v = (2.0 / 3.0) * (4.0 * rf * rf - (wf - 2.0 * rf).powi(2)).sqrt();
                    (w, (v.round() as u64).max(1))
                }
                Family::MultiplesOfThree => {
                    let w = 3 * rng.range(1, r / 3);
                    (w, w)
                }
                Family::MultipleStronglyCorrelated => {
                    let w = rng.range(1, r);
                    (
                        w,
                        if w.is_multiple_of(6) {
                            w + r / 5
                        } else {
                            w + r / 10
                        },
                    )
                }
                Family::Spanner => {
                    let (kw, kv) = kernel[rng.range(0, 19) as usize];
                    let m = rng.range(1, 10);
                    (kw * m, kv * m)
                }
                Family::UnreachableSubsetSum | Family::NudgedSubsetSum => {
                    let w = if weights.is_empty() {
                        1
                    } else {
                        3 * rng.range(1, r / 3)
                    };
                    let nudge = u64::from(self == Family::NudgedSubsetSum && weights.len() == 1);
                    (w, w + nudge)
                }
            };
            weights.push(u32::try_from(w).unwrap_or(u32::MAX));
            values.push(v);
        }
        (weights, values)
    }
}
