//! Decoding Act! tokens: HS256 JWTs whose key only the server holds.
//!
//! We decode, never verify. The claims drive countdowns and refresh times;
//! the server stays the judge of whether a token is good.

use chrono::{DateTime, Utc};

/// A token's decoded header and claims.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Claims {
    /// The JOSE header, as sent (e.g. `{"alg":"HS256","typ":"JWT"}`).
    pub header: serde_json::Map<String, serde_json::Value>,
    /// Every claim, as sent. Holds no secret: a claim set is readable by anyone holding the token,
    /// but we still never log it whole.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// `exp`, seconds since the Unix epoch, when present and numeric.
    pub exp: Option<i64>,
    /// `iat`, when present and numeric.
    pub iat: Option<i64>,
    /// `nbf`, when present and numeric.
    pub nbf: Option<i64>,
}

/// How the expiry of a token is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpirySource {
    /// From the token's `exp` claim.
    Claim,
    /// No `exp` claim: issue time plus the configured `assumed_lifetime`.
    Assumed,
}

/// When a token stops being good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// When it was issued (`iat`, or the local time it arrived).
    pub issued_at: DateTime<Utc>,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// Whether `expires_at` comes from the token or is assumed.
    pub source: ExpirySource,
}

/// Why a token could not be decoded. Messages name the part, never the token text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three dot-separated parts.
    #[error("a token has three dot-separated parts, this has {found}")]
    Parts {
        /// How many parts were found.
        found: usize,
    },
    /// A part is empty.
    #[error("the token's {part} is empty")]
    EmptyPart {
        /// `header`, `claims` or `signature`.
        part: &'static str,
    },
    /// A part is not base64url.
    #[error("the token's {part} is not base64url")]
    Base64 {
        /// `header`, `claims` or `signature`.
        part: &'static str,
    },
    /// A part decodes to something other than a JSON object.
    #[error("the token's {part} is not a JSON object")]
    NotJsonObject {
        /// `header` or `claims`.
        part: &'static str,
    },
}

