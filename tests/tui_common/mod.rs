//! Shared fixtures for the TUI tests: a config, snapshots and journal entries at a fixed clock.

#![allow(dead_code)] // each test file uses a different subset

use std::path::PathBuf;
use std::time::Duration;

use actsm::act::{CallKind, Claims, Expiry, ExpirySource, Meter, Verdict, VerdictKind};
use actsm::config::{Config, Connection, SecretSource};
use actsm::journal::JournalEntry;
use actsm::secret::{Secret, Token};
use actsm::session::{Event, SessionSnapshot, SessionState, TokenStatus};
use actsm::tui::{App, Message, TuiOptions};
use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The raw token text; no rendering may contain any part of it.
pub const TOKEN_TEXT: &str =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqZG9lIn0.S3cr3tS1gnatureXYZ";

/// The fixed "now" of every test.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 12, 0, 0).unwrap()
}

fn connection(name: &str, database: &str, secret: SecretSource) -> Connection {
    Connection {
        name: name.into(),
        url: format!("https://{name}.example.invalid/act.web.api"),
        database: database.into(),
        user: "jdoe".into(),
        secret,
        autostart: false,
        group: None,
        color: None,
        note: None,
        transport: actsm::config::Transport::default(),
    }
}

/// Three connections; `acme` has a plain-text password (and a warning says so).
pub fn config() -> Config {
    Config {
        connections: vec![
            connection("acme", "ACME", SecretSource::Plain(Secret::from("hunter2"))),
            connection("globex", "Globex", SecretSource::Env("GLOBEX_PW".into())),
            connection(
                "initech",
                "Initech",
                SecretSource::Command("pass initech".into()),
            ),
        ],
        path: Some(PathBuf::from("/home/jdoe/.config/actsm/connections.toml")),
        warnings: vec!["connection 'acme': password is plain text in the file".into()],
        ..Config::default()
    }
}

pub fn options() -> TuiOptions {
    TuiOptions {
        title: "/home/jdoe/.config/actsm/connections.toml".into(),
        log_path: Some(PathBuf::from("/home/jdoe/.local/state/actsm/actsm.log")),
        config_path: None,
        ..TuiOptions::default()
    }
}

/// A valid token for `acme`: 65 minute lifetime, 41m 59s left at [`now`].
pub fn acme_valid(source: ExpirySource) -> SessionSnapshot {
    let now = now();
    let expires_at = now + chrono::Duration::seconds(41 * 60 + 59);
    let issued_at = expires_at - chrono::Duration::minutes(65);
    let mut claims = Claims::default();
    claims.claims.insert("sub".into(), "jdoe".into());
    claims
        .claims
        .insert("exp".into(), expires_at.timestamp().into());
    claims.claims.insert(
        "long".into(),
        "a claim value that goes on and on well beyond the width of any column".into(),
    );
    claims.exp = Some(expires_at.timestamp());
    SessionSnapshot {
        name: "acme".into(),
        state: SessionState::Valid,
        token: Some(TokenStatus {
            token: Token::new(TOKEN_TEXT.into()),
            claims,
            expiry: Expiry {
                issued_at,
                expires_at,
                source,
            },
            obtained_at: issued_at,
            clock_offset: chrono::TimeDelta::zero(),
        }),
        next_refresh_at: Some(expires_at - chrono::Duration::minutes(5)),
        retry_at: None,
        failures: 0,
        last_verdict: Some(Verdict::ok()),
        skew: None,
        held_until: None,
        meter: None,
        tokens_obtained: 2,
    }
}

/// `globex` refused with 4032.
pub fn globex_failed() -> SessionSnapshot {
    SessionSnapshot {
        state: SessionState::Failed,
        failures: 1,
        last_verdict: Some(Verdict::new(
            VerdictKind::ApiAccessRequired,
            Some("403 body: 4032".to_owned()),
        )),
        ..SessionSnapshot::idle("globex")
    }
}

/// `initech` backing off after a refused connection, retry in 12s, with a meter.
pub fn initech_backoff() -> SessionSnapshot {
    SessionSnapshot {
        state: SessionState::Backoff,
        failures: 3,
        retry_at: Some(now() + chrono::Duration::seconds(12)),
        last_verdict: Some(Verdict::new(VerdictKind::Refused, None)),
        meter: Some(Meter {
            limit: Some(100),
            remaining: Some(87),
            reset_at: Some(now() + chrono::Duration::seconds(42)),
            read_at: now() - chrono::Duration::seconds(3),
            unreadable: actsm::act::Unreadable::default(),
        }),
        ..SessionSnapshot::idle("initech")
    }
}

pub fn journal_entry(
    connection: &str,
    call: CallKind,
    status: Option<u16>,
    verdict: Verdict,
    secs_ago: i64,
) -> JournalEntry {
    JournalEntry {
        at: now() - chrono::Duration::seconds(secs_ago),
        connection: connection.into(),
        call,
        status,
        reason: None,
        latency: Duration::from_millis(123),
        verdict,
        meter: None,
        rule: "start: authorize".into(),
        url: String::new(),
        detail: actsm::act::HttpDetail::default(),
    }
}

