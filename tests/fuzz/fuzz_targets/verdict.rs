//! Fuzzes the verdict decoder: `decode_response`, `describe_body`, `sanitize` and
//! `classify_transport` (the text half of `decode_transport`, which needs a live error).
//!
//! Input: byte 0 picks the call, bytes 1-2 the status (big-endian), then NUL-separated
//! fields: reason phrase, `Content-Type`, `Location`, `Retry-After`, `X-RateLimit-Remaining`,
//! `X-Amzn-ErrorType`, and the body (the rest, NULs included). A missing field is absent.

#![no_main]

use actsm::act::CallKind;
use actsm::act::verdict;
use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderValue};

/// Same bounds as `tests/prop_decoders.rs`.
const RESPONSE_DETAIL_MAX: usize = 400;
const TRANSPORT_DETAIL_MAX: usize = 300;

fn assert_clean(text: &str, max: usize) {
    assert!(
        !text.chars().any(char::is_control),
        "control character in {text:?}"
    );
    assert!(
        text.chars().count() <= max,
        "{} > {max} chars",
        text.chars().count()
    );
}

fuzz_target!(|data: &[u8]| {
    let [call, hi, lo, rest @ ..] = data else {
        return;
    };
    let call = match call % 3 {
        0 => CallKind::Authorize,
        1 => CallKind::Refresh,
        _ => CallKind::System,
    };
    let status = u16::from_be_bytes([*hi, *lo]);

    let mut fields = rest.splitn(7, |b| *b == 0);
    let reason = fields.next().map(String::from_utf8_lossy);
    let mut headers = HeaderMap::new();
    for name in [
        "content-type",
        "location",
        "retry-after",
        "x-ratelimit-remaining",
        "x-amzn-errortype",
    ] {
        if let Some(Ok(value)) = fields.next().map(HeaderValue::from_bytes) {
            headers.insert(name, value);
        }
    }
    let body = fields.next().unwrap_or_default();

    let v = verdict::decode_response(call, status, reason.as_deref(), &headers, body);
    let _ = v.summary();
    if let Some(detail) = &v.detail {
        assert_clean(detail, RESPONSE_DETAIL_MAX);
    }
    assert_clean(&verdict::describe_body(&headers, body), 120);

    let text = String::from_utf8_lossy(body);
    let max = usize::from(*lo).max(1);
    assert_clean(&verdict::sanitize(&text, max), max);
    let t = verdict::classify_transport(*hi & 1 == 1, &text);
    assert_clean(
        t.detail.as_deref().unwrap_or_default(),
        TRANSPORT_DETAIL_MAX,
    );
});
