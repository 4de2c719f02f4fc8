//! One `<E2ETraceEvent>`: the System header every trace has (time, process, level) and what its
//! ApplicationData holds: a logged message (`MessageLogTraceRecord` around an envelope) or a
//! trace record (a description, maybe an exception). The envelope is located, not copied: the
//! codec decodes it from the record's bytes.

use crate::wsrm::local_name as local;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use std::ops::Range;

/// Elements nested deeper than this outside an envelope make the record malformed.
const MAX_DEPTH: usize = 64;
/// Text kept of one field (descriptions, exception messages).
const MAX_FIELD: usize = 4096;

/// The process that wrote a record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Process {
    pub name: String,
    pub id: u32,
    pub computer: String,
}

impl Process {
    /// "Servis (7592) on BURAKSENYURT-PC".
    pub fn label(&self) -> String {
        let name = if self.name.is_empty() {
            "process"
        } else {
            &self.name
        };
        match (self.id, self.computer.is_empty()) {
            (0, true) => name.to_string(),
            (0, false) => format!("{name} on {}", self.computer),
            (id, true) => format!("{name} ({id})"),
            (id, false) => format!("{name} ({id}) on {}", self.computer),
        }
    }
}

/// `MessageLogTraceRecord/@Source`: where in WCF's stack the message was logged
/// (System.ServiceModel.Diagnostics.MessageLoggingSource).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Level {
    /// On the wire side of the channel stack (secured, still encrypted when received).
    Transport,
    /// At the service model (after security: the decrypted application message).
    Service,
    /// A message WCF could not read (`Malformed`), or another source.
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRecord {
    /// `@Source` as written ("TransportReceive").
    pub source: String,
    pub level: Level,
    /// Sent by the logging process (else received by it).
    pub send: bool,
    /// The `<HttpRequest>`/`<HttpResponse>` element before the envelope, as header lines.
    pub http: Option<String>,
    /// Where the `s:Envelope` lies in the record's bytes.
    pub envelope: Option<Range<usize>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceRecord {
    /// `TraceRecord/@Severity`, else the System SubType ("Warning", "Error", ...).
    pub severity: String,
    pub description: String,
    pub exception: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    Message(MessageRecord),
    Trace(TraceRecord),
    /// A boundary of an activity (Start, Stop, Suspend, Resume, Transfer): counted, not shown.
    Activity,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// `TimeCreated/@SystemTime`, ns since the Unix epoch (UTC).
    pub time_ns: Option<u64>,
    /// `SubType/@Name`: Information, Warning, Error, Critical, Verbose, Start, ...
    pub subtype: String,
    pub process: Process,
    pub content: Content,
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| local(a.key.0) == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.trim().to_string())
        })
}

fn push_limited(out: &mut String, s: &str) {
    let room = MAX_FIELD.saturating_sub(out.len());
    if room > 0 {
        let mut end = s.len().min(room);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&s[..end]);
    }
}

/// The time of `TimeCreated/@SystemTime` ("2007-11-07T11:26:46.8730000Z") in ns since 1970.
pub fn parse_system_time(s: &str) -> Option<u64> {
    let t = humantime::parse_rfc3339_weak(s.trim_end_matches('Z')).ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    u64::try_from(d.as_nanos()).ok()
}

/// Which text field the parser is collecting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    None,
    Computer,
    Description,
    ExceptionType,
    ExceptionMessage,
    HttpValue,
    AppText,
}

