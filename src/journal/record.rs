//! The journal's line format: one JSON object per entry, the same in the
//! journal file and in exports.
//!
//! ```json
//! {"at":"2026-05-01T12:00:00Z","connection":"acme","call":"authorize","status":401,
//!  "reason":null,"latency_ms":123,"verdict":{"kind":"unauthorized","detail":"..."},
//!  "meter":{"limit":60,"remaining":59,"reset_at":"...","read_at":"..."},
//!  "rule":"start: authorize","request":"GET https://host/act.web.api/authorize",
//!  "request_headers":[["authorization","Basic ***"]],"response_headers":[...],
//!  "body_excerpt":"..."}
//! ```
//!
//! Enums are written in their snake-case names; reading a name this version
//! does not know fails that line (skipped with a note, like any bad line).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::JournalEntry;
use crate::act::{CallKind, HttpDetail, Meter, Unreadable, Verdict, VerdictKind};

/// A verdict as written: its kind's name and the detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictRecord {
    /// `unauthorized`, `throttled`, ... (the verdict table's names).
    pub kind: String,
    /// What was seen (already sanitized).
    pub detail: Option<String>,
}

/// A rate-limit reading as written (unreadable header excerpts are not kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterRecord {
    /// Calls allowed per window.
    pub limit: Option<u64>,
    /// Calls left.
    pub remaining: Option<u64>,
    /// When the window resets.
    pub reset_at: Option<DateTime<Utc>>,
    /// When the reading was taken.
    pub read_at: DateTime<Utc>,
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// When the response (or failure) was seen.
    pub at: DateTime<Utc>,
    /// The connection's name.
    pub connection: String,
    /// `authorize`, `refresh` or `system`.
    pub call: String,
    /// HTTP status.
    pub status: Option<u16>,
    /// Non-standard reason phrase.
    pub reason: Option<String>,
    /// Round-trip time in milliseconds.
    pub latency_ms: u64,
    /// The decoded meaning.
    pub verdict: VerdictRecord,
    /// The rate-limit reading.
    pub meter: Option<MeterRecord>,
    /// The rule that made the call.
    pub rule: String,
    /// `GET url`, empty when no request was made.
    #[serde(default)]
    pub request: String,
    /// Request headers sent, redacted.
    #[serde(default)]
    pub request_headers: Vec<(String, String)>,
    /// Response headers, redacted.
    #[serde(default)]
    pub response_headers: Vec<(String, String)>,
    /// A failure body's sanitized excerpt.
    #[serde(default)]
    pub body_excerpt: Option<String>,
}

/// An enum's serde name (`"unauthorized"`), for the line format.
fn name_of<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The value among `all` whose serde name is `name`.
fn parse_name<T: Serialize + Copy>(all: &[T], name: &str) -> Option<T> {
    all.iter().copied().find(|v| name_of(*v) == name)
}

impl From<&JournalEntry> for Record {
    fn from(entry: &JournalEntry) -> Self {
        Record {
            at: entry.at,
            connection: entry.connection.clone(),
            call: name_of(entry.call),
            status: entry.status,
            reason: entry.reason.clone(),
            latency_ms: u64::try_from(entry.latency.as_millis()).unwrap_or(u64::MAX),
            verdict: VerdictRecord {
                kind: name_of(entry.verdict.kind),
                detail: entry.verdict.detail.clone(),
            },
            meter: entry.meter.map(|m| MeterRecord {
                limit: m.limit,
                remaining: m.remaining,
                reset_at: m.reset_at,
                read_at: m.read_at,
            }),
            rule: entry.rule.clone(),
            request: entry.request_line(),
            request_headers: entry.detail.request_headers.clone(),
            response_headers: entry.detail.response_headers.clone(),
            body_excerpt: entry.detail.body_excerpt.clone(),
        }
    }
}

/// Why a line could not become an entry.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordError {
    /// The call's name is not one this version knows.
    #[error("unknown call '{0}'")]
    Call(String),
    /// The verdict's kind is not one this version knows.
    #[error("unknown verdict kind '{0}'")]
    Verdict(String),
}

impl TryFrom<Record> for JournalEntry {
    type Error = RecordError;

    fn try_from(record: Record) -> Result<Self, Self::Error> {
        let call = parse_name(
            &[CallKind::Authorize, CallKind::Refresh, CallKind::System],
            &record.call,
        )
        .ok_or_else(|| RecordError::Call(record.call.clone()))?;
        let kind = parse_name(&VerdictKind::ALL, &record.verdict.kind)
            .ok_or_else(|| RecordError::Verdict(record.verdict.kind.clone()))?;
        let (method, url) = match record.request.split_once(' ') {
            Some((method, url)) => (method.to_owned(), url.to_owned()),
            None => (String::new(), record.request.clone()),
        };
        Ok(JournalEntry {
            at: record.at,
            connection: record.connection,
            call,
            status: record.status,
            reason: record.reason,
            latency: Duration::from_millis(record.latency_ms),
            verdict: Verdict {
                kind,
                detail: record.verdict.detail,
            },
            meter: record.meter.map(|m| Meter {
                limit: m.limit,
                remaining: m.remaining,
                reset_at: m.reset_at,
                read_at: m.read_at,
                unreadable: Unreadable::default(),
            }),
            rule: record.rule,
            url,
            detail: HttpDetail {
                method,
                request_headers: record.request_headers,
                response_headers: record.response_headers,
                body_excerpt: record.body_excerpt,
            },
        })
    }
}

/// One entry as a journal line (no trailing newline).
pub fn to_line(entry: &JournalEntry) -> String {
    // A struct of strings, numbers and dates always serializes.
    serde_json::to_string(&Record::from(entry)).unwrap_or_default()
}

/// A journal line back to an entry; the error says what was wrong with it.
pub fn from_line(line: &str) -> Result<JournalEntry, String> {
    let record: Record = serde_json::from_str(line).map_err(|e| e.to_string())?;
    JournalEntry::try_from(record).map_err(|e| e.to_string())
}
