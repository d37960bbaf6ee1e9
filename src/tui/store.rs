//! The connections file as the UI edits it: applying the form's requests,
//! saving, and reloading on outside changes. All file IO of the UI is here,
//! called by the run loop (and by tests), never by [`super::App::update`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::message::Message;
use crate::config::{self, ConfigDocument, ConnectionDraft, EditError, Fingerprint, SaveError};
use crate::secret::Secret;

/// A change to the connections file the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditRequest {
    /// Append a connection.
    Add {
        /// The new connection.
        draft: ConnectionDraft,
        /// A password to store in the OS keyring once the file is saved.
        keyring_password: Option<Secret>,
    },
    /// Change connection `old_name`.
    Update {
        /// Its name when the form opened.
        old_name: String,
        /// What it becomes.
        draft: ConnectionDraft,
        /// A password to store in the OS keyring once the file is saved.
        keyring_password: Option<Secret>,
    },
    /// Remove a connection.
    Delete {
        /// Its name.
        name: String,
    },
    /// Copy a connection under a new name, right after it.
    Duplicate {
        /// The original.
        name: String,
        /// The copy's name.
        new_name: String,
    },
}

impl EditRequest {
    /// The connection to select once the edit is saved.
    fn select_after(&self) -> Option<String> {
        match self {
            Self::Add { draft, .. } | Self::Update { draft, .. } => Some(draft.name.clone()),
            Self::Duplicate { new_name, .. } => Some(new_name.clone()),
            Self::Delete { .. } => None,
        }
    }

    fn summary(&self) -> String {
        match self {
            Self::Add { draft, .. } => format!("added '{}'", draft.name),
            Self::Update {
                old_name, draft, ..
            } if *old_name != draft.name => {
                format!("renamed '{old_name}' to '{}' and saved", draft.name)
            }
            Self::Update { draft, .. } => format!("saved '{}'", draft.name),
            Self::Delete { name } => format!("deleted '{name}'"),
            Self::Duplicate { name, new_name } => {
                format!("duplicated '{name}' as '{new_name}' (e edits it)")
            }
        }
    }

    /// The password to store in the keyring after a successful save, and the
    /// account (connection name) it goes under.
    pub fn keyring_password(&self) -> Option<(String, Secret)> {
        match self {
            Self::Add {
                draft,
                keyring_password: Some(secret),
            }
            | Self::Update {
                draft,
                keyring_password: Some(secret),
                ..
            } => Some((draft.name.clone(), secret.clone())),
            _ => None,
        }
    }
}

/// The connections file being edited and what the app last applied from it.
#[derive(Debug)]
pub struct ConfigStore {
    path: PathBuf,
    /// The document the next edit applies to; `None` while the file cannot
    /// be parsed for editing.
    doc: Option<ConfigDocument>,
    /// The file content the app's config reflects: a watch signal for the
    /// same content (the app's own save) is not a change.
    applied: Option<Fingerprint>,
}

impl ConfigStore {
    /// Opens the file at `path` (which need not exist yet) for editing; the
    /// content read now is taken as the one the running config reflects.
    pub fn open(path: &Path) -> Self {
        let doc = ConfigDocument::load(path).ok();
        let applied = doc
            .as_ref()
            .and_then(|d| d.fingerprint().cloned())
            .or_else(|| Fingerprint::read(path).ok().flatten());
        Self {
            path: path.to_owned(),
            doc,
            applied,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies `request` to the document and saves it; the message tells the
    /// app how it went (and carries the new config on success).
    pub fn apply(&mut self, request: &EditRequest) -> Message {
        let doc = match self.doc.as_mut() {
            Some(doc) => doc,
            None => match ConfigDocument::load(&self.path) {
                Ok(doc) => self.doc.insert(doc),
                Err(err) => return failed(&err.to_string(), Vec::new(), None),
            },
        };
        let edited = match request {
            EditRequest::Add { draft, .. } => doc.add_connection(draft),
            EditRequest::Update {
                old_name, draft, ..
            } => doc.update_connection(old_name, draft),
            EditRequest::Delete { name } => doc.delete_connection(name),
            EditRequest::Duplicate { name, new_name } => doc.duplicate_connection(name, new_name),
        };
        if let Err(err) = edited {
            return edit_failed(&err);
        }
        match doc.save() {
            Ok(()) => {
                self.applied = doc.fingerprint().cloned();
                match doc.config() {
                    Ok(config) => Message::EditSaved {
                        config: Arc::new(config),
                        summary: request.summary(),
                        select: request.select_after(),
                    },
                    // save() parsed this very text before writing it.
                    Err(err) => failed(&err.to_string(), Vec::new(), None),
                }
            }
            Err(SaveError::ChangedOnDisk { .. }) => {
                // Someone else's change wins; the user's edit stays in the form.
                self.doc = ConfigDocument::load(&self.path).ok();
                let reloaded = self.reload();
                let now = match &reloaded {
                    Ok(_) => "actsm has reloaded it".to_owned(),
                    Err(e) => format!("it does not load now ({e}), so actsm keeps what it had"),
                };
                let reloaded = reloaded.ok();
                Message::EditFailed {
                    error: format!(
                        "{} changed on disk since actsm loaded it, so nothing was written. \
                         {now}; your edit is kept in the form: press Enter to apply it again, \
                         or Esc to drop it.",
                        self.path.display()
                    ),
                    field_errors: Vec::new(),
                    changed_on_disk: true,
                    reloaded,
                }
            }
            Err(err) => {
                // The document holds the unsaved edit: start again from the file.
                self.doc = ConfigDocument::load(&self.path).ok();
                let message = err.to_string();
                let field_errors = match err {
                    SaveError::Invalid(invalid) => EditError::Invalid(invalid).field_errors(),
                    _ => Vec::new(),
                };
                failed(&message, field_errors, None)
            }
        }
    }

    /// Called when the watcher signals a change: reloads the file unless its
    /// content is what the app already runs (its own save). `None` means
    /// nothing to do.
    pub fn on_file_changed(&mut self) -> Option<Message> {
        let now = Fingerprint::read(&self.path).ok().flatten();
        let same = match (&now, &self.applied) {
            (Some(a), Some(b)) => a.same_content(b),
            (None, None) => true,
            _ => false,
        };
        if same {
            return None;
        }
        Some(match self.reload() {
            Ok(config) => Message::ConfigReloaded(config),
            Err(error) => {
                // Do not report the same broken content again.
                self.applied = now;
                Message::ConfigLoadFailed(error)
            }
        })
    }

    /// Loads the file afresh, for the app and for the next edit.
    fn reload(&mut self) -> Result<Arc<config::Config>, String> {
        let before = Fingerprint::read(&self.path).ok().flatten();
        let config = config::load(&self.path).map_err(|e| e.to_string())?;
        self.doc = ConfigDocument::load(&self.path).ok();
        self.applied = self
            .doc
            .as_ref()
            .and_then(|d| d.fingerprint().cloned())
            .or(before);
        Ok(Arc::new(config))
    }
}

fn edit_failed(err: &EditError) -> Message {
    failed(&err.to_string(), err.field_errors(), None)
}

fn failed(
    error: &str,
    field_errors: Vec<config::FieldError>,
    reloaded: Option<Arc<config::Config>>,
) -> Message {
    Message::EditFailed {
        error: error.to_owned(),
        field_errors,
        changed_on_disk: false,
        reloaded,
    }
}
