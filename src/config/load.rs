//! Reading and validating the connections file.
//!
//! The file is parsed once into toml's spanned document tree, so every
//! problem can name the file, line and column it comes from. Each table is
//! checked on its own and all problems are collected, so a user fixing the
//! file sees the whole list at once rather than one error per run.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::IntoDeserializer;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Config, Connection, ProxyChoice, SecretSource, Settings, Transport, words};
use crate::secret::Secret;

/// The keys allowed at the top of the file.
const TOP_FIELDS: &[&str] = &["settings", "connection"];
/// The scope named in `[settings]` problems.
const SCOPE: &str = "settings";
/// The keys allowed in `[settings]`.
const SETTINGS_FIELDS: &[&str] = &[
    "refresh_before",
    "assumed_lifetime",
    "timeout",
    "connect_timeout",
    "min_refresh_interval",
    "theme",
    "notify",
    "journal_entries",
    "mouse",
];
/// Largest `journal_entries` accepted (a million entries is about a gigabyte of memory).
const MAX_JOURNAL_ENTRIES: usize = 1_000_000;

/// The keys allowed in a `[[connection]]`.
const CONNECTION_FIELDS: &[&str] = &[
    "name",
    "url",
    "database",
    "user",
    "password_env",
    "password_command",
    "password_prompt",
    "keyring",
    "password",
    "autostart",
    "group",
    "color",
    "note",
    "timeout",
    "connect_timeout",
    "ca_file",
    "insecure_tls",
    "proxy",
];
/// The keys of which a connection needs exactly one.
pub(crate) const SECRET_FIELDS: &[&str] = &[
    "password_env",
    "password_command",
    "password_prompt",
    "keyring",
    "password",
];
/// The secret keys as a sentence, for messages.
const SECRET_LIST: &str = "password_env, password_command, password_prompt, keyring, password";

/// The colour names a connection's `color` may use, besides `#rrggbb`.
pub const NAMED_COLORS: &[&str] = &[
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "white",
    "gray",
    "grey",
    "darkgray",
    "darkgrey",
    "lightred",
    "lightgreen",
    "lightyellow",
    "lightblue",
    "lightmagenta",
    "lightcyan",
];

/// One thing wrong in the connections file, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What the problem belongs to: `connection 'acme'`, `connection #2`, `settings`.
    pub scope: Option<String>,
    /// The field concerned, when there is one.
    pub field: Option<String>,
    /// What is wrong and, where it helps, what would be right.
    pub message: String,
}

/// Why the connections file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("cannot read the connections file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file was read but holds problems; all of them are listed.
    #[error("{}", render_problems(path, problems, hint))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found, in file order.
        problems: Vec<Problem>,
        /// A last line on how to fix them.
        hint: String,
    },
}

impl ConfigError {
    /// The problems found, empty for a read failure.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Read { .. } => &[],
            Self::Invalid { problems, .. } => problems,
        }
    }
}

fn render_problems(path: &Path, problems: &[Problem], hint: &str) -> String {
    use std::fmt::Write as _;

    // Writing to a String cannot fail.
    let mut out = String::new();
    for p in problems {
        let _ = writeln!(out, "{}:{p}", path.display());
    }
    out.push_str("hint: ");
    out.push_str(hint);
    out
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.line, self.column)?;
        if let Some(scope) = &self.scope {
            write!(f, "{scope}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field '{field}': ")?;
        }
        f.write_str(&self.message)
    }
}

/// Reads and validates the connections file at `path`.
///
/// A missing file is not an error: it gives an empty [`Config`] whose `path`
/// is set, so the app can start and say where connections would go. The
/// file is only read, never written.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with_text(path).map(|(config, _)| config)
}

/// [`load`], also giving the text it parsed (`None` when there was no file), from which
/// the file's [connection index](super::index) is made.
pub fn load_with_text(path: &Path) -> Result<(Config, Option<String>), ConfigError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((
                Config {
                    path: Some(path.to_owned()),
                    ..Config::empty()
                },
                None,
            ));
        }
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };

    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let valid = String::from_utf8_lossy(valid);
            let (line, column) = line_col(&valid, valid.len());
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                problems: vec![Problem {
                    line,
                    column,
                    scope: None,
                    field: None,
                    message: String::from("the file is not valid UTF-8 text"),
                }],
                hint: String::from("save the file as UTF-8; actsm did not change it"),
            });
        }
    };

    let mut config = parse(&text, path)?;
    add_file_warnings(&mut config, path);
    Ok((config, Some(text)))
}

/// Adds the warnings about the file itself (not its text) to `config`, read from `path`.
#[cfg_attr(not(unix), allow(unused_variables))]
pub(crate) fn add_file_warnings(config: &mut Config, path: &Path) {
    #[cfg(unix)]
    if config
        .connections
        .iter()
        .any(|c| matches!(c.secret, SecretSource::Plain(_)))
        && let Some(warning) = permission_warning(path)
    {
        config.warnings.push(warning);
    }
}

