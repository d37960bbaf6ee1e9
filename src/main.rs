//! The `actsm` binary: see the library crate for the architecture.

fn main() -> std::process::ExitCode {
    actsm::cli::main()
}
