//! `rmscope profile`: sessions the pair itself produced give back the settings they ran with,
//! as far as the traffic shows them; the real WCF logs give what their SOURCES.md describes.

mod common;

use rmscope::analysis::{self, profile::Certainty, profile::Profile};
use rmscope::capture::{self, export};
use rmscope::sim::SimConfig;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

fn profiles_of(path: &Path) -> Vec<Profile> {
    let data = capture::read_file(path, &mut |_| {}, &AtomicBool::new(false)).unwrap();
    let a = analysis::analyze(&data.timeline, &analysis::Options::default());
    a.sequences
        .iter()
        .map(|s| analysis::profile::profile(&data.timeline, s))
        .collect()
}

fn setting<'a>(p: &'a Profile, name: &str) -> (&'a str, Certainty) {
    let s = p
        .settings
        .iter()
        .find(|s| s.setting == name)
        .unwrap_or_else(|| panic!("no {name}"));
    (s.value.as_str(), s.certainty)
}

fn session(window: u32, interval_ms: u64, flow_control: bool, seed: u64) -> SimConfig {
    let mut c = SimConfig::default();
    c.settings.max_transfer_window_size = window;
    c.settings.acknowledgement_interval = Duration::from_millis(interval_ms);
    c.settings.flow_control_enabled = flow_control;
    c.forward.delay = Duration::from_millis(10);
    c.backward.delay = Duration::from_millis(10);
    c.forward.loss = 0.02;
    c.workload.messages = 300;
    c.workload.rate = Some(30.0);
    c.seed = seed;
    c
}

#[test]
fn simulated_sessions_give_back_their_settings() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (window, interval, flow)) in [(4, 50, true), (16, 120, true), (8, 200, false), (32, 80, true)]
        .into_iter()
        .enumerate()
    {
        let path = dir.path().join(format!("s{i}.pcap"));
        common::simulated_http_pcap(
            session(window, interval, flow, 7 + i as u64),
            export::HttpLayout::default(),
            &path,
        );
        let p = &profiles_of(&path)[0];
        let what = format!("window {window}, interval {interval} ms, flow control {flow}");
        assert_eq!(
            setting(p, "reliableMessagingVersion"),
            ("WSReliableMessagingFebruary2005", Certainty::Exact),
            "{what}"
        );
        if flow {
            assert_eq!(
                setting(p, "flowControlEnabled"),
                ("true", Certainty::Exact),
                "{what}"
            );
            assert_eq!(
                setting(p, "maxTransferWindowSize"),
                (&*window.to_string(), Certainty::Likely),
                "{what}"
            );
        } else {
            assert_eq!(
                setting(p, "flowControlEnabled"),
                ("false", Certainty::Likely),
                "{what}"
            );
            assert_eq!(
                setting(p, "maxTransferWindowSize").1,
                Certainty::AtLeast,
                "{what}"
            );
        }
        let (value, certainty) = setting(p, "acknowledgementInterval");
        assert_eq!(certainty, Certainty::Estimate, "{what}: {value}");
        let ms: f64 = value.trim_end_matches(" ms").parse().unwrap();
        assert!((ms - interval as f64).abs() <= 10.0, "{what}: estimated {value}");
        // The export stamps each copy when it is sent, so an AckRequested's answer comes one
        // link delay (10 ms) after the request.
        let rtt = p.link.rtt.as_ref().expect("round trips");
        assert!((rtt.median - 0.010).abs() < 0.002, "{what}: {rtt:?}");
        // 300 application messages and 2005/02's closing LastMessage.
        assert_eq!(p.workload.messages, 301);
        // The application offers 30 per second; the window stalls behind losses.
        let rate = p.workload.send_rate;
        assert!(rate <= 30.5 && rate > 10.0, "{what}: {:?}", p.workload);
        assert!(
            p.link.retransmissions > 0
                && p.link.retransmissions == p.link.unacknowledged_copies + p.link.spurious_retransmissions
        );
        let (retries, c) = setting(p, "maxRetryCount");
        assert_eq!(c, Certainty::AtLeast);
        assert!(retries.parse::<u32>().unwrap() >= 1);
        assert_eq!(
            setting(p, "session shape").0,
            "one-way over a duplex channel",
            "{what}"
        );
    }
}