/// An app at [`now`] with every fixture fed in.
pub fn populated_app() -> App {
    let mut app = App::new(&config(), &options());
    app.update(Message::Tick(now()));
    for snapshot in [
        acme_valid(ExpirySource::Claim),
        globex_failed(),
        initech_backoff(),
    ] {
        app.update(Message::Engine(Event::SessionChanged(snapshot)));
    }
    for entry in [
        journal_entry(
            "acme",
            CallKind::Authorize,
            Some(200),
            Verdict::ok(),
            23 * 60,
        ),
        journal_entry(
            "globex",
            CallKind::Authorize,
            Some(403),
            Verdict::new(VerdictKind::ApiAccessRequired, None),
            60,
        ),
        journal_entry(
            "initech",
            CallKind::Authorize,
            None,
            Verdict::new(VerdictKind::Refused, None),
            5,
        ),
    ] {
        app.update(Message::Engine(Event::Journal(entry)));
    }
    app
}

/// Renders `app` at `width`x`height`.
pub fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| app.render(frame)).unwrap();
    terminal
}

/// The rendered screen as text, one line per row.
pub fn screen_text(terminal: &Terminal<TestBackend>) -> String {
    buffer_text(terminal.backend().buffer())
}

/// A buffer (a rendered screen, or a frame the app's loop drew) as text, one line per row.
pub fn buffer_text(buffer: &ratatui::buffer::Buffer) -> String {
    let width = usize::from(buffer.area.width);
    buffer
        .content()
        .chunks(width)
        .map(|row| {
            row.iter()
                .map(ratatui::buffer::Cell::symbol)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits (at most `bound`) for a frame drawn by the app's loop whose screen satisfies
/// `pred`; panics naming `what`, with the last screen, when none comes.
pub async fn frame_where(
    frames: &mut tokio::sync::mpsc::UnboundedReceiver<actsm::tui::DrawnFrame>,
    bound: Duration,
    what: &str,
    pred: impl Fn(&str) -> bool,
) -> actsm::tui::DrawnFrame {
    let mut last = String::new();
    let found = tokio::time::timeout(bound, async {
        while let Some(frame) = frames.recv().await {
            last = buffer_text(&frame.buffer);
            if pred(&last) {
                return Some(frame);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(frame)) => frame,
        Ok(None) => panic!("the loop ended before {what}"),
        Err(elapsed) => panic!("{elapsed}: no frame with {what} within {bound:?}; last:\n{last}"),
    }
}

/// The screen as text, then the same grid with one letter per cell naming its
/// style (`.` for the terminal's default), then a legend of the letters: a
/// snapshot of this shows the colours and modifiers as well as the words.
pub fn styled_dump(buffer: &ratatui::buffer::Buffer) -> String {
    const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let width = usize::from(buffer.area.width);
    let mut styles: Vec<(
        Option<ratatui::style::Color>,
        Option<ratatui::style::Color>,
        ratatui::style::Modifier,
    )> = Vec::new();
    let mut text = String::new();
    let mut map = String::new();
    for (i, cell) in buffer.content().iter().enumerate() {
        if i > 0 && i % width == 0 {
            text.push('\n');
            map.push('\n');
        }
        text.push_str(cell.symbol());
        let fg = (cell.fg != ratatui::style::Color::Reset).then_some(cell.fg);
        let bg = (cell.bg != ratatui::style::Color::Reset).then_some(cell.bg);
        let key = (fg, bg, cell.modifier);
        if fg.is_none() && bg.is_none() && cell.modifier.is_empty() {
            map.push('.');
            continue;
        }
        let at = styles.iter().position(|s| *s == key).unwrap_or_else(|| {
            styles.push(key);
            styles.len() - 1
        });
        map.push(LETTERS.chars().nth(at).unwrap_or('?'));
    }
    let mut legend = String::new();
    for (i, (fg, bg, modifier)) in styles.iter().enumerate() {
        use std::fmt::Write as _;
        let _ = writeln!(
            legend,
            "{} = fg {} bg {} {:?}",
            LETTERS.chars().nth(i).unwrap_or('?'),
            fg.map_or("-".to_owned(), |c| c.to_string()),
            bg.map_or("-".to_owned(), |c| c.to_string()),
            modifier
        );
    }
    format!("{text}\n\n{map}\n\n{legend}")
}

/// Every colour (fg and bg) used anywhere in `buffer`, other than the default.
pub fn colours_used(buffer: &ratatui::buffer::Buffer) -> Vec<ratatui::style::Color> {
    let mut all = Vec::new();
    for cell in buffer.content() {
        for c in [cell.fg, cell.bg] {
            if c != ratatui::style::Color::Reset && !all.contains(&c) {
                all.push(c);
            }
        }
    }
    all
}
