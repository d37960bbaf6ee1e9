//! `actsm demo`: the TUI against the built-in simulator, on a temporary
//! connections file, touching no file of the user's.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::sim::{FAULT_DATABASE_PREFIX, FAULT_PASSWORD, Scenario, SimConfig, SimServer};
use crate::tui::{self, TuiOptions};
use crate::{config, logging};

/// The demo's connections file for a simulator at `base_url`; `cloud_base_url`
/// is the same simulator under the Premium Cloud path form.
///
/// Every state the app knows shows up: healthy, short-lived tokens refreshed
/// while you watch, a wrong password, 4031, 4032 and a tight rate limit.
pub fn demo_toml(base_url: &str, cloud_base_url: &str) -> String {
    format!(
        r#"# actsm demo: six connections against the built-in simulator.
# This file lives in a temporary folder and is removed when the demo ends.
# The demo stores its passwords in plain text; yours should use password_env
# or password_command (see README.md).

[settings]
refresh_before = "5m"
assumed_lifetime = "20m"
timeout = "5s"

# A healthy on-premises server: 65-minute tokens.
[[connection]]
name = "acme-prod"
url = "{base_url}"
database = "Acme_Healthy"
user = "Jane Doe"
password = "demo"
autostart = true

# Premium Cloud path form, 90-second tokens: watch them refresh.
[[connection]]
name = "bobs-cloud"
url = "{cloud_base_url}"
database = "Bobs_Fast"
user = "bob@example.com"
password = "demo"
autostart = true

# The password is wrong: a bare 401, tried once, never hammered.
[[connection]]
name = "carol-typo"
url = "{base_url}"
database = "Carol_Wrong"
user = "Carol"
password = "not-the-password"
autostart = true

# The subscription does not include API access (4031).
[[connection]]
name = "dave-sub"
url = "{base_url}"
database = "Dave_4031"
user = "Dave"
password = "demo"
autostart = true

# The user lacks the Web API Access permission (4032).
[[connection]]
name = "erin-perm"
url = "{base_url}"
database = "Erin_4032"
user = "Erin"
password = "demo"
autostart = true

# A tight rate limit: watch the meter.
[[connection]]
name = "frank-limited"
url = "{base_url}"
database = "Frank_Limited"
user = "Frank"
password = "demo"
autostart = true
"#
    )
}

/// The demo's extra connections for `actsm demo --faults`: one per simulator
/// scenario other than `healthy` (the refusals and server faults as well as
/// the injected faults), in the group "faults", each against the simulator's
/// `fault-NAME` database, so each can be watched ending in its state.
pub fn demo_faults_toml(base_url: &str) -> String {
    use std::fmt::Write as _;

    let mut out = String::from("\n# One connection per simulator fault (actsm demo --faults).\n");
    for scenario in Scenario::ALL
        .into_iter()
        .filter(|sc| *sc != Scenario::Healthy)
    {
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            r#"
# {describe}
[[connection]]
name = "fault-{scenario}"
group = "faults"
url = "{base_url}"
database = "{FAULT_DATABASE_PREFIX}{scenario}"
user = "Demo User"
password = "{FAULT_PASSWORD}"
autostart = true
"#,
            describe = scenario.describe(),
        );
    }
    out
}

/// A temporary folder removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn create() -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "actsm-demo-{}-{}",
            std::process::id(),
            fastrand::u32(..)
        ));
        // Owner-only: it holds the demo's connections file and log.
        crate::paths::create_private_dir(&path)
            .with_context(|| format!("could not create the demo folder {}", path.display()))?;
        Ok(Self(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the demo until the user quits the TUI; `faults` adds the fault connections,
/// `theme` is the `--theme` flag (already checked).
pub async fn run(faults: bool, theme: Option<String>) -> anyhow::Result<()> {
    let dir = TempDir::create()?;
    let log_path = dir.path().join("actsm.log");
    let _log_guard = logging::init(&log_path, None).ok();

    let sim = SimServer::start(([127, 0, 0, 1], 0).into(), SimConfig::demo())
        .await
        .context("could not start the simulator on a loopback port")?;
    let config_path = dir.path().join("connections.toml");
    // Owner-only: the demo's file holds (demo) passwords in plain text.
    crate::paths::private_open_options()
        .write(true)
        .create_new(true)
        .open(&config_path)
        .and_then(|mut file| {
            use std::io::Write as _;
            let mut toml = demo_toml(&sim.base_url(), &sim.cloud_base_url("bobsoldred"));
            if faults {
                toml.push_str(&demo_faults_toml(&sim.base_url()));
            }
            file.write_all(toml.as_bytes())
        })
        .with_context(|| format!("could not write {}", config_path.display()))?;
    let config = config::load(&config_path).map_err(|err| anyhow::anyhow!("{err}"))?;

    let result = tui::run(
        config,
        TuiOptions {
            title: format!("demo · simulator at {}", sim.addr()),
            log_path: Some(log_path),
            config_path: Some(config_path),
            // The demo's tokens are for a simulator that dies with it: cache nothing.
            token_cache: None,
            theme,
            // The user's own themes are read (never written) in the demo too.
            themes_dir: crate::paths::config_file()
                .and_then(|f| f.parent().map(|d| d.join("themes"))),
            // The demo's journal lives beside the real one, apart from it, and survives
            // the demo (so a second run shows the first one's exchanges).
            journal_dir: crate::paths::state_dir().map(|d| d.join("demo")),
        },
    )
    .await;
    sim.shutdown().await;
    result
}
