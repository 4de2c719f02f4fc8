//! Bytes → [`Envelope`]: namespace-aware, prefix-agnostic, bounded, never panics.

mod body;
mod fast;
mod header;
mod value;

use body::locate_body_end;

use super::error::{DecodeError, ErrorKind, Warning};
use super::model::*;
use super::ns::{self, KnownNs, RmVersion};
use super::xml::{Cursor, Elem, LenientPrefixes, Token};
use std::ops::Range;

/// Decoder settings. `Default` is strict with a 16 MiB size limit and 64 levels of nesting.
#[derive(Clone, Debug)]
pub struct Options {
    /// Accept pasted documentation: fragments without an envelope and the well-known prefixes
    /// (`s`, `wsa`, `a`, `wsrm`, `netrm`) used without declarations, with warnings.
    pub lenient: bool,
    /// In lenient mode, the WS-RM version to assume for an undeclared `wsrm` prefix when the
    /// document itself does not tell.
    pub assume_rm: Option<RmVersion>,
    /// Copy the application body into [`AppBody::xml`] (otherwise it is only located).
    pub keep_body: bool,
    pub max_size: usize,
    pub max_depth: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lenient: false,
            assume_rm: None,
            keep_body: true,
            max_size: 16 * 1024 * 1024,
            max_depth: 64,
        }
    }
}

impl Options {
    pub fn lenient() -> Self {
        Options {
            lenient: true,
            ..Options::default()
        }
    }
}

/// A decoded message with what the decoder noticed on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub envelope: Envelope,
    pub warnings: Vec<Warning>,
    /// Where the content of `soap:Body` lies in the input (trimmed), if there is any.
    pub body_span: Option<Range<usize>>,
}

/// Strict decode of one SOAP envelope.
pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    decode_with(bytes, &Options::default()).map(|d| d.envelope)
}

/// Decode with explicit options; returns warnings and the body's location too.
pub fn decode_with(bytes: &[u8], opts: &Options) -> Result<Decoded, DecodeError> {
    let bytes = checked_input(bytes, opts)?;
    // Capture and log readers: the plain envelopes WCF writes take the header scanner, which
    // builds the same result or declines (then the full decoder runs).
    if let Some(d) = scan(bytes, opts) {
        return Ok(d);
    }
    decode_full(bytes, opts)
}

/// The header scanner alone: `Some` with exactly what [`decode_with`] returns, or `None`
/// where it declines (lenient or body-keeping options, anything but a plain envelope). For
/// the tests and the fuzz target that hold it to the full decoder.
pub fn decode_scanned(bytes: &[u8], opts: &Options) -> Option<Decoded> {
    scan(checked_input(bytes, opts).ok()?, opts)
}

/// The full decoder alone, never the scanner (see [`decode_scanned`]).
pub fn decode_unscanned(bytes: &[u8], opts: &Options) -> Result<Decoded, DecodeError> {
    decode_full(checked_input(bytes, opts)?, opts)
}

fn scan(bytes: &[u8], opts: &Options) -> Option<Decoded> {
    if opts.lenient || opts.keep_body {
        return None;
    }
    fast::decode(bytes, opts.max_depth)
}

/// The size limit, then the input without a UTF-8 byte-order mark.
fn checked_input<'b>(bytes: &'b [u8], opts: &Options) -> Result<&'b [u8], DecodeError> {
    if bytes.len() > opts.max_size {
        return Err(DecodeError::new(
            ErrorKind::TooLarge,
            opts.max_size,
            None,
            format!("message is {} bytes; the limit is {}", bytes.len(), opts.max_size),
        ));
    }
    Ok(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
}

/// The full decoder (after the size check and BOM): every input, every warning and error.
fn decode_full(bytes: &[u8], opts: &Options) -> Result<Decoded, DecodeError> {
    // Lenient decoding (pasted text) checks the whole input up front; the strict path lets
    // quick-xml check each token it reads, so a skipped application body is never scanned.
    let input = bytes;
    let text_for_hints = if opts.lenient { Some(utf8(bytes)?) } else { None };
    let lenient = text_for_hints.map(|t| infer_lenient_rm(t, opts.assume_rm));
    let mut d = Decoder {
        cur: Cursor::new(input, opts.max_depth, lenient),
        input,
        keep_body: opts.keep_body,
        env: Envelope::default(),
        rm_seen: Vec::new(),
        sequence_fault: None,
        body_span: None,
        envelope_qname: None,
        stopped_at: None,
    };
    d.document().map_err(|e| encoding_offset(e, bytes))?;
    d.finish()?;
    Ok(Decoded {
        envelope: d.env,
        warnings: d.cur.warnings,
        body_span: d.body_span,
    })
}

fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| {
        DecodeError::new(
            ErrorKind::Encoding,
            e.valid_up_to(),
            None,
            "input is not UTF-8 (only UTF-8 SOAP messages are decoded)",
        )
    })
}

/// quick-xml reports bad UTF-8 at the token; say exactly where the bad byte is.
fn encoding_offset(e: DecodeError, bytes: &[u8]) -> DecodeError {
    match (e.kind, utf8(bytes)) {
        (ErrorKind::Encoding, Err(precise)) => precise,
        _ => e,
    }
}

/// Picks the namespace for an undeclared `wsrm` prefix: the caller's choice, else what the
/// document mentions, else WCF's default version (2005/02).
fn infer_lenient_rm(input: &str, assume: Option<RmVersion>) -> LenientPrefixes {
    let (rm, rm_reason) = if let Some(v) = assume {
        (v, "as requested")
    } else if input.contains(ns::RM_1_1) {
        (RmVersion::V1_1, "the document names the WS-RM 1.1 namespace")
    } else if input.contains(ns::RM_2005_02) {
        (
            RmVersion::Feb2005,
            "the document names the WS-RM 2005/02 namespace",
        )
    } else if [
        "wsrm:Final",
        "wsrm:None",
        "wsrm:LastMsgNumber",
        "wsrm:CloseSequence",
        "wsrm:Endpoint",
        "wsrm:IncompleteSequenceBehavior",
        "wsrm:TerminateSequenceResponse",
    ]
    .iter()
    .any(|e| input.contains(e))
    {
        (RmVersion::V1_1, "the document uses WS-RM 1.1 elements")
    } else if input.contains("wsrm:LastMessage") {
        (
            RmVersion::Feb2005,
            "the document uses the 2005/02 LastMessage element",
        )
    } else {
        (
            RmVersion::Feb2005,
            "WCF's default version; nothing in the document tells, so pass --rm-version 1.1 for a WS-RM 1.1 fragment",
        )
    };
    LenientPrefixes { rm, rm_reason }
}

/// A WS-RM fault carried in a SOAP 1.1 `wsrm:SequenceFault` header (WS-RM 1.1 §4.1).
struct PendingSequenceFault {
    fault: Option<RmFault>,
    identifier: Option<Text>,
    offset: usize,
}

pub(super) struct Decoder<'a> {
    cur: Cursor<'a>,
    input: &'a [u8],
    keep_body: bool,
    env: Envelope,
    /// The first element seen of each WS-RM version: (version, element, offset, is_action).
    rm_seen: Vec<(RmVersion, String, usize, bool)>,
    sequence_fault: Option<PendingSequenceFault>,
    body_span: Option<Range<usize>>,
    /// The envelope's element name as written (to find its end tag).
    envelope_qname: Option<String>,
    /// Decoding stopped early at this offset: the rest was an application body (not kept).
    stopped_at: Option<usize>,
}

impl<'a> Decoder<'a> {
    fn document(&mut self) -> Result<(), DecodeError> {
        let mut seen_root = false;
        let mut fragment = false;
        loop {
            match self.cur.next()? {
                Token::Eof => break,
                Token::Text(t) => {
                    if !t.trim().is_empty() {
                        return Err(DecodeError::new(
                            ErrorKind::Syntax,
                            self.cur.last_offset,
                            None,
                            format!("text outside the root element: \"{}\"", super::xml::preview(&t)),
                        ));
                    }
                }
                Token::End => {
                    return Err(DecodeError::new(
                        ErrorKind::Syntax,
                        self.cur.last_offset,
                        None,
                        "unmatched end tag",
                    ));
                }
                Token::Start(e) => {
                    let is_envelope = matches!(e.ns, KnownNs::Soap(_)) && e.local() == "Envelope";
                    if seen_root && (!fragment || is_envelope) {
                        return Err(DecodeError::new(
                            ErrorKind::Syntax,
                            e.offset,
                            Some(e.qname()),
                            "a second root element after the envelope",
                        ));
                    }
                    if is_envelope {
                        self.envelope(e)?;
                        if self.stopped_at.is_some() {
                            return Ok(());
                        }
                    } else if self.cur.lenient() {
                        if !seen_root {
                            self.cur.warn(
                                e.offset,
                                format!("no SOAP envelope: <{}> decoded as a fragment", e.qname()),
                            );
                        }
                        fragment = true;
                        self.fragment_item(e)?;
                    } else {
                        return Err(DecodeError::new(
                            ErrorKind::NotEnvelope,
                            e.offset,
                            Some(e.qname()),
                            "the root element is not a SOAP 1.1 or 1.2 Envelope (fragments are accepted only in lenient mode)",
                        ));
                    }
                    seen_root = true;
                }
            }
        }
        if !seen_root {
            return Err(DecodeError::new(
                ErrorKind::NotEnvelope,
                0,
                None,
                "no XML element found (empty input, or not XML)",
            ));
        }
        Ok(())
    }

