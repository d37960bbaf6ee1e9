//! Editing the connections file from the app: comment-preserving changes and
//! atomic saves.
//!
//! [`ConfigDocument`] holds the file's text as a format-preserving TOML tree.
//! An edit touches only the keys whose meaning changed, so comments, key
//! order, odd spacing and tables the app does not know all survive. Every
//! edit is checked twice: the draft on its own ([`validate_draft`], for
//! messages beside the form's fields) and the whole resulting file with the
//! loader's own [`parse`], so the app can never write a file that it would
//! then refuse to load.
//!
//! [`ConfigDocument::save`] writes a temporary file beside the original,
//! flushes it to disk, keeps the previous version as `NAME.bak` and renames
//! the new one over the original. It refuses when the file changed on disk
//! since it was loaded, so an edit made in another editor is never lost.

use std::fmt;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use toml_edit::{ArrayOfTables, Decor, DocumentMut, Item, Key, Table, Value};

use super::load::{check_env_name, check_url};
use super::watch::{Fingerprint, same_content};
use super::{ConfigError, Connection, SecretSource, check_color, parse, words};
use crate::secret::Secret;

/// The array of tables that holds the connections.
const ARRAY: &str = "connection";
/// The keys that name a secret source, in the loader's order.
const SECRET_KEYS: &[&str] = super::load::SECRET_FIELDS;

/// Where a draft's password comes from, as chosen in the form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DraftSecret {
    /// Nothing chosen yet; refused by [`validate_draft`].
    #[default]
    Unset,
    /// `password_env`: the variable's name.
    Env(String),
    /// `password_command`: the command line.
    Command(String),
    /// `password_prompt = true`.
    Prompt,
    /// `keyring = true`; store the password with [`super::store_in_keyring`].
    Keyring,
    /// `password`: plain text in the file.
    Plain(Secret),
}

/// The editable fields of one connection, as a form holds them.
///
/// Empty `group`, `color` and `note` mean "not set". `Debug` never shows a
/// plain password (it is a [`Secret`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionDraft {
    /// Unique name.
    pub name: String,
    /// API base URL.
    pub url: String,
    /// Act! database name.
    pub database: String,
    /// Act! user name.
    pub user: String,
    /// Where the password comes from.
    pub secret: DraftSecret,
    /// Group label; empty for none.
    pub group: String,
    /// Colour name or `#rrggbb`; empty for none.
    pub color: String,
    /// Start with the TUI.
    pub autostart: bool,
    /// Free-form note; empty for none.
    pub note: String,
}

impl ConnectionDraft {
    /// The draft that edits `connection` as loaded.
    pub fn from_connection(connection: &Connection) -> Self {
        let secret = match &connection.secret {
            SecretSource::Env(var) => DraftSecret::Env(var.clone()),
            SecretSource::Command(line) => DraftSecret::Command(line.clone()),
            SecretSource::Prompt => DraftSecret::Prompt,
            SecretSource::Keyring { .. } => DraftSecret::Keyring,
            SecretSource::Plain(secret) => DraftSecret::Plain(secret.clone()),
        };
        Self {
            name: connection.name.clone(),
            url: connection.url.clone(),
            database: connection.database.clone(),
            user: connection.user.clone(),
            secret,
            group: connection.group.clone().unwrap_or_default(),
            color: connection.color.clone().unwrap_or_default(),
            autostart: connection.autostart,
            note: connection.note.clone().unwrap_or_default(),
        }
    }
}

impl From<&Connection> for ConnectionDraft {
    fn from(connection: &Connection) -> Self {
        Self::from_connection(connection)
    }
}

/// A field of [`ConnectionDraft`], for messages shown beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DraftField {
    /// `name`.
    Name,
    /// `url`.
    Url,
    /// `database`.
    Database,
    /// `user`.
    User,
    /// The secret source, whichever key it is written as.
    Secret,
    /// `group`.
    Group,
    /// `color`.
    Color,
    /// `autostart`.
    Autostart,
    /// `note`.
    Note,
}

