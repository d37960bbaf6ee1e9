//! The UI's state and its `update`: no IO, no drawing, no clock reads.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler as _;

use super::TuiOptions;
use super::focus::{Pane, PaneAreas};
use super::form::{ConnectionForm, FormMode, FormOutcome, MaskedInput};
use super::journal_pane::{JournalDetail, JournalView, PAGE};
use super::message::Message;
use super::notify::Notification;
use super::popup::{Notice, PasswordPrompt};
use super::store::EditRequest;
use super::theme::{Theme, ThemeSet};
use crate::config::{Config, Connection, ConnectionDraft, FieldError, NotifyMode, SecretSource};
use crate::journal::JournalEntry;
use crate::secret::Token;
use crate::session::{Command, Event, SessionSnapshot, SessionState};

/// How many journal entries the UI keeps by default; older ones drop off. The
/// running value is `[settings] journal_entries` ([`App::journal_capacity`]).
pub const JOURNAL_CAPACITY: usize = crate::journal::DEFAULT_CAPACITY;

/// How long `v` shows the whole token before hiding it again.
pub const REVEAL_SECONDS: i64 = 30;

/// How long a transient status message stays up.
const STATUS_SECONDS: i64 = 5;

/// What the UI knows about a configured connection (never its password).
#[derive(Debug, Clone, PartialEq, Eq)]
// Independent display flags, each read by one marker; an enum would only rename them.
#[allow(clippy::struct_excessive_bools)]
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
    /// The group label, if any.
    pub group: Option<String>,
    /// The accent colour as written in the file, if any.
    pub color: Option<String>,
    /// The free-form note, if any.
    pub note: Option<String>,
    /// Started with the TUI.
    pub autostart: bool,
    /// Where the password comes from, in a few words.
    pub secret_kind: &'static str,
    /// `insecure_tls = true`: certificates are not verified (shown in the danger colour).
    pub insecure_tls: bool,
    /// Plain `http://` to a host other than loopback: the password crosses the network
    /// unencrypted (flagged in the details pane).
    pub plain_http_remote: bool,
    /// The name in lower case: the list sorts by it on every frame, and
    /// lower-casing a thousand names each time cost more than the drawing.
    name_key: String,
    /// The group in lower case, for the same reason.
    group_key: Option<String>,
}

impl ConnectionInfo {
    fn from_connection(c: &Connection) -> Self {
        Self {
            name: c.name.clone(),
            database: c.database.clone(),
            url: c.url.clone(),
            user: c.user.clone(),
            plain_password: matches!(c.secret, SecretSource::Plain(_)),
            group: c.group.clone(),
            color: c.color.clone(),
            note: c.note.clone(),
            autostart: c.autostart,
            secret_kind: match c.secret {
                SecretSource::Env(_) => "environment variable",
                SecretSource::Command(_) => "command",
                SecretSource::Prompt => "prompt",
                SecretSource::Keyring { .. } => "OS keyring",
                SecretSource::Plain(_) => "plain text",
            },
            insecure_tls: c.transport.insecure_tls,
            plain_http_remote: c.url.trim().to_ascii_lowercase().starts_with("http://")
                && !crate::act::endpoint::is_loopback(&c.url),
            name_key: c.name.to_lowercase(),
            group_key: c.group.as_deref().map(str::to_lowercase),
        }
    }

    /// True when `needle` (already lower-case) is in the name, group, database or user.
    fn matches(&self, needle: &str) -> bool {
        needle.is_empty()
            || [
                Some(self.name.as_str()),
                self.group.as_deref(),
                Some(self.database.as_str()),
                Some(self.user.as_str()),
            ]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(needle))
    }
}

/// How the connection list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// By group, then name; ungrouped connections last.
    #[default]
    Group,
    /// By name.
    Name,
    /// Soonest expiry first; connections without a token last.
    TimeLeft,
    /// Trouble first: failed, backoff, working, valid, stopped, idle.
    State,
}

impl SortKey {
    /// The next order `s` switches to.
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            Self::Group => Self::Name,
            Self::Name => Self::TimeLeft,
            Self::TimeLeft => Self::State,
            Self::State => Self::Group,
        }
    }

    /// The word shown in the list's title.
    pub fn label(self) -> &'static str {
        match self {
            Self::Group => "group",
            Self::Name => "name",
            Self::TimeLeft => "time left",
            Self::State => "state",
        }
    }
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

/// What the notice says when the file changed on disk but does not load.
const RELOAD_FAILED: &str = "The connections file changed on disk but cannot be loaded; the \
    connections shown keep running as before. Fix the file and save it again: it is reloaded \
    on the next change.";

