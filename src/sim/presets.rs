//! Teaching presets: one click each, with a line saying what to watch.

use super::{SimConfig, Workload};
use crate::engine::Shape;
use crate::netsim::{DropRule, GilbertElliott, LinkConfig};
use crate::trace::Time;
use crate::wsrm::RmVersion;
use std::time::Duration;

pub struct Preset {
    pub name: &'static str,
    /// What to look at, in one line.
    pub explain: &'static str,
    pub build: fn() -> SimConfig,
}

fn base(messages: u64, rate: f64) -> SimConfig {
    SimConfig {
        workload: Workload {
            messages,
            rate: Some(rate),
            ..Workload::default()
        },
        ..SimConfig::default()
    }
}

/// `n` two-way calls of a binding's shape over a 20 ms link each way, the operation taking
/// `service_ms`.
fn calls(shape: Shape, n: u64, service_ms: u64) -> SimConfig {
    let link = LinkConfig {
        delay: Duration::from_millis(20),
        ..LinkConfig::default()
    };
    SimConfig {
        shape,
        workload: Workload {
            messages: n,
            two_way: true,
            service_time: Duration::from_millis(service_ms),
            ..Workload::default()
        },
        forward: link.clone(),
        backward: link,
        ..SimConfig::default()
    }
}

fn lossy(loss: f64) -> LinkConfig {
    LinkConfig {
        loss,
        ..LinkConfig::default()
    }
}

/// The live default: WCF defaults over a link that loses 5 % each way.
pub fn live_default() -> SimConfig {
    let mut c = base(2000, 20.0);
    c.forward = lossy(0.05);
    c.backward = lossy(0.05);
    c
}

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "Single loss",
        explain: "Message 5 is lost once: the timer fires after max(400 ms + RTT, 3·RTT), only the oldest message is resent, the window drops to 1.",
        build: || {
            let mut c = base(30, 5.0);
            c.forward_script = vec![DropRule::Message {
                number: 5,
                attempt: 0,
            }];
            c
        },
    },
    Preset {
        name: "Burst loss",
        explain: "Losses come in bursts of ~5: several messages of one window vanish; the timer resends the oldest, later acks drive the rest.",
        build: || {
            let mut c = base(200, 20.0);
            let burst = LinkConfig {
                burst: Some(GilbertElliott::from_mean(0.08, 5.0)),
                ..LinkConfig::default()
            };
            c.forward = burst.clone();
            c.backward = burst;
            c
        },
    },
    Preset {
        name: "Ack batching",
        explain: "acknowledgementInterval 0.5 s on a 200 ms round trip: messages that do not fill the window wait for the ack timer; acks cover several messages.",
        build: || {
            let mut c = base(60, 8.0);
            c.settings.acknowledgement_interval = Duration::from_millis(500);
            c.settings.max_transfer_window_size = 32;
            c.forward.delay = Duration::from_millis(100);
            c.backward.delay = Duration::from_millis(100);
            c
        },
    },
    Preset {
        name: "Receiver buffer full",
        explain: "The application takes 2 messages/s: BufferRemaining falls to 0, the source stops, and each message taken brings a fresh ack.",
        build: || {
            let mut c = base(40, 20.0);
            c.workload.consume_rate = Some(2.0);
            c
        },
    },
    Preset {
        name: "Retry exhaustion",
        explain: "Every copy of message 5 is lost: 1 + maxRetryCount (4) sends, the timeout doubling each time, then SequenceTerminated.",
        build: || {
            let mut c = base(10, 5.0);
            c.settings.max_retry_count = 4;
            c.forward_script = vec![DropRule::AllOf { number: 5 }];
            c
        },
    },
    Preset {
        name: "Inactivity timeout",
        explain: "The link goes dead at 3 s: keep-alive AckRequested at inactivityTimeout/2, then every inactivityTimeout/(2·maxRetryCount), then the inactivity fault.",
        build: || {
            // Ten messages, then the session idles open (no close) while the link dies.
            let mut c = base(10, 5.0);
            c.workload.close = false;
            c.settings.inactivity_timeout = Duration::from_secs(20);
            c.settings.max_retry_count = 20;
            let outage = DropRule::Outage {
                from: Time::from_secs(3),
                until: Time::from_secs(100_000),
            };
            c.forward_script = vec![outage.clone()];
            c.backward_script = vec![outage];
            c
        },
    },
    Preset {
        name: "Unordered delivery",
        explain: "ordered=false with reordering: messages reach the application as they arrive; ack ranges have holes until the gaps fill.",
        build: || {
            let mut c = base(200, 20.0);
            c.settings.ordered = false;
            let link = LinkConfig {
                loss: 0.03,
                reorder: 0.2,
                jitter: Duration::from_millis(30),
                ..LinkConfig::default()
            };
            c.forward = link.clone();
            c.backward = link;
            c
        },
    },
    Preset {
        name: "maxPendingChannels refusal",
        explain: "Six clients, a service that accepts none (maxPendingChannels 4): the 5th and 6th CreateSequence are refused with ConnectionLimitReached.",
        build: || {
            let mut c = base(5, 2.0);
            c.workload.sessions = 6;
            c.workload.accept = false;
            c.time_limit = Duration::from_secs(30);
            c
        },
    },
    Preset {
        name: "One-way over HTTP",
        explain: "The request-reply channel pair: no AckRequested, every message answered with its own ack; when BufferRemaining reaches 0 the service cannot tell the client it has room, so the client waits for its 30 s poll.",
        build: || {
            let mut c = base(40, 20.0);
            c.shape = crate::engine::Shape::OneWayOverRequest;
            c.workload.consume_rate = Some(2.0);
            c
        },
    },
    Preset {
        name: "wsHttpBinding",
        explain: "Request-reply: the client offers the reply sequence; each reply carries the ack of its request, nobody sends AckRequested. Reply 3 is lost: nothing moves until the client resends request 3, which fetches the kept reply — the service never sends on its own.",
        build: || {
            let mut c = calls(Shape::RequestReply, 10, 30);
            c.backward_script = vec![DropRule::Message {
                number: 3,
                attempt: 0,
            }];
            c
        },
    },
    Preset {
        name: "ws2007HttpBinding",
        explain: "WS-RM 1.1 request-reply: at close the client's CloseSequence and TerminateSequence carry its Final ack of the replies; the reply sequence is never closed or terminated of its own.",
        build: || {
            let mut c = calls(Shape::RequestReply, 10, 30);
            c.settings.reliable_messaging_version = RmVersion::V1_1;
            c
        },
    },
    Preset {
        name: "netTcpBinding",
        explain: "Duplex: acks ride on the other sequence's messages; only the first message each way asks for an ack. Reply 2 is lost: the service resends it after its first timeout of 6 s — it never measured a round trip, so it assumes 2 s.",
        build: || {
            let mut c = calls(Shape::Duplex, 10, 30);
            c.backward_script = vec![DropRule::Message {
                number: 2,
                attempt: 0,
            }];
            c
        },
    },
    Preset {
        name: "wsDualHttpBinding",
        explain: "Composite duplex, the service POSTing replies to the client's own address. The operation takes 300 ms, longer than acknowledgementInterval (200 ms): each request is acknowledged alone at 200 ms and its reply follows without an ack.",
        build: || calls(Shape::Duplex, 10, 300),
    },
    Preset {
        name: "WS-RM 1.1 close",
        explain: "WS-RM 1.1: after the last ack, CloseSequence/Response (with a Final ack), then TerminateSequence/Response.",
        build: || {
            let mut c = base(10, 5.0);
            c.settings.reliable_messaging_version = RmVersion::V1_1;
            c
        },
    },
];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name) || slug(p.name) == name)
}

