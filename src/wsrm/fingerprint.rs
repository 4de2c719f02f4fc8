//! What identifies one message wherever it was observed — in a capture, in the sender's log, in
//! the receiver's log — whatever each observer's serialisation: its Action, MessageID, RelatesTo
//! and everything WS-RM stamped on it (Sequence, acks with their ranges and BufferRemaining,
//! AckRequested). A resend keeps all of these; its copies are told apart by time.

use super::{AckContent, Action, Envelope};
use std::hash::{Hash, Hasher};

fn text(h: &mut impl Hasher, s: Option<&str>) {
    s.unwrap_or("").hash(h);
    0xffu8.hash(h);
}

/// The Action URI as written.
pub fn action_uri(env: &Envelope) -> std::borrow::Cow<'_, str> {
    env.addressing
        .action
        .as_ref()
        .map_or(std::borrow::Cow::Borrowed(""), Action::uri)
}

/// The headers' fingerprint (bodies are left out: a capture may hold them in binary XML, a log
/// decrypted or re-serialised).
pub fn fingerprint(env: &Envelope) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    text(&mut h, Some(&action_uri(env)));
    text(&mut h, env.addressing.message_id.as_deref());
    text(&mut h, env.addressing.relates_to.as_ref().map(|r| &*r.message_id));
    if let Some(s) = &env.sequence {
        text(&mut h, Some(&s.identifier));
        s.message_number.get().hash(&mut h);
        s.last_message.hash(&mut h);
    }
    for a in &env.acks {
        text(&mut h, Some(&a.identifier));
        if let AckContent::Ranges(r) = &a.content {
            for x in r {
                (x.lower.get(), x.upper.get()).hash(&mut h);
            }
        }
        a.buffer_remaining.hash(&mut h);
    }
    for a in &env.ack_requested {
        text(&mut h, Some(&a.identifier));
    }
    h.finish()
}

/// A digest of a body's text, blind to how it was serialised (prefixes, declarations, empty
/// elements, whitespace): the characters outside tags that are not whitespace.
pub fn body_digest(body: &[u8]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    let mut in_tag = false;
    for &b in body {
        match b {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            _ if in_tag || b.is_ascii_whitespace() => {}
            _ => h.write_u8(b),
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_digest_ignores_serialisation() {
        assert_eq!(
            body_digest(b"<a:x xmlns:a=\"u\">\n  <a:y></a:y>5</a:x>"),
            body_digest(b"<x xmlns=\"u\"><y/>5</x>")
        );
        assert_ne!(body_digest(b"<x>5</x>"), body_digest(b"<x>6</x>"));
    }

    #[test]
    fn the_fingerprint_sees_rm_headers_not_serialisation() {
        let a = crate::wsrm::decode(b"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:r=\"http://schemas.xmlsoap.org/ws/2005/02/rm\"><s:Header><r:Sequence><r:Identifier>urn:x</r:Identifier><r:MessageNumber>3</r:MessageNumber></r:Sequence></s:Header><s:Body/></s:Envelope>").unwrap();
        let b = crate::wsrm::decode(b"<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Header><Sequence xmlns=\"http://schemas.xmlsoap.org/ws/2005/02/rm\"><Identifier>urn:x</Identifier><MessageNumber>3</MessageNumber></Sequence></e:Header><e:Body></e:Body></e:Envelope>").unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let mut c = a.clone();
        c.sequence.as_mut().unwrap().message_number = crate::wsrm::MessageNumber::new(4).unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }
}
