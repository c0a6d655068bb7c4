//! A small PDF page writer: A4 pages, text in an embedded TrueType face (subset to the glyphs
//! used, so a statement weighs kilobytes, not the font's 700 KB), lines and filled rectangles.
//!
//! Text is drawn glyph by glyph through the face's `cmap` (no shaping: the statements are
//! Cyrillic and Latin, where one char is one glyph). Glyph ids are remapped as text is drawn;
//! the subset is cut at [`PdfWriter::finish`] from the same remapper.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use std::collections::BTreeMap;
use subsetter::GlyphRemapper;

use crate::DocumentError;

/// A4 in PDF points.
pub const PAGE_WIDTH: f32 = 595.28;
pub const PAGE_HEIGHT: f32 = 841.89;

const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// An RGB colour, components in 0..=1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rgb(pub f32, pub f32, pub f32);

impl Rgb {
    pub const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);

    /// `#rrggbb` → colour; anything else → `None`.
    pub fn from_hex(hex: &str) -> Option<Rgb> {
        let hex = hex.strip_prefix('#')?;
        if hex.len() != 6 || !hex.is_ascii() {
            return None;
        }
        let c = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        Some(Rgb(
            f32::from(c(0)?) / 255.0,
            f32::from(c(2)?) / 255.0,
            f32::from(c(4)?) / 255.0,
        ))
    }
}

struct Face {
    data: &'static [u8],
    face: ttf_parser::Face<'static>,
    remapper: GlyphRemapper,
    /// New glyph id → the char it was drawn for (for the ToUnicode map, so text can be copied
    /// and searched in a viewer).
    chars: BTreeMap<u16, char>,
    /// New glyph id → advance width in 1/1000 em.
    widths: BTreeMap<u16, f32>,
}

impl Face {
    fn new(data: &'static [u8]) -> Result<Self, DocumentError> {
        let face =
            ttf_parser::Face::parse(data, 0).map_err(|e| DocumentError::Font(e.to_string()))?;
        Ok(Self {
            data,
            face,
            remapper: GlyphRemapper::new(),
            chars: BTreeMap::new(),
            widths: BTreeMap::new(),
        })
    }

    fn units(&self) -> f32 {
        f32::from(self.face.units_per_em())
    }

    fn glyph(&self, c: char) -> ttf_parser::GlyphId {
        self.face
            .glyph_index(c)
            .or_else(|| self.face.glyph_index('?'))
            .unwrap_or(ttf_parser::GlyphId(0))
    }

    /// Advance of `c` in 1/1000 em.
    fn advance(&self, c: char) -> f32 {
        let units = self.face.glyph_hor_advance(self.glyph(c)).unwrap_or(0);
        f32::from(units) * 1000.0 / self.units()
    }

    /// The text as 2-byte CIDs (Identity-H), remapping glyphs into the subset as it goes.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let old = self.glyph(c);
            let new = self.remapper.remap(old.0);
            self.chars.entry(new).or_insert(c);
            let advance = self.advance(c);
            self.widths.entry(new).or_insert(advance);
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }
}

/// Builds a document page by page; [`PdfWriter::finish`] gives the bytes.
pub struct PdfWriter {
    faces: [Face; 2],
    pages: Vec<Content>,
    /// The page drawing goes onto.
    current: usize,
    title: String,
}

impl PdfWriter {
    pub fn new(title: &str) -> Result<Self, DocumentError> {
        Ok(Self {
            faces: [Face::new(REGULAR)?, Face::new(BOLD)?],
            pages: Vec::new(),
            current: 0,
            title: title.to_owned(),
        })
    }

    fn face(&self, weight: Weight) -> &Face {
        &self.faces[weight as usize]
    }

    /// Starts a new page; later drawing goes onto it.
    pub fn add_page(&mut self) {
        self.pages.push(Content::new());
        self.current = self.pages.len() - 1;
    }

