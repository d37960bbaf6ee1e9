//! The harness shared by the engine tests: a simulator on loopback, connections
//! and settings for it, and a collector of the engine's events.
#![allow(dead_code)] // each test binary uses a different part of it

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actsm::config::{Config, Connection, SecretSource, Settings};
use actsm::journal::JournalEntry;
use actsm::secret::Secret;
use actsm::session::{Engine, Event, SessionSnapshot, SessionState};
use actsm::sim::{SimConfig, SimServer, SimUser};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::time::{Instant, timeout};

pub const DB: &str = "Acme";
pub const USER: &str = "Jane Doe";
pub const PASSWORD: &str = "pw:with:colons";

pub fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

pub async fn sim_with(users: Vec<SimUser>) -> SimServer {
    sim_skewed(users, 0).await
}

/// A simulator whose clock is `offset` seconds off ours.
pub async fn sim_skewed(users: Vec<SimUser>, offset: i64) -> SimServer {
    let config = SimConfig {
        users,
        clock_offset_secs: offset,
        ..SimConfig::default()
    };
    SimServer::start(loopback(), config)
        .await
        .expect("simulator starts")
}

pub fn connection(name: &str, url: &str, database: &str, password: &str) -> Connection {
    Connection {
        name: name.to_owned(),
        url: url.to_owned(),
        database: database.to_owned(),
        user: USER.to_owned(),
        secret: SecretSource::Plain(Secret::from(password)),
        autostart: true,
        group: None,
        color: None,
        note: None,
        transport: actsm::config::Transport::default(),
    }
}

/// Settings for tests: short timeouts, and refreshes as close together as
/// the engine allows, so tokens that last seconds are refreshed within a test.
pub fn settings() -> Settings {
    Settings {
        timeout: Duration::from_secs(5),
        min_refresh_interval: Duration::ZERO,
        ..Settings::default()
    }
}

pub fn config(connections: Vec<Connection>, settings: Settings) -> Arc<Config> {
    Arc::new(Config {
        settings,
        connections,
        ..Config::default()
    })
}

/// Everything the engine reported so far, and a way to wait for more.
pub struct Events {
    pub rx: UnboundedReceiver<Event>,
    pub snapshots: Vec<SessionSnapshot>,
    pub journal: Vec<JournalEntry>,
    pub secret_needed: Vec<String>,
}

impl Events {
    pub fn new(rx: UnboundedReceiver<Event>) -> Self {
        Self {
            rx,
            snapshots: Vec::new(),
            journal: Vec::new(),
            secret_needed: Vec::new(),
        }
    }

    pub fn take(&mut self, event: Event) -> Option<SessionSnapshot> {
        match event {
            Event::SessionChanged(s) => {
                self.snapshots.push(s.clone());
                Some(s)
            }
            Event::Journal(j) => {
                self.journal.push(j);
                None
            }
            Event::SecretNeeded(name) => {
                self.secret_needed.push(name);
                None
            }
        }
    }

    /// Waits (at most `within`) for a snapshot of `name` that satisfies `pred`.
    pub async fn wait_for(
        &mut self,
        name: &str,
        within: Duration,
        pred: impl Fn(&SessionSnapshot) -> bool,
    ) -> SessionSnapshot {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = timeout(left, self.rx.recv()).await.unwrap_or_else(|_| {
                panic!(
                    "no matching snapshot for {name} within {within:?}; seen: {:?}",
                    self.states(name)
                )
            });
            let event = event.expect("engine keeps the channel open");
            if let Some(s) = self.take(event)
                && s.name == name
                && pred(&s)
            {
                return s;
            }
        }
    }

    /// Waits (at most `within`) until `name` has asked for its password `count` times.
    pub async fn wait_secret_needed(&mut self, name: &str, count: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while self.secret_needed.iter().filter(|n| *n == name).count() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = timeout(left, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("{name} did not ask for its password {count} times"))
                .expect("engine keeps the channel open");
            self.take(event);
        }
    }

    /// Collects whatever arrives during `period`.
    pub async fn drain_for(&mut self, period: Duration) {
        let deadline = Instant::now() + period;
        while let Ok(Some(event)) = timeout(
            deadline.saturating_duration_since(Instant::now()),
            self.rx.recv(),
        )
        .await
        {
            self.take(event);
        }
    }

    pub fn states(&self, name: &str) -> Vec<SessionState> {
        self.snapshots
            .iter()
            .filter(|s| s.name == name)
            .map(|s| s.state)
            .collect()
    }

    pub fn journal_of(&self, name: &str) -> Vec<&JournalEntry> {
        self.journal
            .iter()
            .filter(|j| j.connection == name)
            .collect()
    }
}

pub fn start(conns: Vec<Connection>, settings: Settings) -> (Engine, Events) {
    let (tx, rx) = unbounded_channel();
    let engine = Engine::spawn(config(conns, settings), tx);
    (engine, Events::new(rx))
}

/// A loopback HTTP server that answers every request with the same raw
/// `response` (status line, headers, body) and counts the requests; for
/// answers the simulator does not give. Returns the API base URL and the count.
pub async fn canned_server(response: String) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind(loopback())
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{addr}/act.web.api"), count)
}
