//! One engine test per simulator fault: the verdict, the session state, and
//! the simulator's request count staying within the policy (no storm).
//!
//! Every connection uses the simulator's `fault-NAME` databases (any user,
//! password `demo`), so these tests also prove the selection by database name.
//! The engine's timers read the wall clock, so the windows are real and short;
//! the bounds on counts and delays are generous.

use std::time::Duration;

use actsm::act::{CallKind, ExpirySource, VerdictClass, VerdictKind};
use actsm::config::Settings;
use actsm::session::{RULE_FALLBACK, SessionSnapshot, SessionState};
use actsm::sim::{FAULT_PASSWORD, FAULT_RESET_SECS, FAULT_SHIFT_SECS, SimConfig, SimServer};
use chrono::TimeDelta;

mod engine_common;

use engine_common::*;

/// A simulator with no users of its own (only the `fault-*` databases) and
/// the given default token lifetime.
async fn fault_sim(lifetime: Duration) -> SimServer {
    SimServer::start(
        loopback(),
        SimConfig {
            token_lifetime: lifetime,
            ..SimConfig::default()
        },
    )
    .await
    .expect("simulator starts")
}

/// Starts one session against `fault-{scenario}` with `settings`.
async fn run_fault(
    scenario: &str,
    lifetime: Duration,
    settings: Settings,
) -> (SimServer, actsm::session::Engine, Events, String) {
    let sim = fault_sim(lifetime).await;
    let database = format!("fault-{scenario}");
    let (engine, events) = start(
        vec![connection(
            scenario,
            &sim.base_url(),
            &database,
            FAULT_PASSWORD,
        )],
        settings,
    );
    (sim, engine, events, database)
}

fn calls(sim: &SimServer, database: &str) -> u64 {
    sim.stats()
        .per_database
        .get(database)
        .copied()
        .unwrap_or_default()
}

fn kind(s: &SessionSnapshot) -> Option<VerdictKind> {
    s.last_verdict.as_ref().map(|v| v.kind)
}

const HOUR: Duration = Duration::from_secs(3600);

/// Waits for the first Backoff, checks its verdict, then counts the calls
/// the simulator sees over `window`: between `min` and `max`.
async fn backs_off(scenario: &str, expected: VerdictKind, window: Duration, min: u64, max: u64) {
    let (sim, _engine, mut ev, db) = run_fault(scenario, HOUR, settings()).await;
    let s = ev
        .wait_for(scenario, Duration::from_secs(10), |s| {
            s.state == SessionState::Backoff
        })
        .await;
    assert_eq!(kind(&s), Some(expected), "{scenario}");
    assert_eq!(s.failures, 1);
    assert!(s.token.is_none());
    let retry_at = s.retry_at.expect("backoff shows when it retries");
    let seen = ev.journal_of(scenario).last().expect("journalled").at;
    let first = (retry_at - seen).as_seconds_f64();
    assert!((1.5..=2.5).contains(&first), "first backoff ~2 s: {first}");

    ev.drain_for(window).await;
    let n = calls(&sim, &db);
    assert!(
        (min..=max).contains(&n),
        "{scenario}: {n} calls in {window:?}, policy allows {min}..={max}"
    );
    assert_eq!(
        ev.journal_of(scenario).len() as u64,
        n,
        "one journal entry per call"
    );
    assert!(
        ev.states(scenario)
            .iter()
            .all(|st| matches!(st, SessionState::Authorizing | SessionState::Backoff)),
        "{:?}",
        ev.states(scenario)
    );
}

#[tokio::test]
async fn server_error_backs_off_exponentially() {
    // Calls at 0, ~2 s, ~6 s (2 s then 4 s, ±20%): never more than 3 in 7 s.
    backs_off(
        "server-error",
        VerdictKind::ServerError,
        Duration::from_secs(7),
        2,
        3,
    )
    .await;
}

#[tokio::test]
async fn html_200_is_not_a_token_and_backs_off() {
    backs_off(
        "html-200",
        VerdictKind::NotAToken,
        Duration::from_secs(4),
        2,
        3,
    )
    .await;
}

#[tokio::test]
async fn huge_body_is_too_large_and_backs_off() {
    backs_off(
        "huge-body",
        VerdictKind::BodyTooLarge,
        Duration::from_secs(4),
        2,
        3,
    )
    .await;
}

#[tokio::test]
async fn expired_token_is_expired_on_arrival_not_a_loop() {
    backs_off(
        "expired",
        VerdictKind::ExpiredOnArrival,
        Duration::from_secs(4),
        2,
        3,
    )
    .await;
}

#[tokio::test]
async fn future_iat_is_issued_in_future_not_a_loop() {
    backs_off(
        "future-iat",
        VerdictKind::IssuedInFuture,
        Duration::from_secs(4),
        2,
        3,
    )
    .await;
}

