//! `rmscope analyze FILE… [--json | --csv] [--inactivity-timeout 10m]`: what the reliable
//! sessions in a capture, or in WCF message logs (one or both ends), did.

use super::CliError;
use super::simulate::parse_duration;
use crate::analysis::{self, Analysis, Finding, SequenceSummary};
use crate::capture::{self, CaptureData};
use crate::svclog::{self, LogData};
use crate::trace::Timeline;
use serde::Serialize;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Capture files (pcap, pcapng, gzip-compressed either) — one, or several read as one: a
    /// ring-buffer set or captures taken at two points, merged by time — or WCF message logs
    /// (.svclog) of one or both ends, or one capture and the logs of the same session.
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Print one JSON object.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print the timeline (one row per message on the wire) as CSV.
    #[arg(long)]
    pub csv: bool,
    /// Report silences longer than this (WCF's inactivityTimeout).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub inactivity_timeout: Duration,
}

/// Reads and analyses a capture (shared by the CLI and the app).
pub fn load(path: &std::path::Path, inactivity: Duration) -> Result<(CaptureData, Analysis), CliError> {
    load_files(&[path.to_path_buf()], inactivity)
}

/// Reads and analyses several capture files as one capture.
pub fn load_files(paths: &[PathBuf], inactivity: Duration) -> Result<(CaptureData, Analysis), CliError> {
    let cancel = AtomicBool::new(false);
    let data =
        capture::read_files(paths, &mut |_| {}, &cancel, false).map_err(|e| CliError(e.to_string()))?;
    let analysis = analysis::analyze(
        &data.timeline,
        &analysis::Options {
            inactivity_timeout: inactivity,
            series: false,
            ..analysis::Options::default()
        },
    );
    Ok((data, analysis))
}

/// Reads and analyses message logs (the CLI: a summary, without the plots' series).
pub fn load_logs(paths: &[PathBuf], inactivity: Duration) -> Result<(LogData, Analysis), CliError> {
    let cancel = AtomicBool::new(false);
    let data = svclog::read_files(paths, &mut |_| {}, &cancel).map_err(|e| CliError(e.to_string()))?;
    let analysis = analysis::analyze(
        &data.timeline,
        &analysis::Options {
            inactivity_timeout: inactivity,
            series: false,
            ..analysis::Options::default()
        },
    );
    Ok((data, analysis))
}

pub fn run(args: &Args) -> Result<String, CliError> {
    let logs = args.files.iter().filter(|p| svclog::looks_like_log(p)).count();
    if logs > 0 {
        if logs + 1 == args.files.len() {
            return run_capture_with_logs(args);
        }
        if logs < args.files.len() {
            return Err(CliError(
                "give .svclog files, one capture, or one capture and the logs of the same session".into(),
            ));
        }
        let (data, analysis) = load_logs(&args.files, args.inactivity_timeout)?;
        return render_logs(&data, analysis, args.json, args.csv);
    }
    // One capture, or several read as one (a ring-buffer set, or two capture points).
    let (data, analysis) = load_files(&args.files, args.inactivity_timeout)?;
    let name = match args.files.as_slice() {
        [one] => one.clone(),
        many => PathBuf::from(
            many.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" + "),
        ),
    };
    render(&name, &data, analysis, args.json, args.csv)
}

