//! The demo driven through a real terminal: a private tmux server (`-L
//! actsm-test-<pid>-<n>`) runs `actsm demo` at 80x24 and 200x50, keys go in with
//! `send-keys`, and the screen comes back with `capture-pane`.
//!
//! Skipped, with a message on stderr, where tmux is not installed (`.ci/run`
//! installs the `tmux` package). The screen is polled until a deadline; nothing
//! is asserted after a fixed sleep. The tmux server is killed when the test ends,
//! panics included.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long the screen may take to show what a step waits for (a debug build on
/// a busy machine starts slowly; a passing run waits far less).
const DEADLINE: Duration = Duration::from_secs(30);

/// A private tmux server running the demo; killed on drop.
struct Tmux {
    socket: String,
    /// The server's socket file, removed on drop (tmux leaves it behind).
    socket_path: Option<std::path::PathBuf>,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Starts `actsm demo` in a `width`x`height` window, its state and config in `dir`.
    fn start(width: u16, height: u16, dir: &Path) -> Tmux {
        static SERVERS: AtomicU32 = AtomicU32::new(0);
        let socket = format!(
            "actsm-test-{}-{}",
            std::process::id(),
            SERVERS.fetch_add(1, Ordering::SeqCst)
        );
        let mut tmux = Tmux {
            socket,
            socket_path: None,
        };
        let state = format!("ACTSM_STATE_DIR={}", dir.join("state").display());
        let config = format!("ACTSM_CONFIG={}", dir.join("connections.toml").display());
        let (w, h) = (width.to_string(), height.to_string());
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &w,
            "-y",
            &h,
            "env",
            &state,
            &config,
            "TERM=tmux-256color",
            env!("CARGO_BIN_EXE_actsm"),
            "demo",
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Keep the pane after the program exits, so the exit can be checked.
        tmux.run(&["set-option", "-t", "main", "remain-on-exit", "on"]);
        let path = tmux
            .run(&["display-message", "-p", "#{socket_path}"])
            .stdout;
        let path = String::from_utf8_lossy(&path).trim().to_owned();
        tmux.socket_path = (!path.is_empty()).then(|| path.into());
        tmux
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?} failed");
    }

    /// Types an SGR mouse report (what a terminal sends for a click or a wheel
    /// turn while the app captures the mouse): `button` 0 = left click, 64/65 =
    /// wheel up/down; `column`/`row` 0-based.
    fn mouse(&self, button: u8, column: usize, row: usize) {
        let report = format!("\x1b[<{button};{};{}M", column + 1, row + 1);
        let out = self.run(&["send-keys", "-t", "main", "-l", &report]);
        assert!(out.status.success(), "send-keys (mouse) failed");
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "main"]).stdout)
            .into_owned()
    }

    /// The terminal modes tmux tracks for the pane: mouse capture (any-event
    /// tracking, SGR reports) and the alternate screen, as `"1 1 1"` when all are on.
    fn modes(&self) -> String {
        let out = self.run(&[
            "display-message",
            "-p",
            "-t",
            "main",
            "#{mouse_any_flag} #{mouse_sgr_flag} #{alternate_on}",
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn pane_dead(&self) -> bool {
        let out = self.run(&["list-panes", "-t", "main", "-F", "#{pane_dead}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Polls the screen until `ok` holds; panics with the last screen at the deadline.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "waited {DEADLINE:?} for {what}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_exit(&self) {
        let start = Instant::now();
        while !self.pane_dead() {
            assert!(
                start.elapsed() < DEADLINE,
                "actsm did not quit; the screen shows:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// True when tmux can be run; says why the test is skipped otherwise.
fn tmux_installed() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        // Straight to the process's stderr: the test harness captures `eprintln!`,
        // and a skip should be visible in a passing run.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: tmux not installed (the Debian/Ubuntu package is `tmux`)"
        );
    }
    found
}

/// The status bar (last non-empty line).
fn status_line(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

/// The steps both sizes share: valid sessions, j, Tab, ?, Esc, i, Esc, q.
fn drive(tmux: &Tmux) {
    // A capture can catch a frame half drawn: each wait names everything it needs.
    let screen = tmux.wait_for("valid sessions", |s| {
        s.contains("Session: acme-prod") && s.contains("● valid") && s.contains("Journal")
    });
    assert!(!screen.contains("terminal too small"), "{screen}");
    assert_eq!(
        tmux.modes(),
        "1 1 1",
        "mouse captured on the alternate screen"
    );

    tmux.keys(&["j"]);
    tmux.wait_for("j to select the next connection", |s| {
        s.contains("Session: bobs-cloud")
    });

    tmux.keys(&["Tab"]);
    tmux.wait_for("Tab to focus the session pane", |s| {
        status_line(s).contains("Tab next pane  ↑↓ scroll")
    });

    tmux.keys(&["?"]);
    tmux.wait_for("the help with every key", |s| {
        s.contains("Esc closes ─")
            && ["Tab/Shift-Tab", "i / v", "mouse", "start all", "next theme"]
                .iter()
                .all(|key| s.contains(key))
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("Esc to close the help", |s| !s.contains("Esc closes ─"));

    tmux.keys(&["i"]);
    tmux.wait_for("the inspector with the masked token and the times", |s| {
        s.contains("Inspector: bobs-cloud") && s.contains("eyJhbGci…") && s.contains("exp  ")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("Esc to close the inspector", |s| {
        !s.contains("Inspector: bobs-cloud") && s.contains("Session: bobs-cloud")
    });

    // The mouse: a click on a row selects it, the wheel over the list moves on.
    let screen = tmux.screen();
    let row = screen
        .lines()
        .position(|l| l.contains("erin-perm") && l.contains("Erin_4032"))
        .unwrap_or_else(|| panic!("erin-perm not listed:\n{screen}"));
    tmux.mouse(0, 10, row);
    tmux.wait_for("a click to select erin-perm", |s| {
        s.contains("Session: erin-perm")
    });
    tmux.mouse(65, 10, row);
    tmux.wait_for("the wheel to select frank-limited", |s| {
        s.contains("Session: frank-limited")
    });

    tmux.keys(&["q"]);
    tmux.wait_exit();
    assert_eq!(tmux.modes(), "0 0 0", "mouse and screen given back on exit");
}

#[test]
fn demo_at_80x24_answers_keys() {
    if !tmux_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tmux = Tmux::start(80, 24, dir.path());
    drive(&tmux);
}

#[test]
fn demo_at_200x50_shows_every_pane_and_answers_keys() {
    if !tmux_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tmux = Tmux::start(200, 50, dir.path());
    tmux.wait_for("the wide layout with the sparkline", |s| {
        s.lines()
            .any(|l| l.contains("Rate limit") && l.contains("Journal"))
            && s.contains("● valid")
            && s.contains("calls/min, last hour")
    });
    drive(&tmux);
}
