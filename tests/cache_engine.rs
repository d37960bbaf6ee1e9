//! The session engine with the token cache: it writes every new token, starts
//! from a good cached one, and takes a newer cached token at refresh time.
//! Against the built-in simulator on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use actsm::cache::TokenCache;
use actsm::config::{Config, Connection, SecretSource, Settings};
use actsm::secret::Secret;
use actsm::session::{Engine, Event, RULE_FROM_CACHE, SessionSnapshot, SessionState};
use actsm::sim::{SimConfig, SimServer, SimUser};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::time::{Instant, timeout};

async fn sim(lifetime: Duration) -> SimServer {
    let config = SimConfig {
        users: vec![SimUser::new("Acme", "Jane Doe", "pw").with_lifetime(lifetime)],
        ..SimConfig::default()
    };
    SimServer::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("simulator starts")
}

fn config(sim: &SimServer) -> Arc<Config> {
    Arc::new(Config {
        settings: Settings {
            timeout: Duration::from_secs(5),
            // The tokens here last seconds; let the engine refresh them that often.
            min_refresh_interval: Duration::ZERO,
            ..Settings::default()
        },
        connections: vec![Connection {
            name: "acme".to_owned(),
            url: sim.base_url(),
            database: "Acme".to_owned(),
            user: "Jane Doe".to_owned(),
            secret: SecretSource::Plain(Secret::from("pw")),
            autostart: true,
            group: None,
            color: None,
            note: None,
            transport: actsm::config::Transport::default(),
        }],
        ..Config::default()
    })
}

/// Waits for a snapshot matching `pred`; collects journal rules on the way.
async fn wait_for(
    rx: &mut UnboundedReceiver<Event>,
    rules: &mut Vec<String>,
    within: Duration,
    pred: impl Fn(&SessionSnapshot) -> bool,
) -> SessionSnapshot {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = timeout(left, rx.recv())
            .await
            .expect("a matching snapshot in time")
            .expect("engine alive");
        match event {
            Event::Journal(entry) => rules.push(entry.rule),
            Event::SessionChanged(snap) if pred(&snap) => return snap,
            Event::SessionChanged(_) | Event::SecretNeeded(_) => {}
        }
    }
}

/// The cache write happens off the async threads: wait until it shows.
async fn wait_for_cached(cache: &TokenCache, conn: &Connection, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if cache.load(conn).is_some_and(|t| t.token.expose() == token) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the engine's token never reached the cache");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_engine_writes_the_cache_and_a_second_engine_starts_from_it() {
    let sim = sim(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = TokenCache::new(dir.path().join("cache"));
    let config = config(&sim);
    let conn = config.connections[0].clone();

    let (tx, mut rx) = unbounded_channel();
    let engine = Engine::spawn_with_cache(Arc::clone(&config), tx, Some(cache.clone()));
    let mut rules = Vec::new();
    let snap = wait_for(&mut rx, &mut rules, Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    let token = snap.token.expect("token").token.expose().to_owned();
    wait_for_cached(&cache, &conn, &token).await;
    assert_eq!(sim.stats().authorize_basic, 1);
    drop(engine);

    // A new engine (the TUI started again) takes the cached token: no call.
    let (tx, mut rx) = unbounded_channel();
    let _engine = Engine::spawn_with_cache(Arc::clone(&config), tx, Some(cache.clone()));
    let mut rules = Vec::new();
    let snap = wait_for(&mut rx, &mut rules, Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    assert_eq!(snap.token.expect("token").token.expose(), token);
    assert_eq!(sim.stats().authorize_basic, 1, "started from the cache");
    assert!(rules.iter().any(|r| r == RULE_FROM_CACHE), "{rules:?}");
    assert!(snap.next_refresh_at.is_some(), "a refresh is still planned");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_engine_without_a_cache_writes_nothing_and_authorizes() {
    let sim = sim(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = TokenCache::new(dir.path().join("cache"));
    let config = config(&sim);
    // A cached token exists, but this engine has no cache.
    let (tx, mut rx) = unbounded_channel();
    let _first = Engine::spawn_with_cache(Arc::clone(&config), tx, Some(cache.clone()));
    let mut rules = Vec::new();
    wait_for(&mut rx, &mut rules, Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;

    let (tx, mut rx) = unbounded_channel();
    let _plain = Engine::spawn(Arc::clone(&config), tx);
    let mut rules = Vec::new();
    wait_for(&mut rx, &mut rules, Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    assert_eq!(sim.stats().authorize_basic, 2);
    assert!(!rules.iter().any(|r| r == RULE_FROM_CACHE));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_planned_refresh_takes_a_newer_cached_token_instead_of_calling() {
    // 20 s tokens: lead 10 s, so the engine plans its refresh about 10 s in; a
    // token cached 3 s in still has about 13 s left then (claims count whole
    // seconds), more than the lead plus the engine's 1 s margin.
    let sim = sim(Duration::from_secs(20)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = TokenCache::new(dir.path().join("cache"));
    let config = config(&sim);
    let conn = config.connections[0].clone();

    let (tx, mut rx) = unbounded_channel();
    let _engine = Engine::spawn_with_cache(Arc::clone(&config), tx, Some(cache.clone()));
    let mut rules = Vec::new();
    let first = wait_for(&mut rx, &mut rules, Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    let first = first.token.expect("token");

    // Another process obtains a newer token and caches it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let client = actsm::act::ActClient::new(&actsm::act::ClientOptions::default()).expect("client");
    let (_, newer) = actsm::session::authorize_once(&client, &conn, &config.settings).await;
    let newer = newer.expect("authorized");
    assert!(newer.expiry.expires_at > first.expiry.expires_at);
    cache.store(&conn, &newer).expect("store");

    let adopted = wait_for(&mut rx, &mut rules, Duration::from_secs(12), |s| {
        s.state == SessionState::Valid
            && s.token
                .as_ref()
                .is_some_and(|t| t.token.expose() != first.token.expose())
    })
    .await;
    assert_eq!(
        adopted.token.expect("token").token.expose(),
        newer.token.expose()
    );
    assert_eq!(
        sim.stats().authorize_bearer,
        0,
        "no refresh call was needed"
    );
    assert_eq!(sim.stats().authorize_basic, 2);
    assert!(rules.iter().any(|r| r == RULE_FROM_CACHE), "{rules:?}");
}
