//! Issue 7, the quick path of `actsm token NAME` and `actsm prompt NAME`: answered from
//! the connection index (`<cache>/index/<sha256 of the file>.idx`) and the token cache,
//! without parsing the connections file or opening the log. Run through the real binary
//! against a simulator on loopback, as `cli_scripts.rs` does.
//!
//! How a test knows which path ran: the full path of `token` always starts the diagnostic
//! log, which opens (creating) `actsm.log` in `ACTSM_STATE_DIR` (`cli::run` calls
//! `start_logging` for every command but the demo, `prompt` and completions); the quick
//! path returns before that. So "`actsm.log` was created by this run" means the full path
//! ran, and "not created" means the quick one did. `prompt` never logs on either path; for
//! it the proof is an index that disagrees with the file (see
//! `prompt_reads_the_index_when_one_matches_the_file`).

use std::path::PathBuf;
use std::process::Output;

use actsm::sim::{SimConfig, SimServer, SimUser};
use sha2::{Digest as _, Sha256};

mod cli_common;

use cli_common::{Fixture, stderr, stdout};

const SECOND_USER: &str = "John Roe";

impl Fixture {
    /// The demo simulator plus a second healthy login in `Acme_Healthy`, and a file with
    /// `acme` (and `other`) as `acme_user`.
    async fn quick() -> Self {
        let mut config = SimConfig::demo();
        config
            .users
            .push(SimUser::new("Acme_Healthy", SECOND_USER, "demo"));
        let sim = SimServer::start(([127, 0, 0, 1], 0).into(), config)
            .await
            .expect("simulator starts on loopback");
        let fixture = Self {
            sim,
            dir: tempfile::tempdir().expect("temp dir"),
        };
        fixture.write_config(&fixture.file("acme", "Jane Doe"));
        fixture
    }

    fn file(&self, name: &str, user: &str) -> String {
        let base = self.sim.base_url();
        format!(
            r#"
[settings]
timeout = "5s"

[[connection]]
name = "{name}"
url = "{base}"
database = "Acme_Healthy"
user = "{user}"
password_env = "ACTSM_TEST_ACME_PW"

[[connection]]
name = "other"
url = "{base}"
database = "Acme_Healthy"
user = "Jane Doe"
password_env = "ACTSM_TEST_ACME_PW"
"#
        )
    }

    fn log_path(&self) -> PathBuf {
        self.state_dir().join("actsm.log")
    }

    fn index_dir(&self) -> PathBuf {
        self.state_dir().join("cache").join("index")
    }

    fn index_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.index_dir())
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }

    /// Runs `actsm ARGS` (exit 0 expected) and says which path answered.
    async fn run(&self, args: &[&str]) -> (String, Path) {
        let out = self.run_any(args).await;
        assert_eq!(out.0.status.code(), Some(0), "{args:?}: {}", stderr(&out.0));
        (stdout(&out.0), out.1)
    }

    /// Runs `actsm ARGS` after removing the log, and says which path answered.
    async fn run_any(&self, args: &[&str]) -> (Output, Path) {
        let _ = std::fs::remove_file(self.log_path());
        let out = self.actsm(args).await;
        let path = if self.log_path().exists() {
            Path::Full
        } else {
            Path::Quick
        };
        (out, path)
    }

    fn basic(&self) -> u64 {
        self.sim.stats().authorize_basic
    }
}

/// Which path of `cli::run` answered (see the module docs for how it is told).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Full,
    Quick,
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Two `--format json` documents are the same but for `remaining_secs`, which may differ
/// by the seconds between the two runs.
fn assert_same_json(a: &serde_json::Value, b: &serde_json::Value) {
    let (mut a, mut b) = (a.clone(), b.clone());
    let left = |v: &mut serde_json::Value| {
        v.as_object_mut()
            .and_then(|o| o.remove("remaining_secs"))
            .and_then(|s| s.as_i64())
            .expect("remaining_secs")
    };
    let (la, lb) = (left(&mut a), left(&mut b));
    assert!((la - lb).abs() <= 30, "remaining {la} vs {lb}");
    assert_eq!(a, b);
}

