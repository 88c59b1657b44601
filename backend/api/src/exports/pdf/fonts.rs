//! The export's fonts: DejaVu Sans (Latin, Greek, Cyrillic, Arabic, Hebrew, symbols), then Droid
//! Sans Fallback for what it lacks (Chinese, Japanese, Korean); see `assets/fonts/README.md`.
//! A document draws each character with the first font that has it, and embeds each font subset
//! to the glyphs it drew, as a CID font with a ToUnicode map so that its text can be searched,
//! copied and extracted.
//!
//! Glyph numbers are assigned in order of first use while pages are written, so the subset can be
//! made at the end without looking at the pages again.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use super::writer::{name, ObjId, Writer};

struct FontFile {
    /// PostScript name.
    name: &'static str,
    data: &'static [u8],
}

const FILES: [FontFile; 2] = [
    FontFile { name: "DejaVuSans", data: include_bytes!("../../../assets/fonts/DejaVuSans.ttf") },
    FontFile {
        name: "DroidSansFallback",
        data: include_bytes!("../../../assets/fonts/DroidSansFallback.ttf"),
    },
];

struct Loaded {
    file: &'static FontFile,
    face: Face<'static>,
    /// Font units to thousandths of an em.
    scale: f32,
}

fn loaded() -> Result<&'static [Loaded], String> {
    static FACES: OnceLock<Result<Vec<Loaded>, String>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            FILES
                .iter()
                .map(|file| {
                    let face = Face::parse(file.data, 0).map_err(|e| format!("font {}: {e}", file.name))?;
                    let scale = 1000.0 / f32::from(face.units_per_em());
                    Ok(Loaded { file, face, scale })
                })
                .collect()
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// How a character is drawn: which font, which glyph of it, how wide (thousandths of an em).
#[derive(Debug, Clone, Copy)]
struct Glyph {
    font: usize,
    gid: u16,
    advance: f32,
}

/// What a document drew with one font.
struct Used {
    remapper: GlyphRemapper,
    /// The character each new glyph number stands for (for ToUnicode), by new number.
    chars: Vec<char>,
    /// Advance of each new glyph number, thousandths of an em.
    widths: Vec<u16>,
}

/// A document's fonts: what each character is drawn with, and what was drawn.
pub struct Fonts {
    faces: &'static [Loaded],
    cache: HashMap<char, Glyph>,
    used: Vec<Used>,
    /// The objects pages name the fonts by (`/F0`, `/F1`), reserved at the start.
    ids: Vec<ObjId>,
}

/// What a character is replaced by: control characters by a space, invisible format characters
/// (bidi overrides, zero-width joiners…) by nothing.
fn printable(c: char) -> Option<char> {
    match c {
        '\t' | '\n' | '\r' => Some(' '),
        c if c.is_control() => Some(' '),
        '\u{00AD}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{FEFF}' => None,
        c => Some(c),
    }
}

impl Fonts {
    pub fn new(writer: &mut Writer<'_>) -> Result<Self, String> {
        let faces = loaded()?;
        let used = faces
            .iter()
            .map(|_| Used { remapper: GlyphRemapper::new(), chars: vec!['\u{FFFD}'], widths: vec![0] })
            .collect();
        let ids = faces.iter().map(|_| writer.reserve()).collect();
        let mut fonts = Fonts { faces, cache: HashMap::new(), used, ids };
        // .notdef is glyph 0 of every subset; its width is the first font's.
        for font in 0..fonts.faces.len() {
            let advance = fonts.faces[font].face.glyph_hor_advance(GlyphId(0)).unwrap_or(0);
            fonts.used[font].widths[0] = (f32::from(advance) * fonts.faces[font].scale).round() as u16;
        }
        Ok(fonts)
    }

    /// `/F0 12 0 R /F1 13 0 R`: the fonts for a resource dictionary.
    pub fn resource_entries(&self) -> String {
        self.ids.iter().enumerate().map(|(i, id)| format!("/F{i} {id} ")).collect()
    }

