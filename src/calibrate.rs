//! Calibrating a model's estimate against exact counts (`tokenscope
//! calibrate`): the ratio of the model's tokens to a base encoding's on the
//! user's own files, the error band that ratio leaves, and writing both into
//! a models.toml.
//!
//! **Ratio.** `ratio = Σ exact / Σ base` over all files: the estimate
//! `ceil(base × ratio)` then matches the exact total of the sample.
//!
//! **Error band.** For each file with a non-zero exact count, the relative
//! error of the calibrated estimate, `|ceil(base × ratio) − exact| / exact`.
//! The band is the 95th percentile of those errors (nearest rank: the
//! smallest error that at least 95 % of the files are within), so with
//! fewer than 20 files it is the largest error seen. It is at least 0.5 %
//! (a band of 0 would claim an exact estimate) and at most 100 %.

use std::path::Path;

use toml_edit::{DocumentMut, InlineTable, Item, Table, value};

use crate::tokens::Encoding;

/// The smallest band written (0.5 %).
pub const MIN_BAND: f64 = 0.005;

/// One measured sample (a file).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// What it is (a path).
    pub name: String,
    /// The exact count (from the provider's API).
    pub exact: usize,
    /// The base encoding's count.
    pub base: usize,
}

/// The result of a calibration.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// The base encoding.
    pub base: Encoding,
    /// Σ exact / Σ base, rounded to 4 decimals.
    pub ratio: f64,
    /// The error band as a fraction (see the module docs), rounded up to
    /// 3 decimals.
    pub error: f64,
    /// The per-file relative errors of the calibrated estimate, in sample
    /// order (`None` for a file whose exact count is 0).
    pub errors: Vec<Option<f64>>,
    /// Σ exact.
    pub total_exact: usize,
    /// Σ base.
    pub total_base: usize,
}