/// `acme 1h04m` as (name, minutes left); `-`/`expired` as `None`.
fn prompt_minutes(line: &str) -> (String, Option<i64>) {
    let (name, left) = line.trim().rsplit_once(' ').expect("NAME LEFT");
    let minutes = left
        .strip_suffix('m')
        .and_then(|m| match m.split_once('h') {
            Some((h, m)) => Some(h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?),
            None => m.parse().ok(),
        });
    (name.to_owned(), minutes)
}

fn assert_same_prompt(a: &str, b: &str) {
    let (na, ma) = prompt_minutes(a);
    let (nb, mb) = prompt_minutes(b);
    assert_eq!(na, nb, "{a} vs {b}");
    let (ma, mb) = (ma.expect(a), mb.expect(b));
    // The same token, read a moment apart: the same minute or the next one down.
    assert!((ma - mb).abs() <= 1, "{a} vs {b}");
}

// ---------------------------------------------------------------- token

#[tokio::test(flavor = "multi_thread")]
async fn a_second_token_comes_from_the_quick_path_in_every_format() {
    let fx = Fixture::quick().await;
    let (first, path) = fx.run(&["token", "acme"]).await;
    assert_eq!(
        path,
        Path::Full,
        "the first run authorizes on the full path"
    );
    assert_eq!(fx.basic(), 1);
    assert_eq!(fx.index_files().len(), 1, "the full path wrote the index");
    let token = first.trim().to_owned();
    let total = fx.sim.stats().total;

    let (raw, path) = fx.run(&["token", "acme"]).await;
    assert_eq!(path, Path::Quick);
    assert_eq!(raw, format!("{token}\n"));

    let (raw, path) = fx.run(&["token", "acme", "--format", "raw"]).await;
    assert_eq!(path, Path::Quick);
    assert_eq!(raw, format!("{token}\n"));

    let (header, path) = fx.run(&["token", "acme", "--format", "header"]).await;
    assert_eq!(path, Path::Quick);
    assert_eq!(header, format!("Authorization: Bearer {token}\n"));

    let (quick_json, path) = fx.run(&["token", "acme", "--format", "json"]).await;
    assert_eq!(path, Path::Quick);
    let quick_json = json(&quick_json);
    assert_eq!(quick_json["token"], token.as_str());
    assert_eq!(quick_json["from_cache"], true);

    // The full path for the same cached token: without the index it must parse the file.
    std::fs::remove_dir_all(fx.index_dir()).expect("remove the index");
    let (full_json, path) = fx.run(&["token", "acme", "--format", "json"]).await;
    assert_eq!(path, Path::Full);
    assert_same_json(&quick_json, &json(&full_json));

    assert_eq!(fx.sim.stats().total, total, "no call after the first");
    assert_eq!(fx.basic(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_connection_is_seen_at_once() {
    let fx = Fixture::quick().await;
    let (token, _) = fx.run(&["token", "acme"]).await;
    let (_, path) = fx.run(&["token", "acme"]).await;
    assert_eq!(path, Path::Quick, "the index is in use");

    fx.write_config(&fx.file("acme2", "Jane Doe"));
    let (out, _) = fx.run_any(&["token", "acme"]).await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "config exit code: {}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("no connection named 'acme'"),
        "{}",
        stderr(&out)
    );
    let (out, _) = fx.run_any(&["prompt", "acme"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());

    // The new name targets the same user: its cached token, no call.
    let (renamed, _) = fx.run(&["token", "acme2"]).await;
    assert_eq!(renamed, token);
    let (renamed, path) = fx.run(&["token", "acme2"]).await;
    assert_eq!(path, Path::Quick, "the new file got its own index");
    assert_eq!(renamed, token);
    assert_eq!(fx.basic(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_user_authorizes_as_the_new_user() {
    let fx = Fixture::quick().await;
    let (jane, _) = fx.run(&["token", "acme"]).await;
    let (_, path) = fx.run(&["token", "acme"]).await;
    assert_eq!(path, Path::Quick);
    assert_eq!(fx.basic(), 1);

    fx.write_config(&fx.file("acme", SECOND_USER));
    let (john, _) = fx.run(&["token", "acme", "--format", "json"]).await;
    assert_eq!(fx.basic(), 2, "the new user is authorized");
    let john = json(&john);
    assert_eq!(john["user"], SECOND_USER);
    assert_eq!(john["from_cache"], false);
    assert_ne!(john["token"], jane.trim());

    // And then served from the quick path as the new user.
    let (again, path) = fx.run(&["token", "acme"]).await;
    assert_eq!(path, Path::Quick);
    assert_eq!(again.trim(), john["token"].as_str().expect("token"));
    assert_eq!(fx.basic(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn min_life_longer_than_the_cached_token_forces_an_authorize() {
    let fx = Fixture::quick().await;
    let (first, _) = fx.run(&["token", "acme"]).await;
    let (_, path) = fx.run(&["token", "acme", "--min-life", "10m"]).await;
    assert_eq!(path, Path::Quick, "65-minute tokens have 10 minutes left");
    assert_eq!(fx.basic(), 1);

    let (fresh, path) = fx.run(&["token", "acme", "--min-life", "2h"]).await;
    assert_eq!(
        path,
        Path::Full,
        "the index lookup gave way to an authorize"
    );
    assert_eq!(fx.basic(), 2);
    assert_ne!(fresh, first);

    // The new token is the cached one now.
    let (again, path) = fx.run(&["token", "acme"]).await;
    assert_eq!(path, Path::Quick);
    assert_eq!(again, fresh);
    assert_eq!(fx.basic(), 2);
}

/// Runs `token` (raw and json) and `prompt` for `acme`: (raw, json, prompt) and the paths.
async fn outputs(fx: &Fixture) -> ((String, serde_json::Value, String), [Path; 3]) {
    let (raw, p1) = fx.run(&["token", "acme"]).await;
    let (doc, p2) = fx.run(&["token", "acme", "--format", "json"]).await;
    let (prompt, p3) = fx.run(&["prompt", "acme"]).await;
    ((raw, json(&doc), prompt), [p1, p2, p3])
}

async fn a_damaged_index_changes_nothing(damage: fn(&[u8]) -> Vec<u8>) {
    let fx = Fixture::quick().await;
    fx.run(&["token", "acme"]).await;
    let (before, paths) = outputs(&fx).await;
    assert_eq!(paths[..2], [Path::Quick, Path::Quick]);

    let files = fx.index_files();
    assert!(!files.is_empty());
    for file in &files {
        let bytes = std::fs::read(file).expect("index");
        std::fs::write(file, damage(&bytes)).expect("damage the index");
    }
    let (after, paths) = outputs(&fx).await;
    assert_eq!(
        paths[0],
        Path::Full,
        "a damaged index sends token down the full path"
    );
    assert_eq!(after.0, before.0);
    assert_same_json(&after.1, &before.1);
    assert_same_prompt(&after.2, &before.2);
    assert_eq!(fx.basic(), 1, "no call: the cached token still served");

    // The full path wrote a good index again, so the quick path is back.
    let (again, paths) = outputs(&fx).await;
    assert_eq!(
        paths[..2],
        [Path::Quick, Path::Quick],
        "the full path repairs a damaged index"
    );
    assert_eq!(again.0, before.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_over_the_index_changes_nothing() {
    a_damaged_index_changes_nothing(|bytes| {
        bytes
            .iter()
            .enumerate()
            .map(|(i, b)| {
                b.wrapping_mul(31)
                    .wrapping_add(u8::try_from(i % 251).unwrap_or(0))
            })
            .collect()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_truncated_index_changes_nothing() {
    // Cut inside the line of `acme` (the third line): its JSON no longer decodes.
    a_damaged_index_changes_nothing(|bytes| {
        let text = String::from_utf8_lossy(bytes);
        let start = text.find("[\"acme\"").expect("acme's line");
        bytes[..start + 12].to_vec()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_index_changes_nothing() {
    a_damaged_index_changes_nothing(|_| Vec::new()).await;
}

// ---------------------------------------------------------------- prompt

#[tokio::test(flavor = "multi_thread")]
async fn prompt_prints_the_same_line_through_both_paths() {
    let fx = Fixture::quick().await;
    // Before any token: both paths say there is none.
    let (none, _) = fx.run(&["prompt", "acme"]).await;
    assert_eq!(none, "acme -\n");
    assert_eq!(fx.index_files().len(), 1, "the full path wrote the index");
    let (none, _) = fx.run(&["prompt", "acme"]).await;
    assert_eq!(none, "acme -\n");

    fx.run(&["token", "acme"]).await;
    let (quick, _) = fx.run(&["prompt", "acme"]).await;
    std::fs::remove_dir_all(fx.index_dir()).expect("remove the index");
    let (full, _) = fx.run(&["prompt", "acme"]).await;
    assert_eq!(
        fx.index_files().len(),
        1,
        "without an index, prompt took the full path (which writes one)"
    );
    assert_same_prompt(&quick, &full);
    let (_, minutes) = prompt_minutes(&quick);
    assert!(minutes.is_some_and(|m| (60..=65).contains(&m)), "{quick}");
    assert_eq!(fx.basic(), 1, "prompt never calls");
}

#[tokio::test(flavor = "multi_thread")]
async fn prompt_reads_the_index_when_one_matches_the_file() {
    let fx = Fixture::quick().await;
    fx.run(&["token", "acme"]).await;
    let (full, _) = fx.run(&["prompt", "acme"]).await;
    assert!(prompt_minutes(&full).1.is_some(), "{full}");

    // An index for these very bytes that says acme is another user, who has no cached
    // token. Only a prompt that reads the index can print "-" now.
    let bytes = std::fs::read(fx.config_path()).expect("file");
    let text = String::from_utf8(bytes).expect("utf-8");
    let forged = actsm::config::parse(
        &text.replace("user = \"Jane Doe\"", "user = \"Nobody Cached\""),
        &fx.config_path(),
    )
    .expect("forged config parses");
    std::fs::remove_dir_all(fx.index_dir()).expect("remove the index");
    // Stored under the digest of the real text, with the forged connection's lines (its
    // cut does not parse to the forged connection, so none is recorded).
    actsm::config::index::store(&fx.index_dir(), &text, &forged).expect("forged index");
    let (quick, _) = fx.run(&["prompt", "acme"]).await;
    assert_eq!(quick, "acme -\n", "the prompt came from the index");
}

// ---------------------------------------------------------------- unknown names

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_name_lists_twelve_names_and_how_many_more() {
    let fx = Fixture::quick().await;
    let base = fx.sim.base_url();
    let mut text = String::new();
    for i in 0..30 {
        use std::fmt::Write as _;
        let _ = write!(
            text,
            "[[connection]]\nname = \"conn-{i:02}\"\nurl = \"{base}\"\ndatabase = \"Acme_Healthy\"\n\
             user = \"Jane Doe\"\npassword_env = \"ACTSM_TEST_ACME_PW\"\n\n"
        );
    }
    fx.write_config(&text);
    for command in ["token", "prompt"] {
        let (out, _) = fx.run_any(&[command, "nope"]).await;
        assert_eq!(out.status.code(), Some(3), "{command}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("no connection named 'nope'"), "{err}");
        let listed: Vec<String> = (0..30)
            .map(|i| format!("conn-{i:02}"))
            .filter(|n| err.contains(n.as_str()))
            .collect();
        assert_eq!(listed.len(), 12, "{command}: {err}");
        assert_eq!(listed[0], "conn-00", "in file order");
        assert_eq!(listed[11], "conn-11");
        assert!(
            err.contains("and 18 more (`actsm list` shows them all)"),
            "{err}"
        );
    }
    // A name in another case, with stray spaces or one letter off: the error says which.
    for (typed, meant) in [
        ("CONN-07", "conn-07"),
        (" conn-08 ", "conn-08"),
        ("con-09", "conn-09"),
    ] {
        let (out, _) = fx.run_any(&["token", typed]).await;
        assert_eq!(out.status.code(), Some(3), "{typed}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&format!("did you mean '{meant}'?")), "{err}");
    }
    // Nothing close, or too many equally close (conn-10 ... conn-19 for "conn-1"): no guess.
    for typed in ["nope", "conn-1"] {
        let (out, _) = fx.run_any(&["token", typed]).await;
        assert!(!stderr(&out).contains("did you mean"), "{}", stderr(&out));
    }
    // A few equally close: all of them.
    let (out, _) = fx.run_any(&["token", "conn-3"]).await;
    assert!(
        stderr(&out).contains("did you mean one of 'conn-03', 'conn-13', 'conn-23'?"),
        "{}",
        stderr(&out)
    );

    // The 12-name cut is only for long files: a short one lists every name.
    fx.write_config(&fx.file("acme", "Jane Doe"));
    let (out, _) = fx.run_any(&["token", "nope"]).await;
    let err = stderr(&out);
    assert!(err.contains("known connections: acme, other"), "{err}");
    assert!(!err.contains("more"), "{err}");
    assert_eq!(fx.basic(), 0);
}

// ---------------------------------------------------------------- the cut for --fresh and exec

#[cfg(unix)] // `sh` as the command exec runs
#[tokio::test(flavor = "multi_thread")]
async fn fresh_and_exec_parse_only_their_connection_cut_from_the_file() {
    let fx = Fixture::quick().await;
    fx.write_config(&fx.file("acme", SECOND_USER));
    fx.run(&["token", "other"]).await; // writes the index, with a verified cut per connection
    assert_eq!(fx.basic(), 1);

    // Through the cut: the right connection, a new authorize each time.
    let (out, _) = fx
        .run(&["token", "acme", "--fresh", "--format", "json"])
        .await;
    let doc = json(&out);
    assert_eq!(doc["name"], "acme");
    assert_eq!(doc["user"], SECOND_USER);
    assert_eq!(doc["from_cache"], false);
    assert_eq!(fx.basic(), 2);
    let (out, _) = fx
        .run(&[
            "exec",
            "other",
            "--fresh",
            "--",
            "sh",
            "-c",
            "echo \"$ACT_DATABASE\"",
        ])
        .await;
    assert_eq!(out, "Acme_Healthy\n");
    assert_eq!(fx.basic(), 3);

    // Proof that the cut, not the whole file, was parsed: give acme's line the ranges of
    // other's table, and the check that makes the index believe it. Only a command that
    // parses the cut now finds no 'acme' in it.
    let index = fx.index_files().pop().expect("one index");
    let text = std::fs::read_to_string(&index).expect("index");
    let settings_line = text.lines().nth(1).expect("settings line").to_owned();
    let file_digest = Sha256::digest(std::fs::read(fx.config_path()).expect("config"));
    let seal = |mut line: serde_json::Value| -> String {
        let items = line.as_array_mut().expect("array");
        items.pop(); // the old check
        let body = serde_json::to_string(items).expect("json");
        let mut hasher = Sha256::new();
        hasher.update(file_digest);
        hasher.update(settings_line.as_bytes());
        hasher.update(b"\n");
        hasher.update(body.as_bytes());
        let check = hasher.finalize()[..8]
            .iter()
            .fold(String::new(), |mut out, b| {
                use std::fmt::Write as _;
                let _ = write!(out, "{b:02x}");
                out
            });
        items.push(check.into());
        line.to_string()
    };
    let ranges = |name: &str| -> serde_json::Value {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("[\"{name}\",")))
            .expect("line");
        json(line)[4].clone()
    };
    let (acme, other) = (ranges("acme"), ranges("other"));
    assert_ne!(acme, other);
    assert!(
        acme.as_array().is_some_and(|a| !a.is_empty()),
        "acme has a cut"
    );
    let forged: String = text
        .lines()
        .map(|l| {
            if l.starts_with("[\"acme\",") {
                let mut v = json(l);
                v[4] = other.clone();
                format!("{}\n", seal(v))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&index, forged).expect("forge");
    let (out, _) = fx.run_any(&["token", "acme", "--fresh"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no connection named 'acme'"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------- cases a tester found

/// Runs `actsm ARGS` with `input` on its stdin.
#[cfg(unix)]
async fn with_stdin(fx: &Fixture, args: &[&str], input: String) -> Output {
    use std::io::Write as _;
    use std::process::Stdio;

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

/// `--config /dev/stdin` (or `<(sops -d file)`, a FIFO) can be read once only: had the
/// quick path read it to hash it, the full path would then find an empty file. `token`
/// and `exec` read the pipe as `list` does.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_connections_file_on_a_pipe_works_for_token_as_for_list() {
    let fx = Fixture::quick().await;
    let text = fx.file("acme", "Jane Doe");

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

/// The full parse reads every connection's `ca_file`, which the file's bytes do not
/// cover. Once `other`'s CA file is gone the full parse refuses the file (exit 3), and
/// `token acme` (cached and --fresh) and `exec` must refuse it too, whatever ran before.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_ca_file_fails_token_as_it_fails_list() {
    let fx = Fixture::quick().await;
    let ca = fx.dir.path().join("ca.pem");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/act_transport/ca.cert.pem"
        ),
        &ca,
    )
    .expect("copy CA");
    // `other` is the file's last table: the line is its.
    fx.write_config(&(fx.file("acme", "Jane Doe") + "ca_file = \"ca.pem\"\n"));

    fx.run(&["token", "acme"]).await;
    std::fs::remove_file(&ca).expect("remove CA");

    let (list, _) = fx.run_any(&["list"]).await;
    assert_eq!(list.status.code(), Some(3), "list: {}", stderr(&list));

    for args in [
        &["token", "acme"][..],
        &["token", "acme", "--fresh"][..],
        &["exec", "acme", "--", "true"][..],
    ] {
        let (out, _) = fx.run_any(args).await;
        assert_eq!(
            out.status.code(),
            list.status.code(),
            "{args:?} answered although the file no longer loads: {}",
            stdout(&out)
        );
    }
}

/// A damaged index line that still decodes (here: acme's user turned into other's) is
/// not believed: the cached answer is still acme's own login.
#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_index_line_never_serves_another_users_token() {
    let fx = Fixture::quick().await;
    fx.write_config(&fx.file("acme", SECOND_USER));
    for name in ["acme", "other"] {
        fx.run(&["token", name]).await;
    }
    let index = fx.index_files().pop().expect("one index");
    let good = std::fs::read_to_string(&index).expect("index");
    let damaged = good.replacen(&format!("\"{SECOND_USER}\""), "\"Jane Doe\"", 1);
    assert_ne!(damaged, good, "acme's line names {SECOND_USER}");
    std::fs::write(&index, damaged).expect("damage the index");

    let (out, _) = fx.run(&["token", "acme", "--format", "json"]).await;
    assert_eq!(
        json(&out)["user"],
        SECOND_USER,
        "served the token of another login"
    );
}