/// The state of the terminal UI.
#[derive(Debug)]
// Independent modes (help, filter typing, inspector, quit), each read on its own.
#[allow(clippy::struct_excessive_bools)]
pub struct App {
    /// What the header shows: `"demo"` or the config path.
    pub(crate) title: String,
    /// The config the engine runs (the app's source for edit forms).
    config: Arc<Config>,
    /// The configured connections, in file order.
    pub(crate) connections: Vec<ConnectionInfo>,
    /// The latest snapshot of each connection's session, same order; `None` until the
    /// engine reports one.
    pub(crate) sessions: Vec<Option<SessionSnapshot>>,
    /// Every exchange seen, newest first.
    pub(crate) journal: VecDeque<JournalEntry>,
    /// The selected connection, as an index into `connections`.
    pub(crate) selected: usize,
    /// Whether the help overlay is up.
    pub(crate) help_open: bool,
    /// Lines the help overlay is scrolled by (clamped when drawn).
    pub(crate) help_scroll: u16,
    /// The list filter as typed (`/`).
    pub(crate) filter: Input,
    /// True while keys go into the filter.
    pub(crate) filter_typing: bool,
    /// The list order.
    pub(crate) sort: SortKey,
    /// The add/edit form, when open.
    pub(crate) form: Option<ConnectionForm>,
    /// The connection whose deletion waits for confirmation.
    pub(crate) confirm_delete: Option<String>,
    /// A message the user must acknowledge.
    pub(crate) notice: Option<Notice>,
    /// The password prompt, when open.
    pub(crate) prompt: Option<PasswordPrompt>,
    /// Connections whose password prompt waits behind the open one.
    prompt_queue: VecDeque<String>,
    /// Edits waiting for the loop to write them.
    edits: Vec<EditRequest>,
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
    /// Whose token that is, for the message once the copy is done.
    clipboard_name: Option<String>,
    /// Config warnings (plain-text passwords, ...).
    pub(crate) warnings: Vec<String>,
    /// The connections file that was read (or looked for).
    pub(crate) config_path: Option<PathBuf>,
    /// The diagnostic log file.
    pub(crate) log_path: Option<PathBuf>,
    /// Styles.
    pub(crate) theme: Theme,
    /// The themes `t` cycles through and the one shown.
    themes: ThemeChoice,
    /// How to notify (`[settings] notify`).
    notify: NotifyMode,
    /// What each connection's notifications remember, by name.
    alerts: HashMap<String, AlertMemory>,
    /// Notifications waiting for the loop to write.
    notifications: Vec<Notification>,
    /// Which pane has focus.
    pub(crate) focus: Pane,
    /// The journal pane's selection and filters.
    pub(crate) journal_view: JournalView,
    /// The journal entry whose detail popup is open.
    pub(crate) journal_detail: Option<JournalDetail>,
    /// How many journal entries are kept (`[settings] journal_entries`).
    journal_capacity: usize,
    /// Entries the user asked to export (oldest first), for the loop to write.
    export: Option<Vec<JournalEntry>>,
    /// True while the full token inspector is up (`i`).
    pub(crate) inspector_open: bool,
    /// Until when the whole token is shown (`v`); any key hides it. Never stored anywhere.
    pub(crate) reveal_until: Option<DateTime<Utc>>,
    /// Lines the inspector is scrolled by.
    pub(crate) inspector_scroll: u16,
    /// Where the panes were drawn last, for the mouse.
    pub(crate) areas: PaneAreas,
}

/// The themes to choose from and the one shown.
#[derive(Debug)]
struct ThemeChoice {
    /// The themes `t` cycles through.
    set: ThemeSet,
    /// The current theme's position in `set`.
    index: usize,
    /// `NO_COLOR` is set: every theme is shown without colours.
    no_color: bool,
}

/// What the notification decision remembers about one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertMemory {
    /// The session was valid since it last failed, stopped or notified.
    pub was_valid: bool,
    /// Set once the low-meter notification went out: the reset instant of
    /// that window (`Some(None)` when the meter gave none).
    pub low_meter_window: Option<Option<DateTime<Utc>>>,
}

/// A meter is low at or below this share of its limit, in percent.
pub const LOW_METER_PERCENT: u64 = 10;

/// Whether the change from `old` (the state shown before) to `new` calls for a
/// notification: the session failed (entered Failed, or Backoff after it had
/// been valid) or the meter fell to [`LOW_METER_PERCENT`] of its limit (once
/// per reset window). Updates `memory`; the same snapshot twice notifies once.
/// The text holds the connection's name and fixed words, never a secret.
pub fn notification_for(
    old: SessionState,
    new: &SessionSnapshot,
    memory: &mut AlertMemory,
) -> Option<Notification> {
    let name = &new.name;
    let mut found = None;
    match new.state {
        SessionState::Valid => memory.was_valid = true,
        SessionState::Idle | SessionState::Stopped => memory.was_valid = false,
        SessionState::Failed if old != SessionState::Failed => {
            memory.was_valid = false;
            let why = new
                .last_verdict
                .as_ref()
                .map_or("no verdict", |v| v.kind.label());
            found = Some(Notification {
                title: format!("actsm: {name} failed"),
                body: format!("The session of '{name}' failed ({why}); it needs you."),
            });
        }
        SessionState::Backoff if old != SessionState::Backoff && memory.was_valid => {
            memory.was_valid = false;
            found = Some(Notification {
                title: format!("actsm: {name} lost its session"),
                body: format!("'{name}' was valid and now backs off; it retries by itself."),
            });
        }
        _ => {}
    }
    if let Some(meter) = &new.meter
        && let (Some(limit), Some(remaining)) = (meter.limit, meter.remaining)
        && limit > 0
    {
        if remaining.saturating_mul(100) <= limit.saturating_mul(LOW_METER_PERCENT) {
            let window = Some(meter.reset_at);
            if memory.low_meter_window != window {
                memory.low_meter_window = window;
                if found.is_none() {
                    found = Some(Notification {
                        title: format!("actsm: {name} rate limit low"),
                        body: format!(
                            "'{name}': {remaining} of {limit} calls left in this window."
                        ),
                    });
                }
            }
        } else if meter.reset_at.is_none() {
            // No window to go by: a recovery re-arms the notification.
            memory.low_meter_window = None;
        }
    }
    found
}

