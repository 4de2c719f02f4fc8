//! What WS-Security did to a message, read from its XML: the `o:Security` header's timestamp,
//! tokens and derived keys, which parts the signature covers and which are encrypted, and the
//! body's encryption algorithm. Message security leaves the WS-RM headers in clear text
//! (signed, not encrypted), so sequences can be analysed without keys; this says what is hidden.

use super::local_name as local;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use std::collections::HashMap;

const MAX_DEPTH: usize = 128;
/// Most references kept per list (a signature rarely covers more than a dozen parts).
const MAX_REFS: usize = 64;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecuritySummary {
    /// `u:Timestamp` Created and Expires.
    pub created: Option<String>,
    pub expires: Option<String>,
    /// Tokens in the header: "SecurityContextToken urn:uuid:…", "BinarySecurityToken (X509v3)".
    pub tokens: Vec<String>,
    pub derived_keys: usize,
    /// Parts the signature covers, by element name ("Action", "Sequence", "Body", ...).
    pub signed: Vec<String>,
    /// Parts listed as encrypted (ReferenceList / EncryptedKey), by what they replaced.
    pub encrypted: Vec<String>,
    /// The body is `xenc:EncryptedData`, with this algorithm (the URI's fragment: "aes256-cbc").
    pub body_encryption: Option<String>,
    /// The signature itself is encrypted (WCF's EncryptSignature protection).
    pub signature_encrypted: bool,
}

impl SecuritySummary {
    /// Lines for the detail pane and `inspect`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(alg) = &self.body_encryption {
            out.push(format!("Body: encrypted ({alg})"));
        }
        match (&self.created, &self.expires) {
            (Some(c), Some(e)) => out.push(format!("Timestamp: created {c}, expires {e}")),
            (Some(c), None) => out.push(format!("Timestamp: created {c}")),
            _ => {}
        }
        for t in &self.tokens {
            out.push(format!("Token: {t}"));
        }
        if self.derived_keys > 0 {
            out.push(format!("Derived keys: {}", self.derived_keys));
        }
        if self.signature_encrypted {
            out.push("Signed: (the signature is encrypted)".to_string());
        } else if !self.signed.is_empty() {
            out.push(format!("Signed: {}", self.signed.join(", ")));
        }
        if !self.encrypted.is_empty() {
            out.push(format!("Encrypted: {}", self.encrypted.join(", ")));
        }
        out
    }
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| local(a.key.0) == name)
        .map(|a| a.value.trim().to_string())
}

fn fragment(uri: &str) -> String {
    uri.rsplit_once('#').map_or(uri, |(_, f)| f).to_string()
}

