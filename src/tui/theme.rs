//! Styles by role, built from a theme: a small TOML file that names one colour per role.
//!
//! Five themes are compiled in (see [`BUILT_IN`]); user themes in the config
//! folder's `themes/` override or add to them ([`ThemeSet::load`]). The default
//! theme uses the terminal's own ANSI colours, so it reads on light and dark
//! backgrounds. With `NO_COLOR` set, every role keeps its modifiers (bold,
//! reverse, dim) and drops its colour, whatever the theme.

use std::path::Path;

use ratatui::style::{Color, Modifier, Style};

use crate::act::VerdictClass;
use crate::session::SessionState;

/// How many colours a theme may use; the per-connection accent is brought down to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorDepth {
    /// Anything: names, 0-255 indexes, `#rrggbb`.
    #[default]
    Full,
    /// The 16 base ANSI colours only (`colors = "16"` in the theme file): a
    /// connection's `#rrggbb` accent is shown as the nearest of the 16.
    Ansi16,
}

/// The colours of a theme, one per role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    /// Things that work.
    pub ok: Color,
    /// Things that need attention soon.
    pub warning: Color,
    /// Things that are broken.
    pub danger: Color,
    /// Emphasis without judgement: work in progress, highlights.
    pub accent: Color,
    /// Secondary text.
    pub muted: Color,
    /// The border of a pane without focus.
    pub border: Color,
    /// The border of the focused pane and of popups.
    pub focus: Color,
    /// Pane and popup titles.
    pub title: Color,
    /// Key names in the status bar and the help.
    pub key: Color,
    /// The filled part of a gauge.
    pub gauge: Color,
    /// The unfilled part of a gauge.
    pub gauge_empty: Color,
    /// The selected row's text and background; `None` shows it reversed.
    pub selection: Option<(Color, Color)>,
    /// How many colours the theme uses.
    pub depth: ColorDepth,
}

/// The built-in default theme, compiled in from `themes/default.toml`.
pub const DEFAULT_THEME_TOML: &str = include_str!("../../themes/default.toml");

/// The built-in themes: name and TOML text, in the order `t` cycles through them.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("default", DEFAULT_THEME_TOML),
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("ansi16", include_str!("../../themes/ansi16.toml")),
];

/// Every key a theme file may hold; the first five are required.
pub const ROLES: &[&str] = &[
    "ok",
    "warning",
    "danger",
    "accent",
    "muted",
    "border",
    "focus",
    "title",
    "key",
    "gauge",
    "gauge_empty",
    "selection_fg",
    "selection_bg",
];

/// What a colour may be, for error messages.
const ALLOWED_COLOURS: &str = "an ANSI name (black, red, green, yellow, blue, magenta, cyan, \
    gray, darkgray, lightred, lightgreen, lightyellow, lightblue, lightmagenta, lightcyan, \
    white), a palette index 0-255, or #rrggbb";

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
    #[error("theme {source_name}{}: {message}", line_suffix(*line))]
    Parse {
        /// The theme file's name.
        source_name: String,
        /// The line (1-based) the parser pointed at, when it did.
        line: Option<usize>,
        /// What the TOML parser said.
        message: String,
    },
    /// A value that is not a colour.
    #[error(
        "theme {source_name}{}: key '{key}': '{value}' is not a colour; use {ALLOWED_COLOURS}",
        line_suffix(*line)
    )]
    Colour {
        /// The theme file's name.
        source_name: String,
        /// The line (1-based) of the value.
        line: Option<usize>,
        /// The role whose value is wrong.
        key: &'static str,
        /// The value found.
        value: String,
    },
    /// A theme file that could not be read.
    #[error("theme {source_name}: cannot be read: {message}")]
    Read {
        /// The theme file's name.
        source_name: String,
        /// Why.
        message: String,
    },
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(" line {l}")).unwrap_or_default()
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

/// A theme file as written: one colour per role.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PaletteFile {
    ok: toml::Spanned<String>,
    warning: toml::Spanned<String>,
    danger: toml::Spanned<String>,
    accent: toml::Spanned<String>,
    muted: toml::Spanned<String>,
    border: Option<toml::Spanned<String>>,
    focus: Option<toml::Spanned<String>>,
    title: Option<toml::Spanned<String>>,
    key: Option<toml::Spanned<String>>,
    gauge: Option<toml::Spanned<String>>,
    gauge_empty: Option<toml::Spanned<String>>,
    selection_fg: Option<toml::Spanned<String>>,
    selection_bg: Option<toml::Spanned<String>>,
    colors: Option<toml::Spanned<String>>,
}

