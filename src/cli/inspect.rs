//! `rmscope inspect FILE [--json]`: what one message means.

use super::{CliError, read_limited};
use crate::wsrm::{self, AckContent, Body, Decoded, Envelope, RmVersion};
use serde::Serialize;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The message: a SOAP envelope, a header/body fragment pasted from documentation, or a
    /// WCF message log record (`<MessageLogTraceRecord>` or a whole `<E2ETraceEvent>`).
    pub file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Refuse fragments and undeclared prefixes (as the capture decoder does).
    #[arg(long)]
    pub strict: bool,
    /// WS-RM version to assume for an undeclared `wsrm` prefix: 2005/02 or 1.1.
    #[arg(long, value_parser = parse_rm_version)]
    pub rm_version: Option<RmVersion>,
    /// The file is WCF binary XML (application/soap+msbin1, [MC-NBFX] with the [MC-NBFS]
    /// static dictionary) instead of text.
    #[arg(long)]
    pub binary: bool,
    /// With --binary: the file starts with an [MC-NBFSE] StringTable (msbinsession1, net.tcp).
    #[arg(long, requires = "binary")]
    pub session: bool,
    /// With --binary: session strings defined by earlier envelopes, one per line (ids 1, 3, 5, …).
    #[arg(long, requires = "binary")]
    pub dictionary: Option<PathBuf>,
}

pub fn parse_rm_version(s: &str) -> Result<RmVersion, String> {
    match s {
        "2005/02" | "1.0" | "2005" | "WSReliableMessagingFebruary2005" => Ok(RmVersion::Feb2005),
        "1.1" | "1.2" | "WSReliableMessaging11" => Ok(RmVersion::V1_1),
        other => Err(format!("unknown WS-RM version '{other}' (use 2005/02 or 1.1)")),
    }
}

pub fn run(args: &Args) -> Result<String, CliError> {
    let opts = wsrm::Options {
        lenient: !args.strict,
        assume_rm: args.rm_version,
        ..wsrm::Options::default()
    };
    let bytes = read_limited(&args.file, opts.max_size as u64)?;
    let failed = |e: &dyn std::fmt::Display| CliError(format!("{}: {e}", args.file.display()));
    // A record pasted from a message log: the envelope inside it.
    let (http, envelope) = match (args.binary, crate::svclog::envelope_of(&bytes)) {
        (false, Some(Ok((http, range)))) => (http, &bytes[range]),
        (false, Some(Err(e))) => return Err(failed(&e)),
        _ => (None, &bytes[..]),
    };
    let decoded = if args.binary {
        decode_binary(args, envelope, &opts)
    } else {
        wsrm::decode_with(envelope, &opts)
    }
    .map_err(|e| failed(&e))?;
    let security = wsrm::security::summarize(envelope);
    Ok(if args.json {
        let mut report = Report::new(&decoded);
        report.security = security.as_ref().map(|s| s.lines());
        report.logged_http = http.as_deref();
        let mut s = serde_json::to_string_pretty(&report).expect("report serialises");
        s.push('\n');
        s
    } else {
        let mut out = String::new();
        if let Some(h) = &http {
            for l in h.lines() {
                let _ = writeln!(out, "{:<16}{l}", "logged http");
            }
        }
        out.push_str(&text(&decoded));
        out.push_str(&security_text(security.as_ref()));
        out
    })
}

/// The `o:Security` summary as `inspect` prints it (also the detail pane).
pub fn security_text(s: Option<&wsrm::security::SecuritySummary>) -> String {
    let mut out = String::new();
    if let Some(s) = s {
        for l in s.lines() {
            let _ = writeln!(out, "{:<16}{l}", "security");
        }
    }
    out
}

/// `--binary`: the static dictionary, plus the session strings of `--dictionary` and of the
/// file's own StringTable (`--session`).
fn decode_binary(
    args: &Args,
    bytes: &[u8],
    opts: &wsrm::Options,
) -> Result<wsrm::Decoded, wsrm::DecodeError> {
    use wsrm::binary::{self, Session};
    let failed = |m: String| wsrm::DecodeError::new(wsrm::ErrorKind::Binary, 0, None, m);
    let mut session = match &args.dictionary {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| failed(format!("{}: {e}", p.display())))?;
            Session::from_strings(text.lines().map(str::to_string)).map_err(failed)?
        }
        None => Session::new(),
    };
    if args.session {
        binary::decode_binary(bytes, Some(&mut session), opts)
    } else {
        binary::decode_document(bytes, args.dictionary.is_some().then_some(&session), opts)
    }
}

