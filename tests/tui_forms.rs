//! The add/edit/delete forms, the password prompt, the filter and sort, and
//! saving through the app's own path (`App` -> `EditRequest` -> `ConfigStore` -> `Message`).

mod tui_common;

use std::sync::Arc;

use actsm::config::{self, Connection, DraftField, SecretSource};
use actsm::secret::Secret;
use actsm::session::{Command, Event};
use actsm::tui::app::SortKey;
use actsm::tui::store::{ConfigStore, EditRequest};
use actsm::tui::{App, Message, TuiOptions};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_common::*;

const TYPED_PASSWORD: &str = "Tr0ub4dor&3-typed";

fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.update(Message::Key(KeyEvent::from(code)))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Message::Key(KeyEvent::from(KeyCode::Char(c))));
    }
}

fn tab(app: &mut App, times: usize) {
    for _ in 0..times {
        press(app, KeyCode::Tab);
    }
}

/// Every rendered cell of a frame, joined (a secret split across cells still shows).
fn all_symbols(app: &App, width: u16, height: u16) -> String {
    let terminal = render(app, width, height);
    terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .map(ratatui::buffer::Cell::symbol)
        .collect()
}

/// The fixture app, editable (it knows a connections file).
fn editable_app() -> App {
    let mut app = App::new(&config(), &options());
    app.update(Message::Tick(now()));
    app
}