impl App {
    /// The state for `config`, before any engine event: every session idle,
    /// the clock at the Unix epoch until the first [`Message::Tick`], times in UTC,
    /// colours on.
    pub fn new(config: &Config, options: &TuiOptions) -> App {
        let connections: Vec<ConnectionInfo> = config
            .connections
            .iter()
            .map(ConnectionInfo::from_connection)
            .collect();
        let mut app = App {
            title: options.title.clone(),
            config: Arc::new(config.clone()),
            sessions: vec![None; connections.len()],
            connections,
            journal: VecDeque::new(),
            selected: 0,
            help_open: false,
            help_scroll: 0,
            filter: Input::default(),
            filter_typing: false,
            sort: SortKey::default(),
            form: None,
            confirm_delete: None,
            notice: None,
            prompt: None,
            prompt_queue: VecDeque::new(),
            edits: Vec::new(),
            quit: false,
            now: DateTime::<Utc>::UNIX_EPOCH,
            offset: FixedOffset::east_opt(0).expect("offset 0 is in range"),
            status: None,
            clipboard: None,
            clipboard_name: None,
            warnings: config.warnings.clone(),
            config_path: config.path.clone().or_else(|| options.config_path.clone()),
            log_path: options.log_path.clone(),
            theme: Theme::default(),
            themes: ThemeChoice {
                set: ThemeSet::built_in(),
                index: 0,
                no_color: false,
            },
            notify: config.settings.notify,
            alerts: HashMap::new(),
            notifications: Vec::new(),
            focus: Pane::default(),
            journal_view: JournalView::default(),
            journal_detail: None,
            journal_capacity: config.settings.journal_entries.max(1),
            export: None,
            inspector_open: false,
            reveal_until: None,
            inspector_scroll: 0,
            areas: PaneAreas::default(),
        };
        // The top row of the list as sorted, not the file's first connection, which a
        // sort by group may put far down a long list.
        if let Some(&first) = app.visible().first() {
            app.selected = first;
        }
        app
    }

    /// Shows wall-clock times in `offset` (the loop passes the local one).
    pub fn set_offset(&mut self, offset: FixedOffset) {
        self.offset = offset;
    }

    /// Replaces the styles (e.g. [`Theme::from_env`] to honour `NO_COLOR`).
    pub fn set_theme(&mut self, theme: Theme) {
        self.theme = theme;
    }

    /// Installs the themes `t` cycles through and shows `requested` (the
    /// `--theme` flag, else `theme` in `[settings]`; the first theme when
    /// `None`). `no_color` (`NO_COLOR`) drops every colour whatever the
    /// theme. Theme files that did not load (`errors`) and an unknown
    /// `requested` name are shown in a notice; the default theme is used.
    pub fn set_themes(
        &mut self,
        themes: ThemeSet,
        requested: Option<&str>,
        no_color: bool,
        errors: Vec<String>,
    ) {
        let mut lines = errors;
        let index = match requested {
            None => Some(0),
            Some(name) => themes.position(name),
        };
        if index.is_none()
            && let Some(name) = requested
        {
            lines.insert(0, themes.unknown(name));
        }
        self.themes.set = themes;
        self.themes.no_color = no_color;
        self.show_theme(index.unwrap_or(0));
        if !lines.is_empty() {
            lines.push(format!("Showing the '{}' theme.", self.theme_name()));
            self.notice = Some(Notice {
                title: "Theme".to_owned(),
                lines,
                is_error: true,
            });
        }
    }

    fn show_theme(&mut self, index: usize) {
        self.themes.index = index % self.themes.set.len();
        let palette = self.themes.set.at(self.themes.index).palette;
        self.theme = if self.themes.no_color {
            Theme::no_color()
        } else {
            Theme::with_palette(palette)
        };
    }

    /// The current theme's name.
    pub fn theme_name(&self) -> &str {
        &self.themes.set.at(self.themes.index).name
    }

    /// Takes the notifications due, for the loop to write (bell, OSC 9/777).
    pub fn take_notifications(&mut self) -> Vec<Notification> {
        std::mem::take(&mut self.notifications)
    }

    /// How notifications are given (`[settings] notify`).
    pub fn notify_mode(&self) -> NotifyMode {
        self.notify
    }

    /// True once the user asked to quit.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// The selected connection's index in file order.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The selected connection's name, if one is shown (none when the list is
    /// empty or the filter hides every row).
    pub fn selected_name(&self) -> Option<&str> {
        self.selected_index()
            .map(|i| self.connections[i].name.as_str())
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

    /// How many journal entries are kept in memory.
    pub fn journal_capacity(&self) -> usize {
        self.journal_capacity
    }

    /// Gives `pane` the focus (Tab cycling and mouse clicks call this).
    pub fn set_focus(&mut self, pane: Pane) {
        self.focus = pane;
    }

    /// True while the journal has focus: navigation keys scroll it.
    pub fn journal_focused(&self) -> bool {
        self.focus == Pane::Journal
    }

    /// The journal pane's state (selection, filters).
    pub fn journal_view(&self) -> &JournalView {
        &self.journal_view
    }

    /// Moves the journal selection by `delta` visible rows (negative is newer): keys and wheel.
    pub fn scroll_journal(&mut self, delta: isize) {
        let len = self.visible_journal_len();
        self.journal_view.scroll(delta, len);
    }

    /// The entry whose detail popup is open.
    pub fn journal_detail(&self) -> Option<&JournalDetail> {
        self.journal_detail.as_ref()
    }

    /// The journal entries the filters let through, newest first.
    pub fn visible_journal(&self) -> Vec<&JournalEntry> {
        let passes = self.journal_filter();
        self.journal.iter().filter(|e| passes(e)).collect()
    }

    /// How many entries [`Self::visible_journal`] would give, without collecting them.
    pub(crate) fn visible_journal_len(&self) -> usize {
        if !self.journal_view.only_selected_connection && !self.journal_view.failures_only {
            return self.journal.len();
        }
        let passes = self.journal_filter();
        self.journal.iter().filter(|e| passes(e)).count()
    }

    /// The journal filters as one test, with the selected connection looked up once
    /// rather than once per entry.
    fn journal_filter(&self) -> impl Fn(&JournalEntry) -> bool + '_ {
        let only = self
            .journal_view
            .only_selected_connection
            .then(|| self.selected_name());
        let failures_only = self.journal_view.failures_only;
        move |entry| {
            only.is_none_or(|name| name == Some(entry.connection.as_str()))
                && (!failures_only || entry.is_failure())
        }
    }

