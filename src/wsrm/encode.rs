//! [`Envelope`] → bytes. Prefixes as WCF writes them: `s` (SOAP), `a` (WS-Addressing),
//! `r` (WS-RM), `netrm` (Microsoft extensions).

use super::duration;
use super::model::*;
use super::ns::{self, AddressingVersion, RmVersion, SoapVersion};
use quick_xml::escape::escape;
use std::fmt::Write;

/// Encodes an envelope. An envelope without a SOAP version (a fragment) is written as its
/// header blocks and body element one after another, each declaring its namespaces.
pub fn encode(env: &Envelope) -> Vec<u8> {
    let mut w = Writer {
        out: String::with_capacity(1024),
        fragment: env.soap.is_none(),
        wsa: env.addressing.version.unwrap_or(AddressingVersion::V1_0),
        rm: env.rm_version.unwrap_or(RmVersion::Feb2005),
    };
    match env.soap {
        Some(soap) => w.envelope(env, soap),
        None => w.fragment(env),
    }
    w.out.into_bytes()
}

struct Writer {
    out: String,
    fragment: bool,
    wsa: AddressingVersion,
    rm: RmVersion,
}

impl Writer {
    /// Namespace declarations for a top-level element (all of them in envelope mode).
    fn decls(&self) -> String {
        format!(
            " xmlns:a=\"{}\" xmlns:r=\"{}\" xmlns:netrm=\"{}\"",
            self.wsa.namespace(),
            self.rm.namespace(),
            ns::NETRM
        )
    }

    /// Attributes for a header block: declarations in fragment mode, mustUnderstand otherwise.
    fn header_attrs(&self, must_understand: bool) -> String {
        if self.fragment {
            self.decls()
        } else if must_understand {
            " s:mustUnderstand=\"1\"".to_string()
        } else {
            String::new()
        }
    }

    fn text_elem(&mut self, name: &str, attrs: &str, text: &str) {
        let _ = write!(self.out, "<{name}{attrs}>{}</{name}>", escape(text));
    }

    fn envelope(&mut self, env: &Envelope, soap: SoapVersion) {
        let _ = write!(
            self.out,
            "<s:Envelope xmlns:s=\"{}\"{}>",
            soap.namespace(),
            self.decls()
        );
        self.out.push_str("<s:Header>");
        self.headers(env, soap);
        self.out.push_str("</s:Header>");
        match &env.body {
            Body::Empty => self.out.push_str("<s:Body/>"),
            Body::Application(app) if !app.ns_context.is_empty() => {
                // Re-declare what the content inherited; name Body with a prefix it does not use.
                let clash = |p: &str| {
                    app.ns_context
                        .iter()
                        .any(|(q, u)| **q == *p && **u != *soap.namespace())
                };
                let prefix = ["s", "soap", "env"]
                    .into_iter()
                    .map(String::from)
                    .chain((0..).map(|i| format!("s{i}")))
                    .find(|p| !clash(p))
                    .expect("an unused prefix exists");
                let _ = write!(self.out, "<{prefix}:Body");
                if prefix != "s" {
                    let _ = write!(self.out, " xmlns:{prefix}=\"{}\"", soap.namespace());
                }
                for (p, uri) in &app.ns_context {
                    let attr = if p.is_empty() {
                        "xmlns".to_string()
                    } else {
                        format!("xmlns:{p}")
                    };
                    let _ = write!(self.out, " {attr}=\"{}\"", escape(uri.as_str()));
                }
                self.out.push('>');
                self.out.push_str(&String::from_utf8_lossy(&app.xml));
                let _ = write!(self.out, "</{prefix}:Body>");
            }
            body => {
                self.out.push_str("<s:Body>");
                self.body(body, soap);
                self.out.push_str("</s:Body>");
            }
        }
        self.out.push_str("</s:Envelope>");
    }