/// Parses one record. `Err` is a one-line reason with the byte offset in the record.
pub fn parse(bytes: &[u8]) -> Result<Record, String> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<String> = Vec::with_capacity(16);
    let mut rec = Record {
        time_ns: None,
        subtype: String::new(),
        process: Process::default(),
        content: Content::Activity,
    };
    let mut message: Option<MessageRecord> = None;
    let mut texts = Texts::default();
    let mut field = Field::None;
    let mut has_trace_record = false;
    loop {
        let offset = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed XML at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(e) => {
                let name = local(e.name().0).to_string();
                if stack.len() >= MAX_DEPTH {
                    return Err(format!(
                        "elements nested deeper than {MAX_DEPTH} at byte {offset}"
                    ));
                }
                let parent = stack.last().map(String::as_str).unwrap_or("");
                if name == "Envelope" && parent == "MessageLogTraceRecord" {
                    let end = e.to_end().into_owned();
                    reader
                        .read_to_end(end.name())
                        .map_err(|err| {
                            format!(
                                "the logged envelope (from byte {offset}) is not well-formed XML at byte {}: {err}",
                                reader.error_position()
                            )
                        })?;
                    if let Some(m) = message.as_mut() {
                        m.envelope = Some(offset..reader.buffer_position() as usize);
                    }
                    continue;
                }
                start_element(&name, parent, &e, &mut rec, &mut message, &mut texts);
                if name == "TraceRecord" {
                    has_trace_record = true;
                }
                stack.push(name);
                field = field_for(&stack);
                if let (Field::HttpValue, Some(h)) = (field, texts.http.as_mut()) {
                    push_limited(h, &format!("{}: ", stack[stack.len() - 1]));
                }
            }
            Event::Empty(e) => {
                let name = local(e.name().0).to_string();
                let parent = stack.last().map(String::as_str).unwrap_or("");
                if name == "Envelope" && parent == "MessageLogTraceRecord" {
                    if let Some(m) = message.as_mut() {
                        m.envelope = Some(offset..reader.buffer_position() as usize);
                    }
                    continue;
                }
                start_element(&name, parent, &e, &mut rec, &mut message, &mut texts);
            }
            Event::End(_) => {
                if field == Field::HttpValue
                    && let Some(h) = texts.http.as_mut()
                {
                    h.push('\n');
                }
                stack.pop();
                field = field_for(&stack);
            }
            Event::Text(t) => texts.collect(field, &t.xml10_content(), &mut rec),
            Event::CData(t) => texts.collect(field, &t.xml10_content(), &mut rec),
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => match crate::wsrm::predefined_entity(&r) {
                        Some(c) => c.to_string(),
                        None => {
                            return Err(format!(
                                "entity &{}; at byte {offset} is not defined (DTDs are not read)",
                                &*r
                            ));
                        }
                    },
                };
                texts.collect(field, &ch, &mut rec);
            }
            Event::DocType(_) => return Err(format!("a DOCTYPE at byte {offset} is not allowed")),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(format!("the record ends inside <{}>", stack.last().unwrap()));
    }
    let Texts {
        mut trace,
        exc_type,
        exc_msg,
        http,
        app_text,
    } = texts;
    if let Some(mut m) = message {
        m.http = http.map(|h| h.trim_end().to_string());
        rec.content = Content::Message(m);
    } else if has_trace_record || !app_text.trim().is_empty() || is_problem(&rec.subtype) {
        if trace.severity.is_empty() {
            trace.severity = rec.subtype.clone();
        }
        if trace.description.is_empty() {
            trace.description = app_text.trim().to_string();
        }
        if !exc_type.is_empty() || !exc_msg.is_empty() {
            trace.exception = Some(match (exc_type.trim(), exc_msg.trim()) {
                (t, "") => t.to_string(),
                ("", m) => m.to_string(),
                (t, m) => format!("{t}: {m}"),
            });
        }
        let boundary = matches!(
            rec.subtype.as_str(),
            "Start" | "Stop" | "Suspend" | "Resume" | "Transfer"
        );
        rec.content = if boundary {
            Content::Activity
        } else {
            Content::Trace(trace)
        };
    }
    Ok(rec)
}

/// The text field the innermost open element holds, if any.
fn field_for(stack: &[String]) -> Field {
    let Some(top) = stack.last() else {
        return Field::None;
    };
    let parent = stack.len().checked_sub(2).map(|i| stack[i].as_str());
    match (parent, top.as_str()) {
        (Some("System"), "Computer") => Field::Computer,
        (Some("TraceRecord"), "Description") => Field::Description,
        (Some("Exception"), "ExceptionType") => Field::ExceptionType,
        (Some("Exception"), "Message") => Field::ExceptionMessage,
        (Some("WebHeaders"), _)
        | (
            Some("HttpRequest" | "HttpResponse"),
            "Method" | "StatusCode" | "StatusDescription" | "QueryString",
        ) => Field::HttpValue,
        (_, "ApplicationData") => Field::AppText,
        _ => Field::None,
    }
}

fn is_problem(subtype: &str) -> bool {
    matches!(subtype, "Warning" | "Error" | "Critical")
}

/// The text fields a record's parse collects.
#[derive(Default)]
struct Texts {
    trace: TraceRecord,
    exc_type: String,
    exc_msg: String,
    http: Option<String>,
    app_text: String,
}

impl Texts {
    fn collect(&mut self, field: Field, t: &str, rec: &mut Record) {
        match field {
            Field::Computer => push_limited(&mut rec.process.computer, t.trim()),
            Field::Description => push_limited(&mut self.trace.description, t),
            Field::ExceptionType => push_limited(&mut self.exc_type, t),
            Field::ExceptionMessage => push_limited(&mut self.exc_msg, t),
            Field::HttpValue => {
                if let Some(h) = self.http.as_mut() {
                    push_limited(h, t.trim());
                }
            }
            Field::AppText => push_limited(&mut self.app_text, t),
            Field::None => {}
        }
    }
}

