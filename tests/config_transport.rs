//! The transport fields of the connections file: `[settings] connect_timeout`, and per
//! connection `timeout`, `connect_timeout`, `ca_file`, `insecure_tls` and `proxy`; their
//! errors (with positions), warnings, session identity, and survival through app edits.

use std::path::{Path, PathBuf};
use std::time::Duration;

use actsm::config::{self, ConfigDocument, ConfigError, ProxyChoice, Transport};

const CA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/act_transport/ca.cert.pem"
);

/// A folder with `connections.toml` holding `text`, and a copy of the test CA as `ca.pem`.
fn folder(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(CA, dir.path().join("ca.pem")).expect("copy CA");
    let path = dir.path().join("connections.toml");
    std::fs::write(&path, text).expect("write");
    (dir, path)
}

/// One connection with `extra` lines added to its table.
fn one(extra: &str) -> String {
    format!(
        r#"[[connection]]
name = "acme"
url = "https://act.example.invalid/act.web.api"
database = "Acme"
user = "jane"
password_env = "ACME_PW"
{extra}
"#
    )
}

fn parse_ok(text: &str) -> (tempfile::TempDir, config::Config) {
    let (dir, path) = folder(text);
    let config = config::load(&path).unwrap_or_else(|e| panic!("loads: {e}"));
    (dir, config)
}

/// The problems' `LINE:COL: message` texts.
fn problems(text: &str) -> (tempfile::TempDir, Vec<String>) {
    let (dir, path) = folder(text);
    let err = config::load(&path).expect_err("invalid");
    assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
    let lines = err
        .problems()
        .iter()
        .map(|p| format!("{}:{}: {}", p.line, p.column, p.message))
        .collect();
    (dir, lines)
}

#[test]
fn absent_fields_mean_the_settings_and_the_environment() {
    let (_dir, config) = parse_ok(&one(""));
    assert_eq!(config.settings.connect_timeout, Duration::from_secs(10));
    assert_eq!(config.connections[0].transport, Transport::default());
    assert_eq!(
        config.connections[0].transport.proxy,
        ProxyChoice::Environment
    );
}

#[test]
fn settings_connect_timeout_is_read() {
    let text = format!(
        "[settings]\ntimeout = \"20s\"\nconnect_timeout = \"4s\"\n\n{}",
        one("")
    );
    let (_dir, config) = parse_ok(&text);
    assert_eq!(config.settings.timeout, Duration::from_secs(20));
    assert_eq!(config.settings.connect_timeout, Duration::from_secs(4));
}

#[test]
fn every_transport_field_is_read() {
    let (dir, config) = parse_ok(&one(
        "timeout = \"3s\"\nconnect_timeout = \"1500ms\"\nca_file = \"ca.pem\"\n\
         insecure_tls = true\nproxy = \"http://127.0.0.1:3128\"",
    ));
    let t = &config.connections[0].transport;
    assert_eq!(t.timeout, Some(Duration::from_secs(3)));
    assert_eq!(t.connect_timeout, Some(Duration::from_millis(1500)));
    // Relative to the folder of the connections file.
    assert_eq!(
        t.ca_file.as_deref(),
        Some(dir.path().join("ca.pem").as_path())
    );
    assert!(t.insecure_tls);
    assert_eq!(t.proxy, ProxyChoice::Url("http://127.0.0.1:3128/".into()));
}

#[test]
fn absolute_ca_file_and_proxy_none() {
    let (_dir, config) = parse_ok(&one(&format!(
        "ca_file = \"{CA}\"\nproxy = \"None\"\ninsecure_tls = false"
    )));
    let t = &config.connections[0].transport;
    assert_eq!(t.ca_file.as_deref(), Some(Path::new(CA)));
    assert_eq!(t.proxy, ProxyChoice::Direct);
    assert!(!t.insecure_tls);
}

