//! The UI's state and its `update`: no IO, no drawing, no clock reads.

use std::collections::VecDeque;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::TuiOptions;
use super::message::Message;
use super::theme::Theme;
use crate::config::{Config, SecretSource};
use crate::journal::JournalEntry;
use crate::secret::Token;
use crate::session::{Command, Event, SessionSnapshot, SessionState};

/// How many journal entries the UI keeps; older ones drop off.
pub const JOURNAL_CAPACITY: usize = 1000;

/// How long a transient status message stays up.
const STATUS_SECONDS: i64 = 5;

/// What the UI knows about a configured connection (never its password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The connection's name.
    pub name: String,
    /// The Act! database name.
    pub database: String,
    /// The API base URL.
    pub url: String,
    /// The Act! user name.
    pub user: String,
    /// True when the password is plain text in the file.
    pub plain_password: bool,
}

/// A transient message in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    /// What to say.
    pub text: String,
    /// True for failures (shown in the danger style).
    pub is_error: bool,
    /// When it goes away.
    pub until: DateTime<Utc>,
}

/// The state of the terminal UI.
#[derive(Debug)]
pub struct App {
    /// What the header shows: `"demo"` or the config path.
    pub(crate) title: String,
    /// The configured connections, in file order.
    pub(crate) connections: Vec<ConnectionInfo>,
    /// The latest snapshot of each connection's session, same order; `None` until the
    /// engine reports one.
    pub(crate) sessions: Vec<Option<SessionSnapshot>>,
    /// Every exchange seen, newest first.
    pub(crate) journal: VecDeque<JournalEntry>,
    /// The selected row of the connection list.
    pub(crate) selected: usize,
    /// Whether the help overlay is up.
    pub(crate) help_open: bool,
    /// Set when the user asked to quit.
    quit: bool,
    /// The current time, as last told by a [`Message::Tick`].
    pub(crate) now: DateTime<Utc>,
    /// The offset wall-clock times are shown in.
    pub(crate) offset: FixedOffset,
    /// The transient status bar message, if any.
    pub(crate) status: Option<StatusMessage>,
    /// A token waiting to be written to the clipboard by the loop.
    clipboard: Option<Token>,
    /// Config warnings (plain-text passwords, ...).
    pub(crate) warnings: Vec<String>,
    /// The connections file that was read (or looked for).
    pub(crate) config_path: Option<PathBuf>,
    /// The diagnostic log file.
    pub(crate) log_path: Option<PathBuf>,
    /// Styles.
    pub(crate) theme: Theme,
}

impl App {
    /// The state for `config`, before any engine event: every session idle,
    /// the clock at the Unix epoch until the first [`Message::Tick`], times in UTC,
    /// colours on.
    pub fn new(config: &Config, options: &TuiOptions) -> App {
        let connections: Vec<ConnectionInfo> = config
            .connections
            .iter()
            .map(|c| ConnectionInfo {
                name: c.name.clone(),
                database: c.database.clone(),
                url: c.url.clone(),
                user: c.user.clone(),
                plain_password: matches!(c.secret, SecretSource::Plain(_)),
            })
            .collect();
        App {
            title: options.title.clone(),
            sessions: vec![None; connections.len()],
            connections,
            journal: VecDeque::new(),
            selected: 0,
            help_open: false,
            quit: false,
            now: DateTime::<Utc>::UNIX_EPOCH,
            offset: FixedOffset::east_opt(0).expect("offset 0 is in range"),
            status: None,
            clipboard: None,
            warnings: config.warnings.clone(),
            config_path: config.path.clone().or_else(|| options.config_path.clone()),
            log_path: options.log_path.clone(),
            theme: Theme::default(),
        }
    }

    /// Shows wall-clock times in `offset` (the loop passes the local one).
    pub fn set_offset(&mut self, offset: FixedOffset) {
        self.offset = offset;
    }

    /// Replaces the styles (e.g. [`Theme::from_env`] to honour `NO_COLOR`).
    pub fn set_theme(&mut self, theme: Theme) {
        self.theme = theme;
    }

    /// True once the user asked to quit.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// The selected connection's index in the list.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The selected connection's name, if there are any connections.
    pub fn selected_name(&self) -> Option<&str> {
        self.connections.get(self.selected).map(|c| c.name.as_str())
    }

    /// Whether the help overlay is up.
    pub fn help_open(&self) -> bool {
        self.help_open
    }