impl DraftField {
    /// The field's name as the form and the file spell it (`secret` for the source).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Url => "url",
            Self::Database => "database",
            Self::User => "user",
            Self::Secret => "secret",
            Self::Group => "group",
            Self::Color => "color",
            Self::Autostart => "autostart",
            Self::Note => "note",
        }
    }

    /// The draft field a key of the connections file belongs to.
    pub fn from_config_key(key: &str) -> Option<Self> {
        Some(match key {
            "name" => Self::Name,
            "url" => Self::Url,
            "database" => Self::Database,
            "user" => Self::User,
            k if SECRET_KEYS.contains(&k) => Self::Secret,
            "group" => Self::Group,
            "color" => Self::Color,
            "autostart" => Self::Autostart,
            "note" => Self::Note,
            _ => return None,
        })
    }
}

impl fmt::Display for DraftField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message for one field of a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field the message belongs beside.
    pub field: DraftField,
    /// What is wrong, in plain words; never holds a password.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Checks a draft on its own, for messages beside the form's fields.
///
/// `existing_names` are the names the draft must not take: every other
/// connection's (leave out the one being edited). An empty result means the
/// draft is fine on its own; the whole file is checked again when the edit
/// is applied.
pub fn validate_draft<S: AsRef<str>>(
    draft: &ConnectionDraft,
    existing_names: &[S],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut push = |field, message: String| errors.push(FieldError { field, message });

    if let Some(message) = name_problem(&draft.name, existing_names) {
        push(DraftField::Name, message);
    }

    if draft.url.trim().is_empty() {
        push(
            DraftField::Url,
            String::from("a URL is required, like https://SERVER/act.web.api"),
        );
    } else if let Err(why) = check_url(&draft.url) {
        push(DraftField::Url, format!("\"{}\" {why}", draft.url));
    }

    if draft.database.trim().is_empty() {
        push(
            DraftField::Database,
            String::from("the Act! database name is required"),
        );
    }
    if draft.user.trim().is_empty() {
        push(
            DraftField::User,
            String::from("the Act! user name is required"),
        );
    }

    let secret = match &draft.secret {
        DraftSecret::Unset => Some(String::from(
            "choose where the password comes from: an environment variable, a command, a \
             prompt, the OS keyring or plain text",
        )),
        DraftSecret::Env(var) if var.trim().is_empty() => Some(String::from(
            "name the environment variable that holds the password",
        )),
        DraftSecret::Env(var) => check_env_name(var).err(),
        DraftSecret::Command(line) if line.trim().is_empty() => {
            Some(String::from("enter the command that prints the password"))
        }
        DraftSecret::Command(line) => words::split(line)
            .err()
            .map(|why| format!("the command cannot be split into words: {why}")),
        DraftSecret::Plain(secret) if secret.is_empty() => {
            Some(String::from("the password is empty"))
        }
        DraftSecret::Prompt | DraftSecret::Keyring | DraftSecret::Plain(_) => None,
    };
    if let Some(message) = secret {
        push(DraftField::Secret, message);
    }

    if draft.group.chars().any(char::is_control) {
        push(
            DraftField::Group,
            String::from("must be a single line without control characters"),
        );
    }
    if !draft.color.trim().is_empty()
        && let Err(why) = check_color(&draft.color)
    {
        push(DraftField::Color, why);
    }
    errors
}

/// Why a connection name cannot be used, if it cannot.
fn name_problem<S: AsRef<str>>(name: &str, existing_names: &[S]) -> Option<String> {
    if name.trim().is_empty() {
        Some(String::from("a name is required"))
    } else if name.chars().any(char::is_control) {
        Some(String::from("must not contain control characters"))
    } else if existing_names.iter().any(|n| n.as_ref() == name) {
        Some(format!(
            "'{name}' is already used by another connection; names must be unique"
        ))
    } else {
        None
    }
}

/// Why an edit was refused. The document is unchanged after any of these.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The file exists but could not be read.
    #[error("cannot read the connections file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The file as loaded, or as it would be after the edit, has problems.
    #[error("{0}")]
    Invalid(ConfigError),
    /// The draft has problems, one per field.
    #[error("{}", join(.0))]
    Draft(Vec<FieldError>),
    /// No connection has that name.
    #[error("there is no connection named '{name}' in {}", path.display())]
    NotFound {
        /// The name asked for.
        name: String,
        /// The file.
        path: PathBuf,
    },
    /// The file is written in a form the editor does not handle.
    #[error("{reason}")]
    Unsupported {
        /// What the form is and how to change it by hand.
        reason: String,
    },
}

