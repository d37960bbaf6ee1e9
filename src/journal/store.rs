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
#[derive(Debug, Clone, Default)]
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

        // Rotate before a write that would take the file past the limit (a single batch
        // larger than the limit still goes into one file: lines are never split).
        let path = self.path();
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        if size > 0 && size + text.len() as u64 > self.rotate_at {
            self.rotate()?;
        }
        let mut file = private_open_options()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_err("open", &path))?;
        // A crash mid-write can leave a torn last line; start on a fresh line so that
        // only the torn one is lost, not the first one written after it.
        if ends_torn(&mut file) {
            text.insert(0, '\n');
        }
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

/// True when `file` is non-empty and does not end with a newline.
fn ends_torn(file: &mut std::fs::File) -> bool {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let mut last = [0u8; 1];
    file.seek(SeekFrom::End(-1)).is_ok() && file.read_exact(&mut last).is_ok() && last[0] != b'\n'
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

/// Receives what [`JournalWriter::spawn_loading`] read back.
type LoadedHook = Box<dyn FnOnce(Loaded) + Send>;

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
        Self::spawn_inner(file, None)
    }

    /// Starts the writer thread for `file`, which first reads back the newest `max`
    /// entries and hands them to `loaded`, then appends what was sent meanwhile and after.
    ///
    /// Reading on this thread keeps a large journal from delaying the first frame, and
    /// reading before the first append keeps this run's entries out of what is read back.
    pub fn spawn_loading(
        file: JournalFile,
        max: usize,
        loaded: impl FnOnce(Loaded) + Send + 'static,
    ) -> std::io::Result<Self> {
        Self::spawn_inner(file, Some((max, Box::new(loaded))))
    }

    fn spawn_inner(file: JournalFile, load: Option<(usize, LoadedHook)>) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<JournalEntry>();
        let thread = std::thread::Builder::new()
            .name("actsm-journal".to_owned())
            .spawn(move || {
                if let Some((max, hook)) = load {
                    hook(file.load(max));
                }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeZone as _, Utc};

    use super::*;
    use crate::act::{CallKind, HttpDetail, Verdict, VerdictKind};
    use crate::journal::record;

    fn entry(n: i64) -> JournalEntry {
        JournalEntry {
            at: Utc
                .timestamp_opt(1_700_000_000 + n, 0)
                .single()
                .expect("valid instant"),
            connection: format!("conn{}", n % 3),
            call: CallKind::Refresh,
            status: Some(401),
            reason: None,
            latency: Duration::from_millis(u64::try_from(n).expect("small")),
            verdict: Verdict::new(VerdictKind::TokenRejected, Some(format!("entry {n}"))),
            meter: None,
            rule: "refresh at T-5m".into(),
            url: "http://127.0.0.1:9/act.web.api/authorize".into(),
            detail: HttpDetail {
                method: "GET".into(),
                request_headers: vec![("authorization".into(), "Bearer ***".into())],
                response_headers: vec![],
                body_excerpt: Some("nope".into()),
            },
        }
    }

    fn details(entries: &[JournalEntry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| e.verdict.detail.clone().unwrap_or_default())
            .collect()
    }

    #[test]
    fn entries_round_trip_through_the_file_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let file = JournalFile::new(dir.path());
        file.append(&[entry(1), entry(2)]).unwrap();
        file.append(&[entry(3)]).unwrap();
        let loaded = file.load(10);
        assert_eq!(loaded.skipped, 0);
        assert_eq!(details(&loaded.entries), ["entry 3", "entry 2", "entry 1"]);
        let back = &loaded.entries[0];
        let original = entry(3);
        assert_eq!(back.at, original.at);
        assert_eq!(back.request_line(), original.request_line());
        assert_eq!(back.detail, original.detail);
        assert_eq!(back.verdict, original.verdict);
        assert_eq!(back.latency, original.latency);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = JournalFile::new(dir.path().join("state"));
        file.append(&[entry(1)]).unwrap();
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn load_keeps_only_the_newest_max_entries() {
        let dir = tempfile::tempdir().unwrap();
        let file = JournalFile::new(dir.path());
        file.append(&(0..50).map(entry).collect::<Vec<_>>())
            .unwrap();
        let loaded = file.load(5);
        assert_eq!(
            details(&loaded.entries),
            ["entry 49", "entry 48", "entry 47", "entry 46", "entry 45"]
        );
    }

    #[test]
    fn a_corrupt_line_and_a_truncated_last_line_are_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let file = JournalFile::new(dir.path());
        file.append(&[entry(1)]).unwrap();
        let mut raw = std::fs::read_to_string(file.path()).unwrap();
        raw.push_str("this is not json\n");
        raw.push_str(&record::to_line(&entry(2)));
        raw.push('\n');
        // A crash mid-write leaves half a line without its newline.
        let half = record::to_line(&entry(3));
        raw.push_str(&half[..half.len() / 2]);
        std::fs::write(file.path(), raw).unwrap();

        let loaded = file.load(10);
        assert_eq!(loaded.skipped, 2);
        assert_eq!(details(&loaded.entries), ["entry 2", "entry 1"]);

        // Appending after the torn line still gives readable lines after it.
        file.append(&[entry(4)]).unwrap();
        let loaded = file.load(10);
        assert_eq!(details(&loaded.entries)[0], "entry 4");
    }

    #[test]
    fn the_file_rotates_and_keeps_two_old_files_which_load_reads_too() {
        let dir = tempfile::tempdir().unwrap();
        // Entries 10..22 all have lines of the same length.
        let line = record::to_line(&entry(10)).len() as u64 + 1;
        // Room for three lines per file.
        let file = JournalFile::new(dir.path()).with_rotate_at(line * 3);
        for n in 10..22 {
            file.append(&[entry(n)]).unwrap();
        }
        assert!(file.path().exists());
        assert!(file.rotated_path(1).exists());
        assert!(file.rotated_path(2).exists());
        assert!(
            !file.rotated_path(3).exists(),
            "only two rotated files are kept"
        );
        for path in [file.path(), file.rotated_path(1), file.rotated_path(2)] {
            assert!(std::fs::metadata(&path).unwrap().len() <= line * 3);
        }
        // 12 entries, 3 per file, 3 files kept: the oldest three are gone.
        let loaded = file.load(100);
        assert_eq!(loaded.entries.len(), 9);
        assert_eq!(details(&loaded.entries)[0], "entry 21");
        assert_eq!(details(&loaded.entries)[8], "entry 13");
        // Reading stops once enough entries are found.
        assert_eq!(details(&file.load(4).entries)[3], "entry 18");
    }

    #[test]
    fn the_writer_appends_everything_sent_before_it_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let file = JournalFile::new(dir.path());
        let writer = JournalWriter::spawn(file.clone()).unwrap();
        for n in 0..20 {
            writer.send(entry(n));
        }
        drop(writer);
        let loaded = file.load(100);
        assert_eq!(loaded.entries.len(), 20);
        assert_eq!(details(&loaded.entries)[0], "entry 19");
    }

    #[test]
    fn an_export_never_overwrites_and_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let first = export(
            dir.path(),
            "journal-export-20260101-120000.jsonl",
            &[entry(1)],
        )
        .unwrap();
        let second = export(
            dir.path(),
            "journal-export-20260101-120000.jsonl",
            &[entry(2)],
        )
        .unwrap();
        assert_ne!(first, second);
        assert!(second.ends_with("journal-export-20260101-120000-2.jsonl"));
        let text = std::fs::read_to_string(&first).unwrap();
        assert_eq!(text, format!("{}\n", record::to_line(&entry(1))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&second).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
