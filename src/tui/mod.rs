//! The terminal UI.
//!
//! - [`app`]: the state and its `update(msg)`: no IO, no drawing, no clock reads.
//! - [`message`]: everything that changes the state.
//! - [`view`]: the layout; one file per pane or popup draws into it
//!   ([`connection_list`], [`token_pane`], [`meter_pane`], [`journal_pane`],
//!   [`help_popup`], [`status_bar`]).
//! - [`theme`]: styles by role from built-in and user themes; honours `NO_COLOR`.
//! - [`terminal`]: raw mode, alternate screen, the panic hook and the restore guard.
//! - [`clipboard`]: OSC 52.
//! - [`notify`]: the bell and OSC 9 / OSC 777 desktop notifications.
//!
//! - [`form`], [`popup`]: the add/edit form, the delete confirmation, notices and
//!   the masked password prompt.
//! - [`store`]: the connections file as the app edits it (the only file IO of the UI).
//!
//! [`run`] ties them to the engine: it waits on engine events, terminal input,
//! changes to the connections file and a one-second tick, and draws once the
//! event queue is empty.

pub mod app;
pub mod clipboard;
pub mod connection_list;
pub mod focus;
pub mod form;
pub mod format;
pub mod help_popup;
pub mod inspector;
pub mod journal_pane;
pub mod message;
pub mod meter_pane;
pub mod notify;
pub mod popup;
pub mod status_bar;
pub mod store;
pub mod terminal;
pub mod theme;
pub mod token_pane;
pub mod view;
pub mod widgets;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{Local, Utc};
use crossterm::event::EventStream;
use futures::StreamExt as _;
use tokio::time::MissedTickBehavior;

pub use app::App;
pub use focus::Pane;
pub use message::Message;
pub use theme::Theme;

use crate::config::Config;
use crate::journal::{JournalFile, JournalWriter};
use crate::session::{Engine, Event};

/// What the UI shows about where it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TuiOptions {
    /// Shown in the header: `"demo"` or the connections file's path.
    pub title: String,
    /// The diagnostic log file, shown in the help.
    pub log_path: Option<PathBuf>,
    /// The connections file that was read or looked for (shown when there are no connections).
    pub config_path: Option<PathBuf>,
    /// The token cache the engine shares with the commands; `None` for none (the demo).
    pub token_cache: Option<crate::cache::TokenCache>,
    /// `--theme NAME`: wins over `theme` in `[settings]`.
    pub theme: Option<String>,
    /// The user's themes folder (`themes/` beside the connections file);
    /// `None` for built-in themes only.
    pub themes_dir: Option<PathBuf>,
    /// The folder of the journal file (reloaded at start, appended to, exports written
    /// there); `None` keeps the journal in memory only (tests).
    pub journal_dir: Option<PathBuf>,
}

/// A frame the event loop drew, for observers (tests): its number since the
/// loop started (the first frame is 1) and the screen as drawn.
#[derive(Debug, Clone)]
pub struct DrawnFrame {
    /// Frames drawn so far, this one included.
    pub number: u64,
    /// The whole screen after this frame.
    pub buffer: ratatui::buffer::Buffer,
}

/// Runs the terminal UI until the user quits.
///
/// Must run inside a tokio runtime. The terminal is restored on return, on
/// error and on panic.
pub async fn run(config: Config, options: TuiOptions) -> anyhow::Result<()> {
    let mut guard = terminal::TerminalGuard::enter_with(config.settings.mouse)?;
    let result = run_loop(
        &mut guard.terminal,
        EventStream::new(),
        Arc::new(config),
        options,
        None,
    )
    .await;
    drop(guard);
    result
}