/// One capture and the message logs of the same session: the capture's summary, the logs'
/// records attached to its messages, each process's clock against the capture's.
fn run_capture_with_logs(args: &Args) -> Result<String, CliError> {
    let (logs, caps): (Vec<PathBuf>, Vec<PathBuf>) = args
        .files
        .iter()
        .cloned()
        .partition(|p| svclog::looks_like_log(p));
    let cancel = AtomicBool::new(false);
    let mut data =
        capture::read_file_with(&caps[0], &mut |_| {}, &cancel, true).map_err(|e| CliError(e.to_string()))?;
    let att = svclog::attach(&data, &logs, &mut |_| {}, &cancel).map_err(|e| CliError(e.to_string()))?;
    data.findings.extend(att.findings.iter().cloned());
    let analysis = analysis::analyze(
        &data.timeline,
        &analysis::Options {
            inactivity_timeout: args.inactivity_timeout,
            series: false,
            ..analysis::Options::default()
        },
    );
    let out = render(&caps[0], &data, analysis, args.json, args.csv)?;
    if args.csv {
        return Ok(out);
    }
    if args.json {
        let mut v: serde_json::Value = serde_json::from_str(&out).expect("our own JSON");
        v["logs"] = serde_json::json!({
            "files": logs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "sources": att.stats.files,
            "stats": att.stats,
            "clocks": att.clocks,
            "matched": att.matched,
            "captured_messages_with_records": att.records.len(),
        });
        return Ok(json_text(&v));
    }
    let mut o = String::new();
    for f in &att.stats.files {
        let _ = writeln!(
            o,
            "{}: {} records, {} messages, written by {}",
            f.path, f.records, f.messages, f.process
        );
    }
    let _ = writeln!(
        o,
        "{} log records matched to {} captured messages",
        att.matched,
        att.records.len()
    );
    for c in &att.clocks {
        let _ = writeln!(
            o,
            "clock: {} is {:+.3} ms from the capture ({} sends, {} receives matched{})",
            c.other,
            c.offset_ms,
            c.pairs[0],
            c.pairs[1],
            if c.one_way_only {
                "; one direction only: assumes no delay"
            } else {
                ""
            }
        );
    }
    o.push('\n');
    o.push_str(&out);
    Ok(o)
}

/// The summary of message logs as text, JSON or the timeline as CSV.
pub fn render_logs(
    data: &LogData,
    mut analysis: Analysis,
    json: bool,
    as_csv: bool,
) -> Result<String, CliError> {
    let mut findings = data.findings.clone();
    findings.append(&mut analysis.findings);
    findings.sort_by_key(|f| f.time);
    if as_csv {
        return csv(&data.timeline);
    }
    if json {
        let report = JsonLogReport {
            files: data.paths.iter().map(|p| p.display().to_string()).collect(),
            sources: &data.stats.files,
            clock: data.stats.clock.as_ref(),
            stats: &data.stats,
            sequences: &analysis.sequences,
            findings: json_findings(&findings, &data.timeline),
        };
        return Ok(json_text(&report));
    }
    let st = &data.stats;
    let mut o = String::new();
    for f in &st.files {
        let _ = writeln!(
            o,
            "{}: {} records, {} messages, written by {}{}",
            f.path,
            f.records,
            f.messages,
            if f.process.is_empty() { "?" } else { &f.process },
            if f.utf16 { " (UTF-16)" } else { "" }
        );
    }
    let _ = writeln!(
        o,
        "{} message records: {} transport, {} service level ({} folded into their transport record), {} other; {} undecoded; {} traces, {} activity boundaries{}{}",
        st.transport_records + st.service_records + st.other_message_records,
        st.transport_records,
        st.service_records,
        st.folded,
        st.other_message_records,
        st.undecoded,
        st.traces,
        st.activity_boundaries,
        if st.malformed > 0 {
            format!("; {} malformed records", st.malformed)
        } else {
            String::new()
        },
        if st.truncated { " (file cut short)" } else { "" },
    );
    if let Some(c) = &st.clock {
        let _ = writeln!(
            o,
            "clocks: {} is {:+.3} ms from {} (round trip {:.3} ms{}); one-way delay median {:.3} ms →, {:.3} ms ←; {} messages matched at both ends ({} →, {} ←)",
            c.other,
            c.offset_ms,
            c.reference,
            c.round_trip_ms,
            if c.one_way_only {
                ", one direction only: assumes no delay"
            } else {
                ""
            },
            c.delay_ms[0],
            c.delay_ms[1],
            st.matched,
            c.pairs[0],
            c.pairs[1]
        );
    }
    let wires = &data.timeline.wires;
    let security = wires
        .iter()
        .filter(|w| w.kind == crate::trace::WireKind::Security)
        .count();
    if security > 0 {
        let _ = writeln!(
            o,
            "{security} security handshake messages (WS-Trust / SecureConversation)"
        );
    }
    sequences_text(&mut o, &analysis.sequences, &findings, &data.timeline, "record");
    Ok(o)
}

