//! The new connection fields and secret sources in the loader, and the
//! keyring on a machine that has none.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use actsm::config::{self, KEYRING_SERVICE, SecretError, SecretSource, store_in_keyring};
use actsm::secret::Secret;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/edit")
        .join(name)
}

const HEAD: &str = "[[connection]]\nname = \"a\"\nurl = \"https://h/act.web.api\"\n\
                    database = \"D\"\nuser = \"u\"\n";

fn problems(text: &str) -> Vec<String> {
    config::parse(text, Path::new("f.toml"))
        .expect_err("invalid")
        .problems()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn prompt_keyring_group_color_note_parse() {
    let cfg = config::load(&fixture("sources.toml")).expect("valid");
    let typed = cfg.connection("typed").expect("typed");
    assert_eq!(typed.secret, SecretSource::Prompt);
    assert_eq!(typed.group.as_deref(), Some("Lab"));
    assert_eq!(typed.color.as_deref(), Some("#1E90ff"));
    assert_eq!(typed.note.as_deref(), Some("asks every start"));

    let vault = cfg.connection("vault").expect("vault");
    // `password_prompt = false` is no source; the keyring account is the name.
    assert_eq!(
        vault.secret,
        SecretSource::Keyring {
            account: "vault".into()
        }
    );
    assert_eq!(vault.color.as_deref(), Some("Magenta"));
    assert_eq!(vault.group, None);
    assert_eq!(vault.note, None);
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
}

#[test]
fn two_sources_including_the_new_ones_are_refused() {
    assert_eq!(
        problems(&format!("{HEAD}keyring = true\npassword_prompt = true\n")),
        [
            "7:19: connection 'a': set exactly one of password_env, password_command, \
          password_prompt, keyring, password; found keyring and password_prompt"
        ]
    );
    assert_eq!(
        problems(&format!("{HEAD}keyring = false\n")),
        [
            "1:1: connection 'a': set exactly one of password_env, password_command, \
          password_prompt, keyring, password; found none"
        ]
    );
    assert_eq!(
        problems(&format!("{HEAD}password_env = \"P\"\nkeyring = true\n")),
        [
            "7:11: connection 'a': set exactly one of password_env, password_command, \
          password_prompt, keyring, password; found password_env and keyring"
        ]
    );
    assert_eq!(
        problems(&format!("{HEAD}keyring = \"yes\"\n")),
        [
            "6:11: connection 'a': field 'keyring': invalid type: string \"yes\", expected a \
          boolean"
        ]
    );
}

#[test]
fn bad_color_and_group_name_the_field() {
    assert_eq!(
        problems(&format!("{HEAD}password_env = \"P\"\ncolor = \"pink\"\n")),
        [
            "7:9: connection 'a': field 'color': \"pink\" is not a colour; use a name (black, \
          red, green, yellow, blue, magenta, cyan, white, gray, grey, darkgray, darkgrey, \
          lightred, lightgreen, lightyellow, lightblue, lightmagenta, lightcyan) or \
          \"#rrggbb\""
        ]
    );
    assert_eq!(
        problems(&format!("{HEAD}password_env = \"P\"\ngroup = \" \"\n")),
        ["7:9: connection 'a': field 'group': is empty; remove the line to leave it unset"]
    );
}

#[test]
fn unknown_top_level_tables_warn_but_typos_and_stray_keys_fail() {
    let cfg = config::parse(
        &format!("{HEAD}password_env = \"P\"\n\n[theme]\naccent = \"red\"\n\n[[hooks]]\nx = 1\n"),
        Path::new("f.toml"),
    )
    .expect("unknown tables are fine");
    assert_eq!(
        cfg.warnings,
        [
            "f.toml:8: unknown table 'theme' is ignored (valid top-level keys: settings, \
             connection)",
            "f.toml:11: unknown table 'hooks' is ignored (valid top-level keys: settings, \
             connection)",
        ]
    );

    // A misspelt known table is an error, as is a bare key at the top.
    assert_eq!(
        problems("[setings]\ntimeout = \"1m\"\n"),
        [
            "1:2: field 'setings': unknown top-level key; did you mean 'settings'; valid \
          top-level keys: settings, connection"
        ]
    );
    assert_eq!(
        problems("timeout = \"1m\"\n"),
        [
            "1:1: field 'timeout': unknown top-level key; valid top-level keys: settings, \
          connection"
        ]
    );
    // Inside a connection, unknown keys stay errors.
    assert!(
        problems(&format!("{HEAD}password_env = \"P\"\ncolour = \"red\"\n"))[0]
            .contains("field 'colour': unknown field; did you mean 'color'")
    );
}

/// True when this machine plainly has no Secret Service to talk to.
fn headless() -> bool {
    cfg!(target_os = "linux") && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
}

#[tokio::test]
async fn keyring_fails_fast_with_a_clear_message_when_there_is_none() {
    let source = SecretSource::Keyring {
        account: "actsm-test-no-such-entry".into(),
    };
    let started = Instant::now();
    let result = source.resolve(Duration::from_secs(30)).await;
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");

    match result {
        Err(
            err @ (SecretError::KeyringUnavailable { .. } | SecretError::KeyringTimeout { .. }),
        ) => {
            let text = err.to_string();
            assert!(
                text.contains("no OS keyring available on this machine"),
                "{text}"
            );
            assert!(
                text.ends_with("use password_env or password_command"),
                "{text}"
            );
        }
        // A desktop with a keyring but no such entry.
        Err(err @ SecretError::KeyringNoEntry { .. }) if !headless() => {
            assert!(err.to_string().contains(KEYRING_SERVICE));
        }
        other => panic!("unexpected result {other:?}"),
    }

    if headless() {
        let started = Instant::now();
        let err = store_in_keyring("actsm-test-no-such-entry", &Secret::from("hunter2"))
            .await
            .expect_err("no keyring here");
        assert!(started.elapsed() < Duration::from_secs(10));
        let text = format!("{err} {err:?}");
        assert!(
            text.contains("no OS keyring available on this machine"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }
}
