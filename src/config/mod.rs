//! The connections file: types, loading with precise errors, secret sources,
//! comment-preserving edits, atomic saves and watching for outside changes.
//!
//! Loading ([`load`], [`parse`]) only reads the user's file. The one writer is
//! [`ConfigDocument::save`], called when the user edits connections in the app.

use std::path::PathBuf;
use std::time::Duration;

use crate::secret::Secret;

mod edit;
pub mod index;
mod keyring;
mod load;
mod source;
mod watch;
mod words;

pub use edit::{
    ConfigDocument, ConnectionDraft, DraftField, DraftSecret, EditError, FieldError, SaveError,
    SaveOptions, validate_draft,
};
pub use keyring::{KEYRING_SERVICE, KEYRING_TIMEOUT, delete_from_keyring, store_in_keyring};
pub use load::{
    ConfigError, NAMED_COLORS, Problem, check_color, load, load_with_text, parse, read_ca_file,
};
pub(crate) use load::{add_file_warnings, closest, redact_userinfo};
pub use source::{PromptedSecrets, SecretError};
pub use watch::{ConfigDiff, Fingerprint, WatchOptions, diff, watch, watch_with};

/// `[settings]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How long before expiry to refresh.
    pub refresh_before: Duration,
    /// Lifetime to assume for a token without an `exp` claim.
    pub assumed_lifetime: Duration,
    /// Total time allowed for one request.
    pub timeout: Duration,
    /// Time allowed to establish a connection (TCP, TLS and any proxy), within `timeout`.
    pub connect_timeout: Duration,
    /// Planned refreshes of one session come at least this far apart, so a
    /// server issuing tokens that last seconds is not called every second.
    pub min_refresh_interval: Duration,
    /// `theme = "name"`: the TUI's theme (a built-in or one in the config
    /// folder's `themes/`); `None` for the default. Checked when the TUI starts.
    pub theme: Option<String>,
    /// `notify`: how the TUI tells about a failed session or a meter running low.
    pub notify: NotifyMode,
    /// `journal_entries`: how many journal entries the TUI keeps in memory and reloads.
    pub journal_entries: usize,
    /// `mouse = false` turns the TUI's mouse capture off (it hides the terminal's own
    /// text selection unless Shift is held). On by default.
    pub mouse: bool,
}

/// `notify` in `[settings]`: how the TUI calls for attention when a session
/// fails or a rate-limit meter runs low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NotifyMode {
    /// `"off"`: nothing beyond the screen itself.
    Off,
    /// `"bell"` (the default): the terminal bell.
    #[default]
    Bell,
    /// `"desktop"`: the bell, and a desktop notification (OSC 9 or OSC 777)
    /// where the terminal is known to show one.
    Desktop,
}

impl NotifyMode {
    /// The words `notify` accepts.
    pub const NAMES: &'static [&'static str] = &["off", "bell", "desktop"];

    /// The mode for a `notify` value.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "off" => Some(Self::Off),
            "bell" => Some(Self::Bell),
            "desktop" => Some(Self::Desktop),
            _ => None,
        }
    }
}

/// The longest `timeout` or `connect_timeout` accepted: a request that may
/// wait longer is a typo, and would leave `actsm token` hanging for it.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(10 * 60);

impl Default for Settings {
    fn default() -> Self {
        Self {
            refresh_before: Duration::from_secs(5 * 60),
            assumed_lifetime: Duration::from_secs(20 * 60),
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(10),
            min_refresh_interval: Duration::from_secs(30),
            theme: None,
            notify: NotifyMode::Bell,
            journal_entries: crate::journal::DEFAULT_CAPACITY,
            mouse: true,
        }
    }
}

/// Which proxy a connection's requests go through.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum ProxyChoice {
    /// No `proxy` key: the standard `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY`
    /// environment variables decide (and nothing when they are unset).
    #[default]
    Environment,
    /// `proxy = "none"`: connect directly, whatever the environment says.
    Direct,
    /// `proxy = "http://host:port"`: every request of this connection goes through this
    /// proxy; the environment variables are ignored for it. Never holds credentials (the
    /// loader refuses a `user:password@` in it).
    Url(String),
}

/// A connection's transport overrides: timeouts, TLS trust and proxy.
///
/// All default to "as `[settings]` and the platform say".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Transport {
    /// `timeout`: total time for one request, instead of `[settings] timeout`.
    pub timeout: Option<Duration>,
    /// `connect_timeout`: instead of `[settings] connect_timeout`.
    pub connect_timeout: Option<Duration>,
    /// `ca_file`: a PEM bundle of certificates trusted in addition to the platform's roots.
    /// Relative paths in the file are resolved against the file's directory when loading.
    pub ca_file: Option<PathBuf>,
    /// `insecure_tls = true`: accept any certificate (expired, self-signed, another host's).
    pub insecure_tls: bool,
    /// `proxy`.
    pub proxy: ProxyChoice,
}

/// Where a connection's password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `password_env = "VAR"`: an environment variable.
    Env(String),
    /// `password_command = "..."`: a command's stdout, one trailing newline dropped.
    Command(String),
    /// `password_prompt = true`: typed by the user when the session starts and
    /// kept in memory only (see [`PromptedSecrets`]).
    Prompt,
    /// `keyring = true`: the OS keyring (service [`KEYRING_SERVICE`]).
    Keyring {
        /// The keyring account, which is the connection's name; renaming a
        /// connection therefore needs the password stored again under the new name.
        account: String,
    },
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
    /// A free-form group label the list can sort and fold by.
    pub group: Option<String>,
    /// A colour for the list: a named ANSI colour (see [`NAMED_COLORS`]) or `#rrggbb`.
    pub color: Option<String>,
    /// A free-form note shown in the details pane.
    pub note: Option<String>,
    /// Timeouts, TLS trust and proxy for this connection's requests.
    pub transport: Transport,
}

impl Connection {
    /// True when `other` would run the very same session: same URL, database,
    /// user, secret source and transport (timeouts, `ca_file`, `insecure_tls`, proxy).
    /// Group, colour, note and autostart do not count, so a session survives a
    /// change of label.
    pub fn same_session(&self, other: &Connection) -> bool {
        self.name == other.name
            && self.url == other.url
            && self.database == other.database
            && self.user == other.user
            && self.secret == other.secret
            && self.transport == other.transport
    }
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
