//! Pane focus (`Tab`/`Shift-Tab`), the pane areas of the last frame and the mouse:
//! a click selects a row and focuses its pane, the wheel scrolls the pane under the
//! pointer. Everything here also works from the keyboard.

use std::cell::Cell;

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::App;

/// A pane that can hold the focus; keys such as `j`/`k` act on the focused one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    /// The connection list.
    #[default]
    List,
    /// The session pane, or the full token inspector (`i`).
    Inspector,
    /// The rate-limit meter (shown on wide terminals only).
    Meter,
    /// The journal of exchanges.
    Journal,
}

impl Pane {
    /// Every pane, in `Tab` order.
    pub const ALL: [Pane; 4] = [Pane::List, Pane::Inspector, Pane::Meter, Pane::Journal];

    /// The word for the pane, for the status bar.
    pub fn label(self) -> &'static str {
        match self {
            Pane::List => "connections",
            Pane::Inspector => "session",
            Pane::Meter => "rate limit",
            Pane::Journal => "journal",
        }
    }
}

/// Where each pane was drawn in the last frame (`None`: not shown), so `update`
/// can hit-test mouse events without knowing the layout rules.
///
/// Set during `render` (which only reads the app otherwise): interior
/// mutability keeps `render(&self)`.
#[derive(Debug, Default)]
pub struct PaneAreas {
    /// The connection list.
    pub list: Cell<Option<Rect>>,
    /// The session pane or the full inspector.
    pub inspector: Cell<Option<Rect>>,
    /// The meter pane.
    pub meter: Cell<Option<Rect>>,
    /// The journal.
    pub journal: Cell<Option<Rect>>,
    /// The first list row shown (the table scrolls to keep the selection visible).
    pub list_offset: Cell<usize>,
    /// The first journal entry shown.
    pub journal_offset: Cell<usize>,
    /// How far the inspector can scroll (its lines past the visible height).
    pub inspector_max_scroll: Cell<u16>,
}

impl PaneAreas {
    /// Forgets every area (the start of a frame).
    pub fn clear(&self) {
        for cell in [&self.list, &self.inspector, &self.meter, &self.journal] {
            cell.set(None);
        }
    }

    /// The area of `pane` in the last frame.
    pub fn get(&self, pane: Pane) -> Option<Rect> {
        match pane {
            Pane::List => self.list.get(),
            Pane::Inspector => self.inspector.get(),
            Pane::Meter => self.meter.get(),
            Pane::Journal => self.journal.get(),
        }
    }

    /// Records the area of `pane`.
    pub fn set(&self, pane: Pane, area: Rect) {
        match pane {
            Pane::List => self.list.set(Some(area)),
            Pane::Inspector => self.inspector.set(Some(area)),
            Pane::Meter => self.meter.set(Some(area)),
            Pane::Journal => self.journal.set(Some(area)),
        }
    }

    /// The pane drawn at `(column, row)`, if any.
    pub fn hit(&self, column: u16, row: u16) -> Option<Pane> {
        let at = Position::new(column, row);
        Pane::ALL
            .into_iter()
            .find(|&pane| self.get(pane).is_some_and(|area| area.contains(at)))
    }

    /// The panes shown in the last frame, in `Tab` order.
    pub fn shown(&self) -> Vec<Pane> {
        Pane::ALL
            .into_iter()
            .filter(|&pane| self.get(pane).is_some())
            .collect()
    }
}

/// The data row under screen row `row` of a bordered table with one header row
/// drawn in `area`, scrolled by `offset`; `None` on the border or the header.
fn table_row(area: Rect, row: u16, offset: usize) -> Option<usize> {
    // Border, then the header row.
    let first = area.y.checked_add(2)?;
    let last = area.bottom().checked_sub(1)?; // the bottom border
    (row >= first && row < last).then(|| usize::from(row - first) + offset)
}

/// Lines a wheel notch scrolls.
const WHEEL_LINES: usize = 3;

impl App {
    /// The pane keys act on.
    pub fn focus(&self) -> Pane {
        self.focus
    }

    /// Moves the focus to the next (`forward`) or previous pane shown.
    pub(crate) fn cycle_focus(&mut self, forward: bool) {
        let mut shown = self.areas.shown();
        if shown.is_empty() {
            // Nothing drawn yet: the compact layout's panes.
            shown = vec![Pane::List, Pane::Inspector, Pane::Journal];
        }
        let at = shown.iter().position(|&p| p == self.focus);
        let next = match (at, forward) {
            (None, _) => 0,
            (Some(i), true) => (i + 1) % shown.len(),
            (Some(i), false) => (i + shown.len() - 1) % shown.len(),
        };
        self.focus = shown[next];
    }

