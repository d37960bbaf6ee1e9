//! The add/edit connection form: its state, its keys and how it draws.
//!
//! One field per line, Tab/Shift-Tab between fields, Enter saves, Esc cancels.
//! The form only builds a [`ConnectionDraft`]; the run loop writes the file
//! (see [`super::store`]). Passwords typed here live in [`MaskedInput`]s: drawn
//! as `•`, never in `Debug`.

use std::fmt;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler as _;

use super::format::truncate;
use super::theme::Theme;
use crate::act::endpoint::cloud_base_from_login_url;
use crate::config::{ConnectionDraft, DraftField, DraftSecret, FieldError, validate_draft};
use crate::secret::Secret;

/// A text input whose content is a password: never drawn, never in `Debug`.
#[derive(Clone, Default)]
pub struct MaskedInput(Input);

impl MaskedInput {
    /// An input holding `value`.
    pub fn new(value: &str) -> Self {
        Self(Input::new(value.to_owned()))
    }

    /// The typed text, as a secret.
    pub fn secret(&self) -> Secret {
        Secret::new(self.0.value().to_owned())
    }

    /// True when nothing is typed.
    pub fn is_empty(&self) -> bool {
        self.0.value().is_empty()
    }

    /// One `•` per typed character.
    pub fn masked(&self) -> String {
        "•".repeat(self.0.value().chars().count())
    }

    /// The cursor position in characters (for drawing the cursor).
    pub fn cursor(&self) -> usize {
        self.0.visual_cursor()
    }

    /// Applies an editing key; true when the text changed.
    pub fn handle(&mut self, key: KeyEvent) -> bool {
        self.0
            .handle_event(&TermEvent::Key(key))
            .is_some_and(|c| c.value)
    }
}

impl fmt::Debug for MaskedInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MaskedInput(..)")
    }
}

/// Where the password of the connection in the form comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretKind {
    /// Not chosen yet.
    #[default]
    Unset,
    /// `password_env`.
    Env,
    /// `password_command`.
    Command,
    /// `password_prompt = true`.
    Prompt,
    /// `keyring = true`.
    Keyring,
    /// `password = "..."` in the file.
    Plain,
}

impl SecretKind {
    const CYCLE: [SecretKind; 5] = [
        SecretKind::Env,
        SecretKind::Command,
        SecretKind::Prompt,
        SecretKind::Keyring,
        SecretKind::Plain,
    ];

    /// The word shown in the form.
    pub fn label(self) -> &'static str {
        match self {
            Self::Unset => "(choose with ←/→)",
            Self::Env => "environment variable",
            Self::Command => "command",
            Self::Prompt => "prompt when started",
            Self::Keyring => "OS keyring",
            Self::Plain => "plain text in the file",
        }
    }

    fn step(self, forward: bool) -> Self {
        let len = Self::CYCLE.len();
        let at = Self::CYCLE.iter().position(|k| *k == self);
        let next = match (at, forward) {
            (None, true) => 0,
            (None, false) => len - 1,
            (Some(i), true) => (i + 1) % len,
            (Some(i), false) => (i + len - 1) % len,
        };
        Self::CYCLE[next]
    }
}

/// One line of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    /// The connection's name.
    Name,
    /// Helper: a browser login URL that fills in [`FormField::Url`].
    LoginUrl,
    /// The API base URL.
    Url,
    /// The Act! database.
    Database,
    /// The Act! user.
    User,
    /// Which secret source.
    SecretKind,
    /// The secret source's value: variable, command or password.
    SecretValue,
    /// Group label.
    Group,
    /// Colour.
    Color,
    /// Start with the TUI.
    Autostart,
    /// Free text.
    Note,
}

impl FormField {
    /// The label drawn before the field.
    fn label(self, kind: SecretKind) -> &'static str {
        match self {
            Self::Name => "Name",
            Self::LoginUrl => "Login URL",
            Self::Url => "API URL",
            Self::Database => "Database",
            Self::User => "User",
            Self::SecretKind => "Password",
            Self::SecretValue => match kind {
                SecretKind::Env => "Variable",
                SecretKind::Command => "Command",
                SecretKind::Keyring => "Store now",
                _ => "Password",
            },
            Self::Group => "Group",
            Self::Color => "Color",
            Self::Autostart => "Autostart",
            Self::Note => "Note",
        }
    }

    /// The draft field whose errors show beside this line.
    fn draft_field(self) -> Option<DraftField> {
        Some(match self {
            Self::Name => DraftField::Name,
            Self::Url => DraftField::Url,
            Self::Database => DraftField::Database,
            Self::User => DraftField::User,
            Self::SecretValue => DraftField::Secret,
            Self::Group => DraftField::Group,
            Self::Color => DraftField::Color,
            Self::Autostart => DraftField::Autostart,
            Self::Note => DraftField::Note,
            Self::LoginUrl | Self::SecretKind => return None,
        })
    }
}

