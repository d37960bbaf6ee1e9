//! Saving the connections file: atomic replace, backup, refusal when the
//! file changed on disk, a failure mid-save, permissions.

use std::path::{Path, PathBuf};

use actsm::config::{self, ConfigDocument, ConnectionDraft, DraftSecret, SaveError, SaveOptions};
use actsm::secret::Secret;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/edit")
        .join(name)
}

/// A temporary folder with a copy of the round-trip fixture as connections.toml.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connections.toml");
    std::fs::copy(fixture("roundtrip.toml"), &path).expect("copy");
    (dir, path)
}

fn draft(name: &str) -> ConnectionDraft {
    ConnectionDraft {
        name: name.into(),
        url: "http://127.0.0.1:9/act.web.api".into(),
        database: "LAB".into(),
        user: "u".into(),
        secret: DraftSecret::Env("LAB_PW".into()),
        ..ConnectionDraft::default()
    }
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn save_replaces_the_file_and_keeps_a_backup() {
    let (dir, path) = setup();
    let original = std::fs::read_to_string(&path).expect("read");
    let mut doc = ConfigDocument::load(&path).expect("load");
    doc.add_connection(&draft("lab")).expect("add");
    let want = doc.text();
    doc.save().expect("save");

    assert_eq!(std::fs::read_to_string(&path).expect("read"), want);
    let backup = dir.path().join("connections.toml.bak");
    assert_eq!(std::fs::read_to_string(&backup).expect("bak"), original);
    assert_eq!(
        listing(dir.path()),
        ["connections.toml", "connections.toml.bak"]
    );
    assert!(!doc.is_modified());
    assert!(!doc.changed_on_disk().expect("stat"));

    // A second save after another edit backs up the first saved version.
    doc.delete_connection("lab").expect("delete");
    doc.save().expect("save again");
    assert_eq!(std::fs::read_to_string(&backup).expect("bak"), want);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), original);
}

#[test]
fn saving_without_changes_writes_nothing() {
    let (dir, path) = setup();
    let modified = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    let mut doc = ConfigDocument::load(&path).expect("load");
    let acme = doc.draft("acme").expect("acme");
    doc.update_connection("acme", &acme).expect("no-op");
    doc.save().expect("nothing to save");
    assert_eq!(listing(dir.path()), ["connections.toml"]);
    let after = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(after, modified);
}