impl Palette {
    /// Parses a theme file; `source_name` names it in errors.
    ///
    /// The five base roles (`ok`, `warning`, `danger`, `accent`, `muted`) are
    /// required; the others fall back to one of them (`border` and
    /// `gauge_empty` to `muted`, `focus`, `title`, `key` and `gauge` to
    /// `accent`; no `selection_*` shows the selection reversed).
    pub fn from_toml(text: &str, source_name: &str) -> Result<Self, ThemeError> {
        let file: PaletteFile = toml::from_str(text).map_err(|err| ThemeError::Parse {
            source_name: source_name.to_owned(),
            line: err.span().map(|span| line_of(text, span.start)),
            message: err.message().to_owned(),
        })?;
        let colour = |key: &'static str, value: &toml::Spanned<String>| {
            parse_theme_colour(value.get_ref()).ok_or_else(|| ThemeError::Colour {
                source_name: source_name.to_owned(),
                line: Some(line_of(text, value.span().start)),
                key,
                value: value.get_ref().clone(),
            })
        };
        let optional = |key: &'static str, value: &Option<toml::Spanned<String>>| {
            value.as_ref().map(|v| colour(key, v)).transpose()
        };
        let depth = match &file.colors {
            None => ColorDepth::Full,
            Some(v) if v.get_ref() == "16" => ColorDepth::Ansi16,
            Some(v) if matches!(v.get_ref().as_str(), "256" | "truecolor" | "full") => {
                ColorDepth::Full
            }
            Some(v) => {
                return Err(ThemeError::Parse {
                    source_name: source_name.to_owned(),
                    line: Some(line_of(text, v.span().start)),
                    message: format!(
                        "key 'colors': '{}' is not a colour depth; use \"16\" or \"truecolor\"",
                        v.get_ref()
                    ),
                });
            }
        };
        let accent = colour("accent", &file.accent)?;
        let muted = colour("muted", &file.muted)?;
        let selection = match (
            optional("selection_fg", &file.selection_fg)?,
            optional("selection_bg", &file.selection_bg)?,
        ) {
            (Some(fg), Some(bg)) => Some((fg, bg)),
            (None, None) => None,
            (fg, bg) => {
                let (missing, present) = if fg.is_none() {
                    ("selection_fg", &file.selection_bg)
                } else {
                    ("selection_bg", &file.selection_fg)
                };
                return Err(ThemeError::Parse {
                    source_name: source_name.to_owned(),
                    line: present.as_ref().map(|v| line_of(text, v.span().start)),
                    message: format!(
                        "selection_fg and selection_bg go together: add '{missing}' ({:?}/{:?})",
                        fg.is_some(),
                        bg.is_some()
                    ),
                });
            }
        };
        let palette = Self {
            ok: colour("ok", &file.ok)?,
            warning: colour("warning", &file.warning)?,
            danger: colour("danger", &file.danger)?,
            accent,
            muted,
            border: optional("border", &file.border)?.unwrap_or(muted),
            focus: optional("focus", &file.focus)?.unwrap_or(accent),
            title: optional("title", &file.title)?.unwrap_or(accent),
            key: optional("key", &file.key)?.unwrap_or(accent),
            gauge: optional("gauge", &file.gauge)?.unwrap_or(accent),
            gauge_empty: optional("gauge_empty", &file.gauge_empty)?.unwrap_or(muted),
            selection,
            depth,
        };
        if depth == ColorDepth::Ansi16
            && let Some((key, colour)) = palette.colours().find(|(_, c)| !is_ansi16(*c))
        {
            return Err(ThemeError::Parse {
                source_name: source_name.to_owned(),
                line: None,
                message: format!(
                    "key '{key}': {colour} is not one of the 16 ANSI colours, and the theme \
                     says colors = \"16\""
                ),
            });
        }
        Ok(palette)
    }

    /// Every colour of the palette with its role.
    pub fn colours(&self) -> impl Iterator<Item = (&'static str, Color)> {
        let mut all = vec![
            ("ok", self.ok),
            ("warning", self.warning),
            ("danger", self.danger),
            ("accent", self.accent),
            ("muted", self.muted),
            ("border", self.border),
            ("focus", self.focus),
            ("title", self.title),
            ("key", self.key),
            ("gauge", self.gauge),
            ("gauge_empty", self.gauge_empty),
        ];
        if let Some((fg, bg)) = self.selection {
            all.extend([("selection_fg", fg), ("selection_bg", bg)]);
        }
        all.into_iter()
    }
}

