//! Cron schedules as CronJobs write them (robfig/cron's standard parser, which
//! upstream uses): five fields — minute, hour, day of month, month, day of week —
//! with `*`, lists, ranges, steps and names, the `@hourly`-style macros, and
//! day-of-month/day-of-week matching either one when both are restricted.
//! Times are Unix seconds in UTC.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// A parsed schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// Whether day of month or day of week was `*` (then both must match).
    any_day_star: bool,
}

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Parses one field into a bit set of allowed values; `star` tells whether it was `*`.
fn field(text: &str, min: u32, max: u32, names: &[&str]) -> Result<(u64, bool), String> {
    let value = |s: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(i as u32 + if names.len() == 12 { 1 } else { 0 });
        }
        s.parse::<u32>().map_err(|_| {
            format!("failed to parse int from {s}: strconv.Atoi: parsing {s:?}: invalid syntax")
        })
    };
    let mut bits = 0u64;
    let mut star = false;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(value(s)?)),
            None => (part, None),
        };
        let (low, high) = if range == "*" || range == "?" {
            star = step.is_none();
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let v = value(range)?;
            (v, if step.is_some() { max } else { v })
        };
        if low < min || high > max || low > high {
            return Err(format!(
                "end of range ({high}) above maximum ({max}): {part}"
            ));
        }
        let step = step.unwrap_or(1).max(1);
        let mut v = low;
        while v <= high {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, star))
}

impl Schedule {
    /// Parses a schedule; the error is robfig/cron's message.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let expanded = match text.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "expected exactly 5 fields, found {}: {text}",
                fields.len()
            ));
        }
        let (minutes, _) = field(fields[0], 0, 59, &[])?;
        let (hours, _) = field(fields[1], 0, 23, &[])?;
        let (days, day_star) = field(fields[2], 1, 31, &[])?;
        let (months, _) = field(fields[3], 1, 12, MONTHS)?;
        let (mut weekdays, weekday_star) = field(fields[4], 0, 7, WEEKDAYS)?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1; // 7 is Sunday too
        }
        Ok(Schedule {
            minutes,
            hours,
            days,
            months,
            weekdays,
            any_day_star: day_star || weekday_star,
        })
    }

    fn day_matches(&self, t: &DateTime) -> bool {
        let dom = self.days & (1 << t.day()) != 0;
        let dow = self.weekdays & (1 << t.weekday().to_sunday_zero_offset()) != 0;
        if self.any_day_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The first scheduled time strictly after `after` (Unix seconds), within five years.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        let start = Timestamp::from_second(after - after.rem_euclid(60) + 60).ok()?;
        let mut t = start.to_zoned(TimeZone::UTC).datetime();
        let limit = t.year() + 5;
        while t.year() <= limit {
            if self.months & (1 << t.month()) == 0 {
                t = t
                    .first_of_month()
                    .checked_add(1.month())
                    .ok()?
                    .start_of_day();
                continue;
            }
            if !self.day_matches(&t) {
                t = t.start_of_day().checked_add(1.day()).ok()?;
                continue;
            }
            if self.hours & (1 << t.hour()) == 0 {
                t = t
                    .with()
                    .minute(0)
                    .build()
                    .ok()?
                    .checked_add(1.hour())
                    .ok()?;
                continue;
            }
            if self.minutes & (1 << t.minute()) == 0 {
                t = t.checked_add(1.minute()).ok()?;
                continue;
            }
            return Some(t.to_zoned(TimeZone::UTC).ok()?.timestamp().as_second());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_second()
    }

    #[test]
    fn steps_ranges_names_and_macros() {
        let every5 = Schedule::parse("*/5 * * * *").unwrap();
        assert_eq!(
            every5.next_after(at("2026-01-01T00:00:00Z")),
            Some(at("2026-01-01T00:05:00Z"))
        );
        assert_eq!(
            every5.next_after(at("2026-01-01T00:04:59Z")),
            Some(at("2026-01-01T00:05:00Z"))
        );
        let weekdays = Schedule::parse("30 9 * * mon-fri").unwrap();
        // 2026-01-03 is a Saturday: the next run is Monday the 5th.
        assert_eq!(
            weekdays.next_after(at("2026-01-02T10:00:00Z")),
            Some(at("2026-01-05T09:30:00Z"))
        );
        let hourly = Schedule::parse("@hourly").unwrap();
        assert_eq!(
            hourly.next_after(at("2026-01-01T00:00:00Z")),
            Some(at("2026-01-01T01:00:00Z"))
        );
        let either = Schedule::parse("0 0 13 * 5").unwrap();
        // The 13th or any Friday: Friday 2026-01-02 comes first.
        assert_eq!(
            either.next_after(at("2026-01-01T00:00:00Z")),
            Some(at("2026-01-02T00:00:00Z"))
        );
        assert_eq!(
            Schedule::parse("0 0 * *").unwrap_err(),
            "expected exactly 5 fields, found 4: 0 0 * *"
        );
        assert!(Schedule::parse("61 * * * *").is_err());
    }
}
