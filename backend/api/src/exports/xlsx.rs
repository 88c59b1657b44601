//! The XLSX export, written front to back like the CSV: a ZIP archive whose entries are deflated
//! as rows arrive and closed with data descriptors (no seeking back), holding one worksheet per
//! 1 048 575 rows (Excel's limit with the header row) with inline strings, so nothing is kept
//! but the current chunk. Times are Excel dates; ids and seqs numbers; everything else text,
//! which Excel never evaluates (no formula injection through an inline string).

use std::io::Write;

use bytes::Bytes;
use chrono::NaiveDateTime;
use flate2::write::DeflateEncoder;
use flate2::Compression;

/// Data rows per worksheet: Excel's 1 048 576 rows less the header.
pub const SHEET_ROWS: u64 = 1_048_575;
/// Excel's limit on a cell's text.
const CELL_CHARS: usize = 32_767;
/// Bytes buffered before they are handed on.
const CHUNK: usize = 64 * 1024;

/// A cell's value.
pub enum Cell<'a> {
    Text(&'a str),
    Number(i64),
    /// A UTC or local time, shown `yyyy-mm-dd hh:mm:ss`.
    Time(NaiveDateTime),
}

struct Entry {
    name: String,
    crc: u32,
    packed: u64,
    size: u64,
    offset: u64,
}

/// A ZIP archive written to `emit` as it grows.
struct Zip<'a> {
    emit: &'a mut dyn FnMut(Bytes) -> bool,
    connected: bool,
    out: Vec<u8>,
    sent: u64,
    entries: Vec<Entry>,
    /// The entry being written: its compressor and checksum.
    open: Option<(DeflateEncoder<Vec<u8>>, crc32fast::Hasher, u64)>,
}

/// 1980-01-01 00:00 in MS-DOS time and date (the archive's entries carry no meaningful time).
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

impl<'a> Zip<'a> {
    fn new(emit: &'a mut dyn FnMut(Bytes) -> bool) -> Self {
        Zip {
            emit,
            connected: true,
            out: Vec::with_capacity(CHUNK * 2),
            sent: 0,
            entries: Vec::new(),
            open: None,
        }
    }

    fn position(&self) -> u64 {
        self.sent + self.out.len() as u64
    }

    fn spill(&mut self, force: bool) {
        if self.out.len() >= CHUNK || (force && !self.out.is_empty()) {
            let chunk = std::mem::replace(&mut self.out, Vec::with_capacity(CHUNK * 2));
            self.sent += chunk.len() as u64;
            self.connected = self.connected && (self.emit)(Bytes::from(chunk));
        }
    }

    fn begin(&mut self, name: &str) -> Result<(), String> {
        let offset = self.position();
        let out = &mut self.out;
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0
        out.extend_from_slice(&0x0808u16.to_le_bytes()); // sizes in a data descriptor; UTF-8 name
        out.extend_from_slice(&8u16.to_le_bytes()); // deflate
        out.extend_from_slice(&DOS_TIME.to_le_bytes());
        out.extend_from_slice(&DOS_DATE.to_le_bytes());
        out.extend_from_slice(&[0; 12]); // CRC and sizes: in the descriptor
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        self.entries.push(Entry { name: name.into(), crc: 0, packed: 0, size: 0, offset });
        self.open = Some((DeflateEncoder::new(Vec::new(), Compression::fast()), crc32fast::Hasher::new(), 0));
        Ok(())
    }

    fn write(&mut self, data: &[u8]) {
        if let Some((encoder, crc, size)) = &mut self.open {
            crc.update(data);
            *size += data.len() as u64;
            // Writing into a Vec cannot fail.
            let _ = encoder.write_all(data);
            if encoder.get_ref().len() >= CHUNK {
                let packed = std::mem::take(encoder.get_mut());
                self.out.extend_from_slice(&packed);
                self.spill(false);
            }
        }
    }

    fn end(&mut self) -> Result<(), String> {
        let Some((encoder, crc, size)) = self.open.take() else { return Ok(()) };
        let rest = encoder.finish().map_err(|e| e.to_string())?;
        self.out.extend_from_slice(&rest);
        let entry = self.entries.last_mut().ok_or("no entry is open")?;
        entry.crc = crc.finalize();
        entry.size = size;
        entry.packed = self.sent + self.out.len() as u64 - entry.offset - 30 - entry.name.len() as u64;
        if entry.size > u64::from(u32::MAX) || entry.packed > u64::from(u32::MAX) {
            return Err(format!(
                "{} is larger than 4 GB, more than a ZIP entry without ZIP64 holds",
                entry.name
            ));
        }
        let descriptor = [0x0807_4b50u32, entry.crc, entry.packed as u32, entry.size as u32];
        for field in descriptor {
            self.out.extend_from_slice(&field.to_le_bytes());
        }
        self.spill(false);
        Ok(())
    }

    fn file(&mut self, name: &str, data: &[u8]) -> Result<(), String> {
        self.begin(name)?;
        self.write(data);
        self.end()
    }

