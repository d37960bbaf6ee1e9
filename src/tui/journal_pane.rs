//! The journal: every auth exchange, newest at the top; scrollable when focused,
//! filtered by connection and outcome, with a detail popup for one entry.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

use super::App;
use super::form::centered;
use super::format::clock;
use super::widgets::table_window;
use crate::act::CallKind;
use crate::journal::JournalEntry;

/// Rows moved by `PgUp` / `PgDn`.
pub const PAGE: isize = 10;

/// The journal pane's own state: which row is selected and which filters apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalView {
    /// The selected row among the visible (filtered) entries; 0 is the newest.
    pub selected: usize,
    /// `f`: only entries of the selected connection.
    pub only_selected_connection: bool,
    /// `F`: only failures (every outcome but success).
    pub failures_only: bool,
}

impl JournalView {
    /// Moves the selection by `delta` rows (negative is newer), kept within `len` rows.
    pub fn scroll(&mut self, delta: isize, len: usize) {
        let last = len.saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// Selects the newest row.
    pub fn home(&mut self) {
        self.selected = 0;
    }

    /// Selects the oldest of `len` rows.
    pub fn end(&mut self, len: usize) {
        self.selected = len.saturating_sub(1);
    }

    /// The filters in words, for the pane title (empty when none applies).
    pub fn filter_label(&self, connection: Option<&str>) -> String {
        let mut parts = Vec::new();
        if self.only_selected_connection {
            parts.push(format!("only {}", connection.unwrap_or("(none selected)")));
        }
        if self.failures_only {
            parts.push("failures only".to_owned());
        }
        parts.join(" · ")
    }
}

/// The detail popup of one entry.
#[derive(Debug, Clone)]
pub struct JournalDetail {
    /// The entry shown (a copy: the journal may move on underneath).
    pub entry: JournalEntry,
    /// Lines scrolled off the top.
    pub scroll: u16,
}

/// The word for a call.
pub fn call_label(call: CallKind) -> &'static str {
    match call {
        CallKind::Authorize => "authorize",
        CallKind::Refresh => "refresh",
        CallKind::System => "system",
    }
}

/// Draws the journal into `area`; `wide` adds the rule column.
pub fn render(app: &App, frame: &mut Frame, area: Rect, wide: bool) {
    let theme = &app.theme;
    let focused = app.journal_focused();
    let visible = app.visible_journal();
    let filters = app.journal_view.filter_label(app.selected_name());
    let count = if filters.is_empty() {
        format!("{}", app.journal.len())
    } else {
        format!("{} of {} · {filters}", visible.len(), app.journal.len())
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(format!(" Journal ({count}) "), theme.title()));

    if visible.is_empty() {
        let text = if !app.journal.is_empty() {
            "No entries match the filters: f / F toggle them."
        } else if app.connections.is_empty() {
            "No exchanges yet."
        } else {
            "No exchanges yet: Enter starts the selected connection, A starts all."
        };
        let text = Line::styled(text, theme.muted());
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }

    // The selection shows (and scrolls the table) only while the journal has focus.
    let selected = focused.then_some(app.journal_view.selected.min(visible.len() - 1));
    let (window, mut state) = table_window(
        &block,
        area,
        visible.len(),
        app.areas.journal_offset.get(),
        selected,
    );
    let rows = visible[window.clone()].iter().map(|entry| {
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
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶")
        .block(block);
    frame.render_stateful_widget(table, area, &mut state);
    // The mouse maps a clicked row through the offset the table chose.
    app.areas.journal_offset.set(window.start + state.offset());
}

/// A label and a value on one line.
fn field<'a>(app: &App, label: &str, value: impl Into<String>) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:>10}  "), app.theme.muted()),
        Span::raw(value.into()),
    ])
}

/// The detail popup's lines for `entry`.
pub fn detail_lines(app: &App, entry: &JournalEntry) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let at = entry.at.with_timezone(&app.offset);
    let mut lines = vec![
        field(
            app,
            "time",
            at.format("%Y-%m-%d %H:%M:%S%.3f %:z").to_string(),
        ),
        field(app, "connection", entry.connection.clone()),
        field(app, "call", call_label(entry.call)),
        field(app, "rule", entry.rule.clone()),
    ];

    lines.push(Line::raw(""));
    let request = entry.request_line();
    lines.push(Line::styled("Request", theme.title()));
    if request.is_empty() {
        lines.push(field(app, "", "no request was sent"));
    } else {
        lines.push(field(app, "", request));
    }
    for (name, value) in &entry.detail.request_headers {
        lines.push(field(app, "", format!("{name}: {value}")));
    }

    lines.push(Line::raw(""));
    lines.push(Line::styled("Response", theme.title()));
    let status = match (entry.status, &entry.reason) {
        (Some(status), Some(reason)) => format!("{status} {reason}"),
        (Some(status), None) => status.to_string(),
        (None, _) => "no response".to_owned(),
    };
    lines.push(field(app, "status", status));
    lines.push(field(
        app,
        "latency",
        format!("{} ms", entry.latency.as_millis()),
    ));
    for (name, value) in &entry.detail.response_headers {
        lines.push(field(app, "", format!("{name}: {value}")));
    }
    if let Some(body) = &entry.detail.body_excerpt {
        lines.push(field(app, "body", body.clone()));
    }

    lines.push(Line::raw(""));
    let style = theme.verdict(entry.verdict.class());
    lines.push(Line::from(vec![
        Span::styled(format!("{:>10}  ", "verdict"), theme.muted()),
        Span::styled(entry.verdict.kind.label(), style),
        Span::raw(format!(" {}", entry.verdict.kind.meaning())),
    ]));
    if let Some(detail) = &entry.verdict.detail {
        lines.push(field(app, "detail", detail.clone()));
    }
    let meter = entry.meter.map_or_else(
        || "no rate-limit headers".to_owned(),
        |m| {
            let number = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
            let reset = m.reset_at.map_or_else(String::new, |at| {
                format!(", resets {}", clock(at, app.offset))
            });
            format!("{} of {} left{reset}", number(m.remaining), number(m.limit))
        },
    );
    lines.push(field(app, "meter", meter));
    lines
}

/// Draws the detail popup of the open entry over `area`.
pub fn render_detail(app: &App, frame: &mut Frame, area: Rect, detail: &JournalDetail) {
    let theme = &app.theme;
    let width = area
        .width
        .min(100.max(area.width.saturating_mul(3) / 4))
        .min(140);
    let height = area.height;
    let popup = centered(area, width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(
            " Journal entry: ↑↓ scroll, Esc closes ",
            theme.title(),
        ));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(detail_lines(app, &detail.entry))
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((detail.scroll, 0)),
        popup,
    );
}