/// Warns when a file holding a plain password is readable by group or others.
#[cfg(unix)]
fn permission_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;

    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then(|| {
        format!(
            "{} holds a plain-text password and is readable by other users (mode {mode:03o}); \
             run `chmod 600 {}`",
            path.display(),
            path.display()
        )
    })
}

/// Validates connections-file `text` as if read from `path` (used in
/// messages only; nothing is read or written).
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let mut check = Checker {
        text,
        path,
        problems: Vec::new(),
        warnings: Vec::new(),
    };

    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            check.problem(span, None, None, e.message().trim().to_owned());
            return Err(check.into_error(
                "this is a TOML syntax error: check the quotes, brackets and `key = value` \
                 form at the position shown; actsm did not change the file",
            ));
        }
    };

    let mut settings = Settings::default();
    let mut connections = Vec::new();

    for (key, value) in sorted_entries(root.get_ref()) {
        match key.get_ref().as_ref() {
            "settings" => {
                if let Some(s) = check.settings(value) {
                    settings = s;
                }
            }
            "connection" => connections = check.connections(value),
            other => check.unknown_top_level(key, value, other),
        }
    }

    if check.problems.is_empty() {
        Ok(Config {
            settings,
            connections,
            path: Some(path.to_owned()),
            warnings: check.warnings,
        })
    } else {
        Err(check.into_error(&format!(
            "edit {} to fix the lines above (actsm never changes it); each [[connection]] needs \
             name, url, database, user and exactly one of {SECRET_LIST}",
            path.display()
        )))
    }
}

/// `[settings]` as written, before the durations are parsed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    refresh_before: Option<Spanned<String>>,
    assumed_lifetime: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    min_refresh_interval: Option<Spanned<String>>,
    theme: Option<Spanned<String>>,
    notify: Option<Spanned<String>>,
    journal_entries: Option<Spanned<i64>>,
    mouse: Option<bool>,
}

/// One `[[connection]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConnection {
    name: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    database: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    password_command: Option<Spanned<String>>,
    password_prompt: Option<Spanned<bool>>,
    keyring: Option<Spanned<bool>>,
    password: Option<Spanned<String>>,
    autostart: Option<Spanned<bool>>,
    group: Option<Spanned<String>>,
    color: Option<Spanned<String>>,
    note: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    insecure_tls: Option<Spanned<bool>>,
    proxy: Option<Spanned<String>>,
}

/// Collects problems and warnings while walking the document.
struct Checker<'a> {
    text: &'a str,
    path: &'a Path,
    problems: Vec<Problem>,
    warnings: Vec<String>,
}