/// The summary of a decoded capture as text, JSON or the timeline as CSV (also `capture`).
pub fn render(
    file: &std::path::Path,
    data: &CaptureData,
    mut analysis: Analysis,
    json: bool,
    as_csv: bool,
) -> Result<String, CliError> {
    let mut findings = data.findings.clone();
    findings.append(&mut analysis.findings);
    findings.sort_by_key(|f| (f.frame, f.time));
    if as_csv {
        return csv(&data.timeline);
    }
    if json {
        let report = JsonReport {
            file: file.display().to_string(),
            frames: data.stats.frames,
            truncated: data.stats.truncated,
            stats: &data.stats,
            sequences: &analysis.sequences,
            findings: json_findings(&findings, &data.timeline),
        };
        return Ok(json_text(&report));
    }
    Ok(text(file, data, &analysis.sequences, &findings, &data.timeline))
}

#[derive(Serialize)]
struct JsonReport<'a> {
    file: String,
    frames: u64,
    truncated: bool,
    stats: &'a capture::Stats,
    sequences: &'a [SequenceSummary],
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
struct JsonLogReport<'a> {
    files: Vec<String>,
    sources: &'a [svclog::SourceFile],
    clock: Option<&'a svclog::ClockEstimate>,
    stats: &'a svclog::LogStats,
    sequences: &'a [SequenceSummary],
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    severity: analysis::Severity,
    frame: u32,
    time: f64,
    sequence: Option<&'a str>,
    text: &'a str,
}

impl<'a> JsonFinding<'a> {
    fn new(f: &'a Finding, t: &'a Timeline) -> Self {
        JsonFinding {
            severity: f.severity,
            frame: f.frame,
            time: f.time.as_secs_f64(),
            sequence: t.seq_info(f.seq).map(|s| s.identifier.as_str()),
            text: &f.text,
        }
    }
}

fn ranges_text(r: &[[u64; 2]]) -> String {
    if r.is_empty() {
        return "none".into();
    }
    r.iter()
        .map(|[a, b]| if a == b { a.to_string() } else { format!("{a}-{b}") })
        .collect::<Vec<_>>()
        .join(", ")
}

fn text(
    path: &std::path::Path,
    data: &CaptureData,
    seqs: &[SequenceSummary],
    findings: &[Finding],
    t: &Timeline,
) -> String {
    let st = &data.stats;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}: {} frames{}; {} TCP connections ({} HTTP, {} net.tcp, {} other); {} HTTP messages, {} net.tcp envelopes, {} SOAP, {} WS-RM",
        path.display(),
        st.frames,
        if st.truncated { " (file cut short)" } else { "" },
        st.tcp_connections,
        st.http_connections,
        st.nmf_connections,
        st.other_connections,
        st.http_messages,
        st.nmf_envelopes,
        st.soap_messages,
        st.wsrm_messages
    );
    let skipped = st.skipped_not_tcp + st.skipped_link + st.skipped_fragments + st.skipped_malformed;
    if skipped > 0 {
        let _ = writeln!(
            o,
            "skipped {skipped} frames: {} not TCP, {} unsupported link type, {} IP fragments, {} malformed",
            st.skipped_not_tcp, st.skipped_link, st.skipped_fragments, st.skipped_malformed
        );
    }
    if st.frame_map.files.len() > 1 {
        let _ = writeln!(
            o,
            "{} files merged by time; frames named file:frame{}",
            st.frame_map.files.len(),
            if st.duplicates > 0 {
                format!(
                    "; {} packets seen at two capture points counted once",
                    st.duplicates
                )
            } else {
                String::new()
            }
        );
    }
    sequences_text_named(&mut o, seqs, findings, t, "frame", &|f| st.frame_name(f));
    o
}

/// Per-sequence summaries and the findings, after a source's header lines.
fn sequences_text(o: &mut String, seqs: &[SequenceSummary], findings: &[Finding], t: &Timeline, unit: &str) {
    sequences_text_named(o, seqs, findings, t, unit, &|f| f.to_string())
}

