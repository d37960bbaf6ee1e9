//! The session engine: one tokio task per started connection.
//!
//! A session owns its timers and backoff, calls [`crate::act`], and reports
//! through [`Event`]s. The UI sends [`Command`]s and never waits on the network.
//!
//! The life of a session:
//!
//! - Start: resolve the secret (failure: `Failed`, verdict `Secret`), authorize
//!   with Basic, hold the token (`Valid`).
//! - Refresh with Bearer at `expires_at - min(refresh_before, lifetime / 2)`
//!   plus a small jitter ([`policy::refresh_at`]). A refused Bearer token gets
//!   one Basic authorize; if that is refused too, the session is `Failed`.
//! - Refusals and local failures are never retried automatically (`Failed`).
//!   Unreachable servers and server faults back off 2 s, 4 s ... 60 s with
//!   jitter ([`policy::backoff_delay`]); throttling waits for `Retry-After` or
//!   the meter's reset (`Backoff`, with `retry_at`). An exhausted meter holds
//!   the next planned call until its reset.
//! - A held token whose expiry passes without a replacement is dropped.
//! - Every exchange is journalled with the rule that caused it and, when the
//!   policy decided something from it, that decision with its numbers:
//!   `refresh at T-5m → retry after backoff 8s (failure 3)`,
//!   `autostart → no retry: 4031 subscription needs the user`,
//!   `refresh at T-5m → token rejected with 12m left (Bearer 401)`.
//! - While the rate limit holds a session (`held_until`), a manual refresh or
//!   start is journalled as held and not sent; [`Command::ForceRefresh`] goes
//!   anyway (`forced by user while held`).
//! - Every state change sends the whole [`SessionSnapshot`], with the server's
//!   measured clock offset (`skew`).
//!
//! Stop abandons a call in flight and forgets the token; the connection's task
//! stays, idle, until the next start or the engine's end.

mod engine;
mod oneshot;
pub mod policy;

pub use engine::{
    Engine, PROMPT_NEEDED, RULE_AUTOSTART, RULE_FALLBACK, RULE_FORCED, RULE_FROM_CACHE,
    RULE_MANUAL, RULE_PROMPTED, RULE_RESTART, RULE_START,
};
pub use oneshot::{RULE_ONE_SHOT, authorize_once, record_in_journal};

use chrono::{DateTime, TimeDelta, Utc};

use crate::act::{Claims, Expiry, Meter, Verdict};
use crate::journal::JournalEntry;
use crate::secret::Token;

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Not started: no request has been made for this connection.
    Idle,
    /// Obtaining a token with Basic credentials.
    Authorizing,
    /// Obtaining a new token with Bearer.
    Refreshing,
    /// Holding a token that has not expired.
    Valid,
    /// The last attempt failed for a reason worth retrying; waiting to retry.
    Backoff,
    /// Refused for a reason retrying will not fix; waiting for the user.
    Failed,
    /// Stopped by the user.
    Stopped,
}

/// The token a session holds.
#[derive(Debug, Clone)]
pub struct TokenStatus {
    /// The raw JWT.
    pub token: Token,
    /// Decoded header and claims.
    pub claims: Claims,
    /// When it expires, and whether that is from `exp` or assumed.
    pub expiry: Expiry,
    /// When we received it (local clock).
    pub obtained_at: DateTime<Utc>,
    /// The server's clock minus ours when the token was issued, from the
    /// response's `Date` header (zero without one). `expiry` is on the
    /// server's clock; see [`TokenStatus::remaining`].
    pub clock_offset: TimeDelta,
}

impl TokenStatus {
    /// Time left at `local` (our clock), counted on the server's clock when
    /// the two differ beyond [`SKEW_TOLERANCE`]; negative once expired.
    pub fn remaining(&self, local: DateTime<Utc>) -> TimeDelta {
        self.expiry
            .remaining(local + clock_correction(self.clock_offset))
    }

    /// When the token expires on our clock: its `exp` moved by the server's
    /// clock offset (when beyond [`SKEW_TOLERANCE`]), for scripts that compare
    /// it with their own `now`.
    pub fn local_expires_at(&self) -> DateTime<Utc> {
        self.expiry.expires_at - clock_correction(self.clock_offset)
    }
}

/// The correction to apply for a measured server clock `offset`: the offset
/// itself beyond [`SKEW_TOLERANCE`], else zero (one-second `Date` resolution
/// and network delay are not skew).
pub fn clock_correction(offset: TimeDelta) -> TimeDelta {
    if offset.abs() > SKEW_TOLERANCE {
        offset
    } else {
        TimeDelta::zero()
    }
}

