//! The transport flags in the TUI: `insecure_tls` in the danger colour on the connection's
//! row and in the details pane; plain http to a remote host flagged in the details pane.

mod tui_common;

use actsm::config::{Config, Transport};
use actsm::tui::theme::{Palette, Theme};
use actsm::tui::{App, Message};
use tui_common::*;

/// The fixture config with acme on `url` and `insecure_tls` as given.
fn app_with(url: &str, insecure_tls: bool) -> App {
    let mut config: Config = config();
    url.clone_into(&mut config.connections[0].url);
    config.connections[0].transport = Transport {
        insecure_tls,
        ..Transport::default()
    };
    let mut app = App::new(&config, &options());
    app.set_theme(Theme::with_palette(Palette::default()));
    app.update(Message::Tick(now()));
    app
}

/// The cells of the first occurrence of `needle` on screen, with their row.
fn find(
    terminal: &ratatui::Terminal<ratatui::backend::TestBackend>,
    needle: &str,
) -> Option<(u16, u16)> {
    let text = screen_text(terminal);
    text.lines().enumerate().find_map(|(y, line)| {
        line.find(needle).map(|byte| {
            let x = line[..byte].chars().count();
            (
                u16::try_from(x).expect("fits"),
                u16::try_from(y).expect("fits"),
            )
        })
    })
}

#[test]
fn insecure_tls_is_shown_in_the_danger_colour_on_the_row_and_in_the_details() {
    let app = app_with("https://act.example.invalid/act.web.api", true);
    let terminal = render(&app, 120, 40);
    let text = screen_text(&terminal);
    let danger = Palette::default().danger;

    // acme also has a plain-text password, whose " !" comes first.
    let (x, y) = find(&terminal, "acme ! TLS!").expect(&text);
    let mark = terminal.backend().buffer()[(x + 7, y)].clone();
    assert_eq!(mark.symbol(), "T");
    assert_eq!(mark.fg, danger, "{text}");

    let (x, y) = find(&terminal, "TLS not verified").expect(&text);
    assert_eq!(terminal.backend().buffer()[(x, y)].fg, danger);
    // No other connection is marked.
    assert_eq!(text.matches("TLS!").count(), 1, "{text}");
    assert!(!text.contains("password sent unencrypted"), "{text}");
}

#[test]
fn plain_http_to_a_remote_host_is_flagged_in_the_details_in_the_warning_colour() {
    let app = app_with("http://act.example.invalid/act.web.api", false);
    let terminal = render(&app, 120, 40);
    let text = screen_text(&terminal);
    let (x, y) = find(&terminal, "http: password sent unencrypted").expect(&text);
    assert_eq!(
        terminal.backend().buffer()[(x, y)].fg,
        Palette::default().warning
    );
    assert!(!text.contains("TLS!"), "{text}");
    assert!(!text.contains("TLS not verified"), "{text}");
}

#[test]
fn plain_http_to_loopback_is_not_flagged() {
    let app = app_with("http://127.0.0.1:5000/act.web.api", false);
    let text = screen_text(&render(&app, 120, 40));
    assert!(!text.contains("password sent unencrypted"), "{text}");
}
