//! The running engine: a supervisor task that routes commands, and one task
//! per started connection that owns its session's timers, backoff and token.
//!
//! Each session task only ever waits on its own network call, its own timers
//! and its own command channel, so a hung server delays nobody else, and the
//! supervisor never awaits anything but its inbox.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

use crate::act::{ActClient, CallKind, ClientOptions, Exchange, Issued, Verdict, VerdictKind};
use crate::cache::TokenCache;
use crate::config::{self, Config, Connection, PromptedSecrets, SecretError, Settings};
use crate::journal::JournalEntry;
use crate::secret::{Secret, Token};

use super::oneshot::{journal_entry, token_status};
use super::policy::{self, Next};
use super::{Command, Event, SessionSnapshot, SessionState, TokenStatus, clock_correction};

/// Rule for a session started by the user.
pub const RULE_START: &str = "start (user asked)";
/// Rule for a session started because its connection has `autostart`.
pub const RULE_AUTOSTART: &str = "autostart";
/// Rule for a refresh the user asked for.
pub const RULE_MANUAL: &str = "manual refresh";
/// Rule for the one Basic authorize after a refused Bearer refresh.
pub const RULE_FALLBACK: &str = "fallback to Basic after Bearer 401";
/// Rule for a token taken from the token cache instead of calling the server.
pub const RULE_FROM_CACHE: &str = "from cache";
/// Rule for a session started again because its connection changed on reload.
pub const RULE_RESTART: &str = "restart: connection changed";
/// Rule for a session started because the user typed its password at the prompt.
pub const RULE_PROMPTED: &str = "start (password typed)";
/// Rule for a call the user forced while the rate limit held the session.
pub const RULE_FORCED: &str = "forced by user while held";

/// The verdict detail of a `password_prompt` session that has no password yet.
pub const PROMPT_NEEDED: &str = "password needed: type it at the prompt (Enter)";

/// Planned calls never come sooner than this after a success, so a token that
/// looks already expired (odd claims) cannot make a session spin.
const MIN_REFRESH_GAP: Duration = Duration::from_secs(1);

/// Calls in flight at once to one server (scheme, host and port), across all its
/// connections. A consultant's hundreds of databases often share one Act! Cloud host:
/// starting them all must not open hundreds of connections to it at once. It also keeps
/// actsm's memory flat (each call in flight holds a connection and its buffers). A hung
/// server holds only its own permits, never another server's.
pub const CALLS_PER_SERVER: usize = 8;

/// Timers re-read the wall clock at least this often (see [`sleep_until`]).
const WALL_CLOCK_CHECK: Duration = Duration::from_secs(15);

/// Handle to the running engine. Dropping it stops every session.
#[derive(Debug)]
pub struct Engine {
    cmd_tx: UnboundedSender<Command>,
    cancel: CancellationToken,
}

impl Engine {
    /// Starts the engine for `config` (inside a tokio runtime). Sessions of
    /// connections with `autostart` start at once; others wait for a [`Command`].
    ///
    /// This engine uses no token cache; see [`Engine::spawn_with_cache`].
    pub fn spawn(config: Arc<Config>, events_tx: UnboundedSender<Event>) -> Self {
        Self::spawn_with_cache(config, events_tx, None)
    }

