//! The PDF export: a cover block (tenant, who exported it and when, the filters in words, how many
//! activities, the signed checkpoint it was taken at), then a table — time, user, event, record,
//! description, changes, address — whose header row repeats on every page, with page numbers.
//!
//! It is written page by page as rows arrive, in constant memory and with no row limit: each page
//! goes out once full. What only the end knows (the number of pages and of rows) is drawn by two
//! small form objects that pages refer to and the end of the file defines.

mod fonts;
mod writer;

use std::fmt::Write as _;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::text::thousands;
use fonts::Fonts;
use writer::{text_string, ObjId, Writer};

/// A value on the cover.
pub enum Fact {
    Text(String),
    /// The number of activities in the document, known at its end.
    RowCount,
}

/// The cover block: a title and labelled facts.
pub struct Cover {
    pub title: String,
    pub facts: Vec<(&'static str, Fact)>,
    /// Printed at the foot of every page, left of the page number.
    pub footer: String,
    pub created: DateTime<Utc>,
}

/// One table row, formatted; in the order of [`COLUMNS`].
pub struct Row {
    pub cells: [String; 7],
}

const PAGE_W: f32 = 841.89;
const PAGE_H: f32 = 595.28;
const MARGIN: f32 = 30.0;
const SIZE: f32 = 7.5;
const LEADING: f32 = 9.2;
const PAD: f32 = 3.2;
/// Lines a cell may take before it is cut with an ellipsis (the CSV has everything).
const MAX_LINES: usize = 8;
/// Rows stop above this line; the footer goes below it.
const BOTTOM: f32 = MARGIN + 8.0;
const FOOTER_Y: f32 = MARGIN - 6.0;
/// Column titles and widths in points; they add up to the printable width.
pub const COLUMNS: [(&str, f32); 7] = [
    ("Date/Time", 94.0),
    ("User", 88.0),
    ("Event", 86.0),
    ("Record", 92.0),
    ("Description", 168.0),
    ("Changes", 181.89),
    ("IP address", 72.0),
];

pub struct Report<'a> {
    writer: Writer<'a>,
    fonts: Fonts,
    resources: ObjId,
    pages: ObjId,
    page_total: ObjId,
    row_total: ObjId,
    kids: Vec<ObjId>,
    content: Vec<u8>,
    y: f32,
    rows: u64,
    title: String,
    footer: String,
    created: DateTime<Utc>,
}

/// `text` cut into lines of at most `width` points at `size`, at spaces where it can and inside a
/// word where it must; more than `max_lines` are cut, the last ending in an ellipsis.
fn wrap(fonts: &mut Fonts, text: &str, width: f32, size: f32, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let space = fonts.width(" ", size);
    'text: for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0.0;
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let word_w = fonts.width(word, size);
            let gap = if line.is_empty() { 0.0 } else { space };
            if line_w + gap + word_w <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_w += gap + word_w;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
                if lines.len() > max_lines {
                    break 'text;
                }
            }
            for c in word.chars() {
                let w = fonts.char_width(c, size).unwrap_or(0.0);
                if line_w + w > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0.0;
                    if lines.len() > max_lines {
                        break 'text;
                    }
                }
                line.push(c);
                line_w += w;
            }
        }
        if !line.is_empty() {
            lines.push(line);
            if lines.len() > max_lines {
                break;
            }
        }
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            let ellipsis = fonts.width("…", size);
            while !last.is_empty() && fonts.width(last, size) + ellipsis > width {
                last.pop();
            }
            last.push('…');
        }
    }
    lines
}

impl<'a> Report<'a> {
    /// Starts the document and draws the cover and the first header row.
    pub fn start(cover: &Cover, emit: &'a mut dyn FnMut(Bytes) -> bool) -> Result<Self, String> {
        let mut writer = Writer::new(emit);
        let fonts = Fonts::new(&mut writer)?;
        let (resources, pages, page_total, row_total) =
            (writer.reserve(), writer.reserve(), writer.reserve(), writer.reserve());
        let mut report = Report {
            writer,
            fonts,
            resources,
            pages,
            page_total,
            row_total,
            kids: Vec::new(),
            content: Vec::with_capacity(64 * 1024),
            y: PAGE_H - MARGIN,
            rows: 0,
            title: cover.title.clone(),
            footer: cover.footer.clone(),
            created: cover.created,
        };
        report.draw_cover(cover);
        report.header_row();
        Ok(report)
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let out = &mut self.content;
        if bold {
            out.extend_from_slice(b"2 Tr 0.25 w ");
        }
        let _ = write!(V(out), "BT {x:.2} {y:.2} Td ");
        self.fonts.show(&mut self.content, text, size);
        self.content.extend_from_slice(if bold { b"ET 0 Tr\n" } else { b"ET\n" });
    }

