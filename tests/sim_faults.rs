//! The simulator's fault scenarios over real HTTP on loopback: what each one
//! puts on the wire, selected by `fault-NAME` database or by the user's scenario.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use actsm::sim::{
    FAULT_PASSWORD, FAULT_RESET_SECS, FAULT_SHIFT_SECS, Scenario, SimConfig, SimServer, SimUser,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::StatusCode;

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client builds")
}

async fn sim() -> SimServer {
    SimServer::start(loopback(), SimConfig::default())
        .await
        .expect("simulator starts")
}

/// `GET /authorize` with Basic for `fault-{scenario}`.
fn fault_request(c: &reqwest::Client, sim: &SimServer, scenario: &str) -> reqwest::RequestBuilder {
    let auth = STANDARD.encode(format!("anyone:{FAULT_PASSWORD}"));
    c.get(format!("{}/authorize", sim.base_url()))
        .header("Act-Database-Name", format!("fault-{scenario}"))
        .header("Authorization", format!("Basic {auth}"))
}

async fn fault_call(sim: &SimServer, scenario: &str) -> reqwest::Response {
    fault_request(&client(), sim, scenario)
        .send()
        .await
        .expect("the simulator answers")
}

fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

fn date_of(resp: &reqwest::Response) -> i64 {
    let text = resp.headers()["date"].to_str().expect("ASCII");
    chrono::DateTime::parse_from_rfc2822(text)
        .expect("an HTTP date")
        .timestamp()
}

#[tokio::test]
async fn wrong_password_on_a_fault_database_is_a_bare_401() {
    let sim = sim().await;
    let auth = STANDARD.encode("anyone:not-demo");
    let resp = client()
        .get(format!("{}/authorize", sim.base_url()))
        .header("Act-Database-Name", "fault-hang")
        .header("Authorization", format!("Basic {auth}"))
        .send()
        .await
        .expect("answered at once: no scenario before the password is right");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(sim.stats().per_database.get("fault-hang"), Some(&1));
}

#[tokio::test]
async fn hang_reads_the_request_and_never_answers() {
    let sim = sim().await;
    let c = client();
    let pending = fault_request(&c, &sim, "hang")
        .timeout(Duration::from_millis(800))
        .send();
    let err = pending.await.expect_err("no answer comes");
    assert!(err.is_timeout(), "{err}");
    assert_eq!(sim.stats().authorize_basic, 1, "the request was read");
    // Shutting down ends the hung request instead of waiting on it.
    tokio::time::timeout(Duration::from_secs(3), sim.shutdown())
        .await
        .expect("shutdown is not held by the hung request");
}

#[tokio::test]
async fn slow_answers_after_its_delay() {
    let sim = sim().await;
    let started = std::time::Instant::now();
    let resp = fault_call(&sim, "delay-1s").await;
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(resp.status(), StatusCode::OK);
    claims(&resp.text().await.expect("body"));
}

#[tokio::test]
async fn reset_sends_no_response() {
    let sim = sim().await;
    let err = fault_request(&client(), &sim, "reset")
        .send()
        .await
        .expect_err("the connection is cut");
    assert!(!err.is_timeout(), "{err}");
    assert!(err.status().is_none());
    assert_eq!(sim.stats().authorize_basic, 1);
}

#[tokio::test]
async fn huge_body_streams_ten_megabytes_without_a_length() {
    let sim = sim().await;
    let mut resp = fault_call(&sim, "huge-body").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.content_length().is_none(),
        "the size is learnt by reading"
    );
    // Count without keeping: this test must not hold 10 MB either.
    let mut total = 0usize;
    while let Some(chunk) = resp.chunk().await.expect("body streams") {
        total += chunk.len();
    }
    assert_eq!(total, 10 * 1024 * 1024);
}

#[tokio::test]
async fn token_faults_bend_the_claims() {
    let sim = sim().await;

    let resp = fault_call(&sim, "no-exp").await;
    let c = claims(&resp.text().await.expect("body"));
    assert!(c.get("exp").is_none() && c["iat"].is_i64());

    let resp = fault_call(&sim, "expired").await;
    let date = date_of(&resp);
    let c = claims(&resp.text().await.expect("body"));
    assert!(c["exp"].as_i64().expect("exp") < date);

    let resp = fault_call(&sim, "future-iat").await;
    let date = date_of(&resp);
    let c = claims(&resp.text().await.expect("body"));
    let ahead = c["iat"].as_i64().expect("iat") - date;
    assert!((FAULT_SHIFT_SECS - 2..=FAULT_SHIFT_SECS + 2).contains(&ahead));

    // Skewed date: Date and claims agree with each other, both 10 minutes ahead of us.
    let resp = fault_call(&sim, "skewed-date").await;
    let date = date_of(&resp);
    let c = claims(&resp.text().await.expect("body"));
    let ours = chrono::Utc::now().timestamp();
    assert!((date - ours - FAULT_SHIFT_SECS).abs() <= 2);
    assert!((c["iat"].as_i64().expect("iat") - date).abs() <= 1);
}

