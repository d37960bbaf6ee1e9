//! The refresh policy on screen: a skewed server's countdowns in server time
//! with a warning, and the rate-limit hold with its force key.

mod tui_common;

use actsm::act::ExpirySource;
use actsm::session::{Command, Event, SessionSnapshot};
use actsm::tui::{App, Message};
use chrono::TimeDelta;
use crossterm::event::{KeyCode, KeyEvent};
use tui_common::*;

fn ch(app: &mut App, c: char) -> Vec<Command> {
    app.update(Message::Key(KeyEvent::from(KeyCode::Char(c))))
}

fn feed(app: &mut App, snapshot: SessionSnapshot) {
    app.update(Message::Engine(Event::SessionChanged(snapshot)));
}

/// `acme` as a server 10 minutes ahead of us issued it: its claims (and
/// so its expiry) are on the server's clock.
fn acme_from_a_server_ahead() -> SessionSnapshot {
    let ahead = TimeDelta::minutes(10);
    let mut s = acme_valid(ExpirySource::Claim);
    let token = s.token.as_mut().expect("fixture holds a token");
    token.expiry.issued_at += ahead;
    token.expiry.expires_at += ahead;
    s.skew = Some(ahead);
    s
}

#[test]
fn a_skewed_server_token_counts_down_in_server_time_with_a_warning() {
    let mut app = populated_app();
    feed(&mut app, acme_from_a_server_ahead());
    let text = screen_text(&render(&app, 120, 40));

    // 41m 59s left on the server's clock, not 51m 59s on ours.
    assert!(text.contains("expires in 41m 59s"), "{text}");
    assert!(!text.contains("51m"), "{text}");
    assert!(
        text.contains("server clock 10m ahead: countdowns use the server's time"),
        "{text}"
    );
    // The list row carries the badge.
    let row = text
        .lines()
        .find(|l| l.contains("▶ acme"))
        .expect("acme row");
    assert!(row.contains("clock"), "{row}");
    assert!(row.contains("41m 59s"), "{row}");

    // A small offset (the Date header's resolution) is neither shown nor corrected.
    let mut calm = acme_valid(ExpirySource::Claim);
    calm.skew = Some(TimeDelta::seconds(2));
    feed(&mut app, calm);
    let text = screen_text(&render(&app, 120, 40));
    assert!(!text.contains("server clock"), "{text}");
    assert!(text.contains("expires in 41m 59s"), "{text}");
}

#[test]
fn a_server_behind_us_does_not_show_its_fresh_token_as_expired() {
    let behind = TimeDelta::hours(2);
    let mut s = acme_valid(ExpirySource::Claim);
    let token = s.token.as_mut().expect("fixture holds a token");
    token.expiry.issued_at -= behind;
    token.expiry.expires_at -= behind;
    s.skew = Some(-behind);
    let mut app = populated_app();
    feed(&mut app, s);
    let text = screen_text(&render(&app, 120, 40));
    assert!(!text.contains("expired"), "{text}");
    assert!(text.contains("expires in 41m 59s"), "{text}");
    assert!(text.contains("server clock 2h behind"), "{text}");
}

#[test]
fn r_while_held_explains_and_shift_r_forces() {
    let mut app = populated_app();
    let mut held = acme_valid(ExpirySource::Claim);
    held.held_until = Some(now() + TimeDelta::seconds(23));
    feed(&mut app, held);
    let text = screen_text(&render(&app, 120, 40));
    assert!(text.contains("R force"), "status bar hint:\n{text}");

    assert_eq!(ch(&mut app, 'r'), vec![Command::RefreshNow("acme".into())]);
    let status = app.status_message().expect("a status message");
    assert_eq!(
        status.text,
        "held: rate limit resets in 23s (press R to force)"
    );
    let text = screen_text(&render(&app, 120, 40));
    assert!(
        text.contains("held: rate limit resets in 23s (press R to force)"),
        "{text}"
    );

    assert_eq!(
        ch(&mut app, 'R'),
        vec![Command::ForceRefresh("acme".into())]
    );

    // Once the reset has passed, nothing is held: no hint, a plain refresh.
    app.update(Message::Tick(now() + TimeDelta::seconds(30)));
    let text = screen_text(&render(&app, 120, 40));
    assert!(!text.contains("R force"), "{text}");
    assert!(!text.contains("held:"), "{text}");
    assert_eq!(ch(&mut app, 'r'), vec![Command::RefreshNow("acme".into())]);
}

#[test]
fn unreadable_rate_limit_headers_are_named_not_hidden() {
    let mut app = populated_app();
    let mut s = acme_valid(ExpirySource::Claim);
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-ratelimit-remaining",
        reqwest::header::HeaderValue::from_static("lots"),
    );
    s.meter = actsm::act::Meter::from_headers(&headers, now());
    feed(&mut app, s);
    for width in [120, 70] {
        let text = screen_text(&render(&app, width, 40));
        // The pane may wrap the line between its two parts.
        assert!(text.contains("rate-limit headers unreadable:"), "{text}");
        assert!(text.contains("X-RateLimit-Remaining='lots'"), "{text}");
        assert!(!text.contains("no limit reported"), "{text}");
    }
}