    /// The selected journal entry among the visible ones.
    pub fn selected_journal_entry(&self) -> Option<&JournalEntry> {
        let visible = self.visible_journal();
        visible
            .get(
                self.journal_view
                    .selected
                    .min(visible.len().saturating_sub(1)),
            )
            .copied()
    }

    /// Shows entries read back from the journal file (newest first) after the ones this
    /// run has added already, which are newer.
    pub fn load_journal(&mut self, loaded: crate::journal::Loaded) {
        self.journal.extend(loaded.entries);
        self.journal.truncate(self.journal_capacity);
        if loaded.skipped > 0 {
            self.set_status(
                format!(
                    "journal: {} unreadable line(s) skipped (see the log)",
                    loaded.skipped
                ),
                true,
            );
        }
    }

    /// Takes the entries the user asked to export (`x` in the journal), oldest first,
    /// for the loop to write (see [`super::export_journal`]).
    pub fn take_export(&mut self) -> Option<Vec<JournalEntry>> {
        self.export.take()
    }

    /// The status bar message, while it is current.
    pub fn status_message(&self) -> Option<&StatusMessage> {
        self.status.as_ref().filter(|s| s.until > self.now)
    }

    /// Takes the token the user asked to copy, for the loop to write as OSC 52.
    pub fn take_clipboard(&mut self) -> Option<Token> {
        self.clipboard.take()
    }

    /// Takes the edits the user asked for, for the loop to write (see
    /// [`super::store::ConfigStore::apply`]) and answer with a message.
    pub fn take_edits(&mut self) -> Vec<EditRequest> {
        std::mem::take(&mut self.edits)
    }

    /// The list filter as typed.
    pub fn filter_text(&self) -> &str {
        self.filter.value()
    }

    /// The list order.
    pub fn sort(&self) -> SortKey {
        self.sort
    }

    /// The open add/edit form.
    pub fn form(&self) -> Option<&ConnectionForm> {
        self.form.as_ref()
    }

    /// The connection whose password prompt is open.
    pub fn prompt_for(&self) -> Option<&str> {
        self.prompt.as_ref().map(|p| p.name.as_str())
    }

    /// The notice popup, when one is up.
    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    /// The connection whose deletion waits for a yes.
    pub fn confirming_delete(&self) -> Option<&str> {
        self.confirm_delete.as_deref()
    }

    /// The names of the rows shown, in list order.
    pub fn visible_names(&self) -> Vec<&str> {
        self.visible()
            .into_iter()
            .map(|i| self.connections[i].name.as_str())
            .collect()
    }

    /// Indexes of the rows shown (filter applied), in list order.
    pub(crate) fn visible(&self) -> Vec<usize> {
        let needle = self.filter.value().trim().to_lowercase();
        let mut rows: Vec<usize> = (0..self.connections.len())
            .filter(|&i| self.connections[i].matches(&needle))
            .collect();
        let name = |i: usize| self.connections[i].name_key.as_str();
        match self.sort {
            SortKey::Group => rows.sort_by_cached_key(|&i| {
                let group = self.connections[i].group_key.as_deref();
                (group.is_none(), group, name(i))
            }),
            SortKey::Name => rows.sort_by_cached_key(|&i| name(i)),
            SortKey::TimeLeft => rows.sort_by_cached_key(|&i| {
                let expires = self.sessions[i]
                    .as_ref()
                    .and_then(|s| s.token.as_ref())
                    .filter(|_| {
                        !matches!(
                            self.state_of(i),
                            SessionState::Idle | SessionState::Stopped | SessionState::Failed
                        )
                    })
                    .map(|t| t.expiry.expires_at);
                (expires.is_none(), expires, name(i))
            }),
            SortKey::State => rows.sort_by_cached_key(|&i| (state_rank(self.state_of(i)), name(i))),
        }
        rows
    }

    /// The selected row's index in `connections`, when it is shown.
    pub(crate) fn selected_index(&self) -> Option<usize> {
        let needle = self.filter.value().trim().to_lowercase();
        self.connections
            .get(self.selected)
            .filter(|c| c.matches(&needle))
            .map(|_| self.selected)
    }

    fn select_first_visible(&mut self) {
        if self.selected_index().is_none()
            && let Some(&first) = self.visible().first()
        {
            self.selected = first;
        }
    }

    /// Moves the selection to the row `pick` chooses among the shown ones,
    /// given the current row's position (`None` when it is hidden).
    pub(crate) fn move_selection(&mut self, pick: impl Fn(Option<usize>, usize) -> usize) {
        let rows = self.visible();
        if rows.is_empty() {
            return;
        }
        let at = rows.iter().position(|&i| i == self.selected);
        let to = pick(at, rows.len()).min(rows.len() - 1);
        self.selected = rows[to];
    }

    /// Shows `config`: the list follows the file, sessions and the selection
    /// are kept by name, the filter stays.
    pub fn apply_config(&mut self, config: &Arc<Config>) {
        let selected = self.connections.get(self.selected).map(|c| c.name.clone());
        let mut old_sessions: HashMap<String, SessionSnapshot> = self
            .connections
            .iter()
            .zip(std::mem::take(&mut self.sessions))
            .filter_map(|(c, s)| Some((c.name.clone(), s?)))
            .collect();
        self.connections = config
            .connections
            .iter()
            .map(ConnectionInfo::from_connection)
            .collect();
        self.sessions = self
            .connections
            .iter()
            .map(|c| old_sessions.remove(&c.name))
            .collect();
        self.warnings.clone_from(&config.warnings);
        self.notify = config.settings.notify;
        self.alerts
            .retain(|name, _| self.connections.iter().any(|c| &c.name == name));
        self.config = Arc::clone(config);
        self.selected = selected
            .and_then(|name| self.connections.iter().position(|c| c.name == name))
            .unwrap_or_else(|| self.selected.min(self.connections.len().saturating_sub(1)));
        self.select_first_visible();
        if let Some(form) = &mut self.form {
            form.set_taken(other_names(&self.connections, form.editing()));
        }
    }

