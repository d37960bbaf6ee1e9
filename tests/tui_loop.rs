//! The UI stays responsive while a server hangs: the app's own event loop, on
//! a `TestBackend` with a channel for input, handles each key and draws it
//! while one connection's call is stuck on a listener (127.0.0.1) that
//! accepts and never answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actsm::sim::SimUser;
use actsm::tui::{DrawnFrame, TuiOptions, run_loop};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::timeout;

mod engine_common;
mod tui_common;

use engine_common::*;
use tui_common::buffer_text;

/// How long a key may take to show on screen. Generous: the loop needs
/// microseconds; this only catches a loop that waits on the network.
const BOUND: Duration = Duration::from_secs(2);

/// Accepts connections on 127.0.0.1 and holds them open without a byte of
/// answer. Returns the base URL and the count of accepted connections.
async fn hung_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind(loopback()).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (format!("http://{addr}/act.web.api"), accepted)
}

/// Waits (at most [`BOUND`]) for a frame whose screen satisfies `pred`.
async fn frame_where(
    frames: &mut UnboundedReceiver<DrawnFrame>,
    what: &str,
    pred: impl Fn(&str) -> bool,
) -> DrawnFrame {
    tui_common::frame_where(frames, BOUND, what, pred).await
}

/// The connection list's row of `name` (rows carry a state badge `●`).
fn row(screen: &str, name: &str) -> String {
    screen
        .lines()
        .find(|l| l.contains(&format!(" {name} ")) && l.contains('●'))
        .unwrap_or("")
        .to_owned()
}

fn key(tx: &UnboundedSender<std::io::Result<TermEvent>>, c: char) {
    tx.unbounded_send(Ok(TermEvent::Key(KeyEvent::from(KeyCode::Char(c)))))
        .expect("loop is reading input");
}

#[tokio::test]
async fn keys_are_handled_and_drawn_while_a_server_hangs() {
    let (hung_url, accepted) = hung_server().await;
    let sim = sim_with(vec![SimUser::new(DB, USER, PASSWORD)]).await;
    let mut settings = settings();
    // Far longer than the test: the hung call stays in flight throughout.
    settings.timeout = Duration::from_secs(60);
    let config = config(
        vec![
            connection("hung", &hung_url, DB, PASSWORD),
            connection("sim", &sim.base_url(), DB, PASSWORD),
        ],
        settings,
    );

    let (input_tx, input_rx) = unbounded();
    let (frames_tx, mut frames) = tokio::sync::mpsc::unbounded_channel();
    let looping = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(120, 36)).expect("test terminal");
        let options = TuiOptions {
            title: "loop test".into(),
            ..TuiOptions::default()
        };
        run_loop(&mut terminal, input_rx, config, options, Some(frames_tx)).await
    });

    // The first frame comes before any network call.
    let first = frame_where(&mut frames, "the first frame", |_| true).await;
    assert_eq!(first.number, 1);

    // The healthy connection gets its token while the other one hangs.
    frame_where(&mut frames, "sim valid and hung authorizing", |t| {
        row(t, "sim").contains("valid") && row(t, "hung").contains("authoriz")
    })
    .await;
    assert!(
        accepted.load(Ordering::SeqCst) >= 1,
        "the hung call is in flight"
    );

    // `j` moves the selection to the second row (`sim`).
    key(&input_tx, 'j');
    let moved = frame_where(&mut frames, "the selection on sim", |t| t.contains("▶ sim")).await;

    // `?` opens the help overlay.
    key(&input_tx, '?');
    let help = frame_where(&mut frames, "the help overlay", |t| {
        t.contains("Esc closes ─")
    })
    .await;
    assert!(help.number > moved.number);
    // Still hung: the call has not come back (no verdict, still authorizing).
    let screen = buffer_text(&help.buffer);
    assert!(row(&screen, "hung").contains("authoriz"), "{screen}");

    // `q` ends the loop promptly, the hung call notwithstanding.
    key(&input_tx, 'q');
    let ended = timeout(BOUND, looping)
        .await
        .expect("the loop ends within the bound")
        .expect("the loop task does not panic");
    ended.expect("the loop ends without error");
}

#[tokio::test]
async fn input_that_changes_nothing_draws_nothing() {
    let config = config(Vec::new(), settings());
    let (input_tx, input_rx) = unbounded();
    let (frames_tx, mut frames) = tokio::sync::mpsc::unbounded_channel();
    let looping = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
        run_loop(
            &mut terminal,
            input_rx,
            config,
            TuiOptions::default(),
            Some(frames_tx),
        )
        .await
    });
    frame_where(&mut frames, "the first frame", |_| true).await;

    // 200 events that change nothing (focus changes map to no message), over
    // about two seconds: only the one-second tick may draw meanwhile.
    for _ in 0..20 {
        for _ in 0..10 {
            input_tx
                .unbounded_send(Ok(TermEvent::FocusGained))
                .expect("loop is reading input");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut quiet = 0;
    while let Ok(Some(_)) = timeout(Duration::from_millis(50), frames.recv()).await {
        quiet += 1;
    }
    // Ticks at 0 s, 1 s, 2 s (and one more for a slow machine): never one per event.
    assert!(
        quiet <= 4,
        "{quiet} frames for 200 events that change nothing"
    );

    // Dropping the input ends the loop.
    drop(input_tx);
    timeout(BOUND, looping)
        .await
        .expect("the loop ends when input ends")
        .expect("no panic")
        .expect("no error");
}
