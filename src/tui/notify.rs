//! Notifications: the terminal bell and, where the terminal shows them, desktop
//! notifications by OSC 9 or OSC 777.
//!
//! The app decides *whether* to notify ([`super::App::take_notifications`]);
//! this module decides *how* and writes the bytes. Desktop support is read
//! from the environment ([`DesktopSupport::detect`]):
//!
//! - OSC 9 (`ESC ] 9 ; body BEL`): iTerm2 (`TERM_PROGRAM=iTerm.app` or
//!   `ITERM_SESSION_ID`), WezTerm (`TERM_PROGRAM=WezTerm` or `WEZTERM_PANE`),
//!   Windows Terminal (`WT_SESSION`), kitty (`TERM=xterm-kitty` or
//!   `KITTY_WINDOW_ID`), ghostty (`TERM_PROGRAM=ghostty`).
//! - OSC 777 (`ESC ] 777 ; notify ; title ; body BEL`): rxvt (`TERM=rxvt*`),
//!   foot (`TERM=foot*`), Konsole (`KONSOLE_VERSION`), VTE terminals such as
//!   GNOME Terminal (`VTE_VERSION`).
//! - Anything else: the bell only (an unknown OSC could print garbage).
//!
//! The variables that name the terminal are inherited into tmux and screen,
//! so the rule works there too; the sequence is then wrapped for the
//! multiplexer's passthrough (as OSC 52 is, see [`super::clipboard`]). The bell
//! is sent plain: multiplexers handle it themselves.

// Terminal product names (WezTerm, iTerm2) are words here, not code.
#![allow(clippy::doc_markdown)]

use std::io::Write;

use super::clipboard::{Multiplexer, passthrough};
use crate::config::NotifyMode;

/// Something that went wrong, for the user's attention. Never holds a token
/// or a password: only connection names and fixed words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// A short title, e.g. `"actsm: acme failed"`.
    pub title: String,
    /// One sentence.
    pub body: String,
}

/// Which desktop notification sequence the terminal understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesktopSupport {
    /// None known: bell only.
    None,
    /// OSC 9 (iTerm2, WezTerm, Windows Terminal, kitty, ghostty).
    Osc9,
    /// OSC 777 (rxvt, foot, Konsole, VTE).
    Osc777,
}

