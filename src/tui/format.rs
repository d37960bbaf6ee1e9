//! Text for durations, instants and long values, shared by the panes.

use chrono::{DateTime, FixedOffset, Utc};

/// A countdown such as `"42m 10s"`, `"1h 04m 59s"`, `"9s"` or `"2d 03h"`.
///
/// Negative durations read as `"0s"`: callers say "expired" themselves.
pub fn countdown(duration: chrono::Duration) -> String {
    let total = duration.num_seconds().max(0);
    let (days, hours, minutes, seconds) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    if days > 0 {
        format!("{days}d {hours:02}h")
    } else if hours > 0 {
        format!("{hours}h {minutes:02}m {seconds:02}s")
    } else if minutes > 0 {
        format!("{minutes}m {seconds:02}s")
    } else {
        format!("{seconds}s")
    }
}

/// [`countdown`] without the seconds once it is an hour or more (`"1h 04m"`),
/// for narrow columns: seconds of an hour-long life do not matter there.
pub fn countdown_short(duration: chrono::Duration) -> String {
    if duration.num_seconds() >= 3600 {
        let total = duration.num_seconds();
        if total >= 86_400 {
            return countdown(duration);
        }
        format!("{}h {:02}m", total / 3600, total / 60 % 60)
    } else {
        countdown(duration)
    }
}

/// How long until `at`, e.g. `"in 4m 10s"`, or `"now"` when it has passed.
pub fn until(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    if at <= now {
        "now".to_owned()
    } else {
        format!("in {}", countdown(at - now))
    }
}

/// How long ago `at` was, e.g. `"3s ago"`.
pub fn ago(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    if at >= now {
        "just now".to_owned()
    } else {
        format!("{} ago", countdown(now - at))
    }
}

/// A wall-clock time in the display offset, `HH:MM:SS`.
pub fn clock(at: DateTime<Utc>, offset: FixedOffset) -> String {
    at.with_timezone(&offset).format("%H:%M:%S").to_string()
}

/// `text` cut to at most `max` characters, with `…` marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// The share of `issued_at..expires_at` that has passed at `now`, in `0.0..=1.0`.
pub fn fraction_used(
    now: DateTime<Utc>,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> f64 {
    let total = (expires_at - issued_at).num_milliseconds();
    if total <= 0 {
        return 1.0;
    }
    #[allow(clippy::cast_precision_loss)] // lifetimes are far below 2^52 ms
    let fraction = (now - issued_at).num_milliseconds() as f64 / total as f64;
    fraction.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn short_countdowns_drop_seconds_from_an_hour_on() {
        assert_eq!(
            countdown_short(Duration::seconds(3600 + 4 * 60 + 59)),
            "1h 04m"
        );
        assert_eq!(countdown_short(Duration::seconds(59 * 60 + 1)), "59m 01s");
        assert_eq!(countdown_short(Duration::seconds(2 * 86_400)), "2d 00h");
    }

    #[test]
    fn countdowns_read_like_a_clock() {
        assert_eq!(countdown(Duration::seconds(42 * 60 + 10)), "42m 10s");
        assert_eq!(countdown(Duration::seconds(5 * 60 + 3)), "5m 03s");
        assert_eq!(countdown(Duration::seconds(9)), "9s");
        assert_eq!(
            countdown(Duration::seconds(3600 + 4 * 60 + 59)),
            "1h 04m 59s"
        );
        assert_eq!(
            countdown(Duration::seconds(2 * 86_400 + 3 * 3600)),
            "2d 03h"
        );
        assert_eq!(countdown(Duration::seconds(-5)), "0s");
    }

    #[test]
    fn until_and_ago() {
        let now = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap();
        assert_eq!(until(now, now + Duration::seconds(70)), "in 1m 10s");
        assert_eq!(until(now, now - Duration::seconds(1)), "now");
        assert_eq!(ago(now, now - Duration::seconds(3)), "3s ago");
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 10), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }

    #[test]
    fn fraction_is_clamped() {
        let t0 = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap();
        let t1 = t0 + Duration::minutes(60);
        assert!((fraction_used(t0 + Duration::minutes(15), t0, t1) - 0.25).abs() < 1e-9);
        assert!((fraction_used(t1 + Duration::minutes(5), t0, t1) - 1.0).abs() < 1e-9);
        assert!(fraction_used(t0 - Duration::minutes(5), t0, t1).abs() < 1e-9);
    }
}