impl EditError {
    /// The messages that belong beside a form field: the draft's own, or the
    /// file problems that name a connection field.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Draft(errors) => errors.clone(),
            Self::Invalid(err) => err
                .problems()
                .iter()
                .filter_map(|p| {
                    let field = match p.field.as_deref() {
                        Some(key) => DraftField::from_config_key(key)?,
                        None if p.message.starts_with("set exactly one of") => DraftField::Secret,
                        None => return None,
                    };
                    Some(FieldError {
                        field,
                        message: p.message.clone(),
                    })
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a save did not happen. Unless stated, the file on disk is untouched.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// Someone changed the file since it was loaded; writing would lose their change.
    #[error(
        "{} changed on disk since actsm loaded it; nothing was written: reload it and make \
         the edit again",
        path.display()
    )]
    ChangedOnDisk {
        /// The file.
        path: PathBuf,
    },
    /// The text to be written has problems (it would not load).
    #[error("{0}")]
    Invalid(ConfigError),
    /// A file operation failed before the new file took the original's place.
    #[error("cannot {action} {}: {source}; the connections file was not changed", path.display())]
    Io {
        /// What was being done: `create the folder`, `write`, `back up`, ...
        action: &'static str,
        /// The file or folder concerned.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// [`SaveOptions::fail_after_temp_write`] stopped the save.
    #[error(
        "the save was stopped after writing the temporary file; the connections file was not changed"
    )]
    Interrupted,
}

/// Knobs for [`ConfigDocument::save_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaveOptions {
    /// Test hook: stop with [`SaveError::Interrupted`] right after the
    /// temporary file is written and flushed, as a crash there would.
    pub fail_after_temp_write: bool,
}

/// The connections file as an editable, format-preserving document.
pub struct ConfigDocument {
    /// The path it was loaded from and is saved to.
    path: PathBuf,
    /// The text as loaded (or last saved); empty when there was no file.
    original: String,
    /// The file's fingerprint when loaded (or last saved); `None` when absent.
    fingerprint: Option<Fingerprint>,
    /// The current, possibly edited, document.
    doc: DocumentMut,
}

impl fmt::Debug for ConfigDocument {
    // The text may hold plain passwords, so only the facts are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigDocument")
            .field("path", &self.path)
            .field("exists", &self.fingerprint.is_some())
            .field("modified", &self.is_modified())
            .finish_non_exhaustive()
    }
}

