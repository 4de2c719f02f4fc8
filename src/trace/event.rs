//! Timeline events: what happened, when, to which sequence, on which side.

use super::{SeqIdx, Time};
use crate::wsrm::RmFault;
use serde::Serialize;

/// Which end of a sequence an event belongs to (the sender of a wire message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Side {
    /// The RM source: sends the sequence's messages.
    Source,
    /// The RM destination: receives them and sends acknowledgements.
    Destination,
}

impl Side {
    pub fn peer(self) -> Side {
        match self {
            Side::Source => Side::Destination,
            Side::Destination => Side::Source,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Destination => "destination",
        }
    }
}

/// The timers of a reliable session (WCF: TransmissionStrategy retry timer, the destination's
/// acknowledgement timer, the session's inactivity timer, the client's polling timer and the
/// handshake requestors' 10 s iteration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Timer {
    Retransmission,
    Acknowledgement,
    Inactivity,
    KeepAlive,
    Handshake,
}

impl Timer {
    pub const ALL: [Timer; 5] = [
        Timer::Retransmission,
        Timer::Acknowledgement,
        Timer::Inactivity,
        Timer::KeepAlive,
        Timer::Handshake,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Timer::Retransmission => "retransmission",
            Timer::Acknowledgement => "acknowledgement",
            Timer::Inactivity => "inactivity",
            Timer::KeepAlive => "keep-alive",
            Timer::Handshake => "handshake",
        }
    }
}

/// Why a session faulted, with WCF's wording (System.ServiceModel resource strings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum FaultCause {
    MaxRetryCountExceeded,
    InactivityTimeout,
    InvalidAcknowledgement,
    UnknownSequence,
    LastMessageNumberExceeded,
    SequenceClosed,
    TerminatedEarly,
    LastMsgNumberTooSmall,
    ConnectionLimitReached,
    OpenTimeout,
    CloseTimeout,
    /// A WS-RM fault naming a sequence this session does not use (ChannelReliableSession
    /// .ProcessInfo: WrongIdentifierFault).
    WrongIdentifier,
    /// The application aborted the channel (ChannelReliableSession.Abort).
    Aborted,
    /// The peer sent a WS-RM fault.
    Remote,
    /// The CreateSequenceResponse did not accept the offered return sequence
    /// (ClientReliableSession.ProcessCreateSequenceResponse: CSResponseWithoutOffer).
    OfferRefused,
    /// A request-reply reply came without a SequenceAcknowledgement of its request
    /// (ReliableRequestSessionChannel.ProcessReply).
    ReplyMissingAcknowledgement,
    /// A request-reply client closed or terminated its sequence before acknowledging every
    /// reply (ReliableReplySessionChannel.ProcessShutdown11 / ProcessTerminateSequenceFeb2005).
    NotAllRepliesAcknowledged,
}

impl FaultCause {
    pub fn text(self) -> &'static str {
        match self {
            FaultCause::MaxRetryCountExceeded => {
                "The user specified maximum retry count for a particular message has been exceeded. Because of this the reliable session cannot continue."
            }
            FaultCause::InactivityTimeout => "The inactivity timeout has been exceeded.",
            FaultCause::InvalidAcknowledgement => {
                "The SequenceAcknowledgement violates the cumulative acknowledgement invariant."
            }
            FaultCause::UnknownSequence => "The value of wsrm:Identifier is not a known Sequence identifier.",
            FaultCause::LastMessageNumberExceeded => {
                "The value for wsrm:MessageNumber exceeds the value of the MessageNumber accompanying a LastMessage element in this Sequence."
            }
            FaultCause::SequenceClosed => "The Sequence is closed and cannot accept new messages.",
            FaultCause::TerminatedEarly => {
                "The wsrm:TerminateSequence protocol message was transmitted before the sequence was successfully completed."
            }
            FaultCause::LastMsgNumberTooSmall => {
                "The wsrm:LastMsgNumber value is too small. A message with a larger sequence number has already been received."
            }
            FaultCause::ConnectionLimitReached => {
                "Server is too busy to process this request. Try again later. (CreateSequenceRefused / netrm:ConnectionLimitReached)"
            }
            FaultCause::OpenTimeout => "The open operation did not complete within the allotted timeout.",
            FaultCause::CloseTimeout => "The close operation did not complete within the allotted timeout.",
            FaultCause::Aborted => "Due to a user abort the reliable session cannot continue.",
            FaultCause::WrongIdentifier => {
                "The remote endpoint has sent an fault message with an unexpected sequence identifier over a session. The fault may be intended for a different session. The reliable session was faulted."
            }
            FaultCause::Remote => "The sequence has been terminated by the remote endpoint.",
            FaultCause::NotAllRepliesAcknowledged => {
                "The remote endpoint closed the sequence before it acknowledged all the replies it received."
            }
            FaultCause::ReplyMissingAcknowledgement => {
                "The reply message is missing an acknowledgement of its request (SequenceAcknowledgement), so the reliable session cannot continue."
            }
            FaultCause::OfferRefused => {
                "The CreateSequenceResponse does not accept the offered sequence (no Accept), so the return sequence cannot be established."
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// A wire message left its sender; `attempt` > 0 for a retransmission of the same
    /// (sequence, message number) or a resent handshake.
    Sent {
        wire: u32,
        attempt: u16,
    },
    /// The link delivered it.
    Arrived {
        wire: u32,
    },
    /// The link dropped it (live mode only); `scripted` when a drop rule or the user's "Drop
    /// next" asked for it, not the link's random loss.
    Lost {
        wire: u32,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        scripted: bool,
    },
    /// The destination handed a message to the application.
    Delivered {
        number: u64,
    },
    /// The destination dropped an arriving message without acknowledging it (no room in its
    /// buffer, or too many ack ranges in unordered mode); the source will resend it.
    Discarded {
        number: u64,
    },
    /// An arriving message that was already received (not delivered again).
    Duplicate {
        number: u64,
    },
    /// Source window state after a change.
    Window {
        window: u16,
        in_flight: u16,
        ssthresh: u16,
        quota: i32,
    },
    /// Destination buffer: messages held for the application and what it advertises.
    Buffer {
        queued: u16,
        buffer_remaining: i32,
    },
    /// An RTT sample and the resulting smoothed RTT and retransmission timeout (µs).
    Rtt {
        sample_us: u32,
        srtt_us: u32,
        rto_us: u32,
    },
    TimerArmed {
        timer: Timer,
        at: Time,
    },
    TimerFired {
        timer: Timer,
    },
    TimerStopped {
        timer: Timer,
    },
    /// A send waited sendTimeout in the wait queue for room in the transfer window and failed
    /// with a TimeoutException to the application (TransmissionStrategy.WaitQueueAdder.Wait).
    SendTimedOut {
        waited_ms: u32,
    },
    /// The session faulted (`code` is the WS-RM fault sent or received).
    Fault {
        code: RmFault,
        cause: FaultCause,
    },
    Opened,
    Closed,
    Terminated,
}

impl EventKind {
    /// Open, close and fault: what a driver must hear even when it records nothing else.
    pub fn is_lifecycle(&self) -> bool {
        matches!(
            self,
            EventKind::Fault { .. }
                | EventKind::SendTimedOut { .. }
                | EventKind::Opened
                | EventKind::Closed
                | EventKind::Terminated
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    pub time: Time,
    pub seq: SeqIdx,
    pub side: Side,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[cfg(test)]
mod tests {
    #[test]
    fn events_are_small() {
        assert!(
            std::mem::size_of::<super::Event>() <= 40,
            "{}",
            std::mem::size_of::<super::Event>()
        );
    }
}
