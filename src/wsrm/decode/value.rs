//! Parsers for the simple values inside WS-RM elements.

use super::super::error::{DecodeError, ErrorKind};
use super::super::model::MessageNumber;

/// An `xs:unsignedLong` message number in 1 ..= 2^63-1 (WS-RM 1.1 §3.3, 2005/02 §3.1).
pub fn message_number(
    text: &str,
    what: &str,
    offset: usize,
    element: &str,
) -> Result<MessageNumber, DecodeError> {
    let n = unsigned(text, what, offset, element)?;
    MessageNumber::new(n).ok_or_else(|| {
        DecodeError::new(
            ErrorKind::InvalidValue,
            offset,
            Some(element),
            format!("{what} {n} is out of range (1 to {})", MessageNumber::MAX),
        )
    })
}

/// A non-negative integer (whitespace around it tolerated).
pub fn unsigned(text: &str, what: &str, offset: usize, element: &str) -> Result<u64, DecodeError> {
    let t = text.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecodeError::new(
            ErrorKind::InvalidValue,
            offset,
            Some(element),
            format!(
                "{what} \"{}\" is not a non-negative integer",
                super::super::xml::preview(text)
            ),
        ));
    }
    t.parse::<u64>().map_err(|_| {
        DecodeError::new(
            ErrorKind::InvalidValue,
            offset,
            Some(element),
            format!("{what} {t} is out of range (1 to {})", MessageNumber::MAX),
        )
    })
}

/// A `u32` count such as `netrm:BufferRemaining`.
pub fn count(text: &str, what: &str, offset: usize, element: &str) -> Result<u32, DecodeError> {
    let n = unsigned(text, what, offset, element)?;
    u32::try_from(n).map_err(|_| {
        DecodeError::new(
            ErrorKind::InvalidValue,
            offset,
            Some(element),
            format!("{what} {n} is too large"),
        )
    })
}
