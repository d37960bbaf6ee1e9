//! The refresh policy as pure functions: when to refresh, how long to back
//! off, what a verdict means for the session. No clocks, no tasks, no I/O, so
//! every rule is unit-tested and later changes stay in one place.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::act::{Expiry, Meter, Verdict, VerdictClass, VerdictKind};
use crate::config::Settings;

/// First backoff delay after one failure.
pub const BACKOFF_BASE: Duration = Duration::from_secs(2);

/// Backoff never grows past this (before jitter).
pub const BACKOFF_CAP: Duration = Duration::from_secs(60);

/// Shortest wait when throttled: never hammer even when the reset is "now".
pub const THROTTLE_MIN: Duration = Duration::from_secs(1);

/// Longest wait when throttled: a bad reset header must not park a session for a day.
pub const THROTTLE_MAX: Duration = Duration::from_secs(15 * 60);

/// Wait when throttled and the server said nothing about when to come back:
/// one rate-limit window on Act! Cloud.
pub const THROTTLE_DEFAULT: Duration = Duration::from_secs(60);

/// The refresh jitter is at most this share of the token's lifetime...
const JITTER_SHARE: f64 = 0.02;

/// ...and never more than this.
const JITTER_CAP: Duration = Duration::from_secs(30);

/// What a session does after an exchange, decided from its verdict alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// It worked: hold the token, plan the next refresh.
    Valid,
    /// A Bearer refresh was refused: authorize with Basic once.
    FallbackToBasic,
    /// Retrying will not help (credentials, rights, local secret): wait for the user.
    Fail,
    /// Transient (unreachable, server fault): retry after an exponential backoff.
    Backoff,
    /// Rate limited: wait for the reset.
    Throttle,
}

/// Maps a verdict to the session's next step. A refused Bearer token asks for
/// the Basic fallback; the caller decides whether that is still allowed.
pub fn classify(verdict: &Verdict) -> Next {
    if verdict.kind == VerdictKind::TokenRejected {
        return Next::FallbackToBasic;
    }
    match verdict.class() {
        VerdictClass::Ok => Next::Valid,
        VerdictClass::Refused | VerdictClass::Local => Next::Fail,
        VerdictClass::Unreachable | VerdictClass::ServerFault => Next::Backoff,
        VerdictClass::Throttled => Next::Throttle,
    }
}

/// How long before expiry a token is refreshed: `refresh_before`, but never
/// more than half the token's lifetime, so short-lived tokens (90 s demo
/// tokens, 4 s test tokens) are refreshed half-way instead of in a loop.
pub fn refresh_lead(expiry: &Expiry, settings: &Settings) -> Duration {
    let lifetime = lifetime(expiry);
    settings.refresh_before.min(lifetime / 2)
}

/// When to refresh a token: `expires_at - lead` plus a jitter so that many
/// sessions started together do not refresh in the same second.
///
/// `jitter` is a random number in `0.0..1.0`; it scales a spread of 2% of the
/// lifetime, capped at 30 s. The result is never past `expires_at`.
pub fn refresh_at(expiry: &Expiry, settings: &Settings, jitter: f64) -> DateTime<Utc> {
    let lifetime = lifetime(expiry);
    let lead = refresh_lead(expiry, settings);
    let spread = lifetime.mul_f64(JITTER_SHARE).min(JITTER_CAP);
    let jitter = spread.mul_f64(jitter.clamp(0.0, 1.0));

    let at = expiry.expires_at - delta(lead) + delta(jitter);
    at.min(expiry.expires_at)
}

/// The wait before retry number `failures` (1 for the first failure):
/// 2 s, 4 s, 8 s ... with ±20% jitter, never past 60 s.
pub fn backoff_delay(failures: u32, rng: &mut fastrand::Rng) -> Duration {
    backoff_base(failures)
        .mul_f64(0.8 + 0.4 * rng.f64())
        .min(BACKOFF_CAP)
}

/// The backoff before jitter: 2 s doubled per further failure, capped.
fn backoff_base(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(16);
    BACKOFF_BASE.saturating_mul(1 << exponent).min(BACKOFF_CAP)
}

/// The least wait after `failures` throttled answers in a row: nothing extra
/// for the first, then the backoff series. A server that keeps answering 429
/// with `Retry-After: 0` (or a date in the past) is not asked every second.
pub fn throttle_floor(failures: u32) -> Duration {
    if failures <= 1 {
        THROTTLE_MIN
    } else {
        backoff_base(failures - 1)
    }
}

