//! SOAP header blocks: WS-RM (Sequence, AckRequested, SequenceAcknowledgement, SequenceFault)
//! and WS-Addressing.

use super::super::error::{DecodeError, ErrorKind};
use super::super::model::*;
use super::super::ns::{AddressingVersion, KnownNs, RmVersion};
use super::super::xml::{Elem, is_absolute_uri};
use super::{Decoder, PendingSequenceFault, value};

impl<'a> Decoder<'a> {
    pub(super) fn header_block(&mut self, block: Elem<'a>) -> Result<(), DecodeError> {
        match (block.ns, block.local()) {
            (KnownNs::Rm(v), "Sequence") => {
                self.note_rm(v, block.qname(), block.offset, false);
                let seq = self.sequence(&block, v)?;
                if self.env.sequence.is_some() {
                    return Err(DecodeError::new(
                        ErrorKind::InvalidContent,
                        block.offset,
                        Some(block.qname()),
                        "a second Sequence header (WS-RM 1.1 §3.3 allows one per message)",
                    ));
                }
                self.env.sequence = Some(seq);
            }
            (KnownNs::Rm(v), "AckRequested") => {
                self.note_rm(v, block.qname(), block.offset, false);
                let ar = self.ack_requested(&block, v)?;
                self.env.ack_requested.push(ar);
            }
            (KnownNs::Rm(v), "SequenceAcknowledgement") => {
                self.note_rm(v, block.qname(), block.offset, false);
                let ack = self.sequence_acknowledgement(&block, v)?;
                self.env.acks.push(ack);
            }
            (KnownNs::Rm(v), "SequenceFault") => {
                self.note_rm(v, block.qname(), block.offset, false);
                self.sequence_fault_header(&block, v)?;
            }
            (KnownNs::Wsa(v), _) => self.addressing_header(block, v)?,
            _ => self.cur.skip()?,
        }
        Ok(())
    }

    fn sequence(&mut self, e: &Elem<'_>, v: RmVersion) -> Result<Sequence, DecodeError> {
        let (mut identifier, mut number, mut last) = (None, None, false);
        while let Some(c) = self.cur.child(e.qname())? {
            match self.rm_child(e, v, &c)? {
                Some("Identifier") => identifier = Some(self.identifier(&c)?),
                Some("MessageNumber") => {
                    let text = self.text_of(&c)?;
                    number = Some(value::message_number(
                        &text,
                        "MessageNumber",
                        c.offset,
                        c.qname(),
                    )?);
                }
                // 2005/02 §3.1: LastMessage marks the final message; 1.1 dropped it.
                Some("LastMessage") if v == RmVersion::Feb2005 => {
                    last = true;
                    self.cur.skip()?;
                }
                Some("LastMessage") => return Err(Self::wrong_version(&c, RmVersion::Feb2005)),
                _ => self.unknown_child(e, &c)?,
            }
        }
        Ok(Sequence {
            identifier: identifier.ok_or_else(|| Self::missing(e, "Identifier"))?,
            message_number: number
                .ok_or_else(|| Self::missing(e, "MessageNumber (required by WS-RM §3.3)"))?,
            last_message: last,
        })
    }

    fn ack_requested(&mut self, e: &Elem<'_>, v: RmVersion) -> Result<AckRequested, DecodeError> {
        let (mut identifier, mut number) = (None, None);
        while let Some(c) = self.cur.child(e.qname())? {
            match self.rm_child(e, v, &c)? {
                Some("Identifier") => identifier = Some(self.identifier(&c)?),
                // 2005/02 §3.2: optional MessageNumber (the highest number sent); not in 1.1.
                Some("MessageNumber") if v == RmVersion::Feb2005 => {
                    let text = self.text_of(&c)?;
                    number = Some(value::message_number(
                        &text,
                        "MessageNumber",
                        c.offset,
                        c.qname(),
                    )?);
                }
                Some("MessageNumber") => return Err(Self::wrong_version(&c, RmVersion::Feb2005)),
                _ => self.unknown_child(e, &c)?,
            }
        }
        Ok(AckRequested {
            identifier: identifier.ok_or_else(|| Self::missing(e, "Identifier"))?,
            message_number: number,
        })
    }