/// The event loop, on any ratatui `backend` and any `input` stream of terminal
/// events: [`run`] passes the real terminal and crossterm's `EventStream`,
/// tests a `TestBackend` and a channel.
///
/// It starts the engine for `config`, waits on engine events, `input`,
/// changes to the connections file and a one-second tick, and draws once the
/// event queue is empty; never for input that changes nothing (a key release,
/// a mouse move). Every frame drawn is also sent to `frames`, when given.
/// Returns when the user quits or `input` ends.
// One select over every source, then one dispatch: splitting it would scatter the loop.
#[allow(clippy::too_many_lines)]
pub async fn run_loop<B, S>(
    terminal: &mut ratatui::Terminal<B>,
    mut input: S,
    config: Arc<Config>,
    options: TuiOptions,
    frames: Option<tokio::sync::mpsc::UnboundedSender<DrawnFrame>>,
) -> anyhow::Result<()>
where
    B: ratatui::backend::Backend,
    B::Error: Send + Sync + 'static,
    S: futures::Stream<Item = std::io::Result<crossterm::event::Event>> + Unpin,
{
    let mut app = App::new(&config, &options);
    app.set_offset(*Local::now().offset());
    install_themes(&mut app, &config, &options);
    app.update(Message::Tick(Utc::now()));

    let mut drawn: u64 = 0;
    let mut draw = |terminal: &mut ratatui::Terminal<B>, app: &App| -> anyhow::Result<()> {
        let frame = terminal
            .draw(|frame| app.render(frame))
            .context("drawing the screen")?;
        drawn += 1;
        if let Some(frames) = &frames {
            // An observer that went away does not stop the UI.
            let _ = frames.send(DrawnFrame {
                number: drawn,
                buffer: frame.buffer.clone(),
            });
        }
        Ok(())
    };

    // The first frame never waits for the network: draw before the engine starts.
    draw(terminal, &app)?;
    let (events_tx, mut events_rx) = tokio::sync::mpsc::unbounded_channel();
    let engine = Engine::spawn_with_cache(Arc::clone(&config), events_tx, options.token_cache);

    // Edits from the app and changes made outside it both go through the store.
    let mut store = app.config_path.as_deref().map(store::ConfigStore::open);
    let mut file_changes = match &store {
        Some(store) => crate::config::watch(store.path()),
        // Never signals: the sender is dropped, and recv() on a closed channel
        // is disabled below.
        None => tokio::sync::mpsc::channel(1).1,
    };
    let mut watching = store.is_some();
    // Results of background work (keyring writes) come back as messages.
    let (tasks_tx, mut tasks_rx) = tokio::sync::mpsc::unbounded_channel::<Message>();
    let journal_writer = start_journal(&app, options.journal_dir.as_deref(), tasks_tx.clone());

    let mut hangup = Hangup::listen();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let multiplexer = clipboard::Multiplexer::detect();
    let desktop = notify::DesktopSupport::detect();

    loop {
        let msg = tokio::select! {
            biased;
            Some(event) = events_rx.recv() => journaled(event, journal_writer.as_ref()),
            Some(msg) = tasks_rx.recv() => msg,
            event = input.next() => match event {
                Some(Ok(event)) => match Message::from_terminal(&event) {
                    Some(msg) => msg,
                    None => continue,
                },
                Some(Err(error)) => return Err(error).context("reading terminal input"),
                None => break,
            },
            signal = file_changes.recv(), if watching => {
                let changed = signal.is_some();
                watching = changed;
                match store.as_mut().and_then(|s| if changed { s.on_file_changed() } else { None }) {
                    Some(msg) => msg,
                    None => continue,
                }
            }
            () = hangup.recv() => {
                // The terminal went away (SSH dropped, tmux killed) or we were asked to
                // stop: leave through the normal path so the journal and the demo's
                // folder are cleaned up, rather than dying mid-write.
                tracing::info!("hang-up or termination signal: quitting");
                break;
            }
            _ = tick.tick() => Message::Tick(Utc::now()),
        };

        let mut pending = vec![msg];
        while let Some(msg) = pending.pop() {
            for command in app.update(msg) {
                tracing::debug!(?command, "sending command to the engine");
                engine.send(command);
            }
            for request in app.take_edits() {
                let Some(store) = store.as_mut() else {
                    continue;
                };
                let result = store.apply(&request);
                if matches!(result, Message::EditSaved { .. })
                    && let Some((name, secret)) = request.keyring_password()
                {
                    let tx = tasks_tx.clone();
                    tokio::spawn(async move {
                        let error = crate::config::store_in_keyring(&name, &secret)
                            .await
                            .err()
                            .map(|e| e.to_string());
                        let _ = tx.send(Message::KeyringStored { name, error });
                    });
                }
                pending.push(result);
            }
        }
        copy_if_asked(&mut app, multiplexer);
        notify_if_due(&mut app, desktop, multiplexer);
        if let Some(entries) = app.take_export() {
            spawn_export(
                entries,
                options.journal_dir.clone(),
                app.offset,
                tasks_tx.clone(),
            );
        }
        if app.should_quit() {
            break;
        }
        // A burst of engine events gives one frame.
        if events_rx.is_empty() {
            draw(terminal, &app)?;
        }
    }

    drop(engine);
    Ok(())
}

