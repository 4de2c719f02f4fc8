//! What the engine tells its driver: timeline events for one sequence (identifier known
//! once the handshake is done).

use crate::trace::{EventKind, Time};
use crate::wsrm::Text;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineEvent {
    pub time: Time,
    /// The sequence identifier; `None` before the CreateSequence handshake completes.
    pub seq: Option<Text>,
    pub kind: EventKind,
}

/// Why `send` refused a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The transfer window is full or the receiver's quota is used up; try again later
    /// (WCF blocks the sender: TransmissionStrategy.CanAdd).
    WouldBlock,
    /// The sequence is not open yet.
    NotOpen,
    /// Close was requested; no more messages.
    Closing,
    /// The session faulted or ended.
    Closed,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendError::WouldBlock => "transfer window full",
            SendError::NotOpen => "sequence not open",
            SendError::Closing => "sequence closing",
            SendError::Closed => "sequence closed or faulted",
        })
    }
}

impl std::error::Error for SendError {}
