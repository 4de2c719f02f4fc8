//! The typed WS-RM / WS-Addressing / SOAP model ("Repr" in smoltcp terms).
//!
//! Everything past the codec works on these types; nothing here knows about bytes or prefixes.

use super::ns::{AddressingVersion, RmVersion, SoapVersion};
pub use super::text::Text;
use bytes::Bytes;
use serde::Serialize;
use std::time::Duration;

/// A WS-RM message number: 1 ..= 9223372036854775807 (WS-RM 1.1 §3.3 "xs:unsignedLong ... MUST
/// NOT exceed 9223372036854775807"; 2005/02 §3.1 likewise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct MessageNumber(u64);

impl MessageNumber {
    pub const MAX: u64 = i64::MAX as u64;
    pub const ONE: MessageNumber = MessageNumber(1);

    pub const fn new(n: u64) -> Option<MessageNumber> {
        if n >= 1 && n <= Self::MAX {
            Some(MessageNumber(n))
        } else {
            None
        }
    }
    pub const fn get(self) -> u64 {
        self.0
    }
    /// The next number, or `None` on rollover (WS-RM 1.1 §4.3 MessageNumberRollover).
    pub const fn next(self) -> Option<MessageNumber> {
        MessageNumber::new(self.0 + 1)
    }
}

impl std::fmt::Display for MessageNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// One `AcknowledgementRange` (inclusive). Decoded ranges always satisfy `lower <= upper`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct AckRange {
    pub lower: MessageNumber,
    pub upper: MessageNumber,
}

impl AckRange {
    pub fn new(lower: u64, upper: u64) -> Option<AckRange> {
        let (lower, upper) = (MessageNumber::new(lower)?, MessageNumber::new(upper)?);
        (lower <= upper).then_some(AckRange { lower, upper })
    }
    pub fn single(n: MessageNumber) -> AckRange {
        AckRange { lower: n, upper: n }
    }
    pub fn contains(&self, n: u64) -> bool {
        self.lower.get() <= n && n <= self.upper.get()
    }
    pub fn len(&self) -> u64 {
        self.upper.get() - self.lower.get() + 1
    }
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// What a `SequenceAcknowledgement` says about the sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "values", rename_all = "snake_case")]
pub enum AckContent {
    /// `AcknowledgementRange+` (non-overlapping).
    Ranges(Vec<AckRange>),
    /// Nothing received: `wsrm:None` in 1.1; WCF writes the range `0-0` in 2005/02
    /// (WCF doc "Reliable Messaging Protocol version 1.0", SequenceAcknowledgement).
    None,
    /// `Nack+`: numbers known to be missing.
    Nacks(Vec<MessageNumber>),
}

impl AckContent {
    pub fn ranges(&self) -> &[AckRange] {
        match self {
            AckContent::Ranges(r) => r,
            _ => &[],
        }
    }
    /// Whether the acknowledgement covers message `n`.
    pub fn covers(&self, n: u64) -> bool {
        self.ranges().iter().any(|r| r.contains(n))
    }
}

/// `wsrm:Sequence` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sequence {
    pub identifier: Text,
    pub message_number: MessageNumber,
    /// `wsrm:LastMessage` (2005/02 only).
    pub last_message: bool,
}

/// `wsrm:AckRequested` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AckRequested {
    pub identifier: Text,
    /// `wsrm:MessageNumber` (2005/02 only, optional).
    pub message_number: Option<MessageNumber>,
}

/// `wsrm:SequenceAcknowledgement` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SequenceAcknowledgement {
    pub identifier: Text,
    pub content: AckContent,
    /// `wsrm:Final` (1.1 only).
    pub final_ack: bool,
    /// `netrm:BufferRemaining`: free slots in the destination's buffer (WCF flow control).
    pub buffer_remaining: Option<u32>,
}

/// A WS-Addressing endpoint reference; only the address matters to WS-RM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EndpointReference {
    pub address: Text,
}

impl EndpointReference {
    pub fn new(address: impl Into<Text>) -> Self {
        EndpointReference {
            address: address.into(),
        }
    }
}

/// `wsa:RelatesTo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RelatesTo {
    pub message_id: Text,
    pub relationship: Option<Text>,
}

/// The WS-RM protocol actions (WS-RM 2005/02 §3, WS-RM 1.1 §3, Appendix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum RmAction {
    CreateSequence,
    CreateSequenceResponse,
    CloseSequence,
    CloseSequenceResponse,
    TerminateSequence,
    TerminateSequenceResponse,
    SequenceAcknowledgement,
    AckRequested,
    /// 2005/02 only: "LastMessage" action with an empty body.
    LastMessage,
    /// 1.1 only: the WS-RM fault action.
    Fault,
}

