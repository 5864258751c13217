//! Themes: typed design tokens, their validation, and the CSS they render to.
//!
//! Every token has a type (`Color` is `#rgb`/`#rrggbb` only, `Radius` a number
//! with `px` or `rem`, fonts and densities are closed sets), so a theme cannot
//! carry CSS syntax of its own: `;`, `}`, `url(`, `expression(`, `</style>`
//! and friends are rejected with the field they were found in. Text and
//! button colours must also keep WCAG AA contrast (4.5:1). The CSS renders
//! custom properties on the widget's shadow root (`:host`), with light and
//! dark variants and `auto` following `prefers-color-scheme`. Built-in
//! presets live in `themes/*.toml` and are embedded in the binary.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::ValidationError;

mod fonts;

pub use fonts::{
    CustomFont, FontFace, FontStyle, MAX_FONT_BYTES, check_woff2, digest as font_digest, is_digest,
};

/// A colour as `#rgb` or `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color([u8; 3]);

/// Both newtypes are strings in the OpenAPI document.
macro_rules! string_schema {
    ($type:ty, $example:literal, $pattern:literal, $description:literal) => {
        impl utoipa::PartialSchema for $type {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($description))
                    .pattern(Some($pattern))
                    .examples([serde_json::json!($example)])
                    .into()
            }
        }
        impl ToSchema for $type {}
    };
}

string_schema!(
    Color,
    "#1d4ed8",
    "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$",
    "A colour written #rgb or #rrggbb."
);
string_schema!(
    Radius,
    "8px",
    "^[0-9.]+(px|rem)$",
    "A radius of 0 to 48px or 0 to 3rem."
);

impl Color {
    fn parse(text: &str) -> Option<Color> {
        let hex = text.strip_prefix('#')?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let digit = |i: usize| u8::from_str_radix(&hex[i..i + 1], 16).ok();
        match hex.len() {
            3 => Some(Color([digit(0)? * 17, digit(1)? * 17, digit(2)? * 17])),
            6 => {
                let pair = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
                Some(Color([pair(0)?, pair(2)?, pair(4)?]))
            }
            _ => None,
        }
    }

    fn relative_luminance(self) -> f64 {
        let channel = |value: u8| {
            let c = f64::from(value) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(self.0[0]) + 0.7152 * channel(self.0[1]) + 0.0722 * channel(self.0[2])
    }

    /// The WCAG 2 contrast ratio between two colours.
    pub fn contrast(self, other: Color) -> f64 {
        let (a, b) = (self.relative_luminance(), other.relative_luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// Reads `#rgb` or `#rrggbb`.
    pub fn from_hex(text: &str) -> Option<Color> {
        Color::parse(text)
    }

    /// The same hue and saturation with the lightness turned over (HSL
    /// lightness `l` becomes `1 - l`): light grey becomes dark grey.
    fn with_lightness_turned(self) -> Color {
        let [r, g, b] = self.0.map(|channel| f64::from(channel) / 255.0);
        let (max, min) = (r.max(g).max(b), r.min(g).min(b));
        let lightness = (max + min) / 2.0;
        let chroma = max - min;
        let hue = if chroma == 0.0 {
            0.0
        } else if max == r {
            ((g - b) / chroma).rem_euclid(6.0)
        } else if max == g {
            (b - r) / chroma + 2.0
        } else {
            (r - g) / chroma + 4.0
        };
        let saturation = if chroma == 0.0 {
            0.0
        } else {
            chroma / (1.0 - (2.0 * lightness - 1.0).abs())
        };
        let lightness = 1.0 - lightness;
        let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
        let x = chroma * (1.0 - (hue.rem_euclid(2.0) - 1.0).abs());
        let (r, g, b) = match hue {
            h if h < 1.0 => (chroma, x, 0.0),
            h if h < 2.0 => (x, chroma, 0.0),
            h if h < 3.0 => (0.0, chroma, x),
            h if h < 4.0 => (0.0, x, chroma),
            h if h < 5.0 => (x, 0.0, chroma),
            _ => (chroma, 0.0, x),
        };
        let m = lightness - chroma / 2.0;
        // Within 0..=255 by construction; the cast saturates anyway.
        let channel = |value: f64| ((value + m) * 255.0).round().clamp(0.0, 255.0) as u8;
        Color([channel(r), channel(g), channel(b)])
    }

    /// This colour mixed with `other`: `share` 0 is this one, 1 `other`.
    fn mix(self, other: Color, share: f64) -> Color {
        let channel = |a: u8, b: u8| {
            let mixed = f64::from(a) + (f64::from(b) - f64::from(a)) * share;
            // Within 0..=255 by construction; the cast saturates anyway.
            mixed.round().clamp(0.0, 255.0) as u8
        };
        Color([
            channel(self.0[0], other.0[0]),
            channel(self.0[1], other.0[1]),
            channel(self.0[2], other.0[2]),
        ])
    }

    /// The colour closest to this one (the least mixed with black or with
    /// white, in steps of 1%) whose contrast against every one of
    /// `backgrounds` reaches `ratio`; `None` when no such mix exists.
    pub fn nearest_passing(self, backgrounds: &[Color], ratio: f64) -> Option<Color> {
        let passes = |color: Color| {
            backgrounds
                .iter()
                .all(|background| color.contrast(*background) >= ratio)
        };
        if passes(self) {
            return Some(self);
        }
        let candidates = [Color([0, 0, 0]), Color([255, 255, 255])].map(|end| {
            (1..=100)
                .map(|step| (step, self.mix(end, f64::from(step) / 100.0)))
                .find(|(_, mixed)| passes(*mixed))
        });
        candidates
            .into_iter()
            .flatten()
            .min_by_key(|(step, _)| *step)
            .map(|(_, color)| color)
    }
}

impl std::fmt::Display for Color {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0[0], self.0[1], self.0[2])
    }
}

impl Serialize for Color {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Color::parse(&text).ok_or_else(|| {
            serde::de::Error::custom("a colour must be written #rgb or #rrggbb (hex digits only)")
        })
    }
}

