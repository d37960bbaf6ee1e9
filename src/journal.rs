//! The journal: one entry per auth exchange, kept in memory for the TUI.
//!
//! Distinct from the diagnostic log written by `tracing`. An entry holds no
//! secret: no password, no token text.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::act::{CallKind, Meter, Verdict};

/// One auth exchange as the user sees it.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    /// When the response (or failure) was seen.
    pub at: DateTime<Utc>,
    /// The connection's name.
    pub connection: String,
    /// Which call.
    pub call: CallKind,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// The server's reason phrase, when non-standard.
    pub reason: Option<String>,
    /// Round-trip time.
    pub latency: Duration,
    /// The decoded meaning.
    pub verdict: Verdict,
    /// The rate-limit reading from this response, if any.
    pub meter: Option<Meter>,
    /// Which rule of the refresh policy made this call (e.g. "refresh at T-5m").
    pub rule: String,
}
