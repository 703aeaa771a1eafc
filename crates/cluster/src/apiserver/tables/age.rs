//! Upstream's `duration.HumanDuration`, the AGE format: `5s`, `3m20s`, `2d3h`, `3y45d`.

/// Formats a duration in seconds the way kubectl prints ages.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// An RFC 3339 timestamp in Unix milliseconds; `None` if unparsable.
pub fn unix_ms(timestamp: &str) -> Option<i64> {
    timestamp
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

/// Seconds between an RFC 3339 timestamp and `now` (Unix milliseconds); `None` if unparsable.
pub fn seconds_since(timestamp: &str, now_unix_ms: i64) -> Option<i64> {
    unix_ms(timestamp).map(|at| (now_unix_ms - at).div_euclid(1000))
}

/// Upstream's `translateTimestampSince`: the age of a timestamp, `<unknown>` when missing.
pub fn age(timestamp: Option<&str>, now_unix_ms: i64) -> String {
    age_since(timestamp.and_then(unix_ms), now_unix_ms)
}

/// The age of a moment given in Unix milliseconds, `<unknown>` when missing.
pub fn age_since(at_unix_ms: Option<i64>, now_unix_ms: i64) -> String {
    match at_unix_ms {
        Some(at) => human_duration((now_unix_ms - at).div_euclid(1000)),
        None => "<unknown>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_upstream_human_duration() {
        let cases = [
            (0, "0s"),
            (5, "5s"),
            (119, "119s"),
            (200, "3m20s"),
            (300, "5m"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600 + 25 * 60, "3h25m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (2 * 86400 + 3 * 3600, "2d3h"),
            (10 * 86400, "10d"),
            (800 * 86400, "2y70d"),
            (9 * 365 * 86400, "9y"),
        ];
        for (seconds, text) in cases {
            assert_eq!(human_duration(seconds), text, "{seconds}s");
        }
        assert_eq!(age(None, 0), "<unknown>");
    }
}
