//! End-to-end figures for README.md's "Performance" table: actsm as whole processes
//! against the built-in simulator on loopback, side by side with `cat` and `curl`.
//!
//! Run with `cargo bench --bench e2e` (about three minutes; `-- --quick` shortens the idle
//! window to 10 s and takes fewer samples). It prints what it measured, each figure next
//! to its target, and ends with the table in Markdown. Nothing here asserts: a missed
//! target is printed as missed, with the figure.
//!
//! Every process it starts gets its own connections file and state folder in a
//! temporary directory, and talks only to the simulator on 127.0.0.1.

// Figures are printed, not computed on: casts between counts, seconds and percentages
// are the point of this file, and stay far below the sizes where precision is lost.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actsm::sim::{SimConfig, SimServer, SimUser};
use anyhow::{Context as _, bail};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

mod fixture;

/// The password every bench login uses, passed to actsm through this variable.
const PASSWORD_ENV: &str = "ACTSM_BENCH_PASSWORD";
const PASSWORD: &str = "bench-password";
const DATABASE: &str = "Bench";
/// Connections in the big file: cold start, first frame, `actsm token`.
const MANY: usize = 1000;
/// Connections kept alive in the idle run.
const IDLE_SESSIONS: usize = 200;
/// The terminal the TUI runs in.
const COLS: u16 = 200;
const ROWS: u16 = 50;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mut plan = if args.iter().any(|a| a == "--quick") {
        Plan::quick()
    } else {
        Plan::full()
    };
    plan.only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|list| list.split(',').map(str::to_owned).collect());
    let actsm = PathBuf::from(env!("CARGO_BIN_EXE_actsm"));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let sim = runtime.block_on(SimServer::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        sim_config(MANY),
    ))?;
    let work = tempfile::tempdir()?;
    let bench = Bench {
        actsm,
        base_url: sim.base_url(),
        sim: &sim,
        work: work.path().to_path_buf(),
    };

    println!("actsm end-to-end benchmarks: {}", machine());
    println!(
        "simulator at {} · work folder {}\n",
        bench.base_url,
        work.path().display()
    );

    let mut table = Table::default();
    // A part that fails (a timeout, a process that exits with an error) becomes a missed
    // row with its reason, and the other parts still run.
    // The first frame's journal is the cold start's, so that one always runs.
    let cold = bench.cold_start(&mut table);
    table.record("Cold start, 1,000 connections", cold);
    if plan.runs("frame") {
        let frame = bench.first_frame(&mut table, &plan);
        table.record("First frame, 1,000 connections", frame);
    }
    if plan.runs("render") {
        let render = frame_render(&mut table, &plan);
        table.record("Frame render at 200x50", render);
    }
    if plan.runs("token") {
        let token = bench.cached_token(&mut table, &plan);
        table.record("Cached `actsm token` vs `cat`", token);
    }
    if plan.runs("fresh") {
        let fresh = bench.fresh_token(&mut table, &plan);
        table.record("Fresh `actsm token --fresh` vs `curl`", fresh);
    }
    if plan.runs("idle") {
        let idle = bench.idle(&mut table, &plan);
        table.record("Idle TUI", idle);
    }

    println!("\n{}", table.markdown());
    println!(
        "Measured on {}, {}.\n",
        machine(),
        chrono::Utc::now().format("%Y-%m-%d")
    );
    let missed = table.missed();
    let unmeasured = table.unmeasured_rows();
    if missed.is_empty() && unmeasured.is_empty() {
        println!("every target met");
    } else if missed.is_empty() {
        println!("every target measured was met");
    } else {
        println!("targets missed: {}", missed.join("; "));
    }
    if !unmeasured.is_empty() {
        println!("not measured: {}", unmeasured.join("; "));
    }
    runtime.block_on(sim.shutdown());
    Ok(())
}

/// How many samples, how long the idle window, and which parts run.
struct Plan {
    idle: Duration,
    token_runs: usize,
    fresh_runs: usize,
    frame_runs: usize,
    render_runs: usize,
    /// `--only frame,render,token,fresh,idle`: just these after the cold start.
    only: Option<Vec<String>>,
}