/// Base64url, padding optional, stray trailing bits tolerated: servers differ, and we only read.
const B64URL: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A decoded JSON object (a token's header or claims).
type Object = serde_json::Map<String, serde_json::Value>;

/// The names of the three parts, for error messages.
const PART_NAMES: [&str; 3] = ["header", "claims", "signature"];

/// True when `part` uses only the base64url alphabet (with optional trailing `=` padding).
fn is_base64url(part: &str) -> bool {
    let body = part.trim_end_matches('=');
    !body.is_empty()
        && part.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Decodes one base64url part into a JSON object.
fn decode_object(part: &str, name: &'static str) -> Result<Object, JwtError> {
    use base64::Engine as _;

    if part.is_empty() {
        return Err(JwtError::EmptyPart { part: name });
    }
    if !is_base64url(part) {
        return Err(JwtError::Base64 { part: name });
    }
    let bytes = B64URL
        .decode(part)
        .map_err(|_| JwtError::Base64 { part: name })?;
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(JwtError::NotJsonObject { part: name }),
    }
}

/// Splits a raw JWT and checks its shape, returning header and claims objects.
fn split_and_decode(raw: &str) -> Result<(Object, Object), JwtError> {
    let parts: Vec<&str> = raw.split('.').collect();
    if parts.len() != 3 {
        return Err(JwtError::Parts { found: parts.len() });
    }
    let header = decode_object(parts[0], PART_NAMES[0])?;
    let claims = decode_object(parts[1], PART_NAMES[1])?;
    if parts[2].is_empty() {
        return Err(JwtError::EmptyPart {
            part: PART_NAMES[2],
        });
    }
    if !is_base64url(parts[2]) {
        return Err(JwtError::Base64 {
            part: PART_NAMES[2],
        });
    }
    Ok((header, claims))
}

/// Finds the JWT in an `/authorize` response body.
///
/// The token travels as bare text, sometimes quoted, often labelled
/// `text/html` (ACT-API.md, "Getting a token"). Trims whitespace (and a
/// byte-order mark), removes ONE pair of surrounding double or single quotes,
/// then requires three dot-separated base64url parts whose first two decode to
/// JSON objects. Anything else (a login page, a proxy's page) is `None`.
pub fn extract_token(body: &str) -> Option<String> {
    let trimmed = body.trim_start_matches('\u{feff}').trim();
    let inner = ['"', '\'']
        .iter()
        .find_map(|q| {
            trimmed
                .strip_prefix(*q)
                .and_then(|rest| rest.strip_suffix(*q))
        })
        .unwrap_or(trimmed)
        .trim();
    split_and_decode(inner).ok().map(|_| inner.to_owned())
}

/// Reads a numeric date claim: an integer or a float (floored), or a numeric string.
fn numeric_claim(claims: &serde_json::Map<String, serde_json::Value>, name: &str) -> Option<i64> {
    let value = claims.get(name)?;
    if let Some(i) = value.as_i64() {
        return Some(i);
    }
    let f = match value {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    // The range check keeps the cast exact-or-floored; `as` would saturate anyway, never panic.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    if f.is_finite() && f >= i64::MIN as f64 && f <= i64::MAX as f64 {
        Some(f.floor() as i64)
    } else {
        None
    }
}

/// Decodes a JWT's header and claims without verifying it (the key is the server's).
///
/// Never panics, whatever the input; errors never quote the token.
pub fn decode(raw: &str) -> Result<Claims, JwtError> {
    let (header, claims) = split_and_decode(raw.trim())?;
    Ok(Claims {
        exp: numeric_claim(&claims, "exp"),
        iat: numeric_claim(&claims, "iat"),
        nbf: numeric_claim(&claims, "nbf"),
        header,
        claims,
    })
}

/// Seconds since the epoch to an instant, `None` when chrono cannot represent it.
fn instant(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

impl Expiry {
    /// Works out when a token expires.
    ///
    /// With an `exp` claim: that, source [`ExpirySource::Claim`]. Without one:
    /// the issue time plus `assumed_lifetime`, source [`ExpirySource::Assumed`].
    /// The issue time is `iat` when present, else `received_at` (the local
    /// time the token arrived).
    pub fn from_claims(
        claims: &Claims,
        received_at: DateTime<Utc>,
        assumed_lifetime: std::time::Duration,
    ) -> Expiry {
        let issued_at = claims.iat.and_then(instant).unwrap_or(received_at);

        if let Some(expires_at) = claims.exp.and_then(instant) {
            return Expiry {
                issued_at,
                expires_at,
                source: ExpirySource::Claim,
            };
        }

        let lifetime =
            chrono::Duration::from_std(assumed_lifetime).unwrap_or(chrono::Duration::MAX);
        let expires_at = issued_at
            .checked_add_signed(lifetime)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        Expiry {
            issued_at,
            expires_at,
            source: ExpirySource::Assumed,
        }
    }

    /// Time left until expiry; negative once expired.
    pub fn remaining(&self, now: DateTime<Utc>) -> chrono::Duration {
        self.expires_at.signed_duration_since(now)
    }

    /// True once `now` has reached the expiry.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    /// The share of the lifetime used up at `now`, clamped to `0.0..=1.0`.
    ///
    /// A lifetime of zero or less counts as fully used.
    pub fn fraction_used(&self, now: DateTime<Utc>) -> f64 {
        let total = self.expires_at.signed_duration_since(self.issued_at);
        let used = now.signed_duration_since(self.issued_at);
        // chrono's whole date range fits in i64 milliseconds: these cannot overflow.
        let (total_ms, used_ms) = (total.num_milliseconds(), used.num_milliseconds());
        if total_ms <= 0 {
            return 1.0;
        }
        // Millisecond counts of real token lifetimes are far below 2^52: the casts are exact.
        #[allow(clippy::cast_precision_loss)]
        let fraction = used_ms as f64 / total_ms as f64;
        fraction.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use chrono::TimeZone;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    fn jwt(claims: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64(claims)
        )
    }

    #[test]
    fn extracts_bare_quoted_and_padded_tokens() {
        let t = jwt(r#"{"sub":"jane","exp":1700000000}"#);
        assert_eq!(extract_token(&t).as_deref(), Some(t.as_str()));
        assert_eq!(
            extract_token(&format!("  {t}\r\n")).as_deref(),
            Some(t.as_str())
        );
        assert_eq!(
            extract_token(&format!("\"{t}\"")).as_deref(),
            Some(t.as_str())
        );
        assert_eq!(
            extract_token(&format!(" '{t}' \n")).as_deref(),
            Some(t.as_str())
        );
        assert_eq!(
            extract_token(&format!("\u{feff}\"{t}\"")).as_deref(),
            Some(t.as_str())
        );

        // Padding tolerated.
        let padded = format!(
            "{}.{}.c2ln",
            base64::engine::general_purpose::URL_SAFE.encode(r#"{"alg":"HS256"}"#),
            base64::engine::general_purpose::URL_SAFE.encode(r#"{"a":1}"#)
        );
        assert!(padded.contains('='));
        assert_eq!(extract_token(&padded).as_deref(), Some(padded.as_str()));
    }

    #[test]
    fn refuses_non_tokens() {
        let t = jwt(r#"{"sub":"jane"}"#);
        for body in [
            String::new(),
            "   ".to_owned(),
            "<html><head><title>Login</title></head></html>".to_owned(),
            "4032".to_owned(),
            r#"{"Message":"Authorization has been denied"}"#.to_owned(),
            format!("\"\"{t}\"\""), // two pairs of quotes
            format!("\"{t}'"),      // mismatched quotes
            format!("{t}.extra"),
            format!("..{t}"),
            "a.b.c".to_owned(),
            format!("{}.{}.", b64("{}"), b64("{}")), // empty signature
            format!("{}.{}.sig", b64("[1]"), b64("{}")), // header not an object
            format!("{}.{}.sig", b64("{}"), b64("\"str\"")), // claims not an object
            format!("{}.{}.s+g", b64("{}"), b64("{}")), // not base64url
            format!("token: {t}"),
        ] {
            assert_eq!(extract_token(&body), None, "accepted {body:?}");
        }
    }

    #[test]
    fn decode_reads_numeric_claims_as_ints_or_floats() {
        let c = decode(&jwt(
            r#"{"exp":1700000000.9,"iat":1699996100,"nbf":"1699996000"}"#,
        ))
        .unwrap();
        assert_eq!(c.exp, Some(1_700_000_000));
        assert_eq!(c.iat, Some(1_699_996_100));
        assert_eq!(c.nbf, Some(1_699_996_000));
        assert_eq!(c.header.get("alg").and_then(|v| v.as_str()), Some("HS256"));

        let c = decode(&jwt(r#"{"exp":"soon","iat":1e300,"nbf":null}"#)).unwrap();
        assert_eq!((c.exp, c.iat, c.nbf), (None, None, None));
        assert_eq!(c.claims.get("exp").and_then(|v| v.as_str()), Some("soon"));
    }

    #[test]
    fn decode_errors_name_the_part_and_never_the_token() {
        let secretish = "eyJzZWNyZXQiOjF9";
        let cases = [
            (secretish.to_owned(), JwtError::Parts { found: 1 }),
            (
                format!("{secretish}.{secretish}"),
                JwtError::Parts { found: 2 },
            ),
            (
                format!(".{secretish}.x"),
                JwtError::EmptyPart { part: "header" },
            ),
            (
                format!("{secretish}.!!.x"),
                JwtError::Base64 { part: "claims" },
            ),
            (
                format!("{}.{secretish}.x", b64("nope")),
                JwtError::NotJsonObject { part: "header" },
            ),
        ];
        for (raw, expected) in cases {
            let err = decode(&raw).unwrap_err();
            assert_eq!(err, expected);
            assert!(!err.to_string().contains(secretish), "{err}");
            assert!(!format!("{err:?}").contains(secretish));
        }
    }

    #[test]
    fn decode_never_panics_on_odd_input() {
        let inputs = [
            "",
            ".",
            "..",
            "...",
            "\u{0}.\u{0}.\u{0}",
            "é.é.é",
            "=.=.=",
            "==a.b.c",
            "a===.b.c",
            "😀😀😀.x.y",
            "A.A.A",
            "AA.AA.AA",
            "AAA.AAA.AAA",
        ];
        for input in inputs {
            let _ = decode(input);
            let _ = extract_token(input);
        }
        // Every prefix of a real token, byte by byte.
        let t = jwt(r#"{"exp":1700000000}"#);
        for i in 0..t.len() {
            let _ = decode(&t[..i]);
        }
    }

    #[test]
    fn expiry_from_exp_claim() {
        let received = Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap();
        let claims = Claims {
            exp: Some(received.timestamp() + 3900),
            ..Claims::default()
        };
        let e = Expiry::from_claims(&claims, received, std::time::Duration::from_secs(60));
        assert_eq!(e.source, ExpirySource::Claim);
        assert_eq!(e.issued_at, received);
        assert_eq!(e.expires_at, received + chrono::Duration::seconds(3900));
        assert_eq!(e.remaining(received), chrono::Duration::seconds(3900));
    }

    #[test]
    fn expiry_assumed_from_iat_or_arrival() {
        let received = Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap();
        let life = std::time::Duration::from_secs(65 * 60);

        let e = Expiry::from_claims(&Claims::default(), received, life);
        assert_eq!(e.source, ExpirySource::Assumed);
        assert_eq!(e.issued_at, received);
        assert_eq!(e.expires_at, received + chrono::Duration::minutes(65));

        let iat = received.timestamp() - 600;
        let claims = Claims {
            iat: Some(iat),
            ..Claims::default()
        };
        let e = Expiry::from_claims(&claims, received, life);
        assert_eq!(e.source, ExpirySource::Assumed);
        assert_eq!(e.issued_at.timestamp(), iat);
        assert_eq!(e.expires_at, received + chrono::Duration::minutes(55));

        // An absurd lifetime saturates instead of panicking.
        let e = Expiry::from_claims(&Claims::default(), received, std::time::Duration::MAX);
        assert_eq!(e.expires_at, DateTime::<Utc>::MAX_UTC);
        // An exp chrono cannot represent is ignored.
        let claims = Claims {
            exp: Some(i64::MAX),
            ..Claims::default()
        };
        assert_eq!(
            Expiry::from_claims(&claims, received, life).source,
            ExpirySource::Assumed
        );
    }

    #[test]
    fn fraction_used_is_clamped() {
        let start = Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap();
        let e = Expiry {
            issued_at: start,
            expires_at: start + chrono::Duration::minutes(100),
            source: ExpirySource::Claim,
        };
        assert!((e.fraction_used(start + chrono::Duration::minutes(25)) - 0.25).abs() < 1e-9);
        assert!((e.fraction_used(start - chrono::Duration::minutes(5))).abs() < 1e-9);
        assert!((e.fraction_used(start + chrono::Duration::minutes(500)) - 1.0).abs() < 1e-9);
        assert!(e.remaining(start + chrono::Duration::minutes(101)) < chrono::Duration::zero());
        assert!(e.is_expired(start + chrono::Duration::minutes(100)));

        let zero = Expiry {
            expires_at: start,
            ..e
        };
        assert!((zero.fraction_used(start) - 1.0).abs() < 1e-9);
    }
}