#[test]
fn add_form_empty_80x24() {
    let mut app = editable_app();
    assert!(press(&mut app, KeyCode::Char('a')).is_empty());
    assert!(app.form().is_some());
    let terminal = render(&app, 80, 24);
    let text = screen_text(&terminal);
    assert!(text.contains("Add connection"), "{text}");
    for label in [
        "Name",
        "Login URL",
        "API URL",
        "Database",
        "User",
        "Password",
    ] {
        assert!(text.contains(label), "{label} missing:\n{text}");
    }
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn add_form_shows_inline_errors_beside_the_wrong_fields() {
    let mut app = editable_app();
    press(&mut app, KeyCode::Char('a'));
    type_text(&mut app, "globex"); // taken
    tab(&mut app, 2);
    type_text(&mut app, "ftp://nope.invalid/act.web.api");
    press(&mut app, KeyCode::Enter);

    // Nothing to save: the draft is wrong.
    assert!(app.take_edits().is_empty());
    let form = app.form().expect("the form stays open");
    let fields: Vec<DraftField> = form.errors.iter().map(|e| e.field).collect();
    for wanted in [
        DraftField::Name,
        DraftField::Url,
        DraftField::Database,
        DraftField::User,
        DraftField::Secret,
    ] {
        assert!(fields.contains(&wanted), "{wanted} not flagged: {fields:?}");
    }
    let terminal = render(&app, 100, 30);
    let text = screen_text(&terminal);
    assert!(text.contains("already used"), "{text}");
    assert!(text.contains("database name is required"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn edit_form_is_filled_from_the_connection() {
    let mut app = editable_app();
    press(&mut app, KeyCode::Down); // globex
    press(&mut app, KeyCode::Char('e'));
    let form = app.form().expect("edit form");
    let draft = form.draft();
    assert_eq!(draft.name, "globex");
    assert_eq!(draft.database, "Globex");
    assert_eq!(
        draft.secret,
        actsm::config::DraftSecret::Env("GLOBEX_PW".into())
    );
    let terminal = render(&app, 80, 24);
    let text = screen_text(&terminal);
    assert!(text.contains("Edit connection 'globex'"), "{text}");
    assert!(text.contains("GLOBEX_PW"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn edit_form_masks_an_existing_plain_password() {
    let mut app = editable_app();
    press(&mut app, KeyCode::Char('e')); // acme, plain "hunter2"
    let screen = all_symbols(&app, 100, 30);
    assert!(!screen.contains("hunter2"));
    assert!(screen.contains("•••••••"), "masked password expected");
    assert!(screen.contains("plain text"), "warning expected");
}

#[test]
fn delete_asks_first_naming_the_connection() {
    let mut app = editable_app();
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char('d'));
    assert_eq!(app.confirming_delete(), Some("globex"));
    let terminal = render(&app, 80, 24);
    let text = screen_text(&terminal);
    assert!(text.contains("Delete connection 'globex'?"), "{text}");
    insta::assert_snapshot!(terminal.backend());

    // n keeps it; y asks the loop to delete.
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(app.confirming_delete(), None);
    assert!(app.take_edits().is_empty());
    press(&mut app, KeyCode::Char('d'));
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(
        app.take_edits(),
        vec![EditRequest::Delete {
            name: "globex".into()
        }]
    );
}

#[test]
fn password_prompt_is_masked_and_provides_the_secret() {
    let mut app = editable_app();
    app.update(Message::Engine(Event::SecretNeeded("initech".into())));
    assert_eq!(app.prompt_for(), Some("initech"));
    type_text(&mut app, TYPED_PASSWORD);

    let terminal = render(&app, 80, 24);
    let text = screen_text(&terminal);
    assert!(text.contains("'initech' needs its password"), "{text}");
    assert!(text.contains(&"•".repeat(TYPED_PASSWORD.chars().count())));
    for size in [(80, 24), (200, 50)] {
        assert!(!all_symbols(&app, size.0, size.1).contains(TYPED_PASSWORD));
    }
    insta::assert_snapshot!(terminal.backend());

    let commands = press(&mut app, KeyCode::Enter);
    assert_eq!(
        commands,
        vec![Command::ProvideSecret(
            "initech".into(),
            Secret::from(TYPED_PASSWORD)
        )]
    );
    assert_eq!(app.prompt_for(), None);
    // The app keeps no copy: its debug print does not hold it either.
    assert!(!format!("{app:?}").contains(TYPED_PASSWORD));
}

#[test]
fn password_prompts_queue_and_esc_cancels_one() {
    let mut app = editable_app();
    app.update(Message::Engine(Event::SecretNeeded("acme".into())));
    app.update(Message::Engine(Event::SecretNeeded("globex".into())));
    app.update(Message::Engine(Event::SecretNeeded("acme".into())));
    assert_eq!(app.prompt_for(), Some("acme"));
    assert!(press(&mut app, KeyCode::Esc).is_empty());
    assert_eq!(app.prompt_for(), Some("globex"));
    type_text(&mut app, "x");
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        vec![Command::ProvideSecret("globex".into(), Secret::from("x"))]
    );
    assert_eq!(app.prompt_for(), None, "acme was asked only once");
}

#[test]
fn typed_form_password_is_never_rendered() {
    let mut app = editable_app();
    press(&mut app, KeyCode::Char('a'));
    type_text(&mut app, "new");
    tab(&mut app, 5); // to the password source
    for _ in 0..5 {
        press(&mut app, KeyCode::Right); // env, command, prompt, keyring, plain
    }
    tab(&mut app, 1);
    type_text(&mut app, TYPED_PASSWORD);
    for (w, h) in [(80, 24), (200, 50), (60, 15)] {
        let screen = all_symbols(&app, w, h);
        assert!(!screen.contains(TYPED_PASSWORD), "{w}x{h}");
        assert!(!screen.contains("Tr0ub"), "{w}x{h}");
    }
    let screen = screen_text(&render(&app, 100, 30));
    assert!(screen.contains("plain text"), "{screen}");
    assert!(!format!("{app:?}").contains(TYPED_PASSWORD));
}

#[test]
fn login_url_fills_the_cloud_api_base() {
    let mut app = editable_app();
    press(&mut app, KeyCode::Char('a'));
    tab(&mut app, 1);
    type_text(&mut app, "https://act.example.invalid/CustomerName/login");
    assert_eq!(
        app.form().unwrap().draft().url,
        "https://act.example.invalid/customername-api/act.web.api"
    );
    // Clear it and paste an on-premises host.
    app.update(Message::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    type_text(&mut app, "https://crm.example.invalid/");
    assert_eq!(
        app.form().unwrap().draft().url,
        "https://crm.example.invalid/act.web.api"
    );
}

#[test]
fn filter_active_80x24() {
    let mut app = editable_app();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "GLO");
    assert_eq!(app.visible_names(), vec!["globex"]);
    assert_eq!(app.selected_name(), Some("globex"));
    let terminal = render(&app, 80, 24);
    let text = screen_text(&terminal);
    assert!(text.contains("Connections (1/3)"), "{text}");
    assert!(text.contains("/GLO"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn filter_matches_group_database_and_user_and_esc_clears() {
    let mut config = config();
    config.connections[2].group = Some("Tampa office".into());
    config.connections[1].user = "bob".into();
    let mut app = App::new(&config, &options());

    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "tampa");
    assert_eq!(app.visible_names(), vec!["initech"]);
    press(&mut app, KeyCode::Enter); // keep the filter, back to the list
    assert_eq!(app.filter_text(), "tampa");
    // Keys act on the list again: Enter starts the one shown.
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        vec![Command::Start("initech".into())]
    );
    // Esc clears the filter before it would quit.
    press(&mut app, KeyCode::Esc);
    assert!(!app.should_quit());
    assert_eq!(app.visible_names().len(), 3);

    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "BOB");
    assert_eq!(app.visible_names(), vec!["globex"]);
    press(&mut app, KeyCode::Esc);
    type_text(&mut app, "/acm");
    assert_eq!(app.visible_names(), vec!["acme"], "database/name match");
    press(&mut app, KeyCode::Esc);

    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "nothing-matches");
    assert!(app.visible_names().is_empty());
    assert_eq!(app.selected_name(), None);
    press(&mut app, KeyCode::Enter);
    assert!(
        press(&mut app, KeyCode::Enter).is_empty(),
        "no hidden start"
    );
}

#[test]
fn sort_cycles_group_name_time_left_state() {
    let mut config = config();
    config.connections[0].group = Some("zeta".into()); // acme
    config.connections[2].group = Some("alpha".into()); // initech
    let mut app = App::new(&config, &options());
    app.update(Message::Tick(now()));
    for snapshot in [
        acme_valid(actsm::act::ExpirySource::Claim),
        globex_failed(),
        initech_backoff(),
    ] {
        app.update(Message::Engine(Event::SessionChanged(snapshot)));
    }

    assert_eq!(app.sort(), SortKey::Group);
    // Grouped first by group, ungrouped last.
    assert_eq!(app.visible_names(), vec!["initech", "acme", "globex"]);
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.sort(), SortKey::Name);
    assert_eq!(app.visible_names(), vec!["acme", "globex", "initech"]);
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.sort(), SortKey::TimeLeft);
    assert_eq!(app.visible_names()[0], "acme", "only acme holds a token");
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.sort(), SortKey::State);
    assert_eq!(app.visible_names(), vec!["globex", "initech", "acme"]);
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.sort(), SortKey::Group);

    // Moving follows the shown order, not the file order.
    press(&mut app, KeyCode::Home);
    assert_eq!(app.selected_name(), Some("initech"));
    press(&mut app, KeyCode::Down);
    assert_eq!(app.selected_name(), Some("acme"));
}

