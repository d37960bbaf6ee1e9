//! The command line: parsing and dispatch.
//!
//! Every subcommand uses the same pieces as the TUI (config loading, the
//! `act` client, the session engine's one-shot authorize), never a copy.
//! stdout carries only the data asked for; verdicts and progress go to stderr.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use futures::StreamExt;

use chrono::{SecondsFormat, Utc};
use zeroize::Zeroizing;

use crate::act::meter::{describe_reading, short_duration};
use crate::act::{ActClient, ClientOptions, ExpirySource, SystemInfo, Verdict, VerdictClass};
use crate::cache::TokenCache;
use crate::config::{self, Config, Connection, SecretSource, Settings};
use crate::session::{self, TokenStatus};
use crate::sim::{Scenario, SimConfig};
use crate::tui::{self, TuiOptions};
use crate::{demo, logging, paths};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  an unexpected error (see the message and the log file)
  2  wrong usage (unknown flag or subcommand)
  3  configuration problem: the connections file is invalid, the connection
     is not in it, or its password could not be read from its source
  4  the server refused: wrong credentials (401), no permission (403),
     4030 / 4031 / 4032
  5  the server could not be reached or answered badly: DNS, refused,
     timeout, TLS, 404, 5xx, throttled, not a token
  6  `status` without --check: no valid token in the cache for a connection
`exec` passes its command's exit code through; when actsm fails before the
command runs, it exits 1-5 as above with an `actsm:` line on stderr, 126
when the command cannot be run and 127 when it is not found.";

/// How `actsm token` prints the token.
#[allow(clippy::doc_markdown)] // clap help text: shown as written, backticks and all
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TokenFormat {
    /// The bare JWT.
    Raw,
    /// `Authorization: Bearer JWT`, for `curl -H "$(actsm token NAME --format header)"`.
    Header,
    /// A JSON object: token, expires_at, database, base_url (see README.md).
    Json,
}

/// Keeps Act! Web API sessions alive for many named connections.
///
/// Without a subcommand, opens the terminal UI on your connections file.
/// Tokens are shared through a cache in the platform cache folder: a token
/// the TUI or one command obtained is what the next command prints, with no
/// new call to the server while it has enough life left.
#[derive(Debug, Parser)]
#[command(name = "actsm", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// The connections file [default: the platform config folder, e.g.
    /// ~/.config/actsm/connections.toml on Linux].
    #[arg(long, global = true, env = "ACTSM_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,

    /// The terminal UI's theme: default, dark, light, high-contrast, ansi16 or
    /// one of yours in the config folder's themes/ (wins over `theme` in
    /// [settings]; `t` cycles themes in the UI).
    #[arg(long, global = true, env = "ACTSM_THEME", value_name = "NAME")]
    theme: Option<String>,

    /// What to do; the terminal UI when omitted.
    #[command(subcommand)]
    command: Option<Cmd>,
}

/// The subcommands.
#[allow(clippy::doc_markdown)] // clap help text: shown as written, backticks and all
#[derive(Debug, Subcommand)]
enum Cmd {
    /// Open the terminal UI on your connections file (the default).
    Tui,

    /// Open the terminal UI on a built-in demo: a simulator on a free loopback
    /// port and six connections that show every state. Touches no file of yours.
    Demo {
        /// Add one connection per fault scenario (group "faults"): hang, slow,
        /// reset, huge body, bad tokens, skewed clock, rate-limit forms, ...
        #[arg(long)]
        faults: bool,
    },

    /// Run the built-in Act! auth simulator until Ctrl-C.
    ///
    /// It serves /authorize (Basic and Bearer) and /api/system under both
    /// base-path forms, with the demo's users (run `actsm sim` to see them).
    ///
    /// Fault scenarios: a database named fault-NAME (e.g. fault-hang,
    /// fault-slow-2s) accepts any user name with the password "demo" and answers
    /// with scenario NAME. --scenario NAME applies one to every demo login.
    ///
    /// Scenarios: healthy, incompatible-4030, subscription-4031, api-access-4032,
    /// gateway-forbidden, throttled (429 + Retry-After 30), server-error,
    /// not-a-token (alias html-200), hang (never answers), slow-DURATION
    /// (alias delay-DURATION, default 3s), reset (connection reset, no
    /// response), huge-body (10 MB), no-exp, expired, future-iat (iat 10 min
    /// ahead), skewed-date (server clock 10 min ahead), bad-rate-headers,
    /// reset-seconds, reset-epoch, reset-epoch-ms, reset-http-date,
    /// reset-rfc3339 (429 with that X-RateLimit-Reset form),
    /// throttled-no-retry-after, drop-early (tokens revoked after a quarter of
    /// their lifetime).
    Sim {
        /// Address to listen on. Loopback unless --public is given.
        #[arg(long, default_value = "127.0.0.1:7480")]
        addr: SocketAddr,

        /// Lifetime of the tokens it issues to users without their own, e.g. "65m".
        #[arg(long, value_parser = humantime::parse_duration)]
        lifetime: Option<Duration>,

        /// Allow a non-loopback --addr (the simulator accepts demo passwords: think twice).
        #[arg(long)]
        public: bool,

        /// Answer every demo login with this scenario (see the list above), e.g. "hang".
        #[arg(long, value_parser = parse_scenario_arg)]
        scenario: Option<Scenario>,
    },

    /// Print a valid token for a connection on stdout, and nothing else.
    ///
    /// A cached token with enough life left (the connection's refresh lead,
    /// or --min-life) is printed without any network call. Otherwise actsm
    /// authorizes, caches the new token and prints it; concurrent runs for the
    /// same connection wait for one another, so only one calls the server.
    /// On failure, prints what happened and what to do on stderr and exits
    /// non-zero (see exit codes).
    ///
    /// Examples:
    ///   curl -H "$(actsm token acme --format header)" -H "Act-Database-Name: ACME" URL
    ///   actsm token acme --format json | jq -r .expires_at
    #[command(after_help = EXIT_CODES, verbatim_doc_comment)]
    Token {
        /// The connection's name, as in the connections file.
        name: String,

        /// Authorize for a new token even when the cached one is still good.
        #[arg(long)]
        fresh: bool,

        /// What to print.
        #[arg(long, value_enum, default_value = "raw")]
        format: TokenFormat,

        /// Least life a cached token must have left to be printed, e.g. "10m"
        /// [default: the refresh lead: min(refresh_before, lifetime / 2)].
        #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
        min_life: Option<Duration>,
    },