/// Whether the form adds a connection or edits one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormMode {
    /// A new connection.
    Add,
    /// The connection that was called this when the form opened.
    Edit(String),
}

/// What the form asks the app to do after a key.
// Returned once per key and consumed at once: boxing the draft buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum FormOutcome {
    /// Keep the form open.
    Stay,
    /// Close it without saving.
    Cancel,
    /// The draft passed [`validate_draft`]: save it.
    Submit {
        /// The connection as it should be written.
        draft: ConnectionDraft,
        /// A password to store in the keyring after the save.
        keyring_password: Option<Secret>,
    },
}

/// The add/edit form.
#[derive(Debug, Clone)]
pub struct ConnectionForm {
    /// Add or edit.
    pub mode: FormMode,
    /// The line with the cursor.
    pub focus: FormField,
    name: Input,
    login_url: Input,
    url: Input,
    database: Input,
    user: Input,
    /// The chosen secret source.
    pub kind: SecretKind,
    env_var: Input,
    command: Input,
    password: MaskedInput,
    group: Input,
    color: Input,
    /// Start with the TUI.
    pub autostart: bool,
    note: Input,
    /// Messages beside fields, from the last check.
    pub errors: Vec<FieldError>,
    /// A message for the form as a whole (a save that failed).
    pub banner: Option<String>,
    /// Set after the first save attempt: from then on every change re-checks.
    checked: bool,
    /// The names the draft must not take.
    taken: Vec<String>,
    /// Editing a keyring connection: an empty password keeps the stored one.
    had_keyring: bool,
}

impl ConnectionForm {
    /// An empty form adding a connection; `taken` are the names in use.
    pub fn add(taken: Vec<String>) -> Self {
        Self::from_draft(FormMode::Add, &ConnectionDraft::default(), taken)
    }

    /// A form editing `draft` (the connection `draft.name` as loaded); `taken`
    /// are the other connections' names.
    pub fn edit(draft: &ConnectionDraft, taken: Vec<String>) -> Self {
        Self::from_draft(FormMode::Edit(draft.name.clone()), draft, taken)
    }

    fn from_draft(mode: FormMode, draft: &ConnectionDraft, taken: Vec<String>) -> Self {
        let input = |s: &str| Input::new(s.to_owned());
        let (kind, env_var, command, password) = match &draft.secret {
            DraftSecret::Unset => (SecretKind::Unset, "", "", ""),
            DraftSecret::Env(v) => (SecretKind::Env, v.as_str(), "", ""),
            DraftSecret::Command(c) => (SecretKind::Command, "", c.as_str(), ""),
            DraftSecret::Prompt => (SecretKind::Prompt, "", "", ""),
            DraftSecret::Keyring => (SecretKind::Keyring, "", "", ""),
            DraftSecret::Plain(s) => (SecretKind::Plain, "", "", s.expose()),
        };
        Self {
            had_keyring: matches!(draft.secret, DraftSecret::Keyring),
            mode,
            focus: FormField::Name,
            name: input(&draft.name),
            login_url: Input::default(),
            url: input(&draft.url),
            database: input(&draft.database),
            user: input(&draft.user),
            kind,
            env_var: input(env_var),
            command: input(command),
            password: MaskedInput::new(password),
            group: input(&draft.group),
            color: input(&draft.color),
            autostart: draft.autostart,
            note: input(&draft.note),
            errors: Vec::new(),
            banner: None,
            checked: false,
            taken,
        }
    }

    /// Replaces the names the draft must not take (after a reload).
    pub fn set_taken(&mut self, taken: Vec<String>) {
        self.taken = taken;
        self.recheck();
    }

    /// The name of the connection being edited (`None` when adding).
    pub fn editing(&self) -> Option<&str> {
        match &self.mode {
            FormMode::Add => None,
            FormMode::Edit(name) => Some(name),
        }
    }

