//! The refresh policy as the journal tells it: every path names the rule that
//! acted, with its numbers; a rate-limit hold keeps manual calls from the
//! server unless forced; the server's clock offset reaches the snapshot.
//! Everything runs against the simulator on 127.0.0.1.

use std::time::Duration;

use actsm::act::{CallKind, VerdictKind};
use actsm::session::{Command, RULE_FORCED, SessionState, describe_skew};
use actsm::sim::{Scenario, SimUser};
use chrono::{TimeDelta, Utc};

mod engine_common;

use engine_common::*;

fn rules(ev: &Events, name: &str) -> Vec<String> {
    ev.journal_of(name).iter().map(|j| j.rule.clone()).collect()
}

#[tokio::test]
async fn throttle_holds_manual_calls_until_forced() {
    let user = SimUser::new(DB, USER, PASSWORD).with_scenario(Scenario::Throttled);
    let sim = sim_with(vec![user]).await;
    let (engine, mut ev) = start(
        vec![connection("busy", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );

    let s = ev
        .wait_for("busy", Duration::from_secs(5), |s| {
            s.state == SessionState::Backoff
        })
        .await;
    let held_until = s.held_until.expect("a 429 holds the session");
    assert!(s.is_held(Utc::now()));
    assert_eq!(s.retry_at, Some(held_until));
    // The simulator's 429 says `Retry-After: 30`.
    assert_eq!(
        rules(&ev, "busy"),
        ["autostart → held: Retry-After 30s (429)"]
    );

    // A manual refresh and a start while held: journalled, not sent.
    engine.send(Command::RefreshNow("busy".into()));
    engine.send(Command::Start("busy".into()));
    ev.drain_for(Duration::from_millis(500)).await;
    assert_eq!(sim.stats().total, 1, "no call while held");
    let journal = ev.journal_of("busy");
    assert_eq!(journal.len(), 3, "{:?}", rules(&ev, "busy"));
    for held in &journal[1..] {
        assert_eq!(held.status, None, "no exchange happened");
        assert_eq!(held.verdict.kind, VerdictKind::Throttled);
        assert!(
            held.rule
                .starts_with("manual refresh → held: rate limit resets in ")
                && held.rule.ends_with("s (press R to force)"),
            "{}",
            held.rule
        );
    }
    assert_eq!(journal[1].call, CallKind::Refresh);
    assert_eq!(journal[2].call, CallKind::Authorize);
    assert_eq!(ev.states("busy").last(), Some(&SessionState::Backoff));

    // Forced: the call goes, and says so.
    engine.send(Command::ForceRefresh("busy".into()));
    ev.wait_for("busy", Duration::from_secs(5), |s| {
        s.state == SessionState::Authorizing
    })
    .await;
    ev.wait_for("busy", Duration::from_secs(5), |s| {
        s.state == SessionState::Backoff
    })
    .await;
    ev.drain_for(Duration::from_millis(300)).await;
    assert_eq!(sim.stats().total, 2, "the forced call reached the server");
    let last = ev
        .journal_of("busy")
        .last()
        .copied()
        .cloned()
        .expect("entry");
    assert_eq!(last.status, Some(429));
    assert_eq!(
        last.rule,
        format!("{RULE_FORCED} → held: Retry-After 30s (429)")
    );
}

#[tokio::test]
async fn refusals_say_no_retry_and_who_must_act() {
    let user = SimUser::new(DB, USER, PASSWORD).with_scenario(Scenario::Subscription4031);
    let sim = sim_with(vec![user]).await;
    let (_engine, mut ev) = start(
        vec![connection("sub", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );
    let s = ev
        .wait_for("sub", Duration::from_secs(5), |s| {
            s.state == SessionState::Failed
        })
        .await;
    assert_eq!(s.held_until, None);
    assert_eq!(
        rules(&ev, "sub"),
        ["autostart → no retry: 4031 subscription needs the user"]
    );
}

#[tokio::test]
async fn server_faults_journal_the_backoff_and_the_failure_count() {
    let user = SimUser::new(DB, USER, PASSWORD).with_scenario(Scenario::ServerError);
    let sim = sim_with(vec![user]).await;
    let (_engine, mut ev) = start(
        vec![connection("flaky", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );
    // 2 s (±20%) then 4 s: the second failure is seen within 3 s.
    let s = ev
        .wait_for("flaky", Duration::from_secs(6), |s| {
            s.state == SessionState::Backoff && s.failures == 2
        })
        .await;
    assert_eq!(s.held_until, None, "a backoff is not a rate-limit hold");
    let rules = rules(&ev, "flaky");
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert!(
        rules[0].starts_with("autostart → retry after backoff ")
            && rules[0].ends_with("s (failure 1)"),
        "{rules:?}"
    );
    // The retry names the backoff that planned it, then the next one.
    let (cause, decision) = rules[1].split_once(" → ").expect("cause and decision");
    assert_eq!(cause, rules[0].split_once(" → ").expect("decision").1);
    assert!(
        decision.starts_with("retry after backoff ") && decision.ends_with("s (failure 2)"),
        "{decision}"
    );
}

#[tokio::test]
async fn refused_fallback_is_journalled_as_the_end() {
    let user = SimUser::new(DB, USER, PASSWORD).with_lifetime(Duration::from_secs(4));
    let sim = sim_with(vec![user]).await;
    let (_engine, mut ev) = start(
        vec![connection("acme", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );
    ev.wait_for("acme", Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    sim.revoke_all();
    sim.set_scenario(DB, USER, Scenario::ApiAccess4032);
    ev.wait_for("acme", Duration::from_secs(6), |s| {
        s.state == SessionState::Failed
    })
    .await;

    let rules = rules(&ev, "acme");
    assert_eq!(rules.len(), 3, "{rules:?}");
    assert_eq!(rules[0], "autostart");
    assert!(
        rules[1].starts_with("refresh at T-2s → token rejected with ")
            && rules[1].ends_with(" left (Bearer 401)"),
        "{rules:?}"
    );
    assert_eq!(
        rules[2],
        "fallback to Basic after Bearer 401 → no retry: 4032 API access needs the user"
    );
}

#[tokio::test]
async fn exhausted_meter_hold_is_journalled_and_holds_manual_refresh() {
    // Two calls a minute, 4-second tokens: the refresh at 2 s uses the last call.
    let user = SimUser::new(DB, USER, PASSWORD)
        .with_lifetime(Duration::from_secs(4))
        .with_rate_limit(2);
    let sim = sim_with(vec![user]).await;
    let (engine, mut ev) = start(
        vec![connection("frank", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );
    let s = ev
        .wait_for("frank", Duration::from_secs(8), |s| {
            s.state == SessionState::Valid && s.tokens_obtained == 2
        })
        .await;
    assert!(
        s.held_until.is_some(),
        "the exhausted meter holds the refresh"
    );
    assert_eq!(s.next_refresh_at, s.held_until);
    let rules_now = rules(&ev, "frank");
    assert!(
        rules_now[1].starts_with("refresh at T-2s → held: rate limit resets in "),
        "{rules_now:?}"
    );

    engine.send(Command::RefreshNow("frank".into()));
    ev.drain_for(Duration::from_millis(500)).await;
    assert_eq!(sim.stats().total, 2, "held: the server is not called");
    let last = rules(&ev, "frank").pop().expect("entry");
    assert!(last.ends_with("(press R to force)"), "{last}");
}

#[tokio::test]
async fn a_skewed_server_reports_its_offset() {
    let user = SimUser::new(DB, USER, PASSWORD);
    let sim = sim_skewed(vec![user], 600).await;
    let (_engine, mut ev) = start(
        vec![connection("ahead", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );
    let s = ev
        .wait_for("ahead", Duration::from_secs(5), |s| {
            s.state == SessionState::Valid
        })
        .await;
    let skew = s.skew.expect("the simulator sends a Date header");
    assert!(
        (skew - TimeDelta::seconds(600)).abs() <= TimeDelta::seconds(2),
        "{skew}"
    );
    assert!(s.skew_warning().is_some());
    assert_eq!(
        describe_skew(TimeDelta::seconds(600)),
        "server clock 10m ahead"
    );
    // In server time the fresh token has (nearly) its whole life left.
    let token = s.token.clone().expect("token");
    let left = token.expiry.expires_at - s.server_now(Utc::now());
    let lifetime = token.expiry.expires_at - token.expiry.issued_at;
    assert!(
        left > lifetime - TimeDelta::seconds(5),
        "{left} of {lifetime}"
    );
}

/// A server that answers 429 with `Retry-After: 0` is not asked every second:
/// throttled answers in a row back off like failures.
#[tokio::test]
async fn repeated_429_with_retry_after_zero_backs_off() {
    let (url, count) = canned_server(
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
            .to_owned(),
    )
    .await;
    let (_engine, mut ev) = start(vec![connection("storm", &url, DB, PASSWORD)], settings());
    ev.drain_for(Duration::from_secs(8)).await;
    // Waits of 1 s, 2 s, 4 s: calls at 0, 1, 3 and 7 s; a storm would be 8 or more.
    let calls = count.load(std::sync::atomic::Ordering::SeqCst);
    assert!((3..=4).contains(&calls), "{calls} calls in 8 s");
    let rules = rules(&ev, "storm");
    assert!(
        rules
            .iter()
            .any(|r| r.contains("backing off to 4s after 3 throttled answers")),
        "{rules:#?}"
    );
}

/// Tokens that last seconds are refreshed no more often than
/// `min_refresh_interval`, and the journal says why.
#[tokio::test]
async fn short_tokens_are_refreshed_no_faster_than_the_minimum_interval() {
    let user = SimUser::new(DB, USER, PASSWORD).with_lifetime(Duration::from_secs(3));
    let sim = sim_with(vec![user]).await;
    let settings = actsm::config::Settings {
        min_refresh_interval: Duration::from_secs(30),
        ..settings()
    };
    let (_engine, mut ev) = start(
        vec![connection("brief", &sim.base_url(), DB, PASSWORD)],
        settings,
    );
    let s = ev
        .wait_for("brief", Duration::from_secs(5), |s| {
            s.state == SessionState::Valid
        })
        .await;
    let next = s.next_refresh_at.expect("a refresh is planned");
    assert!(
        next - Utc::now() > TimeDelta::seconds(25),
        "planned at {next}"
    );
    ev.drain_for(Duration::from_secs(6)).await;
    assert_eq!(sim.stats().total, 1, "one authorize, no refresh loop");
    let rules = rules(&ev, "brief");
    assert!(
        rules[0].contains("next refresh kept 30s away (min_refresh_interval)"),
        "{rules:#?}"
    );
}
