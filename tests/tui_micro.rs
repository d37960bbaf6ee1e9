//! The speed-ups behind the micro benchmarks keep what is shown: the list sorts
//! by precomputed lower-case keys, and the list and journal build only the rows
//! a frame shows.

#![allow(clippy::unwrap_used)]

mod tui_common;

use actsm::act::{CallKind, Verdict};
use actsm::config::{Config, Connection, SecretSource};
use actsm::journal::Loaded;
use actsm::tui::app::SortKey;
use actsm::tui::{App, Message, Pane};
use crossterm::event::{KeyCode, KeyEvent};
use tui_common::*;

fn connection(name: &str, group: Option<&str>) -> Connection {
    Connection {
        name: name.into(),
        url: format!(
            "https://{}.example.invalid/act.web.api",
            name.to_lowercase()
        ),
        database: "DB".into(),
        user: "jdoe".into(),
        secret: SecretSource::Env("PW".into()),
        autostart: false,
        group: group.map(Into::into),
        color: None,
        note: None,
        transport: actsm::config::Transport::default(),
    }
}

fn app_with(connections: Vec<Connection>) -> App {
    let config = Config {
        connections,
        ..Config::default()
    };
    let mut app = App::new(&config, &options());
    app.update(Message::Tick(now()));
    app
}

#[test]
fn sorting_ignores_case_in_names_and_groups() {
    let mut app = app_with(vec![
        connection("beta", Some("zulu")),
        connection("Alpha", None),
        connection("alpha2", Some("Zulu")),
        connection("Gamma", Some("alpha team")),
        connection("delta", Some("ALPHA TEAM")),
    ]);

    assert_eq!(app.sort(), SortKey::Group);
    // By group (case folded; "zulu" and "Zulu" are one group), then name; no group last.
    assert_eq!(
        app.visible_names(),
        vec!["delta", "Gamma", "alpha2", "beta", "Alpha"]
    );

    // At start the top row is selected, not the file's first connection ("beta").
    assert_eq!(app.selected_name(), Some("delta"));

    app.update(Message::Key(KeyEvent::from(KeyCode::Char('s'))));
    assert_eq!(app.sort(), SortKey::Name);
    assert_eq!(
        app.visible_names(),
        vec!["Alpha", "alpha2", "beta", "delta", "Gamma"]
    );
}

/// An app with `count` connections `c0000`... and a journal of `entries` entries,
/// entry `i` (newest first) of connection `c{i:04}` so every row is told apart.
fn big_app(count: usize, entries: usize) -> App {
    let mut app = app_with(
        (0..count)
            .map(|i| connection(&format!("c{i:04}"), None))
            .collect(),
    );
    app.load_journal(Loaded {
        entries: (0..entries)
            .map(|i| {
                journal_entry(
                    &format!("c{:04}", i % count),
                    CallKind::Authorize,
                    Some(200),
                    Verdict::ok(),
                    i64::try_from(i).unwrap(),
                )
            })
            .collect(),
        skipped: 0,
    });
    app
}

/// The rows of the screen that name connection `name`.
fn lines_with(text: &str, name: &str) -> usize {
    text.lines().filter(|l| l.contains(name)).count()
}

#[test]
fn a_long_journal_scrolled_far_down_shows_the_selected_entry() {
    let mut app = big_app(10_000, 10_000);
    app.set_focus(Pane::Journal);
    app.scroll_journal(7_000);
    assert_eq!(app.journal_view().selected, 7_000);

    let mut terminal = render(&app, 200, 50);
    let text = screen_text(&terminal);
    // Entry 7,000 is connection c7000's; the list above shows c0000.. only.
    assert!(text.contains("▶"), "{text}");
    let selected_line = text
        .lines()
        .find(|l| l.contains('▶') && l.contains("c7000"));
    assert!(selected_line.is_some(), "{text}");
    // The rows above it are the newer entries, in order, as the whole table drew them.
    assert_eq!(lines_with(&text, "c6999"), 1, "{text}");
    assert_eq!(lines_with(&text, "c7001"), 0, "{text}");

    // Scrolling back one row up keeps the view still (the table only scrolls
    // when the selection would leave it).
    app.scroll_journal(-1);
    terminal.draw(|frame| app.render(frame)).unwrap();
    let again = screen_text(&terminal);
    assert!(
        again
            .lines()
            .any(|l| l.contains('▶') && l.contains("c6999")),
        "{again}"
    );
    assert_eq!(lines_with(&again, "c7000"), 1, "{again}");
}

#[test]
fn a_long_list_scrolls_to_the_selected_connection() {
    let mut app = big_app(1_000, 10);
    app.update(Message::Key(KeyEvent::from(KeyCode::End)));
    assert_eq!(app.selected_name(), Some("c0999"));

    let text = screen_text(&render(&app, 200, 50));
    assert!(text.contains("Connections (1000)"), "{text}");
    assert!(
        text.lines().any(|l| l.contains('▶') && l.contains("c0999")),
        "{text}"
    );
    // The first connections have scrolled out of view.
    assert_eq!(
        lines_with(&text, "c0000"),
        1,
        "only its journal row: {text}"
    );
}