/// Why a calibration cannot be made or written.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// No sample has any tokens.
    #[error("nothing to calibrate on: the files hold no tokens")]
    Empty,
    /// The models.toml is not valid TOML (or not a registry).
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Computes the ratio and band of `samples` (see the module docs).
///
/// ```
/// use tokenscope::calibrate::{calibrate, Sample};
/// use tokenscope::tokens::Encoding;
/// let s = |exact, base| Sample { name: String::new(), exact, base };
/// let c = calibrate(Encoding::O200kBase, &[s(120, 100), s(60, 50)]).unwrap();
/// assert_eq!(c.ratio, 1.2);
/// assert_eq!(c.error, 0.005);
/// ```
pub fn calibrate(base: Encoding, samples: &[Sample]) -> Result<Calibration, CalibrateError> {
    let total_exact: usize = samples.iter().map(|s| s.exact).sum();
    let total_base: usize = samples.iter().map(|s| s.base).sum();
    if total_exact == 0 || total_base == 0 {
        return Err(CalibrateError::Empty);
    }
    let ratio = round_to(total_exact as f64 / total_base as f64, 4).clamp(0.0001, 100.0);
    let errors: Vec<Option<f64>> = samples
        .iter()
        .map(|s| {
            (s.exact > 0).then(|| {
                let est = (s.base as f64 * ratio).ceil();
                (est - s.exact as f64).abs() / s.exact as f64
            })
        })
        .collect();
    let mut sorted: Vec<f64> = errors.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let p95 = if sorted.is_empty() {
        1.0
    } else {
        // Nearest rank: the ceil(0.95 n)-th smallest.
        let rank = ((0.95 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    };
    let error = (p95 * 1000.0).ceil() / 1000.0;
    Ok(Calibration {
        base,
        ratio,
        error: error.clamp(MIN_BAND, 1.0),
        errors,
        total_exact,
        total_base,
    })
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// `text` (a models.toml, possibly empty) with `calibration` written into
/// the entry of the model called `name` (or any of `aliases`, any case):
/// `estimate = { base, ratio }` and `error`, replacing `encoding` or
/// `tokenizer_file`; a new `[[models]]` entry when the file has none.
/// Comments and the rest of the file are kept; `note` becomes a comment on
/// the entry's `estimate`.
pub fn update_models_toml(
    text: &str,
    path: &Path,
    name: &str,
    aliases: &[String],
    calibration: &Calibration,
    note: &str,
) -> Result<String, CalibrateError> {
    let invalid = |message: String| CalibrateError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let mut doc: DocumentMut = text.parse().map_err(|e| invalid(format!("{e}")))?;
    let names: Vec<String> = std::iter::once(name)
        .chain(aliases.iter().map(String::as_str))
        .map(str::to_lowercase)
        .collect();
    let models = doc
        .entry("models")
        .or_insert(Item::ArrayOfTables(Default::default()));
    let Some(models) = models.as_array_of_tables_mut() else {
        return Err(invalid(
            "`models` is not an array of tables ([[models]])".into(),
        ));
    };
    let position = models.iter().position(|t| {
        t.get("name")
            .and_then(Item::as_str)
            .is_some_and(|n| names.contains(&n.trim().to_lowercase()))
    });
    let entry: &mut Table = match position {
        Some(i) => models
            .get_mut(i)
            .ok_or_else(|| invalid("no entry".into()))?,
        None => {
            let mut t = Table::new();
            t.insert("name", value(name));
            models.push(t);
            let last = models.len() - 1;
            models
                .get_mut(last)
                .ok_or_else(|| invalid("no entry".into()))?
        }
    };
    entry.remove("encoding");
    entry.remove("tokenizer_file");
    let mut estimate = InlineTable::new();
    estimate.insert("base", calibration.base.name().into());
    estimate.insert("ratio", calibration.ratio.into());
    entry.insert("estimate", value(estimate));
    entry.insert("error", value(calibration.error));
    if let Some(mut key) = entry.key_mut("estimate") {
        key.leaf_decor_mut().set_prefix(format!("# {note}\n"));
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(exact: usize, base: usize) -> Sample {
        Sample {
            name: String::new(),
            exact,
            base,
        }
    }

    #[test]
    fn ratio_is_of_totals_and_band_is_the_95th_percentile() {
        // 20 files: 19 exactly at 1.2, one 50 % over.
        let mut samples: Vec<Sample> = (0..19).map(|_| s(120, 100)).collect();
        samples.push(s(180, 100));
        let c = calibrate(Encoding::O200kBase, &samples).unwrap();
        assert_eq!(c.ratio, round_to(2460.0 / 2000.0, 4));
        // 19 files are 2.5 % over (123 vs 120): that is the 95th percentile.
        assert_eq!(c.error, 0.025);
        // With fewer files, the largest error.
        let c = calibrate(Encoding::O200kBase, &[s(120, 100), s(180, 100)]).unwrap();
        assert_eq!(c.ratio, 1.5);
        assert!((c.error - 0.25).abs() < 1e-9, "{}", c.error);
        assert!(calibrate(Encoding::O200kBase, &[s(0, 0)]).is_err());
    }

    #[test]
    fn writes_keep_comments_and_replace_the_counting() {
        let c = calibrate(Encoding::O200kBase, &[s(118, 100)]).unwrap();
        let text = "# my models\n\n[[models]]\n# the one I use\nname = \"Claude-Sonnet-4.5\"\ninput_price = 3.0\nencoding = \"cl100k_base\"\n\n[[models]]\nname = \"other\"\nencoding = \"o200k_base\"\n";
        let out = update_models_toml(
            text,
            Path::new("m.toml"),
            "claude-sonnet-4-5",
            &["claude-sonnet-4.5".to_string()],
            &c,
            "calibrated",
        )
        .unwrap();
        assert!(out.starts_with("# my models\n"), "{out}");
        assert!(out.contains("# the one I use"), "{out}");
        assert!(
            out.contains("estimate = { base = \"o200k_base\", ratio = 1.18 }"),
            "{out}"
        );
        assert!(out.contains("error = 0.005"), "{out}");
        assert!(!out.contains("cl100k_base"), "{out}");
        assert!(
            out.contains("name = \"other\"\nencoding = \"o200k_base\""),
            "{out}"
        );
        let mut r = crate::tokens::ModelRegistry::builtin();
        r.extend_from_str(&out, "m.toml").unwrap();
        let m = r.get("claude-sonnet-4-5").unwrap();
        assert_eq!(m.error_band().unwrap().fraction(), 0.005);

        // A new entry in an empty file.
        let out =
            update_models_toml("", Path::new("m.toml"), "claude-haiku-4-5", &[], &c, "n").unwrap();
        assert!(
            out.contains("[[models]]\nname = \"claude-haiku-4-5\"\n# n\nestimate"),
            "{out}"
        );
        assert!(update_models_toml("models = 3", Path::new("m.toml"), "x", &[], &c, "n").is_err());
    }
}