#[test]
fn a_lossless_session_shows_the_offered_rate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lossless.pcap");
    let mut c = session(8, 200, true, 1);
    c.forward.loss = 0.0;
    common::simulated_http_pcap(c, export::HttpLayout::default(), &path);
    let p = &profiles_of(&path)[0];
    assert!((p.workload.send_rate - 30.0).abs() < 0.1, "{:?}", p.workload);
    assert_eq!(p.link.retransmissions, 0);
    // Between messages 1/30 s; the longest wait is the close's, for the last ack (the
    // destination's acknowledgementInterval, 0.2 s, after the last message).
    assert!((0.2..0.25).contains(&p.workload.longest_idle), "{:?}", p.workload);
}

#[test]
fn acks_on_http_responses_hide_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replies.pcap");
    let layout = export::HttpLayout {
        reconnect_every: 10,
        acks_on_responses: true,
        replies_on_responses: false,
    };
    common::simulated_http_pcap(session(8, 200, true, 3), layout, &path);
    let p = &profiles_of(&path)[0];
    assert_eq!(
        setting(p, "session shape"),
        ("one-way over HTTP request-reply", Certainty::Likely)
    );
    assert_eq!(setting(p, "acknowledgementInterval"), ("?", Certainty::Unknown));
    assert_eq!(setting(p, "maxTransferWindowSize"), ("8", Certainty::Likely));
}

