//! HTTP calls to an Act! Web API server.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Claims, Expiry, Meter, Verdict};
use crate::secret::{Secret, Token};

/// Which of the protocol's calls an exchange was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallKind {
    /// `GET /authorize` with Basic credentials.
    Authorize,
    /// `GET /authorize` with `Bearer` and the current token.
    Refresh,
    /// `GET /api/system`.
    System,
}

/// Per-client transport settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Total time allowed for one request, connect included.
    pub timeout: Duration,
    /// Time allowed to establish the connection.
    pub connect_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(15), connect_timeout: Duration::from_secs(10) }
    }
}

/// What one HTTP exchange looked like, success or not: the journal's raw material.
///
/// Holds no secret: no credential, no token text, no response body beyond a
/// short excerpt of an error body.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Which call this was.
    pub call: CallKind,
    /// The URL requested (no credentials are ever in it).
    pub url: String,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Reason phrase, when the server sent a non-standard one.
    pub reason: Option<String>,
    /// From sending the request to having read the body (or failing).
    pub latency: Duration,
    /// The decoded meaning.
    pub verdict: Verdict,
    /// Rate-limit reading from this response's headers, if any were sent.
    pub meter: Option<Meter>,
    /// The server's clock, from the `Date` header.
    pub server_date: Option<DateTime<Utc>>,
    /// When the response (or failure) was seen, local clock.
    pub at: DateTime<Utc>,
}

/// A token that `/authorize` issued, decoded.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The raw JWT.
    pub token: Token,
    /// Its decoded header and claims (unverified: the key is the server's).
    pub claims: Claims,
    /// When it expires and how we know.
    pub expiry: Expiry,
}

/// Version information from `/api/system`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SystemInfo {
    /// `apiVersion`.
    pub api_version: Option<String>,
    /// `sdkVersion`.
    pub sdk_version: Option<String>,
    /// `update`.
    pub update: Option<i64>,
    /// `culture.name`.
    pub culture: Option<String>,
}

/// An HTTP client for Act! servers. Cheap to clone; one per transport setting.
#[derive(Debug, Clone)]
pub struct ActClient {
    http: reqwest::Client,
}

impl ActClient {
    /// Builds a client (rustls, platform roots, the `User-Agent` naming actsm and its version).
    pub fn new(options: &ClientOptions) -> anyhow::Result<Self> {
        todo!("act helper")
    }

    /// `GET {base}/authorize` with Basic credentials and `Act-Database-Name`.
    ///
    /// `assumed_lifetime` is used when the token has no `exp` claim.
    pub async fn authorize(
        &self,
        base: &str,
        database: &str,
        user: &str,
        password: &Secret,
        assumed_lifetime: Duration,
    ) -> (Exchange, Result<Issued, Verdict>) {
        todo!("act helper")
    }

    /// `GET {base}/authorize` with `Bearer {token}` and `Act-Database-Name`: a fresh token.
    /// A 401 here yields [`super::VerdictKind::TokenRejected`].
    pub async fn refresh(
        &self,
        base: &str,
        database: &str,
        token: &Token,
        assumed_lifetime: Duration,
    ) -> (Exchange, Result<Issued, Verdict>) {
        todo!("act helper")
    }

    /// `GET {base}/api/system` with `Accept: application/json`, anonymous.
    pub async fn system(&self, base: &str, database: &str) -> (Exchange, Result<SystemInfo, Verdict>) {
        todo!("act helper")
    }
}
