//! Copying to the clipboard with OSC 52: the terminal does the copying, so it
//! works over SSH and needs no clipboard daemon.

use std::io::Write;

use base64::Engine as _;

use crate::secret::Token;

/// The OSC 52 sequence that sets the clipboard to `text`, wrapped for tmux's
/// passthrough when `tmux` is true (tmux wants every inner ESC doubled).
///
/// The result holds `text` (base64-encoded): never log it.
pub fn osc52_sequence(text: &str, tmux: bool) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let sequence = format!("\x1b]52;c;{encoded}\x07");
    if tmux {
        format!("\x1bPtmux;{}\x1b\\", sequence.replace('\x1b', "\x1b\x1b"))
    } else {
        sequence
    }
}

/// Writes the sequence for `token` to `out` (stdout in the app).
pub fn copy_token(out: &mut impl Write, token: &Token, tmux: bool) -> std::io::Result<()> {
    out.write_all(osc52_sequence(token.expose(), tmux).as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_sequence() {
        // base64("hello") = aGVsbG8=
        assert_eq!(osc52_sequence("hello", false), "\x1b]52;c;aGVsbG8=\x07");
    }

    #[test]
    fn tmux_passthrough_doubles_escapes() {
        assert_eq!(
            osc52_sequence("hello", true),
            "\x1bPtmux;\x1b\x1b]52;c;aGVsbG8=\x07\x1b\\"
        );
    }

    #[test]
    fn copy_writes_the_token() {
        let mut out = Vec::new();
        copy_token(&mut out, &Token::new("a.b.c".into()), false).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\x1b]52;c;YS5iLmM=\x07");
    }
}
