//! Small pieces shared by the panes: state badges, text gauges, verdict colours.

use std::ops::Range;

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, TableState};

use super::format::countdown;
use super::theme::Theme;
use crate::session::SessionState;

/// The word shown for a session state.
pub fn state_label(state: SessionState) -> &'static str {
    match state {
        SessionState::Idle => "idle",
        SessionState::Authorizing => "authorizing…",
        SessionState::Refreshing => "refreshing…",
        SessionState::Valid => "valid",
        SessionState::Backoff => "backoff",
        SessionState::Failed => "failed",
        SessionState::Stopped => "stopped",
    }
}

/// A state badge: a dot and the state's word, in the state's style.
pub fn state_badge(theme: &Theme, state: SessionState) -> Span<'static> {
    Span::styled(format!("● {}", state_label(state)), theme.state(state))
}

/// A one-line gauge `━━━━────` of `width` cells with `ratio` (0..=1) filled.
pub fn bar(theme: &Theme, ratio: f64, width: u16) -> Vec<Span<'static>> {
    let width = usize::from(width);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )] // clamped to 0..=width
    let filled = ((ratio.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
    vec![
        Span::styled("━".repeat(filled), theme.gauge()),
        Span::styled("─".repeat(width - filled), theme.gauge_empty()),
    ]
}

/// `"   expires in 1h 04m 12s"`, or `"   token expired"` in the danger style,
/// counted from `now` (the server's clock when the token's times are).
pub fn expires_in(theme: &Theme, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Span<'static> {
    if expires_at > now {
        Span::raw(format!("   expires in {}", countdown(expires_at - now)))
    } else {
        Span::styled("   token expired", theme.danger())
    }
}

/// A gauge followed by its muted `label`; the bar takes the width the label
/// leaves of `width`, at most `max_bar` cells.
pub fn labelled_bar(
    theme: &Theme,
    ratio: f64,
    label: String,
    width: u16,
    max_bar: u16,
) -> Line<'static> {
    let label_width = u16::try_from(label.chars().count()).unwrap_or(u16::MAX);
    let mut spans = bar(theme, ratio, width.saturating_sub(label_width).min(max_bar));
    spans.push(Span::styled(label, theme.muted()));
    Line::from(spans)
}

/// The ratatui colour for a connection's `color` setting: a named ANSI colour
/// (`"red"`, `"lightblue"`, `"grey"`, ...) or `"#rrggbb"`; `None` when it is neither.
pub fn parse_color(text: &str) -> Option<Color> {
    let t = text.trim().to_ascii_lowercase();
    if let Some(hex) = t.strip_prefix('#') {
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).ok();
        return Some(Color::Rgb(byte(0)?, byte(2)?, byte(4)?));
    }
    Some(match t.replace(['_', '-', ' '], "").as_str() {
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "white" => Color::White,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        _ => return None,
    })
}

/// Which rows of a table of one-line rows (under a one-line header, inside
/// `block`) a frame shows, and the state to draw just those rows with.
///
/// The journal holds thousands of entries and the list a thousand connections,
/// but a frame shows a few dozen: building a `Row` (formatted times, cloned
/// names) for every one of them cost tens of milliseconds a frame. This picks
/// the rows as ratatui's `Table` would from `offset` (the last frame's scroll)
/// and `selected` (an index among all `len` rows): keep the selection in view,
/// otherwise stay still; but never leave empty rows under the last one while
/// rows above are hidden. Build `rows[range]` only, draw them with the
/// returned state, then keep `range.start + state.offset()` as the next offset.
pub fn table_window(
    block: &Block,
    area: Rect,
    len: usize,
    offset: usize,
    selected: Option<usize>,
) -> (Range<usize>, TableState) {
    let inner = block.inner(area);
    // Nothing to draw rows into (or no rows): the table leaves its offset alone.
    if inner.is_empty() || len == 0 {
        return (0..0, TableState::default().with_offset(offset));
    }
    let height = usize::from(inner.height.saturating_sub(TABLE_HEADER_ROWS));
    let last = len - 1;
    let selected = selected.map(|s| s.min(last));

    // ratatui's `Table::visible_rows` for rows of height 1: fill from the
    // offset (moved up to the selection), then scroll down to the selection.
    // One difference: the window never ends in empty rows while rows above it
    // are hidden, as it would after the terminal grew taller at the end of the
    // journal; it moves up to fill the space instead.
    let mut start = offset.min(len.saturating_sub(height.max(1)));
    if let Some(selected) = selected {
        start = start.min(selected);
    }
    let mut end = (start + height).min(len);
    if let Some(selected) = selected
        && selected >= end
    {
        end = selected + 1;
        // With no room at all ratatui scrolls past the selection: drawing that
        // one row moves the returned state's offset on by one, as it should.
        start = end.saturating_sub(height.max(1));
    }

    let state = TableState::default().with_selected(selected.map(|s| s - start));
    (start..end, state)
}