impl ConfigDocument {
    /// Loads the file at `path` for editing; a missing file gives an empty
    /// document that [`ConfigDocument::save`] will create (folder included).
    ///
    /// A file with TOML syntax errors cannot be edited and gives
    /// [`EditError::Invalid`] with the loader's positioned message.
    pub fn load(path: &Path) -> Result<Self, EditError> {
        let read_error = |source| EditError::Read {
            path: path.to_owned(),
            source,
        };
        let (original, fingerprint) = match std::fs::read(path) {
            Ok(bytes) => {
                let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
                let fingerprint = Fingerprint::of_bytes(&bytes, modified);
                let Ok(text) = String::from_utf8(bytes) else {
                    // The loader names the position of the bad bytes.
                    return Err(match super::load(path) {
                        Err(err) => EditError::Invalid(err),
                        Ok(_) => EditError::Unsupported {
                            reason: format!("{} is not valid UTF-8 text", path.display()),
                        },
                    });
                };
                (text, Some(fingerprint))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => (String::new(), None),
            Err(e) => return Err(read_error(e)),
        };
        Self::from_text(path, original, fingerprint)
    }

    fn from_text(
        path: &Path,
        original: String,
        fingerprint: Option<Fingerprint>,
    ) -> Result<Self, EditError> {
        let doc = match original.parse::<DocumentMut>() {
            Ok(doc) => doc,
            Err(e) => {
                return Err(match parse(&original, path) {
                    Err(err) => EditError::Invalid(err),
                    Ok(_) => EditError::Unsupported {
                        reason: format!("{} cannot be edited: {}", path.display(), e.message()),
                    },
                });
            }
        };
        Ok(Self {
            path: path.to_owned(),
            original,
            fingerprint,
            doc,
        })
    }

    /// The file this document is saved to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The text as it would be saved now.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// The text as loaded or last saved (empty when there was no file).
    pub fn original_text(&self) -> &str {
        &self.original
    }

    /// True when an edit changed the text since it was loaded or saved.
    pub fn is_modified(&self) -> bool {
        self.text() != self.original
    }

    /// The fingerprint of the file as loaded or last saved; `None` when
    /// there was no file.
    pub fn fingerprint(&self) -> Option<&Fingerprint> {
        self.fingerprint.as_ref()
    }

    /// True when the file's content on disk differs from what was loaded or
    /// last saved (creation and removal included).
    pub fn changed_on_disk(&self) -> io::Result<bool> {
        let now = Fingerprint::read(&self.path)?;
        Ok(!same_content(now.as_ref(), self.fingerprint.as_ref()))
    }

    /// The current text, validated as the loader would.
    pub fn config(&self) -> Result<super::Config, ConfigError> {
        parse(&self.text(), &self.path)
    }

    /// The names of the connections, in file order.
    pub fn connection_names(&self) -> Vec<String> {
        let Some(Item::ArrayOfTables(tables)) = self.doc.get(ARRAY) else {
            return Vec::new();
        };
        tables
            .iter()
            .filter_map(|t| t.get("name").and_then(Item::as_str).map(str::to_owned))
            .collect()
    }

    /// A draft of connection `name` as it is now, for an edit form; `None`
    /// when there is no such connection or the file has problems.
    pub fn draft(&self, name: &str) -> Option<ConnectionDraft> {
        let config = self.config().ok()?;
        config
            .connection(name)
            .map(ConnectionDraft::from_connection)
    }

    /// Appends a new `[[connection]]` after the last one.
    pub fn add_connection(&mut self, draft: &ConnectionDraft) -> Result<(), EditError> {
        let errors = validate_draft(draft, &self.connection_names());
        if !errors.is_empty() {
            return Err(EditError::Draft(errors));
        }
        let starts_empty = self.doc.to_string().trim().is_empty();
        self.apply(|doc| {
            let mut table = Table::new();
            write_new(&mut table, draft);

            // Comments at the end of the file belong to the document, and
            // toml_edit writes them after every table: a new table would land
            // above them. Keep them where the user wrote them by moving them
            // into the new table's prefix, a blank line above its header so a
            // later delete of this table leaves them alone.
            let trailing = doc.trailing().as_str().unwrap_or_default().to_owned();
            if trailing.contains('#') {
                table
                    .decor_mut()
                    .set_prefix(format!("{}\n\n", trailing.trim_end()));
                doc.set_trailing("");
            } else if !starts_empty {
                table.decor_mut().set_prefix("\n");
            }
            match doc.get_mut(ARRAY) {
                None => {
                    let mut tables = ArrayOfTables::new();
                    tables.push(table);
                    doc.insert(ARRAY, Item::ArrayOfTables(tables));
                }
                Some(Item::ArrayOfTables(tables)) => tables.push(table),
                Some(_) => return Err(not_an_array()),
            }
            Ok(())
        })
    }

    /// Changes connection `old_name` to match `draft`, touching only the
    /// keys whose meaning changed (renaming included).
    pub fn update_connection(
        &mut self,
        old_name: &str,
        draft: &ConnectionDraft,
    ) -> Result<(), EditError> {
        let index = self.index_of(old_name)?;
        let others: Vec<String> = self
            .connection_names()
            .into_iter()
            .filter(|n| n != old_name)
            .collect();
        let errors = validate_draft(draft, &others);
        if !errors.is_empty() {
            return Err(EditError::Draft(errors));
        }
        self.apply(|doc| {
            let table = tables_mut(doc)?
                .get_mut(index)
                .expect("index_of found this index in the same document");
            write_changes(table, draft);
            Ok(())
        })
    }

    /// Removes connection `name`. The comment lines directly above its
    /// header go with it; a comment block separated from the header by a
    /// blank line (a section heading, say) stays.
    pub fn delete_connection(&mut self, name: &str) -> Result<(), EditError> {
        let index = self.index_of(name)?;
        self.apply(|doc| {
            let removed = tables_mut(doc)?.remove(index);
            let prefix = removed
                .decor()
                .prefix()
                .and_then(|p| p.as_str())
                .unwrap_or_default();
            let kept = detached_comments(prefix).unwrap_or_default();

            // What follows the removed table: its own trailing comments (a
            // commented-out key, say) go with it, and the kept block takes
            // its place.
            edit_following(doc, index, removed.position(), |text| {
                let rest = split_trailing_block(text).map_or(text, |(_, rest)| rest);
                join_blocks(&kept, rest)
            })
        })
    }

    /// Copies connection `name` as `new_name`, right after it.
    pub fn duplicate_connection(&mut self, name: &str, new_name: &str) -> Result<(), EditError> {
        let index = self.index_of(name)?;
        if let Some(message) = name_problem(new_name, &self.connection_names()) {
            return Err(EditError::Draft(vec![FieldError {
                field: DraftField::Name,
                message,
            }]));
        }
        self.apply(|doc| {
            let original = tables_mut(doc)?
                .get(index)
                .expect("index_of found this index in the same document")
                .clone();

            // Comments trailing the original (the start of the next table's
            // prefix) stay with the original, before the copy's header.
            let mut trailing = String::new();
            edit_following(
                doc,
                index + 1,
                original.position(),
                |text| match split_trailing_block(text) {
                    Some((block, rest)) => {
                        block.clone_into(&mut trailing);
                        rest.to_owned()
                    }
                    None => text.to_owned(),
                },
            )?;
            let mut copy = original;
            copy.decor_mut().set_prefix(format!("{trailing}\n"));
            set_value(&mut copy, "name", Value::from(new_name));

            let tables = tables_mut(doc)?;
            // ArrayOfTables has no insert: rebuild it in order. The copy keeps
            // the original's document position, so it prints right after it.
            let mut all: Vec<Table> = tables.iter().cloned().collect();
            all.insert(index + 1, copy);
            tables.clear();
            for table in all {
                tables.push(table);
            }
            Ok(())
        })
    }

    /// Saves atomically; see [`ConfigDocument::save_with`].
    pub fn save(&mut self) -> Result<(), SaveError> {
        self.save_with(SaveOptions::default())
    }

    /// Writes the document to its file, atomically, keeping the previous
    /// version as `NAME.bak`. Does nothing when there is no change.
    ///
    /// Refuses with [`SaveError::ChangedOnDisk`] when the file's content
    /// changed since it was loaded, and with [`SaveError::Invalid`] when the
    /// text would not load. The new file is `0600` on Unix when it holds a
    /// plain password or is new, and otherwise keeps the original's mode.
    /// A symbolic link is followed, so the file it points to is replaced and
    /// the link kept.
    pub fn save_with(&mut self, options: SaveOptions) -> Result<(), SaveError> {
        if !self.is_modified() {
            return Ok(());
        }
        let text = self.text();
        let config = parse(&text, &self.path).map_err(SaveError::Invalid)?;

        let target = follow_symlink(&self.path);
        let io_error = |action: &'static str, path: &Path| {
            let path = path.to_owned();
            move |source| SaveError::Io {
                action,
                path,
                source,
            }
        };
        let on_disk = Fingerprint::read(&target).map_err(io_error("read", &target))?;
        if !same_content(on_disk.as_ref(), self.fingerprint.as_ref()) {
            return Err(SaveError::ChangedOnDisk {
                path: self.path.clone(),
            });
        }

        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        if on_disk.is_none() {
            std::fs::create_dir_all(&dir).map_err(io_error("create the folder", &dir))?;
        }
        let holds_plain = config
            .connections
            .iter()
            .any(|c| matches!(c.secret, SecretSource::Plain(_)));
        let mode = file_mode(&target, holds_plain && on_disk.is_some());

        // Write and flush the new text beside the original.
        let file_name = target.file_name().map_or_else(
            || String::from("connections.toml"),
            |n| n.to_string_lossy().into_owned(),
        );
        let temp = TempFile::create(&dir, &file_name, mode)
            .map_err(io_error("create a temporary file in", &dir))?;
        temp.write(text.as_bytes())
            .map_err(io_error("write", &temp.path))?;
        if options.fail_after_temp_write {
            return Err(SaveError::Interrupted);
        }

        if on_disk.is_some() {
            let backup = dir.join(format!("{file_name}.bak"));
            std::fs::copy(&target, &backup).map_err(io_error("back up to", &backup))?;
        }
        std::fs::rename(&temp.path, &target).map_err(io_error("replace", &target))?;
        temp.keep();
        sync_dir(&dir);

        self.fingerprint = Fingerprint::read(&target).ok().flatten();
        self.original = text;
        Ok(())
    }