#[test]
fn save_refuses_when_the_file_changed_on_disk() {
    let (dir, path) = setup();
    let mut doc = ConfigDocument::load(&path).expect("load");
    doc.add_connection(&draft("lab")).expect("add");

    // Someone else edits the file meanwhile.
    let theirs = format!(
        "{}\n# added in another editor\n",
        std::fs::read_to_string(&path).expect("read")
    );
    std::fs::write(&path, &theirs).expect("write");
    assert!(doc.changed_on_disk().expect("stat"));

    let err = doc.save().expect_err("changed on disk");
    assert!(matches!(err, SaveError::ChangedOnDisk { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("changed on disk since actsm loaded it; nothing was written"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read"), theirs);
    assert_eq!(listing(dir.path()), ["connections.toml"]);

    // Removed on disk counts as changed too.
    std::fs::remove_file(&path).expect("rm");
    assert!(matches!(doc.save(), Err(SaveError::ChangedOnDisk { .. })));
    assert!(!path.exists());
}

#[test]
fn touching_the_file_without_changing_it_is_not_a_change() {
    let (_dir, path) = setup();
    let mut doc = ConfigDocument::load(&path).expect("load");
    doc.add_connection(&draft("lab")).expect("add");
    let same = std::fs::read(&path).expect("read");
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&path, same).expect("rewrite the same bytes");
    doc.save().expect("same content: saves");
    assert!(
        config::load(&path)
            .expect("loads")
            .connection("lab")
            .is_some()
    );
}

#[test]
fn a_failure_after_the_temp_write_leaves_the_original_and_no_temp_file() {
    let (dir, path) = setup();
    let original = std::fs::read(&path).expect("read");
    let mut doc = ConfigDocument::load(&path).expect("load");
    doc.add_connection(&draft("lab")).expect("add");

    let err = doc
        .save_with(SaveOptions {
            fail_after_temp_write: true,
        })
        .expect_err("interrupted");
    assert!(matches!(err, SaveError::Interrupted), "{err:?}");
    assert_eq!(std::fs::read(&path).expect("read"), original);
    assert_eq!(listing(dir.path()), ["connections.toml"]);

    // The edit is still pending and a normal save then works.
    assert!(doc.is_modified());
    doc.save().expect("save");
    assert!(
        config::load(&path)
            .expect("loads")
            .connection("lab")
            .is_some()
    );
}

#[test]
fn saving_creates_a_missing_file_and_its_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("actsm/deeper/connections.toml");
    let mut doc = ConfigDocument::load(&path).expect("load");
    doc.add_connection(&draft("lab")).expect("add");
    doc.save().expect("save");
    let cfg = config::load(&path).expect("loads");
    assert_eq!(cfg.connections[0].name, "lab");
    // No backup of a file that did not exist.
    assert_eq!(
        listing(path.parent().expect("parent")),
        ["connections.toml"]
    );

    // A document of a missing file whose file appeared meanwhile refuses.
    let other = dir.path().join("other.toml");
    let mut doc = ConfigDocument::load(&other).expect("load");
    doc.add_connection(&draft("lab")).expect("add");
    std::fs::write(&other, "# made by hand\n").expect("write");
    assert!(matches!(doc.save(), Err(SaveError::ChangedOnDisk { .. })));
}

#[cfg(unix)]
#[test]
fn permissions_0600_for_plain_passwords_else_kept() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;

    // Without a plain password, the original's mode is kept.
    let (_dir, path) = setup();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let mut doc = ConfigDocument::load(&path).expect("load");
    doc.add_connection(&draft("lab")).expect("add");
    doc.save().expect("save");
    assert_eq!(mode(&path), 0o640);

    // With one, the file becomes 0600, and loading it raises no warning.
    let mut plain = draft("plain");
    plain.secret = DraftSecret::Plain(Secret::from("hunter2"));
    doc.add_connection(&plain).expect("add");
    doc.save().expect("save");
    assert_eq!(mode(&path), 0o600);
    let cfg = config::load(&path).expect("loads");
    assert!(
        cfg.warnings.iter().all(|w| !w.contains("chmod")),
        "{:?}",
        cfg.warnings
    );

    // A new file is 0600 from the start.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connections.toml");
    let mut doc = ConfigDocument::load(&path).expect("load");
    doc.add_connection(&draft("lab")).expect("add");
    doc.save().expect("save");
    assert_eq!(mode(&path), 0o600);
}

#[cfg(unix)]
#[test]
fn a_symlinked_file_is_replaced_through_the_link() {
    let (dir, target) = setup();
    let link = dir.path().join("link.toml");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let mut doc = ConfigDocument::load(&link).expect("load");
    doc.add_connection(&draft("lab")).expect("add");
    doc.save().expect("save");
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("lstat")
            .file_type()
            .is_symlink()
    );
    assert!(
        config::load(&target)
            .expect("loads")
            .connection("lab")
            .is_some()
    );
}

#[test]
fn a_broken_file_is_repaired_by_deleting_the_broken_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connections.toml");
    let text = "[[connection]]\nname = \"broken\"\nurl = \"https://h/act.web.api\"\n\
                user = \"u\"\npassword_env = \"P\"\n";
    std::fs::write(&path, text).expect("write");
    let mut doc = ConfigDocument::load(&path).expect("load");
    // The only edit possible on a broken file is one that fixes it; deleting
    // the broken connection does.
    doc.delete_connection("broken").expect("delete");
    doc.save().expect("save");
    assert!(config::load(&path).expect("loads").connections.is_empty());
}
