//! Numbers as people read them: `1,234,567`, `+254`, `12.3k`, `98.4%`,
//! `$0.012`.

/// A whole count with thousands separators: `1234567` -> `1,234,567`.
///
/// Takes any unsigned integer (`usize`, `u64`, `u32`); a value that does
/// not fit in a `u64` (which only a signed negative could be) shows as `0`:
/// use [`signed_thousands`] for signed values.
pub fn thousands(n: impl TryInto<u64>) -> String {
    let digits = n.try_into().unwrap_or(0).to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A signed count with thousands separators, the sign only when negative:
/// `-1,200`, `5,179`.
pub fn signed_thousands(n: i64) -> String {
    if n < 0 {
        format!("-{}", thousands(n.unsigned_abs()))
    } else {
        thousands(n.unsigned_abs())
    }
}

/// A change in a count, always signed: `+254`, `-1,200`, `+0`.
pub fn delta(n: i64) -> String {
    if n < 0 {
        format!("-{}", thousands(n.unsigned_abs()))
    } else {
        format!("+{}", thousands(n.unsigned_abs()))
    }
}

/// A token count in a short form for narrow columns: `950`, `1.5k`,
/// `128k`, `1.05M`.
pub fn short_count(n: usize) -> String {
    if n < 1_000 {
        n.to_string()
    } else if n < 10_000 {
        format!("{:.1}k", n as f64 / 1_000.0)
    } else if n < 999_500 {
        format!("{}k", (n as f64 / 1_000.0).round() as usize)
    } else {
        format!("{:.2}M", n as f64 / 1_000_000.0)
    }
}

/// A fraction as a percentage with one decimal: `0.984` -> `98.4%`; `–`
/// when it is not a number (a share of nothing).
pub fn percent(fraction: f64) -> String {
    if fraction.is_finite() {
        format!("{:.1}%", fraction * 100.0)
    } else {
        "–".to_string()
    }
}

/// An amount in US dollars: cents from a dollar up (`$3.46`), two
/// significant digits below (`$0.50`, `$0.012`, `$0.0000025`), `$0` for
/// nothing, a leading `-` when negative, `–` when not a number.
pub fn usd(amount: f64) -> String {
    if !amount.is_finite() {
        return "–".to_string();
    }
    if amount < 0.0 {
        return format!("-{}", usd(-amount));
    }
    if amount == 0.0 {
        return "$0".to_string();
    }
    let decimals = |x: f64| {
        let d = -x.log10().floor();
        if d.is_finite() {
            (d.max(0.0) as usize + 1).min(12)
        } else {
            12
        }
    };
    if amount >= 1.0 {
        return format!("${amount:.2}");
    }
    let mut prec = decimals(amount);
    let mut shown = format!("{amount:.prec$}");
    // Rounding up to the next power of ten (0.0999 to `0.100`) needs one
    // digit less.
    let rounded: f64 = shown.parse().unwrap_or(amount);
    if rounded >= 1.0 {
        return format!("${amount:.2}");
    }
    if rounded > 0.0 && decimals(rounded) < prec {
        prec = decimals(rounded);
        shown = format!("{amount:.prec$}");
    }
    format!("${shown}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0usize), "0");
        assert_eq!(thousands(999u32), "999");
        assert_eq!(thousands(1000usize), "1,000");
        assert_eq!(thousands(1_047_576u64), "1,047,576");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(thousands(-5i64), "0");
    }

    #[test]
    fn signs() {
        assert_eq!(signed_thousands(-1_200), "-1,200");
        assert_eq!(signed_thousands(5_179), "5,179");
        assert_eq!(signed_thousands(0), "0");
        assert_eq!(signed_thousands(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(delta(254), "+254");
        assert_eq!(delta(-1_200), "-1,200");
        assert_eq!(delta(0), "+0");
    }

    #[test]
    fn short_counts() {
        assert_eq!(short_count(0), "0");
        assert_eq!(short_count(999), "999");
        assert_eq!(short_count(1500), "1.5k");
        assert_eq!(short_count(9_999), "10.0k");
        assert_eq!(short_count(128_000), "128k");
        assert_eq!(short_count(999_499), "999k");
        // Not `1000k`: the rounding would reach a million.
        assert_eq!(short_count(999_500), "1.00M");
        assert_eq!(short_count(1_050_000), "1.05M");
    }

    #[test]
    fn percents() {
        assert_eq!(percent(0.984), "98.4%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(1.5), "150.0%");
        assert_eq!(percent(f64::NAN), "–");
        assert_eq!(percent(f64::INFINITY), "–");
    }

    /// Three copies disagreed below a dollar: the report showed four
    /// decimals (`$0.0000` for a few tokens), the inspector three or four,
    /// `count` two significant digits. Two significant digits are kept: a
    /// tiny cost is never shown as zero and a small one is not padded with
    /// noise.
    #[test]
    fn dollars() {
        assert_eq!(usd(0.0), "$0");
        assert_eq!(usd(0.00088), "$0.00088");
        assert_eq!(usd(0.0123), "$0.012");
        assert_eq!(usd(0.5), "$0.50");
        assert_eq!(usd(3.456), "$3.46");
        assert_eq!(usd(1234.5), "$1234.50");
        assert_eq!(usd(0.000_002_5), "$0.0000025");
        assert_eq!(usd(0.0999), "$0.10");
        assert_eq!(usd(0.999), "$1.00");
        assert_eq!(usd(-0.5), "-$0.50");
        assert_eq!(usd(f64::NAN), "–");
        assert_eq!(usd(1e-30), "$0.000000000000");
        assert_eq!(usd(0.000_006_75), "$0.0000067");
    }
}