/// Everything the UI shows about one session; sent whole on every change.
#[derive(Debug, Clone)]
pub struct SessionSnapshot {
    /// The connection's name.
    pub name: String,
    /// Where it stands.
    pub state: SessionState,
    /// The current token, if any.
    pub token: Option<TokenStatus>,
    /// When the next Bearer refresh is planned.
    pub next_refresh_at: Option<DateTime<Utc>>,
    /// While backing off: when the next attempt is planned.
    pub retry_at: Option<DateTime<Utc>>,
    /// Consecutive failed attempts.
    pub failures: u32,
    /// The verdict of the last exchange.
    pub last_verdict: Option<Verdict>,
    /// The latest rate-limit reading.
    pub meter: Option<Meter>,
    /// Tokens obtained since the session started (authorize + refresh).
    pub tokens_obtained: u32,
    /// The server's clock minus ours, from the `Date` header of the last
    /// response that had one; `None` until a server answered with a date.
    pub skew: Option<TimeDelta>,
    /// While the rate limit (an exhausted meter, a 429 or a 503) holds the
    /// next call: when it may go (local clock). A manual refresh or start is
    /// not sent before then unless forced ([`Command::ForceRefresh`]).
    pub held_until: Option<DateTime<Utc>>,
}

/// Server clocks off by more than this get a warning on their connection.
pub const SKEW_WARNING: TimeDelta = TimeDelta::seconds(30);

/// Server clocks off by more than this are corrected for (planning and countdowns);
/// below it the offset is the `Date` header's one-second resolution and network delay.
pub const SKEW_TOLERANCE: TimeDelta = TimeDelta::seconds(10);

impl SessionSnapshot {
    /// The snapshot of a connection before anything happened, so the UI can
    /// list every connection before the first event.
    pub fn idle(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            state: SessionState::Idle,
            token: None,
            next_refresh_at: None,
            retry_at: None,
            failures: 0,
            last_verdict: None,
            meter: None,
            tokens_obtained: 0,
            skew: None,
            held_until: None,
        }
    }

    /// The offset that countdowns correct for: the measured skew when it is
    /// beyond [`SKEW_TOLERANCE`], else zero.
    pub fn clock_correction(&self) -> TimeDelta {
        self.skew.map(clock_correction).unwrap_or_default()
    }

    /// The server's time when ours is `local`: token expiry, `iat` and `exp`
    /// are on the server's clock, so their countdowns start from this.
    pub fn server_now(&self, local: DateTime<Utc>) -> DateTime<Utc> {
        local + self.clock_correction()
    }

    /// The skew worth a warning (beyond [`SKEW_WARNING`]), if any.
    pub fn skew_warning(&self) -> Option<TimeDelta> {
        self.skew.filter(|skew| skew.abs() > SKEW_WARNING)
    }

    /// True while the rate limit holds the next call at `now` (local clock).
    pub fn is_held(&self, now: DateTime<Utc>) -> bool {
        self.held_until.is_some_and(|at| at > now)
    }
}

/// Describes a clock offset for people: `server clock 10m ahead`, `... 45s behind`.
pub fn describe_skew(skew: TimeDelta) -> String {
    let words = if skew >= TimeDelta::zero() {
        "ahead"
    } else {
        "behind"
    };
    let span = skew.abs().to_std().unwrap_or_default();
    format!("server clock {} {words}", policy::short_duration(span))
}

/// The snapshot of a connection before anything happened (same as [`SessionSnapshot::idle`]).
pub fn snapshot_idle(name: impl Into<String>) -> SessionSnapshot {
    SessionSnapshot::idle(name)
}

/// What the UI (or a script) asks the engine to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start a session, or authorize now if it is failed or backing off.
    Start(String),
    /// Refresh now (Bearer if a token is held, else authorize). Held back
    /// (and journalled as such) while the rate limit holds the session.
    RefreshNow(String),
    /// Refresh now even while the rate limit holds the session; journalled
    /// as forced by the user.
    ForceRefresh(String),
    /// Stop a session and forget its token.
    Stop(String),
    /// Start every connection.
    StartAll,
    /// The connections file changed: stop sessions of removed connections,
    /// restart those whose target changed, keep the others running.
    Reload(std::sync::Arc<crate::config::Config>),
    /// The password the user typed at the prompt for a `password_prompt`
    /// connection; kept in memory only, then the session starts.
    ProvideSecret(String, crate::secret::Secret),
}

/// What the engine reports.
#[derive(Debug, Clone)]
pub enum Event {
    /// A session's state changed.
    SessionChanged(SessionSnapshot),
    /// An exchange happened.
    Journal(JournalEntry),
    /// A `password_prompt` connection needs its password typed before it can start.
    SecretNeeded(String),
}
