//! Minting and checking the simulator's HS256 tokens.
//!
//! The key is made at start and lives only in this process, like the key of
//! a real Act! server: clients can read the claims but not forge them.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The fixed JOSE header of every token, as Act! sends it.
const HEADER_JSON: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The issuer claim the simulator writes.
pub(crate) const ISSUER: &str = "act.web.api";

/// Above this many remembered tokens, expired ones are forgotten on the next mint.
const PRUNE_ABOVE: usize = 1024;

/// Who a verified token was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    /// Database, as configured.
    pub database: String,
    /// User, as configured.
    pub user: String,
    /// The token's id, for revocation.
    pub jti: String,
}

/// What the server remembers of each token it issued.
#[derive(Debug, Clone)]
struct Record {
    /// When the server stops taking it (the `exp` claim, or the lifetime when there is none).
    exp: i64,
    revoked: bool,
    /// When the server revokes it by itself, before `exp` (the drop-early fault).
    revoke_at: Option<i64>,
}

/// The times a token is minted with; the fault scenarios bend them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    /// `iat` and `nbf`.
    pub iat: i64,
    /// `exp`; `None` leaves the claim out.
    pub exp: Option<i64>,
    /// When the server stops taking the token.
    pub valid_until: i64,
    /// When the server revokes it early, if ever.
    pub revoke_at: Option<i64>,
}

impl Shape {
    /// A healthy token: issued `now`, good for `lifetime_secs`.
    pub fn healthy(now: i64, lifetime_secs: i64) -> Self {
        let exp = now.saturating_add(lifetime_secs);
        Self {
            iat: now,
            exp: Some(exp),
            valid_until: exp,
            revoke_at: None,
        }
    }
}

/// The signing key plus the register of issued tokens.
pub(crate) struct Mint {
    key: [u8; 32],
    issued: HashMap<String, Record>,
}

impl Mint {
    /// A mint with a fresh random key.
    ///
    /// `fastrand` is not a cryptographic generator; the key only has to stop
    /// a client from forging tokens for a local simulator, which it does.
    pub fn new() -> Self {
        let mut rng = fastrand::Rng::new();
        let mut key = [0u8; 32];
        rng.fill(&mut key);
        Self {
            key,
            issued: HashMap::new(),
        }
    }

    /// Issues a token for `user` in `database`, valid from `now` (Unix seconds)
    /// for `lifetime_secs`.
    #[cfg(test)]
    pub fn issue(&mut self, database: &str, user: &str, now: i64, lifetime_secs: i64) -> String {
        self.issue_shaped(database, user, Shape::healthy(now, lifetime_secs))
    }

    /// Issues a token with the given times (see [`Shape`]).
    pub fn issue_shaped(&mut self, database: &str, user: &str, shape: Shape) -> String {
        if self.issued.len() > PRUNE_ABOVE {
            let now = shape.iat;
            self.issued.retain(|_, r| r.exp > now);
        }

        let jti = random_hex(16);
        let mut claims = serde_json::json!({
            "sub": user,
            "unique_name": user,
            "ActDatabase": database,
            "database": database,
            "iss": ISSUER,
            "aud": ISSUER,
            "iat": shape.iat,
            "nbf": shape.iat,
            "jti": jti,
        });
        if let Some(exp) = shape.exp {
            claims["exp"] = exp.into();
        }
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER_JSON),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = URL_SAFE_NO_PAD.encode(self.sign(signing_input.as_bytes()));

