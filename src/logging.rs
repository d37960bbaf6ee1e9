//! The diagnostic log: `tracing` events written to one file, never to the
//! terminal, which belongs to the TUI or to a script's stdout.
//!
//! This is distinct from the journal of auth exchanges. Secrets never reach
//! it because they live in types whose `Debug` prints `***`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use tracing_subscriber::EnvFilter;

/// Environment variable holding a `RUST_LOG`-style filter for the log file.
pub const LOG_ENV: &str = "ACTSM_LOG";
/// The filter used when none is given.
pub const DEFAULT_FILTER: &str = "actsm=info";

/// Keeps the log set up; returned by [`init`].
///
/// Writes go straight to the file (no buffer to flush), so dropping the
/// guard loses nothing. It records where the log is, for the help screen.
#[derive(Debug)]
pub struct LogGuard {
    path: PathBuf,
}

impl LogGuard {
    /// The log file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Sends `tracing` events to the file at `path`, appending.
///
/// The filter is `filter` when given (e.g. from a command-line flag), else
/// the `ACTSM_LOG` variable, else [`DEFAULT_FILTER`]; it uses `RUST_LOG`
/// syntax such as `actsm=debug,reqwest=info`. Parent folders are created.
/// On Unix the file is made readable by its owner only. Fails when the
/// filter is invalid, the file cannot be opened, or a global subscriber is
/// already installed.
pub fn init(path: &Path, filter: Option<&str>) -> anyhow::Result<LogGuard> {
    let env = std::env::var(LOG_ENV).ok();
    let filter = build_filter(filter, env.as_deref())?;
    let file = open_log(path)?;

    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_env_filter(filter)
        .with_writer(Arc::new(file))
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot install the log writer: {e}"))?;

    Ok(LogGuard {
        path: path.to_owned(),
    })
}

/// The filter to use: explicit, else from the environment, else the default.
fn build_filter(explicit: Option<&str>, env: Option<&str>) -> anyhow::Result<EnvFilter> {
    let (spec, origin) = match (explicit, env) {
        (Some(f), _) if !f.trim().is_empty() => (f, "the log filter"),
        (_, Some(f)) if !f.trim().is_empty() => (f, LOG_ENV),
        _ => (DEFAULT_FILTER, "the default log filter"),
    };
    EnvFilter::try_new(spec).with_context(|| {
        format!("{origin} \"{spec}\" is not valid; write it like \"actsm=debug\" or \"info\"")
    })
}

/// Opens (creating) the log for appending, owner-only on Unix.
fn open_log(path: &Path) -> anyhow::Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::paths::create_private_dir(parent)
            .with_context(|| format!("cannot create the log folder {}", parent.display()))?;
    }

    let mut options = crate::paths::private_open_options();
    options.create(true).append(true);
    let file = options
        .open(path)
        .with_context(|| format!("cannot open the log file {}", path.display()))?;

    // A file created earlier by something else may be wider; the mode above
    // only applies on creation.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make the log file {} private", path.display()))?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_precedence_and_validation() {
        let f = build_filter(Some("actsm=debug"), Some("warn")).expect("valid");
        assert_eq!(f.to_string(), "actsm=debug");
        let f = build_filter(None, Some("warn")).expect("valid");
        assert_eq!(f.to_string(), "warn");
        let f = build_filter(Some(" "), None).expect("valid");
        assert_eq!(f.to_string(), DEFAULT_FILTER);

        let err = build_filter(Some("actsm=loud"), None).expect_err("invalid level");
        assert!(
            format!("{err:#}").contains("\"actsm=loud\" is not valid"),
            "{err:#}"
        );
        let err = build_filter(None, Some("actsm=[")).expect_err("invalid");
        assert!(format!("{err:#}").contains(LOG_ENV), "{err:#}");
    }

    #[test]
    fn open_log_creates_folders_appends_and_is_private() {
        use std::io::Write as _;

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a/b/actsm.log");
        open_log(&path)
            .expect("open")
            .write_all(b"one\n")
            .expect("write");
        open_log(&path)
            .expect("open")
            .write_all(b"two\n")
            .expect("write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "one\ntwo\n");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            open_log(&path).expect("open");
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
