//! The journal pane: focus, scrolling, both filters, the detail popup and the export.

#![allow(clippy::unwrap_used)]

mod tui_common;

use actsm::act::{CallKind, HttpDetail, Verdict, VerdictKind};
use actsm::journal::{JournalEntry, record};
use actsm::tui::{App, Message};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_common::*;

fn press(app: &mut App, code: KeyCode) {
    let _ = app.update(Message::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn detailed(connection: &str, status: u16, verdict: Verdict, secs_ago: i64) -> JournalEntry {
    let mut entry = journal_entry(
        connection,
        CallKind::Authorize,
        Some(status),
        verdict,
        secs_ago,
    );
    entry.url = format!("https://{connection}.example.invalid/act.web.api/authorize");
    entry.detail = HttpDetail {
        method: "GET".into(),
        request_headers: vec![
            ("act-database-name".into(), "Acme DB".into()),
            ("authorization".into(), "Basic ***".into()),
        ],
        response_headers: vec![
            ("content-type".into(), "text/plain".into()),
            ("set-cookie".into(), "session=***; path=***".into()),
        ],
        body_excerpt: Some("Invalid user name or password".into()),
    };
    entry
}

/// The populated fixture plus `n` more entries, alternating acme ok / globex 401.
fn app_with(n: i64) -> App {
    let mut app = populated_app();
    for i in 0..n {
        let entry = if i % 2 == 0 {
            detailed("acme", 200, Verdict::ok(), 4 - i.min(4))
        } else {
            detailed(
                "globex",
                401,
                Verdict::new(VerdictKind::Unauthorized, Some("401 Unauthorized".into())),
                4 - i.min(4),
            )
        };
        app.update(Message::Engine(actsm::session::Event::Journal(entry)));
    }
    app
}

#[test]
fn shift_tab_gives_the_journal_focus_and_arrows_then_scroll_it_not_the_list() {
    let mut app = app_with(20);
    let list_selection = app.selected();
    press(&mut app, KeyCode::BackTab);
    assert!(app.journal_focused());
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.journal_view().selected, 2);
    assert_eq!(app.selected(), list_selection, "the list did not move");
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.journal_view().selected, 12);
    press(&mut app, KeyCode::End);
    assert_eq!(
        app.journal_view().selected,
        22,
        "23 entries, the last is the oldest"
    );
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.journal_view().selected, 22, "never past the end");
    press(&mut app, KeyCode::Up);
    assert_eq!(app.journal_view().selected, 21);
    press(&mut app, KeyCode::Home);
    assert_eq!(app.journal_view().selected, 0);
    press(&mut app, KeyCode::Esc);
    assert!(!app.journal_focused(), "Esc hands focus back to the list");
    assert!(!app.should_quit());
}

#[test]
fn a_scrolled_selection_stays_on_its_entry_when_new_ones_arrive() {
    let mut app = app_with(4);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    let before = app.selected_journal_entry().unwrap().clone();
    app.update(Message::Engine(actsm::session::Event::Journal(detailed(
        "acme",
        200,
        Verdict::ok(),
        0,
    ))));
    let after = app.selected_journal_entry().unwrap();
    assert_eq!(after.at, before.at);
    assert_eq!(after.connection, before.connection);
    assert_eq!(app.journal_view().selected, 3);
}

#[test]
fn f_keeps_the_selected_connection_and_capital_f_keeps_failures() {
    let mut app = app_with(6);
    let selected = app.selected_name().unwrap().to_owned();
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Char('f'));
    let visible = app.visible_journal();
    assert!(!visible.is_empty());
    assert!(visible.iter().all(|e| e.connection == selected));
    let expected = app.journal().filter(|e| e.connection == selected).count();
    assert_eq!(visible.len(), expected);
    let title = screen_text(&render(&app, 200, 50));
    assert!(title.contains(&format!("only {selected}")), "{title}");

    press(&mut app, KeyCode::Char('f'));
    press(&mut app, KeyCode::Char('F'));
    let visible = app.visible_journal();
    let failures = app
        .journal()
        .filter(|e| e.verdict.kind != VerdictKind::Ok)
        .count();
    assert_eq!(visible.len(), failures);
    assert!(visible.iter().all(|e| e.verdict.kind != VerdictKind::Ok));
    assert!(screen_text(&render(&app, 200, 50)).contains("failures only"));

    press(&mut app, KeyCode::Char('F'));
    assert_eq!(app.visible_journal().len(), app.journal().count());
}

