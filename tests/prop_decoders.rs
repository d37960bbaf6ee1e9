//! Property tests of the three decoders that read what a server sends: the JWT decoder, the
//! rate-limit parser and the verdict decoder. Whatever the bytes, none of them panics, and
//! where a decoder has a real property (a round trip, a bound, a hidden secret) it is checked.
//!
//! The same functions have cargo-fuzz targets in `tests/fuzz` (see README.md, "Fuzzing").
//! A crash one of them finds is fixed in the decoder and its input added here as a regression
//! case. None so far: about 1.4 million runs of `jwt`, 1.3 million of `meter` and 1 million of
//! `verdict` found no panic and no broken assertion.

// Helpers outside #[test] fns are not covered by clippy.toml's allow-unwrap-in-tests.
#![allow(clippy::unwrap_used)]

use actsm::act::CallKind;
use actsm::act::jwt::{self, Claims, Expiry, ExpirySource};
use actsm::act::meter::{self, Meter};
use actsm::act::verdict::{self, VerdictKind};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Cases per property: enough to shake out edge cases, few enough that the whole file runs
/// in a few seconds on a small machine.
const CASES: u32 = 256;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        // A failure persists to a file next to the test by default; the regression cases
        // below are kept by hand instead, so nothing is written into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

/// Any instant chrono can hold, at whole seconds (its range is about ±262,000 years).
fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (-8_000_000_000_000_i64..8_000_000_000_000_i64)
        .prop_map(|secs| DateTime::from_timestamp(secs, 0).unwrap())
}

/// An instant in the years a server could plausibly mean (1970 to 2096).
fn plausible_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0_i64..4_000_000_000_i64).prop_map(|secs| DateTime::from_timestamp(secs, 0).unwrap())
}

/// Text that is mostly ASCII with the characters the decoders care about, plus any char.
fn texty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~\t\r\n]{0,200}",
        "[0-9.=eE+-]{0,30}",
        "[A-Za-z0-9_=.-]{0,120}",
    ]
}

/// A JSON value without floats (`serde_json`'s default float parser does not promise an exact
/// round trip) nested a few levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON object without the three date claims (their own strategies set them).
fn claims_object() -> impl Strategy<Value = serde_json::Map<String, serde_json::Value>> {
    prop::collection::btree_map("[a-z_]{1,8}|\\PC{0,6}", json_value(), 0..6).prop_map(|m| {
        m.into_iter()
            .filter(|(k, _)| !matches!(k.as_str(), "exp" | "iat" | "nbf"))
            .collect()
    })
}

/// A header map with any of the headers the decoders read (and some they do not), each with
/// arbitrary bytes as its value when `http` accepts them as one.
fn header_map() -> impl Strategy<Value = HeaderMap> {
    let name = prop_oneof![
        Just("x-ratelimit-limit"),
        Just("x-ratelimit-remaining"),
        Just("x-ratelimit-reset"),
        Just("retry-after"),
        Just("content-type"),
        Just("location"),
        Just("x-amzn-errortype"),
        Just("x-amz-apigw-id"),
        Just("date"),
        Just("x-other"),
    ];
    let value = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        "[0-9. ]{0,24}".prop_map(String::into_bytes),
        "[ -~]{0,60}".prop_map(String::into_bytes),
    ];
    prop::collection::vec((name, value), 0..8).prop_map(|pairs| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                map.append(HeaderName::from_static(name), value);
            }
        }
        map
    })
}

fn any_call() -> impl Strategy<Value = CallKind> {
    prop_oneof![
        Just(CallKind::Authorize),
        Just(CallKind::Refresh),
        Just(CallKind::System)
    ]
}

/// A status: any u16, with the ones the decoder treats specially drawn more often.
fn any_status() -> impl Strategy<Value = u16> {
    prop_oneof![
        any::<u16>(),
        prop::sample::select(vec![
            200, 204, 301, 302, 400, 401, 403, 404, 407, 408, 429, 500, 502, 503, 504
        ]),
    ]
}

