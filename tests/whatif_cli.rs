//! `rmscope profile --simulate` (re-run, what-if, advice) and `rmscope sweep`, run as a user
//! would: on sessions the pair recorded, on the real WCF logs, and with bad flags.

mod common;

use std::process::{Command, Output};

fn rmscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rmscope"))
        .args(args)
        .output()
        .expect("runs")
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn one_line_error(o: &Output, needle: &str) {
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains(needle), "{e}");
}

/// A window-limited session on a 2 ms link, captured at the client.
fn window_limited(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("w4.pcap");
    let p = path.to_str().unwrap().to_string();
    ok(&rmscope(&[
        "simulate",
        "--messages",
        "1000",
        "--delay",
        "2ms",
        "--max-transfer-window-size",
        "4",
        "--pcap",
        &p,
        "--capture-at",
        "client",
    ]));
    p
}

#[test]
fn the_re_run_shows_recorded_against_model_and_advice_with_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let p = window_limited(&dir);
    let text = ok(&rmscope(&["profile", &p, "--simulate"]));
    assert!(
        text.contains("model (the embedded pair fitted to the recording)"),
        "{text}"
    );
    assert!(text.contains("recorded"), "{text}");
    assert!(text.contains("window-limited"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&rmscope(&["profile", &p, "--simulate", "--json"]))).unwrap();
    let m = &json[0]["model"];
    let (rec, model) = (&m["recorded"], &m["model"]);
    assert_eq!(rec["messages"], model["messages"]);
    let d = |v: &serde_json::Value| v["duration"].as_f64().unwrap();
    assert!((d(model) / d(rec) - 1.0).abs() < 0.1, "{m}");
    let advice = m["advice"].as_array().unwrap();
    let window = advice
        .iter()
        .find(|a| a["setting"] == "maxTransferWindowSize")
        .expect("window advice");
    assert_eq!(window["proposed"], "16");
    assert!(window["model_proposed"].as_f64().unwrap() < 0.5 * window["model_now"].as_f64().unwrap());

    // What-if: the model with the proposed window is the advice's number.
    let what_if: serde_json::Value = serde_json::from_str(&ok(&rmscope(&[
        "profile",
        &p,
        "--simulate",
        "--json",
        "--set",
        "max-transfer-window-size=16",
    ])))
    .unwrap();
    let changed = &what_if[0]["model"];
    assert_eq!(changed["changed"][0], "max-transfer-window-size = 16");
    let faster = changed["model"]["duration"].as_f64().unwrap();
    assert!((faster - window["model_proposed"].as_f64().unwrap()).abs() < 1e-6);

    one_line_error(
        &rmscope(&["profile", &p, "--simulate", "--set", "window=3"]),
        "unknown sweep parameter",
    );
    one_line_error(&rmscope(&["profile", &p, "--set", "delay=5ms"]), "--simulate");
}

#[test]
fn the_real_logs_re_run() {
    let Some(dir) = common::shared("wcf-svclog") else {
        return;
    };
    for log in [
        "wcf-svclog-nettcp-rm10-secureconv-messages.svclog",
        "wcf-svclog-wshttp-rm10-msgsec-messages.svclog",
    ] {
        let path = dir.join(log);
        let json: serde_json::Value = serde_json::from_str(&ok(&rmscope(&[
            "profile",
            path.to_str().unwrap(),
            "--simulate",
            "--json",
        ])))
        .unwrap();
        let modelled: Vec<&serde_json::Value> = json
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.get("model"))
            .collect();
        assert!(!modelled.is_empty(), "{log}");
        for m in modelled {
            assert_eq!(m["recorded"]["messages"], m["model"]["messages"], "{log}: {m}");
            assert_eq!(m["model"]["faults"], 0.0, "{log}");
        }
    }
}

#[test]
fn a_sweep_is_the_same_for_the_same_seeds_and_says_what_it_ran() {
    let args = [
        "sweep",
        "--param",
        "max-transfer-window-size=1,4,16",
        "--param",
        "ack-interval=20ms..200ms/3",
        "--loss",
        "0,0.02",
        "--seeds",
        "2",
        "--messages",
        "200",
        "--delay",
        "5ms",
    ];
    let csv = |extra: &[&str]| ok(&rmscope(&[&args[..], extra].concat()));
    let (a, b) = (csv(&["--csv"]), csv(&["--csv"]));
    assert_eq!(a, b);
    // 3 × 3 points × 2 losses × 2 seeds, and the header.
    assert_eq!(a.lines().count(), 37);
    assert!(
        a.starts_with("max-transfer-window-size,ack-interval,loss,seed,"),
        "{a}"
    );
    let j: serde_json::Value = serde_json::from_str(&csv(&["--json"])).unwrap();
    let cells = j["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 18);
    assert_eq!(j["runs"].as_array().unwrap().len(), 36);
    // Lossless: the wider window finishes sooner; the shorter interval acks sooner.
    let cell = |w: f64, ai: f64, loss: f64| {
        cells
            .iter()
            .find(|c| {
                c["values"][0] == w
                    && (c["values"][1].as_f64().unwrap() - ai).abs() < 1e-9
                    && c["loss"] == loss
            })
            .unwrap()
    };
    let t = |c: &serde_json::Value| c["completion_time"].as_f64().unwrap();
    assert!(t(cell(16.0, 0.2, 0.0)) < t(cell(1.0, 0.2, 0.0)));
    assert_eq!(cell(4.0, 0.02, 0.0)["retransmissions"], 0.0);
    assert!(cell(4.0, 0.02, 0.02)["retransmissions"].as_f64().unwrap() > 0.0);
    let text = ok(&rmscope(&args));
    assert!(
        text.starts_with("36 runs (9 points × 2 loss rates × 2 seeds), 200 messages each"),
        "{text}"
    );

    one_line_error(
        &rmscope(&["sweep", "--param", "ack-interval=0ms..500ms/6"]),
        "acknowledgementInterval",
    );
    one_line_error(
        &rmscope(&["sweep", "--param", "max-transfer-window-size=1", "--loss", "2"]),
        "loss",
    );
    one_line_error(
        &rmscope(&[
            "sweep",
            "--param",
            "max-transfer-window-size=1",
            "--from-profile",
            "/nonexistent.pcap",
        ]),
        "nonexistent",
    );
}

#[test]
fn a_sweep_from_a_profile_starts_from_the_recordings_model() {
    let dir = tempfile::tempdir().unwrap();
    let p = window_limited(&dir);
    let j: serde_json::Value = serde_json::from_str(&ok(&rmscope(&[
        "sweep",
        "--from-profile",
        &p,
        "--param",
        "max-transfer-window-size=4,16",
        "--seeds",
        "1",
        "--json",
    ])))
    .unwrap();
    let cells = j["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    // The recording's 1000 messages on its 2 ms link: window 4 is the recording.
    let t = |i: usize| cells[i]["completion_time"].as_f64().unwrap();
    assert!(t(1) < 0.5 * t(0), "{cells:?}");
    assert!(j["runs"][0]["delivered"] == 1000);
}