    /// Like [`Engine::spawn`], sharing tokens through `cache`: every new token
    /// is written to it, a session starts from a cached token that still has
    /// its refresh lead left instead of authorizing, and a planned refresh
    /// takes a newer cached token (one a script obtained) instead of calling.
    pub fn spawn_with_cache(
        config: Arc<Config>,
        events_tx: UnboundedSender<Event>,
        cache: Option<TokenCache>,
    ) -> Self {
        let (cmd_tx, cmd_rx) = unbounded_channel();
        let cancel = CancellationToken::new();
        let supervisor = Supervisor {
            config,
            clients: HashMap::new(),
            cache,
            events_tx,
            cancel: cancel.clone(),
            sessions: HashMap::new(),
            prompted: Arc::new(Mutex::new(PromptedSecrets::new())),
            gates: ServerGates::default(),
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

/// Builds the HTTP client for `options`. A client that cannot be built (a
/// `ca_file` gone since loading, no TLS roots, ...) fails the sessions that
/// need it with the reason, instead of taking the whole program down.
fn build_client(options: &ClientOptions) -> Result<ActClient, String> {
    ActClient::new(options).map_err(|e| {
        tracing::error!("cannot build the HTTP client: {e:#}");
        format!("cannot build the HTTP client: {e:#}")
    })
}

/// The passwords typed at the prompt, shared by the supervisor (which stores
/// them) and the sessions (which read them and forget a refused one).
///
/// Only ever locked for a lookup, insert or removal, never across an await.
type SharedPrompted = Arc<Mutex<PromptedSecrets>>;

/// Locks the prompted passwords. A panic while the lock was held cannot leave
/// a half-written map (every use is one `HashMap` call), so poison is ignored.
fn lock(prompted: &SharedPrompted) -> std::sync::MutexGuard<'_, PromptedSecrets> {
    prompted.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The supervisor's hold on one session task.
struct SessionHandle {
    tx: UnboundedSender<SessionCmd>,
    /// Cancelled to retire this one task (a child of the engine's token).
    cancel: CancellationToken,
    /// True once asked to start (or refresh) and not stopped since: the
    /// session is not Idle or Stopped. Kept here rather than read from the
    /// task so that a Start still queued counts too.
    active: bool,
}

/// Routes commands to session tasks, spawning a task on a connection's first start.
struct Supervisor {
    config: Arc<Config>,
    /// One HTTP client per distinct transport options, built on first use; connections
    /// with equal options share it (and its connection pool). Emptied on every reload, so
    /// that a `ca_file` whose content changed is read again.
    clients: HashMap<ClientOptions, Result<ActClient, String>>,
    cache: Option<TokenCache>,
    events_tx: UnboundedSender<Event>,
    cancel: CancellationToken,
    sessions: HashMap<String, SessionHandle>,
    prompted: SharedPrompted,
    gates: ServerGates,
}

/// One semaphore of [`CALLS_PER_SERVER`] permits per server, shared by the sessions.
#[derive(Clone, Default)]
struct ServerGates(Arc<Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>>);

impl ServerGates {
    /// The gate of the server `url` points at: its scheme, host and port; the URL itself
    /// when it does not parse (the call will then fail on its own).
    fn for_url(&self, url: &str) -> Arc<tokio::sync::Semaphore> {
        let server = url::Url::parse(url).map_or_else(
            |_| url.to_owned(),
            |u| {
                format!(
                    "{}://{}:{}",
                    u.scheme(),
                    u.host_str().unwrap_or_default(),
                    u.port_or_known_default().unwrap_or_default()
                )
            },
        );
        let mut gates = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            gates
                .entry(server)
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(CALLS_PER_SERVER))),
        )
    }
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
            Command::RefreshNow(name) => {
                self.dispatch(&name, SessionCmd::RefreshNow { force: false });
            }
            Command::ForceRefresh(name) => {
                self.dispatch(&name, SessionCmd::RefreshNow { force: true });
            }
            Command::Stop(name) => {
                if !self.knows(&name) {
                    tracing::warn!(connection = %name, "stop: no such connection; ignored");
                } else if let Some(handle) = self.sessions.get_mut(&name) {
                    handle.active = false;
                    // A task that is gone has nothing left to stop.
                    let _ = handle.tx.send(SessionCmd::Stop);
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
            Command::Reload(config) => self.reload(config),
            Command::ProvideSecret(name, secret) => self.provide_secret(&name, secret),
        }
    }

    /// Applies a new connections file: sessions of unchanged connections keep
    /// running with their tokens; removed ones end; changed ones end and, if
    /// they were active, start again for the new target; added ones start if
    /// they have `autostart`. New settings reach every session for its next call.
    fn reload(&mut self, new: Arc<Config>) {
        let diff = config::diff(&self.config, &new);
        if diff.is_empty() {
            self.config = new;
            return;
        }
        tracing::info!(
            added = diff.added.len(),
            removed = diff.removed.len(),
            changed = diff.changed.len(),
            unchanged = diff.unchanged.len(),
            settings_changed = diff.settings_changed,
            "connections reloaded"
        );

        for name in &diff.removed {
            self.retire(name);
            // The UI may drop the row on this; it also rebuilds its list from the new config.
            let mut last = SessionSnapshot::idle(name.clone());
            last.state = SessionState::Stopped;
            let _ = self.events_tx.send(Event::SessionChanged(last));
        }
        let mut restart = Vec::new();
        for name in &diff.changed {
            if self.retire(name) {
                restart.push(name.clone());
            } else {
                // Whatever the old session showed was about the old target.
                let _ = self
                    .events_tx
                    .send(Event::SessionChanged(SessionSnapshot::idle(name.clone())));
            }
        }

        self.clients.clear();
        if diff.settings_changed {
            let names: Vec<String> = self.sessions.keys().cloned().collect();
            for name in names {
                let Some(conn) = new.connection(&name) else {
                    continue;
                };
                let client = self.client_for(&new.settings, conn);
                if let Some(handle) = self.sessions.get(&name) {
                    // Tokens are kept; the session uses these from its next call on.
                    let _ = handle.tx.send(SessionCmd::Settings {
                        settings: Box::new(new.settings.clone()),
                        client: Box::new(client),
                    });
                }
            }
        }
        self.config = new;

        for name in restart {
            self.dispatch(&name, SessionCmd::Start { rule: RULE_RESTART });
        }
        let autostart: Vec<String> = diff
            .added
            .iter()
            .filter(|name| self.config.connection(name).is_some_and(|c| c.autostart))
            .cloned()
            .collect();
        for name in autostart {
            self.dispatch(
                &name,
                SessionCmd::Start {
                    rule: RULE_AUTOSTART,
                },
            );
        }
    }

