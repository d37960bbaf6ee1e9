//! The harness shared by the command-line tests: a simulator on loopback, a
//! temporary connections file and state folder, and the built binary run
//! against them as a user runs it.
#![allow(dead_code)] // each test binary uses a different part of it

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use actsm::sim::{SimConfig, SimServer};

/// A simulator plus a temporary connections file and state folder.
pub struct Fixture {
    pub sim: SimServer,
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// The demo simulator on a free loopback port and an empty temporary folder;
    /// each test file writes its own connections file.
    pub async fn new() -> Self {
        let sim = SimServer::start(([127, 0, 0, 1], 0).into(), SimConfig::demo())
            .await
            .expect("simulator starts on loopback");
        let dir = tempfile::tempdir().expect("temp dir");
        Self { sim, dir }
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).expect("write config");
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("connections.toml")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// `actsm ARGS` pointed at this fixture, with no proxy and full logging.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_actsm"));
        command
            .args(args)
            .env("ACTSM_CONFIG", self.config_path())
            .env("ACTSM_STATE_DIR", self.state_dir())
            .env("ACTSM_LOG", "trace")
            .env("ACTSM_TEST_ACME_PW", "demo")
            .env_remove("ACTSM_TEST_UNSET_VARIABLE")
            .env("NO_COLOR", "1")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY");
        command
    }

    /// Runs `actsm ARGS` off the async runtime so the simulator keeps serving.
    pub async fn actsm(&self, args: &[&str]) -> Output {
        let mut command = self.command(args);
        tokio::task::spawn_blocking(move || command.output().expect("actsm runs"))
            .await
            .expect("join")
    }
}

/// A URL on a loopback port where nothing listens.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/act.web.api")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every file below `dir`, concatenated as text.
pub fn read_all_files(dir: &Path) -> String {
    let mut text = String::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return text;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            text.push_str(&read_all_files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text
}