    /// Applies `edit` to a copy and keeps it only if the whole file still loads.
    fn apply(
        &mut self,
        edit: impl FnOnce(&mut DocumentMut) -> Result<(), EditError>,
    ) -> Result<(), EditError> {
        let mut next = self.doc.clone();
        edit(&mut next)?;
        parse(&next.to_string(), &self.path).map_err(EditError::Invalid)?;
        self.doc = next;
        Ok(())
    }

    fn index_of(&self, name: &str) -> Result<usize, EditError> {
        let found = match self.doc.get(ARRAY) {
            Some(Item::ArrayOfTables(tables)) => tables
                .iter()
                .position(|t| t.get("name").and_then(Item::as_str) == Some(name)),
            None => None,
            Some(_) => return Err(not_an_array()),
        };
        found.ok_or_else(|| EditError::NotFound {
            name: name.to_owned(),
            path: self.path.clone(),
        })
    }
}

fn not_an_array() -> EditError {
    EditError::Unsupported {
        reason: String::from(
            "the connections are not written as [[connection]] tables (an inline array, \
             perhaps); rewrite them as [[connection]] tables to edit them in actsm",
        ),
    }
}

fn tables_mut(doc: &mut DocumentMut) -> Result<&mut ArrayOfTables, EditError> {
    match doc.get_mut(ARRAY) {
        Some(Item::ArrayOfTables(tables)) => Ok(tables),
        _ => Err(not_an_array()),
    }
}

