//! Secrets in memory: passwords and tokens.
//!
//! Both types zero their memory on drop and print `***` in `Debug` and
//! `Display`, so a stray `{:?}` in a log line, a panic message or a snapshot
//! never shows the value. The only way to the bytes is [`Secret::expose`].

use std::fmt;

use zeroize::Zeroizing;

/// A password (or any other credential) held in memory.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a value; the caller's `String` moves in and is zeroed on drop.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A JWT as issued by `/authorize`: a bearer credential, so as secret as a password.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(Secret);

impl Token {
    /// Wraps the raw JWT text.
    pub fn new(value: String) -> Self {
        Self(Secret::new(value))
    }

    /// The raw JWT, for the `Authorization` header, the clipboard or stdout.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// A short, non-secret handle: a hash prefix that tells two tokens apart
    /// in the UI and the journal without revealing either.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.expose().as_bytes());
        digest[..4]
            .iter()
            .fold(String::with_capacity(8), |mut out, b| {
                use std::fmt::Write as _;
                let _ = write!(out, "{b:02x}");
                out
            })
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::from("hunter2");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(s.expose(), "hunter2");

        let t = Token::new("aaa.bbb.ccc".into());
        assert_eq!(format!("{t:?}"), "Token(***)");
        assert!(!format!("{t:?} {t}").contains("aaa"));
        assert_eq!(t.fingerprint().len(), 8);
    }
}
