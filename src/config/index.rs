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
//! An index holds names, URLs, database and user names and byte offsets into the file,
//! never a password or a token.
//!
//! The offsets serve the commands that need the whole connection (`token --fresh`, a
//! cache miss, `exec`): they parse only the lines before the first table, `[settings]`
//! and that one `[[connection]]`, cut from the file. A cut is recorded only when parsing
//! it gave exactly what the full parse gave for that connection and the settings, so the
//! cut parse is the full parse, minus the other connections.
//!
//! A file whose connections name a `ca_file` gets no index: its full parse reads those
//! files too, so its bytes alone do not decide the answer.
//!
//! Format, one item per line: `actsm-connection-index/3`, then a JSON object of the
//! settings a cached token is judged by and where the preamble and `[settings]` are,
//! then one JSON array `[name, url, database, user, [[start, end], ...], check]` per
//! connection in file order (no ranges when its cut could not be verified). `check` is a
//! hash of the file's digest, the settings line and the rest of the array: a damaged
//! line or settings line, or an index under another file's name, is not believed.

use std::io::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use super::{Config, Settings};

/// The first line of every index file.
const MAGIC: &str = "actsm-connection-index/3";
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

/// One connection as the index knows it: enough to find its cached token and print it,
/// and where in the file it is.
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
    /// The pieces of the file to parse for this connection alone (see [`Indexed::cut`]);
    /// `None` when no verified cut exists.
    pieces: Option<Vec<Range<usize>>>,
}

impl Indexed {
    /// The part of `text` (the file the index was made from) that parses to this
    /// connection with the file's settings: the lines before the first table,
    /// `[settings]`, and this `[[connection]]`. `None` when there is no verified cut or
    /// `text` does not fit it.
    pub fn cut(&self, text: &str) -> Option<String> {
        let pieces = self.pieces.as_ref()?;
        let mut out = String::new();
        for piece in pieces {
            out.push_str(text.get(piece.clone())?);
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        Some(out)
    }
}

/// The settings a cached token is judged by, and where the shared pieces are.
#[derive(serde::Serialize, serde::Deserialize)]
struct IndexedSettings {
    refresh_before_ms: u64,
    assumed_lifetime_ms: u64,
    /// The preamble and the `[settings]` tables: part of every connection's cut.
    shared: Vec<[usize; 2]>,
}

/// One line of the index after the settings line, without its check.
type Line = (String, String, String, String, Vec<[usize; 2]>);

/// One line of the index as stored: [`Line`] and its [`check`].
type CheckedLine = (String, String, String, String, Vec<[usize; 2]>, String);

/// The check of the index line `line` (a [`Line`] in JSON), in the index of the file
/// whose digest is `digest` and whose settings line is `settings`: the first 8 bytes of
/// their SHA-256, in hex.
fn check(digest: Digest, settings: &str, line: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(digest.0);
    hasher.update(settings.as_bytes());
    hasher.update(b"\n");
    hasher.update(line.as_bytes());
    Digest(hasher.finalize().into()).hex()[..16].to_owned()
}

/// Where a file's tables are, found by their header lines.
#[derive(Debug, Default, PartialEq, Eq)]
struct Layout {
    /// The text before the first header, then every `[settings]` or `[settings.*]` table.
    shared: Vec<Range<usize>>,
    /// Per `[[connection]]`, its table and any `[connection.*]` tables after it.
    connections: Vec<Vec<Range<usize>>>,
}

/// The header lines of `text` and what they open; `None` for a header that is neither
/// settings nor a connection (the full parse refuses those anyway).
///
/// Headers are recognised by line only: a line inside a multi-line string that looks like
/// one misleads it. That is why every cut is checked against the full parse before it is
/// recorded.
fn layout(text: &str) -> Option<Layout> {
    let mut layout = Layout::default();
    let mut owner = Owner::Shared;
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let header = line.trim_start();
        let next_owner = if let Some(inner) = header.strip_prefix("[[") {
            let name = inner.split("]]").next()?.trim();
            (name == "connection").then_some(Owner::Connection)?;
            Some((Owner::Connection, true))
        } else if let Some(inner) = header.strip_prefix('[') {
            let name = inner.split(']').next()?.trim();
            let first = name.split('.').next().unwrap_or_default().trim();
            match first {
                "settings" => Some((Owner::Shared, false)),
                "connection" if !layout.connections.is_empty() => Some((Owner::Connection, false)),
                _ => return None,
            }
        } else {
            None
        };
        if let Some((next, opens_connection)) = next_owner {
            close(&mut layout, &owner, start..offset);
            if opens_connection {
                layout.connections.push(Vec::new());
            }
            owner = next;
            start = offset;
        }
        offset += line.len();
    }
    close(&mut layout, &owner, start..offset);
    Some(layout)
}

