//! A tenant's own font: one family of up to eight WOFF2 faces, uploaded
//! once, stored by the SHA-256 of its bytes and served from our origin.
//!
//! A theme names the family and, per face, its weight, style and file
//! digest; the bytes live beside the revisions (a token change does not
//! copy them) and never change under a digest, so they are cached for a
//! year. The built-in `font_family` stays as the fallback stack.
//!
//! `@font-face` rules in a shadow root's stylesheets are ignored by
//! Chromium and WebKit, so the rules are served on their own
//! (`fonts.css`) for the loader to link from the page's document; the
//! family's name there carries the first file's digest, so it cannot merge
//! with a family of the same name the shop's page declares.
//!
//! What it is not: a font sanitiser. Uploads are checked to be WOFF2 (the
//! header's signature, flavour, length and reserved fields); the browser's
//! own sanitiser (OTS in Chromium and Firefox) checks the tables.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::ValidationError;

/// The largest font file accepted, in bytes.
pub const MAX_FONT_BYTES: usize = 512 * 1024;

/// The most faces one family may have.
pub const MAX_FACES: usize = 8;

/// The most characters in a family's name.
const MAX_FAMILY_CHARS: usize = 48;

/// A family of the tenant's own font files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomFont {
    /// The family's name, as the font's makers call it (`Inter`): 1 to 48
    /// letters, digits, spaces and hyphens.
    pub family: String,
    /// Its faces, 1 to 8, each a different weight or style.
    pub faces: Vec<FontFace>,
}

/// One face of a [`CustomFont`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FontFace {
    /// 100 to 900, in hundreds (400 regular, 700 bold).
    pub weight: u16,
    /// Upright or italic.
    #[serde(default)]
    pub style: FontStyle,
    /// The WOFF2 file's SHA-256 in lowercase hex, as its upload answered.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub file: String,
}

/// A face's style.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FontStyle {
    /// Upright.
    #[default]
    Normal,
    /// Italic.
    Italic,
}

impl FontStyle {
    /// Its name in CSS and JSON: `normal` or `italic`.
    pub fn name(self) -> &'static str {
        match self {
            FontStyle::Normal => "normal",
            FontStyle::Italic => "italic",
        }
    }
}

impl CustomFont {
    /// Checks the name, the faces and the digests' form (not that the
    /// files exist: that is the store's, which holds them).
    pub fn validate(&self) -> Result<(), ValidationError> {
        let family = self.family.as_str();
        let valid_name = !family.is_empty()
            && family.chars().count() <= MAX_FAMILY_CHARS
            && family
                .chars()
                .all(|c| c.is_alphanumeric() || c == ' ' || c == '-')
            && !family.starts_with(' ')
            && !family.ends_with(' ');
        if !valid_name {
            return Err(ValidationError::new(
                "font.family",
                "1 to 48 letters, digits, spaces and hyphens, not starting or ending with a space",
            ));
        }
        if self.faces.is_empty() || self.faces.len() > MAX_FACES {
            return Err(ValidationError::new("font.faces", "1 to 8 faces"));
        }
        for (index, face) in self.faces.iter().enumerate() {
            let field = |name: &str| format!("font.faces[{index}].{name}");
            if !(100..=900).contains(&face.weight) || face.weight % 100 != 0 {
                return Err(ValidationError::new(
                    field("weight"),
                    "100 to 900, in hundreds (400 regular, 700 bold)",
                ));
            }
            if !is_digest(&face.file) {
                return Err(ValidationError::new(
                    field("file"),
                    "the SHA-256 of an uploaded WOFF2 file, 64 lowercase hex digits",
                ));
            }
            let twin = self.faces[..index]
                .iter()
                .any(|other| other.weight == face.weight && other.style == face.style);
            if twin {
                return Err(ValidationError::new(
                    field("weight"),
                    "another face has this weight and style",
                ));
            }
        }
        Ok(())
    }

    /// The name the CSS uses: the family and the first file's digest's
    /// first eight digits (`Inter 3f2a9c01`).
    pub fn css_name(&self) -> String {
        let tag = self
            .faces
            .first()
            .and_then(|face| face.file.get(..8))
            .unwrap_or_default();
        format!("{} {tag}", self.family)
    }

    /// The `@font-face` rules, each face at the address `url` gives its
    /// digest.
    pub fn to_font_face_css(&self, url: impl Fn(&str) -> String) -> String {
        let name = self.css_name();
        let mut css = String::from("/* Tessera fonts: generated, do not edit */\n");
        for face in &self.faces {
            let _ = writeln!(
                css,
                "@font-face {{\n  font-family: \"{name}\";\n  src: url(\"{}\") format(\"woff2\");\n  \
                 font-weight: {};\n  font-style: {};\n  font-display: swap;\n}}",
                url(&face.file),
                face.weight,
                face.style.name(),
            );
        }
        css
    }

    /// Whether `file` is one of this family's.
    pub fn has_file(&self, file: &str) -> bool {
        self.faces.iter().any(|face| face.file == file)
    }
}