    /// Run a command with a valid token in its environment.
    ///
    /// Sets ACT_TOKEN, ACT_BASE_URL, ACT_DATABASE and ACT_TOKEN_EXPIRES_AT
    /// (RFC 3339) for COMMAND, which is run directly (no shell) and never sees
    /// the token on its command line. The token comes from the cache like
    /// `actsm token`. actsm exits with the command's exit code.
    ///
    /// Example:
    ///   actsm exec acme -- sh -c 'curl -H "Authorization: Bearer $ACT_TOKEN" \
    ///       -H "Act-Database-Name: $ACT_DATABASE" "$ACT_BASE_URL/api/contacts"'
    #[command(after_help = EXIT_CODES, verbatim_doc_comment)]
    Exec {
        /// The connection's name, as in the connections file.
        name: String,

        /// Authorize for a new token even when the cached one is still good.
        #[arg(long)]
        fresh: bool,

        /// Least life a cached token must have left to be used, e.g. "10m".
        #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
        min_life: Option<Duration>,

        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<OsString>,
    },

    /// Show the state of each connection's token.
    ///
    /// Without --check, reads the token cache only (no network): a connection
    /// is healthy when it has a cached token that has not expired. With
    /// --check, authorizes each connection once (and caches the new token).
    /// Exits with the highest exit code among the connections listed, so
    /// `actsm status acme || ...` works in scripts.
    #[command(after_help = EXIT_CODES)]
    Status {
        /// Print JSON (documented in README.md) instead of a table.
        #[arg(long)]
        json: bool,

        /// Authorize each connection instead of reading the cache.
        #[arg(long)]
        check: bool,

        /// Connections to show [default: all].
        names: Vec<String>,
    },

    /// Health sweep: authorize each connection, read /api/system, one line each.
    ///
    /// Prints "NAME  ok|VERDICT  api VERSION  LATENCY  METER" per connection,
    /// running several at once. Exits with the highest exit code among them.
    #[command(after_help = EXIT_CODES)]
    Check {
        /// Connections to check.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        names: Vec<String>,

        /// Check every connection in the file.
        #[arg(long)]
        all: bool,

        /// Print JSON (documented in README.md) instead of lines.
        #[arg(long)]
        json: bool,

        /// How many connections to check at once.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
        jobs: u16,
    },

    /// Print a server's version information from /api/system (no login needed).
    #[command(after_help = EXIT_CODES)]
    System {
        /// The connection's name, as in the connections file.
        name: String,

        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },

    /// List the connections (never their passwords).
    List {
        /// Print JSON (documented in README.md) instead of a table.
        #[arg(long)]
        json: bool,
    },

    /// Print a shell completion script.
    ///
    /// bash:  actsm completions bash > ~/.local/share/bash-completion/completions/actsm
    /// zsh:   actsm completions zsh > "${fpath[1]}/_actsm"
    /// fish:  actsm completions fish > ~/.config/fish/completions/actsm.fish
    /// PowerShell:  actsm completions powershell | Out-String | Invoke-Expression
    #[command(verbatim_doc_comment)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },

    /// A short segment for a shell prompt, e.g. "acme 42m", from the cache only.
    ///
    /// Prints the connection's name and the life left on its cached token
    /// ("expired" or "-" when there is none). Never touches the network.
    /// Example (bash): PS1='[$(actsm prompt acme 2>/dev/null)] \$ '
    #[command(verbatim_doc_comment)]
    Prompt {
        /// The connection's name, as in the connections file.
        name: String,
    },

    /// Remove cached tokens.
    ///
    /// The tokens stay valid at the server until they expire; this only makes
    /// actsm forget them, so the next `actsm token` authorizes again.
    Logout {
        /// The connection whose cached tokens to remove.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,

        /// Remove every cached token.
        #[arg(long)]
        all: bool,
    },
}

/// The process exit codes documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// An unexpected error.
    Failure = 1,
    /// The configuration (file, connection name, secret source) is wrong.
    Config = 3,
    /// The server refused.
    Refused = 4,
    /// The server could not be reached or answered badly.
    Unreachable = 5,
    /// `status` without `--check`: no valid token in the cache.
    NoToken = 6,
}

