//! The PDF export: a title, the filters used, who generated it and when, then a paginated table
//! with page numbers. Built-in Helvetica (no font files), so text outside Latin-1 shows as `?`.

use printpdf::{BuiltinFont, Color, IndirectFontRef, Line, Mm, PdfDocument, PdfLayerReference, Point, Rgb};

/// One table row, already formatted.
pub struct PdfRow {
    pub cells: [String; 6],
}

pub struct PdfReport<'a> {
    pub title: &'a str,
    pub filters: &'a str,
    pub generated: &'a str,
    pub time_zone: &'a str,
    pub rows: &'a [PdfRow],
}

const PAGE_W: f32 = 297.0;
const PAGE_H: f32 = 210.0;
const MARGIN: f32 = 12.0;
const ROW_H: f32 = 5.2;
const FONT_PT: f32 = 7.5;
/// Rows on the first page (below the heading) and on the following ones.
const FIRST_PAGE_ROWS: usize = 30;
const PAGE_ROWS: usize = 34;
/// Column widths in millimetres; they add up to the printable width.
const COLUMNS: [(&str, f32); 6] = [
    ("Date/Time", 34.0),
    ("User", 38.0),
    ("Event", 38.0),
    ("Event On", 38.0),
    ("Description", 93.0),
    ("IP Address", 32.0),
];

/// Pages a report of `rows` rows takes.
pub fn page_count(rows: usize) -> usize {
    if rows <= FIRST_PAGE_ROWS {
        1
    } else {
        1 + (rows - FIRST_PAGE_ROWS).div_ceil(PAGE_ROWS)
    }
}

/// Latin-1 only (the built-in fonts' encoding), cut to what fits `width_mm` at `size_pt`.
fn fit(text: &str, width_mm: f32, size_pt: f32) -> String {
    // Helvetica averages about half an em per character.
    let max_chars = ((width_mm - 1.5) / (size_pt * 0.5 * 0.3528)) as usize;
    let clean: String = text
        .chars()
        .map(|c| {
            if (c as u32) < 0x20 {
                ' '
            } else if (c as u32) > 0xff {
                '?'
            } else {
                c
            }
        })
        .collect();
    if clean.chars().count() <= max_chars {
        clean
    } else {
        let mut cut: String = clean.chars().take(max_chars.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

fn rule(layer: &PdfLayerReference, y: f32) {
    layer.add_line(Line {
        points: vec![(Point::new(Mm(MARGIN), Mm(y)), false), (Point::new(Mm(PAGE_W - MARGIN), Mm(y)), false)],
        is_closed: false,
    });
}

fn header_row(layer: &PdfLayerReference, bold: &IndirectFontRef, y: f32) {
    let mut x = MARGIN;
    for (name, width) in COLUMNS {
        layer.use_text(name, FONT_PT, Mm(x + 0.5), Mm(y), bold);
        x += width;
    }
    rule(layer, y - 1.6);
}

pub fn render(report: &PdfReport<'_>) -> Result<Vec<u8>, String> {
    let (doc, first_page, first_layer) = PdfDocument::new(report.title, Mm(PAGE_W), Mm(PAGE_H), "table");
    let font = doc.add_builtin_font(BuiltinFont::Helvetica).map_err(|e| e.to_string())?;
    let bold = doc.add_builtin_font(BuiltinFont::HelveticaBold).map_err(|e| e.to_string())?;
    let pages = page_count(report.rows.len());
    let mut remaining = report.rows;
    for page in 0..pages {
        let layer = if page == 0 {
            doc.get_page(first_page).get_layer(first_layer)
        } else {
            let (p, l) = doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "table");
            doc.get_page(p).get_layer(l)
        };
        layer.set_outline_color(Color::Rgb(Rgb::new(0.75, 0.75, 0.75, None)));
        layer.set_outline_thickness(0.3);
        let mut y = PAGE_H - MARGIN - 4.0;
        if page == 0 {
            layer.use_text(fit(report.title, PAGE_W - 2.0 * MARGIN, 14.0), 14.0, Mm(MARGIN), Mm(y), &bold);
            y -= 7.0;
            for line in [report.filters, report.generated] {
                layer.use_text(fit(line, PAGE_W - 2.0 * MARGIN, 8.5), 8.5, Mm(MARGIN), Mm(y), &font);
                y -= 4.6;
            }
            y -= 3.0;
        }
        header_row(&layer, &bold, y);
        y -= ROW_H;
        let take = if page == 0 { FIRST_PAGE_ROWS } else { PAGE_ROWS }.min(remaining.len());
        let (rows, rest) = remaining.split_at(take);
        remaining = rest;
        for row in rows {
            let mut x = MARGIN;
            for ((_, width), cell) in COLUMNS.iter().zip(&row.cells) {
                layer.use_text(fit(cell, *width, FONT_PT), FONT_PT, Mm(x + 0.5), Mm(y), &font);
                x += width;
            }
            rule(&layer, y - 1.6);
            y -= ROW_H;
        }
        if report.rows.is_empty() {
            layer.use_text("No activity matches these filters.", 9.0, Mm(MARGIN), Mm(y), &font);
        }
        let footer = format!("Times in {}  ·  Page {} of {}", report.time_zone, page + 1, pages);
        layer.use_text(fit(&footer, 120.0, 7.0), 7.0, Mm(PAGE_W - MARGIN - 70.0), Mm(MARGIN - 4.0), &font);
    }
    doc.save_to_bytes().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_fill_up_in_order() {
        assert_eq!(page_count(0), 1);
        assert_eq!(page_count(FIRST_PAGE_ROWS), 1);
        assert_eq!(page_count(FIRST_PAGE_ROWS + 1), 2);
        assert_eq!(page_count(FIRST_PAGE_ROWS + PAGE_ROWS), 2);
        assert_eq!(page_count(FIRST_PAGE_ROWS + PAGE_ROWS + 1), 3);
    }

    #[test]
    fn text_is_cut_to_its_column_and_kept_to_latin1() {
        let cut = fit(&"x".repeat(500), 30.0, FONT_PT);
        assert!(cut.ends_with('…') && cut.chars().count() < 40, "{cut}");
        assert_eq!(fit("Zoë 東京", 100.0, FONT_PT), "Zoë ??");
    }
}
