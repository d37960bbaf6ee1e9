//! Resolving a [`SecretSource`] into the password it names.
//!
//! Each source either yields a password or fails with a [`SecretError`] that
//! says what went wrong and how to fix it. There is never a fallback from one
//! source to another: a user who configured a command wants that command's
//! answer, not a stale variable that happens to be set.

use std::collections::HashMap;
use std::fmt;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use super::SecretSource;
use super::words;
use crate::secret::Secret;

/// How much of a failing command's stderr an error message keeps.
const STDERR_KEEP: usize = 300;

/// Why a password could not be obtained. No message ever contains the secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// `password_env` names a variable that is not set.
    #[error(
        "environment variable {var} is not set; set it before starting actsm, \
         e.g. `export {var}='...'` in the shell or your profile"
    )]
    EnvMissing {
        /// The variable's name.
        var: String,
    },
    /// `password_env` names a variable whose value is not valid Unicode.
    #[error("environment variable {var} does not hold valid UTF-8 text")]
    EnvNotUnicode {
        /// The variable's name.
        var: String,
    },
    /// `password_env` names a variable that is set but empty.
    #[error("environment variable {var} is set but empty; put the password in it")]
    EnvEmpty {
        /// The variable's name.
        var: String,
    },
    /// `password_command` could not be split into words.
    #[error("password_command cannot be parsed: {reason}")]
    CommandSyntax {
        /// What is wrong with the quoting.
        reason: String,
    },
    /// `password_command` holds no words at all.
    #[error("password_command is empty")]
    CommandEmpty,
    /// The command's program does not exist or is not on `PATH`.
    #[error(
        "password command `{program}` was not found; check the spelling or that it is on PATH \
         (it runs without a shell, so pipes and shell builtins do not work)"
    )]
    CommandNotFound {
        /// The program name, first word of the command.
        program: String,
    },
    /// The command could not be started for another reason.
    #[error("password command `{program}` could not be started: {source}")]
    CommandSpawn {
        /// The program name.
        program: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The command ran and failed.
    #[error("password command `{program}` failed ({status}){}", stderr_suffix(.stderr))]
    CommandFailed {
        /// The program name.
        program: String,
        /// The exit status as the OS describes it (`exit status: 1`, `signal: 9`).
        status: String,
        /// The start of its stderr, trimmed; never its stdout, which may hold the secret.
        stderr: String,
    },
    /// The command did not finish in time and was killed.
    #[error("password command `{program}` did not finish within {}; it was stopped", humantime::format_duration(*.timeout))]
    CommandTimeout {
        /// The program name.
        program: String,
        /// The time it was given.
        timeout: Duration,
    },
    /// The command's output is not UTF-8 text.
    #[error("password command `{program}` printed something that is not UTF-8 text")]
    CommandNotUnicode {
        /// The program name.
        program: String,
    },
    /// The command succeeded but printed nothing.
    #[error("password command `{program}` succeeded but printed no password on stdout")]
    CommandOutputEmpty {
        /// The program name.
        program: String,
    },
    /// `password = ""`: nothing to send.
    #[error("the plain-text password in the connections file is empty")]
    PlainEmpty,
    /// `password_prompt = true` and no password has been typed yet: the UI
    /// must ask for it and hand it over through [`PromptedSecrets`].
    #[error(
        "this connection's password is typed at a prompt and none has been entered yet; \
         start it from the TUI, which asks for it and keeps it in memory only"
    )]
    NeedsPrompt,
    /// The OS keyring cannot be reached at all (a headless server, no D-Bus
    /// session, no Secret Service running, a locked or missing keychain).
    #[error(
        "no OS keyring available on this machine ({reason}); use password_env or \
         password_command"
    )]
    KeyringUnavailable {
        /// The platform's reason, which never holds a password.
        reason: String,
    },
    /// The OS keyring did not answer in time.
    #[error(
        "the OS keyring did not answer within {} (no OS keyring available on this machine?); \
         use password_env or password_command",
        humantime::format_duration(*.timeout)
    )]
    KeyringTimeout {
        /// The time it was given.
        timeout: Duration,
    },
    /// The keyring works but holds no password for this connection.
    #[error(
        "the OS keyring holds no password for '{account}' (service '{service}'); store it from \
         the connection's edit form in the TUI"
    )]
    KeyringNoEntry {
        /// The service name, always [`super::KEYRING_SERVICE`].
        service: &'static str,
        /// The account, which is the connection's name.
        account: String,
    },
    /// The keyring answered with an error other than "unavailable" or "no entry".
    #[error("the OS keyring refused to {action} the password for '{account}': {reason}")]
    KeyringFailed {
        /// What was attempted: `read`, `store` or `delete`.
        action: &'static str,
        /// The account, which is the connection's name.
        account: String,
        /// The platform's reason, which never holds a password.
        reason: String,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::from("; it printed nothing on stderr")
    } else {
        format!(": {stderr}")
    }
}

