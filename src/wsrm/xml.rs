//! A thin, bounded pull cursor over quick-xml's `Reader`: namespace-classified elements (with
//! its own scope stack, borrowing nothing it must copy per element), text with entity
//! handling, nesting limit, byte offsets, and the lenient well-known prefixes.

use super::error::{DecodeError, ErrorKind, Warning};
use super::ns::{self, KnownNs, RmVersion};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::QName;
use quick_xml::reader::Reader;
use std::borrow::Cow;

/// Most namespace bindings in scope at once: resolution is a linear scan, so this bounds it.
const MAX_NAMESPACE_BINDINGS: usize = 256;

/// The text of XML's five predefined entities (`&lt;` …); no other entity is defined without a
/// DTD, and DTDs are not read.
pub fn predefined_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        _ => return None,
    })
}

/// The local part of a qualified name (`s:Envelope` → `Envelope`).
pub fn local_name(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

/// A start tag, with its namespace classified.
pub(crate) struct Elem<'a> {
    pub start: BytesStart<'a>,
    pub ns: KnownNs,
    /// The namespace URI, kept only for namespaces the model does not know (app bodies).
    pub ns_uri: Option<String>,
    pub offset: usize,
}

impl<'a> Elem<'a> {
    pub fn qname(&self) -> &str {
        self.start.name().0
    }
    pub fn local(&self) -> &str {
        let name = self.start.name().0;
        name.rsplit_once(':').map_or(name, |(_, l)| l)
    }
    pub fn has_prefix(&self) -> bool {
        self.start.name().0.contains(':')
    }
}

pub(crate) enum Token<'a> {
    Start(Elem<'a>),
    End,
    Text(Cow<'a, str>),
    Eof,
}

/// Prefixes assumed in lenient mode when pasted documentation omits the declarations
/// (the WCF protocol docs bind them only in a table).
pub(crate) struct LenientPrefixes {
    pub rm: RmVersion,
    pub rm_reason: &'static str,
}

impl LenientPrefixes {
    fn lookup(&self, prefix: &str) -> Option<&'static str> {
        Some(match prefix {
            "s" => ns::SOAP12,
            "wsa" | "a" => ns::WSA_1_0,
            "wsrm" => self.rm.namespace(),
            "netrm" => ns::NETRM,
            _ => return None,
        })
    }
}

/// One namespace declaration in scope: prefix ("" for the default namespace) and URI, stored in
/// `Cursor::ns_text`; `level` is the depth of the element that declared it.
struct Binding {
    level: usize,
    prefix: std::ops::Range<usize>,
    uri: std::ops::Range<usize>,
    /// The URI classified once, when declared (every element in its scope asks).
    known: KnownNs,
}

/// How a prefix resolved.
enum Resolved {
    /// URI at this range of `Cursor::ns_text`, and what it is.
    Bound(std::ops::Range<usize>, KnownNs),
    Xml,
    Unbound,
    Unknown,
}

pub(crate) struct Cursor<'a> {
    reader: Reader<&'a [u8]>,
    depth: usize,
    max_depth: usize,
    /// Namespace declarations in scope, innermost last (resolution scans backwards).
    bindings: Vec<Binding>,
    ns_text: String,
    lenient: Option<LenientPrefixes>,
    warned_prefixes: Vec<String>,
    pub warnings: Vec<Warning>,
    /// Offset where the last token returned by `next` started.
    pub last_offset: usize,
    /// An end tag owed for an element read as `<a/>` (expanded here, not by the reader, so
    /// that `read_to_end` skipping stays exact).
    pending_end: bool,
    /// The element just closed still has declarations on the stack.
    pop_pending: bool,
}

impl<'a> Cursor<'a> {
    pub fn new(input: &'a [u8], max_depth: usize, lenient: Option<LenientPrefixes>) -> Self {
        let mut reader = Reader::from_reader(input);
        let config = reader.config_mut();
        config.expand_empty_elements = false;
        config.check_end_names = true;
        Cursor {
            reader,
            depth: 0,
            max_depth,
            // Sized for a typical SOAP envelope's declarations (4–6 URIs): no regrowth per message.
            bindings: Vec::with_capacity(8),
            ns_text: String::with_capacity(512),
            lenient,
            warned_prefixes: Vec::new(),
            warnings: Vec::new(),
            last_offset: 0,
            pending_end: false,
            pop_pending: false,
        }
    }

