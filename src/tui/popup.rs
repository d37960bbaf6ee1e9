//! Small modal popups: the delete confirmation, notices (a reload that failed,
//! a file changed on disk) and the masked password prompt.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::form::{MaskedInput, centered};
use super::format::truncate;
use super::theme::Theme;

/// A message the user must acknowledge (Enter or Esc closes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The popup's title.
    pub title: String,
    /// What happened and what to do, one entry per paragraph.
    pub lines: Vec<String>,
    /// Drawn in the danger style when true.
    pub is_error: bool,
}

/// The password prompt for a `password_prompt` connection.
#[derive(Debug, Clone)]
pub struct PasswordPrompt {
    /// The connection that asked.
    pub name: String,
    /// What is typed, never shown.
    pub input: MaskedInput,
}

/// Draws the delete confirmation for connection `name`.
pub fn render_confirm_delete(theme: &Theme, frame: &mut Frame, area: Rect, name: &str) {
    let lines = vec![
        Line::from(vec![
            Span::raw("Delete connection "),
            Span::styled(format!("'{}'", truncate(name, 40)), theme.warning()),
            Span::raw("?"),
        ]),
        Line::styled(
            "It is removed from the connections file (a .bak copy is kept).",
            theme.muted(),
        ),
        Line::raw(""),
        Line::from(vec![
            Span::styled(" y/Enter", theme.key()),
            Span::styled(" delete  ", theme.muted()),
            Span::styled("n/Esc", theme.key()),
            Span::styled(" keep it", theme.muted()),
        ]),
    ];
    draw(theme, frame, area, " Delete connection ", lines, 64);
}

/// Draws `notice`.
pub fn render_notice(theme: &Theme, frame: &mut Frame, area: Rect, notice: &Notice) {
    let style = if notice.is_error {
        theme.danger()
    } else {
        theme.warning()
    };
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (i, text) in notice.lines.iter().enumerate() {
        if i > 0 {
            lines.push(Line::raw(""));
        }
        let style = if i == 0 {
            style
        } else {
            ratatui::style::Style::default()
        };
        // A config error has one line per problem: keep them apart.
        lines.extend(
            text.lines()
                .map(|line| Line::styled(line.to_owned(), style)),
        );
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(" Enter/Esc", theme.key()),
        Span::styled(" close", theme.muted()),
    ]));
    draw(
        theme,
        frame,
        area,
        &format!(" {} ", notice.title),
        lines,
        76,
    );
}

/// Draws the password prompt: one `•` per typed character.
pub fn render_prompt(theme: &Theme, frame: &mut Frame, area: Rect, prompt: &PasswordPrompt) {
    let masked = prompt.input.masked();
    let shown: String = masked.chars().take(40).collect();
    let lines = vec![
        Line::from(vec![
            Span::raw("Connection "),
            Span::styled(format!("'{}'", truncate(&prompt.name, 40)), theme.accent()),
            Span::raw(" needs its password."),
        ]),
        Line::styled(
            "Kept in memory until actsm exits; never written anywhere.",
            theme.muted(),
        ),
        Line::raw(""),
        Line::from(vec![
            Span::styled("Password ", theme.key()),
            Span::raw(shown),
        ]),
        Line::raw(""),
        Line::from(vec![
            Span::styled(" Enter", theme.key()),
            Span::styled(" start  ", theme.muted()),
            Span::styled("Esc", theme.key()),
            Span::styled(" cancel", theme.muted()),
        ]),
    ];
    let popup = draw(theme, frame, area, " Password ", lines, 64);
    #[allow(clippy::cast_possible_truncation)] // at most 40 cells
    let x = popup.x + 1 + 9 + prompt.input.cursor().min(40) as u16;
    let y = popup.y + 1 + 3;
    if x < popup.right() && y < popup.bottom() {
        frame.set_cursor_position((x, y));
    }
}

fn draw(
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line<'static>>,
    max_width: u16,
) -> Rect {
    let width = max_width.min(area.width);
    // Wrapped lines need more rows than there are lines: count them.
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let height = u16::try_from(rows + 2).unwrap_or(u16::MAX);
    let popup = centered(area, width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(title.to_owned(), theme.title()));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
    popup
}
