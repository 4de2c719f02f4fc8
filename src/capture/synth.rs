//! Synthesises TCP connections carrying HTTP, frame by frame (Ethernet + IPv4/IPv6 + TCP with
//! correct checksums, via etherparse's PacketBuilder): SYN handshake, data segmented to the MSS
//! with ACKs, FIN. Sequence numbers stay consistent, so Wireshark reassembles what this writes.

use etherparse::PacketBuilder;
use std::net::{IpAddr, SocketAddr};

/// One synthesised frame: Ethernet bytes and when it is sent (ns since the Unix epoch).
#[derive(Clone, Debug)]
pub struct Frame {
    pub ts_ns: u64,
    pub data: Vec<u8>,
}

/// A TCP connection between a client and a server; it appends frames to `frames`.
pub struct TcpConnection {
    pub client: SocketAddr,
    pub server: SocketAddr,
    client_seq: u32,
    server_seq: u32,
    /// Maximum segment size for data.
    pub mss: usize,
}

fn mac(addr: &SocketAddr) -> [u8; 6] {
    // Locally administered MACs derived from the address (stable per endpoint).
    let h = match addr.ip() {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => v6
            .segments()
            .iter()
            .fold(0u32, |a, s| a.rotate_left(5) ^ *s as u32),
    };
    let b = h.to_be_bytes();
    [0x02, 0x00, b[0], b[1], b[2], b[3]]
}

impl TcpConnection {
    pub fn new(client: SocketAddr, server: SocketAddr, client_isn: u32, server_isn: u32) -> Self {
        TcpConnection {
            client,
            server,
            client_seq: client_isn,
            server_seq: server_isn,
            mss: 1460,
        }
    }

    fn frame(&self, from_client: bool, flags: Flags, payload: &[u8]) -> Vec<u8> {
        let (src, dst) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let (seq, ack) = if from_client {
            (self.client_seq, self.server_seq)
        } else {
            (self.server_seq, self.client_seq)
        };
        let eth = PacketBuilder::ethernet2(mac(&src), mac(&dst));
        let ip = match (src.ip(), dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), 64),
            (IpAddr::V6(s), IpAddr::V6(d)) => eth.ipv6(s.octets(), d.octets(), 64),
            _ => panic!("client and server must use the same IP version"),
        };
        let mut tcp = ip.tcp(src.port(), dst.port(), seq, 65535);
        if flags.syn {
            tcp = tcp.syn();
        }
        if flags.ack {
            tcp = tcp.ack(ack);
        }
        if flags.fin {
            tcp = tcp.fin();
        }
        if flags.psh {
            tcp = tcp.psh();
        }
        let mut out = Vec::with_capacity(tcp.size(payload.len()));
        tcp.write(&mut out, payload).expect("writing to a Vec");
        out
    }

    fn push(&mut self, frames: &mut Vec<Frame>, ts_ns: u64, from_client: bool, flags: Flags, payload: &[u8]) {
        let data = self.frame(from_client, flags, payload);
        frames.push(Frame { ts_ns, data });
        let used = payload.len() as u32 + u32::from(flags.syn) + u32::from(flags.fin);
        if from_client {
            self.client_seq = self.client_seq.wrapping_add(used);
        } else {
            self.server_seq = self.server_seq.wrapping_add(used);
        }
    }

    /// SYN, SYN-ACK, ACK, 1 µs apart.
    pub fn open(&mut self, frames: &mut Vec<Frame>, ts_ns: u64) {
        self.push(
            frames,
            ts_ns,
            true,
            Flags {
                syn: true,
                ..Flags::default()
            },
            &[],
        );
        self.push(
            frames,
            ts_ns + 1_000,
            false,
            Flags {
                syn: true,
                ack: true,
                ..Flags::default()
            },
            &[],
        );
        self.push(
            frames,
            ts_ns + 2_000,
            true,
            Flags {
                ack: true,
                ..Flags::default()
            },
            &[],
        );
    }

    /// Sends `payload` in MSS-sized segments (1 µs apart), then a pure ACK from the peer.
    pub fn send(&mut self, frames: &mut Vec<Frame>, ts_ns: u64, from_client: bool, payload: &[u8]) -> u64 {
        let mut t = ts_ns;
        for chunk in payload.chunks(self.mss.max(1)) {
            self.push(
                frames,
                t,
                from_client,
                Flags {
                    ack: true,
                    psh: true,
                    ..Flags::default()
                },
                chunk,
            );
            t += 1_000;
        }
        self.push(
            frames,
            t,
            !from_client,
            Flags {
                ack: true,
                ..Flags::default()
            },
            &[],
        );
        t
    }

    /// FIN from the client, FIN-ACK from the server, last ACK.
    pub fn close(&mut self, frames: &mut Vec<Frame>, ts_ns: u64) {
        self.push(
            frames,
            ts_ns,
            true,
            Flags {
                fin: true,
                ack: true,
                ..Flags::default()
            },
            &[],
        );
        self.push(
            frames,
            ts_ns + 1_000,
            false,
            Flags {
                fin: true,
                ack: true,
                ..Flags::default()
            },
            &[],
        );
        self.push(
            frames,
            ts_ns + 2_000,
            true,
            Flags {
                ack: true,
                ..Flags::default()
            },
            &[],
        );
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    syn: bool,
    ack: bool,
    fin: bool,
    psh: bool,
}

/// An HTTP/1.1 POST carrying a SOAP envelope (SOAP 1.2: `application/soap+xml` with the action
/// parameter; SOAP 1.1: `text/xml` + SOAPAction).
pub fn soap_request(path: &str, host: &str, soap12: bool, action: &str, body: &[u8]) -> Vec<u8> {
    let ct = if soap12 {
        format!("Content-Type: application/soap+xml; charset=utf-8; action=\"{action}\"\r\n")
    } else {
        format!("Content-Type: text/xml; charset=utf-8\r\nSOAPAction: \"{action}\"\r\n")
    };
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{ct}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// An HTTP/1.1 response; an empty body gets `Content-Length: 0`.
pub fn http_response(status: u16, reason: &str, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let ct = content_type.map_or(String::new(), |c| format!("Content-Type: {c}\r\n"));
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\n{ct}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}