impl SecretSource {
    /// Obtains the password, allowing a command at most `timeout`.
    ///
    /// A prompt cannot be answered here: [`SecretSource::Prompt`] always gives
    /// [`SecretError::NeedsPrompt`]; use [`SecretSource::resolve_with`] to
    /// consult the passwords typed so far. The keyring is given at most
    /// [`super::KEYRING_TIMEOUT`], whatever `timeout` says, so that a machine
    /// without one fails fast.
    pub async fn resolve(&self, timeout: Duration) -> Result<Secret, SecretError> {
        match self {
            Self::Env(var) => env_value(var, std::env::var(var)),
            Self::Command(line) => resolve_command(line, timeout).await,
            Self::Prompt => Err(SecretError::NeedsPrompt),
            Self::Keyring { account } => super::keyring::read_from_keyring(account).await,
            Self::Plain(secret) if secret.is_empty() => Err(SecretError::PlainEmpty),
            Self::Plain(secret) => Ok(secret.clone()),
        }
    }

    /// Like [`SecretSource::resolve`], but a prompt source is answered from
    /// `prompted` (the password typed for connection `name`), and still gives
    /// [`SecretError::NeedsPrompt`] when none was typed. Other sources ignore
    /// `prompted`: there is never a fallback from one source to another.
    pub async fn resolve_with(
        &self,
        name: &str,
        prompted: &PromptedSecrets,
        timeout: Duration,
    ) -> Result<Secret, SecretError> {
        match self {
            Self::Prompt => prompted.get(name).cloned().ok_or(SecretError::NeedsPrompt),
            other => other.resolve(timeout).await,
        }
    }

    /// True for a source that needs the user to type the password.
    pub fn needs_prompt(&self) -> bool {
        matches!(self, Self::Prompt)
    }

    /// Where the password comes from, in a few words safe to show and log:
    /// `env ACME_PW`, ``command `pass` ``, `plain text in file`.
    ///
    /// A command shows only its program, since its arguments may be sensitive.
    pub fn describe(&self) -> String {
        match self {
            Self::Env(var) => format!("env {var}"),
            Self::Command(line) => format!("command `{}`", program_of(line)),
            Self::Prompt => String::from("typed at a prompt"),
            Self::Keyring { .. } => String::from("OS keyring"),
            Self::Plain(_) => String::from("plain text in file"),
        }
    }
}

/// Passwords typed at a prompt, by connection name, held in memory only.
///
/// The TUI inserts what the user typed; the engine consults it through
/// [`SecretSource::resolve_with`]. Nothing here is ever written anywhere, and
/// each password is zeroed when removed or when the cache is dropped.
/// `Debug` shows the names only.
#[derive(Clone, Default)]
pub struct PromptedSecrets {
    by_name: HashMap<String, Secret>,
}

