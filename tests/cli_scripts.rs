//! The commands for scripts (`token`, `exec`, `status`, `check`, `system`,
//! `list`, `completions`, `prompt`, `logout`) and the token cache they share,
//! run as a user runs them against a simulator started by the test, on loopback.

use std::path::PathBuf;
use std::process::{Command, Output};

use actsm::cache::cache_key;
use actsm::sim::SimConfig;

mod cli_common;

use cli_common::{Fixture, closed_port_url, read_all_files, stderr, stdout};

impl Fixture {
    async fn start() -> Self {
        let fixture = Self::new().await;
        fixture.write_config(&fixture.config_with_user("Jane Doe"));
        fixture
    }

    fn config_with_user(&self, acme_user: &str) -> String {
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
user = "{acme_user}"
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

[[connection]]
name = "nopw"
url = "{base}"
database = "Acme_Healthy"
user = "Jane Doe"
password_env = "ACTSM_TEST_UNSET_VARIABLE"
"#
        )
    }

    fn cache_dir(&self) -> PathBuf {
        self.state_dir().join("cache")
    }

    fn acme_entry(&self, user: &str) -> PathBuf {
        let key = cache_key(&self.sim.base_url(), "Acme_Healthy", user);
        self.cache_dir().join(format!("{key}.json"))
    }

    async fn token(&self) -> String {
        let out = self.actsm(&["token", "acme"]).await;
        assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
        stdout(&out).trim().to_owned()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.state_dir().join("actsm.log")).unwrap_or_default()
    }
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(output)))
}

// ---------------------------------------------------------------- token