#[test]
fn enter_opens_the_detail_and_esc_closes_it() {
    let mut app = app_with(2);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Home);
    press(&mut app, KeyCode::Enter);
    let detail = app.journal_detail().expect("the detail is open");
    assert_eq!(detail.entry.connection, "globex");
    let screen = screen_text(&render(&app, 120, 40));
    assert!(screen.contains("GET https://globex.example.invalid/act.web.api/authorize"));
    assert!(screen.contains("authorization: Basic ***"));
    assert!(screen.contains("Invalid user name or password"));
    press(&mut app, KeyCode::Down);
    assert_eq!(app.journal_detail().unwrap().scroll, 1);
    press(&mut app, KeyCode::Esc);
    assert!(app.journal_detail().is_none());
    assert!(
        app.journal_focused(),
        "closing the detail keeps the journal focused"
    );
}

#[test]
fn detail_view_80x24() {
    let mut app = app_with(2);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn detail_view_200x50() {
    let mut app = app_with(2);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!(render(&app, 200, 50).backend());
}

#[test]
fn journal_focused_with_failures_only_200x50() {
    let mut app = app_with(6);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Char('F'));
    press(&mut app, KeyCode::Down);
    insta::assert_snapshot!(render(&app, 200, 50).backend());
}

#[test]
fn x_exports_exactly_the_visible_entries_oldest_first_owner_only() {
    let mut app = app_with(6);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Char('F'));
    let mut expected: Vec<String> = app
        .visible_journal()
        .into_iter()
        .map(record::to_line)
        .collect();
    expected.reverse();
    press(&mut app, KeyCode::Char('x'));
    let entries = app.take_export().expect("an export was asked for");
    assert!(app.take_export().is_none());

    let dir = tempfile::tempdir().unwrap();
    let message = actsm::tui::export_journal(
        Some(dir.path()),
        &entries,
        now(),
        chrono::FixedOffset::east_opt(0).unwrap(),
    );
    let Message::JournalExported(Ok((path, count))) = &message else {
        panic!("export failed: {message:?}");
    };
    assert_eq!(*count, expected.len());
    assert!(
        path.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("journal-export-")
    );
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(text.lines().collect::<Vec<_>>(), expected);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let shown = path.display().to_string();
    app.update(message);
    let status = app
        .status_message()
        .expect("the status line says where")
        .text
        .clone();
    assert!(status.contains(&shown), "{status}");
}

#[test]
fn the_journal_keeps_at_most_journal_entries() {
    let mut config = config();
    config.settings.journal_entries = 5;
    let mut app = App::new(&config, &options());
    for i in 0..12 {
        app.update(Message::Engine(actsm::session::Event::Journal(detailed(
            "acme",
            200,
            Verdict::ok(),
            100 - i,
        ))));
    }
    assert_eq!(app.journal().count(), 5);
    assert_eq!(app.journal_capacity(), 5);
    // Newest first: the last one sent is on top.
    assert_eq!(
        app.journal().next().unwrap().at,
        now() - chrono::Duration::seconds(89)
    );
}

#[test]
fn reloaded_entries_show_and_a_skipped_line_is_reported() {
    let mut app = App::new(&config(), &options());
    app.update(Message::Tick(now()));
    app.load_journal(actsm::journal::Loaded {
        entries: vec![detailed("acme", 200, Verdict::ok(), 30)],
        skipped: 1,
    });
    assert_eq!(app.journal().count(), 1);
    let status = app.status_message().unwrap();
    assert!(status.text.contains("1 unreadable line(s) skipped"));
}
