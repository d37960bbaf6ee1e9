//! Fuzzes the JWT decoder: `extract_token`, `decode` and `Expiry::from_claims`.
//!
//! Input: when the first byte is `J`, the rest is a claims JSON text wrapped into a token (so
//! the fuzzer explores the claims without having to discover base64); otherwise the whole
//! input is an `/authorize` response body.

#![no_main]

use actsm::act::jwt::{self, Expiry};
use base64::Engine as _;
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

/// A fixed arrival time (2024-05-01T10:00:00Z): the decoder's answers must not depend on it.
const RECEIVED: i64 = 1_714_557_600;

fn check_claims(claims: &jwt::Claims) {
    let received = DateTime::from_timestamp(RECEIVED, 0).expect("a 2024 instant is in range");
    for lifetime in [
        std::time::Duration::from_secs(3900),
        std::time::Duration::MAX,
    ] {
        let expiry = Expiry::from_claims(claims, received, lifetime);
        let fraction = expiry.fraction_used(received);
        assert!((0.0..=1.0).contains(&fraction), "fraction {fraction}");
        let _ = expiry.remaining(received);
        let _ = expiry.is_expired(received);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Some(claims_json) = data.strip_prefix(b"J") {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = format!(
            "{}.{}.c2lnbmF0dXJl",
            b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            b64.encode(claims_json)
        );
        let parsed = serde_json::from_slice::<serde_json::Value>(claims_json).ok();
        let decoded = jwt::decode(&token);
        match parsed {
            // Any JSON object decodes, and its claims come back unchanged.
            Some(serde_json::Value::Object(map)) => {
                let claims = decoded.expect("a token around a JSON object decodes");
                assert_eq!(claims.claims, map);
                check_claims(&claims);
                assert_eq!(jwt::extract_token(&format!("\"{token}\"")), Some(token));
            }
            _ => assert!(
                decoded.is_err(),
                "claims that are not a JSON object decoded"
            ),
        }
        return;
    }

    let body = String::from_utf8_lossy(data);
    if let Ok(claims) = jwt::decode(&body) {
        check_claims(&claims);
    }
    if let Some(token) = jwt::extract_token(&body) {
        assert!(body.contains(&token), "extracted text is not from the body");
        assert!(
            jwt::decode(&token).is_ok(),
            "extracted token does not decode"
        );
    }
});
