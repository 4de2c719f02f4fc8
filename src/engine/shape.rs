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
    /// A request-reply contract over HTTP (wsHttpBinding): ReliableRequestSessionChannel ↔
    /// ReliableReplySessionChannel. The client offers the reply sequence; every request is
    /// answered on its HTTP response by its reply (or an ack); the service never sends unasked
    /// and never retransmits.
    RequestReply,
    /// A duplex session (netTcpBinding, wsDualHttpBinding, compositeDuplex): both ends run
    /// ReliableDuplexSessionChannel, each an RM source and destination; acks ride on the other
    /// sequence's messages when there are any.
    Duplex,
}

impl Shape {
    pub const ALL: [Shape; 4] = [
        Shape::OneWayOverDuplex,
        Shape::OneWayOverRequest,
        Shape::RequestReply,
        Shape::Duplex,
    ];

    /// AckRequested on the message that fills the window or the quota
    /// (ReliableOutputSessionChannelOverRequest.RequestAcks is false: every reply acks).
    /// (ReliableRequestSessionChannel.OnOpened builds its connection with requestAcks false;
    /// ReliableDuplexSessionChannel.SetConnections with true.)
    pub fn requests_acks(self) -> bool {
        matches!(self, Shape::OneWayOverDuplex | Shape::Duplex)
    }

    /// The client offers a return sequence in CreateSequence, and the service refuses one
    /// without (WsrmUtilities.ValidateCreateSequence: CSRefusedDuplexNoOffer / ReplyNoOffer).
    pub fn offers(self) -> bool {
        matches!(self, Shape::RequestReply | Shape::Duplex)
    }

    /// Every message travels as an HTTP request answered on its response.
    pub fn over_request_reply(self) -> bool {
        matches!(self, Shape::OneWayOverRequest | Shape::RequestReply)
    }

    /// The destination may send on its own: an ack after acknowledgementInterval, a fresh ack
    /// when its buffer opens again, a fault (OverReply only ever answers a request).
    pub fn destination_can_push(self) -> bool {
        !self.over_request_reply()
    }

    /// CreateSequence, CloseSequence and TerminateSequence are resent every 10 s
    /// (SendReceiveReliableRequestor over duplex); over request-reply they are one request
    /// with the whole remaining timeout (RequestReliableRequestor → binder.Request), resent
    /// only after a transport error.
    pub fn requestor_iterates(self) -> bool {
        !self.over_request_reply()
    }

    /// The CLI's name.
    pub fn name(self) -> &'static str {
        match self {
            Shape::OneWayOverDuplex => "one-way",
            Shape::OneWayOverRequest => "one-way-http",
            Shape::RequestReply => "request-reply",
            Shape::Duplex => "duplex",
        }
    }

    /// What a user picks in the window.
    pub fn label(self) -> &'static str {
        match self {
            Shape::OneWayOverDuplex => "One-way over a duplex channel (net.tcp)",
            Shape::OneWayOverRequest => "One-way over request-reply (HTTP)",
            Shape::RequestReply => "Request-reply (wsHttpBinding)",
            Shape::Duplex => "Duplex (netTcpBinding, wsDualHttpBinding)",
        }
    }

    pub fn parse(s: &str) -> Result<Shape, String> {
        Shape::ALL.into_iter().find(|x| x.name() == s).ok_or_else(|| {
            format!("unknown shape '{s}' (use one-way, one-way-http, request-reply or duplex)")
        })
    }
}
