//! Saves a live session as a capture: every message the pair put on the wire over synthesised
//! Ethernet/IPv4/TCP (real ports, consistent sequence numbers, handshake and FIN), at the
//! session's own times — as HTTP POSTs answered `202 Accepted`, or as net.tcp: .NET Message
//! Framing with binary XML and a session dictionary, as WCF's netTcpBinding sends it. Lost
//! messages are in it: the capture point is at the sender.

use super::synth::{Frame, TcpConnection, http_response, soap_request};
use super::writer::{CaptureWriter, Format};
use crate::trace::{Timeline, WireKind};
use crate::wsrm::SoapVersion;
use crate::wsrm::binary::{self, WriterSession};
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

/// How the messages are carried in the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// One keep-alive HTTP connection per (sender, receiver); SOAP 1.2 or 1.1 headers.
    Http(SoapVersion),
    /// One net.tcp duplex connection per pair of endpoints, opened by the first to send
    /// ([MC-NMF] preamble, `application/soap+msbinsession1`, sized envelopes, End records).
    NetTcp,
}

/// net.tcp's registered port ([MC-NMF] §2.1).
pub const NET_TCP_PORT: u16 = 808;

/// Writes the session to `out`. `payloads[w.origin]` holds each wire's envelope bytes.
pub fn write_session<W: Write>(
    timeline: &Timeline,
    payloads: &[bytes::Bytes],
    framing: Framing,
    out: W,
    format: Format,
) -> io::Result<W> {
    let frames = match framing {
        Framing::Http(soap) => http_frames(timeline, payloads, soap)?,
        Framing::NetTcp => nettcp_frames(timeline, payloads)?,
    };
    let mut w = CaptureWriter::new(out, format, 1, 262_144)?;
    for f in &frames {
        w.write(f.ts_ns, &f.data, f.data.len() as u32)?;
    }
    w.flush()?;
    Ok(w.into_inner())
}

/// The wires that went on the wire, with their envelope bytes and export times.
fn messages<'a>(
    timeline: &'a Timeline,
    payloads: &'a [bytes::Bytes],
) -> impl Iterator<Item = io::Result<(&'a crate::trace::Wire, &'a [u8], u64)>> + 'a {
    timeline
        .wires
        .iter()
        .filter(|w| w.kind != WireKind::Http)
        .map(|w| {
            let body = usize::try_from(w.origin)
                .ok()
                .and_then(|i| payloads.get(i))
                .ok_or_else(|| {
                    io::Error::other("the session's messages were not all kept (too large to export)")
                })?;
            Ok((w, &body[..], EXPORT_EPOCH_NS + w.time.as_nanos()))
        })
}

fn isn(endpoint: u16) -> u32 {
    0x1000_0000u32.wrapping_mul(u32::from(endpoint) + 1)
}

fn http_frames(timeline: &Timeline, payloads: &[bytes::Bytes], soap: SoapVersion) -> io::Result<Vec<Frame>> {
    let mut frames: Vec<Frame> = Vec::new();
    // One keep-alive connection per (sender, receiver) pair, opened before its first message.
    let mut conns: FxHashMap<(u16, u16), (TcpConnection, u64)> = FxHashMap::default();
    let mut next_port: u16 = 49152;
    for m in messages(timeline, payloads) {
        let (w, body, t) = m?;
        let (conn, clock) = conns.entry((w.from, w.to)).or_insert_with(|| {
            let client = SocketAddr::new(address(timeline, w.from).ip(), next_port);
            let server = address(timeline, w.to);
            next_port = next_port.wrapping_add(1).max(49152);
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
    Ok(frames)
}

/// One net.tcp connection: the endpoint that opened it, and each direction's session dictionary.
struct NetTcpConn {
    tcp: TcpConnection,
    clock: u64,
    client: u16,
    sessions: [WriterSession; 2],
}

fn nettcp_frames(timeline: &Timeline, payloads: &[bytes::Bytes]) -> io::Result<Vec<Frame>> {
    let mut frames: Vec<Frame> = Vec::new();
    let mut conns: FxHashMap<(u16, u16), NetTcpConn> = FxHashMap::default();
    let mut next_port: u16 = 49152;
    for m in messages(timeline, payloads) {
        let (w, body, t) = m?;
        let key = (w.from.min(w.to), w.from.max(w.to));
        let conn = conns.entry(key).or_insert_with(|| {
            let client = SocketAddr::new(address(timeline, w.from).ip(), next_port);
            let server = SocketAddr::new(address(timeline, w.to).ip(), NET_TCP_PORT);
            next_port = next_port.wrapping_add(1).max(49152);
            let mut tcp = TcpConnection::new(client, server, isn(w.from), isn(w.to).wrapping_add(7));
            tcp.open(&mut frames, t.saturating_sub(5_000));
            // [MC-NMF] §2.2.3: Version 1.0, Mode duplex, Via, KnownEncoding msbinsession1,
            // PreambleEnd; the service answers PreambleAck.
            let via = format!("net.tcp://{server}/rmscope");
            let mut preamble = vec![0x00, 0x01, 0x00, 0x01, 0x02, 0x02];
            binary::encode::mb31(&mut preamble, via.len());
            preamble.extend_from_slice(via.as_bytes());
            preamble.extend_from_slice(&[0x03, 0x08, 0x0C]);
            let sent = tcp.send(&mut frames, t.saturating_sub(3_000), true, &preamble);
            let acked = tcp.send(&mut frames, sent + 500, false, &[0x0B]);
            NetTcpConn {
                tcp,
                clock: acked + 500,
                client: w.from,
                sessions: [WriterSession::new(), WriterSession::new()],
            }
        });
        let from_client = w.from == conn.client;
        let xml = std::str::from_utf8(body)
            .map_err(|e| io::Error::other(format!("an envelope is not UTF-8: {e}")))?;
        let doc = binary::encode(xml, Some(&mut conn.sessions[usize::from(!from_client)]))
            .map_err(|e| io::Error::other(format!("an envelope has no binary form: {e}")))?;
        // [MC-NMF] §2.2.3.6 SizedEnvelope record.
        let mut record = Vec::with_capacity(doc.len() + 6);
        record.push(0x06);
        binary::encode::mb31(&mut record, doc.len());
        record.extend_from_slice(&doc);
        let start = t.max(conn.clock);
        conn.clock = conn.tcp.send(&mut frames, start, from_client, &record) + 1_000;
    }
    let mut ends: Vec<((u16, u16), NetTcpConn)> = conns.into_iter().collect();
    ends.sort_by_key(|(k, _)| *k);
    for (_, mut c) in ends {
        // [MC-NMF] §2.2.3.9 End records from both sides, then the TCP close.
        let after = c.tcp.send(&mut frames, c.clock + 1_000, true, &[0x07]);
        let after = c.tcp.send(&mut frames, after + 1_000, false, &[0x07]);
        c.tcp.close(&mut frames, after + 1_000_000);
    }
    frames.sort_by_key(|f| f.ts_ns);
    Ok(frames)
}
