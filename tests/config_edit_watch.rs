//! Watching the connections file for outside changes, and diffing configs.

use std::path::Path;
use std::time::{Duration, Instant};

use actsm::config::{self, ConfigDiff, WatchOptions, diff, watch, watch_with};

const BASE: &str = "[[connection]]\nname = \"a\"\nurl = \"https://a.example/act.web.api\"\n\
                    database = \"A\"\nuser = \"u\"\npassword_env = \"A_PW\"\n\n\
                    [[connection]]\nname = \"b\"\nurl = \"https://b.example/act.web.api\"\n\
                    database = \"B\"\nuser = \"u\"\npassword_env = \"B_PW\"\n\n\
                    [[connection]]\nname = \"c\"\nurl = \"https://c.example/act.web.api\"\n\
                    database = \"C\"\nuser = \"u\"\npassword_env = \"C_PW\"\n";

fn parse(text: &str) -> config::Config {
    config::parse(text, Path::new("c.toml")).expect("valid")
}

#[tokio::test]
async fn the_watcher_signals_an_outside_write_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connections.toml");
    std::fs::write(&path, BASE).expect("write");

    let fast = WatchOptions {
        interval: Duration::from_millis(100),
        settle: Duration::from_millis(100),
    };
    let mut rx = watch_with(&path, fast);

    // The starting state is not a change.
    let quiet = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await;
    assert!(quiet.is_err(), "no signal without a change");

    // An editor writing in a few steps gives one signal.
    let started = Instant::now();
    std::fs::write(&path, format!("{BASE}# one\n")).expect("write");
    std::fs::write(&path, format!("{BASE}# one\n# two\n")).expect("write");
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(got.expect("signalled within 5 s"), Some(()));
    assert!(started.elapsed() < Duration::from_secs(5));
    let again = tokio::time::timeout(Duration::from_millis(600), rx.recv()).await;
    assert!(again.is_err(), "one signal per settled change");

    // Same bytes written again: no signal. Removal: a signal.
    std::fs::write(&path, format!("{BASE}# one\n# two\n")).expect("write");
    let same = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await;
    assert!(same.is_err(), "rewriting identical content is no change");
    std::fs::remove_file(&path).expect("rm");
    let gone = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(gone.expect("removal signalled"), Some(()));
}

#[tokio::test]
async fn the_default_watcher_notices_within_a_few_seconds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connections.toml");
    let mut rx = watch(&path);
    // Let the watcher take its baseline (no file) before the file appears.
    tokio::time::sleep(Duration::from_millis(200)).await;
    std::fs::write(&path, BASE).expect("create");
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(got.expect("signalled within 5 s"), Some(()));
}

#[test]
fn diff_sorts_connections_by_what_changed() {
    let old = parse(BASE);
    let new_text = BASE
        // a: only a label and autostart: the session keeps running.
        .replace(
            "password_env = \"A_PW\"\n",
            "password_env = \"A_PW\"\ngroup = \"ops\"\nautostart = true\n",
        )
        // b: its database changes: the session restarts.
        .replace("database = \"B\"", "database = \"B2\"")
        // c goes, d comes.
        .replace("name = \"c\"", "name = \"d\"");
    let new = parse(&new_text);

    assert_eq!(
        diff(&old, &new),
        ConfigDiff {
            added: vec!["d".into()],
            removed: vec!["c".into()],
            changed: vec!["b".into()],
            unchanged: vec!["a".into()],
            relabeled: vec!["a".into()],
            settings_changed: false,
        }
    );

    let same = diff(&old, &parse(BASE));
    assert!(same.is_empty());
    assert_eq!(same.unchanged, ["a", "b", "c"]);

    let with_settings = parse(&format!("[settings]\ntimeout = \"1m\"\n\n{BASE}"));
    let d = diff(&old, &with_settings);
    assert!(d.settings_changed && !d.is_empty());
    assert!(d.changed.is_empty());

    // A secret source change restarts the session.
    let keyring = parse(&BASE.replace("password_env = \"C_PW\"", "keyring = true"));
    assert_eq!(diff(&old, &keyring).changed, ["c"]);
}
