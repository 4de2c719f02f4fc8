//! [MC-NBFX] binary XML → XML text. The text then goes through the same codec as any text
//! envelope, so analysis and views get the same model whichever encoding was on the wire.
//! Typed text records are rendered as WCF's XmlConverter does (the spec's examples, not its
//! prose, where they differ).

use super::nbfs;
use super::session::Session;
use super::values;
use std::fmt::Write;

/// Elements open at once (the text codec's own limit).
pub const MAX_DEPTH: usize = 64;
/// Largest XML text a document may expand to (the text codec's message limit).
pub const MAX_OUTPUT: usize = 16 * 1024 * 1024;

/// Why a binary document cannot be read: what, and the byte offset in the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryError {
    pub offset: usize,
    pub what: String,
}

impl std::fmt::Display for BinaryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.offset)
    }
}

impl std::error::Error for BinaryError {}

pub(super) struct Reader<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub fn err(&self, what: impl Into<String>) -> BinaryError {
        BinaryError {
            offset: self.pos,
            what: what.into(),
        }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], BinaryError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let Some(end) = end else {
            return Err(self.err(format!(
                "truncated: {n} bytes needed, {} left",
                self.data.len() - self.pos
            )));
        };
        let b = &self.data[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    pub fn u8(&mut self) -> Result<u8, BinaryError> {
        Ok(self.bytes(1)?[0])
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], BinaryError> {
        Ok(self.bytes(N)?.try_into().expect("N bytes"))
    }

    /// [MC-NBFX] §2.1.2 MultiByteInt31: 7 bits a byte, least significant first, ≤ 5 bytes.
    pub fn mb31(&mut self) -> Result<u32, BinaryError> {
        let start = self.pos;
        let mut v: u32 = 0;
        for i in 0..5 {
            let b = self.u8()?;
            // The 5th byte has 3 bits left (System.Xml XmlBufferReader.ReadMultiByteUInt31).
            if i == 4 && b & 0xF8 != 0 {
                self.pos = start;
                return Err(self.err("MultiByteInt31 larger than 2^31-1"));
            }
            v |= u32::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        unreachable!("the fifth byte always ends the number")
    }

    /// [MC-NBFX] §2.1.3 String: MultiByteInt31 length, UTF-8.
    pub fn string(&mut self) -> Result<&'a str, BinaryError> {
        let n = self.mb31()? as usize;
        self.utf8(n)
    }

    pub fn utf8(&mut self, n: usize) -> Result<&'a str, BinaryError> {
        let at = self.pos;
        let b = self.bytes(n)?;
        std::str::from_utf8(b).map_err(|_| BinaryError {
            offset: at,
            what: "string is not UTF-8".into(),
        })
    }
}

/// Where the dictionary strings come from.
pub struct Dictionaries<'s> {
    pub session: Option<&'s Session>,
}

impl Dictionaries<'_> {
    /// [MC-NBFX] §2.1.4: even ids are [MC-NBFS]'s static table, odd ids the session's.
    fn get(&self, r: &Reader<'_>, id: u32) -> Result<&str, BinaryError> {
        let s = if id.is_multiple_of(2) {
            nbfs::lookup(id)
        } else {
            self.session.and_then(|s| s.get(id))
        };
        s.ok_or_else(|| r.err(format!("dictionary string {id} was never defined")))
    }
}

/// Escapes text for element content (`attr` false) or a double-quoted attribute value.
/// Runs of ordinary characters are copied whole: this is most of what a body's text costs.
pub(super) fn escape(out: &mut String, s: &str, attr: bool) {
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        i += ordinary_run(&b[i..], attr);
        let Some(&c) = b.get(i) else { break };
        // 0xEF leads U+FFFE and U+FFFF (EF BF BE / EF BF BF) but also ordinary characters.
        let len = if c == 0xEF {
            if b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)) {
                3
            } else {
                i += 1;
                continue;
            }
        } else {
            1
        };
        out.push_str(&s[start..i]);
        match c {
            b'&' => out.push_str("&amp;"),
            b'<' => out.push_str("&lt;"),
            b'>' => out.push_str("&gt;"),
            b'"' => out.push_str("&quot;"),
            // [MC-NBFX] §2.2.3.13.1: characters XML 1.0 cannot carry as character references;
            // tab, CR and LF too, so that attribute-value and line-end normalisation keep them.
            _ => {
                let ch = s[i..].chars().next().unwrap_or('\u{FFFD}');
                let _ = write!(out, "&#{};", ch as u32);
            }
        }
        i += len;
        start = i;
    }
    out.push_str(&s[start..]);
}

fn is_special(c: u8, attr: bool) -> bool {
    c < 0x20 || matches!(c, b'&' | b'<' | b'>' | 0xEF) || (attr && c == b'"')
}