/// A corner radius: 0 to 48 `px`, or 0 to 3 `rem`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Radius {
    value: f32,
    rem: bool,
}

impl std::fmt::Display for Radius {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.value, if self.rem { "rem" } else { "px" })
    }
}

impl Serialize for Radius {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Radius {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let invalid = || serde::de::Error::custom("a radius is 0 to 48px or 0 to 3rem, e.g. 8px");
        let (number, rem) = if let Some(number) = text.strip_suffix("rem") {
            (number, true)
        } else {
            (text.strip_suffix("px").ok_or_else(invalid)?, false)
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(invalid());
        }
        let value: f32 = number.parse().map_err(|_| invalid())?;
        let limit = if rem { 3.0 } else { 48.0 };
        if !(0.0..=limit).contains(&value) {
            return Err(invalid());
        }
        Ok(Radius { value, rem })
    }
}

/// Font stacks built from fonts already on the device: no remote fonts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FontFamily {
    /// The platform's UI font.
    System,
    /// A humanist sans-serif.
    Humanist,
    /// A rounded sans-serif.
    Rounded,
    /// A transitional serif.
    Serif,
    /// A monospace font.
    Mono,
}

impl FontFamily {
    fn stack(self) -> &'static str {
        match self {
            FontFamily::System => {
                "system-ui, -apple-system, \"Segoe UI\", Roboto, \"Noto Sans\", \"Helvetica Neue\", Arial, sans-serif"
            }
            FontFamily::Humanist => {
                "Seravek, \"Gill Sans Nova\", Ubuntu, Calibri, \"DejaVu Sans\", source-sans-pro, sans-serif"
            }
            FontFamily::Rounded => {
                "ui-rounded, \"Hiragino Maru Gothic ProN\", Quicksand, Comfortaa, Manjari, \"Arial Rounded MT\", Calibri, source-sans-pro, sans-serif"
            }
            FontFamily::Serif => {
                "Charter, \"Bitstream Charter\", \"Sitka Text\", Cambria, Georgia, serif"
            }
            FontFamily::Mono => {
                "ui-monospace, \"Cascadia Code\", \"Source Code Pro\", Menlo, Consolas, \"DejaVu Sans Mono\", monospace"
            }
        }
    }
}

