//! The selected connection's session: token state, expiry, refresh plan, last
//! verdict, backoff, claims. Shows the token's fingerprint, never its text.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::App;
use super::app::ConnectionInfo;
use super::format::{ago, clock, countdown, fraction_used, truncate, until};
use super::meter_pane;
use super::widgets::{expires_in, labelled_bar, parse_color, state_badge};
use crate::act::ExpirySource;
use crate::session::{SessionSnapshot, SessionState, describe_skew};

/// Longest claim value shown before it is cut.
const CLAIM_VALUE_MAX: usize = 48;

/// Draws the session pane into `area`; `with_meter` adds the rate-limit line
/// (the compact layout has no separate meter pane).
pub fn render(app: &App, frame: &mut Frame, area: Rect, with_meter: bool) {
    let theme = &app.theme;
    let Some((info, snapshot)) = app.selection() else {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(app.focus == super::Pane::Inspector))
            .title(Span::styled(" Session ", theme.title()));
        let text = Line::styled("No connection selected.", theme.muted());
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    };

    let accent = info.color.as_deref().and_then(parse_color);
    let border = if app.focus == super::Pane::Inspector {
        theme.border(true)
    } else if accent.is_some() {
        theme.connection(accent)
    } else {
        theme.border(false)
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(
            format!(" Session: {} ", info.name),
            theme.title(),
        ));
    let mut lines = Vec::new();
    push_token(app, snapshot, area.width.saturating_sub(2), &mut lines);
    push_plan(app, snapshot, &mut lines);
    if with_meter {
        lines.push(meter_pane::summary_line(
            app,
            snapshot.and_then(|s| s.meter.as_ref()),
        ));
    }
    push_connection(app, info, snapshot, &mut lines);

    // Scrolls when focused (j/k); wrapped lines are not counted, so the last
    // line can be reached but never scrolled far past.
    let total = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let max_scroll = total.saturating_sub(area.height.saturating_sub(2));
    app.areas.inspector_max_scroll.set(max_scroll);
    let paragraph = Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((app.inspector_scroll.min(max_scroll), 0));
    frame.render_widget(paragraph, area);
}

/// Backoff countdown and a failing verdict with its meaning and next step.
fn push_trouble(app: &App, snapshot: &SessionSnapshot, lines: &mut Vec<Line<'static>>) {
    let theme = &app.theme;
    if let Some(skew) = snapshot.skew_warning() {
        lines.push(Line::styled(
            format!("{}: countdowns use the server's time", describe_skew(skew)),
            theme.warning(),
        ));
    }
    if let Some(at) = snapshot.held_until.filter(|at| *at > app.now) {
        lines.push(Line::styled(
            format!(
                "held: rate limit resets {} (press R to force)",
                until(app.now, at)
            ),
            theme.warning(),
        ));
    }
    if snapshot.state == SessionState::Backoff {
        let when = snapshot
            .retry_at
            .map_or_else(|| "soon".to_owned(), |at| until(app.now, at));
        lines.push(Line::styled(
            format!(
                "retrying {when} · {} failed attempt(s) in a row",
                snapshot.failures
            ),
            theme.warning(),
        ));
    }
    let Some(verdict) = snapshot.last_verdict.as_ref().filter(|v| !v.is_ok()) else {
        return;
    };
    let style = theme.verdict(verdict.class());
    lines.push(Line::from(vec![
        Span::styled(verdict.kind.label(), style),
        Span::raw(": "),
        Span::styled(verdict.kind.meaning(), style),
    ]));
    lines.push(Line::from(vec![
        Span::styled("next step: ", theme.muted()),
        Span::styled(verdict.kind.next_step(), style),
    ]));
    // What the server said comes last: the next step matters more when space is short.
    if let Some(detail) = &verdict.detail {
        lines.push(Line::styled(
            format!("seen: {}", truncate(detail, 150)),
            theme.muted(),
        ));
    }
}