    /// Sends later drawing to page `index` (from 0), e.g. to write footers once the page count
    /// is known. An index past the end means the last page.
    pub fn on_page(&mut self, index: usize) {
        self.current = index.min(self.pages.len().saturating_sub(1));
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The width of `text` at `size` points.
    pub fn width(&self, text: &str, weight: Weight, size: f32) -> f32 {
        let face = self.face(weight);
        text.chars().map(|c| face.advance(c)).sum::<f32>() * size / 1000.0
    }

    /// `text` cut to fit `max` points, with an ellipsis when it was cut.
    pub fn fit(&self, text: &str, weight: Weight, size: f32, max: f32) -> String {
        if self.width(text, weight, size) <= max {
            return text.to_owned();
        }
        let ellipsis = self.width("…", weight, size);
        let mut used = 0.0;
        let mut out = String::new();
        for c in text.chars() {
            let w = self.width(c.encode_utf8(&mut [0; 4]), weight, size);
            if used + w + ellipsis > max {
                break;
            }
            used += w;
            out.push(c);
        }
        out.push('…');
        out
    }

    /// Splits `text` into lines no wider than `max` points, breaking at spaces where it can.
    pub fn wrap(&self, text: &str, weight: Weight, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, weight, size) <= max || line.is_empty() {
                line = candidate;
            } else {
                lines.push(std::mem::take(&mut line));
                line = word.to_owned();
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
            .into_iter()
            .map(|l| self.fit(&l, weight, size, max))
            .collect()
    }

    fn page(&mut self) -> &mut Content {
        if self.pages.is_empty() {
            self.add_page();
        }
        let current = self.current.min(self.pages.len() - 1);
        &mut self.pages[current]
    }

    /// Draws `text` with its baseline starting at (`x`, `y`), measured from the top-left corner.
    pub fn text(&mut self, x: f32, y: f32, text: &str, weight: Weight, size: f32, colour: Rgb) {
        if text.is_empty() {
            return;
        }
        let encoded = self.faces[weight as usize].encode(text);
        let font = font_name(weight);
        let page = self.page();
        page.set_fill_rgb(colour.0, colour.1, colour.2);
        page.begin_text();
        page.set_font(Name(font), size);
        page.next_line(x, PAGE_HEIGHT - y);
        page.show(Str(&encoded));
        page.end_text();
    }

    /// Draws `text` ending at `right`.
    pub fn text_right(
        &mut self,
        right: f32,
        y: f32,
        text: &str,
        weight: Weight,
        size: f32,
        colour: Rgb,
    ) {
        let x = right - self.width(text, weight, size);
        self.text(x, y, text, weight, size, colour);
    }

    /// A horizontal rule from `x1` to `x2` at `y`.
    pub fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32, colour: Rgb) {
        let page = self.page();
        page.set_stroke_rgb(colour.0, colour.1, colour.2);
        page.set_line_width(width);
        page.move_to(x1, PAGE_HEIGHT - y);
        page.line_to(x2, PAGE_HEIGHT - y);
        page.stroke();
    }

    /// A filled rectangle whose top-left corner is (`x`, `y`).
    pub fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, colour: Rgb) {
        let page = self.page();
        page.set_fill_rgb(colour.0, colour.1, colour.2);
        page.rect(x, PAGE_HEIGHT - y - h, w, h);
        page.fill_nonzero();
    }

    /// Cuts the font subsets and writes the document.
    pub fn finish(self) -> Result<Vec<u8>, DocumentError> {
        let mut ids = (1..).map(Ref::new);
        let mut next = || ids.next().unwrap_or(Ref::new(1));
        let catalog = next();
        let tree = next();
        let info = next();
        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.document_info(info)
            .title(pdf_writer::TextStr(&self.title))
            .producer(pdf_writer::TextStr("Kabinet"));

        let font_refs: Vec<Ref> = self.faces.iter().map(|_| next()).collect();
        let page_refs: Vec<(Ref, Ref)> = self.pages.iter().map(|_| (next(), next())).collect();
        pdf.pages(tree)
            .kids(page_refs.iter().map(|(page, _)| *page))
            .count(i32::try_from(page_refs.len()).unwrap_or(i32::MAX));

        for ((page_ref, content_ref), content) in page_refs.iter().zip(self.pages) {
            let mut page = pdf.page(*page_ref);
            page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
            page.parent(tree);
            page.contents(*content_ref);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            for (weight, font) in [Weight::Regular, Weight::Bold].iter().zip(&font_refs) {
                fonts.pair(Name(font_name(*weight)), *font);
            }
            fonts.finish();
            resources.finish();
            page.finish();
            let compressed = deflate(&content.finish());
            pdf.stream(*content_ref, &compressed)
                .filter(Filter::FlateDecode);
        }

        for (face, type0) in self.faces.iter().zip(&font_refs) {
            let (cid, descriptor, file, cmap) = (next(), next(), next(), next());
            write_face(&mut pdf, face, *type0, cid, descriptor, file, cmap)?;
        }
        Ok(pdf.finish())
    }
}

