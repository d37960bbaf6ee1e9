//! The session engine against the built-in simulator and a few hostile
//! listeners, all on 127.0.0.1.

use std::time::Duration;

use actsm::act::{CallKind, VerdictKind};
use actsm::config::{SecretSource, Settings};
use actsm::session::{Command, SessionSnapshot, SessionState, authorize_once};
use actsm::sim::{Scenario, SimUser};
use tokio::time::Instant;

mod engine_common;

use engine_common::*;

#[test]
fn idle_snapshot_is_empty() {
    let s = SessionSnapshot::idle("acme");
    assert_eq!(s.name, "acme");
    assert_eq!(s.state, SessionState::Idle);
    assert!(s.token.is_none() && s.next_refresh_at.is_none() && s.retry_at.is_none());
    assert_eq!((s.failures, s.tokens_obtained), (0, 0));
}

#[tokio::test]
async fn healthy_session_becomes_valid_with_a_planned_refresh() {
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let (_engine, mut ev) = start(
        vec![connection("acme", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );

    let s = ev
        .wait_for("acme", Duration::from_secs(5), |s| {
            s.state == SessionState::Valid
        })
        .await;
    let token = s.token.as_ref().expect("a valid session holds a token");
    let next = s.next_refresh_at.expect("a refresh is planned");
    assert!(next < token.expiry.expires_at);
    // 65-minute sim token: refresh 5 minutes ahead, jitter at most 30 s later.
    let lead = token.expiry.expires_at - next;
    assert!(lead <= chrono::TimeDelta::seconds(300) && lead >= chrono::TimeDelta::seconds(270));
    assert_eq!(s.tokens_obtained, 1);
    assert_eq!(s.failures, 0);
    assert!(
        s.last_verdict
            .as_ref()
            .is_some_and(actsm::act::Verdict::is_ok)
    );
    assert_eq!(
        ev.states("acme"),
        [SessionState::Authorizing, SessionState::Valid]
    );

    let journal = ev.journal_of("acme");
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].call, CallKind::Authorize);
    assert_eq!(journal[0].status, Some(200));
    assert_eq!(journal[0].rule, "autostart");
    assert_eq!(sim.stats().authorize_basic, 1);
}

