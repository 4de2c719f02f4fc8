//! `rmscope simulate`: run the embedded pair over a seeded lossy link in virtual time.

use super::CliError;
use crate::config;
use crate::netsim::{DropRule, GilbertElliott, LinkConfig};
use crate::sim::{SimConfig, Simulation};
use crate::trace::Time;
use crate::wsrm::{RmVersion, SoapVersion};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Take the <reliableSession> settings from a WCF config file (app.config / web.config).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// With --config: the binding to use when the file has several.
    #[arg(long)]
    pub binding: Option<String>,

    /// acknowledgementInterval (e.g. 200ms, 0.2s, 00:00:00.2).
    #[arg(long, value_parser = parse_duration)]
    pub ack_interval: Option<Duration>,
    /// flowControlEnabled.
    #[arg(long)]
    pub flow_control: Option<bool>,
    /// inactivityTimeout (e.g. 10m, 00:10:00).
    #[arg(long, value_parser = parse_duration)]
    pub inactivity_timeout: Option<Duration>,
    /// maxPendingChannels (1–16384).
    #[arg(long)]
    pub max_pending_channels: Option<u32>,
    /// maxRetryCount (≥ 1).
    #[arg(long)]
    pub max_retry_count: Option<u32>,
    /// maxTransferWindowSize (1–4096).
    #[arg(long)]
    pub max_transfer_window_size: Option<u32>,
    /// ordered.
    #[arg(long)]
    pub ordered: Option<bool>,
    /// reliableMessagingVersion: 2005/02 or 1.1.
    #[arg(long, value_parser = super::inspect::parse_rm_version)]
    pub rm_version: Option<RmVersion>,
    /// SOAP version of the messages: 1.1 or 1.2.
    #[arg(long, default_value = "1.2", value_parser = parse_soap)]
    pub soap: SoapVersion,

    /// Loss probability per message, each direction.
    #[arg(long, default_value_t = 0.0)]
    pub loss: f64,
    /// Make losses come in bursts of this mean length (Gilbert–Elliott), at the --loss rate.
    #[arg(long)]
    pub burst: Option<f64>,
    /// One-way delay.
    #[arg(long, value_parser = parse_duration)]
    pub delay: Option<Duration>,
    /// Delay varies by up to ± this.
    #[arg(long, default_value = "0ms", value_parser = parse_duration)]
    pub jitter: Duration,
    /// Probability a message is held back so later ones overtake it.
    #[arg(long, default_value_t = 0.0)]
    pub reorder: f64,
    /// Probability a message is delivered twice.
    #[arg(long, default_value_t = 0.0)]
    pub dup: f64,
    /// Link rate in bytes per second (unlimited if absent).
    #[arg(long)]
    pub rate_limit: Option<u64>,
    /// Scripted drop, repeatable: msg:N (first transmission of N), msg:N:A (attempt A),
    /// all:N, ack[:COUNT] (next acks), outage:FROM-UNTIL (seconds).
    #[arg(long = "drop", value_parser = parse_drop)]
    pub drops: Vec<DropRule>,
    /// Random seed: same seed and settings ⇒ identical run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Application messages per session.
    #[arg(long, default_value_t = 100)]
    pub messages: u64,
    /// Sessions opened against the listener.
    #[arg(long, default_value_t = 1)]
    pub sessions: u32,
    /// Send rate per session, messages/s (default: as fast as the window allows).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Application body size in bytes.
    #[arg(long, default_value_t = 256)]
    pub body_size: usize,
    /// Bodies shaped like a WCF data contract (dozens of elements, several namespaces) instead
    /// of one text node.
    #[arg(long)]
    pub xml_rich: bool,
    /// Receiving application's pace, messages/s (default: takes them at once).
    #[arg(long)]
    pub consume_rate: Option<f64>,
    /// The receiving application never accepts sessions (shows maxPendingChannels).
    #[arg(long)]
    pub no_accept: bool,
    /// Stop after this much virtual time.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub time_limit: Duration,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// What carries the messages: the in-memory link (virtual time, as fast as possible) or
    /// real SOAP/HTTP on 127.0.0.1 (real time; the link's impairments still apply).
    #[arg(long, default_value = "simulated", value_parser = ["simulated", "http"])]
    pub transport: String,
    /// The WCF channel pair: one-way (over a duplex channel, as net.tcp), one-way-http (over
    /// request-reply: every message answered with an ack), request-reply (wsHttpBinding: the
    /// client offers a reply sequence, each request answered by its reply) or duplex
    /// (netTcpBinding: both ends source and destination, acks riding on messages). Default:
    /// one-way-http with --transport http, else one-way.
    /// A standard binding's name picks its shape too: wsHttpBinding / ws2007HttpBinding
    /// (request-reply; ws2007 also WS-RM 1.1), netTcpBinding / wsDualHttpBinding (duplex).
    #[arg(long, alias = "binding-shape")]
    pub shape: Option<String>,
    /// Calls are one-way even on a shape with a return sequence (default there: two-way, each
    /// call waiting for its reply).
    #[arg(long)]
    pub one_way_calls: bool,
    /// How long the service's operation runs before replying (two-way calls), e.g. 20ms.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub service_time: Duration,
    /// Reply body size in bytes (two-way calls; callbacks too).
    #[arg(long, default_value_t = 256)]
    pub reply_size: usize,
    /// Duplex: one-way callbacks the service sends each session on the return sequence.
    #[arg(long, default_value_t = 0)]
    pub callbacks: u64,
    /// Callbacks per second per session (default: as fast as the window allows).
    #[arg(long)]
    pub callback_rate: Option<f64>,
    /// Port of the RM destination's HTTP endpoint (--transport http; 0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Write the full event timeline as JSON to this file.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Save the session as the WCF message logs (.svclog) each end would have written at
    /// transport level: one file per endpoint in this directory.
    #[arg(long, value_name = "DIR")]
    pub svclog: Option<PathBuf>,
    /// Save every message the pair put on the wire as a pcap capture (TCP/IPv4).
    #[arg(long)]
    pub pcap: Option<PathBuf>,
    /// Where --pcap's capture is taken: at each message's sender (every copy, the lost ones
    /// too, each when it left), or on one host — the client's (the first RM source) or the
    /// service's — which sees its own messages leave and the other end's arrive, and none the
    /// link lost on the way to it (what a Wireshark capture there holds).
    #[arg(long, default_value = "senders", value_parser = ["senders", "client", "service"])]
    pub capture_at: String,
    /// How --pcap carries the messages: SOAP over HTTP, or net.tcp (.NET Message Framing with
    /// binary XML and a session dictionary, like WCF's netTcpBinding). Default: net.tcp for
    /// --shape netTcpBinding, else http.
    #[arg(long, value_parser = ["http", "net.tcp"])]
    pub framing: Option<String>,
    /// HTTP --pcap: each sender opens a new TCP connection (new ephemeral port) after this many
    /// requests (0: one keep-alive connection).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub reconnect_every: u32,
    /// HTTP --pcap: standalone acks ride on the HTTP response of the source's open request
    /// (200 OK), as WCF's one-way HTTP destination answers, instead of POSTs of their own.
    #[arg(long)]
    pub acks_on_responses: bool,
}