/// How many bytes at the start of `b` need no escaping; eight at a time while none does.
fn ordinary_run(b: &[u8], attr: bool) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Non-zero when some byte of `v` is below `n` (n ≤ 0x80); exact as to "some".
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGH;
    let equal = |v: u64, c: u8| below(v ^ (ONES * u64::from(c)), 1);
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let v = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let quote = if attr { equal(v, b'"') } else { 0 };
        if below(v, 0x20) | equal(v, b'&') | equal(v, b'<') | equal(v, b'>') | equal(v, 0xEF) | quote != 0 {
            break;
        }
        i += 8;
    }
    i + b[i..]
        .iter()
        .position(|&c| is_special(c, attr))
        .unwrap_or(b.len() - i)
}

struct Writer<'d, 's> {
    out: String,
    /// Qualified names of the open elements, one after another (`open` says where each starts):
    /// one buffer instead of a String per element.
    names: String,
    open: Vec<usize>,
    /// An element's start tag is still open (attributes may follow).
    in_tag: bool,
    dict: &'d Dictionaries<'s>,
    /// Reused for text that is rendered before it is escaped.
    scratch: String,
}

impl Writer<'_, '_> {
    fn check_size(&self, r: &Reader<'_>) -> Result<(), BinaryError> {
        if self.out.len() > MAX_OUTPUT {
            return Err(r.err(format!("document expands beyond {MAX_OUTPUT} bytes of XML")));
        }
        Ok(())
    }

    fn close_tag(&mut self) {
        if self.in_tag {
            self.out.push('>');
            self.in_tag = false;
        }
    }

    fn start(&mut self, r: &Reader<'_>, prefix: &str, name: &str) -> Result<(), BinaryError> {
        if self.open.len() >= MAX_DEPTH {
            return Err(r.err(format!("elements nested deeper than {MAX_DEPTH}")));
        }
        self.close_tag();
        let from = self.names.len();
        if !prefix.is_empty() {
            self.names.push_str(prefix);
            self.names.push(':');
        }
        self.names.push_str(name);
        self.out.push('<');
        self.out.push_str(&self.names[from..]);
        self.open.push(from);
        self.in_tag = true;
        Ok(())
    }

    /// The innermost open element's qualified name.
    fn current(&self) -> &str {
        self.open.last().map_or("", |&from| &self.names[from..])
    }

    fn end(&mut self, r: &Reader<'_>) -> Result<(), BinaryError> {
        let Some(from) = self.open.pop() else {
            return Err(r.err("EndElement with no element open"));
        };
        if self.in_tag {
            self.out.push_str("/>");
            self.in_tag = false;
        } else {
            self.out.push_str("</");
            self.out.push_str(&self.names[from..]);
            self.out.push('>');
        }
        self.names.truncate(from);
        Ok(())
    }

    fn attr_start(&mut self, r: &Reader<'_>, prefix: &str, name: &str) -> Result<(), BinaryError> {
        if !self.in_tag {
            return Err(r.err("attribute record outside a start tag"));
        }
        self.out.push(' ');
        if !prefix.is_empty() {
            self.out.push_str(prefix);
            self.out.push(':');
        }
        self.out.push_str(name);
        self.out.push_str("=\"");
        Ok(())
    }
}

/// Prefix letter of the a–z record ranges.
fn letter(t: u8, base: u8) -> &'static str {
    const LETTERS: &str = "abcdefghijklmnopqrstuvwxyz";
    let i = usize::from(t - base);
    &LETTERS[i..i + 1]
}

/// Transcodes one NBFX document to XML text.
pub fn to_xml(doc: &[u8], dict: &Dictionaries<'_>) -> Result<String, BinaryError> {
    let mut r = Reader::new(doc);
    let mut w = Writer {
        out: String::with_capacity(doc.len() * 3),
        names: String::new(),
        open: Vec::new(),
        in_tag: false,
        dict,
        scratch: String::new(),
    };
    while !r.at_end() {
        let at = r.pos;
        let t = r.u8()?;
        match t {
            0x01 => w.end(&r)?,
            0x02 => {
                let s = r.string()?;
                w.close_tag();
                w.out.push_str("<!--");
                w.out.push_str(&s.replace("--", "- -"));
                w.out.push_str("-->");
            }
            0x03 => array(&mut r, &mut w)?,
            0x04..=0x3F => attribute(&mut r, &mut w, t)?,
            0x40..=0x77 => element(&mut r, &mut w, t)?,
            0x80..=0xBD if t != 0xA5 && t != 0xA7 => {
                if w.open.is_empty() {
                    return Err(BinaryError {
                        offset: at,
                        what: "text outside the document element".into(),
                    });
                }
                w.close_tag();
                let ends = if matches!(t & !1, 0x98 | 0x9A | 0x9C) {
                    // Chars: escaped straight from the input (most of a body's bytes).
                    escape(&mut w.out, values::chars(&mut r, t)?, false);
                    t % 2 == 1
                } else {
                    let mut text = std::mem::take(&mut w.scratch);
                    text.clear();
                    let ends = text_record(&mut r, dict, t, &mut text)?;
                    escape(&mut w.out, &text, false);
                    w.scratch = text;
                    ends
                };
                if ends {
                    w.end(&r)?;
                }
            }
            _ => {
                return Err(BinaryError {
                    offset: at,
                    what: format!("unknown record type 0x{t:02X}"),
                });
            }
        }
        w.check_size(&r)?;
    }
    if !w.open.is_empty() {
        return Err(r.err(format!("truncated: {} element(s) still open", w.open.len())));
    }
    Ok(w.out)
}

