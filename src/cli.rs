//! The command line: parsing and dispatch.
//!
//! Every subcommand uses the same pieces as the TUI (config loading, the
//! `act` client, the session engine's one-shot authorize), never a copy.
//! stdout carries only the data asked for; verdicts and progress go to stderr.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use futures::StreamExt;

use crate::act::{ActClient, ClientOptions, ExpirySource, Verdict, VerdictClass};
use crate::config::{self, Config, Connection};
use crate::session::{self, TokenStatus};
use crate::sim::SimConfig;
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
     timeout, TLS, 404, 5xx, throttled, not a token";

/// Keeps Act! Web API sessions alive for many named connections.
///
/// Without a subcommand, opens the terminal UI on your connections file.
#[derive(Debug, Parser)]
#[command(name = "actsm", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// The connections file [default: the platform config folder, e.g.
    /// ~/.config/actsm/connections.toml on Linux].
    #[arg(long, global = true, env = "ACTSM_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,

    /// What to do; the terminal UI when omitted.
    #[command(subcommand)]
    command: Option<Cmd>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Cmd {
    /// Open the terminal UI on your connections file (the default).
    Tui,

    /// Open the terminal UI on a built-in demo: a simulator on a free loopback
    /// port and six connections that show every state. Touches no file of yours.
    Demo,

    /// Run the built-in Act! auth simulator until Ctrl-C.
    ///
    /// It serves /authorize (Basic and Bearer) and /api/system under both
    /// base-path forms, with the demo's users (run `actsm sim` to see them).
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
    },

    /// Print a valid token for a connection on stdout, and nothing else.
    ///
    /// Authorizes with the connection's credentials. On failure, prints what
    /// happened and what to do on stderr and exits non-zero (see exit codes).
    /// Example: curl -H "Authorization: Bearer $(actsm token acme)" ...
    Token {
        /// The connection's name, as in the connections file.
        name: String,
    },

    /// Authorize each connection once and print its state.
    Status {
        /// Print JSON (documented in README.md) instead of a table.
        #[arg(long)]
        json: bool,

        /// Connections to check [default: all].
        names: Vec<String>,
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
        Ok(exit) => exit.into(),
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

fn run(cli: Cli) -> anyhow::Result<Exit> {
    let command = cli.command.unwrap_or(Cmd::Tui);

    // The demo logs into its own temporary folder; everything else into the state folder.
    let _log_guard = match &command {
        Cmd::Demo => None,
        _ => paths::log_file().and_then(|path| logging::init(&path, None).ok()),
    };

    match command {
        Cmd::Tui => {
            let config_path = paths::resolve_config(cli.config);
            let config = load_config(config_path.as_deref())?;
            runtime_multi()?.block_on(tui::run(
                config,
                TuiOptions {
                    title: config_path.as_ref().map_or_else(
                        || "no connections file".to_owned(),
                        |p| p.display().to_string(),
                    ),
                    log_path: paths::log_file(),
                    config_path,
                },
            ))?;
            Ok(Exit::Ok)
        }
        Cmd::Demo => {
            runtime_multi()?.block_on(demo::run())?;
            Ok(Exit::Ok)
        }
        Cmd::Sim {
            addr,
            lifetime,
            public,
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
            runtime_multi()?.block_on(crate::sim::run_cli(addr, sim_config))?;
            Ok(Exit::Ok)
        }
        Cmd::Token { name } => {
            let config = load_config(paths::resolve_config(cli.config).as_deref())?;
            let connection = find(&config, &name)?.clone();
            runtime_single()?.block_on(token(&config, &connection))
        }
        Cmd::Status { json, names } => {
            let config = load_config(paths::resolve_config(cli.config).as_deref())?;
            let connections = select(&config, &names)?;
            runtime_single()?.block_on(status(&config, connections, json))
        }
    }
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
fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    let Some(path) = path else {
        return Ok(Config::empty());
    };
    let config = config::load(path).map_err(|err| failed(Exit::Config, err.to_string()))?;
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    Ok(config)
}

fn find<'a>(config: &'a Config, name: &str) -> anyhow::Result<&'a Connection> {
    config.connection(name).ok_or_else(|| {
        let file = config.path.as_ref().map_or_else(
            || "the connections file".to_owned(),
            |p| p.display().to_string(),
        );
        let known: Vec<&str> = config.connections.iter().map(|c| c.name.as_str()).collect();
        let hint = if known.is_empty() {
            format!("{file} has no connections; add a [[connection]] table (see README.md)")
        } else {
            format!("known connections: {}", known.join(", "))
        };
        failed(
            Exit::Config,
            format!("no connection named '{name}' in {file}; {hint}"),
        )
    })
}