impl Plan {
    fn runs(&self, part: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| o == part))
    }

    fn full() -> Self {
        Self {
            idle: Duration::from_secs(60),
            token_runs: 300,
            fresh_runs: 100,
            frame_runs: 10,
            render_runs: 1000,
            only: None,
        }
    }

    fn quick() -> Self {
        Self {
            idle: Duration::from_secs(10),
            token_runs: 60,
            fresh_runs: 30,
            frame_runs: 3,
            render_runs: 200,
            only: None,
        }
    }
}

/// The simulator's logins: `bench-0001` … in one database, 65-minute tokens, no rate
/// limit (like an on-premises server), so every call is answered at once.
fn sim_config(users: usize) -> SimConfig {
    SimConfig {
        token_lifetime: Duration::from_secs(65 * 60),
        rate_limit: None,
        users: (1..=users)
            .map(|i| SimUser::new(DATABASE, user_name(i), PASSWORD))
            .collect(),
        databases: Vec::new(),
        clock_offset_secs: 0,
        revoke_on_refresh: false,
    }
}

fn user_name(i: usize) -> String {
    format!("bench-{i:04}")
}

fn connection_name(i: usize) -> String {
    format!("c{i:04}")
}

/// The group of connection `i` in the files [`Bench::write_config`] writes.
fn group_name(i: usize) -> String {
    format!("group {}", i % 20)
}

/// The name on the top row of the TUI's list (sorted by group, then name) for a file
/// of `count` connections.
fn first_row(count: usize) -> String {
    (1..=count)
        .map(|i| (group_name(i), connection_name(i)))
        .min()
        .map(|(_, name)| name)
        .unwrap_or_default()
}

struct Bench<'a> {
    actsm: PathBuf,
    base_url: String,
    sim: &'a SimServer,
    work: PathBuf,
}

