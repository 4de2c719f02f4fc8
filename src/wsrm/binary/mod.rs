//! WCF's binary message encoding: [MC-NBFX] binary XML with the [MC-NBFS] static dictionary
//! (`application/soap+msbin1`) and the [MC-NBFSE] in-band session dictionary
//! (`application/soap+msbinsession1`, net.tcp's default). A binary envelope is transcoded to XML
//! text and decoded by the text codec: one model whichever encoding was on the wire.

pub mod nbfs;
pub mod nbfx;
pub mod session;
mod values;

pub use nbfx::{BinaryError, Dictionaries, to_xml};
pub use session::Session;

use super::{DecodeError, Decoded, ErrorKind, Options, decode_with};

/// Media types of the binary encoding (WCF matches by "equals or starts with").
pub const MSBIN1: &str = "application/soap+msbin1";
pub const MSBINSESSION1: &str = "application/soap+msbinsession1";

/// Decodes one binary envelope. With a session (msbinsession1) the payload starts with the
/// StringTable, whose strings are added to it first.
pub fn decode_binary(
    payload: &[u8],
    session: Option<&mut Session>,
    opts: &Options,
) -> Result<Decoded, DecodeError> {
    let bad = |e: BinaryError, skip: usize| {
        DecodeError::new(
            ErrorKind::Binary,
            e.offset + skip,
            None,
            format!("binary XML: {}", e.what),
        )
    };
    let (doc, skip, session) = match session {
        Some(s) => {
            let n = s.read_table(payload).map_err(|e| bad(e, 0))?;
            (&payload[n..], n, Some(&*s))
        }
        None => (payload, 0, None),
    };
    let xml = to_xml(doc, &Dictionaries { session }).map_err(|e| bad(e, skip))?;
    decode_with(xml.as_bytes(), opts)
}

/// Whether a body looks like binary XML rather than text: WCF's binary records never start
/// with `<`, whitespace or a byte-order mark.
pub fn looks_binary(body: &[u8]) -> bool {
    matches!(body.first(), Some(&b) if b != b'<' && !b.is_ascii_whitespace() && b != 0xEF && b != 0xFE && b != 0xFF)
}