/// The JSON shape of `inspect --json` (documented in README).
#[derive(Serialize)]
pub struct Report<'a> {
    pub soap: Option<&'static str>,
    pub rm_version: Option<&'static str>,
    pub fragment: bool,
    pub kind: &'static str,
    pub action: Option<String>,
    pub addressing: AddressingReport<'a>,
    pub sequence: Option<&'a wsrm::Sequence>,
    pub ack_requested: &'a [wsrm::AckRequested],
    pub acks: &'a [wsrm::SequenceAcknowledgement],
    pub body: &'a Body,
    pub body_size: usize,
    pub warnings: &'a [wsrm::Warning],
    /// What WS-Security did (timestamp, tokens, signed and encrypted parts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<Vec<String>>,
    /// The HTTP request or response a message log recorded with the envelope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logged_http: Option<&'a str>,
}

#[derive(Serialize)]
pub struct AddressingReport<'a> {
    pub version: Option<&'static str>,
    pub message_id: Option<&'a str>,
    pub relates_to: Option<&'a wsrm::RelatesTo>,
    pub to: Option<&'a str>,
    pub reply_to: Option<&'a str>,
    pub from: Option<&'a str>,
    pub fault_to: Option<&'a str>,
}

impl<'a> Report<'a> {
    pub fn new(d: &'a Decoded) -> Self {
        let e = &d.envelope;
        let a = &e.addressing;
        Report {
            soap: e.soap.map(|s| s.label()),
            rm_version: e.rm_version.map(|v| v.label()),
            fragment: e.soap.is_none(),
            kind: e.kind_label(),
            action: a.action.as_ref().map(|x| x.uri().into_owned()),
            addressing: AddressingReport {
                version: a.version.map(|v| v.label()),
                message_id: a.message_id.as_deref(),
                relates_to: a.relates_to.as_ref(),
                to: a.to.as_deref(),
                reply_to: a.reply_to.as_ref().map(|r| r.address.as_str()),
                from: a.from.as_ref().map(|r| r.address.as_str()),
                fault_to: a.fault_to.as_ref().map(|r| r.address.as_str()),
            },
            sequence: e.sequence.as_ref(),
            ack_requested: &e.ack_requested,
            acks: &e.acks,
            body: &e.body,
            body_size: d.body_span.as_ref().map_or(0, |s| s.len()),
            warnings: &d.warnings,
            security: None,
            logged_http: None,
        }
    }
}

