//! The fast path for the envelopes WCF (and most stacks) write: prefixed WS-Addressing and
//! WS-RM header blocks, no comments, entities, CDATA or processing instructions, and an
//! application body or none. A byte scanner reads the header and builds exactly the
//! [`Decoded`] the full decoder would build — or gives up (`None`) and the full decoder runs.
//!
//! Two rules keep it equal to the full decoder: it accepts only a strict subset of what the
//! full decoder accepts (anything it does not know, anything odd, is a fallback), and it never
//! warns — every case where the full decoder would add a warning is a fallback too. Checked
//! against the full decoder on every sample message and capture (tests) and by a differential
//! fuzz target (`fuzz/fuzz_targets/decode_fast.rs`).
//!
//! Why: the capture summary needs only the headers, and tokenising them with the general XML
//! reader and namespace scope was ~60 % of the instructions of `analyze` on WCF-style traffic.
//! Two per-thread caches exploit that a session's envelopes repeat themselves: start tags by
//! their bytes ([`TagShape`]: a repeated tag is compared, not read) and recent strings
//! (identifiers, actions, addresses: shared, not allocated again). Neither changes a result.

use super::super::model::*;
use super::super::ns::{self, AddressingVersion, KnownNs, RmVersion};
use super::super::xml::is_absolute_uri;
use super::{Decoded, locate_body_end, value};

/// Bounds of the fast path; past them the full decoder (with its own limits) takes over.
const MAX_BINDINGS: usize = 24;
const MAX_ATTRS: usize = 16;
const MAX_DEPTH: usize = 32;
const MAX_RANGES: usize = 64;

/// Decodes `input` (BOM already stripped) if it is in the plain shape; `None` otherwise.
/// Only for strict decoding without keeping the body (the capture and log readers).
pub(super) fn decode(input: &[u8], max_depth: usize) -> Option<Decoded> {
    CACHES.with(|c| decode_with_caches(input, max_depth, &mut c.borrow_mut()))
}

fn decode_with_caches(input: &[u8], max_depth: usize, cache: &mut Caches) -> Option<Decoded> {
    let mut s = Scan {
        cache,
        b: input,
        pos: 0,
        depth: 0,
        max_depth: max_depth.min(MAX_DEPTH),
        bindings: [Binding::EMPTY; MAX_BINDINGS],
        n_bindings: 0,
        valid: "",
    };
    s.skip_ws();
    let mut env_tag = s.open()?;
    let KnownNs::Soap(soap) = env_tag.ns else {
        return None;
    };
    if env_tag.local != b"Envelope" {
        return None;
    }
    let mut m = Model {
        env: Envelope {
            soap: Some(soap),
            ..Envelope::default()
        },
    };
    let mut saw_header = false;
    let body_span = loop {
        // An envelope without a Body is an error of the full decoder: fall back.
        let child = s.next_child(&mut env_tag)??;
        match (child.ns, child.local) {
            // A second Header is legal for the full decoder but rare: fall back.
            (KnownNs::Soap(v), b"Header") if v == soap && !saw_header => {
                saw_header = true;
                m.header(&mut s, child)?;
            }
            (KnownNs::Soap(v), b"Body") if v == soap => {
                break m.body(&mut s, child, &mut env_tag)?;
            }
            _ => return None,
        }
    };
    m.finish()?;
    Some(Decoded {
        envelope: m.env,
        warnings: Vec::new(),
        body_span,
    })
}

/// A start tag accepted before, by its bytes: what reading it found (offsets into it). The
/// same bytes in the same namespace scope read the same, and an envelope's start tags repeat
/// from message to message (WCF's Envelope carries four declarations, most header blocks an
/// attribute), so `Scan::open` compares instead of reading them again.
struct TagShape {
    /// The tag from `<` to `>`.
    raw: Box<[u8]>,
    name_len: usize,
    colon: Option<usize>,
    empty: bool,
    decls: Box<[Declared]>,
}

/// A declaration in a [`TagShape`]: where its prefix and URI are in the tag, what the URI is.
struct Declared {
    prefix: std::ops::Range<usize>,
    uri: std::ops::Range<usize>,
    known: KnownNs,
}

const TAG_SLOTS: usize = 64;

