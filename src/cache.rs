//! The token cache on disk, shared by the TUI's engine and every command.
//!
//! One JSON file per connection target in the platform cache folder
//! ([`crate::paths::cache_dir`]). The file name is the SHA-256 of the base
//! URL, database and user, so an edited connection never finds the token of
//! its old target. Files are owner-only (0600 in a 0700 folder on Unix) and
//! written atomically: a temporary file in the same folder, then a rename, so
//! a reader sees the old token or the new one, never half of either.
//!
//! Processes that want a new token for the same target coordinate with a lock
//! file per key ([`TokenCache::lock`]): the first authorizes and writes; the
//! others wait, re-read and reuse its token.
//!
//! A file that cannot be read as a cache entry for the connection asked about
//! (corrupt, truncated, foreign, another target) is ignored with a note in the
//! diagnostic log. The notes name the file, never its content.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::act::{Claims, Expiry, ExpirySource, jwt};
use crate::config::{Connection, Settings};
use crate::secret::Token;
use crate::session::{TokenStatus, policy};

/// The `format` field every cache file carries; anything else is not ours.
pub const FORMAT: &str = "actsm-token-cache/1";

/// Extension of cache entries.
const ENTRY_EXT: &str = "json";
/// Extension of lock files.
const LOCK_EXT: &str = "lock";
/// Cache files are tiny; anything much larger is not one of ours.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;

/// Why the cache could not do what was asked. Messages name files, never tokens.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// No cache folder could be found (no home folder, no `ACTSM_STATE_DIR`).
    #[error("no cache folder: set ACTSM_STATE_DIR or HOME")]
    NoFolder,
    /// A file operation failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "write".
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The entry could not be serialized (cannot happen with the types used).
    #[error("could not encode the cache entry: {0}")]
    Encode(#[from] serde_json::Error),
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CacheError {
    let path = path.to_owned();
    move |source| CacheError::Io {
        action,
        path,
        source,
    }
}

/// The name of a connection target's cache files: hex SHA-256 of its base
/// URL, database and user (NUL-separated, so no two targets share a name).
pub fn cache_key(url: &str, database: &str, user: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(url.as_bytes());
    hasher.update([0]);
    hasher.update(database.as_bytes());
    hasher.update([0]);
    hasher.update(user.as_bytes());
    hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            use std::fmt::Write as _;
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// The cache key of a connection.
pub fn key_for(conn: &Connection) -> String {
    cache_key(&conn.url, &conn.database, &conn.user)
}

/// A token read from the cache.
#[derive(Debug, Clone)]
pub struct CachedToken {
    /// The connection's name when the token was written (for `logout NAME`).
    pub name: String,
    /// The base URL it was issued for.
    pub url: String,
    /// The database it was issued for.
    pub database: String,
    /// The user it was issued to.
    pub user: String,
    /// The raw JWT.
    pub token: Token,
    /// When it expires, and how that is known.
    pub expiry: Expiry,
    /// When it was obtained from the server (local clock).
    pub obtained_at: DateTime<Utc>,
    /// The server's clock minus ours at issue (see [`TokenStatus::clock_offset`]).
    pub clock_offset: chrono::Duration,
}

impl CachedToken {
    /// Time left until expiry; negative once expired.
    ///
    /// `now` is our clock; the count is on the server's when its clock was
    /// measured off ours at issue, as the engine plans.
    pub fn remaining(&self, now: DateTime<Utc>) -> chrono::Duration {
        self.expiry
            .remaining(now + crate::session::clock_correction(self.clock_offset))
    }

    /// When the token expires on our clock (see [`TokenStatus::local_expires_at`]).
    pub fn local_expires_at(&self) -> DateTime<Utc> {
        self.expiry.expires_at - crate::session::clock_correction(self.clock_offset)
    }

    /// True when at least `min_life` is left at `now`.
    pub fn has_life(&self, min_life: Duration, now: DateTime<Utc>) -> bool {
        let min = chrono::Duration::from_std(min_life).unwrap_or(chrono::Duration::MAX);
        self.remaining(now) >= min
    }

    /// The life a cached token must have left to be handed out without a new
    /// authorize: `min_life` when given, else the connection's refresh lead
    /// (`min(refresh_before, lifetime / 2)`, as the engine uses).
    pub fn required_life(&self, settings: &Settings, min_life: Option<Duration>) -> Duration {
        min_life.unwrap_or_else(|| policy::refresh_lead(&self.expiry, settings))
    }

    /// True when this token can be handed out at `now` (see [`Self::required_life`]).
    pub fn usable(
        &self,
        settings: &Settings,
        min_life: Option<Duration>,
        now: DateTime<Utc>,
    ) -> bool {
        self.has_life(self.required_life(settings, min_life), now)
    }

    /// The token as a session holds it; claims are decoded again from the JWT
    /// (empty when it does not decode: the cache stores the expiry itself).
    pub fn to_status(&self) -> TokenStatus {
        TokenStatus {
            token: self.token.clone(),
            claims: jwt::decode(self.token.expose()).unwrap_or_else(|_| Claims::default()),
            expiry: self.expiry,
            obtained_at: self.obtained_at,
            clock_offset: self.clock_offset,
        }
    }
}

/// The file's shape. Times are RFC 3339.
#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    format: String,
    name: String,
    url: String,
    database: String,
    user: String,
    token: String,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    expiry_source: String,
    obtained_at: DateTime<Utc>,
    /// Server clock minus ours at issue; absent in entries older than the field.
    #[serde(default)]
    clock_offset_secs: i64,
}

/// Why a file was not taken as an entry; logged, never shown with content.
#[derive(Debug)]
enum Reject {
    Read(std::io::Error),
    TooLarge,
    /// `serde_json`'s category and position only: its message may quote content.
    Json(serde_json::error::Category, usize, usize),
    Format,
    Target,
    ExpirySource,
    Token,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reject::Read(e) => write!(f, "cannot be read ({e})"),
            Reject::TooLarge => f.write_str("is too large to be a cache entry"),
            Reject::Json(category, line, column) => {
                write!(
                    f,
                    "is not a cache entry ({category:?} JSON error at line {line} column {column})"
                )
            }
            Reject::Format => write!(f, "is not an {FORMAT} file"),
            Reject::Target => f.write_str("belongs to another url, database or user"),
            Reject::ExpirySource => f.write_str("has an unknown expiry_source"),
            Reject::Token => f.write_str("holds an empty or multi-line token"),
        }
    }
}