#[test]
fn bad_durations_are_refused_with_their_position() {
    let (_dir, lines) = problems(&one("timeout = \"3 sekunden\"\nconnect_timeout = \"0s\""));
    assert_eq!(
        lines,
        [
            "7:11: timeout = \"3 sekunden\" is not a duration; write a number and a unit, like \
             \"5m\", \"90s\" or \"1h 30m\"",
            "8:19: connect_timeout = \"0s\" must be longer than zero; remove the line to use \
             [settings] connect_timeout",
        ]
    );
}

#[test]
fn settings_connect_timeout_must_be_a_positive_duration() {
    let (_dir, lines) = problems(&format!(
        "[settings]\nconnect_timeout = \"0s\"\n\n{}",
        one("")
    ));
    assert_eq!(
        lines,
        ["2:19: connect_timeout = \"0s\" must be longer than zero"]
    );
    let (_dir, lines) = problems(&format!(
        "[settings]\nconnect_timeout = \"soon\"\n\n{}",
        one("")
    ));
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("2:19: connect_timeout = \"soon\" is not a duration"));
}

#[test]
fn a_missing_ca_file_is_named_with_what_to_do() {
    let (dir, lines) = problems(&one("ca_file = \"missing.pem\""));
    let missing = dir.path().join("missing.pem");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("7:11: cannot read the CA file "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains(&missing.display().to_string()),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("check the path"), "{}", lines[0]);
}

#[test]
fn a_ca_file_that_is_not_pem_says_how_to_convert_it() {
    let (dir, path) = folder(&one("ca_file = \"ca.der\""));
    std::fs::write(dir.path().join("ca.der"), [0x30_u8, 0x82, 0x03, 0x00]).expect("write");
    let err = config::load(&path).expect_err("invalid");
    let text = err.to_string();
    assert!(text.contains("connections.toml:7:11:"), "{text}");
    assert!(text.contains("field 'ca_file'"), "{text}");
    assert!(text.contains("holds no PEM certificate"), "{text}");
    assert!(text.contains("openssl x509 -inform der"), "{text}");
}

#[test]
fn an_empty_ca_file_value_is_refused() {
    let (_dir, lines) = problems(&one("ca_file = \"  \""));
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("7:11: is empty"), "{}", lines[0]);
}

#[test]
fn bad_proxies_are_refused() {
    for (value, expect) in [
        ("proxy = \"127.0.0.1:3128\"", "no http:// in front"),
        ("proxy = \"localhost:3128\"", "no http:// in front"),
        ("proxy = \"not a url\"", "is not a URL"),
        (
            "proxy = \"socks5://127.0.0.1:1080\"",
            "uses scheme 'socks5'",
        ),
        (
            "proxy = \"http://bob:pw@127.0.0.1:3128\"",
            "contains a user name or password",
        ),
        ("proxy = \"\"", "is not a URL"),
    ] {
        let (_dir, lines) = problems(&one(value));
        assert_eq!(lines.len(), 1, "{value}: {lines:?}");
        assert!(lines[0].starts_with("7:9: "), "{value}: {}", lines[0]);
        assert!(lines[0].contains(expect), "{value}: {}", lines[0]);
        assert!(lines[0].contains("proxy = \"none\"") || lines[0].contains("credentials"));
        // The password never appears in the message.
        assert!(!lines[0].contains("bob:pw"), "{}", lines[0]);
    }
}

#[test]
fn a_proxy_must_be_a_string() {
    let (_dir, lines) = problems(&one("proxy = false"));
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains("string"), "{}", lines[0]);
    let (_dir, lines) = problems(&one("insecure_tls = \"yes\""));
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains("bool"), "{}", lines[0]);
}