pub fn parse_soap(s: &str) -> Result<SoapVersion, String> {
    match s {
        "1.1" => Ok(SoapVersion::V1_1),
        "1.2" => Ok(SoapVersion::V1_2),
        other => Err(format!("unknown SOAP version '{other}' (use 1.1 or 1.2)")),
    }
}

pub use crate::engine::settings::parse_duration;

pub fn parse_drop(s: &str) -> Result<DropRule, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let num = |t: &str| {
        t.parse::<u64>()
            .map_err(|_| format!("'{t}' in --drop {s} is not a number"))
    };
    match parts.as_slice() {
        ["msg", n] => Ok(DropRule::Message {
            number: num(n)?,
            attempt: 0,
        }),
        ["msg", n, a] => Ok(DropRule::Message {
            number: num(n)?,
            attempt: num(a)? as u32,
        }),
        ["all", n] => Ok(DropRule::AllOf { number: num(n)? }),
        ["ack"] => Ok(DropRule::NextAcks { count: 1 }),
        ["ack", c] => Ok(DropRule::NextAcks {
            count: num(c)? as u32,
        }),
        ["outage", range] => {
            let (a, b) = range
                .split_once('-')
                .ok_or_else(|| format!("--drop {s}: use outage:FROM-UNTIL (seconds)"))?;
            let secs = |t: &str| {
                t.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or_else(|| format!("'{t}' in --drop {s} is not a number of seconds"))
            };
            Ok(DropRule::Outage {
                from: Time::from_secs_f64(secs(a)?),
                until: Time::from_secs_f64(secs(b)?),
            })
        }
        _ => Err(format!(
            "unknown --drop '{s}' (use msg:N, msg:N:ATTEMPT, all:N, ack[:COUNT], outage:FROM-UNTIL)"
        )),
    }
}