/// A body: arbitrary bytes, or text shaped like the bodies servers really send.
fn any_body() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "<html>",
        "<!DOCTYPE html>",
        "<title>",
        "</title>",
        "<body>",
        "IIS",
        "403.6",
        "4030",
        "4031",
        "4032",
        "{\"message\":",
        "{\"Message\":\"",
        "\"exceptionMessage\":",
        "\"code\":4032",
        "}",
        "]",
        "[",
        "\"",
        ".",
        "Basic ",
        "Bearer ",
        "eyJhbGciOiJIUzI1NiJ9",
        "\u{0}",
        "\u{feff}",
        "é",
        "\n",
    ]);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        prop::collection::vec(pieces, 0..24).prop_map(|p| p.concat().into_bytes()),
        any::<String>().prop_map(String::into_bytes),
    ]
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT with the given header and claims objects and a fake signature.
fn make_jwt(
    header: &serde_json::Map<String, serde_json::Value>,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> String {
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(&serde_json::to_vec(header).unwrap()),
        b64(&serde_json::to_vec(claims).unwrap())
    )
}

fn standard_header() -> serde_json::Map<String, serde_json::Value> {
    serde_json::json!({"alg": "HS256", "typ": "JWT"})
        .as_object()
        .unwrap()
        .clone()
}

/// Longest detail a response verdict can carry: the status, a reason phrase (60), and one
/// excerpt (120) or a redirect target (80) with its hint. Generous, but far below a body.
const RESPONSE_DETAIL_MAX: usize = 400;
/// Longest detail a transport verdict can carry: a TLS cause plus 160 characters of chain.
const TRANSPORT_DETAIL_MAX: usize = 300;

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