    fn glyph(&mut self, c: char) -> Glyph {
        if let Some(glyph) = self.cache.get(&c) {
            return *glyph;
        }
        let glyph = self
            .faces
            .iter()
            .enumerate()
            .find_map(|(font, loaded)| {
                let gid = loaded.face.glyph_index(c)?;
                let advance = f32::from(loaded.face.glyph_hor_advance(gid).unwrap_or(0)) * loaded.scale;
                Some(Glyph { font, gid: gid.0, advance })
            })
            .unwrap_or_else(|| {
                let advance = f32::from(self.faces[0].face.glyph_hor_advance(GlyphId(0)).unwrap_or(0));
                Glyph { font: 0, gid: 0, advance: advance * self.faces[0].scale }
            });
        self.cache.insert(c, glyph);
        glyph
    }

    /// Width of `c` at `size` points, in points (`None`: the character is not drawn).
    pub fn char_width(&mut self, c: char, size: f32) -> Option<f32> {
        let c = printable(c)?;
        Some(self.glyph(c).advance * size / 1000.0)
    }

    /// Width of `text` at `size` points, in points.
    pub fn width(&mut self, text: &str, size: f32) -> f32 {
        text.chars().filter_map(|c| self.char_width(c, size)).sum()
    }

    /// Appends the operators that show `text` at `size` points from the current text position
    /// (inside `BT … ET`), switching font where the script needs it.
    pub fn show(&mut self, out: &mut Vec<u8>, text: &str, size: f32) {
        let mut current: Option<usize> = None;
        for c in text.chars().filter_map(printable) {
            let glyph = self.glyph(c);
            if current != Some(glyph.font) {
                if current.is_some() {
                    out.extend_from_slice(b"> Tj ");
                }
                let _ = write!(Vec8(out), "/F{} {size} Tf <", glyph.font);
                current = Some(glyph.font);
            }
            let used = &mut self.used[glyph.font];
            let before = used.remapper.num_gids();
            let new = used.remapper.remap(glyph.gid);
            if used.remapper.num_gids() != before {
                used.chars.push(c);
                used.widths.push(glyph.advance.round() as u16);
            }
            let _ = write!(Vec8(out), "{new:04X}");
        }
        if current.is_some() {
            out.extend_from_slice(b"> Tj ");
        }
    }

    /// Writes every font: the subset of what was drawn, its widths, and its ToUnicode map. Call
    /// once nothing more is drawn.
    pub fn embed(self, writer: &mut Writer<'_>) -> Result<(), String> {
        for ((loaded, used), type0) in self.faces.iter().zip(self.used).zip(self.ids) {
            let subset = subsetter::subset(loaded.file.data, 0, &used.remapper)
                .map_err(|e| format!("font {}: {e}", loaded.file.name))?;
            // The subset's tag: six capitals that differ when the glyphs do.
            let mut hash: u32 = 2166136261;
            for gid in used.remapper.remapped_gids() {
                hash = (hash ^ u32::from(gid)).wrapping_mul(16777619);
            }
            let tag: String = (0..6).map(|i| char::from(b'A' + ((hash >> (i * 5)) % 26) as u8)).collect();
            let base = name(&format!("{tag}+{}", loaded.file.name));
            let face = &loaded.face;
            let s = |v: i16| (f32::from(v) * loaded.scale).round() as i32;
            let bbox = face.global_bounding_box();

            let (file, descriptor, cid, to_unicode) =
                (writer.reserve(), writer.reserve(), writer.reserve(), writer.reserve());
            writer.stream(file, &format!("/Length1 {}", subset.len()), &subset);
            writer.object(
                descriptor,
                &format!(
                    "<< /Type /FontDescriptor /FontName {base} /Flags 4 /FontBBox [{} {} {} {}] /ItalicAngle 0 \
                     /Ascent {} /Descent {} /CapHeight {} /StemV 80 /FontFile2 {file} >>",
                    s(bbox.x_min),
                    s(bbox.y_min),
                    s(bbox.x_max),
                    s(bbox.y_max),
                    s(face.ascender()),
                    s(face.descender()),
                    s(face.capital_height().unwrap_or(face.ascender())),
                ),
            );
            let widths: Vec<String> = used.widths.iter().map(u16::to_string).collect();
            writer.object(
                cid,
                &format!(
                    "<< /Type /Font /Subtype /CIDFontType2 /BaseFont {base} \
                     /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
                     /FontDescriptor {descriptor} /CIDToGIDMap /Identity /W [0 [{}]] >>",
                    widths.join(" ")
                ),
            );
            writer.stream(to_unicode, "", to_unicode_cmap(&used.chars).as_bytes());
            writer.object(
                type0,
                &format!(
                    "<< /Type /Font /Subtype /Type0 /BaseFont {base} /Encoding /Identity-H \
                     /DescendantFonts [{cid}] /ToUnicode {to_unicode} >>"
                ),
            );
        }
        Ok(())
    }
}

