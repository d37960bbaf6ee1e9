//! Comment-preserving edits of the connections file: exact text after each
//! operation, and refusals with messages for the form.

use std::path::{Path, PathBuf};

use actsm::config::{
    self, ConfigDocument, ConnectionDraft, DraftField, DraftSecret, EditError, FieldError,
    SecretSource, validate_draft,
};
use actsm::secret::Secret;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/edit")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture")
}

fn load(name: &str) -> ConfigDocument {
    ConfigDocument::load(&fixture(name)).expect("loads for editing")
}

fn lab_draft() -> ConnectionDraft {
    ConnectionDraft {
        name: "lab".into(),
        url: "http://127.0.0.1:9/act.web.api".into(),
        database: "LAB".into(),
        user: "u".into(),
        secret: DraftSecret::Prompt,
        color: "cyan".into(),
        note: "the test box".into(),
        ..ConnectionDraft::default()
    }
}

/// The lines only in `before` and the lines only in `after` (a set
/// difference, enough to show that nothing else moved when combined with
/// the exact text).
fn changed_lines(before: &str, after: &str) -> (Vec<String>, Vec<String>) {
    let b: Vec<&str> = before.lines().collect();
    let a: Vec<&str> = after.lines().collect();
    let removed = b
        .iter()
        .filter(|l| !a.contains(l))
        .map(|l| (*l).to_owned())
        .collect();
    let added = a
        .iter()
        .filter(|l| !b.contains(l))
        .map(|l| (*l).to_owned())
        .collect();
    (removed, added)
}

#[test]
fn round_trip_changes_only_the_edited_places() {
    let before = read("roundtrip.toml");
    let mut doc = load("roundtrip.toml");
    assert!(!doc.is_modified());
    assert_eq!(doc.text(), before, "loading alone changes nothing");

    // The unknown top-level table loads, with a warning.
    let cfg = doc.config().expect("valid");
    assert_eq!(cfg.connections.len(), 2);
    assert!(
        cfg.warnings
            .iter()
            .any(|w| w.contains("unknown table 'x-team' is ignored")),
        "{:?}",
        cfg.warnings
    );

    // Edit one connection: a new database and a group.
    let mut cloud = doc.draft("cloud").expect("cloud");
    cloud.database = "BobsNewRed".into();
    cloud.group = "cloud".into();
    doc.update_connection("cloud", &cloud).expect("update");

    // Re-saving acme unchanged touches nothing, not even its trailing slash.
    let acme = doc.draft("acme").expect("acme");
    doc.update_connection("acme", &acme).expect("no-op update");

    doc.add_connection(&lab_draft()).expect("add");
    assert!(doc.is_modified());
    let after = doc.text();
    assert_eq!(after, read("roundtrip.expected.toml"));

    let (removed, added) = changed_lines(&before, &after);
    assert_eq!(removed, ["  database = \"BobsOldRed\""]);
    assert_eq!(
        added,
        [
            "  database = \"BobsNewRed\"",
            "  group = \"cloud\"",
            "name = \"lab\"",
            "url = \"http://127.0.0.1:9/act.web.api\"",
            "database = \"LAB\"",
            "user = \"u\"",
            "password_prompt = true",
            "color = \"cyan\"",
            "note = \"the test box\"",
        ]
    );

    let cfg = doc.config().expect("still valid");
    let lab = cfg.connection("lab").expect("lab");
    assert_eq!(lab.secret, SecretSource::Prompt);
    assert_eq!(lab.color.as_deref(), Some("cyan"));
    assert_eq!(lab.note.as_deref(), Some("the test box"));
    assert_eq!(
        cfg.connection("cloud").and_then(|c| c.group.as_deref()),
        Some("cloud")
    );
}

#[test]
fn round_trip_through_a_saved_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connections.toml");
    std::fs::copy(fixture("roundtrip.toml"), &path).expect("copy");

    let mut doc = ConfigDocument::load(&path).expect("load");
    let mut cloud = doc.draft("cloud").expect("cloud");
    cloud.database = "BobsNewRed".into();
    cloud.group = "cloud".into();
    doc.update_connection("cloud", &cloud).expect("update");
    doc.add_connection(&lab_draft()).expect("add");
    doc.save().expect("save");

    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        read("roundtrip.expected.toml")
    );
    // What was saved loads with the plain loader, and reloading for edit is clean.
    assert_eq!(config::load(&path).expect("loads").connections.len(), 3);
    let again = ConfigDocument::load(&path).expect("reload");
    assert!(!again.is_modified());
}