/// Reads the security of an envelope; `None` when it has no `Security` header and no
/// encrypted body. Malformed XML gives what was read up to the error.
pub fn summarize(xml: &[u8]) -> Option<SecuritySummary> {
    let mut reader = Reader::from_reader(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut s = SecuritySummary::default();
    let mut seen_security = false;
    // Id attribute → local name of the element that carries it.
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut signed_refs: Vec<String> = Vec::new();
    let mut encrypted_refs: Vec<String> = Vec::new();
    // EncryptedData Id → where it stands ("Body", "Signature", a header name).
    let mut text_target: Option<&'static str> = None;
    let mut sct_id = false;
    while let Ok(ev) = reader.read_event() {
        let (e, empty) = match ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                stack.pop();
                text_target = None;
                continue;
            }
            Event::Text(t) => {
                let t = t.xml10_content();
                let t = t.trim();
                match text_target {
                    Some("Created") if s.created.is_none() => s.created = Some(t.to_string()),
                    Some("Expires") if s.expires.is_none() => s.expires = Some(t.to_string()),
                    Some("Identifier") if sct_id => {
                        if let Some(last) = s.tokens.last_mut() {
                            last.push(' ');
                            last.push_str(t);
                        }
                        sct_id = false;
                    }
                    _ => {}
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        if stack.len() >= MAX_DEPTH {
            break;
        }
        let name = local(e.name().0).to_string();
        let parent = stack.last().map(String::as_str).unwrap_or("");
        let in_security = stack.iter().any(|n| n == "Security");
        if let Some(id) = attr(&e, "Id") {
            let what = if name == "EncryptedData" {
                // An EncryptedData stands for what it replaced.
                match parent {
                    "Body" => "Body".to_string(),
                    "Security" => "Signature".to_string(),
                    _ => parent.to_string(),
                }
            } else {
                name.clone()
            };
            if ids.len() < 4 * MAX_REFS {
                ids.insert(id, what);
            }
        }
        match (parent, name.as_str()) {
            ("Header", "Security") => seen_security = true,
            ("Timestamp", "Created" | "Expires") if in_security => {
                text_target = Some(if name == "Created" { "Created" } else { "Expires" })
            }
            ("Security", "SecurityContextToken") => {
                s.tokens.push("SecurityContextToken".into());
                sct_id = true;
            }
            ("SecurityContextToken", "Identifier") if in_security => text_target = Some("Identifier"),
            ("Security", "BinarySecurityToken") => s.tokens.push(match attr(&e, "ValueType") {
                Some(v) => format!("BinarySecurityToken ({})", fragment(&v)),
                None => "BinarySecurityToken".into(),
            }),
            ("Security", "UsernameToken") => s.tokens.push("UsernameToken".into()),
            ("Security", "EncryptedKey") => s.tokens.push("EncryptedKey".into()),
            ("Security", "DerivedKeyToken") => s.derived_keys += 1,
            ("Security", "EncryptedData") => s.signature_encrypted = true,
            ("SignedInfo", "Reference") if in_security => {
                if let Some(uri) = attr(&e, "URI")
                    && signed_refs.len() < MAX_REFS
                {
                    signed_refs.push(uri.trim_start_matches('#').to_string());
                }
            }
            ("ReferenceList", "DataReference") if in_security => {
                if let Some(uri) = attr(&e, "URI")
                    && encrypted_refs.len() < MAX_REFS
                {
                    encrypted_refs.push(uri.trim_start_matches('#').to_string());
                }
            }
            ("EncryptedData", "EncryptionMethod") if stack.len() >= 2 && stack[stack.len() - 2] == "Body" => {
                s.body_encryption = attr(&e, "Algorithm").map(|a| fragment(&a));
            }
            _ => {}
        }
        if !empty {
            stack.push(name);
        }
    }
    let name_of = |r: &String| ids.get(r).cloned().unwrap_or_else(|| format!("#{r}"));
    s.signed = signed_refs.iter().map(name_of).collect();
    s.encrypted = encrypted_refs.iter().map(name_of).collect();
    (seen_security || s.body_encryption.is_some()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secured_message_says_what_is_signed_and_encrypted() {
        let xml = br##"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:u="u"><s:Header><a:Action u:Id="_3">x</a:Action><r:Sequence u:Id="_1"><r:Identifier>urn:uuid:1</r:Identifier></r:Sequence><o:Security xmlns:o="o"><u:Timestamp u:Id="uuid-1"><u:Created>2007-11-07T11:26:47.128Z</u:Created><u:Expires>2007-11-07T11:31:47.128Z</u:Expires></u:Timestamp><c:SecurityContextToken u:Id="uuid-2"><c:Identifier>urn:uuid:sct</c:Identifier></c:SecurityContextToken><c:DerivedKeyToken u:Id="dk1"/><c:DerivedKeyToken u:Id="dk2"/><e:ReferenceList xmlns:e="e"><e:DataReference URI="#_0"/><e:DataReference URI="#_2"/></e:ReferenceList><e:EncryptedData Id="_2" xmlns:e="e"/></o:Security></s:Header><s:Body u:Id="_4"><e:EncryptedData Id="_0" xmlns:e="e"><e:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/></e:EncryptedData></s:Body></s:Envelope>"##;
        let s = summarize(xml).unwrap();
        assert_eq!(s.body_encryption.as_deref(), Some("aes256-cbc"));
        assert_eq!(s.created.as_deref(), Some("2007-11-07T11:26:47.128Z"));
        assert_eq!(s.tokens, vec!["SecurityContextToken urn:uuid:sct".to_string()]);
        assert_eq!(s.derived_keys, 2);
        assert_eq!(s.encrypted, vec!["Body".to_string(), "Signature".to_string()]);
        assert!(s.signature_encrypted);
        assert_eq!(s.lines()[0], "Body: encrypted (aes256-cbc)");
    }

    #[test]
    fn a_plain_message_has_no_summary() {
        assert_eq!(summarize(b"<s:Envelope><s:Body><x/></s:Body></s:Envelope>"), None);
        assert_eq!(summarize(b"<<<"), None);
    }
}
