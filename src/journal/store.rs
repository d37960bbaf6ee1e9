//! The journal on disk: `journal.jsonl` in the state folder, owner-only (0600),
//! rotated at [`ROTATE_BYTES`] to `journal.1.jsonl` and `journal.2.jsonl`.
//!
//! Several processes append to the same file (the TUI, and `actsm token`,
//! `check` and `status --check` from scripts). Each append takes an advisory
//! lock on `journal.lock` (`File::lock`, i.e. `flock` on Unix) for the
//! size check, the rotation and the write, then releases it; the file is also
//! opened with `O_APPEND` and each batch written with one `write_all`, so even
//! a process that could not take the lock never interleaves inside a line of
//! ordinary size. The lock is held for a single small write: nobody waits long.
//!
//! The TUI writes through a [`JournalWriter`]: a thread fed by a channel, so
//! a slow disk never holds up a frame.

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use chrono::DateTime;

use super::JournalEntry;
use super::record::{from_line, to_line};
use crate::paths::{create_private_dir, private_open_options};

/// The journal's file name in the state folder.
pub const FILE_NAME: &str = "journal.jsonl";
/// The lock file taken around appends and rotation.
pub const LOCK_NAME: &str = "journal.lock";
/// The file is rotated once it reaches this size (5 MB).
pub const ROTATE_BYTES: u64 = 5 * 1024 * 1024;
/// How many rotated files are kept (`journal.1.jsonl`, `journal.2.jsonl`).
pub const KEEP_ROTATED: usize = 2;

/// A journal file operation that failed; names the file.
#[derive(Debug, thiserror::Error)]
#[error("journal file {path}: {action} failed: {source}")]
pub struct JournalError {
    /// What was being done (`open`, `write`, `rotate`, ...).
    pub action: &'static str,
    /// The file.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> JournalError {
    let path = path.to_owned();
    move |source| JournalError {
        action,
        path,
        source,
    }
}

/// What [`JournalFile::load`] found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The entries, newest first.
    pub entries: Vec<JournalEntry>,
    /// Lines that could not be read (corrupt, truncated, from a newer version), skipped.
    pub skipped: usize,
}

/// The journal files in one folder.
#[derive(Debug, Clone)]
pub struct JournalFile {
    dir: PathBuf,
    rotate_at: u64,
}