    fn lines(&mut self, x: f32, y: f32, size: f32, leading: f32, lines: &[String]) {
        let _ = write!(V(&mut self.content), "BT {x:.2} {y:.2} Td {leading} TL ");
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                self.content.extend_from_slice(b"T* ");
            }
            self.fonts.show(&mut self.content, line, size);
        }
        self.content.extend_from_slice(b"ET\n");
    }

    fn rule(&mut self, y: f32, grey: f32) {
        let _ = writeln!(
            V(&mut self.content),
            "{grey} G 0.4 w {MARGIN} {y:.2} m {:.2} {y:.2} l S",
            PAGE_W - MARGIN
        );
    }

    fn draw_cover(&mut self, cover: &Cover) {
        let width = PAGE_W - 2.0 * MARGIN;
        for line in wrap(&mut self.fonts, &cover.title, width, 15.0, 2) {
            self.y -= 16.0;
            let y = self.y;
            self.text(MARGIN, y, 15.0, true, &line);
        }
        self.y -= 8.0;
        const LABEL_W: f32 = 92.0;
        for (label, fact) in &cover.facts {
            self.y -= 11.0;
            let y = self.y;
            self.text(MARGIN, y, 8.5, true, label);
            match fact {
                Fact::Text(value) => {
                    let lines = wrap(&mut self.fonts, value, width - LABEL_W, 8.5, 4);
                    self.lines(MARGIN + LABEL_W, y, 8.5, 10.5, &lines);
                    self.y -= 10.5 * lines.len().saturating_sub(1) as f32;
                }
                Fact::RowCount => {
                    let _ = writeln!(
                        V(&mut self.content),
                        "q 1 0 0 1 {:.2} {y:.2} cm /Rows Do Q",
                        MARGIN + LABEL_W
                    );
                }
            }
        }
        self.y -= 12.0;
    }

    fn header_row(&mut self) {
        let height = LEADING + 2.0 * PAD;
        let top = self.y;
        let _ = writeln!(
            V(&mut self.content),
            "0.93 g {MARGIN} {:.2} {:.2} {height:.2} re f 0 g",
            top - height,
            PAGE_W - 2.0 * MARGIN
        );
        let mut x = MARGIN;
        let baseline = top - PAD - SIZE;
        for (title, width) in COLUMNS {
            self.text(x + 2.0, baseline, SIZE, true, title);
            x += width;
        }
        self.y = top - height;
    }

    /// Ends the page being drawn: its footer, its content and its page object.
    fn close_page(&mut self) {
        let number = self.kids.len() + 1;
        let footer = self.footer.clone();
        self.text(MARGIN, FOOTER_Y, 7.0, false, &footer);
        let label = format!("Page {number} of ");
        let x = PAGE_W - MARGIN - 80.0;
        self.text(x, FOOTER_Y, 7.0, false, &label);
        let after = x + self.fonts.width(&label, 7.0);
        let _ = writeln!(V(&mut self.content), "q 1 0 0 1 {after:.2} {FOOTER_Y:.2} cm /Pages Do Q");
        let (content, page) = (self.writer.reserve(), self.writer.reserve());
        self.writer.stream(content, "", &self.content);
        self.content.clear();
        self.writer.object(
            page,
            &format!(
                "<< /Type /Page /Parent {} /MediaBox [0 0 {PAGE_W} {PAGE_H}] /Resources {} /Contents {content} >>",
                self.pages, self.resources
            ),
        );
        self.kids.push(page);
    }

    fn next_page(&mut self) {
        self.close_page();
        self.y = PAGE_H - MARGIN;
        let title = format!("{} (continued)", self.title);
        self.y -= 9.0;
        let y = self.y;
        self.text(MARGIN, y, 8.0, false, &title);
        self.y -= 7.0;
        self.header_row();
    }

    /// Adds a row, starting a page when it does not fit. Returns `false` once the reader has gone.
    pub fn row(&mut self, row: &Row) -> bool {
        let cells: Vec<Vec<String>> = COLUMNS
            .iter()
            .zip(&row.cells)
            .map(|((_, width), text)| wrap(&mut self.fonts, text, width - 4.0, SIZE, MAX_LINES))
            .collect();
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let height = lines as f32 * LEADING + 2.0 * PAD;
        if self.y - height < BOTTOM {
            self.next_page();
        }
        let baseline = self.y - PAD - SIZE;
        let mut x = MARGIN;
        for ((_, width), lines) in COLUMNS.iter().zip(&cells) {
            if !lines.is_empty() {
                self.lines(x + 2.0, baseline, SIZE, LEADING, lines);
            }
            x += width;
        }
        self.y -= height;
        let y = self.y;
        self.rule(y, 0.82);
        self.rows += 1;
        self.writer.connected()
    }

    /// A form object showing `text` (what the pages refer to as `/Pages` and `/Rows`).
    fn form(&mut self, id: ObjId, fonts: ObjId, text: &str, size: f32, bold: bool) {
        let mut content = Vec::new();
        if bold {
            content.extend_from_slice(b"2 Tr 0.25 w ");
        }
        content.extend_from_slice(b"BT 0 0 Td ");
        self.fonts.show(&mut content, text, size);
        content.extend_from_slice(b"ET");
        let width = self.fonts.width(text, size) + 2.0;
        self.writer.stream(
            id,
            &format!(
                "/Type /XObject /Subtype /Form /BBox [0 -4 {width:.2} {:.2}] /Resources {fonts}",
                size + 2.0
            ),
            &content,
        );
    }

    /// Ends the document. Returns whether every byte reached the reader.
    pub fn finish(mut self) -> Result<bool, String> {
        let closing = if self.rows == 0 {
            "No activity matches these filters.".to_string()
        } else {
            format!("End of export: {} activities.", thousands(self.rows))
        };
        if self.y - 14.0 < BOTTOM {
            self.next_page();
        }
        self.y -= 14.0;
        let y = self.y;
        self.text(MARGIN, y, 8.5, false, &closing);
        self.close_page();

        let form_fonts = self.writer.reserve();
        let (page_total, row_total) = (self.page_total, self.row_total);
        self.form(page_total, form_fonts, &self.kids.len().to_string(), 7.0, false);
        self.form(row_total, form_fonts, &thousands(self.rows), 8.5, false);
        let font_entries = self.fonts.resource_entries();
        let mut writer = self.writer;
        self.fonts.embed(&mut writer)?;
        writer.object(form_fonts, &format!("<< /Font << {font_entries}>> >>"));
        writer.object(
            self.resources,
            &format!("<< /Font << {font_entries}>> /XObject << /Pages {page_total} /Rows {row_total} >> >>"),
        );
        let kids: String = self.kids.iter().map(|k| format!("{k} ")).collect();
        writer.object(self.pages, &format!("<< /Type /Pages /Kids [{kids}] /Count {} >>", self.kids.len()));
        let (catalog, info) = (writer.reserve(), writer.reserve());
        writer.object(catalog, &format!("<< /Type /Catalog /Pages {} >>", self.pages));
        writer.object(
            info,
            &format!(
                "<< /Title {} /Producer (Activity Log) /Creator (Activity Log) /CreationDate (D:{}Z) >>",
                text_string(&self.title),
                self.created.format("%Y%m%d%H%M%S")
            ),
        );
        writer.finish(catalog, info)
    }
}