#[test]
fn insecure_tls_and_remote_plain_http_are_warned_about() {
    let (_dir, config) = parse_ok(&one("insecure_tls = true"));
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(config.warnings[0].contains("connection 'acme': insecure_tls = true"));
    assert!(config.warnings[0].contains("accepts any certificate"));

    let text = one("").replace("https://act.example.invalid", "http://act.example.invalid");
    let (_dir, config) = parse_ok(&text);
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(config.warnings[0].contains("Basic credentials"));
    assert!(config.warnings[0].contains("unencrypted"));

    let text = one("").replace("https://act.example.invalid", "http://127.0.0.1:5000");
    let (_dir, config) = parse_ok(&text);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn a_transport_change_is_another_session() {
    let (_dir, base) = parse_ok(&one(""));
    let base = &base.connections[0];
    for extra in [
        "timeout = \"3s\"",
        "connect_timeout = \"3s\"",
        "ca_file = \"ca.pem\"",
        "insecure_tls = true",
        "proxy = \"none\"",
        "proxy = \"http://127.0.0.1:3128\"",
    ] {
        let (_dir, changed) = parse_ok(&one(extra));
        assert!(!base.same_session(&changed.connections[0]), "{extra}");
    }
    let (_dir, same) = parse_ok(&one("note = \"only a label\""));
    assert!(base.same_session(&same.connections[0]));
}

#[test]
fn editing_a_connection_in_the_app_keeps_its_transport_fields() {
    let text = format!(
        "# company servers\n{}",
        one(
            "timeout = \"3s\"\nconnect_timeout = \"2s\"\nca_file = \"ca.pem\" # company root\n\
             insecure_tls = true\nproxy = \"http://127.0.0.1:3128\""
        )
    );
    let (_dir, path) = folder(&text);
    let before = config::load(&path).expect("loads").connections[0].clone();

    let mut doc = ConfigDocument::load(&path).expect("loads for editing");
    let mut draft = doc.draft("acme").expect("draft");
    draft.note = "edited in the form".into();
    draft.url = "https://act2.example.invalid/act.web.api".into();
    doc.update_connection("acme", &draft).expect("edit");
    doc.save().expect("save");

    let saved = std::fs::read_to_string(&path).expect("read");
    assert!(
        saved.contains("ca_file = \"ca.pem\" # company root"),
        "{saved}"
    );
    let after = config::load(&path).expect("loads").connections[0].clone();
    assert_eq!(after.transport, before.transport);
    assert_eq!(after.note.as_deref(), Some("edited in the form"));

    // A duplicate made in the app keeps them too.
    let mut doc = ConfigDocument::load(&path).expect("loads for editing");
    doc.duplicate_connection("acme", "acme-copy")
        .expect("duplicate");
    doc.save().expect("save");
    let config = config::load(&path).expect("loads");
    let copy = config.connection("acme-copy").expect("copy");
    assert_eq!(copy.transport, before.transport);
}

#[test]
fn timeouts_longer_than_ten_minutes_are_refused() {
    let (_dir, lines) = problems(&format!(
        "[settings]\ntimeout = \"1000000h\"\n\n{}",
        one("connect_timeout = \"2h\"")
    ));
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines[0].starts_with("2:11: timeout = \"1000000h\" is longer than 10m"));
    assert!(lines[1].starts_with("10:19: connect_timeout = \"2h\" is longer than 10m"));
}

#[test]
fn min_refresh_interval_is_read_with_a_default() {
    let (_dir, config) = parse_ok(&one(""));
    assert_eq!(
        config.settings.min_refresh_interval,
        Duration::from_secs(30)
    );
    let text = format!("[settings]\nmin_refresh_interval = \"5s\"\n\n{}", one(""));
    let (_dir, config) = parse_ok(&text);
    assert_eq!(config.settings.min_refresh_interval, Duration::from_secs(5));
}

#[cfg(unix)]
#[test]
fn ca_file_that_is_a_fifo_a_device_or_huge_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("ca.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let huge = dir.path().join("huge.pem");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(1 << 30))
        .expect("sparse file");
    for path in [fifo.as_path(), Path::new("/dev/zero"), huge.as_path()] {
        // Would block on the FIFO or eat memory on /dev/zero if it were read.
        let err = config::read_ca_file(path).expect_err("refused");
        assert!(err.contains(&path.display().to_string()), "{err}");
    }
}