/// The cache slot of a tag's bytes (length, first and last eight bytes).
fn tag_slot(raw: &[u8]) -> usize {
    let word = |s: &[u8]| {
        let mut w = [0u8; 8];
        w[..s.len()].copy_from_slice(s);
        u64::from_le_bytes(w)
    };
    let n = raw.len();
    let h = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ word(&raw[..n.min(8)]).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ word(&raw[n.saturating_sub(8)..]).rotate_left(29);
    (h.wrapping_mul(0x1656_67B1_9E37_79F9) >> 58) as usize % TAG_SLOTS
}

/// Strings seen in recent envelopes on this thread (sequence identifiers, actions, addresses,
/// body names): the same value again is a clone of the shared one, not a new allocation.
/// Unique values (message ids) do not go through it.
struct RecentTexts {
    slots: [Option<Text>; 16],
    next: usize,
}

/// The per-thread caches, borrowed once for a whole envelope.
struct Caches {
    /// Direct-mapped by a hash of the bytes; a new tag replaces the slot's old one.
    tags: Vec<Option<TagShape>>,
    recent: RecentTexts,
}

thread_local! {
    static CACHES: std::cell::RefCell<Caches> = std::cell::RefCell::new(Caches {
        tags: (0..TAG_SLOTS).map(|_| None).collect(),
        recent: RecentTexts { slots: [const { None }; 16], next: 0 },
    });
}

impl RecentTexts {
    /// `s` as a [`Text`], shared with an equal one seen recently.
    fn get(&mut self, s: &str) -> Text {
        if let Some(t) = self.slots.iter().flatten().find(|t| t.as_str() == s) {
            return t.clone();
        }
        let t = Text::from(s);
        self.slots[self.next] = Some(t.clone());
        self.next = (self.next + 1) % self.slots.len();
        t
    }
}

/// A namespace declaration in scope; `level` is the depth of the element that made it.
#[derive(Clone, Copy)]
struct Binding<'a> {
    level: usize,
    prefix: &'a [u8],
    uri: &'a str,
    known: KnownNs,
}

impl Binding<'_> {
    const EMPTY: Binding<'static> = Binding {
        level: 0,
        prefix: b"",
        uri: "",
        known: KnownNs::None,
    };
}

/// A start tag just read; its namespace declarations are in scope until it is closed.
#[derive(Clone, Copy)]
struct Tag<'a> {
    name: &'a [u8],
    local: &'a [u8],
    ns: KnownNs,
    /// The bound namespace URI (none for an unprefixed name without a default namespace).
    uri: Option<&'a str>,
    /// The attribute list as written (already checked), between the name and `>` / `/>`.
    attrs: &'a [u8],
    /// `<a/>`: nothing inside, no end tag.
    empty: bool,
    /// Where `<` is.
    offset: usize,
}

struct Scan<'a, 'c> {
    cache: &'c mut Caches,
    b: &'a [u8],
    pos: usize,
    depth: usize,
    max_depth: usize,
    bindings: [Binding<'a>; MAX_BINDINGS],
    n_bindings: usize,
    /// The longest prefix of the input checked as UTF-8 so far; every string the scanner
    /// returns is a slice of it (one check for the whole header, not one a value).
    valid: &'a str,
}

/// Byte classes for names and whitespace, one table lookup a byte.
const NAME: u8 = 1;
const WS: u8 = 2;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut k = 0;
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':') {
            k |= NAME;
        }
        if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            k |= WS;
        }
        t[c] = k;
        c += 1;
    }
    t
};

fn is_ws(c: u8) -> bool {
    CLASS[c as usize] & WS != 0
}

fn is_name_byte(c: u8) -> bool {
    CLASS[c as usize] & NAME != 0
}

fn name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// Scans the name starting at `b[i]`: an ASCII QName, `local` or `prefix:local`, each part
/// starting with a letter or `_`. Returns (end, prefix, local).
fn scan_qname(b: &[u8], start: usize) -> Option<(usize, &[u8], &[u8])> {
    let mut i = start;
    let mut colon = None;
    while i < b.len() && is_name_byte(b[i]) {
        if b[i] == b':' {
            if colon.is_some() {
                return None;
            }
            colon = Some(i);
        }
        i += 1;
    }
    let local_start = colon.map_or(start, |c| c + 1);
    if !name_start(*b.get(start)?) || !name_start(*b.get(local_start)?) || local_start >= i {
        return None;
    }
    let prefix = colon.map_or(&b[start..start], |c| &b[start..c]);
    Some((i, prefix, &b[local_start..i]))
}

