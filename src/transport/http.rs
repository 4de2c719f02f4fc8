//! SOAP over real HTTP/1.1 on loopback (hyper): the RM destination is an HTTP endpoint, each RM
//! source has one for what the destination sends on its own (acks after acknowledgementInterval,
//! faults). A message answered at once rides back on the HTTP response (CreateSequenceResponse,
//! an ack for AckRequested); otherwise the response is `202 Accepted` with no body, as WCF's
//! one-way HTTP channels answer.

use super::pipeline::{self, ConnError, Connection};
use crate::sim::{Outgoing, Target};
use crate::trace::Time;
use crate::wsrm::{self, Envelope, SoapVersion};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming as Body;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Which wire of the timeline a request or response carries (so both ends record the same wire).
pub(super) const WIRE: &str = "rmscope-wire";
/// Which RM source sent a request (the destination answers it on the response).
const FROM: &str = "rmscope-from";
/// Largest body accepted (the codec's own limit).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Which request of its direction this is (1, 2, …): the receiver hands requests to the engine
/// in this order although they travel on several connections at once.
const SEQ: &str = "rmscope-seq";
/// Requests in flight at once per direction (pipelined on its keep-alive connection).
const MAX_IN_FLIGHT: usize = 64;
/// How long the receiver holds later requests back while an earlier one is still on its way.
const GAP_WAIT: Duration = Duration::from_millis(100);

/// What the HTTP side hands to the engine loop.
pub struct Incoming {
    pub to: Target,
    pub from: Target,
    pub wire: u32,
    /// `None`: the message could not be delivered (connection refused, reset, error status).
    pub env: Option<Envelope>,
    /// Present for a request: how to answer it.
    pub reply: Option<oneshot::Sender<Reply>>,
    /// The request's place in its direction (`None` for a message riding on a response).
    seq: Option<u64>,
    /// For a message riding on a response: the MessageID of the request it answers.
    pub answers: Option<wsrm::Text>,
}

/// The answer to an HTTP request.
pub enum Reply {
    Accepted,
    /// A message for the requester, on the response, not before `at`.
    Soap {
        wire: u32,
        env: Box<Envelope>,
        at: Instant,
    },
}

/// What every sending task needs.
struct Shared {
    soap: SoapVersion,
    tx: mpsc::UnboundedSender<Incoming>,
    base: Instant,
}

/// Requests of one direction that came ahead of an earlier one.
#[derive(Default)]
struct Reorder {
    next: u64,
    held: BTreeMap<u64, Incoming>,
    /// Since when the oldest held request waits.
    since: Option<Instant>,
}

pub struct HttpTransport {
    pub destination: SocketAddr,
    pub sources: Vec<SocketAddr>,
    shared: Arc<Shared>,
    rx: mpsc::UnboundedReceiver<Incoming>,
    servers: Vec<tokio::task::JoinHandle<()>>,
    /// One sending task per direction, fed in the order the engines sent.
    lanes: HashMap<(Target, Target), mpsc::UnboundedSender<Outgoing>>,
    reorder: HashMap<(Target, Target), Reorder>,
    ready: VecDeque<Incoming>,
}

impl Drop for HttpTransport {
    fn drop(&mut self) {
        for s in &self.servers {
            s.abort();
        }
    }
}

fn content_type(soap: SoapVersion, action: Option<&str>) -> String {
    match soap {
        // SOAP 1.2 part 2 §7.1.4 / RFC 3902: the action rides on the media type.
        SoapVersion::V1_2 => match action {
            Some(a) => format!("application/soap+xml; charset=utf-8; action=\"{a}\""),
            None => "application/soap+xml; charset=utf-8".into(),
        },
        SoapVersion::V1_1 => "text/xml; charset=utf-8".into(),
    }
}

fn decode(body: &[u8]) -> Option<Envelope> {
    wsrm::decode(body).ok()
}

impl Shared {
    fn instant(&self, t: Time) -> Instant {
        self.base + Duration::from_nanos(t.as_nanos())
    }

    /// Where `to` listens: its address and path.
    fn endpoint(to: Target, destination: SocketAddr, sources: &[SocketAddr]) -> Option<(SocketAddr, String)> {
        match to {
            Target::Listener => Some((destination, "/rmscope".into())),
            Target::Source(i) => sources.get(i).map(|a| (*a, format!("/client{}", i + 1))),
        }
    }

