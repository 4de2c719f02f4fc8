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
    write_session_with(timeline, payloads, framing, HttpLayout::default(), out, format)
}

/// [`write_session`] with the HTTP connections and responses laid out as `layout` says.
pub fn write_session_with<W: Write>(
    timeline: &Timeline,
    payloads: &[bytes::Bytes],
    framing: Framing,
    layout: HttpLayout,
    out: W,
    format: Format,
) -> io::Result<W> {
    let frames = match framing {
        Framing::Http(soap) => http_frames(timeline, payloads, soap, layout)?,
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
) -> impl Iterator<Item = io::Result<(crate::trace::Wire, &'a [u8], u64)>> + 'a {
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

/// How an HTTP export lays out connections and responses (the defaults: one keep-alive
/// connection per sender and receiver, every request answered `202 Accepted`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HttpLayout {
    /// A sender opens a new TCP connection (a new ephemeral port) after this many requests on
    /// one, as a WCF client whose connections are recycled does (0: never).
    pub reconnect_every: u32,
    /// A standalone ack rides on the HTTP response of its source's request still unanswered
    /// (`200 OK` with the envelope), as WCF's one-way-over-HTTP destination answers, instead
    /// of a POST of its own.
    pub acks_on_responses: bool,
    /// Everything the receiver sends rides on the HTTP response of its peer's open request:
    /// replies, acks, the LastMessage reply (the request-reply shape, wsHttpBinding).
    pub replies_on_responses: bool,
}

/// One HTTP connection of the export.
struct HttpConn {
    tcp: TcpConnection,
    /// Earliest time its next frame may take.
    clock: u64,
    requests: u32,
    /// A request not answered yet: when its last frame left.
    unanswered: Option<u64>,
    /// Its MessageId, which a reply names in RelatesTo.
    unanswered_id: Option<String>,
}

impl HttpConn {
    /// Answers the open request with an empty `202 Accepted`.
    fn accept(&mut self, frames: &mut Vec<Frame>) {
        if let Some(sent) = self.unanswered.take() {
            let accepted = http_response(202, "Accepted", None, b"");
            self.clock = self.tcp.send(frames, sent + 20_000, false, &accepted) + 1_000;
        }
    }
}

fn http_frames(
    timeline: &Timeline,
    payloads: &[bytes::Bytes],
    soap: SoapVersion,
    layout: HttpLayout,
) -> io::Result<Vec<Frame>> {
    let mut frames: Vec<Frame> = Vec::new();
    let mut conns: FxHashMap<(u16, u16), HttpConn> = FxHashMap::default();
    // Connections of a sender still waiting for a response while it sent on another.
    let mut spare: FxHashMap<(u16, u16), Vec<HttpConn>> = FxHashMap::default();
    let mut next_port: u16 = 49152;
    let mut open = |frames: &mut Vec<Frame>, from: u16, to: u16, t: u64| {
        let client = SocketAddr::new(address(timeline, from).ip(), next_port);
        next_port = next_port.wrapping_add(1).max(49152);
        let server = address(timeline, to);
        let mut c = TcpConnection::new(client, server, isn(from), isn(to).wrapping_add(7));
        // The handshake finishes just before the first message.
        c.open(frames, t.saturating_sub(3_000));
        HttpConn {
            tcp: c,
            clock: t,
            requests: 0,
            unanswered: None,
            unanswered_id: None,
        }
    };
    // The timeline is in causal order (an ack is recorded after the message it covers), and
    // the capture keeps it: a message starts no earlier than the previous message's last frame,
    // whatever connection either is on (issue 17: an ack ahead of its message read as invalid).
    let mut causal = 0u64;
    for m in messages(timeline, payloads) {
        let (w, body, t) = m?;
        let t = t.max(causal);
        // A standalone ack answers its source's open request, when there is one.
        let answers = layout.replies_on_responses || layout.acks_on_responses && w.kind == WireKind::Ack;
        // The peer's open request this answers: the one its RelatesTo names, else the oldest
        // — on a connection waiting for its response, or the current one.
        let relates = if layout.replies_on_responses {
            crate::wsrm::decode(body)
                .ok()
                .and_then(|e| e.addressing.relates_to.map(|r| r.message_id.to_string()))
        } else {
            None
        };
        let waiting = spare.get_mut(&(w.to, w.from)).and_then(|list| {
            let named = list
                .iter()
                .position(|c| c.unanswered.is_some() && relates.is_some() && c.unanswered_id == relates);
            let oldest = || {
                (0..list.len())
                    .filter(|&i| list[i].unanswered.is_some())
                    .min_by_key(|&i| list[i].unanswered)
            };
            let main_named = relates.is_some()
                && conns
                    .get(&(w.to, w.from))
                    .is_some_and(|c| c.unanswered.is_some() && c.unanswered_id == relates);
            match named {
                Some(i) => Some(&mut list[i]),
                None if main_named => None,
                None => oldest().map(|i| &mut list[i]),
            }
        });
        let open_request = match waiting {
            Some(c) => Some(c),
            None => conns.get_mut(&(w.to, w.from)).filter(|c| c.unanswered.is_some()),
        };
        if answers && let Some(c) = open_request {
            let sent = c.unanswered.take().unwrap_or(t);
            let response = http_response(200, "OK", Some(content_type(soap)), body);
            c.clock = c
                .tcp
                .send(&mut frames, t.max(sent + 1_000).max(c.clock), false, &response)
                + 1_000;
            causal = c.clock;
            continue;
        }
        let renew = conns
            .get(&(w.from, w.to))
            .is_some_and(|c| layout.reconnect_every > 0 && c.requests >= layout.reconnect_every);
        if renew && let Some(mut old) = conns.remove(&(w.from, w.to)) {
            old.accept(&mut frames);
            old.tcp.close(&mut frames, old.clock + 1_000);
        }
        if layout.replies_on_responses && conns.get(&(w.from, w.to)).is_some_and(|c| c.unanswered.is_some()) {
            // A request while the last waits for its response goes on another connection (a
            // client's connection pool; HTTP/1.1 does not pipeline).
            let busy = conns.remove(&(w.from, w.to)).expect("checked");
            let list = spare.entry((w.from, w.to)).or_default();
            let idle = list
                .iter()
                .position(|c| c.unanswered.is_none())
                .map(|i| list.remove(i));
            list.push(busy);
            if let Some(c) = idle {
                conns.insert((w.from, w.to), c);
            }
        }
        let conn = match conns.entry((w.from, w.to)) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(open(&mut frames, w.from, w.to, t)),
        };
        // HTTP/1.1 without pipelining: the previous request is answered first.
        conn.accept(&mut frames);
        let start = t.max(conn.clock);
        let decoded = crate::wsrm::decode(body).ok();
        let action = decoded
            .as_ref()
            .and_then(|e| e.addressing.action.as_ref().map(|a| a.uri().into_owned()));
        let message_id = decoded.and_then(|e| e.addressing.message_id.map(|m| m.to_string()));
        let request = soap_request(
            "/rmscope",
            &address(timeline, w.to).to_string(),
            soap == SoapVersion::V1_2,
            action.as_deref().unwrap_or(""),
            body,
        );
        let after_request = conn.tcp.send(&mut frames, start, true, &request);
        causal = after_request + 1_000;
        conn.clock = causal;
        conn.requests += 1;
        conn.unanswered = Some(after_request);
        conn.unanswered_id = message_id;
        if !layout.acks_on_responses && !layout.replies_on_responses {
            conn.accept(&mut frames);
        }
    }
    let mut ends: Vec<((u16, u16), HttpConn)> = conns.into_iter().collect();
    ends.extend(
        spare
            .into_iter()
            .flat_map(|(k, list)| list.into_iter().map(move |c| (k, c))),
    );
    ends.sort_by_key(|(k, _)| *k);
    for (_, mut c) in ends {
        c.accept(&mut frames);
        c.tcp.close(&mut frames, c.clock + 1_000_000);
    }
    frames.sort_by_key(|f| f.ts_ns);
    Ok(frames)
}

/// The Content-Type of a SOAP response (a response carries no action).
fn content_type(soap: SoapVersion) -> &'static str {
    match soap {
        SoapVersion::V1_2 => "application/soap+xml; charset=utf-8",
        SoapVersion::V1_1 => "text/xml; charset=utf-8",
    }
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
    // As over HTTP: frames keep the timeline's causal order across connections.
    let mut causal = 0u64;
    for m in messages(timeline, payloads) {
        let (w, body, t) = m?;
        let t = t.max(causal);
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
        causal = conn.clock;
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