/// Character data from `b[i]` up to the next `<`, if the fast path takes it as is: no entity
/// or character reference, no carriage return (the full decoder normalises line ends), no
/// `]]>`, no control character. Returns where the `<` is. (A folding check, not an early-exit
/// loop, so that the compiler vectorises it.)
fn plain_text_end(b: &[u8], i: usize) -> Option<usize> {
    let end = i + memchr::memchr(b'<', &b[i..])?;
    let t = &b[i..end];
    let suspicious = t
        .iter()
        .fold(false, |s, &c| s | (c < 0x20) | (c == b'&') | (c == b']'));
    if suspicious
        && (t
            .iter()
            .any(|&c| (c < 0x20 && c != b'\t' && c != b'\n') || c == b'&')
            || memchr::memmem::find(t, b"]]>").is_some())
    {
        return None;
    }
    Some(end)
}

/// An attribute value the fast path takes as is: no reference, nothing attribute-value
/// normalisation would change (tabs, line ends), no `<` or `>`.
fn plain_value(v: &[u8]) -> bool {
    !v.iter().fold(false, |bad, &c| {
        bad | (c < 0x20) | (c == b'<') | (c == b'>') | (c == b'&')
    })
}

/// Calls `f` with each attribute (name, value) of an attribute list checked by `Scan::open`.
fn each_attr<'a>(mut a: &'a [u8], mut f: impl FnMut(&'a [u8], &'a [u8]) -> Option<()>) -> Option<()> {
    loop {
        let i = a.iter().position(|c| !is_ws(*c))?;
        a = &a[i..];
        match a.first()? {
            b'>' | b'/' => return Some(()),
            _ => {}
        }
        let n = a.iter().position(|c| !is_name_byte(*c))?;
        let name = &a[..n];
        let eq = n + a[n..].iter().position(|c| !is_ws(*c))?;
        if a[eq] != b'=' {
            return None;
        }
        let q = eq + 1 + a[eq + 1..].iter().position(|c| !is_ws(*c))?;
        let quote = a[q];
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let end = q + 1 + a[q + 1..].iter().position(|c| *c == quote)?;
        f(name, &a[q + 1..end])?;
        a = &a[end + 1..];
    }
}

