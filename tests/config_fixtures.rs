//! The connections file fixtures: each invalid file has one problem (or a
//! known set), and its error text is asserted line by line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use actsm::config::{self, ConfigError, SecretSource};

const HINT: &str = "to fix the lines above (actsm never changes it); each [[connection]] needs \
                    name, url, database, user and exactly one of password_env, \
                    password_command, password_prompt, keyring, password";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Loads an invalid fixture and returns its path and its error lines.
fn error_lines(name: &str) -> (PathBuf, Vec<String>) {
    let path = fixture(&format!("invalid/{name}.toml"));
    let err = config::load(&path).expect_err("fixture is invalid");
    assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
    let lines = err.to_string().lines().map(str::to_owned).collect();
    (path, lines)
}

/// Asserts the error is exactly `problems` (each after `FILE:`) plus the usual hint.
fn assert_problems(name: &str, problems: &[&str]) {
    let (path, lines) = error_lines(name);
    let file = path.display().to_string();
    let mut want: Vec<String> = problems.iter().map(|p| format!("{file}:{p}")).collect();
    want.push(format!("hint: edit {file} {HINT}"));
    assert_eq!(lines, want);
}

#[test]
fn syntax_error_points_at_the_broken_string() {
    let (path, lines) = error_lines("syntax");
    assert_eq!(
        lines[0],
        format!(
            "{}:3:40: invalid basic string, expected `\"`",
            path.display()
        )
    );
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1].starts_with("hint: this is a TOML syntax error"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("actsm did not change the file"));
}

#[test]
fn unknown_field_is_named_with_a_suggestion_and_the_valid_list() {
    assert_problems(
        "unknown_field",
        &[
            "6:1: connection 'acme': field 'pasword_env': unknown field; did you mean \
           'password_env'; valid fields: name, url, database, user, password_env, \
           password_command, password_prompt, keyring, password, autostart, group, color, note, \
           timeout, connect_timeout, ca_file, insecure_tls, proxy",
        ],
    );
}

#[test]
fn missing_url_points_at_the_connection_header() {
    assert_problems(
        "missing_url",
        &["4:1: connection 'acme': field 'url': missing; add \
           `url = \"https://SERVER/act.web.api\"` to this table"],
    );
}

#[test]
fn two_secret_sources_are_refused() {
    assert_problems(
        "two_secrets",
        &[
            "7:12: connection 'acme': set exactly one of password_env, password_command, \
           password_prompt, keyring, password; found password_env and password",
        ],
    );
}

#[test]
fn no_secret_source_is_refused() {
    assert_problems(
        "no_secret",
        &[
            "1:1: connection 'acme': set exactly one of password_env, password_command, \
           password_prompt, keyring, password; found none",
        ],
    );
}

#[test]
fn bad_duration_shows_the_accepted_form() {
    let (path, lines) = error_lines("bad_duration");
    let expected = format!(
        "{}:2:18: settings: field 'refresh_before': refresh_before = \"5 minuts\" is not a \
         duration; write a number and a unit, like \"5m\", \"90s\" or \"1h 30m\"",
        path.display()
    );
    assert_eq!(lines[0], expected);
    assert_eq!(lines.len(), 2);
}

#[test]
fn duplicate_name_points_at_the_second_and_names_the_first() {
    assert_problems(
        "duplicate_name",
        &[
            "9:8: connection 'acme': field 'name': 'acme' is already used by the connection on \
           line 2; names must be unique",
        ],
    );
}

#[test]
fn non_http_url_is_refused() {
    assert_problems(
        "non_http_url",
        &[
            "3:7: connection 'acme': field 'url': \"ftp://acme.example/act.web.api\" uses scheme \
           'ftp'; only http:// and https:// work, like \"https://SERVER/act.web.api\"",
        ],
    );
}

#[test]
fn empty_string_is_refused() {
    assert_problems(
        "empty_string",
        &["4:12: connection 'acme': field 'database': is empty"],
    );
}