impl PromptedSecrets {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `secret` for connection `name`, replacing an earlier one.
    pub fn insert(&mut self, name: impl Into<String>, secret: Secret) {
        self.by_name.insert(name.into(), secret);
    }

    /// The password typed for `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.by_name.get(name)
    }

    /// True when a password was typed for `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Forgets the password for `name` (after the server refused it, say).
    pub fn remove(&mut self, name: &str) -> Option<Secret> {
        self.by_name.remove(name)
    }

    /// Forgets every password.
    pub fn clear(&mut self) {
        self.by_name.clear();
    }

    /// How many passwords are held.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True when no password is held.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

impl fmt::Debug for PromptedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("PromptedSecrets")
            .field("names", &names)
            .finish_non_exhaustive()
    }
}

/// The first word of a command line, for messages; `?` when there is none.
fn program_of(line: &str) -> String {
    words::split(line)
        .ok()
        .and_then(|w| w.into_iter().next())
        .unwrap_or_else(|| String::from("?"))
}

/// Judges the result of reading `var`; split out so tests need not change
/// the process environment (which is `unsafe` in edition 2024).
fn env_value(var: &str, value: Result<String, std::env::VarError>) -> Result<Secret, SecretError> {
    match value {
        Ok(value) if value.is_empty() => Err(SecretError::EnvEmpty {
            var: var.to_owned(),
        }),
        Ok(value) => Ok(Secret::new(value)),
        Err(std::env::VarError::NotPresent) => Err(SecretError::EnvMissing {
            var: var.to_owned(),
        }),
        Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::EnvNotUnicode {
            var: var.to_owned(),
        }),
    }
}

async fn resolve_command(line: &str, timeout: Duration) -> Result<Secret, SecretError> {
    let words = words::split(line).map_err(|e| SecretError::CommandSyntax {
        reason: e.to_string(),
    })?;
    let Some((program, args)) = words.split_first() else {
        return Err(SecretError::CommandEmpty);
    };

    // No shell: the words go straight to the program, so nothing in the
    // line is ever interpreted twice.
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                SecretError::CommandNotFound {
                    program: program.clone(),
                }
            } else {
                SecretError::CommandSpawn {
                    program: program.clone(),
                    source,
                }
            }
        })?;

    // On time-out the future (and with it the child) is dropped, and
    // kill_on_drop stops the process.
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(source)) => {
            return Err(SecretError::CommandSpawn {
                program: program.clone(),
                source,
            });
        }
        Err(_) => {
            return Err(SecretError::CommandTimeout {
                program: program.clone(),
                timeout,
            });
        }
    };

    if !output.status.success() {
        return Err(SecretError::CommandFailed {
            program: program.clone(),
            status: output.status.to_string(),
            stderr: keep_start(String::from_utf8_lossy(&output.stderr).trim(), STDERR_KEEP),
        });
    }

    let mut text =
        String::from_utf8(output.stdout).map_err(|_| SecretError::CommandNotUnicode {
            program: program.clone(),
        })?;
    strip_one_newline(&mut text);
    if text.is_empty() {
        return Err(SecretError::CommandOutputEmpty {
            program: program.clone(),
        });
    }
    Ok(Secret::new(text))
}

/// Drops one trailing `\n` or `\r\n`, as `pass` and friends print one;
/// anything more belongs to the password.
fn strip_one_newline(text: &mut String) {
    if text.ends_with("\r\n") {
        text.truncate(text.len() - 2);
    } else if text.ends_with('\n') {
        text.truncate(text.len() - 1);
    }
}