impl Checker<'_> {
    fn problem(
        &mut self,
        span: Range<usize>,
        scope: Option<&str>,
        field: Option<&str>,
        message: String,
    ) {
        let (line, column) = line_col(self.text, span.start);
        self.problems.push(Problem {
            line,
            column,
            scope: scope.map(str::to_owned),
            field: field.map(str::to_owned),
            message,
        });
    }

    fn into_error(mut self, hint: &str) -> ConfigError {
        self.problems.sort_by_key(|p| (p.line, p.column));
        ConfigError::Invalid {
            path: self.path.to_owned(),
            problems: self.problems,
            hint: hint.to_owned(),
        }
    }

    /// Judges a top-level key that is neither `settings` nor `connection`.
    ///
    /// A table the app does not know (another tool's section, a future
    /// version's) is kept with a warning, and an edit from the app keeps it
    /// too. A key that looks like a misspelt known one, or a bare value at the
    /// top, is an error: it is most likely a mistake whose intent would be
    /// silently lost.
    fn unknown_top_level(
        &mut self,
        key: &Spanned<toml::de::DeString<'_>>,
        value: &Spanned<DeValue<'_>>,
        name: &str,
    ) {
        let is_table = match value.get_ref() {
            DeValue::Table(_) => true,
            DeValue::Array(items) => items.iter().all(|i| i.get_ref().as_table().is_some()),
            _ => false,
        };
        if is_table && suggestion(name, TOP_FIELDS).is_none() {
            let (line, _) = line_col(self.text, key.span().start);
            self.warnings.push(format!(
                "{}:{line}: unknown table '{name}' is ignored (valid top-level keys: {})",
                self.path.display(),
                TOP_FIELDS.join(", ")
            ));
        } else {
            let message = unknown_message(name, TOP_FIELDS, "top-level key");
            self.problem(key.span(), None, Some(name), message);
        }
    }

    /// Reports keys of `table` not in `allowed`; true when there were none.
    fn known_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], scope: &str) -> bool {
        let mut clean = true;
        for (key, _) in sorted_entries(table) {
            let name: &str = key.get_ref();
            if !allowed.contains(&name) {
                let message = unknown_message(name, allowed, "field");
                self.problem(key.span(), Some(scope), Some(name), message);
                clean = false;
            }
        }
        clean
    }

    /// Reports a serde error from deserializing `value`, naming the field it points into.
    fn serde_problem(&mut self, e: &toml::de::Error, value: &Spanned<DeValue<'_>>, scope: &str) {
        let span = e.span().unwrap_or_else(|| value.span());
        let field = value.get_ref().as_table().and_then(|t| {
            t.iter()
                .find(|(k, v)| contains(&v.span(), &span) || contains(&k.span(), &span))
                .map(|(k, _)| k.get_ref().to_string())
        });
        let mut message = e.message().trim().to_owned();
        if message.contains("expected a string") {
            message.push_str("; put the value in double quotes");
        }
        self.problem(span, Some(scope), field.as_deref(), message);
    }

    fn settings(&mut self, value: &Spanned<DeValue<'_>>) -> Option<Settings> {
        let Some(table) = value.get_ref().as_table() else {
            let message = String::from("'settings' must be a table: write it as [settings]");
            self.problem(value.span(), None, Some("settings"), message);
            return None;
        };
        if !self.known_keys(table, SETTINGS_FIELDS, SCOPE) {
            return None;
        }
        let raw = match RawSettings::deserialize(value.clone().into_deserializer()) {
            Ok(raw) => raw,
            Err(e) => {
                self.serde_problem(&e, value, SCOPE);
                return None;
            }
        };

        let defaults = Settings::default();
        let refresh_before = self.duration(raw.refresh_before.as_ref(), "refresh_before", SCOPE);
        let assumed_lifetime =
            self.duration(raw.assumed_lifetime.as_ref(), "assumed_lifetime", SCOPE);
        let timeout = self.duration(raw.timeout.as_ref(), "timeout", SCOPE);
        let connect_timeout = self.duration(raw.connect_timeout.as_ref(), "connect_timeout", SCOPE);
        let min_refresh_interval = self.duration(
            raw.min_refresh_interval.as_ref(),
            "min_refresh_interval",
            SCOPE,
        );
        let settings = Settings {
            refresh_before: refresh_before?.unwrap_or(defaults.refresh_before),
            assumed_lifetime: assumed_lifetime?.unwrap_or(defaults.assumed_lifetime),
            timeout: timeout?.unwrap_or(defaults.timeout),
            connect_timeout: connect_timeout?.unwrap_or(defaults.connect_timeout),
            min_refresh_interval: min_refresh_interval?.unwrap_or(defaults.min_refresh_interval),
            theme: None,
            notify: defaults.notify,
            journal_entries: defaults.journal_entries,
            mouse: raw.mouse.unwrap_or(defaults.mouse),
        };
        let mut settings = settings;
        if !self.display_settings(&raw, &mut settings) {
            return None;
        }

        // Positive lifetimes, and a refresh that happens before the assumed expiry,
        // or a session without an `exp` claim would refresh in a tight loop.
        let mut ok = true;
        for (raw, field, value) in [
            (
                &raw.assumed_lifetime,
                "assumed_lifetime",
                settings.assumed_lifetime,
            ),
            (&raw.timeout, "timeout", settings.timeout),
            (
                &raw.connect_timeout,
                "connect_timeout",
                settings.connect_timeout,
            ),
        ] {
            if let (Some(raw), true) = (raw, value.is_zero()) {
                let message = format!("{field} = \"{}\" must be longer than zero", raw.get_ref());
                self.problem(raw.span(), Some(SCOPE), Some(field), message);
                ok = false;
            }
        }
        if ok && settings.refresh_before >= settings.assumed_lifetime {
            let span = raw
                .refresh_before
                .as_ref()
                .or(raw.assumed_lifetime.as_ref())
                .map_or_else(|| value.span(), Spanned::span);
            let message = format!(
                "refresh_before ({}) must be shorter than assumed_lifetime ({})",
                humantime::format_duration(settings.refresh_before),
                humantime::format_duration(settings.assumed_lifetime)
            );
            self.problem(span, Some(SCOPE), Some("refresh_before"), message);
            ok = false;
        }
        ok.then_some(settings)
    }

    /// The settings that only shape the TUI (`journal_entries`, `theme`,
    /// `notify`); false after reporting a problem.
    fn display_settings(&mut self, raw: &RawSettings, settings: &mut Settings) -> bool {
        if let Some(raw_entries) = &raw.journal_entries {
            match usize::try_from(*raw_entries.get_ref()) {
                Ok(n) if (1..=MAX_JOURNAL_ENTRIES).contains(&n) => settings.journal_entries = n,
                _ => {
                    let message = format!(
                        "journal_entries = {} must be between 1 and {MAX_JOURNAL_ENTRIES}",
                        raw_entries.get_ref()
                    );
                    self.problem(
                        raw_entries.span(),
                        Some(SCOPE),
                        Some("journal_entries"),
                        message,
                    );
                    return false;
                }
            }
        }
        if let Some(theme) = &raw.theme {
            let name = theme.get_ref().trim();
            if name.is_empty() {
                let message = "theme = \"\" names no theme; leave it out for the default".into();
                self.problem(theme.span(), Some(SCOPE), Some("theme"), message);
                return false;
            }
            // Whether the name exists is checked when the TUI starts, with the
            // user's themes folder: an unknown name must not stop the commands.
            settings.theme = Some(name.to_owned());
        }
        if let Some(notify) = &raw.notify {
            if let Some(mode) = super::NotifyMode::parse(notify.get_ref()) {
                settings.notify = mode;
            } else {
                let message = format!(
                    "notify = \"{}\" is not known; use one of: {}",
                    shown(notify.get_ref()),
                    super::NotifyMode::NAMES.join(", ")
                );
                self.problem(notify.span(), Some(SCOPE), Some("notify"), message);
                return false;
            }
        }
        true
    }

    /// Parses a duration field: `Some(None)` when absent, `None` after reporting a problem.
    #[allow(clippy::option_option)]
    fn duration(
        &mut self,
        raw: Option<&Spanned<String>>,
        field: &str,
        scope: &str,
    ) -> Option<Option<Duration>> {
        let Some(raw) = raw else {
            return Some(None);
        };
        match humantime::parse_duration(raw.get_ref().trim()) {
            Ok(d) if field.ends_with("timeout") && d > super::MAX_TIMEOUT => {
                let message = format!(
                    "{field} = \"{}\" is longer than {}: a request allowed to wait that long \
                     would leave scripts hanging; write a shorter one, like \"30s\"",
                    shown(raw.get_ref()),
                    humantime::format_duration(super::MAX_TIMEOUT)
                );
                self.problem(raw.span(), Some(scope), Some(field), message);
                None
            }
            Ok(d) => Some(Some(d)),
            Err(e) => {
                // humantime's own words ("expected number at 0") help nobody here.
                tracing::debug!(field, error = %e, "duration did not parse");
                let message = format!(
                    "{field} = \"{}\" is not a duration; write a number and a unit, like \
                     \"5m\", \"90s\" or \"1h 30m\"",
                    shown(raw.get_ref())
                );
                self.problem(raw.span(), Some(scope), Some(field), message);
                None
            }
        }
    }

    fn connections(&mut self, value: &Spanned<DeValue<'_>>) -> Vec<Connection> {
        let items = match value.get_ref() {
            DeValue::Array(items) => items,
            DeValue::Table(_) => {
                let message = String::from(
                    "write each connection as [[connection]] (double brackets), not [connection]",
                );
                self.problem(value.span(), None, Some("connection"), message);
                return Vec::new();
            }
            other => {
                let message = format!(
                    "'connection' must be a list of [[connection]] tables, found {}",
                    with_article(other.type_str())
                );
                self.problem(value.span(), None, Some("connection"), message);
                return Vec::new();
            }
        };

        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut connections = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(c) = self.connection(index, item, &mut seen) {
                connections.push(c);
            }
        }
        connections
    }

    #[allow(clippy::too_many_lines)] // one linear pass over one table reads best in one place
    fn connection(
        &mut self,
        index: usize,
        item: &Spanned<DeValue<'_>>,
        seen: &mut HashMap<String, usize>,
    ) -> Option<Connection> {
        let header = item.span();
        let Some(table) = item.get_ref().as_table() else {
            let message = format!(
                "each connection must be a table, found {}",
                with_article(item.get_ref().type_str())
            );
            self.problem(header, None, Some("connection"), message);
            return None;
        };

        // Name the connection in messages by its name when it has a usable one.
        let scope = match table.get("name").and_then(|v| v.get_ref().as_str()) {
            Some(name) if !name.trim().is_empty() => format!("connection '{}'", shown(name)),
            _ => format!("connection #{}", index + 1),
        };

        if !self.known_keys(table, CONNECTION_FIELDS, &scope) {
            return None;
        }
        let raw = match RawConnection::deserialize(item.clone().into_deserializer()) {
            Ok(raw) => raw,
            Err(e) => {
                self.serde_problem(&e, item, &scope);
                return None;
            }
        };
        let problems_before = self.problems.len();

        // Required text fields: present and not blank.
        let examples = [
            ("name", "\"acme\""),
            ("url", "\"https://SERVER/act.web.api\""),
            ("database", "\"DATABASE\""),
            ("user", "\"Act! login name\""),
        ];
        for ((field, example), value) in
            examples
                .iter()
                .zip([&raw.name, &raw.url, &raw.database, &raw.user])
        {
            match value {
                None => {
                    let message = format!("missing; add `{field} = {example}` to this table");
                    self.problem(header.clone(), Some(&scope), Some(field), message);
                }
                Some(v) if v.get_ref().trim().is_empty() => {
                    self.problem(
                        v.span(),
                        Some(&scope),
                        Some(field),
                        String::from("is empty"),
                    );
                }
                // The database travels in an HTTP header; neither it nor a user
                // name can hold a line break or other control character.
                Some(v)
                    if (*field == "database" || *field == "user")
                        && v.get_ref().chars().any(char::is_control) =>
                {
                    self.problem(
                        v.span(),
                        Some(&scope),
                        Some(field),
                        String::from("must be a single line without control characters"),
                    );
                }
                Some(_) => {}
            }
        }

        if let Some(name) = &raw.name {
            let text = name.get_ref();
            if text.chars().any(char::is_control) {
                let message = String::from("must not contain control characters");
                self.problem(name.span(), Some(&scope), Some("name"), message);
            } else if !text.trim().is_empty() {
                let offset = name.span().start;
                if let Some(first) = seen.get(text) {
                    let (line, _) = line_col(self.text, *first);
                    let message = format!(
                        "'{}' is already used by the connection on line {line}; names must be unique",
                        shown(text)
                    );
                    self.problem(name.span(), Some(&scope), Some("name"), message);
                } else {
                    seen.insert(text.clone(), offset);
                }
            }
        }

        let url = raw.url.as_ref().and_then(|url| {
            if url.get_ref().trim().is_empty() {
                return None;
            }
            match check_url(url.get_ref()) {
                Ok(parts) => Some((url.get_ref().trim_end_matches('/').to_owned(), parts)),
                Err(why) => {
                    let message = format!("\"{}\" {why}", shown(&redact_userinfo(url.get_ref())));
                    self.problem(url.span(), Some(&scope), Some("url"), message);
                    None
                }
            }
        });

        let secret = self.secret(&raw, header, &scope);
        let group = self.label(raw.group.as_ref(), "group", &scope);
        let note = raw
            .note
            .as_ref()
            .map(|n| n.get_ref().clone())
            .filter(|n| !n.trim().is_empty());
        let color = raw
            .color
            .as_ref()
            .and_then(|c| match check_color(c.get_ref()) {
                Ok(()) => Some(c.get_ref().trim().to_owned()),
                Err(why) => {
                    self.problem(c.span(), Some(&scope), Some("color"), why);
                    None
                }
            });

        let transport = self.transport(&raw, &scope);

        if self.problems.len() > problems_before {
            return None;
        }
        let (url, parts) = url?;
        let transport = transport?;
        let secret = secret?;
        let name = raw.name?.into_inner();
        let secret = match secret {
            Secret0::Ready(source) => source,
            Secret0::Keyring => SecretSource::Keyring {
                account: name.clone(),
            },
        };

        // Warnings: things that work but that the user should know.
        if matches!(secret, SecretSource::Plain(_)) {
            self.warnings.push(format!(
                "connection '{name}' stores its password in plain text in {}; prefer \
                 password_env or password_command",
                self.path.display()
            ));
        }
        if !url.to_ascii_lowercase().ends_with("act.web.api") {
            self.warnings.push(format!(
                "connection '{name}': url \"{url}\" does not end in act.web.api; Act! API base \
                 URLs look like https://SERVER/act.web.api (on-premises) or \
                 https://SERVER/CUSTOMER-api/act.web.api (Premium Cloud)"
            ));
        }
        if parts.scheme == "http" && !is_loopback(&parts.host) {
            self.warnings.push(format!(
                "connection '{name}': url uses http:// to {}, so the Basic credentials and \
                 tokens cross the network unencrypted; use https:// if the server offers it",
                parts.host
            ));
        }
        if transport.insecure_tls {
            self.warnings.push(format!(
                "connection '{name}': insecure_tls = true accepts any certificate, so whoever \
                 sits between this machine and the server can read the password and tokens; \
                 prefer ca_file with the certificate (or its CA) the server uses"
            ));
        }

        Some(Connection {
            name,
            url,
            database: raw.database?.into_inner(),
            user: raw.user?.into_inner(),
            secret,
            autostart: raw.autostart.is_some_and(|a| *a.get_ref()),
            group,
            color,
            note,
            transport,
        })
    }

    /// The connection's transport overrides: timeouts, `ca_file`, `insecure_tls`, `proxy`.
    /// `None` after reporting a problem.
    fn transport(&mut self, raw: &RawConnection, scope: &str) -> Option<Transport> {
        let problems_before = self.problems.len();
        let timeout = self.duration(raw.timeout.as_ref(), "timeout", scope);
        let connect_timeout = self.duration(raw.connect_timeout.as_ref(), "connect_timeout", scope);
        for (raw, field, value) in [
            (&raw.timeout, "timeout", timeout.flatten()),
            (
                &raw.connect_timeout,
                "connect_timeout",
                connect_timeout.flatten(),
            ),
        ] {
            if let (Some(raw), Some(true)) = (raw, value.map(|d| d.is_zero())) {
                let message = format!(
                    "{field} = \"{}\" must be longer than zero; remove the line to use \
                     [settings] {field}",
                    shown(raw.get_ref())
                );
                self.problem(raw.span(), Some(scope), Some(field), message);
            }
        }
        let ca_file =
            raw.ca_file
                .as_ref()
                .and_then(|file| match check_ca_file(file.get_ref(), self.path) {
                    Ok(path) => Some(path),
                    Err(why) => {
                        self.problem(file.span(), Some(scope), Some("ca_file"), why);
                        None
                    }
                });
        let proxy = match &raw.proxy {
            None => ProxyChoice::Environment,
            Some(p) => match check_proxy(p.get_ref()) {
                Ok(choice) => choice,
                Err(why) => {
                    self.problem(p.span(), Some(scope), Some("proxy"), why);
                    ProxyChoice::Environment
                }
            },
        };
        if self.problems.len() > problems_before {
            return None;
        }
        Some(Transport {
            timeout: timeout.flatten(),
            connect_timeout: connect_timeout.flatten(),
            ca_file,
            insecure_tls: raw.insecure_tls.as_ref().is_some_and(|b| *b.get_ref()),
            proxy,
        })
    }

    /// A short optional label (`group`): absent is fine, blank or multi-line is not.
    fn label(&mut self, raw: Option<&Spanned<String>>, field: &str, scope: &str) -> Option<String> {
        let raw = raw?;
        let text = raw.get_ref();
        let message = if text.trim().is_empty() {
            "is empty; remove the line to leave it unset"
        } else if text.chars().any(char::is_control) {
            "must be a single line without control characters"
        } else {
            return Some(text.trim().to_owned());
        };
        self.problem(raw.span(), Some(scope), Some(field), String::from(message));
        None
    }

    /// Checks that exactly one secret source is set and that it is usable.
    ///
    /// `password_prompt = false` and `keyring = false` count as not set.
    fn secret(
        &mut self,
        raw: &RawConnection,
        header: Range<usize>,
        scope: &str,
    ) -> Option<Secret0> {
        // (field, span of its value, its text when it is a text field)
        let mut present: Vec<(&str, Range<usize>, Option<&String>)> = Vec::new();
        for (field, value) in [
            ("password_env", &raw.password_env),
            ("password_command", &raw.password_command),
        ] {
            if let Some(v) = value {
                present.push((field, v.span(), Some(v.get_ref())));
            }
        }
        for (field, value) in [
            ("password_prompt", &raw.password_prompt),
            ("keyring", &raw.keyring),
        ] {
            if let Some(v) = value.as_ref().filter(|v| *v.get_ref()) {
                present.push((field, v.span(), None));
            }
        }
        if let Some(v) = &raw.password {
            present.push(("password", v.span(), Some(v.get_ref())));
        }
        // Report a second source at the later of the two in the file.
        present.sort_by_key(|(_, span, _)| span.start);

        let (field, span, text) = match present.as_slice() {
            [] => {
                let message = format!("set exactly one of {SECRET_LIST}; found none");
                self.problem(header, Some(scope), None, message);
                return None;
            }
            [one] => one.clone(),
            [.., last] => {
                let names: Vec<&str> = present.iter().map(|(f, _, _)| *f).collect();
                let found = match names.split_last() {
                    Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                    None => String::new(),
                };
                let message = format!("set exactly one of {SECRET_LIST}; found {found}");
                self.problem(last.1.clone(), Some(scope), None, message);
                return None;
            }
        };

        let Some(text) = text else {
            return Some(if field == "keyring" {
                Secret0::Keyring
            } else {
                Secret0::Ready(SecretSource::Prompt)
            });
        };
        if text.trim().is_empty() {
            self.problem(span, Some(scope), Some(field), String::from("is empty"));
            return None;
        }
        match field {
            "password_env" => match check_env_name(text) {
                Ok(()) => Some(Secret0::Ready(SecretSource::Env(text.clone()))),
                Err(message) => {
                    self.problem(span, Some(scope), Some(field), message);
                    None
                }
            },
            "password_command" => match words::split(text) {
                Ok(_) => Some(Secret0::Ready(SecretSource::Command(text.clone()))),
                Err(why) => {
                    let message = format!("cannot be split into words: {why}");
                    self.problem(span, Some(scope), Some(field), message);
                    None
                }
            },
            _ => Some(Secret0::Ready(SecretSource::Plain(Secret::new(
                text.clone(),
            )))),
        }
    }
}

