//! Passwords in the OS keyring: Keychain on macOS, Credential Manager on
//! Windows, the Secret Service (GNOME Keyring, `KWallet`) on Linux.
//!
//! Every call runs on a blocking thread under [`KEYRING_TIMEOUT`]: on a
//! headless server the Secret Service may be missing or may be activated on
//! demand and never answer, and a connection that waits on it must fail fast
//! with a message that says what to use instead, not hang.

use std::time::Duration;

use super::SecretError;
use crate::secret::Secret;

/// The keyring service name every actsm password is stored under; the
/// account is the connection's name.
pub const KEYRING_SERVICE: &str = "actsm";

/// The longest a keyring call may take before it counts as unavailable.
pub const KEYRING_TIMEOUT: Duration = Duration::from_secs(3);

/// What a keyring call does, for messages.
#[derive(Clone, Copy)]
enum Action {
    Read,
    Store,
    Delete,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Store => "store",
            Self::Delete => "delete",
        }
    }
}

/// Reads the password stored for connection `account`.
pub(crate) async fn read_from_keyring(account: &str) -> Result<Secret, SecretError> {
    let owned = account.to_owned();
    call(account, Action::Read, move || {
        let entry = keyring::Entry::new(KEYRING_SERVICE, &owned)?;
        entry.get_password().map(Secret::new)
    })
    .await
}

/// Stores `secret` as the password of connection `name` (service
/// [`KEYRING_SERVICE`], account `name`), replacing an earlier one.
///
/// Fails within about [`KEYRING_TIMEOUT`] on a machine without a keyring.
pub async fn store_in_keyring(name: &str, secret: &Secret) -> Result<(), SecretError> {
    let owned = name.to_owned();
    let secret = secret.clone();
    call(name, Action::Store, move || {
        let entry = keyring::Entry::new(KEYRING_SERVICE, &owned)?;
        entry.set_password(secret.expose())
    })
    .await
}

/// Removes the password of connection `name` from the keyring; removing one
/// that is not there is not an error.
pub async fn delete_from_keyring(name: &str) -> Result<(), SecretError> {
    let owned = name.to_owned();
    let result = call(name, Action::Delete, move || {
        let entry = keyring::Entry::new(KEYRING_SERVICE, &owned)?;
        entry.delete_credential()
    })
    .await;
    match result {
        Err(SecretError::KeyringNoEntry { .. }) => Ok(()),
        other => other,
    }
}

/// Runs `op` on a blocking thread, bounded by [`KEYRING_TIMEOUT`], and
/// turns the keyring's errors into ours.
async fn call<T, F>(account: &str, action: Action, op: F) -> Result<T, SecretError>
where
    T: Send + 'static,
    F: FnOnce() -> keyring::Result<T> + Send + 'static,
{
    // A call that times out keeps its thread until the platform gives up;
    // that costs a parked thread, never the caller's time.
    let task = tokio::task::spawn_blocking(op);
    match tokio::time::timeout(KEYRING_TIMEOUT, task).await {
        Err(_) => Err(SecretError::KeyringTimeout {
            timeout: KEYRING_TIMEOUT,
        }),
        Ok(Err(join)) => Err(SecretError::KeyringFailed {
            action: action.verb(),
            account: account.to_owned(),
            reason: format!("the keyring call stopped unexpectedly ({join})"),
        }),
        Ok(Ok(result)) => result.map_err(|e| convert(e, account, action)),
    }
}

/// Maps a keyring error to ours, never using a `Display` that could carry
/// stored bytes (`BadEncoding` holds the password itself).
fn convert(err: keyring::Error, account: &str, action: Action) -> SecretError {
    let failed = |reason: String| SecretError::KeyringFailed {
        action: action.verb(),
        account: account.to_owned(),
        reason,
    };
    match err {
        keyring::Error::NoEntry => SecretError::KeyringNoEntry {
            service: KEYRING_SERVICE,
            account: account.to_owned(),
        },
        keyring::Error::NoStorageAccess(e) | keyring::Error::PlatformFailure(e) => {
            SecretError::KeyringUnavailable {
                reason: e.to_string(),
            }
        }
        keyring::Error::BadEncoding(_) => {
            failed(String::from("the stored password is not UTF-8 text"))
        }
        keyring::Error::TooLong(attr, limit) => failed(format!(
            "'{attr}' is longer than the platform limit of {limit} characters"
        )),
        keyring::Error::Invalid(attr, reason) => failed(format!("'{attr}' is invalid: {reason}")),
        keyring::Error::Ambiguous(items) => failed(format!(
            "{} entries match; remove the extra ones in the keyring manager",
            items.len()
        )),
        _ => failed(String::from("an error this version of actsm does not know")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_encoding_never_shows_the_bytes() {
        let err = convert(
            keyring::Error::BadEncoding(b"hunter2\xff".to_vec()),
            "acme",
            Action::Read,
        );
        let text = format!("{err} {err:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("not UTF-8"), "{text}");
    }

    #[test]
    fn unavailable_and_missing_say_what_to_do() {
        let err = convert(
            keyring::Error::NoStorageAccess("no D-Bus session".into()),
            "acme",
            Action::Read,
        );
        let text = err.to_string();
        assert!(
            text.starts_with("no OS keyring available on this machine (no D-Bus session)"),
            "{text}"
        );
        assert!(
            text.ends_with("use password_env or password_command"),
            "{text}"
        );

        let text = convert(keyring::Error::NoEntry, "acme", Action::Read).to_string();
        assert!(
            text.contains("holds no password for 'acme' (service 'actsm')"),
            "{text}"
        );
    }
}
