//! Small pieces shared by the panes: state badges, text gauges, verdict colours.

use ratatui::text::Span;

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
