//! Issue 7, the engine's per-server gate: at most `CALLS_PER_SERVER` (8) calls in flight
//! to one server (scheme, host, port) across its connections; another server is not held
//! up by it; a session waiting at the gate stops on Stop without ever calling.
//!
//! The first server is a loopback listener of this test that holds every request until
//! the test releases it and counts the requests it holds (the most at once, and who sent
//! each, from the Basic credentials). The second server is the simulator.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actsm::session::{Command, SessionState};
use actsm::sim::SimUser;
use base64::Engine as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout};

mod engine_common;

use engine_common::*;

/// `session::engine::CALLS_PER_SERVER`, which `actsm::session` does not re-export.
const CALLS_PER_SERVER: usize = 8;

/// Generous bound for liveness only (the work takes milliseconds).
const WITHIN: Duration = Duration::from_secs(15);

#[derive(Default)]
struct Held {
    /// Requests read and not yet answered.
    in_flight: usize,
    /// The most at once.
    max: usize,
    /// The user of each request, in arrival order.
    users: Vec<String>,
}

/// The holding server: its base URL, what it saw, and the gate that lets answers go.
struct HoldingServer {
    url: String,
    held: Arc<Mutex<Held>>,
    release: Arc<Semaphore>,
}

impl HoldingServer {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind(loopback())
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let held = Arc::new(Mutex::new(Held::default()));
        let release = Arc::new(Semaphore::new(0));
        let (seen, gate) = (Arc::clone(&held), Arc::clone(&release));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (seen, gate) = (Arc::clone(&seen), Arc::clone(&gate));
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    let user = basic_user(&String::from_utf8_lossy(&got));
                    {
                        let mut h = seen.lock().expect("lock");
                        h.in_flight += 1;
                        h.max = h.max.max(h.in_flight);
                        h.users.push(user.clone());
                    }
                    gate.acquire().await.expect("never closed").forget();
                    let body = jwt(&user);
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
                         connection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                    seen.lock().expect("lock").in_flight -= 1;
                });
            }
        });
        Self {
            url: format!("http://{addr}/act.web.api"),
            held,
            release,
        }
    }

    fn seen(&self) -> (usize, usize, Vec<String>) {
        let h = self.held.lock().expect("lock");
        (h.in_flight, h.max, h.users.clone())
    }

    /// Waits until `n` requests arrived in all.
    async fn wait_requests(&self, n: usize) {
        let deadline = Instant::now() + WITHIN;
        while self.seen().2.len() < n {
            assert!(
                Instant::now() < deadline,
                "{n} requests did not arrive: {:?}",
                self.seen()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The user name of a request's `Authorization: Basic` header.
fn basic_user(request: &str) -> String {
    request
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("authorization")
                .then(|| value.trim().strip_prefix("Basic ").map(str::to_owned))?
        })
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .and_then(|raw| {
            String::from_utf8(raw)
                .ok()?
                .split_once(':')
                .map(|(u, _)| u.to_owned())
        })
        .unwrap_or_default()
}

/// An unsigned-looking JWT for `user` that lasts an hour (actsm does not verify
/// signatures: it only reads the claims).
fn jwt(user: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let now = chrono::Utc::now().timestamp();
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(&format!(
            r#"{{"sub":"{user}","iat":{now},"exp":{}}}"#,
            now + 3600
        )),
        b64("signature")
    )
}

/// Waits until every name in `names` has a latest snapshot in `state`.
async fn wait_all(ev: &mut Events, names: &[String], state: SessionState) {
    let mut latest: BTreeMap<String, SessionState> = ev
        .snapshots
        .iter()
        .map(|s| (s.name.clone(), s.state))
        .collect();
    let deadline = Instant::now() + WITHIN;
    while !names.iter().all(|n| latest.get(n) == Some(&state)) {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = timeout(left, ev.rx.recv())
            .await
            .unwrap_or_else(|_| panic!("not all {state:?} within {WITHIN:?}: {latest:?}"))
            .expect("engine keeps the channel open");
        if let Some(s) = ev.take(event) {
            latest.insert(s.name.clone(), s.state);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_calls_per_server_and_another_server_is_not_held_up() {
    let holding = HoldingServer::start().await;
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;

    let held_names: Vec<String> = (0..20).map(|i| format!("held-{i:02}")).collect();
    let free_names: Vec<String> = (0..5).map(|i| format!("free-{i}")).collect();
    let mut conns = Vec::new();
    for name in &held_names {
        let mut c = connection(name, &holding.url, DB, PASSWORD);
        c.user.clone_from(name);
        conns.push(c);
    }
    for name in &free_names {
        conns.push(connection(name, &sim.base_url(), DB, PASSWORD));
    }
    let mut settings = settings();
    // Far longer than the test: a held call stays in flight until released.
    settings.timeout = Duration::from_secs(120);
    let (engine, mut ev) = start(conns, settings);

    // The second server's connections all get their tokens while the first holds 8.
    wait_all(&mut ev, &free_names, SessionState::Valid).await;
    holding.wait_requests(CALLS_PER_SERVER).await;
    // Time for the other 12 to arrive, were the gate open (they would take milliseconds).
    ev.drain_for(Duration::from_millis(700)).await;
    let (in_flight, max, users) = holding.seen();
    assert_eq!(
        users.len(),
        CALLS_PER_SERVER,
        "only 8 reached the server: {users:?}"
    );
    assert_eq!(in_flight, CALLS_PER_SERVER);
    assert_eq!(max, CALLS_PER_SERVER);
    assert_eq!(
        sim.stats().authorize_basic,
        5,
        "one authorize each on the free server"
    );

    // A session waiting at the gate stops, and never calls.
    let called: BTreeSet<&String> = users.iter().collect();
    let waiting = held_names
        .iter()
        .find(|n| !called.contains(n))
        .expect("12 are waiting")
        .clone();
    engine.send(Command::Stop(waiting.clone()));
    ev.wait_for(&waiting, WITHIN, |s| s.state == SessionState::Stopped)
        .await;

    // Let every held answer go: the other 11 waiting go through, never more than 8 at once.
    holding.release.add_permits(1000);
    let others: Vec<String> = held_names
        .iter()
        .filter(|n| **n != waiting)
        .cloned()
        .collect();
    wait_all(&mut ev, &others, SessionState::Valid).await;
    ev.drain_for(Duration::from_millis(300)).await;
    let (in_flight, max, users) = holding.seen();
    assert_eq!(in_flight, 0);
    assert_eq!(max, CALLS_PER_SERVER, "never more than 8 at once");
    assert_eq!(users.len(), 19, "one authorize per session: {users:?}");
    assert!(
        !users.contains(&waiting),
        "the stopped session never called: {users:?}"
    );
    assert!(
        ev.journal_of(&waiting).is_empty(),
        "no exchange journalled for it"
    );
    assert_eq!(
        ev.states(&waiting).last(),
        Some(&SessionState::Stopped),
        "it stays stopped"
    );
    engine.shutdown();
}