/// Whether `value` has the form of a SHA-256 digest in lowercase hex.
pub fn is_digest(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The SHA-256 of `bytes` in lowercase hex: a font file's name.
pub fn digest(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// Checks that `bytes` are one WOFF2 font of at most 512 KiB: its 48-byte
/// header's signature, a TrueType or CFF flavour (no collections), the
/// length field equal to the file's, at least one table and zero where the
/// format says zero.
pub fn check_woff2(bytes: &[u8]) -> Result<(), ValidationError> {
    let refuse = |why: &str| ValidationError::new("font", format!("not a WOFF2 font: {why}"));
    if bytes.len() > MAX_FONT_BYTES {
        return Err(ValidationError::new(
            "font",
            "the font file is larger than 512 KiB: subset it to the scripts your shop uses",
        ));
    }
    let u32_at = |at: usize| -> Option<u32> {
        let field = bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_be_bytes(field.try_into().ok()?))
    };
    let u16_at = |at: usize| -> Option<u16> {
        let field = bytes.get(at..at.checked_add(2)?)?;
        Some(u16::from_be_bytes(field.try_into().ok()?))
    };
    let header = (|| {
        Some((
            u32_at(0)?,
            u32_at(4)?,
            u32_at(8)?,
            u16_at(12)?,
            u16_at(14)?,
            u32_at(20)?,
        ))
    })();
    let Some((signature, flavor, length, tables, reserved, compressed)) =
        header.filter(|_| bytes.len() >= 48)
    else {
        return Err(refuse("shorter than its 48-byte header"));
    };
    if signature != u32::from_be_bytes(*b"wOF2") {
        return Err(refuse(if signature == u32::from_be_bytes(*b"wOFF") {
            "this is WOFF 1.0; convert it to WOFF2"
        } else {
            "the signature is not `wOF2`"
        }));
    }
    if ![
        0x0001_0000,
        u32::from_be_bytes(*b"OTTO"),
        u32::from_be_bytes(*b"true"),
    ]
    .contains(&flavor)
    {
        return Err(refuse(
            "its flavour is neither TrueType nor CFF (font collections are not accepted)",
        ));
    }
    if usize::try_from(length).ok() != Some(bytes.len()) {
        return Err(refuse("its length field does not match the file's size"));
    }
    if tables == 0 || reserved != 0 {
        return Err(refuse("its table count or reserved field is wrong"));
    }
    if compressed == 0 || usize::try_from(compressed).map_or(true, |size| size > bytes.len()) {
        return Err(refuse("its compressed size does not fit the file"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header that passes, for a file of 64 bytes.
    fn woff2() -> Vec<u8> {
        let mut bytes = vec![0u8; 64];
        bytes[..4].copy_from_slice(b"wOF2");
        bytes[4..8].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        bytes[8..12].copy_from_slice(&64u32.to_be_bytes());
        bytes[12..14].copy_from_slice(&3u16.to_be_bytes());
        bytes[20..24].copy_from_slice(&16u32.to_be_bytes());
        bytes
    }

    fn family() -> CustomFont {
        CustomFont {
            family: "Source Code Pro".into(),
            faces: vec![FontFace {
                weight: 500,
                style: FontStyle::Normal,
                file: digest(b"font"),
            }],
        }
    }

    #[test]
    fn woff2_headers_are_checked() {
        assert!(check_woff2(&woff2()).is_ok());
        let mut woff1 = woff2();
        woff1[..4].copy_from_slice(b"wOFF");
        assert!(
            check_woff2(&woff1)
                .unwrap_err()
                .message
                .contains("WOFF 1.0")
        );
        let mut collection = woff2();
        collection[4..8].copy_from_slice(b"ttcf");
        assert!(
            check_woff2(&collection)
                .unwrap_err()
                .message
                .contains("collections")
        );
        let mut truncated = woff2();
        truncated.pop();
        assert!(
            check_woff2(&truncated)
                .unwrap_err()
                .message
                .contains("length")
        );
        let mut reserved = woff2();
        reserved[15] = 1;
        assert!(check_woff2(&reserved).is_err());
        assert!(
            check_woff2(b"wOF2")
                .unwrap_err()
                .message
                .contains("48-byte")
        );
        assert!(check_woff2(&[]).is_err());
        let mut huge = woff2();
        huge.resize(MAX_FONT_BYTES + 1, 0);
        assert!(check_woff2(&huge).unwrap_err().message.contains("512 KiB"));
    }

    #[test]
    fn families_are_validated() {
        assert!(family().validate().is_ok());
        for name in ["", " Inter", "Inter ", "In\"ter", "a;b", &"x".repeat(49)] {
            let font = CustomFont {
                family: name.into(),
                ..family()
            };
            assert_eq!(
                font.validate().unwrap_err().field.as_deref(),
                Some("font.family"),
                "{name:?}"
            );
        }
        let mut twins = family();
        twins.faces.push(twins.faces[0].clone());
        assert_eq!(
            twins.validate().unwrap_err().field.as_deref(),
            Some("font.faces[1].weight")
        );
        let mut italic = twins.clone();
        italic.faces[1].style = FontStyle::Italic;
        assert!(italic.validate().is_ok());
        let mut light = family();
        light.faces[0].weight = 450;
        assert!(light.validate().is_err());
        let mut upper = family();
        upper.faces[0].file = upper.faces[0].file.to_uppercase();
        assert_eq!(
            upper.validate().unwrap_err().field.as_deref(),
            Some("font.faces[0].file")
        );
        let mut none = family();
        none.faces.clear();
        assert!(none.validate().is_err());
    }

    #[test]
    fn rules_name_the_family_apart_from_the_page() {
        let font = family();
        let css = font.to_font_face_css(|file| format!("https://t.example/fonts/{file}"));
        let name = font.css_name();
        assert!(name.starts_with("Source Code Pro ") && name.len() == "Source Code Pro ".len() + 8);
        assert!(css.contains(&format!("font-family: \"{name}\";")));
        assert!(css.contains(&format!(
            "src: url(\"https://t.example/fonts/{}\") format(\"woff2\");",
            font.faces[0].file
        )));
        assert!(css.contains("font-weight: 500;") && css.contains("font-display: swap;"));
    }

    #[test]
    fn digests_are_sha256_hex() {
        assert_eq!(
            digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_digest(&digest(b"")));
        assert!(!is_digest("../etc/passwd"));
    }
}