/// The header rows of the list and journal tables.
const TABLE_HEADER_ROWS: u16 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_parse_by_name_and_hex() {
        assert_eq!(parse_color("Red"), Some(Color::Red));
        assert_eq!(parse_color("lightblue"), Some(Color::LightBlue));
        assert_eq!(parse_color("darkgrey"), Some(Color::DarkGray));
        assert_eq!(parse_color("#ff8000"), Some(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_color("#ff80"), None);
        assert_eq!(parse_color("chartreuse"), None);
    }

    #[test]
    fn every_color_the_loader_accepts_parses() {
        for name in crate::config::NAMED_COLORS {
            assert!(parse_color(name).is_some(), "{name}");
        }
    }

    /// A table like the list's and the journal's: a bordered block, a
    /// one-line header, one-line rows numbered by their index.
    fn table(rows: impl IntoIterator<Item = usize>) -> ratatui::widgets::Table<'static> {
        use ratatui::layout::Constraint;
        use ratatui::widgets::{Borders, Row, Table};

        Table::new(
            rows.into_iter()
                .map(|i| Row::new([format!("row {i}"), "x".to_owned()])),
            [Constraint::Length(8), Constraint::Fill(1)],
        )
        .header(Row::new(["Name", "Other"]))
        .block(Block::default().borders(Borders::ALL))
        .row_highlight_style(ratatui::style::Style::new().reversed())
        .highlight_symbol("▶ ")
    }

    #[test]
    fn a_window_draws_what_the_whole_table_draws() {
        use ratatui::buffer::Buffer;
        use ratatui::widgets::{Borders, StatefulWidget as _};

        let block = Block::default().borders(Borders::ALL);
        let mut cases = 0;
        for height in 0..=9_u16 {
            let area = Rect::new(0, 0, 24, height);
            for len in 0..=12_usize {
                for offset in 0..=14 {
                    for selected in std::iter::once(None).chain((0..=len + 2).map(Some)) {
                        // The whole table, as the panes drew it before, from the offset
                        // moved up so that no empty rows follow the last one.
                        let rows_in_view = usize::from(height.saturating_sub(3)).max(1);
                        let filled = if height > 2 && len > 0 {
                            offset.min(len.saturating_sub(rows_in_view))
                        } else {
                            offset
                        };
                        let mut whole_state = TableState::default()
                            .with_offset(filled)
                            .with_selected(selected);
                        let mut whole = Buffer::empty(area);
                        table(0..len).render(area, &mut whole, &mut whole_state);

                        // Only the window's rows.
                        let (range, mut state) = table_window(&block, area, len, offset, selected);
                        assert!(range.end <= len, "{range:?} past {len} rows");
                        let start = range.start;
                        let mut windowed = Buffer::empty(area);
                        table(range).render(area, &mut windowed, &mut state);

                        let case = format!(
                            "height {height}, {len} rows, offset {offset}, selected {selected:?}"
                        );
                        assert_eq!(windowed, whole, "{case}");
                        assert_eq!(start + state.offset(), whole_state.offset(), "{case}");
                        cases += 1;
                    }
                }
            }
        }
        assert!(cases > 1_000);
    }

    #[test]
    fn a_window_holds_only_the_rows_in_view() {
        use ratatui::widgets::Borders;

        let block = Block::default().borders(Borders::ALL);
        // 50 lines: 48 inside the borders, one header, 47 rows.
        let area = Rect::new(0, 0, 200, 50);
        let (range, _) = table_window(&block, area, 10_000, 0, None);
        assert_eq!(range, 0..47);
        // The selection far below the view scrolls it just enough.
        let (range, state) = table_window(&block, area, 10_000, 0, Some(5_000));
        assert_eq!(range, 4_954..5_001);
        assert_eq!(state.selected(), Some(46));
        // A selection inside the view keeps the offset.
        let (range, state) = table_window(&block, area, 10_000, 100, Some(120));
        assert_eq!(range, 100..147);
        assert_eq!(state.selected(), Some(20));
        // At the end of the journal in a 3-row pane, then the terminal grows: the view
        // moves up to fill the pane rather than showing 3 rows and 44 empty ones.
        let (range, state) = table_window(&block, area, 10_000, 9_997, Some(9_999));
        assert_eq!(range, 9_953..10_000);
        assert_eq!(state.selected(), Some(46));
    }
}