    /// The highlighted journal entry (index into the visible, filtered entries,
    /// newest first), if any entry is shown.
    pub fn journal_selected(&self) -> Option<usize> {
        (!self.visible_journal().is_empty()).then_some(self.journal_view.selected)
    }

    /// Scrolls the inspector by `delta` lines.
    pub(crate) fn scroll_inspector(&mut self, delta: isize) {
        let to = usize::from(self.inspector_scroll).saturating_add_signed(delta);
        self.inspector_scroll = u16::try_from(to)
            .unwrap_or(u16::MAX)
            .min(self.areas.inspector_max_scroll.get());
    }

    /// A mouse event: clicks select and focus, the wheel scrolls the pane under
    /// the pointer. Ignored while a popup or the help is up (they are modal).
    pub(crate) fn on_mouse(&mut self, event: MouseEvent) {
        if self.reveal_until.take().is_some() {
            // Like any key, a click hides the revealed token.
            return;
        }
        if self.form.is_some()
            || self.prompt.is_some()
            || self.notice.is_some()
            || self.confirm_delete.is_some()
            || self.help_open
        {
            return;
        }
        let Some(pane) = self.areas.hit(event.column, event.row) else {
            return;
        };
        let step = |down: bool| -> isize {
            let lines = isize::try_from(WHEEL_LINES).unwrap_or(1);
            if down { lines } else { -lines }
        };
        match event.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = pane;
                self.click_row(pane, event.row);
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let down = event.kind == MouseEventKind::ScrollDown;
                match pane {
                    Pane::List | Pane::Meter => {
                        if down {
                            self.move_selection(|at, _| at.map_or(0, |i| i + 1));
                        } else {
                            self.move_selection(|at, _| at.map_or(0, |i| i.saturating_sub(1)));
                        }
                    }
                    Pane::Inspector => self.scroll_inspector(step(down)),
                    Pane::Journal => self.scroll_journal(step(down)),
                }
            }
            _ => {}
        }
    }

    /// A click on screen row `row` of `pane`: selects the connection or journal
    /// entry drawn there.
    fn click_row(&mut self, pane: Pane, row: u16) {
        let Some(area) = self.areas.get(pane) else {
            return;
        };
        match pane {
            Pane::List => {
                let rows = self.visible();
                if let Some(&index) =
                    table_row(area, row, self.areas.list_offset.get()).and_then(|at| rows.get(at))
                {
                    if index != self.selected {
                        self.reset_inspector();
                    }
                    self.selected = index;
                }
            }
            Pane::Journal => {
                if let Some(at) = table_row(area, row, self.areas.journal_offset.get())
                    .filter(|&at| at < self.visible_journal_len())
                {
                    self.journal_view.selected = at;
                }
            }
            Pane::Inspector | Pane::Meter => {}
        }
    }

    /// A new connection's inspector starts at the top.
    pub(crate) fn reset_inspector(&mut self) {
        self.inspector_scroll = 0;
        self.reveal_until = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_skip_border_and_header_and_follow_the_offset() {
        let area = Rect::new(0, 5, 40, 6); // rows 5..11: border 5, header 6, data 7..10, border 10
        assert_eq!(table_row(area, 5, 0), None);
        assert_eq!(table_row(area, 6, 0), None);
        assert_eq!(table_row(area, 7, 0), Some(0));
        assert_eq!(table_row(area, 9, 0), Some(2));
        assert_eq!(table_row(area, 10, 0), None);
        assert_eq!(table_row(area, 8, 4), Some(5));
    }

    #[test]
    fn hit_finds_the_pane_under_the_pointer() {
        let areas = PaneAreas::default();
        areas.set(Pane::List, Rect::new(0, 0, 10, 5));
        areas.set(Pane::Journal, Rect::new(0, 5, 10, 5));
        assert_eq!(areas.hit(3, 2), Some(Pane::List));
        assert_eq!(areas.hit(3, 7), Some(Pane::Journal));
        assert_eq!(areas.hit(30, 7), None);
        assert_eq!(areas.shown(), vec![Pane::List, Pane::Journal]);
        areas.clear();
        assert!(areas.shown().is_empty());
    }
}
