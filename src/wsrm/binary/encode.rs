//! XML text → [MC-NBFX] binary XML, the way WCF's binary encoder writes a message: names and
//! namespaces from the [MC-NBFS] static dictionary where they are in it, otherwise (with a
//! session, msbinsession1) added once to the [MC-NBFSE] in-band dictionary and referenced after;
//! numbers, booleans and UniqueIds as typed text records. Used to export sessions as net.tcp
//! captures; `to_xml` of the result gives the same XML (whitespace-only text aside).

use super::nbfs;
use quick_xml::events::{BytesStart, Event};
use rustc_hash::FxHashMap;
use std::sync::OnceLock;

/// WCF's `BinaryMessageEncodingBindingElement.MaxSessionSize` default: bytes of strings one
/// direction's session dictionary may hold. Strings beyond it are written inline.
pub const WCF_MAX_SESSION_SIZE: usize = 2048;

/// Strings longer than this are never worth a dictionary entry.
const MAX_DICTIONARY_STRING: usize = 256;

/// The writer's side of one direction's session dictionary ([MC-NBFSE] §2).
#[derive(Clone, Debug, Default)]
pub struct WriterSession {
    ids: FxHashMap<String, u32>,
    bytes: usize,
}

impl WriterSession {
    pub fn new() -> Self {
        WriterSession::default()
    }
}

fn static_ids() -> &'static FxHashMap<&'static str, u32> {
    static IDS: OnceLock<FxHashMap<&'static str, u32>> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut m = FxHashMap::default();
        for (i, s) in nbfs::STATIC.iter().enumerate() {
            if !s.is_empty() {
                m.entry(*s).or_insert(2 * i as u32);
            }
        }
        m
    })
}

/// Encodes one XML document. With `session` (msbinsession1) the result starts with the
/// StringTable of the strings this document added to it.
pub fn encode(xml: &str, session: Option<&mut WriterSession>) -> Result<Vec<u8>, String> {
    let mut w = Writer {
        out: Vec::with_capacity(xml.len() / 2 + 16),
        session,
        added: Vec::new(),
        text: String::new(),
        depth: 0,
    };
    w.document(xml)?;
    if w.session.is_none() {
        return Ok(w.out);
    }
    let mut table = Vec::new();
    for s in &w.added {
        mb31(&mut table, s.len());
        table.extend_from_slice(s.as_bytes());
    }
    let mut out = Vec::with_capacity(table.len() + 5 + w.out.len());
    mb31(&mut out, table.len());
    out.extend_from_slice(&table);
    out.extend_from_slice(&w.out);
    Ok(out)
}