    fn sequence_acknowledgement(
        &mut self,
        e: &Elem<'_>,
        v: RmVersion,
    ) -> Result<SequenceAcknowledgement, DecodeError> {
        let mut identifier = None;
        let mut ranges: Vec<(AckRange, usize)> = Vec::new();
        let mut nacks = Vec::new();
        let mut none: Option<usize> = None;
        let mut zero_zero = false;
        let mut final_ack = false;
        let mut buffer_remaining = None;
        while let Some(c) = self.cur.child(e.qname())? {
            if c.ns == KnownNs::NetRm && c.local() == "BufferRemaining" {
                let text = self.text_of(&c)?;
                buffer_remaining = Some(value::count(&text, "BufferRemaining", c.offset, c.qname())?);
                continue;
            }
            match self.rm_child(e, v, &c)? {
                Some("Identifier") => identifier = Some(self.identifier(&c)?),
                Some("AcknowledgementRange") => {
                    match self.ack_range(&c)? {
                        Some(r) => ranges.push((r, c.offset)),
                        None => zero_zero = true,
                    }
                    self.cur.skip()?;
                }
                Some("Nack") => {
                    let text = self.text_of(&c)?;
                    nacks.push((
                        value::message_number(&text, "Nack", c.offset, c.qname())?,
                        c.offset,
                    ));
                }
                // 1.1 §3.9: None = nothing received; Final = no further acks will change.
                Some("None") if v == RmVersion::V1_1 => {
                    none = Some(c.offset);
                    self.cur.skip()?;
                }
                Some("Final") if v == RmVersion::V1_1 => {
                    final_ack = true;
                    self.cur.skip()?;
                }
                Some("None" | "Final") => return Err(Self::wrong_version(&c, RmVersion::V1_1)),
                _ => self.unknown_child(e, &c)?,
            }
        }
        let identifier = identifier.ok_or_else(|| Self::missing(e, "Identifier"))?;
        let conflict = |offset: usize, msg: &str| {
            DecodeError::new(
                ErrorKind::InvalidContent,
                offset,
                Some(e.qname()),
                msg.to_string(),
            )
        };
        // WS-RM 1.1 §3.9 / 2005/02 §3.2: AcknowledgementRange+ | None | Nack+, exclusively.
        if !ranges.is_empty() && !nacks.is_empty() {
            return Err(conflict(
                nacks[0].1,
                "AcknowledgementRange together with Nack: the schema allows one or the other",
            ));
        }
        if let Some(at) = none
            && (!ranges.is_empty() || !nacks.is_empty())
        {
            return Err(conflict(at, "None together with AcknowledgementRange or Nack"));
        }
        let mut sorted: Vec<(AckRange, usize)> = ranges.clone();
        sorted.sort_by_key(|(r, _)| r.lower);
        for pair in sorted.windows(2) {
            if pair[1].0.lower <= pair[0].0.upper {
                return Err(DecodeError::new(
                    ErrorKind::InvalidContent,
                    pair[1].1,
                    Some("wsrm:AcknowledgementRange"),
                    format!(
                        "range {}-{} overlaps range {}-{}",
                        pair[1].0.lower, pair[1].0.upper, pair[0].0.lower, pair[0].0.upper
                    ),
                ));
            }
        }
        let content = if !ranges.is_empty() {
            if zero_zero {
                self.cur.warn(e.offset, "range 0-0 next to real ranges ignored");
            }
            AckContent::Ranges(ranges.into_iter().map(|(r, _)| r).collect())
        } else if !nacks.is_empty() {
            AckContent::Nacks(nacks.into_iter().map(|(n, _)| n).collect())
        } else if none.is_some() {
            AckContent::None
        } else if zero_zero {
            self.cur.warn(
                e.offset,
                "AcknowledgementRange 0-0: WCF's way of saying nothing was received (message numbers start at 1)",
            );
            AckContent::None
        } else {
            return Err(conflict(e.offset, "needs AcknowledgementRange, None or Nack"));
        };
        Ok(SequenceAcknowledgement {
            identifier,
            content,
            final_ack,
            buffer_remaining,
        })
    }