impl DesktopSupport {
    /// Reads the process environment (see the module docs for the rule).
    pub fn detect() -> Self {
        Self::detect_with(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// The rule of [`Self::detect`] over any source of variables.
    pub fn detect_with(var: impl Fn(&str) -> Option<String>) -> Self {
        let program = var("TERM_PROGRAM").unwrap_or_default();
        let term = var("TERM").unwrap_or_default();
        let set = |name: &str| var(name).is_some();
        if matches!(program.as_str(), "iTerm.app" | "WezTerm" | "ghostty")
            || set("ITERM_SESSION_ID")
            || set("WEZTERM_PANE")
            || set("WT_SESSION")
            || set("KITTY_WINDOW_ID")
            || term.starts_with("xterm-kitty")
        {
            Self::Osc9
        } else if term.starts_with("rxvt")
            || term.starts_with("foot")
            || set("KONSOLE_VERSION")
            || set("VTE_VERSION")
        {
            Self::Osc777
        } else {
            Self::None
        }
    }
}

/// Text safe inside an OSC string: no control characters (they would end or
/// break the sequence) and, for OSC 777's fields, no `;`.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() || c == ';' { ' ' } else { c })
        .collect()
}

/// The bytes to write for `notification`: nothing for `Off`, the bell for
/// `Bell`, the bell and the desktop sequence (wrapped for `via`) for `Desktop`.
pub fn sequence(
    notification: &Notification,
    mode: NotifyMode,
    support: DesktopSupport,
    via: Multiplexer,
) -> String {
    let mut out = String::new();
    if mode == NotifyMode::Off {
        return out;
    }
    out.push('\x07');
    if mode == NotifyMode::Desktop {
        let title = clean(&notification.title);
        let body = clean(&notification.body);
        let osc = match support {
            DesktopSupport::None => return out,
            DesktopSupport::Osc9 => format!("\x1b]9;{title}: {body}\x07"),
            DesktopSupport::Osc777 => format!("\x1b]777;notify;{title};{body}\x07"),
        };
        out.push_str(&passthrough(&osc, via));
    }
    out
}

/// Writes [`sequence`] to `out` (the terminal) and flushes.
pub fn emit(
    out: &mut impl Write,
    notification: &Notification,
    mode: NotifyMode,
    support: DesktopSupport,
    via: Multiplexer,
) -> std::io::Result<()> {
    let bytes = sequence(notification, mode, support, via);
    if bytes.is_empty() {
        return Ok(());
    }
    out.write_all(bytes.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note() -> Notification {
        Notification {
            title: "actsm: acme".into(),
            body: "session failed; retry\x1b[2J".into(),
        }
    }

    #[test]
    fn off_writes_nothing_and_bell_writes_bel() {
        let n = note();
        assert_eq!(
            sequence(&n, NotifyMode::Off, DesktopSupport::Osc9, Multiplexer::None),
            ""
        );
        assert_eq!(
            sequence(
                &n,
                NotifyMode::Bell,
                DesktopSupport::Osc9,
                Multiplexer::Tmux
            ),
            "\x07"
        );
    }

    #[test]
    fn desktop_osc9_plain_tmux_and_screen() {
        let n = note();
        let plain = sequence(
            &n,
            NotifyMode::Desktop,
            DesktopSupport::Osc9,
            Multiplexer::None,
        );
        assert_eq!(
            plain,
            "\x07\x1b]9;actsm: acme: session failed  retry [2J\x07"
        );
        let tmux = sequence(
            &n,
            NotifyMode::Desktop,
            DesktopSupport::Osc9,
            Multiplexer::Tmux,
        );
        assert_eq!(
            tmux,
            "\x07\x1bPtmux;\x1b\x1b]9;actsm: acme: session failed  retry [2J\x07\x1b\\"
        );
        let screen = sequence(
            &n,
            NotifyMode::Desktop,
            DesktopSupport::Osc9,
            Multiplexer::Screen,
        );
        assert_eq!(
            screen,
            "\x07\x1bP\x1b]9;actsm: acme: session failed  retry [2J\x07\x1b\\"
        );
    }

    #[test]
    fn desktop_osc777_has_title_and_body_fields() {
        let n = note();
        assert_eq!(
            sequence(
                &n,
                NotifyMode::Desktop,
                DesktopSupport::Osc777,
                Multiplexer::None
            ),
            "\x07\x1b]777;notify;actsm: acme;session failed  retry [2J\x07"
        );
        assert_eq!(
            sequence(
                &n,
                NotifyMode::Desktop,
                DesktopSupport::Osc777,
                Multiplexer::Tmux
            ),
            "\x07\x1bPtmux;\x1b\x1b]777;notify;actsm: acme;session failed  retry [2J\x07\x1b\\"
        );
    }

    #[test]
    fn unknown_terminal_gets_the_bell_only() {
        assert_eq!(
            sequence(
                &note(),
                NotifyMode::Desktop,
                DesktopSupport::None,
                Multiplexer::None
            ),
            "\x07"
        );
    }

    #[test]
    fn detection_follows_the_documented_rule() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            DesktopSupport::detect_with(env(&[("TERM_PROGRAM", "iTerm.app")])),
            DesktopSupport::Osc9
        );
        assert_eq!(
            DesktopSupport::detect_with(env(&[("TERM", "xterm-kitty")])),
            DesktopSupport::Osc9
        );
        assert_eq!(
            DesktopSupport::detect_with(env(&[("TERM", "tmux-256color"), ("WT_SESSION", "x")])),
            DesktopSupport::Osc9
        );
        assert_eq!(
            DesktopSupport::detect_with(env(&[("TERM", "foot")])),
            DesktopSupport::Osc777
        );
        assert_eq!(
            DesktopSupport::detect_with(env(&[
                ("TERM", "xterm-256color"),
                ("VTE_VERSION", "7600")
            ])),
            DesktopSupport::Osc777
        );
        assert_eq!(
            DesktopSupport::detect_with(env(&[("TERM", "xterm-256color")])),
            DesktopSupport::None
        );
        assert_eq!(
            DesktopSupport::detect_with(env(&[("TERM_PROGRAM", "tmux"), ("TERM", "screen")])),
            DesktopSupport::None
        );
    }

    #[test]
    fn emit_writes_the_sequence() {
        let mut out = Vec::new();
        emit(
            &mut out,
            &note(),
            NotifyMode::Bell,
            DesktopSupport::None,
            Multiplexer::None,
        )
        .expect("writes to a Vec");
        assert_eq!(out, b"\x07");
    }
}
