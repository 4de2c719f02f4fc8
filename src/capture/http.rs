//! HTTP/1.1 message framing over one reassembled TCP direction, recognised by content on any
//! port: requests and responses, Content-Length, chunked transfer coding, keep-alive and
//! pipelining, 1xx interim responses, gzip/deflate Content-Encoding, resynchronisation after a
//! gap. Header parsing is httparse's.

use super::tcp::Chunk;
use crate::trace::Time;
use flate2::read::{DeflateDecoder, GzDecoder, ZlibDecoder};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::Read;

/// Longest header block accepted (request line + headers).
const MAX_HEAD: usize = 64 * 1024;
/// Largest body kept (before and after decompression).
pub const MAX_BODY: usize = 32 * 1024 * 1024;
const MAX_HEADERS: usize = 96;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// One of the methods a message start is recognised by (`METHODS`).
    Request {
        method: &'static str,
    },
    Response {
        status: u16,
    },
}

/// A complete HTTP message; the body is de-chunked and decompressed, borrowed from the parser.
#[derive(Debug)]
pub struct Message<'a> {
    pub start: Start,
    pub content_type: Option<String>,
    pub soap_action: Option<String>,
    /// The start line and headers as sent.
    pub head: &'a [u8],
    pub body: &'a [u8],
    /// Bytes the message took on the wire (head + body as sent).
    pub wire_len: usize,
    /// Frame holding the first byte, and that byte's offset in the frame's TCP payload.
    pub first_frame: u32,
    pub first_offset: u32,
    /// Frame that completed the message (Wireshark shows reassembled PDUs there), and its time.
    pub last_frame: u32,
    pub time: Time,
}

/// What the parser noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The stream does not start like HTTP: not analysed further.
    NotHttp,
    /// A message could not be parsed or was cut; the parser skipped to the next message start.
    Broken { frame: u32, why: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyMode {
    None,
    Length(usize),
    Chunked,
    UntilClose,
}

#[derive(Debug)]
struct Head {
    start: Start,
    len: usize,
    mode: BodyMode,
    encoding: Option<String>,
    content_type: Option<String>,
    soap_action: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing seen yet: decide whether this is HTTP at all.
    Fresh,
    Head,
    Resync,
    NotHttp,
}

/// Where the bytes in the buffer came from.
#[derive(Debug, Clone, Copy)]
struct Span {
    /// Stream offset (relative to the parser's own count) of the first byte.
    at: u64,
    frame: u32,
    time: Time,
    skip: u32,
}

/// Bytes not yet consumed. Consuming moves a start offset rather than the bytes; they move only
/// when half the storage is dead (a message per segment would otherwise shift every remainder).
#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    start: usize,
}

impl Buf {
    fn extend_from_slice(&mut self, b: &[u8]) {
        if self.start > 0 && self.start >= self.data.len() / 2 {
            self.data.drain(..self.start);
            self.start = 0;
        }
        self.data.extend_from_slice(b);
    }
    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.data.len());
        if self.start == self.data.len() {
            self.clear();
        }
    }
    fn clear(&mut self) {
        self.data.clear();
        self.start = 0;
    }
}

impl std::ops::Deref for Buf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.data[self.start..]
    }
}

pub struct HttpStream {
    state: State,
    buf: Buf,
    /// Stream offset of `buf[0]`.
    buf_at: u64,
    spans: VecDeque<Span>,
    head: Option<Head>,
    body: Vec<u8>,
    ended: bool,
    /// A message start was seen: the stream is HTTP, not just possibly so.
    spoke: bool,
}

impl Default for HttpStream {
    fn default() -> Self {
        HttpStream {
            state: State::Fresh,
            buf: Buf::default(),
            buf_at: 0,
            spans: VecDeque::new(),
            head: None,
            body: Vec::new(),
            ended: false,
            spoke: false,
        }
    }
}

/// Request methods a message start is recognised by, each with the space that follows it.
const METHODS: [&str; 9] = [
    "POST ", "GET ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",
];

/// The method of a start line that `looks_like_start` accepted, as a static name.
fn known_method(method: &str) -> &'static str {
    METHODS
        .iter()
        .find_map(|m| m.strip_suffix(' ').filter(|name| *name == method))
        .unwrap_or("other")
}

