//! Entering and restoring the terminal: raw mode, alternate screen, panic hook.

use std::io::{self, Stdout};
use std::sync::Once;

use anyhow::Context as _;
use crossterm::cursor::Show;
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal while the UI owns it; dropping it gives the terminal back.
pub struct TerminalGuard {
    /// The ratatui terminal drawing to stdout.
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// Installs the panic hook, then enters raw mode and the alternate screen.
    pub fn enter() -> anyhow::Result<Self> {
        install_panic_hook();
        enable_raw_mode().context("entering raw mode")?;
        let guard = Self::finish_enter();
        if guard.is_err() {
            restore();
        }
        guard
    }

    fn finish_enter() -> anyhow::Result<Self> {
        execute!(io::stdout(), EnterAlternateScreen).context("entering the alternate screen")?;
        let terminal =
            Terminal::new(CrosstermBackend::new(io::stdout())).context("opening the terminal")?;
        Ok(Self { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves the alternate screen and raw mode and shows the cursor; errors are
/// ignored because this runs on the way out, when nothing better can be done.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, Show);
}

/// Chains a hook that restores the terminal before the previous hook prints
/// the panic, so the message is readable. Installed once per process.
pub fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