/// `write!` into a byte vector.
struct V<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for V<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        let mut emit = |_: Bytes| true;
        let mut writer = Writer::new(&mut emit);
        Fonts::new(&mut writer).unwrap()
    }

    #[test]
    fn columns_fill_the_printable_width() {
        let total: f32 = COLUMNS.iter().map(|(_, w)| w).sum();
        assert!((total - (PAGE_W - 2.0 * MARGIN)).abs() < 0.01, "{total}");
    }

    #[test]
    fn a_time_fits_on_one_line() {
        let mut fonts = fonts();
        assert_eq!(wrap(&mut fonts, "2026-12-07 18:28:53", COLUMNS[0].1 - 4.0, SIZE, 8).len(), 1);
    }

    #[test]
    fn text_wraps_at_spaces_then_inside_words_and_is_cut_with_an_ellipsis() {
        let mut fonts = fonts();
        let lines = wrap(&mut fonts, "status: pending → confirmed", 60.0, SIZE, 8);
        assert!(lines.len() > 1 && lines.iter().all(|l| !l.starts_with(' ')), "{lines:?}");
        assert_eq!(lines.join(" "), "status: pending → confirmed");
        let long = "x".repeat(400);
        let lines = wrap(&mut fonts, &long, 60.0, SIZE, 3);
        assert_eq!(lines.len(), 3);
        assert!(lines[2].ends_with('…'));
        assert!(lines.iter().all(|l| fonts.width(l, SIZE) <= 60.0));
        assert_eq!(wrap(&mut fonts, "a\nb", 60.0, SIZE, 8), ["a", "b"]);
        assert!(wrap(&mut fonts, "", 60.0, SIZE, 8).is_empty());
    }
}