impl Bench<'_> {
    /// A connections file with `count` autostarted connections, one simulator login each.
    fn write_config(&self, name: &str, count: usize) -> anyhow::Result<PathBuf> {
        let mut text = String::from(
            "# Written by benches/e2e.rs: one connection per simulator login.\n\
             [settings]\nnotify = \"off\"\n",
        );
        for i in 1..=count {
            write!(
                text,
                "\n[[connection]]\nname = \"{}\"\nurl = \"{}\"\ndatabase = \"{DATABASE}\"\n\
                 user = \"{}\"\npassword_env = \"{PASSWORD_ENV}\"\nautostart = true\n\
                 group = \"{}\"\n",
                connection_name(i),
                self.base_url,
                user_name(i),
                group_name(i)
            )?;
        }
        let path = self.work.join(name);
        std::fs::write(&path, text)?;
        Ok(path)
    }

    /// A fresh state folder (log, journal, token cache) under the work folder.
    fn state_dir(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.work.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    fn command(&self, config: &Path, state: &Path) -> Command {
        let mut command = Command::new(&self.actsm);
        command
            .env("ACTSM_CONFIG", config)
            .env("ACTSM_STATE_DIR", state)
            .env(PASSWORD_ENV, PASSWORD)
            .env_remove("ACTSM_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn tui(&self, config: &Path, state: &Path) -> anyhow::Result<Tui> {
        let mut command = CommandBuilder::new(&self.actsm);
        command.env("ACTSM_CONFIG", config);
        command.env("ACTSM_STATE_DIR", state);
        command.env(PASSWORD_ENV, PASSWORD);
        command.env("TERM", "xterm-256color");
        command.env_remove("ACTSM_LOG");
        command.env_remove("NO_COLOR");
        command.cwd(&self.work);
        Tui::spawn(command)
    }

    /// 1,000 autostarted connections, nothing cached: the time until actsm holds a valid
    /// token for every one (in its token cache), the requests the simulator saw and
    /// actsm's peak memory.
    fn cold_start(&self, table: &mut Table) -> anyhow::Result<()> {
        println!("cold start: {MANY} connections, empty cache …");
        let config = self.write_config("many.toml", MANY)?;
        let state = self.state_dir("state-cold")?;
        let before = self.sim.stats();
        let started = Instant::now();
        let mut tui = self.tui(&config, &state)?;

        let cache = state.join("cache");
        let deadline = started + Duration::from_secs(60);
        let mut sim_done = None;
        let all_valid = loop {
            let now = self.sim.stats();
            let issued = issued_since(&before, &now);
            if sim_done.is_none() && issued >= MANY as u64 {
                sim_done = Some(started.elapsed());
            }
            if cached_tokens(&cache) >= MANY {
                break started.elapsed();
            }
            if Instant::now() > deadline {
                tui.quit();
                bail!(
                    "cold start: only {} tokens cached and {issued} issued after 60 s",
                    cached_tokens(&cache)
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        // Whatever else the engine would do at start has had a second to happen.
        std::thread::sleep(Duration::from_secs(1));
        let after = self.sim.stats();
        let peak = tui.peak_memory();
        let settled = tui.resident_memory();
        tui.quit();

        let requests = after.total - before.total;
        let authorizes = (after.authorize_basic + after.authorize_bearer)
            - (before.authorize_basic + before.authorize_bearer);
        println!(
            "  all {MANY} valid after {} (simulator issued the last at {}), {requests} requests, \
             {authorizes} authorize",
            secs(all_valid),
            sim_done.map_or_else(|| "?".to_owned(), secs)
        );
        table.row(
            "Cold start, 1,000 connections: all valid",
            secs(all_valid),
            "< 3 s",
            all_valid < Duration::from_secs(3),
        );
        table.row(
            "Cold start: authorize calls the simulator saw",
            format!(
                "{authorizes} ({:.2} per connection; {requests} requests in all)",
                authorizes as f64 / MANY as f64
            ),
            "≤ 1 per connection",
            authorizes <= MANY as u64,
        );
        match peak {
            Some(bytes) => table.row(
                "Cold start: peak memory of actsm (VmHWM)",
                megabytes(bytes),
                "< 40 MB",
                bytes < 40 * 1_000_000,
            ),
            None => table.unmeasured("Cold start: peak memory of actsm", "needs Linux /proc"),
        }
        if let Some(bytes) = settled {
            table.info(
                "Cold start: resident memory a second later (VmRSS)",
                megabytes(bytes),
            );
        }
        Ok(())
    }

    /// Launch to first frame with 1,000 connections: with an empty state folder, and with
    /// a journal of 10,000 entries on disk (a long-used install).
    fn first_frame(&self, table: &mut Table, plan: &Plan) -> anyhow::Result<()> {
        println!("first frame: {MANY} connections …");
        let config = self.write_config("many.toml", MANY)?;
        let mut fresh = Vec::new();
        for _ in 0..plan.frame_runs {
            let state = self.state_dir("state-frame")?;
            fresh.push(self.time_first_frame(&config, &state)?);
        }
        let fresh = median(&mut fresh);

        // A journal written by actsm itself (the cold start's), repeated to 10,000 lines.
        let journal = std::fs::read_to_string(self.work.join("state-cold/journal.jsonl"))
            .context("the cold start left no journal")?;
        let lines: Vec<&str> = journal.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            bail!("the cold start's journal is empty");
        }
        let mut big = String::new();
        for i in 0..10_000 {
            big.push_str(lines[i % lines.len()]);
            big.push('\n');
        }
        let mut with_journal = Vec::new();
        for _ in 0..plan.frame_runs {
            let state = self.state_dir("state-frame-journal")?;
            std::fs::write(state.join("journal.jsonl"), &big)?;
            with_journal.push(self.time_first_frame(&config, &state)?);
        }
        let with_journal = median(&mut with_journal);
        println!(
            "  median {} (empty state), {} (10,000-entry journal)",
            millis(fresh),
            millis(with_journal)
        );
        table.row(
            "First frame, 1,000 connections",
            millis(fresh),
            "< 50 ms",
            fresh < Duration::from_millis(50),
        );
        table.row(
            "First frame, 1,000 connections + 10,000-entry journal on disk",
            millis(with_journal),
            "< 50 ms",
            with_journal < Duration::from_millis(50),
        );
        Ok(())
    }

    /// Spawns the TUI and waits until the first connection's row is on the screen.
    fn time_first_frame(&self, config: &Path, state: &Path) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let mut tui = self.tui(config, state)?;
        // The list's top row (sorted by group, then name). No spaces: ratatui skips the
        // blank cells of a first frame, so a marker with a space may never be written
        // as one run of bytes.
        let marker = first_row(MANY);
        let seen = tui.wait_for(&marker, Duration::from_secs(20));
        tui.quit();
        match seen {
            Some(at) => Ok(at.duration_since(started)),
            None => bail!("the TUI never drew '{marker}' within 20 s"),
        }
    }

    /// `actsm token NAME` answered from the cache, as a whole process, against `cat` of
    /// the same token bytes; with the 1,000-connection file and with a one-connection file.
    fn cached_token(&self, table: &mut Table, plan: &Plan) -> anyhow::Result<()> {
        println!(
            "cached token: actsm token vs cat, {} runs each …",
            plan.token_runs
        );
        for (label, file, count) in [
            ("1,000-connection file", "many.toml", MANY),
            ("one-connection file", "one.toml", 1),
        ] {
            let config = self.write_config(file, count)?;
            let state = self.state_dir("state-token")?;
            let name = connection_name(1);
            let first = run_ok(self.command(&config, &state).args(["token", &name]))?;
            let token_file = self.work.join("token.txt");
            std::fs::write(&token_file, &first)?;

            let before = self.sim.stats();
            let mut cat = Command::new("cat");
            cat.arg(&token_file).stdout(Stdio::piped());
            let (actsm, floor) = interleave(
                plan.token_runs,
                || expect_output(self.command(&config, &state).args(["token", &name]), &first),
                || expect_output(&mut cat, &first),
            )?;
            if self.sim.stats().total != before.total {
                bail!("a cached `actsm token` called the simulator");
            }
            let ratio = ratio(actsm, floor);
            println!(
                "  {label}: actsm {} vs cat {} = {ratio:.2}x",
                millis(actsm),
                millis(floor)
            );
            table.row(
                &format!("Cached `actsm token` vs `cat`, {label}"),
                format!("{} vs {} = {ratio:.2}x", millis(actsm), millis(floor)),
                "≤ 2x",
                ratio <= 2.0,
            );
        }
        Ok(())
    }

    /// `actsm token NAME --fresh` against `curl` making the same authorize call.
    fn fresh_token(&self, table: &mut Table, plan: &Plan) -> anyhow::Result<()> {
        let label = "Fresh `actsm token --fresh` vs `curl`, 1,000-connection file";
        if Command::new("curl")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            println!("fresh token: curl is not installed (apt install curl); skipped");
            table.unmeasured(label, "curl not installed");
            return Ok(());
        }
        println!(
            "fresh token: actsm token --fresh vs curl, {} runs each …",
            plan.fresh_runs
        );
        let config = self.write_config("many.toml", MANY)?;
        let state = self.state_dir("state-fresh")?;
        let name = connection_name(1);
        let mut curl = Command::new("curl");
        curl.args(["-sS", "-f", "-u"])
            .arg(format!("{}:{PASSWORD}", user_name(1)))
            .args(["-H", &format!("Act-Database-Name: {DATABASE}")])
            .arg(format!("{}/authorize", self.base_url))
            .stdout(Stdio::piped());
        let before = self.sim.stats();
        let (actsm, floor) = interleave(
            plan.fresh_runs,
            || {
                run_ok(
                    self.command(&config, &state)
                        .args(["token", &name, "--fresh"]),
                )
                .map(drop)
            },
            || run_ok(&mut curl).map(drop),
        )?;
        let after = self.sim.stats();
        let calls = after.authorize_basic - before.authorize_basic;
        let runs = (plan.fresh_runs + WARM_UP) as u64;
        // Each side makes exactly one Basic authorize per run; more from actsm is a
        // figure of its own, not a reason to drop the ratio.
        table.row(
            "Fresh: authorize calls per `actsm token --fresh`",
            format!(
                "{:.2} ({} calls for {runs} runs)",
                calls.saturating_sub(runs) as f64 / runs as f64,
                calls.saturating_sub(runs)
            ),
            "1",
            calls == 2 * runs,
        );
        let ratio = ratio(actsm, floor);
        println!(
            "  actsm {} vs curl {} = {ratio:.2}x",
            millis(actsm),
            millis(floor)
        );
        table.row(
            label,
            format!("{} vs {} = {ratio:.2}x", millis(actsm), millis(floor)),
            "≤ 1.3x",
            ratio <= 1.3,
        );
        Ok(())
    }

    /// The TUI with 200 live sessions, left alone: CPU time, wakeups, frames written and
    /// calls made over the idle window.
    fn idle(&self, table: &mut Table, plan: &Plan) -> anyhow::Result<()> {
        let window = plan.idle;
        println!(
            "idle: {IDLE_SESSIONS} sessions, {} s window …",
            window.as_secs()
        );
        let config = self.write_config("idle.toml", IDLE_SESSIONS)?;
        let state = self.state_dir("state-idle")?;
        let mut tui = self.tui(&config, &state)?;
        let cache = state.join("cache");
        let deadline = Instant::now() + Duration::from_secs(30);
        while cached_tokens(&cache) < IDLE_SESSIONS {
            if Instant::now() > deadline {
                tui.quit();
                bail!("idle: the sessions did not all start within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Let the start-up burst settle: the journal written, the screen redrawn.
        std::thread::sleep(Duration::from_secs(3));

        let before_sim = self.sim.stats();
        let before = tui.cpu_time();
        let frames_before = tui.bursts();
        // Threads come and go (the runtime's spare threads end after 10 s idle): sample
        // them four times a second so an ended thread's switches still count.
        let mut switches = tui.thread_switches().map(Switches::new);
        let end = Instant::now() + window;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            std::thread::sleep(left.min(Duration::from_millis(250)));
            if let (Some(switches), Some(sample)) = (switches.as_mut(), tui.thread_switches()) {
                switches.update(sample);
            }
        }
        let after = tui.cpu_time();
        let frames = tui.bursts() - frames_before;
        let calls = self.sim.stats().total - before_sim.total;
        let rss = tui.resident_memory();
        tui.quit();

        let seconds = window.as_secs_f64();
        let frames_per_sec = frames as f64 / seconds;
        println!(
            "  {frames} frames written ({frames_per_sec:.2}/s), {calls} calls to the simulator"
        );
        match (before, after) {
            (Some(before), Some(after)) => {
                let cpu = after.saturating_sub(before);
                let share = cpu.as_secs_f64() / seconds * 100.0;
                println!(
                    "  CPU {} in {} s = {share:.3} % of one core",
                    millis(cpu),
                    window.as_secs(),
                );
                table.row(
                    &format!(
                        "Idle TUI, {IDLE_SESSIONS} sessions, {} s: CPU",
                        window.as_secs()
                    ),
                    format!("{} = {share:.3} % of one core", millis(cpu)),
                    "< 0.5 %",
                    share < 0.5,
                );
            }
            _ => table.unmeasured("Idle TUI: CPU", "needs Linux /proc"),
        }
        match switches {
            // Some kernels and sandboxes report no context switches at all.
            Some(switches) if switches.any_counted() => {
                let wakeups = switches.total();
                println!(
                    "  {wakeups} wakeups ({:.1}/s) over {} threads",
                    wakeups as f64 / seconds,
                    switches.threads()
                );
                table.info(
                    "Idle TUI: wakeups (context switches of every thread)",
                    format!("{wakeups} ({:.1}/s)", wakeups as f64 / seconds),
                );
            }
            Some(_) => table.unmeasured(
                "Idle TUI: wakeups",
                "the kernel reports no context switches",
            ),
            None => table.unmeasured("Idle TUI: wakeups", "needs Linux /proc"),
        }
        table.row(
            "Idle TUI: frames written to the terminal",
            format!("{frames} ({frames_per_sec:.2}/s)"),
            "≤ 1/s (the countdown)",
            frames_per_sec <= 1.05,
        );
        table.row(
            "Idle TUI: calls to the server",
            calls.to_string(),
            "0 (tokens last 65 min)",
            calls == 0,
        );
        if let Some(rss) = rss {
            table.info("Idle TUI: resident memory", megabytes(rss));
        }
        Ok(())
    }
}

/// One frame of the TUI rendered in-process at 200x50 into ratatui's test backend, with
/// 1,000 connections and 10,000 journal entries (the micro bench's `render` group, here
/// with its target): the median of still frames, and of frames after the once-a-second
/// tick that moves every countdown.
fn frame_render(table: &mut Table, plan: &Plan) -> anyhow::Result<()> {
    println!(
        "frame render: {COLS}x{ROWS}, 1,000 connections, 10,000 journal entries, {} frames …",
        plan.render_runs
    );
    let mut app = fixture::populated_app();
    let mut terminal = Terminal::new(TestBackend::new(COLS, ROWS))?;
    for _ in 0..20 {
        terminal.draw(|frame| app.render(frame))?;
    }
    let mut still = Vec::with_capacity(plan.render_runs);
    let mut ticked = Vec::with_capacity(plan.render_runs);
    for i in 0..plan.render_runs {
        let started = Instant::now();
        terminal.draw(|frame| app.render(frame))?;
        still.push(started.elapsed());
        // The clock cycles through one minute so no token expires during the run.
        let second = i64::try_from(i % 60)?;
        let started = Instant::now();
        app.update(actsm::tui::Message::Tick(
            fixture::now() + chrono::Duration::seconds(second),
        ));
        terminal.draw(|frame| app.render(frame))?;
        ticked.push(started.elapsed());
    }
    let (still, ticked) = (median(&mut still), median(&mut ticked));
    println!(
        "  median {} (nothing changed), {} (countdown tick)",
        millis(still),
        millis(ticked)
    );
    table.row(
        "Frame render at 200x50, 1,000 connections, 10,000 journal entries",
        format!(
            "{} ({} with the countdown tick)",
            millis(still),
            millis(ticked)
        ),
        "< 2 ms",
        still.max(ticked) < Duration::from_millis(2),
    );
    Ok(())
}

/// Tokens the simulator issued between two snapshots of its counters.
fn issued_since(before: &actsm::sim::SimStats, after: &actsm::sim::SimStats) -> u64 {
    let calls = |s: &actsm::sim::SimStats| s.authorize_basic + s.authorize_bearer;
    (calls(after) - calls(before)).saturating_sub(after.rejected - before.rejected)
}

/// Entries in the token cache folder (one JSON file per token).
fn cached_tokens(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.ends_with(".json") && !name.starts_with('.')
            })
            .count()
    })
}

