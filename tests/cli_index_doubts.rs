//! The quick path of `actsm token` / `exec` gives the answer the full parse of the
//! connections file gives, whatever ran before: cases found by a tester.

#[cfg(unix)]
use std::io::Write as _;
#[cfg(unix)]
use std::process::Stdio;

mod cli_common;

use cli_common::{Fixture, stderr, stdout};

fn two_connections(base: &str, ca_file_line: &str) -> String {
    format!(
        r#"
[[connection]]
name = "acme"
url = "{base}"
database = "Acme_Healthy"
user = "Jane Doe"
password_env = "ACTSM_TEST_ACME_PW"

[[connection]]
name = "other"
url = "{base}"
database = "Acme_Healthy"
user = "Jane Doe"
password_env = "ACTSM_TEST_ACME_PW"
{ca_file_line}
"#
    )
}

/// Runs `actsm ARGS` with `input` on its stdin.
#[cfg(unix)]
async fn with_stdin(fx: &Fixture, args: &[&str], input: String) -> std::process::Output {
    let mut command = fx.command(args);
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("actsm starts");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).expect("write config");
        drop(stdin);
        child.wait_with_output().expect("actsm runs")
    })
    .await
    .expect("join")
}

/// `--config /dev/stdin` (or `<(sops -d file)`, a FIFO): the quick path reads the pipe to
/// its end to hash it, finds no index, and the full path then reads an empty file.
/// `actsm list` reads the same pipe fine.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_connections_file_on_a_pipe_works_for_token_as_for_list() {
    let fx = Fixture::new().await;
    let text = two_connections(&fx.sim.base_url(), "");

    let list = with_stdin(&fx, &["list", "--config", "/dev/stdin"], text.clone()).await;
    assert_eq!(list.status.code(), Some(0), "list: {}", stderr(&list));
    assert!(stdout(&list).contains("acme"));

    let token = with_stdin(
        &fx,
        &["token", "acme", "--config", "/dev/stdin"],
        text.clone(),
    )
    .await;
    assert_eq!(
        token.status.code(),
        Some(0),
        "token from a pipe: {}",
        stderr(&token)
    );

    let exec = with_stdin(
        &fx,
        &["exec", "acme", "--config", "/dev/stdin", "--", "true"],
        text,
    )
    .await;
    assert_eq!(
        exec.status.code(),
        Some(0),
        "exec from a pipe: {}",
        stderr(&exec)
    );
}

/// The full parse reads every connection's `ca_file`; the index is keyed by the bytes of
/// the connections file only. Once `other`'s CA file is gone the full parse refuses the
/// file (exit 3), but with an index `token acme` (cached and --fresh) and `exec` still
/// answer, and without one they fail: the answer depends on what ran before.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_ca_file_fails_token_as_it_fails_list() {
    let fx = Fixture::new().await;
    let ca = fx.dir.path().join("ca.pem");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/act_transport/ca.cert.pem"
        ),
        &ca,
    )
    .expect("copy CA");
    fx.write_config(&two_connections(
        &fx.sim.base_url(),
        r#"ca_file = "ca.pem""#,
    ));

    let first = fx.actsm(&["token", "acme"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    std::fs::remove_file(&ca).expect("remove CA");

    let list = fx.actsm(&["list"]).await;
    assert_eq!(list.status.code(), Some(3), "list: {}", stderr(&list));

    for args in [
        &["token", "acme"][..],
        &["token", "acme", "--fresh"][..],
        &["exec", "acme", "--", "true"][..],
    ] {
        let out = fx.actsm(args).await;
        assert_eq!(
            out.status.code(),
            list.status.code(),
            "{args:?} answered although the file no longer loads: {}",
            stdout(&out)
        );
    }
}

/// The cached quick path trusts the index's url/database/user without any check: a
/// damaged index line that still decodes serves another login's token, and nothing
/// repairs it because the full path never runs again for these bytes.
#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_index_line_never_serves_another_users_token() {
    let mut config = actsm::sim::SimConfig::demo();
    config
        .users
        .push(actsm::sim::SimUser::new("Acme_Healthy", "John Roe", "demo"));
    let sim = actsm::sim::SimServer::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("sim");
    let fx = Fixture {
        sim,
        dir: tempfile::tempdir().expect("temp dir"),
    };
    let text = two_connections(&fx.sim.base_url(), "").replacen("Jane Doe", "John Roe", 1);
    fx.write_config(&text);
    for name in ["acme", "other"] {
        let out = fx.actsm(&["token", name]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let dir = fx.state_dir().join("cache").join("index");
    let index = std::fs::read_dir(&dir)
        .expect("index dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("an index");
    let damaged =
        std::fs::read_to_string(&index)
            .expect("index")
            .replacen("\"John Roe\"", "\"Jane Doe\"", 1);
    std::fs::write(&index, damaged).expect("damage the index");

    let out = fx.actsm(&["token", "acme", "--format", "json"]).await;
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(
        json["user"], "John Roe",
        "served the token of another login"
    );
}