    pub fn lenient(&self) -> bool {
        self.lenient.is_some()
    }

    pub fn warn(&mut self, offset: usize, message: impl Into<String>) {
        self.warnings.push(Warning {
            offset,
            message: message.into(),
        });
    }

    fn pos(&self) -> usize {
        self.reader.buffer_position() as usize
    }

    fn syntax(&self, err: quick_xml::Error) -> DecodeError {
        let kind = match err {
            quick_xml::Error::Encoding(_) => ErrorKind::Encoding,
            _ => ErrorKind::Syntax,
        };
        DecodeError::new(
            kind,
            self.reader.error_position() as usize,
            None,
            format!("not well-formed XML: {err}"),
        )
    }

    /// Leaves an element. Its declarations stay visible until the next token is read, so
    /// that a QName in its text (`<faultcode xmlns:p="…">p:x</faultcode>`) still resolves.
    fn close_level(&mut self) {
        self.depth -= 1;
        self.pop_pending = true;
    }

    fn pop_closed(&mut self) {
        if self.pop_pending {
            self.pop_pending = false;
            while self.bindings.last().is_some_and(|b| b.level > self.depth) {
                let b = self.bindings.pop().expect("checked");
                self.ns_text.truncate(b.prefix.start);
            }
        }
    }

    /// The next token that matters: comments, processing instructions and the XML
    /// declaration are skipped; a DOCTYPE is refused.
    pub fn next(&mut self) -> Result<Token<'a>, DecodeError> {
        self.pop_closed();
        if self.pending_end {
            self.pending_end = false;
            self.close_level();
            return Ok(Token::End);
        }
        loop {
            let offset = self.pos();
            self.last_offset = offset;
            let event = self.reader.read_event().map_err(|e| self.syntax(e))?;
            let (start, empty) = match event {
                Event::Start(start) => (start, false),
                Event::Empty(start) => (start, true),
                Event::End(_) => {
                    self.close_level();
                    return Ok(Token::End);
                }
                Event::Text(text) => return Ok(Token::Text(text.xml10_content())),
                Event::CData(data) => return Ok(Token::Text(data.xml10_content())),
                Event::GeneralRef(r) => {
                    let ch = match r.resolve_char_ref() {
                        Ok(Some(ch)) => ch.to_string(),
                        Ok(None) => match predefined_entity(&r) {
                            Some(c) => c.into(),
                            None => {
                                let other = &*r;
                                return Err(DecodeError::new(
                                    ErrorKind::UnknownEntity,
                                    offset,
                                    None,
                                    format!("entity &{other}; is not defined (DTDs are not read)"),
                                ));
                            }
                        },
                        Err(e) => {
                            return Err(DecodeError::new(
                                ErrorKind::Syntax,
                                offset,
                                None,
                                format!("bad character reference: {e}"),
                            ));
                        }
                    };
                    return Ok(Token::Text(Cow::Owned(ch)));
                }
                Event::DocType(_) => {
                    return Err(DecodeError::new(
                        ErrorKind::Dtd,
                        offset,
                        None,
                        "DOCTYPE is not allowed in SOAP messages (SOAP 1.2 part 1 §5; no entity expansion)",
                    ));
                }
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) => continue,
                Event::Eof => {
                    if self.depth > 0 {
                        return Err(DecodeError::new(
                            ErrorKind::Syntax,
                            offset,
                            None,
                            "input ends inside an element (truncated?)",
                        ));
                    }
                    return Ok(Token::Eof);
                }
            };
            self.depth += 1;
            if self.depth > self.max_depth {
                return Err(DecodeError::new(
                    ErrorKind::TooDeep,
                    offset,
                    Some(start.name().0),
                    format!("elements nested deeper than {} levels", self.max_depth),
                ));
            }
            // Namespaces in XML §3: element names must not have the prefix xmlns.
            if start.name().0.starts_with("xmlns:") {
                return Err(DecodeError::new(
                    ErrorKind::Syntax,
                    offset,
                    Some(start.name().0),
                    "an element name may not use the reserved prefix xmlns",
                ));
            }
            self.declare(&start, offset)?;
            let (ns, ns_uri) = self.resolve(start.name(), true, offset)?;
            self.pending_end = empty;
            return Ok(Token::Start(Elem {
                start,
                ns,
                ns_uri,
                offset,
            }));
        }
    }

    /// Takes the namespace declarations of a start tag into scope, refusing a malformed
    /// attribute list, and warns about declarations whose URI is not absolute
    /// (`xmlns:http="wsa"`).
    fn declare(&mut self, start: &BytesStart<'a>, offset: usize) -> Result<(), DecodeError> {
        static XMLNS: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"xmlns"));
        if XMLNS.find(start.attributes_raw().as_bytes()).is_none() {
            return Ok(());
        }
        for attr in start.attributes() {
            let attr = attr.map_err(|e| {
                DecodeError::new(
                    ErrorKind::Syntax,
                    offset,
                    Some(start.name().0),
                    format!("bad attribute: {e}"),
                )
            })?;
            let key = attr.key.0;
            let prefix = match key.strip_prefix("xmlns") {
                Some("") => "",
                Some(p) if p.starts_with(':') => &p[1..],
                _ => continue,
            };
            let value: Cow<'_, str> = if attr.value.contains('&') {
                quick_xml::escape::unescape(&attr.value).map_or_else(
                    |_| Cow::Owned(attr.value.to_string()),
                    |u| Cow::Owned(u.into_owned()),
                )
            } else {
                Cow::Borrowed(&*attr.value)
            };
            if prefix == "xmlns" || (prefix == "xml" && value != ns::XML) {
                return Err(DecodeError::new(
                    ErrorKind::Syntax,
                    offset,
                    Some(start.name().0),
                    format!("the prefix {prefix} cannot be declared"),
                ));
            }
            if !value.is_empty() && !is_absolute_uri(&value) {
                let msg = format!("namespace URI \"{value}\" bound by {key} is not an absolute URI");
                self.warn(offset, msg);
            }
            if self.bindings.len() >= MAX_NAMESPACE_BINDINGS {
                return Err(DecodeError::new(
                    ErrorKind::TooDeep,
                    offset,
                    Some(start.name().0),
                    format!("more than {MAX_NAMESPACE_BINDINGS} namespace declarations in scope"),
                ));
            }
            let p0 = self.ns_text.len();
            self.ns_text.push_str(prefix);
            let u0 = self.ns_text.len();
            self.ns_text.push_str(&value);
            self.bindings.push(Binding {
                level: self.depth,
                prefix: p0..u0,
                uri: u0..self.ns_text.len(),
                known: KnownNs::classify(Some(&value)),
            });
        }
        Ok(())
    }

    /// Looks a prefix up in the declarations in scope ("" = default namespace).
    fn lookup(&self, prefix: &str) -> Resolved {
        if prefix == "xml" {
            return Resolved::Xml;
        }
        match self
            .bindings
            .iter()
            .rev()
            .find(|b| &self.ns_text[b.prefix.clone()] == prefix)
        {
            Some(b) if !b.uri.is_empty() => Resolved::Bound(b.uri.clone(), b.known),
            // `xmlns=""` undeclares the default namespace; `xmlns:p=""` is not allowed.
            _ if prefix.is_empty() => Resolved::Unbound,
            _ => Resolved::Unknown,
        }
    }

    /// Classifies the namespace of a name (element or attribute-value QName).
    pub fn resolve(
        &mut self,
        name: QName<'_>,
        element: bool,
        offset: usize,
    ) -> Result<(KnownNs, Option<String>), DecodeError> {
        if let Some(prefix) = element_prefix(name, element)
            && let Resolved::Bound(uri, known) = self.lookup(prefix)
        {
            let keep = matches!(known, KnownNs::Other | KnownNs::Wsmc);
            return Ok((known, keep.then(|| self.ns_text[uri].to_string())));
        }
        let uri = self.resolve_uri_cow(name, element, offset)?;
        let known = KnownNs::classify(uri.as_deref());
        let keep = matches!(known, KnownNs::Other | KnownNs::Wsmc);
        Ok((known, if keep { uri.map(|u| u.into_owned()) } else { None }))
    }

    /// The namespace URI of a name in the current scope (lenient prefixes included).
    pub fn resolve_uri(
        &mut self,
        name: QName<'_>,
        element: bool,
        offset: usize,
    ) -> Result<Option<String>, DecodeError> {
        Ok(self
            .resolve_uri_cow(name, element, offset)?
            .map(|u| u.into_owned()))
    }

    fn resolve_uri_cow(
        &mut self,
        name: QName<'_>,
        element: bool,
        offset: usize,
    ) -> Result<Option<Cow<'_, str>>, DecodeError> {
        let Some(prefix) = element_prefix(name, element) else {
            return Ok(None);
        };
        match self.lookup(prefix) {
            Resolved::Bound(r, _) => return Ok(Some(Cow::Borrowed(&self.ns_text[r]))),
            Resolved::Xml => return Ok(Some(Cow::Borrowed(ns::XML))),
            Resolved::Unbound => return Ok(None),
            Resolved::Unknown => {}
        }
        let assumed = self.lenient.as_ref().and_then(|l| l.lookup(prefix));
        match assumed {
            Some(uri) => {
                if !self.warned_prefixes.iter().any(|p| p == prefix) {
                    let reason = match (prefix, &self.lenient) {
                        ("wsrm", Some(l)) => format!(" ({})", l.rm_reason),
                        ("wsa", _) => " (the WCF docs' table gives a wrong 2005/08 URI; the real WS-Addressing 1.0 namespace is assumed)".to_string(),
                        _ => String::new(),
                    };
                    let msg = format!("prefix '{prefix}' is not declared; assumed {uri}{reason}");
                    self.warn(offset, msg);
                    self.warned_prefixes.push(prefix.to_string());
                }
                Ok(Some(Cow::Borrowed(uri)))
            }
            None => Err(DecodeError::new(
                ErrorKind::UnboundPrefix,
                offset,
                Some(name.0),
                format!("prefix '{prefix}' is not bound to a namespace"),
            )),
        }
    }

    /// Whether `prefix` is declared in the current scope (no lenient guessing, no error).
    pub fn is_declared_prefix(&self, prefix: &str) -> bool {
        matches!(self.lookup(prefix), Resolved::Bound(..) | Resolved::Xml)
    }

    /// Resolves a QName written as text (`wsrm:CreateSequenceRefused`) in the current scope.
    pub fn resolve_text_qname(
        &mut self,
        text: &str,
        offset: usize,
    ) -> Result<(KnownNs, Option<String>, String), DecodeError> {
        let local = text.rsplit_once(':').map_or(text, |(_, l)| l).to_string();
        let (ns, uri) = self.resolve(QName(text), true, offset)?;
        Ok((ns, uri, local))
    }

    /// Collects the text content of the element just opened, up to its end tag. Child elements
    /// are an error. Leading and trailing whitespace is trimmed.
    pub fn text(&mut self, elem: &Elem<'_>) -> Result<Cow<'a, str>, DecodeError> {
        let mut out: Option<Cow<'a, str>> = None;
        loop {
            match self.next()? {
                Token::Text(t) => {
                    out = Some(match out {
                        None => t,
                        Some(prev) => Cow::Owned(prev.into_owned() + &t),
                    })
                }
                Token::End => break,
                Token::Start(child) => {
                    return Err(DecodeError::new(
                        ErrorKind::InvalidContent,
                        child.offset,
                        Some(elem.qname()),
                        format!("expected text, found element <{}>", child.qname()),
                    ));
                }
                Token::Eof => unreachable_eof()?,
            }
        }
        Ok(match out {
            None => Cow::Borrowed(""),
            Some(Cow::Borrowed(s)) => Cow::Borrowed(s.trim()),
            Some(Cow::Owned(s)) if s.trim().len() == s.len() => Cow::Owned(s),
            Some(Cow::Owned(s)) => Cow::Owned(s.trim().to_string()),
        })
    }

    /// The next child element of the current element, or `None` at its end tag.
    /// Non-whitespace text between children is an error.
    pub fn child(&mut self, parent: &str) -> Result<Option<Elem<'a>>, DecodeError> {
        loop {
            match self.next()? {
                Token::Start(e) => return Ok(Some(e)),
                Token::End => return Ok(None),
                Token::Text(t) => {
                    if !t.trim().is_empty() {
                        return Err(DecodeError::new(
                            ErrorKind::InvalidContent,
                            self.last_offset,
                            Some(parent),
                            format!("unexpected text \"{}\"", preview(&t)),
                        ));
                    }
                }
                Token::Eof => unreachable_eof()?,
            }
        }
    }

    /// Skips the rest of the element just opened (including its end tag).
    pub fn skip(&mut self) -> Result<(), DecodeError> {
        let target = self.depth - 1;
        while self.depth > target {
            if let Token::Eof = self.next()? {
                unreachable_eof()?;
            }
        }
        Ok(())
    }

    /// Skips the element just opened without looking inside (an application body that is only
    /// located): quick-xml scans for the matching end tag.
    pub fn skip_unread(&mut self, elem: &Elem<'a>) -> Result<(), DecodeError> {
        self.pop_closed();
        if self.pending_end {
            self.pending_end = false;
        } else {
            self.reader
                .read_to_end(elem.start.name())
                .map_err(|e| self.syntax(e))?;
        }
        self.close_level();
        Ok(())
    }

    /// Skips the element just opened (an application body) and collects the namespace
    /// bindings it uses but does not declare itself, so that a copy of it stays readable
    /// outside this envelope.
    pub fn skip_collecting(
        &mut self,
        first: &Elem<'a>,
        used: &mut Vec<(String, String)>,
    ) -> Result<(), DecodeError> {
        let mut declared: Vec<Vec<String>> = Vec::new();
        let mut elem = Some(first.start.clone());
        let mut offset = first.offset;
        loop {
            if let Some(start) = elem.take() {
                let mut here = Vec::new();
                let mut names: Vec<(String, bool)> = vec![(start.name().0.to_string(), true)];
                for attr in start.attributes().flatten() {
                    let key = attr.key.0;
                    if key == "xmlns" {
                        here.push(String::new());
                    } else if let Some(p) = key.strip_prefix("xmlns:") {
                        here.push(p.to_string());
                    } else if key.contains(':') && !key.starts_with("xml:") {
                        names.push((key.to_string(), false));
                    }
                }
                declared.push(here);
                for (name, is_element) in names {
                    let prefix = name.split_once(':').map_or("", |(p, _)| p);
                    // `xml` and `xmlns` are bound by definition and may not be declared.
                    if (!is_element && prefix.is_empty()) || prefix == "xml" || prefix == "xmlns" {
                        continue;
                    }
                    if declared.iter().any(|d| d.iter().any(|x| x == prefix))
                        || used.iter().any(|(p, _)| p == prefix)
                    {
                        continue;
                    }
                    if let Some(uri) = self.resolve_uri(QName(&name), is_element, offset)? {
                        used.push((prefix.to_string(), uri));
                    }
                }
            }
            match self.next()? {
                Token::Start(e) => {
                    offset = e.offset;
                    elem = Some(e.start);
                }
                Token::End => {
                    declared.pop();
                    if declared.is_empty() {
                        return Ok(());
                    }
                }
                Token::Text(_) => {}
                Token::Eof => return unreachable_eof(),
            }
        }
    }

    /// Byte offset just past the last token read.
    pub fn position(&self) -> usize {
        self.pos()
    }
}