/// Loads the built-in and user themes (the only theme IO) and shows the one
/// asked for: `--theme`, else `theme` in `[settings]`; `NO_COLOR` wins.
fn install_themes(app: &mut App, config: &Config, options: &TuiOptions) {
    let (themes, theme_errors) = theme::ThemeSet::load(options.themes_dir.as_deref());
    for error in &theme_errors {
        tracing::warn!(%error, "theme file not loaded");
    }
    let requested = options
        .theme
        .as_deref()
        .or(config.settings.theme.as_deref());
    app.set_themes(
        themes,
        requested,
        theme::no_color_requested(),
        theme_errors.iter().map(ToString::to_string).collect(),
    );
}

/// Writes the notifications the app decided on (bell, OSC 9/777) to the
/// terminal; nothing when stdout is not a terminal (tests, pipes).
fn notify_if_due(app: &mut App, desktop: notify::DesktopSupport, via: clipboard::Multiplexer) {
    use std::io::IsTerminal as _;
    let due = app.take_notifications();
    if due.is_empty() || !std::io::stdout().is_terminal() {
        return;
    }
    for notification in &due {
        tracing::info!(title = %notification.title, "notifying");
        if let Err(error) = notify::emit(
            &mut std::io::stdout(),
            notification,
            app.notify_mode(),
            desktop,
            via,
        ) {
            tracing::warn!(%error, "writing a notification failed");
        }
    }
}

/// The message for an engine event; a journal entry is also queued for the journal file.
fn journaled(event: Event, writer: Option<&JournalWriter>) -> Message {
    if let (Event::Journal(entry), Some(writer)) = (&event, writer) {
        writer.send(entry.clone());
    }
    Message::Engine(event)
}

/// Starts the journal's thread: it reads back the journal of earlier runs (and of
/// scripts), sent to the loop as [`Message::JournalLoaded`], then appends new entries,
/// so the disk never holds up a frame, the first one included.
fn start_journal(
    app: &App,
    dir: Option<&std::path::Path>,
    tx: tokio::sync::mpsc::UnboundedSender<Message>,
) -> Option<JournalWriter> {
    let file = JournalFile::new(dir?);
    JournalWriter::spawn_loading(file, app.journal_capacity(), move |loaded| {
        let _ = tx.send(Message::JournalLoaded(loaded));
    })
    .inspect_err(|error| tracing::warn!(%error, "journal writer not started"))
    .ok()
}

/// Writes an export off the UI task; the result comes back on `tx`.
fn spawn_export(
    entries: Vec<crate::journal::JournalEntry>,
    dir: Option<PathBuf>,
    offset: chrono::FixedOffset,
    tx: tokio::sync::mpsc::UnboundedSender<Message>,
) {
    tokio::task::spawn_blocking(move || {
        let _ = tx.send(export_journal(dir.as_deref(), &entries, Utc::now(), offset));
    });
}

/// Writes `entries` to `journal-export-YYYYMMDD-HHMMSS.jsonl` (local time `offset`) in
/// `dir`, owner-only; the message says where, or why not. Blocking: the loop runs it
/// off the UI task.
pub fn export_journal(
    dir: Option<&std::path::Path>,
    entries: &[crate::journal::JournalEntry],
    now: chrono::DateTime<Utc>,
    offset: chrono::FixedOffset,
) -> Message {
    let Some(dir) = dir else {
        return Message::JournalExported(Err("no state folder to write to".to_owned()));
    };
    let name = crate::journal::store::export_name(now.with_timezone(&offset));
    let result = crate::journal::store::export(dir, &name, entries)
        .map(|path| (path, entries.len()))
        .map_err(|e| {
            tracing::warn!(error = %e, "journal export failed");
            e.to_string()
        });
    Message::JournalExported(result)
}

/// Writes the token the app asked to copy (if any) as an OSC 52 sequence.
fn copy_if_asked(app: &mut App, multiplexer: clipboard::Multiplexer) {
    let Some(token) = app.take_clipboard() else {
        return;
    };
    match clipboard::copy_token(&mut std::io::stdout(), &token, multiplexer) {
        Ok(method) => {
            app.update(Message::ClipboardCopied(method));
        }
        Err(error) => {
            tracing::warn!(%error, "writing the OSC 52 clipboard sequence failed");
            app.update(Message::ClipboardFailed(error.to_string()));
        }
    }
}

/// SIGHUP and SIGTERM, where the platform has them.
struct Hangup {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Hangup {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = signal(SignalKind::hangup())
                .and_then(|hup| Ok((hup, signal(SignalKind::terminate())?)))
                .inspect_err(|e| tracing::warn!("cannot listen for SIGHUP/SIGTERM: {e}"))
                .ok();
            Self { signals }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Resolves when a signal arrives; never where none can be listened for.
    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some((hup, term)) = &mut self.signals {
            tokio::select! {
                _ = hup.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        std::future::pending::<()>().await;
    }
}
