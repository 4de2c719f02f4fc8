//! Calibration of the re-run (issue 16 §2): sessions the pair itself produced — saved as a
//! capture taken on the client's host, or as the client's WCF message log — give back the
//! settings they ran with, and the model fitted to the recording (its losses replayed)
//! finishes within 10 % of the recording's time with a retransmission count within 10 % of the
//! recording's.

use rmscope::analysis::profile::{self, Certainty};
use rmscope::capture::export::{self, Framing, HttpLayout};
use rmscope::capture::writer::Format;
use rmscope::cli::analyze::{load_files, load_logs};
use rmscope::engine::Shape;
use rmscope::sim::{SimConfig, Simulation};
use rmscope::whatif::{Outcome, fit, rerun};
use rmscope::wsrm::RmVersion;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
enum Saved {
    Pcap,
    NetTcpPcap,
    ClientLog,
}

/// Runs `cfg`, saves it as `how` in `dir` and reads it back: (timeline, analysis).
fn record(
    cfg: &SimConfig,
    how: Saved,
    dir: &Path,
) -> (rmscope::trace::Timeline, rmscope::analysis::Analysis) {
    let mut sim = Simulation::new(cfg.clone()).unwrap();
    sim.run();
    let inactivity = Duration::from_secs(600);
    match how {
        Saved::Pcap | Saved::NetTcpPcap => {
            let path = dir.join("rec.pcap");
            let seen = sim.timeline().seen_at(0);
            let framing = match how {
                Saved::NetTcpPcap => Framing::NetTcp,
                _ => Framing::Http(cfg.soap),
            };
            let layout = HttpLayout {
                replies_on_responses: cfg.shape == Shape::RequestReply,
                ..HttpLayout::default()
            };
            let file = std::fs::File::create(&path).unwrap();
            export::write_session_with(&seen, sim.payloads(), framing, layout, file, Format::Pcap).unwrap();
            let (d, a) = load_files(&[path], inactivity).unwrap();
            (d.timeline, a)
        }
        Saved::ClientLog => {
            let paths = rmscope::svclog::write::write_logs(sim.timeline(), sim.payloads(), dir).unwrap();
            // The client's log alone: what its host saw, as the capture there.
            let client: PathBuf = paths[0].clone();
            let (d, a) = load_logs(&[client], inactivity).unwrap();
            (d.timeline, a)
        }
    }
}

fn within(what: &str, recorded: f64, model: f64, tolerance: f64) {
    let ok = if recorded == 0.0 {
        model <= 1.0
    } else {
        ((model - recorded) / recorded).abs() <= tolerance
    };
    assert!(ok, "{what}: recorded {recorded}, model {model}");
}

struct Case {
    name: &'static str,
    cfg: SimConfig,
    how: Saved,
}

fn base(window: u32, interval_ms: u64, loss: f64, delay_ms: u64, messages: u64) -> SimConfig {
    let mut c = SimConfig::default();
    c.settings.max_transfer_window_size = window;
    c.settings.acknowledgement_interval = Duration::from_millis(interval_ms);
    c.forward.delay = Duration::from_millis(delay_ms);
    c.backward.delay = Duration::from_millis(delay_ms);
    c.forward.loss = loss;
    // Loss on the way to the service: a lost message. (Lost acks are not in a capture at the
    // client; the model replays every resent copy as a lost message — see the closing note
    // of issue 16 for what that costs when acks are lost too.)
    c.backward.loss = 0.0;
    c.workload.messages = messages;
    c
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for seed in [3, 11] {
        let mut one_way = base(16, 50, 0.03, 20, 2000);
        one_way.seed = seed;
        out.push(Case {
            name: "one-way, window 16, 50 ms, 3 % loss, HTTP capture",
            cfg: one_way,
            how: Saved::Pcap,
        });
        let mut default_window = base(8, 200, 0.05, 5, 1500);
        default_window.seed = seed;
        out.push(Case {
            name: "one-way, defaults, 5 % loss, client log",
            cfg: default_window,
            how: Saved::ClientLog,
        });
        let mut paced = base(32, 100, 0.01, 10, 1500);
        paced.workload.rate = Some(100.0);
        paced.seed = seed;
        out.push(Case {
            name: "one-way paced at 100/s, window 32, 100 ms, 1 % loss, HTTP capture",
            cfg: paced,
            how: Saved::Pcap,
        });
        let mut v11 = base(4, 30, 0.02, 3, 1500);
        v11.settings.reliable_messaging_version = RmVersion::V1_1;
        v11.seed = seed;
        out.push(Case {
            name: "WS-RM 1.1, window 4, 30 ms, 2 % loss, client log",
            cfg: v11,
            how: Saved::ClientLog,
        });
        let mut rr = base(8, 200, 0.03, 5, 600);
        rr.shape = Shape::RequestReply;
        rr.workload.two_way = true;
        rr.workload.service_time = Duration::from_millis(10);
        rr.seed = seed;
        out.push(Case {
            name: "wsHttpBinding request-reply, 10 ms operations, 3 % loss, HTTP capture",
            cfg: rr,
            how: Saved::Pcap,
        });
        let mut duplex = base(8, 200, 0.02, 5, 600);
        duplex.shape = Shape::Duplex;
        duplex.workload.two_way = true;
        duplex.seed = seed;
        out.push(Case {
            name: "netTcpBinding duplex, 2 % loss, net.tcp capture",
            cfg: duplex,
            how: Saved::NetTcpPcap,
        });
    }
    out
}

