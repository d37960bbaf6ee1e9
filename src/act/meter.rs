//! Rate-limit readings from `X-RateLimit-*` headers (Act! Premium Cloud).

use chrono::{DateTime, Utc};

/// One reading of a connection's rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Meter {
    /// `X-RateLimit-Limit`: calls allowed per window (a minute on Act! Cloud).
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`: calls left in this window.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`, resolved to an instant.
    pub reset_at: Option<DateTime<Utc>>,
    /// When the reading was taken.
    pub read_at: DateTime<Utc>,
    /// Headers that were sent but could not be read (`X-RateLimit-Remaining: lots`).
    /// Their numbers are `None` above: nothing is held on a number nobody could read.
    pub unreadable: Unreadable,
}

/// The `X-RateLimit-*` headers of one response that were present but unreadable,
/// each with a sanitized excerpt of its value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Unreadable {
    /// `X-RateLimit-Limit`, when not a whole number.
    pub limit: Option<Excerpt>,
    /// `X-RateLimit-Remaining`, when not a whole number.
    pub remaining: Option<Excerpt>,
    /// `X-RateLimit-Reset`, when in none of the known forms.
    pub reset: Option<Excerpt>,
}

impl Unreadable {
    /// True when every header that was sent could be read.
    pub fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.reset.is_none()
    }

    /// `X-RateLimit-Remaining='lots', X-RateLimit-Reset='soon'`; empty when none.
    pub fn describe(&self) -> String {
        [
            ("X-RateLimit-Limit", self.limit),
            ("X-RateLimit-Remaining", self.remaining),
            ("X-RateLimit-Reset", self.reset),
        ]
        .iter()
        .filter_map(|(name, value)| value.map(|v| format!("{name}='{}'", v.as_str())))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Longest excerpt kept of an unreadable header value, in bytes.
const EXCERPT_MAX: usize = 24;

/// A short, printable excerpt of a header value: visible ASCII and spaces
/// kept, anything else (control characters, other bytes) shown as `?`, cut
/// at 24 bytes with a trailing `~`. Fixed size, so a [`Meter`] stays `Copy`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Excerpt {
    bytes: [u8; EXCERPT_MAX],
    len: u8,
}

impl Excerpt {
    /// Sanitizes and cuts `raw`.
    pub fn new(raw: &[u8]) -> Self {
        let mut bytes = [0u8; EXCERPT_MAX];
        let mut len = 0;
        for (slot, &b) in bytes.iter_mut().zip(raw) {
            *slot = if b == b' ' || b.is_ascii_graphic() {
                b
            } else {
                b'?'
            };
            len += 1;
        }
        if raw.len() > EXCERPT_MAX {
            bytes[EXCERPT_MAX - 1] = b'~';
        }
        Self {
            bytes,
            len: u8::try_from(len).unwrap_or(u8::MAX),
        }
    }

    /// The excerpt as text (always ASCII).
    pub fn as_str(&self) -> &str {
        let bytes = &self.bytes[..usize::from(self.len).min(EXCERPT_MAX)];
        // Only visible ASCII, spaces and '?' / '~' are ever stored.
        std::str::from_utf8(bytes).unwrap_or("?")
    }
}