    fn fragment(&mut self, env: &Envelope) {
        self.headers(env, SoapVersion::V1_2);
        self.body(&env.body, SoapVersion::V1_2);
    }

    fn headers(&mut self, env: &Envelope, soap: SoapVersion) {
        let a = &env.addressing;
        if let Some(action) = &a.action {
            let attrs = self.header_attrs(true);
            self.text_elem("a:Action", &attrs, &action.uri());
        }
        if let Some(id) = &a.message_id {
            let attrs = self.header_attrs(false);
            self.text_elem("a:MessageID", &attrs, id);
        }
        if let Some(rel) = &a.relates_to {
            let mut attrs = self.header_attrs(false);
            if let Some(r) = &rel.relationship {
                let _ = write!(attrs, " RelationshipType=\"{}\"", escape(r.as_str()));
            }
            self.text_elem("a:RelatesTo", &attrs, &rel.message_id);
        }
        for (name, epr) in [
            ("a:ReplyTo", &a.reply_to),
            ("a:From", &a.from),
            ("a:FaultTo", &a.fault_to),
        ] {
            if let Some(epr) = epr {
                let attrs = self.header_attrs(false);
                self.epr(name, &attrs, epr);
            }
        }
        if let Some(to) = &a.to {
            let attrs = self.header_attrs(true);
            self.text_elem("a:To", &attrs, to);
        }
        if let Some(seq) = &env.sequence {
            let attrs = self.header_attrs(true);
            let _ = write!(self.out, "<r:Sequence{attrs}>");
            self.text_elem("r:Identifier", "", &seq.identifier);
            self.text_elem("r:MessageNumber", "", &seq.message_number.to_string());
            if seq.last_message {
                self.out.push_str("<r:LastMessage/>");
            }
            self.out.push_str("</r:Sequence>");
        }
        for ar in &env.ack_requested {
            let attrs = self.header_attrs(false);
            let _ = write!(self.out, "<r:AckRequested{attrs}>");
            self.text_elem("r:Identifier", "", &ar.identifier);
            if let Some(n) = ar.message_number {
                self.text_elem("r:MessageNumber", "", &n.to_string());
            }
            self.out.push_str("</r:AckRequested>");
        }
        for ack in &env.acks {
            let attrs = self.header_attrs(false);
            self.ack(ack, &attrs);
        }
        // SOAP 1.1 carries the WS-RM fault code in a header (WS-RM 1.1 §4.1) — except
        // CreateSequenceRefused, whose faultcode is the RM QName itself (see fault11).
        if let (SoapVersion::V1_1, Body::Fault(f)) = (soap, &env.body)
            && let Some(rm) = f.rm_fault
            && !is_refused_as_faultcode(f)
            && !self.fragment
        {
            self.out.push_str("<r:SequenceFault>");
            self.text_elem("r:FaultCode", "", &format!("r:{}", rm.name()));
            if let Some(id) = &f.identifier {
                self.out.push_str("<r:Detail>");
                self.text_elem("r:Identifier", "", id);
                self.out.push_str("</r:Detail>");
            }
            self.out.push_str("</r:SequenceFault>");
        }
    }

    fn ack(&mut self, ack: &SequenceAcknowledgement, attrs: &str) {
        let _ = write!(self.out, "<r:SequenceAcknowledgement{attrs}>");
        self.text_elem("r:Identifier", "", &ack.identifier);
        match &ack.content {
            AckContent::Ranges(ranges) => {
                for r in ranges {
                    let _ = write!(
                        self.out,
                        "<r:AcknowledgementRange Lower=\"{}\" Upper=\"{}\"/>",
                        r.lower, r.upper
                    );
                }
            }
            // 2005/02 has no None element; WCF writes the range 0-0.
            AckContent::None if self.rm == RmVersion::Feb2005 => {
                self.out
                    .push_str("<r:AcknowledgementRange Lower=\"0\" Upper=\"0\"/>");
            }
            AckContent::None => self.out.push_str("<r:None/>"),
            AckContent::Nacks(nacks) => {
                for n in nacks {
                    self.text_elem("r:Nack", "", &n.to_string());
                }
            }
        }
        if ack.final_ack {
            self.out.push_str("<r:Final/>");
        }
        if let Some(b) = ack.buffer_remaining {
            self.text_elem("netrm:BufferRemaining", "", &b.to_string());
        }
        self.out.push_str("</r:SequenceAcknowledgement>");
    }