/// The start line of a message head, lossy UTF-8, cut to 200 characters (a long query string
/// would otherwise fill the Info column and the memory of a capture of many requests).
pub fn start_line(head: &[u8]) -> String {
    let end = head
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(head.len());
    let line = String::from_utf8_lossy(&head[..end]);
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.into_owned(),
    }
}

/// A method's number for `Wire::fault` of a request without SOAP (1-based; 0 = unknown).
pub fn method_code(method: &str) -> u8 {
    METHODS
        .iter()
        .position(|m| m.strip_suffix(' ') == Some(method))
        .map_or(0, |i| i as u8 + 1)
}

/// The method `method_code` numbered.
pub fn method_name(code: u8) -> Option<&'static str> {
    METHODS.get((code as usize).checked_sub(1)?).map(|m| m.trim_end())
}

pub(crate) fn looks_like_start(b: &[u8]) -> bool {
    b.starts_with(b"HTTP/1.") || METHODS.iter().any(|m| b.starts_with(m.as_bytes()))
}

/// Could these first bytes still become an HTTP start line?
pub(crate) fn could_be_start(b: &[u8]) -> bool {
    let n = b.len();
    b"HTTP/1.".starts_with(&b[..n.min(7)])
        || METHODS
            .iter()
            .any(|m| m.as_bytes().starts_with(&b[..n.min(m.len())]))
}

impl HttpStream {
    pub fn new() -> Self {
        HttpStream::default()
    }

    /// The stream began before the capture: look for a message start first.
    pub fn start_mid_stream(&mut self) {
        if self.state == State::Fresh {
            self.state = State::Resync;
        }
    }

    /// Whether a message start was ever found (a stream joined mid-way that never showed one
    /// is not counted as HTTP).
    pub fn spoke_http(&self) -> bool {
        self.spoke
    }

    pub fn is_http(&self) -> Option<bool> {
        match self.state {
            State::Fresh => None,
            State::NotHttp => Some(false),
            _ => Some(true),
        }
    }