impl RmAction {
    pub const ALL: [RmAction; 10] = [
        RmAction::CreateSequence,
        RmAction::CreateSequenceResponse,
        RmAction::CloseSequence,
        RmAction::CloseSequenceResponse,
        RmAction::TerminateSequence,
        RmAction::TerminateSequenceResponse,
        RmAction::SequenceAcknowledgement,
        RmAction::AckRequested,
        RmAction::LastMessage,
        RmAction::Fault,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            RmAction::CreateSequence => "CreateSequence",
            RmAction::CreateSequenceResponse => "CreateSequenceResponse",
            RmAction::CloseSequence => "CloseSequence",
            RmAction::CloseSequenceResponse => "CloseSequenceResponse",
            RmAction::TerminateSequence => "TerminateSequence",
            RmAction::TerminateSequenceResponse => "TerminateSequenceResponse",
            RmAction::SequenceAcknowledgement => "SequenceAcknowledgement",
            RmAction::AckRequested => "AckRequested",
            RmAction::LastMessage => "LastMessage",
            RmAction::Fault => "fault",
        }
    }

    /// Whether `version` defines this action.
    pub const fn exists_in(self, version: RmVersion) -> bool {
        match self {
            RmAction::CloseSequence
            | RmAction::CloseSequenceResponse
            | RmAction::TerminateSequenceResponse
            | RmAction::Fault => matches!(version, RmVersion::V1_1),
            RmAction::LastMessage => matches!(version, RmVersion::Feb2005),
            _ => true,
        }
    }

    /// The action URI: the version's namespace + "/" + name (both specs' Appendix).
    pub fn uri(self, version: RmVersion) -> String {
        format!("{}/{}", version.namespace(), self.name())
    }

    pub fn from_uri(uri: &str) -> Option<(RmVersion, RmAction)> {
        for version in [RmVersion::Feb2005, RmVersion::V1_1] {
            if let Some(name) = uri
                .strip_prefix(version.namespace())
                .and_then(|rest| rest.strip_prefix('/'))
            {
                return RmAction::ALL
                    .into_iter()
                    .find(|a| a.exists_in(version) && a.name() == name)
                    .map(|a| (version, a));
            }
        }
        None
    }
}

/// `wsa:Action`, typed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Action {
    Rm(RmVersion, RmAction),
    /// The generic WS-Addressing fault action.
    AddressingFault(AddressingVersion),
    /// Any other action (application actions).
    Other(Text),
}

impl Action {
    pub fn parse(uri: &str) -> Action {
        Action::parse_with(uri, |s: &str| Text::from(s))
    }

    /// `parse`, with `text` making the string of an application action (a decoder can hand
    /// out a shared copy of one it has seen).
    pub fn parse_with(uri: &str, text: impl FnOnce(&str) -> Text) -> Action {
        if let Some((v, a)) = RmAction::from_uri(uri) {
            return Action::Rm(v, a);
        }
        for v in [AddressingVersion::Aug2004, AddressingVersion::V1_0] {
            if uri == v.fault_action() {
                return Action::AddressingFault(v);
            }
        }
        Action::Other(text(uri))
    }

    pub fn uri(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Action::Rm(v, a) => a.uri(*v).into(),
            Action::AddressingFault(v) => v.fault_action().into(),
            Action::Other(s) => s.as_str().into(),
        }
    }

    pub fn rm(&self) -> Option<(RmVersion, RmAction)> {
        match self {
            Action::Rm(v, a) => Some((*v, *a)),
            _ => None,
        }
    }
}

/// The WS-Addressing message information headers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Addressing {
    /// `None` when the message carries no addressing header.
    pub version: Option<AddressingVersion>,
    pub action: Option<Action>,
    pub message_id: Option<Text>,
    pub relates_to: Option<RelatesTo>,
    pub to: Option<Text>,
    pub reply_to: Option<EndpointReference>,
    pub from: Option<EndpointReference>,
    pub fault_to: Option<EndpointReference>,
}

/// `IncompleteSequenceBehavior` (WS-RM 1.1 §3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum IncompleteSequenceBehavior {
    DiscardEntireSequence,
    DiscardFollowingFirstGap,
    NoDiscard,
}

impl IncompleteSequenceBehavior {
    pub const ALL: [IncompleteSequenceBehavior; 3] = [
        IncompleteSequenceBehavior::DiscardEntireSequence,
        IncompleteSequenceBehavior::DiscardFollowingFirstGap,
        IncompleteSequenceBehavior::NoDiscard,
    ];
    pub const fn name(self) -> &'static str {
        match self {
            IncompleteSequenceBehavior::DiscardEntireSequence => "DiscardEntireSequence",
            IncompleteSequenceBehavior::DiscardFollowingFirstGap => "DiscardFollowingFirstGap",
            IncompleteSequenceBehavior::NoDiscard => "NoDiscard",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == s)
    }
}

