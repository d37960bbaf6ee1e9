//! The command line: parsing and dispatch.

use std::process::ExitCode;

/// Runs the program; returns the process exit code.
pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
