//! The built-in Act! simulator: the auth routes of an Act! Web API server.
//!
//! It answers like a real server as far as public reports tell (see
//! `ACT-API.md`): the bare JWT labelled `text/html`, a bare 401 for any bad
//! credential, 4030 to 4032 inside a 403 ASP.NET error object, rate-limit
//! headers only when a limit is configured, path case ignored as IIS does.
//!
//! - on-premises base: `http://ADDR/act.web.api`
//! - cloud base: `http://ADDR/{customer}-api/act.web.api`
//!
//! Used by `actsm sim`, `actsm demo` and the tests.

mod config;
mod conn;
mod handler;
mod state;
mod token;

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{
    DEFAULT_SLOW, DROP_EARLY_LIFETIME, FAULT_DATABASE_PREFIX, FAULT_PASSWORD, FAULT_RESET_SECS,
    FAULT_SHIFT_SECS, Scenario, SimConfig, SimUser, fault_database_scenario, parse_scenario,
};

use state::{Shared, lock};

/// How long [`SimServer::shutdown`] waits for open requests before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A snapshot of the simulator's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// `/authorize` calls with Basic credentials, whatever their outcome.
    pub authorize_basic: u64,
    /// `/authorize` calls with a Bearer token, whatever their outcome.
    pub authorize_bearer: u64,
    /// `/api/system` calls.
    pub system: u64,
    /// `/authorize` calls that issued no token (401, 403, 429, 500, or a 200 login page).
    pub rejected: u64,
    /// Every request, unknown paths included.
    pub total: u64,
    /// Requests per configured database (as configured, not as sent); calls
    /// naming an unknown database are not counted here.
    pub per_database: BTreeMap<String, u64>,
}

/// A running simulator. Dropping it stops the server too, without waiting.
pub struct SimServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl SimServer {
    /// Binds `addr` (port 0 picks a free port), starts serving in a task and returns.
    pub async fn start(addr: SocketAddr, config: SimConfig) -> io::Result<SimServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let router = axum::Router::new()
            .fallback(handler::dispatch)
            .with_state(shared.clone());

        // Hung requests wait on this token too, so a shutdown ends them.
        let cancel = shared.stop.clone();
        let stop = cancel.clone().cancelled_owned();
        let task = tokio::spawn(async move {
            axum::serve(
                conn::FaultListener(listener),
                router.into_make_service_with_connect_info::<conn::ConnHandle>(),
            )
            .with_graceful_shutdown(stop)
            .await
        });
        Ok(SimServer {
            addr,
            shared,
            cancel,
            task: Some(task),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The on-premises base URL, `http://127.0.0.1:PORT/act.web.api`.
    pub fn base_url(&self) -> String {
        format!("http://{}/act.web.api", self.reachable_addr())
    }

    /// The cloud base URL for `customer`: `http://127.0.0.1:PORT/{customer}-api/act.web.api`.
    ///
    /// The customer is lower-cased, as Act! Cloud does with the login URL's segment.
    pub fn cloud_base_url(&self, customer: &str) -> String {
        format!(
            "http://{}/{}-api/act.web.api",
            self.reachable_addr(),
            customer.to_lowercase()
        )
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> SimStats {
        lock(&self.shared.stats).clone()
    }

    /// Moves the simulated clock forward by `by` (tokens expire, rate windows reset).
    pub fn advance_clock(&self, by: Duration) {
        self.shared
            .shift_clock(i64::try_from(by.as_secs()).unwrap_or(i64::MAX));
    }

    /// The simulated clock minus the real clock, seconds.
    pub fn clock_offset_secs(&self) -> i64 {
        self.shared.clock_offset()
    }

    /// Changes the scenario of the login `user` in `database` while running.
    /// False when there is no such login.
    pub fn set_scenario(&self, database: &str, user: &str, scenario: Scenario) -> bool {
        let mut config = lock(&self.shared.config);
        let found = config.users.iter_mut().find(|u| {
            u.database.eq_ignore_ascii_case(database) && u.user.eq_ignore_ascii_case(user)
        });
        match found {
            Some(u) => {
                u.scenario = scenario;
                true
            }
            None => false,
        }
    }

    /// Revokes every token issued so far, as a server restart with a new key would.
    pub fn revoke_all(&self) {
        lock(&self.shared.mint).revoke_all();
    }

    /// Stops accepting, lets open requests finish (a few seconds at most), then returns.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }

    /// The listening address with an unspecified IP replaced by loopback, for URLs.
    fn reachable_addr(&self) -> SocketAddr {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.addr.port())
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The simulator's logins as a table for people: database, user, password, behaviour.
pub fn banner(config: &SimConfig) -> String {
    use std::fmt::Write as _;

    let mut out = format!(
        "{:<16} {:<18} {:<16} {}\n",
        "database", "user", "password", "behaviour"
    );
    for user in &config.users {
        let lifetime = humantime::format_duration(config.lifetime_for(user));
        let limit = config
            .rate_limit_for(user)
            .map_or_else(String::new, |n| format!(", {n} calls/min"));
        let _ = writeln!(
            out,
            "{:<16} {:<18} {:<16} {}, {lifetime} tokens{limit}",
            user.database, user.user, user.password, user.scenario
        );
    }
    out
}

/// Runs the simulator for `actsm sim` until Ctrl-C.
///
/// Prints the base URLs and the logins table on stdout; logs the logins
/// (without passwords) and one line per request to the diagnostic log.
pub async fn run_cli(addr: SocketAddr, config: SimConfig) -> anyhow::Result<()> {
    use anyhow::Context as _;

    use std::io::Write as _;

    let logins: Vec<String> = config
        .users
        .iter()
        .map(|u| format!("{}/{} ({})", u.database, u.user, u.scenario))
        .collect();
    let banner = banner(&config);
    let server = SimServer::start(addr, config)
        .await
        .with_context(|| format!("cannot listen on {addr} for the simulator"))?;

    // The simulator's own passwords are demo data, not secrets: a user needs
    // them to point a connection here.
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "actsm simulator listening (Ctrl-C stops it)\n  on-premises base: {}\n  \
         Cloud base:       {}  (any CUSTOMER-api segment works)\n\n{banner}",
        server.base_url(),
        server.cloud_base_url("CUSTOMER"),
    )
    .context("cannot write to stdout")?;
    drop(stdout);
    tracing::info!(
        target: "actsm::sim",
        base = %server.base_url(),
        cloud = %server.cloud_base_url("demo"),
        logins = %logins.join(", "),
        "simulator listening"
    );

    let stopped = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    stopped.context("cannot wait for Ctrl-C")?;
    tracing::info!(target: "actsm::sim", "simulator stopped");
    Ok(())
}