/// `wsrm:Offer` inside CreateSequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Offer {
    pub identifier: Text,
    /// `wsrm:Endpoint` (1.1 only, required there).
    pub endpoint: Option<EndpointReference>,
    pub expires: Option<Duration>,
    pub incomplete_sequence_behavior: Option<IncompleteSequenceBehavior>,
}

/// `wsrm:CreateSequence` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreateSequence {
    pub acks_to: EndpointReference,
    pub expires: Option<Duration>,
    pub offer: Option<Offer>,
}

/// `wsrm:CreateSequenceResponse` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreateSequenceResponse {
    pub identifier: Text,
    pub expires: Option<Duration>,
    pub incomplete_sequence_behavior: Option<IncompleteSequenceBehavior>,
    /// `wsrm:Accept/wsrm:AcksTo`: present when an offer was accepted.
    pub accept: Option<EndpointReference>,
}

/// `wsrm:CloseSequence` / `wsrm:TerminateSequence` body (1.1 adds `LastMsgNumber`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SequenceEnd {
    pub identifier: Text,
    pub last_msg_number: Option<MessageNumber>,
}

/// The WS-RM fault subcodes (WS-RM 2005/02 §4, WS-RM 1.1 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum RmFault {
    SequenceTerminated,
    UnknownSequence,
    InvalidAcknowledgement,
    MessageNumberRollover,
    LastMessageNumberExceeded,
    CreateSequenceRefused,
    SequenceClosed,
    WsrmRequired,
}

impl RmFault {
    pub const ALL: [RmFault; 8] = [
        RmFault::SequenceTerminated,
        RmFault::UnknownSequence,
        RmFault::InvalidAcknowledgement,
        RmFault::MessageNumberRollover,
        RmFault::LastMessageNumberExceeded,
        RmFault::CreateSequenceRefused,
        RmFault::SequenceClosed,
        RmFault::WsrmRequired,
    ];
    pub const fn name(self) -> &'static str {
        match self {
            RmFault::SequenceTerminated => "SequenceTerminated",
            RmFault::UnknownSequence => "UnknownSequence",
            RmFault::InvalidAcknowledgement => "InvalidAcknowledgement",
            RmFault::MessageNumberRollover => "MessageNumberRollover",
            RmFault::LastMessageNumberExceeded => "LastMessageNumberExceeded",
            RmFault::CreateSequenceRefused => "CreateSequenceRefused",
            RmFault::SequenceClosed => "SequenceClosed",
            RmFault::WsrmRequired => "WSRMRequired",
        }
    }
    pub fn parse(local: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == local)
    }
    /// Whether the version defines the fault (LastMessageNumberExceeded is 2005/02 only;
    /// SequenceClosed and WSRMRequired are 1.1 only).
    pub const fn exists_in(self, version: RmVersion) -> bool {
        match self {
            RmFault::LastMessageNumberExceeded => matches!(version, RmVersion::Feb2005),
            RmFault::SequenceClosed | RmFault::WsrmRequired => matches!(version, RmVersion::V1_1),
            _ => true,
        }
    }
}

/// Microsoft's nested subcodes (`netrm:`), seen under CreateSequenceRefused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum NetRmFault {
    /// The listener already holds maxPendingChannels sessions (WCF doc, CreateSequenceRefused).
    ConnectionLimitReached,
}

impl NetRmFault {
    pub const fn name(self) -> &'static str {
        match self {
            NetRmFault::ConnectionLimitReached => "ConnectionLimitReached",
        }
    }
    pub fn parse(local: &str) -> Option<Self> {
        (local == "ConnectionLimitReached").then_some(NetRmFault::ConnectionLimitReached)
    }
}

/// The top-level SOAP fault code (SOAP 1.2 names; SOAP 1.1 Client = Sender, Server = Receiver).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum FaultCode {
    Sender,
    Receiver,
    VersionMismatch,
    MustUnderstand,
    DataEncodingUnknown,
    /// Any other code, as `{namespace}local`.
    Other(Text),
}

/// A SOAP fault, SOAP 1.1 or 1.2. For SOAP 1.1 the WS-RM subcode travels in a
/// `wsrm:SequenceFault` header (WS-RM 1.1 §4.1); the model does not care.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fault {
    pub code: FaultCode,
    pub rm_fault: Option<RmFault>,
    /// Nested Microsoft subcode (SOAP 1.2 only: SOAP 1.1 has no nested subcodes).
    pub netrm_fault: Option<NetRmFault>,
    pub reason: Text,
    /// `wsrm:Identifier` from the fault detail.
    pub identifier: Option<Text>,
}

/// A `QName` in a namespace: the application body's root element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpandedName {
    pub namespace: Option<Text>,
    pub local: Text,
}

