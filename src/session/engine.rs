//! The running engine: a supervisor task that routes commands, and one task
//! per started connection that owns its session's timers, backoff and token.
//!
//! Each session task only ever waits on its own network call, its own timers
//! and its own command channel, so a hung server delays nobody else, and the
//! supervisor never awaits anything but its inbox.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

use crate::act::{ActClient, ClientOptions, Exchange, Issued, Verdict, VerdictKind};
use crate::config::{Config, Connection, Settings};

use super::oneshot::{journal_entry, resolve_secret, token_status};
use super::policy::{self, Next};
use super::{Command, Event, SessionSnapshot, SessionState};

/// Rule for a session started by the user.
pub const RULE_START: &str = "start (user asked)";
/// Rule for a session started because its connection has `autostart`.
pub const RULE_AUTOSTART: &str = "autostart";
/// Rule for a refresh the user asked for.
pub const RULE_MANUAL: &str = "manual refresh";
/// Rule for the one Basic authorize after a refused Bearer refresh.
pub const RULE_FALLBACK: &str = "fallback to Basic after Bearer 401";

/// The connect timeout never exceeds this, whatever the request timeout.
const CONNECT_TIMEOUT_CAP: Duration = Duration::from_secs(10);

/// Planned calls never come sooner than this after a success, so a token that
/// looks already expired (odd claims) cannot make a session spin.
const MIN_REFRESH_GAP: Duration = Duration::from_secs(1);

/// Timers re-read the wall clock at least this often (see [`sleep_until`]).
const WALL_CLOCK_CHECK: Duration = Duration::from_secs(15);

/// Server clocks off by more than this are corrected for when planning.
const SKEW_TOLERANCE: TimeDelta = TimeDelta::seconds(10);

/// Handle to the running engine. Dropping it stops every session.
#[derive(Debug)]
pub struct Engine {
    cmd_tx: UnboundedSender<Command>,
    cancel: CancellationToken,
}

impl Engine {
    /// Starts the engine for `config` (inside a tokio runtime). Sessions of
    /// connections with `autostart` start at once; others wait for a [`Command`].
    pub fn spawn(config: Arc<Config>, events_tx: UnboundedSender<Event>) -> Self {
        let (cmd_tx, cmd_rx) = unbounded_channel();
        let cancel = CancellationToken::new();

        let timeout = config.settings.timeout;
        let options = ClientOptions {
            timeout,
            connect_timeout: timeout.min(CONNECT_TIMEOUT_CAP),
        };
        // A client that cannot be built (no TLS roots, ...) fails every session
        // with the reason instead of taking the whole program down.
        let client = ActClient::new(&options).map_err(|e| {
            tracing::error!("cannot build the HTTP client: {e:#}");
            format!("cannot build the HTTP client: {e:#}")
        });

        let supervisor = Supervisor {
            config,
            client,
            events_tx,
            cancel: cancel.clone(),
            sessions: HashMap::new(),
        };
        tokio::spawn(supervisor.run(cmd_rx));
        Self { cmd_tx, cancel }
    }

    /// Sends a command; never blocks, never waits on the network.
    pub fn send(&self, command: Command) {
        if self.cmd_tx.send(command).is_err() {
            tracing::warn!("engine is shut down; command dropped");
        }
    }