impl<'a> Scan<'a, '_> {
    /// `s` as a [`Text`], shared with an equal one of a recent envelope.
    fn shared(&mut self, s: &str) -> Text {
        self.cache.recent.get(s)
    }

    /// `b[range]` as a string, if the input is UTF-8 that far.
    fn str(&mut self, range: std::ops::Range<usize>) -> Option<&'a str> {
        if range.end > self.valid.len() {
            self.check_utf8(range.end)?;
        }
        self.valid.get(range)
    }

    /// Extends the checked prefix to at least `upto` bytes (growing it at least twofold, so
    /// the header is checked about once).
    fn check_utf8(&mut self, upto: usize) -> Option<()> {
        let want = upto.max(self.valid.len() * 2).max(1024).min(self.b.len());
        // simdutf8's check is several times faster than std's on ASCII; on an error std's
        // tells how far the input is valid.
        self.valid = match simdutf8::basic::from_utf8(&self.b[..want]) {
            Ok(t) => t,
            Err(_) => {
                let upto = std::str::from_utf8(&self.b[..want]).map_or_else(|e| e.valid_up_to(), str::len);
                std::str::from_utf8(&self.b[..upto]).ok()?
            }
        };
        (self.valid.len() >= upto).then_some(())
    }

    fn skip_ws(&mut self) {
        while self.b.get(self.pos).is_some_and(|c| is_ws(*c)) {
            self.pos += 1;
        }
    }

    /// Reads the start tag at `pos` (`<` then a name), declares its namespaces, resolves its
    /// name. `None` for anything but a plain, well-formed start tag.
    fn read_tag(&mut self) -> Option<Tag<'a>> {
        let b = self.b;
        let offset = self.pos;
        if b.get(offset) != Some(&b'<') {
            return None;
        }
        let (name_end, prefix, local) = scan_qname(b, offset + 1)?;
        let name = &b[offset + 1..name_end];
        self.depth += 1;
        if self.depth > self.max_depth {
            return None;
        }
        // The attributes: whitespace-separated `name="value"`, no duplicate names.
        let mut i = name_end;
        let mut names: [&[u8]; MAX_ATTRS] = [b""; MAX_ATTRS];
        let mut n = 0;
        let empty = loop {
            let ws_start = i;
            while i < b.len() && is_ws(b[i]) {
                i += 1;
            }
            match *b.get(i)? {
                b'>' => {
                    i += 1;
                    break false;
                }
                b'/' if b.get(i + 1) == Some(&b'>') => {
                    i += 2;
                    break true;
                }
                _ if i == ws_start => return None,
                _ => {}
            }
            let an_start = i;
            let (an_end, a_prefix, a_local) = scan_qname(b, i)?;
            let an = &b[an_start..an_end];
            i = an_end;
            while i < b.len() && is_ws(b[i]) {
                i += 1;
            }
            if b.get(i) != Some(&b'=') {
                return None;
            }
            i += 1;
            while i < b.len() && is_ws(b[i]) {
                i += 1;
            }
            let quote = *b.get(i)?;
            if quote != b'"' && quote != b'\'' {
                return None;
            }
            let v_start = i + 1;
            let v_end = v_start + memchr::memchr(quote, &b[v_start..])?;
            if !plain_value(&b[v_start..v_end]) {
                return None;
            }
            let value = &b[v_start..v_end];
            i = v_end + 1;
            if n == MAX_ATTRS || names[..n].contains(&an) {
                return None;
            }
            names[n] = an;
            n += 1;
            match (a_prefix, a_local) {
                (b"", b"xmlns") => self.declare(b"", v_start, value.len())?,
                (b"xmlns", p) => self.declare(p, v_start, value.len())?,
                _ => {}
            }
        };
        if prefix == b"xmlns" || prefix == b"xml" {
            return None;
        }
        let (ns, uri) = self.resolve(prefix)?;
        self.pos = i;
        Some(Tag {
            name,
            local,
            ns,
            uri,
            attrs: &b[name_end..i],
            empty,
            offset,
        })
    }

    /// The start tag at `pos`, through the per-thread [`TagShape`] cache: bytes equal to a
    /// tag read before give what reading them gave, resolved in the current scope.
    fn open(&mut self) -> Option<Tag<'a>> {
        let start = self.pos;
        // A cached tag has no `>` inside a value, so its first `>` is its end.
        let Some(len) = memchr::memchr(b'>', &self.b[start..]).map(|gt| gt + 1) else {
            return self.read_tag();
        };
        let raw = &self.b[start..start + len];
        let slot = tag_slot(raw);
        if let Some(shape) = self.cache.tags[slot].take() {
            let hit = (*shape.raw == *raw).then(|| self.replay(&shape, start));
            self.cache.tags[slot] = Some(shape);
            if let Some(tag) = hit {
                return tag;
            }
        }
        let tag = self.read_tag()?;
        if self.pos == start + len {
            let at = |s: &[u8]| s.as_ptr() as usize - self.b.as_ptr() as usize - start;
            let mut decls = Vec::new();
            for b in self.bindings[..self.n_bindings]
                .iter()
                .filter(|b| b.level == self.depth)
            {
                let p = if b.prefix.is_empty() { 0 } else { at(b.prefix) };
                let u = at(b.uri.as_bytes());
                decls.push(Declared {
                    prefix: p..p + b.prefix.len(),
                    uri: u..u + b.uri.len(),
                    known: b.known,
                });
            }
            let shape = TagShape {
                raw: raw.into(),
                name_len: tag.name.len(),
                colon: memchr::memchr(b':', tag.name),
                empty: tag.empty,
                decls: decls.into(),
            };
            self.cache.tags[slot] = Some(shape);
        }
        Some(tag)
    }

    /// What `read_tag` does for these bytes, from what it found the first time: depth, the
    /// declarations, the name resolved in the current scope.
    fn replay(&mut self, shape: &TagShape, start: usize) -> Option<Tag<'a>> {
        self.depth += 1;
        if self.depth > self.max_depth || self.n_bindings + shape.decls.len() > MAX_BINDINGS {
            return None;
        }
        for d in shape.decls.iter() {
            let uri = self.str(start + d.uri.start..start + d.uri.end)?;
            self.bindings[self.n_bindings] = Binding {
                level: self.depth,
                prefix: &self.b[start + d.prefix.start..start + d.prefix.end],
                uri,
                known: d.known,
            };
            self.n_bindings += 1;
        }
        let name = &self.b[start + 1..start + 1 + shape.name_len];
        let (prefix, local) = match shape.colon {
            Some(c) => (&name[..c], &name[c + 1..]),
            None => (&name[..0], name),
        };
        let (ns, uri) = self.resolve(prefix)?;
        self.pos = start + shape.raw.len();
        Some(Tag {
            name,
            local,
            ns,
            uri,
            attrs: &self.b[start + 1 + shape.name_len..self.pos],
            empty: shape.empty,
            offset: start,
        })
    }

    /// Takes `xmlns:prefix="uri"` into scope at the current depth. Declarations the full
    /// decoder refuses or warns about (reserved prefixes, empty or relative URIs) fall back.
    fn declare(&mut self, prefix: &'a [u8], at: usize, len: usize) -> Option<()> {
        if prefix == b"xml" || prefix == b"xmlns" || len == 0 || self.n_bindings == MAX_BINDINGS {
            return None;
        }
        let uri = self.str(at..at + len)?;
        if !is_absolute_uri(uri) {
            return None;
        }
        self.bindings[self.n_bindings] = Binding {
            level: self.depth,
            prefix,
            uri,
            known: KnownNs::classify(Some(uri)),
        };
        self.n_bindings += 1;
        Some(())
    }

    /// An element's namespace from its prefix in the current scope; `None` for an unbound
    /// prefix (an error of the full decoder). No prefix and no default namespace: no namespace.
    fn resolve(&self, prefix: &[u8]) -> Option<(KnownNs, Option<&'a str>)> {
        match self.lookup(prefix) {
            Some(bound) => Some((bound.known, Some(bound.uri))),
            None if prefix.is_empty() => Some((KnownNs::None, None)),
            None => None,
        }
    }

    fn lookup(&self, prefix: &[u8]) -> Option<&Binding<'a>> {
        self.bindings[..self.n_bindings]
            .iter()
            .rev()
            .find(|b| b.prefix == prefix)
    }

    /// Leaves the element at the current depth: its declarations go out of scope.
    fn close(&mut self) {
        self.depth -= 1;
        while self.n_bindings > 0 && self.bindings[self.n_bindings - 1].level > self.depth {
            self.n_bindings -= 1;
        }
    }

    /// At `pos`: `</name>` exactly (no whitespace before `>`).
    fn end_tag(&mut self, name: &[u8]) -> Option<()> {
        let rest = &self.b[self.pos..];
        let ok = rest.len() > name.len() + 2
            && rest.starts_with(b"</")
            && &rest[2..2 + name.len()] == name
            && rest[2 + name.len()] == b'>';
        if !ok {
            return None;
        }
        self.pos += name.len() + 3;
        self.close();
        Some(())
    }

    /// The next child of `parent` (whitespace between children only), or `Some(None)` at
    /// its end tag.
    fn next_child(&mut self, parent: &mut Tag<'a>) -> Option<Option<Tag<'a>>> {
        if parent.empty {
            self.close();
            return Some(None);
        }
        self.skip_ws();
        match self.b.get(self.pos + 1)? {
            b'/' => {
                self.end_tag(parent.name)?;
                Some(None)
            }
            _ => self.open().map(Some),
        }
    }

    /// The text content of a text-only element, trimmed as the full decoder trims it.
    fn text(&mut self, tag: Tag<'a>) -> Option<&'a str> {
        if tag.empty {
            self.close();
            return Some("");
        }
        let end = plain_text_end(self.b, self.pos)?;
        let text = self.str(self.pos..end)?;
        self.pos = end;
        self.end_tag(tag.name)?;
        // `str::trim` (Unicode whitespace, as the full decoder trims) only when an end could
        // need it: an ASCII byte other than whitespace at both ends needs nothing.
        let solid = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii() && !matches!(c, b'\t'..=b'\r' | b' '));
        Some(
            if solid(text.as_bytes().first()) && solid(text.as_bytes().last()) {
                text
            } else {
                text.trim()
            },
        )
    }

    /// Skips an element and everything inside it, checking it as the full decoder does
    /// (names resolve, plain text).
    fn skip(&mut self, tag: Tag<'a>) -> Option<()> {
        if tag.empty {
            self.close();
            return Some(());
        }
        loop {
            self.pos = plain_text_end(self.b, self.pos)?;
            if self.b.get(self.pos + 1)? == &b'/' {
                return self.end_tag(tag.name);
            }
            let child = self.open()?;
            self.skip(child)?;
        }
    }
}