/// Spacing density.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Density {
    /// Tight spacing.
    Compact,
    /// The default.
    Comfortable,
    /// Generous spacing and larger targets.
    Spacious,
}

impl Density {
    fn unit(self) -> &'static str {
        match self {
            Density::Compact => "0.375rem",
            Density::Comfortable => "0.5rem",
            Density::Spacious => "0.75rem",
        }
    }
}

/// Which palette the widget shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ColorScheme {
    /// Always the light palette.
    Light,
    /// Always the dark palette.
    Dark,
    /// Follow `prefers-color-scheme`.
    Auto,
}

/// The colours of one palette.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Palette {
    /// Buttons and links.
    pub primary: Color,
    /// Text on `primary`.
    pub on_primary: Color,
    /// The widget's background.
    pub background: Color,
    /// Raised surfaces.
    pub surface: Color,
    /// Body text.
    pub text: Color,
    /// Secondary text.
    pub muted: Color,
    /// Borders and dividers.
    pub border: Color,
    /// Error text and borders.
    pub danger: Color,
    /// The keyboard focus ring.
    pub focus_ring: Color,
}

/// A logo: a sanitised SVG or a PNG, at most 32 KiB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Logo {
    /// SVG markup; only drawing elements and presentation attributes survive.
    Svg {
        /// The SVG document.
        markup: String,
    },
    /// A PNG image, base64-encoded.
    Png {
        /// The PNG bytes in standard base64.
        base64: String,
    },
}

/// A complete theme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// The preset this theme started from (informational).
    #[serde(default)]
    pub name: String,
    /// A name for admins.
    #[serde(default)]
    pub display_name: String,
    /// Which palette is shown.
    pub color_scheme: ColorScheme,
    /// Corner radius.
    pub radius: Radius,
    /// Font stack: with `font`, what shows until (and where) it has no
    /// glyph.
    pub font_family: FontFamily,
    /// The tenant's own font, uploaded as WOFF2 files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font: Option<CustomFont>,
    /// Multiplier of the base font size, 0.75 to 1.5.
    pub type_scale: f32,
    /// Spacing density.
    pub density: Density,
    /// The light palette.
    pub light: Palette,
    /// The dark palette.
    pub dark: Palette,
    /// An optional logo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Logo>,
    /// A logo for the dark palette (a light mark on dark); without one the
    /// dark palette shows `logo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_dark: Option<Logo>,
}

/// The largest logo accepted, in bytes.
pub const MAX_LOGO_BYTES: usize = 32 * 1024;