    /// Feeds one reassembled chunk; each complete message (and each problem) goes to the
    /// callbacks, in order.
    pub fn feed(
        &mut self,
        chunk: Chunk<'_>,
        on_message: &mut dyn FnMut(Message<'_>),
        on_problem: &mut dyn FnMut(Problem),
    ) {
        match chunk {
            Chunk::Data {
                bytes,
                frame,
                time,
                skip,
            } => {
                if self.state == State::NotHttp || self.ended {
                    return;
                }
                self.spans.push_back(Span {
                    at: self.buf_at + self.buf.len() as u64,
                    frame,
                    time,
                    skip,
                });
                self.buf.extend_from_slice(bytes);
                self.parse(on_message, on_problem);
            }
            Chunk::Gap { frame, .. } => {
                if matches!(self.state, State::NotHttp | State::Fresh) {
                    if self.state == State::Fresh {
                        self.state = State::Resync;
                    }
                    return;
                }
                if !self.buf.is_empty() || self.head.is_some() {
                    on_problem(Problem::Broken {
                        frame,
                        why: "HTTP message cut by missing TCP segments".into(),
                    });
                }
                self.reset_buffer();
                self.state = State::Resync;
            }
            Chunk::End { frame, time } => {
                if self.state == State::NotHttp {
                    return;
                }
                self.ended = true;
                if let Some(h) = &self.head
                    && h.mode == BodyMode::UntilClose
                {
                    let end = self.buf.len();
                    self.complete(
                        end,
                        end - self.head.as_ref().map_or(0, |h| h.len),
                        on_message,
                        on_problem,
                    );
                } else if !self.buf.is_empty() && self.state != State::Resync {
                    on_problem(Problem::Broken {
                        frame,
                        why: "connection closed in the middle of an HTTP message".into(),
                    });
                }
                let _ = time;
                self.reset_buffer();
                // The stream is over: its buffers are given back.
                self.buf = Buf::default();
                self.body = Vec::new();
                self.spans = VecDeque::new();
            }
        }
    }

    fn reset_buffer(&mut self) {
        self.buf_at += self.buf.len() as u64;
        self.buf.clear();
        self.spans.clear();
        self.head = None;
    }

    /// Drops `n` bytes from the front of the buffer.
    fn consume(&mut self, n: usize) {
        self.buf.consume(n);
        self.buf_at += n as u64;
        while self.spans.len() > 1 && self.spans[1].at <= self.buf_at {
            self.spans.pop_front();
        }
        if self.buf.is_empty() {
            self.spans.clear();
        }
    }

    fn span_at(&self, offset: u64) -> Span {
        let i = self.spans.partition_point(|s| s.at <= offset).saturating_sub(1);
        self.spans[i]
    }

    fn parse(&mut self, on_message: &mut dyn FnMut(Message<'_>), on_problem: &mut dyn FnMut(Problem)) {
        loop {
            match self.state {
                State::NotHttp => {
                    self.reset_buffer();
                    return;
                }
                State::Fresh => {
                    if looks_like_start(&self.buf) {
                        self.state = State::Head;
                        self.spoke = true;
                    } else if self.buf.len() >= 8 || !could_be_start(&self.buf) {
                        self.state = State::NotHttp;
                        on_problem(Problem::NotHttp);
                    } else {
                        return;
                    }
                }
                State::Resync => {
                    match find_start(&self.buf) {
                        Some(i) => {
                            self.consume(i);
                            self.state = State::Head;
                            self.spoke = true;
                            self.spoke = true;
                        }
                        None => {
                            // Keep a tail that might be the beginning of a start line.
                            let keep = self.buf.len().min(16);
                            let drop = self.buf.len() - keep;
                            self.consume(drop);
                            return;
                        }
                    }
                }
                State::Head => {
                    if self.buf.is_empty() {
                        return;
                    }
                    if self.head.is_none() {
                        match self.parse_head() {
                            Ok(Some(h)) => self.head = Some(h),
                            Ok(None) => return,
                            Err(why) => {
                                let frame = self.span_at(self.buf_at).frame;
                                on_problem(Problem::Broken { frame, why });
                                self.consume(1);
                                self.state = State::Resync;
                                continue;
                            }
                        }
                    }
                    let h = self.head.as_ref().expect("set");
                    let head_len = h.len;
                    match h.mode {
                        BodyMode::None => self.complete(head_len, 0, on_message, on_problem),
                        BodyMode::Length(n) => {
                            if self.buf.len() < head_len + n {
                                return;
                            }
                            self.complete(head_len + n, n, on_message, on_problem);
                        }
                        BodyMode::Chunked => match dechunk(&self.buf[head_len..], &mut self.body) {
                            Ok(Some(used)) => self.complete_chunked(head_len + used, on_message, on_problem),
                            Ok(None) => return,
                            Err(why) => {
                                let frame = self.span_at(self.buf_at).frame;
                                on_problem(Problem::Broken { frame, why });
                                self.consume(head_len);
                                self.head = None;
                                self.state = State::Resync;
                            }
                        },
                        BodyMode::UntilClose => {
                            if self.buf.len() - head_len > MAX_BODY {
                                let frame = self.span_at(self.buf_at).frame;
                                on_problem(Problem::Broken {
                                    frame,
                                    why: format!("body without length larger than {MAX_BODY} bytes"),
                                });
                                self.reset_buffer();
                                self.state = State::Resync;
                            }
                            return;
                        }
                    }
                }
            }
        }
    }

    fn parse_head(&mut self) -> Result<Option<Head>, String> {
        // Built once: a searcher per call was a percent of the read on small messages.
        static HEAD_END: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\r\n\r\n"));
        let Some(end) = HEAD_END.find(&self.buf[..self.buf.len().min(MAX_HEAD + 4)]) else {
            if self.buf.len() > MAX_HEAD {
                return Err(format!("HTTP header block longer than {MAX_HEAD} bytes"));
            }
            return Ok(None);
        };
        let len = end + 4;
        // Left uninitialised: httparse fills what it parses (zeroing 96 headers a message was
        // a percent of the read).
        let mut headers = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let config = httparse::ParserConfig::default();
        let head = &self.buf[..len];
        let (start, hdrs): (Start, &[httparse::Header<'_>]) = if self.buf.starts_with(b"HTTP/") {
            let mut resp = httparse::Response::new(&mut []);
            match config.parse_response_with_uninit_headers(&mut resp, head, &mut headers) {
                Ok(httparse::Status::Complete(_)) => {}
                Ok(httparse::Status::Partial) => return Err("incomplete HTTP response head".into()),
                Err(e) => return Err(format!("bad HTTP response head: {e}")),
            }
            let status = resp.code.unwrap_or(0);
            (Start::Response { status }, &*std::mem::take(&mut resp.headers))
        } else {
            let mut req = httparse::Request::new(&mut []);
            match config.parse_request_with_uninit_headers(&mut req, head, &mut headers) {
                Ok(httparse::Status::Complete(_)) => {}
                Ok(httparse::Status::Partial) => return Err("incomplete HTTP request head".into()),
                Err(e) => return Err(format!("bad HTTP request head: {e}")),
            }
            let method = known_method(req.method.unwrap_or(""));
            (Start::Request { method }, &*std::mem::take(&mut req.headers))
        };
        // The five headers read here, found in one pass (the first of each name wins).
        const NAMES: [&str; 5] = [
            "transfer-encoding",
            "content-length",
            "soapaction",
            "content-type",
            "content-encoding",
        ];
        let [te, cl, sa, ct, ce] = [0, 1, 2, 3, 4];
        let mut wanted: [Option<&[u8]>; 5] = [None; 5];
        for h in hdrs {
            if let Some(slot) = NAMES
                .iter()
                .position(|n| n.len() == h.name.len() && n.eq_ignore_ascii_case(h.name))
            {
                wanted[slot].get_or_insert(h.value);
            }
        }
        // Borrowed from the buffer unless the value is not UTF-8 (then its lossy copy).
        let get = |slot: usize| {
            wanted[slot].map(|v| match std::str::from_utf8(v) {
                Ok(v) => Cow::Borrowed(v.trim()),
                Err(_) => Cow::Owned(String::from_utf8_lossy(v).trim().to_string()),
            })
        };
        let chunked = get(te).is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let length = match get(cl) {
            Some(v) => Some(
                v.parse::<usize>()
                    .map_err(|_| format!("bad Content-Length \"{v}\""))?,
            ),
            None => None,
        };
        if length.is_some_and(|n| n > MAX_BODY) {
            return Err(format!("Content-Length larger than {MAX_BODY} bytes"));
        }
        // RFC 9112 §6.3: 1xx, 204 and 304 responses have no body; chunked wins over length;
        // a request without either has none; a response without either runs to the close.
        let mode = match &start {
            Start::Response { status } if *status < 200 || *status == 204 || *status == 304 => BodyMode::None,
            _ if chunked => BodyMode::Chunked,
            _ => match (length, &start) {
                (Some(0), _) => BodyMode::None,
                (Some(n), _) => BodyMode::Length(n),
                (None, Start::Request { .. }) => BodyMode::None,
                (None, Start::Response { .. }) => BodyMode::UntilClose,
            },
        };
        let mut soap_action = get(sa).map(|v| v.trim_matches('"').to_string());
        let content_type = get(ct).map(Cow::into_owned);
        if soap_action.is_none()
            && let Some(ct) = &content_type
        {
            // SOAP 1.2 carries the action as a media-type parameter.
            soap_action = ct
                .split(';')
                .filter_map(|p| p.trim().strip_prefix("action="))
                .map(|a| a.trim_matches('"').to_string())
                .next();
        }
        Ok(Some(Head {
            start,
            len,
            mode,
            encoding: get(ce).map(|v| v.to_ascii_lowercase()),
            content_type,
            soap_action,
        }))
    }

    /// A message ending at `end` whose body is `buf[end - body_len .. end]`.
    fn complete(
        &mut self,
        end: usize,
        body_len: usize,
        on_message: &mut dyn FnMut(Message<'_>),
        on_problem: &mut dyn FnMut(Problem),
    ) {
        let head = self.head.take().expect("head parsed");
        let body_start = end - body_len;
        self.body.clear();
        self.emit(head, end, body_start, false, on_message, on_problem);
    }

    fn complete_chunked(
        &mut self,
        end: usize,
        on_message: &mut dyn FnMut(Message<'_>),
        on_problem: &mut dyn FnMut(Problem),
    ) {
        let head = self.head.take().expect("head parsed");
        self.emit(head, end, 0, true, on_message, on_problem);
    }

    fn emit(
        &mut self,
        head: Head,
        end: usize,
        body_start: usize,
        body_in_scratch: bool,
        on_message: &mut dyn FnMut(Message<'_>),
        on_problem: &mut dyn FnMut(Problem),
    ) {
        let first = self.span_at(self.buf_at);
        let last = self.span_at(self.buf_at + end.max(1) as u64 - 1);
        let first_offset = (self.buf_at - first.at) as u32 + first.skip;
        let mut decoded = Vec::new();
        let mut body: &[u8] = if body_in_scratch {
            &self.body
        } else {
            &self.buf[body_start..end]
        };
        if let Some(enc) = head.encoding.as_deref().filter(|e| *e != "identity")
            && !body.is_empty()
        {
            match decompress(enc, body, &mut decoded) {
                Ok(()) => body = &decoded,
                Err(why) => on_problem(Problem::Broken {
                    frame: last.frame,
                    why,
                }),
            }
        }
        let head_bytes = &self.buf[..head.len.min(end)];
        on_message(Message {
            start: head.start,
            content_type: head.content_type,
            soap_action: head.soap_action,
            head: head_bytes,
            body,
            wire_len: end,
            first_frame: first.frame,
            first_offset,
            last_frame: last.frame,
            time: last.time,
        });
        self.consume(end);
    }
}

/// Finds a message start at the beginning of a line.
fn find_start(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < buf.len() {
        if (i == 0 || buf[i - 1] == b'\n') && looks_like_start(&buf[i..]) {
            return Some(i);
        }
        i = match memchr::memchr(b'\n', &buf[i..]) {
            Some(j) => i + j + 1,
            None => return None,
        };
    }
    None
}

/// Removes chunked transfer coding (RFC 9112 §7.1). `Ok(None)`: incomplete so far.
fn dechunk(data: &[u8], out: &mut Vec<u8>) -> Result<Option<usize>, String> {
    out.clear();
    let mut pos = 0;
    loop {
        let Some(nl) = memchr::memmem::find(&data[pos..], b"\r\n") else {
            return if data.len() - pos > 1024 {
                Err("bad chunk size line".into())
            } else {
                Ok(None)
            };
        };
        let line = &data[pos..pos + nl];
        let hex = line.split(|&b| b == b';').next().unwrap_or(b"");
        let hex = std::str::from_utf8(hex)
            .map_err(|_| "bad chunk size".to_string())?
            .trim();
        let size = usize::from_str_radix(hex, 16).map_err(|_| format!("bad chunk size \"{hex}\""))?;
        pos += nl + 2;
        if size == 0 {
            // Trailer section ends with an empty line.
            loop {
                let Some(nl) = memchr::memmem::find(&data[pos..], b"\r\n") else {
                    return Ok(None);
                };
                pos += nl + 2;
                if nl == 0 {
                    return Ok(Some(pos));
                }
            }
        }
        if out.len() + size > MAX_BODY {
            return Err(format!("chunked body larger than {MAX_BODY} bytes"));
        }
        if data.len() < pos + size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&data[pos..pos + size]);
        pos += size;
        if &data[pos..pos + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF".into());
        }
        pos += 2;
    }
}

/// gzip / deflate (zlib, or raw as some servers send), bounded to `MAX_BODY` bytes out.
fn decompress(encoding: &str, data: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    let limit = MAX_BODY as u64 + 1;
    let result = match encoding {
        "gzip" | "x-gzip" => GzDecoder::new(data).take(limit).read_to_end(out),
        "deflate" => {
            let r = ZlibDecoder::new(data).take(limit).read_to_end(out);
            if r.is_err() {
                out.clear();
                DeflateDecoder::new(data).take(limit).read_to_end(out)
            } else {
                r
            }
        }
        other => return Err(format!("unsupported Content-Encoding \"{other}\"")),
    };
    result.map_err(|e| format!("{encoding} body does not decompress: {e}"))?;
    if out.len() > MAX_BODY {
        return Err(format!("{encoding} body expands beyond {MAX_BODY} bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// (start line, body, first frame, last frame) of each message.
    type Got = (Start, Vec<u8>, u32, u32);

    fn run(stream: &mut HttpStream, pieces: &[&[u8]]) -> (Vec<Got>, Vec<Problem>) {
        let mut msgs = Vec::new();
        let mut probs = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            stream.feed(
                Chunk::Data {
                    bytes: p,
                    frame: i as u32 + 1,
                    time: Time::ZERO,
                    skip: 0,
                },
                &mut |m| msgs.push((m.start, m.body.to_vec(), m.first_frame, m.last_frame)),
                &mut |p| probs.push(p),
            );
        }
        (msgs, probs)
    }

    #[test]
    fn content_length_keep_alive_pipelining_and_segmentation() {
        let mut s = HttpStream::new();
        let (msgs, probs) = run(
            &mut s,
            &[
                b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel",
                b"loPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nokPOST /c HTTP/1.1\r\n",
                b"Content-Length: 0\r\n\r\n",
            ],
        );
        assert!(probs.is_empty());
        assert_eq!(msgs.len(), 3);
        assert_eq!(
            msgs[0],
            (Start::Request { method: "POST" }, b"hello".to_vec(), 1, 2)
        );
        assert_eq!(msgs[1].1, b"ok");
        assert_eq!((msgs[2].2, msgs[2].3), (2, 3));
    }

    #[test]
    fn chunked_gzip_and_continue() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"<s:Envelope/>").unwrap();
        let gz = gz.finish().unwrap();
        let mut wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
        let (a, b) = gz.split_at(7);
        wire.extend_from_slice(format!("{:x}\r\n", a.len()).as_bytes());
        wire.extend_from_slice(a);
        wire.extend_from_slice(format!("\r\n{:X};ext=1\r\n", b.len()).as_bytes());
        wire.extend_from_slice(b);
        wire.extend_from_slice(b"\r\n0\r\n\r\n");
        let mut s = HttpStream::new();
        let (msgs, probs) = run(&mut s, &[&wire[..30], &wire[30..]]);
        assert!(probs.is_empty(), "{probs:?}");
        assert_eq!(msgs[0].0, Start::Response { status: 100 });
        assert_eq!(msgs[1].0, Start::Response { status: 200 });
        assert_eq!(msgs[1].1, b"<s:Envelope/>");
    }

    #[test]
    fn not_http_and_resync_after_gap() {
        let mut s = HttpStream::new();
        let (_, probs) = run(&mut s, &[b"\x16\x03\x01\x02\x00garbage-tls"]);
        assert_eq!(probs, vec![Problem::NotHttp]);
        assert_eq!(s.is_http(), Some(false));

        let mut s = HttpStream::new();
        let mut msgs = 0;
        let mut probs = Vec::new();
        s.feed(
            Chunk::Data {
                bytes: b"POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
                frame: 1,
                time: Time::ZERO,
                skip: 0,
            },
            &mut |_| msgs += 1,
            &mut |p| probs.push(p),
        );
        s.feed(
            Chunk::Gap {
                len: 100,
                frame: 2,
                time: Time::ZERO,
            },
            &mut |_| msgs += 1,
            &mut |p| probs.push(p),
        );
        s.feed(
            Chunk::Data {
                bytes: b"tail of something\r\nPOST /b HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
                frame: 3,
                time: Time::ZERO,
                skip: 0,
            },
            &mut |_| msgs += 1,
            &mut |p| probs.push(p),
        );
        assert_eq!(msgs, 1);
        assert!(matches!(&probs[0], Problem::Broken { frame: 2, .. }));
    }

    #[test]
    fn response_until_close_and_bad_lengths() {
        let mut s = HttpStream::new();
        let mut got = Vec::new();
        s.feed(
            Chunk::Data {
                bytes: b"HTTP/1.0 200 OK\r\n\r\nbody...",
                frame: 1,
                time: Time::ZERO,
                skip: 0,
            },
            &mut |m| got.push(m.body.to_vec()),
            &mut |_| {},
        );
        assert!(got.is_empty());
        s.feed(
            Chunk::End {
                frame: 2,
                time: Time::ZERO,
            },
            &mut |m| got.push(m.body.to_vec()),
            &mut |_| {},
        );
        assert_eq!(got, vec![b"body...".to_vec()]);

        let mut s = HttpStream::new();
        let (_, probs) = run(
            &mut s,
            &[b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"],
        );
        assert!(matches!(&probs[0], Problem::Broken { why, .. } if why.contains("Content-Length")));
    }

    #[test]
    fn gzip_bomb_is_bounded() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; MAX_BODY + 10]).unwrap();
        let gz = gz.finish().unwrap();
        let mut out = Vec::new();
        assert!(
            decompress("gzip", &gz, &mut out)
                .unwrap_err()
                .contains("expands beyond")
        );
    }
}
