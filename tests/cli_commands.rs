//! The command line as a user runs it: `actsm token` and `actsm status`
//! against a simulator started by the test, on loopback only.

mod cli_common;

use cli_common::{Fixture, closed_port_url, read_all_files, stderr, stdout};

impl Fixture {
    async fn start() -> Self {
        let fixture = Self::new().await;
        fixture.write_config(&fixture.default_config());
        fixture
    }

    fn default_config(&self) -> String {
        let base = self.sim.base_url();
        let closed = closed_port_url();
        format!(
            r#"
[settings]
timeout = "3s"

[[connection]]
name = "acme"
url = "{base}"
database = "Acme_Healthy"
user = "Jane Doe"
password_env = "ACTSM_TEST_ACME_PW"

[[connection]]
name = "typo"
url = "{base}"
database = "Acme_Healthy"
user = "Jane Doe"
password = "Sup3r-Secret-Wrong-Password"

[[connection]]
name = "erin"
url = "{base}"
database = "Erin_4032"
user = "Erin"
password_env = "ACTSM_TEST_ACME_PW"

[[connection]]
name = "dead"
url = "{closed}"
database = "Nobody"
user = "x"
password_env = "ACTSM_TEST_ACME_PW"
"#
        )
    }
}

fn is_jwt(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty())
}

#[tokio::test(flavor = "multi_thread")]
async fn token_prints_only_a_jwt_and_exits_zero() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["token", "acme"]).await;

    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.ends_with('\n'));
    assert!(
        is_jwt(text.trim_end()),
        "stdout is not a bare JWT: {text:?}"
    );
    assert_eq!(text.lines().count(), 1);
    assert_eq!(fx.sim.stats().authorize_basic, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_wrong_password_exits_4_with_meaning_on_stderr() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["token", "typo"]).await;

    assert_eq!(out.status.code(), Some(4));
    assert!(stdout(&out).is_empty(), "stdout must stay empty on failure");
    let err = stderr(&out);
    assert!(err.contains("typo"), "{err}");
    assert!(err.contains("401"), "{err}");
    assert!(err.contains("what to do"), "{err}");
    assert!(!err.contains("Sup3r-Secret-Wrong-Password"));
}

#[tokio::test(flavor = "multi_thread")]
async fn token_4032_exits_4_and_names_the_permission() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["token", "erin"]).await;

    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(err.contains("4032"), "{err}");
    assert!(err.contains("Web API Access"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn token_unreachable_server_exits_5() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["token", "dead"]).await;

    assert_eq!(out.status.code(), Some(5), "stderr: {}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).to_lowercase().contains("refused"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_unknown_connection_exits_3_and_lists_known_ones() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["token", "nope"]).await;

    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("'nope'"), "{err}");
    assert!(err.contains("acme"), "{err}");
    assert_eq!(
        fx.sim.stats().total,
        0,
        "no request for a connection that does not exist"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_with_a_broken_config_exits_3_and_keeps_the_file() {
    let fx = Fixture::start().await;
    let broken = "[[connection]]\nname = \"acme\"\nurl = \"http://127.0.0.1:1/act.web.api\"\n\
                  database = \"A\"\nuser = \"u\"\npasword_env = \"X\"\n";
    fx.write_config(broken);
    let out = fx.actsm(&["token", "acme"]).await;

    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("connections.toml"), "{err}");
    assert!(err.contains("pasword_env"), "{err}");
    assert_eq!(
        std::fs::read_to_string(fx.config_path()).expect("read"),
        broken
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn status_json_reports_every_connection_and_the_worst_exit_code() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["status", "--check", "--json"]).await;

    // The unreachable one is the worst code.
    assert_eq!(out.status.code(), Some(5), "stderr: {}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("stdout is JSON");
    let rows = doc["connections"].as_array().expect("connections array");
    assert_eq!(rows.len(), 4);

    let by_name = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("row {name}"))
            .clone()
    };
    let acme = by_name("acme");
    assert_eq!(acme["ok"], true);
    assert_eq!(acme["status"], 200);
    assert_eq!(acme["verdict"]["kind"], "ok");
    assert!(acme["expires_at"].as_str().is_some_and(|s| s.contains('T')));
    assert_eq!(acme["expiry_source"], "claim");

    let typo = by_name("typo");
    assert_eq!(typo["ok"], false);
    assert_eq!(typo["status"], 401);
    assert_eq!(typo["verdict"]["kind"], "unauthorized");

    assert_eq!(by_name("erin")["verdict"]["kind"], "api_access_required");
    assert_eq!(by_name("dead")["verdict"]["kind"], "refused");
    assert!(!stdout(&out).contains("Sup3r-Secret-Wrong-Password"));
}

#[tokio::test(flavor = "multi_thread")]
async fn status_of_healthy_names_exits_zero() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["status", "--check", "acme"]).await;

    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("acme"), "{text}");
    assert!(text.contains("ok"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_and_tokens_never_reach_the_log_file() {
    let fx = Fixture::start().await;
    let token_out = fx.actsm(&["token", "acme"]).await;
    assert_eq!(
        token_out.status.code(),
        Some(0),
        "stderr: {}",
        stderr(&token_out)
    );
    let token = stdout(&token_out).trim().to_owned();
    let _ = fx.actsm(&["token", "typo"]).await;
    let _ = fx.actsm(&["status", "--check", "--json"]).await;

    let logs = read_all_files(&fx.state_dir());
    assert!(
        logs.contains("acme"),
        "the log file was written at trace level: {logs:.300}"
    );
    assert!(!logs.contains(&token), "a token reached the log");
    assert!(
        !logs.contains("Sup3r-Secret-Wrong-Password"),
        "a password reached the log"
    );
    // The test password "demo" is too short to search for without false hits; its Basic
    // encoding is not.
    let basic = base64_basic("Jane Doe", "demo");
    assert!(!logs.contains(&basic), "a Basic credential reached the log");
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_connections_file_is_an_error_for_scripts() {
    let fx = Fixture::start().await;
    std::fs::remove_file(fx.config_path()).expect("remove");
    for args in [&["status"][..], &["list"][..], &["token", "acme"][..]] {
        let out = fx.actsm(args).await;
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("no connections file at"), "{err}");
        assert!(err.contains("connections.toml"), "{err}");
        assert!(stdout(&out).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unusable_log_folder_is_said_on_stderr_and_the_command_still_works() {
    let fx = Fixture::start().await;
    // A regular file where the state folder should be: nothing can be created under it.
    let blocker = fx.dir.path().join("not-a-folder");
    std::fs::write(&blocker, "x").expect("write");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_actsm"));
    command
        .args(["token", "acme"])
        .env("ACTSM_CONFIG", fx.config_path())
        .env("ACTSM_STATE_DIR", &blocker)
        .env("ACTSM_TEST_ACME_PW", "demo");
    let out = tokio::task::spawn_blocking(move || command.output().expect("runs"))
        .await
        .expect("join");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: no diagnostic log"),
        "{}",
        stderr(&out)
    );
    assert!(is_jwt(stdout(&out).trim_end()));
}
