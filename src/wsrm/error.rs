//! Decode errors and warnings: each names the element and the byte offset.

use serde::Serialize;
use std::fmt;

/// What went wrong, coarsely; [`DecodeError::message`] has the details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not well-formed XML (syntax, mismatched tags, bad attribute).
    Syntax,
    /// Input is not UTF-8.
    Encoding,
    /// Input larger than the configured limit.
    TooLarge,
    /// Elements nested deeper than the configured limit.
    TooDeep,
    /// A DOCTYPE / DTD (refused: no entity expansion).
    Dtd,
    /// An entity reference other than the five predefined ones or a character reference.
    UnknownEntity,
    /// A prefix with no namespace declaration (strict mode, or not a well-known prefix).
    UnboundPrefix,
    /// The document is not a SOAP envelope (strict mode).
    NotEnvelope,
    /// A required element or attribute is absent.
    Missing,
    /// A value does not parse or is out of range.
    InvalidValue,
    /// Content that the WS-RM schema forbids (Lower > Upper, overlapping ranges, ranges + Nack).
    InvalidContent,
    /// Elements of two WS-RM versions in one message.
    VersionMismatch,
    /// Binary XML ([MC-NBFX]) records that cannot be read.
    Binary,
}

/// A decode failure at a byte offset, naming the element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DecodeError {
    pub kind: ErrorKind,
    /// Byte offset into the input where the offending element (or token) starts.
    pub offset: usize,
    /// The element as written (`wsrm:AcknowledgementRange`), when one is concerned.
    pub element: Option<String>,
    pub message: String,
}

impl DecodeError {
    pub fn new(kind: ErrorKind, offset: usize, element: Option<&str>, message: impl Into<String>) -> Self {
        DecodeError {
            kind,
            offset,
            element: element.map(str::to_string),
            message: message.into(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.element {
            Some(e) => write!(f, "<{e}> at byte {}: {}", self.offset, self.message),
            None => write!(f, "at byte {}: {}", self.offset, self.message),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Something odd that did not stop decoding (assumed namespaces, WCF's `0-0` range, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.message)
    }
}
