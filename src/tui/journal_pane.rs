//! The journal: every auth exchange, newest at the top.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};

use super::App;
use super::format::clock;
use crate::act::CallKind;

/// The word for a call.
fn call_label(call: CallKind) -> &'static str {
    match call {
        CallKind::Authorize => "authorize",
        CallKind::Refresh => "refresh",
        CallKind::System => "system",
    }
}

/// Draws the journal into `area`; `wide` adds the rule column.
pub fn render(app: &App, frame: &mut Frame, area: Rect, wide: bool) {
    let theme = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(app.focus == super::Pane::Journal))
        .title(Span::styled(
            format!(" Journal ({}) ", app.journal.len()),
            theme.title(),
        ));

    if app.journal.is_empty() {
        let text = if app.connections.is_empty() {
            "No exchanges yet."
        } else {
            "No exchanges yet: Enter starts the selected connection, A starts all."
        };
        let text = Line::styled(text, theme.muted());
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }

    let rows = app.journal.iter().map(|entry| {
        let style = theme.verdict(entry.verdict.class());
        let status = entry
            .status
            .map_or_else(|| "—".to_owned(), |s| s.to_string());
        let mut cells = vec![
            Cell::from(Span::styled(clock(entry.at, app.offset), theme.muted())),
            Cell::from(entry.connection.clone()),
            Cell::from(call_label(entry.call)),
            Cell::from(Span::styled(status, style)),
            Cell::from(format!("{} ms", entry.latency.as_millis())),
            Cell::from(Line::from(vec![
                Span::styled(entry.verdict.kind.label(), style),
                Span::styled(format!(" {}", entry.verdict.kind.meaning()), theme.muted()),
            ])),
        ];
        if wide {
            cells.push(Cell::from(Span::styled(entry.rule.clone(), theme.muted())));
        }
        Row::new(cells)
    });

    let mut widths = vec![
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Fill(1),
    ];
    let mut header = vec!["Time", "Connection", "Call", "Status", "Latency", "Verdict"];
    if wide {
        widths.push(Constraint::Length(24));
        header.push("Rule");
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.muted()))
        .block(block)
        .row_highlight_style(theme.selected());
    // The highlight (j/k while focused, or a click) scrolls the table; the mouse maps
    // a clicked row through the offset the table chose.
    let mut state = TableState::default().with_selected(app.journal_selected);
    frame.render_stateful_widget(table, area, &mut state);
    app.areas.journal_offset.set(state.offset());
}