/// A checked secret source; the keyring one still needs the connection's name.
enum Secret0 {
    /// Complete.
    Ready(SecretSource),
    /// `keyring = true`, account to be filled in with the name.
    Keyring,
}

/// Checks a `password_env` value is a plausible variable name.
pub(crate) fn check_env_name(text: &str) -> Result<(), String> {
    if text.contains('=') || text.contains('\0') || text.contains(char::is_whitespace) {
        Err(format!(
            "\"{text}\" is not an environment variable name (like ACME_PW)"
        ))
    } else {
        Ok(())
    }
}

/// Resolves and checks a `ca_file` value: `~/` is the home folder, a relative path starts
/// from the folder of the connections file, and the file must hold at least one PEM
/// certificate. Returns the resolved path.
fn check_ca_file(text: &str, config_path: &Path) -> Result<PathBuf, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(String::from(
            "is empty; give the path of a PEM file with the CA certificates to trust, or \
             remove the line",
        ));
    }
    let path = if let Some(rest) = trimmed.strip_prefix("~/") {
        match directories::BaseDirs::new() {
            Some(dirs) => dirs.home_dir().join(rest),
            None => {
                return Err(String::from(
                    "starts with ~/ but this user has no home folder; write the full path",
                ));
            }
        }
    } else {
        let given = PathBuf::from(trimmed);
        if given.is_relative() {
            config_path
                .parent()
                .map_or_else(|| given.clone(), |dir| dir.join(&given))
        } else {
            given
        }
    };
    read_ca_file(&path)?;
    Ok(path)
}

