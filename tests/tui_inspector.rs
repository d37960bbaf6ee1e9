//! The token inspector, the reveal key, the meter sparkline, pane focus (Tab),
//! and the mouse (click, wheel) on a `TestBackend`.

mod tui_common;

use actsm::act::{CallKind, Verdict};
use actsm::session::Event;
use actsm::tui::{App, Message, Pane, Theme};
use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_common::*;

fn key(c: char) -> Message {
    Message::Key(KeyEvent::from(KeyCode::Char(c)))
}

fn code(code: KeyCode) -> Message {
    Message::Key(KeyEvent::from(code))
}

fn mouse(kind: MouseEventKind, column: u16, row: u16) -> Message {
    Message::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

fn click(column: u16, row: u16) -> Message {
    mouse(MouseEventKind::Down(MouseButton::Left), column, row)
}

/// The row (y) of the first screen line containing `needle`.
fn row_of(terminal: &Terminal<TestBackend>, needle: &str) -> u16 {
    let text = screen_text(terminal);
    let at = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not on screen:\n{text}"));
    u16::try_from(at).expect("a screen row fits u16")
}

/// The top-left corner (x, y) of the pane whose title starts with `title`.
fn corner_of(terminal: &Terminal<TestBackend>, title: &str) -> (u16, u16) {
    let text = screen_text(terminal);
    for (y, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let title: Vec<char> = format!("┌ {title}").chars().collect();
        if let Some(x) = chars
            .windows(title.len())
            .position(|w| w == title.as_slice())
        {
            return (
                u16::try_from(x).expect("a column fits u16"),
                u16::try_from(y).expect("a row fits u16"),
            );
        }
    }
    panic!("no pane titled {title}:\n{text}");
}

/// True when the pane titled `title` has the focused border style.
fn has_focus_border(terminal: &Terminal<TestBackend>, title: &str) -> bool {
    let (x, y) = corner_of(terminal, title);
    let cell = &terminal.backend().buffer()[(x, y)];
    Some(cell.fg) == Theme::default().border(true).fg
}

/// The app with `initech` refreshing once a minute for the last `minutes`, plus a
/// burst of three calls 10 minutes ago.
fn app_with_initech_calls(minutes: i64) -> App {
    let mut app = populated_app();
    for m in 1..=minutes {
        app.update(Message::Engine(Event::Journal(journal_entry(
            "initech",
            CallKind::Refresh,
            Some(200),
            Verdict::ok(),
            m * 60 + 30,
        ))));
    }
    for s in [601, 602, 603] {
        app.update(Message::Engine(Event::Journal(journal_entry(
            "initech",
            CallKind::Refresh,
            Some(200),
            Verdict::ok(),
            s,
        ))));
    }
    app
}

#[test]
fn inspector_80x24_shows_claims_times_gauge_history_and_a_masked_token() {
    let mut app = populated_app();
    app.update(key('i'));
    assert!(app.inspector_open());
    let terminal = render(&app, 80, 24);
    let text = screen_text(&terminal);
    assert!(text.contains("Inspector: acme"), "{text}");
    assert!(text.contains("eyJhbGci…"), "masked token:\n{text}");
    assert!(!text.contains(&TOKEN_TEXT[..12]), "token leaked:\n{text}");
    assert!(text.contains("of 1h 05m 00s lifetime used"), "{text}");
    // exp as local time and relative.
    assert!(
        text.contains("exp  2025-03-14 12:41:59  in 41m 59s"),
        "{text}"
    );
    assert!(text.contains("iat  not in the token"), "{text}");
    assert!(text.contains("sub: jdoe"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn inspector_200x50_keeps_the_list_and_shows_the_refresh_history() {
    let mut app = populated_app();
    app.update(Message::Engine(Event::Journal(journal_entry(
        "acme",
        CallKind::Refresh,
        Some(200),
        Verdict::ok(),
        2 * 60,
    ))));
    app.update(key('i'));
    let terminal = render(&app, 200, 50);
    let text = screen_text(&terminal);
    let beside = text
        .lines()
        .any(|l| l.contains("Connections (3)") && l.contains("Inspector: acme"));
    assert!(beside, "list beside the inspector:\n{text}");
    assert!(text.contains("refresh history (last 8)"), "{text}");
    // Newest first: the refresh 2 minutes ago, then the authorize 23 minutes ago;
    // other connections' exchanges are not listed.
    let refresh = row_of(&terminal, "refresh   200  ok  2m 00s ago");
    let authorize = row_of(&terminal, "authorize 200  ok  23m 00s ago");
    assert!(refresh < authorize, "{text}");
    assert!(!text.contains(" 403 "), "only acme's calls:\n{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn inspector_counts_from_the_server_clock_when_it_is_skewed() {
    let mut app = populated_app();
    let mut snapshot = acme_valid(actsm::act::ExpirySource::Claim);
    // The server is 10 minutes ahead: its token expires 10 minutes earlier for us.
    snapshot.skew = Some(chrono::TimeDelta::minutes(10));
    app.update(Message::Engine(Event::SessionChanged(snapshot)));
    app.update(key('i'));
    let text = screen_text(&render(&app, 100, 30));
    assert!(text.contains("server clock 10m ahead"), "{text}");
    assert!(text.contains("expires in 31m 59s"), "{text}");
    // Shown on our wall clock, with the server's time beside it.
    assert!(
        text.contains("exp  2025-03-14 12:31:59  in 31m 59s  (server 12:41:59)"),
        "{text}"
    );
}

#[test]
fn inspector_closes_with_i_or_esc_and_scrolls_with_j() {
    let mut app = populated_app();
    app.update(key('i'));
    let before = screen_text(&render(&app, 60, 15));
    app.update(key('j'));
    let after = screen_text(&render(&app, 60, 15));
    assert_ne!(before, after, "j scrolls the inspector");
    assert_eq!(app.selected_name(), Some("acme"), "j did not move the list");
    app.update(code(KeyCode::Esc));
    assert!(!app.inspector_open());
    assert!(!app.should_quit(), "Esc closed the inspector, not the app");
    app.update(key('i'));
    app.update(key('i'));
    assert!(!app.inspector_open());
}

#[test]
fn reveal_shows_the_whole_token_until_any_key_and_the_key_does_nothing_else() {
    let mut app = populated_app();
    app.update(key('v'));
    assert!(app.revealing());
    let text = screen_text(&render(&app, 80, 24));
    assert!(text.contains("any key hides it"), "{text}");
    // Wrapped over lines, the whole token is on screen.
    let flat: String = text.lines().map(str::trim).collect();
    assert!(flat.contains(TOKEN_TEXT), "whole token expected:\n{text}");

    app.update(key('j'));
    assert!(!app.revealing());
    assert_eq!(app.selected_name(), Some("acme"), "the key only hid it");
    let text = screen_text(&render(&app, 80, 24));
    assert!(!text.contains(&TOKEN_TEXT[..12]), "{text}");
}

#[test]
fn reveal_times_out_and_needs_a_token() {
    let mut app = populated_app();
    app.update(key('v'));
    app.update(Message::Tick(now() + chrono::Duration::seconds(29)));
    assert!(app.revealing());
    app.update(Message::Tick(now() + chrono::Duration::seconds(30)));
    assert!(!app.revealing());

    // globex holds no token.
    app.update(key('j'));
    app.update(key('v'));
    assert!(!app.revealing());
    assert!(
        app.status_message()
            .is_some_and(|s| s.is_error && s.text.contains("no token to reveal"))
    );
}

#[test]
fn meter_pane_draws_a_sparkline_of_calls_per_minute() {
    let mut app = app_with_initech_calls(20);
    app.update(key('G')); // initech
    assert_eq!(app.selected_name(), Some("initech"));
    let terminal = render(&app, 160, 48);
    let text = screen_text(&terminal);
    // 20 one-a-minute refreshes, a burst of 3 in the minute of the 10-minute one,
    // and the fixture's authorize 5 seconds ago.
    assert!(
        text.contains("calls/min, last hour: 24 calls, peak 4/min"),
        "{text}"
    );
    assert!(text.contains("87 left"), "{text}");
    assert!(text.contains("resets in 42s"), "{text}");
    // The burst minute is a full bar, one-call minutes a quarter of the 3-row height.
    let bars = text.lines().rev().nth(2).unwrap();
    assert_eq!(bars.matches('▆').count(), 20, "{text}");
    assert_eq!(bars.matches('█').count(), 1, "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn tab_cycles_the_panes_shown_and_the_border_follows() {
    let mut app = populated_app();
    let mut terminal = render(&app, 160, 48);
    assert_eq!(app.focus(), Pane::List);
    let titles = [
        (Pane::List, "Connections"),
        (Pane::Inspector, "Session"),
        (Pane::Meter, "Rate limit"),
        (Pane::Journal, "Journal"),
    ];
    for step in 0..5 {
        let focused = titles[step % 4].0;
        assert_eq!(app.focus(), focused, "step {step}");
        for (pane, title) in titles {
            assert_eq!(
                has_focus_border(&terminal, title),
                pane == focused,
                "{title} at step {step}"
            );
        }
        if step < 4 {
            insta::assert_snapshot!(format!("focus_{focused:?}_160x48"), terminal.backend());
        }
        app.update(code(KeyCode::Tab));
        terminal = render(&app, 160, 48);
    }
    app.update(code(KeyCode::BackTab));
    assert_eq!(app.focus(), Pane::List);
    app.update(code(KeyCode::BackTab));
    assert_eq!(app.focus(), Pane::Journal);

    // 80x24 has no meter pane: Tab skips it.
    let mut app = populated_app();
    render(&app, 80, 24);
    let mut seen = Vec::new();
    for _ in 0..3 {
        app.update(code(KeyCode::Tab));
        render(&app, 80, 24);
        seen.push(app.focus());
    }
    assert_eq!(seen, vec![Pane::Inspector, Pane::Journal, Pane::List]);

    // 60x15 shows no journal either.
    render(&app, 60, 15);
    app.update(code(KeyCode::Tab));
    app.update(code(KeyCode::Tab));
    assert_eq!(app.focus(), Pane::List);
}

#[test]
fn j_and_k_act_on_the_focused_pane() {
    let mut app = populated_app();
    render(&app, 80, 24);
    app.update(code(KeyCode::Tab));
    app.update(code(KeyCode::Tab));
    assert_eq!(app.focus(), Pane::Journal);
    // The newest entry is selected from the start; j moves to the next one.
    assert_eq!(app.journal_selected(), Some(0));
    app.update(key('j'));
    assert_eq!(app.journal_selected(), Some(1));
    assert_eq!(app.selected_name(), Some("acme"), "the list did not move");
    app.update(key('G'));
    assert_eq!(app.journal_selected(), Some(2));
    app.update(key('k'));
    assert_eq!(app.journal_selected(), Some(1));
    let terminal = render(&app, 80, 24);
    // The highlighted entry (globex, 11:59:00) is drawn in the selection style.
    let y = row_of(&terminal, "11:59:00");
    let cell = &terminal.backend().buffer()[(3, y)];
    assert_eq!(cell.modifier, Theme::default().selected().add_modifier);
}

#[test]
fn click_selects_a_connection_and_focuses_its_pane() {
    let mut app = populated_app();
    let terminal = render(&app, 80, 24);
    app.update(click(10, row_of(&terminal, "initech      ")));
    assert_eq!(app.selected_name(), Some("initech"));
    assert_eq!(app.focus(), Pane::List);

    // A click on the header row or the border selects nothing.
    let header = row_of(&terminal, "Name   ");
    app.update(click(10, header));
    assert_eq!(app.selected_name(), Some("initech"));

    // A click in the session pane focuses it.
    let terminal = render(&app, 80, 24);
    app.update(click(10, row_of(&terminal, "Session: initech") + 1));
    assert_eq!(app.focus(), Pane::Inspector);
}

#[test]
fn click_selects_a_journal_entry() {
    let mut app = populated_app();
    let terminal = render(&app, 80, 24);
    // globex's entry, the second newest.
    app.update(click(20, row_of(&terminal, "11:59:00")));
    assert_eq!(app.focus(), Pane::Journal);
    assert_eq!(app.journal_selected(), Some(1));
    // Below the last entry: nothing changes.
    let terminal = render(&app, 80, 24);
    app.update(click(20, row_of(&terminal, "11:37:00") + 1));
    assert_eq!(app.journal_selected(), Some(1));
}

#[test]
fn wheel_scrolls_the_pane_under_the_pointer() {
    let mut app = populated_app();
    let terminal = render(&app, 80, 24);
    let list_row = row_of(&terminal, "globex      ");
    app.update(mouse(MouseEventKind::ScrollDown, 5, list_row));
    assert_eq!(app.selected_name(), Some("globex"));
    app.update(mouse(MouseEventKind::ScrollUp, 5, list_row));
    assert_eq!(app.selected_name(), Some("acme"));

    let journal_row = row_of(&terminal, "11:59:00");
    app.update(mouse(MouseEventKind::ScrollDown, 5, journal_row));
    assert_eq!(app.journal_selected(), Some(2), "three lines, clamped");
    assert_eq!(app.focus(), Pane::List, "the wheel does not move the focus");

    // Off every pane (the status bar): nothing.
    app.update(mouse(MouseEventKind::ScrollDown, 5, 23));
    assert_eq!(app.selected_name(), Some("acme"));
}

#[test]
fn mouse_is_ignored_under_the_help_and_hides_a_revealed_token() {
    let mut app = populated_app();
    let terminal = render(&app, 80, 24);
    let row = row_of(&terminal, "initech      ");
    app.update(key('?'));
    app.update(click(10, row));
    assert_eq!(app.selected_name(), Some("acme"));
    app.update(key('?'));

    app.update(key('v'));
    app.update(click(10, row));
    assert!(!app.revealing());
    assert_eq!(app.selected_name(), Some("acme"), "the click only hid it");
}

#[test]
fn only_clicks_and_the_wheel_become_messages() {
    let event = |kind| {
        TermEvent::Mouse(MouseEvent {
            kind,
            column: 1,
            row: 1,
            modifiers: KeyModifiers::NONE,
        })
    };
    assert!(Message::from_terminal(&event(MouseEventKind::Moved)).is_none());
    assert!(Message::from_terminal(&event(MouseEventKind::Drag(MouseButton::Left))).is_none());
    assert!(Message::from_terminal(&event(MouseEventKind::Up(MouseButton::Left))).is_none());
    assert!(matches!(
        Message::from_terminal(&event(MouseEventKind::Down(MouseButton::Left))),
        Some(Message::Mouse(_))
    ));
    assert!(matches!(
        Message::from_terminal(&event(MouseEventKind::ScrollUp)),
        Some(Message::Mouse(_))
    ));
}

#[test]
fn mouse_setting_defaults_to_on_and_can_be_turned_off() {
    let path = std::path::Path::new("/nonexistent/connections.toml");
    let on = actsm::config::parse("[settings]\n", path).unwrap();
    assert!(on.settings.mouse);
    let off = actsm::config::parse("[settings]\nmouse = false\n", path).unwrap();
    assert!(!off.settings.mouse);
    let bad = actsm::config::parse("[settings]\nmouse = \"no\"\n", path);
    assert!(bad.is_err());
}

#[test]
fn small_sizes_are_not_garbled() {
    let app = populated_app();
    for (w, h) in [(60, 15), (70, 18), (80, 24), (100, 30)] {
        let terminal = render(&app, w, h);
        let text = screen_text(&terminal);
        // Every pane drawn is closed by its bottom border, and the status bar is last.
        assert!(text.contains("Connections (3)"), "{w}x{h}:\n{text}");
        assert!(text.contains("Session: acme"), "{w}x{h}:\n{text}");
        let last_pane_line = text.lines().nth(usize::from(h) - 2).unwrap();
        assert!(last_pane_line.starts_with('└'), "{w}x{h}:\n{text}");
        assert!(
            text.lines().last().unwrap().contains("q quit"),
            "{w}x{h}:\n{text}"
        );
    }
    let text = screen_text(&render(&app, 59, 15));
    assert!(text.contains("terminal too small"), "{text}");
}

#[test]
fn the_journal_highlight_stays_on_its_entry_as_new_ones_arrive() {
    let mut app = populated_app();
    render(&app, 80, 24);
    let terminal = render(&app, 80, 24);
    app.update(click(20, row_of(&terminal, "11:59:00")));
    assert_eq!(app.journal_selected(), Some(1));
    app.update(Message::Engine(Event::Journal(journal_entry(
        "acme",
        CallKind::Refresh,
        Some(200),
        Verdict::ok(),
        0,
    ))));
    assert_eq!(app.journal_selected(), Some(2), "still globex's entry");
    let terminal = render(&app, 80, 24);
    let y = row_of(&terminal, "11:59:00");
    let cell = &terminal.backend().buffer()[(3, y)];
    assert_eq!(cell.modifier, Theme::default().selected().add_modifier);
}

#[test]
fn keys_go_to_the_list_when_the_focused_pane_is_not_shown() {
    let mut app = populated_app();
    render(&app, 80, 24);
    app.update(code(KeyCode::Tab));
    app.update(code(KeyCode::Tab));
    assert_eq!(app.focus(), Pane::Journal);
    // The terminal shrinks to 60x15: no journal there.
    render(&app, 60, 15);
    app.update(key('j'));
    assert_eq!(app.selected_name(), Some("globex"));
    assert_eq!(
        app.journal_selected(),
        Some(0),
        "the hidden journal did not move"
    );
}

/// Moving up inside a scrolled list moves the highlight, not the view.
#[test]
fn the_list_view_stays_still_while_the_selection_moves_inside_it() {
    let mut config = config();
    let template = config.connections[1].clone();
    for i in 0..12 {
        let mut more = template.clone();
        more.name = format!("client-{i:02}");
        config.connections.push(more);
    }
    let mut app = App::new(&config, &options());
    app.update(Message::Tick(now()));
    // The first connection row shown at 80x24 (the list is at most 5 rows there).
    let top_row = |app: &App| {
        screen_text(&render(app, 80, 24))
            .lines()
            .nth(3)
            .unwrap_or_default()
            .to_owned()
    };
    app.update(key('G'));
    let scrolled = top_row(&app);
    assert!(
        !scrolled.contains("acme"),
        "the view scrolled to the end: {scrolled}"
    );
    app.update(key('k'));
    app.update(key('k'));
    assert_eq!(
        top_row(&app),
        scrolled,
        "k inside the window does not scroll it"
    );
    app.update(key('g'));
    assert!(top_row(&app).contains("acme"));
}
