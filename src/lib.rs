//! actsm keeps Act! Web API sessions alive for many named connections.
//!
//! The modules, from the wire up:
//!
//! - [`secret`]: passwords and tokens in memory (zeroed, never printed).
//! - [`act`]: the Act! auth protocol alone: calls, JWT decoding, verdicts, meters.
//! - [`config`]: the connections file and secret sources.
//! - [`journal`]: the record of every auth exchange.
//! - [`session`]: the engine, one task per started connection.
//! - [`cache`]: the token cache on disk, shared by the engine and the commands.
//! - [`tui`]: the terminal UI: app state, update, drawing.
//! - [`sim`]: the built-in Act! simulator used by `actsm sim`, `actsm demo` and the tests.
//! - [`demo`]: `actsm demo`, the TUI on the simulator with a temporary connections file.
//! - [`cli`]: the command line and its dispatch.

pub mod act;
pub mod cache;
pub mod cli;
pub mod config;
pub mod demo;
pub mod journal;
pub mod logging;
pub mod paths;
pub mod secret;
pub mod session;
pub mod sim;
pub mod tui;