    fn envelope(&mut self, env: Elem<'a>) -> Result<(), DecodeError> {
        let KnownNs::Soap(soap) = env.ns else {
            unreachable!("checked by caller")
        };
        self.env.soap = Some(soap);
        if !self.keep_body {
            self.envelope_qname = Some(env.qname().to_string());
        }
        let mut saw_body = false;
        while self.stopped_at.is_none()
            && let Some(child) = self.cur.child(env.qname())?
        {
            match (child.ns, child.local()) {
                (KnownNs::Soap(v), "Header") if v == soap && !saw_body => self.header(&child)?,
                (KnownNs::Soap(v), "Body") if v == soap && !saw_body => {
                    saw_body = true;
                    self.body(&child)?;
                }
                _ => {
                    self.cur.warn(
                        child.offset,
                        format!("unexpected <{}> in the envelope, skipped", child.qname()),
                    );
                    self.cur.skip()?;
                }
            }
        }
        if !saw_body {
            return Err(DecodeError::new(
                ErrorKind::Missing,
                env.offset,
                Some(env.qname()),
                "the envelope has no Body (SOAP 1.2 part 1 §5.1)",
            ));
        }
        Ok(())
    }

    fn header(&mut self, header: &Elem<'a>) -> Result<(), DecodeError> {
        while let Some(block) = self.cur.child(header.qname())? {
            self.header_block(block)?;
        }
        Ok(())
    }

    /// A top-level element of a pasted fragment: a Header, a Body, a header block or a body element.
    fn fragment_item(&mut self, e: Elem<'a>) -> Result<(), DecodeError> {
        match (e.ns, e.local()) {
            (KnownNs::Soap(v), "Header") => {
                self.env.soap.get_or_insert(v);
                self.header(&e)
            }
            (KnownNs::Soap(v), "Body") => {
                self.env.soap.get_or_insert(v);
                self.body(&e)
            }
            (KnownNs::Rm(_), "Sequence" | "AckRequested" | "SequenceAcknowledgement" | "SequenceFault")
            | (KnownNs::Wsa(_), _) => self.header_block(e),
            (KnownNs::Rm(_), _) => {
                let start = e.offset;
                self.body_element(e)?;
                self.body_span = Some(start..self.cur.position());
                Ok(())
            }
            _ => Err(DecodeError::new(
                ErrorKind::NotEnvelope,
                e.offset,
                Some(e.qname()),
                "not a SOAP envelope, header or WS-RM element",
            )),
        }
    }

    /// Records that an element of WS-RM `version` was seen (checked for consistency at the end).
    fn note_rm(&mut self, version: RmVersion, element: &str, offset: usize, is_action: bool) {
        if !self.rm_seen.iter().any(|(v, ..)| *v == version) {
            self.rm_seen
                .push((version, element.to_string(), offset, is_action));
        }
    }

