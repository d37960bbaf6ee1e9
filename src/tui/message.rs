//! Everything that changes the UI's state.

use chrono::{DateTime, Utc};
use crossterm::event::{Event as TermEvent, KeyEvent, KeyEventKind};

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
    /// The terminal was resized; the next frame lays out afresh.
    Resize,
    /// The clock moved on: countdowns are computed from this instant.
    Tick(DateTime<Utc>),
    /// Writing the OSC 52 clipboard sequence failed (the error text, no token in it).
    ClipboardFailed(String),
}

impl Message {
    /// The message for a terminal event, or `None` for events the UI ignores
    /// (mouse, focus, paste, key releases).
    pub fn from_terminal(event: &TermEvent) -> Option<Self> {
        match event {
            // Windows reports releases too; acting on them would double every key.
            TermEvent::Key(key) if key.kind != KeyEventKind::Release => Some(Self::Key(*key)),
            TermEvent::Resize(..) => Some(Self::Resize),
            _ => None,
        }
    }
}
