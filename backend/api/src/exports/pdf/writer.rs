//! A PDF file written front to back: objects go out as soon as they are complete, their byte
//! offsets are kept for the cross-reference table at the end. An object may be referred to before
//! it is written (its number is reserved first), which is how a page can name the fonts and the
//! page total that only the end of the document knows.

use std::io::Write;

use bytes::Bytes;
use flate2::write::ZlibEncoder;
use flate2::Compression;

/// An object number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjId(u32);

impl std::fmt::Display for ObjId {
    /// As a reference: `12 0 R`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} 0 R", self.0)
    }
}

/// Bytes buffered before they are handed on.
const CHUNK: usize = 64 * 1024;

pub struct Writer<'a> {
    buf: Vec<u8>,
    /// Bytes handed on before `buf`.
    sent: u64,
    /// Offset of each object, by number (index 0 is the free list head); `None` until written.
    offsets: Vec<Option<u64>>,
    emit: &'a mut dyn FnMut(Bytes) -> bool,
    connected: bool,
}

impl<'a> Writer<'a> {
    /// Starts a PDF 1.7 file; `emit` receives its bytes in chunks and returns `false` once
    /// nobody reads them any more.
    pub fn new(emit: &'a mut dyn FnMut(Bytes) -> bool) -> Self {
        let mut buf = Vec::with_capacity(CHUNK * 2);
        // The comment's high bytes tell transfer tools the file is binary.
        buf.extend_from_slice(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
        Writer { buf, sent: 0, offsets: vec![None], emit, connected: true }
    }

    /// A number for an object written later.
    pub fn reserve(&mut self) -> ObjId {
        self.offsets.push(None);
        ObjId((self.offsets.len() - 1) as u32)
    }

    fn open(&mut self, id: ObjId) {
        self.offsets[id.0 as usize] = Some(self.sent + self.buf.len() as u64);
        let _ = writeln!(self.buf, "{} 0 obj", id.0);
    }

    /// Writes a reserved object whose body is `body` (a dictionary, array, number…).
    pub fn object(&mut self, id: ObjId, body: &str) {
        self.open(id);
        self.buf.extend_from_slice(body.as_bytes());
        self.buf.extend_from_slice(b"\nendobj\n");
        self.spill();
    }

    /// Writes a reserved stream object, compressed; `dict` holds the entries other than
    /// `/Length` and `/Filter` (without the `<< >>`).
    pub fn stream(&mut self, id: ObjId, dict: &str, data: &[u8]) {
        let mut encoder = ZlibEncoder::new(Vec::with_capacity(data.len() / 3 + 64), Compression::fast());
        // Writing into a Vec cannot fail.
        let _ = encoder.write_all(data);
        let packed = encoder.finish().unwrap_or_default();
        self.open(id);
        let _ = write!(self.buf, "<< {dict} /Filter /FlateDecode /Length {} >>\nstream\n", packed.len());
        self.buf.extend_from_slice(&packed);
        self.buf.extend_from_slice(b"\nendstream\nendobj\n");
        self.spill();
    }

    /// Hands on what is buffered once it is a chunk's worth.
    fn spill(&mut self) {
        if self.buf.len() >= CHUNK {
            self.send();
        }
    }

    fn send(&mut self) {
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK * 2));
        self.sent += chunk.len() as u64;
        self.connected = self.connected && (self.emit)(Bytes::from(chunk));
    }

    /// `false` once the reader has gone away: writing on is wasted work.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// Ends the file: the cross-reference table and the trailer naming `root` and `info`.
    /// Returns whether everything reached the reader; an object reserved and never written is
    /// an error.
    pub fn finish(mut self, root: ObjId, info: ObjId) -> Result<bool, String> {
        let start = self.sent + self.buf.len() as u64;
        let _ = write!(self.buf, "xref\n0 {}\n0000000000 65535 f \n", self.offsets.len());
        let offsets = std::mem::take(&mut self.offsets);
        for (number, offset) in offsets.iter().enumerate().skip(1) {
            let offset = offset.ok_or_else(|| format!("PDF object {number} was never written"))?;
            let _ = writeln!(self.buf, "{offset:010} 00000 n ");
            if self.buf.len() >= CHUNK {
                self.send();
            }
        }
        let _ = write!(
            self.buf,
            "trailer\n<< /Size {} /Root {root} /Info {info} >>\nstartxref\n{start}\n%%EOF\n",
            offsets.len()
        );
        self.send();
        Ok(self.connected)
    }
}

/// A text string for the document information or an outline: UTF-16BE with a byte-order mark,
/// as hex, so any script survives (PDFDocEncoding is Latin only).
pub fn text_string(text: &str) -> String {
    let mut out = String::with_capacity(6 + text.len() * 4);
    out.push_str("<FEFF");
    for unit in text.encode_utf16() {
        out.push_str(&format!("{unit:04X}"));
    }
    out.push('>');
    out
}

/// A name object (`/Name`), with characters outside the regular set escaped as `#xx`.
pub fn name(text: &str) -> String {
    let mut out = String::from("/");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.+".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("#{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(haystack: &[u8], needle: &[u8]) -> usize {
        haystack.windows(needle.len()).rposition(|w| w == needle).unwrap()
    }

    #[test]
    fn offsets_point_at_their_objects_across_chunks() {
        let mut out = Vec::new();
        let mut chunks = 0;
        let mut emit = |b: Bytes| {
            out.extend_from_slice(&b);
            chunks += 1;
            true
        };
        let mut writer = Writer::new(&mut emit);
        let root = writer.reserve();
        let big = writer.reserve();
        let info = writer.reserve();
        // Bytes that do not compress, so the stream spans several chunks.
        let mut state = 1u32;
        let noise: Vec<u8> = (0..CHUNK * 3)
            .map(|_| {
                state = state.wrapping_mul(1103515245).wrapping_add(12345);
                (state >> 16) as u8
            })
            .collect();
        writer.stream(big, "", &noise);
        writer.object(info, "<< /Producer (test) >>");
        writer.object(root, "<< /Type /Catalog >>");
        assert!(writer.finish(root, info).unwrap());
        assert!(chunks >= 2, "{chunks}");
        let xref = find(&out, b"\nxref\n") + 1;
        let table = std::str::from_utf8(&out[xref..]).unwrap();
        for (number, entry) in (1..).zip(table.lines().skip(3).take(3)) {
            let offset: usize = entry[..10].parse().unwrap();
            assert!(out[offset..].starts_with(format!("{number} 0 obj\n").as_bytes()), "object {number}");
        }
        let start: usize = table.lines().rev().nth(1).unwrap().parse().unwrap();
        assert_eq!(start, xref);
    }

    #[test]
    fn an_object_reserved_and_never_written_is_an_error() {
        let mut emit = |_: Bytes| true;
        let mut writer = Writer::new(&mut emit);
        let root = writer.reserve();
        let info = writer.reserve();
        writer.object(root, "<< >>");
        assert!(writer.finish(root, info).unwrap_err().contains("never written"));
    }

    #[test]
    fn strings_and_names_are_escaped() {
        assert_eq!(text_string("Zoë — 张"), "<FEFF005A006F00EB0020201400205F20>");
        assert_eq!(name("A+B c/d"), "/A+B#20c#2Fd");
    }
}