impl JournalFile {
    /// The journal in `dir` (usually [`crate::paths::state_dir`]), rotated at [`ROTATE_BYTES`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            rotate_at: ROTATE_BYTES,
        }
    }

    /// The journal in the state folder, when there is one.
    pub fn open_default() -> Option<Self> {
        crate::paths::state_dir().map(Self::new)
    }

    /// Rotates at `bytes` instead (tests).
    #[must_use]
    pub fn with_rotate_at(mut self, bytes: u64) -> Self {
        self.rotate_at = bytes.max(1);
        self
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current file, `journal.jsonl`.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Rotated file `n` (1 is the newest), `journal.N.jsonl`.
    pub fn rotated_path(&self, n: usize) -> PathBuf {
        self.dir.join(format!("journal.{n}.jsonl"))
    }

    /// Appends `entries` (oldest first) as one write, rotating first when the file is full.
    pub fn append(&self, entries: &[JournalEntry]) -> Result<(), JournalError> {
        if entries.is_empty() {
            return Ok(());
        }
        create_private_dir(&self.dir).map_err(io_err("create", &self.dir))?;
        let mut text = String::new();
        for entry in entries {
            text.push_str(&to_line(entry));
            text.push('\n');
        }

        let lock_path = self.dir.join(LOCK_NAME);
        let lock = private_open_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io_err("open", &lock_path))?;
        // Without the lock the write is still one O_APPEND write; only a rotation
        // racing another process could then lose a rotated file.
        if let Err(error) = lock.lock() {
            tracing::warn!(path = %lock_path.display(), %error, "journal lock not taken; appending anyway");
        }

        let path = self.path();
        if std::fs::metadata(&path).is_ok_and(|m| m.len() >= self.rotate_at) {
            self.rotate()?;
        }
        let mut file = private_open_options()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_err("open", &path))?;
        file.write_all(text.as_bytes())
            .map_err(io_err("write", &path))?;
        drop(lock);
        Ok(())
    }

    /// `journal.1` becomes `journal.2` (the old `2` is dropped), the current file `journal.1`.
    fn rotate(&self) -> Result<(), JournalError> {
        for n in (1..KEEP_ROTATED).rev() {
            let from = self.rotated_path(n);
            if from.exists() {
                let to = self.rotated_path(n + 1);
                std::fs::rename(&from, &to).map_err(io_err("rotate", &from))?;
            }
        }
        let path = self.path();
        std::fs::rename(&path, self.rotated_path(1)).map_err(io_err("rotate", &path))
    }

    /// The newest `max` entries, newest first, from the current file and then the rotated
    /// ones. A line that cannot be read (corrupt, cut short by a crash) is skipped, counted
    /// and noted in the diagnostic log; a missing file is an empty journal.
    pub fn load(&self, max: usize) -> Loaded {
        let mut loaded = Loaded::default();
        let files =
            std::iter::once(self.path()).chain((1..=KEEP_ROTATED).map(|n| self.rotated_path(n)));
        for path in files {
            if loaded.entries.len() >= max {
                break;
            }
            let file = match std::fs::File::open(&path) {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "journal file not readable; skipped");
                    continue;
                }
            };
            let mut entries = Vec::new();
            for (number, line) in std::io::BufReader::new(file).split(b'\n').enumerate() {
                let line = match line {
                    Ok(line) => line,
                    Err(error) => {
                        tracing::warn!(path = %path.display(), %error, "journal file read failed");
                        break;
                    }
                };
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match std::str::from_utf8(&line)
                    .map_err(|e| e.to_string())
                    .and_then(from_line)
                {
                    Ok(entry) => entries.push(entry),
                    Err(error) => {
                        loaded.skipped += 1;
                        tracing::warn!(
                            path = %path.display(),
                            line = number + 1,
                            %error,
                            "journal line not readable; skipped"
                        );
                    }
                }
            }
            let room = max - loaded.entries.len();
            loaded.entries.extend(entries.into_iter().rev().take(room));
        }
        loaded
    }
}

/// The export file name for `now` (local time): `journal-export-YYYYMMDD-HHMMSS.jsonl`.
pub fn export_name(now: DateTime<chrono::FixedOffset>) -> String {
    format!("journal-export-{}.jsonl", now.format("%Y%m%d-%H%M%S"))
}

/// Writes `entries` in the order given to a new owner-only file `name` in `dir`, in the
/// journal's line format; never overwrites (a second export in the same second gets `-2`).
pub fn export(dir: &Path, name: &str, entries: &[JournalEntry]) -> Result<PathBuf, JournalError> {
    create_private_dir(dir).map_err(io_err("create", dir))?;
    let stem = name.strip_suffix(".jsonl").unwrap_or(name);
    let mut text = String::new();
    for entry in entries {
        text.push_str(&to_line(entry));
        text.push('\n');
    }
    for n in 1..100 {
        let path = if n == 1 {
            dir.join(name)
        } else {
            dir.join(format!("{stem}-{n}.jsonl"))
        };
        match private_open_options()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(text.as_bytes())
                    .map_err(io_err("write", &path))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err("create", &path)(e)),
        }
    }
    let path = dir.join(name);
    Err(io_err("create", &path)(std::io::Error::from(
        std::io::ErrorKind::AlreadyExists,
    )))
}

/// Appends entries on a thread of its own, so the UI never waits for the disk.
///
/// Dropping it closes the channel and waits for the thread to write what was sent.
#[derive(Debug)]
pub struct JournalWriter {
    tx: Option<mpsc::Sender<JournalEntry>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl JournalWriter {
    /// Starts the writer thread for `file`.
    pub fn spawn(file: JournalFile) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<JournalEntry>();
        let thread = std::thread::Builder::new()
            .name("actsm-journal".to_owned())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    // Whatever queued meanwhile goes in the same write.
                    let mut batch = vec![first];
                    batch.extend(rx.try_iter());
                    if let Err(error) = file.append(&batch) {
                        tracing::warn!(%error, "journal entries not written");
                    }
                }
            })?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues `entry` for appending; never blocks.
    pub fn send(&self, entry: JournalEntry) {
        if let Some(tx) = &self.tx {
            // A writer thread that died has logged why; the UI goes on.
            let _ = tx.send(entry);
        }
    }
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
