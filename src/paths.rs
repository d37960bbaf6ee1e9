//! Where actsm keeps its files: the connections file, state (log, journal,
//! token cache) and cache.
//!
//! Platform folders come from [`directories`]. Two environment variables
//! override them, so tests, the demo and users with unusual layouts can
//! point actsm elsewhere without touching the real folders:
//!
//! - `ACTSM_CONFIG`: the connections file (the `--config` flag wins over it).
//! - `ACTSM_STATE_DIR`: the state folder; the cache then lives under it too.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use directories::ProjectDirs;

/// Environment variable naming the connections file.
pub const CONFIG_ENV: &str = "ACTSM_CONFIG";
/// Environment variable naming the state folder.
pub const STATE_DIR_ENV: &str = "ACTSM_STATE_DIR";
/// File name of the connections file inside the config folder.
pub const CONFIG_FILE_NAME: &str = "connections.toml";
/// File name of the diagnostic log inside the state folder.
pub const LOG_FILE_NAME: &str = "actsm.log";

fn project() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "actsm")
}

/// A non-empty environment variable as a path; empty counts as unset, so
/// `ACTSM_CONFIG= actsm` falls back to the default instead of to "".
fn env_path(var: &str) -> Option<PathBuf> {
    env_path_from(std::env::var_os(var))
}

fn env_path_from(value: Option<OsString>) -> Option<PathBuf> {
    value.filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The default connections file: `~/.config/actsm/connections.toml` on
/// Linux, the platform's config folder elsewhere. `None` when no home
/// folder can be found.
pub fn config_file() -> Option<PathBuf> {
    project().map(|p| p.config_dir().join(CONFIG_FILE_NAME))
}

/// The connections file to use: the `--config` flag, else `ACTSM_CONFIG`,
/// else [`config_file`].
pub fn resolve_config(cli: Option<PathBuf>) -> Option<PathBuf> {
    choose_config(cli, env_path(CONFIG_ENV), config_file())
}

fn choose_config(
    cli: Option<PathBuf>,
    env: Option<PathBuf>,
    default: Option<PathBuf>,
) -> Option<PathBuf> {
    cli.filter(|p| !p.as_os_str().is_empty())
        .or(env)
        .or(default)
}

/// The state folder (log, journal, token cache): `ACTSM_STATE_DIR` if set,
/// else the platform's state folder (`~/.local/state/actsm` on Linux), else
/// its local data folder on platforms without a state folder.
pub fn state_dir() -> Option<PathBuf> {
    env_path(STATE_DIR_ENV).or_else(|| {
        let p = project()?;
        Some(
            p.state_dir()
                .map_or_else(|| p.data_local_dir().to_owned(), ToOwned::to_owned),
        )
    })
}

/// The diagnostic log file: `actsm.log` in [`state_dir`].
pub fn log_file() -> Option<PathBuf> {
    state_dir().map(|d| d.join(LOG_FILE_NAME))
}

/// The cache folder: `cache` under `ACTSM_STATE_DIR` when that is set (so a
/// test or demo run touches nothing outside it), else the platform's cache
/// folder (`~/.cache/actsm` on Linux).
pub fn cache_dir() -> Option<PathBuf> {
    match env_path(STATE_DIR_ENV) {
        Some(state) => Some(state.join("cache")),
        None => project().map(|p| p.cache_dir().to_owned()),
    }
}

/// Creates `dir` and its parents; on Unix the folders created are owner-only (0700).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Open options that create files owner-only (0600) on Unix; elsewhere the
/// platform's per-user defaults apply. The mode only applies on creation.
pub fn private_open_options() -> std::fs::OpenOptions {
    #[cfg_attr(not(unix), allow(unused_mut))] // mutated only on Unix
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_precedence_flag_then_env_then_default() {
        let flag = Some(PathBuf::from("/flag.toml"));
        let env = Some(PathBuf::from("/env.toml"));
        let default = Some(PathBuf::from("/default.toml"));
        assert_eq!(
            choose_config(flag.clone(), env.clone(), default.clone()),
            flag
        );
        assert_eq!(choose_config(None, env.clone(), default.clone()), env);
        assert_eq!(choose_config(None, None, default.clone()), default);
        assert_eq!(
            choose_config(Some(PathBuf::new()), None, default.clone()),
            default
        );
        assert_eq!(choose_config(None, None, None), None);
    }

    #[test]
    fn empty_env_counts_as_unset() {
        assert_eq!(env_path_from(Some(OsString::new())), None);
        assert_eq!(env_path_from(None), None);
        assert_eq!(
            env_path_from(Some(OsString::from("/x"))),
            Some(PathBuf::from("/x"))
        );
    }

    #[test]
    fn default_file_names() {
        // The test environment may have no home folder; check names when it does.
        if let Some(file) = config_file() {
            assert!(
                file.ends_with("actsm/connections.toml"),
                "{}",
                file.display()
            );
        }
        if std::env::var_os(STATE_DIR_ENV).is_none() {
            if let Some(log) = log_file() {
                assert!(log.ends_with("actsm/actsm.log"), "{}", log.display());
            }
            if let Some(cache) = cache_dir() {
                assert!(cache.ends_with("actsm"), "{}", cache.display());
            }
        }
    }

    /// Runs this same test binary again, filtered to `test`, with `env` set:
    /// changing the environment of the running process needs `unsafe`.
    fn rerun_with_env(test: &str, env: &[(&str, &str)]) {
        let exe = std::env::current_exe().expect("test binary path");
        let mut cmd = std::process::Command::new(exe);
        cmd.args([test, "--exact", "--nocapture"])
            .env("ACTSM_PATHS_CHILD", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("rerun");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("1 passed"), "{stdout}");
    }

    #[test]
    fn env_overrides() {
        if std::env::var_os("ACTSM_PATHS_CHILD").is_some() {
            assert_eq!(state_dir(), Some(PathBuf::from("/tmp/actsm-state")));
            assert_eq!(
                log_file(),
                Some(PathBuf::from("/tmp/actsm-state/actsm.log"))
            );
            assert_eq!(cache_dir(), Some(PathBuf::from("/tmp/actsm-state/cache")));
            assert_eq!(resolve_config(None), Some(PathBuf::from("/tmp/c.toml")));
            assert_eq!(
                resolve_config(Some(PathBuf::from("/flag.toml"))),
                Some(PathBuf::from("/flag.toml"))
            );
            return;
        }
        rerun_with_env(
            "paths::tests::env_overrides",
            &[
                (STATE_DIR_ENV, "/tmp/actsm-state"),
                (CONFIG_ENV, "/tmp/c.toml"),
            ],
        );
    }
}
