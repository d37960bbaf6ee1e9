//! The screen layout: which pane goes where at which terminal size.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::focus::Pane;
use super::{
    App, connection_list, help_popup, inspector, journal_pane, meter_pane, popup, status_bar,
    token_pane,
};

/// The smallest terminal the UI draws in.
pub const MIN_WIDTH: u16 = 60;
/// The smallest terminal height the UI draws in.
pub const MIN_HEIGHT: u16 = 15;
/// From this width (and [`WIDE_MIN_HEIGHT`]) the panes sit side by side.
pub const WIDE_MIN_WIDTH: u16 = 120;
/// From this height (and [`WIDE_MIN_WIDTH`]) the panes sit side by side.
pub const WIDE_MIN_HEIGHT: u16 = 30;

impl App {
    /// Draws the whole screen. Reads state, changes nothing.
    pub fn render(&self, frame: &mut Frame) {
        let area = frame.area();
        self.areas.clear();
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            render_too_small(self, frame, area);
            return;
        }

        let [header, body, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(1),
        ])
        .areas(area);
        status_bar::render_header(self, frame, header);
        let wide = area.width >= WIDE_MIN_WIDTH && area.height >= WIDE_MIN_HEIGHT;
        match (self.inspector_open, wide) {
            (true, true) => render_wide_inspector(self, frame, body),
            (true, false) => {
                self.areas.set(Pane::Inspector, body);
                inspector::render(self, frame, body);
            }
            (false, true) => render_wide(self, frame, body),
            (false, false) => render_compact(self, frame, body),
        }
        status_bar::render(self, frame, status);
        if self.reveal_until.is_some() {
            inspector::render_reveal(self, frame, body);
        }

        // Popups, bottom to top (the key handling is modal in the reverse order).
        if let Some(form) = &self.form {
            form.render(&self.theme, frame, body);
        }
        if let Some(name) = &self.confirm_delete {
            popup::render_confirm_delete(&self.theme, frame, body, name);
        }
        if let Some(detail) = &self.journal_detail {
            journal_pane::render_detail(self, frame, body, detail);
        }
        if self.help_open {
            help_popup::render(self, frame, body);
        }
        if let Some(notice) = &self.notice {
            popup::render_notice(&self.theme, frame, body, notice);
        }
        if let Some(prompt) = &self.prompt {
            popup::render_prompt(&self.theme, frame, body, prompt);
        }
    }
}

/// List | session on top, meter | journal below.
fn render_wide(app: &App, frame: &mut Frame, area: Rect) {
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Fill(1)]).areas(area);
    let [list, session] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Fill(1)]).areas(top);
    let [meter, journal] =
        Layout::horizontal([Constraint::Length(48), Constraint::Fill(1)]).areas(bottom);
    record(
        app,
        [
            (Pane::List, list),
            (Pane::Inspector, session),
            (Pane::Meter, meter),
            (Pane::Journal, journal),
        ],
    );
    connection_list::render(app, frame, list);
    token_pane::render(app, frame, session, false);
    meter_pane::render(app, frame, meter);
    journal_pane::render(app, frame, journal, true);
}

/// The list beside the full inspector.
fn render_wide_inspector(app: &App, frame: &mut Frame, area: Rect) {
    let [list, inspector] =
        Layout::horizontal([Constraint::Percentage(35), Constraint::Fill(1)]).areas(area);
    record(app, [(Pane::List, list), (Pane::Inspector, inspector)]);
    connection_list::render(app, frame, list);
    inspector::render(app, frame, inspector);
}

/// Remembers where the panes go, for the mouse and for `Tab`.
fn record<const N: usize>(app: &App, panes: [(Pane, Rect); N]) {
    for (pane, area) in panes {
        app.areas.set(pane, area);
    }
}

/// Below this body height the compact layout leaves the journal out: a journal of
/// one or two rows next to a cut-off session pane helps nobody (Tab skips it).
const COMPACT_JOURNAL_MIN_BODY: u16 = 18;

/// List, session (with a meter line) and a short journal, stacked.
fn render_compact(app: &App, frame: &mut Frame, area: Rect) {
    let with_journal = area.height >= COMPACT_JOURNAL_MIN_BODY;
    // Short terminals show fewer list rows (the list scrolls with the selection).
    let max_rows = if with_journal { 5 } else { 3 };
    #[allow(clippy::cast_possible_truncation)] // clamped to a handful of rows
    let list_height = if app.connections.is_empty() {
        8
    } else {
        app.visible().len().clamp(1, max_rows) as u16 + 3
    };
    let journal_height = match area.height {
        h if h >= 26 => 8,
        h if h >= COMPACT_JOURNAL_MIN_BODY => 6,
        _ => 0,
    };
    let [list, session, journal] = Layout::vertical([
        Constraint::Length(list_height),
        Constraint::Min(5),
        Constraint::Length(journal_height),
    ])
    .areas(area);
    record(app, [(Pane::List, list), (Pane::Inspector, session)]);
    connection_list::render(app, frame, list);
    token_pane::render(app, frame, session, true);
    if with_journal {
        app.areas.set(Pane::Journal, journal);
        journal_pane::render(app, frame, journal, false);
    }
}

/// A clear message instead of a garbled layout.
fn render_too_small(app: &App, frame: &mut Frame, area: Rect) {
    let lines = vec![
        Line::styled(
            format!("terminal too small (need {MIN_WIDTH}x{MIN_HEIGHT})"),
            app.theme.warning(),
        ),
        Line::styled(
            format!("now {}x{}: enlarge it, or q quits", area.width, area.height),
            app.theme.muted(),
        ),
    ];
    let [middle] = Layout::vertical([Constraint::Length(2)])
        .flex(Flex::Center)
        .areas(area);
    frame.render_widget(
        Paragraph::new(lines).centered().wrap(Wrap { trim: true }),
        middle,
    );
}
