//! The embedded pair fitted to a recorded sequence: the settings its profile inferred (WCF's
//! defaults where the traffic does not show one, or shows only a floor the default clears), a
//! link of the measured round trip and loss, and the recorded workload. Every value says where
//! it came from.

use crate::analysis::SequenceSummary;
use crate::analysis::profile::{Certainty, Inferred, Profile};
use crate::engine::{Settings, Shape};
use crate::netsim::DropRule;
use crate::sim::{SimConfig, Simulation};
use crate::trace::{Timeline, WireKind};
use crate::wsrm::RmVersion;
use serde::Serialize;
use std::time::Duration;

#[derive(Clone, Debug, Serialize)]
pub struct Fitted {
    /// The model: the recording's losses replayed (the same copies of the same messages lost).
    pub config: SimConfig,
    /// The forward link's loss rate the recording shows, for models with random loss instead
    /// (sweeps, what-if on the loss).
    pub loss_rate: f64,
    /// (what, value, where it came from), for the panel and `profile --simulate`.
    pub basis: Vec<Basis>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Basis {
    pub what: &'static str,
    pub value: String,
    pub from: String,
}

/// Share of sends released by an ack above which the sender counts as held back by the
/// window (and the model sends as fast as the window allows).
const HELD_BACK: f64 = 0.5;

/// The round trip assumed when the recording measured none.
const UNMEASURED_RTT: f64 = 0.002;

fn setting<'a>(p: &'a Profile, name: &str) -> Option<&'a Inferred> {
    p.settings.iter().find(|s| s.setting == name)
}

/// The number at the start of a profile value: "200 ms" → 0.2, "600.0 s" → 600, "8" → 8.
fn number(value: &str) -> Option<f64> {
    let mut parts = value.split_whitespace();
    let n: f64 = parts.next()?.parse().ok()?;
    Some(match parts.next() {
        Some("ms") => n / 1e3,
        _ => n,
    })
}

/// A count the profile gives exactly, likely or as an estimate; a floor is raised to WCF's
/// default when the default clears it (the traffic cannot tell them apart).
fn count(p: &Profile, name: &str, default: u32, basis: &mut Vec<Basis>, what: &'static str) -> u32 {
    let Some(s) = setting(p, name) else {
        return default;
    };
    let n = number(&s.value).map(|n| n.round().clamp(1.0, f64::from(u32::MAX)) as u32);
    let (v, from) = match (s.certainty, n) {
        (Certainty::AtLeast, Some(n)) if n <= default => (
            default,
            format!("WCF's default ({}; the traffic shows {n} or more)", default),
        ),
        (Certainty::Unknown, _) | (_, None) => (default, "WCF's default (not shown)".into()),
        (_, Some(n)) => (n, s.evidence.clone()),
    };
    basis.push(Basis {
        what,
        value: v.to_string(),
        from,
    });
    v
}

/// The shape the profile names ("request-reply (wsHttpBinding)", "one-way over HTTP …").
fn shape(p: &Profile) -> Shape {
    let v = setting(p, "session shape").map_or("", |s| s.value.as_str());
    if v.starts_with("request-reply") {
        Shape::RequestReply
    } else if v.starts_with("duplex") {
        Shape::Duplex
    } else if v.starts_with("one-way over HTTP") {
        Shape::OneWayOverRequest
    } else {
        Shape::OneWayOverDuplex
    }
}

/// Bytes of an envelope around an application body in the model's dialect (its headers), so
/// the model sends bodies that make envelopes of the recorded size.
fn envelope_overhead(cfg: &SimConfig) -> u32 {
    let mut probe = cfg.clone();
    probe.workload = crate::sim::Workload {
        messages: 1,
        body_size: 0,
        two_way: false,
        ..crate::sim::Workload::default()
    };
    probe.forward = Default::default();
    probe.backward = Default::default();
    probe.record = true;
    let Ok(mut sim) = Simulation::new(probe) else {
        return 0;
    };
    sim.run();
    sim.timeline()
        .wires
        .iter()
        .find(|w| w.kind == WireKind::Data)
        .map_or(0, |w| w.size)
}

/// The most recorded losses a model replays.
pub const MAX_REPLAYED: usize = 100_000;