/// The first `max` characters of `text`, with `…` when cut.
fn keep_start(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn strips_exactly_one_newline() {
        for (raw, want) in [
            ("pw\n", "pw"),
            ("pw\r\n", "pw"),
            ("pw\n\n", "pw\n"),
            ("pw", "pw"),
            ("pw \n", "pw "),
        ] {
            let mut s = raw.to_owned();
            strip_one_newline(&mut s);
            assert_eq!(s, want, "input {raw:?}");
        }
    }

    #[test]
    fn keep_start_cuts_on_char_boundaries() {
        assert_eq!(keep_start("ééé", 2), "éé…");
        assert_eq!(keep_start("abc", 3), "abc");
    }

    #[test]
    fn describe_never_shows_the_secret() {
        assert_eq!(
            SecretSource::Env("ACME_PW".into()).describe(),
            "env ACME_PW"
        );
        assert_eq!(
            SecretSource::Command("pass show 'act/acme'".into()).describe(),
            "command `pass`"
        );
        assert_eq!(SecretSource::Prompt.describe(), "typed at a prompt");
        let keyring = SecretSource::Keyring {
            account: "acme".into(),
        };
        assert_eq!(keyring.describe(), "OS keyring");
        let plain = SecretSource::Plain(Secret::from("hunter2"));
        assert_eq!(plain.describe(), "plain text in file");
        assert!(!format!("{plain:?}").contains("hunter2"));
    }

    #[test]
    fn env_value_judges_present_missing_empty() {
        use std::env::VarError;
        let got = env_value("ACME_PW", Ok("s3cret".into())).expect("present");
        assert_eq!(got.expose(), "s3cret");

        let msg = env_value("ACME_PW", Err(VarError::NotPresent))
            .expect_err("missing")
            .to_string();
        assert!(msg.contains("ACME_PW is not set"), "{msg}");
        assert!(msg.contains("export ACME_PW="), "{msg}");

        let msg = env_value("ACME_PW", Ok(String::new()))
            .expect_err("empty")
            .to_string();
        assert!(msg.contains("ACME_PW is set but empty"), "{msg}");
    }

    #[tokio::test]
    async fn env_reads_the_real_environment() {
        let missing = "ACTSM_TEST_VARIABLE_THAT_IS_NEVER_SET";
        let err = SecretSource::Env(missing.into())
            .resolve(T)
            .await
            .expect_err("missing variable");
        assert!(matches!(err, SecretError::EnvMissing { .. }));

        // A variable every test process has, to check the success path.
        let path = std::env::var("PATH").expect("PATH is set");
        let got = SecretSource::Env("PATH".into())
            .resolve(T)
            .await
            .expect("PATH resolves");
        assert_eq!(got.expose(), path);
    }

    #[tokio::test]
    async fn prompt_needs_the_ui_and_then_uses_what_was_typed() {
        let err = SecretSource::Prompt.resolve(T).await.expect_err("prompt");
        assert!(matches!(err, SecretError::NeedsPrompt));
        assert!(err.to_string().contains("typed at a prompt"), "{err}");

        let mut typed = PromptedSecrets::new();
        let err = SecretSource::Prompt
            .resolve_with("acme", &typed, T)
            .await
            .expect_err("nothing typed yet");
        assert!(matches!(err, SecretError::NeedsPrompt));

        typed.insert("acme", Secret::from("typed-pw"));
        let got = SecretSource::Prompt
            .resolve_with("acme", &typed, T)
            .await
            .expect("typed");
        assert_eq!(got.expose(), "typed-pw");
        // Another connection's typed password is not used.
        assert!(
            SecretSource::Prompt
                .resolve_with("other", &typed, T)
                .await
                .is_err()
        );
        // Nor is a typed password a fallback for another source.
        let err = SecretSource::Env("ACTSM_TEST_VARIABLE_THAT_IS_NEVER_SET".into())
            .resolve_with("acme", &typed, T)
            .await
            .expect_err("env missing");
        assert!(matches!(err, SecretError::EnvMissing { .. }));

        let debug = format!("{typed:?}");
        assert!(
            debug.contains("acme") && !debug.contains("typed-pw"),
            "{debug}"
        );
        assert_eq!(
            typed
                .remove("acme")
                .map(|s| s.expose().to_owned())
                .as_deref(),
            Some("typed-pw")
        );
        assert!(typed.is_empty());
    }

    #[tokio::test]
    async fn plain_and_empty_plain() {
        let got = SecretSource::Plain(Secret::from("pw")).resolve(T).await;
        assert_eq!(got.expect("plain resolves").expose(), "pw");
        let err = SecretSource::Plain(Secret::from("")).resolve(T).await;
        assert!(matches!(err, Err(SecretError::PlainEmpty)));
    }

    #[tokio::test]
    async fn command_not_found_names_the_program() {
        let err = SecretSource::Command("actsm-no-such-program-xyz --flag".into())
            .resolve(T)
            .await
            .expect_err("not found");
        assert!(matches!(err, SecretError::CommandNotFound { .. }));
        let msg = err.to_string();
        assert!(msg.contains("`actsm-no-such-program-xyz`"), "{msg}");
        assert!(!msg.contains("--flag"), "{msg}");
    }

    #[tokio::test]
    async fn command_syntax_and_empty() {
        let err = SecretSource::Command("pass 'open".into()).resolve(T).await;
        assert!(matches!(err, Err(SecretError::CommandSyntax { .. })));
        let err = SecretSource::Command("   ".into()).resolve(T).await;
        assert!(matches!(err, Err(SecretError::CommandEmpty)));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn command_success_strips_one_trailing_newline() {
        let got = SecretSource::Command(r"printf 'pa ss\n'".into())
            .resolve(T)
            .await
            .expect("printf succeeds");
        assert_eq!(got.expose(), "pa ss");

        let got = SecretSource::Command(r"printf 'x:y\r\n'".into())
            .resolve(T)
            .await
            .expect("printf succeeds");
        assert_eq!(got.expose(), "x:y");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn command_runs_without_a_shell() {
        // With a shell, `$HOME` would expand and `;` would start a second command.
        let got = SecretSource::Command(r"printf '%s' '$HOME;echo'".into())
            .resolve(T)
            .await
            .expect("printf succeeds");
        assert_eq!(got.expose(), "$HOME;echo");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn command_failure_shows_stderr_not_stdout() {
        let err = SecretSource::Command(
            "sh -c 'printf topsecret; printf \"vault is locked\" >&2; exit 3'".into(),
        )
        .resolve(T)
        .await
        .expect_err("exit 3");
        let msg = err.to_string();
        assert!(msg.contains("vault is locked"), "{msg}");
        assert!(msg.contains("exit status: 3"), "{msg}");
        assert!(msg.contains("`sh`"), "{msg}");
        assert!(!msg.contains("topsecret"), "{msg}");
        assert!(!format!("{err:?}").contains("topsecret"));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn command_failure_keeps_only_the_start_of_stderr() {
        let err = SecretSource::Command(
            "sh -c 'head -c 2000 /dev/zero | tr \"\\0\" e >&2; exit 1'".into(),
        )
        .resolve(T)
        .await
        .expect_err("exit 1");
        let SecretError::CommandFailed { stderr, .. } = &err else {
            panic!("unexpected error {err}");
        };
        assert_eq!(stderr.chars().count(), STDERR_KEEP + 1);
        assert!(stderr.ends_with('…'));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn command_success_with_no_output_is_an_error() {
        let err = SecretSource::Command("true".into()).resolve(T).await;
        assert!(matches!(err, Err(SecretError::CommandOutputEmpty { .. })));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn command_timeout_is_enforced() {
        let started = std::time::Instant::now();
        let err = SecretSource::Command("sleep 5".into())
            .resolve(Duration::from_millis(200))
            .await
            .expect_err("times out");
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(matches!(err, SecretError::CommandTimeout { .. }));
        let msg = err.to_string();
        assert!(msg.contains("`sleep`") && msg.contains("200ms"), "{msg}");
    }
}
