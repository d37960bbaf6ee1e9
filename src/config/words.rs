//! A small POSIX-style word splitter for `password_command`.
//!
//! The command runs without a shell (so no pipes, globs or variables), but
//! users still expect `pass show "act/acme prod"` to keep the quoted part as
//! one argument. This covers exactly that: whitespace separates words, single
//! quotes keep everything literally, double quotes keep everything except
//! that a backslash escapes `\`, `"`, `$`, `` ` `` and a newline, and a
//! backslash outside quotes escapes the next character.

use std::fmt;

/// Why a command line could not be split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// A quote was opened and never closed.
    UnterminatedQuote(char),
    /// The line ends in a lone backslash.
    TrailingBackslash,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnterminatedQuote(q) => write!(f, "a {q} quote is opened and never closed"),
            Self::TrailingBackslash => f.write_str("it ends in a lone backslash"),
        }
    }
}

/// Splits `line` into words the way a POSIX shell would, without expansions.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word exists once any character or quote pair was seen, so `''` is an
    // empty argument rather than nothing.
    let mut in_word = false;
    let mut chars = line.chars();

    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                let next = chars.next().ok_or(SplitError::TrailingBackslash)?;
                // Backslash-newline is a line continuation in a shell.
                if next != '\n' {
                    word.push(next);
                    in_word = true;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err(SplitError::UnterminatedQuote('\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('\\' | '"' | '$' | '`')) => word.push(ch),
                            Some('\n') => {}
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err(SplitError::UnterminatedQuote('"')),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err(SplitError::UnterminatedQuote('"')),
                    }
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }

    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(line: &str) -> Vec<String> {
        split(line).expect("splits")
    }

    #[test]
    fn splits_on_whitespace() {
        assert_eq!(s("  pass  show\tact/acme "), ["pass", "show", "act/acme"]);
        assert!(s("   ").is_empty());
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(s(r"printf 'pa ss\n'"), ["printf", r"pa ss\n"]);
        assert_eq!(s(r#"a "b \"c\" \$d \x" e"#), ["a", r#"b "c" $d \x"#, "e"]);
        assert_eq!(s(r"a\ b c\\d"), ["a b", r"c\d"]);
        assert_eq!(s(r#"x '' "" y"#), ["x", "", "", "y"]);
        assert_eq!(s(r#"it'"s"'"#), [r#"it"s""#]);
    }

    #[test]
    fn errors() {
        assert_eq!(split("a 'b"), Err(SplitError::UnterminatedQuote('\'')));
        assert_eq!(split("a \"b"), Err(SplitError::UnterminatedQuote('"')));
        assert_eq!(split("a b\\"), Err(SplitError::TrailingBackslash));
    }
}