#[tokio::test]
async fn reset_connection_is_unreachable_and_backs_off() {
    let (sim, _engine, mut ev, db) = run_fault("reset", HOUR, settings()).await;
    let s = ev
        .wait_for("reset", Duration::from_secs(10), |s| {
            s.state == SessionState::Backoff
        })
        .await;
    let verdict = s.last_verdict.expect("a verdict");
    assert_eq!(verdict.class(), VerdictClass::Unreachable, "{verdict:?}");
    assert_eq!(verdict.kind, VerdictKind::ConnectionDropped, "{verdict:?}");
    assert_eq!(ev.journal_of("reset")[0].status, None, "no response at all");

    ev.drain_for(Duration::from_secs(4)).await;
    let n = calls(&sim, &db);
    assert!((2..=3).contains(&n), "{n} calls in 4 s");
}

#[tokio::test]
async fn hang_times_out_after_the_configured_timeout_with_one_call_in_flight() {
    let quick = Settings {
        timeout: Duration::from_secs(1),
        ..Settings::default()
    };
    let (sim, _engine, mut ev, db) = run_fault("hang", HOUR, quick).await;

    let s = ev
        .wait_for("hang", Duration::from_secs(10), |s| {
            s.state == SessionState::Backoff
        })
        .await;
    assert_eq!(kind(&s), Some(VerdictKind::Timeout));
    assert_eq!(calls(&sim, &db), 1, "one call was in flight, and only one");
    let entry = ev.journal_of("hang")[0].clone();
    assert_eq!(entry.status, None);
    assert!(
        entry.latency >= Duration::from_millis(900) && entry.latency < Duration::from_secs(4),
        "gave up after the 1 s timeout: {:?}",
        entry.latency
    );

    // Next calls at ~3 s and ~8 s (1 s timeout + 2 s, + 1 s timeout + 4 s).
    ev.drain_for(Duration::from_secs(5)).await;
    let n = calls(&sim, &db);
    assert!((2..=3).contains(&n), "{n} calls");
}

#[tokio::test]
async fn slow_server_within_the_timeout_gives_a_valid_token() {
    let (sim, _engine, mut ev, db) = run_fault("slow-2s", HOUR, settings()).await;
    let s = ev
        .wait_for("slow-2s", Duration::from_secs(10), |s| {
            s.state == SessionState::Valid
        })
        .await;
    assert!(s.token.is_some());
    let entry = ev.journal_of("slow-2s")[0].clone();
    assert!(
        entry.latency >= Duration::from_millis(1900),
        "{:?}",
        entry.latency
    );
    assert_eq!(calls(&sim, &db), 1);
}

#[tokio::test]
async fn slow_server_past_the_timeout_times_out() {
    let quick = Settings {
        timeout: Duration::from_secs(1),
        ..Settings::default()
    };
    let (sim, _engine, mut ev, db) = run_fault("delay-3s", HOUR, quick).await;
    let s = ev
        .wait_for("delay-3s", Duration::from_secs(10), |s| {
            s.state == SessionState::Backoff
        })
        .await;
    assert_eq!(kind(&s), Some(VerdictKind::Timeout));
    assert_eq!(calls(&sim, &db), 1);
}

#[tokio::test]
async fn token_without_exp_is_valid_with_an_assumed_expiry() {
    let settings = settings();
    let assumed = settings.assumed_lifetime;
    let (sim, _engine, mut ev, db) = run_fault("no-exp", HOUR, settings).await;
    let s = ev
        .wait_for("no-exp", Duration::from_secs(10), |s| {
            s.state == SessionState::Valid
        })
        .await;
    let token = s.token.expect("a token");
    assert_eq!(token.expiry.source, ExpirySource::Assumed);
    let lifetime = (token.expiry.expires_at - token.expiry.issued_at)
        .to_std()
        .unwrap();
    assert_eq!(lifetime, assumed);
    assert!(
        s.next_refresh_at
            .is_some_and(|at| at < token.expiry.expires_at)
    );

    ev.drain_for(Duration::from_secs(2)).await;
    assert_eq!(calls(&sim, &db), 1);
}

#[tokio::test]
async fn skewed_date_is_valid_and_planned_in_server_time() {
    let (sim, _engine, mut ev, db) = run_fault("skewed-date", HOUR, settings()).await;
    let s = ev
        .wait_for("skewed-date", Duration::from_secs(10), |s| {
            s.state == SessionState::Valid
        })
        .await;
    assert_eq!(kind(&s), Some(VerdictKind::Ok), "not IssuedInFuture");
    let token = s.token.expect("a token");
    let next = s.next_refresh_at.expect("a refresh is planned");
    // Refresh at exp - 5 min (+ up to 30 s jitter), moved onto our clock: 10 min earlier.
    let lead = (token.expiry.expires_at - next).num_seconds();
    let expected = 300 + FAULT_SHIFT_SECS;
    assert!(
        (expected - 32..=expected + 2).contains(&lead),
        "lead {lead}s, expected about {expected}s"
    );
    ev.drain_for(Duration::from_secs(1)).await;
    assert_eq!(calls(&sim, &db), 1);
}