/// The recording's losses as drop rules of the model's forward link: a copy sent again
/// before any ack covered it was lost (one capture cannot tell a lost message from a lost
/// ack; either way the source resent it when its timer ran out). A copy resent after an ack
/// had covered it got through — its ack was late — and is not replayed as a loss.
fn replayed_losses(t: &Timeline, s: &SequenceSummary) -> Vec<DropRule> {
    let mut copies: rustc_hash::FxHashMap<u64, u32> = rustc_hash::FxHashMap::default();
    let mut acked = crate::ranges::Ranges::new();
    let mut out = Vec::new();
    for w in &t.wires {
        if t.ack_seq(&w) == s.index
            && w.flags.has(crate::trace::WireFlags::HAS_ACK)
            && !w.flags.has(crate::trace::WireFlags::NACK)
        {
            for r in t.ack_ranges(&w) {
                acked.insert_range(r.lower.get(), r.upper.get());
            }
        }
        if w.seq != s.index || !w.kind.is_sequenced() || t.side_for(&w, s.index) != crate::trace::Side::Source
        {
            continue;
        }
        let k = copies.entry(w.number).or_insert(0);
        if *k > 0 && !acked.contains(w.number) && out.len() < MAX_REPLAYED {
            out.push(DropRule::Message {
                number: w.number,
                attempt: *k - 1,
            });
        }
        *k += 1;
    }
    out
}