/// Which part of the file a table belongs to.
enum Owner {
    Shared,
    Connection,
}

/// Adds the table at `range` to what `owner` owns.
fn close(layout: &mut Layout, owner: &Owner, range: Range<usize>) {
    if range.is_empty() {
        return;
    }
    match owner {
        Owner::Shared => layout.shared.push(range),
        Owner::Connection => {
            if let Some(last) = layout.connections.last_mut() {
                last.push(range);
            }
        }
    }
}

/// The cut of connection `i` per `layout`, when parsing it gives exactly `config`'s
/// settings and its connection `i`.
fn verified_cut(
    text: &str,
    path: &Path,
    layout: &Layout,
    config: &Config,
    i: usize,
) -> Option<Vec<Range<usize>>> {
    let own = layout.connections.get(i)?;
    let pieces: Vec<Range<usize>> = layout.shared.iter().chain(own).cloned().collect();
    let probe = Indexed {
        name: String::new(),
        url: String::new(),
        database: String::new(),
        user: String::new(),
        pieces: Some(pieces),
    };
    let cut = super::parse(&probe.cut(text)?, path).ok()?;
    let same = cut.settings == config.settings
        && cut.connections.len() == 1
        && cut.connections.first() == config.connections.get(i);
    same.then_some(probe.pieces).flatten()
}

fn to_pairs(ranges: &[Range<usize>]) -> Vec<[usize; 2]> {
    ranges.iter().map(|r| [r.start, r.end]).collect()
}

fn to_ranges(pairs: &[[usize; 2]]) -> Vec<Range<usize>> {
    pairs.iter().map(|[a, b]| *a..*b).collect()
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
    let settings_line = lines.next()?.ok()?;
    let settings: IndexedSettings = serde_json::from_str(&settings_line).ok()?;
    // Every line starts with the JSON string of its name; compare that first so only the
    // one line wanted is decoded.
    let prefix = format!("[{}", serde_json::to_string(name).ok()?);
    let line = lines.map_while(Result::ok).find(|l| {
        l.strip_prefix(prefix.as_str())
            .is_some_and(|rest| rest.starts_with(','))
    })?;
    let (name, url, database, user, own, checked): CheckedLine =
        serde_json::from_str(&line).ok()?;
    let line: Line = (name, url, database, user, own);
    if check(digest, &settings_line, &serde_json::to_string(&line).ok()?) != checked {
        return None;
    }
    let (name, url, database, user, own) = line;
    let pieces = (!own.is_empty()).then(|| {
        let mut pieces = to_ranges(&settings.shared);
        pieces.extend(to_ranges(&own));
        pieces
    });
    let judged_by = Settings {
        refresh_before: Duration::from_millis(settings.refresh_before_ms),
        assumed_lifetime: Duration::from_millis(settings.assumed_lifetime_ms),
        ..Settings::default()
    };
    Some((
        judged_by,
        Indexed {
            name,
            url,
            database,
            user,
            pieces,
        },
    ))
}