    fn finish(mut self) -> Result<bool, String> {
        self.end()?;
        let start = self.position();
        let entries = std::mem::take(&mut self.entries);
        for entry in &entries {
            if entry.offset > u64::from(u32::MAX) {
                return Err("the archive is larger than 4 GB, more than a ZIP without ZIP64 holds".into());
            }
            let out = &mut self.out;
            out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            out.extend_from_slice(&20u16.to_le_bytes()); // made by: 2.0
            out.extend_from_slice(&20u16.to_le_bytes()); // needed: 2.0
            out.extend_from_slice(&0x0808u16.to_le_bytes());
            out.extend_from_slice(&8u16.to_le_bytes());
            out.extend_from_slice(&DOS_TIME.to_le_bytes());
            out.extend_from_slice(&DOS_DATE.to_le_bytes());
            out.extend_from_slice(&entry.crc.to_le_bytes());
            out.extend_from_slice(&(entry.packed as u32).to_le_bytes());
            out.extend_from_slice(&(entry.size as u32).to_le_bytes());
            out.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attributes
            out.extend_from_slice(&[0; 4]); // external attributes
            out.extend_from_slice(&(entry.offset as u32).to_le_bytes());
            out.extend_from_slice(entry.name.as_bytes());
            self.spill(false);
        }
        let size = self.position() - start;
        if start > u64::from(u32::MAX) || entries.len() > usize::from(u16::MAX) {
            return Err("the archive is larger than a ZIP without ZIP64 holds".into());
        }
        let out = &mut self.out;
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0; 4]); // this disk, the directory's disk
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(size as u32).to_le_bytes());
        out.extend_from_slice(&(start as u32).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        self.spill(true);
        Ok(self.connected)
    }
}

/// Appends `text` as XML character data: markup escaped, characters XML cannot hold written as
/// Excel's `_xHHHH_` (and a literal `_xHHHH_` protected so Excel does not read it as one), cut
/// to Excel's 32 767 characters.
fn escape(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    for (count, (i, c)) in text.char_indices().enumerate() {
        if count == CELL_CHARS - 1 && text[i..].chars().nth(1).is_some() {
            out.extend_from_slice("…".as_bytes());
            return;
        }
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\t' | '\n' | '\r' => out.push(c as u8),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.extend_from_slice(format!("_x{:04X}_", c as u32).as_bytes());
            }
            '_' if bytes.len() >= i + 7
                && bytes[i + 1] == b'x'
                && bytes[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit)
                && bytes[i + 6] == b'_' =>
            {
                out.extend_from_slice(b"_x005F_");
            }
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

/// `A`, `B`, … `Z`, `AA`: a column's letters.
fn column_letters(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// Days since Excel's epoch (1899-12-30), with the time as the fraction.
fn excel_serial(t: NaiveDateTime) -> f64 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    (t - epoch).num_microseconds().unwrap_or(0) as f64 / 86_400_000_000.0
}

const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#;

/// A workbook of the export's rows, streamed.
pub struct Workbook<'a> {
    zip: Zip<'a>,
    headers: Vec<String>,
    sheets: usize,
    /// Rows in the sheet being written, the header included.
    row: u64,
    /// Data rows per sheet.
    sheet_rows: u64,
    line: Vec<u8>,
}

impl<'a> Workbook<'a> {
    /// Starts the archive and the first sheet, with `headers` as its first (bold, frozen) row.
    pub fn start(headers: Vec<String>, emit: &'a mut dyn FnMut(Bytes) -> bool) -> Result<Self, String> {
        let mut book = Workbook {
            zip: Zip::new(emit),
            headers,
            sheets: 0,
            row: 0,
            sheet_rows: SHEET_ROWS,
            line: Vec::with_capacity(4096),
        };
        book.zip.file("xl/styles.xml", STYLES.as_bytes())?;
        book.next_sheet()?;
        Ok(book)
    }