    /// Applies one message; returns the commands to send to the engine.
    pub fn update(&mut self, msg: Message) -> Vec<Command> {
        match msg {
            Message::Engine(Event::SessionChanged(snapshot)) => {
                self.on_snapshot(snapshot);
                Vec::new()
            }
            Message::Engine(Event::Journal(entry)) => {
                self.on_journal_entry(entry);
                Vec::new()
            }
            Message::Engine(Event::SecretNeeded(name)) => {
                let known = self.prompt.as_ref().is_some_and(|p| p.name == name)
                    || self.prompt_queue.contains(&name);
                if !known {
                    self.prompt_queue.push_back(name);
                }
                self.open_next_prompt();
                Vec::new()
            }
            Message::Key(key) => self.on_key(key),
            Message::Resize => Vec::new(),
            Message::JournalLoaded(loaded) => {
                self.load_journal(loaded);
                Vec::new()
            }
            Message::Tick(now) => {
                self.now = now;
                if self.reveal_until.is_some_and(|until| until <= now) {
                    self.reveal_until = None;
                }
                Vec::new()
            }
            Message::Mouse(event) => {
                self.on_mouse(event);
                Vec::new()
            }
            Message::ClipboardCopied(method) => {
                if let Some(name) = self.clipboard_name.take() {
                    self.set_status(
                        format!("token for '{name}' copied ({})", method.describe()),
                        false,
                    );
                }
                Vec::new()
            }
            Message::ClipboardFailed(error) => {
                self.set_status(format!("could not copy the token: {error}"), true);
                Vec::new()
            }
            Message::ConfigReloaded(config) => {
                self.apply_config(&config);
                self.set_status(
                    "connections file changed on disk: reloaded".to_owned(),
                    false,
                );
                vec![Command::Reload(config)]
            }
            Message::ConfigLoadFailed(error) => {
                self.notice = Some(Notice {
                    title: "Connections file not reloaded".to_owned(),
                    lines: vec![RELOAD_FAILED.to_owned(), error],
                    is_error: true,
                });
                Vec::new()
            }
            Message::EditSaved {
                config,
                summary,
                select,
            } => {
                self.form = None;
                self.confirm_delete = None;
                self.apply_config(&config);
                if let Some(index) =
                    select.and_then(|name| self.connections.iter().position(|c| c.name == name))
                {
                    self.selected = index;
                    if self.selected_index().is_none() {
                        // A filter that hides the row just saved would be confusing.
                        self.filter = Input::default();
                    }
                }
                self.set_status(summary, false);
                vec![Command::Reload(config)]
            }
            Message::EditFailed {
                error,
                field_errors,
                changed_on_disk,
                reloaded,
            } => self.on_edit_failed(error, field_errors, changed_on_disk, reloaded),
            Message::KeyringStored { name, error } => {
                self.on_keyring_stored(&name, error);
                Vec::new()
            }
            Message::JournalExported(result) => {
                self.on_journal_exported(result);
                Vec::new()
            }
        }
    }

    /// Shows `snapshot` and queues the notification it calls for, if any.
    fn on_snapshot(&mut self, snapshot: SessionSnapshot) {
        let Some(index) = self
            .connections
            .iter()
            .position(|c| c.name == snapshot.name)
        else {
            tracing::debug!(connection = %snapshot.name, "snapshot for an unknown connection ignored");
            return;
        };
        let old = self.state_of(index);
        let memory = self.alerts.entry(snapshot.name.clone()).or_default();
        if let Some(notification) = notification_for(old, &snapshot, memory)
            && self.notify != NotifyMode::Off
        {
            self.notifications.push(notification);
        }
        self.sessions[index] = Some(snapshot);
    }

    fn on_journal_exported(&mut self, result: Result<(PathBuf, usize), String>) {
        match result {
            Ok((path, count)) => self.set_status(
                format!("journal: {count} entries exported to {}", path.display()),
                false,
            ),
            Err(error) => self.set_status(format!("journal not exported: {error}"), true),
        }
    }

    /// A new exchange: at the top; a scrolled-down selection stays on its entry.
    fn on_journal_entry(&mut self, entry: JournalEntry) {
        if self.journal_view.selected > 0 && (self.journal_filter())(&entry) {
            self.journal_view.selected += 1;
        }
        self.journal.push_front(entry);
        self.journal.truncate(self.journal_capacity);
        let len = self.visible_journal_len();
        self.journal_view.scroll(0, len);
    }

    fn on_edit_failed(
        &mut self,
        error: String,
        field_errors: Vec<FieldError>,
        changed_on_disk: bool,
        reloaded: Option<Arc<Config>>,
    ) -> Vec<Command> {
        self.confirm_delete = None;
        let mut commands = Vec::new();
        if let Some(config) = reloaded {
            self.apply_config(&config);
            commands.push(Command::Reload(config));
        }
        if changed_on_disk {
            self.notice = Some(Notice {
                title: "File changed on disk".to_owned(),
                lines: vec![error],
                is_error: false,
            });
        } else if let Some(form) = &mut self.form
            && !field_errors.is_empty()
        {
            form.show_errors(field_errors, Some(error));
        } else if let Some(form) = &mut self.form {
            form.show_errors(Vec::new(), Some(error.clone()));
            self.set_status(error, true);
        } else {
            self.notice = Some(Notice {
                title: "Not saved".to_owned(),
                lines: vec![error],
                is_error: true,
            });
        }
        commands
    }