/// Writes the index of `config`, parsed from `source`, into `dir`,
/// unless it is there already, byte for byte; then removes all but the newest 16 (`KEEP`)
/// index files.
///
/// An index file that differs (damaged, cut short) is replaced: the full path that found
/// it useless must repair it, or every later call would take the full path too.
/// Written owner-only, to a temporary file renamed into place, so a reader never sees
/// half an index.
pub fn store(dir: &Path, source: &str, config: &Config) -> std::io::Result<()> {
    if config
        .connections
        .iter()
        .any(|c| c.transport.ca_file.is_some())
    {
        return Ok(());
    }
    let digest = Digest::of(source.as_bytes());
    let path = index_path(dir, digest);
    let config_path = config
        .path
        .as_deref()
        .unwrap_or(Path::new("connections.toml"));
    // A layout whose connections do not line up with the parse gives no cuts at all.
    let layout = layout(source).filter(|l| l.connections.len() == config.connections.len());

    let mut text = String::with_capacity(64 + config.connections.len() * 128);
    text.push_str(MAGIC);
    text.push('\n');
    let settings = IndexedSettings {
        refresh_before_ms: millis(config.settings.refresh_before),
        assumed_lifetime_ms: millis(config.settings.assumed_lifetime),
        shared: layout
            .as_ref()
            .map(|l| to_pairs(&l.shared))
            .unwrap_or_default(),
    };
    let settings_line = serde_json::to_string(&settings).map_err(std::io::Error::other)?;
    text.push_str(&settings_line);
    text.push('\n');
    for (i, c) in config.connections.iter().enumerate() {
        let own = layout
            .as_ref()
            .and_then(|l| {
                verified_cut(source, config_path, l, config, i)?;
                l.connections.get(i).map(|own| to_pairs(own))
            })
            .unwrap_or_default();
        let line: Line = (
            c.name.clone(),
            c.url.clone(),
            c.database.clone(),
            c.user.clone(),
            own,
        );
        let json = serde_json::to_string(&line).map_err(std::io::Error::other)?;
        let (name, url, database, user, own) = line;
        let checked: CheckedLine = (
            name,
            url,
            database,
            user,
            own,
            check(digest, &settings_line, &json),
        );
        text.push_str(&serde_json::to_string(&checked).map_err(std::io::Error::other)?);
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

/// How old a temporary file must be before [`prune`] takes it for the leftover of a
/// writer that died: a live writer renames its file within milliseconds.
const STALE_TEMP: Duration = Duration::from_secs(10 * 60);

/// Removes all but the [`KEEP`] most recently written index files, and temporary files
/// older than [`STALE_TEMP`] (left by writers that died).
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Some(modified) = entry.metadata().ok().and_then(|m| m.modified().ok()) else {
            continue;
        };
        match path.extension().and_then(|x| x.to_str()) {
            Some(EXT) => files.push((modified, path)),
            Some("tmp")
                if now
                    .duration_since(modified)
                    .is_ok_and(|age| age > STALE_TEMP) =>
            {
                let _ = std::fs::remove_file(path);
            }
            _ => {}
        }
    }
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
        store(dir.path(), FILE, &config(FILE)).expect("stored");

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

    /// The cut of `name` from an index of `text`, parsed.
    fn cut_config(text: &str, name: &str) -> Option<Config> {
        let dir = tempfile::tempdir().expect("tempdir");
        store(dir.path(), text, &config(text)).expect("stored");
        let (_, indexed) = lookup(dir.path(), Digest::of(text.as_bytes()), name).expect("found");
        let cut = indexed.cut(text)?;
        Some(super::super::parse(&cut, Path::new("connections.toml")).expect("cut parses"))
    }

    #[test]
    fn each_cut_parses_to_the_settings_and_that_connection_alone() {
        let full = config(FILE);
        for (i, name) in ["acme", "acme-2"].into_iter().enumerate() {
            let cut = cut_config(FILE, name).expect("a verified cut");
            assert_eq!(cut.settings, full.settings);
            assert_eq!(cut.connections, vec![full.connections[i].clone()]);
        }
    }

    #[test]
    fn settings_after_the_connections_and_a_preamble_are_in_every_cut() {
        let text = format!(
            "# my servers\n\n{}\n[settings]\ntimeout = \"42s\"\nrefresh_before = \"9m\"\n",
            &FILE[FILE.find("[[connection]]").expect("a connection")..]
        );
        let full = config(&text);
        assert_eq!(full.settings.timeout, Duration::from_secs(42));
        let cut = cut_config(&text, "acme-2").expect("a verified cut");
        assert_eq!(cut.settings, full.settings);
        assert_eq!(cut.connections, vec![full.connections[1].clone()]);
    }

    #[test]
    fn a_header_inside_a_multi_line_string_gives_no_cut_rather_than_a_wrong_one() {
        // The note's second line looks like a header: a line scanner would cut acme's
        // table there. The check against the full parse refuses that cut.
        let text = FILE.replace(
            "password_env = \"ACME_PW\"",
            "password_env = \"ACME_PW\"\nnote = \"\"\"\n[[connection]]\n\"\"\"",
        );
        let full = config(&text);
        assert_eq!(full.connections.len(), 2, "the note is one string");
        assert!(cut_config(&text, "acme").is_none());
        // The index still serves the quick path of `actsm token` for every connection.
        let dir = tempfile::tempdir().expect("tempdir");
        store(dir.path(), &text, &full).expect("stored");
        let digest = Digest::of(text.as_bytes());
        assert!(lookup(dir.path(), digest, "acme").is_some());
        assert!(lookup(dir.path(), digest, "acme-2").is_some());
    }

    #[test]
    fn a_cut_never_reaches_past_the_text_it_is_applied_to() {
        let dir = tempfile::tempdir().expect("tempdir");
        store(dir.path(), FILE, &config(FILE)).expect("stored");
        let (_, indexed) =
            lookup(dir.path(), Digest::of(FILE.as_bytes()), "acme-2").expect("found");
        assert!(indexed.cut(&FILE[..FILE.len() / 2]).is_none());
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
        store(dir.path(), FILE, &config(FILE)).expect("stored");
        let edited = FILE.replace("Jane", "Janet");
        assert!(lookup(dir.path(), Digest::of(edited.as_bytes()), "acme").is_none());
    }

    #[test]
    fn the_index_holds_no_password_and_is_owner_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let digest = Digest::of(FILE.as_bytes());
        store(dir.path(), FILE, &config(FILE)).expect("stored");
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
        store(dir.path(), FILE, &config(FILE)).expect("stored");
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
        store(dir.path(), FILE, &config(FILE)).expect("stored");
        let path = index_path(dir.path(), digest);
        let good = std::fs::read(&path).expect("index");
        std::fs::write(&path, &good[..good.len() / 2]).expect("cut short");
        assert!(lookup(dir.path(), digest, "acme-2").is_none());

        store(dir.path(), FILE, &config(FILE)).expect("stored again");
        assert_eq!(std::fs::read(&path).expect("index"), good);
        assert!(lookup(dir.path(), digest, "acme-2").is_some());
    }

    #[test]
    fn only_the_newest_indexes_are_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        for i in 0..KEEP + 4 {
            let text = FILE.replace("Jane", &format!("Jane{i}"));
            store(dir.path(), &text, &config(&text)).expect("stored");
        }
        let left = std::fs::read_dir(dir.path()).expect("dir").count();
        assert_eq!(left, KEEP);
    }

    #[test]
    fn a_line_changed_on_disk_is_not_believed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let digest = Digest::of(FILE.as_bytes());
        store(dir.path(), FILE, &config(FILE)).expect("stored");
        let path = index_path(dir.path(), digest);
        let text = std::fs::read_to_string(&path).expect("index");

        // One byte of the user: the line still decodes but names another login.
        std::fs::write(&path, text.replacen("\"Jane\"", "\"Jana\"", 1)).expect("write");
        assert!(lookup(dir.path(), digest, "acme").is_none());
        assert!(
            lookup(dir.path(), digest, "acme-2").is_some(),
            "other lines stand"
        );

        // The settings line judges every cached token: a change there voids every line.
        std::fs::write(&path, text.replacen("420000", "42000", 1)).expect("write");
        assert!(lookup(dir.path(), digest, "acme").is_none());
        assert!(lookup(dir.path(), digest, "acme-2").is_none());

        // A whole index copied under another file's name.
        let other = FILE.replace("Jane", "Janet");
        let other_digest = Digest::of(other.as_bytes());
        std::fs::write(index_path(dir.path(), other_digest), &text).expect("write");
        assert!(lookup(dir.path(), other_digest, "acme-2").is_none());
    }

    #[test]
    fn a_file_naming_a_ca_file_gets_no_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = dir.path().join("ca.pem");
        std::fs::copy(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/act_transport/ca.cert.pem"
            ),
            &ca,
        )
        .expect("copy CA");
        let text = FILE.replace(
            "password_env = \"ACME_PW\"",
            &format!(
                "password_env = \"ACME_PW\"\nca_file = {:?}",
                ca.display().to_string()
            ),
        );
        let parsed = config(&text);
        assert!(parsed.connections[0].transport.ca_file.is_some());
        let index = dir.path().join("index");
        store(&index, &text, &parsed).expect("nothing to store");
        assert!(lookup(&index, Digest::of(text.as_bytes()), "acme-2").is_none());
        assert!(!index.exists());
    }

    #[test]
    fn a_temporary_file_left_by_a_dead_writer_is_removed_once_stale() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stale = dir.path().join(".dead.1.0000abcd.tmp");
        let fresh = dir.path().join(".live.2.0000abcd.tmp");
        for path in [&stale, &fresh] {
            std::fs::write(path, "half an index").expect("write");
        }
        let old = std::time::SystemTime::now() - 2 * STALE_TEMP;
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .and_then(|f| f.set_modified(old))
            .expect("age the file");
        store(dir.path(), FILE, &config(FILE)).expect("stored");
        assert!(!stale.exists(), "a stale temporary file is removed");
        assert!(fresh.exists(), "a writer's file in use is left alone");
    }
}