fn font_name(weight: Weight) -> &'static [u8] {
    match weight {
        Weight::Regular => b"F1",
        Weight::Bold => b"F2",
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

fn write_face(
    pdf: &mut Pdf,
    face: &Face,
    type0: Ref,
    cid: Ref,
    descriptor: Ref,
    file: Ref,
    cmap: Ref,
) -> Result<(), DocumentError> {
    let family = face
        .face
        .names()
        .into_iter()
        .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
        .find_map(|n| n.to_string())
        .unwrap_or_else(|| "Font".to_owned());
    // A subset's name starts with six capitals and '+' (PDF 32000 9.6.4); derived from the
    // glyph set, so the same text gives the same bytes.
    let tag: String = {
        let mut h: u32 = 2166136261;
        for (gid, c) in &face.chars {
            h = (h ^ u32::from(*gid) ^ u32::from(*c)).wrapping_mul(16777619);
        }
        (0..6)
            .map(|i| char::from(b'A' + ((h >> (i * 5)) % 26) as u8))
            .collect()
    };
    let base = format!("{tag}+{family}");
    let scale = 1000.0 / face.units();
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };

    pdf.type0_font(type0)
        .base_font(Name(base.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);

    let mut font = pdf.cid_font(cid);
    font.subtype(CidFontType::Type2)
        .base_font(Name(base.as_bytes()))
        .system_info(system)
        .font_descriptor(descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    let mut widths = font.widths();
    for (gid, width) in &face.widths {
        widths.consecutive(*gid, [*width]);
    }
    widths.finish();
    font.finish();

    let bbox = face.face.global_bounding_box();
    pdf.font_descriptor(descriptor)
        .name(Name(base.as_bytes()))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * scale,
            f32::from(bbox.y_min) * scale,
            f32::from(bbox.x_max) * scale,
            f32::from(bbox.y_max) * scale,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(face.face.ascender()) * scale)
        .descent(f32::from(face.face.descender()) * scale)
        .cap_height(f32::from(face.face.capital_height().unwrap_or(700)) * scale)
        .stem_v(80.0)
        .font_file2(file);

    let mut unicode = UnicodeCmap::new(Name(b"Kabinet-UTF16"), system);
    for (gid, c) in &face.chars {
        unicode.pair(*gid, *c);
    }
    pdf.cmap(cmap, &unicode.finish());

    let subset = subsetter::subset(face.data, 0, &face.remapper)
        .map_err(|e| DocumentError::Font(e.to_string()))?;
    let compressed = deflate(&subset);
    pdf.stream(file, &compressed)
        .filter(Filter::FlateDecode)
        .pair(
            Name(b"Length1"),
            i32::try_from(subset.len()).unwrap_or(i32::MAX),
        );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_colours() {
        assert_eq!(Rgb::from_hex("#ff0080"), Some(Rgb(1.0, 0.0, 128.0 / 255.0)));
        assert_eq!(Rgb::from_hex("ff0080"), None);
        assert_eq!(Rgb::from_hex("#ff00"), None);
        assert_eq!(Rgb::from_hex("#жжжжжж"), None);
    }

    #[test]
    fn fit_cuts_with_an_ellipsis_and_wrap_keeps_words() {
        let w = PdfWriter::new("t").expect("fonts parse");
        let long = "Абонентская плата по тарифу «Домашний 100» за ноябрь 2026 года";
        let cut = w.fit(long, Weight::Regular, 9.0, 100.0);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(w.width(&cut, Weight::Regular, 9.0) <= 100.0);
        let lines = w.wrap(long, Weight::Regular, 9.0, 120.0);
        assert!(lines.len() > 1);
        assert!(
            lines
                .iter()
                .all(|l| w.width(l, Weight::Regular, 9.0) <= 120.0)
        );
        assert_eq!(lines.join(" "), long);
    }

    #[test]
    fn a_document_embeds_only_a_subset_and_maps_text_back_to_unicode() {
        let mut w = PdfWriter::new("Выписка").expect("fonts parse");
        w.add_page();
        w.text(
            40.0,
            40.0,
            "Выписка по счёту",
            Weight::Bold,
            14.0,
            Rgb::BLACK,
        );
        w.text(
            40.0,
            60.0,
            "Balance 1 234,56",
            Weight::Regular,
            9.0,
            Rgb::BLACK,
        );
        let bytes = w.finish().expect("pdf");
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.len() < 60_000, "subset fonts: {} bytes", bytes.len());
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/ToUnicode"));
        assert!(
            text.contains("+DejaVuSans"),
            "a subset font named after the face"
        );
    }
}
