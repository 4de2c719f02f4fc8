//! Saves a live session as the message logs WCF would have written at transport level on each
//! end (`<messageLogging logMessagesAtTransportLevel="true">` through an
//! XmlWriterTraceListener): one `.svclog` per endpoint, a TransportSend record when a message
//! left it and a TransportReceive record when one arrived (a lost message is only in its
//! sender's log), in the record layout of the real files in `../shared/fixtures/wcf-svclog/`.

use crate::capture::export::EXPORT_EPOCH_NS;
use crate::trace::{EventKind, Time, Timeline, WireKind};
use rustc_hash::FxHashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// `2026-01-01T00:00:00.1234567Z`: UTC with .NET's seven fractional digits.
pub fn system_time(ns: u64) -> String {
    let secs = std::time::UNIX_EPOCH + std::time::Duration::from_secs(ns / 1_000_000_000);
    let whole = humantime::format_rfc3339_seconds(secs).to_string();
    format!(
        "{}.{:07}Z",
        whole.trim_end_matches('Z'),
        (ns % 1_000_000_000) / 100
    )
}

/// A file name for an endpoint: its name with anything but letters and digits as `-`.
fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "endpoint".into() } else { s }
}

/// Escapes an attribute value.
fn attr(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// One transport-level record around `envelope`.
pub fn record(time_ns: u64, process: &str, pid: u32, send: bool, activity: u64, envelope: &[u8]) -> Vec<u8> {
    let t = system_time(time_ns);
    let local = format!("{}+00:00", t.trim_end_matches('Z'));
    let mut out = Vec::with_capacity(envelope.len() + 1024);
    let _ = write!(
        out,
        "<E2ETraceEvent xmlns=\"http://schemas.microsoft.com/2004/06/E2ETraceEvent\"><System xmlns=\"http://schemas.microsoft.com/2004/06/windows/eventlog/system\"><EventID>0</EventID><Type>3</Type><SubType Name=\"Information\">0</SubType><Level>8</Level><TimeCreated SystemTime=\"{t}\" /><Source Name=\"System.ServiceModel.MessageLogging\" /><Correlation ActivityID=\"{{{:08x}-0000-4000-8000-{:012x}}}\" /><Execution ProcessName=\"{}\" ProcessID=\"{pid}\" ThreadID=\"1\" /><Channel/><Computer>RMSCOPE</Computer></System><ApplicationData><TraceData><DataItem><MessageLogTraceRecord Time=\"{local}\" Source=\"{}\" Type=\"System.ServiceModel.Channels.BufferedMessage\" xmlns=\"http://schemas.microsoft.com/2004/06/ServiceModel/Management/MessageTrace\">",
        activity >> 48,
        activity & 0xffff_ffff_ffff,
        attr(process),
        if send { "TransportSend" } else { "TransportReceive" },
    );
    out.extend_from_slice(strip_declaration(envelope));
    out.extend_from_slice(
        b"</MessageLogTraceRecord></DataItem></TraceData></ApplicationData></E2ETraceEvent>",
    );
    out
}

/// An XML declaration cannot stand inside a record (WCF logs the envelope without one).
fn strip_declaration(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    if b.starts_with(b"<?xml")
        && let Some(end) = memchr::memmem::find(b, b"?>")
    {
        return b[end + 2..].trim_ascii_start();
    }
    b
}

/// Writes one log per endpoint into `dir`; returns their paths, in endpoint order.
/// `payloads[w.origin]` holds each wire's envelope bytes.
pub fn write_logs(timeline: &Timeline, payloads: &[bytes::Bytes], dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let arrived: FxHashMap<u32, Time> = timeline
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Arrived { wire } => Some((wire, e.time)),
            _ => None,
        })
        .collect();
    // Per endpoint: (time, order, record).
    let mut per: Vec<Vec<(u64, usize, Vec<u8>)>> = vec![Vec::new(); timeline.endpoints.len()];
    for (i, w) in timeline.wires.iter().enumerate() {
        if w.kind == WireKind::Http {
            continue;
        }
        let body = usize::try_from(w.origin)
            .ok()
            .and_then(|o| payloads.get(o))
            .ok_or_else(|| {
                io::Error::other("the session's messages were not all kept (too large to save)")
            })?;
        let name = |e: u16| {
            timeline
                .endpoints
                .get(e as usize)
                .map_or("endpoint", |n| n.as_str())
        };
        let activity = i as u64 + 1;
        if let Some(v) = per.get_mut(w.from as usize) {
            let t = EXPORT_EPOCH_NS + w.time.0;
            v.push((
                t,
                v.len(),
                record(t, name(w.from), 1000 + w.from as u32, true, activity, body),
            ));
        }
        if let (Some(at), Some(v)) = (arrived.get(&(i as u32)), per.get_mut(w.to as usize)) {
            let t = EXPORT_EPOCH_NS + at.0;
            v.push((
                t,
                v.len(),
                record(t, name(w.to), 1000 + w.to as u32, false, activity, body),
            ));
        }
    }
    let mut paths = Vec::new();
    for (e, mut recs) in per.into_iter().enumerate() {
        if recs.is_empty() {
            continue;
        }
        recs.sort_by_key(|(t, n, _)| (*t, *n));
        let path = dir.join(format!("{}.svclog", file_stem(&timeline.endpoints[e])));
        let mut f = io::BufWriter::new(std::fs::File::create(&path)?);
        for (_, _, r) in recs {
            f.write_all(&r)?;
        }
        f.flush()?;
        paths.push(path);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_dotnet_writes_them() {
        assert_eq!(
            system_time(EXPORT_EPOCH_NS + 1_234_567_890),
            "2026-01-01T00:00:01.2345678Z"
        );
        let r = record(
            EXPORT_EPOCH_NS,
            "RM source",
            1000,
            true,
            7,
            b"<?xml version=\"1.0\"?>\n<s:Envelope/>",
        );
        let parsed = super::super::record::parse(&r).unwrap();
        assert_eq!(parsed.time_ns, Some(EXPORT_EPOCH_NS));
        assert_eq!(parsed.process.label(), "RM source (1000) on RMSCOPE");
        let crate::svclog::record::Content::Message(m) = parsed.content else {
            panic!()
        };
        assert!(m.send);
        assert_eq!(&r[m.envelope.unwrap()], b"<s:Envelope/>");
    }
}