    /// The fields shown now, in order (the secret value line only when the
    /// chosen source has one).
    pub fn fields(&self) -> Vec<FormField> {
        let mut fields = vec![
            FormField::Name,
            FormField::LoginUrl,
            FormField::Url,
            FormField::Database,
            FormField::User,
            FormField::SecretKind,
        ];
        if matches!(
            self.kind,
            SecretKind::Env | SecretKind::Command | SecretKind::Keyring | SecretKind::Plain
        ) {
            fields.push(FormField::SecretValue);
        }
        fields.extend([
            FormField::Group,
            FormField::Color,
            FormField::Autostart,
            FormField::Note,
        ]);
        fields
    }

    /// The draft the form holds now.
    pub fn draft(&self) -> ConnectionDraft {
        let secret = match self.kind {
            SecretKind::Unset => DraftSecret::Unset,
            SecretKind::Env => DraftSecret::Env(self.env_var.value().trim().to_owned()),
            SecretKind::Command => DraftSecret::Command(self.command.value().to_owned()),
            SecretKind::Prompt => DraftSecret::Prompt,
            SecretKind::Keyring => DraftSecret::Keyring,
            SecretKind::Plain => DraftSecret::Plain(self.password.secret()),
        };
        ConnectionDraft {
            name: self.name.value().trim().to_owned(),
            url: self.url.value().trim().to_owned(),
            database: self.database.value().trim().to_owned(),
            user: self.user.value().trim().to_owned(),
            secret,
            group: self.group.value().trim().to_owned(),
            color: self.color.value().trim().to_owned(),
            autostart: self.autostart,
            note: self.note.value().trim().to_owned(),
        }
    }

    /// Shows `errors` (from a save the file refused) beside their fields.
    pub fn show_errors(&mut self, errors: Vec<FieldError>, banner: Option<String>) {
        self.errors = errors;
        self.banner = banner;
        self.checked = true;
    }

    fn input_mut(&mut self, field: FormField) -> Option<&mut Input> {
        Some(match field {
            FormField::Name => &mut self.name,
            FormField::LoginUrl => &mut self.login_url,
            FormField::Url => &mut self.url,
            FormField::Database => &mut self.database,
            FormField::User => &mut self.user,
            FormField::SecretValue => match self.kind {
                SecretKind::Env => &mut self.env_var,
                SecretKind::Command => &mut self.command,
                _ => return None,
            },
            FormField::Group => &mut self.group,
            FormField::Color => &mut self.color,
            FormField::Note => &mut self.note,
            FormField::SecretKind | FormField::Autostart => return None,
        })
    }

    fn input(&self, field: FormField) -> Option<&Input> {
        Some(match field {
            FormField::Name => &self.name,
            FormField::LoginUrl => &self.login_url,
            FormField::Url => &self.url,
            FormField::Database => &self.database,
            FormField::User => &self.user,
            FormField::SecretValue => match self.kind {
                SecretKind::Env => &self.env_var,
                SecretKind::Command => &self.command,
                _ => return None,
            },
            FormField::Group => &self.group,
            FormField::Color => &self.color,
            FormField::Note => &self.note,
            FormField::SecretKind | FormField::Autostart => return None,
        })
    }

    fn is_masked(&self, field: FormField) -> bool {
        field == FormField::SecretValue
            && matches!(self.kind, SecretKind::Keyring | SecretKind::Plain)
    }

    fn move_focus(&mut self, forward: bool) {
        let fields = self.fields();
        let at = fields.iter().position(|f| *f == self.focus).unwrap_or(0);
        let next = if forward {
            (at + 1) % fields.len()
        } else {
            (at + fields.len() - 1) % fields.len()
        };
        self.focus = fields[next];
    }

    fn recheck(&mut self) {
        if self.checked {
            self.errors = validate_draft(&self.draft(), &self.taken);
        }
    }

    /// Applies one key.
    pub fn on_key(&mut self, key: KeyEvent) -> FormOutcome {
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        match key.code {
            KeyCode::Esc => return FormOutcome::Cancel,
            KeyCode::Enter => return self.submit(),
            KeyCode::Down => self.move_focus(true),
            KeyCode::Tab if !shift => self.move_focus(true),
            KeyCode::BackTab | KeyCode::Tab | KeyCode::Up => self.move_focus(false),
            _ => self.edit_focused(key),
        }
        FormOutcome::Stay
    }