#[tokio::test]
async fn rate_header_faults_send_what_they_say() {
    let sim = sim().await;
    let header = |resp: &reqwest::Response, name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().expect("ASCII").to_owned())
    };

    let resp = fault_call(&sim, "bad-rate-headers").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, "x-ratelimit-remaining").as_deref(),
        Some("n/a")
    );

    let resp = fault_call(&sim, "throttled-no-retry-after").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(header(&resp, "retry-after").is_none());
    assert!(header(&resp, "x-ratelimit-reset").is_none());

    let now = chrono::Utc::now();
    for (scenario, check) in [
        ("reset-seconds", "20"),
        ("reset-epoch", "epoch"),
        ("reset-epoch-ms", "ms"),
        ("reset-http-date", "GMT"),
        ("reset-rfc3339", "Z"),
    ] {
        let resp = fault_call(&sim, scenario).await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "{scenario}");
        assert!(header(&resp, "retry-after").is_none(), "{scenario}");
        assert_eq!(header(&resp, "x-ratelimit-remaining").as_deref(), Some("0"));
        let reset = header(&resp, "x-ratelimit-reset").expect("a reset");
        match check {
            "epoch" => assert_eq!(reset.len(), 10, "{reset}"),
            "ms" => assert_eq!(reset.len(), 13, "{reset}"),
            other => assert!(reset.ends_with(other), "{scenario}: {reset}"),
        }
        let at = actsm::act::meter::parse_reset(&reset, now).expect("actsm reads every form");
        let secs = (at - now).num_seconds();
        assert!(
            (FAULT_RESET_SECS - 2..=FAULT_RESET_SECS + 1).contains(&secs),
            "{scenario}: {secs}"
        );
    }
}

#[tokio::test]
async fn drop_early_tokens_are_refused_with_time_left() {
    let sim = SimServer::start(
        loopback(),
        SimConfig {
            token_lifetime: Duration::from_secs(4),
            ..SimConfig::default()
        },
    )
    .await
    .expect("simulator starts");
    let token = fault_call(&sim, "drop-early")
        .await
        .text()
        .await
        .expect("body");
    let c = client();
    let refresh = || {
        c.get(format!("{}/authorize", sim.base_url()))
            .header("Authorization", format!("Bearer {token}"))
            .send()
    };
    assert_eq!(refresh().await.expect("answer").status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        refresh().await.expect("answer").status(),
        StatusCode::UNAUTHORIZED,
        "revoked after a quarter of its 4 s"
    );
}

#[tokio::test]
async fn a_configured_user_can_carry_a_fault_scenario() {
    let sim = SimServer::start(
        loopback(),
        SimConfig {
            users: vec![SimUser::new("Db", "u", "pw").with_scenario(Scenario::Reset)],
            ..SimConfig::default()
        },
    )
    .await
    .expect("simulator starts");
    let err = client()
        .get(format!("{}/authorize", sim.base_url()))
        .header("Act-Database-Name", "Db")
        .header(
            "Authorization",
            format!("Basic {}", STANDARD.encode("u:pw")),
        )
        .send()
        .await
        .expect_err("reset");
    assert!(err.status().is_none());
}

#[test]
fn demo_with_faults_parses_and_has_one_connection_per_scenario_but_healthy() {
    let mut text = actsm::demo::demo_toml(
        "http://127.0.0.1:1/act.web.api",
        "http://127.0.0.1:1/x-api/act.web.api",
    );
    text.push_str(&actsm::demo::demo_faults_toml(
        "http://127.0.0.1:1/act.web.api",
    ));
    let config = actsm::config::parse(&text, Path::new("demo.toml")).expect("the demo file parses");
    let faults: Vec<_> = config
        .connections
        .iter()
        .filter(|c| c.group.as_deref() == Some("faults"))
        .collect();
    assert_eq!(faults.len(), Scenario::ALL.len() - 1);
    let seen: std::collections::HashSet<Scenario> = faults
        .iter()
        .map(|conn| {
            actsm::sim::fault_database_scenario(&conn.database)
                .expect("each database selects a scenario")
        })
        .collect();
    assert_eq!(seen.len(), Scenario::ALL.len() - 1, "each scenario once");
    assert!(!seen.contains(&Scenario::Healthy));
}