/// Runs `command` to success and returns its stdout.
fn run_ok(command: &mut Command) -> anyhow::Result<Vec<u8>> {
    let output = command.output().context("starting a process")?;
    if !output.status.success() {
        bail!(
            "{} failed ({}): {}",
            command.get_program().display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    if output.stdout.is_empty() {
        bail!("{} printed nothing", command.get_program().display());
    }
    Ok(output.stdout)
}

/// Runs `command` and checks it printed exactly `expected`.
fn expect_output(command: &mut Command, expected: &[u8]) -> anyhow::Result<()> {
    let out = run_ok(command)?;
    if out != expected {
        bail!(
            "{} printed other bytes than expected",
            command.get_program().display()
        );
    }
    Ok(())
}

/// Runs `a` and `b` alternately `runs` times each (after a few unmeasured warm-up runs)
/// and returns the median wall time of each: alternating keeps a change in machine load
/// from favouring one side.
fn interleave(
    runs: usize,
    mut a: impl FnMut() -> anyhow::Result<()>,
    mut b: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<(Duration, Duration)> {
    for _ in 0..WARM_UP {
        a()?;
        b()?;
    }
    let mut times_a = Vec::with_capacity(runs);
    let mut times_b = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        a()?;
        times_a.push(started.elapsed());
        let started = Instant::now();
        b()?;
        times_b.push(started.elapsed());
    }
    Ok((median(&mut times_a), median(&mut times_b)))
}

/// Unmeasured runs of each side before the measured ones.
const WARM_UP: usize = 5;

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// The machine the figures come from.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!(
        "{cpu}, {cores} cores, {} {}, release build",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// The figures, each with its target, printed as a Markdown table at the end.
#[derive(Default)]
struct Table {
    rows: Vec<Row>,
}

struct Row {
    what: String,
    measured: String,
    target: String,
    mark: Mark,
}

/// How a row stands against its target.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Met,
    Missed,
    /// A figure with no target of its own.
    Info,
    /// A figure this machine cannot give (no curl, no /proc).
    Unmeasured,
}

impl Table {
    fn push(&mut self, what: &str, measured: impl Into<String>, target: &str, mark: Mark) {
        self.rows.push(Row {
            what: what.to_owned(),
            measured: measured.into(),
            target: target.to_owned(),
            mark,
        });
    }

    fn row(&mut self, what: &str, measured: impl Into<String>, target: &str, met: bool) {
        let mark = if met { Mark::Met } else { Mark::Missed };
        self.push(what, measured, target, mark);
    }

    /// A figure with no target of its own: printed, never counted as met or missed.
    fn info(&mut self, what: &str, measured: impl Into<String>) {
        self.push(what, measured, "—", Mark::Info);
    }

    /// Turns a part that failed into a missed row, with the reason.
    fn record(&mut self, part: &str, outcome: anyhow::Result<()>) {
        if let Err(e) = outcome {
            println!("  {part} failed: {e:#}");
            self.push(part, format!("failed: {e:#}"), "see above", Mark::Missed);
        }
    }

    fn unmeasured(&mut self, what: &str, why: &str) {
        self.push(what, format!("not measured: {why}"), "", Mark::Unmeasured);
    }

    fn markdown(&self) -> String {
        let mut out = String::from("| Figure | Measured | Target | |\n|---|---|---|---|\n");
        for row in &self.rows {
            let mark = match row.mark {
                Mark::Met => "met",
                Mark::Missed => "**missed**",
                Mark::Info | Mark::Unmeasured => "—",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {mark} |",
                row.what, row.measured, row.target
            );
        }
        out
    }

    fn missed(&self) -> Vec<String> {
        self.marked(Mark::Missed)
            .map(|r| format!("{}: {} (target {})", r.what, r.measured, r.target))
            .collect()
    }

    fn unmeasured_rows(&self) -> Vec<String> {
        self.marked(Mark::Unmeasured)
            .map(|r| format!("{} ({})", r.what, r.measured))
            .collect()
    }

    fn marked(&self, mark: Mark) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.mark == mark)
    }
}

