//! The connection list: name, database, state badge, time left.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

use super::App;
use super::format::countdown;
use super::widgets::state_badge;
use crate::session::SessionState;

/// Draws the list (or, with no connections, how to add one) into `area`.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(
            format!(" Connections ({}) ", app.connections.len()),
            theme.title(),
        ));

    if app.connections.is_empty() {
        let path = app.config_path.as_ref().map_or_else(
            || "no connections file was found".to_owned(),
            |p| format!("looked in {}", p.display()),
        );
        let lines = vec![
            Line::styled("No connections configured.", theme.warning()),
            Line::styled(path, theme.muted()),
            Line::from(vec![
                Span::raw("Add a [[connection]] block to that file (see the README), or run "),
                Span::styled("actsm demo", theme.key()),
                Span::raw(" to try actsm against its built-in simulator."),
            ]),
        ];
        let paragraph = Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false });
        frame.render_widget(paragraph, area);
        return;
    }

    let rows = app.connections.iter().enumerate().map(|(index, info)| {
        let state = app.state_of(index);
        let snapshot = app.sessions[index].as_ref();
        let mut name = vec![Span::raw(info.name.clone())];
        if info.plain_password {
            name.push(Span::styled(" !", theme.warning()));
        }
        Row::new(vec![
            Cell::from(Line::from(name)),
            Cell::from(Span::styled(info.database.clone(), theme.muted())),
            Cell::from(state_badge(theme, state)),
            Cell::from(time_left(app, state, snapshot)),
        ])
    });

    // Room for the longest name (plus the plain-password marker) and database; the
    // spare width is shared between the two.
    let widest = |f: fn(&super::app::ConnectionInfo) -> &str| {
        let max = app
            .connections
            .iter()
            .map(|c| f(c).chars().count())
            .max()
            .unwrap_or(0);
        u16::try_from(max).unwrap_or(u16::MAX)
    };
    let name_width = widest(|c| c.name.as_str()).saturating_add(2).min(24);
    let database_width = widest(|c| c.database.as_str()).min(24);
    let header = Row::new(["Name", "Database", "State", "Left"]).style(theme.muted());
    let table = Table::new(
        rows,
        [
            Constraint::Min(name_width),
            Constraint::Min(database_width),
            Constraint::Length(14),
            Constraint::Length(11),
        ],
    )
    .header(header)
    .block(block)
    .row_highlight_style(theme.selected())
    .highlight_symbol("▶ ");

    let mut state = TableState::default().with_selected(Some(app.selected));
    frame.render_stateful_widget(table, area, &mut state);
}

/// The "Left" column: the token's countdown, or why there is none.
fn time_left(
    app: &App,
    state: SessionState,
    snapshot: Option<&crate::session::SessionSnapshot>,
) -> Span<'static> {
    let theme = &app.theme;
    let token = snapshot.and_then(|s| s.token.as_ref());
    match (state, token) {
        (SessionState::Failed, _) => Span::styled("failed", theme.danger()),
        (SessionState::Backoff, _) => match snapshot.and_then(|s| s.retry_at) {
            Some(at) if at > app.now => Span::styled(
                format!("retry {}", countdown(at - app.now)),
                theme.warning(),
            ),
            _ => Span::styled("retrying", theme.warning()),
        },
        (SessionState::Idle | SessionState::Stopped, _) | (_, None) => {
            Span::styled("—", theme.muted())
        }
        (_, Some(token)) if token.expiry.expires_at <= app.now => {
            Span::styled("expired", theme.danger())
        }
        (_, Some(token)) => {
            let left = token.expiry.expires_at - app.now;
            let style = if left < chrono::Duration::minutes(5) {
                theme.warning()
            } else {
                theme.ok()
            };
            Span::styled(countdown(left), style)
        }
    }
}
