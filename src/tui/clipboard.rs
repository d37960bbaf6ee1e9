//! Copying to the clipboard with OSC 52: the terminal does the copying, so it
//! works over SSH and needs no clipboard daemon.
//!
//! Multiplexers stand between the app and the terminal. Inside tmux the token
//! goes to `tmux load-buffer -w -` (on stdin, never argv): tmux keeps it as a
//! paste buffer and, where its `set-clipboard` allows, forwards it to the
//! outer terminal's clipboard itself. The OSC 52 sequence is also sent wrapped
//! for tmux's passthrough, which reaches the outer terminal when
//! `allow-passthrough` is on. Inside GNU screen the sequence is wrapped in
//! screen's passthrough. The app says which method it used.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine as _;

use crate::secret::Token;

/// Which multiplexer, if any, sits between the app and the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multiplexer {
    /// None: the sequence goes straight to the terminal.
    None,
    /// tmux (`$TMUX` is set).
    Tmux,
    /// GNU screen (`$STY` is set).
    Screen,
}

impl Multiplexer {
    /// Detects the multiplexer from the environment.
    pub fn detect() -> Self {
        if std::env::var_os("TMUX").is_some_and(|v| !v.is_empty()) {
            Self::Tmux
        } else if std::env::var_os("STY").is_some_and(|v| !v.is_empty()) {
            Self::Screen
        } else {
            Self::None
        }
    }
}

/// How a copy was carried out, for the status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyMethod {
    /// OSC 52 straight to the terminal.
    Osc52,
    /// A tmux paste buffer (and the outer clipboard where tmux forwards it),
    /// plus OSC 52 through tmux's passthrough.
    TmuxBuffer,
    /// OSC 52 through tmux's passthrough only (`tmux load-buffer` failed).
    TmuxPassthrough,
    /// OSC 52 through GNU screen's passthrough.
    ScreenPassthrough,
}

impl CopyMethod {
    /// Plain words for the status bar.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Osc52 => "OSC 52 to the terminal",
            Self::TmuxBuffer => "tmux buffer and OSC 52 via tmux; paste with prefix ]",
            Self::TmuxPassthrough => {
                "OSC 52 via tmux passthrough; needs `set -g allow-passthrough on`"
            }
            Self::ScreenPassthrough => "OSC 52 via screen passthrough",
        }
    }
}

/// The OSC 52 sequence that sets the clipboard to `text`, wrapped for the
/// multiplexer's passthrough (tmux wants every inner ESC doubled; screen wants
/// a DCS string).
///
/// The result holds `text` (base64-encoded): never log it.
pub fn osc52_sequence(text: &str, via: Multiplexer) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    passthrough(&format!("\x1b]52;c;{encoded}\x07"), via)
}

/// `sequence` (an escape sequence for the outer terminal) wrapped for the
/// multiplexer's passthrough: tmux wants every inner ESC doubled inside
/// `ESC P tmux; ... ESC \`, screen a plain DCS string.
pub fn passthrough(sequence: &str, via: Multiplexer) -> String {
    match via {
        Multiplexer::None => sequence.to_owned(),
        Multiplexer::Tmux => format!("\x1bPtmux;{}\x1b\\", sequence.replace('\x1b', "\x1b\x1b")),
        Multiplexer::Screen => format!("\x1bP{sequence}\x1b\\"),
    }
}

/// Copies `token`: writes the sequence to `out` (stdout in the app) and, in
/// tmux, loads it into a tmux buffer. Returns the method that was used.
pub fn copy_token(
    out: &mut impl Write,
    token: &Token,
    via: Multiplexer,
) -> std::io::Result<CopyMethod> {
    out.write_all(osc52_sequence(token.expose(), via).as_bytes())?;
    out.flush()?;
    Ok(match via {
        Multiplexer::None => CopyMethod::Osc52,
        Multiplexer::Screen => CopyMethod::ScreenPassthrough,
        Multiplexer::Tmux => match tmux_load_buffer(token) {
            Ok(()) => CopyMethod::TmuxBuffer,
            Err(error) => {
                tracing::debug!(%error, "tmux load-buffer failed; passthrough only");
                CopyMethod::TmuxPassthrough
            }
        },
    })
}

/// `tmux load-buffer -w -` with the token on stdin (`-w` also sets the outer
/// clipboard, tmux 3.2 and later; older tmux gets the buffer alone).
fn tmux_load_buffer(token: &Token) -> std::io::Result<()> {
    let attempt = |args: &[&str]| -> std::io::Result<bool> {
        let mut child = Command::new("tmux")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(token.expose().as_bytes())?;
        }
        Ok(child.wait()?.success())
    };
    if attempt(&["load-buffer", "-w", "-"])? || attempt(&["load-buffer", "-"])? {
        Ok(())
    } else {
        Err(std::io::Error::other(
            "tmux load-buffer exited with an error",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_sequence() {
        // base64("hello") = aGVsbG8=
        assert_eq!(
            osc52_sequence("hello", Multiplexer::None),
            "\x1b]52;c;aGVsbG8=\x07"
        );
    }

    #[test]
    fn tmux_passthrough_doubles_escapes() {
        assert_eq!(
            osc52_sequence("hello", Multiplexer::Tmux),
            "\x1bPtmux;\x1b\x1b]52;c;aGVsbG8=\x07\x1b\\"
        );
    }

    #[test]
    fn screen_passthrough_is_a_dcs_string() {
        assert_eq!(
            osc52_sequence("hello", Multiplexer::Screen),
            "\x1bP\x1b]52;c;aGVsbG8=\x07\x1b\\"
        );
    }

    #[test]
    fn copy_writes_the_token() {
        let mut out = Vec::new();
        let method = copy_token(&mut out, &Token::new("a.b.c".into()), Multiplexer::None).unwrap();
        assert_eq!(method, CopyMethod::Osc52);
        assert_eq!(String::from_utf8(out).unwrap(), "\x1b]52;c;YS5iLmM=\x07");
    }
}
