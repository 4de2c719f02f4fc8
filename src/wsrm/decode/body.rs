//! The SOAP body: WS-RM protocol elements, SOAP 1.1/1.2 faults, or an application body
//! that is located but not parsed.

use super::super::duration;
use super::super::error::{DecodeError, ErrorKind};
use super::super::model::*;
use super::super::ns::{KnownNs, RmVersion, SoapVersion};
use super::super::xml::Elem;
use super::{Decoder, value};

impl<'a> Decoder<'a> {
    pub(super) fn body(&mut self, body: &Elem<'a>) -> Result<(), DecodeError> {
        let mut first: Option<usize> = None;
        let mut end = 0usize;
        let mut is_app = false;
        while let Some(child) = self.cur.child(body.qname())? {
            let start = child.offset;
            if first.is_none() {
                first = Some(start);
                is_app = !self.body_first(child, body)?;
                if let Some(end) = self.stopped_at {
                    self.body_span = Some(start..end);
                    return Ok(());
                }
            } else if is_app && self.keep_body {
                let mut used = Vec::new();
                self.cur.skip_collecting(&child, &mut used)?;
                if let Body::Application(app) = &mut self.env.body {
                    for (p, u) in used {
                        if !app.ns_context.iter().any(|(q, _)| **q == *p) {
                            app.make_mut().ns_context.push((p.into(), u.into()));
                        }
                    }
                }
            } else if is_app {
                self.cur.skip_unread(&child)?;
            } else {
                let msg = format!("extra <{}> after the WS-RM body element, skipped", child.qname());
                self.cur.warn(start, msg);
                self.cur.skip()?;
            }
            end = self.cur.position();
        }
        if let Some(start) = first {
            self.body_span = Some(start..end);
            if let Body::Application(app) = &mut self.env.body
                && self.keep_body
            {
                app.make_mut().xml = bytes::Bytes::copy_from_slice(&self.input[start..end]);
            }
        }
        Ok(())
    }

    /// The first child of Body. Returns `true` if it was a protocol element (RM or Fault).
    fn body_first(&mut self, child: Elem<'a>, body: &Elem<'a>) -> Result<bool, DecodeError> {
        match (child.ns, child.local()) {
            (KnownNs::Rm(_), _) => {
                self.body_element(child)?;
                Ok(true)
            }
            (KnownNs::Soap(v), "Fault") if Some(v) == self.env.soap || self.env.soap.is_none() => {
                let fault = match v {
                    SoapVersion::V1_2 => self.fault12(&child)?,
                    SoapVersion::V1_1 => self.fault11(&child)?,
                };
                self.env.body = Body::Fault(fault);
                Ok(true)
            }
            (ns, local) => {
                if ns == KnownNs::Wsmc {
                    let msg = format!(
                        "WS-MakeConnection <{}> is not WS-RM: shown, not analysed",
                        child.qname()
                    );
                    self.cur.warn(child.offset, msg);
                }
                let name = ExpandedName {
                    namespace: child.ns_uri.clone().or_else(|| known_uri(ns)).map(Text::from),
                    local: local.into(),
                };
                let mut used = Vec::new();
                if self.keep_body {
                    self.cur.skip_collecting(&child, &mut used)?;
                } else if let Some(end) = self.envelope_qname.as_deref().and_then(|env| {
                    locate_body_end(self.input, env.as_bytes(), body.qname().as_bytes(), child.offset)
                }) {
                    // Only located: the envelope ends right after this body, so stop here.
                    self.stopped_at = Some(end);
                } else {
                    self.cur.skip_unread(&child)?;
                }
                self.env.body = Body::Application(AppBody::new(
                    name,
                    bytes::Bytes::new(),
                    used.into_iter().map(|(p, u)| (p.into(), u.into())).collect(),
                ));
                Ok(false)
            }
        }
    }

