//! The help overlay: every key, the log file, the config file, the warnings.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::App;
use super::form::centered;

/// Every key and what it does, in the order the help lists them.
pub const KEYS: &[(&str, &str)] = &[
    ("↑↓ j/k g/G", "move / first / last in the focused pane"),
    (
        "Tab/Shift-Tab",
        "next/previous pane; journal: f/F filter, Enter, x",
    ),
    ("i / v", "token inspector / show the whole token for 30s"),
    ("mouse", "click selects, wheel scrolls, Shift+drag copies"),
    ("Enter", "start the selected connection (or retry it now)"),
    ("r / R", "refresh the token now / even while rate limited"),
    ("x / A", "stop the selected connection / start all"),
    ("c", "copy the selected token to the clipboard (OSC 52)"),
    ("a / e", "add a connection / edit the selected one"),
    ("d / D", "delete (asks first) / duplicate the selected one"),
    ("/", "filter by name, group, database, user (Esc clears)"),
    ("s / t", "sort: group, name, time left, state / next theme"),
    (
        "? / q",
        "this help / quit (Esc only backs out, never quits)",
    ),
];

/// Draws the overlay centred over `area`.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let mut lines: Vec<Line<'static>> = KEYS
        .iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!("{key:>13}  "), theme.key()),
                Span::raw(*what),
            ])
        })
        .collect();

    lines.push(Line::raw(""));
    let log = app
        .log_path
        .as_ref()
        .map_or_else(|| "none".to_owned(), |p| p.display().to_string());
    lines.push(Line::from(vec![
        Span::styled("log file: ", theme.muted()),
        Span::raw(log),
    ]));
    let config = app
        .config_path
        .as_ref()
        .map_or_else(|| "none".to_owned(), |p| p.display().to_string());
    lines.push(Line::from(vec![
        Span::styled("connections: ", theme.muted()),
        Span::raw(config),
    ]));
    for warning in &app.warnings {
        lines.push(Line::styled(format!("! {warning}"), theme.warning()));
    }

    // Wide terminals get a wider box, so long warnings take fewer lines; the
    // height counts wrapped lines, so nothing is cut while the screen has room.
    let width = area
        .width
        .min(72.max(area.width.saturating_mul(3) / 4))
        .min(110);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let wrapped: usize = lines
        .iter()
        .map(|line| line.width().max(1).div_ceil(inner))
        .sum();
    let height = u16::try_from(wrapped + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);
    let popup = centered(area, width, height);

    // More lines than room (many warnings, a small terminal): ↑↓ scroll, and
    // the title says how far.
    let room = usize::from(height.saturating_sub(2));
    let max_scroll = u16::try_from(wrapped.saturating_sub(room)).unwrap_or(u16::MAX);
    let scroll = app.help_scroll.min(max_scroll);
    let title = if max_scroll == 0 {
        " Help: ? or Esc closes ".to_owned()
    } else {
        format!(
            " Help: ↑↓ scroll ({}/{}), ? or Esc closes ",
            usize::from(scroll) + room.min(wrapped),
            wrapped
        )
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(title, theme.title()));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        popup,
    );
}
