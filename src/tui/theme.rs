//! Styles by role, built from a small palette of the terminal's own ANSI colours.
//!
//! Named ANSI colours (not RGB) follow the user's terminal scheme, so the same
//! theme reads on light and dark backgrounds. With `NO_COLOR` set, every role
//! keeps its modifiers (bold, reverse, dim) and drops its colour.

use ratatui::style::{Color, Modifier, Style};

use crate::act::VerdictClass;
use crate::session::SessionState;

/// The few colours every role is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    /// Things that work.
    pub ok: Color,
    /// Things that need attention soon.
    pub warning: Color,
    /// Things that are broken.
    pub danger: Color,
    /// Titles, focus, keys.
    pub accent: Color,
    /// Secondary text.
    pub muted: Color,
}

/// The built-in default theme, compiled in from `themes/default.toml`.
pub const DEFAULT_THEME_TOML: &str = include_str!("../../themes/default.toml");

impl Default for Palette {
    fn default() -> Self {
        Self::from_toml(DEFAULT_THEME_TOML, "themes/default.toml")
            .expect("the built-in default theme is valid (checked by a unit test)")
    }
}

/// A theme file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// Not TOML, or a key that is not a role.
    #[error("theme {source_name}: {message}")]
    Parse {
        /// The theme file's name.
        source_name: String,
        /// What the TOML parser said.
        message: String,
    },
    /// A value that is not a colour.
    #[error(
        "theme {source_name}: key '{key}': '{value}' is not a colour; use an ANSI name \
         such as \"green\" or \"darkgray\", a palette index 0-255, or #rrggbb"
    )]
    Colour {
        /// The theme file's name.
        source_name: String,
        /// The role whose value is wrong.
        key: &'static str,
        /// The value found.
        value: String,
    },
}

/// A theme file as written: one colour per role.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PaletteFile {
    ok: String,
    warning: String,
    danger: String,
    accent: String,
    muted: String,
}

impl Palette {
    /// Parses a theme file; `source_name` names it in errors.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Self, ThemeError> {
        let file: PaletteFile = toml::from_str(text).map_err(|err| ThemeError::Parse {
            source_name: source_name.to_owned(),
            message: err.message().to_owned(),
        })?;
        let colour = |key: &'static str, value: &str| {
            value.parse::<Color>().map_err(|_| ThemeError::Colour {
                source_name: source_name.to_owned(),
                key,
                value: value.to_owned(),
            })
        };
        Ok(Self {
            ok: colour("ok", &file.ok)?,
            warning: colour("warning", &file.warning)?,
            danger: colour("danger", &file.danger)?,
            accent: colour("accent", &file.accent)?,
            muted: colour("muted", &file.muted)?,
        })
    }
}

/// Every style the UI uses, by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// `None` when colours are off (`NO_COLOR`).
    palette: Option<Palette>,
}

impl Default for Theme {
    fn default() -> Self {
        Self::with_palette(Palette::default())
    }
}

impl Theme {
    /// A theme with colours from `palette`.
    pub fn with_palette(palette: Palette) -> Self {
        Self {
            palette: Some(palette),
        }
    }

    /// A theme without colours: modifiers only.
    pub fn no_color() -> Self {
        Self { palette: None }
    }

    /// The default palette, or no colours when `NO_COLOR` is set to a non-empty value
    /// (see <https://no-color.org>).
    pub fn from_env() -> Self {
        match std::env::var_os("NO_COLOR") {
            Some(value) if !value.is_empty() => Self::no_color(),
            _ => Self::default(),
        }
    }

    /// True when this theme uses colours.
    pub fn has_color(&self) -> bool {
        self.palette.is_some()
    }

    fn fg(&self, pick: impl Fn(&Palette) -> Color) -> Style {
        match &self.palette {
            Some(palette) => Style::new().fg(pick(palette)),
            None => Style::new(),
        }
    }

    /// A pane's border; the focused pane stands out.
    pub fn border(&self, focused: bool) -> Style {
        if focused { self.accent() } else { self.muted() }
    }

    /// A pane's title.
    pub fn title(&self) -> Style {
        self.accent().add_modifier(Modifier::BOLD)
    }