#[test]
fn wrong_type_says_to_quote() {
    assert_problems(
        "wrong_type",
        &[
            "2:11: settings: field 'timeout': invalid type: integer `15`, expected a string; \
           put the value in double quotes",
        ],
    );
}

#[test]
fn single_brackets_are_explained() {
    assert_problems(
        "single_brackets",
        &[
            "1:1: field 'connection': write each connection as [[connection]] (double \
           brackets), not [connection]",
        ],
    );
}

#[test]
fn all_problems_are_collected_in_file_order() {
    let (path, lines) = error_lines("many_problems");
    let file = path.display().to_string();
    let starts: Vec<&str> = lines
        .iter()
        .map(|l| {
            l.strip_prefix(&file)
                .unwrap_or(l)
                .split(": ")
                .next()
                .unwrap_or("")
        })
        .collect();
    assert_eq!(starts, [":2:11", ":4:1", ":4:1", ":6:7", ":14:1", "hint"]);
    assert!(lines[0].contains("settings: field 'timeout': timeout = \"soon\" is not a duration"));
    assert!(lines[1].contains("connection 'first': field 'database': missing"));
    assert!(lines[2].contains("connection 'first': set exactly one of"));
    assert!(
        lines[3]
            .contains("connection 'first': field 'url': \"acme.example\" is not an http(s) URL")
    );
    // The second connection has no name, so it is named by position.
    assert!(lines[4].contains(
        "connection #2: field 'colour': unknown field; did you mean 'color'; valid fields:"
    ));
}

#[test]
fn every_invalid_fixture_fails_with_positions_and_a_hint() {
    for entry in std::fs::read_dir(fixture("invalid")).expect("fixtures dir") {
        let path = entry.expect("entry").path();
        let err = config::load(&path).expect_err("invalid fixture");
        let text = err.to_string();
        let file = path.display().to_string();
        let lines: Vec<&str> = text.lines().collect();
        let (hint, problems) = lines.split_last().expect("at least a hint");
        assert!(hint.starts_with("hint: "), "{text}");
        assert!(!problems.is_empty(), "{text}");
        for line in problems {
            let rest = line
                .strip_prefix(&format!("{file}:"))
                .expect("starts with the file");
            let mut parts = rest.splitn(3, ':');
            let line_no: usize = parts.next().and_then(|n| n.parse().ok()).expect("line");
            let col: usize = parts.next().and_then(|n| n.parse().ok()).expect("column");
            assert!(line_no >= 1 && col >= 1, "{line}");
        }
        assert_eq!(err.problems().len(), problems.len());
    }
}

#[test]
fn valid_full_fixture() {
    let path = fixture("valid/full.toml");
    let cfg = config::load(&path).expect("valid");
    assert_eq!(cfg.path.as_deref(), Some(path.as_path()));
    assert_eq!(cfg.settings.refresh_before, Duration::from_secs(600));
    assert_eq!(cfg.settings.assumed_lifetime, Duration::from_secs(65 * 60));
    assert_eq!(cfg.settings.timeout, Duration::from_secs(30));
    assert_eq!(cfg.connections.len(), 2);

    let acme = cfg.connection("acme").expect("acme");
    // The trailing slash is dropped.
    assert_eq!(acme.url, "https://acme.example/act.web.api");
    assert_eq!(acme.database, "ACME");
    assert_eq!(acme.user, "Jane Doe");
    assert_eq!(acme.secret, SecretSource::Env("ACME_PW".into()));
    assert!(acme.autostart);

    let cloud = cfg.connection("cloud").expect("cloud");
    assert_eq!(
        cloud.secret,
        SecretSource::Command("pass show 'act/bobs old red'".into())
    );
    assert!(!cloud.autostart);
    assert!(cfg.connection("ACME").is_none());
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
}

#[test]
fn valid_minimal_fixture_uses_default_settings_and_warns_nothing() {
    let cfg = config::load(&fixture("valid/minimal.toml")).expect("valid");
    assert_eq!(cfg.settings, config::Settings::default());
    assert_eq!(cfg.connections[0].name, "local");
    // http:// to loopback carries nothing across the network: no warning.
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
}