impl Exit {
    /// The exit code a verdict leads to.
    pub fn for_verdict(verdict: &Verdict) -> Self {
        match verdict.class() {
            VerdictClass::Ok => Self::Ok,
            VerdictClass::Refused => Self::Refused,
            VerdictClass::Local => Self::Config,
            VerdictClass::Unreachable | VerdictClass::ServerFault | VerdictClass::Throttled => {
                Self::Unreachable
            }
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// An error that carries the exit code it should end the process with.
#[derive(Debug)]
struct Failed {
    exit: Exit,
    message: String,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failed {}

fn failed(exit: Exit, message: impl Into<String>) -> anyhow::Error {
    Failed {
        exit,
        message: message.into(),
    }
    .into()
}

/// Runs the program; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            let exit = err
                .downcast_ref::<Failed>()
                .map_or(Exit::Failure, |f| f.exit);
            tracing::error!("{err:#}");
            eprintln!("actsm: {err:#}");
            exit.into()
        }
    }
}

/// Reads `--scenario`: a name [`crate::sim::parse_scenario`] knows.
fn parse_scenario_arg(value: &str) -> Result<Scenario, String> {
    crate::sim::parse_scenario(value).ok_or_else(|| {
        let names: Vec<String> = Scenario::ALL.iter().map(ToString::to_string).collect();
        format!("unknown scenario '{value}'; known: {}", names.join(", "))
    })
}

/// The user's themes folder: `themes/` beside the connections file (the
/// platform config folder's when `config` is `None`).
fn themes_dir(config: Option<&std::path::Path>) -> Option<PathBuf> {
    let file = match config {
        Some(path) => path.to_path_buf(),
        None => paths::config_file()?,
    };
    Some(file.parent()?.join("themes"))
}

/// `--theme NAME`, refused with the list of themes when no theme has that name.
fn checked_theme(
    theme: Option<String>,
    dir: Option<&std::path::Path>,
) -> anyhow::Result<Option<String>> {
    let Some(name) = theme else {
        return Ok(None);
    };
    let (themes, _) = tui::theme::ThemeSet::load(dir);
    if themes.get(&name).is_some() {
        Ok(Some(name))
    } else {
        Err(failed(
            Exit::Config,
            format!("--theme: {}", themes.unknown(&name)),
        ))
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let command = cli.command.unwrap_or(Cmd::Tui);

    // What scripts and prompts call most, answered from the cache without the log or a
    // parse of the connections file when the connection index allows; else the full path.
    let quick = match &command {
        Cmd::Token {
            name,
            fresh: false,
            format,
            min_life,
        } => quick_token(cli.config.as_deref(), name, *min_life, *format),
        Cmd::Prompt { name } => quick_prompt(cli.config.as_deref(), name),
        _ => None,
    };
    if let Some(exit) = quick {
        return exit.map(ExitCode::from);
    }

    // The demo logs into its own temporary folder; the prompt and completions
    // must be instant and log nothing; everything else logs into the state folder.
    let quiet = matches!(
        &command,
        Cmd::Demo { .. } | Cmd::Prompt { .. } | Cmd::Completions { .. }
    );
    let log_guard = if quiet { None } else { start_logging() };

    let exit = match command {
        Cmd::Tui => {
            let config_path = paths::resolve_config(cli.config);
            let config = load_config(config_path.as_deref())?;
            let themes_dir = themes_dir(config_path.as_deref());
            let theme = checked_theme(cli.theme, themes_dir.as_deref())?;
            runtime_multi()?.block_on(tui::run(
                config,
                TuiOptions {
                    title: config_path.as_ref().map_or_else(
                        || "no connections file".to_owned(),
                        |p| p.display().to_string(),
                    ),
                    log_path: log_guard.as_ref().map(|g| g.path().to_path_buf()),
                    themes_dir,
                    config_path,
                    token_cache: TokenCache::open_default(),
                    theme,
                    journal_dir: paths::state_dir(),
                },
            ))?;
            Exit::Ok
        }
        Cmd::Demo { faults } => {
            let theme = checked_theme(cli.theme, themes_dir(None).as_deref())?;
            runtime_multi()?.block_on(demo::run(faults, theme))?;
            Exit::Ok
        }
        Cmd::Sim {
            addr,
            lifetime,
            public,
            scenario,
        } => {
            if !addr.ip().is_loopback() && !public {
                return Err(failed(
                    Exit::Config,
                    format!(
                        "refusing to serve the simulator on {addr}: it is not a loopback address. \
                         Use 127.0.0.1 or [::1], or pass --public if you really mean it"
                    ),
                ));
            }
            let mut sim_config = SimConfig::demo();
            if let Some(lifetime) = lifetime {
                sim_config.token_lifetime = lifetime;
            }
            if let Some(scenario) = scenario {
                for user in &mut sim_config.users {
                    user.scenario = scenario;
                }
            }
            runtime_multi()?.block_on(crate::sim::run_cli(addr, sim_config))?;
            Exit::Ok
        }
        script => return run_script(script, cli.config),
    };
    Ok(exit.into())
}

/// Starts the diagnostic log; when it cannot, says so on stderr (before any
/// TUI owns the terminal) and carries on without one.
fn start_logging() -> Option<logging::LogGuard> {
    let Some(path) = paths::log_file() else {
        eprintln!(
            "actsm: warning: no state folder found (is HOME set?), so no diagnostic log is \
             written; set ACTSM_STATE_DIR to choose one"
        );
        return None;
    };
    match logging::init(&path, None) {
        Ok(guard) => Some(guard),
        Err(err) => {
            eprintln!(
                "actsm: warning: no diagnostic log: {err:#}; set ACTSM_STATE_DIR to a \
                 writable folder"
            );
            None
        }
    }
}

/// The commands for scripts: everything that reads the connections file and
/// prints data, as opposed to the TUI, the demo and the simulator.
fn run_script(command: Cmd, config_flag: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    if let Cmd::Completions { shell } = command {
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(shell, &mut command, "actsm", &mut std::io::stdout());
        return Ok(Exit::Ok.into());
    }
    let quick = match &command {
        Cmd::Token { name, .. } | Cmd::Exec { name, .. } => {
            quick_config(config_flag.as_deref(), name)
        }
        _ => None,
    };
    let config = if let Some(config) = quick {
        config
    } else {
        let indexed = matches!(
            command,
            Cmd::Token { .. } | Cmd::Exec { .. } | Cmd::Prompt { .. }
        );
        load_script_config(paths::resolve_config(config_flag), indexed)?
    };
    let exit = match command {
        Cmd::Token {
            name,
            fresh,
            format,
            min_life,
        } => {
            let connection = find(&config, &name)?;
            token(&config, connection, fresh, min_life, format)?
        }
        Cmd::Exec {
            name,
            fresh,
            min_life,
            command,
        } => {
            let connection = find(&config, &name)?;
            return exec(&config, connection, fresh, min_life, &command);
        }
        Cmd::Status { json, check, names } => {
            let connections = select(&config, &names)?;
            if check {
                runtime_single()?.block_on(status_check(&config, connections, json))?
            } else {
                status_cached(&config, &connections, json)?
            }
        }
        Cmd::Check {
            names,
            all: _,
            json,
            jobs,
        } => {
            let connections = select(&config, &names)?;
            runtime_single()?.block_on(check(&config, connections, json, usize::from(jobs)))?
        }
        Cmd::System { name, json } => {
            let connection = find(&config, &name)?;
            runtime_single()?.block_on(system(&config, connection, json))?
        }
        Cmd::List { json } => list(&config, json)?,
        Cmd::Prompt { name } => {
            let connection = find(&config, &name)?;
            prompt(connection)?
        }
        Cmd::Logout { name, all } => logout(&config, name.as_deref(), all)?,
        Cmd::Tui | Cmd::Demo { .. } | Cmd::Sim { .. } | Cmd::Completions { .. } => {
            return Err(failed(Exit::Failure, "not a script command"));
        }
    };
    Ok(exit.into())
}

fn runtime_multi() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

fn runtime_single() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

/// Loads the connections file; a missing file gives an empty config.
/// Loads the connections file for a script command, where a missing file is an
/// error (the TUI, by contrast, starts empty and explains).
///
/// With `index`, also writes the file's connection index for the quick path of the
/// next `actsm token` or `actsm prompt` (see [`config::index`]).
fn load_script_config(path: Option<PathBuf>, index: bool) -> anyhow::Result<Config> {
    let Some(path) = path else {
        return Err(failed(
            Exit::Config,
            "no connections file: no home folder was found for the default location; \
             pass --config PATH or set ACTSM_CONFIG",
        ));
    };
    if !path.exists() {
        return Err(failed(
            Exit::Config,
            format!(
                "no connections file at {}; create it (see \"The connections file\" in \
                 README.md) or point --config / ACTSM_CONFIG at yours",
                path.display()
            ),
        ));
    }
    if !index || !is_regular_file(&path) {
        return load_config(Some(&path));
    }
    let (config, text) =
        config::load_with_text(&path).map_err(|err| failed(Exit::Config, err.to_string()))?;
    log_warnings(&config);
    if let (Some(text), Some(cache)) = (text, TokenCache::open_default())
        && let Err(e) = config::index::store(&config::index::index_dir(cache.dir()), &text, &config)
    {
        tracing::debug!("connection index not written: {e}");
    }
    Ok(config)
}

/// The connections file cut down to the lines before its first table, `[settings]` and
/// the connection `name`, parsed: what `token` and `exec` need, without parsing hundreds
/// of other connections. `None` when the index has no verified cut for these bytes (see
/// [`config::index`]); the caller then loads the whole file.
fn quick_config(config_flag: Option<&Path>, name: &str) -> Option<Config> {
    let path = regular_config(config_flag)?;
    let bytes = std::fs::read(&path).ok()?;
    let cache = TokenCache::open_default()?;
    let digest = config::index::Digest::of(&bytes);
    let (_, indexed) = config::index::lookup(&config::index::index_dir(cache.dir()), digest, name)?;
    let cut = indexed.cut(std::str::from_utf8(&bytes).ok()?)?;
    let mut config = config::parse(&cut, &path).ok()?;
    config::add_file_warnings(&mut config, &path);
    log_warnings(&config);
    Some(config)
}

/// The connections file, when it is a regular file (see [`is_regular_file`]).
fn regular_config(config_flag: Option<&Path>) -> Option<PathBuf> {
    let path = paths::resolve_config(config_flag.map(Path::to_path_buf))?;
    is_regular_file(&path).then_some(path)
}

/// Whether `path` is a regular file, the only kind the connection index serves: a pipe
/// or FIFO (`--config <(sops -d ...)`, `/dev/stdin`) can be read once only, so it never
/// takes the quick path and is never indexed.
fn is_regular_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// The connection `name` and its file's settings from the connection index, with the
/// token cache they point into; `None` when the index cannot say (no file, no index
/// for these bytes yet, no such name).
fn quick_lookup(
    config_flag: Option<&Path>,
    name: &str,
) -> Option<(TokenCache, Settings, config::index::Indexed)> {
    let path = regular_config(config_flag)?;
    let digest = config::index::Digest::of_file(&path).ok()?;
    let cache = TokenCache::open_default()?;
    let (settings, indexed) =
        config::index::lookup(&config::index::index_dir(cache.dir()), digest, name)?;
    Some((cache, settings, indexed))
}

/// `actsm token NAME` when the index knows NAME and the cache holds a token with enough
/// life: printed as the full path would. `None` sends the command down the full path.
fn quick_token(
    config_flag: Option<&Path>,
    name: &str,
    min_life: Option<Duration>,
    format: TokenFormat,
) -> Option<anyhow::Result<Exit>> {
    let (cache, settings, indexed) = quick_lookup(config_flag, name)?;
    let cached = cache
        .load_target(&indexed.url, &indexed.database, &indexed.user)
        .filter(|t| t.usable(&settings, min_life, Utc::now()))?;
    let target = Target {
        name: &indexed.name,
        url: &indexed.url,
        database: &indexed.database,
        user: &indexed.user,
    };
    Some(print_token(&target, &cached.to_status(), true, format))
}

/// `actsm prompt NAME` through the index; `None` when the index does not know NAME.
fn quick_prompt(config_flag: Option<&Path>, name: &str) -> Option<anyhow::Result<Exit>> {
    let (cache, _, indexed) = quick_lookup(config_flag, name)?;
    let cached = cache.load_target(&indexed.url, &indexed.database, &indexed.user);
    Some(print_prompt(&indexed.name, cached.as_ref()))
}

fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    let Some(path) = path else {
        return Ok(Config::empty());
    };
    let config = config::load(path).map_err(|err| failed(Exit::Config, err.to_string()))?;
    log_warnings(&config);
    Ok(config)
}

fn log_warnings(config: &Config) {
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
}

/// Connection names an unknown-name error lists: a file of hundreds would bury the error.
const KNOWN_SHOWN: usize = 12;

/// Most names a "did you mean" offers; more, equally close, say nothing useful.
const MEANT_SHOWN: usize = 3;

fn find<'a>(config: &'a Config, name: &str) -> anyhow::Result<&'a Connection> {
    config.connection(name).ok_or_else(|| {
        let file = config.path.as_ref().map_or_else(
            || "the connections file".to_owned(),
            |p| p.display().to_string(),
        );
        let known: Vec<&str> = config
            .connections
            .iter()
            .take(KNOWN_SHOWN)
            .map(|c| c.name.as_str())
            .collect();
        let more = config.connections.len().saturating_sub(KNOWN_SHOWN);
        let hint = if known.is_empty() {
            format!("{file} has no connections; add a [[connection]] table (see README.md)")
        } else if more > 0 {
            format!(
                "known connections: {} and {more} more (`actsm list` shows them all)",
                known.join(", ")
            )
        } else {
            format!("known connections: {}", known.join(", "))
        };
        // A name typed in another case, with stray spaces or a typo: say which was meant,
        // when one name (or a few, equally close) stands out.
        let names: Vec<&str> = config.connections.iter().map(|c| c.name.as_str()).collect();
        let mut meant: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| n.eq_ignore_ascii_case(name.trim()))
            .collect();
        if meant.is_empty() {
            meant = config::closest(name.trim(), &names);
        }
        let meant = match meant.as_slice() {
            [] => String::new(),
            [one] => format!("did you mean '{one}'? "),
            few if few.len() <= MEANT_SHOWN => format!(
                "did you mean one of {}? ",
                few.iter()
                    .map(|n| format!("'{n}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => String::new(),
        };
        failed(
            Exit::Config,
            format!("no connection named '{name}' in {file}; {meant}{hint}"),
        )
    })
}

fn select<'a>(config: &'a Config, names: &[String]) -> anyhow::Result<Vec<&'a Connection>> {
    if names.is_empty() {
        return Ok(config.connections.iter().collect());
    }
    names.iter().map(|name| find(config, name)).collect()
}

