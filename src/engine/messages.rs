//! Builders for the envelopes the engine puts on the wire, shaped as WCF writes them
//! (WsrmUtilities / WsrmMessageInfo: Sequence is mustUnderstand, AckRequested carries only the
//! Identifier, acks carry netrm:BufferRemaining when flow control is on).

use crate::wsrm::*;

/// Versions and addresses shared by the messages of one session.
#[derive(Clone, Debug)]
pub struct Dialect {
    pub soap: SoapVersion,
    pub rm: RmVersion,
    pub wsa: AddressingVersion,
}

impl Dialect {
    fn envelope(&self, action: Action, to: &Text) -> Envelope {
        let mut e = Envelope::new(self.soap, self.rm, self.wsa);
        e.addressing.action = Some(action);
        e.addressing.to = Some(to.clone());
        e
    }

    fn rm_action(&self, a: RmAction) -> Action {
        Action::Rm(self.rm, a)
    }

    pub fn create_sequence(&self, to: &Text, message_id: Text, reply_to: &Text) -> Envelope {
        let mut e = self.envelope(self.rm_action(RmAction::CreateSequence), to);
        e.addressing.message_id = Some(message_id);
        e.addressing.reply_to = Some(EndpointReference::new(reply_to.clone()));
        e.body = Body::CreateSequence(CreateSequence {
            acks_to: EndpointReference::new(reply_to.clone()),
            expires: None,
            offer: None,
        });
        e
    }

    /// Adds the Offer of a return sequence to a CreateSequence: the identifier, and in 1.1
    /// its Endpoint and IncompleteSequenceBehavior (CreateSequence.OnWriteBodyContents).
    pub fn offer(&self, cs: &mut Envelope, id: Text, endpoint: &Text, ordered: bool) {
        if let Body::CreateSequence(body) = &mut cs.body {
            let v11 = self.rm == RmVersion::V1_1;
            body.offer = Some(Offer {
                identifier: id,
                endpoint: v11.then(|| EndpointReference::new(endpoint.clone())),
                expires: None,
                incomplete_sequence_behavior: v11.then_some(if ordered {
                    IncompleteSequenceBehavior::DiscardFollowingFirstGap
                } else {
                    IncompleteSequenceBehavior::NoDiscard
                }),
            });
        }
    }

    /// Accepts the offer in a CreateSequenceResponse: Accept/AcksTo is the address the
    /// CreateSequence was sent to (WsrmUtilities.CreateCreateSequenceResponse).
    pub fn accept(&self, csr: &mut Envelope, acks_to: &Text) {
        if let Body::CreateSequenceResponse(body) = &mut csr.body {
            body.accept = Some(EndpointReference::new(acks_to.clone()));
        }
    }

    /// 1.1 responses always say how an incomplete sequence is treated: DiscardFollowingFirstGap
    /// when ordered, else NoDiscard (CreateSequenceResponse.OnWriteBodyContents).
    pub fn create_sequence_response(
        &self,
        to: &Text,
        relates_to: Option<Text>,
        id: &Text,
        ordered: bool,
    ) -> Envelope {
        let mut e = self.envelope(self.rm_action(RmAction::CreateSequenceResponse), to);
        e.addressing.relates_to = relates_to.map(|m| RelatesTo {
            message_id: m,
            relationship: None,
        });
        e.body = Body::CreateSequenceResponse(CreateSequenceResponse {
            identifier: id.clone(),
            expires: None,
            incomplete_sequence_behavior: (self.rm == RmVersion::V1_1).then_some(if ordered {
                IncompleteSequenceBehavior::DiscardFollowingFirstGap
            } else {
                IncompleteSequenceBehavior::NoDiscard
            }),
            accept: None,
        });
        e
    }

    pub fn data(
        &self,
        to: &Text,
        action: &Text,
        id: &Text,
        number: u64,
        ack_requested: bool,
        body: AppBody,
    ) -> Envelope {
        let mut e = self.envelope(Action::Other(action.clone()), to);
        e.sequence = Some(self.sequence_header(id, number, false));
        if ack_requested {
            e.ack_requested.push(AckRequested {
                identifier: id.clone(),
                message_number: None,
            });
        }
        e.body = Body::Application(body);
        e
    }

    /// 2005/02 §3.1: the LastMessage message — empty body, LastMessage in the Sequence header.
    pub fn last_message(&self, to: &Text, id: &Text, number: u64, ack_requested: bool) -> Envelope {
        let mut e = self.envelope(self.rm_action(RmAction::LastMessage), to);
        e.sequence = Some(self.sequence_header(id, number, true));
        if ack_requested {
            e.ack_requested.push(AckRequested {
                identifier: id.clone(),
                message_number: None,
            });
        }
        e
    }

    fn sequence_header(&self, id: &Text, number: u64, last: bool) -> Sequence {
        Sequence {
            identifier: id.clone(),
            message_number: MessageNumber::new(number).unwrap_or(MessageNumber::ONE),
            last_message: last,
        }
    }

    pub fn ack_requested(&self, to: &Text, id: &Text) -> Envelope {
        let mut e = self.envelope(self.rm_action(RmAction::AckRequested), to);
        e.ack_requested.push(AckRequested {
            identifier: id.clone(),
            message_number: None,
        });
        e
    }

