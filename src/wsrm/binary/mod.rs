//! WCF's binary message encoding: [MC-NBFX] binary XML with the [MC-NBFS] static dictionary
//! (`application/soap+msbin1`) and the [MC-NBFSE] in-band session dictionary
//! (`application/soap+msbinsession1`, net.tcp's default). A binary envelope is transcoded to XML
//! text and decoded by the text codec: one model whichever encoding was on the wire.

pub mod encode;
pub mod nbfs;
pub mod nbfx;
pub mod session;
mod values;

pub use encode::{WriterSession, encode};
pub use nbfx::{BinaryError, Dictionaries, to_xml};
pub use session::Session;

use super::{DecodeError, Decoded, ErrorKind, Options, decode_with};

/// Media types of the binary encoding (WCF matches by "equals or starts with").
pub const MSBIN1: &str = "application/soap+msbin1";
pub const MSBINSESSION1: &str = "application/soap+msbinsession1";

/// Whether an HTTP Content-Type names the binary encoding: `Some(true)` for msbinsession1
/// (the body starts with a StringTable), `Some(false)` for msbin1. Media types are
/// case-insensitive (RFC 9110 §8.3.1).
pub fn content_type_session(content_type: &str) -> Option<bool> {
    let starts = |p: &str| {
        content_type
            .as_bytes()
            .get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes()))
    };
    if starts(MSBINSESSION1) {
        Some(true)
    } else if starts(MSBIN1) {
        Some(false)
    } else {
        None
    }
}

/// Decodes one binary envelope. With a session (msbinsession1) the payload starts with the
/// StringTable, whose strings are added to it first.
pub fn decode_binary(
    payload: &[u8],
    session: Option<&mut Session>,
    opts: &Options,
) -> Result<Decoded, DecodeError> {
    match session {
        Some(s) => {
            let skip = s.read_table(payload).map_err(|e| error(e, 0))?;
            decode_document(&payload[skip..], Some(s), opts).map_err(|mut e| {
                e.offset += skip;
                e
            })
        }
        None => decode_document(payload, None, opts),
    }
}

/// A binary payload as XML text; with a session the payload's StringTable is added to it first
/// (error offsets count from the payload's start).
pub fn payload_to_xml(payload: &[u8], session: Option<&mut Session>) -> Result<String, BinaryError> {
    let (skip, session) = match session {
        Some(s) => (s.read_table(payload)?, Some(&*s)),
        None => (0, None),
    };
    to_xml(&payload[skip..], &Dictionaries { session }).map_err(|mut e| {
        e.offset += skip;
        e
    })
}

/// Decodes an NBFX document (no StringTable in front), odd ids from `session`.
pub fn decode_document(
    doc: &[u8],
    session: Option<&Session>,
    opts: &Options,
) -> Result<Decoded, DecodeError> {
    let xml = to_xml(doc, &Dictionaries { session }).map_err(|e| error(e, 0))?;
    decode_with(xml.as_bytes(), opts)
}

fn error(e: BinaryError, skip: usize) -> DecodeError {
    DecodeError::new(
        ErrorKind::Binary,
        e.offset + skip,
        None,
        format!("binary XML: {}", e.what),
    )
}

#[cfg(test)]
mod tests {
    use super::content_type_session;

    #[test]
    fn binary_media_types_are_recognised_in_any_case_with_parameters() {
        assert_eq!(content_type_session("application/soap+msbin1"), Some(false));
        assert_eq!(
            content_type_session("Application/SOAP+MSBIN1; charset=x"),
            Some(false)
        );
        assert_eq!(content_type_session("application/soap+msbinsession1"), Some(true));
        assert_eq!(content_type_session("APPLICATION/SOAP+MSBINSESSION1"), Some(true));
        assert_eq!(content_type_session("application/soap+xml; charset=utf-8"), None);
        assert_eq!(content_type_session("application/soap+msbin"), None);
        assert_eq!(content_type_session(""), None);
    }
}