/// The built-in presets, embedded from `themes/`.
pub const PRESETS: [(&str, &str); 6] = [
    ("light", include_str!("../../themes/light.toml")),
    ("dark", include_str!("../../themes/dark.toml")),
    ("auto", include_str!("../../themes/auto.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("forest", include_str!("../../themes/forest.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// A built-in preset by name.
pub fn preset(name: &str) -> Option<Theme> {
    let (_, source) = PRESETS.iter().find(|(preset, _)| *preset == name)?;
    toml::from_str(source).ok()
}

/// Reads a theme from JSON, naming the offending field on failure.
pub fn theme_from_json(body: &[u8]) -> Result<Theme, ValidationError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let theme: Theme = serde_path_to_error(&mut deserializer)?;
    theme.validate()?;
    Ok(theme)
}

fn serde_path_to_error(
    deserializer: &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
) -> Result<Theme, ValidationError> {
    Theme::deserialize(deserializer)
        .map_err(|error| ValidationError::whole(format!("invalid theme: {error}")))
}

impl Theme {
    /// Checks ranges and contrast; types were checked while parsing.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(0.75..=1.5).contains(&self.type_scale) {
            return Err(ValidationError::new(
                "type_scale",
                "must be between 0.75 and 1.5",
            ));
        }
        // The pairs saving enforces; the others are the studio's warnings.
        if let Some(pair) = self
            .contrast_pairs()
            .into_iter()
            .find(|pair| pair.enforced && !pair.passes)
        {
            // One that passes on every background it is drawn on.
            let suggestion = pair
                .suggestion
                .map(|color| format!("; {color} would pass"))
                .unwrap_or_default();
            return Err(ValidationError::new(
                format!("{}.{}", pair.palette, pair.foreground),
                format!(
                    "contrast {:.2}:1 is below WCAG AA ({}:1) against its background{suggestion}",
                    pair.ratio, pair.needed
                ),
            ));
        }
        validate_logo("logo", self.logo.as_ref())?;
        validate_logo("logo_dark", self.logo_dark.as_ref())?;
        if let Some(font) = &self.font {
            font.validate()?;
        }
        Ok(())
    }

    /// Renders the theme as CSS custom properties for the widget's shadow root.
    /// `logos` are the addresses of the logo and of the dark palette's own
    /// logo, when the theme has them.
    pub fn to_css(&self, logos: Logos<'_>) -> String {
        let logo_url = logos.light;
        // The dark palette's logo: its own, else the one logo.
        let dark_logo = logos.dark.or(logos.light);
        let dark_logo_line = dark_logo
            .map(|url| format!("  --tessera-logo: url(\"{url}\");\n"))
            .unwrap_or_default();
        let mut css = String::from("/* Tessera theme: generated, do not edit */\n:host {\n");
        self.shape_properties(&mut css);
        if let Some(url) = logo_url {
            let _ = writeln!(css, "  --tessera-logo: url(\"{url}\");");
        }
        let default = match self.color_scheme {
            ColorScheme::Dark => &self.dark,
            ColorScheme::Light | ColorScheme::Auto => &self.light,
        };
        let scheme = match self.color_scheme {
            ColorScheme::Light => "light",
            ColorScheme::Dark => "dark",
            ColorScheme::Auto => "light dark",
        };
        let _ = writeln!(css, "  color-scheme: {scheme};");
        palette_properties(&mut css, default);
        if self.color_scheme == ColorScheme::Dark {
            css.push_str(&dark_logo_line);
        }
        css.push_str("}\n");
        if self.color_scheme == ColorScheme::Auto {
            css.push_str(
                "@media (prefers-color-scheme: dark) {\n  :host(:not([theme=\"light\"])) {\n",
            );
            palette_properties(&mut css, &self.dark);
            css.push_str(&dark_logo_line);
            css.push_str("  }\n}\n");
        }
        // The element's own `theme` attribute wins over the tenant's default.
        css.push_str(":host([theme=\"light\"]) {\n  color-scheme: light;\n");
        palette_properties(&mut css, &self.light);
        if let Some(url) = logo_url {
            let _ = writeln!(css, "  --tessera-logo: url(\"{url}\");");
        }
        css.push_str("}\n:host([theme=\"dark\"]) {\n  color-scheme: dark;\n");
        palette_properties(&mut css, &self.dark);
        css.push_str(&dark_logo_line);
        css.push_str("}\n");
        css
    }
}

/// Where a theme's logos are served, for [`Theme::to_css`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Logos<'a> {
    /// The logo's address, when the theme has one.
    pub light: Option<&'a str>,
    /// The dark palette's own logo's address, when the theme has one.
    pub dark: Option<&'a str>,
}

/// One pair of colours the widget draws on top of each other, judged as
/// WCAG 2.1 does: 4.5:1 for text, 3:1 for borders, focus rings and
/// controls (1.4.3 and 1.4.11).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContrastPair {
    /// `light` or `dark`.
    pub palette: &'static str,
    /// The colour drawn on top (a `Palette` field name).
    pub foreground: &'static str,
    /// The colour under it.
    pub background: &'static str,
    /// The ratio, rounded to two decimals for display, e.g. 4.63.
    pub ratio: f64,
    /// Whether the exact ratio reaches `needed` (4.497 is shown as 4.50
    /// and fails).
    pub passes: bool,
    /// The ratio WCAG asks for.
    pub needed: f64,
    /// Whether saving refuses the theme when this pair fails (the others
    /// are shown as warnings).
    pub enforced: bool,
    /// The nearest colour for the foreground that passes on every
    /// background it is drawn on, when this pair fails.
    pub suggestion: Option<Color>,
}

