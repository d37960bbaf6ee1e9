//! The connection index: what `actsm token NAME` and `actsm prompt NAME` need from a
//! connections file, kept beside the token cache so that a cached token is printed
//! without parsing the whole file.
//!
//! Parsing and checking a file of 1,000 connections takes several milliseconds, five
//! times what the rest of a cached `actsm token` costs. The index is a pure function of
//! the file's bytes: it is named by their SHA-256, so it can never describe another
//! version of the file. A lookup reads and hashes the file (tens of microseconds), opens
//! the index of that hash and reads one line. Any doubt (no index, another format, a
//! line that does not decode) answers `None` and the caller takes the full path, which
//! writes the index for next time.
//!
//! An index holds names, URLs, database and user names, never a password or a token.
//!
//! Format, one item per line: `actsm-connection-index/1`, then a JSON object of the
//! settings a cached token is judged by, then one JSON array
//! `[name, url, database, user]` per connection in file order.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use super::{Config, Settings};

/// The first line of every index file.
const MAGIC: &str = "actsm-connection-index/1";
/// Index files end in this.
const EXT: &str = "idx";
/// How many index files are kept: one per version of each connections file in use.
const KEEP: usize = 16;

/// The SHA-256 of a connections file's bytes, naming its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The digest of the file at `path`, read in small pieces: no buffer the size of a
    /// large connections file is allocated (and faulted in) on the quick path.
    pub fn of_file(path: &Path) -> std::io::Result<Self> {
        use std::io::Read as _;
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => hasher.update(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Self(hasher.finalize().into()))
    }

    fn hex(self) -> String {
        self.0.iter().fold(String::with_capacity(64), |mut out, b| {
            use std::fmt::Write as _;
            let _ = write!(out, "{b:02x}");
            out
        })
    }
}

/// One connection as the index knows it: enough to find its cached token and print it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexed {
    /// The connection's name.
    pub name: String,
    /// Its API base URL.
    pub url: String,
    /// Its Act! database.
    pub database: String,
    /// Its Act! user name.
    pub user: String,
}

/// The settings a cached token is judged by, as written in the index.
#[derive(serde::Serialize, serde::Deserialize)]
struct IndexedSettings {
    refresh_before_ms: u64,
    assumed_lifetime_ms: u64,
}

/// The index folder inside the cache folder `cache_dir`.
pub fn index_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("index")
}

fn index_path(dir: &Path, digest: Digest) -> PathBuf {
    dir.join(format!("{}.{EXT}", digest.hex()))
}

/// The connection `name` and the settings of the file whose bytes hash to `digest`, from
/// its index in `dir`; `None` when there is no usable index or no such connection.
///
/// Only `refresh_before` and `assumed_lifetime` of the settings are the file's; the rest
/// are defaults, so the result is only for judging a cached token.
pub fn lookup(dir: &Path, digest: Digest, name: &str) -> Option<(Settings, Indexed)> {
    use std::io::BufRead as _;
    let file = std::fs::File::open(index_path(dir, digest)).ok()?;
    // Read up to the line wanted, no further.
    let mut lines = std::io::BufReader::with_capacity(16 * 1024, file).lines();
    if lines.next()?.ok()? != MAGIC {
        return None;
    }
    let settings: IndexedSettings = serde_json::from_str(&lines.next()?.ok()?).ok()?;
    // Every line starts with the JSON string of its name; compare that first so only the
    // one line wanted is decoded.
    let prefix = format!("[{}", serde_json::to_string(name).ok()?);
    let line = lines.map_while(Result::ok).find(|l| {
        l.strip_prefix(prefix.as_str())
            .is_some_and(|rest| rest.starts_with(','))
    })?;
    let [name, url, database, user]: [String; 4] = serde_json::from_str(&line).ok()?;
    let settings = Settings {
        refresh_before: Duration::from_millis(settings.refresh_before_ms),
        assumed_lifetime: Duration::from_millis(settings.assumed_lifetime_ms),
        ..Settings::default()
    };
    Some((
        settings,
        Indexed {
            name,
            url,
            database,
            user,
        },
    ))
}