#[test]
fn filter_selection_and_sessions_survive_a_reload() {
    let mut app = editable_app();
    app.update(Message::Engine(Event::SessionChanged(acme_valid(
        actsm::act::ExpirySource::Claim,
    ))));
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "e"); // acme, globex, initech all match
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Down); // globex

    // The file changed outside: a connection added before, one removed.
    let mut new = config();
    new.connections.remove(2);
    let mut added = new.connections[1].clone();
    added.name = "aardvark".into();
    new.connections.insert(0, added);
    let new = Arc::new(new);
    let commands = app.update(Message::ConfigReloaded(Arc::clone(&new)));

    assert_eq!(commands, vec![Command::Reload(new)]);
    assert_eq!(app.selected_name(), Some("globex"));
    assert_eq!(app.filter_text(), "e");
    assert_eq!(app.visible_names(), vec!["aardvark", "acme", "globex"]);
    assert!(app.session("acme").is_some(), "acme's session kept");
    assert!(app.session("aardvark").is_none());
}

#[test]
fn a_broken_file_keeps_the_running_config_and_says_why() {
    let mut app = editable_app();
    let commands = app.update(Message::ConfigLoadFailed("line 3: expected `=`".into()));
    assert!(commands.is_empty(), "the engine keeps the old config");
    assert_eq!(app.visible_names().len(), 3);
    let notice = app.notice().expect("a popup explains");
    assert!(notice.lines.iter().any(|l| l.contains("expected `=`")));
    let text = screen_text(&render(&app, 80, 24));
    assert!(text.contains("not reloaded"), "{text}");
    press(&mut app, KeyCode::Enter);
    assert!(app.notice().is_none());
}