/// The pairs the widget draws: (foreground, background, needed, enforced).
const PAIRS: [(&str, &str, f64, bool); 10] = [
    ("text", "background", 4.5, true),
    ("text", "surface", 4.5, true),
    ("muted", "background", 4.5, false),
    ("muted", "surface", 4.5, false),
    ("on_primary", "primary", 4.5, true),
    ("danger", "background", 4.5, true),
    ("primary", "background", 3.0, false),
    ("border", "background", 3.0, false),
    ("focus_ring", "background", 3.0, false),
    ("focus_ring", "surface", 3.0, false),
];

impl Palette {
    /// The colours' field names, in the order the studio shows them.
    pub const NAMES: [&'static str; 9] = [
        "primary",
        "on_primary",
        "background",
        "surface",
        "text",
        "muted",
        "border",
        "danger",
        "focus_ring",
    ];

    /// A colour by its field name.
    pub fn get(&self, name: &str) -> Option<Color> {
        Some(match name {
            "primary" => self.primary,
            "on_primary" => self.on_primary,
            "background" => self.background,
            "surface" => self.surface,
            "text" => self.text,
            "muted" => self.muted,
            "border" => self.border,
            "danger" => self.danger,
            "focus_ring" => self.focus_ring,
            _ => return None,
        })
    }

    /// Every colour with its field name, in the order of [`Palette::NAMES`].
    pub fn colors(&self) -> [(&'static str, Color); 9] {
        Palette::NAMES.map(|name| (name, self.get(name).unwrap_or(Color([0, 0, 0]))))
    }

    /// A dark palette made from this light one: each colour's lightness
    /// turned over (hue and saturation kept), then every pair the widget
    /// draws brought to its ratio with the nearest passing colour.
    pub fn derive_dark(&self) -> Palette {
        let turned = |color: Color| color.with_lightness_turned();
        let mut dark = Palette {
            primary: turned(self.primary),
            on_primary: turned(self.on_primary),
            background: turned(self.background),
            surface: turned(self.surface),
            text: turned(self.text),
            muted: turned(self.muted),
            border: turned(self.border),
            danger: turned(self.danger),
            focus_ring: turned(self.focus_ring),
        };
        for (foreground, _, needed, _) in PAIRS {
            let backgrounds: Vec<Color> = PAIRS
                .iter()
                .filter(|(other, _, _, _)| *other == foreground)
                .filter_map(|(_, background, _, _)| dark.get(background))
                .collect();
            if let Some(color) = dark.get(foreground)
                && let Some(passing) = color.nearest_passing(&backgrounds, needed)
            {
                dark.set(foreground, passing);
            }
        }
        dark
    }

    fn set(&mut self, name: &str, color: Color) {
        match name {
            "primary" => self.primary = color,
            "on_primary" => self.on_primary = color,
            "background" => self.background = color,
            "surface" => self.surface = color,
            "text" => self.text = color,
            "muted" => self.muted = color,
            "border" => self.border = color,
            "danger" => self.danger = color,
            "focus_ring" => self.focus_ring = color,
            _ => {}
        }
    }
}

impl Theme {
    /// The properties that do not depend on the palette.
    fn shape_properties(&self, css: &mut String) {
        let _ = writeln!(css, "  --tessera-radius: {};", self.radius);
        match &self.font {
            Some(font) => {
                let _ = writeln!(
                    css,
                    "  --tessera-font-family: \"{}\", {};",
                    font.css_name(),
                    self.font_family.stack()
                );
            }
            None => {
                let _ = writeln!(
                    css,
                    "  --tessera-font-family: {};",
                    self.font_family.stack()
                );
            }
        }
        let _ = writeln!(css, "  --tessera-font-size: {}rem;", self.type_scale);
        let _ = writeln!(css, "  --tessera-space: {};", self.density.unit());
    }

    /// Every pair the widget draws, in both palettes, with its ratio.
    pub fn contrast_pairs(&self) -> Vec<ContrastPair> {
        let mut pairs = Vec::new();
        for (name, palette) in [("light", &self.light), ("dark", &self.dark)] {
            for (foreground, background, needed, enforced) in PAIRS {
                let (Some(top), Some(under)) = (palette.get(foreground), palette.get(background))
                else {
                    continue;
                };
                let ratio = top.contrast(under);
                let suggestion = (ratio < needed)
                    .then(|| {
                        let backgrounds: Vec<Color> = PAIRS
                            .iter()
                            .filter(|(other, _, other_needed, _)| {
                                *other == foreground && *other_needed >= needed
                            })
                            .filter_map(|(_, background, _, _)| palette.get(background))
                            .collect();
                        top.nearest_passing(&backgrounds, needed)
                    })
                    .flatten();
                pairs.push(ContrastPair {
                    palette: name,
                    foreground,
                    background,
                    ratio: (ratio * 100.0).round() / 100.0,
                    passes: ratio >= needed,
                    needed,
                    enforced,
                    suggestion,
                });
            }
        }
        pairs
    }