#[test]
fn changing_the_secret_kind_replaces_the_key_in_place() {
    let mut doc = load("roundtrip.toml");
    let mut acme = doc.draft("acme").expect("acme");
    acme.secret = DraftSecret::Keyring;
    doc.update_connection("acme", &acme).expect("update");
    let text = doc.text();
    // Same place, same spacing; the old value's comment went with it.
    assert!(
        text.contains("user     = \"Jane Doe\"\nkeyring = true\nautostart = true\n"),
        "{text}"
    );
    assert!(!text.contains("password_env"), "{text}");
    assert!(!text.contains("set in ~/.profile"), "{text}");

    // Same kind, new value: in place, trailing comment kept.
    let mut doc = load("roundtrip.toml");
    let mut acme = doc.draft("acme").expect("acme");
    acme.secret = DraftSecret::Env("ACME_PASSWORD".into());
    doc.update_connection("acme", &acme).expect("update");
    assert!(
        doc.text()
            .contains("password_env = \"ACME_PASSWORD\"  # set in ~/.profile\n")
    );
}

#[test]
fn clearing_labels_and_autostart() {
    let mut doc = load("roundtrip.toml");
    let mut acme = doc.draft("acme").expect("acme");
    acme.autostart = false;
    doc.update_connection("acme", &acme).expect("update");
    let text = doc.text();
    assert!(text.contains("autostart = false\n"), "{text}");

    let mut doc = load("sources.toml");
    let mut typed = doc.draft("typed").expect("typed");
    assert_eq!(typed.group, "Lab", "the loader trims the group");
    typed.group.clear();
    typed.note.clear();
    doc.update_connection("typed", &typed).expect("update");
    let text = doc.text();
    assert!(!text.contains("group") && !text.contains("note"), "{text}");
    assert!(text.contains("color = \"#1E90ff\""), "{text}");
}

#[test]
fn renaming_changes_only_the_name() {
    let before = read("roundtrip.toml");
    let mut doc = load("roundtrip.toml");
    let mut acme = doc.draft("acme").expect("acme");
    acme.name = "acme-prod".into();
    doc.update_connection("acme", &acme).expect("rename");
    assert_eq!(
        doc.text(),
        before.replace("name     = \"acme\"", "name     = \"acme-prod\"")
    );
    assert_eq!(doc.connection_names(), ["acme-prod", "cloud"]);
}

#[test]
fn delete_keeps_section_comments_and_drops_its_own() {
    let before = read("delete.toml");

    // The middle one: its own header comment and its commented-out key go;
    // the section heading above it stays.
    let mut doc = load("delete.toml");
    doc.delete_connection("lab1").expect("delete");
    let want = before.replace(
        "# lab one: the old box\n[[connection]]\nname = \"lab1\"\n\
         url = \"http://127.0.0.1:8080/act.web.api\"\ndatabase = \"LAB\"\nuser = \"u\"\n\
         password_prompt = true\n# password_env = \"LAB_OLD\"  (retired)\n\n",
        "",
    );
    assert_eq!(doc.text(), want);

    // The first one: the file's heading stays, with one blank line after it.
    let mut doc = load("delete.toml");
    doc.delete_connection("first").expect("delete");
    assert!(
        doc.text().starts_with(
            "# My Act! connections.\n# Edited by hand and from actsm.\n\n\
             # ---- Lab machines ----\n\n# lab one: the old box\n[[connection]]\nname = \"lab1\""
        ),
        "{}",
        doc.text()
    );

    // The last one: the comment trailing the one before stays, and so does
    // the remark at the end of the file.
    let mut doc = load("delete.toml");
    doc.delete_connection("lab2").expect("delete");
    assert!(
        doc.text().ends_with(
            "password_prompt = true\n# password_env = \"LAB_OLD\"  (retired)\n\n\
             # trailing remark\n"
        ),
        "{}",
        doc.text()
    );
    assert_eq!(doc.connection_names(), ["first", "lab1"]);

    // All of them: what is left still loads.
    let mut doc = load("delete.toml");
    for name in ["lab1", "first", "lab2"] {
        doc.delete_connection(name).expect("delete");
    }
    assert!(doc.config().expect("valid").connections.is_empty());
    assert!(doc.text().starts_with("# My Act! connections.\n"));
}

