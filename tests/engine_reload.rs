//! The engine applying a reloaded connections file, and passwords typed at
//! the prompt, against the built-in simulator on 127.0.0.1.

use std::time::Duration;

use actsm::act::{CallKind, VerdictKind};
use actsm::config::{Connection, SecretSource, Settings};
use actsm::secret::Secret;
use actsm::session::{Command, PROMPT_NEEDED, SessionSnapshot, SessionState, authorize_once};
use actsm::sim::{SimServer, SimUser};

const OTHER_DB: &str = "Beta";
const OTHER_USER: &str = "John Roe";

mod engine_common;

use engine_common::*;

fn prompted(name: &str, url: &str) -> Connection {
    Connection {
        secret: SecretSource::Prompt,
        ..connection(name, url, DB, "")
    }
}

fn fingerprint(s: &SessionSnapshot) -> String {
    s.token
        .as_ref()
        .expect("a valid session holds a token")
        .token
        .fingerprint()
}

fn requests_for(sim: &SimServer, database: &str) -> u64 {
    sim.stats().per_database.get(database).copied().unwrap_or(0)
}

#[tokio::test]
async fn reload_keeps_unchanged_sessions_and_restarts_changed_ones() {
    let sim = sim_with(vec![
        SimUser::new(DB, USER, PASSWORD),
        SimUser::new(OTHER_DB, USER, PASSWORD),
        SimUser::new(OTHER_DB, OTHER_USER, PASSWORD),
    ])
    .await;
    let url = sim.base_url();
    let keep = connection("keep", &url, DB, PASSWORD);
    let moved = connection("moved", &url, DB, PASSWORD);
    let mut idle = connection("idle", &url, DB, PASSWORD);
    idle.autostart = false;
    let (engine, mut ev) = start(vec![keep.clone(), moved.clone(), idle.clone()], settings());

    let before = ev
        .wait_for("keep", Duration::from_secs(5), |s| {
            s.state == SessionState::Valid
        })
        .await;
    ev.wait_for("moved", Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    assert_eq!(requests_for(&sim, DB), 2);

    // `keep` only gets a new note (a label); `moved` goes to another database;
    // `idle`, never started, gets another user.
    let mut relabeled = keep.clone();
    relabeled.note = Some("now with a note".into());
    let mut retargeted = moved.clone();
    retargeted.database = OTHER_DB.into();
    let mut idle_changed = idle.clone();
    idle_changed.user = OTHER_USER.into();
    idle_changed.database = OTHER_DB.into();
    engine.send(Command::Reload(config(
        vec![relabeled, retargeted, idle_changed],
        settings(),
    )));

    let restarted = ev
        .wait_for("moved", Duration::from_secs(5), |s| {
            s.state == SessionState::Valid
        })
        .await;
    assert_eq!(
        restarted.tokens_obtained, 1,
        "a fresh session, not the old one"
    );
    assert_ne!(fingerprint(&restarted), fingerprint(&before));
    let moved_journal = ev.journal_of("moved");
    let last = moved_journal.last().expect("journalled");
    assert_eq!(
        (last.call, last.rule.as_str()),
        (CallKind::Authorize, "restart: connection changed")
    );
    assert_eq!(requests_for(&sim, OTHER_DB), 1, "only `moved` authorized");

    // `keep` was left alone: no request, and asking it to start shows the same token.
    ev.drain_for(Duration::from_millis(300)).await;
    assert_eq!(requests_for(&sim, DB), 2, "no new authorize for `keep`");
    assert_eq!(ev.journal_of("keep").len(), 1);
    engine.send(Command::Start("keep".into()));
    let after = ev.wait_for("keep", Duration::from_secs(2), |_| true).await;
    assert_eq!(after.state, SessionState::Valid);
    assert_eq!(fingerprint(&after), fingerprint(&before));
    assert_eq!(after.tokens_obtained, 1);
    assert_eq!(requests_for(&sim, DB), 2);

    // The never-started one stays idle (and is said to be).
    assert_eq!(ev.states("idle"), [SessionState::Idle]);
    assert!(ev.journal_of("idle").is_empty());
}

#[tokio::test]
async fn reload_restarts_a_failed_session_whose_password_was_fixed() {
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let wrong = connection("carol", &sim.base_url(), DB, "wrong");
    let (engine, mut ev) = start(vec![wrong], settings());

    ev.wait_for("carol", Duration::from_secs(5), |s| {
        s.state == SessionState::Failed
    })
    .await;

    let fixed = connection("carol", &sim.base_url(), DB, PASSWORD);
    engine.send(Command::Reload(config(vec![fixed], settings())));
    let s = ev
        .wait_for("carol", Duration::from_secs(5), |s| {
            s.state == SessionState::Valid
        })
        .await;
    assert_eq!(s.failures, 0);
    assert_eq!(sim.stats().authorize_basic, 2);
}

#[tokio::test]
async fn reload_stops_removed_sessions_for_good() {
    // 4-second tokens: without the removal a refresh would come after about 2 s.
    let sim = sim_with(vec![
        SimUser::new(DB, USER, PASSWORD).with_lifetime(Duration::from_secs(4)),
        SimUser::new(OTHER_DB, USER, PASSWORD).with_lifetime(Duration::from_secs(4)),
    ])
    .await;
    let url = sim.base_url();
    let (engine, mut ev) = start(
        vec![
            connection("gone", &url, OTHER_DB, PASSWORD),
            connection("stays", &url, DB, PASSWORD),
        ],
        settings(),
    );
    for name in ["gone", "stays"] {
        ev.wait_for(name, Duration::from_secs(5), |s| {
            s.state == SessionState::Valid
        })
        .await;
    }

    engine.send(Command::Reload(config(
        vec![connection("stays", &url, DB, PASSWORD)],
        settings(),
    )));
    let last = ev
        .wait_for("gone", Duration::from_secs(2), |s| {
            s.state == SessionState::Stopped
        })
        .await;
    assert!(last.token.is_none());

    // `stays` keeps refreshing; `gone` makes no request and reports nothing more.
    ev.drain_for(Duration::from_secs(5)).await;
    assert_eq!(ev.journal_of("gone").len(), 1, "only its first authorize");
    assert_eq!(ev.states("gone").last(), Some(&SessionState::Stopped));
    assert!(
        ev.journal_of("stays")
            .iter()
            .any(|j| j.call == CallKind::Refresh),
        "the other session kept going"
    );
    assert_eq!(
        requests_for(&sim, OTHER_DB),
        1,
        "no request after the reload"
    );

    // A command for the removed name is ignored.
    engine.send(Command::Start("gone".into()));
    ev.drain_for(Duration::from_millis(300)).await;
    assert_eq!(ev.journal_of("gone").len(), 1);
}

#[tokio::test]
async fn reload_starts_added_autostart_connections_only() {
    let sim = sim_with(vec![
        SimUser::new(DB, USER, PASSWORD),
        SimUser::new(OTHER_DB, USER, PASSWORD),
    ])
    .await;
    let url = sim.base_url();
    let (engine, mut ev) = start(Vec::new(), settings());

    let mut manual = connection("manual", &url, OTHER_DB, PASSWORD);
    manual.autostart = false;
    engine.send(Command::Reload(config(
        vec![connection("auto", &url, DB, PASSWORD), manual],
        settings(),
    )));
    ev.wait_for("auto", Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    assert_eq!(
        ev.journal_of("auto").last().map(|j| j.rule.as_str()),
        Some("autostart")
    );

    ev.drain_for(Duration::from_millis(300)).await;
    assert!(ev.states("manual").is_empty());
    assert_eq!(requests_for(&sim, OTHER_DB), 0);

    // The added connection is known to the engine now.
    engine.send(Command::Start("manual".into()));
    ev.wait_for("manual", Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    assert_eq!(requests_for(&sim, OTHER_DB), 1);
}

#[tokio::test]
async fn new_settings_keep_tokens_and_apply_at_the_next_planned_call() {
    let user = SimUser::new(DB, USER, PASSWORD).with_lifetime(Duration::from_secs(4));
    let sim = sim_with(vec![user]).await;
    let conn = connection("acme", &sim.base_url(), DB, PASSWORD);
    let (engine, mut ev) = start(vec![conn.clone()], settings());

    let before = ev
        .wait_for("acme", Duration::from_secs(5), |s| {
            s.state == SessionState::Valid
        })
        .await;
    // Planned with the old settings: 5 minutes ahead, capped at half of 4 s.
    let new_settings = Settings {
        refresh_before: Duration::from_secs(1),
        timeout: Duration::from_secs(3),
        ..settings()
    };
    engine.send(Command::Reload(config(vec![conn], new_settings)));

    // The token is still the same right after the reload.
    engine.send(Command::Start("acme".into()));
    let now = ev.wait_for("acme", Duration::from_secs(2), |_| true).await;
    assert_eq!(now.state, SessionState::Valid);
    assert_eq!(fingerprint(&now), fingerprint(&before));
    assert_eq!(now.next_refresh_at, before.next_refresh_at, "plan kept");

    ev.wait_for("acme", Duration::from_secs(8), |s| {
        s.state == SessionState::Valid && s.tokens_obtained >= 3
    })
    .await;
    let rules: Vec<(CallKind, String)> = ev
        .journal_of("acme")
        .iter()
        .map(|j| (j.call, j.rule.clone()))
        .collect();
    assert_eq!(
        &rules[..3],
        [
            (CallKind::Authorize, "autostart".to_owned()),
            (CallKind::Refresh, "refresh at T-2s".to_owned()),
            (CallKind::Refresh, "refresh at T-1s".to_owned()),
        ]
    );
    assert_eq!(sim.stats().authorize_basic, 1, "tokens were never dropped");
}

#[tokio::test]
async fn prompted_password_is_asked_for_then_used() {
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let (engine, mut ev) = start(vec![prompted("typed", &sim.base_url())], settings());

    ev.wait_secret_needed("typed", 1, Duration::from_secs(5))
        .await;
    // The failed snapshot comes first, so the row shows why when the prompt opens.
    let failed = ev
        .snapshots
        .last()
        .cloned()
        .expect("a snapshot before the request for the password");
    assert_eq!(
        (failed.name.as_str(), failed.state),
        ("typed", SessionState::Failed)
    );
    let verdict = failed.last_verdict.expect("a verdict");
    assert_eq!(verdict.kind, VerdictKind::Secret);
    assert_eq!(verdict.detail.as_deref(), Some(PROMPT_NEEDED));
    assert_eq!(
        PROMPT_NEEDED,
        "password needed: type it at the prompt (Enter)"
    );
    assert_eq!(sim.stats().total, 0, "no request without a password");
    assert!(ev.journal_of("typed").is_empty());

    engine.send(Command::ProvideSecret(
        "typed".into(),
        Secret::from(PASSWORD),
    ));
    let s = ev
        .wait_for("typed", Duration::from_secs(5), |s| {
            s.state == SessionState::Valid
        })
        .await;
    assert_eq!(s.failures, 0);
    assert_eq!(
        ev.journal_of("typed").last().map(|j| j.rule.as_str()),
        Some("start (password typed)")
    );
    assert_eq!(sim.stats().authorize_basic, 1);

    // The password stays in memory: a stop and a start need no prompt.
    engine.send(Command::Stop("typed".into()));
    ev.wait_for("typed", Duration::from_secs(2), |s| {
        s.state == SessionState::Stopped
    })
    .await;
    engine.send(Command::Start("typed".into()));
    ev.wait_for("typed", Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    assert_eq!(ev.secret_needed, ["typed"], "asked once only");
    assert_eq!(sim.stats().authorize_basic, 2);
}

#[tokio::test]
async fn a_refused_typed_password_is_forgotten_and_asked_again() {
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let mut conn = prompted("typo", &sim.base_url());
    conn.autostart = false;
    let (engine, mut ev) = start(vec![conn], settings());

    engine.send(Command::Start("typo".into()));
    ev.wait_secret_needed("typo", 1, Duration::from_secs(5))
        .await;

    engine.send(Command::ProvideSecret("typo".into(), Secret::from("wrong")));
    let s = ev
        .wait_for("typo", Duration::from_secs(5), |s| {
            s.state == SessionState::Failed
                && s.last_verdict
                    .as_ref()
                    .is_some_and(|v| v.kind != VerdictKind::Secret)
        })
        .await;
    assert_eq!(
        s.last_verdict.map(|v| v.kind),
        Some(VerdictKind::Unauthorized)
    );
    assert_eq!(sim.stats().authorize_basic, 1);

    // The typo is not kept: the next start asks again and sends nothing.
    engine.send(Command::Start("typo".into()));
    ev.wait_secret_needed("typo", 2, Duration::from_secs(5))
        .await;
    ev.drain_for(Duration::from_millis(300)).await;
    assert_eq!(sim.stats().authorize_basic, 1);

    engine.send(Command::ProvideSecret(
        "typo".into(),
        Secret::from(PASSWORD),
    ));
    ev.wait_for("typo", Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;
    assert_eq!(sim.stats().authorize_basic, 2);
    assert_eq!(ev.secret_needed.len(), 2);
}

#[tokio::test]
async fn a_typed_password_is_dropped_when_its_connection_changes() {
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let conn = prompted("typed", &sim.base_url());
    let (engine, mut ev) = start(vec![conn.clone()], settings());

    ev.wait_secret_needed("typed", 1, Duration::from_secs(5))
        .await;
    engine.send(Command::ProvideSecret(
        "typed".into(),
        Secret::from(PASSWORD),
    ));
    ev.wait_for("typed", Duration::from_secs(5), |s| {
        s.state == SessionState::Valid
    })
    .await;

    // Another user now: the password typed for the old one must not be sent.
    let mut changed = conn;
    changed.user = OTHER_USER.into();
    engine.send(Command::Reload(config(vec![changed], settings())));
    ev.wait_secret_needed("typed", 2, Duration::from_secs(5))
        .await;
    ev.drain_for(Duration::from_millis(300)).await;
    assert_eq!(sim.stats().authorize_basic, 1);
    assert_eq!(ev.states("typed").last(), Some(&SessionState::Failed));
}

#[tokio::test]
async fn a_password_for_a_connection_without_prompt_is_not_kept() {
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let mut conn = connection("env", &sim.base_url(), DB, PASSWORD);
    conn.secret = SecretSource::Env("ACTSM_RELOAD_TEST_SURELY_UNSET_VARIABLE".into());
    conn.autostart = false;
    let (engine, mut ev) = start(vec![conn], settings());

    engine.send(Command::ProvideSecret("env".into(), Secret::from(PASSWORD)));
    engine.send(Command::ProvideSecret(
        "nope".into(),
        Secret::from(PASSWORD),
    ));
    ev.drain_for(Duration::from_millis(300)).await;
    assert!(ev.snapshots.is_empty(), "nothing started");
    assert_eq!(sim.stats().total, 0);
}

#[tokio::test]
async fn authorize_once_explains_that_scripts_cannot_prompt() {
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let client = actsm::act::ActClient::new(&actsm::act::ClientOptions::default()).expect("client");
    let conn = prompted("typed", &sim.base_url());

    let (entry, result) = authorize_once(&client, &conn, &settings()).await;
    assert!(entry.is_none());
    let verdict = result.map(|_| ()).expect_err("no password to send");
    assert_eq!(verdict.kind, VerdictKind::Secret);
    assert_eq!(
        verdict.detail.as_deref(),
        Some(
            "connection 'typed' uses password_prompt, which only the TUI can ask for; \
             use password_env, password_command or keyring for scripts"
        )
    );
    assert_eq!(sim.stats().total, 0);
}

#[test]
fn provide_secret_does_not_show_the_password() {
    let cmd = Command::ProvideSecret("typed".into(), Secret::from(PASSWORD));
    let shown = format!("{cmd:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(shown.contains("typed"));
}