fn element(r: &mut Reader<'_>, w: &mut Writer<'_, '_>, t: u8) -> Result<(), BinaryError> {
    // [MC-NBFX] §2.2.1 element records.
    let dict = w.dict;
    match t {
        0x40 => {
            let name = r.string()?;
            w.start(r, "", name)
        }
        0x41 => {
            let prefix = r.string()?;
            let name = r.string()?;
            w.start(r, prefix, name)
        }
        0x42 => {
            let id = r.mb31()?;
            w.start(r, "", dict.get(r, id)?)
        }
        0x43 => {
            let prefix = r.string()?;
            let id = r.mb31()?;
            w.start(r, prefix, dict.get(r, id)?)
        }
        0x44..=0x5D => {
            let id = r.mb31()?;
            w.start(r, letter(t, 0x44), dict.get(r, id)?)
        }
        _ => {
            let name = r.string()?;
            w.start(r, letter(t, 0x5E), name)
        }
    }
}

fn attribute(r: &mut Reader<'_>, w: &mut Writer<'_, '_>, t: u8) -> Result<(), BinaryError> {
    // [MC-NBFX] §2.2.2 attribute records: the (prefix, name), then the value — a string or
    // dictionary string for the xmlns records, a text record for the others.
    let dict = w.dict;
    let (prefix, name): (&str, &str) = match t {
        0x04 => ("", r.string()?),
        0x08 | 0x0A => ("", "xmlns"),
        0x05 => {
            let p = r.string()?;
            (p, r.string()?)
        }
        0x09 | 0x0B => ("xmlns", r.string()?),
        0x06 => {
            let id = r.mb31()?;
            ("", dict.get(r, id)?)
        }
        0x07 => {
            let p = r.string()?;
            let id = r.mb31()?;
            (p, dict.get(r, id)?)
        }
        0x0C..=0x25 => {
            let id = r.mb31()?;
            (letter(t, 0x0C), dict.get(r, id)?)
        }
        _ => (letter(t, 0x26), r.string()?),
    };
    w.attr_start(r, prefix, name)?;
    match t {
        0x08 | 0x09 => escape(&mut w.out, r.string()?, true),
        0x0A | 0x0B => {
            let id = r.mb31()?;
            escape(&mut w.out, dict.get(r, id)?, true)
        }
        _ => {
            let mut v = std::mem::take(&mut w.scratch);
            v.clear();
            attribute_value(r, dict, &mut v)?;
            escape(&mut w.out, &v, true);
            w.scratch = v;
        }
    }
    w.out.push('"');
    Ok(())
}

/// An attribute's value: one text record (not a *WithEndElement one), or a list.
fn attribute_value(r: &mut Reader<'_>, dict: &Dictionaries<'_>, out: &mut String) -> Result<(), BinaryError> {
    let at = r.pos;
    let t = r.u8()?;
    if !(0x80..=0xBD).contains(&t) || t % 2 == 1 {
        return Err(BinaryError {
            offset: at,
            what: format!("record 0x{t:02X} cannot be an attribute value"),
        });
    }
    text_record(r, dict, t, out).map(|_| ())
}

/// One text record (its type byte already read) appended to `out`; true when it also ends the
/// element (*WithEndElement).
fn text_record(
    r: &mut Reader<'_>,
    dict: &Dictionaries<'_>,
    t: u8,
    out: &mut String,
) -> Result<bool, BinaryError> {
    let ends = t % 2 == 1;
    let base = t & !1;
    if base == 0xA4 {
        if ends {
            return Err(r.err("record 0xA5 is reserved"));
        }
        // [MC-NBFX] §2.2.3.17: items up to EndListText, joined by one space; no nesting.
        let mut first = true;
        loop {
            let at = r.pos;
            let t = r.u8()?;
            if t == 0xA6 {
                return Ok(false);
            }
            if !(0x80..=0xBD).contains(&t) || t % 2 == 1 || t == 0xA4 {
                return Err(BinaryError {
                    offset: at,
                    what: format!("record 0x{t:02X} cannot be a list item"),
                });
            }
            if !first {
                out.push(' ');
            }
            first = false;
            text_record(r, dict, t, out)?;
            if out.len() > MAX_OUTPUT {
                return Err(r.err("list expands beyond the size limit"));
            }
        }
    }
    values::render(r, base, out, |r, id| dict.get(r, id).map(str::to_string))?;
    Ok(ends)
}