/// [MC-NBFX] §2.1.2 MultiByteInt31.
pub fn mb31(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7F) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn string(out: &mut Vec<u8>, s: &str) {
    mb31(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

struct Writer<'s> {
    out: Vec<u8>,
    session: Option<&'s mut WriterSession>,
    /// Strings this document added to the session, in id order.
    added: Vec<String>,
    /// Character data not yet written (text records are written when the next markup comes).
    text: String,
    depth: usize,
}

impl Writer<'_> {
    fn document(&mut self, xml: &str) -> Result<(), String> {
        let mut r = quick_xml::Reader::from_str(xml);
        loop {
            let at = r.buffer_position();
            let ev = r.read_event().map_err(|e| format!("XML at byte {at}: {e}"))?;
            match ev {
                Event::Start(e) => {
                    self.flush_text(false);
                    self.start(&e)?;
                    self.depth += 1;
                }
                Event::Empty(e) => {
                    self.flush_text(false);
                    self.start(&e)?;
                    self.out.push(0x01);
                }
                Event::End(_) => {
                    // The last text of an element carries the end: *TextWithEndElement.
                    if !self.flush_text(true) {
                        self.out.push(0x01);
                    }
                    self.depth = self.depth.saturating_sub(1);
                }
                Event::Text(t) => self.text.push_str(&t.xml10_content()),
                Event::CData(t) => self.text.push_str(&t.xml10_content()),
                Event::GeneralRef(g) => match g.resolve_char_ref() {
                    Ok(Some(c)) => self.text.push(c),
                    _ => self.text.push_str(match &*g {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "apos" => "'",
                        "quot" => "\"",
                        other => return Err(format!("XML at byte {at}: entity &{other}; is not defined")),
                    }),
                },
                Event::Comment(c) => {
                    self.flush_text(false);
                    self.out.push(0x02);
                    string(&mut self.out, &c.xml10_content());
                }
                Event::Decl(_) => {}
                Event::PI(_) | Event::DocType(_) => {
                    return Err(format!(
                        "XML at byte {at}: processing instructions and DTDs have no binary form"
                    ));
                }
                Event::Eof => break,
            }
        }
        if self.depth != 0 {
            return Err("XML ends inside an element".into());
        }
        Ok(())
    }

    /// A dictionary id for `s`: static, in the session, or newly added to the session.
    fn id(&mut self, s: &str, may_add: bool) -> Option<u32> {
        if let Some(&id) = static_ids().get(s) {
            return Some(id);
        }
        let session = self.session.as_deref_mut()?;
        if let Some(&id) = session.ids.get(s) {
            return Some(id);
        }
        if !may_add
            || s.is_empty()
            || s.len() > MAX_DICTIONARY_STRING
            || session.bytes + s.len() > WCF_MAX_SESSION_SIZE
        {
            return None;
        }
        let id = 2 * session.ids.len() as u32 + 1;
        session.ids.insert(s.to_string(), id);
        session.bytes += s.len();
        self.added.push(s.to_string());
        Some(id)
    }

    /// The record naming an element or attribute: the shortest form its prefix and name allow.
    fn name_record(&mut self, qname: &str, r: &NameRecords) {
        let (prefix, local) = split(qname);
        match (self.id(local, true), prefix, single_letter(prefix)) {
            (Some(id), "", _) => {
                self.out.push(r.short_dictionary);
                mb31(&mut self.out, id as usize);
            }
            (Some(id), _, Some(l)) => {
                self.out.push(r.prefix_dictionary + l);
                mb31(&mut self.out, id as usize);
            }
            (Some(id), p, None) => {
                self.out.push(r.dictionary);
                string(&mut self.out, p);
                mb31(&mut self.out, id as usize);
            }
            (None, "", _) => {
                self.out.push(r.short);
                string(&mut self.out, local);
            }
            (None, _, Some(l)) => {
                self.out.push(r.prefix + l);
                string(&mut self.out, local);
            }
            (None, p, None) => {
                self.out.push(r.full);
                string(&mut self.out, p);
                string(&mut self.out, local);
            }
        }
    }

    /// [MC-NBFX] §2.2.1 element records: Short*/Prefix* forms for no prefix and a–z prefixes.
    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), String> {
        let name = e.name();
        self.name_record(name.0, &ELEMENT);
        for a in e.attributes() {
            let a = a.map_err(|err| format!("attribute of <{}>: {err}", name.0))?;
            let value = quick_xml::escape::unescape(&a.value)
                .map_err(|err| format!("attribute of <{}>: {err}", name.0))?;
            self.attribute(a.key.0, &value);
        }
        Ok(())
    }

    /// [MC-NBFX] §2.2.2 attribute records (xmlns declarations included).
    fn attribute(&mut self, key: &str, value: &str) {
        if key == "xmlns" || key.starts_with("xmlns:") {
            let prefix = key.strip_prefix("xmlns:").unwrap_or("");
            match (self.id(value, true), prefix) {
                (Some(id), "") => {
                    self.out.push(0x0A);
                    mb31(&mut self.out, id as usize);
                }
                (Some(id), p) => {
                    self.out.push(0x0B);
                    string(&mut self.out, p);
                    mb31(&mut self.out, id as usize);
                }
                (None, "") => {
                    self.out.push(0x08);
                    string(&mut self.out, value);
                }
                (None, p) => {
                    self.out.push(0x09);
                    string(&mut self.out, p);
                    string(&mut self.out, value);
                }
            }
            return;
        }
        self.name_record(key, &ATTRIBUTE);
        self.value(value, false);
    }

    /// Writes pending character data; true when the record also ended the element.
    fn flush_text(&mut self, ends: bool) -> bool {
        if self.text.trim().is_empty() {
            // Whitespace between elements: WCF's writer has none to write.
            self.text.clear();
            return false;
        }
        let text = std::mem::take(&mut self.text);
        self.value(&text, ends);
        true
    }

    /// [MC-NBFX] §2.2.3 the smallest text record that gives back exactly `v`.
    fn value(&mut self, v: &str, ends: bool) {
        let end = u8::from(ends);
        // Empty, Zero, One, False and True text: the record alone is the value.
        let alone = match v {
            "" => Some(0xA8),
            "0" => Some(0x80),
            "1" => Some(0x82),
            "false" => Some(0x84),
            "true" => Some(0x86),
            _ => None,
        };
        if let Some(t) = alone {
            self.out.push(t | end);
            return;
        }
        if let Some(n) = canonical_integer(v) {
            if let Ok(b) = i8::try_from(n) {
                self.out.push(0x88 | end);
                self.out.push(b as u8);
            } else if let Ok(s) = i16::try_from(n) {
                self.out.push(0x8A | end);
                self.out.extend_from_slice(&s.to_le_bytes());
            } else if let Ok(i) = i32::try_from(n) {
                self.out.push(0x8C | end);
                self.out.extend_from_slice(&i.to_le_bytes());
            } else {
                self.out.push(0x8E | end);
                self.out.extend_from_slice(&n.to_le_bytes());
            }
            return;
        }
        if let Some(g) = v.strip_prefix("urn:uuid:").and_then(guid_bytes) {
            self.out.push(0xAC | end);
            self.out.extend_from_slice(&g);
            return;
        }
        // URIs (actions, addresses) repeat from message to message: dictionary strings.
        let worth = v.starts_with("http://") || v.starts_with("https://") || v.starts_with("urn:");
        if let Some(id) = self.id(v, worth) {
            self.out.push(0xAA | end);
            mb31(&mut self.out, id as usize);
            return;
        }
        let b = v.as_bytes();
        if let Ok(n) = u8::try_from(b.len()) {
            self.out.push(0x98 | end);
            self.out.push(n);
        } else if let Ok(n) = u16::try_from(b.len()) {
            self.out.push(0x9A | end);
            self.out.extend_from_slice(&n.to_le_bytes());
        } else {
            self.out.push(0x9C | end);
            self.out.extend_from_slice(&(b.len() as i32).to_le_bytes());
        }
        self.out.extend_from_slice(b);
    }
}