    /// `Lower`/`Upper` attributes, in any order, whitespace tolerated. `Ok(None)` is WCF's 0-0.
    fn ack_range(&mut self, c: &Elem<'_>) -> Result<Option<AckRange>, DecodeError> {
        let (mut lower, mut upper) = (None, None);
        for attr in c.start.attributes() {
            let attr = attr.map_err(|err| {
                DecodeError::new(
                    ErrorKind::Syntax,
                    c.offset,
                    Some(c.qname()),
                    format!("bad attribute: {err}"),
                )
            })?;
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| {
                    DecodeError::new(
                        ErrorKind::Syntax,
                        c.offset,
                        Some(c.qname()),
                        format!("bad attribute value: {err}"),
                    )
                })?;
            match attr.key.0 {
                "Lower" => lower = Some(value::unsigned(&value, "Lower", c.offset, c.qname())?),
                "Upper" => upper = Some(value::unsigned(&value, "Upper", c.offset, c.qname())?),
                _ => {}
            }
        }
        let lower = lower.ok_or_else(|| Self::missing(c, "attribute Lower"))?;
        let upper = upper.ok_or_else(|| Self::missing(c, "attribute Upper"))?;
        if lower == 0 && upper == 0 {
            return Ok(None);
        }
        let bad = |msg: String| DecodeError::new(ErrorKind::InvalidValue, c.offset, Some(c.qname()), msg);
        if lower > upper {
            return Err(bad(format!("Lower {lower} is greater than Upper {upper}")));
        }
        for (what, n) in [("Lower", lower), ("Upper", upper)] {
            if MessageNumber::new(n).is_none() {
                return Err(bad(format!(
                    "{what} {n} is out of range (1 to {})",
                    MessageNumber::MAX
                )));
            }
        }
        Ok(AckRange::new(lower, upper))
    }

    fn sequence_fault_header(&mut self, e: &Elem<'_>, v: RmVersion) -> Result<(), DecodeError> {
        let mut pending = PendingSequenceFault {
            fault: None,
            identifier: None,
            offset: e.offset,
        };
        while let Some(c) = self.cur.child(e.qname())? {
            match self.rm_child(e, v, &c)? {
                Some("FaultCode") => {
                    let text = self.text_of(&c)?;
                    let (ns, _, local) = self.cur.resolve_text_qname(&text, c.offset)?;
                    pending.fault = match ns {
                        KnownNs::Rm(fv) => {
                            self.note_rm(fv, c.qname(), c.offset, false);
                            RmFault::parse(&local)
                        }
                        _ => None,
                    };
                    if pending.fault.is_none() {
                        self.cur
                            .warn(c.offset, format!("unknown WS-RM fault code {text}"));
                    }
                }
                Some("Detail") => pending.identifier = self.detail_identifier(&c)?,
                _ => self.cur.skip()?,
            }
        }
        self.sequence_fault = Some(pending);
        Ok(())
    }

    /// The `wsrm:Identifier` inside a fault detail, if any; everything else there is skipped.
    pub(super) fn detail_identifier(&mut self, e: &Elem<'_>) -> Result<Option<Text>, DecodeError> {
        let mut found = None;
        while let Some(c) = self.cur.child(e.qname())? {
            match (c.ns, c.local()) {
                (KnownNs::Rm(v), "Identifier") => {
                    self.note_rm(v, c.qname(), c.offset, false);
                    found = Some(self.identifier(&c)?);
                }
                _ => self.cur.skip()?,
            }
        }
        Ok(found)
    }

    /// A sequence identifier (an absolute URI per WS-RM §3.3; padded values tolerated).
    pub(super) fn identifier(&mut self, c: &Elem<'_>) -> Result<Text, DecodeError> {
        let id = self.text_of(c)?;
        if id.is_empty() {
            return Err(DecodeError::new(
                ErrorKind::Missing,
                c.offset,
                Some(c.qname()),
                "empty Identifier",
            ));
        }
        Ok(id.into())
    }

    /// Unknown children: elements of the RM namespace we do not know are reported, extension
    /// elements in other namespaces are skipped silently (the schemas allow `xs:any`).
    pub(super) fn unknown_child(&mut self, parent: &Elem<'_>, c: &Elem<'_>) -> Result<(), DecodeError> {
        if matches!(c.ns, KnownNs::Rm(_)) || (c.ns == KnownNs::None && !c.has_prefix()) {
            let msg = format!("unexpected <{}> in <{}>, skipped", c.qname(), parent.qname());
            self.cur.warn(c.offset, msg);
        }
        self.cur.skip()
    }

    fn addressing_header(&mut self, e: Elem<'_>, v: AddressingVersion) -> Result<(), DecodeError> {
        // Only the headers the model keeps decide the message's addressing version.
        if !matches!(
            e.local(),
            "Action" | "MessageID" | "To" | "RelatesTo" | "ReplyTo" | "From" | "FaultTo"
        ) {
            return self.cur.skip();
        }
        match self.env.addressing.version {
            None => self.env.addressing.version = Some(v),
            Some(existing) if existing != v => {
                let msg = format!("WS-Addressing {v} header in a message that also uses {existing}");
                self.cur.warn(e.offset, msg);
            }
            _ => {}
        }
        let duplicate = |d: &mut Self, present: bool| {
            if present {
                let msg = format!("duplicate <{}>; the first one is kept", e.qname());
                d.cur.warn(e.offset, msg);
            }
            present
        };
        match e.local() {
            "Action" => {
                let text = self.text_of(&e)?;
                if duplicate(self, self.env.addressing.action.is_some()) {
                    return Ok(());
                }
                self.check_uri(&e, "Action", &text);
                let action = Action::parse(&text);
                if let Action::Rm(rv, _) = action {
                    self.note_rm(rv, e.qname(), e.offset, true);
                } else if text.starts_with(super::super::ns::RM_1_1)
                    || text.starts_with(super::super::ns::RM_2005_02)
                {
                    let msg = format!("action {text} is not defined by its WS-RM version");
                    self.cur.warn(e.offset, msg);
                }
                self.env.addressing.action = Some(action);
            }
            "MessageID" => {
                let text = self.text_of(&e)?;
                if !duplicate(self, self.env.addressing.message_id.is_some()) {
                    self.env.addressing.message_id = Some(text.into());
                }
            }
            "To" => {
                let text = self.text_of(&e)?;
                if !duplicate(self, self.env.addressing.to.is_some()) {
                    self.check_uri(&e, "To", &text);
                    self.env.addressing.to = Some(text.into());
                }
            }
            "RelatesTo" => {
                let mut relationship = None;
                for attr in e.start.attributes().flatten() {
                    if attr.key.0 == "RelationshipType" {
                        let value = attr
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map(|v| v.trim().to_string())
                            .unwrap_or_default();
                        relationship = Some(value);
                    }
                }
                if let Some(r) = &relationship {
                    self.check_relationship(&e, r, v);
                }
                let text = self.text_of(&e)?;
                if !duplicate(self, self.env.addressing.relates_to.is_some()) {
                    self.env.addressing.relates_to = Some(RelatesTo {
                        message_id: text.into(),
                        relationship: relationship.map(Text::from),
                    });
                }
            }
            "ReplyTo" | "From" | "FaultTo" => {
                let epr = self.endpoint_reference(&e)?;
                let slot = match e.local() {
                    "ReplyTo" => &mut self.env.addressing.reply_to,
                    "From" => &mut self.env.addressing.from,
                    _ => &mut self.env.addressing.fault_to,
                };
                if slot.is_none() {
                    *slot = Some(epr);
                } else {
                    duplicate(self, true);
                }
            }
            _ => self.cur.skip()?,
        }
        Ok(())
    }

    /// WS-Addressing 1.0 §3.1: RelationshipType is an absolute IRI; the predefined one is
    /// `.../reply`. Sandesha2 writes QNames (`wsa:Reply`) and bare namespace URIs.
    fn check_relationship(&mut self, e: &Elem<'_>, r: &str, v: AddressingVersion) {
        let reply = format!("{}/reply", v.namespace());
        let qname_prefix = r
            .split_once(':')
            .filter(|(_, rest)| !rest.starts_with('/'))
            .map(|(p, _)| p)
            .filter(|p| self.cur.is_declared_prefix(p));
        let problem = if let Some(prefix) = qname_prefix {
            Some(format!("is a QName (prefix '{prefix}' is declared), not a URI"))
        } else if !is_absolute_uri(r) {
            Some("is not an absolute URI".to_string())
        } else if r.trim_end_matches('/').ends_with("/addressing") {
            Some("is a namespace URI, not a relationship".to_string())
        } else {
            None
        };
        if let Some(problem) = problem {
            let msg = format!("RelationshipType \"{r}\" {problem}; the reply relationship is {reply}");
            self.cur.warn(e.offset, msg);
        }
    }

    fn check_uri(&mut self, e: &Elem<'_>, what: &str, text: &str) {
        if !is_absolute_uri(text) {
            let msg = format!(
                "{what} \"{}\" is not an absolute URI",
                super::super::xml::preview(text)
            );
            self.cur.warn(e.offset, msg);
        }
    }

    /// An endpoint reference: only `wsa:Address` is kept (reference parameters are skipped).
    pub(super) fn endpoint_reference(&mut self, e: &Elem<'_>) -> Result<EndpointReference, DecodeError> {
        let mut address = None;
        while let Some(c) = self.cur.child(e.qname())? {
            if c.local() == "Address" && matches!(c.ns, KnownNs::Wsa(_)) {
                address = Some(self.text_of(&c)?);
            } else {
                self.cur.skip()?;
            }
        }
        let address = address.ok_or_else(|| Self::missing(e, "wsa:Address"))?;
        if !is_absolute_uri(&address) {
            let msg = format!(
                "address \"{}\" is not an absolute URI",
                super::super::xml::preview(&address)
            );
            self.cur.warn(e.offset, msg);
        }
        Ok(EndpointReference {
            address: address.into(),
        })
    }
}
