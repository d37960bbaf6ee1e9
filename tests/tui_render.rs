//! Rendering the TUI into a `TestBackend`: pane contents, layouts, snapshots, secrets.

mod tui_common;

use actsm::act::ExpirySource;
use actsm::config::Config;
use actsm::session::Event;
use actsm::tui::clipboard::CopyMethod;
use actsm::tui::{App, Message};
use crossterm::event::{KeyCode, KeyEvent};
use tui_common::*;

fn key(c: char) -> Message {
    Message::Key(KeyEvent::from(KeyCode::Char(c)))
}

fn down() -> Message {
    Message::Key(KeyEvent::from(KeyCode::Down))
}

#[test]
fn main_screen_80x24_shows_every_pane() {
    let app = populated_app();
    let terminal = render(&app, 80, 24);
    let text = screen_text(&terminal);

    for name in ["acme", "globex", "initech"] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    assert!(text.contains("41m 59s"), "countdown missing:\n{text}");
    assert!(text.contains("● valid"));
    assert!(text.contains("● failed"));
    assert!(text.contains("retry 12s"));
    assert!(
        text.contains("rate limit no limit reported"),
        "meter line:\n{text}"
    );
    assert!(text.contains("token #"), "fingerprint missing:\n{text}");
    assert!(
        text.contains("1 config warning"),
        "warning badge missing:\n{text}"
    );
    // Newest journal entry on top: initech's refused call 5 s ago.
    let journal_top = text.lines().position(|l| l.contains("11:59:55")).unwrap();
    let journal_old = text.lines().position(|l| l.contains("11:37:00")).unwrap();
    assert!(journal_top < journal_old, "journal order:\n{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn main_screen_160x48_shows_wide_layout() {
    let app = populated_app();
    let terminal = render(&app, 160, 48);
    let text = screen_text(&terminal);

    // List and session side by side, meter and journal side by side.
    let top = text
        .lines()
        .find(|l| l.contains("Connections (3)") && l.contains("Session: acme"));
    assert!(top.is_some(), "wide layout expected:\n{text}");
    let bottom = text
        .lines()
        .find(|l| l.contains("Rate limit") && l.contains("Journal (3)"));
    assert!(bottom.is_some(), "wide layout expected:\n{text}");
    assert!(text.contains("expires in 41m 59s"));
    assert!(
        text.contains("exp: 1741956119 (12:41:59)"),
        "claim time:\n{text}"
    );
    assert!(text.contains(" Rate limit "));
    assert!(text.contains("no limit reported"));
    assert!(text.contains("start: authorize"), "rule column:\n{text}");
    assert!(text.contains("123 ms"));
    assert!(text.contains("sub: jdoe"));
    assert!(text.contains("of lifetime used"));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn failed_connection_shows_4032_meaning_and_next_step() {
    let mut app = populated_app();
    app.update(down());
    let text = screen_text(&render(&app, 160, 48));
    assert!(text.contains("Session: globex"));
    assert!(text.contains("4032 API access"));
    assert!(text.contains("lacks the \"Web API"), "{text}");
    assert!(text.contains("next step:"));
    assert!(text.contains("Manage Users"));
}

#[test]
fn backoff_shows_retry_countdown_and_meter_reading() {
    let mut app = populated_app();
    app.update(down());
    app.update(down());
    let text = screen_text(&render(&app, 160, 48));
    assert!(text.contains("retrying in 12s"), "{text}");
    assert!(text.contains("3 failed attempt(s)"));
    assert!(text.contains("13 used of 100"), "{text}");
    assert!(text.contains("87 left"));
    assert!(text.contains("resets in 42s"));
    assert!(
        !text.contains("no limit reported"),
        "a reported meter is not 'no limit'"
    );
}

#[test]
fn countdown_ticks_with_the_injected_clock() {
    let mut app = populated_app();
    app.update(Message::Tick(now() + chrono::Duration::seconds(1)));
    let text = screen_text(&render(&app, 80, 24));
    assert!(text.contains("41m 58s"), "{text}");
    assert!(text.contains("retry 11s"));

    app.update(Message::Tick(now() + chrono::Duration::minutes(45)));
    let text = screen_text(&render(&app, 80, 24));
    assert!(text.contains("expired"), "{text}");
}

#[test]
fn assumed_expiry_is_marked() {
    let mut app = populated_app();
    app.update(Message::Engine(Event::SessionChanged(acme_valid(
        ExpirySource::Assumed,
    ))));
    let text = screen_text(&render(&app, 160, 48));
    assert!(text.contains("expiry assumed"), "{text}");
}

#[test]
fn plain_password_is_flagged() {
    let app = populated_app();
    let text = screen_text(&render(&app, 160, 48));
    assert!(text.contains("password: plain text"), "{text}");
    assert!(text.contains("acme !"), "list marker:\n{text}");
    assert!(text.contains("1 config warning"), "header badge:\n{text}");

    // The help overlay lists the warning itself.
    let mut app = app;
    app.update(Message::Key(KeyEvent::from(KeyCode::Char('?'))));
    let text = screen_text(&render(&app, 160, 48));
    assert!(
        text.contains("password is plain text in the file"),
        "{text}"
    );
}

#[test]
fn the_token_text_is_never_rendered() {
    let mut app = populated_app();
    let pieces: Vec<&str> = TOKEN_TEXT.split('.').collect();
    for (width, height) in [(80, 24), (160, 48), (60, 15)] {
        for step in 0..3 {
            for overlay in [false, true] {
                if overlay {
                    app.update(key('?'));
                }
                let text = screen_text(&render(&app, width, height));
                for piece in &pieces {
                    assert!(
                        !text.contains(piece),
                        "token part rendered at {width}x{height}"
                    );
                }
                // Nor a long prefix of it, should a cell cut it.
                assert!(!text.contains(&TOKEN_TEXT[..12]));
                if overlay {
                    app.update(key('?'));
                }
            }
            if step < 2 {
                app.update(down());
            }
        }
    }
    // Copying sets a status message that names the connection, not the token.
    app.update(key('g'));
    app.update(key('c'));
    app.update(Message::ClipboardCopied(CopyMethod::Osc52));
    let text = screen_text(&render(&app, 80, 24));
    assert!(
        text.contains("token for 'acme' copied (OSC 52 to the terminal)"),
        "{text}"
    );
    assert!(!text.contains(pieces[2]));
}

#[test]
fn help_overlay_lists_keys_and_log_path() {
    let mut app = populated_app();
    app.update(key('?'));
    let terminal = render(&app, 80, 24);
    let text = screen_text(&terminal);
    for needle in [
        "Enter",
        "start all",
        "OSC 52",
        "quit",
        "actsm.log",
        "connections.toml",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn too_small_terminal_says_so() {
    let app = populated_app();
    let terminal = render(&app, 50, 12);
    let text = screen_text(&terminal);
    assert!(text.contains("terminal too small (need 60x15)"), "{text}");
    insta::assert_snapshot!(terminal.backend());

    // The minimum size draws the real layout.
    let text = screen_text(&render(&app, 60, 15));
    assert!(!text.contains("too small"));
    assert!(text.contains("acme"));
}

#[test]
fn resizing_redraws_cleanly() {
    let app = populated_app();
    let mut terminal = render(&app, 160, 48);
    terminal.backend_mut().resize(80, 24);
    terminal
        .resize(ratatui::layout::Rect::new(0, 0, 80, 24))
        .unwrap();
    terminal.draw(|frame| app.render(frame)).unwrap();
    let resized = screen_text(&terminal);
    let fresh = screen_text(&render(&app, 80, 24));
    assert_eq!(resized, fresh);
}

#[test]
fn empty_config_explains_how_to_add_a_connection() {
    let config = Config {
        path: Some("/home/jdoe/.config/actsm/connections.toml".into()),
        ..Config::empty()
    };
    let mut app = App::new(&config, &options());
    app.update(Message::Tick(now()));
    let terminal = render(&app, 80, 24);
    let text = screen_text(&terminal);
    assert!(text.contains("No connections configured."), "{text}");
    assert!(text.contains("/home/jdoe/.config/actsm/connections.toml"));
    assert!(text.contains("actsm demo"));
    assert!(text.contains("Press a to add one"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn no_color_theme_paints_no_colours_but_keeps_the_selection_visible() {
    use ratatui::style::{Color, Modifier};

    let mut app = populated_app();
    app.set_theme(actsm::tui::Theme::no_color());
    let terminal = render(&app, 160, 48);
    let buffer = terminal.backend().buffer();
    assert!(
        buffer
            .content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    assert!(
        buffer
            .content()
            .iter()
            .any(|c| c.modifier.contains(Modifier::REVERSED))
    );

    // The coloured default does use colours.
    let terminal = render(&populated_app(), 160, 48);
    assert!(
        terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.fg == Color::Red)
    );
}

#[test]
fn help_scrolls_when_it_does_not_fit() {
    let mut app = populated_app();
    app.update(key('?'));
    let text = screen_text(&render(&app, 60, 15));
    assert!(text.contains("↑↓ scroll"), "{text}");
    assert!(!text.contains("password is plain text"), "{text}");
    app.update(key('G'));
    let text = screen_text(&render(&app, 60, 15));
    assert!(
        text.contains("password is plain text"),
        "the last line is reachable: {text}"
    );
    app.update(key('g'));
    assert!(screen_text(&render(&app, 60, 15)).contains("move / first / last"));
}