/// The secret key and value a draft is written as; `None` for `Unset`.
fn secret_entry(secret: &DraftSecret) -> Option<(&'static str, Value)> {
    Some(match secret {
        DraftSecret::Unset => return None,
        DraftSecret::Env(var) => ("password_env", Value::from(var.as_str())),
        DraftSecret::Command(line) => ("password_command", Value::from(line.as_str())),
        DraftSecret::Prompt => ("password_prompt", Value::from(true)),
        DraftSecret::Keyring => ("keyring", Value::from(true)),
        DraftSecret::Plain(secret) => ("password", Value::from(secret.expose())),
    })
}

/// Fills a new connection table in the usual key order.
fn write_new(table: &mut Table, draft: &ConnectionDraft) {
    table.insert("name", Item::Value(Value::from(draft.name.as_str())));
    table.insert("url", Item::Value(Value::from(draft.url.as_str())));
    table.insert(
        "database",
        Item::Value(Value::from(draft.database.as_str())),
    );
    table.insert("user", Item::Value(Value::from(draft.user.as_str())));
    if let Some((key, value)) = secret_entry(&draft.secret) {
        table.insert(key, Item::Value(value));
    }
    for (key, text) in [
        ("group", draft.group.trim()),
        ("color", draft.color.trim()),
        ("note", draft.note.as_str()),
    ] {
        if !text.trim().is_empty() {
            table.insert(key, Item::Value(Value::from(text)));
        }
    }
    if draft.autostart {
        table.insert("autostart", Item::Value(Value::from(true)));
    }
}

/// Brings an existing table in line with `draft`, touching only keys whose
/// meaning differs.
fn write_changes(table: &mut Table, draft: &ConnectionDraft) {
    let text_of =
        |table: &Table, key: &str| table.get(key).and_then(Item::as_str).map(str::to_owned);

    // Required text fields; the loader drops a URL's trailing slashes, so
    // those do not count as a change.
    for (key, new) in [
        ("name", draft.name.as_str()),
        ("url", draft.url.as_str()),
        ("database", draft.database.as_str()),
        ("user", draft.user.as_str()),
    ] {
        let old = text_of(table, key);
        let same = match (key, old.as_deref()) {
            ("url", Some(old)) => old.trim_end_matches('/') == new.trim_end_matches('/'),
            (_, old) => old == Some(new),
        };
        if !same {
            set_value(table, key, Value::from(new));
        }
    }

    write_secret(table, &draft.secret);

    // Optional labels: empty means absent; group and colour are trimmed by
    // the loader and a blank note counts as none.
    for (key, new) in [
        ("group", draft.group.trim()),
        ("color", draft.color.trim()),
        ("note", draft.note.as_str()),
    ] {
        let old = text_of(table, key);
        let old_meaning = old
            .as_deref()
            .map(|o| if key == "note" { o } else { o.trim() });
        let old_meaning = old_meaning.filter(|o| !o.trim().is_empty());
        let new_meaning = Some(new).filter(|n| !n.trim().is_empty());
        if old_meaning == new_meaning {
            continue;
        }
        match new_meaning {
            None => {
                table.remove(key);
            }
            Some(new) => set_value(table, key, Value::from(new)),
        }
    }

    let autostart = table
        .get("autostart")
        .and_then(Item::as_bool)
        .unwrap_or(false);
    if autostart != draft.autostart {
        set_value(table, "autostart", Value::from(draft.autostart));
    }
}

