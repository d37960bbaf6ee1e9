//! Themes and notifications: every built-in theme rendered (text and styles),
//! `NO_COLOR`, the 16-colour theme, `t`, user themes, settings, and the
//! notification decision.

mod tui_common;

use std::sync::Arc;

use actsm::act::{Meter, Unreadable};
use actsm::config::{Config, NotifyMode};
use actsm::session::{Event, SessionSnapshot, SessionState};
use actsm::tui::app::{AlertMemory, notification_for};
use actsm::tui::theme::{BUILT_IN, ThemeSet, is_ansi16};
use actsm::tui::{App, Message};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::Color;
use tui_common::*;

fn key(c: char) -> Message {
    Message::Key(KeyEvent::from(KeyCode::Char(c)))
}

/// The populated app with `acme` in a true-colour accent, in theme `name`.
fn app_in(name: &str, no_color: bool) -> App {
    let mut app = populated_app();
    let mut config: Config = config();
    config.connections[0].color = Some("#ff8800".into());
    app.apply_config(&Arc::new(config));
    app.set_themes(ThemeSet::built_in(), Some(name), no_color, Vec::new());
    assert_eq!(app.theme_name(), name);
    app
}

#[test]
fn every_built_in_theme_at_80x24_and_200x50() {
    for (name, _) in BUILT_IN {
        for (width, height) in [(80, 24), (200, 50)] {
            let app = app_in(name, false);
            let terminal = render(&app, width, height);
            let buffer = terminal.backend().buffer();
            insta::assert_snapshot!(
                format!("theme_{name}_{width}x{height}"),
                styled_dump(buffer)
            );
            // The connection's own colour shows in every theme.
            let colours = colours_used(buffer);
            // #ff8800 is nearest to ANSI yellow (205,205,0) of the 16.
            let accent = if *name == "ansi16" {
                Color::Yellow
            } else {
                Color::Rgb(0xff, 0x88, 0x00)
            };
            assert!(colours.contains(&accent), "{name}: {colours:?}");
        }
    }
}

#[test]
fn themes_differ_in_colour_not_in_words() {
    let texts: Vec<String> = BUILT_IN
        .iter()
        .map(|(name, _)| screen_text(&render(&app_in(name, false), 80, 24)))
        .collect();
    assert!(texts.windows(2).all(|w| w[0] == w[1]));
    let mut palettes: Vec<Vec<Color>> = BUILT_IN
        .iter()
        .map(|(name, _)| {
            let mut c = colours_used(render(&app_in(name, false), 80, 24).backend().buffer());
            c.sort_by_key(|c| format!("{c:?}"));
            c
        })
        .collect();
    let count = palettes.len();
    palettes.dedup();
    assert_eq!(palettes.len(), count, "two themes render the same colours");
}

#[test]
fn the_ansi16_theme_paints_only_the_16_base_colours() {
    let app = app_in("ansi16", false);
    for (width, height) in [(80, 24), (200, 50)] {
        let terminal = render(&app, width, height);
        for colour in colours_used(terminal.backend().buffer()) {
            assert!(is_ansi16(colour), "{colour:?} at {width}x{height}");
        }
    }
}

#[test]
fn the_true_colour_themes_use_hex() {
    for name in ["dark", "light"] {
        let terminal = render(&app_in(name, false), 80, 24);
        let colours = colours_used(terminal.backend().buffer());
        assert!(
            colours.iter().all(|c| matches!(c, Color::Rgb(..))),
            "{name}: {colours:?}"
        );
    }
}

#[test]
fn no_color_gives_no_colour_in_any_theme() {
    for (name, _) in BUILT_IN {
        let app = app_in(name, true);
        for (width, height) in [(80, 24), (200, 50)] {
            let terminal = render(&app, width, height);
            let colours = colours_used(terminal.backend().buffer());
            assert!(colours.is_empty(), "{name}: {colours:?}");
        }
    }
}