    /// The instant countdowns are computed from.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The latest snapshot for connection `name`.
    pub fn session(&self, name: &str) -> Option<&SessionSnapshot> {
        let index = self.connections.iter().position(|c| c.name == name)?;
        self.sessions[index].as_ref()
    }

    /// The journal, newest first.
    pub fn journal(&self) -> impl Iterator<Item = &JournalEntry> {
        self.journal.iter()
    }

    /// The status bar message, while it is current.
    pub fn status_message(&self) -> Option<&StatusMessage> {
        self.status.as_ref().filter(|s| s.until > self.now)
    }

    /// Takes the token the user asked to copy, for the loop to write as OSC 52.
    pub fn take_clipboard(&mut self) -> Option<Token> {
        self.clipboard.take()
    }

    /// Applies one message; returns the commands to send to the engine.
    pub fn update(&mut self, msg: Message) -> Vec<Command> {
        match msg {
            Message::Engine(Event::SessionChanged(snapshot)) => {
                match self
                    .connections
                    .iter()
                    .position(|c| c.name == snapshot.name)
                {
                    Some(index) => self.sessions[index] = Some(snapshot),
                    None => {
                        tracing::debug!(connection = %snapshot.name, "snapshot for an unknown connection ignored");
                    }
                }
                Vec::new()
            }
            Message::Engine(Event::Journal(entry)) => {
                self.journal.push_front(entry);
                self.journal.truncate(JOURNAL_CAPACITY);
                Vec::new()
            }
            Message::Engine(Event::SecretNeeded(name)) => {
                // TODO(#3): open the masked password prompt (in progress on a branch).
                self.set_status(
                    format!("connection '{name}' needs its password typed"),
                    true,
                );
                Vec::new()
            }
            Message::Key(key) => self.on_key(key),
            Message::Resize => Vec::new(),
            Message::Tick(now) => {
                self.now = now;
                Vec::new()
            }
            Message::ClipboardFailed(error) => {
                self.set_status(format!("could not copy the token: {error}"), true);
                Vec::new()
            }
        }
    }

    fn set_status(&mut self, text: String, is_error: bool) {
        let until = self.now + chrono::Duration::seconds(STATUS_SECONDS);
        self.status = Some(StatusMessage {
            text,
            is_error,
            until,
        });
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c' | 'C')) {
            self.quit = true;
            return Vec::new();
        }

        // The help overlay is modal: it only closes (or the app quits).
        if self.help_open {
            match key.code {
                KeyCode::Char('?') | KeyCode::Esc => self.help_open = false,
                KeyCode::Char('q') => self.quit = true,
                _ => {}
            }
            return Vec::new();
        }

        let selected = self.selected_name().map(str::to_owned);
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
            KeyCode::Char('?') => self.help_open = true,
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(self.connections.len().saturating_sub(1));
            }
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => {
                self.selected = self.connections.len().saturating_sub(1);
            }
            KeyCode::Char('a') if !self.connections.is_empty() => return vec![Command::StartAll],
            KeyCode::Enter => return selected.map(Command::Start).into_iter().collect(),
            KeyCode::Char('r') => return selected.map(Command::RefreshNow).into_iter().collect(),
            KeyCode::Char('x') => return selected.map(Command::Stop).into_iter().collect(),
            KeyCode::Char('c') => self.copy_selected(),
            _ => {}
        }
        Vec::new()
    }

    fn copy_selected(&mut self) {
        let Some(name) = self.selected_name().map(str::to_owned) else {
            self.set_status("no connection selected: nothing to copy".to_owned(), true);
            return;
        };
        let token = self.sessions[self.selected]
            .as_ref()
            .and_then(|s| s.token.as_ref())
            .map(|t| t.token.clone());
        match token {
            Some(token) => {
                self.clipboard = Some(token);
                self.set_status(format!("token for '{name}' copied (OSC 52)"), false);
            }
            None => self.set_status(
                format!("no token for '{name}' to copy yet (Enter starts it)"),
                true,
            ),
        }
    }

    /// The selected connection and its latest snapshot.
    pub(crate) fn selection(&self) -> Option<(&ConnectionInfo, Option<&SessionSnapshot>)> {
        let info = self.connections.get(self.selected)?;
        Some((info, self.sessions[self.selected].as_ref()))
    }

    /// The state shown for connection `index`: idle until the engine says otherwise.
    pub(crate) fn state_of(&self, index: usize) -> SessionState {
        self.sessions
            .get(index)
            .and_then(Option::as_ref)
            .map_or(SessionState::Idle, |s| s.state)
    }
}