/// How long to wait when throttled: `Retry-After` when the server sent it,
/// else until the meter's reset, else one window; clamped to 1 s ... 15 min.
pub fn throttle_delay(
    meter: Option<&Meter>,
    retry_after: Option<Duration>,
    now: DateTime<Utc>,
) -> Duration {
    let from_meter = meter
        .and_then(|m| m.reset_at)
        .map(|reset| until(now, reset));
    retry_after
        .or(from_meter)
        .unwrap_or(THROTTLE_DEFAULT)
        .clamp(THROTTLE_MIN, THROTTLE_MAX)
}

/// When a meter says nothing is left and its reset lies after `at`, the time
/// to hold an automatic call until; `None` when the call may go at `at`.
pub fn hold_for_meter(
    at: DateTime<Utc>,
    meter: Option<&Meter>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let meter = meter?;
    let reset = meter.reset_at?;
    let exhausted = meter.remaining == Some(0);
    let future = reset > now;
    // A reset further away than the throttle ceiling is a misread header, not a plan.
    let sane = until(now, reset) <= THROTTLE_MAX;
    (exhausted && future && sane && reset > at).then_some(reset)
}

/// A short human form of a duration for rule texts: `45s`, `5m`, `1m30s`, `1h5m`.
pub fn short_duration(d: Duration) -> String {
    let secs = d.as_secs() + u64::from(d.subsec_millis() >= 500);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

/// The time from `now` to `at`, zero when `at` has passed.
pub fn until(now: DateTime<Utc>, at: DateTime<Utc>) -> Duration {
    (at - now).to_std().unwrap_or(Duration::ZERO)
}

/// A token's lifetime as issued, zero when the claims are inconsistent.
fn lifetime(expiry: &Expiry) -> Duration {
    until(expiry.issued_at, expiry.expires_at)
}

/// A `Duration` as a chrono delta; saturates for absurd values instead of panicking.
fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::act::{ExpirySource, Unreadable};

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid timestamp")
    }

    fn expiry(lifetime_secs: i64) -> Expiry {
        Expiry {
            issued_at: t0(),
            expires_at: t0() + TimeDelta::seconds(lifetime_secs),
            source: ExpirySource::Claim,
        }
    }

    fn meter(remaining: u64, reset_in: i64) -> Meter {
        Meter {
            limit: Some(60),
            remaining: Some(remaining),
            reset_at: Some(t0() + TimeDelta::seconds(reset_in)),
            read_at: t0(),
            unreadable: Unreadable::default(),
        }
    }

    #[test]
    fn backoff_never_passes_its_cap_even_with_jitter() {
        let mut rng = fastrand::Rng::with_seed(7);
        for failures in 1..40 {
            for _ in 0..50 {
                assert!(backoff_delay(failures, &mut rng) <= BACKOFF_CAP);
            }
        }
    }

    #[test]
    fn repeated_throttling_backs_off() {
        assert_eq!(throttle_floor(1), THROTTLE_MIN);
        assert_eq!(throttle_floor(2), Duration::from_secs(2));
        assert_eq!(throttle_floor(3), Duration::from_secs(4));
        assert_eq!(throttle_floor(30), BACKOFF_CAP);
    }

    #[test]
    fn long_token_refreshes_refresh_before_ahead() {
        let e = expiry(65 * 60);
        let s = Settings::default();
        assert_eq!(refresh_lead(&e, &s), Duration::from_secs(300));
        assert_eq!(
            refresh_at(&e, &s, 0.0),
            e.expires_at - TimeDelta::seconds(300)
        );
        // Full jitter: 2% of 65 min is 78 s, capped at 30 s.
        assert_eq!(
            refresh_at(&e, &s, 1.0),
            e.expires_at - TimeDelta::seconds(270)
        );
    }

    #[test]
    fn short_token_refreshes_half_way() {
        let e = expiry(90);
        let s = Settings::default();
        assert_eq!(refresh_lead(&e, &s), Duration::from_secs(45));
        assert_eq!(refresh_at(&e, &s, 0.0), t0() + TimeDelta::seconds(45));
        // Jitter spread: 2% of 90 s = 1.8 s.
        let late = refresh_at(&e, &s, 1.0);
        assert_eq!(late, t0() + TimeDelta::milliseconds(46_800));
    }

    #[test]
    fn refresh_is_never_past_expiry() {
        let s = Settings {
            refresh_before: Duration::ZERO,
            ..Settings::default()
        };
        let e = expiry(600);
        assert_eq!(refresh_at(&e, &s, 1.0), e.expires_at);

        // Expiry before issue (nonsense claims): lifetime 0, refresh at expiry.
        let bad = Expiry {
            issued_at: t0(),
            expires_at: t0() - TimeDelta::seconds(5),
            ..e
        };
        assert_eq!(refresh_at(&bad, &Settings::default(), 0.7), bad.expires_at);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let mut rng = fastrand::Rng::with_seed(7);
        for (failures, base) in [
            (1, 2.0),
            (2, 4.0),
            (3, 8.0),
            (4, 16.0),
            (5, 32.0),
            (6, 60.0),
        ] {
            for _ in 0..50 {
                let d = backoff_delay(failures, &mut rng).as_secs_f64();
                assert!(
                    d >= base * 0.8 - 1e-9 && d <= base * 1.2 + 1e-9,
                    "{failures}: {d}"
                );
            }
        }
        for failures in [7, 30, 1000, u32::MAX] {
            let d = backoff_delay(failures, &mut rng).as_secs_f64();
            assert!((48.0..=72.0).contains(&d), "{failures}: {d}");
        }
        // Zero failures is treated as the first.
        let d = backoff_delay(0, &mut rng).as_secs_f64();
        assert!((1.6..=2.4).contains(&d));
    }

    #[test]
    fn backoff_jitter_varies() {
        let mut rng = fastrand::Rng::with_seed(1);
        let a: Vec<_> = (0..10).map(|_| backoff_delay(3, &mut rng)).collect();
        assert!(a.iter().any(|d| *d != a[0]));
    }

    #[test]
    fn throttle_prefers_retry_after_then_reset() {
        let m = meter(0, 23);
        assert_eq!(
            throttle_delay(Some(&m), Some(Duration::from_secs(5)), t0()),
            Duration::from_secs(5)
        );
        assert_eq!(
            throttle_delay(Some(&m), None, t0()),
            Duration::from_secs(23)
        );
        assert_eq!(throttle_delay(None, None, t0()), THROTTLE_DEFAULT);
    }

    #[test]
    fn throttle_is_clamped() {
        assert_eq!(
            throttle_delay(Some(&meter(0, -10)), None, t0()),
            THROTTLE_MIN
        );
        assert_eq!(
            throttle_delay(None, Some(Duration::ZERO), t0()),
            THROTTLE_MIN
        );
        assert_eq!(
            throttle_delay(Some(&meter(0, 86_400)), None, t0()),
            THROTTLE_MAX
        );
    }

    #[test]
    fn meter_holds_only_when_exhausted_with_future_reset() {
        let at = t0() + TimeDelta::seconds(5);
        assert_eq!(
            hold_for_meter(at, Some(&meter(0, 23)), t0()),
            Some(t0() + TimeDelta::seconds(23))
        );
        assert_eq!(hold_for_meter(at, Some(&meter(3, 23)), t0()), None);
        assert_eq!(hold_for_meter(at, Some(&meter(0, -1)), t0()), None);
        // The reset comes before the planned call anyway.
        assert_eq!(hold_for_meter(at, Some(&meter(0, 2)), t0()), None);
        assert_eq!(hold_for_meter(at, None, t0()), None);
        // A reset a day away is a misread header.
        assert_eq!(hold_for_meter(at, Some(&meter(0, 86_400)), t0()), None);
    }

    #[test]
    fn classify_follows_the_verdict_classes() {
        let next = |kind| classify(&Verdict::new(kind, None));
        assert_eq!(next(VerdictKind::Ok), Next::Valid);
        assert_eq!(next(VerdictKind::TokenRejected), Next::FallbackToBasic);
        for kind in [
            VerdictKind::Unauthorized,
            VerdictKind::ApiAccessRequired,
            VerdictKind::SubscriptionRequired,
            VerdictKind::Incompatible,
            VerdictKind::Secret,
        ] {
            assert_eq!(next(kind), Next::Fail, "{kind:?}");
        }
        for kind in [
            VerdictKind::Refused,
            VerdictKind::Timeout,
            VerdictKind::Dns,
            VerdictKind::ServerError,
            VerdictKind::NotAToken,
        ] {
            assert_eq!(next(kind), Next::Backoff, "{kind:?}");
        }
        assert_eq!(next(VerdictKind::Throttled), Next::Throttle);
    }

    #[test]
    fn short_durations_read_well() {
        assert_eq!(short_duration(Duration::from_secs(300)), "5m");
        assert_eq!(short_duration(Duration::from_secs(45)), "45s");
        assert_eq!(short_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(short_duration(Duration::from_secs(3900)), "1h5m");
        assert_eq!(short_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(short_duration(Duration::from_millis(7600)), "8s");
        assert_eq!(short_duration(Duration::ZERO), "0s");
    }
}