/// The HTTP client for one connection: its transport overrides over `[settings]`, built
/// exactly as the engine builds it.
fn client(config: &Config, connection: &Connection) -> anyhow::Result<ActClient> {
    ActClient::new(&ClientOptions::for_connection(&config.settings, connection)).map_err(|e| {
        anyhow::anyhow!(
            "cannot build the HTTP client for connection '{}': {e:#}",
            connection.name
        )
    })
}

/// One client per distinct transport options among `connections`, or why it could not be
/// built: a connection whose client fails gets that reason as its verdict, the others run.
type ClientMap = std::collections::HashMap<ClientOptions, Result<Arc<ActClient>, String>>;

fn clients(config: &Config, connections: &[&Connection]) -> ClientMap {
    let mut map = ClientMap::new();
    for connection in connections {
        let options = ClientOptions::for_connection(&config.settings, connection);
        map.entry(options).or_insert_with_key(|options| {
            ActClient::new(options)
                .map(Arc::new)
                .map_err(|e| format!("cannot build the HTTP client: {e:#}"))
        });
    }
    map
}

/// The client of `connection` from `map` (built by [`clients`] for it).
fn client_of(
    map: &ClientMap,
    config: &Config,
    connection: &Connection,
) -> Result<Arc<ActClient>, String> {
    map.get(&ClientOptions::for_connection(&config.settings, connection))
        .cloned()
        .unwrap_or_else(|| Err("no HTTP client was built for this connection".to_owned()))
}

