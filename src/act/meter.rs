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
}
