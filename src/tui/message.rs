//! Everything that changes the UI's state.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use crossterm::event::{
    Event as TermEvent, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};

use crate::config::{Config, FieldError};
use crate::session::Event;

/// One input to [`super::App::update`].
// Messages are moved one at a time through the loop, never stored in bulk: boxing the
// large engine variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Message {
    /// The engine reported a change or an exchange.
    Engine(Event),
    /// A key was pressed.
    Key(KeyEvent),
    /// A mouse click or wheel turn (moves and drags are not passed on).
    Mouse(MouseEvent),
    /// The terminal was resized; the next frame lays out afresh.
    Resize,
    /// The clock moved on: countdowns are computed from this instant.
    Tick(DateTime<Utc>),
    /// The token was copied, by this method.
    ClipboardCopied(super::clipboard::CopyMethod),
    /// Writing the OSC 52 clipboard sequence failed (the error text, no token in it).
    ClipboardFailed(String),
    /// The connections file changed outside the app and loaded: show it and
    /// tell the engine.
    ConfigReloaded(Arc<Config>),
    /// The connections file changed outside the app but does not load: the
    /// error text; the running config stays.
    ConfigLoadFailed(String),
    /// An edit from the app was saved; `config` is the file as now written.
    EditSaved {
        /// The new config.
        config: Arc<Config>,
        /// What was done, for the status bar.
        summary: String,
        /// The connection to select.
        select: Option<String>,
    },
    /// An edit from the app was not saved.
    EditFailed {
        /// Why, in plain words (never a password).
        error: String,
        /// Messages that belong beside form fields.
        field_errors: Vec<FieldError>,
        /// True when the file changed on disk since it was loaded.
        changed_on_disk: bool,
        /// The file as reloaded after a change on disk, when it loads.
        reloaded: Option<Arc<Config>>,
    },
    /// The journal of earlier runs was read back (newest first), after the first frame.
    JournalLoaded(crate::journal::Loaded),
    /// Exporting the journal finished: the file and how many entries, or why not.
    JournalExported(Result<(std::path::PathBuf, usize), String>),
    /// Storing a password in the OS keyring finished: `error` is `None` on success.
    KeyringStored {
        /// The connection (keyring account).
        name: String,
        /// Why it failed.
        error: Option<String>,
    },
}

impl Message {
    /// The message for a terminal event, or `None` for events the UI ignores
    /// (mouse moves and drags, focus, paste, key releases).
    pub fn from_terminal(event: &TermEvent) -> Option<Self> {
        match event {
            // Windows reports releases too; acting on them would double every key.
            TermEvent::Key(key) if key.kind != KeyEventKind::Release => Some(Self::Key(*key)),
            TermEvent::Resize(..) => Some(Self::Resize),
            // Moves would redraw for nothing; only clicks and the wheel act.
            TermEvent::Mouse(mouse)
                if matches!(
                    mouse.kind,
                    MouseEventKind::Down(MouseButton::Left)
                        | MouseEventKind::ScrollUp
                        | MouseEventKind::ScrollDown
                ) =>
            {
                Some(Self::Mouse(*mouse))
            }
            _ => None,
        }
    }
}
