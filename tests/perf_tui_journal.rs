//! Issue 7, the journal of earlier runs read after the first frame: the loop draws before
//! the journal file is read, and the entries read back go behind (older than) the ones
//! this run has added meanwhile; `App::load_journal` keeps that order and the capacity.
//!
//! The loop test makes "the read has not finished" certain rather than likely: the
//! current journal file is a FIFO, and opening a FIFO for reading blocks until a writer
//! opens it. The test opens it only after it has seen the first frame and this run's
//! entry on screen.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use actsm::act::{CallKind, Verdict};
use actsm::journal::{JournalEntry, JournalFile, Loaded};
use actsm::session::Event;
use actsm::sim::SimUser;
use actsm::tui::{App, DrawnFrame, Message, TuiOptions, run_loop};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent};
use futures::channel::mpsc::unbounded;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::timeout;

mod engine_common;
mod tui_common;

/// Liveness bound only: the loop needs microseconds, the simulator milliseconds.
const BOUND: Duration = Duration::from_secs(10);

fn old_entry(connection: &str, secs_ago: i64) -> JournalEntry {
    tui_common::journal_entry(
        connection,
        CallKind::Authorize,
        Some(200),
        Verdict::ok(),
        secs_ago,
    )
}

// ---------------------------------------------------------------- App::load_journal

fn app_with_capacity(capacity: usize) -> App {
    let mut config = tui_common::config();
    config.settings.journal_entries = capacity;
    App::new(&config, &tui_common::options())
}

fn names(app: &App) -> Vec<String> {
    app.journal().map(|e| e.connection.clone()).collect()
}

#[test]
fn loaded_entries_go_behind_this_runs_entries() {
    let mut app = app_with_capacity(100);
    for name in ["run-1", "run-2"] {
        let _ = app.update(Message::Engine(Event::Journal(old_entry(name, 0))));
    }
    assert_eq!(names(&app), ["run-2", "run-1"], "newest first");

    let loaded = Loaded {
        entries: vec![old_entry("old-1", 60), old_entry("old-2", 120)],
        skipped: 0,
    };
    let _ = app.update(Message::JournalLoaded(loaded));
    assert_eq!(names(&app), ["run-2", "run-1", "old-1", "old-2"]);

    // An entry after the load is the newest of all.
    let _ = app.update(Message::Engine(Event::Journal(old_entry("run-3", 0))));
    assert_eq!(names(&app)[0], "run-3");
    assert_eq!(names(&app).len(), 5);
}

#[test]
fn the_capacity_cuts_the_oldest_loaded_entries_first() {
    let mut app = app_with_capacity(4);
    for name in ["run-1", "run-2"] {
        let _ = app.update(Message::Engine(Event::Journal(old_entry(name, 0))));
    }
    let entries = (1..=5)
        .map(|i| old_entry(&format!("old-{i}"), i * 60))
        .collect();
    app.load_journal(Loaded {
        entries,
        skipped: 0,
    });
    assert_eq!(app.journal_capacity(), 4);
    assert_eq!(names(&app), ["run-2", "run-1", "old-1", "old-2"]);

    // With more of this run's entries than room, no loaded entry is kept at all.
    let mut app = app_with_capacity(2);
    for name in ["run-1", "run-2", "run-3"] {
        let _ = app.update(Message::Engine(Event::Journal(old_entry(name, 0))));
    }
    app.load_journal(Loaded {
        entries: vec![old_entry("old-1", 60)],
        skipped: 0,
    });
    assert_eq!(names(&app), ["run-3", "run-2"]);
}

#[test]
fn skipped_lines_are_reported_after_a_late_load() {
    let mut app = app_with_capacity(10);
    let _ = app.update(Message::Tick(tui_common::now()));
    let _ = app.update(Message::Engine(Event::Journal(old_entry("run-1", 0))));
    let _ = app.update(Message::JournalLoaded(Loaded {
        entries: vec![old_entry("old-1", 60)],
        skipped: 2,
    }));
    assert_eq!(names(&app), ["run-1", "old-1"]);
    let status = app.status_message().expect("a status message");
    assert!(
        status.text.contains("2 unreadable line(s) skipped"),
        "{}",
        status.text
    );
}

// ---------------------------------------------------------------- run_loop

/// Waits (at most [`BOUND`]) for a frame whose screen satisfies `pred`.
async fn frame_where(
    frames: &mut UnboundedReceiver<DrawnFrame>,
    what: &str,
    pred: impl Fn(&str) -> bool,
) -> DrawnFrame {
    tui_common::frame_where(frames, BOUND, what, pred).await
}