    fn epr(&mut self, name: &str, attrs: &str, epr: &EndpointReference) {
        let _ = write!(self.out, "<{name}{attrs}>");
        self.text_elem("a:Address", "", &epr.address);
        let _ = write!(self.out, "</{name}>");
    }

    fn body(&mut self, body: &Body, soap: SoapVersion) {
        let top = if self.fragment {
            self.decls()
        } else {
            String::new()
        };
        match body {
            Body::Empty => {}
            Body::CreateSequence(cs) => {
                let _ = write!(self.out, "<r:CreateSequence{top}>");
                self.epr("r:AcksTo", "", &cs.acks_to);
                self.expires(cs.expires);
                if let Some(offer) = &cs.offer {
                    self.out.push_str("<r:Offer>");
                    self.text_elem("r:Identifier", "", &offer.identifier);
                    if let Some(ep) = &offer.endpoint {
                        self.epr("r:Endpoint", "", ep);
                    }
                    self.expires(offer.expires);
                    self.isb(offer.incomplete_sequence_behavior);
                    self.out.push_str("</r:Offer>");
                }
                self.out.push_str("</r:CreateSequence>");
            }
            Body::CreateSequenceResponse(csr) => {
                let _ = write!(self.out, "<r:CreateSequenceResponse{top}>");
                self.text_elem("r:Identifier", "", &csr.identifier);
                self.expires(csr.expires);
                self.isb(csr.incomplete_sequence_behavior);
                if let Some(acks_to) = &csr.accept {
                    self.out.push_str("<r:Accept>");
                    self.epr("r:AcksTo", "", acks_to);
                    self.out.push_str("</r:Accept>");
                }
                self.out.push_str("</r:CreateSequenceResponse>");
            }
            Body::CloseSequence(end) => {
                self.sequence_end("r:CloseSequence", &top, &end.identifier, end.last_msg_number)
            }
            Body::CloseSequenceResponse { identifier } => {
                self.sequence_end("r:CloseSequenceResponse", &top, identifier, None)
            }
            Body::TerminateSequence(end) => {
                self.sequence_end("r:TerminateSequence", &top, &end.identifier, end.last_msg_number)
            }
            Body::TerminateSequenceResponse { identifier } => {
                self.sequence_end("r:TerminateSequenceResponse", &top, identifier, None)
            }
            Body::Fault(f) => match soap {
                SoapVersion::V1_2 => self.fault12(f),
                SoapVersion::V1_1 => self.fault11(f),
            },
            Body::Application(app) => self.out.push_str(&String::from_utf8_lossy(&app.xml)),
        }
    }

    fn sequence_end(&mut self, name: &str, attrs: &str, id: &str, last: Option<MessageNumber>) {
        let _ = write!(self.out, "<{name}{attrs}>");
        self.text_elem("r:Identifier", "", id);
        if let Some(n) = last {
            self.text_elem("r:LastMsgNumber", "", &n.to_string());
        }
        let _ = write!(self.out, "</{name}>");
    }

    fn expires(&mut self, d: Option<std::time::Duration>) {
        if let Some(d) = d {
            self.text_elem("r:Expires", "", &duration::format(d));
        }
    }

    fn isb(&mut self, b: Option<IncompleteSequenceBehavior>) {
        if let Some(b) = b {
            self.text_elem("r:IncompleteSequenceBehavior", "", b.name());
        }
    }