    fn next_sheet(&mut self) -> Result<(), String> {
        if self.sheets > 0 {
            self.zip.write(b"</sheetData></worksheet>");
            self.zip.end()?;
        }
        self.sheets += 1;
        self.zip.begin(&format!("xl/worksheets/sheet{}.xml", self.sheets))?;
        self.zip.write(
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
                 <sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/></sheetView></sheetViews>\
                 <sheetFormatPr defaultRowHeight=\"15\"/><cols><col min=\"1\" max=\"{}\" width=\"20\" customWidth=\"1\"/></cols><sheetData>",
                self.headers.len().max(1)
            )
            .as_bytes(),
        );
        self.row = 0;
        let headers = std::mem::take(&mut self.headers);
        let cells: Vec<Cell<'_>> = headers.iter().map(|h| Cell::Text(h)).collect();
        self.write_row(&cells, true);
        self.headers = headers;
        Ok(())
    }

    fn write_row(&mut self, cells: &[Cell<'_>], header: bool) {
        self.row += 1;
        let line = &mut self.line;
        line.clear();
        let _ = write!(line, "<row r=\"{}\">", self.row);
        for (i, cell) in cells.iter().enumerate() {
            let at = format!("{}{}", column_letters(i), self.row);
            match cell {
                Cell::Text("") => {}
                Cell::Text(text) => {
                    let style = if header { " s=\"2\"" } else { "" };
                    let _ =
                        write!(line, "<c r=\"{at}\" t=\"inlineStr\"{style}><is><t xml:space=\"preserve\">");
                    escape(line, text);
                    line.extend_from_slice(b"</t></is></c>");
                }
                Cell::Number(n) => {
                    let _ = write!(line, "<c r=\"{at}\"><v>{n}</v></c>");
                }
                Cell::Time(t) => {
                    let _ = write!(line, "<c r=\"{at}\" s=\"1\"><v>{:.10}</v></c>", excel_serial(*t));
                }
            }
        }
        line.extend_from_slice(b"</row>");
        let line = std::mem::take(&mut self.line);
        self.zip.write(&line);
        self.line = line;
    }

    /// Adds a row (a new sheet when this one is full). Returns `false` once the reader has gone.
    pub fn row(&mut self, cells: &[Cell<'_>]) -> Result<bool, String> {
        if self.row > self.sheet_rows {
            self.next_sheet()?;
        }
        self.write_row(cells, false);
        Ok(self.zip.connected)
    }

    /// Ends the last sheet and writes the workbook's parts. Returns whether everything reached
    /// the reader.
    pub fn finish(mut self) -> Result<bool, String> {
        self.zip.write(b"</sheetData></worksheet>");
        self.zip.end()?;
        let sheets = self.sheets;
        let name = |n: usize| if n == 1 { "Activity".to_string() } else { format!("Activity ({n})") };
        let mut workbook = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
             xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>",
        );
        let mut rels = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
        );
        let mut types = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
             <Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>",
        );
        for n in 1..=sheets {
            workbook.push_str(&format!("<sheet name=\"{}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>", name(n)));
            rels.push_str(&format!(
                "<Relationship Id=\"rId{n}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>"
            ));
            types.push_str(&format!(
                "<Override PartName=\"/xl/worksheets/sheet{n}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
            ));
        }
        workbook.push_str("</sheets></workbook>");
        rels.push_str(&format!(
            "<Relationship Id=\"rId{}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/></Relationships>",
            sheets + 1
        ));
        types.push_str("</Types>");
        self.zip.file("xl/workbook.xml", workbook.as_bytes())?;
        self.zip.file("xl/_rels/workbook.xml.rels", rels.as_bytes())?;
        self.zip.file("[Content_Types].xml", types.as_bytes())?;
        self.zip.file(
            "_rels/.rels",
            b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
              <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>",
        )?;
        self.zip.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_lettered_as_excel_does() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn text_is_escaped_for_xml_and_excel() {
        let mut out = Vec::new();
        escape(&mut out, "a<b>&\"c\u{1}d_x0041_e_xZZ");
        assert_eq!(String::from_utf8(out).unwrap(), "a&lt;b&gt;&amp;&quot;c_x0001_d_x005F_x0041_e_xZZ");
        let mut out = Vec::new();
        escape(&mut out, &"é".repeat(40_000));
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.chars().count(), CELL_CHARS);
        assert!(text.ends_with('…'));
        let mut out = Vec::new();
        escape(&mut out, &"é".repeat(CELL_CHARS));
        assert_eq!(String::from_utf8(out).unwrap().chars().count(), CELL_CHARS);
    }

    #[test]
    fn a_full_sheet_continues_on_the_next_and_the_workbook_reads_back() {
        use calamine::{Data, Reader};
        let mut out = Vec::new();
        let mut emit = |b: Bytes| {
            out.extend_from_slice(&b);
            true
        };
        let mut book = Workbook::start(vec!["id".into(), "when".into(), "text".into()], &mut emit).unwrap();
        book.sheet_rows = 2;
        let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap().and_hms_opt(12, 0, 0).unwrap();
        for n in 1..=5 {
            let text = format!("=cmd|' /C calc'!A0 <{n}> Łódź 张伟");
            assert!(book.row(&[Cell::Number(n), Cell::Time(t), Cell::Text(&text)]).unwrap());
        }
        assert!(book.finish().unwrap());
        let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(out)).unwrap();
        assert_eq!(workbook.sheet_names(), ["Activity", "Activity (2)", "Activity (3)"]);
        let mut ids = Vec::new();
        for name in workbook.sheet_names() {
            let range = workbook.worksheet_range(&name).unwrap();
            let rows: Vec<&[Data]> = range.rows().collect();
            assert_eq!(rows[0][0], Data::String("id".into()), "{name}: header first");
            for row in &rows[1..] {
                ids.push(row[0].clone());
                assert!(matches!(row[1], Data::DateTime(_)), "{:?}", row[1]);
                assert!(
                    matches!(&row[2], Data::String(s) if s.starts_with("=cmd") && s.ends_with("Łódź 张伟"))
                );
            }
        }
        assert_eq!(ids, (1..=5).map(|n| Data::Float(n as f64)).collect::<Vec<_>>());
    }

    #[test]
    fn times_are_excel_serial_days() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap().and_hms_opt(12, 0, 0).unwrap();
        assert!((excel_serial(t) - 46363.5).abs() < 1e-9, "{}", excel_serial(t));
    }
}