#[test]
fn start_all_moved_to_shift_a_and_a_opens_the_form() {
    let mut app = editable_app();
    assert_eq!(press(&mut app, KeyCode::Char('A')), vec![Command::StartAll]);
    assert!(press(&mut app, KeyCode::Char('a')).is_empty());
    assert!(app.form().is_some());
    press(&mut app, KeyCode::Esc);
    assert!(app.form().is_none());
    assert!(!app.should_quit(), "Esc closes the form, not the app");
}

#[test]
fn without_a_connections_file_edits_are_refused_with_a_reason() {
    let mut config = config();
    config.path = None;
    let mut app = App::new(&config, &TuiOptions::default());
    press(&mut app, KeyCode::Char('a'));
    assert!(app.form().is_none());
    assert!(app.status_message().unwrap().text.contains("--config"));
}

// ----- through the file -------------------------------------------------------

const COMMENTED: &str = "\
# My connections: hand-written, keep this.
[settings]
refresh_before = \"5m\" # five minutes

# Production
[[connection]]
name = \"prod\"
url = \"https://prod.example.invalid/act.web.api\"
database = \"PROD\"
user = \"jdoe\"
password_env = \"PROD_PW\" # from the shell
";

fn file_app(dir: &tempfile::TempDir) -> (App, ConfigStore, std::path::PathBuf) {
    let path = dir.path().join("connections.toml");
    std::fs::write(&path, COMMENTED).expect("write the test file");
    let config = config::load(&path).expect("the test file loads");
    let app = App::new(
        &config,
        &TuiOptions {
            title: path.display().to_string(),
            log_path: None,
            config_path: Some(path.clone()),
            token_cache: None,
            journal_dir: None,
        },
    );
    let store = ConfigStore::open(&path);
    (app, store, path)
}

/// What the run loop does after each update: write the requested edits, answer.
fn run_edits(app: &mut App, store: &mut ConfigStore) -> Vec<Command> {
    let mut commands = Vec::new();
    for request in app.take_edits() {
        let reply = store.apply(&request);
        commands.extend(app.update(reply));
    }
    commands
}

fn fill_add_form(app: &mut App, name: &str) {
    press(app, KeyCode::Char('a'));
    type_text(app, name);
    tab(app, 1);
    type_text(app, "https://act.example.invalid/BobsOldRed/");
    tab(app, 2);
    type_text(app, "Bobs_Fast");
    tab(app, 1);
    type_text(app, "bob@example.com");
    tab(app, 1);
    press(app, KeyCode::Right); // env
    tab(app, 1);
    type_text(app, "BOB_PW");
    tab(app, 1);
    type_text(app, "cloud");
}

#[test]
fn add_then_save_keeps_comments_and_reloads_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, mut store, path) = file_app(&dir);

    fill_add_form(&mut app, "bob");
    press(&mut app, KeyCode::Enter);
    let commands = run_edits(&mut app, &mut store);

    let text = std::fs::read_to_string(&path).unwrap();
    for comment in [
        "# My connections: hand-written, keep this.",
        "# five minutes",
        "# Production",
        "# from the shell",
    ] {
        assert!(text.contains(comment), "{comment} lost:\n{text}");
    }
    let saved = config::load(&path).unwrap();
    let bob: &Connection = saved.connection("bob").expect("bob saved");
    assert_eq!(
        bob.url,
        "https://act.example.invalid/bobsoldred-api/act.web.api"
    );
    assert_eq!(bob.secret, SecretSource::Env("BOB_PW".into()));
    assert_eq!(bob.group.as_deref(), Some("cloud"));

    // The app shows it, selected, the form closed, and the engine is told once.
    assert!(app.form().is_none());
    assert_eq!(app.selected_name(), Some("bob"));
    assert_eq!(commands.len(), 1);
    assert!(matches!(&commands[0], Command::Reload(c) if c.connection("bob").is_some()));
    // The watcher's signal for the app's own write is not a second reload.
    assert!(store.on_file_changed().is_none());
}