/// A token ready for a script, and whether the cache supplied it.
struct Obtained {
    status: TokenStatus,
    from_cache: bool,
}

/// How long a command waits for another process's authorize before going on
/// without the lock: two requests' worth plus time for a password command.
fn lock_wait(settings: &Settings) -> Duration {
    settings.timeout.saturating_mul(2) + Duration::from_secs(5)
}

/// A valid token for `connection`: from the cache when it has `min_life`
/// (default: the refresh lead) left and `fresh` is false; otherwise under the
/// key's lock, re-reading the cache first, by authorizing and caching the result.
///
/// The cached path builds no async runtime and no HTTP client: it is a file read.
fn obtain(
    config: &Config,
    connection: &Connection,
    fresh: bool,
    min_life: Option<Duration>,
) -> anyhow::Result<Result<Obtained, Verdict>> {
    let cache = TokenCache::open_default();
    let cached = |cache: &TokenCache| {
        cache
            .load(connection)
            .filter(|t| t.usable(&config.settings, min_life, Utc::now()))
            .map(|t| Obtained {
                status: t.to_status(),
                from_cache: true,
            })
    };

    if !fresh && let Some(hit) = cache.as_ref().and_then(cached) {
        return Ok(Ok(hit));
    }

    let _lock = if let Some(cache) = &cache {
        cache
            .lock(connection, lock_wait(&config.settings))
            .unwrap_or_else(|e| {
                tracing::warn!(connection = %connection.name, "token cache lock failed: {e}");
                None
            })
    } else {
        tracing::warn!("no cache folder: the token will not be cached");
        None
    };
    // Whoever held the lock may have just cached what we need.
    if !fresh && let Some(hit) = cache.as_ref().and_then(cached) {
        tracing::debug!(connection = %connection.name, "token cached by another process while waiting");
        return Ok(Ok(hit));
    }

    let client = client(config, connection)?;
    let (entry, result) = runtime_single()?.block_on(session::authorize_once(
        &client,
        connection,
        &config.settings,
    ));
    session::record_in_journal(entry.as_slice());
    let status = match result {
        Ok(status) => status,
        Err(verdict) => return Ok(Err(verdict)),
    };
    if let Some(cache) = &cache
        && let Err(e) = cache.store(connection, &status)
    {
        tracing::warn!(connection = %connection.name, "could not cache the token: {e}");
        eprintln!("actsm: note: could not cache the token: {e}");
    }
    if status.clock_offset.abs() > session::SKEW_WARNING {
        eprintln!(
            "actsm: note: {}: {}; expiry times are given on this machine's clock",
            connection.name,
            session::describe_skew(status.clock_offset)
        );
    }
    Ok(Ok(Obtained {
        status,
        from_cache: false,
    }))
}

/// `actsm token --format json`.
#[derive(Debug, serde::Serialize)]
struct TokenJson<'a> {
    name: &'a str,
    token: &'a str,
    expires_at: String,
    expiry_source: ExpirySource,
    remaining_secs: i64,
    database: &'a str,
    base_url: &'a str,
    user: &'a str,
    from_cache: bool,
}

fn token(
    config: &Config,
    connection: &Connection,
    fresh: bool,
    min_life: Option<Duration>,
    format: TokenFormat,
) -> anyhow::Result<Exit> {
    let obtained = match obtain(config, connection, fresh, min_life)? {
        Ok(obtained) => obtained,
        Err(verdict) => {
            report_failure(&connection.name, &verdict);
            return Ok(Exit::for_verdict(&verdict));
        }
    };
    let target = Target {
        name: &connection.name,
        url: &connection.url,
        database: &connection.database,
        user: &connection.user,
    };
    print_token(&target, &obtained.status, obtained.from_cache, format)
}

/// Where a token is for, as `actsm token --format json` reports it.
struct Target<'a> {
    name: &'a str,
    url: &'a str,
    database: &'a str,
    user: &'a str,
}

