//! The client end of one direction: a keep-alive HTTP/1.1 connection that pipelines requests
//! (RFC 9112 §9.3.2: a client may send several requests without waiting; the server answers in
//! order). Why not hyper's client: it sends one request per connection at a time, so at loopback
//! speed every message cost its own write, read and wakeup on each side. Measured with
//! `benches/http_loopback.sh` on one runtime worker: hyper's client 31,000 msg/s, this one
//! 73,900. Responses are parsed by httparse; the server side stays hyper.

use bytes::{Buf, BytesMut};
use std::collections::VecDeque;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Most header lines read in a response.
const MAX_HEADERS: usize = 32;
/// Largest response head (status line and headers).
const MAX_HEAD: usize = 64 * 1024;

/// A request to pipeline: extra header lines (name, value) and the body.
pub struct Request<'a> {
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// A response, matched to its request by order.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// The `rmscope-wire` header (which wire of the timeline the body carries), when present.
    pub wire: Option<u32>,
    pub body: Vec<u8>,
}

/// Why a connection ended; every request still waiting for its response failed with it.
#[derive(Debug, PartialEq, Eq)]
pub enum ConnError {
    Io(String),
    /// The peer closed the connection.
    Closed,
    /// A response rmscope cannot read (not HTTP/1.1, no Content-Length, too large).
    Protocol(String),
}

/// A header value that cannot be written as is (RFC 9110 §5.5: no CR, LF or NUL).
pub fn valid_header_value(v: &str) -> bool {
    !v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

/// Appends one request to `out` (the caller checked the header values).
pub fn write_request(out: &mut Vec<u8>, host: &SocketAddr, path: &str, req: &Request<'_>) {
    use std::io::Write;
    let _ = write!(out, "POST {path} HTTP/1.1\r\nhost: {host}\r\n");
    for (name, value) in req.headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    let _ = write!(out, "content-length: {}\r\n\r\n", req.body.len());
    out.extend_from_slice(req.body);
}

/// Reads responses off a byte buffer as they complete.
pub struct ResponseParser {
    buf: BytesMut,
    max_body: usize,
}

impl ResponseParser {
    pub fn new(max_body: usize) -> ResponseParser {
        ResponseParser {
            buf: BytesMut::new(),
            max_body,
        }
    }

    pub fn buffer(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// The next complete response, `Ok(None)` when more bytes are needed. Interim 1xx
    /// responses are skipped (RFC 9110 §15.2).
    pub fn next_response(&mut self) -> Result<Option<Response>, ConnError> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut r = httparse::Response::new(&mut headers);
            let head_len = match r.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => n,
                Ok(httparse::Status::Partial) if self.buf.len() > MAX_HEAD => {
                    return Err(ConnError::Protocol(format!(
                        "response head longer than {MAX_HEAD} bytes"
                    )));
                }
                Ok(httparse::Status::Partial) => return Ok(None),
                Err(e) => return Err(ConnError::Protocol(format!("bad response: {e}"))),
            };
            let status = r.code.unwrap_or(0);
            let mut length = None;
            let mut wire = None;
            for h in r.headers.iter() {
                if h.name.eq_ignore_ascii_case("content-length") {
                    let n = std::str::from_utf8(h.value)
                        .ok()
                        .and_then(|v| v.trim().parse::<usize>().ok());
                    length = Some(n.ok_or_else(|| ConnError::Protocol("bad Content-Length".into()))?);
                } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err(ConnError::Protocol(
                        "response uses Transfer-Encoding; rmscope's peer sends Content-Length".into(),
                    ));
                } else if h.name.eq_ignore_ascii_case(super::http::WIRE) {
                    wire = std::str::from_utf8(h.value).ok().and_then(|v| v.parse().ok());
                }
            }
            if (100..200).contains(&status) {
                self.buf.advance(head_len);
                continue;
            }
            // RFC 9112 §6.3: 204 and 304 have no body; otherwise rmscope's peer sends a length.
            let length = match (status, length) {
                (204 | 304, _) => 0,
                (_, Some(n)) => n,
                (_, None) => return Err(ConnError::Protocol("response without Content-Length".into())),
            };
            if length > self.max_body {
                return Err(ConnError::Protocol(format!(
                    "response body of {length} bytes is over the {} byte limit",
                    self.max_body
                )));
            }
            if self.buf.len() < head_len + length {
                return Ok(None);
            }
            self.buf.advance(head_len);
            let body = self.buf.split_to(length).to_vec();
            return Ok(Some(Response { status, wire, body }));
        }
    }
}