    pub fn ack_header(
        &self,
        id: &Text,
        ranges: Vec<AckRange>,
        final_ack: bool,
        buffer_remaining: Option<u32>,
    ) -> SequenceAcknowledgement {
        SequenceAcknowledgement {
            identifier: id.clone(),
            content: if ranges.is_empty() {
                AckContent::None
            } else {
                AckContent::Ranges(ranges)
            },
            final_ack: final_ack && self.rm == RmVersion::V1_1,
            buffer_remaining,
        }
    }

    pub fn ack(&self, to: &Text, ack: SequenceAcknowledgement) -> Envelope {
        let mut e = self.envelope(self.rm_action(RmAction::SequenceAcknowledgement), to);
        e.acks.push(ack);
        e
    }

    /// CloseSequence / TerminateSequence requests (1.1 carries LastMsgNumber).
    pub fn sequence_end(
        &self,
        to: &Text,
        action: RmAction,
        id: &Text,
        last: u64,
        message_id: Option<Text>,
    ) -> Envelope {
        let mut e = self.envelope(self.rm_action(action), to);
        e.addressing.message_id = message_id;
        let end = SequenceEnd {
            identifier: id.clone(),
            last_msg_number: if self.rm == RmVersion::V1_1 {
                MessageNumber::new(last)
            } else {
                None
            },
        };
        e.body = match action {
            RmAction::CloseSequence => Body::CloseSequence(end),
            _ => Body::TerminateSequence(end),
        };
        e
    }

    /// CloseSequenceResponse / TerminateSequenceResponse with the final acknowledgement.
    pub fn sequence_end_response(
        &self,
        to: &Text,
        action: RmAction,
        id: &Text,
        relates_to: Option<Text>,
        ack: SequenceAcknowledgement,
    ) -> Envelope {
        let mut e = self.envelope(self.rm_action(action), to);
        e.addressing.relates_to = relates_to.map(|m| RelatesTo {
            message_id: m,
            relationship: None,
        });
        e.acks.push(ack);
        e.body = match action {
            RmAction::CloseSequenceResponse => Body::CloseSequenceResponse {
                identifier: id.clone(),
            },
            _ => Body::TerminateSequenceResponse {
                identifier: id.clone(),
            },
        };
        e
    }

    /// A WS-RM fault (WsrmFault.CreateMessage): 1.1 uses its own fault action, 2005/02 the
    /// WS-Addressing fault action.
    pub fn fault(
        &self,
        to: &Text,
        code: FaultCode,
        rm: RmFault,
        netrm: Option<NetRmFault>,
        reason: &str,
        id: Option<&Text>,
    ) -> Envelope {
        let action = match self.rm {
            RmVersion::V1_1 => self.rm_action(RmAction::Fault),
            RmVersion::Feb2005 => Action::AddressingFault(self.wsa),
        };
        let mut e = self.envelope(action, to);
        e.body = Body::Fault(Fault {
            code,
            rm_fault: Some(rm),
            netrm_fault: if self.soap == SoapVersion::V1_2 {
                netrm
            } else {
                None
            },
            reason: reason.into(),
            identifier: id.cloned(),
        });
        e
    }
}

/// A `urn:uuid:` identifier from 128 random bits (RFC 4122 version 4 layout), as WCF's
/// `new UniqueId()` writes them.
pub fn uuid_urn(bits: u128) -> Text {
    let b = (bits & !(0xF000 << 64) | (0x4000 << 64)) & !(0xC000 << 48) | (0x8000 << 48);
    let hex = format!("{b:032x}");
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_is_well_formed() {
        let u = uuid_urn(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(u.len(), "urn:uuid:".len() + 36);
        assert_eq!(&u[9 + 14..9 + 15], "4");
        assert!(matches!(&u[9 + 19..9 + 20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn every_builder_round_trips_through_the_codec() {
        let d = Dialect {
            soap: SoapVersion::V1_2,
            rm: RmVersion::V1_1,
            wsa: AddressingVersion::V1_0,
        };
        let to: Text = "http://localhost/service".into();
        let id: Text = "urn:uuid:1".into();
        let body = AppBody::new(
            ExpandedName {
                namespace: Some("urn:app".into()),
                local: "Ping".into(),
            },
            bytes::Bytes::from_static(b"<p:Ping xmlns:p=\"urn:app\">1</p:Ping>"),
            Vec::new(),
        );
        let ack = d.ack_header(&id, vec![AckRange::new(1, 3).unwrap()], true, Some(4));
        let all = [
            d.create_sequence(&to, "urn:uuid:m".into(), &to),
            d.create_sequence_response(&to, Some("urn:uuid:m".into()), &id, true),
            d.data(&to, &"urn:app/Ping".into(), &id, 1, true, body),
            d.ack_requested(&to, &id),
            d.ack(&to, ack.clone()),
            d.sequence_end(&to, RmAction::CloseSequence, &id, 3, Some("urn:uuid:c".into())),
            d.sequence_end_response(&to, RmAction::TerminateSequenceResponse, &id, None, ack),
            d.fault(
                &to,
                FaultCode::Receiver,
                RmFault::SequenceTerminated,
                None,
                "x",
                Some(&id),
            ),
        ];
        for e in all {
            assert_eq!(decode(&encode(&e)).unwrap(), e);
        }
    }
}