/// Prints `status`'s token for `target` in `format` on stdout.
fn print_token(
    target: &Target<'_>,
    status: &TokenStatus,
    from_cache: bool,
    format: TokenFormat,
) -> anyhow::Result<Exit> {
    let text = match format {
        TokenFormat::Raw => Zeroizing::new(status.token.expose().to_owned()),
        TokenFormat::Header => {
            Zeroizing::new(format!("Authorization: Bearer {}", status.token.expose()))
        }
        TokenFormat::Json => Zeroizing::new(serde_json::to_string_pretty(&TokenJson {
            name: target.name,
            token: status.token.expose(),
            expires_at: status
                .local_expires_at()
                .to_rfc3339_opts(SecondsFormat::Secs, false),
            expiry_source: status.expiry.source,
            remaining_secs: status.remaining(Utc::now()).num_seconds(),
            database: target.database,
            base_url: target.url,
            user: target.user,
            from_cache,
        })?),
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", text.as_str()).context("could not write to stdout")?;
    Ok(Exit::Ok)
}

/// `actsm exec`: the command's own exit code, or actsm's when it never ran.
fn exec(
    config: &Config,
    connection: &Connection,
    fresh: bool,
    min_life: Option<Duration>,
    argv: &[OsString],
) -> anyhow::Result<ExitCode> {
    let Some((program, rest)) = argv.split_first() else {
        return Err(failed(Exit::Failure, "exec needs a command after --"));
    };
    let obtained = match obtain(config, connection, fresh, min_life)? {
        Ok(obtained) => obtained,
        Err(verdict) => {
            report_failure(&connection.name, &verdict);
            return Ok(Exit::for_verdict(&verdict).into());
        }
    };
    let status = obtained.status;
    let mut command = std::process::Command::new(program);
    command
        .args(rest)
        .env("ACT_TOKEN", status.token.expose())
        .env("ACT_BASE_URL", &connection.url)
        .env("ACT_DATABASE", &connection.database)
        .env(
            "ACT_TOKEN_EXPIRES_AT",
            status
                .local_expires_at()
                .to_rfc3339_opts(SecondsFormat::Secs, false),
        );
    tracing::info!(
        connection = %connection.name,
        program = %program.to_string_lossy(),
        from_cache = obtained.from_cache,
        "exec"
    );
    Ok(run_child(&mut command, program))
}

/// On Unix actsm becomes the command (`execvp`): signals, the terminal and
/// the exit code are the command's own, with nothing in between.
#[cfg(unix)]
fn run_child(command: &mut std::process::Command, program: &OsStr) -> ExitCode {
    use std::os::unix::process::CommandExt as _;
    let error = command.exec();
    spawn_failure(program, &error)
}

/// Elsewhere actsm waits for the command and exits with its code.
#[cfg(not(unix))]
fn run_child(command: &mut std::process::Command, program: &OsStr) -> ExitCode {
    match command.status() {
        Ok(status) => ExitCode::from(
            status
                .code()
                .map_or(1, |c| u8::try_from(c & 0xff).unwrap_or(1)),
        ),
        Err(error) => spawn_failure(program, &error),
    }
}

/// 127 when the command is not found, 126 when it cannot be run (as shells do).
fn spawn_failure(program: &OsStr, error: &std::io::Error) -> ExitCode {
    let code = if error.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    };
    tracing::warn!(program = %program.to_string_lossy(), "exec failed: {error}");
    eprintln!(
        "actsm: {}: could not run {}: {error}",
        paint("exec failed", Colour::Red),
        program.to_string_lossy()
    );
    ExitCode::from(code)
}

fn report_failure(name: &str, verdict: &Verdict) {
    tracing::warn!(
        connection = name,
        verdict = verdict.kind.label(),
        "authorize failed"
    );
    eprintln!(
        "actsm: connection '{name}': {}",
        paint(&verdict.summary(), Colour::Red)
    );
    eprintln!("  what to do: {}", verdict.kind.next_step());
}

/// Colours for stderr.
#[derive(Debug, Clone, Copy)]
enum Colour {
    Red,
    Green,
}

