//! `resource.Quantity` parsing: `100m`, `0.5`, `128Mi`, `1G`, `1e3`, as upstream's
//! `MilliValue` and `Value` read them (rounding up).

/// The quantity as an exact fraction: `numerator / 10^scale` (before the suffix multiplier).
fn parse(text: &str) -> Option<(i128, u32, i128)> {
    let text = text.trim();
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    let number_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return None;
    }
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{whole}{fraction}");
    let mut numerator: i128 = digits.parse().ok()?;
    let mut scale = fraction.len() as u32;
    let multiplier: i128 = match suffix {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "Pi" => 1 << 50,
        "Ei" => 1 << 60,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "P" => 1_000_000_000_000_000,
        "E" => 1_000_000_000_000_000_000,
        "m" => {
            scale += 3;
            1
        }
        "u" => {
            scale += 6;
            1
        }
        "n" => {
            scale += 9;
            1
        }
        exponent if exponent.starts_with(['e', 'E']) => {
            let e: i32 = exponent[1..].parse().ok()?;
            if e >= 0 {
                10i128.checked_pow(e as u32)?
            } else {
                scale += e.unsigned_abs();
                1
            }
        }
        _ => return None,
    };
    numerator = numerator.checked_mul(sign)?;
    Some((numerator, scale, multiplier))
}

/// Divides rounding toward positive infinity, as upstream's scaled values do.
fn ceil_div(n: i128, d: i128) -> i128 {
    let q = n / d;
    if n % d != 0 && n > 0 {
        q + 1
    } else {
        q
    }
}

/// Compares two quantities exactly (`500m` < `1` < `1Ki`); `None` unless both parse.
pub fn compare(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    let (n1, s1, m1) = parse(a)?;
    let (n2, s2, m2) = parse(b)?;
    let exact = || {
        let left = n1.checked_mul(m1)?.checked_mul(10i128.checked_pow(s2)?)?;
        let right = n2.checked_mul(m2)?.checked_mul(10i128.checked_pow(s1)?)?;
        Some(left.cmp(&right))
    };
    exact().or_else(|| {
        let float = |n: i128, s: u32, m: i128| n as f64 * m as f64 / 10f64.powi(s as i32);
        float(n1, s1, m1).partial_cmp(&float(n2, s2, m2))
    })
}

/// The quantity in thousandths (`100m` → 100, `2` → 2000), rounded up.
pub fn milli_value(text: &str) -> Option<i64> {
    let (numerator, scale, multiplier) = parse(text)?;
    let scaled = numerator.checked_mul(multiplier)?.checked_mul(1000)?;
    i64::try_from(ceil_div(scaled, 10i128.checked_pow(scale)?)).ok()
}

/// The quantity in units (`128Mi` → 134217728, `100m` → 1), rounded up.
pub fn value(text: &str) -> Option<i64> {
    let (numerator, scale, multiplier) = parse(text)?;
    let scaled = numerator.checked_mul(multiplier)?;
    i64::try_from(ceil_div(scaled, 10i128.checked_pow(scale)?)).ok()
}

/// Canonical text of a CPU amount in millicores: `250m`, `2`, `0`.
pub fn format_milli(milli: i64) -> String {
    if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

/// Canonical text of a byte amount, in binary suffixes (`128Mi`) when `binary`,
/// else decimal ones (`256M`), with the largest suffix that divides it exactly.
pub fn format_bytes(bytes: i64, binary: bool) -> String {
    let (base, suffixes): (i64, &[&str]) = if binary {
        (1024, &["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"])
    } else {
        (1000, &["k", "M", "G", "T", "P", "E"])
    };
    if bytes == 0 {
        return "0".into();
    }
    let mut value = bytes;
    let mut suffix = "";
    for s in suffixes {
        if value % base != 0 {
            break;
        }
        value /= base;
        suffix = s;
    }
    format!("{value}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text() {
        assert_eq!(format_milli(250), "250m");
        assert_eq!(format_milli(2000), "2");
        assert_eq!(format_bytes(128 << 20, true), "128Mi");
        assert_eq!(format_bytes(256_000_000, false), "256M");
        assert_eq!(format_bytes(1500, true), "1500");
        assert_eq!(format_bytes(0, true), "0");
    }

    #[test]
    fn milli_values() {
        assert_eq!(milli_value("100m"), Some(100));
        assert_eq!(milli_value("2"), Some(2000));
        assert_eq!(milli_value("0.5"), Some(500));
        assert_eq!(milli_value("1.0001"), Some(1001));
        assert_eq!(milli_value("250u"), Some(1));
        assert_eq!(milli_value("1e3"), Some(1_000_000));
        assert_eq!(milli_value("abc"), None);
        assert_eq!(milli_value("1Zi"), None);
    }

    #[test]
    fn values() {
        assert_eq!(value("128Mi"), Some(134_217_728));
        assert_eq!(value("1G"), Some(1_000_000_000));
        assert_eq!(value("8388608Ki"), Some(8 << 30));
        assert_eq!(value("100m"), Some(1));
        assert_eq!(value("1.5Gi"), Some(1_610_612_736));
        assert_eq!(value("-1"), Some(-1));
        assert_eq!(value("."), None);
    }
}