#[tokio::test(flavor = "multi_thread")]
async fn a_cached_token_is_printed_without_a_call_and_fresh_forces_one() {
    let fx = Fixture::start().await;
    let first = fx.token().await;
    assert_eq!(fx.sim.stats().authorize_basic, 1);
    let total = fx.sim.stats().total;

    let second = fx.token().await;
    assert_eq!(second, first, "the cached token is printed again");
    assert_eq!(
        fx.sim.stats().total,
        total,
        "no request at all for a cached token"
    );

    let out = fx.actsm(&["token", "acme", "--fresh"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(fx.sim.stats().authorize_basic, 2);
    let fresh = stdout(&out).trim().to_owned();
    // The fresh token replaced the cached one.
    assert_eq!(fx.token().await, fresh);
    assert_eq!(fx.sim.stats().authorize_basic, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_sequential_runs_see_one_authorize() {
    let fx = Fixture::start().await;
    let first = fx.token().await;
    let mut command = fx.command(&["token", "acme", "--format", "header"]);
    let outputs = tokio::task::spawn_blocking(move || {
        (0..199)
            .map(|_| command.output().expect("actsm runs"))
            .collect::<Vec<_>>()
    })
    .await
    .expect("join");
    for out in &outputs {
        assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(out));
        assert_eq!(stdout(out), format!("Authorization: Bearer {first}\n"));
    }
    assert_eq!(fx.sim.stats().authorize_basic, 1);
    assert_eq!(fx.sim.stats().total, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_runs_with_an_empty_cache_see_one_authorize() {
    let fx = Fixture::start().await;
    let commands: Vec<Command> = (0..20).map(|_| fx.command(&["token", "acme"])).collect();
    let outputs = tokio::task::spawn_blocking(move || {
        let children: Vec<_> = commands
            .into_iter()
            .map(|mut c| {
                c.stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        children
            .into_iter()
            .map(|c| c.wait_with_output().expect("wait"))
            .collect::<Vec<_>>()
    })
    .await
    .expect("join");

    let tokens: std::collections::BTreeSet<String> = outputs
        .iter()
        .map(|out| {
            assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(out));
            stdout(out).trim().to_owned()
        })
        .collect();
    assert_eq!(tokens.len(), 1, "every process printed the same token");
    assert_eq!(fx.sim.stats().authorize_basic, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn formats_header_and_json() {
    let fx = Fixture::start().await;
    let token = fx.token().await;

    let out = fx.actsm(&["token", "acme", "--format", "header"]).await;
    assert_eq!(stdout(&out), format!("Authorization: Bearer {token}\n"));

    let out = fx.actsm(&["token", "acme", "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    assert_eq!(doc["token"], token.as_str());
    assert_eq!(doc["name"], "acme");
    assert_eq!(doc["database"], "Acme_Healthy");
    assert_eq!(doc["base_url"], fx.sim.base_url().as_str());
    assert_eq!(doc["user"], "Jane Doe");
    assert_eq!(doc["expiry_source"], "claim");
    assert_eq!(doc["from_cache"], true);
    let expires = doc["expires_at"].as_str().expect("expires_at");
    let expires = chrono::DateTime::parse_from_rfc3339(expires).expect("RFC 3339");
    let left = expires
        .signed_duration_since(chrono::Utc::now())
        .num_minutes();
    assert!(
        (60..=65).contains(&left),
        "65-minute tokens: {left} min left"
    );
    assert!(doc["remaining_secs"].as_i64().is_some_and(|s| s > 3600));
}

#[tokio::test(flavor = "multi_thread")]
async fn min_life_longer_than_the_token_forces_an_authorize() {
    let fx = Fixture::start().await;
    fx.token().await;
    let out = fx.actsm(&["token", "acme", "--min-life", "2h"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(fx.sim.stats().authorize_basic, 2);
    let out = fx.actsm(&["token", "acme", "--min-life", "10m"]).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(fx.sim.stats().authorize_basic, 2, "an hour left is enough");
}

#[tokio::test(flavor = "multi_thread")]
async fn token_failures_keep_their_exit_codes_and_cache_nothing() {
    let fx = Fixture::start().await;
    for (name, code) in [
        ("typo", 4),
        ("erin", 4),
        ("dead", 5),
        ("nopw", 3),
        ("nope", 3),
    ] {
        let out = fx.actsm(&["token", name]).await;
        assert_eq!(out.status.code(), Some(code), "{name}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{name}: stdout stays empty");
        assert!(stderr(&out).contains(name), "{name}: {}", stderr(&out));
    }
    let entries = std::fs::read_dir(fx.cache_dir()).map_or(0, |d| {
        d.flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .count()
    });
    assert_eq!(entries, 0, "a failure leaves no cache entry");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn the_cache_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::start().await;
    fx.token().await;
    let dir_mode = std::fs::metadata(fx.cache_dir())
        .expect("dir")
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    let entry = fx.acme_entry("Jane Doe");
    let file_mode = std::fs::metadata(&entry)
        .expect("entry")
        .permissions()
        .mode();
    assert_eq!(file_mode & 0o777, 0o600);
    // The connection index (for the quick path of the next `actsm token`) is owner-only
    // too and holds one file.
    let index = fx.cache_dir().join("index");
    let index_mode = std::fs::metadata(&index)
        .expect("index")
        .permissions()
        .mode();
    assert_eq!(index_mode & 0o777, 0o700);
    let index_files: Vec<PathBuf> = std::fs::read_dir(&index)
        .expect("read index")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(index_files.len(), 1, "{index_files:?}");
    let index_file_mode = std::fs::metadata(&index_files[0])
        .expect("index file")
        .permissions()
        .mode();
    assert_eq!(index_file_mode & 0o777, 0o600);
    // Besides, only the entry and its lock: no temporary file left behind.
    let mut names: Vec<PathBuf> = std::fs::read_dir(fx.cache_dir())
        .expect("read")
        .flatten()
        .map(|e| e.path())
        .filter(|p| *p != index)
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.extension().is_some_and(|x| x == "json" || x == "lock")),
        "{names:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_cache_file_is_ignored_and_noted() {
    let fx = Fixture::start().await;
    fx.token().await;
    let entry = fx.acme_entry("Jane Doe");
    for junk in [
        "",
        "{\"format\":\"actsm-token-cache/1\",\"tok",
        "not json at all",
        "{\"format\":\"someone-else\"}",
    ] {
        std::fs::write(&entry, junk).expect("corrupt");
        let before = fx.sim.stats().authorize_basic;
        let out = fx.actsm(&["token", "acme"]).await;
        assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
        assert_eq!(fx.sim.stats().authorize_basic, before + 1);
    }
    assert!(
        fx.log().contains("ignoring token cache file"),
        "{}",
        fx.log()
    );
    // The last run rewrote a good entry: served from the cache again.
    let before = fx.sim.stats().total;
    fx.token().await;
    assert_eq!(fx.sim.stats().total, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_connection_is_not_served_the_old_token() {
    let fx = Fixture::start().await;
    fx.token().await;
    // Same name, another user: the cached token belongs to Jane Doe.
    fx.write_config(&fx.config_with_user("Someone Else"));
    let out = fx.actsm(&["token", "acme"]).await;
    assert_eq!(
        out.status.code(),
        Some(4),
        "the new user is unknown: {}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    assert_eq!(fx.sim.stats().authorize_basic, 2);
    // Back to the old user: its entry is still there and still good.
    fx.write_config(&fx.config_with_user("Jane Doe"));
    let before = fx.sim.stats().total;
    fx.token().await;
    assert_eq!(fx.sim.stats().total, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_never_reach_the_log_file() {
    let fx = Fixture::start().await;
    let token = fx.token().await;
    let _ = fx.actsm(&["token", "acme", "--format", "json"]).await;
    let _ = fx.actsm(&["exec", "acme", "--", "true"]).await;
    let _ = fx.actsm(&["status", "--json"]).await;
    let _ = fx.actsm(&["check", "--all"]).await;
    let _ = fx.actsm(&["prompt", "acme"]).await;
    std::fs::write(
        fx.acme_entry("Jane Doe"),
        format!("{{\"format\":1,\"token\":\"{token}\"}}"),
    )
    .expect("write a foreign entry holding the token");
    let _ = fx.actsm(&["token", "acme"]).await;
    let log = fx.log();
    assert!(log.contains("acme"), "the log was written: {log:.300}");
    assert!(log.contains("ignoring token cache file"), "{log}");
    assert!(!log.contains(&token), "a token reached the log");
    assert!(!log.contains("Sup3r-Secret-Wrong-Password"));
}

// ---------------------------------------------------------------- exec

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn exec_passes_the_environment_and_the_exit_code_not_the_argv() {
    let fx = Fixture::start().await;
    let out = fx
        .actsm(&[
            "exec",
            "acme",
            "--",
            "sh",
            "-c",
            "cat /proc/$$/cmdline; echo; echo ARGV-END; env; exit 7",
        ])
        .await;
    assert_eq!(out.status.code(), Some(7), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    let (argv, env) = text.split_once("ARGV-END").expect("marker");
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} not set: {env}"))
            .to_owned()
    };
    let token = var("ACT_TOKEN");
    assert_eq!(token.split('.').count(), 3, "a JWT");
    assert_eq!(var("ACT_BASE_URL"), fx.sim.base_url());
    assert_eq!(var("ACT_DATABASE"), "Acme_Healthy");
    chrono::DateTime::parse_from_rfc3339(&var("ACT_TOKEN_EXPIRES_AT")).expect("RFC 3339");
    if std::path::Path::new("/proc/self/cmdline").exists() {
        assert!(argv.contains("sh"), "the child's argv was read: {argv:?}");
    }
    assert!(!argv.contains(&token), "the token is on the command line");
    // The token came from (and went to) the cache.
    assert_eq!(fx.token().await, token);
    assert_eq!(fx.sim.stats().authorize_basic, 1);

    let out = fx
        .actsm(&["exec", "acme", "--", "sh", "-c", "exit 0"])
        .await;
    assert_eq!(out.status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_does_not_run_the_command_when_actsm_fails() {
    let fx = Fixture::start().await;
    for (name, code) in [("typo", 4), ("dead", 5), ("nope", 3)] {
        let out = fx.actsm(&["exec", name, "--", "echo", "RAN"]).await;
        assert_eq!(out.status.code(), Some(code), "{name}: {}", stderr(&out));
        assert!(!stdout(&out).contains("RAN"), "{name}: the command ran");
        assert!(stderr(&out).contains("actsm:"), "{}", stderr(&out));
    }
    let out = fx
        .actsm(&["exec", "acme", "--", "/nonexistent/actsm-test-program"])
        .await;
    assert_eq!(out.status.code(), Some(127), "stderr: {}", stderr(&out));
    // No command at all is a usage error.
    let out = fx.actsm(&["exec", "acme"]).await;
    assert_eq!(out.status.code(), Some(2));
}

/// A server whose clock runs 10 minutes ahead issues tokens whose `exp` is
/// 10 minutes later than our clock would say; scripts must be told the life
/// the server will honour, from the token and from the cache alike.
#[tokio::test(flavor = "multi_thread")]
async fn remaining_life_is_counted_on_the_servers_clock() {
    let fx = Fixture::new().await;
    let base = fx.sim.base_url();
    fx.write_config(&format!(
        r#"
[[connection]]
name = "ahead"
url = "{base}"
database = "fault-skewed-date"
user = "Jane Doe"
password_env = "ACTSM_TEST_ACME_PW"
"#
    ));
    let lifetime = i64::try_from(SimConfig::default().token_lifetime.as_secs()).expect("secs");
    let shift = actsm::sim::FAULT_SHIFT_SECS;
    let fresh = |secs: i64| secs <= lifetime && secs > lifetime - 60;

    let out = fx.actsm(&["token", "ahead", "--format", "json"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let doc = json(&out);
    let secs = doc["remaining_secs"].as_i64().expect("remaining_secs");
    assert!(
        fresh(secs),
        "{secs}s left, lifetime {lifetime}s, shift {shift}s"
    );

    let out = fx.actsm(&["status", "--json", "ahead"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let secs = json(&out)["connections"][0]["remaining_secs"]
        .as_i64()
        .expect("remaining_secs");
    assert!(fresh(secs), "cache says {secs}s left, lifetime {lifetime}s");
    assert_eq!(fx.sim.stats().total, 1, "the second call read the cache");
}

// ---------------------------------------------------------------- status

#[tokio::test(flavor = "multi_thread")]
async fn status_reads_only_the_cache() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["status", "--json", "acme"]).await;
    assert_eq!(
        out.status.code(),
        Some(6),
        "no cached token yet: {}",
        stderr(&out)
    );
    let doc = json(&out);
    assert_eq!(doc["connections"][0]["state"], "none");
    assert_eq!(doc["connections"][0]["ok"], false);
    assert_eq!(doc["connections"][0]["source"], "cache");
    assert_eq!(
        fx.sim.stats().total,
        0,
        "status without --check sends nothing"
    );

    fx.token().await;
    let total = fx.sim.stats().total;
    let out = fx.actsm(&["status", "--json", "acme"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let row = &json(&out)["connections"][0];
    assert_eq!(row["state"], "valid");
    assert_eq!(row["ok"], true);
    assert_eq!(row["expiry_source"], "claim");
    assert!(row["remaining_secs"].as_i64().is_some_and(|s| s > 3600));
    assert!(row["verdict"].is_null());
    assert_eq!(fx.sim.stats().total, total);

    // Every connection: acme is fine, the others have nothing cached.
    let out = fx.actsm(&["status"]).await;
    assert_eq!(out.status.code(), Some(6));
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("acme") && l.contains(" ok ")),
        "{text}"
    );
    assert!(text.contains("no cached token"), "{text}");
    assert_eq!(fx.sim.stats().total, total);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_check_caches_what_it_obtains() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["status", "--check", "acme", "erin"]).await;
    assert_eq!(out.status.code(), Some(4), "stderr: {}", stderr(&out));
    assert_eq!(fx.sim.stats().authorize_basic, 2);
    // The token status --check obtained is served from the cache.
    let out = fx.actsm(&["status", "acme"]).await;
    assert_eq!(out.status.code(), Some(0));
    fx.token().await;
    assert_eq!(fx.sim.stats().authorize_basic, 2);
}

// ---------------------------------------------------------------- check, system, list

#[tokio::test(flavor = "multi_thread")]
async fn check_sweeps_every_connection() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["check", "--all"]).await;
    assert_eq!(
        out.status.code(),
        Some(5),
        "worst is unreachable: {}",
        stderr(&out)
    );
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 5, "{text}");
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}: {text}"))
            .to_owned()
    };
    let acme = line("acme");
    assert!(acme.contains(" ok "), "{acme}");
    assert!(acme.contains("api "), "{acme}");
    assert!(acme.contains(" ms"), "{acme}");
    assert!(line("typo").contains("401"), "{text}");
    assert!(line("erin").contains("4032"), "{text}");
    assert!(stderr(&out).contains("what to do"), "{}", stderr(&out));
    assert!(fx.sim.stats().system >= 1);

    let out = fx.actsm(&["check", "acme"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let out = fx.actsm(&["check", "--json", "acme", "typo"]).await;
    assert_eq!(out.status.code(), Some(4));
    let doc = json(&out);
    assert_eq!(doc["connections"][0]["ok"], true);
    assert!(doc["connections"][0]["system"]["api_version"].is_string());
    assert_eq!(doc["connections"][1]["verdict"]["kind"], "unauthorized");

    let out = fx.actsm(&["check"]).await;
    assert_eq!(out.status.code(), Some(2), "names or --all are required");
}

#[tokio::test(flavor = "multi_thread")]
async fn system_prints_version_information() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["system", "acme"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(
        stdout(&out).starts_with("api_version  "),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        fx.sim.stats().authorize_basic,
        0,
        "/api/system needs no login"
    );

    let out = fx.actsm(&["system", "acme", "--json"]).await;
    assert!(json(&out)["api_version"].is_string());

    let out = fx.actsm(&["system", "dead"]).await;
    assert_eq!(out.status.code(), Some(5));
    assert!(stdout(&out).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn list_shows_connections_without_secrets() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["list", "--json"]).await;
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    let rows = doc["connections"].as_array().expect("array");
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["name"], "acme");
    assert_eq!(rows[0]["password_source"], "env");
    assert_eq!(rows[0]["password_env"], "ACTSM_TEST_ACME_PW");
    assert_eq!(rows[1]["password_source"], "plain");
    assert!(!stdout(&out).contains("Sup3r-Secret-Wrong-Password"));

    let out = fx.actsm(&["list"]).await;
    assert_eq!(stdout(&out).lines().count(), 5);
    assert!(!stdout(&out).contains("Sup3r-Secret-Wrong-Password"));
    assert_eq!(fx.sim.stats().total, 0);
}

// ---------------------------------------------------------------- completions, prompt, logout

#[tokio::test(flavor = "multi_thread")]
async fn completions_for_every_shell() {
    let fx = Fixture::start().await;
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = fx.actsm(&["completions", shell]).await;
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = stdout(&out);
        assert!(text.contains("actsm"), "{shell}");
        assert!(
            text.contains("logout"),
            "{shell}: subcommands are completed"
        );
    }
    let out = fx.actsm(&["completions", "tcsh"]).await;
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn prompt_reads_only_the_cache() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["prompt", "acme"]).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "acme -\n");
    fx.token().await;
    let total = fx.sim.stats().total;
    let out = fx.actsm(&["prompt", "acme"]).await;
    let text = stdout(&out);
    // 65-minute tokens: "acme 1h04m" or "acme 1h05m".
    assert!(
        text.starts_with("acme 1h0") && text.ends_with("m\n"),
        "{text:?}"
    );
    assert_eq!(fx.sim.stats().total, total);
    let out = fx.actsm(&["prompt", "nope"]).await;
    assert_eq!(out.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_removes_cached_tokens() {
    let fx = Fixture::start().await;
    fx.token().await;
    let out = fx.actsm(&["logout", "acme"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("removed 1"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert!(!fx.acme_entry("Jane Doe").exists());
    fx.token().await;
    assert_eq!(
        fx.sim.stats().authorize_basic,
        2,
        "logged out: authorize again"
    );

    // A token cached under an older target of the same name goes too.
    fx.write_config(&fx.config_with_user("Someone Else"));
    let out = fx.actsm(&["logout", "acme"]).await;
    assert!(stderr(&out).contains("removed 1"), "{}", stderr(&out));
    assert!(!fx.acme_entry("Jane Doe").exists());

    fx.write_config(&fx.config_with_user("Jane Doe"));
    fx.token().await;
    let out = fx.actsm(&["logout", "--all"]).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(!fx.acme_entry("Jane Doe").exists());

    assert_eq!(fx.actsm(&["logout", "nope"]).await.status.code(), Some(3));
    assert_eq!(fx.actsm(&["logout"]).await.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_but_data_on_stdout_and_no_colour_without_a_terminal() {
    let fx = Fixture::start().await;
    let out = fx.actsm(&["token", "typo"]).await;
    assert!(stdout(&out).is_empty());
    assert!(
        !stderr(&out).contains('\x1b'),
        "no escape codes when stderr is a pipe"
    );
    let all = read_all_files(&fx.state_dir());
    assert!(!all.contains("Sup3r-Secret-Wrong-Password"));
}