/// The token cache: a folder of entries and lock files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenCache {
    dir: PathBuf,
}

/// Holds a cache key's lock; released on drop.
#[derive(Debug)]
pub struct CacheLock {
    _file: std::fs::File,
}

impl TokenCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The cache in [`crate::paths::cache_dir`]; `None` when there is no such folder.
    pub fn open_default() -> Option<Self> {
        crate::paths::cache_dir().map(Self::new)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry file of `conn`.
    pub fn entry_path(&self, conn: &Connection) -> PathBuf {
        self.dir.join(format!("{}.{ENTRY_EXT}", key_for(conn)))
    }

    /// The lock file of `conn`.
    pub fn lock_path(&self, conn: &Connection) -> PathBuf {
        self.dir.join(format!("{}.{LOCK_EXT}", key_for(conn)))
    }

    /// The cached token of `conn`, expired or not; `None` when there is none
    /// or the file is not a good entry for this target (noted in the log).
    pub fn load(&self, conn: &Connection) -> Option<CachedToken> {
        self.load_target(&conn.url, &conn.database, &conn.user)
    }

    /// The cached token for `user` in `database` at `url` (what [`Self::load`] looks
    /// up for a connection), expired or not.
    pub fn load_target(&self, url: &str, database: &str, user: &str) -> Option<CachedToken> {
        let path = self
            .dir
            .join(format!("{}.{ENTRY_EXT}", cache_key(url, database, user)));
        match read_entry(&path) {
            Ok(None) => None,
            Ok(Some(entry))
                if entry.url != url || entry.database != database || entry.user != user =>
            {
                note_ignored(&path, &Reject::Target);
                None
            }
            Ok(Some(entry)) => Some(entry),
            Err(reject) => {
                note_ignored(&path, &reject);
                None
            }
        }
    }

    /// Writes `status` as the cached token of `conn`, atomically, owner-only.
    pub fn store(&self, conn: &Connection, status: &TokenStatus) -> Result<PathBuf, CacheError> {
        self.prepare_dir()?;
        let entry = Entry {
            format: FORMAT.to_owned(),
            name: conn.name.clone(),
            url: conn.url.clone(),
            database: conn.database.clone(),
            user: conn.user.clone(),
            token: status.token.expose().to_owned(),
            issued_at: status.expiry.issued_at,
            expires_at: status.expiry.expires_at,
            expiry_source: match status.expiry.source {
                ExpirySource::Claim => "claim",
                ExpirySource::Assumed => "assumed",
            }
            .to_owned(),
            obtained_at: status.obtained_at,
            clock_offset_secs: status.clock_offset.num_seconds(),
        };
        let text = zeroize::Zeroizing::new(serde_json::to_vec_pretty(&entry)?);
        drop(zeroize::Zeroizing::new(entry.token));

        let path = self.entry_path(conn);
        let temp = self.dir.join(format!(
            ".{}.{}.{:08x}.tmp",
            key_for(conn),
            std::process::id(),
            fastrand::u32(..)
        ));
        let written = write_new(&temp, &path, &text);
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written?;
        tracing::debug!(connection = %conn.name, file = %path.display(), "token cached");
        Ok(path)
    }

    /// Creates the folder (0700 on Unix) and tightens one that others can read.
    fn prepare_dir(&self) -> Result<(), CacheError> {
        crate::paths::create_private_dir(&self.dir).map_err(io_err("create", &self.dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(&self.dir).map_err(io_err("inspect", &self.dir))?;
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(io_err("restrict", &self.dir))?;
            }
        }
        Ok(())
    }

    /// Takes the lock of `conn`'s key, waiting up to `wait`. `Ok(None)` when
    /// another process still held it after `wait` (the caller goes on
    /// unlocked: a stuck process must not stop every script).
    pub fn lock(&self, conn: &Connection, wait: Duration) -> Result<Option<CacheLock>, CacheError> {
        self.prepare_dir()?;
        let path = self.lock_path(conn);
        let file = crate::paths::private_open_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err("open", &path))?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(CacheLock { _file: file })),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if Instant::now() >= deadline {
                        tracing::warn!(
                            connection = %conn.name,
                            waited_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                            "token cache lock still held by another process; going on without it"
                        );
                        return Ok(None);
                    }
                    // Short, jittered polls: the holder is usually done in one round trip.
                    std::thread::sleep(Duration::from_millis(5 + fastrand::u64(..10)));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io_err("lock", &path)(e)),
            }
        }
    }

    /// Every readable entry in the folder, in no particular order. Unreadable
    /// files are noted in the log and skipped.
    pub fn entries(&self) -> Vec<(PathBuf, CachedToken)> {
        entry_files(&self.dir)
            .into_iter()
            .filter_map(|path| match read_entry(&path) {
                Ok(Some(entry)) => Some((path, entry)),
                Ok(None) => None,
                Err(reject) => {
                    note_ignored(&path, &reject);
                    None
                }
            })
            .collect()
    }

    /// Removes the cached token of `conn`; true when there was one.
    pub fn remove(&self, conn: &Connection) -> Result<bool, CacheError> {
        remove_file(&self.entry_path(conn))
    }

    /// Removes every entry written under the connection name `name` (also
    /// those of its targets before an edit); returns how many.
    pub fn remove_named(&self, name: &str) -> Result<usize, CacheError> {
        let mut removed = 0;
        for (path, entry) in self.entries() {
            if entry.name == name && remove_file(&path)? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Removes every entry file, readable or not; returns how many. Lock files
    /// stay: removing one another process holds would let a third take a
    /// second lock on a new file.
    pub fn remove_all(&self) -> Result<usize, CacheError> {
        let mut removed = 0;
        for path in entry_files(&self.dir) {
            if remove_file(&path)? {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Writes `bytes` to the new owner-only file `temp` and renames it over `path`
/// (atomic on the same file system: readers see the old entry or the new one).
///
/// No fsync: it cost more than the whole authorize in `actsm token --fresh` (about 4 ms
/// of 12 on loopback), and an entry a power cut leaves empty or half-written is only
/// a cache miss, rejected by [`TokenCache::load`] and paid for with one authorize.
fn write_new(temp: &Path, path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let mut file = crate::paths::private_open_options()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(io_err("create", temp))?;
    file.write_all(bytes).map_err(io_err("write", temp))?;
    drop(file);
    std::fs::rename(temp, path).map_err(io_err("replace", path))
}

fn remove_file(path: &Path) -> Result<bool, CacheError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err("remove", path)(e)),
    }
}

/// Entry files (`<64 hex>.json`) in `dir`; none when it does not exist.
fn entry_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    read.flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == ENTRY_EXT)
                && p.file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .collect()
}

