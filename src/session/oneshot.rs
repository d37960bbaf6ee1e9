//! Pieces shared by the engine and the command line: secret resolution with a
//! verdict, journal entries from exchanges, and the one-shot authorize.

use std::time::Duration;

use crate::act::{ActClient, Exchange, Issued, Verdict, VerdictKind};
use crate::config::{Connection, SecretSource, Settings};
use crate::journal::JournalEntry;
use crate::secret::Secret;

use super::TokenStatus;

/// The rule named in the journal for a command-line authorize.
pub const RULE_ONE_SHOT: &str = "one-shot (command line)";

/// Authorizes `conn` once with Basic credentials: resolve the secret, call
/// `/authorize`, decode. For `actsm token` and `actsm status`.
///
/// The journal entry is `None` when no exchange happened (the secret could not
/// be obtained); the verdict then has kind [`VerdictKind::Secret`]. A
/// `password_prompt` connection always gets such a verdict: nobody is there
/// to type the password, so the detail points to the sources scripts can use.
pub async fn authorize_once(
    client: &ActClient,
    conn: &Connection,
    settings: &Settings,
) -> (Option<JournalEntry>, Result<TokenStatus, Verdict>) {
    if conn.secret.needs_prompt() {
        let detail = format!(
            "connection '{}' uses password_prompt, which only the TUI can ask for; \
             use password_env, password_command or keyring for scripts",
            conn.name
        );
        return (None, Err(Verdict::new(VerdictKind::Secret, detail)));
    }

    let password = match resolve_secret(&conn.secret, settings.timeout).await {
        Ok(p) => p,
        Err(verdict) => return (None, Err(verdict)),
    };

    let (exchange, result) = client
        .authorize(
            &conn.url,
            &conn.database,
            &conn.user,
            &password,
            settings.assumed_lifetime,
        )
        .await;
    let entry = journal_entry(&conn.name, &exchange, RULE_ONE_SHOT);
    (
        Some(entry),
        result.map(|issued| token_status(issued, &exchange)),
    )
}

/// Obtains a connection's password; a failure becomes a `Secret` verdict
/// whose detail is the source's error text (which never holds the secret).
pub(crate) async fn resolve_secret(
    source: &SecretSource,
    timeout: Duration,
) -> Result<Secret, Verdict> {
    source
        .resolve(timeout)
        .await
        .map_err(|e| Verdict::new(VerdictKind::Secret, Some(e.to_string())))
}

/// The journal's view of an exchange, with the rule that caused it; also
/// written to the diagnostic log (the verdict's detail is sanitized by `act`).
pub(crate) fn journal_entry(connection: &str, exchange: &Exchange, rule: &str) -> JournalEntry {
    tracing::info!(
        connection,
        call = ?exchange.call,
        status = ?exchange.status,
        latency_ms = u64::try_from(exchange.latency.as_millis()).unwrap_or(u64::MAX),
        verdict = exchange.verdict.kind.label(),
        detail = exchange.verdict.detail.as_deref().unwrap_or(""),
        rule,
        "exchange"
    );
    JournalEntry {
        at: exchange.at,
        connection: connection.to_owned(),
        call: exchange.call,
        status: exchange.status,
        reason: exchange.reason.clone(),
        latency: exchange.latency,
        verdict: exchange.verdict.clone(),
        meter: exchange.meter,
        rule: rule.to_owned(),
        url: exchange.url.clone(),
        detail: exchange.detail.clone(),
    }
}

/// Appends command-line exchanges to the journal file in the state folder, so the
/// TUI shows what scripts did. A failure to write is logged, never fatal: the
/// command's own answer matters more than its journal line.
pub fn record_in_journal(entries: &[JournalEntry]) {
    let Some(file) = crate::journal::JournalFile::open_default() else {
        return;
    };
    if let Err(error) = file.append(entries) {
        tracing::warn!(%error, "journal entries of a command not written");
    }
}

/// A freshly issued token as a session holds it.
pub(crate) fn token_status(issued: Issued, exchange: &Exchange) -> TokenStatus {
    TokenStatus {
        token: issued.token,
        claims: issued.claims,
        expiry: issued.expiry,
        obtained_at: exchange.at,
        clock_offset: exchange
            .server_date
            .map(|server| server - exchange.at)
            .unwrap_or_default(),
    }
}