    /// The theme as rules on `tessera-login` elements of the page that
    /// embeds them: they win over the widget's own `:host` rules, so the
    /// studio's previews show a draft on the published widget. Elements
    /// with `theme="light"` or `theme="dark"` get that palette.
    pub fn to_document_css(&self) -> String {
        let mut css = String::from("tessera-login {\n");
        self.shape_properties(&mut css);
        css.push_str("}\ntessera-login[theme=\"light\"] {\n  color-scheme: light;\n");
        palette_properties(&mut css, &self.light);
        css.push_str("}\ntessera-login[theme=\"dark\"] {\n  color-scheme: dark;\n");
        palette_properties(&mut css, &self.dark);
        css.push_str("}\n");
        css
    }
}

/// Checks one logo: at most 32 KiB, a sanitised SVG or a complete PNG;
/// `field` names it in the refusal.
fn validate_logo(field: &str, logo: Option<&Logo>) -> Result<(), ValidationError> {
    match logo {
        None => {}
        Some(Logo::Svg { markup }) => {
            if markup.len() > MAX_LOGO_BYTES {
                return Err(ValidationError::new(
                    field,
                    "the logo is larger than 32 KiB",
                ));
            }
            sanitize_svg(markup).map_err(|error| error.renamed("logo", field))?;
        }
        Some(Logo::Png { base64 }) => {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(base64)
                .map_err(|_| ValidationError::new(format!("{field}.base64"), "not valid base64"))?;
            if bytes.len() > MAX_LOGO_BYTES {
                return Err(ValidationError::new(
                    field,
                    "the logo is larger than 32 KiB",
                ));
            }
            // The signature, an IHDR chunk first and an IEND chunk last.
            let complete = bytes.len() >= 8 + 25 + 12
                && bytes.starts_with(b"\x89PNG\r\n\x1a\n")
                && &bytes[12..16] == b"IHDR"
                && bytes.ends_with(b"IEND\xae\x42\x60\x82");
            if !complete {
                return Err(ValidationError::new(
                    format!("{field}.base64"),
                    "not a complete PNG image",
                ));
            }
        }
    }
    Ok(())
}

fn palette_properties(css: &mut String, palette: &Palette) {
    for (name, color) in [
        ("primary", palette.primary),
        ("on-primary", palette.on_primary),
        ("background", palette.background),
        ("surface", palette.surface),
        ("text", palette.text),
        ("muted", palette.muted),
        ("border", palette.border),
        ("danger", palette.danger),
        ("focus-ring", palette.focus_ring),
    ] {
        let _ = writeln!(css, "  --tessera-{name}: {color};");
    }
}

/// SVG elements that only draw.
const SVG_ELEMENTS: [&str; 16] = [
    "svg",
    "g",
    "path",
    "circle",
    "ellipse",
    "rect",
    "line",
    "polyline",
    "polygon",
    "title",
    "desc",
    "defs",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
];

/// Presentation attributes; no `style`, no event handlers, no links.
const SVG_ATTRIBUTES: [&str; 33] = [
    "xmlns",
    "viewBox",
    "width",
    "height",
    "d",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "points",
    "fill",
    "fill-rule",
    "clip-rule",
    "stroke",
    "stroke-width",
    "stroke-linecap",
    "stroke-linejoin",
    "opacity",
    "fill-opacity",
    "stroke-opacity",
    "transform",
    "offset",
    "stop-color",
    "stop-opacity",
    "id",
    "gradientTransform",
];

/// Accepts an SVG only when every element and attribute is on the allow-list
/// and no attribute value could reach outside the document.
pub fn sanitize_svg(markup: &str) -> Result<(), ValidationError> {
    let document = roxmltree::Document::parse(markup)
        .map_err(|_| ValidationError::new("logo.markup", "the SVG is not well-formed XML"))?;
    if document.root_element().tag_name().name() != "svg" {
        return Err(ValidationError::new(
            "logo.markup",
            "the root element must be <svg>",
        ));
    }
    for node in document.descendants() {
        if node.is_element() {
            let name = node.tag_name().name();
            if !SVG_ELEMENTS.contains(&name) {
                return Err(ValidationError::new(
                    "logo.markup",
                    format!("the SVG element <{name}> is not allowed"),
                ));
            }
            for attribute in node.attributes() {
                let value = attribute.value().to_ascii_lowercase();
                if !SVG_ATTRIBUTES.contains(&attribute.name())
                    || value.contains("url(")
                    || value.contains("javascript:")
                    || value.contains("data:")
                {
                    return Err(ValidationError::new(
                        "logo.markup",
                        format!("the SVG attribute `{}` is not allowed", attribute.name()),
                    ));
                }
            }
        } else if node.is_pi() {
            return Err(ValidationError::new(
                "logo.markup",
                "processing instructions are not allowed in the SVG",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_dark_palette_is_dark_and_passes_every_pair() {
        for (name, _) in PRESETS {
            let theme = preset(name).unwrap();
            let dark = theme.light.derive_dark();
            assert!(
                dark.background.relative_luminance() < 0.2
                    || theme.light.background.relative_luminance() < 0.2,
                "{name}: {}",
                dark.background
            );
            let derived = Theme { dark, ..theme };
            for pair in derived.contrast_pairs() {
                if pair.palette == "dark" && !pair.passes {
                    // Only colours no mix can fix may fail (none in practice).
                    assert!(pair.suggestion.is_none(), "{name}: {pair:?}");
                }
            }
            derived
                .validate()
                .unwrap_or_else(|error| panic!("{name}: {error:?}"));
        }
        assert_eq!(
            Color([255, 255, 255]).with_lightness_turned(),
            Color([0, 0, 0])
        );
        assert_eq!(
            Color([29, 78, 216])
                .with_lightness_turned()
                .with_lightness_turned(),
            Color([29, 78, 216])
        );
    }

    #[test]
    fn the_nearest_passing_colour_is_the_least_changed() {
        let white = Color([255, 255, 255]);
        let grey = Color([0xee, 0xee, 0xee]);
        let passing = grey.nearest_passing(&[white], 4.5).unwrap();
        assert!(passing.contrast(white) >= 4.5);
        // One step less would not pass.
        let lighter = Color(passing.0.map(|channel| channel.saturating_add(3)));
        assert!(
            lighter.contrast(white) < 4.5,
            "{passing} is not the nearest"
        );
        assert_eq!(passing.nearest_passing(&[white], 4.5), Some(passing));
    }

    #[test]
    fn a_ratio_just_under_its_target_fails_though_it_rounds_up() {
        let white = Color([255, 255, 255]);
        let close = (0..=255u8)
            .flat_map(|r| (0..=255u8).map(move |g| Color([r, g, r])))
            .find(|color| (4.495..4.5).contains(&color.contrast(white)))
            .expect("a colour between 4.495:1 and 4.5:1 against white");
        let mut theme = preset("light").unwrap();
        theme.light.background = white;
        theme.light.surface = white;
        theme.light.text = close;
        let pair = theme
            .contrast_pairs()
            .into_iter()
            .find(|pair| pair.palette == "light" && pair.foreground == "text")
            .unwrap();
        assert_eq!(pair.ratio, 4.5, "shown rounded");
        assert!(!pair.passes, "judged exactly");
        assert_eq!(
            theme.validate().unwrap_err().field.as_deref(),
            Some("light.text")
        );
    }

    #[test]
    fn document_css_sets_both_palettes_on_the_element() {
        let css = preset("light").unwrap().to_document_css();
        assert!(css.starts_with("tessera-login {\n  --tessera-radius:"));
        assert!(css.contains(
            "tessera-login[theme=\"dark\"] {\n  color-scheme: dark;\n  --tessera-primary: #93c5fd;"
        ));
        assert!(!css.contains(":host"));
    }
}