impl std::fmt::Debug for Excerpt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl serde::Serialize for Excerpt {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

use reqwest::header::HeaderMap;

/// `X-RateLimit-Limit`.
pub const LIMIT_HEADER: &str = "x-ratelimit-limit";
/// `X-RateLimit-Remaining`.
pub const REMAINING_HEADER: &str = "x-ratelimit-remaining";
/// `X-RateLimit-Reset`.
pub const RESET_HEADER: &str = "x-ratelimit-reset";

/// Values at or above this are Unix milliseconds (2001-09-09 in ms; 33658 AD in seconds).
const UNIX_MS_FROM: f64 = 1_000_000_000_000.0;
/// Values at or above this are Unix seconds (2001-09-09); below, seconds from now.
const UNIX_S_FROM: f64 = 1_000_000_000.0;

/// `now` plus a non-negative number of seconds (fractions kept to the millisecond).
fn after_seconds(now: DateTime<Utc>, secs: f64) -> Option<DateTime<Utc>> {
    // Bounded by the callers to < 1e9 seconds, so the cast is exact to the millisecond.
    #[allow(clippy::cast_possible_truncation)]
    let ms = (secs * 1000.0).round() as i64;
    now.checked_add_signed(chrono::Duration::milliseconds(ms))
}

/// An instant from Unix milliseconds, fractions dropped.
fn from_unix_ms(ms: f64) -> Option<DateTime<Utc>> {
    // Out-of-range values saturate in the cast and are then refused by chrono.
    #[allow(clippy::cast_possible_truncation)]
    DateTime::from_timestamp_millis(ms.floor() as i64)
}

/// A plain non-negative decimal number ("12", "12.5"); `f64::from_str` alone would also take
/// "inf", "NaN" and "1e3", none of which a server means.
fn plain_number(value: &str) -> Option<f64> {
    let ok = !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && value.bytes().filter(|b| *b == b'.').count() <= 1
        && value.bytes().any(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    value.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Parses an HTTP date (RFC 7231 IMF-fixdate, which chrono's RFC 2822 parser reads, `GMT`
/// included), or an RFC 3339 timestamp for servers that send one.
fn http_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(value)
        .or_else(|_| DateTime::parse_from_rfc3339(value))
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Resolves an `X-RateLimit-Reset` value to an instant.
///
/// Its format is unknown (ACT-API.md, "Rate limits"), so every common form is read:
/// Unix milliseconds (>= 10^12), Unix seconds (>= 10^9), seconds from `now`
/// (smaller numbers, decimals allowed), or an HTTP date. Anything else is `None`.
pub fn parse_reset(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Some(n) = plain_number(value) {
        return if n >= UNIX_MS_FROM {
            from_unix_ms(n)
        } else if n >= UNIX_S_FROM {
            from_unix_ms(n * 1000.0)
        } else {
            after_seconds(now, n)
        };
    }
    http_date(value)
}

/// Reads `Retry-After`: seconds from now, or an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    match plain_number(value) {
        // Seconds only: a Retry-After never carries an epoch, but clamp absurd values.
        Some(n) if n < UNIX_S_FROM => after_seconds(now, n),
        Some(_) => None,
        None => http_date(value),
    }
}

/// A header's value as trimmed text, `None` when absent or not visible ASCII.
fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Formats a span as `45s`, `3m 5s`, `2h 10m`: short enough for a status line.
pub fn short_duration(span: chrono::Duration) -> String {
    let secs = span.num_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 if secs % 60 == 0 => format!("{}m", secs / 60),
        60..3600 => format!("{}m {}s", secs / 60, secs % 60),
        _ if secs % 3600 / 60 == 0 => format!("{}h", secs / 3600),
        _ => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
    }
}

impl Meter {
    /// Reads the `X-RateLimit-*` headers of one response.
    ///
    /// `None` when none of the three is present (on-premises servers send none:
    /// "no limit reported", not zero). A value that does not parse is dropped on
    /// its own; the others still count.
    pub fn from_headers(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Meter> {
        let present = [LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER]
            .iter()
            .any(|name| headers.contains_key(*name));
        if !present {
            return None;
        }
        let number = |name| header_text(headers, name).and_then(|v| v.parse::<u64>().ok());
        let limit = number(LIMIT_HEADER);
        let remaining = number(REMAINING_HEADER);
        let reset_at = header_text(headers, RESET_HEADER).and_then(|v| parse_reset(v, now));
        // Present but not read: keep an excerpt to show, never a guess.
        let unread = |name: &str, read: bool| {
            headers
                .get(name)
                .filter(|_| !read)
                .map(|v| Excerpt::new(v.as_bytes()))
        };
        Some(Meter {
            limit,
            remaining,
            reset_at,
            read_at: now,
            unreadable: Unreadable {
                limit: unread(LIMIT_HEADER, limit.is_some()),
                remaining: unread(REMAINING_HEADER, remaining.is_some()),
                reset: unread(RESET_HEADER, reset_at.is_some()),
            },
        })
    }

    /// True when nothing is left and the window has not reset yet (or its reset is unknown).
    pub fn exhausted(&self, now: DateTime<Utc>) -> bool {
        self.remaining == Some(0) && self.reset_at.is_none_or(|reset| reset > now)
    }

    /// Calls used in this window, when both limit and remaining are known.
    pub fn used(&self) -> Option<u64> {
        Some(self.limit?.saturating_sub(self.remaining?))
    }

    /// One line for the UI, e.g. `57 of 60 left, resets in 23s`.
    pub fn describe(&self, now: DateTime<Utc>) -> String {
        let mut text = match (self.remaining, self.limit) {
            (Some(remaining), Some(limit)) => format!("{remaining} of {limit} left"),
            (Some(remaining), None) => format!("{remaining} left"),
            (None, Some(limit)) => format!("limit {limit}"),
            (None, None) if !self.unreadable.is_empty() => {
                format!(
                    "rate-limit headers unreadable: {}",
                    self.unreadable.describe()
                )
            }
            (None, None) => "limit unreadable".to_owned(),
        };
        if let Some(reset) = self.reset_at {
            if reset > now {
                text.push_str(", resets in ");
                text.push_str(&short_duration(reset - now));
            } else {
                text.push_str(", window has reset");
            }
        }
        text
    }
}

/// Describes an optional reading: `None` is "no limit reported" (on-premises), never zero.
pub fn describe_reading(meter: Option<&Meter>, now: DateTime<Utc>) -> String {
    meter.map_or_else(|| "no limit reported".to_owned(), |m| m.describe(now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn reset_as_unix_seconds() {
        let at = now() + chrono::Duration::seconds(40);
        assert_eq!(parse_reset(&at.timestamp().to_string(), now()), Some(at));
        assert_eq!(
            parse_reset(" 1000000000 ", now()),
            DateTime::from_timestamp(1_000_000_000, 0)
        );
    }

    #[test]
    fn reset_as_unix_milliseconds() {
        let at = now() + chrono::Duration::milliseconds(40_500);
        assert_eq!(
            parse_reset(&at.timestamp_millis().to_string(), now()),
            Some(at)
        );
    }

    #[test]
    fn reset_as_seconds_from_now() {
        assert_eq!(
            parse_reset("23", now()),
            Some(now() + chrono::Duration::seconds(23))
        );
        assert_eq!(parse_reset("0", now()), Some(now()));
        assert_eq!(
            parse_reset("1.5", now()),
            Some(now() + chrono::Duration::milliseconds(1500))
        );
        assert_eq!(
            parse_reset("999999999", now()),
            Some(now() + chrono::Duration::seconds(999_999_999))
        );
    }

    #[test]
    fn reset_as_http_date() {
        assert_eq!(
            parse_reset("Wed, 01 May 2024 10:00:30 GMT", now()),
            Some(now() + chrono::Duration::seconds(30))
        );
        assert_eq!(
            parse_reset("2024-05-01T10:01:00Z", now()),
            Some(now() + chrono::Duration::minutes(1))
        );
    }

    #[test]
    fn reset_rejects_garbage() {
        for bad in [
            "",
            "soon",
            "-5",
            "inf",
            "NaN",
            "1e3",
            "1.2.3",
            ".",
            "12s",
            "99999999999999999999999",
        ] {
            let got = parse_reset(bad, now());
            // The huge number is "Unix ms" far beyond chrono's range: refused, not a panic.
            assert_eq!(got, None, "{bad:?} gave {got:?}");
        }
    }

    #[test]
    fn meter_from_headers_reads_each_field() {
        let h = headers(&[
            ("X-RateLimit-Limit", "60"),
            ("X-RateLimit-Remaining", "57"),
            ("X-RateLimit-Reset", "23"),
        ]);
        let m = Meter::from_headers(&h, now()).unwrap();
        assert_eq!(m.limit, Some(60));
        assert_eq!(m.remaining, Some(57));
        assert_eq!(m.reset_at, Some(now() + chrono::Duration::seconds(23)));
        assert_eq!(m.read_at, now());
        assert_eq!(m.used(), Some(3));
        assert_eq!(m.describe(now()), "57 of 60 left, resets in 23s");
        assert!(!m.exhausted(now()));
    }

    #[test]
    fn meter_absent_without_headers_and_tolerant_of_junk() {
        assert_eq!(
            Meter::from_headers(&headers(&[("content-type", "text/plain")]), now()),
            None
        );
        assert_eq!(describe_reading(None, now()), "no limit reported");

        let h = headers(&[
            ("x-ratelimit-limit", "lots"),
            ("x-ratelimit-remaining", " 0 "),
        ]);
        let m = Meter::from_headers(&h, now()).unwrap();
        assert_eq!((m.limit, m.remaining, m.reset_at), (None, Some(0), None));
        assert_eq!(m.used(), None);
        assert!(m.exhausted(now()), "nothing left and no reset known");
        assert_eq!(m.describe(now()), "0 left");
        assert_eq!(
            m.unreadable.limit.map(|e| e.as_str().to_owned()),
            Some("lots".into())
        );
        assert_eq!(m.unreadable.remaining, None);
        assert_eq!(m.unreadable.describe(), "X-RateLimit-Limit='lots'");

        let mut h = HeaderMap::new();
        h.insert(
            "x-ratelimit-remaining",
            HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        );
        let m = Meter::from_headers(&h, now()).unwrap();
        assert_eq!(m.remaining, None);
        assert_eq!(
            m.describe(now()),
            "rate-limit headers unreadable: X-RateLimit-Remaining='??'"
        );
    }

    #[test]
    fn unreadable_values_are_sanitized_and_cut() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-ratelimit-remaining",
            HeaderValue::from_bytes(b"lo\tts\x80").unwrap(),
        );
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("next tuesday or so, maybe later"),
        );
        let m = Meter::from_headers(&h, now()).unwrap();
        assert_eq!((m.limit, m.remaining, m.reset_at), (None, None, None));
        assert!(!m.exhausted(now()), "an unreadable number holds nothing");
        let reset = m.unreadable.reset.unwrap();
        assert_eq!(reset.as_str(), "next tuesday or so, may~");
        assert_eq!(reset.as_str().len(), EXCERPT_MAX);
        assert_eq!(
            m.unreadable.describe(),
            "X-RateLimit-Remaining='lo?ts?', X-RateLimit-Reset='next tuesday or so, may~'"
        );
        // Well-formed headers leave nothing unreadable.
        let h = headers(&[("x-ratelimit-limit", "60"), ("x-ratelimit-remaining", "5")]);
        assert!(
            Meter::from_headers(&h, now())
                .unwrap()
                .unreadable
                .is_empty()
        );
    }

