//! Virtual time: milliseconds since the simulation's epoch, never the wall clock.

use jiff::fmt::temporal::DateTimePrinter;
use serde::{Deserialize, Serialize};

/// The instant every simulation starts at: 2026-01-01T00:00:00Z, in Unix milliseconds.
pub const DEFAULT_EPOCH_UNIX_MS: i64 = 1_767_225_600_000;

/// A span of virtual time in milliseconds.
pub type Duration = u64;

/// An exponential back-off: `initial` doubled `doublings` times, at most `max`.
pub fn doubled(initial: Duration, doublings: u32, max: Duration) -> Duration {
    initial.saturating_mul(1u64 << doublings.min(32)).min(max)
}

/// A point in virtual time: milliseconds since the simulation started.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct VirtualTime(pub u64);

impl VirtualTime {
    /// Milliseconds since the simulation started.
    pub fn millis(self) -> u64 {
        self.0
    }

    /// This instant plus `d` milliseconds.
    pub fn after(self, d: Duration) -> Self {
        VirtualTime(self.0.saturating_add(d))
    }

    /// This instant in Unix milliseconds, given the simulation's epoch.
    pub fn unix_millis(self, epoch_unix_ms: i64) -> i64 {
        epoch_unix_ms + self.0 as i64
    }

    /// The calendar instant, given the simulation's epoch.
    pub fn timestamp(self, epoch_unix_ms: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.unix_millis(epoch_unix_ms))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// RFC 3339 with second precision, as `metav1.Time` serialises: `2026-01-01T00:00:05Z`.
    pub fn rfc3339(self, epoch_unix_ms: i64) -> String {
        rfc3339_seconds(self.unix_millis(epoch_unix_ms).div_euclid(1000))
    }
}

/// Unix seconds in Go's `time.RFC1123Z` layout, in UTC: `Thu, 01 Jan 2026 00:05:00 +0000`.
pub fn rfc1123z(unix_seconds: i64) -> String {
    jiff::Timestamp::from_second(unix_seconds)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

/// RFC 3339 in UTC with no fraction of a second (`metav1.Time`).
const SECONDS_PRINTER: DateTimePrinter = DateTimePrinter::new().precision(Some(0));
/// RFC 3339 in UTC with six digits of fraction (`metav1.MicroTime`).
const MICROS_PRINTER: DateTimePrinter = DateTimePrinter::new().precision(Some(6));

/// Unix seconds as `metav1.Time` serialises them: `2026-01-01T00:00:05Z`.
pub fn rfc3339_seconds(unix_seconds: i64) -> String {
    let instant = jiff::Timestamp::from_second(unix_seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    SECONDS_PRINTER.timestamp_to_string(&instant)
}

impl VirtualTime {
    /// RFC 3339 with microseconds, as `metav1.MicroTime` serialises: `2026-01-01T00:00:05.250000Z`.
    pub fn rfc3339_micros(self, epoch_unix_ms: i64) -> String {
        MICROS_PRINTER.timestamp_to_string(&self.timestamp(epoch_unix_ms))
    }

    /// The HTTP `Date` header form (RFC 7231): `Thu, 01 Jan 2026 00:00:05 GMT`.
    pub fn http_date(self, epoch_unix_ms: i64) -> String {
        let seconds = self.unix_millis(epoch_unix_ms).div_euclid(1000);
        let instant = jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&instant)
            // Only years past 9999 have no HTTP date.
            .unwrap_or_default()
    }
}

/// Parses an HTTP `Date` header back into Unix milliseconds.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let parsed = jiff::fmt::strtime::parse("%a, %d %b %Y %H:%M:%S GMT", text).ok()?;
    let datetime = parsed.to_datetime().ok()?;
    Some(
        datetime
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_millisecond(),
    )
}

/// Parses a duration as the shell's `sim advance` takes it: `500ms`, `30s`, `7m`, `2h`, `1h30m`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut chars = text.trim().chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let value: u64 = number.parse().ok()?;
        number.clear();
        let unit = match c {
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            's' => 1000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            _ => return None,
        };
        total = total.checked_add(value.checked_mul(unit)?)?;
        any = true;
    }
    if !number.is_empty() {
        return None;
    }
    any.then_some(total)
}

/// A duration as Go's `time.Duration` prints it: `812ms`, `2.563s`, `1m30s`, `1h0m0s`.
pub fn go_duration(ms: Duration) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m) = (ms / 3_600_000, (ms / 60_000) % 60);
    let seconds = format!("{}.{:03}", (ms / 1000) % 60, ms % 1000);
    let seconds = seconds.trim_end_matches('0').trim_end_matches('.');
    match (h, m) {
        (0, 0) => format!("{seconds}s"),
        (0, _) => format!("{m}m{seconds}s"),
        _ => format!("{h}h{m}m{seconds}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_durations_as_go_does() {
        assert_eq!(go_duration(812), "812ms");
        assert_eq!(go_duration(2563), "2.563s");
        assert_eq!(go_duration(2500), "2.5s");
        assert_eq!(go_duration(10_000), "10s");
        assert_eq!(go_duration(90_500), "1m30.5s");
        assert_eq!(go_duration(60_000), "1m0s");
        assert_eq!(go_duration(3_600_000), "1h0m0s");
    }

    #[test]
    fn formats_rfc3339_from_the_epoch() {
        assert_eq!(
            VirtualTime(5_999).rfc3339(DEFAULT_EPOCH_UNIX_MS),
            "2026-01-01T00:00:05Z"
        );
    }

    #[test]
    fn formats_micro_times() {
        assert_eq!(
            VirtualTime(5_250).rfc3339_micros(DEFAULT_EPOCH_UNIX_MS),
            "2026-01-01T00:00:05.250000Z"
        );
        assert_eq!(
            VirtualTime(0).rfc3339_micros(DEFAULT_EPOCH_UNIX_MS),
            "2026-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn http_dates_round_trip() {
        let text = VirtualTime(5_000).http_date(DEFAULT_EPOCH_UNIX_MS);
        assert_eq!(text, "Thu, 01 Jan 2026 00:00:05 GMT");
        assert_eq!(parse_http_date(&text), Some(DEFAULT_EPOCH_UNIX_MS + 5_000));
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("30s"), Some(30_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration("250ms"), Some(250));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("5x"), None);
    }
}