fn select<'a>(config: &'a Config, names: &[String]) -> anyhow::Result<Vec<&'a Connection>> {
    if names.is_empty() {
        return Ok(config.connections.iter().collect());
    }
    names.iter().map(|name| find(config, name)).collect()
}

fn client(config: &Config) -> anyhow::Result<ActClient> {
    let timeout = config.settings.timeout;
    ActClient::new(&ClientOptions {
        timeout,
        connect_timeout: timeout.min(Duration::from_secs(10)),
    })
}

async fn token(config: &Config, connection: &Connection) -> anyhow::Result<Exit> {
    let client = client(config)?;
    let (_, result) = session::authorize_once(&client, connection, &config.settings).await;
    match result {
        Ok(status) => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{}", status.token.expose()).context("could not write to stdout")?;
            Ok(Exit::Ok)
        }
        Err(verdict) => {
            report_failure(&connection.name, &verdict);
            Ok(Exit::for_verdict(&verdict))
        }
    }
}

fn report_failure(name: &str, verdict: &Verdict) {
    tracing::warn!(
        connection = name,
        verdict = verdict.kind.label(),
        "authorize failed"
    );
    eprintln!("actsm: connection '{name}': {}", verdict.summary());
    eprintln!("  what to do: {}", verdict.kind.next_step());
}

/// One row of `actsm status`.
#[derive(Debug, serde::Serialize)]
struct StatusRow {
    name: String,
    url: String,
    database: String,
    user: String,
    ok: bool,
    verdict: VerdictJson,
    status: Option<u16>,
    latency_ms: Option<u64>,
    expires_at: Option<String>,
    expiry_source: Option<ExpirySource>,
    meter: Option<crate::act::Meter>,
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

async fn status(
    config: &Config,
    connections: Vec<&Connection>,
    json: bool,
) -> anyhow::Result<Exit> {
    let client = Arc::new(client(config)?);

    // Bounded concurrency: a few dozen slow servers must not open a few dozen sockets at once.
    let rows: Vec<StatusRow> = futures::stream::iter(connections)
        .map(|connection| {
            let client = Arc::clone(&client);
            async move {
                let (entry, result) =
                    session::authorize_once(&client, connection, &config.settings).await;
                status_row(connection, entry.as_ref(), &result)
            }
        })
        .buffered(8)
        .collect()
        .await;

    let mut stdout = std::io::stdout().lock();
    if json {
        let doc = serde_json::json!({ "connections": rows });
        writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        for row in &rows {
            let expires = row.expires_at.as_deref().unwrap_or("-");
            let latency = row
                .latency_ms
                .map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms"));
            writeln!(
                stdout,
                "{:<20} {:<6} {:<28} expires {:<25} {}",
                row.name,
                if row.ok { "ok" } else { "FAIL" },
                row.verdict.label,
                expires,
                latency
            )?;
            if !row.ok {
                writeln!(stdout, "{:<20} {}", "", row.verdict.meaning)?;
                writeln!(stdout, "{:<20} what to do: {}", "", row.verdict.next_step)?;
            }
        }
    }

    let worst = rows
        .iter()
        .map(|row| {
            if row.ok {
                Exit::Ok
            } else {
                exit_for_kind(row.verdict.kind)
            }
        })
        .max()
        .unwrap_or(Exit::Ok);
    Ok(worst)
}

fn exit_for_kind(kind: crate::act::VerdictKind) -> Exit {
    Exit::for_verdict(&Verdict::new(kind, None))
}

fn status_row(
    connection: &Connection,
    entry: Option<&crate::journal::JournalEntry>,
    result: &Result<TokenStatus, Verdict>,
) -> StatusRow {
    let (verdict, expiry) = match result {
        Ok(status) => (Verdict::ok(), Some(status.expiry)),
        Err(verdict) => (verdict.clone(), None),
    };
    StatusRow {
        name: connection.name.clone(),
        url: connection.url.clone(),
        database: connection.database.clone(),
        user: connection.user.clone(),
        ok: verdict.is_ok(),
        verdict: VerdictJson::from(&verdict),
        status: entry.and_then(|e| e.status),
        latency_ms: entry.map(|e| u64::try_from(e.latency.as_millis()).unwrap_or(u64::MAX)),
        expires_at: expiry.map(|e| e.expires_at.to_rfc3339()),
        expiry_source: expiry.map(|e| e.source),
        meter: entry.and_then(|e| e.meter),
    }
}