/// The journal pane's rows (below its `Time  Connection` header), top to bottom.
fn journal_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip_while(|l| !(l.contains("Time") && l.contains("Connection") && l.contains("Call")))
        .skip(1)
        .take_while(|l| !l.contains('└'))
        .map(str::to_owned)
        .collect()
}

fn row_of(rows: &[String], connection: &str) -> Option<usize> {
    rows.iter()
        .position(|r| r.contains(&format!(" {connection} ")))
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn the_first_frame_does_not_wait_for_the_journal_and_new_entries_stay_on_top() {
    use engine_common::{DB, PASSWORD, USER, connection, settings, sim_with};

    let dir = tempfile::tempdir().unwrap();
    // The earlier run's entries, in the rotated file the loader reads after the current.
    let earlier: Vec<JournalEntry> = (0..3)
        .map(|i| old_entry(&format!("earlier-{i}"), 3600 - i * 60))
        .collect();
    let staging = tempfile::tempdir().unwrap();
    let staged = JournalFile::new(staging.path());
    staged.append(&earlier).unwrap();
    let journal = JournalFile::new(dir.path());
    std::fs::rename(staged.path(), journal.rotated_path(1)).unwrap();
    // The current file is a FIFO: the loader blocks opening it until the test opens it.
    let fifo = journal.path();
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());

    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let config = engine_common::config(
        vec![connection("sim", &sim.base_url(), DB, PASSWORD)],
        settings(),
    );
    let (input_tx, input_rx) = unbounded();
    let (frames_tx, mut frames) = tokio::sync::mpsc::unbounded_channel();
    let journal_dir = dir.path().to_owned();
    let looping = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test terminal");
        let options = TuiOptions {
            title: "journal test".into(),
            journal_dir: Some(journal_dir),
            ..TuiOptions::default()
        };
        run_loop(&mut terminal, input_rx, config, options, Some(frames_tx)).await
    });

    // The first frame, while the journal read is blocked on the FIFO.
    let first = frame_where(&mut frames, "the first frame", |_| true).await;
    assert_eq!(first.number, 1);
    assert!(
        !tui_common::buffer_text(&first.buffer).contains("earlier-"),
        "{}",
        tui_common::buffer_text(&first.buffer)
    );

    // This run's authorize shows in the journal, still before the load.
    let ours = frame_where(&mut frames, "this run's entry", |t| {
        row_of(&journal_rows(t), "sim").is_some()
    })
    .await;
    assert!(
        tui_common::buffer_text(&ours.buffer).contains("Journal (1)"),
        "{}",
        tui_common::buffer_text(&ours.buffer)
    );
    assert!(!tui_common::buffer_text(&ours.buffer).contains("earlier-"));

    // Let the loader read: open the FIFO's write end (its open returns once the loader's
    // read end is open), take the FIFO's name away so the writer's appends go to a new
    // plain file, and close it: the loader sees an empty current file and goes on to the
    // rotated one.
    let path = fifo.clone();
    tokio::task::spawn_blocking(move || {
        let writer = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open the FIFO");
        std::fs::remove_file(&path).expect("remove the FIFO");
        drop(writer);
    })
    .await
    .unwrap();

    let merged = frame_where(&mut frames, "the earlier entries", |t| {
        t.contains("Journal (4)")
    })
    .await;
    let rows = journal_rows(&tui_common::buffer_text(&merged.buffer));
    let sim_row = row_of(&rows, "sim").expect("this run's entry");
    for i in 0..3 {
        let old = row_of(&rows, &format!("earlier-{i}")).expect("an earlier entry");
        assert!(
            sim_row < old,
            "this run's entry is above the loaded ones: {rows:#?}"
        );
    }
    // And the loaded ones keep their own order, newest first.
    let order: Vec<usize> = (0..3)
        .map(|i| row_of(&rows, &format!("earlier-{i}")).unwrap())
        .collect();
    assert!(order[2] < order[1] && order[1] < order[0], "{rows:#?}");

    input_tx
        .unbounded_send(Ok(TermEvent::Key(KeyEvent::from(KeyCode::Char('q')))))
        .expect("loop is reading input");
    timeout(BOUND, looping)
        .await
        .expect("the loop ends")
        .expect("no panic")
        .expect("no error");

    // The writer appended this run's entry after the load, to a plain file: it was not
    // read back as an earlier one, and nothing earlier was written again.
    let current = std::fs::read_to_string(journal.path()).expect("the new current file");
    assert!(current.contains("\"sim\""), "{current}");
    assert!(!current.contains("earlier-"), "{current}");
}