    /// Version consistency, SOAP 1.1 fault merge, action/body agreement.
    fn finish(&mut self) -> Result<(), DecodeError> {
        if self.rm_seen.len() > 1 {
            // Report the element that disagrees with the action (or with the first element).
            let reference = self.rm_seen.iter().position(|s| s.3).unwrap_or(0);
            let (ref_v, ref_elem, ..) = self.rm_seen[reference].clone();
            let other = self
                .rm_seen
                .iter()
                .find(|s| s.0 != ref_v)
                .expect("two versions seen")
                .clone();
            let what = if self.rm_seen[reference].3 {
                "action".to_string()
            } else {
                format!("<{ref_elem}>")
            };
            return Err(DecodeError::new(
                ErrorKind::VersionMismatch,
                other.2,
                Some(&other.1),
                format!(
                    "a WS-RM {} element under a WS-RM {} {what}: one message cannot mix versions",
                    other.0, ref_v
                ),
            ));
        }
        self.env.rm_version = self.rm_seen.first().map(|s| s.0);

        if let Some(sf) = self.sequence_fault.take() {
            match &mut self.env.body {
                Body::Fault(f) => {
                    if f.rm_fault.is_none() {
                        f.rm_fault = sf.fault;
                    }
                    if f.identifier.is_none() {
                        f.identifier = sf.identifier;
                    }
                }
                _ => self
                    .cur
                    .warn(sf.offset, "wsrm:SequenceFault header without a SOAP Fault body"),
            }
        }

        if let Some((_, action)) = self.env.addressing.action.as_ref().and_then(Action::rm) {
            let expected = match action {
                RmAction::CreateSequence => Some("CreateSequence"),
                RmAction::CreateSequenceResponse => Some("CreateSequenceResponse"),
                RmAction::CloseSequence => Some("CloseSequence"),
                RmAction::CloseSequenceResponse => Some("CloseSequenceResponse"),
                RmAction::TerminateSequence => Some("TerminateSequence"),
                RmAction::TerminateSequenceResponse => Some("TerminateSequenceResponse"),
                RmAction::Fault => Some("Fault"),
                _ => None,
            };
            if let Some(expected) = expected
                && self.env.soap.is_some()
                && self.env.body.kind() != expected
            {
                let msg = format!(
                    "action is {} but the body is {}",
                    action.name(),
                    self.env.body.kind()
                );
                self.cur.warn(0, msg);
            }
        }
        Ok(())
    }

    /// Parses a required-text child that is already open.
    fn text_of(&mut self, e: &Elem<'_>) -> Result<std::borrow::Cow<'a, str>, DecodeError> {
        self.cur.text(e)
    }

    /// Where a child of a WS-RM element belongs: `Some(local)` when it is in the parent's WS-RM
    /// namespace, `None` when it is an extension in another namespace (to be skipped).
    /// Unqualified children are accepted with a warning in lenient mode (the WCF docs write
    /// `<Identifier>` without a prefix).
    fn rm_child<'e>(
        &mut self,
        parent: &Elem<'_>,
        version: RmVersion,
        child: &'e Elem<'_>,
    ) -> Result<Option<&'e str>, DecodeError> {
        match child.ns {
            KnownNs::Rm(v) if v == version => Ok(Some(child.local())),
            KnownNs::Rm(v) => Err(DecodeError::new(
                ErrorKind::VersionMismatch,
                child.offset,
                Some(child.qname()),
                format!("a WS-RM {v} element inside WS-RM {version} <{}>", parent.qname()),
            )),
            KnownNs::None if !child.has_prefix() => {
                if self.cur.lenient() {
                    let msg = format!(
                        "<{}> has no namespace; assumed it is wsrm:{} ({})",
                        child.qname(),
                        child.local(),
                        version.namespace()
                    );
                    self.cur.warn(child.offset, msg);
                    Ok(Some(child.local()))
                } else {
                    Err(DecodeError::new(
                        ErrorKind::InvalidContent,
                        child.offset,
                        Some(child.qname()),
                        format!(
                            "element is in no namespace; expected wsrm:{} in {}",
                            child.local(),
                            version.namespace()
                        ),
                    ))
                }
            }
            _ => Ok(None),
        }
    }

    /// An element that exists only in the other WS-RM version.
    fn wrong_version(child: &Elem<'_>, exists_in: RmVersion) -> DecodeError {
        DecodeError::new(
            ErrorKind::VersionMismatch,
            child.offset,
            Some(child.qname()),
            format!(
                "{} is a WS-RM {exists_in} element; it does not exist in this message's version",
                child.local()
            ),
        )
    }

    fn missing(parent: &Elem<'_>, what: &str) -> DecodeError {
        DecodeError::new(
            ErrorKind::Missing,
            parent.offset,
            Some(parent.qname()),
            format!("missing {what}"),
        )
    }
}