/// The largest `ca_file` read: the whole Mozilla root bundle is about 220 KiB.
const CA_FILE_MAX: u64 = 4 * 1024 * 1024;

/// Reads a PEM bundle of CA certificates (`ca_file`): every `CERTIFICATE` block, in DER.
///
/// The error names the file and says what to do; the loader and the HTTP client both use it,
/// so a file that changed after loading fails the same way. Only a regular file of at most
/// 4 MiB is read, so a FIFO, a device or a huge file cannot hang or swell the app.
pub fn read_ca_file(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    use std::io::Read as _;

    let cannot = |e: &dyn std::fmt::Display| {
        format!(
            "cannot read the CA file {}: {e}; check the path (a relative path starts from the \
             folder of the connections file)",
            path.display()
        )
    };
    // Looked at before opening: opening a FIFO would block until a writer
    // comes, and a device like /dev/zero never ends.
    let meta = std::fs::metadata(path).map_err(|e| cannot(&e))?;
    if !meta.is_file() {
        return Err(cannot(&"it is not a regular file"));
    }
    if meta.len() > CA_FILE_MAX {
        return Err(format!(
            "the CA file {} is {} bytes, more than any certificate bundle ({} KiB at most); \
             point ca_file at the PEM file of the CA that issued the server's certificate",
            path.display(),
            meta.len(),
            CA_FILE_MAX / 1024
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(CA_FILE_MAX + 1).read_to_end(&mut bytes))
        .map_err(|e| cannot(&e))?;
    if bytes.len() as u64 > CA_FILE_MAX {
        return Err(cannot(&"it grew past the size limit while being read"));
    }
    let not_pem = || {
        format!(
            "the CA file {} holds no PEM certificate; it must contain one or more \
             '-----BEGIN CERTIFICATE-----' blocks (convert a binary .cer/.der file with \
             `openssl x509 -inform der -in ca.cer -out ca.pem`)",
            path.display()
        )
    };
    let mut certs = Vec::new();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|_| not_pem())?;
        certs.push(cert.as_ref().to_vec());
    }
    if certs.is_empty() {
        return Err(not_pem());
    }
    Ok(certs)
}

