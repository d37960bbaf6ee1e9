//! The connections file: types, loading with precise errors, secret sources.
//!
//! This module only reads the user's file; nothing here writes it.

use std::path::PathBuf;
use std::time::Duration;

use crate::secret::Secret;

mod load;
mod source;
mod words;

pub use load::{ConfigError, Problem, load, parse};
pub use source::SecretError;

/// `[settings]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How long before expiry to refresh.
    pub refresh_before: Duration,
    /// Lifetime to assume for a token without an `exp` claim.
    pub assumed_lifetime: Duration,
    /// Total time allowed for one request.
    pub timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            refresh_before: Duration::from_secs(5 * 60),
            assumed_lifetime: Duration::from_secs(20 * 60),
            timeout: Duration::from_secs(15),
        }
    }
}

/// Where a connection's password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `password_env = "VAR"`: an environment variable.
    Env(String),
    /// `password_command = "..."`: a command's stdout, one trailing newline dropped.
    Command(String),
    /// `password = "..."`: plain text in the file (works, always flagged).
    Plain(Secret),
}

/// One `[[connection]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Unique name, used on the command line and in the list.
    pub name: String,
    /// API base URL, ending in `act.web.api` (no trailing slash kept).
    pub url: String,
    /// The Act! database name, sent as `Act-Database-Name`.
    pub database: String,
    /// The Act! user name.
    pub user: String,
    /// Where the password comes from.
    pub secret: SecretSource,
    /// Start this session when the TUI starts.
    pub autostart: bool,
}

/// A loaded connections file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// `[settings]`, defaults filled in.
    pub settings: Settings,
    /// The connections, in file order.
    pub connections: Vec<Connection>,
    /// The file this came from; `None` when nothing was read.
    pub path: Option<PathBuf>,
    /// Things the user should know that are not errors (plain-text passwords, ...).
    pub warnings: Vec<String>,
}

impl Config {
    /// A config with no connections, default settings, no path and no warnings.
    pub fn empty() -> Config {
        Config::default()
    }

    /// The connection called `name`, if any (names are unique and case-sensitive).
    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.name == name)
    }
}