/// "Single loss" → "single-loss".
pub fn slug(name: &str) -> String {
    name.to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Simulation;
    use crate::trace::FaultCause;

    fn run(name: &str) -> crate::sim::Report {
        let mut c = (find(name).unwrap().build)();
        c.record = false;
        Simulation::new(c).unwrap().run()
    }

    #[test]
    fn every_preset_is_valid_and_shows_its_point() {
        for p in PRESETS {
            assert!((p.build)().validate().is_ok(), "{}", p.name);
        }
        assert_eq!(run("single-loss").retransmissions, 1);
        assert!(run("burst-loss").retransmissions > 3);
        let full = run("receiver-buffer-full");
        assert_eq!(full.delivered, 40);
        let r = run("retry-exhaustion");
        assert!(
            r.faults
                .iter()
                .any(|f| f.cause == FaultCause::MaxRetryCountExceeded)
        );
        let r = run("inactivity-timeout");
        assert!(
            r.faults.iter().any(|f| f.cause == FaultCause::InactivityTimeout),
            "{:?}",
            r.faults
        );
        let r = run("unordered-delivery");
        assert_eq!((r.delivered, r.delivered_twice), (200, 0));
        let r = run("maxpendingchannels-refusal");
        assert_eq!((r.sessions_opened, r.sessions_refused), (4, 2));
        assert!(run("ws-rm-1.1-close").faults.is_empty());
        for (name, resent) in [
            ("wshttpbinding", 1),
            ("ws2007httpbinding", 0),
            ("nettcpbinding", 1),
            ("wsdualhttpbinding", 0),
        ] {
            let r = run(name);
            assert_eq!(
                (r.delivered, r.replies, r.reply_retransmissions),
                (10, 10, resent),
                "{name}"
            );
            assert!(r.faults.is_empty(), "{name}: {:?}", r.faults);
        }
        // Over dual HTTP with a slow operation every request's ack goes alone; the replies
        // carry none (each covers what the standalone ack already said).
        let r = run("wsdualhttpbinding");
        assert!(r.acks >= 10, "{r:?}");
        assert_eq!(slug("WS-RM 1.1 close"), "ws-rm-1.1-close");
    }
}