/// Ranges as `1-2, 4-6`.
pub fn format_ack(content: &AckContent) -> String {
    match content {
        AckContent::Ranges(r) => r
            .iter()
            .map(|r| {
                if r.lower == r.upper {
                    r.lower.to_string()
                } else {
                    format!("{}-{}", r.lower, r.upper)
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
        AckContent::None => "none (nothing received)".into(),
        AckContent::Nacks(n) => format!(
            "nack {}",
            n.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

pub fn text(d: &Decoded) -> String {
    let e: &Envelope = &d.envelope;
    let mut out = String::new();
    let mut line = |k: &str, v: &str| {
        let _ = writeln!(out, "{k:<16}{}", printable(v));
    };
    let versions = [
        e.soap
            .map_or("no envelope (fragment)".to_string(), |s| format!("SOAP {s}")),
        e.rm_version.map_or("no WS-RM".to_string(), |v| {
            format!("WS-RM {v} ({})", v.wcf_name())
        }),
        e.addressing
            .version
            .map_or("no WS-Addressing".to_string(), |v| format!("WS-Addressing {v}")),
    ];
    line("message", e.kind_label());
    line("versions", &versions.join(" · "));
    let a = &e.addressing;
    if let Some(action) = &a.action {
        line("action", &action.uri());
    }
    if let Some(v) = &a.message_id {
        line("message id", v);
    }
    if let Some(r) = &a.relates_to {
        let rel = r
            .relationship
            .as_ref()
            .map_or(String::new(), |t| format!(" ({t})"));
        line("relates to", &format!("{}{rel}", r.message_id));
    }
    if let Some(v) = &a.to {
        line("to", v);
    }
    for (k, epr) in [
        ("reply to", &a.reply_to),
        ("from", &a.from),
        ("fault to", &a.fault_to),
    ] {
        if let Some(epr) = epr {
            line(k, &epr.address);
        }
    }
    if let Some(s) = &e.sequence {
        let last = if s.last_message { " (LastMessage)" } else { "" };
        line("sequence", &s.identifier);
        line("message number", &format!("{}{last}", s.message_number));
    }
    for ar in &e.ack_requested {
        let n = ar
            .message_number
            .map_or(String::new(), |n| format!(" (up to #{n})"));
        line("ack requested", &format!("{}{n}", ar.identifier));
    }
    for ack in &e.acks {
        line("ack for", &ack.identifier);
        line("  ranges", &format_ack(&ack.content));
        if ack.final_ack {
            line("  final", "yes (no further acknowledgements will change)");
        }
        if let Some(b) = ack.buffer_remaining {
            line("  buffer left", &format!("{b} (netrm:BufferRemaining)"));
        }
    }
    body_lines(&e.body, d.body_span.as_ref().map_or(0, |s| s.len()), &mut line);
    if !d.warnings.is_empty() {
        let _ = writeln!(out, "warnings");
        for w in &d.warnings {
            let _ = writeln!(out, "  - {}", printable(&w.to_string()));
        }
    }
    out
}

/// Control characters (a newline inside an Action, say) shown escaped so each value stays on
/// its line.
fn printable(v: &str) -> std::borrow::Cow<'_, str> {
    if v.chars().any(char::is_control) {
        v.chars()
            .flat_map(char::escape_default)
            .collect::<String>()
            .into()
    } else {
        v.into()
    }
}

fn body_lines(body: &Body, size: usize, line: &mut impl FnMut(&str, &str)) {
    let secs = |d: std::time::Duration| wsrm::duration::format(d);
    match body {
        Body::Empty => line("body", "empty"),
        Body::CreateSequence(cs) => {
            line("acks to", &cs.acks_to.address);
            if let Some(x) = cs.expires {
                line("expires", &secs(x));
            }
            if let Some(o) = &cs.offer {
                line("offer", &o.identifier);
                if let Some(ep) = &o.endpoint {
                    line("  endpoint", &ep.address);
                }
                if let Some(x) = o.expires {
                    line("  expires", &secs(x));
                }
                if let Some(b) = o.incomplete_sequence_behavior {
                    line("  incomplete", b.name());
                }
            }
        }
        Body::CreateSequenceResponse(r) => {
            line("new sequence", &r.identifier);
            if let Some(x) = r.expires {
                line("expires", &secs(x));
            }
            if let Some(b) = r.incomplete_sequence_behavior {
                line("incomplete", b.name());
            }
            match &r.accept {
                Some(a) => line("offer accepted", &format!("acks to {}", a.address)),
                None => line("offer accepted", "no"),
            }
        }
        Body::CloseSequence(s) | Body::TerminateSequence(s) => {
            line("sequence", &s.identifier);
            if let Some(n) = s.last_msg_number {
                line("last msg number", &n.to_string());
            }
        }
        Body::CloseSequenceResponse { identifier } | Body::TerminateSequenceResponse { identifier } => {
            line("sequence", identifier)
        }
        Body::Fault(f) => {
            let mut code = format!("{:?}", f.code);
            if let Some(rm) = f.rm_fault {
                let _ = write!(code, " / wsrm:{}", rm.name());
            }
            if let Some(n) = f.netrm_fault {
                let _ = write!(code, " / netrm:{}", n.name());
            }
            line("fault", &code);
            line("reason", &f.reason);
            if let Some(id) = &f.identifier {
                line("fault sequence", id);
            }
        }
        Body::Application(app) => {
            let ns = app
                .name
                .namespace
                .as_deref()
                .map_or(String::new(), |n| format!("{{{n}}}"));
            line(
                "body",
                &format!("application {ns}{} ({size} bytes)", app.name.local),
            );
        }
    }
}
