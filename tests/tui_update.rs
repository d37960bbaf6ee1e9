//! `App::update` without a terminal: keys give the right engine commands and state.

mod tui_common;

use actsm::config::Config;
use actsm::session::{Command, Event, SessionSnapshot};
use actsm::tui::clipboard::CopyMethod;
use actsm::tui::{App, Message};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_common::*;

fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.update(Message::Key(KeyEvent::from(code)))
}

fn ch(app: &mut App, c: char) -> Vec<Command> {
    press(app, KeyCode::Char(c))
}

#[test]
fn keys_send_commands_for_the_selected_connection() {
    let mut app = populated_app();
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        vec![Command::Start("acme".into())]
    );
    assert_eq!(ch(&mut app, 'r'), vec![Command::RefreshNow("acme".into())]);
    assert_eq!(ch(&mut app, 'j'), vec![]);
    assert_eq!(ch(&mut app, 'x'), vec![Command::Stop("globex".into())]);
    assert_eq!(ch(&mut app, 'A'), vec![Command::StartAll]);
    assert!(!app.should_quit());
}

#[test]
fn refresh_without_a_token_sends_nothing_and_says_why() {
    let mut app = populated_app();
    ch(&mut app, 'j');
    assert_eq!(app.selected_name(), Some("globex"));
    assert_eq!(
        ch(&mut app, 'r'),
        vec![],
        "no password for a session that holds no token"
    );
    let status = app.status_message().expect("a message");
    assert!(status.is_error);
    assert_eq!(
        status.text,
        "'globex' holds no token to refresh; Enter starts it"
    );
}

#[test]
fn movement_clamps_at_both_ends() {
    let mut app = populated_app();
    assert_eq!(app.selected(), 0);
    ch(&mut app, 'k');
    assert_eq!(app.selected(), 0);
    press(&mut app, KeyCode::Down);
    ch(&mut app, 'j');
    assert_eq!(app.selected_name(), Some("initech"));
    ch(&mut app, 'j');
    assert_eq!(app.selected(), 2);
    press(&mut app, KeyCode::Up);
    assert_eq!(app.selected_name(), Some("globex"));
    ch(&mut app, 'G');
    assert_eq!(app.selected(), 2);
    ch(&mut app, 'g');
    assert_eq!(app.selected(), 0);
}

#[test]
fn help_toggles_and_is_modal() {
    let mut app = populated_app();
    ch(&mut app, '?');
    assert!(app.help_open());
    // Keys other than close/quit do nothing under the overlay.
    assert_eq!(press(&mut app, KeyCode::Enter), vec![]);
    assert_eq!(ch(&mut app, 'j'), vec![]);
    assert_eq!(app.selected(), 0);
    // Esc closes the overlay rather than quitting.
    press(&mut app, KeyCode::Esc);
    assert!(!app.help_open());
    assert!(!app.should_quit());
    ch(&mut app, '?');
    ch(&mut app, '?');
    assert!(!app.help_open());
}

#[test]
fn q_and_ctrl_c_quit_but_esc_never_does() {
    let mut app = populated_app();
    ch(&mut app, 'q');
    assert!(app.should_quit());

    // Esc twice "to be sure" must not stop every session.
    let mut app = populated_app();
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);
    assert!(!app.should_quit());
    assert_eq!(
        app.focus(),
        actsm::tui::Pane::List,
        "Esc backs out to the list"
    );

    let mut app = populated_app();
    app.update(Message::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(app.should_quit());
    assert!(app.take_clipboard().is_none(), "Ctrl-C must not copy");
}

#[test]
fn copy_hands_the_token_to_the_loop_and_says_so() {
    let mut app = populated_app();
    assert_eq!(ch(&mut app, 'c'), vec![]);
    let token = app.take_clipboard().expect("acme holds a token");
    assert_eq!(token.expose(), TOKEN_TEXT);
    assert!(app.take_clipboard().is_none(), "taken once");
    app.update(Message::ClipboardCopied(CopyMethod::TmuxBuffer));
    let status = app.status_message().unwrap();
    assert_eq!(
        status.text,
        "token for 'acme' copied (tmux buffer and OSC 52 via tmux; paste with prefix ])"
    );
    assert!(!status.is_error);

    // The message is transient.
    app.update(Message::Tick(now() + chrono::Duration::seconds(6)));
    assert!(app.status_message().is_none());
}

#[test]
fn copy_without_a_token_says_there_is_none() {
    let mut app = populated_app();
    ch(&mut app, 'j');
    ch(&mut app, 'c');
    assert!(app.take_clipboard().is_none());
    let status = app.status_message().unwrap();
    assert!(
        status.text.contains("no token for 'globex'"),
        "{}",
        status.text
    );
    assert!(status.is_error);
}

#[test]
fn clipboard_failure_is_shown() {
    let mut app = populated_app();
    app.update(Message::ClipboardFailed("broken pipe".into()));
    assert!(app.status_message().unwrap().text.contains("broken pipe"));
}

#[test]
fn empty_config_sends_nothing() {
    let mut app = App::new(&Config::empty(), &options());
    for code in [
        KeyCode::Enter,
        KeyCode::Char('r'),
        KeyCode::Char('x'),
        KeyCode::Char('a'),
    ] {
        assert_eq!(press(&mut app, code), vec![], "{code:?}");
    }
    ch(&mut app, 'j');
    assert_eq!(app.selected(), 0);
    assert_eq!(app.selected_name(), None);
}

#[test]
fn engine_events_update_state_and_journal() {
    let mut app = App::new(&config(), &options());
    assert!(app.session("acme").is_none());
    app.update(Message::Engine(Event::SessionChanged(globex_failed())));
    assert_eq!(app.session("globex").unwrap().failures, 1);
    // A snapshot for a name not in the config is ignored, not added.
    app.update(Message::Engine(Event::SessionChanged(
        SessionSnapshot::idle("ghost"),
    )));
    assert!(app.session("ghost").is_none());

    for i in 0..3 {
        let entry = journal_entry(
            "acme",
            actsm::act::CallKind::Refresh,
            Some(200),
            actsm::act::Verdict::ok(),
            60 - i,
        );
        app.update(Message::Engine(Event::Journal(entry)));
    }
    let times: Vec<_> = app.journal().map(|e| e.at).collect();
    assert_eq!(times.len(), 3);
    assert!(times[0] > times[2], "newest first");
}

#[test]
fn journal_is_capped() {
    let mut app = App::new(&config(), &options());
    for i in 0..(actsm::tui::app::JOURNAL_CAPACITY + 10) {
        let entry = journal_entry(
            "acme",
            actsm::act::CallKind::Refresh,
            Some(200),
            actsm::act::Verdict::ok(),
            i64::try_from(i).unwrap(),
        );
        app.update(Message::Engine(Event::Journal(entry)));
    }
    assert_eq!(app.journal().count(), actsm::tui::app::JOURNAL_CAPACITY);
}