// ---------------------------------------------------------------------------------------
// JWT decoder
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn jwt_decode_and_extract_never_panic(raw in texty()) {
        let decoded = jwt::decode(&raw);
        if let Err(err) = &decoded {
            // Errors name the part, never quote the token.
            let message = err.to_string();
            prop_assert!(message.len() < 80, "{message}");
        }
        if let Some(token) = jwt::extract_token(&raw) {
            // What is extracted is a slice of the body, and decodes.
            prop_assert!(raw.contains(&token));
            prop_assert!(jwt::decode(&token).is_ok());
        }
    }

    #[test]
    fn jwt_decode_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = jwt::decode(&text);
        let _ = jwt::extract_token(&text);
    }

    #[test]
    fn jwt_decode_never_panics_on_three_base64_parts(
        header in prop::collection::vec(any::<u8>(), 0..60),
        claims in prop::collection::vec(any::<u8>(), 0..60),
        sig in "[A-Za-z0-9_-]{0,8}={0,3}",
    ) {
        let raw = format!("{}.{}.{sig}", b64(&header), b64(&claims));
        let _ = jwt::decode(&raw);
        let _ = jwt::extract_token(&raw);
    }

    #[test]
    fn jwt_errors_never_quote_the_token(raw in "[A-Za-z0-9_-]{12,40}(\\.[A-Za-z0-9_!-]{0,40}){0,4}") {
        if let Err(err) = jwt::decode(&raw) {
            prop_assert!(!err.to_string().contains(&raw));
            let debug = format!("{err:?}");
            prop_assert!(!debug.contains(&raw));
            for part in raw.split('.').filter(|p| p.len() >= 12) {
                prop_assert!(!err.to_string().contains(part), "{err}");
            }
        }
    }

    #[test]
    fn jwt_round_trips_arbitrary_claims(
        claims in claims_object(),
        exp in any::<i64>(),
        iat in any::<i64>(),
    ) {
        let mut full = claims.clone();
        full.insert("exp".to_owned(), exp.into());
        full.insert("iat".to_owned(), iat.into());
        let token = make_jwt(&standard_header(), &full);

        let decoded = jwt::decode(&token).unwrap();
        prop_assert_eq!(&decoded.claims, &full);
        prop_assert_eq!(&decoded.header, &standard_header());
        prop_assert_eq!(decoded.exp, Some(exp));
        prop_assert_eq!(decoded.iat, Some(iat));
        prop_assert_eq!(decoded.nbf, None);
    }

    #[test]
    fn jwt_header_round_trips_and_missing_dates_are_none(
        header in claims_object(),
        claims in claims_object(),
    ) {
        let token = make_jwt(&header, &claims);
        let decoded = jwt::decode(&token).unwrap();
        prop_assert_eq!(&decoded.header, &header);
        prop_assert_eq!(&decoded.claims, &claims);
        prop_assert_eq!((decoded.exp, decoded.iat, decoded.nbf), (None, None, None));
    }

    #[test]
    fn jwt_fractional_and_string_dates_are_floored(n in -(1_i64 << 40)..(1_i64 << 40)) {
        // n + 0.5 is exact in an f64 at this size, so the floor is n whatever the parser.
        #[allow(clippy::cast_precision_loss)]
        let half = n as f64 + 0.5;
        let claims = serde_json::json!({"exp": half, "iat": format!(" {n} "), "nbf": format!("{half}")});
        let token = make_jwt(&standard_header(), claims.as_object().unwrap());
        let decoded = jwt::decode(&token).unwrap();
        prop_assert_eq!(decoded.exp, Some(n));
        prop_assert_eq!(decoded.iat, Some(n));
        prop_assert_eq!(decoded.nbf, Some(n));
    }

    #[test]
    fn extract_token_strips_quotes_whitespace_and_bom(
        claims in claims_object(),
        quote in prop::sample::select(vec!["\"", "'", ""]),
        before in "[ \t\r\n]{0,3}",
        after in "[ \t\r\n]{0,3}",
        bom in any::<bool>(),
    ) {
        let token = make_jwt(&standard_header(), &claims);
        let bom = if bom { "\u{feff}" } else { "" };
        let body = format!("{bom}{before}{quote}{token}{quote}{after}");
        prop_assert_eq!(jwt::extract_token(&body), Some(token.clone()));
        // The plain case the brief names: a double-quoted token.
        prop_assert_eq!(jwt::extract_token(&format!("\"{token}\"")), Some(token));
    }

    #[test]
    fn expiry_never_panics_and_keeps_its_promises(
        exp in prop::option::of(any::<i64>()),
        iat in prop::option::of(any::<i64>()),
        received in any_instant(),
        lifetime_secs in any::<u64>(),
        lifetime_nanos in 0_u32..1_000_000_000,
        now in any_instant(),
    ) {
        let claims = Claims { exp, iat, ..Claims::default() };
        let lifetime = std::time::Duration::new(lifetime_secs, lifetime_nanos);
        let expiry = Expiry::from_claims(&claims, received, lifetime);

        let exp_instant = exp.and_then(|e| DateTime::from_timestamp(e, 0));
        if let Some(at) = exp_instant {
            prop_assert_eq!(expiry.source, ExpirySource::Claim);
            prop_assert_eq!(expiry.expires_at, at);
        } else {
            prop_assert_eq!(expiry.source, ExpirySource::Assumed);
            prop_assert!(expiry.expires_at >= expiry.issued_at);
        }
        let issued = iat.and_then(|i| DateTime::from_timestamp(i, 0)).unwrap_or(received);
        prop_assert_eq!(expiry.issued_at, issued);

        let fraction = expiry.fraction_used(now);
        prop_assert!((0.0..=1.0).contains(&fraction), "{fraction}");
        prop_assert_eq!(expiry.is_expired(now), expiry.remaining(now) <= chrono::Duration::zero());
    }
}