fn note_ignored(path: &Path, reject: &Reject) {
    tracing::warn!(file = %path.display(), "ignoring token cache file: it {reject}");
}

/// Reads one entry; `Ok(None)` when the file does not exist.
fn read_entry(path: &Path) -> Result<Option<CachedToken>, Reject> {
    use std::io::Read as _;

    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Reject::Read(e)),
    };
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    file.take(MAX_ENTRY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(Reject::Read)?;
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return Err(Reject::TooLarge);
    }
    let entry: Entry = serde_json::from_slice(&bytes)
        .map_err(|e| Reject::Json(e.classify(), e.line(), e.column()))?;
    if entry.format != FORMAT {
        return Err(Reject::Format);
    }
    let source = match entry.expiry_source.as_str() {
        "claim" => ExpirySource::Claim,
        "assumed" => ExpirySource::Assumed,
        _ => return Err(Reject::ExpirySource),
    };
    if entry.token.is_empty() || entry.token.bytes().any(|b| b.is_ascii_whitespace()) {
        return Err(Reject::Token);
    }
    Ok(Some(CachedToken {
        name: entry.name,
        url: entry.url,
        database: entry.database,
        user: entry.user,
        token: Token::new(entry.token),
        expiry: Expiry {
            issued_at: entry.issued_at,
            expires_at: entry.expires_at,
            source,
        },
        obtained_at: entry.obtained_at,
        clock_offset: chrono::Duration::seconds(entry.clock_offset_secs),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretSource;
    use crate::secret::Secret;

    fn conn(name: &str, user: &str) -> Connection {
        Connection {
            name: name.to_owned(),
            url: "http://127.0.0.1:1/act.web.api".to_owned(),
            database: "Acme".to_owned(),
            user: user.to_owned(),
            secret: SecretSource::Plain(Secret::from("pw")),
            autostart: false,
            group: None,
            color: None,
            note: None,
            transport: crate::config::Transport::default(),
        }
    }

    fn status(lifetime_secs: i64) -> TokenStatus {
        let now = Utc::now();
        TokenStatus {
            token: Token::new("aaaa.bbbb.cccc".to_owned()),
            claims: Claims::default(),
            expiry: Expiry {
                issued_at: now,
                expires_at: now + chrono::Duration::seconds(lifetime_secs),
                source: ExpirySource::Claim,
            },
            obtained_at: now,
            clock_offset: chrono::Duration::zero(),
        }
    }

    #[test]
    fn key_depends_on_url_database_and_user() {
        let a = cache_key("u", "d", "x");
        assert_eq!(a.len(), 64);
        assert_eq!(a, cache_key("u", "d", "x"));
        assert_ne!(a, cache_key("u", "d", "y"));
        assert_ne!(a, cache_key("u", "e", "x"));
        assert_ne!(a, cache_key("v", "d", "x"));
        // The separator keeps "ab"+"c" apart from "a"+"bc".
        assert_ne!(cache_key("ab", "c", "x"), cache_key("a", "bc", "x"));
    }

    #[test]
    fn store_then_load_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = TokenCache::new(dir.path().join("cache"));
        let c = conn("acme", "Jane");
        let s = status(3600);
        cache.store(&c, &s).expect("store");
        let back = cache.load(&c).expect("load");
        assert_eq!(back.token.expose(), "aaaa.bbbb.cccc");
        assert_eq!(back.name, "acme");
        assert_eq!(back.expiry.expires_at, s.expiry.expires_at);
        assert!(back.usable(&Settings::default(), None, Utc::now()));
        // Five minutes of lead: a token with one hour left has enough life.
        assert!(!back.usable(
            &Settings::default(),
            Some(Duration::from_secs(7200)),
            Utc::now()
        ));
        // Another user is another key: nothing cached for it.
        assert!(cache.load(&conn("acme", "Bob")).is_none());
    }

    #[test]
    fn short_life_is_not_usable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = TokenCache::new(dir.path());
        let c = conn("acme", "Jane");
        // 10 s left of a 10 s token: lead is 5 s, so still usable; 1 s needs none.
        cache.store(&c, &status(10)).expect("store");
        let back = cache.load(&c).expect("load");
        assert!(back.usable(&Settings::default(), None, Utc::now()));
        assert!(!back.usable(
            &Settings::default(),
            None,
            Utc::now() + chrono::Duration::seconds(6)
        ));
    }

    #[test]
    fn corrupt_and_foreign_files_are_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = TokenCache::new(dir.path());
        let c = conn("acme", "Jane");
        for junk in [
            &b""[..],
            b"{",
            b"\x00\xff\xfe",
            b"{\"format\":\"other\"}",
            b"[1,2,3]",
        ] {
            std::fs::write(cache.entry_path(&c), junk).expect("write");
            assert!(cache.load(&c).is_none());
        }
        // A well-formed entry for another target under this key's name.
        let other = conn("acme", "Bob");
        cache.store(&other, &status(3600)).expect("store");
        std::fs::rename(cache.entry_path(&other), cache.entry_path(&c)).expect("rename");
        assert!(cache.load(&c).is_none());
    }

    #[test]
    fn remove_by_name_and_all() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = TokenCache::new(dir.path());
        cache.store(&conn("a", "u1"), &status(60)).expect("store");
        cache.store(&conn("a", "u2"), &status(60)).expect("store");
        cache.store(&conn("b", "u3"), &status(60)).expect("store");
        assert_eq!(cache.entries().len(), 3);
        assert_eq!(cache.remove_named("a").expect("remove"), 2);
        assert_eq!(cache.entries().len(), 1);
        assert!(cache.remove(&conn("b", "u3")).expect("remove"));
        assert!(!cache.remove(&conn("b", "u3")).expect("remove"));
        cache.store(&conn("c", "u4"), &status(60)).expect("store");
        assert_eq!(cache.remove_all().expect("remove all"), 1);
        assert!(cache.entries().is_empty());
    }

    #[test]
    fn lock_excludes_a_second_holder_until_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = TokenCache::new(dir.path());
        let c = conn("acme", "Jane");
        let first = cache
            .lock(&c, Duration::from_millis(10))
            .expect("lock")
            .expect("free");
        // A second open file description does not get the lock while the first holds it.
        let second = cache.lock(&c, Duration::from_millis(50)).expect("lock");
        assert!(second.is_none());
        drop(first);
        assert!(
            cache
                .lock(&c, Duration::from_millis(50))
                .expect("lock")
                .is_some()
        );
    }
}