    fn edit_focused(&mut self, key: KeyEvent) {
        match self.focus {
            FormField::SecretKind => match key.code {
                KeyCode::Right | KeyCode::Char(' ' | 'l') => self.kind = self.kind.step(true),
                KeyCode::Left | KeyCode::Char('h') => self.kind = self.kind.step(false),
                _ => return,
            },
            FormField::Autostart => match key.code {
                KeyCode::Char(' ' | 'x') | KeyCode::Left | KeyCode::Right => {
                    self.autostart = !self.autostart;
                }
                _ => return,
            },
            field if self.is_masked(field) => {
                if !self.password.handle(key) {
                    return;
                }
            }
            field => {
                let Some(input) = self.input_mut(field) else {
                    return;
                };
                let changed = input
                    .handle_event(&TermEvent::Key(key))
                    .is_some_and(|c| c.value);
                if !changed {
                    return;
                }
                if field == FormField::LoginUrl {
                    self.fill_from_login_url();
                }
            }
        }
        self.recheck();
    }

    /// The Cloud helper: a login URL that parses gives the API base.
    fn fill_from_login_url(&mut self) {
        if let Ok(base) = cloud_base_from_login_url(self.login_url.value()) {
            self.url = Input::new(base);
        }
    }

    fn submit(&mut self) -> FormOutcome {
        let draft = self.draft();
        self.checked = true;
        self.banner = None;
        self.errors = validate_draft(&draft, &self.taken);
        if !self.errors.is_empty() {
            // Put the cursor on the first field that is wrong.
            if let Some(field) = self.fields().into_iter().find(|f| {
                f.draft_field()
                    .is_some_and(|d| self.errors.iter().any(|e| e.field == d))
            }) {
                self.focus = field;
            } else if self.errors.iter().any(|e| e.field == DraftField::Secret) {
                self.focus = FormField::SecretKind;
            }
            return FormOutcome::Stay;
        }
        let keyring_password = (self.kind == SecretKind::Keyring && !self.password.is_empty())
            .then(|| self.password.secret());
        FormOutcome::Submit {
            draft,
            keyring_password,
        }
    }

    /// The hint drawn beside a field that has no error.
    fn hint(&self, field: FormField) -> Option<String> {
        Some(match field {
            FormField::LoginUrl => match cloud_base_from_login_url(self.login_url.value()) {
                Err(_) if !self.login_url.value().trim().is_empty() => {
                    "! not an http(s) login URL yet".to_owned()
                }
                _ => "paste a browser login URL here".to_owned(),
            },
            FormField::SecretKind => match self.kind {
                SecretKind::Prompt => "asked in the app at start".to_owned(),
                _ => "←/→ to choose".to_owned(),
            },
            FormField::SecretValue => match self.kind {
                SecretKind::Keyring if self.had_keyring => {
                    "optional; empty keeps the stored password".to_owned()
                }
                SecretKind::Keyring => "optional; stored in the OS keyring on save".to_owned(),
                SecretKind::Plain => "! kept as plain text in the file".to_owned(),
                _ => return None,
            },
            FormField::Color => "red, cyan, #rrggbb, ...".to_owned(),
            FormField::Autostart => "Space toggles".to_owned(),
            _ => return None,
        })
    }