#[tokio::test]
async fn bad_rate_headers_leave_a_valid_session_and_an_unreadable_meter() {
    let (sim, _engine, mut ev, db) = run_fault("bad-rate-headers", HOUR, settings()).await;
    let s = ev
        .wait_for("bad-rate-headers", Duration::from_secs(10), |s| {
            s.state == SessionState::Valid
        })
        .await;
    let meter = s.meter.expect("headers were present");
    assert_eq!(
        (meter.limit, meter.remaining, meter.reset_at),
        (None, None, None)
    );
    assert!(s.next_refresh_at.is_some());
    ev.drain_for(Duration::from_secs(2)).await;
    assert_eq!(calls(&sim, &db), 1);
}

/// 429 throttling: Backoff with the verdict Throttled, a wait of about
/// `wait_secs`, and exactly one call over a few seconds.
async fn throttled_waits(scenario: &str, wait_secs: i64) {
    let (sim, _engine, mut ev, db) = run_fault(scenario, HOUR, settings()).await;
    let s = ev
        .wait_for(scenario, Duration::from_secs(10), |s| {
            s.state == SessionState::Backoff
        })
        .await;
    assert_eq!(kind(&s), Some(VerdictKind::Throttled), "{scenario}");
    let retry_at = s.retry_at.expect("the wait is shown");
    let seen = ev.journal_of(scenario)[0].at;
    let wait = (retry_at - seen).num_milliseconds();
    assert!(
        (wait_secs * 1000 - 2_000..=wait_secs * 1000 + 500).contains(&wait),
        "{scenario}: waits {wait} ms, expected about {wait_secs} s"
    );
    assert!(
        ev.journal_of(scenario)[0].rule.starts_with("autostart"),
        "the first call was the start"
    );

    ev.drain_for(Duration::from_secs(3)).await;
    assert_eq!(calls(&sim, &db), 1, "{scenario}: held, not retried");
    assert_eq!(ev.states(scenario).last(), Some(&SessionState::Backoff));
}

#[tokio::test]
async fn throttled_with_retry_after_waits_30s() {
    throttled_waits("throttled", 30).await;
}

#[tokio::test]
async fn throttled_without_retry_after_waits_one_window() {
    throttled_waits("throttled-no-retry-after", 60).await;
}

#[tokio::test]
async fn reset_in_seconds_is_read() {
    throttled_waits("reset-seconds", FAULT_RESET_SECS).await;
}

#[tokio::test]
async fn reset_as_epoch_seconds_is_read() {
    throttled_waits("reset-epoch", FAULT_RESET_SECS).await;
}

#[tokio::test]
async fn reset_as_epoch_milliseconds_is_read() {
    throttled_waits("reset-epoch-ms", FAULT_RESET_SECS).await;
}

#[tokio::test]
async fn reset_as_http_date_is_read() {
    throttled_waits("reset-http-date", FAULT_RESET_SECS).await;
}

#[tokio::test]
async fn reset_as_rfc3339_is_read() {
    throttled_waits("reset-rfc3339", FAULT_RESET_SECS).await;
}

#[tokio::test]
async fn subscription_4031_fails_after_one_call_and_is_never_retried() {
    let (sim, _engine, mut ev, db) = run_fault("4031", HOUR, settings()).await;
    let s = ev
        .wait_for("4031", Duration::from_secs(10), |s| {
            s.state == SessionState::Failed
        })
        .await;
    assert_eq!(kind(&s), Some(VerdictKind::SubscriptionRequired));
    assert!(s.retry_at.is_none());
    ev.drain_for(Duration::from_secs(3)).await;
    assert_eq!(calls(&sim, &db), 1);
}

#[tokio::test]
async fn drop_early_is_recorded_with_time_left_then_basic_recovers() {
    // 8 s tokens revoked after 2 s; the Bearer refresh comes half-way, at 4 s.
    let (sim, _engine, mut ev, _db) =
        run_fault("drop-early", Duration::from_secs(8), settings()).await;
    let s = ev
        .wait_for("drop-early", Duration::from_secs(12), |s| {
            s.state == SessionState::Valid && s.tokens_obtained >= 2
        })
        .await;
    assert!(s.token.is_some());

    let journal = ev.journal_of("drop-early");
    let refused = journal
        .iter()
        .find(|j| j.call == CallKind::Refresh)
        .expect("a Bearer refresh was journalled");
    assert_eq!(refused.status, Some(401));
    assert_eq!(refused.verdict.kind, VerdictKind::TokenRejected);
    let detail = refused.verdict.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("left before its exp"), "{detail}");
    let fallback = journal
        .iter()
        .find(|j| j.rule == RULE_FALLBACK)
        .expect("the Basic fallback was journalled");
    assert_eq!(fallback.call, CallKind::Authorize);
    assert!(fallback.verdict.is_ok());
    assert!(fallback.at >= refused.at);

    let stats = sim.stats();
    assert_eq!(stats.authorize_bearer, 1, "one refused refresh");
    assert_eq!(stats.authorize_basic, 2, "start, then one fallback");
    assert!(
        s.token
            .as_ref()
            .is_some_and(|t| t.expiry.expires_at - t.obtained_at > TimeDelta::seconds(4))
    );
}
