//! [MC-NBFSE] §2: the in-band dictionary of `application/soap+msbinsession1`. Each envelope is
//! preceded by a StringTable; its strings get ids 1, 3, 5, … continuing across the envelopes of
//! one direction of one session.

use super::nbfx::{BinaryError, Reader};

/// Bytes of strings one session may define (WCF's MaxSessionSize is 2048 by default and can be
/// raised; this bounds what a hostile stream can make us keep).
pub const MAX_SESSION_BYTES: usize = 4 * 1024 * 1024;

#[derive(Clone, Debug, Default)]
pub struct Session {
    strings: Vec<String>,
    bytes: usize,
}

impl Session {
    pub fn new() -> Self {
        Session::default()
    }

    /// A session already holding `strings` (ids 1, 3, 5, …), e.g. from earlier envelopes.
    pub fn from_strings<I: IntoIterator<Item = String>>(strings: I) -> Result<Session, String> {
        let mut s = Session::new();
        for v in strings {
            s.bytes += v.len();
            if s.bytes > MAX_SESSION_BYTES {
                return Err(format!("session dictionary beyond {MAX_SESSION_BYTES} bytes"));
            }
            s.strings.push(v);
        }
        Ok(s)
    }

    /// The string of an odd id.
    pub fn get(&self, id: u32) -> Option<&str> {
        if id.is_multiple_of(2) {
            return None;
        }
        self.strings.get((id / 2) as usize).map(String::as_str)
    }

    /// Strings defined so far.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// Reads the StringTable at the start of `payload`, adds its strings, and returns where the
    /// NBFX document starts.
    pub fn read_table(&mut self, payload: &[u8]) -> Result<usize, BinaryError> {
        let mut r = Reader::new(payload);
        let size = r.mb31()? as usize;
        let start = r.pos;
        let table = r.bytes(size)?;
        let mut t = Reader::new(table);
        while !t.at_end() {
            let s = t.string().map_err(|e| BinaryError {
                offset: start + e.offset,
                what: format!("StringTable: {}", e.what),
            })?;
            self.bytes += s.len();
            if self.bytes > MAX_SESSION_BYTES {
                return Err(BinaryError {
                    offset: start + t.pos,
                    what: format!("session dictionary beyond {MAX_SESSION_BYTES} bytes"),
                });
            }
            self.strings.push(s.to_string());
        }
        Ok(r.pos)
    }
}