#[test]
fn duplicate_goes_right_after_the_original() {
    let mut doc = load("delete.toml");
    doc.duplicate_connection("lab1", "lab1-copy")
        .expect("duplicate");
    let text = doc.text();
    assert!(
        text.contains(
            "password_prompt = true\n# password_env = \"LAB_OLD\"  (retired)\n\n\
             [[connection]]\nname = \"lab1-copy\"\nurl = \"http://127.0.0.1:8080/act.web.api\"\n\
             database = \"LAB\"\nuser = \"u\"\npassword_prompt = true\n\n# lab two\n"
        ),
        "{text}"
    );
    assert_eq!(
        doc.connection_names(),
        ["first", "lab1", "lab1-copy", "lab2"]
    );

    let err = doc
        .duplicate_connection("lab1", "lab2")
        .expect_err("name taken");
    assert_eq!(
        err.field_errors(),
        [FieldError {
            field: DraftField::Name,
            message: "'lab2' is already used by another connection; names must be unique".into()
        }]
    );
    assert!(matches!(
        doc.duplicate_connection("nope", "x"),
        Err(EditError::NotFound { .. })
    ));
}

#[test]
fn adding_to_a_missing_file_starts_a_clean_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut doc = ConfigDocument::load(&dir.path().join("new/connections.toml")).expect("load");
    assert_eq!(doc.text(), "");
    doc.add_connection(&lab_draft()).expect("add");
    let mut second = lab_draft();
    second.name = "lab2".into();
    second.secret = DraftSecret::Env("LAB_PW".into());
    second.color.clear();
    second.note.clear();
    second.autostart = true;
    doc.add_connection(&second).expect("add");
    assert_eq!(
        doc.text(),
        "[[connection]]\nname = \"lab\"\nurl = \"http://127.0.0.1:9/act.web.api\"\n\
         database = \"LAB\"\nuser = \"u\"\npassword_prompt = true\ncolor = \"cyan\"\n\
         note = \"the test box\"\n\n[[connection]]\nname = \"lab2\"\n\
         url = \"http://127.0.0.1:9/act.web.api\"\ndatabase = \"LAB\"\nuser = \"u\"\n\
         password_env = \"LAB_PW\"\nautostart = true\n"
    );
}

#[test]
fn validate_draft_messages() {
    let empty = ConnectionDraft::default();
    let errors = validate_draft(&empty, &["acme"]);
    let fields: Vec<DraftField> = errors.iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [
            DraftField::Name,
            DraftField::Url,
            DraftField::Database,
            DraftField::User,
            DraftField::Secret
        ]
    );
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "a name is required",
            "a URL is required, like https://SERVER/act.web.api",
            "the Act! database name is required",
            "the Act! user name is required",
            "choose where the password comes from: an environment variable, a command, a \
             prompt, the OS keyring or plain text",
        ]
    );

    let mut draft = lab_draft();
    assert!(validate_draft(&draft, &["acme"]).is_empty());

    draft.name = "acme".into();
    draft.url = "ftp://x/act.web.api".into();
    draft.color = "pink".into();
    draft.secret = DraftSecret::Env("MY VAR".into());
    let errors = validate_draft(&draft, &["acme"]);
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "name: 'acme' is already used by another connection; names must be unique",
            "url: \"ftp://x/act.web.api\" uses scheme 'ftp'; only http:// and https:// work, \
             like \"https://SERVER/act.web.api\"",
            "secret: \"MY VAR\" is not an environment variable name (like ACME_PW)",
            "color: \"pink\" is not a colour; use a name (black, red, green, yellow, blue, \
             magenta, cyan, white, gray, grey, darkgray, darkgrey, lightred, lightgreen, \
             lightyellow, lightblue, lightmagenta, lightcyan) or \"#rrggbb\"",
        ]
    );

    draft = lab_draft();
    draft.secret = DraftSecret::Command("pass 'open".into());
    assert_eq!(
        validate_draft(&draft, &[] as &[&str])[0].message,
        "the command cannot be split into words: a ' quote is opened and never closed"
    );
    draft.secret = DraftSecret::Plain(Secret::from(""));
    assert_eq!(
        validate_draft(&draft, &[] as &[&str])[0].message,
        "the password is empty"
    );
    draft.url = "https://u:p@h/act.web.api".into();
    draft.secret = DraftSecret::Keyring;
    assert_eq!(
        validate_draft(&draft, &[] as &[&str])[0].to_string(),
        "url: \"https://u:p@h/act.web.api\" must not contain credentials; put them in user \
         and a password field"
    );
}

