//! WCF message logs (`.svclog`, written by `<messageLogging>` through an
//! XmlWriterTraceListener) as a source of the one timeline, like a capture: records → logged
//! envelopes → the codec → wires. Several logs (both ends of a session, rolled files) merge
//! into one timeline with one clock.

mod attach;
mod build;
mod merge;
pub mod record;
pub mod split;
pub mod write;

pub use attach::{Attached, attach};
pub use build::{LogData, LogError, LogStats, SourceFile, read_files};
pub use merge::ClockEstimate;

use std::io::Read;
use std::path::Path;

/// Longest record read (a logged message is at most WCF's maxSizeOfMessageToLog, 256 KiB by
/// default; a large body logged at service level can be bigger, but not this big).
pub const MAX_RECORD: usize = 32 * 1024 * 1024;

/// Where a record is: its file (index among the files opened together) and byte offset, as
/// kept in `Wire::origin`.
pub fn origin(file: usize, offset: u64) -> u64 {
    ((file as u64) << 48) | (offset & ((1 << 48) - 1))
}

pub fn split_origin(origin: u64) -> (usize, u64) {
    ((origin >> 48) as usize, origin & ((1 << 48) - 1))
}

/// Whether a file looks like a message log (by its first bytes, whatever its name).
pub fn looks_like_log(path: &Path) -> bool {
    let mut head = [0u8; 4096];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let head = &head[..n];
    let text: Vec<u8> = match split::sniff(head) {
        split::Encoding::Utf8 => head.to_vec(),
        // ASCII tags of UTF-16 text: drop the zero bytes.
        _ => head.iter().copied().filter(|&b| b != 0).collect(),
    };
    memchr::memmem::find(&text, b"<E2ETraceEvent").is_some()
        || memchr::memmem::find(&text, b"<MessageLogTraceRecord").is_some()
}

/// Opens a log as UTF-8 text (UTF-16 is transcoded as it is read).
pub fn open_text(path: &Path) -> std::io::Result<(Box<dyn Read + Send>, split::Encoding)> {
    let mut f = std::fs::File::open(path)?;
    let mut head = [0u8; 2];
    let n = f.read(&mut head)?;
    let enc = split::sniff(&head[..n]);
    let rest = std::io::Cursor::new(head[..n].to_vec()).chain(std::io::BufReader::with_capacity(1 << 20, f));
    let reader: Box<dyn Read + Send> = match enc {
        split::Encoding::Utf8 => Box::new(rest),
        split::Encoding::Utf16Le => Box::new(split::Utf16ToUtf8::new(rest, false)),
        split::Encoding::Utf16Be => Box::new(split::Utf16ToUtf8::new(rest, true)),
    };
    Ok((reader, enc))
}

/// Reads the record at `offset` of a log again (the detail pane), as UTF-8 bytes.
pub fn read_record_at(path: &Path, offset: u64) -> Result<Vec<u8>, String> {
    use std::io::{Seek, SeekFrom};
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let (mut reader, enc) = open_text(path).map_err(|e| err(&e))?;
    let mut skip = offset;
    if enc == split::Encoding::Utf8 {
        let mut f = std::fs::File::open(path).map_err(|e| err(&e))?;
        f.seek(SeekFrom::Start(offset)).map_err(|e| err(&e))?;
        reader = Box::new(std::io::BufReader::new(f));
        skip = 0;
    }
    // UTF-16: offsets are in the transcoded text, so read up to it.
    std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink()).map_err(|e| err(&e))?;
    let mut s = split::Splitter::new(reader, MAX_RECORD);
    match s.next_record() {
        Ok(Some(r)) if r.offset == 0 => Ok(r.bytes.to_vec()),
        Ok(_) => Err(format!(
            "{}: no record at byte {offset} (the file changed?)",
            path.display()
        )),
        Err(e) => Err(err(&e)),
    }
}

/// A logged message: the HTTP head WCF recorded with it, and where its envelope lies.
pub type LoggedEnvelope = (Option<String>, std::ops::Range<usize>);

/// The envelope of a record, or of a pasted `<MessageLogTraceRecord>` (what `inspect` reads),
/// with the HTTP head WCF logged before it. `None` when the text is neither.
pub fn envelope_of(xml: &[u8]) -> Option<Result<LoggedEnvelope, String>> {
    let start = xml.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    let rest = &xml[start..];
    let wrapped: Vec<u8>;
    let (input, shift) = if rest.starts_with(b"<E2ETraceEvent") {
        (rest, start)
    } else if rest.starts_with(b"<MessageLogTraceRecord") {
        // A bare record: parse it as the ApplicationData of an event.
        const HEAD: &[u8] = b"<E2ETraceEvent><ApplicationData><TraceData><DataItem>";
        wrapped = [
            HEAD,
            rest,
            b"</DataItem></TraceData></ApplicationData></E2ETraceEvent>",
        ]
        .concat();
        return Some(match record::parse(&wrapped) {
            Ok(record::Record {
                content: record::Content::Message(m),
                ..
            }) => match m.envelope {
                Some(r) => Ok((m.http, r.start - HEAD.len() + start..r.end - HEAD.len() + start)),
                None => Err("the record holds no envelope".to_string()),
            },
            Ok(_) => Err("the record holds no envelope".to_string()),
            Err(e) => Err(shift_offsets(&e, HEAD.len(), start)),
        });
    } else {
        return None;
    };
    Some(match record::parse(input) {
        Ok(record::Record {
            content: record::Content::Message(m),
            ..
        }) => match m.envelope {
            Some(r) => Ok((m.http, r.start + shift..r.end + shift)),
            None => Err("the record holds no envelope".to_string()),
        },
        Ok(_) => Err("the event is not a logged message".to_string()),
        Err(e) => Err(e),
    })
}

/// Error texts name bytes of the wrapped input; give them back in the user's file.
fn shift_offsets(msg: &str, wrapped_by: usize, start: usize) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find("byte ") {
        out.push_str(&rest[..i + 5]);
        rest = &rest[i + 5..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse::<usize>() {
            out.push_str(&(n.saturating_sub(wrapped_by) + start).to_string());
            rest = &rest[digits.len()..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_record_gives_its_envelope_and_errors_name_the_users_byte() {
        let rec = b"\n<MessageLogTraceRecord>\n  <s:Envelope xmlns:s=\"s\"><s:Body/></s:Envelope>\n</MessageLogTraceRecord>";
        let (_, r) = envelope_of(rec).unwrap().unwrap();
        assert_eq!(&rec[r], b"<s:Envelope xmlns:s=\"s\"><s:Body/></s:Envelope>");
        let bad = b"<MessageLogTraceRecord><s:Envelope><a:Actions:x=\"1\">y</a:Action></s:Envelope></MessageLogTraceRecord>";
        let e = envelope_of(bad).unwrap().unwrap_err();
        assert!(e.contains("not well-formed"), "{e}");
        assert!(e.contains("(from byte 23)"), "{e}");
        assert_eq!(envelope_of(b"<s:Envelope/>"), None);
    }

    #[test]
    fn origins_keep_file_and_offset() {
        assert_eq!(split_origin(origin(3, 123_456_789)), (3, 123_456_789));
    }
}
