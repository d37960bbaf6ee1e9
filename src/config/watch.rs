//! Noticing outside changes to the connections file, and telling which
//! connections a change touched.
//!
//! Watching polls: every [`WatchOptions::interval`] it reads the file's size,
//! modification time and content hash. That works the same on every
//! platform and filesystem (network shares and editors that replace the file
//! included) and costs nothing worth measuring for a file this small.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{Config, Connection};

/// What a file looked like at one moment: enough to tell that it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Modification time, when the platform reports one.
    pub modified: Option<SystemTime>,
    /// Length in bytes.
    pub len: u64,
    /// SHA-256 of the content.
    pub hash: [u8; 32],
}

impl Fingerprint {
    /// The fingerprint of `bytes` as read, with the given modification time.
    pub fn of_bytes(bytes: &[u8], modified: Option<SystemTime>) -> Self {
        Self {
            modified,
            len: bytes.len() as u64,
            hash: Sha256::digest(bytes).into(),
        }
    }

    /// Reads the file at `path`: `Ok(None)` when it does not exist.
    pub fn read(path: &Path) -> io::Result<Option<Self>> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
                Ok(Some(Self::of_bytes(&bytes, modified)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// True when both describe the same content. The modification time does
    /// not count: a `touch` or a save that wrote the same bytes is no change.
    pub fn same_content(&self, other: &Fingerprint) -> bool {
        self.len == other.len && self.hash == other.hash
    }
}

/// True when two optional fingerprints (absent = no file) describe the same content.
pub(crate) fn same_content(a: Option<&Fingerprint>, b: Option<&Fingerprint>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.same_content(b),
        _ => false,
    }
}

/// How [`watch_with`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchOptions {
    /// How often the file is looked at.
    pub interval: Duration,
    /// After a change is seen, how long the content must stay the same before
    /// it is reported, so that an editor's several writes give one signal.
    pub settle: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            settle: Duration::from_millis(300),
        }
    }
}

/// Watches `path` with the default options; see [`watch_with`].
pub fn watch(path: impl Into<PathBuf>) -> mpsc::Receiver<()> {
    watch_with(path, WatchOptions::default())
}

/// Watches the file at `path` for content changes (creation and removal
/// included) and sends `()` once per settled change.
///
/// Signals coalesce: if the receiver has not taken the last one, no second
/// is queued, so a slow reader never falls behind. The watch stops when the
/// receiver is dropped. The state at the time of the call is the baseline
/// and is not reported. A file that cannot be read (permissions) counts as
/// unchanged until it can be. Must be called within a tokio runtime.
pub fn watch_with(path: impl Into<PathBuf>, options: WatchOptions) -> mpsc::Receiver<()> {
    let path = path.into();
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut last = read(&path).await.ok().flatten();
        let mut ticker = tokio::time::interval(options.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = tx.closed() => return,
                _ = ticker.tick() => {}
            }
            let Ok(now) = read(&path).await else {
                continue;
            };
            if same_content(last.as_ref(), now.as_ref()) {
                continue;
            }

            // Wait until the content stops moving.
            let mut seen = now;
            loop {
                tokio::select! {
                    () = tx.closed() => return,
                    () = tokio::time::sleep(options.settle) => {}
                }
                match read(&path).await {
                    Ok(again) if same_content(seen.as_ref(), again.as_ref()) => break,
                    Ok(again) => seen = again,
                    Err(_) => break,
                }
            }
            last = seen;
            if let Err(mpsc::error::TrySendError::Closed(())) = tx.try_send(()) {
                return;
            }
        }
    });
    rx
}

async fn read(path: &Path) -> io::Result<Option<Fingerprint>> {
    let owned = path.to_owned();
    tokio::task::spawn_blocking(move || Fingerprint::read(&owned))
        .await
        .unwrap_or_else(|join| Err(io::Error::other(join)))
}

/// What changed between two loads of the connections file, by connection name.
///
/// Each list keeps file order (the old file's for `removed`, the new one's
/// for the rest).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    /// Names only in the new config.
    pub added: Vec<String>,
    /// Names only in the old config.
    pub removed: Vec<String>,
    /// Names in both whose session differs (URL, database, user or secret
    /// source): their sessions must restart.
    pub changed: Vec<String>,
    /// Names in both whose session is the same: keep them running. Their
    /// labels (group, colour, note, autostart) may differ; see `relabeled`.
    pub unchanged: Vec<String>,
    /// The subset of `unchanged` whose group, colour, note or autostart differ,
    /// so the list can redraw them.
    pub relabeled: Vec<String>,
    /// True when `[settings]` differ.
    pub settings_changed: bool,
}

impl ConfigDiff {
    /// True when nothing at all differs.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.relabeled.is_empty()
            && !self.settings_changed
    }
}

/// Compares two configs by connection name.
pub fn diff(old: &Config, new: &Config) -> ConfigDiff {
    let mut out = ConfigDiff {
        settings_changed: old.settings != new.settings,
        ..ConfigDiff::default()
    };
    for conn in &new.connections {
        match old.connection(&conn.name) {
            None => out.added.push(conn.name.clone()),
            Some(before) if !before.same_session(conn) => out.changed.push(conn.name.clone()),
            Some(before) => {
                out.unchanged.push(conn.name.clone());
                if !same_labels(before, conn) {
                    out.relabeled.push(conn.name.clone());
                }
            }
        }
    }
    out.removed = old
        .connections
        .iter()
        .filter(|c| new.connection(&c.name).is_none())
        .map(|c| c.name.clone())
        .collect();
    out
}

fn same_labels(a: &Connection, b: &Connection) -> bool {
    a.group == b.group && a.color == b.color && a.note == b.note && a.autostart == b.autostart
}
