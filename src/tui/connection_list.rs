//! The connection list: name, group, database, state badge, time left; filtered
//! with `/`, sorted with `s`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use super::App;
use super::format::{countdown, countdown_short};
use super::widgets::{parse_color, state_badge, table_window};
use crate::session::{SessionSnapshot, SessionState};

/// After the name of a connection with `insecure_tls = true`, in the danger colour.
const INSECURE_MARK: &str = " TLS!";

/// After the name of a connection whose server clock is off beyond the warning threshold.
const CLOCK_MARK: &str = " clock";

/// Draws the list (or, with no connections, how to add one) into `area`.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let rows_shown = app.visible();
    let count = if app.filter_text().is_empty() {
        format!(" Connections ({}) ", app.connections.len())
    } else {
        format!(
            " Connections ({}/{}) ",
            rows_shown.len(),
            app.connections.len()
        )
    };
    let block = list_block(app, count);

    if app.connections.is_empty() {
        render_empty(app, frame, area, block);
        return;
    }
    if rows_shown.is_empty() {
        let lines = vec![Line::styled(
            format!("No connection matches \"{}\".", app.filter_text()),
            theme.muted(),
        )];
        frame.render_widget(Paragraph::new(lines).block(block), area);
        return;
    }

    let selected = rows_shown
        .iter()
        .position(|&i| Some(i) == app.selected_index());
    // Starting from the last frame's offset keeps the view still while the
    // selection moves inside it (and under a click); the table only scrolls
    // when the selection would leave the window.
    let (window, mut state) = table_window(
        &block,
        area,
        rows_shown.len(),
        app.areas.list_offset.get(),
        selected,
    );
    let show_group = app.connections.iter().any(|c| c.group.is_some());
    let rows = rows_shown[window.clone()].iter().map(|&index| {
        let info = &app.connections[index];
        let state = app.state_of(index);
        let snapshot = app.sessions[index].as_ref();
        let accent = theme.connection(info.color.as_deref().and_then(parse_color));
        let mut name = vec![Span::styled(info.name.clone(), accent)];
        if info.plain_password {
            name.push(Span::styled(" !", theme.warning()));
        }
        if info.insecure_tls {
            name.push(Span::styled(INSECURE_MARK, theme.danger()));
        }
        if snapshot.and_then(SessionSnapshot::skew_warning).is_some() {
            // The details pane says by how much.
            name.push(Span::styled(CLOCK_MARK, theme.warning()));
        }
        let mut cells = vec![Cell::from(Line::from(name))];
        if show_group {
            cells.push(Cell::from(Span::styled(
                info.group.clone().unwrap_or_default(),
                theme.muted(),
            )));
        }
        cells.extend([
            Cell::from(Span::styled(info.database.clone(), theme.muted())),
            Cell::from(state_badge(theme, state)),
            Cell::from(time_left(app, state, snapshot)),
        ]);
        Row::new(cells)
    });

    // Room for the longest name (plus the plain-password marker), group and
    // database; the spare width is shared between them.
    let widest = |f: fn(&super::app::ConnectionInfo) -> &str| {
        let max = app
            .connections
            .iter()
            .map(|c| f(c).chars().count())
            .max()
            .unwrap_or(0);
        u16::try_from(max).unwrap_or(u16::MAX)
    };
    let marks = marks_width(app);
    let name_width = widest(|c| c.name.as_str())
        .saturating_add(2 + marks)
        .min(24 + marks);
    let group_width = widest(|c| c.group.as_deref().unwrap_or("")).clamp(5, 14);
    let database_width = widest(|c| c.database.as_str()).min(24);
    let mut header = vec!["Name"];
    let mut widths = vec![Constraint::Min(name_width)];
    if show_group {
        header.push("Group");
        widths.push(Constraint::Max(group_width));
    }
    header.extend(["Database", "State", "Left"]);
    widths.extend([
        Constraint::Min(database_width),
        Constraint::Length(14),
        Constraint::Length(11),
    ]);
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.muted()))
        .block(block)
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶ ");

    frame.render_stateful_widget(table, area, &mut state);
    // The mouse maps a clicked row through the scroll offset the table chose.
    app.areas.list_offset.set(window.start + state.offset());
}

/// No connections yet: how to add one.
fn render_empty(app: &App, frame: &mut Frame, area: Rect, block: Block<'static>) {
    let theme = &app.theme;
    let path = app.config_path.as_ref().map_or_else(
        || "no connections file was found".to_owned(),
        |p| format!("file: {}", p.display()),
    );
    let mut lines = vec![Line::styled("No connections configured.", theme.warning())];
    if app.config_path.is_some() {
        lines.push(Line::from(vec![
            Span::raw("Press "),
            Span::styled("a", theme.key()),
            Span::raw(" to add one (or edit the file: the app picks up changes)."),
        ]));
    }
    lines.push(Line::styled(path, theme.muted()));
    lines.push(Line::from(vec![
        Span::raw("To try actsm against its built-in simulator, run "),
        Span::styled("actsm demo", theme.key()),
        Span::raw("."),
    ]));
    let paragraph = Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false });
    frame.render_widget(paragraph, area);
}

/// The list's frame: count, sort order and, while filtering, the filter.
fn list_block(app: &App, count: String) -> Block<'static> {
    let theme = &app.theme;
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(app.focus == super::Pane::List))
        .title(Span::styled(count, theme.title()));
    if app.connections.len() > 1 {
        block = block.title(
            Line::styled(format!(" sort: {} (s) ", app.sort().label()), theme.muted())
                .right_aligned(),
        );
    }
    if app.filter_typing || !app.filter_text().is_empty() {
        let cursor = if app.filter_typing { "▏" } else { "" };
        block = block.title_bottom(Line::from(vec![
            Span::styled(" /", theme.key()),
            Span::raw(format!("{}{cursor} ", app.filter_text())),
            Span::styled(
                if app.filter_typing {
                    "Enter keeps · Esc clears "
                } else {
                    "Esc clears "
                },
                theme.muted(),
            ),
        ]));
    }

    block
}

/// The "Left" column: the token's countdown, or why there is none.
fn time_left(
    app: &App,
    state: SessionState,
    snapshot: Option<&crate::session::SessionSnapshot>,
) -> Span<'static> {
    let theme = &app.theme;
    let token = snapshot.and_then(|s| s.token.as_ref());
    // Token expiry is on the server's clock.
    let server_now = snapshot.map_or(app.now, |s| s.server_now(app.now));
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
        (_, Some(token)) if token.expiry.expires_at <= server_now => {
            Span::styled("expired", theme.danger())
        }
        (_, Some(token)) => {
            let left = token.expiry.expires_at - server_now;
            let style = if left < chrono::Duration::minutes(5) {
                theme.warning()
            } else {
                theme.ok()
            };
            Span::styled(countdown_short(left), style)
        }
    }
}

/// The width the markers after names take at most: the name column keeps it
/// free so no marker is cut off.
fn marks_width(app: &App) -> u16 {
    let width = |mark: &str, shown: bool| {
        if shown {
            u16::try_from(mark.chars().count()).unwrap_or(0)
        } else {
            0
        }
    };
    let skewed = app
        .sessions
        .iter()
        .flatten()
        .any(|s| s.skew_warning().is_some());
    width(
        INSECURE_MARK,
        app.connections.iter().any(|c| c.insecure_tls),
    ) + width(CLOCK_MARK, skewed)
}