/// The record types naming an element or an attribute ([MC-NBFX] §2.2.1 / §2.2.2): by
/// dictionary id or by string, each without a prefix, with a one-letter prefix (a–z: the base
/// plus the letter), or with any other prefix.
struct NameRecords {
    short_dictionary: u8,
    dictionary: u8,
    prefix_dictionary: u8,
    short: u8,
    full: u8,
    prefix: u8,
}

const ELEMENT: NameRecords = NameRecords {
    short_dictionary: 0x42,
    dictionary: 0x43,
    prefix_dictionary: 0x44,
    short: 0x40,
    full: 0x41,
    prefix: 0x5E,
};

const ATTRIBUTE: NameRecords = NameRecords {
    short_dictionary: 0x06,
    dictionary: 0x07,
    prefix_dictionary: 0x0C,
    short: 0x04,
    full: 0x05,
    prefix: 0x26,
};

fn split(qname: &str) -> (&str, &str) {
    qname.split_once(':').unwrap_or(("", qname))
}

/// a–z as 0–25 (the Prefix* record families).
fn single_letter(prefix: &str) -> Option<u8> {
    match prefix.as_bytes() {
        [c @ b'a'..=b'z'] => Some(c - b'a'),
        _ => None,
    }
}

/// An integer written the way `i64` prints it (so the text comes back unchanged).
fn canonical_integer(v: &str) -> Option<i64> {
    let n: i64 = v.parse().ok()?;
    (n.to_string() == v).then_some(n)
}