/// A colour as a theme file writes it: an ANSI name, an index or `#rrggbb`.
fn parse_theme_colour(text: &str) -> Option<Color> {
    let t = text.trim();
    if let Ok(index) = t.parse::<u8>() {
        return Some(Color::Indexed(index));
    }
    super::widgets::parse_color(t)
}

/// True for the 16 base ANSI colours (and the terminal's default).
pub fn is_ansi16(colour: Color) -> bool {
    !matches!(colour, Color::Rgb(..) | Color::Indexed(_))
}

/// The nearest of the 16 base ANSI colours (by their usual xterm values) to `colour`.
pub fn nearest_ansi16(colour: Color) -> Color {
    const BASE: [(Color, (i32, i32, i32)); 16] = [
        (Color::Black, (0, 0, 0)),
        (Color::Red, (205, 0, 0)),
        (Color::Green, (0, 205, 0)),
        (Color::Yellow, (205, 205, 0)),
        (Color::Blue, (0, 0, 238)),
        (Color::Magenta, (205, 0, 205)),
        (Color::Cyan, (0, 205, 205)),
        (Color::Gray, (229, 229, 229)),
        (Color::DarkGray, (127, 127, 127)),
        (Color::LightRed, (255, 0, 0)),
        (Color::LightGreen, (0, 255, 0)),
        (Color::LightYellow, (255, 255, 0)),
        (Color::LightBlue, (92, 92, 255)),
        (Color::LightMagenta, (255, 0, 255)),
        (Color::LightCyan, (0, 255, 255)),
        (Color::White, (255, 255, 255)),
    ];
    let (r, g, b) = match colour {
        Color::Rgb(r, g, b) => (i32::from(r), i32::from(g), i32::from(b)),
        Color::Indexed(i) if i < 16 => return BASE[usize::from(i)].0,
        Color::Indexed(i) if i >= 232 => {
            let level = 8 + 10 * (i32::from(i) - 232);
            (level, level, level)
        }
        Color::Indexed(i) => {
            let i = i32::from(i) - 16;
            let step = |v: i32| if v == 0 { 0 } else { 55 + 40 * v };
            (step(i / 36), step((i / 6) % 6), step(i % 6))
        }
        other => return other,
    };
    BASE.iter()
        .min_by_key(|(_, (br, bg, bb))| (r - br).pow(2) + (g - bg).pow(2) + (b - bb).pow(2))
        .map_or(colour, |(c, _)| *c)
}

/// One theme that can be chosen: its name and colours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedTheme {
    /// What `theme = "..."`, `--theme` and the status line call it.
    pub name: String,
    /// Its colours.
    pub palette: Palette,
    /// True when it came from the user's themes folder.
    pub user: bool,
}

/// The themes to choose from: the built-ins, overridden or added to by user themes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeSet {
    themes: Vec<NamedTheme>,
}

impl Default for ThemeSet {
    fn default() -> Self {
        Self::built_in()
    }
}

impl ThemeSet {
    /// The five compiled-in themes.
    pub fn built_in() -> Self {
        let themes = BUILT_IN
            .iter()
            .map(|(name, text)| NamedTheme {
                name: (*name).to_owned(),
                palette: Palette::from_toml(text, &format!("themes/{name}.toml"))
                    .expect("built-in themes are valid (checked by a unit test)"),
                user: false,
            })
            .collect();
        Self { themes }
    }