    /// A message that could not be delivered.
    fn failed(&self, s: Sent) {
        let _ = self.tx.send(Incoming {
            to: s.to,
            from: s.from,
            wire: s.wire,
            env: None,
            reply: None,
            seq: s.seq,
            answers: None,
        });
    }

    /// Appends the POST carrying `o` to `out`; false when its action cannot be a header value.
    fn write_request(
        &self,
        o: &Outgoing,
        seq: u64,
        host: &SocketAddr,
        path: &str,
        out: &mut Vec<u8>,
    ) -> bool {
        let action = o.env.addressing.action.as_ref().map(|a| a.uri());
        if action
            .as_deref()
            .is_some_and(|a| !pipeline::valid_header_value(a))
        {
            return false;
        }
        let from = match o.from {
            Target::Source(i) => i.to_string(),
            Target::Listener => "destination".into(),
        };
        let (wire, seq) = (o.wire.to_string(), seq.to_string());
        let content_type = content_type(self.soap, action.as_deref());
        let mut headers = vec![
            ("content-type", content_type.as_str()),
            (WIRE, wire.as_str()),
            (FROM, from.as_str()),
            (SEQ, seq.as_str()),
        ];
        // SOAP 1.1 §6.1.1: the action in its own quoted header.
        let soap_action;
        if self.soap == SoapVersion::V1_1 {
            soap_action = format!("\"{}\"", action.as_deref().unwrap_or(""));
            headers.push(("soapaction", soap_action.as_str()));
        }
        let body = wsrm::encode(&o.env);
        pipeline::write_request(
            out,
            host,
            path,
            &pipeline::Request {
                headers: &headers,
                body: &body,
            },
        );
        true
    }

    /// The response to a request: an error status means the message was not delivered; a SOAP
    /// body is a message for the requester.
    fn answered(&self, s: Sent, resp: pipeline::Response) {
        if !(200..300).contains(&resp.status) {
            return self.failed(s);
        }
        if resp.status == 200
            && let (Some(wire), Some(env)) = (resp.wire, decode(&resp.body))
        {
            let _ = self.tx.send(Incoming {
                to: s.from,
                from: s.to,
                wire,
                env: Some(env),
                reply: None,
                seq: None,
                answers: s.message_id,
            });
        }
    }
}

/// What is kept of a request until its response comes.
struct Sent {
    to: Target,
    from: Target,
    wire: u32,
    seq: Option<u64>,
    /// The request's MessageID (what its response answers).
    message_id: Option<wsrm::Text>,
}

impl Sent {
    /// `seq`: the request's place in its direction, once it has one.
    fn of(o: &Outgoing, seq: Option<u64>) -> Sent {
        Sent {
            to: o.to,
            from: o.from,
            wire: o.wire,
            seq,
            message_id: o.env.addressing.message_id.clone(),
        }
    }
}