/// One pipelined connection: requests go out in batches, responses come back in order, each
/// with the caller's record (`T`) of the request it answers.
pub struct Connection<T> {
    write: OwnedWriteHalf,
    read: OwnedReadHalf,
    parser: ResponseParser,
    /// Requests written, not yet answered, oldest first.
    pending: VecDeque<T>,
}

impl<T> Connection<T> {
    pub async fn connect(addr: SocketAddr, max_body: usize) -> Result<Connection<T>, ConnError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| ConnError::Io(e.to_string()))?;
        // Small requests back to back: Nagle's algorithm would hold each for the peer's delayed ACK.
        stream
            .set_nodelay(true)
            .map_err(|e| ConnError::Io(e.to_string()))?;
        let (read, write) = stream.into_split();
        Ok(Connection {
            write,
            read,
            parser: ResponseParser::new(max_body),
            pending: VecDeque::new(),
        })
    }

    /// Requests waiting for their response.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Writes requests already encoded into `bytes`; `tags` (one per request, in order) come
    /// back with their responses.
    pub async fn send(&mut self, bytes: &[u8], tags: impl IntoIterator<Item = T>) -> Result<(), ConnError> {
        self.pending.extend(tags);
        self.write
            .write_all(bytes)
            .await
            .map_err(|e| ConnError::Io(e.to_string()))
    }

    /// Waits for bytes and returns the responses they complete, each with its request's tag.
    /// An error ends the connection: [`Connection::abandon`] gives the unanswered tags.
    pub async fn receive(&mut self, out: &mut Vec<(T, Response)>) -> Result<(), ConnError> {
        let n = self
            .read
            .read_buf(self.parser.buffer())
            .await
            .map_err(|e| ConnError::Io(e.to_string()))?;
        if n == 0 {
            return Err(ConnError::Closed);
        }
        while let Some(resp) = self.parser.next_response()? {
            let Some(tag) = self.pending.pop_front() else {
                return Err(ConnError::Protocol("a response to no request".into()));
            };
            out.push((tag, resp));
        }
        Ok(())
    }

    /// The tags of the requests that will never be answered (the connection is dropped).
    pub fn abandon(self) -> VecDeque<T> {
        self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(p: &mut ResponseParser) -> Result<Vec<Response>, ConnError> {
        let mut v = Vec::new();
        while let Some(r) = p.next_response()? {
            v.push(r);
        }
        Ok(v)
    }

    #[test]
    fn pipelined_responses_split_anywhere_come_out_whole_and_in_order() {
        let wire = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n\
HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 200 OK\r\ncontent-type: application/soap+xml\r\nrmscope-wire: 7\r\ncontent-length: 5\r\n\r\nhello\
HTTP/1.1 500 Internal Server Error\r\ncontent-length: 2\r\n\r\nno";
        for split in 0..wire.len() {
            let mut p = ResponseParser::new(1024);
            p.buffer().extend_from_slice(&wire[..split]);
            let mut got = parse_all(&mut p).unwrap();
            p.buffer().extend_from_slice(&wire[split..]);
            got.extend(parse_all(&mut p).unwrap());
            assert!(p.buffer().is_empty());
            let summary: Vec<_> = got
                .iter()
                .map(|r| (r.status, r.wire, r.body.as_slice()))
                .collect();
            assert_eq!(
                summary,
                [
                    (202, None, &b""[..]),
                    (200, Some(7), b"hello"),
                    (500, None, b"no")
                ],
                "split at {split}"
            );
        }
    }

    #[test]
    fn unreadable_responses_are_errors_not_hangs() {
        let cases: [(&[u8], &str); 4] = [
            (b"HTTP/1.1 200 OK\r\n\r\n", "without Content-Length"),
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
                "Transfer-Encoding",
            ),
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: 99999\r\n\r\n",
                "over the 1024 byte limit",
            ),
            (b"garbage\r\n\r\n", "bad response"),
        ];
        for (bytes, why) in cases {
            let mut p = ResponseParser::new(1024);
            p.buffer().extend_from_slice(bytes);
            match p.next_response() {
                Err(ConnError::Protocol(m)) => assert!(m.contains(why), "{m}"),
                other => panic!("{}: {other:?}", String::from_utf8_lossy(bytes)),
            }
        }
        let mut p = ResponseParser::new(1024);
        p.buffer().extend_from_slice(&[b'x'; MAX_HEAD + 1]);
        assert!(matches!(p.next_response(), Err(ConnError::Protocol(_))));
    }

    #[test]
    fn requests_carry_their_headers_and_length() {
        let mut out = Vec::new();
        let host: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let req = Request {
            headers: &[("content-type", "text/xml"), ("rmscope-seq", "3")],
            body: b"<e/>",
        };
        write_request(&mut out, &host, "/rmscope", &req);
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut r = httparse::Request::new(&mut headers);
        let n = match r.parse(&out).unwrap() {
            httparse::Status::Complete(n) => n,
            httparse::Status::Partial => panic!("incomplete"),
        };
        assert_eq!((r.method, r.path), (Some("POST"), Some("/rmscope")));
        let h: Vec<(&str, &[u8])> = r.headers.iter().map(|h| (h.name, h.value)).collect();
        assert_eq!(
            h,
            [
                ("host", &b"127.0.0.1:8080"[..]),
                ("content-type", b"text/xml"),
                ("rmscope-seq", b"3"),
                ("content-length", b"4")
            ]
        );
        assert_eq!(&out[n..], b"<e/>");
        assert!(valid_header_value("urn:a"));
        assert!(!valid_header_value("a\r\nx-injected: 1"));
    }

    /// A peer that reads `requests` pipelined requests, then writes `reply` in one go and closes.
    async fn peer(reply: &'static [u8], requests: usize) -> SocketAddr {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while got.windows(4).filter(|w| w == b"<e/>").count() < requests {
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0, "the client closed early");
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(reply).await.unwrap();
        });
        addr
    }

    fn two_requests(host: &SocketAddr) -> Vec<u8> {
        let mut out = Vec::new();
        for seq in ["1", "2"] {
            let req = Request {
                headers: &[("rmscope-seq", seq)],
                body: b"<e/>",
            };
            write_request(&mut out, host, "/p", &req);
        }
        out
    }

    #[tokio::test]
    async fn answers_to_a_batch_come_back_tagged_in_order() {
        let addr = peer(
            b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\nrmscope-wire: 4\r\ncontent-length: 3\r\n\r\nack",
            2,
        )
        .await;
        let mut c = Connection::<u64>::connect(addr, 1024).await.unwrap();
        c.send(&two_requests(&addr), [10, 11]).await.unwrap();
        let mut out = Vec::new();
        while out.len() < 2 {
            c.receive(&mut out).await.unwrap();
        }
        let got: Vec<_> = out.iter().map(|(t, r)| (*t, r.status, r.wire)).collect();
        assert_eq!(got, [(10, 202, None), (11, 200, Some(4))]);
        assert_eq!(out[1].1.body, b"ack");
        assert_eq!(c.in_flight(), 0);
        // The peer then closes: the connection ends, with nothing left unanswered.
        assert_eq!(c.receive(&mut out).await, Err(ConnError::Closed));
        assert!(c.abandon().is_empty());
    }

    #[tokio::test]
    async fn a_peer_closing_mid_batch_leaves_the_rest_unanswered() {
        let addr = peer(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n", 2).await;
        let mut c = Connection::<u64>::connect(addr, 1024).await.unwrap();
        c.send(&two_requests(&addr), [1, 2]).await.unwrap();
        let mut out = Vec::new();
        let end = loop {
            if let Err(e) = c.receive(&mut out).await {
                break e;
            }
        };
        assert_eq!(end, ConnError::Closed);
        assert_eq!(out.iter().map(|(t, _)| *t).collect::<Vec<_>>(), [1]);
        assert_eq!(c.abandon(), [2]);
    }

    #[tokio::test]
    async fn nobody_listening_is_an_error() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        assert!(matches!(
            Connection::<u64>::connect(addr, 1024).await,
            Err(ConnError::Io(_))
        ));
    }
}