    /// The built-ins plus every `*.toml` in `dir` (a user theme of a built-in's
    /// name replaces it; others are added, by name). Files that do not load
    /// are skipped and returned as errors: the app still starts.
    pub fn load(dir: Option<&Path>) -> (Self, Vec<ThemeError>) {
        let mut set = Self::built_in();
        let mut errors = Vec::new();
        let Some(dir) = dir else {
            return (set, errors);
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            // No themes folder is the usual case.
            return (set, errors);
        };
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let source_name = path.display().to_string();
            let loaded = std::fs::read_to_string(&path)
                .map_err(|e| ThemeError::Read {
                    source_name: source_name.clone(),
                    message: e.to_string(),
                })
                .and_then(|text| Palette::from_toml(&text, &source_name));
            match loaded {
                Ok(palette) => set.insert(NamedTheme {
                    name: name.to_owned(),
                    palette,
                    user: true,
                }),
                Err(error) => errors.push(error),
            }
        }
        (set, errors)
    }

    fn insert(&mut self, theme: NamedTheme) {
        match self.themes.iter_mut().find(|t| t.name == theme.name) {
            Some(slot) => *slot = theme,
            None => self.themes.push(theme),
        }
    }

    /// The theme called `name`.
    pub fn get(&self, name: &str) -> Option<&NamedTheme> {
        self.themes.iter().find(|t| t.name == name)
    }

    /// The position of the theme called `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.themes.iter().position(|t| t.name == name)
    }

    /// The theme at `index` (wrapping around).
    pub fn at(&self, index: usize) -> &NamedTheme {
        &self.themes[index % self.themes.len()]
    }

    /// How many themes there are (never zero).
    pub fn len(&self) -> usize {
        self.themes.len()
    }

    /// Always false: the built-ins are always there.
    pub fn is_empty(&self) -> bool {
        self.themes.is_empty()
    }

    /// The names, in cycling order.
    pub fn names(&self) -> Vec<&str> {
        self.themes.iter().map(|t| t.name.as_str()).collect()
    }

    /// The error for an unknown theme `name`, listing the ones there are.
    pub fn unknown(&self, name: &str) -> String {
        format!(
            "unknown theme '{name}'; available: {}",
            self.names().join(", ")
        )
    }
}