/// What the scanner has decoded so far.
struct Model {
    env: Envelope,
}

impl Model {
    /// Records the WS-RM version of an element; two versions in one message is an error.
    fn note_rm(&mut self, v: RmVersion) -> Option<()> {
        match self.env.rm_version {
            None => self.env.rm_version = Some(v),
            Some(seen) if seen != v => return None,
            _ => {}
        }
        Some(())
    }

    /// Mirrors `Decoder::header_block`.
    fn header<'a>(&mut self, s: &mut Scan<'a, '_>, mut header: Tag<'a>) -> Option<()> {
        while let Some(block) = s.next_child(&mut header)? {
            match (block.ns, block.local) {
                (KnownNs::Rm(v), b"Sequence") => {
                    self.note_rm(v)?;
                    let seq = sequence(s, block, v)?;
                    if self.env.sequence.is_some() {
                        return None;
                    }
                    self.env.sequence = Some(seq);
                }
                (KnownNs::Rm(v), b"AckRequested") => {
                    self.note_rm(v)?;
                    let ar = ack_requested(s, block, v)?;
                    self.env.ack_requested.push(ar);
                }
                (KnownNs::Rm(v), b"SequenceAcknowledgement") => {
                    self.note_rm(v)?;
                    let ack = sequence_acknowledgement(s, block, v)?;
                    self.env.acks.push(ack);
                }
                (KnownNs::Rm(_), b"SequenceFault") => return None,
                (KnownNs::Wsa(v), _) => self.addressing(s, block, v)?,
                _ => s.skip(block)?,
            }
        }
        Some(())
    }

    /// Mirrors `Decoder::addressing_header`; duplicates, relative URIs, a second addressing
    /// version and `RelationshipType` (checked by the full decoder) fall back.
    fn addressing<'a>(&mut self, s: &mut Scan<'a, '_>, e: Tag<'a>, v: AddressingVersion) -> Option<()> {
        if !matches!(
            e.local,
            b"Action" | b"MessageID" | b"To" | b"RelatesTo" | b"ReplyTo" | b"From" | b"FaultTo"
        ) {
            return s.skip(e);
        }
        match self.env.addressing.version {
            None => self.env.addressing.version = Some(v),
            Some(existing) if existing != v => return None,
            _ => {}
        }
        let a = &mut self.env.addressing;
        match e.local {
            b"Action" => {
                let text = s.text(e)?;
                if a.action.is_some() || !is_absolute_uri(text) {
                    return None;
                }
                let action = Action::parse_with(text, |t| s.shared(t));
                let rm = action.rm();
                a.action = Some(action);
                if let Some((rv, _)) = rm {
                    self.note_rm(rv)?;
                } else if text.starts_with(ns::RM_1_1) || text.starts_with(ns::RM_2005_02) {
                    return None;
                }
            }
            b"MessageID" => {
                let text = s.text(e)?;
                if a.message_id.is_some() {
                    return None;
                }
                a.message_id = Some(text.into());
            }
            b"To" => {
                let text = s.text(e)?;
                if a.to.is_some() || !is_absolute_uri(text) {
                    return None;
                }
                a.to = Some(s.shared(text));
            }
            b"RelatesTo" => {
                let mut relationship = false;
                each_attr(e.attrs, |name, _| {
                    relationship |= name == b"RelationshipType";
                    Some(())
                })?;
                let text = s.text(e)?;
                if relationship || a.relates_to.is_some() {
                    return None;
                }
                a.relates_to = Some(RelatesTo {
                    message_id: text.into(),
                    relationship: None,
                });
            }
            _ => {
                let epr = endpoint_reference(s, e)?;
                let slot = match e.local {
                    b"ReplyTo" => &mut a.reply_to,
                    b"From" => &mut a.from,
                    _ => &mut a.fault_to,
                };
                if slot.is_some() {
                    return None;
                }
                *slot = Some(epr);
            }
        }
        Some(())
    }

    /// Mirrors `Decoder::body` / `body_first` with `keep_body = false`: an empty body, or an
    /// application element whose end is found from the end of the input. WS-RM bodies and
    /// faults fall back (few messages of a session).
    fn body<'a>(
        &mut self,
        s: &mut Scan<'a, '_>,
        mut body: Tag<'a>,
        env_tag: &mut Tag<'a>,
    ) -> Option<Option<std::ops::Range<usize>>> {
        let body_name = body.name;
        match s.next_child(&mut body)? {
            None => {
                // Nothing may follow the Body but the envelope's end, then whitespace.
                if s.next_child(env_tag)?.is_some() {
                    return None;
                }
                s.skip_ws();
                if s.pos != s.b.len() {
                    return None;
                }
                s.check_utf8(s.b.len())?;
                Some(None)
            }
            Some(first) => {
                if !matches!(first.ns, KnownNs::Other | KnownNs::None) {
                    return None;
                }
                let end = locate_body_end(s.b, env_tag.name, body_name, first.offset)?;
                // Everything the full decoder reads (up to this start tag) is UTF-8.
                s.check_utf8(s.pos)?;
                let at = first.offset + 1 + first.name.len() - first.local.len();
                let local = s.str(at..at + first.local.len())?;
                self.env.body = Body::Application(AppBody::new(
                    ExpandedName {
                        namespace: first.uri.map(|u| s.shared(u)),
                        local: s.shared(local),
                    },
                    bytes::Bytes::new(),
                    Vec::new(),
                ));
                Some(Some(first.offset..end))
            }
        }
    }

    /// Mirrors `Decoder::finish`: an RM action that names a body element warns there (the
    /// fast path never decodes WS-RM bodies), so it falls back.
    fn finish(&mut self) -> Option<()> {
        if let Some((_, action)) = self.env.addressing.action.as_ref().and_then(Action::rm)
            && matches!(
                action,
                RmAction::CreateSequence
                    | RmAction::CreateSequenceResponse
                    | RmAction::CloseSequence
                    | RmAction::CloseSequenceResponse
                    | RmAction::TerminateSequence
                    | RmAction::TerminateSequenceResponse
                    | RmAction::Fault
            )
        {
            return None;
        }
        Some(())
    }
}