/// The model of sequence `s` of `t`, whose profile is `p`.
pub fn fit(t: &Timeline, s: &SequenceSummary, p: &Profile) -> Fitted {
    let mut basis = Vec::new();
    let d = Settings::default();
    let version = match s.version {
        Some("1.1") => RmVersion::V1_1,
        _ => RmVersion::Feb2005,
    };
    let flow = setting(p, "flowControlEnabled").is_none_or(|f| f.value != "false");
    let window = count(
        p,
        "maxTransferWindowSize",
        d.max_transfer_window_size,
        &mut basis,
        "maxTransferWindowSize",
    )
    .min(4096);
    let retries = count(p, "maxRetryCount", d.max_retry_count, &mut basis, "maxRetryCount");
    let interval = setting(p, "acknowledgementInterval")
        .filter(|s| s.certainty != Certainty::Unknown)
        .and_then(|s| number(&s.value).map(|n| (n, s.evidence.clone())))
        .filter(|(n, _)| *n > 0.0);
    let acknowledgement_interval = match interval {
        Some((n, from)) => {
            // Rounded to the millisecond, as the profile prints it.
            basis.push(Basis {
                what: "acknowledgementInterval",
                value: format!("{:.0} ms", n * 1e3),
                from,
            });
            Duration::from_millis((n * 1e3).round().max(1.0) as u64)
        }
        None => {
            basis.push(Basis {
                what: "acknowledgementInterval",
                value: "200 ms".into(),
                from: "WCF's default (not shown)".into(),
            });
            d.acknowledgement_interval
        }
    };
    let inactivity = setting(p, "inactivityTimeout")
        .and_then(|s| number(&s.value).map(|n| (n, s.certainty)))
        .map_or(d.inactivity_timeout, |(n, c)| match c {
            Certainty::Estimate => Duration::from_secs_f64(n.max(1.0)),
            // A floor: the default when it clears it.
            _ => d.inactivity_timeout.max(Duration::from_secs_f64(n.ceil())),
        });
    basis.push(Basis {
        what: "inactivityTimeout",
        value: crate::engine::settings::timespan(inactivity),
        from: setting(p, "inactivityTimeout").map_or(String::new(), |s| s.evidence.clone()),
    });
    let settings = Settings {
        acknowledgement_interval,
        flow_control_enabled: flow,
        inactivity_timeout: inactivity,
        max_retry_count: retries,
        max_transfer_window_size: window,
        reliable_messaging_version: version,
        ..d
    };
    let shape = shape(p);
    basis.push(Basis {
        what: "session shape",
        value: shape.name().into(),
        from: setting(p, "session shape").map_or(String::new(), |s| s.evidence.clone()),
    });

    // The link: half the median round trip each way; the copies no ack covered in time are
    // the forward link's loss (one capture cannot tell a lost message from a lost ack, and
    // acks are cumulative: a lost one rarely costs a retransmission).
    let rtt = p.link.rtt.as_ref().map(|r| r.median);
    let one_way = Duration::from_secs_f64(rtt.unwrap_or(UNMEASURED_RTT) / 2.0);
    let replay = replayed_losses(t, s);
    let loss = if s.transmissions > 0 {
        (p.link.unacknowledged_copies as f64 / s.transmissions as f64).min(0.9)
    } else {
        0.0
    };
    basis.push(Basis {
        what: "link delay",
        value: format!("{:.3} ms each way", one_way.as_secs_f64() * 1e3),
        from: match rtt {
            Some(r) => format!("half the median round trip, {:.3} ms", r * 1e3),
            None => format!("no round trip measured: {:.0} ms assumed", UNMEASURED_RTT * 1e3),
        },
    });
    basis.push(Basis {
        what: "link loss",
        value: format!(
            "{} copies lost, as recorded ({:.2} % of the copies)",
            replay.len(),
            loss * 100.0
        ),
        from: format!(
            "every copy resent before an ack covered it is lost again, forward ({} of {} copies; {} resent after an ack are not)",
            p.link.unacknowledged_copies, s.transmissions, p.link.spurious_retransmissions
        ),
    });

    let mut cfg = SimConfig {
        settings,
        soap: match s.soap {
            Some("1.1") => crate::wsrm::SoapVersion::V1_1,
            _ => crate::wsrm::SoapVersion::V1_2,
        },
        shape,
        record: true,
        ..SimConfig::default()
    };
    cfg.forward.delay = one_way;
    cfg.backward.delay = one_way;
    cfg.forward.loss = 0.0;
    cfg.backward.loss = 0.0;
    cfg.forward_script = replay;

    // The workload: the recorded messages at the recorded pace when the sender was not held
    // back by the window (else as fast as the window allows), of the recorded size.
    let w = &p.workload;
    // Held back by the window: most sends left the instant an ack freed a slot.
    let paced = w.sent_on_ack < HELD_BACK && w.offered_rate > 0.0;
    let two_way = shape.offers()
        && t.replies
            .iter()
            .any(|&(_, q)| t.wires.get(q as usize).is_some_and(|q| q.seq == s.index));
    cfg.workload.messages = w.application_messages;
    cfg.workload.rate = paced.then_some(w.offered_rate);
    cfg.workload.two_way = two_way;
    cfg.workload.service_time = Duration::from_secs_f64(w.service_time.unwrap_or(0.0));
    cfg.workload.close = s.closed || s.terminated;
    let overhead = envelope_overhead(&cfg);
    cfg.workload.body_size = (w.mean_size as u32).saturating_sub(overhead) as usize;
    cfg.workload.reply_size = cfg.workload.body_size.min(4096);
    basis.push(Basis {
        what: "workload",
        value: format!(
            "{} messages, {} B bodies{}{}",
            w.application_messages,
            cfg.workload.body_size,
            match cfg.workload.rate {
                Some(r) => format!(", {r:.1} msg/s"),
                None => ", as fast as the window allows".into(),
            },
            if two_way {
                format!(
                    ", two-way calls, {:.1} ms operations",
                    cfg.workload.service_time.as_secs_f64() * 1e3
                )
            } else {
                String::new()
            }
        ),
        from: format!(
            "mean envelope {:.0} B less the model's {overhead} B of headers; {}",
            w.mean_size,
            if paced {
                format!(
                    "{:.0} % of sends followed an ack at once: paced by the application",
                    w.sent_on_ack * 100.0
                )
            } else {
                format!(
                    "{:.0} % of sends followed an ack at once: held back by the window",
                    w.sent_on_ack * 100.0
                )
            }
        ),
    });
    Fitted {
        config: cfg,
        loss_rate: loss,
        basis,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_values_read_back_as_numbers() {
        assert_eq!(number("200 ms"), Some(0.2));
        assert_eq!(number("600.000 s"), Some(600.0));
        assert_eq!(number("8"), Some(8.0));
        assert_eq!(number("?"), None);
    }
}