        self.issued.insert(
            jti,
            Record {
                exp: shape.valid_until,
                revoked: false,
                revoke_at: shape.revoke_at,
            },
        );
        format!("{signing_input}.{signature}")
    }

    /// Checks a token: our signature, issued here, not revoked, not expired at `now`
    /// (by the server's record: a token without `exp` still ends).
    pub fn verify(&self, token: &str, now: i64) -> Option<Holder> {
        let mut parts = token.trim().split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }

        // Signature first: nothing in an unsigned token is worth parsing.
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).ok()?;

        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let jti = claims.get("jti")?.as_str()?;
        let record = self.issued.get(jti)?;
        let dropped = record.revoke_at.is_some_and(|at| now >= at);
        if record.revoked || dropped || record.exp <= now {
            return None;
        }
        Some(Holder {
            database: claims.get("database")?.as_str()?.to_owned(),
            user: claims.get("sub")?.as_str()?.to_owned(),
            jti: jti.to_owned(),
        })
    }

    /// Revokes one token by id; false when it was never issued here.
    pub fn revoke(&mut self, jti: &str) -> bool {
        match self.issued.get_mut(jti) {
            Some(r) => {
                r.revoked = true;
                true
            }
            None => false,
        }
    }

    /// Revokes every token issued so far.
    pub fn revoke_all(&mut self) {
        for r in self.issued.values_mut() {
            r.revoked = true;
        }
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.key).expect("HMAC accepts a key of any length")
    }

    fn sign(&self, input: &[u8]) -> Vec<u8> {
        let mut mac = self.mac();
        mac.update(input);
        mac.finalize().into_bytes().to_vec()
    }
}

/// `bytes` random bytes as lower-case hex.
fn random_hex(bytes: usize) -> String {
    use std::fmt::Write as _;
    (0..bytes).fold(String::with_capacity(bytes * 2), |mut out, _| {
        // Writing to a String cannot fail.
        let _ = write!(out, "{:02x}", fastrand::u8(..));
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims_of(token: &str) -> serde_json::Value {
        let payload = token.split('.').nth(1).expect("three parts");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
            .expect("json claims")
    }

    #[test]
    fn issued_token_verifies_and_carries_claims() {
        let mut mint = Mint::new();
        let token = mint.issue("Acme", "Jane Doe", 1_000, 3_900);
        let holder = mint.verify(&token, 1_001).expect("fresh token verifies");
        assert_eq!(holder.database, "Acme");
        assert_eq!(holder.user, "Jane Doe");

        let claims = claims_of(&token);
        assert_eq!(claims["exp"], 4_900);
        assert_eq!(claims["iat"], 1_000);
        assert_eq!(claims["jti"].as_str(), Some(holder.jti.as_str()));
    }

    #[test]
    fn expired_tampered_foreign_and_revoked_tokens_fail() {
        let mut mint = Mint::new();
        let token = mint.issue("Acme", "Jane", 1_000, 60);
        assert!(mint.verify(&token, 1_060).is_none(), "expired at exp");

        // Same claims, other key: signature check fails.
        let other = Mint::new();
        assert!(other.verify(&token, 1_001).is_none());

        // A changed payload keeps the old signature, which no longer matches.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut claims = claims_of(&token);
        claims["sub"] = "Mallory".into();
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert!(mint.verify(&parts.join("."), 1_001).is_none());

        let holder = mint.verify(&token, 1_001).expect("still good");
        assert!(mint.revoke(&holder.jti));
        assert!(mint.verify(&token, 1_001).is_none(), "revoked");
        assert!(mint.verify("not-a-jwt", 1_001).is_none());
    }

    #[test]
    fn shaped_tokens_bend_claims_and_drop_early() {
        let mut mint = Mint::new();
        let no_exp = mint.issue_shaped(
            "Acme",
            "Jane",
            Shape {
                exp: None,
                ..Shape::healthy(1_000, 60)
            },
        );
        assert!(claims_of(&no_exp).get("exp").is_none());
        assert!(mint.verify(&no_exp, 1_059).is_some());
        assert!(
            mint.verify(&no_exp, 1_060).is_none(),
            "the server still ends it"
        );

        let early = mint.issue_shaped(
            "Acme",
            "Jane",
            Shape {
                revoke_at: Some(1_015),
                ..Shape::healthy(1_000, 60)
            },
        );
        assert_eq!(claims_of(&early)["exp"], 1_060);
        assert!(mint.verify(&early, 1_014).is_some());
        assert!(
            mint.verify(&early, 1_015).is_none(),
            "dropped with time left"
        );
    }
}