/// True when `NO_COLOR` is set to a non-empty value (see <https://no-color.org>).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
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
        Self::from_env_with(Palette::default())
    }

    /// `palette`, or no colours when `NO_COLOR` is set to a non-empty value:
    /// `NO_COLOR` wins over every theme.
    pub fn from_env_with(palette: Palette) -> Self {
        if no_color_requested() {
            Self::no_color()
        } else {
            Self::with_palette(palette)
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
        match (&self.palette, focused) {
            (Some(p), true) => Style::new().fg(p.focus),
            (Some(p), false) => Style::new().fg(p.border),
            (None, true) => Style::new(),
            (None, false) => Style::new().add_modifier(Modifier::DIM),
        }
    }

    /// A pane's title.
    pub fn title(&self) -> Style {
        self.fg(|p| p.title).add_modifier(Modifier::BOLD)
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
        self.fg(|p| p.gauge).add_modifier(Modifier::BOLD)
    }

    /// The unfilled part of a gauge.
    pub fn gauge_empty(&self) -> Style {
        match &self.palette {
            Some(palette) => Style::new().fg(palette.gauge_empty),
            None => Style::new().add_modifier(Modifier::DIM),
        }
    }

    /// The selected row of a list: the theme's selection colours, or reversed.
    pub fn selected(&self) -> Style {
        match self.palette.as_ref().and_then(|p| p.selection) {
            Some((fg, bg)) => Style::new().fg(fg).bg(bg).add_modifier(Modifier::BOLD),
            None => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        }
    }

    /// The focused field of a form.
    pub fn selected_field(&self) -> Style {
        Style::new().add_modifier(Modifier::UNDERLINED)
    }

    /// A connection's own colour (its `color` setting), or nothing without colours.
    /// In a 16-colour theme a `#rrggbb` colour becomes the nearest of the 16.
    pub fn connection(&self, color: Option<Color>) -> Style {
        match (color, &self.palette) {
            (Some(color), Some(palette)) if palette.depth == ColorDepth::Ansi16 => {
                Style::new().fg(nearest_ansi16(color))
            }
            (Some(color), Some(_)) => Style::new().fg(color),
            _ => Style::new(),
        }
    }

    /// A key name in the status bar and the help.
    pub fn key(&self) -> Style {
        self.fg(|p| p.key).add_modifier(Modifier::BOLD)
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
        assert!(message.contains("line "), "{message}");
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

    #[test]
    fn every_built_in_theme_parses_and_names_every_role() {
        let set = ThemeSet::built_in();
        assert_eq!(
            set.names(),
            ["default", "dark", "light", "high-contrast", "ansi16"]
        );
        for (name, text) in BUILT_IN {
            let table: toml::Table = toml::from_str(text).expect("valid TOML");
            for role in ROLES {
                // The default theme shows the selection reversed (see its file).
                if *name == "default" && role.starts_with("selection") {
                    continue;
                }
                assert!(table.contains_key(*role), "theme {name} lacks role {role}");
            }
            let palette = Palette::from_toml(text, name).expect("parses");
            assert_eq!(palette.selection.is_none(), *name == "default", "{name}");
        }
    }

    #[test]
    fn the_ansi16_theme_uses_only_base_colours() {
        let palette = ThemeSet::built_in()
            .get("ansi16")
            .expect("built in")
            .palette;
        assert_eq!(palette.depth, ColorDepth::Ansi16);
        for (role, colour) in palette.colours() {
            assert!(is_ansi16(colour), "{role}: {colour:?}");
        }
        let theme = Theme::with_palette(palette);
        assert_eq!(
            theme.connection(Some(Color::Rgb(250, 10, 10))).fg,
            Some(Color::LightRed)
        );
        assert_eq!(
            theme.connection(Some(Color::Rgb(0, 0, 139))).fg,
            Some(Color::Blue)
        );
        assert_eq!(
            theme.connection(Some(Color::Magenta)).fg,
            Some(Color::Magenta)
        );
    }

    #[test]
    fn a_16_colour_theme_refuses_hex() {
        let text = "colors = \"16\"\nok = \"#00ff00\"\nwarning = \"yellow\"\n\
                    danger = \"red\"\naccent = \"cyan\"\nmuted = \"gray\"\n";
        let err = Palette::from_toml(text, "old.toml").expect_err("hex in 16 colours");
        assert!(err.to_string().contains("'ok'"), "{err}");
    }

    #[test]
    fn an_unknown_key_names_the_file_key_and_line() {
        let text = "ok = \"green\"\nwarning = \"yellow\"\ndanger = \"red\"\n\
                    accent = \"cyan\"\nmuted = \"gray\"\nborderz = \"red\"\n";
        let message = Palette::from_toml(text, "mine.toml")
            .expect_err("unknown key")
            .to_string();
        assert!(message.contains("mine.toml line 6"), "{message}");
        assert!(message.contains("borderz"), "{message}");
    }

    #[test]
    fn a_bad_colour_error_gives_the_line_and_the_allowed_colours() {
        let text = "ok = \"green\"\nwarning = \"yellow\"\ndanger = \"red\"\n\
                    accent = \"cyan\"\nmuted = \"gray\"\nfocus = \"#12345\"\n";
        let message = Palette::from_toml(text, "mine.toml")
            .expect_err("bad colour")
            .to_string();
        assert!(message.contains("mine.toml line 6"), "{message}");
        assert!(message.contains("key 'focus'"), "{message}");
        assert!(message.contains("#rrggbb"), "{message}");
    }

    #[test]
    fn optional_roles_fall_back_to_the_base_ones() {
        let text = "ok = \"green\"\nwarning = \"yellow\"\ndanger = \"red\"\n\
                    accent = \"cyan\"\nmuted = \"7\"\n";
        let palette = Palette::from_toml(text, "mini.toml").expect("parses");
        assert_eq!(palette.border, Color::Indexed(7));
        assert_eq!(palette.focus, Color::Cyan);
        assert_eq!(palette.selection, None);
        let theme = Theme::with_palette(palette);
        assert!(theme.selected().add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn user_themes_override_and_add_and_bad_ones_are_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = "warning = \"yellow\"\ndanger = \"red\"\naccent = \"cyan\"\nmuted = \"gray\"\n";
        std::fs::write(
            dir.path().join("dark.toml"),
            format!("ok = \"blue\"\n{base}"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            format!("ok = \"white\"\n{base}"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("broken.toml"),
            format!("ok = \"grean\"\n{base}"),
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a theme").unwrap();
        let (set, errors) = ThemeSet::load(Some(dir.path()));
        assert_eq!(set.get("dark").unwrap().palette.ok, Color::Blue);
        assert!(set.get("dark").unwrap().user);
        assert_eq!(set.get("mine").unwrap().palette.ok, Color::White);
        assert!(set.get("broken").is_none());
        assert_eq!(set.position("dark"), Some(1), "an override keeps its place");
        assert_eq!(errors.len(), 1);
        let message = errors[0].to_string();
        assert!(message.contains("broken.toml"), "{message}");
        assert!(message.contains("key 'ok'"), "{message}");
        assert!(
            set.unknown("nope")
                .contains("default, dark, light, high-contrast, ansi16, mine")
        );
    }

    #[test]
    fn no_color_drops_every_colour_of_every_theme() {
        let theme = Theme::no_color();
        for style in [
            theme.border(true),
            theme.border(false),
            theme.title(),
            theme.key(),
            theme.gauge(),
            theme.gauge_empty(),
            theme.selected(),
            theme.connection(Some(Color::Red)),
        ] {
            assert_eq!((style.fg, style.bg), (None, None));
        }
    }
}