    /// A WS-RM body element (CreateSequence, ..., TerminateSequenceResponse).
    pub(super) fn body_element(&mut self, e: Elem<'a>) -> Result<(), DecodeError> {
        let KnownNs::Rm(v) = e.ns else {
            unreachable!("caller checks the namespace")
        };
        self.note_rm(v, e.qname(), e.offset, false);
        // WS-RM 1.1 §3.5–3.6: CloseSequence(Response) and TerminateSequenceResponse are 1.1 only.
        let only_11 = |e: &Elem<'_>| match v {
            RmVersion::Feb2005 => Err(Self::wrong_version(e, RmVersion::V1_1)),
            RmVersion::V1_1 => Ok(()),
        };
        let body = match e.local() {
            "CreateSequence" => Body::CreateSequence(self.create_sequence(&e, v)?),
            "CreateSequenceResponse" => Body::CreateSequenceResponse(self.create_sequence_response(&e, v)?),
            "CloseSequence" => {
                only_11(&e)?;
                Body::CloseSequence(self.sequence_end(&e, v)?)
            }
            "CloseSequenceResponse" => {
                only_11(&e)?;
                Body::CloseSequenceResponse {
                    identifier: self.sequence_end(&e, v)?.identifier,
                }
            }
            "TerminateSequence" => Body::TerminateSequence(self.sequence_end(&e, v)?),
            "TerminateSequenceResponse" => {
                only_11(&e)?;
                Body::TerminateSequenceResponse {
                    identifier: self.sequence_end(&e, v)?.identifier,
                }
            }
            other => {
                return Err(DecodeError::new(
                    ErrorKind::InvalidContent,
                    e.offset,
                    Some(e.qname()),
                    format!("{other} is not a WS-RM {v} body element"),
                ));
            }
        };
        if self.env.body != Body::Empty {
            let msg = format!("a second body element <{}>; the first one is kept", e.qname());
            self.cur.warn(e.offset, msg);
        } else {
            self.env.body = body;
        }
        Ok(())
    }

    fn expires(&mut self, c: &Elem<'_>) -> Result<std::time::Duration, DecodeError> {
        let text = self.text_of(c)?;
        duration::parse(&text).map_err(|why| {
            DecodeError::new(
                ErrorKind::InvalidValue,
                c.offset,
                Some(c.qname()),
                format!("Expires \"{text}\": {why}"),
            )
        })
    }

    fn isb(&mut self, c: &Elem<'_>) -> Result<IncompleteSequenceBehavior, DecodeError> {
        let text = self.text_of(c)?;
        IncompleteSequenceBehavior::parse(&text).ok_or_else(|| {
            DecodeError::new(
                ErrorKind::InvalidValue,
                c.offset,
                Some(c.qname()),
                format!("IncompleteSequenceBehavior \"{text}\" is not DiscardEntireSequence, DiscardFollowingFirstGap or NoDiscard"),
            )
        })
    }

    fn create_sequence(&mut self, e: &Elem<'_>, v: RmVersion) -> Result<CreateSequence, DecodeError> {
        let (mut acks_to, mut expires, mut offer) = (None, None, None);
        while let Some(c) = self.cur.child(e.qname())? {
            match self.rm_child(e, v, &c)? {
                Some("AcksTo") => acks_to = Some(self.endpoint_reference(&c)?),
                Some("Expires") => expires = Some(self.expires(&c)?),
                Some("Offer") => offer = Some(self.offer(&c, v)?),
                _ => self.unknown_child(e, &c)?,
            }
        }
        Ok(CreateSequence {
            acks_to: acks_to.ok_or_else(|| Self::missing(e, "AcksTo"))?,
            expires,
            offer,
        })
    }

    fn offer(&mut self, e: &Elem<'_>, v: RmVersion) -> Result<Offer, DecodeError> {
        let mut offer = Offer {
            identifier: Text::default(),
            endpoint: None,
            expires: None,
            incomplete_sequence_behavior: None,
        };
        let mut identifier = None;
        while let Some(c) = self.cur.child(e.qname())? {
            match self.rm_child(e, v, &c)? {
                Some("Identifier") => identifier = Some(self.identifier(&c)?),
                Some("Expires") => offer.expires = Some(self.expires(&c)?),
                // WS-RM 1.1 §3.4: Offer/Endpoint and IncompleteSequenceBehavior are 1.1 additions.
                Some("Endpoint") if v == RmVersion::V1_1 => {
                    offer.endpoint = Some(self.endpoint_reference(&c)?)
                }
                Some("IncompleteSequenceBehavior") if v == RmVersion::V1_1 => {
                    offer.incomplete_sequence_behavior = Some(self.isb(&c)?)
                }
                Some("Endpoint" | "IncompleteSequenceBehavior") => {
                    return Err(Self::wrong_version(&c, RmVersion::V1_1));
                }
                _ => self.unknown_child(e, &c)?,
            }
        }
        offer.identifier = identifier.ok_or_else(|| Self::missing(e, "Identifier"))?;
        if v == RmVersion::V1_1 && offer.endpoint.is_none() {
            self.cur.warn(
                e.offset,
                "WS-RM 1.1 Offer without Endpoint (required by WS-RM 1.1 §3.4)",
            );
        }
        Ok(offer)
    }

    fn create_sequence_response(
        &mut self,
        e: &Elem<'_>,
        v: RmVersion,
    ) -> Result<CreateSequenceResponse, DecodeError> {
        let mut csr = CreateSequenceResponse {
            identifier: Text::default(),
            expires: None,
            incomplete_sequence_behavior: None,
            accept: None,
        };
        let mut identifier = None;
        while let Some(c) = self.cur.child(e.qname())? {
            match self.rm_child(e, v, &c)? {
                Some("Identifier") => identifier = Some(self.identifier(&c)?),
                Some("Expires") => csr.expires = Some(self.expires(&c)?),
                Some("IncompleteSequenceBehavior") if v == RmVersion::V1_1 => {
                    csr.incomplete_sequence_behavior = Some(self.isb(&c)?)
                }
                Some("IncompleteSequenceBehavior") => return Err(Self::wrong_version(&c, RmVersion::V1_1)),
                Some("Accept") => {
                    let mut acks_to = None;
                    while let Some(a) = self.cur.child(c.qname())? {
                        match self.rm_child(&c, v, &a)? {
                            Some("AcksTo") => acks_to = Some(self.endpoint_reference(&a)?),
                            _ => self.unknown_child(&c, &a)?,
                        }
                    }
                    csr.accept = Some(acks_to.ok_or_else(|| Self::missing(&c, "AcksTo"))?);
                }
                _ => self.unknown_child(e, &c)?,
            }
        }
        csr.identifier = identifier.ok_or_else(|| Self::missing(e, "Identifier"))?;
        Ok(csr)
    }

    /// CloseSequence, TerminateSequence and their responses: Identifier + optional LastMsgNumber.
    fn sequence_end(&mut self, e: &Elem<'_>, v: RmVersion) -> Result<SequenceEnd, DecodeError> {
        let (mut identifier, mut last) = (None, None);
        let allows_last = matches!(e.local(), "CloseSequence" | "TerminateSequence");
        while let Some(c) = self.cur.child(e.qname())? {
            match self.rm_child(e, v, &c)? {
                Some("Identifier") => identifier = Some(self.identifier(&c)?),
                // WS-RM 1.1 §3.5/§3.6: LastMsgNumber is 1.1 only.
                Some("LastMsgNumber") if v == RmVersion::V1_1 && allows_last => {
                    let text = self.text_of(&c)?;
                    last = Some(value::message_number(
                        &text,
                        "LastMsgNumber",
                        c.offset,
                        c.qname(),
                    )?);
                }
                Some("LastMsgNumber") if v == RmVersion::Feb2005 => {
                    return Err(Self::wrong_version(&c, RmVersion::V1_1));
                }
                _ => self.unknown_child(e, &c)?,
            }
        }
        Ok(SequenceEnd {
            identifier: identifier.ok_or_else(|| Self::missing(e, "Identifier"))?,
            last_msg_number: last,
        })
    }

    /// SOAP 1.2 fault (SOAP 1.2 part 1 §5.4): Code/Value, nested Subcodes, Reason/Text, Detail.
    fn fault12(&mut self, e: &Elem<'_>) -> Result<Fault, DecodeError> {
        let mut fault = Fault {
            code: FaultCode::Other(Text::default()),
            rm_fault: None,
            netrm_fault: None,
            reason: Text::default(),
            identifier: None,
        };
        let mut saw_code = false;
        while let Some(c) = self.cur.child(e.qname())? {
            match (c.ns, c.local()) {
                (KnownNs::Soap(SoapVersion::V1_2), "Code") => {
                    saw_code = true;
                    self.fault_code12(&c, &mut fault, 0)?;
                }
                (KnownNs::Soap(SoapVersion::V1_2), "Reason") => {
                    while let Some(t) = self.cur.child(c.qname())? {
                        if t.local() == "Text" && fault.reason.is_empty() {
                            fault.reason = self.text_of(&t)?.into();
                        } else {
                            self.cur.skip()?;
                        }
                    }
                }
                (KnownNs::Soap(SoapVersion::V1_2), "Detail") => {
                    fault.identifier = self.detail_identifier(&c)?
                }
                _ => self.cur.skip()?,
            }
        }
        if !saw_code {
            return Err(Self::missing(e, "Code"));
        }
        Ok(fault)
    }

    /// `Code` (level 0) or `Subcode` (level ≥ 1): a Value and an optional nested Subcode.
    fn fault_code12(&mut self, e: &Elem<'_>, fault: &mut Fault, level: usize) -> Result<(), DecodeError> {
        while let Some(c) = self.cur.child(e.qname())? {
            match c.local() {
                "Value" => {
                    let text = self.text_of(&c)?;
                    self.fault_value(&text, c.offset, level, fault)?;
                }
                "Subcode" => self.fault_code12(&c, fault, level + 1)?,
                _ => self.cur.skip()?,
            }
        }
        Ok(())
    }

    /// Classifies one fault code value written as a QName.
    fn fault_value(
        &mut self,
        text: &str,
        offset: usize,
        level: usize,
        fault: &mut Fault,
    ) -> Result<(), DecodeError> {
        let (ns, uri, local) = self.cur.resolve_text_qname(text, offset)?;
        match ns {
            KnownNs::Soap(_) if level == 0 => {
                fault.code = match local.as_str() {
                    "Sender" | "Client" => FaultCode::Sender,
                    "Receiver" | "Server" => FaultCode::Receiver,
                    "VersionMismatch" => FaultCode::VersionMismatch,
                    "MustUnderstand" => FaultCode::MustUnderstand,
                    "DataEncodingUnknown" => FaultCode::DataEncodingUnknown,
                    _ => FaultCode::Other(format!("{{{}}}{local}", known_uri(ns).unwrap_or_default()).into()),
                }
            }
            KnownNs::Rm(v) => {
                let Some(rm) = RmFault::parse(&local) else {
                    self.cur.warn(offset, format!("unknown WS-RM fault code {text}"));
                    return Ok(());
                };
                if !rm.exists_in(v) {
                    self.cur
                        .warn(offset, format!("{} is not a WS-RM {v} fault", rm.name()));
                }
                self.note_rm(v, text, offset, false);
                fault.rm_fault = Some(rm);
                if level == 0 {
                    // SOAP 1.1 style: the RM fault QName is the faultcode itself.
                    fault.code = FaultCode::Sender;
                }
            }
            KnownNs::NetRm => match NetRmFault::parse(&local) {
                Some(n) => fault.netrm_fault = Some(n),
                None => self.cur.warn(offset, format!("unknown netrm fault code {text}")),
            },
            _ if level == 0 => {
                fault.code = FaultCode::Other(
                    match uri {
                        Some(uri) => format!("{{{uri}}}{local}"),
                        None => local,
                    }
                    .into(),
                )
            }
            _ => self
                .cur
                .warn(offset, format!("fault subcode {text} is not a WS-RM code")),
        }
        Ok(())
    }

    /// SOAP 1.1 fault (SOAP 1.1 §4.4): unqualified faultcode, faultstring, faultactor, detail.
    fn fault11(&mut self, e: &Elem<'_>) -> Result<Fault, DecodeError> {
        let mut fault = Fault {
            code: FaultCode::Other(Text::default()),
            rm_fault: None,
            netrm_fault: None,
            reason: Text::default(),
            identifier: None,
        };
        let mut saw_code = false;
        while let Some(c) = self.cur.child(e.qname())? {
            match c.local() {
                "faultcode" => {
                    saw_code = true;
                    let text = self.text_of(&c)?;
                    self.fault_value(&text, c.offset, 0, &mut fault)?;
                }
                "faultstring" => fault.reason = self.text_of(&c)?.into(),
                "detail" => fault.identifier = self.detail_identifier(&c)?,
                _ => self.cur.skip()?,
            }
        }
        if !saw_code {
            return Err(Self::missing(e, "faultcode"));
        }
        Ok(fault)
    }
}