#[test]
fn valid_empty_fixture_has_no_connections() {
    let cfg = config::load(&fixture("valid/empty.toml")).expect("valid");
    assert!(cfg.connections.is_empty());
}

#[test]
fn warnings_fixture_warns_about_plain_password_url_and_http() {
    let path = fixture("valid/warnings.toml");
    let cfg = config::load(&path).expect("valid");
    let file = path.display().to_string();
    let w = &cfg.warnings;
    assert_eq!(
        w[0],
        format!(
            "connection 'lab' stores its password in plain text in {file}; prefer password_env \
             or password_command"
        )
    );
    assert!(w[1].starts_with(
        "connection 'lab': url \"http://lab.example/api\" does not end in act.web.api"
    ));
    assert!(w[1].contains("https://SERVER/act.web.api"));
    assert!(w[1].contains("https://SERVER/CUSTOMER-api/act.web.api"));
    assert!(w[2].contains("http:// to lab.example"));
    assert!(w[2].contains("unencrypted"));
    // No warning ever holds the password itself.
    assert!(w.iter().all(|w| !w.contains("not-so-secret")));
}

#[test]
fn missing_file_is_an_empty_config_with_its_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nope/connections.toml");
    let cfg = config::load(&path).expect("missing is fine");
    assert!(cfg.connections.is_empty());
    assert_eq!(cfg.path.as_deref(), Some(path.as_path()));
    assert!(!path.exists(), "load must not create the file");
}

#[test]
fn loading_never_writes_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in [
        "valid/full.toml",
        "valid/warnings.toml",
        "invalid/many_problems.toml",
    ] {
        let path = dir.path().join("connections.toml");
        std::fs::copy(fixture(name), &path).expect("copy");
        let before = std::fs::read(&path).expect("read");
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        let _ = config::load(&path);
        assert_eq!(std::fs::read(&path).expect("read"), before, "{name}");
        let after = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        assert_eq!(after, modified, "{name}");
    }
}

#[test]
fn debug_of_a_plain_password_connection_hides_it() {
    let cfg = config::load(&fixture("valid/warnings.toml")).expect("valid");
    let lab = cfg.connection("lab").expect("lab");
    let debug = format!("{lab:?} {cfg:?}");
    assert!(debug.contains("Plain(***)"), "{debug}");
    assert!(!debug.contains("not-so-secret"), "{debug}");
}

#[test]
fn crlf_files_count_lines_the_same() {
    let text = std::fs::read_to_string(fixture("invalid/two_secrets.toml")).expect("read");
    let crlf = text.replace('\n', "\r\n");
    let err = config::parse(&crlf, Path::new("c.toml")).expect_err("invalid");
    assert!(
        err.to_string()
            .starts_with("c.toml:7:12: connection 'acme'"),
        "{err}"
    );
}

#[test]
fn non_utf8_file_names_the_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connections.toml");
    std::fs::write(&path, b"# ok\nname = \"a\xffb\"\n").expect("write");
    let err = config::load(&path).expect_err("not utf-8");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "{}:2:10: the file is not valid UTF-8 text",
            path.display()
        )),
        "{text}"
    );
}

#[test]
fn settings_sanity() {
    let err = config::parse(
        "[settings]\nrefresh_before = \"30m\"\ntimeout = \"0s\"\n",
        Path::new("f.toml"),
    )
    .expect_err("invalid");
    let text = err.to_string();
    assert!(
        text.contains(
            "f.toml:3:11: settings: field 'timeout': timeout = \"0s\" must be longer than zero"
        ),
        "{text}"
    );

    let err = config::parse(
        "[settings]\nrefresh_before = \"30m\"\n",
        Path::new("f.toml"),
    )
    .expect_err("invalid");
    assert!(
        err.to_string().contains(
            "f.toml:2:18: settings: field 'refresh_before': refresh_before (30m) must be shorter \
             than assumed_lifetime (20m)"
        ),
        "{err}"
    );
}