/// Checks a `proxy` value: `"none"` (any case) or an `http://` / `https://` URL with a host
/// and no credentials.
fn check_proxy(text: &str) -> Result<ProxyChoice, String> {
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("none") {
        return Ok(ProxyChoice::Direct);
    }
    let hint = "write proxy = \"http://HOST:PORT\", or proxy = \"none\" to ignore \
        HTTPS_PROXY / HTTP_PROXY for this connection";
    if !trimmed.contains("://") {
        return Err(format!(
            "\"{}\" is not a URL (no http:// in front); {hint}",
            shown(&redact_userinfo(trimmed))
        ));
    }
    let parsed = url::Url::parse(trimmed).map_err(|e| {
        format!(
            "\"{}\" is not a URL ({e}); {hint}",
            shown(&redact_userinfo(trimmed))
        )
    })?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(format!(
            "\"{}\" uses scheme '{}'; only http:// and https:// proxies work; {hint}",
            shown(&redact_userinfo(trimmed)),
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("\"{}\" has no host; {hint}", shown(trimmed)));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "\"{}\" contains a user name or password; proxy credentials are not supported \
             in the file (they would sit there in plain text); use a proxy that does not ask, \
             or HTTPS_PROXY in the environment",
            shown(&redact_userinfo(trimmed))
        ));
    }
    Ok(ProxyChoice::Url(parsed.as_str().to_owned()))
}