/// `write!` into a byte vector.
struct Vec8<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Vec8<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// The CMap from glyph numbers (two bytes) to the characters they show.
fn to_unicode_cmap(chars: &[char]) -> String {
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(usize, char)> = chars.iter().copied().enumerate().skip(1).collect();
    for block in entries.chunks(100) {
        let _ = writeln!(out, "{} beginbfchar", block.len());
        for (gid, c) in block {
            let mut units = [0u16; 2];
            let hex: String = c.encode_utf16(&mut units).iter().map(|u| format!("{u:04X}")).collect();
            let _ = writeln!(out, "<{gid:04X}> <{hex}>");
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_the_tests_use_has_a_glyph() {
        let mut emit = |_: bytes::Bytes| true;
        let mut writer = Writer::new(&mut emit);
        let mut fonts = Fonts::new(&mut writer).unwrap();
        for (text, font) in
            [("Łukasz Zoë €", 0), ("Ελένη Соболев", 0), ("سلام", 0), ("张伟 東京 すし 한국", 1)]
        {
            for c in text.chars().filter(|c| *c != ' ') {
                let glyph = fonts.glyph(c);
                assert_ne!(glyph.gid, 0, "{c:?} has a glyph");
                assert_eq!(glyph.font, font, "{c:?} is drawn with font {font}");
            }
        }
    }

    #[test]
    fn glyphs_are_numbered_in_order_of_use_and_mapped_back_to_text() {
        let mut emit = |_: bytes::Bytes| true;
        let mut writer = Writer::new(&mut emit);
        let mut fonts = Fonts::new(&mut writer).unwrap();
        let mut out = Vec::new();
        fonts.show(&mut out, "abA张a", 8.0);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "/F0 8 Tf <000100020003> Tj /F1 8 Tf <0001> Tj /F0 8 Tf <0001> Tj "
        );
        assert_eq!(fonts.used[0].chars, ['\u{FFFD}', 'a', 'b', 'A']);
        let cmap = to_unicode_cmap(&fonts.used[1].chars);
        assert!(cmap.contains("<0001> <5F20>"), "{cmap}");
        // Characters outside the BMP take two UTF-16 units.
        assert!(to_unicode_cmap(&['\u{FFFD}', '😀']).contains("<0001> <D83DDE00>"));
    }

    #[test]
    fn invisible_characters_take_no_room_and_controls_are_spaces() {
        let mut emit = |_: bytes::Bytes| true;
        let mut writer = Writer::new(&mut emit);
        let mut fonts = Fonts::new(&mut writer).unwrap();
        assert_eq!(fonts.width("a\u{202E}b", 10.0), fonts.width("ab", 10.0));
        assert_eq!(fonts.width("a\u{7}b", 10.0), fonts.width("a b", 10.0));
    }
}
