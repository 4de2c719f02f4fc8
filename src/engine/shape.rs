//! The session's shape: which of WCF's channel pairs carries it. How acks travel, whether
//! AckRequested is used and whether the destination can send unasked are properties of the
//! shape, not of the socket, so the engine, the simulated link and the HTTP transport all read
//! this one setting.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Shape {
    /// A one-way contract over a duplex channel (net.tcp, composite duplex):
    /// ReliableOutputSessionChannelOverDuplex ↔ ReliableInputSessionChannelOverDuplex. Acks
    /// are messages of their own, sent when asked or after acknowledgementInterval.
    #[default]
    OneWayOverDuplex,
    /// A one-way contract over request-reply (HTTP): ReliableOutputSessionChannelOverRequest ↔
    /// ReliableInputSessionChannelOverReply. Every message is a request answered at once with
    /// an ack on its reply; the destination never sends unasked.
    OneWayOverRequest,
}

impl Shape {
    pub const ALL: [Shape; 2] = [Shape::OneWayOverDuplex, Shape::OneWayOverRequest];

    /// AckRequested on the message that fills the window or the quota
    /// (ReliableOutputSessionChannelOverRequest.RequestAcks is false: every reply acks).
    pub fn requests_acks(self) -> bool {
        self == Shape::OneWayOverDuplex
    }

    /// The destination may send on its own: an ack after acknowledgementInterval, a fresh ack
    /// when its buffer opens again, a fault (OverReply only ever answers a request).
    pub fn destination_can_push(self) -> bool {
        self == Shape::OneWayOverDuplex
    }

    /// CreateSequence, CloseSequence and TerminateSequence are resent every 10 s
    /// (SendReceiveReliableRequestor over duplex); over request-reply they are one request
    /// with the whole remaining timeout (RequestReliableRequestor → binder.Request), resent
    /// only after a transport error.
    pub fn requestor_iterates(self) -> bool {
        self == Shape::OneWayOverDuplex
    }

    /// The CLI's name.
    pub fn name(self) -> &'static str {
        match self {
            Shape::OneWayOverDuplex => "one-way",
            Shape::OneWayOverRequest => "one-way-http",
        }
    }

    /// What a user picks in the window.
    pub fn label(self) -> &'static str {
        match self {
            Shape::OneWayOverDuplex => "One-way over a duplex channel (net.tcp)",
            Shape::OneWayOverRequest => "One-way over request-reply (HTTP)",
        }
    }

    pub fn parse(s: &str) -> Result<Shape, String> {
        Shape::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| format!("unknown shape '{s}' (use one-way or one-way-http)"))
    }
}