/// Checks a connection colour: one of [`NAMED_COLORS`] (any case) or `#rrggbb`.
///
/// The error message quotes the value and lists what is accepted.
pub fn check_color(text: &str) -> Result<(), String> {
    let t = text.trim();
    let hex = t
        .strip_prefix('#')
        .is_some_and(|h| h.len() == 6 && h.chars().all(|c| c.is_ascii_hexdigit()));
    if hex || NAMED_COLORS.contains(&t.to_ascii_lowercase().as_str()) {
        Ok(())
    } else {
        Err(format!(
            "\"{text}\" is not a colour; use a name ({}) or \"#rrggbb\"",
            NAMED_COLORS.join(", ")
        ))
    }
}

/// The entries of a table in file order, whatever order the map keeps.
fn sorted_entries<'t, 'i>(
    table: &'t DeTable<'i>,
) -> Vec<(
    &'t Spanned<toml::de::DeString<'i>>,
    &'t Spanned<DeValue<'i>>,
)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// "unknown field; did you mean 'x'; valid fields: a, b, c".
fn unknown_message(name: &str, allowed: &[&str], what: &str) -> String {
    use std::fmt::Write as _;

    let mut message = format!("unknown {what}");
    if let Some(best) = suggestion(name, allowed) {
        let _ = write!(message, "; did you mean '{best}'");
    }
    let _ = write!(message, "; valid {what}s: {}", allowed.join(", "));
    message
}