    /// A fault code QName as text, declaring a prefix for codes outside our namespaces.
    fn code_value(&mut self, element: &str, code: &FaultCode, soap11: bool) {
        let local = match code {
            FaultCode::Sender if soap11 => "Client",
            FaultCode::Receiver if soap11 => "Server",
            FaultCode::Sender => "Sender",
            FaultCode::Receiver => "Receiver",
            FaultCode::VersionMismatch => "VersionMismatch",
            FaultCode::MustUnderstand => "MustUnderstand",
            FaultCode::DataEncodingUnknown => "DataEncodingUnknown",
            FaultCode::Other(other) => {
                match other.strip_prefix('{').and_then(|r| r.split_once('}')) {
                    Some((uri, local)) => {
                        let attrs = format!(" xmlns:fc=\"{}\"", escape(uri));
                        self.text_elem(element, &attrs, &format!("fc:{local}"));
                    }
                    None => self.text_elem(element, "", other),
                }
                return;
            }
        };
        self.text_elem(element, "", &format!("s:{local}"));
    }

    fn fault12(&mut self, f: &Fault) {
        let top = if self.fragment {
            format!(" xmlns:s=\"{}\"{}", ns::SOAP12, self.decls())
        } else {
            String::new()
        };
        let _ = write!(self.out, "<s:Fault{top}><s:Code>");
        self.code_value("s:Value", &f.code, false);
        let mut depth = 0;
        if let Some(rm) = f.rm_fault {
            self.out.push_str("<s:Subcode>");
            self.text_elem("s:Value", "", &format!("r:{}", rm.name()));
            depth += 1;
        }
        if let Some(n) = f.netrm_fault {
            self.out.push_str("<s:Subcode>");
            self.text_elem("s:Value", "", &format!("netrm:{}", n.name()));
            depth += 1;
        }
        for _ in 0..depth {
            self.out.push_str("</s:Subcode>");
        }
        self.out.push_str("</s:Code><s:Reason>");
        self.text_elem("s:Text", " xml:lang=\"en\"", &f.reason);
        self.out.push_str("</s:Reason>");
        if let Some(id) = &f.identifier {
            self.out.push_str("<s:Detail>");
            self.text_elem("r:Identifier", "", id);
            self.out.push_str("</s:Detail>");
        }
        self.out.push_str("</s:Fault>");
    }

    fn fault11(&mut self, f: &Fault) {
        let top = if self.fragment {
            format!(" xmlns:s=\"{}\"{}", ns::SOAP11, self.decls())
        } else {
            String::new()
        };
        let _ = write!(self.out, "<s:Fault{top}>");
        if is_refused_as_faultcode(f) {
            // WCF builds this fault as a plain MessageFault whose SOAP 1.1 code is
            // wsrm:CreateSequenceRefused (WsrmUtilities.CreateCSRefusedFault); the decoder
            // reads an RM QName faultcode as Sender + that RM fault.
            self.text_elem("faultcode", "", "r:CreateSequenceRefused");
        } else {
            self.code_value("faultcode", &f.code, true);
        }
        self.text_elem("faultstring", "", &f.reason);
        // With an RM fault the identifier travels in the SequenceFault header instead.
        if let (Some(id), None) = (&f.identifier, f.rm_fault) {
            self.out.push_str("<detail>");
            self.text_elem("r:Identifier", "", id);
            self.out.push_str("</detail>");
        }
        self.out.push_str("</s:Fault>");
    }
}

/// WCF's SOAP 1.1 CreateSequenceRefused: the faultcode is the RM QName, no SequenceFault
/// header, no identifier (there is no sequence yet). The model writes it as Sender +
/// CreateSequenceRefused — what the decoder makes of an RM-QName faultcode — so it round-trips.
fn is_refused_as_faultcode(f: &Fault) -> bool {
    f.rm_fault == Some(RmFault::CreateSequenceRefused)
        && f.code == FaultCode::Sender
        && f.identifier.is_none()
}