/// True when stderr is a terminal and `NO_COLOR` is unset or empty.
fn stderr_colour() -> bool {
    use std::io::IsTerminal as _;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// `text` in `colour` when [`stderr_colour`] allows it; for stderr only.
fn paint(text: &str, colour: Colour) -> String {
    if !stderr_colour() {
        return text.to_owned();
    }
    let code = match colour {
        Colour::Red => "31",
        Colour::Green => "32",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// One row of `actsm status`.
#[derive(Debug, serde::Serialize)]
struct StatusRow {
    name: String,
    url: String,
    database: String,
    user: String,
    ok: bool,
    /// `valid`, `expiring`, `expired`, `none` (cache) or `valid`, `failed` (check).
    state: &'static str,
    /// `cache` or `check`.
    source: &'static str,
    verdict: Option<VerdictJson>,
    status: Option<u16>,
    latency_ms: Option<u64>,
    expires_at: Option<String>,
    expiry_source: Option<ExpirySource>,
    remaining_secs: Option<i64>,
    meter: Option<crate::act::Meter>,
    #[serde(skip)]
    exit: Exit,
}

/// A verdict as `--json` prints it.
#[derive(Debug, serde::Serialize)]
struct VerdictJson {
    kind: crate::act::VerdictKind,
    label: &'static str,
    meaning: &'static str,
    next_step: &'static str,
    detail: Option<String>,
}

impl From<&Verdict> for VerdictJson {
    fn from(verdict: &Verdict) -> Self {
        Self {
            kind: verdict.kind,
            label: verdict.kind.label(),
            meaning: verdict.kind.meaning(),
            next_step: verdict.kind.next_step(),
            detail: verdict.detail.clone(),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `actsm status` without `--check`: the cache only, no network.
fn status_cached(config: &Config, connections: &[&Connection], json: bool) -> anyhow::Result<Exit> {
    let cache = TokenCache::open_default();
    let now = Utc::now();
    let rows: Vec<StatusRow> = connections
        .iter()
        .map(|connection| {
            let cached = cache.as_ref().and_then(|c| c.load(connection));
            let (state, ok) = match &cached {
                None => ("none", false),
                Some(t) if t.expiry.is_expired(now) => ("expired", false),
                Some(t) if !t.usable(&config.settings, None, now) => ("expiring", true),
                Some(_) => ("valid", true),
            };
            StatusRow {
                name: connection.name.clone(),
                url: connection.url.clone(),
                database: connection.database.clone(),
                user: connection.user.clone(),
                ok,
                state,
                source: "cache",
                verdict: None,
                status: None,
                latency_ms: None,
                expires_at: cached.as_ref().map(|t| {
                    t.local_expires_at()
                        .to_rfc3339_opts(SecondsFormat::Secs, false)
                }),
                expiry_source: cached.as_ref().map(|t| t.expiry.source),
                remaining_secs: cached.as_ref().map(|t| t.remaining(now).num_seconds()),
                meter: None,
                exit: if ok { Exit::Ok } else { Exit::NoToken },
            }
        })
        .collect();
    print_status(&rows, json)
}

/// `actsm status --check`: authorize each connection once, caching the tokens.
async fn status_check(
    config: &Config,
    connections: Vec<&Connection>,
    json: bool,
) -> anyhow::Result<Exit> {
    let clients = clients(config, &connections);
    let cache = TokenCache::open_default();

    // Bounded concurrency: a few dozen slow servers must not open a few dozen sockets at once.
    let rows: Vec<StatusRow> = futures::stream::iter(connections)
        .map(|connection| {
            let client = client_of(&clients, config, connection);
            let cache = cache.clone();
            async move {
                let (entry, result) =
                    authorize_and_cache(&client, cache.as_ref(), connection, config).await;
                status_row(connection, entry.as_ref(), &result)
            }
        })
        .buffered(8)
        .collect()
        .await;
    print_status(&rows, json)
}

/// Authorizes once (for `status --check` and `check`) and caches the token
/// obtained anyway; a cache failure is only logged.
///
/// A client that could not be built (`Err`, its reason) is that connection's verdict.
async fn authorize_and_cache(
    client: &Result<Arc<ActClient>, String>,
    cache: Option<&TokenCache>,
    connection: &Connection,
    config: &Config,
) -> (
    Option<crate::journal::JournalEntry>,
    Result<TokenStatus, Verdict>,
) {
    let client = match client {
        Ok(client) => client,
        Err(why) => {
            return (
                None,
                Err(Verdict::new(
                    crate::act::VerdictKind::Transport,
                    Some(why.clone()),
                )),
            );
        }
    };
    let (entry, result) = session::authorize_once(client, connection, &config.settings).await;
    session::record_in_journal(entry.as_slice());
    if let (Some(cache), Ok(status)) = (cache, &result)
        && let Err(e) = cache.store(connection, status)
    {
        tracing::warn!(connection = %connection.name, "could not cache the token: {e}");
    }
    (entry, result)
}

fn print_status(rows: &[StatusRow], json: bool) -> anyhow::Result<Exit> {
    let mut stdout = std::io::stdout().lock();
    if json {
        let doc = serde_json::json!({ "connections": rows });
        writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        for row in rows {
            let expires = row.expires_at.as_deref().unwrap_or("-");
            let what = row.verdict.as_ref().map_or_else(
                || match row.state {
                    "none" => "no cached token",
                    "expired" => "cached token expired",
                    "expiring" => "cached, expiring soon",
                    _ => "cached",
                },
                |v| v.label,
            );
            let tail = match (row.latency_ms, row.remaining_secs) {
                (Some(ms), _) => format!("{ms} ms"),
                (None, Some(secs)) if secs > 0 => {
                    format!("{} left", short_duration(chrono::Duration::seconds(secs)))
                }
                _ => "-".to_owned(),
            };
            writeln!(
                stdout,
                "{:<20} {:<6} {:<28} expires {:<25} {}",
                row.name,
                if row.ok { "ok" } else { "FAIL" },
                what,
                expires,
                tail
            )?;
            // The table is data (stdout); the advice for a failing row is not (stderr).
            if !row.ok {
                match &row.verdict {
                    Some(v) => {
                        eprintln!("actsm: {}: {}", row.name, v.meaning);
                        eprintln!("  what to do: {}", v.next_step);
                    }
                    None => eprintln!(
                        "actsm: {}: no cached token; run `actsm token {}` or \
                         `actsm status --check {}`",
                        row.name, row.name, row.name
                    ),
                }
            }
        }
    }
    Ok(rows.iter().map(|row| row.exit).max().unwrap_or(Exit::Ok))
}

fn status_row(
    connection: &Connection,
    entry: Option<&crate::journal::JournalEntry>,
    result: &Result<TokenStatus, Verdict>,
) -> StatusRow {
    let (verdict, expiry, remaining, expires_at) = match result {
        Ok(status) => (
            Verdict::ok(),
            Some(status.expiry),
            Some(status.remaining(Utc::now()).num_seconds()),
            Some(status.local_expires_at()),
        ),
        Err(verdict) => (verdict.clone(), None, None, None),
    };
    StatusRow {
        name: connection.name.clone(),
        url: connection.url.clone(),
        database: connection.database.clone(),
        user: connection.user.clone(),
        ok: verdict.is_ok(),
        state: if verdict.is_ok() { "valid" } else { "failed" },
        source: "check",
        verdict: Some(VerdictJson::from(&verdict)),
        status: entry.and_then(|e| e.status),
        latency_ms: entry.map(|e| millis(e.latency)),
        expires_at: expires_at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, false)),
        expiry_source: expiry.map(|e| e.source),
        remaining_secs: remaining,
        meter: entry.and_then(|e| e.meter),
        exit: Exit::for_verdict(&verdict),
    }
}

/// One line of `actsm check`.
#[derive(Debug, serde::Serialize)]
struct CheckRow {
    name: String,
    ok: bool,
    verdict: VerdictJson,
    status: Option<u16>,
    latency_ms: Option<u64>,
    expires_at: Option<String>,
    meter: Option<crate::act::Meter>,
    system: Option<SystemInfo>,
    system_verdict: Option<VerdictJson>,
    #[serde(skip)]
    exit: Exit,
}

/// `actsm check`: authorize and read `/api/system` for each connection, a bounded number at once.
async fn check(
    config: &Config,
    connections: Vec<&Connection>,
    json: bool,
    jobs: usize,
) -> anyhow::Result<Exit> {
    let clients = clients(config, &connections);
    let cache = TokenCache::open_default();
    let rows: Vec<CheckRow> = futures::stream::iter(connections)
        .map(|connection| {
            let client = client_of(&clients, config, connection);
            let cache = cache.clone();
            async move {
                let (entry, result) =
                    authorize_and_cache(&client, cache.as_ref(), connection, config).await;
                let verdict = result.as_ref().err().cloned().unwrap_or_else(Verdict::ok);
                // A server that cannot be reached will not answer /api/system either.
                let (system, system_verdict) = if let (Some(_), Ok(client)) = (&entry, &client)
                    && verdict.class() != VerdictClass::Unreachable
                {
                    let (exchange, info) =
                        client.system(&connection.url, &connection.database).await;
                    (info.ok(), Some(VerdictJson::from(&exchange.verdict)))
                } else {
                    (None, None)
                };
                CheckRow {
                    name: connection.name.clone(),
                    ok: verdict.is_ok(),
                    status: entry.as_ref().and_then(|e| e.status),
                    latency_ms: entry.as_ref().map(|e| millis(e.latency)),
                    expires_at: result.as_ref().ok().map(|s| {
                        s.local_expires_at()
                            .to_rfc3339_opts(SecondsFormat::Secs, false)
                    }),
                    meter: entry.as_ref().and_then(|e| e.meter),
                    system,
                    system_verdict,
                    exit: Exit::for_verdict(&verdict),
                    verdict: VerdictJson::from(&verdict),
                }
            }
        })
        .buffered(jobs.max(1))
        .collect()
        .await;

    let mut stdout = std::io::stdout().lock();
    if json {
        let doc = serde_json::json!({ "connections": rows });
        writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        let now = Utc::now();
        for row in &rows {
            let api = row
                .system
                .as_ref()
                .and_then(|s| s.api_version.as_deref())
                .map_or_else(|| "api ?".to_owned(), |v| format!("api {v}"));
            let latency = row
                .latency_ms
                .map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms"));
            let verdict = if row.ok { "ok" } else { row.verdict.label };
            writeln!(
                stdout,
                "{:<20} {:<28} {:<16} {:>8}  {}",
                row.name,
                verdict,
                api,
                latency,
                describe_reading(row.meter.as_ref(), now)
            )?;
        }
    }
    for row in rows.iter().filter(|r| !r.ok) {
        eprintln!(
            "actsm: connection '{}': {}; what to do: {}",
            row.name,
            paint(row.verdict.label, Colour::Red),
            row.verdict.next_step
        );
    }
    Ok(rows.iter().map(|row| row.exit).max().unwrap_or(Exit::Ok))
}

/// `actsm system NAME`.
async fn system(config: &Config, connection: &Connection, json: bool) -> anyhow::Result<Exit> {
    let client = client(config, connection)?;
    let (exchange, result) = client.system(&connection.url, &connection.database).await;
    let info = match result {
        Ok(info) => info,
        Err(verdict) => {
            report_failure(&connection.name, &verdict);
            return Ok(Exit::for_verdict(&verdict));
        }
    };
    let mut stdout = std::io::stdout().lock();
    if json {
        let doc = serde_json::json!({
            "name": connection.name,
            "base_url": connection.url,
            "api_version": info.api_version,
            "sdk_version": info.sdk_version,
            "update": info.update,
            "culture": info.culture,
            "latency_ms": millis(exchange.latency),
        });
        writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        let or_dash = |v: Option<&str>| v.unwrap_or("-").to_owned();
        writeln!(
            stdout,
            "api_version  {}",
            or_dash(info.api_version.as_deref())
        )?;
        writeln!(
            stdout,
            "sdk_version  {}",
            or_dash(info.sdk_version.as_deref())
        )?;
        writeln!(
            stdout,
            "update       {}",
            info.update
                .map_or_else(|| "-".to_owned(), |u| u.to_string())
        )?;
        writeln!(stdout, "culture      {}", or_dash(info.culture.as_deref()))?;
    }
    Ok(Exit::Ok)
}

/// One connection as `actsm list --json` prints it: no password, only where it comes from.
#[derive(Debug, serde::Serialize)]
struct ListRow<'a> {
    name: &'a str,
    url: &'a str,
    database: &'a str,
    user: &'a str,
    /// `env`, `command`, `prompt`, `keyring` or `plain`.
    password_source: &'static str,
    /// The variable's name for `env`.
    password_env: Option<&'a str>,
    autostart: bool,
}

fn list(config: &Config, json: bool) -> anyhow::Result<Exit> {
    let rows: Vec<ListRow<'_>> = config
        .connections
        .iter()
        .map(|c| {
            let (password_source, password_env) = match &c.secret {
                SecretSource::Env(var) => ("env", Some(var.as_str())),
                SecretSource::Command(_) => ("command", None),
                SecretSource::Prompt => ("prompt", None),
                SecretSource::Keyring { .. } => ("keyring", None),
                SecretSource::Plain(_) => ("plain", None),
            };
            ListRow {
                name: &c.name,
                url: &c.url,
                database: &c.database,
                user: &c.user,
                password_source,
                password_env,
                autostart: c.autostart,
            }
        })
        .collect();
    let mut stdout = std::io::stdout().lock();
    if json {
        let doc = serde_json::json!({ "connections": rows });
        writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        for row in &rows {
            writeln!(
                stdout,
                "{:<20} {:<20} {:<20} {}",
                row.name, row.database, row.user, row.url
            )?;
        }
    }
    Ok(Exit::Ok)
}

/// Life left as the prompt shows it: `59s`, `42m`, `1h05m`.
fn compact_remaining(secs: i64) -> String {
    match secs {
        ..60 => format!("{}s", secs.max(0)),
        60..3600 => format!("{}m", secs / 60),
        _ => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
    }
}

/// `actsm prompt NAME`: one file read, no runtime, no client, no log.
fn prompt(connection: &Connection) -> anyhow::Result<Exit> {
    let cached = TokenCache::open_default().and_then(|cache| cache.load(connection));
    print_prompt(&connection.name, cached.as_ref())
}

/// The prompt segment for `name` with its cached token, if any.
fn print_prompt(name: &str, cached: Option<&crate::cache::CachedToken>) -> anyhow::Result<Exit> {
    let left = cached.map_or_else(
        || "-".to_owned(),
        |t| {
            let secs = t.remaining(Utc::now()).num_seconds();
            if secs <= 0 {
                "expired".to_owned()
            } else {
                compact_remaining(secs)
            }
        },
    );
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{name} {left}")?;
    Ok(Exit::Ok)
}

/// `actsm logout`.
fn logout(config: &Config, name: Option<&str>, all: bool) -> anyhow::Result<Exit> {
    let cache = TokenCache::open_default()
        .ok_or_else(|| failed(Exit::Failure, "no cache folder: nothing to remove"))?;
    let removed = if all {
        cache.remove_all()?
    } else {
        let name = name.ok_or_else(|| failed(Exit::Failure, "logout needs a NAME or --all"))?;
        let current = match config.connection(name) {
            Some(connection) => usize::from(cache.remove(connection)?),
            None => 0,
        };
        let removed = current + cache.remove_named(name)?;
        if removed == 0 && config.connection(name).is_none() {
            find(config, name)?;
        }
        removed
    };
    let what = name
        .filter(|_| !all)
        .map_or_else(String::new, |n| format!(" for '{n}'"));
    eprintln!(
        "actsm: {}",
        paint(
            &format!("removed {removed} cached token(s){what}"),
            Colour::Green
        )
    );
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn prompt_durations_are_compact() {
        assert_eq!(compact_remaining(-5), "0s");
        assert_eq!(compact_remaining(59), "59s");
        assert_eq!(compact_remaining(42 * 60 + 10), "42m");
        assert_eq!(compact_remaining(3600 + 5 * 60), "1h05m");
    }

    #[test]
    fn exit_codes_order_by_severity() {
        assert!(Exit::NoToken > Exit::Unreachable);
        assert_eq!(ExitCode::from(Exit::NoToken), ExitCode::from(6));
    }
}
