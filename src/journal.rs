//! The journal: one entry per auth exchange, kept in memory for the TUI and
//! appended to `journal.jsonl` in the state folder ([`store`]).
//!
//! Distinct from the diagnostic log written by `tracing`. An entry holds no
//! secret: no password, no token text, no Basic credentials. Headers and body
//! excerpts are redacted where they are captured ([`crate::act::HttpDetail`]).

pub mod record;
pub mod store;

use std::time::Duration;

use chrono::{DateTime, Utc};

pub use crate::act::HttpDetail;
use crate::act::{CallKind, Meter, Verdict};
pub use record::Record;
pub use store::{JournalError, JournalFile, JournalWriter, Loaded};

/// Default for `[settings] journal_entries`: how many entries the TUI keeps in memory
/// (and reloads at start).
pub const DEFAULT_CAPACITY: usize = 10_000;

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
    /// The URL requested (never holds credentials); empty when no request was made.
    pub url: String,
    /// Headers both ways and a failure's body excerpt, redacted.
    pub detail: HttpDetail,
}

impl JournalEntry {
    /// `GET https://host/.../authorize`; empty when no request was made.
    pub fn request_line(&self) -> String {
        if self.url.is_empty() {
            return String::new();
        }
        let method = if self.detail.method.is_empty() {
            "GET"
        } else {
            self.detail.method.as_str()
        };
        format!("{method} {}", self.url)
    }

    /// True for every outcome but success (what "failures only" keeps).
    pub fn is_failure(&self) -> bool {
        self.verdict.class() != crate::act::VerdictClass::Ok
    }
}
