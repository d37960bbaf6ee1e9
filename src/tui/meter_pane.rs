//! The rate-limit meter of the selected connection.
//!
//! A server that sends no `X-RateLimit-*` headers has no limit we know of:
//! that reads "no limit reported", never zero.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::App;
use super::format::{ago, until};
use super::widgets::bar;
use crate::act::Meter;

/// The words for a reading: "13 used of 100 · 87 left · resets in 42s".
fn describe(app: &App, meter: &Meter) -> Vec<Span<'static>> {
    let theme = &app.theme;
    let mut spans = Vec::new();
    match (meter.limit, meter.remaining) {
        (Some(limit), Some(remaining)) => {
            let used = limit.saturating_sub(remaining);
            let style = if remaining == 0 {
                theme.danger()
            } else {
                theme.accent()
            };
            spans.push(Span::styled(format!("{used} used of {limit}"), style));
            spans.push(Span::styled(format!(" · {remaining} left"), style));
        }
        (None, Some(remaining)) => {
            spans.push(Span::raw(format!("{remaining} left (no limit reported)")));
        }
        (Some(limit), None) => {
            spans.push(Span::raw(format!("limit {limit} (remaining not reported)")));
        }
        (None, None) if !meter.unreadable.is_empty() => spans.push(Span::styled(
            format!(
                "rate-limit headers unreadable: {}",
                meter.unreadable.describe()
            ),
            theme.warning(),
        )),
        (None, None) => spans.push(Span::styled("no limit reported", theme.muted())),
    }
    if let Some(reset_at) = meter.reset_at {
        let text = if reset_at > app.now {
            format!(" · resets {}", until(app.now, reset_at))
        } else {
            " · window has reset".to_owned()
        };
        spans.push(Span::styled(text, theme.muted()));
    }
    spans
}

/// One line for the compact layout: "rate limit: ...".
pub fn summary_line(app: &App, meter: Option<&Meter>) -> Line<'static> {
    let mut spans = vec![Span::styled("rate limit ", app.theme.muted())];
    match meter {
        Some(meter) => spans.extend(describe(app, meter)),
        None => spans.push(Span::styled("no limit reported", app.theme.muted())),
    }
    Line::from(spans)
}

/// Draws the meter pane into `area`.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let meter = app
        .selection()
        .and_then(|(_, s)| s)
        .and_then(|s| s.meter.as_ref());
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(false))
        .title(Span::styled(" Rate limit ", theme.title()));
    let inner_width = area.width.saturating_sub(2);

    let lines = match meter {
        None => vec![
            Line::styled("no limit reported", theme.accent()),
            Line::styled(
                "this server sent no X-RateLimit headers (usual on premises)",
                theme.muted(),
            ),
        ],
        Some(meter) => {
            let mut lines = Vec::new();
            if let (Some(limit), Some(remaining)) = (meter.limit, meter.remaining) {
                #[allow(clippy::cast_precision_loss)] // call counts are small
                let ratio = if limit == 0 {
                    1.0
                } else {
                    limit.saturating_sub(remaining) as f64 / limit as f64
                };
                lines.push(Line::from(bar(theme, ratio, inner_width.min(40))));
            }
            lines.push(Line::from(describe(app, meter)));
            // Unreadable next to readable headers: say which, so a half reading is not trusted.
            if !meter.unreadable.is_empty() && (meter.limit.is_some() || meter.remaining.is_some())
            {
                lines.push(Line::styled(
                    format!("unreadable: {}", meter.unreadable.describe()),
                    theme.warning(),
                ));
            }
            lines.push(Line::styled(
                format!("read {}", ago(app.now, meter.read_at)),
                theme.muted(),
            ));
            lines
        }
    };
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