/// [MC-NBFX] §2.2.4 Array: an element (with attributes) repeated for each fixed-size value.
fn array(r: &mut Reader<'_>, w: &mut Writer<'_, '_>) -> Result<(), BinaryError> {
    let at = r.pos;
    let t = r.u8()?;
    if !(0x40..=0x77).contains(&t) {
        return Err(BinaryError {
            offset: at,
            what: "array without an element".into(),
        });
    }
    // Render the element's start tag once into a scratch writer, then copy it per item.
    let mut scratch = Writer {
        out: String::new(),
        names: String::new(),
        open: Vec::new(),
        in_tag: false,
        dict: w.dict,
        scratch: String::new(),
    };
    element(r, &mut scratch, t)?;
    loop {
        let at = r.pos;
        match r.u8()? {
            0x01 => break,
            a @ 0x04..=0x3F => attribute(r, &mut scratch, a)?,
            other => {
                return Err(BinaryError {
                    offset: at,
                    what: format!("record 0x{other:02X} inside an array's element"),
                });
            }
        }
    }
    let item = r.u8()?;
    let size = match item {
        0xB5 => 1,
        0x8B => 2,
        0x8D | 0x91 => 4,
        0x8F | 0x93 | 0x97 | 0xAF => 8,
        0x95 | 0xB1 => 16,
        _ => return Err(r.err(format!("record 0x{item:02X} cannot be an array item"))),
    };
    let count = r.mb31()? as usize;
    if count == 0 {
        return Err(r.err("array of 0 items"));
    }
    if count.saturating_mul(size) > r.data.len() - r.pos {
        return Err(r.err(format!("truncated: array of {count} items")));
    }
    let name = scratch.current().to_string();
    let start_tag = scratch.out;
    w.close_tag();
    for _ in 0..count {
        w.out.push_str(&start_tag);
        w.out.push('>');
        let mut text = String::new();
        values::render(r, item & !1, &mut text, |r, _| {
            Err(r.err("no dictionary in arrays"))
        })?;
        w.out.push_str(&text);
        w.out.push_str("</");
        w.out.push_str(&name);
        w.out.push('>');
        w.check_size(r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_copies_runs_and_replaces_what_xml_cannot_carry() {
        let cases = [
            ("plain text", false, "plain text"),
            ("a<b>&c\"d", false, "a&lt;b&gt;&amp;c\"d"),
            ("a\"b", true, "a&quot;b"),
            ("tab\there\r\nend", false, "tab&#9;here&#13;&#10;end"),
            ("\u{1}x\u{FFFE}y\u{FFFF}", false, "&#1;x&#65534;y&#65535;"),
            // 0xEF leads other characters too: kept as they are.
            ("\u{FEFF}\u{F000}é€", false, "\u{FEFF}\u{F000}é€"),
            ("", true, ""),
        ];
        for (input, attr, expect) in cases {
            let mut out = String::from("^");
            escape(&mut out, input, attr);
            assert_eq!(out, format!("^{expect}"), "{input:?}");
        }
    }

    #[test]
    fn the_eight_byte_scan_finds_every_special_at_every_position() {
        let naive = |s: &str, attr: bool| {
            let mut o = String::new();
            for c in s.chars() {
                match c {
                    '&' => o.push_str("&amp;"),
                    '<' => o.push_str("&lt;"),
                    '>' => o.push_str("&gt;"),
                    '"' if attr => o.push_str("&quot;"),
                    c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                        o.push_str(&format!("&#{};", c as u32))
                    }
                    c => o.push(c),
                }
            }
            o
        };
        for special in [
            "&", "<", ">", "\"", "\u{0}", "\u{1F}", "\u{FFFF}", "\u{FFFE}", "\u{EFFF}", "\u{7F}", "é",
        ] {
            for at in 0..20 {
                let s = format!("{}{special}{}", "a".repeat(at), "b".repeat(19 - at));
                for attr in [false, true] {
                    let mut out = String::new();
                    escape(&mut out, &s, attr);
                    assert_eq!(out, naive(&s, attr), "{s:?}");
                }
            }
        }
    }
}