/// The prefix a name is resolved by: "" (the default namespace) for an unprefixed element,
/// none for an unprefixed attribute (in no namespace).
fn element_prefix<'n>(name: QName<'n>, element: bool) -> Option<&'n str> {
    match name.0.split_once(':') {
        Some((p, _)) => Some(p),
        None if element => Some(""),
        None => None,
    }
}

/// `next` reports truncation itself at depth > 0; reaching Eof inside an element is therefore
/// impossible, but keep a clear error rather than a panic.
fn unreachable_eof() -> Result<(), DecodeError> {
    Err(DecodeError::new(
        ErrorKind::Syntax,
        0,
        None,
        "unexpected end of input",
    ))
}

pub(crate) fn preview(s: &str) -> String {
    let t = s.trim();
    if t.chars().count() > 40 {
        format!("{}…", t.chars().take(40).collect::<String>())
    } else {
        t.to_string()
    }
}

/// RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) followed by ':'.
pub fn is_absolute_uri(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(colon) = memchr::memchr(b':', b) else {
        return false;
    };
    colon > 0
        && b[0].is_ascii_alphabetic()
        && b[1..colon]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        && colon + 1 < b.len()
        // A fold, not `any`: no early exit, so it is vectorised (URIs are checked per message).
        && !b.iter().fold(false, |w, c| w | c.is_ascii_whitespace())
}
