//! Small pieces shared by the panes: state badges, text gauges, verdict colours.

use chrono::{DateTime, Utc};
use ratatui::style::Color;
use ratatui::text::{Line, Span};

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
}