#[test]
fn invalid_drafts_are_refused_and_the_document_is_unchanged() {
    let mut doc = load("roundtrip.toml");
    let before = doc.text();

    let mut dup = lab_draft();
    dup.name = "acme".into();
    let err = doc.add_connection(&dup).expect_err("duplicate");
    assert!(matches!(&err, EditError::Draft(e) if e[0].field == DraftField::Name));

    // Updating a connection may keep its own name.
    let mut acme = doc.draft("acme").expect("acme");
    acme.url = "not a url".into();
    let err = doc.update_connection("acme", &acme).expect_err("bad url");
    assert_eq!(err.field_errors()[0].field, DraftField::Url);
    assert!(err.to_string().starts_with("url: \"not a url\""), "{err}");

    assert!(matches!(
        doc.update_connection("nope", &lab_draft()),
        Err(EditError::NotFound { name, .. }) if name == "nope"
    ));
    assert!(matches!(
        doc.delete_connection("nope"),
        Err(EditError::NotFound { .. })
    ));
    assert_eq!(doc.text(), before);
}

#[test]
fn an_edit_that_would_break_the_file_is_refused_with_the_loader_problems() {
    // The file has a second, broken connection; adding one more would still
    // leave a file the loader refuses, so the edit is refused and explained.
    let text = "[[connection]]\nname = \"ok\"\nurl = \"https://h/act.web.api\"\n\
                database = \"D\"\nuser = \"u\"\npassword_env = \"P\"\n\n\
                [[connection]]\nname = \"broken\"\nurl = \"https://h/act.web.api\"\n\
                user = \"u\"\npassword_env = \"P\"\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connections.toml");
    std::fs::write(&path, text).expect("write");
    let mut doc = ConfigDocument::load(&path).expect("editable even with problems");
    let err = doc.add_connection(&lab_draft()).expect_err("still broken");
    let EditError::Invalid(inner) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(inner.problems()[0].field.as_deref(), Some("database"));
    assert_eq!(err.field_errors()[0].field, DraftField::Database);
    assert_eq!(doc.text(), text);

    // Fixing the broken one by editing it is allowed.
    let mut fixed = lab_draft();
    fixed.name = "broken".into();
    doc.update_connection("broken", &fixed).expect("fix");
    assert_eq!(doc.config().expect("valid").connections.len(), 2);
}

#[test]
fn syntax_errors_cannot_be_edited_and_say_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connections.toml");
    std::fs::write(&path, "[[connection]\nname = \"x\"\n").expect("write");
    let err = ConfigDocument::load(&path).expect_err("syntax error");
    assert!(matches!(err, EditError::Invalid(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("{}:1:", path.display())),
        "{err}"
    );
}

#[test]
fn inline_connection_arrays_are_not_edited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connections.toml");
    std::fs::write(
        &path,
        "connection = [{ name = \"a\", url = \"https://h/act.web.api\", database = \"D\", \
         user = \"u\", password_env = \"P\" }]\n",
    )
    .expect("write");
    let mut doc = ConfigDocument::load(&path).expect("load");
    let err = doc.add_connection(&lab_draft()).expect_err("inline");
    assert!(err.to_string().contains("[[connection]] tables"), "{err}");
}

#[test]
fn secrets_never_show_in_debug() {
    let mut draft = lab_draft();
    draft.secret = DraftSecret::Plain(Secret::from("hunter2"));
    let debug = format!("{draft:?}");
    assert!(debug.contains("Plain(***)"), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");

    let mut doc = load("roundtrip.toml");
    draft.name = "plain".into();
    doc.add_connection(&draft).expect("add");
    assert!(doc.text().contains("password = \"hunter2\""));
    let debug = format!("{doc:?}");
    assert!(!debug.contains("hunter2"), "{debug}");

    // A draft read back from the file hides it too.
    let back = doc.draft("plain").expect("plain");
    assert_eq!(back.secret, DraftSecret::Plain(Secret::from("hunter2")));
    assert!(!format!("{back:?}").contains("hunter2"));
}

#[test]
fn comments_at_the_end_of_the_file_stay_above_new_connections_and_survive_deletes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("connections.toml");
    let original = "# My hand-written connections file\n#   odd   spacing   comment\n\n\
                    # keep this line\n";
    std::fs::write(&path, original).expect("write");
    let mut doc = ConfigDocument::load(&path).expect("loads");

    let mut first = lab_draft();
    first.name = "one".into();
    doc.add_connection(&first).expect("add one");
    let mut second = lab_draft();
    second.name = "two".into();
    doc.add_connection(&second).expect("add two");

    let text = doc.text();
    assert!(
        text.starts_with(original),
        "comments stay at the top, as written:\n{text}"
    );
    let one = text.find("name = \"one\"").expect("one");
    let two = text.find("name = \"two\"").expect("two");
    assert!(
        one < two,
        "new connections go after the earlier ones:\n{text}"
    );

    doc.delete_connection("one").expect("delete one");
    doc.delete_connection("two").expect("delete two");
    assert!(
        doc.text().starts_with(original),
        "deletes keep them:\n{}",
        doc.text()
    );
}