/// A child of a WS-RM element, as `Decoder::rm_child` + `unknown_child` sort it:
/// `Some(Some(local))` in the parent's version, `Some(None)` an extension in another namespace
/// (skipped silently), `None` what the full decoder refuses or warns about.
fn rm_child<'t>(v: RmVersion, c: &Tag<'t>) -> Option<Option<&'t [u8]>> {
    match c.ns {
        KnownNs::Rm(cv) if cv == v => Some(Some(c.local)),
        KnownNs::Rm(_) | KnownNs::None => None,
        _ => Some(None),
    }
}

fn identifier<'a>(s: &mut Scan<'a, '_>, c: Tag<'a>) -> Option<Text> {
    let id = s.text(c)?;
    (!id.is_empty()).then(|| s.shared(id))
}

fn message_number<'a>(s: &mut Scan<'a, '_>, c: Tag<'a>) -> Option<MessageNumber> {
    value::message_number(s.text(c)?, "", 0, "").ok()
}

/// Mirrors `Decoder::sequence`.
fn sequence<'a>(s: &mut Scan<'a, '_>, mut e: Tag<'a>, v: RmVersion) -> Option<Sequence> {
    let (mut identifier_, mut number, mut last) = (None, None, false);
    while let Some(c) = s.next_child(&mut e)? {
        match rm_child(v, &c)? {
            Some(b"Identifier") => identifier_ = Some(identifier(s, c)?),
            Some(b"MessageNumber") => number = Some(message_number(s, c)?),
            Some(b"LastMessage") if v == RmVersion::Feb2005 => {
                last = true;
                s.skip(c)?;
            }
            Some(_) => return None,
            None => s.skip(c)?,
        }
    }
    Some(Sequence {
        identifier: identifier_?,
        message_number: number?,
        last_message: last,
    })
}

