//! Fuzzes the rate-limit parser: `Meter::from_headers`, `parse_reset` and `retry_after`.
//!
//! Input: NUL-separated fields `now`, `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
//! `X-RateLimit-Reset`, `Retry-After`. `now` is Unix seconds as text (a default when it does
//! not parse or is out of range); a missing field is an absent header.

#![no_main]

use actsm::act::meter::{self, Meter};
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderValue};

const DEFAULT_NOW: i64 = 1_714_557_600;

fuzz_target!(|data: &[u8]| {
    let mut fields = data.split(|b| *b == 0);
    let now = fields
        .next()
        .and_then(|f| std::str::from_utf8(f).ok())
        .and_then(|f| f.trim().parse::<i64>().ok())
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(|| DateTime::from_timestamp(DEFAULT_NOW, 0).expect("in range"));

    let mut headers = HeaderMap::new();
    for name in [
        meter::LIMIT_HEADER,
        meter::REMAINING_HEADER,
        meter::RESET_HEADER,
        "retry-after",
    ] {
        let Some(field) = fields.next() else { break };
        // The raw text goes to parse_reset too, whether or not it is a legal header value.
        let _ = meter::parse_reset(&String::from_utf8_lossy(field), now);
        if let Ok(value) = HeaderValue::from_bytes(field) {
            headers.insert(name, value);
        }
    }

    let _ = meter::retry_after(&headers, now);
    let reading = Meter::from_headers(&headers, now);
    let present = [
        meter::LIMIT_HEADER,
        meter::REMAINING_HEADER,
        meter::RESET_HEADER,
    ]
    .iter()
    .any(|h| headers.contains_key(*h));
    assert_eq!(
        reading.is_some(),
        present,
        "a reading without headers, or none with them"
    );
    if let Some(m) = reading {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        assert_eq!(m.limit, number(meter::LIMIT_HEADER));
        assert_eq!(m.remaining, number(meter::REMAINING_HEADER));
        let _ = m.describe(now);
        let _ = m.exhausted(now);
        let _ = m.used();
    }
});