    /// Success, valid tokens.
    pub fn ok(&self) -> Style {
        self.fg(|p| p.ok)
    }

    /// Attention: backoff, throttling, assumed expiry, config warnings.
    pub fn warning(&self) -> Style {
        self.fg(|p| p.warning).add_modifier(Modifier::BOLD)
    }

    /// Failures the user must act on.
    pub fn danger(&self) -> Style {
        self.fg(|p| p.danger).add_modifier(Modifier::BOLD)
    }

    /// Secondary text: labels, explanations, empty values.
    pub fn muted(&self) -> Style {
        match &self.palette {
            Some(palette) => Style::new().fg(palette.muted),
            // Without colour, dim is the only way to push text back.
            None => Style::new().add_modifier(Modifier::DIM),
        }
    }

    /// Emphasis without judgement: keys, focus, work in progress.
    pub fn accent(&self) -> Style {
        self.fg(|p| p.accent)
    }

    /// The filled part of a gauge.
    pub fn gauge(&self) -> Style {
        self.fg(|p| p.accent).add_modifier(Modifier::BOLD)
    }

    /// The unfilled part of a gauge.
    pub fn gauge_empty(&self) -> Style {
        self.muted()
    }

    /// The selected row of a list.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    /// The focused field of a form.
    pub fn selected_field(&self) -> Style {
        Style::new().add_modifier(Modifier::UNDERLINED)
    }

    /// A connection's own colour (its `color` setting), or nothing without colours.
    pub fn connection(&self, color: Option<Color>) -> Style {
        match (color, self.palette.is_some()) {
            (Some(color), true) => Style::new().fg(color),
            _ => Style::new(),
        }
    }

    /// A key name in the status bar and the help.
    pub fn key(&self) -> Style {
        self.accent().add_modifier(Modifier::BOLD)
    }

    /// The style for a session state badge.
    pub fn state(&self, state: SessionState) -> Style {
        match state {
            SessionState::Valid => self.ok().add_modifier(Modifier::BOLD),
            SessionState::Authorizing | SessionState::Refreshing => self.accent(),
            SessionState::Backoff => self.warning(),
            SessionState::Failed => self.danger(),
            SessionState::Idle | SessionState::Stopped => self.muted(),
        }
    }

    /// The style for a verdict of `class`.
    pub fn verdict(&self, class: VerdictClass) -> Style {
        match class {
            VerdictClass::Ok => self.ok(),
            VerdictClass::Unreachable | VerdictClass::ServerFault | VerdictClass::Throttled => {
                self.warning()
            }
            VerdictClass::Refused | VerdictClass::Local => self.danger(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn built_in_default_theme_parses_to_ansi_colours() {
        let palette = super::Palette::from_toml(super::DEFAULT_THEME_TOML, "default")
            .expect("built-in theme parses");
        assert_eq!(palette.ok, super::Color::Green);
        assert_eq!(palette.muted, super::Color::DarkGray);
    }

    #[test]
    fn a_bad_colour_names_the_file_and_key() {
        let text = super::DEFAULT_THEME_TOML.replace("\"red\"", "\"redish\"");
        let err = super::Palette::from_toml(&text, "mine.toml").expect_err("bad colour");
        let message = err.to_string();
        assert!(message.contains("mine.toml"), "{message}");
        assert!(message.contains("'danger'"), "{message}");
        assert!(message.contains("'redish'"), "{message}");
    }

    use super::*;

    #[test]
    fn no_color_keeps_modifiers_and_drops_colours() {
        let theme = Theme::no_color();
        assert_eq!(theme.danger().fg, None);
        assert!(theme.danger().add_modifier.contains(Modifier::BOLD));
        assert!(theme.selected().add_modifier.contains(Modifier::REVERSED));
        assert!(theme.muted().add_modifier.contains(Modifier::DIM));
        assert_eq!(theme.border(true).fg, None);
    }

    #[test]
    fn colours_come_from_the_palette() {
        let theme = Theme::default();
        assert_eq!(theme.danger().fg, Some(Color::Red));
        assert_eq!(theme.ok().fg, Some(Color::Green));
        assert_ne!(theme.border(true), theme.border(false));
    }
}