    #[test]
    fn exhausted_only_until_reset() {
        let m = Meter {
            limit: Some(60),
            remaining: Some(0),
            reset_at: Some(now() + chrono::Duration::seconds(10)),
            read_at: now(),
            unreadable: Unreadable::default(),
        };
        assert!(m.exhausted(now()));
        assert!(!m.exhausted(now() + chrono::Duration::seconds(10)));
        assert_eq!(
            m.describe(now() + chrono::Duration::seconds(11)),
            "0 of 60 left, window has reset"
        );
        assert!(
            !Meter {
                remaining: Some(1),
                ..m
            }
            .exhausted(now())
        );
    }

    #[test]
    fn retry_after_seconds_or_date() {
        let h = headers(&[("retry-after", "120")]);
        assert_eq!(
            retry_after(&h, now()),
            Some(now() + chrono::Duration::minutes(2))
        );
        let h = headers(&[("Retry-After", "Wed, 01 May 2024 10:05:00 GMT")]);
        assert_eq!(
            retry_after(&h, now()),
            Some(now() + chrono::Duration::minutes(5))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "later")]), now()),
            None
        );
        assert_eq!(retry_after(&HeaderMap::new(), now()), None);
    }

    #[test]
    fn short_durations() {
        let s = chrono::Duration::seconds;
        assert_eq!(short_duration(s(-3)), "0s");
        assert_eq!(short_duration(s(59)), "59s");
        assert_eq!(short_duration(s(120)), "2m");
        assert_eq!(short_duration(s(185)), "3m 5s");
        assert_eq!(short_duration(s(7200)), "2h");
        assert_eq!(short_duration(s(7800)), "2h 10m");
    }
}