#[test]
fn edit_delete_and_duplicate_go_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, mut store, path) = file_app(&dir);

    press(&mut app, KeyCode::Char('D'));
    run_edits(&mut app, &mut store);
    assert_eq!(app.selected_name(), Some("prod copy"));

    press(&mut app, KeyCode::Char('e'));
    tab(&mut app, 3); // database
    app.update(Message::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    type_text(&mut app, "STAGING");
    press(&mut app, KeyCode::Enter);
    run_edits(&mut app, &mut store);
    let saved = config::load(&path).unwrap();
    assert_eq!(saved.connection("prod copy").unwrap().database, "STAGING");
    assert_eq!(saved.connection("prod").unwrap().database, "PROD");

    press(&mut app, KeyCode::Char('d'));
    press(&mut app, KeyCode::Char('y'));
    run_edits(&mut app, &mut store);
    let saved = config::load(&path).unwrap();
    assert!(saved.connection("prod copy").is_none());
    assert_eq!(app.visible_names(), vec!["prod"]);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("# Production")
    );
}

#[test]
fn a_file_changed_on_disk_is_not_overwritten_and_the_edit_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, mut store, path) = file_app(&dir);

    fill_add_form(&mut app, "bob");
    // Someone edits the file before the app saves (and before the watcher saw it).
    let outside = format!(
        "{COMMENTED}\n[[connection]]\nname = \"outside\"\nurl = \"https://o.example.invalid/act.web.api\"\n\
         database = \"O\"\nuser = \"o\"\npassword_prompt = true\n"
    );
    std::fs::write(&path, &outside).unwrap();
    press(&mut app, KeyCode::Enter);
    let commands = run_edits(&mut app, &mut store);

    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        outside,
        "not overwritten"
    );
    let notice = app.notice().expect("a popup explains");
    assert!(notice.lines[0].contains("changed on disk"), "{notice:?}");
    assert!(
        app.visible_names().contains(&"outside"),
        "the app reloaded it"
    );
    assert!(matches!(&commands[..], [Command::Reload(c)] if c.connection("outside").is_some()));
    // The user's edit is still in the form; Enter after closing the notice applies it.
    assert_eq!(app.form().unwrap().draft().name, "bob");
    press(&mut app, KeyCode::Enter); // close the notice
    press(&mut app, KeyCode::Enter); // save again
    run_edits(&mut app, &mut store);
    let saved = config::load(&path).unwrap();
    assert!(saved.connection("outside").is_some());
    assert!(saved.connection("bob").is_some());
}

#[test]
fn outside_changes_reload_and_broken_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, mut store, path) = file_app(&dir);
    assert!(store.on_file_changed().is_none(), "nothing changed yet");

    std::fs::write(&path, "this is = = not toml").unwrap();
    let msg = store.on_file_changed().expect("a change");
    assert!(matches!(msg, Message::ConfigLoadFailed(_)));
    assert!(app.update(msg).is_empty());
    assert_eq!(app.visible_names(), vec!["prod"]);
    assert!(store.on_file_changed().is_none(), "reported once");

    std::fs::write(&path, COMMENTED.replace("\"prod\"", "\"production\"")).unwrap();
    let msg = store.on_file_changed().expect("a change");
    let commands = app.update(msg);
    assert!(matches!(&commands[..], [Command::Reload(c)] if c.connection("production").is_some()));
    assert_eq!(app.visible_names(), vec!["production"]);
}