/// What an opening (or empty) element sets; returns the text field it starts.
fn start_element(
    name: &str,
    parent: &str,
    e: &BytesStart<'_>,
    rec: &mut Record,
    message: &mut Option<MessageRecord>,
    texts: &mut Texts,
) {
    match (parent, name) {
        ("System", "SubType") => rec.subtype = attr(e, "Name").unwrap_or_default(),
        ("System", "TimeCreated") => {
            rec.time_ns = attr(e, "SystemTime").as_deref().and_then(parse_system_time)
        }
        ("System", "Execution") => {
            rec.process.name = attr(e, "ProcessName").unwrap_or_default();
            rec.process.id = attr(e, "ProcessID").and_then(|v| v.parse().ok()).unwrap_or(0);
        }
        (_, "MessageLogTraceRecord") if message.is_none() => {
            let source = attr(e, "Source").unwrap_or_default();
            let level = if source.starts_with("Transport") {
                Level::Transport
            } else if source.starts_with("ServiceLevel") {
                Level::Service
            } else {
                Level::Other
            };
            *message = Some(MessageRecord {
                send: source.contains("Send"),
                source,
                level,
                http: None,
                envelope: None,
            });
        }
        ("MessageLogTraceRecord", "HttpRequest" | "HttpResponse") if texts.http.is_none() => {
            texts.http = Some(format!("{name}\n"));
        }
        (_, "TraceRecord") => texts.trace.severity = attr(e, "Severity").unwrap_or_default(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &str = r#"<E2ETraceEvent xmlns="http://schemas.microsoft.com/2004/06/E2ETraceEvent"><System xmlns="http://schemas.microsoft.com/2004/06/windows/eventlog/system"><EventID>0</EventID><Type>3</Type><SubType Name="Information">0</SubType><Level>8</Level><TimeCreated SystemTime="2007-11-07T11:26:46.8730000Z" /><Source Name="System.ServiceModel.MessageLogging" /><Correlation ActivityID="{031c0255-4e45-4b63-8b4d-89f8cc2b575a}" /><Execution ProcessName="Servis" ProcessID="7592" ThreadID="4" /><Channel/><Computer>BURAKSENYURT-PC</Computer></System><ApplicationData><TraceData><DataItem><MessageLogTraceRecord Time="2007-11-07T13:26:46.8720000+02:00" Source="ServiceLevelReceiveRequest" Type="System.ServiceModel.Channels.BufferedMessage" xmlns="http://schemas.microsoft.com/2004/06/ServiceModel/Management/MessageTrace"><HttpRequest><Method>POST</Method><QueryString></QueryString><WebHeaders><Content-Length>1232</Content-Length><Host>localhost:8402</Host></WebHeaders></HttpRequest><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/><s:Body><x>1 &lt; 2</x></s:Body></s:Envelope></MessageLogTraceRecord></DataItem></TraceData></ApplicationData></E2ETraceEvent>"#;

    #[test]
    fn a_message_record_gives_time_process_direction_and_the_envelope() {
        let r = parse(MSG.as_bytes()).unwrap();
        assert_eq!(r.time_ns, Some(1_194_434_806_873_000_000));
        assert_eq!(r.process.label(), "Servis (7592) on BURAKSENYURT-PC");
        let Content::Message(m) = &r.content else {
            panic!("{r:?}")
        };
        assert_eq!((m.level, m.send), (Level::Service, false));
        assert_eq!(
            m.http.as_deref(),
            Some("HttpRequest\nMethod: POST\nQueryString: \nContent-Length: 1232\nHost: localhost:8402")
        );
        let env = &MSG[m.envelope.clone().unwrap()];
        assert!(
            env.starts_with("<s:Envelope") && env.ends_with("</s:Envelope>"),
            "{env}"
        );
    }

    #[test]
    fn a_warning_trace_becomes_a_trace_record_with_its_exception() {
        let t = r#"<E2ETraceEvent><System><SubType Name="Error">0</SubType><TimeCreated SystemTime="2010-01-01T00:00:00.5Z"/><Execution ProcessName="svc" ProcessID="1"/></System><ApplicationData><TraceData><DataItem><TraceRecord Severity="Error"><Description>Throwing an exception.</Description><Exception><ExceptionType>System.TimeoutException</ExceptionType><Message>The operation did not complete within 00:01:00.</Message></Exception></TraceRecord></DataItem></TraceData></ApplicationData></E2ETraceEvent>"#;
        let r = parse(t.as_bytes()).unwrap();
        assert_eq!(r.time_ns, Some(1_262_304_000_500_000_000));
        let Content::Trace(tr) = r.content else { panic!() };
        assert_eq!(tr.severity, "Error");
        assert_eq!(tr.description, "Throwing an exception.");
        assert_eq!(
            tr.exception.as_deref(),
            Some("System.TimeoutException: The operation did not complete within 00:01:00.")
        );
    }

    #[test]
    fn activity_boundaries_and_bad_records() {
        let t = r#"<E2ETraceEvent><System><SubType Name="Start">0</SubType></System><ApplicationData><TraceData><DataItem><TraceRecord Severity="Start"><Description>Activity boundary.</Description></TraceRecord></DataItem></TraceData></ApplicationData></E2ETraceEvent>"#;
        assert_eq!(parse(t.as_bytes()).unwrap().content, Content::Activity);
        assert!(
            parse(b"<E2ETraceEvent><System></E2ETraceEvent>")
                .unwrap_err()
                .contains("not well-formed")
        );
        let bomb = b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><E2ETraceEvent>&a;</E2ETraceEvent>";
        assert!(parse(bomb).unwrap_err().contains("DOCTYPE"));
        let deep = format!("<E2ETraceEvent>{}", "<a>".repeat(100));
        assert!(parse(deep.as_bytes()).unwrap_err().contains("nested deeper"));
    }
}