impl HttpTransport {
    /// Binds the destination on `127.0.0.1:port` (0: any free port) and one endpoint per source.
    pub async fn bind(port: u16, sources: usize, soap: SoapVersion) -> std::io::Result<HttpTransport> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut servers = Vec::new();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let destination = listener.local_addr()?;
        servers.push(tokio::spawn(serve(listener, Target::Listener, tx.clone())));
        let mut addrs = Vec::new();
        for i in 0..sources {
            let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
            addrs.push(l.local_addr()?);
            servers.push(tokio::spawn(serve(l, Target::Source(i), tx.clone())));
        }
        Ok(HttpTransport {
            destination,
            sources: addrs,
            shared: Arc::new(Shared {
                soap,
                tx,
                base: Instant::now(),
            }),
            rx,
            servers,
            lanes: HashMap::new(),
            reorder: HashMap::new(),
            ready: VecDeque::new(),
        })
    }

    /// Session time now.
    pub fn now(&self) -> Time {
        Time::from_duration(self.shared.base.elapsed())
    }

    pub fn instant(&self, t: Time) -> Instant {
        self.shared.instant(t)
    }

    /// The next message (or failure) from the wire, requests of each direction in the order
    /// they were sent.
    pub async fn recv(&mut self) -> Option<Incoming> {
        loop {
            if let Some(i) = self.ready.pop_front() {
                return Some(i);
            }
            let oldest = self.reorder.values().filter_map(|r| r.since).min();
            let inc = match oldest {
                Some(since) => match tokio::time::timeout_at(since + GAP_WAIT, self.rx.recv()).await {
                    Ok(i) => i?,
                    Err(_) => {
                        self.give_up_waiting();
                        continue;
                    }
                },
                None => self.rx.recv().await?,
            };
            self.accept(inc);
        }
    }

    fn accept(&mut self, inc: Incoming) {
        let Some(seq) = inc.seq else {
            self.ready.push_back(inc);
            return;
        };
        let r = self.reorder.entry((inc.from, inc.to)).or_insert_with(|| Reorder {
            next: 1,
            ..Reorder::default()
        });
        if seq < r.next {
            // Later than a gap we stopped waiting for: a message still counts, a failure
            // report for a request already handed on does not.
            if inc.env.is_some() {
                self.ready.push_back(inc);
            }
            return;
        }
        if seq > r.next {
            r.held.insert(seq, inc);
            r.since.get_or_insert_with(Instant::now);
            return;
        }
        self.ready.push_back(inc);
        r.next += 1;
        Self::release(r, &mut self.ready);
    }

    /// Hands on the held requests that are next in line.
    fn release(r: &mut Reorder, ready: &mut VecDeque<Incoming>) {
        while let Some(i) = r.held.remove(&r.next) {
            ready.push_back(i);
            r.next += 1;
        }
        r.since = if r.held.is_empty() {
            None
        } else {
            Some(Instant::now())
        };
    }

    /// An earlier request has not come for too long: go on without it.
    fn give_up_waiting(&mut self) {
        let now = Instant::now();
        for r in self.reorder.values_mut() {
            if r.since.is_some_and(|s| now >= s + GAP_WAIT)
                && let Some(&first) = r.held.keys().next()
            {
                r.next = first;
                Self::release(r, &mut self.ready);
            }
        }
    }

    /// Puts a message on the wire when it is due: a POST to its target, in order behind the
    /// earlier ones of its direction; a SOAP response body comes back as a message for the sender.
    pub fn send(&mut self, o: Outgoing) {
        let shared = &self.shared;
        let key = (o.from, o.to);
        if !self.lanes.contains_key(&key) {
            // The first message of a direction opens its lane.
            let Some(endpoint) = Shared::endpoint(o.to, self.destination, &self.sources) else {
                shared.failed(Sent::of(&o, None));
                return;
            };
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(lane(rx, endpoint, shared.clone()));
            self.lanes.insert(key, tx);
        }
        if let Err(e) = self.lanes[&key].send(o) {
            shared.failed(Sent::of(&e.0, None));
        }
    }
}

/// A message waiting for its time on the wire, earliest first, then in sending order.
struct Due {
    at: Time,
    order: u64,
    o: Outgoing,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    // Reversed: `BinaryHeap` pops the greatest.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

/// One direction: sends each message when the simulated link says it is due, numbered in that
/// order, pipelined on one keep-alive connection with at most `MAX_IN_FLIGHT` unanswered.
async fn lane(
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    (addr, path): (SocketAddr, String),
    shared: Arc<Shared>,
) {
    let mut waiting = BinaryHeap::new();
    let (mut seq, mut order) = (0u64, 0u64);
    let mut due = |o: Outgoing| {
        order += 1;
        Due { at: o.at, order, o }
    };
    let mut open = true;
    // The requests written and not answered yet ride with the connection, in order.
    let mut conn: Option<Connection<Sent>> = None;
    let (mut batch, mut tags, mut answers) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        while let Ok(o) = rx.try_recv() {
            waiting.push(due(o));
        }
        // Everything due goes out in one write.
        let in_flight = conn.as_ref().map_or(0, Connection::in_flight);
        batch.clear();
        while in_flight + tags.len() < MAX_IN_FLIGHT
            && waiting
                .peek()
                .is_some_and(|d: &Due| shared.instant(d.at) <= Instant::now())
        {
            let Some(Due { o, .. }) = waiting.pop() else { break };
            seq += 1;
            let s = Sent::of(&o, Some(seq));
            if shared.write_request(&o, seq, &addr, &path, &mut batch) {
                tags.push(s);
            } else {
                shared.failed(s);
            }
        }
        if !tags.is_empty() {
            if conn.is_none() {
                match Connection::connect(addr, MAX_BODY).await {
                    Ok(c) => conn = Some(c),
                    Err(_) => {
                        tags.drain(..).for_each(|s| shared.failed(s));
                        continue;
                    }
                }
            }
            let c = conn.as_mut().expect("connected above");
            if c.send(&batch, tags.drain(..)).await.is_err() {
                drop_connection(&mut conn, &shared);
            }
            continue;
        }
        if !open && waiting.is_empty() && in_flight == 0 {
            return;
        }
        let next = waiting
            .peek()
            .filter(|_| in_flight < MAX_IN_FLIGHT)
            .map(|d| shared.instant(d.at));
        tokio::select! {
            o = rx.recv(), if open => match o {
                Some(o) => waiting.push(due(o)),
                None => open = false,
            },
            // The timer wheel ticks in milliseconds: this wakes at most a tick late.
            _ = async { tokio::time::sleep_until(next.unwrap_or_else(Instant::now)).await }, if next.is_some() => {}
            r = receive(&mut conn, &mut answers) => {
                for (s, resp) in answers.drain(..) {
                    shared.answered(s, resp);
                }
                if r.is_err() {
                    drop_connection(&mut conn, &shared);
                }
            }
        }
    }
}