/// Headline (state, countdown, fingerprint), trouble, lifetime gauge, assumed expiry.
fn push_token(
    app: &App,
    snapshot: Option<&SessionSnapshot>,
    inner_width: u16,
    lines: &mut Vec<Line<'static>>,
) {
    let theme = &app.theme;
    // Expiry and issue times are on the server's clock: count from its now.
    let now = snapshot.map_or(app.now, |s| s.server_now(app.now));
    let correction = snapshot
        .map(SessionSnapshot::clock_correction)
        .unwrap_or_default();
    let state = snapshot.map_or(SessionState::Idle, |s| s.state);
    let token = snapshot.and_then(|s| s.token.as_ref());

    let mut head = vec![state_badge(theme, state)];
    if let Some(token) = token {
        let expires_at = token.expiry.expires_at;
        head.push(expires_in(theme, expires_at, now));
        head.push(Span::styled(
            // On our wall clock.
            format!(" ({})", clock(expires_at - correction, app.offset)),
            theme.muted(),
        ));
        if token.expiry.source == ExpirySource::Assumed {
            head.push(Span::styled(" assumed", theme.warning()));
        }
        head.push(Span::styled(
            format!("   token #{}", token.token.fingerprint()),
            theme.muted(),
        ));
    }
    lines.push(Line::from(head));

    if let Some(snapshot) = snapshot {
        push_trouble(app, snapshot, lines);
    }

    let Some(token) = token else { return };
    let used = fraction_used(now, token.expiry.issued_at, token.expiry.expires_at);
    let label = format!(" {:>3.0}% of lifetime used", used * 100.0);
    lines.push(labelled_bar(theme, used, label, inner_width, 40));

    if token.expiry.source == ExpirySource::Assumed {
        let lifetime = countdown(token.expiry.expires_at - token.expiry.issued_at);
        lines.push(Line::styled(
            format!("expiry assumed: the token has no 'exp' claim ({lifetime} lifetime)"),
            theme.warning(),
        ));
    }
}

/// Next refresh, when the token was obtained, the last good exchange.
fn push_plan(app: &App, snapshot: Option<&SessionSnapshot>, lines: &mut Vec<Line<'static>>) {
    let theme = &app.theme;
    let now = app.now;
    let Some(snapshot) = snapshot else { return };
    if let Some(at) = snapshot.next_refresh_at {
        lines.push(Line::from(vec![
            Span::styled("next refresh ", theme.muted()),
            Span::raw(until(now, at)),
            Span::styled(format!(" ({})", clock(at, app.offset)), theme.muted()),
        ]));
    }
    if let Some(token) = &snapshot.token {
        lines.push(Line::from(vec![
            Span::styled("obtained ", theme.muted()),
            Span::raw(format!(
                "{} ({})",
                clock(token.obtained_at, app.offset),
                ago(now, token.obtained_at)
            )),
            Span::styled(" · tokens this session ", theme.muted()),
            Span::raw(snapshot.tokens_obtained.to_string()),
        ]));
    }
    if let Some(verdict) = snapshot.last_verdict.as_ref().filter(|v| v.is_ok()) {
        lines.push(Line::from(vec![
            Span::styled("last exchange ", theme.muted()),
            Span::styled(verdict.kind.label(), theme.ok()),
        ]));
    }
}

/// The connection's settings and the token's claims (never the token itself).
fn push_connection(
    app: &App,
    info: &ConnectionInfo,
    snapshot: Option<&SessionSnapshot>,
    lines: &mut Vec<Line<'static>>,
) {
    let theme = &app.theme;
    if info.plain_password {
        lines.push(Line::styled(
            "password: plain text in the file (prefer password_env or password_command)",
            theme.warning(),
        ));
    }
    if info.insecure_tls {
        lines.push(Line::styled(
            "TLS not verified: insecure_tls = true accepts any certificate",
            theme.danger(),
        ));
    }
    if info.plain_http_remote {
        lines.push(Line::styled(
            "http: password sent unencrypted (use https:// if the server offers it)",
            theme.warning(),
        ));
    }
    lines.push(Line::styled(
        format!("{} @ {} · db {}", info.user, info.url, info.database),
        theme.muted(),
    ));
    let mut labels = Vec::new();
    if !info.plain_password {
        labels.push(format!("password: {}", info.secret_kind));
    }
    if let Some(group) = &info.group {
        labels.push(format!("group: {group}"));
    }
    if info.autostart {
        labels.push("autostart".to_owned());
    }
    if !labels.is_empty() {
        lines.push(Line::styled(labels.join(" · "), theme.muted()));
    }
    if let Some(note) = &info.note {
        lines.push(Line::from(vec![
            Span::styled("note: ", theme.muted()),
            Span::raw(note.clone()),
        ]));
    }

    let Some(token) = snapshot.and_then(|s| s.token.as_ref()) else {
        return;
    };
    lines.push(Line::styled("claims", theme.muted()));
    for (key, value) in &token.claims.claims {
        let mut value = match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // Time claims are seconds since the epoch: say when that is.
        if let Some(at) = ["exp", "iat", "nbf"]
            .contains(&key.as_str())
            .then(|| {
                token
                    .claims
                    .claims
                    .get(key)
                    .and_then(serde_json::Value::as_i64)
            })
            .flatten()
            .and_then(|secs| chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0))
        {
            value = format!("{value} ({})", clock(at, app.offset));
        }
        lines.push(Line::from(vec![
            Span::styled(format!("  {key}: "), theme.accent()),
            Span::raw(truncate(&value, CLAIM_VALUE_MAX)),
        ]));
    }
}