/// The TUI in a pseudo-terminal of its own, its output drained by a thread.
struct Tui {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn std::io::Write + Send>,
    output: Arc<Mutex<Output>>,
    pid: Option<u32>,
    // Kept open until the child is gone: dropping the master hangs the terminal up.
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

/// What the TUI wrote: when, in how many bursts, and whether a marker appeared.
#[derive(Default)]
struct Output {
    /// Chunks read closer together than [`BURST_GAP`] belong to one frame.
    bursts: u64,
    last_chunk: Option<Instant>,
    marker: Option<String>,
    marker_seen: Option<Instant>,
    /// The end of the output so far, for a marker split across two reads.
    tail: Vec<u8>,
}

/// One frame reaches the terminal in a few writes well within this.
const BURST_GAP: Duration = Duration::from_millis(30);

impl Tui {
    fn spawn(command: CommandBuilder) -> anyhow::Result<Self> {
        let pair = native_pty_system().openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })?;
        let child = pair.slave.spawn_command(command)?;
        drop(pair.slave);
        let pid = child.process_id();
        let mut reader = pair.master.try_clone_reader()?;
        let writer = pair.master.take_writer()?;
        let output = Arc::new(Mutex::new(Output::default()));
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let now = Instant::now();
                let Ok(mut out) = sink.lock() else { break };
                if out
                    .last_chunk
                    .is_none_or(|t| now.duration_since(t) > BURST_GAP)
                {
                    out.bursts += 1;
                }
                out.last_chunk = Some(now);
                if out.marker_seen.is_none() {
                    out.tail.extend_from_slice(&buf[..n]);
                    if let Some(marker) = out.marker.clone()
                        && contains(&out.tail, marker.as_bytes())
                    {
                        out.marker_seen = Some(now);
                    }
                    let keep = out.tail.len().saturating_sub(64);
                    out.tail.drain(..keep);
                }
            }
        });
        Ok(Self {
            child,
            writer,
            output,
            pid,
            _master: pair.master,
        })
    }

    /// When `marker` first appeared in the output, waiting up to `limit` for it.
    fn wait_for(&mut self, marker: &str, limit: Duration) -> Option<Instant> {
        if let Ok(mut out) = self.output.lock() {
            out.marker = Some(marker.to_owned());
        }
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(seen) = self.output.lock().ok().and_then(|o| o.marker_seen) {
                return Some(seen);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    }

    fn bursts(&self) -> u64 {
        self.output.lock().map_or(0, |o| o.bursts)
    }

    /// Quits with `q`, and kills the process when it does not go within 5 s.
    fn quit(&mut self) {
        let _ = self.writer.write_all(b"q");
        let _ = self.writer.flush();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!("the TUI did not quit on `q` within 5 s; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn peak_memory(&self) -> Option<u64> {
        proc_status_kb(self.pid?, "VmHWM:").map(|kb| kb * 1024)
    }

    fn resident_memory(&self) -> Option<u64> {
        proc_status_kb(self.pid?, "VmRSS:").map(|kb| kb * 1024)
    }

    fn cpu_time(&self) -> Option<Duration> {
        cpu_time(self.pid?)
    }

    fn thread_switches(&self) -> Option<BTreeMap<u32, u64>> {
        thread_switches(self.pid?)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// CPU time from `/proc/PID/stat`: user plus system, every thread, the ones that have
/// ended included. Linux only.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: count fields after it.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(
        ticks as f64 / clock_ticks_per_second(),
    ))
}