fn known_uri(ns: KnownNs) -> Option<String> {
    use super::super::ns::*;
    Some(
        match ns {
            KnownNs::Soap(v) => v.namespace(),
            KnownNs::Rm(v) => v.namespace(),
            KnownNs::Wsa(v) => v.namespace(),
            KnownNs::NetRm => NETRM,
            KnownNs::Wsmc => WSMC,
            KnownNs::Xml => XML,
            KnownNs::Other | KnownNs::None => return None,
        }
        .to_string(),
    )
}

/// Where an application body ends, found from the end of the input: `</Body>`, then
/// `</Envelope>`, then nothing but whitespace. `None` if the tail is anything else (then the
/// body is scanned instead). Saves reading bodies the capture decoder does not keep.
///
/// Read backwards from the end; the `</Body` found must also be the last mention of the
/// Body's name at or after `from` (what a reverse substring search would find).
pub(super) fn locate_body_end(
    input: &[u8],
    env_qname: &[u8],
    body_qname: &[u8],
    from: usize,
) -> Option<usize> {
    let ws_back = |mut i: usize| {
        while i > from && input[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        i
    };
    // `… </Body ws> ws </Envelope ws> ws` — each step backwards.
    let mut i = ws_back(input.len());
    i = i.checked_sub(1).filter(|&j| j >= from && input[j] == b'>')?;
    i = ws_back(i);
    i = i.checked_sub(env_qname.len() + 2).filter(|&j| j >= from)?;
    if &input[i..i + 2] != b"</" || &input[i + 2..i + 2 + env_qname.len()] != env_qname {
        return None;
    }
    i = ws_back(i);
    i = i.checked_sub(1).filter(|&j| j >= from && input[j] == b'>')?;
    let name_end = ws_back(i);
    let name = name_end.checked_sub(body_qname.len()).filter(|&j| j >= from)?;
    if &input[name..name_end] != body_qname {
        return None;
    }
    let pos = name
        .checked_sub(2)
        .filter(|&p| p >= from && &input[p..name] == b"</")?;
    // No later mention of the name (inside the short tail) may exist.
    let tail = &input[name + 1..];
    let &first = body_qname.first()?;
    if tail
        .iter()
        .enumerate()
        .any(|(k, &c)| c == first && tail[k..].starts_with(body_qname))
    {
        return None;
    }
    let mut end = pos;
    while end > from && input[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    Some(end)
}