/// Mirrors `Decoder::ack_requested`.
fn ack_requested<'a>(s: &mut Scan<'a, '_>, mut e: Tag<'a>, v: RmVersion) -> Option<AckRequested> {
    let (mut identifier_, mut number) = (None, None);
    while let Some(c) = s.next_child(&mut e)? {
        match rm_child(v, &c)? {
            Some(b"Identifier") => identifier_ = Some(identifier(s, c)?),
            Some(b"MessageNumber") if v == RmVersion::Feb2005 => number = Some(message_number(s, c)?),
            Some(_) => return None,
            None => s.skip(c)?,
        }
    }
    Some(AckRequested {
        identifier: identifier_?,
        message_number: number,
    })
}

/// Mirrors `Decoder::sequence_acknowledgement`; its errors and warnings fall back.
fn sequence_acknowledgement<'a>(
    s: &mut Scan<'a, '_>,
    mut e: Tag<'a>,
    v: RmVersion,
) -> Option<SequenceAcknowledgement> {
    let mut identifier_ = None;
    let mut ranges: Vec<AckRange> = Vec::new();
    let mut nacks = Vec::new();
    let (mut none, mut zero_zero, mut final_ack) = (false, false, false);
    let mut buffer_remaining = None;
    while let Some(c) = s.next_child(&mut e)? {
        if c.ns == KnownNs::NetRm && c.local == b"BufferRemaining" {
            buffer_remaining = Some(value::count(s.text(c)?, "", 0, "").ok()?);
            continue;
        }
        match rm_child(v, &c)? {
            Some(b"Identifier") => identifier_ = Some(identifier(s, c)?),
            Some(b"AcknowledgementRange") => {
                match ack_range(&c)? {
                    Some(r) if ranges.len() < MAX_RANGES => ranges.push(r),
                    Some(_) => return None,
                    None => zero_zero = true,
                }
                s.skip(c)?;
            }
            Some(b"Nack") if nacks.len() < MAX_RANGES => nacks.push(message_number(s, c)?),
            Some(b"None") if v == RmVersion::V1_1 => {
                none = true;
                s.skip(c)?;
            }
            Some(b"Final") if v == RmVersion::V1_1 => {
                final_ack = true;
                s.skip(c)?;
            }
            Some(_) => return None,
            None => s.skip(c)?,
        }
    }
    let identifier = identifier_?;
    if (!ranges.is_empty() && !nacks.is_empty()) || (none && (!ranges.is_empty() || !nacks.is_empty())) {
        return None;
    }
    // Any two ranges overlapping is what the full decoder's sorted-neighbour check finds.
    for (i, a) in ranges.iter().enumerate() {
        if ranges[i + 1..]
            .iter()
            .any(|b| a.lower <= b.upper && b.lower <= a.upper)
        {
            return None;
        }
    }
    let content = if !ranges.is_empty() {
        if zero_zero {
            return None;
        }
        AckContent::Ranges(ranges)
    } else if !nacks.is_empty() {
        AckContent::Nacks(nacks)
    } else if none {
        AckContent::None
    } else {
        // Only `0-0` (warns) or nothing (an error).
        return None;
    };
    Some(SequenceAcknowledgement {
        identifier,
        content,
        final_ack,
        buffer_remaining,
    })
}

