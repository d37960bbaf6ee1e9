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
    exp: i64,
    revoked: bool,
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
    pub fn issue(&mut self, database: &str, user: &str, now: i64, lifetime_secs: i64) -> String {
        if self.issued.len() > PRUNE_ABOVE {
            self.issued.retain(|_, r| r.exp > now);
        }

        let jti = random_hex(16);
        let exp = now.saturating_add(lifetime_secs);
        let claims = serde_json::json!({
            "sub": user,
            "unique_name": user,
            "ActDatabase": database,
            "database": database,
            "iss": ISSUER,
            "aud": ISSUER,
            "iat": now,
            "nbf": now,
            "exp": exp,
            "jti": jti,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER_JSON),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = URL_SAFE_NO_PAD.encode(self.sign(signing_input.as_bytes()));

        self.issued.insert(
            jti,
            Record {
                exp,
                revoked: false,
            },
        );
        format!("{signing_input}.{signature}")
    }

    /// Checks a token: our signature, issued here, not revoked, not expired at `now`.
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
        let exp = claims.get("exp")?.as_i64()?;
        let jti = claims.get("jti")?.as_str()?;
        let record = self.issued.get(jti)?;
        if record.revoked || exp <= now {
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
}
