//! The header line (title, config warnings) and the status bar (keys that apply now,
//! transient messages).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::App;
use super::focus::Pane;
use super::format::truncate;
use crate::session::SessionState;

/// Draws the header into `area` (one line): the title on the left, a config
/// warnings badge on the right (the help lists the warnings).
pub fn render_header(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let badge = match app.warnings.len() {
        0 => String::new(),
        1 => "! 1 config warning (? shows it) ".to_owned(),
        n => format!("! {n} config warnings (? lists them) "),
    };
    let room = usize::from(area.width).saturating_sub(badge.chars().count() + 12);
    let title = Line::from(vec![
        Span::styled(" actsm ", theme.title()),
        Span::styled(format!("· {}", truncate(&app.title, room)), theme.muted()),
    ]);
    frame.render_widget(Paragraph::new(title), area);
    if !badge.is_empty() {
        let badge = Line::styled(badge, theme.warning()).right_aligned();
        frame.render_widget(Paragraph::new(badge), area);
    }
}

/// Draws the status bar into `area` (one line).
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    if let Some(status) = app.status_message() {
        let style = if status.is_error {
            theme.danger()
        } else {
            theme.ok()
        };
        frame.render_widget(
            Paragraph::new(Span::styled(format!(" {}", status.text), style)),
            area,
        );
        return;
    }

    let mut keys = keys_now(app);

    // What does not fit goes, last first; help and quit always stay (they
    // come right after the connection keys, so those go first).
    let width = |keys: &[(&str, &str)]| -> usize {
        1 + keys
            .iter()
            .map(|(k, w)| k.chars().count() + w.chars().count() + 3)
            .sum::<usize>()
    };
    while keys.len() > 2 && width(&keys) > usize::from(area.width) {
        let drop = keys
            .iter()
            .rposition(|(k, _)| !matches!(*k, "?" | "q"))
            .unwrap_or(keys.len() - 1);
        keys.remove(drop);
    }
    let mut spans = vec![Span::raw(" ")];
    for (key, what) in keys {
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::styled(format!(" {what}  "), theme.muted()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The keys that apply now, most useful first (what does not fit is cut from the end).
fn keys_now(app: &App) -> Vec<(&'static str, &'static str)> {
    let mut keys: Vec<(&'static str, &'static str)> = Vec::new();
    if app.prompt.is_some() {
        keys.extend([("Enter", "start with this password"), ("Esc", "cancel")]);
    } else if app.notice.is_some() {
        keys.push(("Enter/Esc", "close"));
    } else if app.confirm_delete.is_some() {
        keys.extend([("y", "delete"), ("n/Esc", "keep")]);
    } else if app.form.is_some() {
        keys.extend([
            ("Tab/Shift-Tab", "field"),
            ("←/→ Space", "choose"),
            ("Enter", "save"),
            ("Esc", "cancel"),
        ]);
    } else if app.filter_typing {
        keys.extend([
            ("type", "filter"),
            ("↑↓", "move"),
            ("Enter", "keep"),
            ("Esc", "clear"),
        ]);
    } else if app.journal_detail.is_some() {
        keys.extend([("↑↓", "scroll"), ("Esc", "close")]);
    } else if app.help_open {
        keys.extend([("↑↓", "scroll"), ("?/Esc", "close help"), ("q", "quit")]);
    } else if app.reveal_until.is_some() {
        keys.push(("any key", "hides the token"));
    } else if app.inspector_open {
        keys.extend([
            ("↑↓", "scroll"),
            ("i/Esc", "close inspector"),
            ("v", "reveal token"),
            ("c", "copy token"),
            ("?", "help"),
            ("q", "quit"),
        ]);
    } else if let (Pane::Inspector, Some(_)) = (app.focus, app.selection()) {
        keys.extend([
            ("Tab", "next pane"),
            ("↑↓", "scroll"),
            ("i", "inspect"),
            ("v", "reveal token"),
            ("c", "copy token"),
            ("?", "help"),
            ("q", "quit"),
        ]);
    } else if let (Pane::Journal, false) = (app.focus, app.journal.is_empty()) {
        keys.extend([
            ("Tab", "next pane"),
            ("↑↓", "scroll"),
            ("Enter", "details"),
            ("f", "this connection"),
            ("F", "failures"),
            ("x", "export"),
            ("?", "help"),
            ("q", "quit"),
        ]);
    } else if let Some((_, snapshot)) = app.selection() {
        let state = snapshot.map_or(SessionState::Idle, |s| s.state);
        let has_token = snapshot.is_some_and(|s| s.token.is_some());
        keys.push(("↑↓", "move"));
        match state {
            SessionState::Idle | SessionState::Stopped => keys.push(("Enter", "start")),
            SessionState::Failed | SessionState::Backoff => keys.push(("Enter", "retry")),
            _ => {}
        }
        keys.push(("r", "refresh"));
        if snapshot.is_some_and(|s| s.is_held(app.now)) {
            keys.push(("R", "force"));
        }
        if !matches!(state, SessionState::Idle | SessionState::Stopped) {
            keys.push(("x", "stop"));
        }
        keys.push(("A", "start all"));
        if has_token {
            keys.push(("c", "copy token"));
            keys.push(("i", "inspect"));
        }
        keys.push(("Tab", "next pane"));
        keys.extend([
            ("a/e/d", "add/edit/delete"),
            ("/", "filter"),
            ("t", "theme"),
            ("?", "help"),
            ("q", "quit"),
        ]);
    } else if app.connections.is_empty() {
        keys.extend([("a", "add"), ("?", "help"), ("q", "quit")]);
    } else {
        keys.extend([("/", "filter"), ("?", "help"), ("q", "quit")]);
    }

    keys
}
