//! The screen layout: which pane goes where at which terminal size.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::{
    App, connection_list, help_popup, journal_pane, meter_pane, popup, status_bar, token_pane,
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
        if area.width >= WIDE_MIN_WIDTH && area.height >= WIDE_MIN_HEIGHT {
            render_wide(self, frame, body);
        } else {
            render_compact(self, frame, body);
        }
        status_bar::render(self, frame, status);

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
    connection_list::render(app, frame, list);
    token_pane::render(app, frame, session, false);
    meter_pane::render(app, frame, meter);
    journal_pane::render(app, frame, journal, true);
}

/// List, session (with a meter line) and a short journal, stacked.
fn render_compact(app: &App, frame: &mut Frame, area: Rect) {
    #[allow(clippy::cast_possible_truncation)] // clamped to a handful of rows
    let list_height = if app.connections.is_empty() {
        8
    } else {
        app.visible().len().clamp(1, 5) as u16 + 3
    };
    let journal_height = if area.height >= 20 { 6 } else { 4 };
    let [list, session, journal] = Layout::vertical([
        Constraint::Length(list_height),
        Constraint::Min(5),
        Constraint::Length(journal_height),
    ])
    .areas(area);
    connection_list::render(app, frame, list);
    token_pane::render(app, frame, session, true);
    journal_pane::render(app, frame, journal, false);
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
