//! Entering and restoring the terminal: raw mode, alternate screen, panic hook.

use std::io::{self, IsTerminal as _, Stdout};
use std::sync::{Mutex, Once};
use std::thread::ThreadId;

use anyhow::Context as _;
use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The thread that owns the terminal while the UI runs, `None` otherwise.
///
/// The panic hook restores the terminal only for a panic on this thread: a
/// panic in an engine task is caught by tokio and the UI carries on, so
/// leaving raw mode then would break the screen under a running UI.
static UI_THREAD: Mutex<Option<ThreadId>> = Mutex::new(None);

fn set_ui_thread(thread: Option<ThreadId>) {
    if let Ok(mut owner) = UI_THREAD.lock() {
        *owner = thread;
    }
}

fn is_ui_thread() -> bool {
    UI_THREAD
        .lock()
        .is_ok_and(|owner| *owner == Some(std::thread::current().id()))
}

/// The terminal while the UI owns it; dropping it gives the terminal back.
pub struct TerminalGuard {
    /// The ratatui terminal drawing to stdout.
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// Installs the panic hook, then enters raw mode and the alternate screen.
    ///
    /// A panic on the calling thread restores the terminal before the panic
    /// message prints; call this from the thread that drives the UI (the
    /// runtime's `block_on`, not a spawned task that may move between threads).
    pub fn enter() -> anyhow::Result<Self> {
        Self::enter_with(false)
    }

    /// As [`TerminalGuard::enter`], also capturing the mouse when `mouse` is true
    /// (clicks and the wheel then reach the app; the terminal's own selection
    /// needs Shift+drag). The capture ends on drop and on panic.
    pub fn enter_with(mouse: bool) -> anyhow::Result<Self> {
        // Check before touching anything, so a redirected run leaves no escape codes behind.
        if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
            anyhow::bail!(
                "the TUI needs an interactive terminal, and stdin or stdout is not one; \
                 for scripts use `actsm token NAME` or `actsm status`"
            );
        }
        install_panic_hook();
        set_ui_thread(Some(std::thread::current().id()));
        let guard = enable_raw_mode()
            .context("entering raw mode")
            .and_then(|()| Self::finish_enter(mouse));
        if guard.is_err() {
            restore();
            set_ui_thread(None);
        }
        guard
    }

    fn finish_enter(mouse: bool) -> anyhow::Result<Self> {
        execute!(io::stdout(), EnterAlternateScreen).context("entering the alternate screen")?;
        if mouse {
            execute!(io::stdout(), EnableMouseCapture).context("capturing the mouse")?;
        }
        let terminal =
            Terminal::new(CrosstermBackend::new(io::stdout())).context("opening the terminal")?;
        Ok(Self { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
        set_ui_thread(None);
    }
}

/// Ends mouse capture, leaves the alternate screen and raw mode and shows the cursor
/// (ending a capture that was never started is harmless); errors are
/// ignored because this runs on the way out, when nothing better can be done.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        Show
    );
}

/// Chains a hook that restores the terminal before the previous hook prints
/// the panic, so the message is readable. Only panics on the UI thread restore
/// (see [`TerminalGuard::enter`]). Installed once per process.
pub fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if is_ui_thread() {
                restore();
            }
            previous(info);
        }));
    });
}