    /// Draws the form as a popup centred over `area`.
    pub fn render(&self, theme: &Theme, frame: &mut Frame, area: Rect) {
        const LABEL: usize = 11;
        let title = match &self.mode {
            FormMode::Add => " Add connection ".to_owned(),
            FormMode::Edit(name) => format!(" Edit connection '{}' ", truncate(name, 30)),
        };
        let width = area.width.min(100);
        let inner = usize::from(width.saturating_sub(2));
        let value_width = (inner.saturating_sub(LABEL + 3) * 55 / 100).clamp(10, 44);
        let note_width = inner.saturating_sub(LABEL + 3 + value_width + 1);

        let mut lines: Vec<Line<'static>> = Vec::new();
        if let Some(banner) = &self.banner {
            lines.push(Line::styled(truncate(banner, inner), theme.danger()));
        }
        let mut cursor = None;
        for field in self.fields() {
            let focused = field == self.focus;
            let marker = if focused { "▶ " } else { "  " };
            let label_style = if focused { theme.key() } else { theme.muted() };
            let (value, cursor_at) = self.value_text(field, value_width);
            let mut spans = vec![
                Span::styled(marker, theme.key()),
                Span::styled(format!("{:<LABEL$} ", field.label(self.kind)), label_style),
                Span::styled(
                    format!("{value:<value_width$}"),
                    if focused {
                        theme.selected_field()
                    } else {
                        Style::default()
                    },
                ),
            ];
            let error = self.error_for(field);
            let beside_error =
                error.is_some_and(|e| e.message.chars().count() < note_width.saturating_sub(1));
            if let Some(error) = error {
                if beside_error {
                    spans.push(Span::styled(
                        format!(" {}", truncate(&error.message, note_width)),
                        theme.danger(),
                    ));
                }
            } else if let Some(hint) = self.hint(field).filter(|_| note_width >= 12) {
                let style = if hint.starts_with('!') {
                    theme.warning()
                } else {
                    theme.muted()
                };
                spans.push(Span::styled(
                    format!(" {}", truncate(&hint, note_width)),
                    style,
                ));
            }
            if focused && let Some(at) = cursor_at {
                #[allow(clippy::cast_possible_truncation)] // a form line is < 100 cells
                let column = (2 + LABEL + 1 + at) as u16;
                #[allow(clippy::cast_possible_truncation)]
                let row = lines.len() as u16;
                cursor = Some((column, row));
            }
            lines.push(Line::from(spans));
            if let Some(error) = error
                && !beside_error
            {
                lines.push(Line::styled(
                    format!(
                        "    ↳ {}",
                        truncate(&error.message, inner.saturating_sub(6))
                    ),
                    theme.danger(),
                ));
            }
        }
        lines.push(Line::raw(""));
        lines.push(footer(theme));

        #[allow(clippy::cast_possible_truncation)] // a couple of dozen lines
        let height = (lines.len() as u16 + 2).min(area.height);
        let popup = centered(area, width, height);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(true))
            .title(Span::styled(title, theme.title()));
        frame.render_widget(Clear, popup);
        frame.render_widget(Paragraph::new(lines).block(block), popup);
        if let Some((column, row)) = cursor {
            let x = popup.x + 1 + column;
            let y = popup.y + 1 + row;
            if x < popup.right().saturating_sub(1) && y < popup.bottom().saturating_sub(1) {
                frame.set_cursor_position((x, y));
            }
        }
    }

    /// The message shown beside `field`, if any (a missing secret source
    /// shows beside the source's choice).
    fn error_for(&self, field: FormField) -> Option<&FieldError> {
        let wanted = match (field, self.kind) {
            (FormField::SecretKind, SecretKind::Unset) => DraftField::Secret,
            _ => field.draft_field()?,
        };
        self.errors.iter().find(|e| e.field == wanted)
    }

    /// The text drawn for `field` within `width` cells, and where the cursor
    /// goes in it (for text fields).
    fn value_text(&self, field: FormField, width: usize) -> (String, Option<usize>) {
        match field {
            FormField::SecretKind => (format!("‹ {} ›", self.kind.label()), None),
            FormField::Autostart => (
                if self.autostart { "[x] yes" } else { "[ ] no" }.to_owned(),
                None,
            ),
            f if self.is_masked(f) => {
                let masked = self.password.masked();
                let cursor = self.password.cursor();
                let shown: String = masked.chars().take(width.saturating_sub(1)).collect();
                (shown, Some(cursor.min(width.saturating_sub(1))))
            }
            f => match self.input(f) {
                Some(input) if f != self.focus => {
                    // Not being edited: all of it, or its end (a URL's tail says most).
                    let room = width.saturating_sub(1);
                    let count = input.value().chars().count();
                    if count <= room {
                        (input.value().to_owned(), None)
                    } else {
                        let tail: String = input.value().chars().skip(count + 1 - room).collect();
                        (format!("…{tail}"), None)
                    }
                }
                Some(input) => {
                    let scroll = input.visual_scroll(width.saturating_sub(1));
                    let shown: String = input
                        .value()
                        .chars()
                        .skip(scroll)
                        .take(width.saturating_sub(1))
                        .collect();
                    (shown, Some(input.visual_cursor().saturating_sub(scroll)))
                }
                None => (String::new(), None),
            },
        }
    }
}

/// The keys line at the bottom of the form.
fn footer(theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(" Tab", theme.key()),
        Span::styled(" next  ", theme.muted()),
        Span::styled("Shift-Tab", theme.key()),
        Span::styled(" previous  ", theme.muted()),
        Span::styled("Enter", theme.key()),
        Span::styled(" save  ", theme.muted()),
        Span::styled("Esc", theme.key()),
        Span::styled(" cancel", theme.muted()),
    ])
}

/// A `width` x `height` rectangle centred in `area` (clipped to it).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [column] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(column);
    popup
}