/// The voluntary plus involuntary context switches of each thread alive now, by thread
/// id, from `/proc/PID/task/*/status`. Linux only.
fn thread_switches(pid: u32) -> Option<BTreeMap<u32, u64>> {
    let mut threads = BTreeMap::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .filter_map(Result::ok)
    {
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue; // ended between the listing and the read
        };
        let switches = status
            .lines()
            .filter(|line| {
                line.starts_with("voluntary_ctxt_switches:")
                    || line.starts_with("nonvoluntary_ctxt_switches:")
            })
            .filter_map(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
        threads.insert(tid, switches);
    }
    Some(threads)
}

/// Context switches over a window, thread by thread: a thread that ends keeps what it
/// had at the last sample, and one that starts counts from zero.
struct Switches {
    start: BTreeMap<u32, u64>,
    last: BTreeMap<u32, u64>,
}

impl Switches {
    fn new(start: BTreeMap<u32, u64>) -> Self {
        Self {
            last: start.clone(),
            start,
        }
    }

    fn update(&mut self, sample: BTreeMap<u32, u64>) {
        self.last.extend(sample);
    }

    fn total(&self) -> u64 {
        self.last
            .iter()
            .map(|(tid, n)| n.saturating_sub(self.start.get(tid).copied().unwrap_or(0)))
            .sum()
    }

    fn threads(&self) -> usize {
        self.last.len()
    }

    fn any_counted(&self) -> bool {
        self.last.values().any(|n| *n > 0)
    }
}

/// `getconf CLK_TCK`, the unit of `/proc/PID/stat`'s times; 100 where it cannot be asked.
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// A `kB` field of `/proc/PID/status`, e.g. `VmHWM:`. Linux only.
fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