/// Responses from the connection, if there is one (otherwise this never completes).
async fn receive(
    conn: &mut Option<Connection<Sent>>,
    out: &mut Vec<(Sent, pipeline::Response)>,
) -> Result<(), ConnError> {
    match conn {
        Some(c) => c.receive(out).await,
        None => std::future::pending().await,
    }
}

/// The connection broke or the peer closed it: its unanswered requests failed; the next
/// message opens a new one.
fn drop_connection(conn: &mut Option<Connection<Sent>>, shared: &Shared) {
    if let Some(c) = conn.take() {
        c.abandon().into_iter().for_each(|s| shared.failed(s));
    }
}

/// Accepts connections for one endpoint and hands each request to the engine loop.
async fn serve(listener: tokio::net::TcpListener, to: Target, tx: mpsc::UnboundedSender<Incoming>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let tx = tx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, to, tx.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                // Answers to pipelined requests go out together, one write for the batch.
                .pipeline_flush(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    req: Request<Body>,
    to: Target,
    tx: mpsc::UnboundedSender<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let status = |s: StatusCode| {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = s;
        Ok(r)
    };
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let wire = header(WIRE)
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(u32::MAX);
    let seq = header(SEQ).and_then(|v| v.parse::<u64>().ok());
    let from = match header(FROM).as_deref() {
        Some("destination") | None => Target::Listener,
        Some(i) => i.parse().map_or(Target::Listener, Target::Source),
    };
    let soap = if header("content-type").is_some_and(|c| c.starts_with("text/xml")) {
        SoapVersion::V1_1
    } else {
        SoapVersion::V1_2
    };
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return status(StatusCode::PAYLOAD_TOO_LARGE),
    };
    let Some(env) = decode(&body) else {
        return status(StatusCode::BAD_REQUEST);
    };
    let (reply_tx, reply_rx) = oneshot::channel();
    let sent = tx.send(Incoming {
        to,
        from,
        wire,
        env: Some(env),
        reply: Some(reply_tx),
        seq,
        answers: None,
    });
    if sent.is_err() {
        return status(StatusCode::SERVICE_UNAVAILABLE);
    }
    match reply_rx.await {
        Ok(Reply::Soap { wire, env, at }) => {
            if at > Instant::now() {
                tokio::time::sleep_until(at).await;
            }
            let action = env.addressing.action.as_ref().map(|a| a.uri().into_owned());
            let mut r = Response::new(Full::new(Bytes::from(wsrm::encode(&env))));
            let h = r.headers_mut();
            h.insert(
                "content-type",
                content_type(soap, action.as_deref())
                    .parse()
                    .expect("a header value"),
            );
            h.insert(WIRE, wire.to_string().parse().expect("digits"));
            Ok(r)
        }
        Ok(Reply::Accepted) | Err(_) => status(StatusCode::ACCEPTED),
    }
}
