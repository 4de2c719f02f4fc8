//! Saves a live session as a capture: every message the pair put on the wire as an HTTP POST
//! over synthesised Ethernet/IPv4/TCP (real ports, consistent sequence numbers, handshake and
//! FIN), answered `202 Accepted`, at the session's own times. Lost messages are in it: the
//! capture point is at the sender.

use super::synth::{Frame, TcpConnection, http_response, soap_request};
use super::writer::{CaptureWriter, Format};
use crate::trace::{Timeline, WireKind};
use crate::wsrm::SoapVersion;
use rustc_hash::FxHashMap;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr};

/// When the session's time 0 is placed (2026-01-01T00:00:00Z): fixed, so exports are stable.
pub const EXPORT_EPOCH_NS: u64 = 1_767_225_600_000_000_000;

/// Endpoint addresses in the exported capture: an endpoint named by its socket address (a
/// session over real HTTP) keeps it; any other gets its own host 10.0.0.(n+1), port 8080 (its
/// service or back-channel listener).
fn address(timeline: &Timeline, endpoint: u16) -> SocketAddr {
    let named = timeline
        .endpoints
        .get(endpoint as usize)
        .and_then(|n| n.parse::<SocketAddr>().ok());
    named.filter(SocketAddr::is_ipv4).unwrap_or_else(|| {
        let host = Ipv4Addr::new(10, 0, (endpoint / 250) as u8, (endpoint % 250) as u8 + 1);
        SocketAddr::new(host.into(), 8080)
    })
}

/// Writes the session to `out`. `payloads[w.origin]` holds each wire's envelope bytes.
pub fn write_session<W: Write>(
    timeline: &Timeline,
    payloads: &[bytes::Bytes],
    soap: SoapVersion,
    out: W,
    format: Format,
) -> io::Result<W> {
    let mut frames: Vec<Frame> = Vec::new();
    // One keep-alive connection per (sender, receiver) pair, opened before its first message.
    let mut conns: FxHashMap<(u16, u16), (TcpConnection, u64)> = FxHashMap::default();
    let mut next_port: u16 = 49152;
    for w in &timeline.wires {
        if w.kind == WireKind::Http {
            continue;
        }
        let Some(body) = usize::try_from(w.origin).ok().and_then(|i| payloads.get(i)) else {
            return Err(io::Error::other(
                "the session's messages were not all kept (too large to export)",
            ));
        };
        let t = EXPORT_EPOCH_NS + w.time.as_nanos();
        let (conn, clock) = conns.entry((w.from, w.to)).or_insert_with(|| {
            let client = SocketAddr::new(address(timeline, w.from).ip(), next_port);
            let server = address(timeline, w.to);
            next_port = next_port.wrapping_add(1).max(49152);
            let isn = |e: u16| 0x1000_0000u32.wrapping_mul(u32::from(e) + 1);
            let mut c = TcpConnection::new(client, server, isn(w.from), isn(w.to).wrapping_add(7));
            // The handshake finishes just before the first message.
            c.open(&mut frames, t.saturating_sub(3_000));
            (c, t)
        });
        // Frames of one connection stay in order even when messages share an instant.
        let start = t.max(*clock);
        let action = crate::wsrm::decode(body)
            .ok()
            .and_then(|e| e.addressing.action.map(|a| a.uri().into_owned()));
        let request = soap_request(
            "/rmscope",
            &address(timeline, w.to).to_string(),
            soap == SoapVersion::V1_2,
            action.as_deref().unwrap_or(""),
            body,
        );
        let after_request = conn.send(&mut frames, start, true, &request);
        let accepted = http_response(202, "Accepted", None, b"");
        let end = conn.send(&mut frames, after_request + 50_000, false, &accepted);
        *clock = end + 1_000;
    }
    let mut ends: Vec<((u16, u16), (TcpConnection, u64))> = conns.into_iter().collect();
    ends.sort_by_key(|(k, _)| *k);
    for (_, (mut c, clock)) in ends {
        c.close(&mut frames, clock + 1_000_000);
    }
    frames.sort_by_key(|f| f.ts_ns);
    let mut w = CaptureWriter::new(out, format, 1, 262_144)?;
    for f in &frames {
        w.write(f.ts_ns, &f.data, f.data.len() as u32)?;
    }
    w.flush()?;
    Ok(w.into_inner())
}