/// The allowed names closest to `name` (all of those tied for closest), when they are
/// close enough to be a likely typo; empty when none is.
pub(crate) fn closest<'a>(name: &str, allowed: &[&'a str]) -> Vec<&'a str> {
    let near: Vec<(usize, &str)> = allowed
        .iter()
        .map(|a| (edit_distance(name, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .collect();
    let best = near.iter().map(|(d, _)| *d).min();
    near.into_iter()
        .filter(|(d, _)| Some(*d) == best)
        .map(|(_, a)| a)
        .collect()
}

/// The allowed name closest to `name`, when it is close enough to be a likely typo.
fn suggestion<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (edit_distance(name, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

/// Levenshtein distance, for "did you mean" suggestions on short keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The parts of an API URL that the warnings need.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UrlParts {
    /// `http` or `https`, lower-cased.
    pub(crate) scheme: String,
    /// The host without port or brackets, lower-cased.
    pub(crate) host: String,
}

/// A small local check of an API base URL: http(s), a host, an optional
/// numeric port, no credentials, query or fragment. The `act` module has the
/// full endpoint logic; this only catches what is certainly wrong.
pub(crate) fn check_url(url: &str) -> Result<UrlParts, String> {
    if url.chars().any(char::is_whitespace) {
        return Err(String::from("contains whitespace"));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(String::from(
            "is not an http(s) URL; write it like \"https://SERVER/act.web.api\"",
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "uses scheme '{scheme}'; only http:// and https:// work, like \
             \"https://SERVER/act.web.api\""
        ));
    }
    if rest.contains(['?', '#']) {
        return Err(String::from("must not contain a query (?) or fragment (#)"));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(String::from(
            "must not contain credentials; put them in user and a password field",
        ));
    }

    // Split host from port, minding IPv6 literals like [::1]:8080.
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((host, after)) = v6.split_once(']') else {
            return Err(String::from("has an unclosed '[' in its host"));
        };
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(format!("has unexpected text '{after}' after its host")),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(String::from(
            "has no host; write it like \"https://SERVER/act.web.api\"",
        ));
    }
    if let Some(port) = port
        && port.parse::<u16>().is_err()
    {
        return Err(format!(
            "has port '{port}', which is not a number from 0 to 65535"
        ));
    }
    Ok(UrlParts {
        scheme,
        host: host.to_ascii_lowercase(),
    })
}

/// A user's value as an error message quotes it: control characters escaped
/// (so a stray escape sequence cannot rewrite the terminal) and long values cut.
pub(crate) fn shown(text: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == MAX_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// "an integer", "a string": a TOML type name with its article.
fn with_article(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

/// A URL with any `user:password@` replaced by `***@`, for messages and logs.
pub(crate) fn redact_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find('/').unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) if scheme.is_empty() => format!("***@{}", &rest[at + 1..]),
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// True for hosts that never leave the machine.
fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_in_characters() {
        let text = "ab\ncé d\r\nx";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 6), (2, 3)); // after 'c' and 'é' (two bytes)
        assert_eq!(line_col(text, text.len() - 1), (3, 1));
        assert_eq!(line_col(text, 999), (3, 2));
    }

    #[test]
    fn url_check() {
        let ok = check_url("https://Acme.example:8443/act.web.api").expect("valid");
        assert_eq!(ok.scheme, "https");
        assert_eq!(ok.host, "acme.example");
        assert_eq!(check_url("http://[::1]:80/x").expect("valid").host, "::1");
        assert!(
            check_url("ftp://x/act.web.api")
                .unwrap_err()
                .contains("'ftp'")
        );
        assert!(check_url("acme.example/act.web.api").is_err());
        assert!(
            check_url("https:///act.web.api")
                .unwrap_err()
                .contains("no host")
        );
        assert!(
            check_url("https://u:p@h/act.web.api")
                .unwrap_err()
                .contains("credentials")
        );
        assert!(check_url("https://h:99999/").unwrap_err().contains("port"));
        assert!(check_url("https://h/a?b").is_err());
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.3.4.5", "::1"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["acme.example", "10.0.0.1", "localhost.example"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn secret_list_names_every_secret_field() {
        assert_eq!(SECRET_LIST, SECRET_FIELDS.join(", "));
        assert!(SECRET_FIELDS.iter().all(|f| CONNECTION_FIELDS.contains(f)));
    }

    #[test]
    fn colors() {
        for ok in ["red", "Gray", " cyan ", "#00ff7F", "lightblue"] {
            assert!(check_color(ok).is_ok(), "{ok}");
        }
        for bad in ["pink", "#00ff7", "#00ff7g", "00ff77", ""] {
            let err = check_color(bad).expect_err(bad);
            assert!(
                err.starts_with(&format!("\"{bad}\" is not a colour")),
                "{err}"
            );
        }
    }

    #[test]
    fn suggestions() {
        assert!(
            unknown_message("pasword_env", CONNECTION_FIELDS, "field")
                .contains("did you mean 'password_env'")
        );
        assert!(
            unknown_message("colour", CONNECTION_FIELDS, "field").contains("did you mean 'color'")
        );
        assert!(!unknown_message("region", CONNECTION_FIELDS, "field").contains("did you mean"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
