//! The token inspector (`i`): the decoded JWT header and claims, `iat`/`nbf`/`exp`
//! as wall-clock and relative times, the lifetime gauge, this connection's refresh
//! history, and the token masked. `v` reveals the whole token for a while (for
//! terminals where the OSC 52 copy does not reach the clipboard).

use chrono::{DateTime, TimeDelta, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::App;
use super::focus::Pane;
use super::form::centered;
use super::format::{ago, clock, countdown, fraction_used, truncate, until};
use super::widgets::{expires_in, labelled_bar, state_badge};
use crate::act::{CallKind, ExpirySource};
use crate::journal::JournalEntry;
use crate::secret::Token;
use crate::session::{SessionSnapshot, SessionState, TokenStatus, describe_skew};

/// How many token changes the refresh history lists.
pub const HISTORY_LEN: usize = 8;

/// How many characters of the token the masked form keeps.
const MASK_KEEP: usize = 8;

/// The token masked for the screen: its first 8 characters and `…`
/// (the JWT header's start, which says nothing secret).
pub fn mask(token: &Token) -> String {
    let kept: String = token.expose().chars().take(MASK_KEEP).collect();
    format!("{kept}…")
}

/// The last `n` authorize/refresh exchanges of `connection`, newest first, from a
/// journal kept newest first.
pub fn refresh_history<'a>(
    journal: impl IntoIterator<Item = &'a JournalEntry>,
    connection: &str,
    n: usize,
) -> Vec<&'a JournalEntry> {
    journal
        .into_iter()
        .filter(|e| e.connection == connection)
        .filter(|e| matches!(e.call, CallKind::Authorize | CallKind::Refresh))
        .take(n)
        .collect()
}

/// A time claim for people: `"in 42m 10s"` / `"3m 05s ago"` from `now`.
pub fn relative(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    if at > now {
        until(now, at)
    } else {
        ago(now, at)
    }
}

/// Draws the full inspector of the selected connection into `area`.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let focused = app.inspector_open || app.focus == Pane::Inspector;
    let Some((info, snapshot)) = app.selection() else {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .title(Span::styled(" Inspector ", theme.title()));
        frame.render_widget(
            Paragraph::new(Line::styled("No connection selected.", theme.muted())).block(block),
            area,
        );
        return;
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(
            format!(" Inspector: {} ", info.name),
            theme.title(),
        ))
        .title_bottom(Span::styled(
            " i/Esc close · j/k scroll · v reveal · c copy ",
            theme.muted(),
        ));
    let inner_width = area.width.saturating_sub(2);
    let lines = lines(app, &info.name, snapshot, inner_width);

    let height = area.height.saturating_sub(2);
    let total = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    app.areas
        .inspector_max_scroll
        .set(total.saturating_sub(height));
    let scroll = app.inspector_scroll.min(total.saturating_sub(height));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}

/// The inspector's lines for connection `name`.
fn lines(
    app: &App,
    name: &str,
    snapshot: Option<&SessionSnapshot>,
    inner_width: u16,
) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let mut lines = Vec::new();
    let state = snapshot.map_or(SessionState::Idle, |s| s.state);
    let token = snapshot.and_then(|s| s.token.as_ref());
    let Some(token) = token else {
        lines.push(Line::from(vec![
            state_badge(theme, state),
            Span::styled("   no token: Enter starts the connection", theme.muted()),
        ]));
        push_history(app, name, &mut lines);
        return lines;
    };
    let snapshot = snapshot.expect("a token comes from a snapshot");
    // Token times are on the server's clock: relative times count from its now.
    let server_now = snapshot.server_now(app.now);
    let correction = snapshot.clock_correction();

    lines.push(Line::from(vec![
        Span::styled("token  ", theme.muted()),
        Span::styled(mask(&token.token), theme.accent()),
        Span::styled(
            format!(
                "  #{} · {} chars · v reveals, c copies",
                token.token.fingerprint(),
                token.token.expose().chars().count()
            ),
            theme.muted(),
        ),
    ]));
    let expires_at = token.expiry.expires_at;
    lines.push(Line::from(vec![
        state_badge(theme, state),
        expires_in(theme, expires_at, server_now),
    ]));
    if correction != TimeDelta::zero() {
        lines.push(Line::styled(
            format!(
                "{}: times below are the server's, relative times count from its clock",
                describe_skew(correction)
            ),
            theme.warning(),
        ));
    }

    let used = fraction_used(server_now, token.expiry.issued_at, expires_at);
    let label = format!(
        " {:>3.0}% of {} lifetime used",
        used * 100.0,
        countdown(expires_at - token.expiry.issued_at)
    );
    lines.push(labelled_bar(theme, used, label, inner_width, 50));
    if token.expiry.source == ExpirySource::Assumed {
        lines.push(Line::styled(
            "expiry assumed: the token has no 'exp' claim",
            theme.warning(),
        ));
    }

    push_times(app, token, correction, server_now, &mut lines);

    let value_width = usize::from(inner_width).saturating_sub(20).max(16);
    lines.push(Line::raw(""));
    lines.push(Line::styled("header", theme.title()));
    if token.claims.header.is_empty() {
        lines.push(Line::styled("  (none decoded)", theme.muted()));
    }
    for (key, value) in &token.claims.header {
        lines.push(claim_line(app, key, value, value_width));
    }
    lines.push(Line::styled("claims", theme.title()));
    for (key, value) in &token.claims.claims {
        lines.push(claim_line(app, key, value, value_width));
    }
    push_history(app, name, &mut lines);
    lines
}