/// Writes the index of `config`, loaded from bytes that hash to `digest`, into `dir`,
/// unless it is there already, byte for byte; then removes all but the newest [`KEEP`]
/// index files.
///
/// An index file that differs (damaged, cut short) is replaced: the full path that found
/// it useless must repair it, or every later call would take the full path too.
/// Written owner-only, to a temporary file renamed into place, so a reader never sees
/// half an index.
pub fn store(dir: &Path, digest: Digest, config: &Config) -> std::io::Result<()> {
    let path = index_path(dir, digest);
    let mut text = String::with_capacity(64 + config.connections.len() * 128);
    text.push_str(MAGIC);
    text.push('\n');
    let settings = IndexedSettings {
        refresh_before_ms: millis(config.settings.refresh_before),
        assumed_lifetime_ms: millis(config.settings.assumed_lifetime),
    };
    text.push_str(&serde_json::to_string(&settings).map_err(std::io::Error::other)?);
    text.push('\n');
    for c in &config.connections {
        let line = serde_json::to_string(&[&c.name, &c.url, &c.database, &c.user])
            .map_err(std::io::Error::other)?;
        text.push_str(&line);
        text.push('\n');
    }
    if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    crate::paths::create_private_dir(dir)?;

    let temp = dir.join(format!(
        ".{}.{}.{:08x}.tmp",
        digest.hex(),
        std::process::id(),
        fastrand::u32(..)
    ));
    let written = crate::paths::private_open_options()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .and_then(|()| std::fs::rename(&temp, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    prune(dir);
    Ok(())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Removes all but the [`KEEP`] most recently written index files (and leftover
/// temporary files of writers that died).
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == EXT))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    for (_, path) in files.into_iter().skip(KEEP) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        super::super::parse(text, Path::new("connections.toml")).expect("valid config")
    }

    const FILE: &str = r#"
[settings]
refresh_before = "7m"
assumed_lifetime = "40m"

[[connection]]
name = "acme"
url = "https://acme.example.invalid/act.web.api"
database = "ACME"
user = "Jane"
password_env = "ACME_PW"

[[connection]]
name = "acme-2"
url = "https://two.example.invalid/act.web.api"
database = "Two \"quoted\""
user = "Bob \\ Backslash"
password = "never-in-the-index"
"#;

    #[test]
    fn a_stored_index_finds_each_connection_and_the_settings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let digest = Digest::of(FILE.as_bytes());
        store(dir.path(), digest, &config(FILE)).expect("stored");

        let (settings, acme) = lookup(dir.path(), digest, "acme").expect("acme");
        assert_eq!(acme.url, "https://acme.example.invalid/act.web.api");
        assert_eq!(acme.database, "ACME");
        assert_eq!(acme.user, "Jane");
        assert_eq!(settings.refresh_before, Duration::from_secs(7 * 60));
        assert_eq!(settings.assumed_lifetime, Duration::from_secs(40 * 60));

        // A name that is a prefix of another finds itself, not the longer one.
        let (_, two) = lookup(dir.path(), digest, "acme-2").expect("acme-2");
        assert_eq!(two.database, "Two \"quoted\"");
        assert_eq!(two.user, "Bob \\ Backslash");
        assert!(lookup(dir.path(), digest, "acm").is_none());
        assert!(lookup(dir.path(), digest, "nobody").is_none());
    }

    #[test]
    fn a_file_digest_read_in_pieces_equals_the_digest_of_its_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("connections.toml");
        let big = FILE.repeat(400); // larger than one read
        std::fs::write(&path, &big).expect("write");
        assert_eq!(
            Digest::of_file(&path).expect("digest"),
            Digest::of(big.as_bytes())
        );
    }

    #[test]
    fn another_version_of_the_file_has_no_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        store(dir.path(), Digest::of(FILE.as_bytes()), &config(FILE)).expect("stored");
        let edited = FILE.replace("Jane", "Janet");
        assert!(lookup(dir.path(), Digest::of(edited.as_bytes()), "acme").is_none());
    }

    #[test]
    fn the_index_holds_no_password_and_is_owner_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let digest = Digest::of(FILE.as_bytes());
        store(dir.path(), digest, &config(FILE)).expect("stored");
        let path = index_path(dir.path(), digest);
        let text = std::fs::read_to_string(&path).expect("index");
        assert!(!text.contains("never-in-the-index"));
        assert!(!text.contains("ACME_PW"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_index_is_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let digest = Digest::of(FILE.as_bytes());
        store(dir.path(), digest, &config(FILE)).expect("stored");
        let path = index_path(dir.path(), digest);
        let text = std::fs::read_to_string(&path).expect("index");

        std::fs::write(&path, text.replace(MAGIC, "actsm-connection-index/0")).expect("write");
        assert!(lookup(dir.path(), digest, "acme").is_none());

        std::fs::write(&path, text.replace("\"acme\",", "\"acme\",42,")).expect("write");
        assert!(lookup(dir.path(), digest, "acme").is_none());
    }

    #[test]
    fn storing_again_repairs_a_damaged_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let digest = Digest::of(FILE.as_bytes());
        store(dir.path(), digest, &config(FILE)).expect("stored");
        let path = index_path(dir.path(), digest);
        let good = std::fs::read(&path).expect("index");
        std::fs::write(&path, &good[..good.len() / 2]).expect("cut short");
        assert!(lookup(dir.path(), digest, "acme-2").is_none());

        store(dir.path(), digest, &config(FILE)).expect("stored again");
        assert_eq!(std::fs::read(&path).expect("index"), good);
        assert!(lookup(dir.path(), digest, "acme-2").is_some());
    }

    #[test]
    fn only_the_newest_indexes_are_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        for i in 0..KEEP + 4 {
            let text = FILE.replace("Jane", &format!("Jane{i}"));
            store(dir.path(), Digest::of(text.as_bytes()), &config(&text)).expect("stored");
        }
        let left = std::fs::read_dir(dir.path()).expect("dir").count();
        assert_eq!(left, KEEP);
    }
}
