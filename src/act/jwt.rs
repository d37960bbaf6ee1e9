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