    /// Stops every session at once, abandoning calls in flight. No more
    /// events are sent afterwards (save one already on its way).
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Routes commands to session tasks, spawning a task on a connection's first start.
struct Supervisor {
    config: Arc<Config>,
    client: Result<ActClient, String>,
    events_tx: UnboundedSender<Event>,
    cancel: CancellationToken,
    sessions: HashMap<String, UnboundedSender<SessionCmd>>,
}

impl Supervisor {
    async fn run(mut self, mut cmd_rx: UnboundedReceiver<Command>) {
        let autostart: Vec<String> = self
            .config
            .connections
            .iter()
            .filter(|c| c.autostart)
            .map(|c| c.name.clone())
            .collect();
        for name in autostart {
            self.dispatch(
                &name,
                SessionCmd::Start {
                    rule: RULE_AUTOSTART,
                },
            );
        }

        loop {
            tokio::select! {
                () = self.cancel.cancelled() => break,
                cmd = cmd_rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    // The handle is gone: its Drop has cancelled everything.
                    None => break,
                },
            }
        }
        self.cancel.cancel();
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Start(name) => self.dispatch(&name, SessionCmd::Start { rule: RULE_START }),
            Command::RefreshNow(name) => self.dispatch(&name, SessionCmd::RefreshNow),
            Command::Stop(name) => {
                if !self.knows(&name) {
                    tracing::warn!(connection = %name, "stop: no such connection; ignored");
                } else if let Some(tx) = self.sessions.get(&name) {
                    // A task that is gone has nothing left to stop.
                    let _ = tx.send(SessionCmd::Stop);
                } else {
                    tracing::debug!(connection = %name, "stop: session never started");
                }
            }
            Command::StartAll => {
                let names: Vec<String> = self
                    .config
                    .connections
                    .iter()
                    .map(|c| c.name.clone())
                    .collect();
                for name in names {
                    self.dispatch(&name, SessionCmd::Start { rule: RULE_START });
                }
            }
        }
    }

    fn knows(&self, name: &str) -> bool {
        self.config.connections.iter().any(|c| c.name == name)
    }

    /// Sends `cmd` to the session of `name`, spawning its task if needed.
    fn dispatch(&mut self, name: &str, cmd: SessionCmd) {
        let Some(conn) = self.config.connections.iter().find(|c| c.name == name) else {
            tracing::warn!(connection = %name, "no such connection; command ignored");
            return;
        };

        if let Some(tx) = self.sessions.get(name) {
            match tx.send(cmd) {
                Ok(()) => return,
                // The task ended (only after a panic): start a fresh one below.
                Err(e) => return self.spawn_session(conn.clone(), e.0),
            }
        }
        self.spawn_session(conn.clone(), cmd);
    }

    fn spawn_session(&mut self, conn: Connection, first: SessionCmd) {
        let (tx, rx) = unbounded_channel();
        // Cannot fail: the receiver is alive right here.
        let _ = tx.send(first);
        self.sessions.insert(conn.name.clone(), tx);

        let session = Session {
            snap: SessionSnapshot::idle(conn.name.clone()),
            conn,
            settings: self.config.settings.clone(),
            client: self.client.clone(),
            events_tx: self.events_tx.clone(),
            cmd_rx: rx,
            cancel: self.cancel.clone(),
            plan: None,
            skew: TimeDelta::zero(),
            rng: fastrand::Rng::new(),
            logged_state: SessionState::Idle,
        };
        tokio::spawn(session.run());
    }
}

/// What the supervisor tells a session task.
#[derive(Debug, Clone, Copy)]
enum SessionCmd {
    /// Authorize now unless a token is held; `rule` names who asked.
    Start { rule: &'static str },
    /// Refresh (or authorize) now.
    RefreshNow,
    /// Abandon any call in flight, forget the token.
    Stop,
}

/// Which call a session makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Authorize,
    Refresh,
}

/// The next automatic call.
#[derive(Debug)]
struct Plan {
    /// When, on the local clock.
    at: DateTime<Utc>,
    action: Action,
    rule: String,
}

/// Why an exchange was abandoned.
enum Interrupt {
    /// The user stopped the session.
    Stop,
    /// The engine is shutting down.
    Shutdown,
}

/// One connection's session: the task's whole state.
struct Session {
    conn: Connection,
    settings: Settings,
    client: Result<ActClient, String>,
    events_tx: UnboundedSender<Event>,
    cmd_rx: UnboundedReceiver<SessionCmd>,
    cancel: CancellationToken,
    snap: SessionSnapshot,
    plan: Option<Plan>,
    /// Server clock minus local clock, when it is off by more than the tolerance.
    skew: TimeDelta,
    rng: fastrand::Rng,
    /// The state last written to the diagnostic log, to log changes only.
    logged_state: SessionState,
}