#[test]
fn t_cycles_themes_and_says_which() {
    let mut app = app_in("default", false);
    let mut seen = Vec::new();
    for _ in 0..BUILT_IN.len() {
        app.update(key('t'));
        seen.push(app.theme_name().to_owned());
        let status = app.status_message().expect("a status message").text.clone();
        assert_eq!(status, format!("theme: {}", app.theme_name()));
    }
    assert_eq!(
        seen,
        ["dark", "light", "high-contrast", "ansi16", "default"]
    );
    let text = screen_text(&render(&app, 80, 24));
    assert!(text.contains("theme: default"), "{text}");
}

#[test]
fn t_under_no_color_says_so() {
    let mut app = app_in("default", true);
    app.update(key('t'));
    let status = app.status_message().expect("status").text.clone();
    assert!(
        status.contains("theme: dark") && status.contains("NO_COLOR"),
        "{status}"
    );
}

#[test]
fn an_unknown_theme_lists_the_available_ones_and_the_app_goes_on() {
    let mut app = populated_app();
    app.set_themes(ThemeSet::built_in(), Some("solarized"), false, Vec::new());
    assert_eq!(app.theme_name(), "default");
    let notice = app.notice().expect("a notice");
    let all = notice.lines.join("\n");
    assert!(all.contains("unknown theme 'solarized'"), "{all}");
    assert!(
        all.contains("default, dark, light, high-contrast, ansi16"),
        "{all}"
    );
}

#[test]
fn a_bad_user_theme_is_shown_and_the_default_used() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "ok = \"green\"\nwarning = \"yellow\"\ndanger = \"rde\"\naccent = \"cyan\"\nmuted = \"gray\"\n",
    )
    .unwrap();
    let (set, errors) = ThemeSet::load(Some(dir.path()));
    let mut app = populated_app();
    app.set_themes(
        set,
        Some("mine"),
        false,
        errors.iter().map(ToString::to_string).collect(),
    );
    assert_eq!(app.theme_name(), "default");
    let all = app.notice().expect("a notice").lines.join("\n");
    assert!(all.contains("mine.toml line 3"), "{all}");
    assert!(all.contains("key 'danger'"), "{all}");
    assert!(all.contains("'rde'"), "{all}");
}

#[test]
fn a_user_theme_overrides_a_built_in_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dark.toml"),
        "ok = \"#010203\"\nwarning = \"yellow\"\ndanger = \"red\"\naccent = \"cyan\"\nmuted = \"gray\"\n",
    )
    .unwrap();
    let (set, errors) = ThemeSet::load(Some(dir.path()));
    assert!(errors.is_empty());
    let mut app = populated_app();
    app.set_themes(set, Some("dark"), false, Vec::new());
    let colours = colours_used(render(&app, 80, 24).backend().buffer());
    assert!(colours.contains(&Color::Rgb(1, 2, 3)), "{colours:?}");
}

#[test]
fn settings_take_theme_and_notify() {
    let head = "[[connection]]\nname = \"a\"\nurl = \"https://a.example.invalid\"\n\
                database = \"D\"\nuser = \"u\"\npassword_env = \"P\"\n";
    let path = std::path::Path::new("connections.toml");
    let config = actsm::config::parse(
        &format!("[settings]\ntheme = \"light\"\nnotify = \"desktop\"\n\n{head}"),
        path,
    )
    .expect("loads");
    assert_eq!(config.settings.theme.as_deref(), Some("light"));
    assert_eq!(config.settings.notify, NotifyMode::Desktop);
    let default = actsm::config::parse(head, path).expect("loads");
    assert_eq!(default.settings.notify, NotifyMode::Bell);
    let err = actsm::config::parse(&format!("[settings]\nnotify = \"loud\"\n\n{head}"), path)
        .expect_err("unknown notify")
        .to_string();
    assert!(
        err.contains("notify") && err.contains("off, bell, desktop"),
        "{err}"
    );
}

// ---- notifications ----

fn snapshot(state: SessionState) -> SessionSnapshot {
    SessionSnapshot {
        state,
        ..SessionSnapshot::idle("acme")
    }
}