/// `sequences_text` with frames named by `name` (`file:frame` for a capture of several files).
fn sequences_text_named(
    o: &mut String,
    seqs: &[SequenceSummary],
    findings: &[Finding],
    t: &Timeline,
    unit: &str,
    name: &dyn Fn(u32) -> String,
) {
    for s in seqs {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "sequence {}  (WS-RM {}, SOAP {})",
            s.id,
            s.version.unwrap_or("?"),
            s.soap.unwrap_or("?")
        );
        let _ = writeln!(
            o,
            "  endpoints        {} → {}",
            s.source.as_deref().unwrap_or("?"),
            s.destination.as_deref().unwrap_or("?")
        );
        if let (Some(f), Some(rtt)) = (s.create_frame, s.handshake_rtt) {
            let _ = writeln!(
                o,
                "  handshake        CreateSequence in {unit} {}, response after {:.3} ms",
                name(f),
                rtt * 1e3
            );
        }
        if let Some(r) = &s.return_sequence {
            let _ = writeln!(
                o,
                "  session          return sequence {r} (offered in the CreateSequence)"
            );
        }
        if let Some(b) = &s.offered_by {
            let replies = if s.replies > 0 {
                format!("; {} replies name their request", s.replies)
            } else {
                String::new()
            };
            let _ = writeln!(o, "  session          return sequence of {b}{replies}");
        }
        let retrans = if s.retransmitted_numbers.is_empty() {
            String::new()
        } else {
            let shown: Vec<String> = s
                .retransmitted_numbers
                .iter()
                .take(20)
                .map(|n| n.to_string())
                .collect();
            let more = if s.retransmitted_numbers.len() > 20 {
                ", …"
            } else {
                ""
            };
            format!(": {}{more}", shown.join(", "))
        };
        let _ = writeln!(
            o,
            "  messages         {} ({} transmissions, {} retransmissions{retrans})",
            s.messages, s.transmissions, s.retransmissions
        );
        let _ = writeln!(
            o,
            "  acks             {}, final ranges {}",
            s.acks,
            ranges_text(&s.final_ack_ranges)
        );
        if let Some(l) = &s.ack_latency {
            let _ = writeln!(
                o,
                "  ack latency      median {:.3} ms, 95% {:.3} ms, max {:.3} ms",
                l.median * 1e3,
                l.p95 * 1e3,
                l.max * 1e3
            );
        }
        let _ = writeln!(o, "  max in flight    {}", s.max_in_flight);
        if let Some(b) = s.min_buffer_remaining {
            let _ = writeln!(o, "  buffer remaining min {b}");
        }
        if let Some(n) = s.last_message_number {
            let _ = writeln!(o, "  last message     {n}");
        }
        let _ = writeln!(o, "  longest silence  {:.3} s", s.longest_silence);
        let _ = writeln!(
            o,
            "  closed {} · terminated {} · faults {}",
            yes(s.closed),
            yes(s.terminated),
            s.faults
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "findings ({})", findings.len());
    for f in findings {
        let seq = t
            .seq_info(f.seq)
            .map_or(String::new(), |s| format!(" [{}]", s.identifier));
        if f.frame == 0 && unit != "frame" {
            let _ = writeln!(
                o,
                "  {:<5} {:>10.6} s{seq}  {}",
                f.severity.label(),
                f.time.as_secs_f64(),
                f.text
            );
        } else {
            let _ = writeln!(
                o,
                "  {:<5} {unit} {:>6}{seq}  {}",
                f.severity.label(),
                name(f.frame),
                f.text
            );
        }
    }
}

fn json_findings<'a>(findings: &'a [Finding], t: &'a Timeline) -> Vec<JsonFinding<'a>> {
    findings.iter().map(|f| JsonFinding::new(f, t)).collect()
}

/// Pretty JSON and a final newline.
fn json_text(v: &impl Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("serialises");
    s.push('\n');
    s
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn csv(t: &Timeline) -> Result<String, CliError> {
    crate::trace::to_csv(t).map_err(|e| CliError(format!("writing CSV: {e}")))
}