impl Session {
    async fn run(mut self) {
        let mut pending: Option<(Action, String)> = None;
        loop {
            if let Some((action, rule)) = pending.take() {
                match self.perform(action, rule).await {
                    Ok(()) => {}
                    Err(Interrupt::Stop) => self.stop(),
                    Err(Interrupt::Shutdown) => return,
                }
                continue;
            }

            let plan_at = self.plan.as_ref().map(|p| p.at);
            let expiry_at = self
                .snap
                .token
                .as_ref()
                .map(|t| t.expiry.expires_at - self.skew);
            tokio::select! {
                () = self.cancel.cancelled() => return,
                cmd = self.cmd_rx.recv() => match cmd {
                    Some(cmd) => pending = self.on_command(cmd),
                    None => return,
                },
                () = sleep_until(plan_at) => {
                    pending = self.plan.take().map(|p| (p.action, p.rule));
                }
                () = sleep_until(expiry_at) => self.drop_expired_token(),
            }
        }
    }

    /// Handles a command while no call is in flight; returns a call to make now.
    fn on_command(&mut self, cmd: SessionCmd) -> Option<(Action, String)> {
        match cmd {
            SessionCmd::Start { rule } => {
                if self.snap.state == SessionState::Valid {
                    self.emit();
                    return None;
                }
                self.snap.failures = 0;
                Some((Action::Authorize, rule.to_owned()))
            }
            SessionCmd::RefreshNow => {
                // A user's request starts a fresh series: a failure now backs off from 2 s.
                self.snap.failures = 0;
                Some((Action::Refresh, RULE_MANUAL.to_owned()))
            }
            SessionCmd::Stop => {
                self.stop();
                None
            }
        }
    }

    fn stop(&mut self) {
        self.plan = None;
        self.snap.token = None;
        self.snap.state = SessionState::Stopped;
        self.snap.next_refresh_at = None;
        self.snap.retry_at = None;
        self.snap.failures = 0;
        self.emit();
    }

    /// The token's expiry passed while no refresh replaced it: a dead token is
    /// no token, and the next call must be a Basic authorize.
    fn drop_expired_token(&mut self) {
        self.snap.token = None;
        if let Some(plan) = &mut self.plan {
            plan.action = Action::Authorize;
        }
        if self.snap.state == SessionState::Valid {
            // Only reachable when a rate-limit hold outlasted the token.
            self.snap.state = SessionState::Backoff;
            self.snap.retry_at = self.snap.next_refresh_at.take();
        }
        self.emit();
    }

    async fn perform(&mut self, action: Action, rule: String) -> Result<(), Interrupt> {
        self.plan = None;
        if action == Action::Refresh && self.snap.token.is_some() {
            self.refresh(rule).await
        } else {
            self.authorize(rule).await
        }
    }

    async fn authorize(&mut self, rule: String) -> Result<(), Interrupt> {
        self.begin(SessionState::Authorizing);
        let client = match &self.client {
            Ok(c) => c.clone(),
            Err(e) => {
                let verdict = Verdict::new(VerdictKind::Transport, Some(e.clone()));
                self.fail(verdict, Next::Fail, None);
                return Ok(());
            }
        };

        let source = self.conn.secret.clone();
        let timeout = self.settings.timeout;
        let secret = self
            .guarded(async move { resolve_secret(&source, timeout).await })
            .await?;
        let password = match secret {
            Ok(p) => p,
            Err(verdict) => {
                self.fail(verdict, Next::Fail, None);
                return Ok(());
            }
        };

        let (url, db, user) = (
            self.conn.url.clone(),
            self.conn.database.clone(),
            self.conn.user.clone(),
        );
        let assumed = self.settings.assumed_lifetime;
        let call = async move { client.authorize(&url, &db, &user, &password, assumed).await };
        let (exchange, result) = self.guarded(call).await?;
        self.record(&exchange, &rule);

        match result {
            Ok(issued) => self.valid(issued, &exchange),
            Err(verdict) => {
                let next = match policy::classify(&verdict) {
                    // A Basic call has no fallback: a refused token here is a refusal.
                    Next::FallbackToBasic => Next::Fail,
                    next => next,
                };
                self.fail(verdict, next, Some(&exchange));
            }
        }
        Ok(())
    }