/// A lowercase `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` GUID in .NET's byte order (the first three
/// groups little-endian), as UniqueIdText carries it ([MC-NBFX] §2.2.3.26).
fn guid_bytes(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let hex: Vec<u8> = b.iter().copied().filter(|&c| c != b'-').collect();
    if hex.len() != 32 || !hex.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut raw = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        raw[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    let mut g = raw;
    g[0..4].copy_from_slice(&[raw[3], raw[2], raw[1], raw[0]]);
    g[4..6].copy_from_slice(&[raw[5], raw[4]]);
    g[6..8].copy_from_slice(&[raw[7], raw[6]]);
    Some(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsrm::binary::{Dictionaries, Session, to_xml};

    #[test]
    fn records_are_the_specs() {
        // [MC-NBFX] §3 examples: ShortDictionaryElement Body, Int8/UniqueId text with end.
        assert_eq!(encode("<Body></Body>", None).unwrap(), [0x42, 0x0E, 0x01]);
        assert_eq!(
            encode("<qq>-3</qq>", None).unwrap(),
            [0x40, 2, b'q', b'q', 0x89, 0xFD]
        );
        let g = encode("<doc>urn:uuid:33221100-5544-7766-8899-aabbccddeeff</doc>", None).unwrap();
        assert_eq!(
            g[5..],
            [
                0xAD, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD,
                0xEE, 0xFF
            ]
        );
    }

    #[test]
    fn the_session_adds_a_string_once_and_the_reader_agrees() {
        let xml = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:x="urn:example"><s:Body><x:Ping n="42">urn:example:op</x:Ping></s:Body></s:Envelope>"#;
        let mut w = WriterSession::new();
        let mut r = Session::new();
        let first = encode(xml, Some(&mut w)).unwrap();
        let second = encode(xml, Some(&mut w)).unwrap();
        assert!(
            second.len() < first.len(),
            "the second envelope uses the first's strings"
        );
        assert_eq!(second[0], 0, "no new strings: an empty StringTable");
        for payload in [&first, &second] {
            let skip = r.read_table(payload).unwrap();
            let back = to_xml(&payload[skip..], &Dictionaries { session: Some(&r) }).unwrap();
            assert_eq!(back, xml);
        }
    }

    #[test]
    fn text_comes_back_exactly() {
        for v in [
            "007",
            "+5",
            "-0",
            "9223372036854775807",
            "-129",
            "70000",
            "true",
            "x & <y>",
            "urn:uuid:ABC",
            "",
        ] {
            let xml = format!(
                "<v a=\"{}\">{}</v>",
                quick_xml::escape::escape(v),
                quick_xml::escape::escape(v)
            );
            let bin = encode(&xml, None).unwrap();
            let back = to_xml(&bin, &Dictionaries { session: None }).unwrap();
            let expect = if v.is_empty() {
                "<v a=\"\"></v>".to_string()
            } else {
                xml.clone()
            };
            assert_eq!(back.replace("<v a=\"\"/>", "<v a=\"\"></v>"), expect, "{v}");
        }
    }

    #[test]
    fn bad_xml_is_an_error() {
        assert!(encode("<a><b></a>", None).is_err());
        assert!(encode("<a>", None).is_err());
        assert!(encode("<!DOCTYPE a><a/>", None).is_err());
    }
}
