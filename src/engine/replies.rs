//! The request-reply service's reply sequence (ReliableReplySessionChannel): no window and no
//! retransmission of its own. Each reply answers its request on that request's HTTP response
//! and is kept until the client's ack names it; a repeated request gets the kept reply again
//! with fresh acks, or is parked until the reply exists, or — once the reply was acknowledged
//! or there was none — gets a bare acknowledgement.

use crate::ranges::Ranges;
use crate::wsrm::{AckRange, AppBody, Text};
use std::collections::BTreeMap;

/// What became of one request.
#[derive(Clone, Debug)]
enum Reply {
    /// The operation is still running; `parked` repeats of the request wait for the reply
    /// (CheckForReplyOrAddInnerContext).
    Pending { parked: u32 },
    /// Sent under this reply number, kept until acknowledged (ReplyInternal).
    Sent { number: u64, body: AppBody },
}

#[derive(Clone, Debug)]
struct Request {
    message_id: Option<Text>,
    reply: Reply,
}

/// How to answer a repeated request.
#[derive(Clone, Debug, PartialEq)]
pub enum Repeat {
    /// Send the kept reply again: its number, its body, the request's MessageId.
    Resend(u64, AppBody, Option<Text>),
    /// Wait: the reply goes to this repeat too when it exists.
    Parked,
    /// A bare SequenceAcknowledgement (the reply was acknowledged and forgotten, or none).
    Ack,
}

/// A reply the service application made: its number, the copies owed (1 + parked repeats),
/// and the request's MessageId for RelatesTo.
#[derive(Clone, Debug, PartialEq)]
pub struct Made {
    pub number: u64,
    pub copies: u32,
    pub relates_to: Option<Text>,
}

#[derive(Clone, Debug)]
pub struct ReplyCache {
    id: Text,
    /// The last reply number used: numbers count replies, not requests (PrepareReply:
    /// `++nextReplySequenceNumber`).
    last_number: u64,
    requests: BTreeMap<u64, Request>,
    /// The 2005/02 LastMessage request, held until the service closes (its MessageId).
    held_last: Option<Option<Text>>,
    closed: bool,
}

impl ReplyCache {
    pub fn new(id: Text) -> Self {
        ReplyCache {
            id,
            last_number: 0,
            requests: BTreeMap::new(),
            held_last: None,
            closed: false,
        }
    }

    pub fn identifier(&self) -> &Text {
        &self.id
    }

    /// A new request was accepted; its reply is now owed.
    pub fn on_request(&mut self, number: u64, message_id: Option<Text>) {
        self.requests.insert(
            number,
            Request {
                message_id,
                reply: Reply::Pending { parked: 0 },
            },
        );
    }

    /// The request came again (ProcessSequencedMessage on a number already received).
    pub fn on_repeat(&mut self, number: u64) -> Repeat {
        match self.requests.get_mut(&number) {
            Some(Request {
                reply: Reply::Pending { parked },
                ..
            }) => {
                *parked += 1;
                Repeat::Parked
            }
            Some(Request {
                reply: Reply::Sent { number, body },
                message_id,
            }) => Repeat::Resend(*number, body.clone(), message_id.clone()),
            None => Repeat::Ack,
        }
    }

    /// The application replied to request `number`.
    pub fn reply(&mut self, number: u64, body: AppBody) -> Option<Made> {
        let req = self.requests.get_mut(&number)?;
        let Reply::Pending { parked } = req.reply else {
            return None; // replied already
        };
        self.last_number += 1;
        req.reply = Reply::Sent {
            number: self.last_number,
            body,
        };
        Some(Made {
            number: self.last_number,
            copies: 1 + parked,
            relates_to: req.message_id.clone(),
        })
    }

    /// The client acknowledged replies: those are forgotten (ProcessAcknowledgment).
    pub fn on_ack(&mut self, ranges: &[AckRange]) {
        let acked = |n: u64| ranges.iter().any(|r| r.contains(n));
        self.requests
            .retain(|_, r| !matches!(r.reply, Reply::Sent { number, .. } if acked(number)));
    }

    /// Whether the response to the request with this MessageId is still to come: its operation
    /// runs, or it is the held 2005/02 LastMessage.
    pub fn owes(&self, message_id: &str) -> bool {
        let named = |m: &Option<Text>| m.as_deref() == Some(message_id);
        self.requests
            .values()
            .any(|r| matches!(r.reply, Reply::Pending { .. }) && named(&r.message_id))
            || self.held_last.as_ref().is_some_and(named)
    }

    /// Replies sent and not yet acknowledged.
    pub fn unacknowledged(&self) -> usize {
        self.requests
            .values()
            .filter(|r| matches!(r.reply, Reply::Sent { .. }))
            .count()
    }

    /// Requests whose reply the application still owes.
    pub fn owed(&self) -> usize {
        self.requests
            .values()
            .filter(|r| matches!(r.reply, Reply::Pending { .. }))
            .count()
    }

    /// 2005/02: the LastMessage request is not dispatched; its response waits for the close.
    pub fn hold_last(&mut self, message_id: Option<Text>) {
        self.held_last = Some(message_id);
    }

    /// The service closes: the held LastMessage gets its reply — the next reply number, marked
    /// LastMessage (CloseOutput → PrepareReply → SetLastReply). Once.
    pub fn close(&mut self) -> Option<(u64, Option<Text>)> {
        if self.closed {
            return None;
        }
        let mid = self.held_last.take()?;
        self.closed = true;
        self.last_number += 1;
        Some((self.last_number, mid))
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The reply numbers used so far (what the client's final ack must name).
    pub fn sent(&self) -> Ranges {
        let mut r = Ranges::new();
        for n in 1..=self.last_number {
            r.insert(n);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsrm::ExpandedName;

    fn body() -> AppBody {
        AppBody::new(
            ExpandedName {
                namespace: None,
                local: "R".into(),
            },
            bytes::Bytes::from_static(b"<R/>"),
            Vec::new(),
        )
    }

    #[test]
    fn replies_are_numbered_in_the_order_made_and_repeats_get_the_kept_reply() {
        let mut c = ReplyCache::new("urn:s2".into());
        c.on_request(1, Some("urn:m1".into()));
        c.on_request(2, Some("urn:m2".into()));
        assert_eq!(c.on_repeat(1), Repeat::Parked);
        let made = c.reply(2, body()).unwrap();
        assert_eq!((made.number, made.copies), (1, 1));
        let made = c.reply(1, body()).unwrap();
        assert_eq!(
            (made.number, made.copies, made.relates_to.as_deref()),
            (2, 2, Some("urn:m1"))
        );
        assert!(c.reply(1, body()).is_none(), "one reply per request");
        assert!(matches!(c.on_repeat(2), Repeat::Resend(1, _, _)));
        c.on_ack(&[AckRange::new(1, 1).unwrap()]);
        assert_eq!(c.on_repeat(2), Repeat::Ack, "an acknowledged reply is forgotten");
        assert_eq!(c.unacknowledged(), 1);
        c.hold_last(Some("urn:last".into()));
        assert_eq!(c.close(), Some((3, Some("urn:last".into()))));
        assert_eq!(c.close(), None);
    }
}