    fn on_keyring_stored(&mut self, name: &str, error: Option<String>) {
        match error {
            None => self.set_status(
                format!("password for '{name}' stored in the OS keyring"),
                false,
            ),
            Some(error) => {
                self.notice = Some(Notice {
                    title: "Keyring".to_owned(),
                    lines: vec![
                        format!(
                            "The password for '{name}' could not be stored in the OS keyring; \
                             the connection is saved but cannot start until the keyring holds \
                             its password."
                        ),
                        error,
                    ],
                    is_error: true,
                });
            }
        }
    }

    fn open_next_prompt(&mut self) {
        if self.prompt.is_none()
            && let Some(name) = self.prompt_queue.pop_front()
        {
            self.prompt = Some(PasswordPrompt {
                name,
                input: MaskedInput::default(),
            });
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

        // The revealed token goes away on any key (that key does nothing else).
        if self.reveal_until.take().is_some() {
            return Vec::new();
        }

        // Popups are modal, topmost first.
        if let Some(commands) = self.on_popup_key(key) {
            return commands;
        }

        // The help overlay is modal: it scrolls, closes, or the app quits.
        if self.help_open {
            self.on_help_key(key.code);
            return Vec::new();
        }

        if self.filter_typing {
            match key.code {
                KeyCode::Esc => {
                    self.filter = Input::default();
                    self.filter_typing = false;
                }
                KeyCode::Enter => self.filter_typing = false,
                KeyCode::Up => self.move_selection(|at, _| at.map_or(0, |i| i.saturating_sub(1))),
                KeyCode::Down => self.move_selection(|at, _| at.map_or(0, |i| i + 1)),
                _ => {
                    self.filter.handle_event(&TermEvent::Key(key));
                    self.select_first_visible();
                }
            }
            return Vec::new();
        }

        if let Some(commands) = self.on_focus_key(key) {
            return commands;
        }

        let selected = self.selected_name().map(str::to_owned);
        match key.code {
            KeyCode::Esc if self.inspector_open => self.inspector_open = false,
            KeyCode::Esc if !self.filter.value().is_empty() => {
                self.filter = Input::default();
                self.select_first_visible();
            }
            KeyCode::Char('q') => self.quit = true,
            // Esc backs out (to the list) and never quits: pressed twice "to be
            // sure" it must not stop every session.
            KeyCode::Esc if self.focus != Pane::List => self.focus = Pane::List,
            KeyCode::Esc => self.set_status("q quits".to_owned(), false),
            KeyCode::Char('?') => self.help_open = true,
            KeyCode::Tab => self.cycle_focus(true),
            KeyCode::BackTab => self.cycle_focus(false),
            KeyCode::Char('i') => {
                self.inspector_open = !self.inspector_open;
                self.inspector_scroll = 0;
            }
            KeyCode::Char('v') => self.reveal_selected(),
            KeyCode::Up
            | KeyCode::Down
            | KeyCode::Char('j' | 'k' | 'g' | 'G')
            | KeyCode::Home
            | KeyCode::End => self.move_in_focus(key.code),
            KeyCode::Char('A') if !self.connections.is_empty() => return vec![Command::StartAll],
            KeyCode::Char('/') => self.filter_typing = true,
            KeyCode::Char('s') => {
                self.sort = self.sort.next();
                self.set_status(format!("sorted by {}", self.sort.label()), false);
            }
            KeyCode::Char('t') => {
                self.show_theme(self.themes.index + 1);
                let text = if self.themes.no_color {
                    format!("theme: {} (NO_COLOR is set: no colours)", self.theme_name())
                } else {
                    format!("theme: {}", self.theme_name())
                };
                self.set_status(text, false);
            }
            KeyCode::Char('a') => self.open_add_form(),
            KeyCode::Char('e') => self.open_edit_form(selected),
            KeyCode::Char('d') => match selected {
                Some(name) if self.can_edit() => self.confirm_delete = Some(name),
                Some(_) => self.explain_read_only(),
                None => self.set_status("no connection selected".to_owned(), true),
            },
            KeyCode::Char('D') => self.duplicate(selected),
            KeyCode::Enter => return selected.map(Command::Start).into_iter().collect(),
            KeyCode::Char('r') => return self.refresh_selected(selected, false),
            KeyCode::Char('R') => return self.refresh_selected(selected, true),
            KeyCode::Char('x') => return selected.map(Command::Stop).into_iter().collect(),
            KeyCode::Char('c') => self.copy_selected(),
            _ => {}
        }
        Vec::new()
    }

    /// A key under the help overlay: scroll, close, or quit.
    fn on_help_key(&mut self, code: KeyCode) {
        let scroll = &mut self.help_scroll;
        match code {
            KeyCode::Char('?') | KeyCode::Esc => {
                self.help_open = false;
                *scroll = 0;
            }
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Down | KeyCode::Char('j') => *scroll = scroll.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
            KeyCode::PageDown => *scroll = scroll.saturating_add(10),
            KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
            KeyCode::Home | KeyCode::Char('g') => *scroll = 0,
            KeyCode::End | KeyCode::Char('G') => *scroll = u16::MAX,
            _ => {}
        }
    }

    /// The keys the journal takes while it has focus and is shown (`None`: not taken;
    /// Tab and the movement keys are [`App::cycle_focus`] and [`App::move_in_focus`]).
    fn on_focus_key(&mut self, key: KeyEvent) -> Option<Vec<Command>> {
        // Not shown at this size (the terminal shrank): keys go to the list. Before
        // the first frame nothing is drawn yet and the journal counts as shown.
        let hidden = self.areas.journal.get().is_none() && !self.areas.shown().is_empty();
        if self.focus != Pane::Journal || self.inspector_open || hidden {
            return None;
        }
        let len = self.visible_journal_len();
        let view = &mut self.journal_view;
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => view.scroll(-1, len),
            KeyCode::Down | KeyCode::Char('j') => view.scroll(1, len),
            KeyCode::PageUp => view.scroll(-PAGE, len),
            KeyCode::PageDown => view.scroll(PAGE, len),
            KeyCode::Home | KeyCode::Char('g') => view.home(),
            KeyCode::End | KeyCode::Char('G') => view.end(len),
            KeyCode::Char('f') => {
                view.only_selected_connection = !view.only_selected_connection;
                view.home();
            }
            KeyCode::Char('F') => {
                view.failures_only = !view.failures_only;
                view.home();
            }
            KeyCode::Enter => match self.selected_journal_entry() {
                Some(entry) => {
                    self.journal_detail = Some(JournalDetail {
                        entry: entry.clone(),
                        scroll: 0,
                    });
                }
                None => self.set_status("no journal entry to show".to_owned(), true),
            },
            KeyCode::Char('x') => {
                let mut entries: Vec<JournalEntry> =
                    self.visible_journal().into_iter().cloned().collect();
                if entries.is_empty() {
                    self.set_status("no journal entries to export".to_owned(), true);
                } else {
                    entries.reverse();
                    self.export = Some(entries);
                }
            }
            KeyCode::Esc => self.focus = Pane::List,
            _ => return None,
        }
        Some(Vec::new())
    }