#[test]
fn recordings_of_the_pair_give_back_their_settings_and_a_model_within_ten_percent() {
    for case in cases() {
        let dir = tempfile::tempdir().unwrap();
        let what = format!("{} (seed {})", case.name, case.cfg.seed);
        let (t, a) = record(&case.cfg, case.how, dir.path());
        let s = rerun::client_sequence(&a).unwrap_or_else(|| panic!("{what}: no sequence"));
        let p = profile::profile(&t, s);
        let fitted = fit::fit(&t, s, &p);
        let got = &fitted.config;
        let want = &case.cfg;

        // The settings back.
        assert_eq!(got.shape, want.shape, "{what}: shape");
        assert_eq!(
            got.settings.reliable_messaging_version, want.settings.reliable_messaging_version,
            "{what}: version"
        );
        assert_eq!(
            got.settings.flow_control_enabled, want.settings.flow_control_enabled,
            "{what}"
        );
        let window = p
            .settings
            .iter()
            .find(|s| s.setting == "maxTransferWindowSize")
            .unwrap();
        if window.certainty == Certainty::Likely {
            assert_eq!(
                got.settings.max_transfer_window_size, want.settings.max_transfer_window_size,
                "{what}: window"
            );
        }
        let interval = p
            .settings
            .iter()
            .find(|s| s.setting == "acknowledgementInterval")
            .unwrap();
        if interval.certainty == Certainty::Estimate {
            let (g, w) = (
                got.settings.acknowledgement_interval.as_secs_f64(),
                want.settings.acknowledgement_interval.as_secs_f64(),
            );
            assert!((g - w).abs() <= 0.1 * w + 0.002, "{what}: interval {g} for {w}");
        } else {
            // Request-reply answers every request at once; duplex calls' acks ride on replies.
            assert!(want.workload.two_way, "{what}: interval not shown");
        }
        assert_eq!(got.workload.messages, want.workload.messages, "{what}: messages");
        assert_eq!(got.workload.two_way, want.workload.two_way, "{what}: two-way");
        assert_eq!(
            got.workload.rate.is_some(),
            want.workload.rate.is_some(),
            "{what}: pacing"
        );
        let rtt = 2.0 * got.forward.delay.as_secs_f64();
        let true_rtt = 2.0 * want.forward.delay.as_secs_f64();
        assert!(
            (rtt - true_rtt).abs() <= 0.1 * true_rtt,
            "{what}: rtt {rtt} for {true_rtt}"
        );

        // The model against the recording.
        let recorded = Outcome::of(s);
        let model = rerun::run_model_now(got, 16).unwrap().outcome;
        within(
            &format!("{what}: duration"),
            recorded.duration,
            model.duration,
            0.10,
        );
        within(
            &format!("{what}: retransmissions"),
            recorded.retransmissions,
            model.retransmissions,
            0.10,
        );
        assert_eq!(model.faults, 0.0, "{what}");
    }
}