/// How --pcap frames the session: as asked, or as the named binding's transport does.
fn framing(args: &Args) -> &str {
    match (
        &args.framing,
        args.shape
            .as_deref()
            .and_then(crate::engine::binding::Binding::parse),
    ) {
        (Some(f), _) => f,
        (None, Some(crate::engine::binding::Binding::NetTcp)) => "net.tcp",
        _ => "http",
    }
}

/// Turns the flags into a simulation config (settings from --config first, flags on top).
pub fn build_config(args: &Args) -> Result<SimConfig, CliError> {
    let mut cfg = SimConfig::default();
    let http = args.transport == "http";
    if http {
        cfg.transport = crate::sim::Transport::Http { port: args.port };
        cfg.shape = crate::engine::Shape::OneWayOverRequest;
    }
    let mut named_binding = None;
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
        let bindings = config::parse(&text).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
        let chosen = config::choose(&bindings, args.binding.as_deref())
            .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
        cfg.settings = chosen.settings;
        if let Some(b) = chosen.binding {
            // One-way contracts over HTTP still run the pair over request-reply.
            cfg.shape = match (b.shape(), http) {
                (crate::engine::Shape::OneWayOverDuplex, true) => crate::engine::Shape::OneWayOverRequest,
                (shape, _) => shape,
            };
        }
    }
    if let Some(s) = &args.shape {
        match crate::engine::binding::Binding::parse(s) {
            Some(b) => {
                cfg.shape = b.shape();
                named_binding = Some(b);
            }
            None => {
                cfg.shape = crate::engine::Shape::parse(s)
                    .map_err(|e| CliError(format!("{e}, or a binding: wsHttpBinding, ws2007HttpBinding, netTcpBinding, wsDualHttpBinding")))?;
            }
        }
    }
    if let (Some(b), None) = (named_binding, &args.config) {
        cfg.settings.reliable_messaging_version = b.version();
    }
    let s = &mut cfg.settings;
    if let Some(v) = args.ack_interval {
        s.acknowledgement_interval = v;
    }
    if let Some(v) = args.flow_control {
        s.flow_control_enabled = v;
    }
    if let Some(v) = args.inactivity_timeout {
        s.inactivity_timeout = v;
    }
    if let Some(v) = args.max_pending_channels {
        s.max_pending_channels = v;
    }
    if let Some(v) = args.max_retry_count {
        s.max_retry_count = v;
    }
    if let Some(v) = args.max_transfer_window_size {
        s.max_transfer_window_size = v;
    }
    if let Some(v) = args.ordered {
        s.ordered = v;
    }
    if let Some(v) = args.rm_version {
        s.reliable_messaging_version = v;
    }
    cfg.soap = args.soap;
    let link = LinkConfig {
        loss: args.loss,
        burst: args.burst.map(|b| GilbertElliott::from_mean(args.loss, b)),
        // The simulated link's delay defaults to 50 ms; over real HTTP the wire has its own.
        delay: args.delay.unwrap_or(if http {
            Duration::ZERO
        } else {
            Duration::from_millis(50)
        }),
        jitter: args.jitter,
        reorder: args.reorder,
        duplicate: args.dup,
        rate: args.rate_limit,
    };
    if args.burst.is_some_and(|b| b.is_nan() || b < 1.0) {
        return Err(CliError("--burst: mean burst length must be at least 1".into()));
    }
    cfg.forward = link.clone();
    cfg.backward = link;
    // Scripted drops of acks apply to the backward direction, the rest forward.
    for d in &args.drops {
        match d {
            DropRule::NextAcks { .. } => cfg.backward_script.push(d.clone()),
            DropRule::Outage { .. } => {
                cfg.forward_script.push(d.clone());
                cfg.backward_script.push(d.clone());
            }
            _ => cfg.forward_script.push(d.clone()),
        }
    }
    cfg.seed = args.seed;
    cfg.workload.messages = args.messages;
    cfg.workload.sessions = args.sessions;
    cfg.workload.rate = args.rate;
    cfg.workload.body_size = args.body_size;
    cfg.workload.rich_body = args.xml_rich;
    cfg.workload.two_way = cfg.shape.offers() && !args.one_way_calls;
    cfg.workload.service_time = args.service_time;
    cfg.workload.reply_size = args.reply_size;
    cfg.workload.callbacks = args.callbacks;
    cfg.workload.callback_rate = args.callback_rate;
    cfg.workload.consume_rate = args.consume_rate;
    cfg.workload.accept = !args.no_accept;
    cfg.time_limit = args.time_limit;
    cfg.record = args.trace.is_some() || args.pcap.is_some() || args.svclog.is_some();
    cfg.validate().map_err(CliError)?;
    Ok(cfg)
}