    /// Ends the task of `name` for good, abandoning any call in flight, and
    /// forgets its typed password (it was for the old target). Returns whether
    /// the session was active.
    fn retire(&mut self, name: &str) -> bool {
        lock(&self.prompted).remove(name);
        let Some(handle) = self.sessions.remove(name) else {
            return false;
        };
        // Cancelling first means the task sends nothing more, so none of its
        // events can land after those of the session that replaces it.
        handle.cancel.cancel();
        handle.active
    }

    /// Keeps the password typed for `name` (in memory only) and starts its session.
    fn provide_secret(&mut self, name: &str, secret: Secret) {
        let Some(conn) = self.config.connection(name) else {
            tracing::warn!(connection = %name, "password typed for no such connection; dropped");
            return;
        };
        if !conn.secret.needs_prompt() {
            // Its source never consults typed passwords: do not hold one for nothing.
            tracing::warn!(
                connection = %name,
                "password typed for a connection that does not use password_prompt; dropped"
            );
            return;
        }
        lock(&self.prompted).insert(name, secret);
        self.dispatch(
            name,
            SessionCmd::Start {
                rule: RULE_PROMPTED,
            },
        );
    }

    fn knows(&self, name: &str) -> bool {
        self.config.connections.iter().any(|c| c.name == name)
    }

    /// Sends `cmd` (a start or a refresh) to the session of `name`, spawning
    /// its task if needed.
    fn dispatch(&mut self, name: &str, cmd: SessionCmd) {
        let Some(conn) = self.config.connections.iter().find(|c| c.name == name) else {
            tracing::warn!(connection = %name, "no such connection; command ignored");
            return;
        };

        if let Some(handle) = self.sessions.get_mut(name) {
            handle.active = true;
            match handle.tx.send(cmd) {
                Ok(()) => return,
                // The task ended (only after a panic): start a fresh one below.
                Err(e) => return self.spawn_session(conn.clone(), e.0),
            }
        }
        self.spawn_session(conn.clone(), cmd);
    }

    /// The client for `conn` under `settings`: shared with every connection whose transport
    /// options are equal, built on first use.
    fn client_for(&mut self, settings: &Settings, conn: &Connection) -> Result<ActClient, String> {
        let options = ClientOptions::for_connection(settings, conn);
        self.clients
            .entry(options)
            .or_insert_with_key(build_client)
            .clone()
    }

    fn spawn_session(&mut self, conn: Connection, first: SessionCmd) {
        let (tx, rx) = unbounded_channel();
        // Cannot fail: the receiver is alive right here.
        let _ = tx.send(first);
        let cancel = self.cancel.child_token();
        self.sessions.insert(
            conn.name.clone(),
            SessionHandle {
                tx,
                cancel: cancel.clone(),
                active: true,
            },
        );

        let settings = self.config.settings.clone();
        let client = self.client_for(&settings, &conn);
        let session = Session {
            snap: SessionSnapshot::idle(conn.name.clone()),
            conn,
            settings,
            client,
            cache: self.cache.clone(),
            events_tx: self.events_tx.clone(),
            cmd_rx: rx,
            cancel,
            prompted: Arc::clone(&self.prompted),
            gates: self.gates.clone(),
            plan: None,
            skew: TimeDelta::zero(),
            rng: fastrand::Rng::new(),
            logged_state: SessionState::Idle,
            unsent: None,
        };
        tokio::spawn(session.run());
    }
}