    async fn refresh(&mut self, rule: String) -> Result<(), Interrupt> {
        let Some(token) = self.snap.token.as_ref().map(|t| t.token.clone()) else {
            return self.authorize(rule).await;
        };
        self.begin(SessionState::Refreshing);
        let Ok(client) = self.client.clone() else {
            return self.authorize(rule).await;
        };

        let (url, db) = (self.conn.url.clone(), self.conn.database.clone());
        let assumed = self.settings.assumed_lifetime;
        let call = async move { client.refresh(&url, &db, &token, assumed).await };
        let (exchange, result) = self.guarded(call).await?;
        self.record(&exchange, &rule);

        match result {
            Ok(issued) => self.valid(issued, &exchange),
            Err(verdict) => match policy::classify(&verdict) {
                Next::FallbackToBasic => {
                    // The server no longer takes this token: forget it, try Basic once.
                    self.snap.token = None;
                    self.snap.last_verdict = Some(verdict);
                    return self.authorize(RULE_FALLBACK.to_owned()).await;
                }
                next => self.fail(verdict, next, Some(&exchange)),
            },
        }
        Ok(())
    }

    /// Runs `fut` while still obeying Stop and shutdown; other commands that
    /// arrive meanwhile are moot (the exchange in flight answers them).
    async fn guarded<F: Future>(&mut self, fut: F) -> Result<F::Output, Interrupt> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                () = self.cancel.cancelled() => return Err(Interrupt::Shutdown),
                out = &mut fut => return Ok(out),
                cmd = self.cmd_rx.recv() => match cmd {
                    None => return Err(Interrupt::Shutdown),
                    Some(SessionCmd::Stop) => return Err(Interrupt::Stop),
                    Some(other) => tracing::debug!(
                        connection = %self.conn.name, ?other, "exchange in flight; command ignored"
                    ),
                },
            }
        }
    }

    fn begin(&mut self, state: SessionState) {
        self.snap.state = state;
        self.snap.retry_at = None;
        self.snap.next_refresh_at = None;
        self.emit();
    }

    /// Journals an exchange and keeps its meter reading.
    fn record(&mut self, exchange: &Exchange, rule: &str) {
        if exchange.meter.is_some() {
            self.snap.meter = exchange.meter;
        }
        let entry = journal_entry(&self.conn.name, exchange, rule);
        let _ = self.events_tx.send(Event::Journal(entry));
    }

    fn valid(&mut self, issued: Issued, exchange: &Exchange) {
        let now = Utc::now();
        self.skew = exchange
            .server_date
            .map(|server| server - exchange.at)
            .filter(|skew| skew.abs() > SKEW_TOLERANCE)
            .unwrap_or_default();

        let status = token_status(issued, exchange);
        let lead = policy::refresh_lead(&status.expiry, &self.settings);
        let planned =
            policy::refresh_at(&status.expiry, &self.settings, self.rng.f64()) - self.skew;
        let mut at = planned.max(now + TimeDelta::from_std(MIN_REFRESH_GAP).unwrap_or_default());
        let mut rule = format!("refresh at T-{}", policy::short_duration(lead));
        if let Some(reset) = policy::hold_for_meter(at, self.snap.meter.as_ref(), now) {
            rule = held_rule(policy::until(now, reset));
            at = reset;
        }

        self.plan = Some(Plan {
            at,
            action: Action::Refresh,
            rule,
        });
        self.snap.token = Some(status);
        self.snap.state = SessionState::Valid;
        self.snap.next_refresh_at = Some(at);
        self.snap.retry_at = None;
        self.snap.failures = 0;
        self.snap.tokens_obtained = self.snap.tokens_obtained.saturating_add(1);
        self.snap.last_verdict = Some(exchange.verdict.clone());
        self.emit();
    }

    /// Applies a failed attempt: Failed, or Backoff with a planned retry.
    fn fail(&mut self, verdict: Verdict, next: Next, exchange: Option<&Exchange>) {
        let now = Utc::now();
        self.snap.failures = self.snap.failures.saturating_add(1);
        self.snap.last_verdict = Some(verdict);
        self.snap.next_refresh_at = None;

        let retry = if self.snap.token.is_some() {
            Action::Refresh
        } else {
            Action::Authorize
        };
        let plan = match next {
            Next::Fail | Next::FallbackToBasic => None,
            Next::Throttle => {
                let delay = policy::throttle_delay(
                    self.snap.meter.as_ref(),
                    retry_after(exchange, now),
                    now,
                );
                Some(Plan {
                    at: now + delta(delay),
                    action: retry,
                    rule: held_rule(delay),
                })
            }
            // `Valid` cannot come with an error; treat a confused verdict as transient.
            Next::Backoff | Next::Valid => {
                let delay = policy::backoff_delay(self.snap.failures, &mut self.rng);
                let at = now + delta(delay);
                let rule = format!("retry after backoff {}", policy::short_duration(delay));
                Some(
                    match policy::hold_for_meter(at, self.snap.meter.as_ref(), now) {
                        Some(reset) => Plan {
                            at: reset,
                            action: retry,
                            rule: held_rule(policy::until(now, reset)),
                        },
                        None => Plan {
                            at,
                            action: retry,
                            rule,
                        },
                    },
                )
            }
        };

        if let Some(plan) = plan {
            self.snap.state = SessionState::Backoff;
            self.snap.retry_at = Some(plan.at);
            self.plan = Some(plan);
        } else {
            self.snap.state = SessionState::Failed;
            self.snap.retry_at = None;
            self.plan = None;
        }
        self.emit();
    }

    /// Sends the whole snapshot; logs state changes (name and verdict label only).
    fn emit(&mut self) {
        if self.snap.state != self.logged_state {
            let verdict = self
                .snap
                .last_verdict
                .as_ref()
                .map_or("-", |v| v.kind.label());
            tracing::info!(
                connection = %self.snap.name,
                state = ?self.snap.state,
                verdict,
                "session state changed"
            );
            self.logged_state = self.snap.state;
        }
        let _ = self
            .events_tx
            .send(Event::SessionChanged(self.snap.clone()));
    }
}

/// The rule text for a call held back by the rate limit.
fn held_rule(wait: Duration) -> String {
    format!(
        "held: rate limit resets in {}",
        policy::short_duration(wait)
    )
}

/// The wait `Retry-After` asked for, from now.
fn retry_after(exchange: Option<&Exchange>, now: DateTime<Utc>) -> Option<Duration> {
    exchange
        .and_then(|e| e.retry_after)
        .map(|at| policy::until(now, at))
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// Sleeps until `at` on the local clock; forever when there is nothing planned.
///
/// Wakes at least every [`WALL_CLOCK_CHECK`] to look at the wall clock again:
/// tokio's timers follow a monotonic clock that stands still while the machine
/// sleeps, and a token's expiry does not.
async fn sleep_until(at: Option<DateTime<Utc>>) {
    let Some(at) = at else {
        return std::future::pending().await;
    };
    loop {
        let wait = policy::until(Utc::now(), at);
        if wait.is_zero() {
            return;
        }
        tokio::time::sleep(wait.min(WALL_CLOCK_CHECK)).await;
    }
}