#[tokio::test]
async fn short_tokens_are_refreshed_with_bearer() {
    let user = SimUser::new(DB, USER, PASSWORD).with_lifetime(Duration::from_secs(4));
    let sim = sim_with(vec![user]).await;
    let (_engine, mut ev) = start(
        vec![connection("fast", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );

    ev.wait_for("fast", Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    let s = ev
        .wait_for("fast", Duration::from_secs(6), |s| {
            s.state == SessionState::Valid && s.tokens_obtained >= 2
        })
        .await;
    assert!(s.token.is_some());

    let stats = sim.stats();
    assert_eq!(stats.authorize_basic, 1);
    assert!(stats.authorize_bearer >= 1);
    let refresh = ev
        .journal_of("fast")
        .into_iter()
        .find(|j| j.call == CallKind::Refresh)
        .expect("a refresh was journalled");
    assert_eq!(refresh.rule, "refresh at T-2s");
    assert!(refresh.verdict.is_ok());
}

#[tokio::test]
async fn wrong_password_fails_once_and_stays_failed() {
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let (_engine, mut ev) = start(
        vec![connection("carol", &sim.base_url(), DB, "wrong")],
        settings(),
    );

    let s = ev
        .wait_for("carol", Duration::from_secs(5), |s| {
            s.state == SessionState::Failed
        })
        .await;
    assert_eq!(
        s.last_verdict.as_ref().map(|v| v.kind),
        Some(VerdictKind::Unauthorized)
    );
    assert!(s.token.is_none() && s.retry_at.is_none());

    ev.drain_for(Duration::from_secs(3)).await;
    assert_eq!(
        sim.stats().authorize_basic,
        1,
        "a refused password is never retried"
    );
    assert_eq!(ev.journal_of("carol").len(), 1);
    assert_eq!(ev.states("carol").last(), Some(&SessionState::Failed));
}

#[tokio::test]
async fn subscription_and_api_access_refusals_fail_after_one_request() {
    let sim = sim_with(vec![
        SimUser::new("Dave_4031", USER, PASSWORD).with_scenario(Scenario::Subscription4031),
        SimUser::new("Erin_4032", USER, PASSWORD).with_scenario(Scenario::ApiAccess4032),
    ])
    .await;
    let url = sim.base_url();
    let (_engine, mut ev) = start(
        vec![
            connection("dave", &url, "Dave_4031", PASSWORD),
            connection("erin", &url, "Erin_4032", PASSWORD),
        ],
        settings(),
    );

    let dave = ev
        .wait_for("dave", Duration::from_secs(5), |s| {
            s.state == SessionState::Failed
        })
        .await;
    let erin = ev
        .wait_for("erin", Duration::from_secs(5), |s| {
            s.state == SessionState::Failed
        })
        .await;
    assert_eq!(
        dave.last_verdict.map(|v| v.kind),
        Some(VerdictKind::SubscriptionRequired)
    );
    assert_eq!(
        erin.last_verdict.map(|v| v.kind),
        Some(VerdictKind::ApiAccessRequired)
    );

    ev.drain_for(Duration::from_secs(3)).await;
    let stats = sim.stats();
    assert_eq!(stats.per_database.get("Dave_4031"), Some(&1));
    assert_eq!(stats.per_database.get("Erin_4032"), Some(&1));
}

#[tokio::test]
async fn closed_port_backs_off_with_growing_delays() {
    let addr = {
        let listener = std::net::TcpListener::bind(loopback()).expect("bind");
        listener.local_addr().expect("addr")
    };
    let url = format!("http://{addr}/act.web.api");
    let (_engine, mut ev) = start(vec![connection("gone", &url, DB, PASSWORD)], settings());

    let mut delays = Vec::new();
    for failures in 1..=3 {
        let s = ev
            .wait_for("gone", Duration::from_secs(10), |s| {
                s.state == SessionState::Backoff && s.failures == failures
            })
            .await;
        let retry_at = s.retry_at.expect("backoff shows when it retries");
        let seen = ev
            .journal_of("gone")
            .last()
            .expect("the attempt was journalled")
            .at;
        delays.push((retry_at - seen).as_seconds_f64());
        assert_eq!(s.last_verdict.map(|v| v.kind), Some(VerdictKind::Refused));
    }
    // 2 s, 4 s, 8 s, each ±20%.
    for (delay, base) in delays.iter().zip([2.0, 4.0, 8.0]) {
        assert!(
            *delay >= base * 0.8 - 0.05 && *delay <= base * 1.2 + 0.25,
            "{delays:?}"
        );
    }

    let journal = ev.journal_of("gone");
    assert_eq!(journal.len(), 3, "one attempt per backoff step");
    assert!(
        journal[1].rule.starts_with("retry after backoff "),
        "{}",
        journal[1].rule
    );
    assert!(
        journal
            .iter()
            .all(|j| j.call == CallKind::Authorize && j.status.is_none())
    );
}

#[tokio::test]
async fn stop_forgets_the_token_and_makes_no_more_requests() {
    let user = SimUser::new(DB, USER, PASSWORD).with_lifetime(Duration::from_secs(4));
    let sim = sim_with(vec![user]).await;
    let (engine, mut ev) = start(
        vec![connection("acme", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );

    ev.wait_for("acme", Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    engine.send(Command::Stop("acme".into()));
    let s = ev
        .wait_for("acme", Duration::from_secs(2), |s| {
            s.state == SessionState::Stopped
        })
        .await;
    assert!(s.token.is_none() && s.next_refresh_at.is_none() && s.retry_at.is_none());

    // Without the stop, a refresh would come after about 2 s.
    ev.drain_for(Duration::from_secs(4)).await;
    assert_eq!(sim.stats().total, 1);
    assert_eq!(ev.states("acme").last(), Some(&SessionState::Stopped));

    // Start again: a fresh Basic authorize.
    engine.send(Command::Start("acme".into()));
    ev.wait_for("acme", Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    assert_eq!(sim.stats().authorize_basic, 2);
    assert_eq!(
        ev.journal_of("acme").last().map(|j| j.rule.as_str()),
        Some("start (user asked)")
    );
}

#[tokio::test]
async fn a_hung_server_does_not_delay_another_connection() {
    // Accepts connections and never answers.
    let hung = tokio::net::TcpListener::bind(loopback())
        .await
        .expect("bind");
    let hung_addr = hung.local_addr().expect("addr");
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hung.accept().await {
            held.push(socket);
        }
    });

    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let conns = vec![
        connection(
            "hung",
            &format!("http://{hung_addr}/act.web.api"),
            DB,
            PASSWORD,
        ),
        connection("acme", &sim.base_url(), DB, PASSWORD),
    ];
    let begun = Instant::now();
    let (engine, mut ev) = start(
        conns,
        Settings {
            timeout: Duration::from_secs(10),
            ..settings()
        },
    );

    ev.wait_for("acme", Duration::from_secs(3), |s| {
        s.state == SessionState::Valid
    })
    .await;
    assert!(begun.elapsed() < Duration::from_secs(3));
    assert_eq!(ev.states("hung"), [SessionState::Authorizing]);

    // Stop abandons the hung call at once.
    engine.send(Command::Stop("hung".into()));
    ev.wait_for("hung", Duration::from_secs(1), |s| {
        s.state == SessionState::Stopped
    })
    .await;
    holder.abort();
}

#[tokio::test]
async fn refused_bearer_falls_back_to_basic_once() {
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
    // As a server restart with a new key would: the held token is now worthless.
    sim.revoke_all();

    let s = ev
        .wait_for("acme", Duration::from_secs(6), |s| {
            s.state == SessionState::Valid && s.tokens_obtained == 2
        })
        .await;
    assert!(s.token.is_some());

    let journal = ev.journal_of("acme");
    // The refused refresh records that the token still had time left.
    let rejected = &journal[1].rule;
    assert!(
        rejected.starts_with("refresh at T-2s → token rejected with ")
            && rejected.ends_with("s left (Bearer 401)"),
        "{rejected}"
    );
    let calls: Vec<_> = journal
        .iter()
        .map(|j| (j.call, j.verdict.kind, j.rule.as_str()))
        .collect();
    assert_eq!(
        &calls[..3],
        [
            (CallKind::Authorize, VerdictKind::Ok, "autostart"),
            (CallKind::Refresh, VerdictKind::TokenRejected, rejected),
            (
                CallKind::Authorize,
                VerdictKind::Ok,
                "fallback to Basic after Bearer 401"
            ),
        ]
    );
    let stats = sim.stats();
    assert_eq!(stats.authorize_basic, 2);
    assert!(stats.authorize_bearer >= 1);
}

#[tokio::test]
async fn refused_fallback_fails_without_further_tries() {
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

    let s = ev
        .wait_for("acme", Duration::from_secs(6), |s| {
            s.state == SessionState::Failed
        })
        .await;
    assert_eq!(
        s.last_verdict.map(|v| v.kind),
        Some(VerdictKind::ApiAccessRequired)
    );
    assert!(s.token.is_none());

    ev.drain_for(Duration::from_secs(3)).await;
    let stats = sim.stats();
    assert_eq!((stats.authorize_basic, stats.authorize_bearer), (2, 1));
}

#[tokio::test]
async fn manual_refresh_uses_bearer_and_start_on_valid_is_a_no_op() {
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let mut conn = connection("acme", &sim.base_url(), DB, PASSWORD);
    conn.autostart = false;
    let (engine, mut ev) = start(vec![conn], settings());

    // Nothing happens until asked; unknown names are ignored.
    engine.send(Command::Start("nope".into()));
    ev.drain_for(Duration::from_millis(300)).await;
    assert!(ev.snapshots.is_empty());
    assert_eq!(sim.stats().total, 0);

    engine.send(Command::Start("acme".into()));
    ev.wait_for("acme", Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    engine.send(Command::Start("acme".into()));
    let again = ev.wait_for("acme", Duration::from_secs(2), |_| true).await;
    assert_eq!(again.state, SessionState::Valid);
    assert_eq!(sim.stats().total, 1);

    engine.send(Command::RefreshNow("acme".into()));
    let s = ev
        .wait_for("acme", Duration::from_secs(5), |s| {
            s.state == SessionState::Valid && s.tokens_obtained == 2
        })
        .await;
    assert!(s.token.is_some());
    let last = ev
        .journal_of("acme")
        .last()
        .copied()
        .cloned()
        .expect("journalled");
    assert_eq!(
        (last.call, last.rule.as_str()),
        (CallKind::Refresh, "manual refresh")
    );
    assert_eq!(sim.stats().authorize_bearer, 1);
}

#[tokio::test]
async fn secret_failure_fails_with_a_secret_verdict() {
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let mut conn = connection("env", &sim.base_url(), DB, PASSWORD);
    conn.secret = SecretSource::Env("ACTSM_ENGINE_TEST_SURELY_UNSET_VARIABLE".into());
    let (_engine, mut ev) = start(vec![conn], settings());

    let s = ev
        .wait_for("env", Duration::from_secs(5), |s| {
            s.state == SessionState::Failed
        })
        .await;
    let verdict = s.last_verdict.expect("a verdict");
    assert_eq!(verdict.kind, VerdictKind::Secret);
    assert!(
        verdict
            .detail
            .is_some_and(|d| d.contains("ACTSM_ENGINE_TEST_SURELY_UNSET_VARIABLE"))
    );
    assert_eq!(sim.stats().total, 0);
}

#[tokio::test]
async fn throttled_session_waits_for_the_reset() {
    let user = SimUser::new(DB, USER, PASSWORD)
        .with_scenario(Scenario::Throttled)
        .with_rate_limit(5);
    let sim = sim_with(vec![user]).await;
    let (_engine, mut ev) = start(
        vec![connection("busy", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );

    let s = ev
        .wait_for("busy", Duration::from_secs(5), |s| {
            s.state == SessionState::Backoff
        })
        .await;
    assert_eq!(s.last_verdict.map(|v| v.kind), Some(VerdictKind::Throttled));
    // The simulator's throttled answer says `Retry-After: 30`.
    let wait = s.retry_at.expect("retry planned") - chrono::Utc::now();
    assert!(
        wait >= chrono::TimeDelta::seconds(27) && wait <= chrono::TimeDelta::seconds(31),
        "{wait}"
    );

    ev.drain_for(Duration::from_secs(2)).await;
    assert_eq!(sim.stats().total, 1, "no hammering while throttled");
    assert_eq!(ev.states("busy").last(), Some(&SessionState::Backoff));
}

#[tokio::test]
async fn exhausted_meter_holds_the_next_refresh_until_the_reset() {
    // Two calls a minute, 4-second tokens: the refresh at 2 s uses the last call.
    let user = SimUser::new(DB, USER, PASSWORD)
        .with_lifetime(Duration::from_secs(4))
        .with_rate_limit(2);
    let sim = sim_with(vec![user]).await;
    let (_engine, mut ev) = start(
        vec![connection("frank", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );

    let s = ev
        .wait_for("frank", Duration::from_secs(8), |s| {
            s.state == SessionState::Valid && s.tokens_obtained == 2
        })
        .await;
    let meter = s.meter.expect("the simulator reports a meter");
    assert_eq!(meter.remaining, Some(0));
    let reset = meter.reset_at.expect("with a reset");
    let held = s.next_refresh_at.expect("a refresh is planned");
    assert_eq!(held, reset, "the refresh waits for the window to reset");
    assert!(held > s.token.as_ref().expect("token").expiry.expires_at);

    // The token runs out while held: it is dropped, and the session waits for the reset.
    let s = ev
        .wait_for("frank", Duration::from_secs(6), |s| s.token.is_none())
        .await;
    assert_eq!(s.state, SessionState::Backoff);
    assert_eq!(s.retry_at, Some(reset));
    ev.drain_for(Duration::from_secs(1)).await;
    assert_eq!(sim.stats().total, 2);
}

#[tokio::test]
async fn dropping_the_engine_stops_everything() {
    let user = SimUser::new(DB, USER, PASSWORD).with_lifetime(Duration::from_secs(4));
    let sim = sim_with(vec![user]).await;
    let (engine, mut ev) = start(
        vec![connection("acme", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );

    ev.wait_for("acme", Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    drop(engine);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(sim.stats().total, 1);
}

#[tokio::test]
async fn server_clock_skew_does_not_shift_the_refresh() {
    for offset in [600, -600] {
        let user = SimUser::new(DB, USER, PASSWORD).with_lifetime(Duration::from_secs(4));
        let sim = sim_skewed(vec![user], offset).await;
        let (_engine, mut ev) = start(
            vec![connection("skew", &sim.base_url(), DB, PASSWORD)],
            settings(),
        );

        let s = ev
            .wait_for("skew", Duration::from_secs(5), |s| {
                s.state == SessionState::Valid
            })
            .await;
        let next = s.next_refresh_at.expect("planned") - chrono::Utc::now();
        assert!(
            next <= chrono::TimeDelta::seconds(3),
            "offset {offset}: refresh in {next}"
        );
        assert!(
            next >= chrono::TimeDelta::zero(),
            "offset {offset}: refresh in {next}"
        );

        // One refresh about 2 s in, not one a second (server behind) nor none (ahead).
        ev.drain_for(Duration::from_secs(3)).await;
        let bearer = sim.stats().authorize_bearer;
        assert!(
            (1..=2).contains(&bearer),
            "offset {offset}: {bearer} refreshes"
        );
        assert_eq!(
            ev.states("skew").last(),
            Some(&SessionState::Valid),
            "offset {offset}"
        );
    }
}

#[tokio::test]
async fn authorize_once_gets_a_token_or_a_verdict() {
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let client = actsm::act::ActClient::new(&actsm::act::ClientOptions::default()).expect("client");
    let settings = settings();

    let conn = connection("acme", &sim.base_url(), DB, PASSWORD);
    let (entry, result) = authorize_once(&client, &conn, &settings).await;
    let status = result.expect("healthy login gets a token");
    assert!(status.expiry.expires_at > chrono::Utc::now());
    let entry = entry.expect("an exchange happened");
    assert_eq!((entry.call, entry.status), (CallKind::Authorize, Some(200)));
    assert_eq!(entry.rule, "one-shot (command line)");
    assert_eq!(entry.connection, "acme");

    let wrong = connection("acme", &sim.base_url(), DB, "nope");
    let (entry, result) = authorize_once(&client, &wrong, &settings).await;
    assert_eq!(
        result.map(|_| ()).unwrap_err().kind,
        VerdictKind::Unauthorized
    );
    assert_eq!(entry.map(|e| e.status), Some(Some(401)));

    let mut unset = conn.clone();
    unset.secret = SecretSource::Env("ACTSM_ENGINE_TEST_ALSO_UNSET".into());
    let (entry, result) = authorize_once(&client, &unset, &settings).await;
    assert!(entry.is_none());
    assert_eq!(result.map(|_| ()).unwrap_err().kind, VerdictKind::Secret);
    assert_eq!(sim.stats().authorize_basic, 2);
}

#[tokio::test]
async fn server_faults_back_off_and_recover() {
    let sim = sim_with(vec![
        SimUser::new(DB, USER, PASSWORD).with_scenario(Scenario::ServerError),
        SimUser::new("Login_Page", USER, PASSWORD).with_scenario(Scenario::NotAToken),
    ])
    .await;
    let url = sim.base_url();
    let (_engine, mut ev) = start(
        vec![
            connection("five", &url, DB, PASSWORD),
            connection("page", &url, "Login_Page", PASSWORD),
        ],
        settings(),
    );

    let five = ev
        .wait_for("five", Duration::from_secs(5), |s| {
            s.state == SessionState::Backoff
        })
        .await;
    let page = ev
        .wait_for("page", Duration::from_secs(5), |s| {
            s.state == SessionState::Backoff
        })
        .await;
    assert_eq!(
        five.last_verdict.map(|v| v.kind),
        Some(VerdictKind::ServerError)
    );
    assert_eq!(
        page.last_verdict.map(|v| v.kind),
        Some(VerdictKind::NotAToken)
    );
    assert!(five.retry_at.is_some() && page.retry_at.is_some());

    // The server heals; the next retry (about 2 s later) gets a token.
    sim.set_scenario(DB, USER, Scenario::Healthy);
    let s = ev
        .wait_for("five", Duration::from_secs(5), |s| {
            s.state == SessionState::Valid
        })
        .await;
    assert_eq!((s.failures, s.tokens_obtained), (0, 1));
    let last = ev
        .journal_of("five")
        .last()
        .copied()
        .cloned()
        .expect("journalled");
    assert!(
        last.rule.starts_with("retry after backoff "),
        "{}",
        last.rule
    );
}