// ---------------------------------------------------------------------------------------
// Rate-limit parser
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_reset_never_panics(value in texty(), now in any_instant()) {
        let _ = meter::parse_reset(&value, now);
    }

    #[test]
    fn parse_reset_never_panics_on_numbers(
        value in "[0-9]{0,40}(\\.[0-9]{0,20})?",
        now in any_instant(),
    ) {
        let _ = meter::parse_reset(&value, now);
    }

    #[test]
    fn reset_as_seconds_from_now(secs in 0_u32..1_000_000_000, millis in 0_u32..1000, now in plausible_instant()) {
        prop_assert_eq!(
            meter::parse_reset(&format!(" {secs} "), now),
            Some(now + chrono::Duration::seconds(i64::from(secs)))
        );
        prop_assert_eq!(
            meter::parse_reset(&format!("{secs}.{millis:03}"), now),
            Some(now + chrono::Duration::milliseconds(i64::from(secs) * 1000 + i64::from(millis)))
        );
    }

    #[test]
    fn reset_as_unix_seconds(at in 1_000_000_000_i64..1_000_000_000_000, now in plausible_instant()) {
        prop_assert_eq!(meter::parse_reset(&at.to_string(), now), DateTime::from_timestamp(at, 0));
    }

    #[test]
    fn reset_as_unix_milliseconds(at in 1_000_000_000_000_i64..8_000_000_000_000_000, now in plausible_instant()) {
        prop_assert_eq!(
            meter::parse_reset(&at.to_string(), now),
            DateTime::from_timestamp_millis(at)
        );
    }

    #[test]
    fn reset_as_http_date_or_rfc3339(at in plausible_instant(), now in plausible_instant()) {
        let imf = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        prop_assert_eq!(meter::parse_reset(&imf, now), Some(at));
        prop_assert_eq!(meter::parse_reset(&at.to_rfc3339(), now), Some(at));
        prop_assert_eq!(meter::parse_reset(&at.to_rfc2822(), now), Some(at));
    }

    #[test]
    fn retry_after_seconds_or_date(secs in 0_u32..1_000_000_000, at in plausible_instant(), now in plausible_instant()) {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_str(&secs.to_string()).unwrap());
        prop_assert_eq!(
            meter::retry_after(&headers, now),
            Some(now + chrono::Duration::seconds(i64::from(secs)))
        );
        let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        headers.insert("retry-after", HeaderValue::from_str(&date).unwrap());
        prop_assert_eq!(meter::retry_after(&headers, now), Some(at));
    }

    #[test]
    fn meter_and_retry_after_never_panic_and_read_each_header(headers in header_map(), now in any_instant()) {
        let _ = meter::retry_after(&headers, now);
        let reading = Meter::from_headers(&headers, now);

        let present = [meter::LIMIT_HEADER, meter::REMAINING_HEADER, meter::RESET_HEADER]
            .iter()
            .any(|h| headers.contains_key(*h));
        prop_assert_eq!(reading.is_some(), present);

        if let Some(m) = reading {
            let number = |name: &str| {
                headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok()
            };
            prop_assert_eq!(m.limit, number(meter::LIMIT_HEADER));
            prop_assert_eq!(m.remaining, number(meter::REMAINING_HEADER));
            prop_assert_eq!(m.read_at, now);
            let _ = m.describe(now);
            let _ = m.exhausted(now);
            if let (Some(limit), Some(remaining), Some(used)) = (m.limit, m.remaining, m.used()) {
                prop_assert_eq!(used, limit.saturating_sub(remaining));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Verdict decoder
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn decode_response_never_panics_and_details_are_clean(
        call in any_call(),
        status in any_status(),
        reason in prop::option::of(texty()),
        headers in header_map(),
        body in any_body(),
    ) {
        let v = verdict::decode_response(call, status, reason.as_deref(), &headers, &body);
        let _ = v.summary();
        let _ = v.class();
        if let Some(detail) = &v.detail {
            prop_assert!(!has_control(detail), "{detail:?}");
            prop_assert!(detail.chars().count() <= RESPONSE_DETAIL_MAX, "{} chars: {detail:?}", detail.chars().count());
        }
    }

    #[test]
    fn decode_response_never_echoes_a_long_body(
        status in any_status(),
        word in "[a-z]{8}",
        repeat in 50_usize..400,
        html in any::<bool>(),
    ) {
        let filler = format!("{word} ").repeat(repeat);
        let body = if html {
            format!("<html><body>{filler}</body></html>")
        } else {
            filler.clone()
        };
        let v = verdict::decode_response(CallKind::Authorize, status, None, &HeaderMap::new(), body.as_bytes());
        if let Some(detail) = &v.detail {
            prop_assert!(detail.chars().count() <= RESPONSE_DETAIL_MAX, "{detail}");
            // At most a glimpse: never 30 copies of the word.
            prop_assert!(!detail.contains(&format!("{word} ").repeat(30)), "{detail}");
        }
    }

    #[test]
    fn decode_response_hides_a_token_in_the_body(
        status in any_status(),
        claims in claims_object(),
        prefix in "[ -~]{0,40}",
        suffix in "[ -~]{0,40}",
        json in any::<bool>(),
    ) {
        let mut claims = claims;
        claims.insert("sub".to_owned(), "jane.doe@example.invalid".into());
        let token = make_jwt(&standard_header(), &claims);
        let body = if json {
            serde_json::json!({"message": format!("{prefix} {token} {suffix}")}).to_string()
        } else {
            format!("{prefix} {token} {suffix}")
        };
        let v = verdict::decode_response(CallKind::Refresh, status, None, &HeaderMap::new(), body.as_bytes());
        if let Some(detail) = &v.detail {
            let claims_part = token.split('.').nth(1).unwrap();
            prop_assert!(!detail.contains(claims_part), "{detail}");
        }
    }

    #[test]
    fn act_codes_are_found_in_plain_text_and_json(
        code in 4030_u16..=4032,
        status in prop::sample::select(vec![400_u16, 401, 403, 500]),
        words in "[a-z ]{0,30}",
    ) {
        let expected = match code {
            4030 => VerdictKind::Incompatible,
            4031 => VerdictKind::SubscriptionRequired,
            _ => VerdictKind::ApiAccessRequired,
        };
        let text = format!("{words} {code} {words}");
        let v = verdict::decode_response(CallKind::Authorize, status, None, &HeaderMap::new(), text.as_bytes());
        prop_assert_eq!(v.kind, expected);
        let json = serde_json::json!({"Message": text}).to_string();
        let v = verdict::decode_response(CallKind::Authorize, status, None, &HeaderMap::new(), json.as_bytes());
        prop_assert_eq!(v.kind, expected);
    }

    #[test]
    fn sanitize_is_clean_and_bounded(text in texty(), max in 1_usize..200) {
        let out = verdict::sanitize(&text, max);
        prop_assert!(!has_control(&out), "{out:?}");
        prop_assert!(out.chars().count() <= max, "{} > {max}: {out:?}", out.chars().count());
        // Whitespace is collapsed to single spaces, never leading or trailing.
        prop_assert!(!out.contains("  "), "{out:?}");
        prop_assert!(out.chars().all(|c| c == ' ' || !c.is_whitespace()), "{out:?}");
        prop_assert_eq!(out.trim(), out.as_str());
    }

    #[test]
    fn sanitize_hides_what_follows_basic_or_bearer(
        scheme in prop::sample::select(vec!["Basic", "Bearer", "basic", "BEARER", "Basic:"]),
        credential in "[A-Za-z0-9+/=_.-]{12,60}",
        before in "[a-z ]{0,20}",
        after in "[a-z ]{0,20}",
    ) {
        let out = verdict::sanitize(&format!("{before} {scheme} {credential} {after}"), 200);
        prop_assert!(!out.contains(&credential), "{out}");
        prop_assert!(out.contains("[hidden]"), "{out}");
    }

    #[test]
    fn describe_body_is_bounded_and_clean(headers in header_map(), body in any_body()) {
        let out = verdict::describe_body(&headers, &body);
        prop_assert!(out.chars().count() <= 120, "{out}");
        prop_assert!(!has_control(&out), "{out:?}");
    }

    #[test]
    fn classify_transport_never_panics_and_details_are_clean(timeout in any::<bool>(), chain in texty()) {
        let v = verdict::classify_transport(timeout, &chain);
        if timeout {
            prop_assert_eq!(v.kind, VerdictKind::Timeout);
        }
        let detail = v.detail.unwrap_or_default();
        prop_assert!(!has_control(&detail), "{detail:?}");
        prop_assert!(detail.chars().count() <= TRANSPORT_DETAIL_MAX, "{detail}");
    }

    #[test]
    fn decode_transport_never_panics_on_request_errors(url in texty(), header in prop::collection::vec(any::<u8>(), 0..20)) {
        // Builder errors only: nothing is ever sent, so no traffic leaves this process.
        let client = client();
        let request = client.get(url.as_str()).header("x-test", header).build();
        if let Err(err) = request {
            let v = verdict::decode_transport(&err);
            prop_assert!(!has_control(v.detail.as_deref().unwrap_or_default()));
        }
    }
}

/// One reqwest client for the transport property (built once: building is not cheap).
fn client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        // reqwest is built without a default crypto provider; the client installs ring too.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder().build().unwrap()
    })
}

// ---------------------------------------------------------------------------------------
// Regression cases: inputs found by the fuzz targets or by hand, kept so they stay fixed.
// ---------------------------------------------------------------------------------------