#[test]
fn unknown_top_level_key() {
    let err =
        config::parse("[[conection]]\nname = \"x\"\n", Path::new("f.toml")).expect_err("invalid");
    assert!(
        err.to_string().starts_with(
            "f.toml:1:3: field 'conection': unknown top-level key; did you mean 'connection'; \
             valid top-level keys: settings, connection"
        ),
        "{err}"
    );
}

#[test]
fn bad_password_command_quoting_is_a_load_error() {
    let text = "[[connection]]\nname = \"a\"\nurl = \"https://h/act.web.api\"\ndatabase = \"D\"\n\
                user = \"u\"\npassword_command = \"pass show 'x\"\n";
    let err = config::parse(text, Path::new("f.toml")).expect_err("invalid");
    assert!(
        err.to_string().starts_with(
            "f.toml:6:20: connection 'a': field 'password_command': cannot be split into words: \
             a ' quote is opened and never closed"
        ),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn plain_password_in_a_readable_file_asks_for_chmod_600() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connections.toml");
    std::fs::copy(fixture("valid/warnings.toml"), &path).expect("copy");

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let cfg = config::load(&path).expect("valid");
    let file = path.display().to_string();
    let warning = cfg
        .warnings
        .iter()
        .find(|w| w.contains("chmod"))
        .expect("a permission warning");
    assert!(
        warning.contains(&format!("run `chmod 600 {file}`")),
        "{warning}"
    );
    assert!(warning.contains("mode 644"), "{warning}");

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let cfg = config::load(&path).expect("valid");
    assert!(
        cfg.warnings.iter().all(|w| !w.contains("chmod")),
        "{:?}",
        cfg.warnings
    );

    // A readable file without a plain password is not flagged.
    let path = dir.path().join("env.toml");
    std::fs::copy(fixture("valid/minimal.toml"), &path).expect("copy");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let cfg = config::load(&path).expect("valid");
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
}

#[test]
fn wrong_types_inside_a_connection_name_the_field() {
    let text = "[[connection]]\nname = \"a\"\nurl = \"https://h/act.web.api\"\ndatabase = \"D\"\n\
                user = \"u\"\npassword_env = \"P\"\nautostart = \"yes\"\n";
    let err = config::parse(text, Path::new("f.toml")).expect_err("invalid");
    assert!(
        err.to_string().starts_with(
            "f.toml:7:13: connection 'a': field 'autostart': invalid type: string \"yes\", \
             expected a boolean"
        ),
        "{err}"
    );
}

#[test]
fn credentials_in_a_url_are_never_quoted_back() {
    let text = "[[connection]]\nname = \"acme\"\n\
                url = \"http://jane:hunter2@127.0.0.1/act.web.api\"\n\
                database = \"A\"\nuser = \"u\"\npassword_env = \"X\"\n";
    let err = actsm::config::parse(text, std::path::Path::new("c.toml")).expect_err("invalid");
    let message = err.to_string();
    assert!(
        message.contains("c.toml:3:7: connection 'acme': field 'url'"),
        "{message}"
    );
    assert!(
        message.contains("http://***@127.0.0.1/act.web.api"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!message.contains("jane"), "{message}");
}

#[test]
fn control_characters_are_escaped_and_long_values_cut_in_messages() {
    // TOML escapes: the parsed name holds a real ESC and BEL.
    let name = format!("\"evil\\u001b]0;PWNED\\u0007{}\"", "x".repeat(5000));
    let text = format!(
        "[[connection]]\nname = {name}\nurl = \"http://127.0.0.1/act.web.api\"\n\
         database = \"A\\nB\"\nuser = \"u\"\npassword_env = \"X\"\n"
    );
    let err = actsm::config::parse(&text, std::path::Path::new("c.toml")).expect_err("invalid");
    let message = err.to_string();
    assert!(!message.contains('\u{1b}'), "raw escape in {message:?}");
    assert!(!message.contains('\u{7}'), "raw bell in {message:?}");
    assert!(message.contains("\\u{1b}]0;PWNED"), "{message}");
    assert!(
        message.len() < 2000,
        "a 5000-character name is cut: {} bytes",
        message.len()
    );
    assert!(
        message.contains("field 'database': must be a single line without control characters"),
        "{message}"
    );
}
