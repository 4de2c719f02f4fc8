//! One envelope (or HTTP message) on the wire, summarised small: the same record whether the
//! simulator sent it, the live driver sent it, or the capture decoder found it.

use super::{SeqIdx, Time};
use crate::wsrm::{AckContent, Body, Envelope, RmAction, RmFault};
use serde::Serialize;

/// What a wire message is, for lists, plots and the ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[repr(u8)]
pub enum WireKind {
    CreateSequence,
    CreateSequenceResponse,
    /// An application message in a sequence.
    Data,
    /// The 2005/02 LastMessage (empty body, takes a message number).
    LastMessage,
    /// A standalone SequenceAcknowledgement.
    Ack,
    /// A standalone AckRequested (keep-alive or close-time poll).
    AckRequested,
    CloseSequence,
    CloseSequenceResponse,
    TerminateSequence,
    TerminateSequenceResponse,
    Fault,
    /// A WS-Trust / WS-SecureConversation exchange of message security (SPNEGO, SCT issue,
    /// cancel): shown as its own kind, not analysed.
    Security,
    /// SOAP without WS-RM (shown, not analysed).
    OtherSoap,
    /// HTTP without SOAP, or an HTTP response with no body (e.g. 202 Accepted). A response's
    /// status is in `Wire::number`; a request's method is `Wire::method`
    /// (`capture::http::method_code`).
    Http,
}

impl WireKind {
    pub fn label(self) -> &'static str {
        match self {
            WireKind::CreateSequence => "CreateSequence",
            WireKind::CreateSequenceResponse => "CreateSequenceResponse",
            WireKind::Data => "Message",
            WireKind::LastMessage => "LastMessage",
            WireKind::Ack => "Ack",
            WireKind::AckRequested => "AckRequested",
            WireKind::CloseSequence => "CloseSequence",
            WireKind::CloseSequenceResponse => "CloseSequenceResponse",
            WireKind::TerminateSequence => "TerminateSequence",
            WireKind::TerminateSequenceResponse => "TerminateSequenceResponse",
            WireKind::Fault => "Fault",
            WireKind::Security => "Security handshake",
            WireKind::OtherSoap => "SOAP",
            WireKind::Http => "HTTP",
        }
    }
    /// Kinds that carry a message number and take part in the sequence.
    pub fn is_sequenced(self) -> bool {
        matches!(self, WireKind::Data | WireKind::LastMessage)
    }
}

/// Bit flags of a [`Wire`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct WireFlags(pub u8);

impl WireFlags {
    pub const ACK_REQUESTED: u8 = 1;
    pub const LAST_MESSAGE: u8 = 2;
    pub const HAS_ACK: u8 = 4;
    pub const FINAL: u8 = 8;
    /// The ack says "nothing received" (`wsrm:None` or WCF's 0-0).
    pub const ACK_NONE: u8 = 16;
    /// The ack lists Nacks instead of ranges.
    pub const NACK: u8 = 32;
    /// Carried in an HTTP response.
    pub const RESPONSE: u8 = 64;

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
    pub fn set(&mut self, bit: u8) {
        self.0 |= bit;
    }
}

/// Where an ack's ranges live in [`super::Timeline::ranges`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct RangeRef {
    pub start: u32,
    pub len: u16,
}

/// The (first) SequenceAcknowledgement a wire carries, in [`super::Timeline::acks`]: most
/// wires of a capture carry none (messages, HTTP 202s), so it lives beside them, not in them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct AckRef {
    /// The sequence it acknowledges.
    pub seq: SeqIdx,
    pub ranges: RangeRef,
    /// `netrm:BufferRemaining` (`u32::MAX`: absent).
    pub buffer_remaining: u32,
}

/// One message on the wire, as the timeline hands it out. Stored packed (`WireTable`, 24 bytes
/// a row): a capture holds one per SOAP or HTTP message, and they are most of what it weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wire {
    /// When it was sent (live) or captured (capture).
    pub time: Time,
    /// Sending endpoint and receiving endpoint (indexes into `Timeline::endpoints`).
    pub from: u16,
    pub to: u16,
    pub kind: WireKind,
    pub flags: WireFlags,
    /// By kind: the copy number of a sequence message (`attempt`), the WS-RM fault code + 1 of a
    /// `Fault` (`fault_code`), the method of an HTTP request (`method`). One field, as a wire is
    /// only one of them.
    aux: u16,
    /// The sequence this message belongs to (Sequence header, or the protocol body's identifier).
    pub seq: SeqIdx,
    /// Message number of a Data/LastMessage wire (0 otherwise; LastMsgNumber for Close/Terminate).
    pub number: u64,
    /// Index of its SequenceAcknowledgement in `Timeline::acks` (`Wire::NO_ACK`: none).
    pub ack: u32,
    /// Envelope size in bytes.
    pub size: u32,
    /// Capture frame number, 1-based as in Wireshark (0: not from a capture).
    pub frame: u32,
    /// Capture: where the message starts (see `capture::origin`); live: index into retained bytes.
    pub origin: u64,
}

impl Wire {
    pub const NO_ACK: u32 = u32::MAX;