/// Mirrors `Decoder::ack_range`: `Some(None)` is WCF's 0-0.
fn ack_range(c: &Tag<'_>) -> Option<Option<AckRange>> {
    let (mut lower, mut upper) = (None, None);
    each_attr(c.attrs, |name, v| {
        let parse = || value::unsigned(std::str::from_utf8(v).ok()?, "", 0, "").ok();
        match name {
            b"Lower" => lower = Some(parse()?),
            b"Upper" => upper = Some(parse()?),
            _ => {}
        }
        Some(())
    })?;
    match (lower?, upper?) {
        (0, 0) => Some(None),
        (l, u) => AckRange::new(l, u).map(Some),
    }
}

/// Mirrors `Decoder::endpoint_reference`: only `wsa:Address` (any version) is kept.
fn endpoint_reference<'a>(s: &mut Scan<'a, '_>, mut e: Tag<'a>) -> Option<EndpointReference> {
    let mut address = None;
    while let Some(c) = s.next_child(&mut e)? {
        if c.local == b"Address" && matches!(c.ns, KnownNs::Wsa(_)) {
            address = Some(s.text(c)?);
        } else {
            s.skip(c)?;
        }
    }
    let address = address?;
    is_absolute_uri(address).then(|| EndpointReference::new(s.shared(address)))
}