/// An application body: located, not parsed. Shared, so that cloning an envelope (every
/// retransmission, every copy on a link) does not copy it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AppBody(std::sync::Arc<AppBodyData>);

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppBodyData {
    /// The first child element of `soap:Body`.
    pub name: ExpandedName,
    /// The body content verbatim (empty when decoded with `keep_body = false`).
    #[serde(skip)]
    pub xml: Bytes,
    /// Namespace bindings the content uses but declares outside itself (on the Envelope or
    /// Body), as (prefix, URI); "" is the default namespace. The encoder declares them again.
    #[serde(skip)]
    pub ns_context: Vec<(Text, Text)>,
}

impl AppBody {
    pub fn new(name: ExpandedName, xml: Bytes, ns_context: Vec<(Text, Text)>) -> Self {
        AppBody(std::sync::Arc::new(AppBodyData {
            name,
            xml,
            ns_context,
        }))
    }
    /// Mutable access (copies the data first if it is shared).
    pub fn make_mut(&mut self) -> &mut AppBodyData {
        std::sync::Arc::make_mut(&mut self.0)
    }
}

impl std::ops::Deref for AppBody {
    type Target = AppBodyData;
    fn deref(&self) -> &AppBodyData {
        &self.0
    }
}

/// What the SOAP body holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Body {
    Empty,
    CreateSequence(CreateSequence),
    CreateSequenceResponse(CreateSequenceResponse),
    CloseSequence(SequenceEnd),
    CloseSequenceResponse { identifier: Text },
    TerminateSequence(SequenceEnd),
    TerminateSequenceResponse { identifier: Text },
    Fault(Fault),
    Application(AppBody),
}

impl Body {
    /// A short label for lists: "CreateSequence", "Fault", "Application", ...
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Empty => "Empty",
            Body::CreateSequence(_) => "CreateSequence",
            Body::CreateSequenceResponse(_) => "CreateSequenceResponse",
            Body::CloseSequence(_) => "CloseSequence",
            Body::CloseSequenceResponse { .. } => "CloseSequenceResponse",
            Body::TerminateSequence(_) => "TerminateSequence",
            Body::TerminateSequenceResponse { .. } => "TerminateSequenceResponse",
            Body::Fault(_) => "Fault",
            Body::Application(_) => "Application",
        }
    }
    /// Whether the body is a WS-RM protocol element.
    pub fn is_rm(&self) -> bool {
        !matches!(self, Body::Empty | Body::Fault(_) | Body::Application(_))
    }
}

/// One SOAP envelope (or, from a lenient decode, a pasted fragment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Envelope {
    /// `None` for a fragment that had no envelope.
    pub soap: Option<SoapVersion>,
    /// The WS-RM version of the RM elements and action, if any.
    pub rm_version: Option<RmVersion>,
    pub addressing: Addressing,
    pub sequence: Option<Sequence>,
    pub ack_requested: Vec<AckRequested>,
    pub acks: Vec<SequenceAcknowledgement>,
    pub body: Body,
}

/// Nothing decoded yet: no SOAP version, no headers, an empty body (what a decoder fills in).
impl Default for Envelope {
    fn default() -> Self {
        Envelope {
            soap: None,
            rm_version: None,
            addressing: Addressing::default(),
            sequence: None,
            ack_requested: Vec::new(),
            acks: Vec::new(),
            body: Body::Empty,
        }
    }
}

impl Envelope {
    /// An empty envelope of the given versions, to be filled in by builders.
    pub fn new(soap: SoapVersion, rm_version: RmVersion, wsa: AddressingVersion) -> Envelope {
        Envelope {
            soap: Some(soap),
            rm_version: Some(rm_version),
            addressing: Addressing {
                version: Some(wsa),
                ..Addressing::default()
            },
            sequence: None,
            ack_requested: Vec::new(),
            acks: Vec::new(),
            body: Body::Empty,
        }
    }

    /// The RM action of the message, if its `wsa:Action` is one.
    pub fn rm_action(&self) -> Option<RmAction> {
        self.addressing.action.as_ref()?.rm().map(|(_, a)| a)
    }

    /// The fault in the body, if any.
    pub fn fault(&self) -> Option<&Fault> {
        match &self.body {
            Body::Fault(f) => Some(f),
            _ => None,
        }
    }

    /// A one-word description of what the message is, for lists and summaries.
    pub fn kind_label(&self) -> &'static str {
        match self.rm_action() {
            Some(RmAction::Fault) => return "Fault",
            Some(action) => return action.name(),
            None => {}
        }
        match &self.body {
            Body::Fault(_) => "Fault",
            Body::Empty | Body::Application(_) if self.sequence.is_some() => "Message",
            Body::Empty if !self.acks.is_empty() => "SequenceAcknowledgement",
            Body::Empty if !self.ack_requested.is_empty() => "AckRequested",
            other => other.kind(),
        }
    }
}