    /// Keys for the open popup, if one is open (`None` otherwise).
    fn on_popup_key(&mut self, key: KeyEvent) -> Option<Vec<Command>> {
        if let Some(prompt) = &mut self.prompt {
            match key.code {
                KeyCode::Enter => {
                    let name = prompt.name.clone();
                    let secret = prompt.input.secret();
                    self.prompt = None;
                    self.open_next_prompt();
                    return Some(vec![Command::ProvideSecret(name, secret)]);
                }
                KeyCode::Esc => {
                    let name = prompt.name.clone();
                    self.prompt = None;
                    self.set_status(
                        format!("no password typed: '{name}' not started (Enter asks again)"),
                        true,
                    );
                    self.open_next_prompt();
                }
                _ => {
                    prompt.input.handle(key);
                }
            }
            return Some(Vec::new());
        }
        if let Some(detail) = &mut self.journal_detail {
            match key.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => self.journal_detail = None,
                KeyCode::Up | KeyCode::Char('k') => detail.scroll = detail.scroll.saturating_sub(1),
                KeyCode::Down | KeyCode::Char('j') => {
                    detail.scroll = detail.scroll.saturating_add(1);
                }
                KeyCode::PageUp => detail.scroll = detail.scroll.saturating_sub(10),
                KeyCode::PageDown => detail.scroll = detail.scroll.saturating_add(10),
                KeyCode::Home | KeyCode::Char('g') => detail.scroll = 0,
                _ => {}
            }
            return Some(Vec::new());
        }
        if self.notice.is_some() {
            if matches!(key.code, KeyCode::Enter | KeyCode::Esc | KeyCode::Char('q')) {
                self.notice = None;
            }
            return Some(Vec::new());
        }
        if let Some(name) = &self.confirm_delete {
            match key.code {
                KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
                    self.edits.push(EditRequest::Delete { name: name.clone() });
                }
                KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => self.confirm_delete = None,
                _ => {}
            }
            return Some(Vec::new());
        }
        if let Some(form) = &mut self.form {
            match form.on_key(key) {
                FormOutcome::Stay => {}
                FormOutcome::Cancel => self.form = None,
                FormOutcome::Submit {
                    draft,
                    keyring_password,
                } => {
                    let request = match &form.mode {
                        FormMode::Add => EditRequest::Add {
                            draft,
                            keyring_password,
                        },
                        FormMode::Edit(old_name) => EditRequest::Update {
                            old_name: old_name.clone(),
                            draft,
                            keyring_password,
                        },
                    };
                    self.edits.push(request);
                }
            }
            return Some(Vec::new());
        }

        None
    }

    /// Edits need a connections file to write to.
    fn can_edit(&self) -> bool {
        self.config_path.is_some()
    }

    fn explain_read_only(&mut self) {
        self.set_status(
            "no connections file to edit: start actsm with --config PATH".to_owned(),
            true,
        );
    }

    fn open_add_form(&mut self) {
        if !self.can_edit() {
            self.explain_read_only();
            return;
        }
        self.form = Some(ConnectionForm::add(other_names(&self.connections, None)));
    }

    fn open_edit_form(&mut self, selected: Option<String>) {
        if !self.can_edit() {
            self.explain_read_only();
            return;
        }
        let Some(connection) = selected.and_then(|name| self.config.connection(&name)) else {
            self.set_status("no connection selected to edit".to_owned(), true);
            return;
        };
        let draft = ConnectionDraft::from_connection(connection);
        let taken = other_names(&self.connections, Some(&draft.name));
        self.form = Some(ConnectionForm::edit(&draft, taken));
    }

    fn duplicate(&mut self, selected: Option<String>) {
        if !self.can_edit() {
            self.explain_read_only();
            return;
        }
        let Some(name) = selected else {
            self.set_status("no connection selected to duplicate".to_owned(), true);
            return;
        };
        let taken = |candidate: &str| self.connections.iter().any(|c| c.name == candidate);
        let mut new_name = format!("{name} copy");
        let mut n = 2;
        while taken(&new_name) {
            new_name = format!("{name} copy {n}");
            n += 1;
        }
        self.edits.push(EditRequest::Duplicate { name, new_name });
    }

    /// `r`: a Bearer refresh needs a token. Without one, say so rather than
    /// sending the password for a session the user never started.
    ///
    /// While the rate limit holds the session, `r` explains the hold (the
    /// engine holds the call and journals it too) and `R` (`force`) goes anyway.
    fn refresh_selected(&mut self, selected: Option<String>, force: bool) -> Vec<Command> {
        let Some(name) = selected else {
            self.set_status("no connection selected".to_owned(), true);
            return Vec::new();
        };
        let now = self.now;
        let holds_token = self
            .session(&name)
            .is_some_and(|snapshot| snapshot.token.is_some());
        let held_until = self
            .session(&name)
            .and_then(|snapshot| snapshot.held_until)
            .filter(|at| *at > now);
        if let Some(at) = held_until {
            if force {
                self.set_status(format!("'{name}': forced while held"), false);
                return vec![Command::ForceRefresh(name)];
            }
            let wait = (at - now).to_std().unwrap_or_default();
            self.set_status(
                format!(
                    "held: rate limit resets in {} (press R to force)",
                    crate::session::policy::short_duration(wait)
                ),
                true,
            );
            return vec![Command::RefreshNow(name)];
        }
        if holds_token {
            vec![if force {
                Command::ForceRefresh(name)
            } else {
                Command::RefreshNow(name)
            }]
        } else {
            self.set_status(
                format!("'{name}' holds no token to refresh; Enter starts it"),
                true,
            );
            Vec::new()
        }
    }

    fn copy_selected(&mut self) {
        let Some(index) = self.selected_index() else {
            self.set_status("no connection selected: nothing to copy".to_owned(), true);
            return;
        };
        let name = self.connections[index].name.clone();
        let token = self.sessions[index]
            .as_ref()
            .and_then(|s| s.token.as_ref())
            .map(|t| t.token.clone());
        match token {
            Some(token) => {
                self.clipboard = Some(token);
                self.clipboard_name = Some(name);
            }
            None => self.set_status(
                format!("no token for '{name}' to copy yet (Enter starts it)"),
                true,
            ),
        }
    }

    /// `j`/`k`/`g`/`G` (and arrows, Home, End) in the focused pane: the list
    /// (and the meter, which follows it) moves the selection, the inspector and
    /// the journal scroll.
    fn move_in_focus(&mut self, code: KeyCode) {
        let (down, ends) = match code {
            KeyCode::Down | KeyCode::Char('j') => (true, false),
            KeyCode::Up | KeyCode::Char('k') => (false, false),
            KeyCode::End | KeyCode::Char('G') => (true, true),
            _ => (false, true),
        };
        let pane = if self.inspector_open {
            Pane::Inspector
        } else if self.areas.get(self.focus).is_none() && self.areas.list.get().is_some() {
            // The focused pane is not shown at this size (the terminal shrank): the list.
            Pane::List
        } else {
            self.focus
        };
        match pane {
            Pane::List | Pane::Meter => {
                let before = self.selected;
                match (down, ends) {
                    (false, false) => {
                        self.move_selection(|at, _| at.map_or(0, |i| i.saturating_sub(1)));
                    }
                    (true, false) => self.move_selection(|at, _| at.map_or(0, |i| i + 1)),
                    (false, true) => self.move_selection(|_, _| 0),
                    (true, true) => self.move_selection(|_, len| len - 1),
                }
                if self.selected != before {
                    self.reset_inspector();
                }
            }
            Pane::Inspector => match (down, ends) {
                (false, true) => self.inspector_scroll = 0,
                (true, true) => self.scroll_inspector(isize::from(i16::MAX)),
                (down, false) => self.scroll_inspector(if down { 1 } else { -1 }),
            },
            Pane::Journal => match (down, ends) {
                (false, true) => self.journal_view.home(),
                (true, true) => self.scroll_journal(isize::MAX),
                (down, false) => self.scroll_journal(if down { 1 } else { -1 }),
            },
        }
    }

    /// `v`: shows the selected token in full for [`REVEAL_SECONDS`], for terminals
    /// where the OSC 52 copy does not reach the clipboard.
    fn reveal_selected(&mut self) {
        let has_token = self
            .selection()
            .and_then(|(_, s)| s)
            .is_some_and(|s| s.token.is_some());
        if has_token {
            self.reveal_until = Some(self.now + chrono::Duration::seconds(REVEAL_SECONDS));
        } else {
            self.set_status(
                "no token to reveal (Enter starts the connection)".to_owned(),
                true,
            );
        }
    }

    /// True while the whole token is shown.
    pub fn revealing(&self) -> bool {
        self.reveal_until.is_some()
    }

    /// True while the full token inspector is up.
    pub fn inspector_open(&self) -> bool {
        self.inspector_open
    }

    /// The selected connection and its latest snapshot.
    pub(crate) fn selection(&self) -> Option<(&ConnectionInfo, Option<&SessionSnapshot>)> {
        let index = self.selected_index()?;
        Some((&self.connections[index], self.sessions[index].as_ref()))
    }

    /// The state shown for connection `index`: idle until the engine says otherwise.
    pub(crate) fn state_of(&self, index: usize) -> SessionState {
        self.sessions
            .get(index)
            .and_then(Option::as_ref)
            .map_or(SessionState::Idle, |s| s.state)
    }
}

/// The names in `connections` other than `except`.
fn other_names(connections: &[ConnectionInfo], except: Option<&str>) -> Vec<String> {
    connections
        .iter()
        .filter(|c| Some(c.name.as_str()) != except)
        .map(|c| c.name.clone())
        .collect()
}

/// Trouble first when sorting by state.
fn state_rank(state: SessionState) -> u8 {
    match state {
        SessionState::Failed => 0,
        SessionState::Backoff => 1,
        SessionState::Authorizing | SessionState::Refreshing => 2,
        SessionState::Valid => 3,
        SessionState::Stopped => 4,
        SessionState::Idle => 5,
    }
}