/// What a run produced, however it ran.
struct Outcome {
    report: crate::sim::Report,
    timeline: crate::trace::Timeline,
    payloads: Vec<bytes::Bytes>,
}

/// Runs over real HTTP in real time (the live driver), until every source finished. A run that
/// does not finish in time still returns what it did, with the error.
fn run_http(cfg: SimConfig) -> Result<(Outcome, Option<CliError>), CliError> {
    // One worker: both ends of every exchange run in this process and hand each message to the
    // other through the engine loop. On two workers each hand-over woke the other thread (a
    // futex wake and a context switch), which cost more than the second core gave:
    // benches/http_loopback.sh 40,500 msg/s on two workers, 73,400 on one.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| CliError(format!("cannot start the async runtime: {e}")))?;
    let deadline = std::time::Instant::now() + cfg.time_limit;
    let handle = crate::live::spawn(rt.handle(), cfg, 1.0, || {});
    let mut out = Outcome {
        report: crate::sim::Report::default(),
        timeline: crate::trace::Timeline::new(),
        payloads: Vec::new(),
    };
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let u = match handle.updates.recv_timeout(left.min(Duration::from_secs(3600))) {
            Ok(u) => u,
            Err(_) => {
                let e = CliError("the HTTP session did not finish within --time-limit".into());
                return Ok((out, Some(e)));
            }
        };
        match u {
            crate::live::Update::Started { .. } => {}
            crate::live::Update::Error(e) => return Err(CliError(e)),
            crate::live::Update::Progress(p) => {
                out.timeline.apply(p.delta);
                out.payloads.extend(p.payloads);
                out.report = p.report;
                if p.done {
                    return Ok((out, None));
                }
            }
        }
    }
}

pub fn run(args: &Args) -> Result<String, CliError> {
    let cfg = build_config(args)?;
    let c = cfg.clone();
    let (out, unfinished) = if matches!(cfg.transport, crate::sim::Transport::Http { .. }) {
        run_http(cfg)?
    } else {
        let mut sim = Simulation::new(cfg).map_err(CliError)?;
        let report = sim.run();
        let payloads = sim.payloads().to_vec();
        (
            Outcome {
                report,
                timeline: sim.take_timeline(),
                payloads,
            },
            None,
        )
    };
    let report = out.report;
    if let Some(path) = &args.trace {
        let file = std::fs::File::create(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
        serde_json::to_writer(std::io::BufWriter::new(file), &out.timeline)
            .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    }
    if let Some(path) = &args.pcap {
        let file = std::fs::File::create(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
        // The RM sources are the timeline's first endpoints, the service the next.
        let seen;
        let timeline = match args.capture_at.as_str() {
            "client" => {
                seen = out.timeline.seen_at(0);
                &seen
            }
            "service" => {
                seen = out
                    .timeline
                    .seen_at(u16::try_from(c.workload.sessions).unwrap_or(u16::MAX));
                &seen
            }
            _ => &out.timeline,
        };
        crate::capture::export::write_session_with(
            timeline,
            &out.payloads,
            if framing(args) == "net.tcp" {
                crate::capture::export::Framing::NetTcp
            } else {
                crate::capture::export::Framing::Http(c.soap)
            },
            crate::capture::export::HttpLayout {
                reconnect_every: args.reconnect_every,
                acks_on_responses: args.acks_on_responses,
                replies_on_responses: c.shape == crate::engine::Shape::RequestReply,
            },
            std::io::BufWriter::new(file),
            crate::capture::writer::Format::Pcap,
        )
        .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    }
    if let Some(dir) = &args.svclog {
        crate::svclog::write::write_logs(&out.timeline, &out.payloads, dir)
            .map_err(|e| CliError(format!("{}: {e}", dir.display())))?;
    }
    if let Some(e) = unfinished {
        return Err(e);
    }
    Ok(if args.json {
        #[derive(serde::Serialize)]
        struct Output<'a> {
            settings: &'a crate::engine::Settings,
            /// The channel shape (one-way, one-way-http, request-reply, duplex).
            shape: &'static str,
            two_way: bool,
            link: &'a LinkConfig,
            seed: u64,
            #[serde(flatten)]
            report: &'a crate::sim::Report,
        }
        let out = Output {
            settings: &c.settings,
            shape: c.shape.name(),
            two_way: c.workload.two_way,
            link: &c.forward,
            seed: c.seed,
            report: &report,
        };
        let mut s = serde_json::to_string_pretty(&out).expect("report serialises");
        s.push('\n');
        s
    } else {
        format!("{}\n{}", c.settings.to_config_snippet(), report.to_text())
    })
}