/// What the supervisor tells a session task.
#[derive(Debug, Clone)]
enum SessionCmd {
    /// Authorize now unless a token is held; `rule` names who asked.
    Start { rule: &'static str },
    /// Refresh (or authorize) now; `force` goes even while the rate limit holds.
    RefreshNow { force: bool },
    /// Abandon any call in flight, forget the token.
    Stop,
    /// `[settings]` changed: use these (and this client, built for their
    /// timeout) from the next call on. The token and the planned call stay.
    /// Boxed: every session's channel holds blocks of commands sized by the largest.
    Settings {
        settings: Box<Settings>,
        client: Box<Result<ActClient, String>>,
    },
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
    /// True when the rate limit (not a backoff or the refresh schedule) set
    /// this time: a manual call before it is held unless forced.
    held: bool,
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
    cache: Option<TokenCache>,
    events_tx: UnboundedSender<Event>,
    cmd_rx: UnboundedReceiver<SessionCmd>,
    /// Cancelled at shutdown, or when a reload retires this session.
    cancel: CancellationToken,
    prompted: SharedPrompted,
    gates: ServerGates,
    snap: SessionSnapshot,
    plan: Option<Plan>,
    /// Server clock minus local clock, when it is off by more than the tolerance.
    skew: TimeDelta,
    rng: fastrand::Rng,
    /// The state last written to the diagnostic log, to log changes only.
    logged_state: SessionState,
    /// The journal entry of the last exchange, held until the policy has
    /// decided what follows (see [`Session::note`]); sent before the next snapshot.
    unsent: Option<JournalEntry>,
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
                if self.hold_manual(Action::Authorize) {
                    return None;
                }
                self.snap.failures = 0;
                Some((Action::Authorize, rule.to_owned()))
            }
            SessionCmd::RefreshNow { force } => {
                let held = self.held_plan().is_some();
                if !force && self.hold_manual(Action::Refresh) {
                    return None;
                }
                // A user's request starts a fresh series: a failure now backs off from 2 s.
                self.snap.failures = 0;
                let rule = if held { RULE_FORCED } else { RULE_MANUAL };
                Some((Action::Refresh, rule.to_owned()))
            }
            SessionCmd::Stop => {
                self.stop();
                None
            }
            SessionCmd::Settings { settings, client } => {
                self.apply_settings(*settings, *client);
                None
            }
        }
    }

    /// The planned call's time when the rate limit set it and it lies ahead.
    fn held_plan(&self) -> Option<DateTime<Utc>> {
        self.plan
            .as_ref()
            .filter(|p| p.held && p.at > Utc::now())
            .map(|p| p.at)
    }

    /// A manual call while the rate limit holds the session is not sent: it
    /// is journalled (no exchange) with the wait, and the plan stays. Returns
    /// whether the call was held.
    fn hold_manual(&mut self, action: Action) -> bool {
        let Some(at) = self.held_plan() else {
            return false;
        };
        let wait = policy::until(Utc::now(), at);
        let rule = format!("{} (press R to force)", held_rule(wait));
        let entry = JournalEntry {
            at: Utc::now(),
            connection: self.conn.name.clone(),
            call: match action {
                Action::Authorize => CallKind::Authorize,
                Action::Refresh => CallKind::Refresh,
            },
            status: None,
            reason: None,
            latency: Duration::ZERO,
            verdict: Verdict::new(
                VerdictKind::Throttled,
                Some("not sent: the rate limit holds this connection".to_owned()),
            ),
            meter: None,
            rule: format!("{RULE_MANUAL} → {rule}"),
            url: String::new(),
            detail: crate::act::HttpDetail::default(),
        };
        tracing::info!(connection = %self.conn.name, rule = %entry.rule, "manual call held");
        let _ = self.events_tx.send(Event::Journal(entry));
        self.emit();
        true
    }

    fn apply_settings(&mut self, settings: Settings, client: Result<ActClient, String>) {
        tracing::debug!(connection = %self.conn.name, "new settings apply from the next call");
        self.settings = settings;
        self.client = client;
    }

    fn stop(&mut self) {
        self.plan = None;
        self.snap.token = None;
        self.snap.state = SessionState::Stopped;
        self.snap.next_refresh_at = None;
        self.snap.retry_at = None;
        self.snap.held_until = None;
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
        // A session start, or a planned refresh, first looks for a token another
        // process (or an earlier run) cached: that saves a call to the server.
        // A restart after a reload looks too: the cache is keyed by the new target.
        let from_cache = match action {
            Action::Authorize => {
                self.snap.token.is_none()
                    && [RULE_START, RULE_AUTOSTART, RULE_RESTART, RULE_PROMPTED]
                        .contains(&rule.as_str())
            }
            Action::Refresh => rule != RULE_MANUAL && self.snap.token.is_some(),
        };
        if from_cache && let Some(status) = self.cached_token() {
            self.adopt_cached(status);
            return Ok(());
        }
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

        let password = match self.resolve_password().await? {
            Ok(p) => p,
            Err(SecretError::NeedsPrompt) => {
                let verdict = Verdict::new(VerdictKind::Secret, PROMPT_NEEDED.to_owned());
                self.fail(verdict, Next::Fail, None);
                // Once per attempt: the UI opens its prompt and answers with ProvideSecret.
                let _ = self
                    .events_tx
                    .send(Event::SecretNeeded(self.conn.name.clone()));
                return Ok(());
            }
            Err(e) => {
                let verdict = Verdict::new(VerdictKind::Secret, e.to_string());
                self.fail(verdict, Next::Fail, None);
                return Ok(());
            }
        };
        let prompted_password = self.conn.secret.needs_prompt().then(|| password.clone());

        let (url, db, user) = (
            self.conn.url.clone(),
            self.conn.database.clone(),
            self.conn.user.clone(),
        );
        let assumed = self.settings.assumed_lifetime;
        let _permit = self.wait_for_gate(&url).await?;
        let call =
            Box::pin(async move { client.authorize(&url, &db, &user, &password, assumed).await });
        let (exchange, result) = self.guarded(call).await?;
        self.record(&exchange, &rule);

        match result {
            Ok(issued) => self.valid(issued, &exchange),
            Err(verdict) => {
                if verdict.kind == VerdictKind::Unauthorized
                    && let Some(used) = prompted_password
                {
                    self.forget_prompted(&used);
                }
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
        let sent = token.clone();
        let permit = self.wait_for_gate(&url).await?;
        let call = Box::pin(async move { client.refresh(&url, &db, &sent, assumed).await });
        let (mut exchange, mut result) = self.guarded(call).await?;
        drop(permit);
        self.note_time_left(&mut exchange, &mut result);
        self.record(&exchange, &rule);

        match result {
            Ok(issued) => self.valid(issued, &exchange),
            Err(verdict) => match policy::classify(&verdict) {
                Next::FallbackToBasic => {
                    let server_now = exchange.server_date.unwrap_or(exchange.at + self.skew);
                    let left = self
                        .snap
                        .token
                        .as_ref()
                        .map(|t| policy::until(server_now, t.expiry.expires_at))
                        .unwrap_or_default();
                    // Recorded as such: a token refused before its expiry is
                    // the server's doing (revoked, restarted), not ours.
                    let note = if left.is_zero() {
                        "token rejected at expiry (Bearer 401)".to_owned()
                    } else {
                        format!(
                            "token rejected with {} left (Bearer 401)",
                            policy::short_duration(left)
                        )
                    };
                    self.note(&note);
                    // The server no longer takes this token: forget it, try Basic once.
                    self.snap.token = None;
                    self.uncache(&token);
                    self.snap.last_verdict = Some(verdict);
                    return self.authorize(RULE_FALLBACK.to_owned()).await;
                }
                next => self.fail(verdict, next, Some(&exchange)),
            },
        }
        Ok(())
    }

    /// A Bearer token refused while it still had time left is not an expiry:
    /// the server dropped it early (revoked, restarted). Say so, with the time
    /// it had left (by the server's clock), in the verdict the journal records.
    fn note_time_left(&self, exchange: &mut Exchange, result: &mut Result<Issued, Verdict>) {
        let Err(verdict) = result else {
            return;
        };
        let Some(held) = self.snap.token.as_ref() else {
            return;
        };
        if verdict.kind != VerdictKind::TokenRejected {
            return;
        }
        let server_now = exchange.server_date.unwrap_or(exchange.at);
        let left = policy::until(server_now, held.expiry.expires_at);
        if left.is_zero() {
            return;
        }
        let note = format!(
            "refused with {} left before its exp",
            policy::short_duration(left)
        );
        let detail = match verdict.detail.take() {
            Some(before) => format!("{note}; {before}"),
            None => note,
        };
        verdict.detail = Some(detail.clone());
        exchange.verdict.detail = Some(detail);
    }

    /// Obtains the password from the connection's source; a `password_prompt`
    /// source is answered from the passwords typed so far.
    async fn resolve_password(&mut self) -> Result<Result<Secret, SecretError>, Interrupt> {
        // Copy out just this connection's password, so the lock is released
        // before anything awaits and no other password leaves the map.
        let mut typed = PromptedSecrets::new();
        if self.conn.secret.needs_prompt()
            && let Some(secret) = lock(&self.prompted).get(&self.conn.name)
        {
            typed.insert(self.conn.name.clone(), secret.clone());
        }

        let source = self.conn.secret.clone();
        let name = self.conn.name.clone();
        let timeout = self.settings.timeout;
        // Boxed like the HTTP calls: a password command's state is only held while it runs.
        self.guarded(Box::pin(async move {
            source.resolve_with(&name, &typed, timeout).await
        }))
        .await
    }

    /// The server refused the typed password (401): forget it, so that the
    /// next Start asks again rather than sending a typo forever. Only the
    /// very password that was refused is removed; one typed meanwhile stays.
    fn forget_prompted(&self, used: &Secret) {
        let mut prompted = lock(&self.prompted);
        if prompted.get(&self.conn.name) == Some(used) {
            prompted.remove(&self.conn.name);
            tracing::info!(connection = %self.conn.name, "typed password refused; forgotten");
        }
    }

    /// Runs `fut` while still obeying Stop and shutdown; other commands that
    /// arrive meanwhile are moot (the exchange in flight answers them), except
    /// new settings, which are kept for the next call.
    /// Waits (answering commands, like [`Self::guarded`]) until the server of `url` has
    /// a free call slot; the call holds it until the permit is dropped.
    ///
    /// The call's future is only built once this returns, and boxed: a session waiting
    /// here, or idle, holds a few hundred bytes instead of a whole HTTP exchange's state.
    async fn wait_for_gate(
        &mut self,
        url: &str,
    ) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, Interrupt> {
        let gate = self.gates.for_url(url);
        // The semaphore is never closed; were it closed, the call would go ahead ungated.
        Ok(self.guarded(gate.acquire_owned()).await?.ok())
    }

    async fn guarded<F: Future>(&mut self, fut: F) -> Result<F::Output, Interrupt> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                () = self.cancel.cancelled() => return Err(Interrupt::Shutdown),
                out = &mut fut => return Ok(out),
                cmd = self.cmd_rx.recv() => match cmd {
                    None => return Err(Interrupt::Shutdown),
                    Some(SessionCmd::Stop) => return Err(Interrupt::Stop),
                    Some(SessionCmd::Settings { settings, client }) => {
                        self.apply_settings(*settings, *client);
                    }
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
        self.snap.held_until = None;
        self.snap.next_refresh_at = None;
        self.emit();
    }

    /// Journals an exchange, keeps its meter reading and the server's clock
    /// offset. The entry is sent with the next snapshot, once the policy has
    /// added its decision ([`Session::note`]).
    fn record(&mut self, exchange: &Exchange, rule: &str) {
        if exchange.meter.is_some() {
            self.snap.meter = exchange.meter;
        }
        if let Some(server) = exchange.server_date {
            self.snap.skew = Some(server - exchange.at);
        }
        self.flush_journal();
        self.unsent = Some(journal_entry(&self.conn.name, exchange, rule));
    }

    /// Adds the policy's decision to the last exchange's rule:
    /// `"refresh at T-5m → retry after backoff 2s (failure 1)"`.
    fn note(&mut self, decision: &str) {
        if let Some(entry) = &mut self.unsent {
            tracing::info!(connection = %self.conn.name, decision, "policy decision");
            entry.rule = format!("{} → {decision}", entry.rule);
        }
    }

    fn flush_journal(&mut self) {
        if let Some(entry) = self.unsent.take() {
            let _ = self.events_tx.send(Event::Journal(entry));
        }
    }

    fn valid(&mut self, issued: Issued, exchange: &Exchange) {
        let status = token_status(issued, exchange);
        self.skew = clock_correction(status.clock_offset);
        self.cache_store(&status);
        self.snap.tokens_obtained = self.snap.tokens_obtained.saturating_add(1);
        self.hold(status, exchange.verdict.clone());
    }

    /// A cached token for this connection that is worth taking: it has the
    /// refresh lead (plus a margin) left and, when a token is held, expires later.
    fn cached_token(&self) -> Option<TokenStatus> {
        let cache = self.cache.as_ref()?;
        let cached = cache.load(&self.conn)?;
        let now = Utc::now();
        let needed = cached.required_life(&self.settings, None) + MIN_REFRESH_GAP;
        if !cached.has_life(needed, now) {
            return None;
        }
        if let Some(held) = &self.snap.token
            && (cached.expiry.expires_at <= held.expiry.expires_at || cached.token == held.token)
        {
            return None;
        }
        Some(cached.to_status())
    }

    /// Holds a token taken from the cache; journaled with no server call.
    fn adopt_cached(&mut self, status: TokenStatus) {
        let entry = JournalEntry {
            at: Utc::now(),
            connection: self.conn.name.clone(),
            call: CallKind::Authorize,
            status: None,
            reason: None,
            latency: Duration::ZERO,
            verdict: Verdict::ok(),
            meter: None,
            rule: RULE_FROM_CACHE.to_owned(),
            url: String::new(),
            detail: crate::act::HttpDetail::default(),
        };
        tracing::info!(
            connection = %self.conn.name,
            token = %status.token.fingerprint(),
            rule = RULE_FROM_CACHE,
            "token taken from the cache"
        );
        let _ = self.events_tx.send(Event::Journal(entry));
        // Plan on the server clock measured when the token was issued.
        self.skew = clock_correction(status.clock_offset);
        if status.clock_offset != TimeDelta::zero() {
            self.snap.skew = Some(status.clock_offset);
        }
        self.hold(status, Verdict::ok());
    }

    /// Writes a new token to the cache off the async threads (a file write and an fsync).
    fn cache_store(&self, status: &TokenStatus) {
        let Some(cache) = self.cache.clone() else {
            return;
        };
        let (conn, status) = (self.conn.clone(), status.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = cache.store(&conn, &status) {
                tracing::warn!(connection = %conn.name, "could not write the token cache: {e}");
            }
        });
    }

    /// Drops the cached token when it is `rejected`, so scripts stop receiving it.
    fn uncache(&self, rejected: &Token) {
        let Some(cache) = &self.cache else {
            return;
        };
        if cache
            .load(&self.conn)
            .is_some_and(|cached| &cached.token == rejected)
            && let Err(e) = cache.remove(&self.conn)
        {
            tracing::warn!(connection = %self.conn.name, "could not remove a refused cached token: {e}");
        }
    }

    /// Holds `status` as the session's token and plans its refresh.
    fn hold(&mut self, status: TokenStatus, verdict: Verdict) {
        let now = Utc::now();
        let lead = policy::refresh_lead(&status.expiry, &self.settings);
        let planned =
            policy::refresh_at(&status.expiry, &self.settings, self.rng.f64()) - self.skew;
        let gap = self.settings.min_refresh_interval.max(MIN_REFRESH_GAP);
        let earliest = now + delta(gap);
        let mut rule = format!("refresh at T-{}", policy::short_duration(lead));
        let mut at = planned;
        if planned < earliest {
            at = earliest;
            if gap > MIN_REFRESH_GAP {
                let lifetime = policy::until(status.expiry.issued_at, status.expiry.expires_at);
                rule = format!(
                    "refresh after min_refresh_interval {} (tokens here last {})",
                    policy::short_duration(gap),
                    policy::short_duration(lifetime)
                );
                self.note(&format!(
                    "next refresh kept {} away (min_refresh_interval)",
                    policy::short_duration(gap)
                ));
            }
        }
        let mut held = false;
        if let Some(reset) = policy::hold_for_meter(at, self.snap.meter.as_ref(), now) {
            rule = held_rule(policy::until(now, reset));
            self.note(&rule);
            at = reset;
            held = true;
        }

        self.plan = Some(Plan {
            at,
            action: Action::Refresh,
            rule,
            held,
        });
        self.snap.held_until = held.then_some(at);
        self.snap.token = Some(status);
        self.snap.state = SessionState::Valid;
        self.snap.next_refresh_at = Some(at);
        self.snap.retry_at = None;
        self.snap.failures = 0;
        self.snap.last_verdict = Some(verdict);
        self.emit();
    }

    /// Applies a failed attempt: Failed, or Backoff with a planned retry.
    fn fail(&mut self, verdict: Verdict, next: Next, exchange: Option<&Exchange>) {
        let now = Utc::now();
        self.snap.failures = self.snap.failures.saturating_add(1);
        let kind = verdict.kind;
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
                let asked = retry_after(exchange, now);
                let told = policy::throttle_delay(self.snap.meter.as_ref(), asked, now);
                let floor = policy::throttle_floor(self.snap.failures);
                let delay = told.max(floor);
                let status = exchange
                    .and_then(|e| e.status)
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                let reset_known = self
                    .snap
                    .meter
                    .as_ref()
                    .is_some_and(|m| m.reset_at.is_some());
                let mut rule = match asked {
                    Some(_) => {
                        format!("held: Retry-After {}{status}", policy::short_duration(told))
                    }
                    None if reset_known => held_rule(told),
                    None => format!(
                        "held: no Retry-After or reset given{status}, waiting {}",
                        policy::short_duration(told)
                    ),
                };
                if floor > told {
                    rule = format!(
                        "{rule}; backing off to {} after {} throttled answers",
                        policy::short_duration(delay),
                        self.snap.failures
                    );
                }
                Some(Plan {
                    at: now + delta(delay),
                    action: retry,
                    rule,
                    held: true,
                })
            }
            // `Valid` cannot come with an error; treat a confused verdict as transient.
            Next::Backoff | Next::Valid => {
                let delay = policy::backoff_delay(self.snap.failures, &mut self.rng);
                let at = now + delta(delay);
                let rule = format!(
                    "retry after backoff {} (failure {})",
                    policy::short_duration(delay),
                    self.snap.failures
                );
                Some(
                    match policy::hold_for_meter(at, self.snap.meter.as_ref(), now) {
                        Some(reset) => Plan {
                            at: reset,
                            action: retry,
                            rule: held_rule(policy::until(now, reset)),
                            held: true,
                        },
                        None => Plan {
                            at,
                            action: retry,
                            rule,
                            held: false,
                        },
                    },
                )
            }
        };

        if let Some(plan) = plan {
            self.note(&plan.rule);
            self.snap.state = SessionState::Backoff;
            self.snap.retry_at = Some(plan.at);
            self.snap.held_until = plan.held.then_some(plan.at);
            self.plan = Some(plan);
        } else {
            self.note(&no_retry_rule(kind));
            self.snap.state = SessionState::Failed;
            self.snap.retry_at = None;
            self.snap.held_until = None;
            self.plan = None;
        }
        self.emit();
    }

    /// Sends the whole snapshot; logs state changes (name and verdict label only).
    fn emit(&mut self) {
        if self.cancel.is_cancelled() {
            // Retired by a reload (or shutting down): a successor may already report.
            return;
        }
        // The exchange's entry (with the policy's decision) comes before the state it led to.
        self.flush_journal();
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

/// The decision text when a verdict ends the automatic calls.
fn no_retry_rule(kind: VerdictKind) -> String {
    match kind {
        VerdictKind::ExpiredOnArrival => {
            "expired on arrival: no retry (check the server's clock)".to_owned()
        }
        kind => format!("no retry: {} needs the user", kind.label()),
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
        let check = next_wall_clock_check(tokio::time::Instant::now());
        tokio::time::sleep_until(check.min(tokio::time::Instant::now() + wait)).await;
    }
}

/// The next wall-clock check after `now`: on a grid of [`WALL_CLOCK_CHECK`] steps shared
/// by every session of the process, so that hundreds of idle sessions wake the runtime
/// together, once per step, instead of each at its own moment.
fn next_wall_clock_check(now: tokio::time::Instant) -> tokio::time::Instant {
    static ORIGIN: std::sync::OnceLock<tokio::time::Instant> = std::sync::OnceLock::new();
    let origin = *ORIGIN.get_or_init(|| now);
    if now < origin {
        // Another runtime's clock (tests pause and move time): no grid to share.
        return now + WALL_CLOCK_CHECK;
    }
    let step = WALL_CLOCK_CHECK.as_millis();
    let elapsed = now.saturating_duration_since(origin).as_millis();
    let next = (elapsed / step + 1) * step;
    origin + Duration::from_millis(u64::try_from(next).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clock_checks_share_one_grid() {
        let now = tokio::time::Instant::now();
        let first = next_wall_clock_check(now);
        assert!(first > now && first <= now + WALL_CLOCK_CHECK);
        // Sessions asking at different moments within one step wake at the same instant.
        let a = next_wall_clock_check(first - Duration::from_secs(4));
        let b = next_wall_clock_check(first - Duration::from_millis(10));
        assert_eq!(a, b);
        // At a grid point, the next check is one whole step later, never now.
        assert_eq!(next_wall_clock_check(first), first + WALL_CLOCK_CHECK);
    }
}