    /// A wire of `kind` with nothing else known yet.
    pub fn new(time: Time, from: u16, to: u16, kind: WireKind) -> Wire {
        Wire {
            time,
            from,
            to,
            kind,
            flags: WireFlags::default(),
            aux: 0,
            seq: SeqIdx::NONE,
            number: 0,
            ack: Wire::NO_ACK,
            size: 0,
            frame: 0,
            origin: 0,
        }
    }
    /// 0 for the first copy of a sequence message on the wire, 1 for the first retransmission…
    /// (0 for every other kind).
    pub fn attempt(&self) -> u16 {
        if self.kind.is_sequenced() { self.aux } else { 0 }
    }
    pub fn set_attempt(&mut self, attempt: u16) {
        if self.kind.is_sequenced() {
            self.aux = attempt;
        }
    }
    pub fn fault_code(&self) -> Option<RmFault> {
        if self.kind != WireKind::Fault {
            return None;
        }
        RmFault::ALL.get((self.aux as usize).checked_sub(1)?).copied()
    }
    /// The method of an HTTP request shown as plain HTTP (`capture::http::method_code`; 0: none).
    pub fn method(&self) -> u8 {
        if self.kind == WireKind::Http {
            self.aux as u8
        } else {
            0
        }
    }
    pub fn set_method(&mut self, code: u8) {
        if self.kind == WireKind::Http {
            self.aux = u16::from(code);
        }
    }
    /// Sets the WS-RM fault code + 1 of a `Fault` wire (`classify`).
    pub fn set_fault(&mut self, code: u16) {
        if self.kind == WireKind::Fault {
            self.aux = code;
        }
    }
    pub fn has_ack(&self) -> bool {
        self.ack != Wire::NO_ACK
    }
    /// The shared slot as stored (`WireTable` packs it as is).
    pub(super) fn aux_bits(&self) -> u16 {
        self.aux
    }
    pub(super) fn set_aux_bits(&mut self, aux: u16) {
        self.aux = aux;
    }
}

/// As the JSON timeline spells a wire: `ack` indexes `acks` (null: none); `attempt`, and `fault`
/// (WS-RM fault code + 1, or an HTTP request's method code) as before the fields shared one slot.
impl Serialize for Wire {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Wire", 13)?;
        st.serialize_field("time", &self.time)?;
        st.serialize_field("from", &self.from)?;
        st.serialize_field("to", &self.to)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("flags", &self.flags)?;
        let fault = match self.kind {
            WireKind::Fault | WireKind::Http => self.aux,
            _ => 0,
        };
        st.serialize_field("fault", &fault)?;
        st.serialize_field("seq", &self.seq)?;
        st.serialize_field("number", &self.number)?;
        st.serialize_field("ack", &self.has_ack().then_some(self.ack))?;
        st.serialize_field("size", &self.size)?;
        st.serialize_field("frame", &self.frame)?;
        st.serialize_field("origin", &self.origin)?;
        st.serialize_field("attempt", &self.attempt())?;
        st.end()
    }
}

/// Classifies an envelope; the caller interns sequence identifiers and ack ranges.
/// WS-Trust (2005/02 and 1.3) and WS-SecureConversation actions: RST/RSTR Issue, SCT, Cancel.
pub fn is_security_handshake(env: &Envelope) -> bool {
    const PREFIXES: [&str; 4] = [
        "http://schemas.xmlsoap.org/ws/2005/02/trust/",
        "http://schemas.xmlsoap.org/ws/2005/02/sc/",
        "http://docs.oasis-open.org/ws-sx/ws-trust/200512/",
        "http://docs.oasis-open.org/ws-sx/ws-secureconversation/200512/",
    ];
    match &env.addressing.action {
        Some(crate::wsrm::Action::Other(uri)) => PREFIXES.iter().any(|p| uri.starts_with(p)),
        _ => false,
    }
}

pub fn classify(env: &Envelope) -> (WireKind, WireFlags, u16) {
    let mut flags = WireFlags::default();
    if !env.ack_requested.is_empty() {
        flags.set(WireFlags::ACK_REQUESTED);
    }
    if let Some(ack) = env.acks.first() {
        flags.set(WireFlags::HAS_ACK);
        if ack.final_ack {
            flags.set(WireFlags::FINAL);
        }
        match ack.content {
            AckContent::None => flags.set(WireFlags::ACK_NONE),
            AckContent::Nacks(_) => flags.set(WireFlags::NACK),
            AckContent::Ranges(_) => {}
        }
    }
    if env.sequence.as_ref().is_some_and(|s| s.last_message) {
        flags.set(WireFlags::LAST_MESSAGE);
    }
    let mut fault = 0;
    let kind = match (&env.body, env.rm_action()) {
        (Body::CreateSequence(_), _) => WireKind::CreateSequence,
        (Body::CreateSequenceResponse(_), _) => WireKind::CreateSequenceResponse,
        (Body::CloseSequence(_), _) => WireKind::CloseSequence,
        (Body::CloseSequenceResponse { .. }, _) => WireKind::CloseSequenceResponse,
        (Body::TerminateSequence(_), _) => WireKind::TerminateSequence,
        (Body::TerminateSequenceResponse { .. }, _) => WireKind::TerminateSequenceResponse,
        (Body::Fault(f), _) => {
            fault = f.rm_fault.map_or(0, |code| {
                RmFault::ALL.iter().position(|c| *c == code).unwrap() as u16 + 1
            });
            WireKind::Fault
        }
        (_, Some(RmAction::LastMessage)) => WireKind::LastMessage,
        _ if env.sequence.is_some() => WireKind::Data,
        _ if !env.acks.is_empty() => WireKind::Ack,
        _ if !env.ack_requested.is_empty() => WireKind::AckRequested,
        _ if is_security_handshake(env) => WireKind::Security,
        _ => WireKind::OtherSoap,
    };
    (kind, flags, fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_fits_in_48_bytes() {
        assert!(
            std::mem::size_of::<Wire>() <= 48,
            "{}",
            std::mem::size_of::<Wire>()
        );
    }
}
