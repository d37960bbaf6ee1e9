//! No password or token reaches a `tracing` log line.
//!
//! These tests live in their own binary with one process-wide subscriber:
//! a scoped subscriber (`set_default`) can miss a callsite whose interest
//! another test thread cached first, which made the capture flaky.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use actsm::session::SessionState;
use actsm::sim::{SimConfig, SimServer, SimUser};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

mod engine_common;

use engine_common::*;

/// Everything every test in this binary logged, at TRACE.
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Sink(buf.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other subscriber in this test binary");
        buf
    })
}

fn log_text() -> String {
    let bytes = captured()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    String::from_utf8(bytes).expect("utf-8 log")
}

#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("client builds")
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

async fn authorize(c: &reqwest::Client, base: &str, db: &str, auth: &str) -> reqwest::Response {
    c.get(format!("{base}/authorize"))
        .header("Act-Database-Name", db)
        .header("Authorization", auth)
        .send()
        .await
        .expect("request reaches the simulator")
}

#[tokio::test]
async fn simulator_logs_one_line_per_request_without_secrets() {
    // A database name no other test here uses, to pick this test's lines out.
    const LOG_DB: &str = "LogCheck";
    captured();
    let password = "pw-that-must-not-leak";
    let server = SimServer::start(
        loopback(),
        SimConfig {
            users: vec![SimUser::new(LOG_DB, "Jane", password)],
            ..SimConfig::default()
        },
    )
    .await
    .expect("simulator starts");
    let c = client();
    let base = server.base_url();
    let token = authorize(&c, &base, LOG_DB, &basic("Jane", password)).await;
    let token = token.text().await.expect("body");
    let resp = authorize(&c, &base, LOG_DB, &format!("Bearer {token}")).await;
    let refreshed = resp.text().await.expect("body");
    authorize(&c, &base, LOG_DB, &basic("Jane", "wrong-pw-also-secret")).await;

    let log = log_text();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("sim request") && l.contains("database=\"LogCheck\""))
        .collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(lines[0].contains("status=200") && lines[0].contains("user=\"Jane\""));
    assert!(lines[0].contains("/act.web.api/authorize"));
    assert!(lines[2].contains("status=401"));
    for secret in [
        password,
        "wrong-pw-also-secret",
        token.as_str(),
        refreshed.as_str(),
    ] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
    // Not even the Basic header's base64 form.
    assert!(!log.contains(&STANDARD.encode(format!("Jane:{password}"))));
}

#[tokio::test]
async fn engine_events_and_log_carry_no_secret_or_token() {
    captured();
    let user = SimUser::new(DB, USER, PASSWORD).with_lifetime(Duration::from_secs(4));
    let sim = sim_with(vec![user]).await;
    let url = sim.base_url();
    let (_engine, mut ev) = start(
        vec![
            connection("acme", &url, DB, PASSWORD),
            connection("carol", &url, DB, "wrong-Pa55word"),
        ],
        settings(),
    );
    ev.wait_for("carol", Duration::from_secs(5), |s| {
        s.state == SessionState::Failed
    })
    .await;
    ev.wait_for("acme", Duration::from_secs(8), |s| s.tokens_obtained >= 2)
        .await;

    let tokens: Vec<String> = ev
        .snapshots
        .iter()
        .filter_map(|s| s.token.as_ref().map(|t| t.token.expose().to_owned()))
        .collect();
    assert!(tokens.len() >= 2);
    let events = format!("{:?} {:?}", ev.snapshots, ev.journal);
    let log = log_text();
    // The engine's own lines were captured, not only the simulator's.
    assert!(
        log.lines().any(|l| l.contains("actsm::session")),
        "no engine line captured:\n{log}"
    );
    for text in [&events, &log] {
        assert!(!text.contains(PASSWORD));
        assert!(!text.contains("wrong-Pa55word"));
        for token in &tokens {
            // The signature part alone must not leak either.
            let signature = token.rsplit('.').next().expect("three parts");
            assert!(!text.contains(signature));
        }
    }
}