/// Writes the draft's secret source: in place when the kind is unchanged, in
/// the old key's place when it changed; other active sources are removed.
fn write_secret(table: &mut Table, secret: &DraftSecret) {
    let Some((key, value)) = secret_entry(secret) else {
        return;
    };
    // A `false` flag is no source and is left alone.
    let active: Vec<&str> = SECRET_KEYS
        .iter()
        .copied()
        .filter(|k| match table.get(k) {
            Some(item) => item.as_bool() != Some(false),
            None => false,
        })
        .collect();

    if table.contains_key(key) {
        let same = match table.get(key).and_then(Item::as_value) {
            Some(Value::String(s)) => value.as_str() == Some(s.value().as_str()),
            Some(Value::Boolean(b)) => value.as_bool() == Some(*b.value()),
            _ => false,
        };
        if !same {
            set_value(table, key, value);
        }
    } else if let Some(first) = active.first() {
        replace_key(table, first, key, value);
    } else {
        set_value(table, key, value);
    }
    for other in active.into_iter().filter(|k| *k != key) {
        table.remove(other);
    }
}

/// Sets `key` to `value`, keeping the old value's spacing and trailing
/// comment; a new key is appended with the table's indentation.
fn set_value(table: &mut Table, key: &str, mut value: Value) {
    if let Some(Item::Value(old)) = table.get_mut(key) {
        *value.decor_mut() = old.decor().clone();
        *old = value;
        return;
    }
    let indent = table
        .iter()
        .last()
        .and_then(|(k, _)| table.key(k))
        .and_then(|k| k.leaf_decor().prefix())
        .and_then(|p| p.as_str())
        .map(|p| p.rsplit('\n').next().unwrap_or_default())
        .filter(|p| p.chars().all(|c| c == ' ' || c == '\t'))
        .unwrap_or_default()
        .to_owned();
    let new_key = Key::new(key).with_leaf_decor(Decor::new(indent, " "));
    table.insert_formatted(&new_key, Item::Value(value));
}

/// Puts `new_key = value` where `old_key` was, keeping its spacing.
fn replace_key(table: &mut Table, old_key: &str, new_key: &str, mut value: Value) {
    let mut entries: Vec<(Key, Item)> = Vec::with_capacity(table.len());
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_owned()).collect();
    for name in keys {
        let Some((key, item)) = table.get_key_value(&name) else {
            continue;
        };
        if name == old_key {
            // Keep the spacing, not a trailing comment: it was about the old source.
            if let Some(prefix) = item.as_value().and_then(|v| v.decor().prefix()) {
                value.decor_mut().set_prefix(prefix.clone());
            }
            let key = Key::new(new_key).with_leaf_decor(key.leaf_decor().clone());
            entries.push((key, Item::Value(value.clone())));
        } else {
            entries.push((key.clone(), item.clone()));
        }
    }
    table.clear();
    for (key, item) in entries {
        table.insert_formatted(&key, item);
    }
}

/// The comment block of a header's prefix that is separated from the header
/// by a blank line, if it holds a comment.
fn detached_comments(prefix: &str) -> Option<String> {
    let lines: Vec<&str> = prefix.split_inclusive('\n').collect();
    let last_blank = lines
        .iter()
        .rposition(|l| l.trim().is_empty() && l.ends_with('\n'))?;
    let block: String = lines[..=last_blank].concat();
    block.contains('#').then_some(block)
}

/// `kept` followed by `rest`, with at most one blank line between them.
fn join_blocks(kept: &str, rest: &str) -> String {
    let kept_ends_blank = kept.ends_with("\n\n") || kept == "\n";
    let rest = if kept_ends_blank {
        rest.trim_start_matches(['\n', '\r'])
    } else {
        rest
    };
    format!("{kept}{rest}")
}

/// Splits off the comment lines at the start of `text` that are followed by
/// a blank line: in the prefix of a table's header, those trail the table
/// before it rather than announce this one.
fn split_trailing_block(text: &str) -> Option<(&str, &str)> {
    let mut end = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return (end > 0 && line.ends_with('\n')).then(|| text.split_at(end));
        }
        if !trimmed.starts_with('#') {
            return None;
        }
        end += line.len();
    }
    None
}