fn with_meter(remaining: u64, reset_secs: i64) -> SessionSnapshot {
    SessionSnapshot {
        meter: Some(Meter {
            limit: Some(100),
            remaining: Some(remaining),
            reset_at: Some(now() + chrono::Duration::seconds(reset_secs)),
            read_at: now(),
            unreadable: Unreadable::default(),
        }),
        ..snapshot(SessionState::Valid)
    }
}

#[test]
fn a_failure_notifies_once_not_on_every_update() {
    let mut memory = AlertMemory::default();
    let failed = globex_failed();
    let first = notification_for(SessionState::Authorizing, &failed, &mut memory)
        .expect("entering Failed notifies");
    assert!(first.title.contains("globex"), "{first:?}");
    assert!(first.body.contains("4032"), "{first:?}");
    assert_eq!(
        notification_for(SessionState::Failed, &failed, &mut memory),
        None
    );
    assert_eq!(
        notification_for(SessionState::Failed, &failed, &mut memory),
        None
    );
}

#[test]
fn backoff_notifies_only_after_having_been_valid() {
    let mut memory = AlertMemory::default();
    // A first start that backs off: no session was lost.
    let backoff = snapshot(SessionState::Backoff);
    assert_eq!(
        notification_for(SessionState::Authorizing, &backoff, &mut memory),
        None
    );
    assert_eq!(
        notification_for(
            SessionState::Authorizing,
            &snapshot(SessionState::Valid),
            &mut memory
        ),
        None
    );
    let lost = notification_for(SessionState::Refreshing, &backoff, &mut memory)
        .expect("a valid session that backs off notifies");
    assert!(lost.title.contains("acme"), "{lost:?}");
    // Still backing off, and retrying again from Authorizing: no repeat.
    assert_eq!(
        notification_for(SessionState::Backoff, &backoff, &mut memory),
        None
    );
    assert_eq!(
        notification_for(SessionState::Authorizing, &backoff, &mut memory),
        None
    );
}

#[test]
fn a_low_meter_notifies_once_per_reset_window() {
    let mut memory = AlertMemory::default();
    let v = SessionState::Valid;
    assert_eq!(notification_for(v, &with_meter(50, 30), &mut memory), None);
    let low = notification_for(v, &with_meter(10, 30), &mut memory).expect("10% is low");
    assert!(low.body.contains("10 of 100"), "{low:?}");
    assert_eq!(notification_for(v, &with_meter(5, 30), &mut memory), None);
    assert_eq!(notification_for(v, &with_meter(1, 30), &mut memory), None);
    // The next window runs low too: once more.
    assert_eq!(notification_for(v, &with_meter(90, 90), &mut memory), None);
    assert!(notification_for(v, &with_meter(3, 90), &mut memory).is_some());
}

#[test]
fn notifications_never_hold_the_token() {
    let mut memory = AlertMemory::default();
    let mut failed = acme_valid(actsm::act::ExpirySource::Claim);
    failed.state = SessionState::Failed;
    let n = notification_for(SessionState::Valid, &failed, &mut memory).expect("notifies");
    for part in TOKEN_TEXT.split('.') {
        assert!(!n.title.contains(part) && !n.body.contains(part), "{n:?}");
    }
}

#[test]
fn the_app_queues_notifications_unless_off() {
    let mut app = populated_app();
    app.take_notifications();
    let mut failing = acme_valid(actsm::act::ExpirySource::Claim);
    failing.state = SessionState::Failed;
    app.update(Message::Engine(Event::SessionChanged(failing.clone())));
    assert_eq!(app.take_notifications().len(), 1);
    app.update(Message::Engine(Event::SessionChanged(failing.clone())));
    app.update(Message::Tick(now() + chrono::Duration::seconds(1)));
    assert!(
        app.take_notifications().is_empty(),
        "one failure, one notification"
    );

    let mut config = config();
    config.settings.notify = NotifyMode::Off;
    let mut quiet = App::new(&config, &options());
    quiet.update(Message::Engine(Event::SessionChanged(failing)));
    assert!(quiet.take_notifications().is_empty());
    assert_eq!(quiet.notify_mode(), NotifyMode::Off);
}