/// `iat`, `nbf` and `exp` on our wall clock, and relative to the server's now.
fn push_times(
    app: &App,
    token: &TokenStatus,
    correction: TimeDelta,
    server_now: DateTime<Utc>,
    lines: &mut Vec<Line<'static>>,
) {
    let theme = &app.theme;
    lines.push(Line::raw(""));
    lines.push(Line::styled("times", theme.title()));
    for (claim, value) in [
        ("iat", token.claims.iat),
        ("nbf", token.claims.nbf),
        ("exp", token.claims.exp),
    ] {
        let Some(at) = value.and_then(|secs| DateTime::<Utc>::from_timestamp(secs, 0)) else {
            lines.push(Line::from(vec![
                Span::styled(format!("  {claim}  "), theme.accent()),
                Span::styled("not in the token", theme.muted()),
            ]));
            continue;
        };
        let mut spans = vec![
            Span::styled(format!("  {claim}  "), theme.accent()),
            // Shown on our wall clock; the relative time is the server's.
            Span::raw(
                (at - correction)
                    .with_timezone(&app.offset)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
            ),
            Span::styled(format!("  {}", relative(server_now, at)), theme.muted()),
        ];
        if correction != TimeDelta::zero() {
            spans.push(Span::styled(
                format!("  (server {})", clock(at, app.offset)),
                theme.muted(),
            ));
        }
        lines.push(Line::from(spans));
    }
}

fn claim_line(app: &App, key: &str, value: &serde_json::Value, width: usize) -> Line<'static> {
    let value = match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Line::from(vec![
        Span::styled(format!("  {key}: "), app.theme.accent()),
        Span::raw(truncate(&value, width)),
    ])
}

/// The last token changes of `name`, from the journal the app keeps.
fn push_history(app: &App, name: &str, lines: &mut Vec<Line<'static>>) {
    let theme = &app.theme;
    lines.push(Line::raw(""));
    let history = refresh_history(&app.journal, name, HISTORY_LEN);
    lines.push(Line::styled(
        format!("refresh history (last {HISTORY_LEN})"),
        theme.title(),
    ));
    if history.is_empty() {
        lines.push(Line::styled("  no authorize or refresh yet", theme.muted()));
    }
    for entry in history {
        let call = match entry.call {
            CallKind::Authorize => "authorize",
            CallKind::Refresh => "refresh",
            CallKind::System => "system",
        };
        let status = entry
            .status
            .map_or_else(|| "—".to_owned(), |s| s.to_string());
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {}  ", clock(entry.at, app.offset)),
                theme.muted(),
            ),
            Span::raw(format!("{call:<9} {status:>3}  ")),
            Span::styled(
                entry.verdict.kind.label(),
                theme.verdict(entry.verdict.class()),
            ),
            Span::styled(format!("  {}", ago(app.now, entry.at)), theme.muted()),
        ]));
    }
}

/// The whole token, wrapped, over `area`, while `v` reveals it.
pub fn render_reveal(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let Some((info, Some(token))) = app
        .selection()
        .map(|(info, s)| (info, s.and_then(|s| s.token.as_ref())))
    else {
        return;
    };
    let left = app
        .reveal_until
        .map(|until| countdown(until - app.now))
        .unwrap_or_default();
    // Full width, no side borders: a terminal selection of the lines then holds
    // only the token (Shift+drag while the mouse is captured).
    let width = area.width;
    let inner = usize::from(width).max(1);
    let text = token.token.expose();
    let rows = text.chars().count().div_ceil(inner);
    let height = u16::try_from(rows + 4).unwrap_or(u16::MAX).min(area.height);
    let popup = centered(area, width, height);
    let block = Block::default()
        .borders(Borders::TOP | Borders::BOTTOM)
        .border_style(theme.border(true))
        .title(Span::styled(
            format!(" Token of {}: any key hides it ", info.name),
            theme.title(),
        ));
    let lines = vec![
        Line::styled(
            format!("hidden in {left}; select it with the mouse (Shift+drag while mouse is on)"),
            theme.muted(),
        ),
        Line::raw(""),
        // Wrapped by characters: a JWT has no spaces to break at.
        Line::raw(text.to_owned()),
    ];
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::act::Verdict;
    use chrono::TimeZone as _;

    fn entry(connection: &str, call: CallKind, secs: i64) -> JournalEntry {
        JournalEntry {
            at: Utc.timestamp_opt(1_000_000 + secs, 0).unwrap(),
            connection: connection.into(),
            call,
            status: Some(200),
            reason: None,
            latency: std::time::Duration::from_millis(5),
            verdict: Verdict::ok(),
            meter: None,
            rule: "r".into(),
            url: String::new(),
            detail: crate::act::HttpDetail::default(),
        }
    }

    #[test]
    fn mask_keeps_eight_characters() {
        let token = Token::new("eyJhbGciOiJIUzI1NiJ9.payload.sig".into());
        assert_eq!(mask(&token), "eyJhbGci…");
    }

    #[test]
    fn history_keeps_this_connections_token_calls_newest_first() {
        let journal = [
            entry("a", CallKind::Refresh, 30),
            entry("b", CallKind::Refresh, 20),
            entry("a", CallKind::System, 15),
            entry("a", CallKind::Authorize, 10),
            entry("a", CallKind::Refresh, 5),
        ];
        let history = refresh_history(&journal, "a", 2);
        let seconds: Vec<i64> = history
            .iter()
            .map(|e| e.at.timestamp() - 1_000_000)
            .collect();
        assert_eq!(seconds, vec![30, 10]);
    }

    #[test]
    fn relative_says_in_or_ago() {
        let now = Utc.timestamp_opt(1_000_000, 0).unwrap();
        assert_eq!(relative(now, now + TimeDelta::minutes(42)), "in 42m 00s");
        assert_eq!(relative(now, now - TimeDelta::seconds(185)), "3m 05s ago");
    }
}