/// Rewrites the text that follows a connection table: the prefix of
/// connection `next_index` when there is one, else of the next top-level
/// table after document position `position`, else the document's trailing text.
fn edit_following(
    doc: &mut DocumentMut,
    next_index: usize,
    position: Option<isize>,
    rewrite: impl FnOnce(&str) -> String,
) -> Result<(), EditError> {
    fn rewrite_decor(decor: &mut Decor, rewrite: impl FnOnce(&str) -> String) {
        let old = decor.prefix().and_then(|p| p.as_str()).unwrap_or_default();
        let new = rewrite(old);
        decor.set_prefix(new);
    }

    if let Some(next) = tables_mut(doc)?.get_mut(next_index) {
        rewrite_decor(next.decor_mut(), rewrite);
    } else if let Some(next) = next_root_table(doc, position) {
        rewrite_decor(next.decor_mut(), rewrite);
    } else {
        let new = rewrite(doc.trailing().as_str().unwrap_or_default());
        doc.set_trailing(new);
    }
    Ok(())
}

/// The top-level table that follows document position `after`, if any.
fn next_root_table(doc: &mut DocumentMut, after: Option<isize>) -> Option<&mut Table> {
    let after = after?;
    doc.as_table_mut()
        .iter_mut()
        .filter_map(|(_, item)| match item {
            Item::Table(t) => Some(t),
            _ => None,
        })
        .filter(|t| t.position().is_some_and(|p| p > after))
        .min_by_key(|t| t.position())
}

/// The path a save should replace: the target of a symbolic link, so the
/// link (a dotfiles manager's, say) survives.
fn follow_symlink(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
        }
        _ => path.to_owned(),
    }
}

/// The Unix mode for the new file: 0600 when it holds a plain password or
/// had no original, else the original's.
#[cfg(unix)]
fn file_mode(target: &Path, holds_plain: bool) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(target) {
        Ok(_) if holds_plain => 0o600,
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(_) => 0o600,
    }
}

#[cfg(not(unix))]
fn file_mode(_target: &Path, _holds_plain: bool) -> u32 {
    0
}

/// A temporary file that removes itself unless kept.
struct TempFile {
    path: PathBuf,
    file: std::fs::File,
    keep: std::cell::Cell<bool>,
}

impl TempFile {
    fn create(dir: &Path, file_name: &str, mode: u32) -> io::Result<Self> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;

        // A clash with a leftover from a crashed save just picks another name.
        let mut tries = 0;
        loop {
            let path = dir.join(format!(
                ".{file_name}.tmp-{}-{:08x}",
                std::process::id(),
                fastrand::u32(..)
            ));
            match options.open(&path) {
                Ok(file) => {
                    let temp = Self {
                        path,
                        file,
                        keep: std::cell::Cell::new(false),
                    };
                    // The umask may have narrowed the mode; set it exactly.
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt;
                        temp.file
                            .set_permissions(std::fs::Permissions::from_mode(mode))?;
                    }
                    return Ok(temp);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 10 => tries += 1,
                Err(e) => return Err(e),
            }
        }
    }

    fn write(&self, bytes: &[u8]) -> io::Result<()> {
        let mut file = &self.file;
        file.write_all(bytes)?;
        file.sync_all()
    }

    fn keep(&self) {
        self.keep.set(true);
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep.get() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Flushes a folder's entries so the rename survives a power cut; best
/// effort, as not every platform or filesystem allows it.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detached_comments_keep_only_blocks_before_a_blank_line() {
        assert_eq!(detached_comments("\n"), None);
        assert_eq!(detached_comments("\n# about b\n"), None);
        assert_eq!(
            detached_comments("# Section\n\n# about b\n").as_deref(),
            Some("# Section\n\n")
        );
        assert_eq!(
            detached_comments("\n# old = 1\n\n").as_deref(),
            Some("\n# old = 1\n\n")
        );
    }

    #[test]
    fn join_blocks_keeps_one_blank_line() {
        assert_eq!(join_blocks("# S\n\n", "\n# b\n"), "# S\n\n# b\n");
        assert_eq!(join_blocks("# S\n", "\n# b\n"), "# S\n\n# b\n");
    }
}