#[test]
fn real_wcf_logs_profile_as_their_sources_say() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    // SOURCES.md: a duplex net.tcp session (two sequences, WCF's defaults, a real resend of
    // request #1 answered by a standalone ack).
    let out = Command::new(env!("CARGO_BIN_EXE_rmscope"))
        .arg("profile")
        .arg("--json")
        .arg(dir.join("wcf-svclog-nettcp-rm10-secureconv-messages.svclog"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let profiles = v.as_array().unwrap();
    assert_eq!(profiles.len(), 2);
    for p in profiles {
        let get = |name: &str| {
            let s = p["settings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["setting"] == name)
                .unwrap();
            (
                s["value"].as_str().unwrap().to_string(),
                s["certainty"].as_str().unwrap().to_string(),
            )
        };
        assert_eq!(
            get("reliableMessagingVersion").0,
            "WSReliableMessagingFebruary2005"
        );
        assert_eq!(get("flowControlEnabled"), ("true".into(), "exact".into()));
        assert_eq!(get("maxTransferWindowSize").0, "8");
        // The offer accepted makes it one session; the client asked for acks: duplex.
        assert_eq!(
            get("session shape"),
            ("duplex (netTcpBinding, wsDualHttpBinding)".into(), "exact".into())
        );
    }
    // The wsHttpBinding log: the same offer, requests that never ask for an ack.
    let log = rmscope::svclog::read_files(
        &[dir.join("wcf-svclog-wshttp-rm10-msgsec-messages.svclog")],
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    let a = analysis::analyze(&log.timeline, &analysis::Options::default());
    let ws: Vec<Profile> = a
        .sequences
        .iter()
        .map(|s| analysis::profile::profile(&log.timeline, s))
        .collect();
    assert_eq!(ws.len(), 2);
    for p in &ws {
        assert_eq!(
            setting(p, "session shape"),
            ("request-reply (wsHttpBinding)", Certainty::Exact),
            "{}",
            p.sequence
        );
    }
    // The request sequence holds the resend of request #1: one retransmission, sent when the
    // ack covering it had already gone out.
    let retransmitted: Vec<u64> = profiles
        .iter()
        .map(|p| p["link"]["retransmissions"].as_u64().unwrap())
        .collect();
    assert_eq!(retransmitted.iter().sum::<u64>(), 1, "{retransmitted:?}");
}

#[test]
fn cli_profile_says_what_is_wrong_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture").unwrap();
    let bin = env!("CARGO_BIN_EXE_rmscope");
    for args in [
        vec!["profile".to_string(), garbage.display().to_string()],
        vec![
            "profile".into(),
            "--sequence".into(),
            "nope".into(),
            "captures/single-loss-2005.pcap".into(),
        ],
        vec![
            "profile".into(),
            dir.path().join("missing.pcap").display().to_string(),
        ],
    ] {
        let out = Command::new(bin).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    let out = Command::new(bin)
        .args(["profile", "captures/flow-control.pcap"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("maxTransferWindowSize     8"), "{text}");
    assert!(text.contains("round trip"), "{text}");
}

/// `rmscope simulate ARGS --pcap FILE`, then `rmscope profile --json FILE`.
fn simulate_and_profile(dir: &Path, args: &[&str]) -> serde_json::Value {
    let bin = env!("CARGO_BIN_EXE_rmscope");
    let pcap = dir.join("run.pcap");
    let out = Command::new(bin)
        .arg("simulate")
        .args(args)
        .arg("--pcap")
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(bin)
        .args(["profile", "--json"])
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn json_setting(p: &serde_json::Value, name: &str) -> (String, String) {
    let s = p[0]["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["setting"] == name)
        .unwrap();
    (
        s["value"].as_str().unwrap().into(),
        s["certainty"].as_str().unwrap().into(),
    )
}

#[test]
fn keep_alive_polls_give_inactivity_timeout_and_retry_count() {
    let dir = tempfile::tempdir().unwrap();
    // One message every 3.3 s: idle spells longer than inactivityTimeout/2 = 1 s.
    let idle = |extra: &[&str]| {
        let mut args = vec![
            "--messages",
            "6",
            "--rate",
            "0.3",
            "--inactivity-timeout",
            "2s",
            "--delay",
            "5ms",
        ];
        args.extend_from_slice(extra);
        simulate_and_profile(dir.path(), &args)
    };
    // The source polls 1 s after the last activity, each poll answered.
    let p = idle(&["--loss", "0"]);
    assert_eq!(
        json_setting(&p, "inactivityTimeout"),
        ("2.0 s".into(), "estimate".into())
    );
    // Polls nobody answers repeat every inactivityTimeout/(2·maxRetryCount) = 0.25 s until the
    // session faults on inactivity.
    let p = idle(&["--max-retry-count", "4", "--loss", "0.3", "--seed", "2"]);
    assert_eq!(
        json_setting(&p, "inactivityTimeout"),
        ("2.0 s".into(), "estimate".into())
    );
    assert_eq!(json_setting(&p, "maxRetryCount"), ("4".into(), "estimate".into()));
}

#[test]
fn both_ends_logs_give_one_way_delays_losses_per_direction_and_reordering() {
    use rmscope::netsim::DropRule;
    let dir = tempfile::tempdir().unwrap();
    let mut c = session(8, 200, true, 5);
    c.forward.loss = 0.0;
    c.forward.reorder = 0.2;
    c.forward_script = vec![DropRule::Message {
        number: 5,
        attempt: 0,
    }];
    c.backward_script = vec![DropRule::NextAcks { count: 1 }];
    let mut sim = rmscope::sim::Simulation::new(c).unwrap();
    sim.run();
    let paths = rmscope::svclog::write::write_logs(sim.timeline(), sim.payloads(), dir.path()).unwrap();
    assert_eq!(paths.len(), 2);
    let (d, a) = rmscope::cli::analyze::load_logs(&paths, Duration::from_secs(600)).unwrap();
    let s = a.sequences.iter().max_by_key(|s| s.messages).unwrap();
    let p = analysis::profile::profile(&d.timeline, s);
    let b = p.link.both_ends.as_ref().expect("both ends logged");
    assert_eq!((b.lost_forward, b.lost_back), (1, 1), "{b:?}");
    // 10 ms each way; a message held back for reordering arrives later.
    let f = b.forward.as_ref().unwrap();
    assert!((f.min - 0.010).abs() < 0.001, "{f:?}");
    let back = b.back.as_ref().unwrap();
    assert!((back.median - 0.010).abs() < 0.001, "{back:?}");
    assert!(b.reordered > 0, "{b:?}");
    // One end's log alone says nothing of the other end.
    let (d1, a1) = rmscope::cli::analyze::load_logs(&paths[..1], Duration::from_secs(600)).unwrap();
    let s1 = a1.sequences.iter().max_by_key(|s| s.messages).unwrap();
    assert!(
        analysis::profile::profile(&d1.timeline, s1)
            .link
            .both_ends
            .is_none()
    );
}
