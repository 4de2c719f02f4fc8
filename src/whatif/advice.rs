//! Findings of a recording turned into advice with the model's numbers: what the recording
//! shows, the setting that would change it, and what the fitted model does with that setting
//! changed — next to what the same model does with the recorded one, so the difference is the
//! setting's alone.

use super::rerun::run_model_now;
use super::{Outcome, fit::Fitted};
use crate::analysis::SequenceSummary;
use crate::analysis::profile::Profile;
use crate::engine::Shape;
use crate::engine::settings::timespan;
use serde::Serialize;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Advice {
    /// The `<reliableSession>` attribute the advice is about.
    pub setting: &'static str,
    pub text: String,
    /// The setting's value proposed, when the advice proposes one.
    pub proposed: Option<String>,
    /// The measure the advice is about in the model with the recorded setting, and with the
    /// proposed one.
    pub model_now: Option<f64>,
    pub model_proposed: Option<f64>,
}

/// Share of the sends released by an ack for the sequence to count as window-limited.
const WINDOW_LIMITED: f64 = 0.5;

/// Advice for the recorded sequence `s`, fitted as `fitted`, whose model (the same seeds)
/// gave `model`. Runs the model again once per setting it proposes to change.
pub fn advise(s: &SequenceSummary, p: &Profile, fitted: &Fitted, model: &Outcome, seeds: u32) -> Vec<Advice> {
    let cfg = &fitted.config;
    let set = &cfg.settings;
    let mut out = Vec::new();
    let rtt = 2.0 * cfg.forward.delay.as_secs_f64();
    // Acks wait acknowledgementInterval unless asked (ReliableInputSessionChannel's ack
    // timer); over request-reply every message is answered at once and the interval unused.
    let interval = set.acknowledgement_interval.as_secs_f64();
    let uses_interval = matches!(cfg.shape, Shape::OneWayOverDuplex | Shape::Duplex);
    if let Some(rec) = s.ack_latency.as_ref().map(|l| l.median)
        && uses_interval
        && interval >= 0.5 * rec
        && rec >= 0.25 * interval
        && interval > 2.0 * rtt
    {
        // A few round trips, in whole 10 ms: acks still batch, but no longer dominate.
        let proposed = Duration::from_millis((((2.0 * rtt * 1e3) / 10.0).ceil() as u64 * 10).max(10));
        if proposed < set.acknowledgement_interval {
            let mut c = cfg.clone();
            c.settings.acknowledgement_interval = proposed;
            let after = run_model_now(&c, seeds)
                .ok()
                .and_then(|m| m.outcome.ack_latency_median);
            let now = model.ack_latency_median;
            let better = matches!((after, now), (Some(a), Some(n)) if a < 0.9 * n);
            if better {
                out.push(Advice {
                setting: "acknowledgementInterval",
                text: format!(
                    "acknowledgementInterval {} is most of the median ack latency ({:.0} ms) on this {:.1} ms link; {} gives {} instead of {} (model)",
                    ms(set.acknowledgement_interval.as_secs_f64()),
                    rec * 1e3,
                    rtt * 1e3 / 2.0,
                    ms(proposed.as_secs_f64()),
                    after.map_or("?".into(), ms),
                    now.map_or("?".into(), ms),
                ),
                proposed: Some(timespan(proposed)),
                model_now: now,
                model_proposed: after,
            });
            }
        }
    }
    let window = set.max_transfer_window_size;
    // A window-limited source sends the moment an ack frees a slot (TransmissionStrategy's
    // window: a new message waits while the window is full).
    let full = p.workload.sent_on_ack;
    // Two-way calls wait for their replies: one in flight, whatever the window.
    let calls = cfg.workload.two_way;
    if full >= WINDOW_LIMITED && !calls && window < 4096 && s.messages > u64::from(window) {
        let proposed = (window * 4).min(4096);
        let mut c = cfg.clone();
        c.settings.max_transfer_window_size = proposed;
        let after = run_model_now(&c, seeds).ok().map(|m| m.outcome.duration);
        // Only advice that the model bears out: a wider window that does not finish sooner
        // is not what holds the sequence back.
        if after.is_some_and(|a| a > 0.9 * model.duration) {
            let idle: f64 = p.workload.idle_periods.iter().map(|[_, l]| l).sum();
            out.push(Advice {
                setting: "maxTransferWindowSize",
                text: format!(
                    "the window is not what holds it back: with maxTransferWindowSize {proposed} the model takes {} ({} now){}",
                    after.map_or("?".into(), secs),
                    secs(model.duration),
                    if idle > 0.0 {
                        format!(
                            "; {} silences of a second or more ({} in all) wait for retransmissions",
                            p.workload.idle_periods.len(),
                            secs(idle)
                        )
                    } else {
                        String::new()
                    }
                ),
                proposed: None,
                model_now: Some(model.duration),
                model_proposed: after,
            });
        } else {
            out.push(Advice {
            setting: "maxTransferWindowSize",
            text: format!(
                "window-limited: {:.0} % of the messages waited for an ack to free one of the {window} slots; maxTransferWindowSize {proposed} finishes in {} instead of {} (model)",
                full * 100.0,
                after.map_or("?".into(), secs),
                secs(model.duration)
            ),
            proposed: Some(proposed.to_string()),
            model_now: Some(model.duration),
            model_proposed: after,
        });
        }
    }
    // The session faults after inactivityTimeout without a message from the other end
    // (ChannelReliableSession's inactivity timer).
    let it = set.inactivity_timeout.as_secs_f64();
    if s.longest_silence > 0.0 && it - s.longest_silence <= 10.0f64.max(0.1 * it) {
        out.push(Advice {
            setting: "inactivityTimeout",
            text: format!(
                "the longest silence, {}, is within {} of inactivityTimeout {}: a little longer and the session faults",
                secs(s.longest_silence),
                secs((it - s.longest_silence).max(0.0)),
                secs(it)
            ),
            proposed: None,
            model_now: None,
            model_proposed: None,
        });
    }
    // One message resent nearly maxRetryCount times: a little more loss faults the session
    // (TransmissionStrategy.OnRetryElapsed faults after the last retry).
    let most = s
        .retransmission_details
        .iter()
        .map(|r| u32::from(r.copy))
        .max()
        .unwrap_or(0);
    if s.faults == 0 && most > 0 && most + 1 >= set.max_retry_count {
        out.push(Advice {
            setting: "maxRetryCount",
            text: format!(
                "one message needed {most} retransmissions of maxRetryCount {}: a little more loss and the session faults",
                set.max_retry_count
            ),
            proposed: Some((set.max_retry_count * 2).to_string()),
            model_now: None,
            model_proposed: None,
        });
    }
    out
}

fn ms(s: f64) -> String {
    format!("{:.0} ms", s * 1e3)
}

fn secs(s: f64) -> String {
    if s >= 10.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.2} s")
    }
}
